// mailhealth audit [DOMAIN...] [--all] [--json]
import { auditMany } from '../../core/audit.js';
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
  storeFromOptions,
  type GlobalOptions,
} from '../context.js';
import { formatAudit, progressBar } from '../format.js';
import type { Panel } from '../../core/panel.js';
import type { Resolver } from '../../core/resolver.js';
import type { AuditOptions } from '../../core/checks/context.js';

export interface AuditCommandOptions extends GlobalOptions {
  all?: boolean;
  evidence?: boolean;
  verbose?: boolean;
  history?: boolean;
}

export interface AuditRun {
  audits: DomainAudit[];
  runId: number | null;
}

/** Audit the given domains and record the run (shared by `audit` and `demo`). */
export async function runAudit(
  panel: Panel,
  resolver: Resolver,
  store: Store | null,
  domains: { domain: string; owner: string }[],
  opts: { concurrency: number; byUser: string; progress?: boolean; options?: AuditOptions },
): Promise<AuditRun> {
  const runId = store ? store.startRun('audit', opts.byUser, domains.length) : null;
  const owners = new Map(domains.map((d) => [d.domain, d.owner]));
  let failed = 0;
  const showProgress = opts.progress && domains.length > 1 && process.stderr.isTTY;
  try {
    const audits = await auditMany(
      domains.map((d) => d.domain),
      { panel, resolver, ...(opts.options ? { options: opts.options } : {}) },
      {
        concurrency: opts.concurrency,
        onResult: (a, done, total) => {
          if (a.status === 'fail') failed++;
          if (store && runId !== null) store.recordAudit(runId, a, owners.get(a.domain));
          if (showProgress) process.stderr.write(progressBar(done, total, failed));
        },
      },
    );
    if (showProgress) process.stderr.write('\n');
    if (store && runId !== null) {
      store.bumpRunProgress(runId, { done: audits.length, failed });
      store.finishRun(runId, 'complete');
    }
    return { audits, runId };
  } catch (e) {
    if (store && runId !== null) store.finishRun(runId, 'interrupted');
    throw e;
  }
}

const ORDER = { fail: 0, warn: 1, unknown: 2, pass: 3 } as const;

export function printAudits(audits: DomainAudit[], o: { json?: boolean; evidence?: boolean; verbose?: boolean }): void {
  const sorted = [...audits].sort((a, b) => ORDER[a.status] - ORDER[b.status] || a.domain.localeCompare(b.domain));
  if (o.json) {
    process.stdout.write(JSON.stringify({ generatedAt: new Date().toISOString(), domains: sorted }, null, 2) + '\n');
    return;
  }
  const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  process.stdout.write(sorted.map((a) => formatAudit(a, { color, evidence: Boolean(o.evidence), verbose: Boolean(o.verbose) })).join('\n\n') + '\n');
}

export async function auditCommand(args: string[], o: AuditCommandOptions): Promise<number> {
  const panel = panelFromOptions(o);
  const resolver = resolverFromOptions(o);
  const concurrency = concurrencyFromOptions(o);
  const identity = await identityFromOptions(panel, o);
  const domains = await domainsInScope(panel, identity, args, Boolean(o.all));
  const configured = configuredPanel(panel, storedSettings(o));
  const store = o.history === false ? null : storeFromOptions(o);
  try {
    const { audits } = await runAudit(configured.panel, resolver, store, domains, { concurrency, byUser: identity.user, progress: !o.json, options: configured.options });
    printAudits(audits, o);
    return audits.some((a) => a.status === 'fail') ? 1 : 0;
  } finally {
    store?.close();
  }
}
