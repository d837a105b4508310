// Message QA: a domain whose nameservers still point at the previous host. The SPF, DKIM, DMARC and lockdown findings
// judge the live records served there; where the panel's zone holds other records (already right), each finding must
// say that what it judged is the live DNS at the old host, not the record the customer sees in the panel — else it
// contradicts the panel ("no DMARC record" beside the DMARC record the panel shows) and sends them to edit it in vain.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dkimRdata, findings, MAILCHANNELS, otherRsaKey, rules, scenario, zoneText, type Scenario } from '../../helpers/scenario.js';

describe('messages: live DNS served by the previous host, the panel zone already right', () => {
  let s: Scenario;
  const oldNs = ['ns1.hostgator.com.', 'ns2.hostgator.com.'];
  before(async () => {
    s = await scenario({
      server: { relay: MAILCHANNELS },
      domains: {
        // Panel: the right records. Live (HostGator): an old SPF, no DMARC, no lockdown, the old host's DKIM key.
        'moved.test': {
          zone: zoneText({ spf: '"v=spf1 a mx include:relay.mailchannels.net -all"', extra: ['_mailchannels\tIN\tTXT\t"v=mc1 auth=newhostmc"'] }),
          live: zoneText({ ns: oldNs, spf: '"v=spf1 a mx include:websitewelcome.com ~all"', dmarc: null, dkim: dkimRdata(otherRsaKey().publicB64) }),
        },
        // Panel and live the same (both lacking DMARC): the finding is true of the panel too, nothing to add.
        'same.test': {
          zone: zoneText({ ns: oldNs, dmarc: null, spf: '"v=spf1 a mx include:relay.mailchannels.net -all"', extra: ['_mailchannels\tIN\tTXT\t"v=mc1 auth=newhostmc"'] }),
        },
      },
    });
  });
  after(() => s.cleanup());

  const one = (rulesOf: string[], rule: string) => {
    assert.ok(rulesOf.some((r) => r.includes(rule)), `expected ${rule}: ${JSON.stringify(rulesOf, null, 1)}`);
  };

  test('each finding on a live record that differs from the panel says it is the live DNS at the old nameservers, and what the panel holds', async () => {
    const a = await s.audit('moved.test');
    one(rules(a), 'dns.not-authoritative');
    for (const [rule, panelHolds] of [
      ['spf.server-not-authorized', /the panel's zone holds the SPF record "v=spf1 a mx include:relay\.mailchannels\.net -all"/],
      ['spf.stale-term', /the panel's zone holds the SPF record/],
      ['dmarc.missing', /the panel's zone holds the DMARC record "v=DMARC1; p=quarantine; rua=mailto:dmarc@moved\.test"/],
      ['lockdown.missing', /the panel's zone holds the _mailchannels record "v=mc1 auth=newhostmc"/],
      // A DKIM key is not quoted (hundreds of characters).
      ['dkim.key-mismatch', /the panel's zone holds another DKIM record there/],
    ] as const) {
      const fs = findings(a, rule);
      assert.ok(fs.length, `${rule} expected: ${JSON.stringify(rules(a), null, 1)}`);
      for (const f of fs) {
        assert.match(f.message, /live DNS of moved\.test serves .*from ns1\.hostgator\.com, ns2\.hostgator\.com, not this server's nameservers/, f.message);
        assert.match(f.message, panelHolds, f.message);
        assert.match(f.message, /until the nameservers point at this server \(see dns\.not-authoritative\)/, f.message);
      }
    }
  });

  test('a finding that is just as true of the panel zone gets no such note', async () => {
    const a = await s.audit('same.test');
    const f = findings(a, 'dmarc.missing')[0];
    assert.ok(f, JSON.stringify(rules(a), null, 1));
    assert.doesNotMatch(f.message, /panel's zone holds/);
  });
});
