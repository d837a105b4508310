// The worker-thread bulk audit gives exactly what core's in-process auditMany gives (over the wire, demo panel + world
// on the loopback DNS server), keeps auditMany's contract (order, onResult awaited, cancel, a throw stops the run),
// and never hands the workers more than the two panel reads.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createResolver, type ResolverOptions } from '../../../src/adapters/dns/resolver.js';
import { FilesPanel } from '../../../src/adapters/panels/files/index.js';
import { auditManyParallel } from '../../../src/adapters/workers/audit-pool.js';
import type { BulkItem } from '../../../src/adapters/workers/item.js';
import { prepareAudit } from '../../../src/adapters/store/store.js';
import { auditMany } from '../../../src/core/audit.js';
import type { DomainAudit } from '../../../src/core/model.js';
import type { Panel } from '../../../src/core/panel.js';
import { startDemo, type Demo } from '../../../src/demo/world.js';

let demo: Demo;
let panel: FilesPanel;
let domains: string[];
let spec: ResolverOptions;

const strip = (a: DomainAudit) => ({ ...a, auditedAt: '' });

before(async () => {
  demo = await startDemo();
  panel = new FilesPanel(demo.panelDir);
  domains = (await panel.listDomains({ user: 'root', role: 'admin' })).map((d) => d.domain).sort();
  spec = { servers: [demo.dns.address], authoritativePort: demo.dns.port, timeoutMs: 1000, tries: 2, concurrency: 16, recordAsked: true };
});
after(async () => {
  await demo.close();
});

describe('auditManyParallel', () => {
  it('gives the same audits as the in-process auditMany, in input order', async () => {
    assert.ok(domains.length >= 4, 'the demo has several domains');
    const wire = createResolver(spec);
    const inProcess = await auditMany(domains, { panel, resolver: wire }, { concurrency: 4 });
    wire.close();
    for (const config of [{ threads: 2, local: false }, { threads: 1 }, { threads: 0 }]) {
      const seen: string[] = [];
      const prepared = new Map<string, ReturnType<typeof prepareAudit>>();
      const run = await auditManyParallel(domains, { panel, resolver: spec }, {
        concurrency: 4,
        ...config,
        onResult: (a) => {
          seen.push(a.domain);
          prepared.set(a.domain, a.prepared);
        },
      });
      assert.equal(run.threads, config.threads);
      assert.deepEqual(run.audits.map(strip), inProcess.map(strip), JSON.stringify(config));
      // What goes to the store is what the store would make of the in-process audit.
      for (const a of inProcess) {
        const p = prepared.get(a.domain)!;
        assert.deepEqual({ ...p, auditedAt: '', findings: Buffer.from(p.findings).toString() }, { ...prepareAudit(a), auditedAt: '', findings: Buffer.from(prepareAudit(a).findings).toString() });
      }
      assert.deepEqual([...seen].sort(), domains);
      assert.ok(run.stats.queries > 0 && run.asked.length > 0);
    }
    const run = await auditManyParallel(domains, { panel, resolver: spec }, { threads: 1 });
    for (const q of run.asked) assert.match(q.type, /^[A-Z]+$/);
  });

  it('stamps audits with the caller clock and streams without keeping results', async () => {
    const at = new Date('2026-01-02T03:04:05.000Z');
    const got: BulkItem[] = [];
    const run = await auditManyParallel(domains, { panel, resolver: spec, now: () => at }, { threads: 2, keepResults: false, onResult: (a) => void got.push(a) });
    assert.deepEqual(run.audits, []);
    assert.equal(got.length, domains.length);
    assert.ok(got.every((a) => a.auditedAt === at.toISOString() && a.audit().auditedAt === at.toISOString() && a.prepared.auditedAt === at.toISOString()));
  });

  it('awaits onResult one at a time and passes done/total', async () => {
    let active = 0;
    let maxActive = 0;
    const dones: number[] = [];
    await auditManyParallel(domains, { panel, resolver: spec }, {
      threads: 2,
      concurrency: 8,
      onResult: async (_a, done, total) => {
        active++;
        maxActive = Math.max(maxActive, active);
        assert.equal(total, domains.length);
        dones.push(done);
        await new Promise((r) => setImmediate(r));
        active--;
      },
    });
    assert.equal(maxActive, 1);
    assert.deepEqual(dones, domains.map((_, i) => i + 1));
  });

  it('turns panel read failures into the same findings as in-process', async () => {
    const broken: Panel = {
      ...panel,
      kind: panel.kind,
      capabilities: panel.capabilities,
      listAccounts: () => panel.listAccounts(),
      listDomains: (id) => panel.listDomains(id),
      applyChanges: (d, c, v) => panel.applyChanges(d, c, v),
      readZone: async (d) => {
        if (d === domains[0]) throw new Error('zone API said no');
        return panel.readZone(d);
      },
      readMailSettings: async (d) => {
        if (d === domains[1]) throw new Error('settings API said no');
        return panel.readMailSettings(d);
      },
    };
    const pick = domains.slice(0, 2);
    const wire = createResolver(spec);
    const inProcess = await auditMany(pick, { panel: broken, resolver: wire });
    wire.close();
    const run = await auditManyParallel(pick, { panel: broken, resolver: spec }, { threads: 2 });
    assert.deepEqual(run.audits.map(strip), inProcess.map(strip));
    assert.ok(run.audits[0].findings.some((f) => f.rule === 'dns.panel-zone-unreadable' && f.message.includes('zone API said no')));
    assert.ok(run.audits[1].findings.some((f) => f.rule === 'dns.panel-settings-unreadable' && f.message.includes('settings API said no')));
  });

  it('stops starting domains once cancelled', async () => {
    let n = 0;
    const started: string[] = [];
    const run = await auditManyParallel(domains, { panel, resolver: spec }, {
      threads: 2,
      concurrency: 1,
      onStart: (d) => void started.push(d),
      onResult: () => void n++,
      cancelled: () => n >= 2,
    });
    assert.equal(n, 2);
    assert.equal(started.length, 2);
    assert.equal(run.audits.length, 2);
  });

  it('rejects with the error onResult throws, and stops', async () => {
    let calls = 0;
    await assert.rejects(
      auditManyParallel(domains, { panel, resolver: spec }, {
        threads: 2,
        concurrency: 1,
        onResult: () => {
          calls++;
          throw new Error('disk full');
        },
      }),
      /disk full/,
    );
    assert.equal(calls, 1);
  });

  it('a worker that runs out of its heap limit stops the run with a clear message', async () => {
    await assert.rejects(auditManyParallel(domains, { panel, resolver: spec }, { threads: 1, local: false, workerHeapMb: 2 }), /ran out of memory \(heap limit 2 MB\).*--threads 0/);
  });

  it('returns at once for no domains', async () => {
    const run = await auditManyParallel([], { panel, resolver: spec });
    assert.deepEqual(run.audits, []);
    assert.equal(run.threads, 0);
  });
});
