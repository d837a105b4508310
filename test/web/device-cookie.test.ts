// The known-device cookie (mh_device) lifts the per-user-name login limit only for the login it was earned with: a new
// password, a logout (revocation), or the account removed and the name given to a new account, and an old cookie no
// longer lifts it — as sessions end then (review: the cookie listed bare user names, "not bound to the account key",
// so the browser of a stolen session or of the name's previous owner kept guessing past the limit for a year).
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import type { Request, Response } from 'express';
import request from 'supertest';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { createApp, type MailhealthApp } from '../../src/web/app.js';
import { hashPassword } from '../../src/web/passwords.js';
import { accountKey, DEVICE_COOKIE, isKnownDevice, PASSWORD_ACCOUNT_SETTING, rememberDevice, REVOKED_BEFORE_SETTING, sessionSecret } from '../../src/web/session.js';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { csrfFrom, NO_LIMITS, PASSWORD, setPasswords } from './helpers.js';

/** Per-user bucket: 4 wrong passwords; per address and user: 3 (so the bucket is emptied from several addresses). */
const LIMITS = { ...NO_LIMITS, login: { capacity: 3, perMinute: 0 }, loginUser: { capacity: 4, perMinute: 0 } };

interface Account {
  user: string;
  role: string;
  owner?: string;
  domains?: string[];
}

/** A demo panel copy (no DNS needed), a store with the demo passwords, and the app with tight login limits. */
function world(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'mh-device-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const panelDir = join(dir, 'panel');
  cpSync(join(REPO_ROOT, 'src/demo/panel'), panelDir, { recursive: true });
  const db = join(dir, 'h.sqlite');
  const store = openStore(db);
  t.after(() => store.close());
  const app = createApp({ panel: new FilesPanel(panelDir), store, makeResolver: () => { throw new Error('no DNS'); }, identityFrom: 'session', rateLimits: LIMITS });
  const cfgPath = join(panelDir, 'panel.json');
  const accounts = (edit: (a: Account[]) => Account[]) => {
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as { accounts: Account[] };
    writeFileSync(cfgPath, JSON.stringify({ ...cfg, accounts: edit(cfg.accounts) }));
  };
  return { app, store, panelDir, db, accounts };
}

let addr = 0;
/** A fresh documentation address for each attempt, so only the per-user-name bucket decides. */
const nextAddr = () => `198.51.${Math.floor(++addr / 250) % 250}.${(addr % 250) + 1}`;

function cookieOf(res: request.Response, name: string): string | undefined {
  return ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith(`${name}=`))?.split(';')[0];
}

/** One login attempt from a browser that carries `device` (an `mh_device=…` pair) or none. */
async function attempt(app: MailhealthApp, user: string, password: string, device?: string): Promise<request.Response> {
  const page = await request(app).get('/login').set('Cookie', device ?? '');
  const session = cookieOf(page, 'mh_session')!;
  return request(app)
    .post('/login')
    .set('X-Forwarded-For', nextAddr())
    .set('Cookie', [session, device].filter(Boolean).join('; '))
    .type('form')
    .send({ _csrf: csrfFrom(page.text), user, password });
}

/** Logs in (303) and returns the browser's cookies: its session and its device cookie. */
async function loggedIn(app: MailhealthApp, user: string, password: string, device?: string): Promise<{ session: string; device: string }> {
  const res = await attempt(app, user, password, device);
  assert.equal(res.status, 303, `login ${user}`);
  return { session: cookieOf(res, 'mh_session')!, device: cookieOf(res, DEVICE_COOKIE)! };
}

/** A stranger's wrong passwords from many addresses until the per-user-name bucket is empty. */
async function emptyBucket(app: MailhealthApp, user: string): Promise<void> {
  const codes: number[] = [];
  for (let i = 0; i < 5; i++) codes.push((await attempt(app, user, `guess ${i}`)).status);
  assert.deepEqual(codes, [401, 401, 401, 401, 429], `${user}'s per-user bucket emptied`);
}

