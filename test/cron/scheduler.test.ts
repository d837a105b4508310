import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nextRuns, startScheduler } from '../../src/cron/scheduler.js';
import { ScheduleError, validateCronExpr } from '../../src/adapters/schedule/expression.js';
import { rateLimitedResolver, TokenBucket } from '../../src/cron/ratelimit.js';
import type { Answer, Resolver, RRType } from '../../src/core/resolver.js';
import { fakeSchedule } from './fake-schedule.js';

const FROM = new Date('2026-03-27T12:00:00.000Z');

describe('schedule parsing', () => {
  test('default 03:00 daily, in a given time zone', () => {
    assert.deepEqual(
      nextRuns('0 3 * * *', 'UTC', FROM, 3).map((d) => d.toISOString()),
      ['2026-03-28T03:00:00.000Z', '2026-03-29T03:00:00.000Z', '2026-03-30T03:00:00.000Z'],
    );
    // Europe/Amsterdam switches to summer time on 2026-03-29: 03:00 local is 02:00Z, then 01:00Z.
    assert.deepEqual(
      nextRuns('0 3 * * *', 'Europe/Amsterdam', FROM, 3).map((d) => d.toISOString()),
      ['2026-03-28T02:00:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T01:00:00.000Z'],
    );
    assert.deepEqual(nextRuns('30 2 * * 1', 'Asia/Kolkata', FROM, 1).map((d) => d.toISOString()), ['2026-03-29T21:00:00.000Z']);
  });

  test('strictly after `from`, every 30 minutes, monthly', () => {
    assert.deepEqual(nextRuns('0 3 * * *', 'UTC', new Date('2026-03-28T03:00:00.000Z'), 1)[0].toISOString(), '2026-03-29T03:00:00.000Z');
    assert.deepEqual(nextRuns('*/30 * * * *', 'UTC', FROM, 2).map((d) => d.toISOString()), ['2026-03-27T12:30:00.000Z', '2026-03-27T13:00:00.000Z']);
    assert.deepEqual(nextRuns('0 4 1 * *', 'UTC', FROM, 2).map((d) => d.toISOString()), ['2026-04-01T04:00:00.000Z', '2026-05-01T04:00:00.000Z']);
  });

  test('clear errors for a bad expression or time zone', () => {
    assert.throws(() => validateCronExpr('0 25 * * *'), (e: unknown) => e instanceof ScheduleError && /0 25 \* \* \*/.test(e.message) && /hour/i.test(e.message));
    assert.throws(() => validateCronExpr('every night'), ScheduleError);
    assert.throws(() => validateCronExpr(''), /empty/);
    // Five fields only, as the settings page: node-cron's seconds-first six fields would shift every field.
    for (const six of ['0 3 * * * *', '* * * * * *', '15 */30 * * * *']) {
      assert.throws(() => validateCronExpr(six), (e: unknown) => e instanceof ScheduleError && /6 fields, not five\. Five cron fields, e\.g\. "0 3 \* \* \*"/.test(e.message));
      assert.throws(() => nextRuns(six, 'UTC', FROM, 1), ScheduleError);
      assert.throws(() => startScheduler({ cronExpr: six, run: async () => {}, schedule: fakeSchedule().schedule }), ScheduleError);
    }
    assert.throws(() => nextRuns('0 3 * * *', 'Mars/Olympus', FROM, 1), /unknown time zone "Mars\/Olympus"/);
    assert.throws(() => startScheduler({ cronExpr: '61 3 * * *', run: async () => {}, schedule: fakeSchedule().schedule }), ScheduleError);
  });
});

