// A fix killed with SIGKILL (or by the OOM killer) leaves its domain lock, leased for 2 minutes, and an open intent.
// QA: for those 2 minutes every fix on the domain answered "This fix is being applied now" / "Another fix on … is
// running", and an undo "is still being settled", although the process was gone. The lock owner names the host, the
// pid and the process's start time (src/adapters/store/lock-owner.ts, the rule the report lock follows): a holder on
// this host whose process is gone and that left no intent open is taken over at once; one that left an intent open
// (its write may still be under way in the panel), a live holder, one on another host, or one that cannot be judged
// keeps the lease, and the answer says the fix may have been interrupted and when it is settled. Demo files panel + fixture zones, loopback DNS, real SQLite with a fixed clock (no lease ever runs out
// here); the dead processes are real ones, killed.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { after, describe, test } from 'node:test';
import { lockHolderGone, parseLockOwner, processLockOwner } from '../../../src/adapters/store/lock-owner.js';
import { PanelError } from '../../../src/core/panel.js';
import { applyPlan, domainLock, LOCK_TTL_MS, reconcile, withCopies } from '../../../src/core/plans/apply.js';
import { playPerTest, TODAY, type Play } from '../../helpers/fixplay.js';
import { killHard, sleeper } from '../../helpers/processes.js';

const start = playPerTest();
const D = 'bakery.example';
/** The fixed clock's "now" plus the lease: when a lock taken in these tests runs out. */
const LEASE_END = new Date(TODAY.getTime() + LOCK_TTL_MS).toISOString().slice(0, 19).replace('T', ' ') + ' UTC';

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/**
 * What a fix of process `owner` leaves when killed right after its intent (`written`: after its zone write too): the
 * domain's lock held by `owner`, the intent open.
 */
async function interruptedFix(p: Play, owner: string, written: boolean): Promise<{ id: number; planHash: string; zoneBefore: string }> {
  const plan = await p.plan(D, 'spf');
  const zoneBefore = p.zoneText(D);
  assert.ok(p.store.tryLock(domainLock(D), owner, LOCK_TTL_MS));
  const zone = await p.panel.readZone(D);
  const changes = withCopies(zone, plan.changes);
  const id = p.store.recordIntent({ domain: D, check: 'spf', planHash: plan.planHash, zoneVersion: plan.zoneVersion, changes, byUser: 'root' });
  if (written) await p.panel.applyChanges(D, changes, plan.zoneVersion);
  return { id, planHash: plan.planHash, zoneBefore };
}

/** A fix's lock owner for a process that was killed. */
async function deadOwner(): Promise<{ owner: string; pid: number }> {
  const child = await sleeper(children);
  const owner = processLockOwner('root', { pid: child.pid });
  await killHard(child);
  return { owner, pid: child.pid };
}

describe('the lock owner and whether its process is gone (one rule with the report lock)', () => {
  test('this process: running; a killed one: gone; a pid now given to another process: gone; another host, no start time, an older owner: not judged', async () => {
    const mine = processLockOwner('root');
    assert.deepEqual(lockHolderGone(mine), { dead: false, why: `process ${process.pid} is running` });
    assert.equal(parseLockOwner(mine)?.host, hostname());
    assert.equal(parseLockOwner(mine)?.prefix, 'root');
    // A user name with colons is read from the end.
    assert.equal(parseLockOwner(processLockOwner('a:b'))?.prefix, 'a:b');

    const { owner, pid } = await deadOwner();
    assert.deepEqual(lockHolderGone(owner), { dead: true, why: `process ${pid} is no longer running` });
    // This process's pid with another start time: the pid was reused.
    const reused = mine.replace(/:st[0-9]+$/, ':st1');
    assert.equal(lockHolderGone(reused).dead, true);
    assert.match(lockHolderGone(reused).why, /the pid now belongs to another process/);

    assert.equal(lockHolderGone(owner.replace(`:${hostname()}:`, ':other-host.example:')).dead, false);
    assert.equal(lockHolderGone(owner.replace(/:ns[0-9]+:st[0-9]+$/, '')).dead, false, 'no start time: not judged');
    assert.equal(lockHolderGone(`root:${pid}:deadbeefcafe`).dead, false, "an older version's owner: not judged");
    assert.equal(lockHolderGone('first-submission').dead, false);
  });
});

