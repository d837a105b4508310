// Review r1 items 4 and 5.
// 4: Plesk's REST front to `plesk bin` (/api/v2/cli/<utility>/call) sends nothing until the utility exits, so the
// client's idle limit (30 s) cut a slow `plesk bin dns` write off as "no answer" — outcome unknown — where a local run
// of the same command gets 120 s. A request can now give its own idle limit for the wait for its answer
// (answerWaitMs; PleskRestCli gives COMMAND_TIMEOUT_MS); the connection and an answer that has begun keep the client's,
// and the overall deadline still ends the call.
// 5: a panel URL whose password holds a stray "%" ("admin:50%off@…") crashed the client's constructor with a URIError
// (not a PanelError), and Node's own decoding of the URL's credentials failed every request: the password is now
// sent as written when it does not decode.
//
// Loopback servers on port 0. No test waits for a wall-clock amount: the slow answer is held until a request with
// the client's (short) idle limit, sent after it, has given up — so a CLI call still under that limit would have
// given up first.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as httpModule from '../../../src/adapters/panels/http.js';
import { PanelHttpClient, redactSecrets, REDACTED, runCommand } from '../../../src/adapters/panels/http.js';
import { PleskRestCli } from '../../../src/adapters/panels/plesk/index.js';
import { PanelError } from '../../../src/core/panel.js';

/** CLI calls waiting for their answer: the test releases them. */
const held: http.ServerResponse[] = [];
let heldSeen: () => void = () => undefined;
let srv: http.Server;
let base: string;
let tlsSrv: https.Server;
let tlsBase: string;
let lastAuth: string | undefined;

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  lastAuth = req.headers.authorization;
  const path = (req.url ?? '').replace(/\?.*$/, '');
  // Read the whole request first: the CLI call counts as "sent" only once the server has it all.
  req.resume();
  req.on('end', () => {
    if (path === '/api/v2/cli/dns/call') {
      held.push(res);
      heldSeen();
    } else if (path === '/api/v2/cli/stall/call') {
      // The answer begins, then nothing more: the client's idle limit applies again.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"code":0,');
    } else if (path === '/silent') {
      // Never answered (the probe).
    } else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
}

before(async () => {
  srv = http.createServer(handler);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  // The same over TLS (a self-signed certificate): the wait begins once the handshake is done.
  const dir = mkdtempSync(join(tmpdir(), 'mh-answer-wait-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  tlsSrv = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, handler);
  rmSync(dir, { recursive: true, force: true });
  await new Promise<void>((r) => tlsSrv.listen(0, '127.0.0.1', () => r()));
  tlsBase = `https://127.0.0.1:${(tlsSrv.address() as AddressInfo).port}`;
});
after(() => {
  for (const r of held) r.destroy();
  for (const s of [srv, tlsSrv]) {
    s.closeAllConnections();
    s.close();
  }
});

const nextHeld = () => new Promise<void>((r) => (heldSeen = r));
const answer = (res: http.ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 0, stdout: 'SUCCESS', stderr: '' }));

async function settled<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await p };
  } catch (error) {
    return { ok: false, error };
  }
}

