// The login form's rate-limit refusal says when the next attempt is allowed and sends Retry-After, as every other rate
// limit's refusal does (http.ts takeToken; README "Rate limits"): it said "Wait a minute" whatever the wait, with no
// header — a script could not tell when to come back, and a person was told a minute for a 12-second wait.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import request from 'supertest';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore } from '../../src/adapters/store/store.js';
import { createApp, type AppDeps, type MailhealthApp } from '../../src/web/app.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { csrfFrom, NO_LIMITS, PASSWORD, setPasswords } from './helpers.js';

const T0 = Date.parse('2027-03-01T12:00:00Z');

async function world(t: TestContext, rateLimits: AppDeps['rateLimits']) {
  const dir = mkdtempSync(join(tmpdir(), 'mh-login-wait-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const panelDir = join(dir, 'panel');
  cpSync(join(REPO_ROOT, 'src/demo/panel'), panelDir, { recursive: true });
  const store = openStore(join(dir, 'h.sqlite'));
  t.after(() => store.close());
  await setPasswords(store, ['bob']);
  const clock = { t: T0 };
  const app = createApp({ panel: new FilesPanel(panelDir), store, makeResolver: () => { throw new Error('no DNS'); }, identityFrom: 'session', rateLimits, now: () => new Date(clock.t) });
  return { app, clock };
}

async function attempt(app: MailhealthApp, user: string, password: string, address: string): Promise<request.Response> {
  const page = await request(app).get('/login');
  const session = ([] as string[]).concat(page.headers['set-cookie'] ?? []).find((c) => c.startsWith('mh_session='))!.split(';')[0];
  return request(app).post('/login').set('X-Forwarded-For', address).set('Cookie', session).type('form').send({ _csrf: csrfFrom(page.text), user, password });
}

test('the per-address bucket empty: 429 with the seconds until the next attempt, in words and in Retry-After', async (t) => {
  // 2 at once, then 5 a minute: the third attempt waits 12 s.
  const { app, clock } = await world(t, { ...NO_LIMITS, login: { capacity: 2, perMinute: 5 }, loginUser: { capacity: 100, perMinute: 0 } });
  const codes = [];
  for (let i = 0; i < 2; i++) codes.push((await attempt(app, 'bob', `guess ${i}`, '192.0.2.7')).status);
  assert.deepEqual(codes, [401, 401]);
  const refused = await attempt(app, 'bob', PASSWORD, '192.0.2.7');
  assert.equal(refused.status, 429);
  assert.equal(refused.headers['retry-after'], '12');
  assert.match(refused.text, /Too many attempts\. The next one is allowed in 12 seconds\./);
  assert.doesNotMatch(refused.text, /Wait a minute/);
  // Told 12 s, the user waits 12 s: the right password goes through.
  clock.t += 12_000;
  assert.equal((await attempt(app, 'bob', PASSWORD, '192.0.2.7')).status, 303);
});

test('the per-user-name bucket empty (guesses from many addresses): its longer wait is the one told', async (t) => {
  // Per address: plenty. Per user name: 2, then 1 a minute.
  const { app, clock } = await world(t, { ...NO_LIMITS, login: { capacity: 50, perMinute: 30 }, loginUser: { capacity: 2, perMinute: 1 } });
  for (let i = 0; i < 2; i++) assert.equal((await attempt(app, 'bob', `guess ${i}`, `198.51.100.${i + 1}`)).status, 401);
  clock.t += 1_500;
  const refused = await attempt(app, 'bob', PASSWORD, '198.51.100.9');
  assert.equal(refused.status, 429);
  assert.equal(refused.headers['retry-after'], '59');
  assert.match(refused.text, /The next one is allowed in 59 seconds\./);
});

test('a bucket that never refills: no Retry-After, "try again later"', async (t) => {
  const { app } = await world(t, { ...NO_LIMITS, login: { capacity: 1, perMinute: 0 }, loginUser: { capacity: 100, perMinute: 0 } });
  assert.equal((await attempt(app, 'bob', 'guess', '192.0.2.8')).status, 401);
  const refused = await attempt(app, 'bob', PASSWORD, '192.0.2.8');
  assert.equal(refused.status, 429);
  assert.equal(refused.headers['retry-after'], undefined);
  assert.match(refused.text, /Too many attempts\. Try again later\./);
});
