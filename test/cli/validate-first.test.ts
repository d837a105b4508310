// Bad arguments are refused (exit 2, clear message) before anything starts: no database is created or migrated, and
// `serve` starts no scheduler or server that would keep the process alive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { openStore } from '../../src/adapters/store/store.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { CLI_ARGV } from '../helpers/cli-argv.js';

/**
 * The CLI as a child process, killed (code null) if it has not exited after `ms`. `env` adds to (or overrides) the
 * environment; `preload` modules are imported before the CLI (e.g. one that makes getuid() answer a non-root uid).
 */
function cli(args: string[], ms = 60_000, env: NodeJS.ProcessEnv = {}, preload: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...preload.flatMap((m) => ['--import', m]), ...CLI_ARGV, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, MAILHEALTH_DB: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: ms,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function sandbox(t: TestContext): { dir: string; base: string[]; db: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mh-validate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(REPO_ROOT, 'src/demo/panel'), join(dir, 'panel'), { recursive: true });
  const db = join(dir, 'h.sqlite');
  return { dir, db, base: ['--panel-root', join(dir, 'panel'), '--resolver', '127.0.0.1:9', '--db', db] };
}

test('serve with a bad --port exits 2 with nothing started', { timeout: 90_000 }, async (t) => {
  const s = sandbox(t);
  const r = await cli([...s.base, 'serve', '--port', 'abc']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--port takes a whole number from 0 to 65535/);
  assert.doesNotMatch(r.stderr, /nightly report/);
  assert.ok(!existsSync(s.db), 'no database file created');
});

test('serve with an unreadable config file exits 2 with nothing started', { timeout: 90_000 }, async (t) => {
  const s = sandbox(t);
  const config = join(s.dir, 'config.json');
  writeFileSync(config, '{not json');
  const r = await cli([...s.base, '--config', config, 'serve', '--port', '0']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /not valid JSON/);
  assert.ok(!existsSync(s.db), 'no database file created');
});

test('serve with a bad --report-tz or --host exits 2 before opening the database', { timeout: 90_000 }, async (t) => {
  const s = sandbox(t);
  const tz = await cli([...s.base, 'serve', '--port', '0', '--report-tz', 'Mars/Olympus']);
  assert.equal(tz.code, 2, tz.stderr);
  assert.match(tz.stderr, /unknown time zone/);
  const host = await cli([...s.base, 'serve', '--port', '0', '--host', '0.0.0.0']);
  assert.equal(host.code, 2, host.stderr);
  assert.match(host.stderr, /loopback/);
  assert.ok(!existsSync(s.db), 'no database file created');
});

