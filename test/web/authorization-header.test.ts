// QA: any Authorization header turned every page into a JSON 401 `{"error":"invalid credentials"}`, even with a valid
// session — a site behind an nginx `auth_basic` proxy (which forwards the header) was unusable. Only the Bearer scheme is
// mailhealth's credential (the admin token on /api); other schemes are ignored and the session decides. A Bearer token
// that is wrong, malformed or used outside /api is still refused. Demo panel, loopback DNS, real SQLite.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { demoWorld, DEMO_SCOPE, login, type TestWorld } from './helpers.js';

const BASIC = 'Basic YWxpY2U6eA=='; // alice:x — the proxy's credentials, not mailhealth's

describe('Authorization headers that are not mailhealth\'s', () => {
  let w: TestWorld;
  before(async () => {
    w = await demoWorld({ seedAudits: true });
  });
  after(async () => w.close());

  test('Basic (from an auth_basic proxy) with a session: pages, the API and forms work as the session\'s user', async () => {
    const alice = await login(w.app, 'alice');
    const page = await alice.agent.get('/domains').set('Authorization', BASIC);
    assert.equal(page.status, 200, page.text);
    assert.match(page.headers['content-type'] as string, /text\/html/);
    assert.match(page.text, /florist\.example/);
    const me = await alice.agent.get('/api/me').set('Authorization', BASIC).expect(200);
    assert.equal((me.body as { user: string }).user, 'alice');
    const domains = await alice.agent.get('/api/domains').set('Authorization', BASIC).expect(200);
    assert.deepEqual((domains.body as { domain: string }[]).map((d) => d.domain).sort(), DEMO_SCOPE.alice);
    // A state-changing form still needs the session's CSRF token, and works with it.
    const audit = await alice.agent.post('/domains/bakery.example/audit').set('Authorization', BASIC).type('form').send({ _csrf: alice.csrf });
    assert.ok(audit.status === 200 || audit.status === 303, `${audit.status} ${audit.text.slice(0, 300)}`);
    const forged = await alice.agent.post('/domains/bakery.example/audit').set('Authorization', BASIC).type('form').send({});
    assert.equal(forged.status, 403, 'no CSRF token: refused as before');
    // Other schemes alike (Digest, Negotiate, a bare word).
    for (const h of ['Digest username="alice"', 'Negotiate abc', 'whatever']) {
      assert.equal((await alice.agent.get('/domains').set('Authorization', h)).status, 200, h);
    }
  });

  test('Basic without a session logs nobody in: the login page, or 401 on the API', async () => {
    const page = await request(w.app).get('/domains').set('Authorization', BASIC);
    assert.equal(page.status, 303);
    assert.match(page.headers.location as string, /^\/login/);
    const api = await request(w.app).get('/api/domains').set('Authorization', BASIC);
    assert.equal(api.status, 401);
    assert.deepEqual(api.body, { error: 'authentication required' });
  });

  test('Bearer is still checked: a wrong or malformed token is 401 even with a valid session; the admin token works on /api only', async () => {
    const alice = await login(w.app, 'alice');
    for (const h of ['Bearer wrong', 'Bearer', 'bearer wrong', 'Bearer a b']) {
      const page = await alice.agent.get('/domains').set('Authorization', h);
      assert.equal(page.status, 401, `${h} on a page`);
      assert.deepEqual(page.body, { error: 'invalid credentials' });
      assert.equal((await alice.agent.get('/api/domains').set('Authorization', h)).status, 401, `${h} on /api`);
    }
    assert.equal((await alice.agent.get('/domains').set('Authorization', 'Bearer test-admin-token')).status, 401, 'the token is for the API only');
    const admin = await request(w.app).get('/api/domains').set('Authorization', 'Bearer test-admin-token').expect(200);
    assert.equal((admin.body as unknown[]).length, DEMO_SCOPE.root.length);
  });
});
