// "Verify again" (page and API) when the history database cannot store the answer (QA, store-failure wording): the
// check is made — its answer is known — but storing it fails. Before: the answer was dropped and the page (and the API)
// said only "the change's records could not be checked, or what the check found could not be recorded". Now, as the
// CLI's `verify` (core's recheckChange / unrecordedCheckNote): the answer found, and that it could not be recorded —
// never the database file's path or SQLite's words; the store's own error goes to the server's log. The history's own
// re-check on view (reverify.ts reverifyStale) lists such a change as the history holds it and logs the answer.
// The page: a check that ran and found an answer is a result (200, views/verify-result.ejs: a role="status" warning
// with the answer and why it is not recorded, Verify again, the way back to the change) — not the store-failure error
// page ("Something went wrong" 500 / "Not available right now" 503) it was.
//
// Real SQLite on a real file (failing-store.ts): 'io' is the store's own error for a file it cannot use; 'busy' is a
// real write lock held by another connection. The app's store waits 20 ms for a lock; no clock.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { createApp, type MailhealthApp } from '../../src/web/app.js';
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
}

async function world(): Promise<World> {
  w = await demoWorld({ seedAudits: true });
  store = openStore(w.store.path, { busyTimeoutMs: 20 });
  failing = failingStore(store);
  const app = createApp({ panel: w.panel, store: failing.store, makeResolver: w.makeResolver, identityFrom: 'session', rateLimits: NO_LIMITS });
  return { app, f: failing, dbPath: w.store.path, alice: await login(app, 'alice') };
}

/** An applied SPF fix of bakery.example (alice's), its verification set to `propagating` (as a fix just written). */
async function propagatingFix(x: World): Promise<number> {
  const hash = ((await x.alice.agent.get('/api/domains/bakery.example/fix?check=spf').expect(200)).body as { planHash: string }).planHash;
  const res = await x.alice.agent.post('/api/domains/bakery.example/fix').set('x-csrf-token', x.alice.csrf).send({ check: 'spf', planHash: hash });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const id = (res.body as { changeId: number }).changeId;
  store!.setVerified(id, 'propagating');
  return id;
}

function assertNoStoreWords(text: string, dbPath: string, where: string): void {
  assert.ok(!text.includes(dbPath), `${where}: shows the database path`);
  for (const raw of [/SQLITE_/, /database is locked/i, /locked by another process/i, /mailhealth database/i, /connection is not open/i]) {
    assert.doesNotMatch(text, raw, `${where}: quotes the store`);
  }
}

