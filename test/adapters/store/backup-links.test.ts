// Review r1, item 1 (HIGH): the copy an upgrade makes (backup.ts writeBackup) was made safely under a temporary name
// (O_EXCL|O_NOFOLLOW), but SQLite was then handed that NAME (VACUUM INTO), and SQLite follows links. The directory's
// owner (a customer whose database root upgrades) could put a link at that name in between: root then created or filled
// the file the link named (e.g. /root/.ssh/authorized_keys) with the customer's database, before the check afterwards
// said "replaced… not used". Nor is `/proc/self/fd/N` a way round: SQLite resolves that link itself and opens the text
// it reads — the file's current name, or "<name> (deleted)" once it is unlinked, both names the owner can plant.
// Now SQLite is only given names nobody else can change: beside the database where no one else can rename or create
// files on the way to it, else in a private directory of ours (the copy's bytes then go into the O_EXCL file through
// its descriptor).
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { namesOthersCanChange, writeBackup } from '../../../src/adapters/store/backup.js';
import { MIGRATIONS } from '../../../src/adapters/store/migrations.js';
import { openStore, StoreError } from '../../../src/adapters/store/store.js';

const root = mkdtempSync(join(tmpdir(), 'mailhealth-backup-links-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const caseDir = (mode = 0o700) => {
  const d = join(root, `case-${++n}`);
  mkdirSync(d);
  chmodSync(d, mode);
  return d;
};
const IS_ROOT = process.getuid?.() === 0;
const NEEDS_ROOT = IS_ROOT ? false : 'needs root (a directory another user owns, a file only root could create)';
const CUST = 12345;

/** A database at schema 7 holding a line an attacker would like to see written somewhere as root. */
function database(dir: string): { path: string; db: Database.Database } {
  const path = join(dir, 'mailhealth.sqlite');
  const db = new Database(path);
  db.exec(`CREATE TABLE t (x); INSERT INTO t VALUES ('\nssh-ed25519 AAAA attacker@example\n')`);
  db.pragma('user_version = 7');
  return { path, db };
}

/**
 * What the directory's owner can do while the copy is written, before SQLite opens what it was given: the temporary
 * file's name replaced by a link to `victim`, and "<name> (deleted)" (what /proc/self/fd/N reads once it is unlinked)
 * made a link to `victim2`. `move`: the file renamed away (kept) rather than removed.
 */
function plantLinks(dir: string, victim: string, victim2: string, move = false): void {
  const [tmp] = readdirSync(dir).filter((f) => f.includes('.schema-copy.'));
  assert.ok(tmp, 'the temporary file exists while the copy is written');
  if (move) renameSync(join(dir, tmp), join(dir, 'moved-away'));
  else unlinkSync(join(dir, tmp));
  symlinkSync(victim, join(dir, tmp));
  symlinkSync(victim2, join(dir, `${tmp} (deleted)`));
}

describe("the upgrade's copy and links another user plants", () => {
  test("as root, in a customer's directory: a link put at the copy's name while it is written is not followed — no file made through it — and the copy is not used", { skip: NEEDS_ROOT }, () => {
    for (const move of [false, true]) {
      const dir = caseDir(0o755);
      const { path, db } = database(dir);
      chownSync(dir, CUST, CUST);
      chownSync(path, CUST, CUST);
      const rootOnly = caseDir(0o700); // as /root/.ssh
      const victim = join(rootOnly, 'authorized_keys');
      const victim2 = join(rootOnly, 'authorized_keys2');
      const staging = caseDir(0o700);
      assert.throws(
        () =>
          writeBackup(
            path,
            (target) => {
              plantLinks(dir, victim, victim2, move);
              db.prepare('VACUUM INTO ?').run(target); // as store.ts fills it
            },
            8,
            { stagingRoot: staging },
          ),
        /was replaced while the copy was written \(by another user\?\); not used/,
      );
      db.close();
      assert.equal(existsSync(victim), false, `no file made through the link at the name (move: ${move})`);
      assert.equal(existsSync(victim2), false, `no file made through the link at "<name> (deleted)" (move: ${move})`);
      assert.deepEqual(readdirSync(staging), [], 'the private directory the copy was written in is gone');
      assert.deepEqual(readdirSync(rootOnly), []);
    }
  });

  test('in a directory other users can write to (not sticky), the same: the copy goes through a private directory', () => {
    const dir = caseDir(0o777); // chmod: whatever the umask
    const { path, db } = database(dir);
    const elsewhere = caseDir(0o700);
    const victim = join(elsewhere, 'victim');
    const victim2 = join(elsewhere, 'victim2');
    const staging = caseDir(0o700);
    assert.throws(
      () =>
        writeBackup(
          path,
          (target) => {
            plantLinks(dir, victim, victim2);
            db.prepare('VACUUM INTO ?').run(target);
          },
          8,
          { stagingRoot: staging },
        ),
      /was replaced while the copy was written/,
    );
    db.close();
    assert.equal(existsSync(victim), false);
    assert.equal(existsSync(victim2), false);
    assert.deepEqual(readdirSync(staging), []);
  });

  test('copied through the private directory, untouched: the copy is complete, 0600, and nothing is left there', () => {
    const dir = caseDir(0o777);
    const { path, db } = database(dir);
    const staging = caseDir(0o700);
    const copy = writeBackup(path, (target) => void db.prepare('VACUUM INTO ?').run(target), 8, { stagingRoot: staging });
    db.close();
    assert.ok(copy);
    assert.equal(copy.version, 7);
    assert.equal(statSync(copy.path).mode & 0o777, 0o600);
    const raw = new Database(copy.path, { readonly: true });
    assert.match((raw.prepare('SELECT x FROM t').get() as { x: string }).x, /attacker@example/);
    raw.close();
    assert.deepEqual(readdirSync(staging), []);
  });

  test("as root, a customer's database upgraded through openStore: the copy is staged in TMPDIR (nothing left there), theirs and 0600; a TMPDIR others can write to is refused", { skip: NEEDS_ROOT }, () => {
    const dir = caseDir(0o755);
    const path = join(dir, 'mailhealth.sqlite');
    openStore(path, { migrations: MIGRATIONS.slice(0, 6), warn: () => {} }).close();
    chownSync(dir, CUST, CUST);
    chownSync(path, CUST, CUST);
    const saved = process.env.TMPDIR;
    try {
      // A temporary directory anyone may rename things in: SQLite would not be safe there either. Refused, nothing changed.
      process.env.TMPDIR = caseDir(0o777);
      assert.throws(
        () => openStore(path, { warn: () => {} }),
        (e: unknown) =>
          e instanceof StoreError &&
          e.code === 'io' &&
          /the copy of it made first .* failed \(cannot make the copy safely: not beside the database \(.* belongs to another user \(uid 12345\), .*\) nor in the temporary directory .* \(.* can be written to by other users \(mode 777\)\); set TMPDIR to a directory only root can write to, then run mailhealth again\); nothing was changed \(the previous version of mailhealth can still open it\)$/.test(e.message),
      );
      assert.deepEqual(readdirSync(dir).filter((f) => !/^mailhealth\.sqlite(-wal|-shm)?$/.test(f)), []);
      const staging = caseDir(0o700);
      process.env.TMPDIR = staging;
      const lines: string[] = [];
      openStore(path, { warn: (m) => lines.push(m) }).close();
      assert.equal(lines.length, 1, lines.join('\n'));
      const bak = `${path}.schema-6.bak`;
      assert.deepEqual([statSync(bak).uid, statSync(bak).mode & 0o777], [CUST, 0o600]);
      assert.deepEqual(readdirSync(staging), []);
      assert.deepEqual(readdirSync(dir).filter((f) => !/^mailhealth\.sqlite(-wal|-shm)?$/.test(f)), ['mailhealth.sqlite.schema-6.bak']);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });
});

describe('namesOthersCanChange', () => {
  test("a directory of this user's or root's, on a path nobody else can write to: nothing to say", () => {
    const uid = process.getuid!();
    assert.equal(namesOthersCanChange(caseDir(0o700), uid), null);
    assert.equal(namesOthersCanChange(caseDir(0o755), uid), null);
    assert.equal(namesOthersCanChange(caseDir(0o1777), uid), null, 'sticky: only a file\'s owner may rename or remove it');
  });

  test('writable by group or others without the sticky bit, or owned by another user: says so', { skip: IS_ROOT ? false : 'needs root to give a directory away' }, () => {
    const uid = process.getuid!();
    const open = caseDir(0o777);
    assert.equal(namesOthersCanChange(open, uid), `${open} can be written to by other users (mode 777)`);
    assert.match(namesOthersCanChange(caseDir(0o770), uid) ?? '', /can be written to by other users \(mode 770\)/);
    const theirs = caseDir(0o700);
    chownSync(theirs, CUST, CUST);
    assert.equal(namesOthersCanChange(theirs, uid), `${theirs} belongs to another user (uid ${CUST})`);
    // Below it too: its owner can rename the directory on the way.
    const below = join(theirs, 'below');
    mkdirSync(below, { mode: 0o700 });
    assert.equal(namesOthersCanChange(below, uid), `${theirs} belongs to another user (uid ${CUST})`);
  });
});
