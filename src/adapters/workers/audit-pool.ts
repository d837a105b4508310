// The bulk audit on every core: worker threads run the checks and the DNS; this thread reads the panel, takes the
// results (so callers store them from one thread, in order of arrival, exactly as with core's auditMany) and audits
// too, as one more slot (by default one worker per further core).
//
// Why this split: the audit is CPU-bound once DNS answers come from a nearby server (checks, classification, DNS
// packets), and a hosting server has several cores. Reading the panel stays here because the Panel object is whatever
// the caller holds (a scoped view for a reseller, a decorator that applies admin settings, a cPanel session): the
// workers never get more than the zone and mail settings of the domains they are given, and cannot write anything.
// Each slot has its own wire resolver built from the same options (its own per-run cache; a shared include is asked
// once per slot instead of once per run).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { AuditOptions } from '../../core/checks/context.js';
import type { DomainAudit } from '../../core/model.js';
import type { Panel } from '../../core/panel.js';
import type { ResolverOptions, ResolverStats } from '../dns/resolver.js';
import type { PreparedAudit } from '../store/store.js';
import { auditDomain, type BulkOptions } from '../../core/audit.js';
import { createResolver, type WireResolver } from '../dns/resolver.js';
import { itemFromAudit, itemFromPrepared, type BulkItem } from './item.js';
import { readDomain, readPanel, type FromWorker, type ToWorker, type WorkerInit, type WorkerJob } from './job.js';
import { ScopeWatch, type ScopeListing, type ScopeRecheck, type SkipReason } from './gone.js';

export interface PoolDeps {
  panel: Panel;
  /** Options for each worker's wire resolver; `concurrency` (queries in flight) is shared out among the workers. */
  resolver: ResolverOptions;
  options?: AuditOptions;
  /** Timestamps of the audits (set here when the result arrives). Default: the worker's clock. */
  now?: () => Date;
  /**
   * The run identity's scope (`() => panel.listDomains(identity)`). Given, a domain whose panel read says not-found
   * and that this listing no longer holds is skipped as gone (see ./gone.ts): not audited, handed to onGone.
   */
  scope?: ScopeListing;
  /**
   * With `scope`: ask it for every domain, not only one whose read said not-found (see ./gone.ts ScopeRecheck) — a
   * domain the panel still has but this listing no longer holds (moved to another account) is skipped as
   * 'out-of-scope': not audited, handed to onGone.
   */
  recheck?: ScopeRecheck;
}

/** core's BulkOptions, with each result as a BulkItem (prepared for the store; the full audit on demand). */
export interface PoolOptions extends Omit<BulkOptions, 'onResult'> {
  onResult?: (item: BulkItem, done: number, total: number) => void | Promise<void>;
  /**
   * A domain skipped because the panel no longer has it (deps.scope; `why` 'gone'), or no longer gives it to the run's
   * identity (deps.recheck; 'out-of-scope'): not audited, no result. `done` counts it (it is handled), like onResult's.
   * Awaited in the same order as onResult; a throw stops the run.
   */
  onGone?: (domain: string, done: number, total: number, why: SkipReason) => void | Promise<void>;
  /** Worker threads. Default: one fewer than the cores this process may use (os.availableParallelism()), at most 8. */
  threads?: number;
  /**
   * Audit on the calling thread too, as one more slot beside the workers (default true). It reads the panel and
   * stores the results anyway and is otherwise idle; auditing here saves one worker's memory and start-up.
   */
  local?: boolean;
  /** Weight of the calling thread's domains against a worker's when dispatching (default LOCAL_WEIGHT). */
  localWeight?: number;
  /** Each worker's old-generation heap limit in MB (default WORKER_OLD_GENERATION_MB). */
  workerHeapMb?: number;
  /** Diagnostics: worker i writes its CPU profile to `${profilePrefix}.worker<i>.cpuprofile`. */
  profilePrefix?: string;
}

export interface PoolRun {
  /** In input order; empty with keepResults: false. */
  audits: DomainAudit[];
  /** All workers' resolver statistics, summed. */
  stats: ResolverStats;
  /** The questions the workers put on the wire: each worker's distinct questions (two workers may share some). */
  asked: { name: string; type: string }[];
  threads: number;
}

/** Worker threads by default: the cores this process may use, less the calling thread's (which audits too). */
/** How much more a domain audited on the calling thread weighs than one on a worker (see dispatch). */
export const LOCAL_WEIGHT = 3;

export function defaultThreads(): number {
  return Math.max(0, Math.min(8, availableParallelism() - 1));
}

