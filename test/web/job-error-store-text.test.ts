// A job's error stored by a version before b4c560e was the store's message as it came — "the mailhealth database
// /root/…/mailhealth.sqlite is locked by another process …", naming the server's database file. Review: the API's job
// view filtered the job's result rows but not its error, and the bulk fix result page and the job partial (/bulk, a
// customer's /domains) printed it as stored. Now each withholds the file's words as services.ts shownText does (path
// only): a parenthesis naming it gives way to WITHHELD, a path elsewhere the whole text; other errors are shown as they are.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { BULK_AUDIT_JOB, BULK_FIX_JOB, jobAccount } from '../../src/web/jobs.js';
import { WITHHELD } from '../../src/web/services.js';
import { capturingLog } from './failing-store.js';
import { demoWorld, login } from './helpers.js';

const WHOLE = "the reason it stopped is not shown here (the server's log has it)";

test("a job error a previous version stored naming the database file: the API, the bulk fix page, /bulk and a customer's /domains withhold it", async (t) => {
  const w = await demoWorld();
  t.after(() => w.close());
  const path = w.store.path;
  const bare = `the mailhealth database ${path} is locked by another process (database is locked); try again shortly`;
  const quoted = `stopped: the history database failed (mailhealth database ${path}: disk I/O error)`;
  // Logged in first: a job is shown to the account its user's login is bound to (jobs.ts jobAccount).
  const root = await login(w.app, 'root');
  const alice = await login(w.app, 'alice');
  const failed = (kind: string, byUser: string, error: string, scope?: unknown) => {
    const id = w.store.createJob({ kind, byUser, byAccount: jobAccount(w.store, byUser), total: 1, ...(scope ? { scope } : {}) });
    w.store.updateJob(id, { status: 'failed', error });
    return id;
  };
  const fix = failed(BULK_FIX_JOB, 'root', bare, { check: 'spf', domains: ['clean.example'], notFound: [] });
  const audit = failed(BULK_AUDIT_JOB, 'root', quoted);
  const mine = failed(BULK_AUDIT_JOB, 'alice', bare);

  const { result, log } = await capturingLog(async () => ({
    apiFix: await request(w.app).get(`/api/jobs/${fix}`).set('Authorization', 'Bearer test-admin-token').expect(200),
    apiAudit: await request(w.app).get(`/api/jobs/${audit}`).set('Authorization', 'Bearer test-admin-token').expect(200),
    apiMine: await alice.agent.get(`/api/jobs/${mine}`).expect(200),
    fixPage: await root.agent.get(`/bulk/fix/jobs/${fix}?follow=0`).expect(200),
    fixPageAgain: await root.agent.get(`/bulk/fix/jobs/${fix}?follow=0`).expect(200),
    bulk: await root.agent.get('/bulk').expect(200),
    domains: await alice.agent.get('/domains').expect(200),
  }));
  for (const [name, r] of Object.entries(result)) assert.ok(!r.text.includes(path), `${name} shows the database's path:\n${r.text.slice(0, 2000)}`);
  assert.equal((result.apiFix.body as { error: string }).error, WHOLE);
  assert.equal((result.apiAudit.body as { error: string }).error, `stopped: the history database failed ${WITHHELD}`);
  assert.equal((result.apiMine.body as { error: string }).error, WHOLE);
  assert.match(result.fixPage.text, /The fix stopped: the reason it stopped is not shown here/);
  assert.ok(result.bulk.text.includes('stopped: the history database failed (withheld: the server&#39;s log has it)'), 'the rest of the error is kept');
  assert.match(result.domains.text, /— the reason it stopped is not shown here/);
  // Each stored error as it was is in the server's log, once per process however often it is shown.
  assert.equal(log.split(path).length - 1, 3, log);
});

test("a job error naming no database file is shown as it is", async (t) => {
  const w = await demoWorld();
  t.after(() => w.close());
  const root = await login(w.app, 'root');
  const id = w.store.createJob({ kind: BULK_AUDIT_JOB, byUser: 'root', byAccount: jobAccount(w.store, 'root'), total: 1 });
  // A panel's message quoting SQLite's words is the panel's, not the store's (services.ts isStoreText).
  const error = 'the panel said: SQLITE_BUSY (mailhealth database busy)';
  w.store.updateJob(id, { status: 'failed', error });
  const api = await request(w.app).get(`/api/jobs/${id}`).set('Authorization', 'Bearer test-admin-token').expect(200);
  assert.equal((api.body as { error: string }).error, error);
  const page = await root.agent.get('/bulk').expect(200);
  assert.ok(page.text.includes('the panel said: SQLITE_BUSY (mailhealth database busy)'), page.text);
});

test('a bulk fix stopped by an error that ends in a full stop: its page says it once, not ".."', async (t) => {
  const w = await demoWorld();
  t.after(() => w.close());
  const root = await login(w.app, 'root');
  const id = w.store.createJob({ kind: BULK_FIX_JOB, byUser: 'root', byAccount: jobAccount(w.store, 'root'), total: 1, scope: { check: 'spf', domains: ['clean.example'], notFound: [] } });
  w.store.updateJob(id, { status: 'failed', error: 'The panel stopped answering (HTTP 502).' });
  const page = await root.agent.get(`/bulk/fix/jobs/${id}?follow=0`).expect(200);
  assert.match(page.text, /The fix stopped: The panel stopped answering \(HTTP 502\)\. A domain below/);
  assert.ok(!page.text.includes('..'), 'no doubled full stop');
});
