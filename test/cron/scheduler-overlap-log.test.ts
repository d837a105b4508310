// Review R10 item 5: a run longer than the schedule's interval. node-cron (noOverlap) stopped the ticks during it
// before the scheduler saw them and wrote its own ANSI-coloured warning to stderr ("[NODE-CRON] [WARN] task still
// running, new execution blocked by overlap prevention!"); the service's log said nothing. The scheduler's own timer
// now brings every slot to tick(), which skips it with a line in the service's log — and nothing goes to the console.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startScheduler } from '../../src/cron/scheduler.js';
import { twoClocks } from './clock-harness.js';

const MIN = 60_000;

describe('a run longer than the interval', () => {
  test('"*/5 * * * *" with a 12-minute run: the slots during it are skipped in the service\'s log, nothing on the console', async () => {
    const clocks = twoClocks('2027-03-01T02:59:00Z');
    const runs: string[] = [];
    const logs: string[] = [];
    const console_: string[] = [];
    const saved = { warn: console.warn, info: console.info, error: console.error, debug: console.debug, log: console.log, write: process.stderr.write };
    for (const k of ['warn', 'info', 'error', 'debug', 'log'] as const) console[k] = (...a: unknown[]) => void console_.push(`${k}: ${a.join(' ')}`);
    process.stderr.write = ((chunk: unknown) => {
      console_.push(`stderr: ${String(chunk)}`);
      return true;
    }) as typeof process.stderr.write;
    const s = startScheduler({
      cronExpr: '*/5 * * * *',
      timezone: 'UTC',
      monotonic: () => clocks.mono,
      log: (m) => logs.push(`${new Date().toISOString()} ${m}`),
      run: async ({ firedAt }) => {
        runs.push(firedAt.toISOString());
        if (runs.length === 1) await new Promise<void>((r) => setTimeout(r, 12 * MIN)); // the harness's timer
      },
    });
    try {
      await clocks.advance(18 * MIN, 30_000);
    } finally {
      await Promise.race([s.stop(), clocks.advance(0)]);
      clocks.restore();
      Object.assign(console, { warn: saved.warn, info: saved.info, error: saved.error, debug: saved.debug, log: saved.log });
      process.stderr.write = saved.write;
    }
    assert.deepEqual(runs, ['2027-03-01T03:00:00.000Z', '2027-03-01T03:15:00.000Z']);
    const skipped = logs.filter((l) => /nightly report: previous run still going, this tick is skipped$/.test(l));
    assert.deepEqual(skipped.map((l) => l.slice(0, 24)), ['2027-03-01T03:05:00.000Z', '2027-03-01T03:10:00.000Z'], logs.join('\n'));
    assert.deepEqual(console_, []);
  });
});
