// The nightly report run: under the SQLite lock "report" (one run at a time, across processes), mark stale report
// runs interrupted, audit every domain on the server at a polite DNS rate, record the results in batches, compare with
// the previous complete run, render the report, then mark the run complete and save its report in one transaction,
// then (optionally) deliver it. A run that stops halfway (error, abort, lost lock, a report that could not be saved)
// is left `interrupted` and is never reported nor compared with: a run is complete only together with its report.
import type { AuditOptions } from '../core/checks/context.js';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { auditMany } from '../core/audit.js';
import type { CheckName, DomainAudit, DomainRef, Identity, Severity } from '../core/model.js';
import { PanelError, type Panel } from '../core/panel.js';
import type { Resolver } from '../core/resolver.js';
import { buildReport, PANEL_FAILED, type DomainSnapshot, type Producer, type RecordLines, type ReportDoc, type ReportScope, type RunSnapshot } from '../core/report/diff.js';
import { cleanControls, escapeHtml, gapText, renderReport, versionChangeText, type RenderedReport } from '../core/report/render.js';
import { StoreError, type FindingHead, type Run, type Store } from '../adapters/store/store.js';
import { throughBusy } from '../adapters/store/busy.js';
import { rateLimitedResolver, TokenBucket, type RateLimiter } from './ratelimit.js';
import { reportLockHolderGone, reportLockOwner } from './lock-owner.js';
import { isTimezone } from '../adapters/schedule/expression.js';
import { baseUrlProblem, SETTING_KEYS } from '../core/settings.js';

export const REPORT_LOCK = 'report';
export const DEFAULT_LOCK_TTL_MS = 15 * 60_000;
export const DEFAULT_DNS_QPS = 20;
export const DEFAULT_CONCURRENCY = 8;
export const DEFAULT_HISTORY_DEPTH = 30;
/** Results the history reads at once (loadHistory): a piece takes ~10–25 ms, then the event loop turns. */
export const HISTORY_CHUNK = 250;
const BATCH = 50;

/** A turn of the event loop (its I/O included: a page `serve` is asked for meanwhile is answered). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Settings keys the report reads (all optional). */
export const REPORT_SETTINGS = {
  /** The settings page's link address (src/core/settings.ts: one key for every surface). */
  baseUrl: SETTING_KEYS.reportBaseUrl,
  dnsQps: 'report.dnsQps',
  concurrency: 'report.concurrency',
  serverName: 'report.serverName',
  /** The schedule's time zone (settings page); the report dates its nights in it. */
  timezone: SETTING_KEYS.reportTimezone,
} as const;

export interface ReportRunOptions {
  store: Store;
  panel: Panel;
  /** A fresh resolver per run (its cache is per run). */
  resolver: Resolver;
  /** Whose view: must be the admin (the whole server). Default: the panel's first admin account. */
  identity?: Identity;
  /** Domains audited at once. Default: setting report.concurrency, else 8. */
  concurrency?: number;
  /** DNS queries per second. Default: setting report.dnsQps, else 20. Ignored when `limiter` is given. */
  qps?: number;
  limiter?: RateLimiter;
  /** Compare with the last complete run ('last', default) or the last complete run started at or before a date. */
  since?: 'last' | Date;
  /** Panel UI base URL for links. Default: setting report.baseUrl. */
  baseUrl?: string | null;
  serverName?: string;
  /** Time zone the nights are dated in (the schedule's). Default: setting report.timezone, else UTC. */
  timeZone?: string;
  /** Timestamps of the audits (the store has its own clock). */
  now?: () => Date;
  lockOwner?: string;
  lockTtlMs?: number;
  /** Complete runs looked at for streaks and the chart. Default 30. */
  historyDepth?: number;
  /** Aborting stops the run; it is left interrupted. */
  signal?: AbortSignal;
  /** Audit options from the admin's settings (e.g. blocklists for ptr.listed). */
  auditOptions?: AuditOptions;
  log?: (message: string) => void;
  /** Called under the lock once the report is saved (delivery). Its failure does not undo the run or the report. */
  deliver?: (outcome: ReportOutcome) => Promise<unknown>;
  /**
   * Called under the lock when the panel could not be read before the audit (no audit ran; the failed run is recorded,
   * see recordPanelFailure): the admin's notice (deliverNotice). Its failure is logged; the run throws the panel's
   * error either way.
   */
  onPanelFailure?: (failure: PanelFailure) => Promise<unknown>;
  /** Tests: the wait between tries of a write the history database was too busy for (throughBusy); no wall clock. */
  sleep?: (ms: number) => Promise<void>;
  /** The mailhealth recorded as making the run (tests: another version's). Default thisMailhealth(). */
  producer?: Producer;
}

/** The key of a report run's meta naming the mailhealth that made it ({version, checks}: see thisMailhealth). */
export const PRODUCER_META = 'mailhealth';

const HERE = dirname(fileURLToPath(import.meta.url));
/**
 * The code and data whose change can change what the checks find, under src/ (tsx) or dist/src/ (a release): core —
 * the checks, the SPF/DKIM/DMARC/lockdown logic they call, the plans they consult — and the knowledge files. Not the
 * report's own comparison and rendering, nor the bounce explainer (they find nothing in a zone).
 */
const CHECK_SOURCES = ['core', 'knowledge'];
const NOT_CHECKS = new Set(['core/report', 'core/bounce', 'knowledge/bounce-codes.json']);

let producerCache: Producer | undefined;

/**
 * This mailhealth, as a report run records it (its meta's `mailhealth`): `version`, package.json's — what people read,
 * but one a development build or a patched install keeps while its checks change —, and `checks`, a SHA-256 of the
 * files that make the findings (CHECK_SOURCES: their paths and contents). Two runs with the same `checks` ran the same
 * checks on the same knowledge; different ones may disagree about records nobody touched (a rule added, a threshold
 * moved, a provider learnt). A change that only reformats that code counts as a change too: the report then words
 * what disappeared neutrally for one night, which costs nothing; the other way round would call a rule change a fix.
 * Read once per process; a file that cannot be read leaves the fingerprint to the version.
 */
