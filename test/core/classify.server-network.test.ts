// A host classified this server says how: by name (this server's host name, HELO, relay host; or its addresses) —
// serverNetwork() null; the relay service's names count as the relay's, and a provider's inbound mail front (knowledge
// inboundMx) as this server's — or only because the name sits at this server's provider (the organisation of its host
// name / HELO, a knowledge-base provider this server's name belongs to) — serverNetwork() names that provider. The mx
// check reads this instead of re-deriving the rule.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { serverNetwork } from '../../src/core/classify.js';
import type { MailSettings } from '../../src/core/model.js';
import type { ZoneMap } from '../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from './checks/context.js';

const D = 'shop.example';
const relay = { provider: 'newhost', host: 'smarthost.newhost.example' };
const classifier = (settings: Partial<MailSettings> = {}, map: ZoneMap = {}) => checkContext(D, map, settings).classifier;

describe('serverNetwork: this server by name or only by its provider', () => {
  test('host name, HELO and relay host are this server by name', async () => {
    const c = classifier({ helo: 'mailout.newhost.example', relay });
    for (const h of ['server1.newhost.example', 'MAILOUT.newhost.example.', 'smarthost.newhost.example']) {
      const k = await c.host(h);
      assert.equal(k.class, 'this-server', h);
      assert.equal(serverNetwork(k), null, h);
    }
  });

  test('a host resolving to this server is this server by its addresses', async () => {
    const k = await classifier({}, { 'mx.elsewhere.example': { A: [SERVER_IP] } }).host('mx.elsewhere.example');
    assert.equal(k.class, 'this-server', k.reason);
    assert.equal(serverNetwork(k), null);
  });

  test("another name at this server's organisation: only by its provider", async () => {
    const k = await classifier().host('oldbox7.newhost.example');
    assert.equal(k.class, 'this-server', k.reason);
    assert.equal(serverNetwork(k), "this server's own provider (newhost.example)");
  });

  test("the relay service's names are this server's by name (the service the host chose for its mail); a name at this server's own organisation that the relay shares only by its provider", async () => {
    const c = classifier({ relay: { provider: 'mailchannels', host: 'relay.mailchannels.net' } });
    for (const h of ['relay.mailchannels.net', 'mx1.mailchannels.net']) {
      const k = await c.host(h);
      assert.equal(k.class, 'this-server', k.reason);
      assert.equal(serverNetwork(k), null, h);
    }
    const shared = await classifier({ relay }).host('oldbox7.newhost.example');
    assert.equal(shared.class, 'this-server', shared.reason);
    assert.equal(serverNetwork(shared), "this server's own provider (newhost.example)");
  });

  test("a name of the knowledge provider this server belongs to: only by its provider (routing local and remote), unless it is the provider's inbound mail front (knowledge inboundMx)", async () => {
    const namecheap = classifier({ hostname: 'server123.web-hosting.com', helo: 'server123.web-hosting.com' });
    const front = await namecheap.host('mx1-hosting.jellyfish.systems');
    assert.equal(front.class, 'this-server', front.reason);
    assert.equal(serverNetwork(front), null, 'Namecheap\'s inbound MX takes mail for all its servers');
    const k = await namecheap.host('server77.web-hosting.com');
    assert.equal(k.class, 'this-server', k.reason);
    assert.equal(serverNetwork(k), "this server's own provider (web-hosting.com)");
    const remote = classifier(
      { hostname: 'gator4100.hostgator.com', helo: 'gator4100.hostgator.com', routing: 'remote' },
      { [D]: { MX: [{ priority: 1, exchange: 'aspmx.l.google.com' }] } },
    );
    const r = await remote.host('gator4000.websitewelcome.com');
    assert.equal(r.class, 'this-server', r.reason);
    assert.match(serverNetwork(r) ?? '', /^this server's own provider \(HostGator/);
  });

  test('other classes carry no provider', async () => {
    const c = classifier({}, { 'mx.elsewhere.example': { A: ['192.0.2.9'] } });
    for (const h of ['aspmx.l.google.com', 'mx.elsewhere.example', 'mail.websitewelcome.com']) {
      const k = await c.host(h);
      assert.notEqual(k.class, 'this-server', h);
      assert.equal(serverNetwork(k), null, h);
    }
  });
});
