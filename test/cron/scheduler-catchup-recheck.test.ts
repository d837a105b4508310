// Review R10 item 4: a missed night is caught up 5 minutes after the service starts "provided no report run has been
// recorded since that slot" (README) — but the history was looked at only at start: a `mailhealth report` run by hand
// (or by a second service on the same database) in those 5 minutes was followed by the catch-up, a second report.
// The history is now looked at again when the catch-up is due.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { catchUpMissedNights } from '../../src/cli/nightly.js';
import { startScheduler } from '../../src/cron/scheduler.js';
import type { Run } from '../../src/adapters/store/store.js';
import { twoClocks } from './clock-harness.js';

const MIN = 60_000;

const run = (id: number, startedAt: string, status = 'complete') => ({ id, kind: 'report', status, startedAt, finishedAt: null, byUser: 'root', meta: null }) as unknown as Run;

async function scenario(handRunAt: string | null) {
  const clocks = twoClocks('2027-03-01T03:30:00Z'); // the service was down over 03:00
  const runs: string[] = [];
  const logs: string[] = [];
  const history: Run[] = [run(41, '2027-02-28T03:00:00.000Z')];
  const s = startScheduler({ cronExpr: '0 3 * * *', timezone: 'UTC', monotonic: () => clocks.mono, log: (m) => logs.push(m), run: async ({ firedAt }) => void runs.push(firedAt.toISOString()) });
  try {
    // Newest first, as the store lists them.
    const store = { listRuns: () => [...history].sort((a, b) => b.id - a.id) };
    assert.equal(catchUpMissedNights(store, s, (m) => logs.push(m), new Date())?.toISOString(), '2027-03-01T03:00:00.000Z');
    await clocks.advance(2 * MIN);
    if (handRunAt) history.push(run(42, handRunAt)); // `mailhealth report --email` by hand, recorded
    await clocks.advance(10 * MIN);
    return { runs, logs };
  } finally {
    await Promise.race([s.stop(), clocks.advance(0)]);
    clocks.restore();
  }
}

describe('a missed-night catch-up looks at the history again when it is due', () => {
  test('a report run recorded meanwhile: the catch-up does not run, and the log says why', async () => {
    const { runs, logs } = await scenario('2027-03-01T03:32:00.000Z');
    assert.deepEqual(runs, []);
    assert.ok(logs.some((l) => /the run due at 2027-03-01T03:00:00\.000Z \(UTC\) was missed \(the service was not running\); a report run has been recorded since, not running it again/.test(l)), logs.join('\n'));
  });

  test('none recorded: it runs 5 minutes after the start, once', async () => {
    const { runs, logs } = await scenario(null);
    assert.deepEqual(runs, ['2027-03-01T03:35:00.000Z'], logs.join('\n'));
  });
});