/** The error page's message, tags dropped and entities read. */
function shown(html: string): string {
  const m = /<p class="msg"[^>]*>([\s\S]*?)<\/p>/.exec(html);
  return (m?.[1] ?? '').replace(/<[^>]+>/g, '').replace(/&#39;/g, "'").replace(/&amp;/g, '&').replace(/\s+/g, ' ').trim();
}

/**
 * The result page's notice (not an error page: the check ran and found an answer): a warning with role="status", its
 * text with tags dropped and entities read; null when the page has none.
 */
function notice(html: string): string | null {
  const m = /<p class="alert alert-warn" role="status" id="outcome" data-verified="(yes|propagating|no)" data-recorded="false">([\s\S]*?)<\/p>/.exec(html);
  return m ? m[2].replace(/<[^>]+>/g, '').replace(/&#39;/g, "'").replace(/&amp;/g, '&').replace(/\s+/g, ' ').trim() : null;
}

/** The check's answer in the demo world (the panel and its nameserver hold the fix's records): verified. */
const FOUND = /^Change (\d+) \(SPF, bakery\.example\) was checked again: verified — the panel and every one of the domain's nameservers answer with its records\. /;
const UNRECORDED_IO =
  /This answer could not be recorded in the history \(the history database could not be read or written\): the history still shows the change as propagating until it is verified again; nothing was changed in the zone\.$/;

test('"Verify again" page: the answer found, and that it could not be recorded — the store\'s error in the log only', async () => {
  const x = await world();
  const id = await propagatingFix(x);
  x.f.fail('setVerified', 'io');
  const { result: res, log } = await capturingLog(() => x.alice.agent.post(`/changes/${id}/verify`).type('form').send({ _csrf: x.alice.csrf }));
  assert.equal(x.f.failed, 1);
  assert.equal(res.status, 200, `a check that ran and found an answer is a result, not an error page:\n${log}`);
  assert.doesNotMatch(res.text, /Something went wrong|Not available right now|class="msg"/, 'not the error page');
  const message = notice(res.text);
  assert.ok(message !== null, `the answer is a role="status" warning:\n${res.text}`);
  assert.match(res.text, new RegExp(`data-verified="yes" data-recorded="false"`));
  assert.match(message, FOUND);
  assert.equal(FOUND.exec(message)![1], String(id));
  assert.match(message, UNRECORDED_IO);
  assert.match(res.text, new RegExp(`href="/history\\?domain=bakery\\.example&amp;before=${id + 1}#change-${id}"`), 'links back to the change');
  assert.match(res.text, new RegExp(`<form method="post" action="/changes/${id}/verify"`), 'offers Verify again');
  assertNoStoreWords(res.text, x.dbPath, 'verify page');
  assert.ok(log.includes(x.dbPath), `the log has the store's error:\n${log}`);
  assert.match(log, /the answer found \(verified: yes\) could not be recorded/);
  assert.equal(store!.getChange(id)!.verified, 'propagating', 'the history still holds the earlier check');
});

test('"Verify again" API: 200 with the answer found, recorded: false and the message; a stored answer says recorded: true', async () => {
  const x = await world();
  const id = await propagatingFix(x);
  x.f.fail('setVerified', 'io');
  const { result: res, log } = await capturingLog(() => x.alice.agent.post(`/api/changes/${id}/verify`).set('x-csrf-token', x.alice.csrf));
  assert.equal(res.status, 200, res.text);
  const body = res.body as { id: number; verified: string; recorded: boolean; message: string };
  assert.equal(body.id, id);
  assert.equal(body.verified, 'yes', 'the answer found');
  assert.equal(body.recorded, false);
  assert.match(body.message, FOUND);
  assert.match(body.message, UNRECORDED_IO);
  assertNoStoreWords(res.text, x.dbPath, 'verify API');
  assert.ok(log.includes(x.dbPath));
  // Verified again with a working store: stored, and said so.
  const again = await x.alice.agent.post(`/api/changes/${id}/verify`).set('x-csrf-token', x.alice.csrf).expect(200);
  assert.deepEqual([(again.body as { verified: string }).verified, (again.body as { recorded: boolean }).recorded], ['yes', true]);
  assert.equal(store!.getChange(id)!.verified, 'yes');
});

test('another process holding the database: the answer found, and "busy" as the reason it is not recorded', async () => {
  const x = await world();
  const id = await propagatingFix(x);
  const other = holder(x.dbPath);
  other.hold();
  try {
    const { result: page } = await capturingLog(() => x.alice.agent.post(`/changes/${id}/verify`).type('form').send({ _csrf: x.alice.csrf }));
    assert.equal(page.status, 200);
    assert.match(notice(page.text) ?? '', FOUND);
    assert.match(notice(page.text) ?? '', /could not be recorded in the history \(the history database is busy \(another mailhealth process is writing to it\)\)/);
    // Busy is a moment's wait: the page says to verify again in a moment (its Verify again button is right there).
    assert.match(notice(page.text) ?? '', /verify it again in a moment/);
    assert.match(page.text, /id="verify"/);
    assertNoStoreWords(page.text, x.dbPath, 'verify page (busy)');
    const { result: api } = await capturingLog(() => x.alice.agent.post(`/api/changes/${id}/verify`).set('x-csrf-token', x.alice.csrf));
    assert.equal(api.status, 200);
    assert.deepEqual([(api.body as { verified: string }).verified, (api.body as { recorded: boolean }).recorded], ['yes', false]);
    assert.match((api.body as { message: string }).message, /busy/);
    assertNoStoreWords(api.text, x.dbPath, 'verify API (busy)');
  } finally {
    other.close();
  }
});

test('a failure before the check (reading the history) says the records were not checked again', async () => {
  const x = await world();
  const id = await propagatingFix(x);
  // The route's own refusal read, then core's (recheckChange asks again before the check).
  for (const skip of [0, 1]) {
    x.f.fail('changesForDomain', 'io', { skip });
    const { result: res } = await capturingLog(() => x.alice.agent.post(`/changes/${id}/verify`).type('form').send({ _csrf: x.alice.csrf }));
    assert.equal(res.status, 500);
    assert.match(shown(res.text), /^The history database could not be read or written \(the server's log says why\): the change's records were not checked again\. Nothing was changed\./, `skip ${skip}`);
    assertNoStoreWords(res.text, x.dbPath, 'verify page (before the check)');
    const { result: api } = await capturingLog(async () => {
      x.f.fail('changesForDomain', 'io', { skip });
      return x.alice.agent.post(`/api/changes/${id}/verify`).set('x-csrf-token', x.alice.csrf);
    });
    assert.equal(api.status, 500);
    assert.match((api.body as { error: string }).error, /the change's records were not checked again\. Nothing was changed\./);
  }
  assert.equal(store!.getChange(id)!.verified, 'propagating');
});

test('the history\'s re-check on view: a change whose answer cannot be stored is listed as held, the answer logged', async () => {
  const x = await world();
  const id = await propagatingFix(x);
  // Its last check over a minute old: due on the next view (reverify.ts).
  (store as unknown as { db: { prepare(sql: string): { run(...a: unknown[]): unknown } } }).db.prepare('UPDATE changes SET updated_at = ? WHERE id = ?').run('2020-01-01T00:00:00.000Z', id);
  x.f.fail('setVerified', 'io');
  const { result: res, log } = await capturingLog(() => x.alice.agent.get('/history?domain=bakery.example'));
  assert.equal(res.status, 200);
  assert.equal(x.f.failed, 1, 'checked once');
  assert.match(res.text, new RegExp(`id="change-${id}"[\\s\\S]*?data-verified="propagating"`));
  assertNoStoreWords(res.text, x.dbPath, 'history page');
  assert.match(log, new RegExp(`re-verifying change ${id} \\(listed as recorded\\): the answer found \\(verified: yes\\) could not be recorded`));
  assert.ok(log.includes(x.dbPath));
});
