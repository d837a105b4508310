// Work a request can cause is paid for: fix previews and audit-on-view take an audit token, bulk previews a token of
// their own bucket, the background path of "Audit all" a bulk token; an app without background jobs (a per-request
// front door) refuses bulk audits and creates no job; the session cookie is Secure behind the loopback TLS proxy.
// Offline: files panel, no DNS.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { createApp, NO_BACKGROUND_JOBS, type AppDeps } from '../../src/web/app.js';
import { SYNC_AUDIT_MAX } from '../../src/web/routes/domains.js';
import { MapResolver } from '../helpers/map-resolver.js';
import { login, NO_LIMITS, PASSWORD, setPasswords } from './helpers.js';

const MANY = Array.from({ length: SYNC_AUDIT_MAX + 5 }, (_, i) => `shop${i}.example`);

let dir: string;
let store: Store;
let panel: FilesPanel;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailhealth-limits-'));
  const accounts = [
    { user: 'root', role: 'admin' },
    { user: 'rita', role: 'reseller' },
    { user: 'rex', role: 'reseller' },
    { user: 'cust', role: 'customer', owner: 'rita', domains: MANY },
    { user: 'alice', role: 'customer', owner: 'rex', domains: ['a1.example', 'a2.example', 'a3.example'] },
    { user: 'bob', role: 'customer', owner: 'rex', domains: ['b1.example', 'b2.example'] },
  ];
  writeFileSync(join(dir, 'panel.json'), JSON.stringify({ server: { hostname: 'h.example', ips: ['192.0.2.1'], nameservers: ['ns1.h.example'] }, accounts }));
  store = openStore(join(dir, 'db.sqlite'));
  panel = new FilesPanel(dir);
  await setPasswords(store, ['root', 'rita', 'rex', 'alice', 'bob']);
});
after(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const app = (extra: Partial<AppDeps> = {}) => createApp({ panel, store, makeResolver: () => new MapResolver({}), identityFrom: 'session', rateLimits: NO_LIMITS, ...extra });
const limits = (audit: number, bulk: number) => ({ audit: { capacity: audit, perMinute: 0 }, bulk: { capacity: bulk, perMinute: 0 }, login: { capacity: 100, perMinute: 0 } });

describe('rate limits on previews, audit-on-view and "Audit all"', () => {
  test('POST /domains/audit for more than SYNC_AUDIT_MAX domains also takes a bulk token', async () => {
    const a = app({ rateLimits: limits(10, 1) });
    const rita = await login(a, 'rita');
    const first = await rita.agent.post('/domains/audit').type('form').send({ _csrf: rita.csrf });
    assert.equal(first.status, 303);
    assert.equal(first.headers.location, '/bulk');
    const jobs = store.listJobs('rita', 10);
    assert.equal(jobs.length, 1);
    await a.runner.wait(jobs[0].id);
    const second = await rita.agent.post('/domains/audit').type('form').send({ _csrf: rita.csrf });
    assert.equal(second.status, 429);
    assert.match(second.text, /Too many bulk actions in a short time/);
    assert.equal(store.listJobs('rita', 10).length, 1, 'no second job');
  });

  test('a refused "Audit all" over many domains spends no token: both are taken or neither (review)', async () => {
    // Bulk bucket empty, audit bucket with one token: refused by the bulk limit, and the audit token is still there.
    const a = app({ rateLimits: limits(1, 0) });
    const rita = await login(a, 'rita');
    const refused = await rita.agent.post('/domains/audit').type('form').send({ _csrf: rita.csrf });
    assert.equal(refused.status, 429);
    assert.match(refused.text, /Too many bulk actions in a short time/);
    // The audit token is still there: one domain's audit (one audit token) goes through.
    const one = await rita.agent.post('/domains/shop0.example/audit').type('form').send({ _csrf: rita.csrf });
    assert.notEqual(one.status, 429, 'the audit token was not spent');
    assert.equal((await rita.agent.post('/domains/shop0.example/audit').type('form').send({ _csrf: rita.csrf })).status, 429, 'and now it is');
  });

  test('fix previews (page and API) take an audit token', async () => {
    const a = app({ rateLimits: limits(2, 100) });
    const alice = await login(a, 'alice');
    // (No zone files in this panel: the preview runs and reports that, 409.)
    assert.equal((await alice.agent.get('/domains/a1.example/fix?check=dmarc')).status, 409);
    assert.equal((await alice.agent.get('/api/domains/a1.example/fix?check=dmarc')).status, 409);
    const page = await alice.agent.get('/domains/a1.example/fix?check=dmarc');
    assert.equal(page.status, 429);
    assert.match(page.text, /Too many audits in a short time/);
    assert.equal((await alice.agent.get('/api/domains/a1.example/fix?check=spf')).status, 429);
  });

  test('viewing a never-audited domain audits it for one token; a stored audit costs none', async () => {
    const a = app({ rateLimits: limits(1, 100) });
    const bob = await login(a, 'bob');
    assert.equal((await bob.agent.get('/domains/b1.example')).status, 200, 'audited on view');
    assert.equal((await bob.agent.get('/domains/b1.example')).status, 200, 'stored: no token needed');
    assert.equal((await bob.agent.get('/api/domains/b1.example')).status, 200);
    const page = await bob.agent.get('/domains/b2.example');
    assert.equal(page.status, 429);
    assert.match(page.text, /Too many audits in a short time/);
    assert.equal((await bob.agent.get('/api/domains/b2.example')).status, 429);
    assert.equal(store.latestAudit('b2.example'), null, 'not audited');
  });

  test('a bulk fix preview takes a token of the bulk previews\' own bucket, not a bulk one', async () => {
    // Was: one bulk token, shared with bulk audits — "Audit all" then three checks previewed met a 429 (QA). Previews
    // are read-only and bounded (app.ts bulkPreviewBucket): their own bucket now, and they leave the bulk one alone.
    const a = app({ rateLimits: { ...limits(100, 1), bulkPreview: { capacity: 1, perMinute: 0 } } });
    const rex = await login(a, 'rex');
    const send = () => rex.agent.post('/bulk/fix/preview').type('form').send({ _csrf: rex.csrf, check: 'dmarc', domains: ['a1.example', 'b1.example'] });
    assert.equal((await send()).status, 200);
    const second = await send();
    assert.equal(second.status, 429);
    assert.match(second.text, /Too many bulk fix previews in a short time/);
    // The one bulk token is still there: a bulk audit starts.
    const audit = await rex.agent.post('/bulk/audit').type('form').send({ _csrf: rex.csrf });
    assert.equal(audit.status, 303, audit.text);
    await a.runner.wait(store.listJobs('rex', 1)[0].id);
  });
});

describe('bulk fix apply and the bulk API take what they are given, or say why not', () => {
  const HASH = 'sha256:' + 'b'.repeat(64);
  test('a bulk apply takes a bulk token (each pair costs a panel read and DNS before its hash is checked)', async () => {
    const a = app({ rateLimits: limits(100, 1) });
    const rex = await login(a, 'rex');
    const send = () => rex.agent.post('/bulk/fix/apply').type('form').redirects(1).send({ _csrf: rex.csrf, check: 'dmarc', plan: [`a1.example|${HASH}`, `b1.example|${HASH}`] });
    const first = await send();
    assert.equal(first.status, 200);
    assert.match(first.text, /a1\.example/);
    const second = await send();
    assert.equal(second.status, 429);
    assert.deepEqual(store.changesForDomains(['a1.example', 'b1.example'], 10), []);
  });

  test('no plan, a malformed pair or too many pairs: 400 with the reason, nothing applied, no token spent', async () => {
    const a = app({ rateLimits: limits(100, 1) });
    const rex = await login(a, 'rex');
    const post = (plan: string[] | undefined) => rex.agent.post('/bulk/fix/apply').type('form').redirects(1).send({ _csrf: rex.csrf, check: 'dmarc', ...(plan ? { plan } : {}) });
    const none = await post(undefined);
    assert.equal(none.status, 400);
    assert.match(none.text, /No domain was ticked/);
    const bad = await post([`a1.example|${HASH}`, 'not a domain!|sha256:xyz']);
    assert.equal(bad.status, 400);
    assert.match(bad.text, /Not a previewed plan/);
    const many = await post(Array.from({ length: 201 }, (_, i) => `x${i}.example|${HASH}`));
    assert.equal(many.status, 400);
    assert.match(many.text, /At most 200 domains per bulk fix/);
    // The bulk token is still there.
    assert.equal((await post([`a1.example|${HASH}`])).status, 200);
  });

  test('POST /api/bulk with a name that is not the caller\'s (or not a domain) is refused, naming it; no job', async () => {
    const a = app();
    const rex = await login(a, 'rex');
    const jobs = store.listJobs('rex', 100).length;
    const r = await rex.agent.post('/api/bulk').set('x-csrf-token', rex.csrf).send({ domains: ['a1.example', 'shop1.example', 'not a domain'] });
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /not your domains \(or not domain names\): shop1\.example, not a domain/);
    assert.equal(store.listJobs('rex', 100).length, jobs);
  });
});

