// Bad arguments are refused (exit 2, clear message) before anything starts: no database is created or migrated, and
// `serve` starts no scheduler or server that would keep the process alive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { REPO_ROOT } from '../helpers/corpora.js';

/** The CLI as a child process, killed (code null) if it has not exited after `ms`. */
function cli(args: string[], ms = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/bin.ts'), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, MAILHEALTH_DB: '' },
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
