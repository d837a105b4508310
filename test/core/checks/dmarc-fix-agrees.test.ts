// What the DMARC findings say the fix keeps and drops of the report addresses is what the DMARC plan writes, over
// generated records near OpenDMARC's limits (a URI of 250–262 octets, a list of 500–520), with `!size` suffixes,
// addresses written twice, a previous host's addresses, addresses at other domains, and — in records with errors —
// domains written in Unicode (the plan writes their A-label, which may push a URI over 255 octets), addresses without
// mailto: and addresses separated by spaces. The check had a reading of its own (fixedReports) that knew neither of
// the plan's repairs: beside a previous host's address, it said "as no other aggregate address is left, it sends the
// aggregate reports to postmaster@" where the plan keeps `d@bücher.example` as mailto:d@xn--bcher-kva.example.
// Seeded (test/helpers/prng.ts): a failure names its seed and record.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dmarcCheck } from '../../../src/core/checks/dmarc.js';
import { parseDmarcRecord, type ReportUri } from '../../../src/core/dmarc/record.js';
import type { Finding, ZoneRecord } from '../../../src/core/model.js';
import { dmarcStrings, planDmarc } from '../../../src/core/plans/dmarc.js';
import { quoteShort } from '../../../src/core/text.js';
import { prng, type Rng } from '../../helpers/prng.js';
import { checkContext } from './context.js';

const D = 'alice.example';
const NAME = `_dmarc.${D}`;
const STALE_DOMAIN = 'dreamhost.com';

/** `mailto:<local>@<domain>` of exactly `n` octets (its local part padded with "a"), or null when it cannot be. */
function uriOf(n: number, domain: string, head = 'a'): string {
  const pad = n - Buffer.byteLength(`mailto:${head}@${domain}`);
  return `mailto:${head}${'a'.repeat(Math.max(0, pad))}@${domain}`;
}

/** One item of a rua=/ruf= list (the text between commas), of a kind picked at random; `messy` allows the ones with errors. */
function item(rng: Rng, k: number, messy: boolean, earlier: readonly string[]): string {
  const kinds = ['stale', 'stale', 'short', 'long', 'size', 'foreign', 'dup', ...(messy ? ['idn', 'idn-long', 'idn-bare', 'bare', 'spaced', 'stale-bare'] : [])];
  const kind = rng.pick(kinds);
  switch (kind) {
    case 'stale':
      return `mailto:${rng.pick(['dmarc-reports', 'rua', `old${k}`])}@${STALE_DOMAIN}`;
    case 'stale-bare':
      return `old${k}@${STALE_DOMAIN}`;
    case 'short':
      return `mailto:r${k}@${D}`;
    case 'long':
      return uriOf(250 + rng.int(11), D, `l${k}`);
    case 'size':
      return `${uriOf(246 + rng.int(11), D, `s${k}`)}!${rng.pick(['10m', '512k', '1g', '9'])}`;
    case 'foreign':
      return `mailto:${rng.pick(['dmarc', 'rua', `f${k}`])}@${rng.pick(['reports.example.net', 'dmarc.example.org'])}`;
    case 'dup':
      // An address written before, as written or with another !size suffix (one address to the fix).
      if (!earlier.length) return `mailto:r${k}@${D}`;
      return rng.chance(0.5) ? rng.pick(earlier) : `${rng.pick(earlier).replace(/!\w+$/, '')}!${rng.pick(['1m', '20k'])}`;
    case 'idn':
      return `mailto:d${k}@${rng.pick(['bücher.example', 'münchen.example', 'пример.example'])}`;
    case 'idn-long':
      // Under 256 octets as written in Unicode, over it (or near) with the domain's A-label.
      return uriOf(244 + rng.int(12), 'bücher.example', `u${k}`);
    case 'idn-bare':
      return `d${k}@bücher.example`;
    case 'bare':
      return `b${k}@${D}`;
    case 'spaced':
      return `mailto:p${k}@${D} mailto:q${k}@${D}`;
  }
  throw new Error(kind);
}

