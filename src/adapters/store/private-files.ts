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
// Changing a mode is done on the file itself, never through a name another user could have pointed elsewhere: each
// file is looked at with lstat, opened O_NOFOLLOW|O_NONBLOCK (a link or FIFO swapped in meanwhile is neither followed
// nor waited on), checked to be the same regular file with a single name (a hard link planted as `-shm` would carry
// the change to the file it names), and changed with fchmod. A --db that is a link (one the admin made) is resolved
// once: SQLite keeps -wal and -shm beside the file it leads to, and those are the files made private.
// That holds in a directory others can write to (/tmp) too: no name planted there is followed or reaches another file,
// and what passes those checks is a root-owned regular file with one name, which only loses group and other access.
// Root is the one that can lock another user out of their own history or be aimed at other files, so as root:
//   - in a directory another user owns (a customer's home, a service user's /srv/mh) no mode is changed: the line says
//     what to run. That user's own mailhealth (a customer's cPanel page, a service running as them) makes a database
//     of theirs private itself; one root owns there would lock them out of it if root made it 0600, so the line says
//     to give it to them;
//   - no database is created in a directory another user owns (checkRootCreation): the file would be root's, 0600,
//     and that user's own mailhealth could not open its own history. The refusal says how to make it theirs first (a
//     file of theirs root opens stays theirs: SQLite gives the -wal and -shm it makes as root the database's owner);
//   - a link another user made is not followed to the database (checkRootCreation): it would decide which file
//     root's SQLite writes.
// A file system that accepts chmod and keeps no modes (vfat, some CIFS mounts): each mode is read back after fchmod,
// and such a file is reported as left (never as made private), once per process per file rather than at every open —
// a CGI request is a process of its own and still says it: the file is readable by others, which the admin should know.
// All of it independent of the umask: modes are set with (f)chmod, as for the shared settings (src/cli/shared-settings.ts).
// An existing directory is never changed (it may be /tmp, or a home directory); the file's mode protects it.
import { chmodSync, closeSync, constants, existsSync, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { escapeControls } from '../../core/text.js';

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

/**
 * As root, refuses (throws an Error saying why and what to do) to open the database at `path` where another user would
 * decide what root writes or would be locked out of their own history (see the top of this file):
 *   - a path through a link another user made (a customer can point `~/.local/share/mailhealth/mailhealth.sqlite`, or
 *     a directory on the way, at any file root can write — and root's SQLite would write there);
 *   - a database that does not exist yet, when the nearest existing directory on its path belongs to another user
 *     (`mailhealth --as cust --db /home/cust/…` before the customer ever opened mailhealth; `serve --db
 *     /srv/mh/db.sqlite` with /srv/mh a service user's; `sudo mailhealth --db ./x.sqlite` in a user's checkout): a
 *     root-owned 0600 file and root-owned 0700 directories there would lock that user's own mailhealth (a customer's
 *     cPanel page, a service running as them) out of its history. The refusal gives the commands that make it theirs.
 * An existing database in such a directory is opened where it is: the customer's own file stays theirs (SQLite gives
 * the -wal and -shm it creates as root the database's owner). Nothing to check for any other user: a link or a
 * directory leads them only where their own rights do.
 */
export function checkRootCreation(path: string, uid: number | undefined = process.getuid?.()): void {
  if (uid !== 0) return;
  const abs = resolve(path);
  const link = foreignLink(abs, uid);
  if (link) {
    throw new Error(
      `${abs} leads through ${link.path}, a link uid ${link.uid} made (to ${link.target}): as root, mailhealth follows no other user's link to its database — name the file it leads to with --db, if it is the one meant`,
    );
  }
  if (existsSync(abs)) return;
  const dir = nearestDirectory(dirname(abs));
  if (dir && dir.st.uid !== uid) throw new Error(foreignDirectoryRefusal(abs, dir.path, dir.st.uid, userName(dir.st.uid)));
}

/**
 * Why root creates no database at `abs`, whose nearest existing directory `dir` (on the way up, as mkdir would create
 * the rest) belongs to `owner`, and what to do: run mailhealth as that user, or make the file (and the directories
 * missing on the way) theirs first — root then opens a database that is theirs, and it stays theirs and private.
 */
export function foreignDirectoryRefusal(abs: string, dir: string, owner: number, name: string | null = null): string {
  // A link on the way (root's: another user's is refused before) may lead elsewhere, a mount point for one: the
  // directory that belongs to them is the one it leads to.
  let real = dir;
  try {
    real = realpathSync(dir);
  } catch {
    /* named as it is */
  }
  const where = real === dir ? dir : `${real}, where ${dir} leads,`;
  const who = name === null ? `uid ${owner}'s` : `uid ${owner}'s, user ${name}`;
  const as = name ?? String(owner);
  const missing: string[] = [];
  for (const part of relative(dir, dirname(abs)).split(sep).filter(Boolean)) missing.push(join(missing[missing.length - 1] ?? dir, part));
  const make = [
    ...(missing.length ? [`install -d -m 700 -o ${shellWord(as)} ${missing.map(shellWord).join(' ')}`] : []),
    `install -m 600 -o ${shellWord(as)} /dev/null ${shellWord(abs)}`,
  ].join(' && ');
  return (
    `there is no mailhealth database at ${abs}, and as root mailhealth creates none in a directory another user owns (${where} is ${who}): ` +
    `a database root created there would be root's, readable by root only, and would lock that user's own mailhealth out of it ` +
    `(a service that runs as that user; for a cPanel customer's home, the customer's mailhealth page). ` +
    `Run mailhealth as that user (sudo -u ${shellWord(name ?? `#${owner}`)} mailhealth …), or create the database as theirs first, as root — ` +
    `root can then use it too, and it stays theirs and private: ${make}`
  );
}

/** `s` as one word for a POSIX shell: as it is when plain, else in single quotes. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The login name /etc/passwd gives `uid`, or null (none there, a directory service's, no such file). */
function userName(uid: number): string | null {
  try {
    return passwdName(readFileSync('/etc/passwd', 'utf8'), uid);
  } catch {
    return null;
  }
}

/** The name of the first passwd(5) line for `uid` — one shown in a shell command as it is, else null. */
export function passwdName(passwd: string, uid: number): string | null {
  for (const line of passwd.split('\n')) {
    const [name, , id] = line.split(':');
    if (id === String(uid) && name && /^[a-z_][a-z0-9_.-]*\$?$/i.test(name)) return name;
  }
  return null;
}

/** The first component of `abs` (itself included) that is a symbolic link another user than `uid` made. */
function foreignLink(abs: string, uid: number): { path: string; uid: number; target: string } | null {
  const parts = abs.split(sep).filter(Boolean);
  let at: string = sep;
  for (const part of parts) {
    at = join(at, part);
    let st: Stats;
    try {
      st = lstatSync(at);
    } catch {
      return null; // missing from here on: nothing further to follow
    }
    if (st.isSymbolicLink() && st.uid !== uid) {
      let target = '?';
      try {
        target = realpathSync(at);
      } catch {
        /* a dangling link: SQLite would create its target */
      }
      return { path: at, uid: st.uid, target };
    }
  }
  return null;
}

/** The nearest directory on the way up from `dir` that exists (followed, as mkdir would), or null when none can be read. */
function nearestDirectory(dir: string): { path: string; st: Stats } | null {
  for (let d = dir; ; d = dirname(d)) {
    try {
      return { path: d, st: statSync(d) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(d) === d) return null;
    }
  }
}

/** The database file and the side files SQLite keeps beside it in WAL mode. */
export function databaseFiles(path: string): string[] {
  return [path, `${path}-wal`, `${path}-shm`];
}

/** A file with group or other access left as it is, and why. */
interface Left {
  file: string;
  mode: number;
  why: 'theirs' | 'directory' | 'links' | 'not-kept' | 'error';
  /** theirs: the owner; links: how many names the file has; error: what chmod said. */
  detail?: string | number;
}

/** Files whose chmod the file system ignored, reported already (dev:path): said once per process, not at every open. */
const modesNotKept = new Set<string>();

/**
 * The -wal and -shm beside the database at `path` (the file a link leads to) as they are now, by device and inode —
 * taken before SQLite opens it, for tightenDatabaseFiles. Empty when there are none (or nothing can be looked at).
 */
export function existingSideFiles(path: string): Set<string> {
  const ids = new Set<string>();
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return ids;
  }
  for (const file of databaseFiles(real).slice(1)) {
    try {
      const st = lstatSync(file);
      if (st.isFile()) ids.add(fileId(st));
    } catch {
      /* not there */
    }
  }
  return ids;
}

