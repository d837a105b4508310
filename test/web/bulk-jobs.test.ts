// Bulk jobs on the pages: a domain removed from the panel while a job runs is skipped and reported as no longer on the
// server (job counts, progress, the streamed rows, the page) with no audit row stored; and a user with several jobs
// sees every one still running — progress and Cancel each — plus the latest finished one, on /bulk and (customers)
// on /domains.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Identity } from '../../src/core/model.js';
import type { Panel } from '../../src/core/panel.js';
import { createApp, type MailhealthApp } from '../../src/web/app.js';
import { demoWorld, login, NO_LIMITS, type TestWorld } from './helpers.js';

/** The world's panel, with a hook before each zone read (to change the panel while a job runs, or to hold a job). */
function hooked(panel: Panel, beforeRead: (domain: string) => Promise<void> | void): Panel {
  return {
    kind: panel.kind,
    capabilities: panel.capabilities,
    listAccounts: () => panel.listAccounts(),
    listDomains: (identity: Identity) => panel.listDomains(identity),
    readZone: async (domain: string) => {
      await beforeRead(domain);
      return panel.readZone(domain);
    },
    readMailSettings: (domain: string) => panel.readMailSettings(domain),
    applyChanges: (domain, changes, version) => panel.applyChanges(domain, changes, version),
  };
}

describe('a domain removed from the panel while a bulk job runs', () => {
  let w: TestWorld;
  let app: MailhealthApp;
  before(async () => {
    w = await demoWorld({});
    const panelDir = w.demo!.panelDir;
    let removed = false;
    // The first zone read of the job removes bob's plumber.example from the panel (panel.json, zone, key — as an
    // account removal does), after the job took its list; dentist.example loses only its zone file (still listed).
    const panel = hooked(w.panel, () => {
      if (removed) return;
      removed = true;
      const path = join(panelDir, 'panel.json');
      const cfg = JSON.parse(readFileSync(path, 'utf8')) as { accounts: { domains?: string[] }[] };
      for (const a of cfg.accounts) if (a.domains) a.domains = a.domains.filter((d) => d !== 'plumber.example');
      writeFileSync(path, JSON.stringify(cfg));
      rmSync(join(panelDir, 'zones', 'plumber.example.db'));
      rmSync(join(panelDir, 'dkim', 'plumber.example.pem'), { force: true });
      rmSync(join(panelDir, 'zones', 'dentist.example.db'));
    });
    app = createApp({ panel, store: w.store, makeResolver: w.makeResolver, identityFrom: 'session', rateLimits: NO_LIMITS, auditConcurrency: 1 });
  });
  after(async () => w.close());

  test('is skipped and reported "no longer on the server": counts, progress, rows and page; no audit row stored', async () => {
    const { agent, csrf } = await login(app, 'rita');
    const start = await agent.post('/api/bulk').set('x-csrf-token', csrf).send({}).expect(202);
    const id = (start.body as { jobId: number }).jobId;
    assert.equal((start.body as { total: number }).total, 4, 'the job took all four of rita\'s domains');
    await app.runner.wait(id);

    const job = (await agent.get(`/api/jobs/${id}`).expect(200)).body as {
      status: string; done: number; total: number; failed: number; gone: number;
      results: { domain: string; status: string; reason?: string }[];
    };
    assert.equal(job.status, 'complete');
    assert.deepEqual([job.done, job.total, job.gone], [4, 4, 1], 'progress reaches the total; one domain gone');
    assert.deepEqual(job.results.find((r) => r.domain === 'plumber.example'), { domain: 'plumber.example', status: 'gone', reason: 'no longer on the server' });
    const audited = job.results.filter((r) => r.status !== 'gone');
    assert.deepEqual(audited.map((r) => r.domain).sort(), ['clean.example', 'dentist.example', 'lawyer.example']);
    assert.equal(job.failed, audited.filter((r) => r.status === 'fail').length, 'the removed domain is not counted as failing');

    const stored = w.store.getJob(id)!;
    assert.deepEqual([stored.done, stored.gone, stored.failed], [4, 1, job.failed]);
    assert.equal(w.store.latestAudit('plumber.example'), null, 'no failing audit (with fix advice) recorded for it');
    const rows = w.store.runResults(stored.runId!);
    assert.deepEqual(rows.map((r) => r.domain).sort(), ['clean.example', 'dentist.example', 'lawyer.example']);
    // Not-found alone is not enough: dentist.example is still the panel's, so its unreadable zone is reported.
    assert.ok(rows.find((r) => r.domain === 'dentist.example')!.findings.some((f) => f.rule === 'dns.panel-zone-unreadable'));

    const page = await agent.get('/bulk').expect(200);
    assert.match(page.text, new RegExp(`id="job-${id}-gone">1</span> no longer on the server`));
  });
});

