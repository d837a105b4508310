// Scheduling the nightly report inside the background service (`mailhealth serve` / `mailhealth service`) with
// node-cron (v4). The expression and time zone are validated up front with clear errors (the settings page's check,
// src/adapters/schedule/expression.ts); a tick that comes while the
// previous run is still going is skipped (the SQLite lock in runReport covers other processes). reschedule() swaps
// the node-cron task of a running scheduler (the admin saved a new schedule) without touching a run in progress.
// Daylight saving: a local time that repeats runs once, and one that does not exist (node-cron skips it) runs right
// after the gap, so a daily report runs once every local day. A slot node-cron misses (its timer came more than its
// 1 s tolerance late: a paused VM, a busy event loop) runs as soon as node-cron notices, once however many slots were
// missed, and not while a run is going. nextRuns() is pure (an explicit `from`), for tests and the UI.
// Day of month and day of week both restricted ("0 3 1,15 * 1") mean what they mean in crontab(5): either day matches
// (the 1st, the 15th and every Monday) — node-cron alone runs only when both do (a Monday that is the 1st or the 15th).
import cron from 'node-cron';
import type { ScheduledTask, TaskOptions } from 'node-cron';
import { DEFAULT_CRON } from '../core/settings.js';
import { normalizeCronExpr, validateCronExpr, validateTimezone } from '../adapters/schedule/expression.js';

/**
 * Whether a day field restricts the days, as crontab(5) reads it: a field starting with "*" ("*", "*\/2") does not
 * (node-cron's "?" neither). With both day fields restricted, cron(8) runs on a day matching EITHER.
 */
function restrictsDays(field: string): boolean {
  return !field.startsWith('*') && field !== '?';
}

/**
 * The node-cron expressions whose union is the schedule, as cron(8) runs it: the schedule itself, or — when both day
 * of month and day of week are restricted ("0 3 1,15 * 1": the 1st, the 15th and every Monday) — one with the day of
 * week left free and one with the day of month left free (node-cron alone would need both to match: only a Monday that
 * is the 1st or the 15th). A valid five-field schedule in, normalised.
 */
export function cronParts(expr: string): string[] {
  const f = normalizeCronExpr(expr).split(' ');
  if (f.length !== 5 || !restrictsDays(f[2]) || !restrictsDays(f[4])) return [f.join(' ')];
  return [[f[0], f[1], f[2], f[3], '*'].join(' '), [f[0], f[1], '*', f[3], f[4]].join(' ')];
}

/** A matcher for the schedule (its parts: cronParts) in a time zone; destroy() it after use. */
function scheduleMatcher(expr: string, timezone: string | undefined): { match(d: Date): boolean; destroy(): void } {
  // createTask only builds a matcher (nothing starts).
  const tasks = cronParts(expr).map((p) => cron.createTask(p, () => {}, { ...(timezone ? { timezone } : {}) }));
  return {
    match: (d) => tasks.some((t) => t.match(d)),
    destroy: () => {
      for (const t of tasks) void Promise.resolve(t.destroy()).catch(() => {});
    },
  };
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** The local (wall-clock) time of instant `t` in `tz`, written as the same digits in UTC: comparable, and node-cron's fields. */
function wallMs(t: number, tz: string | undefined): number {
  const key = tz ?? '';
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      ...(tz ? { timeZone: tz } : {}),
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    });
    formatters.set(key, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(t))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour % 24, p.minute, p.second, ((t % 1000) + 1000) % 1000);
}

const MINUTE = 60_000;
const SEARCH_LIMIT_MS = 5 * 366 * 24 * 60 * MINUTE;
/** Longer than any daylight-saving shift (1 h; 30 min on Lord Howe Island). */
const SHIFT_WINDOW_MS = 3 * 60 * MINUTE;

/**
 * Whether the local time at `t` was already shown shortly before: the hour that repeats when daylight saving ends.
 * A schedule in it runs the first time only (so does node-cron 4: its next run always has a later local time).
 */
function isRepeatedLocalTime(t: number, tz: string | undefined): boolean {
  const offset = wallMs(t, tz) - t;
  const offsetBefore = wallMs(t - SHIFT_WINDOW_MS, tz) - (t - SHIFT_WINDOW_MS);
  if (offsetBefore <= offset) return false;
  const earlier = t - (offsetBefore - offset);
  return wallMs(earlier, tz) === wallMs(t, tz);
}

/** One run of the schedule. `catchUp`: its local time fell in a daylight-saving gap; node-cron skips it, the scheduler runs it here. */
export interface PlannedRun {
  at: Date;
  catchUp: boolean;
}

/**
 * The next `n` runs (strictly after `from`) of the expression in time zone `tz` (undefined = server time), using
 * node-cron's own matcher (of each of its cronParts), so the answer is what the scheduler will do: once per local
 * time even when daylight saving ends and an hour repeats, and a local time that does not exist (the hour skipped when
 * it starts) run at the first moment after the gap — the one thing node-cron does not do itself. Pure: no timers, no
 * wall clock.
 */
