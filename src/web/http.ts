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
}

/**
 * A path on this site: "/" then no second "/" or "\\" (browsers read "/\\host" as "//host", another site), and no
 * whitespace or control character anywhere (browsers drop tabs and newlines from a URL: "/<TAB>/host" is "//host").
 */
export function isSameSitePath(href: string): boolean {
  return /^\/(?![/\\])[^\s\\\u0000-\u001f\u007f]*$/.test(href);
}

export class HttpError extends Error {
  /**
   * `back`: links the error page shows first, where the route knows where the user came from (a refused Verify again:
   * the domain's history at that change). Same-site paths only (isSameSitePath): any other is dropped here.
   */
  public readonly back: readonly ErrorLink[];
  constructor(
    public readonly status: number,
    message: string,
    back: readonly ErrorLink[] = [],
  ) {
    super(message);
    this.name = 'HttpError';
    this.back = back.filter((l) => isSameSitePath(l.href));
  }
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

const LIMITED: Record<'audit' | 'bulk', Record<'page' | 'api', string>> = {
  audit: { page: 'Too many audits in a short time. Wait a minute and try again.', api: 'too many audits; wait a minute' },
  bulk: { page: 'Too many bulk actions in a short time. Wait a minute and try again.', api: 'too many bulk actions; wait a minute' },
};

/**
 * One token of a user's rate limit (audits and fix previews: `audit`; bulk audits, "Audit all" in the background and
 * bulk previews: `bulk`), or a 429 in the wording of the page or the API.
 */
export function takeToken(c: { limits: Record<'audit' | 'bulk', RateLimiter> }, kind: 'audit' | 'bulk', user: string, surface: 'page' | 'api' = 'page'): void {
  if (!c.limits[kind].take(user)) throw new HttpError(429, LIMITED[kind][surface]);
}
