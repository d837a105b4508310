// Message QA, second pass: spf.weak-all said "use ~all or -all" without what the SPF fix writes (it replaces ?all with
// ~all, ends a record without an all term with ~all, never weakens -all: src/core/plans/spf.ts); spf.stale-term did not
// say the fix drops the term, and for an `mx` term naming the MX mx.stale reports (the demo's dentist.example) it lacked
// the plan's caution — do not apply yet if the mailboxes are still at the old host.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makePlan } from '../../../src/core/plans/index.js';
import { findings, rules, scenario, zoneText, type Scenario } from '../../helpers/scenario.js';

describe('messages: spf.weak-all and spf.stale-term say what the SPF fix writes', () => {
  let s: Scenario;
  before(async () => {
    s = await scenario({
      domains: {
        'weak.test': { zone: zoneText({ spf: '"v=spf1 a mx ip4:203.0.113.10 ?all"' }) },
        'noall.test': { zone: zoneText({ spf: '"v=spf1 a mx ip4:203.0.113.10"' }) },
        'two.test': { zone: zoneText({ spf: '"v=spf1 a ip4:203.0.113.10 ?all"', extra: ['@\tIN\tTXT\t"v=spf1 mx -all"'] }) },
        // Declares no mail (null MX, an SPF record that authorises nobody): no fix; what to do by hand.
        'nomail.test': { zone: zoneText({ mx: ['0 .'], spf: '"v=spf1 ?all"' }) },
        // The demo's dentist.example: mail.<domain> still at the old host's address, `mx` in the SPF record.
        'dentist.test': { zone: zoneText({ mailA: '198.51.100.20', spf: '"v=spf1 a mx include:websitewelcome.com ~all"' }) },
      },
    });
  });
  after(() => s.cleanup());

  const weak = async (domain: string) => {
    const a = await s.audit(domain);
    const fs = findings(a, 'spf.weak-all');
    assert.equal(fs.length, 1, `${domain}: ${JSON.stringify(rules(a), null, 1)}`);
    return fs[0];
  };
  const written = async (domain: string) => (await makePlan({ domain, check: 'spf' }, { panel: s.panel, resolver: s.resolver })).changes.flatMap((c) => (c.after ? [c.after.value] : [])).join(' | ');

  test('?all: what neutral means, and that the fix replaces it with ~all (-all by hand, kept) — as the plan writes', async () => {
    const f = await weak('weak.test');
    assert.equal(f.fix, 'spf');
    assert.match(f.message, /ends in \?all \(neutral\): receivers treat mail from servers it does not list as if weak\.test had no SPF record/);
    assert.match(f.message, /The SPF fix replaces \?all with ~all \(softfail: receivers treat mail from unlisted servers as suspect\)\. -all \(fail: .*\) is stricter — set it by hand once every server and service that sends as weak\.test is in the record; the SPF fix keeps it\./);
    assert.doesNotMatch(f.message, /use ~all or -all/);
    assert.match(await written('weak.test'), /~all$/);
  });

  test('no all term: the fix ends the record with ~all — as the plan writes', async () => {
    const f = await weak('noall.test');
    assert.match(f.message, /has no all term: .*The SPF fix ends the record with ~all \(softfail/);
    assert.match(await written('noall.test'), /~all$/);
  });

  test('several SPF records: the fix merges them, ending in the strictest all term — as the plan writes', async () => {
    const f = await weak('two.test');
    assert.match(f.message, /The SPF fix merges the SPF records into one \(see spf\.multiple\) ending in the strictest all term among them, ~all in place of \?all\./);
    assert.match(await written('two.test'), /-all$/);
  });

  test('no fix offered (declares no mail): what to write by hand, never what the fix writes', async () => {
    const f = await weak('nomail.test');
    assert.equal(f.fix, undefined);
    assert.match(f.message, /End it with ~all \(softfail: .*\), or -all once every server and service that sends as nomail\.test is in it\. The SPF fix is not offered/);
    assert.doesNotMatch(f.message, /The SPF fix replaces/);
  });

  test("spf.stale-term: the fix drops it; the `mx` naming mx.stale's MX carries the plan's caution, an include does not", async () => {
    const a = await s.audit('dentist.test');
    assert.ok(findings(a, 'mx.stale').length, JSON.stringify(rules(a), null, 1));
    const mx = findings(a, 'spf.stale-term', 'mx')[0];
    assert.ok(mx, JSON.stringify(rules(a), null, 1));
    assert.match(mx.message, /It lets the old host send as dentist\.test and costs lookups\. The SPF fix drops it\. If dentist\.test's mailboxes are still at the previous host, do not apply the SPF fix yet: set the panel's mail routing for dentist\.test to remote \(mx\.stale's other way out\), then preview again — the fix then keeps mx, which names the server that takes the mail\./);
    const inc = findings(a, 'spf.stale-term', 'include:websitewelcome.com')[0];
    assert.ok(inc, JSON.stringify(rules(a), null, 1));
    assert.match(inc.message, /The SPF fix drops it\.$/);
    // The plan says the same of each.
    const notes = (await makePlan({ domain: 'dentist.test', check: 'spf' }, { panel: s.panel, resolver: s.resolver })).notes.join('\n');
    assert.match(notes, /Drops mx: .*If dentist\.test's mailboxes are still at the previous host, do not apply this yet/);
    assert.match(notes, /Drops include:websitewelcome\.com/);
  });
});
