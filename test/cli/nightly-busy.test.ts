// QA (repro-nightly-busy.sh): the background service's nightly report met a history database another process held as
// the run started — "nightly report failed: … locked", no run recorded, nobody told, nothing tried again before the
// next slot (tomorrow). Now the night is tried again after a wait (a few tries over a few minutes; the waits injected
// here, no wall clock), and when the database is still held after the last, the night is recorded and the admin's
// recipients get a notice, as for a panel that cannot be read.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { startNightlyReport, type NightlySeams } from '../../src/cli/nightly.js';
import type { MailMessage } from '../../src/adapters/mail/deliver.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { startWorld, type TestWorld } from '../cron/world.js';
import { fakeSchedule } from '../cron/fake-schedule.js';
import { holder, type DbHolder } from '../helpers/db-holder.js';

/** The service's waits before each further try (NIGHTLY_BUSY_RETRY_MS in src/cli/nightly.ts). */
const NIGHTLY_BUSY_RETRY_MS = [30_000, 60_000, 120_000];

/** The store with the database taken by `h` just before the run is first recorded (startRun), as QA's preload did. */
function heldBeforeStartRun(store: Store, h: DbHolder): Store {
  let once = false;
  return new Proxy(store, {
    get(target, prop) {
      const v: unknown = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      const fn = (v as (...a: unknown[]) => unknown).bind(target);
      if (prop !== 'startRun') return fn;
      return (...a: unknown[]) => {
        if (!once) h.hold();
        once = true;
        return fn(...a);
      };
    },
  });
}

describe('the service\'s nightly report: the history database busy as the run starts', () => {
  let w: TestWorld;
  let busyStore: Store;
  let h: DbHolder;
  let sent: MailMessage[];
  let logs: string[];
  beforeEach(async () => {
    w = await startWorld();
    w.store.setSetting('report.dnsQps', 100_000);
    w.store.setSetting('report.recipients', ['admin@newhost.example']);
    w.store.setSetting('report.serverName', 'server1.newhost.example');
    const path = join(w.dir, 'mailhealth.sqlite');
    // The service's connection waits only briefly for the lock (the default 2 s would only make the test slower).
    busyStore = openStore(path, { now: w.clock.now, busyTimeoutMs: 20 });
    h = holder(path);
    sent = [];
    logs = [];
  });
  afterEach(async () => {
    h.close();
    busyStore.close();
    await w.close();
  });

  async function night(sleep: NonNullable<NightlySeams['sleep']>, busyRetryMs?: number[]) {
    const nightly = startNightlyReport({ resolver: w.dns.address, authoritativePort: w.dns.port, reportCron: '0 3 * * *', reportTz: 'UTC' }, w.panel, heldBeforeStartRun(busyStore, h), {
      schedule: fakeSchedule().schedule,
      log: (m) => logs.push(m),
      mailer: { async sendMail(m) { sent.push(m); } },
      sleep,
      ...(busyRetryMs ? { busyRetryMs } : {}),
    } as NightlySeams);
    try {
      return await nightly.scheduler.tick();
    } finally {
      await nightly.stop();
    }
  }

  test('the database free again by the next try: the night runs after the wait, its report saved and mailed', async () => {
    const sleeps: number[] = [];
    const outcome = await night(async (ms) => {
      sleeps.push(ms);
      // The other process commits while the service waits to try the night again — not before: the first try could
      // not even release its report lock, which the next try (same night, same owner) takes back.
      if (ms === NIGHTLY_BUSY_RETRY_MS[0]) h.release();
    });
    assert.equal(outcome, 'ran', logs.join('\n'));
    assert.ok(sleeps.includes(NIGHTLY_BUSY_RETRY_MS[0]), `waited ${NIGHTLY_BUSY_RETRY_MS[0]} ms before trying again (${sleeps.join(', ')})`);
    const first = sleeps.indexOf(NIGHTLY_BUSY_RETRY_MS[0]);
    assert.ok(first >= 3 && sleeps.slice(0, first).every((ms) => ms === 1000), `the first try's lock release was tried in vain first (${sleeps.join(', ')})`);
    assert.ok(logs.some((l) => /^nightly report: the history database is busy \(.*locked.*\); trying again in 30 s \(try 2 of 4\)$/.test(l)), logs.join('\n'));
    const runs = w.store.listRuns({ kind: 'report' });
    assert.deepEqual(runs.map((r) => r.status), ['complete']);
    assert.ok(w.store.getReport(runs[0].id), 'the report is saved');
    assert.deepEqual(sent.map((m) => m.to), ['admin@newhost.example']);
    assert.match(sent[0].subject, /nightly report/);
    assert.doesNotMatch(sent[0].subject, /not run/);
    assert.ok(!logs.some((l) => /nightly report failed/.test(l)), logs.join('\n'));
    assert.ok(logs.some((l) => /^history pruned:/.test(l)));
  });

  test('still busy after every try: the night is recorded as failed, the admin gets the notice, the tick fails', async () => {
    const sleeps: number[] = [];
    const waits = [5_000, 7_000];
    const outcome = await night(async (ms) => {
      sleeps.push(ms);
      // The other process lets go only once the service has given up (while it records the failed night).
      if (sleeps.includes(waits[waits.length - 1]) && !waits.includes(ms)) h.release();
    }, waits);
    assert.equal(outcome, 'failed');
    for (const ms of waits) assert.ok(sleeps.includes(ms), `waited ${ms} (${sleeps.join(', ')})`);
    assert.ok(logs.some((l) => /trying again in 5 s \(try 2 of 3\)$/.test(l)), logs.join('\n'));
    assert.ok(logs.some((l) => /trying again in 7 s \(try 3 of 3\)$/.test(l)), logs.join('\n'));
    assert.ok(logs.some((l) => /^nightly report failed: .*locked/.test(l)), logs.join('\n'));

    const runs = w.store.listRuns({ kind: 'report' });
    assert.equal(runs.length, 1, 'one failed run recorded, nothing left running');
    const [failed] = runs;
    assert.equal(failed.status, 'interrupted');
    assert.equal(failed.byUser, 'root');
    assert.equal((failed.meta as { failed: string }).failed, 'database');
    assert.match((failed.meta as { reason: string }).reason, /locked by another process/);
    assert.equal(w.store.getReport(failed.id), null, 'no report: nothing was audited');

    assert.deepEqual(sent.map((m) => m.to), ['admin@newhost.example']);
    assert.equal(sent[0].subject, 'mailhealth nightly report — server1.newhost.example: not run, the history database was busy');
    assert.match(sent[0].text, /^mailhealth could not use its history database: .*locked by another process.*; no audit ran tonight\.\n/);
    assert.match(sent[0].text, new RegExp(`\\(report run ${failed.id}, recorded as not complete\\)`));
    assert.match(sent[0].text, /each time the report tried to start \(3 tries over 12 s\)/);
    assert.deepEqual(w.store.deliveries(failed.id).map((d) => [d.recipient, d.ok]), [['admin@newhost.example', true]]);
    assert.ok(!logs.some((l) => /^history pruned/.test(l)), 'no prune on a night nothing ran');
  });

  test('another report run holding the report lock is not a busy database: no retry, no notice', async () => {
    w.store.tryLock('report', 'report:otherhost:1:abc', 60 * 60_000);
    const sleeps: number[] = [];
    const outcome = await night(async (ms) => void sleeps.push(ms));
    assert.equal(outcome, 'failed');
    assert.deepEqual(sleeps, []);
    assert.ok(logs.some((l) => /^nightly report failed: another report run is in progress/.test(l)), logs.join('\n'));
    assert.deepEqual(w.store.listRuns({ kind: 'report' }), []);
    assert.deepEqual(sent, []);
  });

  test('the service stopping during the wait ends the night at once (no further tries)', async () => {
    const sleeps: number[] = [];
    let abortedInWait: boolean | undefined;
    let stop: (() => Promise<void>) | undefined;
    const nightly = startNightlyReport({ resolver: w.dns.address, authoritativePort: w.dns.port, reportCron: '0 3 * * *', reportTz: 'UTC' }, w.panel, heldBeforeStartRun(busyStore, h), {
      schedule: fakeSchedule().schedule,
      log: (m) => logs.push(m),
      mailer: { async sendMail(m) { sent.push(m); } },
      sleep: async (ms: number, signal?: AbortSignal) => {
        sleeps.push(ms);
        if (ms === NIGHTLY_BUSY_RETRY_MS[0]) {
          void stop?.(); // SIGTERM while the service waits
          await new Promise((r) => setImmediate(r));
          abortedInWait = signal?.aborted;
        }
      },
    } as NightlySeams);
    stop = () => nightly.stop();
    const outcome = await nightly.scheduler.tick();
    await nightly.stop();
    assert.equal(outcome, 'failed');
    assert.equal(abortedInWait, true, 'the wait is told the service stops');
    assert.equal(sleeps.filter((ms) => NIGHTLY_BUSY_RETRY_MS.includes(ms)).length, 1, sleeps.join(', '));
    assert.ok(logs.some((l) => /^nightly report failed: .*locked by another process/.test(l)), logs.join('\n'));
    assert.deepEqual(w.store.listRuns({ kind: 'report' }), [], 'a stop is no failed night: nothing recorded');
    assert.deepEqual(sent, []);
  });
});

