// Proposed with task U (needs src/web/routes/api.ts to call undoOnce): POST /api/changes/N/undo sent again by the user
// who made the undo answers 200 {"status": "already", "changeId": M, "changeStatus": "applied", …, "undoOf": N} — as
// fix --apply's "already" — instead of 409 "Refused: already undone by change M"; another user's retry is still 409.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { demoWorld, login, type TestWorld } from './helpers.js';

let w: TestWorld;
before(async () => {
  w = await demoWorld({ seedAudits: true });
});
after(async () => w.close());

test('a retried API undo is "already" with the undo that was made', async () => {
  const alice = await login(w.app, 'alice');
  const plan = (await alice.agent.get('/api/domains/florist.example/fix?check=dmarc').expect(200)).body as { planHash: string };
  const fix = (await alice.agent.post('/api/domains/florist.example/fix').set('x-csrf-token', alice.csrf).send({ check: 'dmarc', planHash: plan.planHash }).expect(200)).body as { changeId: number };
  const first = await alice.agent.post(`/api/changes/${fix.changeId}/undo`).set('x-csrf-token', alice.csrf).expect(200);
  assert.equal(first.body.status, 'applied');
  const again = await alice.agent.post(`/api/changes/${fix.changeId}/undo`).set('x-csrf-token', alice.csrf);
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.deepEqual([again.body.status, again.body.changeId, again.body.changeStatus, again.body.undoOf], ['already', first.body.changeId, 'applied', fix.changeId]);
  assert.match(again.body.reason, /was already undone as change #\d+.*not undone a second time/);
  assert.ok(again.body.changes.length > 0);
  const root = await login(w.app, 'root');
  const theirs = await root.agent.post(`/api/changes/${fix.changeId}/undo`).set('x-csrf-token', root.csrf);
  assert.equal(theirs.status, 409);
  assert.equal(theirs.body.status, 'refused');
});
