// QA (repro-report-half.sh): a night whose report met a busy history database as it was saved exited "locked" but left
// its run `complete` with no report — nothing mailed — and the next night compared with it, so that night's new
// problem was never reported. A run is now complete only together with its saved report (one transaction), a short
// busy spell is waited out, and a report that cannot be saved leaves the run not complete: the next night compares
// with the last night that has its report.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { openStore, StoreError, type Store } from '../../src/adapters/store/store.js';
import { runReport } from '../../src/cron/report.js';
import { countingLimiter, DAY, startWorld, type TestWorld } from './world.js';
import { holder, type DbHolder } from '../helpers/db-holder.js';

const key = (i: { domain: string; rule: string }) => `${i.domain} ${i.rule}`;
/** A stale HostGator include appears in clean.example's SPF: tonight's new problem. */
const NEW_PROBLEM = 'clean.example spf.stale-term';

/**
 * The store as the run sees it, with the database taken by `h` just as the report is first about to be saved (whichever
 * method saves it: saveReport before this fix, completeRunWithReport after) — as QA's preload did.
 */
function heldAtSave(store: Store, h: DbHolder): Store {
  let once = false;
  return new Proxy(store, {
    get(target, prop) {
      const v: unknown = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      const fn = (v as (...a: unknown[]) => unknown).bind(target);
      if (prop === 'saveReport' || prop === 'completeRunWithReport') {
        return (...a: unknown[]) => {
          if (!once) h.hold();
          once = true;
          return fn(...a);
        };
      }
      return fn;
    },
  });
}

describe('nightly report: the history database busy as the report is saved', () => {
  let w: TestWorld;
  let busyStore: Store;
  let h: DbHolder;
  beforeEach(async () => {
    w = await startWorld();
    const path = join(w.dir, 'mailhealth.sqlite');
    // The run's own connection waits only briefly for the lock (the default 2 s would only make the test slower).
    busyStore = openStore(path, { now: w.clock.now, busyTimeoutMs: 20 });
    h = holder(path);
  });
  afterEach(async () => {
    h.close();
    busyStore.close();
    await w.close();
  });

  async function nightOne() {
    const first = await runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter(), serverName: 'server1' });
    assert.ok(!first.doc.newProblems.map(key).includes(NEW_PROBLEM));
    w.clock.advance(DAY);
    w.editZone('clean.example', (t) => t.replace('include:relay.mailchannels.net ~all', 'include:relay.mailchannels.net include:websitewelcome.com ~all'));
    return first;
  }

  test('still busy after the tries: the run is left not complete with no report, the error is the store\'s locked; the next night reports the new problem', async () => {
    const first = await nightOne();
    const sleeps: number[] = [];
    const delivered: number[] = [];
    let error: unknown;
    await assert.rejects(
      runReport({
        store: heldAtSave(busyStore, h),
        panel: w.panel,
        resolver: w.resolver(),
        limiter: countingLimiter(),
        serverName: 'server1',
        // The database stays held through every wait.
        sleep: async (ms) => void sleeps.push(ms),
        deliver: async (oc) => void delivered.push(oc.runId),
      }),
      // The store's busy error (the CLI: exit 1, code locked).
      (e: unknown) => ((error = e), e instanceof StoreError && e.code === 'locked' && e.heldLock === undefined),
    );
    assert.deepEqual(delivered, [], 'nothing delivered');
    h.release();

    const [second] = w.store.listRuns({ kind: 'report', limit: 1 });
    assert.notEqual(second.id, first.runId);
    assert.notEqual(second.status, 'complete', 'never complete without its report');
    assert.equal(w.store.getReport(second.id), null);
    assert.match((error as Error).message, new RegExp(`^report run ${second.id}: the report could not be saved, the run is left not complete: .*locked`));
    assert.ok(sleeps.length >= 3, `the busy spell was waited out before giving up (${sleeps.join(', ')})`);

    // Night 3 (the next day: the report lock the busy database kept from being released has run out) compares with
    // night 1, the last night with a report: the new problem is reported.
    w.clock.advance(DAY);
    const third = await runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter(), serverName: 'server1' });
    assert.equal(third.previousRunId, first.runId);
    assert.ok(third.doc.newProblems.map(key).includes(NEW_PROBLEM), third.doc.newProblems.map(key).join(', '));
    assert.equal(w.store.getRun(second.id)?.status, 'interrupted');
    assert.ok(third.doc.skippedRuns.some((r) => r.runId === second.id));
  });

  test('a short busy spell is waited out: the run completes with its report, which is delivered', async () => {
    await nightOne();
    const sleeps: number[] = [];
    const delivered: number[] = [];
    const second = await runReport({
      store: heldAtSave(busyStore, h),
      panel: w.panel,
      resolver: w.resolver(),
      limiter: countingLimiter(),
      serverName: 'server1',
      // The other process commits during the first wait.
      sleep: async (ms) => {
        sleeps.push(ms);
        h.release();
      },
      deliver: async (oc) => void delivered.push(oc.runId),
    });
    assert.ok(sleeps.length >= 1);
    assert.equal(w.store.getRun(second.runId)?.status, 'complete');
    assert.ok(w.store.getReport(second.runId), 'the report is saved with the run');
    assert.deepEqual(delivered, [second.runId]);
    assert.ok(second.doc.newProblems.map(key).includes(NEW_PROBLEM));
  });

  test('a run marked interrupted meanwhile (its lock taken over) is not completed: no report, ReportInterruptedError', async () => {
    await nightOne();
    const store = new Proxy(w.store, {
      get(target, prop) {
        const v: unknown = Reflect.get(target, prop, target);
        if (typeof v !== 'function') return v;
        const fn = (v as (...a: unknown[]) => unknown).bind(target);
        if (prop !== 'completeRunWithReport') return fn;
        return (runId: number, ...rest: unknown[]) => {
          target.finishRun(runId, 'interrupted'); // another process's markStaleRuns, just before
          return fn(runId, ...rest);
        };
      },
    });
    const delivered: number[] = [];
    await assert.rejects(
      runReport({ store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter(), deliver: async (oc) => void delivered.push(oc.runId) }),
      /interrupted: it was marked interrupted by another process before its report was saved/,
    );
    const [run] = w.store.listRuns({ kind: 'report', limit: 1 });
    assert.equal(run.status, 'interrupted');
    assert.equal(w.store.getReport(run.id), null);
    assert.deepEqual(delivered, []);
  });
});
