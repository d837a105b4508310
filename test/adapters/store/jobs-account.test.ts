// Jobs and the panel account they belong to (schema v6): by_account (a user name may later be another account's) and
// request_key (the form an apply came from). Jobs of v5 read as belonging to no known account; pageJobs can list one
// account's jobs only; a job finished within its request is recorded whole; disownJobs (an account seen gone).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../../src/adapters/store/migrations.js';
import { GONE_ACCOUNT, openStore, StoreError } from '../../../src/adapters/store/store.js';
import { jobVisibleTo, pageJobsOf } from '../../../src/web/jobs.js';
import { accountKey, PASSWORD_ACCOUNT_SETTING } from '../../../src/web/session.js';

const root = mkdtempSync(join(tmpdir(), 'mailhealth-jobs-account-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(root, `case-${++n}.sqlite`);

const OLD = accountKey({ role: 'reseller', owner: null });
const NEW = accountKey({ role: 'reseller', owner: 'root' });
const ids = (p: { active: { id: number }[]; lastFinished: { id: number } | null }) => [p.active.map((j) => j.id), p.lastFinished?.id ?? null];

test('a v5 file migrates to v6: its jobs belong to no known account and no form; the schema version is v6', () => {
  const path = freshPath();
  openStore(path, { migrations: MIGRATIONS.slice(0, 5) }).close();
  // A job as v5 wrote it (the columns it knew).
  const v5 = new Database(path);
  const at = '2026-01-01T00:00:00.000Z';
  const id = Number(
    v5.prepare(`INSERT INTO jobs (kind, by_user, scope, total, done, status, created_at, updated_at) VALUES ('bulk-fix', 'res1', ?, 1, 1, 'complete', ?, ?)`)
      .run(JSON.stringify({ check: 'spf', domains: ['a.example'], notFound: [] }), at, at).lastInsertRowid,
  );
  v5.prepare(`INSERT INTO job_items (job_id, seq, domain, status, detail, at) VALUES (?, 0, 'a.example', 'applied', '{"status":"applied"}', ?)`).run(id, at);
  v5.close();
  const s = openStore(path);
  try {
    assert.equal(s.schemaVersion(), MIGRATIONS.length, 'migrated past v6 (v7: changes.job_id)');
    const job = s.getJob(id)!;
    assert.deepEqual([job.byUser, job.byAccount, job.requestKey, job.done], ['res1', null, null, 1]);
    // Listed by name as before; for an account (a bound web login), not at all — whose it was cannot be known.
    assert.deepEqual(ids(s.pageJobs('res1')), [[], id]);
    assert.deepEqual(ids(s.pageJobs('res1', 50, undefined, OLD)), [[], null]);
    assert.deepEqual(ids(s.pageJobs('res1', 50, undefined, null)), [[], id], 'a front door (no binding) sees it as before');
    assert.deepEqual(s.jobItems(id).items.map((i) => i.domain), ['a.example']);
  } finally {
    s.close();
  }
  const raw = new Database(path, { readonly: true });
  try {
    assert.equal(raw.pragma('user_version', { simple: true }), MIGRATIONS.length);
    const cols = (raw.prepare(`SELECT name FROM pragma_table_info('jobs')`).all() as { name: string }[]).map((c) => c.name);
    assert.ok(cols.includes('by_account') && cols.includes('request_key'), cols.join());
  } finally {
    raw.close();
  }
});

test('pageJobs for one account; jobVisibleTo and pageJobsOf go by the account the name is bound to now', () => {
  const s = openStore(freshPath());
  try {
    const old = s.createJob({ kind: 'bulk-audit', byUser: 'res1', byAccount: OLD, total: 1 });
    s.updateJob(old, { status: 'complete' });
    const oldRunning = s.createJob({ kind: 'bulk-audit', byUser: 'res1', byAccount: OLD, total: 1 });
    s.updateJob(oldRunning, { status: 'running' });
    const mine = s.createJob({ kind: 'bulk-audit', byUser: 'res1', byAccount: NEW, total: 1 });
    s.updateJob(mine, { status: 'complete' });
    const frontDoor = s.createJob({ kind: 'bulk-audit', byUser: 'res1', total: 1 });
    assert.deepEqual(ids(s.pageJobs('res1', 50, 'bulk-audit', NEW)), [[], mine]);
    assert.deepEqual(ids(s.pageJobs('res1', 50, 'bulk-audit', OLD)), [[oldRunning], old]);
    assert.deepEqual(ids(s.pageJobs('res1', 50, 'bulk-audit', null)), [[frontDoor], null]);
    assert.deepEqual(ids(s.pageJobs('res1', 50, 'bulk-audit')), [[frontDoor, oldRunning], mine], 'no account asked: every one of the name');

    s.setSetting(PASSWORD_ACCOUNT_SETTING('res1'), NEW);
    const res1 = { user: 'res1', role: 'reseller' as const };
    assert.deepEqual(ids(pageJobsOf(s, res1, 50, 'bulk-audit')), [[], mine]);
    assert.deepEqual([old, oldRunning, mine, frontDoor].map((id) => jobVisibleTo(s, s.getJob(id)!, res1)), [false, false, true, false]);
    assert.equal(jobVisibleTo(s, s.getJob(mine)!, { user: 'res2', role: 'reseller' }), false, 'another user');
    assert.equal(jobVisibleTo(s, s.getJob(old)!, { user: 'root', role: 'admin' }), true, 'an admin opens every job');
    // No binding (a panel's front door): the jobs started without one.
    s.setSettings({ [PASSWORD_ACCOUNT_SETTING('res1')]: undefined });
    assert.deepEqual([old, mine, frontDoor].map((id) => jobVisibleTo(s, s.getJob(id)!, res1)), [false, false, true]);
  } finally {
    s.close();
  }
});

test('findJobByRequestKey: the first job of that user, account and kind started with the key', () => {
  const s = openStore(freshPath());
  try {
    const a = s.createJob({ kind: 'bulk-fix', byUser: 'res1', byAccount: NEW, requestKey: 'k1', total: 1 });
    s.createJob({ kind: 'bulk-fix', byUser: 'res1', byAccount: NEW, requestKey: 'k1', total: 1 });
    const front = s.createJob({ kind: 'bulk-fix', byUser: 'res1', requestKey: 'k1', total: 1 });
    assert.equal(s.findJobByRequestKey('res1', NEW, 'bulk-fix', 'k1')?.id, a);
    assert.equal(s.findJobByRequestKey('res1', null, 'bulk-fix', 'k1')?.id, front);
    assert.equal(s.findJobByRequestKey('res1', OLD, 'bulk-fix', 'k1'), null, 'another account of the name');
    assert.equal(s.findJobByRequestKey('res2', NEW, 'bulk-fix', 'k1'), null, 'another user');
    assert.equal(s.findJobByRequestKey('res1', NEW, 'bulk-audit', 'k1'), null, 'another kind');
    assert.equal(s.findJobByRequestKey('res1', NEW, 'bulk-fix', 'k2'), null);
    assert.equal(s.getJob(a)!.requestKey, 'k1');
  } finally {
    s.close();
  }
});

test('createFinishedJob records the job, its progress and every item at once — or nothing', () => {
  const s = openStore(freshPath());
  try {
    const id = s.createFinishedJob({
      kind: 'bulk-fix',
      byUser: 'res1',
      byAccount: NEW,
      requestKey: 'k',
      scope: { check: 'spf', domains: ['a.example', 'b.example'], notFound: ['x'] },
      total: 2,
      status: 'complete',
      done: 2,
      failed: 1,
      items: [
        { domain: 'a.example', status: 'applied', detail: { status: 'applied', changeId: 7 } },
        { domain: 'b.example', status: 'refused', detail: { status: 'refused', reason: 'no' } },
      ],
    });
    const job = s.getJob(id)!;
    assert.deepEqual([job.status, job.total, job.done, job.failed, job.byAccount, job.requestKey], ['complete', 2, 2, 1, NEW, 'k']);
    assert.deepEqual(s.jobItems(id).items.map((i) => [i.seq, i.domain, i.status, i.detail]), [
      [0, 'a.example', 'applied', { status: 'applied', changeId: 7 }],
      [1, 'b.example', 'refused', { status: 'refused', reason: 'no' }],
    ]);
    assert.deepEqual(ids(s.pageJobs('res1', 50, 'bulk-fix', NEW)), [[], id]);
    const count = s.listJobs().length;
    assert.throws(
      () => s.createFinishedJob({ kind: 'bulk-fix', byUser: 'res1', total: 1, status: 'complete', done: 1, failed: 0, items: [{ domain: 'a.example', status: 'applied', detail: { n: 1n } }] }),
      (e: unknown) => e instanceof StoreError || e instanceof TypeError,
    );
    assert.throws(() => s.createFinishedJob({ kind: 'bulk-fix', byUser: 'res1', total: 1, status: 'complete', done: -1, failed: 0, items: [] }), StoreError);
    assert.equal(s.listJobs().length, count, 'no job left behind');
  } finally {
    s.close();
  }
});

test('disownJobs: every job of the name becomes nobody\'s, a running one is asked to stop; other users untouched', () => {
  const s = openStore(freshPath());
  try {
    const done = s.createJob({ kind: 'bulk-audit', byUser: 'res1', byAccount: OLD, total: 1 });
    s.updateJob(done, { status: 'complete' });
    const running = s.createJob({ kind: 'bulk-fix', byUser: 'res1', byAccount: OLD, total: 1 });
    s.updateJob(running, { status: 'running' });
    const front = s.createJob({ kind: 'bulk-audit', byUser: 'res1', total: 1 });
    const other = s.createJob({ kind: 'bulk-audit', byUser: 'res2', byAccount: OLD, total: 1 });
    s.updateJob(other, { status: 'running' });
    assert.equal(s.disownJobs('res1'), 3);
    assert.equal(s.disownJobs('res1'), 0, 'once');
    assert.deepEqual([done, running, front].map((id) => s.getJob(id)!.byAccount), [GONE_ACCOUNT, GONE_ACCOUNT, GONE_ACCOUNT]);
    assert.deepEqual([done, running, front, other].map((id) => s.getJob(id)!.cancelRequested), [false, true, true, false]);
    assert.equal(s.getJob(running)!.status, 'running', 'the runner stops it (as Cancel does)');
    assert.equal(s.getJob(other)!.byAccount, OLD);
    // Listed for no account of the name, whatever its role and owner (an account created again looks the same).
    for (const account of [OLD, NEW, null]) assert.deepEqual(ids(s.pageJobs('res1', 50, undefined, account)), [[], null]);
    s.setSetting(PASSWORD_ACCOUNT_SETTING('res1'), OLD);
    assert.equal(jobVisibleTo(s, s.getJob(done)!, { user: 'res1', role: 'reseller' }), false);
  } finally {
    s.close();
  }
});
