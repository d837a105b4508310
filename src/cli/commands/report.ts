// mailhealth report [--since last|DATE] [--email] [--out FILE] [--json] [--base-url URL] [--qps N]
// Runs the nightly report by hand (or from system cron): audits every domain on the server as the admin, records the
// run, compares with the previous complete run, saves the report and prints it. Same lock as the scheduled run.
import { jsonText } from '../../core/text.js';
import { withSettings } from '../../adapters/panels/with-settings.js';
import { auditOptionsFrom, baseUrlProblem } from '../../core/settings.js';
import { accessSync, constants, existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { deliverNightly, deliverNotice, lenientDeliverySettings, type DeliveryResult, type DeliverySettings, type Mailer } from '../../adapters/mail/deliver.js';
import { defaultLockOwner, markStaleRuns, recordPanelFailure, REPORT_LOCK, REPORT_SETTINGS, reportTimeZone, runReport, type PanelFailure, type ReportOutcome } from '../../cron/report.js';
import { endOfLocalDay, instantOfLocal } from '../../adapters/schedule/expression.js';
import { interruptible } from '../interrupt.js';
import { errorMessage, lineLog, type Log } from '../log.js';
import type { RateLimiter } from '../../cron/ratelimit.js';
import { openStore } from '../../adapters/store/store.js';
import type { Identity } from '../../core/model.js';
import {
  concurrencyFromOptions,
  dbPathFromOptions,
  identityFromOptions,
  panelFromOptions,
  reportResolver,
  resolverOptionsFrom,
  storeFromOptions,
  RANGES,
  UsageError,
  wholeNumber,
  type GlobalOptions,
} from '../context.js';

export interface ReportCommandOptions extends GlobalOptions {
  since?: string;
  email?: boolean;
  out?: string;
  baseUrl?: string;
  qps?: string | number;
}

/** Test seams (the CLI itself passes none). */
export interface ReportCommandDeps {
  mailer?: Mailer;
  limiter?: RateLimiter;
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
  stdout?: (s: string) => void;
  stderr?: (s: string) => void;
}

const SINCE_USAGE =
  '--since takes "last" or a date: YYYY-MM-DD (the end of that day in the report\'s time zone) or an ISO timestamp YYYY-MM-DDTHH:MM[:SS[.sss]][Z|±HH:MM] (without a zone: in the report\'s time zone)';

/**
 * Only the forms the usage documents, checked field by field: `new Date()` alone takes "2024-13-01" for 2025-01-01,
 * "1" for 2001 and "12/31/2024 junk" for a date, and the report would silently compare with the wrong run.
 * `timeZone`: the zone a date, or a timestamp without a zone, is read in — the report's (the zone it dates its nights
 * in: reportTimeZone, the settings page's schedule zone, else the server's), so `--since 2027-03-04` is the end of the
 * night the report calls 2027-03-04. Undefined: the server's (a check of the value before the settings can be read).
 */
export function parseSince(v: string | undefined, timeZone?: string): 'last' | Date {
  if (v === undefined || v === 'last') return 'last';
  const bad = () => new UsageError(`${SINCE_USAGE}, got ${JSON.stringify(v)}`);
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/.exec(v);
  if (!m) throw bad();
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // The calendar date must exist (no month 13, no February 30): round-trip it.
  const cal = new Date(Date.UTC(year, month - 1, day));
  if (cal.getUTCFullYear() !== year || cal.getUTCMonth() !== month - 1 || cal.getUTCDate() !== day) throw bad();
  // A bare date means "as of the end of that day" (in the report's time zone).
  if (m[4] === undefined) return timeZone ? new Date(endOfLocalDay(year, month, day, timeZone)) : new Date(year, month - 1, day, 23, 59, 59, 999);
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (hour > 23 || minute > 59 || second > 59) throw bad();
  const zone = m[8];
  if (zone && zone !== 'Z' && (Number(zone.slice(1, 3)) > 23 || Number(zone.slice(4, 6)) > 59)) throw bad();
  // Without a zone, a timestamp is the report's time zone (server time when none is given, as JavaScript reads one).
  if (!zone && timeZone) return new Date(instantOfLocal(Date.UTC(year, month - 1, day, hour, minute, second, Math.round(Number(m[7] ?? 0) * 1000)), timeZone));
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw bad();
  return d;
}

/**
 * `--out FILE` is checked before anything runs: finding out after the audit, the saved report and the email would
 * break "exit 2: nothing written". The directory must exist and be writable, and FILE must not be a directory (nor a
 * file we may not write).
 */
export function checkOutPath(file: string): void {
  const path = resolve(file);
  const dir = dirname(path);
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new UsageError(`--out ${JSON.stringify(file)}: the directory ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new UsageError(`--out ${JSON.stringify(file)}: ${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`--out ${JSON.stringify(file)}: the directory ${dir} is not writable`);
  }
  let target;
  try {
    target = statSync(path);
  } catch {
    return; // a new file in a writable directory
  }
  if (target.isDirectory()) throw new UsageError(`--out ${JSON.stringify(file)} is a directory: give a file name`);
  try {
    accessSync(path, constants.W_OK);
  } catch {
    throw new UsageError(`--out ${JSON.stringify(file)}: the file is not writable`);
  }
}

/** `--base-url`: checked as the settings page checks the saved one (baseUrlProblem). Not given: the saved one. */
export function parseBaseUrl(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const why = baseUrlProblem(v);
  if (why) throw new UsageError(`--base-url takes an http(s) URL (${why}), got ${JSON.stringify(v)}`);
  return v;
}

function parseQps(v: string | number | undefined): number | undefined {
  if (v === undefined) return undefined;
  return wholeNumber('--qps', v, ...RANGES.qps);
}

/** FILE ending .json → the JSON document; .txt/.text → the plain text; anything else → the HTML email. */
export function outFormat(file: string): 'json' | 'text' | 'html' {
  if (/\.json$/i.test(file)) return 'json';
  if (/\.te?xt$/i.test(file)) return 'text';
  return 'html';
}

export async function reportCommand(o: ReportCommandOptions, deps: ReportCommandDeps = {}): Promise<number> {
  const out = deps.stdout ?? ((s: string) => void process.stdout.write(s));
  const err = deps.stderr ?? ((s: string) => void process.stderr.write(s));
  // The run's log, one escaped line a message (lineLog): it carries the panel's errors, saved values, mail servers' replies.
  const log = lineLog(err);
  // Checked now (a usage error before anything runs); read in the report's time zone once the settings can be.
  let since = parseSince(o.since);
  const baseUrl = parseBaseUrl(o.baseUrl);
  const qps = parseQps(o.qps);
  if (o.out !== undefined) checkOutPath(o.out);
  const rawPanel = panelFromOptions(o);
  const concurrency = o.concurrency !== undefined ? concurrencyFromOptions(o) : undefined;
  // Checked (--resolver, --authoritative-port) before the database is opened; the resolver is made once it is open.
  resolverOptionsFrom(o);
  let identity: Identity;
  try {
    identity = await identityFromOptions(rawPanel, o);
  } catch (e) {
    // The panel could not be read (not a usage error such as an --as typo): recorded, as the service records it, when
    // there is a history to record it in; with --email the admin's recipients get the service's notice. The panel's
    // error is then what this command exits with (2), as before.
    if (!(e instanceof UsageError)) await panelUnreadable(o, e, deps, log);
    throw e;
  }
  if (identity.role !== 'admin') throw new UsageError(`the report covers the whole server: run it as the admin (not ${identity.role} ${identity.user})`);
  // No database yet: no recipients can be configured, and a usage error writes nothing (not even an empty database).
  if (o.email && !existsSync(dbPathFromOptions(o))) {
    throw new UsageError(`--email: no recipients configured (settings report.recipients and/or report.resellers; there is no mailhealth database at ${dbPathFromOptions(o)} yet)`);
  }
  const store = storeFromOptions(o);
  // A date means the night the report labels with it: the report's time zone (the settings page's, else the server's).
  if (since !== 'last') since = parseSince(o.since, reportTimeZone(undefined, storedTimeZone(store)));
  // The nightly run's resolver: the settings page's (dns.resolver), unless --resolver names one on this command line.
  // No socket is open until it is used.
  const resolver = reportResolver(o, store);
  // The admin's settings (MailChannels account id, blocklists) apply here exactly as in the web UI and `serve`.
  const panel = withSettings(rawPanel, store);
  const lockOwner = defaultLockOwner();
  // Ctrl-C / SIGTERM: the run this process started (the running report run while it holds the lock) is marked
  // interrupted and the lock released now, not left "running" with the lock held for the rest of its lease.
  const onInterrupt = (): string | undefined => {
    let marked: number[] = [];
    try {
      if (store.lockHolder(REPORT_LOCK)?.owner === lockOwner) {
        marked = markStaleRuns(store);
        store.releaseLock(REPORT_LOCK, lockOwner);
      }
    } finally {
      store.close();
    }
    return marked.length ? `report run ${marked.join(', ')} marked interrupted, the report lock released` : undefined;
  };
  try {
    // --email reads the delivery settings as the nightly service does: one bad saved value (a mistyped reseller
    // address) skips only the mail it concerns, logged and recorded as not sent — never the audit, the saved report or
    // the other recipients' mail. Only no usable setting at all is a usage error (nothing to send).
    let settings: DeliverySettings | undefined;
    if (o.email) {
      const lenient = lenientDeliverySettings(store);
      settings = lenient.settings;
      // (A bad report.from is no address to send to: the mail would go from the default sender.)
      if (!settings.recipients.length && !Object.keys(settings.resellers).length && !lenient.problems.some((p) => p.scope !== 'from')) {
        throw new UsageError('--email: no recipients configured (settings report.recipients and/or report.resellers)');
      }
    }
    let deliveries: DeliveryResult[] = [];
    const outcome: ReportOutcome = await interruptible(Boolean(o.json), onInterrupt, () => runReport({
      store,
      lockOwner,
      panel,
      resolver,
      identity,
      auditOptions: auditOptionsFrom(store),
      since,
      ...(baseUrl !== undefined ? { baseUrl } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(qps !== undefined ? { qps } : {}),
      ...(deps.limiter ? { limiter: deps.limiter } : {}),
      ...(deps.now ? { now: deps.now } : {}),
      // Under --json too: the log is stderr (a saved setting not used, a lock taken over), never the JSON on stdout.
      log,
      ...(settings
        ? {
            deliver: async (oc: ReportOutcome) => {
              deliveries = await deliverNightly(oc, {
                store,
                ...(deps.mailer ? { mailer: deps.mailer } : {}),
                ...(deps.sleep ? { sleep: deps.sleep } : {}),
                log,
              });
              return deliveries;
            },
          }
        : {}),
      ...(settings ? { onPanelFailure: (f: PanelFailure) => notify(store, f, deps, log) } : {}),
    }));
    const json = jsonText(outcome.doc, 2) + '\n';
    if (o.out) {
      const fmt = outFormat(o.out);
      writeFileSync(o.out, fmt === 'json' ? json : fmt === 'text' ? outcome.rendered.text : outcome.rendered.html);
    }
    out(o.json ? json : outcome.rendered.text);
    const failing = outcome.doc.newProblems.concat(outcome.doc.stillFailing).some((i) => i.severity === 'fail');
    const undelivered = deliveries.some((d) => !d.ok);
    return failing || undelivered ? 1 : 0;
  } finally {
    store.close();
    resolver.close();
  }
}

/** The settings page's report time zone, as the report reads it (a value that cannot be read counts as none). */
function storedTimeZone(store: ReturnType<typeof storeFromOptions>): unknown {
  try {
    return store.getSetting<unknown>(REPORT_SETTINGS.timezone);
  } catch {
    return undefined;
  }
}

/** --email's notice of a panel that could not be read: the nightly service's (deliverNotice), to the admin's recipients. */
function notify(store: ReturnType<typeof storeFromOptions>, f: PanelFailure, deps: ReportCommandDeps, log: Log): Promise<unknown> {
  return deliverNotice(f, {
    store,
    ...(deps.mailer ? { mailer: deps.mailer } : {}),
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
    log,
  });
}

/**
 * The panel's account list could not be read, before the history database was opened: the night is recorded as a
 * failed report run (recordPanelFailure), and with --email the admin's recipients get the notice — only in a database
 * that exists (a first run creates none just for this; --email needs one anyway). Never throws: the panel's error is
 * what the command reports.
 */
async function panelUnreadable(o: ReportCommandOptions, e: unknown, deps: ReportCommandDeps, log: Log): Promise<void> {
  const path = dbPathFromOptions(o);
  if (!existsSync(path)) return;
  let store: ReturnType<typeof openStore> | undefined;
  try {
    store = openStore(path);
    const s = store;
    await recordPanelFailure(s, e, {
      byUser: o.as ?? 'admin',
      log,
      ...(o.email ? { notify: (f: PanelFailure) => notify(s, f, deps, log) } : {}),
    });
  } catch (x) {
    log(`the failed report run could not be recorded: ${errorMessage(x)}`);
  } finally {
    store?.close();
  }
}

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('run the nightly report now: audit every domain, compare with the previous complete run, save (and email) the report')
    .option('--since <when>', '"last" (the previous complete run, default) or a date (YYYY-MM-DD: the end of that day, or an ISO timestamp; in the report\'s time zone unless it names one): compare with the last complete run up to then')
    .option('--email', 'send the report (admin recipients: whole server; each reseller: their customers)')
    .option('--out <file>', 'also write the report to FILE (.json: JSON document, .txt: text, else HTML)')
    .option('--json', 'print the JSON document instead of the text report')
    .option('--base-url <url>', "the address of mailhealth's pages as users open them, for links to each domain's page (default: the settings page's, else no links)")
    .option('--qps <n>', 'DNS queries per second, 1-100000 (default: setting report.dnsQps, else 20)')
    .action(async (_o, cmd: Command) => {
      // Interruptible from the start (the panel may be slow to answer before the run begins): exit 1, kind "interrupted".
      const o = cmd.optsWithGlobals();
      process.exitCode = await interruptible(Boolean(o.json), () => undefined, () => reportCommand(o));
    });
}
