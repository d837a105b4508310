// The files panel's write under concurrency and failure: the last compare sits just before the rename, mailhealth
// writers exclude each other per zone file (a lock file next to it, whatever their database), a symlinked zone is
// updated where it points, and temp files never stay behind. Races are simulated deterministically by wrapping the
// node:fs functions the panel calls (syncBuiltinESMExports updates its named imports): the "other writer" acts at an
// exact step of the write, never by timing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs, { appendFileSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { fsWrapper, isTemp } from './fs-wrap.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, test } from 'node:test';
import { FilesPanel } from '../../../../src/adapters/panels/files/index.js';
import { PanelError } from '../../../../src/core/panel.js';
import type { Change } from '../../../../src/core/model.js';
import { writePanel } from '../../../helpers/scenario.js';

const ZONE = `$TTL 3600
@\tIN\tSOA\tns1.newhost.example. hostmaster.newhost.example. 2024010101 3600 1800 1209600 300
\tIN\tNS\tns1.newhost.example.
@\tIN\tA\t203.0.113.10
@\tIN\tTXT\t"v=spf1 +a +mx include:websitewelcome.com ~all"
_dmarc\tIN\tTXT\t"v=DMARC1; p=none"
`;
const HAND = 'admin1\tIN\tTXT\t"hand edit 1"\n';

let root: string;
let zones: string;
let zone: string;
let panel: FilesPanel;
const restore: (() => void)[] = [];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mailhealth-files-ws-'));
  writePanel(root, { domains: { 'bakery.test': { zone: ZONE }, 'plumber.test': { zone: ZONE } } });
  zones = join(root, 'zones');
  zone = join(zones, 'bakery.test.db');
  panel = new FilesPanel(root);
  panel.now = () => new Date(Date.UTC(2026, 10, 1));
});
afterEach(() => {
  while (restore.length) restore.pop()!();
  rmSync(root, { recursive: true, force: true });
});

const wrapFs = fsWrapper(restore);
/** The rename of the temp file onto the zone (not the move of a lock file aside). */
const isZoneRename = (from: unknown, to: unknown) => isTemp(from) && !isTemp(to);
const errno = (code: string, msg: string) => Object.assign(new Error(`${code}: ${msg}`), { code });

/** A change of the SPF record to `value`, with the version it was planned from. */
async function spf(p: FilesPanel, value: string): Promise<{ changes: Change[]; version: string }> {
  const z = await p.readZone('bakery.test');
  const before = z.records.find((r) => r.type === 'TXT' && r.value.startsWith('v=spf1'))!;
  return { changes: [{ action: 'edit', name: before.name, type: 'TXT', ttl: before.ttl, before, after: { name: before.name, ttl: before.ttl, type: 'TXT', value, txt: [value] } }], version: z.version };
}
async function dmarc(p: FilesPanel, value: string): Promise<{ changes: Change[]; version: string }> {
  const z = await p.readZone('bakery.test');
  const before = z.records.find((r) => r.name === '_dmarc.bakery.test')!;
  return { changes: [{ action: 'edit', name: before.name, type: 'TXT', ttl: before.ttl, before, after: { name: before.name, ttl: before.ttl, type: 'TXT', value, txt: [value] } }], version: z.version };
}
const isStale = (re?: RegExp) => (e: unknown) => e instanceof PanelError && e.code === 'stale' && (!re || re.test(e.message));
const busy = /another mailhealth process .*is writing the zone of bakery\.test; try again/;
/** The refusal of a write while another mailhealth process holds the zone (PanelError 'busy', not 'stale'). */
const isBusy = (e: unknown) => e instanceof PanelError && e.code === 'busy' && busy.test(e.message);
/** What a write may leave next to zone files: temp files and lock files. */
const debris = (dir: string) => readdirSync(dir).filter((f) => /\.mailhealth[-.]/.test(f));
/** A pid no process has: a child that has exited and been reaped. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;

for (const step of ['writeFileSync', 'chmodSync', 'chownSync'] as const) {
  test(`a hand edit while the temp file is being made (after ${step}) is not overwritten: stale, the edit kept, nothing left behind`, async () => {
    const { changes, version } = await spf(panel, 'v=spf1 +a +mx ~all');
    wrapFs(step, (orig) => ((p: fs.PathOrFileDescriptor, ...a: unknown[]) => {
      const r = (orig as (...x: unknown[]) => unknown)(p, ...a);
      if (isTemp(p)) appendFileSync(zone, HAND); // the admin's `>>`, after mailhealth's first re-read
      return r;
    }) as never);
    await assert.rejects(panel.applyChanges('bakery.test', changes, version), isStale(/changed during the write/));
    assert.equal(readFileSync(zone, 'utf8'), ZONE + HAND);
    assert.deepEqual(debris(zones), []);
  });
}

/** The repository root: a child process runs src/ through tsx from there. */
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
/**
 * Another mailhealth process (another pid, its own FilesPanel — as a CLI with another history database): it reads the
 * zone and sets the DMARC record, synchronously (the caller waits for it at an exact step of its own write).
 */
