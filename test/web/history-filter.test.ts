// /history?domain=<not a domain name> listed every change in scope under an empty filter box: it looked filtered and
// was not. Now a name goes through the one validator (core/domain.ts checkDomain): not a domain name → 400 with the
// validator's reason, on the page and the JSON API (GET /api/changes?domain=), and nothing listed. A blank filter is
// no filter; a valid name outside the scope matches nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { demoWorld, login, type TestWorld } from './helpers.js';

describe('history domain filter', () => {
  let w: TestWorld;
  const ids: Record<string, number> = {};
  before(async () => {
    w = await demoWorld({});
    for (const domain of ['bakery.example', 'florist.example', 'plumber.example']) {
      const id = w.store.recordIntent({ domain, check: 'spf', planHash: `sha256:${'0'.repeat(64)}`, zoneVersion: null, changes: [], byUser: 'root' });
      w.store.recordOutcome(id, { status: 'applied', verified: 'yes' });
      ids[domain] = id;
    }
  });
  after(async () => w.close());

  const listed = (html: string) => [...html.matchAll(/<tr id="change-(\d+)">/g)].map((m) => Number(m[1])).sort((a, b) => a - b);

  test('the page: not a domain name → 400, the validator\'s reason, the input kept in the box, nothing listed', async () => {
    const { agent } = await login(w.app, 'alice');
    for (const [input, reason] of [
      ['alice-1', /needs at least two labels/],
      ['ritac-1', /needs at least two labels/],
      ['https://alice-1.example', /contains characters not allowed in a domain name/],
      ['-bad-.example', /is not a valid DNS label/],
    ] as const) {
      const r = await agent.get(`/history?domain=${encodeURIComponent(input)}`);
      assert.equal(r.status, 400, input);
      assert.match(r.text, reason, input);
      assert.match(r.text, /role="alert" id="filter-error">Not a domain name/);
      assert.deepEqual(listed(r.text), [], `${input}: nothing listed`);
      assert.doesNotMatch(r.text, /<h2>Audits<\/h2>/);
      assert.match(r.text, new RegExp(`id="h-domain" name="domain" value="${input.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}"`), 'the box keeps what was typed');
    }
  });

  test('the page: a valid name filters (in any spelling), blank means all, outside the scope matches nothing', async () => {
    const { agent } = await login(w.app, 'alice');
    assert.deepEqual(listed((await agent.get('/history?domain=bakery.example').expect(200)).text), [ids['bakery.example']]);
    assert.deepEqual(listed((await agent.get('/history?domain=BAKERY.example.').expect(200)).text), [ids['bakery.example']]);
    assert.deepEqual(listed((await agent.get('/history').expect(200)).text), [ids['bakery.example'], ids['florist.example']]);
    assert.deepEqual(listed((await agent.get('/history?domain=').expect(200)).text), [ids['bakery.example'], ids['florist.example']]);
    assert.deepEqual(listed((await agent.get('/history?domain=plumber.example').expect(200)).text), [], "another customer's domain");
    assert.deepEqual(listed((await agent.get('/history?domain=nope.example').expect(200)).text), []);
  });

  test('the JSON API: GET /api/changes?domain= filters the same way; not a domain name → 400 with the reason', async () => {
    const { agent } = await login(w.app, 'alice');
    const bad = await agent.get('/api/changes?domain=ritac-1').expect(400);
    assert.match((bad.body as { error: string }).error, /^Not a domain name \(needs at least two labels/);
    const url = await agent.get(`/api/changes?domain=${encodeURIComponent('https://alice-1.example')}`).expect(400);
    assert.match((url.body as { error: string }).error, /contains characters not allowed/);
    const ids_ = (body: unknown) => (body as { id: number }[]).map((c) => c.id).sort((a, b) => a - b);
    assert.deepEqual(ids_((await agent.get('/api/changes?domain=florist.example').expect(200)).body), [ids['florist.example']]);
    assert.deepEqual(ids_((await agent.get('/api/changes').expect(200)).body), [ids['bakery.example'], ids['florist.example']]);
    assert.deepEqual(ids_((await agent.get('/api/changes?domain=plumber.example').expect(200)).body), []);
  });
});
