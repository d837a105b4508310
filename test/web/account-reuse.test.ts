// A standalone password and its sessions belong to the panel account they were set for (its role and owner): when
// the account is removed, they end, and a new account that later gets the same name starts with neither (QA: the old
// session and the old password logged in as the new account and saw its domains).
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import request from 'supertest';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore } from '../../src/adapters/store/store.js';
import { createApp } from '../../src/web/app.js';
import { hashPassword } from '../../src/web/passwords.js';
import { SESSION_GENERATION_SETTING } from '../../src/web/routes/auth.js';
import { accountKey, encodeSession, newSession, PASSWORD_ACCOUNT_SETTING, SESSION_COOKIE, sessionSecret } from '../../src/web/session.js';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { csrfFrom, login, NO_LIMITS } from './helpers.js';

const PW = 'bobs old password';

/** A demo panel copy whose bob has a password set with the CLI, the app on a fake clock, and bob logged in. */
async function bobLoggedIn(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'mh-reuse-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const panelDir = join(dir, 'panel');
  cpSync(join(REPO_ROOT, 'src/demo/panel'), panelDir, { recursive: true });
  const db = join(dir, 'h.sqlite');
  const r = await runCli(['--panel-root', panelDir, '--db', db, 'user', 'set-password', 'bob'], `${PW}\n`);
  assert.equal(r.code, 0, r.stderr);
  const store = openStore(db);
  t.after(() => store.close());
  // The app's clock runs ahead of the CLI's (at least a day), so the CLI's revocations never reach the app's sessions.
  const clock = { t: Math.max(Date.parse('2027-01-01T00:00:00Z'), Date.now() + 86_400_000) };
  const app = createApp({ panel: new FilesPanel(panelDir), store, makeResolver: () => { throw new Error('no DNS'); }, identityFrom: 'session', rateLimits: NO_LIMITS, now: () => new Date(clock.t) });
  const bob = await login(app, 'bob', PW);
  const cfgPath = join(panelDir, 'panel.json');
  /** Rewrites panel.json, then moves the clock past the app's 10 s account cache. */
  const accounts = (edit: (a: Account[]) => Account[]) => {
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as { accounts: Account[] };
    writeFileSync(cfgPath, JSON.stringify({ ...cfg, accounts: edit(cfg.accounts) }));
    clock.t += 11_000;
  };
  return { app, store, bob, accounts, panelDir, db, clock };
}

interface Account {
  user: string;
  role: string;
  owner?: string;
  domains?: string[];
}

test('an account removed and created again under the same name: old sessions and the old password no longer work', async (t) => {
  const { app, bob, accounts } = await bobLoggedIn(t);
  assert.deepEqual((await bob.agent.get('/api/domains').expect(200)).body.map((d: { domain: string }) => d.domain).sort(), ['dentist.example', 'plumber.example']);
  // The panel removes bob, and later creates a new customer "bob" (another owner) with carol's lawyer.example.
  accounts((a) => a.filter((x) => x.user !== 'bob'));
  assert.equal((await bob.agent.get('/api/domains')).status, 401, 'the removed account is logged out');
  accounts((a) => [...a.map((x) => (x.user === 'carol' ? { ...x, domains: ['clean.example'] } : x)), { user: 'bob', role: 'customer', domains: ['lawyer.example'] }]);
  assert.equal((await bob.agent.get('/api/domains')).status, 401, "the old session does not become the new bob's");
  // The old password does not log in as the new bob.
  const page = await request(app).get('/login');
  const tryLogin = await request(app).post('/login').set('Cookie', page.headers['set-cookie']).type('form').send({ _csrf: csrfFrom(page.text), user: 'bob', password: PW });
  assert.equal(tryLogin.status, 401);
});

