// A bulk run given a ScopeRecheck (the web's bulk audit jobs) asks the identity's scope for every domain it reads, not
// only for one whose reads said not-found: a domain the panel still has but no longer gives the identity (moved to
// another account while the run went) is skipped as 'out-of-scope' — not audited, not handed to onResult — on this
// thread and on worker threads alike. A removed domain is still 'gone'; a failing listing skips nothing; one listing
// answers for `everyMs` by the run's clock (not one listing per domain).
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createResolver, type ResolverOptions } from '../../../src/adapters/dns/resolver.js';
import { FilesPanel } from '../../../src/adapters/panels/files/index.js';
import { auditManyParallel } from '../../../src/adapters/workers/audit-pool.js';
import { bulkAudit } from '../../../src/adapters/workers/bulk.js';
import type { ScopeListing, ScopeRecheck, SkipReason } from '../../../src/adapters/workers/gone.js';
import { startDemo, type Demo } from '../../../src/demo/world.js';

const admin = { user: 'root', role: 'admin' as const };
let demo: Demo;
let panel: FilesPanel;
let list: string[];
let spec: ResolverOptions;

before(async () => {
  demo = await startDemo();
  panel = new FilesPanel(demo.panelDir);
  list = (await panel.listDomains(admin)).map((d) => d.domain);
  // alice's account is removed from the panel (as in gone.test.ts): her domains are gone, not merely out of scope.
  const cfgPath = join(demo.panelDir, 'panel.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as { accounts: { user: string }[] };
  cfg.accounts = cfg.accounts.filter((a) => a.user !== 'alice');
  writeFileSync(cfgPath, JSON.stringify(cfg));
  for (const d of ['bakery.example', 'florist.example']) rmSync(join(demo.panelDir, 'zones', `${d}.db`));
  spec = { servers: [demo.dns.address], authoritativePort: demo.dns.port, timeoutMs: 1000, tries: 2, concurrency: 16 };
});
after(async () => {
  await demo.close();
  rmSync(demo.panelDir, { recursive: true, force: true });
});

type Run = (
  scope: ScopeListing,
  recheck: ScopeRecheck | undefined,
  onGone: (d: string, done: number, total: number, why: SkipReason) => void,
) => Promise<string[]>;

const runs: [string, Run][] = [
  [
    'this thread (bulkAudit, threads 0)',
    async (scope, recheck, onGone) => {
      const resolver = createResolver(spec);
      try {
        const run = await bulkAudit(list, { panel, resolver: spec, inProcess: resolver, scope, ...(recheck ? { recheck } : {}) }, { concurrency: 2, threads: 0, onGone });
        return run.audits.map((a) => a.domain);
      } finally {
        resolver.close();
      }
    },
  ],
  [
    'worker threads (auditManyParallel, 1 worker beside this thread)',
    async (scope, recheck, onGone) =>
      (await auditManyParallel(list, { panel, resolver: spec, scope, ...(recheck ? { recheck } : {}) }, { concurrency: 2, threads: 1, onGone })).audits.map((a) => a.domain),
  ],
];

/** The identity's scope now: the panel's, less lawyer.example (its customer moved to another reseller). */
function movedScope() {
  const counter = { listings: 0 };
  const scope: ScopeListing = async () => {
    counter.listings++;
    return (await panel.listDomains(admin)).filter((d) => d.domain !== 'lawyer.example');
  };
  return { counter, scope };
}

describe('bulk audit with the scope asked again for every domain (ScopeRecheck)', () => {
  for (const [name, run] of runs) {
    it(`${name}: a domain moved out of scope is skipped 'out-of-scope', a removed one 'gone', the rest audited — one listing while the clock stands`, async () => {
      const { counter, scope } = movedScope();
      const skipped: [string, SkipReason][] = [];
      const audited = await run(scope, { everyMs: 5_000, now: () => 42 }, (d, _done, total, why) => {
        assert.equal(total, list.length);
        skipped.push([d, why]);
      });
      assert.deepEqual(skipped.sort(), [
        ['bakery.example', 'gone'],
        ['florist.example', 'gone'],
        ['lawyer.example', 'out-of-scope'],
      ]);
      assert.deepEqual(audited.sort(), ['clean.example', 'dentist.example', 'plumber.example']);
      // The not-found reads may each ask for a listing taken after they started (gone.ts), at most one each; the found
      // domains share one listing (the clock stands still).
      assert.ok(counter.listings >= 1 && counter.listings <= 3, `${counter.listings} listings`);
    });

    it(`${name}: a listing older than everyMs is asked again`, async () => {
      const { counter, scope } = movedScope();
      let clock = 0;
      // Each clock reading is 5 s after the last: every domain asks a new listing.
      await run(scope, { everyMs: 5_000, now: () => (clock += 5_000) }, () => {});
      // (Two domains whose reads end while one listing is being answered share it: at least two, not exactly four.)
      assert.ok(counter.listings >= 2, `${counter.listings} listings for 4 domains found`);
    });

    it(`${name}: without a recheck, or with a listing that fails, the found domain is audited as before`, async () => {
      const { scope } = movedScope();
      const skipped: string[] = [];
      assert.ok((await run(scope, undefined, (d) => skipped.push(d))).includes('lawyer.example'));
      assert.deepEqual(skipped.sort(), ['bakery.example', 'florist.example']);
      const failing: ScopeListing = () => Promise.reject(new Error('panel unreachable'));
      const none: string[] = [];
      const audited = await run(failing, { everyMs: 5_000, now: () => 0 }, (d) => none.push(d));
      assert.deepEqual(none, []);
      assert.equal(audited.length, list.length);
    });
  }
});
