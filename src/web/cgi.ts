// The panel front doors (issue 7): run ONE request through the Express app as a CGI program, with the identity the
// panel established — never one a browser sent.
//
//   cpanel  the Jupiter page `mailhealth/index.live.cgi`. cpsrvd runs it as the logged-in cPanel user
//           (shared/reference/cpanel.md §9.2), so the identity is the OS user this process runs as; REMOTE_USER must
//           name the same user, else the request is refused. The panel is that user's own UAPI (LiveAPI socket when
//           cpsrvd gives one, else the `uapi` CLI as the user): exactly the user's privileges, nothing more. The
//           account must have the Feature Manager feature `mailhealth` (UAPI Features::has_feature, asked through
//           that same UAPI on every request; see requireCpanelFeature).
//   whm     the AppConfig page `cgi/mailhealth/index.cgi`, started by cpsrvd as root after WHM authenticated the
//           user; WHM puts the WHM login in REMOTE_USER (§9.3). root → admin; anyone else must be a reseller listed
//           in /var/cpanel/resellers with the ACLs the page needs (`all`, or `list-accts` and `edit-dns`; WHM CGIs
//           check ACLs themselves, §9.3) whose accounts WHM's `listaccts` shows as owned by them. An unreadable
//           /var/cpanel/resellers lets only root in. A browser cannot set REMOTE_USER: request headers reach a CGI
//           only as HTTP_*.
//   plesk   the extension's sbin helper, run as root through pm_ApiCli::callSbin by the PHP shim, which took the
//           user and role from pm_Session (plesk.md §7.3/§7.4) and passes `--user --role` (+ the domains it may
//           access: one per line in a 0600 file in the extension's var dir named by MAILHEALTH_ALLOWED_DOMAINS_FILE —
//           one environment string is limited to 128 KiB, too little for a reseller with thousands of domains; the
//           older comma-joined MAILHEALTH_ALLOWED_DOMAINS is still read when no file is named). A named file that
//           cannot be read fails closed. Only root (and Plesk on behalf of the extension) can start it as root;
//           started as anyone else it refuses.
//
// Long work: root-run front doors (WHM, Plesk) may hand the request to the background service (`mailhealth service`
// on a root-only Unix socket) instead of handling it in this short-lived process, signing the identity with the
// root-only front-door key (identity.ts `signIdentity`). A customer's cPanel page cannot read that key and always
// runs in-process, as the customer.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createConnection, isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Express } from 'express';
import type { DomainRef, Identity, Role } from '../core/model.js';
import type { Panel } from '../core/panel.js';
import { checkDomain } from '../core/domain.js';
import type { Params, UapiResult, UapiTransport } from '../adapters/panels/cpanel/uapi.js';
import type { FeatureAccess } from '../adapters/panels/cpanel/index.js';
import { signIdentity } from './identity.js';

export type FrontDoorKind = 'cpanel' | 'whm' | 'plesk';
export const FRONT_DOORS: FrontDoorKind[] = ['cpanel', 'whm', 'plesk'];