describe('a fix killed with SIGKILL: its domain lock taken over at once only when it left nothing open', { timeout: 120_000 }, () => {
  test('killed while planning (no intent recorded): the lock is taken over at once and the fix applied — not "another fix is running"', async () => {
    const p = await start();
    const { owner } = await deadOwner();
    assert.ok(p.store.tryLock(domainLock(D), owner, LOCK_TTL_MS));
    const plan = await p.plan(D, 'spf');
    const out = await applyPlan({ domain: D, check: 'spf', planHash: plan.planHash }, p.deps({ lockWaitMs: 0 }));
    assert.equal(out.status, 'applied', JSON.stringify(out));
    assert.equal(p.store.lockHolder(domainLock(D)), null, 'the lock released after the fix');
  });

  // Review: the dead process's write may still be under way without it (a `plesk bin dns` child outlives its parent;
  // the panel's server finishes a request whose client is gone): settling its intent at once recorded "never written"
  // while the panel went on to delete the SPF record. Such a lock keeps its lease; the answer says when it is settled.
  for (const written of [false, true]) {
    test(`killed after its intent${written ? ' and its write' : ''}: the lease stands (its write may still land), the answer gives the time it is settled`, async () => {
      const p = await start();
      const { owner } = await deadOwner();
      const dead = await interruptedFix(p, owner, written);
      const zone = p.zoneText(D);
      const out = await applyPlan({ domain: D, check: 'spf', planHash: dead.planHash }, p.deps({ lockWaitMs: 0 }));
      assert.equal(out.status, 'already', JSON.stringify(out));
      if (out.status !== 'already') return;
      assert.equal(out.changeId, dead.id);
      assert.equal(out.changeStatus, 'intent');
      assert.ok(out.reason.endsWith(`If that fix was interrupted, change #${dead.id} is settled from the zone once its lock on ${D} runs out (at ${LEASE_END}).`), out.reason);
      assert.deepEqual(await reconcile(p.deps()), [{ id: dead.id, outcome: 'skipped: a fix on this domain is running' }]);
      assert.equal(p.store.getChange(dead.id)?.status, 'intent');
      assert.equal(p.zoneText(D), zone, 'nothing written or restored meanwhile');
      assert.equal(p.store.lockHolder(domainLock(D))?.owner, owner, 'the dead holder keeps its lease');
    });
  }
});

describe('a holder that is alive, or cannot be judged: the lease stands, and the answer says when an interrupted fix is settled', { timeout: 120_000 }, () => {
  test('alive: the same preview is "being applied now", and if interrupted settled when its lock runs out (the time)', async () => {
    const p = await start();
    const child = await sleeper(children);
    const dead = await interruptedFix(p, processLockOwner('root', { pid: child.pid }), false);
    const out = await applyPlan({ domain: D, check: 'spf', planHash: dead.planHash }, p.deps({ lockWaitMs: 0 }));
    assert.equal(out.status, 'already', JSON.stringify(out));
    if (out.status !== 'already') return;
    assert.equal(out.changeStatus, 'intent');
    assert.match(out.reason, new RegExp(`^This fix is being applied now as change #${dead.id}\\b`));
    assert.ok(out.reason.endsWith(`If that fix was interrupted, change #${dead.id} is settled from the zone once its lock on ${D} runs out (at ${LEASE_END}).`), out.reason);
    assert.deepEqual(await reconcile(p.deps()), [{ id: dead.id, outcome: 'skipped: a fix on this domain is running' }]);
    assert.equal(p.store.getChange(dead.id)?.status, 'intent');
    assert.equal(p.zoneText(D), dead.zoneBefore);
    await killHard(child);
  });

  test('on another host: another fix is running — or was interrupted, settled when its lock runs out (the time)', async () => {
    const p = await start();
    const { owner } = await deadOwner();
    assert.ok(p.store.tryLock(domainLock(D), owner.replace(`:${hostname()}:`, ':web2.example:'), LOCK_TTL_MS));
    const plan = await p.plan(D, 'spf');
    const out = await applyPlan({ domain: D, check: 'spf', planHash: plan.planHash }, p.deps({ lockWaitMs: 0 }));
    assert.equal(out.status, 'refused', JSON.stringify(out));
    if (out.status !== 'refused') return;
    assert.equal(out.why, undefined);
    assert.equal(
      out.reason,
      `Another fix on ${D} is running; try again in a moment. If that fix was interrupted, whatever it left is settled once its lock on the domain runs out (at ${LEASE_END}).`,
    );
  });

  test('a write the panel never answered: the lock kept to settle it names no process, so it is never taken over', async () => {
    const p = await start();
    const plan = await p.plan(D, 'spf');
    const write = p.panel.applyChanges.bind(p.panel);
    p.panel.applyChanges = async (domain, changes, version) => {
      await write(domain, changes, version);
      throw new PanelError('no-answer', 'the panel did not answer (ETIMEDOUT): timed out');
    };
    const first = await applyPlan({ domain: D, check: 'spf', planHash: plan.planHash }, p.deps());
    assert.equal(first.status, 'failed');
    const holder = p.store.lockHolder(domainLock(D));
    assert.ok(holder && holder.owner.startsWith('settle-later:'), holder?.owner);
    assert.equal(parseLockOwner(holder.owner), null);
    assert.equal(lockHolderGone(holder.owner).dead, false);
    assert.deepEqual(await reconcile(p.deps()), [{ id: p.store.pendingIntents()[0].id, outcome: 'skipped: a fix on this domain is running' }]);
  });
});
