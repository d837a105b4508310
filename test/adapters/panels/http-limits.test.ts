// PanelHttpClient against panels that answer badly (QA h3 D5, D6, D16): an answer that trickles in for ever ends at
// the overall deadline (a write's then unknown outcome is no-answer); a panel that took the connection and sends nothing
// is said as such, not "unreachable"; an answer past the size cap fails unread (a huge one crashed the process); a
// redirect (to a login page) or an empty / login-page 200 says what came, with its HTTP status. Loopback servers on
// port 0. The limits are set small here; a guard ends a request the old client never would have ended, so a test fails
// instead of hanging — the new client answers long before it.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { UapiHttp } from '../../../src/adapters/panels/cpanel/uapi.js';
import * as httpModule from '../../../src/adapters/panels/http.js';
import { PanelHttpClient, type HttpClientOptions } from '../../../src/adapters/panels/http.js';
import { PanelError } from '../../../src/core/panel.js';
import { rejectsWith } from '../../helpers/panel-errors.js';

/** Path → how the server answers. */
const routes: Record<string, (req: http.IncomingMessage, res: http.ServerResponse) => void> = {
  // Headers, then a byte every 5 ms for ever (until the client goes).
  '/trickle': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"status":1,"data":[');
    const t = setInterval(() => res.write(' '), 5);
    res.on('close', () => clearInterval(t));
  },
  // Takes the request, never answers.
  '/silent': () => undefined,
  // Starts an answer, then drops the connection.
  '/cut': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
    res.write('{"status":1,');
    setImmediate(() => res.socket?.destroy());
  },
  // 10 KB of "a".
  '/big': (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('a'.repeat(10_240)),
  // Declares a gigabyte, sends a little, then nothing.
  '/declared-huge': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(1024 ** 3) });
    res.write('{"status":1,"data":"');
  },
  '/redirect': (_req, res) => res.writeHead(302, { location: 'https://panel.example:2083/cpsess0123456789/login/?goto_uri=%2Fexecute&session=abc', 'content-type': 'text/html' }).end('<a href="/login/">moved</a>'),
  '/empty': (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(),
  '/login': (_req, res) =>
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end('<!DOCTYPE html><html><head><title>cPanel Login</title></head><body><form action="/login/?login_only=1" method="post"><input name="user"><input name="pass" type="password"></form></body></html>'),
};

