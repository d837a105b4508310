// `mailhealth user set-password USER` ends that user's sessions whatever the clock did (QA, time handling item 2): it
// stored "revoked before now + 1 ms", so a session issued while the clock was fast (its issue time later than the
// reset's "now") outlived the reset, and a reset after the clock was corrected LOWERED the cut-off an earlier logout
// (under the fast clock) had stored, reviving the sessions it had ended. The app runs on a clock an hour ahead of the
// CLI's (the real one): as a server whose clock NTP corrects between the two.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import request from 'supertest';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore } from '../../src/adapters/store/store.js';
import { createApp } from '../../src/web/app.js';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { login, NO_LIMITS, setPasswords } from '../web/helpers.js';

const HOUR = 3600_000;

test('a password reset ends a session issued while the clock was an hour fast, and revives none', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-setpw-clock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(REPO_ROOT, 'src/demo/panel'), join(dir, 'panel'), { recursive: true });
  const db = join(dir, 'h.sqlite');
  const store = openStore(db);
  t.after(() => store.close());
  await setPasswords(store, ['alice', 'bob']);
  const app = createApp({ panel: new FilesPanel(join(dir, 'panel')), store, makeResolver: () => ({}) as never, identityFrom: 'session', rateLimits: NO_LIMITS, now: () => new Date(Date.now() + HOUR) });
  const me = async (cookie: string) => ((await request(app).get('/api/me').set('Cookie', cookie)).body as { user?: string }).user;
  const cookieOf = async (s: Awaited<ReturnType<typeof login>>) => (await s.agent.get('/api/me')).request.cookies;

  const fast = await login(app, 'alice'); // issued "an hour from now"
  const copied = await cookieOf(fast);
  // bob: logged out under the fast clock, a copy of his session kept.
  const bob = await login(app, 'bob');
  const bobCopy = await cookieOf(bob);
  await bob.agent.post('/logout').type('form').send({ _csrf: bob.csrf }).expect(303);
  assert.equal(await me(bobCopy), undefined);

  for (const user of ['alice', 'bob']) {
    const r = await runCli(['--panel-root', join(dir, 'panel'), '--db', db, 'user', 'set-password', user], 'a brand new password\n');
    assert.equal(r.code, 0, r.stderr);
  }
  assert.equal(await me(copied), undefined, "alice's session from the fast clock is over");
  assert.equal(await me(bobCopy), undefined, "bob's session, ended by his logout, stays over");
  const again = await login(app, 'alice', 'a brand new password');
  assert.equal(await me(await cookieOf(again)), 'alice');
});
