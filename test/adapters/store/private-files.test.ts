// The history database holds the web logins' password hashes and the session secret: whatever the umask, the store
// creates its directories 0700 and its file 0600 (SQLite's -wal/-shm follow), makes an existing one of ours with group
// or other access owner-only (saying so), warns about one it does not own, and never changes an existing directory.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { openStore, StoreError, type StoreOptions } from '../../../src/adapters/store/store.js';
import { tightenDatabaseFiles, warnOnStderr } from '../../../src/adapters/store/private-files.js';

const mode = (p: string) => statSync(p).mode & 0o777;

function isStoreError(code: StoreError['code'], pattern?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof StoreError, `expected StoreError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  };
}
const asRoot = process.getuid?.() === 0;

describe('the history database is private whatever the umask', () => {
  let root: string;
  let oldUmask: number;
  let n = 0;
  before(() => {
    oldUmask = process.umask(0o022); // a login shell's umask: files 0644, directories 0755 unless asked otherwise
    root = mkdtempSync(join(tmpdir(), 'mailhealth-private-'));
    chmodSync(root, 0o755);
  });
  after(() => {
    process.umask(oldUmask);
    rmSync(root, { recursive: true, force: true });
  });
  const dir = () => join(root, `case-${++n}`);
  const warnings: string[] = [];
  const opts: StoreOptions = { warn: (m) => warnings.push(m) };

  test('a new database: missing directories 0700, the file and its -wal and -shm 0600; the existing parent unchanged', () => {
    const base = dir();
    mkdirSync(base, { mode: 0o755 });
    const path = join(base, 'newdir', 'sub', 'cli.sqlite');
    const store = openStore(path, opts);
    try {
      store.setSetting('web.sessionSecret', 'not for anyone else');
      assert.equal(mode(join(base, 'newdir')), 0o700);
      assert.equal(mode(join(base, 'newdir', 'sub')), 0o700);
      assert.equal(mode(path), 0o600);
      assert.ok(existsSync(`${path}-wal`) && existsSync(`${path}-shm`), 'WAL mode: side files exist while open');
      assert.equal(mode(`${path}-wal`), 0o600);
      assert.equal(mode(`${path}-shm`), 0o600);
    } finally {
      store.close();
    }
    assert.equal(mode(base), 0o755, 'a directory that existed is left as it was');
    assert.deepEqual(warnings.splice(0), []);
  });

  test('a world-writable existing directory (such as /tmp) is not changed', () => {
    const base = dir();
    mkdirSync(base);
    chmodSync(base, 0o1777);
    openStore(join(base, 'x.sqlite'), opts).close();
    assert.equal(statSync(base).mode & 0o7777, 0o1777);
    assert.equal(mode(join(base, 'x.sqlite')), 0o600);
  });

  test('an existing database of ours with other access (as older versions made it) is made owner-only, once, and said', () => {
    const base = dir();
    mkdirSync(base);
    const path = join(base, 'old.sqlite');
    openStore(path, opts).close();
    // What an older mailhealth left under umask 022, with a WAL still open by another connection: all three 0644.
    chmodSync(path, 0o644);
    const other = new Database(path);
    other.exec('CREATE TABLE IF NOT EXISTS t (x)'); // not ours, only to make it write
    other.exec('DROP TABLE t');
    for (const f of [path, `${path}-wal`, `${path}-shm`]) chmodSync(f, 0o644);
    try {
      const store = openStore(path, opts);
      store.close();
    } finally {
      other.close();
    }
    assert.equal(mode(path), 0o600);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /readable by other users/);
    assert.match(warnings[0], /password hashes and the secret that signs their sessions/);
    assert.ok(warnings[0].endsWith(`made it private: ${path} 644 → 600, -wal 644 → 600, -shm 644 → 600`), warnings[0]);
    warnings.length = 0;
    openStore(path, opts).close();
    assert.deepEqual(warnings, [], 'private already: nothing to say');
  });

  test('group access goes too, the owner keeps what it had (0640 → 0600, 0440 → 0400)', () => {
    const base = dir();
    mkdirSync(base);
    const path = join(base, 'g.sqlite');
    openStore(path, opts).close();
    chmodSync(path, 0o640);
    openStore(path, opts).close();
    assert.equal(mode(path), 0o600);
    chmodSync(path, 0o440);
    assert.equal(tightenDatabaseFiles(path)?.includes(`${path} 440 → 400`), true);
    assert.equal(mode(path), 0o400);
    warnings.length = 0;
  });

  test('a file that is not a mailhealth database is refused and its mode left as it was', () => {
    const base = dir();
    mkdirSync(base);
    const path = join(base, 'notes.txt');
    writeFileSync(path, 'x'.repeat(4096), { mode: 0o644 });
    assert.throws(() => openStore(path, opts), isStoreError('corrupt'));
    assert.equal(mode(path), 0o644);
    assert.deepEqual(warnings, []);
  });

  test("another user's database readable by others is left as it is, with a warning saying what to run", { skip: asRoot ? false : 'needs root to give a file to another user' }, () => {
    const base = dir();
    mkdirSync(base);
    const path = join(base, 'theirs.sqlite');
    openStore(path, opts).close();
    chownSync(path, 65534, 65534);
    chmodSync(path, 0o644);
    openStore(path, opts).close();
    assert.equal(mode(path), 0o644, 'not ours: not changed');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /^the history database is readable by other users/);
    // Only the database: the -wal and -shm SQLite created in this open (its mode, its owner) are not named.
    assert.match(warnings[0], /left as it is \(mailhealth changes no other user's files\)/);
    assert.ok(warnings[0].endsWith(`: ${path} (mode 644, owned by uid 65534) — run chmod go= on it (as the owner or root)`), warnings[0]);
    warnings.length = 0;
  });

  test('the default warning is one escaped line on stderr', (t) => {
    const lines: string[] = [];
    t.mock.method(process.stderr, 'write', (s: string) => (lines.push(s), true));
    const base = dir();
    mkdirSync(base);
    const path = join(base, 'evil\n\u202Ename.sqlite');
    openStore(path).close();
    chmodSync(path, 0o644);
    openStore(path).close();
    t.mock.restoreAll();
    assert.equal(lines.length, 1, lines.join(''));
    assert.ok(lines[0].startsWith('mailhealth: the history database was readable by other users'), lines[0]);
    assert.ok(lines[0].includes('evil\\x0a\\u202Ename.sqlite 644 → 600'), lines[0]);
    assert.equal(lines[0].indexOf('\n'), lines[0].length - 1);
    // warnOnStderr itself, directly:
    const direct: string[] = [];
    t.mock.method(process.stderr, 'write', (s: string) => (direct.push(s), true));
    warnOnStderr('a\tb');
    t.mock.restoreAll();
    assert.deepEqual(direct, ['mailhealth: a\\x09b\n']);
  });

  test('a database file that cannot be created gives StoreError io naming it and why', () => {
    const base = dir();
    mkdirSync(base);
    // ENAMETOOLONG: refused even to root (a read-only directory is not).
    assert.throws(() => openStore(join(base, `${'x'.repeat(300)}.sqlite`), opts), isStoreError('io', /cannot create the mailhealth database .*ENAMETOOLONG/));
  });
});

test('only regular files are ever chmodded: a FIFO or device named as the database (--db /dev/null) keeps its mode', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mailhealth-private-fifo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fifo = join(dir, 'pipe');
  // A stand-in for /dev/null that this test may own: root opening `--db /dev/null` must not make it 0600.
  if (spawnSync('mkfifo', ['-m', '666', fifo]).status !== 0) return t.skip('no mkfifo here');
  assert.equal(tightenDatabaseFiles(fifo), null);
  assert.equal(mode(fifo), 0o666);
});
