// Labels and small shaping helpers for the templates (no logic about mail, only about showing it).
import { showInvisible } from '../core/text.js';
import { CHECKS, SEVERITY_ORDER, worstSeverity, type CheckName, type DomainAudit, type Finding, type Severity } from '../core/model.js';

export const CHECK_LABELS: Record<CheckName, string> = {
  spf: 'SPF',
  dkim: 'DKIM',
  dmarc: 'DMARC',
  lockdown: 'Lockdown',
  mx: 'MX',
  dns: 'DNS',
  ptr: 'PTR',
};

export const CHECK_TITLES: Record<CheckName, string> = {
  spf: 'SPF — which servers may send as the domain',
  dkim: 'DKIM — the signature on outgoing mail',
  dmarc: 'DMARC — the policy receivers apply',
  lockdown: 'MailChannels Domain Lockdown',
  mx: 'MX — where incoming mail goes',
  dns: 'DNS — which servers answer for the domain',
  ptr: 'PTR — the sending IP’s reverse name',
};

export const SEVERITY_LABELS: Record<Severity | 'none', string> = {
  fail: 'Fail',
  warn: 'Warning',
  unknown: 'Unknown',
  info: 'OK',
  pass: 'OK',
  none: 'Not audited',
};

export const CLASS_LABELS: Record<string, string> = {
  'this-server': 'this server',
  keep: 'keep (a mail service in use)',
  stale: 'previous host (stale)',
  unknown: 'unknown',
};

export interface FindingGroup {
  check: CheckName;
  label: string;
  title: string;
  worst: Severity;
  problems: Finding[];
  ok: Finding[];
  fix: Finding['fix'] | null;
}

export function groupFindings(audit: DomainAudit): FindingGroup[] {
  return CHECKS.map((check) => {
    const fs = audit.findings.filter((f) => f.check === check);
    const worst = worstSeverity(fs);
    const problems = fs.filter((f) => f.severity === 'fail' || f.severity === 'warn' || f.severity === 'unknown');
    return {
      check,
      label: CHECK_LABELS[check],
      title: CHECK_TITLES[check],
      worst,
      problems,
      ok: fs.filter((f) => !problems.includes(f)),
      fix: problems.find((f) => f.fix)?.fix ?? null,
    };
  }).sort((a, b) => SEVERITY_ORDER[a.worst] - SEVERITY_ORDER[b.worst]);
}

export { showInvisible };

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };

/** HTML-escape only (ejs's escaping): for form values that must come back exactly as they went out. */
export function escapeHtml(v: unknown): string {
  return v === undefined || v === null ? '' : String(v).replace(/[&<>'"]/g, (c) => HTML_ENTITIES[c]);
}

/**
 * The templates' escaping for every `<%= %>`: HTML-escaped, and invisible formatting characters shown as escapes
 * (showInvisible), so no value — record text, evidence, notes, messages, names — can reorder or hide text on a page.
 * Form values that are sent back (SPF terms to remove, filters, settings, pasted text) use `<%- formValue(v) %>`.
 */
export function escapeShown(v: unknown): string {
  return showInvisible(escapeHtml(v));
}

/** Evidence entries besides panel/live, as label → lines. */
export function otherEvidence(f: Finding): [string, string[]][] {
  const out: [string, string[]][] = [];
  for (const [k, v] of Object.entries(f.evidence ?? {})) {
    if (k === 'panel' || k === 'live' || v === undefined || v === null) continue;
    out.push([showInvisible(k), evidenceLines(v)]);
  }
  return out;
}

export function evidenceLines(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map((x) => showInvisible(typeof x === 'string' ? x : JSON.stringify(x)));
}

/** Record text as it would be written in a zone: TXT as quoted strings; invisible characters as escapes. */
export function recordText(r: { name: string; ttl: number; type: string; value: string; txt?: string[] } | null): string {
  if (!r) return '';
  const v = r.type.toUpperCase() === 'TXT' ? (r.txt ?? [r.value]).map((s) => JSON.stringify(s)).join(' ') : r.value;
  return showInvisible(`${r.name}. ${r.ttl} IN ${r.type} ${v}`);
}

/**
 * How far ahead of the server's clock a recorded time may be and still read "just now": clocks of two processes (the
 * background service, a front door) a little apart, a time rounded up. Beyond it the time is told as it is.
 */
export const FUTURE_SKEW_S = 120;

/** An instant as a page shows it in full: "2027-03-01 12:00 UTC". */
export function utcText(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * A recorded time (an audit, a change, a report run) as "how long ago". A time later than the server's clock now (it
 * was recorded while the clock was ahead, or the clock is behind now) is not "just now": beyond a small skew it is
 * shown in full, saying that it is ahead of the server's clock — a year-old audit recorded by a clock a year fast must
 * not pass for a fresh one.
 */
export function relTime(iso: string | null, now: Date): string {
  if (!iso) return 'never';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return 'at an unknown time';
  const s = Math.round((now.getTime() - at) / 1000);
  if (s < -FUTURE_SKEW_S) return `${utcText(at)} (ahead of this server's clock)`;
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

/** How long until a time to come (the next nightly report): "in 5 min", "in 3 h", "in 2 days"; "now" when it is due. */
export function untilTime(at: Date, now: Date): string {
  const s = Math.round((at.getTime() - now.getTime()) / 1000);
  if (s < 60) return 'now';
  if (s < 3600) return `in ${Math.round(s / 60)} min`;
  if (s < 86400) return `in ${Math.round(s / 3600)} h`;
  const days = Math.round(s / 86400);
  return `in ${days} ${days === 1 ? 'day' : 'days'}`;
}

/** The time zone this process runs in (TZ, else the system's): what "server time" is. */
export function serverTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** The local time of `at` in time zone `tz` (undefined: the server's), as "2027-03-02 03:00". */
export function zonedTime(at: Date, tz?: string): string {
  const p: Record<string, string> = {};
  const f = new Intl.DateTimeFormat('en-US', { ...(tz ? { timeZone: tz } : {}), year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  for (const part of f.formatToParts(at)) p[part.type] = part.value;
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

export const viewHelpers = { CHECKS, CHECK_LABELS, CHECK_TITLES, SEVERITY_LABELS, CLASS_LABELS, otherEvidence, evidenceLines, recordText, relTime, untilTime, utcText, zonedTime, showInvisible };