function fileId(st: Stats): string {
  return `${st.dev}:${st.ino}`;
}

/**
 * Removes group and other access from the database's files that have it (see the top of this file): those owned by
 * this user are fchmodded (the owner's bits kept), the rest reported. Returns the message for the log, or null when
 * every file was private already. Never throws: a file that vanished or was replaced meanwhile (the -shm of a closing
 * connection) is skipped, one that cannot be changed (a read-only file system) is reported with the reason.
 * `sideFilesBefore` (existingSideFiles, before this open): a -wal or -shm not among them was created by SQLite in this
 * open, with the database's mode and owner — made private (or left) all the same, but not named in the message, which
 * names the database itself (QA: "-wal 644 → 600, -shm 644 → 600" for files that had not existed a moment before).
 */
export function tightenDatabaseFiles(path: string, uid: number | undefined = process.getuid?.(), sideFilesBefore?: ReadonlySet<string>): string | null {
  if (uid === undefined) return null; // no POSIX owners or modes (Windows)
  let real: string;
  try {
    // A --db that is a link: SQLite keeps -wal and -shm beside the file it leads to, so those are the ones to look at.
    real = realpathSync(path);
  } catch {
    return null;
  }
  // As root, a directory another user owns changes nothing (see the top of this file): the one --db names and, for a
  // link, the one the file is in. One others can write to (/tmp) does not stop it: nothing there is followed.
  const theirs = uid === 0 ? foreignDirectory([dirname(resolve(path)), dirname(real)], uid) : null;
  const made: { file: string; mode: number; now: number }[] = [];
  const left: Left[] = [];
  for (const file of databaseFiles(real)) {
    let st: Stats;
    try {
      st = lstatSync(file);
    } catch {
      continue;
    }
    // Only regular files, never through a link: `--db /dev/null` must never make root chmod the device, and a
    // `-shm` link planted beside the database must not carry the change to the file it names.
    if (!st.isFile()) continue;
    const mode = st.mode & 0o777;
    if ((mode & 0o077) === 0) continue;
    // Made by SQLite in this open (see above): handled, not said — it is as the database is, which is said. Other
    // names of it (hard links) are always said: SQLite never makes them, someone planted the file.
    const said = !sideFilesBefore || file === real || sideFilesBefore.has(fileId(st));
    const leave = (l: Left) => {
      if (said) left.push(l);
    };
    if (st.uid !== uid) leave({ file, mode, why: 'theirs', detail: st.uid });
    else if (theirs) leave({ file, mode, why: 'directory' });
    else if (st.nlink !== 1) left.push({ file, mode, why: 'links', detail: st.nlink });
    else {
      const r = removeOthersAccess(file, st);
      if (r === 'gone') continue;
      if (r === 'seen') continue;
      if (typeof r === 'number') {
        if (said) made.push({ file, mode, now: r });
      } else leave({ file, mode, ...r });
    }
  }
  if (!made.length && !left.length) return null;
  return message(real, made, left, theirs);
}

