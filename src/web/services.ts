// The web app's calls into core and the store: audits (recorded), plans, apply and undo. No audit or fix logic here —
// only the wiring (a fresh resolver per request or job, who acts, what gets recorded).
import { auditDomain, buildContext, runChecks } from '../core/audit.js';
import { canonName } from '../core/domain.js';
import type { Change, DomainAudit, DomainRef, Evidence, FixKind, Identity } from '../core/model.js';
import type { Panel } from '../core/panel.js';
import { makePlanWith, PlanError } from '../core/plans/index.js';
import { applyPlan, undoChange, withoutCopies, type ApplyDeps, type ApplyOutcome, type WriteGuard, type WriteStep } from '../core/plans/apply.js';
import { undoneAlready } from '../core/plans/undo-again.js';
import { planJson, type Plan } from '../core/plans/plan.js';
import { chainLeads, sameChanges, type ZoneWrite } from '../core/plans/rebase.js';
import { termKey } from '../core/plans/spf.js';
import { isSpfRecord } from '../core/spf/parse.js';
import { isLockdownRecord } from '../core/lockdown/record.js';
import type { Resolver } from '../core/resolver.js';
import type { ResolverOptions } from '../adapters/dns/resolver.js';
import { StoreError, type ChangeRecord, type Store } from '../adapters/store/store.js';
import { isBusy } from '../adapters/store/busy.js';
import { isStoreText, shownStoredChange, storePath, withheld, WITHHELD } from '../adapters/store/withheld.js';
import type { SettingsSource } from '../adapters/panels/with-settings.js';
import { escapeControls } from '../core/text.js';
import { SCOPE_RECHECK_MS } from '../adapters/workers/gone.js';
import { mapInGroups, zoneGroup } from './pool.js';
import type { IdentitySource } from './identity.js';
import { accountKey, listProvesAbsence } from './session.js';
import { auditOptionsFrom } from '../core/settings.js';

export interface WebDeps {
  /** The panel with the admin's settings applied (withSettings). */
  panel: Panel;
  store: Store;
  makeResolver: () => Resolver;
  /**
   * The options makeResolver's wire resolver is built from, when it is one: then bulk jobs may audit on worker threads,
   * each building its own resolver from them (src/adapters/workers). Absent: bulk jobs run in this thread.
   */
  resolverOptions?: () => ResolverOptions;
  /** Worker threads for bulk jobs, besides the server's own thread (default: one per core beyond the first; 0: none). */
  auditThreads?: number;
  now: () => Date;
  /**
   * Milliseconds on a clock that never steps (performance.now), for how old an in-memory reading is (BulkScope's scope
   * reading). Absent: now()'s (tests that build WebDeps with a fake clock). Ages below zero count as stale either way
   * (freshFor): a clock stepped back since the reading must not keep it fresh for the step's length.
   */
  elapsedMs?: () => number;
  auditConcurrency: number;
  /**
   * Where the app's identities come from (app.ts AppDeps.identityFrom). A front door's identity has no web login, so a
   * bulk job's scope re-check holds it to no account (jobs.ts scopeAccount). Absent: 'session'.
   */
  identityFrom?: IdentitySource;
}

/**
 * Whether something taken at `at` is still fresh at `now` for `ms`: at most `ms` old — and not "taken in the future":
 * an age below zero means the clock stepped back since (a wall-clock time stored while the clock was fast, or an
 * injected test clock), and `now - at < ms` would then hold for as long as the step, not `ms`. Such a reading is
 * stale: read it again, show it no longer.
 */
export function freshFor(at: number, now: number, ms: number): boolean {
  const age = now - at;
  return age >= 0 && age < ms;
}

// A failing history database, as pages and the API say it. The store's own errors name the server's database file and
// quote SQLite ("the mailhealth database /var/lib/… is locked by another process (database is locked)"): that goes to
// the server's log only. The customer is told what the failure left — nothing changed, the audit not recorded, the
// settings not saved, where to look after a fix — in words of mailhealth's own (jobs.ts does the same for bulk jobs).
//
// A text that merely looks like the store's (a TXT record, a panel's message quoting "SQLITE_BUSY" or "mailhealth
// database") is the customer's own and is shown as it is: only the database file's path marks the store's words
// (store.ts toStoreError names it in every message it builds). Where a text is withheld for that, the answer says only
// that (WITHHELD): the store is said to have failed only where a store error was actually met (storeFailureMessage).

/** One line of the server's log (stderr): control and invisible characters written out, so no text starts a line. */
export function logWeb(what: string, e: unknown): void {
  process.stderr.write(`mailhealth web: ${logLine(what)}: ${logText(e)}\n`);
}

/** One piece of a log line with its control and invisible characters written out (`\x1b`, `\u202E`). */
export function logSafe(s: string): string {
  return escapeControls(s, true);
}

/** A piece that stays on its log line: logSafe, and a newline written `\n` (as server.ts's settler log writes it). */
function logLine(s: string): string {
  return logSafe(s).replace(/\n/g, '\\n');
}

/**
 * An error for the log: its name and message on the line (a message is outside text — a panel's, a record's — and its
 * newlines must not start a line of their own), then its stack frames on the lines after it, each indented.
 */
function logText(e: unknown): string {
  if (!(e instanceof Error)) return logLine(String(e));
  const message = String(e.message);
  const head = message === '' ? e.name : `${e.name}: ${message}`;
  // The stack opens with the name and message, as many lines as the message has: the frames follow them.
  const frames = typeof e.stack === 'string' ? e.stack.split('\n').slice(message.split('\n').length) : [];
  return [logLine(head), ...frames.map((f) => logSafe(f)).map((f) => (/^\s/.test(f) ? f : `    ${f}`))].join('\n');
}

/** What stands, in an answer, for a failure of the history database a route met (storeFailureMessage). */
export const SEE_LOG = "(the server's log says why)";
// The store's words in a text, and WITHHELD standing for them: src/adapters/store/withheld.ts, shared with the CLI's
// history. Exported here as well, where the web's modules have always found them.
export { isStoreText, WITHHELD };

/** What of a stored row this process has logged already (logOnce): bounded, forgotten all at once when full. */
const loggedOnce = new Set<string>();
const LOGGED_ONCE_MAX = 10_000;

/**
 * `what` logged once per process for `key` (a stored change, audit or job row: shown on every view of its page, its
 * text is the same each time), every time without one (an answer made now).
 */
function logOnce(store: { readonly path?: unknown }, key: string | undefined, what: string, text: string): void {
  if (key !== undefined) {
    const k = `${storePath(store) ?? ''}\0${key}`;
    if (loggedOnce.has(k)) return;
    if (loggedOnce.size >= LOGGED_ONCE_MAX) loggedOnce.clear();
    loggedOnce.add(k);
  }
  logWeb(what, text);
}

/**
 * A text for the page or the API: the history database's words in it (its file's path) withheld as `withheld` says,
 * the whole text giving way to `otherwise` where they are not in parentheses. The text as it came goes to the log
 * (`what`; once per process for a stored row's `key`).
 */
export function shownText(store: { readonly path?: unknown } | null | undefined, what: string, text: string, otherwise: string, key?: string): string {
  const path = storePath(store);
  if (path === null || !text.includes(path)) return text;
  logOnce(store ?? {}, key, what, text);
  return withheld(path, text, otherwise);
}

