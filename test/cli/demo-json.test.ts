// `demo --json` without --audit-only used to ignore --json: it printed text and served the UI. --json goes with
// --audit-only (README "CLI"); without it: a usage error (exit 2, clear message, the JSON error object on stdout),
// raised before the demo starts anything (no DNS server, no temp panel, no web UI).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/corpora.js';
import { CLI_ARGV } from '../helpers/cli-argv.js';

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // The timeout (SIGTERM stops a demo that did start serving) keeps a regression from hanging the suite.
    const child = spawn(process.execPath, [...CLI_ARGV, ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 30_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('demo --json without --audit-only: usage error before anything starts', { timeout: 90_000 }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'mailhealth-demo-json-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const db = join(tmp, 'demo.sqlite');
  const r = await cli(['--db', db, 'demo', '--port', '0', '--json']);
  assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /^mailhealth: demo: --json goes with --audit-only/m);
  const j = JSON.parse(r.stdout) as { error?: { kind: string; message: string } };
  assert.equal(j.error?.kind, 'usage');
  assert.match(j.error?.message ?? '', /--json goes with --audit-only/);
  assert.doesNotMatch(r.stderr, /files panel at|loopback only/, 'the demo did not start');
  assert.doesNotMatch(r.stdout, /web UI on/);
  assert.ok(!existsSync(db), 'no database created');
});
