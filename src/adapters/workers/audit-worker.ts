// One audit worker thread (see ./audit-pool.ts). The main thread reads the panel and sends each domain's zone and mail
// settings; this thread asks DNS through its own wire resolver (its own per-run cache), runs every check and sends the
// audit back, already prepared for the store (serialised here, not on the main thread). Messages are batched both
// ways: one postMessage per turn of the event loop, not one per domain.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { auditDomain } from '../../core/audit.js';
import type { DomainAudit } from '../../core/model.js';
import { createResolver } from '../dns/resolver.js';
import { prepareAudit, type PreparedAudit } from '../store/store.js';
import { readPanel, type FromWorker, type ToWorker, type WorkerInit, type WorkerJob } from './job.js';

export type { FromWorker, ToWorker, WorkerInit, WorkerJob } from './job.js';

if (parentPort) {
  const port = parentPort;
  const init = workerData as WorkerInit;
  const resolver = createResolver(init.resolver);
  let session: Session | null = null;
  if (init.profile) {
    session = new Session();
    session.connect();
    void session.post('Profiler.enable').then(() => session!.post('Profiler.start'));
  }
  let outbox: { i: number; prepared: PreparedAudit }[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (!outbox.length) return;
    const results = outbox;
    outbox = [];
    // The findings documents move to the main thread without a copy.
    port.postMessage({ type: 'results', results } satisfies FromWorker, results.map((r) => r.prepared.findings.buffer as ArrayBuffer));
  };
  const run = async (job: WorkerJob) => {
    let prepared: PreparedAudit;
    try {
      const audit: DomainAudit = await auditDomain(job.domain, { panel: readPanel(job), resolver, ...(init.options ? { options: init.options } : {}) });
      prepared = prepareAudit(audit);
    } catch (e) {
      // auditDomain turns every failure into findings; reaching this is a bug, and the run must say so, not skip it.
      port.postMessage({ type: 'failed', error: `auditing ${job.domain}: ${(e as Error)?.message ?? String(e)}` } satisfies FromWorker);
      return;
    }
    outbox.push({ i: job.i, prepared });
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'jobs') for (const job of msg.jobs) void run(job);
    else if (msg.type === 'finish') void finish();
  });
  const finish = async () => {
    flush();
    if (session && init.profile) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(init.profile, JSON.stringify(profile));
      session.disconnect();
    }
    port.postMessage({ type: 'finished', stats: resolver.stats(), asked: resolver.asked() } satisfies FromWorker);
    resolver.close();
    port.close();
  };
  port.on('close', () => resolver.close());
}
