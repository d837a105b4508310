// Shared transports for the panel adapters: a small HTTPS client (panel CA or insecure for self-signed certificates,
// plain http:// only for loopback) and a shell-free command runner (execFile) for the panels' local CLIs.
// Every transport failure becomes a named PanelError here, once.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { PanelError } from '../../core/panel.js';

export interface HttpClientOptions {
  /** Base URL of the panel, e.g. https://host:2083 (path prefixes are kept). */
  baseUrl: string;
  /** PEM file with the CA (or the self-signed certificate) the panel presents. */
  caFile?: string;
  /** PEM text, instead of caFile. */
  ca?: string;
  /** Accept any certificate (self-signed panels without a CA file). */
  insecure?: boolean;
  /** Headers sent with every request (authorization). Never logged. */
  headers?: Record<string, string>;
  /**
   * Idle limit (ms): a request during which nothing arrives for this long fails. Default 30 s (IDLE_TIMEOUT_MS). A
   * request may wait longer for its answer to begin (HttpRequest.answerWaitMs).
   */
  timeoutMs?: number;
  /** Overall limit (ms) for one request, answer included, however it trickles in. Default PANEL_DEADLINE_MS. */
  deadlineMs?: number;
  /** Largest answer body read (bytes); a larger one fails unread. Default MAX_ANSWER_BYTES. */
  maxBodyBytes?: number;
  /** Label used in error messages ("cPanel", "WHM", "Plesk"). */
  label?: string;
}

export interface HttpRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: URLSearchParams | Record<string, string>;
  /** Sent as application/x-www-form-urlencoded. */
  form?: URLSearchParams;
  /** Sent as application/json. */
  json?: unknown;
  /** Raw body with its content type. */
  body?: { contentType: string; text: string };
  headers?: Record<string, string>;
  /**
   * The request changes something on the panel (a zone write): a timeout or a dropped connection after it went out is
   * then 'no-answer' (whether it acted is not known), not 'unreachable'; so is an answer that is not the panel's own
   * (see panelAnswer).
   */
  write?: boolean;
  /**
   * For a write: whether a body is the panel's own answer (its JSON envelope, success or error). A write answered with
   * HTTP 502, 503 or 504 (a gateway or proxy in front of the panel — Plesk's nginx before PHP, a reverse proxy before
   * cPanel — gave up waiting; the panel may still finish the write), or with another 5xx whose body is not the panel's
   * answer, is PanelError('no-answer'). When this is given, a 2xx whose body is not the panel's answer is too. A 4xx
   * (and a 5xx carrying the panel's own answer) is returned as it is: a definite refusal, for the caller to judge.
   * Default: any JSON object is the panel's answer, and a 2xx is not checked.
   */
  panelAnswer?: (json: unknown) => boolean;
  /**
   * Idle limit (ms) from the moment the request is sent until the answer begins, instead of the client's: for a call
   * the panel answers only once the work is done — Plesk's `/api/v2/cli/<utility>/call` sends nothing until the utility
   * exits, so a `plesk bin dns` write is given what a local run of it is (COMMAND_TIMEOUT_MS), not the 30 s meant for a
   * panel that stalls. The connection and the answer, once it flows, keep the client's idle limit; the overall deadline
   * (deadlineMs) holds either way.
   */
  answerWaitMs?: number;
}

export interface HttpResponse {
  status: number;
  text: string;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  json: unknown;
}

/**
 * 127.0.0.0/8, ::1, localhost — the only hosts plain http:// is accepted for (tests, local emulators). Not other
 * names under .localhost: RFC 6761 says they are loopback, but the system resolver may ask DNS for them (nsswitch
 * "files dns"), and whatever DNS answers would get the panel token in clear.
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1';
  return false;
}

/**
 * The credentials the panel clients of this process send: each Authorization / API-key header value, the token or
 * password inside it, the password of a panel URL. A panel, or a proxy in front of it, may echo a request back in an
 * error page ("Authorization: cpanel alice:…", QA): every text the client builds from an answer, and errorText, which
 * the adapters build their messages with, goes through redactSecrets, so a credential never reaches a finding, the
 * history, a log or a terminal. Process-wide, not per client: errorText has no client at hand.
 */
