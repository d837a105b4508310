// Verifying an applied change again later (src/core/plans/reverify.ts, shared by the web's "Verify again" and history
// re-check and the CLI's `verify` and `history`), and a change whose records a later fix replaced (QA, task E, D4):
// it used to turn "verified: no" when checked again — its records are gone by design. Now it is "replaced by change M",
// and it is not checked again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Change, ZoneRecord } from '../../../src/core/model.js';
import { applyPlan, undoChange, type StoredChange } from '../../../src/core/plans/apply.js';
import { cannotReverify, replacedBy, reverifyChange, reverifyDue, REVERIFY_AFTER_MS, withReplacements } from '../../../src/core/plans/reverify.js';
import { playPerTest } from '../../helpers/fixplay.js';

const start = playPerTest();

const txt = (value: string, name = 'a.example'): ZoneRecord => ({ name, ttl: 300, type: 'TXT', value, txt: [value] });
const edit = (before: string, after: string): Change => ({ action: 'edit', name: 'a.example', type: 'TXT', ttl: 300, before: txt(before), after: txt(after) });
let next = 1;
function change(changes: Change[], extra: Partial<StoredChange> = {}): StoredChange {
  return { id: next++, domain: 'a.example', check: 'spf', planHash: 'sha256:x', zoneVersionBefore: null, zoneVersionAfter: null, changes, byUser: 'root', status: 'applied', verified: 'yes', undoOf: null, undoneBy: null, ...extra };
}

test('replacedBy: the first later standing change that edited or removed a record this one wrote', () => {
  const a = change([edit('v=spf1 old', 'v=spf1 new')]);
  const unrelated = change([{ action: 'add', name: '_dmarc.a.example', type: 'TXT', ttl: 300, before: null, after: txt('v=DMARC1; p=none', '_dmarc.a.example') }]);
  const b = change([edit('v=spf1 new', 'v=spf1 newer')]);
  const c = change([edit('v=spf1 newer', 'v=spf1 newest')]);
  assert.equal(replacedBy(a, [c, b, unrelated, a]), b.id);
  assert.equal(replacedBy(b, [c, b, unrelated, a]), c.id);
  assert.equal(replacedBy(c, [c, b, unrelated, a]), null);
  assert.equal(replacedBy(a, [unrelated, a]), null);
  // Name and type compared as DNS compares them.
  const shouted = change([{ ...edit('v=spf1 new', 'v=spf1 other'), before: { ...txt('v=spf1 new'), name: 'A.Example.' } }]);
  assert.equal(replacedBy(a, [shouted]), shouted.id);
});

test('replacedBy: a later change that was undone, failed or is still an intent replaced nothing; nor is an undone change "replaced"', () => {
  const a = change([edit('v=spf1 old', 'v=spf1 new')]);
  const undone = change([edit('v=spf1 new', 'v=spf1 x')], { status: 'reverted', undoneBy: 99 });
  const failed = change([edit('v=spf1 new', 'v=spf1 y')], { status: 'failed' });
  const intent = change([edit('v=spf1 new', 'v=spf1 z')], { status: 'intent' });
  assert.equal(replacedBy(a, [undone, failed, intent]), null);
  const b = change([edit('v=spf1 new', 'v=spf1 w')]);
  assert.equal(replacedBy({ ...a, status: 'reverted', undoneBy: 98 }, [b]), null);
  assert.equal(replacedBy(a, [{ ...b, domain: 'other.example' }]), null, 'another domain');
});

test('replacedBy: a later change that put back a record this one removed', () => {
  const a = change([{ action: 'remove', name: 'a.example', type: 'TXT', ttl: 300, before: txt('v=spf1 second'), after: null }]);
  const b = change([{ action: 'add', name: 'a.example', type: 'TXT', ttl: 300, before: null, after: txt('v=spf1 second') }]);
  assert.equal(replacedBy(a, [b]), b.id);
});

