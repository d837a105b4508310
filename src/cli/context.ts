// Wiring shared by CLI commands (and `serve`): options → panel, resolver, store, identity.
import { jsonText } from '../core/text.js';
import { isIP } from 'node:net';
import { createResolver, parseServer, type ResolverOptions, type WireResolver } from '../adapters/dns/resolver.js';
import { createPanel, loadConfig, DEFAULT_CONFIG_PATH, type ConfigFile, type PanelConfig, type PanelKind } from '../adapters/panels/factory.js';
import { openStore, type Store } from '../adapters/store/store.js';
import { resolveDbPath } from '../adapters/store/path.js';
import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { withSettings, type SettingsSource } from '../adapters/panels/with-settings.js';
import type { AuditOptions } from '../core/checks/context.js';
import { auditOptionsFrom, RETENTION_DAYS, SETTING_KEYS } from '../core/settings.js';
import { normalizeDomain } from '../core/domain.js';
import type { Identity } from '../core/model.js';
import { PanelError, type Panel } from '../core/panel.js';
import type { Resolver } from '../core/resolver.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * A numeric option: a whole decimal number from `min` to `max` — digits only (no sign, exponent, hex, fraction or
 * spaces: `Number()` alone takes "0x10" for 16, "1e3" for 1000 and "" for 0), and a range a run can use (a huge
 * value is an overflow further down, not a request). A number (set programmatically) must be a whole one in range.
 */
