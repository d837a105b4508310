// Single-domain pages and the JSON API when the history database fails under them (QA: the bulk pages kept SQLite's
// words in the log, but a fix's or an undo's result, a preview, a domain's audit and the settings page could show the
// store's error — the database file's path, "database is locked" — to the customer). Every answer says what the
// failure left in words of mailhealth's own, and the store's error goes to the server's log.
//
// Real SQLite on a real file (failing-store.ts): a 'busy' write meets another connection's write transaction; an 'io'
// failure is the store's own error for a file it cannot use. The app's store waits 20 ms for a lock; no clock.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { SETTING_KEYS } from '../../src/core/settings.js';
import { createApp, type MailhealthApp } from '../../src/web/app.js';
import { shownDetail } from '../../src/web/services.js';
import { holder } from '../helpers/db-holder.js';
import { capturingLog, failingStore, type FailingStore } from './failing-store.js';
import { demoWorld, login, NO_LIMITS, type Session, type TestWorld } from './helpers.js';

let w: TestWorld | undefined;
let store: Store | undefined;
let failing: FailingStore | undefined;
afterEach(async () => {
  failing?.close();
  failing = undefined;
  store?.close();
  store = undefined;
  await w?.close();
  w = undefined;
});

interface World {
  app: MailhealthApp;
  f: FailingStore;
  dbPath: string;
  alice: Session;
  root: Session;
}

async function world(): Promise<World> {
  w = await demoWorld({ seedAudits: true });
  store = openStore(w.store.path, { busyTimeoutMs: 20 });
  failing = failingStore(store);
  const app = createApp({ panel: w.panel, store: failing.store, makeResolver: w.makeResolver, identityFrom: 'session', rateLimits: NO_LIMITS });
  return { app, f: failing, dbPath: w.store.path, alice: await login(app, 'alice'), root: await login(app, 'root') };
}

/** The store's own words: the database file's path, and what SQLite or the store says. */
function assertNoStoreWords(text: string, dbPath: string, where: string): void {
  assert.ok(!text.includes(dbPath), `${where}: shows the database path\n${excerpt(text, dbPath)}`);
  for (const raw of [/SQLITE_/, /database is locked/i, /locked by another process/i, /mailhealth database/i, /connection is not open/i]) {
    assert.doesNotMatch(text, raw, `${where}: quotes the store`);
  }
}

function excerpt(text: string, needle: string): string {
  const i = text.indexOf(needle);
  return i < 0 ? '' : text.slice(Math.max(0, i - 200), i + 100);
}

