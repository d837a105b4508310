// POST /api/domains/<d>/fix takes the selected terms as `remove`, the name GET …/fix takes them by (README), as well as
// `removeTerms` (the web form's): read under one name only, the preview's hash was refused as "the zone changed".
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { demoWorld, login, type TestWorld } from './helpers.js';

describe('API fix: the terms selected for removal', () => {
  let w: TestWorld;
  before(async () => {
    w = await demoWorld();
  });
  after(() => w?.close());

  const TERM = 'include:_spf.google.com';

  test('POST with "remove" (as GET …/fix?remove=) applies the previewed plan; undo restores it', async () => {
    const { agent, csrf } = await login(w.app, 'alice');
    const preview = await agent.get(`/api/domains/bakery.example/fix?check=spf&remove=${TERM}`).expect(200);
    const planHash = (preview.body as { planHash: string }).planHash;
    const res = await agent.post('/api/domains/bakery.example/fix').set('x-csrf-token', csrf).send({ check: 'spf', planHash, remove: [TERM] });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const out = res.body as { status: string; changeId: number; plan: { changes: { after: { value: string } | null }[] } };
    assert.equal(out.status, 'applied');
    assert.doesNotMatch(out.plan.changes[0].after!.value, /_spf\.google\.com/);
    await agent.post(`/api/changes/${out.changeId}/undo`).set('x-csrf-token', csrf).expect(200);
  });

  test('"removeTerms" is still taken; both names with the same terms too', async () => {
    const { agent, csrf } = await login(w.app, 'alice');
    const preview = await agent.get(`/api/domains/bakery.example/fix?check=spf&remove=${TERM}`).expect(200);
    const planHash = (preview.body as { planHash: string }).planHash;
    const res = await agent.post('/api/domains/bakery.example/fix').set('x-csrf-token', csrf).send({ check: 'spf', planHash, remove: [TERM], removeTerms: [` ${TERM}`] });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const id = (res.body as { changeId: number }).changeId;
    await agent.post(`/api/changes/${id}/undo`).set('x-csrf-token', csrf).expect(200);
    const again = await agent.get(`/api/domains/bakery.example/fix?check=spf&remove=${TERM}`).expect(200);
    const res2 = await agent
      .post('/api/domains/bakery.example/fix')
      .set('x-csrf-token', csrf)
      .send({ check: 'spf', planHash: (again.body as { planHash: string }).planHash, removeTerms: [TERM] });
    assert.equal(res2.status, 200, JSON.stringify(res2.body));
    await agent.post(`/api/changes/${(res2.body as { changeId: number }).changeId}/undo`).set('x-csrf-token', csrf).expect(200);
  });

  test('both names with different terms, or terms that are not a list of strings: 400, nothing written', async () => {
    const { agent, csrf } = await login(w.app, 'alice');
    const preview = await agent.get(`/api/domains/bakery.example/fix?check=spf&remove=${TERM}`).expect(200);
    const planHash = (preview.body as { planHash: string }).planHash;
    const before = w.store.changesForDomains(['bakery.example'], 100).length;
    const bad: Record<string, unknown>[] = [
      { remove: [TERM], removeTerms: [] },
      { remove: [TERM], removeTerms: ['ip4:198.51.100.7'] },
      { remove: 5 },
      { remove: [TERM, 7] },
      { remove: { 0: TERM } },
      { removeTerms: [null] },
    ];
    for (const extra of bad) {
      const res = await agent.post('/api/domains/bakery.example/fix').set('x-csrf-token', csrf).send({ check: 'spf', planHash, ...extra });
      assert.equal(res.status, 400, `${JSON.stringify(extra)} → ${res.status} ${JSON.stringify(res.body)}`);
      assert.match(String((res.body as { error: string }).error), /remove/);
    }
    assert.equal(w.store.changesForDomains(['bakery.example'], 100).length, before, 'nothing applied');
    // null is "not given" (review: a JSON client sending the optional field as null got a 400): the plan without
    // removals, whose hash is not the previewed one — refused as changed, as an unknown hash is, never a 400.
    for (const extra of [{ remove: null }, { removeTerms: null }]) {
      const res = await agent.post('/api/domains/bakery.example/fix').set('x-csrf-token', csrf).send({ check: 'spf', planHash, ...extra });
      assert.notEqual(res.status, 400, `${JSON.stringify(extra)} → ${res.status} ${JSON.stringify(res.body)}`);
    }
  });
});
