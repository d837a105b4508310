// The readers behind the nightly report's history (QA scale S1: a run read in pieces, without evidence), the history
// page's lists (QA scale S2: ids from a covering index, then only those rows) and the thinning of earlier reports
// (QA scale S4).
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { Change, DomainAudit, Finding } from '../../../src/core/model.js';
import { openStore, THIN_REPORTS_BACK, type AuditResult, type Store } from '../../../src/adapters/store/store.js';
import { fakeClock as scenarioClock, NASTY, T0 as SCENARIO_T0, writeScenario } from './v1-scenario.js';

const root = mkdtempSync(join(tmpdir(), 'mailhealth-store-readers-'));
after(() => rmSync(root, { recursive: true, force: true }));
const fixtures = resolve(dirname(fileURLToPath(import.meta.url)), 'fixtures');
let n = 0;
const freshPath = () => join(root, `case-${++n}`, 'mailhealth.sqlite');

const PROBLEMS = ['fail', 'warn', 'unknown'] as const;

/** What resultFindingsByIds must return for a whole result: its problems, each without evidence, classification, fix. */
function projected(r: AuditResult) {
  const { findings, ...head } = r;
  return {
    ...head,
    findings: findings
      .filter((f) => (PROBLEMS as readonly string[]).includes(f.severity))
      .map((f) => ({ rule: f.rule, check: f.check, severity: f.severity, message: f.message, ...(f.subject !== undefined ? { subject: f.subject } : {}) })),
  };
}

function checkReaders(s: Store, runs: number[]): void {
  let seen = 0;
  for (const run of runs) {
    const whole = s.runResults(run);
    const ids = s.runResultIds(run);
    assert.deepEqual(ids, whole.map((r) => r.resultId), `run ${run}: the ids in runResults' order`);
    assert.equal(JSON.stringify(s.resultsByIds(ids)), JSON.stringify(whole), `run ${run}: resultsByIds is runResults`);
    const light = s.resultFindingsByIds(ids, PROBLEMS);
    assert.deepEqual(light, whole.map(projected), `run ${run}: the problems, without evidence`);
    for (const r of light) {
      for (const f of r.findings) {
        assert.deepEqual(Object.keys(f).filter((k) => !['rule', 'check', 'severity', 'message', 'subject'].includes(k)), [], 'nothing but the five fields');
        seen++;
      }
    }
    // Any order asked for, ids not stored left out; pieces of a run make the run.
    const reversed = [...ids].reverse();
    assert.deepEqual(s.resultFindingsByIds([999_999, ...reversed], PROBLEMS).map((r) => r.resultId), reversed);
    const pieces = [ids.slice(0, 2), ids.slice(2)].flatMap((p) => s.resultFindingsByIds(p, PROBLEMS));
    assert.deepEqual(pieces, light);
  }
  assert.ok(seen > 5, 'the scenario has problems to read');
  assert.deepEqual(s.resultFindingsByIds([], PROBLEMS), []);
  assert.deepEqual(s.resultsByIds([]), []);
  assert.deepEqual(s.runResultIds(424242), []);
}

