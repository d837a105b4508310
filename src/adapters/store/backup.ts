// The copy of the history database an upgrade makes before its first schema step (openStore, store.ts): once migrated,
// the file is one the previous version of mailhealth refuses (too-new), so going back to that version means going back
// to this copy. It lies beside the database as `<file>.schema-<N>.bak` (N: the schema it holds), private like the
// database itself (./private-files.ts): 0600 whatever the umask, and — made by root for a database another user owns (a
// customer's, opened with --as/--db) — given to that user, so their own mailhealth can restore it and root's file does
// not sit in their directory. Only the latest BACKUPS_KEPT are kept.
//
// The copy is written by SQLite (VACUUM INTO, see store.ts) into an empty file made here first, under a temporary name:
//   - made O_CREAT|O_EXCL|O_NOFOLLOW, so no link or file planted at that name (in a directory another user owns) is
//     followed or reused; the mode is set with fchmod, the owner with fchown, on that descriptor;
//   - SQLite then opens it by name (O_NOFOLLOW too). Before the copy is trusted, the name must still lead to the file
//     made here (same device and inode, one name): a file swapped in meanwhile is neither kept nor renamed;
//   - its header must say it is an SQLite database, and which schema it holds (user_version, bytes 60–63);
//   - fsync'ed, then renamed over any older copy of the same schema (a crash never leaves a half copy under the final
//     name), and the directory fsync'ed, before the upgrade changes anything.
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, fsyncSync, lstatSync, openSync, readdirSync, readSync, renameSync, statfsSync, unlinkSync, type Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** How many copies (`.schema-N.bak`) are kept beside a database: the one the latest upgrade made and the one before. */
export const BACKUPS_KEPT = 2;

/** A copy written by writeBackup. */
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

/**
 * Writes a copy of the database at `real` (the file itself, not a link to it) beside it: `fill(tmp)` writes it into
 * the empty private file at `tmp` (VACUUM INTO). Returns the copy, or null when it holds schema `atLeast` or later —
 * nothing to keep: another process upgraded the file meanwhile (that one kept its own copy). Throws (an Error saying
 * what went wrong) with nothing left behind.
 */
export function writeBackup(real: string, fill: (tmp: string) => void, atLeast: number, uid: number | undefined = process.getuid?.()): Backup | null {
  const tmp = `${real}.schema-copy.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  const owner = lstatSync(real);
  const fd = openSync(tmp, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  let made: Stats | null = null;
  let keep = false;
  try {
    made = fstatSync(fd);
    fchmodSync(fd, 0o600); // whatever the umask
    // As root, a database another user owns (a customer's): the copy is theirs too (see the top of this file).
    if (uid === 0 && (owner.uid !== made.uid || owner.gid !== made.gid)) fchownSync(fd, owner.uid, owner.gid);
    fill(tmp);
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
    const path = backupPath(real, version);
    renameSync(tmp, path);
    keep = true;
    syncDirectory(dirname(real));
    return { path, version, dev: now.dev, ino: now.ino };
  } finally {
    closeSync(fd);
    if (!keep && made) removeIfSame(tmp, made);
  }
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

/** Removes a copy writeBackup made (an upgrade that then failed: the database is still the old one). Never throws. */
export function removeBackup(backup: Backup): void {
  removeIfSame(backup.path, backup);
}

/**
 * Keeps the `keep` copies of the database at `real` that hold the latest schemas and removes the older ones, and the
 * temporary files of copies a killed process left (those of a process of this host that no longer runs). Only regular
 * files with the names writeBackup gives. Never throws: a copy that cannot be removed stays.
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
    const tmp = /^\.schema-copy\.(\d{1,10})-[0-9a-f]{8}\.tmp(-journal)?$/.exec(rest);
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
