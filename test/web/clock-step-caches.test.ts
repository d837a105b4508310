// Ages of cached readings after a backward clock step (QA, time handling: `now - at < ttl` on the wall clock goes
// negative when the clock is put back, and keeps the reading fresh for the step's length). A bulk fix's scope reading
// (services.ts BulkScope: which domains a reseller may still fix), a bulk preview's credit (routes/bulk.ts) and the
// customer's last finished "Audit all" (routes/domains.ts) now count an age below zero as stale, and the in-memory ones
// are aged on a clock that never steps (WebDeps.elapsedMs: performance.now) unless a test injected its own.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Identity } from '../../src/core/model.js';
import type { Panel } from '../../src/core/panel.js';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore } from '../../src/adapters/store/store.js';
import { SCOPE_RECHECK_MS } from '../../src/adapters/workers/gone.js';
import { createApp } from '../../src/web/app.js';
import { BULK_AUDIT_JOB, jobAccount } from '../../src/web/jobs.js';
import { monotonicMs } from '../../src/web/ratelimit.js';
import { BulkScope, freshFor, type WebDeps } from '../../src/web/services.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { demoWorld, login, NO_LIMITS, setPasswords } from './helpers.js';

const HOUR = 3600_000;
const rita: Identity = { user: 'rita', role: 'reseller' };

/** A panel listing `names` for rita, on a clock the test moves. */
function scopeWorld() {
  const s = { clock: Date.parse('2026-11-27T13:00:00Z'), elapsed: 0, names: ['a.example', 'b.example'], listings: 0 };
  const panel = {
    listAccounts: async () => [{ user: 'rita', role: 'reseller' as const }],
    listDomains: async () => {
      s.listings++;
      return s.names.map((domain) => ({ domain, owner: 'bob' }));
    },
  } as unknown as Panel;
  return { s, panel };
}

test('freshFor: an age from 0 up to the limit is fresh; one below zero (the clock went back) is not', () => {
  assert.equal(freshFor(1000, 1000, 10), true);
  assert.equal(freshFor(1000, 1009, 10), true);
  assert.equal(freshFor(1000, 1010, 10), false);
  assert.equal(freshFor(1000, 999, 10), false);
});

test('bulk fix scope: a reading is not kept for the length of a backward clock step (injected clock)', async () => {
  const { s, panel } = scopeWorld();
  const scope = new BulkScope({ panel, now: () => new Date(s.clock) } as unknown as WebDeps, rita, null);
  assert.equal(scope.judge(await scope.current(), 'b.example'), null);
  s.clock -= HOUR; // NTP corrects a clock that ran an hour fast
  s.names = ['a.example']; // b.example is moved to another reseller
  s.clock += SCOPE_RECHECK_MS; // the recheck interval passes
  assert.equal(scope.skipBefore('b.example'), null, 'the stale reading does not decide before the read');
  const reading = await scope.current();
  assert.equal(s.listings, 2, 'the panel is asked again');
  assert.equal(scope.judge(reading, 'b.example')?.why, 'scope', 'b.example is no longer hers to fix');
});

test('bulk fix scope: aged on the clock that never steps when the app gives one (WebDeps.elapsedMs)', async () => {
  const { s, panel } = scopeWorld();
  const scope = new BulkScope({ panel, now: () => new Date(s.clock), elapsedMs: () => s.elapsed } as unknown as WebDeps, rita, null);
  await scope.current();
  s.clock -= HOUR; // the wall clock steps back; the monotonic one goes on
  s.names = ['a.example'];
  s.elapsed += SCOPE_RECHECK_MS;
  assert.equal(scope.judge(await scope.current(), 'b.example')?.why, 'scope');
  assert.equal(s.listings, 2);
  // And a wall clock jumping ahead does not age it either: read again only after SCOPE_RECHECK_MS of elapsed time.
  s.clock += 2 * HOUR;
  await scope.current();
  assert.equal(s.listings, 2);
});

test('the app ages its in-memory readings on performance.now unless a test injected a clock', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-caches-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(REPO_ROOT, 'src/demo/panel'), join(dir, 'panel'), { recursive: true });
  const store = openStore(join(dir, 'h.sqlite'));
  t.after(() => store.close());
  const app = createApp({ panel: new FilesPanel(join(dir, 'panel')), store, makeResolver: () => ({}) as never, identityFrom: 'session' });
  assert.equal(app.context.elapsedMs, monotonicMs);
});

test('bulk preview credit: a preview made while the clock was fast is not credited for the step\'s length', async () => {
  const clock = { t: Date.parse('2026-11-27T12:00:00Z') };
  const real = clock.t;
  clock.t = real + 2 * HOUR; // the clock runs two hours fast
  // One preview token and no bulk token (as bulk-apply-credit.test.ts): an apply not credited is refused (429).
  const w = await demoWorld({ app: { now: () => new Date(clock.t), rateLimits: { ...NO_LIMITS, bulk: { capacity: 0, perMinute: 0 }, bulkPreview: { capacity: 1, perMinute: 0 } } } });
  try {
    const admin = await login(w.app, 'root');
    const preview = await admin.agent.post('/bulk/fix/preview').type('form').send({ _csrf: admin.csrf, check: 'spf', domains: ['bakery.example'] });
    assert.equal(preview.status, 200);
    const plans = [...preview.text.matchAll(/name="plan" value="([^"]+)"/g)].map((m) => m[1].replace(/&#124;/g, '|'));
    assert.equal(plans.length, 1);
    clock.t = real + 31 * 60_000; // corrected; 31 minutes later by the clock's reading
    const apply = await admin.agent.post('/bulk/fix/apply').type('form').send({ _csrf: admin.csrf, check: 'spf', plan: plans });
    assert.equal(apply.status, 429, 'no credit: the preview\'s age is unknown (below zero), so the apply pays its token');
    assert.equal(w.store.changesForDomains(['bakery.example'], 10).length, 0);
  } finally {
    await w.close();
  }
});

test('domains page: a customer\'s "Audit all" that finished while the clock was fast is not shown for the step\'s length', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-caches-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(REPO_ROOT, 'src/demo/panel'), join(dir, 'panel'), { recursive: true });
  const clock = { t: Date.parse('2026-11-27T12:00:00Z') };
  const real = clock.t;
  const store = openStore(join(dir, 'h.sqlite'), { now: () => clock.t });
  t.after(() => store.close());
  await setPasswords(store, ['alice']);
  const app = createApp({ panel: new FilesPanel(join(dir, 'panel')), store, makeResolver: () => ({}) as never, identityFrom: 'session', rateLimits: NO_LIMITS, now: () => new Date(clock.t) });
  clock.t = real + 3 * HOUR; // the clock runs three hours fast while her "Audit all" finishes
  const alice = await login(app, 'alice'); // (binds her password to her account: her jobs are that account's)
  const job = store.createJob({ kind: BULK_AUDIT_JOB, byUser: 'alice', byAccount: jobAccount(store, 'alice'), total: 0 });
  store.updateJob(job, { status: 'complete' });
  assert.match((await alice.agent.get('/domains').expect(200)).text, /Audit of all your domains/, 'shown just after it finished');
  clock.t = real; // corrected: by the old rule it stayed "within the hour" for four hours
  assert.doesNotMatch((await alice.agent.get('/domains').expect(200)).text, /Audit of all your domains/);
});