describe('the history readers by id (QA scale S1)', () => {
  test('on documents with shared evidence (the current store): as runResults, projected', () => {
    const clock = scenarioClock(SCENARIO_T0);
    const s = openStore(freshPath(), { now: clock.now });
    writeScenario(s, clock);
    checkReaders(s, [1, 2, 3, 4, 5]);
    s.close();
  });

  test('on documents from before evidence was shared (a v1 file migrated: plain arrays of findings)', () => {
    const path = freshPath();
    mkdirSync(dirname(path), { recursive: true });
    copyFileSync(join(fixtures, 'v1.db'), path);
    const s = openStore(path);
    const raw = new Database(path, { readonly: true });
    assert.ok((raw.prepare(`SELECT count(*) AS n FROM results WHERE findings LIKE '[%'`).get() as { n: number }).n > 5, 'plain-array documents');
    raw.close();
    checkReaders(s, [1, 2, 3, 4, 5]);
    s.close();
  });

  test('only the severities asked for; never evidence, classification or fix, whatever the finding holds', () => {
    const s = openStore(freshPath());
    const run = s.startRun('report', 'root');
    // Hostile text without lone surrogates (those are stored as U+FFFD: see the store's header).
    const HOSTILE = NASTY.replace(/ lone .* and .* </u, ' <');
    const evidence = { panel: [`x.example 3600 TXT "${HOSTILE}"`], live: [HOSTILE], nested: { deep: [1, { k: HOSTILE }] } };
    const findings: Finding[] = [
      { rule: 'a', check: 'spf', severity: 'fail', message: HOSTILE, evidence, subject: HOSTILE, classification: { class: 'stale', reason: HOSTILE }, fix: 'spf' },
      { rule: 'b', check: 'spf', severity: 'pass', message: 'ok', evidence },
      { rule: 'c', check: 'dkim', severity: 'info', message: 'fyi', evidence },
      { rule: 'd', check: 'dkim', severity: 'unknown', message: 'timeout', evidence: {} },
      { rule: 'e', check: 'mx', severity: 'warn', message: 'w', evidence, subject: '' },
    ];
    const audit: DomainAudit = { domain: 'x.example', status: 'fail', auditedAt: '2026-01-01T00:00:00.000Z', findings };
    const [id] = s.recordAudits(run, [{ audit, owner: HOSTILE }]);
    const [r] = s.resultFindingsByIds([id], ['fail', 'warn', 'unknown']);
    assert.equal(r.owner, HOSTILE);
    assert.equal(r.findingsCount, 5, 'the count of every finding stored');
    assert.deepEqual(r.findings, [
      { rule: 'a', check: 'spf', severity: 'fail', message: HOSTILE, subject: HOSTILE },
      { rule: 'd', check: 'dkim', severity: 'unknown', message: 'timeout' },
      { rule: 'e', check: 'mx', severity: 'warn', message: 'w', subject: '' },
    ]);
    assert.deepEqual(s.resultFindingsByIds([id], ['info'])[0].findings.map((f) => f.rule), ['c']);
    assert.ok(!JSON.stringify(s.resultFindingsByIds([id], ['fail', 'warn', 'unknown', 'info', 'pass'])).includes('deep'), 'no evidence');
    s.close();
  });
});

interface PlanRow {
  id: number;
  parent: number;
  detail: string;
}

/** The SQL a Store method prepares (its first call on a fresh store), and the query plan of it. */
function sqlOf(s: Store, call: () => unknown): string {
  const db = (s as unknown as { db: Database.Database }).db;
  const prepare = db.prepare;
  const seen: string[] = [];
  db.prepare = ((sql: string) => {
    seen.push(sql);
    return prepare.call(db, sql);
  }) as typeof db.prepare;
  try {
    call();
  } finally {
    db.prepare = prepare;
  }
  const queries = seen.filter((q) => !/PRAGMA/i.test(q));
  assert.equal(queries.length, 1, queries.join('\n---\n'));
  return queries[0];
}

function planOf(path: string, sql: string, params: unknown[]): PlanRow[] {
  const raw = new Database(path, { readonly: true });
  try {
    return raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as PlanRow[];
  } finally {
    raw.close();
  }
}

/**
 * The plan reads `table` through the covering index `index` inside the `picked` ids, then the rows by rowid as `alias`;
 * any sort is of those ids (inside `picked`), never of the table's rows.
 */
function assertPickedFirst(plan: PlanRow[], table: string, index: string, alias: string): void {
  const text = plan.map((p) => `${p.id}<${p.parent} ${p.detail}`).join('\n');
  const picked = plan.find((p) => /^(CO-ROUTINE|MATERIALIZE) picked$/.test(p.detail));
  assert.ok(picked, `ids picked first:\n${text}`);
  const byId = new Map(plan.map((p) => [p.id, p]));
  const inPicked = (p: PlanRow): boolean => {
    for (let q: PlanRow | undefined = p; q; q = byId.get(q.parent)) if (q.id === picked.id) return true;
    return false;
  };
  const viaIndex = plan.filter((p) => p.detail.startsWith(`SEARCH ${table} USING COVERING INDEX ${index} `));
  assert.ok(viaIndex.length === 1 && inPicked(viaIndex[0]), `through the covering index ${index}:\n${text}`);
  assert.ok(plan.some((p) => p.detail === `SEARCH ${alias} USING INTEGER PRIMARY KEY (rowid=?)` && !inPicked(p)), `then its rows by id:\n${text}`);
  for (const p of plan) {
    if (p.detail.includes('TEMP B-TREE')) assert.ok(inPicked(p), `a sort of the rows, not of the ids:\n${text}`);
    assert.ok(!new RegExp(`^SCAN (${table}|${alias})\\b`).test(p.detail), `no scan of ${table}:\n${text}`);
  }
}