/** shownText for a text the log has already (an error logged as it came): nothing logged again. */
export function withheldText(store: { readonly path?: unknown } | null | undefined, text: string, otherwise: string): string {
  const path = storePath(store);
  return path === null ? text : withheld(path, text, otherwise);
}

/**
 * Where a request met a failing history database, for what the answer says it left: `page` (a page or an answer that
 * only reads), `unstarted` (a request that had not reached its route: the session's and identity's reads), `request`
 * (anything else nobody named), and the actions that write.
 */
export type StoreStage = 'page' | 'unstarted' | 'request' | 'audit' | 'job' | 'cancel' | 'fix' | 'undo' | 'verify' | 'settings';

const AT_STAGE: Record<StoreStage, string> = {
  page: 'this page could not be shown. Nothing was changed',
  unstarted: 'this request was not carried out. Nothing was changed',
  request: 'this request was not completed',
  audit: 'the audit could not be recorded. Nothing was changed on the domain',
  job: 'the bulk audit was not started. Nothing was changed',
  cancel: 'the job could not be told to stop, and goes on',
  fix:
    "the fix stopped before its outcome could be recorded. mailhealth records a fix there before it writes to the zone: once the database answers again, the domain's history shows " +
    'whether this one was written (a change shown as pending is checked against the zone and settled); with no change there, nothing was written. Look there before applying the fix again',
  undo:
    "the undo stopped before its outcome could be recorded. mailhealth records an undo there before it writes to the zone: once the database answers again, the domain's history shows " +
    'whether it was written (an undo shown as pending is checked against the zone and settled); with none there, nothing was written. Look there before undoing again',
  // Before the check (reading the history): an answer found that could not be stored is said by reverify.ts
  // (unrecordedCheckText: the answer, and that the history misses it).
  verify: "the change's records were not checked again. Nothing was changed",
  settings: 'the settings were not saved',
};

/** A store failure a route has turned into its answer (app.ts renders it; the raw error is in the log already). */
export class StoreFailure extends Error {
  constructor(
    public readonly status: number,
    message: string,
    /** Links the error page shows first (same-site paths: app.ts drops any other). */
    public readonly back: readonly { href: string; text: string }[] = [],
  ) {
    super(message);
    this.name = 'StoreFailure';
  }
}

/**
 * A store error is a failing history database (busy: another process writing; else a fault the log explains) except
 * when it is an answer of its own: another holder's named lock (withLock: a report run, a fix's domain lock), or a
 * newer mailhealth's schema (app.ts: "restart the service").
 */
export function isStoreFailure(e: unknown): e is StoreError {
  return e instanceof StoreError && e.code !== 'too-new' && !(e.code === 'locked' && e.heldLock !== undefined);
}

/** The customer's words for a store failure at `stage`: what it left, and what to do. */
export function storeFailureMessage(e: unknown, stage: StoreStage): string {
  return isBusy(e)
    ? `The history database is busy (another mailhealth process is writing to it): ${AT_STAGE[stage]}. Try again in a moment.`
    : `The history database could not be read or written ${SEE_LOG}: ${AT_STAGE[stage]}. Try again later; if it keeps happening, ask your hosting provider.`;
}

/** A store error thrown at `stage` as the answer to give (the raw error logged as `what`); anything else: as it is. */
export function storeFailure(e: unknown, stage: StoreStage, what: string, back: readonly { href: string; text: string }[] = []): unknown {
  if (!isStoreFailure(e)) return e;
  logWeb(what, e);
  return new StoreFailure(isBusy(e) ? 503 : 500, storeFailureMessage(e, stage), back);
}

/** `fn`, its store failures answered as `stage` says (storeFailure). */
export async function atStage<T>(stage: StoreStage, what: string, fn: () => Promise<T> | T, back: readonly { href: string; text: string }[] = []): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw storeFailure(e, stage, what, back);
  }
}

/**
 * The admin's settings for withSettings, read from the store: a store that fails there fails the panel read it is part
 * of (core says "the panel could not provide the server's mail settings: …", in a finding or a refusal) in words of
 * its own — never the store's, which would be recorded in the audit and shown on the domain's page.
 */
export function settingsFrom(store: Pick<Store, 'getSetting' | 'path'>): SettingsSource {
  return {
    getSetting<T = unknown>(key: string): T | undefined {
      try {
        return store.getSetting<T>(key);
      } catch (e) {
        logWeb(`reading the setting ${key}`, e);
        const message = isBusy(e)
          ? "the admin's settings could not be read: mailhealth's history database is busy (another mailhealth process is writing to it); try again in a moment"
          : `the admin's settings could not be read from mailhealth's history database ${SEE_LOG}`;
        // Still a store error of the same kind where core lets it through (a busy database is then answered as one).
        throw e instanceof StoreError ? new StoreError(e.code, message, { cause: e }) : new Error(message, { cause: e });
      }
    },
  };
}

/**
 * What an outcome's reason or message says instead when the history database's file's path is in it other than in
 * parentheses: only what its status tells (nothing more is known — the text may be a record's or a panel's that
 * named the file), never that the database failed.
 */
function withheldOutcome(status: string, kind: 'fix' | 'undo'): string {
  const notShown = "is not shown here (the server's log has it)";
  if (status === 'applied') return `${kind === 'fix' ? 'applied' : 'undone'} — the rest of this message ${notShown}; the domain's history shows the change`;
  if (status === 'refused' || status === 'skipped') return `Not applied: the reason ${notShown}. Nothing was written to the zone.`;
  return `The reason ${notShown}: the domain's history shows what was written.`;
}

/**
 * A fix's or an undo's outcome as a page or the API shows it: the history database's file named in its reason or
 * message (shownText) withheld. The store's own error behind it (core's HistoryFault: core said what that failure left
 * in words of its own) goes to the log.
 */
export function shownOutcome<O extends ApplyOutcome>(store: { readonly path?: unknown }, kind: 'fix' | 'undo', domain: string, o: O): O {
  const what = `${kind} on ${domain}`;
  if (o.historyError !== undefined) logWeb(`${what}: the history database failed`, o.historyError);
  const whole = withheldOutcome(o.status, kind);
  const out = { ...o } as O & { reason?: string; message?: string };
  if (typeof out.reason === 'string') out.reason = shownText(store, what, out.reason, whole);
  if (typeof out.message === 'string') out.message = shownText(store, what, out.message, whole);
  return out;
}

/**
 * A bulk fix's outcome for one domain as its row shows it: the history database's file named in its reason or message
 * (shownText) withheld. `jobId`: a row read back from the job's store (a previous version kept them as they came),
 * logged once per process.
 */
export function shownDetail(store: { readonly path?: unknown }, domain: string, d: BulkOutcomeDetail, jobId?: number): BulkOutcomeDetail {
  const what = jobId === undefined ? `bulk fix of ${domain}` : `bulk fix job ${jobId}: ${domain}`;
  const key = (field: string) => (jobId === undefined ? undefined : `job ${jobId} ${domain} ${field}`);
  return {
    ...d,
    ...(d.reason !== undefined ? { reason: shownText(store, what, d.reason, withheldOutcome(d.status, 'fix'), key('reason')) } : {}),
    ...(d.message !== undefined ? { message: shownText(store, what, d.message, withheldOutcome(d.status, 'fix'), key('message')) } : {}),
  };
}

