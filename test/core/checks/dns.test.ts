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
});
