// Scheduling the nightly report inside the background service (`mailhealth serve` / `mailhealth service`). node-cron
// (v4) reads and matches the schedule; the scheduler's own timer (timerTask) waits for the runs plannedRuns names —
// the instants nextRuns, and so the settings page's "Next run", shows — and fires then. Not node-cron's timer: it reads
// "now" through the process's local time zone (nowWithoutMs drops the milliseconds with setMilliseconds, which during
// the repeated hour of a server zone with daylight saving moves an instant of the second showing back to the first: 0 ms
// timers for an hour, then the slot run late as "missed"), and it runs a repeated local time at its second showing in
// zones east of UTC while nextRuns names the first. Nothing here reads the process's zone except through Intl (server
// time: the zone Intl reports). The expression and time zone are validated up front with clear errors (the settings
// page's check, src/adapters/schedule/expression.ts); a tick that comes while the previous run is still going is
// skipped and logged (the SQLite lock in runReport covers other processes). reschedule() swaps the task of a running
// scheduler (the admin saved a new schedule) without touching a run in progress.
// Daylight saving: a local time that repeats runs once, at its first showing, and one that does not exist runs right
// after the gap, so a daily report runs once every local day. A slot the timer misses (it came more than
// MISSED_TOLERANCE_MS late: a paused VM, a busy event loop) runs as soon as the timer wakes, once however many slots
// were missed, and not while a run is going. A wall clock stepped (an NTP step, an admin correcting a clock) is noticed
// within a minute (the wall clock against a monotonic one): the timer waits a duration computed under the old clock.
// Set back, it would wait for the slot it computed under the wrong clock — a clock a week fast, corrected, silenced the
// report for a week — so the task is made again from the corrected time, and logged; set forward over a slot, that
// slot runs once right away and the timer is armed again from the new time. Elapsed time (the same slot's second
// tick, a local time coming round again) is
// measured on the monotonic clock, never by subtracting wall-clock instants. nextRuns() is pure (an explicit `from`),
// for tests and the UI.
// Day of month and day of week both restricted ("0 3 1,15 * 1") mean what they mean in crontab(5): either day matches
// (the 1st, the 15th and every Monday) — node-cron alone runs only when both do (a Monday that is the 1st or the 15th).
import cron from 'node-cron';
import type { ScheduledTask, TaskOptions } from 'node-cron';
import { DEFAULT_CRON } from '../core/settings.js';
import { localTime, normalizeCronExpr, validateCronExpr, validateTimezone } from '../adapters/schedule/expression.js';

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

/** The local (wall-clock) time of instant `t` in `tz`, written as the same digits in UTC (expression.ts localTime). */
const wallMs = localTime;

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

/** One run of the schedule. `catchUp`: its local time fell in a daylight-saving gap; node-cron's matcher skips it, armCatchUp runs it. */
export interface PlannedRun {
  at: Date;
  catchUp: boolean;
}

/**
 * The next `n` runs (strictly after `from`) of the expression in time zone `tz` (undefined = server time), using
 * node-cron's own matcher (of each of its cronParts), so the answer is what the scheduler will do: once per local
 * time even when daylight saving ends and an hour repeats, and a local time that does not exist (the hour skipped when
 * it starts) run at the first moment after the gap — the one thing node-cron does not do itself. Pure: no timers, no
 * wall clock. `until`: look no further than that instant (default five years).
 */
