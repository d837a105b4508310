// The nightly report inside the background service of each install — `mailhealth serve` (standalone) and
// `mailhealth service` (cPanel, Plesk): one scheduler per install, following the schedule saved on the settings page
// (a refresh right after a save, and a check every minute for a save made by another process), with
// --report-cron / --report-tz / --no-report on both commands. At start, a night the service was not running for (no
// report run recorded since its slot), or whose run the stop before this start cut short, is logged and run once, a
// few minutes later (catchUpMissedNights).
import type { Command } from 'commander';
import { withSettings } from '../adapters/panels/with-settings.js';
import type { Run, Store } from '../adapters/store/store.js';
import type { Panel } from '../core/panel.js';
import { jsonText } from '../core/text.js';
import { deliverNightly, deliverNotice, type Mailer } from '../adapters/mail/deliver.js';
import { olderScheduleForm, ScheduleError, validateCronExpr, validateTimezone } from '../adapters/schedule/expression.js';
import { DATABASE_FAILED, defaultLockOwner, recordFailedNight, ReportInterruptedError, runReport } from '../cron/report.js';
import { isBusy } from '../adapters/store/busy.js';
import { lastRunBetween, runsBetween, startScheduler, type Scheduler, type SchedulerOptions } from '../cron/scheduler.js';
import { auditOptionsFrom, DEFAULT_CRON, SETTING_KEYS, type ScheduleOverrides } from '../core/settings.js';
import { lineLog } from './log.js';
import { retentionDays } from './commands/fix.js';
import { resolverFactory, UsageError, type GlobalOptions } from './context.js';

export type ReportFlags = GlobalOptions & { reportCron?: string; reportTz?: string };

/** The nightly report options of `serve` and `service` (the background service of each install), same on both. */
export function addReportOptions(cmd: Command): Command {
  return cmd
    .option('--report-cron <expr>', 'when the nightly report runs; the settings page then cannot change it (default: follow the settings page, else "0 3 * * *")')
    .option('--report-tz <zone>', 'IANA time zone of the schedule; the settings page then cannot change it (default: follow the settings page, else the server\'s)')
    .option('--no-report', 'do not schedule the nightly report');
}

/** How often the background service looks for a schedule saved by another process (a CGI front door, a script). */
export const SCHEDULE_CHECK_MS = 60_000;

/**
 * A saved schedule in a form older versions took, run as its five fields (olderScheduleForm, sameTimes): `stored` as
 * saved (trimmed), `cronExpr` what runs.
 */
export interface OlderSchedule {
  stored: string;
  cronExpr: string;
  form: string;
}

/**
 * The schedule the nightly report should run on, read now: --report-cron / --report-tz each win over their
 * settings-page field, else the settings, else 03:00 server time. Read the same way at start and on every refresh, so
 * a saved schedule gives what a restart would. The white space around a value is not part of it: a schedule stored by
 * hand often ends in a newline ("0 3 * * *\n" is "0 3 * * *"); one that is only white space is not set.
 * A saved schedule in a form the settings page of older versions took — six fields with seconds 0, a nickname such as
 * `@daily` — runs as its five fields, at the very times those versions ran it (`older` says so, for the log); it is
 * not rewritten in the database (nothing here writes): saving the settings page stores the five fields, which the
 * page shows. The flag is not converted: --report-cron is typed now, and refused with its five fields named.
 */
export function wantedSchedule(o: ReportFlags, store: Pick<Store, 'getSetting'>): { cronExpr: string; timezone: string | undefined; older?: OlderSchedule } {
  const trimmed = (v: unknown) => (typeof v === 'string' ? v.trim() || undefined : v);
  const flag = trimmed(o.reportCron);
  const saved = trimmed(store.getSetting<unknown>(SETTING_KEYS.reportSchedule));
  const cronExpr = (flag ?? saved ?? DEFAULT_CRON) as string;
  const timezone = (trimmed(o.reportTz) ?? trimmed(store.getSetting<unknown>(SETTING_KEYS.reportTimezone)) ?? undefined) as string | undefined;
  const older = flag === undefined && typeof saved === 'string' ? olderScheduleForm(saved) : null;
  if (older?.sameTimes) return { cronExpr: older.cronExpr, timezone: timezone || undefined, older: { stored: saved as string, cronExpr: older.cronExpr, form: older.form } };
  return { cronExpr, timezone: timezone || undefined };
}

