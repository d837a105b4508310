// The line a fix preview prints when the plan changes nothing (src/core/plans/plan.ts nothingToChange: CLI, web and a refused apply): "Nothing to change:
// the records are already right." stood right under the DMARC plan's note asking to remove a stranger's TXT at
// _dmarc.<domain> by hand (OpenDMARC may read it instead of the DMARC record: dmarc.compat). With such a note it says
// only that nothing is for the fix to change, pointing at the note; every other plan that changes nothing keeps the
// words other surfaces and tests agree with.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nothingToChange } from '../../../src/core/plans/plan.js';
import type { ZoneRecord } from '../../../src/core/model.js';
import { planDmarc } from '../../../src/core/plans/dmarc.js';
import { checkContext } from '../checks/context.js';

const D = 'alice.example';
const NAME = `_dmarc.${D}`;
const DMARC = `v=DMARC1; p=quarantine; rua=mailto:d@${D}`;

async function plan(values: string[]) {
  const recs: ZoneRecord[] = values.map((v, i) => ({ name: NAME, ttl: 3600, type: 'TXT', value: v, txt: [v], ref: `r${i}` }));
  return planDmarc(checkContext(D, { [NAME]: { TXT: values.map((v) => [v]) } }, {}, recs), recs);
}

describe('a fix preview that changes nothing: "already right" only where no note asks for a hand edit', () => {
  test("a stranger's TXT beside the DMARC record: the plan changes nothing, its note says remove it by hand, and the line does not call the records right", async () => {
    const p = await plan([DMARC, 'google-site-verification=yyy']);
    assert.deepEqual(p.changes, []);
    assert.equal(p.blocked, undefined);
    assert.ok(p.notes.some((n) => /remove it by hand/.test(n)), p.notes.join('\n'));
    const line = nothingToChange(p.notes);
    assert.equal(line, 'Nothing for the fix to change: the note above says what to change by hand.');
    assert.doesNotMatch(line, /already right/);
  });

  test('two strangers there: "the notes above"', async () => {
    const p = await plan([DMARC, 'google-site-verification=yyy', 'MS=ms12345678']);
    assert.deepEqual(p.changes, []);
    assert.equal(nothingToChange(p.notes), 'Nothing for the fix to change: the notes above say what to change by hand.');
  });

  test('the DMARC record alone: no note, the records are already right (the words other tests and surfaces agree with)', async () => {
    const p = await plan([DMARC]);
    assert.deepEqual([p.changes, p.notes], [[], []]);
    assert.equal(nothingToChange(p.notes), 'Nothing to change: the records are already right.');
  });

  test('a note that asks for nothing by hand keeps "already right"', () => {
    assert.equal(nothingToChange(['Keeps the SPF record as it is: it already authorises this server.']), 'Nothing to change: the records are already right.');
  });
});

test('a refused apply shows no notes: its reason quotes the hand-edit note instead of pointing above', () => {
  const notes = ['Keeps the DMARC record.', 'A TXT record "x" beside it: remove it by hand.'];
  assert.equal(nothingToChange(notes, { notesShown: false }), 'Nothing for the fix to change. By hand: A TXT record "x" beside it: remove it by hand.');
  assert.equal(nothingToChange(['Keeps the DMARC record.'], { notesShown: false }), 'Nothing to change: the records are already right.');
});
