// Review R10 item 1: a server whose own time zone has daylight saving. In the repeated hour (Europe/Berlin, night of
// 2026-10-25: 02:00–03:00 shown twice, 00:00Z–01:00Z CEST then 01:00Z–02:00Z CET) node-cron's timer read "now" through
// the process's local time (its nowWithoutMs: setMilliseconds maps an instant of the second showing back to the first,
// an hour early): a slot in it spun 0 ms timers for the whole hour, then ran 30 minutes late, logged as "missed (the
// process was paused or busy)". The scheduler now fires from its own timer, at the instant nextRuns names.
process.env.TZ = 'Europe/Berlin'; // the server's zone, for this file (its own process)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startScheduler } from '../../src/cron/scheduler.js';
import { twoClocks } from './clock-harness.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

/**
 * Counts the timers armed with no wait; past a thousand (a timer spinning) it arms no more, so the run ends whatever
 * the code does — no waiting on a spin.
 */
function countZeroTimers() {
  const g = globalThis as unknown as { setTimeout: (fn: () => void, ms?: number) => unknown };
  const inner = g.setTimeout;
  const c = { zero: 0 };
  g.setTimeout = (fn: () => void, ms?: number) => {
    if (!ms) {
      c.zero++;
      if (c.zero > 1000) return inner(() => {}, HOUR * 48); // a handle that never runs the spin again
    }
    return inner(fn, ms);
  };
  return c;
}

describe('the repeated hour of the server\'s own zone (process TZ=Europe/Berlin, real node-cron matcher, two clocks)', () => {
  test('the process is really in Europe/Berlin for this file', () => {
    const d = new Date('2026-10-25T01:30:00.500Z');
    d.setMilliseconds(0);
    // The very quirk node-cron tripped on: dropping the milliseconds in local time lands in the first showing.
    assert.equal(d.toISOString(), '2026-10-25T00:30:00.000Z');
  });

  for (const zone of [undefined, 'Europe/Berlin']) {
    test(`"30 2 * * *" (${zone ?? 'server time'}): one run, at the time "Next run" shows, no spinning timer, nothing "missed"`, async () => {
      const clocks = twoClocks('2026-10-24T12:00:00Z');
      const zero = countZeroTimers();
      const runs: string[] = [];
      const logs: string[] = [];
      const s = startScheduler({
        cronExpr: '30 2 * * *',
        ...(zone ? { timezone: zone } : {}),
        monotonic: () => clocks.mono,
        log: (m) => logs.push(m),
        run: async ({ firedAt }) => void runs.push(firedAt.toISOString()),
      });
      try {
        const shown = s.nextRuns(1)[0].toISOString();
        assert.equal(shown, '2026-10-25T00:30:00.000Z', 'the first showing of 02:30');
        await clocks.advance(24 * HOUR, MIN);
        assert.deepEqual(runs, [shown]);
        assert.ok(zero.zero < 10, `${zero.zero} timers armed with no wait`);
        assert.ok(!logs.some((l) => /missed|came round again/.test(l)), logs.join('\n'));
        assert.equal(s.nextRuns(1)[0].toISOString(), '2026-10-26T01:30:00.000Z');
      } finally {
        await Promise.race([s.stop(), clocks.advance(0)]);
        clocks.restore();
      }
    });
  }

  test('a UTC schedule whose slot falls in the server zone\'s second showing ("15 1 * * *" UTC = 02:15 CET) runs on time', async () => {
    const clocks = twoClocks('2026-10-24T12:00:00Z');
    const zero = countZeroTimers();
    const runs: string[] = [];
    const logs: string[] = [];
    const s = startScheduler({ cronExpr: '15 1 * * *', timezone: 'UTC', monotonic: () => clocks.mono, log: (m) => logs.push(m), run: async ({ firedAt }) => void runs.push(firedAt.toISOString()) });
    try {
      await clocks.advance(24 * HOUR, MIN);
      assert.deepEqual(runs, ['2026-10-25T01:15:00.000Z']);
      assert.ok(zero.zero < 10, `${zero.zero} timers armed with no wait`);
      assert.ok(!logs.some((l) => /missed/.test(l)), logs.join('\n'));
    } finally {
      await Promise.race([s.stop(), clocks.advance(0)]);
      clocks.restore();
    }
  });
});
