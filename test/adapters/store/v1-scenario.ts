// A fixed history written through the Store API and a dump of everything the audit-history readers return.
// fixtures/v1.db was written by the v1 store (findings as rows, schema version 1) with writeScenario, and
// fixtures/v1-readback.json is what the v1 store's readers returned for it (readAll). Tests check that the current
// store, on the migrated file and on a fresh file with the same writes, returns exactly the same text.
//
// To remake the fixtures (only if the scenario changes, with the v1 store code, i.e. commit bdea030):
//   mkdir -p /tmp/v1/src/adapters/store && for f in store migrations; do
//     git show bdea030:src/adapters/store/$f.ts > /tmp/v1/src/adapters/store/$f.ts; done
//   ln -s "$PWD/node_modules" /tmp/v1/node_modules
//   npx tsx test/adapters/store/make-v1-fixture.ts /tmp/v1/src/adapters/store/store.ts
import type { DomainAudit, Finding } from '../../../src/core/model.js';

/** The parts of the Store API the scenario uses (the v1 and the current store both have them). */
export interface HistoryStore {
  startRun(kind: 'audit' | 'bulk' | 'report', byUser: string, total?: number | null, meta?: unknown): number;
  recordAudit(runId: number, audit: DomainAudit, owner?: string | null): number;
  recordAudits(runId: number, items: readonly { audit: DomainAudit; owner?: string | null }[]): number[];
  finishRun(runId: number, status: 'complete' | 'interrupted' | 'cancelled'): void;
  getRun(id: number): unknown;
  latestAudit(domain: string): unknown;
  latestAudits(domains?: readonly string[]): Map<string, unknown>;
  auditsForDomain(domain: string, limit?: number): unknown[];
  runResults(runId: number): unknown[];
  latestSummaries(domains: readonly string[]): Map<string, unknown>;
  recentResults(domains: readonly string[], limit?: number): unknown[];
  prune(o: { olderThanDays: number; now?: number }): unknown;
}

export const T0 = Date.parse('2025-03-01T00:00:00.000Z');
const DAY = 86_400_000;

/** Text a database and a browser both find awkward, with lone surrogates (they read back as U+FFFD). */
export const NASTY = 'nul\u0000 bell\u0007 esc\u001b[31m quote" back\\slash \u2028\u2029 rtl\u202e émoji😀 lone \ud800 and \udfff <b>x</b> \'; DROP TABLE findings; --';

