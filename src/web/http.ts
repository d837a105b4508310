// Small HTTP helpers shared by the route files: errors with a status, the per-request context, scope middleware.
import type { NextFunction, Request, Response } from 'express';
import { checkDomain } from '../core/domain.js';
import type { DomainRef, Identity, Role } from '../core/model.js';
import type { ChangeRecord, Job } from '../adapters/store/store.js';
import type { SessionData } from './session.js';
import type { WebDeps } from './services.js';
import type { RateLimiter } from './ratelimit.js';
import { jobVisibleTo } from './jobs.js';

/** A link an error page offers besides "Back to your domains" (views/error.ejs renders an HttpError's `back`). */
export interface ErrorLink {
  href: string;
  text: string;
  /**
   * The page's way forward rather than back (a fix's Apply refused by the CSRF check: its preview again): shown as the
   * main button under the message, with this id, the domain whose page it opens named beside it — not in the list.
   */
  forward?: { id: string; domain: string };
}

/**
 * A path on this site: "/" then no second "/" or "\\" (browsers read "/\\host" as "//host", another site), and no
 * whitespace or control character anywhere (browsers drop tabs and newlines from a URL: "/<TAB>/host" is "//host").
 */
export function isSameSitePath(href: string): boolean {
  return /^\/(?![/\\])[^\s\\\u0000-\u001f\u007f]*$/.test(href);
}

/**
 * A page load another site started (Fetch Metadata, sent by current browsers: `Sec-Fetch-Site` cross-site, or
 * same-site — a customer's website may be a sibling subdomain of the panel's host name). The session cookie goes along
 * with a top-level link (SameSite=Lax), so such a page could make the user's browser spend their audit tokens — the
 * limit is per user — and send DNS queries. A browser that sends no such header is not known to be one (as before).
 */
export function openedFromAnotherSite(req: Request): boolean {
  const site = req.get('sec-fetch-site');
  return site === 'cross-site' || site === 'same-site';
}

/**
 * Refuses a GET that would spend an audit token when another site opened it (openedFromAnotherSite): nothing checked,
 * no token taken; the page offers the same address as a link, which, followed from this page, is this site's own.
 */
export function refuseIfOpenedFromAnotherSite(req: Request, what: string, linkText: string): void {
  if (!openedFromAnotherSite(req)) return;
  const here = req.originalUrl;
  throw new HttpError(
    409,
    `${what} was opened from a link on another site, so nothing was checked: it reads the panel and the DNS, and counts toward your limit of checks. Follow the link below to open it here.`,
    isSameSitePath(here) ? [{ href: here, text: linkText }] : [],
  );
}

/**
 * A form an error page offers to send the refused request again, as it was (a bulk fix preview refused by its rate
 * limit: the same check and the same ticked domains, which a link back to /bulk would lose).
 */
export interface ResendForm {
  /** Where the form posts (with the session's CSRF token): a same-site path (isSameSitePath), else no form is shown. */
  action: string;
  /** The button's text. */
  label: string;
  /** Hidden fields, in order (a name may repeat: the ticked domains). */
  fields: readonly (readonly [name: string, value: string])[];
}

export interface HttpErrorOptions {
  /** Seconds until the request may be sent again (a rate limit): sent as the answer's Retry-After header. */
  retryAfterSeconds?: number;
  resend?: ResendForm;
  /** The id of the page's message (a refusal a page or a test points at: the CSRF refusal of a fix's Apply). */
  messageId?: string;
}

export class HttpError extends Error {
  /**
   * `back`: links the error page shows first, where the route knows where the user came from (a refused Verify again:
   * the domain's history at that change). Same-site paths only (isSameSitePath): any other is dropped here.
   */
  public readonly back: readonly ErrorLink[];
  public readonly retryAfterSeconds: number | undefined;
  /** Kept only when its action is a same-site path, as `back`. */
  public readonly resend: ResendForm | undefined;
  public readonly messageId: string | undefined;
  constructor(
    public readonly status: number,
    message: string,
    back: readonly ErrorLink[] = [],
    opts: HttpErrorOptions = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.back = back.filter((l) => isSameSitePath(l.href));
    this.retryAfterSeconds = opts.retryAfterSeconds;
    this.resend = opts.resend && isSameSitePath(opts.resend.action) ? opts.resend : undefined;
    this.messageId = opts.messageId;
  }
}

