// Bulk audits and bulk fix applies as background jobs: the job row in the store holds progress (done/total/failures)
// and the cancel flag, so a page reload (or another tab) sees the same job; results go into the store as they arrive
// (an audit's in runs/results, a fix's outcome per domain in the job's items). A restart marks unfinished jobs
// interrupted (store.interruptUnfinishedJobs at server start); a clean stop (`stop()`, serve's SIGTERM) cancels them
// first and lets the domains being fixed finish, so only a crash or a stop past its grace period leaves one so.
//
// A job belongs to the panel ACCOUNT that started it, not only to a user name: a name can pass to a new account once the
// old one is removed (web/session.ts, PASSWORD_ACCOUNT_SETTING), and that account must not see, follow or cancel the
// old one's jobs (jobAccount, jobVisibleTo, pageJobsOf).
import type { CheckName, DomainRef, DomainStatus, FixKind, Identity, Severity } from '../core/model.js';
import type { PreparedAudit, Store } from '../adapters/store/store.js';
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
  readScope,
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

/** The job list a page shows `me` (Store.pageJobs): the jobs of `me`'s account only, never an earlier account's of that name. */
export function pageJobsOf(store: Pick<Store, 'getSetting' | 'pageJobs'>, me: Identity, limit: number, kind?: string): { active: Job[]; lastFinished: Job | null } {
  return store.pageJobs(me.user, limit, kind, jobAccount(store, me.user));
}

/** Finished jobs whose streamed rows stay in memory (older ones: progress only; their results are in the store). */
const KEEP_FINISHED = 10;
/** Results go to the store in batches: this many, or after this long, whichever comes first. */
const STORE_BATCH = 100;
const STORE_BATCH_MS = 250;

export class BulkRunner {
  private readonly running = new Map<number, Promise<void>>();
  /** Results of recent jobs this process ran, in completion order (for streaming into the table). */
  private readonly results = new Map<number, JobResult[]>();
  private readonly finished: number[] = [];

