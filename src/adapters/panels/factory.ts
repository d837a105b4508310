// Picks and wires the panel adapter from configuration. The API token comes from MAILHEALTH_PANEL_TOKEN or the
// config file — never from the command line (argv is visible to every user on the server via ps).
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Panel } from '../../core/panel.js';
import { PanelError } from '../../core/panel.js';
import { escapeControls, jsonText } from '../../core/text.js';
import { CpanelPanel } from './cpanel/index.js';
import { UapiCli, UapiHttp } from './cpanel/uapi.js';
import { FilesPanel } from './files/index.js';
import { PanelHttpClient } from './http.js';
import { PleskLocalCli, PleskPanel, PleskRestCli } from './plesk/index.js';
import { WhmCli, WhmHttp, WhmPanel } from './whm/index.js';

export type PanelKind = 'files' | 'cpanel' | 'whm' | 'plesk';

export interface PanelConfig {
  panel: PanelKind;
  /** files panel: the directory of zone files and settings. */
  panelRoot?: string;
  panelUrl?: string;
  panelUser?: string;
  /** Normally unset here: read from MAILHEALTH_PANEL_TOKEN or the config file. */
  token?: string;
  /** PEM file of the panel's CA / self-signed certificate (--panel-ca). */
  ca?: string;
  /** Accept any certificate (--panel-insecure). */
  insecure?: boolean;
  /** Filesystem root for server files (default `/`; tests use a temp dir). */
  root?: string;
  /** Where loadConfig reads the token from when neither `token` nor the environment has one. */
  configPath?: string;
  /** Override CLI executables (tests / unusual layouts). */
  bins?: { uapi?: string; whmapi1?: string; plesk?: string };
}

export const DEFAULT_CONFIG_PATH = '/etc/mailhealth/config.json';

const KINDS: readonly PanelKind[] = ['files', 'cpanel', 'whm', 'plesk'];

/** The config file's keys as loadConfig returns them: only known keys, each of its type (validateConfig). */
export type ConfigFile = Partial<Omit<PanelConfig, 'configPath'>> & {
  /** `serve`'s Bearer token for the JSON API (MAILHEALTH_ADMIN_TOKEN wins over it). */
  adminToken?: string;
};

/**
 * A config file that is there but cannot be used: not valid JSON, not a JSON object, or a key whose value is of the
 * wrong type. A PanelError('other') as before (the CLI reports it as a configuration error, exit 2: cli/context.ts
 * readConfig). A file this user cannot read stays a plain PanelError: for the token it is "no token" (needToken).
 */
export class ConfigError extends PanelError {
  constructor(message: string) {
    super('other', message);
    this.name = 'ConfigError';
  }
}

interface KeySpec {
  type: 'string' | 'boolean' | 'kind' | 'bins';
  /** What the value is, for a message that tells the admin what to write. */
  what: string;
  /** A secret: its value is never shown in a message (only "the value of token"). */
  secret?: boolean;
  /**
   * An empty string is the key left out. Only for the secrets, where none is the safe reading (no admin token: no
   * Bearer access; no panel token: MAILHEALTH_PANEL_TOKEN or a "no API token" error) and an empty "adminToken" has
   * always meant none. Any other key given empty is refused, as an empty flag is (cli/context.ts checkNamingOptions):
   * read as absent it would fall back silently (an empty panelUrl: the local CLI instead of the panel named).
   */
  emptyIsUnset?: boolean;
}

/**
 * The keys of config.json (README "CLI", the config file). `root` and `bins` are for sandboxes and unusual layouts
 * (tests, an installer test's kept config) and have always been read from the file, so they stay known keys.
 */
export const CONFIG_KEYS: Readonly<Record<string, KeySpec>> = {
  panel: { type: 'kind', what: 'the panel kind' },
  panelRoot: { type: 'string', what: "the files panel's directory, the one with panel.json" },
  panelUrl: { type: 'string', what: "the URL of the panel's API, https://…" },
  panelUser: { type: 'string', what: 'the panel account the token belongs to' },
  token: { type: 'string', what: "the panel's API token", secret: true, emptyIsUnset: true },
  ca: { type: 'string', what: "the PEM file of the panel's certificate" },
  insecure: { type: 'boolean', what: 'true: accept any panel certificate' },
  adminToken: { type: 'string', what: "serve's Bearer token for the JSON API", secret: true, emptyIsUnset: true },
  root: { type: 'string', what: 'the filesystem root for server files (default /)' },
  bins: { type: 'bins', what: 'paths of the panel command-line tools: {"uapi": …, "whmapi1": …, "plesk": …}' },
};

