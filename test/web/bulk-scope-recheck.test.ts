// A bulk fix (or bulk audit) that runs after its request keeps acting as the identity that started it, so it asks that
// identity's scope again before each domain (services.ts BulkScope, jobs.ts): a customer moved to another reseller
// while the job waited, or a reseller removed from the panel, is skipped — "no longer in your scope", nothing read
// into the job's results, no intent recorded, nothing written — and counted as skipped, not as done-and-failed. One
// reading of the scope answers for a few seconds (by the app's clock), so a bulk of many domains is not a panel
// round trip per domain. (QA: rita's job wrote bob's zone after bob had moved to reseller rex.)
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import request from 'supertest';
import type { Panel } from '../../src/core/panel.js';
import { buildWorld } from '../../src/demo/world.js';
import { createApp } from '../../src/web/app.js';
import { demoWorld, login, NO_LIMITS, type TestWorld } from './helpers.js';
import { Gate, planValues } from './shared-zone-world.js';
import { editPanel, moveBobToRex, removeRita } from './panel-edits.js';

/** clean.example (carol's, still rita's customer) loses its DMARC record, so a DMARC bulk fix has two domains to fix. */
function dropCleanDmarc(w: TestWorld): void {
  const file = join(w.demo!.panelDir, 'zones', 'clean.example.db');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^_dmarc.*\n/m, ''));
  w.demo!.dns.setData(buildWorld(w.demo!.panelDir)); // served now, not when the file watcher gets to it
}

const dmarcLine = (w: TestWorld, domain: string) =>
  readFileSync(join(w.demo!.panelDir, 'zones', `${domain}.db`), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('_dmarc'))
    .join('\n');

/** Counts the scope questions the app puts to the panel (listDomains and listAccounts), gated zone reads. */
function counted(gate: Gate) {
  const calls = { listDomains: 0, listAccounts: 0 };
  const wrap = (p: Panel): Panel =>
    gate.wrap(
      new Proxy(p, {
        get: (t, prop) => {
          const v = (t as unknown as Record<string | symbol, unknown>)[prop];
          if (typeof v !== 'function') return v;
          if (prop === 'listDomains' || prop === 'listAccounts') {
            return (...a: unknown[]) => {
              calls[prop]++;
              return (v as (...x: unknown[]) => unknown).apply(t, a);
            };
          }
          return (v as (...x: unknown[]) => unknown).bind(t);
        },
      }),
    );
  return { calls, wrap };
}

