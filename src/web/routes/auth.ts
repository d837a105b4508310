// GET/POST /login, POST /logout (standalone only), and / → the domains page.
import { Router, type Response } from 'express';
import type { AppContext } from '../app.js';
import { ctx, HttpError, isSameSitePath, str, waitText } from '../http.js';
import { verifyPassword } from '../passwords.js';
import {
  accountKey,
  clientAddress,
  endSessions,
  forgetPassword,
  isKnownDevice,
  listProvesAbsence,
  newSession,
  passwordAccountGone,
  passwordState,
  rememberDevice,
  samePasswordState,
  sessionGeneration,
  PASSWORD_ACCOUNT_SETTING,
  REVOKED_BEFORE_SETTING,
  writeSession,
  type GenerationalSession,
  type PasswordState,
  type SessionData,
} from '../session.js';

// The session generation lives in session.ts (sessionStillValid checks it, forgetPassword moves it on); re-exported
// here for the modules that took it from here (`user set-password` in cli/commands/serve.ts).
export { endSessions, sessionGeneration, sessionOfCurrentGeneration, SESSION_GENERATION_SETTING, type GenerationalSession } from '../session.js';

function safeNext(v: unknown): string {
  const s = str(v);
  // Only local paths, by the one same-site check every link back uses (http.ts isSameSitePath): "/x" but not "//host",
  // "/\host", nor a control character or whitespace a browser might drop or read otherwise.
  return isSameSitePath(s) && !s.toLowerCase().startsWith('/login') ? s : '/domains';
}

/**
 * Forgets the login of `user`, whose account the panel no longer has, once the answer to this attempt is sent: its
 * timing then cannot tell whether the name had a password to forget (an unknown name costs the same scrypt check, and
 * gets the same answer). Only when something is stored, and only if it is still what was read before the panel was
 * asked — a password set meanwhile (`user set-password` for an account just created again) is not the gone one's.
 */
function forgetAfterAnswer(c: AppContext, res: Response, user: string, was: PasswordState): void {
  if (was.hash === null && was.bound === undefined) return;
  let done = false;
  const forget = () => {
    if (done) return;
    done = true;
    try {
      // Its sessions end first, whatever the clock did (forgetPassword: by generation), then the password goes.
      if (samePasswordState(passwordState(c.store, user), was)) forgetPassword(c.store, user, c.now().getTime());
    } catch (e) {
      // The answer is gone already; the next attempt, a returning session or serve's sweep tries again.
      process.stderr.write(`mailhealth web: could not forget the password of ${JSON.stringify(user)}, whose account is gone: ${(e as Error)?.message ?? String(e)}\n`);
    }
  };
  // 'finish': the answer was handed to the connection; 'close': the browser went away before that.
  res.once('finish', forget);
  res.once('close', forget);
}

/**
 * The wait a refused login is told (seconds), the longest of its buckets' (RateLimiter.retryAfterSeconds; 0: one that
 * would take it now); undefined when one never refills.
 */
function loginWait(waits: readonly (number | undefined)[]): number | undefined {
  if (waits.some((s) => s === undefined)) return undefined;
  return Math.max(1, ...(waits as number[]));
}

