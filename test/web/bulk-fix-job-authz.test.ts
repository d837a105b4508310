// who may see / cancel a bulk fix job; hostile text in its page.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { makeFixture, zoneRecords } from '../helpers/emulators/fixture.js';
import { jobAccount } from '../../src/web/jobs.js';
import { login, setPasswords } from './helpers.js';
import { planValues, whmWorld, type WhmWorld } from './shared-zone-world.js';

let w: WhmWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

test('another reseller, a customer: no view, no cancel; admin may; hostile text escaped', { timeout: 60_000 }, async () => {
  const f = makeFixture();
  f.accounts.push({ user: 'res2', owner: 'res2', ip: '203.0.113.10', main: 'res2.example', addon: [], parked: [], sub: [] });
  f.accounts.find((a) => a.user === 'carol')!.owner = 'res2';
  f.zones['res2.example'] = zoneRecords('res2.example', f.dkim.publicKey);
  w = await whmWorld({ fixture: f });
  const { app, store, res1 } = w;
  await setPasswords(store, ['res2', 'alice', 'root']);
  const res2 = await login(app, 'res2');
  const alice = await login(app, 'alice');
  const root = await login(app, 'root');
  app.runner.fixInlineMax = 0;
  const page = await res1.agent.post('/bulk/fix/preview').type('form').send({ _csrf: res1.csrf, check: 'spf', domains: ['bob.example'] });
  const plans = planValues(page.text);
  const started = await res1.agent.post('/bulk/fix/apply').type('form').send({ _csrf: res1.csrf, check: 'spf', plan: plans }).expect(303);
  const id = Number(/(\d+)$/.exec(started.headers.location!)![1]);
  await app.runner.wait(id);

  await res2.agent.get(`/bulk/fix/jobs/${id}`).expect(404);
  await res2.agent.get(`/api/jobs/${id}`).expect(404);
  await res2.agent.post(`/bulk/fix/jobs/${id}/cancel`).type('form').send({ _csrf: res2.csrf }).expect(404);
  await res2.agent.post(`/api/jobs/${id}/cancel`).set('x-csrf-token', res2.csrf).expect(404);
  const a1 = await alice.agent.get(`/bulk/fix/jobs/${id}`);
  assert.ok([403, 404].includes(a1.status), String(a1.status));
  await alice.agent.get(`/api/jobs/${id}`).expect(404);
  const a2 = await alice.agent.post(`/bulk/fix/jobs/${id}/cancel`).type('form').send({ _csrf: alice.csrf });
  assert.ok([403, 404].includes(a2.status), String(a2.status));
  await alice.agent.post('/bulk/fix/apply').type('form').send({ _csrf: alice.csrf, check: 'spf', plan: plans }).expect(403);
  await root.agent.get(`/bulk/fix/jobs/${id}`).expect(200);
  assert.equal(store.getJob(id)!.byUser, 'res1');

  // Hostile text in a job's row (reason, message, error, not-found names): escaped.
  const evil = '<script>alert(1)</script>"\'';
  const j = store.createJob({ kind: 'bulk-fix', byUser: 'res1', byAccount: jobAccount(store, 'res1'), scope: { check: 'spf', domains: ['bob.example', 'alice.example'], notFound: [evil] }, total: 2 });
  store.recordJobItem(j, { domain: 'bob.example', status: 'refused', detail: { status: 'refused', why: `x" onmouseover="${evil}`, reason: evil } }, { done: 1, failed: 1 });
  store.recordJobItem(j, { domain: 'alice.example', status: 'applied', detail: { status: 'applied', message: evil, changeId: `${evil}` } }, { done: 2, failed: 1 });
  store.updateJob(j, { status: 'failed', error: evil });
  const p = await res1.agent.get(`/bulk/fix/jobs/${j}`).expect(200);
  assert.doesNotMatch(p.text, /<script>alert/);
  assert.doesNotMatch(p.text, /onmouseover="/);
  const b = await res1.agent.get('/bulk').expect(200);
  assert.doesNotMatch(b.text, /<script>alert/);
});