const BIN_KEYS = ['uapi', 'whmapi1', 'plesk'] as const;

/**
 * Other spellings of a key that are no typo of it: the command-line flag's name (`panel-ca` is the key `ca`) and the
 * HTTPS client's option name. Compared after `normalKey`.
 */
const ALIASES: Readonly<Record<string, string>> = {
  panelca: 'ca',
  cafile: 'ca',
  panelinsecure: 'insecure',
  paneltoken: 'token',
  apitoken: 'token',
};

/** A key as compared for a suggestion: case, `-`, `_` and spaces do not matter (`panel-url`, `PanelURL` → panelUrl). */
function normalKey(k: string): string {
  return k.toLowerCase().replace(/[-_\s]/g, '');
}

/** Edit distance with adjacent transpositions counting one (`tokne` is one step from `token`). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The known key an unknown one was probably meant to be, or undefined when none is close. */
export function nearestKey(key: string, known: readonly string[] = Object.keys(CONFIG_KEYS)): string | undefined {
  const n = normalKey(key);
  const exact = known.find((k) => normalKey(k) === n) ?? (ALIASES[n] && known.includes(ALIASES[n]) ? ALIASES[n] : undefined);
  if (exact) return exact;
  // At most two edits, and fewer for a short key (any two-letter key is two edits from "ca").
  const limit = Math.max(1, Math.min(2, Math.floor(n.length / 3)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const k of known) {
    const dist = editDistance(n, normalKey(k));
    if (dist < bestDistance) [best, bestDistance] = [k, dist];
  }
  return best;
}

/** A key name from the file, for a message: JSON-quoted (escaped), and cut short (the name is the file's text). */
function keyName(k: string): string {
  return jsonText(k.length > 40 ? `${k.slice(0, 40)}…` : k);
}

/** What a wrong value is, for a message: its type, and the value itself when it is short and not a secret. */
function described(v: unknown, spec: KeySpec, key: string): string {
  const kind = Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v === 'object' ? 'an object' : typeof v === 'string' ? 'a string' : typeof v === 'number' ? 'a number' : typeof v === 'boolean' ? 'a boolean' : typeof v;
  if (spec.secret) return `the value of ${key} is ${kind}`;
  if (typeof v === 'string') return `got the string ${jsonText(v.length > 60 ? `${v.slice(0, 60)}…` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `got the ${typeof v} ${String(v)}`;
  return `got ${kind}`;
}

function checkString(key: string, v: unknown, spec: KeySpec, problems: string[]): string | undefined {
  if (typeof v !== 'string') {
    problems.push(`"${key}" must be a string (${spec.what}), but ${described(v, spec, key)}`);
    return undefined;
  }
  if (v.trim() === '') {
    if (spec.emptyIsUnset) return undefined;
    problems.push(`"${key}" is empty: give ${spec.what}, or leave the key out`);
    return undefined;
  }
  return v;
}

function checkBoolean(key: string, v: unknown, spec: KeySpec, problems: string[]): boolean | undefined {
  if (typeof v === 'boolean') return v;
  // The string "false" is truthy: read as it was, `"insecure": "false"` turned certificate checking OFF.
  const word = typeof v === 'string' ? v.trim().toLowerCase() : '';
  if (word === 'true' || word === 'false') {
    problems.push(`"${key}" is the string ${jsonText(v)}, not a JSON boolean: write "${key}": ${word} (no quotes), or leave the key out`);
  } else {
    problems.push(`"${key}" must be true or false, without quotes (${spec.what}), but ${described(v, spec, key)}`);
  }
  return undefined;
}

function checkKind(key: string, v: unknown, spec: KeySpec, problems: string[]): PanelKind | undefined {
  if (typeof v === 'string' && (KINDS as readonly string[]).includes(v)) return v as PanelKind;
  const lower = typeof v === 'string' ? v.trim().toLowerCase() : '';
  const hint = (KINDS as readonly string[]).includes(lower) ? `: write "${key}": "${lower}"` : '';
  const quoted = KINDS.map((k) => `"${k}"`);
  problems.push(`"${key}" must be ${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]} (${described(v, spec, key)})${hint}`);
  return undefined;
}

function checkBins(key: string, v: unknown, spec: KeySpec, problems: string[], warnings: string[]): PanelConfig['bins'] {
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    problems.push(`"${key}" must be an object (${spec.what}), but ${described(v, spec, key)}`);
    return undefined;
  }
  const out: NonNullable<PanelConfig['bins']> = {};
  for (const [k, p] of Object.entries(v)) {
    if ((BIN_KEYS as readonly string[]).includes(k)) {
      if (p === null) continue;
      const path = checkString(`${key}.${k}`, p, { type: 'string', what: `the path of ${k}` }, problems);
      if (path !== undefined) out[k as (typeof BIN_KEYS)[number]] = path;
    } else {
      const near = nearestKey(k, BIN_KEYS);
      warnings.push(`unknown key ${keyName(`${key}.${k}`)} ignored${near ? ` — did you mean "${key}.${near}"?` : ` (known: ${BIN_KEYS.join(', ')})`}`);
    }
  }
  return out;
}

/**
 * The config file's object checked key by key: each known key of its type (a JSON boolean is `true`/`false`, never the
 * string "false"; a panel kind one of four; a path or URL a non-empty string), `null` taken for a key left out (as it
 * always was). Every bad key is a problem, all of them said in one ConfigError naming the file — never a secret's value.
 * An unknown key is a warning, not an error: a config kept across upgrades and downgrades may hold a key another version
 * knows, and refusing it would stop the service (exit 2 is not restarted). Ignoring one never loosens anything: the
 * only key that relaxes a check (`insecure`) must be spelled right to take effect.
 */
export function validateConfig(raw: unknown, path: string): { config: ConfigFile; warnings: string[] } {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`config file ${path} is not valid JSON: not a JSON object`);
  const problems: string[] = [];
  const warnings: string[] = [];
  const config: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(raw)) {
    const spec = Object.hasOwn(CONFIG_KEYS, key) ? CONFIG_KEYS[key] : undefined;
    if (!spec) {
      // Only the name: the value of a misspelled key may be a secret ("tokne").
      const near = nearestKey(key);
      warnings.push(`unknown key ${keyName(key)} ignored${near ? ` — did you mean "${near}"?` : ` (this version knows ${Object.keys(CONFIG_KEYS).join(', ')})`}`);
      continue;
    }
    if (v === null) continue;
    const value =
      spec.type === 'boolean'
        ? checkBoolean(key, v, spec, problems)
        : spec.type === 'kind'
          ? checkKind(key, v, spec, problems)
          : spec.type === 'bins'
            ? checkBins(key, v, spec, problems, warnings)
            : checkString(key, v, spec, problems);
    if (value !== undefined) config[key] = value;
  }
  if (problems.length) throw new ConfigError(`config file ${path}: ${problems.join('; ')}`);
  return { config: config as ConfigFile, warnings: warnings.map((w) => `config file ${path}: ${w}`) };
}

/** Warnings already written by this process: the config is read more than once per run (panel, token, admin token). */
const warned = new Set<string>();

/** The default warning sink: one escaped line on stderr, each warning once per process. */
function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  process.stderr.write(`mailhealth: warning: ${escapeControls(message)}\n`);
}

/**
 * Read and check the JSON config file (validateConfig): a missing file is an empty config; one that cannot be read,
 * is not a JSON object or has a key of the wrong type is a ConfigError naming the file and the key; an unknown key is
 * passed to `warn` (default: stderr, once per process) and left out. Only known keys are returned.
 */
export function loadConfig(path = DEFAULT_CONFIG_PATH, warn: (message: string) => void = warnOnce): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new PanelError('other', `cannot read config file ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text) as unknown;
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  const { config, warnings } = validateConfig(raw, path);
  for (const w of warnings) warn(w);
  return config;
}

