import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StoreError } from '../../src/adapters/store/store.js';
import { REPORT_LOCK, ReportInterruptedError, runReport } from '../../src/cron/report.js';
import type { ReportDoc } from '../../src/core/report/diff.js';
import { countingLimiter, DAY, killAfterDomains, NIGHT1, startWorld, type TestWorld } from './world.js';

const key = (i: { domain: string; rule: string }) => `${i.domain} ${i.rule}`;

describe('nightly report: two nights through the files panel over loopback DNS', () => {
  let w: TestWorld;
  let night1: ReportDoc;
  let night2: ReportDoc;
  before(async () => {
    w = await startWorld();
    const o1 = await runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter(), baseUrl: 'https://panel.example/mh', serverName: 'server1' });
    night1 = o1.doc;
    // Between the nights: clean.example breaks (a second SPF record), florist.example's lockdown gets fixed.
    w.editZone('clean.example', (t) => t.replace(/(@\tIN\tTXT\t"v=spf1[^\n]*\n)/, '$1@\tIN\tTXT\t"v=spf1 a -all"\n'));
    w.editZone('florist.example', (t) => t.replace('"v=mc1 auth=dreamhost"', '"v=mc1 auth=newhostmc"'));
    w.clock.advance(DAY);
    const o2 = await runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter(), baseUrl: 'https://panel.example/mh', serverName: 'server1' });
    night2 = o2.doc;
  });
  after(() => w?.close());

  test('night 1: first complete run, everything failing is new, clean.example is clean', () => {
    assert.equal(night1.previousRunId, null);
    assert.equal(night1.summary.domains, 6);
    assert.equal(night1.stillFailing.length, 0);
    assert.ok(night1.newProblems.some((i) => key(i) === 'florist.example lockdown.stale-auth'));
    assert.ok(!night1.newProblems.some((i) => i.domain === 'clean.example'));
    assert.equal(w.store.getRun(night1.runId)?.status, 'complete');
  });

  test('night 2: clean.example new, florist lockdown resolved, the rest still failing for 2 nights', () => {
    assert.equal(night2.previousRunId, night1.runId);
    const newDomains = new Set(night2.newProblems.map((i) => i.domain));
    assert.deepEqual([...newDomains], ['clean.example']);
    assert.ok(night2.newProblems.some((i) => i.rule.startsWith('spf.') && i.severity === 'fail'), JSON.stringify(night2.newProblems));
    assert.deepEqual(night2.resolved.map(key), ['florist.example lockdown.stale-auth']);
    assert.equal(night2.resolved[0].reason, 'fixed');
    assert.equal(night2.unknown.length, 0);
    // Everything else from night 1 is still failing, 2 nights.
    const n1 = new Set(night1.newProblems.map((i) => `${key(i)} ${i.subject}`));
    n1.delete('florist.example lockdown.stale-auth auth=dreamhost');
    assert.deepEqual(new Set(night2.stillFailing.map((i) => `${key(i)} ${i.subject}`)), n1);
    assert.ok(night2.stillFailing.length > 5);
    for (const s of night2.stillFailing) assert.equal(s.nights, 2, key(s));
    // Owners and resellers come from the panel.
    const plumber = night2.stillFailing.find((i) => i.domain === 'plumber.example');
    assert.deepEqual([plumber?.owner, plumber?.reseller], ['bob', 'rita']);
    const bakery = night2.stillFailing.find((i) => i.domain === 'bakery.example');
    assert.deepEqual([bakery?.owner, bakery?.reseller], ['alice', null]);
    assert.deepEqual(night2.trend.map((t) => t.runId), [night1.runId, night2.runId]);
    assert.equal(night2.trend[1].failing, night2.summary.failingDomains);
  });

  test('results are in history and the report is saved', () => {
    const results = w.store.runResults(night2.runId);
    assert.equal(results.length, 6);
    assert.equal(results.find((r) => r.domain === 'lawyer.example')?.owner, 'carol');
    const saved = w.store.getReport(night2.runId);
    assert.ok(saved);
    assert.deepEqual((saved.json as ReportDoc).resolved.map(key), ['florist.example lockdown.stale-auth']);
    assert.match(saved.html, /<svg/);
    assert.match(saved.html, /href="https:\/\/panel\.example\/mh\/domains\/clean\.example"/);
    assert.match(saved.text, /Still failing/);
    const run = w.store.getRun(night2.runId);
    assert.equal(run?.kind, 'report');
    assert.equal(run?.done, 6);
    assert.equal(w.store.lockHolder(REPORT_LOCK), null, 'lock released');
  });
});

