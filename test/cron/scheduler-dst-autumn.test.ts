// Review R10 item 2: the repeated hour in a zone east of UTC. nextRuns (the settings page's "Next run", the missed-night
// check) names a repeated local time's first showing; node-cron fired at its second (Europe/Berlin "30 2 * * *":
// 01:30Z, not 00:30Z). A service restarted between the two showings caught up the first showing as a missed night and
// then node-cron ran the second: two reports for one night. The scheduler's own timer runs the instant nextRuns names.
process.env.TZ = 'UTC'; // the server's zone, for this file (its own process): not the schedule's
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { catchUpMissedNights } from '../../src/cli/nightly.js';
import { startScheduler } from '../../src/cron/scheduler.js';
import type { Run } from '../../src/adapters/store/store.js';
import { twoClocks } from './clock-harness.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

describe('a local time shown twice, zones east of UTC (real node-cron matcher, two clocks)', () => {
  for (const [zone, cronExpr, start] of [
    ['Europe/Berlin', '30 2 * * *', '2026-10-24T12:00:00Z'], // 02:30 at 00:30Z (CEST) and 01:30Z (CET)
    ['Europe/London', '30 1 * * *', '2026-10-24T12:00:00Z'], // 01:30 at 00:30Z (BST) and 01:30Z (GMT)
    ['America/New_York', '30 1 * * *', '2026-10-31T12:00:00Z'], // 01:30 at 05:30Z (EDT) and 06:30Z (EST)
  ] as const) {
    test(`${zone} "${cronExpr}": one run, at the first showing "Next run" names`, async () => {
      const clocks = twoClocks(start);
      const runs: string[] = [];
      const logs: string[] = [];
      const s = startScheduler({ cronExpr, timezone: zone, monotonic: () => clocks.mono, log: (m) => logs.push(m), run: async ({ firedAt }) => void runs.push(firedAt.toISOString()) });
      try {
        const shown = s.nextRuns(1)[0].toISOString();
        await clocks.advance(24 * HOUR, MIN);
        assert.deepEqual(runs, [shown]);
        assert.ok(!logs.some((l) => /missed/.test(l)), logs.join('\n'));
      } finally {
        await Promise.race([s.stop(), clocks.advance(0)]);
        clocks.restore();
      }
    });
  }

  test('restarted between the two showings, the night missed is caught up once: no second report at the second showing', async () => {
    const clocks = twoClocks('2026-10-25T01:10:00Z'); // 02:10 CET: after the first 02:30, before the second
    const runs: string[] = [];
    const logs: string[] = [];
    const s = startScheduler({ cronExpr: '30 2 * * *', timezone: 'Europe/Berlin', monotonic: () => clocks.mono, log: (m) => logs.push(m), run: async ({ firedAt }) => void runs.push(firedAt.toISOString()) });
    const history: Run[] = [{ id: 41, kind: 'report', status: 'complete', startedAt: '2026-10-24T00:30:00.000Z', finishedAt: '2026-10-24T00:31:00.000Z', byUser: 'root', meta: null } as unknown as Run];
    try {
      assert.equal(s.nextRuns(1)[0].toISOString(), '2026-10-26T01:30:00.000Z', 'the 25th\'s 02:30 has been shown already');
      const slot = catchUpMissedNights({ listRuns: () => history }, s, (m) => logs.push(m), new Date());
      assert.equal(slot?.toISOString(), '2026-10-25T00:30:00.000Z');
      await clocks.advance(6 * HOUR, MIN);
      assert.deepEqual(runs, ['2026-10-25T01:15:00.000Z'], logs.join('\n'));
    } finally {
      await Promise.race([s.stop(), clocks.advance(0)]);
      clocks.restore();
    }
  });
});