/**
 * Old-generation heap limit of a worker (MB). What a worker holds is bounded — the domains in flight, its resolver's
 * run cache (DEFAULT_CACHE_SIZE answers), bounded memos — and measured 20–45 MB live on the 10,000-domain benchmark
 * (with the run cache at 20,000 answers, as it was then); without a limit V8 let each worker's heap grow to ~3× that.
 * With it, peak RSS fell by ~25 MB at no measurable cost in time.
 */
export const WORKER_OLD_GENERATION_MB = 128;

/** A worker running ./audit-worker (the .ts source under tsx, the compiled .js otherwise). */
function spawn(init: WorkerInit, heapMb: number): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: heapMb };
  const self = import.meta.url;
  if (self.endsWith('.ts')) {
    // Source checkout run through tsx: worker threads do not inherit its loader, so register it first.
    const api = import.meta.resolve('tsx/esm/api');
    const target = new URL('./audit-worker.ts', self).href;
    return new Worker(`import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(target)}); })`, {
      eval: true,
      workerData: init,
      resourceLimits,
    });
  }
  return new Worker(new URL('./audit-worker.js', self), { workerData: init, resourceLimits });
}

interface Slot {
  /** null: the calling thread's own slot. */
  worker: Worker | null;
  pending: number;
  outbox: WorkerJob[];
  scheduled: boolean;
  finished: Extract<FromWorker, { type: 'finished' }> | null;
}

function message(e: unknown): string {
  return (e as Error)?.message ?? String(e);
}

/**
 * Audit many domains on worker threads. Same contract as core's auditMany (bounded concurrency, onStart/onResult —
 * awaited, a throw stops the run and rejects — cancelled, keepResults), plus the resolvers' statistics.
 */