/** The log line for a saved schedule run as its five fields (wantedSchedule's `older`). */
export function olderScheduleLine(older: OlderSchedule): string {
  return (
    `the saved report schedule ${jsonText(older.stored)} is in a form older versions took (${older.form}): it runs as "${older.cronExpr}", ` +
    'at the same times; saving the settings page stores it in that form'
  );
}

/**
 * wantedSchedule at start-up. A flag that will not do is the admin's typo: the command refuses to start (UsageError,
 * from startScheduler). A stored value that will not do — edited by hand, or a time zone this runtime no longer
 * knows — must not keep the background service down: it is logged and that field starts at its default; refresh()
 * keeps logging it until it is fixed, as it does for a bad value saved later. One an older version's settings page
 * saved (six fields with seconds 0, `@daily`) runs as its five fields, at the same times, and the log says so: the
 * admin set that time, and falling back to 03:00 moved their report without a word where they look (the settings page
 * shows the five fields and a note).
 */
function startingSchedule(o: ReportFlags, store: Pick<Store, 'getSetting'>, log: (m: string) => void): ReturnType<typeof wantedSchedule> {
  const want = wantedSchedule(o, store);
  if (want.older) log(olderScheduleLine(want.older));
  const fallBack = (field: string, value: string, to: string, e: unknown) =>
    log(`the saved report ${field} ${jsonText(value)} is not used, ${to} instead: ${(e as Error)?.message ?? String(e)}`);
  if (o.reportCron === undefined) {
    try {
      validateCronExpr(want.cronExpr);
    } catch (e) {
      fallBack('schedule', want.cronExpr, `"${DEFAULT_CRON}"`, e);
      want.cronExpr = DEFAULT_CRON;
    }
  }
  if (o.reportTz === undefined && want.timezone !== undefined) {
    try {
      validateTimezone(want.timezone);
    } catch (e) {
      fallBack('time zone', want.timezone, 'server time', e);
      want.timezone = undefined;
    }
  }
  return want;
}

function overridesFrom(o: ReportFlags): ScheduleOverrides {
  return { ...(o.reportCron !== undefined ? { cronExpr: o.reportCron } : {}), ...(o.reportTz !== undefined ? { timezone: o.reportTz } : {}) };
}

export interface NightlyReport {
  scheduler: Scheduler;
  /**
   * Re-reads the schedule settings and reschedules when they changed; true when it did. Never throws (it runs from a
   * timer and after a save): a stored schedule that will not do is logged once and the old schedule stays.
   */
  refresh(): boolean;
  /** For the web app: the settings page refreshes the schedule right after a save and names the fixed fields. */
  web: { onSettingsSaved: () => void; scheduleOverrides: ScheduleOverrides };
  /** Stops the periodic check and the scheduler (aborting a run in progress). */
  stop(): Promise<void>;
}

/**
 * The waits before the nightly run tries again when the history database was busy (another process held its write
 * lock past the store's busy timeout): 4 tries over about 3½ minutes. Long enough for a bulk audit's batch, a fix, a
 * backup's copy; bounded, so a database held for good costs one notice, not the whole night.
 */
export const NIGHTLY_BUSY_RETRY_MS: readonly number[] = [30_000, 60_000, 120_000];

/** Test seams of startNightlyReport: node-cron's stand-in, the log, the mailer, and the waits of a busy night. */
export interface NightlySeams {
  schedule?: SchedulerOptions['schedule'];
  log?: (m: string) => void;
  mailer?: Mailer;
  /** The waits between tries of a night the database was busy (default NIGHTLY_BUSY_RETRY_MS). */
  busyRetryMs?: readonly number[];
  /**
   * The wait itself (default a timer, cut short when the service stops): also the report's short waits while saving
   * (runReport's sleep). Tests pass one that needs no wall clock.
   */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** The scheduler's clock and catch-up timer (startScheduler's `now` / `setTimer`): a missed night without waiting. */
  now?: SchedulerOptions['now'];
  setTimer?: SchedulerOptions['setTimer'];
}