export function thisMailhealth(): Producer {
  if (producerCache) return producerCache;
  let version = 'unknown';
  for (const file of [join(HERE, '../../package.json'), join(HERE, '../../../package.json')]) {
    try {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'mailhealth' && typeof pkg.version === 'string') {
        version = pkg.version;
        break;
      }
    } catch {
      /* the next place */
    }
  }
  let checks: string;
  try {
    const hash = createHash('sha256');
    const files: string[] = [];
    const walk = (rel: string) => {
      if (NOT_CHECKS.has(rel)) return;
      for (const e of readdirSync(join(HERE, '..', rel), { withFileTypes: true })) {
        const child = `${rel}/${e.name}`;
        if (e.isDirectory()) walk(child);
        else if (!NOT_CHECKS.has(child) && /(?<!\.d)\.ts$|\.js$|\.json$/.test(e.name)) files.push(child);
      }
    };
    for (const dir of CHECK_SOURCES) walk(dir);
    if (!files.length) throw new Error('no check sources found');
    for (const f of files.sort()) hash.update(f).update('\0').update(readFileSync(join(HERE, '..', f))).update('\0');
    checks = `sha256:${hash.digest('hex').slice(0, 16)}`;
  } catch {
    checks = `version:${version}`;
  }
  producerCache = { version, checks };
  return producerCache;
}

/** The mailhealth a run's meta names (PRODUCER_META); null when it names none (a run made before it was recorded). */
export function producerFromMeta(meta: unknown): Producer | null {
  const p = meta && typeof meta === 'object' ? (meta as Record<string, unknown>)[PRODUCER_META] : undefined;
  if (!p || typeof p !== 'object') return null;
  const { version, checks } = p as { version?: unknown; checks?: unknown };
  return typeof version === 'string' && typeof checks === 'string' ? { version, checks } : null;
}

/** A night the panel could not be read: nothing was audited. */
export interface PanelFailure {
  /** The report run recorded for it (status interrupted, meta.failed 'panel'), or null when the database refused it. */
  runId: number | null;
  /** The panel's error, as it said it. */
  reason: string;
  /** The short notice for the admin's recipients (never a report: nothing was compared, nothing is resolved). */
  notice: Pick<RenderedReport, 'subject' | 'text' | 'html'>;
}

export interface ReportOutcome {
  runId: number;
  previousRunId: number | null;
  doc: ReportDoc;
  rendered: RenderedReport;
  /** Report runs found `running` at the start (a crashed process) and marked interrupted. */
  interruptedRuns: number[];
  audited: number;
  /**
   * The report restricted to one reseller's (or customer's) domains — those that are theirs tonight — rendered, for
   * delivery. Comparisons with earlier runs stay per domain, whoever owned it then.
   */
  partFor(scope: ReportScope, audience?: string): { doc: ReportDoc; rendered: RenderedReport };
  /** Resellers with at least one domain tonight (their customers' or their own). */
  resellers: string[];
  delivery?: unknown;
}

/** The run was stopped halfway; it is recorded as interrupted. */
export class ReportInterruptedError extends Error {
  constructor(
    message: string,
    public readonly runId: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ReportInterruptedError';
  }
}

/**
 * `report:<host>:<pid>:<random>[:ns<pid namespace>:st<start ticks>]`: enough for a later run on this host to see that
 * the holder is gone (killed with SIGKILL, the machine's OOM killer) and take the lock over at once.
 */
export function defaultLockOwner(): string {
  return reportLockOwner();
}

/**
 * Takes the report lock: free, expired, or held by a process of this host that is gone (see reportLockHolderGone) —
 * then taken over in one statement (handOverLock: only while that owner still holds it). The run then marks the dead
 * holder's run interrupted, as after an expired lease. Anything else (a live holder, another host, unsure) refuses.
 */
export function takeReportLock(store: Store, owner: string, ttl: number, log: (m: string) => void = () => {}): void {
  if (store.tryLock(REPORT_LOCK, owner, ttl)) return;
  const h = store.lockHolder(REPORT_LOCK);
  if (!h) {
    if (store.tryLock(REPORT_LOCK, owner, ttl)) return; // its lease ran out just now
  } else if (h.owner === owner) {
    // This owner's own lock, left by its previous try whose release a busy database refused (the service tries a
    // busy night again with the same owner): still its own.
    if (store.renewLock(REPORT_LOCK, owner, ttl)) return;
  } else {
    const gone = reportLockHolderGone(h.owner);
    if (gone.dead && store.handOverLock(REPORT_LOCK, h.owner, owner, ttl)) {
      log(`took over the report lock from ${h.owner}: ${gone.why}`);
      return;
    }
  }
  const now = store.lockHolder(REPORT_LOCK);
  // heldLock: another run holds it (an answer, never tried again as a busy database would be).
  throw new StoreError('locked', `another report run is in progress${now ? ` (held by ${now.owner} until ${new Date(now.expiresAt).toISOString()})` : ''}`, {
    heldLock: REPORT_LOCK,
  });
}

/** The stored report.baseUrl when it will do (one set by hand may not): null means no links. */
function storedBaseUrl(store: Store, log: (m: string) => void): string | null {
  const v = store.getSetting<unknown>(REPORT_SETTINGS.baseUrl);
  if (v === undefined || v === null || v === '') return null;
  const why = typeof v === 'string' ? baseUrlProblem(v) : 'not a string';
  if (why) {
    log(`the saved ${REPORT_SETTINGS.baseUrl} ${JSON.stringify(v)} is not used (${why}): the report has no links`);
    return null;
  }
  return v as string;
}

/**
 * The ranges of report.dnsQps and report.concurrency: those of `report --qps` and `--concurrency` (the CLI's RANGES),
 * so a saved value means what the same number on the command line means.
 */
