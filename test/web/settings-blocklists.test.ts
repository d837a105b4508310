// Issue 2: ptr.listed queries "a configurable list, off unless asked". The list was fixed in the code (Spamhaus ZEN,
// SpamCop, Barracuda); the settings page now edits it (names through the one domain validator, at most 10), and the
// audits of every surface query the list in force.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { readSettings, saveSettings } from '../../src/web/settings.js';
import { auditOptionsFrom, DEFAULT_BLOCKLISTS, SETTING_KEYS } from '../../src/core/settings.js';
import { readSharedSettings } from '../../src/cli/shared-settings.js';
import { writeFileSync } from 'node:fs';

function freshStore(t: TestContext): { store: Store; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mh-settings-bl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = openStore(join(dir, 'h.sqlite'));
  t.after(() => store.close());
  return { store, dir };
}

const form = (store: Store, over: Record<string, unknown>) => {
  const f = readSettings(store);
  return { ...f, blocklists: f.blocklists ? 'on' : '', ...over };
};

test('the admin’s blocklist zones are stored, shown, and queried by the audits; empty puts the defaults back', (t) => {
  const { store } = freshStore(t);
  assert.equal(readSettings(store).blocklistZones, DEFAULT_BLOCKLISTS.join(', '));
  assert.deepEqual(auditOptionsFrom(store), {}, 'off unless asked');
  assert.deepEqual(saveSettings(store, form(store, { blocklists: 'on', blocklistZones: 'dnsbl.example.org, BL.Example.NET.' })), { ok: true });
  assert.deepEqual(store.getSetting(SETTING_KEYS.blocklistZones), ['dnsbl.example.org', 'bl.example.net']);
  assert.equal(readSettings(store).blocklistZones, 'dnsbl.example.org, bl.example.net');
  assert.deepEqual(auditOptionsFrom(store), { blocklists: ['dnsbl.example.org', 'bl.example.net'] });
  assert.deepEqual(saveSettings(store, form(store, { blocklistZones: '' })), { ok: true });
  assert.equal(store.getSetting(SETTING_KEYS.blocklistZones), undefined);
  assert.deepEqual(auditOptionsFrom(store), { blocklists: DEFAULT_BLOCKLISTS });
});

test('bad zone names and more than 10 are refused with the reason; nothing is stored', (t) => {
  const { store } = freshStore(t);
  for (const bad of ['not a zone!', 'zen.spamhaus.org, -bad-.example', 'a..b.example']) {
    const r = saveSettings(store, form(store, { blocklists: 'on', blocklistZones: bad }));
    assert.equal(r.ok, false, bad);
    if (!r.ok) assert.match(r.errors.blocklistZones ?? '', /^Not a DNS zone name: /, bad);
  }
  const eleven = Array.from({ length: 11 }, (_, i) => `bl${i}.example.org`).join(',');
  const r = saveSettings(store, form(store, { blocklists: 'on', blocklistZones: eleven }));
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.errors.blocklistZones ?? '', /At most 10 blocklists/);
  assert.equal(store.getSetting(SETTING_KEYS.blocklists), undefined);
  assert.equal(store.getSetting(SETTING_KEYS.blocklistZones), undefined);
});

test('the cPanel page reads the zones from the shared settings file; a hand-edited bad list there is ignored', (t) => {
  const { dir } = freshStore(t);
  const file = join(dir, 'shared.json');
  writeFileSync(file, JSON.stringify({ [SETTING_KEYS.blocklists]: true, [SETTING_KEYS.blocklistZones]: ['dnsbl.example.org'] }));
  assert.deepEqual(readSharedSettings(file)?.[SETTING_KEYS.blocklistZones], ['dnsbl.example.org']);
  writeFileSync(file, JSON.stringify({ [SETTING_KEYS.blocklists]: true, [SETTING_KEYS.blocklistZones]: ['x y'] }));
  assert.equal(readSharedSettings(file)?.[SETTING_KEYS.blocklistZones], undefined);
});
