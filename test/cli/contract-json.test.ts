// The CLI's --json contract for automation (README "CLI", "JSON contract", "Exit codes"), in the outcomes the other CLI
// tests leave out: stdout holds exactly one JSON value and the exit code is the documented one when
// - a fix or an undo fails at the panel's write: the answer names the change it recorded (`changeId`, as the web API's
//   `POST …/fix` and `…/undo` give it), so a script can find that change in `history` — it was dropped;
// - `fix`, `explain` are stopped by SIGINT: exit 1 with {"error": {"kind": "interrupted"}} as `audit` and `report` —
//   they died of the signal with nothing on stdout (exit 130); a fix stopped in its write says what that leaves;
// - `demo --audit-only --json` is given a --db that is no database: the store's error, exit 2 — it printed the error
//   and never exited (the demo's DNS server kept running), leaving its temporary copy of the panel behind;
// - `report --json` with a saved setting it does not use: the log line the README promises goes to stderr (it was
//   dropped under --json), the report alone on stdout.
// Real CLI processes against a files panel and a loopback DNS server; a preload (contract-panel-write.ts) makes the
// panel's write fail or hang. Signals are sent on an event the test sees (a DNS query arriving, a line on stderr),
// never after a delay.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { openStore } from '../../src/adapters/store/store.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { CLI_ARGV, SOURCE_CLI_ARGV } from '../helpers/cli-argv.js';
import { startPlay, type Play } from '../helpers/fixplay.js';
import { cli, errorOf, type CliRun } from './fixtures/run-cli.js';

const PANEL_WRITE = pathToFileURL(join(REPO_ROOT, 'test/cli/contract-panel-write.ts')).href;

/** The one JSON value stdout holds (JSON.parse refuses a second value, or text, beside it). */
function onlyJson(r: CliRun): Record<string, unknown> {
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

interface Setup {
  play: Play;
  db: string;
  base: string[];
  run(args: string[], write?: 'fails'): Promise<CliRun>;
  stored(id: number): { status: string; undoOf: number | null };
}

async function setup(t: TestContext): Promise<Setup> {
  const play = await startPlay();
  t.after(() => play.close());
  const db = join(dirname(play.dbPath), 'cli.sqlite');
  const base = ['--panel', 'files', '--panel-root', play.dir, '--resolver', play.dns.address, '--authoritative-port', String(play.dns.port), '--db', db];
  return {
    play,
    db,
    base,
    async run(args, write) {
      const r = await cli([...base, ...args], write ? { env: { MH_TEST_PANEL_WRITE: write }, preload: ['tsx', PANEL_WRITE] } : {});
      play.refresh();
      return r;
    },
    stored(id) {
      const s = openStore(db);
      try {
        return s.getChange(id)!;
      } finally {
        s.close();
      }
    },
  };
}

test('fix --apply --json and undo --json: a write the panel fails names the change it recorded (changeId), exit 1', { timeout: 120_000 }, async (t) => {
  const c = await setup(t);
  const fix = await c.run(['fix', 'florist.example', '--check', 'lockdown', '--apply', '--json'], 'fails');
  assert.equal(fix.code, 1, fix.stderr + fix.stdout);
  const f = onlyJson(fix);
  assert.equal(f.status, 'failed');
  assert.match(String(f.reason), /no space left on device/);
  assert.equal(typeof f.changeId, 'number', `the failed fix's change: ${fix.stdout}`);
  assert.equal(c.stored(f.changeId as number).status, 'failed');

  // An applied fix whose undo the panel fails: the undo's own change, beside the change it undoes.
  const ok = await c.run(['fix', 'florist.example', '--check', 'lockdown', '--apply', '--json']);
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  const applied = onlyJson(ok);
  assert.equal(applied.status, 'applied');
  const undo = await c.run(['undo', String(applied.changeId), '--json'], 'fails');
  assert.equal(undo.code, 1, undo.stderr + undo.stdout);
  const u = onlyJson(undo);
  assert.equal(u.status, 'failed');
  assert.equal(u.undoOf, applied.changeId);
  assert.equal(typeof u.changeId, 'number', `the failed undo's change: ${undo.stdout}`);
  assert.notEqual(u.changeId, applied.changeId);
  assert.deepEqual(
    { status: c.stored(u.changeId as number).status, undoOf: c.stored(u.changeId as number).undoOf },
    { status: 'failed', undoOf: applied.changeId },
  );
  assert.equal(c.stored(applied.changeId as number).status, 'applied', 'the change it undid stands');
});

/** A "resolver" that takes every query and answers none; `onQuery` runs at the first one. */
async function blackhole(t: TestContext, onQuery: () => void): Promise<string> {
  const sock = dgram.createSocket('udp4');
  let seen = false;
  sock.on('message', () => {
    if (!seen) {
      seen = true;
      onQuery();
    }
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => sock.close(() => r())));
  return `127.0.0.1:${sock.address().port}`;
}

interface Started {
  kill(signal: NodeJS.Signals): void;
  exited: Promise<CliRun & { signal: NodeJS.Signals | null }>;
  /** Resolves once stderr holds `text`. */
  said(text: string): Promise<void>;
}

/** The CLI as a child to signal; killed when the test ends if still running. */
function start(t: TestContext, args: string[], opts: { env?: NodeJS.ProcessEnv; preload?: string[]; input?: string } = {}): Started {
  const child = spawn(process.execPath, [...(opts.preload ?? []).flatMap((m) => ['--import', m]), ...(opts.preload ? SOURCE_CLI_ARGV : CLI_ARGV), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, MAILHEALTH_DB: '', NO_COLOR: '1', ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let done = false;
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => {
    stderr += String(d);
    for (const w of waiters.splice(0)) if (stderr.includes(w.text)) w.resolve();
    else waiters.push(w);
  });
  child.stdin.end(opts.input ?? '');
  const exited = new Promise<CliRun & { signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      done = true;
      resolve({ code, signal, stdout, stderr });
    }),
  );
  t.after(() => {
    if (!done) child.kill('SIGKILL');
  });
  return {
    kill: (s) => child.kill(s),
    exited,
    said: (text) => new Promise<void>((resolve) => (stderr.includes(text) ? resolve() : waiters.push({ text, resolve }))),
  };
}

