// `mailhealth report --email` with a report.from that is not a sender address (which the mailer now replaces with the
// default sender, logging it) and no recipients: still the usage error "no recipients configured" before anything
// runs — a bad sender is not an address to send to, and must not turn "nothing to send" into a run that sends nothing.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { reportCommand } from '../../src/cli/commands/report.js';
import { UsageError } from '../../src/cli/context.js';
import { openStore } from '../../src/adapters/store/store.js';
import { countingLimiter, startWorld, type TestWorld } from '../cron/world.js';

let w: TestWorld;
before(async () => {
  w = await startWorld();
});
after(() => w?.close());

test('--email, a bad report.from and no recipients: a usage error, no report run', async () => {
  const db = join(w.dir, 'from.sqlite');
  const store = openStore(db);
  store.setSetting('report.from', 'mailhealth');
  store.close();
  await assert.rejects(
    reportCommand(
      { panel: 'files', panelRoot: join(w.dir, 'panel'), resolver: w.dns.address, authoritativePort: w.dns.port, db, email: true },
      { limiter: countingLimiter(), stdout: () => {}, stderr: () => {} },
    ),
    (e: unknown) => e instanceof UsageError && /--email: no recipients configured/.test(e.message),
  );
  const after = openStore(db);
  try {
    assert.deepEqual(after.listRuns({ kind: 'report' }), []);
  } finally {
    after.close();
  }
});
