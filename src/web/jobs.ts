// Bulk audits and bulk fix applies as background jobs: the job row in the store holds progress (done/total/failures)
// and the cancel flag, so a page reload (or another tab) sees the same job; results go into the store as they arrive
// (an audit's in runs/results, a fix's outcome per domain in the job's items). A restart marks unfinished jobs
// interrupted (store.interruptUnfinishedJobs at server start); a clean stop (`stop()`, serve's SIGTERM) cancels them
// first and lets the domains being fixed finish, so only a crash or a stop past its grace period leaves one so.
//
// A busy history database (another process's write transaction outlasting the store's busy timeout: a report run, an
// admin's sqlite3) neither stops a job for a moment's wait nor leaves it behind: each write is tried again as the fix path
// tries its outcome (BusyWait), and when the database stays busy the job starts nothing more, keeps what it has in memory,
// and writes it — every outcome, then its end with words a reseller can act on — once the database takes it. The raw
// SQLite error (it names the server's file) goes to the server's log only.
//
// A job belongs to the panel ACCOUNT that started it, not only to a user name: a name can pass to a new account once the
// old one is removed (web/session.ts, PASSWORD_ACCOUNT_SETTING), and that account must not see, follow or cancel the
// old one's jobs (jobAccount, jobVisibleTo, pageJobsOf).
import { isBusy, throughBusy } from '../adapters/store/busy.js';
import type { CheckName, DomainRef, DomainStatus, FixKind, Identity, Severity } from '../core/model.js';
import type { HistoryFault } from '../core/plans/apply.js';
import type { ChangeRecord, JobUpdate, PreparedAudit, Store } from '../adapters/store/store.js';
import { bulkAudit, GONE_TEXT, OUT_OF_SCOPE_TEXT, SCOPE_RECHECK_MS, skipText, type BulkItem, type SkipReason } from '../adapters/workers/bulk.js';
import type { Job } from '../adapters/store/store.js';
import type { IdentitySource } from './identity.js';
import { PASSWORD_ACCOUNT_SETTING } from './session.js';
import { auditOptionsFrom } from '../core/settings.js';
import {
  applyBulkFix,
  bulkOutcomeDetail,
  bulkOutcomeNotApplied,
  bulkOutcomeOutOfScope,
  CANCELLED_BEFORE,
  isStoreFailure,
  isStoreText,
  logSafe,
  readScope,
  withheldText,
  shownDetail,
  shownText,
  withResolver,
  type BulkFixItem,
  type BulkFixResult,
  type BulkOutcomeDetail,
  type WebDeps,
} from './services.js';

/** The job kinds: a bulk audit (also a customer's "Audit all"), a bulk fix apply. */
export const BULK_AUDIT_JOB = 'bulk-audit';
export const BULK_FIX_JOB = 'bulk-fix';

/** What a bulk fix job keeps in its row: the fix, the domains in the order they were ticked, the names not found. */
export interface FixJobScope {
  check: FixKind;
  domains: string[];
  notFound: string[];
}

/**
 * A bulk fix of at most this many domains is answered with its results once done, as one request (the job keeps them
 * all the same); a larger one answers at once with its job's page, which follows the domains as they are fixed — a
 * panel's proxy (cpsrvd, Plesk's web server) may give up on a request of several minutes while the writes go on.
 * 10 domains are 3 rounds of 4 at a time.
 */
export const BULK_FIX_INLINE = 10;

/** One domain's line in a bulk fix job's results (the API's `results`): its outcome, as the results page shows it. */
export type FixJobResult = { domain: string } & BulkOutcomeDetail;

export type JobResult =
  | {
      domain: string;
      status: DomainStatus;
      auditedAt: string;
      checks: Partial<Record<CheckName, Severity>>;
    }
  /**
   * A domain removed from the panel while the job ran (GONE_TEXT), or no longer in the job identity's scope
   * (OUT_OF_SCOPE_TEXT: moved to another account, or the identity no longer a panel account): skipped, nothing
   * recorded (adapters/workers/gone.ts).
   */
  | { domain: string; status: 'gone'; reason: typeof GONE_TEXT | typeof OUT_OF_SCOPE_TEXT };

/**
 * The account a job of `user` belongs to: the panel account (session.ts accountKey) the user's web login is bound to
 * now — a session lives only while it is that account's (sessionStillValid) —, or null when the name has no binding
 * (identities from a panel's front door or the admin token, which the panel vouches for on every request).
 */
export function jobAccount(store: Pick<Store, 'getSetting'>, user: string): string | null {
  const bound = store.getSetting<unknown>(PASSWORD_ACCOUNT_SETTING(user));
  return typeof bound === 'string' ? bound : null;
}

