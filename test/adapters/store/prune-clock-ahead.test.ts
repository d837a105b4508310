// Review r1, item 3: prune with the clock far ahead still wiped jobs and audit history in the nightly order (the report,
// then prune): the night's report run, stamped a year ahead, was "the newest row", so the guard "the cut-off is never
// later than the newest row" let everything else count as older than 90 days. Now a newest time that stands far ahead
// of the recent history (runs and jobs) is not taken as "now" (store.ts prune, trustedNow).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { openStore, PRUNE_SLACK_DAYS, trustedNow, type Store } from '../../../src/adapters/store/store.js';
import type { DomainAudit } from '../../../src/core/model.js';

const root = mkdtempSync(join(tmpdir(), 'mailhealth-prune-clock-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const DAY = 86_400_000;
const T0 = Date.parse('2027-03-01T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const audit = (domain: string, at: number): DomainAudit => ({ domain, status: 'pass', auditedAt: iso(at), findings: [] });
const NONE = { runs: 0, results: 0, findings: 0, reports: 0, jobs: 0, locks: 0 };

function world(): { s: Store; clock: { t: number } } {
  const clock = { t: T0 };
  return { s: openStore(join(root, `case-${++n}.sqlite`), { now: () => clock.t, warn: () => {} }), clock };
}

/** A nightly report of `domains` at the store's clock, as the nightly run records it. */
function night(s: Store, clock: { t: number }, domains: string[]): number {
  const run = s.startRun('report', 'cron', domains.length);
  s.recordAudits(run, domains.map((d) => ({ audit: audit(d, clock.t) })), { done: domains.length });
  assert.ok(s.completeRunWithReport(run, { json: {}, html: '', text: '' }));
  return run;
}

describe('prune right after a night at a clock far ahead', () => {
  test('a finished job and the audits of the day before are kept (review r1: the job and every earlier audit went)', () => {
    const { s, clock } = world();
    try {
      const job = s.createJob({ kind: 'bulk-fix', byUser: 'res1', total: 1 });
      s.updateJob(job, { status: 'complete' });
      const a1 = s.startRun('audit', 'alice');
      s.recordAudit(a1, audit('a.example', clock.t));
      clock.t += 60_000;
      s.recordAudit(a1, audit('a.example', clock.t));
      s.finishRun(a1, 'complete');
      clock.t += 365 * DAY; // the night's run at a clock a year fast, then its prune (src/cli/nightly.ts)
      night(s, clock, ['a.example']);
      assert.deepEqual(s.prune({ olderThanDays: 90 }), NONE);
      assert.ok(s.getJob(job), 'the job is kept');
      assert.equal(s.auditsForDomain('a.example').length, 3, "alice's two audits and the night's");
    } finally {
      s.close();
    }
  });

  test('after weeks of nights, one at a clock a year fast with a job made then too: nothing recent goes', () => {
    const { s, clock } = world();
    try {
      const nights: number[] = [];
      for (let i = 0; i < 20; i++) {
        nights.push(night(s, clock, ['a.example', 'b.example']));
        clock.t += DAY;
      }
      clock.t += 365 * DAY;
      const job = s.createJob({ kind: 'bulk-audit', byUser: 'res1', total: 1 });
      s.updateJob(job, { status: 'complete' }); // two times that far ahead: still fewer than half of the newest five
      night(s, clock, ['a.example', 'b.example']);
      // With 30 days kept, the 20 nights (19 days) are all recent.
      assert.deepEqual(s.prune({ olderThanDays: 30 }), NONE);
      for (const id of nights) assert.equal(s.runResults(id).length, 2, `night ${id} whole`);
      // With 7 kept: ages judged against the last right night (plus the slack), not the clock: the nights of the last
      // 7 − PRUNE_SLACK_DAYS days before it stay whole, older ones go.
      assert.ok(s.prune({ olderThanDays: 7 }).results > 0);
      const recent = nights.slice(-(7 - PRUNE_SLACK_DAYS + 1));
      for (const id of recent) assert.equal(s.runResults(id).length, 2, `night ${id} whole`);
      assert.equal(s.runResults(nights[0]).length, 0, 'the first night is pruned');
    } finally {
      s.close();
    }
  });
});

describe('prune by the clock where the history does not contradict it', () => {
  test('with a report each night and a right clock: the retention exactly as set (a finished job goes on the first night it is older)', () => {
    const { s, clock } = world();
    try {
      for (let i = 0; i < 5; i++) {
        night(s, clock, ['a.example']);
        clock.t += DAY;
      }
      const job = s.createJob({ kind: 'bulk-fix', byUser: 'res1', total: 1 });
      s.updateJob(job, { status: 'complete' });
      const made = clock.t;
      for (let i = 1; i <= 10; i++) {
        clock.t = made + i * DAY - 60_000; // each night a little before the job's time of day
        night(s, clock, ['a.example']);
        s.prune({ olderThanDays: 3 });
        assert.equal(s.getJob(job) !== null, i <= 3, `night ${i} after the job`);
      }
    } finally {
      s.close();
    }
  });

  test('a history merely old (nothing recorded for 200 days, then a prune): pruned by the clock, as before', () => {
    const { s, clock } = world();
    try {
      const job = s.createJob({ kind: 'bulk-fix', byUser: 'res1', total: 1 });
      s.updateJob(job, { status: 'complete' });
      clock.t += DAY;
      night(s, clock, ['a.example']);
      clock.t += DAY;
      night(s, clock, ['a.example']);
      clock.t += 200 * DAY;
      assert.equal(s.prune({ olderThanDays: 30 }).jobs, 1);
    } finally {
      s.close();
    }
  });

  test('after a real pause longer than the retention, pruning is back to the clock on the third night', () => {
    const { s, clock } = world();
    try {
      for (let i = 0; i < 10; i++) {
        night(s, clock, ['a.example']);
        clock.t += DAY;
      }
      const job = s.createJob({ kind: 'bulk-fix', byUser: 'res1', total: 1 });
      s.updateJob(job, { status: 'complete' });
      clock.t += 100 * DAY; // the service stopped for 100 days; 30 kept
      const kept: boolean[] = [];
      for (let i = 0; i < 3; i++) {
        night(s, clock, ['a.example']);
        s.prune({ olderThanDays: 30 });
        kept.push(s.getJob(job) !== null);
        clock.t += DAY;
      }
      assert.deepEqual(kept, [true, true, false]);
    } finally {
      s.close();
    }
  });
});

describe('trustedNow', () => {
  test('null when the newest time does not stand out; else the newest that does not', () => {
    assert.equal(trustedNow([]), null);
    assert.equal(trustedNow([T0]), null);
    assert.equal(trustedNow([T0 + 4 * DAY, T0 + 3 * DAY, T0 + 2 * DAY, T0 + DAY, T0]), null, 'nightly');
    assert.equal(trustedNow([T0 + DAY, T0]), null);
    assert.equal(trustedNow([T0 + 365 * DAY, T0 + 60_000, T0]), T0 + 60_000);
    assert.equal(trustedNow([T0 + 365 * DAY, T0 + 365 * DAY, T0 + 2 * DAY, T0 + DAY, T0]), T0 + 2 * DAY, 'two far ahead of five');
    assert.equal(trustedNow([T0 + 365 * DAY, T0 + 365 * DAY, T0 + 364 * DAY, T0 + DAY, T0]), null, 'three: the clock is believed');
    // Monthly activity: a month's gap is its usual spread, not a jump.
    assert.equal(trustedNow([T0 + 120 * DAY, T0 + 90 * DAY, T0 + 60 * DAY, T0 + 30 * DAY, T0]), null);
    assert.equal(trustedNow([T0 + 60 * DAY, T0 + 2 * DAY, T0 + DAY, T0, T0 - DAY]), T0 + 2 * DAY);
    assert.equal(trustedNow([T0, T0 + 365 * DAY, T0 + 60_000]), T0 + 60_000, 'in any order');
  });
});
