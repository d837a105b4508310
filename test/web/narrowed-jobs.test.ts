// A front door's narrowed identity (Identity.allowed — Plesk's domain list) sees a bulk job's results for the domains
// in its current list only. The list may change between requests of the same login (Plesk grants or takes access):
// QA started a job with [alice.example, alice-shop.example], then read it with [bob.example] and got the first
// list's results while /api/domains showed bob.example only.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { createApp } from '../../src/web/app.js';
import { narrowByIdentity } from '../../src/web/cgi.js';
import { signIdentity, signedHeaderFrontDoor } from '../../src/web/identity.js';
import type { Identity } from '../../src/core/model.js';
import { demoWorld, NO_LIMITS, type TestWorld } from './helpers.js';

const KEY = 'narrowed-jobs-key-0123456789abcdef';
let w: TestWorld;
before(async () => {
  w = await demoWorld();
});
after(async () => w.close());

test('a bulk job read with another domain list shows only the results of that list', { timeout: 120_000 }, async () => {
  const app = createApp({ panel: narrowByIdentity(w.panel), store: w.store, makeResolver: w.makeResolver, identityFrom: 'front-door', frontDoor: signedHeaderFrontDoor(KEY), rateLimits: NO_LIMITS });
  const as = (allowed: string[]) => ({ 'x-mailhealth-identity': signIdentity(KEY, { user: 'rita', role: 'reseller', allowed } as Identity) });
  const first = ['plumber.example', 'dentist.example'];
  const agent = request.agent(app);
  const me = await agent.get('/api/me').set(as(first)).expect(200);
  const csrf = me.body.csrf as string;
  assert.ok(csrf, JSON.stringify(me.body));
  const started = await agent.post('/api/bulk').set(as(first)).set('x-csrf-token', csrf).send({}).expect(202);
  assert.equal(started.body.total, 2, 'the job audits the narrowed list only');
  let job: { status: string; results: { domain: string }[] } = { status: 'running', results: [] };
  // Polled until it ends (the test's own timeout bounds the wait; nothing here depends on how fast it runs).
  for (;;) {
    job = (await agent.get(`/api/jobs/${started.body.jobId}`).set(as(first)).expect(200)).body;
    if (job.status !== 'running' && job.status !== 'queued') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual(job.results.map((r) => r.domain).sort(), ['dentist.example', 'plumber.example']);
  // The same login, now with another list: the job's other results are not shown.
  const later = (await agent.get(`/api/jobs/${started.body.jobId}`).set(as(['lawyer.example', 'plumber.example'])).expect(200)).body as typeof job;
  assert.deepEqual(later.results.map((r) => r.domain), ['plumber.example']);
  const domains = (await agent.get('/api/domains').set(as(['lawyer.example', 'plumber.example'])).expect(200)).body as { domain: string }[];
  assert.deepEqual(domains.map((d) => d.domain).sort(), ['lawyer.example', 'plumber.example']);
});