describe('a bulk fix job whose domain leaves the scope while it runs', () => {
  it('skips the moved domain before anything is recorded or written, applies the others, and counts it as skipped', { timeout: 60_000 }, async () => {
    const gate = new Gate();
    const { calls, wrap } = counted(gate);
    // The app's clock stands still: one reading of the scope answers for every domain of this job.
    const at = new Date();
    const w = await demoWorld({ wrapPanel: wrap, app: { now: () => at } });
    try {
      dropCleanDmarc(w);
      const rita = await login(w.app, 'rita');
      w.app.runner.fixInlineMax = 0;
      const page = await rita.agent.post('/bulk/fix/preview').type('form').send({ _csrf: rita.csrf, check: 'dmarc', domains: ['dentist.example', 'clean.example'] });
      const plans = planValues(page.text);
      assert.deepEqual(plans.map((p) => p.split('|')[0]).sort(), ['clean.example', 'dentist.example'], page.text.slice(0, 2000));
      const before = dmarcLine(w, 'dentist.example');
      gate.close();
      const started = await rita.agent.post('/bulk/fix/apply').type('form').send({ _csrf: rita.csrf, check: 'dmarc', plan: plans });
      assert.equal(started.status, 303);
      const id = Number(/(\d+)$/.exec(started.headers.location as string)![1]);
      await gate.waiting(2); // both domains are reading their zones: nothing planned or written yet
      const asked = { ...calls };
      editPanel(w, moveBobToRex);
      gate.open();
      await w.app.runner.wait(id);

      const job = w.store.getJob(id)!;
      assert.equal(job.status, 'complete');
      assert.deepEqual({ done: job.done, failed: job.failed, skipped: job.gone }, { done: 2, failed: 0, skipped: 1 });
      const items = w.store.jobItems(id).items;
      const dentist = items.find((i) => i.domain === 'dentist.example')!;
      assert.equal(dentist.status, 'skipped');
      assert.match((dentist.detail as { reason: string }).reason, /^No longer in your scope\b.*Nothing was changed/);
      assert.equal((dentist.detail as { why?: string }).why, 'scope');
      assert.equal(items.find((i) => i.domain === 'clean.example')!.status, 'applied');
      // Nothing of rita's fix is in dentist.example's history (not even a failed intent), nor in its zone.
      assert.deepEqual(w.store.changesForDomains(['dentist.example'], 10), []);
      assert.equal(dmarcLine(w, 'dentist.example'), before);
      assert.equal(w.store.changesForDomains(['clean.example'], 10)[0]?.status, 'applied');
      // One reading (a listing and an account list) for both domains: the clock did not move.
      assert.deepEqual({ listDomains: calls.listDomains - asked.listDomains, listAccounts: calls.listAccounts - asked.listAccounts }, { listDomains: 1, listAccounts: 1 });

      // rita's page shows the skipped domain with its reason (it was hers when she ticked it) and the count apart.
      const shown = await rita.agent.get(`/bulk/fix/jobs/${id}`).expect(200);
      const text = shown.text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
      assert.match(text, /2 of 2 domains done: 1 applied, 1 skipped \(no longer in your scope\), 0 not applied\./);
      assert.match(text, /dentist\.example skipped No longer in your scope/);
      // The JSON view of the job says the same (the skipped row stays: it tells only that nothing was written).
      const api = (await rita.agent.get(`/api/jobs/${id}`).expect(200)).body as { results: { domain: string; status: string; why?: string }[] };
      assert.deepEqual(api.results.map((r) => [r.domain, r.status, r.why ?? null]).sort(), [['clean.example', 'applied', null], ['dentist.example', 'skipped', 'scope']]);
    } finally {
      gate.open();
      await w.close();
    }
  });

  it('a reseller removed from the panel (front door, no login binding): every domain is skipped as the account is gone', { timeout: 60_000 }, async () => {
    const gate = new Gate();
    const w = await demoWorld({});
    try {
      const app = createApp({ panel: gate.wrap(w.panel), store: w.store, makeResolver: w.makeResolver, identityFrom: 'front-door', frontDoor: () => ({ user: 'rita', role: 'reseller' }), rateLimits: NO_LIMITS });
      app.runner.fixInlineMax = 0;
      const agent = request.agent(app);
      const csrf = ((await agent.get('/api/me').expect(200)).body as { csrf: string }).csrf;
      const plans = planValues((await agent.post('/bulk/fix/preview').type('form').send({ _csrf: csrf, check: 'dmarc', domains: ['dentist.example'] })).text);
      assert.equal(plans.length, 1);
      gate.close();
      const started = await agent.post('/bulk/fix/apply').type('form').send({ _csrf: csrf, check: 'dmarc', plan: plans });
      const id = Number(/(\d+)$/.exec(started.headers.location as string)![1]);
      await gate.waiting(1);
      editPanel(w, removeRita);
      gate.open();
      await app.runner.wait(id);
      const items = app.runner.fixResultsSince(id, 0).results;
      assert.deepEqual(items.map((r) => [r.domain, r.status, r.why]), [['dentist.example', 'skipped', 'account']]);
      assert.match(items[0].reason!, /^Not applied: your account is no longer on the panel, so this bulk fix stopped/);
      assert.deepEqual(w.store.changesForDomains(['dentist.example'], 10), []);
      const job = w.store.getJob(id)!;
      assert.deepEqual({ done: job.done, failed: job.failed, skipped: job.gone }, { done: 1, failed: 0, skipped: 1 });
    } finally {
      gate.open();
      await w.close();
    }
  });

  it('applied within the request (no background jobs): the same recheck', { timeout: 60_000 }, async () => {
    const gate = new Gate();
    const w = await demoWorld({ wrapPanel: (p) => gate.wrap(p), app: { backgroundJobs: false } });
    try {
      const rita = await login(w.app, 'rita');
      const plans = planValues((await rita.agent.post('/bulk/fix/preview').type('form').send({ _csrf: rita.csrf, check: 'dmarc', domains: ['dentist.example'] })).text);
      assert.equal(plans.length, 1);
      gate.close();
      const sent = rita.agent.post('/bulk/fix/apply').type('form').send({ _csrf: rita.csrf, check: 'dmarc', plan: plans }).then((r) => r);
      await gate.waiting(1);
      editPanel(w, moveBobToRex);
      gate.open();
      const res = await sent;
      assert.equal(res.status, 303);
      const id = Number(/(\d+)$/.exec(res.headers.location as string)![1]);
      assert.deepEqual(w.store.changesForDomains(['dentist.example'], 10), []);
      const job = w.store.getJob(id)!;
      assert.deepEqual({ done: job.done, failed: job.failed, skipped: job.gone }, { done: 1, failed: 0, skipped: 1 });
      assert.deepEqual(w.store.jobItems(id).items.map((i) => [i.domain, i.status]), [['dentist.example', 'skipped']]);
    } finally {
      gate.open();
      await w.close();
    }
  });
});

describe('a bulk audit job whose domain leaves the scope while it runs', () => {
  it('the moved domain is skipped "no longer in your scope": not audited, not recorded; the others are', { timeout: 60_000 }, async () => {
    const gate = new Gate();
    const w = await demoWorld({ wrapPanel: (p) => gate.wrap(p) });
    try {
      const rita = await login(w.app, 'rita');
      gate.close();
      const started = await rita.agent.post('/api/bulk').set('x-csrf-token', rita.csrf).send({ domains: ['dentist.example', 'clean.example'] }).expect(202);
      const id = (started.body as { jobId: number }).jobId;
      await gate.waiting(2);
      editPanel(w, moveBobToRex);
      gate.open();
      await w.app.runner.wait(id);
      const job = w.store.getJob(id)!;
      assert.deepEqual({ status: job.status, done: job.done, gone: job.gone }, { status: 'complete', done: 2, gone: 1 });
      assert.equal(w.store.latestAudit('dentist.example'), null, 'nothing of bob\'s domain recorded under rita\'s run');
      assert.ok(w.store.latestAudit('clean.example'), 'a domain still in scope is audited');
      const view = (await rita.agent.get(`/api/jobs/${id}`).expect(200)).body as { results: { domain: string; status: string; reason?: string }[] };
      assert.deepEqual(view.results.find((r) => r.domain === 'dentist.example'), { domain: 'dentist.example', status: 'gone', reason: 'no longer in your scope' });
    } finally {
      gate.open();
      await w.close();
    }
  });
});