export function authRoutes(c: AppContext): Router {
  const r = Router();

  r.get('/', (_req, res) => res.redirect(303, ctx(res).identity ? '/domains' : '/login'));

  r.get('/login', (req, res) => {
    if (c.identityFrom !== 'session') throw new HttpError(404, 'Not found.');
    if (ctx(res).identity) return res.redirect(303, safeNext(req.query.next));
    res.render('login', { title: 'Log in', next: safeNext(req.query.next), error: null, user: '' });
  });

  r.post('/login', async (req, res) => {
    if (c.identityFrom !== 'session') throw new HttpError(404, 'Not found.');
    const body = req.body as Record<string, unknown>;
    const user = str(body.user).trim().slice(0, 100);
    const password = str(body.password).slice(0, 1000);
    const next = safeNext(body.next);
    const fail = (status: number, error: string) => res.status(status).render('login', { title: 'Log in', next, error, user });
    // Per browser address and user name (a stranger's guesses do not lock the real user out), and wrong passwords per
    // user name over all addresses — whoever can choose the address the first sees (a local user writing
    // X-Forwarded-For to serve on loopback, an IPv6 host with many /64s) gets no more guesses than that. A browser that
    // logged in as this user before (its signed device cookie) is not held by the second: a stranger emptying it does
    // not lock the real user out of the browser she uses. Only a login since the user's password, account and
    // revocations last changed counts: the browser of a stolen session, or of the name's previous owner, is held.
    const nowSec = Math.floor(c.now().getTime() / 1000);
    const userKey = `login-user:${user}`;
    const knownDevice = user !== '' && isKnownDevice(c.secret, c.store, req, user, nowSec);
    // The per-user token is taken before the (slow) password check, so parallel attempts cannot all slip past it, and
    // given back when the password was right: only wrong passwords use it up.
    const userToken = !knownDevice;
    const addressKey = `login:${clientAddress(req)}:${user}`;
    if (!c.limits.login.take(addressKey) || (userToken && !c.limits.loginUser.take(userKey))) {
      // As every rate limit's refusal (http.ts takeToken): when the next attempt is allowed, in words and in Retry-After
      // — the longer wait of the two buckets that can hold this attempt.
      const seconds = loginWait([c.limits.login.retryAfterSeconds(addressKey), userToken ? c.limits.loginUser.retryAfterSeconds(userKey) : 0]);
      if (seconds !== undefined) res.setHeader('Retry-After', String(seconds));
      return fail(429, `Too many attempts. ${seconds !== undefined ? `The next one is allowed in ${waitText(seconds)}.` : 'Try again later.'}`);
    }
    // What is stored for this name, read before the panel is: the same reads for every name, known or not. The
    // generation of its sessions too, before the password is checked: a logout or `user set-password` that comes while
    // it is being checked (against the hash read here) ends the session this login makes.
    const stored = user ? passwordState(c.store, user) : { hash: null, bound: undefined };
    const gen = user ? sessionGeneration(c.store, user) : 0;
    const accounts = user ? await c.panel.listAccounts() : [];
    const account = accounts.find((a) => a.user === user);
    // A password set for another account of this name (removed and created again, moved to another reseller) is none.
    const bound = stored.bound;
    const own = account && (bound === undefined || bound === accountKey(account));
    // Always one scrypt check (against a stand-in hash when the user is unknown): the time taken does not tell which
    // user names exist.
    const ok = await verifyPassword(password, account && own ? stored.hash : null);
    if (!account || !ok) {
      // A known browser skipped the per-user bucket; its wrong passwords count there all the same.
      if (!userToken) c.limits.loginUser.take(userKey);
      // The panel says the account this name's password (and sessions) belonged to is gone: forget them now, not only
      // when one of its sessions comes back — a new account given the name later must start with neither.
      if (user && listProvesAbsence(accounts) && passwordAccountGone(accounts, user, bound)) forgetAfterAnswer(c, res, user, stored);
      return fail(401, 'Wrong user name or password.');
    }
    if (userToken) c.limits.loginUser.give(userKey);
    // A password stored without its account (`mailhealth demo`, versions before the binding) belongs from now on to the
    // account that logs in with it, as `user set-password` binds it: a session of another account of this name (one
    // removed before) then ends on its own (sessionStillValid) instead of ending this account's sessions with it.
    if (bound === undefined) c.store.setSetting(PASSWORD_ACCOUNT_SETTING(account.user), accountKey(account));
    // A new session (and CSRF token) at login: a token planted before login is worth nothing after it.
    // Issued at least 1 ms after any logout of this user, so a logout and a login in the same millisecond still work.
    const revoked = c.store.getSetting<number>(REVOKED_BEFORE_SETTING(account.user));
    const nowMs = Math.max(c.now().getTime(), typeof revoked === 'number' ? revoked : 0);
    const session: GenerationalSession = { ...newSession(Math.floor(c.now().getTime() / 1000), { user: account.user, role: account.role, acct: accountKey(account) }, nowMs), gen };
    writeSession(req, res, c.secret, session);
    rememberDevice(req, res, c.secret, c.store, account.user, nowSec);
    res.redirect(303, next);
  });

  r.post('/logout', (req, res) => {
    // The cookie is signed, not stored: logging out voids every session of this user issued until now (other browsers,
    // and a copy of this cookie), not only this browser's — by generation (endSessions), so also after a clock
    // correction.
    const me = (res.locals as { session?: SessionData }).session;
    const nowSec = Math.floor(c.now().getTime() / 1000);
    if (c.identityFrom === 'session' && me?.user) {
      // That also ends the device cookies of this user (a copy of this browser's among them). This browser stays known
      // if it was — else logging out would cost her the browser she uses when a stranger empties her per-user login
      // limit; a stolen session cookie without the device cookie does not earn one here.
      const known = ctx(res).identity?.user === me.user && isKnownDevice(c.secret, c.store, req, me.user, nowSec);
      endSessions(c.store, me.user, c.now().getTime());
      if (known) rememberDevice(req, res, c.secret, c.store, me.user, nowSec);
    }
    writeSession(req, res, c.secret, newSession(nowSec));
    res.redirect(303, c.identityFrom === 'session' ? '/login' : '/domains');
  });

  return r;
}
