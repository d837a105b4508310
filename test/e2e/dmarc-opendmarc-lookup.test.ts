// OpenDMARC's own lookup as a judge of dmarc.compat and of the DMARC fix: opendmarc_policy_query_dmarc() of
// libopendmarc 1.4.2 (Debian's libopendmarc-dev; test/fixtures/oracles/opendmarc-lookup.c, compiled here with gcc)
// asks the system resolver for the TXT records at _dmarc.<domain>, takes the one it takes for DMARC and parses it —
// what the opendmarc milter does for each message. It runs inside a private network + mount namespace whose only DNS
// server is mailhealth's loopback server serving the records below (test/helpers/netns-dns.ts). The parser alone is
// judged in test/e2e/dmarc-opendmarc-judge.test.ts; this adds the lookup: which TXT record it takes (it missed
// `V=DMARC1` and `v = DMARC1`, which the parser would have read) and how it joins a record's strings.
//
// 1. dmarc.compat (src/core/checks/dmarc.ts, openDmarcIgnores in src/core/dmarc/record.ts) is reported exactly for the
//    records RFC 7489 receivers read with a policy — mailhealth finds no dmarc.syntax, dmarc.multiple or dmarc.missing,
//    and p= is written — from which OpenDMARC applies no policy; its reason names what OpenDMARC did (a version its
//    lookup misses: "lacked a DMARC record"; an rf=/ri= value: "bad token value"); where OpenDMARC applies the record,
//    its p is mailhealth's.
// 2. The record the DMARC fix writes (planDmarc) is found by OpenDMARC with the fix's p, for every starting state.
//
// 3. A defect found here (fixed): OpenDMARC 1.4.2's
// lookup takes the first TXT record of the answer that holds "v=DMARC" and, past any other TXT record, misreads the
// rest of the answer (a TXT record before the DMARC record — an SPF record, a verification token — and it finds no
// DMARC record at all: checked against NSD too). Which record comes first is the DNS server's choice (BIND rotates
// them), so a DMARC record beside any other TXT record at _dmarc is applied by OpenDMARC only sometimes. mailhealth
// says dmarc.ok there, no dmarc.compat, and the DMARC fix keeps such a record (a verification token) beside it.
//
// Skipped with a message where the namespace cannot be made (not root, no unshare/ip, namespaces not permitted) or
// gcc/libopendmarc are missing (.ci/run installs gcc, libopendmarc-dev and iproute2).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ServedZoneMap } from '../../src/adapters/dns/server.js';
import { dmarcCheck } from '../../src/core/checks/dmarc.js';
import { isDmarcRecord, parseDmarcRecord, policyValue, type DmarcPolicy } from '../../src/core/dmarc/record.js';
import type { Finding, ZoneRecord } from '../../src/core/model.js';
import { planDmarc } from '../../src/core/plans/dmarc.js';
import { checkContext } from '../core/checks/context.js';
import { netnsSkip, runWithServedZones } from '../helpers/netns-dns.js';
import { buildOpenDmarcJudge } from '../helpers/oracles.js';

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'oracles', 'opendmarc-lookup.c');
/** The compiled judge in a temp dir, or why there is none (first: no private namespace to run it in). */
const nsSkip = netnsSkip();
const found = nsSkip ? { skip: nsSkip } : buildOpenDmarcJudge(SOURCE, 'OpenDMARC lookup judge');
after(() => {
  if ('dir' in found) rmSync(found.dir, { recursive: true, force: true });
});

/** What opendmarc-lookup prints for one domain. */
interface Looked {
  domain?: string;
  status?: number;
  text?: string;
  p?: string;
  sp?: string;
  crash?: number;
  error?: string;
}
const LETTER: Record<string, DmarcPolicy> = { n: 'none', q: 'quarantine', r: 'reject' };
/** DMARC_DNS_ERROR_NO_RECORD: the lookup took no TXT record for DMARC. */
const NO_RECORD = 9;
/** DMARC_PARSE_ERROR_BAD_VALUE: a record found, refused over a tag's value. */
const BAD_VALUE = 4;

/**
 * Starting states of `_dmarc.<domain>`: its TXT records, each as its strings (`{d}` is the case's domain). One record
 * each but for the last group, where another TXT record sits beside the DMARC record.
 */
