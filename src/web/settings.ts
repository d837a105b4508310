// The settings page's form: the admin settings as the page shows them, and a posted form checked field by field
// before anything is stored. What the settings are — keys, defaults, what a stored value must be — is
// src/core/settings.ts, which every surface reads; a schedule is checked as the scheduler checks it
// (src/adapters/schedule/expression.ts).
import { isIP } from 'node:net';
import { parseServer } from '../adapters/dns/resolver.js';
import { FIVE_CRON_FIELDS, isTimezone, olderScheduleForm, ScheduleError, validateCronExpr } from '../adapters/schedule/expression.js';
import { jsonText } from '../core/text.js';
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
  /**
   * The saved schedule is not one this version takes as it is (readSettings only; absent when it is, or for a form
   * sent back): the page says so beside the field.
   */
  reportScheduleStored?: StoredScheduleNote;
}

/**
 * A saved report schedule this version does not take as it is — saved by an older version's settings page (six
 * fields, `@daily`) or by hand — and what the background service makes of it (src/cli/nightly.ts wantedSchedule):
 * - `runsAs` set: a form older versions took, run as these five fields at the very times they ran it; the field shows
 *   them, so saving the page stores them.
 * - `runsAs` null: not used — the service runs another schedule (the default, 03:00, from its start); `problem` says
 *   why (the scheduler's words), `suggestion` the five fields to enter when there is an obvious one (six fields with
 *   seconds 1–59: the same minute), else null.
 */
export interface StoredScheduleNote {
  /** As saved (white space around it dropped; a value that is not text as JSON), raw: the view escapes it. */
  stored: string;
  runsAs: string | null;
  /** What the older form was ("six fields, seconds first", "a nickname"), or null. */
  form: string | null;
  problem: string | null;
  suggestion: string | null;
  /** What the background service runs instead when it starts with it (runsAs null): the default. */
  fallback: string;
}

/** The note for a saved schedule (see StoredScheduleNote); null when it is taken as it is, or none is saved. */
export function storedScheduleNote(saved: unknown): StoredScheduleNote | null {
  if (saved === undefined || saved === null || (typeof saved === 'string' && !saved.trim())) return null;
  const text = typeof saved === 'string' ? saved : typeof saved === 'number' ? String(saved) : jsonText(saved);
  try {
    validateCronExpr(text);
    return null;
  } catch (e) {
    const stored = text.trim();
    const older = olderScheduleForm(stored);
    if (older?.sameTimes) return { stored, runsAs: older.cronExpr, form: older.form, problem: null, suggestion: older.cronExpr, fallback: DEFAULT_CRON };
    // The scheduler's reason, without the rule and the five fields it may go on with: the page says what to enter.
    const why = (e instanceof ScheduleError ? e.message : String((e as Error)?.message ?? e)).replace(/\. (Five cron fields|In five fields), .*$/s, '');
    return { stored, runsAs: null, form: older?.form ?? null, problem: /\.$/.test(why) ? why : `${why}.`, suggestion: older?.cronExpr ?? null, fallback: DEFAULT_CRON };
  }
}

export function readSettings(store: SettingsStore): SettingsForm {
  const str = (k: string, d = '') => {
    const v = store.getSetting(k);
    return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : d;
  };
  // Stored as a list by this page; a single string (e.g. set with sqlite3) is shown too, so saving the page never
  // drops the recipients it did not display — read as the mailer reads it (splitAddresses: "a@x, b@y" is two).
  const rec = splitAddresses(store.getSetting<unknown>(SETTING_KEYS.reportRecipients));
  // A schedule in a form older versions took is shown as the five fields it runs as (saving stores them); one not used
  // at all is shown as saved, so the admin sees what is there — with a note beside the field either way.
  const scheduleNote = storedScheduleNote(store.getSetting<unknown>(SETTING_KEYS.reportSchedule));
  return {
    mailchannelsAccountId: str(SETTING_KEYS.mailchannelsAccountId),
    reportSchedule: scheduleNote?.runsAs ?? scheduleNote?.stored ?? str(SETTING_KEYS.reportSchedule, DEFAULT_CRON),
    reportRecipients: rec.filter((r) => typeof r === 'string').join(', '),
    reportTimezone: str(SETTING_KEYS.reportTimezone, ''),
    reportBaseUrl: str(SETTING_KEYS.reportBaseUrl, ''),
    dnsResolver: str(SETTING_KEYS.dnsResolver),
    blocklists: store.getSetting<boolean>(SETTING_KEYS.blocklists) === true,
    blocklistZones: blocklistZones(store).join(', '),
    retentionDays: str(SETTING_KEYS.retentionDays, String(DEFAULT_RETENTION_DAYS)),
    ...(scheduleNote ? { reportScheduleStored: scheduleNote } : {}),
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