export function plannedRuns(expr: string, tz: string | undefined, from: Date, n: number): PlannedRun[] {
  validateCronExpr(expr);
  validateTimezone(tz);
  expr = normalizeCronExpr(expr);
  const fields = cron.parse(expr);
  const seconds = [...fields.second].sort((a, b) => a - b);
  const hours = new Set(fields.hour);
  const minutes = new Set(fields.minute);
  // Matchers only (nothing starts); destroyed at the end. The UTC one reads a local time written in UTC digits
  // (wallMs): it matches the local times a gap leaves out, which no instant has.
  const task = scheduleMatcher(expr, tz);
  const localTask = scheduleMatcher(expr, 'UTC');
  const out: PlannedRun[] = [];
  const start = from.getTime();
  const push = (t: number, catchUp: boolean) => {
    const last = out[out.length - 1];
    if (t > start && out.length < n && (!last || last.at.getTime() < t)) out.push({ at: new Date(t), catchUp });
  };
  /** Whether a local time in [fromWall, toWall) matches (the gap's missing local times). */
  const gapMatches = (fromWall: number, toWall: number) => {
    for (let w = fromWall; w < toWall; w += MINUTE) {
      const d = new Date(w);
      if (!hours.has(d.getUTCHours()) || !minutes.has(d.getUTCMinutes())) continue;
      if (seconds.some((s) => localTask.match(new Date(w + s * 1000)))) return true;
    }
    return false;
  };
  try {
    let m = Math.floor(start / MINUTE) * MINUTE;
    let offset = wallMs(m, tz) - m;
    const end = start + SEARCH_LIMIT_MS;
    while (out.length < n && m <= end) {
      const local = new Date(wallMs(m, tz));
      const hour = local.getUTCHours();
      const minute = local.getUTCMinutes();
      if (hours.has(hour) && minutes.has(minute) && !isRepeatedLocalTime(m, tz)) {
        for (const s of seconds) {
          const t = m + s * 1000;
          if (task.match(new Date(t))) push(t, false);
        }
      }
      const next = m + (hours.has(hour) ? MINUTE : (60 - minute) * MINUTE);
      const nextOffset = wallMs(next, tz) - next;
      if (nextOffset > offset) {
        // The clocks went forward between m and next: find the first minute after the jump (zones change on a minute).
        let lo = m;
        let hi = next;
        while (hi - lo > MINUTE) {
          const mid = lo + Math.floor((hi - lo) / MINUTE / 2) * MINUTE;
          if (wallMs(mid, tz) - mid === offset) lo = mid;
          else hi = mid;
        }
        if (gapMatches(hi + offset, hi + nextOffset)) push(hi, !task.match(new Date(hi)));
      }
      m = next;
      offset = nextOffset;
    }
  } finally {
    task.destroy();
    localTask.destroy();
  }
  return out;
}

/** The instants of plannedRuns. */
export function nextRuns(expr: string, tz: string | undefined, from: Date, n: number): Date[] {
  return plannedRuns(expr, tz, from, n).map((r) => r.at);
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
  /** Tests: a stand-in for node-cron's schedule. `on` (node-cron's events) gets the 'execution:missed' listener. */
  schedule?: (expr: string, fn: () => Promise<void>, options: TaskOptions) => Pick<ScheduledTask, 'stop' | 'destroy'> & Partial<Pick<ScheduledTask, 'on'>>;
  /** Tests: the clock for `firedAt` and nextRuns. */
  now?: () => Date;
  /** Tests: the timer of a catch-up run (after a daylight-saving gap, or a missed slot); node-cron's own timers are behind `schedule`. */
  setTimer?: (fn: () => void, ms: number) => { clear(): void };
}

export interface Scheduler {
  /** The schedule in force (changes with reschedule), normalised (normalizeCronExpr). */
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
  cronExpr = normalizeCronExpr(cronExpr);
  const log = opts.log ?? (() => {});
  const now = opts.now ?? (() => new Date());
  const setTimer =
    opts.setTimer ??
    ((fn: () => void, ms: number) => {
      const t = setTimeout(fn, ms);
      t.unref(); // node-cron's own timer keeps the service alive
      return { clear: () => clearTimeout(t) };
    });
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

  // The last scheduled fire (node-cron's or a catch-up): its instant and local time, to its second, and which node-cron
  // task (cronParts: a schedule may need two) fired it — -1: a catch-up.
  let lastFire: { at: number; local: number; part: number } | null = null;
  let catchUp: { clear(): void } | null = null;
  /** The slot of a missed-run catch-up armed on the catch-up timer. */
  let pendingMissed: number | null = null;

