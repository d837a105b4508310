// Sessions as a signed cookie (HMAC-SHA256 over the payload; the secret lives in the store's settings). The session
// always exists — anonymous visitors get one too — because it carries the CSRF token the login form needs.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Request, Response } from 'express';
import type { Role } from '../core/model.js';

export const SESSION_COOKIE = 'mh_session';
const SESSION_SECONDS = 12 * 3600;
export const SECRET_SETTING = 'web.sessionSecret';

export interface SessionData {
  /** CSRF token (per session). */
  csrf: string;
  user?: string;
  role?: Role;
  /** Expiry, epoch seconds. */
  exp: number;
  /** Issued at, epoch milliseconds (logout revokes a user's sessions issued before it). */
  iat?: number;
  /** The account the login was for (accountKey: role and owner): a session ends when the account is not that one. */
  acct?: string;
  /** The generation of its user's sessions it was issued in (SESSION_GENERATION_SETTING); absent: 0. */
  gen?: number;
}

/** A session as issued with its generation (the same type: every session may carry `gen`). */
export type GenerationalSession = SessionData;

/**
 * Per-user setting: the account (accountKey) a standalone password was set for. A password and its sessions belong to
 * that account: once the panel has no such account, or a different one under the same name (removed and created again,
 * moved to another reseller), they no longer log anyone in.
 */
export const PASSWORD_ACCOUNT_SETTING = (user: string) => `web.passwordAccount.${user}`;

/**
 * What identifies a panel account beyond its name, for passwords and sessions: its role and owner. Stored in every
 * binding: should it ever cover more, bindings of the old form must still match (or be migrated) — else the login
 * checks, and `serve`'s sweep (sweepGoneAccounts), would take every stored password for a gone account's and drop it.
 */
export function accountKey(a: { role: string; owner?: string | null }): string {
  return JSON.stringify([a.role, a.owner ?? null]);
}

/** Per-user setting: sessions of that user issued before this time (epoch ms) are void — set at logout. */
export const REVOKED_BEFORE_SETTING = (user: string) => `web.sessionsRevokedBefore.${user}`;

// ---------------------------------------------------------------------------------------------------------------
// Ending a user's sessions whatever the clock did

/**
 * Per-user setting: the generation of that user's sessions — how many times all of them were ended (logout, `user
 * set-password`, the account seen gone). Every session carries the generation it was issued in (`gen`); one of an
 * earlier generation is over (sessionStillValid). A count, not a time: the "revoked before" time alone
 * (REVOKED_BEFORE_SETTING) failed once the clock was corrected — a session issued while the clock was an hour fast
 * carried an issue time later than a logout made after the correction, and survived it (QA). Sessions and users from
 * before the counter: 0.
 */
export const SESSION_GENERATION_SETTING = (user: string) => `web.sessionGeneration.${user}`;

/** The store as the session generation uses it. */
export interface GenerationStore {
  getSetting<T = unknown>(key: string): T | undefined;
  setSettings(values: Record<string, unknown>): void;
}

/** The current generation of `user`'s sessions (0: never ended). */
export function sessionGeneration(store: Pick<GenerationStore, 'getSetting'>, user: string): number {
  const g = store.getSetting<unknown>(SESSION_GENERATION_SETTING(user));
  return typeof g === 'number' && Number.isSafeInteger(g) && g > 0 ? g : 0;
}

/**
 * Ends every session of `user` issued so far, whatever the clock did: the generation goes up by one, and the "revoked
 * before" time (read by sessionStillValid, and part of the device cookie's tag) is moved on — never back: at least 1 ms
 * past the one stored, so a logout by a clock slower than an earlier one's neither revives what that one ended nor
 * leaves a device cookie's tag unchanged. One write (setSettings: one transaction).
 */
