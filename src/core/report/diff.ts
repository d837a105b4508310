// The nightly report's comparison: this run's per-domain findings against the previous *complete* run.
// Pure: runs come in as snapshots (the cron loads them from the store); nothing here does I/O.
//
// A problem is a finding with severity fail or warn, keyed by (domain, rule, subject). Sections:
//   newProblems   a problem now that the previous complete run did not have
//   resolved      a problem gone now (the check ran and found it fixed, or the domain left the server) that was there
//                 the last night its check gave an answer, at or before the previous complete run — or, last seen by
//                 other checks than tonight's, only no longer reported (see "Across a change of checks")
//   notAudited    a problem of a domain missing tonight whose recorded name is not a domain name (checkDomain): the
//                 panels' adapters leave such names out since they go through the one validator (a wildcard "*.x",
//                 a name with a space, a one-label name). Nothing tells whether the panel still lists it — its
//                 absence says nothing about the domain —, so its problems are not called resolved: they are listed
//                 as no longer audited, with the validator's reason. A valid name missing tonight is removed, as before.
//   stillFailing  a problem in both; `nights` = consecutive complete runs (this one included) it has been present
//   unknown       findings with severity unknown (DNS/panel trouble) — never counted as failures. A previous problem
//                 whose check is unknown tonight is neither resolved nor still failing: it is listed under the
//                 unknown item (`wasFailing`) instead.
// Every comparison is per domain and walks back over runs whose check of the domain was unknown: the first night
// that gave an answer decides (a problem fixed after a night of DNS trouble is resolved, not forgotten). Runs whose
// check of a domain was unknown neither extend nor break a streak.
//
// Unknown for a night: the check of an `unknown` finding, and the checks a panel failure or DNS trouble another check
// ran into hides (MASKING_RULES) — the problems these hidden checks report that night are not counted (not new, not
// still failing, never resolved later):
// one failing before is listed under the unknown item like any masked problem ("was failing"), the others under it as
// "seen tonight" (so a domain whose zone is never readable still shows what its live DNS gets wrong):
//   dns.panel-settings-unreadable  every check (no check ran)
//   dns.panel-zone-unreadable      spf, dkim, dmarc, mx, dns — the checks that read the panel's copy of the zone:
//                                  dkim probes the selectors found in it, spf checks its TXT strings, dns compares it
//                                  with live DNS, and the classifier behind spf, dkim, dmarc, mx and dns takes the
//                                  previous host's traces (old NS/SOA names, mail.<domain>, remote MX) from it.
//                                  lockdown and ptr never read it: their answers stand.
//   dns.dns-error, dns.authority-unknown   mx, dkim — whether this server's DNS is the live one is not known
//   mx.dns-error                   spf, dkim, lockdown, dns — where the domain's mail is delivered is not known
//                                  (see MASKING_RULES for what each check asks)
//
// Scope (a reseller's or a customer's part) follows tonight's ownership: a domain on the server tonight belongs to
// whoever owns it tonight, whatever older runs recorded; a domain gone from the server, to its owner as last recorded.
// A domain that moved to someone else is not in the old owner's part at all (not "resolved", not "removed").
//
// A partly pruned run (RunSnapshot.partial: retention removed some of its results) is never the previous run nor a
// point of the trend; a domain it lacks is not known for that night (walked past, never "removed" or "fixed"), and a
// streak that reaches it is a lower bound.
//
// Runs not loaded (RunSnapshot.runsNotLoadedAfter: `since` asked for a run older than the history loaded, and the
// complete runs in between were left out): no walk crosses them. A streak stops there ("at least" the nights loaded,
// never counting the nights not loaded), the trend stops there, and the report says so (`historyGap`).
//
// Names are compared in checkDomain's canonical form (lower case, A-label): a run recorded before the panels' names
// went through the validator may hold a domain under another spelling of the same name ("bücher.example" for
// "xn--bcher-kva.example"), which is the same domain tonight — not one removed and another with every problem new.
// So are the names in the subjects the checks derive from the domain (DOMAIN_NAME_SUBJECTS: dns.drift's
// "_dmarc.bücher.example TXT" is "_dmarc.xn--bcher-kva.example TXT"); a subject that is record text (an SPF term, a
// DMARC tag) or a name a DNS answer gave (an MX host) is compared as recorded. Shown: the subject of the latest run
// that has the problem (tonight's, for new and still failing ones).
//
// Across a change of checks (RunSnapshot.producer: the mailhealth that made a run — its version, and a fingerprint of
// the code and data that make findings): when the run compared with was made by other checks (an upgrade; a run that
// recorded no producer was made before mailhealth recorded it), findings may appear or disappear with no DNS change —
// a rule added, a threshold moved, a provider learnt. The document says so (versionChange), and a problem last seen by
// other checks is called fixed only when its records show a change: the record lines it quoted (evidence panel/live)
// against every line tonight's same check quoted for the domain (recordsVerdict). The same lines: no longer reported
// (`records: "unchanged"`); a record (name and type) holding other values: fixed (`records: "changed"`); nothing to
// tell by: no longer reported, worded neutrally. A new problem on lines the other checks saw alike is marked the same
// way. Snapshots carry evidence only where this is asked (the cron loads it for tonight and the run compared with).
//
// Counting domains (summary, groups, trend): a domain's status is its audit's, except that what the checks a panel
// failure or another check's DNS trouble hides (MASKING_RULES) report does not count — its unmasked problems decide (fail, else warn), else it is unknown. A domain
// whose only fails are hidden is not failing.
import { compareText } from '../text.js';
import { checkDomain } from '../domain.js';
import { SEVERITY_ORDER, type CheckName, type DomainStatus, type Severity } from '../model.js';

export type SnapshotRunStatus = 'running' | 'complete' | 'interrupted' | 'cancelled';

export interface SnapshotFinding {
  rule: string;
  check: CheckName;
  severity: Severity;
  subject?: string | null;
  message?: string;
  /**
   * The records the finding quotes (its evidence's `panel` and `live` lines), loaded only where a run made by another
   * mailhealth is compared (see Producer): tonight's problems, and the problems of the run compared with.
   */
  evidence?: FindingRecords;
}

