// UAPI transports: HTTPS (`/execute/<Module>/<function>`, `Authorization: cpanel USER:TOKEN`) and the local
// `uapi --output=json` CLI. Both are normalised to one result shape at this boundary (shared/reference/cpanel.md §2).
import { existsSync } from 'node:fs';
import { PanelError } from '../../../core/panel.js';
import { errorText, PanelHttpClient, redactSecrets, runCommand } from '../http.js';

export type Params = [string, string][];

export interface UapiResult {
  ok: boolean;
  data: unknown;
  errors: string[];
  warnings: string[];
}

export interface UapiTransport {
  readonly label: string;
  call(module: string, func: string, params?: Params): Promise<UapiResult>;
}

/** A message item as text: a string as it is, anything else as its JSON (never "[object Object]": fuzz QA). */
export const messageText = (x: unknown): string => (typeof x === 'string' ? x : (JSON.stringify(x) ?? String(x)));

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.map(messageText) : v == null ? [] : [messageText(v)];
}

/** The UAPI envelope of a body (HTTP: top level; CLI: under `result`), or null when it is none. */
function envelopeOf(body: unknown): Record<string, unknown> | null {
  const o = (body && typeof body === 'object' ? body : null) as Record<string, unknown> | null;
  const env = (o && o.result && typeof o.result === 'object' ? o.result : o) as Record<string, unknown> | null;
  return env && 'status' in env ? env : null;
}

/** Whether a body is cPanel's own answer: a UAPI envelope (success or error). */
export const isUapiEnvelope = (body: unknown): boolean => envelopeOf(body) !== null;

/**
 * What an HTTP answer that is no UAPI envelope was, for the message: its status and what its body looks like — empty,
 * a login page (a session or a proxy in front of cPanel wants a login: QA), another HTML page, JSON of another shape,
 * or a glimpse of the text (errorText: credentials left out).
 */
export function describeAnswer(status: number, text: string, json: unknown): string {
  const body = text.trim();
  if (!body) return `HTTP ${status} with an empty body`;
  if (/^<!doctype html|^<html|<body/i.test(body)) {
    const login = /<input[^>]+type\s*=\s*["']?password|<title>[^<]*log\s*in/i.test(body);
    return `HTTP ${status} with ${login ? 'a login page' : `an HTML page${errorText(undefined, body)}`}`;
  }
  if (json !== undefined) return `HTTP ${status} with JSON of another shape`;
  return `HTTP ${status}${errorText(undefined, body)}`;
}

/**
 * The UAPI envelope {status, data, errors, warnings} (HTTP: top level; CLI: under `result`). `seen`: the HTTP answer,
 * described when it is none.
 */
export function normaliseUapi(body: unknown, where: string, seen?: { status: number; text: string }): UapiResult {
  const env = envelopeOf(body);
  if (!env) throw new PanelError('other', `${where}: unexpected answer (not a UAPI envelope${seen ? `: ${describeAnswer(seen.status, seen.text, body)}` : ''})`);
  // errors and warnings end up in messages only: the clients' credentials are left out of them (an echoing panel).
  return { ok: Number(env.status) === 1, data: env.data ?? null, errors: strings(env.errors).map(redactSecrets), warnings: strings(env.warnings).map(redactSecrets) };
}

/** The UAPI calls mailhealth makes that change something (every call is a POST form, reads too). */
const WRITES = new Set(['DNS::mass_edit_zone', 'EmailAuth::enable_dkim', 'EmailAuth::ensure_dkim_keys_exist', 'EmailAuth::install_dkim_private_keys']);

export class UapiHttp implements UapiTransport {
  readonly label = 'cPanel';
  constructor(private readonly client: PanelHttpClient) {}

  async call(module: string, func: string, params: Params = []): Promise<UapiResult> {
    const form = new URLSearchParams();
    for (const [k, v] of params) form.append(k, v);
    // POST form bodies: values are URL-encoded by URLSearchParams (a raw "+" would become a space, §4.2).
    // A write answered by a gateway (502/503/504) or with a body that is not a UAPI envelope: PanelError('no-answer')
    // from the client (cPanel may have made the change). A 4xx, or cPanel's own error envelope, is a refusal.
    const write = WRITES.has(`${module}::${func}`);
    const res = await this.client.request({ method: 'POST', path: `/execute/${encodeURIComponent(module)}/${encodeURIComponent(func)}`, form, write, ...(write ? { panelAnswer: isUapiEnvelope } : {}) });
    if (res.status === 404) throw new PanelError('not-found', `cPanel has no function ${module}::${func} here (HTTP 404${errorText(res.json, res.text)}); is the URL the cPanel port (2083)?`);
    if (res.status >= 400 && res.json === undefined) throw new PanelError('other', `cPanel ${module}::${func}: HTTP ${res.status}${errorText(res.json, res.text)}`);
    return normaliseUapi(res.json, `cPanel ${module}::${func}`, res);
  }
}

/** Default CLI path; full path first (CloudLinux wrappers, §1), else `uapi` from PATH. */
export function defaultUapiBin(): string {
  return existsSync('/usr/local/cpanel/bin/uapi') ? '/usr/local/cpanel/bin/uapi' : 'uapi';
}

export class UapiCli implements UapiTransport {
  readonly label = 'cPanel (uapi)';
  /** `user`: run as that cPanel user (needed when the caller is root; omitted when already running as the user). */
  constructor(private readonly bin = defaultUapiBin(), private readonly user?: string) {}

  async call(module: string, func: string, params: Params = []): Promise<UapiResult> {
    // INFERRED (cPanel's command-line guide, not in the reference): argument values are URI-encoded `key=value` items.
    const args = ['--output=json', ...(this.user ? [`--user=${this.user}`] : []), module, func, ...params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`)];
    // A write: `uapi` killed before it exited (timeout, signal) is PanelError('no-answer') from runCommand; one that
    // exits without its JSON answer (it died part-way) leaves the outcome unknown as well.
    const write = WRITES.has(`${module}::${func}`);
    const r = await runCommand(this.bin, args, { write });
    let body: unknown;
    try {
      body = JSON.parse(r.stdout);
    } catch {
      body = undefined;
    }
    const output = (r.stderr || r.stdout).trim().slice(0, 300);
    if (write && !isUapiEnvelope(body)) throw new PanelError('no-answer', `uapi ${module} ${func} did not answer: it exited ${r.code} without its JSON answer: ${output}`);
    if (body === undefined) throw new PanelError('other', `uapi ${module} ${func} exited ${r.code} without JSON output: ${output}`);
    return normaliseUapi(body, `uapi ${module} ${func}`);
  }
}
