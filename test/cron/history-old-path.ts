// The nightly report's history as it was read before QA scale S1 (src/cron/report.ts before the history was read in
// pieces): every chosen run whole through Store.runResults, evidence included, then made into snapshots. Frozen here,
// copied as it was, so that tests can compare what the report builds from it with what it builds now.
import type { Store, Run, AuditResult } from '../../src/adapters/store/store.js';
import type { CheckName, DomainAudit, Finding } from '../../src/core/model.js';
import type { DomainSnapshot, Producer, RecordLines, RunSnapshot } from '../../src/core/report/diff.js';
import { producerFromMeta } from '../../src/cron/report.js';

export function toSnapshotDomainOld(
  domain: string,
  owner: string | null,
  reseller: string | null,
  a: Pick<DomainAudit, 'status' | 'findings'>,
  records = false,
): DomainSnapshot {
  const snap: DomainSnapshot = {
    domain,
    owner,
    reseller,
    status: a.status,
    findings: a.findings
      .filter((f) => f.severity === 'fail' || f.severity === 'warn' || f.severity === 'unknown')
      .map((f) => ({
        rule: f.rule,
        check: f.check,
        severity: f.severity,
        subject: f.subject ?? null,
        message: f.message,
        ...(records ? { evidence: recordLinesOf(f) } : {}),
      })),
  };
  if (records) {
    const byCheck = new Map<CheckName, { panel: Set<string>; live: Set<string> }>();
    for (const f of a.findings) {
      const r = recordLinesOf(f);
      let into = byCheck.get(f.check);
      if (!into) byCheck.set(f.check, (into = { panel: new Set(), live: new Set() }));
      for (const l of r.panel) into.panel.add(l);
      for (const l of r.live) into.live.add(l);
    }
    const out: Partial<Record<CheckName, RecordLines>> = {};
    for (const [check, r] of byCheck) out[check] = { panel: [...r.panel], live: [...r.live] };
    snap.records = out;
  }
  return snap;
}

function recordLinesOf(f: Pick<Finding, 'evidence'>): RecordLines {
  const text = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const ev = (f.evidence ?? {}) as { panel?: unknown; live?: unknown };
  return { panel: text(ev.panel), live: text(ev.live) };
}

function resellerMapFromMeta(meta: unknown): Record<string, string> | null {
  if (meta && typeof meta === 'object' && 'resellers' in meta) {
    const r = (meta as { resellers: unknown }).resellers;
    if (r && typeof r === 'object') return r as Record<string, string>;
  }
  return null;
}

function recordedCount(r: Run): number {
  return Math.max(r.total ?? 0, r.done);
}

export function loadHistoryOld(
  store: Store,
  currentRunId: number,
  opts: { depth?: number; since?: 'last' | Date; resellers?: Record<string, string>; producer?: Producer } = {},
): { runs: RunSnapshot[]; truncated: boolean } {
  const depth = opts.depth ?? 30;
  const listed = store.listRuns({ kind: 'report', limit: Math.max(50, depth * 4) }).filter((r) => r.id !== currentRunId && r.id < currentRunId);
  const complete = listed.filter((r) => r.status === 'complete');
  const chosen = new Set(complete.slice(0, depth).map((r) => r.id));
  let pool: Run[] = listed;
  let truncated = complete.length > depth || listed.length >= Math.max(50, depth * 4);
  let sinceBase: { id: number; notLoadedAfter: number } | null = null;
  if (opts.since instanceof Date) {
    const limit = opts.since.getTime();
    const everyRun = store.listRuns({ kind: 'report', limit: 10_000 });
    const all = everyRun.filter((r) => r.id < currentRunId && r.status === 'complete');
    const counts = store.runResultCounts(all.map((r) => r.id));
    const whole = (r: Run) => (counts.get(r.id) ?? 0) >= recordedCount(r);
    const base = all.find((r) => Date.parse(r.startedAt) <= limit && whole(r)) ?? [...all].reverse().find(whole);
    if (base) {
      const oldestLoaded = Math.min(currentRunId, ...chosen);
      chosen.add(base.id);
      if (!pool.some((r) => r.id === base.id)) pool = [...pool, base];
      sinceBase = { id: base.id, notLoadedAfter: all.filter((r) => r.id > base.id && r.id < oldestLoaded).length };
    }
    const oldest = Math.min(...chosen);
    truncated = all.some((r) => r.id < oldest) || everyRun.length >= 10_000;
  }
  const runs: RunSnapshot[] = [];
  let compared: number | null = sinceBase?.id ?? null;
  for (const r of pool) {
    if (r.status !== 'complete') {
      runs.push({ runId: r.id, status: r.status, startedAt: r.startedAt, meta: r.meta });
      continue;
    }
    if (!chosen.has(r.id)) continue;
    const resellers = resellerMapFromMeta(r.meta) ?? opts.resellers ?? {};
    const results: AuditResult[] = store.runResults(r.id);
    const partial = results.length < recordedCount(r);
    const producer = producerFromMeta(r.meta);
    if (compared === null && !partial && !(opts.since instanceof Date)) compared = r.id;
    const records = compared === r.id && opts.producer !== undefined && (producer === null || producer.checks !== opts.producer.checks);
    runs.push({
      runId: r.id,
      status: 'complete',
      startedAt: r.startedAt,
      producer,
      domains: results.map((res) => toSnapshotDomainOld(res.domain, res.owner, res.owner ? (resellers[res.owner] ?? null) : null, res, records)),
      ...(partial ? { partial: true } : {}),
      ...(sinceBase?.id === r.id && sinceBase.notLoadedAfter > 0 ? { runsNotLoadedAfter: sinceBase.notLoadedAfter } : {}),
    });
  }
  return { runs, truncated };
}
