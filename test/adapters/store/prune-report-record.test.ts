// Store.prune records the newest complete report run it deleted whole (review R4, item 2: a night prune took left no
// trace, so the report showed a cut-off streak as exact), and listRuns filters by complete/unfinished and by id.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore, PRUNED_REPORT_RUN, type Store } from '../../../src/adapters/store/store.js';

const DAY = 86_400_000;

function withStore(fn: (store: Store, clock: { t: number }) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'helperF2-prune-'));
  const clock = { t: Date.parse('2026-03-01T03:00:00.000Z') };
  const store = openStore(join(dir, 'h.sqlite'), { now: () => clock.t });
  try {
    fn(store, clock);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function complete(store: Store, kind: 'report' | 'audit', clock: { t: number }): number {
  const run = store.startRun(kind, 'root', 1, {});
  const audit = { domain: 'a.example', status: 'pass' as const, auditedAt: new Date(clock.t).toISOString(), findings: [] };
  store.recordAudits(run, [{ audit, owner: 'alice' }], { done: 1 });
  if (kind === 'report') assert.ok(store.completeRunWithReport(run, { json: {}, html: '', text: '' }));
  else store.finishRun(run, 'complete');
  return run;
}

test('prune records the newest complete report run it deleted, never an older one over it', () => {
  withStore((store, clock) => {
    const reports: number[] = [];
    for (let i = 0; i < 6; i++) {
      reports.push(complete(store, 'report', clock));
      clock.t += DAY;
    }
    assert.equal(store.newestPrunedReportRun(), null);
    // To 2 days: the two newest complete runs are kept whole; the older ones lose their results (the domain's latest is
    // in a kept run) and go.
    store.prune({ olderThanDays: 2 });
    const left = store.listRuns({ kind: 'report' }).map((r) => r.id);
    const gone = reports.filter((id) => !left.includes(id));
    assert.ok(gone.length > 0);
    assert.equal(store.newestPrunedReportRun(), Math.max(...gone));
    assert.equal(store.getSetting(PRUNED_REPORT_RUN), Math.max(...gone));
    // A later prune that deletes nothing more keeps the record.
    store.prune({ olderThanDays: 2 });
    assert.equal(store.newestPrunedReportRun(), Math.max(...gone));
  });
});

test('failed report runs and other kinds of run deleted are not recorded', () => {
  withStore((store, clock) => {
    store.recordFailedRun('report', 'root', { failed: 'panel', reason: 'x' });
    complete(store, 'audit', clock);
    clock.t += DAY;
    complete(store, 'audit', clock);
    clock.t += 5 * DAY;
    complete(store, 'report', clock);
    clock.t += DAY;
    const out = store.prune({ olderThanDays: 2 });
    assert.ok(out.runs >= 2, `runs deleted: ${out.runs}`);
    assert.equal(store.newestPrunedReportRun(), null);
  });
});

test('listRuns: complete or not, after and before an id, newest first', () => {
  withStore((store, clock) => {
    const a = complete(store, 'report', clock);
    const f1 = store.recordFailedRun('report', 'root', { failed: 'panel' });
    const b = complete(store, 'report', clock);
    const f2 = store.recordFailedRun('report', 'root', { failed: 'panel' });
    complete(store, 'audit', clock);
    assert.deepEqual(store.listRuns({ kind: 'report', complete: true }).map((r) => r.id), [b, a]);
    assert.deepEqual(store.listRuns({ kind: 'report', complete: false }).map((r) => r.id), [f2, f1]);
    assert.deepEqual(store.listRuns({ kind: 'report', complete: false, afterId: b }).map((r) => r.id), [f2]);
    assert.deepEqual(store.listRuns({ kind: 'report', beforeId: b }).map((r) => r.id), [f1, a]);
    assert.deepEqual(store.listRuns({ kind: 'report', complete: true, limit: 1 }).map((r) => r.id), [b]);
  });
});
