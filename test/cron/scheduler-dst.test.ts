import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nextRuns, plannedRuns, startScheduler } from '../../src/cron/scheduler.js';
import { fakeSchedule } from './fake-schedule.js';

// Daylight saving: the nightly report runs once every local day. In America/New_York the clocks go back from 02:00
// EDT to 01:00 EST on 2026-11-01 (01:30 happens twice: 05:30Z and 06:30Z) and forward from 02:00 EST to 03:00 EDT
// on 2027-03-14 (02:30 does not happen; 07:00Z is the first moment after the gap).
const NY = 'America/New_York';
const iso = (ds: Date[]) => ds.map((d) => d.toISOString());

describe('nextRuns across daylight-saving changes', () => {
  test('the repeated hour runs once', () => {
    assert.deepEqual(iso(nextRuns('30 1 * * *', NY, new Date('2026-10-31T12:00:00Z'), 3)), ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z', '2026-11-03T06:30:00.000Z']);
    // Asked during the repeated hour, after the first 01:30: the next run is the next day's.
    assert.deepEqual(iso(nextRuns('30 1 * * *', NY, new Date('2026-11-01T06:10:00Z'), 1)), ['2026-11-02T06:30:00.000Z']);
    // Lord Howe Island moves 30 minutes: 01:45 repeats on 2027-04-04.
    assert.deepEqual(iso(nextRuns('45 1 * * *', 'Australia/Lord_Howe', new Date('2027-04-03T00:00:00Z'), 2)), ['2027-04-03T14:45:00.000Z', '2027-04-04T15:15:00.000Z']);
  });

  test('a local time skipped by the gap runs at the first moment after it, flagged as a catch-up', () => {
    assert.deepEqual(plannedRuns('30 2 * * *', NY, new Date('2027-03-13T12:00:00Z'), 2), [
      { at: new Date('2027-03-14T07:00:00Z'), catchUp: true },
      { at: new Date('2027-03-15T06:30:00Z'), catchUp: false },
    ]);
    // Several times in the gap: one run. The day fields still count (2027-03-14 is a Sunday).
    assert.deepEqual(iso(nextRuns('*/20 2 * * *', NY, new Date('2027-03-14T05:00:00Z'), 2)), ['2027-03-14T07:00:00.000Z', '2027-03-15T06:00:00.000Z']);
    assert.deepEqual(iso(nextRuns('30 2 * * 1', NY, new Date('2027-03-10T12:00:00Z'), 1)), ['2027-03-15T06:30:00.000Z']);
    assert.deepEqual(iso(nextRuns('30 2 * * 0', NY, new Date('2027-03-10T12:00:00Z'), 1)), ['2027-03-14T07:00:00.000Z']);
    // A catch-up that is also a scheduled time (03:00) is one run, node-cron's.
    assert.deepEqual(plannedRuns('0 2,3 * * *', NY, new Date('2027-03-14T05:00:00Z'), 2), [
      { at: new Date('2027-03-14T07:00:00Z'), catchUp: false },
      { at: new Date('2027-03-15T06:00:00Z'), catchUp: false },
    ]);
  });
});

function clock(start: string) {
  const c = { t: Date.parse(start), now: () => new Date(c.t), set: (s: string) => void (c.t = Date.parse(s)) };
  return c;
}

/** Timers that run only when the test says so; `live` are those armed, neither cleared nor run. */
function fakeTimers() {
  const armed: { fn: () => void; ms: number; done: boolean }[] = [];
  return {
    live: () => armed.filter((a) => !a.done),
    setTimer: (fn: () => void, ms: number) => {
      const a = {
        fn: () => {
          a.done = true;
          fn();
        },
        ms,
        done: false,
      };
      armed.push(a);
      return { clear: () => void (a.done = true) };
    },
  };
}

const settle = () => new Promise<void>((r) => setImmediate(r));

describe('scheduler across daylight-saving changes', () => {
  test('node-cron firing again when 01:30 comes round a second time: ignored and logged', async () => {
    const fake = fakeSchedule();
    const c = clock('2026-10-31T12:00:00Z');
    const logs: string[] = [];
    let runs = 0;
    startScheduler({ cronExpr: '30 1 * * *', timezone: NY, run: async () => void runs++, schedule: fake.schedule, log: (m) => logs.push(m), now: c.now, setTimer: fakeTimers().setTimer });
    const fire = fake.calls[0].fn;
    c.set('2026-11-01T05:30:00.004Z');
    await fire();
    c.set('2026-11-01T06:30:00.002Z');
    await fire();
    assert.equal(runs, 1);
    assert.ok(logs.some((l) => /2026-11-01 01:30:00 America\/New_York came round again .*already ran for it at 2026-11-01T05:30:00\.004Z, this tick is ignored/.test(l)), logs.join('\n'));
    c.set('2026-11-02T06:30:00.001Z');
    await fire();
    assert.equal(runs, 2, 'the next day runs');
  });

  test('02:30 on the spring-forward day: a timer runs it right after the gap, once', async () => {
    const fake = fakeSchedule();
    const timers = fakeTimers();
    const c = clock('2027-03-13T07:30:00Z'); // just after the 13th's run
    const logs: string[] = [];
    const fired: string[] = [];
    const s = startScheduler({ cronExpr: '30 2 * * *', timezone: NY, run: async (ctx) => void fired.push(ctx.firedAt.toISOString()), schedule: fake.schedule, log: (m) => logs.push(m), now: c.now, setTimer: timers.setTimer });
    assert.equal(timers.live().length, 1);
    assert.equal(timers.live()[0].ms, Date.parse('2027-03-14T07:00:00Z') - c.t);
    c.set('2027-03-14T07:00:00Z');
    timers.live()[0].fn();
    await settle();
    assert.deepEqual(fired, ['2027-03-14T07:00:00.000Z']);
    assert.ok(logs.some((l) => /did not exist today \(America\/New_York: the clocks went forward/.test(l)), logs.join('\n'));
    // Next is the 15th's 02:30, node-cron's own: no timer.
    assert.equal(timers.live().length, 0);
    c.set('2027-03-15T06:30:00.003Z');
    await fake.calls[0].fn();
    assert.equal(fired.length, 2);
    await s.stop();
  });

  test('a catch-up weeks away is re-checked daily; reschedule and stop clear it', async () => {
    const fake = fakeSchedule();
    const timers = fakeTimers();
    const c = clock('2027-03-01T12:00:00Z');
    let runs = 0;
    const s = startScheduler({ cronExpr: '30 2 14 3 *', timezone: NY, run: async () => void runs++, schedule: fake.schedule, now: c.now, setTimer: timers.setTimer });
    assert.equal(timers.live()[0].ms, 24 * 3600_000);
    c.set('2027-03-02T12:00:00Z');
    timers.live()[0].fn();
    await settle();
    assert.equal(runs, 0, 'not due yet');
    assert.equal(timers.live().length, 1, 're-armed');
    assert.equal(s.reschedule('30 3 14 3 *', NY), true);
    assert.equal(timers.live().length, 0, '03:30 exists: node-cron runs it');
    s.reschedule('30 2 14 3 *', NY);
    assert.equal(timers.live().length, 1);
    await s.stop();
    assert.equal(timers.live().length, 0);
  });
});