/**
 * How long after the service starts a night it missed is run (catchUpMissedNights): after a reboot the panel's own
 * services (cpsrvd, Plesk's sw-cp-server) and the DNS resolver may not answer yet, and a run then would be recorded as
 * "the panel could not be read" — the night lost after all, and the admin told the panel was down.
 */
export const MISSED_NIGHT_DELAY_MS = 5 * 60_000;
/** Slots counted at most when saying how many were missed (a schedule every minute, a service down for days). */
const MISSED_COUNT_MAX = 100;
/**
 * How far back missed slots are looked for: a month and a day, so a monthly schedule's last slot is always seen (a
 * search further back costs seconds at start with a sparse schedule: plannedRuns walks the calendar hour by hour).
 */
const MISSED_LOOKBACK_MS = 32 * 24 * 60 * 60_000;

/**
 * At start: the slots of the schedule that passed since the last report run recorded (any status: a run started for a
 * slot, even one that failed or was interrupted, is that night's; looked for over the last 32 days) — the service was
 * not running then (stopped, being restarted or upgraded, the server down or rebooting across the slot). They are
 * logged, and the report runs once, MISSED_NIGHT_DELAY_MS later — as a slot missed while the process was paused or
 * busy runs once (the scheduler's runMissed: not while a run goes on, not when a slot fires meanwhile). Once, however
 * many nights: the report compares with the last complete run, so every problem found or fixed in between is in it.
 * A history with no report run yet (a new install) has no night to catch up.
 * With no slot missed, the latest slot's own run may have been cut short by the stop this start follows (an upgrade
 * stops the service, review r1): that night is caught up once too — see interruptedNight for when, and why never twice.
 * Returns the slot run for, or null. Never throws (a start must not fail on it).
 */
export function catchUpMissedNights(store: Pick<Store, 'listRuns'>, scheduler: Scheduler, log: (m: string) => void, now: Date, delayMs = MISSED_NIGHT_DELAY_MS): Date | null {
  try {
    const recent = store.listRuns({ kind: 'report', limit: 2 });
    const last = recent[0];
    if (!last) return null;
    const lastStart = Date.parse(last.startedAt);
    // A last run "in the future" (the clock was set back since): no slot can be said to have been missed.
    if (!Number.isFinite(lastStart) || lastStart >= now.getTime()) return null;
    const { cronExpr, timezone } = scheduler;
    const from = Math.max(lastStart, now.getTime() - MISSED_LOOKBACK_MS);
    // Counted up to one past the most said; the latest looked for apart when there are more (a dense schedule).
    const slots = runsBetween(cronExpr, timezone, new Date(from), now, MISSED_COUNT_MAX + 1);
    const zone = timezone ?? 'server time';
    const when = delayMs >= 60_000 && delayMs % 60_000 === 0 ? `in ${delayMs / 60_000} minute${delayMs === 60_000 ? '' : 's'}` : `in ${seconds(delayMs)}`;
    if (!slots.length) {
      const slot = interruptedNight(recent, scheduler, now, delayMs);
      if (!slot) return null;
      log(
        `nightly report: the run due at ${slot.toISOString()} (${zone}) did not finish: run ${last.id}, started ${last.startedAt}, was ` +
          `${last.status === 'running' ? 'left running' : 'interrupted'} by the stop before this start; the report runs once ${when} ` +
          '(once only: not again if that run is interrupted too), and compares with the last complete run',
      );
      scheduler.runMissed(slot, 'its run was interrupted by a stop', delayMs, noRunSince(store, last.id));
      return slot;
    }
    const latest = slots.length > MISSED_COUNT_MAX ? (lastRunBetween(cronExpr, timezone, slots[slots.length - 1], now) ?? slots[slots.length - 1]) : slots[slots.length - 1];
    const what =
      slots.length === 1
        ? `the run due at ${latest.toISOString()} (${zone}) did not happen`
        : `${slots.length > MISSED_COUNT_MAX ? `more than ${MISSED_COUNT_MAX}` : slots.length} runs due from ${slots[0].toISOString()} to ${latest.toISOString()} (${zone})` +
          `${from > lastStart ? ' — those of the last 32 days —' : ''} did not happen`;
    log(
      `nightly report: ${what}: the service was not running (the last report run recorded, run ${last.id}, started ${last.startedAt}); ` +
        `the report runs once ${when}, and compares with the last complete run`,
    );
    scheduler.runMissed(latest, 'the service was not running', delayMs, noRunSince(store, last.id));
    return latest;
  } catch (e) {
    log(`nightly report: could not tell whether a night was missed while the service was not running: ${(e as Error)?.message ?? String(e)}`);
    return null;
  }
}