/**
 * The account a bulk job's scope re-check (services.ts readScope) holds `user` to, as app.ts knownAccount does on every
 * request: a session's identity, the account its login is bound to (jobAccount); a front door's, none — the panel
 * vouches for it on every request, and a standalone-password binding left under the same name (`serve` once ran on this
 * database, and has not swept it) is not its account: held to it, every domain of the job was skipped as "your account
 * is no longer on the panel". The job's owner (byAccount) is jobAccount either way: who may open the job is unchanged.
 */
export function scopeAccount(deps: Pick<WebDeps, 'store' | 'identityFrom'>, user: string): string | null {
  return deps.identityFrom === 'front-door' ? null : jobAccount(deps.store, user);
}

/**
 * Whether `me` may see, follow or cancel `job`: the job's own account — its user name and the account that name's login
 * belongs to now (jobAccount) — or an admin, who may open every job. Anything else answers as a job that does not exist
 * (404, never 403: a job's id tells nothing about whose it was).
 */
export function jobVisibleTo(store: Pick<Store, 'getSetting'>, job: Pick<Job, 'byUser' | 'byAccount'>, me: Identity): boolean {
  if (me.role === 'admin') return true;
  return job.byUser === me.user && job.byAccount === jobAccount(store, me.user);
}

/**
 * The job list a page shows `me` (Store.pageJobs): the jobs of `me`'s account only, never an earlier account's of that
 * name; each job's error as pages show it (shownJob).
 */
export function pageJobsOf(store: Pick<Store, 'getSetting' | 'pageJobs' | 'path'>, me: Identity, limit: number, kind?: string): { active: Job[]; lastFinished: Job | null } {
  const { active, lastFinished } = store.pageJobs(me.user, limit, kind, jobAccount(store, me.user));
  return { active: active.map((j) => shownJob(store, j)), lastFinished: lastFinished && shownJob(store, lastFinished) };
}

/** What a stored job's error says instead when the history database's file is named in it other than in parentheses. */
const JOB_ERROR_WITHHELD = "the reason it stopped is not shown here (the server's log has it)";

/**
 * A stored job as a page or the API shows it: an error naming the history database's file — a version before this one
 * stored the store's error as it came, path and all ("the mailhealth database /root/… is locked …") — has those words
 * withheld (services.ts shownText: only the path marks them), logged once per process. This version stores none such
 * (BulkRunner.shownError), so a job's own text is shown as it is.
 */
export function shownJob<J extends Pick<Job, 'id' | 'error'>>(store: { readonly path?: unknown }, job: J): J {
  if (!job.error) return job;
  const error = shownText(store, `job ${job.id}`, job.error, JOB_ERROR_WITHHELD, `job ${job.id} error`);
  return error === job.error ? job : { ...job, error };
}

/** Finished jobs whose streamed rows stay in memory (older ones: progress only; their results are in the store). */
const KEEP_FINISHED = 10;
/** Results go to the store in batches: this many, or after this long, whichever comes first. */
const STORE_BATCH = 100;
const STORE_BATCH_MS = 250;
/** A bulk fix job's outcomes read from the store at a time. */
const FIX_RESULTS_PAGE = 500;

/**
 * How a job's store writes wait out a busy history database. While the job runs, a write is tried `attempts` times,
 * `pauseMs` apart — the fix path's own policy for the outcome of a write (core/plans/apply.ts throughBusy:
 * BUSY_ATTEMPTS, LOCK_POLL_MS; each try already waits the store's busy timeout, 2 s) — so a short write by another
 * process costs the job nothing. Still busy: the job starts no more domains (a fix writes its intent there too, and an
 * outcome that cannot be kept would be lost to the page), and its last writes — the outcomes it holds, then its end —
 * are tried after each pause of `laterMs` in turn (the last one repeated) until the database takes them: a job row is
 * never left `running` with no worker behind it. The pauses are long beside the busy timeout because each try holds the
 * server's thread for that timeout.
 */
export interface BusyWait {
  attempts: number;
  pauseMs: number;
  laterMs: readonly number[];
}
export const JOB_BUSY_WAIT: BusyWait = { attempts: 4, pauseMs: 100, laterMs: [1_000, 2_000, 5_000, 10_000, 30_000] };

/** The history database busy (another process's write outlasted the store's busy timeout): the store's own rule. */
const isDbBusy = isBusy;

const errorText = (e: unknown) => (e as Error)?.message ?? String(e);

/** A job's store failing under it, in the words its page shows (never SQLite's, which name the server's file). */
function storeTrouble(e: unknown): string {
  return isDbBusy(e)
    ? 'the history database stayed busy (another mailhealth process held it longer than a job can wait)'
    : "the history database could not be written (the server's log says why)";
}

