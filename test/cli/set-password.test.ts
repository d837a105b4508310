// `mailhealth user set-password USER` ends that user's existing web sessions (as logout does): a stolen session must
// not outlive a password reset. Other users' sessions stay.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore } from '../../src/adapters/store/store.js';
import { createApp } from '../../src/web/app.js';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { login, NO_LIMITS, setPasswords } from '../web/helpers.js';

test("a password reset ends that user's sessions; other users stay logged in", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-setpw-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(REPO_ROOT, 'src/demo/panel'), join(dir, 'panel'), { recursive: true });
  const db = join(dir, 'h.sqlite');
  const store = openStore(db);
  t.after(() => store.close());
  await setPasswords(store, ['alice', 'bob']);
  const noDns = () => {
    throw new Error('no DNS in this test');
  };
  const app = createApp({ panel: new FilesPanel(join(dir, 'panel')), store, makeResolver: noDns, identityFrom: 'session', rateLimits: NO_LIMITS });
  const alice = await login(app, 'alice');
  const bob = await login(app, 'bob');

  const r = await runCli(['--panel-root', join(dir, 'panel'), '--db', db, 'user', 'set-password', 'alice'], 'a brand new password\n');
  assert.equal(r.code, 0, r.stderr);
  assert.notEqual((await alice.agent.get('/api/me')).status, 200, "alice's old session is over");
  assert.equal((await bob.agent.get('/api/me')).status, 200, "bob's session is not touched");
  await login(app, 'alice', 'a brand new password');
});
