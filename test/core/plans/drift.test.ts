// A fix applied in the panel whose zone change has not reached the live DNS yet (dns.drift): the checks judge the live
// records and offered the fix again, which then answered "Nothing to change: the records are already right" (QA, issue
// 3: a finding's fix must be one command away from fixed). Now such findings offer no fix and say why; a drift the
// panel's copy does not fix (the copy is wrong too) keeps the fix.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { auditDomain } from '../../../src/core/audit.js';
import { applyPlan } from '../../../src/core/plans/apply.js';
import { startPlay, type Play } from '../../helpers/fixplay.js';

const TODAY = () => new Date('2026-11-27T00:00:00Z');

describe('dns.drift with the panel’s copy already right: no finding offers the fix', () => {
  let play: Play | null = null;
  afterEach(async () => {
    await play?.close();
    play = null;
  });

  const audit = (p: Play, domain: string) => auditDomain(domain, { panel: p.deps().panel, resolver: p.resolver(), now: TODAY });

  test('bakery.example: SPF fixed in the panel, the live DNS still old → the SPF findings offer no fix and say it is propagating', async () => {
    const p = (play = await startPlay({ autoRefresh: false }));
    const before = await audit(p, 'bakery.example');
    assert.ok(before.findings.some((f) => f.check === 'spf' && f.fix === 'spf'), 'offered before the fix');
    const plan = await p.plan('bakery.example', 'spf');
    const out = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'applied', JSON.stringify(out));
    // The live DNS has not picked the change up (no refresh): drift, and the SPF findings as before — without the fix.
    const a = await audit(p, 'bakery.example');
    assert.ok(a.findings.some((f) => f.rule === 'dns.drift' && f.subject === 'bakery.example TXT'), a.findings.map((f) => f.rule).join(', '));
    const spf = a.findings.filter((f) => f.check === 'spf' && (f.severity === 'fail' || f.severity === 'warn'));
    assert.ok(spf.length > 0);
    for (const f of spf) {
      assert.equal(f.fix, undefined, `${f.rule} still offers the fix`);
      assert.match(f.message, /The panel's copy of the zone is already right for this \(dns\.drift\).*The SPF fix has nothing to change/);
    }
    // Other checks' fixes are untouched (the DMARC fix still has work in the panel's copy).
    const dmarcBefore = before.findings.filter((f) => f.fix === 'dmarc').map((f) => f.rule);
    assert.deepEqual(a.findings.filter((f) => f.fix === 'dmarc').map((f) => f.rule), dmarcBefore);
    // Once the live DNS serves the panel's copy: no drift, nothing left for SPF.
    p.refresh();
    const after = await audit(p, 'bakery.example');
    assert.ok(!after.findings.some((f) => f.rule === 'dns.drift'));
    assert.ok(!after.findings.some((f) => f.check === 'spf' && f.fix));
  });

  test('a drift whose panel copy is wrong too keeps the fix', async () => {
    const p = (play = await startPlay({ autoRefresh: false }));
    // The panel's copy changes (still with the previous host's include), the live DNS keeps the old record.
    const zone = p.zoneText('bakery.example');
    const edited = zone.replace(/include:websitewelcome\.com/, 'include:websitewelcome.com include:_spf.google.com');
    assert.notEqual(edited, zone);
    p.writeZone('bakery.example', edited);
    const a = await audit(p, 'bakery.example');
    assert.ok(a.findings.some((f) => f.rule === 'dns.drift'));
    assert.ok(a.findings.some((f) => f.rule === 'spf.stale-term' && f.fix === 'spf'));
  });
});
