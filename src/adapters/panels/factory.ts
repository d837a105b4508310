// Picks and wires the panel adapter from configuration. The API token comes from MAILHEALTH_PANEL_TOKEN or the
// config file — never from the command line (argv is visible to every user on the server via ps).
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Panel } from '../../core/panel.js';
import { PanelError } from '../../core/panel.js';
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

/** Read the JSON config file; a missing file is an empty config. Keys as in PanelConfig. */
export function loadConfig(path = DEFAULT_CONFIG_PATH): Partial<PanelConfig> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new PanelError('other', `cannot read config file ${path}: ${(e as Error).message}`);
  }
  try {
    const o = JSON.parse(text) as unknown;
    if (!o || typeof o !== 'object' || Array.isArray(o)) throw new Error('not a JSON object');
    return o as Partial<PanelConfig>;
  } catch (e) {
    throw new PanelError('other', `config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

function resolveToken(config: PanelConfig): string | undefined {
  return config.token ?? process.env.MAILHEALTH_PANEL_TOKEN ?? loadConfig(config.configPath).token ?? undefined;
}

function needToken(config: PanelConfig, what: string): string {
  let t: string | undefined;
  // A config file this user cannot read (the installed one is root's, 0600) holds no token for this user: said as the
  // missing token it is, with why the file did not give one — not as a panel failure.
  let unreadable = '';
  try {
    t = resolveToken(config);
  } catch (e) {
    if (!(e instanceof PanelError)) throw e;
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