/** Record lines as the checks quote them: the panel's copy of the zone ("name ttl TYPE value") and the live answer. */
export interface FindingRecords {
  panel?: readonly string[];
  live?: readonly string[];
}

/**
 * The mailhealth that made a run (recorded in its meta: src/cron/report.ts): `version`, its package version, for
 * people; `checks`, a fingerprint of the code and data that make the findings — what tells "the checks changed". Two
 * runs whose `checks` differ may disagree about records nobody touched: a problem one no longer reports may be a rule
 * change, not a fix.
 */
export interface Producer {
  version: string;
  checks: string;
}

export interface DomainSnapshot {
  domain: string;
  /** The customer account owning the domain. */
  owner: string | null;
  /** The reseller owning that account, if any. */
  reseller?: string | null;
  status: DomainStatus;
  findings: SnapshotFinding[];
  /**
   * Every record line the domain's checks quoted that night (from all their findings, pass and info included), per
   * check — loaded, like SnapshotFinding.evidence, only where runs of different checks are compared.
   */
  records?: Partial<Record<CheckName, RecordLines>>;
}

/** The record lines of one check's findings, for a whole domain. */
export interface RecordLines {
  panel: readonly string[];
  live: readonly string[];
}

export interface RunSnapshot {
  runId: number;
  status: SnapshotRunStatus;
  startedAt: string;
  /** Needed for complete runs; ignored for others. */
  domains?: DomainSnapshot[];
  /**
   * Some of this complete run's results were pruned (retention keeps each domain's latest result however old): the
   * domains listed are what is left. Never the previous run, never in the trend; a domain it lacks is not known then.
   */
  partial?: boolean;
  /**
   * How many complete runs made after this one (and before the next newer run passed, or `current`) were not loaded:
   * a streak is never counted across them, and the trend stops before this run. Absent or 0: none.
   */
  runsNotLoadedAfter?: number;
  /**
   * The run's meta as the store recorded it (read only for runs that did not complete): a night the panel could not
   * be read carries `{failed: "panel", reason}` (src/cron/report.ts recordPanelFailure), and the report says why it
   * was skipped. Absent: the skipped run is listed by its status alone.
   */
  meta?: unknown;
  /**
   * The mailhealth that made the run: null when its meta records none (a run made before versions were recorded —
   * another version, as far as the report can tell); undefined when not said (the snapshot's maker does not know it:
   * never compared by version).
   */
  producer?: Producer | null;
}

/** The meta value (`failed`) of a report run recorded because the panel could not be read (no audit ran). */
export const PANEL_FAILED = 'panel';

/** A report run that did not complete, as the report lists it. */
export interface SkippedRun {
  runId: number;
  status: SnapshotRunStatus;
  startedAt: string;
  /** Set when the run was recorded because the panel could not be read (no audit ran that night). */
  failed?: typeof PANEL_FAILED;
  /** With `failed`: the panel's error as recorded (raw: escape it where it is shown). */
  reason?: string;
}

/**
 * Why a run did not complete when it says so in its meta: the panel could not be read, with the panel's error (null
 * when the meta records none that is text). Undefined for any other run (a stopped process, Ctrl-C, a lost lock).
 */
export function panelFailureOf(meta: unknown): { reason: string | null } | undefined {
  if (!meta || typeof meta !== 'object' || (meta as { failed?: unknown }).failed !== PANEL_FAILED) return undefined;
  const reason = (meta as { reason?: unknown }).reason;
  return { reason: typeof reason === 'string' && reason.trim() ? reason : null };
}

/**
 * A skipped run as the report lists it. In a scoped part (a reseller's or a customer's) only that it did not complete,
 * with its run and date: why a night failed (the panel's error, "the last report had <N>" — the whole server's domain
 * count) is for the server admin, whose own report and notice keep it.
 */
function skippedRun(r: RunSnapshot, scoped: boolean): SkippedRun {
  const s: SkippedRun = { runId: r.runId, status: r.status, startedAt: r.startedAt };
  if (scoped) return s;
  const failure = panelFailureOf(r.meta);
  if (failure) {
    s.failed = PANEL_FAILED;
    if (failure.reason !== null) s.reason = failure.reason;
  }
  return s;
}

export interface ReportItem {
  domain: string;
  rule: string;
  check: CheckName;
  severity: Severity;
  subject: string | null;
  message: string;
  owner: string | null;
  reseller: string | null;
}

/**
 * Across a change of checks (the run compared with was made by another mailhealth: ReportDoc.versionChange), what the
 * records say — only when they can tell: 'unchanged', every record line the finding quotes is one the other run's same
 * check quoted (the change is the checks', not the DNS's); 'changed', a record the finding quotes (its name and type)
 * holds other values in the other run. Absent: the same checks made both runs, or the records cannot tell.
 */
export type RecordsVerdict = 'unchanged' | 'changed';

export interface NewProblem extends ReportItem {
  /** The check was unknown (DNS trouble) in the previous complete run, so this may be older than it looks. */
  previouslyUnknown?: boolean;
  /** Across a change of checks: 'unchanged' — the records are as the earlier run saw them, this version's checks raise it. */
  records?: RecordsVerdict;
}

export interface StillFailing extends ReportItem {
  nights: number;
  /** The streak reaches past the oldest run looked at: `nights` is a lower bound. */
  nightsAtLeast?: boolean;
  /** startedAt of the first run of the streak. */
  since: string;
  /** Set when the severity changed since the previous run (e.g. warn → fail). */
  previousSeverity?: Severity;
}

export interface Resolved extends ReportItem {
  /**
   * fixed: the check ran and the problem is gone; domain-removed: the domain is no longer on the server;
   * no-longer-reported: the problem was last seen by a run made by another mailhealth (other checks: see Producer)
   * and its records do not show a change — a rule change, or a fix the records cannot show: never called fixed.
   */
  reason: 'fixed' | 'domain-removed' | 'no-longer-reported';
  /** Across a change of checks: 'changed' (reason fixed) or 'unchanged' (reason no-longer-reported); see RecordsVerdict. */
  records?: RecordsVerdict;
}

