// Test helper: a stand-in for node-cron's schedule (SchedulerOptions['schedule']) that records what was scheduled and
// counts the tasks stopped and destroyed. Shared by the scheduler, serve and service tests.
import type { SchedulerOptions } from '../../src/cron/scheduler.js';

export function fakeSchedule() {
  const calls: {
    expr: string;
    options: Parameters<NonNullable<SchedulerOptions['schedule']>>[2];
    fn: () => Promise<void>;
    /** node-cron's events the scheduler listens to, by name. */
    listeners: Map<string, ((ctx: { date: Date }) => unknown)[]>;
  }[] = [];
  let stopped = 0;
  let destroyed = 0;
  const schedule: NonNullable<SchedulerOptions['schedule']> = (expr, fn, options) => {
    const listeners = new Map<string, ((ctx: { date: Date }) => unknown)[]>();
    calls.push({ expr, fn, options, listeners });
    return {
      stop: () => void stopped++,
      destroy: () => void destroyed++,
      on: (event, fn) => void listeners.set(event, [...(listeners.get(event) ?? []), fn as (ctx: { date: Date }) => unknown]),
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
    /** node-cron's 'execution:missed' for `slot`, from the latest task (as its heartbeat emits it). */
    miss(slot: Date): void {
      for (const fn of calls[calls.length - 1]?.listeners.get('execution:missed') ?? []) void fn({ date: slot });
    },
    stopped: () => stopped,
    destroyed: () => destroyed,
  };
}