/** What `mailhealth user set-password` writes (serve.ts), without a child process. */
async function setPassword(store: Store, user: string, password: string, account: { role: string; owner?: string }): Promise<void> {
  store.setPasswordHash(user, await hashPassword(password));
  store.setSetting(PASSWORD_ACCOUNT_SETTING(user), accountKey(account));
  store.setSetting(REVOKED_BEFORE_SETTING(user), Date.now() + 1);
}

test("after the password is changed (user set-password), the old device cookie no longer lifts the user's limit; a login after it does", async (t) => {
  const { app, store, panelDir, db } = world(t);
  await setPasswords(store, ['bob']);
  const before = await loggedIn(app, 'bob', PASSWORD);
  const r = await runCli(['--panel-root', panelDir, '--db', db, 'user', 'set-password', 'bob'], 'the new bob password\n');
  assert.equal(r.code, 0, r.stderr);
  // Her browser logs in with the new password (the bucket still full): a new device cookie.
  const after = await loggedIn(app, 'bob', 'the new bob password', before.device);
  assert.notEqual(after.device, before.device);
  await emptyBucket(app, 'bob');
  assert.equal((await attempt(app, 'bob', 'the new bob password', before.device)).status, 429, 'a copy of the old device cookie waits');
  assert.equal((await attempt(app, 'bob', 'the new bob password', after.device)).status, 303, 'the browser that logged in since still logs in');
});

test('logout ends the device cookies of other browsers and copies; the browser that logged out stays known', async (t) => {
  const { app, store } = world(t);
  await setPasswords(store, ['bob']);
  const laptop = await loggedIn(app, 'bob', PASSWORD);
  const phone = await loggedIn(app, 'bob', PASSWORD);
  const me = await request(app).get('/api/me').set('Cookie', laptop.session).expect(200);
  const out = await request(app).post('/logout').set('Cookie', `${laptop.session}; ${laptop.device}`).type('form').send({ _csrf: (me.body as { csrf: string }).csrf });
  assert.equal(out.status, 303);
  await emptyBucket(app, 'bob');
  assert.equal((await attempt(app, 'bob', PASSWORD, phone.device)).status, 429, "another browser's device cookie from before the logout waits");
  assert.equal((await attempt(app, 'bob', PASSWORD, laptop.device)).status, 429, "a copy of the laptop's cookie from before the logout waits");
  const kept = cookieOf(out, DEVICE_COOKIE);
  assert.ok(kept, 'the browser that logged out gets its device cookie renewed');
  assert.equal((await attempt(app, 'bob', PASSWORD, kept)).status, 303, 'the laptop itself still logs in');
});

test('a session cookie alone earns no device cookie by logging out', async (t) => {
  const { app, store } = world(t);
  await setPasswords(store, ['bob']);
  const stolen = await loggedIn(app, 'bob', PASSWORD);
  const me = await request(app).get('/api/me').set('Cookie', stolen.session).expect(200);
  const out = await request(app).post('/logout').set('Cookie', stolen.session).type('form').send({ _csrf: (me.body as { csrf: string }).csrf });
  assert.equal(out.status, 303);
  assert.equal(cookieOf(out, DEVICE_COOKIE), undefined);
});

test('the account removed and a new account given the name: the old device cookie does not lift the new account\'s limit', async (t) => {
  const { app, store, accounts, panelDir, db } = world(t);
  await setPasswords(store, ['bob']);
  const oldBob = await loggedIn(app, 'bob', PASSWORD);
  // The panel removes bob (rita's customer) and later creates another customer "bob" (root's); the admin sets its
  // password with the CLI.
  accounts((a) => [...a.filter((x) => x.user !== 'bob'), { user: 'bob', role: 'customer', domains: [] }]);
  const r = await runCli(['--panel-root', panelDir, '--db', db, 'user', 'set-password', 'bob'], 'the new bob password\n');
  assert.equal(r.code, 0, r.stderr);
  const newBob = await loggedIn(app, 'bob', 'the new bob password');
  await emptyBucket(app, 'bob');
  assert.equal((await attempt(app, 'bob', 'the new bob password', oldBob.device)).status, 429, "the old bob's browser waits");
  assert.equal((await attempt(app, 'bob', 'the new bob password', newBob.device)).status, 303, "the new bob's browser logs in");
});