/** A bulk fix job's results as its page and the API show them (shownDetail); an audit job's rows hold no such text. */
export function shownJobResults<R extends { domain: string }>(store: { readonly path?: unknown }, jobId: number, results: readonly R[]): R[] {
  return results.map((r) => {
    const d = r as unknown as BulkOutcomeDetail & { domain: string };
    return typeof d.reason === 'string' || typeof d.message === 'string' ? ({ ...r, ...shownDetail(store, d.domain, d, jobId) } as R) : r;
  });
}

/**
 * A change as the history lists it: an error naming the history database's file (a previous version recorded the
 * store's error so) withheld (shownStoredChange, as the CLI's history shows it), logged once per process — not on every
 * view of the history.
 */
export function shownChange<C extends Pick<ChangeRecord, 'id' | 'error'> & { changes?: readonly Change[] }>(store: { readonly path?: unknown }, ch: C): C {
  return shownStoredChange(store, ch, (stored) => logOnce(store, `change ${ch.id}`, `change ${ch.id}`, stored));
}

/**
 * An audit as the domain's page and the API show it: a finding's message or evidence naming the history database's
 * file (a previous version quoted the store's error when the admin's settings could not be read) withheld, and logged
 * once per process.
 */
export function shownAudit<A extends DomainAudit>(store: { readonly path?: unknown }, a: A): A {
  const path = storePath(store);
  if (path === null || !a.findings.some((f) => holds(path, f))) return a;
  // A stored audit is known by its domain and time (the page and the API show the latest, again and again).
  logOnce(store, `audit ${a.domain} ${a.auditedAt}`, `the audit of ${a.domain} at ${a.auditedAt}`, JSON.stringify(a.findings.filter((f) => holds(path, f))));
  return {
    ...a,
    findings: a.findings.map((f) =>
      holds(path, f)
        ? {
            ...f,
            message: withheld(path, f.message, "This finding's message is not shown here (the server's log has it); audit the domain again for a current one."),
            evidence: withheldIn(path, f.evidence) as Evidence,
          }
        : f,
    ),
  };
}

/** Whether any text of `v` (a finding, its evidence: strings, arrays, objects) names `path`. */
function holds(path: string, v: unknown): boolean {
  if (typeof v === 'string') return v.includes(path);
  if (Array.isArray(v)) return v.some((x) => holds(path, x));
  if (v !== null && typeof v === 'object') return Object.entries(v).some(([k, x]) => k.includes(path) || holds(path, x));
  return false;
}

/** `v` with every text that names `path` withheld (withheld; a whole text as WITHHELD). */
function withheldIn(path: string, v: unknown): unknown {
  if (typeof v === 'string') return withheld(path, v, WITHHELD);
  if (Array.isArray(v)) return v.map((x) => withheldIn(path, x));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [withheld(path, k, WITHHELD), withheldIn(path, x)]));
  return v;
}

/** Run fn with a fresh resolver (its cache lives for one request or job), closed afterwards. */
export async function withResolver<T>(deps: WebDeps, fn: (r: Resolver) => Promise<T>): Promise<T> {
  const r = deps.makeResolver();
  try {
    return await fn(r);
  } finally {
    (r as { close?: () => void }).close?.();
  }
}

/** Audit the given domains now and record them as one run by the identity. */
export async function auditAndRecord(deps: WebDeps, identity: Identity, refs: DomainRef[]): Promise<DomainAudit[]> {
  const runId = deps.store.startRun('audit', identity.user, refs.length);
  try {
    const audits = await withResolver(deps, async (resolver) => {
      const out: DomainAudit[] = [];
      for (const ref of refs) {
        const a = await auditDomain(ref.domain, { panel: deps.panel, resolver, options: auditOptionsFrom(deps.store), now: deps.now });
        deps.store.recordAudit(runId, a, ref.owner);
        out.push(a);
      }
      return out;
    });
    deps.store.bumpRunProgress(runId, { done: audits.length, failed: audits.filter((a) => a.status === 'fail').length });
    deps.store.finishRun(runId, 'complete');
    return audits;
  } catch (e) {
    // The run marked as not complete; a store that fails here too leaves it `running` (the next start marks it) and
    // the first error is the one answered.
    try {
      deps.store.finishRun(runId, 'interrupted');
    } catch (again) {
      logWeb(`audit run ${runId} could not be marked interrupted`, again);
    }
    throw e;
  }
}

/**
 * The latest stored audit, or a fresh one (recorded) when the domain was never audited, as the domain's page and the
 * API show it (shownAudit: one recorded by a previous version may name the history database's file). `beforeAudit`
 * runs only before that fresh audit (the routes take an audit token there; it throws to refuse).
 */
export async function latestOrAudit(deps: WebDeps, identity: Identity, ref: DomainRef, beforeAudit: () => void = () => {}): Promise<DomainAudit> {
  const latest = deps.store.latestAudit(ref.domain);
  if (latest) return shownAudit(deps.store, latest);
  beforeAudit();
  return shownAudit(deps.store, (await atStage('audit', `auditing ${ref.domain}`, () => auditAndRecord(deps, identity, [ref])))[0]);
}

export interface Preview {
  plan: Plan;
  /**
   * What the audit could not place, which the user may choose to remove: SPF terms (spf fix), or Domain Lockdown
   * fields as written — `auth=acme-emailapi`, `senderid=…`, `sidw=…` — that are neither this host's MailChannels
   * account nor a previous host's (lockdown fix).
   */
  unknownTerms: string[];
  /**
   * Mail services' SPF terms (every term the audit keeps as a service the customer uses — an include, a redirect=, an
   * `mx` naming the service's MX hosts…): kept unless the user selects them — for a domain that no longer sends
   * through that service (the plan's note says what its mail does then). These are the terms the SPF planner drops on
   * request (its "mail service's" terms, which a blocked plan names for removal): each one it names can be ticked.
   */
  serviceTerms: string[];
  /**
   * The offered terms (unknownTerms, serviceTerms, as listed there) the address selected in any spelling core takes for
   * the same term (termKey: any case, "+" written or not): their boxes are ticked.
   */
  picked: string[];
  /**
   * Selected terms none of the lists offers (one the plan keeps anyway, a typo, one from an older link), each once, as
   * first written: apply removes what the address selected, so the page shows each with a ticked box of its own, which
   * can be unticked (review R9: a "+mx" in the address was applied with no tick shown, and "Update preview" dropped it).
   */
  otherPicked: string[];
}