/** A rua=/ruf= value: a few items, then — half the time — short addresses of the domain until it is 500–520 octets. */
function list(rng: Rng, tag: string, messy: boolean): string {
  const items: string[] = [];
  const n = 1 + rng.int(4);
  for (let k = 0; k < n; k++) items.push(item(rng, k, messy, items));
  if (rng.chance(0.5)) {
    const target = 500 + rng.int(21);
    for (let k = 0; Buffer.byteLength(items.join(',')) < target - 30; k++) items.push(`mailto:${tag}-fill-${String(k).padStart(2, '0')}@${D}`);
    const len = Buffer.byteLength(items.join(','));
    if (len < target) items.push(uriOf(Math.max(target - len - 1, 25), D, 'z'));
  }
  return items.join(rng.pick([',', ',', ', ']));
}

function record(rng: Rng, messy: boolean): string {
  const tags = [`v=DMARC1`, `p=${rng.pick(['none', 'quarantine', 'reject'])}`, `rua=${list(rng, 'rua', messy)}`];
  if (rng.chance(0.5)) tags.push(`ruf=${list(rng, 'ruf', messy)}`);
  return tags.join('; ');
}

/** A report URI as messages name it: a mailto: by its mailbox, any other as written. */
const shown = (u: ReportUri) => (u.scheme === 'mailto' && u.domain ? u.address : u.raw);

interface Case {
  findings: Finding[];
  notes: string[];
  /** The report addresses the plan's record has, by tag, as messages name them. */
  written: Record<'rua' | 'ruf', string[]>;
}

async function run(values: string[]): Promise<Case> {
  const recs: ZoneRecord[] = values.map((v, i) => ({ name: NAME, ttl: 3600, type: 'TXT', value: v, txt: dmarcStrings(v), ref: `r${i}` }));
  const ctx = checkContext(D, { [NAME]: { TXT: recs.map((r) => r.txt!) } }, {}, recs);
  const findings = await dmarcCheck(ctx);
  const plan = await planDmarc(ctx, recs);
  // The records at the name once the plan is applied: those it does not touch, and those it writes.
  const touched = new Set(plan.changes.map((c) => c.before?.ref));
  const left = [...recs.filter((r) => !touched.has(r.ref)), ...plan.changes.map((c) => c.after).filter((r) => r !== null)];
  assert.equal(left.length, 1, `the plan leaves one record: ${JSON.stringify(plan.changes)}`);
  const rec = parseDmarcRecord(left[0].txt ?? [left[0].value]);
  return { findings, notes: plan.notes, written: { rua: rec.rua.map(shown), ruf: rec.ruf.map(shown) } };
}

/** What a dmarc.stale-destination finding says the fix writes for its tag (the addresses it keeps), from its last sentence. */
function staleSays(f: Finding): string[] {
  const keeps = /The DMARC fix drops it and keeps (.+)\.$/.exec(f.message);
  if (keeps) return keeps[1].split(', ');
  if (/The DMARC fix drops it; with no other ruf address left, the record asks for no failure reports\.$/.test(f.message)) return [];
  const instead = /as no other aggregate address is left, it sends the aggregate reports to (\S+) instead\.$/.exec(f.message);
  if (instead) return [instead[1]];
  assert.fail(`no word on what the fix writes: ${f.message}`);
}

/** What a dmarc.compat finding says the fix does to fit OpenDMARC's limits, as a sorted list of claims. */
function compatSays(f: Finding): string[] {
  const m = /keeping its policy and the report addresses that fit: it (.+?)(?:; with no aggregate address of the record left, .*)?\.$/.exec(f.message);
  if (!m) return [];
  return m[1]
    .split('; it ')
    .map((part) => {
      let x = /^writes (rua|ruf) (".*") without its !size suffix \((\d+) octets with it\)$/.exec(part);
      if (x) return `shortened ${x[1]} ${x[2]} ${x[3]}`;
      x = /^drops (rua|ruf) (".*") \((\d+) octets, even without a !size suffix\)$/.exec(part);
      if (x) return `too long ${x[1]} ${x[2]} ${x[3]}`;
      x = /^drops (rua|ruf) (.+), which do not fit in the 511 octets of the list after the addresses written before (?:it|them)$/.exec(part);
      if (x) return `left ${x[1]} ${x[2]}`;
      assert.fail(`unread part of dmarc.compat: ${part}`);
    })
    .sort();
}