export function fakeClock(start = T0) {
  const c = { t: start, now: () => c.t, advance: (ms: number) => void (c.t += ms) };
  return c;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A realistic finding set (the bench's shape: shared evidence per check, classification, subjects, a fix). */
function benchLike(domain: string, variant: number): Finding[] {
  const spf = `v=spf1 +a +mx include:${variant % 2 ? 'websitewelcome.com' : 'relay.mailchannels.net'} ~all`;
  const spfEvidence = { panel: [`${domain} 3600 TXT "${spf}"`, `${domain} 3600 TXT "site-verification=${variant}"`], live: [`"${spf}"`, `"site-verification=${variant}"`] };
  const dmarcEvidence = { panel: [`_dmarc.${domain} 3600 TXT "v=DMARC1; p=none; rua=mailto:dmarc@${domain}"`], live: [`"v=DMARC1; p=none; rua=mailto:dmarc@${domain}"`] };
  const out: Finding[] = [
    { rule: 'dmarc.destination', check: 'dmarc', severity: 'info', message: `rua reports go to dmarc@${domain}: it is on the domain itself.`, evidence: dmarcEvidence, subject: `rua=mailto:dmarc@${domain}`, classification: { class: 'this-server', reason: `dmarc@${domain} is on the domain itself` } },
    { rule: 'dmarc.policy-none', check: 'dmarc', severity: 'info', message: 'DMARC policy is p=none (monitoring only).', evidence: dmarcEvidence },
    { rule: 'mx.host', check: 'mx', severity: 'info', message: `MX 10 mail.${domain}: resolves to this server (203.0.113.10).`, evidence: { panel: [`${domain} 3600 MX 10 mail.${domain}`], live: [`10 mail.${domain}`], routing: 'local' }, subject: `mail.${domain}`, classification: { class: 'this-server', reason: 'resolves to this server' } },
    { rule: 'ptr.relay', check: 'ptr', severity: 'info', message: 'Mail leaves through MailChannels — receivers see the relay’s IPs.', evidence: { live: [] } },
    { rule: 'spf.term', check: 'spf', severity: 'info', message: '+a: resolves to this server.', evidence: spfEvidence, subject: '+a', classification: { class: 'this-server', reason: 'a' } },
    { rule: 'spf.term', check: 'spf', severity: variant % 2 ? 'fail' : 'info', message: 'include: a previous host.', evidence: spfEvidence, subject: 'include:websitewelcome.com', classification: variant % 2 ? { class: 'stale', reason: 'HostGator', provider: 'hostgator', source: 'kb' } : { class: 'keep', reason: 'relay' }, ...(variant % 2 ? { fix: 'spf' as const } : {}) },
    { rule: 'dkim.key', check: 'dkim', severity: variant % 3 ? 'pass' : 'warn', message: 'DKIM key default._domainkey matches the panel key.', evidence: { selector: 'default', bits: 2048, sha256: 'ab'.repeat(32) } },
    { rule: 'dns.ns', check: 'dns', severity: 'info', message: 'NS are the panel’s.', evidence: { live: ['ns1.benchhost.test'], panel: ['ns1.benchhost.test'] } },
    { rule: 'lockdown.id', check: 'lockdown', severity: variant % 4 ? 'pass' : 'unknown', message: 'Lockdown auth=benchmc.', evidence: { live: ['v=mc1 auth=benchmc'] }, subject: 'auth=benchmc' },
  ];
  return out;
}

/** Odd but valid findings: optional fields every way, JSON edge values, key orders, unknown check names. */
function oddFindings(): Finding[] {
  const shared = { panel: [NASTY], live: [1, 2.5, -0, 1e21, null, true, { k: NASTY, e: {} }] } as unknown as Finding['evidence'];
  return [
    { message: NASTY, severity: 'warn', evidence: shared, check: 'spf', rule: `rule ${NASTY}`, subject: NASTY, classification: { class: 'stale', reason: NASTY, provider: 'oldhost', source: 'kb' }, fix: 'spf' },
    { rule: 'no-evidence', check: 'dkim', severity: 'unknown', message: 'evidence missing', evidence: undefined as never },
    { rule: 'null-evidence', check: 'dkim', severity: 'fail', message: 'evidence null', evidence: null as never },
    { rule: 'string-evidence', check: 'zzz' as never, severity: 'info', message: 'not an object', evidence: 'just text' as never },
    { rule: 'null-classification', check: 'mx', severity: 'pass', message: 'classification null', evidence: shared, classification: null as never, subject: undefined, fix: undefined },
    { rule: 'null-subject', check: 'Mx' as never, severity: 'warn', message: '', evidence: {}, subject: null as never, fix: null as never },
  ];
}

/** When writeScenario ends (its clock starts at T0). */
export const SCENARIO_END = T0 + 40 * DAY;

/** Writes the history; `clock` must be the store's clock, starting at T0. */
export function writeScenario(store: HistoryStore, clock: ReturnType<typeof fakeClock>): void {
  const domains = Array.from({ length: 8 }, (_, i) => `d${String(i).padStart(2, '0')}.example`);
  // Night 1: everyone, as a nightly report (one batch).
  const night1 = store.startRun('report', 'cron', domains.length, { trigger: 'cron', note: NASTY });
  store.recordAudits(
    night1,
    domains.map((d, i) => ({ audit: { domain: d, status: i % 2 ? 'fail' : 'pass', auditedAt: iso(clock.t), findings: benchLike(d, i) } as DomainAudit, owner: i % 3 ? `cust${i % 3}` : null })),
  );
  store.finishRun(night1, 'complete');
  // Day 1: single audits from the UI, some with nothing found, a tie (same instant written twice), odd findings.
  clock.advance(DAY);
  const ui = store.startRun('audit', 'alice');
  store.recordAudit(ui, { domain: 'd01.example', status: 'pass', auditedAt: iso(clock.t), findings: [] }, 'cust1');
  store.recordAudit(ui, { domain: 'odd.example', status: 'warn', auditedAt: iso(clock.t).replace('.000Z', 'Z'), findings: oddFindings() }, NASTY);
  store.recordAudit(ui, { domain: 'odd.example', status: 'unknown', auditedAt: iso(clock.t), findings: oddFindings().reverse() });
  store.recordAudit(ui, { domain: NASTY, status: 'fail', auditedAt: iso(clock.t), findings: oddFindings().slice(0, 2) });
  // Day 3: a bulk run over some domains, one audited earlier than it is written (latest is by auditedAt).
  clock.advance(2 * DAY);
  const bulk = store.startRun('bulk', 'bob', 4, { scope: ['d02.example', 'd03.example'] });
  store.recordAudits(bulk, [
    { audit: { domain: 'd02.example', status: 'warn', auditedAt: iso(clock.t), findings: benchLike('d02.example', 7).slice(2) }, owner: 'cust2' },
    { audit: { domain: 'd03.example', status: 'fail', auditedAt: iso(clock.t - 5 * DAY), findings: benchLike('d03.example', 3) } },
    { audit: { domain: 'd04.example', status: 'pass', auditedAt: iso(clock.t), findings: [] }, owner: 'cust1' },
  ]);
  // Day 40: night 2.
  clock.advance(37 * DAY);
  const night2 = store.startRun('report', 'cron', domains.length);
  store.recordAudits(
    night2,
    domains.slice(0, 6).map((d, i) => ({ audit: { domain: d, status: 'warn', auditedAt: iso(clock.t), findings: benchLike(d, i + 1).slice(i % 4) } as DomainAudit, owner: `cust${i % 3}` })),
  );
  store.finishRun(night2, 'complete');
}

/** Everything the audit-history readers return, as JSON text (key order included), then prune and read again. */
export function readAll(store: HistoryStore, now = SCENARIO_END): string {
  const all = store.latestAudits();
  const domains = [...all.keys()];
  const runs = [1, 2, 3, 4, 5];
  const dump: Record<string, unknown> = {
    latestAudits: [...all.entries()],
    latestAuditsSubset: [...store.latestAudits(['d03.example', 'nope.example', 'odd.example', NASTY, 'd03.example']).entries()],
    latestAudit: domains.map((d) => store.latestAudit(d)),
    auditsForDomain: domains.map((d) => [store.auditsForDomain(d, 50), store.auditsForDomain(d, 1)]),
    runs: runs.map((r) => [store.getRun(r), store.runResults(r)]),
    latestSummaries: [...store.latestSummaries([...domains, 'nope.example']).entries()],
    recentResults: [store.recentResults(domains, 100), store.recentResults(['odd.example', 'd01.example'], 2)],
  };
  dump.prune30 = store.prune({ olderThanDays: 30, now });
  dump.afterPrune30 = [...store.latestAudits().entries()].map(([d]) => [d, store.auditsForDomain(d, 50)]);
  dump.prune0 = store.prune({ olderThanDays: 0, now: now + 400 * DAY });
  dump.afterPrune0 = [...store.latestAudits().values()];
  return JSON.stringify(dump);
}
