// The same preview applied twice (a double click, the form posted again — QA "double submit shows Refused although the
// first submission applied the fix"): the second apply answers `already` with the first one's change — applied, or
// still being applied — and never writes again; a refusal with no change of that exact plan hash stays a refusal.
// Demo files panel + fixture zones, loopback DNS, real SQLite.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PanelError } from '../../../src/core/panel.js';
import { applyPlan, domainLock, LOCK_TTL_MS, undoChange } from '../../../src/core/plans/apply.js';
import { playPerTest } from '../../helpers/fixplay.js';

const start = playPerTest();

/** A wait for the lock longer than any test: a test that expects no wait would time out (below) rather than pass. */
const WAIT_LONG = 600_000;

describe('the same preview applied twice', { timeout: 120_000 }, () => {
  test('one after the other: the second answers "already applied as change #N", nothing is written again', async () => {
    const p = await start();
    const plan = await p.plan('bakery.example', 'spf');
    const first = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps());
    assert.equal(first.status, 'applied', JSON.stringify(first));
    if (first.status !== 'applied') return;
    const zone = p.zoneText('bakery.example');

    const second = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps());
    assert.equal(second.status, 'already', JSON.stringify(second));
    if (second.status !== 'already') return;
    assert.equal(second.changeId, first.changeId);
    assert.equal(second.changeStatus, 'applied');
    assert.equal(second.verified, 'yes');
    assert.match(second.reason, new RegExp(`^This fix was already applied as change #${first.changeId}\\b`));
    assert.deepEqual(second.changes, first.plan.changes, 'the changes that change wrote (without the copy counts)');
    assert.equal(p.zoneText('bakery.example'), zone, 'nothing written again');
    assert.equal(p.store.changesForDomain('bakery.example').length, 1, 'one change in the history');
  });

  test('at the same moment: one applies, the other waits for the lock and answers with that change', async () => {
    const p = await start();
    const plan = await p.plan('bakery.example', 'spf');
    const input = { domain: 'bakery.example', check: 'spf' as const, planHash: plan.planHash };
    const outs = await Promise.all([applyPlan(input, p.deps()), applyPlan(input, p.deps())]);
    const applied = outs.filter((o) => o.status === 'applied');
    const already = outs.filter((o) => o.status === 'already');
    assert.equal(applied.length, 1, JSON.stringify(outs.map((o) => o.status)));
    assert.equal(already.length, 1, JSON.stringify(outs));
    assert.equal(already[0].status === 'already' && already[0].changeId, applied[0].status === 'applied' && applied[0].changeId);
    assert.equal(p.store.changesForDomain('bakery.example').length, 1, 'applied once');
  });

  test('while the first one is still being written (its intent open, the domain locked): "being applied now as change #N"', async () => {
    const p = await start();
    const plan = await p.plan('bakery.example', 'spf');
    const before = p.zoneText('bakery.example');
    // The first submission's fix: it holds the lock and has written its intent.
    assert.ok(p.store.tryLock(domainLock('bakery.example'), 'first-submission', LOCK_TTL_MS));
    const id = p.store.recordIntent({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash, zoneVersion: plan.zoneVersion, changes: plan.changes, byUser: 'root' });
    const t0 = Date.now();
    const out = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps({ lockWaitMs: 300 }));
    assert.equal(out.status, 'already', JSON.stringify(out));
    if (out.status !== 'already') return;
    assert.equal(out.changeId, id);
    assert.equal(out.changeStatus, 'intent');
    assert.equal(out.verified, null);
    assert.match(out.reason, new RegExp(`^This fix is being applied now as change #${id}\\b`));
    assert.ok(Date.now() - t0 >= 250, 'it waited for the first one to finish');
    assert.equal(p.zoneText('bakery.example'), before, 'nothing written');
  });

  test('the first one finishes while the second waits for the lock: the second answers with the applied change', async () => {
    const p = await start();
    const plan = await p.plan('bakery.example', 'spf');
    const owner = 'first-submission';
    assert.ok(p.store.tryLock(domainLock('bakery.example'), owner, LOCK_TTL_MS));
    // The first submission: intent now, the write and its outcome a little later, then the lock released.
    const first = (async () => {
      const id = p.store.recordIntent({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash, zoneVersion: plan.zoneVersion, changes: plan.changes, byUser: 'root' });
      await new Promise((r) => setTimeout(r, 250));
      const v = await p.panel.applyChanges('bakery.example', plan.changes, plan.zoneVersion);
      p.store.recordOutcome(id, { status: 'applied', zoneVersionAfter: v.version, verified: 'yes' });
      p.store.releaseLock(domainLock('bakery.example'), owner);
      return id;
    })();
    const out = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps({ lockWaitMs: WAIT_LONG }));
    const id = await first;
    assert.equal(out.status, 'already', JSON.stringify(out));
    if (out.status !== 'already') return;
    assert.equal(out.changeId, id);
    assert.equal(out.changeStatus, 'applied');
    assert.equal(out.verified, 'yes');
    assert.equal(p.store.changesForDomain('bakery.example').length, 1);
  });

  test('the first write got no answer from the panel (the domain kept locked to settle it): "being applied now", without waiting', async () => {
    const p = await start();
    const plan = await p.plan('bakery.example', 'spf');
    const write = p.panel.applyChanges.bind(p.panel);
    p.panel.applyChanges = async (domain, changes, version) => {
      await write(domain, changes, version);
      throw new PanelError('no-answer', 'cPanel at 127.0.0.1 did not answer (ETIMEDOUT): timed out');
    };
    const first = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps());
    assert.equal(first.status, 'failed');
    if (first.status !== 'failed') return;
    const zone = p.zoneText('bakery.example');
    const second = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps({ lockWaitMs: WAIT_LONG }));
    // Not waited for: with WAIT_LONG, waiting would outlast the test's timeout.
    assert.equal(second.status, 'already', JSON.stringify(second));
    if (second.status !== 'already') return;
    assert.equal(second.changeId, first.changeId);
    assert.equal(second.changeStatus, 'intent');
    assert.equal(p.zoneText('bakery.example'), zone);
  });

  test('the domain locked by another fix, no change of this preview: still refused as running, after the wait', async () => {
    const p = await start();
    const plan = await p.plan('bakery.example', 'spf');
    assert.ok(p.store.tryLock(domainLock('bakery.example'), 'someone-else', LOCK_TTL_MS));
    const out = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps({ lockWaitMs: 200 }));
    assert.equal(out.status, 'refused');
    if (out.status !== 'refused') return;
    assert.match(out.reason, /Another fix on bakery\.example is running/);
    assert.deepEqual(p.store.changesForDomain('bakery.example'), []);
  });

  test('the lock freed during the wait: the apply goes through (once)', async () => {
    const p = await start();
    const plan = await p.plan('bakery.example', 'spf');
    assert.ok(p.store.tryLock(domainLock('bakery.example'), 'someone-else', LOCK_TTL_MS));
    setTimeout(() => p.store.releaseLock(domainLock('bakery.example'), 'someone-else'), 200);
    const out = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps({ lockWaitMs: WAIT_LONG }));
    assert.equal(out.status, 'applied', JSON.stringify(out));
    assert.equal(p.store.changesForDomain('bakery.example').length, 1);
  });

  test('after an undo the old preview is not "already applied": refused as a changed zone', async () => {
    const p = await start();
    const plan = await p.plan('bakery.example', 'spf');
    const first = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps());
    assert.equal(first.status, 'applied');
    if (first.status !== 'applied') return;
    assert.equal((await undoChange(first.changeId, p.deps())).status, 'applied');
    const again = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps());
    assert.equal(again.status, 'refused', JSON.stringify(again));
    if (again.status !== 'refused') return;
    assert.equal(again.why, 'changed');
  });

  // Found by review: any applied change with the hash was named, however the zone had changed since — an old preview
  // sent again after the record was broken again answered "already applied (verified: yes)".
  test('the records changed since that change: the old preview is refused with the new plan, not "already applied"', async () => {
    const p = await start();
    const plan = await p.plan('bakery.example', 'spf');
    const first = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps());
    assert.equal(first.status, 'applied');
    p.writeZone('bakery.example', p.zoneText('bakery.example').replace(/"v=spf1 [^"]*"/, '"v=spf1 +all"'));
    p.refresh();
    const again = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps());
    assert.equal(again.status, 'refused', JSON.stringify(again));
    if (again.status !== 'refused') return;
    assert.equal(again.why, 'changed');
    assert.ok(again.newPlan && again.newPlan.changes.length > 0, 'the new plan has a change to make');
  });

  test('a change of another fix, or one that failed, is never named', async () => {
    const p = await start();
    const plan = await p.plan('bakery.example', 'spf');
    // A failed change with this very hash, and an applied one of another check with it: neither counts.
    const failed = p.store.recordIntent({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash, zoneVersion: plan.zoneVersion, changes: plan.changes, byUser: 'root' });
    p.store.recordOutcome(failed, { status: 'failed', error: 'test' });
    const other = p.store.recordIntent({ domain: 'bakery.example', check: 'dmarc', planHash: plan.planHash, zoneVersion: plan.zoneVersion, changes: [], byUser: 'root' });
    p.store.recordOutcome(other, { status: 'applied' });
    const out = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: 'sha256:' + '0'.repeat(64) }, p.deps());
    assert.equal(out.status, 'refused');
    const stale = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps());
    assert.equal(stale.status, 'applied', 'the preview was never applied: it applies now');
    assert.equal(p.store.changeWithPlanHash('florist.example', 'spf', plan.planHash), null, 'another domain: none');
  });
});
