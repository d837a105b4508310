// A bulk fix apply of many domains runs as a background job: through a panel's proxy (cpsrvd, Plesk's web server) a
// request of several minutes could time out while the writes went on, leaving the reseller an error page and no
// result. Now the apply answers at once with the job's page, which follows the domains as they are fixed (progress,
// each outcome as it comes), keeps every outcome in SQLite (a reload, or mailhealth restarted, shows them), and can be
// cancelled (the domains not started are left alone). A few domains are still answered with their results (also kept
// as a job); a front door without background jobs applies them within the request, as before. WHM API 1 emulator on
// loopback (reseller res1's five domains, each with a stale SPF include), real SQLite.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { Gate, planValues, whmWorld, type WhmWorld } from './shared-zone-world.js';
import type { Session } from './helpers.js';

const DOMAINS = ['res1.example', 'alice.example', 'alice-shop.example', 'blog.alice.example', 'bob.example'];

const outcomes = (html: string) =>
  Object.fromEntries([...html.matchAll(/data-domain="([^"]+)" data-outcome="([a-z]+)"/g)].map((m) => [m[1], m[2]]));
const jobIdOf = (location: string | undefined) => Number(/^\/bulk\/fix\/jobs\/(\d+)$/.exec(location ?? '')?.[1]);

describe('bulk fix apply as a background job', () => {
  let w: WhmWorld | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  async function previewAll(res1: Session): Promise<string[]> {
    const page = await res1.agent.post('/bulk/fix/preview').type('form').send({ _csrf: res1.csrf, check: 'spf', domains: DOMAINS });
    assert.equal(page.status, 200, page.text);
    const plans = planValues(page.text);
    assert.deepEqual(plans.map((p) => p.split('|')[0]).sort(), [...DOMAINS].sort(), 'an SPF plan for each of the five domains');
    return plans;
  }

  test('answers at once with the job page, which shows progress and each outcome as it comes, kept in SQLite', { timeout: 60_000 }, async () => {
    const gate = new Gate();
    w = await whmWorld({ wrapPanel: gate.wrap });
    const { app, res1, store } = w;
    app.runner.fixInlineMax = 0; // every bulk fix answers with its job's page
    const plans = await previewAll(res1);

    gate.close();
    const started = await res1.agent.post('/bulk/fix/apply').type('form').send({ _csrf: res1.csrf, check: 'spf', plan: plans });
    assert.equal(started.status, 303, `the apply answers at once with the job's page, not after every write:\n${started.text.slice(0, 500)}`);
    const id = jobIdOf(started.headers.location);
    assert.ok(id > 0, started.headers.location);
    // Four domains at a time (one per zone group: blog.alice.example waits for alice.example), all held at their read.
    await gate.waiting(4);

    const running = await res1.agent.get(`/bulk/fix/jobs/${id}`).expect(200);
    // Updated in place by a script (focus stays put); without script, a <noscript> refresh (no Refresh header: it
    // would reload the page under the user's focus even with script).
    assert.equal(running.headers.refresh, undefined);
    // (To the job's address without ?resent=1: a "sent again" note is not repeated by the refresh.)
    assert.match(running.text, new RegExp(`<noscript><meta http-equiv="refresh" content="5; url=/bulk/fix/jobs/${id}"></noscript>`), 'the page updates itself while the job runs');
    assert.match(running.text, /<script src="\/assets\/bulk-fix\.js" defer><\/script>/);
    assert.match(running.text, /id="fix-job-summary" aria-live="polite"/);
    assert.match(running.text, /id="fix-job-status">running</);
    assert.deepEqual(Object.values(outcomes(running.text)), DOMAINS.map(() => 'waiting'));
    assert.match(running.text, new RegExp(`action="/bulk/fix/jobs/${id}/cancel"`));
    const still = await res1.agent.get(`/bulk/fix/jobs/${id}?follow=0`).expect(200);
    assert.equal(still.headers.refresh, undefined, '"Stop updating"');
    assert.doesNotMatch(still.text, /http-equiv="refresh"|bulk-fix\.js/, '"Stop updating": neither the script nor the reload');
    const api = await res1.agent.get(`/api/jobs/${id}`).expect(200);
    assert.equal(api.body.kind, 'bulk-fix');
    assert.equal(api.body.status, 'running');
    assert.equal(api.body.total, 5);
    // /bulk links to it; its outcomes are never streamed into the domain table as if they were audits.
    const bulk = await res1.agent.get('/bulk').expect(200);
    assert.match(bulk.text, new RegExp(`href="/bulk/fix/jobs/${id}"`));
    assert.doesNotMatch(bulk.text, new RegExp(`data-job-id="${id}"`));

    gate.open();
    await app.runner.wait(id);
    const done = await res1.agent.get(`/bulk/fix/jobs/${id}`).expect(200);
    assert.equal(done.headers.refresh, undefined);
    assert.doesNotMatch(done.text, /http-equiv="refresh"|bulk-fix\.js/);
    assert.match(done.text, /id="fix-job-status">complete</);
    assert.deepEqual(outcomes(done.text), Object.fromEntries(DOMAINS.map((d) => [d, 'applied'])), done.text);
    const rows = Object.keys(outcomes(done.text));
    assert.deepEqual(rows, plans.map((p) => p.split('|')[0]), 'rows in the order ticked');
    const changes = store.changesForDomains(DOMAINS, 20);
    assert.equal(changes.length, 5);
    assert.ok(changes.every((c) => c.status === 'applied' && c.byUser === 'res1'));
    // The job's JSON: each outcome with its change, in the order they came, paged with since/next.
    const all = await res1.agent.get(`/api/jobs/${id}`).expect(200);
    assert.equal(all.body.status, 'complete');
    assert.equal(all.body.done, 5);
    assert.equal(all.body.failed, 0);
    assert.equal(all.body.results.length, 5);
    assert.ok(all.body.results.every((r: { status: string; changeId: number }) => r.status === 'applied' && changes.some((c) => c.id === r.changeId)));
    const later = await res1.agent.get(`/api/jobs/${id}?since=3`).expect(200);
    assert.deepEqual(later.body.results, all.body.results.slice(3));

    // mailhealth restarted: the outcomes are read back from SQLite.
    const again = await w.restart();
    const reloaded = await again.res1.agent.get(`/bulk/fix/jobs/${id}`).expect(200);
    assert.deepEqual(outcomes(reloaded.text), outcomes(done.text));
    assert.match(reloaded.text, /change #\d+/);
  });

  test('cancel leaves the domains not started as they are; the ones being fixed finish', { timeout: 60_000 }, async () => {
    const gate = new Gate();
    w = await whmWorld({ wrapPanel: gate.wrap });
    const { app, res1, store } = w;
    app.runner.fixInlineMax = 0;
    const plans = await previewAll(res1);
    gate.close();
    const id = jobIdOf((await res1.agent.post('/bulk/fix/apply').type('form').send({ _csrf: res1.csrf, check: 'spf', plan: plans }).expect(303)).headers.location);
    await gate.waiting(4);
    // Without the session's CSRF token: refused, the job goes on.
    await res1.agent.post(`/bulk/fix/jobs/${id}/cancel`).type('form').send({}).expect(403);
    assert.equal(store.getJob(id)!.cancelRequested, false);
    const cancel = await res1.agent.post(`/bulk/fix/jobs/${id}/cancel`).type('form').send({ _csrf: res1.csrf }).expect(303);
    assert.equal(cancel.headers.location, `/bulk/fix/jobs/${id}`);
    assert.match((await res1.agent.get(`/bulk/fix/jobs/${id}`).expect(200)).text, /Cancelling/);
    gate.open();
    await app.runner.wait(id);
    const page = await res1.agent.get(`/bulk/fix/jobs/${id}`).expect(200);
    assert.match(page.text, /id="fix-job-status">cancelled</);
    const got = outcomes(page.text);
    // The four started (one per zone group) are applied; the fifth — the second of alice.example's group — is not.
    const skipped = DOMAINS.filter((d) => got[d] === 'skipped');
    assert.equal(skipped.length, 1, JSON.stringify(got));
    assert.ok(['alice.example', 'blog.alice.example'].includes(skipped[0]));
    assert.equal(DOMAINS.filter((d) => got[d] === 'applied').length, 4, JSON.stringify(got));
    assert.match(page.text, /cancelled before it reached this domain/);
    assert.equal(store.changesForDomains([skipped[0]], 5).length, 0, 'nothing written for the skipped domain');
    assert.equal(store.getJob(id)!.failed, 1, 'counted as not applied');
  });

  test('mailhealth restarted mid-fix: the page says which domains have no outcome and where to look', { timeout: 60_000 }, async () => {
    const gate = new Gate();
    w = await whmWorld({ wrapPanel: gate.wrap });
    const { app, res1, store } = w;
    app.runner.fixInlineMax = 0;
    const plans = await previewAll(res1);
    gate.close();
    const id = jobIdOf((await res1.agent.post('/bulk/fix/apply').type('form').send({ _csrf: res1.csrf, check: 'spf', plan: plans }).expect(303)).headers.location);
    await gate.waiting(4);
    // What a new process does at start (src/web/server.ts): the old job is interrupted.
    store.interruptUnfinishedJobs();
    const again = await w.restart();
    const page = await again.res1.agent.get(`/bulk/fix/jobs/${id}`).expect(200);
    assert.equal(page.headers.refresh, undefined);
    assert.match(page.text, /id="fix-job-status">interrupted</);
    assert.deepEqual(Object.values(outcomes(page.text)), DOMAINS.map(() => 'none'));
    assert.match(page.text, /stopped when mailhealth restarted/);
    gate.open();
    await app.runner.wait(id);
  });

  test('a few domains are answered with their results (kept as a job); without background jobs, within the request', { timeout: 60_000 }, async () => {
    w = await whmWorld();
    const plans = await previewAll(w.res1);
    const res = await w.res1.agent.post('/bulk/fix/apply').type('form').send({ _csrf: w.res1.csrf, check: 'spf', plan: plans });
    // Five domains: answered once done, with a redirect to the job's page (POST-redirect-GET: a reload shows it again).
    assert.equal(res.status, 303, res.text);
    const [job] = w.store.listJobs('res1');
    assert.equal(res.headers.location, `/bulk/fix/jobs/${job.id}`);
    assert.equal(job.status, 'complete', 'answered when done');
    const shown = await w.res1.agent.get(res.headers.location).expect(200);
    assert.deepEqual(outcomes(shown.text), Object.fromEntries(DOMAINS.map((d) => [d, 'applied'])));
    assert.equal(job.kind, 'bulk-fix');
    assert.equal(job.status, 'complete');
    assert.equal(w.store.jobItems(job.id).items.length, 5);
    await w.close();

    // A front door that ends with its request (no background service): applied here, within the request, and kept as a
    // finished job whose page the answer redirects to (see bulk-fix-inline-prg.test.ts).
    w = await whmWorld({ app: { backgroundJobs: false } });
    const plans2 = await previewAll(w.res1);
    const inline = await w.res1.agent.post('/bulk/fix/apply').type('form').send({ _csrf: w.res1.csrf, check: 'spf', plan: plans2 });
    assert.equal(inline.status, 303, inline.text);
    const [kept] = w.store.listJobs('res1');
    assert.equal(inline.headers.location, `/bulk/fix/jobs/${kept.id}`);
    assert.equal(kept.status, 'complete');
    const inlineShown = await w.res1.agent.get(inline.headers.location).expect(200);
    assert.deepEqual(outcomes(inlineShown.text), Object.fromEntries(DOMAINS.map((d) => [d, 'applied'])));
  });

  test('an audit job, or an unknown id, has no bulk fix page', { timeout: 60_000 }, async () => {
    w = await whmWorld();
    w.app.runner.fixInlineMax = 0;
    const plans = await previewAll(w.res1);
    const id = jobIdOf((await w.res1.agent.post('/bulk/fix/apply').type('form').send({ _csrf: w.res1.csrf, check: 'spf', plan: plans }).expect(303)).headers.location);
    await w.app.runner.wait(id);
    const audit = await w.res1.agent.post('/bulk/audit').type('form').send({ _csrf: w.res1.csrf }).expect(303);
    assert.ok(audit.headers.location?.startsWith('/bulk'));
    const auditJob = w.store.listJobs('res1').find((j) => j.kind === 'bulk-audit')!;
    await w.app.runner.wait(auditJob.id);
    await w.res1.agent.get(`/bulk/fix/jobs/${auditJob.id}`).expect(404);
    await w.res1.agent.get(`/bulk/fix/jobs/${id + 1000}`).expect(404);
  });
});