export function endSessions(store: GenerationStore, user: string, nowMs: number): void {
  const revoked = store.getSetting<unknown>(REVOKED_BEFORE_SETTING(user));
  const before = typeof revoked === 'number' && Number.isFinite(revoked) ? revoked : Number.NEGATIVE_INFINITY;
  store.setSettings({
    [SESSION_GENERATION_SETTING(user)]: sessionGeneration(store, user) + 1,
    [REVOKED_BEFORE_SETTING(user)]: Math.max(nowMs + 1, before + 1),
  });
}

/** Whether a session belongs to its user's current generation (a session without a user always does). */
export function sessionOfCurrentGeneration(store: Pick<GenerationStore, 'getSetting'>, d: SessionData): boolean {
  if (!d.user) return true;
  return (typeof d.gen === 'number' ? d.gen : 0) === sessionGeneration(store, d.user);
}

// ---------------------------------------------------------------------------------------------------------------
// Passwords of accounts the panel no longer has (README "Web UI": a new account of that name starts with neither)

/** A panel account as listAccounts gives it. */
export interface ListedAccount {
  user: string;
  role: string;
  owner?: string | null;
}

const ROLES = new Set(['admin', 'reseller', 'customer']);

/**
 * Whether an account list may be taken as the panel's word that an account is gone: a list of at least one account,
 * each with a user name and a known role. Anything else is "unknown" (as a DNS timeout is never a `fail`): a panel
 * answer of another shape, and an empty list — every install that has logins has accounts, so a panel listing nobody
 * (a files panel's panel.json emptied while being rewritten, an API answering nothing) is far likelier a fault than
 * every account removed at once, and nobody can log in meanwhile anyway (a login needs a listed account).
 */
export function listProvesAbsence(accounts: unknown): accounts is ListedAccount[] {
  return (
    Array.isArray(accounts) &&
    accounts.length > 0 &&
    accounts.every((a) => !!a && typeof a === 'object' && typeof (a as ListedAccount).user === 'string' && (a as ListedAccount).user !== '' && ROLES.has((a as ListedAccount).role))
  );
}

/**
 * Whether `user`'s password (bound to the account `bound`, see PASSWORD_ACCOUNT_SETTING, or unbound) belongs to no
 * account in the list: bound, none of that name has its role and owner (removed, or moved to another reseller);
 * unbound, none has that name. Only meaningful for a list that listProvesAbsence.
 */
export function passwordAccountGone(accounts: readonly ListedAccount[], user: string, bound: string | undefined): boolean {
  const same = accounts.filter((a) => a.user === user);
  return same.length === 0 || (bound !== undefined && !same.some((a) => accountKey(a) === bound));
}

/** The store as the password bookkeeping uses it. */
export interface PasswordStateStore {
  getSetting<T = unknown>(key: string): T | undefined;
  setSettings(values: Record<string, unknown>): void;
  getPasswordHash(user: string): string | null;
  deletePasswordHash(user: string): void;
  /** Store.disownJobs: the jobs of an account seen gone become nobody's (web/jobs.ts). */
  disownJobs(user: string): number;
}

/** What of `user`'s login is stored: the password hash and the account it is bound to. */
export interface PasswordState {
  hash: string | null;
  bound: string | undefined;
}

export function passwordState(store: PasswordStateStore, user: string): PasswordState {
  const bound = store.getSetting<unknown>(PASSWORD_ACCOUNT_SETTING(user));
  return { hash: store.getPasswordHash(user), bound: typeof bound === 'string' ? bound : undefined };
}

export function samePasswordState(a: PasswordState, b: PasswordState): boolean {
  return a.hash === b.hash && a.bound === b.bound;
}

/**
 * Forgets `user`'s login because its account is gone: its sessions and device-cookie entries end (endSessions: by
 * generation, so also those issued while the clock was ahead of what it reads now), the password hash and its account
 * binding are deleted — a new account given the name starts with neither. In that order: should a later step fail, the
 * sessions are over already, and the binding still there makes the next sweep (sweepGoneAccounts) or attempt finish
 * the job.
 */
