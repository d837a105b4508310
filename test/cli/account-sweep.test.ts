// `serve` drops the web logins of accounts the panel no longer lists at start and every minute (startAccountSweep),
// so a removed account's password does not wait for someone to try it; a panel that cannot be read changes nothing
// and is logged once, not every minute.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mock, test, type TestContext } from 'node:test';
import { openStore } from '../../src/adapters/store/store.js';
import { ACCOUNT_SWEEP_MS, startAccountSweep } from '../../src/cli/commands/serve.js';
import { accountKey, PASSWORD_ACCOUNT_SETTING } from '../../src/web/session.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { CLI_ARGV } from '../helpers/cli-argv.js';

function tempStore(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'mh-cli-sweep-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'h.sqlite');
  const store = openStore(db);
  store.setPasswordHash('bob', 'scrypt$stand-in');
  store.setSetting(PASSWORD_ACCOUNT_SETTING('bob'), accountKey({ role: 'customer', owner: 'rita' }));
  return { dir, db, store };
}

test('the sweep runs at start and every minute; a failing panel is logged once and changes nothing', async (t) => {
  mock.timers.enable({ apis: ['setInterval'] });
  t.after(() => mock.timers.reset());
  const { store } = tempStore(t);
  t.after(() => store.close());
  let answer: () => Promise<unknown> = () => Promise.reject(new Error('connection refused'));
  let reads = 0;
  const panel = { listAccounts: () => (reads++, answer()) as ReturnType<Parameters<typeof startAccountSweep>[0]['listAccounts']> };
  const logs: string[] = [];
  const sweep = startAccountSweep(panel, store, { log: (m) => logs.push(m), now: () => 1_000 });
  assert.equal(reads, 1, 'at start');
  assert.equal(sweep.sweep(), sweep.sweep(), 'a call while one runs waits for it');
  assert.deepEqual(await sweep.sweep(), { skipped: "the panel's account list could not be read (connection refused)" });
  assert.equal(reads, 1);
  mock.timers.tick(ACCOUNT_SWEEP_MS - 1);
  assert.equal(reads, 1);
  mock.timers.tick(1);
  assert.equal(reads, 2, 'a minute later');
  await sweep.sweep();
  mock.timers.tick(ACCOUNT_SWEEP_MS);
  assert.equal(reads, 3);
  await sweep.sweep();
  assert.notEqual(store.getPasswordHash('bob'), null, 'a panel that does not answer changes nothing');
  assert.equal(logs.filter((l) => /could not be read \(connection refused\)/.test(l)).length, 1, logs.join('\n'));
  answer = async () => [{ user: 'root', role: 'admin' }];
  mock.timers.tick(ACCOUNT_SWEEP_MS);
  assert.deepEqual(await sweep.sweep(), { forgotten: ['bob'], bound: [] });
  // No login stored any more: the panel is not asked every minute for nothing.
  const asked = reads;
  mock.timers.tick(ACCOUNT_SWEEP_MS);
  assert.deepEqual(await sweep.sweep(), { forgotten: [], bound: [] });
  assert.equal(reads, asked);
  store.setSetting(PASSWORD_ACCOUNT_SETTING('alice'), accountKey({ role: 'customer' })); // `user set-password alice`
  mock.timers.tick(ACCOUNT_SWEEP_MS);
  await sweep.sweep();
  assert.equal(reads, asked + 1, 'a bound password: asked again');
  assert.equal(store.getPasswordHash('bob'), null);
  assert.ok(logs.some((l) => l === 'the panel no longer has the account "bob": its web password and sessions were dropped (set a password again if it comes back)'), logs.join('\n'));
  await sweep.stop();
  const after = reads;
  mock.timers.tick(ACCOUNT_SWEEP_MS * 3);
  assert.equal(reads, after, 'no sweep after stop');
  assert.equal(ACCOUNT_SWEEP_MS, 60_000);
});

test('mailhealth serve drops, at start, the password of an account the panel no longer has', async (t) => {
  const { dir, db, store } = tempStore(t);
  store.setPasswordHash('alice', 'scrypt$stand-in');
  store.setSetting(PASSWORD_ACCOUNT_SETTING('alice'), accountKey({ role: 'customer' }));
  store.close();
  const panel = join(dir, 'panel');
  cpSync(join(REPO_ROOT, 'src/demo/panel'), panel, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(panel, 'panel.json'), 'utf8')) as { accounts: { user: string }[] };
  writeFileSync(join(panel, 'panel.json'), JSON.stringify({ ...cfg, accounts: cfg.accounts.filter((a) => a.user !== 'bob') }));
  const args = ['--panel-root', panel, '--resolver', '127.0.0.1:9', '--db', db, 'serve', '--port', '52201', '--no-report'];
  const stderr = await new Promise<string>((resolve) => {
    const child = spawn(process.execPath, [...CLI_ARGV, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => {
      err += String(d);
      // Stopping waits for the sweep begun at start (serve stops it before closing the store).
      if (/serving on/.test(err)) child.kill('SIGTERM');
    });
    child.on('close', () => resolve(err)); // 'close': stderr read to its end
  });
  assert.match(stderr, /mailhealth: the panel no longer has the account "bob": its web password and sessions were dropped/);
  const after = openStore(db);
  t.after(() => after.close());
  assert.equal(after.getPasswordHash('bob'), null);
  assert.equal(after.getSetting(PASSWORD_ACCOUNT_SETTING('bob')), undefined);
  assert.equal(after.getPasswordHash('alice'), 'scrypt$stand-in', "a listed account's password stays");
});
