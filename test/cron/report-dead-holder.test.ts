// A `mailhealth report` killed with SIGKILL leaves the report lock and a `running` run behind. The next run on the
// same host sees that the holder's process is gone and takes the lock over at once (marking that run interrupted),
// instead of refusing until the 15-minute lease runs out. A live holder, a holder on another host, or one it cannot
// judge is still refused. The store's clock is fake and never moves here: no lease ever expires in these tests.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import dgram from 'node:dgram';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { openStore, StoreError } from '../../src/adapters/store/store.js';
import { reportCommand } from '../../src/cli/commands/report.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { REPORT_LOCK, runReport } from '../../src/cron/report.js';
import { killHard, sleeper } from '../helpers/processes.js';
import { countingLimiter, startWorld, type TestWorld } from './world.js';
import { CLI_ARGV } from '../helpers/cli-argv.js';

const LEASE = 15 * 60_000;

/** The owner string a report run of process `pid` writes: report:<host>:<pid>:<random>:ns<pid ns>:st<start ticks>. */
function ownerFor(pid: number, opts: { host?: string; startTicks?: string; stamp?: boolean } = {}): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const startTicks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  const ns = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))![1];
  const base = `report:${opts.host ?? hostname()}:${pid}:0badf00d`;
  return opts.stamp === false ? base : `${base}:ns${ns}:st${opts.startTicks ?? startTicks}`;
}

const refused = (holder: string) => (e: unknown) =>
  e instanceof StoreError &&
  e.code === 'locked' &&
  e.message.startsWith('another report run is in progress (held by ') &&
  e.message.includes(holder);

describe('report lock held by a process that is gone', () => {
  let w: TestWorld;
  const children: ChildProcess[] = [];
  before(async () => {
    w = await startWorld();
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await w?.close();
  });
  // Each test starts with the lock free (a failed test must not make the next one fail).
  beforeEach(() => {
    const h = w.store.lockHolder(REPORT_LOCK);
    if (h) w.store.releaseLock(REPORT_LOCK, h.owner);
  });
  const run = () => runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter() });

  test('killed with SIGKILL: refused while it runs; once it is dead the next run takes over and marks its run interrupted', async () => {
    const child = await sleeper();
    children.push(child);
    const holder = ownerFor(child.pid);
    assert.ok(w.store.tryLock(REPORT_LOCK, holder, LEASE));
    const orphan = w.store.startRun('report', 'root', 6);

    // Alive: refused, with the message as before.
    await assert.rejects(run(), refused(holder));
    assert.equal(w.store.getRun(orphan)?.status, 'running');
    assert.equal(w.store.lockHolder(REPORT_LOCK)?.owner, holder);

    await killHard(child);
    const logs: string[] = [];
    const next = await runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter(), log: (m) => logs.push(m) });
    assert.deepEqual(next.interruptedRuns, [orphan]);
    assert.equal(w.store.getRun(orphan)?.status, 'interrupted');
    assert.equal(w.store.getRun(next.runId)?.status, 'complete');
    assert.notEqual(next.previousRunId, orphan);
    assert.equal(w.store.lockHolder(REPORT_LOCK), null, 'released after the run');
    assert.ok(logs.some((l) => l.includes(`took over the report lock from ${holder}`) && l.includes(`process ${child.pid} is no longer running`)), logs.join('\n'));
  });

  test('a dead pid on another host, or an owner without the process start time (older version), is still refused', async () => {
    const child = await sleeper();
    children.push(child);
    const elsewhere = ownerFor(child.pid, { host: 'other-host.invalid' });
    const unstamped = ownerFor(child.pid, { stamp: false });
    await killHard(child);
    for (const holder of [elsewhere, unstamped]) {
      assert.ok(w.store.tryLock(REPORT_LOCK, holder, LEASE), holder);
      await assert.rejects(run(), refused(holder), holder);
      assert.equal(w.store.lockHolder(REPORT_LOCK)?.owner, holder);
      assert.ok(w.store.releaseLock(REPORT_LOCK, holder));
    }
  });

  test('pid reuse: a live pid started at another time than the holder is not the holder (taken over); the same start time is (refused)', async () => {
    // This test process is alive; an owner naming its pid with its real start time is a live holder.
    const live = ownerFor(process.pid);
    assert.ok(w.store.tryLock(REPORT_LOCK, live, LEASE));
    await assert.rejects(run(), refused(live));
    assert.ok(w.store.releaseLock(REPORT_LOCK, live));

    // The same pid with another start time: the holder died and the kernel gave its pid to this process.
    const realTicks = live.slice(live.lastIndexOf(':st') + 3);
    const reused = ownerFor(process.pid, { startTicks: String(BigInt(realTicks) + 1n) });
    assert.ok(w.store.tryLock(REPORT_LOCK, reused, LEASE));
    const orphan = w.store.startRun('report', 'root', 6);
    const next = await run();
    assert.deepEqual(next.interruptedRuns, [orphan]);
    assert.equal(w.store.getRun(orphan)?.status, 'interrupted');
    assert.equal(w.store.lockHolder(REPORT_LOCK), null);
  });
});

describe('mailhealth report killed with kill -9 mid-run', () => {
  let w: TestWorld;
  let sock: dgram.Socket;
  before(async () => {
    w = await startWorld();
    // A "resolver" that takes every query and answers none: the killed run is certainly still auditing.
    sock = dgram.createSocket('udp4');
    sock.on('message', () => {});
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  });
  after(async () => {
    await new Promise<void>((r) => sock.close(() => r()));
    await w?.close();
  });

  test('the next `mailhealth report` runs at once (not refused for the lease), and the killed run is interrupted', { timeout: 120_000 }, async () => {
    const db = join(w.dir, 'cli.sqlite');
    const panelRoot = join(w.dir, 'panel');
    const child = spawn(
      process.execPath,
      [...CLI_ARGV, '--panel', 'files', '--panel-root', panelRoot, '--resolver', `127.0.0.1:${sock.address().port}`, '--db', db, 'report'],
      { cwd: REPO_ROOT, env: { ...process.env, MAILHEALTH_DB: '', NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const exited = once(child, 'exit');
    // Wait for the run to start auditing (it logs that under the lock, after recording the run).
    let stderr = '';
    const started = await new Promise<number>((resolve, reject) => {
      child.stderr!.on('data', (d) => {
        stderr += String(d);
        const m = /report run (\d+): auditing/.exec(stderr);
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', () => reject(new Error(`the CLI exited before its run started: ${stderr}`)));
    });
    child.kill('SIGKILL');
    const [, signal] = await exited;
    assert.equal(signal, 'SIGKILL');

    let out = '';
    let err = '';
    const code = await reportCommand(
      { panel: 'files', panelRoot, resolver: w.dns.address, authoritativePort: w.dns.port, db, json: true },
      { limiter: countingLimiter(), stdout: (s) => void (out += s), stderr: (s) => void (err += s) },
    );
    assert.equal(code, 1, `failing demo domains: exit 1 (${err})`);
    const doc = JSON.parse(out) as { runId: number; previousRunId: number | null };
    assert.notEqual(doc.runId, started);
    assert.equal(doc.previousRunId, null, 'the killed run is never compared with');
    const store = openStore(db);
    try {
      assert.equal(store.getRun(started)?.status, 'interrupted');
      assert.equal(store.getRun(doc.runId)?.status, 'complete');
      assert.equal(store.lockHolder(REPORT_LOCK), null);
    } finally {
      store.close();
    }
  });
});
