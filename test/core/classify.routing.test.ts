// The classifier and the panel's mail routing: a foreign mail.<domain> is a previous host's only while this server
// receives the domain's mail. Routed elsewhere, it is the customer's live mail server and must never be stale (the
// SPF fix drops stale terms). Also: shared filtering infrastructure (mailspamprotection.com) is never stale.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spfCheck } from '../../src/core/checks/spf.js';
import { mxCheck } from '../../src/core/checks/mx.js';
import type { CheckContext } from '../../src/core/checks/context.js';
import type { MailSettings, ZoneRecord } from '../../src/core/model.js';
import type { ZoneMap } from '../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from './checks/context.js';

const D = 'cust.example';

function ctxFor(domain: string, map: ZoneMap, records: ZoneRecord[] | null, s: Partial<MailSettings> = {}): CheckContext {
  return checkContext(domain, map, s, records);
}

/** The customer's own mail server at mail.cust.example (not this server), MX pointing at it, SPF `mx`. */
function ownMailServer(routing: MailSettings['routing'], mailIp = '198.51.100.25', mx = `mail.${D}`): CheckContext {
  const records: ZoneRecord[] = [
    { name: D, ttl: 300, type: 'NS', value: 'ns1.newhost.example' },
    { name: D, ttl: 300, type: 'MX', value: `10 ${mx}.` },
    { name: `mail.${D}`, ttl: 300, type: 'A', value: mailIp },
  ];
  const map = {
    [D]: { TXT: [[`v=spf1 mx ip4:${SERVER_IP} -all`]], MX: [{ priority: 10, exchange: mx }] },
    [`mail.${D}`]: { A: [mailIp] },
    'aspmx.l.google.com': { A: ['142.250.1.26'] },
    '10.1.185.192.in-addr.arpa': { PTR: ['gator4000.hostgator.com'] },
  } as ZoneMap;
  return ctxFor(D, map, records, { routing });
}

test('routing remote: mail.<domain> at a foreign IP, named by the MX, is the current mail server (kept, never stale)', async () => {
  const ctx = ownMailServer('remote');
  const c = ctx.classifier;
  const mx = await c.spfTerm('mx');
  assert.equal(mx.class, 'keep');
  assert.match(mx.reason, /routed elsewhere \(panel setting\)/);
  assert.match(mx.reason, /mail\.cust\.example/);
  assert.equal((await c.host(`mail.${D}`)).class, 'keep');
  assert.equal((await c.ip('198.51.100.25')).class, 'keep');
  assert.equal((await c.spfTerm('ip4:198.51.100.25')).class, 'keep');
  assert.equal((await c.spfTerm('a:mail.cust.example')).class, 'keep');

  const spf = await spfCheck(ctx);
  assert.ok(!spf.some((f) => f.rule === 'spf.stale-term'), 'no stale SPF term');
  assert.ok(!spf.some((f) => f.subject === 'mx' && f.fix === 'spf'), 'the SPF fix does not touch mx');
  const mxf = await mxCheck(ctx);
  assert.ok(!mxf.some((f) => f.rule === 'mx.stale'), 'no mx.stale');
  assert.ok(mxf.some((f) => f.rule === 'mx.ok'));
});

test('routing remote: mail.<domain> still at the old host (PTR names a hosting provider) is live mail, not stale', async () => {
  const c = ownMailServer('remote', '192.185.1.10').classifier;
  assert.equal((await c.spfTerm('mx')).class, 'keep');
  assert.equal((await c.ip('192.185.1.10')).class, 'keep');
});

test('routing remote, MX elsewhere: a foreign mail.<domain> is unknown (never stale), with the routing reason', async () => {
  const c = ownMailServer('remote', '198.51.100.25', 'aspmx.l.google.com').classifier;
  const ip = await c.ip('198.51.100.25');
  assert.equal(ip.class, 'unknown');
  assert.match(ip.reason, /routed elsewhere \(panel setting\)/);
  const a = await c.spfTerm('a:mail.cust.example');
  assert.equal(a.class, 'unknown');
  assert.match(a.reason, /routed elsewhere/);
});

test('routing local: a foreign mail.<domain> is still the previous host\'s (stale), and the SPF fix drops mx', async () => {
  const ctx = ownMailServer('local');
  const mx = await ctx.classifier.spfTerm('mx');
  assert.equal(mx.class, 'stale');
  assert.match(mx.reason, /mail\.cust\.example still points at 198\.51\.100\.25/);
  const spf = await spfCheck(ctx);
  const st = spf.find((f) => f.rule === 'spf.stale-term' && f.subject === 'mx');
  assert.ok(st, 'spf.stale-term for mx');
  assert.equal(st.fix, 'spf');
  const mxf = await mxCheck(ctx);
  const ms = mxf.find((f) => f.rule === 'mx.stale');
  assert.ok(ms);
  assert.equal(ms.severity, 'fail');
});