export async function previewFix(deps: WebDeps, domain: string, check: FixKind, removeTerms: string[]): Promise<Preview> {
  return withResolver(deps, async (resolver) => {
    // One read of the panel for both the plan and the SPF terms the user may choose to remove.
    const { ctx, problems } = await buildContext(domain, { panel: deps.panel, resolver, options: auditOptionsFrom(deps.store) });
    if (!ctx) throw new PlanError(problems.map((p) => p.message).join('; ') || 'cannot read the panel');
    const plan = await makePlanWith(ctx, check, { removeTerms }, deps.panel.capabilities);
    let unknownTerms: string[] = [];
    let serviceTerms: string[] = [];
    if (check === 'spf') {
      const findings = await runChecks(ctx, ['spf']);
      unknownTerms = [...new Set(findings.filter((f) => f.rule === 'spf.unknown-term' && f.subject).map((f) => f.subject as string))];
      serviceTerms = [
        ...new Set(
          findings
            // Every term, not only includes: the planner drops any of the service's terms on request, and a blocked plan
            // names them all (review R9: "+mx" was named, with no box to tick).
            .filter((f) => f.rule === 'spf.term' && f.classification?.class === 'keep' && typeof f.subject === 'string')
            .map((f) => f.subject as string),
        ),
      ];
      // A term the plan drops on its own (e.g. an include of a name without SPF) is not offered as "kept unless you
      // remove it"; one the user selected stays listed, so it can be unselected.
      const offered = offeredIn(plan, isSpfRecord, removeTerms);
      unknownTerms = unknownTerms.filter(offered);
      serviceTerms = serviceTerms.filter(offered);
    }
    if (check === 'lockdown' && !plan.blocked) {
      // Ids the lockdown fix keeps unless selected (the customer's own MailChannels account, or a previous host's). A
      // plan that is blocked (no account id configured, an alias) removes nothing, so nothing is offered then. One the
      // plan drops on its own (a value it cannot write back) is not offered; one the user selected stays listed.
      const findings = await runChecks(ctx, ['lockdown']);
      unknownTerms = [...new Set(findings.filter((f) => f.rule === 'lockdown.unknown-id' && typeof f.subject === 'string').map((f) => f.subject as string))];
      unknownTerms = unknownTerms.filter(offeredIn(plan, isLockdownRecord, removeTerms));
    }
    return { plan, unknownTerms, serviceTerms, ...pickedTerms(removeTerms, [...unknownTerms, ...serviceTerms]) };
  });
}

/** Which offered terms the address selected, and the selected terms no list offers (Preview.picked, .otherPicked). */
function pickedTerms(removeTerms: readonly string[], offered: readonly string[]): { picked: string[]; otherPicked: string[] } {
  const selected = new Set(removeTerms.map(termKey));
  const listed = new Set(offered.map(termKey));
  const firstSpelling = (t: string, i: number) => removeTerms.findIndex((u) => termKey(u) === termKey(t)) === i;
  return {
    picked: offered.filter((t) => selected.has(termKey(t))),
    otherPicked: removeTerms.filter((t, i) => !listed.has(termKey(t)) && firstSpelling(t, i)),
  };
}

/**
 * Which terms a preview still offers: those in the record the plan writes (a term the plan drops on its own is not
 * "kept unless you remove it"), and those the user selected (so they can be unselected). With no record written, all.
 */
function offeredIn(plan: Plan, isRecord: (text: string) => boolean, removeTerms: readonly string[]): (term: string) => boolean {
  const written = plan.changes.map((c) => c.after).find((r) => r && isRecord((r.txt ?? [r.value]).join('')));
  if (!written) return () => true;
  // Compared as core compares a selected term with the record's (termKey): "MX" selected is the "+mx" the plan
  // removed, still offered so it can be unselected.
  const inRecord = new Set((written.txt ?? [written.value]).join('').split(/\s+/).map(termKey));
  const selected = new Set(removeTerms.map(termKey));
  return (t) => inRecord.has(termKey(t)) || selected.has(termKey(t));
}

/**
 * Core's deps for one apply or undo; `guard`: a bulk fix's scope check, which core calls around its reads and writes;
 * `jobId`: the bulk fix job the apply belongs to, recorded on the change it makes (core's ApplyDeps.jobId).
 */
function applyDeps(deps: WebDeps, identity: Identity, resolver: Resolver, guard?: ScopeGuard, jobId?: number): ApplyDeps {
  return {
    panel: deps.panel,
    resolver,
    history: deps.store,
    byUser: identity.user,
    options: auditOptionsFrom(deps.store),
    now: deps.now,
    ...(guard ? { guard } : {}),
    ...(jobId !== undefined ? { jobId } : {}),
  };
}

/**
 * Apply exactly the previewed plan (hash-checked by core); re-audit the domain when something changed. `guard`: a bulk
 * fix's scope check of this domain (ScopeGuard, core's ApplyDeps.guard), asked after each panel read and again before
 * anything is recorded or written.
 */
export async function applyFix(
  deps: WebDeps,
  identity: Identity,
  ref: DomainRef,
  input: { check: FixKind; planHash: string; removeTerms: string[] },
  guard?: ScopeGuard,
  jobId?: number,
): Promise<ApplyOutcome> {
  const outcome = await withResolver(deps, (resolver) =>
    applyPlan({ domain: ref.domain, check: input.check, planHash: input.planHash, options: { removeTerms: input.removeTerms } }, applyDeps(deps, identity, resolver, guard, jobId)),
  );
  if (outcome.status === 'applied') await reaudit(deps, identity, ref);
  return outcome;
}

/**
 * The domain audited again after a change was written, for its page: a failure there changes nothing of the change's
 * answer (the page shows the previous audit until the next one), and is logged.
 */
async function reaudit(deps: WebDeps, identity: Identity, ref: DomainRef): Promise<void> {
  await auditAndRecord(deps, identity, [ref]).catch((e: unknown) => logWeb(`auditing ${ref.domain} again after a change`, e));
}

/** One domain of a bulk fix: the plan hash ticked on the preview, and that preview's plan while this process has it. */
export interface BulkFixItem {
  ref: DomainRef;
  planHash: string;
  /** The plan the bulk preview showed (routes/bulk.ts remembers them); without it a moved zone is refused as always. */
  previewed?: Plan;
}

export interface BulkFixResult {
  domain: string;
  outcome: ApplyOutcome | SkippedOutcome;
}

/**
 * A domain a bulk fix did not apply to, nothing written: one a cancel kept it from reaching (`why` absent), one no
 * longer in the scope of the identity the fix runs as ('scope'), every domain after that identity stopped being a
 * panel account ('account'), or one whose scope the panel could not confirm before the write ('unconfirmed').
 */
export interface SkippedOutcome {
  status: 'skipped';
  reason: string;
  why?: 'scope' | 'account' | 'unconfirmed';
}
export const CANCELLED_BEFORE = 'Not applied: the bulk fix was cancelled before it reached this domain. Nothing was changed on it; preview it again to fix it.';
export const NO_LONGER_IN_SCOPE =
  'No longer in your scope: the panel moved this domain to another account (or removed it) after this bulk fix started, so it was skipped. Nothing was changed on it.';
export const ACCOUNT_GONE =
  'Not applied: your account is no longer on the panel, so this bulk fix stopped before this domain. Nothing was changed on it.';
export const scopeUnconfirmed = (why: string) =>
  `Not applied: the panel could not confirm that this domain is still in your scope (${why}), so nothing was written to it. Preview it again to fix it.`;

/** A bulk fix outcome that says the domain left the identity's scope (or the identity the panel): counted as skipped. */
export function bulkOutcomeOutOfScope(o: { status: string; why?: string }): boolean {
  return o.status === 'skipped' && (o.why === 'scope' || o.why === 'account');
}

/**
 * A bulk fix outcome as the results page shows it and a bulk fix job keeps it (store job_items): what happened, the
 * change that holds it (undo is there, in History), and the reason of a refusal — not the plan, which History keeps.
 */
export interface BulkOutcomeDetail {
  status: ApplyOutcome['status'] | SkippedOutcome['status'];
  message?: string;
  reason?: string;
  why?: string;
  changeId?: number;
  changeStatus?: 'applied' | 'intent';
  verified?: string | null;
}