describe('an app without background jobs (a per-request front door)', () => {
  test('refuses bulk audits with the reason, creates no job, and the bulk page offers no start button', async () => {
    const a = app({ backgroundJobs: false });
    const rita = await login(a, 'rita');
    const before = store.listJobs('rita', 100).length;
    const page = await rita.agent.get('/bulk').expect(200);
    assert.doesNotMatch(page.text, /action="\/bulk\/audit"/);
    assert.match(page.text, /need the mailhealth background service/);
    const post = await rita.agent.post('/bulk/audit').type('form').send({ _csrf: rita.csrf });
    assert.equal(post.status, 503);
    assert.match(post.text, /need the mailhealth background service/);
    assert.match(post.text, /systemctl enable --now mailhealth/);
    const api = await rita.agent.post('/api/bulk').set('x-csrf-token', rita.csrf).send({});
    assert.equal(api.status, 503);
    assert.equal((api.body as { error: string }).error, NO_BACKGROUND_JOBS);
    const all = await rita.agent.post('/domains/audit').type('form').send({ _csrf: rita.csrf });
    assert.equal(all.status, 503, '"Audit all" past SYNC_AUDIT_MAX would be a background job too');
    assert.equal(store.listJobs('rita', 100).length, before, 'no job row');
  });

  test('a caller-supplied reason is shown instead', async () => {
    const a = app({ backgroundJobs: false, noBackgroundJobsMessage: 'Not here, sorry.' });
    const rex = await login(a, 'rex');
    const post = await rex.agent.post('/bulk/audit').type('form').send({ _csrf: rex.csrf });
    assert.equal(post.status, 503);
    assert.match(post.text, /Not here, sorry\./);
  });

  test('a small "Audit all" still runs in the request', async () => {
    const a = app({ backgroundJobs: false });
    const alice = await login(a, 'alice');
    const r = await alice.agent.post('/domains/audit').type('form').send({ _csrf: alice.csrf });
    assert.equal(r.status, 303);
    assert.equal(r.headers.location, '/domains');
    assert.ok(store.latestAudit('a3.example'));
  });
});

