// Ctrl-C (SIGINT) or SIGTERM during `report` or `audit`: the run is marked interrupted (never left "running"), the
// report lock is released (the next report is not refused for the rest of the lock's 15-minute lease), the process
// exits 1 (README "Exit codes": an interrupted run) with {"error": {"kind": "interrupted"}} under --json.
// The CLI runs as a child process against a resolver that never answers (a bound UDP socket that drops every
// query), so the run is certainly still going when the signal arrives; the test waits for the run's row in SQLite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { openStore } from '../../src/adapters/store/store.js';
import { REPORT_LOCK } from '../../src/cron/report.js';
import { demoPanelWithDns } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { CLI_ARGV } from '../helpers/cli-argv.js';

/** A "resolver" that takes every query and answers none. */
async function blackhole(t: TestContext): Promise<string> {
  const sock = dgram.createSocket('udp4');
  sock.on('message', () => {});
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => sock.close(() => r())));
  return `127.0.0.1:${sock.address().port}`;
}

interface Child {
  pid: number;
  kill(signal: NodeJS.Signals): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  running(): boolean;
}

function startCli(t: TestContext, args: string[], env: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, [...CLI_ARGV, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, MAILHEALTH_DB: '', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let done = false;
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => {
      done = true;
      // The pipes may still hold the last bytes: wait for them to close.
      let open = 2;
      const end = () => --open === 0 && resolve({ code, signal, stdout, stderr });
      if (child.stdout.readableEnded) end();
      else child.stdout.once('end', end);
      if (child.stderr.readableEnded) end();
      else child.stderr.once('end', end);
    }),
  );
  t.after(() => {
    if (!done) child.kill('SIGKILL');
  });
  return { pid: child.pid!, kill: (s) => void child.kill(s), exited, running: () => !done };
}

/** Polls the database (read-only) until a run of `kind` with an id above `after` exists; fails if the CLI exits first. */
async function runRow(db: string, kind: 'audit' | 'report', after: number, child: Child): Promise<{ id: number; status: string }> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (existsSync(db)) {
      let row: { id: number; status: string } | undefined;
      try {
        const conn = new Database(db, { readonly: true, fileMustExist: true });
        try {
          row = conn.prepare('SELECT id, status FROM runs WHERE kind = ? AND id > ? ORDER BY id DESC LIMIT 1').get(kind, after) as typeof row;
        } finally {
          conn.close();
        }
      } catch {
        /* not created/migrated yet, or busy: look again */
      }
      if (row) return row;
    }
    if (!child.running()) {
      const r = await child.exited;
      assert.fail(`the CLI exited (${r.code ?? r.signal}) before its ${kind} run was recorded: ${r.stderr}`);
    }
    assert.ok(Date.now() < deadline, `no ${kind} run recorded in ${db}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function runStatus(db: string, id: number): { status: string | undefined; lock: unknown } {
  const store = openStore(db);
  try {
    return { status: store.getRun(id)?.status, lock: store.lockHolder(REPORT_LOCK) };
  } finally {
    store.close();
  }
}

function interruptedError(stdout: string): { kind: string; message: string } {
  const j = JSON.parse(stdout) as { error?: { kind: string; message: string } };
  assert.ok(j.error, stdout);
  return j.error;
}

test('report: SIGINT marks the run interrupted and releases the lock; the next report runs; SIGTERM too', { timeout: 240_000 }, async (t) => {
  const { dir, panel } = await demoPanelWithDns(t, 'mh-int-report-');
  const resolver = await blackhole(t);
  const db = join(dir, 'h.sqlite');
  const args = ['--panel-root', panel, '--resolver', resolver, '--db', db, 'report', '--json'];

  const first = startCli(t, args);
  const run1 = await runRow(db, 'report', 0, first);
  assert.equal(run1.status, 'running');
  first.kill('SIGINT');
  const r1 = await first.exited;
  assert.equal(r1.signal, null, 'the CLI handled the signal itself');
  assert.equal(r1.code, 1, r1.stderr);
  const e1 = interruptedError(r1.stdout);
  assert.equal(e1.kind, 'interrupted');
  assert.match(e1.message, /SIGINT/);
  assert.match(r1.stderr, /interrupted/);
  const after1 = runStatus(db, run1.id);
  assert.equal(after1.status, 'interrupted', 'not left running');
  assert.equal(after1.lock, null, 'the report lock is released');

  // The next report is not refused: it takes the lock and starts its own run.
  const second = startCli(t, args);
  const run2 = await runRow(db, 'report', run1.id, second);
  assert.ok(run2.id > run1.id);
  second.kill('SIGTERM');
  const r2 = await second.exited;
  assert.equal(r2.signal, null);
  assert.equal(r2.code, 1, r2.stderr);
  assert.equal(interruptedError(r2.stdout).kind, 'interrupted');
  assert.doesNotMatch(r2.stderr, /another report run is in progress/);
  const after2 = runStatus(db, run2.id);
  assert.equal(after2.status, 'interrupted');
  assert.equal(after2.lock, null);
});

test('audit: SIGINT marks the run interrupted and exits 1', { timeout: 180_000 }, async (t) => {
  const { dir, panel } = await demoPanelWithDns(t, 'mh-int-audit-');
  const resolver = await blackhole(t);
  const db = join(dir, 'h.sqlite');
  const child = startCli(t, ['--panel-root', panel, '--resolver', resolver, '--db', db, 'audit', '--all', '--json']);
  const run = await runRow(db, 'audit', 0, child);
  assert.equal(run.status, 'running');
  child.kill('SIGINT');
  const r = await child.exited;
  assert.equal(r.signal, null);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(interruptedError(r.stdout).kind, 'interrupted');
  assert.equal(runStatus(db, run.id).status, 'interrupted');
});

test('a signal before the run starts (the panel slow to answer): exit 1 with kind "interrupted", not a bare signal exit', { timeout: 120_000 }, async (t) => {
  // A "panel" that takes every request and never answers.
  const http = await import('node:http');
  let asked: () => void = () => {};
  const silent = http.createServer(() => asked());
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    silent.closeAllConnections();
    silent.close();
  });
  const url = `http://127.0.0.1:${(silent.address() as import('node:net').AddressInfo).port}`;
  for (const [args, signal] of [
    [['audit', '--all', '--json'], 'SIGINT'],
    [['report', '--json'], 'SIGTERM'],
  ] as const) {
    const { dir } = await demoPanelWithDns(t, 'mh-int-early-');
    const reached = new Promise<void>((r) => (asked = r));
    const child = startCli(t, ['--panel', 'whm', '--panel-url', url, '--panel-user', 'root', '--db', join(dir, 'h.sqlite'), ...args], { MAILHEALTH_PANEL_TOKEN: 'tok' });
    await reached;
    child.kill(signal);
    const r = await child.exited;
    assert.equal(r.signal, null, `${args[0]}: the CLI handled the signal itself`);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(interruptedError(r.stdout).kind, 'interrupted');
  }
});
