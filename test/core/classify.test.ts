// The classifier through a files panel and the loopback DNS server: this server / keep / stale / unknown, with reasons.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildContext } from '../../src/core/audit.js';
import type { Classifier } from '../../src/core/checks/context.js';
import { MAILCHANNELS, otherRsaKey, rsaKey, scenario, zoneText, type Scenario } from '../helpers/scenario.js';

let s: Scenario;
let c: Classifier;
let relayC: Classifier;
before(async () => {
  s = await scenario({
    domains: {
      'shop.test': {
        zone: zoneText({ ns: ['ns1.newhost.example.', 'ns2.newhost.example.', 'ns1.oldprovider.test.'], soaMname: 'ns1.soaprovider.test.', mailA: '192.0.2.200' }),
      },
    },
    extra: { '99.100.51.198.in-addr.arpa': { TIMEOUT: true } },
    resolver: { timeoutMs: 200, tries: 1 },
  });
  const ctx = (await buildContext('shop.test', { panel: s.panel, resolver: s.resolver })).ctx;
  assert.ok(ctx);
  c = ctx.classifier;
  const relayCtx = (await buildContext('shop.test', { panel: s.panel, resolver: s.resolver })).ctx!;
  relayC = (await import('../../src/core/classify.js')).makeClassifier({ ...relayCtx, settings: { ...relayCtx.settings, relay: MAILCHANNELS } });
});
after(() => s.cleanup());

test('spf terms: this server, mail service kept, previous host stale, unknown IP unknown', async () => {
  assert.equal((await c.spfTerm('ip4:203.0.113.10')).class, 'this-server');
  assert.equal((await c.spfTerm('ip4:203.0.113.0/24')).class, 'this-server', 'a CIDR containing this server');
  const g = await c.spfTerm('include:_spf.google.com');
  assert.equal(g.class, 'keep');
  assert.equal(g.provider, 'google');
  const hg = await c.spfTerm('include:websitewelcome.com');
  assert.equal(hg.class, 'stale');
  assert.match(hg.reason, /HostGator/);
  const u = await c.spfTerm('ip4:198.51.100.77');
  assert.equal(u.class, 'unknown');
  assert.match(u.reason, /no PTR/);
  assert.equal((await c.spfTerm('exists:%{i}._spf.shop.test')).class, 'unknown');
  assert.equal((await c.spfTerm('ptr')).class, 'unknown');
  const mx = await c.spfTerm('mx');
  assert.equal(mx.class, 'stale', 'the MX is mail.shop.test, whose A record is the old 192.0.2.200');
  assert.match(mx.reason, /mail\.shop\.test/);
});

test('traces of the previous host in the zone: old NS and SOA providers, the old mail. A record', async () => {
  const ns = await c.spfTerm('include:spf.oldprovider.test');
  assert.equal(ns.class, 'stale');
  assert.match(ns.reason, /old nameserver ns1\.oldprovider\.test/);
  const soa = await c.host('mx.soaprovider.test');
  assert.equal(soa.class, 'stale');
  assert.match(soa.reason, /SOA/);
  const ip = await c.ip('192.0.2.200');
  assert.equal(ip.class, 'stale');
  assert.match(ip.reason, /mail\.shop\.test/);
});

test('PTR of a foreign IP: known hosting provider → stale; lookup timeout → unknown', async () => {
  const p = await c.ip('192.185.1.10');
  assert.equal(p.class, 'stale');
  assert.match(p.reason, /gator4000\.hostgator\.com/);
  const t = await c.ip('198.51.100.99');
  assert.equal(t.class, 'unknown');
  assert.match(t.reason, /timeout/);
});

test('hosts: this server by name, by address; relay is this server when relaying', async () => {
  assert.equal((await c.host('server1.newhost.example')).class, 'this-server');
  assert.equal((await c.host('aspmx.l.google.com')).class, 'keep');
  assert.equal((await c.host('relay.mailchannels.net')).class, 'keep', 'without a relay MailChannels is a mail service');
  assert.equal((await relayC.host('relay.mailchannels.net')).class, 'this-server');
});

test('dkim keys and lockdown ids', async () => {
  assert.equal((await c.dkimKey('default', rsaKey().publicB64)).class, 'this-server');
  assert.equal((await c.dkimKey('default', otherRsaKey().publicB64)).class, 'stale');
  assert.equal((await c.dkimKey('google', otherRsaKey().publicB64)).class, 'keep');
  assert.equal((await c.dkimKey('randomsel', otherRsaKey().publicB64)).class, 'unknown');
  assert.equal((await c.lockdownId('auth', 'oldhostmc')).class, 'stale', 'no MailChannels relay: any id is a leftover');
  assert.equal((await relayC.lockdownId('auth', 'newhostmc')).class, 'this-server');
  assert.equal((await relayC.lockdownId('auth', 'NewHostMC')).class, 'this-server', 'ids compare case-insensitively');
  // Another id is stale only with evidence it is a previous host's (a hosting provider, the old NS/SOA organisation);
  // otherwise it may be the customer's own MailChannels account: unknown.
  assert.equal((await relayC.lockdownId('auth', 'oldhostmc')).class, 'unknown');
  assert.equal((await relayC.lockdownId('auth', 'dreamhost')).class, 'stale');
  assert.equal((await relayC.lockdownId('auth', 'oldprovider')).class, 'stale', 'the old nameserver ns1.oldprovider.test');
});

test('report addresses', async () => {
  assert.equal((await c.reportAddress('dmarc@shop.test')).class, 'this-server');
  assert.equal((await c.reportAddress('x@websitewelcome.com')).class, 'stale');
  assert.equal((await c.reportAddress('x@ag.dmarcian.com')).class, 'keep');
  assert.equal((await c.reportAddress('x@nobody.test')).class, 'unknown');
});
