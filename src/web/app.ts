// The panel UI and its JSON API: one Express app. Routes live in ./routes (one file per page); this file wires the
// cross-cutting parts in order: security headers, static assets, body parsing, session, identity, CSRF, routes,
// not-found and error handling.
import { jsonText } from '../core/text.js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Identity } from '../core/model.js';
import { PanelError, type Panel } from '../core/panel.js';
import type { Resolver } from '../core/resolver.js';
import { PlanError } from '../core/plans/index.js';
import { nothingToChange } from '../core/plans/plan.js';
import { StoreError, type Store } from '../adapters/store/store.js';
import { isBusy } from '../adapters/store/busy.js';
import { withSettings } from '../adapters/panels/with-settings.js';
import { bearerToken, presentsBearer, tokenMatches, type FrontDoor, type IdentitySource } from './identity.js';
import { csrfRefusal, ctx, HttpError, isSameSitePath, NOT_FOUND_MESSAGE, type Locals } from './http.js';
import { BulkRunner } from './jobs.js';
import { monotonicMs, RateLimiter, type BucketConfig } from './ratelimit.js';
import {
  accountKey,
  decodeSession,
  endSessions,
  forgetPassword,
  listProvesAbsence,
  newSession,
  parseCookies,
  passwordAccountGone,
  passwordState,
  SESSION_COOKIE,
  sessionGeneration,
  sessionSecret,
  sessionStillValid,
  writeSession,
  type GenerationalSession,
} from './session.js';
import { isStoreFailure, isStoreText, logWeb, settingsFrom, shownText, StoreFailure, storeFailureMessage, withheldText, type StoreStage, type WebDeps } from './services.js';
import { authRoutes } from './routes/auth.js';
import { domainRoutes } from './routes/domains.js';
import { fixRoutes } from './routes/fix.js';
import { historyRoutes } from './routes/history.js';
import { explainRoutes } from './routes/explain.js';
import { bulkRoutes } from './routes/bulk.js';
import type { ResolverOptions } from '../adapters/dns/resolver.js';
import { settingsRoutes } from './routes/settings.js';
import type { ScheduleOverrides } from '../core/settings.js';
import { apiRoutes } from './routes/api.js';
import { escapeHtml, escapeShown } from './view-model.js';

/**
 * Whether a request path is the JSON API's. Express matches routes regardless of case, so `/API/domains` is served by
 * the API router: the test must not be case-sensitive either, or such a request got the API's answers with the pages'
 * identity and error handling (a login redirect, an HTML error page, an admin token refused) — review R3.
 */
export function isApiPath(path: string): boolean {
  return /^\/api(\/|$)/i.test(path);
}

export interface AppDeps {
  panel: Panel;
  store: Store;
  /** A fresh resolver per request or job (its cache lives for one run). */
  makeResolver: () => Resolver;
  /** 'session': standalone login + admin token. 'front-door': the panel's front door supplies the identity. */
  identityFrom: IdentitySource;
  /** Required with identityFrom 'front-door'. */
  frontDoor?: FrontDoor;
  /** Admin token for `Authorization: Bearer` on /api (standalone only). */
  adminToken?: string | null;
  /**
   * login: per browser address and user name; loginUser: per user name over all addresses (default: 5 × login's burst,
   * 4 × its rate), which bounds guessing by whoever can choose the address the limit sees (routes/auth.ts).
   * bulk: see DEFAULT_BULK; bulkPreview: bulk fix previews (default: 2 × bulk's burst and rate, see bulkPreviewBucket).
   */
  rateLimits?: { audit?: BucketConfig; bulk?: BucketConfig; bulkPreview?: BucketConfig; login?: BucketConfig; loginUser?: BucketConfig };
  now?: () => Date;
  auditConcurrency?: number;
  /** See WebDeps.resolverOptions: lets bulk jobs run on worker threads. */
  resolverOptions?: () => ResolverOptions;
  auditThreads?: number;
  /** Called after the settings page saved (serve: the nightly report moves to the new schedule at once). */
  onSettingsSaved?: () => void;
  /** See ScheduleOverrides: the settings page tells the admin which schedule fields the command line fixed. */
  scheduleOverrides?: ScheduleOverrides;
  /**
   * false: start no background jobs — bulk audits are refused with `noBackgroundJobsMessage` and change nothing. For a
   * front door that handles one request in-process: it closes the store once the response is sent, so a job would die
   * half-way and leave its row "running" for ever.
   */
  backgroundJobs?: boolean;
  /** Why bulk audits are unavailable (default NO_BACKGROUND_JOBS). */
  noBackgroundJobsMessage?: string;
  /**
   * Why this process schedules no nightly report, for the settings page (which then says so beside the schedule
   * instead of showing it as if it took effect): 'no-report' (`serve --no-report`) or 'demo' (the demo, which also
   * asks its own DNS server whatever the resolver setting says). Unset: a report is scheduled here — or by a process
   * this one cannot see (the panels' `mailhealth service`), so nothing is said.
   */
  noNightlyReport?: NoNightlyReport;
  /**
   * The nightly report's schedule as this process runs it (serve: its scheduler), for the settings page's "next run".
   * Unset: the page says what an empty time zone means, but no next run (the report runs in another process, or not).
   */
  reportSchedule?: ReportSchedule;
  /**
   * What the settling of open intents run just before this request found (reconcile's results: id and outcome), when
   * one ran for it — server.ts forces one before every request acting on history, a front door's page before each
   * request. An undo of a change still open says from it why (routes/history.ts undoProblem): e.g. that the settling put
   * the records back but could not record it. Unset, or undefined for a request: none known.
   */
  settledBefore?: (req: object) => readonly SettledIntent[] | undefined;
}