/**
 * For runMissed, asked when the catch-up is due (MISSED_NIGHT_DELAY_MS after the start): whether the report run that
 * was the latest at start (`seenId`) still is. Another one recorded meanwhile — `mailhealth report` run by hand, or a
 * second service on the same database that started a few minutes earlier — is that night's report: not run again.
 */
function noRunSince(store: Pick<Store, 'listRuns'>, seenId: Run['id']): () => boolean {
  return () => {
    const [latest] = store.listRuns({ kind: 'report', limit: 1 });
    return !latest || latest.id === seenId;
  };
}

/** A report run that recorded a failed night (meta.failed: the panel could not be read, the database stayed busy). */
const failedNight = (run: Run): boolean => !!run.meta && typeof run.meta === 'object' && 'failed' in (run.meta as Record<string, unknown>);

/**
 * The slot whose report a stop cut short, to be run once more at start — or null. `recent`: the two latest report
 * runs, newest first. All of these must hold:
 * - the latest run was stopped part-way: status `interrupted` (a stop aborts the run, runReport marks it so) or still
 *   `running` (a process killed or crashed under it; the next report marks it interrupted) — not `complete`, and not a
 *   failed night (meta.failed: the panel or the database failed, the night is recorded and the admin was told);
 * - it is the only run since the latest slot at or before its start: the slot was tried once. A second run since the
 *   slot — this very catch-up, or a `mailhealth report` by hand — means the night had its retry;
 * - it started within `delayMs` of the slot: the slot's own run, fired by the schedule. A catch-up never starts that
 *   early (it waits `delayMs` after a start that came after the slot), so a catch-up run that was itself interrupted
 *   is not caught up again.
 * Bounded either way: each try of a slot is a run recorded since it, and a second one ends it. A crash loop (the report
 * run crashing the service at every try) costs one extra run per night, never one per start; a run that completes
 * sends its report and is never repeated. A slot's run that began later than `delayMs` after it (the database busy for
 * minutes first, a slow panel listing) is not caught up: in doubt, not twice.
 */
function interruptedNight(recent: readonly Run[], scheduler: Scheduler, now: Date, delayMs: number): Date | null {
  const [last, before] = recent;
  if (!last || !(last.status === 'interrupted' || last.status === 'running') || failedNight(last)) return null;
  const started = Date.parse(last.startedAt);
  if (!Number.isFinite(started) || started >= now.getTime()) return null;
  // The latest slot at or before the run's start (a run recorded a moment after its slot, the panel listed first).
  const slot = lastRunBetween(scheduler.cronExpr, scheduler.timezone, new Date(started - MISSED_LOOKBACK_MS), new Date(started));
  if (!slot || started - slot.getTime() >= delayMs) return null;
  if (before && Date.parse(before.startedAt) >= slot.getTime()) return null;
  return slot;
}

/**
 * The nightly report inside the background service: `serve` (standalone) or `service` (cPanel, Plesk) — one
 * scheduler per install (node-cron; the SQLite lock also keeps a `mailhealth report` run by hand from overlapping).
 */