/** The page's message (error page) or outcome (fix and undo results), tags dropped and entities read. */
function shown(html: string): string {
  const m = /<p class="msg"[^>]*>([\s\S]*?)<\/p>/.exec(html) ?? /id="outcome"[^>]*>([\s\S]*?)<\/p>/.exec(html);
  return (m?.[1] ?? '').replace(/<[^>]+>/g, '').replace(/&#39;/g, "'").replace(/&amp;/g, '&').replace(/\s+/g, ' ').trim();
}

async function planHash(s: Session, domain: string, check: string): Promise<string> {
  const res = await s.agent.get(`/api/domains/${domain}/fix?check=${check}`).expect(200);
  return (res.body as { planHash: string }).planHash;
}

/** An applied SPF fix of bakery.example (alice's), to undo and verify. */
async function appliedFix(x: World): Promise<number> {
  const res = await x.alice.agent.post('/api/domains/bakery.example/fix').set('x-csrf-token', x.alice.csrf).send({ check: 'spf', planHash: await planHash(x.alice, 'bakery.example', 'spf') });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return (res.body as { changeId: number }).changeId;
}

describe('a fix or an undo whose outcome the history database cannot record', () => {
  test('fix page: applied, the zone written — never the store’s words; the store’s error is in the log', async () => {
    const x = await world();
    const hash = await planHash(x.alice, 'bakery.example', 'spf');
    x.f.fail('settleIntent', 'io');
    const { result: res, log } = await capturingLog(() => x.alice.agent.post('/domains/bakery.example/fix').type('form').send({ _csrf: x.alice.csrf, check: 'spf', planHash: hash }));
    assert.equal(x.f.failed, 1);
    assert.equal(res.status, 200);
    assert.match(res.text, /id="outcome" data-verified=/);
    assert.match(shown(res.text), /^applied\b.*could not be recorded/);
    assertNoStoreWords(res.text, x.dbPath, 'fix result page');
    assert.ok(log.includes(x.dbPath), `the log has the store's error:\n${log}`);
  });

  test('fix API: the same in the JSON', async () => {
    const x = await world();
    const hash = await planHash(x.alice, 'bakery.example', 'spf');
    x.f.fail('settleIntent', 'io');
    const { result: res, log } = await capturingLog(() => x.alice.agent.post('/api/domains/bakery.example/fix').set('x-csrf-token', x.alice.csrf).send({ check: 'spf', planHash: hash }));
    assert.equal(res.status, 200);
    const body = res.body as { status: string; message: string };
    assert.equal(body.status, 'applied');
    assert.match(body.message, /could not be recorded/);
    assertNoStoreWords(res.text, x.dbPath, 'fix API');
    assert.ok(log.includes(x.dbPath));
  });

  test('undo page and API: undone, its outcome not recorded — never the store’s words', async () => {
    const x = await world();
    const id = await appliedFix(x);
    x.f.fail('recordUndone', 'io');
    const { result: page, log } = await capturingLog(() => x.alice.agent.post(`/changes/${id}/undo`).type('form').send({ _csrf: x.alice.csrf }));
    assert.equal(page.status, 200);
    assert.match(shown(page.text), /^undone\b.*could not be recorded/);
    assertNoStoreWords(page.text, x.dbPath, 'undo result page');
    assert.ok(log.includes(x.dbPath));

    // The API's undo, on a second fix.
    const id2 = await appliedFix(x);
    x.f.fail('recordUndone', 'io');
    const { result: api } = await capturingLog(() => x.alice.agent.post(`/api/changes/${id2}/undo`).set('x-csrf-token', x.alice.csrf));
    assert.equal(api.status, 200);
    assert.match((api.body as { message: string }).message, /^undone\b.*could not be recorded/);
    assertNoStoreWords(api.text, x.dbPath, 'undo API');
  });

  test('a fix the store stops before its outcome is known: where to look (the domain’s history), never the store’s words', async () => {
    const x = await world();
    const hash = await planHash(x.alice, 'bakery.example', 'spf');
    x.f.fail('recordIntent', 'io');
    const { result: res, log } = await capturingLog(() => x.alice.agent.post('/domains/bakery.example/fix').type('form').send({ _csrf: x.alice.csrf, check: 'spf', planHash: hash }));
    assert.equal(res.status, 500);
    assert.match(shown(res.text), /^The history database could not be read or written \(the server's log says why\): the fix stopped .*history/);
    assert.match(res.text, /href="\/history\?domain=bakery\.example"/);
    assertNoStoreWords(res.text, x.dbPath, 'fix error page');
    assert.ok(log.includes(x.dbPath));

    x.f.fail('recordIntent', 'io');
    const { result: api } = await capturingLog(() => x.alice.agent.post('/api/domains/bakery.example/fix').set('x-csrf-token', x.alice.csrf).send({ check: 'spf', planHash: hash }));
    assert.equal(api.status, 500);
    assert.match((api.body as { error: string }).error, /the fix stopped .*history/);
    assertNoStoreWords(api.text, x.dbPath, 'fix API error');
  });
});

describe("the admin's settings unreadable under a preview, a fix or an audit", () => {
  const mailchannelsKey = (...args: unknown[]) => args[0] === SETTING_KEYS.mailchannelsAccountId;

  test('preview and fix: refused in words of mailhealth’s own', async () => {
    const x = await world();
    const hash = await planHash(x.alice, 'bakery.example', 'spf');
    x.f.fail('getSetting', 'io', { times: Infinity, match: mailchannelsKey });
    const { result: preview, log } = await capturingLog(() => x.alice.agent.get('/domains/bakery.example/fix?check=spf'));
    assert.equal(preview.status, 409);
    assert.match(shown(preview.text), /settings could not be read/);
    assertNoStoreWords(preview.text, x.dbPath, 'preview');
    assert.ok(log.includes(x.dbPath));

    const { result: apiPreview } = await capturingLog(() => x.alice.agent.get('/api/domains/bakery.example/fix?check=spf'));
    assert.equal(apiPreview.status, 409);
    assertNoStoreWords(apiPreview.text, x.dbPath, 'API preview');

    const { result: fix } = await capturingLog(() => x.alice.agent.post('/domains/bakery.example/fix').type('form').send({ _csrf: x.alice.csrf, check: 'spf', planHash: hash }));
    assert.equal(fix.status, 409);
    assert.match(shown(fix.text), /^Refused: .*settings could not be read/);
    assertNoStoreWords(fix.text, x.dbPath, 'fix refusal');

    const { result: apiFix } = await capturingLog(() => x.alice.agent.post('/api/domains/bakery.example/fix').set('x-csrf-token', x.alice.csrf).send({ check: 'spf', planHash: hash }));
    assert.equal((apiFix.body as { status: string }).status, 'refused');
    assertNoStoreWords(apiFix.text, x.dbPath, 'API fix refusal');
  });

  test('an audit: its finding (recorded, shown on the domain’s page) says so without the store’s words', async () => {
    const x = await world();
    x.f.fail('getSetting', 'io', { times: Infinity, match: mailchannelsKey });
    const { log } = await capturingLog(async () => x.alice.agent.post('/domains/bakery.example/audit').type('form').send({ _csrf: x.alice.csrf }).expect(303));
    assert.ok(log.includes(x.dbPath));
    x.f.fail('getSetting', 'io', { times: 0 });
    const page = await x.alice.agent.get('/domains/bakery.example').expect(200);
    assert.match(page.text, /settings could not be read/);
    assertNoStoreWords(page.text, x.dbPath, 'domain page');
    const api = await x.alice.agent.get('/api/domains/bakery.example').expect(200);
    assertNoStoreWords(api.text, x.dbPath, 'domain API');
  });
});

describe('another process holding the history database (a real write lock on the file)', () => {
  /** `fn` while another connection holds a write transaction on the database file. */
  async function whileHeld<T>(dbPath: string, fn: () => Promise<T>): Promise<{ result: T; log: string }> {
    const other = holder(dbPath);
    other.hold();
    try {
      return await capturingLog(fn);
    } finally {
      other.close();
    }
  }

  // "Verify again" while the database is held: the check is made and its answer given, with "could not be recorded"
  // (verify-unrecorded.test.ts).
  test('an audit, the settings, a bulk audit: each says what was not done, and that nothing changed', async () => {
    const x = await world();
    const cases: { name: string; send: () => Promise<{ status: number; text: string; body: unknown }>; says: RegExp; api?: boolean }[] = [
      { name: 'audit (page)', send: () => x.alice.agent.post('/domains/bakery.example/audit').type('form').send({ _csrf: x.alice.csrf }), says: /busy .*: the audit could not be recorded\. Nothing was changed on the domain\. Try again in a moment\./ },
      { name: 'audit (API)', api: true, send: () => x.alice.agent.post('/api/domains/bakery.example/audit').set('x-csrf-token', x.alice.csrf), says: /busy .*: the audit could not be recorded\. Nothing was changed on the domain\./ },
      { name: 'settings', send: () => x.root.agent.post('/settings').type('form').send({ _csrf: x.root.csrf, retentionDays: '45' }), says: /busy .*: the settings were not saved\. Try again in a moment\./ },
      { name: 'bulk audit (API)', api: true, send: () => x.root.agent.post('/api/bulk').set('x-csrf-token', x.root.csrf).send({}), says: /busy .*: the bulk audit was not started\. Nothing was changed\./ },
    ];
    for (const c of cases) {
      const { result: res, log } = await whileHeld(x.dbPath, c.send);
      assert.equal(res.status, 503, `${c.name}: ${res.text.slice(0, 300)}`);
      const message = c.api ? (res.body as { error: string }).error : shown(res.text);
      assert.match(message, /^The history database is busy \(another mailhealth process is writing to it\)/, c.name);
      assert.match(message, c.says, c.name);
      assertNoStoreWords(res.text, x.dbPath, c.name);
      assert.ok(log.includes(x.dbPath), `${c.name}: the store's error is logged`);
    }
    // Nothing was saved while held: the settings page still shows the default retention.
    const settings = await x.root.agent.get('/settings').expect(200);
    assert.match(settings.text, /name="retentionDays" inputmode="numeric" value="(?!45")\d+"/);
  });
});

describe('pages that read the history', () => {
  test('the settings page: the last nightly report unknown, never the store’s words', async () => {
    const x = await world();
    x.f.fail('listRuns', 'io');
    const { result: res, log } = await capturingLog(() => x.root.agent.get('/settings'));
    assert.equal(res.status, 200);
    assert.match(res.text, /Last nightly report: not known: the history database could not be read \(the server&#39;s log says why\)\./);
    assertNoStoreWords(res.text, x.dbPath, 'settings page');
    assert.ok(log.includes(x.dbPath));
  });

  test("the history and GET /api/changes: a change's stored error that quotes the store is shown without it", async () => {
    const x = await world();
    const id = await appliedFix(x);
    // An error text as an older version (or another process) may have stored it, quoting the store.
    (store as unknown as { db: { prepare(sql: string): { run(...a: unknown[]): unknown } } }).db
      .prepare('UPDATE changes SET error = ? WHERE id = ?')
      .run(`written late — the history database failed (mailhealth database ${x.dbPath}: SQLITE_IOERR disk I/O error)`, id);
    const { result: page } = await capturingLog(() => x.alice.agent.get('/history?domain=bakery.example'));
    assert.equal(page.status, 200);
    // Only the words naming the database's file are withheld (services.ts shownText), not said to be a failure of its own.
    assert.match(page.text, /written late — the history database failed \(withheld: the server&#39;s log has it\)/);
    assertNoStoreWords(page.text, x.dbPath, 'history page');
    const { result: api } = await capturingLog(() => x.alice.agent.get('/api/changes?domain=bakery.example'));
    assert.equal(api.status, 200);
    assertNoStoreWords(api.text, x.dbPath, 'GET /api/changes');
  });
});

describe('bulk fix pages in the request', () => {
  test('a preview the store fails for one domain: that row says so in words of mailhealth’s own', async () => {
    const x = await world();
    x.f.fail('getSetting', 'io', { match: (key) => key === SETTING_KEYS.blocklists });
    const { result: res, log } = await capturingLog(() =>
      x.root.agent.post('/bulk/fix/preview').type('form').send({ _csrf: x.root.csrf, check: 'spf', domains: ['bakery.example'] }),
    );
    assert.equal(x.f.failed, 1);
    assert.equal(res.status, 200);
    assert.match(res.text, /The history database could not be read or written \(the server&#39;s log says why\): this page could not be shown/);
    assertNoStoreWords(res.text, x.dbPath, 'bulk fix preview');
    assert.ok(log.includes(x.dbPath));
  });

  test('an applied domain whose outcome quoted the store (shown when its job could not be kept): its row never does', async () => {
    const path = '/var/lib/mailhealth/history.db';
    const quoted = `applied — the zone was written, but its outcome could not be recorded yet: the history database failed (mailhealth database ${path}: The database connection is not open). The history shows change 7 as pending`;
    const { result, log } = await capturingLog(async () => [
      shownDetail({ path }, 'a.example', { status: 'applied', message: quoted, changeId: 7 }),
      shownDetail({ path }, 'a.example', { status: 'failed', reason: `mailhealth database ${path}: The database connection is not open` }),
    ]);
    assert.equal(result[0].message, "applied — the zone was written, but its outcome could not be recorded yet: the history database failed (withheld: the server's log has it). The history shows change 7 as pending");
    // Quoted other than in parentheses: the whole reason gives way to what its status tells, never a claim that the
    // database failed (the text may be a record's or a panel's that named the file).
    assert.equal(result[1].reason, "The reason is not shown here (the server's log has it): the domain's history shows what was written.");
    assert.ok(log.includes(path));
  });
});
