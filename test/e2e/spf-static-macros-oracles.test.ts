// SPF terms whose only macros are %{d} (the domain of the record being evaluated) and %{o} (the MAIL FROM domain),
// judged by receivers' own libraries: pyspf (python3-spf, through test/fixtures/oracles/audit-verdicts.py) and Mail::SPF
// (libmail-spf-perl, test/fixtures/oracles/spf-judge.pl), asked check_host(<ip>, <domain>, postmaster@<domain>) over one
// loopback DNS server (src/adapters/dns/server.ts) that mailhealth asks too (its wire resolver, in process).
//
// For the domain's own mail such terms name one name, whoever sends (src/core/spf/tree.ts expands them as check_host
// does). mailhealth walked them as "evaluated per message" (one lookup, nothing followed), and so:
// - direct-after / relay-missing: include:%{d}.<a name without SPF> after the server's IP (after the relay's include) —
//   both judges answer permerror for every other sender; the audit said spf.ok and the fix kept the term;
// - direct-first / relay-before: the same before the server's IP (before the relay's include) — the fix put the IP (the
//   include) before the term and kept it: strangers still got permerror after it; it now drops the term;
// - relay-present: the relay reached through include:%{d}._spf.<host> — both judges pass the relay's addresses (and the
//   address that record lists); the audit said the relay was not authorised and offered a fix;
// - relay-o: the same one record down, include:%{o}.… inside a service's record (%{o} there is the domain checked; a
//   %{d} beside it is the service's name);
// - relay-redirect: redirect=%{d}.<name> leading to the relay's include;
// - relay-transform: %{dr} and %{d2} (RFC 7208 §7.3 transformers) naming the records that list a sender and the relay;
// - direct-exists: exists:%{d}.<name without an A record> is a void lookup for every sender: with two more, a permerror
//   for every sender the server's IP does not match first (the audit counted 2 and said spf.ok).
// And a macro that depends on the message stays per message (relay-i: include:%{ir}.%{d}._spf.<list> before the relay's
// include, whose name for the relay's addresses does not exist: check_host for them, as before).
//
// For each domain: mailhealth's verdict on each of the server's (or the relay's) addresses agrees with both judges, and
// so does its verdict for a stranger's address (a permanent error for every sender, or none) where the record's terms
// name fixed names; the addresses a record lists pass or not as both judges say. Where a finding offers the SPF fix its
// plan goes through; after it both judges pass the server's (or the relay's) addresses, answer no permerror for a
// stranger, and the audit agrees; where no finding offers it, none does.
//
// Skipped with a message when no python3 with pyspf or no perl with Mail::SPF is found (test/helpers/oracles.ts).
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createResolver } from '../../src/adapters/dns/resolver.js';
import { startDnsServer, type DnsServer, type ServedZoneMap } from '../../src/adapters/dns/server.js';
import { spfCheck } from '../../src/core/checks/spf.js';
import type { CheckContext } from '../../src/core/checks/context.js';
import { makeClassifier } from '../../src/core/classify.js';
import type { Finding, MailSettings, Zone, ZoneRecord } from '../../src/core/model.js';
import { planSpf, type PartialPlan } from '../../src/core/plans/spf.js';
import type { Resolver } from '../../src/core/resolver.js';
import { RecordIndex } from '../../src/core/zone.js';
import { defaultKnowledge } from '../../src/knowledge/index.js';
import { findPerlSpf, findPython, runLinesJudge } from '../helpers/oracles.js';
import { runOracle, stopJudges, trackJudge } from '../helpers/verdict-world.js';

const ORACLES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'oracles');

const python = findPython();
const perl = findPerlSpf();
const skip = [python, perl].flatMap((x) => ('skip' in x ? [x.skip] : [])).join('; ') || false;

// ---- the servers, the senders and the world ----

