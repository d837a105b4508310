// Whether an MX host is this server: its name is this server's (host name, HELO, relay host), or its addresses are.
// A name that is this server's only because it sits at this server's provider — its organisation, or a provider
// fingerprint of the knowledge base this server's name matches — is another machine there unless its addresses are this
// server's; the relay service's names and a provider's inbound mail front (knowledge inboundMx) are this server's. The mx check takes that from the classifier's verdict
// (serverNetwork), not from a rule of its own that could disagree with it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mxCheck } from '../../../src/core/checks/mx.js';
import type { Finding, MailSettings } from '../../../src/core/model.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from './context.js';

const D = 'shop.example';
const rules = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.subject ? ` [${f.subject}]` : ''}`);
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}: ${f.message}`).join('\n');
const GO_REMOTE = /Set the panel's mail routing to remote\./;
const mxAt = (host: string, a: string[], extra: ZoneMap = {}): ZoneMap => ({ [D]: { MX: [{ priority: 10, exchange: host }] }, [host]: { A: a }, ...extra });
const at = (hostname: string, more: Partial<MailSettings> = {}): Partial<MailSettings> => ({ hostname, helo: hostname, ...more });

/** The mx check saw another machine of this server's provider: unknown host, no mx.ok, conditional routing advice. */
function assertOtherMachine(fs: Finding[], host: string, ip: string): void {
  assert.ok(!fs.some((f) => f.rule === 'mx.ok'), show(fs));
  const h = fs.find((f) => f.rule === 'mx.host' && f.subject === host);
  assert.equal(h?.classification?.class, 'unknown', show(fs));
  assert.match(h.classification.reason, /another machine there/);
  assert.ok(h.classification.reason.includes(ip), h.classification.reason);
  const w = fs.find((f) => f.rule === 'mx.routing-mismatch');
  assert.ok(w && w.severity === 'warn', show(fs));
  assert.ok(w.message.includes(ip), w.message);
  assert.match(w.message, /another machine of this server's provider/);
  assert.doesNotMatch(w.message, GO_REMOTE);
}

describe("defect 2: an MX this server only through the knowledge of this server's provider", () => {
  test("server123.web-hosting.com (Namecheap), MX mx1-hosting.jellyfish.systems: Namecheap's inbound mail front (knowledge inboundMx) — this server at any address; another Namecheap server: another machine", async () => {
    const front = await mxCheck(checkContext(D, mxAt('mx1-hosting.jellyfish.systems', ['198.54.122.60']), at('server123.web-hosting.com')));
    assert.deepEqual(rules(front), ['info mx.host [mx1-hosting.jellyfish.systems]', 'pass mx.ok'], show(front));
    const fs = await mxCheck(checkContext(D, mxAt('server77.web-hosting.com', ['198.54.116.77']), at('server123.web-hosting.com')));
    assertOtherMachine(fs, 'server77.web-hosting.com', '198.54.116.77');
    const mine = await mxCheck(checkContext(D, mxAt('server77.web-hosting.com', [SERVER_IP]), at('server123.web-hosting.com')));
    assert.deepEqual(rules(mine), ['info mx.host [server77.web-hosting.com]', 'pass mx.ok'], show(mine));
  });

  test("relay through MailChannels: an MX at MailChannels (its inbound filtering, the host's chosen mail service) stays this server's", async () => {
    const fs = await mxCheck(checkContext(D, mxAt('mx1.mailchannels.net', ['198.2.128.1']), { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net' } }));
    assert.deepEqual(rules(fs), ['info mx.host [mx1.mailchannels.net]', 'pass mx.ok'], show(fs));
  });

  test('gator4100.hostgator.com, MX gator4000.websitewelcome.com (HostGator, another organisation) elsewhere: another machine', async () => {
    const fs = await mxCheck(checkContext(D, mxAt('gator4000.websitewelcome.com', ['192.185.1.10']), at('gator4100.hostgator.com')));
    assertOtherMachine(fs, 'gator4000.websitewelcome.com', '192.185.1.10');
  });

  test("the same, the address's PTR at a previous host (a zone trace): mx.stale", async () => {
    const map = mxAt('gator4000.websitewelcome.com', ['192.185.1.10'], { '10.1.185.192.in-addr.arpa': { PTR: ['box.oldhost.test'] } });
    const records = [{ name: D, ttl: 300, type: 'NS', value: 'ns1.oldhost.test' }];
    const fs = await mxCheck(checkContext(D, map, at('gator4100.hostgator.com'), records));
    assert.deepEqual(rules(fs), ['fail mx.stale [gator4000.websitewelcome.com]'], show(fs));
  });

  test("the same, the address's PTR lookup times out: unknown (mx.dns-error), never this server or fail", async () => {
    const map = mxAt('gator4000.websitewelcome.com', ['192.185.1.10'], { '10.1.185.192.in-addr.arpa': { PTR: 'TIMEOUT' } });
    const fs = await mxCheck(checkContext(D, map, at('gator4100.hostgator.com')));
    assert.deepEqual(rules(fs), ['unknown mx.dns-error [gator4000.websitewelcome.com]'], show(fs));
  });
});

describe("defect 1: the mx check reads the classifier's verdict instead of re-deriving the organisation rule", () => {
  const relay = { provider: 'newhost', host: 'smarthost.newhost.example' };

  test("relay at this server's own organisation: MX oldbox7.newhost.example at another address is another machine; names of this server stay this server", async () => {
    const fs = await mxCheck(checkContext(D, mxAt('oldbox7.newhost.example', ['192.0.2.77']), { relay }));
    assertOtherMachine(fs, 'oldbox7.newhost.example', '192.0.2.77');
    // This server by name (host name, HELO, relay host) stays this server whatever the name resolves to (a NATed
    // server: public A, private panel IP), as without a relay.
    for (const host of ['server1.newhost.example', 'mailout.newhost.example', 'smarthost.newhost.example']) {
      const byName = await mxCheck(checkContext(D, mxAt(host, ['192.0.2.99']), { helo: 'mailout.newhost.example', relay }));
      assert.deepEqual(rules(byName), [`info mx.host [${host}]`, 'pass mx.ok'], `${host}\n${show(byName)}`);
    }
    // The organisation rule without a relay, as before: another machine unless an address is this server's.
    assertOtherMachine(await mxCheck(checkContext(D, mxAt('oldbox7.newhost.example', ['192.0.2.77']))), 'oldbox7.newhost.example', '192.0.2.77');
    const mixed = await mxCheck(checkContext(D, mxAt('mx.newhost.example', ['192.0.2.77', SERVER_IP]), { relay }));
    assert.deepEqual(rules(mixed), ['info mx.host [mx.newhost.example]', 'pass mx.ok'], show(mixed));
  });

  test("relay at this server's own organisation, routing remote: no advice to route the mail locally", async () => {
    const fs = await mxCheck(checkContext(D, mxAt('oldbox7.newhost.example', ['192.0.2.77']), { relay, routing: 'remote' }));
    assert.ok(!fs.some((f) => f.rule === 'mx.routing-mismatch'), show(fs));
  });
});
