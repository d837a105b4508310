// The customer makes the previewed change by hand (the panel's Zone Editor) before clicking Apply: the preview's hash no
// longer matches, but the new plan is empty — the answer is "nothing to change" (why 'nothing', a success for every
// surface), not "the zone changed since the preview" (QA: refused, exit 1). A different hand edit is still 'changed'.
// Demo files panel, loopback DNS, real SQLite.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyPlan } from '../../../src/core/plans/apply.js';
import { playPerTest } from '../../helpers/fixplay.js';

const start = playPerTest();
const D = 'florist.example';

describe('a previewed fix made by hand before it is applied', { timeout: 120_000 }, () => {
  test('exactly as previewed: refused as "nothing" (the records are already right), nothing written or recorded', async () => {
    const p = await start();
    const plan = await p.plan(D, 'spf');
    assert.equal(plan.changes.length, 1);
    const { before, after } = plan.changes[0];
    p.writeZone(D, p.zoneText(D).replace(JSON.stringify(before!.value), JSON.stringify(after!.value)));
    p.refresh();
    const byHand = p.zoneText(D);

    const out = await applyPlan({ domain: D, check: 'spf', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'refused', JSON.stringify(out));
    if (out.status !== 'refused') return;
    assert.equal(out.why, 'nothing');
    assert.equal(out.reason, 'Nothing to change: the records are already right.');
    assert.deepEqual(out.newPlan?.changes, []);
    assert.equal(p.zoneText(D), byHand, 'nothing written');
    assert.deepEqual(p.store.changesForDomain(D), [], 'nothing recorded');
  });

  test('another hand edit of the record: still "changed", with the new plan', async () => {
    const p = await start();
    const plan = await p.plan(D, 'spf');
    const { before } = plan.changes[0];
    p.writeZone(D, p.zoneText(D).replace(JSON.stringify(before!.value), JSON.stringify(before!.value.replace('v=spf1 mx', 'v=spf1 a mx'))));
    p.refresh();
    const out = await applyPlan({ domain: D, check: 'spf', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'refused', JSON.stringify(out));
    if (out.status !== 'refused') return;
    assert.equal(out.why, 'changed');
    assert.equal(out.newPlan?.changes.length, 1);
  });
});
