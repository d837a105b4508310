// services.ts BulkScope / ScopeGuard on their own, with a fake panel and history called as core calls them with the
// guard (ApplyDeps.guard: afterRead after each read, beforeWrite/afterWrite around each write and the intent): every
// panel write a bulk fix may make (records, a DKIM key, signing) waits for the latest scope answer and is not made when
// it says the domain is out of scope; an intent already recorded for a key or for signing is closed as not written; a
// failed listing changes no answer core gave; a reading's age counts from its answer (a listing slower than the recheck
// interval is not asked again and again). (That core makes each call at its point: test/core/plans/write-guard.test.ts.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Identity } from '../../src/core/model.js';
import type { Panel } from '../../src/core/panel.js';
import type { ApplyOutcome, WriteGuard, WriteStep } from '../../src/core/plans/apply.js';
import type { Store } from '../../src/adapters/store/store.js';
import { SCOPE_RECHECK_MS } from '../../src/adapters/workers/gone.js';
import { BulkScope, ScopeGuard, type WebDeps } from '../../src/web/services.js';

const rita: Identity = { user: 'rita', role: 'reseller' };

/** A panel whose listing for rita is `names` (a throw when `down`), each listing taking `listingMs` on the clock. */
function world(opts: { listingMs?: number } = {}) {
  const s = { clock: 1_000_000, names: ['a.example', 'b.example'], down: false, listings: 0, calls: [] as string[] };
  const panel = {
    kind: 'fake',
    capabilities: { serialCheckedWrites: false, generateDkim: true },
    listAccounts: async () => [{ user: 'rita', role: 'reseller' as const }],
    listDomains: async () => {
      s.listings++;
      s.clock += opts.listingMs ?? 0;
      if (s.down) throw new Error('HTTP 503');
      return s.names.map((domain) => ({ domain, owner: 'bob' }));
    },
    readZone: async (d: string) => ({ domain: d, version: 'v1', records: [] }),
    readMailSettings: async () => ({ dkim: { selector: 'default', signing: false } }),
    applyChanges: async (d: string) => {
      s.calls.push(`applyChanges(${d})`);
      return { version: 'v2' };
    },
    generateDkim: async (d: string) => {
      s.calls.push(`generateDkim(${d})`);
      return { dkim: { selector: 'default', signing: true } };
    },
    startDkimSigning: async (d: string) => {
      s.calls.push(`startDkimSigning(${d})`);
      return { dkim: { selector: 'default', signing: true } };
    },
  } as unknown as Panel;
  const deps = { panel, now: () => new Date(s.clock) } as unknown as WebDeps;
  const changes = new Map<number, { status: string; error: string | null }>();
  const history = {
    recordIntent: () => {
      const id = changes.size + 1;
      changes.set(id, { status: 'intent', error: null });
      return id;
    },
    settleIntent: (id: number, o: { status: string; error?: string | null }) => {
      const ch = changes.get(id);
      if (!ch || ch.status !== 'intent') return false;
      changes.set(id, { status: o.status, error: o.error ?? null });
      return true;
    },
    getChange: (id: number) => (changes.has(id) ? { id, ...changes.get(id)! } : null),
  } as unknown as Store;
  return { s, deps, history, changes };
}

/**
 * The panel as core's apply uses it with `guard` as ApplyDeps.guard: readZone / readMailSettings each followed by
 * afterRead (also when it fails), each write between beforeWrite(its step) and afterWrite (apply.ts readsReported,
 * guardedWrite). Until WriteGuard, ScopeGuard wrapped the panel itself (guard.panel(panel)).
 */
