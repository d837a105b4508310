// Scheduling the nightly report inside the background service (`mailhealth serve` / `mailhealth service`) with
// node-cron (v4). The expression and time zone are validated up front with clear errors; a tick that comes while the
// previous run is still going is skipped (the SQLite lock in runReport covers other processes). reschedule() swaps
// the node-cron task of a running scheduler (the admin saved a new schedule) without touching a run in progress.
// nextRuns() is pure (an explicit `from`), for tests and the UI.
import cron from 'node-cron';
import type { ScheduledTask, TaskOptions } from 'node-cron';

export const DEFAULT_CRON = '0 3 * * *';

export class ScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleError';
  }
}

/** Throws ScheduleError naming the bad field(s). Accepts node-cron's 5-field (minute-first) or 6-field (seconds-first) syntax. */
export function validateCronExpr(expr: string): void {
  if (typeof expr !== 'string' || !expr.trim()) throw new ScheduleError('the report schedule is empty: give a cron expression such as "0 3 * * *" (03:00 every day)');
  const v = cron.validateDetailed(expr);
  if (!v.valid) {
    const why = v.errors.map((e) => `${e.field}${e.value !== undefined ? ` "${e.value}"` : ''}: ${e.message}`).join('; ');
    throw new ScheduleError(`invalid cron expression "${expr}": ${why || 'not understood'} (expected "minute hour day-of-month month day-of-week", e.g. "0 3 * * *")`);
  }
}

/** Throws ScheduleError for a time zone the runtime does not know. Undefined = server time. */
export function validateTimezone(tz: string | undefined): void {
  if (tz === undefined) return;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new ScheduleError(`unknown time zone "${tz}" (use an IANA name such as "Europe/Amsterdam" or "UTC")`);
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function wallMinuteHour(d: Date, tz: string | undefined): { hour: number; minute: number } {
  const key = tz ?? '';
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { ...(tz ? { timeZone: tz } : {}), hour: 'numeric', minute: 'numeric', hourCycle: 'h23' });
    formatters.set(key, f);
  }
  let hour = 0;
  let minute = 0;
  for (const p of f.formatToParts(d)) {
    if (p.type === 'hour') hour = Number(p.value) % 24;
    else if (p.type === 'minute') minute = Number(p.value);
  }
  return { hour, minute };
}

const MINUTE = 60_000;
const SEARCH_LIMIT_MS = 5 * 366 * 24 * 60 * MINUTE;

/**
 * The next `n` times (strictly after `from`) the expression fires in time zone `tz` (undefined = server time),
 * using node-cron's own matcher, so the answer is what node-cron will do. Pure: no timers, no wall clock.
 */
export function nextRuns(expr: string, tz: string | undefined, from: Date, n: number): Date[] {
  validateCronExpr(expr);
  validateTimezone(tz);
  const fields = cron.parse(expr);
  const seconds = [...fields.second].sort((a, b) => a - b);
  const hours = new Set(fields.hour);
  const minutes = new Set(fields.minute);
  // createTask only builds a matcher (nothing starts); destroyed at once.
  const task = cron.createTask(expr, () => {}, { ...(tz ? { timezone: tz } : {}) });
  const out: Date[] = [];
  try {
    const start = from.getTime();
    let m = Math.floor(start / MINUTE) * MINUTE;
    const end = start + SEARCH_LIMIT_MS;
    while (out.length < n && m <= end) {
      const { hour, minute } = wallMinuteHour(new Date(m), tz);
      if (!hours.has(hour)) {
        m += (60 - minute) * MINUTE;
        continue;
      }
      if (!minutes.has(minute)) {
        m += MINUTE;
        continue;
      }
      for (const s of seconds) {
        const t = m + s * 1000;
        if (t > start && task.match(new Date(t))) {
          out.push(new Date(t));
          if (out.length >= n) break;
        }
      }
      m += MINUTE;
    }
  } finally {
    void Promise.resolve(task.destroy()).catch(() => {});
  }
  return out;
}

export interface SchedulerRunContext {
  /** Aborted when the scheduler stops: the run should stop (runReport leaves it interrupted). */
  signal: AbortSignal;
  /** When the tick fired. */
  firedAt: Date;
}