const SECRETS = new Set<string>();
/** What stands in for a credential in a message. */
export const REDACTED = '[redacted]';
/** Shorter strings are not registered: replaced wherever they occur they would garble messages (real API tokens are 32 characters or more). */
const MIN_SECRET_LENGTH = 8;

function addSecret(s: string | undefined): void {
  const v = s?.trim();
  if (!v || v.length < MIN_SECRET_LENGTH) return;
  SECRETS.add(v);
  const encoded = encodeURIComponent(v);
  if (encoded !== v) SECRETS.add(encoded);
}

/**
 * Register a credential (a header value the client sends): the value itself and its secret part — the token of
 * `cpanel USER:TOKEN` / `whm USER:TOKEN`, the credentials of `Bearer T` and `Basic B64` (and the password B64 holds).
 */
export function registerCredential(value: string): void {
  addSecret(value);
  const m = /^\s*([A-Za-z][\w-]*)\s+(\S+)\s*$/.exec(value);
  if (!m) return;
  const [, scheme, cred] = m;
  addSecret(cred);
  const plain = /^basic$/i.test(scheme) ? Buffer.from(cred, 'base64').toString('utf8') : cred;
  const colon = plain.indexOf(':');
  if (colon >= 0) addSecret(plain.slice(colon + 1));
}

