// A CLI run from a checkout (umask 022) that creates the history database — `mailhealth user set-password … --db` here;
// `audit --db` opens it the same way — makes the missing directories 0700 and the file 0600: it holds the password
// hashes and the web session secret. An older 0644 one is made owner-only, and the CLI says so on stderr, once.
// As root, a --db in a customer's home is not created there (root's file would lock the customer's own page out of it).
import assert from 'node:assert/strict';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { CLI_ARGV } from '../helpers/cli-argv.js';

const mode = (p: string) => statSync(p).mode & 0o777;

test('set-password --db under umask 022: directories 0700, database 0600; an old 0644 one is tightened and said', async (t) => {
  const oldUmask = process.umask(0o022); // the child inherits it
  const dir = mkdtempSync(join(tmpdir(), 'mh-db-private-'));
  t.after(() => {
    process.umask(oldUmask);
    rmSync(dir, { recursive: true, force: true });
  });
  chmodSync(dir, 0o755);
  cpSync(join(REPO_ROOT, 'src/demo/panel'), join(dir, 'panel'), { recursive: true });
  const db = join(dir, 'newdir', 'sub', 'cli.sqlite');
  const setPassword = () => runCli(['--panel-root', join(dir, 'panel'), '--db', db, 'user', 'set-password', 'alice'], 'a long enough password\n');

  const r = await setPassword();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, 'mailhealth: password set for alice\n');
  assert.equal(mode(join(dir, 'newdir')), 0o700);
  assert.equal(mode(join(dir, 'newdir', 'sub')), 0o700);
  assert.equal(mode(db), 0o600);
  assert.equal(mode(dir), 0o755, 'an existing directory keeps its mode');

  // As an older mailhealth left it. (The -wal and -shm SQLite makes when it opens it copy its mode: they are tightened
  // too, but not named — they did not exist before this open.)
  chmodSync(db, 0o644);
  const again = await setPassword();
  assert.equal(again.code, 0, again.stderr);
  assert.equal(mode(db), 0o600);
  assert.equal(again.stderr, `mailhealth: the history database was readable by other users — it holds the web logins’ password hashes and the secret that signs their sessions; so mailhealth made it private: ${db} 644 → 600\nmailhealth: password set for alice\n`);
});

test("as root, --db in a customer's home: no database is created there (it would lock their page out); once theirs exists, root uses it and it stays theirs", { skip: process.getuid?.() === 0 ? false : 'needs root' }, async (t) => {
  if (spawnSync('setpriv', ['--version']).status !== 0) return t.skip('no setpriv here');
  const CUST = 12345;
  const oldUmask = process.umask(0o022);
  const dir = mkdtempSync(join(tmpdir(), 'mh-db-private-root-'));
  t.after(() => {
    process.umask(oldUmask);
    rmSync(dir, { recursive: true, force: true });
  });
  chmodSync(dir, 0o755);
  cpSync(join(REPO_ROOT, 'src/demo/panel'), join(dir, 'panel'), { recursive: true });
  const home = join(dir, 'home-cust');
  mkdirSync(home, { mode: 0o711 });
  chownSync(home, CUST, CUST);
  const db = join(home, '.local', 'share', 'mailhealth', 'mailhealth.sqlite');
  const args = ['--panel-root', join(dir, 'panel'), '--db', db, 'user', 'set-password', 'alice'];

  const refused = await runCli(args, 'a long enough password\n');
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, new RegExp(`^mailhealth: there is no mailhealth database at ${db}, and as root mailhealth creates none in a directory another user owns \\(${home} is uid ${CUST}'s\\)`));
  assert.deepEqual(readdirSync(home), [], 'nothing of root\'s in the customer\'s home');

  // The customer's own mailhealth creates it (their cPanel page does, at their first visit).
  const asCustomer = spawnSync('setpriv', [`--reuid=${CUST}`, `--regid=${CUST}`, '--clear-groups', process.execPath, ...CLI_ARGV, ...args], {
    cwd: REPO_ROOT,
    input: 'a long enough password\n',
    encoding: 'utf8',
  });
  assert.equal(asCustomer.status, 0, asCustomer.stderr);
  assert.equal(statSync(db).uid, CUST);

  const again = await runCli(args, 'another long enough password\n');
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stderr, 'mailhealth: password set for alice\n');
  assert.equal(statSync(db).uid, CUST, 'still theirs');
  assert.equal(mode(db), 0o600);
});
