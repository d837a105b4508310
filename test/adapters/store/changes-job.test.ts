// changes.job_id (schema v7): the bulk fix job whose apply recorded a change (IntentInput.jobId), so a job that ended
// short finds its own changes exactly (changesOfJob). A v6 file migrates with its changes and jobs as they were (no job
// id: nothing is guessed); a v6 process that has the file open when it is migrated is told (SchemaChangedError) instead
// of writing changes without the column; prune, which deletes finished jobs, leaves their changes with no job, so a
// later job given a deleted one's id never finds them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../../src/adapters/store/migrations.js';
import { openStore, type IntentInput, type SchemaChangedError } from '../../../src/adapters/store/store.js';

const root = mkdtempSync(join(tmpdir(), 'mailhealth-changes-job-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(root, `case-${++n}.sqlite`);

/** The schema before this step. */
const V6 = MIGRATIONS.slice(0, 6);
const AT = '2026-01-01T00:00:00.000Z';
const CHANGES = [{ action: 'edit', name: 'a.example', type: 'TXT', ttl: 300, before: { name: 'a.example', type: 'TXT', ttl: 300, value: 'v=spf1 ~all' }, after: { name: 'a.example', type: 'TXT', ttl: 300, value: 'v=spf1 -all' } }];
const intent = (domain: string, extra: Partial<IntentInput> = {}): IntentInput => ({
  domain,
  check: 'spf',
  planHash: `sha256:${'1'.repeat(64)}`,
  zoneVersion: '1',
  changes: CHANGES as IntentInput['changes'],
  byUser: 'res1',
  ...extra,
});

test('a v6 file with jobs and changes migrates to v7: its rows read as before and belong to no job; new ones take one', () => {
  const path = freshPath();
  openStore(path, { migrations: V6 }).close();
  // Rows as v6 wrote them (the columns it knew): a bulk fix job that ended short, and the changes of its window.
  const v6 = new Database(path);
  const scope = JSON.stringify({ check: 'spf', domains: ['a.example', 'b.example'], notFound: [] });
  const job = Number(
    v6.prepare(`INSERT INTO jobs (kind, by_user, scope, total, status, created_at, updated_at) VALUES ('bulk-fix', 'res1', ?, 2, 'interrupted', ?, ?)`).run(scope, AT, AT).lastInsertRowid,
  );
  const insert = v6.prepare(
    `INSERT INTO changes (domain, "check", plan_hash, zone_version_before, zone_version_after, changes, by_user, created_at, updated_at, status, verified)
     VALUES (?, 'spf', ?, '1', '2', ?, 'res1', ?, ?, 'applied', 'yes')`,
  );
  const old = ['a.example', 'b.example'].map((d) => Number(insert.run(d, `sha256:${'0'.repeat(64)}`, JSON.stringify(CHANGES), AT, AT).lastInsertRowid));
  v6.close();

  const s = openStore(path);
  try {
    assert.equal(s.schemaVersion(), MIGRATIONS.length);
    assert.equal(MIGRATIONS.length, 9);
    // The old rows, unchanged.
    const a = s.getChange(old[0])!;
    assert.deepEqual([a.domain, a.check, a.status, a.verified, a.byUser, a.zoneVersionAfter, a.createdAt], ['a.example', 'spf', 'applied', 'yes', 'res1', '2', AT]);
    assert.deepEqual(a.changes, CHANGES);
    assert.deepEqual(s.getJob(job)!.scope, JSON.parse(scope));
    // Written before the job id was recorded: not the job's (nothing tells which were), not anyone's.
    assert.deepEqual(s.changesOfJob(job, ['a.example', 'b.example']), []);

    // From now on, a change recorded with the job's id is found by it, newest first, only on the domains asked.
    const first = s.recordIntent(intent('a.example', { jobId: job }));
    const second = s.recordIntent(intent('a.example', { jobId: job }));
    const other = s.recordIntent(intent('b.example', { jobId: job }));
    const single = s.recordIntent(intent('a.example'));
    assert.deepEqual(s.changesOfJob(job, ['a.example']).map((c) => c.id), [second, first]);
    assert.deepEqual(s.changesOfJob(job, ['a.example', 'b.example']).map((c) => c.id), [other, second, first]);
    assert.ok(!s.changesOfJob(job, ['a.example', 'b.example']).some((c) => c.id === single), 'a change recorded without a job id is nobody\'s');
    assert.deepEqual(s.changesOfJob(job, []), []);
    assert.deepEqual(s.changesOfJob(job + 1, ['a.example']), []);
  } finally {
    s.close();
  }
  const raw = new Database(path, { readonly: true });
  try {
    assert.equal(raw.pragma('user_version', { simple: true }), MIGRATIONS.length);
    const cols = (raw.prepare(`SELECT name FROM pragma_table_info('changes')`).all() as { name: string }[]).map((c) => c.name);
    assert.ok(cols.includes('job_id'), cols.join());
    assert.deepEqual(
      (raw.prepare(`SELECT id, job_id FROM changes WHERE id IN (${old.join(',')}) ORDER BY id`).all() as { id: number; job_id: number | null }[]).map((r) => r.job_id),
      [null, null],
    );
    const plan = raw.prepare(`EXPLAIN QUERY PLAN SELECT * FROM changes WHERE job_id = ? AND domain IN (SELECT value FROM json_each(?)) ORDER BY id DESC`).all(1, '[]') as { detail: string }[];
    assert.ok(plan.some((r) => /USING INDEX changes_job/.test(r.detail)), JSON.stringify(plan));
  } finally {
    raw.close();
  }
});

test('a v6 process with the file open when v7 migrates it: told to restart (SchemaChangedError) at its next call, nothing written', () => {
  const path = freshPath();
  // A v6 process (its schema; only calls whose statements v6 had).
  const old = openStore(path, { migrations: V6 });
  try {
    // The job as v6 wrote it (this code's createJob writes a column of v8).
    const v6 = new Database(path);
    const job = Number(v6.prepare(`INSERT INTO jobs (kind, by_user, total, created_at, updated_at) VALUES ('bulk-fix', 'res1', 1, ?, ?)`).run(AT, AT).lastInsertRowid);
    v6.close();
    assert.equal(old.getJob(job)?.kind, 'bulk-fix');
    const cur = openStore(path); // the upgrade's CLI: migrates to v7 (and on)
    try {
      const told = (e: unknown) =>
        (e as Error).name === 'SchemaChangedError' && (e as SchemaChangedError).found === MIGRATIONS.length && (e as SchemaChangedError).known === 6;
      assert.throws(() => old.getJob(job), told);
      assert.throws(() => old.createJob({ kind: 'bulk-fix', byUser: 'res1', total: 1 }), told);
      assert.throws(() => old.recordOutcome(1, { status: 'applied' }), told);
      assert.deepEqual(cur.listJobs().map((j) => j.id), [job], 'nothing written by the old process');
    } finally {
      cur.close();
    }
  } finally {
    old.close();
  }
});

test("prune deletes a finished job but never its changes, which keep no job: a job given its id later does not find them", () => {
  const path = freshPath();
  const clock = { t: Date.parse('2025-03-01T00:00:00.000Z') };
  const s = openStore(path, { now: () => clock.t });
  try {
    const job = s.createJob({ kind: 'bulk-fix', byUser: 'res1', total: 1 });
    const id = s.recordIntent(intent('a.example', { jobId: job }));
    s.recordOutcome(id, { status: 'applied' });
    s.updateJob(job, { status: 'complete' });
    clock.t += 40 * 86_400_000;
    // Something newer, on two days: prune's cut-off is never later than the newest row, and one run alone after a long
    // silence would look like a clock far ahead (time-steps.test.ts).
    s.startRun('audit', 'res1');
    clock.t += 86_400_000;
    s.startRun('audit', 'res1');
    assert.equal(s.prune({ olderThanDays: 30 }).jobs, 1);
    assert.equal(s.getJob(job), null);
    assert.equal(s.getChange(id)!.status, 'applied', 'the change stays');
    // INTEGER PRIMARY KEY: the next job takes the largest id again.
    const later = s.createJob({ kind: 'bulk-fix', byUser: 'res1', total: 1 });
    assert.equal(later, job);
    assert.deepEqual(s.changesOfJob(later, ['a.example']), []);
  } finally {
    s.close();
  }
});

test('a job deleted with foreign keys off (an sqlite3 shell) leaves its id on its changes: the next job given that id does not claim them', () => {
  const path = freshPath();
  const clock = { t: Date.parse('2025-03-01T00:00:00.000Z') };
  const s = openStore(path, { now: () => clock.t });
  try {
    const job = s.createJob({ kind: 'bulk-fix', byUser: 'res1', total: 1 });
    clock.t += 1000;
    const id = s.recordIntent(intent('a.example', { jobId: job }));
    s.recordOutcome(id, { status: 'applied' });
    s.updateJob(job, { status: 'interrupted' });
    assert.deepEqual(s.changesOfJob(job, ['a.example']).map((c) => c.id), [id]);
    // An admin's sqlite3 shell: foreign keys are off there by default, so ON DELETE SET NULL does not run.
    const shell = new Database(path);
    try {
      shell.pragma('foreign_keys = OFF');
      shell.prepare('DELETE FROM jobs WHERE id = ?').run(job);
      assert.equal(shell.prepare('SELECT job_id FROM changes WHERE id = ?').pluck().get(id), job, 'the dangling id stays');
    } finally {
      shell.close();
    }
    clock.t += 60_000;
    const later = s.createJob({ kind: 'bulk-fix', byUser: 'res1', total: 1 });
    assert.equal(later, job, 'INTEGER PRIMARY KEY: the same id again');
    assert.deepEqual(s.changesOfJob(later, ['a.example']), [], 'a change older than the job is not its own');
    // Its own changes, from its creation on (the same millisecond included), are found as before.
    const own = s.recordIntent(intent('a.example', { jobId: later }));
    assert.deepEqual(s.changesOfJob(later, ['a.example']).map((c) => c.id), [own]);
  } finally {
    s.close();
  }
  // Still through the job index.
  const raw = new Database(path, { readonly: true });
  try {
    const plan = raw
      .prepare(
        `EXPLAIN QUERY PLAN SELECT changes.* FROM changes JOIN jobs ON jobs.id = changes.job_id
         WHERE changes.job_id = ? AND changes.id > coalesce(jobs.changes_after, 0) AND changes.domain IN (SELECT value FROM json_each(?))
         ORDER BY changes.id DESC`,
      )
      .all(1, '[]') as { detail: string }[];
    assert.ok(plan.some((r) => /USING INDEX changes_job/.test(r.detail)), JSON.stringify(plan));
  } finally {
    raw.close();
  }
});
