// mailhealth serve [--host 127.0.0.1] [--port N]   — the web UI and JSON API (standalone: login + admin token)
//   [--report-cron EXPR] [--report-tz ZONE] [--no-report] — and the nightly report (../nightly.ts, which
//   `mailhealth service` on the panels uses too). Under systemd socket activation (the standalone install's
//   mailhealth.socket) it listens on the socket systemd passes instead of --host/--port (listenFrom).
// mailhealth user set-password USER                — reads the password from stdin; USER must be a panel account
import type { Command } from 'commander';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Store } from '../../adapters/store/store.js';
import type { Panel } from '../../core/panel.js';
import { hashPassword } from '../../web/passwords.js';
import { accountKey, PASSWORD_ACCOUNT_SETTING, sweepGoneAccounts, type SweepOutcome } from '../../web/session.js';
import { endSessions } from '../../web/routes/auth.js';
import { checkListenHost, startServer, type RunningServer } from '../../web/server.js';
import { ScheduleError, validateCronExpr, validateTimezone } from '../../adapters/schedule/expression.js';
import { configFromOptions, panelFromOptions, RANGES, readConfig, resolverFactory, resolverOptionsFactory, resolverOptionsFrom, storeFromOptions, UsageError, wholeNumber, type GlobalOptions } from '../context.js';
import { addReportOptions, describeNightlyReport, startNightlyReport, type NightlyReport, type ReportFlags } from '../nightly.js';
import { errorMessage, lineLog, writeLog } from '../log.js';
import { UPGRADE_EXIT_CODE, upgradeLine, watchForUpgrade } from '../upgrade-watch.js';

export function parsePort(v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  return wholeNumber('--port', v, ...RANGES.port);
}

/**
 * --report-cron / --report-tz checked up front, so a typo stops the command before anything starts. The schedule goes
 * through the settings page's check (validateCronExpr: five fields, no seconds): the command line takes nothing the
 * page would refuse.
 */
export function checkReportFlags(o: ReportFlags & { report?: boolean }): void {
  if (o.report === false) return;
  const check = (flag: string, fn: () => void) => {
    try {
      fn();
    } catch (e) {
      if (e instanceof ScheduleError) throw new UsageError(`${flag}: ${e.message}`);
      throw e;
    }
  };
  if (o.reportCron !== undefined) check('--report-cron', () => validateCronExpr(o.reportCron as string));
  check('--report-tz', () => validateTimezone(o.reportTz));
}

