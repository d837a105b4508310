// A job's items (schema v5): what a background job did per domain, in order — a bulk fix apply keeps each domain's
// outcome there with the job's progress, so a reload or a restart shows them. Also: pageJobs of one kind (the bulk
// page lists audits and fixes apart), and items going with their job when prune removes it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../../src/adapters/store/migrations.js';
import { openStore, StoreError } from '../../../src/adapters/store/store.js';

const root = mkdtempSync(join(tmpdir(), 'mailhealth-job-items-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(root, `case-${++n}.sqlite`);

const HOSTILE = 'nul\u0000 rtl\u202e <b>x</b> \'; DROP TABLE jobs; --';

test('items are appended in order with the job progress, read back from any entry on, and survive a reopen', () => {
  const path = freshPath();
  const s = openStore(path);
  const id = s.createJob({ kind: 'bulk-fix', byUser: 'res1', scope: { check: 'spf', domains: ['a.example', 'b.example', 'c.example'], notFound: [] }, total: 3 });
  assert.deepEqual(s.jobItems(id), { items: [], next: 0 });
  assert.equal(s.recordJobItem(id, { domain: 'b.example', status: 'applied', detail: { status: 'applied', changeId: 7, message: 'applied' } }, { done: 1, failed: 0 }), 0);
  assert.equal(s.recordJobItem(id, { domain: 'a.example', status: 'refused', detail: { status: 'refused', why: 'changed', reason: HOSTILE } }, { done: 2, failed: 1 }), 1);
  const job = s.getJob(id)!;
  assert.equal(job.done, 2);
  assert.equal(job.failed, 1);
  const all = s.jobItems(id);
  assert.deepEqual(
    all.items.map((i) => [i.seq, i.domain, i.status]),
    [
      [0, 'b.example', 'applied'],
      [1, 'a.example', 'refused'],
    ],
  );
  assert.equal(all.next, 2);
  assert.deepEqual(all.items[1].detail, { status: 'refused', why: 'changed', reason: HOSTILE });
  assert.deepEqual(s.jobItems(id, 1).items.map((i) => i.domain), ['a.example']);
  assert.deepEqual(s.jobItems(id, 2), { items: [], next: 2 }, 'nothing new: the next read starts at the same place');
  assert.deepEqual(s.jobItems(id, 0, 1).items.map((i) => i.seq), [0]);
  s.close();
  const again = openStore(path);
  assert.equal(again.jobItems(id).items.length, 2);
  again.close();
});

test('bad progress or an unknown job: refused, nothing written', () => {
  const s = openStore(freshPath());
  const id = s.createJob({ kind: 'bulk-fix', byUser: 'res1', total: 1 });
  assert.throws(() => s.recordJobItem(id, { domain: 'a.example', status: 'applied', detail: {} }, { done: -1, failed: 0 }), StoreError);
  assert.throws(() => s.recordJobItem(id + 99, { domain: 'a.example', status: 'applied', detail: {} }, { done: 1, failed: 0 }), StoreError);
  assert.equal(s.jobItems(id).items.length, 0);
  assert.equal(s.jobItems(id + 99).items.length, 0);
  s.close();
});

test('pageJobs of one kind; without a kind, every kind as before', () => {
  const s = openStore(freshPath());
  const audit = s.createJob({ kind: 'bulk-audit', byUser: 'res1', total: 1 });
  const fix = s.createJob({ kind: 'bulk-fix', byUser: 'res1', total: 1 });
  s.updateJob(audit, { status: 'running' });
  s.updateJob(fix, { status: 'complete' });
  assert.deepEqual(
    [s.pageJobs('res1', 50, 'bulk-audit')].map((p) => [p.active.map((j) => j.id), p.lastFinished?.id ?? null]),
    [[[audit], null]],
  );
  assert.deepEqual(
    [s.pageJobs('res1', 50, 'bulk-fix')].map((p) => [p.active.map((j) => j.id), p.lastFinished?.id ?? null]),
    [[[], fix]],
  );
  const any = s.pageJobs('res1');
  assert.deepEqual([any.active.map((j) => j.id), any.lastFinished?.id], [[audit], fix]);
  s.close();
});

test('prune removes a finished job with its items; the schema is v5 with job_items', () => {
  const path = freshPath();
  const clock = { t: Date.parse('2025-03-01T00:00:00.000Z') };
  const s = openStore(path, { now: () => clock.t });
  const id = s.createJob({ kind: 'bulk-fix', byUser: 'res1', total: 1 });
  s.recordJobItem(id, { domain: 'a.example', status: 'applied', detail: { status: 'applied' } }, { done: 1, failed: 0 });
  s.updateJob(id, { status: 'complete' });
  clock.t += 40 * 86_400_000;
  // Something newer, on two days: prune's cut-off is never later than the newest row, and one run alone after a long
  // silence would look like a clock far ahead (time-steps.test.ts).
  s.startRun('audit', 'res1');
  clock.t += 86_400_000;
  s.startRun('audit', 'res1');
  assert.equal(s.prune({ olderThanDays: 30 }).jobs, 1);
  assert.equal(s.getJob(id), null);
  s.close();
  const raw = new Database(path, { readonly: true });
  try {
    assert.equal(raw.pragma('user_version', { simple: true }), MIGRATIONS.length);
    assert.equal((raw.prepare('SELECT count(*) AS n FROM job_items').get() as { n: number }).n, 0, 'the items went with their job');
  } finally {
    raw.close();
  }
});
