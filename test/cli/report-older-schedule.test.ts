// A report schedule saved by an older version's settings page in six fields ("0 30 2 * * *") or as a nickname
// ("@daily") was logged as not used and replaced by 03:00 (QA h2 item 5): the admin's 02:30 report moved without a word
// where they look. Such a form runs as its five fields now — at the same times older versions ran it — with one log
// line saying so; a form with no obvious five fields (seconds that repeat, seconds other than 0) is still not used, and
// its log line names the five fields to enter when there are some. Nothing is written to the database.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { olderScheduleForm, validateCronExpr } from '../../src/adapters/schedule/expression.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { startNightlyReport, wantedSchedule } from '../../src/cli/nightly.js';
import { UsageError } from '../../src/cli/context.js';
import { SETTING_KEYS } from '../../src/core/settings.js';
import { DEMO_PANEL_DIR } from '../../src/demo/world.js';
import { fakeSchedule } from '../cron/fake-schedule.js';

function freshStore(t: TestContext): Store {
  const dir = mkdtempSync(join(tmpdir(), 'mh-older-sched-'));
  const store = openStore(join(dir, 'h.sqlite'));
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

function start(t: TestContext, store: Store, flags: Record<string, string> = {}) {
  const fake = fakeSchedule();
  const logs: string[] = [];
  const nightly = startNightlyReport({ resolver: '127.0.0.1:9', reportTz: 'UTC', ...flags }, new FilesPanel(DEMO_PANEL_DIR), store, { schedule: fake.schedule, log: (m) => logs.push(m) });
  t.after(() => nightly.stop());
  return { fake, logs, nightly };
}

test('six fields with seconds 0, saved by an older version: runs as its five fields, at the same times, logged once', async (t) => {
  const store = freshStore(t);
  store.setSetting(SETTING_KEYS.reportSchedule, '0 30 2 * * *');
  const { fake, logs, nightly } = start(t, store);
  assert.deepEqual(fake.exprs, ['30 2 * * *']);
  assert.deepEqual(logs.filter((l) => l.includes('saved report schedule')), [
    'the saved report schedule "0 30 2 * * *" is in a form older versions took (six fields, seconds first): it runs as "30 2 * * *", at the same times; saving the settings page stores it in that form',
  ]);
  assert.deepEqual(logs.filter((l) => l.includes('not used')), []);
  // Nothing rewritten: the database keeps what the older version saved until the page is saved.
  assert.equal(store.getSetting(SETTING_KEYS.reportSchedule), '0 30 2 * * *');
  // The minute's refresh: nothing changed, nothing logged again.
  assert.equal(nightly.refresh(), false);
  assert.equal(logs.filter((l) => l.includes('saved report schedule')).length, 1);
  // Another older form saved by hand later: followed, and logged once.
  store.setSetting(SETTING_KEYS.reportSchedule, '@daily');
  assert.equal(nightly.refresh(), true);
  assert.equal(nightly.refresh(), false);
  assert.deepEqual(fake.exprs, ['30 2 * * *', '0 0 * * *']);
  assert.equal(logs.filter((l) => l.includes('"@daily" is in a form older versions took (a nickname): it runs as "0 0 * * *"')).length, 1);
  // Saved in five fields (the settings page): no more lines.
  store.setSetting(SETTING_KEYS.reportSchedule, '0 0 * * *');
  assert.equal(nightly.refresh(), false);
  assert.equal(logs.filter((l) => l.includes('older versions took')).length, 2);
});

test('@daily at start; wantedSchedule says what it read', async (t) => {
  const store = freshStore(t);
  store.setSetting(SETTING_KEYS.reportSchedule, ' @Daily\n');
  assert.deepEqual(wantedSchedule({}, store), { cronExpr: '0 0 * * *', timezone: undefined, older: { stored: '@Daily', cronExpr: '0 0 * * *', form: 'a nickname' } });
  const { fake } = start(t, store);
  assert.deepEqual(fake.exprs, ['0 0 * * *']);
  // A five-field schedule reads as before (no `older`).
  store.setSetting(SETTING_KEYS.reportSchedule, '0 4 * * *');
  assert.deepEqual(wantedSchedule({}, store), { cronExpr: '0 4 * * *', timezone: undefined });
});

test('no obvious five fields: not used, 03:00 instead, the log says what to enter when it can', async (t) => {
  const store = freshStore(t);
  store.setSetting(SETTING_KEYS.reportSchedule, '* * * * * *');
  let s = start(t, store);
  assert.deepEqual(s.fake.exprs, ['0 3 * * *']);
  assert.ok(s.logs.some((l) => /the saved report schedule "\* \* \* \* \* \*" is not used, "0 3 \* \* \*" instead: invalid cron expression/.test(l)), s.logs.join('\n'));
  store.setSetting(SETTING_KEYS.reportSchedule, '30 0 3 * * *');
  s = start(t, store);
  assert.deepEqual(s.fake.exprs, ['0 3 * * *']);
  assert.ok(s.logs.some((l) => l.includes('is not used') && l.includes('In five fields, "30 0 3 * * *" is "0 3 * * *" (the same minute, without its seconds)')), s.logs.join('\n'));
});

test('a flag is typed now: --report-cron @daily is refused, naming its five fields', (t) => {
  const store = freshStore(t);
  assert.throws(() => start(t, store, { reportCron: '@daily' }), (e: unknown) => e instanceof UsageError && /In five fields, "@daily" is "0 0 \* \* \*"/.test((e as Error).message));
  // A flag wins over a saved older form, which is then neither run nor logged.
  store.setSetting(SETTING_KEYS.reportSchedule, '0 30 2 * * *');
  const { fake, logs } = start(t, store, { reportCron: '0 5 * * *' });
  assert.deepEqual(fake.exprs, ['0 5 * * *']);
  assert.deepEqual(logs.filter((l) => l.includes('older versions')), []);
});

test('olderScheduleForm: only the obvious cases', () => {
  assert.deepEqual(olderScheduleForm('0 30 2 * * *'), { cronExpr: '30 2 * * *', sameTimes: true, form: 'six fields, seconds first' });
  assert.deepEqual(olderScheduleForm('00 0 3 * * 1-5'), { cronExpr: '0 3 * * 1-5', sameTimes: true, form: 'six fields, seconds first' });
  assert.deepEqual(olderScheduleForm('45 0 3 * * *'), { cronExpr: '0 3 * * *', sameTimes: false, form: 'six fields, seconds first' });
  for (const no of ['0 3 * * *', '* * * * * *', '*/10 0 3 * * *', '0,30 0 3 * * *', '60 0 3 * * *', '0 99 3 * * *', '@reboot', '', 'daily', '0 0 3 * * * *']) {
    assert.equal(olderScheduleForm(no), null, no);
  }
  for (const [nick, five] of Object.entries({ '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *' })) {
    assert.deepEqual(olderScheduleForm(nick), { cronExpr: five, sameTimes: true, form: 'a nickname' }, nick);
    validateCronExpr(five);
  }
});