const HELO = 'server1.newhost.example';
const SERVER_IP = '203.0.113.10';
const SERVER_IP6 = '2001:db8:10::25';
const RELAY = { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' };
/** Addresses across the ranges relay.mailchannels.net publishes (not the first of each: mailhealth asks about those). */
const RELAY_IPS = ['23.83.208.10', '23.83.223.250', '205.201.128.10'];
/** An address no record lists. */
const STRANGER_IP = '192.0.2.200';
const STRANGER_IP6 = '2001:db8:ffff::200';
/** Senders the records below list (each in one record only). */
const HOSTED_IP = '198.51.100.10';
const TENANT_IP = '198.51.100.20';
const REVERSED_IP = '198.51.100.30';
const LIST_IP = '198.51.100.77';

const WORLD: ServedZoneMap = {
  'ns1.newhost.example': { A: ['127.0.0.1'] },
  [HELO]: { A: [SERVER_IP], AAAA: [SERVER_IP6] },
  'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ip4:205.201.128.0/20 ~all']] },
  // A service's record that includes, per domain sending through it, a record named after that domain (%{o}), and one
  // named after itself (%{d}: its own name there).
  '_spf.tenants.example': { TXT: [['v=spf1 include:%{d}.own.tenants.example include:%{o}.t.tenants.example ~all']] },
  '_spf.tenants.example.own.tenants.example': { TXT: [[`v=spf1 ip4:${TENANT_IP} ~all`]] },
  // A list by the sender's reversed address, per domain (%{ir}.%{d}): its own sender only.
  [`${LIST_IP.split('.').reverse().join('.')}.relay-i.example._spf.list.example`]: { TXT: [[`v=spf1 ip4:${LIST_IP} -all`]] },
};

interface Scenario {
  domain: string;
  relayed: boolean;
  spf: (d: string) => string;
  /** More names of the world, by the domain: [name, type, value]. */
  more?: (d: string) => [string, 'TXT' | 'A', string][];
  /** Receivers fail one of the server's (or the relay's) addresses before the fix. */
  failsBefore: boolean;
  /**
   * What both judges answer a stranger before the fix: a permerror (for every sender), or not. Absent where a term
   * depends on the message (what it costs a stranger is not the record's).
   */
  everyoneBefore?: boolean;
  /** Senders a record lists and what both judges answer for them (before, and after the fix). */
  listed?: { ip: string; result: string }[];
  /** No finding offers the SPF fix. */
  fix?: 'not-offered';
  /** The fixed record, when the fix is offered. */
  fixed?: (d: string) => string;
}

