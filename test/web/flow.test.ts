// Fix preview → apply → history → undo through HTTP on the demo panel copy with the loopback DNS server; bulk jobs
// (progress, cancel, restart), bulk fix, exports.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../../src/web/app.js';
import { startServer } from '../../src/web/server.js';
import { demoWorld, login, NO_LIMITS, type TestWorld } from './helpers.js';

describe('fix flow through HTTP (demo panel, loopback DNS)', () => {
  let w: TestWorld;
  before(async () => {
    w = await demoWorld({ seedAudits: true });
  });
  after(async () => w.close());
  const zone = () => readFileSync(join(w.demo!.panelDir, 'zones', 'bakery.example.db'), 'utf8');

  test('preview, apply (verified), history, undo', async () => {
    const { agent, csrf } = await login(w.app, 'alice');
    const original = zone();
    const domainPage = await agent.get('/domains/bakery.example').expect(200);
    assert.match(domainPage.text, /href="\/domains\/bakery.example\/fix\?check=spf"/);
    assert.match(domainPage.text, /websitewelcome\.com/);

    const preview = await agent.get('/domains/bakery.example/fix?check=spf').expect(200);
    assert.match(preview.text, /include:websitewelcome\.com include:_spf\.google\.com/, 'before');
    assert.match(preview.text, /include:_spf\.google\.com include:relay\.mailchannels\.net ~all/, 'after');
    const planHash = /name="planHash" value="([^"]+)"/.exec(preview.text)![1];

    const applied = await agent.post('/domains/bakery.example/fix').type('form').send({ _csrf: csrf, check: 'spf', planHash }).expect(200);
    assert.match(applied.text, /data-verified="yes"/);
    assert.match(applied.text, /<strong>applied<\/strong>/);
    assert.match(zone(), /relay\.mailchannels\.net/);
    assert.doesNotMatch(zone(), /websitewelcome/);

    const history = await agent.get('/history').expect(200);
    const changeId = Number(/action="\/changes\/(\d+)\/undo"/.exec(history.text)![1]);
    assert.ok(changeId > 0);
    assert.equal(w.store.getChange(changeId)!.byUser, 'alice');

    // The same plan again (a double submit): not applied twice, and not called refused — it names the change made.
    const again = await agent.post('/domains/bakery.example/fix').type('form').send({ _csrf: csrf, check: 'spf', planHash });
    assert.equal(again.status, 200);
    assert.doesNotMatch(again.text, /Refused/);
    assert.match(again.text, new RegExp(`already applied as change #${changeId}`));

    const undone = await agent.post(`/changes/${changeId}/undo`).type('form').send({ _csrf: csrf }).expect(200);
    assert.match(undone.text, /undone/);
    assert.match(original, /"v=spf1 \+a \+mx include:websitewelcome.com include:_spf.google.com ~all"/);
    assert.match(zone(), /"v=spf1 \+a \+mx include:websitewelcome.com include:_spf.google.com ~all"/, 'the old record is back');
    assert.doesNotMatch(zone(), /relay\.mailchannels\.net/);
    const after = await agent.get('/history').expect(200);
    // Old and new records are labelled, not told apart by colour alone (browser QA).
    assert.match(after.text, /Before:<\/span><code class="rec del">/);
    assert.match(after.text, /After:<\/span><code class="rec add">/);
    assert.doesNotMatch(after.text, new RegExp(`action="/changes/${changeId}/undo"`), 'no Undo on an undone change');
    // Sent again by the same user: answered with the undo that was made ("already", 200), not written twice.
    const resent = await agent.post(`/api/changes/${changeId}/undo`).set('x-csrf-token', csrf);
    assert.deepEqual([resent.status, resent.body.status, resent.body.undoOf], [200, 'already', changeId]);
  });

  test('JSON API: plan, apply, undo', async () => {
    const { agent, csrf } = await login(w.app, 'alice');
    const plan = await agent.get('/api/domains/bakery.example/fix?check=spf').expect(200);
    const body = plan.body as { planHash: string; mode: string; changes: unknown[]; unknownTerms: string[] };
    assert.equal(body.mode, 'apply');
    assert.equal(body.changes.length, 1);
    const res = await agent.post('/api/domains/bakery.example/fix').set('x-csrf-token', csrf).send({ check: 'spf', planHash: body.planHash }).expect(200);
    const out = res.body as { status: string; verified: string; changeId: number };
    assert.equal(out.status, 'applied');
    assert.equal(out.verified, 'yes');
    const u = await agent.post(`/api/changes/${out.changeId}/undo`).set('x-csrf-token', csrf).expect(200);
    assert.equal((u.body as { status: string }).status, 'applied');
  });

  test("a mail service's SPF term can be selected for removal in the preview (page and API); kept otherwise", async () => {
    const { agent } = await login(w.app, 'alice');
    const api = await agent.get('/api/domains/bakery.example/fix?check=spf').expect(200);
    const body = api.body as { serviceTerms: string[]; changes: { after: { value: string } | null }[] };
    assert.deepEqual(body.serviceTerms, ['+mx', 'include:_spf.google.com']);
    assert.match(body.changes[0].after!.value, /include:_spf\.google\.com/, 'kept unless selected');
    const page = await agent.get('/domains/bakery.example/fix?check=spf').expect(200);
    assert.match(page.text, /Mail services this record authorises/);
    assert.match(page.text, /name="remove" value="include:_spf.google.com"/);
    const picked = await agent.get('/api/domains/bakery.example/fix?check=spf&remove=include:_spf.google.com').expect(200);
    const pb = picked.body as { serviceTerms: string[]; changes: { after: { value: string } | null }[]; notes: string[] };
    assert.doesNotMatch(pb.changes[0].after!.value, /_spf\.google\.com/);
    assert.deepEqual(pb.serviceTerms, ['+mx', 'include:_spf.google.com'], 'still listed, so it can be unselected');
  });

  test('a zone that is not the live one: the records to publish, with copy buttons and no apply', async () => {
    const { agent } = await login(w.app, 'rita');
    const r = await agent.get('/domains/lawyer.example/fix?check=dmarc').expect(200);
    assert.match(r.text, /Records to publish/);
    assert.match(r.text, /class="btn btn-small copy"/);
    assert.doesNotMatch(r.text, /id="apply"/);
    const api = await agent.get('/api/domains/lawyer.example/fix?check=dmarc').expect(200);
    assert.equal((api.body as { mode: string }).mode, 'publish-elsewhere');
  });

  test('unknown SPF terms: listed with checkboxes, kept unless ticked; a term the plan drops by itself is not offered', async () => {
    const p = join(w.demo!.panelDir, 'zones', 'florist.example.db');
    const text = readFileSync(p, 'utf8');
    // ip4:198.51.100.7 is nobody's the audit knows (kept unless ticked); _spf.gone-mailer.example does not exist, so
    // the plan drops that include on its own (a permanent error for every receiver) and does not offer it.
    writeFileSync(p, text.replace(/"v=spf1 /, '"v=spf1 ip4:198.51.100.7 include:_spf.gone-mailer.example '));
    try {
      const { agent } = await login(w.app, 'alice');
      const r = await agent.get('/domains/florist.example/fix?check=spf').expect(200);
      assert.match(r.text, /name="remove" value="ip4:198.51.100.7"/, 'the unknown term is listed: ' + r.text.slice(0, 2000));
      assert.doesNotMatch(r.text, /name="remove" value="ip4:198.51.100.7" checked/);
      assert.match(r.text, /IN TXT &#34;v=spf1[^<]*ip4:198.51.100.7/, 'kept in the after record');
      assert.doesNotMatch(r.text, /name="remove" value="include:_spf.gone-mailer.example"/);
      assert.match(r.text, /Drops include:_spf.gone-mailer.example: _spf.gone-mailer.example does not exist/);
      const ticked = await agent.get('/domains/florist.example/fix?check=spf&remove=ip4:198.51.100.7').expect(200);
      assert.match(ticked.text, /value="ip4:198.51.100.7" checked/);
      assert.match(ticked.text, /name="removeTerms" value="ip4:198.51.100.7"/);
    } finally {
      writeFileSync(p, text);
    }
  });

  test("lockdown: an id mailhealth cannot place (the customer's own MailChannels account) is listed, kept unless ticked; DreamHost's is not", async () => {
    const p = join(w.demo!.panelDir, 'zones', 'florist.example.db');
    const text = readFileSync(p, 'utf8');
    writeFileSync(p, text.replace('"v=mc1 auth=dreamhost"', '"v=mc1 auth=dreamhost auth=acme-emailapi"'));
    try {
      const { agent } = await login(w.app, 'alice');
      const r = await agent.get('/domains/florist.example/fix?check=lockdown').expect(200);
      assert.match(r.text, /MailChannels ids mailhealth could not place/);
      assert.match(r.text, /name="remove" value="auth=acme-emailapi"/, 'the unknown id is listed');
      assert.doesNotMatch(r.text, /name="remove" value="auth=acme-emailapi" checked/);
      assert.doesNotMatch(r.text, /name="remove" value="auth=dreamhost"/, "the previous host's id is dropped, not offered");
      assert.match(r.text, /class="rec add">.*IN TXT &#34;v=mc1 auth=newhostmc auth=acme-emailapi&#34;/, 'kept in the after record');
      const api = await agent.get('/api/domains/florist.example/fix?check=lockdown').expect(200);
      assert.deepEqual(api.body.unknownTerms, ['auth=acme-emailapi']);
      const ticked = await agent.get('/domains/florist.example/fix?check=lockdown&remove=auth=acme-emailapi').expect(200);
      assert.match(ticked.text, /value="auth=acme-emailapi" checked/);
      assert.match(ticked.text, /name="removeTerms" value="auth=acme-emailapi"/);
      assert.match(ticked.text, /Removes auth=acme-emailapi \(you selected it\)/);
      assert.match(ticked.text, /class="rec add">.*IN TXT &#34;v=mc1 auth=newhostmc&#34;/, 'gone from the after record');
    } finally {
      writeFileSync(p, text);
    }
  });

});

describe('bulk', () => {
  let w: TestWorld;
  before(async () => {
    w = await demoWorld({});
  });
  after(async () => w.close());

  test('bulk audit job: progress in the store, results streamed, page shows it after reload', async () => {
    const { agent, csrf } = await login(w.app, 'rita');
    const start = await agent.post('/bulk/audit').type('form').send({ _csrf: csrf }).expect(303);
    assert.equal(start.headers.location, '/bulk');
    const job = w.store.listJobs('rita', 1)[0];
    assert.equal(job.total, 4);
    await w.app.runner.wait(job.id);
    const j = await agent.get(`/api/jobs/${job.id}`).expect(200);
    const body = j.body as { status: string; done: number; total: number; failed: number; results: { domain: string; status: string }[]; next: number };
    assert.equal(body.status, 'complete');
    assert.equal(body.done, 4);
    assert.ok(body.failed >= 1);
    assert.deepEqual(body.results.map((r) => r.domain).sort(), ['clean.example', 'dentist.example', 'lawyer.example', 'plumber.example']);
    assert.equal((await agent.get(`/api/jobs/${job.id}?since=${body.next}`).expect(200)).body.results.length, 0);
    const page = await agent.get('/bulk').expect(200);
    assert.match(page.text, new RegExp(`data-job-id="${job.id}" data-status="complete"`));
    assert.match(page.text, new RegExp(`id="job-${job.id}-done">4<`));
    const csv = await agent.get('/api/export.csv?status=fail').expect(200);
    assert.match(csv.text, /^domain,owner,status,audited_at,spf,dkim,dmarc,lockdown,mx,dns,ptr\r\n/);
    assert.ok(csv.text.trim().split('\r\n').slice(1).every((l) => l.includes('"fail"')));
  });

  test('cancel stops a job between domains', async () => {
    const app = createApp({ panel: w.panel, store: w.store, makeResolver: w.makeResolver, identityFrom: 'session', rateLimits: NO_LIMITS, auditConcurrency: 1 });
    const { agent, csrf } = await login(app, 'root');
    const r = await agent.post('/api/bulk').set('x-csrf-token', csrf).send({}).expect(202);
    const id = (r.body as { jobId: number }).jobId;
    const c = await agent.post(`/api/jobs/${id}/cancel`).set('x-csrf-token', csrf).expect(200);
    assert.equal((c.body as { cancelRequested: boolean }).cancelRequested, true);
    await app.runner.wait(id);
    const j = w.store.getJob(id)!;
    assert.equal(j.status, 'cancelled');
    assert.ok(j.done < j.total, `${j.done} < ${j.total}`);
  });

  test('bulk fix: per-domain plan summary, applied one by one', async () => {
    const { agent, csrf } = await login(w.app, 'rita');
    const prev = await agent.post('/bulk/fix/preview').type('form').send({ _csrf: csrf, check: 'dmarc', domains: ['dentist.example', 'lawyer.example', 'bakery.example'] }).expect(200);
    assert.match(prev.text, /publish elsewhere/, 'lawyer.example is served elsewhere');
    assert.match(prev.text, /name="plan" value="dentist.example\|sha256:/);
    assert.doesNotMatch(prev.text, /value="bakery.example\|/);
    assert.match(prev.text, /bakery.example<\/th><td class="plan">Not found/);
    const plans = [...prev.text.matchAll(/name="plan" value="([^"]+)"/g)].map((m) => m[1]);
    const res = await agent.post('/bulk/fix/apply').type('form').redirects(1).send({ _csrf: csrf, check: 'dmarc', plan: plans }).expect(200);
    assert.match(res.text, /dentist.example<\/a><\/th>\s*<td><span class="state state-complete">applied/);
    assert.match(readFileSync(join(w.demo!.panelDir, 'zones', 'dentist.example.db'), 'utf8'), /_dmarc/);
  });
});

describe('server start', () => {
  test('marks interrupted jobs, reconciles, listens on loopback only', async () => {
    const w = await demoWorld({});
    try {
      const job = w.store.createJob({ kind: 'bulk-audit', byUser: 'rita', total: 10 });
      w.store.updateJob(job, { status: 'running', done: 3 });
      await assert.rejects(startServer({ panel: w.panel, store: w.store, makeResolver: w.makeResolver, identityFrom: 'session', host: '0.0.0.0', port: 0 }), /loopback/);
      const s = await startServer({ panel: w.panel, store: w.store, makeResolver: w.makeResolver, identityFrom: 'session', host: '127.0.0.1', port: 0 });
      try {
        assert.equal(w.store.getJob(job)!.status, 'interrupted');
        assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+$/);
        const r = await fetch(`${s.url}/login`);
        assert.equal(r.status, 200);
      } finally {
        await s.close();
      }
    } finally {
      await w.close();
    }
  });
});
