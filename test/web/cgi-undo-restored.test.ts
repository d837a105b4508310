// An undo through a front door handled in-process (src/cli/commands/cgi.ts: here the Plesk page with the background
// service down — Plesk is the panel that writes record by record) of a fix killed part-way through its write, when the
// settling the page runs first (settleForRequest) puts the old record back but the history database fails as that is
// recorded. The answer used to be the generic "whether it was written could not be checked yet … Nothing was changed;
// try again shortly" — false: the zone had just been written, and nothing is left to undo. The page now hands what
// that settling found to the app (AppDeps.settledBefore), as the standalone server does
// (test/web/undo-restored-unrecorded.test.ts), and the answer is core/plans/settling.ts's: what was put back, that it
// could not be recorded, what to check — never the store's own words (its file, SQLite's error).
import '../helpers/shared-settings.js';
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { noBody, parseCgi, scratchDir, type ParsedCgi } from '../helpers/cgi.js';
import { makePleskState, recordsOf, startPleskServer, type PleskState } from '../helpers/emulators/plesk.js';
import type { RunningServer } from '../helpers/emulators/cpanel.js';
import { runCgi } from '../../src/cli/commands/cgi.js';
import { capturingLog } from './failing-store.js';
import { PleskPanel, PleskRestCli } from '../../src/adapters/panels/plesk/index.js';
import { PanelHttpClient } from '../../src/adapters/panels/http.js';
import { openStore, Store, StoreError } from '../../src/adapters/store/store.js';
import { withCopies } from '../../src/core/plans/apply.js';
import type { Change } from '../../src/core/model.js';

const HASH = `sha256:${'0'.repeat(64)}`;
const NEW_VALUE = 'v=mc1 auth=newhostmc';
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const ROOT_OS = { user: 'root', uid: 0, home: '/root' };

const scratch = scratchDir('mailhealth-cgi-undo-restored-');

