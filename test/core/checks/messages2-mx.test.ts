// Message QA, second pass: mx.cname and mx.unresolvable said what is wrong but not what to change, nor where — the
// panel's zone while this server's nameservers serve the domain, else the DNS host its live nameservers are (where a
// change in the panel is not seen).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { findings, rules, scenario, zoneText, type Scenario } from '../../helpers/scenario.js';

describe('messages: mx.cname and mx.unresolvable say what to change and where', () => {
  let s: Scenario;
  const oldNs = ['ns1.hostgator.com.', 'ns2.hostgator.com.'];
  before(async () => {
    s = await scenario({
      world: 'mx.mailhost.test.  300 IN CNAME server1.newhost.example.\n',
      domains: {
        // The MX names a host of the domain that is an alias of this server's name.
        'alias.test': { zone: zoneText({ mx: ['10 mx1'], extra: ['mx1\tIN\tCNAME\tserver1.newhost.example.'] }) },
        // The MX names another domain's alias.
        'foreign.test': { zone: zoneText({ mx: ['10 mx.mailhost.test.'] }) },
        // The MX names a host of the domain that has no address.
        'noaddr.test': { zone: zoneText({ mx: ['10 mx1'] }) },
        // The MX is an IP address.
        'literal.test': { zone: zoneText({ mx: ['10 203.0.113.10.'] }) },
        // Live DNS at the previous host, whose copy of the zone has the alias; the panel's zone is right.
        'moved.test': { zone: zoneText(), live: zoneText({ ns: oldNs, mx: ['10 mx1'], extra: ['mx1\tIN\tCNAME\tserver1.newhost.example.'] }) },
      },
    });
  });
  after(() => s.cleanup());

  const one = async (domain: string, rule: string) => {
    const a = await s.audit(domain);
    const fs = findings(a, rule);
    assert.equal(fs.length, 1, `${domain}: ${JSON.stringify(rules(a), null, 1)}`);
    return fs[0];
  };

  test("mx.cname at a name of the domain: name the target in the MX, or replace the CNAME with addresses — in the panel's zone", async () => {
    const f = await one('alias.test', 'mx.cname');
    assert.match(f.message, /MX mx1\.alias\.test is an alias \(CNAME → server1\.newhost\.example\)/);
    assert.match(f.message, /some senders refuse to deliver to an alias/);
    assert.match(f.message, /Name server1\.newhost\.example in the MX instead of mx1\.alias\.test, or replace the CNAME at mx1\.alias\.test with A\/AAAA records of server1\.newhost\.example's addresses in the panel's zone\./);
  });

  test("mx.cname at another domain's name: not yours to change, name the target in the MX — in the panel's zone", async () => {
    const f = await one('foreign.test', 'mx.cname');
    assert.match(f.message, /mx\.mailhost\.test is not a name of foreign\.test, so its alias is not yours to change: name server1\.newhost\.example in the MX instead in the panel's zone\./);
  });

  test('mx.cname while the live DNS is the previous host\'s: where the DNS is served, not the panel', async () => {
    const f = await one('moved.test', 'mx.cname');
    assert.match(f.message, /where moved\.test's DNS is served \(its live nameservers ns1\.hostgator\.com, ns2\.hostgator\.com are not this server's: see dns\.not-authoritative — a change in the panel's zone is not seen there\)/);
    assert.doesNotMatch(f.message, /in the panel's zone\./);
  });

  test("mx.unresolvable, no address: give the host this server's address (the panel delivers here) or name another — in the panel's zone", async () => {
    const f = await one('noaddr.test', 'mx.unresolvable');
    assert.match(f.message, /MX mx1\.noaddr\.test has no address/);
    assert.match(f.message, /Give mx1\.noaddr\.test an A \(or AAAA\) record with the address of the server that takes noaddr\.test's mail \(this server's 203\.0\.113\.10, as the panel delivers noaddr\.test's mail here\), or name a host that has one in the MX in the panel's zone\./);
  });

  test("mx.unresolvable, an IP address: publish a name and name it in the MX — in the panel's zone", async () => {
    const f = await one('literal.test', 'mx.unresolvable');
    assert.match(f.message, /is an IP address \(this server's\)/);
    assert.match(f.message, /and name it in the MX in the panel's zone\./);
  });
});