export function startNightlyReport(
  o: ReportFlags,
  panel: Panel,
  store: Store,
  seams: NightlySeams = {},
): NightlyReport {
  // Escaped lines (lineLog): the runs log the panel's errors, saved values and delivery failures as they came.
  const log = seams.log ?? lineLog();
  const want = startingSchedule(o, store, log);
  let scheduler: Scheduler;
  try {
    scheduler = startScheduler({
      cronExpr: want.cronExpr,
      ...(want.timezone ? { timezone: want.timezone } : {}),
      log,
      run: nightlyRun(o, panel, store, log, seams),
      ...(seams.schedule ? { schedule: seams.schedule } : {}),
      ...(seams.now ? { now: seams.now } : {}),
      ...(seams.setTimer ? { setTimer: seams.setTimer } : {}),
    });
  } catch (e) {
    if (e instanceof ScheduleError) throw new UsageError(e.message);
    throw e;
  }
  catchUpMissedNights(store, scheduler, log, seams.now ? seams.now() : new Date());
  const refresh = followSettings(o, store, scheduler, log, want.older?.stored ?? '');
  // With both flags given there is nothing in the settings to follow.
  const timer = o.reportCron !== undefined && o.reportTz !== undefined ? null : setInterval(refresh, SCHEDULE_CHECK_MS);
  timer?.unref();
  return {
    scheduler,
    refresh,
    web: { onSettingsSaved: refresh, scheduleOverrides: overridesFrom(o) },
    async stop() {
      if (timer) clearInterval(timer);
      await scheduler.stop();
    },
  };
}

/** The start-up line: `nightly report "0 3 * * *" (UTC), next 2026-…`. */
export function describeNightlyReport(scheduler: Scheduler): string {
  return `nightly report "${scheduler.cronExpr}"${scheduler.timezone ? ` (${scheduler.timezone})` : ''}, next ${scheduler.nextRuns(1)[0]?.toISOString() ?? '—'}`;
}

/**
 * refresh() of startNightlyReport. A bad stored value is logged when it first shows up, not every minute; so is one in
 * an older form run as its five fields (`olderLogged`: the one startingSchedule logged).
 */
function followSettings(o: ReportFlags, store: Store, scheduler: Scheduler, log: (m: string) => void, olderLogged = ''): () => boolean {
  let lastProblem = '';
  let lastOlder = olderLogged;
  return () => {
    try {
      const want = wantedSchedule(o, store);
      const changed = scheduler.reschedule(want.cronExpr, want.timezone);
      lastProblem = '';
      if (want.older && want.older.stored !== lastOlder) log(olderScheduleLine(want.older));
      lastOlder = want.older?.stored ?? '';
      return changed;
    } catch (e) {
      const problem = (e as Error)?.message ?? String(e);
      if (problem !== lastProblem) log(`the saved report schedule is not used, "${scheduler.cronExpr}" stays: ${problem}`);
      lastProblem = problem;
      return false;
    }
  };
}