export function wholeNumber(flag: string, v: string | number, min: number, max: number): number {
  const n = typeof v === 'number' ? v : /^[0-9]{1,15}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} takes a whole number from ${min} to ${max} (got ${JSON.stringify(typeof v === 'number' ? String(v) : v)})`);
  }
  return n;
}

/**
 * The global numeric options — and --resolver, an address like them — checked before any command runs (main's
 * preAction hook): UsageError when bad, whatever the command (one that does not use them still refuses a bad value).
 */
export function checkGlobalNumbers(o: GlobalOptions): void {
  if (o.authoritativePort !== undefined) wholeNumber('--authoritative-port', o.authoritativePort, ...RANGES.authoritativePort);
  if (o.concurrency !== undefined) wholeNumber('--concurrency', o.concurrency, ...RANGES.concurrency);
  checkResolver(o);
}

/**
 * --resolver: an IP address with an optional port. An empty one (`--resolver "$UNSET"`) is a usage error, as an empty
 * --db or --config is: taken for none, the command would silently ask the system resolver instead.
 */
export function checkResolver(o: Pick<GlobalOptions, 'resolver'>): void {
  if (o.resolver === undefined) return;
  if (o.resolver === '') throw new UsageError('--resolver needs an address: an IP address with an optional port, e.g. 127.0.0.1:5353 or [::1]:53 (got an empty one)');
  const { host, port } = parseServer(o.resolver);
  if (!host || isIP(host) === 0 || (port !== null && (port < 1 || port > 65535))) {
    throw new UsageError(`--resolver takes an IP address with an optional port, e.g. 127.0.0.1:5353 or [::1]:53 (got ${JSON.stringify(o.resolver)})`);
  }
}

/** The ranges of the numeric options (README "CLI"). */
export const RANGES = {
  port: [0, 65535],
  authoritativePort: [1, 65535],
  concurrency: [1, 1024],
  threads: [0, 64],
  limit: [1, 10_000],
  /** `prune --days`: the settings page's retention range. */
  days: RETENTION_DAYS,
  qps: [1, 100_000],
} as const satisfies Record<string, readonly [number, number]>;

/** What a failure is, in the `--json` error object (README "CLI"). */
export type CliErrorKind = 'usage' | 'panel' | 'store' | 'plan' | 'interrupted' | 'internal';

/**
 * A failure under --json: one object on stdout, `{"error": {"kind", "message", "code"?}}` (`code`: the panel's or the
 * store's error code), so a script tells it from a command's result. The human line on stderr is written as well.
 */
export function printJsonError(kind: CliErrorKind, message: string, code?: string): void {
  process.stdout.write(jsonText({ error: { kind, message, ...(code ? { code } : {}) } }, 2) + '\n');
}

/**
 * A command's JSON answer on stdout (`fix`, `undo`, `verify`, `history`): one JSON value and a newline. The changes in
 * them come without the history's copy counts: core's outcomes (withoutCopies) and the history as listed
 * (shownStoredChange) leave them out, as the web API's answers do.
 */
export function printJson(value: unknown, space?: number): void {
  process.stdout.write(jsonText(value, space) + '\n');
}

export interface GlobalOptions {
  panel?: string;
  panelRoot?: string;
  panelUrl?: string;
  panelUser?: string;
  panelCa?: string;
  panelInsecure?: boolean;
  config?: string;
  resolver?: string;
  /** Port for asking authoritative servers directly (verification); the demo sets it. 1–65535. */
  authoritativePort?: number | string;
  concurrency?: string | number;
  db?: string;
  as?: string;
  json?: boolean;
}

const KINDS: PanelKind[] = ['files', 'cpanel', 'whm', 'plesk'];

/**
 * The installed config (/etc/mailhealth/config.json) when --config is not given: read when it exists and this user
 * may read it (root on an installed server: `mailhealth audit --all` uses the configured panel), else nothing — the
 * file is root's (0600), and other users pass --config or the panel flags.
 */
export function defaultConfig(path = DEFAULT_CONFIG_PATH): ConfigFile {
  try {
    accessSync(path, fsConstants.R_OK);
  } catch {
    return {};
  }
  return readConfig(path);
}

/**
 * loadConfig, with a config file that cannot be read, is not valid JSON or has a key of the wrong type (`"insecure":
 * "false"`, `"panelRoot": 5`: loadConfig checks every key once, here, before any command uses one) reported as what it
 * is: a configuration error (UsageError: exit 2, `kind: "usage"` under --json; README "CLI"), not a panel error. An
 * unknown key is a warning on stderr (loadConfig), not an error.
 */
export function readConfig(path = DEFAULT_CONFIG_PATH): ConfigFile {
  try {
    return loadConfig(path);
  } catch (e) {
    if (e instanceof PanelError) throw new UsageError(e.message);
    throw e;
  }
}

/**
 * A config file named with --config must be there: a typo would otherwise be read as an empty config (loadConfig
 * takes a missing file for none, which only the default path may be) and the command would run without the panel,
 * token or admin token it names. UsageError (exit 2) naming the path; main checks this before any command starts.
 */
export function checkConfigPath(o: Pick<GlobalOptions, 'config'>): void {
  if (o.config === undefined) return;
  if (o.config === '') throw new UsageError('--config needs the path of a config file (got an empty one)');
  let isFile: boolean;
  try {
    isFile = statSync(o.config).isFile();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return; // e.g. not readable by this user: loadConfig says so
    throw new UsageError(
      `--config ${JSON.stringify(o.config)}: no such file (a config file named on the command line must exist; only the default, ${DEFAULT_CONFIG_PATH}, may be absent)`,
    );
  }
  if (!isFile) throw new UsageError(`--config ${JSON.stringify(o.config)}: not a file`);
}

/**
 * The global options that name something, given empty (`--as "$UNSET"`): usage errors, as an empty --db or --config is.
 * Read as absent they fell back silently — an empty --as acted as the admin over every domain, an empty --panel-root
 * or --panel-url took the config file's (CLI QA). main checks this before any command starts.
 */
const NAMING_OPTIONS: [keyof GlobalOptions, string, string][] = [
  ['as', '--as', 'an account name (without --as mailhealth acts as the admin)'],
  ['panel', '--panel', 'a panel kind'],
  ['panelRoot', '--panel-root', 'a directory'],
  ['panelUrl', '--panel-url', "the panel's URL"],
  ['panelUser', '--panel-user', 'a panel user name'],
  ['panelCa', '--panel-ca', 'a CA file'],
];
export function checkNamingOptions(o: Partial<GlobalOptions>): void {
  for (const [key, flag, what] of NAMING_OPTIONS) {
    const v = o[key];
    if (typeof v === 'string' && v.trim() === '') throw new UsageError(`${flag} needs ${what} (got an empty one)`);
  }
}

/**
 * `--db ""` (e.g. `--db "$UNSET"`) is a usage error, as an empty --config is: resolveDbPath takes an empty path for
 * none and would fall back to MAILHEALTH_DB or the default database — `history` would show the system's history,
 * `audit` and `fix --apply` would write to it. main checks this before any command starts.
 */
export function checkDbPath(o: Pick<GlobalOptions, 'db'>): void {
  if (o.db === '') throw new UsageError('--db needs the path of a history database (got an empty one)');
}

/** The history database path: --db (never empty: checkDbPath), else MAILHEALTH_DB when set and non-empty, else the default. */
export function dbPathFromOptions(o: Pick<GlobalOptions, 'db'>): string {
  checkDbPath(o);
  return resolveDbPath({ flag: o.db });
}

/**
 * Whether the history database path was named (--db, or a non-empty MAILHEALTH_DB — an empty one is unset, as
 * resolveDbPath reads it) rather than the default: a database missing there is a typo, not a fresh install.
 */
export function dbPathNamed(o: Pick<GlobalOptions, 'db'>): boolean {
  return o.db !== undefined || Boolean(process.env.MAILHEALTH_DB);
}

/** The config: the file --config names (which must exist), else the installed one when there (defaultConfig). */
export function configFromOptions(o: Pick<GlobalOptions, 'config'>): ConfigFile {
  if (o.config === undefined) return defaultConfig();
  checkConfigPath(o);
  return readConfig(o.config);
}

export function panelFromOptions(o: GlobalOptions): Panel {
  // The file's keys are checked (types, panel kind) when it is read: a bad "panel" there is refused naming the file.
  const { token: fileToken, adminToken: _adminToken, ...fileCfg } = configFromOptions(o);
  const kind = (o.panel ?? fileCfg.panel ?? 'files') as PanelKind;
  if (!KINDS.includes(kind)) throw new UsageError(`--panel must be one of ${KINDS.join(', ')} (got ${JSON.stringify(o.panel)})`);
  const cfg: PanelConfig = {
    ...fileCfg,
    panel: kind,
    ...(o.panelRoot ? { panelRoot: o.panelRoot } : {}),
    ...(o.panelUrl ? { panelUrl: o.panelUrl } : {}),
    ...(o.panelUser ? { panelUser: o.panelUser } : {}),
    ...(o.panelCa ? { ca: o.panelCa } : {}),
    ...(o.panelInsecure ? { insecure: true } : {}),
    // MAILHEALTH_PANEL_TOKEN wins over the file's "token" (README): the file's is passed only when it is not set.
    ...(fileToken && !process.env.MAILHEALTH_PANEL_TOKEN ? { token: fileToken } : {}),
    configPath: o.config ?? DEFAULT_CONFIG_PATH,
  };
  if (kind === 'files' && !cfg.panelRoot) throw new UsageError('the files panel needs --panel-root DIR (the directory with panel.json)');
  return createPanel(cfg);
}

export function resolverFromOptions(o: GlobalOptions): WireResolver {
  return createResolver(resolverOptionsFrom(o));
}

/** The wire resolver's options from --resolver / --authoritative-port (also what bulk-audit worker threads build theirs from). */
export function resolverOptionsFrom(o: GlobalOptions): ResolverOptions {
  checkResolver(o);
  return { ...(o.resolver !== undefined ? { servers: [o.resolver] } : {}), concurrency: 64, ...authoritativePortFrom(o) };
}

/** --authoritative-port checked (1–65535), as resolver options: a bad one is a usage error, never a socket's RangeError. */
function authoritativePortFrom(o: GlobalOptions): { authoritativePort?: number } {
  if (o.authoritativePort === undefined) return {};
  return { authoritativePort: wholeNumber('--authoritative-port', o.authoritativePort, ...RANGES.authoritativePort) };
}

export function concurrencyFromOptions(o: GlobalOptions): number {
  if (o.concurrency === undefined) return 16;
  return wholeNumber('--concurrency', o.concurrency, ...RANGES.concurrency);
}

export function storeFromOptions(o: GlobalOptions): Store {
  return openStore(dbPathFromOptions(o));
}

/**
 * The CLI's identity: --as USER (an account the panel knows), else the panel's first admin, else the only account.
 * A panel that lists no account at all is a panel (configuration or credentials) problem, not a missing --as:
 * PanelError('other') — kind "panel", exit 2.
 */
export async function identityFromOptions(panel: Panel, o: GlobalOptions): Promise<Identity> {
  const accounts = await panel.listAccounts();
  if (accounts.length === 0) {
    const check = panel.kind === 'files' ? "the accounts in the panel's panel.json (--panel-root)" : "the panel's configuration and credentials (its URL, the panel user and the API token)";
    throw new PanelError('other', `the ${panel.kind} panel lists no accounts (not even an admin): check ${check}`);
  }
  if (o.as) {
    const a = accounts.find((x) => x.user === o.as);
    if (!a) throw new UsageError(`--as ${o.as}: the panel has no such account`);
    return { user: a.user, role: a.role };
  }
  const admin = accounts.find((a) => a.role === 'admin');
  if (admin) return { user: admin.user, role: 'admin' };
  if (accounts.length === 1) return { user: accounts[0].user, role: accounts[0].role };
  throw new UsageError('several accounts and no admin: say which one with --as USER');
}

/** `audit --all` with domain names: both would be a guess at which one was meant (the names were silently dropped). */
export const ALL_WITH_DOMAINS = '--all audits every domain in scope; name domains or give --all, not both';

/** Validate the domains given on the command line and check they are in the identity's scope. */
export async function domainsInScope(panel: Panel, identity: Identity, args: string[], all: boolean): Promise<{ domain: string; owner: string }[]> {
  if (all && args.length) throw new UsageError(ALL_WITH_DOMAINS);
  const scope = await panel.listDomains(identity);
  if (all) return scope.map((d) => ({ domain: d.domain, owner: d.owner }));
  if (args.length === 0) throw new UsageError('name one or more domains, or use --all');
  const byName = new Map(scope.map((d) => [d.domain, d]));
  // A domain named twice (`clean.example CLEAN.example.`) is one domain: audited and recorded once, where first named.
  const out = new Map<string, { domain: string; owner: string }>();
  for (const raw of args) {
    let d: string;
    try {
      d = normalizeDomain(raw);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const ref = byName.get(d);
    if (!ref) throw new UsageError(`${d} is not a domain ${identity.user} may see on this panel`);
    if (!out.has(d)) out.set(d, { domain: d, owner: ref.owner });
  }
  return [...out.values()];
}

/**
 * The admin's stored settings (settings page / `serve`) as a read-only snapshot, so the CLI audits and fixes with the
 * same MailChannels account id and audit options as the web UI. No database yet → no settings (none is created).
 */
export function storedSettings(o: GlobalOptions): SettingsSource {
  const path = dbPathFromOptions(o);
  if (!existsSync(path)) return { getSetting: () => undefined };
  const store = openStore(path);
  try {
    const all = store.allSettings();
    return { getSetting: <T>(key: string) => all[key] as T | undefined };
  } finally {
    store.close();
  }
}

/** The panel as the admin configured it (withSettings) and the audit options from the same settings. */
export function configuredPanel(panel: Panel, settings: SettingsSource): { panel: Panel; options: AuditOptions } {
  return { panel: withSettings(panel, settings), options: auditOptionsFrom(settings) };
}

/** The resolver's options, read at each use: the --resolver flag, unless the admin chose one on the settings page. */
export function resolverOptionsFactory(o: GlobalOptions, store: Store): () => ResolverOptions {
  return () => {
    const chosen = store.getSetting<string>(SETTING_KEYS.dnsResolver);
    if (typeof chosen === 'string' && chosen && isIP(parseServer(chosen).host) !== 0) {
      return { servers: [chosen], concurrency: 64, ...authoritativePortFrom(o) };
    }
    return resolverOptionsFrom(o);
  };
}

/**
 * The resolver of `report` — the nightly run by hand or from cron: --resolver when given on its command line, else
 * the one saved on the settings page, as the nightly run of `serve` and `service` uses it (resolverOptionsFactory),
 * else the system's. Ignoring the saved one, a cron'd report asked a resolver the admin had chosen not to use.
 */
export function reportResolver(o: GlobalOptions, store: Store): WireResolver {
  return createResolver(o.resolver !== undefined ? resolverOptionsFrom(o) : resolverOptionsFactory(o, store)());
}

/** A fresh resolver per request/job, from resolverOptionsFactory. */
export function resolverFactory(o: GlobalOptions, store: Store): () => Resolver {
  const options = resolverOptionsFactory(o, store);
  return () => createResolver(options());
}
