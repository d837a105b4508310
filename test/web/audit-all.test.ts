// A customer's "Audit all" with many domains audits every one of them: past SYNC_AUDIT_MAX it is a background job
// (the bulk-job path resellers use, for a bulk token), shown with its progress on the customer's /domains page. Where
// no background job can run (a panel page that ends with its request), it audits up to INLINE_AUDIT_MAX per click —
// never-audited and longest-ago first — and the page says how many of how many. Offline: files panel, no DNS.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { createApp, type AppDeps } from '../../src/web/app.js';
import { INLINE_AUDIT_MAX, SYNC_AUDIT_MAX } from '../../src/web/routes/domains.js';
import { MapResolver } from '../helpers/map-resolver.js';
import { login, NO_LIMITS, setPasswords } from './helpers.js';

const pad = (i: number) => String(i).padStart(4, '0');
/** More than one click's worth of in-request audits. */
const ERIN = Array.from({ length: INLINE_AUDIT_MAX + 30 }, (_, i) => `e${pad(i)}.example`);
const DAVE = Array.from({ length: SYNC_AUDIT_MAX + 10 }, (_, i) => `d${pad(i)}.example`);
const CAROL = Array.from({ length: INLINE_AUDIT_MAX + 30 }, (_, i) => `c${pad(i)}.example`);

let dir: string;
let store: Store;
let panel: FilesPanel;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailhealth-auditall-'));
  const accounts = [
    { user: 'root', role: 'admin' },
    { user: 'rex', role: 'reseller' },
    { user: 'erin', role: 'customer', owner: 'rex', domains: ERIN },
    { user: 'dave', role: 'customer', owner: 'rex', domains: DAVE },
    { user: 'carol', role: 'customer', owner: 'rex', domains: CAROL },
  ];
  writeFileSync(join(dir, 'panel.json'), JSON.stringify({ server: { hostname: 'h.example', ips: ['192.0.2.1'], nameservers: ['ns1.h.example'] }, accounts }));
  store = openStore(join(dir, 'db.sqlite'));
  panel = new FilesPanel(dir);
  await setPasswords(store, ['root', 'rex', 'erin', 'dave', 'carol']);
});
after(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const app = (extra: Partial<AppDeps> = {}) => createApp({ panel, store, makeResolver: () => new MapResolver({}), identityFrom: 'session', rateLimits: NO_LIMITS, ...extra });
const limits = (audit: number, bulk: number) => ({ audit: { capacity: audit, perMinute: 0 }, bulk: { capacity: bulk, perMinute: 0 }, login: { capacity: 100, perMinute: 0 } });
const audited = (domains: string[]) => domains.filter((d) => store.latestAudit(d) !== null).length;

describe('a customer\'s "Audit all" with many domains', () => {
  test('runs as a background job over every domain, for a bulk token, shown on /domains', async () => {
    const a = app({ rateLimits: limits(10, 1) });
    const erin = await login(a, 'erin');
    const r = await erin.agent.post('/domains/audit').type('form').send({ _csrf: erin.csrf });
    assert.equal(r.status, 303);
    assert.equal(r.headers.location, '/domains', 'customers have no bulk page: their list shows the job');
    const jobs = store.listJobs('erin', 10);
    assert.equal(jobs.length, 1, 'a background job, not an audit inside the request');
    assert.equal(jobs[0].total, ERIN.length, 'every domain, none left out');
    await a.runner.wait(jobs[0].id);
    assert.equal(store.getJob(jobs[0].id)!.status, 'complete');
    assert.equal(audited(ERIN), ERIN.length);

    const page = await erin.agent.get('/domains').expect(200);
    assert.match(page.text, new RegExp(`id="job-${jobs[0].id}" data-job-id="${jobs[0].id}" data-status="complete"`));
    assert.match(page.text, new RegExp(`id="job-${jobs[0].id}-done">${ERIN.length}<`));
    assert.match(page.text, /<script src="\/assets\/bulk.js" defer><\/script>/, 'progress is polled while it runs');
    assert.equal((await erin.agent.get(`/api/jobs/${jobs[0].id}`).expect(200)).body.total, ERIN.length);

    // The bulk limit, like a reseller's bulk audit: the next click within the minute is refused, no second job.
    const again = await erin.agent.post('/domains/audit').type('form').send({ _csrf: erin.csrf });
    assert.equal(again.status, 429);
    assert.match(again.text, /Too many bulk actions/);
    assert.equal(store.listJobs('erin', 10).length, 1);
  });

  test('the customer can cancel their own job from /domains, not anyone else\'s', async () => {
    const a = app({ auditConcurrency: 1 });
    const dave = await login(a, 'dave');
    await dave.agent.post('/domains/audit').type('form').send({ _csrf: dave.csrf }).expect(303);
    const job = store.listJobs('dave', 1)[0];
    assert.equal(job.total, DAVE.length);
    const page = await dave.agent.get('/domains').expect(200);
    if (store.getJob(job.id)!.status === 'running') assert.match(page.text, new RegExp(`action="/domains/jobs/${job.id}/cancel"`));
    const erin = await login(a, 'erin');
    assert.equal((await erin.agent.post(`/domains/jobs/${job.id}/cancel`).type('form').send({ _csrf: erin.csrf })).status, 404);
    const c = await dave.agent.post(`/domains/jobs/${job.id}/cancel`).type('form').send({ _csrf: dave.csrf });
    assert.equal(c.status, 303);
    assert.equal(c.headers.location, '/domains');
    await a.runner.wait(job.id);
    assert.ok(['cancelled', 'complete'].includes(store.getJob(job.id)!.status));
  });

  test('without background jobs: audits up to INLINE_AUDIT_MAX per click, says how many of how many, the next click takes the rest', async () => {
    const a = app({ backgroundJobs: false });
    const carol = await login(a, 'carol');
    const first = await carol.agent.post('/domains/audit').type('form').send({ _csrf: carol.csrf });
    assert.equal(first.status, 303);
    assert.equal(first.headers.location, `/domains?audited=${INLINE_AUDIT_MAX}&of=${CAROL.length}`);
    assert.equal(audited(CAROL), INLINE_AUDIT_MAX);
    assert.equal(store.listJobs('carol', 10).length, 0, 'no job where none can run');
    const page = await carol.agent.get(first.headers.location).expect(200);
    assert.match(page.text, new RegExp(`id="audit-partial">Audited ${INLINE_AUDIT_MAX} of your ${CAROL.length} domains`));
    assert.match(page.text, /Click “Audit all” again to audit the next 30\./);

    // The next click starts with the domains never audited.
    const second = await carol.agent.post('/domains/audit').type('form').send({ _csrf: carol.csrf });
    assert.equal(second.status, 303);
    assert.equal(audited(CAROL), CAROL.length, 'every domain audited after two clicks');
    // A plain /domains says nothing about a partial audit.
    assert.doesNotMatch((await carol.agent.get('/domains').expect(200)).text, /id="audit-partial"/);
  });

  test('a reseller\'s "Audit all" is unchanged: a job shown on /bulk', async () => {
    const a = app();
    const rex = await login(a, 'rex');
    const r = await rex.agent.post('/domains/audit').type('form').send({ _csrf: rex.csrf });
    assert.equal(r.status, 303);
    assert.equal(r.headers.location, '/bulk');
    const job = store.listJobs('rex', 1)[0];
    assert.equal(job.total, ERIN.length + DAVE.length + CAROL.length);
    await a.runner.wait(job.id);
  });
});