function otherProcessSetsDmarc(value: string): { applied?: boolean; code?: string; message?: string } {
  const code = `
    const { FilesPanel } = await import(${JSON.stringify(join(REPO, 'src/adapters/panels/files/index.ts'))});
    const panel = new FilesPanel(process.env.ROOT);
    const z = await panel.readZone('bakery.test');
    const before = z.records.find((r) => r.name === '_dmarc.bakery.test');
    const after = { name: before.name, ttl: before.ttl, type: 'TXT', value: process.env.VALUE, txt: [process.env.VALUE] };
    try {
      await panel.applyChanges('bakery.test', [{ action: 'edit', name: before.name, type: 'TXT', ttl: before.ttl, before, after }], z.version);
      console.log(JSON.stringify({ applied: true }));
    } catch (e) {
      console.log(JSON.stringify({ code: e.code, message: e.message }));
    }`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: REPO, env: { ...process.env, ROOT: root, VALUE: value }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

test('two mailhealth processes (two databases) on one zone: the second is refused while the first writes, its fix not lost; it lands when retried', async () => {
  const a = await spf(panel, 'v=spf1 +a +mx ~all');
  let second: ReturnType<typeof otherProcessSetsDmarc> | undefined;
  wrapFs('renameSync', (orig) => ((from: fs.PathLike, to: fs.PathLike) => {
    // The other process writes after our last compare, just before our rename: the window the lock closes.
    if (isZoneRename(from, to) && !second) second = otherProcessSetsDmarc('v=DMARC1; p=quarantine');
    return orig(from, to);
  }) as never);
  await panel.applyChanges('bakery.test', a.changes, a.version);
  assert.ok(second, 'the other process ran during our write');
  assert.equal(second.applied, undefined, 'the other process was not told "applied" (its write would be overwritten by ours)');
  assert.equal(second.code, 'busy');
  assert.match(second.message!, new RegExp(`another mailhealth process \\(pid ${process.pid}\\) is writing the zone of bakery\\.test; try again`));
  const afterA = readFileSync(zone, 'utf8');
  assert.match(afterA, /"v=spf1 \+a \+mx ~all"/);
  assert.match(afterA, /"v=DMARC1; p=none"/, 'nothing of the refused write');
  // Retried, with the zone as it is now: both changes are there.
  assert.deepEqual(otherProcessSetsDmarc('v=DMARC1; p=quarantine'), { applied: true });
  const both = readFileSync(zone, 'utf8');
  assert.match(both, /"v=spf1 \+a \+mx ~all"/);
  assert.match(both, /"v=DMARC1; p=quarantine"/);
  assert.deepEqual(debris(zones), []);
});

test('a second FilesPanel in the same process is refused too while the first writes (the lock is per process, not per panel)', async () => {
  const other = new FilesPanel(root);
  other.now = panel.now;
  const a = await spf(panel, 'v=spf1 +a +mx ~all');
  const b = await dmarc(other, 'v=DMARC1; p=quarantine');
  let second: Promise<unknown> | undefined;
  let started = false; // set before the call: the second panel's own rename must not start a third write
  wrapFs('renameSync', (orig) => ((from: fs.PathLike, to: fs.PathLike) => {
    if (isZoneRename(from, to) && !started) {
      started = true;
      second = other.applyChanges('bakery.test', b.changes, b.version);
    }
    return orig(from, to);
  }) as never);
  await panel.applyChanges('bakery.test', a.changes, a.version);
  assert.ok(second);
  await assert.rejects(second, isBusy);
  assert.match(readFileSync(zone, 'utf8'), /"v=DMARC1; p=none"/);
  assert.deepEqual(debris(zones), []);
});

test("a lock held by a live process refuses the write, nothing written, the other's lock left in place", async () => {
  const lock = `${zone}.mailhealth.lock`;
  writeFileSync(lock, '1\n'); // pid 1 always exists
  const { changes, version } = await spf(panel, 'v=spf1 +a +mx ~all');
  await assert.rejects(panel.applyChanges('bakery.test', changes, version), (e: unknown) => isBusy(e) && /\(pid 1\) is writing the zone of bakery\.test; try again — nothing was written/.test((e as Error).message));
  assert.equal(readFileSync(zone, 'utf8'), ZONE);
  assert.equal(readFileSync(lock, 'utf8'), '1\n');
  assert.deepEqual(debris(zones), ['bakery.test.db.mailhealth.lock']);
  // A lock file without a pid (a crash while it was created) is not guessed at: refused, the message names the file.
  writeFileSync(lock, '');
  await assert.rejects(panel.applyChanges('bakery.test', changes, version), (e: unknown) => isBusy(e) && (e as Error).message.endsWith(`remove ${lock})`));
  assert.equal(readFileSync(zone, 'utf8'), ZONE);
});

test('a lock left by a dead process (or by this pid, not held) is taken over, and removed after the write', async () => {
  const lock = `${zone}.mailhealth.lock`;
  for (const [i, pid] of [deadPid(), process.pid].entries()) {
    writeFileSync(lock, `${pid}\n`);
    const { changes, version } = await spf(panel, `v=spf1 +a +mx include:x${i}.example ~all`);
    await panel.applyChanges('bakery.test', changes, version);
    assert.match(readFileSync(zone, 'utf8'), new RegExp(`include:x${i}\\.example`), `pid ${pid}`);
    assert.deepEqual(debris(zones), [], `pid ${pid}`);
  }
});

test('taking over a dead lock: a lock another writer took meanwhile is judged again under the takeover guard — kept, the write refused', async () => {
  const lock = `${zone}.mailhealth.lock`;
  writeFileSync(lock, `${deadPid()}\n`);
  wrapFs('linkSync', (orig) => ((from: fs.PathLike, to: fs.PathLike) => {
    // Between our reading the dead pid and our taking the guard, another writer (pid 1) took the lock over.
    if (String(to).endsWith('.takeover')) writeFileSync(lock, '1\n');
    return orig(from, to);
  }) as never);
  const { changes, version } = await spf(panel, 'v=spf1 +a +mx ~all');
  await assert.rejects(panel.applyChanges('bakery.test', changes, version), isBusy);
  assert.equal(readFileSync(lock, 'utf8'), '1\n');
  assert.equal(readFileSync(zone, 'utf8'), ZONE);
  assert.deepEqual(debris(zones), ['bakery.test.db.mailhealth.lock'], 'the guard is released');
});

// Found by review: the takeover moved the lock aside and put back one it then found alive; a third writer creating a
// lock in between made it delete the live writer's lock — two writers in, one fix lost. Takeovers now take turns.
test('a takeover under way in another process (its guard there): refused, the lock left to it; a guard left over is stale after 10 s', async () => {
  const lock = `${zone}.mailhealth.lock`;
  const guard = `${lock}.takeover`;
  writeFileSync(lock, `${deadPid()}\n`);
  writeFileSync(guard, '1\n');
  const { changes, version } = await spf(panel, 'v=spf1 +a +mx ~all');
  await assert.rejects(panel.applyChanges('bakery.test', changes, version), isBusy);
  assert.equal(readFileSync(zone, 'utf8'), ZONE);
  // The guard of a process that stopped while holding it (older than a takeover ever takes): removed, the lock taken.
  const old = new Date(Date.now() - 60_000);
  fs.utimesSync(guard, old, old);
  await panel.applyChanges('bakery.test', changes, version);
  assert.match(readFileSync(zone, 'utf8'), /"v=spf1 \+a \+mx ~all"/);
  assert.deepEqual(debris(zones), [], 'lock and guard gone');
});

test('a lock taken from the writer during its write (its file replaced) refuses the rename', async () => {
  const lock = `${zone}.mailhealth.lock`;
  wrapFs('chownSync', (orig) => ((p: fs.PathLike, uid: number, gid: number) => {
    orig(p, uid, gid);
    if (isTemp(p)) writeFileSync(lock, '1\n');
  }) as never);
  const { changes, version } = await spf(panel, 'v=spf1 +a +mx ~all');
  await assert.rejects(panel.applyChanges('bakery.test', changes, version), isBusy);
  assert.equal(readFileSync(zone, 'utf8'), ZONE);
  assert.equal(readFileSync(lock, 'utf8'), '1\n', "the other writer's lock is not removed");
});

for (const kind of ['absolute', 'relative'] as const) {
  test(`a zone file that is a symlink (${kind}) stays a link; the file it points at is the one updated`, async () => {
    const bind = join(root, 'bind');
    mkdirSync(bind);
    const target = join(bind, 'bakery.test.db');
    writeFileSync(target, ZONE);
    unlinkSync(zone);
    const linkText = kind === 'absolute' ? target : '../bind/bakery.test.db';
    symlinkSync(linkText, zone);
    const { changes, version } = await spf(panel, 'v=spf1 +a +mx ~all');
    const res = await panel.applyChanges('bakery.test', changes, version);
    assert.ok(lstatSync(zone).isSymbolicLink(), 'still a link');
    assert.equal(readlinkSync(zone), linkText);
    assert.match(readFileSync(target, 'utf8'), /"v=spf1 \+a \+mx ~all"/, 'the name server’s file holds the change');
    assert.equal((await panel.readZone('bakery.test')).version, res.version);
    assert.deepEqual(debris(zones), []);
    assert.deepEqual(readdirSync(bind), ['bakery.test.db']);
  });
}

test('a failed rename (immutable file) leaves no temp file; the error is the rename’s', async () => {
  wrapFs('renameSync', (orig) => ((from: fs.PathLike, to: fs.PathLike) => {
    if (isZoneRename(from, to)) throw errno('EPERM', `operation not permitted, rename '${from}' -> '${to}'`);
    return orig(from, to);
  }) as never);
  const { changes, version } = await spf(panel, 'v=spf1 +a +mx ~all');
  await assert.rejects(panel.applyChanges('bakery.test', changes, version), (e: unknown) => e instanceof PanelError && /may not be changed \(EPERM/.test(e.message));
  assert.equal(readFileSync(zone, 'utf8'), ZONE);
  assert.deepEqual(debris(zones), []);
});

test('a temp write that fails part-way (ENOSPC) leaves no temp file', async () => {
  wrapFs('writeFileSync', (orig) => ((p: fs.PathOrFileDescriptor, data: string | NodeJS.ArrayBufferView, ...a: unknown[]) => {
    if (!isTemp(p)) return (orig as (...x: unknown[]) => void)(p, data, ...a);
    (orig as (...x: unknown[]) => void)(p, String(data).slice(0, 40), ...a);
    throw errno('ENOSPC', `no space left on device, write`);
  }) as never);
  const { changes, version } = await spf(panel, 'v=spf1 +a +mx ~all');
  await assert.rejects(panel.applyChanges('bakery.test', changes, version), (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOSPC');
  assert.equal(readFileSync(zone, 'utf8'), ZONE);
  assert.deepEqual(debris(zones), []);
});

test('a temp file that cannot be removed after a failure does not mask the original error', async () => {
  wrapFs('renameSync', (orig) => ((from: fs.PathLike, to: fs.PathLike) => {
    if (isZoneRename(from, to)) throw errno('EPERM', 'operation not permitted, rename');
    return orig(from, to);
  }) as never);
  let tried = 0;
  wrapFs('unlinkSync', (orig) => ((p: fs.PathLike) => {
    if (!isTemp(p)) return orig(p);
    tried++;
    throw errno('EBUSY', 'resource busy, unlink');
  }) as never);
  const { changes, version } = await spf(panel, 'v=spf1 +a +mx ~all');
  await assert.rejects(panel.applyChanges('bakery.test', changes, version), (e: unknown) => e instanceof PanelError && /may not be changed \(EPERM/.test(e.message));
  assert.equal(tried, 1, 'the temp file was to be removed');
  assert.equal(readFileSync(zone, 'utf8'), ZONE);
});

test("temp files of dead processes next to the zone are removed at its next write; a live process's and other zones' are kept", async () => {
  const dead = deadPid();
  const deadTmp = `${zone}.mailhealth-${dead}.tmp`;
  const liveTmp = `${zone}.mailhealth-1.tmp`;
  const otherZone = join(zones, `plumber.test.db.mailhealth-${dead}.tmp`);
  for (const f of [deadTmp, liveTmp, otherZone]) writeFileSync(f, 'half a zone');
  const { changes, version } = await spf(panel, 'v=spf1 +a +mx ~all');
  await panel.applyChanges('bakery.test', changes, version);
  assert.deepEqual(debris(zones).sort(), ['bakery.test.db.mailhealth-1.tmp', `plumber.test.db.mailhealth-${dead}.tmp`]);
});

test('next to a symlinked zone: leftovers of dead processes are removed both by the link and by its target', async () => {
  const bind = join(root, 'bind');
  mkdirSync(bind);
  const target = join(bind, 'bakery.test.db');
  writeFileSync(target, ZONE);
  unlinkSync(zone);
  symlinkSync(target, zone);
  const dead = deadPid();
  writeFileSync(`${zone}.mailhealth-${dead}.tmp`, 'old');
  writeFileSync(`${target}.mailhealth-${dead}.tmp`, 'old');
  const { changes, version } = await spf(panel, 'v=spf1 +a +mx ~all');
  await panel.applyChanges('bakery.test', changes, version);
  assert.deepEqual(debris(zones), []);
  assert.deepEqual(readdirSync(bind), ['bakery.test.db']);
});

test('a zone directory this user may not write: a PanelError naming the zone file and why, not a raw EACCES on the lock file; nothing written', async () => {
  // As a non-root user over a root-owned panel copy, the lock file's creation failed with "EACCES: permission denied,
  // open '…/bakery.test.db.mailhealth.lock.<pid>.new'" (CLI QA). Root ignores permissions, so the refusal is simulated.
  const before = readFileSync(zone, 'utf8');
  const { changes, version } = await spf(panel, 'v=spf1 +a +mx -all');
  wrapFs('writeFileSync', (orig) => ((p: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
    if (String(p).startsWith(zones)) throw errno('EACCES', `permission denied, open '${String(p)}'`);
    return (orig as (...a: unknown[]) => void)(p, ...rest);
  }) as typeof fs.writeFileSync);
  await assert.rejects(panel.applyChanges('bakery.test', changes, version), (e: unknown) => {
    assert.ok(e instanceof PanelError, String(e));
    assert.equal(e.code, 'auth');
    assert.match(e.message, /^the zone file of bakery\.test \(.*bakery\.test\.db\) cannot be written by this user.*; nothing was written$/);
    assert.doesNotMatch(e.message, /mailhealth\.lock|permission denied, open/);
    return true;
  });
  assert.equal(readFileSync(zone, 'utf8'), before);
  assert.deepEqual(readdirSync(zones).filter((f) => !f.endsWith('.db')), []);
});