/** How a bulk fix its store stopped ended (its page: "The fix stopped: …"); `applied`: the domains it wrote. */
export function fixStoppedText(e: unknown, applied: number): string {
  const n = applied === 0 ? 'no domain was applied' : applied === 1 ? '1 domain was applied' : `${applied} domains were applied`;
  return `${storeTrouble(e)}, so it started no more domains; ${n}${applied ? ' — each below with its change, and in History' : ''}`;
}

/** A domain a bulk fix did not reach because its store stopped it (not services.ts CANCELLED_BEFORE: nobody cancelled). */
export function stoppedBeforeText(e: unknown): string {
  return `Not applied: ${storeTrouble(e)}, so this bulk fix stopped before this domain. Nothing was changed on it; preview it again to fix it.`;
}

/** How a bulk audit its store stopped ended (its card: "… — stopped: …"); `audited`: the domains whose results it kept. */
export function auditStoppedText(e: unknown, audited: number): string {
  return `stopped: ${storeTrouble(e)}; ${audited === 1 ? 'the 1 domain' : `the ${audited} domains`} audited before it are recorded`;
}

/**
 * The outcome a finished bulk fix job shows for a domain it holds no outcome of (the process stopped before it could
 * write it: a crash, a stop past its grace period), from the change the job wrote — what History shows for it.
 */
function outcomeFromChange(ch: ChangeRecord): BulkOutcomeDetail {
  if (ch.status === 'applied' || ch.status === 'reverted') {
    return { status: 'applied', message: 'applied (from the history: the job could not record it)', changeId: ch.id, verified: ch.verified };
  }
  if (ch.status === 'intent') {
    return { status: 'failed', changeId: ch.id, reason: `Its outcome was not recorded: change ${ch.id} is pending in the history until mailhealth checks the zone.` };
  }
  return { status: 'failed', changeId: ch.id, reason: `Not applied: change ${ch.id} failed; see its history.` };
}

export class BulkRunner {
  /** Each job of this process until its end is written (stop() waits for these; settled()). */
  private readonly running = new Map<number, Promise<void>>();
  /** Each job of this process until its domains are done and its end is written, or could not be at once (wait()). */
  private readonly answered = new Map<number, Promise<void>>();
  /** Results of recent jobs this process ran, in completion order (for streaming into the table). */
  private readonly results = new Map<number, JobResult[]>();
  private readonly finished: number[] = [];

  /** See BULK_FIX_INLINE (tests set it to 0: every bulk fix answers with its job's page). */
  fixInlineMax = BULK_FIX_INLINE;
  /** See BusyWait (tests shorten the pauses). */
  busyWait: BusyWait = JOB_BUSY_WAIT;
  /**
   * The clock (ms) that paces a bulk audit's writes (STORE_BATCH_MS): one that never steps (performance.now). Tests put
   * one that steps back: that counts as time to write, never as none — by the wall clock, a step back kept a slow
   * job's progress unsaved (and unshown) for the step's length.
   */
  elapsedMs: () => number = () => performance.now();
  /** Set by stop(): every job of this process is cancelled, one started from now on too. */
  private stopping = false;
  /** The pauses of jobs waiting for a busy database (nap): stop() ends them, so a stop does not wait one out. */
  private readonly naps = new Set<() => void>();

  /** Where the app's identities come from, for the scope re-check's account (scopeAccount): a front door's, none. */
  private readonly identityFrom: IdentitySource;

  constructor(private readonly deps: WebDeps) {
    this.identityFrom = deps.identityFrom ?? 'session';
  }

  /** The account this runner's jobs of `user` hold the scope re-check to (scopeAccount). */
  private scopeAccount(user: string): string | null {
    return scopeAccount({ store: this.deps.store, identityFrom: this.identityFrom }, user);
  }

  /** Start a bulk audit of the given domains; returns the job id at once. */
  start(identity: Identity, refs: DomainRef[], meta: unknown): number {
    const { store } = this.deps;
    const jobId = store.createJob({ kind: BULK_AUDIT_JOB, byUser: identity.user, byAccount: jobAccount(store, identity.user), scope: meta, total: refs.length });
    let runId: number | null = null;
    try {
      runId = store.startRun('bulk', identity.user, refs.length, { jobId });
      store.updateJob(jobId, { status: 'running', runId });
    } catch (e) {
      // The job's row exists and no worker will follow it: ended (once the database takes it) rather than left queued,
      // which its page would follow for ever. The request answers with the error (app.ts: "busy, try again").
      const started = runId;
      const end = () => {
        store.updateJob(jobId, { status: 'failed', error: `stopped: ${storeTrouble(e)}` });
        if (started !== null) store.finishRun(started, 'interrupted');
      };
      this.launch(jobId, `bulk audit job ${jobId}`, async (tried) => {
        await this.untilWritten(`bulk audit job ${jobId}`, end, tried);
      });
      throw e;
    }
    this.results.set(jobId, []);
    const account = this.scopeAccount(identity.user);
    this.launch(
      jobId,
      `bulk job ${jobId}`,
      (tried) => this.run(jobId, runId, refs, identity, account, tried),
      () => {
        this.finished.push(jobId);
        while (this.finished.length > KEEP_FINISHED) this.results.delete(this.finished.shift()!);
      },
    );
    this.cancelIfStopping(jobId);
    return jobId;
  }

