// The settings page's form: the admin settings as the page shows them, and a posted form checked field by field
// before anything is stored. What the settings are — keys, defaults, what a stored value must be — is
// src/core/settings.ts, which every surface reads; a schedule is checked as the scheduler checks it
// (src/adapters/schedule/expression.ts).
import { isIP } from 'node:net';
import { parseServer } from '../adapters/dns/resolver.js';
import { FIVE_CRON_FIELDS, isTimezone, ScheduleError, validateCronExpr } from '../adapters/schedule/expression.js';
import { splitAddresses } from '../core/recipients.js';
import {
  baseUrlProblem,
  blocklistZones,
  DEFAULT_BLOCKLISTS,
  DEFAULT_CRON,
  DEFAULT_RETENTION_DAYS,
  MAILCHANNELS_ACCOUNT_ID,
  MAX_BLOCKLISTS,
  RETENTION_DAYS,
  SETTING_KEYS,
  type SettingsReader,
} from '../core/settings.js';
import { checkDomain, mailAddressProblem } from '../core/domain.js';

/** The store as the page uses it: it reads the settings and saves a form in one transaction. */
export interface SettingsStore extends SettingsReader {
  setSettings(values: Record<string, unknown>): void;
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
    retentionDays: str(SETTING_KEYS.retentionDays, String(DEFAULT_RETENTION_DAYS)),
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
  if (form.mailchannelsAccountId && !MAILCHANNELS_ACCOUNT_ID.test(form.mailchannelsAccountId)) {
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
  if (form.reportTimezone && !isTimezone(form.reportTimezone)) {
    errors.reportTimezone = 'An IANA time zone such as Europe/Berlin or UTC; empty means the server\'s.';
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
  if (!Number.isInteger(days) || days < RETENTION_DAYS[0] || days > RETENTION_DAYS[1]) errors.retentionDays = `A whole number of days from ${RETENTION_DAYS[0]} to ${RETENTION_DAYS[1]}.`;
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
