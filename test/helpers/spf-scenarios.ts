// The SPF scenarios judged by receivers' own libraries (test/e2e/spf-voids-oracles.test.ts,
// test/e2e/spf-static-macros-oracles.test.ts): hand-written domains on a server sending itself or through MailChannels,
// served by one loopback DNS server (src/adapters/dns/server.ts) that mailhealth asks too (its wire resolver, in
// process); each domain audited and, where a finding offers the SPF fix, planned; the plans applied to the served zones,
// audited again; and pyspf (python3-spf, through test/fixtures/oracles/audit-verdicts.py) and Mail::SPF
// (libmail-spf-perl, test/fixtures/oracles/spf-judge.pl) asked check_host(<ip>, <domain>, postmaster@<domain>) before
// and after. What a test asks of each scenario and what it asserts stay in the test.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
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
import { findPerlSpf, findPython, runLinesJudge } from './oracles.js';
import { HELO, runOracle, SERVER_IP, SERVER_IP6, stopJudges, trackJudge } from './verdict-world.js';

export { HELO, SERVER_IP, SERVER_IP6 };

const ORACLES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'oracles');

// ---- the servers, the senders and the world ----

export const RELAY = { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' };
/** Addresses across the ranges relay.mailchannels.net publishes (not the first of each: mailhealth asks about those). */
export const RELAY_IPS = ['23.83.208.10', '23.83.223.250', '205.201.128.10'];

/** What every scenario's world serves: the nameserver, the server's host name and the relay's record. */
export const BASE_WORLD: ServedZoneMap = {
  'ns1.newhost.example': { A: ['127.0.0.1'] },
  [HELO]: { A: [SERVER_IP], AAAA: [SERVER_IP6] },
  'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ip4:205.201.128.0/20 ~all']] },
};

/** What the runs need of a test's scenario. */
export interface SpfScenario {
  domain: string;
  /** The server relays through MailChannels (else it sends itself, from SERVER_IP and SERVER_IP6). */
  relayed: boolean;
}

/** The server's addresses, or the relay's, for a scenario. */
export const probes = (s: SpfScenario) => (s.relayed ? RELAY_IPS : [SERVER_IP, SERVER_IP6]);

/** A zone record (a TXT record of one string, `value`). */
export const rec = (name: string, type: string, value: string): ZoneRecord => ({ name, ttl: 300, type, value, ref: `${name}/${type}/${value}`, ...(type === 'TXT' ? { txt: [value] } : {}) });

/** A domain's apex and mail host on this server (its nameserver ns1.newhost.example). */
export const apexOf = (d: string): ZoneRecord[] => [rec(d, 'NS', 'ns1.newhost.example.'), rec(d, 'A', SERVER_IP), rec(d, 'MX', `10 mail.${d}.`), rec(`mail.${d}`, 'A', SERVER_IP)];

/** What the loopback server serves: `world` and `records`, in their order. */
export function served(world: ServedZoneMap, records: Iterable<ZoneRecord>): ServedZoneMap {
  const map: ServedZoneMap = structuredClone(world);
  for (const r of records) {
    const e = (map[r.name] ??= {});
    if (r.type === 'A') (e.A ??= []).push(r.value);
    else if (r.type === 'AAAA') (e.AAAA ??= []).push(r.value);
    else if (r.type === 'NS') (e.NS ??= []).push(r.value.replace(/\.$/, ''));
    else if (r.type === 'TXT') (e.TXT ??= []).push(r.txt ?? [r.value]);
    else if (r.type === 'MX') (e.MX ??= []).push({ priority: Number(r.value.split(' ')[0]), exchange: r.value.split(' ')[1].replace(/\.$/, '') });
  }
  return map;
}

