// mailhealth serve [--host 127.0.0.1] [--port N]   — the web UI and JSON API (standalone: login + admin token)
// mailhealth user set-password USER                — reads the password from stdin; USER must be a panel account
import { isIP } from 'node:net';
import type { Command } from 'commander';
import { createResolver, parseServer, type ResolverOptions } from '../../adapters/dns/resolver.js';
import { loadConfig } from '../../adapters/panels/factory.js';
import { auditOptionsFrom, SETTING_KEYS } from '../../web/settings.js';
import { hashPassword } from '../../web/passwords.js';
import { startServer } from '../../web/server.js';
import { panelFromOptions, resolverOptionsFrom, storeFromOptions, UsageError, type GlobalOptions } from '../context.js';
import type { Store } from '../../adapters/store/store.js';
import type { Resolver } from '../../core/resolver.js';
import type { Panel } from '../../core/panel.js';
import { withSettings } from '../../adapters/panels/with-settings.js';
import { DEFAULT_CRON, ScheduleError, startScheduler, type Scheduler } from '../../cron/scheduler.js';
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

/** The nightly report inside `serve` (node-cron; the SQLite lock also keeps system-cron runs from overlapping). */
export function startNightlyReport(o: GlobalOptions & { reportCron?: string; reportTz?: string }, panel: Panel, store: Store): Scheduler {
  const cronExpr = o.reportCron ?? store.getSetting<string>(SETTING_KEYS.reportSchedule) ?? DEFAULT_CRON;
  const timezone = o.reportTz ?? store.getSetting<string>(SETTING_KEYS.reportTimezone) ?? undefined;
  const log = (m: string) => process.stderr.write(`mailhealth: ${m}\n`);
  try {
    return startScheduler({
      cronExpr,
      ...(timezone ? { timezone } : {}),
      log,
      run: async ({ signal }) => {
        const resolver = resolverFactory(o, store)();
        try {
          const settings = deliverySettings(store);
          await runReport({ store, panel: withSettings(panel, store), resolver, signal, log, auditOptions: auditOptionsFrom(store), deliver: (oc) => deliverReport(oc, { store, settings, log }) });
          const pruned = store.prune({ olderThanDays: retentionDays(store) });
          log(`history pruned: ${JSON.stringify(pruned)}`);
        } finally {
          (resolver as { close?: () => void }).close?.();
        }
      },
    });
  } catch (e) {
    if (e instanceof ScheduleError) throw new UsageError(e.message);
    throw e;
  }
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
  program
    .command('serve')
    .description('serve the web UI and JSON API on loopback')
    .option('--host <host>', 'listen address (loopback or a Unix socket path)', '127.0.0.1')
    .option('--port <n>', 'port', '8080')
    .option('--report-cron <expr>', 'when the nightly report runs (default: the settings page, else "0 3 * * *")')
    .option('--report-tz <zone>', 'IANA time zone of the schedule (default: the settings page, else the server\'s)')
    .option('--no-report', 'do not schedule the nightly report')
    .action(async (_o, cmd: Command) => {
      const o = cmd.optsWithGlobals() as GlobalOptions & { host: string; port: string; reportCron?: string; reportTz?: string; report?: boolean };
      const panel = panelFromOptions(o);
      const store = storeFromOptions(o);
      const scheduler = o.report === false ? null : startNightlyReport(o, panel, store);
      const running = await startServer({
        panel,
        store,
        makeResolver: resolverFactory(o, store),
        resolverOptions: resolverOptionsFactory(o, store),
        identityFrom: 'session',
        adminToken: adminTokenFrom(o),
        host: o.host,
        port: parsePort(o.port, 8080),
      });
      process.stderr.write(`mailhealth: serving on ${running.url}\n`);
      if (scheduler) process.stderr.write(`mailhealth: nightly report "${scheduler.cronExpr}"${scheduler.timezone ? ` (${scheduler.timezone})` : ''}, next ${scheduler.nextRuns(1)[0]?.toISOString() ?? '—'}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => void Promise.all([running.close(), scheduler?.stop()]).then(() => resolve());
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
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
