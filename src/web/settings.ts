// Admin settings kept in the store, what the settings page edits and how the rest of the app reads them.
import { DEFAULT_CRON, FIVE_CRON_FIELDS, ScheduleError, validateCronExpr } from '../cron/scheduler.js';
import { baseUrlProblem, REPORT_SETTINGS } from '../cron/report.js';
import { splitAddresses } from '../cron/recipients.js';
import { isIP } from 'node:net';
import { parseServer } from '../adapters/dns/resolver.js';
import type { AuditOptions } from '../core/checks/context.js';
import { SETTING_MAILCHANNELS_ACCOUNT } from '../adapters/panels/with-settings.js';
import { checkDomain, mailAddressProblem } from '../core/domain.js';

export const SETTING_KEYS = {
  mailchannelsAccountId: SETTING_MAILCHANNELS_ACCOUNT,
  reportSchedule: 'report.schedule',
  reportRecipients: 'report.recipients',
  reportTimezone: REPORT_SETTINGS.timezone,
  /** The address of this app's pages for the report's links (the key the report reads). */
  reportBaseUrl: REPORT_SETTINGS.baseUrl,
  dnsResolver: 'dns.resolver',
  blocklists: 'audit.blocklists',
  /** The DNS blocklist zones queried when blocklists are on (a list of names; unset: DEFAULT_BLOCKLISTS). */
  blocklistZones: 'audit.blocklistZones',
  retentionDays: 'retention.days',
} as const;

/** Queried for ptr.listed when blocklists are on and the admin has not chosen others. */
export const DEFAULT_BLOCKLISTS = ['zen.spamhaus.org', 'bl.spamcop.net', 'b.barracudacentral.org'];
export const MAX_BLOCKLISTS = 10;

/** The zones of a stored list when it is one this page would store (1–10 valid names), else null. */
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
export function blocklistZones(store: Pick<SettingsStore, 'getSetting'>): string[] {
  return storedBlocklistZones(store.getSetting<unknown>(SETTING_KEYS.blocklistZones)) ?? DEFAULT_BLOCKLISTS;
}

export interface SettingsStore {
  getSetting<T = unknown>(key: string): T | undefined;
  setSettings(values: Record<string, unknown>): void;
}

/**
 * Nightly report schedule fields fixed on the `mailhealth serve` / `mailhealth service` command line (--report-cron,
 * --report-tz): they win over the settings page, which says so next to the field.
 */
export interface ScheduleOverrides {
  cronExpr?: string;
  timezone?: string;
}

export interface SettingsForm {
  mailchannelsAccountId: string;
  reportSchedule: string;
  reportRecipients: string;
  reportTimezone: string;
  reportBaseUrl: string;
  dnsResolver: string;
  blocklists: boolean;
  /** Comma-separated zone names. */
  blocklistZones: string;
  retentionDays: string;
}

export function readSettings(store: SettingsStore): SettingsForm {
  const str = (k: string, d = '') => {
    const v = store.getSetting(k);
    return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : d;
  };
  // Stored as a list by this page; a single string (e.g. set with sqlite3) is shown too, so saving the page never
  // drops the recipients it did not display — read as the mailer reads it (splitAddresses: "a@x, b@y" is two).
  const rec = splitAddresses(store.getSetting<unknown>(SETTING_KEYS.reportRecipients));
  return {
    mailchannelsAccountId: str(SETTING_KEYS.mailchannelsAccountId),
    reportSchedule: str(SETTING_KEYS.reportSchedule, DEFAULT_CRON),
    reportRecipients: rec.filter((r) => typeof r === 'string').join(', '),
    reportTimezone: str(SETTING_KEYS.reportTimezone, ''),
    reportBaseUrl: str(SETTING_KEYS.reportBaseUrl, ''),
    dnsResolver: str(SETTING_KEYS.dnsResolver),
    blocklists: store.getSetting<boolean>(SETTING_KEYS.blocklists) === true,
    blocklistZones: blocklistZones(store).join(', '),
    retentionDays: str(SETTING_KEYS.retentionDays, '90'),
  };
}

