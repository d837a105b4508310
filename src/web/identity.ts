// Where the app learns who is asking. Two sources, chosen when the app is created — never both, never from a
// request header a browser could set:
//
//   'session'  standalone (`mailhealth serve`, the demo): a login form checks a password stored in the database and
//              keeps the identity in a signed session cookie; automation may use the admin token as
//              `Authorization: Bearer …` on /api.
//   'front-door' inside a panel (issue 7): the panel has authenticated the user; the front door (cPanel CGI page,
//              WHM AppConfig page, Plesk sbin helper) hands the identity to the app through a FrontDoor function
//              it supplies. This file only defines that hook; the front doors live with the packaging.
//
// Whatever the source, the identity is checked against the panel's accounts (user exists with that role) before any
// route sees it.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import type { Identity, Role } from '../core/model.js';

export type IdentitySource = 'session' | 'front-door';

/**
 * A front door's way of telling the app who the panel authenticated for this request. It must derive the identity
 * from something only the front door controls (the process it runs in, a root-only socket, a signature made with a
 * root-only secret), not from anything a browser sends on its own.
 */
export type FrontDoor = (req: Request) => Identity | null | Promise<Identity | null>;

const ROLES: Role[] = ['customer', 'reseller', 'admin'];

/**
 * A ready-made front door for shims that proxy to the service: the shim signs `{user, role, exp}` with a secret only
 * root and the shims can read, in the header `x-mailhealth-identity: <base64url json>.<hmac-sha256>`. A browser can
 * set the header but cannot sign it. Expired or badly signed values give no identity.
 */
export function signedHeaderFrontDoor(secret: string | Buffer, now: () => number = Date.now): FrontDoor {
  const key = typeof secret === 'string' ? Buffer.from(secret) : secret;
  return (req) => {
    const raw = req.headers['x-mailhealth-identity'];
    if (typeof raw !== 'string') return null;
    const dot = raw.indexOf('.');
    if (dot < 1) return null;
    const payload = raw.slice(0, dot);
    const mac = Buffer.from(raw.slice(dot + 1));
    const want = Buffer.from(createHmac('sha256', key).update(payload).digest('base64url'));
    if (mac.length !== want.length || !timingSafeEqual(mac, want)) return null;
    try {
      const d = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { user?: unknown; role?: unknown; exp?: unknown; allowed?: unknown };
      if (typeof d.user !== 'string' || !ROLES.includes(d.role as Role) || typeof d.exp !== 'number' || d.exp * 1000 < now()) return null;
      // A narrowed scope (signed with the rest): a list of names, else no identity at all — never the wider scope.
      if (d.allowed !== undefined && !(Array.isArray(d.allowed) && d.allowed.every((x) => typeof x === 'string'))) return null;
      return { user: d.user, role: d.role as Role, ...(d.allowed !== undefined ? { allowed: d.allowed as string[] } : {}) };
    } catch {
      return null;
    }
  };
}

/** What a shim does to produce the header signedHeaderFrontDoor accepts (exported for the front doors and tests). */
export function signIdentity(secret: string | Buffer, identity: Identity, ttlSeconds = 300, now: () => number = Date.now): string {
  const key = typeof secret === 'string' ? Buffer.from(secret) : secret;
  const payload = Buffer.from(
    JSON.stringify({ user: identity.user, role: identity.role, exp: Math.floor(now() / 1000) + ttlSeconds, ...(identity.allowed ? { allowed: identity.allowed } : {}) }),
  ).toString('base64url');
  return `${payload}.${createHmac('sha256', key).update(payload).digest('base64url')}`;
}

/** Constant-time comparison of a presented admin token with the configured one. */
export function tokenMatches(presented: string, configured: string | null | undefined): boolean {
  if (!configured) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(configured).digest();
  return timingSafeEqual(a, b);
}

/**
 * Whether the request presents mailhealth's own credential: an `Authorization` header of the Bearer scheme, well formed
 * or not (a malformed one is still checked, and refused). Any other scheme — `Basic` from an `auth_basic` proxy in
 * front of the app, which forwards the header — is not mailhealth's and is ignored: the session decides.
 */
export function presentsBearer(req: Request): boolean {
  const h = req.headers.authorization;
  return typeof h === 'string' && /^\s*Bearer(?:\s|$)/i.test(h);
}

/** The bearer token of a request, if it carries one. */
export function bearerToken(req: Request): string | null {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : null;
}