test('a session made before the account was recreated (same role and owner too) is over once the account was seen gone', async (t) => {
  const { store, bob, accounts } = await bobLoggedIn(t);
  let removed: Account | undefined;
  accounts((a) => {
    removed = a.find((x) => x.user === 'bob');
    return a.filter((x) => x.user !== 'bob');
  });
  assert.equal((await bob.agent.get('/api/domains')).status, 401);
  accounts((a) => [...a, removed!]); // the same account again (same role, same owner)
  assert.equal((await bob.agent.get('/api/domains')).status, 401, 'the session ended when the account was seen gone');
  assert.equal(store.getPasswordHash('bob'), null, 'and so did the password: the admin sets a new one');
});

/** Panel edit: bob removed, a new customer "bob" of another owner (no owner: root's) with carol's lawyer.example. */
const newBob = (a: Account[]) => [...a.filter((x) => x.user !== 'bob').map((x) => (x.user === 'carol' ? { ...x, domains: ['clean.example'] } : x)), { user: 'bob', role: 'customer', domains: ['lawyer.example'] }];
const domainsOf = async (s: { agent: Awaited<ReturnType<typeof login>>['agent'] }) => (await s.agent.get('/api/domains').expect(200)).body.map((d: { domain: string }) => d.domain).sort();

test("the old account's stale session ends without logging out the new account of the same name", async (t) => {
  const { app, bob, accounts, panelDir, db } = await bobLoggedIn(t);
  // The panel removes bob and creates a new "bob" before the old session comes back; the admin sets its password.
  accounts(newBob);
  const r = await runCli(['--panel-root', panelDir, '--db', db, 'user', 'set-password', 'bob'], 'the new bob password\n');
  assert.equal(r.code, 0, r.stderr);
  const fresh = await login(app, 'bob', 'the new bob password');
  assert.deepEqual(await domainsOf(fresh), ['lawyer.example']);
  // Now the old bob's browser comes back: its session is over…
  assert.equal((await bob.agent.get('/api/domains')).status, 401, 'the removed account is logged out');
  assert.equal((await bob.agent.get('/api/domains')).status, 401);
  // …and the new bob's session is not ended by it (before: every session named "bob" was revoked, the new one too).
  assert.deepEqual(await domainsOf(fresh), ['lawyer.example'], 'the new account stays logged in');
  assert.equal((await fresh.agent.get('/api/me')).status, 200);
});

test('a stale session from before passwords were bound to accounts does not log out the new account either', async (t) => {
  const { app, store, accounts, clock } = await bobLoggedIn(t);
  // As `mailhealth demo` and versions before the binding store passwords: no account bound to them (nor a session
  // generation, which came later still: the set-password above moved it on, and this old session has none).
  store.setSetting(PASSWORD_ACCOUNT_SETTING('bob'), undefined);
  store.setSetting(SESSION_GENERATION_SETTING('bob'), undefined);
  store.setPasswordHash('bob', await hashPassword('unbound password'));
  assert.equal(store.getSetting(PASSWORD_ACCOUNT_SETTING('bob')), undefined);
  // A session of the old bob (customer of rita) issued then.
  const old = newSession(Math.floor(clock.t / 1000), { user: 'bob', role: 'customer', acct: accountKey({ role: 'customer', owner: 'rita' }) }, clock.t);
  const oldCookie = `${SESSION_COOKIE}=${encodeURIComponent(encodeSession(sessionSecret(store), old))}`;
  assert.equal((await request(app).get('/api/domains').set('Cookie', oldCookie)).status, 200);
  // bob is removed and created again for another owner; the new bob gets a password the same way and logs in.
  accounts(newBob);
  store.setPasswordHash('bob', await hashPassword('new unbound password'));
  const fresh = await login(app, 'bob', 'new unbound password');
  assert.deepEqual(await domainsOf(fresh), ['lawyer.example']);
  assert.equal((await request(app).get('/api/domains').set('Cookie', oldCookie)).status, 401, 'the old session is over');
  assert.deepEqual(await domainsOf(fresh), ['lawyer.example'], 'the new account stays logged in');
});
