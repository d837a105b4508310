// QA scale S3: a big prune (the retention lowered, the first prune after an upgrade) was one write transaction — 3.1 s
// at 2,000 domains, above the 2 s busy timeout, so another process's fix or audit at that moment failed "busy". Prune
// now works in write transactions of bounded size with a pause after each full one, in which another process writes;
// the counts it reports are the same as the one transaction's.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { Finding } from '../../../src/core/model.js';
import { openStore, type PruneResult, type Store, type StoreOptions } from '../../../src/adapters/store/store.js';

const root = mkdtempSync(join(tmpdir(), 'mailhealth-prune-batches-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshPath = () => {
  const dir = join(root, `case-${++n}`);
  mkdirSync(dir, { recursive: true });
  return join(dir, 'mailhealth.sqlite');
};
const DAY = 86_400_000;
const T0 = Date.parse('2025-03-01T03:00:00.000Z');
const NOW = T0 + 5 * DAY + 3_600_000;
const DOMAINS = 10;

const findings = (domain: string, night: number): Finding[] => [
  { rule: 'spf.term', check: 'spf', severity: night % 2 ? 'warn' : 'fail', message: `${domain}: night ${night % 2}`, evidence: { live: [`"v=spf1 include:x.example ~all"`] } },
  { rule: 'mx.host', check: 'mx', severity: 'pass', message: `${domain}: mx`, evidence: { live: ['10 mx.example.'] } },
];

/**
 * Six nights (one report run each, every domain audited at the same instant — so a batch boundary falls among results
 * with one audited_at), a finished job a night, and an expired lock: what a prune to 1.5 days at NOW deletes is nights
 * 0–3's results but each domain's latest (here none: all have later ones), runs 0–3 with their reports, and the jobs.
 */
function history(options: StoreOptions = {}): { path: string; store: Store } {
  const path = freshPath();
  const clock = { t: T0 };
  const store = openStore(path, { warn: () => {}, leaseClock: null, ...options, now: () => clock.t });
  for (let night = 0; night < 6; night++) {
    clock.t = T0 + night * DAY;
    const run = store.startRun('report', 'root', DOMAINS);
    store.recordAudits(
      run,
      Array.from({ length: DOMAINS }, (_, i) => ({ audit: { domain: `d${i}.example`, status: 'fail' as const, auditedAt: new Date(clock.t).toISOString(), findings: findings(`d${i}.example`, night) } })),
    );
    store.completeRunWithReport(run, { json: { night }, html: '<p>night</p>', text: 'night' });
    const job = store.createJob({ kind: 'bulk-audit', byUser: 'root' });
    store.updateJob(job, { status: 'complete' });
  }
  store.tryLock('old-lock', 'someone', 1000);
  clock.t = NOW;
  return { path, store };
}

const EXPECTED: PruneResult = { runs: 4, results: 4 * DOMAINS, findings: 4 * DOMAINS * 2, reports: 4, jobs: 4, locks: 1 };

function count(path: string, table: string): number {
  const raw = new Database(path, { readonly: true });
  try {
    return (raw.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    raw.close();
  }
}

describe('prune in bounded write transactions (QA scale S3)', () => {
  test('one transaction (bounds above what there is) deletes what it always did', () => {
    const { store } = history({ prune: { results: 1e9, runs: 1e9, jobs: 1e9 } });
    assert.deepEqual(store.prune({ olderThanDays: 1.5 }), EXPECTED);
    store.close();
  });

  test('at most `results` results a transaction, another process writing in each pause; the same counts, the same history left', () => {
    const seen: { results: number; runs: number; jobs: number }[] = [];
    let other: Store | null = null;
    let path = '';
    const { path: p, store } = history({
      prune: {
        results: 7,
        runs: 1,
        jobs: 1,
        pause: () => {
          seen.push({ results: count(path, 'results'), runs: count(path, 'runs'), jobs: count(path, 'jobs') });
          // Another process (its own connection) writes at once, waiting for nobody: the lock is free in a pause.
          other ??= openStore(path, { warn: () => {}, busyTimeoutMs: 0 });
          other.setSetting(`written.${seen.length}`, seen.length);
        },
      },
    });
    path = p;
    const before = count(path, 'results');
    assert.deepEqual(store.prune({ olderThanDays: 1.5 }), EXPECTED);
    // 40 results in transactions of 7 looked at: a pause after each full one (5), then runs and jobs one a transaction.
    assert.ok(seen.length >= 5 + 3, `${seen.length} pauses`);
    let last = before;
    for (const s of seen) {
      assert.ok(last - s.results <= 7, `at most 7 results deleted between two pauses (${last} → ${s.results})`);
      last = s.results;
    }
    const runSteps = seen.map((s) => s.runs).filter((r, i, all) => i === 0 || r !== all[i - 1]);
    assert.ok(runSteps.length >= 4, `runs deleted one transaction at a time: ${runSteps.join(', ')}`);
    assert.equal(count(path, 'results'), before - EXPECTED.results);
    assert.equal(other!.getSetting(`written.${seen.length}`), seen.length, 'every write in a pause went through');
    other!.close();
    // Each domain's latest audit and the two report runs kept, as a single transaction leaves them.
    assert.equal(store.latestAudits().size, DOMAINS);
    assert.deepEqual(
      store.listRuns().map((r) => r.id),
      [6, 5],
    );
    store.close();
  });

  test('pruneAsync: the same counts, and the event loop runs between its transactions', async () => {
    const { store } = history({ prune: { results: 7, runs: 1, jobs: 1, pauseMs: 0 } });
    let turns = 0;
    let done = false;
    const tick = () => {
      if (done) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    let result: PruneResult;
    try {
      result = await store.pruneAsync({ olderThanDays: 1.5 });
    } finally {
      done = true;
    }
    assert.deepEqual(result, EXPECTED);
    assert.ok(turns >= 5, `${turns} turns of the event loop while it pruned`);
    store.close();
  });

  test('a prune stopped between two transactions deleted only whole ones; the next prune finishes the job', () => {
    let pauses = 0;
    const { path, store } = history({
      prune: {
        results: 7,
        pause: () => {
          if (++pauses === 3) throw new Error('stopped');
        },
      },
    });
    const before = count(path, 'results');
    assert.throws(() => store.prune({ olderThanDays: 1.5 }), /stopped/);
    assert.equal(count(path, 'results'), before - 21, 'three transactions of 7');
    const documents = new Database(path, { readonly: true });
    assert.deepEqual(documents.prepare(`SELECT id FROM documents d WHERE refs != (SELECT count(*) FROM results WHERE doc_id = d.id)`).all(), []);
    documents.close();
    const rest = store.prune({ olderThanDays: 1.5 });
    assert.deepEqual({ ...rest, results: rest.results + 21, findings: rest.findings + 42 }, EXPECTED);
    store.close();
  });
});
