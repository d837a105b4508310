// A bulk job belongs to the panel ACCOUNT that started it, not to its user name (QA: a reseller removed from the panel,
// and a new account created later with the same name, saw the old account's bulk audit and bulk fix jobs on /bulk —
// names, counts, links — and could open and cancel them). WHM API 1 emulator on loopback, real SQLite.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { accountKey, PASSWORD_ACCOUNT_SETTING, REVOKED_BEFORE_SETTING } from '../../src/web/session.js';
import { GONE_ACCOUNT } from '../../src/adapters/store/store.js';
import { login, setPasswords, type Session } from './helpers.js';
import { planValues, whmWorld, type WhmWorld } from './shared-zone-world.js';

let w: WhmWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

/** res1 starts a bulk fix of `domain` and a bulk audit of its domains; both are done when this returns. */
async function twoJobs(world: WhmWorld, s: Session, domain = 'bob.example'): Promise<{ fix: number; audit: number }> {
  const page = await s.agent.post('/bulk/fix/preview').type('form').send({ _csrf: s.csrf, check: 'spf', domains: [domain] }).expect(200);
  const applied = await s.agent.post('/bulk/fix/apply').type('form').send({ _csrf: s.csrf, check: 'spf', plan: planValues(page.text) }).expect(303);
  const fix = Number(/^\/bulk\/fix\/jobs\/(\d+)$/.exec(applied.headers.location ?? '')?.[1]);
  await s.agent.post('/bulk/audit').type('form').send({ _csrf: s.csrf }).expect(303);
  const audit = world.store.listJobs('res1').find((j) => j.kind === 'bulk-audit')!.id;
  await world.app.runner.wait(audit);
  assert.ok(fix > 0 && audit > 0);
  return { fix, audit };
}

/** What /bulk shows of the jobs: the bulk fix links and the bulk audit sections. */
async function listed(s: Session): Promise<{ fixes: number[]; audits: number[] }> {
  const html = (await s.agent.get('/bulk').expect(200)).text;
  return {
    fixes: [...html.matchAll(/href="\/bulk\/fix\/jobs\/(\d+)"/g)].map((m) => Number(m[1])),
    audits: [...html.matchAll(/data-job-id="(\d+)"/g)].map((m) => Number(m[1])),
  };
}

/** As `mailhealth user set-password res1` does for the account the panel lists now. */
async function setPasswordFor(world: WhmWorld, account: { role: string; owner?: string | null }): Promise<void> {
  await setPasswords(world.store, ['res1']);
  world.store.setSetting(PASSWORD_ACCOUNT_SETTING('res1'), accountKey(account));
  world.store.setSetting(REVOKED_BEFORE_SETTING('res1'), Date.now() + 1);
}

test('a new account given a removed reseller\'s name sees none of its jobs: not listed, every URL 404', { timeout: 60_000 }, async () => {
  w = await whmWorld();
  const { fix, audit } = await twoJobs(w, w.res1);
  assert.deepEqual(await listed(w.res1), { fixes: [fix], audits: [audit] }, 'the account that started them sees both');

  // The panel removes res1; later a new reseller is created under the same name (root's, where the old one was its own).
  const at = w.state.accounts.findIndex((a) => a.user === 'res1');
  w.state.accounts.splice(at, 1);
  w.state.accounts.push({ ...makeAccount('res1'), owner: 'root' });
  await setPasswordFor(w, { role: 'reseller', owner: 'root' });
  const { app, res1 } = await w.restart();

  assert.deepEqual(await listed(res1), { fixes: [], audits: [] }, 'nothing of the old account is listed');
  const bulk = (await res1.agent.get('/bulk').expect(200)).text;
  assert.doesNotMatch(bulk, new RegExp(`Bulk (fix|audit) #(${fix}|${audit})\\b`));
  // Its URLs answer as a job that does not exist — 404, not 403: nothing tells it was there.
  await res1.agent.get(`/bulk/fix/jobs/${fix}`).expect(404);
  await res1.agent.get(`/bulk/fix/jobs/${fix}?follow=0`).expect(404);
  await res1.agent.post(`/bulk/fix/jobs/${fix}/cancel`).type('form').send({ _csrf: res1.csrf }).expect(404);
  await res1.agent.post(`/bulk/jobs/${audit}/cancel`).type('form').send({ _csrf: res1.csrf }).expect(404);
  assert.equal(w.store.getJob(audit)!.cancelRequested, false);

  // The new account's own jobs are its own.
  const mine = await twoJobs({ ...w, app }, res1, 'res1.example');
  const now = await listed(res1);
  assert.ok(now.fixes.includes(mine.fix) && now.audits.includes(mine.audit), JSON.stringify(now));
  assert.ok(!now.fixes.includes(fix) && !now.audits.includes(audit));
  await res1.agent.get(`/bulk/fix/jobs/${mine.fix}`).expect(200);
  // The admin still opens any job.
  await setPasswords(w.store, ['root']);
  const root = await login(app, 'root');
  await root.agent.get(`/bulk/fix/jobs/${fix}`).expect(200);
});

test('the same account (same role and owner) created again after it was seen gone: its jobs were disowned', { timeout: 60_000 }, async () => {
  w = await whmWorld();
  const { fix, audit } = await twoJobs(w, w.res1);
  // Seen gone (what the account sweep's forgetting does, see jobs.ts): the jobs become nobody's. The panels give no
  // other identity to tell the account created again from the old one.
  assert.equal(w.store.disownJobs('res1'), 2);
  assert.equal(w.store.getJob(fix)!.byAccount, GONE_ACCOUNT);
  await setPasswordFor(w, { role: 'reseller', owner: null });
  const { res1 } = await w.restart();
  assert.deepEqual(await listed(res1), { fixes: [], audits: [] });
  await res1.agent.get(`/bulk/fix/jobs/${fix}`).expect(404);
  await res1.agent.post(`/bulk/jobs/${audit}/cancel`).type('form').send({ _csrf: res1.csrf }).expect(404);
});

/** A WHM account of the emulator's shape, with no domains of its own beyond its main one. */
function makeAccount(user: string) {
  return { user, owner: user, ip: '203.0.113.10', main: `${user}.example`, addon: [], parked: [], sub: [], features: ['zoneedit', 'emailauth', 'mailhealth'] };
}
