// The DMARC fix's merge note said "Merges N DMARC records into one, keeping the weakest policy among them (p=X) so
// nothing is tightened." — but receivers apply none of several records today (RFC 7489 §6.6.3; Mail::DMARC: "too many
// policies"), so the merged record does switch a policy on: merging two p=reject records turns reject on (review).
// The fix writes what it wrote (the records below are pinned); the note now says that receivers apply nothing until
// the records are one. The same for records receivers cannot read, and for the "Sets sp=" note beside several records.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ZoneRecord } from '../../../src/core/model.js';
import { planDmarc } from '../../../src/core/plans/dmarc.js';
import { checkContext } from '../checks/context.js';

const A = 'alice.example';
const N = `_dmarc.${A}`;

async function plan(vals: readonly string[]) {
  const recs: ZoneRecord[] = vals.map((v, i) => ({ name: N, ttl: 3600, type: 'TXT', value: v, txt: [v], ref: `r${i}` }));
  const p = await planDmarc(checkContext(A, { [N]: { TXT: vals.map((v) => [v]) } }, {}, recs), recs);
  return { ...p, changed: p.changes.map((c) => [c.action, c.before?.value ?? null, c.after?.value ?? null]), show: p.notes.join('\n') };
}
const merges = (notes: readonly string[]) => notes.filter((n) => n.startsWith('Merges '));

describe('DMARC fix: the merge note says receivers apply none of the records until they are one', () => {
  test('two p=reject records: reject applies only once they are one (not "nothing is tightened")', async () => {
    const a = `v=DMARC1; p=reject; rua=mailto:d@${A}`;
    const b = `v=DMARC1; p=reject; rua=mailto:e@${A}`;
    const p = await plan([a, b]);
    assert.deepEqual(merges(p.notes), [
      'Merges 2 DMARC records into one, keeping the weakest policy among them (p=reject): receivers apply no DMARC policy at all while the domain has several DMARC records, so p=reject applies only once they are one.',
    ]);
    assert.ok(!p.notes.some((n) => /nothing is tightened/.test(n)), p.show);
    assert.deepEqual(p.changed, [
      ['edit', a, `v=DMARC1; p=reject; rua=mailto:d@${A},mailto:e@${A}`],
      ['remove', b, null],
    ]);
  });

  test('p=none beside p=quarantine: the weakest, p=none, said the same way', async () => {
    const p = await plan([`v=DMARC1; p=quarantine`, `v=DMARC1; p=none; rua=mailto:d@${A}`]);
    assert.equal(merges(p.notes).length, 1, p.show);
    assert.match(merges(p.notes)[0], /\(p=none\): receivers apply no DMARC policy at all while the domain has several DMARC records, so p=none applies only once they are one\.$/);
    // The record that already is the merge stays; the other goes.
    assert.deepEqual(p.changed, [['remove', 'v=DMARC1; p=quarantine', null]]);
  });

  test('records receivers cannot read: no policy from them today, said so', async () => {
    const p = await plan([` v=DMARC1; p=reject`, ` v=DMARC1; p=reject; rua=mailto:d@${A}`]);
    assert.deepEqual(merges(p.notes), [
      'Merges 2 DMARC records into one, keeping the weakest policy among them (p=reject): receivers apply no DMARC policy from them today, since they cannot read them as written, so p=reject applies only once they are one.',
    ]);
    assert.equal(p.changes.find((c) => c.after)?.after?.value, `v=DMARC1; p=reject; rua=mailto:d@${A}`);
  });

  test('sp= differing between several records: "no record\'s own policy is tightened", not "nothing is tightened"', async () => {
    const p = await plan([`v=DMARC1; p=reject; sp=quarantine`, `v=DMARC1; p=reject; sp=none`]);
    const sets = p.notes.filter((n) => n.startsWith('Sets sp='));
    assert.deepEqual(sets, ["Sets sp=none: the weakest subdomain policy among sp=quarantine, sp=none and the records without sp (which apply their p), so no record's own policy is tightened."]);
    assert.ok(!p.notes.some((n) => /nothing is tightened/.test(n)), p.show);
    assert.deepEqual(p.changed, [['remove', 'v=DMARC1; p=reject; sp=quarantine', null]]);
  });
});
