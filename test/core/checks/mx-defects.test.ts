// MX check defects reproduced by QA: routing advice that would break mail (a live zone still served by the previous
// host, an MX without an address, an IP literal, a PTR lookup that got no answer), an MX host resolving to this server
// and to an old host at once, and an MX at another machine of this server's own provider.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createResolver } from '../../../src/adapters/dns/resolver.js';
import { startDnsServer, type DnsServer } from '../../../src/adapters/dns/server.js';
import { FilesPanel } from '../../../src/adapters/panels/files/index.js';
import { auditDomain } from '../../../src/core/audit.js';
import { mxCheck } from '../../../src/core/checks/mx.js';
import { makeClassifier } from '../../../src/core/classify.js';
import type { Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { RecordIndex } from '../../../src/core/zone.js';
import { startDemo, type Demo } from '../../../src/demo/world.js';
import { defaultKnowledge } from '../../../src/knowledge/index.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from './context.js';

const rules = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.subject ? ` [${f.subject}]` : ''}`);
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}: ${f.message}`).join('\n');
const rec = (name: string, type: string, value: string): ZoneRecord => ({ name, ttl: 300, type, value });
/** The advice that breaks mail when the MX only looks foreign (no address, stale copy of the zone, DNS error). */
const GO_REMOTE = /Set the panel's mail routing to remote\./;

