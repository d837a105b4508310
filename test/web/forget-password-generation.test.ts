// A removed account's sessions end by the session generation, not only by time (session.ts forgetPassword, which
// serve's sweep — sweepGoneAccounts — and the login of a gone account use). forgetPassword set the "revoked before"
// time to its clock's now: a session issued while the clock was an hour fast carried a later issue time, so once the
// clock was corrected it outlived the account's removal — and logged in as the new account given the name (same role
// and owner), which nothing else tells apart. The demo panel (a copy) behind the app on a fake clock, no DNS.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import type { MailhealthApp } from '../../src/web/app.js';
import { hashPassword } from '../../src/web/passwords.js';
import { accountKey, forgetPassword, PASSWORD_ACCOUNT_SETTING, sessionGeneration, sweepGoneAccounts } from '../../src/web/session.js';
import { accountWorld, cookieOf, type Account } from './account-world.js';
import { csrfFrom, PASSWORD } from './helpers.js';

const HOUR = 3600_000;

async function logIn(app: MailhealthApp, user: string) {
  const agent = request.agent(app);
  const page = await agent.get('/login').expect(200);
  const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), user, password: PASSWORD }).expect(303);
  return cookieOf(res, 'mh_session')!;
}

const userOf = async (app: MailhealthApp, cookie: string) => ((await request(app).get('/api/me').set('Cookie', cookie)).body as { user?: string }).user;

async function bobWorld(t: Parameters<typeof accountWorld>[0]) {
  const w = await accountWorld(t);
  // As `user set-password` stores it: bound to bob's account (customer of rita).
  w.store.setPasswordHash('bob', await hashPassword(PASSWORD));
  w.store.setSetting(PASSWORD_ACCOUNT_SETTING('bob'), accountKey({ role: 'customer', owner: 'rita' }));
  return w;
}

test('serve\'s sweep: a session issued while the clock was fast does not outlive bob removed and created again', async (t) => {
  const { app, store, clock, edit, panel } = await bobWorld(t);
  const real = clock.t;
  clock.t = real + HOUR; // the clock runs an hour fast
  const old = await logIn(app, 'bob');
  assert.equal(await userOf(app, old), 'bob');
  clock.t = real + 5 * 60_000; // NTP corrects it
  let removed: Account | undefined;
  edit((a) => {
    removed = a.find((x) => x.user === 'bob');
    return a.filter((x) => x.user !== 'bob');
  });
  assert.deepEqual(await sweepGoneAccounts(store, () => panel.listAccounts(), () => clock.t), { forgotten: ['bob'], bound: [] });
  edit((a) => [...a, removed!]); // the new bob: same name, role and owner
  assert.equal(await userOf(app, old), undefined, 'the old bob\'s session does not log in as the new bob');
});

test('forgetPassword ends the sessions by generation, once per call', async (t) => {
  const { store, clock } = await bobWorld(t);
  assert.equal(sessionGeneration(store, 'bob'), 0);
  forgetPassword(store, 'bob', clock.t);
  assert.equal(sessionGeneration(store, 'bob'), 1);
  assert.equal(store.getPasswordHash('bob'), null);
  assert.equal(store.getSetting(PASSWORD_ACCOUNT_SETTING('bob')), undefined);
});
