// The nightly report's comparison: this run's per-domain findings against the previous *complete* run.
// Pure: runs come in as snapshots (the cron loads them from the store); nothing here does I/O.
//
// A problem is a finding with severity fail or warn, keyed by (domain, rule, subject). Sections:
//   newProblems   a problem now that the previous complete run did not have
//   resolved      a problem the previous complete run had that is gone now (the check ran and found it fixed,
//                 or the domain left the server)
//   stillFailing  a problem in both; `nights` = consecutive complete runs (this one included) it has been present
//   unknown       findings with severity unknown (DNS/panel trouble) — never counted as failures. A previous problem
//                 whose check is unknown tonight is neither resolved nor still failing: it is listed under the
//                 unknown item (`wasFailing`) instead.
// Runs whose check of a domain was unknown neither extend nor break a streak.
import { SEVERITY_ORDER, type CheckName, type DomainStatus, type Severity } from '../model.js';

export type SnapshotRunStatus = 'running' | 'complete' | 'interrupted' | 'cancelled';

export interface SnapshotFinding {
  rule: string;
  check: CheckName;
  severity: Severity;
  subject?: string | null;
  message?: string;
}

export interface DomainSnapshot {
  domain: string;
  /** The customer account owning the domain. */
  owner: string | null;
  /** The reseller owning that account, if any. */
  reseller?: string | null;
  status: DomainStatus;
  findings: SnapshotFinding[];
}

export interface RunSnapshot {
  runId: number;
  status: SnapshotRunStatus;
  startedAt: string;
  /** Needed for complete runs; ignored for others. */
  domains?: DomainSnapshot[];
}

export interface ReportItem {
  domain: string;
  rule: string;
  check: CheckName;
  severity: Severity;
  subject: string | null;
  message: string;
  owner: string | null;
  reseller: string | null;
}

export interface NewProblem extends ReportItem {
  /** The check was unknown (DNS trouble) in the previous complete run, so this may be older than it looks. */
  previouslyUnknown?: boolean;
}

export interface StillFailing extends ReportItem {
  nights: number;
  /** The streak reaches past the oldest run looked at: `nights` is a lower bound. */
  nightsAtLeast?: boolean;
  /** startedAt of the first run of the streak. */
  since: string;
  /** Set when the severity changed since the previous run (e.g. warn → fail). */
  previousSeverity?: Severity;
}

export interface Resolved extends ReportItem {
  /** fixed: the check ran and the problem is gone; domain-removed: the domain is no longer on the server. */
  reason: 'fixed' | 'domain-removed';
}

export interface UnknownItem extends ReportItem {
  /** Problems of the previous complete run that tonight's DNS trouble hides (not counted as resolved). */
  wasFailing: { rule: string; severity: Severity; subject: string | null }[];
}

export interface TrendPoint {
  runId: number;
  startedAt: string;
  /** Domains whose status was fail. */
  failing: number;
  warning: number;
  unknown: number;
  total: number;
}

export interface GroupCounts {
  domains: number;
  failingDomains: number;
  newProblems: number;
  resolved: number;
  stillFailing: number;
  unknown: number;
}

export interface CustomerGroup {
  owner: string | null;
  reseller: string | null;
  domains: string[];
  counts: GroupCounts;
}

export interface ResellerGroup {
  /** null: customers of the server admin directly. */
  reseller: string | null;
  customers: (string | null)[];
  counts: GroupCounts;
}

export interface ReportScope {
  reseller?: string;
  owner?: string;
}

export interface ReportDoc {
  version: 1;
  runId: number;
  startedAt: string;
  previousRunId: number | null;
  previousStartedAt: string | null;
  /** Report runs between the previous complete run and this one that did not complete (skipped for the comparison). */
  skippedRuns: { runId: number; status: SnapshotRunStatus; startedAt: string }[];
  scope: ReportScope | null;
  summary: {
    domains: number;
    failingDomains: number;
    warningDomains: number;
    unknownDomains: number;
    newProblems: number;
    resolved: number;
    stillFailing: number;
    unknown: number;
  };
  newProblems: NewProblem[];
  resolved: Resolved[];
  stillFailing: StillFailing[];
  unknown: UnknownItem[];
  byReseller: ResellerGroup[];
  byCustomer: CustomerGroup[];
  /** Oldest first, this run last. */
  trend: TrendPoint[];
}

