// A long-running process (`serve`, `service`) keeps its store open while a newer mailhealth — the CLI of an upgrade —
// migrates the same file. The version was checked only at open, so the old process went on reading documents and
// columns it cannot read (QA: 500 pages on every domain page). The store now notices another process's schema change
// (PRAGMA data_version, then user_version) and refuses with the too-new error, as a distinct class the web answers as
// "restart the service".
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS, type Migration } from '../../../src/adapters/store/migrations.js';
import { openStore, StoreError, type SchemaChangedError } from '../../../src/adapters/store/store.js';

const root = mkdtempSync(join(tmpdir(), 'mailhealth-schema-upgraded-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(root, `case-${++n}.sqlite`);

/** The previous release: it knows every step but the last. */
const PREVIOUS = MIGRATIONS.slice(0, -1);
/** A release after this one: one more (additive) step. */
const NEXT: readonly Migration[] = [...MIGRATIONS, { description: 'test: a step of a later release', sql: 'CREATE TABLE later_release (id INTEGER PRIMARY KEY);' }];

function tooNewWhileRunning(found: number, known: number) {
  return (e: unknown) => {
    // Still the store's too-new error (the CLI's exit 2, code too-new), as a class of its own (the web's 503).
    assert.ok(e instanceof StoreError && e.code === 'too-new', `expected StoreError too-new, got ${String(e)}`);
    assert.equal(e.name, 'SchemaChangedError');
    assert.equal((e as SchemaChangedError).found, found);
    assert.equal((e as SchemaChangedError).known, known);
    assert.match(e.message, new RegExp(`mailhealth was upgraded while this process ran — the history database is now at schema version ${found}, this process knows ${known}; restart it`));
    return true;
  };
}

describe('a schema migrated by another process while a store is open', () => {
  test('the older store refuses every read and write from then on (too-new), writes nothing, and still closes', () => {
    const path = freshPath();
    const old = openStore(path, { migrations: PREVIOUS });
    old.setSetting('before', 1);
    assert.equal(old.getSetting('before'), 1);

    // The newer CLI opens the same file and migrates it.
    const newer = openStore(path);
    assert.equal(newer.schemaVersion(), MIGRATIONS.length);

    assert.throws(() => old.getSetting('before'), tooNewWhileRunning(MIGRATIONS.length, PREVIOUS.length));
    assert.throws(() => old.listRuns(), tooNewWhileRunning(MIGRATIONS.length, PREVIOUS.length));
    assert.throws(() => old.setSetting('after', 2), tooNewWhileRunning(MIGRATIONS.length, PREVIOUS.length));
    assert.throws(() => old.startRun('audit', 'root'), tooNewWhileRunning(MIGRATIONS.length, PREVIOUS.length));
    assert.equal(newer.getSetting('after'), undefined, 'nothing written by the older store');
    assert.deepEqual(newer.listRuns(), []);
    old.close();
    newer.close();
  });

  test('a write after a later release migrated the file is refused and records nothing', () => {
    const path = freshPath();
    const cur = openStore(path);
    cur.getSetting('x'); // the schema looked at once
    // A later release (one more step) migrates the file.
    const later = openStore(path, { migrations: NEXT });
    later.close();
    assert.throws(() => cur.recordIntent({ domain: 'a.example', check: 'spf', planHash: 'sha256:x', zoneVersion: null, changes: [], byUser: 'root' }), tooNewWhileRunning(NEXT.length, MIGRATIONS.length));
    const raw = new Database(path, { readonly: true });
    assert.equal((raw.prepare('SELECT count(*) AS n FROM changes').get() as { n: number }).n, 0, 'no intent recorded');
    raw.close();
    cur.close();
  });

  test('other processes\' ordinary writes (same schema) are no schema change: both stores go on, each sees the other\'s rows', () => {
    const path = freshPath();
    const a = openStore(path);
    const b = openStore(path);
    for (let i = 0; i < 3; i++) {
      b.setSetting(`b${i}`, i);
      assert.equal(a.getSetting(`b${i}`), i);
      a.setSetting(`a${i}`, i);
      assert.equal(b.getSetting(`a${i}`), i);
    }
    const run = a.startRun('bulk', 'root', 2);
    b.recordAudits(run, [{ audit: { domain: 'x.example', status: 'pass', auditedAt: new Date(0).toISOString(), findings: [] } }], { done: 1 });
    assert.equal(a.getRun(run)?.done, 1);
    a.close();
    b.close();
  });

  test('a version bumped by hand to one this code knows (not newer) is no refusal', () => {
    const path = freshPath();
    const s = openStore(path);
    const raw = new Database(path);
    raw.pragma(`user_version = ${MIGRATIONS.length}`); // written again, same value: a commit, no newer schema
    raw.prepare(`INSERT INTO settings (key, value, updated_at) VALUES ('raw', '1', 'x')`).run();
    raw.close();
    assert.equal(s.getSetting('raw'), 1);
    s.close();
  });
});