describe('several bulk jobs of one user', () => {
  let w: TestWorld;
  let app: MailhealthApp;
  const held = new Set<string>();
  let release: () => void = () => undefined;
  let gate: Promise<void> = Promise.resolve();
  const hold = (domains: string[]) => {
    for (const d of domains) held.add(d);
    gate = new Promise((r) => (release = r));
  };
  before(async () => {
    w = await demoWorld({});
    // A job reading a held domain waits for release(): it stays running while the test looks at the page.
    const panel = hooked(w.panel, async (domain) => {
      if (held.has(domain)) await gate;
    });
    app = createApp({ panel, store: w.store, makeResolver: w.makeResolver, identityFrom: 'session', rateLimits: NO_LIMITS, auditConcurrency: 1 });
  });
  after(async () => {
    release();
    await w.close();
  });

  test('/bulk shows every running job with its progress and Cancel, and the latest finished one', async () => {
    const { agent, csrf } = await login(app, 'rita');
    hold(['lawyer.example']);
    const a = ((await agent.post('/api/bulk').set('x-csrf-token', csrf).send({}).expect(202)).body as { jobId: number }).jobId;
    const b = ((await agent.post('/api/bulk').set('x-csrf-token', csrf).send({ domains: ['dentist.example'] }).expect(202)).body as { jobId: number }).jobId;
    await app.runner.wait(b);
    assert.equal(w.store.getJob(a)!.status, 'running');
    assert.equal(w.store.getJob(b)!.status, 'complete');
    const c = ((await agent.post('/api/bulk').set('x-csrf-token', csrf).send({ domains: ['lawyer.example'] }).expect(202)).body as { jobId: number }).jobId;

    const page = (await agent.get('/bulk').expect(200)).text;
    const shown = [...page.matchAll(/data-job-id="(\d+)" data-status="(\w+)"/g)].map((m) => [Number(m[1]), m[2]]);
    assert.deepEqual(shown, [[c, 'running'], [a, 'running'], [b, 'complete']], 'the running ones (newest first), then the latest finished');
    const cancels = [...page.matchAll(/action="\/bulk\/jobs\/(\d+)\/cancel"/g)].map((m) => Number(m[1]));
    assert.deepEqual(cancels, [c, a], 'a Cancel for each running job, none for the finished one');
    for (const id of [a, b, c]) assert.match(page, new RegExp(`<progress class="job-progress" id="job-${id}-progress"`));
    assert.equal(new Set([...page.matchAll(/ id="([^"]+)"/g)].map((m) => m[1])).size, [...page.matchAll(/ id="([^"]+)"/g)].length, 'ids stay unique');

    // The older running job can be cancelled from the page.
    const cancelled = await agent.post(`/bulk/jobs/${a}/cancel`).type('form').send({ _csrf: csrf });
    assert.equal(cancelled.status, 303);
    release();
    await app.runner.wait(a);
    await app.runner.wait(c);
    assert.equal(w.store.getJob(a)!.status, 'cancelled');
    assert.equal(w.store.getJob(c)!.status, 'complete');
    const after = (await agent.get('/bulk').expect(200)).text;
    assert.deepEqual([...after.matchAll(/data-job-id="(\d+)"/g)].map((m) => Number(m[1])), [c], 'nothing running: only the latest finished');
  });

  test('a customer\'s /domains shows each of their running jobs with Cancel, and the latest finished one', async () => {
    const alice = await login(app, 'alice');
    const me: Identity = { user: 'alice', role: 'customer' };
    const refs = await w.panel.listDomains(me);
    hold(['bakery.example']);
    const first = app.runner.start(me, refs, { filter: {}, from: 'domains' });
    const second = app.runner.start(me, refs.filter((r) => r.domain === 'florist.example'), { filter: {}, from: 'domains' });
    await app.runner.wait(second);
    const page = (await alice.agent.get('/domains').expect(200)).text;
    assert.deepEqual(
      [...page.matchAll(/data-job-id="(\d+)" data-status="(\w+)"/g)].map((m) => [Number(m[1]), m[2]]),
      [[first, 'running'], [second, 'complete']],
    );
    assert.deepEqual([...page.matchAll(/action="\/domains\/jobs\/(\d+)\/cancel"/g)].map((m) => Number(m[1])), [first]);
    assert.match(page, /<script src="\/assets\/bulk.js" defer><\/script>/);
    await alice.agent.post(`/domains/jobs/${first}/cancel`).type('form').send({ _csrf: alice.csrf }).expect(303);
    release();
    await app.runner.wait(first);
    assert.equal(w.store.getJob(first)!.status, 'cancelled');
  });
});