/** Validate the posted form; returns the problems by field, or stores every value. */
export function saveSettings(store: SettingsStore, body: Record<string, unknown>): { ok: true } | { ok: false; errors: Record<string, string>; form: SettingsForm } {
  const s = (k: string) => (typeof body[k] === 'string' ? (body[k] as string).trim() : '');
  const form: SettingsForm = {
    mailchannelsAccountId: s('mailchannelsAccountId'),
    reportSchedule: s('reportSchedule'),
    reportRecipients: s('reportRecipients'),
    reportTimezone: s('reportTimezone'),
    reportBaseUrl: s('reportBaseUrl'),
    dnsResolver: s('dnsResolver'),
    blocklists: body.blocklists === 'on' || body.blocklists === 'true' || body.blocklists === true,
    blocklistZones: s('blocklistZones'),
    retentionDays: s('retentionDays'),
  };
  const errors: Record<string, string> = {};
  // A field sent more than once (a hand-made request: the page sends each once) is refused, not read as empty — which
  // would put the default back in its place.
  for (const k of Object.keys(form) as (keyof SettingsForm)[]) {
    if (Array.isArray(body[k])) errors[k] = 'Sent more than once: send one value.';
  }
  if (form.mailchannelsAccountId && !/^[A-Za-z0-9._-]{1,64}$/.test(form.mailchannelsAccountId)) {
    errors.mailchannelsAccountId = 'Letters, digits, dot, dash and underscore only (as in the MailChannels console).';
  }
  if (form.reportSchedule) {
    try {
      // The check `--report-cron` and the background service make too (five fields: no seconds).
      validateCronExpr(form.reportSchedule);
    } catch (e) {
      // Its reason (which field, what node-cron found wrong), as --report-cron gives it; the rule if there is none.
      const why = e instanceof ScheduleError ? e.message : '';
      errors.reportSchedule = why ? `${why.charAt(0).toUpperCase()}${why.slice(1)}${/[.)]$/.test(why) ? '' : '.'}` : `${FIVE_CRON_FIELDS}.`;
    }
  }
  const recipients = splitAddresses(form.reportRecipients) as string[];
  const bad = recipients.flatMap((r) => {
    const why = mailAddressProblem(r);
    return why ? [`${r} (${why})`] : [];
  });
  if (bad.length) errors.reportRecipients = `Not an e-mail address: ${bad.join(', ')}`;
  if (form.reportTimezone) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: form.reportTimezone });
    } catch {
      errors.reportTimezone = 'An IANA time zone such as Europe/Berlin or UTC; empty means the server\'s.';
    }
  }
  if (form.reportBaseUrl) {
    const why = baseUrlProblem(form.reportBaseUrl);
    if (why) errors.reportBaseUrl = `An http:// or https:// address (${why}), e.g. https://server.example.com:8443/modules/mailhealth/index.php/index/app; empty means no links.`;
  }
  if (form.dnsResolver) {
    const { host, port } = parseServer(form.dnsResolver);
    if (!host || isIP(host) === 0 || (port !== null && (port < 1 || port > 65535))) {
      errors.dnsResolver = 'An IP address with an optional port, e.g. 127.0.0.1:5353 or [::1]:53; empty means the system resolver.';
    }
  }
  // Blocklist zones: names through the one domain validator, at most MAX_BLOCKLISTS; empty puts the defaults back.
  const zoneList = form.blocklistZones ? form.blocklistZones.split(/[\s,;]+/).filter(Boolean) : [];
  const zones: string[] = [];
  const badZones: string[] = [];
  for (const z of zoneList) {
    const d = checkDomain(z);
    if (d.ok) {
      if (!zones.includes(d.domain)) zones.push(d.domain);
    } else badZones.push(`${z} (${d.reason})`);
  }
  if (badZones.length) errors.blocklistZones = `Not a DNS zone name: ${badZones.join(', ')}`;
  else if (zones.length > MAX_BLOCKLISTS) errors.blocklistZones = `At most ${MAX_BLOCKLISTS} blocklists (each costs a DNS query per sending IP and domain).`;
  // Decimal digits only, as `prune --days` takes them (Number() would also read 0x10, 1e3, 12.0).
  const dayText = String(form.retentionDays ?? '').trim();
  const days = /^[0-9]{1,4}$/.test(dayText) ? Number(dayText) : NaN;
  if (!Number.isInteger(days) || days < 1 || days > 3650) errors.retentionDays = 'A whole number of days from 1 to 3650.';
  if (Object.keys(errors).length) return { ok: false, errors, form };
  // One transaction: the background service's minute check (another process) sees the whole save or none of it.
  store.setSettings({
    [SETTING_KEYS.mailchannelsAccountId]: form.mailchannelsAccountId || undefined,
    [SETTING_KEYS.reportSchedule]: form.reportSchedule || undefined,
    [SETTING_KEYS.reportRecipients]: recipients,
    [SETTING_KEYS.reportTimezone]: form.reportTimezone || undefined,
    [SETTING_KEYS.reportBaseUrl]: form.reportBaseUrl || undefined,
    [SETTING_KEYS.dnsResolver]: form.dnsResolver || undefined,
    [SETTING_KEYS.blocklists]: form.blocklists,
    [SETTING_KEYS.blocklistZones]: zones.length && zones.join(',') !== DEFAULT_BLOCKLISTS.join(',') ? zones : undefined,
    [SETTING_KEYS.retentionDays]: days,
  });
  return { ok: true };
}

export function auditOptionsFrom(store: Pick<SettingsStore, 'getSetting'>): AuditOptions {
  return store.getSetting<boolean>(SETTING_KEYS.blocklists) === true ? { blocklists: blocklistZones(store) } : {};
}
