// Upgrade QA (h2, defect 1): any command — a read-only `history --no-recheck` too — migrated the history database
// silently and for good: nothing logged, no copy, so a previous-version service (or a newer checkout's CLI run against
// the production file) then failed for ever with "schema version 8 is newer than this mailhealth knows (7)". A failed
// upgrade (full disk) rolled back but said only "cannot read or write the mailhealth database … (disk I/O error)".
// Now an existing file at an older schema is copied beside itself first (`<file>.schema-N.bak`, 0600, its owner's, the
// latest two kept), the upgrade runs in one transaction and says one line when it ran; short of space it refuses and
// changes nothing; a failure says it was the upgrade from N to M, that nothing changed, and the space it needs.
// And the line about a database made private no longer names the -wal and -shm SQLite created in that same open.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { BACKUPS_KEPT } from '../../../src/adapters/store/backup.js';
import { MIGRATIONS, type Migration } from '../../../src/adapters/store/migrations.js';
import { openStore, StoreError, type StoreOptions } from '../../../src/adapters/store/store.js';

const root = mkdtempSync(join(tmpdir(), 'mailhealth-upgrade-backup-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A directory of its own per case, so that its listing is the case's files only. */
const caseDir = () => {
  const d = join(root, `case-${++n}`);
  mkdirSync(d);
  return d;
};
const mode = (p: string) => statSync(p).mode & 0o777;
const AT = '2026-01-01T00:00:00.000Z';
const V6 = MIGRATIONS.slice(0, 6);
const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** Options that collect the store's lines instead of printing them. */
function collecting(extra: StoreOptions = {}): { opts: StoreOptions; lines: string[] } {
  const lines: string[] = [];
  return { opts: { ...extra, warn: (m) => lines.push(m) }, lines };
}

/** A file as the release of schema 6 left it: a setting, a run with a result, a job and a change (raw SQL, as v6 wrote them). */
function v6File(dir: string): string {
  const path = join(dir, 'mailhealth.sqlite');
  openStore(path, { migrations: V6, warn: () => {} }).close();
  const raw = new Database(path);
  raw.prepare(`INSERT INTO settings (key, value, updated_at) VALUES ('web.example', '"kept"', ?)`).run(AT);
  const run = raw.prepare(`INSERT INTO runs (kind, started_at, by_user, status) VALUES ('audit', ?, 'root', 'complete')`).run(AT).lastInsertRowid;
  raw
    .prepare(`INSERT INTO results (run_id, domain, owner, status, audited_at, findings_count, checks, findings) VALUES (?, 'a.example', 'alice', 'pass', ?, 0, '{}', '[]')`)
    .run(run, AT);
  raw.prepare(`INSERT INTO jobs (kind, by_user, total, status, created_at, updated_at) VALUES ('bulk-fix', 'root', 1, 'complete', ?, ?)`).run(AT, AT);
  raw
    .prepare(
      `INSERT INTO changes (domain, "check", plan_hash, changes, by_user, created_at, updated_at, status) VALUES ('a.example', 'spf', 'sha256:x', '[]', 'root', ?, ?, 'applied')`,
    )
    .run(AT, AT);
  raw.close(); // the last connection: the WAL goes into the file, as a stopped v6 service leaves it
  return path;
}

function version(path: string): number {
  const raw = new Database(path, { readonly: true });
  try {
    return raw.pragma('user_version', { simple: true }) as number;
  } finally {
    raw.close();
  }
}

function columns(path: string, table: string): string[] {
  const raw = new Database(path, { readonly: true });
  try {
    return (raw.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((c) => c.name);
  } finally {
    raw.close();
  }
}

/** The files of `dir` other than the database and its -wal/-shm. */
function extras(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => !/^mailhealth\.sqlite(-wal|-shm)?$/.test(f))
    .sort();
}

const isStoreError = (code: string, re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof StoreError, `expected a StoreError, got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  assert.match(e.message, re);
  return true;
};

describe('upgrading an existing history database', () => {
  test('a schema-6 file: copied beside itself first (0600, schema 6, its rows), upgraded intact, and one line says so; the next open says nothing', () => {
    const dir = caseDir();
    const path = v6File(dir);
    const { opts, lines } = collecting();
    const s = openStore(path, opts);
    const bak = `${path}.schema-6.bak`;
    try {
      assert.deepEqual(lines, [
        `upgraded the history database ${path} from schema 6 to ${MIGRATIONS.length} (a copy of the old one: ${bak}); older versions of mailhealth can no longer open it`,
      ]);
      // The database, intact at the new schema.
      assert.equal(s.schemaVersion(), MIGRATIONS.length);
      assert.equal(s.getSetting('web.example'), 'kept');
      assert.equal(s.latestAudits(['a.example']).get('a.example')?.owner, 'alice');
      assert.equal(s.getJob(1)?.kind, 'bulk-fix');
      assert.equal(s.getChange(1)?.status, 'applied');
    } finally {
      s.close();
    }
    assert.ok(columns(path, 'changes').includes('job_id'));
    assert.deepEqual(extras(dir), ['mailhealth.sqlite.schema-6.bak']);

    // The copy: private, the database's owner, a whole database at the old schema, with the old rows.
    assert.equal(mode(bak), 0o600);
    assert.equal(statSync(bak).uid, statSync(path).uid);
    assert.equal(version(bak), 6);
    assert.ok(!columns(bak, 'changes').includes('job_id'), 'the schema as it was');
    const raw = new Database(bak, { readonly: true });
    assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
    assert.equal((raw.prepare(`SELECT value FROM settings WHERE key = 'web.example'`).get() as { value: string }).value, '"kept"');
    raw.close();
    // What the previous version needs to go back: it opens the copy (put in the database's place) as its own.
    const restored = join(dir, 'restored.sqlite');
    copyFileSync(bak, restored);
    const previous = openStore(restored, { migrations: V6, warn: () => {} });
    assert.equal(previous.getSetting('web.example'), 'kept');
    previous.close();
    rmSync(restored);

    // Current now: no copy, nothing said.
    const again = collecting();
    openStore(path, again.opts).close();
    assert.deepEqual(again.lines, []);
    assert.deepEqual(extras(dir).filter((f) => f.endsWith('.bak')), ['mailhealth.sqlite.schema-6.bak']);
  });

  test('the v1 file of the fixtures (findings rewritten) gets its copy at schema 1, and reads back', () => {
    const dir = caseDir();
    const path = join(dir, 'mailhealth.sqlite');
    copyFileSync(join(fixtures, 'v1.db'), path);
    chmodSync(path, 0o600); // private already: only the upgrade's line
    const { opts, lines } = collecting();
    const s = openStore(path, opts);
    s.close();
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0], new RegExp(`from schema 1 to ${MIGRATIONS.length} \\(a copy of the old one: .*mailhealth\\.sqlite\\.schema-1\\.bak\\)`));
    assert.equal(version(`${path}.schema-1.bak`), 1);
    const raw = new Database(`${path}.schema-1.bak`, { readonly: true });
    assert.ok((raw.prepare('SELECT count(*) AS n FROM findings').get() as { n: number }).n > 100, 'the findings rows of schema 1');
    raw.close();
  });

  test(`only the latest ${BACKUPS_KEPT} copies are kept, and a killed copy's leftover is removed`, () => {
    assert.equal(BACKUPS_KEPT, 2);
    const dir = caseDir();
    const path = join(dir, 'mailhealth.sqlite');
    openStore(path, { migrations: MIGRATIONS.slice(0, 5), warn: () => {} }).close();
    // A copy a killed process left half-written (its pid runs no more: above any pid Linux gives), and another file.
    writeFileSync(`${path}.schema-copy.4194305-0123abcd.tmp`, 'half');
    writeFileSync(join(dir, 'notes.txt'), 'not ours');
    for (const to of [6, 7, 8]) {
      const { opts, lines } = collecting({ migrations: MIGRATIONS.slice(0, to) });
      openStore(path, opts).close();
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.ok(lines[0].includes(`from schema ${to - 1} to ${to} (a copy of the old one: ${path}.schema-${to - 1}.bak)`), lines[0]);
    }
    assert.deepEqual(extras(dir), ['mailhealth.sqlite.schema-6.bak', 'mailhealth.sqlite.schema-7.bak', 'notes.txt']);
    assert.equal(version(`${path}.schema-7.bak`), 7);
  });

  test('a failure in the middle (a full disk) leaves the file at its old schema, no copy, no line, and says it was the upgrade', () => {
    const dir = caseDir();
    const path = v6File(dir);
    // The real steps 7 and 8 run, then one that fills the file up to its limit: SQLITE_FULL, as on a full disk.
    const filling: Migration[] = [
      ...MIGRATIONS,
      {
        description: 'test: fills the disk',
        sql: `PRAGMA max_page_count = 1;
              CREATE TABLE filler AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) SELECT randomblob(4000) AS b FROM n;`,
      },
    ];
    const { opts, lines } = collecting({ migrations: filling });
    const to = filling.length;
    assert.throws(
      () => openStore(path, opts),
      isStoreError(
        'io',
        new RegExp(
          `^the upgrade of the history database ${path} from schema 6 to ${to} failed \\(database or disk is full\\); ` +
            `nothing was changed: its transaction rolled back, the database is still at schema 6 and the previous version of mailhealth can still open it\\. ` +
            `It needs about [0-9.]+ kB free in ${dir} while it runs \\(estimate: 1 × the database's size, [0-9.]+ kB: the pages the upgrade adds and its write-ahead log\\), ` +
            `and [0-9.]+ [kMG]?B was free before it started: free some space there, then run mailhealth again$`,
        ),
      ),
    );
    assert.deepEqual(lines, []);
    // Steps 7 and 8 rolled back with the failing one: schema 6, as the previous version knows it.
    assert.equal(version(path), 6);
    assert.ok(!columns(path, 'changes').includes('job_id'));
    assert.deepEqual(extras(dir), [], 'the copy made for it is gone too');
    const previous = openStore(path, { migrations: V6, warn: () => {} });
    assert.equal(previous.getSetting('web.example'), 'kept');
    previous.close();

    // With the space there (the real steps), the upgrade goes through.
    const ok = collecting();
    openStore(path, ok.opts).close();
    assert.equal(ok.lines.length, 1);
    assert.equal(version(path), MIGRATIONS.length);
  });

  test('short of space for the copy and the upgrade: refused before anything, saying how much is needed; with exactly that, it runs', () => {
    const dir = caseDir();
    const path = join(dir, 'mailhealth.sqlite');
    copyFileSync(join(fixtures, 'v1.db'), path);
    chmodSync(path, 0o600); // private already: only the upgrade's line
    // What the message must ask for: the copy (pages in use) plus 2.5 × the size (the schema-1 rewrite).
    const raw = new Database(path, { readonly: true });
    const pageSize = raw.pragma('page_size', { simple: true }) as number;
    const pages = raw.pragma('page_count', { simple: true }) as number;
    const freePages = raw.pragma('freelist_count', { simple: true }) as number;
    raw.close();
    const copy = (pages - freePages) * pageSize;
    const need = copy + Math.ceil(pages * pageSize * 2.5);
    const asked: string[] = [];
    const { opts, lines } = collecting({
      freeSpace: (d) => {
        asked.push(d);
        return need - 1;
      },
    });
    assert.throws(
      () => openStore(path, opts),
      isStoreError(
        'io',
        new RegExp(
          `^mailhealth cannot upgrade the history database ${path} from schema 1 to ${MIGRATIONS.length}: it needs about [0-9.]+ kB free in ${dir} — ` +
            `[0-9.]+ kB for a copy of the database as it is \\(${path}\\.schema-1\\.bak, kept so that the previous version can be restored\\) ` +
            `and about [0-9.]+ kB while it runs \\(estimate: 2\\.5 × the database's size, [0-9.]+ kB: the pages the upgrade adds and its write-ahead log\\) — ` +
            `and [0-9.]+ kB is free; nothing was changed \\(the previous version of mailhealth can still open it\\): free some space there, then run mailhealth again$`,
        ),
      ),
    );
    assert.deepEqual(asked, [dir]);
    assert.deepEqual(lines, []);
    assert.equal(version(path), 1);
    assert.deepEqual(extras(dir), []);

    const enough = collecting({ freeSpace: () => need });
    openStore(path, enough.opts).close();
    assert.equal(enough.lines.length, 1);
    assert.equal(version(path), MIGRATIONS.length);
    assert.equal(version(`${path}.schema-1.bak`), 1);
  });

  test('a copy that cannot be made (something else at its name) refuses the upgrade and changes nothing', () => {
    const dir = caseDir();
    const path = v6File(dir);
    mkdirSync(`${path}.schema-6.bak`); // not a file: the copy cannot take its name
    const { opts, lines } = collecting();
    assert.throws(
      () => openStore(path, opts),
      isStoreError('io', new RegExp(`^mailhealth cannot upgrade the history database ${path} from schema 6 to ${MIGRATIONS.length}: the copy of it made first \\(${path}\\.schema-6\\.bak\\) failed \\(EISDIR: .*\\); nothing was changed \\(the previous version of mailhealth can still open it\\)$`)),
    );
    assert.deepEqual(lines, []);
    assert.equal(version(path), 6);
    assert.deepEqual(extras(dir), ['mailhealth.sqlite.schema-6.bak'], 'no half copy left');
  });

  test('with another process in the middle of a write: the copy is made without waiting, the upgrade waits, and then says so', () => {
    const dir = caseDir();
    const path = v6File(dir);
    const other = new Database(path); // the previous version's service, writing
    other.exec('BEGIN IMMEDIATE');
    other.prepare(`INSERT INTO settings (key, value, updated_at) VALUES ('uncommitted', '1', ?)`).run(AT);
    const { opts, lines } = collecting({ busyTimeoutMs: 50 });
    assert.throws(
      () => openStore(path, opts),
      isStoreError('locked', new RegExp(`^the upgrade of the history database ${path} from schema 6 to ${MIGRATIONS.length} failed \\(database is locked\\); nothing was changed: .* try again shortly$`)),
    );
    assert.deepEqual(lines, []);
    assert.deepEqual(extras(dir), []);
    other.exec('COMMIT');
    const s = openStore(path, opts);
    s.close();
    assert.equal(lines.length, 1);
    // The copy holds what was committed when it was made.
    const raw = new Database(`${path}.schema-6.bak`, { readonly: true });
    assert.equal((raw.prepare(`SELECT count(*) AS n FROM settings WHERE key = 'uncommitted'`).get() as { n: number }).n, 1);
    raw.close();
    other.close();
  });

  test('a current database opens without waiting for the write lock another process holds (no upgrade, no transaction)', () => {
    const dir = caseDir();
    const path = join(dir, 'mailhealth.sqlite');
    openStore(path, { warn: () => {} }).close();
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    try {
      const { opts, lines } = collecting({ busyTimeoutMs: 1 });
      openStore(path, opts).close();
      assert.deepEqual(lines, []);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  });

  test('a new database: no copy, no line', () => {
    const dir = caseDir();
    const { opts, lines } = collecting();
    const s = openStore(join(dir, 'mailhealth.sqlite'), opts);
    assert.equal(s.schemaVersion(), MIGRATIONS.length);
    s.close();
    assert.deepEqual(lines, []);
    assert.deepEqual(extras(dir), []);
  });

  test("as root, a customer's database in their directory: the copy is theirs, 0600", { skip: process.getuid?.() === 0 ? false : 'needs root' }, () => {
    const CUST = 12345;
    const dir = caseDir();
    const path = v6File(dir);
    for (const p of [dir, path]) chownSync(p, CUST, CUST);
    const { opts, lines } = collecting();
    openStore(path, opts).close();
    assert.equal(lines.length, 1, lines.join('\n'));
    const bak = `${path}.schema-6.bak`;
    assert.equal(mode(bak), 0o600);
    assert.deepEqual([statSync(bak).uid, statSync(bak).gid], [CUST, CUST]);
    assert.equal(statSync(path).uid, CUST, 'the database stays theirs');
  });
});

describe('the line about a database made private', () => {
  test('names the database, not the -wal and -shm SQLite created in this same open (made private all the same)', () => {
    const dir = caseDir();
    const path = join(dir, 'mailhealth.sqlite');
    openStore(path, { warn: () => {} }).close();
    assert.equal(existsSync(`${path}-wal`), false, 'closed: no side files');
    chmodSync(path, 0o644); // as an older version left it under umask 022
    const { opts, lines } = collecting();
    const s = openStore(path, opts);
    try {
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.ok(lines[0].endsWith(`so mailhealth made it private: ${path} 644 → 600`), lines[0]);
      assert.equal(mode(path), 0o600);
      // SQLite made them in this open (with the database's mode at that moment, 644): private now too.
      s.getSetting('x');
      assert.equal(mode(`${path}-wal`), 0o600);
      assert.equal(mode(`${path}-shm`), 0o600);
    } finally {
      s.close();
    }
  });
});
