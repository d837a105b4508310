// The provider data itself: shape, sources, and the entries whose class matters most.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultKnowledge, makeKnowledge, relayById, relayOf, validateProviders, type Provider } from '../../src/knowledge/index.js';

const KINDS = new Set(['hosting', 'mail-service', 'report-processor', 'shared-infrastructure']);

test('every provider has a known kind, a source and unique id', () => {
  const ids = new Set<string>();
  for (const p of defaultKnowledge.providers) {
    assert.ok(KINDS.has(p.kind), `${p.id}: kind ${p.kind}`);
    assert.ok(p.source && p.source.trim(), `${p.id}: source`);
    assert.ok(!ids.has(p.id), `${p.id}: duplicate id`);
    ids.add(p.id);
  }
});

test('mailspamprotection.com is shared filtering infrastructure, not SiteGround (mail-auth.md §8 caveats)', () => {
  for (const h of ['_spf.mailspamprotection.com', 'mx10.antispam.mailspamprotection.com', 'mailspamprotection.com']) {
    const p = defaultKnowledge.matchHost(h);
    assert.ok(p, h);
    assert.equal(p.id, 'mailspamprotection', h);
    assert.equal(p.kind, 'shared-infrastructure', h);
    assert.match(p.source, /mail-auth\.md §8/);
  }
  const sg = defaultKnowledge.providers.find((p) => p.id === 'siteground')!;
  assert.ok(!sg.spf.concat(sg.hosts).some((h) => h.includes('mailspamprotection')), 'SiteGround no longer claims mailspamprotection.com');
  assert.equal(defaultKnowledge.matchHost('c1.sgvps.net')?.id, 'siteground');
});

test('HostGator (websitewelcome.com) stays a hosting provider', () => {
  const p = defaultKnowledge.matchHost('gator123.websitewelcome.com');
  assert.equal(p?.id, 'hostgator');
  assert.equal(p?.kind, 'hosting');
});

test('the data passes its own format check (host patterns, selector prefixes)', () => {
  assert.deepEqual(validateProviders(defaultKnowledge.providers), []);
});

test('the format check rejects what the matcher would get wrong', () => {
  const base: Provider = { id: 'x', name: 'X', kind: 'hosting', spf: [], hosts: [], confidence: 'low', source: 'test' };
  for (const bad of [{ spf: ['Example.COM'] }, { hosts: ['*.example.com'] }, { hosts: ['dc-x._spfm.'] }, { hosts: ['com'] }, { dkimSelectors: ['HS1-'] }]) {
    assert.notDeepEqual(validateProviders([{ ...base, ...bad }]), [], JSON.stringify(bad));
    assert.throws(() => makeKnowledge([{ ...base, ...bad }]), /invalid provider knowledge/, JSON.stringify(bad));
  }
  assert.notDeepEqual(validateProviders([base, { ...base }]), [], 'duplicate id');
});

// Review (providers-review.test.ts): the _spfm record holds the SPF terms of the services the customer connected through
// GoDaddy's DNS, and include:secureserver.net is the SPF GoDaddy documents for its mailbox products (Microsoft 365 from
// GoDaddy included, whose MX is Microsoft's): both are kept, neither is a previous host's.
test("GoDaddy's DNS-managed SPF include dc-<random>._spfm.<domain> (mail-auth.md §8.1) is matched by its pattern, as a kept service", () => {
  for (const h of ['dc-aa1b2c3d4e._spfm.customer.example', 'DC-0123._SPFM.shop.co.uk.']) assert.equal(defaultKnowledge.matchHost(h)?.id, 'godaddy-spfm', h);
  for (const h of ['dc-aa1b2c3d4e.spfm.customer.example', 'x.dc-aa1b2c3d4e._spfm.customer.example', 'dc-aa1._spfm', 'dcaa1._spfm.customer.example']) {
    assert.notEqual(defaultKnowledge.matchHost(h)?.id, 'godaddy-spfm', h);
  }
  assert.equal(defaultKnowledge.matchHost('dc-aa1b2c3d4e._spfm.customer.example')?.kind, 'mail-service');
  assert.equal(defaultKnowledge.matchHost('smtp.secureserver.net')?.kind, 'mail-service');
});

test('HubSpot selectors hs1-<portal>, hs2-<portal> (prefix entries), and the bare names', () => {
  for (const s of ['hs1-4242424', 'HS2-4242424', 'hs1', 'hs2']) assert.deepEqual(defaultKnowledge.selectorProviders(s).map((p) => p.id), ['hubspot'], s);
  for (const s of ['hs1-', 'hs3-4242424', 'xhs1-4242424']) assert.deepEqual(defaultKnowledge.selectorProviders(s), [], s);
});

test('hosting providers\' selectors are returned with their kind (the classifier judges them)', () => {
  assert.deepEqual(defaultKnowledge.selectorProviders('dreamhost').map((p) => `${p.id} ${p.kind}`), ['dreamhost hosting']);
  assert.deepEqual(defaultKnowledge.selectorProviders('s1-ionos').map((p) => `${p.id} ${p.kind}`), ['ionos hosting']);
});

test('Namecheap Private Email is listed with the hosting providers (mail-auth.md §8.1: stale candidates)', () => {
  const p = defaultKnowledge.matchHost('spf.privateemail.com');
  assert.equal(p?.id, 'namecheap-privateemail');
  assert.equal(p?.kind, 'hosting');
  assert.match(p!.source, /§8\.1/);
  assert.equal(defaultKnowledge.matchHost('mx1.privateemail.com')?.id, 'namecheap-privateemail');
});

test('relayOf: a relay network is recognised from providers.json (MailChannels), nothing else is a relay', () => {
  const mc = { provider: 'mailchannels', include: 'relay.mailchannels.net' };
  for (const h of ['relay.mailchannels.net', 'smtp.mailchannels.net', 'mailchannels.net', 'SMTP.MailChannels.NET.']) assert.deepEqual(relayOf(h), mc, h);
  for (const h of ['', 'mailchannels.net.evil.example', 'notmailchannels.net', 'smtp.sendgrid.net', 'relay.example.com']) assert.equal(relayOf(h), null, h);
  assert.deepEqual(relayById('mailchannels'), mc);
  assert.equal(relayById('sendgrid'), null);
  // The relay and its include come from the data: a list without the mark knows no relay.
  const plain = makeKnowledge(defaultKnowledge.providers.map(({ relay: _r, ...p }) => p));
  assert.equal(relayOf('smtp.mailchannels.net', plain), null);
  const base: Provider = { id: 'x', name: 'X', kind: 'mail-service', spf: [], hosts: ['x.example'], confidence: 'low', source: 'test' };
  assert.notDeepEqual(validateProviders([{ ...base, relay: true }]), [], 'a relay needs an SPF include');
  assert.deepEqual(validateProviders([{ ...base, spf: ['spf.x.example'], relay: true }]), []);
});