export interface SchedulerOptions {
  cronExpr?: string;
  /** IANA time zone; default the server's. */
  timezone?: string;
  run: (ctx: SchedulerRunContext) => Promise<unknown>;
  log?: (message: string) => void;
  /** Tests: a stand-in for node-cron's schedule. */
  schedule?: (expr: string, fn: () => Promise<void>, options: TaskOptions) => Pick<ScheduledTask, 'stop' | 'destroy'>;
  /** Tests: the clock for `firedAt` and nextRuns. */
  now?: () => Date;
}

export interface Scheduler {
  /** The schedule in force (changes with reschedule). */
  readonly cronExpr: string;
  readonly timezone: string | undefined;
  /**
   * Run on a new schedule from now on: the old node-cron task is destroyed and a new one scheduled. A run in progress
   * goes on (and a tick during it is still skipped). `timezone` undefined = server time. Throws ScheduleError on a bad
   * expression or time zone and keeps the old schedule. Returns whether anything changed; false after stop().
   */
  reschedule(cronExpr: string, timezone?: string): boolean;
  /** What a cron tick does: run, or skip when a run is still going. Exposed for tests and "run now" buttons. */
  tick(): Promise<'ran' | 'skipped' | 'failed'>;
  isRunning(): boolean;
  nextRuns(n?: number): Date[];
  /** Stops ticking; aborts a run in progress and waits for it to settle. */
  stop(): Promise<void>;
}

export function startScheduler(opts: SchedulerOptions): Scheduler {
  let cronExpr = opts.cronExpr ?? DEFAULT_CRON;
  let timezone = opts.timezone;
  validateCronExpr(cronExpr);
  validateTimezone(timezone);
  const log = opts.log ?? (() => {});
  const now = opts.now ?? (() => new Date());
  let current: Promise<unknown> | null = null;
  let controller: AbortController | null = null;
  let stopped = false;

  async function tick(): Promise<'ran' | 'skipped' | 'failed'> {
    if (stopped) return 'skipped';
    if (current) {
      log('nightly report: previous run still going, this tick is skipped');
      return 'skipped';
    }
    controller = new AbortController();
    const p = opts.run({ signal: controller.signal, firedAt: now() });
    current = p;
    try {
      await p;
      return 'ran';
    } catch (e) {
      log(`nightly report failed: ${(e as Error)?.message ?? String(e)}`);
      return 'failed';
    } finally {
      current = null;
      controller = null;
    }
  }

  const schedule = opts.schedule ?? ((expr, fn, o) => cron.schedule(expr, fn, o));
  // Every task calls the same tick(), so the skip-while-running rule holds across a reschedule.
  const scheduleTask = (expr: string, tz: string | undefined) =>
    schedule(
      expr,
      async () => {
        await tick();
      },
      { name: 'mailhealth-report', noOverlap: true, ...(tz ? { timezone: tz } : {}) },
    );
  const describe = () => `"${cronExpr}"${timezone ? ` (${timezone})` : ' (server time)'}`;
  let task = scheduleTask(cronExpr, timezone);
  log(`nightly report scheduled: ${describe()}`);

  return {
    get cronExpr() {
      return cronExpr;
    },
    get timezone() {
      return timezone;
    },
    reschedule(expr: string, tz?: string) {
      if (stopped) return false;
      validateCronExpr(expr);
      validateTimezone(tz);
      if (expr === cronExpr && tz === timezone) return false;
      // The new task first: if node-cron refuses it, the old one is still in place.
      const next = scheduleTask(expr, tz);
      const old = task;
      task = next;
      cronExpr = expr;
      timezone = tz;
      // Destroying a node-cron task only stops its timer; a run it started is tick()'s, and goes on.
      void Promise.resolve(old.destroy()).catch(() => {});
      log(`nightly report rescheduled: ${describe()}`);
      return true;
    },
    tick,
    isRunning: () => current !== null,
    nextRuns: (n = 1) => nextRuns(cronExpr, timezone, now(), n),
    async stop() {
      if (stopped) return;
      stopped = true;
      await task.stop();
      controller?.abort();
      if (current) await current.catch(() => {});
      await task.destroy();
    },
  };
}