/**
 * fchmod `file` (lstat'ed as `seen`) to its owner's bits only, through a descriptor opened without following a link
 * and checked to be that same regular file with one name. Returns the new mode; 'gone' when it vanished or is no longer
 * that file (left alone); 'seen' when the file system ignored the change and this process said so already.
 */
function removeOthersAccess(file: string, seen: Stats): number | 'gone' | 'seen' | Pick<Left, 'why' | 'detail'> {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // ENOENT: removed meanwhile; ELOOP: replaced by a link meanwhile (not followed, not changed).
    if (code === 'ENOENT' || code === 'ELOOP') return 'gone';
    return { why: 'error', detail: (e as Error).message };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.dev !== seen.dev || st.ino !== seen.ino || st.uid !== seen.uid || st.nlink !== 1) return 'gone';
    const mode = st.mode & 0o777;
    fchmodSync(fd, mode & 0o700);
    // Some file systems (vfat, exfat, some CIFS and NFS mounts) accept chmod and keep no modes: read it back.
    const now = fstatSync(fd).mode & 0o777;
    if ((now & 0o077) === 0) return now;
    // By path, not inode: SQLite deletes and re-creates -wal/-shm, so a new inode each open would be said every time.
    const key = `${st.dev}:${file}`;
    if (modesNotKept.has(key)) return 'seen';
    modesNotKept.add(key);
    return { why: 'not-kept' };
  } catch (e) {
    return { why: 'error', detail: (e as Error).message };
  } finally {
    closeSync(fd);
  }
}

