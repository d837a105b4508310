// More provider fingerprints (providers.json), each sourced to the provider's own documentation: mail services
// customers commonly have in SPF / MX / DKIM CNAME targets. Before they were listed these names matched no provider,
// so the classifier could not tell them from a previous host's leftovers (unknown at best); as known mail services
// they are kept, and the SPF fix keeps them. Look-alike names must not be taken for them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planSpf } from '../../src/core/plans/spf.js';
import type { ZoneRecord } from '../../src/core/model.js';
import { defaultKnowledge } from '../../src/knowledge/index.js';
import type { ZoneMap } from '../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from '../core/checks/context.js';

/** A domain whose website is on this server, with an SPF record and MX as given (the panel's zone and the live DNS agree). */
function world(domain: string, spf: string, mx: string[]) {
  const records: ZoneRecord[] = [
    { name: domain, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.' },
    { name: domain, ttl: 3600, type: 'A', value: SERVER_IP },
    ...mx.map((h, i) => ({ name: domain, ttl: 3600, type: 'MX', value: `${i * 10} ${h}.` })),
    { name: domain, ttl: 3600, type: 'TXT', value: spf, txt: [spf] },
  ];
  const map = { [domain]: { A: [SERVER_IP], MX: mx.map((exchange, i) => ({ priority: i * 10, exchange })), TXT: [[spf]] } } as ZoneMap;
  // Each include target publishes an SPF record (a missing one is a permerror the SPF fix drops for that reason).
  for (const m of spf.matchAll(/include:(\S+)/g)) (map as Record<string, unknown>)[m[1]] = { TXT: [['v=spf1 ip4:198.51.100.0/24 ~all']] };
  return { ctx: checkContext(domain, map, { routing: 'local' }, records), records };
}

const D = 'more.example';

describe('documented SPF includes of the added mail services: kept, with their provider and source, and the SPF plan keeps them', () => {
  const cases: { term: string; provider: string }[] = [
    { term: 'include:spf.constantcontact.com', provider: 'constantcontact' },
    { term: 'include:icloud.com', provider: 'icloud' },
    { term: 'include:_spf.yandex.net', provider: 'yandex' },
    { term: 'include:_spf.mlsend.com', provider: 'mailerlite' },
    { term: 'include:_spf.elasticemail.com', provider: 'elasticemail' },
  ];
  for (const { term, provider } of cases) {
    test(`${term} → ${provider}`, async () => {
      const spf = `v=spf1 ${term} ip4:${SERVER_IP} ~all`;
      const { ctx, records } = world(D, spf, [`mail.${D}`]);
      const c = await ctx.classifier.spfTerm(term);
      assert.equal(c.class, 'keep', c.reason);
      assert.equal(c.provider, provider);
      assert.match(c.source ?? '', /^https:\/\//);
      assert.equal(defaultKnowledge.providers.find((p) => p.id === provider)?.kind, 'mail-service');
      const plan = await planSpf(ctx, records, {});
      assert.deepEqual(plan.changes, [], plan.notes.join('\n'));
    });
  }

  test('Yandex documents redirect=_spf.yandex.net as the whole record: the redirect names Yandex, kept', async () => {
    const { ctx } = world(D, `v=spf1 ip4:${SERVER_IP} ~all`, [`mail.${D}`]);
    const c = await ctx.classifier.spfTerm('redirect=_spf.yandex.net');
    assert.equal(c.class, 'keep', c.reason);
    assert.equal(c.provider, 'yandex');
  });
});

describe('documented MX hosts and sending / CNAME-target domains of the added services: kept', () => {
  const cases: { host: string; provider: string }[] = [
    { host: 'mx.yandex.net', provider: 'yandex' },
    { host: 'elasticemail.com', provider: 'elasticemail' },
    { host: 'klaviyomail.com', provider: 'klaviyo' },
    { host: 'your-workspace-name.intercom-mail.com', provider: 'intercom' },
    { host: 'your-workspace-name.au.intercom-mail.com', provider: 'intercom' },
    { host: 'your-workspace-name.intercom-mail.eu', provider: 'intercom' },
  ];
  for (const { host, provider } of cases) {
    test(`${host} → ${provider}`, async () => {
      assert.equal(defaultKnowledge.matchHost(host)?.id, provider);
      const { ctx } = world(D, `v=spf1 ip4:${SERVER_IP} ~all`, [`mail.${D}`]);
      const c = await ctx.classifier.host(host);
      assert.equal(c.class, 'keep', c.reason);
      assert.equal(c.provider, provider);
    });
  }

  test('the domain mail delivered to Yandex (MX mx.yandex.net): the include is kept, routing remote as well', async () => {
    const spf = `v=spf1 include:_spf.yandex.net ip4:${SERVER_IP} ~all`;
    const { records } = world(D, spf, ['mx.yandex.net']);
    const map = { [D]: { A: [SERVER_IP], MX: [{ priority: 10, exchange: 'mx.yandex.net' }], TXT: [[spf]] }, '_spf.yandex.net': { TXT: [['v=spf1 ip4:198.51.100.0/24 ~all']] } } as ZoneMap;
    const ctx = checkContext(D, map, { routing: 'remote' }, records);
    const c = await ctx.classifier.spfTerm('include:_spf.yandex.net');
    assert.equal(c.class, 'keep', c.reason);
    assert.equal(c.provider, 'yandex');
  });
});

describe('look-alike names are not the added services (suffixes match on label boundaries only)', () => {
  const lookAlikes = [
    'notklaviyomail.com',
    'klaviyomail.com.attacker.example',
    'noticloud.com',
    'icloud.com.attacker.example',
    'xspf.constantcontact.com.example',
    'myconstantcontact.com',
    '_spf.mlsend.com.attacker.example',
    'notelasticemail.com',
    'mx.yandex.net.attacker.example',
    'xmx.yandex.net',
    'intercom-mail.community',
    'fake-intercom-mail.com',
  ];
  for (const h of lookAlikes) {
    test(h, () => {
      assert.equal(defaultKnowledge.matchHost(h), null, `${h} matched ${defaultKnowledge.matchHost(h)?.id}`);
    });
  }

  test('a look-alike include is classified by what it resolves to, never as the service', async () => {
    const { ctx } = world(D, `v=spf1 ip4:${SERVER_IP} ~all`, [`mail.${D}`]);
    const c = await ctx.classifier.spfTerm('include:notklaviyomail.com');
    assert.notEqual(c.class, 'keep', c.reason);
    assert.equal(c.provider, undefined);
  });

  test('no generic DKIM selector was added: the generic selectors these services document (or are said to use) name no provider', () => {
    // Elastic Email's api._domainkey is documented, but "api" is a name any sender may use: listing it would call
    // another sender's key Elastic Email's (see the entry's note).
    for (const s of ['api', 'sig1', 'cm', 'ml']) assert.deepEqual(defaultKnowledge.selectorProviders(s), [], s);
  });
});