  /**
   * Runs a job's worker (`work`), which calls `tried` once its domains are done and its end could not be written at
   * once (wait() resolves then, else with its end; settled() and stop() once the end is written). Its own failures are recorded by it; this catch is for a store
   * that fails too (closed under it): never an unhandled rejection, which would end the process.
   */
  private launch(jobId: number, what: string, work: (tried: () => void) => Promise<void>, after?: () => void): void {
    let tried: () => void = () => {};
    this.answered.set(jobId, new Promise<void>((resolve) => (tried = resolve)));
    const p = work(tried)
      .catch((e: unknown) => this.log(what, e))
      .finally(() => {
        tried();
        this.running.delete(jobId);
        this.answered.delete(jobId);
        after?.();
      });
    this.running.set(jobId, p);
  }

  private async run(jobId: number, runId: number, refs: DomainRef[], identity: Identity, account: string | null, tried: () => void): Promise<void> {
    const { store } = this.deps;
    const owners = new Map(refs.map((r) => [r.domain, r.owner]));
    const list = this.results.get(jobId)!;
    let failed = 0;
    let gone = 0;
    /** The job row's progress is behind (a batch was recorded, a domain skipped as gone). */
    let jobUnsaved = false;
    let cancelled = false;
    let batch: PreparedAudit[] = [];
    let batchFailed = 0;
    let lastFlush = this.elapsedMs();
    /** Time to write what is held: STORE_BATCH_MS since the last write, or a clock that went back since (elapsedMs). */
    const flushDue = () => {
      const since = this.elapsedMs() - lastFlush;
      return since < 0 || since >= STORE_BATCH_MS;
    };
    let done = 0;
    /** Domains whose results are in the store. */
    let recorded = 0;
    /** The store failing under the job (busy past BusyWait.attempts, or broken): it audits no more domains. */
    let trouble: unknown = null;
    /** Flushes in a row that met a busy database (each one already waited the store's busy timeout). */
    let busyFlushes = 0;
    // The batch with its run progress in one transaction (a batch tried again is never counted twice), then the job's
    // progress; each step forgets what it wrote, so it can be tried again after a failure.
    const write = () => {
      if (batch.length) {
        store.recordPreparedAudits(runId, batch, { done: batch.length, failed: batchFailed });
        recorded += batch.length;
        batch = [];
        batchFailed = 0;
        jobUnsaved = true;
      }
      if (jobUnsaved) {
        store.updateJob(jobId, { done, failed, gone });
        jobUnsaved = false;
      }
    };
    const flush = () => {
      lastFlush = this.elapsedMs();
      if (trouble !== null) return; // the job's end writes the rest
      try {
        write();
        busyFlushes = 0;
      } catch (e) {
        // A short busy spell: the batch is kept and tried again at the next flush, as many times as a fix's outcome is
        // (BusyWait.attempts). Longer, or another failure: the audit stops; its end writes what it holds.
        if (isDbBusy(e) && ++busyFlushes < this.busyWait.attempts) return;
        trouble = e;
        this.log(`bulk job ${jobId}`, e);
      }
    };
    const onResult = (a: BulkItem, n: number) => {
      done = n;
      if (a.status === 'fail') {
        failed++;
        batchFailed++;
      }
      a.prepared.owner = owners.get(a.domain) ?? null;
      batch.push(a.prepared);
      if (batch.length >= STORE_BATCH || flushDue()) flush();
      // The worst severity per check, as the store summarises it.
      const checks = JSON.parse(a.prepared.checks) as Partial<Record<CheckName, Severity>>;
      list.push({ domain: a.domain, status: a.status, auditedAt: a.auditedAt, checks });
    };
    // Removed from the panel since the job started, or no longer in this identity's scope: no audit, no row.
    const onGone = (domain: string, n: number, _total: number, why: SkipReason) => {
      done = n;
      gone++;
      jobUnsaved = true;
      if (flushDue()) flush();
      list.push({ domain, status: 'gone', reason: skipText(why) });
    };
    // The scope as the job started it is asked again for every domain (recheck), after its panel reads: a customer
    // moved to another reseller meanwhile is not read into this identity's run, nor is anything once the identity is no
    // longer a panel account (readScope: then it has no domains). One listing answers for SCOPE_RECHECK_MS (by the
    // app's clock), so thousands of domains cost a listing per 5 s, not a panel round trip per domain. A listing that
    // fails skips nothing here (read-only; adapters/workers/gone.ts), unlike a bulk fix's write.
    const scope = async () => {
      const reading = await readScope(this.deps, identity, account);
      if ('error' in reading) throw new Error(reading.error);
      return 'gone' in reading ? [] : [...reading.names].map((domain) => ({ domain }));
    };
    const recheck = { everyMs: SCOPE_RECHECK_MS, now: () => this.deps.now().getTime() };
    const domains = refs.map((r) => r.domain);
    const options = auditOptionsFrom(store);
    const bulk = {
      concurrency: this.deps.auditConcurrency,
      keepResults: false,
      // A store that fails (closed under the job, or busy past the short wait) stops the run: the audits could not be
      // recorded anyway.
      cancelled: () => {
        if (trouble !== null) return true;
        try {
          return (cancelled ||= this.stopping || store.isCancelRequested(jobId));
        } catch (e) {
          trouble = e;
          this.log(`bulk job ${jobId}`, e);
          return true;
        }
      },
      onResult,
      onGone,
    };
    let crash: unknown = null;
    try {
      const spec = this.deps.resolverOptions?.();
      if (spec) {
        const threads = this.deps.auditThreads;
        await bulkAudit(domains, { panel: this.deps.panel, resolver: spec, options, now: this.deps.now, scope, recheck }, { ...bulk, ...(threads !== undefined ? { threads } : {}) });
      } else {
        // A resolver the app was given as an object (tests, custom wiring): this thread only.
        await withResolver(this.deps, (resolver) =>
          bulkAudit(domains, { panel: this.deps.panel, resolver: {}, inProcess: resolver, options, now: this.deps.now, scope, recheck }, { ...bulk, threads: 0 }),
        );
      }
    } catch (e) {
      crash = e;
      this.log(`bulk job ${jobId}`, e);
    }
    const status = trouble !== null || crash !== null ? 'failed' : cancelled ? 'cancelled' : 'complete';
    // What the audit holds, then its end; tried until the database takes them (a long busy spell) — recorded counts the
    // batch this very write records.
    await this.untilWritten(`bulk job ${jobId}`, () => {
      write();
      const error = trouble !== null ? auditStoppedText(trouble, recorded) : crash !== null ? this.shownError(crash) : undefined;
      store.updateJob(jobId, { status, ...(error !== undefined ? { error } : {}) });
      store.finishRun(runId, status === 'failed' ? 'interrupted' : status);
    }, tried);
  }

