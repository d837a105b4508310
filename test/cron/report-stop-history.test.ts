// A stop (the service stopping: the scheduler's AbortSignal) while the report reads the earlier nights ends the run at
// the next turn of the event loop — left interrupted with its audits kept, no report saved — instead of waiting for the
// whole history load (~12 s at 10,000 domains: scale QA). The next night compares with the last complete run.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Store } from '../../src/adapters/store/store.js';
import { ReportInterruptedError, runReport } from '../../src/cron/report.js';
import { countingLimiter, DAY, startWorld, type TestWorld } from './world.js';

let w: TestWorld;
before(async () => {
  w = await startWorld();
});
after(() => w?.close());

test('aborted while the earlier nights are read: interrupted at once, audits kept, no report; the next night compares with the last complete one', async () => {
  const first = await runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter() });
  w.clock.advance(DAY);
  const second = await runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter() });
  w.clock.advance(DAY);

  // The stop comes when the history load asks for the first earlier night's results (every audit is written by then).
  const ac = new AbortController();
  const reads: number[] = [];
  const store = new Proxy(w.store, {
    get(target, p) {
      if (p === 'runResultIds') {
        return (runId: number) => {
          reads.push(runId);
          ac.abort();
          return target.runResultIds(runId);
        };
      }
      const v = Reflect.get(target, p, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as Store;
  const err = await runReport({ store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter(), signal: ac.signal }).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof ReportInterruptedError, String(err));
  // It stopped after the first earlier night, not after reading both.
  assert.deepEqual(reads, [second.runId]);
  const stopped = err.runId;
  assert.equal(w.store.getRun(stopped)?.status, 'interrupted');
  assert.equal(w.store.runResults(stopped).length, 6, 'the night\'s audits are kept');
  assert.equal(w.store.getReport(stopped), null, 'no report saved for it');

  w.clock.advance(DAY);
  const next = await runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter() });
  assert.equal(next.doc.previousRunId, second.runId);
  assert.ok(first.runId < second.runId);
});