test('replacedBy: a record a still later fix wrote back as this change left it is its own again; of several taken, the newest taker is named', () => {
  // Review: change 1 writes R1, change 2 edits R1 → R2, change 3 (a new fix, not an undo) writes R1 again. The zone
  // holds change 1's record, yet it stayed "replaced by #2" (its undo and Verify again hidden).
  const a = change([edit('v=spf1 old', 'v=spf1 new')]);
  const b = change([edit('v=spf1 new', 'v=spf1 newer')]);
  const c = change([edit('v=spf1 newer', 'v=spf1 new')]);
  assert.equal(replacedBy(a, [a, b, c]), null);
  assert.equal(replacedBy(b, [a, b, c]), c.id);
  // Two records taken by two later changes: the newer one is to be undone first.
  const two = change([edit('v=spf1 p', 'v=spf1 q'), { ...edit('x', 'y'), name: '_dmarc.a.example', before: txt('x', '_dmarc.a.example'), after: txt('y', '_dmarc.a.example') }]);
  const takesQ = change([edit('v=spf1 q', 'v=spf1 r')]);
  const takesY = change([{ ...edit('y', 'z'), name: '_dmarc.a.example', before: txt('y', '_dmarc.a.example'), after: txt('z', '_dmarc.a.example') }]);
  assert.equal(replacedBy(two, [takesY, takesQ]), takesY.id);
});

test('withReplacements: each replaced change carries replacedBy; one read per domain concerned', () => {
  const a = change([edit('v=spf1 old', 'v=spf1 new')]);
  const b = change([edit('v=spf1 new', 'v=spf1 newer')]);
  const reads: string[] = [];
  const listed = withReplacements([b, a], { changesForDomain: (d: string) => (reads.push(d), [b, a]) });
  assert.deepEqual(listed.map((x) => x.replacedBy), [undefined, b.id]);
  assert.ok(!('replacedBy' in listed[0]), 'no field on a change nothing replaced');
  assert.deepEqual(reads, ['a.example']);
});

test('reverifyDue: propagating, applied, not undone, not replaced, last checked over a minute ago', () => {
  const now = Date.parse('2027-03-01T12:00:00.000Z');
  const old = new Date(now - REVERIFY_AFTER_MS).toISOString();
  const base = { ...change([edit('a', 'b')], { verified: 'propagating' }), updatedAt: old };
  assert.equal(reverifyDue(base, now), true);
  assert.equal(reverifyDue({ ...base, updatedAt: new Date(now - REVERIFY_AFTER_MS + 1).toISOString() }, now), false);
  assert.equal(reverifyDue({ ...base, verified: 'yes' }, now), false);
  assert.equal(reverifyDue({ ...base, replacedBy: 7 }, now), false);
  assert.equal(reverifyDue({ ...base, undoneBy: 7 }, now), false);
  assert.equal(reverifyDue({ ...base, status: 'failed' }, now), false);
  assert.equal(cannotReverify({ id: 3, status: 'failed', undoneBy: null }), 'Change 3 is failed, not applied: there is nothing to verify.');
});

test('reverifyChange: a replaced change is refused (nothing stored), and so is its undo, naming the change that replaced it; that one is checked and stored', async () => {
  const p = await start();
  const fix = async (removeTerms: string[]) => {
    const plan = await p.plan('bakery.example', 'spf', { removeTerms });
    const out = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash, options: { removeTerms } }, p.deps());
    assert.equal(out.status, 'applied');
    return (out as { changeId: number }).changeId;
  };
  const a = await fix([]);
  const b = await fix(['include:_spf.google.com']);
  p.store.setVerified(a, 'propagating');
  const refused = await reverifyChange(p.store.getChange(a)!, p.deps());
  assert.equal(refused.status, 'refused');
  assert.equal(refused.status === 'refused' && refused.replacedBy, b);
  assert.match(refused.status === 'refused' ? refused.reason : '', new RegExp(`Change ${a} was replaced by change ${b}`));
  assert.equal(p.store.getChange(a)!.verified, 'propagating', 'not turned "no"');

  p.store.setVerified(b, 'propagating');
  assert.deepEqual(await reverifyChange(p.store.getChange(b)!, p.deps()), { status: 'checked', verified: 'yes' });
  assert.equal(p.store.getChange(b)!.verified, 'yes');

  // Undoing a would overwrite b: refused, naming b — undone first, it gives a's records back.
  const undoA = await undoChange(a, p.deps());
  assert.equal(undoA.status, 'refused');
  assert.match(undoA.status === 'refused' ? undoA.reason : '', new RegExp(`undo would overwrite a later edit\\. Change ${b}, a later fix, replaced these records: undo change ${b} first, then this one\\.$`));

  // b undone: a's records are back, nothing replaces it any more — checked again as any change.
  assert.equal((await undoChange(b, p.deps())).status, 'applied');
  assert.deepEqual(await reverifyChange(p.store.getChange(a)!, p.deps()), { status: 'checked', verified: 'yes' });
});
