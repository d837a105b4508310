// History and identical records (QA "never lose a record"): a zone holding two copies of one record, a fix whose
// before and after are the same text (a string re-split), a later TTL edit, and a CNAME put back by an undo. Presence
// alone cannot tell the state before such a write from the state after it: apply counts the copies.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyPlan, reconcile, undoChange } from '../../../src/core/plans/apply.js';
import { playPerTest, type Play } from '../../helpers/fixplay.js';

const start = playPerTest();
const crashAt = (where: 'after-intent' | 'after-write') => (w: string) => {
  if (w === where) throw new Error(`injected crash ${w}`);
};
const SPF_LINE = '@\tIN\tTXT\t"v=spf1 +a +mx include:relay.mailchannels.net ~all"\n';
const spfCount = (p: Play, d: string) => p.zoneText(d).split('\n').filter((l) => l.includes('v=spf1')).length;

/** clean.example with its SPF record twice (as a migration tool may leave it). */
function duplicate(p: Play): string {
  const d = 'clean.example';
  const text = p.zoneText(d);
  assert.ok(text.includes(SPF_LINE));
  p.writeZone(d, text.replace(SPF_LINE, SPF_LINE + SPF_LINE));
  p.refresh();
  return d;
}

describe('identical records in history', () => {
  test('removing one of two identical SPF records: verified, and undo puts the copy back', async () => {
    const p = await start();
    const d = duplicate(p);
    const plan = await p.plan(d, 'spf');
    assert.deepEqual(plan.changes.map((c) => c.action), ['remove']);
    const out = await applyPlan({ domain: d, check: 'spf', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'applied');
    if (out.status !== 'applied') return;
    assert.equal(spfCount(p, d), 1);
    assert.equal(out.verified, 'yes');
    const undo = await undoChange(out.changeId, p.deps());
    assert.equal(undo.status, 'applied', (undo as { reason?: string }).reason);
    if (undo.status === 'applied') assert.equal(undo.verified, 'yes');
    assert.equal(spfCount(p, d), 2);
    assert.equal(p.store.getChange(out.changeId)!.status, 'reverted');
  });

  test('a crash after that write is reconciled as applied (one copy gone), after the intent as not written', async () => {
    const p = await start();
    const d = duplicate(p);
    const plan = await p.plan(d, 'spf');
    await assert.rejects(applyPlan({ domain: d, check: 'spf', planHash: plan.planHash }, p.deps({ crashPoint: crashAt('after-write') })), /injected crash/);
    assert.equal(spfCount(p, d), 1);
    const [written] = p.store.pendingIntents();
    assert.deepEqual(await reconcile(p.deps()), [{ id: written.id, outcome: 'applied' }]);
    // Put the copy back (undo), then crash before the write of the same fix: not written.
    assert.equal((await undoChange(written.id, p.deps())).status, 'applied');
    p.refresh();
    const again = await p.plan(d, 'spf');
    await assert.rejects(applyPlan({ domain: d, check: 'spf', planHash: again.planHash }, p.deps({ crashPoint: crashAt('after-intent') })), /injected crash/);
    const [notWritten] = p.store.pendingIntents();
    assert.deepEqual(await reconcile(p.deps()), [{ id: notWritten.id, outcome: 'not-written' }]);
    assert.equal(spfCount(p, d), 2);
  });

  test('a fix that only re-splits an over-long string: a crash before the write is not "applied"', async () => {
    const p = await start();
    const d = 'clean.example';
    const long = `v=spf1 +a +mx ${Array.from({ length: 16 }, (_, i) => `ip4:198.18.${i + 1}.0/24`).join(' ')} include:relay.mailchannels.net ~all`;
    assert.ok(Buffer.byteLength(long) > 255);
    p.writeZone(d, p.zoneText(d).replace(SPF_LINE, `@\tIN\tTXT\t"${long}"\n`));
    // (Not served: a string over 255 octets cannot be put on the wire — the live answer stays the old one.)
    const plan = await p.plan(d, 'spf');
    assert.equal(plan.changes.length, 1);
    assert.equal(plan.changes[0].before!.txt!.join(''), plan.changes[0].after!.txt!.join(''), 'the same text, other strings');
    const before = p.zoneText(d);
    await assert.rejects(applyPlan({ domain: d, check: 'spf', planHash: plan.planHash }, p.deps({ crashPoint: crashAt('after-intent') })), /injected crash/);
    const [pending] = p.store.pendingIntents();
    assert.deepEqual(await reconcile(p.deps()), [{ id: pending.id, outcome: 'not-written' }]);
    assert.equal(p.zoneText(d), before);
    // Applied for real, then reconciled after a crash after the write: applied.
    const plan2 = await p.plan(d, 'spf');
    await assert.rejects(applyPlan({ domain: d, check: 'spf', planHash: plan2.planHash }, p.deps({ crashPoint: crashAt('after-write') })), /injected crash/);
    const [written] = p.store.pendingIntents();
    assert.deepEqual(await reconcile(p.deps()), [{ id: written.id, outcome: 'applied' }]);
  });

  test('undo refuses when the record was edited after the fix (only its TTL)', async () => {
    const p = await start();
    const d = 'bakery.example';
    const plan = await p.plan(d, 'spf');
    const out = await applyPlan({ domain: d, check: 'spf', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'applied');
    if (out.status !== 'applied') return;
    const after = out.plan.changes[0].after!;
    const text = p.zoneText(d);
    const line = text.split('\n').find((l) => l.includes(after.txt![0]))!;
    assert.ok(line, text);
    p.writeZone(d, text.replace(line, line.replace(/^(\S+\s+)(\d+\s+)?IN/, '$1300 IN')));
    p.refresh();
    const undo = await undoChange(out.changeId, p.deps());
    assert.equal(undo.status, 'refused');
    if (undo.status === 'refused') assert.match(undo.reason, /TTL is now 300.*overwrite a later edit/);
  });

  test('undo of a DKIM fix that replaced a CNAME: the CNAME is back and verified', async () => {
    const p = await start();
    const d = 'dkimcname.example';
    const plan = await p.plan(d, 'dkim');
    const out = await applyPlan({ domain: d, check: 'dkim', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'applied');
    if (out.status !== 'applied') return;
    const undo = await undoChange(out.changeId, p.deps());
    assert.equal(undo.status, 'applied');
    if (undo.status === 'applied') assert.equal(undo.verified, 'yes');
    assert.match(p.zoneText(d), /^default\._domainkey\s.*CNAME\s+default\._domainkey\.gator4123\.websitewelcome\.com\./m);
  });
});