describe('nightly report: interrupted runs, stale runs and the lock', () => {
  let w: TestWorld;
  before(async () => {
    w = await startWorld();
  });
  after(() => w?.close());

  test('a run killed halfway is left interrupted and never compared with', async () => {
    const first = await runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter() });
    w.clock.advance(DAY);
    // Night 2 dies after 2 domains (concurrency 1, so exactly 2 are audited).
    const kill = killAfterDomains(w.panel, 2);
    await assert.rejects(
      runReport({ store: w.store, panel: kill.panel, resolver: w.resolver(), limiter: kill.limiter, concurrency: 1 }),
      (e: unknown) => e instanceof ReportInterruptedError && /killed mid-run/.test(e.message),
    );
    const [dead] = w.store.listRuns({ kind: 'report', limit: 1 });
    assert.equal(dead.status, 'interrupted');
    assert.notEqual(dead.id, first.runId);
    assert.equal(w.store.runResults(dead.id).length, 2, 'the two domains audited before the kill are kept');
    assert.equal(w.store.getReport(dead.id), null, 'no report for an interrupted run');
    assert.equal(w.store.lockHolder(REPORT_LOCK), null);

    // Meanwhile florist.example gets fixed; night 3 compares with night 1 (the last complete run).
    w.editZone('florist.example', (t) => t.replace('"v=mc1 auth=dreamhost"', '"v=mc1 auth=newhostmc"'));
    w.clock.advance(DAY);
    const third = await runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter() });
    assert.equal(third.previousRunId, first.runId);
    assert.deepEqual(third.doc.skippedRuns.map((r) => [r.runId, r.status]), [[dead.id, 'interrupted']]);
    assert.deepEqual(third.doc.resolved.map(key), ['florist.example lockdown.stale-auth']);
    assert.equal(third.doc.newProblems.length, 0);
    for (const s of third.doc.stillFailing) assert.equal(s.nights, 2, 'the interrupted night does not count');
  });

  test('a run left `running` by a dead process is marked interrupted by the next run (after its lock lease ran out)', async () => {
    // A process took the lock and started a run, then died (SIGKILL: nothing cleaned up).
    assert.ok(w.store.tryLock(REPORT_LOCK, 'dead-process', 60_000));
    const orphan = w.store.startRun('report', 'root', 6);
    // While its lease holds, another run is refused.
    await assert.rejects(
      runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter() }),
      (e: unknown) => e instanceof StoreError && e.code === 'locked' && /dead-process/.test(e.message),
    );
    assert.equal(w.store.getRun(orphan)?.status, 'running');
    w.clock.advance(61_000);
    const next = await runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter() });
    assert.deepEqual(next.interruptedRuns, [orphan]);
    assert.equal(w.store.getRun(orphan)?.status, 'interrupted');
    assert.ok(next.previousRunId !== orphan);
    assert.equal(w.store.getRun(next.runId)?.status, 'complete');
  });

  test('two runs at once in one process: the second is refused by the SQLite lock', async () => {
    const a = runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter() });
    await assert.rejects(
      runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter() }),
      (e: unknown) => e instanceof StoreError && e.code === 'locked',
    );
    const done = await a;
    assert.equal(w.store.getRun(done.runId)?.status, 'complete');
  });

  test('an aborted run (scheduler stopping) is left interrupted', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(
      runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter(), signal: ac.signal }),
      ReportInterruptedError,
    );
    assert.equal(w.store.listRuns({ kind: 'report', limit: 1 })[0].status, 'interrupted');
  });

  test('the run goes through the limiter (polite DNS rate) and only the admin may run it', async () => {
    const lim = countingLimiter();
    await runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: lim });
    assert.ok(lim.taken > 20, `queries went through the limiter: ${lim.taken}`);
    await assert.rejects(
      runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter(), identity: { user: 'rita', role: 'reseller' } }),
      /as the admin/,
    );
    assert.ok(NIGHT1 < w.clock.t);
  });
});