/** A check context as an audit builds one (src/core/audit.ts), over `resolver` and the domain's zone. */
export function context(s: SpfScenario, zone: ZoneRecord[], resolver: Resolver): CheckContext {
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
export function applied(zone: ZoneRecord[], plan: PartialPlan): ZoneRecord[] {
  const gone = new Set(plan.changes.flatMap((c) => (c.before ? [c.before.ref] : [])));
  return [...zone.filter((r) => !gone.has(r.ref)), ...plan.changes.flatMap((c) => (c.after ? [{ ...c.after, ref: `after:${c.after.value}` }] : []))];
}

// ---- the judges ----

export interface Answer {
  result: string;
  explanation: string;
}

export interface SpfJudges {
  python: string;
  perl: string;
}

/** A python3 with pyspf and a perl with Mail::SPF (test/helpers/oracles.ts), or why not: the tests skip with that. */
export function findSpfJudges(): SpfJudges | { skip: string } {
  const python = findPython();
  const perl = findPerlSpf();
  if ('python' in python && 'perl' in perl) return { python: python.python, perl: perl.perl };
  return { skip: [python, perl].flatMap((x) => ('skip' in x ? [x.skip] : [])).join('; ') };
}

/** Both judges' answers for (domain, ip) pairs: [pyspf, Mail::SPF] each. */
export async function judges(j: SpfJudges, port: number, asks: readonly { domain: string; ip: string }[]): Promise<[Answer, Answer][]> {
  const items = asks.map((a) => ({ ip: a.ip, sender: `postmaster@${a.domain}`, helo: HELO }));
  const [py, ms] = await Promise.all([
    runOracle(j.python, { port, spf: items, dkim: [] }).then((x: { spf: Answer[] }) => x.spf),
    runLinesJudge<Answer>(j.perl, join(ORACLES, 'spf-judge.pl'), items.map((x) => ({ ...x, port })), trackJudge),
  ]);
  return asks.map((_, i) => [py[i], ms[i]]);
}

// ---- mailhealth's verdicts ----

/** Whether the audit says `ip` (a server address, or any of the relay's) is authorised. */
export function authorised(s: SpfScenario, fs: readonly Finding[], ip: string): boolean {
  const spf = fs.filter((f) => f.check === 'spf');
  if (spf.some((f) => f.rule === 'spf.missing')) return false;
  return !spf.some((f) => f.rule === 'spf.server-not-authorized' && (s.relayed || f.subject === ip));
}

// ---- the runs: before the fix, and after it ----

export interface Audited {
  fs: Finding[];
  /** The SPF fix's plan, where a finding offers it (before the fix only). */
  plan: PartialPlan | null;
}

export interface ScenarioOptions<S extends SpfScenario> {
  scenarios: readonly S[];
  judges: SpfJudges;
  /** The domain's zone as the panel holds it. */
  zoneOf: (s: S) => ZoneRecord[];
  /** What the loopback server serves for the zones (before the fix, then after it). */
  serve: (zones: Map<string, ZoneRecord[]>) => ServedZoneMap;
  /** The addresses both judges are asked about for a scenario: before the fix, and after it. */
  askBefore: (s: S) => string[];
  askAfter: (s: S) => string[];
}

/**
 * The scenarios audited and judged before the fix, the fixes applied (a blocked plan changes nothing), served, audited
 * and judged again: start() in a test's before(), stop() in its after(). The maps are filled in place by start().
 */
export class ScenarioRuns<S extends SpfScenario> {
  dns: DnsServer | undefined;
  readonly zones = new Map<string, ZoneRecord[]>();
  readonly fixed = new Map<string, ZoneRecord[]>();
  /** Per domain: the audit (and the plan) before the fix. */
  readonly before = new Map<string, Audited>();
  /** Per domain: the audit after the fix. */
  readonly after = new Map<string, Finding[]>();
  /** Per domain: the judges' answers for askBefore(s), in order. */
  readonly judgedBefore = new Map<string, [Answer, Answer][]>();
  /** Per domain: the judges' answers for askAfter(s), in order. */
  readonly judgedAfter = new Map<string, [Answer, Answer][]>();

  constructor(private readonly o: ScenarioOptions<S>) {}

  async start(): Promise<void> {
    const { scenarios } = this.o;
    for (const s of scenarios) this.zones.set(s.domain, this.o.zoneOf(s));
    this.dns = await startDnsServer({ data: this.o.serve(this.zones) });
    const [m, j] = await Promise.all([this.audit(this.zones, true), this.judgeAll(this.o.askBefore)]);
    for (const [d, x] of m) this.before.set(d, x);
    for (const [d, x] of j) this.judgedBefore.set(d, x);
    // The fixes applied, served, audited and judged again.
    for (const s of scenarios) {
      const p = this.before.get(s.domain)!.plan;
      this.fixed.set(s.domain, p && !p.blocked ? applied(this.zones.get(s.domain)!, p) : this.zones.get(s.domain)!);
    }
    this.dns.setData(this.o.serve(this.fixed));
    const m2 = await this.audit(this.fixed, false);
    for (const [d, x] of m2) this.after.set(d, x.fs);
    for (const [d, x] of await this.judgeAll(this.o.askAfter)) this.judgedAfter.set(d, x);
  }

  async stop(): Promise<void> {
    stopJudges();
    await this.dns?.close();
  }

  /** Every scenario audited (and planned) by mailhealth over what the server serves now, with a fresh run cache. */
  private async audit(zs: Map<string, ZoneRecord[]>, plan: boolean): Promise<Map<string, Audited>> {
    const resolver = createResolver({ servers: [this.dns!.address], timeoutMs: 10_000, tries: 2 });
    try {
      const out = new Map<string, Audited>();
      for (const s of this.o.scenarios) {
        const ctx = context(s, zs.get(s.domain)!, resolver.forAudit());
        const fs = await spfCheck(ctx);
        out.set(s.domain, { fs, plan: plan && fs.some((f) => f.fix === 'spf') ? await planSpf(ctx, zs.get(s.domain)!, {}) : null });
      }
      return out;
    } finally {
      resolver.close();
    }
  }

  private async judgeAll(ask: (s: S) => string[]): Promise<Map<string, [Answer, Answer][]>> {
    const asks = this.o.scenarios.flatMap((s) => ask(s).map((ip) => ({ domain: s.domain, ip })));
    const answers = await judges(this.o.judges, this.dns!.port, asks);
    const out = new Map<string, [Answer, Answer][]>();
    asks.forEach((a, i) => out.set(a.domain, [...(out.get(a.domain) ?? []), answers[i]]));
    return out;
  }
}

// ---- the assertions both tests make ----

const said = (a: Answer) => `${a.result} (${a.explanation})`;

/** Neither judge answered temperror or failed, and mailhealth had no unknown finding before the fix. */
export function assertNoTrouble<S extends SpfScenario>(runs: ScenarioRuns<S>): void {
  for (const [d, as] of [...runs.judgedBefore, ...runs.judgedAfter]) {
    for (const [py, ms] of as) {
      assert.ok(!['temperror', 'error'].includes(py.result), `${d}: pyspf ${said(py)}`);
      assert.ok(!['temperror', 'error'].includes(ms.result), `${d}: Mail::SPF ${said(ms)}`);
    }
  }
  for (const [d, x] of runs.before) assert.deepEqual(x.fs.filter((f) => f.severity === 'unknown').map((f) => f.message), [], d);
}

/** No finding offers a fix for `s` (and no SPF plan was made); `show` renders the findings for a failure. */
export function assertNotOffered<S extends SpfScenario>(runs: ScenarioRuns<S>, s: S, show: (fs: readonly Finding[]) => string): void {
  const { fs, plan } = runs.before.get(s.domain)!;
  assert.equal(plan, null, show(fs));
  assert.ok(!fs.some((f) => f.fix), show(fs));
}