export async function auditManyParallel(domains: string[], deps: PoolDeps, opts: PoolOptions = {}): Promise<PoolRun> {
  const total = domains.length;
  const keep = opts.keepResults !== false;
  const results: BulkItem[] = keep ? new Array(total) : [];
  const threads = Math.max(0, Math.min(opts.threads ?? defaultThreads(), total));
  const local = opts.local !== false || threads === 0;
  const localWeight = opts.localWeight ?? LOCAL_WEIGHT;
  const heapMb = opts.workerHeapMb ?? WORKER_OLD_GENERATION_MB;
  const concurrency = Math.max(1, opts.concurrency ?? 16);
  const dnsPerSlot = Math.max(1, Math.ceil((deps.resolver.concurrency ?? 64) / (threads + (local ? 1 : 0))));
  const resolverOptions = { ...deps.resolver, concurrency: dnsPerSlot };
  const init: WorkerInit = { resolver: resolverOptions, ...(deps.options ? { options: deps.options } : {}) };
  let localResolver: WireResolver | null = null;
  const watch = deps.scope ? new ScopeWatch(deps.scope, deps.recheck) : null;

  const slots: Slot[] = [];
  let next = 0;
  let inflight = 0;
  let done = 0;
  let failure: { error: unknown } | null = null;
  let finishing = false;
  let chain: Promise<void> = Promise.resolve();

  if (total === 0) return { audits: [], stats: { queries: 0, cacheHits: 0, unknown: 0 }, asked: [], threads: 0 };
  return new Promise<PoolRun>((resolve, reject) => {
    const stopAll = () => {
      for (const s of slots) void s.worker?.terminate();
      localResolver?.close();
    };
    const fail = (e: unknown) => {
      if (failure) return;
      failure = { error: e };
      stopAll();
      reject(e instanceof Error ? e : new Error(message(e)));
    };

    const flushSlot = (s: Slot) => {
      s.scheduled = false;
      if (!s.outbox.length || failure || !s.worker) return;
      const jobs = s.outbox;
      s.outbox = [];
      s.worker.postMessage({ type: 'jobs', jobs } satisfies ToWorker);
    };
    const runLocal = async (s: Slot, job: WorkerJob) => {
      const audit = await auditDomain(job.domain, {
        panel: readPanel(job),
        resolver: localResolver!,
        ...(deps.options ? { options: deps.options } : {}),
        ...(deps.now ? { now: deps.now } : {}),
      });
      if (failure) return;
      deliver(s, job.i, itemFromAudit(audit));
    };
    const dispatch = (job: WorkerJob) => {
      if (failure) return;
      // The calling thread also reads the panel and stores every result: it takes a domain only while it has a third
      // of a worker's load or less (else the workers wait for it).
      const load = (s: Slot) => (s.worker ? s.pending : s.pending * localWeight);
      let best = slots[0];
      for (const s of slots) if (load(s) < load(best)) best = s;
      best.pending++;
      if (!best.worker) {
        runLocal(best, job).catch(fail);
        return;
      }
      best.outbox.push(job);
      if (!best.scheduled) {
        best.scheduled = true;
        setImmediate(() => flushSlot(best));
      }
    };
    // The same two reads, in the same order, as core's buildContext. No check reads the private key (the DKIM check
    // compares public keys): it never leaves this thread. A domain gone from the panel, or out of the identity's scope
    // (./gone.ts), is not audited.
    const read = async (i: number): Promise<WorkerJob | SkipReason> => {
      const since = watch?.mark() ?? 0;
      const { job, notFound } = await readDomain(deps.panel, i, domains[i], true);
      return (watch && (await watch.after(job.domain, since, notFound))) || job;
    };
    /** One domain handled (audited or skipped): its report, in order of arrival, then the next domain. */
    const settle = (report: (done: number) => void | Promise<void>) => {
      chain = chain
        .then(async () => {
          if (failure) return;
          done++;
          await report(done);
          inflight--;
          pump();
        })
        .catch(fail);
    };
    const skip = (domain: string, why: SkipReason) => settle((n) => opts.onGone?.(domain, n, total, why));

    const maybeFinish = () => {
      if (failure || finishing || inflight > 0) return;
      if (next < total && !opts.cancelled?.()) return;
      finishing = true;
      void chain.then(() => {
        if (failure) return;
        for (const s of slots) s.worker?.postMessage({ type: 'finish' } satisfies ToWorker);
        if (slots.every((x) => !x.worker)) allFinished();
      });
    };
    const pump = () => {
      while (!failure && inflight < concurrency && next < total) {
        if (opts.cancelled?.()) break;
        const i = next++;
        inflight++;
        opts.onStart?.(domains[i]);
        read(i).then((job) => (typeof job === 'string' ? skip(domains[i], job) : dispatch(job)), fail);
      }
      maybeFinish();
    };

    const deliver = (s: Slot, i: number, item: BulkItem) => {
      s.pending--;
      if (keep) results[i] = item;
      settle((n) => opts.onResult?.(item, n, total));
    };
    const onResults = (s: Slot, batch: { i: number; prepared: PreparedAudit }[]) => {
      for (const { i, prepared } of batch) {
        if (deps.now) prepared.auditedAt = deps.now().toISOString();
        deliver(s, i, itemFromPrepared(prepared));
      }
    };

    const allFinished = () => {
      const stats: ResolverStats = { queries: 0, cacheHits: 0, unknown: 0 };
      // Each worker's distinct questions, one after the other: the same queries the workers put on the wire (a question
      // two workers both asked appears twice, as it went out twice).
      const asked: { name: string; type: string }[] = [];
      const parts = slots.map((s) => s.finished ?? { stats: localResolver!.stats(), asked: localResolver!.asked() });
      localResolver?.close();
      for (const f of parts) {
        stats.queries += f.stats.queries;
        stats.cacheHits += f.stats.cacheHits;
        stats.unknown += f.stats.unknown;
        for (const q of f.asked) asked.push(q);
      }
      resolve({ audits: keep ? results.filter(Boolean).map((r) => r.audit()) : [], stats, asked, threads });
    };

    if (local) {
      localResolver = createResolver(resolverOptions);
      slots.push({ worker: null, pending: 0, outbox: [], scheduled: false, finished: null });
    }
    for (let t = 0; t < threads; t++) {
      let worker: Worker;
      try {
        worker = spawn(opts.profilePrefix ? { ...init, profile: `${opts.profilePrefix}.worker${t}.cpuprofile` } : init, heapMb);
      } catch (e) {
        fail(e);
        return;
      }
      const s: Slot = { worker, pending: 0, outbox: [], scheduled: false, finished: null };
      slots.push(s);
      worker.on('message', (m: FromWorker) => {
        if (failure) return;
        if (m.type === 'results') onResults(s, m.results);
        else if (m.type === 'failed') fail(new Error(m.error));
        else if (m.type === 'finished') {
          s.finished = m;
          void worker.terminate();
          if (slots.every((x) => x.finished || !x.worker)) allFinished();
        }
      });
      worker.on('error', (e) =>
        fail(
          new Error(
            (e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY'
              ? `an audit worker ran out of memory (heap limit ${heapMb} MB): audit fewer domains at once (--concurrency) or run on one thread (--threads 0)`
              : `audit worker failed: ${message(e)}`,
          ),
        ),
      );
      worker.on('exit', (code) => {
        if (!s.finished && !failure) fail(new Error(`audit worker exited early (code ${code})`));
      });
    }
    pump();
  });
}