test('a browser shared by two users: a password change of one leaves the other known', async (t) => {
  const { app, store } = world(t);
  await setPasswords(store, ['alice', 'bob']);
  const a = await loggedIn(app, 'alice', PASSWORD);
  const shared = await loggedIn(app, 'bob', PASSWORD, a.device);
  await setPassword(store, 'bob', 'the new bob password', { role: 'customer', owner: 'rita' });
  await emptyBucket(app, 'alice');
  await emptyBucket(app, 'bob');
  assert.equal((await attempt(app, 'alice', PASSWORD, shared.device)).status, 303, 'alice: still known');
  assert.equal((await attempt(app, 'bob', 'the new bob password', shared.device)).status, 429, 'bob: not since his new password');
});

test('a device cookie of the earlier form (bare user names) counts for nothing', async (t) => {
  const { app, store } = world(t);
  await setPasswords(store, ['bob']);
  await loggedIn(app, 'bob', PASSWORD); // the secret exists, and bob's login is bound
  const payload = Buffer.from(JSON.stringify({ u: ['bob'], exp: Math.floor(Date.now() / 1000) + 86_400 })).toString('base64url');
  const mac = createHmac('sha256', sessionSecret(store)).update(`device:${payload}`).digest('base64url');
  const old = `${DEVICE_COOKIE}=${payload}.${mac}`;
  await emptyBucket(app, 'bob');
  assert.equal((await attempt(app, 'bob', PASSWORD, old)).status, 429);
});

/** A request carrying `cookie` and a response collecting Set-Cookie, enough for rememberDevice/isKnownDevice. */
function fakeExchange(cookie: string | undefined): { req: Request; res: Response; set: () => string | undefined } {
  const headers: Record<string, unknown> = {};
  const req = { headers: { cookie }, secure: false, socket: { remoteAddress: '192.0.2.1' }, get: () => undefined } as unknown as Request;
  const res = { getHeader: (k: string) => headers[k.toLowerCase()], setHeader: (k: string, v: unknown) => void (headers[k.toLowerCase()] = v) } as unknown as Response;
  const set = () => ([] as string[]).concat((headers['set-cookie'] as string[] | undefined) ?? []).find((c) => c.startsWith(`${DEVICE_COOKIE}=`))?.split(';')[0];
  return { req, res, set };
}

test('eight users per browser, stale ones dropped first; the cookie stays small', () => {
  const settings = new Map<string, unknown>();
  const store = { getSetting: <T>(k: string) => settings.get(k) as T | undefined, getPasswordHash: (u: string) => `hash-of-${u}` };
  const secret = Buffer.alloc(32, 7);
  const now = 1_900_000_000;
  // Long names (Plesk logins can be long): eight of them still make a cookie well under the 4 KB browsers keep.
  const users = Array.from({ length: 9 }, (_, i) => `user${i}-${'x'.repeat(54)}`);
  let cookie: string | undefined;
  for (const u of users.slice(0, 8)) {
    const x = fakeExchange(cookie);
    rememberDevice(x.req, x.res, secret, store, u, now);
    cookie = x.set();
  }
  assert.ok(cookie && cookie.length < 1200, `cookie of ${cookie?.length} characters`);
  const known = (u: string) => isKnownDevice(secret, store, fakeExchange(cookie).req, u, now);
  assert.deepEqual(users.map(known), [...Array(8).fill(true), false]);
  // users[3] logs out elsewhere: the entry is stale, and the ninth user takes its place, not the oldest user's.
  settings.set(REVOKED_BEFORE_SETTING(users[3]), now * 1000);
  assert.equal(known(users[3]), false);
  const x = fakeExchange(cookie);
  rememberDevice(x.req, x.res, secret, store, users[8], now);
  cookie = x.set();
  assert.deepEqual(users.map(known), users.map((_, i) => i !== 3));
  // Expired: nothing.
  assert.equal(isKnownDevice(secret, store, fakeExchange(cookie).req, users[0], now + 366 * 86_400), false);
});