/** A problem of a domain no longer audited (see the header: notAudited). */
export interface NotAudited extends ReportItem {
  /** invalid-name: the recorded name is not a domain name, so no panel adapter lists it any more. */
  why: 'invalid-name';
  /** Why the name is not a domain name (the validator's words). */
  reason: string;
}

export interface UnknownItem extends ReportItem {
  /** Problems of the previous complete run that tonight's DNS trouble hides (not counted as resolved). */
  wasFailing: { rule: string; severity: Severity; subject: string | null }[];
  /**
   * Problems the checks a panel failure or another check's DNS trouble hides (MASKING_RULES) report tonight that are
   * not in wasFailing: shown, but not counted (not new, never resolved later) — without the panel's data, or the DNS
   * answers they depend on, they may be artefacts of the failure.
   * Absent from reports saved before it existed.
   */
  seenTonight?: { rule: string; severity: Severity; subject: string | null }[];
}

export interface TrendPoint {
  runId: number;
  startedAt: string;
  /** Domains failing (problems hidden by a panel failure do not count: see the header). */
  failing: number;
  warning: number;
  /**
   * Domains unknown that night (DNS or panel trouble and no fail known): not failing, not fine either — the night's
   * `failing` is a lower bound when this is not 0.
   */
  unknown: number;
  total: number;
}

export interface GroupCounts {
  domains: number;
  failingDomains: number;
  newProblems: number;
  resolved: number;
  stillFailing: number;
  unknown: number;
}

export interface CustomerGroup {
  owner: string | null;
  reseller: string | null;
  domains: string[];
  counts: GroupCounts;
}

export interface ResellerGroup {
  /** null: customers of the server admin directly. */
  reseller: string | null;
  customers: (string | null)[];
  counts: GroupCounts;
}

export interface ReportScope {
  reseller?: string;
  owner?: string;
}

/** A scope that restricts the report (a reseller's or a customer's part); none, or `{}`, is the whole server's. */
export function isScoped(scope: ReportScope | null | undefined): scope is ReportScope {
  return Boolean(scope && (scope.reseller !== undefined || scope.owner !== undefined));
}

export interface ReportDoc {
  version: 1;
  runId: number;
  startedAt: string;
  previousRunId: number | null;
  previousStartedAt: string | null;
  /**
   * Report runs between the previous complete run and this one that did not complete (skipped for the comparison); a
   * night the panel could not be read says so (`failed: "panel"`, `reason`) — in the whole server's report only: a
   * scoped part lists each by run, status and date alone (the reason is the admin's: see skippedRun).
   */
  skippedRuns: SkippedRun[];
  /** The date asked for with `since` (ISO), null when comparing with the last complete run. */
  since: string | null;
  /** No complete run is kept at or before `since`: compared with the oldest complete run kept instead. */
  sinceBeforeOldest: boolean;
  /** Complete runs looked at whose results were partly pruned: left out of the trend, never compared with. */
  prunedRuns: { runId: number; startedAt: string }[];
  /**
   * Complete runs not loaded (`since` older than the history loaded): `runs` of them between run `olderRunId` (the one
   * compared with) and run `newerRunId`. Streaks count from `newerRunId` on, as lower bounds; the trend starts there
   * too. null when none (absent from reports saved before it existed).
   */
  historyGap: { runs: number; olderRunId: number; olderStartedAt: string; newerRunId: number; newerStartedAt: string } | null;
  scope: ReportScope | null;
  /** The mailhealth that made this run (absent from reports saved before it was recorded; null: not known). */
  madeBy?: Producer | null;
  /**
   * The run compared with was made by a mailhealth whose checks differ (`previousVersion` null: one that recorded no
   * version): what appears or disappears may be the checks' change, not the DNS's. null when the same checks made both
   * (or either is not known); absent from reports saved before it existed.
   */
  versionChange?: VersionChange | null;
  summary: {
    domains: number;
    failingDomains: number;
    warningDomains: number;
    unknownDomains: number;
    newProblems: number;
    resolved: number;
    stillFailing: number;
    unknown: number;
    /** Problems of domains no longer audited (absent from reports saved before it existed). */
    notAudited?: number;
    /** Of `resolved`, those only no longer reported (reason no-longer-reported; absent from reports saved before it existed). */
    noLongerReported?: number;
  };
  newProblems: NewProblem[];
  resolved: Resolved[];
  /**
   * Problems of domains missing tonight whose recorded names are not domain names: not resolved — no longer audited
   * (see the header). Absent from reports saved before it existed.
   */
  notAudited?: NotAudited[];
  stillFailing: StillFailing[];
  unknown: UnknownItem[];
  byReseller: ResellerGroup[];
  byCustomer: CustomerGroup[];
  /** Oldest first, this run last. */
  trend: TrendPoint[];
}

export interface VersionChange {
  version: string;
  checks: string;
  /** null: the run compared with recorded no version (made before mailhealth recorded it). */
  previousVersion: string | null;
  previousChecks: string | null;
}

export interface BuildReportInput {
  current: RunSnapshot;
  /** Earlier report runs, any status, any order. Complete ones need `domains`. */
  runs: readonly RunSnapshot[];
  /**
   * 'last' (default): compare with the latest complete run before this one; a Date: with the latest complete run
   * started at or before it — or, when there is none, with the oldest complete run passed (`sinceBeforeOldest`).
   */
  since?: 'last' | Date;
  /**
   * Restrict everything (sections, groups, trend) to one reseller's or one customer's domains: those that are theirs
   * tonight (a domain no longer on the server: as last recorded). Comparisons stay per domain, whoever older runs
   * recorded as its owner.
   */
  scope?: ReportScope;
  /** Set when older complete runs exist than the ones passed (streaks reaching the end are lower bounds). */
  historyTruncated?: boolean;
  /** Points in the trend, this run included. Default 30. */
  trendLength?: number;
}

export class ReportInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportInputError';
  }
}

/** fail and warn findings are problems; unknown is DNS trouble; info/pass are fine. */
export function isProblem(severity: Severity): boolean {
  return severity === 'fail' || severity === 'warn';
}