/** The same claims, from the plan's notes (fitNotes). */
function planSays(notes: readonly string[]): string[] {
  const out: string[] = [];
  for (const n of notes) {
    let x = /^Writes (rua|ruf) (\S+) as (\S+): with its !size suffix the URI is (\d+) octets/.exec(n);
    if (x) out.push(`shortened ${x[1]} ${quoteShort(x[3])} ${x[4]}`);
    x = /^Drops (rua|ruf) (\S+): it is (\d+) octets long/.exec(n);
    if (x) out.push(`too long ${x[1]} ${quoteShort(x[2])} ${x[3]}`);
    x = /^Drops (rua|ruf) (.+?): OpenDMARC .* skips a (?:rua|ruf)= list/.exec(n);
    if (x) out.push(`left ${x[1]} ${x[2]}`);
  }
  return out.sort();
}

/** Each report address has one finding per tag (an address written twice is one destination). */
function oncePerAddress(fs: readonly Finding[]): void {
  const seen = new Set<string>();
  for (const f of fs) {
    if (!['dmarc.destination', 'dmarc.stale-destination', 'dmarc.unauthorized-destination'].includes(f.rule)) continue;
    const [tag, uri] = [f.subject!.slice(0, 3), f.subject!.slice(4)];
    const key = `${tag} ${uri.replace(/!\w+$/, '').toLowerCase()}`;
    assert.ok(!seen.has(key), `two findings for ${key}`);
    seen.add(key);
  }
}

async function agree(seed: number, messy: boolean): Promise<{ stale: number; compat: number }> {
  const rng = prng(seed);
  const values = [record(rng, messy)];
  if (rng.chance(0.15)) values.push(record(rng, messy).replace(/p=\w+/, 'p=none'));
  const c = await run(values);
  const why = `seed ${seed}: ${JSON.stringify(values)}\nplan writes ${JSON.stringify(c.written)}\nnotes:\n${c.notes.join('\n')}`;
  let stale = 0;
  let compat = 0;
  for (const f of c.findings) {
    if (f.rule === 'dmarc.stale-destination') {
      stale++;
      const tag = f.subject!.slice(0, 3) as 'rua' | 'ruf';
      assert.deepEqual(staleSays(f), c.written[tag], `${f.message}\n${why}`);
    }
    if (f.rule === 'dmarc.compat' && f.fix === 'dmarc') {
      compat++;
      assert.deepEqual(compatSays(f), planSays(c.notes), `${f.message}\n${why}`);
    }
  }
  oncePerAddress(c.findings);
  return { stale, compat };
}

describe('DMARC: what the findings say the fix keeps of the report addresses is what its plan writes', () => {
  test('records without errors, near OpenDMARC\'s limits (300 seeds)', async () => {
    let stale = 0;
    let compat = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const n = await agree(seed, false);
      stale += n.stale;
      compat += n.compat;
    }
    // The generator reaches both findings often (otherwise the comparison above says nothing).
    assert.ok(stale > 100 && compat > 50, `stale ${stale}, compat ${compat}`);
  });

  test('records with errors the fix repairs: Unicode domains, no mailto:, spaces between addresses (300 seeds)', async () => {
    let stale = 0;
    for (let seed = 1001; seed <= 1300; seed++) stale += (await agree(seed, true)).stale;
    assert.ok(stale > 100, `stale ${stale}`);
  });

  test('a previous host\'s address beside one at a domain written in Unicode: the fix keeps that one, by its A-label', async () => {
    const c = await run([`v=DMARC1; p=none; rua=mailto:x@${STALE_DOMAIN},d@bücher.example`]);
    assert.deepEqual(c.written.rua, ['d@xn--bcher-kva.example']);
    const f = c.findings.find((x) => x.rule === 'dmarc.stale-destination');
    assert.ok(f);
    assert.match(f.message, /The DMARC fix drops it and keeps d@xn--bcher-kva\.example\.$/);
  });

  test('…and two addresses separated by a space: the fix repairs them and keeps both, and says so', async () => {
    const c = await run([`v=DMARC1; p=none; rua=mailto:x@${STALE_DOMAIN},mailto:a@${D} b@${D}`]);
    assert.deepEqual(c.written.rua, [`a@${D}`, `b@${D}`]);
    const f = c.findings.find((x) => x.rule === 'dmarc.stale-destination');
    assert.ok(f);
    assert.match(f.message, /The DMARC fix drops it and keeps a@alice\.example, b@alice\.example\.$/);
  });
});