function asCore(guard: WriteGuard, panel: Panel): Panel {
  const read =
    <T>(fn: (d: string) => Promise<T>) =>
    async (d: string): Promise<T> => {
      try {
        return await fn(d);
      } finally {
        await guard.afterRead();
      }
    };
  const write =
    <A extends unknown[], T>(step: WriteStep, fn: (...a: A) => Promise<T>) =>
    async (...a: A): Promise<T> => {
      guard.beforeWrite(step);
      const out = await fn(...a);
      guard.afterWrite(step, 1);
      return out;
    };
  return {
    kind: panel.kind,
    capabilities: panel.capabilities,
    listAccounts: () => panel.listAccounts(),
    listDomains: (i) => panel.listDomains(i),
    readZone: read((d) => panel.readZone(d)),
    readMailSettings: read((d) => panel.readMailSettings(d)),
    applyChanges: write('records', (d: string, c: Parameters<Panel['applyChanges']>[1], v: string) => panel.applyChanges(d, c, v)),
    generateDkim: write('generate-dkim', (d: string) => panel.generateDkim!(d)),
    startDkimSigning: write('start-signing', (d: string) => panel.startDkimSigning!(d)),
  };
}

/** The history as core records an intent with `guard`: between beforeWrite('intent') and afterWrite (was guard.history()). */
function asCoreHistory(guard: WriteGuard, history: Store) {
  return {
    recordIntent: (i: typeof intentInput): number => {
      guard.beforeWrite('intent');
      const id = (history as unknown as { recordIntent: (i: typeof intentInput) => number }).recordIntent(i);
      guard.afterWrite('intent', id);
      return id;
    },
    settleIntent: (id: number, o: object): boolean => (history as unknown as { settleIntent: (id: number, o: object) => boolean }).settleIntent(id, o),
  };
}

const intentInput = { domain: 'a.example', check: 'dkim', planHash: 'h', zoneVersion: 'v1', changes: [], byUser: 'rita' };

describe('ScopeGuard: a write waits for the latest scope answer', () => {
  for (const method of ['applyChanges', 'generateDkim', 'startDkimSigning'] as const) {
    it(`${method} is not made once a reading says the domain left the scope`, async () => {
      const { s, deps } = world();
      const scope = new BulkScope(deps, rita, null);
      const guard = new ScopeGuard(scope, 'a.example');
      const panel = asCore(guard, deps.panel) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      await panel.readZone('a.example'); // in scope
      s.names = ['b.example'];
      s.clock += SCOPE_RECHECK_MS;
      await panel.readZone('a.example'); // the next reading: out
      await assert.rejects(panel[method]('a.example', [], 'v1'), { name: 'OutOfScope' });
      assert.deepEqual(s.calls, [], 'the panel was not asked to write');
      const settled = guard.settle({ status: 'failed', changeId: 1, reason: 'The panel could not start DKIM signing (…)' });
      assert.equal(settled.status, 'skipped');
      assert.equal((settled as { why?: string }).why, 'scope');
    });
  }

  it('a write with no reading before it is not made either (not confirmed)', async () => {
    const { s, deps } = world();
    const guard = new ScopeGuard(new BulkScope(deps, rita, null), 'a.example');
    await assert.rejects(asCore(guard, deps.panel).applyChanges('a.example', [], 'v1'), { name: 'OutOfScope' });
    assert.deepEqual(s.calls, []);
  });

  it('in scope: every write goes through', async () => {
    const { s, deps } = world();
    const guard = new ScopeGuard(new BulkScope(deps, rita, null), 'a.example');
    const panel = asCore(guard, deps.panel);
    await panel.readMailSettings('a.example');
    await panel.generateDkim!('a.example');
    await panel.applyChanges('a.example', [], 'v1');
    await panel.startDkimSigning!('a.example');
    assert.deepEqual(s.calls, ['generateDkim(a.example)', 'applyChanges(a.example)', 'startDkimSigning(a.example)']);
  });

  it('signing stopped after its intent: the intent is closed as not written, in those words', async () => {
    const { s, deps, history, changes } = world();
    const guard = new ScopeGuard(new BulkScope(deps, rita, null), 'a.example', history);
    const panel = asCore(guard, deps.panel);
    const h = asCoreHistory(guard, history);
    await panel.readZone('a.example');
    const id = h.recordIntent(intentInput);
    s.names = [];
    s.clock += SCOPE_RECHECK_MS;
    await panel.readMailSettings('a.example');
    await assert.rejects(panel.startDkimSigning!('a.example'), { name: 'OutOfScope' });
    assert.equal(changes.get(id)!.status, 'failed');
    assert.match(changes.get(id)!.error!, /^not written: the bulk fix's scope check just before this write found that a\.example is no longer in rita's scope.*the panel was not asked to sign/);
    // Core then closes the intent with its own words ("the panel could not start DKIM signing"): it is closed already.
    assert.equal(h.settleIntent(id, { status: 'failed', error: 'The panel could not start DKIM signing' }), false);
    assert.equal(guard.settle({ status: 'failed', changeId: id, reason: 'The panel could not start DKIM signing' }).status, 'skipped');
  });

  it('a record write stopped, its intent left open by core: closed as not written when the outcome is settled', async () => {
    const { s, deps, history, changes } = world();
    const guard = new ScopeGuard(new BulkScope(deps, rita, null), 'a.example', history);
    const panel = asCore(guard, deps.panel);
    const h = asCoreHistory(guard, history);
    await panel.readZone('a.example');
    const id = h.recordIntent(intentInput);
    s.names = [];
    s.clock += SCOPE_RECHECK_MS;
    await panel.readZone('a.example');
    await assert.rejects(panel.applyChanges('a.example', [], 'v1'), { name: 'OutOfScope' });
    assert.equal(changes.get(id)!.status, 'intent', "a record write's intent is core's to settle from the zone");
    // Core could not re-check the zone (it leaves the intent open): the write was never sent, so it is closed here.
    guard.settle({ status: 'failed', changeId: id, reason: 'the zone could not be re-checked' });
    assert.equal(changes.get(id)!.status, 'failed');
    assert.match(changes.get(id)!.error!, /^not written: .*nothing was written$/);
  });
});