  /**
   * Start applying a bulk fix (services.applyBulkFix: the previewed plans, hash-checked by core, 4 domains at a time);
   * returns the job id at once. Each domain's outcome goes into the job's items as it comes, with the progress, in one
   * transaction. Cancel skips the domains not started yet (one being fixed finishes: a write is never cut short).
   * `requestKey`: the form it comes from (routes/bulk.ts), so that form sent again is answered with this job.
   */
  startFix(identity: Identity, check: FixKind, items: BulkFixItem[], notFound: string[], requestKey: string | null = null): number {
    const { store } = this.deps;
    const scope: FixJobScope = { check, domains: items.map((i) => i.ref.domain), notFound };
    const account = jobAccount(store, identity.user);
    const jobId = store.createJob({ kind: BULK_FIX_JOB, byUser: identity.user, byAccount: account, requestKey, scope, total: items.length });
    try {
      store.updateJob(jobId, { status: 'running' });
    } catch {
      // Left queued (its page shows it as running all the same): the job's own writes bring it to its end. Not thrown —
      // the job exists, and an error here would leave it with no worker.
    }
    const recheckAs = this.scopeAccount(identity.user);
    this.launch(jobId, `bulk fix job ${jobId}`, (tried) => this.runFix(jobId, identity, check, items, recheckAs, tried));
    this.cancelIfStopping(jobId);
    return jobId;
  }