/** --host checked up front (startServer checks it again). */
export function checkHost(host: string): void {
  try {
    checkListenHost(host);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** sd_listen_fds(3): the sockets systemd passes start at fd 3 (SD_LISTEN_FDS_START). */
export const SD_LISTEN_FDS_START = 3;

/** The environment of systemd's socket passing, unset once read so that no process `serve` starts sees it. */
const LISTEN_ENV = ['LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES'] as const;

/**
 * Where `serve` listens: on the socket systemd passed (the standalone install's mailhealth.socket, which holds
 * 127.0.0.1:8080 while the service is down, so that no local user can take the port then), or where --host and --port
 * say. `ignored`: systemd's variables were set but are not for this process — why, for the log.
 */
export type ListenFrom = { from: 'systemd'; fd: number; count: number; name: string | null } | { from: 'flags'; ignored?: string };

/**
 * The socket systemd passed this process, read as sd_listen_fds(3) reads it: LISTEN_PID must be this process's pid
 * (the variables are inherited by whatever the service starts, a child must not take its parent's sockets: another
 * pid is ignored) and LISTEN_FDS the number of sockets, from fd 3; LISTEN_FDNAMES (optional) names them, ":" between.
 * `serve` listens on the first; more are left alone.
 */
export function listenFrom(env: NodeJS.ProcessEnv, pid: number): ListenFrom {
  const fds = env.LISTEN_FDS;
  const owner = env.LISTEN_PID;
  if (fds === undefined || fds === '') return { from: 'flags' };
  if (owner === undefined || owner === '') return { from: 'flags', ignored: 'LISTEN_FDS is set without LISTEN_PID' };
  if (!/^[1-9][0-9]{0,9}$/.test(owner) || Number(owner) !== pid) return { from: 'flags', ignored: `LISTEN_PID=${owner} is another process (this one is ${pid}: a script that starts mailhealth must exec it)` };
  if (!/^[0-9]{1,4}$/.test(fds) || Number(fds) < 1) return { from: 'flags', ignored: `LISTEN_FDS=${fds} passes no socket` };
  const name = env.LISTEN_FDNAMES?.split(':')[0];
  return { from: 'systemd', fd: SD_LISTEN_FDS_START, count: Number(fds), name: name ? name : null };
}

/** listenFrom on this process's environment, which then loses the variables (sd_listen_fds with unset_environment). */
export function takeListenFrom(env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): ListenFrom {
  const from = listenFrom(env, pid);
  for (const v of LISTEN_ENV) delete env[v];
  return from;
}

/**
 * The address of the socket systemd passed as the startup line says it (a Unix socket's path as `unix:PATH`), or why it
 * is refused: like --host, loopback or a Unix socket only — a `ListenStream=8080` edited into mailhealth.socket listens
 * on every address, which would put the login form on the network.
 */
export function inheritedAddress(addr: string | AddressInfo | null): { url: string } | { refused: string } {
  if (addr === null) return { refused: 'the socket systemd passed (fd 3) has no address' };
  if (typeof addr === 'string') return { url: `unix:${addr}` };
  const shown = addr.family === 'IPv6' ? `[${addr.address}]:${addr.port}` : `${addr.address}:${addr.port}`;
  let loopback = false;
  try {
    loopback = ipaddr.process(addr.address).range() === 'loopback';
  } catch {
    // Not an address ipaddr.js reads: not loopback.
  }
  if (!loopback) return { refused: `the socket systemd passed (fd 3) listens on ${shown}, not on loopback: mailhealth serve listens on loopback (127.0.0.1, ::1) or a Unix socket only. Set ListenStream=127.0.0.1:8080 in mailhealth.socket, then: systemctl restart mailhealth.socket mailhealth` };
  return { url: `http://${shown}` };
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
  // Escaped lines (lineLog): a panel's error, and the account names it lists, are outside text.
  const log = opts.log ?? lineLog();
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
          problem(errorMessage(e));
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

/**
 * How long a stop (SIGTERM, SIGINT) waits for the bulk jobs and requests in flight: under systemd's default
 * TimeoutStopSec (90 s, install/mailhealth.service keeps it), after which systemd would kill the process anyway.
 */
export const STOP_GRACE_MS = 30_000;

/** The environment variable that sets the grace period of a stop in milliseconds (tests; a longer TimeoutStopSec). */
export const STOP_GRACE_ENV = 'MAILHEALTH_STOP_GRACE_MS';

/**
 * The grace period of a stop: MAILHEALTH_STOP_GRACE_MS (0–600000 ms) when set and not empty, else STOP_GRACE_MS.
 * Checked with the arguments, before anything starts: a bad value is a usage error, never a silent 30 s.
 */
export function stopGraceMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = env[STOP_GRACE_ENV];
  if (v === undefined || v === '') return STOP_GRACE_MS;
  return wholeNumber(STOP_GRACE_ENV, v, 0, 600_000);
}

/** A grace period as the stop's lines say it: whole seconds as "30 s", anything else in milliseconds. */
export function graceText(ms: number): string {
  return ms > 0 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** The last line of a stop that ran out of its grace period (serve and service alike). */
export function timedOutLine(graceMs: number): string {
  return `stopped after ${graceText(graceMs)} without the panel's answer for every domain being fixed: those stay locked for at most 2 minutes, and their fix is checked again at the next start`;
}

/**
 * The stop signals of a long-running command (serve, service): the first SIGTERM or SIGINT runs `stop` (graceful,
 * stopGracefully) and the promise resolves with its outcome. A second one while it runs exits at once with 1 — a
 * stop cut short, as an interrupted run is — after `closeNow` closes the history database: everything recorded is then
 * in the database file itself (not only in its -wal file beside it, which a copy of the file alone would miss). The
 * locks of fixes still waiting on the panel are left to run out with their lease (rule 4: never released under a
 * write in flight). Registered before the start-up lines, so whoever waits for those lines can stop the command.
 */
export function onStopSignals(stop: () => Promise<'drained' | 'timed out'>, closeNow: () => void): Promise<'drained' | 'timed out'> {
  return new Promise((resolve) => {
    let stopping = false;
    const now = (sig: NodeJS.Signals) => {
      writeLog(`${sig} again: stopped without waiting; a domain still being fixed stays locked for at most 2 minutes`);
      try {
        closeNow();
      } catch (e) {
        writeLog(`the history database could not be closed: ${errorMessage(e)}`);
      }
      process.exit(1);
    };
    const first = () => {
      if (stopping) return;
      stopping = true;
      process.off('SIGINT', first);
      process.off('SIGTERM', first);
      process.on('SIGINT', now);
      process.on('SIGTERM', now);
      void stop().then(resolve);
    };
    process.on('SIGINT', first);
    process.on('SIGTERM', first);
  });
}

/** The responses a server is answering (trackResponses), so a stop can close keep-alive connections once answered. */
export interface InFlight {
  readonly responses: ReadonlySet<ServerResponse>;
  /** From now on: every request is answered with "Connection: close", and `fn` runs whenever a response ends. */
  closing(fn: () => void): void;
}

/** Keeps count of the responses a server is answering (serve calls it right after the server starts). */
export function trackResponses(server: RunningServer['server']): InFlight {
  const responses = new Set<ServerResponse>();
  let ended: (() => void) | null = null;
  server.on('request', (_req, res: ServerResponse) => {
    responses.add(res);
    // A request arriving on a kept-alive connection while stopping is answered, and its connection closed after.
    if (ended) res.shouldKeepAlive = false;
    res.once('close', () => {
      responses.delete(res);
      if (ended) setImmediate(ended);
    });
  });
  return {
    responses,
    closing(fn) {
      ended = fn;
      for (const res of responses) if (!res.headersSent) res.shouldKeepAlive = false;
    },
  };
}

/**
 * Stops serving gracefully: no new connections; running bulk jobs cancelled (runner.stop: domains not started are
 * skipped, the ones being fixed finish their panel write and record their outcome, releasing their locks); requests
 * in flight answered (a single fix too), their connections then closed. Resolves 'drained' when all of that is done,
 * or 'timed out' after `graceMs` (a panel that does not answer): the caller then closes the store anyway and exits,
 * and the locks of fixes still running run out with their lease, as after a crash — never released under a write in
 * flight. The caller closes the server (running.close), the report and the store next.
 */
export async function stopGracefully(
  running: Pick<RunningServer, 'server' | 'app'>,
  inFlight: InFlight,
  opts: { graceMs?: number; log?: (m: string) => void } = {},
): Promise<'drained' | 'timed out'> {
  const { server, app } = running;
  const graceMs = opts.graceMs ?? STOP_GRACE_MS;
  const log = opts.log ?? lineLog();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // A keep-alive connection would hold server.close() until its idle timeout: each one is closed once idle.
  const closeIdle = () => server.closeIdleConnections?.();
  inFlight.closing(closeIdle);
  closeIdle();
  const jobs = app.runner.active;
  const waitFor = [jobs ? (jobs === 1 ? 'the running bulk job is cancelled, its domains being fixed finish first' : `${jobs} running bulk jobs are cancelled, their domains being fixed finish first`) : '', inFlight.responses.size ? 'requests in flight are answered' : ''].filter(Boolean);
  log(`stopping${waitFor.length ? `: ${waitFor.join('; ')} (at most ${graceText(graceMs)})` : ''}`);
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(() => resolve('timed out'), graceMs);
  });
  try {
    return await Promise.race([Promise.all([app.runner.stop(), closed]).then(() => 'drained' as const), grace]);
  } finally {
    clearTimeout(timer);
  }
}

export function registerServeCommands(program: Command): void {
  addReportOptions(
    program
      .command('serve')
      .description('serve the web UI and JSON API on loopback — on the socket systemd passes (LISTEN_FDS) when there is one, else where --host and --port say')
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
      const graceMs = stopGraceMs();
      const adminToken = adminTokenFrom(o);
      // The socket systemd passed (mailhealth.socket) wins over --host/--port; taken before anything can start a child.
      const listen = takeListenFrom();
      if (listen.from === 'flags' && listen.ignored) writeLog(`the socket systemd passed is not used (${listen.ignored}): listening where --host and --port say (${o.host.startsWith('/') ? o.host : `${o.host}:${port}`})`);
      const panel = panelFromOptions(o);
      const store = storeFromOptions(o);
      let report: NightlyReport | null = null;
      let sweep: AccountSweep | null = null;
      let running: RunningServer | undefined;
      let url: string;
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
          ...(listen.from === 'systemd' ? { host: '127.0.0.1', port: 0, fd: listen.fd } : { host: o.host, port }),
          ...report?.web,
          // The settings page's "Next run" comes from the scheduler that runs it; --no-report: the page says the
          // schedule it shows runs nowhere here.
          ...(report ? { reportSchedule: report.scheduler } : { noNightlyReport: 'no-report' as const }),
        }).catch((e: unknown) => {
          // Node says "listen EINVAL" for an fd that is not a stream socket (a file, a UDP socket, nothing open).
          if (listen.from === 'systemd' && (e as NodeJS.ErrnoException).syscall === 'listen') throw new Error(`the socket systemd passed (fd ${listen.fd}) cannot be listened on — is it a stream socket (ListenStream= in mailhealth.socket)? ${errorMessage(e)}`);
          throw e;
        });
        url = running.url;
        if (listen.from === 'systemd') {
          const at = inheritedAddress(running.server.address());
          if ('refused' in at) throw new UsageError(at.refused);
          const more = listen.count > 1 ? `; ${listen.count - 1} more not used` : '';
          url = `${at.url} (the socket systemd passed, fd ${listen.fd}${listen.name ? ` ${JSON.stringify(listen.name)}` : ''}${more}; --host and --port are not used)`;
        }
      } catch (e) {
        // Not listening: stop the report too, or its node-cron task would keep the process from exiting.
        await Promise.all([running?.close(), report?.stop(), sweep?.stop()]);
        store.close();
        throw e;
      }
      const served = running;
      const inFlight = trackResponses(served.server);
      // A stop is graceful (stopGracefully: bulk jobs cancelled, the domains being fixed finish and release their
      // locks) within the grace period; a second signal exits at once (onStopSignals).
      const stopped = onStopSignals(
        async () => {
          // Closing the server closes this process's copy of a socket systemd passed: systemd keeps its own, still
          // listening, and hands it to the next start.
          const how = await stopGracefully(served, inFlight, { graceMs });
          await Promise.all([served.close(), report?.stop(), sweep?.stop()]);
          return how;
        },
        () => store.close(),
      );
      // A newer mailhealth migrating the database under this process: stop as SIGTERM stops it, and exit non-zero so
      // the service manager starts the new version (upgrade-watch.ts).
      const upgrade = watchForUpgrade(store, (e) => {
        writeLog(upgradeLine(e));
        process.kill(process.pid, 'SIGTERM');
      });
      writeLog(`serving on ${url}`);
      if (report) writeLog(describeNightlyReport(report.scheduler));
      const how = await stopped;
      upgrade.stop();
      store.close();
      const code = upgrade.upgraded ? UPGRADE_EXIT_CODE : 0;
      process.exitCode = code;
      if (how === 'timed out') {
        // A fix still waiting on the panel would keep the process alive: its lock runs out with its lease (rule 4).
        writeLog(timedOutLine(graceMs));
        process.exit(code);
      }
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
        // A new password ends the sessions that user has (a stolen session must not outlive the reset), as logout does:
        // by generation, so also those issued while the clock was ahead of what it reads now.
        endSessions(store, name, Date.now());
      } finally {
        store.close();
      }
      writeLog(`password set for ${name}`);
      process.exitCode = 0;
    });
}
