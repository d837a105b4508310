// mailhealth serve [--host 127.0.0.1] [--port N]   — the web UI and JSON API (standalone: login + admin token)
//   [--report-cron EXPR] [--report-tz ZONE] [--no-report] — and the nightly report (startNightlyReport, which
//   `mailhealth service` on the panels uses too)
// mailhealth user set-password USER                — reads the password from stdin; USER must be a panel account
import { isIP } from 'node:net';
import type { Command } from 'commander';
import { createResolver, parseServer, type ResolverOptions } from '../../adapters/dns/resolver.js';
import { loadConfig } from '../../adapters/panels/factory.js';
import { auditOptionsFrom, SETTING_KEYS, type ScheduleOverrides } from '../../web/settings.js';
import { hashPassword } from '../../web/passwords.js';
import { startServer } from '../../web/server.js';
import { panelFromOptions, resolverOptionsFrom, storeFromOptions, UsageError, type GlobalOptions } from '../context.js';
import type { Store } from '../../adapters/store/store.js';
import type { Resolver } from '../../core/resolver.js';
import type { Panel } from '../../core/panel.js';
import { withSettings } from '../../adapters/panels/with-settings.js';
import { DEFAULT_CRON, ScheduleError, startScheduler, validateCronExpr, validateTimezone, type Scheduler, type SchedulerOptions } from '../../cron/scheduler.js';
import { runReport } from '../../cron/report.js';
import { deliverReport, deliverySettings } from '../../cron/deliver.js';
import { retentionDays } from './fix.js';

export function parsePort(v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port takes a number from 0 to 65535 (got ${JSON.stringify(v)})`);
  return n;
}

/** The resolver's options, read at each use: the --resolver flag, unless the admin chose one on the settings page. */
export function resolverOptionsFactory(o: GlobalOptions, store: Store): () => ResolverOptions {
  return () => {
    const chosen = store.getSetting<string>(SETTING_KEYS.dnsResolver);
    if (typeof chosen === 'string' && chosen && isIP(parseServer(chosen).host) !== 0) {
      return { servers: [chosen], concurrency: 64, ...(o.authoritativePort ? { authoritativePort: o.authoritativePort } : {}) };
    }
    return resolverOptionsFrom(o);
  };
}

/** A fresh resolver per request/job, from resolverOptionsFactory. */
export function resolverFactory(o: GlobalOptions, store: Store): () => Resolver {
  const options = resolverOptionsFactory(o, store);
  return () => createResolver(options());
}

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
 * a saved schedule gives what a restart would.
 */
export function wantedSchedule(o: ReportFlags, store: Pick<Store, 'getSetting'>): { cronExpr: string; timezone: string | undefined } {
  const cronExpr = o.reportCron ?? store.getSetting<string>(SETTING_KEYS.reportSchedule) ?? DEFAULT_CRON;
  const timezone = o.reportTz ?? store.getSetting<string>(SETTING_KEYS.reportTimezone) ?? undefined;
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
    log(`the saved report ${field} ${JSON.stringify(value)} is not used, ${to} instead: ${(e as Error)?.message ?? String(e)}`);
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

/** Test seams of startNightlyReport: node-cron's stand-in and the log. */
export interface NightlySeams {
  schedule?: SchedulerOptions['schedule'];
  log?: (m: string) => void;
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
  const log = seams.log ?? ((m: string) => process.stderr.write(`mailhealth: ${m}\n`));
  const want = startingSchedule(o, store, log);
  let scheduler: Scheduler;
  try {
    scheduler = startScheduler({
      cronExpr: want.cronExpr,
      ...(want.timezone ? { timezone: want.timezone } : {}),
      log,
      run: nightlyRun(o, panel, store, log),
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

/** One nightly run: audit, report, deliver, prune — with the settings as they are at that moment. */
function nightlyRun(o: GlobalOptions, panel: Panel, store: Store, log: (m: string) => void): SchedulerOptions['run'] {
  return async ({ signal }) => {
    const resolver = resolverFactory(o, store)();
    try {
      const settings = deliverySettings(store);
      await runReport({ store, panel: withSettings(panel, store), resolver, signal, log, auditOptions: auditOptionsFrom(store), deliver: (oc) => deliverReport(oc, { store, settings, log }) });
      const pruned = store.prune({ olderThanDays: retentionDays(store) });
      log(`history pruned: ${JSON.stringify(pruned)}`);
    } finally {
      (resolver as { close?: () => void }).close?.();
    }
  };
}

export function adminTokenFrom(o: GlobalOptions): string | null {
  if (process.env.MAILHEALTH_ADMIN_TOKEN) return process.env.MAILHEALTH_ADMIN_TOKEN;
  const cfg = loadConfig(o.config) as { adminToken?: unknown };
  return typeof cfg.adminToken === 'string' && cfg.adminToken ? cfg.adminToken : null;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function registerServeCommands(program: Command): void {
  addReportOptions(
    program
      .command('serve')
      .description('serve the web UI and JSON API on loopback')
      .option('--host <host>', 'listen address (loopback or a Unix socket path)', '127.0.0.1')
      .option('--port <n>', 'port', '8080'),
  )
    .action(async (_o, cmd: Command) => {
      const o = cmd.optsWithGlobals() as GlobalOptions & { host: string; port: string; reportCron?: string; reportTz?: string; report?: boolean };
      const panel = panelFromOptions(o);
      const store = storeFromOptions(o);
      const report = o.report === false ? null : startNightlyReport(o, panel, store);
      const running = await startServer({
        panel,
        store,
        makeResolver: resolverFactory(o, store),
        resolverOptions: resolverOptionsFactory(o, store),
        identityFrom: 'session',
        adminToken: adminTokenFrom(o),
        host: o.host,
        port: parsePort(o.port, 8080),
        ...report?.web,
      }).catch(async (e: unknown) => {
        // Not listening: stop the report too, or its node-cron task would keep the process from exiting.
        await report?.stop();
        store.close();
        throw e;
      });
      // The handlers before the start-up lines: whoever waits for those lines can stop serve cleanly.
      const stopped = new Promise<void>((resolve) => {
        const stop = () => void Promise.all([running.close(), report?.stop()]).then(() => resolve());
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      process.stderr.write(`mailhealth: serving on ${running.url}\n`);
      if (report) process.stderr.write(`mailhealth: ${describeNightlyReport(report.scheduler)}\n`);
      await stopped;
      store.close();
      process.exitCode = 0;
    });

  const user = program.command('user').description('standalone web logins');
  user
    .command('set-password')
    .description('set the web login password of a panel account (read from stdin)')
    .argument('<user>')
    .action(async (name: string, _o, cmd: Command) => {
      const o = cmd.optsWithGlobals() as GlobalOptions;
      const panel = panelFromOptions(o);
      const accounts = await panel.listAccounts();
      if (!accounts.some((a) => a.user === name)) throw new UsageError(`${name}: the panel has no such account`);
      const password = (await readStdin()).replace(/\r?\n$/, '');
      if (password.length < 8) throw new UsageError('the password must be at least 8 characters');
      const store = storeFromOptions(o);
      try {
        store.setPasswordHash(name, await hashPassword(password));
      } finally {
        store.close();
      }
      process.stderr.write(`mailhealth: password set for ${name}\n`);
      process.exitCode = 0;
    });
}