/** One open intent as a settling pass left it (core/plans/apply.ts reconcile's result; server.ts SettleResult). */
export interface SettledIntent {
  id: number;
  outcome: string;
}

/** What the settings page reads of a running report scheduler (src/cron/scheduler.ts Scheduler has it). */
export interface ReportSchedule {
  /** The schedule in force (after --report-cron and a fallback from a bad stored one). */
  readonly cronExpr: string;
  /** Its time zone; undefined: the server's. */
  readonly timezone: string | undefined;
  /** The next runs, from now. */
  nextRuns(n?: number): Date[];
}

export type NoNightlyReport = 'no-report' | 'service-no-report' | 'demo';

export const NO_BACKGROUND_JOBS =
  'Bulk audits run in the background, and this page cannot keep anything running after it answers: they need the mailhealth background service. ' +
  'Ask your server administrator to start it (as root: systemctl enable --now mailhealth). Meanwhile, audit domains one at a time from their pages.';

export interface AppContext extends WebDeps {
  /** See WebDeps.elapsedMs: here always set (a clock that never steps, or the injected clock of a test). */
  elapsedMs: () => number;
  /** AppDeps.settledBefore (none known: undefined). */
  settledBefore: (req: object) => readonly SettledIntent[] | undefined;
  identityFrom: IdentitySource;
  adminToken: string | null;
  limits: { audit: RateLimiter; bulk: RateLimiter; bulkPreview: RateLimiter; login: RateLimiter; loginUser: RateLimiter };
  runner: BulkRunner;
  secret: Buffer;
  onSettingsSaved: () => void;
  scheduleOverrides: ScheduleOverrides;
  /** Null: background jobs may start. Otherwise why they may not (AppDeps.backgroundJobs false): the refusal message. */
  noBackgroundJobs: string | null;
  /** AppDeps.noNightlyReport (null: unset). */
  noNightlyReport: NoNightlyReport | null;
  /** AppDeps.reportSchedule (null: unset). */
  reportSchedule: ReportSchedule | null;
  /** Ids of changes being verified again right now (reverify.ts): a second view does not check them twice. */
  reverifying: Set<number>;
  /**
   * Bulk fix plans this process previewed, per user: "domain|check|planHash" → when (ms). Applying only such plans
   * costs no bulk token (the preview paid for the work); anything else sent to apply does (routes/bulk.ts).
   */
  bulkPreviewed: Map<string, Map<string, number>>;
}

export type MailhealthApp = express.Express & { runner: BulkRunner; context: AppContext };

/**
 * Bulk audits, "Audit all" in the background and a bulk apply of plans not previewed here: 3 at once, then 1 a minute
 * — each may read every domain of a reseller from the panel and DNS.
 */
export const DEFAULT_BULK: BucketConfig = { capacity: 3, perMinute: 1 };

/**
 * Bulk fix previews, per user, in a bucket of their own: twice the bulk one's burst and rate (6 at once, then 2 a
 * minute). A preview is read-only and bounded — at most BULK_FIX_MAX domains, two panel reads and one check's DNS each,
 * nothing written — where an audit runs every check over the whole scope; sharing the bulk bucket, "Audit all" then
 * previews of SPF, DKIM and DMARC (applying a preview's plans is free) met a 429 at the third check (QA). The walk
 * through all four checks, with two previews to spare, fits the burst. Sustained, two previews a minute of at most 200
 * domains (of the user's own: other names are not read) cost the panel and DNS about what the one bulk audit a minute
 * allowed already does, every check of every domain. Writes are not what this bounds: an apply writes only what its
 * preview planned, and a fixed domain plans nothing more.
 */
