// /history?domain=<not a domain name> listed every change in scope under an empty filter box: it looked filtered and
// was not. Now a name goes through the one validator (core/domain.ts checkDomain): not a domain name → 400 with the
// validator's reason, on the page and the JSON API (GET /api/changes?domain=), and nothing listed. A blank filter is
// no filter; a valid name outside the scope is the same 404 as its domain page (it said "No changes yet" of another
// customer's domain with many changes: end-to-end QA).
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

  test('the page: a valid name filters (in any spelling), blank means all, outside the scope is 404', async () => {
    const { agent } = await login(w.app, 'alice');
    assert.deepEqual(listed((await agent.get('/history?domain=bakery.example').expect(200)).text), [ids['bakery.example']]);
    assert.deepEqual(listed((await agent.get('/history?domain=BAKERY.example.').expect(200)).text), [ids['bakery.example']]);
    assert.deepEqual(listed((await agent.get('/history').expect(200)).text), [ids['bakery.example'], ids['florist.example']]);
    assert.deepEqual(listed((await agent.get('/history?domain=').expect(200)).text), [ids['bakery.example'], ids['florist.example']]);
    for (const other of ['plumber.example', 'nope.example']) {
      const r = await agent.get(`/history?domain=${other}`).expect(404);
      assert.match(r.text, /Not found: there is no such page or domain for your account/, other);
      assert.doesNotMatch(r.text, /No changes yet|No audits yet/, other);
      assert.deepEqual(listed(r.text), [], other);
    }
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
    const foreign = await agent.get('/api/changes?domain=plumber.example').expect(404);
    assert.match((foreign.body as { error: string }).error, /^Not found/);
  });
});

describe('history page: problems per audit, and the button on an undo', () => {
  let w: TestWorld;
  before(async () => {
    w = await demoWorld({ seedAudits: true });
  });
  after(async () => w.close());

  test('an audit row names the checks with a problem (not a count of every finding); an undo row offers "Re-apply #N"', async () => {
    const { agent } = await login(w.app, 'alice');
    const fix = w.store.recordIntent({ domain: 'bakery.example', check: 'spf', planHash: `sha256:${'1'.repeat(64)}`, zoneVersion: null, changes: [], byUser: 'alice' });
    w.store.recordOutcome(fix, { status: 'applied', verified: 'yes' });
    const undo = w.store.recordIntent({ domain: 'bakery.example', check: 'spf', planHash: `sha256:${'2'.repeat(64)}`, zoneVersion: null, changes: [], byUser: 'alice', undoOf: fix });
    w.store.recordOutcome(undo, { status: 'applied', verified: 'yes' });
    const page = (await agent.get('/history?domain=bakery.example').expect(200)).text;
    const audits = page.slice(page.indexOf('<h2>Audits</h2>'));
    assert.match(audits, /<th scope="col">Problems<\/th>/);
    // bakery.example (HostGator leftovers): its failing check named with its severity, never a bare count.
    assert.match(audits, /data-label="Problems">[^<]*SPF \(Fail\)/, audits.slice(0, 2000));
    assert.doesNotMatch(audits, /data-label="Problems">\d+<\/td>/);
    assert.match(page, new RegExp(`aria-label="Re-apply #${fix}: undo change ${undo}">Re-apply #${fix}</button>`));
  });
});
