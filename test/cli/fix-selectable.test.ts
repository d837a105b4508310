// The CLI's --remove-term line follows Plan.selectable (the terms core offers for removal), not a reading of the plan's
// words: a rewording of a note or block in core neither loses the line nor adds it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderPlan } from '../../src/cli/commands/fix.js';
import type { Plan } from '../../src/core/plans/plan.js';

const D = 'shop.example';
const HINT = `  To select a term for removal: mailhealth fix ${D} --check spf --remove-term TERM (repeatable)`;

function plan(extra: Partial<Plan>): Plan {
  return { domain: D, check: 'spf', mode: 'apply', changes: [], actions: [], zoneVersion: 'v', planHash: `sha256:${'0'.repeat(64)}`, notes: [], options: {}, ...extra };
}

describe('mailhealth fix: the --remove-term line follows the terms core offers', () => {
  test('a plan offering a term in other words than "select … for removal": the line, once, last', () => {
    const text = renderPlan(plan({ notes: ['Keeps include:old.example: mailhealth could not place it. Tick it to drop it.'], selectable: ['include:old.example'] }));
    const lines = text.split('\n');
    assert.equal(lines.filter((l) => l === HINT).length, 1, text);
    assert.equal(lines.at(-1), HINT, text);
  });

  test('words that read like an offer, with nothing offered: no line', () => {
    const text = renderPlan(plan({ notes: ['You may select a new provider for removal later; nothing here to choose.'], blocked: 'Select the record for removal by hand.' }));
    assert.doesNotMatch(text, /--remove-term/, text);
  });

  test('an empty list, or a fix without terms to select: no line', () => {
    assert.doesNotMatch(renderPlan(plan({ selectable: [] })), /--remove-term/);
    assert.doesNotMatch(renderPlan(plan({ check: 'dmarc', selectable: ['x'] })), /--remove-term/);
  });

  test('lockdown: the line names --check lockdown', () => {
    const text = renderPlan(plan({ check: 'lockdown', notes: ['Keeps auth=acme: unknown.'], selectable: ['auth=acme'] }));
    assert.equal(text.split('\n').at(-1), `  To select a term for removal: mailhealth fix ${D} --check lockdown --remove-term TERM (repeatable)`, text);
  });
});