export const REPORT_NUMBER_RANGES = {
  [REPORT_SETTINGS.dnsQps]: [1, 100_000],
  [REPORT_SETTINGS.concurrency]: [1, 1024],
} as const satisfies Record<string, readonly [number, number]>;

/**
 * A saved report.dnsQps / report.concurrency: a whole number in its range (REPORT_NUMBER_RANGES), given as a JSON number
 * or as decimal digits in a string (as the command line takes it, and as a value typed into sqlite3 often is). Unset:
 * `fallback`. Anything else (0, -1, 2.5, 1e9, "fast", a number past the range) is not used: `fallback`, with a line in
 * the log naming the setting — never silently (a qps of 0 would stall the run, 1e9 would flood the resolver).
 */
export function savedReportNumber(store: Pick<Store, 'getSetting'>, key: keyof typeof REPORT_NUMBER_RANGES, fallback: number, log: (m: string) => void): number {
  const v = store.getSetting<unknown>(key);
  if (v === undefined || v === null) return fallback;
  const [min, max] = REPORT_NUMBER_RANGES[key];
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]{1,15}$/.test(v.trim()) ? Number(v.trim()) : NaN;
  if (Number.isSafeInteger(n) && n >= min && n <= max) return n;
  log(`the saved ${key} ${JSON.stringify(v)} is not used (a whole number from ${min} to ${max}): ${fallback} instead`);
  return fallback;
}

type Accounts = Awaited<ReturnType<Panel['listAccounts']>>;

function adminIdentity(accounts: Accounts): Identity {
  if (!accounts.length) throw new Error('the panel lists no accounts (not even an admin): check its configuration and credentials');
  const admin = accounts.find((a) => a.role === 'admin');
  if (!admin) throw new Error('the panel lists no admin account: the nightly report audits the whole server as the admin');
  return { user: admin.user, role: 'admin' };
}


/**
 * The notice for a night the panel could not be read: what happened, that nothing was audited, compared or changed,
 * and what to do. Plain text and HTML; the panel's message is shown with its control characters neutralised (it may
 * carry a fragment of whatever answered in the panel's place).
 */
export function panelFailureNotice(reason: string, runId: number | null, serverName: string): PanelFailure['notice'] {
  return nightNotice(
    `mailhealth could not read the panel: ${cleanControls(reason)}; no audit ran tonight.`,
    'Check that the panel answers (its service, its API token or credentials, panel.json for the files panel). The next ' +
      'scheduled run tries again; to run the report now once the panel answers: mailhealth report --email',
    'the panel could not be read',
    runId,
    serverName,
  );
}

/**
 * The meta value (`failed`) of a report run recorded because the history database stayed busy past the service's
 * tries (src/cli/nightly.ts): no audit ran. Later reports list it as a run that did not complete.
 */
export const DATABASE_FAILED = 'database';

/** Why a night ran no audit: the panel could not be read, or the history database stayed busy. */
export type NightFailureKind = typeof PANEL_FAILED | typeof DATABASE_FAILED;

/**
 * The notice for a night the history database stayed busy (another process held its write lock each time the report
 * tried to start; `tried`: how often, over how long): what happened, that nothing was audited, and what to do.
 */
export function databaseFailureNotice(reason: string, runId: number | null, serverName: string, tried?: string): PanelFailure['notice'] {
  return nightNotice(
    `mailhealth could not use its history database: ${cleanControls(reason)}; no audit ran tonight.`,
    `Another process held the database${tried ? ` each time the report tried to start (${cleanControls(tried)})` : ''}: a long bulk audit, a ` +
      'sqlite3 session left open, a backup that locks the file. Find it (fuser on the database file), then run the report ' +
      'now: mailhealth report --email. The next scheduled run tries again in any case.',
    'the history database was busy',
    runId,
    serverName,
  );
}

/** A failed night's notice: its first line, the advice, and the subject's reason; text and HTML. */
function nightNotice(headline: string, advice: string, subjectWhy: string, runId: number | null, serverName: string): PanelFailure['notice'] {
  const server = cleanControls(serverName);
  const run = runId !== null ? ` (report run ${runId}, recorded as not complete)` : '';
  const lines = [
    headline,
    '',
    `Nothing was audited, compared or changed on ${server}${run}: no domain is reported fine, resolved or failing from tonight, ` +
      'and the next complete run is compared with the last complete one before it.',
    '',
    advice,
  ];
  return {
    subject: `mailhealth nightly report — ${server}: not run, ${subjectWhy}`,
    text: lines.join('\n') + '\n',
    html: lines
      .filter((l) => l)
      .map((l) => `<p>${escapeHtml(l)}</p>`)
      .join('\n'),
  };
}

/**
 * The panel could not be read before the audit (its account or domain list): nothing was audited. Recorded as a report
 * run that did not complete — status interrupted (the runs table has no other failure status) with meta
 * `{failed: "panel", reason}` — so the history shows the night, the next report lists it under "Skipped (did not
 * complete)", and no report ever compares with it: no domain reads as fine or resolved from a failed panel read. Then
 * `notify` (the admin's notice) is awaited; its failure is only logged. Never throws: a database that cannot record
 * it gives runId null (logged). Needs no report lock (it only adds a finished run); runLocked calls it holding it.
 */
export function recordPanelFailure(
  store: Store,
  error: unknown,
  opts: { byUser: string; serverName?: string; log?: (m: string) => void; notify?: (f: PanelFailure) => Promise<unknown> },
): Promise<PanelFailure> {
  return recordFailedNight(store, error, { ...opts, kind: PANEL_FAILED });
}

/**
 * A night that ran no audit, recorded and told as recordPanelFailure does — for `kind` 'panel' (the panel could not
 * be read) or 'database' (the history database stayed busy: src/cli/nightly.ts, after its tries; `tried` says how
 * long). The failed run is recorded in one transaction, waiting out a short busy spell (throughBusy); a database that
 * still refuses gives runId null, logged — and then no notice is sent (deliverNotice records each attempt on the run).
 * Never throws.
 */