test('routing local: mail.<domain> at this server is this server in either routing', async () => {
  for (const routing of ['local', 'remote'] as const) {
    const c = ownMailServer(routing, SERVER_IP).classifier;
    assert.equal((await c.spfTerm('mx')).class, 'this-server', routing);
  }
});

for (const routing of ['local', 'remote'] as const) {
  test(`mailspamprotection.com (SpamExperts / Mail Assure) is shared infrastructure: include and MX never stale (routing ${routing})`, async () => {
    const d = 'se.example';
    const map = {
      [d]: { TXT: [[`v=spf1 ip4:${SERVER_IP} include:_spf.mailspamprotection.com -all`]], MX: [{ priority: 10, exchange: 'mx10.antispam.mailspamprotection.com' }] },
      '_spf.mailspamprotection.com': { TXT: [['v=spf1 ip4:192.0.2.0/24 -all']] },
      'mx10.antispam.mailspamprotection.com': { A: ['192.0.2.5'] },
    } as ZoneMap;
    const ctx = ctxFor(d, map, null, { routing });
    const inc = await ctx.classifier.spfTerm('include:_spf.mailspamprotection.com');
    assert.equal(inc.provider, 'mailspamprotection');
    if (routing === 'local') {
      assert.equal(inc.class, 'unknown');
      assert.match(inc.reason, /shared infrastructure/);
    } else {
      // Mail routed elsewhere and the MX at the filter: the domain's mail is delivered through it (kept).
      assert.equal(inc.class, 'keep');
      assert.match(inc.reason, /se\.example's mail is delivered/);
    }
    const mx = await ctx.classifier.host('mx10.antispam.mailspamprotection.com');
    assert.notEqual(mx.class, 'stale');
    assert.equal(mx.provider, 'mailspamprotection');
    assert.ok(!(await spfCheck(ctx)).some((f) => f.rule === 'spf.stale-term'));
    assert.ok(!(await mxCheck(ctx)).some((f) => f.rule === 'mx.stale'));
  });
}

test('previous hosts stay stale: websitewelcome.com (HostGator, the bench/demo example) and SiteGround\'s own names', async () => {
  const c = ctxFor('x.example', { 'websitewelcome.com': { TXT: [['v=spf1 ip4:192.185.0.0/16 ~all']] } } as ZoneMap, null, { routing: 'remote' }).classifier;
  const hg = await c.spfTerm('include:websitewelcome.com');
  assert.equal(hg.class, 'stale');
  assert.equal(hg.provider, 'hostgator');
  assert.equal((await c.host('gator4000.websitewelcome.com')).class, 'stale');
  const sg = await c.host('c12345.sgvps.net');
  assert.equal(sg.class, 'stale');
  assert.equal(sg.provider, 'siteground');
});

test('an ip6: term written in another spelling than the zone\'s AAAA of mail.<domain> is the same address (stale with routing local, kept with remote)', async () => {
  // The readers give the zone's AAAA in one spelling (RFC 5952, src/core/ip.ts ipv6Text); an SPF term may be written
  // `ip6:2001:DB8:0:0::7`. Looked up by its text as written, it was not the trace address.
  // The zone's AAAA as the adapters give it (one spelling) or as a panel might store it (keyed in one spelling all the same).
  const records = (routing: MailSettings['routing'], stored = '2001:db8::7') => {
    const zone: ZoneRecord[] = [
      { name: D, ttl: 300, type: 'NS', value: 'ns1.newhost.example' },
      { name: D, ttl: 300, type: 'MX', value: `10 mail.${D}.` },
      { name: `mail.${D}`, ttl: 300, type: 'AAAA', value: stored },
    ];
    const map = { [D]: { TXT: [[`v=spf1 ip6:2001:DB8:0:0::7 ip4:${SERVER_IP} -all`]], MX: [{ priority: 10, exchange: `mail.${D}` }] }, [`mail.${D}`]: { AAAA: ['2001:db8::7'] } } as ZoneMap;
    return ctxFor(D, map, zone, { routing });
  };
  for (const term of ['ip6:2001:DB8:0:0::7', 'ip6:2001:0db8::0007/128', 'ip6:2001:db8::7']) {
    const stale = await records('local').classifier.spfTerm(term);
    assert.equal(stale.class, 'stale', term);
    assert.match(stale.reason, /mail\.cust\.example still points at 2001:db8::7/);
    assert.equal((await records('remote').classifier.spfTerm(term)).class, 'keep', term);
    assert.equal((await records('local', '2001:DB8:0:0:0:0:0:7').classifier.spfTerm(term)).class, 'stale', term);
    assert.equal((await records('remote', '2001:0DB8::7').classifier.spfTerm(term)).class, 'keep', term);
  }
});