export function bulkPreviewBucket(bulk: BucketConfig): BucketConfig {
  return { capacity: bulk.capacity * 2, perMinute: bulk.perMinute * 2 };
}

const HERE = dirname(fileURLToPath(import.meta.url));
/** views/ at the project root, from src/web (tsx) or dist/src/web (compiled). */
export const VIEWS_DIR = [join(HERE, '../../views'), join(HERE, '../../../views')].find((d) => existsSync(join(d, 'layout-top.ejs'))) ?? join(HERE, '../../views');

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'self'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Frame-Options', 'SAMEORIGIN');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
  next();
}

export function createApp(deps: AppDeps): MailhealthApp {
  /** A schema upgrade under this process was logged (once per app). */
  let upgradeLogged = false;
  if (deps.identityFrom === 'front-door' && !deps.frontDoor) throw new Error('createApp: identityFrom "front-door" needs a frontDoor function');
  const now = deps.now ?? (() => new Date());
  const nowMs = () => now().getTime();
  // How long things took (rate limits, the account cache's age): a clock that never steps, unless a test injected its
  // clock (which then may step back: every use below counts that as no time passing, or as a stale cache).
  const elapsedMs = deps.now ? nowMs : monotonicMs;
  const base: WebDeps = {
    // The admin's settings, read so that a failing store is said in words of its own (never its file's path) in the
    // finding or refusal core makes of it.
    panel: withSettings(deps.panel, settingsFrom(deps.store)),
    store: deps.store,
    identityFrom: deps.identityFrom,
    makeResolver: deps.makeResolver,
    now,
    elapsedMs,
    auditConcurrency: deps.auditConcurrency ?? 8,
    ...(deps.resolverOptions ? { resolverOptions: deps.resolverOptions } : {}),
    ...(deps.auditThreads !== undefined ? { auditThreads: deps.auditThreads } : {}),
  };
  const loginLimit = deps.rateLimits?.login ?? { capacity: 10, perMinute: 5 };
  const bulkLimit = deps.rateLimits?.bulk ?? DEFAULT_BULK;
  const c: AppContext = {
    ...base,
    elapsedMs,
    settledBefore: deps.settledBefore ?? (() => undefined),
    identityFrom: deps.identityFrom,
    adminToken: deps.adminToken ?? null,
    limits: {
      audit: new RateLimiter(deps.rateLimits?.audit ?? { capacity: 20, perMinute: 10 }, elapsedMs),
      bulk: new RateLimiter(bulkLimit, elapsedMs),
      bulkPreview: new RateLimiter(deps.rateLimits?.bulkPreview ?? bulkPreviewBucket(bulkLimit), elapsedMs),
      login: new RateLimiter(loginLimit, elapsedMs),
      loginUser: new RateLimiter(deps.rateLimits?.loginUser ?? { capacity: loginLimit.capacity * 5, perMinute: loginLimit.perMinute * 4 }, elapsedMs),
    },
    runner: new BulkRunner(base),
    secret: sessionSecret(deps.store),
    onSettingsSaved: deps.onSettingsSaved ?? (() => {}),
    scheduleOverrides: deps.scheduleOverrides ?? {},
    noBackgroundJobs: deps.backgroundJobs === false ? (deps.noBackgroundJobsMessage ?? NO_BACKGROUND_JOBS) : null,
    noNightlyReport: deps.noNightlyReport ?? null,
    reportSchedule: deps.reportSchedule ?? null,
    reverifying: new Set(),
    bulkPreviewed: new Map(),
  };

  // Accounts change rarely; reading them on every request would hit the panel's API each time.
  let accounts: { at: number; list: Promise<{ user: string; role: Identity['role']; owner?: string }[]> } | null = null;
  // `fresh`: read now, not from the cache — an account missing from a cached list may have been created since (a new
  // account's first request after its login must not find it "gone"): nothing is concluded from a cached miss.
  // An age below zero (an injected clock stepped back since the read) is a stale list too: kept, it would let an
  // account removed meanwhile in for as long as the step, not 10 s.
  const accountList = async (fresh = false) => {
    const age = accounts ? elapsedMs() - accounts.at : 0;
    if (fresh || !accounts || age < 0 || age > 10_000) accounts = { at: elapsedMs(), list: c.panel.listAccounts() };
    return accounts.list.catch((e) => {
      accounts = null;
      throw e;
    });
  };
  /** Whether the panel has the account of that name and role (acct given: and that role and owner, see accountKey). */
  const knownAccount = async (id: Identity, acct?: string, fresh = false): Promise<boolean> =>
    (await accountList(fresh)).some((a) => a.user === id.user && a.role === id.role && (acct === undefined || accountKey(a) === acct));

  const app = express() as MailhealthApp;
  app.disable('x-powered-by');
  app.set('views', VIEWS_DIR);
  app.set('view engine', 'ejs');
  // Every `<%= %>` shows invisible formatting characters (bidi overrides, zero-width characters) as \uXXXX escapes:
  // record text, evidence, notes and names cannot reorder or hide text on a page (view-model.ts escapeShown). Form
  // values that go back to the server unchanged use `<%- formValue(v) %>` (HTML escaping only).
  app.engine('ejs', (path, data, cb) => {
    const cache = Boolean((data as { cache?: unknown }).cache);
    ejs.renderFile(path, data as ejs.Data, { escape: escapeShown, views: [VIEWS_DIR], cache }, (err, html) => cb(err, html));
  });
  app.locals.formValue = escapeHtml;
  // One wording for a plan with nothing to change, as the CLI and a refused apply say it (core/plans/plan.ts).
  app.locals.nothingToChange = nothingToChange;
  app.set('query parser', 'simple');
  app.use(securityHeaders);
  // JSON answers write invisible formatting characters inside strings as \uXXXX escapes (same value for any
  // parser): record text in an export or an API answer cannot reorder or hide text where it is shown.
  app.use((_req, res, next) => {
    res.json = function json(this: express.Response, body: unknown) {
      if (!this.get('Content-Type')) this.type('json');
      return this.send(jsonText(body));
    };
    next();
  });
  app.use('/assets', express.static(join(VIEWS_DIR, 'assets'), { index: false, fallthrough: false, maxAge: '1h' }));
  app.use(express.urlencoded({ extended: false, limit: '200kb', parameterLimit: 5000 }));
  app.use(express.json({ limit: '200kb' }));

  // Session (always present: it carries the CSRF token) and identity.
  app.use(async (req, res, next) => {
    const l = res.locals as unknown as Locals;
    const nowSec = Math.floor(nowMs() / 1000);
    let session = decodeSession(c.secret, parseCookies(req.headers.cookie)[SESSION_COOKIE], nowSec);
    // Over: issued before its user's last logout, password reset or account seen gone (by generation, then by time), or
    // for an account the password no longer belongs to.
    if (session && !sessionStillValid(c.store, session)) session = null;
    if (!session) {
      session = newSession(nowSec);
      writeSession(req, res, c.secret, session);
    }
    l.session = session;
    l.csrf = session.csrf;
    l.api = isApiPath(req.path);
    l.identity = null;
    l.authVia = null;
    res.setHeader('Cache-Control', 'no-store');

    if (c.identityFrom === 'session' && presentsBearer(req)) {
      // A request that presents mailhealth's credential (a Bearer token) gets it checked, never silently ignored. Other
      // Authorization schemes (Basic from a proxy's auth_basic in front of the app) are not ours: the session decides.
      const token = bearerToken(req);
      if (l.api && token && tokenMatches(token, c.adminToken)) {
        const admin = (await c.panel.listAccounts()).find((a) => a.role === 'admin');
        l.identity = { user: admin?.user ?? 'admin', role: 'admin' };
        l.authVia = 'token';
        return next();
      }
      res.status(401).json({ error: 'invalid credentials' });
      return;
    }
    let claimed: Identity | null = null;
    if (c.identityFrom === 'front-door') claimed = (await deps.frontDoor!(req)) ?? null;
    else if (session.user && session.role) claimed = { user: session.user, role: session.role };
    const acct = c.identityFrom === 'session' ? session.acct : undefined;
    // A miss in the cached list is read again before anything is concluded from it (see accountList).
    if (claimed && ((await knownAccount(claimed, acct)) || (await knownAccount(claimed, acct, true)))) {
      l.identity = claimed;
      l.authVia = c.identityFrom === 'front-door' ? 'front-door' : 'session';
      if (c.identityFrom === 'front-door' && (session.user !== claimed.user || session.role !== claimed.role)) {
        // The session (and its CSRF token) belongs to the identity the panel gave: a cookie made for another user of
        // the same front door — one session secret and cookie path for all of them — is replaced, so its token is
        // worth nothing here.
        const fresh: GenerationalSession = { ...newSession(Math.floor(nowMs() / 1000), claimed, nowMs()), gen: sessionGeneration(c.store, claimed.user) };
        writeSession(req, res, c.secret, fresh);
        l.session = fresh;
        l.csrf = fresh.csrf;
      }
    } else if (claimed && c.identityFrom === 'session') {
      // The account this session (and its password) was for is gone: both end here, so a new account that gets the
      // same name later starts with neither. A panel listing nobody proves nothing (listProvesAbsence): this browser is
      // logged out, but nothing is revoked or forgotten — the password, and the user's other sessions, work again once
      // the panel lists the account.
      const list = await accountList();
      if (listProvesAbsence(list)) {
        const was = passwordState(c.store, claimed.user);
        // Its sessions end whatever the clock did (by generation); its login is forgotten too when its account is gone
        // (forgetPassword ends the sessions first).
        if (passwordAccountGone(list, claimed.user, was.bound)) forgetPassword(c.store, claimed.user, nowMs());
        else endSessions(c.store, claimed.user, nowMs());
      }
      const fresh = newSession(Math.floor(nowMs() / 1000));
      writeSession(req, res, c.secret, fresh);
      l.session = fresh;
      l.csrf = fresh.csrf;
    }
    next();
  });

  // CSRF: every state-changing request carries the session's token (form field _csrf or header x-csrf-token).
  // Bearer-token API calls carry no cookie a browser could replay, so they need none. The refusal is the path's
  // (http.ts csrfRefusal: a fix's Apply is told to open the preview again, and linked to it).
  app.use((req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
    const l = ctx(res);
    if (l.authVia === 'token') return next();
    const body = req.body as Record<string, unknown> | undefined;
    const sent = (body && typeof body._csrf === 'string' ? body._csrf : undefined) ?? req.get('x-csrf-token');
    if (typeof sent !== 'string' || sent.length !== l.csrf.length || !timingEqual(sent, l.csrf)) {
      throw csrfRefusal(req.path);
    }
    next();
  });

  app.use((req, res, next) => {
    // From here on a request may change something (app.ts's error handler: what a failing store left).
    res.locals.routed = true;
    res.locals.me = ctx(res).identity;
    res.locals.path = req.path;
    res.locals.title = 'Mail health';
    res.locals.loginEnabled = c.identityFrom === 'session';
    next();
  });

  app.use(authRoutes(c));
  app.use(domainRoutes(c));
  app.use(explainRoutes(c));
  app.use(fixRoutes(c));
  app.use(historyRoutes(c));
  app.use(bulkRoutes(c));
  app.use(settingsRoutes(c));
  app.use('/api', apiRoutes(c));

  app.use(() => {
    throw new HttpError(404, NOT_FOUND_MESSAGE);
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let status = 500;
    let message = 'Something went wrong on our side. The error was logged; try again, or ask your hosting provider.';
    const e = err as { status?: number; type?: string; message?: string };
    if (err instanceof HttpError) {
      status = err.status;
      message = err.message;
    } else if (err instanceof PlanError) {
      status = 409;
      message = err.message;
    } else if (err instanceof PanelError) {
      status = err.code === 'not-found' ? 404 : 502;
      message = err.code === 'not-found' ? NOT_FOUND_MESSAGE : `The panel reported a problem (${err.code}): ${err.message}`;
    } else if (err instanceof StoreFailure) {
      // A route's own words for the store failing where it did (services.ts storeFailure: the raw error is logged).
      status = err.status;
      message = err.message;
    } else if (isStoreFailure(err)) {
      // The history database failing where no route said what it left: a read, or a request stopped before its route
      // (the session's reads), answers "nothing was changed", anything else only that it was not completed. Never the
      // store's own words (its file's path, SQLite's messages).
      status = err.code === 'locked' ? 503 : 500;
      message = storeFailureMessage(err, fallbackStage(req, res));
    } else if (err instanceof StoreError && err.code === 'locked') {
      // Another holder's named lock (a report run, a fix's domain lock) that reached no answer of its own.
      status = 503;
      message = 'Another mailhealth task is using this right now; try again in a moment.';
    } else if (err instanceof StoreError && err.code === 'too-new') {
      // A newer mailhealth migrated the history while this process ran (store.ts SchemaChangedError): every request
      // answers this until the service is restarted; the log says it once, not a stack per request.
      status = 503;
      message = 'mailhealth was upgraded: this service still runs the previous version. Restart the service (systemctl restart mailhealth); nothing was changed.';
      if (!upgradeLogged) {
        upgradeLogged = true;
        process.stderr.write(`mailhealth web: ${err.message}\n`);
      }
    } else if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      status = e.status;
      message =
        e.type === 'entity.parse.failed'
          ? 'The request body is not valid.'
          : e.type === 'entity.too.large'
            ? 'The request is too large (over 200 KB): for a bounce, paste only the part with the server\'s reply.'
            : 'The request could not be handled.';
    }
    // A deliberate HttpError (503: no background jobs here) is an answer, not a fault: not logged; nor is a
    // StoreFailure, whose raw error was logged where it was met.
    const logged = status >= 500 && !(err instanceof HttpError) && !(err instanceof StoreFailure) && !(err instanceof StoreError && err.code === 'too-new');
    if (logged) logWeb(`${req.method} ${req.path}`, err);
    // Last: no answer names the history database's file (a panel's or a plan's error that quoted the store's). A
    // store failure behind it (its cause) is answered as one, with the status that goes with it; otherwise nothing is
    // known of the store — the text may be a record's or a panel's that named the file — and only the words naming it
    // are withheld, the status kept. A route's own HttpError is left as it is: it may quote what the user typed.
    if (!(err instanceof HttpError) && isStoreText(c.store, message)) {
      const what = `${req.method} ${req.path}: an answer naming the history database's file`;
      const failure = storeFailureIn(err);
      if (failure !== null) {
        if (!logged) logWeb(what, failure);
        status = isBusy(failure) ? 503 : 500;
        message = storeFailureMessage(failure, fallbackStage(req, res));
      } else {
        message = logged ? withheldText(c.store, message, WITHHELD_ANSWER) : shownText(c.store, what, message, WITHHELD_ANSWER);
      }
    }
    if (res.headersSent) return;
    // Never cached, whatever the error: the session middleware's no-store is not reached by a request refused before it
    // (a body too large or not valid, a missing asset), and an error page may quote what the request sent. A static
    // asset's own Cache-Control is replaced: its error answer is no asset.
    res.setHeader('Cache-Control', 'no-store');
    // A rate limit's refusal says when to come back (http.ts takeToken), to scripts as well as to people.
    if (err instanceof HttpError && err.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(err.retryAfterSeconds));
    const l = res.locals as Partial<Locals>;
    if (l.api || isApiPath(req.path) || (req.get('accept') ?? '').startsWith('application/json')) {
      res.status(status).json({ error: message });
      return;
    }
    // `back`: the links a route gave its HttpError (e.g. a refused Verify again), shown before "Back to your domains"
    // (one marked `forward` as the main button under the message, its `messageId` on the message);
    // `resend`: a form that sends the refused request again (a rate-limited bulk preview, its ticked domains kept).
    const back = err instanceof HttpError ? err.back : err instanceof StoreFailure ? err.back.filter((b) => isSameSitePath(b.href)) : [];
    const resend = err instanceof HttpError ? (err.resend ?? null) : null;
    const messageId = err instanceof HttpError ? (err.messageId ?? null) : null;
    res.status(status).render('error', { status, message, messageId, back, resend, me: l.identity ?? null, csrf: l.csrf ?? '', path: req.path, title: status === 404 ? 'Not found' : 'Error', loginEnabled: c.identityFrom === 'session' });
  });

  app.runner = c.runner;
  app.context = c;
  return app;
}

/** An error answer whose words named the history database's file other than in parentheses (shownText). */
const WITHHELD_ANSWER = "This answer is not shown here (the server's log has it). Try again later; if it keeps happening, ask your hosting provider.";

/** The store failure (services.ts isStoreFailure) an error is, or was caused by (its `cause` chain), if any. */
function storeFailureIn(err: unknown): StoreError | null {
  const seen = new Set<unknown>();
  for (let e = err; e !== null && typeof e === 'object' && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    if (isStoreFailure(e)) return e;
    seen.add(e);
  }
  return null;
}

/** What a store failure no route named left: a read changes nothing, nor does a request stopped before its route. */
function fallbackStage(req: Request, res: Response): StoreStage {
  if (req.method === 'GET' || req.method === 'HEAD') return 'page';
  return res.locals.routed === true ? 'request' : 'unstarted';
}

function timingEqual(a: string, b: string): boolean {
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
