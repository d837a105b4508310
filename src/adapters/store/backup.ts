// The copy of the history database an upgrade makes before its first schema step (openStore, store.ts): once migrated,
// the file is one the previous version of mailhealth refuses (too-new), so going back to that version means going back
// to this copy. It lies beside the database as `<file>.schema-<N>.bak` (N: the schema it holds), private like the
// database itself (./private-files.ts): 0600 whatever the umask, and — made by root for a database another user owns (a
// customer's, opened with --as/--db) — given to that user, so their own mailhealth can restore it and root's file does
// not sit in their directory. Only the latest BACKUPS_KEPT are kept.
//
// The copy is written by SQLite (VACUUM INTO, see store.ts). SQLite opens that file BY NAME, following links — O_NOFOLLOW
// is not used for it, and it even resolves each link in the name itself (readlink) before opening the result, so a
// `/proc/self/fd/N` name of a descriptor is no way round it (it becomes the file's current name, or "<name> (deleted)",
// names the directory's owner can plant links at; QA r1). So SQLite only ever gets a name nobody else can change:
//   - the file beside the database is made here first, under a temporary name, O_CREAT|O_EXCL|O_NOFOLLOW (no link or
//     file planted at that name is followed or reused); mode set with fchmod, owner with fchown, on that descriptor;
//   - where nobody but this user (and root) can rename, remove or create files on the way to it (every directory from /
//     down: ours or root's, not writable by others unless sticky — the service's own database, a user's own one), SQLite
//     fills it by that name;
//   - anywhere else (root upgrading a customer's database in their directory, a group-writable directory) SQLite writes
//     the copy into a private directory of this process under the temporary directory (mkdtemp, 0700: nobody else can
//     plant anything there), whose bytes are then copied into the file made above through its descriptor — no name in
//     the other user's directory is ever opened by anything but that O_EXCL|O_NOFOLLOW open. The copy is written twice
//     then, and needs its size free in the temporary directory too;
//   - before the copy is trusted, its temporary name must still lead to the file made here (same device and inode, one
//     name): a file swapped in meanwhile is neither kept nor renamed; its header must say it is an SQLite database, and
//     which schema it holds (user_version, bytes 60–63); it is fsync'ed;
//   - it is given its final name (publishBackup) only by the process that holds the database's write lock for the
//     upgrade, just before the first step (store.ts): so two processes upgrading at once never replace or remove each
//     other's copy — the one that does not get the lock discards its own, never published (QA r1). The rename replaces
//     an older copy of the same schema (a crash never leaves a half copy under the final name), and the directory is
//     fsync'ed before the upgrade changes anything.
// While it upgrades, a process keeps an empty marker `<file>.schema-upgrading.<pid>-<hex>` beside the database, so that
// another one that finds the database locked can say that an upgrade is under way (upgraderRunning) instead of
// guessing; a marker whose process no longer runs means nothing and is removed with the leftovers.
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  statfsSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

/** How many copies (`.schema-N.bak`) are kept beside a database: the one the latest upgrade made and the one before. */
export const BACKUPS_KEPT = 2;

/** A copy written by writeBackup: `path` is its temporary name until publishBackup gives it its own. */
export interface Backup {
  path: string;
  /** The schema version it holds. */
  version: number;
  dev: number;
  ino: number;
}

/** Where the copy of the database at `real` holding schema `version` goes. */
export function backupPath(real: string, version: number): string {
  return `${real}.schema-${version}.bak`;
}

export interface WriteBackupOptions {
  /** This process's user (default: process.getuid()): who, with root, may change names where the copy goes. */
  uid?: number;
  /** Where a private directory for the copy is made when SQLite cannot be given a name beside the database (default: os.tmpdir()). */
  stagingRoot?: string;
  /** The copy's expected size in bytes, checked against the free space there before it is staged (default: not checked). */
  size?: number;
  /** Bytes free on the file system of a directory (default: statfs); null: unknown. */
  freeSpace?: (dir: string) => number | null;
}

/**
 * Writes a copy of the database at `real` (the file itself, not a link to it) beside it, under a temporary name:
 * `fill(target)` has SQLite write it (VACUUM INTO) into the empty file at `target` — a name nobody else can change (see
 * the top of this file). Returns the copy (`path`: its temporary name; publishBackup or discardBackup next), or null
 * when it holds schema `atLeast` or later — nothing to keep: another process upgraded the file meanwhile (that one kept
 * its own copy). Throws (an Error saying what went wrong) with nothing left behind.
 */
