// Domain Lockdown ids (classify.ts lockdownId): an id that is not this host's MailChannels account is stale only with
// evidence that it is a previous host's — it names a hosting provider of the knowledge base, or the organisation of the
// old nameservers / SOA the zone still lists. Anything else may be the customer's own MailChannels account (Email API)
// next to the host: unknown (mail-auth.md §4: "stale candidate", not a verdict).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MailSettings, ZoneRecord } from '../../src/core/model.js';
import { checkContext } from './checks/context.js';

const D = 'cust.example';
const MC = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;
const zone = (extra: ZoneRecord[] = []): ZoneRecord[] => [
  { name: D, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.', ref: 'ns1' },
  { name: D, ttl: 3600, type: 'SOA', value: 'ns1.newhost.example. hostmaster.newhost.example. 1 3600 1800 1209600 300', ref: 'soa' },
  ...extra,
];
const classifier = (settings: Partial<MailSettings> = MC, records = zone()) => checkContext(D, {}, settings, records).classifier;

describe('lockdown ids: stale only with evidence of a previous host', () => {
  test("an id nothing identifies (the customer's own MailChannels account) is unknown, not stale", async () => {
    const c = classifier();
    for (const [field, value] of [
      ['auth', 'acme-emailapi'],
      ['auth', 'oldhostmc'],
      ['auth', 'hostgatormc'], // exact names only: a customer's account may be called anything
      ['senderid', 'acme|x-authsender|billing@cust.example'],
      ['sidw', 'acme|x-authsender|b*@cust.example'],
    ] as const) {
      const k = await c.lockdownId(field, value);
      assert.equal(k.class, 'unknown', `${field}=${value}: ${k.reason}`);
      assert.match(k.reason, /not this host's MailChannels account \(newhostmc\), and nothing identifies it: the customer's own MailChannels account, or a previous host's/);
    }
  });

  test('an id naming a known hosting provider is stale: its id or its name (as one word); any case', async () => {
    const c = classifier();
    for (const [field, value, provider] of [
      ['auth', 'dreamhost', 'dreamhost'],
      ['auth', 'DreamHost', 'dreamhost'],
      ['auth', 'justhost', 'bluehost'], // "Bluehost / JustHost (Unified Layer)"
      ['auth', 'ovhcloud', 'ovh'], // the name "OVHcloud" as one word
      ['senderid', 'dreamhost|x-authuser|joe@cust.example', 'dreamhost'], // the provider part, before the first "|"
      ['sidw', 'HostGator|x-authuser|*@cust.example', 'hostgator'],
    ] as const) {
      const k = await c.lockdownId(field, value);
      assert.equal(k.class, 'stale', `${field}=${value}: ${k.reason}`);
      assert.equal(k.provider, provider);
      assert.ok(k.source, 'the knowledge entry is cited');
      assert.match(k.reason, /a hosting provider that is not this server: left by a previous host/);
    }
  });

  test("a host name's first label is no evidence (generic words: jellyfish, privateemail, websitewelcome): unknown", async () => {
    // Review: indexing host-name labels made a customer's own account called "jellyfish" (jellyfish.systems, a
    // Namecheap host name) a previous host's, and the fix dropped it.
    const c = classifier();
    for (const value of ['jellyfish', 'privateemail', 'websitewelcome']) assert.equal((await c.lockdownId('auth', value)).class, 'unknown', value);
  });

  test('a name a mail service or shared infrastructure has is no evidence of a previous host: unknown', async () => {
    const c = classifier();
    for (const v of ['google', 'mailchannels', 'mailspamprotection', 'cloudflare']) assert.equal((await c.lockdownId('auth', v)).class, 'unknown', v);
  });

  test("the organisation of the old nameservers / SOA the zone still lists is a previous host's", async () => {
    const c = classifier(MC, [
      { name: D, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.', ref: 'ns1' },
      { name: D, ttl: 3600, type: 'NS', value: 'ns1.oldprovider.test.', ref: 'ns2' },
      { name: D, ttl: 3600, type: 'SOA', value: 'ns1.soaprovider.test. hostmaster.soaprovider.test. 1 3600 1800 1209600 300', ref: 'soa' },
    ]);
    const ns = await c.lockdownId('auth', 'oldprovider');
    assert.equal(ns.class, 'stale', ns.reason);
    assert.match(ns.reason, /old nameserver ns1\.oldprovider\.test/);
    assert.equal((await c.lockdownId('senderid', 'SoaProvider|x-authuser|joe@cust.example')).class, 'stale');
    assert.equal((await c.lockdownId('auth', 'oldprovider.test')).class, 'stale');
    // No trace in a zone that only lists this server's nameservers.
    assert.equal((await classifier().lockdownId('auth', 'oldprovider')).class, 'unknown');
  });

  test("a hosting provider this server is at, or the one the domain's mail is delivered to: unknown, not stale", async () => {
    const atDh = classifier({ ...MC, hostname: 'server7.dreamhost.com', helo: 'server7.dreamhost.com' });
    const own = await atDh.lockdownId('auth', 'dreamhost');
    assert.equal(own.class, 'unknown', own.reason);
    assert.match(own.reason, /the provider this server is at/);

    // Where the mail is delivered takes DNS (the live MX beside the panel's copy): judgeLockdownId, as the check and fix.
    const routed = classifier({ ...MC, routing: 'remote' }, zone([{ name: D, ttl: 3600, type: 'MX', value: '0 mx1.mail.dreamhost.com.', ref: 'mx' }]));
    const r = await routed.lockdownId('auth', 'dreamhost');
    assert.equal(r.class, 'unknown', r.reason);
    assert.match(r.reason, /where cust\.example's mail is delivered \(MX mx1\.mail\.dreamhost\.com/);
    assert.equal((await routed.lockdownId('auth', 'hostgator')).class, 'stale', 'another hosting provider is still a previous host');
  });

  test("unchanged: this host's id (any case) is this server's; without a MailChannels relay any id is a leftover", async () => {
    assert.equal((await classifier().lockdownId('auth', 'NewHostMC')).class, 'this-server');
    assert.equal((await classifier().lockdownId('senderid', 'newhostmc|x-authuser|joe@cust.example')).class, 'this-server');
    assert.equal((await classifier({ relay: null }).lockdownId('auth', 'acme-emailapi')).class, 'stale');
    assert.equal((await classifier({ relay: { provider: 'mailchannels', host: 'relay.mailchannels.net' } }).lockdownId('auth', 'acme-emailapi')).class, 'unknown');
  });
});