const refused: [string, string[], RegExp][] = [
  ['prune --days 0', ['prune', '--days', '0'], /--days takes a whole number from 1 to 3650/],
  ['prune --days abc', ['prune', '--days', 'abc'], /--days takes a whole number from 1 to 3650/],
  ['audit --threads abc', ['audit', 'bakery.example', '--threads', 'abc'], /--threads takes a whole number/],
  ['undo abc', ['undo', 'abc'], /CHANGE_ID must be a positive whole number/],
  ['undo 1e3', ['undo', '1e3'], /CHANGE_ID must be a positive whole number/],
  ['undo of a change that cannot exist (no database yet)', ['undo', '999'], /no change 999 that root may see/],
];
for (const [name, args, msg] of refused) {
  test(`${name}: exit 2, nothing on stdout, no database file created`, { timeout: 90_000 }, async (t) => {
    const s = sandbox(t);
    const r = await cli([...s.base, ...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, msg);
    assert.equal(r.stdout, '');
    assert.ok(!existsSync(s.db), 'no database file created');
  });
}

// A config file named with --config must exist: a typo was read as an empty config (loadConfig takes a missing file
// for none), so `history` said "the files panel needs --panel-root DIR" and `serve` started without the admin token.
// Only the default path (/etc/mailhealth/config.json) may be absent.
test('--config naming a file that does not exist: exit 2 naming the path, before anything starts', { timeout: 90_000 }, async (t) => {
  const s = sandbox(t);
  const typo = join(s.dir, 'confg.json');
  writeFileSync(join(s.dir, 'config.json'), JSON.stringify({ panel: 'files', panelRoot: join(s.dir, 'panel'), adminToken: 'secret-token-123' }));
  const named = new RegExp(`--config "${typo.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}": no such file`);

  const history = await cli(['--config', typo, '--db', s.db, 'history']);
  assert.equal(history.code, 2, history.stderr);
  assert.match(history.stderr, named);
  assert.doesNotMatch(history.stderr, /panel-root/, 'not the misleading files-panel message');
  assert.equal(history.stdout, '');

  const json = await cli(['--config', typo, '--db', s.db, 'history', '--json']);
  assert.equal(json.code, 2, json.stderr);
  const err = JSON.parse(json.stdout) as { error: { kind: string; message: string } };
  assert.equal(err.error.kind, 'usage');
  assert.match(err.error.message, named);

  // serve: refused before the store, the scheduler or the server start (it used to serve without the admin token).
  const serve = await cli(['--config', typo, '--panel', 'files', '--panel-root', join(s.dir, 'panel'), '--db', s.db, 'serve', '--port', '0', '--no-report'], 30_000);
  assert.equal(serve.code, 2, serve.stderr);
  assert.match(serve.stderr, named);
  assert.doesNotMatch(serve.stderr, /serving on/);

  // Other commands refuse it the same way (audit, undo, report), and an empty path is refused too.
  for (const args of [['audit', 'bakery.example'], ['undo', '1'], ['report', '--json']]) {
    const r = await cli(['--config', typo, ...s.base, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, named, args.join(' '));
  }
  const empty = await cli([...s.base, '--config', '', 'history']);
  assert.equal(empty.code, 2, empty.stderr);
  assert.match(empty.stderr, /--config needs the path of a config file/);
  assert.ok(!existsSync(s.db), 'no database file created');

  // The right path is read: the panel comes from the file (undo gets as far as looking for the change).
  const ok = await cli(['--config', join(s.dir, 'config.json'), '--db', s.db, 'undo', '1']);
  assert.equal(ok.code, 2, ok.stderr);
  assert.match(ok.stderr, /no change 1 that root may see/);
  assert.ok(!existsSync(s.db), 'no database file created');
});

// `history` with a --db path that does not exist created the directory and an empty database and answered an empty
// history (exit 0). Now as `undo`: nothing is created, and the answer says there is no history database there.
test('history with a --db path that does not exist: exit 2 "no history database at PATH", nothing created', { timeout: 90_000 }, async (t) => {
  const s = sandbox(t);
  const missingDir = join(s.dir, 'typo-dir');
  const db = join(missingDir, 'mailhealth.sqlit');
  const base = ['--panel-root', join(s.dir, 'panel'), '--db', db];

  const text = await cli([...base, 'history']);
  assert.equal(text.code, 2, text.stderr);
  assert.match(text.stderr, new RegExp(`no history database at ${db.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
  assert.equal(text.stdout, '');

  const json = await cli([...base, 'history', 'bakery.example', '--json']);
  assert.equal(json.code, 2, json.stderr);
  const err = JSON.parse(json.stdout) as { error: { kind: string; message: string } };
  assert.equal(err.error.kind, 'usage');
  assert.match(err.error.message, /^no history database at /);
  assert.ok(!existsSync(missingDir), 'neither the directory nor a database is created');

  // An existing database still answers (empty history, exit 0). (Made here: `prune` no longer creates one.)
  openStore(s.db).close();
  const ok = await cli([...s.base, 'history', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(JSON.parse(ok.stdout), { audits: [], changes: [] });
});

// On a fresh install nothing has run yet, so the default history database does not exist: `history` answered that as
// a usage error (exit 2). With no --db and no MAILHEALTH_DB it is an empty history (exit 0), and still nothing is
// created. The child runs as a non-root user as far as the path goes (getuid() is 1000 there), so the default is
// $HOME/.local/share/mailhealth/mailhealth.sqlite under a scratch HOME, not /var/lib/mailhealth.
test('history at the default path on a fresh install: an empty history (exit 0), nothing created', { timeout: 90_000 }, async (t) => {
  const s = sandbox(t);
  const home = join(s.dir, 'home');
  const run = (args: string[]) => cli(args, 60_000, { HOME: home }, ['data:text/javascript,process.getuid=()=>1000']);
  const panel = ['--panel-root', join(s.dir, 'panel')];
  const text = await run([...panel, 'history']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^No history yet: nothing has been audited or changed on this server \(no history database at .*home\/\.local\/share\/mailhealth\/mailhealth\.sqlite\)\.\n$/);
  const json = await run([...panel, 'history', 'bakery.example', '--json']);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), { audits: [], changes: [] });
  // A domain out of scope is still refused before the database is looked for.
  const bad = await run([...panel, 'history', 'not a domain']);
  assert.equal(bad.code, 2, bad.stderr);
  assert.ok(!existsSync(join(home, '.local')), 'no directory or database created');
  // Named paths stay usage errors (a typo must not look like an empty history).
  const env = await cli([...panel, 'history'], 60_000, { MAILHEALTH_DB: join(s.dir, 'typo.sqlite') });
  assert.equal(env.code, 2, env.stderr);
  assert.match(env.stderr, /no history database at .*typo\.sqlite/);
});
