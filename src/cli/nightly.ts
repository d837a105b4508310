// The nightly report inside the background service of each install — `mailhealth serve` (standalone) and
// `mailhealth service` (cPanel, Plesk): one scheduler per install, following the schedule saved on the settings page
// (a refresh right after a save, and a check every minute for a save made by another process), with
// --report-cron / --report-tz / --no-report on both commands.
import type { Command } from 'commander';
import { withSettings } from '../adapters/panels/with-settings.js';
import type { Store } from '../adapters/store/store.js';
import type { Panel } from '../core/panel.js';
import { jsonText } from '../core/text.js';
import { deliverNightly, deliverNotice, type Mailer } from '../adapters/mail/deliver.js';
import { ScheduleError, validateCronExpr, validateTimezone } from '../adapters/schedule/expression.js';
import { runReport } from '../cron/report.js';
import { startScheduler, type Scheduler, type SchedulerOptions } from '../cron/scheduler.js';
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
 * The schedule the nightly report should run on, read now: --report-cron / --report-tz each win over their
 * settings-page field, else the settings, else 03:00 server time. Read the same way at start and on every refresh, so
 * a saved schedule gives what a restart would. The white space around a value is not part of it: a schedule stored by
 * hand often ends in a newline ("0 3 * * *\n" is "0 3 * * *"); one that is only white space is not set.
 */
export function wantedSchedule(o: ReportFlags, store: Pick<Store, 'getSetting'>): { cronExpr: string; timezone: string | undefined } {
  const trimmed = (v: unknown) => (typeof v === 'string' ? v.trim() || undefined : v);
  const cronExpr = (trimmed(o.reportCron) ?? trimmed(store.getSetting<unknown>(SETTING_KEYS.reportSchedule)) ?? DEFAULT_CRON) as string;
  const timezone = (trimmed(o.reportTz) ?? trimmed(store.getSetting<unknown>(SETTING_KEYS.reportTimezone)) ?? undefined) as string | undefined;
  return { cronExpr, timezone: timezone || undefined };
}

/**
 * wantedSchedule at start-up. A flag that will not do is the admin's typo: the command refuses to start (UsageError,
 * from startScheduler). A stored value that will not do — edited by hand, or a time zone this runtime no longer
 * knows — must not keep the background service down: it is logged and that field starts at its default; refresh()
 * keeps logging it until it is fixed, as it does for a bad value saved later.
 */
function startingSchedule(o: ReportFlags, store: Pick<Store, 'getSetting'>, log: (m: string) => void): { cronExpr: string; timezone: string | undefined } {
  const want = wantedSchedule(o, store);
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

/** Test seams of startNightlyReport: node-cron's stand-in, the log and the mailer. */
export interface NightlySeams {
  schedule?: SchedulerOptions['schedule'];
  log?: (m: string) => void;
  mailer?: Mailer;
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
      run: nightlyRun(o, panel, store, log, seams.mailer),
      ...(seams.schedule ? { schedule: seams.schedule } : {}),
    });
  } catch (e) {
    if (e instanceof ScheduleError) throw new UsageError(e.message);
    throw e;
  }
  const refresh = followSettings(o, store, scheduler, log);
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

/** refresh() of startNightlyReport. A bad stored value is logged when it first shows up, not every minute. */
function followSettings(o: ReportFlags, store: Store, scheduler: Scheduler, log: (m: string) => void): () => boolean {
  let lastProblem = '';
  return () => {
    try {
      const want = wantedSchedule(o, store);
      const changed = scheduler.reschedule(want.cronExpr, want.timezone);
      lastProblem = '';
      return changed;
    } catch (e) {
      const problem = (e as Error)?.message ?? String(e);
      if (problem !== lastProblem) log(`the saved report schedule is not used, "${scheduler.cronExpr}" stays: ${problem}`);
      lastProblem = problem;
      return false;
    }
  };
}

/**
 * One nightly run: audit, report, deliver, prune — with the settings as they are at that moment. The delivery
 * settings are read only when the report is saved, and leniently: a bad saved value stops the mail it concerns
 * (logged and recorded as a failed delivery), never the audit, the saved report or the prune. A panel that cannot be
 * read (its account or domain list) leaves nothing to audit: the night is recorded as a failed run and the admin's
 * recipients get a short notice saying so (runReport's onPanelFailure) — never a report, never a silent night.
 */
function nightlyRun(o: GlobalOptions, panel: Panel, store: Store, log: (m: string) => void, mailer?: Mailer): SchedulerOptions['run'] {
  return async ({ signal }) => {
    const resolver = resolverFactory(o, store)();
    try {
      await runReport({
        store,
        panel: withSettings(panel, store),
        resolver,
        signal,
        log,
        auditOptions: auditOptionsFrom(store),
        // The nights are dated in the schedule's own time zone (--report-tz, else the settings page's, else the server's).
        timeZone: wantedSchedule(o, store).timezone,
        deliver: (oc) => deliverNightly(oc, { store, log, signal, ...(mailer ? { mailer } : {}) }),
        onPanelFailure: (f) => deliverNotice(f, { store, log, signal, ...(mailer ? { mailer } : {}) }),
      });
      const pruned = store.prune({ olderThanDays: retentionDays(store) });
      log(`history pruned: ${JSON.stringify(pruned)}`);
    } finally {
      (resolver as { close?: () => void }).close?.();
    }
  };
}
