// A refused fix says why it was refused (applyPlan's `why`): only a zone that changed since the preview gets "The zone
// changed — here is the new plan"; a plan that became blocked (the zone itself unchanged), a zone that is not the live
// one, and nothing left to change each say so — on the fix result page, in the bulk fix results and in the JSON API.
// Demo panel, loopback DNS, real SQLite.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildWorld } from '../../src/demo/world.js';
import { demoWorld, login, type TestWorld } from './helpers.js';

const ZONE_CHANGED = /The zone changed — here is the new plan/;
const planHashOf = (html: string) => /name="planHash" value="([^"]+)"/.exec(html)?.[1];

describe('refusals say their real reason', () => {
  let w: TestWorld;
  before(async () => {
    w = await demoWorld({ seedAudits: true });
  });
  after(async () => w.close());
  const zone = (d: string) => readFileSync(join(w.demo!.panelDir, 'zones', `${d}.db`), 'utf8');

  test('blocked after the preview (an include grew past 10 lookups; the zone did not change): the block, not "the zone changed"', async () => {
    const root = await login(w.app, 'root');
    const preview = await root.agent.get('/domains/bakery.example/fix?check=spf').expect(200);
    const planHash = planHashOf(preview.text)!;
    assert.ok(planHash);
    const bulkPreview = await root.agent.post('/bulk/fix/preview').type('form').send({ _csrf: root.csrf, check: 'spf', domains: ['bakery.example'] }).expect(200);
    const pair = /name="plan" value="([^"]+)"/.exec(bulkPreview.text)![1];
    const apiPlan = (await root.agent.get('/api/domains/bakery.example/fix?check=spf').expect(200)).body as { planHash: string };
    const before = zone('bakery.example');

    // Google's second netblock record now includes eight more: the fixed SPF record would need too many lookups.
    const map = buildWorld(w.demo!.panelDir);
    map['_netblocks2.google.com'] = { TXT: [['v=spf1 ' + Array.from({ length: 8 }, (_, i) => `include:n${i}.google.com`).join(' ') + ' ~all']] };
    for (let i = 0; i < 8; i++) map[`n${i}.google.com`] = { TXT: [[`v=spf1 ip4:10.${i}.0.0/16 ~all`]] };
    w.demo!.dns.setData(map);
    try {
      const page = await root.agent.post('/domains/bakery.example/fix').type('form').send({ _csrf: root.csrf, check: 'spf', planHash });
      assert.equal(page.status, 409);
      assert.doesNotMatch(page.text, ZONE_CHANGED);
      assert.match(page.text, /id="outcome" data-why="blocked"><strong>Refused:<\/strong> The fixed record would need \d+ DNS lookups/);
      assert.match(page.text, /<h2 id="refused-heading">This fix cannot be applied now<\/h2>/);
      assert.doesNotMatch(page.text, /id="apply"/, 'no apply button for a blocked plan');

      const bulk = await root.agent.post('/bulk/fix/apply').type('form').redirects(1).send({ _csrf: root.csrf, check: 'spf', plan: [pair] }).expect(200);
      assert.match(bulk.text, /data-domain="bakery.example" data-outcome="refused" data-why="blocked"/);
      assert.match(bulk.text, /<span class="state state-failed">blocked<\/span> The fixed record would need \d+ DNS lookups/);
      assert.doesNotMatch(bulk.text, /changed since the preview/);

      const api = await root.agent.post('/api/domains/bakery.example/fix').set('x-csrf-token', root.csrf).send({ check: 'spf', planHash: apiPlan.planHash });
      assert.equal(api.status, 409);
      assert.equal((api.body as { why: string }).why, 'blocked');
      assert.match((api.body as { reason: string }).reason, /DNS lookups/);
      assert.equal(zone('bakery.example'), before, 'nothing written');
    } finally {
      w.demo!.dns.setData(buildWorld(w.demo!.panelDir));
    }
  });

  test('the zone is not the live one: "publish the records at the DNS host", with the records to publish', async () => {
    const rita = await login(w.app, 'rita');
    const preview = await rita.agent.get('/api/domains/lawyer.example/fix?check=dmarc').expect(200);
    const planHash = (preview.body as { planHash: string }).planHash;
    const page = await rita.agent.post('/domains/lawyer.example/fix').type('form').send({ _csrf: rita.csrf, check: 'dmarc', planHash });
    assert.equal(page.status, 409);
    assert.doesNotMatch(page.text, ZONE_CHANGED);
    assert.match(page.text, /data-why="elsewhere"/);
    assert.match(page.text, /<h2 id="refused-heading">This server's DNS is not the live one — publish the records at the DNS host instead<\/h2>/);
    assert.match(page.text, /Records to publish at the DNS host/);
    assert.doesNotMatch(page.text, /id="apply"/);

    const bulk = await rita.agent.post('/bulk/fix/apply').type('form').redirects(1).send({ _csrf: rita.csrf, check: 'dmarc', plan: [`lawyer.example|${planHash}`] }).expect(200);
    assert.match(bulk.text, /data-domain="lawyer.example" data-outcome="refused" data-why="elsewhere"/);
    assert.match(bulk.text, /publish elsewhere<\/span> This server&#39;s DNS is not the live one/);
    assert.doesNotMatch(bulk.text, /changed since the preview/);
  });

  test('nothing left to change: says so, no new plan offered as a zone change', async () => {
    const rita = await login(w.app, 'rita');
    const preview = await rita.agent.get('/domains/clean.example/fix?check=spf').expect(200);
    assert.match(preview.text, /Nothing to change/);
    const planHash = (await rita.agent.get('/api/domains/clean.example/fix?check=spf').expect(200)).body.planHash as string;
    const page = await rita.agent.post('/domains/clean.example/fix').type('form').send({ _csrf: rita.csrf, check: 'spf', planHash });
    assert.equal(page.status, 409);
    assert.doesNotMatch(page.text, ZONE_CHANGED);
    assert.doesNotMatch(page.text, /Refused/);
    assert.match(page.text, /id="outcome" data-why="nothing"><strong>Nothing to change: the records are already right\.<\/strong>/);

    const bulk = await rita.agent.post('/bulk/fix/apply').type('form').redirects(1).send({ _csrf: rita.csrf, check: 'spf', plan: [`clean.example|${planHash}`] }).expect(200);
    assert.match(bulk.text, /data-domain="clean.example" data-outcome="refused" data-why="nothing"/);
    assert.match(bulk.text, /nothing to change<\/span> Nothing to change: the records are already right\./);
    assert.doesNotMatch(bulk.text, /changed since the preview/);
    const api = await rita.agent.post('/api/domains/clean.example/fix').set('x-csrf-token', rita.csrf).send({ check: 'spf', planHash });
    assert.equal((api.body as { why: string }).why, 'nothing');
  });

  test('the zone really changed: "The zone changed — here is the new plan", with the new plan to apply', async () => {
    const bob = await login(w.app, 'bob');
    const preview = await bob.agent.get('/domains/dentist.example/fix?check=dmarc').expect(200);
    const planHash = planHashOf(preview.text)!;
    assert.ok(planHash, 'dentist.example has a DMARC plan to apply');
    // Someone edits the zone after the preview (sending the same preview again after applying it is a double submit:
    // answered as "already applied", test/web/double-submit.test.ts).
    const file = join(w.demo!.panelDir, 'zones', 'dentist.example.db');
    writeFileSync(file, zone('dentist.example') + 'extra\tIN\tTXT\t"an edit made after the preview"\n');
    const page = await bob.agent.post('/domains/dentist.example/fix').type('form').send({ _csrf: bob.csrf, check: 'dmarc', planHash });
    assert.equal(page.status, 409);
    assert.match(page.text, /data-why="changed"/);
    assert.match(page.text, ZONE_CHANGED);
  });
});
