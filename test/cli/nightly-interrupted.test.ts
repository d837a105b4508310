// Review r1, design gap: at start, catchUpMissedNights took any recorded run — interrupted ones included — as that
// night's report. An upgrade now stops the service (install/lib.sh install_app), so an upgrade during the 03:00 run
// lost that night's report: the run was interrupted by the stop, and the new process saw "the night has its run".
// Now the slot's own run, cut short by a stop (interrupted, or left running by a killed process), is caught up once, as
// a missed night is. Never twice: a second run since the slot (the catch-up itself, interrupted or crashed too; a run by
// hand) ends it, and a run that started later than the catch-up delay after its slot is not taken for the slot's own
// (a catch-up cannot start earlier) — so a crash loop does not repeat the report on every start. A failed night
// (panel or database: recorded and told to the admin) stays that night's outcome.
// The scheduler's clock and timers are injected: nothing waits for the wall clock.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { NIGHT1, DAY, type TestWorld } from '../cron/world.js';
import { MISSED_NIGHT_DELAY_MS, startWorldForNights, type StartWorld } from './nightly-start-world.js';
import { fakeSchedule } from '../cron/fake-schedule.js';

const SLOT = NIGHT1 + DAY; // 2026-01-02T03:00Z

describe('the service started after a stop that cut the night\'s report short', () => {
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
  const start: StartWorld['start'] = (now, fake) => s.start(now, fake);
  const live = () => s.live();
  const caughtUp = () => logs.filter((l) => /did not (finish|happen)/.test(l));

  async function untilIdle(n: ReturnType<typeof start>): Promise<void> {
    while (n.scheduler.isRunning()) await new Promise((r) => setImmediate(r));
  }

  test('an upgrade during the 03:00 run: that night\'s report runs once, 5 minutes after the start', async () => {
    recordedRun(NIGHT1, 'complete');
    const cut = recordedRun(SLOT + 20_000, 'interrupted'); // the panel listed, then the stop at 03:01
    const n = start(SLOT + 90_000);
    try {
      assert.deepEqual(caughtUp(), [
        `nightly report: the run due at 2026-01-02T03:00:00.000Z (UTC) did not finish: run ${cut}, started 2026-01-02T03:00:20.000Z, was interrupted by the stop before this start; ` +
          'the report runs once in 5 minutes (once only: not again if that run is interrupted too), and compares with the last complete run',
      ]);
      assert.deepEqual(live().map((a) => a.ms), [MISSED_NIGHT_DELAY_MS]);
      w.clock.advance(MISSED_NIGHT_DELAY_MS);
      live()[0].fn();
      assert.equal(n.scheduler.isRunning(), true, 'the night runs again');
      await untilIdle(n);
      const runs = w.store.listRuns({ kind: 'report' });
      assert.equal(runs.length, 3);
      assert.equal(runs[0].status, 'complete', logs.join('\n'));
    } finally {
      await n.stop();
    }
    // Started again later that day: the night has its report.
    logs = [];
    const m = start(SLOT + 3_600_000);
    await m.stop();
    assert.deepEqual(caughtUp(), []);
  });

  test('end to end: the service stopped during its 03:00 run (systemctl stop for an upgrade), started again: the night runs', async () => {
    recordedRun(NIGHT1, 'complete');
    const fake = fakeSchedule();
    const n = start(SLOT - 3_600_000, fake);
    w.clock.t = SLOT;
    const fired = fake.calls[0].fn(); // node-cron's 03:00 tick
    await n.stop(); // the stop aborts the run in progress
    await fired;
    const cut = w.store.listRuns({ kind: 'report' })[0];
    assert.equal(cut.status, 'interrupted', logs.join('\n'));
    assert.equal(cut.startedAt, '2026-01-02T03:00:00.000Z');
    const m = start(SLOT + 60_000);
    try {
      assert.match(caughtUp()[0] ?? '', new RegExp(`the run due at 2026-01-02T03:00:00\\.000Z \\(UTC\\) did not finish: run ${cut.id}`), logs.join('\n'));
      w.clock.advance(MISSED_NIGHT_DELAY_MS);
      live()[0].fn();
      await untilIdle(m);
      assert.equal(w.store.listRuns({ kind: 'report' })[0].status, 'complete', logs.join('\n'));
    } finally {
      await m.stop();
    }
  });

  test('the slot\'s run left running by a killed process (a crash, kill -9): caught up once', async () => {
    const cut = recordedRun(SLOT + 5_000, 'running');
    const n = start(SLOT + 60_000);
    try {
      assert.match(caughtUp()[0] ?? '', new RegExp(`did not finish: run ${cut}, started 2026-01-02T03:00:05\\.000Z, was left running by the stop before this start`));
      assert.deepEqual(live().map((a) => a.ms), [MISSED_NIGHT_DELAY_MS]);
    } finally {
      await n.stop();
    }
  });

  test('the catch-up interrupted too (a second stop, a crash loop): not run again', async () => {
    recordedRun(SLOT + 20_000, 'interrupted');
    recordedRun(SLOT + 90_000 + MISSED_NIGHT_DELAY_MS, 'running'); // the catch-up, its process killed
    const n = start(SLOT + 600_000);
    await n.stop();
    assert.deepEqual(caughtUp(), [], logs.join('\n'));
    assert.deepEqual(timers, []);
  });

  test('a missed night\'s catch-up that was interrupted (the only run since the slot, started after the delay): not run again', async () => {
    recordedRun(NIGHT1, 'complete');
    // Down across 03:00, started 03:30: the catch-up at 03:35 — then stopped again.
    recordedRun(SLOT + 35 * 60_000, 'interrupted');
    const n = start(SLOT + 40 * 60_000);
    await n.stop();
    assert.deepEqual(caughtUp(), [], logs.join('\n'));
    assert.deepEqual(timers, []);
  });

  test('restarted again and again before the catch-up fires: one pending catch-up per start, no run until it fires', async () => {
    recordedRun(SLOT + 20_000, 'interrupted');
    for (const at of [SLOT + 60_000, SLOT + 120_000, SLOT + 180_000]) {
      const n = start(at);
      await n.stop();
    }
    assert.equal(w.store.listRuns({ kind: 'report' }).length, 1, 'nothing ran');
    assert.equal(caughtUp().length, 3);
  });

  test('a failed night (the panel could not be read: recorded, the admin told) is that night\'s outcome: not run again', async () => {
    w.clock.t = SLOT + 2_000;
    w.store.recordFailedRun('report', 'root', { failed: 'panel', reason: 'connection refused' });
    const n = start(SLOT + 600_000);
    await n.stop();
    assert.deepEqual(caughtUp(), [], logs.join('\n'));
    assert.deepEqual(timers, []);
  });

  test('a complete run, or a slot still to come: nothing to catch up', async () => {
    recordedRun(SLOT + 20_000, 'complete');
    const n = start(SLOT + 600_000);
    await n.stop();
    // A run by hand at midnight, interrupted: no slot's own run (hours after 03:00), and the next slot is to come.
    recordedRun(SLOT + DAY - 3 * 3_600_000, 'interrupted');
    const m = start(SLOT + DAY - 3_600_000);
    await m.stop();
    assert.deepEqual(caughtUp(), [], logs.join('\n'));
    assert.deepEqual(timers, []);
  });
});
