// The records' copy counts (copiesBefore/copiesAfter: how many copies of a record the zone held, the history's own
// bookkeeping for an undo) leaked into the JSON API: GET /api/changes listed them in each change's records, and an
// applied undo (POST /api/changes/N/undo) answered its plan with them (the fix's answer was already without). Neither is
// part of the API's answer; the history keeps them (the undo needs them).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { demoWorld, login, type TestWorld } from './helpers.js';

let w: TestWorld;
before(async () => {
  w = await demoWorld({ seedAudits: true });
});
after(async () => w.close());

/** Every path in a JSON value where a key named copiesBefore or copiesAfter occurs. */
function copyKeys(v: unknown, at = '$'): string[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => copyKeys(x, `${at}[${i}]`));
  if (v === null || typeof v !== 'object') return [];
  return Object.entries(v).flatMap(([k, x]) => [...(k === 'copiesBefore' || k === 'copiesAfter' ? [`${at}.${k}`] : []), ...copyKeys(x, `${at}.${k}`)]);
}

test('GET /api/changes and an applied undo through the API carry no copy counts; the history still has them', async () => {
  const alice = await login(w.app, 'alice');
  const plan = (await alice.agent.get('/api/domains/florist.example/fix?check=dmarc').expect(200)).body as { planHash: string };
  const fix = (await alice.agent.post('/api/domains/florist.example/fix').set('x-csrf-token', alice.csrf).send({ check: 'dmarc', planHash: plan.planHash }).expect(200)).body;
  assert.equal(fix.status, 'applied', JSON.stringify(fix));
  // The history records the counts (what the undo reads): the test would prove nothing if there were none to leak.
  const stored = w.store.getChange(fix.changeId);
  assert.ok(stored && stored.changes.some((c) => c.copiesBefore !== undefined || c.copiesAfter !== undefined), JSON.stringify(stored?.changes));

  const answers: [string, unknown][] = [['fix', fix]];
  answers.push(['changes after the fix', (await alice.agent.get('/api/changes').expect(200)).body]);
  const undo = (await alice.agent.post(`/api/changes/${fix.changeId}/undo`).set('x-csrf-token', alice.csrf).expect(200)).body;
  assert.equal(undo.status, 'applied', JSON.stringify(undo));
  answers.push(['undo', undo]);
  answers.push(['undo again', (await alice.agent.post(`/api/changes/${fix.changeId}/undo`).set('x-csrf-token', alice.csrf).expect(200)).body]);
  const listed = (await alice.agent.get('/api/changes').expect(200)).body as { id: number; changes: unknown[] }[];
  answers.push(['changes after the undo', listed]);
  for (const [what, body] of answers) assert.deepEqual(copyKeys(body), [], `${what}: ${JSON.stringify(body)}`);
  // The listed change still shows its records.
  const listedFix = listed.find((c) => c.id === fix.changeId);
  assert.ok(listedFix && listedFix.changes.length > 0, JSON.stringify(listed));
});