/**
 * The panel token: the config's (as the caller resolved it), else MAILHEALTH_PANEL_TOKEN, else the config file's. An
 * empty one is none (an empty MAILHEALTH_PANEL_TOKEN counts as unset, as an empty MAILHEALTH_DB does).
 */
function resolveToken(config: PanelConfig): string | undefined {
  return config.token || process.env.MAILHEALTH_PANEL_TOKEN || loadConfig(config.configPath).token || undefined;
}

function needToken(config: PanelConfig, what: string): string {
  let t: string | undefined;
  // A config file this user cannot read (the installed one is root's, 0600) holds no token for this user: said as the
  // missing token it is, with why the file did not give one — not as a panel failure.
  let unreadable = '';
  try {
    t = resolveToken(config);
  } catch (e) {
    // A file that is there but wrong (not JSON, a key of the wrong type) is said as what it is, not as a missing token.
    if (!(e instanceof PanelError) || e instanceof ConfigError) throw e;
    unreadable = ` — ${e.message}`;
  }
  if (!t) {
    throw new PanelError(
      'auth',
      `no API token for ${what}: set MAILHEALTH_PANEL_TOKEN or "token" in ${config.configPath ?? DEFAULT_CONFIG_PATH} (tokens are never taken from the command line)${unreadable}`,
    );
  }
  return t;
}

