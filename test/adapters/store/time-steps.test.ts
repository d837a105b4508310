// The history's judgements of time when the wall clock steps (QA, time handling): which audit is a domain's latest,
// what prune deletes, which changes a bulk fix job wrote. Each clock is a fake one the test moves.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { openStore, type IntentInput } from '../../../src/adapters/store/store.js';
import type { DomainAudit, Finding } from '../../../src/core/model.js';

const root = mkdtempSync(join(tmpdir(), 'mailhealth-time-steps-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(root, `case-${++n}.sqlite`);

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.parse('2027-03-01T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const failing: Finding = { rule: 'spf.stale-term', check: 'spf', severity: 'fail', message: 'a previous host', evidence: {} };
const audit = (domain: string, at: number, findings: Finding[] = []): DomainAudit => ({ domain, status: findings.length ? 'fail' : 'pass', auditedAt: iso(at), findings });

describe("a domain's latest audit", () => {
  test('a re-audit after the clock was set back is the latest (domain list, domain page), and lists put it first', () => {
    const clock = { t: T0 + HOUR }; // an hour fast
    const s = openStore(freshPath(), { now: () => clock.t });
    try {
      const run1 = s.startRun('audit', 'alice');
      s.recordAudit(run1, audit('a.example', clock.t, [failing])); // "13:00": failing
      clock.t = T0 + 5 * MIN; // corrected: 12:05
      const run2 = s.startRun('audit', 'alice');
      s.recordAudit(run2, audit('a.example', clock.t)); // the fix applied, audited again: passing
      assert.equal(s.latestAudit('a.example')?.status, 'pass');
      assert.equal(s.latestAudits(['a.example']).get('a.example')?.status, 'pass');
      assert.equal(s.latestAudits().get('a.example')?.status, 'pass');
      assert.equal(s.latestSummaries(['a.example']).get('a.example')?.status, 'pass');
      assert.deepEqual(s.recentResults(['a.example']).map((r) => r.status), ['pass', 'fail']);
      assert.deepEqual(s.auditsForDomain('a.example').map((r) => r.status), ['pass', 'fail']);
      // Later audits go on from there as usual.
      clock.t += 10 * MIN;
      s.recordAudit(run2, audit('a.example', clock.t, [failing]));
      assert.equal(s.latestAudit('a.example')?.status, 'fail');
      // Prune keeps the latest (by the same rule), whatever else it deletes. 200 days on, three nights recorded: the
      // clock is not one far ahead that a single run would show (see "prune and a clock far ahead").
      clock.t += 200 * DAY;
      for (let i = 0; i < 3; i++) {
        s.startRun('audit', 'alice');
        clock.t += DAY;
      }
      s.prune({ olderThanDays: 30 });
      assert.deepEqual(s.auditsForDomain('a.example').map((r) => [r.status, r.auditedAt]), [['fail', iso(T0 + 15 * MIN)]]);
    } finally {
      s.close();
    }
  });

  test('a bulk batch written a little late does not hide a re-audit made meanwhile (latest by audit time within the slack)', () => {
    const clock = { t: T0 };
    const s = openStore(freshPath(), { now: () => clock.t });
    try {
      const bulk = s.startRun('bulk', 'bob');
      const single = s.startRun('audit', 'alice');
      // The bulk audits a.example at 12:00 (failing) and writes its batch at 12:04; alice re-audited it at 12:02.
      s.recordAudit(single, audit('a.example', T0 + 2 * MIN));
      s.recordAudits(bulk, [{ audit: audit('a.example', T0, [failing]) }, { audit: audit('b.example', T0 + MIN) }]);
      assert.equal(s.latestAudit('a.example')?.status, 'pass');
      assert.equal(s.latestSummaries(['a.example', 'b.example']).get('a.example')?.auditedAt, iso(T0 + 2 * MIN));
    } finally {
      s.close();
    }
  });
});

describe('prune and a clock far ahead', () => {
  /** Ten nightly reports of a.example and b.example, each a complete report run with its report. */
  function tenNights(s: ReturnType<typeof openStore>, clock: { t: number }): number[] {
    const ids: number[] = [];
    for (let i = 0; i < 10; i++) {
      const run = s.startRun('report', 'cron', 2);
      s.recordAudits(run, [{ audit: audit('a.example', clock.t, i % 2 ? [failing] : []) }, { audit: audit('b.example', clock.t) }], { done: 2 });
      assert.ok(s.completeRunWithReport(run, { json: { night: i }, html: '', text: `night ${i}` }));
      ids.push(run);
      clock.t += DAY;
    }
    return ids;
  }

  test('one prune with the clock a year fast keeps the report history (the newest complete runs whole, with their reports)', () => {
    const clock = { t: T0 };
    const s = openStore(freshPath(), { now: () => clock.t });
    try {
      const nights = tenNights(s, clock);
      clock.t += 365 * DAY;
      const pruned = s.prune({ olderThanDays: 90 });
      assert.deepEqual(pruned, { runs: 0, results: 0, findings: 0, reports: 0, jobs: 0, locks: 0 });
      for (const id of nights) {
        assert.equal(s.runResults(id).length, 2, `run ${id} whole`);
        assert.ok(s.getReport(id), `run ${id} keeps its report`);
      }
    } finally {
      s.close();
    }
  });

  test('a night run with the clock a year fast, then its prune: the nights before it are kept to compare with and chart', () => {
    const clock = { t: T0 };
    const s = openStore(freshPath(), { now: () => clock.t });
    try {
      const nights = tenNights(s, clock);
      clock.t += 365 * DAY;
      const fast = tenNights(s, clock).slice(0, 1); // one more night, stamped a year ahead …
      s.prune({ olderThanDays: 90 }); // … and the nightly prune after it
      for (const id of [...nights, ...fast]) assert.equal(s.runResults(id).length, 2, `run ${id} whole`);
    } finally {
      s.close();
    }
  });

  test('the retention still applies beyond the newest runs kept: as many report runs as it has days (here 3), whatever their age', () => {
    const clock = { t: T0 };
    const s = openStore(freshPath(), { now: () => clock.t });
    try {
      const nights = tenNights(s, clock);
      clock.t += 365 * DAY;
      s.prune({ olderThanDays: 3 });
      assert.deepEqual(
        nights.map((id) => s.runResults(id).length),
        [0, 0, 0, 0, 0, 0, 0, 2, 2, 2],
        'the three newest whole; the others pruned (their domains have newer results)',
      );
      assert.equal(s.getReport(nights[0]), null);
      assert.ok(s.getReport(nights[7]));
    } finally {
      s.close();
    }
  });

  test('the cut-off is never later than the newest row: a clock far ahead never prunes all of a history', () => {
    const clock = { t: T0 };
    const s = openStore(freshPath(), { now: () => clock.t });
    try {
      const job = s.createJob({ kind: 'bulk-fix', byUser: 'res1', total: 1 });
      s.updateJob(job, { status: 'complete' });
      clock.t += 365 * DAY;
      assert.equal(s.prune({ olderThanDays: 30 }).jobs, 0, 'the newest thing recorded');
      assert.ok(s.getJob(job));
    } finally {
      s.close();
    }
  });
});

describe("a bulk fix job's changes", () => {
  const intent = (domain: string, jobId: number): IntentInput => ({
    domain,
    check: 'spf',
    planHash: `sha256:${'1'.repeat(64)}`,
    zoneVersion: '1',
    changes: [],
    byUser: 'res1',
    jobId,
  });

  test('a change the job wrote after the clock was set back is still its own', () => {
    const clock = { t: T0 + HOUR }; // an hour fast when the job starts
    const s = openStore(freshPath(), { now: () => clock.t });
    try {
      const job = s.createJob({ kind: 'bulk-fix', byUser: 'res1', total: 2 });
      const first = s.recordIntent(intent('a.example', job));
      clock.t = T0 + MIN; // corrected while the job runs
      const second = s.recordIntent(intent('b.example', job));
      assert.ok(s.getChange(second)!.createdAt < s.getJob(job)!.createdAt);
      assert.deepEqual(s.changesOfJob(job, ['a.example', 'b.example']).map((c) => c.id), [second, first]);
    } finally {
      s.close();
    }
  });

  test('a job id reused after a deletion with foreign keys off (an sqlite3 shell) claims no older change, even with the clock set back', () => {
    const path = freshPath();
    const clock = { t: T0 };
    const s = openStore(path, { now: () => clock.t });
    try {
      const old = s.createJob({ kind: 'bulk-fix', byUser: 'res1', total: 1 });
      const oldChange = s.recordIntent(intent('a.example', old));
      const shell = new Database(path);
      shell.pragma('foreign_keys = OFF'); // the sqlite3 shell's default (the store turns them on)
      shell.prepare('DELETE FROM jobs WHERE id = ?').run(old);
      shell.close();
      clock.t -= DAY; // and the clock set back a day, so created_at cannot tell the two jobs' changes apart
      const reused = s.createJob({ kind: 'bulk-fix', byUser: 'res1', total: 1 });
      assert.equal(reused, old);
      assert.deepEqual(s.changesOfJob(reused, ['a.example']), []);
      const own = s.recordIntent(intent('a.example', reused));
      assert.deepEqual(s.changesOfJob(reused, ['a.example']).map((c) => c.id), [own]);
      assert.ok(oldChange < own);
    } finally {
      s.close();
    }
  });
});
