// Review R9, item 1 (CLI side): core no longer words how to select a term for removal (it told web customers to run
// `mailhealth fix … --remove-term TERM`); the CLI says its own way under a plan that offers terms to select — and
// only then.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderPlan } from '../../src/cli/commands/fix.js';
import type { FixKind, ZoneRecord } from '../../src/core/model.js';
import type { Plan } from '../../src/core/plans/plan.js';
import { planSpf } from '../../src/core/plans/spf.js';
import type { ZoneMap } from '../helpers/map-resolver.js';
import { SPF_QA_WORLD } from '../helpers/spf-qa-world.js';
import { checkContext, SERVER_IP } from '../core/checks/context.js';

const D = 'shop.example';

/** The SPF plan core makes for `spf` (this server's own a: terms and Google's terms), as the CLI prints it. */
async function printed(spf: string, extra: ZoneMap = {}, check: FixKind = 'spf') {
  const map: ZoneMap = { ...SPF_QA_WORLD, [D]: { A: [SERVER_IP], MX: [{ priority: 1, exchange: 'aspmx.l.google.com' }], TXT: [[spf]] }, 'aspmx.l.google.com': { A: ['142.250.27.26'] }, ...extra };
  const zone: ZoneRecord[] = [
    { name: D, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.', ref: 'ns' },
    { name: D, ttl: 3600, type: 'TXT', value: spf, txt: [spf], ref: 'spf' },
  ];
  const p = await planSpf(checkContext(D, map, {}, zone), zone, {});
  const plan: Plan = { domain: D, check, mode: 'apply', changes: p.changes, actions: [], zoneVersion: 'v', planHash: `sha256:${'0'.repeat(64)}`, notes: p.notes, options: {}, ...(p.blocked ? { blocked: p.blocked } : {}), ...(p.selectable ? { selectable: p.selectable } : {}) };
  return { plan, text: renderPlan(plan) };
}

const OWN = ['a:h1.newhost.example', 'a:h2.newhost.example', 'a:h3.newhost.example', 'a:h4.newhost.example', 'a:h5.newhost.example', 'a:h6.newhost.example', 'a:h7.newhost.example'];
const OWN_HOSTS: ZoneMap = Object.fromEntries(OWN.map((t) => [t.slice(2), { A: [SERVER_IP] }]));

describe('mailhealth fix: how to select a term for removal, said by the CLI', () => {
  test('a plan blocked until a mail service’s term is selected: the --remove-term line follows the block', async () => {
    const { plan, text } = await printed(`v=spf1 +a +mx ${OWN.join(' ')} include:_spf.google.com ~all`, OWN_HOSTS);
    assert.match(plan.blocked ?? '', /select its term for removal/, text);
    const lines = text.split('\n');
    const at = lines.findIndex((l) => l.startsWith('  BLOCKED: '));
    assert.ok(at >= 0, text);
    assert.equal(lines[at + 1], `  To select a term for removal: mailhealth fix ${D} --check spf --remove-term TERM (repeatable)`);
  });

  test('a plan that offers nothing to select: no such line', async () => {
    const { text } = await printed('v=spf1 +a include:_spf.google.com ~all');
    assert.doesNotMatch(text, /--remove-term/, text);
  });
});
