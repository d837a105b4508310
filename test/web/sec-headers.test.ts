// HTTP-level QA of `serve`'s answers (security headers, caching, CORS, content types): what a shared proxy, a browser's
// back button or a page of another site can do with them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { demoWorld, login, type TestWorld } from './helpers.js';

describe('HTTP headers of serve', () => {
  let w: TestWorld;
  before(async () => {
    w = await demoWorld();
  });
  after(async () => w.close());

  const secured = (r: request.Response, what: string) => {
    assert.equal(r.headers['x-content-type-options'], 'nosniff', `${what}: nosniff`);
    assert.match(String(r.headers['content-security-policy']), /frame-ancestors 'self'/, `${what}: CSP with frame-ancestors`);
    assert.equal(r.headers['x-frame-options'], 'SAMEORIGIN', `${what}: X-Frame-Options`);
    // Links inside a panel carry its session token in the URL (cPanel's /cpsess…/): never in a Referer to another site.
    assert.equal(r.headers['referrer-policy'], 'same-origin', `${what}: Referrer-Policy`);
    assert.equal(r.headers['access-control-allow-origin'], undefined, `${what}: no CORS`);
  };

  test('error answers given before the session is read are not cached either (a body too large, not valid; a missing asset)', async () => {
    const s = await login(w.app, 'alice');
    const big = await s.agent.post('/explain').type('form').send({ _csrf: s.csrf, bounce: 'x'.repeat(300_000) });
    assert.equal(big.status, 413);
    assert.equal(big.headers['cache-control'], 'no-store', 'a too-large request: no-store');
    secured(big, '413');
    const bad = await s.agent.post('/api/explain').set('X-CSRF-Token', s.csrf).set('Content-Type', 'application/json').send('{"bounce": ');
    assert.equal(bad.status, 400);
    assert.match(String(bad.headers['content-type']), /^application\/json/);
    assert.equal(bad.headers['cache-control'], 'no-store', 'a body that is not valid: no-store');
    const asset = await request(w.app).get('/assets/%3Cscript%3E.js');
    assert.equal(asset.status, 404);
    assert.equal(asset.headers['cache-control'], 'no-store', 'a missing asset: no-store');
    assert.ok(!asset.text.includes('<script>'), 'the path is not echoed as markup');
    // A real asset keeps its own caching (it holds no customer data).
    const js = await request(w.app).get('/assets/app.js').expect(200);
    assert.match(String(js.headers['cache-control']), /max-age=3600/);
    assert.match(String(js.headers['content-type']), /javascript/);
    secured(js, 'asset');
  });

  test('pages and API answers with customer data: no-store, nosniff, JSON as JSON, no CORS', async () => {
    const s = await login(w.app, 'alice');
    for (const path of ['/domains', '/domains/bakery.example', '/history', '/api/domains', '/api/me', '/api/export.json', '/api/export.csv', '/api/changes']) {
      const r = await s.agent.get(path).set('Origin', 'https://evil.example');
      assert.equal(r.status, 200, path);
      assert.equal(r.headers['cache-control'], 'no-store', `${path}: no-store`);
      secured(r, path);
      if (path.startsWith('/api/') && !path.endsWith('.csv')) assert.match(String(r.headers['content-type']), /^application\/json; charset=utf-8$/, path);
    }
    const pre = await request(w.app).options('/api/domains').set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'POST').set('Access-Control-Request-Headers', 'x-csrf-token');
    assert.equal(pre.headers['access-control-allow-origin'], undefined);
    assert.equal(pre.headers['access-control-allow-headers'], undefined);
  });

  test('the JSON API authenticated by the session cookie refuses a state change without the CSRF token, and changes nothing', async () => {
    const s = await login(w.app, 'alice');
    const runs = (await s.agent.get('/api/domains/bakery.example').expect(200)).body as { auditedAt: string | null };
    for (const [path, body] of [['/api/domains/bakery.example/audit', {}], ['/api/bulk', { domains: ['bakery.example'] }], ['/api/domains/florist.example/fix', { check: 'lockdown' }]] as const) {
      const r = await s.agent.post(path).send(body);
      assert.equal(r.status, 403, path);
      assert.match(String(r.headers['content-type']), /^application\/json/);
      const forged = await s.agent.post(path).set('X-CSRF-Token', 'x'.repeat(s.csrf.length)).send(body);
      assert.equal(forged.status, 403, `${path}: wrong token`);
    }
    assert.deepEqual(((await s.agent.get('/api/domains/bakery.example').expect(200)).body as { auditedAt: string | null }).auditedAt, runs.auditedAt, 'no audit ran');
  });

  test('an error page does not echo what the request sent as markup, and no answer builds a link from the Host header', async () => {
    const s = await login(w.app, 'alice');
    const nf = await s.agent.get('/domains/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E').set('Host', 'evil.example');
    assert.equal(nf.status, 404);
    assert.ok(!/<img src=x/i.test(nf.text));
    assert.ok(!nf.text.includes('evil.example'), 'no link to the Host the request named');
    const out = await request(w.app).get('/domains').set('Host', 'evil.example').set('X-Forwarded-Host', 'evil.example');
    assert.equal(out.status, 303);
    assert.equal(out.headers.location, '/login?next=%2Fdomains');
  });
});
