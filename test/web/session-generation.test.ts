// The session generation (routes/auth.ts): endSessions moves it on by one and the "revoked before" time never back;
// sessions carry the generation they were issued in (`gen`), and one of an earlier generation is over. A session of
// the previous version (no `gen`) counts as generation 0. Behaviour across clock steps: clock-step-sessions.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { createApp, type MailhealthApp } from '../../src/web/app.js';
import { endSessions, SESSION_GENERATION_SETTING, sessionGeneration } from '../../src/web/routes/auth.js';
import { decodeSession, encodeSession, REVOKED_BEFORE_SETTING } from '../../src/web/session.js';
import { accountWorld, cookieOf } from './account-world.js';
import { csrfFrom, PASSWORD, setPasswords } from './helpers.js';

const HOUR = 3600_000;

async function logIn(app: MailhealthApp, user: string) {
  const agent = request.agent(app);
  const page = await agent.get('/login').expect(200);
  const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), user, password: PASSWORD }).expect(303);
  const cookie = cookieOf(res, 'mh_session')!;
  const me = await agent.get('/api/me').expect(200);
  return { agent, cookie, csrf: (me.body as { csrf: string }).csrf };
}

const userOf = async (app: MailhealthApp, cookie: string) => ((await request(app).get('/api/me').set('Cookie', cookie)).body as { user?: string }).user;

test('endSessions: the generation goes up by one, the cut-off never goes back; sessions of other users stay', async (t) => {
  const { app, store, clock } = await accountWorld(t);
  await setPasswords(store, ['alice', 'bob']);
  const bob = await logIn(app, 'bob');
  assert.equal(sessionGeneration(store, 'alice'), 0);
  endSessions(store, 'alice', clock.t + HOUR);
  assert.equal(store.getSetting(SESSION_GENERATION_SETTING('alice')), 1);
  assert.equal(store.getSetting(REVOKED_BEFORE_SETTING('alice')), clock.t + HOUR + 1);
  endSessions(store, 'alice', clock.t); // a slower clock: the cut-off moves on by 1 ms, not back an hour
  assert.equal(store.getSetting(SESSION_GENERATION_SETTING('alice')), 2);
  assert.equal(store.getSetting(REVOKED_BEFORE_SETTING('alice')), clock.t + HOUR + 2);
  assert.equal(await userOf(app, bob.cookie), 'bob');
  // A garbled stored generation counts as 0 (and is replaced by 1), never as a reason to throw.
  store.setSetting(SESSION_GENERATION_SETTING('carol'), 'x');
  assert.equal(sessionGeneration(store, 'carol'), 0);
});

test('a session from before the generation counter (no gen) works until its user\'s next logout', async (t) => {
  const { app, store } = await accountWorld(t);
  await setPasswords(store, ['alice']);
  const a = await logIn(app, 'alice');
  // As a cookie of the previous version: the same session without its `gen` (re-signed with the app's secret).
  const value = decodeURIComponent(a.cookie.slice('mh_session='.length));
  const data = decodeSession(app.context.secret, value, 0)! as unknown as Record<string, unknown>;
  assert.equal(data.gen, 0, 'issued in generation 0');
  delete data.gen;
  const old = `mh_session=${encodeSession(app.context.secret, data as never)}`;
  assert.equal(await userOf(app, old), 'alice');
  await a.agent.post('/logout').type('form').send({ _csrf: a.csrf }).expect(303);
  assert.equal(await userOf(app, old), undefined);
});

test('front door: its sessions carry the generation too — after endSessions one new session, then it stays', async (t) => {
  const { store, panel } = await accountWorld(t);
  const app = createApp({ panel, store, makeResolver: () => ({}) as never, identityFrom: 'front-door', frontDoor: () => ({ user: 'alice', role: 'customer' }) });
  const agent = request.agent(app);
  const csrf = async () => ((await agent.get('/api/me').expect(200)).body as { csrf: string }).csrf;
  const first = await csrf();
  assert.equal(await csrf(), first, 'one session for the identity');
  endSessions(store, 'alice', Date.now());
  const second = await csrf();
  assert.notEqual(second, first, 'the session of the earlier generation is replaced');
  assert.equal(await csrf(), second, 'and the new one is kept (not replaced on every request)');
});
