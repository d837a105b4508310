// bulkAudit's choice of thread: an explicit thread count is used from MIN_PARALLEL_DOMAINS domains up; left to the
// default, a run shorter than AUTO_PARALLEL_DOMAINS stays in this thread (a worker's JIT warm-up does not pay for
// itself there). Either way the audits are the same.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { startDnsServer, type DnsServer } from '../../../src/adapters/dns/server.js';
import type { ResolverOptions } from '../../../src/adapters/dns/resolver.js';
import { FilesPanel } from '../../../src/adapters/panels/files/index.js';
import { AUTO_PARALLEL_DOMAINS, bulkAudit, MIN_PARALLEL_DOMAINS } from '../../../src/adapters/workers/bulk.js';
import type { DomainAudit } from '../../../src/core/model.js';
import { buildWorld } from '../../../src/demo/world.js';
import { generate } from '../../../bench/generate.js';

let dir: string;
let panel: FilesPanel;
let dns: DnsServer;
let domains: string[];
let spec: ResolverOptions;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailhealth-bulk-'));
  const g = generate(dir, MIN_PARALLEL_DOMAINS + 5);
  panel = new FilesPanel(g.panelDir);
  domains = g.domains;
  dns = await startDnsServer({ data: buildWorld(g.panelDir, join(dir, 'world')) });
  spec = { servers: [dns.address], authoritativePort: dns.port, timeoutMs: 1000, tries: 2, concurrency: 16 };
});
after(async () => {
  await dns.close();
  rmSync(dir, { recursive: true, force: true });
});

const strip = (audits: DomainAudit[]) => audits.map((a) => ({ ...a, auditedAt: '' }));

it('uses the threads it is given from MIN_PARALLEL_DOMAINS up, and stays in this thread by default below AUTO_PARALLEL_DOMAINS', async () => {
  assert.ok(domains.length >= MIN_PARALLEL_DOMAINS && domains.length < AUTO_PARALLEL_DOMAINS);
  const explicit = await bulkAudit(domains, { panel, resolver: spec }, { concurrency: 16, threads: 1 });
  assert.equal(explicit.threads, 1);
  assert.ok(explicit.dns && explicit.dns.stats.queries > 0, 'the worker path reports its resolvers');
  const auto = await bulkAudit(domains, { panel, resolver: spec }, { concurrency: 16 });
  assert.equal(auto.threads, 0);
  assert.equal(auto.dns, undefined);
  assert.deepEqual(strip(auto.audits), strip(explicit.audits));
  // Below MIN_PARALLEL_DOMAINS even an explicit count stays here.
  const few = await bulkAudit(domains.slice(0, MIN_PARALLEL_DOMAINS - 1), { panel, resolver: spec }, { concurrency: 16, threads: 1 });
  assert.equal(few.threads, 0);
});
