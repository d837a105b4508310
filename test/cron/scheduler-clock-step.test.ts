// The nightly report's scheduler when the wall clock is set back, and when the schedule's time zone changes (QA h4
// items 4 and 12). The real node-cron runs under two clocks (clock-harness.ts): its timers wait durations, Date is the
// wall clock the test steps.
//   4: a clock a week fast, corrected while the service ran — node-cron kept waiting for the slot it had computed
//      under the wrong clock: no report for a week, nothing logged. The scheduler now notices the step within a minute,
//      makes node-cron's task again from the corrected time and says so.
//   12: a time zone changed westward after the night's run — the next slot (named by nextRuns) was ignored as "came
//      round again (the clocks went back for daylight saving)": fire() compared local times of two zones.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startScheduler } from '../../src/cron/scheduler.js';
import { twoClocks } from './clock-harness.js';
import { fakeSchedule } from './fake-schedule.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

function clock(start: string) {
  const c = { t: Date.parse(start), now: () => new Date(c.t), set: (s: string) => void (c.t = Date.parse(s)) };
  return c;
}

describe('the wall clock set back while the service runs (real node-cron, two clocks)', () => {
  test('a clock 7 days fast, corrected: every night after the correction has its report, and the log says what happened', async () => {
    const clocks = twoClocks('2027-03-08T02:00:00Z'); // really 2027-03-01T02:00Z
    const runs: string[] = [];
    const logs: string[] = [];
    const s = startScheduler({ cronExpr: '0 3 * * *', timezone: 'UTC', monotonic: () => clocks.mono, log: (m) => logs.push(m), run: async ({ firedAt }) => void runs.push(firedAt.toISOString()) });
    try {
      await clocks.advance(2 * HOUR);
      assert.deepEqual(runs, ['2027-03-08T03:00:00.000Z'], 'the run by the fast clock');
      clocks.step(-7 * DAY); // 2027-03-08T04:00 → 2027-03-01T04:00: the admin / NTP corrects the clock
      await clocks.advance(10 * DAY - 2 * HOUR, 10 * MIN);
      assert.deepEqual(runs.slice(1), ['02', '03', '04', '05', '06', '07', '08', '09', '10'].map((d) => `2027-03-${d}T03:00:00.000Z`));
      const said = logs.find((l) => /clock was set back/.test(l));
      assert.ok(said, logs.join('\n'));
      assert.match(said!, /^nightly report: the server's clock was set back by 7 d 0 h \(it reads 2027-03-01T04:0\d:\d\d\.\d{3}Z\); the schedule "0 3 \* \* \*" \(UTC\) is taken up again from the corrected time, next run 2027-03-02T03:00:00\.000Z$/);
    } finally {
      await Promise.race([s.stop(), clocks.advance(0)]);
      clocks.restore();
    }
  });

  test('a clock an hour fast, corrected after the run: no second report that night (same local time), the next night runs', async () => {
    const clocks = twoClocks('2027-03-01T02:30:00Z'); // really 01:30
    const runs: string[] = [];
    const logs: string[] = [];
    const s = startScheduler({ cronExpr: '0 3 * * *', timezone: 'UTC', monotonic: () => clocks.mono, log: (m) => logs.push(m), run: async ({ firedAt }) => void runs.push(firedAt.toISOString()) });
    try {
      await clocks.advance(HOUR); // the fast clock reads 03:30: ran at its 03:00
      clocks.step(-HOUR); // 02:30
      await clocks.advance(DAY + HOUR); // to 2027-03-02T03:30Z
      assert.deepEqual(runs, ['2027-03-01T03:00:00.000Z', '2027-03-02T03:00:00.000Z']);
      assert.ok(logs.some((l) => /2027-03-01 03:00:00 UTC came round again \(the server's clock was set back by 60 min\); the report already ran for it at 2027-03-01T03:00:00\.000Z by the clock before the step, this tick is ignored/.test(l)), logs.join('\n'));
      assert.ok(!logs.some((l) => /daylight saving/.test(l)), logs.join('\n'));
    } finally {
      await Promise.race([s.stop(), clocks.advance(0)]);
      clocks.restore();
    }
  });

  test('checkClock: a step back of less than 30 s, or any step forward, changes nothing', () => {
    const fake = fakeSchedule();
    let mono = 0;
    const c = clock('2027-03-01T12:00:00Z');
    const logs: string[] = [];
    let watch: (() => void) | null = null;
    const s = startScheduler({
      cronExpr: '0 3 * * *',
      timezone: 'UTC',
      schedule: fake.schedule,
      now: c.now,
      monotonic: () => mono,
      setTimer: () => ({ clear() {} }),
      every: (fn, ms) => {
        assert.equal(ms, 60_000); // CLOCK_CHECK_MS
        watch = fn;
        return { clear() {} };
      },
      log: (m) => logs.push(m),
      run: async () => {},
    });
    mono += MIN;
    c.t += MIN - 29_000;
    assert.equal(s.checkClock(), false);
    mono += MIN;
    c.t += MIN + 3 * HOUR;
    watch!();
    assert.equal(fake.calls.length, 1, 'a step forward over no slot makes no new task');
    mono += MIN;
    c.t += MIN - 31_000;
    watch!();
    assert.equal(fake.calls.length, 2, 'a new task');
    assert.equal(fake.destroyed(), 1, 'the old one destroyed');
    assert.ok(logs.some((l) => /clock was set back by 31 s/.test(l)), logs.join('\n'));
    void s.stop();
  });
});

describe('the time zone changed after the night ran (fake node-cron)', () => {
  for (const [zone, at, next] of [
    ['America/Los_Angeles', '2027-03-01T10:00:00Z', '2027-03-01T11:00:00.000Z'],
    ['Atlantic/Azores', '2027-03-01T03:10:00Z', '2027-03-01T04:00:00.000Z'], // UTC-1: the next 03:00 an hour later
  ] as const) {
    test(`UTC → ${zone}: the slot nextRuns names runs, no daylight-saving message`, async () => {
      const fake = fakeSchedule();
      const c = clock('2027-03-01T02:00:00Z');
      const logs: string[] = [];
      const runs: string[] = [];
      const s = startScheduler({ cronExpr: '0 3 * * *', timezone: 'UTC', schedule: fake.schedule, now: c.now, setTimer: () => ({ clear() {} }), every: () => ({ clear() {} }), log: (m) => logs.push(m), run: async ({ firedAt }) => void runs.push(firedAt.toISOString()) });
      c.set('2027-03-01T03:00:00Z');
      await fake.calls[0].fn();
      c.set(at);
      assert.equal(s.reschedule('0 3 * * *', zone), true);
      assert.equal(s.nextRuns(1)[0].toISOString(), next);
      c.set(next);
      await fake.calls[fake.calls.length - 1].fn();
      assert.deepEqual(runs, ['2027-03-01T03:00:00.000Z', next]);
      assert.ok(!logs.some((l) => /came round again/.test(l)), logs.join('\n'));
      await s.stop();
    });
  }
});