export function problemKey(domain: string, rule: string, subject: string | null | undefined): string {
  return JSON.stringify([domain, rule, subject ?? null]);
}

/**
 * Rules whose subject is "<name> <TYPE>" with a name the check derived from the domain it audited (ctx.domain): the
 * domain itself or a name under it — src/core/checks/dns.ts, drift: the apex, _dmarc., _mailchannels. and
 * <selector>._domainkey. A check that comes to embed the audited name in a subject of another rule adds it here.
 * Every other subject is compared as recorded: record text the customer wrote (an SPF term such as
 * "a:mail.Shop.Example", a DMARC tag, a _mailchannels field), a host a DNS answer named (an MX), a DKIM selector, an
 * address — rewriting a term that happens to end in the domain would make the same term two problems.
 */
export const DOMAIN_NAME_SUBJECTS: ReadonlySet<string> = new Set(['dns.drift']);

/**
 * A subject as the report compares it: for DOMAIN_NAME_SUBJECTS, the domain as the run recorded it (`recorded`, the
 * name the check was given) put in its canonical form (`name`) where it is the subject's name or ends it — so a drift
 * recorded under "bücher.example" or "Shop.Example" is the same problem as tonight's under the A-label.
 */
function subjectKey(rule: string, subject: string | null | undefined, recorded: string, name: string): string | null {
  if (subject === undefined || subject === null) return null;
  if (recorded === name || !DOMAIN_NAME_SUBJECTS.has(rule)) return subject;
  const sp = subject.indexOf(' ');
  const head = sp < 0 ? subject : subject.slice(0, sp);
  const rest = sp < 0 ? '' : subject.slice(sp);
  if (head === recorded) return name + rest;
  if (head.endsWith(`.${recorded}`)) return head.slice(0, head.length - recorded.length) + name + rest;
  return subject;
}

/**
 * Unknown findings that hide more than their own check for the night (see the header): the checks they make unknown.
 * Narrowest correct: a check not listed for dns.panel-zone-unreadable never reads the panel's zone.
 *
 * DNS trouble that changes what other checks find, without an unknown finding of theirs (review R4: one SERVFAIL
 * turned mx.stale into a "fixed" problem and a "new" mx.routing-mismatch the same night, and back the next):
 *   dns.dns-error, dns.authority-unknown   the dns check's NS lookup got no answer (its only dns-error), or the panel
 *                  cannot tell whose nameservers serve the zone: whether this server's DNS is the live one is not
 *                  known (src/core/checks/dns.ts authority, state 'unknown'). mx asks it (liveDelegation) to decide
 *                  between mx.stale — "the MX comes from the zone the previous host still serves" — and
 *                  mx.routing-mismatch, and which live nameservers are a previous host's; dkim reports a CNAME with
 *                  records beside it in the panel's zone (dkim.multiple) only where that zone is the live one
 *                  (aliasBeside). spf, dmarc and lockdown ask it only for whether a finding offers the fix and for
 *                  the words of noteLiveElsewhere — the same rule, subject and severity either way: their answers
 *                  stand. ptr never asks it.
 *   mx.dns-error   a lookup of the MX, an MX host's address or its PTR got no answer: the classifier's view of where
 *                  the domain's mail is delivered (classify.ts findDelivery: the live MX, its hosts' addresses and
 *                  their PTR names — the same questions the mx check asks) is then incomplete, and the names it
 *                  judges by it change class — stale becomes unknown (liveMxAt, byProvider) — with no unknown finding
 *                  of the checks that asked: spf (spfTerm: a spf.stale-term drops away), dkim (dkimKey: a previous
 *                  host's key left at another selector is reported weak, or not), lockdown (lockdownId: stale-auth
 *                  with the id as its subject, or without one), and dns (classifier.host for the live nameservers:
 *                  with the mail routed elsewhere, a split delegation to a previous host's nameservers is
 *                  dns.not-authoritative, or not). dmarc (reportAddress: no DNS) and ptr do not ask it.
 * What these checks report that night is shown under the unknown finding ("seen tonight, unconfirmed"), what they no
 * longer report is listed as "was failing": never new, never resolved, on a night that could not tell.
 */
export const MASKING_RULES: Readonly<Record<string, readonly CheckName[] | 'all'>> = {
  'dns.panel-settings-unreadable': 'all',
  'dns.panel-zone-unreadable': ['spf', 'dkim', 'dmarc', 'mx', 'dns'],
  'dns.dns-error': ['mx', 'dkim'],
  'dns.authority-unknown': ['mx', 'dkim'],
  'mx.dns-error': ['spf', 'dkim', 'lockdown', 'dns'],
};

function masks(rule: string, check: CheckName): boolean {
  const m = MASKING_RULES[rule];
  return m === 'all' || (m !== undefined && m.includes(check));
}

interface IndexedDomain {
  snap: DomainSnapshot;
  /** The status the counts use: the audit's, unless a panel failure hid checks (see indexDomain). */
  status: DomainStatus;
  problems: Map<string, SnapshotFinding>;
  /** Problems of the checks a panel failure hid that night: not counted either way (see indexDomain). */
  hiddenProblems: Map<string, SnapshotFinding>;
  unknownChecks: Set<CheckName> | 'all';
}

interface IndexedRun {
  domains: Map<string, IndexedDomain>;
  partial: boolean;
}

