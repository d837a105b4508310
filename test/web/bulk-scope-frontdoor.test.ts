// A front door's identity is vouched for by the panel on every request, and the request layer holds it to no password
// binding (app.ts knownAccount). A bulk job's scope re-check does the same (jobs.ts scopeAccount): a standalone-password
// binding left under the name (from `serve` on this database, not swept yet) is not the front-door identity's account,
// and holding it to that binding skipped every domain as "your account is no longer on the panel" (review) — in the
// CGI's in-request apply and in the service's background jobs alike.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import request from 'supertest';
import { createApp } from '../../src/web/app.js';
import { accountKey, PASSWORD_ACCOUNT_SETTING } from '../../src/web/session.js';
import { demoWorld, NO_LIMITS } from './helpers.js';
import { planValues } from './shared-zone-world.js';

it('front door (the CGI, in the request): a stale standalone-password binding skips none of the user\'s bulk fix', { timeout: 60_000 }, async () => {
  const w = await demoWorld({});
  try {
    // rita's standalone password (serve) was set while her account was a plain customer account; WHM has since made
    // it a reseller ("Make the account a reseller"), and serve has not swept the binding yet.
    w.store.setSettings({ [PASSWORD_ACCOUNT_SETTING('rita')]: accountKey({ role: 'customer' }) });

    // The cPanel front door as the CGI runs it: identity from the panel, fixes applied within the request.
    const app = createApp({ panel: w.panel, store: w.store, makeResolver: w.makeResolver, identityFrom: 'front-door', frontDoor: () => ({ user: 'rita', role: 'reseller' }), backgroundJobs: false, rateLimits: NO_LIMITS });
    const agent = request.agent(app);
    const csrf = ((await agent.get('/api/me').expect(200)).body as { csrf: string }).csrf;
    const plans = planValues((await agent.post('/bulk/fix/preview').type('form').send({ _csrf: csrf, check: 'dmarc', domains: ['dentist.example'] })).text);
    assert.equal(plans.length, 1, 'rita is let in and may preview');
    const res = await agent.post('/bulk/fix/apply').type('form').send({ _csrf: csrf, check: 'dmarc', plan: plans });
    assert.equal(res.status, 303);
    const id = Number(/(\d+)$/.exec(res.headers.location as string)![1]);
    const items = w.store.jobItems(id).items;
    await agent.get(`/bulk/fix/jobs/${id}`).expect(200);
    assert.equal(items[0].status, 'applied', 'rita\'s domain, rita on the panel and let in by the front door: should be applied');
  } finally {
    await w.close();
  }
});

it('front door (the service): the same stale binding skips none of a bulk audit\'s domains', { timeout: 60_000 }, async () => {
  const w = await demoWorld({});
  try {
    w.store.setSettings({ [PASSWORD_ACCOUNT_SETTING('rita')]: accountKey({ role: 'customer' }) });
    const app = createApp({ panel: w.panel, store: w.store, makeResolver: w.makeResolver, identityFrom: 'front-door', frontDoor: () => ({ user: 'rita', role: 'reseller' }), rateLimits: NO_LIMITS });
    const agent = request.agent(app);
    const csrf = ((await agent.get('/api/me').expect(200)).body as { csrf: string }).csrf;
    const started = await agent.post('/api/bulk').set('x-csrf-token', csrf).send({ domains: ['dentist.example', 'clean.example'] }).expect(202);
    const id = (started.body as { jobId: number }).jobId;
    await app.runner.wait(id);
    const view = (await agent.get(`/api/jobs/${id}`).expect(200)).body as { done: number; gone: number; results: unknown[] };
    assert.equal(view.done, 2);
    assert.equal(view.gone, 0, 'both domains are rita\'s: none should be skipped');
  } finally {
    await w.close();
  }
});

it('front door (the service): the same stale binding skips none of a bulk fix job\'s domains', { timeout: 60_000 }, async () => {
  const w = await demoWorld({});
  try {
    w.store.setSettings({ [PASSWORD_ACCOUNT_SETTING('rita')]: accountKey({ role: 'customer' }) });
    const app = createApp({ panel: w.panel, store: w.store, makeResolver: w.makeResolver, identityFrom: 'front-door', frontDoor: () => ({ user: 'rita', role: 'reseller' }), rateLimits: NO_LIMITS });
    app.runner.fixInlineMax = 0;
    const agent = request.agent(app);
    const csrf = ((await agent.get('/api/me').expect(200)).body as { csrf: string }).csrf;
    const plans = planValues((await agent.post('/bulk/fix/preview').type('form').send({ _csrf: csrf, check: 'dmarc', domains: ['dentist.example'] })).text);
    assert.equal(plans.length, 1);
    const res = await agent.post('/bulk/fix/apply').type('form').send({ _csrf: csrf, check: 'dmarc', plan: plans });
    assert.equal(res.status, 303);
    const id = Number(/(\d+)$/.exec(res.headers.location as string)![1]);
    await app.runner.wait(id);
    const job = w.store.getJob(id)!;
    assert.equal(job.byAccount, accountKey({ role: 'customer' }), "the job is still the name's binding's (who may open it is unchanged)");
    assert.deepEqual(
      w.store.jobItems(id).items.map((i) => [i.domain, i.status]),
      [['dentist.example', 'applied']],
    );
    assert.equal(job.gone, 0);
  } finally {
    await w.close();
  }
});