/** `text` with every registered credential replaced by [redacted] (longest first: a whole header value before its token). */
export function redactSecrets(text: string): string {
  if (!SECRETS.size || !text) return text;
  let out = text;
  for (const s of [...SECRETS].sort((a, b) => b.length - a.length)) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

/** Header names whose per-request values are credentials (Plesk's XML API `KEY`, a cookie, a password header). */
const CREDENTIAL_HEADER = /auth|key|token|passw|secret|cookie/i;

/**
 * A panel URL's user name or password as the panel gets it (HTTP Basic): percent-decoded — or as written when it does
 * not decode. A stray "%" ("admin:50%off@host") is kept by the URL parser, and decodeURIComponent throws a URIError on
 * it: the client's constructor crashed, and Node's own decoding of a URL's credentials failed every request.
 */
function decodedUserinfo(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** A URL as a message may show it: whatever stands before an "@" (user and password) left out. */
function shownUrl(raw: string): string {
  return raw.includes('@') ? raw.replace(/^((?:[a-z][a-z0-9+.-]*:)?\/\/)?.*@/i, `$1${REDACTED}@`) : raw;
}

/** Validate a panel URL: https anywhere, http only on loopback. Throws PanelError('other') with the reason. */
export function checkPanelUrl(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new PanelError('other', `panel URL ${JSON.stringify(shownUrl(raw))} is not a valid URL`);
  }
  if (u.protocol === 'https:') return u;
  if (u.protocol === 'http:') {
    if (isLoopbackHost(u.hostname)) return u;
    throw new PanelError(
      'other',
      `refusing plain http:// for ${u.hostname}: the panel token would cross the network unencrypted; use https:// (with --panel-ca FILE or --panel-insecure for a self-signed certificate)`,
    );
  }
  throw new PanelError('other', `panel URL must be https:// (got ${u.protocol})`);
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE']);
/** Failures that happen before a request can have gone out (nobody to send it to). */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** Statuses a gateway or proxy gives when the server behind it did not answer in time or at all (RFC 9110 §15.6.3-5). */
const GATEWAY_STATUSES = new Set([502, 503, 504]);
const isJsonObject = (json: unknown): boolean => !!json && typeof json === 'object';

/** Idle limit of a panel call: nothing received for this long — no connection, no answer, an answer that stalls. */
export const IDLE_TIMEOUT_MS = 30_000;
/**
 * How long a panel CLI run may take (runCommand's timeout): 120 s. Also how long Plesk's REST front to the same CLI
 * may go without answering (HttpRequest.answerWaitMs, PleskRestCli): it runs that command on the far side and sends
 * nothing until it exits.
 */
export const COMMAND_TIMEOUT_MS = 120_000;
/**
 * Overall limit of one panel call, its whole answer included. The idle limit alone let a panel that sends a byte now and
 * then hold a call for ever — and, for a write, the domain's lock, which is renewed while the write is in flight (QA).
 * 120 s: what a local panel CLI run is allowed (runCommand) — a Plesk CLI call over REST runs that same command on the
 * far side —, and one lease of the domain lock (core LOCK_TTL_MS); four idle limits, and far beyond any real answer (a
 * zone, or a listing of thousands of domains, comes back in seconds).
 */
export const PANEL_DEADLINE_MS = 120_000;
/**
 * Largest answer read: 64 MiB. The biggest real answers — parse_zone of a zone of thousands of records (base64 adds a
 * third), a server's listing of tens of thousands of domains — are a few MiB. Past this a body is no answer an adapter
 * could use, and reading on only holds it in memory: a 1.4 GB one crashed the process (ERR_STRING_TOO_LONG, QA).
 */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** Where a request stood when it failed: no connection yet, sent and waiting for the answer, reading the answer. */
type Phase = 'connecting' | 'waiting' | 'reading';

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;
const bytesText = (bytes: number): string => (bytes >= 1024 * 1024 ? `${Math.round(bytes / 1024 / 1024)} MB` : `${bytes} bytes`);

export class PanelHttpClient {
  private readonly base: URL;
  private readonly agent: http.Agent | https.Agent;
  private readonly label: string;

  constructor(private readonly opts: HttpClientOptions) {
    this.base = checkPanelUrl(opts.baseUrl);
    this.label = opts.label ?? 'panel';
    for (const v of Object.values(opts.headers ?? {})) registerCredential(v);
    if (this.base.password) {
      addSecret(this.base.password);
      addSecret(decodedUserinfo(this.base.password));
    }
    if (this.base.protocol === 'https:') {
      let ca: string | undefined = opts.ca;
      if (!ca && opts.caFile) {
        try {
          ca = readFileSync(opts.caFile, 'utf8');
        } catch (e) {
          throw new PanelError('other', `cannot read the panel CA file ${opts.caFile}: ${(e as Error).message}`);
        }
      }
      this.agent = new https.Agent({ ca, rejectUnauthorized: !opts.insecure, keepAlive: false });
    } else {
      this.agent = new http.Agent({ keepAlive: false });
    }
  }

  get origin(): string {
    return this.base.origin;
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const prefix = this.base.pathname.replace(/\/$/, '');
    const url = new URL(prefix + req.path, this.base);
    if (req.query) {
      const q = req.query instanceof URLSearchParams ? req.query : new URLSearchParams(req.query);
      for (const [k, v] of q) url.searchParams.append(k, v);
    }
    // The URL's credentials sent as Basic auth decoded here (decodedUserinfo), not by Node, which throws on a stray "%".
    let auth: string | undefined;
    if (url.username || url.password) {
      auth = `${decodedUserinfo(url.username)}:${decodedUserinfo(url.password)}`;
      url.username = '';
      url.password = '';
    }
    const headers: Record<string, string> = { accept: 'application/json', ...this.opts.headers, ...req.headers };
    for (const [k, v] of Object.entries(req.headers ?? {})) if (CREDENTIAL_HEADER.test(k)) registerCredential(v);
    let body: string | undefined;
    if (req.form) {
      body = req.form.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['content-type'] = 'application/json';
    } else if (req.body) {
      body = req.body.text;
      headers['content-type'] = req.body.contentType;
    }
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const mod = url.protocol === 'https:' ? https : http;
    const clientIdleMs = this.opts.timeoutMs ?? IDLE_TIMEOUT_MS;
    // The idle limit in force: the client's while connecting and reading, the request's own while waiting for the
    // answer to begin (answerWaitMs). Messages name the one that ran out.
    let idleMs = clientIdleMs;
    const deadlineMs = this.opts.deadlineMs ?? PANEL_DEADLINE_MS;
    const maxBytes = this.opts.maxBodyBytes ?? MAX_ANSWER_BYTES;
    const where = `${this.label} at ${this.base.host}`;
    let phase: Phase = 'connecting';
    const res = await new Promise<{ status: number; text: string; location?: string }>((resolve, reject) => {
      // Settled once: the first outcome wins, every later event (a 'data' after the cap, an 'error' after the
      // deadline destroyed the socket) is ignored; the request is torn down on failure. Nothing below may throw out of
      // an event handler: that would be an uncaught exception, ending the process (QA: ERR_STRING_TOO_LONG in 'end').
      let settled = false;
      let r: http.ClientRequest | undefined;
      let deadline: NodeJS.Timeout | undefined;
      const fail = (e: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        r?.destroy();
        reject(e);
      };
      const succeed = (v: { status: number; text: string; location?: string }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        resolve(v);
      };
      const failure = (code: string, message: string) => Object.assign(new Error(message), { code });
      // Every handler below runs inside an event: what it throws becomes this request's failure.
      const safely =
        <A extends unknown[]>(fn: (...a: A) => void) =>
        (...a: A): void => {
          try {
            fn(...a);
          } catch (e) {
            fail(e instanceof Error ? e : new Error(String(e)));
          }
        };
      // The request is out (TCP connected, and for https the TLS handshake done): from now until the answer begins,
      // the request's own idle limit; back to the client's once the answer flows.
      const sent = (): void => {
        if (req.answerWaitMs === undefined || phase === 'reading') return;
        idleMs = req.answerWaitMs;
        r?.setTimeout(idleMs);
      };
      const onResponse = (resp: http.IncomingMessage): void => {
        phase = 'reading';
        if (idleMs !== clientIdleMs) {
          idleMs = clientIdleMs;
          r?.setTimeout(idleMs);
        }
        const status = resp.statusCode ?? 0;
        const location = typeof resp.headers.location === 'string' ? resp.headers.location : undefined;
        const declared = Number(resp.headers['content-length']);
        const tooLarge = () => failure('ETOOLARGE', `its answer (HTTP ${status}) is larger than ${bytesText(maxBytes)}, far more than any answer of the panel's API; it was not read`);
        if (Number.isFinite(declared) && declared > maxBytes) return fail(tooLarge());
        const chunks: Buffer[] = [];
        let received = 0;
        resp.on(
          'data',
          safely((c: Buffer) => {
            if (settled) return;
            received += c.length;
            if (received > maxBytes) return fail(tooLarge());
            chunks.push(c);
          }),
        );
        resp.on(
          'end',
          safely(() => succeed({ status, text: Buffer.concat(chunks, received).toString('utf8'), ...(location ? { location } : {}) })),
        );
        resp.on('error', fail);
      };
      r = mod.request(url, { method: req.method ?? (body !== undefined ? 'POST' : 'GET'), headers, agent: this.agent, ...(auth !== undefined ? { auth } : {}) }, safely(onResponse));
      deadline = setTimeout(() => fail(failure('EDEADLINE', 'deadline')), deadlineMs);
      // Before the 'socket' listener below: Node applies this limit to a connecting socket on its 'connect', and
      // sent() must come after that to replace it.
      r.setTimeout(idleMs, () => fail(failure('EIDLE', 'timed out')));
      r.on('socket', (s) => {
        if (!s.connecting) phase = 'waiting';
        else s.once('connect', () => (phase = phase === 'connecting' ? 'waiting' : phase));
        // When the request can have gone out: after the TLS handshake for https (one that stalls is no slow answer).
        if (s instanceof tls.TLSSocket) s.once('secureConnect', safely(sent));
        else if (!s.connecting) sent();
        else s.once('connect', safely(sent));
      });
      r.on('error', fail);
      if (body !== undefined) r.write(body);
      r.end();
    }).catch((e: NodeJS.ErrnoException) => {
      const code = e.code ?? '';
      const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code);
      const sent = phase !== 'connecting';
      if (sent && (code === 'EDEADLINE' || code === 'EIDLE' || code === 'ETOOLARGE')) {
        // The panel took the connection (or answered), but no usable answer came: said as such, not as "unreachable".
        const what =
          code === 'ETOOLARGE'
            ? `sent no usable answer: ${e.message}`
            : code === 'EDEADLINE'
              ? `did not finish answering within ${seconds(deadlineMs)} (${phase === 'reading' ? 'its answer kept trickling in' : 'it took the request and sent nothing'})`
              : phase === 'reading'
                ? `stopped sending its answer: nothing came for ${seconds(idleMs)}`
                : `accepted the connection but sent no answer within ${seconds(idleMs)}`;
        if (req.write) throw new PanelError('no-answer', `${where} ${what}`);
        throw new PanelError(code === 'ETOOLARGE' ? 'other' : 'unreachable', `${where} ${what}`);
      }
      if (code === 'EIDLE' || code === 'EDEADLINE') {
        // Nothing was sent: no connection was made in time (a write too is then certainly not made).
        throw new PanelError('unreachable', `${where} is unreachable: no connection within ${seconds(code === 'EIDLE' ? idleMs : deadlineMs)} (ETIMEDOUT)`);
      }
      if (req.write && !NOT_SENT_CODES.has(code) && !tls) {
        // A write that may have gone out (a dropped connection, an answer that is no HTTP): the panel may have acted on
        // it or not.
        throw new PanelError('no-answer', `${where} did not answer (${code || 'no code'}): ${redactSecrets(e.message)}`);
      }
      if (NETWORK_CODES.has(code)) {
        // A connection the panel took and then dropped is said as such: it was reached.
        const how =
          phase === 'reading' ? 'dropped the connection in the middle of its answer' : phase === 'waiting' && !NOT_SENT_CODES.has(code) ? 'closed the connection without answering' : 'is unreachable';
        throw new PanelError('unreachable', `${where} ${how} (${code}): ${redactSecrets(e.message)}`);
      }
      if (tls) {
        throw new PanelError('unreachable', `${where}: TLS certificate not trusted (${code}); pass --panel-ca FILE with the panel's certificate, or --panel-insecure`);
      }
      throw new PanelError('unreachable', `${where}: ${redactSecrets(e.message)}`);
    });
    let json: unknown;
    try {
      json = res.text.length ? JSON.parse(res.text) : undefined;
    } catch {
      json = undefined;
    }
    const redirect = res.status >= 300 && res.status < 400;
    if (req.write) {
      const ours = req.panelAnswer ?? isJsonObject;
      const gateway = GATEWAY_STATUSES.has(res.status);
      if (redirect || gateway || (res.status >= 500 && !ours(json)) || (req.panelAnswer && res.status >= 200 && res.status < 300 && !ours(json))) {
        // Not the panel's answer to the write: a gateway that gave up waiting (the panel may still finish it), a
        // redirect (to a login page: whatever sent it may have passed the write on first), or a body that is not the
        // panel's. Whether it was written is not known — never "it failed".
        const how = redirect ? `, a redirect${redirectTarget(res.location)}` : gateway ? ' from a gateway or proxy in front of it' : ", not the panel's answer";
        throw new PanelError('no-answer', `${where} did not answer the write itself (HTTP ${res.status}${how}${redirect ? '' : errorText(json, res.text)})`);
      }
    }
    if (res.status === 401 || res.status === 403) {
      throw new PanelError('auth', `${this.label} refused the credentials (HTTP ${res.status})${errorText(json, res.text)}: check the panel user and API token`);
    }
    if (redirect) {
      // The API never redirects: a login page (a session or proxy in front of the panel wants a login), or a URL that
      // is not the API's. Nothing in the body is the panel's answer.
      throw new PanelError(
        'other',
        `${where} answered HTTP ${res.status}, a redirect${redirectTarget(res.location)}, instead of its API's answer: check the panel URL (its API port) and that nothing in front of the panel asks for a login`,
      );
    }
    return { status: res.status, text: res.text, json };
  }
}

/**
 * Where a redirect points, for a message: " to https://host/path" with neither the query nor a session token
 * (`/cpsess0123456789/`), " to a login page" added when the path says so.
 */
function redirectTarget(location: string | undefined): string {
  if (!location) return '';
  let shown: string;
  try {
    const u = new URL(location, 'http://relative.invalid');
    shown = (u.host === 'relative.invalid' ? '' : `${u.protocol}//${u.host}`) + u.pathname.replace(/\/cpsess\d+/gi, '/cpsess…');
  } catch {
    return '';
  }
  const login = /login|signin|sso|auth/i.test(shown) ? ' (a login page)' : '';
  return ` to ${JSON.stringify(redactSecrets(shown.slice(0, 120)))}${login}`;
}

/**
 * Best-effort message out of an error body (`{code,message}`, `{errors:[...]}`, `metadata.reason`), with the clients'
 * credentials left out (redactSecrets) — before the text is cut, so no part of a token is left either.
 */
export function errorText(json: unknown, text = ''): string {
  if (json && typeof json === 'object') {
    const o = json as Record<string, unknown>;
    if (typeof o.message === 'string') return `: ${redactSecrets(o.message)}`;
    if (Array.isArray(o.errors) && o.errors.length) return `: ${redactSecrets(o.errors.join('; '))}`;
    const md = o.metadata as Record<string, unknown> | undefined;
    if (md && typeof md.reason === 'string') return `: ${redactSecrets(md.reason)}`;
  }
  const t = redactSecrets(text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim());
  return t ? `: ${t.slice(0, 200)}` : '';
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run a panel CLI without a shell (execFile: every argument is one argv item, nothing is interpreted).
 * A missing executable is PanelError('unreachable'); a non-zero exit code is returned, not thrown. `write`: the run
 * changes something on the panel — a child stopped before it exited by itself (killed at the timeout, by a signal, or
 * for writing more than maxBuffer) is then PanelError('no-answer'): it may have made the change, or part of it (the
 * panel's own helpers may even go on after it), so whether it did is not known. Otherwise that is PanelError('other').
 */
export function runCommand(file: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string; write?: boolean } = {}): Promise<CommandResult> {
  const timeoutMs = opts.timeoutMs ?? COMMAND_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { env: opts.env ?? process.env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(new PanelError('unreachable', `${file} not found: is this a panel server (or is the panel's bin directory on PATH)?`));
          return;
        }
        if (err && typeof (err as { code?: unknown }).code !== 'number') {
          const x = err as { killed?: boolean; signal?: NodeJS.Signals | null; code?: unknown };
          const stopped = !!x.killed || !!x.signal || x.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER';
          if (opts.write && stopped) {
            const how = x.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER' ? 'stopped for writing too much output' : x.killed ? `killed (${x.signal ?? 'signal'}) after the ${timeoutMs / 1000} s timeout` : `killed by ${x.signal}`;
            reject(new PanelError('no-answer', `${file} did not answer: ${how} before it exited`));
            return;
          }
          reject(new PanelError('other', `${file} failed: ${err.message}`));
          return;
        }
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}
