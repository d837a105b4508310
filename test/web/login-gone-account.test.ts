// A login attempt naming a user the panel no longer lists (or lists as another account: moved to another reseller)
// forgets that name's password, binding and sessions then and there — not only when one of its sessions comes back.
// Reviewer's case: bob removed, nobody visits, the panel later creates a new customer "bob" of the same reseller; the
// old password (and the old browser's mh_device cookie) logged into the new bob's account.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import request from 'supertest';
import { hashPassword } from '../../src/web/passwords.js';
import { accountKey, DEVICE_COOKIE, PASSWORD_ACCOUNT_SETTING, REVOKED_BEFORE_SETTING } from '../../src/web/session.js';
import { accountWorld, cookieOf, type Account } from './account-world.js';
import { NO_LIMITS, PASSWORD } from './helpers.js';

const LIMITS = { ...NO_LIMITS, login: { capacity: 3, perMinute: 0 }, loginUser: { capacity: 4, perMinute: 0 } };
/** The demo panel (a copy) on a fake clock; bob's password set as `user set-password` sets it (bound to his account). */
async function world(t: TestContext) {
  const { app, store, clock, edit, attempt, cfgPath } = await accountWorld(t, { limits: LIMITS, advanceOnEdit: false });
  store.setPasswordHash('bob', await hashPassword(PASSWORD));
  store.setSetting(PASSWORD_ACCOUNT_SETTING('bob'), accountKey({ role: 'customer', owner: 'rita' }));
  return { app, store, clock, edit, attempt, cfgPath };
}

const bobsAccount = (a: Account[]) => a.find((x) => x.user === 'bob')!;

test('bob removed, nobody visits, a new bob of the same reseller: the old password, device cookie and session are worth nothing', async (t) => {
  const { app, store, clock, edit, attempt } = await world(t);
  const first = await attempt('bob', PASSWORD);
  assert.equal(first.status, 303);
  const device = cookieOf(first, DEVICE_COOKIE)!;
  const session = cookieOf(first, 'mh_session')!;
  let removed: Account | undefined;
  edit((a) => {
    removed = bobsAccount(a);
    return a.filter((x) => x.user !== 'bob');
  });
  clock.t += 3600_000; // an hour with no bob, and no bob session coming back
  assert.equal((await attempt('bob', PASSWORD)).status, 401, 'bob is gone');
  const goneAt = clock.t;
  edit((a) => [...a, removed!]); // a new customer "bob" of rita: the same name, role and owner
  clock.t += 3600_000;
  assert.equal((await attempt('bob', PASSWORD)).status, 401, 'the old password does not log in as the new bob');
  assert.equal((await request(app).get('/api/domains').set('Cookie', session)).status, 401, 'the old session is over');
  for (let i = 0; i < 4; i++) await attempt('bob', `guess ${i}`);
  assert.equal((await attempt('bob', PASSWORD)).status, 429, 'the per-user bucket is empty');
  assert.equal((await attempt('bob', PASSWORD, device)).status, 429, 'the old device cookie no longer lifts it');
  // Because the attempt while bob was gone forgot his login: password, binding, and sessions before it.
  assert.equal(store.getPasswordHash('bob'), null);
  assert.equal(store.getSetting(PASSWORD_ACCOUNT_SETTING('bob')), undefined);
  assert.equal(store.getSetting(REVOKED_BEFORE_SETTING('bob')), goneAt + 1);
});

test('a gone name with a password and a name never known get the same answer; the unknown one leaves nothing stored', async (t) => {
  const { store, edit, attempt } = await world(t);
  edit((a) => a.filter((x) => x.user !== 'bob'));
  const shown = (r: request.Response) => ({ status: r.status, cookies: r.headers['set-cookie'] ?? null, body: r.text.replace(/name="_csrf" value="[^"]*"/g, '').replace(/name="csrf-token" content="[^"]*"/g, '').replace(/value="(bob|zed)"/, 'value="NAME"') });
  const gone = await attempt('bob', 'wrong or right, it does not matter');
  const never = await attempt('zed', 'wrong or right, it does not matter');
  assert.equal(gone.status, 401);
  assert.deepEqual(shown(gone), shown(never));
  assert.equal(store.getPasswordHash('bob'), null);
  assert.equal(store.getSetting(REVOKED_BEFORE_SETTING('zed')), undefined, 'a name with nothing stored writes nothing (no row per guessed name)');
  assert.equal(Object.keys(store.allSettings()).some((k) => k.endsWith('.zed')), false);
});