function needUser(config: PanelConfig, what: string): string {
  if (!config.panelUser) throw new PanelError('other', `${what} over HTTPS needs --panel-user (the account the token belongs to)`);
  return config.panelUser;
}

export function createPanel(config: PanelConfig): Panel {
  switch (config.panel) {
    case 'files': {
      if (!config.panelRoot) throw new PanelError('other', 'the files panel needs --panel-root DIR');
      return new FilesPanel(config.panelRoot);
    }
    case 'cpanel': {
      if (config.panelUrl) {
        const user = needUser(config, 'cPanel');
        const client = new PanelHttpClient({
          baseUrl: config.panelUrl,
          caFile: config.ca,
          insecure: config.insecure,
          label: 'cPanel',
          headers: { authorization: `cpanel ${user}:${needToken(config, 'cPanel')}` },
        });
        return new CpanelPanel({ transport: new UapiHttp(client), user });
      }
      // On the server: the uapi CLI, as the current user (or as --panel-user when running as root).
      const me = userInfo().username;
      const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
      const user = config.panelUser ?? me;
      return new CpanelPanel({ transport: new UapiCli(config.bins?.uapi, asRoot && user !== 'root' ? user : undefined), user, root: config.root ?? '/' });
    }
    case 'whm': {
      if (config.panelUrl) {
        const user = config.panelUser ?? 'root';
        const client = new PanelHttpClient({
          baseUrl: config.panelUrl,
          caFile: config.ca,
          insecure: config.insecure,
          label: 'WHM',
          headers: { authorization: `whm ${user}:${needToken(config, 'WHM')}` },
        });
        return new WhmPanel({ transport: new WhmHttp(client), user, root: config.root ?? null });
      }
      return new WhmPanel({ transport: new WhmCli(config.bins?.whmapi1), user: 'root', root: config.root ?? '/' });
    }
    case 'plesk': {
      const key = needToken(config, 'Plesk');
      // Without --panel-url we are on the Plesk server: REST on loopback. Plesk's certificate is issued for the host
      // name, not "localhost", so on loopback only (the key never leaves the machine) verification is relaxed unless a
      // CA file is given.
      const local = !config.panelUrl;
      const client = new PanelHttpClient({
        baseUrl: config.panelUrl ?? 'https://127.0.0.1:8443',
        caFile: config.ca,
        insecure: config.insecure ?? (local && !config.ca),
        label: 'Plesk',
        headers: { 'x-api-key': key },
      });
      return new PleskPanel({
        rest: client,
        apiKey: key,
        cli: local ? new PleskLocalCli(config.bins?.plesk) : new PleskRestCli(client),
        root: config.root ?? (local ? '/' : null),
      });
    }
    default:
      throw new PanelError('unsupported', `unknown panel kind ${JSON.stringify((config as { panel: unknown }).panel)} (files, cpanel, whm or plesk)`);
  }
}