/** The first of `dirs` that another user than `uid` owns, with its owner; null if none. */
function foreignDirectory(dirs: string[], uid: number): { dir: string; owner: number } | null {
  for (const dir of new Set(dirs)) {
    let st: Stats;
    try {
      st = statSync(dir);
    } catch {
      continue;
    }
    if (st.uid !== uid) return { dir, owner: st.uid };
  }
  return null;
}

/** The line for the log (see tightenDatabaseFiles): what was made private, what was left and what to run about it. */
function message(
  real: string,
  made: { file: string; mode: number; now: number }[],
  left: Left[],
  theirs: { dir: string; owner: number } | null,
): string {
  // The first entry printed names its file in full; after it, a side file is named by its suffix
  // ("…/x.sqlite 644 → 600, -wal 644 → 600"); the database itself is always named in full.
  let named = false;
  const name = (file: string) => {
    const short = named && file !== real ? file.slice(real.length) : file;
    named = true;
    return short;
  };
  const parts = [`the history database ${left.length ? 'is' : 'was'} readable by other users — it holds the web logins’ password hashes and the secret that signs their sessions`];
  if (made.length) parts.push(`so mailhealth made it private: ${made.map((m) => `${name(m.file)} ${octal(m.mode)} → ${octal(m.now)}`).join(', ')}`);
  const group = (why: Left['why']) => left.filter((l) => l.why === why);
  const them = (n: number) => (n === 1 ? 'it' : 'them');
  const asIs = (n: number) => (n === 1 ? 'left as it is' : 'left as they are');

  const othersFiles = group('theirs');
  if (othersFiles.length) {
    const list = othersFiles.map((l) => `${name(l.file)} (mode ${octal(l.mode)}, owned by uid ${l.detail})`).join(', ');
    parts.push(`${asIs(othersFiles.length)} (mailhealth changes no other user's files): ${list} — run chmod go= on ${them(othersFiles.length)} (as the owner or root)`);
  }
  const inDir = group('directory');
  if (inDir.length && theirs) {
    // Another user's directory: a root-owned database there is one their own mailhealth cannot write; made 0600, one it
    // cannot read either. Theirs, their mailhealth makes it private at its next open.
    const list = inDir.map((l) => `${name(l.file)} (mode ${octal(l.mode)}, owned by root)`).join(', ');
    parts.push(
      `${asIs(inDir.length)} (as root, mailhealth changes no file in a directory another user owns: ${theirs.dir} is uid ${theirs.owner}'s): ${list} — ` +
        `if it is that user's history, run chown ${theirs.owner}: on ${them(inDir.length)} (their mailhealth then makes ${them(inDir.length)} private), else chmod go=`,
    );
  }
  const links = group('links');
  if (links.length) {
    const list = links.map((l) => `${name(l.file)} (mode ${octal(l.mode)}, ${l.detail} names)`).join(', ');
    parts.push(`${asIs(links.length)} (${links.length === 1 ? 'it has' : 'they have'} other names — hard links — which the change would reach too): ${list} — check what else ${links.length === 1 ? 'names it' : 'names them'}, then run chmod go= on ${them(links.length)}`);
  }
  const notKept = group('not-kept');
  if (notKept.length) {
    const list = notKept.map((l) => `${name(l.file)} (mode ${octal(l.mode)})`).join(', ');
    parts.push(`${asIs(notKept.length)} (the file system does not keep modes: chmod changed nothing): ${list} — keep the database on a file system that does, or mount this one so that only its owner can read it (this is said once per process)`);
  }
  const failed = group('error');
  if (failed.length) {
    const list = failed.map((l) => `${name(l.file)} (mode ${octal(l.mode)}; could not change it: ${l.detail})`).join(', ');
    parts.push(`${asIs(failed.length)}: ${list} — run chmod go= on ${them(failed.length)} (as the owner or root)`);
  }
  return parts.join('; ');
}

function octal(mode: number): string {
  return mode.toString(8).padStart(3, '0');
}

/** The default sink for tightenDatabaseFiles' message: one escaped line on stderr, as the CLI's log writes them. */
export function warnOnStderr(message: string): void {
  process.stderr.write(`mailhealth: ${escapeControls(message)}\n`);
}