export function writeBackup(real: string, fill: (target: string) => void, atLeast: number, options: WriteBackupOptions = {}): Backup | null {
  const uid = options.uid ?? process.getuid?.();
  const tmp = `${real}.schema-copy.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  const owner = lstatSync(real);
  // Decided before anything is made: a copy that cannot be made safely leaves nothing behind.
  const unsafe = uid === undefined ? null : namesOthersCanChange(dirname(tmp), uid);
  let staging: string | null = null;
  if (unsafe) {
    const root = options.stagingRoot ?? tmpdir();
    const alsoUnsafe = namesOthersCanChange(resolve(root), uid!);
    if (alsoUnsafe) {
      throw new Error(
        `cannot make the copy safely: not beside the database (${unsafe}, and SQLite, which writes the copy, follows links another user could put there) ` +
          `nor in the temporary directory ${root} (${alsoUnsafe}); set TMPDIR to a directory only ${uid === 0 ? 'root' : 'this user'} can write to, then run mailhealth again`,
      );
    }
    const free = options.size === undefined ? null : (options.freeSpace ?? freeBytes)(root);
    if (free !== null && options.size !== undefined && free < options.size) {
      throw new Error(
        `the copy is written in the temporary directory ${root} first (not beside the database: ${unsafe}, and SQLite, which writes it, follows links another user could put there); ` +
          `it needs about ${formatBytes(options.size)} free there and ${formatBytes(free)} is free: free some space there, or set TMPDIR to a directory with room, then run mailhealth again`,
      );
    }
  }
  const fd = openSync(tmp, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  let made: Stats | null = null;
  let keep = false;
  try {
    made = fstatSync(fd);
    fchmodSync(fd, 0o600); // whatever the umask
    // As root, a database another user owns (a customer's): the copy is theirs too (see the top of this file).
    if (uid === 0 && (owner.uid !== made.uid || owner.gid !== made.gid)) fchownSync(fd, owner.uid, owner.gid);
    if (unsafe) {
      staging = mkdtempSync(join(resolve(options.stagingRoot ?? tmpdir()), 'mailhealth-copy-'));
      const staged = join(staging, 'copy.sqlite');
      try {
        fill(staged);
      } catch (e) {
        // Short of space there is not short of space beside the database: say where.
        const code = String((e as NodeJS.ErrnoException | null)?.code ?? '');
        if (!/^(SQLITE_FULL|SQLITE_IOERR.*|ENOSPC|EDQUOT)$/.test(code)) throw e;
        throw new Error(`${(e as Error).message} — in the temporary directory ${dirname(staging)}, where the copy is written first${options.size === undefined ? '' : ` (about ${formatBytes(options.size)})`}`, { cause: e });
      }
      copyInto(staged, fd); // beside the database: short of space here is said as any copy's
    } else {
      fill(tmp);
    }
    const now = fstatSync(fd);
    let named: Stats;
    try {
      named = lstatSync(tmp);
    } catch {
      throw new Error(`${tmp} was removed while the copy was written`);
    }
    if (!named.isFile() || named.dev !== now.dev || named.ino !== now.ino || now.nlink !== 1) {
      throw new Error(`${tmp} was replaced while the copy was written (by another user?); not used`);
    }
    const version = copiedSchema(fd, tmp);
    if (version >= atLeast) return null;
    fsyncSync(fd);
    keep = true;
    return { path: tmp, version, dev: now.dev, ino: now.ino };
  } finally {
    closeSync(fd);
    if (staging) rmSync(staging, { recursive: true, force: true });
    if (!keep && made) removeIfSame(tmp, made);
  }
}

/**
 * Gives a copy writeBackup made its final name beside the database (`<file>.schema-N.bak`, replacing an older copy of
 * the same schema) and fsyncs the directory. Only while holding the database's write lock for the upgrade (store.ts):
 * then no other process publishes or removes one meanwhile. Throws when its temporary name no longer leads to it.
 */
export function publishBackup(copy: Backup, real: string): Backup {
  const st = lstatSync(copy.path);
  if (!st.isFile() || st.dev !== copy.dev || st.ino !== copy.ino || st.nlink !== 1) {
    throw new Error(`${copy.path} was replaced after the copy was written (by another user?); not used`);
  }
  const path = backupPath(real, copy.version);
  renameSync(copy.path, path);
  syncDirectory(dirname(real));
  return { ...copy, path };
}

/** Removes a copy writeBackup made that is not to be published. Never throws. */
export function discardBackup(copy: Backup): void {
  removeIfSame(copy.path, copy);
}

/**
 * Why a file named in `dir` could be renamed, removed or replaced by a link by a user other than `uid` and root — null
 * when nobody else can: every directory from `dir` up to / is a real directory owned by `uid` or root, and not writable
 * by group or others unless sticky (there only a file's owner may rename or remove it).
 */
export function namesOthersCanChange(dir: string, uid: number): string | null {
  let d = resolve(dir);
  for (;;) {
    let st: Stats;
    try {
      st = lstatSync(d);
    } catch (e) {
      return `${d} cannot be examined (${(e as Error).message})`;
    }
    if (!st.isDirectory()) return `${d} is not a directory (a link?)`;
    if (st.uid !== uid && st.uid !== 0) return `${d} belongs to another user (uid ${st.uid})`;
    if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) return `${d} can be written to by other users (mode ${(st.mode & 0o777).toString(8)})`;
    const up = dirname(d);
    if (up === d) return null;
    d = up;
  }
}

/** Copies the file at `from` (in a private directory of ours) into the file open at `fd`, from its start. */
function copyInto(from: string, fd: number): void {
  const src = openSync(from, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let at = 0;
    for (;;) {
      const n = readSync(src, buf, 0, buf.length, at);
      if (n === 0) break;
      let done = 0;
      while (done < n) done += writeSync(fd, buf, done, n - done, at + done);
      at += n;
    }
  } finally {
    closeSync(src);
  }
}

/**
 * Marks the database at `real` as being upgraded by this process (see the top of this file): the marker's path, or
 * null when it cannot be made (the upgrade goes on; only another process's message is less precise then).
 */
export function markUpgrading(real: string, uid: number | undefined = process.getuid?.()): { path: string; dev: number; ino: number } | null {
  const path = `${real}.schema-upgrading.${process.pid}-${randomBytes(4).toString('hex')}`;
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    try {
      const owner = lstatSync(real);
      if (uid === 0 && (owner.uid !== st.uid || owner.gid !== st.gid)) fchownSync(fd, owner.uid, owner.gid);
    } catch {
      /* root's empty file for the moment it takes */
    }
    return { path, dev: st.dev, ino: st.ino };
  } finally {
    closeSync(fd);
  }
}

/** Removes a marker markUpgrading made. Never throws. */
export function unmarkUpgrading(marker: { path: string; dev: number; ino: number } | null): void {
  if (marker) removeIfSame(marker.path, marker);
}

/** The pid of another process of this host upgrading the database at `real` now (its marker, see above), or null. */
export function upgraderRunning(real: string): number | null {
  let names: string[];
  try {
    names = readdirSync(dirname(real));
  } catch {
    return null;
  }
  const prefix = `${basename(real)}.schema-upgrading.`;
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d{1,10})-[0-9a-f]{8}$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && running(pid)) return pid;
  }
  return null;
}

/** The schema version (user_version) in the header of the SQLite file open at `fd`; throws when it is not one. */
function copiedSchema(fd: number, name: string): number {
  const header = Buffer.alloc(100);
  const n = readSync(fd, header, 0, 100, 0);
  if (n < 100 || header.toString('latin1', 0, 16) !== 'SQLite format 3\0') throw new Error(`${name} is not a complete SQLite database after the copy`);
  return header.readUInt32BE(60);
}

/** fsync a directory, so that a rename in it is on disk; file systems that refuse it (some network ones) are let be. */
function syncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    /* not supported here: the rename is still atomic */
  } finally {
    closeSync(fd);
  }
}

/** Removes `path` if it is still the file `seen` (never what another process or user put there since). Never throws. */
function removeIfSame(path: string, seen: { dev: number; ino: number }): void {
  try {
    const st = lstatSync(path);
    if (st.dev === seen.dev && st.ino === seen.ino) unlinkSync(path);
  } catch {
    /* gone already */
  }
}

/** Removes a copy publishBackup published (an upgrade that then failed: the database is still the old one). Never throws. */
export function removeBackup(backup: Backup): void {
  removeIfSame(backup.path, backup);
}

/**
 * Keeps the `keep` copies of the database at `real` that hold the latest schemas and removes the older ones, and the
 * temporary files of copies and the upgrade markers a killed process left (those of a process of this host that no
 * longer runs). Only regular files with the names writeBackup and markUpgrading give. Never throws: a copy that cannot
 * be removed stays.
 */
export function keepLatestBackups(real: string, keep: number = BACKUPS_KEPT): string[] {
  const dir = dirname(real);
  const base = basename(real);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const copies: { name: string; version: number }[] = [];
  const leftovers: string[] = [];
  for (const name of names) {
    if (!name.startsWith(`${base}.schema-`)) continue;
    const rest = name.slice(base.length);
    const copy = /^\.schema-(\d{1,9})\.bak$/.exec(rest);
    if (copy) copies.push({ name, version: Number(copy[1]) });
    const tmp = /^\.schema-copy\.(\d{1,10})-[0-9a-f]{8}\.tmp(-journal)?$/.exec(rest) ?? /^\.schema-upgrading\.(\d{1,10})-[0-9a-f]{8}$/.exec(rest);
    if (tmp && !running(Number(tmp[1]))) leftovers.push(name);
  }
  copies.sort((a, b) => b.version - a.version);
  const removed: string[] = [];
  for (const name of [...copies.slice(keep).map((c) => c.name), ...leftovers]) {
    const path = join(dir, name);
    try {
      if (!lstatSync(path).isFile()) continue;
      unlinkSync(path);
      removed.push(path);
    } catch {
      /* left as it is */
    }
  }
  return removed;
}

/** Whether a process `pid` runs on this host (EPERM: it does, as another user). */
function running(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Bytes free for an unprivileged user on the file system of `dir` (statfs: f_bavail × f_bsize); null when unknown. */
export function freeBytes(dir: string): number | null {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

/** `n` bytes for a message: "184 MB", "9.5 MB", "512 kB" (powers of 1000, as df -H and the upgrade QA gave them). */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(n >= 10e9 ? 0 : 1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 10e6 ? 0 : 1)} MB`;
  if (n >= 1e3) return `${Math.ceil(n / 1e3)} kB`;
  return `${n} bytes`;
}
