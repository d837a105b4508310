// A standalone password and its sessions belong to the panel account they were set for (its role and owner): when
// the account is removed, they end, and a new account that later gets the same name starts with neither (QA: the old
// session and the old password logged in as the new account and saw its domains).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import request from 'supertest';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore } from '../../src/adapters/store/store.js';
import { createApp } from '../../src/web/app.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { csrfFrom, login, NO_LIMITS } from './helpers.js';

function setPassword(args: string[], stdin: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/bin.ts'), ...args], { cwd: REPO_ROOT, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('exit', (code) => resolve({ code, stderr }));
    child.stdin.end(stdin);
  });
}

test('an account removed and created again under the same name: old sessions and the old password no longer work', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-reuse-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const panelDir = join(dir, 'panel');
  cpSync(join(REPO_ROOT, 'src/demo/panel'), panelDir, { recursive: true });
  const db = join(dir, 'h.sqlite');
  const PW = 'bobs old password';
  const r = await setPassword(['--panel-root', panelDir, '--db', db, 'user', 'set-password', 'bob'], `${PW}\n`);
  assert.equal(r.code, 0, r.stderr);
  const store = openStore(db);
  t.after(() => store.close());
  let clock = Date.parse('2027-01-01T00:00:00Z');
  const app = createApp({ panel: new FilesPanel(panelDir), store, makeResolver: () => { throw new Error('no DNS'); }, identityFrom: 'session', rateLimits: NO_LIMITS, now: () => new Date(clock) });
  const bob = await login(app, 'bob', PW);
  assert.deepEqual((await bob.agent.get('/api/domains').expect(200)).body.map((d: { domain: string }) => d.domain).sort(), ['dentist.example', 'plumber.example']);

  // The panel removes bob, and later creates a new customer "bob" (another owner) with carol's lawyer.example.
  const cfgPath = join(panelDir, 'panel.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as { accounts: { user: string; role: string; owner?: string; domains?: string[] }[] };
  const without = cfg.accounts.filter((a) => a.user !== 'bob');
  writeFileSync(cfgPath, JSON.stringify({ ...cfg, accounts: without }));
  clock += 11_000; // past the app's 10 s account cache
  assert.equal((await bob.agent.get('/api/domains')).status, 401, 'the removed account is logged out');
  const carol = without.find((a) => a.user === 'carol')!;
  carol.domains = ['clean.example'];
  writeFileSync(cfgPath, JSON.stringify({ ...cfg, accounts: [...without, { user: 'bob', role: 'customer', domains: ['lawyer.example'] }] }));
  clock += 11_000;
  assert.equal((await bob.agent.get('/api/domains')).status, 401, "the old session does not become the new bob's");
  // The old password does not log in as the new bob.
  const page = await request(app).get('/login');
  const cookie = page.headers['set-cookie'];
  const tryLogin = await request(app).post('/login').set('Cookie', cookie).type('form').send({ _csrf: csrfFrom(page.text), user: 'bob', password: PW });
  assert.equal(tryLogin.status, 401);
});

test('a session made before the account was recreated (same role and owner too) is over once the account was seen gone', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-reuse-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const panelDir = join(dir, 'panel');
  cpSync(join(REPO_ROOT, 'src/demo/panel'), panelDir, { recursive: true });
  const db = join(dir, 'h.sqlite');
  const PW = 'bobs old password';
  assert.equal((await setPassword(['--panel-root', panelDir, '--db', db, 'user', 'set-password', 'bob'], `${PW}\n`)).code, 0);
  const store = openStore(db);
  t.after(() => store.close());
  let clock = Date.parse('2027-01-01T00:00:00Z');
  const app = createApp({ panel: new FilesPanel(panelDir), store, makeResolver: () => { throw new Error('no DNS'); }, identityFrom: 'session', rateLimits: NO_LIMITS, now: () => new Date(clock) });
  const bob = await login(app, 'bob', PW);
  const cfgPath = join(panelDir, 'panel.json');
  const original = readFileSync(cfgPath, 'utf8');
  const cfg = JSON.parse(original) as { accounts: { user: string }[] };
  writeFileSync(cfgPath, JSON.stringify({ ...cfg, accounts: cfg.accounts.filter((a) => a.user !== 'bob') }));
  clock += 11_000;
  assert.equal((await bob.agent.get('/api/domains')).status, 401);
  writeFileSync(cfgPath, original); // the same account again (same role, same owner)
  clock += 11_000;
  assert.equal((await bob.agent.get('/api/domains')).status, 401, 'the session ended when the account was seen gone');
  assert.equal(store.getPasswordHash('bob'), null, 'and so did the password: the admin sets a new one');
});
