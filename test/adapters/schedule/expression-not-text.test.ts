// Review R10 item 6: a report schedule stored by hand as something other than text (a number, a list, an object) was
// refused as "the report schedule is empty" — the log then read `the saved report schedule 3 is not used … is empty`.
// It is now said to be not text, with what was stored.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ScheduleError, validateCronExpr } from '../../../src/adapters/schedule/expression.js';
import { startNightlyReport } from '../../../src/cli/nightly.js';
import { fakeSchedule } from '../../cron/fake-schedule.js';

const refusal = (v: unknown) => {
  try {
    validateCronExpr(v as string);
  } catch (e) {
    assert.ok(e instanceof ScheduleError);
    return e.message;
  }
  assert.fail(`${JSON.stringify(v)} was taken`);
};

describe('a report schedule that is not text', () => {
  test('is said to be not text, naming what was stored', () => {
    assert.match(refusal(3), /^the report schedule is not text \(a number was stored\): Five cron fields/);
    assert.match(refusal(['0 3 * * *']), /^the report schedule is not text \(a list was stored\)/);
    assert.match(refusal({ a: 1 }), /^the report schedule is not text \(an object was stored\)/);
    assert.match(refusal(true), /^the report schedule is not text \(true\/false was stored\)/);
  });

  test('text that is empty, or nothing at all, is still "empty"', () => {
    assert.match(refusal(''), /^the report schedule is empty/);
    assert.match(refusal('  \n'), /^the report schedule is empty/);
    assert.match(refusal(undefined), /^the report schedule is empty/);
  });

  test('the service\'s log line for one stored as a number', async () => {
    const logs: string[] = [];
    const store = { getSetting: (k: string) => (k === 'report.schedule' ? 3 : undefined), listRuns: () => [] };
    const fake = fakeSchedule();
    const n = startNightlyReport({} as never, {} as never, store as never, { schedule: fake.schedule, log: (m) => logs.push(m), setTimer: () => ({ clear() {} }) });
    try {
      assert.deepEqual(fake.exprs, ['0 3 * * *']);
      assert.ok(logs.some((l) => /saved report schedule 3 is not used, "0 3 \* \* \*" instead: the report schedule is not text \(a number was stored\)/.test(l)), logs.join('\n'));
      assert.ok(!logs.some((l) => /empty/.test(l)), logs.join('\n'));
    } finally {
      await n.stop();
    }
  });
});