describe('session cookie behind the loopback TLS proxy', () => {
  const cookieOf = (r: request.Response) => ([] as string[]).concat(r.headers['set-cookie'] ?? []).find((c) => c.startsWith('mh_session=')) ?? '';

  test('Secure when the proxy says the browser used https; not over plain http', async () => {
    const a = app();
    assert.match(cookieOf(await request(a).get('/login').set('X-Forwarded-Proto', 'https')), /;\s*Secure/);
    assert.match(cookieOf(await request(a).get('/login').set('X-Forwarded-Proto', 'https, http')), /;\s*Secure/);
    assert.doesNotMatch(cookieOf(await request(a).get('/login')), /Secure/);
    assert.doesNotMatch(cookieOf(await request(a).get('/login').set('X-Forwarded-Proto', 'http')), /Secure/);
  });

  test('the login cookie is Secure too', async () => {
    const a = app();
    // By hand: a cookie jar would not send a Secure cookie back over this test's plain http.
    const page = await request(a).get('/login').set('X-Forwarded-Proto', 'https');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1];
    const r = await request(a)
      .post('/login')
      .set('X-Forwarded-Proto', 'https')
      .set('Cookie', cookieOf(page).split(';')[0])
      .type('form')
      .send({ _csrf: csrf, user: 'alice', password: PASSWORD, next: '/domains' });
    assert.equal(r.status, 303);
    assert.match(cookieOf(r), /;\s*Secure/);
  });
});