const SCENARIOS: Scenario[] = [
  {
    domain: 'direct-after.example',
    relayed: false,
    spf: () => `v=spf1 ip4:${SERVER_IP} ip6:${SERVER_IP6} include:%{d}.missing.example ~all`,
    failsBefore: false,
    everyoneBefore: true,
    fixed: () => `v=spf1 ip4:${SERVER_IP} ip6:${SERVER_IP6} ~all`,
  },
  {
    domain: 'direct-first.example',
    relayed: false,
    // The name exists, with no SPF record.
    spf: () => `v=spf1 include:%{d}.missing.example ip4:${SERVER_IP} ip6:${SERVER_IP6} ~all`,
    more: (d) => [[`${d}.missing.example`, 'TXT', 'verification=0123456789']],
    failsBefore: true,
    everyoneBefore: true,
    fixed: () => `v=spf1 ip4:${SERVER_IP} ip6:${SERVER_IP6} ~all`,
  },
  {
    domain: 'relay-missing.example',
    relayed: true,
    spf: () => 'v=spf1 include:relay.mailchannels.net include:%{d}.missing.example ~all',
    failsBefore: false,
    everyoneBefore: true,
    fixed: () => 'v=spf1 include:relay.mailchannels.net ~all',
  },
  {
    domain: 'relay-before.example',
    relayed: true,
    spf: () => 'v=spf1 include:%{d}.missing.example include:relay.mailchannels.net ~all',
    failsBefore: true,
    everyoneBefore: true,
    fixed: () => 'v=spf1 include:relay.mailchannels.net ~all',
  },
  {
    domain: 'relay-present.example',
    relayed: true,
    spf: () => 'v=spf1 include:%{d}._spf.hoster.example ~all',
    more: (d) => [[`${d}._spf.hoster.example`, 'TXT', `v=spf1 ip4:${HOSTED_IP} include:relay.mailchannels.net ~all`]],
    failsBefore: false,
    everyoneBefore: false,
    listed: [{ ip: HOSTED_IP, result: 'pass' }],
    fix: 'not-offered',
  },
  {
    domain: 'relay-o.example',
    relayed: true,
    spf: () => 'v=spf1 include:_spf.tenants.example ~all',
    more: (d) => [[`${d}.t.tenants.example`, 'TXT', 'v=spf1 include:relay.mailchannels.net ~all']],
    failsBefore: false,
    everyoneBefore: false,
    listed: [{ ip: TENANT_IP, result: 'pass' }],
    fix: 'not-offered',
  },
  {
    domain: 'relay-redirect.example',
    relayed: true,
    spf: () => 'v=spf1 redirect=%{d}.spf.hoster.example',
    more: (d) => [[`${d}.spf.hoster.example`, 'TXT', 'v=spf1 include:relay.mailchannels.net -all']],
    failsBefore: false,
    everyoneBefore: false,
    fix: 'not-offered',
  },
  {
    domain: 'shop.transform.example',
    relayed: true,
    spf: () => 'v=spf1 include:%{dr}.rev.hoster.example include:%{d2}._spf.hoster.example ~all',
    more: () => [
      ['example.transform.shop.rev.hoster.example', 'TXT', `v=spf1 ip4:${REVERSED_IP} -all`],
      ['transform.example._spf.hoster.example', 'TXT', 'v=spf1 include:relay.mailchannels.net ~all'],
    ],
    failsBefore: false,
    everyoneBefore: false,
    listed: [{ ip: REVERSED_IP, result: 'pass' }],
    fix: 'not-offered',
  },
  {
    domain: 'direct-exists.example',
    relayed: false,
    // exists:%{d}.nolist.example: the name does not exist (a void lookup); gone.<d> does not exist; noaddr.<d> has no
    // address. The fix drops a:gone.<d> and exists:%{d}.nolist.example (terms of names that do not exist: they match no
    // sender), which leaves 1.
    spf: (d) => `v=spf1 ip4:${SERVER_IP} ip6:${SERVER_IP6} exists:%{d}.nolist.example a:gone.${d} a:noaddr.${d} ~all`,
    more: (d) => [[`noaddr.${d}`, 'TXT', 'not an address']],
    failsBefore: false,
    everyoneBefore: true,
    fixed: (d) => `v=spf1 ip4:${SERVER_IP} ip6:${SERVER_IP6} a:noaddr.${d} ~all`,
  },
  {
    domain: 'relay-i.example',
    relayed: true,
    spf: () => 'v=spf1 include:%{ir}.%{d}._spf.list.example include:relay.mailchannels.net ~all',
    failsBefore: true,
    listed: [{ ip: LIST_IP, result: 'pass' }],
    fixed: () => 'v=spf1 include:relay.mailchannels.net include:%{ir}.%{d}._spf.list.example ~all',
  },
];

/** The server's addresses, or the relay's, for a scenario. */
const probes = (s: Scenario) => (s.relayed ? RELAY_IPS : [SERVER_IP, SERVER_IP6]);
/** A stranger of each family the scenario's senders have. */
const strangers = (s: Scenario) => (s.relayed ? [STRANGER_IP] : [STRANGER_IP, STRANGER_IP6]);

/** The domain's zone: its apex and mail host on this server, and its SPF record. */
function zoneOf(s: Scenario): ZoneRecord[] {
  const d = s.domain;
  const rec = (name: string, type: string, value: string): ZoneRecord => ({ name, ttl: 300, type, value, ref: `${name}/${type}/${value}` });
  const spf = s.spf(d);
  return [rec(d, 'NS', 'ns1.newhost.example.'), rec(d, 'A', SERVER_IP), rec(d, 'MX', `10 mail.${d}.`), rec(`mail.${d}`, 'A', SERVER_IP), { ...rec(d, 'TXT', spf), txt: [spf] }];
}

