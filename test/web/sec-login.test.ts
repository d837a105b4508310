// HTTP-level QA of the standalone login: where it sends the browser afterwards, the session it issues, logout, cookie
// flags and which proxy headers it believes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Request } from 'express';
import { csrfFrom, demoWorld, login, PASSWORD, type TestWorld } from './helpers.js';
import { cameOverTls, clientAddress } from '../../src/web/session.js';

describe('login over HTTP', () => {
  let w: TestWorld;
  before(async () => {
    w = await demoWorld();
  });
  after(async () => w.close());

  const loginWith = async (next: string, headers: Record<string, string> = {}) => {
    const agent = request.agent(w.app);
    const page = await agent.get('/login').expect(200);
    let post = agent.post('/login').type('form');
    for (const [k, v] of Object.entries(headers)) post = post.set(k, v);
    const r = await post.send({ _csrf: csrfFrom(page.text), user: 'alice', password: PASSWORD, next });
    assert.equal(r.status, 303, `login with next ${JSON.stringify(next)}`);
    return { agent, page, r };
  };

  test('`next` goes to a path of this site only: never another host, never a control character a browser may drop', async () => {
    const refused = ['//evil.example/x', '/\\evil.example', 'https://evil.example/', '/\t/evil.example', '/\u0001/evil.example', '/x\\..\\/evil.example', 'javascript:alert(1)', '/login', '/LOGIN?next=//evil.example', ''];
    for (const next of refused) assert.equal((await loginWith(next)).r.headers.location, '/domains', JSON.stringify(next));
    for (const next of ['/history', '/domains/bakery.example?x=1#f', '/%2F/evil.example']) {
      const loc = (await loginWith(next)).r.headers.location;
      assert.ok(loc.startsWith('/') && !loc.startsWith('//') && !loc.startsWith('/\\'), `${next} → ${loc}`);
    }
    // The Referer is never where a login goes.
    assert.equal((await loginWith('', { Referer: 'https://evil.example/' })).r.headers.location, '/domains');
    // Already logged in: GET /login?next=… is held to the same rule.
    const s = await login(w.app, 'alice');
    assert.equal((await s.agent.get('/login?next=%2F%2Fevil.example')).headers.location, '/domains');
    assert.equal((await s.agent.get('/login?next=%2F%01%2Fevil.example')).headers.location, '/domains');
  });

  test('a session planted before login is worth nothing after it (new cookie, new CSRF token); logout ends it on the server', async () => {
    const { agent, page, r } = await loginWith('/domains');
    const before = csrfFrom(page.text);
    const set = ([] as string[]).concat(r.headers['set-cookie'] ?? []);
    const session = set.find((c) => c.startsWith('mh_session='))!;
    assert.match(session, /HttpOnly/);
    assert.match(session, /SameSite=Lax/);
    assert.doesNotMatch(session, /Secure/, 'plain HTTP from a client without a proxy header: no Secure (it would never come back)');
    const me = (await agent.get('/api/me').expect(200)).body as { csrf: string; user: string };
    assert.equal(me.user, 'alice');
    assert.notEqual(me.csrf, before);
    const copy = session.split(';')[0];
    await agent.post('/logout').type('form').send({ _csrf: me.csrf }).expect(303);
    assert.equal((await request(w.app).get('/api/domains').set('Cookie', copy)).status, 401, 'the cookie of before the logout is dead');
    // A logout without the token is refused and ends nothing.
    const s = await login(w.app, 'bob');
    assert.equal((await s.agent.post('/logout').type('form').send({})).status, 403);
    assert.equal((await s.agent.get('/api/me').expect(200)).body.user, 'bob');
    // GET /logout changes nothing (no state-changing GET).
    assert.notEqual((await s.agent.get('/logout')).status, 303);
    assert.equal((await s.agent.get('/api/me').expect(200)).body.user, 'bob');
  });

  test('Secure behind the TLS proxy on loopback; X-Forwarded-* believed only from loopback', async () => {
    const { r } = await loginWith('/domains', { 'X-Forwarded-Proto': 'https' });
    for (const c of ([] as string[]).concat(r.headers['set-cookie'] ?? [])) assert.match(c, /; Secure/, c);
    const fake = (peer: string | undefined, headers: Record<string, string>) =>
      ({ secure: false, socket: { remoteAddress: peer }, get: (n: string) => headers[n.toLowerCase()] }) as unknown as Request;
    const sent = { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.9, 203.0.113.7' };
    assert.equal(cameOverTls(fake('203.0.113.50', sent)), false, 'a remote peer cannot claim TLS');
    assert.equal(clientAddress(fake('203.0.113.50', sent)), '203.0.113.50', 'a remote peer cannot choose its address');
    assert.equal(cameOverTls(fake('127.0.0.1', sent)), true);
    assert.equal(clientAddress(fake('127.0.0.1', sent)), '203.0.113.7', 'the address the proxy appended, not what the browser wrote');
    assert.equal(clientAddress(fake(undefined, sent)), '203.0.113.7', 'a Unix-socket peer is the proxy');
  });
});