export class FrontDoorRefused extends Error {
  constructor(
    public readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'FrontDoorRefused';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// CGI request / response

export interface CgiRequest {
  method: string;
  /** Path inside the app (PATH_INFO, default "/"). */
  path: string;
  /** Raw query string without "?". */
  query: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface CgiResponse {
  status: number;
  /** In order; Set-Cookie may repeat. */
  headers: [string, string][];
  body: Buffer;
}

/**
 * Headers a browser must never be able to pass through a front door (identity is the front door's job). The forwarding
 * headers too: the app believes X-Forwarded-For and X-Forwarded-Proto from its local proxy (session.ts clientAddress,
 * cameOverTls), and behind a front door that "proxy" is the front door itself, over a Unix socket — what they say is
 * set below from the panel's CGI variables, never copied from the browser.
 */
const DROPPED_HEADERS = new Set([
  'x-mailhealth-identity',
  'x-remote-user',
  'remote-user',
  'x-forwarded-user',
  'authorization',
  'proxy-authorization',
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'content-length',
  'expect',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-real-ip',
]);

/** RFC 3875 meta-variables → a request for the app. HTTP_* become headers (minus the ones above). */
export function cgiRequestFromEnv(env: NodeJS.ProcessEnv, body: Buffer): CgiRequest {
  const method = (env.REQUEST_METHOD || 'GET').toUpperCase();
  if (!/^[A-Z]{1,16}$/.test(method)) throw new FrontDoorRefused(400, 'bad REQUEST_METHOD');
  let path = env.PATH_INFO || '/';
  if (!path.startsWith('/')) path = `/${path}`;
  if (/[\r\n\0]/.test(path) || path.startsWith('//')) throw new FrontDoorRefused(400, 'bad PATH_INFO');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || !k.startsWith('HTTP_')) continue;
    const name = k.slice(5).toLowerCase().replace(/_/g, '-');
    if (DROPPED_HEADERS.has(name) || /[\r\n]/.test(v)) continue;
    headers[name] = v;
  }
  if (env.CONTENT_TYPE) headers['content-type'] = env.CONTENT_TYPE;
  // What the panel's web server saw (RFC 3875 REMOTE_ADDR, HTTPS), as a proxy in front of `serve` would say it.
  if (env.REMOTE_ADDR && isIP(env.REMOTE_ADDR)) headers['x-forwarded-for'] = env.REMOTE_ADDR;
  if (env.HTTPS === 'on' || env.HTTPS === '1') headers['x-forwarded-proto'] = 'https';
  const len = env.CONTENT_LENGTH ? Number(env.CONTENT_LENGTH) : body.length;
  const cut = Number.isInteger(len) && len >= 0 ? body.subarray(0, len) : body;
  return { method, path: encodePath(path), query: env.QUERY_STRING ?? '', headers, body: cut };
}

/** PATH_INFO arrives decoded; re-encode it for the request line (keeping "/"). */
function encodePath(p: string): string {
  return p
    .split('/')
    .map((seg) => encodeURIComponent(decodeSafe(seg)))
    .join('/');
}
function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Send one request over a Unix socket and collect the whole response. */
function requestOverSocket(socketPath: string, req: CgiRequest, extraHeaders: Record<string, string> = {}): Promise<CgiResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...req.headers, ...extraHeaders, host: 'localhost', connection: 'close' };
    if (req.body.length || !['GET', 'HEAD'].includes(req.method)) headers['content-length'] = String(req.body.length);
    const r = http.request(
      { createConnection: () => createConnection(socketPath), method: req.method, path: req.path + (req.query ? `?${req.query}` : ''), headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const pairs: [string, string][] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i], res.rawHeaders[i + 1]]);
          resolve({ status: res.statusCode ?? 502, headers: pairs, body: Buffer.concat(chunks) });
        });
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });
}

/**
 * Run one request through the app in this process: it listens on a Unix socket in a fresh 0700 directory (only this
 * OS user can connect) for the duration of the request. Real node:http on both sides, so the app sees an ordinary
 * request.
 */
export async function dispatchInProcess(app: Express, req: CgiRequest): Promise<CgiResponse> {
  const dir = mkdtempSync(join(tmpdir(), 'mailhealth-cgi-'));
  const sock = join(dir, 'app.sock');
  const server = http.createServer(app);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(sock, () => resolve());
    });
    return await requestOverSocket(sock, req);
  } finally {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections?.();
    });
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Hand the request to the background service, with the identity signed by the root-only front-door key. */
export function proxyToService(socketPath: string, key: Buffer, identity: Identity, req: CgiRequest): Promise<CgiResponse> {
  return requestOverSocket(socketPath, req, { 'x-mailhealth-identity': signIdentity(key, identity, 120) });
}

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date']);