/**
 * The CSRF check's refusal of a request to `path` (app.ts). A fix's Apply (POST /domains/<d>/fix: a preview left open
 * across a new login): reloading would send the same expired form again ("Reload the page" is wrong advice there), so
 * the way forward is a new preview, from the domain's page (the refused form's check is not known here). The path's
 * segment makes the link only when it is a plain (percent-encoded) domain name.
 */
export function csrfRefusal(path: string): HttpError {
  const fixApply = /^\/domains\/([A-Za-z0-9.%_-]{1,760})\/fix$/.exec(path);
  let domain: string | null = null;
  if (fixApply) {
    try {
      domain = decodeURIComponent(fixApply[1]);
    } catch {
      domain = null;
    }
  }
  if (!domain) return new HttpError(403, 'The form expired or did not come from this site (CSRF check failed). Reload the page and try again.');
  return new HttpError(
    403,
    'The form expired or did not come from this site (CSRF check failed), so nothing was applied. Reloading this page would send the expired form again: open the preview again and apply from there.',
    [{ href: `/domains/${encodeURIComponent(domain)}`, text: 'Open the preview again', forward: { id: 'preview-again', domain } }],
    { messageId: 'csrf-fix' },
  );
}

export const NOT_FOUND_MESSAGE = 'Not found: there is no such page or domain for your account.';

export interface Locals {
  identity: Identity | null;
  authVia: 'session' | 'token' | 'front-door' | null;
  session: SessionData;
  csrf: string;
  api: boolean;
  scope?: Promise<DomainRef[]>;
  domainRef?: DomainRef;
  change?: ChangeRecord;
  job?: Job;
}

export function ctx(res: Response): Locals {
  return res.locals as unknown as Locals;
}

export function identityOf(res: Response): Identity {
  const id = ctx(res).identity;
  if (!id) throw new HttpError(401, 'Please log in.');
  return id;
}

/** The identity's domains, read from the panel once per request. */
export function scopeOf(deps: WebDeps, res: Response): Promise<DomainRef[]> {
  const c = ctx(res);
  c.scope ??= deps.panel.listDomains(identityOf(res));
  return c.scope;
}

export function requireLogin(req: Request, res: Response, next: NextFunction): void {
  if (ctx(res).identity) return next();
  if (ctx(res).api) {
    res.status(401).json({ error: 'authentication required' });
    return;
  }
  const target = req.method === 'GET' ? req.originalUrl : '/domains';
  res.redirect(303, `/login?next=${encodeURIComponent(target)}`);
}

export function requireRole(...roles: Role[]) {
  return (_req: Request, res: Response, next: NextFunction) => {
    if (roles.includes(identityOf(res).role)) return next();
    throw new HttpError(403, 'This page is not available to your account.');
  };
}

/**
 * The one scope check: the :domain parameter must be a valid name the panel lists for this identity. Anything else —
 * invalid, nonexistent, somebody else's — is the same 404.
 */
export function requireDomain(deps: WebDeps) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const raw = String(req.params.domain ?? '');
    const c = checkDomain(raw);
    if (!c.ok) throw new HttpError(404, NOT_FOUND_MESSAGE);
    const ref = (await scopeOf(deps, res)).find((d) => d.domain === c.domain);
    if (!ref) throw new HttpError(404, NOT_FOUND_MESSAGE);
    ctx(res).domainRef = ref;
    next();
  };
}

/** Scope for a change id: the change's domain must be in scope (else 404, like a change that does not exist). */
export function requireChange(deps: WebDeps) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const id = Number(req.params.id);
    const ch = Number.isInteger(id) && id > 0 ? deps.store.getChange(id) : null;
    const ref = ch ? (await scopeOf(deps, res)).find((d) => d.domain === ch.domain) : undefined;
    if (!ch || !ref) throw new HttpError(404, NOT_FOUND_MESSAGE);
    ctx(res).change = ch;
    ctx(res).domainRef = ref;
    next();
  };
}

/** Scope for a job id: the job must be the identity's own account's (jobs.ts jobVisibleTo; admins see every job). */
export function requireJob(deps: WebDeps) {
  return (req: Request, res: Response, next: NextFunction) => {
    const id = Number(req.params.id);
    const job = Number.isInteger(id) && id > 0 ? deps.store.getJob(id) : null;
    const me = identityOf(res);
    if (!job || !jobVisibleTo(deps.store, job, me)) throw new HttpError(404, NOT_FOUND_MESSAGE);
    ctx(res).job = job;
    next();
  };
}

