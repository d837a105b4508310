// The admin's settings that every front door must apply alike, published for the cPanel page. That page runs as the
// customer (never as root) with its own history database, so it cannot read root's: the background service writes
// these few settings — none of them secret — to a world-readable file whenever they are saved (and at start), and
// the cPanel page applies them over the customer's database before it answers.
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { MAILCHANNELS_ACCOUNT_ID, SETTING_KEYS, storedBlocklistZones } from '../core/settings.js';
import { writeLog } from './log.js';

/**
 * Root-owned, 0644, in a directory every user can search (/etc); outside /etc/mailhealth (0700: it holds the API token).
 * MAILHEALTH_SHARED_SETTINGS overrides.
 */
export const SHARED_SETTINGS_PATH = '/etc/mailhealth-settings.json';

/** What the cPanel page must see as the admin set it: the MailChannels account id, the blocklist choice, the resolver. */
export const SHARED_KEYS = [SETTING_KEYS.mailchannelsAccountId, SETTING_KEYS.blocklists, SETTING_KEYS.blocklistZones, SETTING_KEYS.dnsResolver] as const;

export function sharedSettingsPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.MAILHEALTH_SHARED_SETTINGS || SHARED_SETTINGS_PATH;
}

/**
 * Writes the shared settings (atomically, 0644). Never throws: a failure is logged and the page keeps its own.
 *
 * The mode is set with chmod, not only at creation: the service runs with UMask=0077 (install/mailhealth.service),
 * which would turn a created 0644 into 0600 — unreadable by the customer's page, which then silently kept its own
 * settings. A missing directory is created 0755 (chmod too, same reason). An existing directory others cannot search
 * is never loosened here (it could be /etc/mailhealth, 0700 because it holds the API token): it is reported instead.
 */
export function publishSharedSettings(store: { getSetting<T = unknown>(key: string): T | undefined }, path = sharedSettingsPath()): void {
  const values: Record<string, unknown> = {};
  for (const k of SHARED_KEYS) {
    const v = store.getSetting(k);
    if (v !== undefined) values[k] = v;
  }
  const tmp = `${path}.${process.pid}.tmp`;
  let wrote = false;
  try {
    makeSearchableDir(dirname(resolve(path)));
    writeFileSync(tmp, JSON.stringify(values, null, 1) + '\n', { mode: 0o644 });
    wrote = true;
    chmodSync(tmp, 0o644);
    renameSync(tmp, path);
    wrote = false;
  } catch (e) {
    if (wrote) {
      try {
        rmSync(tmp, { force: true });
      } catch {
        /* reported below with the cause */
      }
    }
    writeLog(`could not publish the shared settings to ${path} (${(e as Error).message}); the cPanel page keeps its own`);
    return;
  }
  const closed = unsearchableDirs(path);
  if (closed.length) {
    writeLog(
      `published the shared settings to ${path}, but ${closed.join(', ')} ${closed.length === 1 ? 'is' : 'are'} not searchable by others, ` +
        `so the cPanel page (running as each customer) cannot reach it and keeps its own settings; publish it in a directory others can search (chmod o+x), e.g. the default ${SHARED_SETTINGS_PATH}`,
    );
  }
}

/** Creates `dir` (and missing parents) 0755 whatever the umask; leaves existing directories as they are. */
function makeSearchableDir(dir: string): void {
  const first = mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (!first) return;
  // Every directory just created, from the first one down to `dir`.
  const made = [first];
  for (const part of relative(first, dir).split(sep).filter(Boolean)) made.push(join(made[made.length - 1], part));
  for (const d of made) chmodSync(d, 0o755);
}

/** The directories on the way to `path` that others (the customer's page) cannot search (no o+x). */
function unsearchableDirs(path: string): string[] {
  const out: string[] = [];
  let dir = dirname(resolve(path));
  for (;;) {
    try {
      if ((statSync(dir).mode & 0o001) === 0) out.push(dir);
    } catch {
      /* vanished meanwhile: nothing to report */
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return out.reverse();
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
  if (id !== undefined && !(typeof id === 'string' && MAILCHANNELS_ACCOUNT_ID.test(id))) out[SETTING_KEYS.mailchannelsAccountId] = undefined;
  if (out[SETTING_KEYS.blocklists] !== undefined && typeof out[SETTING_KEYS.blocklists] !== 'boolean') out[SETTING_KEYS.blocklists] = undefined;
  if (out[SETTING_KEYS.blocklistZones] !== undefined) out[SETTING_KEYS.blocklistZones] = storedBlocklistZones(out[SETTING_KEYS.blocklistZones]) ?? undefined;
  const r = out[SETTING_KEYS.dnsResolver];
  if (r !== undefined && !(typeof r === 'string' && r.length <= 64)) out[SETTING_KEYS.dnsResolver] = undefined;
  return out;
}
