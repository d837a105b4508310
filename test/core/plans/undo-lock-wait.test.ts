// An undo waits for another fix's domain lock as `fix --apply` does (LockWait in apply.ts: ApplyDeps.lockWaitMs, default
// LOCK_WAIT_MS, in polls of LOCK_POLL_MS). QA: an undo issued while another process's fix held the domain's lock was
// refused at once ("Another fix on … is running"), where the same fix would have waited for it and gone through.
// Demo files panel + fixture zones, loopback DNS, real SQLite. The waits are counted in tries of the domain's lock
// (withLock calls), never read off a clock.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Store } from '../../../src/adapters/store/store.js';
import { applyPlan, domainLock, LOCK_TTL_MS, undoChange, type ApplyOutcome, type History } from '../../../src/core/plans/apply.js';
import { playPerTest, type Play } from '../../helpers/fixplay.js';

const start = playPerTest();

const D = 'florist.example';
/** A wait for the lock longer than any test: a test that expects no wait would time out rather than pass. */
const WAIT_LONG = 600_000;
/** Another process's fix (a live holder, as the store names one: user, host, pid, random). */
const OTHER = 'root:otherhost:4242:deadbeefcafe';

/** The store as core's History, counting the tries of `domain:D` (withLock). `without`: methods left out. */
function counting(store: Store, without: (keyof History)[] = []): { history: History; tries: () => number } {
  let n = 0;
  const history = new Proxy(store, {
    get(target, prop) {
      if (without.includes(prop as keyof History)) return undefined;
      const v = (target as unknown as Record<string | symbol, unknown>)[prop];
      if (typeof v !== 'function') return v;
      if (prop === 'withLock') {
        return (name: string, ...rest: unknown[]) => {
          if (name === domainLock(D)) n++;
          return (v as (...a: unknown[]) => unknown).call(target, name, ...rest);
        };
      }
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  }) as unknown as History;
  return { history, tries: () => n };
}

/** An applied DMARC fix on D (the change an undo is asked for). */
async function appliedChange(p: Play): Promise<number> {
  const plan = await p.plan(D, 'dmarc');
  const out = await applyPlan({ domain: D, check: 'dmarc', planHash: plan.planHash }, p.deps());
  assert.equal(out.status, 'applied', JSON.stringify(out));
  return (out as Extract<ApplyOutcome, { status: 'applied' }>).changeId;
}

describe("an undo and another fix's lock on the domain", { timeout: 120_000 }, () => {
  test('the lock is released during the wait: the undo goes through, once', async () => {
    const p = await start();
    const id = await appliedChange(p);
    const before = p.zoneText(D);
    assert.ok(p.store.tryLock(domainLock(D), OTHER, LOCK_TTL_MS));
    // The other fix ends after the undo's first try has found the domain held.
    const { history, tries } = counting(p.store);
    const held = setInterval(() => {
      if (tries() >= 2) {
        clearInterval(held);
        assert.ok(p.store.releaseLock(domainLock(D), OTHER));
      }
    }, 10);
    const out = await undoChange(id, p.deps({ history, lockWaitMs: WAIT_LONG }));
    clearInterval(held);
    assert.equal(out.status, 'applied', JSON.stringify(out));
    assert.ok(tries() >= 2, `it tried again after finding the domain held (${tries()} tries)`);
    assert.notEqual(p.zoneText(D), before, 'the undo was written');
    assert.equal(p.store.getChange(id)!.undoneBy, (out as Extract<ApplyOutcome, { status: 'applied' }>).changeId);
    assert.equal(p.store.changesForDomain(D).filter((c) => c.undoOf === id).length, 1, 'one undo');
  });

  test('the lock held past the wait: refused with the words a fix gets, after as many tries as a fix makes; nothing written', async () => {
    const p = await start();
    const id = await appliedChange(p);
    const spf = await p.plan(D, 'spf');
    const zone = p.zoneText(D);
    assert.ok(p.store.tryLock(domainLock(D), OTHER, LOCK_TTL_MS));
    const fixTries = counting(p.store);
    const fix = await applyPlan({ domain: D, check: 'spf', planHash: spf.planHash }, p.deps({ history: fixTries.history, lockWaitMs: 300 }));
    const undoTries = counting(p.store);
    const undo = await undoChange(id, p.deps({ history: undoTries.history, lockWaitMs: 300 }));
    assert.equal(fix.status, 'refused');
    assert.equal(undo.status, 'refused');
    assert.equal((undo as { reason: string }).reason, (fix as { reason: string }).reason, 'the same message');
    assert.match((undo as { reason: string }).reason, /^Another fix on florist\.example is running; try again in a moment\. If that fix was interrupted, whatever it left is settled once its lock on the domain runs out \(at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)\.$/);
    // 300 ms in polls of 100 ms: the first try and three more, for either.
    assert.equal(undoTries.tries(), 4);
    assert.equal(undoTries.tries(), fixTries.tries(), 'the same wait as a fix');
    assert.equal(p.zoneText(D), zone, 'nothing written');
    assert.equal(p.store.getChange(id)!.undoneBy, null);
    assert.equal(p.store.changesForDomain(D).filter((c) => c.undoOf === id).length, 0, 'no undo recorded');
  });

  test('no wait (lockWaitMs 0): refused after one try, as a fix', async () => {
    const p = await start();
    const id = await appliedChange(p);
    assert.ok(p.store.tryLock(domainLock(D), OTHER, LOCK_TTL_MS));
    const { history, tries } = counting(p.store);
    const undo = await undoChange(id, p.deps({ history, lockWaitMs: 0 }));
    assert.equal(undo.status, 'refused');
    assert.equal(tries(), 1);
  });

  test('the domain kept locked to settle a write the panel never answered: not waited for, as a fix does not', async () => {
    const p = await start();
    const id = await appliedChange(p);
    const spf = await p.plan(D, 'spf');
    // keepLockedForSettling's owner: "settle-later:" and the fix's owner with its colons as dots.
    assert.ok(p.store.tryLock(domainLock(D), `settle-later:${OTHER.replace(/:/g, '.')}`, LOCK_TTL_MS));
    const fixTries = counting(p.store);
    const fix = await applyPlan({ domain: D, check: 'spf', planHash: spf.planHash }, p.deps({ history: fixTries.history, lockWaitMs: WAIT_LONG }));
    const undoTries = counting(p.store);
    // With WAIT_LONG, a wait would outlast the test's timeout.
    const undo = await undoChange(id, p.deps({ history: undoTries.history, lockWaitMs: WAIT_LONG }));
    assert.equal(fix.status, 'refused');
    assert.equal(undo.status, 'refused');
    assert.equal((undo as { reason: string }).reason, (fix as { reason: string }).reason);
    assert.deepEqual([undoTries.tries(), fixTries.tries()], [1, 1]);
  });

  // A fix has no "holder unknown: no wait" rule: it skips the wait only when it can tell the holder is a write kept
  // locked to be settled. A history that cannot name the holder (no lockHolder) cannot tell that, and both wait.
  test('a history that cannot name the holder: the undo waits as a fix does, and goes through once the lock is free', async () => {
    const p = await start();
    const id = await appliedChange(p);
    const spf = await p.plan(D, 'spf');
    assert.ok(p.store.tryLock(domainLock(D), OTHER, LOCK_TTL_MS));
    const fixTries = counting(p.store, ['lockHolder']);
    const fix = await applyPlan({ domain: D, check: 'spf', planHash: spf.planHash }, p.deps({ history: fixTries.history, lockWaitMs: 200 }));
    const undoTries = counting(p.store, ['lockHolder']);
    const undo = await undoChange(id, p.deps({ history: undoTries.history, lockWaitMs: 200 }));
    assert.equal(fix.status, 'refused');
    assert.equal(undo.status, 'refused');
    assert.equal((undo as { reason: string }).reason, (fix as { reason: string }).reason);
    assert.match((undo as { reason: string }).reason, /runs out \(at most 2 minutes\)\.$/, 'no holder to name: its lease said as at most');
    assert.deepEqual([undoTries.tries(), fixTries.tries()], [3, 3]);

    const released = counting(p.store, ['lockHolder']);
    const free = setInterval(() => {
      if (released.tries() >= 2) {
        clearInterval(free);
        p.store.releaseLock(domainLock(D), OTHER);
      }
    }, 10);
    const again = await undoChange(id, p.deps({ history: released.history, lockWaitMs: WAIT_LONG }));
    clearInterval(free);
    assert.equal(again.status, 'applied', JSON.stringify(again));
  });
});
