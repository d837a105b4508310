// One entry point for bulk audits (CLI --all, web bulk jobs): on worker threads when that pays — more than one core,
// enough domains to cover the workers' start-up, DNS over our wire resolver — else in this thread, same contract:
// each result is a BulkItem (prepared for the store, the full audit on demand).
import { auditMany } from '../../core/audit.js';
import type { DomainAudit } from '../../core/model.js';
import type { Resolver } from '../../core/resolver.js';
import { createResolver, type ResolverStats } from '../dns/resolver.js';
import { auditManyParallel, defaultThreads, type PoolDeps, type PoolOptions } from './audit-pool.js';
import { ScopeWatch, type SkipReason } from './gone.js';
import { itemFromAudit } from './item.js';
import { readDomain, readPanel } from './job.js';

export type { BulkItem } from './item.js';
export { GONE_TEXT, OUT_OF_SCOPE_TEXT, SCOPE_RECHECK_MS, skipText, type ScopeListing, type ScopeRecheck, type SkipReason } from './gone.js';

/**
 * Audits a bulk run holds before it writes them to the history in one transaction (the CLI's `audit --all`, and the
 * benchmark as it; the web's bulk jobs write 100 too): one transaction per domain would cost more than the audit, and
 * every audit held keeps its findings document in memory until the write. Measured on the 10,000-domain bench (2-core
 * VM, alternating runs): 500 a batch 247–253 MB peak RSS; 200 → 218.6–256.4 MB over 12 runs (one at 256.4, and one of
 * 32 earlier runs at 257.2: over the 256 MB target); 100 → 218.0–235.2 MB over 12 runs, the time the same (medians
 * 3.98 / 3.82 s against 3.89 / 3.97 s for 200).
 */
export const BULK_STORE_BATCH = 100;

/** Below this many domains the audit runs in this thread even when threads are asked for. */
export const MIN_PARALLEL_DOMAINS = 100;

/**
 * With the number of threads left to the default (`threads` not given), below this many domains the audit runs in
 * this thread: each worker compiles the checks afresh (V8's JIT warm-up is paid per thread), which a short run does not
 * earn back. Measured on the 2-core benchmark VM (one worker beside this thread; `npm run bench -- --domains N`, two
 * runs each): at 2,000 domains one thread took 1.26–1.35 s against 1.41–1.50 s with the worker, and ~30 % less CPU; at
 * 3,000 one thread was ~5 % slower (1.82–1.89 s against 1.73–1.79 s) with 20 % less CPU; at 5,000 the worker was
 * ~5 % faster. An explicit thread count (CLI --threads, the web app's auditThreads) is used from
 * MIN_PARALLEL_DOMAINS up.
 */
export const AUTO_PARALLEL_DOMAINS = 2_500;

export interface BulkRun {
  audits: DomainAudit[];
  /** Worker threads used (0: this thread). */
  threads: number;
  /** On worker threads: their resolvers' statistics and the questions they put on the wire (see PoolRun). */
  dns?: { stats: ResolverStats; asked: { name: string; type: string }[] };
}

/**
 * `opts.threads`: worker threads (0: this thread); left out, defaultThreads() from AUTO_PARALLEL_DOMAINS domains up.
 * `deps.resolver` configures the workers' resolvers; `inProcess` is the resolver to use when the audit stays in this
 * thread (default: a new one from `deps.resolver`, closed at the end).
 */
export async function bulkAudit(domains: string[], deps: PoolDeps & { inProcess?: Resolver }, opts: PoolOptions = {}): Promise<BulkRun> {
  const threads = opts.threads ?? defaultThreads();
  const minimum = opts.threads === undefined ? AUTO_PARALLEL_DOMAINS : MIN_PARALLEL_DOMAINS;
  if (threads >= 1 && domains.length >= minimum) {
    const run = await auditManyParallel(domains, deps, { ...opts, threads });
    return { audits: run.audits, threads: run.threads, dns: { stats: run.stats, asked: run.asked } };
  }
  const own = deps.inProcess ? null : createResolver(deps.resolver);
  const resolver = deps.inProcess ?? own!;
  try {
    return { audits: await auditHere(domains, { ...deps, resolver }, opts), threads: 0 };
  } finally {
    own?.close();
  }
}

/**
 * This thread's bulk audit: core's auditMany, with each domain's panel reads made first — as on the worker path — so a
 * domain gone from the panel, or out of the identity's scope (deps.scope and deps.recheck, ./gone.ts), is skipped
 * before any DNS is asked.
 */
async function auditHere(domains: string[], deps: Omit<PoolDeps, 'resolver'> & { resolver: Resolver }, opts: PoolOptions): Promise<DomainAudit[]> {
  const watch = deps.scope ? new ScopeWatch(deps.scope, deps.recheck) : null;
  const base = { resolver: deps.resolver, ...(deps.options ? { options: deps.options } : {}), ...(deps.now ? { now: deps.now } : {}) };
  const onResult = opts.onResult;
  const onGone = opts.onGone;
  /** Why prepare skipped a domain (core's onSkip, which reports it right after, names only the domain). */
  const skipped = new Map<string, SkipReason>();
  return auditMany(
    domains,
    { panel: deps.panel, ...base },
    {
      ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
      ...(opts.onStart ? { onStart: opts.onStart } : {}),
      ...(opts.cancelled ? { cancelled: opts.cancelled } : {}),
      ...(opts.keepResults !== undefined ? { keepResults: opts.keepResults } : {}),
      ...(onResult ? { onResult: (a: DomainAudit, done: number, total: number) => onResult(itemFromAudit(a), done, total) } : {}),
      ...(onGone
        ? {
            onSkip: (domain: string, done: number, total: number) => {
              const why = skipped.get(domain) ?? 'gone';
              skipped.delete(domain);
              return onGone(domain, done, total, why);
            },
          }
        : {}),
      prepare: async (domain, i) => {
        const since = watch?.mark() ?? 0;
        const { job, notFound } = await readDomain(deps.panel, i, domain, false);
        const why = watch ? await watch.after(job.domain, since, notFound) : null;
        if (!why) return { panel: readPanel(job), ...base };
        skipped.set(domain, why);
        return null;
      },
    },
  );
}