describe('ScopeGuard.settle: only a domain out of scope replaces the answer', () => {
  const already: ApplyOutcome = { status: 'already', changeId: 7, changeStatus: 'applied', verified: 'yes', changes: [], reason: 'This fix was already applied as change #7' };
  const nothing: ApplyOutcome = { status: 'refused', reason: 'Nothing to change: the records are already right.', why: 'nothing' };

  it('a failed listing: "already applied" and "nothing to change" stay what they are', async () => {
    const { s, deps } = world();
    const guard = new ScopeGuard(new BulkScope(deps, rita, null), 'a.example');
    s.down = true;
    await asCore(guard, deps.panel).readZone('a.example');
    assert.equal(guard.settle(already), already);
    assert.equal(guard.settle(nothing), nothing);
  });

  it('out of scope (or the account gone): the answer is the skip', async () => {
    const { s, deps } = world();
    s.names = ['b.example'];
    const guard = new ScopeGuard(new BulkScope(deps, rita, null), 'a.example');
    await asCore(guard, deps.panel).readZone('a.example');
    assert.equal(guard.settle(already).status, 'skipped');
    assert.equal(guard.settle(nothing).status, 'skipped');
  });
});

describe('BulkScope: a reading answers for SCOPE_RECHECK_MS from its answer', () => {
  it('a listing that takes longer than that is not asked again for the next domain', async () => {
    const { s, deps } = world({ listingMs: SCOPE_RECHECK_MS + 1_000 });
    const scope = new BulkScope(deps, rita, null);
    await scope.current();
    assert.equal(s.listings, 1);
    await scope.current();
    assert.equal(s.listings, 1, 'the reading had just arrived: not stale');
    assert.equal(scope.skipBefore('b.example'), null);
    assert.equal(scope.skipBefore('c.example')?.why, 'scope', 'skipBefore judges by that fresh reading too');
    s.clock += SCOPE_RECHECK_MS;
    await scope.current();
    assert.equal(s.listings, 2, 'once it is older than SCOPE_RECHECK_MS: asked again');
  });
});
