// Test helper: a stand-in for node-cron's schedule (SchedulerOptions['schedule']) that records what was scheduled and
// counts the tasks stopped and destroyed. Shared by the scheduler, serve and service tests.
import type { SchedulerOptions } from '../../src/cron/scheduler.js';

export function fakeSchedule() {
  const calls: { expr: string; options: Parameters<NonNullable<SchedulerOptions['schedule']>>[2]; fn: () => Promise<void> }[] = [];
  let stopped = 0;
  let destroyed = 0;
  const schedule: NonNullable<SchedulerOptions['schedule']> = (expr, fn, options) => {
    calls.push({ expr, fn, options });
    return {
      stop: () => void stopped++,
      destroy: () => void destroyed++,
    };
  };
  return {
    schedule,
    calls,
    /** The cron expressions scheduled, in order. */
    get exprs(): string[] {
      return calls.map((c) => c.expr);
    },
    /** The time zone each was scheduled with (undefined: the server's). */
    get timezones(): (string | undefined)[] {
      return calls.map((c) => c.options.timezone);
    },
    stopped: () => stopped,
    destroyed: () => destroyed,
  };
}
