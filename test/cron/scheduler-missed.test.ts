import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import { startScheduler } from '../../src/cron/scheduler.js';
import { fakeSchedule } from './fake-schedule.js';

// A slot node-cron misses (its timer more than 1 s late: a paused VM, a busy event loop) must not cost the night's
// report: it runs as soon as node-cron reports the miss, once, and never beside a run that is going.

function clock(start: string) {
  const c = { t: Date.parse(start), now: () => new Date(c.t), set: (s: string) => void (c.t = Date.parse(s)) };
  return c;
}

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

const settle = () => new Promise((r) => setImmediate(r));

describe('a missed slot', () => {
  test('runs at once, once for several missed slots', async () => {
    const fake = fakeSchedule();
    const timers = fakeTimers();
    const c = clock('2026-06-02T03:00:05Z');
    const logs: string[] = [];
    const runs: string[] = [];
    const s = startScheduler({ schedule: fake.schedule, setTimer: timers.setTimer, now: c.now, log: (m) => logs.push(m), run: async ({ firedAt }) => void runs.push(firedAt.toISOString()) });
    assert.equal(timers.live().length, 0);
    // The process was paused over two nights' 03:00: node-cron reports both.
    fake.miss(new Date('2026-06-01T03:00:00Z'));
    fake.miss(new Date('2026-06-02T03:00:00Z'));
    assert.deepEqual(timers.live().map((t) => t.ms), [0]);
    timers.live()[0].fn();
    await settle();
    assert.deepEqual(runs, ['2026-06-02T03:00:05.000Z']);
    assert.ok(logs.some((l) => /missed.*running it now/.test(l)), logs.join('\n'));
    // Nothing else pending: the next night is node-cron's.
    assert.equal(timers.live().length, 0);
    await s.stop();
  });

  test('not while a run is going, and not again when node-cron fired meanwhile', async () => {
    const fake = fakeSchedule();
    const timers = fakeTimers();
    const c = clock('2026-06-01T03:00:00Z');
    const logs: string[] = [];
    let runs = 0;
    let finish: () => void = () => {};
    const s = startScheduler({
      schedule: fake.schedule,
      setTimer: timers.setTimer,
      now: c.now,
      log: (m) => logs.push(m),
      run: () => {
        runs++;
        return new Promise<void>((r) => (finish = r));
      },
    });
    const first = fake.calls[0].fn(); // node-cron's 03:00 tick; the run goes on
    await settle();
    assert.equal(runs, 1);
    c.set('2026-06-02T03:00:03Z');
    fake.miss(new Date('2026-06-02T03:00:00Z'));
    assert.equal(timers.live().length, 0, 'no catch-up beside a running report');
    assert.ok(logs.some((l) => /missed.*a report is running/.test(l)), logs.join('\n'));
    finish();
    await first;
    assert.equal(runs, 1);
    // A miss followed by node-cron's own fire for a later slot before the catch-up timer: one run, node-cron's.
    c.set('2026-06-03T03:00:02Z');
    fake.miss(new Date('2026-06-03T02:59:59Z'));
    const t = timers.live()[0];
    assert.ok(t);
    const second = fake.calls[0].fn();
    await settle();
    finish();
    await second;
    t.fn();
    await settle();
    assert.equal(runs, 2);
    await s.stop();
  });

  test('with node-cron itself: a pause over a slot runs that slot once, right after', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2026-06-01T02:59:50Z') });
    try {
      const runs: number[] = [];
      const logs: string[] = [];
      const s = startScheduler({
        cronExpr: '0 3 * * *',
        timezone: 'UTC',
        log: (m) => logs.push(m),
        setTimer: (fn, ms) => {
          const t = setTimeout(fn, ms);
          return { clear: () => clearTimeout(t) };
        },
        run: async () => void runs.push(Date.now()),
      });
      // Paused from 02:59:55 to 03:00:05: the clock moves on, no timer runs meanwhile.
      mock.timers.tick(5_000);
      mock.timers.setTime(Date.parse('2026-06-01T03:00:05Z'));
      mock.timers.tick(0);
      for (let i = 0; i < 20; i++) {
        await settle();
        mock.timers.tick(0);
      }
      assert.deepEqual(runs.map((t) => new Date(t).toISOString()), ['2026-06-01T03:00:05.000Z'], logs.join('\n'));
      await s.stop();
    } finally {
      mock.timers.reset();
    }
  });
});