/** The queries before QA scale S2: the reference for the rows. */
const OLD_RECENT = `SELECT r.id, r.run_id, r.domain, r.owner, r.status, r.audited_at, r.findings_count, r.checks, runs.by_user, runs.kind
  FROM results r JOIN runs ON runs.id = r.run_id WHERE r.domain IN (SELECT value FROM json_each(?)) ORDER BY r.id DESC LIMIT ?`;
const OLD_CHANGES = `SELECT * FROM changes WHERE domain IN (SELECT value FROM json_each(?)) AND id < ? ORDER BY id DESC LIMIT ?`;

function change(domain: string, i: number): Change {
  return { action: 'edit', name: domain, type: 'TXT', ttl: 3600, before: { name: domain, type: 'TXT', ttl: 3600, value: `v=spf1 -all ${i}` }, after: { name: domain, type: 'TXT', ttl: 3600, value: `v=spf1 ~all ${i}` } } as Change;
}

describe('the history page lists (QA scale S2): ids from the covering index first', () => {
  const path = freshPath();
  const clock = { t: Date.parse('2026-01-01T00:00:00.000Z') };
  const s = openStore(path, { now: () => clock.t });
  after(() => s.close());
  const domains = Array.from({ length: 30 }, (_, i) => `d${i}.example`);
  // Interleaved writes: runs of every kind, domains in and out of the scope, a clock set back halfway.
  for (let night = 0; night < 12; night++) {
    const run = s.startRun(night % 3 ? 'report' : 'bulk', night % 2 ? 'root' : 'rita', domains.length);
    s.recordAudits(
      run,
      domains.map((d, i) => ({
        audit: { domain: d, status: (i + night) % 4 ? 'pass' : 'fail', auditedAt: new Date(clock.t + i).toISOString(), findings: [] },
        owner: `cust${i % 4}`,
      })),
    );
    s.finishRun(run, 'complete');
    for (let k = 0; k < 3; k++) {
      const d = domains[(night * 7 + k) % domains.length];
      const id = s.recordIntent({ domain: d, check: 'spf', planHash: `sha256:${String(night * 10 + k).padStart(64, '0')}`, zoneVersion: '1', changes: [change(d, k)], byUser: 'rita' });
      s.recordOutcome(id, { status: k === 2 ? 'failed' : 'applied', zoneVersionAfter: '2', verified: 'yes' });
    }
    clock.t += night === 6 ? -3_600_000 : 86_400_000;
  }
  const scopes = [domains, domains.slice(0, 3), ['d5.example', 'nope.example', NASTY], [], [...domains, ...domains]];

  test('recentResults: the same rows as before, read through results_domain_id and by id, no sort of result rows', () => {
    const raw = new Database(path, { readonly: true });
    const old = raw.prepare(OLD_RECENT);
    for (const scope of scopes) {
      for (const limit of [1, 7, 50, 1000]) {
        const want = (old.all(JSON.stringify(scope), limit) as { id: number; run_id: number; domain: string; owner: string | null; status: string; audited_at: string; findings_count: number; checks: string; by_user: string; kind: string }[]).map((r) => ({
          resultId: r.id,
          runId: r.run_id,
          domain: r.domain,
          owner: r.owner,
          status: r.status,
          auditedAt: r.audited_at,
          findingsCount: r.findings_count,
          byUser: r.by_user,
          runKind: r.kind,
          checks: JSON.parse(r.checks) as unknown,
        }));
        assert.deepEqual(s.recentResults(scope, limit, { withChecks: true }), want, `${scope.length} domains, limit ${limit}`);
        assert.deepEqual(s.recentResults(scope, limit), want.map(({ checks: _, ...r }) => r));
      }
    }
    raw.close();
    const fresh = openStore(path);
    const sql = sqlOf(fresh, () => fresh.recentResults(domains, 50));
    fresh.close();
    assertPickedFirst(planOf(path, sql, [JSON.stringify(domains), 50]), 'results', 'results_domain_id', 'r');
  });

  test('changesForDomains: the same rows as before (pages with beforeId too), read through changes_domain and by id', () => {
    const raw = new Database(path, { readonly: true });
    const old = raw.prepare(OLD_CHANGES);
    for (const scope of scopes) {
      for (const limit of [1, 5, 101]) {
        for (const before of [undefined, 20, 1]) {
          const want = (old.all(JSON.stringify(scope), before ?? Number.MAX_SAFE_INTEGER, limit) as { id: number }[]).map((r) => r.id);
          const got = s.changesForDomains(scope, limit, before);
          assert.deepEqual(got.map((c) => c.id), want, `${scope.length} domains, limit ${limit}, before ${before}`);
          if (got.length) assert.deepEqual(got[0], s.changesForDomains([got[0].domain], 1, got[0].id + 1)[0]);
        }
      }
    }
    raw.close();
    const fresh = openStore(path);
    const sql = sqlOf(fresh, () => fresh.changesForDomains(domains, 101));
    fresh.close();
    assertPickedFirst(planOf(path, sql, [JSON.stringify(domains), Number.MAX_SAFE_INTEGER, 101]), 'changes', 'changes_domain', 'c');
  });
});

