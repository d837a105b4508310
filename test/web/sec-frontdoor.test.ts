// HTTP-level QA of the panel front doors: what a browser's headers may make the app believe through a CGI, and the
// headers of the front door's own refusals.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import { demoWorld, type TestWorld } from './helpers.js';
import { cgiRequestFromEnv, dispatchInProcess, formatCgi, rebase, refusal } from '../../src/web/cgi.js';
import { cameOverTls, clientAddress } from '../../src/web/session.js';
import { parseCgi } from '../helpers/cgi.js';

/** What a panel's web server passes a CGI, plus the headers a browser chose (HTTP_*). */
const cgiEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  REQUEST_METHOD: 'GET',
  PATH_INFO: '/',
  REMOTE_ADDR: '198.51.100.7',
  ...extra,
});

describe('front doors over HTTP', () => {
  test('forwarding headers a browser sends never reach the app: the address and TLS are what the panel saw', async () => {
    // A stand-in app that says what the session code makes of the request (the address a login limit would key on,
    // and whether its cookies would be Secure): the front door talks to it over a Unix socket, as a local proxy would.
    const app = express();
    app.get('/', (req, res) => res.json({ address: clientAddress(req), tls: cameOverTls(req), host: req.get('x-forwarded-host') ?? null }));
    const forged = { HTTP_X_FORWARDED_FOR: '203.0.113.66', HTTP_X_FORWARDED_PROTO: 'https', HTTP_X_FORWARDED_HOST: 'evil.example', HTTP_FORWARDED: 'for=203.0.113.66;proto=https', HTTP_X_REAL_IP: '203.0.113.66' };
    const plain = await dispatchInProcess(app, cgiRequestFromEnv(cgiEnv(forged), Buffer.alloc(0)));
    assert.deepEqual(JSON.parse(plain.body.toString()), { address: '198.51.100.7', tls: false, host: null });
    const tls = await dispatchInProcess(app, cgiRequestFromEnv(cgiEnv({ ...forged, HTTPS: 'on' }), Buffer.alloc(0)));
    assert.deepEqual(JSON.parse(tls.body.toString()), { address: '198.51.100.7', tls: true, host: null });
    const req = cgiRequestFromEnv(cgiEnv({ ...forged, REMOTE_ADDR: 'not-an-address' }), Buffer.alloc(0));
    for (const h of ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'x-real-ip']) assert.equal(req.headers[h], undefined, h);
  });

  describe('the real app behind a front door', () => {
    let w: TestWorld;
    before(async () => {
      w = await demoWorld({ app: { identityFrom: 'front-door', frontDoor: () => ({ user: 'alice', role: 'customer' }) } });
    });
    after(async () => w.close());

    test('a browser claiming TLS over plain HTTP does not get a Secure cookie it would never send back', async () => {
      const res = rebase(await dispatchInProcess(w.app, cgiRequestFromEnv(cgiEnv({ PATH_INFO: '/domains', HTTP_X_FORWARDED_PROTO: 'https' }), Buffer.alloc(0))), '/cpsess0123456789/frontend/jupiter/mailhealth/index.live.cgi');
      assert.equal(res.status, 200);
      const cookies = res.headers.filter(([k]) => k.toLowerCase() === 'set-cookie').map(([, v]) => v);
      assert.ok(cookies.length > 0);
      for (const c of cookies) assert.doesNotMatch(c, /Secure/, c);
      const h = (n: string) => res.headers.find(([k]) => k.toLowerCase() === n)?.[1];
      // Shown inside the panel's own frames (same origin as the panel): framing by the panel stays allowed, by other sites not.
      assert.match(String(h('content-security-policy')), /frame-ancestors 'self'/);
      assert.equal(h('x-frame-options'), 'SAMEORIGIN');
      assert.equal(h('referrer-policy'), 'same-origin', 'the /cpsess… token in the page URL never goes to another site');
      assert.equal(h('cache-control'), 'no-store');
      assert.equal(h('x-content-type-options'), 'nosniff');
    });
  });

  test("a front door's refusal is plain text that is never sniffed, nor cached", () => {
    const out = parseCgi(formatCgi(refusal(403, 'REMOTE_USER (<script>alert(1)</script>) is not the user this page runs as (alice)')));
    assert.equal(out.status, 403);
    assert.equal(out.header('content-type'), 'text/plain; charset=utf-8');
    assert.equal(out.header('x-content-type-options'), 'nosniff');
    assert.equal(out.header('cache-control'), 'no-store');
  });
});
