// The settings page shows what is stored, so saving it changes only what the admin edited.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../src/adapters/store/store.js';
import { readSettings, saveSettings, SETTING_KEYS } from '../../src/web/settings.js';

test('recipients stored as one string (as set with sqlite3, and as the mailer reads them) are shown, and kept by a save', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-settings-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = openStore(join(dir, 'h.sqlite'));
  t.after(() => store.close());
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
  const dir = mkdtempSync(join(tmpdir(), 'mh-settings-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = openStore(join(dir, 'h.sqlite'));
  t.after(() => store.close());
  const form = readSettings(store);
  for (const bad of ['0x10', '0b11', '1e3', '12.0', '1.5', '-3', '0', '3651', '', ' ']) {
    const r = saveSettings(store, { ...form, blocklists: '', retentionDays: bad });
    assert.equal(r.ok, false, bad);
    assert.equal(store.getSetting(SETTING_KEYS.retentionDays), undefined, bad);
  }
  assert.deepEqual(saveSettings(store, { ...form, blocklists: '', retentionDays: ' 45 ' }), { ok: true });
  assert.equal(store.getSetting(SETTING_KEYS.retentionDays), 45);
});