export function bulkOutcomeDetail(o: ApplyOutcome | SkippedOutcome): BulkOutcomeDetail {
  switch (o.status) {
    case 'applied':
      return { status: o.status, message: o.message, changeId: o.changeId, verified: o.verified };
    case 'already':
      return { status: o.status, reason: o.reason, changeId: o.changeId, changeStatus: o.changeStatus, verified: o.verified };
    case 'refused':
      return { status: o.status, reason: o.reason, ...(o.why ? { why: o.why } : {}) };
    case 'failed':
      return { status: o.status, reason: o.reason, ...(o.changeId ? { changeId: o.changeId } : {}) };
    case 'skipped':
      return { status: o.status, reason: o.reason, ...(o.why ? { why: o.why } : {}) };
  }
}

/**
 * A bulk fix outcome that leaves the domain not fixed (a bulk fix job's `failed`): a refusal, a failure, a domain a
 * cancel skipped — not "nothing to change", not "already applied", and not a domain that left the identity's scope
 * (bulkOutcomeOutOfScope: no longer this user's to fix, it is counted as skipped).
 */
export function bulkOutcomeNotApplied(o: { status: string; why?: string }): boolean {
  if (bulkOutcomeOutOfScope(o)) return false;
  return o.status === 'failed' || o.status === 'skipped' || (o.status === 'refused' && o.why !== 'nothing');
}

/** Domains a bulk fix applies at once (each one's panel reads, DNS look-ups and writes stay in order). */
export const BULK_FIX_CONCURRENCY = 4;

/**
 * Apply a bulk fix: each domain's previewed plan, exactly as applyFix does, a few domains at once, and the domains that
 * may share a zone (a registrable domain and its subdomains) one after another. `onResult` sees each domain's outcome
 * as it comes; the results come back in the items' order.
 *
 * cPanel keeps a subdomain's records in its parent's zone, so the parent's write moves the zone version the
 * subdomain's plan hash was made from, and core refuses the subdomain ("the zone changed"). Such a refusal is taken
 * back only when this very bulk fix moved the zone (ownMoveOnly: its own writes, as recorded, lead from the previewed
 * version to the current one with nothing else in between) and the subdomain's fresh plan makes exactly the previewed
 * changes; the fresh plan is then applied through core again — hash-checked under the domain's lock like any apply, so
 * an edit that lands after this check is refused as before. Any other move of the zone: refused as before.
 */
export async function applyBulkFix(
  deps: WebDeps,
  identity: Identity,
  check: FixKind,
  items: readonly BulkFixItem[],
  opts: {
    /** Each domain's outcome as it comes (also a skipped one). */
    onResult?: (r: BulkFixResult, index: number) => void;
    /** Asked before each domain: true skips it and every domain after it (a cancelled job); one being fixed finishes. */
    cancelled?: () => boolean;
    /**
     * The panel account (session.ts accountKey) the identity's web login was bound to when the fix started, or null
     * (a front door's identity, whatever binding its name may have: jobs.ts scopeAccount): the identity stops being
     * "the same account" as the request layer's check does (app.ts knownAccount) — see BulkScope.
     */
    account?: string | null;
    /** The bulk fix job these applies belong to (jobs.ts): recorded on each change they make (store changes.job_id). */
    jobId?: number;
  } = {},
): Promise<BulkFixResult[]> {
  // The scope was read once, at the request (routes/bulk.ts scopedDomains); a job may wait minutes, and a domain may
  // leave this identity's scope meanwhile (its customer moved to another reseller, the reseller removed): asked again.
  const scope = new BulkScope(deps, identity, opts.account ?? null);
  /** This bulk's applied writes per group (a group's domains run one after another, so each list is its own). */
  const writes = new Map<string, ZoneWrite[]>();
  const groupOf = (item: BulkFixItem) => zoneGroup(item.ref.domain);
  for (const item of items) {
    writes.set(groupOf(item), []);
  }
  /** The zone (its apex, as the panel names it) each domain lives in, read at most once per bulk. */
  const zones = new Map<string, Promise<string | null>>();
  const zoneOf = (domain: string) => {
    let z = zones.get(domain);
    if (!z) zones.set(domain, (z = deps.panel.readZone(domain).then((zone) => canonName(zone.domain), () => null)));
    return z;
  };
  const indexed = items.map((item, index) => ({ item, index }));
  return mapInGroups(indexed, BULK_FIX_CONCURRENCY, ({ item }) => groupOf(item), async ({ item, index }) => {
    const own = writes.get(groupOf(item))!;
    const group = { own, domains: items.filter((x) => groupOf(x) === groupOf(item)).map((x) => x.ref.domain), zoneOf };
    let outcome: ApplyOutcome | SkippedOutcome;
    const guard = new ScopeGuard(scope, item.ref.domain, deps.store);
    try {
      outcome = opts.cancelled?.()
        ? { status: 'skipped', reason: CANCELLED_BEFORE }
        : (scope.skipBefore(item.ref.domain) ?? guard.settle(await applyOne(deps, identity, check, item, group, guard, opts.jobId)));
    } catch (e) {
      outcome = e instanceof OutOfScope ? e.outcome : { status: 'failed', reason: (e as Error).message };
    }
    if (outcome.status === 'applied') {
      // The panel's DKIM key step (cPanel publishes the key itself) moved the zone before the write, with the same
      // records on both sides (core checked): a link of this bulk's own too, so the next domain of the zone goes on
      // in this round (QA: ten cPanel subdomains took ten rounds).
      if (outcome.keyStep) {
        own.push({ domain: item.ref.domain, ...outcome.keyStep });
        keySteps.set(deps.store, outcome.changeId, outcome.keyStep);
      }
      try {
        const ch = deps.store.getChange(outcome.changeId);
        // A link of the chain only where the version after is the panel's own answer to a record write: not a
        // start-signing (no write; the version after is a later zone read) nor a write settled from the zone.
        if (ch && ch.changes.length && !ch.error) own.push({ domain: item.ref.domain, before: ch.zoneVersionBefore, after: ch.zoneVersionAfter });
      } catch {
        /* no link: a later domain of this zone is refused "the zone changed", as without this bulk's chain */
      }
    }
    const result = { domain: item.ref.domain, outcome };
    try {
      opts.onResult?.(result, index);
    } catch {
      /* the caller's bookkeeping (a job's store) failing must not abandon the other lanes mid-write (pool.ts: fn must not throw) */
    }
    return result;
  });
}

/** One reading of a bulk job identity's scope: its domains, the identity no longer a panel account, or a failure. */
export type ScopeReading = { names: ReadonlySet<string> } | { gone: true } | { error: string };

/**
 * The scope of a bulk job's identity, asked now: the one scope question (panel.listDomains, as routes/bulk.ts
 * scopedDomains asks it through http.ts scopeOf) — and whether the identity is still a panel account of its role, and
 * of the account its web login was bound to (`account`, session.ts accountKey; null: none), as app.ts knownAccount
 * asks on every request. Only a list that can prove an absence does (session.ts listProvesAbsence: a panel listing
 * nobody is a fault, not every account removed); a failed account list decides nothing. Admins are not looked for: an
 * admin's scope is every domain, and the admin token acts as an admin with no panel account of that name (app.ts).
 */