export async function recordFailedNight(
  store: Store,
  error: unknown,
  opts: {
    kind: NightFailureKind;
    byUser: string;
    serverName?: string;
    log?: (m: string) => void;
    notify?: (f: PanelFailure) => Promise<unknown>;
    tried?: string;
    sleep?: (ms: number) => Promise<void>;
  },
): Promise<PanelFailure> {
  const log = opts.log ?? (() => {});
  const reason = (error as Error)?.message ?? String(error);
  let runId: number | null = null;
  try {
    runId = await throughBusy(() => store.recordFailedRun('report', opts.byUser, { failed: opts.kind, reason }), opts.sleep ? { sleep: opts.sleep } : {});
  } catch (e) {
    log(`the failed report run could not be recorded: ${(e as Error)?.message ?? String(e)}`);
  }
  let serverName = opts.serverName;
  try {
    serverName ??= store.getSetting<string>(REPORT_SETTINGS.serverName);
  } catch {
    /* the host name below */
  }
  const server = typeof serverName === 'string' && serverName ? serverName : hostname();
  const notice = opts.kind === PANEL_FAILED ? panelFailureNotice(reason, runId, server) : databaseFailureNotice(reason, runId, server, opts.tried);
  const failure: PanelFailure = { runId, reason, notice };
  const what = opts.kind === PANEL_FAILED ? 'mailhealth could not read the panel' : 'the history database stayed busy';
  log(`${runId !== null ? `report run ${runId}` : 'nightly report'}: ${what}: ${reason}; no audit ran (nothing compared, no domain marked resolved)`);
  if (opts.notify) {
    try {
      await opts.notify(failure);
    } catch (e) {
      log(`${runId !== null ? `report run ${runId}` : 'nightly report'}: the notice could not be sent: ${(e as Error)?.message ?? String(e)}`);
    }
  }
  return failure;
}

/**
 * A domain's reseller for the report: the panel's, else its owner when the owner is a reseller account (panels set
 * no reseller on a reseller's own domains) — so those domains are in the reseller's part, not the server admin's.
 */
export function reportReseller(ref: DomainRef, resellerAccounts: ReadonlySet<string>): string | null {
  if (ref.reseller) return ref.reseller;
  return resellerAccounts.has(ref.owner) ? ref.owner : null;
}

/**
 * The domains of the last complete report run (0 when there is none). Runs are listed newest first; failed nights in
 * between (one per night while the panel is down) are passed over.
 */
function lastCompleteDomains(store: Pick<Store, 'listRuns'>): number {
  const last = store.listRuns({ kind: 'report', complete: true, limit: 1 })[0];
  return last ? recordedCount(last) : 0;
}

/**
 * An empty domain list where the last complete report had domains is a panel that could not be read, not a server
 * whose every domain left overnight: the WHM API turns an access it lost ("No accounts found") into an empty list.
 * Taken as it came, the report would call every problem "resolved — domain no longer on the server", and the next
 * good night every one "new" again, its streak restarted. Throws a PanelError (the night is recorded as a failed
 * panel read, like any other); an empty list on a server whose last complete report had none (or that has none yet)
 * is taken as it is.
 */
function emptyListCheck(store: Store): void {
  const had = lastCompleteDomains(store);
  // No parentheses or semicolons: the reason is shown inside both (the settings page, the report's Skipped line).
  if (had > 0) throw new PanelError('other', `the panel listed no domains, while the last report had ${had}`);
}

/** Marks report runs still `running` as interrupted. Only call while holding the report lock. */
export function markStaleRuns(store: Store, except?: number): number[] {
  const stale = store.listRuns({ kind: 'report', limit: 500 }).filter((r) => r.status === 'running' && r.id !== except);
  for (const r of stale) store.finishRun(r.id, 'interrupted');
  return stale.map((r) => r.id);
}

/** The severities a snapshot keeps (problems and unknowns): pass and info findings stay in the store. */
const SNAPSHOT_SEVERITIES: readonly Severity[] = ['fail', 'warn', 'unknown'];
const IN_SNAPSHOT: ReadonlySet<Severity> = new Set(SNAPSHOT_SEVERITIES);

/** A finding as a snapshot is made from: a whole one (tonight's, the run compared with) or one read without evidence. */
type SnapshotSource = FindingHead & { evidence?: unknown };

/** One string per text: equal strings of the nights loaded become one (see loadHistory). */
type Intern = <T extends string | null | undefined>(s: T) => T;
const asIs: Intern = (s) => s;

function interner(): Intern {
  const seen = new Map<string, string>();
  return <T extends string | null | undefined>(s: T): T => {
    if (typeof s !== 'string') return s;
    const had = seen.get(s);
    if (had !== undefined) return had as T;
    seen.set(s, s);
    return s;
  };
}

/**
 * A domain's result as the diff reads it: its problems and unknowns (pass/info findings stay in the store) — and, with
 * `records`, the record lines each problem quotes and every line its checks quoted (pass and info included), which the
 * diff compares across a change of checks (diff.ts recordsVerdict). Without: nothing of the evidence is kept.
 */
function toSnapshotDomain(
  domain: string,
  owner: string | null,
  reseller: string | null,
  a: { status: DomainAudit['status']; findings: readonly SnapshotSource[] },
  records = false,
  intern: Intern = asIs,
): DomainSnapshot {
  const snap: DomainSnapshot = {
    domain: intern(domain),
    owner: intern(owner),
    reseller: intern(reseller),
    status: a.status,
    findings: a.findings
      .filter((f) => IN_SNAPSHOT.has(f.severity))
      .map((f) => ({
        rule: intern(f.rule),
        check: intern(f.check),
        severity: f.severity,
        subject: intern(f.subject ?? null),
        message: intern(f.message),
        ...(records ? { evidence: recordLinesOf(f) } : {}),
      })),
  };
  if (records) {
    // Each check's findings quote the same lines over and over (every SPF term its record): kept once.
    const byCheck = new Map<CheckName, { panel: Set<string>; live: Set<string> }>();
    for (const f of a.findings) {
      const r = recordLinesOf(f);
      let into = byCheck.get(f.check);
      if (!into) byCheck.set(f.check, (into = { panel: new Set(), live: new Set() }));
      for (const l of r.panel) into.panel.add(l);
      for (const l of r.live) into.live.add(l);
    }
    const out: Partial<Record<CheckName, RecordLines>> = {};
    for (const [check, r] of byCheck) out[check] = { panel: [...r.panel], live: [...r.live] };
    snap.records = out;
  }
  return snap;
}