/** Waits `ms`, or less when `signal` aborts (the service stops). */
function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * A night lost to a busy history database: the store's busy error before the run began (taking the report lock,
 * marking stale runs, recording the run), or a run it interrupted (a batch of results, the report's save). Not another
 * report run holding the report lock (heldLock: that run is the night's report), not the panel, not a stop.
 */
export function busyNight(e: unknown): boolean {
  return isBusy(e) || (e instanceof ReportInterruptedError && isBusy(e.cause));
}

const seconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`);

/**
 * One nightly run: audit, report, deliver, prune — with the settings as they are at that moment. The delivery
 * settings are read only when the report is saved, and leniently: a bad saved value stops the mail it concerns
 * (logged and recorded as a failed delivery), never the audit, the saved report or the prune. A panel that cannot be
 * read (its account or domain list) leaves nothing to audit: the night is recorded as a failed run and the admin's
 * recipients get a short notice saying so (runReport's onPanelFailure) — never a report, never a silent night.
 * A history database another process holds (busyNight) is waited out: the run is tried again after each of
 * NIGHTLY_BUSY_RETRY_MS (a tick meanwhile is skipped: this is still the night's run); still busy after the last, the
 * night is recorded and told as a panel outage is (recordFailedNight, kind 'database'), then the busy error goes on
 * (the scheduler logs it). A prune the database is too busy for is only logged: the next night prunes.
 */
function nightlyRun(o: GlobalOptions, panel: Panel, store: Store, log: (m: string) => void, seams: NightlySeams = {}): SchedulerOptions['run'] {
  const mailer = seams.mailer;
  const waits = seams.busyRetryMs ?? NIGHTLY_BUSY_RETRY_MS;
  const sleep = seams.sleep ?? abortableSleep;
  return async ({ signal }) => {
    const tries = waits.length + 1;
    // One owner for the night's tries: a report lock a busy database kept from being released is still this night's.
    const lockOwner = defaultLockOwner();
    for (let attempt = 1; ; attempt++) {
      try {
        await reportOnce(o, panel, store, log, signal, mailer, lockOwner, seams.sleep ? (ms) => seams.sleep!(ms, signal) : undefined);
        break;
      } catch (e) {
        if (!busyNight(e) || signal.aborted) throw e;
        const wait = waits[attempt - 1];
        if (wait === undefined) {
          const tried = `${tries} tries over ${seconds(waits.reduce((a, b) => a + b, 0))}`;
          await recordFailedNight(store, e, {
            kind: DATABASE_FAILED,
            byUser: await adminName(panel),
            tried,
            log,
            ...(seams.sleep ? { sleep: (ms: number) => seams.sleep!(ms, signal) } : {}),
            notify: (f) => deliverNotice(f, { store, log, signal, ...(mailer ? { mailer } : {}) }),
          });
          throw e;
        }
        log(`nightly report: the history database is busy (${(e as Error)?.message ?? String(e)}); trying again in ${seconds(wait)} (try ${attempt + 1} of ${tries})`);
        await sleep(wait, signal);
        if (signal.aborted) throw e;
      }
    }
    try {
      const pruned = await store.pruneAsync({ olderThanDays: retentionDays(store), signal });
      log(signal.aborted ? `history partly pruned (the service is stopping; the next night goes on): ${JSON.stringify(pruned)}` : `history pruned: ${JSON.stringify(pruned)}`);
    } catch (e) {
      if (!isBusy(e)) throw e;
      log(`history not pruned: ${(e as Error)?.message ?? String(e)} (the next night prunes)`);
    }
  };
}

/** The panel's admin account for a failed night's record ('admin' when the panel cannot say). */
async function adminName(panel: Panel): Promise<string> {
  try {
    return (await panel.listAccounts()).find((a) => a.role === 'admin')?.user ?? 'admin';
  } catch {
    return 'admin';
  }
}

/** One try of the night's report (nightlyRun): runReport with the service's settings, delivery and notice. */
async function reportOnce(
  o: GlobalOptions,
  panel: Panel,
  store: Store,
  log: (m: string) => void,
  signal: AbortSignal,
  mailer: Mailer | undefined,
  lockOwner: string,
  sleep: ((ms: number) => Promise<void>) | undefined,
): Promise<void> {
  const resolver = resolverFactory(o, store)();
  try {
    await runReport({
      store,
      // The admin's settings; a read of them that fails is said in the night's findings in words of its own, its raw
      // error (the database file's path) in this log (with-settings.ts).
      panel: withSettings(panel, store, { log }),
      resolver,
      signal,
      log,
      lockOwner,
      auditOptions: auditOptionsFrom(store),
      // The nights are dated in the schedule's own time zone (--report-tz, else the settings page's, else the server's).
      timeZone: wantedSchedule(o, store).timezone,
      deliver: (oc) => deliverNightly(oc, { store, log, signal, ...(mailer ? { mailer } : {}) }),
      onPanelFailure: (f) => deliverNotice(f, { store, log, signal, ...(mailer ? { mailer } : {}) }),
      ...(sleep ? { sleep } : {}),
    });
  } finally {
    (resolver as { close?: () => void }).close?.();
  }
}
