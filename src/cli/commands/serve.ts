// mailhealth serve [--host 127.0.0.1] [--port N]   — the web UI and JSON API (standalone: login + admin token)
//   [--report-cron EXPR] [--report-tz ZONE] [--no-report] — and the nightly report (../nightly.ts, which
//   `mailhealth service` on the panels uses too)
// mailhealth user set-password USER                — reads the password from stdin; USER must be a panel account
import type { Command } from 'commander';
import type { Store } from '../../adapters/store/store.js';
import type { Panel } from '../../core/panel.js';
import { hashPassword } from '../../web/passwords.js';
import { accountKey, PASSWORD_ACCOUNT_SETTING, REVOKED_BEFORE_SETTING, sweepGoneAccounts, type SweepOutcome } from '../../web/session.js';
import { checkListenHost, startServer, type RunningServer } from '../../web/server.js';
import { ScheduleError, validateCronExpr, validateTimezone } from '../../cron/scheduler.js';
import { configFromOptions, panelFromOptions, RANGES, readConfig, resolverFactory, resolverOptionsFactory, resolverOptionsFrom, storeFromOptions, UsageError, wholeNumber, type GlobalOptions } from '../context.js';
import { addReportOptions, describeNightlyReport, startNightlyReport, type NightlyReport, type ReportFlags } from '../nightly.js';

export function parsePort(v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  return wholeNumber('--port', v, ...RANGES.port);
}

/** --report-cron / --report-tz checked up front, so a typo stops the command before anything starts. */
export function checkReportFlags(o: ReportFlags & { report?: boolean }): void {
  if (o.report === false) return;
  try {
    if (o.reportCron !== undefined) validateCronExpr(o.reportCron);
    validateTimezone(o.reportTz);
  } catch (e) {
    if (e instanceof ScheduleError) throw new UsageError(e.message);
    throw e;
  }
}

/** --host checked up front (startServer checks it again). */
export function checkHost(host: string): void {
  try {
    checkListenHost(host);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function adminTokenFrom(o: GlobalOptions): string | null {
  if (process.env.MAILHEALTH_ADMIN_TOKEN) return process.env.MAILHEALTH_ADMIN_TOKEN;
  const cfg = (o.config !== undefined ? configFromOptions(o) : readConfig()) as { adminToken?: unknown };
  return typeof cfg.adminToken === 'string' && cfg.adminToken ? cfg.adminToken : null;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** How often `serve` compares the stored web logins with the panel's account list (startAccountSweep). */
export const ACCOUNT_SWEEP_MS = 60_000;

export interface AccountSweep {
  /** Compares now (or waits for the comparison already running). Never throws: null when it failed. */
  sweep(): Promise<SweepOutcome | null>;
  /** Stops the timer and waits for a comparison in progress (before the store is closed). */
  stop(): Promise<void>;
}

/**
 * The web logins of accounts the panel no longer has, dropped while `serve` runs (session.ts sweepGoneAccounts): at
 * start, then every `everyMs` on a timer that never keeps the process alive. Without it a removed account's password
 * and sessions were dropped only when someone used them — a new account given the name before that (same role and
 * owner) logged in with the old password. Here and not in the nightly report: only `serve` takes passwords (the
 * panels' front doors and `mailhealth service` never do), the report may be off (--no-report) and runs once a day. A
 * panel that cannot be read, or lists nobody, changes nothing (logged once, until it answers again).
 */
export function startAccountSweep(panel: Pick<Panel, 'listAccounts'>, store: Store, opts: { everyMs?: number; log?: (m: string) => void; now?: () => number } = {}): AccountSweep {
  const log = opts.log ?? ((m: string) => process.stderr.write(`mailhealth: ${m}\n`));
  const now = opts.now ?? Date.now;
  let inFlight: Promise<SweepOutcome | null> | null = null;
  let lastProblem = '';
  const problem = (p: string) => {
    if (p !== lastProblem) log(`web logins not compared with the panel's accounts, nothing changed: ${p}`);
    lastProblem = p;
  };
  const sweep = (): Promise<SweepOutcome | null> => {
    inFlight ??= sweepGoneAccounts(store, () => panel.listAccounts(), now)
      .then(
        (out) => {
          if ('skipped' in out) problem(out.skipped);
          else {
            lastProblem = '';
            for (const u of out.forgotten) log(`the panel no longer has the account ${JSON.stringify(u)}: its web password and sessions were dropped (set a password again if it comes back)`);
          }
          return out;
        },
        (e: unknown) => {
          problem((e as Error)?.message ?? String(e));
          return null;
        },
      )
      .finally(() => {
        inFlight = null;
      });
    return inFlight;
  };
  void sweep();
  const timer = setInterval(() => void sweep(), opts.everyMs ?? ACCOUNT_SWEEP_MS);
  timer.unref();
  return {
    sweep,
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}

export function registerServeCommands(program: Command): void {
  addReportOptions(
    program
      .command('serve')
      .description('serve the web UI and JSON API on loopback')
      .option('--host <host>', 'listen address (loopback or a Unix socket path)', '127.0.0.1')
      .option('--port <n>', 'web UI port, 0-65535 (0: any free port)', '8080'),
  )
    .action(async (_o, cmd: Command) => {
      const o = cmd.optsWithGlobals() as GlobalOptions & { host: string; port: string; reportCron?: string; reportTz?: string; report?: boolean };
      // Every argument and the config file first: bad input exits 2 with nothing started (store, scheduler, server).
      const port = parsePort(o.port, 8080);
      checkHost(o.host);
      checkReportFlags(o);
      resolverOptionsFrom(o);
      const adminToken = adminTokenFrom(o);
      const panel = panelFromOptions(o);
      const store = storeFromOptions(o);
      let report: NightlyReport | null = null;
      let sweep: AccountSweep | null = null;
      let running: RunningServer;
      try {
        report = o.report === false ? null : startNightlyReport(o, panel, store);
        sweep = startAccountSweep(panel, store);
        running = await startServer({
          panel,
          store,
          makeResolver: resolverFactory(o, store),
          resolverOptions: resolverOptionsFactory(o, store),
          identityFrom: 'session',
          adminToken,
          host: o.host,
          port,
          ...report?.web,
        });
      } catch (e) {
        // Not listening: stop the report too, or its node-cron task would keep the process from exiting.
        await Promise.all([report?.stop(), sweep?.stop()]);
        store.close();
        throw e;
      }
      // The handlers before the start-up lines: whoever waits for those lines can stop serve cleanly.
      const stopped = new Promise<void>((resolve) => {
        const stop = () => void Promise.all([running.close(), report?.stop(), sweep?.stop()]).then(() => resolve());
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
      const account = accounts.find((a) => a.user === name);
      if (!account) throw new UsageError(`${name}: the panel has no such account`);
      const password = (await readStdin()).replace(/\r?\n$/, '');
      if (password.length < 8) throw new UsageError('the password must be at least 8 characters');
      const store = storeFromOptions(o);
      try {
        store.setPasswordHash(name, await hashPassword(password));
        // The password belongs to this account (role and owner): another account that gets the name later has none.
        store.setSetting(PASSWORD_ACCOUNT_SETTING(name), accountKey(account));
        // A new password ends the sessions that user has (a stolen session must not outlive the reset), as logout does.
        store.setSetting(REVOKED_BEFORE_SETTING(name), Date.now() + 1);
      } finally {
        store.close();
      }
      process.stderr.write(`mailhealth: password set for ${name}\n`);
      process.exitCode = 0;
    });
}
