// Bulk jobs: a bulk of domains audits on worker threads when the app knows its resolver options (same results as one
// thread), results are stored in batches with exact progress, and only recent jobs keep their streamed rows in memory.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { createResolver, type ResolverOptions } from '../../src/adapters/dns/resolver.js';
import { startDnsServer, type DnsServer } from '../../src/adapters/dns/server.js';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { MIN_PARALLEL_DOMAINS } from '../../src/adapters/workers/bulk.js';
import type { DomainRef } from '../../src/core/model.js';
import { buildWorld } from '../../src/demo/world.js';
import { BulkRunner } from '../../src/web/jobs.js';
import type { WebDeps } from '../../src/web/services.js';
import { generate } from '../../bench/generate.js';

let dir: string;
let panel: FilesPanel;
let dns: DnsServer;
let refs: DomainRef[];
let spec: ResolverOptions;
const N = MIN_PARALLEL_DOMAINS + 10;
const admin = { user: 'root', role: 'admin' as const };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailhealth-jobs-'));
  const g = generate(dir, N);
  panel = new FilesPanel(g.panelDir);
  dns = await startDnsServer({ data: buildWorld(g.panelDir, join(dir, 'world')) });
  refs = await panel.listDomains(admin);
  spec = { servers: [dns.address], authoritativePort: dns.port, timeoutMs: 1000, tries: 2 };
});
after(async () => {
  await dns.close();
  rmSync(dir, { recursive: true, force: true });
});

function deps(store: Store, extra: Partial<WebDeps> = {}): WebDeps {
  return { panel, store, makeResolver: () => createResolver(spec), now: () => new Date(), auditConcurrency: 16, ...extra };
}

async function runJob(runner: BulkRunner, store: Store, list: DomainRef[]) {
  const id = runner.start(admin, list, {});
  await runner.wait(id);
  return { job: store.getJob(id)!, view: runner.view(store.getJob(id)!, 0) };
}

it('audits a bulk on worker threads with the same results as one thread, stored with exact progress', async () => {
  const s1 = openStore(join(dir, 'threads.sqlite'));
  const s0 = openStore(join(dir, 'single.sqlite'));
  try {
    const threaded = await runJob(new BulkRunner(deps(s1, { resolverOptions: () => spec, auditThreads: 2 })), s1, refs);
    const single = await runJob(new BulkRunner(deps(s0)), s0, refs);
    for (const { job } of [threaded, single]) {
      assert.equal(job.status, 'complete');
      assert.equal(job.done, N);
      const run = (job.runId !== null ? s1.getRun(job.runId) ?? s0.getRun(job.runId) : null)!;
      assert.equal(run.done, N);
    }
    assert.equal(s1.runResults(threaded.job.runId!).length, N);
    assert.equal(threaded.job.failed, single.job.failed);
    const rows = (v: typeof threaded.view) => v.results.map((r) => ({ ...r, auditedAt: '' })).sort((a, b) => a.domain.localeCompare(b.domain));
    assert.equal(threaded.view.results.length, N);
    assert.deepEqual(rows(threaded.view), rows(single.view));
  } finally {
    s1.close();
    s0.close();
  }
});

it('keeps the streamed rows of the last 10 finished jobs only', async () => {
  const store = openStore(join(dir, 'keep.sqlite'));
  try {
    const runner = new BulkRunner(deps(store));
    const ids: number[] = [];
    for (let i = 0; i < 11; i++) ids.push((await runJob(runner, store, refs.slice(i, i + 1))).job.id);
    assert.equal(runner.view(store.getJob(ids[0])!).results.length, 0, 'the oldest job no longer holds rows in memory');
    assert.equal(runner.view(store.getJob(ids[0])!).done, 1, 'its progress still comes from the store');
    for (const id of ids.slice(1)) assert.equal(runner.view(store.getJob(id)!).results.length, 1);
  } finally {
    store.close();
  }
});

it('a store closed under a running job ends it quietly: no unhandled rejection, wait() resolves', async () => {
  const store = openStore(join(dir, 'closed.sqlite'));
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const runner = new BulkRunner(deps(store));
    const id = runner.start(admin, refs, {});
    store.close(); // what a per-request front door did when its response was sent
    await runner.wait(id);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
