// Express matches routes regardless of case, so `/API/…` is served by the API router. Review R3: the app decided "is
// this the API?" with a case-sensitive test, so such a request got the API's data with the pages' handling — a login
// redirect instead of 401 JSON, an HTML error page instead of `{"error"}`, the admin token refused. One API, one shape.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { isApiPath } from '../../src/web/app.js';
import { demoWorld, DEMO_SCOPE, login, type TestWorld } from './helpers.js';

test('isApiPath: /api and below, in any case; nothing else', () => {
  for (const p of ['/api', '/api/', '/api/domains', '/API/domains', '/Api/me', '/aPi/export.json']) assert.equal(isApiPath(p), true, p);
  for (const p of ['/', '/apis', '/apix/domains', '/domains/api', '/login', '/history']) assert.equal(isApiPath(p), false, p);
});

describe('the API answers alike whatever the case of /api', () => {
  let w: TestWorld;
  before(async () => {
    w = await demoWorld({ seedAudits: true });
  });
  after(async () => w.close());

  test('not logged in: 401 JSON, not a login redirect', async () => {
    for (const p of ['/api/domains', '/API/domains', '/Api/domains']) {
      const r = await request(w.app).get(p);
      assert.equal(r.status, 401, `${p}: ${r.status} ${r.text.slice(0, 200)}`);
      assert.deepEqual(r.body, { error: 'authentication required' }, p);
    }
  });

  test('the admin token works on /API too', async () => {
    for (const p of ['/api/domains', '/API/domains']) {
      const r = await request(w.app).get(p).set('Authorization', 'Bearer test-admin-token');
      assert.equal(r.status, 200, `${p}: ${r.text.slice(0, 200)}`);
      assert.equal((r.body as unknown[]).length, DEMO_SCOPE.root.length, p);
    }
  });

  test("a customer's refused bulk POST: the same JSON error, not an HTML page", async () => {
    const alice = await login(w.app, 'alice');
    const want = await alice.agent.post('/api/bulk').set('X-CSRF-Token', alice.csrf).send({ domains: ['bakery.example'] });
    assert.equal(want.status, 403);
    assert.ok((want.body as { error?: string }).error, want.text.slice(0, 200));
    const upper = await alice.agent.post('/API/bulk').set('X-CSRF-Token', alice.csrf).send({ domains: ['bakery.example'] });
    assert.equal(upper.status, 403);
    assert.match(upper.headers['content-type'] as string, /application\/json/);
    assert.deepEqual(upper.body, want.body);
  });
});
