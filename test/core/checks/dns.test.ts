// Delegation check for a zone this server does not serve (the panel reports no nameservers of its own for it: a
// disabled or secondary Plesk zone, a cPanel copy without local authority).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dnsCheck } from '../../../src/core/checks/dns.js';
import type { ZoneRecord } from '../../../src/core/model.js';
import { checkContext } from './context.js';

const zone: ZoneRecord[] = [
  { name: 'd.example', ttl: 3600, type: 'SOA', value: 'bob.ns.cloudflare.com. dns.cloudflare.com. 1 3600 600 86400 300' },
  { name: 'd.example', ttl: 3600, type: 'NS', value: 'bob.ns.cloudflare.com' },
  { name: 'd.example', ttl: 3600, type: 'NS', value: 'amy.ns.cloudflare.com' },
];
const live = { 'd.example': { NS: ['bob.ns.cloudflare.com', 'amy.ns.cloudflare.com'] } };

test('a zone not served here that lists the DNS host in use: not authoritative, without calling that host a previous one', async () => {
  const findings = await dnsCheck(checkContext('d.example', live, { nameservers: [] }, zone));
  const f = findings.find((x) => x.rule === 'dns.not-authoritative');
  assert.ok(f, findings.map((x) => x.rule).join(', '));
  assert.match(f.message, /the panel does not serve this zone/);
  assert.doesNotMatch(f.message, /previous host|\(\)/);
  assert.equal(f.classification, undefined);
});

test('a zone served here whose copy still lists other nameservers: those count as traces of the previous host', async () => {
  const findings = await dnsCheck(checkContext('d.example', live, {}, zone));
  const f = findings.find((x) => x.rule === 'dns.not-authoritative');
  assert.ok(f);
  assert.match(f.message, /previous host/);
  assert.equal(f.classification?.class, 'stale');
  // The panel's own copy lists them as its NS records (a zone copied from the old host): said, to be corrected there too.
  assert.match(f.message, /The panel's own zone lists bob\.ns\.cloudflare\.com, amy\.ns\.cloudflare\.com as its nameservers too \(NS records at d\.example\): change them there to this server's \(ns1\.newhost\.example/, f.message);
});

test('the panel zone lists this server’s nameservers: no such sentence', async () => {
  const own: ZoneRecord[] = [zone[0], { name: 'd.example', ttl: 3600, type: 'NS', value: 'ns1.newhost.example' }];
  const findings = await dnsCheck(checkContext('d.example', live, {}, own));
  const f = findings.find((x) => x.rule === 'dns.not-authoritative');
  assert.ok(f);
  assert.doesNotMatch(f.message, /The panel's own zone lists/);
});

// A name the panel keeps inside its parent's zone (a cPanel subdomain: the zone read is the parent's).
test('a subdomain in its parent zone: the parent zone apex delegation decides (not "not delegated"); a subdomain delegated on its own, its own', async () => {
  const parent: ZoneRecord[] = [
    { name: 'alice.example', ttl: 3600, type: 'NS', value: 'ns1.newhost.example' },
    { name: 'blog.alice.example', ttl: 3600, type: 'A', value: '203.0.113.10' },
  ];
  const inParent = (map: Parameters<typeof checkContext>[1]) => {
    const ctx = checkContext('blog.alice.example', map, {}, parent);
    return { ...ctx, zone: { ...ctx.zone!, domain: 'alice.example' } };
  };
  const served = await dnsCheck(inParent({ 'alice.example': { NS: ['ns1.newhost.example', 'ns2.newhost.example'] }, 'blog.alice.example': { A: ['203.0.113.10'] } }));
  const ok = served.find((f) => f.rule === 'dns.authoritative');
  assert.ok(ok, served.map((f) => `${f.rule}: ${f.message}`).join('\n'));
  assert.match(ok.message, /blog\.alice\.example \(in the zone alice\.example\) is served by this server/);
  assert.ok(!served.some((f) => f.rule === 'dns.not-authoritative'));
  // Delegated on its own to another DNS host: its own NS decide.
  const delegated = await dnsCheck(inParent({ 'alice.example': { NS: ['ns1.newhost.example'] }, 'blog.alice.example': { NS: ['ada.ns.cloudflare.com'] } }));
  assert.ok(delegated.some((f) => f.rule === 'dns.not-authoritative' && /blog\.alice\.example \(ada\.ns\.cloudflare\.com\)/.test(f.message)), delegated.map((f) => f.message).join('\n'));
});