describe('thinning earlier reports (QA scale S4)', () => {
  test("earlier reports lose their stillFailing list (its count kept), nothing else; the newest and other documents are as saved", () => {
    const path = freshPath();
    const s = openStore(path);
    const item = (i: number) => ({ domain: `d${i}.example`, rule: 'spf.x', check: 'spf', severity: 'fail', subject: NASTY, message: `${NASTY} ${i}`, owner: null, reseller: null, nights: i, since: '2026-01-01T00:00:00.000Z' });
    const doc = (run: number, k: number) => ({
      version: 1,
      runId: run,
      summary: { stillFailing: k, note: NASTY, big: 1e21, tiny: 5e-324, neg: -0.5 },
      newProblems: [item(0)],
      stillFailing: Array.from({ length: k }, (_, i) => item(i)),
      unknown: [],
      text: '"stillFailing":[] inside a string',
      trend: [{ runId: run, failing: k }],
    });
    const runs: number[] = [];
    for (let i = 0; i < 4; i++) {
      const run = s.startRun('report', 'root');
      runs.push(run);
      s.completeRunWithReport(run, { json: i === 1 ? { no: 'list' } : doc(run, i + 2), html: `<p>${NASTY}</p>`, text: `night ${i}` });
    }
    const other = s.startRun('report', 'root');
    s.completeRunWithReport(other, { json: [1, 2, 3], html: '', text: '' });
    const saved = runs.map((r) => s.getReport(r)!);

    assert.equal(s.thinEarlierReports(runs[3]), 2, 'runs 1 and 3 (run 2 has no list)');
    assert.equal(s.thinEarlierReports(runs[3]), 0, 'once');
    for (const i of [0, 2]) {
      const now = s.getReport(runs[i])!;
      const want = { ...(saved[i].json as object), stillFailing: [], stillFailingOmitted: i + 2 };
      assert.deepEqual(now.json, want);
      assert.equal(JSON.stringify(now.json), JSON.stringify(want), 'key order and every other value as saved');
      assert.deepEqual([now.html, now.text, now.createdAt], [saved[i].html, saved[i].text, saved[i].createdAt]);
    }
    assert.deepEqual(s.getReport(runs[1])!.json, { no: 'list' });
    assert.deepEqual(s.getReport(runs[3])!.json, saved[3].json, 'the newest keeps its list');
    assert.deepEqual(s.getReport(other)!.json, [1, 2, 3]);
    s.close();
  });

  test(`only the ${THIN_REPORTS_BACK} reports before the new one are looked at: a night's work stays bounded`, () => {
    const s = openStore(freshPath());
    const runs: number[] = [];
    for (let i = 0; i < THIN_REPORTS_BACK + 3; i++) {
      const run = s.startRun('report', 'root');
      runs.push(run);
      s.completeRunWithReport(run, { json: { stillFailing: [{ domain: `d${i}.example` }, {}] }, html: '', text: '' });
    }
    const newest = runs[runs.length - 1];
    assert.equal(s.thinEarlierReports(newest), THIN_REPORTS_BACK);
    const lists = runs.map((r) => (s.getReport(r)!.json as { stillFailing: unknown[] }).stillFailing.length);
    assert.deepEqual(lists, [2, 2, ...Array<number>(THIN_REPORTS_BACK).fill(0), 2]);
    s.close();
  });
});
