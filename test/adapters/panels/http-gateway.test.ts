// A write answered by a gateway in front of the panel (502/503/504: Plesk's nginx before its PHP, a proxy before
// cPanel), or with a 5xx that is not the panel's own answer, or by a panel CLI stopped before it exited (killed at its
// timeout, by a signal): whether the panel made the change is not known — PanelError('no-answer'), never a definite
// failure. A 4xx, and a 5xx carrying the panel's own JSON, stay answers; reads are not affected. Loopback only.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PanelHttpClient, runCommand } from '../../../src/adapters/panels/http.js';
import { rejectsWith } from '../../helpers/panel-errors.js';

/** A server answering every request with the status and body the path asks for: /<status>/<json|html|empty>. */
let srv: http.Server;
let client: PanelHttpClient;
before(async () => {
  srv = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const [, status, kind] = (req.url ?? '').split('/');
      if (kind === 'json') res.writeHead(Number(status), { 'content-type': 'application/json' }).end(JSON.stringify({ code: Number(status), message: 'the panel says no' }));
      else if (kind === 'html') res.writeHead(Number(status), { 'content-type': 'text/html' }).end(`<html><h1>${status} Gateway Time-out</h1></html>`);
      else res.writeHead(Number(status)).end();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  client = new PanelHttpClient({ baseUrl: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, label: 'Plesk', timeoutMs: 2000 });
});
after(() => {
  srv.closeAllConnections();
  srv.close();
});

const write = (path: string, panelAnswer?: (json: unknown) => boolean) => client.request({ method: 'POST', path, json: { params: [] }, write: true, ...(panelAnswer ? { panelAnswer } : {}) });

describe('PanelHttpClient: a write the panel itself did not answer is no-answer', () => {
  it('502, 503 and 504 from a gateway → no-answer, whatever the body; the message names the status', async () => {
    for (const s of [502, 503, 504]) {
      for (const kind of ['html', 'json', 'empty']) await rejectsWith(write(`/${s}/${kind}`), 'no-answer', new RegExp(`did not answer the write itself \\(HTTP ${s} from a gateway`));
    }
  });

  it('another 5xx: no-answer unless the body is the panel’s answer (then it is returned for the adapter to judge)', async () => {
    await rejectsWith(write('/500/html'), 'no-answer', /HTTP 500, not the panel's answer/);
    await rejectsWith(write('/500/empty'), 'no-answer');
    assert.equal((await write('/500/json')).status, 500);
    // An adapter's own test of its envelope: JSON that is not it is no answer either.
    await rejectsWith(write('/500/json', (j) => typeof (j as { status?: unknown }).status === 'number'), 'no-answer');
  });

  it('a 2xx whose body is not the panel’s answer: no-answer when the adapter says what its answer is; else returned', async () => {
    await rejectsWith(write('/200/html', (j) => !!j && typeof j === 'object'), 'no-answer', /HTTP 200/);
    assert.equal((await write('/200/json', (j) => !!j && typeof j === 'object')).status, 200);
    assert.equal((await write('/200/html')).status, 200);
  });

  it('a 4xx stays an answer (a definite refusal), also without the panel’s JSON; 401/403 stay auth', async () => {
    for (const kind of ['html', 'json', 'empty']) assert.equal((await write(`/400/${kind}`)).status, 400);
    assert.equal((await write('/413/html')).status, 413);
    assert.equal((await write('/404/json')).status, 404);
    await rejectsWith(write('/403/html'), 'auth');
  });

  it('reads are not affected: a 504 to a read is returned as it is', async () => {
    assert.equal((await client.request({ method: 'GET', path: '/504/html' })).status, 504);
    assert.equal((await client.request({ method: 'POST', path: '/502/html', form: new URLSearchParams([['zone', 'a.example']]) })).status, 502);
  });

  it('an answer to a write that is not HTTP at all (the connection answered garbage) → no-answer; to a read → unreachable', async (t) => {
    const junk = net.createServer((s) => s.once('data', () => s.end('this is not HTTP\r\n\r\n')));
    await new Promise<void>((r) => junk.listen(0, '127.0.0.1', () => r()));
    t.after(() => junk.close());
    const c = new PanelHttpClient({ baseUrl: `http://127.0.0.1:${(junk.address() as AddressInfo).port}`, label: 'cPanel', timeoutMs: 2000 });
    await rejectsWith(c.request({ method: 'POST', path: '/execute/DNS/mass_edit_zone', form: new URLSearchParams([['zone', 'a.example']]), write: true }), 'no-answer');
    await rejectsWith(c.request({ method: 'POST', path: '/execute/DNS/parse_zone', form: new URLSearchParams([['zone', 'a.example']]) }), 'unreachable');
  });
});

describe('runCommand: a write whose child was stopped before it exited is no-answer', () => {
  let dir: string;
  const script = (name: string, body: string) => {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mh-runcommand-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('killed at its timeout: a write → no-answer (naming the timeout); a read → other', async () => {
    const slow = script('slow', 'echo started\nexec sleep 5');
    await rejectsWith(runCommand(slow, [], { timeoutMs: 150, write: true }), 'no-answer', /did not answer: killed \(SIGTERM\) after the 0\.15 s timeout/);
    await rejectsWith(runCommand(slow, [], { timeoutMs: 150 }), 'other');
  });

  it('killed by a signal (after doing its work): a write → no-answer; a read → other', async () => {
    const killed = script('killed', 'echo \'{"code":0}\'\nkill -KILL $$');
    await rejectsWith(runCommand(killed, [], { write: true }), 'no-answer', /killed by SIGKILL/);
    await rejectsWith(runCommand(killed, [], {}), 'other');
  });

  it('an exit code is an answer: returned, not thrown, for a write too; a missing executable is unreachable', async () => {
    const r = await runCommand(script('exit3', 'echo nope >&2\nexit 3'), [], { write: true });
    assert.deepEqual(r, { code: 3, stdout: '', stderr: 'nope\n' });
    await rejectsWith(runCommand(join(dir, 'missing'), [], { write: true }), 'unreachable');
  });
});
