// Bulk jobs against a busy history database: another process holding a write transaction (BEGIN IMMEDIATE on a second
// SQLite connection to the same file) past the store's busy timeout, as a report run or an admin's sqlite3 may.
// QA (real processes): after one such moment a bulk fix job stopped — an applied domain "no outcome", the domains after
// it skipped, the raw SQLite error with the server's database path on the reseller's page — or, with a long hold, stayed
// "running, 0 of 8" for ever although every change was written. Now a short spell is waited out as the fix path waits
// out its own (jobs.ts BusyWait); a long one ends the job once the database is free, with every outcome and words a
// reseller can act on; a job a restart interrupted shows what History holds of the domains it could not record.
//
// No clock: the other connection takes the write lock just before the job's own write (recordJobItem, updateJob) and
// gives it back right after, so only the job's writes meet it — never the fixes' — and it is released after a counted
// number of failed tries, not after a time. The app's store waits 20 ms for a lock, the job's pauses are 0.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { openStore, StoreError, type Store } from '../../src/adapters/store/store.js';
import type { Panel } from '../../src/core/panel.js';
import { createApp, type MailhealthApp } from '../../src/web/app.js';
import { capturingLog } from './failing-store.js';
import { login, NO_LIMITS, type Session } from './helpers.js';
import { planValues, whmWorld, type WhmWorld } from './shared-zone-world.js';

