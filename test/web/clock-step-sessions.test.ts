// Logging out ends every session of the user issued before it, whatever the clock did (QA, time handling item 2). The
// cut-off was a time (now + 1 ms, wall clock): a session issued while the clock was an hour fast carried a later issue
// time than a logout made after NTP corrected the clock, and survived it; and that logout LOWERED the stored cut-off,
// reviving a session an earlier logout (under the fast clock) had ended. Sessions now carry their user's session
// generation, which logout (and `user set-password`, test/cli/set-password-clock.test.ts) moves on. Also: the app's
// 10 s account cache after a clock step back. The demo panel (a copy) behind the app on a fake clock, no DNS.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import type { MailhealthApp } from '../../src/web/app.js';
import { REVOKED_BEFORE_SETTING } from '../../src/web/session.js';
import { accountWorld, cookieOf } from './account-world.js';
import { csrfFrom, PASSWORD, setPasswords } from './helpers.js';

const HOUR = 3600_000;

/** Logs in through the form from a fresh browser; returns its session cookie and CSRF token. */
async function logIn(app: MailhealthApp, user: string) {
  const agent = request.agent(app);
  const page = await agent.get('/login').expect(200);
  const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), user, password: PASSWORD }).expect(303);
  const cookie = cookieOf(res, 'mh_session')!;
  const me = await agent.get('/api/me').expect(200);
  return { agent, cookie, csrf: (me.body as { csrf: string }).csrf };
}

const userOf = async (app: MailhealthApp, cookie: string) => ((await request(app).get('/api/me').set('Cookie', cookie)).body as { user?: string }).user;

test('a logout after the clock was corrected ends a session issued while it was an hour fast', async (t) => {
  const { app, store, clock } = await accountWorld(t);
  await setPasswords(store, ['alice']);
  const real = clock.t;
  clock.t = real + HOUR; // the clock runs an hour fast
  const a = await logIn(app, 'alice'); // browser A; a copy of its cookie is taken
  clock.t = real + 5 * 60_000; // NTP corrects the clock
  const b = await logIn(app, 'alice'); // browser B logs out "everywhere"
  await b.agent.post('/logout').type('form').send({ _csrf: b.csrf }).expect(303);
  assert.equal(await userOf(app, a.cookie), undefined, 'the copied cookie of browser A is over');
  assert.equal(await userOf(app, b.cookie), undefined, 'and B\'s own');
  // A login after it works, whatever the stored cut-off.
  const c = await logIn(app, 'alice');
  assert.equal(await userOf(app, c.cookie), 'alice');
});

test('a logout after the clock was corrected does not revive a session an earlier logout ended', async (t) => {
  const { app, store, clock } = await accountWorld(t);
  await setPasswords(store, ['alice']);
  const real = clock.t;
  clock.t = real + HOUR;
  const a = await logIn(app, 'alice');
  clock.t += 60_000;
  await a.agent.post('/logout').type('form').send({ _csrf: a.csrf }).expect(303);
  assert.equal(await userOf(app, a.cookie), undefined, 'ended by the first logout');
  const cutOff = store.getSetting<number>(REVOKED_BEFORE_SETTING('alice'))!;
  clock.t = real + 5 * 60_000; // clock corrected
  const b = await logIn(app, 'alice');
  await b.agent.post('/logout').type('form').send({ _csrf: b.csrf }).expect(303);
  assert.equal(await userOf(app, a.cookie), undefined, 'still over after the second logout');
  assert.ok(store.getSetting<number>(REVOKED_BEFORE_SETTING('alice'))! > cutOff, 'the stored cut-off never goes back');
});

test('an account removed while the clock stepped back is not let in from the cached account list for the step\'s length', async (t) => {
  const { app, store, clock, edit } = await accountWorld(t, { advanceOnEdit: false });
  await setPasswords(store, ['alice']);
  const real = clock.t;
  clock.t = real + HOUR; // fast clock: the account list is read (and cached) "at 13:00"
  const a = await logIn(app, 'alice');
  clock.t = real; // corrected
  const removedAt = clock.t;
  edit((list) => list.filter((x) => x.user !== 'alice')); // the admin removes alice
  clock.t = removedAt + 11_000; // past the cache's 10 s
  assert.equal(await userOf(app, a.cookie), undefined, 'the account is gone: its session is over');
});
