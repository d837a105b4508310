// A store error in applyBulkFix after an applied outcome (reading the change for the shared-zone chain) must not reject
// the whole bulk while its other lanes go on writing (review: the job said "failed" and fixes kept landing).
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { planValues, whmWorld, type WhmWorld } from './shared-zone-world.js';

const DOMAINS = ['res1.example', 'alice.example', 'alice-shop.example', 'blog.alice.example', 'bob.example'];
let w: WhmWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

test('a store error reading the applied change: the job is marked failed while its other domains go on being written', { timeout: 60_000 }, async () => {
  w = await whmWorld();
  const { app, store, res1 } = w;
  app.runner.fixInlineMax = 0;
  const page = await res1.agent.post('/bulk/fix/preview').type('form').send({ _csrf: res1.csrf, check: 'spf', domains: DOMAINS });
  const plans = planValues(page.text);
  assert.equal(plans.length, 5);
  const orig = store.getChange.bind(store);
  let thrown = false;
  store.getChange = ((id: number) => {
    if (!thrown && /web\/services\.ts:\d+/.test(new Error().stack!.split('\n')[2])) {
      thrown = true;
      throw new Error('database is locked');
    }
    return orig(id);
  }) as typeof store.getChange;
  const started = await res1.agent.post('/bulk/fix/apply').type('form').send({ _csrf: res1.csrf, check: 'spf', plan: plans }).expect(303);
  const id = Number(/(\d+)$/.exec(started.headers.location!)![1]);
  await app.runner.wait(id);
  const atEnd = store.getJob(id)!;
  const changesAtEnd = store.changesForDomains(DOMAINS, 20).filter((c) => c.status === 'applied').length;
  // Let whatever is still running finish (no timing assumption about when: poll until nothing moves).
  let last = -1;
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const n = store.changesForDomains(DOMAINS, 20).length + store.jobItems(id).items.length;
    if (n === last && i > 10) break;
    last = n;
  }
  const later = store.getJob(id)!;
  const changesLater = store.changesForDomains(DOMAINS, 20).filter((c) => c.status === 'applied').length;
  console.log(JSON.stringify({ atEnd: [atEnd.status, atEnd.done, atEnd.error, changesAtEnd], later: [later.status, later.done, changesLater, store.jobItems(id).items.length] }));
  assert.ok(thrown);
  // Once the job is reported as stopped, nothing more is written under it.
  assert.equal(changesLater, changesAtEnd, `fixes went on after the job was reported ${atEnd.status}: ${changesAtEnd} applied then, ${changesLater} later`);
});