/** The record lines a finding quotes: its evidence's `panel` and `live` text (a stored one may hold anything). */
function recordLinesOf(f: { evidence?: unknown }): RecordLines {
  const text = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const ev = (f.evidence ?? {}) as { panel?: unknown; live?: unknown };
  return { panel: text(ev.panel), live: text(ev.live) };
}

/** The owner → reseller map a run recorded in its meta; null when the run recorded none (runs from before it did). */
function resellerMapFromMeta(meta: unknown): Record<string, string> | null {
  if (meta && typeof meta === 'object' && 'resellers' in meta) {
    const r = (meta as { resellers: unknown }).resellers;
    if (r && typeof r === 'object') return r as Record<string, string>;
  }
  return null;
}

/** The results a complete run recorded (its domains): fewer left in the store means some were pruned. */
function recordedCount(r: Run): number {
  return Math.max(r.total ?? 0, r.done);
}

/**
 * Earlier report runs as snapshots: complete ones (up to `depth`, plus the `since` one) with results, others status
 * only. A complete run that lost results to prune is marked `partial` (the diff leaves it out of the trend and never
 * compares with it). With `since` a date, the run compared with is the latest whole complete run started at or before
 * it, or when there is none the oldest whole complete run (the report says so). When that run is older than the
 * `depth` loaded, the complete runs in between are not loaded: it says how many (`runsNotLoadedAfter`), so no streak
 * is counted across them. `truncated`: older complete runs exist than the ones loaded.
 *
 * Memory and the event loop (QA scale S1: reading 30 whole nights at once took 2.6 GB and froze `serve` for 31 s at
 * 10,000 domains): each run is read in pieces of HISTORY_CHUNK results (Store.runResultIds, then by id), each piece
 * made into snapshots before the next is read, with a turn of the event loop before each run and between pieces. A
 * piece is read without evidence and without pass/info findings (Store.resultFindingsByIds), except in the run compared
 * with when its records are compared (other checks made it: Store.resultsByIds, whole). The texts of the snapshots are
 * shared across the nights (the same domains, owners and messages come back every night): what stays is the
 * problems of the nights loaded, with each distinct text once.
 */
