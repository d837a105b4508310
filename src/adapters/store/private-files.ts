// The history database is private to the user who runs mailhealth: it holds the web logins' password hashes and the
// secret that signs `serve`'s session cookies (web.sessionSecret) — whoever can read it can forge a session. So:
//   - directories the store creates on the way to it are 0700;
//   - a database file the store creates is 0600, made before SQLite opens it. SQLite gives the -wal and -shm files it
//     creates the main file's mode (and owner, when root) whatever the umask — checked with SQLite 3.53 here: a 0600
//     file gets 0600 side files under umask 022, a 0640 one 0640 under umask 0 — so they follow;
//   - an existing database with group or other access, owned by this user, loses that access (0644 → 0600) and a line
//     on stderr says so: older versions made it 0644 under umask 022 (a CLI run from a checkout, a cPanel customer's
//     store first created by the CLI), and nothing mailhealth runs needs anyone but the owner to read it — the
//     installed service and the cPanel page run as the owner (root, the customer). A file owned by another user is
//     left as it is, with a warning naming the chmod to run: mailhealth does not change other users' files. Only once
//     the file has been read as a mailhealth database (openStore), and only regular files: a file that is not one (a
//     typo'd --db naming someone's notes) is refused untouched, and `--db /dev/null` never makes root chmod the device.
// All of it independent of the umask: modes are set with (f)chmod, as for the shared settings (src/cli/shared-settings.ts).
// An existing directory is never changed (it may be /tmp, or a home directory); the file's mode protects it.
import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { showInvisible } from '../../core/text.js';

/** Creates `dir` and its missing parents 0700 whatever the umask; existing directories are left as they are. */
export function makePrivateDirs(dir: string): void {
  const first = mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!first) return;
  const made = [first];
  for (const part of relative(first, dir).split(sep).filter(Boolean)) made.push(join(made[made.length - 1], part));
  for (const d of made) chmodSync(d, 0o700);
}

/**
 * Creates `path` as an empty file, 0600 whatever the umask (SQLite reads an empty file as a new database). False when
 * something is already there (left alone: SQLite opens or refuses it); other errors (no permission) are thrown.
 */
export function createPrivateFile(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    fchmodSync(fd, 0o600);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** The database file and the side files SQLite keeps beside it in WAL mode. */
export function databaseFiles(path: string): string[] {
  return [path, `${path}-wal`, `${path}-shm`];
}

/**
 * Removes group and other access from the database's files that have it (see the top of this file): those owned by
 * this user are chmodded (the owner's bits kept), the rest reported. Returns the message for the log, or null when
 * every file was private already. Never throws: a file that vanished meanwhile (the -shm of a closing connection) is
 * skipped, one that cannot be changed (a read-only file system) is reported with the reason.
 */
export function tightenDatabaseFiles(path: string, uid: number | undefined = process.getuid?.()): string | null {
  if (uid === undefined) return null; // no POSIX owners or modes (Windows)
  const made: string[] = [];
  const left: string[] = [];
  let others = false;
  for (const file of databaseFiles(path)) {
    let st;
    try {
      st = statSync(file);
    } catch {
      continue;
    }
    // Only regular files: `--db /dev/null` must never make root chmod the device.
    if (!st.isFile()) continue;
    const mode = st.mode & 0o777;
    if ((mode & 0o077) === 0) continue;
    // A side file after its database's own entry is named by its suffix: "…/x.sqlite 644 → 600, -wal 644 → 600".
    const name = file !== path && [...made, ...left].some((e) => e.startsWith(`${path} `)) ? file.slice(path.length) : file;
    if (st.uid !== uid) {
      left.push(`${name} (mode ${octal(mode)}, owned by uid ${st.uid})`);
      others = true;
      continue;
    }
    try {
      chmodSync(file, mode & 0o700);
      made.push(`${name} ${octal(mode)} → ${octal(mode & 0o700)}`);
    } catch (e) {
      left.push(`${name} (mode ${octal(mode)}; could not change it: ${(e as Error).message})`);
    }
  }
  if (!made.length && !left.length) return null;
  const parts = [`the history database ${left.length ? 'is' : 'was'} readable by other users — it holds the web logins’ password hashes and the secret that signs their sessions`];
  if (made.length) parts.push(`so mailhealth made it private: ${made.join(', ')}`);
  if (left.length) {
    const them = left.length === 1 ? 'it' : 'them';
    parts.push(`left as ${left.length === 1 ? 'it is' : 'they are'}${others ? " (mailhealth changes no other user's files)" : ''}: ${left.join(', ')} — run chmod go= on ${them} (as the owner or root)`);
  }
  return parts.join('; ');
}

function octal(mode: number): string {
  return mode.toString(8).padStart(3, '0');
}

/** The default sink for tightenDatabaseFiles' message: one escaped line on stderr, as the CLI's log writes them. */
export function warnOnStderr(message: string): void {
  // eslint-disable-next-line no-control-regex
  const escaped = showInvisible(message.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  process.stderr.write(`mailhealth: ${escaped}\n`);
}