export interface BuildReportInput {
  current: RunSnapshot;
  /** Earlier report runs, any status, any order. Complete ones need `domains`. */
  runs: readonly RunSnapshot[];
  /** 'last' (default): compare with the latest complete run before this one; a Date: with the latest complete run started at or before it. */
  since?: 'last' | Date;
  /** Restrict everything (sections, groups, trend) to one reseller's or one customer's domains. */
  scope?: ReportScope;
  /** Set when older complete runs exist than the ones passed (streaks reaching the end are lower bounds). */
  historyTruncated?: boolean;
  /** Points in the trend, this run included. Default 30. */
  trendLength?: number;
}

export class ReportInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportInputError';
  }
}

/** fail and warn findings are problems; unknown is DNS trouble; info/pass are fine. */
export function isProblem(severity: Severity): boolean {
  return severity === 'fail' || severity === 'warn';
}

export function problemKey(domain: string, rule: string, subject: string | null | undefined): string {
  return JSON.stringify([domain, rule, subject ?? null]);
}

/** A finding that means no check could run for the domain at all. */
const ALL_CHECKS_UNKNOWN = new Set(['dns.panel-settings-unreadable']);

interface IndexedDomain {
  snap: DomainSnapshot;
  problems: Map<string, SnapshotFinding>;
  unknownChecks: Set<CheckName> | 'all';
}

type IndexedRun = Map<string, IndexedDomain>;

function indexDomain(d: DomainSnapshot): IndexedDomain {
  const problems = new Map<string, SnapshotFinding>();
  let unknownChecks: Set<CheckName> | 'all' = new Set();
  for (const f of d.findings) {
    if (isProblem(f.severity)) {
      const k = problemKey(d.domain, f.rule, f.subject);
      const had = problems.get(k);
      // Same key twice: keep the worse one.
      if (!had || (had.severity === 'warn' && f.severity === 'fail')) problems.set(k, f);
    } else if (f.severity === 'unknown') {
      if (ALL_CHECKS_UNKNOWN.has(f.rule)) unknownChecks = 'all';
      else if (unknownChecks !== 'all') unknownChecks.add(f.check);
    }
  }
  return { snap: d, problems, unknownChecks };
}

function inScope(d: DomainSnapshot, scope: ReportScope | undefined): boolean {
  if (!scope) return true;
  if (scope.reseller !== undefined && (d.reseller ?? null) !== scope.reseller) return false;
  if (scope.owner !== undefined && d.owner !== scope.owner) return false;
  return true;
}

function indexRun(run: RunSnapshot, scope: ReportScope | undefined): IndexedRun {
  const m: IndexedRun = new Map();
  for (const d of run.domains ?? []) if (inScope(d, scope)) m.set(d.domain, indexDomain(d));
  return m;
}

type KeyState = 'present' | 'absent' | 'unknown' | 'missing';

function stateOf(run: IndexedRun, domain: string, key: string, check: CheckName): KeyState {
  const d = run.get(domain);
  if (!d) return 'missing';
  if (d.problems.has(key)) return 'present';
  if (d.unknownChecks === 'all' || d.unknownChecks.has(check)) return 'unknown';
  return 'absent';
}

function item(d: DomainSnapshot, f: SnapshotFinding): ReportItem {
  return {
    domain: d.domain,
    rule: f.rule,
    check: f.check,
    severity: f.severity,
    subject: f.subject ?? null,
    message: f.message ?? '',
    owner: d.owner ?? null,
    reseller: d.reseller ?? null,
  };
}

function cmpNullable(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a.localeCompare(b);
}

function sortItems<T extends ReportItem>(items: T[]): T[] {
  return items.sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      cmpNullable(a.reseller, b.reseller) ||
      cmpNullable(a.owner, b.owner) ||
      a.domain.localeCompare(b.domain) ||
      a.rule.localeCompare(b.rule) ||
      cmpNullable(a.subject, b.subject),
  );
}

function byTimeDesc(a: RunSnapshot, b: RunSnapshot): number {
  return Date.parse(b.startedAt) - Date.parse(a.startedAt) || b.runId - a.runId;
}

function trendPoint(run: RunSnapshot, idx: IndexedRun): TrendPoint {
  const p: TrendPoint = { runId: run.runId, startedAt: run.startedAt, failing: 0, warning: 0, unknown: 0, total: 0 };
  for (const { snap } of idx.values()) {
    p.total++;
    if (snap.status === 'fail') p.failing++;
    else if (snap.status === 'warn') p.warning++;
    else if (snap.status === 'unknown') p.unknown++;
  }
  return p;
}