/** `d` under its canonical name; `recorded`: the name the run recorded it under (what its subjects embed). */
function indexDomain(d: DomainSnapshot, recorded: string): IndexedDomain {
  const problems = new Map<string, SnapshotFinding>();
  let unknownChecks: Set<CheckName> | 'all' = new Set();
  // The checks a panel failure or another check's DNS trouble hides (MASKING_RULES): what they found that night is not
  // counted either way. Without the panel's zone they see less (fewer selectors, no previous-host traces), without an
  // answer about the nameservers or the MX they judge otherwise (see MASKING_RULES), so a problem they report then may
  // be an artefact of the failure (new that night, "fixed" the next) — and one they no longer report is not fixed.
  let hidden: Set<CheckName> | 'all' = new Set();
  for (const f of d.findings) {
    if (f.severity !== 'unknown' || unknownChecks === 'all') continue;
    const m = MASKING_RULES[f.rule];
    if (m === 'all') {
      unknownChecks = 'all';
      hidden = 'all';
    } else {
      unknownChecks.add(f.check);
      if (m && hidden !== 'all') {
        for (const c of m) {
          unknownChecks.add(c);
          hidden.add(c);
        }
      }
    }
  }
  const hiddenProblems = new Map<string, SnapshotFinding>();
  for (const f of d.findings) {
    if (!isProblem(f.severity)) continue;
    const into = hidden === 'all' || hidden.has(f.check) ? hiddenProblems : problems;
    const k = problemKey(d.domain, f.rule, subjectKey(f.rule, f.subject, recorded, d.domain));
    const had = into.get(k);
    // Same key twice: keep the worse one.
    if (!had || (had.severity === 'warn' && f.severity === 'fail')) into.set(k, f);
  }
  // What the hidden checks report does not make the domain failing (nor warning): its other problems decide, else it
  // is unknown (the panel failure is an unknown finding).
  let status = d.status;
  if (hidden === 'all' || hidden.size) {
    const sev = [...problems.values()].map((f) => f.severity);
    status = sev.includes('fail') ? 'fail' : sev.includes('warn') ? 'warn' : 'unknown';
  }
  return { snap: d, status, problems, hiddenProblems, unknownChecks };
}

// Snapshots are read, never changed: a run is indexed once, however many parts (one per reseller) are built from it.
const indexCache = new WeakMap<RunSnapshot, IndexedRun>();

// The same names come back in every run looked at (30 nights of a server's domains): each is checked once, remembered
// (bounded: cleared when full).
const canonical = new Map<string, string>();

/** A recorded name as the report compares it: checkDomain's canonical form, or the name as it is when it is none. */
function reportName(name: string): string {
  let out = canonical.get(name);
  if (out === undefined) {
    const c = checkDomain(name);
    out = c.ok ? c.domain : name;
    if (canonical.size >= 100_000) canonical.clear();
    canonical.set(name, out);
  }
  return out;
}

/** Why a recorded name is not a domain name (the validator's reason), or null when it is one. */
export function invalidNameReason(name: string): string | null {
  const c = checkDomain(name);
  return c.ok ? null : c.reason;
}

function indexRun(run: RunSnapshot): IndexedRun {
  let idx = indexCache.get(run);
  if (!idx) {
    const domains = new Map<string, IndexedDomain>();
    for (const d of run.domains ?? []) {
      const name = reportName(d.domain);
      // A name in its canonical form wins over another spelling of it in the same run (see the header).
      if (name !== d.domain && domains.has(name)) continue;
      domains.set(name, indexDomain(name === d.domain ? d : { ...d, domain: name }, d.domain));
    }
    idx = { domains, partial: run.partial === true };
    indexCache.set(run, idx);
  }
  return idx;
}

/**
 * Whether `run` was made by other checks than `current` (RunSnapshot.producer): a run that recorded none counts as
 * another's (it was made before versions were recorded). Never when either is not said.
 */
function otherChecks(run: RunSnapshot, current: RunSnapshot): boolean {
  if (!current.producer || run.producer === undefined) return false;
  return run.producer === null || run.producer.checks !== current.producer.checks;
}

/** ReportDoc.versionChange for the run compared with. */
function versionChangeOf(previous: RunSnapshot | null, current: RunSnapshot): VersionChange | null {
  if (!previous || !current.producer || !otherChecks(previous, current)) return null;
  return {
    version: current.producer.version,
    checks: current.producer.checks,
    previousVersion: previous.producer?.version ?? null,
    previousChecks: previous.producer?.checks ?? null,
  };
}

/** A record line of the panel's zone as the checks write it (src/core/checks/util.ts panelEvidence). */
const PANEL_RECORD = /^(\S+) \d+ ([A-Z][A-Z0-9]*) (.*)$/s;
const PANEL_NONE = /^(\S+) ([A-Z][A-Z0-9]*): none in the panel's zone$/;

/**
 * A panel line as compared: its name and type (`key`) and value — null for "none in the panel's zone". The TTL is
 * left out: a TTL changed fixes nothing. null for a line that is not a record (a note, a nameserver list).
 */
function panelRecord(line: string): { key: string; value: string | null } | null {
  const m = PANEL_RECORD.exec(line);
  if (m) return { key: `${m[1]} ${m[2]}`, value: m[3] };
  const n = PANEL_NONE.exec(line);
  return n ? { key: `${n[1]} ${n[2]}`, value: null } : null;
}

function panelText(line: string): string {
  const r = panelRecord(line);
  return r ? `${r.key}\n${r.value ?? ''}\n${r.value === null ? 'none' : ''}` : line;
}

function lines(xs: readonly unknown[] | undefined): string[] {
  return Array.isArray(xs) ? xs.filter((x): x is string => typeof x === 'string') : [];
}

/** name+type → the values (null: none) a set of panel lines shows. */
function valuesByRecord(panel: readonly string[]): Map<string, Set<string | null>> {
  const out = new Map<string, Set<string | null>>();
  for (const line of panel) {
    const r = panelRecord(line);
    if (!r) continue;
    const set = out.get(r.key) ?? new Set<string | null>();
    set.add(r.value);
    out.set(r.key, set);
  }
  return out;
}

/**
 * What the records say about a finding across a change of checks (RecordsVerdict): the record lines it quotes
 * (`quoted`) against every record line the other run's same check quoted for the domain (`other`). 'unchanged': each
 * line it quotes is there (the TTL aside); 'changed': a record it quotes (name and type) holds other values there, or
 * is there no longer / only there; undefined: they cannot tell (nothing quoted, or the other run's check did not quote
 * those records — it reported nothing about them).
 */
