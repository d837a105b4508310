// A panel (or a proxy in front of it) that echoes the request in an error page puts the client's own credentials into
// the answer (QA h3 D4: `cpanel alice:tok-alice`, `whm root:tok-root`, the Plesk key in findings, stored and shown).
// Every error text built from an answer leaves them out — the client's own messages and errorText, which the adapters
// build theirs with —, wherever in the text they stand; so does a panel URL's password in checkPanelUrl's message.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { UapiHttp } from '../../../src/adapters/panels/cpanel/uapi.js';
import { checkPanelUrl, errorText, PanelHttpClient } from '../../../src/adapters/panels/http.js';
import { WhmHttp } from '../../../src/adapters/panels/whm/index.js';
import { PanelError } from '../../../src/core/panel.js';

const CPANEL_TOKEN = 'U7Q2WZ0E5J4M3K9X1B8N6V2C7L0P4R5T';
const WHM_TOKEN = 'H2J8K4L6M0N1B3V5C7X9Z2A4S6D8F0G1';
const PLESK_KEY = 'c5b239d1-8eb6-8cee-76b7-0123456789ab';
const BASIC_PASSWORD = 'correct-horse-battery';

/** Every request answered with an error page (or JSON) that echoes its headers, padded so the echo sits past 200 characters. */
let srv: http.Server;
let base: string;
before(async () => {
  srv = http.createServer((req, res) => {
    req.resume();
    const echo = Object.entries(req.headers)
      .map(([k, v]) => `${k}: ${String(v)}`)
      .join('\n');
    const url = req.url ?? '';
    if (/envelope/i.test(url)) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 0, errors: [`Access denied for ${String(req.headers.authorization)}`], data: null }));
    else if (url.includes('json')) res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: `bad request with ${echo}` }));
    else if (url.includes('auth')) res.writeHead(401, { 'content-type': 'text/html' }).end(`<html><body><pre>${echo}</pre></body></html>`);
    else res.writeHead(500, { 'content-type': 'text/html' }).end(`<html><body><h1>Error</h1><p>${'x'.repeat(150)}</p><pre>${echo}</pre></body></html>`);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
});
after(() => {
  srv.closeAllConnections();
  srv.close();
});

const SECRETS = [CPANEL_TOKEN, WHM_TOKEN, PLESK_KEY, BASIC_PASSWORD, Buffer.from(`admin:${BASIC_PASSWORD}`).toString('base64')];

function assertClean(text: string): void {
  for (const s of SECRETS) {
    assert.ok(!text.includes(s), `a credential in: ${text}`);
    // No part of one either (a text cut in the middle of a token).
    assert.ok(!text.includes(s.slice(0, 8)), `part of a credential in: ${text}`);
  }
}

async function messageOf(p: Promise<unknown>): Promise<string> {
  try {
    const v = await p;
    return JSON.stringify(v);
  } catch (e) {
    assert.ok(e instanceof PanelError, String(e));
    return e.message;
  }
}

describe('credentials a panel echoes never reach a message (QA h3 D4)', () => {
  it('cPanel: the UAPI error for an HTTP 500 page echoing "Authorization: cpanel alice:TOKEN"', async () => {
    const uapi = new UapiHttp(new PanelHttpClient({ baseUrl: base, label: 'cPanel', headers: { authorization: `cpanel alice:${CPANEL_TOKEN}` } }));
    const m = await messageOf(uapi.call('DNS', 'parse_zone', [['zone', 'alice.example']]));
    assert.match(m, /^cPanel DNS::parse_zone: HTTP 500: Error x+ accept: application\/json authorization: \[re/);
    assertClean(m);
  });

  it('cPanel: a UAPI error envelope quoting the header', async () => {
    const uapi = new UapiHttp(new PanelHttpClient({ baseUrl: base, label: 'cPanel', headers: { authorization: `cpanel alice:${CPANEL_TOKEN}` } }));
    const r = await uapi.call('Envelope', 'echo');
    assert.equal(r.ok, false);
    assert.deepEqual(r.errors, ['Access denied for [redacted]']);
  });

  it('WHM: the same through WhmHttp ("whm root:TOKEN"), and a 401 echo', async () => {
    const client = new PanelHttpClient({ baseUrl: base, label: 'WHM', headers: { authorization: `whm root:${WHM_TOKEN}` } });
    assertClean(await messageOf(new WhmHttp(client).call('parse_dns_zone', [['zone', 'alice.example']])));
    const auth = await messageOf(client.request({ method: 'GET', path: '/auth' }));
    assert.match(auth, /^WHM refused the credentials \(HTTP 401\)/);
    assertClean(auth);
  });

  it('Plesk: the API key, in the client header and in a request header (the XML API’s KEY), through errorText', async () => {
    const client = new PanelHttpClient({ baseUrl: base, label: 'Plesk', headers: { 'x-api-key': PLESK_KEY } });
    const res = await client.request({ method: 'GET', path: '/api/v2/domains' });
    assertClean(errorText(res.json, res.text));
    const json = await client.request({ method: 'GET', path: '/json' });
    assert.match(errorText(json.json, json.text), /x-api-key: \[redacted\]/);
    const keyed = new PanelHttpClient({ baseUrl: base, label: 'Plesk' });
    const xml = await keyed.request({ method: 'POST', path: '/enterprise/control/agent.php', headers: { KEY: PLESK_KEY }, body: { contentType: 'text/xml', text: '<packet/>' } });
    assertClean(errorText(xml.json, xml.text));
    // A write the panel did not answer itself: the client's own message.
    assertClean(await messageOf(client.request({ method: 'POST', path: '/write', json: {}, write: true })));
  });

  it('Basic authentication: neither the header value nor the password inside it', async () => {
    const client = new PanelHttpClient({ baseUrl: base, label: 'panel', headers: { authorization: `Basic ${Buffer.from(`admin:${BASIC_PASSWORD}`).toString('base64')}` } });
    const res = await client.request({ method: 'GET', path: '/json' });
    assert.match(errorText(res.json, res.text), /authorization: \[redacted\]/);
    assertClean(errorText(res.json, res.text));
    assertClean(errorText(undefined, `the password was ${BASIC_PASSWORD}`));
  });

  it('checkPanelUrl: an invalid URL is quoted without its user and password', () => {
    for (const url of [`https://root:${BASIC_PASSWORD}@panel.example:99999/`, `https://root:pa/ss@${BASIC_PASSWORD}@bad host/`, `//root:${BASIC_PASSWORD}@panel.example`]) {
      assert.throws(
        () => checkPanelUrl(url),
        (e: unknown) => e instanceof PanelError && /is not a valid URL/.test(e.message) && !e.message.includes(BASIC_PASSWORD) && e.message.includes('[redacted]@'),
      );
    }
    // Valid URLs are refused without quoting them at all.
    for (const url of [`http://root:${BASIC_PASSWORD}@panel.example:2087/`, `ftp://root:${BASIC_PASSWORD}@panel.example/`, `root:${BASIC_PASSWORD}@panel.example`]) {
      assert.throws(() => checkPanelUrl(url), (e: unknown) => e instanceof PanelError && !e.message.includes(BASIC_PASSWORD));
    }
  });
});