/** What the loopback server serves: the world, each scenario's names and each domain's zone. */
function served(zones: Map<string, ZoneRecord[]>): ServedZoneMap {
  const map: ServedZoneMap = structuredClone(WORLD);
  for (const s of SCENARIOS) {
    for (const [name, type, value] of s.more?.(s.domain) ?? []) {
      const e = (map[name] ??= {});
      if (type === 'A') (e.A ??= []).push(value);
      else (e.TXT ??= []).push([value]);
    }
  }
  for (const zone of zones.values()) {
    for (const r of zone) {
      const e = (map[r.name] ??= {});
      if (r.type === 'A') (e.A ??= []).push(r.value);
      else if (r.type === 'NS') (e.NS ??= []).push(r.value.replace(/\.$/, ''));
      else if (r.type === 'TXT') (e.TXT ??= []).push(r.txt ?? [r.value]);
      else if (r.type === 'MX') (e.MX ??= []).push({ priority: Number(r.value.split(' ')[0]), exchange: r.value.split(' ')[1].replace(/\.$/, '') });
    }
  }
  return map;
}

/** A check context as an audit builds one (src/core/audit.ts), over `resolver` and the domain's zone. */
function context(s: Scenario, zone: ZoneRecord[], resolver: Resolver): CheckContext {
  const settings: MailSettings = {
    domain: s.domain,
    hostname: HELO,
    ips: s.relayed ? [SERVER_IP] : [SERVER_IP, SERVER_IP6],
    helo: HELO,
    nameservers: ['ns1.newhost.example'],
    dkim: { selector: 'default', signing: true },
    routing: 'local',
    relay: s.relayed ? RELAY : null,
  };
  const z: Zone = { domain: s.domain, serial: 1, records: zone, version: 'v1' };
  const zoneIndex = new RecordIndex(zone);
  const classifier = makeClassifier({ domain: s.domain, zone: z, zoneIndex, settings, resolver, knowledge: defaultKnowledge });
  return { domain: s.domain, zone: z, zoneIndex, settings, resolver, classifier, knowledge: defaultKnowledge, options: {} };
}

/** The zone as the plan leaves it: its changes applied. */
function applied(zone: ZoneRecord[], plan: PartialPlan): ZoneRecord[] {
  const gone = new Set(plan.changes.flatMap((c) => (c.before ? [c.before.ref] : [])));
  return [...zone.filter((r) => !gone.has(r.ref)), ...plan.changes.flatMap((c) => (c.after ? [{ ...c.after, ref: `after:${c.after.value}` }] : []))];
}

// ---- the judges ----

interface Answer {
  result: string;
  explanation: string;
}

/** Both judges' answers for (domain, ip) pairs: [pyspf, Mail::SPF] each. */
async function judges(port: number, asks: readonly { domain: string; ip: string }[]): Promise<[Answer, Answer][]> {
  const items = asks.map((a) => ({ ip: a.ip, sender: `postmaster@${a.domain}`, helo: HELO }));
  const [py, ms] = await Promise.all([
    runOracle((python as { python: string }).python, { port, spf: items, dkim: [] }).then((x: { spf: Answer[] }) => x.spf),
    runLinesJudge<Answer>((perl as { perl: string }).perl, join(ORACLES, 'spf-judge.pl'), items.map((x) => ({ ...x, port })), trackJudge),
  ]);
  return asks.map((_, i) => [py[i], ms[i]]);
}

// ---- mailhealth's verdicts ----

/** Whether the audit says `ip` (a server address, or any of the relay's) is authorised. */
function authorised(s: Scenario, fs: readonly Finding[], ip: string): boolean {
  const spf = fs.filter((f) => f.check === 'spf');
  if (spf.some((f) => f.rule === 'spf.missing')) return false;
  return !spf.some((f) => f.rule === 'spf.server-not-authorized' && (s.relayed || f.subject === ip));
}

/**
 * Whether the audit says receivers answer permerror for every sender the record's own terms do not match first: a
 * syntax error or a broken include / redirect= (spf.syntax), past 10 lookups, past 2 void lookups for every sender.
 */
function everyone(fs: readonly Finding[]): boolean {
  return fs.some((f) => f.check === 'spf' && f.severity === 'fail' && (f.rule === 'spf.syntax' || f.rule === 'spf.too-many-lookups' || (f.rule === 'spf.void-lookups' && f.subject === undefined)));
}