export async function loadHistory(
  store: Store,
  currentRunId: number,
  opts: { depth?: number; since?: 'last' | Date; resellers?: Record<string, string>; producer?: Producer; signal?: AbortSignal } = {},
): Promise<{ runs: RunSnapshot[]; truncated: boolean }> {
  const depth = opts.depth ?? DEFAULT_HISTORY_DEPTH;
  // A stop (the service stopping) is heard at each turn of the event loop: the load takes ~12 s at 10,000 domains, and
  // a stop waited for all of it (scale QA).
  const pause = async (): Promise<void> => {
    await nextTurn();
    if (opts.signal?.aborted) throw new Error('the report run was aborted');
  };
  // The complete runs are chosen among complete runs alone: however many runs failed since the last complete one (an
  // hourly `mailhealth report` while the panel is down), that one is still compared with (review R4: past 118 failed
  // runs, a window of the newest runs of any status held no complete run, and every problem was "new").
  const complete = store.listRuns({ kind: 'report', complete: true, beforeId: currentRunId, limit: depth + 1 });
  const loaded = complete.slice(0, depth);
  const chosen = new Set(loaded.map((r) => r.id));
  // Runs that did not complete, listed for "Skipped": only those after the oldest complete run loaded (the diff lists
  // those after the run compared with), with the same bound as every other list of all runs.
  const oldestChosen = loaded.length ? loaded[loaded.length - 1].id : 0;
  const unfinished = store.listRuns({ kind: 'report', complete: false, afterId: oldestChosen, beforeId: currentRunId, limit: 10_000 });
  const listed = [...loaded, ...unfinished].sort((a, b) => b.id - a.id);
  let pool: Run[] = listed;
  // Older complete runs exist than the ones loaded — listed, or deleted by prune (which records the newest it deleted:
  // a night it took leaves no run behind), so a streak reaching the oldest loaded run is a lower bound.
  const prunedBefore = (oldest: number): boolean => {
    const pruned = store.newestPrunedReportRun();
    return pruned !== null && pruned < Math.min(currentRunId, oldest);
  };
  let truncated = complete.length > depth || prunedBefore(oldestChosen || currentRunId);
  // The `since` run, and how many complete runs between it and the newest `depth` were not loaded.
  let sinceBase: { id: number; notLoadedAfter: number } | null = null;
  if (opts.since instanceof Date) {
    const limit = opts.since.getTime();
    // Complete runs alone, as above (failed runs in between take no room in the list).
    const all = store.listRuns({ kind: 'report', complete: true, beforeId: currentRunId, limit: 10_000 });
    const counts = store.runResultCounts(all.map((r) => r.id));
    const whole = (r: Run) => (counts.get(r.id) ?? 0) >= recordedCount(r);
    const base = all.find((r) => Date.parse(r.startedAt) <= limit && whole(r)) ?? [...all].reverse().find(whole);
    if (base) {
      const oldestLoaded = Math.min(currentRunId, ...chosen);
      chosen.add(base.id);
      if (!pool.some((r) => r.id === base.id)) pool = [...pool, base];
      // The runs that did not complete since that one, for "Skipped" (those after the oldest loaded are listed already).
      if (base.id < oldestChosen) {
        const more = store.listRuns({ kind: 'report', complete: false, afterId: base.id, beforeId: oldestChosen, limit: 10_000 });
        pool = [...pool, ...more];
      }
      sinceBase = { id: base.id, notLoadedAfter: all.filter((r) => r.id > base.id && r.id < oldestLoaded).length };
    }
    // Known exactly here (every complete run was listed, unless there are more than the list holds).
    const oldest = Math.min(...chosen);
    truncated = all.some((r) => r.id < oldest) || all.length >= 10_000 || prunedBefore(oldest);
  }
  pool.sort((a, b) => b.id - a.id); // newest first, as listed
  const runs: RunSnapshot[] = [];
  // The run the report compares with (the newest whole complete one, or the `since` one) keeps its records when other
  // checks made it: the diff tells a record changed from a rule changed by them. Only that run — its results are read
  // anyway, and older runs' evidence would cost memory for a question rarely asked of them (their items are then
  // worded neutrally).
  let compared: number | null = sinceBase?.id ?? null;
  const intern = interner();
  for (const r of pool) {
    if (r.status !== 'complete') {
      runs.push({ runId: r.id, status: r.status, startedAt: r.startedAt, meta: r.meta });
      continue;
    }
    if (!chosen.has(r.id)) continue;
    // The owners' resellers as that night recorded them — an owner missing from its map had none then (the map lists
    // only owners with a reseller), whoever their reseller is tonight. Tonight's map only for runs that recorded none.
    const resellers = resellerMapFromMeta(r.meta) ?? opts.resellers ?? {};
    // A turn of the event loop before each run, and between its pieces: `serve` answers its pages meanwhile.
    await pause();
    const ids = store.runResultIds(r.id);
    let partial = ids.length < recordedCount(r);
    const producer = producerFromMeta(r.meta);
    if (compared === null && !partial && !(opts.since instanceof Date)) compared = r.id;
    const records = compared === r.id && opts.producer !== undefined && (producer === null || producer.checks !== opts.producer.checks);
    const domains: DomainSnapshot[] = [];
    for (let i = 0; i < ids.length; i += HISTORY_CHUNK) {
      if (i > 0) await pause();
      const chunk = ids.slice(i, i + HISTORY_CHUNK);
      // Whole documents only where the records are compared; elsewhere the problems alone, without evidence.
      const part = records ? store.resultsByIds(chunk) : store.resultFindingsByIds(chunk, SNAPSHOT_SEVERITIES);
      for (const res of part) domains.push(toSnapshotDomain(res.domain, res.owner, res.owner ? (resellers[res.owner] ?? null) : null, res, records, intern));
    }
    if (domains.length < ids.length) {
      // Results pruned between two pieces (another process's prune): partly pruned, as if before; and when it was to
      // be the run compared with, the next whole one is (diff.ts pickPrevious passes over a partial run too).
      // (Review: reset whether or not this run's records were read — the next whole run may be one whose records are.)
      partial = domains.length < recordedCount(r);
      if (partial && compared === r.id && !sinceBase) {
        compared = null;
        if (records) {
          for (const d of domains) {
            delete d.records;
            for (const f of d.findings) delete f.evidence;
          }
        }
      }
    }
    runs.push({
      runId: r.id,
      status: 'complete',
      startedAt: r.startedAt,
      producer,
      domains,
      ...(partial ? { partial: true } : {}),
      ...(sinceBase?.id === r.id && sinceBase.notLoadedAfter > 0 ? { runsNotLoadedAfter: sinceBase.notLoadedAfter } : {}),
    });
  }
  return { runs, truncated };
}

export async function runReport(opts: ReportRunOptions): Promise<ReportOutcome> {
  const { store, panel } = opts;
  const log = opts.log ?? (() => {});
  const owner = opts.lockOwner ?? defaultLockOwner();
  const ttl = opts.lockTtlMs ?? DEFAULT_LOCK_TTL_MS;
  takeReportLock(store, owner, ttl, log);
  let lostLock = false;
  const renew = setInterval(() => {
    try {
      if (!store.renewLock(REPORT_LOCK, owner, ttl)) lostLock = true;
    } catch {
      /* busy database: try again next time; the lease is long */
    }
  }, Math.max(1000, Math.floor(ttl / 3)));
  renew.unref();
  try {
    return await runLocked(opts, log, () => lostLock);
  } finally {
    clearInterval(renew);
    try {
      await throughBusy(() => store.releaseLock(REPORT_LOCK, owner), opts.sleep ? { sleep: opts.sleep } : {});
    } catch {
      /* the lease runs out by itself (or this owner's next try takes it back: takeReportLock) */
    }
  }
}