const DOMAINS = ['res1.example', 'alice.example', 'alice-shop.example', 'blog.alice.example', 'bob.example'];
const outcomes = (html: string) => Object.fromEntries([...html.matchAll(/data-domain="([^"]+)" data-outcome="([a-z]+)"/g)].map((m) => [m[1], m[2]]));
const jobIdOf = (location: string | undefined) => Number(/^\/bulk\/fix\/jobs\/(\d+)$/.exec(location ?? '')?.[1]);
/** The store's own words for a busy database (toStoreError), and SQLite's. */
const RAW = /SQLITE_|locked by another process|database is locked/;

let w: WhmWorld | undefined;
let store: Store | undefined;
afterEach(async () => {
  store?.close();
  store = undefined;
  await w?.close();
  w = undefined;
});

/**
 * The WHM world, served by an app whose store gives up on a held database after 20 ms (the default: 2 s). `wrapPanel`:
 * the panel the app acts through.
 */
async function busyWorld(wrapPanel: (p: Panel) => Panel = (p) => p): Promise<{ app: MailhealthApp; store: Store; res1: Session; dbPath: string }> {
  w = await whmWorld();
  store = openStore(w.store.path, { busyTimeoutMs: 20 });
  const app = createApp({ panel: wrapPanel(w.panel), store, makeResolver: w.makeResolver, identityFrom: 'session', rateLimits: NO_LIMITS });
  app.runner.fixInlineMax = 0; // every bulk fix answers with its job's page
  app.runner.busyWait = { attempts: 4, pauseMs: 0, laterMs: [0] };
  return { app, store, res1: await login(app, 'res1'), dbPath: w.store.path };
}

/** Another process's write transaction on the file, for the length of one call. */
function heldDuring<T>(dbPath: string, fn: () => T): T {
  const other = new Database(dbPath);
  other.exec('BEGIN IMMEDIATE');
  try {
    return fn();
  } finally {
    other.exec('COMMIT');
    other.close();
  }
}

/**
 * The job's writes (`methods` of `store`) meet a held database from the first call of `from` on, until `release()`
 * decides it is over (asked after each failed try, with how many there were). Counts the busy errors they got.
 */
function holdJobWrites(store: Store, dbPath: string, from: keyof Store, methods: (keyof Store)[], release: (failures: number, args: unknown[]) => boolean) {
  const state = { holding: false, started: false, failures: 0, errors: [] as string[] };
  for (const m of methods) {
    const orig = (store[m] as (...a: unknown[]) => unknown).bind(store);
    (store as unknown as Record<string, unknown>)[m] = (...args: unknown[]) => {
      if (!state.started && m === from) state.started = state.holding = true;
      if (!state.holding) return orig(...args);
      try {
        return heldDuring(dbPath, () => orig(...args));
      } catch (e) {
        state.failures++;
        state.errors.push((e as Error).message);
        if (release(state.failures, args)) state.holding = false;
        throw e;
      }
    };
  }
  return state;
}

/** Previews the SPF fix of the five domains and applies it (after `beforeApply`): the job's id. */
async function startFix(res1: Session, beforeApply = () => {}): Promise<number> {
  const page = await res1.agent.post('/bulk/fix/preview').type('form').send({ _csrf: res1.csrf, check: 'spf', domains: DOMAINS });
  const plans = planValues(page.text);
  assert.equal(plans.length, 5, page.text.slice(0, 500));
  beforeApply();
  const started = await res1.agent.post('/bulk/fix/apply').type('form').send({ _csrf: res1.csrf, check: 'spf', plan: plans }).expect(303);
  const id = jobIdOf(started.headers.location);
  assert.ok(id > 0, started.headers.location);
  return id;
}

/** The job's end written, however long the database stayed busy (BulkRunner.settled; the old runner had wait() only). */
const settled = (app: MailhealthApp, id: number) => (typeof app.runner.settled === 'function' ? app.runner.settled(id) : app.runner.wait(id));

/** Nothing the reseller sees names the server's database or quotes SQLite. */
function assertNoRawError(text: string, dbPath: string): void {
  assert.ok(!text.includes(dbPath), `the server's database path is shown:\n${text.slice(0, 3000)}`);
  assert.doesNotMatch(text, RAW);
}

describe('a bulk fix job and a busy history database', () => {
  test('a short busy spell on an outcome is waited out: the job completes with every domain applied', { timeout: 60_000 }, async () => {
    const { app, store, res1, dbPath } = await busyWorld();
    // Held during the job's first write only: that try meets it, the next one does not.
    const hold = holdJobWrites(store, dbPath, 'recordJobItem', ['recordJobItem'], () => true);
    const id = await startFix(res1);
    await app.runner.wait(id);
    assert.equal(hold.failures, 1, 'the first outcome met the held database once');
    assert.match(hold.errors[0], /locked/);
    const job = store.getJob(id)!;
    assert.deepEqual([job.status, job.done, job.failed, job.error], ['complete', 5, 0, null]);
    const page = await res1.agent.get(`/bulk/fix/jobs/${id}`).expect(200);
    assert.deepEqual(outcomes(page.text), Object.fromEntries(DOMAINS.map((d) => [d, 'applied'])), page.text);
    assertNoRawError(page.text, dbPath);
  });

  test('a long busy spell: the job starts nothing more, and once the database is free it ends with every outcome and its reason', { timeout: 60_000 }, async () => {
    // alice.example's zone is read only once the job has given up on its first outcome, so that the next domain of its
    // zone group (blog.alice.example, fixed after it) comes when the job starts nothing more.
    let stopped: () => void = () => {};
    const jobStopped = new Promise<void>((resolve) => (stopped = resolve));
    let gated = false;
    const gate = (p: Panel): Panel =>
      new Proxy(p, {
        get: (t, prop) => {
          const v = (t as unknown as Record<string | symbol, unknown>)[prop];
          if (prop !== 'readZone') return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
          return async (domain: string) => {
            if (gated && domain === 'alice.example') await jobStopped;
            return t.readZone(domain);
          };
        },
      });
    const { app, store, res1, dbPath } = await busyWorld(gate);
    // Busy for the job's first outcome (its 4 tries) and its end's first 6 tries; free from the 11th try on. alice.example
    // goes on once the job gave up (4 tries), or once the three others' outcomes were tried (the old code: one try each).
    const tried = new Set<string>();
    const hold = holdJobWrites(store, dbPath, 'recordJobItem', ['recordJobItem', 'updateJob'], (n, args) => {
      if (typeof args[1] === 'object' && args[1] !== null) tried.add((args[1] as { domain: string }).domain);
      if (n === 4 || tried.size === 3) stopped();
      return n >= 10;
    });
    const id = await startFix(res1, () => (gated = true));
    // Its domains done, its end tried once: what a request that waits for the job (BULK_FIX_INLINE) waits for — not
    // for the database (the job's page follows it meanwhile).
    await app.runner.wait(id);
    if (typeof app.runner.settled === 'function') {
      assert.equal(hold.failures, 5);
      assert.equal(store.getJob(id)!.status, 'running');
    }
    await settled(app, id);
    // On the old code the job was left "running" here, with no worker: free the database to see it.
    hold.holding = false;
    const job = store.getJob(id)!;
    const applied = store.changesForDomains(DOMAINS, 20).filter((c) => c.status === 'applied');
    // The four domains started before the job gave up were written (one per zone group); blog.alice.example was not.
    assert.deepEqual(applied.map((c) => c.domain).sort(), ['alice-shop.example', 'alice.example', 'bob.example', 'res1.example']);
    assert.equal(job.status, 'failed', `the job ended (${job.status}, ${job.done} of ${job.total})`);
    assert.equal(hold.failures, 10, 'the first outcome tried 4 times, the end until the database was free');
    assert.deepEqual([job.done, job.failed], [5, 1], 'every domain has its outcome; the one not reached is not applied');
    assert.equal(
      job.error,
      'the history database stayed busy (another mailhealth process held it longer than a job can wait), so it started no more domains; 4 domains were applied — each below with its change, and in History',
    );
    assert.deepEqual(store.jobItems(id).items.map((i) => i.domain).sort(), [...DOMAINS].sort());

    const page = await res1.agent.get(`/bulk/fix/jobs/${id}`).expect(200);
    assertNoRawError(page.text, dbPath);
    assert.match(page.text, /id="fix-job-status">failed</);
    assert.doesNotMatch(page.text, /http-equiv="refresh"|bulk-fix\.js/, 'the page no longer follows a finished job');
    assert.match(page.text, /The fix stopped: the history database stayed busy .*; 4 domains were applied — each below with its change, and in History\./);
    // Every domain written is shown applied with its change; the other as not reached because of the database.
    assert.deepEqual(outcomes(page.text), { ...Object.fromEntries(applied.map((c) => [c.domain, 'applied'])), 'blog.alice.example': 'skipped' });
    for (const ch of applied) assert.match(page.text, new RegExp(`data-domain="${ch.domain.replace(/\./g, '\\.')}"[^]*?change #${ch.id}\\)`));
    assert.match(
      page.text,
      /data-domain="blog\.alice\.example"[^]*?Not applied: the history database stayed busy \(another mailhealth process held it longer than a job can wait\), so this bulk fix stopped before this domain\./,
    );
    assert.doesNotMatch(page.text, /cancelled before it reached/);
    assert.equal(store.changesForDomains(['blog.alice.example'], 5).length, 0, 'nothing written for it');
    const api = await res1.agent.get(`/api/jobs/${id}`).expect(200);
    assertNoRawError(JSON.stringify(api.body), dbPath);
    assert.equal(api.body.status, 'failed');
    assert.equal(api.body.results.length, 5);
  });

  test('a bulk fix applied within its request (a few domains) answers while the database is held; the job ends once it is free', { timeout: 60_000 }, async () => {
    const { app, store, res1, dbPath } = await busyWorld();
    app.runner.fixInlineMax = 10; // as served: five domains are answered once done
    app.runner.busyWait = { attempts: 4, pauseMs: 0, laterMs: [5] };
    const hold = holdJobWrites(store, dbPath, 'recordJobItem', ['recordJobItem', 'updateJob'], () => false);
    const id = await startFix(res1);
    assert.ok(hold.holding && hold.failures >= 5, 'answered while the database is still held');
    const running = await res1.agent.get(`/bulk/fix/jobs/${id}`).expect(200);
    assert.match(running.text, /id="fix-job-status">running</);
    assert.match(running.text, /This page updates itself every 5 seconds until the fix is done/);
    assertNoRawError(running.text, dbPath);
    hold.holding = false;
    await settled(app, id);
    const job = store.getJob(id)!;
    assert.equal(job.status, 'failed');
    assert.equal(job.done, 5);
    const page = await res1.agent.get(`/bulk/fix/jobs/${id}`).expect(200);
    assert.match(page.text, /The fix stopped: the history database stayed busy/);
    const applied = store.changesForDomains(DOMAINS, 20).filter((c) => c.status === 'applied');
    assert.deepEqual(
      Object.entries(outcomes(page.text)).filter(([, o]) => o === 'applied').map(([d]) => d).sort(),
      applied.map((c) => c.domain).sort(),
    );
  });

  test('a job a restart interrupted before it could record its outcomes shows each applied domain with its change, from History', { timeout: 60_000 }, async () => {
    const { app, store, res1, dbPath } = await busyWorld();
    let stuck: () => void = () => {};
    const waiting = new Promise<void>((resolve) => (stuck = resolve));
    // Held for good: the job waits for the database (its end's tries) until the process stops.
    const hold = holdJobWrites(store, dbPath, 'recordJobItem', ['recordJobItem', 'updateJob'], (n) => {
      if (n === 6) stuck();
      return false;
    });
    const id = await startFix(res1);
    await waiting;
    await app.runner.stop(); // serve's SIGTERM: the job gives up its end, its store is about to close
    hold.holding = false;
    assert.equal(store.getJob(id)!.status, 'running');
    assert.equal(store.jobItems(id).items.length, 0, 'no outcome could be recorded');
    store.interruptUnfinishedJobs(); // the next start
    const applied = store.changesForDomains(DOMAINS, 20).filter((c) => c.status === 'applied');
    assert.ok(applied.length >= 1, 'the fixes in flight were written');
    const page = await res1.agent.get(`/bulk/fix/jobs/${id}`).expect(200);
    assert.match(page.text, /id="fix-job-status">interrupted</);
    const got = outcomes(page.text);
    for (const ch of applied) {
      assert.equal(got[ch.domain], 'applied', `${ch.domain}: ${JSON.stringify(got)}`);
      assert.match(page.text, new RegExp(`data-domain="${ch.domain.replace(/\./g, '\\.')}"[^]*?change #${ch.id}\\)`));
    }
    // A domain the job never wrote keeps "no outcome" (nothing in History says otherwise).
    for (const d of DOMAINS.filter((x) => !applied.some((c) => c.domain === x))) assert.equal(got[d], 'none', `${d}: ${JSON.stringify(got)}`);
    const api = await res1.agent.get(`/api/jobs/${id}`).expect(200);
    assert.deepEqual(
      api.body.results.map((r: { domain: string; changeId: number }) => [r.domain, r.changeId]).sort(),
      applied.map((c) => [c.domain, c.id]).sort(),
    );
  });
});

describe('a bulk fix outcome that quotes a failing store', () => {
  test("the domain's row says the history failed in words of its own: no database path, no SQLite code", { timeout: 60_000 }, async () => {
    const { app, store, res1, dbPath } = await busyWorld();
    // The disk full just after res1.example's zone was written: apply answers "applied", its message naming the cause.
    const settle = store.settleIntent.bind(store);
    store.settleIntent = ((id: number, outcome: Parameters<Store['settleIntent']>[1]) => {
      if (store.getChange(id)?.domain === 'res1.example' && outcome.status === 'applied') {
        throw new StoreError('io', `cannot read or write the mailhealth database ${dbPath} (SQLITE_FULL: database or disk is full)`);
      }
      return settle(id, outcome);
    }) as Store['settleIntent'];
    const { result: id, log } = await capturingLog(async () => {
      const started = await startFix(res1);
      await settled(app, started);
      return started;
    });
    const item = store.jobItems(id).items.find((i) => i.domain === 'res1.example')!;
    assert.equal(item.status, 'applied');
    assertNoRawError(JSON.stringify(item.detail), dbPath);
    const page = await res1.agent.get(`/bulk/fix/jobs/${id}`).expect(200);
    assertNoRawError(page.text, dbPath);
    // Core's message in its own words: the zone was written, the change is pending until it is settled.
    assert.match(
      page.text,
      /data-domain="res1\.example"[^]*?the zone was written, but its outcome could not be recorded yet: the history database could not be read or written\. The history shows change \d+ as pending/,
    );
    // The store's own error (core's HistoryFault on the outcome) is in the server's log.
    assert.match(log, new RegExp(`bulk fix job ${id}: res1\\.example: the history database failed: cannot read or write the mailhealth database ${dbPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(SQLITE_FULL`));
    assert.equal(store.getJob(id)!.status, 'complete');
  });
});

describe('a bulk audit job and a busy history database', () => {
  test('a long busy spell on its results: the job ends once the database is free, its results recorded, no SQLite words', { timeout: 60_000 }, async () => {
    const { app, store, res1, dbPath } = await busyWorld();
    const hold = holdJobWrites(store, dbPath, 'recordPreparedAudits', ['recordPreparedAudits', 'updateJob', 'finishRun'], (n) => n >= 8);
    const refs = (await w!.panel.listDomains({ user: 'res1', role: 'reseller' })).filter((r) => DOMAINS.includes(r.domain));
    assert.equal(refs.length, 5);
    const id = app.runner.start({ user: 'res1', role: 'reseller' }, refs, {});
    await settled(app, id);
    hold.holding = false;
    const job = store.getJob(id)!;
    assert.notEqual(job.status, 'running', 'the job ended');
    assert.equal(hold.failures, 8, 'its writes were tried until the database was free');
    // Whether its results met the database while it ran (it stopped) or only at its end (it completed) depends on how
    // fast the audits came (results are written every 250 ms): either way it ended, with its results.
    assert.ok(job.status === 'complete' || job.status === 'failed', job.status);
    if (job.status === 'failed') assert.match(job.error!, /^stopped: the history database stayed busy \(another mailhealth process held it longer than a job can wait\); the \d+ domains? audited before it are recorded$/);
    assert.equal(store.getRun(job.runId!)!.status, job.status === 'failed' ? 'interrupted' : 'complete');
    assert.equal(store.runResults(job.runId!).length, job.done);
    const bulk = await res1.agent.get('/bulk').expect(200);
    assertNoRawError(bulk.text, dbPath);
    assert.match(bulk.text, new RegExp(`data-job-id="${id}" data-status="${job.status}"`));
  });
});
