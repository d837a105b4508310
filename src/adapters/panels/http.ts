// Shared transports for the panel adapters: a small HTTPS client (panel CA or insecure for self-signed certificates,
// plain http:// only for loopback) and a shell-free command runner (execFile) for the panels' local CLIs.
// Every transport failure becomes a named PanelError here, once.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
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
  timeoutMs?: number;
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

/** Validate a panel URL: https anywhere, http only on loopback. Throws PanelError('other') with the reason. */
export function checkPanelUrl(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new PanelError('other', `panel URL ${JSON.stringify(raw)} is not a valid URL`);
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

export class PanelHttpClient {
  private readonly base: URL;
  private readonly agent: http.Agent | https.Agent;
  private readonly label: string;

  constructor(private readonly opts: HttpClientOptions) {
    this.base = checkPanelUrl(opts.baseUrl);
    this.label = opts.label ?? 'panel';
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
    const headers: Record<string, string> = { accept: 'application/json', ...this.opts.headers, ...req.headers };
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
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const r = mod.request(url, { method: req.method ?? (body !== undefined ? 'POST' : 'GET'), headers, agent: this.agent }, (resp) => {
        const chunks: Buffer[] = [];
        resp.on('data', (c: Buffer) => chunks.push(c));
        resp.on('end', () => resolve({ status: resp.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        resp.on('error', reject);
      });
      r.setTimeout(this.opts.timeoutMs ?? 30_000, () => r.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      r.on('error', reject);
      if (body !== undefined) r.write(body);
      r.end();
    }).catch((e: NodeJS.ErrnoException) => {
      const code = e.code ?? '';
      const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code);
      if (req.write && !NOT_SENT_CODES.has(code) && !tls) {
        // A write that may have gone out (a timeout, a dropped connection, an answer that is no HTTP): the panel may
        // have acted on it or not.
        throw new PanelError('no-answer', `${this.label} at ${this.base.host} did not answer (${code || 'no code'}): ${e.message}`);
      }
      if (NETWORK_CODES.has(code)) {
        throw new PanelError('unreachable', `${this.label} at ${this.base.host} is unreachable (${code}): ${e.message}`);
      }
      if (tls) {
        throw new PanelError(
          'unreachable',
          `${this.label} at ${this.base.host}: TLS certificate not trusted (${code}); pass --panel-ca FILE with the panel's certificate, or --panel-insecure`,
        );
      }
      throw new PanelError('unreachable', `${this.label} at ${this.base.host}: ${e.message}`);
    });
    let json: unknown;
    try {
      json = res.text.length ? JSON.parse(res.text) : undefined;
    } catch {
      json = undefined;
    }
    if (req.write) {
      const ours = req.panelAnswer ?? isJsonObject;
      const gateway = GATEWAY_STATUSES.has(res.status);
      if (gateway || (res.status >= 500 && !ours(json)) || (req.panelAnswer && res.status >= 200 && res.status < 300 && !ours(json))) {
        // Not the panel's answer to the write: a gateway that gave up waiting (the panel may still finish it), or a
        // body that is not the panel's. Whether it was written is not known — never "it failed".
        throw new PanelError(
          'no-answer',
          `${this.label} at ${this.base.host} did not answer the write itself (HTTP ${res.status}${gateway ? ' from a gateway or proxy in front of it' : ', not the panel\'s answer'}${errorText(json, res.text)})`,
        );
      }
    }
    if (res.status === 401 || res.status === 403) {
      throw new PanelError(
        'auth',
        `${this.label} refused the credentials (HTTP ${res.status})${errorText(json, res.text)}: check the panel user and API token`,
      );
    }
    return { status: res.status, text: res.text, json };
  }
}

/** Best-effort message out of an error body (`{code,message}`, `{errors:[...]}`, `metadata.reason`). */
export function errorText(json: unknown, text = ''): string {
  if (json && typeof json === 'object') {
    const o = json as Record<string, unknown>;
    if (typeof o.message === 'string') return `: ${o.message}`;
    if (Array.isArray(o.errors) && o.errors.length) return `: ${o.errors.join('; ')}`;
    const md = o.metadata as Record<string, unknown> | undefined;
    if (md && typeof md.reason === 'string') return `: ${md.reason}`;
  }
  const t = text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
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
  const timeoutMs = opts.timeoutMs ?? 120_000;
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