async function runLocked(opts: ReportRunOptions, log: (m: string) => void, lostLock: () => boolean): Promise<ReportOutcome> {
  const { store, panel } = opts;
  const interruptedRuns = markStaleRuns(store);
  if (interruptedRuns.length) log(`marked report run(s) ${interruptedRuns.join(', ')} interrupted (left running by a stopped process)`);

  if (opts.identity && opts.identity.role !== 'admin') {
    throw new Error(`the nightly report audits the whole server: run it as the admin, not ${opts.identity.role} ${opts.identity.user}`);
  }
  let accounts: Accounts = [];
  let identity: Identity;
  let refs: DomainRef[];
  try {
    if (opts.identity) {
      try {
        accounts = await panel.listAccounts();
      } catch (e) {
        // Only the resellers' own domains depend on it: they go under the server admin for tonight.
        log(`the panel's account list could not be read (${(e as Error)?.message ?? String(e)}): resellers' own domains are reported under the server admin tonight`);
      }
    } else accounts = await panel.listAccounts();
    identity = opts.identity ?? adminIdentity(accounts);
    refs = await panel.listDomains(identity);
    if (!refs.length) emptyListCheck(store);
  } catch (e) {
    // Without the panel's lists there is nothing to audit: the night is recorded as failed and the admin told, then
    // the panel's own error goes on (the CLI's exit 2, the service's log).
    await recordPanelFailure(store, e, {
      byUser: opts.identity?.user ?? accounts.find((a) => a.role === 'admin')?.user ?? 'admin',
      ...(opts.serverName !== undefined ? { serverName: opts.serverName } : {}),
      log,
      ...(opts.onPanelFailure ? { notify: opts.onPanelFailure } : {}),
    });
    throw e;
  }
  const resellerAccounts = new Set(accounts.filter((a) => a.role === 'reseller').map((a) => a.user));
  // owner → reseller (also kept in the run's meta: older runs are read with the map of their night).
  const resellers: Record<string, string> = {};
  const resellerByDomain = new Map<string, string | null>();
  for (const d of refs) {
    const r = reportReseller(d, resellerAccounts);
    resellerByDomain.set(d.domain, r);
    if (r) resellers[d.owner] = r;
  }
  const refByDomain = new Map(refs.map((d) => [d.domain, d]));

  const concurrency = opts.concurrency ?? savedReportNumber(store, REPORT_SETTINGS.concurrency, DEFAULT_CONCURRENCY, log);
  const qps = opts.qps ?? savedReportNumber(store, REPORT_SETTINGS.dnsQps, DEFAULT_DNS_QPS, log);
  const limiter = opts.limiter ?? new TokenBucket({ ratePerSec: qps });
  const resolver = rateLimitedResolver(opts.resolver, limiter);

  const producer = opts.producer ?? thisMailhealth();
  // Which mailhealth made the run: a later report compared with it by other checks says so (diff.ts versionChange).
  const runId = store.startRun('report', identity.user, refs.length, { resellers, qps, concurrency, [PRODUCER_META]: producer });
  log(`report run ${runId}: auditing ${refs.length} domain(s), ${concurrency} at a time, at most ${qps} DNS queries/s`);

  let stopError: unknown = undefined;
  const onAbort = () => {
    stopError ??= new Error('the report run was aborted');
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();

  // Tonight's domains as the report reads them, made as each audit arrives (with the records its checks quoted: a run
  // compared with that other checks made needs them); the audit itself is kept only until its batch is written.
  const audited: DomainSnapshot[] = [];
  let buffer: { audit: DomainAudit; owner: string | null }[] = [];
  let bufferFailed = 0;
  // A batch and its count in one transaction; emptied only once written, so a write the database was too busy for
  // can be tried again with the same batch.
  const flush = () => {
    if (!buffer.length) return;
    store.recordAudits(runId, buffer, { done: buffer.length, failed: bufferFailed });
    buffer = [];
    bufferFailed = 0;
  };
  const busy = opts.sleep ? { sleep: opts.sleep } : {};
  const checkStop = () => {
    if (stopError === undefined && resolver.fatal !== undefined) stopError = resolver.fatal;
    if (stopError === undefined && lostLock()) stopError = new Error('lost the report lock (another process took it over)');
    return stopError;
  };

  try {
    await auditMany(
      refs.map((d) => d.domain),
      { panel, resolver, ...(opts.auditOptions ? { options: opts.auditOptions } : {}), ...(opts.now ? { now: opts.now } : {}) },
      {
        concurrency,
        cancelled: () => checkStop() !== undefined,
        onResult: (a) => {
          // An audit that ran into the stop is not trustworthy (its DNS answers may be errors we caused): drop it.
          const stop = checkStop();
          if (stop !== undefined) throw stop;
          const ref = refByDomain.get(a.domain);
          audited.push(toSnapshotDomain(a.domain, ref?.owner ?? null, resellerByDomain.get(a.domain) ?? null, a, true));
          buffer.push({ audit: a, owner: ref?.owner ?? null });
          if (a.status === 'fail') bufferFailed++;
          if (buffer.length >= BATCH) flush();
        },
      },
    );
    const stop = checkStop();
    if (stop !== undefined) throw stop;
    if (audited.length !== refs.length) throw new Error(`only ${audited.length} of ${refs.length} domains were audited`);
    // The last batch waits out a short busy spell (each audit done is worth it); the run stays `running` until its
    // report is saved with it (completeRunWithReport below).
    await throughBusy(flush, busy);
  } catch (e) {
    stopError ??= e;
    try {
      flush(); // keep what was audited before the stop (the run stays interrupted: never compared with)
    } catch {
      /* the database itself may be the problem */
    }
    try {
      store.finishRun(runId, 'interrupted');
    } catch {
      /* next run marks it interrupted */
    }
    log(`report run ${runId} interrupted after ${audited.length} of ${refs.length} domain(s): ${(e as Error)?.message ?? String(e)}`);
    throw new ReportInterruptedError(`report run ${runId} interrupted: ${(e as Error)?.message ?? String(e)}`, runId, { cause: e });
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }

  const run = store.getRun(runId);
  const current: RunSnapshot = {
    runId,
    status: 'complete',
    startedAt: run?.startedAt ?? new Date().toISOString(),
    producer,
    domains: audited,
  };
  let history: Awaited<ReturnType<typeof loadHistory>>;
  try {
    history = await loadHistory(store, runId, { depth: opts.historyDepth, since: opts.since, resellers, producer, ...(opts.signal ? { signal: opts.signal } : {}) });
  } catch (e) {
    // Stopped (or the history could not be read) after every audit was written: the run stays without a report,
    // interrupted — never compared with; tomorrow's run compares with the last complete one.
    try {
      store.finishRun(runId, 'interrupted');
    } catch {
      /* next run marks it interrupted */
    }
    log(`report run ${runId} interrupted after its ${audited.length} audit(s), while reading the earlier nights: ${(e as Error)?.message ?? String(e)}`);
    throw new ReportInterruptedError(`report run ${runId} interrupted: ${(e as Error)?.message ?? String(e)}`, runId, { cause: e });
  }
  const baseUrl = opts.baseUrl !== undefined ? opts.baseUrl : storedBaseUrl(store, log);
  const serverName = opts.serverName ?? store.getSetting<string>(REPORT_SETTINGS.serverName) ?? hostname();
  const input = { current, runs: history.runs, since: opts.since, historyTruncated: history.truncated };
  const doc = buildReport(input);
  const timeZone = reportTimeZone(opts.timeZone, store.getSetting<unknown>(REPORT_SETTINGS.timezone));
  const rendered = renderReport(doc, { baseUrl, serverName, ...(timeZone ? { timeZone } : {}) });
  await completeWithReport(store, runId, { json: doc, html: rendered.html, text: rendered.text }, busy, log, lostLock);
  // Only the newest saved report keeps its still-failing list whole (QA scale S4: the list repeated every failing
  // problem every night, 2.6 MB a night at 2,000 domains); the earlier ones keep its count (Store.thinEarlierReports).
  // Not done tonight (a busy database): the next report does it.
  try {
    store.thinEarlierReports(runId);
  } catch (e) {
    log(`report run ${runId}: the earlier reports' still-failing lists were not thinned (${(e as Error)?.message ?? String(e)}); the next report does it`);
  }
  log(
    `report run ${runId} complete: ${doc.summary.newProblems} new, ${doc.summary.resolved} resolved, ${doc.summary.stillFailing} still failing, ${doc.summary.unknown} unknown` +
      // Only on a night that has some, as the mail's subject says it (render.ts reportSubject): problems of names the
      // panels' adapters now leave out, neither resolved nor still failing (diff.ts notAudited).
      (doc.summary.notAudited ? `, ${doc.summary.notAudited} no longer audited` : '') +
      (doc.previousRunId === null
        ? doc.prunedRuns.length
          ? ' (nothing to compare with: no earlier complete run is kept whole)'
          : ' (first complete run)'
        : doc.sinceBeforeOldest
          ? ` (no complete run kept at or before ${doc.since}: compared with the oldest kept, run ${doc.previousRunId})`
          : ` (compared with run ${doc.previousRunId})`) +
      (doc.summary.noLongerReported ? `; ${doc.summary.noLongerReported} of the resolved only no longer reported` : '') +
      (doc.historyGap ? `; ${gapText(doc)}` : '') +
      (doc.versionChange ? `; ${versionChangeText(doc)}` : ''),
  );

  const outcome: ReportOutcome = {
    runId,
    previousRunId: doc.previousRunId,
    doc,
    rendered,
    interruptedRuns,
    audited: audited.length,
    resellers: [...new Set([...resellerByDomain.values()].filter((r): r is string => Boolean(r)))].sort(),
    partFor(scope, audience) {
      const d = buildReport({ ...input, scope });
      return { doc: d, rendered: renderReport(d, { baseUrl, serverName, audience: audience ?? scope.reseller ?? scope.owner, ...(timeZone ? { timeZone } : {}) }) };
    },
  };
  if (opts.deliver) {
    try {
      outcome.delivery = await opts.deliver(outcome);
    } catch (e) {
      log(`report run ${runId}: delivery failed: ${(e as Error)?.message ?? String(e)} (the report is saved)`);
      outcome.delivery = { error: (e as Error)?.message ?? String(e) };
    }
  }
  return outcome;
}

/**
 * Marks the run complete and saves its report in one transaction (Store.completeRunWithReport), waiting out a short
 * busy spell (throughBusy). A run complete without its report was the worst outcome of a busy database: nothing was
 * mailed, and the next night compared with it, so that night's new problems were never reported. When the report
 * cannot be saved (the database stays busy, or the run was marked interrupted meanwhile — its lock taken over, Ctrl-C),
 * the run is left interrupted (or running, for the next run to mark: the database may refuse that too) and an error is
 * thrown: a busy database as the store's `locked` error (the CLI's exit 1, code locked), else ReportInterruptedError.
 * The next report compares with the last run that has its report.
 */
async function completeWithReport(
  store: Store,
  runId: number,
  report: { json: unknown; html: string; text: string },
  busy: { sleep?: (ms: number) => Promise<void> },
  log: (m: string) => void,
  lostLock: () => boolean,
): Promise<void> {
  const leaveInterrupted = () => {
    try {
      store.finishRun(runId, 'interrupted');
    } catch {
      /* still running: the next run marks it interrupted (markStaleRuns) */
    }
  };
  if (lostLock()) {
    leaveInterrupted();
    throw new ReportInterruptedError(`report run ${runId} interrupted: lost the report lock (another process took it over) before the report was saved`, runId);
  }
  let saved: boolean;
  try {
    saved = await throughBusy(() => store.completeRunWithReport(runId, report), busy);
  } catch (e) {
    leaveInterrupted();
    const why = (e as Error)?.message ?? String(e);
    log(`report run ${runId}: the report could not be saved (${why}); the run is left not complete, nothing is sent, and the next report compares with the last complete one`);
    // A busy database keeps its kind and code (the CLI: exit 1, code locked; the service tries the night again).
    if (e instanceof StoreError && e.code === 'locked') {
      throw new StoreError('locked', `report run ${runId}: the report could not be saved, the run is left not complete: ${why}`, { cause: e });
    }
    throw e;
  }
  if (!saved) {
    const now = store.getRun(runId)?.status ?? 'gone';
    log(`report run ${runId}: marked ${now} by another process before its report was saved; the report is not saved nor sent`);
    throw new ReportInterruptedError(`report run ${runId} interrupted: it was marked ${now} by another process before its report was saved`, runId);
  }
}

/**
 * The zone the report dates its nights in: the one given (the schedule's: --report-tz), else the settings page's, else
 * — as the scheduler does when none is set or the saved one is not a time zone — the server's own.
 */
export function reportTimeZone(given: string | undefined, saved: unknown): string | undefined {
  for (const v of [given, saved]) {
    // (A zone stored by hand may end in a newline: the scheduler reads it without.)
    const tz = typeof v === 'string' ? v.trim() : '';
    if (tz && isTimezone(tz)) return tz;
  }
  return Intl.DateTimeFormat().resolvedOptions().timeZone || undefined;
}