  private async runFix(jobId: number, identity: Identity, check: FixKind, items: BulkFixItem[], account: string | null, tried: () => void): Promise<void> {
    const { store } = this.deps;
    const what = `bulk fix job ${jobId}`;
    let done = 0;
    let failed = 0;
    /** Domains skipped as no longer in the identity's scope (the job row's `gone`): neither applied nor "not applied". */
    let skipped = 0;
    /** Domains this job wrote (outcome applied): what its end says when its store stopped it. */
    let applied = 0;
    let cancelled = false;
    /** The store failing under the job (busy past BusyWait.attempts, or broken): it starts no more domains. */
    let trouble: unknown = null;
    /** Outcomes not in the store yet, oldest first, each with the progress it brings (recordJobItem sets both at once). */
    const unsaved: { item: { domain: string; status: string; detail: BulkOutcomeDetail }; progress: { done: number; failed: number }; gone?: number }[] = [];
    let saving = false;
    let saved: Promise<void> = Promise.resolve();
    // Writes the outcomes in order, each waited through a short busy spell; one still busy after that stops the job
    // (trouble) and leaves the rest to its end. `saving` is cleared with no await after the last look at `unsaved`, so
    // an outcome that comes meanwhile is either written by this loop or starts the next.
    const save = async () => {
      saving = true;
      try {
        while (unsaved.length && trouble === null) {
          const next = unsaved[0];
          try {
            await this.throughBusy(() => store.recordJobItem(jobId, next.item, next.progress));
          } catch (e) {
            trouble = e;
            this.log(what, e);
            break;
          }
          unsaved.shift();
          try {
            if (next.gone !== undefined) store.updateJob(jobId, { gone: next.gone });
          } catch {
            /* only a count, which the job's end writes again */
          }
        }
      } finally {
        saving = false;
      }
    };
    let crash: unknown = null;
    try {
      await applyBulkFix(this.deps, identity, check, items, {
        // Each domain's scope is asked again before it is written (services.ts BulkScope), as this account's.
        account,
        // Recorded on every change this job's applies make (store changes.job_id), so the domains whose outcome the job
        // could not record are matched to its own changes exactly (unrecordedOutcomes).
        jobId,
        // A store that fails (closed under the job, or busy past the short wait) stops the job: the fixes themselves
        // write their intents there, and outcomes that cannot be kept would be lost to the page.
        cancelled: () => {
          if (trouble !== null) return true;
          try {
            return (cancelled ||= this.stopping || store.isCancelRequested(jobId));
          } catch (e) {
            trouble = e;
            this.log(what, e);
            return true;
          }
        },
        onResult: (r) => {
          this.logFault(what, r);
          // A failing store's own words quoted in the outcome give way to words of mailhealth's own (services.ts
          // shownDetail: the text as it came goes to the server's log).
          let detail = shownDetail(store, r.domain, bulkOutcomeDetail(r.outcome));
          // Not reached because the store stopped the job: said so, not "cancelled" (nobody cancelled it).
          if (trouble !== null && !cancelled && detail.status === 'skipped' && detail.reason === CANCELLED_BEFORE) {
            detail = { ...detail, reason: stoppedBeforeText(trouble) };
          }
          done++;
          if (bulkOutcomeNotApplied(detail)) failed++;
          if (detail.status === 'applied') applied++;
          const outOfScope = bulkOutcomeOutOfScope(detail);
          if (outOfScope) skipped++;
          unsaved.push({ item: { domain: r.domain, status: detail.status, detail }, progress: { done, failed }, ...(outOfScope ? { gone: skipped } : {}) });
          if (!saving) saved = save();
        },
      });
    } catch (e) {
      // Not expected (applyBulkFix answers every domain); the domains it did not answer show what History holds of
      // them (unrecordedOutcomes).
      crash = e;
      this.log(what, e);
    }
    while (saving) await saved;
    const end: JobUpdate =
      trouble !== null
        ? { status: 'failed', error: fixStoppedText(trouble, applied) }
        : crash !== null
          ? { status: 'failed', error: this.shownError(crash) }
          : { status: cancelled ? 'cancelled' : 'complete' };
    // Every outcome it holds, then its end, tried until the database takes them (a long busy spell).
    await this.untilWritten(what, () => {
      while (unsaved.length) {
        const next = unsaved[0];
        store.recordJobItem(jobId, next.item, next.progress);
        unsaved.shift();
      }
      store.updateJob(jobId, { ...end, done, failed, gone: skipped });
    }, tried);
  }

  /** A store write while a job runs, tried again through a short busy spell (BusyWait); still busy, its error is thrown. */
  private throughBusy<T>(fn: () => T): Promise<T> {
    return throughBusy(fn, { attempts: this.busyWait.attempts, waitMs: this.busyWait.pauseMs, sleep: (ms) => this.nap(ms) });
  }

