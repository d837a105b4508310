// mailhealth audit [DOMAIN...] [--all] [--json]
import { compareText, jsonText } from '../../core/text.js';
import type { ResolverOptions } from '../../adapters/dns/resolver.js';
import type { PreparedAudit } from '../../adapters/store/store.js';
import { BULK_STORE_BATCH, bulkAudit, GONE_TEXT, type BulkItem, type ScopeListing } from '../../adapters/workers/bulk.js';
import type { DomainAudit } from '../../core/model.js';
import type { Store } from '../../adapters/store/store.js';
import {
  concurrencyFromOptions,
  configuredPanel,
  storedSettings,
  domainsInScope,
  identityFromOptions,
  panelFromOptions,
  resolverFromOptions,
  resolverOptionsFrom,
  storeFromOptions,
  RANGES,
  wholeNumber,
  type GlobalOptions,
} from '../context.js';
import { formatAudit, paint, progressBar, safe } from '../format.js';
import { interruptible } from '../interrupt.js';
import type { Panel } from '../../core/panel.js';
import type { Resolver } from '../../core/resolver.js';
import type { AuditOptions } from '../../core/checks/context.js';

export interface AuditCommandOptions extends GlobalOptions {
  all?: boolean;
  evidence?: boolean;
  verbose?: boolean;
  history?: boolean;
  threads?: string;
}

function threadsFromOptions(v: string): number {
  return wholeNumber('--threads', v, ...RANGES.threads);
}

export interface AuditRun {
  audits: DomainAudit[];
  /** Domains removed from the panel while the run went (opts.scope): not audited, not recorded. */
  gone: string[];
  runId: number | null;
}

/**
 * Audit the given domains and record the run (shared by `audit` and `demo`). With `parallel`, a bulk of domains is
 * audited on worker threads whose resolvers are built from those options (see src/adapters/workers); else, and below
 * the bulk threshold, in this thread with `resolver`.
 */
export async function runAudit(
  panel: Panel,
  resolver: Resolver,
  store: Store | null,
  domains: { domain: string; owner: string }[],
  opts: {
    concurrency: number;
    byUser: string;
    progress?: boolean;
    options?: AuditOptions;
    parallel?: { resolver: ResolverOptions; threads?: number };
    /** SIGINT/SIGTERM during the run: record it interrupted, close the store, exit 1 (the CLI's `audit`; see ../interrupt.ts). */
    interrupt?: { json: boolean };
    /**
     * The identity's scope, asked again for a domain whose panel reads say not-found: one it no longer lists was
     * removed from the panel after the domain list was taken, and is skipped (AuditRun.gone), not audited.
     */
    scope?: ScopeListing;
  },
): Promise<AuditRun> {
  const runId = store ? store.startRun('audit', opts.byUser, domains.length) : null;
  const owners = new Map(domains.map((d) => [d.domain, d.owner]));
  let failed = 0;
  const gone: string[] = [];
  const showProgress = opts.progress && domains.length > 1 && process.stderr.isTTY;
  let batch: PreparedAudit[] = [];
  let batchFailed = 0;
  let recorded = 0;
  const flush = () => {
    if (!store || runId === null || !batch.length) return;
    store.recordPreparedAudits(runId, batch);
    store.bumpRunProgress(runId, { done: batch.length, failed: batchFailed });
    recorded += batch.length;
    batch = [];
    batchFailed = 0;
  };
  const onResult = (a: BulkItem, done: number, total: number) => {
    if (a.status === 'fail') {
      failed++;
      batchFailed++;
    }
    if (store) {
      a.prepared.owner = owners.get(a.domain) ?? null;
      batch.push(a.prepared);
      if (batch.length >= BULK_STORE_BATCH) flush();
    }
    if (showProgress) process.stderr.write(progressBar(done, total, failed));
  };
  const onGone = (domain: string, done: number, total: number) => {
    gone.push(domain);
    if (showProgress) process.stderr.write(progressBar(done, total, failed));
  };
  // Stopped by a signal: what was audited stays on record, the run is interrupted (as after an error, below).
  const onInterrupt = (): string | undefined => {
    if (!store || runId === null) return undefined;
    try {
      flush();
    } finally {
      store.finishRun(runId, 'interrupted');
      store.close();
    }
    return `audit run ${runId} marked interrupted (${recorded} of ${domains.length} domain(s) recorded)`;
  };
  try {
    // Without resolver options for workers: this thread. Without --threads: bulkAudit's default.
    const threads = opts.parallel ? opts.parallel.threads : 0;
    const audit = () =>
      bulkAudit(
        domains.map((d) => d.domain),
        { panel, resolver: opts.parallel?.resolver ?? {}, inProcess: resolver, ...(opts.options ? { options: opts.options } : {}), ...(opts.scope ? { scope: opts.scope } : {}) },
        { concurrency: opts.concurrency, onResult, onGone, ...(threads !== undefined ? { threads } : {}) },
      );
    const { audits } = opts.interrupt ? await interruptible(opts.interrupt.json, onInterrupt, audit) : await audit();
    if (showProgress) process.stderr.write('\n');
    flush();
    if (store && runId !== null) store.finishRun(runId, 'complete');
    return { audits, gone: gone.sort(), runId };
  } catch (e) {
    if (store && runId !== null) {
      try {
        flush(); // what was audited before the failure stays on record (the run is marked interrupted)
      } finally {
        store.finishRun(runId, 'interrupted');
      }
    }
    throw e;
  }
}