  /**
   * A scheduled fire. The report runs once per local time: a fire whose local time is not later than the last fire's
   * (the clocks went back when daylight saving ended, and the hour repeats) is ignored — node-cron 4 does not fire
   * there, this keeps it so whatever node-cron does. A fire within the same second is another tick of the same slot
   * (tick() skips it while the run goes on). A day matching both parts of a schedule (cronParts: "0 3 1,15 * 1" on a
   * Monday the 1st) fires both of its node-cron tasks: the second, in the same local minute, is the same slot and is
   * ignored — one report, not a second one once the first has finished.
   */
  async function fire(part = -1): Promise<void> {
    const at = now().getTime();
    const local = Math.floor(wallMs(at, timezone) / 1000) * 1000;
    if (lastFire && part >= 0 && lastFire.part >= 0 && part !== lastFire.part && Math.floor(local / MINUTE) === Math.floor(lastFire.local / MINUTE)) return;
    if (lastFire && at - lastFire.at >= 1000 && local <= lastFire.local) {
      log(
        `nightly report: ${new Date(local).toISOString().slice(0, 19).replace('T', ' ')} ${timezone ?? 'server time'} came round again ` +
          `(the clocks went back for daylight saving); the report already ran for it at ${new Date(lastFire.at).toISOString()}, this tick is ignored`,
      );
      return;
    }
    lastFire = { at, local, part };
    try {
      await tick();
    } finally {
      armCatchUp();
    }
  }

  /**
   * node-cron missed a slot (its timer fired more than its tolerance late: the process was paused or busy). The
   * catch-up timer runs the report at once, the way it runs one after a daylight-saving gap: once for any number of
   * missed slots (node-cron reports each; the first arms the timer, the others find it armed), and not when a fire
   * for that slot or a later one came meanwhile, nor while a run is going (that run is the night's report).
   */
  function missed(slot: Date): void {
    if (stopped) return;
    const at = slot.getTime();
    const when = `${new Date(at).toISOString()} (${timezone ?? 'server time'})`;
    if (current) {
      log(`nightly report: the run due at ${when} was missed (the process was paused or busy); a report is running, not starting another`);
      return;
    }
    if (pendingMissed !== null) return;
    pendingMissed = at;
    catchUp?.clear();
    catchUp = setTimer(() => {
      catchUp = null;
      pendingMissed = null;
      if (stopped) return;
      if (current || (lastFire && lastFire.at >= at)) return armCatchUp(); // ran meanwhile
      log(`nightly report: the run due at ${when} was missed (the process was paused or busy); running it now`);
      void fire();
    }, 0);
  }

  /**
   * node-cron skips a local time that does not exist (the hour skipped when daylight saving starts), which would skip
   * that night's report: when the next run is one of those, a timer runs it at the first moment after the gap.
   * Re-armed after every fire and reschedule; a far run is re-checked daily (timers cannot wait longer than 24.8 days).
   */
  function armCatchUp(): void {
    if (pendingMissed !== null) return; // a missed slot runs first; its fire re-arms
    catchUp?.clear();
    catchUp = null;
    if (stopped) return;
    let next: PlannedRun | undefined;
    try {
      next = plannedRuns(cronExpr, timezone, now(), 1)[0];
    } catch {
      return; // validated already; nothing to add
    }
    if (!next?.catchUp) return;
    const due = next.at.getTime();
    catchUp = setTimer(
      () => {
        catchUp = null;
        if (now().getTime() < due - 1000) return armCatchUp();
        log(`nightly report: its local time did not exist today (${timezone ?? 'server time'}: the clocks went forward for daylight saving); running now, right after the gap`);
        void fire();
      },
      Math.max(0, Math.min(due - now().getTime(), 24 * 60 * MINUTE)),
    );
  }

  const schedule = opts.schedule ?? ((expr, fn, o) => cron.schedule(expr, fn, o));
  // Every task calls the same fire() and tick(), so the skip-while-running and once-per-local-time rules hold across a
  // reschedule. One node-cron task per part of the schedule (cronParts), stopped and destroyed together.
  const scheduleTask = (expr: string, tz: string | undefined): Pick<ScheduledTask, 'stop' | 'destroy'> => {
    const tasks: Pick<ScheduledTask, 'stop' | 'destroy'>[] = [];
    const all = async (what: 'stop' | 'destroy') => {
      await Promise.all(tasks.map((t) => Promise.resolve(t[what]()).catch(() => {})));
    };
    try {
      cronParts(expr).forEach((p, i) => {
        const t = schedule(p, () => fire(i), { name: i === 0 ? 'mailhealth-report' : `mailhealth-report-${i + 1}`, noOverlap: true, ...(tz ? { timezone: tz } : {}) });
        tasks.push(t);
        t.on?.('execution:missed', (ctx) => missed(ctx.date));
      });
    } catch (e) {
      void all('destroy'); // the part scheduled before the one refused
      throw e;
    }
    return { stop: () => all('stop'), destroy: () => all('destroy') };
  };
  const describe = () => `"${cronExpr}"${timezone ? ` (${timezone})` : ' (server time)'}`;
  let task = scheduleTask(cronExpr, timezone);
  log(`nightly report scheduled: ${describe()}`);
  armCatchUp();

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
      expr = normalizeCronExpr(expr);
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
      armCatchUp();
      return true;
    },
    tick,
    isRunning: () => current !== null,
    nextRuns: (n = 1) => nextRuns(cronExpr, timezone, now(), n),
    async stop() {
      if (stopped) return;
      stopped = true;
      catchUp?.clear();
      catchUp = null;
      pendingMissed = null;
      await task.stop();
      controller?.abort();
      if (current) await current.catch(() => {});
      await task.destroy();
    },
  };
}
