// Two schedule bugs (QA of the nightly report):
// - Day of month and day of week both restricted: crontab(5) runs on a day matching EITHER ("0 3 1,15 * 1": the 1st,
//   the 15th and every Monday); node-cron needs BOTH (only a Monday that is the 1st or the 15th — a few nights a year).
//   The scheduler and plannedRuns (the start-up line, the catch-up timer) now run such a schedule as cron(8) does.
// - A schedule with white space around it ("0 3 * * *\n", as stored by hand) was refused, and the refusal printed the
//   raw newline (a broken log line). White space around a schedule is not part of it; a refusal escapes control
//   characters.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { plannedRuns, nextRuns, startScheduler } from '../../src/cron/scheduler.js';
import { ScheduleError, validateCronExpr } from '../../src/adapters/schedule/expression.js';
import { fakeSchedule } from './fake-schedule.js';

const iso = (ds: Date[]) => ds.map((d) => d.toISOString().slice(0, 10));

describe('day of month and day of week both restricted: either matches (as cron(8))', () => {
  test('"0 3 1,15 * 1": the 1st, the 15th and every Monday', () => {
    assert.deepEqual(iso(nextRuns('0 3 1,15 * 1', 'UTC', new Date('2026-03-01T00:00:00Z'), 8)), [
      '2026-03-01', // a Sunday, the 1st
      '2026-03-02', // Monday
      '2026-03-09',
      '2026-03-15', // a Sunday, the 15th
      '2026-03-16',
      '2026-03-23',
      '2026-03-30',
      '2026-04-01', // a Wednesday, the 1st
    ]);
    // Day names, and a day that matches both (Monday 1 June 2026) runs once.
    assert.deepEqual(iso(nextRuns('0 3 1 * mon', 'UTC', new Date('2026-05-31T12:00:00Z'), 3)), ['2026-06-01', '2026-06-08', '2026-06-15']);
  });

  test('one of them "*" (or "*/n", as crontab(5) reads it): both must match, as before', () => {
    assert.deepEqual(iso(nextRuns('0 3 * * 1', 'UTC', new Date('2026-03-01T00:00:00Z'), 2)), ['2026-03-02', '2026-03-09']);
    assert.deepEqual(iso(nextRuns('0 3 1 * *', 'UTC', new Date('2026-03-01T12:00:00Z'), 2)), ['2026-04-01', '2026-05-01']);
    // The odd days that are Mondays.
    assert.deepEqual(iso(nextRuns('0 3 */2 * 1', 'UTC', new Date('2026-03-01T00:00:00Z'), 3)), ['2026-03-09', '2026-03-23', '2026-04-13']);
  });

  test('daylight saving: a run on a day of week in the skipped hour still runs right after the gap', () => {
    // New York, 14 March 2027 (a Sunday): 02:30 does not exist; the 15th at 02:30 EDT does.
    assert.deepEqual(plannedRuns('30 2 1,15 * 0', 'America/New_York', new Date('2027-03-10T12:00:00Z'), 3), [
      { at: new Date('2027-03-14T07:00:00.000Z'), catchUp: true },
      { at: new Date('2027-03-15T06:30:00.000Z'), catchUp: false },
      { at: new Date('2027-03-21T06:30:00.000Z'), catchUp: false },
    ]);
  });

  test('the scheduler runs either day: one node-cron task per day field, one report when both fire together', async () => {
    const fake = fakeSchedule();
    let runs = 0;
    const now = new Date('2026-06-01T03:00:00.000Z'); // Monday the 1st: both tasks fire
    const s = startScheduler({ cronExpr: '0 3 1,15 * 1', timezone: 'UTC', run: async () => void runs++, schedule: fake.schedule, now: () => now });
    assert.deepEqual(fake.exprs, ['0 3 1,15 * *', '0 3 * * 1']);
    assert.equal(s.cronExpr, '0 3 1,15 * 1');
    await fake.calls[0].fn();
    await fake.calls[1].fn();
    assert.equal(runs, 1, 'the same slot from the other day field is not a second report');
    // A rescheduled plain schedule is one task again; both old tasks are stopped and destroyed.
    s.reschedule('0 4 * * *', 'UTC');
    assert.deepEqual(fake.exprs.slice(2), ['0 4 * * *']);
    await s.stop();
    assert.equal(fake.destroyed(), 3);
  });
});

describe('white space and control characters in a schedule', () => {
  test('white space around a schedule is not part of it', () => {
    for (const e of ['0 3 * * *\n', ' 0 3 * * * ', '\t0 3 * * *\r\n', '0  3\t* * *']) {
      assert.doesNotThrow(() => validateCronExpr(e), JSON.stringify(e));
      assert.deepEqual(iso(nextRuns(e, 'UTC', new Date('2026-03-01T12:00:00Z'), 1)), ['2026-03-02'], JSON.stringify(e));
    }
    const fake = fakeSchedule();
    const s = startScheduler({ cronExpr: '0 3 * * *\n', timezone: 'UTC', run: async () => {}, schedule: fake.schedule, now: () => new Date('2026-03-01T12:00:00Z') });
    assert.deepEqual(fake.exprs, ['0 3 * * *']);
    assert.equal(s.cronExpr, '0 3 * * *');
    assert.equal(s.reschedule(' 0 3 * * *\n', 'UTC'), false, 'the same schedule: nothing to change');
    void s.stop();
  });

  test('a refused schedule is quoted with its control characters escaped: the message is one line', () => {
    for (const e of ['0 3 * * *\u0007', '0 3\n* * * *', '0 3 * * \u202e1', '0 3 * *\n']) {
      assert.throws(
        () => validateCronExpr(e),
        (x: unknown) => {
          assert.ok(x instanceof ScheduleError);
          // eslint-disable-next-line no-control-regex
          assert.doesNotMatch(x.message, /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/, JSON.stringify(x.message));
          assert.match(x.message, /^invalid cron expression "/);
          return true;
        },
        JSON.stringify(e),
      );
    }
    assert.throws(() => validateCronExpr('0 3\n* * * *'), /invalid cron expression "0 3\\n\* \* \* \*": 6 fields/);
    assert.throws(() => validateCronExpr('0 3 * * *\u0007'), /invalid cron expression "0 3 \* \* \*\\u0007"/);
  });
});
