// A TXT record at _dmarc that is not the DMARC fix's (a verification token) is left as it is, with a note. Beside the
// DMARC record the fix leaves there, that note used to say "receivers ignore it" — while the check, run on the zone the
// fix leaves, warns that OpenDMARC reads only the first TXT record there (dmarc.compat) and says to remove it by hand
// (README, rule ids: dmarc.compat "… others are a hand edit"). The note now says the same as the check; where the plan
// leaves no DMARC record at the name (publishing elsewhere, blocked by the panel's alias) it still says receivers
// ignore it, which is then true.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dmarcCheck } from '../../../src/core/checks/dmarc.js';
import type { ZoneRecord } from '../../../src/core/model.js';
import { planDmarc } from '../../../src/core/plans/dmarc.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from '../checks/context.js';

const D = 'alice.example';
const NAME = `_dmarc.${D}`;
const TOKEN = 'google-site-verification=yyy';
const txt = (value: string, i = 0): ZoneRecord => ({ name: NAME, ttl: 3600, type: 'TXT', value, txt: [value], ref: `r${i}` });

/** The plan for _dmarc holding `values` (live and in the panel's zone), and the check's findings on what it leaves. */
async function planAndAfter(values: string[]) {
  const recs = values.map((v, i) => txt(v, i));
  const plan = await planDmarc(checkContext(D, { [NAME]: { TXT: values.map((v) => [v]) } }, {}, recs), recs);
  assert.equal(plan.blocked, undefined);
  const removed = new Set(plan.changes.filter((c) => c.action !== 'add').map((c) => c.before));
  const left = [...recs.filter((r) => !removed.has(r)), ...plan.changes.filter((c) => c.after).map((c) => c.after!)];
  const after = await dmarcCheck(checkContext(D, { [NAME]: { TXT: left.map((r) => [r.value]) } }, {}, left));
  return { plan, left: left.map((r) => r.value), after };
}

const tokenNote = (notes: string[]) => notes.find((n) => n.startsWith(`Leaves ${JSON.stringify(TOKEN)} at ${NAME} as it is`));

describe('the note on a TXT record at _dmarc the DMARC fix leaves beside the DMARC record agrees with dmarc.compat', () => {
  for (const [title, values] of [
    ['beside a record the fix rewrites (invalid pct=)', ['v=DMARC1; p=reject; pct=150; rua=mailto:d@alice.example', TOKEN]],
    ['with no DMARC record: the fix adds one beside it', [TOKEN]],
  ] as const) {
    test(title, async () => {
      const { plan, left, after } = await planAndAfter([...values]);
      assert.ok(left.includes(TOKEN), left.join(' | '));
      // What the check says of the zone the fix leaves: OpenDMARC may read the token instead, remove it by hand.
      const compat = after.find((f) => f.rule === 'dmarc.compat' && f.subject === TOKEN);
      assert.ok(compat, after.map((f) => `${f.rule} ${f.subject ?? ''}`).join('\n'));
      assert.match(compat.message, /reads only the first TXT record/);
      // …and the fix's note on the token says the same, never that it is harmless.
      const note = tokenNote(plan.notes);
      assert.ok(note, plan.notes.join('\n'));
      assert.doesNotMatch(note, /it is not a DMARC record, and receivers ignore it\.$/, note);
      assert.match(note, /OpenDMARC .*reads only the first TXT record DNS returns there/, note);
      assert.match(note, /remove it by hand if nothing needs it any more/, note);
      assert.equal(plan.notes.indexOf(note), 0, 'the note on the record left comes first, as before');
    });
  }

  test('no DMARC record is left at the name (live DNS elsewhere, the panel has an alias there): receivers ignore it', async () => {
    const live = [txt(TOKEN)];
    const panel: ZoneRecord[] = [{ name: NAME, ttl: 3600, type: 'CNAME', value: 'alice.dmarc.service.example' }];
    const plan = await planDmarc(checkContext(D, { [NAME]: { TXT: [[TOKEN]] } }, {}, panel), live, { records: panel });
    assert.ok(plan.blocked, 'blocked by the panel’s alias');
    assert.equal(tokenNote(plan.notes), `Leaves ${JSON.stringify(TOKEN)} at ${NAME} as it is: it is not a DMARC record, and receivers ignore it.`);
  });
});
