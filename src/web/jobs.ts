// Bulk audits as background jobs: the job row in the store holds progress (done/total/failures) and the cancel flag,
// so a page reload (or another tab) sees the same job; results go into the store as they arrive. A restart marks
// unfinished jobs interrupted (store.interruptUnfinishedJobs at server start).
import { auditMany } from '../core/audit.js';
import type { CheckName, DomainRef, DomainStatus, Identity, Severity } from '../core/model.js';
import type { Job } from '../adapters/store/store.js';
import { auditOptionsFrom } from './settings.js';
import { withResolver, type WebDeps } from './services.js';

export interface JobResult {
  domain: string;
  status: DomainStatus;
  auditedAt: string;
  checks: Partial<Record<CheckName, Severity>>;
}

const SEV_ORDER: Record<Severity, number> = { fail: 0, warn: 1, unknown: 2, info: 3, pass: 4 };

export class BulkRunner {
  private readonly running = new Map<number, Promise<void>>();
  /** Results of jobs this process ran, in completion order (for streaming into the table). */
  private readonly results = new Map<number, JobResult[]>();

  constructor(private readonly deps: WebDeps) {}

  /** Start a bulk audit of the given domains; returns the job id at once. */
  start(identity: Identity, refs: DomainRef[], meta: unknown): number {
    const { store } = this.deps;
    const jobId = store.createJob({ kind: 'bulk-audit', byUser: identity.user, scope: meta, total: refs.length });
    const runId = store.startRun('bulk', identity.user, refs.length, { jobId });
    store.updateJob(jobId, { status: 'running', runId });
    this.results.set(jobId, []);
    const p = this.run(jobId, runId, refs).finally(() => this.running.delete(jobId));
    this.running.set(jobId, p);
    return jobId;
  }

  private async run(jobId: number, runId: number, refs: DomainRef[]): Promise<void> {
    const { store } = this.deps;
    const owners = new Map(refs.map((r) => [r.domain, r.owner]));
    const list = this.results.get(jobId)!;
    let failed = 0;
    let cancelled = false;
    try {
      await withResolver(this.deps, (resolver) =>
        auditMany(
          refs.map((r) => r.domain),
          { panel: this.deps.panel, resolver, options: auditOptionsFrom(store), now: this.deps.now },
          {
            concurrency: this.deps.auditConcurrency,
            cancelled: () => (cancelled ||= store.isCancelRequested(jobId)),
            onResult: (a, done) => {
              if (a.status === 'fail') failed++;
              store.recordAudit(runId, a, owners.get(a.domain));
              store.bumpRunProgress(runId, { done: 1, failed: a.status === 'fail' ? 1 : 0 });
              store.updateJob(jobId, { done, failed });
              const checks: Partial<Record<CheckName, Severity>> = {};
              for (const f of a.findings) if (!checks[f.check] || SEV_ORDER[f.severity] < SEV_ORDER[checks[f.check]!]) checks[f.check] = f.severity;
              list.push({ domain: a.domain, status: a.status, auditedAt: a.auditedAt, checks });
            },
          },
        ),
      );
      const status = cancelled ? 'cancelled' : 'complete';
      store.updateJob(jobId, { status });
      store.finishRun(runId, status);
    } catch (e) {
      store.updateJob(jobId, { status: 'failed', error: (e as Error).message });
      store.finishRun(runId, 'interrupted');
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
    const { results, next } = this.resultsSince(job.id, since);
    return {
      id: job.id,
      kind: job.kind,
      status: job.status,
      total: job.total,
      done: job.done,
      failed: job.failed,
      cancelRequested: job.cancelRequested,
      createdAt: job.createdAt,
      updatedAt: job.updatedAt,
      error: job.error,
      results,
      next,
    };
  }
}
