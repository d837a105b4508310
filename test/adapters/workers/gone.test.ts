// A domain removed from the panel after a bulk run took its domain list (web bulk job, CLI `audit --all`): its reads say
// not-found and the identity's scope (panel.listDomains) no longer lists it — the run skips it (onGone), neither
// audited nor handed to onResult, on this thread and on worker threads alike. Not-found alone is not enough: a domain
// still listed whose zone file is missing is audited as before (dns.panel-zone-unreadable), and a listing that fails
// skips nothing.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createResolver, type ResolverOptions } from '../../../src/adapters/dns/resolver.js';
import { FilesPanel } from '../../../src/adapters/panels/files/index.js';
import { auditManyParallel } from '../../../src/adapters/workers/audit-pool.js';
import { bulkAudit } from '../../../src/adapters/workers/bulk.js';
import type { DomainRef } from '../../../src/core/model.js';
import { startDemo, type Demo } from '../../../src/demo/world.js';

const admin = { user: 'root', role: 'admin' as const };
let demo: Demo;
let panel: FilesPanel;
let list: string[];
let spec: ResolverOptions;

before(async () => {
  demo = await startDemo();
  panel = new FilesPanel(demo.panelDir);
  // The run's list, taken before the removals below (as a job or `audit --all` takes it at its start).
  list = (await panel.listDomains(admin)).map((d) => d.domain);
  // alice's account is removed from the panel (panel.json entry, zones, keys — as an account removal does) ...
  const cfgPath = join(demo.panelDir, 'panel.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as { accounts: { user: string }[] };
  cfg.accounts = cfg.accounts.filter((a) => a.user !== 'alice');
  writeFileSync(cfgPath, JSON.stringify(cfg));
  for (const d of ['bakery.example', 'florist.example']) {
    rmSync(join(demo.panelDir, 'zones', `${d}.db`));
    rmSync(join(demo.panelDir, 'dkim', `${d}.pem`), { force: true });
  }
  // ... and dentist.example loses its zone file but is still the panel's: that is a problem to report, not a removal.
  rmSync(join(demo.panelDir, 'zones', 'dentist.example.db'));
  spec = { servers: [demo.dns.address], authoritativePort: demo.dns.port, timeoutMs: 1000, tries: 2, concurrency: 16 };
});
after(async () => {
  await demo.close();
  rmSync(demo.panelDir, { recursive: true, force: true });
});

const GONE = ['bakery.example', 'florist.example'];
const KEPT = ['clean.example', 'dentist.example', 'lawyer.example', 'plumber.example'];

describe('bulk audit of a domain removed from the panel during the run', () => {
  const cases: [string, (scope?: () => Promise<DomainRef[]>, onGone?: (d: string, done: number, total: number) => void, onResult?: (d: string, done: number) => void) => Promise<{ domain: string; findings: { rule: string }[] }[]>][] = [
    [
      'this thread (bulkAudit, threads 0)',
      async (scope, onGone, onResult) => {
        const resolver = createResolver(spec);
        try {
          const run = await bulkAudit(list, { panel, resolver: spec, inProcess: resolver, ...(scope ? { scope } : {}) }, { concurrency: 2, threads: 0, onGone, onResult: (a, done) => onResult?.(a.domain, done) });
          return run.audits;
        } finally {
          resolver.close();
        }
      },
    ],
    [
      'worker threads (auditManyParallel, 1 worker beside this thread)',
      async (scope, onGone, onResult) => (await auditManyParallel(list, { panel, resolver: spec, ...(scope ? { scope } : {}) }, { concurrency: 2, threads: 1, onGone, onResult: (a, done) => onResult?.(a.domain, done) })).audits,
    ],
  ];
  for (const [name, run] of cases) {
    it(`${name}: skipped and reported gone, not audited; a still-listed domain without its zone is audited`, async () => {
      let listings = 0;
      const scope = () => {
        listings++;
        return panel.listDomains(admin);
      };
      const gone: string[] = [];
      const dones: number[] = [];
      const results: string[] = [];
      const audits = await run(
        scope,
        (d, done, total) => {
          gone.push(d);
          dones.push(done);
          assert.equal(total, list.length);
        },
        (d, done) => {
          results.push(d);
          dones.push(done);
        },
      );
      assert.deepEqual([...gone].sort(), GONE);
      assert.deepEqual([...results].sort(), KEPT, 'no result for a removed domain');
      assert.deepEqual(audits.map((a) => a.domain).sort(), KEPT);
      assert.deepEqual([...dones].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6], 'a skipped domain counts as done (progress reaches the total)');
      const dentist = audits.find((a) => a.domain === 'dentist.example')!;
      assert.ok(dentist.findings.some((f) => f.rule === 'dns.panel-zone-unreadable'), 'still listed: audited, its missing zone reported');
      assert.ok(listings >= 1 && listings <= 3, `the scope is asked once per not-found read at most (${listings} listings for 3 such reads)`);
    });
  }

  it('without a scope, or when the listing fails, nothing is skipped (never guessed from the error alone)', async () => {
    for (const [name, run] of cases) {
      for (const scope of [undefined, () => Promise.reject(new Error('panel unreachable'))]) {
        const gone: string[] = [];
        const audits = await run(scope, (d) => gone.push(d));
        assert.deepEqual(gone, [], name);
        assert.deepEqual(audits.map((a) => a.domain).sort(), [...GONE, ...KEPT].sort(), name);
      }
    }
  });
});