describe('PleskRestCli: Plesk answers only when the utility has exited', () => {
  for (const scheme of ['http', 'https']) {
    it(`a \`plesk bin dns\` call still running past the client's idle limit is answered, not "no answer" (${scheme})`, async () => {
      const client = new PanelHttpClient({ baseUrl: scheme === 'https' ? tlsBase : base, insecure: true, label: 'Plesk', headers: { 'x-api-key': 'k'.repeat(36) }, timeoutMs: 100 });
      const seen = nextHeld();
      const call = settled(new PleskRestCli(client).run('dns', ['--add', 'example.com', '-txt', 'v=spf1 -all']));
      await seen; // Plesk has the whole request and is "running the utility"
      // A request sent after it, under the client's own idle limit, gives up: the CLI call has now been waiting
      // longer than that limit.
      const probe = await settled(client.request({ path: '/silent' }));
      assert.ok(!probe.ok && probe.error instanceof PanelError && /sent no answer within 0\.1 s/.test(probe.error.message), String(!probe.ok && probe.error));
      answer(held.shift()!);
      const got = await call;
      assert.ok(got.ok, `the call gave up before Plesk answered: ${!got.ok ? String(got.error) : ''}`);
      assert.deepEqual(got.value, { code: 0, stdout: 'SUCCESS', stderr: '' });
    });
  }

  it('the wait is what a local run of the utility gets', () => {
    // A namespace read: the old module has no such export, and this test fails rather than the file.
    assert.equal((httpModule as Record<string, unknown>).COMMAND_TIMEOUT_MS, 120_000);
  });

  it('an answer that begins and then stalls is cut at the client\'s idle limit (no-answer: a write)', async () => {
    const client = new PanelHttpClient({ baseUrl: base, label: 'Plesk', timeoutMs: 100 });
    const got = await settled(new PleskRestCli(client).run('stall', []));
    assert.ok(!got.ok && got.error instanceof PanelError, String(!got.ok && got.error));
    assert.equal(got.error.code, 'no-answer');
    assert.match(got.error.message, /stopped sending its answer: nothing came for 0\.1 s/);
  });

  it('the overall deadline still ends a call Plesk never answers (no-answer: whether it ran is not known)', async () => {
    const client = new PanelHttpClient({ baseUrl: base, label: 'Plesk', timeoutMs: 50, deadlineMs: 300 });
    const seen = nextHeld();
    const call = settled(new PleskRestCli(client).run('dns', ['--del', 'example.com', '-txt', 'x']));
    await seen;
    const got = await call;
    assert.ok(!got.ok && got.error instanceof PanelError, String(!got.ok && got.error));
    assert.equal(got.error.code, 'no-answer');
    assert.match(got.error.message, /did not finish answering within 0\.3 s \(it took the request and sent nothing\)/);
    held.shift()?.destroy();
  });

  it('other requests keep the client\'s idle limit for the wait', async () => {
    const client = new PanelHttpClient({ baseUrl: base, label: 'Plesk', timeoutMs: 100 });
    const got = await settled(client.request({ path: '/silent' }));
    assert.ok(!got.ok && got.error instanceof PanelError);
    assert.match(got.error.message, /accepted the connection but sent no answer within 0\.1 s/);
  });

  it('a local run keeps its 120 s (runCommand): a missing executable is still unreachable at once', async () => {
    await assert.rejects(runCommand('/nonexistent/plesk', ['bin', 'dns']), (e: unknown) => e instanceof PanelError && e.code === 'unreachable');
  });
});

describe('a panel URL whose password holds a stray "%"', () => {
  it('the client is made (no URIError), as before', () => {
    assert.doesNotThrow(() => new PanelHttpClient({ baseUrl: 'https://admin:50%off@panel.example:8443', label: 'Plesk' }));
  });

  it('the password is sent as written, and kept out of messages', async () => {
    const c = new PanelHttpClient({ baseUrl: base.replace('//', '//admin:s3cret%zz-50%off@'), label: 'Plesk' });
    const r = await c.request({ path: '/ok' });
    assert.deepEqual(r.json, { ok: true });
    assert.equal(Buffer.from((lastAuth ?? '').replace(/^Basic /, ''), 'base64').toString('utf8'), 'admin:s3cret%zz-50%off');
    assert.equal(redactSecrets('echo: s3cret%zz-50%off'), `echo: ${REDACTED}`);
  });

  it('a password that does decode is sent decoded, as Node sends it', async () => {
    const c = new PanelHttpClient({ baseUrl: base.replace('//', '//admin:p%C3%A4ss%40word@'), label: 'Plesk' });
    await c.request({ path: '/ok' });
    assert.equal(Buffer.from((lastAuth ?? '').replace(/^Basic /, ''), 'base64').toString('utf8'), 'admin:päss@word');
  });
});
