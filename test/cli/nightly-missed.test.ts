// QA h4 item 13: the background service down at the report's slot (stopped, restarted for an upgrade, the server
// rebooting across 03:00) lost that night silently — node-cron only counts slots while it runs, nothing recorded that
// the night was missed, the next report did not mention it. Now, at start, the slots that passed since the last
// report run recorded are logged and the report runs once, a few minutes later (the panel may not answer right after a
// boot), as a slot missed while the process was paused or busy does. The scheduler's clock and timers are injected:
// nothing waits for the wall clock.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { NIGHT1, DAY, type TestWorld } from '../cron/world.js';
import { MISSED_NIGHT_DELAY_MS, startWorldForNights, type StartWorld } from './nightly-start-world.js';
import { fakeSchedule } from '../cron/fake-schedule.js';


describe('the service started after a night it was not running for', () => {
  let s: StartWorld;
  let w: TestWorld;
  let logs: string[];
  let timers: StartWorld['timers'];
  beforeEach(async () => {
    s = await startWorldForNights();
    ({ w, logs, timers } = s);
  });
  afterEach(() => w.close());

  const recordedRun: StartWorld['recordedRun'] = (at, status) => s.recordedRun(at, status);
  const start = (now: string) => s.start(Date.parse(now));
  const live = () => s.live();

  async function untilIdle(n: ReturnType<typeof start>): Promise<void> {
    while (n.scheduler.isRunning()) await new Promise((r) => setImmediate(r));
  }

  test('down across 03:00 (started 03:00:30): logged, and the report runs once, 5 minutes later', async () => {
    const first = recordedRun(NIGHT1); // 2026-01-01T03:00Z
    const n = start('2026-01-02T03:00:30Z');
    try {
      const said = logs.find((l) => /did not happen/.test(l));
      assert.ok(said, logs.join('\n'));
      assert.equal(
        said,
        `nightly report: the run due at 2026-01-02T03:00:00.000Z (UTC) did not happen: the service was not running (the last report run recorded, run ${first}, started 2026-01-01T03:00:00.000Z); the report runs once in 5 minutes, and compares with the last complete run`,
      );
      assert.deepEqual(live().map((a) => a.ms), [MISSED_NIGHT_DELAY_MS]);
      w.clock.advance(MISSED_NIGHT_DELAY_MS);
      live()[0].fn();
      assert.equal(n.scheduler.isRunning(), true, 'the missed night runs');
      await untilIdle(n);
      assert.ok(logs.some((l) => l === 'nightly report: the run due at 2026-01-02T03:00:00.000Z (UTC) was missed (the service was not running); running it now'), logs.join('\n'));
      const runs = w.store.listRuns({ kind: 'report' });
      assert.equal(runs.length, 2);
      assert.equal(runs[0].status, 'complete', logs.join('\n'));
      assert.equal(runs[0].startedAt, '2026-01-02T03:05:30.000Z');
      assert.equal(live().length, 0, 'once: nothing else pending');
    } finally {
      await n.stop();
    }
  });

  test('down for three nights: one line names them, one run', async () => {
    recordedRun(NIGHT1);
    const n = start('2026-01-04T09:00:00Z');
    try {
      assert.ok(logs.some((l) => /^nightly report: 3 runs due from 2026-01-02T03:00:00\.000Z to 2026-01-04T03:00:00\.000Z \(UTC\) did not happen: the service was not running/.test(l)), logs.join('\n'));
      assert.deepEqual(live().map((a) => a.ms), [MISSED_NIGHT_DELAY_MS]);
    } finally {
      await n.stop();
      assert.equal(live().length, 0, 'stopping clears it');
    }
  });

  test('a schedule every minute, down for two days: "more than 100", the latest slot named, one run', async () => {
    recordedRun(Date.parse('2026-01-02T03:00:00Z'));
    const n = s.start(Date.parse('2026-01-04T03:00:30Z'), undefined, '* * * * *');
    try {
      assert.ok(logs.some((l) => /^nightly report: more than 100 runs due from 2026-01-02T03:01:00\.000Z to 2026-01-04T03:00:00\.000Z \(UTC\) did not happen/.test(l)), logs.join('\n'));
      assert.deepEqual(live().map((a) => a.ms), [MISSED_NIGHT_DELAY_MS]);
    } finally {
      await n.stop();
    }
  });

  test('nothing missed: the last night has its run, or the slot is still to come', async () => {
    // 2026-01-02T03:00Z: that night ran. (One a stop cut short is caught up once: nightly-interrupted.test.ts.)
    recordedRun(NIGHT1 + DAY);
    const n = start('2026-01-02T10:00:00Z');
    await n.stop();
    const m = start('2026-01-03T02:59:00Z');
    await m.stop();
    assert.ok(!logs.some((l) => /did not happen/.test(l)), logs.join('\n'));
    assert.deepEqual(live(), []);
  });

  test('a new install (no report run recorded yet) has no night to catch up', async () => {
    const n = start('2026-01-05T12:00:00Z');
    await n.stop();
    assert.ok(!logs.some((l) => /did not happen/.test(l)), logs.join('\n'));
    assert.deepEqual(live(), []);
  });

  test('node-cron firing a slot before the delay is over: the catch-up does not run a second report', async () => {
    // A schedule every 10 minutes: down from 03:05 to 03:13:30, the 03:10 slot missed; node-cron fires 03:20 first
    // when the delay is longer.
    recordedRun(Date.parse('2026-01-02T03:00:00Z'));
    const fake = fakeSchedule();
    const n = s.start(Date.parse('2026-01-02T03:13:30Z'), fake, '*/10 * * * *');
    try {
      assert.ok(logs.some((l) => /the run due at 2026-01-02T03:10:00\.000Z \(UTC\) did not happen/.test(l)), logs.join('\n'));
      w.clock.t = Date.parse('2026-01-02T03:20:00Z');
      const fired = fake.calls[0].fn();
      await untilIdle(n);
      await fired;
      w.clock.t = Date.parse('2026-01-02T03:18:30Z') + MISSED_NIGHT_DELAY_MS;
      live()[0]?.fn();
      assert.equal(n.scheduler.isRunning(), false, 'the slot that fired meanwhile was the catch-up');
      assert.equal(w.store.listRuns({ kind: 'report' }).length, 2);
    } finally {
      await n.stop();
    }
  });
});
