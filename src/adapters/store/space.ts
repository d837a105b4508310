// The history database's size and free pages, and what giving the free pages back (VACUUM) needs on disk. See
// Store.space, Store.vacuum and the end of Store.prune (store.ts).
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { formatBytes } from './backup.js';

/** A database file's size and free pages (Store.space). */
export interface SpaceInfo {
  pageSize: number;
  /** Pages in the file (its size is pages × pageSize; the write-ahead log not counted). */
  pages: number;
  /** Pages free inside it: reused by new rows; given back to the file system only by a vacuum. */
  freePages: number;
  /**
   * PRAGMA auto_vacuum: incremental (prune gives free pages back, a few at a time), none (only Store.vacuum does), full
   * (SQLite does at each commit; mailhealth never sets it).
   */
  autoVacuum: 'none' | 'full' | 'incremental';
}

export function spaceOf(db: Database.Database): SpaceInfo {
  const mode = db.pragma('auto_vacuum', { simple: true }) as number;
  return {
    pageSize: db.pragma('page_size', { simple: true }) as number,
    pages: db.pragma('page_count', { simple: true }) as number,
    freePages: db.pragma('freelist_count', { simple: true }) as number,
    autoVacuum: mode === 2 ? 'incremental' : mode === 1 ? 'full' : 'none',
  };
}

/**
 * The directory SQLite puts a temporary file in on Unix (os_unix.c unixTempFileDir): the first of SQLITE_TMPDIR, TMPDIR,
 * /var/tmp, /usr/tmp, /tmp that is a directory this process can write to and search; else the current directory.
 * SQLite reads the two variables once, when the process starts using it: `env` is this process's environment.
 */
export function sqliteTempDir(env: NodeJS.ProcessEnv = process.env): string {
  for (const dir of [env.SQLITE_TMPDIR, env.TMPDIR, '/var/tmp', '/usr/tmp', '/tmp']) {
    if (!dir) continue;
    try {
      if (!statSync(dir).isDirectory()) continue;
      accessSync(dir, constants.W_OK | constants.X_OK);
      return dir;
    } catch {
      // Not there, or not ours to write: SQLite passes it over too.
    }
  }
  return '.';
}

/**
 * What a VACUUM of the database at `path` (`info`: its space now) needs free, and where it falls short: the pages in use
 * once in SQLite's temporary directory (the rewritten database, before it is copied back) and once beside the database
 * (the write-ahead log it is copied back through) — both on one file system when they share it. `short`: one phrase per
 * file system without that much free (empty: enough everywhere, or unknown); `tempDir`: the temporary directory when
 * it is on another file system than the database (then SQLITE_TMPDIR can move it), else null.
 */
export function vacuumNeed(path: string, info: SpaceInfo, freeSpace: (dir: string) => number | null, env: NodeJS.ProcessEnv = process.env): { short: string[]; tempDir: string | null } {
  const used = (info.pages - info.freePages) * info.pageSize;
  const dbDir = dirname(realpathSync(path));
  const tempDir = sqliteTempDir(env);
  const device = (dir: string): number | null => {
    try {
      return statSync(dir).dev;
    } catch {
      return null;
    }
  };
  const shared = device(tempDir) !== null && device(tempDir) === device(dbDir);
  const wants: { dir: string; bytes: number; what: string }[] = shared
    ? [{ dir: dbDir, bytes: 2 * used, what: `a temporary copy of the ${formatBytes(used)} in use (in ${tempDir}) and the write-ahead log it is copied back through` }]
    : [
        { dir: tempDir, bytes: used, what: `a temporary copy of the ${formatBytes(used)} in use (SQLite's temporary directory)` },
        { dir: dbDir, bytes: used, what: 'the write-ahead log the copy is written back through' },
      ];
  const short: string[] = [];
  for (const w of wants) {
    const free = freeSpace(w.dir);
    if (free !== null && free < w.bytes) short.push(`it needs about ${formatBytes(w.bytes)} free in ${w.dir} (${w.what}), and ${formatBytes(free)} is free`);
  }
  return { short, tempDir: shared ? null : tempDir };
}
