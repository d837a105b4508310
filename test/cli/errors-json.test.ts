// Under --json a failing command prints one JSON object on stdout, {"error": {"kind", "message", "code"?}}, besides the
// human line on stderr, with the documented exit code: 2 for usage, 1 for something that failed at run time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { openStore } from '../../src/adapters/store/store.js';
import { REPORT_LOCK } from '../../src/cron/report.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { CLI_ARGV } from '../helpers/cli-argv.js';

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...CLI_ARGV, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, MAILHEALTH_DB: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function sandbox(t: TestContext): { db: string; base: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'mh-errjson-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(REPO_ROOT, 'src/demo/panel'), join(dir, 'panel'), { recursive: true });
  const db = join(dir, 'h.sqlite');
  // 127.0.0.1:9 (discard): DNS never answers.
  return { db, base: ['--panel-root', join(dir, 'panel'), '--resolver', '127.0.0.1:9', '--db', db] };
}

function errorOf(stdout: string): { kind: string; message: string; code?: string } {
  const j = JSON.parse(stdout) as { error?: { kind: string; message: string; code?: string } };
  assert.ok(j.error, `an error object: ${stdout}`);
  assert.equal(typeof j.error.message, 'string');
  return j.error;
}

test('usage errors under --json: exit 2, {"error": {"kind": "usage"}} on stdout, the message on stderr too', { timeout: 90_000 }, async (t) => {
  const s = sandbox(t);
  const ours = await cli([...s.base, 'fix', 'bakery.example', '--check', 'mx', '--json']);
  assert.equal(ours.code, 2, ours.stderr);
  assert.deepEqual(errorOf(ours.stdout), { kind: 'usage', message: '--check must be one of spf, dkim, lockdown, dmarc' });
  assert.match(ours.stderr, /^mailhealth: --check must be one of/m);
  // One commander refuses before any action runs.
  const commander = await cli([...s.base, 'fix', 'bakery.example', '--json']);
  assert.equal(commander.code, 2, commander.stderr);
  const e = errorOf(commander.stdout);
  assert.equal(e.kind, 'usage');
  assert.match(e.message, /--check/);
  // Without --json: nothing on stdout, as before.
  const plain = await cli([...s.base, 'prune', '--days', '0']);
  assert.equal(plain.code, 2);
  assert.equal(plain.stdout, '');
});

test('a fix that cannot be planned (DNS never answers) under --json: exit 1 and {"error": {"kind": "plan"}}', { timeout: 90_000 }, async (t) => {
  const s = sandbox(t);
  const r = await cli([...s.base, 'fix', 'bakery.example', '--check', 'spf', '--json']);
  assert.equal(r.code, 1, r.stderr);
  const e = errorOf(r.stdout);
  assert.equal(e.kind, 'plan');
  assert.match(e.message, /DNS/);
  assert.match(r.stderr, /^mailhealth: /m);
});

test('a report lock held by another run: exit 1 (not a usage error), {"error": {"kind": "store", "code": "locked"}}', { timeout: 90_000 }, async (t) => {
  const s = sandbox(t);
  const store = openStore(s.db);
  assert.ok(store.tryLock(REPORT_LOCK, 'another-run', 600_000));
  store.close();
  const r = await cli([...s.base, 'report', '--json']);
  assert.equal(r.code, 1, r.stderr);
  const e = errorOf(r.stdout);
  assert.equal(e.kind, 'store');
  assert.equal(e.code, 'locked');
  assert.match(e.message, /another report run is in progress/);
});

test('a --config file that is not valid JSON: a configuration (usage) error, exit 2 — not a panel error', { timeout: 90_000 }, async (t) => {
  const s = sandbox(t);
  const bad = join(s.db, '..', 'bad-config.json');
  writeFileSync(bad, '{ "panel": "files", ');
  const notObject = join(s.db, '..', 'array-config.json');
  writeFileSync(notObject, '[1, 2]');
  for (const file of [bad, notObject]) {
    const json = await cli([...s.base, '--config', file, 'audit', 'bakery.example', '--json']);
    assert.equal(json.code, 2, json.stderr);
    const e = errorOf(json.stdout);
    assert.equal(e.kind, 'usage', json.stdout);
    assert.equal(e.code, undefined);
    assert.match(e.message, /config file .* is not valid JSON/);
    assert.doesNotMatch(json.stderr, /panel error/);
    assert.match(json.stderr, /^mailhealth: config file .* is not valid JSON/m);
    const text = await cli([...s.base, '--config', file, 'fix', 'bakery.example', '--check', 'spf']);
    assert.equal(text.code, 2, text.stderr);
    assert.equal(text.stdout, '');
    assert.doesNotMatch(text.stderr, /panel error/);
    assert.match(text.stderr, /is not valid JSON/);
  }
  assert.ok(!existsSync(s.db), 'no database created');
});
