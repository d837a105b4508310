// The admin's settings read for each panel read (with-settings.ts): a read that fails fails the panel read in words of
// its own — never the history database's (its file's path, SQLite's messages), which core would record in a finding of
// the night's audit and the web would show on the domain's page — and its raw error goes to the log, once a spell.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SETTINGS_UNREADABLE, withSettings, type SettingsSource } from '../../../src/adapters/panels/with-settings.js';
import { StoreError } from '../../../src/adapters/store/store.js';
import { SETTING_KEYS } from '../../../src/core/settings.js';
import type { MailSettings } from '../../../src/core/model.js';
import type { Panel } from '../../../src/core/panel.js';
import { auditDomain } from '../../../src/core/audit.js';
import { startWorld, type TestWorld } from '../../cron/world.js';
import { failingStore } from '../../web/failing-store.js';

const PATH = '/var/lib/mailhealth/mailhealth.sqlite';
const IO = () => new StoreError('io', `mailhealth database ${PATH}: SQLITE_IOERR: disk I/O error`);
const BUSY = () => new StoreError('locked', `the mailhealth database ${PATH} is locked by another process (database is locked)`);

const SETTINGS: MailSettings = { nameservers: [], dkim: { signing: false, selector: 'default' }, relay: { provider: 'MailChannels', host: 'relay.mailchannels.net', authId: 'panelid' } } as unknown as MailSettings;
const panel = { kind: 'files', capabilities: {}, readMailSettings: async () => SETTINGS } as unknown as Panel;

/** A settings source that throws `fail()` while `failing` says so, else answers the MailChannels account id. */
function source(fail: () => Error) {
  const s = { failing: true, calls: 0 };
  const src: SettingsSource = {
    getSetting<T>(key: string): T | undefined {
      s.calls++;
      if (s.failing) throw fail();
      return (key === SETTING_KEYS.mailchannelsAccountId ? 'adminid' : undefined) as T | undefined;
    },
  };
  return { s, src };
}

test("a failing store: the panel read fails in mailhealth's words, still a store error of its code; the raw error logged once a spell", async () => {
  const { s, src } = source(IO);
  const log: string[] = [];
  const p = withSettings(panel, src, { log: (m) => log.push(m) });
  for (let i = 0; i < 3; i++) {
    const e = await p.readMailSettings('a.example').then(() => null, (x: unknown) => x);
    assert.ok(e instanceof StoreError, String(e));
    assert.equal(e.code, 'io');
    assert.equal(e.message, `${SETTINGS_UNREADABLE} from mailhealth's history database (mailhealth's log says why)`);
    assert.ok(!e.message.includes(PATH));
    assert.match(String((e.cause as Error).message), /SQLITE_IOERR/);
  }
  assert.equal(log.length, 1, 'one line for the spell, not one a domain');
  assert.ok(log[0].includes(PATH) && log[0].includes(SETTING_KEYS.mailchannelsAccountId), log[0]);
  // The store answers again: the settings apply; a new spell is logged again.
  s.failing = false;
  assert.equal((await p.readMailSettings('a.example')).relay?.authId, 'adminid');
  s.failing = true;
  await assert.rejects(p.readMailSettings('a.example'));
  assert.equal(log.length, 2);
});

test('a busy store: said as busy, code locked (core answers it as a busy database)', async () => {
  const { src } = source(BUSY);
  const log: string[] = [];
  const e = await withSettings(panel, src, { log: (m) => log.push(m) }).readMailSettings('a.example').then(() => null, (x: unknown) => x);
  assert.ok(e instanceof StoreError);
  assert.equal(e.code, 'locked');
  assert.equal(e.heldLock, undefined);
  assert.match(e.message, /^the admin's settings could not be read: mailhealth's history database is busy \(another mailhealth process is writing to it\); try again in a moment$/);
  assert.match(log[0], /is locked by another process/);
});

test("an error already in these words (the web's settings source, which logged it) passes as it is, not logged again", async () => {
  const said = new StoreError('io', `${SETTINGS_UNREADABLE} from mailhealth's history database (the server's log says why)`);
  const { src } = source(() => said);
  const log: string[] = [];
  const e = await withSettings(panel, src, { log: (m) => log.push(m) }).readMailSettings('a.example').then(() => null, (x: unknown) => x);
  assert.equal(e, said);
  assert.deepEqual(log, []);
});

test('no log given: the raw error is a line on stderr', async () => {
  const { src } = source(IO);
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  (process.stderr as unknown as { write: (s: unknown) => boolean }).write = (s: unknown) => (lines.push(String(s)), true);
  try {
    await assert.rejects(withSettings(panel, src).readMailSettings('a.example'), (e: Error) => !e.message.includes(PATH));
  } finally {
    (process.stderr as unknown as { write: typeof write }).write = write;
  }
  assert.equal(lines.length, 1);
  assert.match(lines[0], new RegExp(`^mailhealth: the admin's settings could not be read \\(setting ${SETTING_KEYS.mailchannelsAccountId.replace(/\./g, '\\.')}\\): mailhealth database ${PATH}: SQLITE_IOERR`));
});

test("an audit with the store passed directly (the CLI, the nightly report): its finding says so without the store's words", async (t) => {
  const w: TestWorld = await startWorld();
  t.after(() => w.close());
  const f = failingStore(w.store);
  t.after(() => f.close());
  f.fail('getSetting', 'io', { times: Infinity, match: (key) => key === SETTING_KEYS.mailchannelsAccountId });
  const log: string[] = [];
  const audit = await auditDomain('bakery.example', { panel: withSettings(w.panel, f.store, { log: (m) => log.push(m) }), resolver: w.resolver() });
  const text = JSON.stringify(audit.findings);
  assert.match(text, /settings could not be read/);
  assert.ok(!text.includes(w.store.path), text);
  assert.doesNotMatch(text, /mailhealth database|SQLITE_/);
  assert.ok(log.some((l) => l.includes(w.store.path)));
});