export async function readScope(deps: Pick<WebDeps, 'panel'>, me: Identity, account: string | null): Promise<ScopeReading> {
  const [accounts, domains] = await Promise.all([
    me.role === 'admin' ? null : deps.panel.listAccounts().catch(() => null),
    deps.panel.listDomains(me).then(
      (refs) => ({ names: new Set(refs.map((d) => d.domain)) }),
      (e: unknown) => ({ error: (e as Error)?.message ?? String(e) }),
    ),
  ]);
  if (accounts && listProvesAbsence(accounts)) {
    const same = accounts.some((a) => a.user === me.user && a.role === me.role && (account === null || accountKey(a) === account));
    if (!same) return { gone: true };
  }
  return domains;
}

/**
 * A bulk fix's scope, asked again while it runs (readScope: the identity's domains, and whether it is still that panel
 * account). An account gone is final: every domain after it is skipped without being read (ACCOUNT_GONE).
 *
 * Cost: one reading answers for SCOPE_RECHECK_MS (5 s, by the app's clock) and is shared by the domains being fixed at
 * once, so a bulk fix of thousands of domains asks the panel once per 5 s — not once per domain, which on Plesk would
 * be a call per client and on WHM a `listaccts` for each domain. A failed reading is not kept (the next domain asks
 * again).
 */
export class BulkScope {
  /** The latest reading; `at`: when it was answered (the app's clock; until then, when it was asked). */
  private last: { at: number; reading: Promise<ScopeReading>; value?: ScopeReading } | null = null;
  private gone = false;

  constructor(
    private readonly deps: WebDeps,
    readonly identity: Identity,
    private readonly account: string | null,
  ) {}

  /** The clock readings are aged on: one that never steps (WebDeps.elapsedMs), else the app's. */
  private now(): number {
    return this.deps.elapsedMs ? this.deps.elapsedMs() : this.deps.now().getTime();
  }

  /**
   * The latest reading if it is still being answered (a panel slower than SCOPE_RECHECK_MS is not asked again and again
   * meanwhile) or was answered less than SCOPE_RECHECK_MS ago and did not fail; else a new one. Its age counts from its
   * answer, not from the question: a listing that takes longer than SCOPE_RECHECK_MS (Plesk: a call per client) would
   * otherwise be stale when it arrives, and the panel listed back to back for the whole job.
   */
  current(): Promise<ScopeReading> {
    if (this.gone) return Promise.resolve({ gone: true });
    const last = this.last;
    // Fresh only by an age from 0 to SCOPE_RECHECK_MS (freshFor): a clock stepped back since the answer must not keep a
    // reading of the reseller's domains — which decides what this fix may write — for the step's length.
    if (last && (!last.value || (!('error' in last.value) && freshFor(last.at, this.now(), SCOPE_RECHECK_MS)))) return last.reading;
    const entry: NonNullable<BulkScope['last']> = { at: this.now(), reading: this.read() };
    entry.reading = entry.reading.then((value) => {
      entry.at = this.now();
      entry.value = value;
      if ('gone' in value) this.gone = true;
      return value;
    });
    this.last = entry;
    return entry.reading;
  }

  private read(): Promise<ScopeReading> {
    return readScope(this.deps, this.identity, this.account);
  }

  /** What a reading says of `domain`: null when it is still in scope, else the skip. */
  judge(reading: ScopeReading, domain: string): SkippedOutcome | null {
    if ('gone' in reading) return { status: 'skipped', reason: ACCOUNT_GONE, why: 'account' };
    if ('error' in reading) return { status: 'skipped', reason: scopeUnconfirmed(reading.error), why: 'unconfirmed' };
    return reading.names.has(domain) ? null : { status: 'skipped', reason: NO_LONGER_IN_SCOPE, why: 'scope' };
  }

  /**
   * Before a domain is read at all: its skip when what is known already says so — the account gone, or a reading of
   * the last SCOPE_RECHECK_MS without it. Asks nothing (the domain's own check comes after its reads: ScopeGuard).
   */
  skipBefore(domain: string): SkippedOutcome | null {
    if (this.gone) return this.judge({ gone: true }, domain);
    const last = this.last;
    if (!last?.value || !('names' in last.value) || !freshFor(last.at, this.now(), SCOPE_RECHECK_MS)) return null;
    return this.judge(last.value, domain);
  }
}

/**
 * Thrown by ScopeGuard where a bulk fix would record its intent or make a panel write (a record write, a DKIM key,
 * signing) for a domain no longer in scope: nothing is recorded or written. `outcome`: the job row's skip; the message
 * is the history's words for it (core puts them on an intent it settles after the failed write, see WriteGuard).
 */
class OutOfScope extends Error {
  constructor(
    readonly outcome: SkippedOutcome,
    note: string = outcome.reason,
  ) {
    super(note);
    this.name = 'OutOfScope';
  }
}

/**
 * A skip decided at a write after the panel had generated a DKIM key for this fix: the key exists and the panel signs
 * with it, but its record was not written — so "nothing was changed" would not be true, and the customer's mail fails
 * DKIM until the record is published (by whoever has the domain now) or signing is turned off.
 */
function afterKeyGenerated(skip: SkippedOutcome): SkippedOutcome {
  const lead =
    skip.why === 'scope'
      ? 'No longer in your scope: the panel moved this domain to another account (or removed it) while this bulk fix was applying to it, so its DKIM record was not written.'
      : skip.why === 'account'
        ? 'Not applied: your account is no longer on the panel, so this bulk fix stopped before writing this domain\'s DKIM record.'
        : 'Not applied: the panel could not confirm that this domain is still in your scope, so its DKIM record was not written.';
  return {
    ...skip,
    reason: `${lead} The panel had already generated a new DKIM key for it and turned signing on: until that key's record is published (preview the DKIM fix again, if the domain is still yours) or signing is turned off in the panel, mail the server signs for it fails DKIM.`,
  };
}

/** What a stopped write did not do, for the intent the guard closes (WriteStep → the history's words). */
const NOT_DONE: Partial<Record<WriteStep, string>> = {
  'generate-dkim': 'no DKIM key was generated and nothing was written',
  'start-signing': 'the panel was not asked to sign and nothing was changed',
};

/**
 * One domain's scope check in a bulk fix: core's WriteGuard (ApplyDeps.guard), which core calls at fixed points of the
 * fix (src/core/plans/apply.ts WriteGuard, WriteStep).
 *
 * - afterRead — after each panel read of the fix (its plan's, the re-reads before a write, verification's): the scope is
 *   asked (BulkScope.current: a reading answered then, or one of the last SCOPE_RECHECK_MS, 5 s) and its answer kept.
 * - beforeWrite — where core records the fix's intent ('intent'), and immediately before every panel write ('records',
 *   'generate-dkim', 'start-signing', 'cleanup'): the latest answer must say the domain is still in scope, else nothing
 *   is recorded or written (OutOfScope). Both, because core records a DKIM key's intent before it reads the zone again
 *   and has the key generated, and the record write after that goes over the same intent (reviseIntent): a move seen by
 *   that read stops the key and the write, not only an intent not yet recorded. So a move made while the fix read the
 *   zone is seen by the write, and what was read of a domain that left the scope is not reported either (settle).
 *   Two exceptions, both about what is already in the panel: once a record write was sent, what core writes after it
 *   (putting back a write that failed part way) is never stopped; and once the panel generated a key, only an answer
 *   that the domain left the scope stops the write that publishes it (a listing that merely failed does not).
 * - afterWrite — the intent recorded (its id, to close it if a later write is stopped) and the key generated.
 *
 * A stop throws where core makes the write, and core handles it as that write failing (WriteGuard); settle then reports
 * the skip in place of core's answer.
 */