test('the database held all night, so not even the failed night can be recorded: the admin is told all the same (review)', async () => {
  const w = await startWorld();
  w.store.setSetting('report.dnsQps', 100_000);
  w.store.setSetting('report.recipients', ['admin@newhost.example']);
  const path = join(w.dir, 'mailhealth.sqlite');
  const busyStore = openStore(path, { now: w.clock.now, busyTimeoutMs: 20 });
  const h = holder(path);
  h.hold(); // from before the night starts, never released during it
  const sent: MailMessage[] = [];
  const logs: string[] = [];
  const nightly = startNightlyReport({ resolver: w.dns.address, authoritativePort: w.dns.port, reportCron: '0 3 * * *', reportTz: 'UTC' }, w.panel, busyStore, {
    schedule: fakeSchedule().schedule,
    log: (m) => logs.push(m),
    mailer: {
      async sendMail(m) {
        sent.push(m);
      },
    },
    sleep: async () => {},
    busyRetryMs: [5_000, 7_000],
  } as NightlySeams);
  let outcome: unknown;
  try {
    outcome = await nightly.scheduler.tick();
  } finally {
    await nightly.stop();
    h.close();
  }
  const runs = w.store.listRuns({ kind: 'report' });
  busyStore.close();
  await w.close();
  assert.equal(outcome, 'failed');
  assert.deepEqual(runs, [], 'nothing could be recorded');
  assert.equal(sent.length, 1, logs.join('\n'));
  assert.deepEqual(sent[0].to, 'admin@newhost.example');
  assert.match(sent[0].subject, /history database/);
  assert.ok(logs.some((l) => /its notice is sent without a record of its mails/.test(l)), logs.join('\n'));
});
