// A term the user selects for removal goes, whatever its target answers: an include whose SPF lookup gets no answer
// blocked the plan ("DNS did not answer … try again") even after the user ticked it for removal — the page offered the
// tick box, and it led nowhere (browser QA). Unselected, the same include still blocks the plan.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from '../checks/context.js';

const D = 'shop.example';
const SPF = 'v=spf1 +a include:_spf.gone-esp.example ~all';
const map: ZoneMap = { [D]: { A: ['203.0.113.10'], TXT: [[SPF]] }, '_spf.gone-esp.example': { TXT: 'TIMEOUT' } };
const zone: ZoneRecord[] = [
  { name: D, ttl: 300, type: 'A', value: '203.0.113.10' },
  { name: D, ttl: 300, type: 'TXT', value: SPF, txt: [SPF], ref: 'spf' },
];

test('an include whose lookup gets no answer: blocked unless selected for removal; selected, it goes and the plan applies', async () => {
  const plain = await planSpf(checkContext(D, map, {}, zone), zone, {});
  assert.match(plain.blocked ?? '', /got no answer/, JSON.stringify(plain));
  const picked = await planSpf(checkContext(D, map, {}, zone), zone, { removeTerms: ['include:_spf.gone-esp.example'] });
  assert.equal(picked.blocked, undefined, picked.blocked);
  const after = picked.changes.find((c) => c.after)?.after;
  assert.ok(after && !/gone-esp/.test(after.value), JSON.stringify(picked.changes));
  assert.match(picked.notes.join('\n'), /Removes include:_spf\.gone-esp\.example \(you selected it\)/);
});