export function forgetPassword(store: PasswordStateStore, user: string, nowMs: number): void {
  // By generation, not only by time: a session issued while the clock was fast carries an issue time later than a
  // corrected clock's "now", and — the account created again with the same name, role and owner — came back to life.
  endSessions(store, user, nowMs);
  // Its jobs too (even for an account created again with the same role and owner, which nothing else tells apart).
  store.disownJobs(user);
  store.deletePasswordHash(user);
  store.setSettings({ [PASSWORD_ACCOUNT_SETTING(user)]: undefined });
}

export type SweepOutcome =
  /** forgotten: users whose account is gone (their login was forgotten); bound: unbound passwords now bound. */
  | { forgotten: string[]; bound: string[] }
  /** The panel's answer proved nothing (an error, an empty or malformed list): nothing was changed. */
  | { skipped: string };

/** The store as the sweep uses it: the password bookkeeping, and where to find every user with a password. */
export interface SweepStore extends PasswordStateStore {
  allSettings(): Record<string, unknown>;
  /** Every user with a stored password hash, bound or not (Store.passwordUsers). */
  passwordUsers(): string[];
}

/**
 * The users the sweep compares with the panel's list: every user with a password (bound or not — an unbound one, of
 * `mailhealth demo` or a version before the binding, is as good a login as any), and every user with a binding
 * (PASSWORD_ACCOUNT_SETTING) whose password is already gone (a forget cut short: the binding is deleted last).
 */
export function sweptUsers(store: SweepStore): string[] {
  const prefix = PASSWORD_ACCOUNT_SETTING('');
  const users = new Set(store.passwordUsers());
  for (const key of Object.keys(store.allSettings())) {
    if (key.startsWith(prefix) && key.length > prefix.length) users.add(key.slice(prefix.length));
  }
  return [...users].sort();
}

/**
 * Compares the stored logins with the panel's account list, so "a new account of a removed account's name starts with
 * neither its password nor its sessions" does not wait for someone to try them (`serve` runs this periodically). For
 * every user with a password or a binding (sweptUsers):
 * - one whose password belongs to no listed account (passwordAccountGone: bound, to an account the list no longer has;
 *   unbound, no account of that name is listed) is forgotten (forgetPassword);
 * - an unbound password of a listed account is bound to it, as its first login would: from then on a new account of
 *   that name, after this one is removed, is not taken for it.
 * With no password and no binding stored the panel is not asked at all (an install without web logins).
 * A read that fails, or a list that proves nothing (listProvesAbsence), changes nothing. A user whose password or
 * binding changed while the panel was read (`user set-password` for an account just created again), or who has a
 * password only since the read began, is left for the next sweep: the list may predate the new account.
 */
export async function sweepGoneAccounts(
  store: SweepStore,
  listAccounts: () => Promise<unknown>,
  nowMs: () => number,
): Promise<SweepOutcome> {
  const before = new Map<string, PasswordState>();
  for (const user of sweptUsers(store)) {
    const s = passwordState(store, user);
    // Gone between the two reads (a login that saw the account gone forgot it): nothing left to forget.
    if (s.hash !== null || s.bound !== undefined) before.set(user, s);
  }
  // No login stored: nothing to compare, no need to ask the panel.
  if (before.size === 0) return { forgotten: [], bound: [] };
  let accounts: unknown;
  try {
    accounts = await listAccounts();
  } catch (e) {
    return { skipped: `the panel's account list could not be read (${(e as Error)?.message ?? String(e)})` };
  }
  if (!listProvesAbsence(accounts)) {
    return { skipped: Array.isArray(accounts) && accounts.length === 0 ? 'the panel listed no accounts' : 'the panel\'s account list was not of the expected shape' };
  }
  const forgotten: string[] = [];
  const bound: string[] = [];
  for (const [user, was] of before) {
    const now = passwordState(store, user);
    if (!samePasswordState(was, now)) continue;
    if (passwordAccountGone(accounts, user, now.bound)) {
      forgetPassword(store, user, nowMs());
      forgotten.push(user);
      continue;
    }
    // The account a login with it would bind it to (routes/auth.ts: the first listed of that name).
    const account = accounts.find((a) => a.user === user);
    if (account && now.hash !== null && now.bound === undefined) {
      store.setSettings({ [PASSWORD_ACCOUNT_SETTING(user)]: accountKey(account) });
      bound.push(user);
    }
  }
  return { forgotten, bound };
}