function assertInterrupted(r: CliRun & { signal: NodeJS.Signals | null }, detail?: RegExp): void {
  assert.equal(r.signal, null, `exited by itself, not killed by the signal: ${r.stderr}`);
  assert.equal(r.code, 1, r.stderr + r.stdout);
  const e = errorOf(r.stdout);
  assert.equal(e.kind, 'interrupted');
  assert.match(e.message, /^stopped by SIGINT/);
  if (detail) assert.match(e.message, detail);
  assert.match(r.stderr, /^mailhealth: stopped by SIGINT/m);
}

test('fix (preview) and explain --json stopped by SIGINT: exit 1, {"error": {"kind": "interrupted"}} — not an empty stdout', { timeout: 120_000 }, async (t) => {
  const play = await startPlay();
  t.after(() => play.close());
  const db = join(dirname(play.dbPath), 'cli.sqlite');
  for (const [args, input] of [
    [['fix', 'bakery.example', '--check', 'spf', '--json'], undefined],
    [['explain', '-', '--domain', 'bakery.example', '--json'], '550 5.7.26 Unauthenticated email is not accepted from this domain.'],
  ] as const) {
    let child: Started | null = null;
    const resolver = await blackhole(t, () => child!.kill('SIGINT'));
    child = start(t, ['--panel-root', play.dir, '--resolver', resolver, '--db', db, ...args], input !== undefined ? { input } : {});
    assertInterrupted(await child.exited);
  }
});

test('fix --apply --json stopped by SIGINT in the panel write: exit 1, "interrupted", saying the change stays pending', { timeout: 120_000 }, async (t) => {
  const c = await setup(t);
  const child = start(t, [...c.base, 'fix', 'florist.example', '--check', 'lockdown', '--apply', '--json'], { env: { MH_TEST_PANEL_WRITE: 'hangs' }, preload: ['tsx', PANEL_WRITE] });
  await child.said('test: panel write started');
  child.kill('SIGINT');
  assertInterrupted(await child.exited, /the fix of florist\.example was stopped: if it had begun writing, its change shows as pending in the history until the next fix or undo on florist\.example, or the service, settles it from the zone/);
  const s = openStore(c.db);
  try {
    assert.deepEqual(s.changesForDomain('florist.example', 10).map((ch) => ch.status), ['intent'], 'pending, settled from the zone later');
  } finally {
    s.close();
  }
});

test('demo --audit-only --json with a --db that is no database: the store error, exit 2, the temporary panel copy removed', { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-contract-demo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tmp = join(dir, 'tmp');
  const db = join(dir, 'not-a-database.sqlite');
  writeFileSync(db, 'this is not an SQLite database, but a file someone named with --db by mistake\n'.repeat(20));
  mkdirSync(tmp);
  // Killed after 30 s if it does not exit by itself (it did not: code null).
  const r = await cli(['--db', db, 'demo', '--audit-only', '--json'], { env: { TMPDIR: tmp }, timeout: 30_000 });
  assert.equal(r.code, 2, `exit 2 by itself: ${r.stderr}`);
  const e = errorOf(r.stdout);
  assert.equal(e.kind, 'store');
  assert.equal(e.code, 'corrupt');
  assert.deepEqual(readdirSync(tmp).filter((n) => n.startsWith('mailhealth-demo-')), [], 'no demo copy left behind');
});

test('report --json: a saved setting it does not use is logged on stderr (README), the report alone on stdout', { timeout: 120_000 }, async (t) => {
  const c = await setup(t);
  const s = openStore(c.db);
  try {
    s.setSetting('report.concurrency', 'fast');
  } finally {
    s.close();
  }
  const r = await c.run(['report', '--json', '--qps', '100000']);
  assert.ok(r.code === 0 || r.code === 1, r.stderr + r.stdout);
  const doc = onlyJson(r);
  assert.equal(typeof doc.runId, 'number');
  assert.match(r.stderr, /^mailhealth: the saved report\.concurrency "fast" is not used \(a whole number from 1 to 1024\): 8 instead$/m);
  assert.doesNotMatch(r.stdout, /is not used/);
});