describe('Plesk page handled in-process: undo of a half-written fix the settling put back but could not record', () => {
  let plesk: RunningServer;
  const state: PleskState = makePleskState();
  let config: string;
  const db = () => join(scratch.dir, 'plesk.sqlite');
  before(async () => {
    plesk = await startPleskServer(state);
    config = join(scratch.dir, 'plesk-config.json');
    writeFileSync(config, JSON.stringify({ panel: 'plesk', panelUrl: plesk.url, token: state.apiKey }), { mode: 0o600 });
  });
  after(() => plesk.close());

  /** One request to the Plesk admin's page, the service down (no --service): handled in this process. */
  const page = async (extra: Record<string, string> = {}, body = ''): Promise<ParsedCgi> =>
    parseCgi(
      await runCgi(
        'plesk',
        { frontDoor: 'plesk', user: 'admin', role: 'admin', config, db: db() },
        { REQUEST_METHOD: 'GET', PATH_INFO: '/api/me', HTTP_ACCEPT: 'application/json', SCRIPT_NAME: '/modules/mailhealth/index.php/index/app', ...extra },
        body ? Readable.from([body]) : noBody(),
        ROOT_OS,
      ),
    );

  /** The page's session cookie and CSRF token (asked before the fix is killed: every request settles first). */
  async function session(): Promise<{ cookie: string; csrf: string }> {
    const me = await page();
    assert.equal(me.status, 200, me.text);
    return { cookie: (me.header('set-cookie') ?? '').split(';')[0], csrf: (JSON.parse(me.text) as { csrf: string }).csrf };
  }

  /**
   * The history database failing — as a full disk does, naming its file and quoting SQLite — when a put-back is
   * recorded (settleIntent to 'restored'); every other store call works. For this test only (t.mock restores it).
   */
  function failRestoredRecords(t: TestContext): void {
    const real = Store.prototype.settleIntent;
    t.mock.method(Store.prototype, 'settleIntent', function (this: Store, ...args: Parameters<Store['settleIntent']>) {
      if (args[1].status === 'restored') throw new StoreError('io', `cannot read or write the mailhealth database ${this.path} (SQLITE_IOERR: disk I/O error)`);
      return real.apply(this, args);
    });
  }

  /**
   * A lockdown fix on `domain` killed after the first of Plesk's two steps of its edit (`plesk bin dns` deletes the old
   * TXT, then adds the new one): its intent open, no lock held (its lease ran out), the old record gone from the zone.
   */
  async function halfWritten(domain: string): Promise<{ id: number; original: string }> {
    const rest = new PanelHttpClient({ baseUrl: plesk.url, label: 'Plesk', headers: { 'x-api-key': state.apiKey } });
    const panel = new PleskPanel({ rest, apiKey: state.apiKey, cli: new PleskRestCli(rest), root: null });
    const zone = await panel.readZone(domain);
    const old = zone.records.find((r) => r.name === `_mailchannels.${domain}` && r.type === 'TXT')!;
    assert.ok(old, `the fixture has a _mailchannels TXT on ${domain}`);
    const changes: Change[] = [{ action: 'edit', name: old.name, type: 'TXT', ttl: old.ttl, before: old, after: { name: old.name, ttl: old.ttl, type: 'TXT', value: NEW_VALUE, txt: [NEW_VALUE] } }];
    const store = openStore(db());
    let id: number;
    try {
      id = store.recordIntent({ domain, check: 'lockdown', planHash: HASH, zoneVersion: zone.version, changes: withCopies(zone, changes), byUser: 'admin' });
    } finally {
      store.close();
    }
    state.records = state.records.filter((r) => !(r.type === 'TXT' && r.host === `_mailchannels.${domain}.` && r.value === old.value));
    assert.deepEqual(mcValues(domain), [], 'half-written: the old record deleted, the new one not added');
    return { id, original: old.value };
  }

  const mcValues = (domain: string) => recordsOf(state, domain).filter((r) => r.type === 'TXT' && r.host === `_mailchannels.${domain}.`).map((r) => r.value);

  const statusOf = (id: number) => {
    const s = openStore(db());
    try {
      return s.getChange(id)!.status;
    } finally {
      s.close();
    }
  };

  function assertRestoredReason(reason: string, id: number, domain: string): void {
    assert.match(
      reason,
      new RegExp(`^Change ${id} has nothing left to undo: its fix on ${escapeRe(domain)} was interrupted part-way through its write, and mailhealth has just put the records at ${escapeRe(`_mailchannels.${domain} TXT`)} back as they were before it`),
    );
    assert.match(reason, /could not record that in the history \(the history database could not be read or written\)/);
    assert.match(reason, new RegExp(`the history shows change ${id} as pending until mailhealth settles it from the zone`));
    assert.doesNotMatch(reason, /Nothing was changed|could not be checked yet|try again shortly|found: restored/);
    assert.ok(!reason.includes(db()), reason);
    assert.doesNotMatch(reason, /SQLITE_|mailhealth database/);
  }

  test('undo API: the settling-put-back reason (why: settling), the record back, the change still intent', async (t) => {
    const domain = 'alice.example';
    const { cookie, csrf } = await session();
    failRestoredRecords(t);
    const { id, original } = await halfWritten(domain);
    const { result: res, log } = await capturingLog(() =>
      page({ REQUEST_METHOD: 'POST', PATH_INFO: `/api/changes/${id}/undo`, HTTP_COOKIE: cookie, HTTP_X_CSRF_TOKEN: csrf, CONTENT_TYPE: 'application/json', CONTENT_LENGTH: '2' }, '{}'),
    );
    assert.equal(res.status, 409, res.text);
    // The store's own words are in the log (the page says "the server's log has why"), once, for this change.
    assert.match(log, new RegExp(`open change ${id} not settled before this page: .*SQLITE_IOERR`), log);
    const body = JSON.parse(res.text) as { status: string; reason: string; why: string; undoOf: number };
    assert.deepEqual([body.status, body.why, body.undoOf], ['refused', 'settling', id]);
    assertRestoredReason(body.reason, id, domain);
    assert.ok(!res.text.includes(db()));
    assert.doesNotMatch(res.text, /SQLITE_/);
    // The settling did put the old record back (and only it); the change stays open, to be settled from the zone.
    assert.deepEqual(mcValues(domain), [original]);
    assert.equal(statusOf(id), 'intent');
  });

  test('undo page (history Undo button): the same reason, not "Nothing was changed"', async (t) => {
    const domain = 'bob.example';
    const { cookie, csrf } = await session();
    failRestoredRecords(t);
    const { id, original } = await halfWritten(domain);
    const form = `_csrf=${encodeURIComponent(csrf)}`;
    const res = await page(
      { REQUEST_METHOD: 'POST', PATH_INFO: `/changes/${id}/undo`, HTTP_ACCEPT: 'text/html', HTTP_COOKIE: cookie, CONTENT_TYPE: 'application/x-www-form-urlencoded', CONTENT_LENGTH: String(form.length) },
      form,
    );
    assert.equal(res.status, 409, res.text.slice(0, 500));
    const outcome = /id="outcome"[^>]*>([\s\S]*?)<\/p>/.exec(res.text)?.[1] ?? '';
    const text = outcome.replace(/<[^>]+>/g, '').replace(/&#39;/g, "'").replace(/&amp;/g, '&').replace(/\s+/g, ' ').trim();
    assertRestoredReason(text.replace(/^Refused: /, ''), id, domain);
    assert.ok(!res.text.includes(db()));
    assert.doesNotMatch(res.text, /SQLITE_/);
    assert.deepEqual(mcValues(domain), [original]);
    assert.equal(statusOf(id), 'intent');
  });
});
