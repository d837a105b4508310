// The admin's settings as every surface reads them: the keys they are stored under, their defaults, and what a stored
// value must be to be used. The settings page (src/web/settings.ts) edits them; the CLI, the nightly report, the
// background service and the cPanel page's shared copy read them — all through this module, so no surface needs
// another's code to know what a setting means. Pure: values in, values out (the store is passed in).
import type { AuditOptions } from './checks/context.js';
import { checkDomain } from './domain.js';

export const SETTING_KEYS = {
  /** The hosting company's MailChannels account id (src/adapters/panels/with-settings.ts applies it over the panel's relay). */
  mailchannelsAccountId: 'mailchannels.accountId',
  reportSchedule: 'report.schedule',
  /** string | string[]: the admin's recipients of the nightly report (read with splitAddresses, src/core/recipients.ts). */
  reportRecipients: 'report.recipients',
  /** The schedule's time zone; the report dates its nights in it. */
  reportTimezone: 'report.timezone',
  /** The address of this app's pages for the report's links (baseUrlProblem says what will do). */
  reportBaseUrl: 'report.baseUrl',
  dnsResolver: 'dns.resolver',
  blocklists: 'audit.blocklists',
  /** The DNS blocklist zones queried when blocklists are on (a list of names; unset: DEFAULT_BLOCKLISTS). */
  blocklistZones: 'audit.blocklistZones',
  retentionDays: 'retention.days',
} as const;

/** What reads settings: the store, or anything holding the same values. */
export interface SettingsReader {
  getSetting<T = unknown>(key: string): T | undefined;
}

/**
 * Nightly report schedule fields fixed on the `mailhealth serve` / `mailhealth service` command line (--report-cron,
 * --report-tz): they win over the settings page, which says so next to the field.
 */
export interface ScheduleOverrides {
  cronExpr?: string;
  timezone?: string;
}

/** The report schedule when none is saved: 03:00 every day. */
export const DEFAULT_CRON = '0 3 * * *';

/** A MailChannels account id as the MailChannels console writes one. */
export const MAILCHANNELS_ACCOUNT_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** History kept (retention.days, `prune --days`): whole days in this range; unset, 90. */
export const RETENTION_DAYS = [1, 3650] as const;
export const DEFAULT_RETENTION_DAYS = 90;

/**
 * Queried for ptr.listed when blocklists are on and the admin has not chosen others. (Not in src/knowledge: its files
 * give a source per entry, and none is recorded for this choice.)
 */
export const DEFAULT_BLOCKLISTS = ['zen.spamhaus.org', 'bl.spamcop.net', 'b.barracudacentral.org'];
export const MAX_BLOCKLISTS = 10;

/** The zones of a stored list when it is one the settings page would store (1–10 valid names), else null. */
export function storedBlocklistZones(v: unknown): string[] | null {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_BLOCKLISTS) return null;
  const out: string[] = [];
  for (const z of v) {
    if (typeof z !== 'string') return null;
    const d = checkDomain(z);
    if (!d.ok) return null;
    out.push(d.domain);
  }
  return out;
}

/** The blocklist zones in force: the admin's list, else DEFAULT_BLOCKLISTS. */
export function blocklistZones(store: SettingsReader): string[] {
  return storedBlocklistZones(store.getSetting<unknown>(SETTING_KEYS.blocklistZones)) ?? DEFAULT_BLOCKLISTS;
}

/** The audit options the admin's settings ask for (blocklists for ptr.listed), the same on every surface. */
export function auditOptionsFrom(store: SettingsReader): AuditOptions {
  return store.getSetting<boolean>(SETTING_KEYS.blocklists) === true ? { blocklists: blocklistZones(store) } : {};
}

/** The longest address the report's links are built on. */
export const MAX_BASE_URL = 2048;

/**
 * What is wrong with a base URL for the report's links, or null when it will do: an absolute http(s) URL without user
 * name or password (it would go out in every email), without a query or a fragment (each link is the URL followed by
 * `/domains/<domain>`), no spaces or control characters. The settings page, `--base-url` and the report's reading of
 * the saved one all check with this.
 */
export function baseUrlProblem(v: string): string | null {
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(v)) return 'no spaces or control characters';
  if (v.length > MAX_BASE_URL) return `at most ${MAX_BASE_URL} characters (it is in every link of every report)`;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return 'not an absolute URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'only http:// and https:// URLs';
  if (u.username || u.password || /^[a-z]+:\/\/[^/?#]*@/i.test(v)) return 'no user name or password in it';
  if (v.includes('#')) return 'no "#" part';
  if (v.includes('?')) return 'no "?" part: each link adds /domains/<domain> to the URL';
  return null;
}
