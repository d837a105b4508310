// Renders a ReportDoc: an HTML email (inline SVG chart, every problem linked to the domain's page in the panel UI),
// a plain-text alternative, and the JSON document. Pure. All record text and names are escaped: they come from
// DNS and from customers, so they are hostile until proven otherwise.
import { showInvisible } from '../text.js';
import { isScoped, type CustomerGroup, type NewProblem, type NotAudited, type ReportDoc, type ReportItem, type ResellerGroup, type Resolved, type SkippedRun, type StillFailing, type TrendPoint, type UnknownItem } from './diff.js';

export interface RenderOptions {
  /** The panel UI's base URL; each problem links to `<baseUrl>/domains/<domain>`. Only http(s) URLs are used. */
  baseUrl?: string | null;
  /** Shown in the subject and heading, e.g. the server's host name. */
  serverName?: string;
  /** For a reseller's part: whose report this is (heading only). */
  audience?: string;
  /**
   * At most this many items per section in the HTML/text, and rows in the per reseller and customer table (the JSON is
   * always whole). Default 200.
   */
  maxItemsPerSection?: number;
  /** UTF-8 octets the listed items of each part may take in all (tests). Default MAIL_LIMITS.listedOctets. */
  maxListedOctets?: number;
  /**
   * IANA time zone the nights are dated in (the report schedule's): a run at 00:30 in Europe/Berlin is 23:30 UTC the
   * day before, and is labelled with its local date. Default UTC. An unknown zone falls back to UTC.
   */
  timeZone?: string;
}

