// A panel whose domain listing takes longer than SCOPE_RECHECK_MS (Plesk: one REST call per client, one after the
// other). A reading's age counts from when it was answered, not from when it was asked (services.ts BulkScope,
// adapters/workers/gone.ts ScopeWatch): else it is stale the moment it arrives, every later panel read waits for a
// brand-new listing, and the panel is listed back to back for the whole job (review).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import type { Panel } from '../../src/core/panel.js';
import { hookPanel } from '../helpers/hook-panel.js';
import { buildWorld } from '../../src/demo/world.js';
import { demoWorld, login, type TestWorld } from './helpers.js';
import { planValues } from './shared-zone-world.js';

const LISTING_MS = 6_000; // how long one listing takes, on the app's clock

function slowWorld() {
  const s = { clock: Date.parse('2030-01-01T00:00:00Z'), counting: false, listings: 0, reads: 0 };
  const wrap = (p: Panel): Panel =>
    hookPanel(p, {
      listDomains: async (own, id) => {
        const r = await own(id);
        if (s.counting) {
          s.listings++;
          s.clock += LISTING_MS; // the listing took 6 s
        }
        return r;
      },
      readZone: (own, d) => {
        if (s.counting) s.reads++;
        return own(d);
      },
      readMailSettings: (own, d) => {
        if (s.counting) s.reads++;
        return own(d);
      },
    });
  return { s, wrap };
}

function dropDmarc(w: TestWorld, domain: string): void {
  const file = join(w.demo!.panelDir, 'zones', `${domain}.db`);
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^_dmarc.*\n/m, ''));
  w.demo!.dns.setData(buildWorld(w.demo!.panelDir));
}

it('bulk fix: a 6 s listing answers for the next 5 s, not asked again after every panel read', { timeout: 120_000 }, async () => {
  const { s, wrap } = slowWorld();
  const w = await demoWorld({ wrapPanel: wrap, app: { now: () => new Date(s.clock) } });
  try {
    dropDmarc(w, 'clean.example');
    const rita = await login(w.app, 'rita');
    w.app.runner.fixInlineMax = 0;
    const page = await rita.agent.post('/bulk/fix/preview').type('form').send({ _csrf: rita.csrf, check: 'dmarc', domains: ['dentist.example', 'clean.example'] });
    const plans = planValues(page.text);
    assert.equal(plans.length, 2);
    s.counting = true;
    const t0 = s.clock;
    const started = await rita.agent.post('/bulk/fix/apply').type('form').send({ _csrf: rita.csrf, check: 'dmarc', plan: plans });
    const id = Number(/(\d+)$/.exec(started.headers.location as string)![1]);
    await w.app.runner.wait(id);
    s.counting = false;
    const job = w.store.getJob(id)!;
    assert.equal(job.status, 'complete');
    // One reading is meant to answer for 5 s: 2 domains fixed side by side should need ~1-2 listings, not one per read.
    assert.ok(s.listings <= 3, `${s.listings} back-to-back listings`);
  } finally {
    await w.close();
  }
});

it('bulk audit (one lane): a 6 s listing answers for the next 5 s, not taken anew for every domain', { timeout: 120_000 }, async () => {
  const { s, wrap } = slowWorld();
  const w = await demoWorld({ wrapPanel: wrap, app: { now: () => new Date(s.clock), auditConcurrency: 1 } });
  try {
    const rita = await login(w.app, 'rita');
    s.counting = true;
    const t0 = s.clock;
    const started = await rita.agent.post('/api/bulk').set('x-csrf-token', rita.csrf).send({ domains: ['dentist.example', 'clean.example', 'lawyer.example', 'plumber.example'] }).expect(202);
    const id = (started.body as { jobId: number }).jobId;
    await w.app.runner.wait(id);
    s.counting = false;
    const job = w.store.getJob(id)!;
    assert.ok(s.listings <= 2, `${s.listings} listings, one per domain`);
  } finally {
    await w.close();
  }
});
