// The admin's settings that every front door must apply alike, published for the cPanel page. That page runs as the
// customer (never as root) with its own history database, so it cannot read root's: the background service writes
// these few settings — none of them secret — to a world-readable file whenever they are saved (and at start), and
// the cPanel page applies them over the customer's database before it answers.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { SETTING_KEYS } from '../web/settings.js';

/** Root-owned, 0644; outside /etc/mailhealth (0700: it holds the API token). MAILHEALTH_SHARED_SETTINGS overrides. */
export const SHARED_SETTINGS_PATH = '/etc/mailhealth-settings.json';

/** What the cPanel page must see as the admin set it: the MailChannels account id, the blocklist choice, the resolver. */
export const SHARED_KEYS = [SETTING_KEYS.mailchannelsAccountId, SETTING_KEYS.blocklists, SETTING_KEYS.dnsResolver] as const;

export function sharedSettingsPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.MAILHEALTH_SHARED_SETTINGS || SHARED_SETTINGS_PATH;
}

/** Writes the shared settings (atomically, 0644). Never throws: a failure is logged and the page keeps its own. */
export function publishSharedSettings(store: { getSetting<T = unknown>(key: string): T | undefined }, path = sharedSettingsPath()): void {
  const values: Record<string, unknown> = {};
  for (const k of SHARED_KEYS) {
    const v = store.getSetting(k);
    if (v !== undefined) values[k] = v;
  }
  try {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(values, null, 1) + '\n', { mode: 0o644 });
    renameSync(tmp, path);
  } catch (e) {
    process.stderr.write(`mailhealth: could not publish the shared settings to ${path} (${(e as Error).message}); the cPanel page keeps its own\n`);
  }
}

/**
 * The published settings, to apply over a front door's own database: every shared key (absent = cleared), or null
 * when there is no readable, well-formed file (nothing published yet).
 */
export function readSharedSettings(path = sharedSettingsPath()): Record<string, unknown> | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const raw = parsed as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of SHARED_KEYS) out[k] = raw[k];
  // Only the shapes the settings page stores: anything else is ignored (left as the page's own).
  const id = out[SETTING_KEYS.mailchannelsAccountId];
  if (id !== undefined && !(typeof id === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(id))) out[SETTING_KEYS.mailchannelsAccountId] = undefined;
  if (out[SETTING_KEYS.blocklists] !== undefined && typeof out[SETTING_KEYS.blocklists] !== 'boolean') out[SETTING_KEYS.blocklists] = undefined;
  const r = out[SETTING_KEYS.dnsResolver];
  if (r !== undefined && !(typeof r === 'string' && r.length <= 64)) out[SETTING_KEYS.dnsResolver] = undefined;
  return out;
}
