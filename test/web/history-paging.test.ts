// History pages its changes: a bulk fix writes up to 200, and the page showed only the newest 100 with no way to the
// others (QA: 50 of 150 bulk changes could not be found or undone from History). The page links to older changes
// (`before=`, keeping the domain filter), and the API takes `before` and `limit`. Demo panel, real SQLite.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { demoWorld, login, type TestWorld } from './helpers.js';

let w: TestWorld;
const ids: number[] = [];
before(async () => {
  w = await demoWorld({});
  for (let i = 0; i < 150; i++) {
    const id = w.store.recordIntent({ domain: i % 2 ? 'bakery.example' : 'florist.example', check: 'dmarc', planHash: `sha256:${String(i).padStart(64, '0')}`, zoneVersion: null, changes: [], byUser: 'alice' });
    w.store.recordOutcome(id, { status: 'failed', error: 'test row' });
    ids.push(id);
  }
});
after(async () => w.close());

const shownIds = (html: string) => [...html.matchAll(/id="change-(\d+)"/g)].map((m) => Number(m[1]));

test('the page shows 100 changes and links to the older ones, which show the rest', async () => {
  const alice = await login(w.app, 'alice');
  const first = await alice.agent.get('/history').expect(200);
  const firstIds = shownIds(first.text);
  assert.equal(firstIds.length, 100, 'ids are anchored per row');
  const link = /href="(\/history\?before=\d+)"/.exec(first.text);
  assert.ok(link, 'a link to older changes');
  const second = await alice.agent.get(link![1].replace(/&amp;/g, '&')).expect(200);
  const secondIds = shownIds(second.text);
  assert.equal(secondIds.length, 50);
  assert.deepEqual([...firstIds, ...secondIds].sort((a, b) => a - b), ids, 'every change on one page or the other');
  assert.doesNotMatch(second.text, /Older changes/);
  // With the domain filter kept.
  const filtered = await alice.agent.get('/history?domain=bakery.example').expect(200);
  assert.equal(shownIds(filtered.text).length, 75);
  assert.doesNotMatch(filtered.text, /Older changes/);
  assert.equal((await alice.agent.get('/history?before=x')).status, 400);
});

test('API: before and limit page through every change', async () => {
  const alice = await login(w.app, 'alice');
  const seen: number[] = [];
  let before = '';
  for (let round = 0; round < 10; round++) {
    const r = await alice.agent.get(`/api/changes?limit=40${before}`).expect(200);
    const page = r.body as { id: number }[];
    if (!page.length) break;
    assert.ok(page.length <= 40, 'limit honoured');
    seen.push(...page.map((c) => c.id));
    before = `&before=${page[page.length - 1].id}`;
  }
  assert.deepEqual(seen.sort((a, b) => a - b), ids);
  assert.equal((await alice.agent.get('/api/changes?limit=501')).status, 400);
  assert.equal((await alice.agent.get('/api/changes?before=0')).status, 400);
});