/**
 * The app writes root-relative URLs ("/domains"). Inside a panel it lives under the script's URL
 * (SCRIPT_NAME, e.g. /cpsess…/frontend/jupiter/mailhealth/index.live.cgi), so links, redirects, cookie paths and the
 * few absolute fetch() URLs in its scripts are re-based here. (Better done by the app itself with a base path.)
 */
export function rebase(res: CgiResponse, base: string, secure = false): CgiResponse {
  const b = base.replace(/\/+$/, '');
  const headers: [string, string][] = [];
  for (const [k, v] of res.headers) {
    const lk = k.toLowerCase();
    if (HOP.has(lk)) continue;
    if (lk === 'location' && b && v.startsWith('/') && !v.startsWith('//')) headers.push([k, b + v]);
    else if (lk === 'set-cookie') {
      let c = b ? v.replace(/;\s*Path=\/(?=;|$)/i, `; Path=${b}`) : v;
      if (secure && !/;\s*Secure\b/i.test(c)) c += '; Secure';
      headers.push([k, c]);
    } else headers.push([k, v]);
  }
  let body = res.body;
  const type = res.headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
  if (b && /^text\/html/i.test(type)) {
    // Links, and a no-script page's `<meta http-equiv="refresh" content="5; url=/…">` (a running bulk fix): without it
    // the page would reload at the root of the panel's server (a11y QA).
    body = Buffer.from(
      body
        .toString('utf8')
        .replace(/(\s(?:href|src|action|formaction)=["'])\/(?![/\\])/gi, `$1${b}/`)
        .replace(/(\scontent=["']\d+;\s*url=)\/(?![/\\])/gi, `$1${b}/`),
      'utf8',
    );
  } else if (b && /javascript/i.test(type)) {
    body = Buffer.from(body.toString('utf8').replace(/(fetch\(\s*["'])\/(?![/\\])/g, `$1${b}/`), 'utf8');
  }
  headers.push(['Content-Length', String(body.length)]);
  return { status: res.status, headers, body };
}

/** A CGI response (RFC 3875 §6): `Status:` line, headers, blank line, body. */
export function formatCgi(res: CgiResponse): Buffer {
  const reason = http.STATUS_CODES[res.status] ?? 'Status';
  const lines = [`Status: ${res.status} ${reason}`, ...res.headers.map(([k, v]) => `${k}: ${v}`)];
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'utf8'), res.body]);
}

export function refusal(status: number, message: string): CgiResponse {
  const body = Buffer.from(`mailhealth: ${message}\n`, 'utf8');
  // nosniff: the message may quote what the panel passed (REMOTE_USER); it is text, never to be sniffed as a page.
  return {
    status,
    headers: [
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Cache-Control', 'no-store'],
      ['X-Content-Type-Options', 'nosniff'],
      ['Content-Length', String(body.length)],
    ],
    body,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Identities

const LOGIN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** cPanel page: the OS user this CGI runs as; REMOTE_USER must agree. Never root. */
export function cpanelIdentity(env: NodeJS.ProcessEnv, os: { user: string; uid: number }): Identity {
  if (os.uid === 0 || os.user === 'root') throw new FrontDoorRefused(403, 'the cPanel page runs as the cPanel user, never as root (is it installed as a .live.cgi in the Jupiter theme?)');
  const remote = env.REMOTE_USER;
  if (!remote) throw new FrontDoorRefused(403, 'no REMOTE_USER: this page must be started by cPanel');
  if (remote !== os.user) throw new FrontDoorRefused(403, `REMOTE_USER (${remote}) is not the user this page runs as (${os.user})`);
  return { user: os.user, role: 'customer' };
}

/**
 * The WHM privileges (ACLs, /var/cpanel/resellers) a reseller needs for the WHM page, besides `all` (which holds every
 * privilege). The page runs as root and calls WHM API 1 as root, so WHM's own ACL checks on those calls never see the
 * reseller: the page must not let a reseller do what WHM would not let them do themselves (shared/reference/cpanel.md
 * §9.3). What the page does for a reseller: list their accounts and those accounts' domains (`list-accts`, "List
 * Accounts"), and write mail TXT records (SPF, DKIM, DMARC, `_mailchannels`) and DKIM keys into their customers' zones
 * (`edit-dns`, "Edit DNS Zones"). It never creates, removes or parks zones (`create-dns`, `kill-dns`, `park-dns`) nor
 * edits MX entries (`edit-mx`). ACL keys and titles: cPanel's Whostmgr/ACLS/Data.pm (11.120).
 */
export const WHM_RESELLER_ACLS: readonly { acl: string; title: string }[] = [
  { acl: 'list-accts', title: 'List Accounts' },
  { acl: 'edit-dns', title: 'Edit DNS Zones' },
];

/**
 * A reseller's ACLs from /var/cpanel/resellers (`user:acl,acl,…` per line), or null when the user has no line. The
 * format is INFERRED (the reference lists the file, §6.3); blanks and a CR (a file edited on Windows) are ignored.
 */
export function resellerAcls(resellers: string, user: string): string[] | null {
  for (const raw of resellers.split('\n')) {
    const line = raw.trim();
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim() !== user) continue;
    return line
      .slice(colon + 1)
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean);
  }
  return null;
}

/**
 * WHM page: REMOTE_USER as WHM sets it. root → admin. Anyone else must be a reseller: listed in /var/cpanel/resellers
 * with `all` or every ACL in WHM_RESELLER_ACLS, and a reseller in the panel's account list (derived from WHM listaccts
 * owners). `resellers` is that file's text, or null when it could not be read: then only root gets in (fail closed —
 * without it no reseller's privileges can be checked; every cPanel & WHM server has the file).
 */
export async function whmIdentity(env: NodeJS.ProcessEnv, panel: Panel, opts: { isRoot: boolean; resellers: string | null }): Promise<Identity> {
  if (!opts.isRoot) throw new FrontDoorRefused(403, 'the WHM page must be started by WHM (as root; AppConfig user=root)');
  const remote = env.REMOTE_USER;
  if (!remote || !LOGIN.test(remote)) throw new FrontDoorRefused(403, 'no valid REMOTE_USER: this page must be started by WHM');
  if (remote === 'root') return { user: 'root', role: 'admin' };
  if (opts.resellers === null) {
    throw new FrontDoorRefused(403, `${remote}: /var/cpanel/resellers could not be read, so WHM reseller privileges cannot be checked; only root may use this page until it can`);
  }
  const acls = resellerAcls(opts.resellers, remote);
  if (!acls) throw new FrontDoorRefused(403, `${remote} is not a WHM reseller`);
  if (!acls.includes('all')) {
    const missing = WHM_RESELLER_ACLS.filter((r) => !acls.includes(r.acl));
    if (missing.length) {
      throw new FrontDoorRefused(
        403,
        `${remote} lacks the WHM ${missing.length === 1 ? 'privilege' : 'privileges'} ${missing.map((m) => `"${m.title}" (${m.acl})`).join(' and ')} that Mail Health needs ` +
          `(it lists your accounts and edits their DNS zones); root can grant ${missing.length === 1 ? 'it' : 'them'} in WHM » Edit Reseller Nameservers and Privileges`,
      );
    }
  }
  const accounts = await panel.listAccounts();
  if (!accounts.some((a) => a.user === remote && a.role === 'reseller')) throw new FrontDoorRefused(403, `${remote} is not a reseller with accounts on this server`);
  return { user: remote, role: 'reseller' };
}

/** The cPanel Feature Manager feature that gates the cPanel page (plugin-manifests/cpanel/install.json `feature`). */
export const CPANEL_FEATURE = 'mailhealth';

/**
 * cPanel page: the account must have the `mailhealth` feature, asked of the customer's own UAPI on every request
 * (nothing cached: each CGI request is a new process, and an admin's change applies at once). cpsrvd hides the link
 * of a disabled feature but still serves the page's URL, so the page checks itself.
 * - enabled → the page is served;
 * - disabled (the account's feature list turns it off) → 403;
 * - not installed (no such feature on the server) → 403 as well: install/cpanel.sh always registers it (install_plugin
 *   plus the addonfeatures file), so a server without it has a broken or half-removed install, on which the admin
 *   cannot restrict the page in Feature Manager — refusing keeps the page closed until the installer is run again;
 * - the call fails or answers something else → 503 (fail closed: nobody is let in unchecked).
 */
export async function requireCpanelFeature(panel: { featureAccess(name: string): Promise<FeatureAccess> }, user: string): Promise<void> {
  let access: FeatureAccess;
  try {
    access = await panel.featureAccess(CPANEL_FEATURE);
  } catch (e) {
    throw new FrontDoorRefused(503, `could not check that ${user} has the cPanel feature "${CPANEL_FEATURE}" (${(e as Error)?.message ?? String(e)}); the page stays closed until cPanel answers`);
  }
  if (access === 'enabled') return;
  if (access === 'disabled') {
    throw new FrontDoorRefused(403, `Mail Health is not enabled for your account: the cPanel feature "${CPANEL_FEATURE}" is off in your package's feature list. Ask your hosting provider to enable it (WHM » Feature Manager).`);
  }
  throw new FrontDoorRefused(
    403,
    `Mail Health is not available: this server has no cPanel feature "${CPANEL_FEATURE}", so access to the page cannot be controlled. Ask your hosting provider to run the Mail Health installer again (install/cpanel.sh registers the feature).`,
  );
}

const ROLES: Role[] = ['customer', 'reseller', 'admin'];
/** Plesk sbin helper: `--user --role` from the PHP shim; only accepted when running as root (callSbin). */
export function pleskIdentity(user: string | undefined, role: string | undefined, opts: { isRoot: boolean }): Identity {
  if (!opts.isRoot) throw new FrontDoorRefused(403, 'the Plesk helper runs as root through pm_ApiCli::callSbin');
  // Plesk calls customers "client"; accept both.
  const r = role === 'client' ? 'customer' : role;
  if (!user || !LOGIN.test(user)) throw new FrontDoorRefused(400, '--user must be a Plesk login');
  if (!r || !ROLES.includes(r as Role)) throw new FrontDoorRefused(400, '--role must be admin, reseller or customer');
  return { user, role: r as Role };
}

/**
 * Parse the shim's domain list — the content of the MAILHEALTH_ALLOWED_DOMAINS_FILE file (one name per line) or the
 * value of MAILHEALTH_ALLOWED_DOMAINS (comma-joined); any of comma/space/newline separates. null when unset.
 */
export function allowedDomainsFrom(value: string | undefined): Set<string> | null {
  if (value === undefined) return null;
  const out = new Set<string>();
  // Through the one validator, as every other domain name: a name Plesk gives in Unicode (an IDN) is the A-label the
  // panel's domain list uses; a name that is not a domain name allows nothing.
  for (const d of value.split(/[\s,]+/)) {
    if (!d) continue;
    const c = checkDomain(d);
    if (c.ok) out.add(c.domain);
  }
  return out;
}

/**
 * Defence in depth: the panel's own scope, narrowed to what the shim said the user may access. An identity a front
 * door narrowed (Identity.allowed — the Plesk shim's domain list; signed with the identity when the request goes to
 * the background service) sees only those of its domains, in the front door's own process and in the service alike;
 * an identity without `allowed` sees what the panel gives it. A domain alias is in it when the domain it is an alias
 * of is (Plesk's pm_Domain list, which the shim sends, holds no aliases).
 */
export function narrowByIdentity(panel: Panel): Panel {
  const narrowed = Object.create(panel) as Panel;
  narrowed.listDomains = async (identity: Identity): Promise<DomainRef[]> => {
    const all = await panel.listDomains(identity);
    if (!identity.allowed) return all;
    const allowed = new Set(identity.allowed);
    return all.filter((d) => allowed.has(d.domain) || (d.aliasOf !== undefined && allowed.has(d.aliasOf)));
  };
  return narrowed;
}

// ---------------------------------------------------------------------------------------------------------------
// cPanel LiveAPI transport (cpanel.md §9.2; framing read in [src] Cpanel/LiveAPI.pm): every message we send is
// `<byte length>\n<payload>`; answers are not length-prefixed — read until `</cpanelresult>` and take the JSON between
// `<cpanelresult>` and `</cpanelresult>`: {"cpanelresult":{"result":{status,data,errors,…}}}.

export class LiveApiTransport implements UapiTransport {
  readonly label = 'cPanel (LiveAPI)';
  private conn: import('node:net').Socket | null = null;
  private buf = '';
  private waiting: ((s: string) => void) | null = null;
  private failed: Error | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly socketPath: string) {}

  private static frame(payload: string): string {
    // Non-ASCII escaped so characters = bytes (Perl's length() in LiveAPI.pm counts characters).
    const ascii = payload.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    return `${Buffer.byteLength(ascii)}\n${ascii}`;
  }

  private async connect(): Promise<import('node:net').Socket> {
    if (this.conn) return this.conn;
    const s = createConnection(this.socketPath);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      this.buf += d;
      this.flush();
    });
    s.on('error', (e) => {
      this.failed = e;
      this.flush();
    });
    s.on('close', () => {
      this.failed ??= new Error('LiveAPI socket closed');
      this.flush();
    });
    this.conn = s;
    await this.exchange(s, '<cpaneljson enable="1">');
    return s;
  }

  private flush(): void {
    if (!this.waiting) return;
    const end = this.buf.indexOf('</cpanelresult>');
    if (end >= 0) {
      const msg = this.buf.slice(0, end + '</cpanelresult>'.length);
      this.buf = this.buf.slice(end + '</cpanelresult>'.length);
      const w = this.waiting;
      this.waiting = null;
      w(msg);
    } else if (this.failed) {
      const w = this.waiting;
      this.waiting = null;
      w('');
    }
  }

  private exchange(s: import('node:net').Socket, payload: string): Promise<string> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      s.write(LiveApiTransport.frame(payload));
      this.flush();
    });
  }

  call(module: string, func: string, params: Params = []): Promise<UapiResult> {
    const run = async (): Promise<UapiResult> => {
      const s = await this.connect();
      // Repeated keys (add, add-0 …) keep their order: cPanel accepts name-N for repeats (§4.1).
      const args: Record<string, string> = {};
      const seen = new Map<string, number>();
      for (const [k, v] of params) {
        if (!(k in args)) args[k] = v;
        else {
          const n = seen.get(k) ?? 0;
          seen.set(k, n + 1);
          args[`${k}-${n}`] = v;
        }
      }
      const msg = await this.exchange(s, `<cpanelaction>\n${JSON.stringify({ module, reqtype: 'exec', func, apiversion: 'uapi', args })}\n</cpanelaction>`);
      const start = msg.indexOf('<cpanelresult>');
      const end = msg.lastIndexOf('</cpanelresult>');
      if (start < 0 || end < 0) throw new Error(`LiveAPI ${module}::${func}: no answer${this.failed ? ` (${this.failed.message})` : ''}`);
      const body = JSON.parse(msg.slice(start + '<cpanelresult>'.length, end)) as { cpanelresult?: { result?: Record<string, unknown> } } & Record<string, unknown>;
      const env = (body.cpanelresult?.result ?? body.cpanelresult ?? body) as Record<string, unknown>;
      const strings = (v: unknown) => (Array.isArray(v) ? v.map(String) : v == null ? [] : [String(v)]);
      return { ok: Number(env.status) === 1, data: env.data ?? null, errors: strings(env.errors), warnings: strings(env.warnings) };
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  close(): void {
    if (!this.conn) return;
    try {
      this.conn.write(LiveApiTransport.frame('<cpanelxml shutdown="1" />'));
    } catch {
      /* closing anyway */
    }
    this.conn.end();
    this.conn = null;
  }
}
