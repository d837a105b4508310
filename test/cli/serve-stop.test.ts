// `mailhealth serve` stopped (SIGTERM, as `systemctl restart` sends) while a bulk fix job runs: the stop is graceful
// (stopGracefully, which serve's signal handler runs before closing the server and the store): the job is cancelled,
// the domains being fixed finish and record their outcome (their locks released as usual), the ones not started are
// recorded "not applied" — so a fix right after the restart is not refused "Another fix … is running", and the job
// page shows real outcomes instead of an interrupted job. Past the grace period the stop goes on without them, and the
// lock of a fix still waiting on the panel is left to run out (never released under a write in flight).
// QA: the stop closed the store under the job; the domains it was fixing stayed locked for the lock's 2 minutes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { stopGracefully, trackResponses } from '../../src/cli/commands/serve.js';
import { startServer } from '../../src/web/server.js';
import { login, NO_LIMITS, setPasswords } from '../web/helpers.js';
import { Gate, planValues, whmWorld } from '../web/shared-zone-world.js';

/** The fixture's domains: 5 zones (blog.alice.example is in alice.example's), more than the 4 fixed at once. */
const DOMAINS = ['res1.example', 'alice.example', 'blog.alice.example', 'alice-shop.example', 'bob.example', 'carol.example'];

/** A served app over the WHM emulator's world (zone reads held at `gate` when closed), its store a file of its own. */
async function served(t: TestContext, gate: Gate) {
  const w = await whmWorld({ wrapPanel: gate.wrap });
  const dir = mkdtempSync(join(tmpdir(), 'mh-serve-stop-'));
  const db = join(dir, 'db.sqlite');
  const store = openStore(db);
  await setPasswords(store, ['root']);
  t.after(async () => {
    gate.open();
    await w.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const panel = w.panel;
  const start = async (s: Store) => {
    const running = await startServer({ panel, store: s, makeResolver: w.makeResolver, identityFrom: 'session', rateLimits: NO_LIMITS, host: '127.0.0.1', port: 0 });
    running.app.runner.fixInlineMax = 0;
    return running;
  };
  return { db, store, start };
}

/** Starts a bulk SPF fix as root over every domain with a plan; returns its job id and domains, zone reads held. */
async function heldBulkFix(app: Parameters<typeof login>[0], gate: Gate, held: number) {
  const root = await login(app, 'root');
  const domains = DOMAINS;
  const pv = await root.agent.post('/bulk/fix/preview').type('form').send({ _csrf: root.csrf, check: 'spf', domains });
  const plans = planValues(pv.text);
  assert.ok(plans.length > held, `more domains to fix than lanes held: ${pv.text}`);
  gate.close();
  const ap = await root.agent.post('/bulk/fix/apply').type('form').send({ _csrf: root.csrf, check: 'spf', plan: plans });
  assert.equal(ap.status, 303, ap.text);
  const jobId = Number(/\/jobs\/(\d+)/.exec(ap.headers.location as string)?.[1]);
  assert.ok(jobId > 0, ap.headers.location as string);
  await gate.waiting(held); // 4 domains being fixed at once (each holds its lock, its zone read held), the rest waiting
  return { jobId, total: plans.length };
}

test('a stop mid-job lets the domains being fixed finish, records the rest "not applied", and leaves no lock', { timeout: 60_000 }, async (t) => {
  const gate = new Gate();
  const { db, store, start } = await served(t, gate);
  const first = await start(store);
  const inFlight = trackResponses(first.server);
  const { jobId, total } = await heldBulkFix(first.app, gate, 4);
  const logs: string[] = [];
  // serve's SIGTERM: stopGracefully, then the server closed, then the store.
  const stopping = stopGracefully(first, inFlight, { log: (m) => logs.push(m), graceMs: 60_000 });
  assert.match(logs.join('\n'), /stopping: the running bulk job is cancelled, its domains being fixed finish first/);
  gate.open(); // the panel answers the zone reads held: the 4 fixes go on to their write
  assert.equal(await stopping, 'drained');
  await first.close();
  store.close();

  const again = openStore(db);
  t.after(() => again.close());
  const job = again.getJob(jobId)!;
  assert.equal(job.status, 'cancelled', 'cancelled as Cancel does, not left running (then "interrupted" at the next start)');
  const { items } = again.jobItems(jobId);
  assert.equal(items.length, total, 'every domain has an outcome');
  const finished = items.filter((i) => i.status !== 'skipped');
  const skipped = items.filter((i) => i.status === 'skipped');
  assert.equal(finished.length, 4, JSON.stringify(items));
  for (const i of finished) assert.equal(i.status, 'applied', JSON.stringify(i));
  assert.equal(skipped.length, total - 4);
  for (const i of skipped) assert.match(String((i.detail as { reason?: string }).reason), /cancelled before it reached this domain/);
  for (const i of items) assert.equal(again.lockHolder(`domain:${i.domain}`), null, `${i.domain} left locked`);
  assert.equal(again.lockHolder(`domain:${skipped[0].domain}`), null);

  // Started again: a fix of a domain the job skipped is not refused as locked.
  const second = await start(again);
  t.after(() => second.close());
  const root = await login(second.app, 'root');
  const d = skipped[0].domain;
  const fx = await root.agent.get(`/domains/${d}/fix?check=spf`);
  const hash = /name="planHash" value="([^"]+)"/.exec(fx.text)?.[1];
  assert.ok(hash, fx.text);
  const res = await root.agent.post(`/domains/${d}/fix`).type('form').send({ _csrf: root.csrf, check: 'spf', planHash: hash });
  assert.doesNotMatch(res.text, /Another fix on/);
  assert.match(res.text, /[Aa]pplied/);
});

test('past the grace period the stop goes on, and a fix still waiting on the panel keeps its lock (it runs out)', { timeout: 60_000 }, async (t) => {
  const gate = new Gate();
  const { db, store, start } = await served(t, gate);
  const first = await start(store);
  const { jobId } = await heldBulkFix(first.app, gate, 4);
  assert.equal(await stopGracefully(first, trackResponses(first.server), { log: () => undefined, graceMs: 0 }), 'timed out');
  await first.close();
  store.close();
  gate.open(); // the panel answers after the store is closed: nothing is recorded, no lock released
  await new Promise((r) => setImmediate(r));
  const again = openStore(db);
  t.after(() => again.close());
  assert.equal(again.getJob(jobId)!.cancelRequested, true);
  const held = DOMAINS.filter((d) => again.lockHolder(`domain:${d}`));
  assert.equal(held.length, 4, 'the 4 fixes cut short keep their locks until the lease runs out');
});