const CASES: { label: string; records: string[][] }[] = [
  { label: 'V= in capitals', records: [['V=DMARC1; p=reject']] },
  { label: 'spaces around "="', records: [['v = DMARC1 ; p=reject']] },
  { label: 'plain', records: [['v=DMARC1; p=reject']] },
  { label: 'v= not first', records: [['p=reject; v=DMARC1']] },
  { label: 'rf=xml, no spaces', records: [['v=DMARC1;p=reject;rf=xml']] },
  { label: 'ri=daily', records: [['v=DMARC1; p=reject; ri=daily']] },
  { label: 'version in lower case', records: [['v=dmarc1; p=reject']] },
  { label: 'two records', records: [['v=DMARC1; p=reject'], ['v=DMARC1; p=none']] },
  { label: 'split into two strings inside a value', records: [['v=DMARC1; p=rej', 'ect; rua=mailto:dmarc@{d}']] },
  { label: 'split into two strings inside the version', records: [['v=DM', 'ARC1; p=quarantine']] },
  { label: 'split, V= in capitals', records: [['V=DMARC1; p=qua', 'rantine']] },
  { label: 'space before ";"', records: [['v=DMARC1 ; p=none']] },
  { label: 'tags in capitals', records: [['v=DMARC1; P=Reject; SP=None']] },
  { label: 'rf=afrf, ri in seconds', records: [['v=DMARC1; p=quarantine; rf=afrf; ri=3600; rua=mailto:dmarc@{d}']] },
  { label: 'rf=iodef', records: [['v=DMARC1; p=reject; rf=iodef']] },
  { label: 'rf=afrf:iodef', records: [['v=DMARC1; p=reject; rf=afrf:iodef']] },
  { label: 'empty ri=', records: [['v=DMARC1; p=none; ri=']] },
  { label: 'V= in capitals and rf=xml', records: [['V=DMARC1; p=reject; rf=xml']] },
  { label: 'leading space', records: [[' v=DMARC1; p=reject']] },
  { label: 'p abbreviated', records: [['v=DMARC1; p=r']] },
  { label: 'sp, pct, rua', records: [['v=DMARC1; p=reject; sp=none; pct=50; rua=mailto:dmarc@{d}']] },
  { label: 'no p, rua', records: [['v=DMARC1; rua=mailto:dmarc@{d}']] },
  { label: 'no separator', records: [['v=DMARC1 p=quarantine']] },
  // Another TXT record beside the DMARC record (part 3).
  { label: 'SPF record beside', records: [['v=spf1 -all'], ['v=DMARC1; p=reject']] },
  { label: 'verification token beside', records: [['google-site-verification=abc123'], ['v=DMARC1; p=quarantine']] },
  { label: 'v=DMARC2 beside', records: [['v=DMARC1; p=reject'], ['v=DMARC2; p=none']] },
  { label: 'text mentioning v=DMARC1 beside', records: [['see v=DMARC1 docs'], ['v=DMARC1; p=reject']] },
];

/** Every order of a list (the DNS server chooses the order of an answer's records; these lists hold at most two). */
function orders<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => orders([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]));
}

interface Judged {
  label: string;
  domain: string;
  records: string[][];
  /** mailhealth's findings on the starting records. */
  findings: Finding[];
  /** OpenDMARC's lookup of the starting records, once per order of the answer. */
  start: Looked[];
  /** The record the DMARC fix leaves (its strings) and the TXT records beside it after the fix. */
  fixed: string[];
  beside: string[][];
  /** The DMARC check over what the fix leaves at _dmarc. */
  afterFindings: Finding[];
  /** OpenDMARC's lookup of the fix's record alone, and of the records the fix leaves with the DMARC record last. */
  fixAlone?: Looked;
  fixLast?: Looked;
}

const rules = (fs: Finding[]) => fs.map((f) => f.rule);
/**
 * The starting state is one RFC 7489 receivers read as a DMARC record with a policy: mailhealth finds no syntax error,
 * no second record, a record — and its p= is written. (One without p= but with a rua= is p=none to RFC 7489 receivers
 * (§6.6.3) and refused by OpenDMARC: neither enforces anything, see dmarc-opendmarc-judge.test.ts's class (c).)
 */
const rfcReads = (j: Judged) =>
  !rules(j.findings).some((r) => r === 'dmarc.syntax' || r === 'dmarc.multiple' || r === 'dmarc.missing') &&
  j.records.some((s) => isDmarcRecord(s.join('')) && policyValue(parseDmarcRecord(s.join('')).tags.p) !== undefined);
const compat = (j: Judged) => j.findings.find((f) => f.rule === 'dmarc.compat');
const applies = (l: Looked | undefined) => l?.status === 0;
const show = (l: Looked | undefined) => (l ? (l.status === 0 ? `found, p=${l.p}` : `status ${l.status ?? l.crash ?? l.error} (${l.text ?? ''})`) : 'not asked');
const line = (j: Judged) => `${j.label} ${JSON.stringify(j.records)}: mailhealth ${rules(j.findings).join(',')}; OpenDMARC ${j.start.map(show).join(' / ')}`;

