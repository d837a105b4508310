// A running server settles interrupted fixes while it runs, not only at start: an intent skipped at start because the
// crashed process's domain lock had not expired yet is settled by a later request (throttled), or at once by a request
// that acts on it (undo), or by the server's timer; meanwhile an undo says the change is still being settled.
// No wall-clock waits: the store's clock (lock expiry) and the settler's clock (throttle) are fakes moved by the test.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createResolver } from '../../src/adapters/dns/resolver.js';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import type { Change } from '../../src/core/model.js';
import type { Panel } from '../../src/core/panel.js';
import { startDemo, type Demo } from '../../src/demo/world.js';
import { IntentSettler, startServer, type RunningServer, type ServerSettleOptions } from '../../src/web/server.js';

const TOKEN = 'settle-test-admin-token';
const DOMAIN = 'florist.example';
const LOCK = `domain:${DOMAIN}`;
/** The lease apply.ts takes (LOCK_TTL_MS): a process killed mid-fix leaves its lock held this long. */
const LEASE_MS = 120_000;

interface World {
  demo: Demo;
  dir: string;
  store: Store;
  panel: FilesPanel;
  /** The store's clock (lock expiry). */
  clock: { ms: number };
  makeResolver: () => ReturnType<typeof createResolver>;
  zone(): string;
  close(): Promise<void>;
}

async function world(): Promise<World> {
  const demo = await startDemo();
  const dir = mkdtempSync(join(tmpdir(), 'mailhealth-settle-'));
  const clock = { ms: Date.parse('2027-03-01T12:00:00Z') };
  const store = openStore(join(dir, 'db.sqlite'), { now: () => clock.ms });
  const panel = new FilesPanel(demo.panelDir);
  return {
    demo,
    dir,
    store,
    panel,
    clock,
    makeResolver: () => createResolver({ servers: [demo.dns.address], authoritativePort: demo.dns.port, timeoutMs: 1000, tries: 2 }),
    zone: () => readFileSync(join(demo.panelDir, 'zones', `${DOMAIN}.db`), 'utf8'),
    async close() {
      store.close();
      await demo.close();
      rmSync(dir, { recursive: true, force: true });
      rmSync(demo.panelDir, { recursive: true, force: true });
    },
  };
}

/**
 * A fix killed after its panel write and before its outcome (kill -9): the intent row, the zone written, and — unless
 * `lockHeld` is false — the dead process's domain lock still leased.
 */
async function interruptedFix(w: World, lockHeld = true, account = 'newhostmc'): Promise<number> {
  const zone = await w.panel.readZone(DOMAIN);
  const before = zone.records.find((r) => r.name === `_mailchannels.${DOMAIN}` && r.type === 'TXT')!;
  const value = `v=mc1 auth=${account}`;
  const after = { name: before.name, ttl: before.ttl, type: 'TXT', value, txt: [value] };
  const changes: Change[] = [{ action: 'edit', name: before.name, type: 'TXT', ttl: before.ttl, before, after }];
  if (lockHeld) assert.ok(w.store.tryLock(LOCK, 'root:4242:deadbeefcafe', LEASE_MS));
  const id = w.store.recordIntent({ domain: DOMAIN, check: 'lockdown', planHash: `sha256:${'0'.repeat(64)}`, zoneVersion: zone.version, changes, byUser: 'root' });
  await w.panel.applyChanges(DOMAIN, changes, zone.version);
  return id;
}

async function serve(w: World, settle: ServerSettleOptions): Promise<RunningServer> {
  return startServer({ panel: w.panel, store: w.store, makeResolver: w.makeResolver, identityFrom: 'session', adminToken: TOKEN, host: '127.0.0.1', port: 0, settle: { log: () => {}, ...settle } });
}