  /**
   * A job's last writes (`fn`, which forgets what it wrote, so it can be called again), tried until the database takes
   * them (BusyWait.laterMs). Given up — logged; the next start marks the job interrupted — on another failure (the store
   * closed, the disk full) or once the process is stopping (its store is about to close). True once written.
   */
  private async untilWritten(what: string, fn: () => void, tried?: () => void): Promise<boolean> {
    const later = this.busyWait.laterMs;
    for (let i = 0; ; i++) {
      let error: unknown = null;
      try {
        fn();
      } catch (e) {
        error = e ?? new Error(String(e));
      }
      // Written at once: wait() resolves with the job's end (launch). Else now — its end may wait a long while.
      if (i === 0 && error !== null) tried?.();
      if (error === null) {
        if (i > 0) process.stderr.write(`mailhealth web: ${what}: written once the history database was free again\n`);
        return true;
      }
      if (!isDbBusy(error) || this.stopping) {
        this.log(`${what} (its end could not be recorded)`, error);
        return false;
      }
      if (i === 0) this.log(`${what}: its end waits for the history database`, error);
      await this.nap(later[Math.min(i, later.length - 1)] ?? 0);
    }
  }

  /** A pause that stop() ends at once. */
  private nap(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.naps.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.naps.add(wake);
    });
  }

  /** The server's log: the error as it came (the page shows words of its own). */
  private log(what: string, e: unknown): void {
    // The message only (no stack), escaped and on one line: a panel's error text cannot start a line of its own.
    process.stderr.write(`mailhealth web: ${logSafe(what)}: ${logSafe(errorText(e)).replace(/\n/g, '\\n')}\n`);
  }

  /**
   * The history database's own error behind a domain's outcome (core's HistoryFault: the outcome says what the failure
   * left in core's words; the error names the database file), to the server's log.
   */
  private logFault(what: string, r: BulkFixResult): void {
    const fault = (r.outcome as HistoryFault).historyError;
    if (fault !== undefined) this.log(`${what}: ${r.domain}: the history database failed`, fault);
  }

  /** A job's error as its page shows it: a failing store's in words of its own (storeTrouble; services.ts isStoreText). */
  private shownError(e: unknown): string {
    const text = errorText(e);
    if (!isStoreText(this.deps.store, text)) return text;
    // Only a failure of the store that was actually met is said as one; other text naming the database's file (a
    // panel's message quoting it) has those words withheld.
    return isStoreFailure(e) ? storeTrouble(e) : withheldText(this.deps.store, text, 'The job stopped (the server\'s log has why).');
  }

  /**
   * A bulk fix applied within its request (where no background job can run), recorded once done as a finished job with
   * each domain's outcome — what startFix's job would hold — so the request answers with a redirect to the job's page:
   * reloading the results shows them again instead of sending the apply again. Returns the job id.
   */
  recordFix(identity: Identity, check: FixKind, items: BulkFixItem[], notFound: string[], results: readonly BulkFixResult[], requestKey: string | null = null): number {
    const { store } = this.deps;
    const scope: FixJobScope = { check, domains: items.map((i) => i.ref.domain), notFound };
    for (const r of results) this.logFault('bulk fix', r);
    // Kept as its page shows them, as a background job keeps its outcomes (runFix): no failing store's own words.
    const rows = results.map((r) => ({ domain: r.domain, detail: shownDetail(store, r.domain, bulkOutcomeDetail(r.outcome)) }));
    const skipped = rows.filter((r) => bulkOutcomeOutOfScope(r.detail)).length;
    const id = store.createFinishedJob({
      kind: BULK_FIX_JOB,
      byUser: identity.user,
      byAccount: jobAccount(store, identity.user),
      requestKey,
      scope,
      total: items.length,
      status: 'complete',
      done: rows.length,
      failed: rows.filter((r) => bulkOutcomeNotApplied(r.detail)).length,
      items: rows.map((r) => ({ domain: r.domain, status: r.detail.status, detail: r.detail })),
    });
    // Skipped as no longer in scope: counted apart, as a background job counts them (runFix). The rows say it anyway,
    // so a count that cannot be written does not lose the results.
    try {
      if (skipped) store.updateJob(id, { gone: skipped });
    } catch {
      /* the rows are kept: the results page shows each of them */
    }
    return id;
  }

  /**
   * A bulk fix job's results from entry `since` on (from the store: they outlive this process). The last page adds,
   * for a job that ended without recording every domain (unrecordedOutcomes), what History holds of the others — not
   * entries of the job's own (`next` does not count them), so they come again with every last page.
   */
  fixResultsSince(jobId: number, since: number): { results: FixJobResult[]; next: number } {
    const { items, next } = this.deps.store.jobItems(jobId, since, FIX_RESULTS_PAGE);
    const results: FixJobResult[] = items.map((it) => ({ ...(it.detail as BulkOutcomeDetail), domain: it.domain }));
    if (items.length < FIX_RESULTS_PAGE) results.push(...this.unrecordedOutcomes(jobId));
    return { results, next };
  }

  /**
   * The domains a bulk fix job that ended short (interrupted by a restart, failed) holds no outcome of — its process
   * stopped before it could write them — with the change the job wrote to each, as History has it: the change its own
   * apply recorded with the job's id (store changesOfJob) — never another fix of the same user on the domain meanwhile,
   * which the job's check, user and time window alone could not tell apart (a plan hash cannot either: a plan rebased
   * over this job's own writes to a shared zone has another). A domain with no such change was not written by it and
   * gets no line (its row says "no outcome": see its history) — so does every domain of a job started by a version that
   * recorded no job id (schema v7).
   */
  private unrecordedOutcomes(jobId: number): FixJobResult[] {
    const { store } = this.deps;
    const job = store.getJob(jobId);
    if (!job || job.kind !== BULK_FIX_JOB || (job.status !== 'interrupted' && job.status !== 'failed')) return [];
    const scope = job.scope as Partial<FixJobScope> | null;
    if (!scope || !Array.isArray(scope.domains)) return [];
    const recorded = new Set<string>();
    for (let since = 0; ; ) {
      const { items, next } = store.jobItems(jobId, since, FIX_RESULTS_PAGE);
      for (const it of items) recorded.add(it.domain);
      if (next === since || items.length < FIX_RESULTS_PAGE) break;
      since = next;
    }
    const missing = [...new Set(scope.domains)].filter((d) => !recorded.has(d));
    if (!missing.length) return [];
    // Newest first: the first per domain is the job's latest write to it.
    const found = new Map<string, ChangeRecord>();
    for (const ch of store.changesOfJob(jobId, missing)) if (!found.has(ch.domain)) found.set(ch.domain, ch);
    return missing.flatMap((domain) => {
      const ch = found.get(domain);
      return ch ? [{ ...outcomeFromChange(ch), domain }] : [];
    });
  }

  /**
   * The process is stopping (serve's SIGTERM, as `systemctl restart` sends): every running job is cancelled as Cancel
   * does — a domain not started yet is skipped and recorded "not applied", one being fixed finishes its panel write and
   * records its outcome, so its lock is released as usual (never before: the lock covers a write in flight) — and a
   * job started from now on is cancelled at once. Resolves when every job of this process has finished; the caller
   * bounds the wait (a panel that never answers) and closes the store only after it.
   */
  stop(): Promise<void> {
    this.stopping = true;
    for (const jobId of this.running.keys()) this.cancelIfStopping(jobId);
    // A job waiting out a busy database tries once more now, then leaves its end to the next start (untilWritten).
    for (const wake of [...this.naps]) wake();
    return Promise.all([...this.running.values()]).then(() => undefined);
  }

  /** How many jobs this process is running (serve's stop says what it waits for). */
  get active(): number {
    return this.running.size;
  }

  /** The cancel flag in the job's row, so its page says "cancelled" as for Cancel (the runner stops either way). */
  private cancelIfStopping(jobId: number): void {
    if (!this.stopping) return;
    try {
      this.deps.store.requestCancel(jobId);
    } catch {
      /* the store failing: the job stops on this.stopping alone */
    }
  }

  /**
   * Resolves when the job (started by this process) has done its domains and written its end — or, the history database
   * busy, is waiting to write it (its page shows it running and follows it until then): a request that answers once the
   * job is done (routes/bulk.ts, BULK_FIX_INLINE) is not held for as long as another process holds the database.
   */
  async wait(jobId: number): Promise<void> {
    await (this.answered.get(jobId) ?? this.running.get(jobId));
  }

  /** Resolves when the job (started by this process) has written its end, however long the database stayed busy. */
  async settled(jobId: number): Promise<void> {
    await this.running.get(jobId);
  }

  /** Results since index `since` (only for jobs this process ran). */
  resultsSince(jobId: number, since: number): { results: JobResult[]; next: number } {
    const list = this.results.get(jobId) ?? [];
    const from = Math.max(0, Math.min(since, list.length));
    return { results: list.slice(from, from + 500), next: Math.min(list.length, from + 500) };
  }

  cancel(jobId: number): boolean {
    return this.deps.store.requestCancel(jobId);
  }

  /** Job view for the page and the JSON API. */
  view(job: Job, since = 0) {
    // A bulk fix job's results are its outcomes per domain (FixJobResult), in the order they came.
    const { results, next } = job.kind === BULK_FIX_JOB ? this.fixResultsSince(job.id, since) : this.resultsSince(job.id, since);
    return {
      id: job.id,
      kind: job.kind,
      status: job.status,
      total: job.total,
      done: job.done,
      failed: job.failed,
      gone: job.gone,
      cancelRequested: job.cancelRequested,
      createdAt: job.createdAt,
      updatedAt: job.updatedAt,
      // Stored by an older version, it may name the history database's file (shownJob).
      error: shownJob(this.deps.store, job).error,
      results,
      next,
    };
  }
}
