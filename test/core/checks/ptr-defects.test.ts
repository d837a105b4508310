// PTR check defects reproduced by QA: a relay that is not known, several PTR names, no outbound IP known, and a
// generic PTR name (mail-auth.md §5: weak — warn).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { genericPtrReason, ptrCheck, validateGenericPtr } from '../../../src/core/checks/ptr.js';
import type { Finding } from '../../../src/core/model.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from './context.js';

const REV = '10.113.0.203.in-addr.arpa';
const rules = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.subject ? ` [${f.subject}]` : ''}`);
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}: ${f.message}`).join('\n');

describe('defect 7: the relay is not known (relay null with relayUnknown)', () => {
  const relayUnknown = 'the smarthost lives in a root-only file';
  test('no PTR: unknown, not ptr.missing fail', async () => {
    const fs = await ptrCheck(checkContext('d.example', {}, { relayUnknown }));
    assert.ok(fs.length > 0);
    assert.ok(!fs.some((f) => f.severity === 'fail' || f.severity === 'warn'), show(fs));
    const f = fs.find((x) => x.rule === 'ptr.missing');
    assert.ok(f, show(fs));
    assert.equal(f.severity, 'unknown');
    assert.match(f.message, /root-only file/);
  });

  test('PTR that does not resolve back: unknown too; a good PTR still passes', async () => {
    const bad = await ptrCheck(checkContext('d.example', { [REV]: { PTR: ['server1.newhost.example'] }, 'server1.newhost.example': { A: ['198.51.100.1'] } }, { relayUnknown }));
    assert.deepEqual(rules(bad), [`unknown ptr.mismatch [${SERVER_IP}]`]);
    const good = await ptrCheck(checkContext('d.example', { [REV]: { PTR: ['server1.newhost.example'] }, 'server1.newhost.example': { A: [SERVER_IP] } }, { relayUnknown }));
    assert.deepEqual(rules(good), [`pass ptr.ok [${SERVER_IP}]`]);
  });

  test('relay known to be none (no relayUnknown): ptr.missing fail (unchanged)', async () => {
    assert.deepEqual(rules(await ptrCheck(checkContext('d.example', {}))), [`fail ptr.missing [${SERVER_IP}]`]);
  });
});

describe('defect 8: several PTR names', () => {
  const map: ZoneMap = {
    [REV]: { PTR: ['server1.newhost.example', 'alias.newhost.example'] },
    'server1.newhost.example': { A: [SERVER_IP] },
    'alias.newhost.example': { A: [SERVER_IP] },
  };
  test('HELO equals the first of two forward-confirmed names: ptr.ok', async () => {
    const fs = await ptrCheck(checkContext('d.example', map));
    assert.deepEqual(rules(fs), [`pass ptr.ok [${SERVER_IP}]`], show(fs));
    assert.match(fs[0].message, /server1\.newhost\.example/);
  });
  test('HELO equals the second: ptr.ok', async () => {
    assert.deepEqual(rules(await ptrCheck(checkContext('d.example', map, { helo: 'alias.newhost.example' }))), [`pass ptr.ok [${SERVER_IP}]`]);
  });
  test('HELO equals a PTR name that does not resolve back: mismatch naming the confirmed ones', async () => {
    const m: ZoneMap = { ...map, 'alias.newhost.example': { A: ['198.51.100.1'] } };
    const fs = await ptrCheck(checkContext('d.example', m, { helo: 'alias.newhost.example' }));
    assert.deepEqual(rules(fs), [`warn ptr.mismatch [${SERVER_IP}]`], show(fs));
    assert.match(fs[0].message, /server1\.newhost\.example/);
  });
});

describe('defect 9: no outbound IP known', () => {
  test('ips empty: one unknown finding saying the outbound IP is not known', async () => {
    const fs = await ptrCheck(checkContext('d.example', {}, { ips: [] }));
    assert.deepEqual(rules(fs), ['unknown ptr.ip-unknown'], show(fs));
    assert.match(fs[0].message, /outbound IP/);
  });
  test('with a relay, no IPs is fine (the relay sends)', async () => {
    const fs = await ptrCheck(checkContext('d.example', {}, { ips: [], relay: { provider: 'mailchannels', host: 'relay.mailchannels.net' } }));
    assert.deepEqual(rules(fs), ['info ptr.relay']);
  });
});

describe('defect 10: a generic PTR name', () => {
  const g = 'ip-203-0-113-10.provider.example';
  test('generic PTR used as HELO: ptr.generic warn, no ptr.ok', async () => {
    const fs = await ptrCheck(checkContext('d.example', { [REV]: { PTR: [g] }, [g]: { A: [SERVER_IP] } }, { helo: g, hostname: g }));
    assert.deepEqual(rules(fs), [`warn ptr.generic [${SERVER_IP}]`], show(fs));
    assert.match(fs[0].message, /generic/);
  });

  for (const [name, ip] of [
    ['ip-203-0-113-10.provider.example', '203.0.113.10'],
    ['203-0-113-10.static.isp.example', '203.0.113.10'],
    ['10.113.0.203.in-addr.provider.example', '203.0.113.10'],
    ['ec2-3-120-7-8.eu-central-1.compute.amazonaws.com', '3.120.7.8'],
    ['host-10-113-0-203.customer.isp.example', '203.0.113.10'],
    ['static.10.113.0.203.clients.your-server.de', '203.0.113.10'],
    ['dsl-pool-77.isp.example', '203.0.113.10'],
    ['cb00710a.dyn.isp.example', '203.0.113.10'],
  ] as const) {
    test(`generic: ${name}`, () => assert.ok(genericPtrReason(name, ip), name));
  }
  for (const [name, ip] of [
    ['server1.newhost.example', '203.0.113.10'],
    ['mail.shop.example', '203.0.113.10'],
    ['mx.static-website.example', '203.0.113.10'],
    ['cable.example', '203.0.113.10'],
    ['vps123.hostgator.com', '203.0.113.10'],
    ['mail10.example', '203.0.113.10'],
  ] as const) {
    test(`not generic: ${name}`, () => assert.equal(genericPtrReason(name, ip), null, name));
  }

  test('the pattern list is data with a source', async () => {
    const genericPtr = (await import('../../../src/knowledge/generic-ptr.json', { with: { type: 'json' } })).default as { source: string; labels: string[]; addressForms: string[] };
    assert.ok(typeof genericPtr.source === 'string' && genericPtr.source.length > 10);
    assert.ok(Array.isArray(genericPtr.labels) && genericPtr.labels.length > 5);
    assert.deepEqual(validateGenericPtr(genericPtr), []);
    assert.equal(validateGenericPtr({ source: '', labels: ['Bad Label'], addressForms: ['{a}{x}'] }).length, 3);
  });
});
