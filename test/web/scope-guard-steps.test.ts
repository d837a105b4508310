// services.ts ScopeGuard as core's WriteGuard, step by step (core calls it: test/core/plans/write-guard.test.ts): the
// clean-up of a record write it let through is never stopped, while a clean-up before any record write of this fix
// (an earlier fix's intent, settled first) is checked like any write; once the panel generated a key, only an answer
// that the domain left the scope stops the record write, and the skip then says the key exists.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Identity } from '../../src/core/model.js';
import type { Store } from '../../src/adapters/store/store.js';
import { SCOPE_RECHECK_MS } from '../../src/adapters/workers/gone.js';
import { BulkScope, ScopeGuard, type WebDeps } from '../../src/web/services.js';

const rita: Identity = { user: 'rita', role: 'reseller' };

/** rita's listing is `names` (a throw when `down`); the app's clock is `clock`. */
function world() {
  const s = { clock: 1_000_000, names: ['a.example'], down: false };
  const deps = {
    panel: {
      listAccounts: async () => [{ user: 'rita', role: 'reseller' as const }],
      listDomains: async () => {
        if (s.down) throw new Error('HTTP 503');
        return s.names.map((domain) => ({ domain, owner: 'bob' }));
      },
    },
    now: () => new Date(s.clock),
  } as unknown as WebDeps;
  const settled: { id: number; error?: string | null }[] = [];
  const history = {
    settleIntent: (id: number, o: { error?: string | null }) => {
      settled.push({ id, error: o.error });
      return true;
    },
    getChange: () => null,
  } as unknown as Store;
  const guard = new ScopeGuard(new BulkScope(deps, rita, null), 'a.example', history);
  /** The next reading (the last one expired) says `names`, or fails. */
  const next = async (names: string[] | 'down') => {
    s.down = names === 'down';
    if (names !== 'down') s.names = names;
    s.clock += SCOPE_RECHECK_MS;
    await guard.afterRead();
  };
  return { guard, next, settled };
}

const stops = (fn: () => void) => assert.throws(fn, { name: 'OutOfScope' });

describe("ScopeGuard.beforeWrite('cleanup')", () => {
  it('after the record write it let through: not stopped, whatever the next reading says', async () => {
    const { guard, next } = world();
    await next(['a.example']);
    guard.beforeWrite('intent');
    guard.afterWrite('intent', 7);
    guard.beforeWrite('records'); // sent, then failed part way
    await next([]);
    assert.doesNotThrow(() => guard.beforeWrite('cleanup'));
    await next('down');
    assert.doesNotThrow(() => guard.beforeWrite('cleanup'));
    assert.equal(guard.settle({ status: 'failed', changeId: 7, reason: 'connection reset — the records written before the failure were put back' }).status, 'failed');
  });

  it('before any record write of this fix (an earlier fix left its intent open): checked like any write', async () => {
    const { guard, next } = world();
    await next([]);
    stops(() => guard.beforeWrite('cleanup'));
  });

  it("an earlier fix's clean-up let through does not wave this fix's record write through (review)", async () => {
    const { guard, next } = world();
    await next(['a.example']);
    guard.beforeWrite('cleanup'); // an earlier fix's open intent, settled first while in scope
    guard.beforeWrite('intent');
    guard.afterWrite('intent', 9);
    await next([]); // moved away before this fix's write
    stops(() => guard.beforeWrite('records'));
  });
});

describe("ScopeGuard.beforeWrite('records') after afterWrite('generate-dkim')", () => {
  it('a listing that failed does not stop the record of the key the panel just generated', async () => {
    const { guard, next } = world();
    await next(['a.example']);
    guard.beforeWrite('intent');
    guard.afterWrite('intent', 3);
    guard.beforeWrite('generate-dkim');
    guard.afterWrite('generate-dkim', 3);
    await next('down');
    assert.doesNotThrow(() => guard.beforeWrite('records'));
  });

  it('the domain out of scope stops it; the skip says the key exists, and the intent is left to core', async () => {
    const { guard, next, settled } = world();
    await next(['a.example']);
    guard.beforeWrite('intent');
    guard.afterWrite('intent', 3);
    guard.beforeWrite('generate-dkim');
    guard.afterWrite('generate-dkim', 3);
    await next([]);
    stops(() => guard.beforeWrite('records'));
    assert.deepEqual(settled, [], "a record write's intent is core's to settle from the zone");
    const out = guard.settle({ status: 'failed', changeId: 3, reason: 'the write never happened' });
    assert.equal(out.status, 'skipped');
    assert.match((out as { reason: string }).reason, /generated a new DKIM key for it and turned signing on/);
  });

  it("a stop at 'generate-dkim' closes the key's intent in the guard's words", async () => {
    const { guard, next, settled } = world();
    await next(['a.example']);
    guard.beforeWrite('intent');
    guard.afterWrite('intent', 3);
    await next([]);
    stops(() => guard.beforeWrite('generate-dkim'));
    assert.equal(settled.length, 1);
    assert.equal(settled[0].id, 3);
    assert.match(settled[0].error ?? '', /^not written: the bulk fix's scope check just before this write found that a\.example is no longer in rita's scope .*; no DKIM key was generated and nothing was written$/);
  });
});