function deferred() {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('scheduler', () => {
  test('hands node-cron the expression and time zone; defaults to 03:00', () => {
    const fake = fakeSchedule();
    const s = startScheduler({ run: async () => {}, schedule: fake.schedule, now: () => FROM });
    assert.equal(fake.calls[0].expr, '0 3 * * *');
    assert.equal(s.cronExpr, '0 3 * * *');
    const fake2 = fakeSchedule();
    const s2 = startScheduler({ cronExpr: '0 4 * * *', timezone: 'Europe/Amsterdam', run: async () => {}, schedule: fake2.schedule, now: () => FROM });
    assert.deepEqual(fake2.calls[0].options, { name: 'mailhealth-report', noOverlap: true, timezone: 'Europe/Amsterdam' });
    assert.equal(s2.nextRuns(1)[0].toISOString(), '2026-03-28T03:00:00.000Z');
  });

  test('no overlap: a tick while a run is going is skipped; the next one after it runs', async () => {
    const fake = fakeSchedule();
    const gates: ReturnType<typeof deferred>[] = [];
    const logs: string[] = [];
    const s = startScheduler({
      run: () => {
        const d = deferred();
        gates.push(d);
        return d.promise;
      },
      schedule: fake.schedule,
      log: (m) => logs.push(m),
      now: () => FROM,
    });
    const tick = fake.calls[0].fn;
    const first = s.tick();
    assert.equal(s.isRunning(), true);
    assert.equal(await s.tick(), 'skipped');
    await tick(); // node-cron's own tick path: skipped as well
    assert.equal(gates.length, 1);
    assert.ok(logs.some((l) => /skipped/.test(l)));
    gates[0].resolve();
    assert.equal(await first, 'ran');
    assert.equal(s.isRunning(), false);
    const second = s.tick();
    assert.equal(gates.length, 2);
    gates[1].reject(new Error('DNS on fire'));
    assert.equal(await second, 'failed');
    assert.ok(logs.some((l) => /DNS on fire/.test(l)));
    // A failed run does not wedge the scheduler.
    const third = s.tick();
    gates[2].resolve();
    assert.equal(await third, 'ran');
  });

  test('stop aborts a run in progress and waits for it', async () => {
    const fake = fakeSchedule();
    let signal: AbortSignal | undefined;
    const s = startScheduler({
      run: (ctx) => {
        signal = ctx.signal;
        return new Promise<void>((_res, rej) => ctx.signal.addEventListener('abort', () => rej(new Error('aborted'))));
      },
      schedule: fake.schedule,
      now: () => FROM,
    });
    const t = s.tick();
    await s.stop();
    assert.equal(signal?.aborted, true);
    assert.equal(await t, 'failed');
    assert.equal(fake.stopped(), 1);
    assert.equal(fake.destroyed(), 1);
    assert.equal(await s.tick(), 'skipped');
  });
});

describe('reschedule', () => {
  test('swaps the node-cron task: the old one destroyed, the new expression and time zone in force', () => {
    const fake = fakeSchedule();
    const logs: string[] = [];
    const s = startScheduler({ cronExpr: '0 3 * * *', run: async () => {}, schedule: fake.schedule, log: (m) => logs.push(m), now: () => FROM });
    assert.equal(s.reschedule('30 4 * * *', 'Europe/Amsterdam'), true);
    assert.equal(fake.calls.length, 2);
    assert.equal(fake.calls[1].expr, '30 4 * * *');
    assert.deepEqual(fake.calls[1].options, { name: 'mailhealth-report', noOverlap: true, timezone: 'Europe/Amsterdam' });
    assert.equal(fake.destroyed(), 1, 'the old task is destroyed');
    assert.equal(s.cronExpr, '30 4 * * *');
    assert.equal(s.timezone, 'Europe/Amsterdam');
    assert.equal(s.nextRuns(1)[0].toISOString(), '2026-03-28T03:30:00.000Z');
    assert.ok(logs.includes('nightly report rescheduled: "30 4 * * *" (Europe/Amsterdam)'));
    // The same schedule again changes nothing; no time zone means server time.
    assert.equal(s.reschedule('30 4 * * *', 'Europe/Amsterdam'), false);
    assert.equal(fake.calls.length, 2);
    assert.equal(s.reschedule('30 4 * * *'), true);
    assert.equal(s.timezone, undefined);
    assert.deepEqual(fake.calls[2].options, { name: 'mailhealth-report', noOverlap: true });
    assert.ok(logs.includes('nightly report rescheduled: "30 4 * * *" (server time)'));
    assert.equal(fake.destroyed(), 2);
  });

  test('a bad expression or time zone throws and keeps the old schedule', () => {
    const fake = fakeSchedule();
    const s = startScheduler({ cronExpr: '0 3 * * *', timezone: 'UTC', run: async () => {}, schedule: fake.schedule, now: () => FROM });
    assert.throws(() => s.reschedule('0 25 * * *', 'UTC'), ScheduleError);
    assert.throws(() => s.reschedule('0 4 * * *', 'Mars/Olympus'), ScheduleError);
    assert.throws(() => s.reschedule('', 'UTC'), ScheduleError);
    assert.equal(fake.calls.length, 1);
    assert.equal(fake.destroyed(), 0);
    assert.equal(s.cronExpr, '0 3 * * *');
    assert.equal(s.timezone, 'UTC');
  });

  test('a run in progress goes on; a tick during it, from the new task, is still skipped', async () => {
    const fake = fakeSchedule();
    const gate = deferred();
    let signal: AbortSignal | undefined;
    let runs = 0;
    const s = startScheduler({
      run: (ctx) => {
        runs++;
        signal = ctx.signal;
        return gate.promise;
      },
      schedule: fake.schedule,
      now: () => FROM,
    });
    const first = fake.calls[0].fn(); // node-cron's tick of the old task
    assert.equal(s.isRunning(), true);
    assert.equal(s.reschedule('0 4 * * *'), true);
    assert.equal(signal?.aborted, false);
    assert.equal(s.isRunning(), true);
    assert.equal(await s.tick(), 'skipped');
    await fake.calls[1].fn(); // the new task's tick
    assert.equal(runs, 1);
    gate.resolve();
    await first;
    assert.equal(s.isRunning(), false);
    assert.equal(signal?.aborted, false);
    // After the run, the new task's tick runs.
    const next = fake.calls[1].fn();
    assert.equal(runs, 2);
    await next;
  });

  test('after stop(), reschedule does nothing', async () => {
    const fake = fakeSchedule();
    const s = startScheduler({ run: async () => {}, schedule: fake.schedule, now: () => FROM });
    await s.stop();
    assert.equal(s.reschedule('0 4 * * *', 'UTC'), false);
    assert.equal(fake.calls.length, 1);
    assert.equal(s.cronExpr, '0 3 * * *');
    assert.equal(fake.destroyed(), 1);
  });
});

describe('DNS rate limit', () => {
  test('token bucket paces queries with a fake clock', async () => {
    let now = 0;
    const sleeps: number[] = [];
    const tb = new TokenBucket({ ratePerSec: 10, burst: 2, now: () => now, sleep: async (ms) => void sleeps.push(ms) });
    // 6 takers at once at t=0: two go at once, the rest are spaced 100 ms apart.
    await Promise.all(Array.from({ length: 6 }, () => tb.take()));
    assert.deepEqual(sleeps.map((s) => Math.round(s)), [100, 200, 300, 400]);
    // After a quiet second, the burst is available again.
    now = 2000;
    sleeps.length = 0;
    await tb.take();
    await tb.take();
    assert.deepEqual(sleeps, []);
    assert.throws(() => new TokenBucket({ ratePerSec: 0 }), RangeError);
  });

  test('limited resolver: repeated questions cost no token; a limiter error is fatal', async () => {
    let asked = 0;
    const inner: Resolver = {
      async resolve<T extends RRType>(name: string, type: T): Promise<Answer<T>> {
        asked++;
        return { name, type, status: 'nxdomain', records: [] };
      },
    };
    let tokens = 0;
    let fail = false;
    const r = rateLimitedResolver(inner, {
      async take() {
        if (fail) throw new Error('stop');
        tokens++;
      },
    });
    await r.resolve('a.example', 'TXT');
    await r.resolve('A.example.', 'TXT');
    await r.resolve('a.example', 'MX');
    assert.equal(tokens, 2);
    assert.equal(asked, 2);
    fail = true;
    await assert.rejects(r.resolve('b.example', 'TXT'), /stop/);
    assert.match(String(r.fatal), /stop/);
    fail = false;
    await assert.rejects(r.resolve('c.example', 'TXT'), /stop/, 'stays fatal');
  });
});
