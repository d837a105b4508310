// Review r1, item 2: two processes opening an old database at once. A copied it and was migrating (holding the write
// lock); B made its own copy, renamed it over A's `.schema-N.bak`, waited for the lock in vain and removed "its" copy —
// the only one left — then said "nothing was changed … the previous version can still open it" while A's upgrade was
// about to commit. Now a copy gets its name only under the write lock, just before the first step, and a process that
// upgrades leaves a marker beside the database: B never touches A's copy, and says that another process is upgrading.
// A is played here by what it leaves while it migrates (its marker, its published copy, the write lock): deterministic,
// where two real upgrades would race on timing.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../../src/adapters/store/migrations.js';
import { openStore, StoreError } from '../../../src/adapters/store/store.js';

const root = mkdtempSync(join(tmpdir(), 'mailhealth-upgrade-race-'));
let upgrader: ChildProcess;
before(() => {
  // A process that runs while the test does: the pid in A's marker.
  upgrader = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
});
after(() => {
  upgrader.kill();
  rmSync(root, { recursive: true, force: true });
});
let n = 0;
const caseDir = () => {
  const d = join(root, `case-${++n}`);
  mkdirSync(d);
  return d;
};
const V6 = MIGRATIONS.slice(0, 6);
const extras = (dir: string) => readdirSync(dir).filter((f) => !/^mailhealth\.sqlite(-wal|-shm)?$/.test(f)).sort();
const inode = (p: string) => statSync(p).ino;

/** A database at schema 6 with a row, its copy at `.schema-6.bak` as the other process made it, and that process's write lock. */
function midUpgrade(dir: string): { path: string; bak: string; lock: Database.Database } {
  const path = join(dir, 'mailhealth.sqlite');
  openStore(path, { migrations: V6, warn: () => {} }).close();
  const lock = new Database(path);
  lock.prepare(`INSERT INTO settings (key, value, updated_at) VALUES ('before', '1', '2026-01-01T00:00:00.000Z')`).run();
  const bak = `${path}.schema-6.bak`;
  lock.prepare('VACUUM INTO ?').run(bak);
  lock.exec('BEGIN IMMEDIATE'); // the other process's upgrade transaction, steps under way
  lock.exec('CREATE TABLE its_step (x)');
  return { path, bak, lock };
}

describe('two processes upgrading the same database at once', () => {
  test("the one left waiting keeps nothing of its own, neither replaces nor removes the other's copy, and says another process is upgrading", () => {
    const dir = caseDir();
    const { path, bak, lock } = midUpgrade(dir);
    const marker = `${path}.schema-upgrading.${upgrader.pid}-0123abcd`;
    writeFileSync(marker, '');
    const copy = inode(bak);
    const lines: string[] = [];
    try {
      assert.throws(
        () => openStore(path, { busyTimeoutMs: 50, warn: (m) => lines.push(m) }),
        (e: unknown) => {
          assert.ok(e instanceof StoreError);
          assert.equal(e.code, 'locked');
          assert.equal(
            e.message,
            `mailhealth cannot upgrade the history database ${path} from schema 6 to ${MIGRATIONS.length} now: another mailhealth process (pid ${upgrader.pid}) ` +
              'is upgrading it at this moment (database is locked); this process changed nothing and kept no copy of its own (that process makes the copy ' +
              'and says where): run mailhealth again once it has finished',
          );
          assert.doesNotMatch(e.message, /can still open it/);
          return true;
        },
      );
      assert.deepEqual(lines, []);
      assert.ok(existsSync(bak), "the other process's copy is still there");
      assert.equal(inode(bak), copy, 'and it is that copy, not one made by the process that failed');
      assert.deepEqual(extras(dir), ['mailhealth.sqlite.schema-6.bak', `mailhealth.sqlite.schema-upgrading.${upgrader.pid}-0123abcd`], 'no copy, marker or temporary file of its own left');
    } finally {
      lock.exec('COMMIT');
      lock.close();
    }
  });

  test('the write lock held by a process that is not upgrading (no marker): says so, makes no promise for the previous version, and leaves an older copy of that schema alone', () => {
    const dir = caseDir();
    const { path, bak, lock } = midUpgrade(dir); // the copy: one an earlier upgrade left, the lock: the running service writing
    // A marker left by a process that no longer runs (above any pid Linux gives) means nothing.
    writeFileSync(`${path}.schema-upgrading.4194305-0123abcd`, '');
    const copy = inode(bak);
    try {
      assert.throws(
        () => openStore(path, { busyTimeoutMs: 50, warn: () => {} }),
        (e: unknown) =>
          e instanceof StoreError &&
          e.code === 'locked' &&
          e.message ===
            `the upgrade of the history database ${path} from schema 6 to ${MIGRATIONS.length} failed (database is locked); nothing was changed: ` +
              "another process holds the database's write lock (the running service writing, most likely); try again shortly",
      );
      assert.equal(inode(bak), copy);
    } finally {
      lock.exec('ROLLBACK');
      lock.close();
    }
    // Once the lock is free, the upgrade runs: its own copy replaces the older one, and the dead process's marker goes.
    const lines: string[] = [];
    openStore(path, { warn: (m) => lines.push(m) }).close();
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0], new RegExp(`a copy of the old one: ${path}\\.schema-6\\.bak\\)`));
    assert.notEqual(inode(bak), copy);
    assert.deepEqual(extras(dir), ['mailhealth.sqlite.schema-6.bak']);
  });
});
