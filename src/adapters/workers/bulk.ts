// One entry point for bulk audits (CLI --all, web bulk jobs): on worker threads when that pays — more than one core,
// enough domains to cover the workers' start-up, DNS over our wire resolver — else in this thread, same contract:
// each result is a BulkItem (prepared for the store, the full audit on demand).
import { auditMany } from '../../core/audit.js';
import type { DomainAudit } from '../../core/model.js';
import type { Resolver } from '../../core/resolver.js';
import { createResolver } from '../dns/resolver.js';
import { auditManyParallel, defaultThreads, type PoolDeps, type PoolOptions } from './audit-pool.js';
import { itemFromAudit } from './item.js';

export type { BulkItem } from './item.js';

/** Below this many domains the audit runs in this thread: starting workers costs more than it saves. */
export const MIN_PARALLEL_DOMAINS = 100;

export interface BulkRun {
  audits: DomainAudit[];
  /** Worker threads used (0: this thread). */
  threads: number;
}

/**
 * `deps.resolver` configures the workers' resolvers; `inProcess` is the resolver to use when the audit stays in this
 * thread (default: a new one from `deps.resolver`, closed at the end).
 */
export async function bulkAudit(domains: string[], deps: PoolDeps & { inProcess?: Resolver }, opts: PoolOptions = {}): Promise<BulkRun> {
  const threads = opts.threads ?? defaultThreads();
  if (threads >= 1 && domains.length >= MIN_PARALLEL_DOMAINS) {
    const run = await auditManyParallel(domains, deps, { ...opts, threads });
    return { audits: run.audits, threads: run.threads };
  }
  const own = deps.inProcess ? null : createResolver(deps.resolver);
  const resolver = deps.inProcess ?? own!;
  try {
    const onResult = opts.onResult;
    const audits = await auditMany(
      domains,
      { panel: deps.panel, resolver, ...(deps.options ? { options: deps.options } : {}), ...(deps.now ? { now: deps.now } : {}) },
      {
        ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
        ...(opts.onStart ? { onStart: opts.onStart } : {}),
        ...(opts.cancelled ? { cancelled: opts.cancelled } : {}),
        ...(opts.keepResults !== undefined ? { keepResults: opts.keepResults } : {}),
        ...(onResult ? { onResult: (a: DomainAudit, done: number, total: number) => onResult(itemFromAudit(a), done, total) } : {}),
      },
    );
    return { audits, threads: 0 };
  } finally {
    own?.close();
  }
}