export interface RenderedReport {
  subject: string;
  html: string;
  text: string;
  json: ReportDoc;
  svg: string;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values; control characters become U+FFFD. */
export function escapeHtml(s: string): string {
  return cleanControls(s).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** Control characters (C0 except tab, DEL, C1, bidi overrides, line/paragraph separators) → U+FFFD, so a record cannot reshape the text. */
export function cleanControls(s: string): string {
  // Control characters (a line break would forge a line) become U+FFFD; the other invisible formatting characters
  // (bidi marks, zero-width characters, tag characters) are shown as escapes, as on the web pages and in the CLI.
  // eslint-disable-next-line no-control-regex
  return showInvisible(String(s).replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, '\uFFFD'));
}

/** `<baseUrl>/domains` (the domain list), or null when there is no usable base URL. */
function domainsListUrl(baseUrl: string | null | undefined): string | null {
  const one = domainUrl(baseUrl, 'x.invalid');
  return one ? one.slice(0, -'/x.invalid'.length) : null;
}

/** Where a recipient sees the items a long section leaves out: the panel's domain list (filter by status there). */
function moreWhere(baseUrl: string | null | undefined): string {
  const list = domainsListUrl(baseUrl);
  return `the domain list in mailhealth's panel page shows every domain's findings (filter by status)${list ? `: ${list}` : ''}`;
}

/** Where a recipient sees the customers the per-customer table leaves out: the panel's domain list, by customer. */
function moreCustomersWhere(baseUrl: string | null | undefined): string {
  const list = domainsListUrl(baseUrl);
  return `the domain list in mailhealth's panel page shows every customer's domains (filter by customer)${list ? `: ${list}` : ''}`;
}

/** `<baseUrl>/domains/<domain>`, or null when there is no usable (http/https) base URL. */
export function domainUrl(baseUrl: string | null | undefined, domain: string): string | null {
  if (!baseUrl) return null;
  let u: URL;
  try {
    u = new URL(baseUrl);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  const base = u.href.replace(/\/+$/, '');
  return `${base}/domains/${encodeURIComponent(domain)}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function reportSubject(doc: ReportDoc, opts: RenderOptions = {}): string {
  const s = doc.summary;
  // Problems only no longer reported (across an upgrade's changed checks) are not counted as resolved here.
  const gone = s.noLongerReported ?? 0;
  const parts = [plural(s.newProblems, 'new problem'), `${s.resolved - gone} resolved`, ...(gone ? [`${gone} no longer reported`] : []), `${s.stillFailing} still failing`];
  if (s.unknown) parts.push(`${s.unknown} unknown`);
  // (Absent from a report saved by an earlier version.)
  if (s.notAudited) parts.push(`${s.notAudited} no longer audited`);
  const where = opts.serverName ? ` — ${cleanControls(opts.serverName)}` : '';
  const who = opts.audience ? ` (${cleanControls(opts.audience)})` : '';
  return `mailhealth nightly report${who}: ${parts.join(', ')}${where}`;
}

/** The date of an instant in `timeZone` (default UTC) as YYYY-MM-DD; the ISO text's own date when it does not parse. */
function localDate(iso: string, timeZone?: string): string {
  const t = Date.parse(iso);
  if (!timeZone || Number.isNaN(t)) return iso.slice(0, 10);
  try {
    // en-CA writes dates as YYYY-MM-DD.
    return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(t);
  } catch {
    return iso.slice(0, 10);
  }
}

function dateLabel(iso: string, timeZone?: string): string {
  return localDate(iso, timeZone).slice(5, 10); // MM-DD
}

/**
 * A small bar chart of failing domains per night, as a self-contained SVG string (no external anything). The domains
 * unknown that night (DNS trouble) are stacked on top in grey: a night of DNS trouble is not a night of 0 failing.
 */
export function renderChart(trend: readonly TrendPoint[], opts: { width?: number; height?: number; timeZone?: string } = {}): string {
  const width = opts.width ?? 600;
  const height = opts.height ?? 160;
  const padL = 32;
  const padR = 8;
  const padT = 18;
  const padB = 22;
  const plotW = width - padL - padR;
  const plotH = height - padT - padB;
  // (`unknown` may be absent from a report saved by an earlier version.)
  const unknownOf = (p: TrendPoint) => p.unknown ?? 0;
  const anyUnknown = trend.some((p) => unknownOf(p) > 0);
  const max = Math.max(1, ...trend.map((p) => p.failing + unknownOf(p)));
  const n = Math.max(1, trend.length);
  const slot = plotW / n;
  const barW = Math.max(2, Math.min(32, slot * 0.7));
  const out: string[] = [];
  const last = trend[trend.length - 1];
  const title = last
    ? `Failing domains per night: ${last.failing} tonight${unknownOf(last) ? ` (${unknownOf(last)} unknown)` : ''}, over the last ${plural(trend.length, 'run')}${anyUnknown ? '; grey: domains unknown that night (DNS trouble)' : ''}`
    : 'Failing domains per night: no runs yet';
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(title)}" font-family="sans-serif" font-size="10">`,
  );
  out.push(`<title>${escapeHtml(title)}</title>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  // Axis and a few gridlines.
  const ticks = max <= 4 ? Array.from({ length: max + 1 }, (_, i) => i) : [0, Math.round(max / 2), max];
  for (const t of ticks) {
    const y = round(padT + plotH - (t / max) * plotH);
    out.push(`<line x1="${padL}" y1="${y}" x2="${width - padR}" y2="${y}" stroke="#e5e5e5" stroke-width="1"/>`);
    out.push(`<text x="${padL - 4}" y="${round(y + 3)}" text-anchor="end" fill="#555">${t}</text>`);
  }
  trend.forEach((p, i) => {
    const h = round((p.failing / max) * plotH);
    const x = round(padL + i * slot + (slot - barW) / 2);
    const y = round(padT + plotH - h);
    const fill = i === trend.length - 1 ? '#c0392b' : '#e08e84';
    const u = unknownOf(p);
    const label = escapeHtml(`run ${p.runId}, ${localDate(p.startedAt, opts.timeZone)}: ${p.failing} failing${u ? `, ${u} unknown (DNS trouble)` : ''} of ${p.total}`);
    out.push(`<rect class="bar" x="${x}" y="${y}" width="${round(barW)}" height="${h}" fill="${fill}"><title>${label}</title></rect>`);
    if (u) {
      // On top of the failing bar: these domains may be failing or not — the night is not comparable.
      const uh = round((u / max) * plotH);
      const uy = round(padT + plotH - h - uh);
      const ufill = i === trend.length - 1 ? '#7f8c8d' : '#bdc3c7';
      out.push(`<rect class="bar-unknown" x="${x}" y="${uy}" width="${round(barW)}" height="${uh}" fill="${ufill}"><title>${label}</title></rect>`);
    }
  });
  if (trend.length) {
    out.push(`<text x="${padL}" y="${height - 6}" fill="#555">${escapeHtml(dateLabel(trend[0].startedAt, opts.timeZone))}</text>`);
    out.push(`<text x="${width - padR}" y="${height - 6}" text-anchor="end" fill="#555">${escapeHtml(dateLabel(last.startedAt, opts.timeZone))}</text>`);
  }
  out.push(`<text x="${padL}" y="12" fill="#333">failing domains per night</text>`);
  if (anyUnknown) out.push(`<text x="${width - padR}" y="12" text-anchor="end" fill="#7f8c8d">grey: unknown (DNS trouble)</text>`);
  out.push('</svg>');
  return out.join('');
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function who(i: ReportItem): string {
  const owner = i.owner ?? '?';
  if (i.reseller && i.owner === i.reseller) return `${owner} (reseller's own)`;
  return i.reseller ? `${owner} / ${i.reseller}` : owner;
}

/** A customer line under its reseller: the reseller's own domains say so. */
function customerLabel(owner: string | null, reseller: string | null): string {
  return owner !== null && owner === reseller ? `${owner} (own domains)` : (owner ?? '?');
}

/** A still-failing problem's nights, and — when it changed severity since the previous run — what it was then. */
export function nightsText(s: Pick<StillFailing, 'nights' | 'nightsAtLeast' | 'previousSeverity'>): string {
  const was = s.previousSeverity ? `, was ${s.previousSeverity} on the previous run` : '';
  return `${s.nightsAtLeast ? 'at least ' : ''}${plural(s.nights, 'night')}${was}`;
}

interface Section<T extends ReportItem> {
  key: 'newProblems' | 'resolved' | 'notAudited' | 'stillFailing' | 'unknown';
  title: string;
  empty: string;
  items: T[];
  extra?: (i: T) => string;
  /** Each item links to its domain's page (default); false: the domain has no page (a name no longer audited). */
  link?: boolean;
}

/**
 * Why a domain's earlier problems are listed as no longer audited, not resolved: its name is not a domain name, and the
 * panels' names go through the one validator — so it was not audited tonight, whether or not the panel still lists it.
 */
export function notAuditedText(i: Pick<NotAudited, 'reason'>): string {
  return (
    `no longer audited: not a valid domain name (${i.reason}), and mailhealth leaves such names out of its audits — ` +
    'not checked, not fixed. If the panel still lists the name, correct or remove it there'
  );
}

/**
 * Why a problem is in the Resolved section: fixed, its domain gone — or, across an upgrade's changed checks
 * (ReportDoc.versionChange), only no longer reported: never "fixed" unless its records changed.
 */
export function resolvedText(i: Pick<Resolved, 'reason' | 'records'>): string {
  if (i.reason === 'domain-removed') return 'domain no longer on the server';
  if (i.reason === 'no-longer-reported') {
    return i.records === 'unchanged'
      ? "no longer reported: its records are unchanged — this version's checks no longer raise it; nothing was fixed"
      : "no longer reported: last seen by another mailhealth version's checks — fixed, or no longer raised by this version's (the records cannot tell)";
  }
  return i.records === 'changed' ? 'fixed (its records changed)' : 'fixed';
}

/**
 * A new problem's notes: across an upgrade, one on records that did not change is the new checks' finding; one whose
 * check could not tell on the night(s) before (DNS trouble: NewProblem.previouslyUnknown) may be older than it looks.
 */
export function newProblemText(i: Pick<NewProblem, 'records' | 'previouslyUnknown'>): string {
  const notes: string[] = [];
  if (i.records === 'unchanged') notes.push("its records are unchanged: raised by this version's checks, not by a DNS change");
  if (i.previouslyUnknown) notes.push('its check could not tell (DNS trouble) on the run compared with: it may be older');
  return notes.join('; ');
}

/**
 * The run compared with was made by a mailhealth whose checks differ (an upgrade, or a downgrade): said once, at the
 * top, since new and resolved may then be the checks' change rather than the DNS's. null when not.
 */
export function versionChangeText(doc: Pick<ReportDoc, 'versionChange' | 'previousRunId'>): string | null {
  const v = doc.versionChange; // (absent from a report saved by an earlier version)
  if (!v) return null;
  const by =
    v.previousVersion === null
      ? 'an earlier mailhealth (one that did not record its version)'
      : v.previousVersion === v.version
        ? `another build of mailhealth ${v.previousVersion}, whose checks differ from this one's`
        : `mailhealth ${v.previousVersion}`;
  return (
    `The previous run (run ${doc.previousRunId}) was made by ${by}; this one by mailhealth ${v.version}: findings that appear or ` +
    "disappear may come from the upgrade's changed checks, not from DNS. A problem no longer reported is called fixed only where its records changed."
  );
}

function sections(doc: ReportDoc): Section<ReportItem>[] {
  return [
    { key: 'newProblems', title: 'New problems', empty: 'No new problems since the last complete run.', items: doc.newProblems, extra: (i) => newProblemText(i as NewProblem) },
    { key: 'resolved', title: 'Resolved', empty: 'Nothing resolved since the last complete run.', items: doc.resolved, extra: (i) => resolvedText(i as Resolved) },
    // Only on a night that has some (the first report after the panels' names went through the validator); absent
    // from a report saved by an earlier version.
    ...(doc.notAudited?.length
      ? [{ key: 'notAudited' as const, title: 'No longer audited (not counted as resolved)', empty: '', items: doc.notAudited, extra: (i: ReportItem) => notAuditedText(i as NotAudited), link: false }]
      : []),
    { key: 'stillFailing', title: 'Still failing', empty: 'Nothing still failing.', items: doc.stillFailing, extra: (i) => nightsText(i as StillFailing) },
    {
      key: 'unknown',
      title: 'Unknown (DNS trouble — not counted as failures)',
      empty: 'No DNS trouble.',
      items: doc.unknown,
      extra: (i) => {
        const list = (xs: { rule: string; subject: string | null }[]) => xs.map((x) => x.rule + (x.subject ? ` ${x.subject}` : '')).join(', ');
        const w = (i as UnknownItem).wasFailing;
        const seen = (i as UnknownItem).seenTonight ?? [];
        return [w.length ? `was failing: ${list(w)}` : '', seen.length ? `seen tonight, unconfirmed: ${list(seen)}` : ''].filter(Boolean).join('; ');
      },
    },
  ];
}

function comparison(doc: ReportDoc): string {
  if (doc.previousRunId === null) {
    // (Older fields may be absent from a report saved by an earlier version.)
    if (doc.prunedRuns?.length) return 'nothing to compare with: no earlier complete run is kept whole (older results were pruned)';
    return 'first complete run: nothing to compare with yet';
  }
  const prev = `run ${doc.previousRunId} (${doc.previousStartedAt})`;
  if (doc.sinceBeforeOldest) return `no complete run kept at or before ${doc.since}; compared with the oldest kept, ${prev}`;
  return `compared with ${prev}`;
}

function header(doc: ReportDoc): string {
  const s = doc.summary;
  return `Run ${doc.runId} (${doc.startedAt}), ${comparison(doc)}. ${plural(s.domains, 'domain')}: ${s.failingDomains} failing, ${s.warningDomains} with warnings, ${s.unknownDomains} unknown.`;
}

/** `since` older than the history loaded: which runs were left out, and what that means for the streaks. */
export function gapText(doc: ReportDoc): string | null {
  const g = doc.historyGap; // (absent from a report saved by an earlier version)
  if (!g) return null;
  return (
    `${plural(g.runs, 'complete run')} between run ${g.olderRunId} (${g.olderStartedAt}) and run ${g.newerRunId} (${g.newerStartedAt}) ${g.runs === 1 ? 'was' : 'were'} not loaded: ` +
    `streaks count from run ${g.newerRunId} on (as "at least" that many nights); run ${g.olderRunId} is compared with, not charted.`
  );
}

/**
 * What one item of the mail may show, and how much the listed items of one part (text or HTML) may take in all. A
 * finding's message can quote a record whole, and record text is the customer's: a 30 KB TXT record quoted in 1,000
 * listed items made a 37 MB mail that mail servers refuse (most take 10–25 MB), and one night's report never arrived.
 * Cut here, in the mail only: the JSON document stays whole, and each item links to its domain's page.
 */
export const MAIL_LIMITS = {
  /** Characters of a finding's message. */
  message: 1000,
  /** Characters of a finding's subject (an SPF term, a selector, an address). */
  subject: 255,
  /** Characters of a name: the domain, the rule, the customer and reseller. */
  name: 255,
  /** Characters of an item's note (the unknown section lists every rule it hides). */
  note: 1000,
  /**
   * UTF-8 octets of the listed items of one part; the items past it are counted in the section's "… and N more" line.
   * With quoted-printable (at most 3 octets a source octet) both parts stay far below the 10 MB many servers take.
   */
  listedOctets: 1_000_000,
} as const;

/** `s` cut at `max` characters (never inside a surrogate pair), saying how much was left out. Clean `s` first. */
export function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  let cut = max;
  const c = s.charCodeAt(cut - 1);
  if (c >= 0xd800 && c <= 0xdbff) cut--;
  return `${s.slice(0, cut)}… [${s.length - cut} more characters]`;
}

/** An item's text as the mail shows it: control characters neutralised (cleanControls), each field cut (MAIL_LIMITS). */
interface ShownItem {
  severity: string;
  domain: string;
  rule: string;
  subject: string | null;
  message: string;
  who: string;
  extra: string;
}

function shownItem(i: ReportItem, extra: string): ShownItem {
  const field = (v: string, max: number) => clip(cleanControls(v), max);
  return {
    severity: field(i.severity, MAIL_LIMITS.name),
    domain: field(i.domain, MAIL_LIMITS.name),
    rule: field(i.rule, MAIL_LIMITS.name),
    subject: i.subject ? field(i.subject, MAIL_LIMITS.subject) : null,
    message: i.message ? field(i.message, MAIL_LIMITS.message) : '',
    who: field(who(i), MAIL_LIMITS.name),
    extra: extra ? field(extra, MAIL_LIMITS.note) : '',
  };
}

/** A customer's or reseller's name as the mail's table shows it (cleaned and cut, as an item's). */
function shownName(name: string): string {
  return clip(cleanControls(name), MAIL_LIMITS.name);
}

/** Counts the octets of the listed items of one part against MAIL_LIMITS.listedOctets (shared by its sections). */
function octetBudget(limit: number = MAIL_LIMITS.listedOctets): { fits(lines: readonly string[]): boolean } {
  let left = limit;
  return {
    fits(lines) {
      const n = lines.reduce((sum, l) => sum + Buffer.byteLength(l, 'utf8') + 1, 0);
      if (n > left) {
        left = 0; // the next (smaller) items are not listed either: a section stops at its first left out
        return false;
      }
      left -= n;
      return true;
    },
  };
}

/** The longest panel error a report line shows (a panel that answered with a web page can say a lot). */
const MAX_REASON = 300;

/** A recorded error for one line: at most MAX_REASON characters (raw: clean or escape the line it goes into). */
export function shortReason(reason: string): string {
  const t = reason.trim();
  return t.length > MAX_REASON ? `${t.slice(0, MAX_REASON)}…` : t;
}

/**
 * One skipped run: "run N interrupted", or for a night the panel could not be read, why ("run N: the panel could not be
 * read — <its error>"), so the admin sees which nights were lost to the panel and what it said. Raw text: the caller
 * cleans or escapes it (the reason is whatever answered in the panel's place).
 * `scoped` (a reseller's or a customer's part): only "run N <status>" — the panel's error is the admin's (it may name
 * the whole server's domain count, or whatever answered in the panel's place), whatever the document carries.
 */
export function skippedRunText(r: SkippedRun, scoped = false): string {
  if (r.failed === 'panel' && !scoped) return `run ${r.runId}: the panel could not be read${r.reason ? ` — ${shortReason(r.reason)}` : ''}`;
  return `run ${r.runId} ${r.status}`;
}

/** "Skipped (did not complete): …", or null when no run was skipped. A panel's error may hold commas: then runs are separated by ";". */
export function skippedText(doc: ReportDoc): string | null {
  const runs = doc.skippedRuns;
  if (!runs.length) return null;
  // (buildReport already leaves the reason out of a scoped document; this holds for one made or saved otherwise.)
  const scoped = isScoped(doc.scope);
  return `Skipped (did not complete): ${runs.map((r) => skippedRunText(r, scoped)).join(!scoped && runs.some((r) => r.failed) ? '; ' : ', ')}.`;
}

function prunedText(doc: ReportDoc): string | null {
  const p = doc.prunedRuns ?? [];
  return p.length ? `Not in the chart (results partly pruned): ${p.map((r) => `run ${r.runId}`).join(', ')}.` : null;
}

/**
 * The chart's numbers as text lines (none for fewer than two nights). The text part shows them; so does the HTML part,
 * under the chart: Gmail and Outlook show no SVG, and the chart would be a blank there.
 */
export function trendLines(t: readonly TrendPoint[]): string[] {
  if (t.length <= 1) return [];
  // A night with domains unknown (DNS trouble) is marked: its failing count is a lower bound, not "all good".
  const lines = [`Failing domains per night (oldest first): ${t.map((p) => `${p.failing}${p.unknown ? '?' : ''}`).join(' ')}`];
  if (t.some((p) => p.unknown)) lines.push(`Unknown domains per night (DNS trouble: "?" above — failing not known for them): ${t.map((p) => p.unknown ?? 0).join(' ')}`);
  return lines;
}

export function renderText(doc: ReportDoc, opts: RenderOptions = {}): string {
  const max = opts.maxItemsPerSection ?? 200;
  const budget = octetBudget(opts.maxListedOctets);
  const lines: string[] = [];
  lines.push(reportSubject(doc, opts));
  lines.push('');
  lines.push(cleanControls(header(doc)));
  const upgraded = versionChangeText(doc);
  if (upgraded) lines.push(cleanControls(upgraded));
  const skipped = skippedText(doc);
  if (skipped) lines.push(cleanControls(skipped));
  lines.push(...trendLines(doc.trend));
  const gap = gapText(doc);
  if (gap) lines.push(gap);
  const pruned = prunedText(doc);
  if (pruned) lines.push(pruned);
  for (const sec of sections(doc)) {
    lines.push('');
    lines.push(`${sec.title} (${sec.items.length})`);
    lines.push('-'.repeat(sec.title.length + String(sec.items.length).length + 3));
    if (!sec.items.length) lines.push(`  ${sec.empty}`);
    let listed = 0;
    for (const i of sec.items.slice(0, max)) {
      const v = shownItem(i, sec.extra?.(i) ?? '');
      const item = [`  [${v.severity}] ${v.domain}  ${v.rule}${v.subject ? ` (${v.subject})` : ''}  — ${v.who}${v.extra ? `; ${v.extra}` : ''}`];
      if (v.message) item.push(`      ${v.message}`);
      const url = sec.link === false ? null : domainUrl(opts.baseUrl, i.domain);
      if (url) item.push(`      ${url}`);
      if (!budget.fits(item)) break;
      lines.push(...item);
      listed++;
    }
    if (sec.items.length > listed) lines.push(`  … and ${sec.items.length - listed} more: ${moreWhere(opts.baseUrl)}`);
  }
  if (doc.byReseller.length) {
    lines.push('');
    lines.push('Per reseller and customer (new / resolved / still failing / unknown)');
    const g = groupRows(doc, max);
    for (const row of g.rows) {
      if ('reseller' in row) lines.push(`  ${shownName(row.reseller.reseller ?? '(server admin)')}: ${counts(row.reseller.counts)}`);
      else lines.push(`    ${shownName(customerLabel(row.customer.owner, row.customer.reseller))}: ${counts(row.customer.counts)} — ${row.customer.domains.length} domain(s)`);
    }
    if (g.moreCustomers || g.moreResellers) lines.push(`  … and ${moreGroupsText(g)}: ${moreCustomersWhere(opts.baseUrl)}`);
  }
  lines.push('');
  return lines.join('\n');
}

/**
 * The rows of the per reseller and customer table: each reseller's row, then its customers' — at most `max` rows, as
 * many as a section's items (5,000 customers made a 1 MB mail every night). The resellers' rows come first (each one's
 * counts are of all its customers, shown or not): customers fill the rows left, in the table's order. What is left out
 * is counted for the "… and N more" line.
 */
export function groupRows(doc: Pick<ReportDoc, 'byReseller' | 'byCustomer'>, max: number): {
  rows: ({ reseller: ResellerGroup } | { customer: CustomerGroup })[];
  moreCustomers: number;
  moreResellers: number;
} {
  const customersOf = new Map<string | null, CustomerGroup[]>();
  for (const c of doc.byCustomer) {
    const list = customersOf.get(c.reseller);
    if (list) list.push(c);
    else customersOf.set(c.reseller, [c]);
  }
  const rows: ({ reseller: ResellerGroup } | { customer: CustomerGroup })[] = [];
  let customerRows = Math.max(0, max - doc.byReseller.length);
  let moreCustomers = 0;
  let moreResellers = 0;
  doc.byReseller.forEach((r, i) => {
    const cs = customersOf.get(r.reseller) ?? [];
    if (i >= max) {
      moreResellers++;
      moreCustomers += cs.length;
      return;
    }
    rows.push({ reseller: r });
    const shown = cs.slice(0, customerRows);
    for (const c of shown) rows.push({ customer: c });
    customerRows -= shown.length;
    moreCustomers += cs.length - shown.length;
  });
  return { rows, moreCustomers, moreResellers };
}

/** What follows "… and": "4851 more customers" (" and 12 more resellers"). */
function moreGroupsText(g: { moreCustomers: number; moreResellers: number }): string {
  const parts = [g.moreCustomers ? plural(g.moreCustomers, 'more customer') : '', g.moreResellers ? plural(g.moreResellers, 'more reseller') : ''].filter(Boolean);
  return parts.join(' and ');
}

function counts(c: { newProblems: number; resolved: number; stillFailing: number; unknown: number }): string {
  return `${c.newProblems} / ${c.resolved} / ${c.stillFailing} / ${c.unknown}`;
}

const SEV_COLOR: Record<string, string> = { fail: '#c0392b', warn: '#b9770e', unknown: '#7f8c8d', info: '#2471a3', pass: '#1e8449' };

export function renderHtml(doc: ReportDoc, opts: RenderOptions = {}, svg = renderChart(doc.trend, opts.timeZone ? { timeZone: opts.timeZone } : {})): string {
  const max = opts.maxItemsPerSection ?? 200;
  const budget = octetBudget(opts.maxListedOctets);
  const h: string[] = [];
  const subject = reportSubject(doc, opts);
  h.push('<!DOCTYPE html><html><head><meta charset="utf-8">');
  h.push(`<title>${escapeHtml(subject)}</title></head>`);
  h.push('<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222;max-width:760px">');
  h.push(`<h1 style="font-size:18px">${escapeHtml(subject)}</h1>`);
  h.push(`<p>${escapeHtml(header(doc))}</p>`);
  const upgraded = versionChangeText(doc);
  if (upgraded) h.push(`<p class="version-change" style="color:#b9770e">${escapeHtml(upgraded)}</p>`);
  const skipped = skippedText(doc);
  if (skipped) h.push(`<p style="color:#7f8c8d">${escapeHtml(skipped)}</p>`);
  const gap = gapText(doc);
  if (gap) h.push(`<p style="color:#7f8c8d">${escapeHtml(gap)}</p>`);
  h.push(`<div class="chart">${svg}</div>`);
  const numbers = trendLines(doc.trend);
  if (numbers.length) h.push(`<p class="chart-numbers" style="color:#555;font-size:12px">${numbers.map(escapeHtml).join('<br>')}</p>`);
  const pruned = prunedText(doc);
  if (pruned) h.push(`<p style="color:#7f8c8d">${escapeHtml(pruned)}</p>`);
  for (const sec of sections(doc)) {
    h.push(`<h2 style="font-size:16px" id="${sec.key}">${escapeHtml(sec.title)} (${sec.items.length})</h2>`);
    if (!sec.items.length) {
      h.push(`<p style="color:#555">${escapeHtml(sec.empty)}</p>`);
      continue;
    }
    const rows: string[] = [];
    for (const i of sec.items.slice(0, max)) {
      const url = sec.link === false ? null : domainUrl(opts.baseUrl, i.domain);
      const v = shownItem(i, sec.extra?.(i) ?? '');
      const dom = url ? `<a href="${escapeHtml(url)}">${escapeHtml(v.domain)}</a>` : escapeHtml(v.domain);
      const row =
        `<tr style="border-top:1px solid #ddd;vertical-align:top"><td style="color:${SEV_COLOR[i.severity] ?? '#222'};font-weight:bold">${escapeHtml(v.severity)}</td>` +
        `<td>${dom}</td>` +
        `<td><code>${escapeHtml(v.rule)}</code>${v.subject ? ` <code>${escapeHtml(v.subject)}</code>` : ''}${v.message ? `<br><span style="color:#555">${escapeHtml(v.message)}</span>` : ''}</td>` +
        `<td>${escapeHtml(v.who)}</td><td>${escapeHtml(v.extra)}</td></tr>`;
      if (!budget.fits([row])) break;
      rows.push(row);
    }
    if (rows.length) {
      h.push('<table cellpadding="4" cellspacing="0" style="border-collapse:collapse;width:100%">');
      h.push('<tr style="text-align:left;background:#f4f4f4"><th>Severity</th><th>Domain</th><th>Problem</th><th>Customer</th><th></th></tr>');
      h.push(...rows);
      h.push('</table>');
    }
    if (sec.items.length > rows.length) {
      const list = domainsListUrl(opts.baseUrl);
      h.push(`<p>… and ${sec.items.length - rows.length} more: ${list ? `<a href="${escapeHtml(list)}">the panel's domain list</a> shows every domain's findings` : escapeHtml(moreWhere(null))}.</p>`);
    }
  }
  if (doc.byReseller.length) {
    h.push('<h2 style="font-size:16px">Per reseller and customer</h2>');
    h.push('<table cellpadding="4" cellspacing="0" style="border-collapse:collapse">');
    h.push('<tr style="text-align:left;background:#f4f4f4"><th>Reseller / customer</th><th>Domains</th><th>New</th><th>Resolved</th><th>Still failing</th><th>Unknown</th></tr>');
    const g = groupRows(doc, max);
    for (const row of g.rows) {
      if ('reseller' in row) {
        const r = row.reseller;
        h.push(
          `<tr style="border-top:1px solid #ddd;font-weight:bold"><td>${escapeHtml(shownName(r.reseller ?? '(server admin)'))}</td><td>${r.counts.domains}</td><td>${r.counts.newProblems}</td><td>${r.counts.resolved}</td><td>${r.counts.stillFailing}</td><td>${r.counts.unknown}</td></tr>`,
        );
      } else {
        const c = row.customer;
        h.push(
          `<tr><td style="padding-left:20px">${escapeHtml(shownName(customerLabel(c.owner, c.reseller)))}</td><td>${c.counts.domains}</td><td>${c.counts.newProblems}</td><td>${c.counts.resolved}</td><td>${c.counts.stillFailing}</td><td>${c.counts.unknown}</td></tr>`,
        );
      }
    }
    h.push('</table>');
    if (g.moreCustomers || g.moreResellers) {
      const list = domainsListUrl(opts.baseUrl);
      h.push(`<p>… and ${escapeHtml(moreGroupsText(g))}: ${list ? `<a href="${escapeHtml(list)}">the panel's domain list</a> shows every customer's domains` : escapeHtml(moreCustomersWhere(null))}.</p>`);
    }
  }
  if (!domainUrl(opts.baseUrl, 'x.example')) h.push('<p style="color:#7f8c8d">Set "Address of these pages, for links" on the settings page to get links to each domain\'s page.</p>');
  h.push('<p style="color:#7f8c8d;font-size:12px">mailhealth — DNS trouble is reported as unknown and never counted as a failure.</p>');
  h.push('</body></html>');
  return h.join('\n');
}

export function renderReport(doc: ReportDoc, opts: RenderOptions = {}): RenderedReport {
  const svg = renderChart(doc.trend, opts.timeZone ? { timeZone: opts.timeZone } : {});
  return { subject: reportSubject(doc, opts), html: renderHtml(doc, opts, svg), text: renderText(doc, opts), json: doc, svg };
}