export function recordsVerdict(quoted: FindingRecords | undefined, other: RecordLines | undefined): RecordsVerdict | undefined {
  if (!quoted || !other) return undefined;
  const panel = lines(quoted.panel);
  const live = lines(quoted.live);
  if (!panel.length && !live.length) return undefined;
  const otherPanel = new Set(lines(other.panel).map(panelText));
  const otherLive = new Set(lines(other.live));
  if (panel.every((l) => otherPanel.has(panelText(l))) && live.every((l) => otherLive.has(l))) return 'unchanged';
  const there = valuesByRecord(lines(other.panel));
  for (const [key, values] of valuesByRecord(panel)) {
    const now = there.get(key);
    if (!now) continue;
    if (now.size !== values.size || [...values].some((v) => !now.has(v))) return 'changed';
  }
  return undefined;
}

/** Whether an owner/reseller pair is in the scope. */
function inScope(d: { owner: string | null; reseller?: string | null }, scope: ReportScope | undefined): boolean {
  if (!scope) return true;
  if (scope.reseller !== undefined && (d.reseller ?? null) !== scope.reseller) return false;
  if (scope.owner !== undefined && d.owner !== scope.owner) return false;
  return true;
}

/** pruned: the run is partly pruned and holds no result for the domain (not known that night). */
type KeyState = 'present' | 'absent' | 'unknown' | 'missing' | 'pruned';

function stateOf(run: IndexedRun, domain: string, key: string, check: CheckName): KeyState {
  const d = run.domains.get(domain);
  if (!d) return run.partial ? 'pruned' : 'missing';
  if (d.problems.has(key)) return 'present';
  if (d.unknownChecks === 'all' || d.unknownChecks.has(check)) return 'unknown';
  return 'absent';
}

function item(d: DomainSnapshot, f: SnapshotFinding): ReportItem {
  return {
    domain: d.domain,
    rule: f.rule,
    check: f.check,
    severity: f.severity,
    subject: f.subject ?? null,
    message: f.message ?? '',
    owner: d.owner ?? null,
    reseller: d.reseller ?? null,
  };
}

function cmpNullable(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return compareText(a, b);
}

function sortItems<T extends ReportItem>(items: T[]): T[] {
  return items.sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      cmpNullable(a.reseller, b.reseller) ||
      cmpNullable(a.owner, b.owner) ||
      compareText(a.domain, b.domain) ||
      compareText(a.rule, b.rule) ||
      cmpNullable(a.subject, b.subject),
  );
}

/**
 * Newest first. Runs are ordered by id — the order the store made them in — not by their start time: a server clock
 * set back (NTP correcting a fast clock) would otherwise put an earlier run after a later one.
 */
function byTimeDesc(a: RunSnapshot, b: RunSnapshot): number {
  return b.runId - a.runId;
}

/** Counts the run's domains in the scope (`owned` says whose a domain is: tonight's owner while it is on the server). */
function trendPoint(run: RunSnapshot, idx: IndexedRun, owned: (snap: DomainSnapshot) => boolean): TrendPoint {
  const p: TrendPoint = { runId: run.runId, startedAt: run.startedAt, failing: 0, warning: 0, unknown: 0, total: 0 };
  for (const { snap, status } of idx.domains.values()) {
    if (!owned(snap)) continue;
    p.total++;
    if (status === 'fail') p.failing++;
    else if (status === 'warn') p.warning++;
    else if (status === 'unknown') p.unknown++;
  }
  return p;
}

function emptyCounts(): GroupCounts {
  return { domains: 0, failingDomains: 0, newProblems: 0, resolved: 0, stillFailing: 0, unknown: 0 };
}

/**
 * Picks the run to compare with: the latest complete run before `current` (started at or before `since`, if a Date).
 * A partly pruned run is never picked.
 */
export function pickPrevious(current: RunSnapshot, runs: readonly RunSnapshot[], since: 'last' | Date = 'last'): RunSnapshot | null {
  const earlier = runs.filter((r) => r.runId !== current.runId && r.status === 'complete' && !r.partial && isBefore(r, current)).sort(byTimeDesc);
  if (since === 'last') return earlier[0] ?? null;
  const limit = since.getTime();
  if (Number.isNaN(limit)) throw new ReportInputError('since is not a valid date');
  return earlier.find((r) => Date.parse(r.startedAt) <= limit) ?? null;
}

/** Made before `current` (by id: see byTimeDesc). */
function isBefore(r: RunSnapshot, current: RunSnapshot): boolean {
  return r.runId < current.runId;
}