export function plannedRuns(expr: string, tz: string | undefined, from: Date, n: number, until?: Date): PlannedRun[] {
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
    const end = Math.min(start + SEARCH_LIMIT_MS, until ? until.getTime() : Infinity);
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

/** The runs of the schedule after `from` up to and including `until`, oldest first, at most `max` (plannedRuns). */
export function runsBetween(expr: string, tz: string | undefined, from: Date, until: Date, max: number): Date[] {
  return plannedRuns(expr, tz, from, max, until)
    .map((r) => r.at)
    .filter((d) => d.getTime() <= until.getTime());
}

/**
 * The last run of the schedule after `from` up to and including `until`, or null. Looked for in the last hour before
 * `until` first, then the last day, month, year: a schedule every minute and a long gap cost an hour's search.
 */
export function lastRunBetween(expr: string, tz: string | undefined, from: Date, until: Date): Date | null {
  for (const window of [60 * MINUTE, 24 * 60 * MINUTE, 32 * 24 * 60 * MINUTE, 367 * 24 * 60 * MINUTE, SEARCH_LIMIT_MS]) {
    const start = Math.max(from.getTime(), until.getTime() - window);
    const runs = runsBetween(expr, tz, new Date(start), until, Number.MAX_SAFE_INTEGER);
    if (runs.length) return runs[runs.length - 1];
    if (start === from.getTime()) return null;
  }
  return null;
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
  /**
   * Tests: node-cron's schedule, or a stand-in for it (one task per cronParts part). `on` (node-cron's events) gets the
   * 'execution:missed' listener. Default: the scheduler's own timer (timerTask), not node-cron's.
   */
  schedule?: (expr: string, fn: () => Promise<void>, options: TaskOptions) => Pick<ScheduledTask, 'stop' | 'destroy'> & Partial<Pick<ScheduledTask, 'on'>>;
  /** Tests: the clock for `firedAt` and nextRuns. */
  now?: () => Date;
  /** Tests: the timer of a catch-up run (after a daylight-saving gap, or a missed slot); node-cron's own timers are behind `schedule`. */
  setTimer?: (fn: () => void, ms: number) => { clear(): void };
  /**
   * Tests: a clock of milliseconds that only goes forward (elapsed time: never set back with the wall clock). Default
   * performance.now() — or, when only `now` is given, `now`'s own milliseconds (a test that moves `now` moves time).
   */
  monotonic?: () => number;
  /** Tests: the repeating timer of the clock watch (checkClock every CLOCK_CHECK_MS); default an unref'd setInterval. */
  every?: (fn: () => void, ms: number) => { clear(): void };
}

/** A slot the timer wakes for later than this ran late (the process was paused or busy): missed() (node-cron's 1 s). */
export const MISSED_TOLERANCE_MS = 1000;
/** How far ahead the timer looks for the next run; further than that it wakes after a day and looks again. */
const TIMER_LOOKAHEAD_MS = 25 * 60 * MINUTE;
const DAY_MS = 24 * 60 * MINUTE;

/** How often the scheduler compares the wall clock with the monotonic one (checkClock). */
export const CLOCK_CHECK_MS = 60_000;
/**
 * A wall clock that fell behind (went ahead of) the monotonic one by more than this since the last look was set back
 * (forward). Smaller steps (and the slewing NTP does, well under a second a minute) change no slot the timer waits for:
 * not worth a line.
 */
export const CLOCK_STEP_MS = 30_000;

/** "3 h 5 min", "7 d 0 h", "45 s": a clock step, for the log. */
function duration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export interface Scheduler {
  /** The schedule in force (changes with reschedule), normalised (normalizeCronExpr). */
  readonly cronExpr: string;
  readonly timezone: string | undefined;
  /**
   * Run on a new schedule from now on: the old task is destroyed and a new one scheduled. A run in progress
   * goes on (and a tick during it is still skipped). `timezone` undefined = server time. Throws ScheduleError on a bad
   * expression or time zone and keeps the old schedule. Returns whether anything changed; false after stop().
   */
  reschedule(cronExpr: string, timezone?: string): boolean;
  /** What a cron tick does: run, or skip when a run is still going. Exposed for tests and "run now" buttons. */
  tick(): Promise<'ran' | 'skipped' | 'failed'>;
  isRunning(): boolean;
  nextRuns(n?: number): Date[];
  /**
   * Compare the wall clock with the monotonic one since the last look (the scheduler does every CLOCK_CHECK_MS, and
   * before each fire): when the wall clock went back by more than CLOCK_STEP_MS, the task is made again from the
   * corrected time (its timer would wait for the slot it computed before the step) and a line is logged; when it went
   * forward by more than that, the timer is armed again from the new time and a slot the step passed over runs once
   * (missed(), saying so). True when it did either.
   */
  checkClock(): boolean;
  /**
   * Run a slot that was missed — the service was not running at `slot` (cli/nightly.ts notices at start), as the
   * scheduler does itself for a slot its timer missed (paused or busy): once, after `delayMs`, not while a run
   * is going and not when a fire for that slot or a later one came meanwhile. `why` goes into the log line.
   * `stillMissed`: asked again when the catch-up is due (cli/nightly.ts: no report run recorded since — one run by hand,
   * or by another service on the database); false: it is not run, and that is logged.
   */
  runMissed(slot: Date, why: string, delayMs?: number, stillMissed?: () => boolean): void;
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
  const givenNow = opts.now;
  const mono = opts.monotonic ?? (givenNow ? () => givenNow().getTime() : () => performance.now());
  const setTimer =
    opts.setTimer ??
    ((fn: () => void, ms: number) => {
      const t = setTimeout(fn, ms);
      t.unref(); // the schedule's own timer (timerTask) keeps the service alive
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

  // The last scheduled fire (the timer's, node-cron's in tests, or a catch-up): its instant (wall clock), when by the
  // monotonic clock, and which task (cronParts: node-cron may need two) fired it — -1: a catch-up. Its local time is worked out
  // in the schedule's zone of the moment (lastLocal): a fire is compared with it in one zone, also after the zone changed.
  let lastFire: { at: number; mono: number; part: number } | null = null;
  /** The last backward clock step checkClock saw (by the monotonic clock, and how far back). */
  let lastStep: { mono: number; by: number } | null = null;
  /** The local time of instant `t` in the schedule's zone, to its second (wallMs). */
  const localSecond = (t: number) => Math.floor(wallMs(t, timezone) / 1000) * 1000;
  let catchUp: { clear(): void } | null = null;
  /** The slot of a missed-run catch-up armed on the catch-up timer. */
  let pendingMissed: number | null = null;

  /**
   * A scheduled fire. The report runs once per local time: a fire within a few hours (SHIFT_WINDOW_MS, by the monotonic
   * clock) of the last one whose local time is not later than the last fire's is ignored — the clocks went back when
   * daylight saving ended and the hour repeats (the timer does not fire there; node-cron 4 fires at the second showing
   * east of UTC: this keeps one run whatever fires), or the server's clock was set back over a slot that already ran. Later than that it is another night (a
   * clock days fast, corrected: the nights it ran ahead come again, and are run). Local times are compared in the
   * schedule's zone of the moment (a zone changed since the last fire: that fire's instant in the new zone). A fire
   * within the same second is another tick of the same slot (tick() skips it while the run goes on). A day matching
   * both parts of a schedule (cronParts: "0 3 1,15 * 1" on a Monday the 1st) fires both of its node-cron tasks: the
   * second, in the same local minute, is the same slot and is ignored — one report, not a second one once the first
   * has finished.
   */
  async function fire(part = -1): Promise<void> {
    checkClock(); // a step since the last look: the task made again, and the step known to the rule below
    const at = now().getTime();
    const m = mono();
    const local = localSecond(at);
    if (lastFire) {
      const lastLocal = localSecond(lastFire.at);
      const since = m - lastFire.mono;
      if (part >= 0 && lastFire.part >= 0 && part !== lastFire.part && Math.floor(local / MINUTE) === Math.floor(lastLocal / MINUTE)) return;
      if (since >= 1000 && since < SHIFT_WINDOW_MS && local <= lastLocal) {
        const stepped = lastStep !== null && lastStep.mono > lastFire.mono;
        log(
          `nightly report: ${new Date(local).toISOString().slice(0, 19).replace('T', ' ')} ${timezone ?? 'server time'} came round again ` +
            (stepped ? `(the server's clock was set back by ${duration(lastStep!.by)})` : '(the clocks went back for daylight saving)') +
            `; the report already ran for it at ${new Date(lastFire.at).toISOString()}${stepped ? ' by the clock before the step' : ''}, this tick is ignored`,
        );
        return;
      }
    }
    lastFire = { at, mono: m, part };
    try {
      await tick();
    } finally {
      armCatchUp();
    }
  }

  /**
   * Whether a fire came for the slot at `slotAt` or a later one: since `armed` (monotonic), or at a wall-clock instant at
   * or after the slot — unless the clock was set back since that fire (its instant was read on the clock before the
   * step, and may be ahead of slots still to run).
   */
  function firedFor(slotAt: number, armed: number): boolean {
    if (!lastFire) return false;
    if (lastFire.mono >= armed) return true;
    return lastFire.at >= slotAt && !(lastStep !== null && lastStep.mono > lastFire.mono);
  }

  /**
   * The schedule's timer missed a slot (it fired more than MISSED_TOLERANCE_MS late: the process was paused or busy;
   * node-cron's 'execution:missed' in tests), or the clock was set forward over one. The catch-up timer runs the report at once, the way it runs one after a daylight-saving gap: once for any number of
   * missed slots (the first arms the timer, the others find it armed), and not when a fire
   * for that slot or a later one came meanwhile, nor while a run is going (that run is the night's report).
   */
  function missed(slot: Date, why = 'the process was paused or busy', delayMs = 0, stillMissed?: () => boolean): void {
    if (stopped) return;
    const at = slot.getTime();
    const when = `${new Date(at).toISOString()} (${timezone ?? 'server time'})`;
    if (current) {
      log(`nightly report: the run due at ${when} was missed (${why}); a report is running, not starting another`);
      return;
    }
    if (pendingMissed !== null) return;
    pendingMissed = at;
    const armed = mono();
    catchUp?.clear();
    catchUp = setTimer(() => {
      catchUp = null;
      pendingMissed = null;
      if (stopped) return;
      if (current || firedFor(at, armed)) {
        // Ran meanwhile, or running: that run is the slot's report.
        log(`nightly report: the run due at ${when} was missed (${why}); ${current ? 'a report is running, not starting another' : 'a later run came meanwhile, not running it again'}`);
        return armCatchUp();
      }
      let still = true;
      try {
        still = stillMissed ? stillMissed() : true;
      } catch {
        still = true; // the history unreadable: the run says so (its own lock keeps it from overlapping another)
      }
      if (!still) {
        log(`nightly report: the run due at ${when} was missed (${why}); a report run has been recorded since, not running it again`);
        return armCatchUp();
      }
      log(`nightly report: the run due at ${when} was missed (${why}); running it now`);
      void fire();
    }, delayMs);
  }

  /**
   * The schedule's timer (and node-cron) skips a local time that does not exist (the hour skipped when daylight saving
   * starts), which would skip that night's report: when the next run is one of those, a timer runs it at the first moment after the gap.
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

  /**
   * The scheduler's own timer for the schedule (the default; tests may pass node-cron's schedule or a stand-in). It
   * waits for the next of plannedRuns — the instants nextRuns shows — leaving a run right after a daylight-saving gap
   * to armCatchUp, and fires then; a repeated local time runs at its first showing, as nextRuns says. Instants come
   * from Intl in the schedule's zone and from now(): never from the process's local-time Date methods (node-cron's
   * nowWithoutMs, see the top of this file). Its timer waits a duration, a day at most (then it looks again); woken more
   * than MISSED_TOLERANCE_MS after the slot (the process was paused or busy), the slot goes to missed(), as node-cron's
   * 'execution:missed' did. A fire is not awaited: the next slot is armed while a run goes on, and a slot during it is
   * skipped by tick() with a line in the log. Its timer keeps the service alive (node-cron's did).
   */
  function timerTask(expr: string, tz: string | undefined): Pick<ScheduledTask, 'stop' | 'destroy'> & { rearm(): void } {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let due: number | null = null;
    const clear = () => {
      if (timer) clearTimeout(timer);
      timer = null;
    };
    const arm = (from: number) => {
      clear();
      if (!live || stopped) return;
      let next: PlannedRun | undefined;
      try {
        next = plannedRuns(expr, tz, new Date(from), 2, new Date(from + TIMER_LOOKAHEAD_MS)).find((r) => !r.catchUp);
      } catch {
        next = undefined; // validated already
      }
      due = next ? next.at.getTime() : null;
      const wait = due === null ? DAY_MS : Math.min(Math.max(1, due - now().getTime()), DAY_MS);
      timer = setTimeout(wake, wait);
    };
    const wake = () => {
      timer = null;
      if (!live || stopped) return;
      checkClock(); // a step of the wall clock: this task made again (set back) or armed again (forward)
      if (!live || timer) return;
      const t = now().getTime();
      if (due === null || t < due) return arm(t); // the daily look, or a timer a little early for the wall clock
      const slot = due;
      arm(Math.max(slot, t));
      if (t - slot <= MISSED_TOLERANCE_MS) void fire(0);
      else missed(new Date(slot));
    };
    arm(now().getTime());
    const end = () => {
      live = false;
      clear();
    };
    return { stop: end, destroy: end, rearm: () => arm(now().getTime()) };
  }

  const schedule = opts.schedule;
  // Every task calls the same fire() and tick(), so the skip-while-running and once-per-local-time rules hold across a
  // reschedule. Without `schedule`, the scheduler's own timer; with it, one task per part of the schedule (cronParts),
  // stopped and destroyed together.
  const scheduleTask = (expr: string, tz: string | undefined): Pick<ScheduledTask, 'stop' | 'destroy'> & { rearm?(): void } => {
    if (!schedule) return timerTask(expr, tz);
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

  // The clock watch: the wall clock and the monotonic one as last seen together.
  let seen = { wall: now().getTime(), mono: mono() };
  function checkClock(): boolean {
    if (stopped) return false;
    const wall = now().getTime();
    const m = mono();
    const drift = wall - seen.wall - (m - seen.mono);
    const before = seen.wall + (m - seen.mono); // the wall clock now, had it not been stepped
    seen = { wall, mono: m };
    if (drift > CLOCK_STEP_MS) return steppedForward(before, wall, drift);
    if (drift >= -CLOCK_STEP_MS) return false;
    lastStep = { mono: m, by: -drift };
    // The task's timer waits for the slot it computed before the step (its timer a duration, its slot an instant of the
    // old clock): a task made now starts from the corrected time. A run in progress is tick()'s and goes on.
    let next: Pick<ScheduledTask, 'stop' | 'destroy'>;
    try {
      next = scheduleTask(cronExpr, timezone);
    } catch (e) {
      log(`nightly report: the server's clock was set back by ${duration(-drift)}, and the schedule could not be taken up again: ${(e as Error)?.message ?? String(e)}`);
      return false;
    }
    const old = task;
    task = next;
    void Promise.resolve(old.destroy()).catch(() => {});
    armCatchUp();
    const upcoming = nextRuns(cronExpr, timezone, now(), 1)[0];
    log(
      `nightly report: the server's clock was set back by ${duration(-drift)} (it reads ${new Date(wall).toISOString()}); ` +
        `the schedule ${describe()} is taken up again from the corrected time, next run ${upcoming?.toISOString() ?? '—'}`,
    );
    return true;
  }
  /**
   * The wall clock went forward by `by` (from `before` to `wall`): the timer waits a duration computed under the old
   * clock — up to a day late for the slot it was going to, or a slot the step jumped over run only when it woke, as
   * "missed". Armed again from the new time; the last slot the step passed over (if any) runs now, once (missed()).
   */
  function steppedForward(before: number, wall: number, by: number): boolean {
    task.rearm?.();
    armCatchUp();
    let first: Date | undefined;
    let skipped: Date | null = null;
    try {
      first = runsBetween(cronExpr, timezone, new Date(before), new Date(wall), 1)[0];
      skipped = first ? lastRunBetween(cronExpr, timezone, new Date(before), new Date(wall)) : null;
    } catch {
      skipped = null;
    }
    const over = !skipped ? '' : first && first.getTime() !== skipped.getTime() ? `the runs due from ${first.toISOString()} to ${skipped.toISOString()}` : `the run due at ${skipped.toISOString()}`;
    log(
      `nightly report: the server's clock was set forward by ${duration(by)} (it reads ${new Date(wall).toISOString()}); ` +
        (skipped ? `it passed over ${over}: the report runs now, once` : `no run was passed over, next run ${nextRuns(cronExpr, timezone, now(), 1)[0]?.toISOString() ?? '—'}`),
    );
    if (skipped) missed(skipped, `the server's clock was set forward by ${duration(by)}`);
    return true;
  }

  const every =
    opts.every ??
    ((fn: () => void, ms: number) => {
      const t = setInterval(fn, ms);
      t.unref(); // the schedule's own timer (timerTask) keeps the service alive
      return { clear: () => clearInterval(t) };
    });
  const watch = every(() => void checkClock(), CLOCK_CHECK_MS);

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
      // The new task first: if it is refused, the old one is still in place.
      const next = scheduleTask(expr, tz);
      const old = task;
      task = next;
      cronExpr = expr;
      timezone = tz;
      // Destroying a task only stops its timer; a run it started is tick()'s, and goes on.
      void Promise.resolve(old.destroy()).catch(() => {});
      log(`nightly report rescheduled: ${describe()}`);
      armCatchUp();
      return true;
    },
    tick,
    isRunning: () => current !== null,
    nextRuns: (n = 1) => nextRuns(cronExpr, timezone, now(), n),
    checkClock,
    runMissed: (slot, why, delayMs = 0, stillMissed) => missed(slot, why, delayMs, stillMissed),
    async stop() {
      if (stopped) return;
      stopped = true;
      watch.clear();
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