describe('OpenDMARC\'s lookup (libopendmarc over a loopback DNS server in a private namespace) against dmarc.compat and the DMARC fix', { skip: 'skip' in found ? found.skip : false }, () => {
  const { bin } = found as { bin: string; dir: string };
  const judged: Judged[] = [];

  before(async () => {
    const zones: ServedZoneMap = {};
    const ask: string[] = [];
    const where: { start: number[]; alone?: number; last?: number }[] = [];
    for (const [i, c] of CASES.entries()) {
      const domain = `c${i}.example`;
      const name = `_dmarc.${domain}`;
      const records = c.records.map((strings) => strings.map((s) => s.replaceAll('{d}', domain)));
      // mailhealth: the check and the plan over the same records, live and in the panel's zone.
      const recs: ZoneRecord[] = records.map((strings, k) => ({ name, ttl: 3600, type: 'TXT', value: strings.join(''), txt: strings, ref: `r${k}` }));
      const ctx = checkContext(domain, { [name]: { TXT: records } }, {}, recs);
      const findings = await dmarcCheck(ctx);
      const plan = await planDmarc(ctx, recs);
      assert.equal(plan.blocked, undefined, `${c.label}: ${plan.blocked}`);
      const left = recs.filter((r) => !plan.changes.some((ch) => ch.before === r));
      const added = plan.changes.filter((ch) => ch.after && ch.after.type === 'TXT' && ch.after.name === name).map((ch) => ch.after!);
      const after = [...left, ...added].map((r) => r.txt ?? [r.value]);
      const dmarc = after.filter((s) => isDmarcRecord(s.join('')));
      assert.equal(dmarc.length, 1, `${c.label}: the fix leaves one DMARC record (${JSON.stringify(after)})`);
      const beside = after.filter((s) => s !== dmarc[0]);
      // The audit of what the fix leaves.
      const afterRecs: ZoneRecord[] = after.map((strings, k) => ({ name, ttl: 3600, type: 'TXT', value: strings.join(''), txt: strings, ref: `a${k}` }));
      const afterFindings = await dmarcCheck(checkContext(domain, { [name]: { TXT: after } }, {}, afterRecs));
      judged.push({ label: c.label, domain, records, findings, afterFindings, start: [], fixed: dmarc[0], beside });
      // OpenDMARC: the starting records in every order, the fix's record alone, and what the fix leaves with its record last.
      const w: (typeof where)[number] = { start: [] };
      orders(records).forEach((order, k) => {
        const d = `o${k}.${domain}`;
        zones[`_dmarc.${d}`] = { TXT: order };
        w.start.push(ask.push(d) - 1);
      });
      zones[`_dmarc.fix.${domain}`] = { TXT: [dmarc[0]] };
      w.alone = ask.push(`fix.${domain}`) - 1;
      if (beside.length) {
        zones[`_dmarc.fixlast.${domain}`] = { TXT: [...beside, dmarc[0]] };
        w.last = ask.push(`fixlast.${domain}`) - 1;
      }
      where.push(w);
    }
    const [run] = await runWithServedZones(zones, [{ file: bin, args: ask }]);
    assert.equal(run.status, 0, run.stderr);
    const out = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Looked);
    assert.equal(out.length, ask.length, run.stdout);
    judged.forEach((j, i) => {
      j.start = where[i].start.map((k) => out[k]);
      j.fixAlone = out[where[i].alone!];
      if (where[i].last !== undefined) j.fixLast = out[where[i].last];
    });
  });

  test('the judge answers every lookup, never crashes, and reaches every verdict: found, no record, refused', () => {
    const all = judged.flatMap((j) => [...j.start, j.fixAlone, j.fixLast]).filter((l): l is Looked => l !== undefined);
    assert.deepEqual(all.filter((l) => l.status === undefined).map((l) => JSON.stringify(l)), []);
    for (const status of [0, NO_RECORD, BAD_VALUE]) assert.ok(all.some((l) => l.status === status), `some lookup says ${status}`);
    // The namespace's only server is the loopback one: a domain it does not serve has no record (not a DNS error).
    assert.ok(!all.some((l) => l.status === 11), 'no lookup met a DNS error');
  });

  // Part 1: one TXT record at _dmarc (the order of the answer cannot matter).
  const single = () => judged.filter((j) => j.records.length === 1);

  test('dmarc.compat is reported exactly for the records RFC 7489 receivers read that OpenDMARC applies no policy from', () => {
    const off: string[] = [];
    let warned = 0;
    let read = 0;
    for (const j of single().filter(rfcReads)) {
      const ignored = !applies(j.start[0]);
      if (ignored) warned++;
      else read++;
      if (Boolean(compat(j)) !== ignored) off.push(`${line(j)}: dmarc.compat ${compat(j) ? 'reported' : 'not reported'}`);
    }
    assert.deepEqual(off, []);
    assert.ok(warned >= 3 && read >= 3, `both kinds among the records RFC 7489 receivers read: ${warned} ignored, ${read} applied`);
  });

  test('the reason dmarc.compat gives is what OpenDMARC did: a version its lookup misses → no record; an rf=/ri= value → refused over a bad value', () => {
    const off: string[] = [];
    for (const j of single().filter((x) => compat(x))) {
      const m = compat(j)!.message;
      const says = { version: /its version is written /.test(m), value: /its r[fi]=.*refuses the whole record/.test(m) };
      const status = j.start[0].status;
      // A record with both (V=DMARC1 and rf=xml) is missed by the lookup before the parser sees the value.
      const want = says.version ? NO_RECORD : says.value ? BAD_VALUE : undefined;
      if (want === undefined || status !== want) off.push(`${line(j)}: the warning says ${JSON.stringify(says)}`);
    }
    assert.deepEqual(off, []);
  });

  test('where OpenDMARC applies a record RFC 7489 receivers read, it applies mailhealth\'s policy (p), joining the strings as mailhealth does', () => {
    const off: string[] = [];
    for (const j of single().filter((x) => rfcReads(x) && applies(x.start[0]))) {
      const rec = parseDmarcRecord(j.records[0].join(''));
      if (LETTER[j.start[0].p!] !== rec.policy) off.push(`${line(j)}: mailhealth p=${rec.policy}`);
    }
    assert.deepEqual(off, []);
    assert.ok(single().some((j) => j.records[0].length > 1 && rfcReads(j) && applies(j.start[0])), 'a record split into strings is among them');
  });

  test('the record the DMARC fix writes, alone at _dmarc, is found by OpenDMARC with the fix\'s p — for every starting state', () => {
    const off: string[] = [];
    for (const j of judged) {
      const rec = parseDmarcRecord(j.fixed.join(''));
      assert.ok(rec.policy, `${j.label}: the fix writes a policy`);
      // The policy as read (rec.policy): a record the fix leaves as written may spell it `P=Reject`.
      if (!applies(j.fixAlone) || LETTER[j.fixAlone!.p!] !== rec.policy) off.push(`${j.label}: the fix writes ${JSON.stringify(j.fixed)} (p=${rec.policy}); OpenDMARC ${show(j.fixAlone)}`);
    }
    assert.deepEqual(off, []);
  });

  // Part 3 (todo): another TXT record beside the DMARC record. Each order of the answer is a lookup of its own.
  test('a DMARC record beside another TXT record: OpenDMARC misses it when the other comes first in the answer (the judge shows it)', () => {
    const beside = judged.filter((j) => j.records.length > 1 && rfcReads(j));
    assert.ok(beside.length >= 3, beside.map(line).join('\n'));
    // Not a claim about mailhealth: that the defect below is real, with this library, for each such record.
    for (const j of beside) assert.ok(j.start.some(applies) && j.start.some((l) => !applies(l)), `${line(j)}: OpenDMARC's verdict depends on the order`);
  });

  // (Found here, fixed: mailhealth said dmarc.ok for these.)
  test('dmarc.compat for a DMARC record beside another TXT record at _dmarc, which OpenDMARC applies only when the DNS server answers with it first', () => {
    const off = judged.filter((j) => j.records.length > 1 && rfcReads(j) && !j.start.every(applies) && !compat(j)).map(line);
    assert.deepEqual(off, []);
  });

  // The fix removes the TXT records it owns at _dmarc (an SPF record, v=DMARC2), never a stranger's (a verification
  // token may still be needed): where it leaves one, OpenDMARC still misses the record when that one comes first — and
  // the audit of what the fix leaves says so, without offering the fix (remove it by hand).
  test('what the DMARC fix leaves at _dmarc: OpenDMARC applies it whatever the order, or the audit after the fix says dmarc.compat without the fix', () => {
    const off: string[] = [];
    let left = 0;
    for (const j of judged.filter((x) => x.fixLast)) {
      if (applies(j.fixLast)) continue;
      left++;
      const c = j.afterFindings.find((f) => f.rule === 'dmarc.compat');
      if (!c || c.fix || !/remove (it|them) by hand/.test(c.message)) off.push(`${j.label}: ${JSON.stringify([...j.beside, j.fixed])}: OpenDMARC ${show(j.fixLast)}; after the fix mailhealth ${rules(j.afterFindings).join(',')}`);
    }
    assert.deepEqual(off, []);
    assert.ok(left > 0, 'some starting state leaves a stranger\'s TXT record beside the fixed record');
  });
});