export class ScopeGuard implements WriteGuard {
  /** What the reading after this domain's latest panel read said (undefined: none yet). */
  private verdict: SkippedOutcome | null | undefined;
  /** That reading's failure, when it failed (for the history's words). */
  private verdictError: string | null = null;
  /** The intent the fix recorded last (afterWrite 'intent'; null: none). */
  private intent: number | null = null;
  /** The skip of a panel write this guard stopped: the outcome to report, whatever core made of the throw (settle). */
  private stopped: SkippedOutcome | null = null;
  /** The panel generated a DKIM key for this fix (a write let through before a later one was stopped). */
  private keyGenerated = false;
  /**
   * This fix's record write was sent to the panel (a 'records' write let through): what core writes after it
   * (putting back a write that failed part way, settleLeftovers / reconcile's restore) is its clean-up, never stopped —
   * stopping it left the half-written zone and a row saying nothing was changed (review).
   */
  private recordWriteSent = false;

  /** `history`: where core records the fix (the web's store), for closing an intent of a write this guard stopped. */
  constructor(
    private readonly scope: BulkScope,
    private readonly domain: string,
    private readonly history: Pick<Store, 'settleIntent' | 'getChange'> | null = null,
  ) {}

  /** The skip the latest answer says, or null to go on; no answer yet: not confirmed. */
  private skipNow(): SkippedOutcome | null {
    return this.verdict === undefined ? this.scope.judge({ error: 'it was not asked before the write' }, this.domain) : this.verdict;
  }

  /** The history's words for a skip decided just before a write. */
  private note(skip: SkippedOutcome): string {
    const user = this.scope.identity.user;
    const found =
      skip.why === 'account'
        ? `${user} is no longer an account on the panel`
        : skip.why === 'unconfirmed'
          ? `the panel could not confirm that ${this.domain} is still in ${user}'s scope${this.verdictError ? ` (${this.verdictError})` : ''}`
          : `${this.domain} is no longer in ${user}'s scope (moved to another account, or removed)`;
    return `not written: the bulk fix's scope check just before this write found that ${found}`;
  }

  /** After a panel read of the fix: the scope asked (or a recent reading reused), and its answer kept for the next write. */
  async afterRead(): Promise<void> {
    const reading = await this.scope.current();
    this.verdict = this.scope.judge(reading, this.domain);
    this.verdictError = 'error' in reading ? reading.error : null;
  }

  /** Before core records the intent or makes a panel write: throws OutOfScope when the latest answer says to skip. */
  beforeWrite(step: WriteStep): void {
    if (step === 'intent') {
      // Nothing recorded yet, nothing of this fix in the panel: the skip, thrown out of core as it is.
      const skip = this.skipNow();
      if (skip) throw new OutOfScope(skip);
      return;
    }
    // After the key is made, only an answer that the domain left the scope stops the write that publishes it: a
    // listing that merely failed must not leave the panel signing with a key nobody can verify (review).
    const skip = this.recordWriteSent ? null : this.skipNow();
    if (skip && !(this.keyGenerated && skip.why === 'unconfirmed')) this.stop(skip, step);
    // Only this fix's own record write counts: a clean-up of an earlier fix's open intent (settleOrphans) let through
    // first does not wave this fix's key, record and signing writes through after it (review).
    if (step === 'records') this.recordWriteSent = true;
  }

  /** After a write that answered: the intent's id kept, the generated key noted. */
  afterWrite(step: WriteStep, changeId: number): void {
    if (step === 'intent') this.intent = changeId;
    else if (step === 'generate-dkim') this.keyGenerated = true;
  }

  /**
   * A panel write not made: remembered as this domain's outcome, and thrown. An intent core recorded for a DKIM key or
   * for having the panel sign is closed here first, with these words ("not written", nothing was) — core takes the
   * throw for the panel's own failure ("could not generate a DKIM key"); it then finds the intent settled and leaves it
   * so. A record write's intent is left to core, which settles it from the zone ("the write never happened").
   */
  private stop(skip: SkippedOutcome, step: WriteStep): never {
    const outcome = this.keyGenerated ? afterKeyGenerated(skip) : skip;
    this.stopped = outcome;
    const note = this.note(skip);
    const notDone = NOT_DONE[step];
    if (notDone && this.intent !== null && this.history) {
      try {
        this.history.settleIntent(this.intent, { status: 'failed', error: `${note}; ${notDone}` });
      } catch {
        /* the database busy: core settles the intent with its own words */
      }
    }
    throw new OutOfScope(outcome, note);
  }

  /**
   * The outcome to report. A panel write this guard stopped: that skip (an intent core recorded is closed as not
   * written, by core or by stop), unless the zone turned out to hold the change after all (core recorded it applied).
   * Else, a fix that wrote nothing (refused, "already applied", failed before any write) of a domain found out of scope
   * on the way — or of an identity no longer on the panel — is that skip: its plan or refusal, read from somebody
   * else's zone, is not shown. A scope the panel could not confirm changes no answer here: what core said of a fix that
   * wrote nothing ("already applied", "nothing to change", a refusal) is still true, and nothing was written on a guess.
   */
  settle(outcome: ApplyOutcome): ApplyOutcome | SkippedOutcome {
    if (this.stopped && outcome.status !== 'applied') {
      this.closeIntent();
      return this.stopped;
    }
    const v = this.verdict;
    if (!v || v.why === 'unconfirmed' || outcome.status === 'applied' || (outcome.status === 'failed' && outcome.changeId)) return outcome;
    return v;
  }

  /**
   * After a stopped write: the intent this fix recorded, if core could not close it (the zone unreadable after the
   * throw), closed now — the write was never sent, and core is done with the domain.
   */
  private closeIntent(): void {
    if (this.intent === null || !this.history || !this.stopped) return;
    try {
      if (this.history.getChange(this.intent)?.status !== 'intent') return;
      const what = this.keyGenerated ? 'no record was written (the panel had generated a new DKIM key for this fix and turned signing on)' : 'nothing was written';
      this.history.settleIntent(this.intent, { status: 'failed', error: `${this.note(this.stopped)}; ${what}` });
    } catch {
      /* left open: reconcile settles it from the zone */
    }
  }
}

/** What one domain of a bulk fix knows of its group: this bulk's writes so far, the group's domains, their zones. */
interface GroupState {
  own: readonly ZoneWrite[];
  domains: readonly string[];
  zoneOf: (domain: string) => Promise<string | null>;
}

/** A map per database that keeps its last `kept` entries (in memory: gone on a restart). */
function perStore<K, V>(kept: number): { get(store: Store, key: K): V | undefined; set(store: Store, key: K, value: V): void } {
  const maps = new WeakMap<Store, Map<K, V>>();
  return {
    get: (store, key) => maps.get(store)?.get(key),
    set(store, key, value) {
      let m = maps.get(store);
      if (!m) maps.set(store, (m = new Map()));
      m.set(key, value);
      if (m.size > kept) m.delete(m.keys().next().value!);
    },
  };
}

/**
 * Previewed hash → the hash of the fresh plan applied in its place over the bulk's own write (per database, the last
 * 1,000): the same bulk form sent again finds that change and answers "already applied", as for any other domain.
 */
