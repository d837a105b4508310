// Review R10 item 3: the wall clock set forward while the service runs. The timer waits a duration computed under the
// old clock, so without a look at the step the slot it was going to ran up to a day late (as "missed") and the next
// an hour after it; a slot the step jumped over ran only when that timer woke. The clock watch (every minute) now arms
// the timer again from the new time and runs a slot the step passed over once, saying why.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startScheduler } from '../../src/cron/scheduler.js';
import { twoClocks } from './clock-harness.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

function start(wall: string) {
  const clocks = twoClocks(wall);
  const runs: string[] = [];
  const logs: string[] = [];
  const s = startScheduler({ cronExpr: '0 3 * * *', timezone: 'UTC', monotonic: () => clocks.mono, log: (m) => logs.push(m), run: async ({ firedAt }) => void runs.push(firedAt.toISOString()) });
  return {
    clocks,
    runs,
    logs,
    async end() {
      await Promise.race([s.stop(), clocks.advance(0)]);
      clocks.restore();
    },
  };
}

describe('the wall clock set forward (real node-cron matcher, two clocks)', () => {
  test('23 h forward, short of the next slot: that slot runs on time by the new clock, and the next a day later', async () => {
    const w = start('2027-03-01T03:05:00Z'); // after the 1st's run
    try {
      await w.clocks.advance(5 * MIN);
      w.clocks.step(23 * HOUR); // 2027-03-02T02:10
      await w.clocks.advance(26 * HOUR, MIN);
      assert.deepEqual(w.runs, ['2027-03-02T03:00:00.000Z', '2027-03-03T03:00:00.000Z']);
      assert.ok(!w.logs.some((l) => /missed/.test(l)), w.logs.join('\n'));
      assert.ok(w.logs.some((l) => /clock was set forward by 23 h 0 min .*no run was passed over, next run 2027-03-02T03:00:00\.000Z/.test(l)), w.logs.join('\n'));
    } finally {
      await w.end();
    }
  });

  test('90 min forward over 03:00: it runs once within a minute of the step, and the next night as usual', async () => {
    const w = start('2027-03-01T02:00:00Z');
    try {
      await w.clocks.advance(10 * MIN);
      w.clocks.step(90 * MIN); // 02:10 → 03:40: 03:00 never shown
      const stepped = Date.parse('2027-03-01T03:40:00Z');
      await w.clocks.advance(25 * HOUR, MIN);
      assert.equal(w.runs.length, 2, w.runs.join(', '));
      const first = Date.parse(w.runs[0]);
      assert.ok(first >= stepped && first <= stepped + MIN + 1000, `ran at ${w.runs[0]}`);
      assert.equal(w.runs[1], '2027-03-02T03:00:00.000Z');
      assert.ok(w.logs.some((l) => /the run due at 2027-03-01T03:00:00\.000Z \(UTC\) was missed \(the server's clock was set forward by 90 min\); running it now/.test(l)), w.logs.join('\n'));
      assert.ok(!w.logs.some((l) => /paused or busy/.test(l)), w.logs.join('\n'));
    } finally {
      await w.end();
    }
  });

  test('48 h forward: the nights passed over run once, and the log names them', async () => {
    const w = start('2027-03-01T03:05:00Z');
    try {
      await w.clocks.advance(10 * MIN);
      w.clocks.step(48 * HOUR); // 2027-03-03T03:15
      await w.clocks.advance(24 * HOUR, MIN);
      assert.equal(w.runs.length, 2, w.runs.join(', '));
      assert.ok(Date.parse(w.runs[0]) <= Date.parse('2027-03-03T03:16:01Z'), w.runs[0]);
      assert.equal(w.runs[1], '2027-03-04T03:00:00.000Z');
      assert.ok(w.logs.some((l) => /set forward by 2 d 0 h .*passed over the runs due from 2027-03-02T03:00:00\.000Z to 2027-03-03T03:00:00\.000Z: the report runs now, once/.test(l)), w.logs.join('\n'));
    } finally {
      await w.end();
    }
  });
});
