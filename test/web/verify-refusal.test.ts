// "Verify again" on a change a later fix replaced is refused (409) before an audit token is taken: with one token left,
// a refused verify used it up and the next answered 429 instead of 409. The API answers every refusal in one shape.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { changeWorld, postFix, previewFix, type ChangeWorld } from './change-world.js';
import { login, NO_LIMITS, type Session } from './helpers.js';

let w: ChangeWorld;
before(async () => {
  w = await changeWorld();
});
after(() => w.close());
const app = (rateLimits: typeof NO_LIMITS) => w.app({ rateLimits });

/** A fix sent through the API: its change id (that it applied is not asserted here; the 409s below need it). */
async function applyFix(s: Session, domain: string, check: string, remove: string[] = []): Promise<number> {
  const plan = await previewFix(s, domain, check, remove);
  return (await postFix(s, domain, check, plan.planHash, remove)).changeId;
}

test('a refused Verify again (replaced change) should not cost an audit token', async () => {
  const alice = await login(app(NO_LIMITS), 'alice');
  w.publish();
  const first = await applyFix(alice, 'bakery.example', 'spf');
  await applyFix(alice, 'bakery.example', 'spf', ['include:_spf.google.com']);
  const a2 = await login(app({ ...NO_LIMITS, audit: { capacity: 1, perMinute: 0 } }), 'alice');
  const r1 = await a2.agent.post(`/changes/${first}/verify`).type('form').send({ _csrf: a2.csrf });
  assert.equal(r1.status, 409);
  const r2 = await a2.agent.post(`/changes/${first}/verify`).type('form').send({ _csrf: a2.csrf });
  assert.equal(r2.status, 409, `second refused verify answered ${r2.status}: the first refusal used up the token`);
  const api = await a2.agent.post(`/api/changes/${first}/verify`).set('x-csrf-token', a2.csrf);
  assert.equal(api.status, 409);
  assert.equal(api.body.status, 'refused');
  assert.equal(api.body.error, api.body.reason);
  // Not applied: the same shape (it was `{ error }` alone).
  const intent = w.store.recordIntent({ domain: 'bakery.example', check: 'dmarc', planHash: 'sha256:' + '0'.repeat(64), zoneVersion: 'x', changes: [], byUser: 'alice' });
  const notApplied = await a2.agent.post(`/api/changes/${intent}/verify`).set('x-csrf-token', a2.csrf);
  assert.equal(notApplied.status, 409);
  assert.deepEqual([notApplied.body.status, typeof notApplied.body.reason], ['refused', 'string']);
});