const rebased = perStore<string, string>(1000);

/**
 * Change id → the panel's DKIM key step that change's fix made (core's keyStep: the zone versions around it), per
 * database, the last 1,000. The history keeps only the record write's versions, so without this the same bulk
 * form sent again could not follow a sibling's key step and answered "the zone changed" instead of "already applied"
 * (review). Kept in memory: after a restart such a form is refused as before, and previewed again.
 */
const keySteps = perStore<number, { before: string; after: string }>(1000);

async function applyOne(deps: WebDeps, identity: Identity, check: FixKind, item: BulkFixItem, group: GroupState, guard: ScopeGuard, jobId?: number): Promise<ApplyOutcome> {
  const { ref, planHash, previewed } = item;
  const apply = (hash: string) => applyFix(deps, identity, ref, { check, planHash: hash, removeTerms: previewed?.options.removeTerms ?? [] }, guard, jobId);
  const outcome = await apply(planHash);
  if (outcome.status !== 'refused' || (outcome.why !== 'changed' && outcome.why !== 'nothing') || !outcome.newPlan) return outcome;
  const fresh = outcome.newPlan;
  const key = `${ref.domain}|${check}|${planHash}`;
  const sent = await sentAgain(deps, check, [planHash, rebased.get(deps.store, key)], fresh, group);
  if (sent) return sent;
  if (!previewed || !group.own.length || !(await ownMoveOnly(deps, previewed, fresh, group))) return outcome;
  const retried = await apply(fresh.planHash);
  if (retried.status === 'applied') rebased.set(deps.store, key, fresh.planHash);
  return retried;
}

/** The domain's zone as it is now, if its version is still `version`: its apex, as the panel names it; else null. */
async function zoneStillAt(deps: WebDeps, domain: string, version: string): Promise<string | null> {
  const zone = await deps.panel.readZone(domain).catch(() => null);
  return zone && zone.version === version ? canonName(zone.domain) : null;
}

/**
 * Did the zone move, between the preview and now, only by this bulk's own writes — and is the fresh plan the one the
 * user previewed? True when `fresh` makes exactly `previewed`'s changes (sameChanges), the domain's zone is still at
 * `fresh`'s version, and this bulk's writes to that same zone (named by the panel, so two zones whose cPanel serials
 * happen to match are never confused) lead from the previewed version to it.
 */
async function ownMoveOnly(deps: WebDeps, previewed: Plan, fresh: Plan, group: GroupState): Promise<boolean> {
  if (fresh.blocked || fresh.mode !== 'apply' || previewed.zoneVersion === fresh.zoneVersion || !sameChanges(previewed, fresh)) return false;
  const apex = await zoneStillAt(deps, fresh.domain, fresh.zoneVersion);
  return apex !== null && chainLeads(group.own, apex, previewed.zoneVersion, fresh.zoneVersion, group.zoneOf);
}

/**
 * The same bulk form sent again (a double click) over a zone two of its domains share: the first submission applied
 * this preview (under its own hash, or a fresh plan's in its place) as change N, nothing is left to change, and every
 * write to that zone since N is a recorded change of another domain of this bulk's group (a sibling's records, never
 * this domain's) — so the answer is "already applied as change N", as it is for a domain with a zone of its own. Core
 * answers so only while the zone is exactly as N left it, which a sibling's later write in the same zone undoes. Any
 * other write since (this domain's own, or anyone else's): null, core's refusal stands.
 */
async function sentAgain(deps: WebDeps, check: FixKind, hashes: (string | undefined)[], fresh: Plan, group: GroupState): Promise<ApplyOutcome | null> {
  if (fresh.blocked || fresh.changes.length || fresh.actions.length) return null;
  for (const hash of hashes) {
    const ch = hash ? deps.store.changeWithPlanHash(fresh.domain, check, hash) : null;
    if (!ch || ch.status !== 'applied' || !ch.zoneVersionAfter) continue;
    const apex = await zoneStillAt(deps, fresh.domain, fresh.zoneVersion);
    if (apex === null) return null;
    const siblings = group.domains.filter((d) => d !== fresh.domain);
    const since = siblings.length ? deps.store.changesForDomains(siblings, 500).filter((c) => c.id > ch.id) : [];
    const writes = since.flatMap((c) => {
      const write = { domain: c.domain, before: c.zoneVersionBefore, after: c.zoneVersionAfter };
      const step = keySteps.get(deps.store, c.id);
      return step ? [{ domain: c.domain, ...step }, write] : [write];
    });
    if (!(await chainLeads(writes, apex, ch.zoneVersionAfter, fresh.zoneVersion, group.zoneOf))) return null;
    const verified = ch.verified ? ` (verified: ${ch.verified})` : '';
    return {
      status: 'already',
      changeId: ch.id,
      changeStatus: 'applied',
      verified: ch.verified,
      changes: withoutCopies(ch.changes),
      reason: `This fix was already applied as change #${ch.id}${verified}: the same preview was sent again, and it was not applied a second time.`,
    };
  }
  return null;
}

export async function undo(deps: WebDeps, identity: Identity, changeId: number, ref: DomainRef): Promise<ApplyOutcome> {
  const outcome = await withResolver(deps, (resolver) => undoChange(changeId, applyDeps(deps, identity, resolver)));
  if (outcome.status === 'applied') await reaudit(deps, identity, ref);
  return outcome;
}

/**
 * Undo change `ch` for `identity` — or, when this user's own undo of it was made already (or is being made), that undo
 * ("already", status 200, nothing written again). The page (POST /changes/N/undo) and the API (POST
 * /api/changes/N/undo) answer a retried undo alike: recognisably "already", as a fix sent again.
 */
export async function undoOnce(deps: WebDeps, identity: Identity, ch: { id: number }, ref: DomainRef): Promise<ApplyOutcome> {
  // Asked first: a resent undo then costs no panel read. Asked again after a refusal: a submission that raced this one
  // (the same form sent twice without script: "another fix is running") may have made the undo meanwhile, or be making
  // it — an open undo intent counts only then, so that one left open by a crash never stands in for a new undo.
  const before = undoneAlready(deps.store, ch.id, identity.user);
  if (before) return before;
  const outcome = await undo(deps, identity, ch.id, ref);
  if (outcome.status !== 'refused') return outcome;
  return undoneAlready(deps.store, ch.id, identity.user, true) ?? outcome;
}

export { planJson };

/** The HTTP status of an apply or undo outcome (pages and API alike): a preview applied already is an answer, not a refusal. */
export function outcomeHttpStatus(o: ApplyOutcome): number {
  return o.status === 'applied' || o.status === 'already' ? 200 : o.status === 'refused' ? 409 : 502;
}

export function outcomeJson(o: ApplyOutcome) {
  if (o.status === 'applied') return { status: o.status, changeId: o.changeId, verified: o.verified, message: o.message, plan: planJson(o.plan) };
  if (o.status === 'already') return { status: o.status, changeId: o.changeId, changeStatus: o.changeStatus, verified: o.verified, reason: o.reason, changes: o.changes };
  if (o.status === 'refused') return { status: o.status, reason: o.reason, ...(o.why ? { why: o.why } : {}), ...(o.newPlan ? { newPlan: planJson(o.newPlan) } : {}) };
  return { status: o.status, reason: o.reason, ...(o.changeId ? { changeId: o.changeId } : {}) };
}