describe('defect 1: a live zone still served by the previous host (the demo lawyer.example)', () => {
  const D = 'lawyer.example';
  const panel = [rec(D, 'NS', 'ns1.newhost.example'), rec(D, 'NS', 'ns2.newhost.example'), rec(D, 'MX', '10 mail.lawyer.example'), rec(`mail.${D}`, 'A', SERVER_IP)];
  const live: ZoneMap = { [D]: { NS: ['ns1.hostgator.com', 'ns2.hostgator.com'], MX: [{ priority: 0, exchange: D }], A: ['192.0.2.77'] } };

  test('live NS at HostGator, live MX 0 lawyer.example (old IP, no PTR), panel MX this server, routing local: mx.stale naming the nameservers, no routing advice', async () => {
    const fs = await mxCheck(checkContext(D, live, {}, panel));
    assert.ok(!fs.some((f) => f.rule === 'mx.routing-mismatch'), show(fs));
    const stale = fs.find((f) => f.rule === 'mx.stale');
    assert.ok(stale, show(fs));
    assert.equal(stale.severity, 'fail');
    assert.equal(stale.subject, D);
    assert.equal(stale.classification?.class, 'stale');
    assert.match(stale.message, /ns1\.hostgator\.com/);
    assert.match(stale.message, /nameservers/);
    assert.doesNotMatch(stale.message, GO_REMOTE);
  });

  test('live NS at an unknown DNS host (not this server, not a known previous host): the routing warning points at the nameservers', async () => {
    const map: ZoneMap = { [D]: { NS: ['ns1.otherdns.example'], MX: [{ priority: 0, exchange: D }], A: ['192.0.2.77'] } };
    const fs = await mxCheck(checkContext(D, map, {}, panel));
    const w = fs.find((f) => f.rule === 'mx.routing-mismatch');
    assert.ok(w, show(fs));
    assert.equal(w.severity, 'warn');
    assert.match(w.message, /ns1\.otherdns\.example/);
    assert.match(w.message, /nameservers/);
    assert.doesNotMatch(w.message, GO_REMOTE);
    assert.match(w.message, /only if/, 'any routing advice is conditional');
  });

  test('served by this server, MX at an unknown foreign host, routing local: the routing advice stays (beside pointing the MX here)', async () => {
    const map: ZoneMap = { [D]: { NS: ['ns1.newhost.example'], MX: [{ priority: 10, exchange: 'mx.elsewhere.example' }] }, 'mx.elsewhere.example': { A: ['198.51.100.9'] } };
    const fs = await mxCheck(checkContext(D, map, {}, panel));
    // An MX nothing identifies may as well be where the domain came from: both ways out (mx-routing-advice.test.ts).
    assert.ok(fs.some((f) => f.rule === 'mx.routing-mismatch' && /set the panel's mail routing to remote\./i.test(f.message) && /point the MX at this server/.test(f.message)), show(fs));
  });

  describe('the shipped demo over loopback DNS', () => {
    let demo: Demo;
    before(async () => {
      demo = await startDemo();
    });
    after(() => demo.close());
    test('lawyer.example: mx.stale pointing at the nameservers, never "set the routing to remote"', async () => {
      const resolver = createResolver({ servers: [demo.dns.address], timeoutMs: 1000, tries: 2 });
      try {
        const a = await auditDomain(D, { panel: new FilesPanel(demo.panelDir), resolver, checks: ['mx', 'dns'] });
        const mx = a.findings.filter((f) => f.check === 'mx');
        assert.ok(!mx.some((f) => f.rule === 'mx.routing-mismatch' || GO_REMOTE.test(f.message)), show(mx));
        const stale = mx.find((f) => f.rule === 'mx.stale');
        assert.ok(stale, show(mx));
        assert.match(stale.message, /ns1\.hostgator\.com/);
        assert.ok(a.findings.some((f) => f.rule === 'dns.not-authoritative'), show(a.findings));
      } finally {
        resolver.close();
      }
    });
  });
});

describe('defect 2: no routing advice when the MX is broken or not known', () => {
  const D = 'shop.example';
  test('MX host without an address: mx.unresolvable fail and no routing warning', async () => {
    const fs = await mxCheck(checkContext(D, { [D]: { MX: [{ priority: 10, exchange: 'mail.shop.example' }] }, 'mail.shop.example': {} }));
    assert.ok(fs.some((f) => f.rule === 'mx.unresolvable' && f.severity === 'fail'), show(fs));
    assert.ok(!fs.some((f) => f.rule === 'mx.routing-mismatch'), show(fs));
  });

  test('MX value an IP literal: mx.unresolvable saying an MX must be a name (RFC 2181 §10.3), no routing warning, no lookups of it', async () => {
    const ctx = checkContext(D, { [D]: { MX: [{ priority: 10, exchange: SERVER_IP }] } });
    const fs = await mxCheck(ctx);
    const f = fs.find((x) => x.rule === 'mx.unresolvable');
    assert.ok(f, show(fs));
    assert.equal(f.severity, 'fail');
    assert.match(f.message, /IP address/);
    assert.match(f.message, /RFC 2181 §10\.3/);
    assert.match(f.message, /this server's/);
    assert.ok(!fs.some((x) => x.rule === 'mx.routing-mismatch' || x.rule === 'mx.host'), show(fs));
  });

  test('the PTR lookup of the MX address times out: unknown, never "matches nothing known" and routing advice', async () => {
    const map: ZoneMap = { [D]: { MX: [{ priority: 10, exchange: 'mail.shop.example' }] }, 'mail.shop.example': { A: ['198.51.100.20'] }, '20.100.51.198.in-addr.arpa': { PTR: 'TIMEOUT' } };
    const fs = await mxCheck(checkContext(D, map));
    assert.deepEqual(rules(fs), ['unknown mx.dns-error [mail.shop.example]'], show(fs));
    assert.match(fs[0].message, /PTR/);
    assert.match(fs[0].message, /timeout/);
  });

  test('the same with a PTR answer (Bluehost): mx.stale (unchanged)', async () => {
    const map: ZoneMap = { [D]: { MX: [{ priority: 10, exchange: 'mail.shop.example' }] }, 'mail.shop.example': { A: ['198.51.100.20'] }, '20.100.51.198.in-addr.arpa': { PTR: ['box20.bluehost.com'] } };
    assert.deepEqual(rules(await mxCheck(checkContext(D, map))), ['fail mx.stale [mail.shop.example]']);
  });
});

describe("defect 3: an MX host with this server's address and a previous host's", () => {
  const D = 'shop.example';
  for (const order of [
    ['198.51.100.20', SERVER_IP],
    [SERVER_IP, '198.51.100.20'],
  ]) {
    test(`A ${order.join(', ')} (the other PTR at Bluehost): mx.stale naming the old address`, async () => {
      const map: ZoneMap = { [D]: { MX: [{ priority: 10, exchange: 'mail.shop.example' }] }, 'mail.shop.example': { A: order }, '20.100.51.198.in-addr.arpa': { PTR: ['box20.bluehost.com'] } };
      const fs = await mxCheck(checkContext(D, map));
      const f = fs.find((x) => x.rule === 'mx.stale');
      assert.ok(f, show(fs));
      assert.equal(f.severity, 'fail');
      assert.equal(f.subject, 'mail.shop.example');
      assert.match(f.message, /198\.51\.100\.20/);
      assert.equal(f.classification?.class, 'stale');
      assert.ok(!fs.some((x) => x.rule === 'mx.ok'), show(fs));
    });
  }

  test('this server and an unknown second address: no mx.stale (unchanged: this server)', async () => {
    const map: ZoneMap = { [D]: { MX: [{ priority: 10, exchange: 'mail.shop.example' }] }, 'mail.shop.example': { A: [SERVER_IP, '198.51.100.30'] } };
    const fs = await mxCheck(checkContext(D, map));
    assert.ok(!fs.some((x) => x.rule === 'mx.stale' || x.rule === 'mx.routing-mismatch'), show(fs));
  });

  test('over the wire: the mx check sees the old Bluehost address beside this server', async () => {
    const dns: DnsServer = await startDnsServer({
      data: { [D]: { MX: [{ priority: 10, exchange: 'mail.shop.example' }] }, 'mail.shop.example': { A: [SERVER_IP, '198.51.100.20'] }, '20.100.51.198.in-addr.arpa': { PTR: ['box20.bluehost.com'] } },
    });
    const resolver = createResolver({ servers: [dns.address], timeoutMs: 1000 });
    try {
      const settings: MailSettings = { domain: D, hostname: 'server1.newhost.example', ips: [SERVER_IP], helo: 'server1.newhost.example', nameservers: ['ns1.newhost.example'], dkim: { selector: 'default', signing: true }, routing: 'local', relay: null };
      const records = [rec(D, 'MX', '10 mail.shop.example'), rec('mail.shop.example', 'A', SERVER_IP), rec('mail.shop.example', 'A', '198.51.100.20')];
      const zone = { domain: D, serial: 1, records, version: 't' };
      const zoneIndex = new RecordIndex(records);
      const classifier = makeClassifier({ domain: D, zone, zoneIndex, settings, resolver, knowledge: defaultKnowledge });
      const fs = await mxCheck({ domain: D, zone, zoneIndex, settings, resolver, classifier, knowledge: defaultKnowledge, options: {} });
      assert.ok(fs.some((f) => f.rule === 'mx.stale' && /198\.51\.100\.20/.test(f.message)), show(fs));
    } finally {
      resolver.close();
      await dns.close();
    }
  });
});

describe("defect 4: an MX at another machine of this server's own provider", () => {
  const D = 'shop.example';
  test('server vps123.hostgator.com, MX gator4100.hostgator.com at another address: not this server, no mx.ok', async () => {
    const map: ZoneMap = { [D]: { MX: [{ priority: 0, exchange: 'gator4100.hostgator.com' }] }, 'gator4100.hostgator.com': { A: ['192.0.2.41'] }, '41.2.0.192.in-addr.arpa': { PTR: ['gator4100.hostgator.com'] } };
    const fs = await mxCheck(checkContext(D, map, { hostname: 'vps123.hostgator.com', helo: 'vps123.hostgator.com' }));
    assert.ok(!fs.some((f) => f.rule === 'mx.ok'), show(fs));
    const host = fs.find((f) => f.rule === 'mx.host');
    assert.equal(host?.classification?.class, 'unknown', show(fs));
    const w = fs.find((f) => f.rule === 'mx.routing-mismatch');
    assert.ok(w && w.severity === 'warn', show(fs));
    assert.match(w.message, /192\.0\.2\.41/);
    assert.doesNotMatch(w.message, GO_REMOTE);
    assert.match(w.message, /only if/, 'any routing advice is conditional');
  });

  test('the same org, another machine, routing remote: no "set the routing to local" advice', async () => {
    const map: ZoneMap = { [D]: { MX: [{ priority: 10, exchange: 'oldbox7.newhost.example' }] }, 'oldbox7.newhost.example': { A: ['192.0.2.77'] } };
    const fs = await mxCheck(checkContext(D, map, { routing: 'remote' }));
    assert.ok(!fs.some((f) => f.rule === 'mx.routing-mismatch'), show(fs));
  });

  test("the same org and this server's address: this server (unchanged)", async () => {
    const map: ZoneMap = { [D]: { MX: [{ priority: 10, exchange: 'mx.newhost.example' }] }, 'mx.newhost.example': { A: [SERVER_IP] } };
    assert.deepEqual(rules(await mxCheck(checkContext(D, map))), ['info mx.host [mx.newhost.example]', 'pass mx.ok']);
  });
});
