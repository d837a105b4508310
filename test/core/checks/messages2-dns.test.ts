// Message QA, second pass: with the nameservers still at the previous host, mx.stale (fail) says "point the nameservers
// at this server (see dns.not-authoritative)" while dns.not-authoritative itself (warn) read as one option among two
// ("Fixes are shown as the exact records to publish at the DNS host that answers, or change the nameservers at the
// registrar") — nothing said it is the cause to fix first, nor what to set the nameservers to. Severity unchanged.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { findings, rules, scenario, zoneText, type Scenario } from '../../helpers/scenario.js';

describe('messages: dns.not-authoritative says it is the thing to fix first when the nameservers are the old host\'s', () => {
  let s: Scenario;
  before(async () => {
    s = await scenario({
      world: 'ns1.dnshost.test.  300 IN A 198.51.100.53\nns2.dnshost.test.  300 IN A 198.51.100.54\n',
      domains: {
        // The demo's lawyer.example: live NS at HostGator, whose copy sends the mail to the old server.
        'lawyer.test': { zone: zoneText(), live: zoneText({ ns: ['ns1.hostgator.com.', 'ns2.hostgator.com.'], mailA: '192.0.2.77' }) },
        // DNS hosted elsewhere on purpose (nameservers nothing identifies as a previous host's), same records.
        'dnshost.test': { zone: zoneText(), live: zoneText({ ns: ['ns1.dnshost.test.', 'ns2.dnshost.test.'] }) },
      },
    });
  });
  after(() => s.cleanup());

  test("the previous host's nameservers: the cause of the findings pointing here, fixed first, with the nameservers to set", async () => {
    const a = await s.audit('lawyer.test');
    const f = findings(a, 'dns.not-authoritative')[0];
    assert.ok(f, JSON.stringify(rules(a), null, 1));
    assert.equal(f.severity, 'warn');
    assert.ok(findings(a, 'mx.stale').some((m) => m.severity === 'fail' && /see dns\.not-authoritative/.test(m.message)), JSON.stringify(rules(a), null, 1));
    assert.match(f.message, /Fix this first: receivers get the old host's copy of the zone — its MX \(mail may go to the old server\), SPF, DKIM and DMARC — whatever the panel's zone holds/);
    assert.match(f.message, /The findings that say "see dns\.not-authoritative" come from that copy: at the registrar of lawyer\.test, set its nameservers to this server's \(ns1\.newhost\.example, ns2\.newhost\.example\)/);
    assert.match(f.message, /Until then, fixes are shown as the exact records to publish at the DNS host that answers\./);
  });

  test('nameservers of a DNS host nothing marks as the old host\'s: both ways stay open, no "fix this first"', async () => {
    const a = await s.audit('dnshost.test');
    const f = findings(a, 'dns.not-authoritative')[0];
    assert.ok(f, JSON.stringify(rules(a), null, 1));
    assert.doesNotMatch(f.message, /Fix this first/);
    assert.match(f.message, /Fixes are shown as the exact records to publish at the DNS host that answers, or change the nameservers at the registrar to this server's \(ns1\.newhost\.example, ns2\.newhost\.example\)\./);
  });
});
