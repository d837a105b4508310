// The CLI preview of a DMARC plan that changes nothing but asks for a hand edit: renderPlan prints nothingToChange.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderPlan } from '../../../src/cli/commands/fix.js';
import { makePlan } from '../../../src/core/plans/index.js';
import { scenario, zoneText } from '../../helpers/scenario.js';

test("the preview of the DMARC fix beside a stranger's TXT: its note, and no \"already right\" under it", async () => {
  const s = await scenario({ domains: { 'token.test': { zone: zoneText({ extra: ['_dmarc\tIN\tTXT\t"google-site-verification=yyy"'] }) } } });
  try {
    const plan = await makePlan({ domain: 'token.test', check: 'dmarc' }, { panel: s.panel, resolver: s.resolver });
    assert.deepEqual([plan.changes, plan.actions, plan.blocked], [[], [], undefined]);
    const text = renderPlan(plan);
    assert.match(text, /remove it by hand/);
    assert.doesNotMatch(text, /already right/);
    assert.match(text, /^  Nothing for the fix to change: the note above says what to change by hand\.$/m);
  } finally {
    s.cleanup();
  }
});