  /** See BULK_FIX_INLINE (tests set it to 0: every bulk fix answers with its job's page). */
  fixInlineMax = BULK_FIX_INLINE;
  /** Set by stop(): every job of this process is cancelled, one started from now on too. */
  private stopping = false;

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
    const runId = store.startRun('bulk', identity.user, refs.length, { jobId });
    store.updateJob(jobId, { status: 'running', runId });
    this.results.set(jobId, []);
    // run() records its own failures; this catch is for a store that fails too (closed under it): never an unhandled
    // rejection, which would end the process.
    const p = this.run(jobId, runId, refs, identity, this.scopeAccount(identity.user))
      .catch((e: unknown) => {
        process.stderr.write(`mailhealth web: bulk job ${jobId}: ${(e as Error)?.message ?? String(e)}\n`);
      })
      .finally(() => {
        this.running.delete(jobId);
        this.finished.push(jobId);
        while (this.finished.length > KEEP_FINISHED) this.results.delete(this.finished.shift()!);
      });
    this.running.set(jobId, p);
    this.cancelIfStopping(jobId);
    return jobId;
  }

  private async run(jobId: number, runId: number, refs: DomainRef[], identity: Identity, account: string | null): Promise<void> {
    const { store } = this.deps;
    const owners = new Map(refs.map((r) => [r.domain, r.owner]));
    const list = this.results.get(jobId)!;
    let failed = 0;
    let gone = 0;
    let goneUnsaved = false;
    let cancelled = false;
    let batch: PreparedAudit[] = [];
    let batchFailed = 0;
    let lastFlush = Date.now();
    let done = 0;
    let storeFailure: unknown = null;
    const flush = () => {
      lastFlush = Date.now();
      if (!batch.length && !goneUnsaved) return;
      if (batch.length) {
        store.recordPreparedAudits(runId, batch);
        store.bumpRunProgress(runId, { done: batch.length, failed: batchFailed });
      }
      store.updateJob(jobId, { done, failed, gone });
      batch = [];
      batchFailed = 0;
      goneUnsaved = false;
    };
    const onResult = (a: BulkItem, n: number) => {
      done = n;
      if (a.status === 'fail') {
        failed++;
        batchFailed++;
      }
      a.prepared.owner = owners.get(a.domain) ?? null;
      batch.push(a.prepared);
      if (batch.length >= STORE_BATCH || Date.now() - lastFlush >= STORE_BATCH_MS) flush();
      // The worst severity per check, as the store summarises it.
      const checks = JSON.parse(a.prepared.checks) as Partial<Record<CheckName, Severity>>;
      list.push({ domain: a.domain, status: a.status, auditedAt: a.auditedAt, checks });
    };
    // Removed from the panel since the job started, or no longer in this identity's scope: no audit, no row.
    const onGone = (domain: string, n: number, _total: number, why: SkipReason) => {
      done = n;
      gone++;
      goneUnsaved = true;
      if (Date.now() - lastFlush >= STORE_BATCH_MS) flush();
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
      // A store that fails here (closed under the job) stops the run: the audits could not be recorded anyway.
      cancelled: () => {
        try {
          return (cancelled ||= this.stopping || store.isCancelRequested(jobId));
        } catch (e) {
          storeFailure ??= e;
          return true;
        }
      },
      onResult,
      onGone,
    };
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
      if (storeFailure) throw storeFailure;
      flush();
      const status = cancelled ? 'cancelled' : 'complete';
      store.updateJob(jobId, { status });
      store.finishRun(runId, status);
    } catch (e) {
      try {
        flush();
      } catch {
        /* the store itself may be the problem */
      }
      try {
        store.updateJob(jobId, { status: 'failed', error: (e as Error).message });
        store.finishRun(runId, 'interrupted');
      } catch {
        /* the store is gone: a restart marks the job interrupted (interruptUnfinishedJobs) */
      }
    }
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
    store.updateJob(jobId, { status: 'running' });
    const p = this.runFix(jobId, identity, check, items, this.scopeAccount(identity.user))
      .catch((e: unknown) => {
        process.stderr.write(`mailhealth web: bulk fix job ${jobId}: ${(e as Error)?.message ?? String(e)}\n`);
      })
      .finally(() => this.running.delete(jobId));
    this.running.set(jobId, p);
    this.cancelIfStopping(jobId);
    return jobId;
  }

  private async runFix(jobId: number, identity: Identity, check: FixKind, items: BulkFixItem[], account: string | null): Promise<void> {
    const { store } = this.deps;
    let done = 0;
    let failed = 0;
    /** Domains skipped as no longer in the identity's scope (the job row's `gone`): neither applied nor "not applied". */
    let skipped = 0;
    let cancelled = false;
    let storeFailure: unknown = null;
    try {
      await applyBulkFix(this.deps, identity, check, items, {
        // Each domain's scope is asked again before it is written (services.ts BulkScope), as this account's.
        account,
        // A store that fails (closed under the job, or busy past its timeout) stops the job: the fixes themselves write
        // their intents there, and outcomes that cannot be kept would be lost to the page.
        cancelled: () => {
          if (storeFailure) return true;
          try {
            return (cancelled ||= this.stopping || store.isCancelRequested(jobId));
          } catch (e) {
            storeFailure ??= e;
            return true;
          }
        },
        onResult: (r) => {
          const detail = bulkOutcomeDetail(r.outcome);
          done++;
          if (bulkOutcomeNotApplied(detail)) failed++;
          const outOfScope = bulkOutcomeOutOfScope(detail);
          if (outOfScope) skipped++;
          try {
            store.recordJobItem(jobId, { domain: r.domain, status: detail.status, detail }, { done, failed });
            if (outOfScope) store.updateJob(jobId, { gone: skipped });
          } catch (e) {
            storeFailure ??= e;
          }
        },
      });
      if (storeFailure) throw storeFailure;
      store.updateJob(jobId, { status: cancelled ? 'cancelled' : 'complete' });
    } catch (e) {
      try {
        store.updateJob(jobId, { status: 'failed', error: (e as Error).message });
      } catch {
        /* the store is gone: a restart marks the job interrupted (interruptUnfinishedJobs) */
      }
    }
  }

  /**
   * A bulk fix applied within its request (where no background job can run), recorded once done as a finished job with
   * each domain's outcome — what startFix's job would hold — so the request answers with a redirect to the job's page:
   * reloading the results shows them again instead of sending the apply again. Returns the job id.
   */
  recordFix(identity: Identity, check: FixKind, items: BulkFixItem[], notFound: string[], results: readonly BulkFixResult[], requestKey: string | null = null): number {
    const { store } = this.deps;
    const scope: FixJobScope = { check, domains: items.map((i) => i.ref.domain), notFound };
    const rows = results.map((r) => ({ domain: r.domain, detail: bulkOutcomeDetail(r.outcome) }));
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

  /** A bulk fix job's results from entry `since` on (from the store: they outlive this process). */
  fixResultsSince(jobId: number, since: number): { results: FixJobResult[]; next: number } {
    const { items, next } = this.deps.store.jobItems(jobId, since, 500);
    return { results: items.map((it) => ({ ...(it.detail as BulkOutcomeDetail), domain: it.domain })), next };
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

  /** Resolves when the job (started by this process) has finished. */
  async wait(jobId: number): Promise<void> {
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
      error: job.error,
      results,
      next,
    };
  }
}
