// The settings page shows what is stored, so saving it changes only what the admin edited.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { readSettings, saveSettings } from '../../src/web/settings.js';
import { SETTING_KEYS } from '../../src/core/settings.js';

/** A new history database in a scratch directory, both gone after the test. */
function freshStore(t: TestContext): Store {
  const dir = mkdtempSync(join(tmpdir(), 'mh-settings-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = openStore(join(dir, 'h.sqlite'));
  t.after(() => store.close());
  return store;
}

test('recipients stored as one string (as set with sqlite3, and as the mailer reads them) are shown, and kept by a save', (t) => {
  const store = freshStore(t);
  store.setSetting(SETTING_KEYS.reportRecipients, 'ops@example.com, boss@example.com');
  const form = readSettings(store);
  assert.equal(form.reportRecipients, 'ops@example.com, boss@example.com');
  // The admin changes only the retention and saves the form as shown.
  const saved = saveSettings(store, { ...form, blocklists: form.blocklists ? 'on' : '', retentionDays: '30' });
  assert.deepEqual(saved, { ok: true });
  assert.deepEqual(store.getSetting(SETTING_KEYS.reportRecipients), ['ops@example.com', 'boss@example.com']);
  assert.equal(store.getSetting(SETTING_KEYS.retentionDays), 30);
});

test('retention days: decimal digits only, as prune --days (0x10, 1e3, 12.0, 1.5 are errors and nothing is stored)', (t) => {
  const store = freshStore(t);
  const form = readSettings(store);
  for (const bad of ['0x10', '0b11', '1e3', '12.0', '1.5', '-3', '0', '3651', '', ' ']) {
    const r = saveSettings(store, { ...form, blocklists: '', retentionDays: bad });
    assert.equal(r.ok, false, bad);
    assert.equal(store.getSetting(SETTING_KEYS.retentionDays), undefined, bad);
  }
  assert.deepEqual(saveSettings(store, { ...form, blocklists: '', retentionDays: ' 45 ' }), { ok: true });
  assert.equal(store.getSetting(SETTING_KEYS.retentionDays), 45);
});

test('recipients: the page refuses what the mailer could never send to (leading "-", "..", no domain), through the one address check the mailer uses; nothing stored', (t) => {
  const store = freshStore(t);
  const form = readSettings(store);
  for (const bad of ['-oQ/tmp/x@example.com', 'a@b..c', 'a..b@example.com', '.a@example.com', 'nope', 'a@', '@example.com', 'a@-x.example']) {
    const r = saveSettings(store, { ...form, blocklists: '', reportRecipients: `${bad}, ops@example.com` });
    assert.equal(r.ok, false, bad);
    if (!r.ok) assert.match(r.errors.reportRecipients ?? '', /Not an e-mail address/, bad);
    assert.equal(store.getSetting(SETTING_KEYS.reportRecipients), undefined, bad);
  }
  assert.deepEqual(saveSettings(store, { ...form, blocklists: '', reportRecipients: 'ops@example.com, root@localhost, jörg@bücher.de' }), { ok: true });
  assert.deepEqual(store.getSetting(SETTING_KEYS.reportRecipients), ['ops@example.com', 'root@localhost', 'jörg@bücher.de']);
});

test('a field sent twice (a hand-made request) is refused, not read as empty: the stored schedule and recipients stay', (t) => {
  const store = freshStore(t);
  const form = readSettings(store);
  assert.deepEqual(saveSettings(store, { ...form, blocklists: '', reportSchedule: '30 2 * * *', reportRecipients: 'ops@example.com' }), { ok: true });
  const twice = saveSettings(store, { ...readSettings(store), blocklists: '', reportSchedule: ['30 2 * * *', '0 4 * * *'], reportRecipients: ['ops@example.com', 'x@example.com'] });
  assert.equal(twice.ok, false);
  if (!twice.ok) {
    assert.match(twice.errors.reportSchedule ?? '', /more than once/);
    assert.match(twice.errors.reportRecipients ?? '', /more than once/);
  }
  assert.equal(store.getSetting(SETTING_KEYS.reportSchedule), '30 2 * * *');
  assert.deepEqual(store.getSetting(SETTING_KEYS.reportRecipients), ['ops@example.com']);
});