let srv: http.Server;
let base: string;
before(async () => {
  srv = http.createServer((req, res) => {
    req.resume();
    const path = (req.url ?? '').replace(/^\/execute\/[^/]+/, '').replace(/\?.*$/, '');
    (routes[path] ?? routes[(req.url ?? '').replace(/\?.*$/, '')] ?? ((_q, r) => r.writeHead(404).end()))(req, res);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
});
after(() => {
  srv.closeAllConnections();
  srv.close();
});

const client = (opts: Partial<HttpClientOptions> = {}) => new PanelHttpClient({ baseUrl: base, label: 'cPanel', ...opts } as HttpClientOptions);

/** The request's outcome, or 'still running' once the guard has waited (only an old client gets there). */
async function settled(p: Promise<unknown>, guardMs = 5_000): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise((r) => (timer = setTimeout(() => r('still running'), guardMs)));
  try {
    return await Promise.race([p.then((v) => ({ resolved: v }), (e: unknown) => e), guard]);
  } finally {
    clearTimeout(timer);
  }
}

function assertPanelError(got: unknown, code: PanelError['code'], re: RegExp): PanelError {
  assert.ok(got instanceof PanelError, `a PanelError, got ${got instanceof Error ? got.stack : JSON.stringify(got)?.slice(0, 300)}`);
  assert.equal(got.code, code, got.message);
  assert.match(got.message, re);
  return got;
}

describe('PanelHttpClient: an overall deadline per request (QA h3 D5)', () => {
  it('a trickling answer ends at the deadline: a read is unreachable, a write no-answer (its outcome is not known)', async () => {
    const c = client({ deadlineMs: 500, timeoutMs: 10_000 } as Partial<HttpClientOptions>);
    assertPanelError(await settled(c.request({ method: 'GET', path: '/trickle' })), 'unreachable', /^cPanel at 127\.0\.0\.1:\d+ did not finish answering within 0\.5 s \(its answer kept trickling in\)$/);
    assertPanelError(await settled(c.request({ method: 'POST', path: '/trickle', form: new URLSearchParams([['zone', 'a.example']]), write: true })), 'no-answer', /did not finish answering within 0\.5 s/);
  });

  it('the default deadline is 120 s — the local CLI cap and one domain-lock lease — above the 30 s idle limit', () => {
    const m = httpModule as Record<string, unknown>;
    assert.equal(m.PANEL_DEADLINE_MS, 120_000);
    assert.equal(m.IDLE_TIMEOUT_MS, 30_000);
  });
});

describe('PanelHttpClient: what a panel that answers badly is said to have done (QA h3 D5, D16)', () => {
  it('took the connection and sent nothing: "accepted the connection but sent no answer", not "unreachable"', async () => {
    const got = assertPanelError(await settled(client({ timeoutMs: 300 }).request({ method: 'GET', path: '/silent' })), 'unreachable', /^cPanel at 127\.0\.0\.1:\d+ accepted the connection but sent no answer within 0\.3 s$/);
    assert.doesNotMatch(got.message, /is unreachable/);
  });

  it('dropped the connection in the middle of its answer: said so', async () => {
    assertPanelError(await settled(client().request({ method: 'GET', path: '/cut' })), 'unreachable', /dropped the connection in the middle of its answer \(ECONNRESET\)/);
  });

  it('a redirect (to a login page) is no answer: the status and where it points, without the session token or query', async () => {
    const got = assertPanelError(
      await settled(client().request({ method: 'GET', path: '/redirect' })),
      'other',
      /^cPanel at 127\.0\.0\.1:\d+ answered HTTP 302, a redirect to "https:\/\/panel\.example:2083\/cpsess…\/login\/" \(a login page\), instead of its API's answer/,
    );
    assert.doesNotMatch(got.message, /0123456789|session=abc/);
    assertPanelError(await settled(client().request({ method: 'POST', path: '/redirect', json: {}, write: true })), 'no-answer', /did not answer the write itself \(HTTP 302, a redirect to/);
  });

  it('UAPI: an empty 200 or a login page says so, with the HTTP status', async () => {
    const uapi = new UapiHttp(client());
    await rejectsWith(uapi.call('X', 'empty'), 'other', /^cPanel X::empty: unexpected answer \(not a UAPI envelope: HTTP 200 with an empty body\)$/);
    await rejectsWith(uapi.call('X', 'login'), 'other', /^cPanel X::login: unexpected answer \(not a UAPI envelope: HTTP 200 with a login page\)$/);
  });
});

describe('PanelHttpClient: answers past the size cap fail unread (QA h3 D6)', () => {
  it('a body past the cap: PanelError other (a write: no-answer), not a crash', async () => {
    const c = client({ maxBodyBytes: 4096 } as Partial<HttpClientOptions>);
    assertPanelError(await settled(c.request({ method: 'GET', path: '/big' })), 'other', /^cPanel at 127\.0\.0\.1:\d+ sent no usable answer: its answer \(HTTP 200\) is larger than 4096 bytes/);
    assertPanelError(await settled(c.request({ method: 'POST', path: '/big', json: {}, write: true })), 'no-answer', /larger than/);
  });

  it('a declared length past the default cap (64 MB) fails at once, before a byte of it is held', async () => {
    assert.equal((httpModule as Record<string, unknown>).MAX_ANSWER_BYTES, 64 * 1024 * 1024);
    assertPanelError(await settled(client({ timeoutMs: 3_000 }).request({ method: 'GET', path: '/declared-huge' })), 'other', /is larger than 64 MB, far more than any answer of the panel's API; it was not read/);
  });
});
