// QA of the bulk fix's job page (HTTP): Cancel after "Stop updating" came back following again; reloading the results
// page of a small bulk fix sent the apply again (a new job saying "5 applied" over rows all "already applied", a bulk
// token, and the real job pushed off /bulk); the same apply sent twice while the first ran made two jobs whose rows
// all said another fix was running; a row that lost the lock race read as a refusal. WHM API 1 emulator on loopback
// (reseller res1's five domains, each with a stale SPF include), real SQLite.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import ejs from 'ejs';
import { VIEWS_DIR } from '../../src/web/app.js';
import { viewHelpers } from '../../src/web/view-model.js';
import { str } from '../../src/web/http.js';
import { Gate, planValues, whmWorld, type WhmWorld } from './shared-zone-world.js';
import type { Session } from './helpers.js';

const DOMAINS = ['res1.example', 'alice.example', 'alice-shop.example', 'blog.alice.example', 'bob.example'];
const outcomes = (html: string) =>
  Object.fromEntries([...html.matchAll(/data-domain="([^"]+)" data-outcome="([a-z]+)"/g)].map((m) => [m[1], m[2]]));
const words = (html: string) => html.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ');
const jobIdOf = (location: string | undefined) => Number(/^\/bulk\/fix\/jobs\/(\d+)(?:\?follow=0)?$/.exec(location ?? '')?.[1]);

describe('bulk fix: resent applies and the job page', () => {
  let w: WhmWorld | undefined;
  let gate = new Gate();
  afterEach(async () => {
    gate.open(); // a failed assertion leaves nothing held
    await w?.close();
    w = undefined;
  });

  async function previewAll(res1: Session): Promise<string[]> {
    const page = await res1.agent.post('/bulk/fix/preview').type('form').send({ _csrf: res1.csrf, check: 'spf', domains: DOMAINS });
    assert.equal(page.status, 200, page.text);
    return planValues(page.text);
  }
  const apply = (s: Session, plans: string[]) => s.agent.post('/bulk/fix/apply').type('form').send({ _csrf: s.csrf, check: 'spf', plan: plans });

  test('Cancel after "Stop updating" keeps the page still', { timeout: 60_000 }, async () => {
    gate = new Gate();
    w = await whmWorld({ wrapPanel: gate.wrap });
    w.app.runner.fixInlineMax = 0;
    const { res1 } = w;
    const plans = await previewAll(res1);
    gate.close();
    const id = jobIdOf((await apply(res1, plans).expect(303)).headers.location);
    await gate.waiting(4);
    const still = await res1.agent.get(`/bulk/fix/jobs/${id}?follow=0`).expect(200);
    assert.match(still.text, /<input type="hidden" name="follow" value="0">/, 'the Cancel form carries the choice');
    const cancel = await res1.agent.post(`/bulk/fix/jobs/${id}/cancel`).type('form').send({ _csrf: res1.csrf, follow: '0' }).expect(303);
    assert.equal(cancel.headers.location, `/bulk/fix/jobs/${id}?follow=0`);
    // Following (no follow=0 sent): back to the followed page, as before.
    const followed = await res1.agent.get(`/bulk/fix/jobs/${id}`).expect(200);
    assert.doesNotMatch(followed.text, /name="follow"/);
    gate.open();
    await w.app.runner.wait(id);
  });

  test('a few domains: the apply redirects to its finished job, so a reload sends nothing again', { timeout: 60_000 }, async () => {
    w = await whmWorld();
    const { res1, store } = w;
    const plans = await previewAll(res1);
    const res = await apply(res1, plans).expect(303);
    const id = jobIdOf(res.headers.location);
    assert.ok(id > 0, res.headers.location);
    assert.equal(store.getJob(id)!.status, 'complete', 'answered once done');
    // F5 on the results: a GET of the job's page, as often as it likes.
    for (let i = 0; i < 2; i++) {
      const page = await res1.agent.get(res.headers.location!).expect(200);
      assert.deepEqual(outcomes(page.text), Object.fromEntries(DOMAINS.map((d) => [d, 'applied'])));
      assert.match(words(page.text), /5 of 5 domains done: 5 applied, 0 not applied\./);
    }
    assert.equal(store.listJobs('res1').length, 1, 'no second job');
    assert.equal(store.changesForDomains(DOMAINS, 20).length, 5);
  });

  test('a job whose every row is "already applied" does not say "5 applied"', { timeout: 60_000 }, async () => {
    w = await whmWorld();
    const { res1 } = w;
    const plans = await previewAll(res1);
    await apply(res1, plans).expect(303);
    // The same form sent again later (the first job long done): a new job, each domain "already applied".
    const again = jobIdOf((await apply(res1, plans).expect(303)).headers.location);
    const page = await res1.agent.get(`/bulk/fix/jobs/${again}`).expect(200);
    assert.deepEqual(outcomes(page.text), Object.fromEntries(DOMAINS.map((d) => [d, 'already'])));
    assert.match(words(page.text), /5 of 5 domains done: 0 applied, 5 already applied, 0 not applied\./);
  });

  test('the same apply sent twice while it runs answers with the one job', { timeout: 60_000 }, async () => {
    gate = new Gate();
    w = await whmWorld({ wrapPanel: gate.wrap });
    const { res1, store } = w;
    const plans = await previewAll(res1);
    gate.close();
    // Five domains: the first request waits for its job; the second, sent meanwhile, is sent to that job at once.
    const first = apply(res1, plans).then((r) => r);
    await gate.waiting(4);
    // Either the answer comes, or a second job's reads reach the panel (held too: the old behaviour).
    const secondP = apply(res1, [...plans].reverse()).then((r) => r);
    const raced = await Promise.race([secondP, gate.waiting(8).then(() => 'a second job started' as const)]);
    if (raced === 'a second job started') {
      gate.open();
      await Promise.all([first, secondP]);
      assert.fail(raced);
    }
    const second = await secondP;
    assert.equal(second.status, 303);
    const [job] = store.listJobs('res1');
    assert.equal(second.headers.location, `/bulk/fix/jobs/${job.id}`);
    assert.equal(store.listJobs('res1').length, 1, 'no second job');
    gate.open();
    const one = await first;
    assert.equal(one.status, 303);
    assert.equal(one.headers.location, `/bulk/fix/jobs/${job.id}`);
    const page = await res1.agent.get(`/bulk/fix/jobs/${job.id}`).expect(200);
    assert.deepEqual(outcomes(page.text), Object.fromEntries(DOMAINS.map((d) => [d, 'applied'])));

    // Sent at the very same moment (no job yet for either): still one job.
    await w.close();
    w = await whmWorld({ wrapPanel: gate.wrap });
    w.app.runner.fixInlineMax = 0;
    const plans2 = await previewAll(w.res1);
    gate.close();
    const [a, b] = await Promise.all([apply(w.res1, plans2), apply(w.res1, plans2)]);
    const jobs = w.store.listJobs('res1');
    gate.open();
    for (const j of jobs) await w.app.runner.wait(j.id);
    assert.deepEqual([a.status, b.status], [303, 303]);
    assert.equal(a.headers.location, b.headers.location);
    assert.equal(jobs.length, 1);
  });
});

describe('bulk fix results: a row that lost the lock race', () => {
  test('reads as another fix running at the same time, with the history to look at — not as a refusal', async () => {
    const html = await ejs.renderFile(join(VIEWS_DIR, 'bulk-fix-result.ejs'), {
      title: 'Bulk fix: spf',
      check: 'spf',
      rows: [{ domain: 'shop01.example', outcome: { status: 'refused', reason: 'Another fix on shop01.example is running; try again in a moment.' } }],
      notFound: [],
      job: { id: 7, status: 'complete', total: 1, done: 1, failed: 1, cancelRequested: false },
      follow: true,
      refreshSeconds: 5,
      csrf: 'x',
      h: viewHelpers,
      str,
    });
    assert.match(html, /<span class="state state-interrupted">busy<\/span> Another fix of this domain was being applied at the same time/);
    assert.match(html, /href="\/history\?domain=shop01\.example">Its history<\/a>/);
    assert.doesNotMatch(html, /state-failed">refused/);
  });
});

describe('bulk fix results: a "zone changed" refusal with more to say', () => {
  test('the words after the core\'s "here is the new plan." are shown (escaped)', async () => {
    const html = await ejs.renderFile(join(VIEWS_DIR, 'bulk-fix-result.ejs'), {
      title: 'Bulk fix: dkim',
      check: 'dkim',
      rows: [{ domain: 'blog.zed.example', outcome: { status: 'refused', why: 'changed', reason: 'The zone changed since the preview (or the plan would differ): here is the new plan. Preview <b>blog.zed.example</b> again.' } }],
      notFound: [],
      job: { id: 8, status: 'complete', total: 1, done: 1, failed: 1, cancelRequested: false },
      follow: false,
      refreshSeconds: 5,
      csrf: 'x',
      h: viewHelpers,
      str,
    });
    assert.match(html, /nothing was changed\. Preview &lt;b&gt;blog\.zed\.example&lt;\/b&gt; again\. <a /);
  });
});
