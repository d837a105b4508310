// QA: a double click on "Apply this change" (the same form posted twice) showed "Refused: Another fix … is running" or
// "Refused: The zone changed since the preview … Nothing to change" — the last answer, which the browser shows, told the
// customer the fix was refused, with no change number and no Undo, although the first submission had applied it. Now
// the second answer is that change ("already applied as change #N", its state, Verify again / Undo), on the page, in
// the bulk fix results and in the JSON API — and the fix is applied once. Demo panel, loopback DNS, real SQLite.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { demoWorld, login, type TestWorld } from './helpers.js';

const planHashOf = (html: string) => /name="planHash" value="([^"]+)"/.exec(html)?.[1];

describe('the same fix form sent twice', () => {
  let w: TestWorld;
  before(async () => {
    w = await demoWorld({ seedAudits: true });
  });
  after(async () => w.close());
  const zone = (d: string) => readFileSync(join(w.demo!.panelDir, 'zones', `${d}.db`), 'utf8');
  const changesOf = (d: string, check: string) => w.store.changesForDomain(d).filter((c) => c.check === check);

  test('one after the other: the second page says "already applied as change #N" with Undo, not "Refused"', async () => {
    const alice = await login(w.app, 'alice');
    const preview = await alice.agent.get('/domains/florist.example/fix?check=dmarc').expect(200);
    const planHash = planHashOf(preview.text)!;
    assert.ok(planHash);
    const form = { _csrf: alice.csrf, check: 'dmarc', planHash };
    const first = await alice.agent.post('/domains/florist.example/fix').type('form').send(form).expect(200);
    assert.match(first.text, /<strong>applied/);
    const written = zone('florist.example');
    const [ch] = changesOf('florist.example', 'dmarc');
    assert.ok(ch);

    const second = await alice.agent.post('/domains/florist.example/fix').type('form').send(form);
    assert.equal(second.status, 200, second.text);
    assert.doesNotMatch(second.text, /Refused/);
    assert.doesNotMatch(second.text, /Something went wrong/);
    assert.match(second.text, new RegExp(`id="outcome" data-already="applied" data-change="${ch.id}"`));
    assert.match(second.text, new RegExp(`This fix was already applied as change #${ch.id}\\.`));
    assert.match(second.text, /<span class="state state-applied">applied<\/span>/);
    assert.match(second.text, new RegExp(`action="/changes/${ch.id}/undo"`), 'Undo, as the applied page has');
    assert.match(second.text, new RegExp(`href="/history\\?domain=florist.example#change-${ch.id}"`));
    assert.match(second.text, /rua=mailto:/, 'the records that change wrote');
    assert.equal(zone('florist.example'), written, 'nothing written again');
    assert.equal(changesOf('florist.example', 'dmarc').length, 1, 'one change in the history');

    // The JSON API answers the same way.
    const api = await alice.agent.post('/api/domains/florist.example/fix').set('x-csrf-token', alice.csrf).send({ check: 'dmarc', planHash });
    assert.equal(api.status, 200, JSON.stringify(api.body));
    const body = api.body as { status: string; changeId: number; changeStatus: string; verified: string | null; reason: string; changes: unknown[] };
    assert.equal(body.status, 'already');
    assert.equal(body.changeId, ch.id);
    assert.equal(body.changeStatus, 'applied');
    assert.equal(body.verified, w.store.getChange(ch.id)!.verified);
    assert.match(body.reason, new RegExp(`^This fix was already applied as change #${ch.id}\\b`));
    assert.equal(body.changes.length, ch.changes.length);
    assert.equal(changesOf('florist.example', 'dmarc').length, 1);
  });

  test('both at once (a double click): one applies, the other answers with that change; applied once', async () => {
    const root = await login(w.app, 'root');
    const preview = await root.agent.get('/domains/dentist.example/fix?check=dmarc').expect(200);
    const planHash = planHashOf(preview.text)!;
    assert.ok(planHash);
    const form = { _csrf: root.csrf, check: 'dmarc', planHash };
    const pages = await Promise.all([
      root.agent.post('/domains/dentist.example/fix').type('form').send(form),
      root.agent.post('/domains/dentist.example/fix').type('form').send(form),
    ]);
    assert.deepEqual(pages.map((p) => p.status), [200, 200], pages.map((p) => p.text).join('\n----\n'));
    const changes = changesOf('dentist.example', 'dmarc');
    assert.equal(changes.length, 1, 'applied once');
    const id = changes[0].id;
    const already = pages.filter((p) => /data-already=/.test(p.text));
    assert.equal(already.length, 1, 'one page is the applied one, the other names it');
    assert.match(already[0].text, new RegExp(`data-change="${id}"`));
    assert.match(already[0].text, new RegExp(`change #${id}`));
    for (const p of pages) assert.doesNotMatch(p.text, /Refused/);
  });

  test('bulk fix results sent twice: the second says the domain was already fixed, with the change number', async () => {
    const rita = await login(w.app, 'rita');
    const planHash = ((await rita.agent.get('/api/domains/plumber.example/fix?check=dkim').expect(200)).body as { planHash: string; changes: unknown[] }).planHash;
    const form = { _csrf: rita.csrf, check: 'dkim', plan: [`plumber.example|${planHash}`] };
    const first = await rita.agent.post('/bulk/fix/apply').type('form').redirects(1).send(form).expect(200);
    assert.match(first.text, /data-domain="plumber.example" data-outcome="applied"/);
    const [ch] = changesOf('plumber.example', 'dkim');
    const second = await rita.agent.post('/bulk/fix/apply').type('form').redirects(1).send(form).expect(200);
    assert.match(second.text, /data-domain="plumber.example" data-outcome="already"/);
    assert.match(second.text, new RegExp(`already applied</span> The same preview was sent again: it was applied as change #${ch.id}, not a second time\\.`));
    assert.equal(changesOf('plumber.example', 'dkim').length, 1);
  });

  test('a customer never learns another account\'s change: outside the scope the answer stays 404', async () => {
    const [ch] = changesOf('florist.example', 'dmarc');
    assert.ok(ch, 'alice\'s change from the first test');
    const bob = await login(w.app, 'bob');
    const page = await bob.agent.post('/domains/florist.example/fix').type('form').send({ _csrf: bob.csrf, check: 'dmarc', planHash: ch.planHash });
    assert.equal(page.status, 404);
    assert.doesNotMatch(page.text, new RegExp(`#${ch.id}\\b`));
    const api = await bob.agent.post('/api/domains/florist.example/fix').set('x-csrf-token', bob.csrf).send({ check: 'dmarc', planHash: ch.planHash });
    assert.equal(api.status, 404);
    assert.equal((api.body as { changeId?: number }).changeId, undefined);
  });
});
