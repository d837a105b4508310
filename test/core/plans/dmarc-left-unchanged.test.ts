// Review: beside a DMARC record the fix has nothing to change, a stranger's TXT at _dmarc (a verification token) is
// dmarc.compat (warn, no fix: OpenDMARC reads only the first TXT record there; "remove it by hand"), but the preview of
// the DMARC fix had no notes at all — only "Nothing to change: the records are already right." Its note on the record
// it leaves (leftNote, said whenever the plan changes something) is now said when it changes nothing too, so the
// preview says what the user must do, as the finding does. (The note itself: test/core/plans/dmarc-left-note.test.ts.)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { renderPlan } from '../../../src/cli/commands/fix.js';
import { dmarcCheck } from '../../../src/core/checks/dmarc.js';
import type { ZoneRecord } from '../../../src/core/model.js';
import { planDmarc } from '../../../src/core/plans/dmarc.js';
import { makePlan } from '../../../src/core/plans/index.js';
import { checkContext } from '../checks/context.js';
import { findings, scenario, zoneText, type Scenario } from '../../helpers/scenario.js';

const D = 'alice.example';
const NAME = `_dmarc.${D}`;
const TOKEN = 'google-site-verification=yyy';
const DMARC = `v=DMARC1; p=quarantine; rua=mailto:d@${D}`;

const leftNote = (notes: readonly string[]) => notes.filter((n) => n.startsWith(`Leaves ${JSON.stringify(TOKEN)} at `));

describe("a stranger's TXT beside a DMARC record the fix leaves as it is", () => {
  test('the check warns (dmarc.compat, no fix); the plan changes nothing and says to remove it by hand, naming dmarc.compat', async () => {
    const values = [DMARC, TOKEN];
    const recs: ZoneRecord[] = values.map((v, i) => ({ name: NAME, ttl: 3600, type: 'TXT', value: v, txt: [v], ref: `r${i}` }));
    const ctx = checkContext(D, { [NAME]: { TXT: values.map((v) => [v]) } }, {}, recs);
    const compat = (await dmarcCheck(ctx)).find((f) => f.rule === 'dmarc.compat');
    assert.equal(compat?.subject, TOKEN);
    assert.equal(compat.fix, undefined);
    assert.match(compat.message, /remove it by hand/);
    const plan = await planDmarc(ctx, recs);
    assert.deepEqual(plan.changes, []);
    assert.equal(plan.blocked, undefined);
    const notes = leftNote(plan.notes);
    assert.equal(notes.length, 1, plan.notes.join('\n'));
    assert.match(notes[0], /OpenDMARC .*\(dmarc\.compat\): remove it by hand/);
  });

  test('no stranger there: still no note', async () => {
    const recs: ZoneRecord[] = [{ name: NAME, ttl: 3600, type: 'TXT', value: DMARC, txt: [DMARC], ref: 'r0' }];
    const plan = await planDmarc(checkContext(D, { [NAME]: { TXT: [[DMARC]] } }, {}, recs), recs);
    assert.deepEqual(plan, { changes: [], notes: [] });
  });
});

describe('what a user sees: the audit and the fix preview of a files panel', () => {
  let s: Scenario;
  before(async () => {
    s = await scenario({ domains: { 'token.test': { zone: zoneText({ extra: [`_dmarc\tIN\tTXT\t"${TOKEN}"`] }) } } });
  });
  after(() => s.cleanup());

  test('dmarc.compat is shown; `fix --check dmarc` prints the note before "Nothing to change"', async () => {
    const a = await s.audit('token.test');
    const compat = findings(a, 'dmarc.compat');
    assert.equal(compat.length, 1, JSON.stringify(a.findings.map((f) => f.rule)));
    assert.equal(compat[0].fix, undefined);
    const plan = await makePlan({ domain: 'token.test', check: 'dmarc' }, { panel: s.panel, resolver: s.resolver });
    assert.deepEqual(plan.changes, []);
    assert.equal(leftNote(plan.notes).length, 1, plan.notes.join('\n'));
    const text = renderPlan(plan);
    assert.match(text, /· Leaves "google-site-verification=yyy" at _dmarc\.token\.test as it is: .*remove it by hand/);
  });
});