test('a panel that lists nobody, or whose panel.json is cut short, proves nothing: the password stays', async (t) => {
  const { store, edit, attempt, cfgPath } = await world(t);
  const good = readFileSync(cfgPath, 'utf8');
  edit(() => []);
  assert.equal((await attempt('bob', PASSWORD)).status, 401, 'nobody can log in while the panel lists nobody');
  assert.notEqual(store.getPasswordHash('bob'), null, 'but an empty list forgets nothing');
  writeFileSync(cfgPath, good.slice(0, Math.floor(good.length / 2)));
  const broken = await attempt('bob', PASSWORD);
  assert.ok(broken.status >= 500, `a panel read that fails is an error (${broken.status})`);
  assert.notEqual(store.getPasswordHash('bob'), null, 'and forgets nothing');
  assert.equal(store.getSetting(REVOKED_BEFORE_SETTING('bob')), undefined);
  writeFileSync(cfgPath, good);
  assert.equal((await attempt('bob', PASSWORD)).status, 303, 'the panel answers again: bob logs in');
});

test('bob moved to another reseller: the old password is refused and forgotten (the moved account sets a new one)', async (t) => {
  const { store, edit, attempt } = await world(t);
  edit((a) => a.map((x) => (x.user === 'bob' ? { ...x, owner: 'root' } : x)));
  assert.equal((await attempt('bob', PASSWORD)).status, 401);
  assert.equal(store.getPasswordHash('bob'), null);
  assert.equal(store.getSetting(PASSWORD_ACCOUNT_SETTING('bob')), undefined);
});

test('a listed account with a wrong password keeps its password (only a gone account is forgotten)', async (t) => {
  const { store, attempt } = await world(t);
  assert.equal((await attempt('bob', 'not the password')).status, 401);
  assert.notEqual(store.getPasswordHash('bob'), null);
  assert.equal(store.getSetting(REVOKED_BEFORE_SETTING('bob')), undefined);
  assert.equal((await attempt('bob', PASSWORD)).status, 303);
});

test('a session coming back while the panel lists nobody is not honoured, but nothing is revoked or forgotten', async (t) => {
  const { app, store, clock, edit, attempt, cfgPath } = await world(t);
  const first = await attempt('bob', PASSWORD);
  const session = cookieOf(first, 'mh_session')!;
  const good = readFileSync(cfgPath, 'utf8');
  edit(() => []);
  clock.t += 11_000; // past the app's 10 s account cache
  assert.equal((await request(app).get('/api/domains').set('Cookie', session)).status, 401, 'no account listed: no identity');
  assert.notEqual(store.getPasswordHash('bob'), null, 'an empty list proves nothing: the password stays');
  assert.equal(store.getSetting(REVOKED_BEFORE_SETTING('bob')), undefined, 'and no session is revoked');
  writeFileSync(cfgPath, good);
  clock.t += 11_000;
  assert.equal((await request(app).get('/api/domains').set('Cookie', session)).status, 200, 'the panel lists bob again: his session works');
  // Whereas a list without bob (others listed) is the panel's word: the returning session forgets his login.
  edit((a) => a.filter((x) => x.user !== 'bob'));
  clock.t += 11_000;
  assert.equal((await request(app).get('/api/domains').set('Cookie', session)).status, 401);
  assert.equal(store.getPasswordHash('bob'), null);
  assert.equal(store.getSetting(PASSWORD_ACCOUNT_SETTING('bob')), undefined);
  assert.equal(store.getSetting(REVOKED_BEFORE_SETTING('bob')), clock.t + 1);
});