/**
 * False when the user's sessions were ended after this session was issued — logout, `user set-password`, the account
 * seen gone (endSessions): by generation first, so whatever the clock did, then by the "revoked before" time (sessions
 * of versions before the generation) — a copied cookie dies with the logout; and when the session was for another
 * account than the one the user's password now belongs to (`acct` ≠ PASSWORD_ACCOUNT_SETTING: an account of that name
 * removed or moved, whose name a new account has since). Such a stale session simply ends here: it never reaches the
 * app's "account gone" path, whose revocation goes by user name and would also end the sessions of the new account of
 * that name.
 */
export function sessionStillValid(store: { getSetting<T = unknown>(key: string): T | undefined }, d: SessionData): boolean {
  if (!d.user) return true;
  if (!sessionOfCurrentGeneration(store, d)) return false;
  if (typeof d.acct === 'string') {
    const bound = store.getSetting<string>(PASSWORD_ACCOUNT_SETTING(d.user));
    if (typeof bound === 'string' && bound !== d.acct) return false;
  }
  const before = store.getSetting<number>(REVOKED_BEFORE_SETTING(d.user));
  return typeof before !== 'number' || (typeof d.iat === 'number' && d.iat >= before);
}

export interface SecretSource {
  getSetting<T = unknown>(key: string): T | undefined;
  setSetting(key: string, value: unknown): void;
}

/** The session signing secret: created once, kept in the store's settings. */
export function sessionSecret(store: SecretSource): Buffer {
  let s = store.getSetting<string>(SECRET_SETTING);
  if (typeof s !== 'string' || s.length < 32) {
    s = randomBytes(32).toString('base64');
    store.setSetting(SECRET_SETTING, s);
  }
  return Buffer.from(s, 'base64');
}

function sign(secret: Buffer, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

export function encodeSession(secret: Buffer, data: SessionData): string {
  const payload = Buffer.from(JSON.stringify(data)).toString('base64url');
  return `${payload}.${sign(secret, payload)}`;
}

/**
 * The JSON a signed cookie value `payload.mac` carries (payload: base64url JSON; mac: HMAC of `macPrefix + payload`),
 * or null when it is missing, not signed with `secret`, or not JSON. (base64url has no ".": the split is unambiguous.)
 */
function verifySigned(secret: Buffer, value: string | undefined, macPrefix: string): unknown {
  if (!value) return null;
  const dot = value.indexOf('.');
  if (dot < 1) return null;
  const payload = value.slice(0, dot);
  const mac = Buffer.from(value.slice(dot + 1));
  const want = Buffer.from(sign(secret, macPrefix + payload));
  if (mac.length !== want.length || !timingSafeEqual(mac, want)) return null;
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
  } catch {
    return null;
  }
}