const api = (s: RunningServer, path: string, init: RequestInit = {}) =>
  fetch(`${s.url}/api${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
async function statusOf(s: RunningServer, id: number): Promise<{ status: string; error: string | null }> {
  const list = (await (await api(s, '/changes')).json()) as { id: number; status: string; error: string | null }[];
  return list.find((c) => c.id === id)!;
}

describe('serve/service: open intents are settled while the server runs', () => {
  let w: World;
  before(async () => {
    w = await world();
  });
  after(async () => {
    await w.close();
  });

  test('an intent skipped at start (the crashed fix still holds its lock) is settled by a request once the lock expired; undo meanwhile says it is being settled', async () => {
    const id = await interruptedFix(w);
    const settleClock = { ms: 0 };
    const s = await serve(w, { now: () => settleClock.ms, timerMs: 0 });
    try {
      assert.equal((await statusOf(s, id)).status, 'intent', 'skipped at start: the lock is held');
      const refused = await api(s, `/changes/${id}/undo`, { method: 'POST', body: '{}' });
      assert.equal(refused.status, 409);
      const body = (await refused.json()) as { status: string; reason: string; why?: string; undoOf: number };
      assert.equal(body.status, 'refused');
      assert.equal(body.why, 'settling');
      assert.equal(body.undoOf, id);
      assert.match(body.reason, new RegExp(`^Change ${id} is still being settled: a fix on ${DOMAIN.replace('.', '\\.')} was interrupted`));
      assert.match(body.reason, /once its lock on the domain expires \(at most 2 minutes\)\. Nothing was changed; try again shortly\./);
      assert.doesNotMatch(body.reason, /intent, not applied/);
      assert.match(w.zone(), /auth=newhostmc/, 'the refused undo wrote nothing');

      // The crashed process's lease runs out.
      w.clock.ms += LEASE_MS + 1_000;
      // A view within the throttle (the undo just settled, skipped) does not run reconcile again…
      settleClock.ms += 1_000;
      assert.equal((await statusOf(s, id)).status, 'intent', 'throttled: at most one run every few seconds');
      // …the next view after it does, and shows the change settled.
      settleClock.ms += 5_000;
      const settled = await statusOf(s, id);
      assert.equal(settled.status, 'applied');
      assert.match(settled.error ?? '', /the write had happened/);
      assert.deepEqual(w.store.pendingIntents(), []);

      const undone = await api(s, `/changes/${id}/undo`, { method: 'POST', body: '{}' });
      assert.equal(undone.status, 200, await undone.clone().text());
      assert.equal(((await undone.json()) as { status: string }).status, 'applied');
      assert.match(w.zone(), /auth=dreamhost/);
    } finally {
      await s.close();
    }
  });

  test('an undo right after the lock expired settles first, even within the throttle', async () => {
    const id = await interruptedFix(w);
    const settleClock = { ms: 0 };
    const s = await serve(w, { now: () => settleClock.ms, timerMs: 0 });
    try {
      assert.equal((await statusOf(s, id)).status, 'intent');
      w.clock.ms += LEASE_MS + 1_000;
      // No time passed for the throttle: the view would not settle again, the undo does.
      const undone = await api(s, `/changes/${id}/undo`, { method: 'POST', body: '{}' });
      assert.equal(undone.status, 200, await undone.clone().text());
      assert.equal(w.store.getChange(id)!.status, 'reverted');
      assert.match(w.zone(), /auth=dreamhost/);
    } finally {
      await s.close();
    }
  });

  test('the timer settles without any request, never keeps the process alive, and stops on close', async () => {
    const id = await interruptedFix(w);
    const s = await serve(w, { timerMs: 10, minIntervalMs: 0 });
    try {
      assert.equal(s.settler.timerState(), 'unref');
      assert.equal(w.store.getChange(id)!.status, 'intent');
      w.clock.ms += LEASE_MS + 1_000;
      // Poll the store (no request reaches the server): the timer's run settles it.
      for (let i = 0; i < 500 && w.store.getChange(id)!.status === 'intent'; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(w.store.getChange(id)!.status, 'applied');
      // Put the record back for the other tests.
      assert.equal((await api(s, `/changes/${id}/undo`, { method: 'POST', body: '{}' })).status, 200);
    } finally {
      await s.close();
    }
    assert.equal(s.settler.timerState(), 'off');
  });

  test('the default server timer is unref()ed', async () => {
    const s = await serve(w, {});
    try {
      assert.equal(s.settler.timerState(), 'unref');
    } finally {
      await s.close();
    }
  });
});

describe('IntentSettler', () => {
  let w: World;
  before(async () => {
    w = await world();
  });
  after(async () => {
    await w.close();
  });

  /** The panel, counting zone reads, each held until `release` is called. */
  function slowPanel() {
    const reads: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const panel = Object.create(w.panel) as Panel;
    panel.readZone = async (d: string) => {
      reads.push(d);
      await gate;
      return w.panel.readZone(d);
    };
    return { panel, reads, release };
  }

  test('no open intent: no reconcile, no resolver, no panel read', async () => {
    let resolvers = 0;
    const { panel, reads } = slowPanel();
    const settler = new IntentSettler({ panel, store: w.store, makeResolver: () => (resolvers++, w.makeResolver()), byUser: 'mailhealth' }, { log: () => {} });
    await settler.settle({ force: true });
    await settler.settle({ force: true });
    assert.equal(resolvers, 0);
    assert.deepEqual(reads, []);
  });

  test('one reconcile at a time in a process: a second caller waits for the run in flight', async () => {
    const id = await interruptedFix(w, false);
    const { panel, reads, release } = slowPanel();
    const settler = new IntentSettler({ panel, store: w.store, makeResolver: w.makeResolver, byUser: 'mailhealth' }, { log: () => {} });
    const first = settler.settle({ force: true });
    const second = settler.settle({ force: true });
    let secondDone = false;
    void second.then(() => (secondDone = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(secondDone, false, 'the second caller waits for the first run');
    release();
    await Promise.all([first, second]);
    assert.deepEqual(reads, [DOMAIN], 'the zone was read once: one run');
    assert.equal(w.store.getChange(id)!.status, 'applied');
    assert.deepEqual(settler.last, [{ id, outcome: 'applied' }]);
  });

  test('only the domains in scope, when a scope is given', async () => {
    const id = await interruptedFix(w, false, 'othermc');
    const { panel, reads, release } = slowPanel();
    release();
    const outside = new IntentSettler({ panel, store: w.store, makeResolver: w.makeResolver, byUser: 'alice', inScope: async () => new Set(['bakery.example']) }, { log: () => {} });
    await outside.settle({ force: true });
    assert.deepEqual(reads, []);
    assert.equal(w.store.getChange(id)!.status, 'intent');
    const inside = new IntentSettler({ panel, store: w.store, makeResolver: w.makeResolver, byUser: 'alice', inScope: async () => new Set([DOMAIN]) }, { log: () => {} });
    await inside.settle({ force: true });
    assert.deepEqual(reads, [DOMAIN]);
    assert.equal(w.store.getChange(id)!.status, 'applied');
  });
});
