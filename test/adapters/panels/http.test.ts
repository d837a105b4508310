// PanelHttpClient: a write that went out and got no answer is 'no-answer' (whether the panel acted is not known);
// a read that times out, or a panel that cannot be reached at all, is 'unreachable'. Loopback only; the timeout is
// a few ms against a server that never answers (no wall-clock assertion).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { PanelHttpClient } from '../../../src/adapters/panels/http.js';
import { PanelError } from '../../../src/core/panel.js';

test('no answer to a write → no-answer; to a read, or nobody listening → unreachable', async (t) => {
  const silent = http.createServer(() => undefined); // takes every request, never answers
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    silent.closeAllConnections();
    silent.close();
  });
  const port = (silent.address() as AddressInfo).port;
  const client = new PanelHttpClient({ baseUrl: `http://127.0.0.1:${port}`, label: 'cPanel', timeoutMs: 50 });
  const code = async (p: Promise<unknown>) => {
    try {
      await p;
      return 'ok';
    } catch (e) {
      assert.ok(e instanceof PanelError, String(e));
      return e.code;
    }
  };
  assert.equal(await code(client.request({ method: 'POST', path: '/execute/DNS/mass_edit_zone', form: new URLSearchParams([['zone', 'a.example']]), write: true })), 'no-answer');
  assert.equal(await code(client.request({ method: 'GET', path: '/execute/DNS/parse_zone' })), 'unreachable');
  // A read sent as a POST form (UAPI and WHM send every call so) is not a write.
  assert.equal(await code(client.request({ method: 'POST', path: '/execute/DNS/parse_zone', form: new URLSearchParams([['zone', 'a.example']]) })), 'unreachable');
  // Nobody listening: refused before anything was sent.
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
  const deadPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const dead = new PanelHttpClient({ baseUrl: `http://127.0.0.1:${deadPort}`, label: 'cPanel', timeoutMs: 50 });
  assert.equal(await code(dead.request({ method: 'POST', path: '/x', json: {} })), 'unreachable');
});