/** Sets cookie `name` (path /, HttpOnly, SameSite=Lax, Secure over TLS), replacing one set earlier in this answer. */
function setCookie(req: Request, res: Response, name: string, value: string, maxAgeSec: number): void {
  const attrs = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${maxAgeSec}`];
  if (cameOverTls(req)) attrs.push('Secure');
  const prev = res.getHeader('Set-Cookie');
  const others = (Array.isArray(prev) ? prev : prev === undefined ? [] : [String(prev)]).filter((c) => !c.startsWith(`${name}=`));
  res.setHeader('Set-Cookie', [...others, attrs.join('; ')]);
}

export function decodeSession(secret: Buffer, value: string | undefined, nowSec: number): SessionData | null {
  const d = verifySigned(secret, value, '') as SessionData | null;
  if (!d || typeof d !== 'object' || typeof d.csrf !== 'string' || typeof d.exp !== 'number' || d.exp <= nowSec) return null;
  return d;
}

/**
 * "This browser has logged in as these users before": a signed cookie set at every successful login (the users of the
 * last few logins, a year). The login limit's per-user-name bucket — which a stranger can empty by guessing from many
 * addresses — does not stop a browser that carries it for that user (routes/auth.ts): the real user keeps logging in
 * during such an attack from a browser she used before. Worth nothing to anyone else: it is signed, and it only lifts
 * the per-user bucket (the per-address one, and the password, still apply).
 *
 * Each user in it is bound, as sessions are, to the login it was earned with (deviceTag): a new password, a logout or
 * other revocation, or the account removed and another one given the name, and the entry counts for nothing — a copy
 * of the cookie, or a browser the previous owner of the name used, no longer lifts the limit for whoever has the name
 * now. An entry is [user, tag]; a cookie of the earlier form (bare user names) counts for nothing.
 */
export const DEVICE_COOKIE = 'mh_device';
const DEVICE_SECONDS = 365 * 86_400;
/** Users one browser is remembered for (a browser shared by a family or an office); the least recent goes first. */
const DEVICE_USERS = 8;

/** What a device entry is checked against: the store's settings and password hashes. */
export interface DeviceStateSource {
  getSetting<T = unknown>(key: string): T | undefined;
  getPasswordHash(user: string): string | null;
}

/**
 * The tag of `user`'s current login: a keyed hash over the account the password belongs to, the "revoked before" time
 * and the password hash — what sessionStillValid and the login check go by. Any of them changing (`user set-password`,
 * logout, the account seen gone, the name's account replaced) changes the tag. Keyed with the session secret, so the
 * cookie, which the browser can read, tells nothing about the password hash; 96 bits keep the cookie small.
 */
export function deviceTag(secret: Buffer, store: DeviceStateSource, user: string): string {
  const state = JSON.stringify([user, store.getSetting(PASSWORD_ACCOUNT_SETTING(user)) ?? null, store.getSetting(REVOKED_BEFORE_SETTING(user)) ?? null, store.getPasswordHash(user)]);
  return createHmac('sha256', secret).update(`device-user:${state}`).digest('base64url').slice(0, 16);
}

/** The [user, tag] entries of this browser's device cookie, newest first (none when unsigned, expired or old-form). */
function deviceEntries(secret: Buffer, req: Request, nowSec: number): [string, string][] {
  const d = verifySigned(secret, parseCookies(req.headers.cookie)[DEVICE_COOKIE], 'device:') as { u?: unknown; exp?: unknown } | null;
  if (!d || typeof d !== 'object' || typeof d.exp !== 'number' || d.exp <= nowSec || !Array.isArray(d.u)) return [];
  return d.u.filter((e): e is [string, string] => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && typeof e[1] === 'string');
}

/** Whether this browser logged in as `user` since that user's password, account and revocations were last changed. */
export function isKnownDevice(secret: Buffer, store: DeviceStateSource, req: Request, user: string, nowSec: number): boolean {
  const entry = deviceEntries(secret, req, nowSec).find(([u]) => u === user);
  if (!entry) return false;
  const want = Buffer.from(deviceTag(secret, store, user));
  const got = Buffer.from(entry[1]);
  return got.length === want.length && timingSafeEqual(got, want);
}

/**
 * Adds `user` (with the tag of the login it has now) to this browser's device cookie: newest first, at most
 * DEVICE_USERS. Entries no longer valid are dropped first, so they do not push a user of a shared browser out.
 */
export function rememberDevice(req: Request, res: Response, secret: Buffer, store: DeviceStateSource, user: string, nowSec: number): void {
  const kept = deviceEntries(secret, req, nowSec).filter(([u, tag]) => u !== user && tag === deviceTag(secret, store, u));
  const entries = [[user, deviceTag(secret, store, user)], ...kept].slice(0, DEVICE_USERS);
  const payload = Buffer.from(JSON.stringify({ u: entries, exp: nowSec + DEVICE_SECONDS })).toString('base64url');
  setCookie(req, res, DEVICE_COOKIE, `${payload}.${sign(secret, `device:${payload}`)}`, DEVICE_SECONDS);
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 1) continue;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    try {
      if (!(k in out)) out[k] = decodeURIComponent(v);
    } catch {
      /* a malformed cookie is ignored */
    }
  }
  return out;
}

export function newSession(nowSec: number, who?: { user: string; role: Role; acct?: string }, nowMs = nowSec * 1000): SessionData {
  return {
    csrf: randomBytes(24).toString('base64url'),
    ...(who ? { user: who.user, role: who.role, iat: nowMs, ...(who.acct ? { acct: who.acct } : {}) } : {}),
    exp: nowSec + SESSION_SECONDS,
  };
}

/**
 * Whether the browser reached us over TLS. `serve` listens on loopback or a Unix socket only (server.ts
 * checkListenHost) with a TLS proxy in front, so the app sees plain HTTP from that proxy and req.secure is never true.
 * The proxy's X-Forwarded-Proto tells; it is believed only from a loopback or Unix-socket peer — never from the network.
 * (Not Express's 'trust proxy', which would believe X-Forwarded-For from any peer: clientAddress below reads it from the
 * proxy only.) A local client that sends it falsely only makes its own cookie Secure.
 */
export function cameOverTls(req: Request): boolean {
  if (req.secure) return true;
  return fromLocalProxy(req) && req.get('x-forwarded-proto')?.split(',')[0].trim().toLowerCase() === 'https';
}

/** The peer is loopback or the Unix socket (no remote address): where `serve`'s reverse proxy connects from. */
function fromLocalProxy(req: Request): boolean {
  const peer = req.socket?.remoteAddress;
  return peer === undefined || peer === '::1' || peer.startsWith('127.') || peer.startsWith('::ffff:127.');
}

/**
 * The browser's address as far as it can be known, for per-address limits: an IPv6 address as its /64 (one host's
 * usual share: every address in it is the same sender), an IPv4-mapped one as the IPv4 address. Behind `serve`'s
 * reverse proxy every request comes from the proxy (loopback or the Unix socket), so the peer address would make a
 * per-address limit one limit for the whole internet (a stranger's wrong passwords would lock the real user out). From
 * such a peer the last X-Forwarded-For entry is taken — the address the proxy itself appended (nginx
 * `$proxy_add_x_forwarded_for`, Apache mod_proxy); entries before it are whatever the browser sent and are not
 * believed. A client that reaches `serve` directly on loopback (a local user) can write that header itself, so the
 * login limit also keeps a per-user-name bucket over all addresses (routes/auth.ts). From any other peer, and when the
 * header is absent or its last entry is not an IP address, the peer address.
 */
export function clientAddress(req: Request): string {
  const peer = req.socket?.remoteAddress ?? 'local';
  if (!fromLocalProxy(req)) return addressKey(peer);
  const xff = req.get('x-forwarded-for');
  if (!xff) return addressKey(peer);
  const last = xff.slice(xff.lastIndexOf(',') + 1).trim();
  return isIP(last) ? addressKey(last) : addressKey(peer);
}

/** An address as a limit key: IPv4 as it is (also when IPv4-mapped), IPv6 as its /64. */
function addressKey(addr: string): string {
  if (isIP(addr) !== 6) return addr;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  if (mapped) return mapped[1];
  try {
    return `${ipaddr.parse(addr).toNormalizedString().split(':').slice(0, 4).join(':')}::/64`;
  } catch {
    return addr;
  }
}

export function writeSession(req: Request, res: Response, secret: Buffer, data: SessionData): void {
  // One session cookie per answer: a session replaced during the request (bound to the identity, ended) replaces the
  // cookie set earlier in it instead of adding a second one.
  setCookie(req, res, SESSION_COOKIE, encodeSession(secret, data), SESSION_SECONDS);
}