function emptyCounts(): GroupCounts {
  return { domains: 0, failingDomains: 0, newProblems: 0, resolved: 0, stillFailing: 0, unknown: 0 };
}

/** Picks the run to compare with: the latest complete run before `current` (started at or before `since`, if a Date). */
export function pickPrevious(current: RunSnapshot, runs: readonly RunSnapshot[], since: 'last' | Date = 'last'): RunSnapshot | null {
  const earlier = runs.filter((r) => r.runId !== current.runId && r.status === 'complete' && isBefore(r, current)).sort(byTimeDesc);
  if (since === 'last') return earlier[0] ?? null;
  const limit = since.getTime();
  if (Number.isNaN(limit)) throw new ReportInputError('since is not a valid date');
  return earlier.find((r) => Date.parse(r.startedAt) <= limit) ?? null;
}

function isBefore(r: RunSnapshot, current: RunSnapshot): boolean {
  const a = Date.parse(r.startedAt);
  const b = Date.parse(current.startedAt);
  return a < b || (a === b && r.runId < current.runId);
}

export function buildReport(input: BuildReportInput): ReportDoc {
  const { current, scope } = input;
  if (current.status !== 'complete') {
    throw new ReportInputError(`run ${current.runId} is ${current.status}, not complete: only a complete run is reported`);
  }
  const trendLength = input.trendLength ?? 30;
  const previous = pickPrevious(current, input.runs, input.since ?? 'last');
  // History for streaks and the trend: complete runs before this one, newest first.
  const history = input.runs.filter((r) => r.runId !== current.runId && r.status === 'complete' && isBefore(r, current)).sort(byTimeDesc);
  const historyIdx = history.map((r) => indexRun(r, scope));
  const cur = indexRun(current, scope);
  const prevPos = previous ? history.indexOf(previous) : -1;
  const prev: IndexedRun = prevPos >= 0 ? historyIdx[prevPos] : new Map();

  const skippedRuns = input.runs
    .filter(
      (r) =>
        r.runId !== current.runId &&
        r.status !== 'complete' &&
        isBefore(r, current) &&
        (!previous || isBefore(previous, r)),
    )
    .sort((a, b) => -byTimeDesc(a, b))
    .map((r) => ({ runId: r.runId, status: r.status, startedAt: r.startedAt }));

  const newProblems: NewProblem[] = [];
  const stillFailing: StillFailing[] = [];
  const resolved: Resolved[] = [];
  const unknown: UnknownItem[] = [];

  for (const d of cur.values()) {
    for (const [key, f] of d.problems) {
      // Walk back from the previous run: unknown runs are skipped, the first known state decides.
      let decided: KeyState = 'missing';
      let previouslyUnknown = false;
      if (prevPos >= 0) {
        for (let i = prevPos; i < historyIdx.length; i++) {
          const s = stateOf(historyIdx[i], d.snap.domain, key, f.check);
          if (s === 'unknown') {
            previouslyUnknown = true;
            continue;
          }
          decided = s;
          break;
        }
      }
      if (decided !== 'present') {
        const n: NewProblem = item(d.snap, f);
        if (previouslyUnknown) n.previouslyUnknown = true;
        newProblems.push(n);
        continue;
      }
      // Streak: consecutive complete runs (newest first from the one before tonight) where the problem was present.
      let nights = 1;
      let since = current.startedAt;
      let reachedEnd = true;
      for (let i = 0; i < historyIdx.length; i++) {
        const s = stateOf(historyIdx[i], d.snap.domain, key, f.check);
        if (s === 'unknown') continue;
        if (s !== 'present') {
          reachedEnd = false;
          break;
        }
        nights++;
        since = history[i].startedAt;
      }
      const s: StillFailing = { ...item(d.snap, f), nights, since };
      if (reachedEnd && input.historyTruncated) s.nightsAtLeast = true;
      const before = prev.get(d.snap.domain)?.problems.get(key);
      if (before && before.severity !== f.severity) s.previousSeverity = before.severity;
      stillFailing.push(s);
    }
  }

  // Previous problems gone tonight.
  const masked = new Map<string, { check: CheckName; all: boolean; list: UnknownItem['wasFailing'] }[]>();
  for (const p of prev.values()) {
    for (const [key, f] of p.problems) {
      const s = stateOf(cur, p.snap.domain, key, f.check);
      if (s === 'present') continue;
      if (s === 'unknown') {
        const list = masked.get(p.snap.domain) ?? [];
        list.push({ check: f.check, all: false, list: [{ rule: f.rule, severity: f.severity, subject: f.subject ?? null }] });
        masked.set(p.snap.domain, list);
        continue;
      }
      // Owner/reseller as known tonight when the domain is still here (accounts move), else as recorded then.
      const here = cur.get(p.snap.domain)?.snap;
      const r: Resolved = { ...item(here ? { ...p.snap, owner: here.owner, reseller: here.reseller } : p.snap, f), reason: s === 'missing' ? 'domain-removed' : 'fixed' };
      resolved.push(r);
    }
  }

  for (const d of cur.values()) {
    const hidden = masked.get(d.snap.domain) ?? [];
    const items: UnknownItem[] = [];
    for (const f of d.snap.findings) {
      if (f.severity !== 'unknown') continue;
      items.push({ ...item(d.snap, f), wasFailing: [] });
    }
    for (const h of hidden) {
      const target =
        items.find((u) => ALL_CHECKS_UNKNOWN.has(u.rule)) ?? items.find((u) => u.check === h.check) ?? items[0];
      target?.wasFailing.push(...h.list);
    }
    unknown.push(...items);
  }

  sortItems(newProblems);
  sortItems(stillFailing);
  sortItems(resolved);
  sortItems(unknown);

  // Groups per customer and per reseller.
  const customers = new Map<string, CustomerGroup>();
  const custKey = (owner: string | null, reseller: string | null) => JSON.stringify([reseller, owner]);
  const customer = (owner: string | null, reseller: string | null): CustomerGroup => {
    const k = custKey(owner, reseller);
    let g = customers.get(k);
    if (!g) {
      g = { owner, reseller, domains: [], counts: emptyCounts() };
      customers.set(k, g);
    }
    return g;
  };
  for (const { snap } of cur.values()) {
    const g = customer(snap.owner ?? null, snap.reseller ?? null);
    g.domains.push(snap.domain);
    g.counts.domains++;
    if (snap.status === 'fail') g.counts.failingDomains++;
  }
  for (const i of newProblems) customer(i.owner, i.reseller).counts.newProblems++;
  for (const i of resolved) customer(i.owner, i.reseller).counts.resolved++;
  for (const i of stillFailing) customer(i.owner, i.reseller).counts.stillFailing++;
  for (const i of unknown) customer(i.owner, i.reseller).counts.unknown++;
  const byCustomer = [...customers.values()].sort((a, b) => cmpNullable(a.reseller, b.reseller) || cmpNullable(a.owner, b.owner));
  for (const g of byCustomer) g.domains.sort();

  const resellers = new Map<string, ResellerGroup>();
  for (const g of byCustomer) {
    const k = JSON.stringify(g.reseller);
    let r = resellers.get(k);
    if (!r) {
      r = { reseller: g.reseller, customers: [], counts: emptyCounts() };
      resellers.set(k, r);
    }
    r.customers.push(g.owner);
    for (const c of Object.keys(g.counts) as (keyof GroupCounts)[]) r.counts[c] += g.counts[c];
  }
  const byReseller = [...resellers.values()].sort((a, b) => cmpNullable(a.reseller, b.reseller));

  const trend: TrendPoint[] = [];
  for (let i = Math.min(history.length, Math.max(0, trendLength - 1)) - 1; i >= 0; i--) trend.push(trendPoint(history[i], historyIdx[i]));
  const here = trendPoint(current, cur);
  trend.push(here);

  return {
    version: 1,
    runId: current.runId,
    startedAt: current.startedAt,
    previousRunId: previous?.runId ?? null,
    previousStartedAt: previous?.startedAt ?? null,
    skippedRuns,
    scope: scope && (scope.reseller !== undefined || scope.owner !== undefined) ? { ...scope } : null,
    summary: {
      domains: here.total,
      failingDomains: here.failing,
      warningDomains: here.warning,
      unknownDomains: here.unknown,
      newProblems: newProblems.length,
      resolved: resolved.length,
      stillFailing: stillFailing.length,
      unknown: unknown.length,
    },
    newProblems,
    resolved,
    stillFailing,
    unknown,
    byReseller,
    byCustomer,
    trend,
  };
}

/** The resellers that have at least one domain in the run (for per-reseller reports). */
export function resellersIn(run: RunSnapshot): string[] {
  const s = new Set<string>();
  for (const d of run.domains ?? []) if (d.reseller) s.add(d.reseller);
  return [...s].sort();
}