const show = (fs: readonly Finding[]) => fs.filter((f) => f.check === 'spf').map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''} [${f.subject ?? ''}]: ${f.message}`).join('\n');
const said = (a: Answer) => `${a.result} (${a.explanation})`;

describe('SPF terms with %{d} and %{o}: the audit and the SPF fix, judged by pyspf and Mail::SPF', { skip }, () => {
  let dns: DnsServer | undefined;
  const zones = new Map<string, ZoneRecord[]>();
  const fixed = new Map<string, ZoneRecord[]>();
  const before_ = new Map<string, { fs: Finding[]; plan: PartialPlan | null }>();
  const after_ = new Map<string, Finding[]>();
  /** Per domain: the judges' answers for probes(s), then strangers(s), then the listed senders. */
  let judgedBefore = new Map<string, [Answer, Answer][]>();
  let judgedAfter = new Map<string, [Answer, Answer][]>();
  const asked = (s: Scenario) => [...probes(s), ...strangers(s), ...(s.listed ?? []).map((x) => x.ip)];

  /** Every scenario audited (and planned) by mailhealth over what the server serves now, with a fresh run cache. */
  async function audit(zs: Map<string, ZoneRecord[]>, plan: boolean): Promise<Map<string, { fs: Finding[]; plan: PartialPlan | null }>> {
    const resolver = createResolver({ servers: [dns!.address], timeoutMs: 10_000, tries: 2 });
    try {
      const out = new Map<string, { fs: Finding[]; plan: PartialPlan | null }>();
      for (const s of SCENARIOS) {
        const ctx = context(s, zs.get(s.domain)!, resolver.forAudit());
        const fs = await spfCheck(ctx);
        out.set(s.domain, { fs, plan: plan && fs.some((f) => f.fix === 'spf') ? await planSpf(ctx, zs.get(s.domain)!, {}) : null });
      }
      return out;
    } finally {
      resolver.close();
    }
  }

  async function judgeAll(): Promise<Map<string, [Answer, Answer][]>> {
    const asks = SCENARIOS.flatMap((s) => asked(s).map((ip) => ({ domain: s.domain, ip })));
    const answers = await judges(dns!.port, asks);
    const out = new Map<string, [Answer, Answer][]>();
    asks.forEach((a, i) => out.set(a.domain, [...(out.get(a.domain) ?? []), answers[i]]));
    return out;
  }

  before(async () => {
    for (const s of SCENARIOS) zones.set(s.domain, zoneOf(s));
    dns = await startDnsServer({ data: served(zones) });
    const [m, j] = await Promise.all([audit(zones, true), judgeAll()]);
    for (const [d, x] of m) before_.set(d, x);
    judgedBefore = j;
    // The fixes applied, served, audited and judged again.
    for (const s of SCENARIOS) {
      const p = before_.get(s.domain)!.plan;
      fixed.set(s.domain, p && !p.blocked ? applied(zones.get(s.domain)!, p) : zones.get(s.domain)!);
    }
    dns.setData(served(fixed));
    const m2 = await audit(fixed, false);
    for (const [d, x] of m2) after_.set(d, x.fs);
    judgedAfter = await judgeAll();
  });
  after(async () => {
    stopJudges();
    await dns?.close();
  });

  test('neither judge answers temperror or fails, and mailhealth has no unknown finding', () => {
    for (const [d, as] of [...judgedBefore, ...judgedAfter]) {
      for (const [py, ms] of as) {
        assert.ok(!['temperror', 'error'].includes(py.result), `${d}: pyspf ${said(py)}`);
        assert.ok(!['temperror', 'error'].includes(ms.result), `${d}: Mail::SPF ${said(ms)}`);
      }
    }
    for (const [d, x] of before_) assert.deepEqual(x.fs.filter((f) => f.severity === 'unknown').map((f) => f.message), [], d);
  });

  for (const s of SCENARIOS) {
    const n = probes(s).length;
    const m = strangers(s).length;
    test(`${s.domain}: the audit's verdicts — ${s.relayed ? "the relay's" : "the server's"} addresses${s.everyoneBefore === undefined ? '' : ', every other sender'} — are the judges'`, () => {
      const { fs } = before_.get(s.domain)!;
      const answers = judgedBefore.get(s.domain)!;
      probes(s).forEach((ip, i) => {
        const [py, ms] = answers[i];
        assert.equal(py.result === 'pass', ms.result === 'pass', `${ip}: the judges agree (pyspf ${said(py)}; Mail::SPF ${said(ms)})`);
        assert.equal(authorised(s, fs, ip), py.result === 'pass', `${ip}: mailhealth ${authorised(s, fs, ip) ? 'authorised' : 'not authorised'}, pyspf ${said(py)}, Mail::SPF ${ms.result}\n${show(fs)}`);
      });
      assert.equal(answers.slice(0, n).some(([py]) => py.result !== 'pass'), s.failsBefore, `${s.domain}: some address fails before the fix`);
      if (s.everyoneBefore !== undefined) {
        strangers(s).forEach((ip, k) => {
          const [py, ms] = answers[n + k];
          assert.equal(py.result === 'permerror', s.everyoneBefore, `${ip}: pyspf ${said(py)}`);
          assert.equal(ms.result === 'permerror', s.everyoneBefore, `${ip}: Mail::SPF ${said(ms)}`);
        });
        assert.equal(everyone(fs), s.everyoneBefore, `mailhealth ${everyone(fs) ? 'says' : 'does not say'} receivers answer permerror for every sender\n${show(fs)}`);
      }
      (s.listed ?? []).forEach((x, k) => {
        const [py, ms] = answers[n + m + k];
        assert.equal(py.result, x.result, `${x.ip}: pyspf ${said(py)}`);
        assert.equal(ms.result, x.result, `${x.ip}: Mail::SPF ${said(ms)}`);
      });
    });

    if (s.fix === 'not-offered') {
      test(`${s.domain}: no finding offers the SPF fix`, () => {
        const { fs, plan } = before_.get(s.domain)!;
        assert.equal(plan, null, show(fs));
        assert.ok(!fs.some((f) => f.fix), show(fs));
      });
      continue;
    }
    test(`${s.domain}: the SPF fix is offered and goes through; after it both judges pass ${s.relayed ? "the relay's" : "the server's"} addresses and answer no permerror for others`, () => {
      const { fs, plan } = before_.get(s.domain)!;
      assert.ok(plan, `the fix is offered\n${show(fs)}`);
      assert.equal(plan!.blocked, undefined, `${plan!.blocked}\n${plan!.notes.join('\n')}`);
      const record = fixed.get(s.domain)!.find((r) => r.type === 'TXT')!.value;
      if (s.fixed) assert.equal(record, s.fixed(s.domain), plan!.notes.join('\n'));
      const answers = judgedAfter.get(s.domain)!;
      const fsAfter = after_.get(s.domain)!;
      probes(s).forEach((ip, i) => {
        const [py, ms] = answers[i];
        assert.equal(py.result, 'pass', `${ip} with "${record}": pyspf ${said(py)}`);
        assert.equal(ms.result, 'pass', `${ip} with "${record}": Mail::SPF ${said(ms)}`);
        assert.ok(authorised(s, fsAfter, ip), `after the fix, ${ip}: mailhealth authorised\n${show(fsAfter)}`);
      });
      if (s.everyoneBefore !== undefined) {
        strangers(s).forEach((ip, k) => {
          const [py, ms] = answers[n + k];
          assert.notEqual(py.result, 'permerror', `${ip} with "${record}": pyspf ${said(py)}`);
          assert.notEqual(ms.result, 'permerror', `${ip} with "${record}": Mail::SPF ${said(ms)}`);
        });
        assert.equal(everyone(fsAfter), false, show(fsAfter));
      }
      (s.listed ?? []).forEach((x, k) => {
        const [py, ms] = answers[n + m + k];
        assert.equal(py.result, x.result, `${x.ip} with "${record}": pyspf ${said(py)}`);
        assert.equal(ms.result, x.result, `${x.ip} with "${record}": Mail::SPF ${said(ms)}`);
      });
    });
  }
});