/** Strings from a form or query field that may repeat. */
export function list(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' && v !== '' ? [v] : [];
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Several domains at once (bulk forms): the ones in scope, and the rest — invalid, nonexistent or not yours alike. */
export async function scopedDomains(deps: WebDeps, res: Response, names: string[]): Promise<{ refs: DomainRef[]; notFound: string[] }> {
  const byName = new Map((await scopeOf(deps, res)).map((d) => [d.domain, d]));
  const refs: DomainRef[] = [];
  const notFound: string[] = [];
  for (const raw of names) {
    const c = checkDomain(raw);
    const ref = c.ok ? byName.get(c.domain) : undefined;
    if (ref) {
      if (!refs.includes(ref)) refs.push(ref);
    } else notFound.push(raw.slice(0, 253));
  }
  return { refs, notFound };
}

/**
 * The per-user rate limits a request takes a token of: `audit` (audits and fix previews), `bulk` (bulk audits, "Audit
 * all" in the background, a bulk apply of plans not previewed here) and `bulkPreview` (bulk fix previews: read-only,
 * a bucket of their own so that a walk through the checks is not stopped by the audit that came before it).
 */
export type LimitKind = 'audit' | 'bulk' | 'bulkPreview';

const LIMITED: Record<LimitKind, Record<'page' | 'api', string>> = {
  audit: { page: 'Too many audits in a short time.', api: 'too many audits' },
  bulk: { page: 'Too many bulk actions in a short time.', api: 'too many bulk actions' },
  bulkPreview: { page: 'Too many bulk fix previews in a short time.', api: 'too many bulk fix previews' },
};

/** A wait as a refusal says it: "1 second", "42 seconds", past a minute and a half "3 minutes" (rounded up). */
export function waitText(seconds: number): string {
  if (seconds > 90) return `${Math.ceil(seconds / 60)} minutes`;
  return seconds === 1 ? '1 second' : `${seconds} seconds`;
}

/** What the page of a refusal offers: links back to where the user was, and a form that sends the request again. */
export interface Refused {
  back?: readonly ErrorLink[];
  resend?: ResendForm;
}

/**
 * One token of each of these rate limits, or none: where one would refuse, nothing is taken and the refusal is the one
 * with the longest wait (takeToken's) — an action that costs two never spends the first only to be refused by the
 * second, nor names the shorter wait (review: a customer's "Audit all" over many domains).
 */
export function takeTokens(c: { limits: Record<LimitKind, RateLimiter> }, kinds: readonly LimitKind[], user: string, surface: 'page' | 'api' = 'page', refused: Refused = {}): void {
  let worst: LimitKind | null = null;
  let wait = 0;
  for (const k of kinds) {
    const ms = c.limits[k].retryAfterMs(user);
    if (ms > wait) [worst, wait] = [k, ms];
  }
  if (worst !== null) takeToken(c, worst, user, surface, refused);
  for (const k of kinds) takeToken(c, k, user, surface, refused);
}

/**
 * One token of a user's rate limit (see LimitKind), or a 429 in the wording of the page or the API that says when the
 * next one is allowed (from the limiter's bucket; also the Retry-After header) and, on a page, offers `refused`.
 */
export function takeToken(
  c: { limits: Record<LimitKind, RateLimiter> },
  kind: LimitKind,
  user: string,
  surface: 'page' | 'api' = 'page',
  refused: Refused = {},
): void {
  const limiter = c.limits[kind];
  if (limiter.take(user)) return;
  const ms = limiter.retryAfterMs(user);
  // (Infinity: a bucket that never refills — configured so in tests only.)
  const seconds = Number.isFinite(ms) ? Math.max(1, Math.ceil(ms / 1000)) : undefined;
  const words = LIMITED[kind];
  const message =
    surface === 'api'
      ? `${words.api}; ${seconds !== undefined ? `try again in ${seconds} s` : 'try again later'}`
      : `${words.page} ${seconds !== undefined ? `The next one is allowed in ${waitText(seconds)}.` : 'Try again later.'}`;
  throw new HttpError(429, message, surface === 'page' ? (refused.back ?? []) : [], {
    ...(seconds !== undefined ? { retryAfterSeconds: seconds } : {}),
    ...(surface === 'page' && refused.resend ? { resend: refused.resend } : {}),
  });
}
