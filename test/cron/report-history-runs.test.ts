// Which earlier runs the nightly report loads (review R4): the last complete run however many runs failed after it
// (item 3), and a streak reaching the oldest run kept as a lower bound once prune has deleted whole complete runs
// (item 2). The store is written directly (no DNS): each night one result per domain.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import type { Finding } from '../../src/core/model.js';
import { buildReport, type RunSnapshot } from '../../src/core/report/diff.js';
import { renderReport } from '../../src/core/report/render.js';
import { loadHistory } from '../../src/cron/report.js';

const DAY = 86_400_000;
const STALE: Finding = { rule: 'lockdown.stale-auth', check: 'lockdown', severity: 'fail', subject: 'auth=dreamhost', message: 'stale', evidence: {} };

function world(): { store: Store; clock: { t: number }; close(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'helperF2-history-'));
  const clock = { t: Date.parse('2026-01-01T03:00:00.000Z') };
  const store = openStore(join(dir, 'h.sqlite'), { now: () => clock.t });
  return { store, clock, close: () => (store.close(), rmSync(dir, { recursive: true, force: true })) };
}

/** One complete report night: a.example failing lockdown.stale-auth. Returns the run id. */
function night(store: Store, clock: { t: number }): number {
  const run = store.startRun('report', 'root', 1, {});
  const audit = { domain: 'a.example', status: 'fail' as const, auditedAt: new Date(clock.t).toISOString(), findings: [STALE] };
  store.recordAudits(run, [{ audit, owner: 'alice' }], { done: 1 });
  assert.ok(store.completeRunWithReport(run, { json: {}, html: '', text: '' }));
  return run;
}

/** Tonight's run (audited, not yet complete), as runReport has it when it loads the history. */
function tonight(store: Store, clock: { t: number }): { runId: number; current: RunSnapshot } {
  const runId = store.startRun('report', 'root', 1, {});
  const current: RunSnapshot = {
    runId,
    status: 'complete',
    startedAt: new Date(clock.t).toISOString(),
    domains: [{ domain: 'a.example', owner: 'alice', reseller: null, status: 'fail', findings: [{ rule: STALE.rule, check: STALE.check, severity: 'fail', subject: STALE.subject ?? null }] }],
  };
  return { runId, current };
}

describe('loadHistory: the last complete run however many runs failed after it', () => {
  test('more failed runs than the old window of runs of any status (max(50, depth × 4)): still compared with the last complete run', async () => {
    const w = world();
    try {
      const first = night(w.store, w.clock);
      // An hourly report while the panel is down: more failed runs than the 50 runs the old window listed at depth 5.
      const FAILED = 60;
      for (let i = 0; i < FAILED; i++) {
        w.clock.t += 3_600_000;
        w.store.recordFailedRun('report', 'root', { failed: 'panel', reason: 'connect ECONNREFUSED 127.0.0.1:2087' });
      }
      w.clock.t += DAY;
      const { runId, current } = tonight(w.store, w.clock);
      const history = await loadHistory(w.store, runId, { depth: 5 });
      assert.deepEqual(history.runs.filter((r) => r.status === 'complete').map((r) => r.runId), [first]);
      const doc = buildReport({ current, runs: history.runs, historyTruncated: history.truncated });
      assert.equal(doc.previousRunId, first);
      assert.equal(doc.newProblems.length, 0);
      assert.deepEqual(doc.stillFailing.map((s) => [s.rule, s.nights]), [['lockdown.stale-auth', 2]]);
      // Every failed run since is listed under Skipped, with why.
      assert.equal(doc.skippedRuns.length, FAILED);
      assert.ok(doc.skippedRuns.every((r) => r.failed === 'panel'));
      assert.match(renderReport(doc, { baseUrl: null, serverName: 's' }).text, new RegExp(`compared with run ${first} `));
    } finally {
      w.close();
    }
  });

  test('failed runs before the oldest complete run loaded are not listed (nothing is compared across them)', async () => {
    const w = world();
    try {
      w.store.recordFailedRun('report', 'root', { failed: 'panel', reason: 'x' });
      w.clock.t += DAY;
      const n1 = night(w.store, w.clock);
      w.clock.t += DAY;
      const failed = w.store.recordFailedRun('report', 'root', { failed: 'panel', reason: 'y' });
      w.clock.t += DAY;
      const n2 = night(w.store, w.clock);
      w.clock.t += DAY;
      const { runId, current } = tonight(w.store, w.clock);
      const history = await loadHistory(w.store, runId, { depth: 5 });
      assert.deepEqual(history.runs.map((r) => r.runId).sort((a, b) => a - b), [n1, failed, n2]);
      const doc = buildReport({ current, runs: history.runs, historyTruncated: history.truncated });
      assert.equal(doc.previousRunId, n2);
      assert.deepEqual(doc.skippedRuns, []);
      assert.deepEqual(doc.stillFailing.map((s) => [s.nights, s.nightsAtLeast ?? false]), [[3, false]]);
    } finally {
      w.close();
    }
  });
});

describe('loadHistory: complete runs prune deleted whole', () => {
  test('a streak reaching the oldest run kept is "at least" once prune has deleted older complete runs', async () => {
    const w = world();
    try {
      // Eight nights, pruned to 3 days after each, as the service does.
      for (let i = 0; i < 8; i++) {
        night(w.store, w.clock);
        w.store.prune({ olderThanDays: 3 });
        w.clock.t += DAY;
      }
      const kept = w.store.listRuns({ kind: 'report' }).map((r) => r.id);
      assert.ok(kept.length < 8, `prune deleted whole runs (kept ${kept.join(', ')})`);
      assert.ok(w.store.newestPrunedReportRun()! < Math.min(...kept));
      const { runId, current } = tonight(w.store, w.clock);
      const history = await loadHistory(w.store, runId);
      assert.equal(history.truncated, true);
      const doc = buildReport({ current, runs: history.runs, historyTruncated: history.truncated });
      const s = doc.stillFailing[0];
      assert.equal(s.nights, kept.length + 1);
      assert.equal(s.nightsAtLeast, true);
      assert.match(renderReport(doc, { baseUrl: null, serverName: 's' }).text, new RegExp(`lockdown\\.stale-auth \\(auth=dreamhost\\)  — alice; at least ${kept.length + 1} nights`));
    } finally {
      w.close();
    }
  });

  test('only a failed run deleted: the streak is exact', async () => {
    const w = world();
    try {
      const failed = w.store.recordFailedRun('report', 'root', { failed: 'panel', reason: 'x' });
      w.clock.t += DAY;
      for (let i = 0; i < 3; i++) {
        night(w.store, w.clock);
        w.clock.t += DAY;
      }
      // To 3 days: the failed run (4 days old, no results) goes; the 3 complete runs are kept whole (one per day kept).
      w.store.prune({ olderThanDays: 3 });
      assert.equal(w.store.getRun(failed), null);
      assert.equal(w.store.listRuns({ kind: 'report', complete: true }).length, 3);
      assert.equal(w.store.newestPrunedReportRun(), null);
      const { runId, current } = tonight(w.store, w.clock);
      const history = await loadHistory(w.store, runId);
      assert.equal(history.truncated, false);
      const s = buildReport({ current, runs: history.runs, historyTruncated: history.truncated }).stillFailing[0];
      assert.deepEqual([s.nights, s.nightsAtLeast ?? false], [4, false]);
    } finally {
      w.close();
    }
  });
});