export function buildReport(input: BuildReportInput): ReportDoc {
  const { current, scope } = input;
  if (current.status !== 'complete') {
    throw new ReportInputError(`run ${current.runId} is ${current.status}, not complete: only a complete run is reported`);
  }
  const trendLength = input.trendLength ?? 30;
  const since = input.since ?? 'last';
  // History for streaks and the trend: complete runs before this one, newest first.
  const history = input.runs.filter((r) => r.runId !== current.runId && r.status === 'complete' && isBefore(r, current)).sort(byTimeDesc);
  let previous = pickPrevious(current, input.runs, since);
  // `since` before every complete run kept: compare with the oldest one (and say so), not with nothing — the chart
  // shows those runs, so calling every problem "new" would contradict it.
  let sinceBeforeOldest = false;
  if (!previous && since instanceof Date) {
    const whole = history.filter((r) => !r.partial);
    if (whole.length) {
      previous = whole[whole.length - 1];
      sinceBeforeOldest = true;
    }
  }
  // The run compared with made by other checks (an upgrade): said once at the top; what it alone saw gone tonight is
  // called fixed only when its records show a change (see Resolved.reason).
  const versionChange = versionChangeOf(previous, current);
  const historyIdx = history.map((r) => indexRun(r));
  const cur = indexRun(current);
  const prevPos = previous ? history.indexOf(previous) : -1;
  // Complete runs were not loaded between history[i] and the next newer run (history[i - 1], or current): a walk
  // reaching history[i] from a newer run stops (what those nights said is not known).
  const cutBefore = (i: number): boolean => (history[i].runsNotLoadedAfter ?? 0) > 0;
  // The unbroken history from tonight back: streaks and the trend stay within it.
  let unbroken = history.findIndex((_, i) => cutBefore(i));
  if (unbroken < 0) unbroken = history.length;

  // Whose a domain is: tonight's owner while it is on the server, else as recorded in the snapshot given.
  const owned = (snap: DomainSnapshot): boolean => inScope(cur.domains.get(snap.domain)?.snap ?? snap, scope);

  const skippedRuns = input.runs
    .filter(
      (r) =>
        r.runId !== current.runId &&
        r.status !== 'complete' &&
        isBefore(r, current) &&
        (!previous || isBefore(previous, r)),
    )
    .sort((a, b) => -byTimeDesc(a, b))
    .map((r) => skippedRun(r, isScoped(scope)));

  /**
   * The first state that is known, walking back from the previous run over runs whose check of the domain was
   * unknown (or whose result for it was pruned). 'missing' when nothing is known.
   */
  const lastKnown = (domain: string, key: string, check: CheckName): { state: KeyState; pos: number; sawUnknown: boolean } => {
    let sawUnknown = false;
    if (prevPos >= 0) {
      for (let i = prevPos; i < historyIdx.length; i++) {
        if (i > prevPos && cutBefore(i)) break;
        const s = stateOf(historyIdx[i], domain, key, check);
        if (s === 'unknown') {
          sawUnknown = true;
          continue;
        }
        if (s === 'pruned') continue;
        return { state: s, pos: i, sawUnknown };
      }
    }
    return { state: 'missing', pos: -1, sawUnknown };
  };

  const newProblems: NewProblem[] = [];
  const stillFailing: StillFailing[] = [];
  const resolved: Resolved[] = [];
  const notAudited: NotAudited[] = [];
  const unknown: UnknownItem[] = [];

  for (const d of cur.domains.values()) {
    if (!inScope(d.snap, scope)) continue;
    for (const [key, f] of d.problems) {
      const known = lastKnown(d.snap.domain, key, f.check);
      if (known.state !== 'present') {
        const n: NewProblem = item(d.snap, f);
        if (known.sawUnknown) n.previouslyUnknown = true;
        // Absent the last night its check answered — by other checks: were its records there then too?
        if (known.state === 'absent' && otherChecks(history[known.pos], current)) {
          const v = recordsVerdict(f.evidence, historyIdx[known.pos].domains.get(d.snap.domain)?.snap.records?.[f.check]);
          if (v) n.records = v;
        }
        newProblems.push(n);
        continue;
      }
      // Streak: consecutive complete runs (newest first from the one before tonight) where the problem was present —
      // within the unbroken history: nights not loaded are never counted.
      let nights = 1;
      let streakSince = current.startedAt;
      let pruned = false;
      let reachedEnd = true;
      for (let i = 0; i < unbroken; i++) {
        const s = stateOf(historyIdx[i], d.snap.domain, key, f.check);
        if (s === 'unknown') continue;
        if (s === 'pruned') {
          // Not known that night (its result was pruned): walked past like an unknown night.
          pruned = true;
          continue;
        }
        if (s !== 'present') {
          reachedEnd = false;
          break;
        }
        nights++;
        streakSince = history[i].startedAt;
      }
      const s: StillFailing = { ...item(d.snap, f), nights, since: streakSince };
      // Reaching the oldest run looked at: a lower bound when older runs exist (not loaded), or results were pruned on
      // the way.
      if (reachedEnd && (unbroken < history.length || input.historyTruncated || pruned)) s.nightsAtLeast = true;
      const before = historyIdx[known.pos].domains.get(d.snap.domain)?.problems.get(key);
      if (before && before.severity !== f.severity) s.previousSeverity = before.severity;
      stillFailing.push(s);
    }
  }

  // Previous problems gone tonight: every problem present the last night its check gave an answer (at or before the
  // previous run — so a problem last seen before a night of DNS trouble is still compared), newest first.
  const masked = new Map<string, { check: CheckName; list: UnknownItem['wasFailing'] }[]>();
  // Their keys, per domain: what the hidden checks report tonight is compared with them by key (the subject of an
  // older run may spell the domain otherwise).
  const maskedKeys = new Map<string, Set<string>>();
  const seenKeys = new Set<string>();
  // Domains whose every check gave an answer in a run already walked: nothing older can be their last known state.
  const settled = new Set<string>();
  // The newest snapshot of each domain walked (whose it was, for a domain no longer on the server).
  const lastSeen = new Map<string, DomainSnapshot>();
  for (let i = Math.max(prevPos, 0); prevPos >= 0 && i < historyIdx.length; i++) {
    if (i > prevPos && cutBefore(i)) break;
    for (const p of historyIdx[i].domains.values()) {
      const domain = p.snap.domain;
      if (settled.has(domain)) continue;
      if (!lastSeen.has(domain)) lastSeen.set(domain, p.snap);
      if (p.unknownChecks !== 'all' && p.unknownChecks.size === 0) settled.add(domain);
      const here = cur.domains.get(domain)?.snap;
      const whose = here ?? lastSeen.get(domain)!;
      if (!inScope(whose, scope)) continue;
      for (const [key, f] of p.problems) {
        if (seenKeys.has(key)) continue;
        seenKeys.add(key);
        // Present here; it was the last known state unless a newer run (from the previous one on) knew better.
        if (i > prevPos && lastKnown(domain, key, f.check).state !== 'present') continue;
        const s = stateOf(cur, domain, key, f.check);
        if (s === 'present') continue;
        if (s === 'unknown') {
          const list = masked.get(domain) ?? [];
          list.push({ check: f.check, list: [{ rule: f.rule, severity: f.severity, subject: f.subject ?? null }] });
          masked.set(domain, list);
          const keys = maskedKeys.get(domain) ?? new Set<string>();
          keys.add(key);
          maskedKeys.set(domain, keys);
          continue;
        }
        // Not a domain name: left out of tonight's audit by the panel's adapter, whether or not the panel still lists
        // it — no longer audited, not resolved (see the header).
        const invalid = s === 'missing' ? invalidNameReason(domain) : null;
        if (invalid !== null) {
          notAudited.push({ ...item({ ...p.snap, owner: whose.owner, reseller: whose.reseller }, f), why: 'invalid-name', reason: invalid });
          continue;
        }
        // Owner/reseller as known tonight when the domain is still here (accounts move), else as last recorded.
        const r: Resolved = {
          ...item(here ? { ...p.snap, owner: here.owner, reseller: here.reseller } : { ...p.snap, owner: whose.owner, reseller: whose.reseller }, f),
          reason: s === 'missing' ? 'domain-removed' : 'fixed',
        };
        // Last seen by other checks (an upgrade since): fixed only when its records changed — the same records no
        // longer reported are the checks' change, and records that cannot tell are said neutrally.
        if (r.reason === 'fixed' && otherChecks(history[i], current)) {
          const v = recordsVerdict(f.evidence, here?.records?.[f.check]);
          if (v) r.records = v;
          if (v !== 'changed') r.reason = 'no-longer-reported';
        }
        resolved.push(r);
      }
    }
  }

  for (const d of cur.domains.values()) {
    if (!inScope(d.snap, scope)) continue;
    const hidden = masked.get(d.snap.domain) ?? [];
    const items: UnknownItem[] = [];
    for (const f of d.snap.findings) {
      if (f.severity !== 'unknown') continue;
      items.push({ ...item(d.snap, f), wasFailing: [] });
    }
    for (const h of hidden) {
      // Under the unknown finding of the same check, else the panel failure that hides it.
      const target = items.find((u) => u.check === h.check) ?? items.find((u) => masks(u.rule, h.check)) ?? items[0];
      target?.wasFailing.push(...h.list);
    }
    // What the hidden checks report tonight (and was not failing before): under the panel failure that hides them.
    const wasFailing = maskedKeys.get(d.snap.domain);
    for (const [key, f] of d.hiddenProblems) {
      const subject = f.subject ?? null;
      if (wasFailing?.has(key)) continue;
      const target = items.find((u) => masks(u.rule, f.check)) ?? items[0];
      if (!target) continue;
      (target.seenTonight ??= []).push({ rule: f.rule, severity: f.severity, subject });
    }
    unknown.push(...items);
  }

  sortItems(newProblems);
  sortItems(stillFailing);
  sortItems(resolved);
  sortItems(notAudited);
  sortItems(unknown);

  // Groups per customer and per reseller.
  const customers = new Map<string, CustomerGroup>();
  const custKey = (owner: string | null, reseller: string | null) => JSON.stringify([reseller, owner]);
  const customer = (owner: string | null, reseller: string | null): CustomerGroup => {
    const k = custKey(owner, reseller);
    let g = customers.get(k);
    if (!g) {
      g = { owner, reseller, domains: [], counts: emptyCounts() };
      customers.set(k, g);
    }
    return g;
  };
  for (const { snap, status } of cur.domains.values()) {
    if (!inScope(snap, scope)) continue;
    const g = customer(snap.owner ?? null, snap.reseller ?? null);
    g.domains.push(snap.domain);
    g.counts.domains++;
    if (status === 'fail') g.counts.failingDomains++;
  }
  for (const i of newProblems) customer(i.owner, i.reseller).counts.newProblems++;
  for (const i of resolved) customer(i.owner, i.reseller).counts.resolved++;
  for (const i of stillFailing) customer(i.owner, i.reseller).counts.stillFailing++;
  for (const i of unknown) customer(i.owner, i.reseller).counts.unknown++;
  const byCustomer = [...customers.values()].sort((a, b) => cmpNullable(a.reseller, b.reseller) || cmpNullable(a.owner, b.owner));
  for (const g of byCustomer) g.domains.sort();

  const resellers = new Map<string, ResellerGroup>();
  for (const g of byCustomer) {
    const k = JSON.stringify(g.reseller);
    let r = resellers.get(k);
    if (!r) {
      r = { reseller: g.reseller, customers: [], counts: emptyCounts() };
      resellers.set(k, r);
    }
    r.customers.push(g.owner);
    for (const c of Object.keys(g.counts) as (keyof GroupCounts)[]) r.counts[c] += g.counts[c];
  }
  const byReseller = [...resellers.values()].sort((a, b) => cmpNullable(a.reseller, b.reseller));

  // The trend: whole complete runs only (a partly pruned run would show a full night as "1 failing of 1"), nights in a
  // row (the unbroken history).
  const trend: TrendPoint[] = [];
  const charted = history
    .slice(0, unbroken)
    .map((r, i) => ({ r, idx: historyIdx[i] }))
    .filter(({ r }) => !r.partial);
  for (let i = Math.min(charted.length, Math.max(0, trendLength - 1)) - 1; i >= 0; i--) trend.push(trendPoint(charted[i].r, charted[i].idx, owned));
  const here = trendPoint(current, cur, owned);
  trend.push(here);

  let historyGap: ReportDoc['historyGap'] = null;
  if (unbroken < history.length) {
    const older = history[unbroken];
    const newer = unbroken > 0 ? history[unbroken - 1] : current;
    historyGap = { runs: older.runsNotLoadedAfter ?? 0, olderRunId: older.runId, olderStartedAt: older.startedAt, newerRunId: newer.runId, newerStartedAt: newer.startedAt };
  }

  return {
    version: 1,
    runId: current.runId,
    startedAt: current.startedAt,
    previousRunId: previous?.runId ?? null,
    previousStartedAt: previous?.startedAt ?? null,
    skippedRuns,
    since: since instanceof Date ? since.toISOString() : null,
    sinceBeforeOldest,
    prunedRuns: history.filter((r) => r.partial).map((r) => ({ runId: r.runId, startedAt: r.startedAt })),
    historyGap,
    scope: isScoped(scope) ? { ...scope } : null,
    madeBy: current.producer ? { ...current.producer } : null,
    versionChange,
    summary: {
      domains: here.total,
      failingDomains: here.failing,
      warningDomains: here.warning,
      unknownDomains: here.unknown,
      newProblems: newProblems.length,
      resolved: resolved.length,
      stillFailing: stillFailing.length,
      unknown: unknown.length,
      notAudited: notAudited.length,
      noLongerReported: resolved.filter((r) => r.reason === 'no-longer-reported').length,
    },
    newProblems,
    resolved,
    notAudited,
    stillFailing,
    unknown,
    byReseller,
    byCustomer,
    trend,
  };
}

