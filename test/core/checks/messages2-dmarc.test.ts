// Message QA, second pass: dmarc.stale-destination ("rua reports go to … at a previous host (…).") did not say what the
// DMARC fix does with the address (src/core/plans/dmarc.ts): drops it, keeps the others, and where no aggregate address
// is left sends the reports to postmaster@ the domain — publishing at another DNS host, the panel's record's addresses
// first; a ruf tag with none left goes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makePlan } from '../../../src/core/plans/index.js';
import { findings, rules, scenario, zoneText, type Scenario } from '../../helpers/scenario.js';

describe('messages: dmarc.stale-destination says what the DMARC fix does with the address', () => {
  let s: Scenario;
  before(async () => {
    s = await scenario({
      domains: {
        'only.test': { zone: zoneText({ dmarc: '"v=DMARC1; p=none; rua=mailto:dmarc-reports@dreamhost.com"' }) },
        'kept.test': { zone: zoneText({ dmarc: '"v=DMARC1; p=none; rua=mailto:dmarc-reports@dreamhost.com,mailto:dmarc@kept.test"' }) },
        'ruf.test': { zone: zoneText({ dmarc: '"v=DMARC1; p=none; rua=mailto:dmarc@ruf.test; ruf=mailto:forensic@dreamhost.com"' }) },
        'moved.test': {
          zone: zoneText({ dmarc: '"v=DMARC1; p=none; rua=mailto:dmarc@moved.test"' }),
          live: zoneText({ ns: ['ns1.hostgator.com.', 'ns2.hostgator.com.'], dmarc: '"v=DMARC1; p=none; rua=mailto:dmarc-reports@dreamhost.com"' }),
        },
      },
    });
  });
  after(() => s.cleanup());

  const one = async (domain: string) => {
    const a = await s.audit(domain);
    const fs = findings(a, 'dmarc.stale-destination');
    assert.equal(fs.length, 1, `${domain}: ${JSON.stringify(rules(a), null, 1)}`);
    assert.equal(fs[0].fix, 'dmarc');
    return fs[0].message;
  };
  const plan = (domain: string) => makePlan({ domain, check: 'dmarc' }, { panel: s.panel, resolver: s.resolver });

  test('the only aggregate address: dropped, reports to postmaster@ the domain (as the plan writes)', async () => {
    assert.match(await one('only.test'), /dmarc-reports@dreamhost\.com at a previous host .*: the old host receives what receivers report about only\.test's mail, and you do not\. The DMARC fix drops it; as no other aggregate address is left, it sends the aggregate reports to postmaster@only\.test instead\./);
    assert.equal((await plan('only.test')).changes.at(-1)?.after?.value, 'v=DMARC1; p=none; rua=mailto:postmaster@only.test');
  });

  test('beside another address: dropped, the other kept (as the plan writes)', async () => {
    assert.match(await one('kept.test'), /The DMARC fix drops it and keeps dmarc@kept\.test\./);
    assert.equal((await plan('kept.test')).changes.at(-1)?.after?.value, 'v=DMARC1; p=none; rua=mailto:dmarc@kept.test');
  });

  test('the only ruf address: dropped, no failure reports asked for (as the plan writes)', async () => {
    assert.match(await one('ruf.test'), /^ruf reports go to forensic@dreamhost\.com .*The DMARC fix drops it; with no other ruf address left, the record asks for no failure reports\./);
    assert.equal((await plan('ruf.test')).changes.at(-1)?.after?.value, 'v=DMARC1; p=none; rua=mailto:dmarc@ruf.test');
  });

  test("live DNS at the previous host: the panel's record's addresses are taken (as the publish-elsewhere plan writes)", async () => {
    assert.match(await one('moved.test'), /The DMARC fix drops it; as no other aggregate address is left, it takes the panel's DMARC record's report addresses \(or, if none of those is left either, postmaster@moved\.test\)\./);
    const p = await plan('moved.test');
    assert.equal(p.mode, 'publish-elsewhere');
    assert.equal(p.changes.at(-1)?.after?.value, 'v=DMARC1; p=none; rua=mailto:dmarc@moved.test');
  });
});