const ORDER = { fail: 0, warn: 1, unknown: 2, pass: 3 } as const;

/**
 * `gone`: domains removed from the panel during the run (AuditRun.gone) — under --json the `gone` list (always there,
 * empty when none), in text one line each after the audits. `who`: the account audited for; with nothing to print,
 * the text says it had no domains in scope (an empty output would look like a failure that said nothing).
 */
export function printAudits(audits: DomainAudit[], o: { json?: boolean; evidence?: boolean; verbose?: boolean; who?: string }, gone: readonly string[] = []): void {
  const sorted = [...audits].sort((a, b) => ORDER[a.status] - ORDER[b.status] || compareText(a.domain, b.domain));
  if (o.json) {
    process.stdout.write(jsonText({ generatedAt: new Date().toISOString(), domains: sorted, gone }, 2) + '\n');
    return;
  }
  if (!sorted.length && !gone.length) {
    process.stdout.write(`No domains in scope${o.who !== undefined ? ` for ${safe(o.who)}` : ''}: nothing was audited.\n`);
    return;
  }
  const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  const blocks = sorted.map((a) => formatAudit(a, { color, evidence: Boolean(o.evidence), verbose: Boolean(o.verbose) }));
  if (gone.length) {
    blocks.push(gone.map((d) => `${paint(safe(d), '1', color)}  ${GONE_TEXT.toUpperCase()}: removed from the panel during the run; not audited, nothing recorded`).join('\n'));
  }
  process.stdout.write(blocks.join('\n\n') + '\n');
}

export async function auditCommand(args: string[], o: AuditCommandOptions): Promise<number> {
  const threads = o.threads !== undefined ? threadsFromOptions(o.threads) : undefined;
  const panel = panelFromOptions(o);
  const resolver = resolverFromOptions(o);
  const concurrency = concurrencyFromOptions(o);
  const identity = await identityFromOptions(panel, o);
  const domains = await domainsInScope(panel, identity, args, Boolean(o.all));
  const configured = configuredPanel(panel, storedSettings(o));
  const store = o.history === false ? null : storeFromOptions(o);
  try {
    const { audits, gone } = await runAudit(configured.panel, resolver, store, domains, {
      concurrency,
      byUser: identity.user,
      scope: () => panel.listDomains(identity),
      progress: !o.json,
      interrupt: { json: Boolean(o.json) },
      options: configured.options,
      parallel: { resolver: resolverOptionsFrom(o), ...(threads !== undefined ? { threads } : {}) },
    });
    printAudits(audits, { ...o, who: identity.user }, gone);
    return audits.some((a) => a.status === 'fail') ? 1 : 0;
  } finally {
    store?.close();
  }
}
