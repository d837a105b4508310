// Lock owners without process state in core (review, design rule 1): apply made the owner of a history that cannot
// name processes from process.pid and randomBytes, and the owner of a lock kept to settle a write the panel never
// answered from randomBytes. Now the first is `<user>:local:<n>` (distinct within the process; such a history serves
// one), the second the fix's own owner with its colons turned to dots — unique as that owner is, and never readable
// as a process's owner, so a settling lock is never judged gone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lockHolderGone, parseLockOwner } from '../../../src/adapters/store/lock-owner.js';
import { PanelError } from '../../../src/core/panel.js';
import { applyPlan, type History } from '../../../src/core/plans/apply.js';
import { playPerTest } from '../../helpers/fixplay.js';

const start = playPerTest();

/** The play's store as a history that cannot name processes (no lockOwner), recording the owner of each lock taken. */
function withoutLockOwner(store: History, owners: string[]): History {
  return new Proxy(store, {
    get: (target, prop) => {
      if (prop === 'lockOwner') return undefined;
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      if (prop === 'withLock') {
        return (name: string, owner: string, ...rest: unknown[]) => {
          owners.push(owner);
          return (v as (...a: unknown[]) => unknown).call(target, name, owner, ...rest);
        };
      }
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

test('a history without lockOwner: owners <user>:local:<n>, one per fix, no process id or random token', async () => {
  const p = await start();
  const owners: string[] = [];
  const history = withoutLockOwner(p.store, owners);
  for (const [domain, check] of [['florist.example', 'lockdown'], ['bakery.example', 'spf']] as const) {
    const plan = await p.plan(domain, check);
    const out = await applyPlan({ domain, check, planHash: plan.planHash }, { ...p.deps(), history });
    assert.equal(out.status, 'applied', JSON.stringify(out));
  }
  assert.equal(owners.length, 2);
  for (const o of owners) assert.match(o, /^root:local:[0-9]+$/);
  assert.notEqual(owners[0], owners[1]);
  for (const o of owners) assert.equal(parseLockOwner(o), null, 'never judged as a process');
});

test("a write the panel never answered: the settling lock's owner is the fix's own, colons as dots — never judged gone", async () => {
  const p = await start();
  const plan = await p.plan('bakery.example', 'spf');
  const owners: string[] = [];
  const write = p.panel.applyChanges;
  p.panel.applyChanges = async (domain, changes, version) => {
    await write(domain, changes, version);
    throw new PanelError('no-answer', 'the panel did not answer (ETIMEDOUT)');
  };
  // The store's own owners (lockOwner: host, pid, random, process stamp), recorded as withLock is asked.
  const history = new Proxy(p.store as History, {
    get: (target, prop) => {
      const v = Reflect.get(target, prop, target) as unknown;
      if (prop === 'withLock') {
        return (name: string, owner: string, ...rest: unknown[]) => {
          owners.push(owner);
          return (v as (...a: unknown[]) => unknown).call(target, name, owner, ...rest);
        };
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const out = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, { ...p.deps(), history });
  assert.equal(out.status, 'failed');
  assert.equal(owners.length, 1);
  assert.ok(parseLockOwner(owners[0]), 'the fix itself holds a judgeable owner');
  const settling = p.store.lockHolder('domain:bakery.example')!.owner;
  assert.equal(settling, `settle-later:${owners[0].replace(/:/g, '.')}`);
  assert.equal(parseLockOwner(settling), null);
  assert.equal(lockHolderGone(settling).dead, false);
});
