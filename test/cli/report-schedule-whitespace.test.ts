// A report schedule stored by hand with a trailing newline ("0 4 * * *\n": sqlite3, a script) was refused by the
// background service — 03:00 ran instead — and the log line quoted the raw newline. The white space around a stored
// schedule (and time zone) is not part of it; a schedule that will not do is logged on one line.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { startNightlyReport, wantedSchedule } from '../../src/cli/nightly.js';
import { DEMO_PANEL_DIR } from '../../src/demo/world.js';
import { SETTING_KEYS } from '../../src/core/settings.js';
import { fakeSchedule } from '../cron/fake-schedule.js';

function freshStore(t: TestContext): Store {
  const dir = mkdtempSync(join(tmpdir(), 'mh-cron-ws-'));
  const store = openStore(join(dir, 'h.sqlite'));
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

test('a stored schedule and time zone ending in a newline are used, without it', async (t) => {
  const store = freshStore(t);
  store.setSetting(SETTING_KEYS.reportSchedule, '0 4 * * *\n');
  store.setSetting(SETTING_KEYS.reportTimezone, ' Europe/Berlin\n');
  assert.deepEqual(wantedSchedule({}, store), { cronExpr: '0 4 * * *', timezone: 'Europe/Berlin' });
  const fake = fakeSchedule();
  const logs: string[] = [];
  const nightly = startNightlyReport({ resolver: '127.0.0.1:9' }, new FilesPanel(DEMO_PANEL_DIR), store, { schedule: fake.schedule, log: (m) => logs.push(m) });
  t.after(() => nightly.stop());
  assert.deepEqual(fake.exprs, ['0 4 * * *']);
  assert.deepEqual(fake.timezones, ['Europe/Berlin']);
  assert.deepEqual(logs.filter((l) => l.includes('not used')), []);
  // Saved again the same way: nothing to change.
  assert.equal(nightly.refresh(), false);
  // A stored value of white space only is not set: the default.
  store.setSetting(SETTING_KEYS.reportSchedule, ' \n');
  assert.equal(wantedSchedule({}, store).cronExpr, '0 3 * * *');
});

test('a stored schedule that will not do is logged on one line, its control characters escaped', async (t) => {
  const store = freshStore(t);
  store.setSetting(SETTING_KEYS.reportSchedule, '0 4 * * *\u0007\n');
  const fake = fakeSchedule();
  const logs: string[] = [];
  const nightly = startNightlyReport({ resolver: '127.0.0.1:9', reportTz: 'UTC' }, new FilesPanel(DEMO_PANEL_DIR), store, { schedule: fake.schedule, log: (m) => logs.push(m) });
  t.after(() => nightly.stop());
  assert.deepEqual(fake.exprs, ['0 3 * * *']);
  const line = logs.find((l) => l.includes('is not used'));
  assert.ok(line, logs.join('\n'));
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(line, /[\u0000-\u001f\u007f]/);
  assert.match(line, /the saved report schedule "0 4 \* \* \*\\u0007" is not used, "0 3 \* \* \*" instead: invalid cron expression "0 4 \* \* \*\\u0007"/);
  // The minute's refresh logs it the same way (once).
  store.setSetting(SETTING_KEYS.reportSchedule, '0 5 * * *\u0007');
  assert.equal(nightly.refresh(), false);
  // eslint-disable-next-line no-control-regex
  assert.ok(logs.every((l) => !/[\u0000-\u001f\u007f]/.test(l)), logs.join('\n'));
});
