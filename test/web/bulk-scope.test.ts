// services.ts BulkScope: the scope a bulk fix asks again while it runs — how often it reads the panel (at most once per
// SCOPE_RECHECK_MS by the app's clock, shared by the domains asking at once; a failed reading not kept), what a
// reading says (in scope; moved away; the identity no longer that panel account, which is final; unconfirmed), and
// what it says before a domain is read (only what a recent reading already knows).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DomainRef, Identity } from '../../src/core/model.js';
import type { Panel } from '../../src/core/panel.js';
import { SCOPE_RECHECK_MS } from '../../src/adapters/workers/gone.js';
import { accountKey } from '../../src/web/session.js';
import { BulkScope, readScope, type WebDeps } from '../../src/web/services.js';

type Account = { user: string; role: Identity['role']; owner?: string };

function world(init: { accounts: Account[]; domains: Record<string, string[]> }) {
  const state = { ...init, fail: null as string | null, calls: { listDomains: 0, listAccounts: 0 } };
  let clock = 1_000_000;
  const panel = {
    kind: 'fake',
    capabilities: { serialCheckedWrites: false, generateDkim: false },
    listAccounts: async () => {
      state.calls.listAccounts++;
      return state.accounts;
    },
    listDomains: async (id: Identity): Promise<DomainRef[]> => {
      state.calls.listDomains++;
      if (state.fail) throw new Error(state.fail);
      return (state.domains[id.user] ?? []).map((domain) => ({ domain, owner: 'x' }));
    },
  } as unknown as Panel;
  const deps = { panel, now: () => new Date(clock) } as unknown as WebDeps;
  return { state, deps, tick: (ms: number) => (clock += ms) };
}

const rita: Identity = { user: 'rita', role: 'reseller' };
const accounts: Account[] = [
  { user: 'root', role: 'admin' },
  { user: 'rita', role: 'reseller' },
  { user: 'bob', role: 'customer', owner: 'rita' },
];

describe('BulkScope', () => {
  it('one reading per SCOPE_RECHECK_MS, shared by the domains that ask at once', async () => {
    const w = world({ accounts, domains: { rita: ['a.example', 'b.example'] } });
    const scope = new BulkScope(w.deps, rita, null);
    const [r1, r2] = await Promise.all([scope.current(), scope.current()]);
    assert.equal(r1, r2);
    assert.equal(scope.judge(r1, 'a.example'), null);
    w.tick(SCOPE_RECHECK_MS - 1);
    await scope.current();
    assert.deepEqual(w.state.calls, { listDomains: 1, listAccounts: 1 });
    w.tick(1);
    w.state.domains.rita = ['b.example'];
    const r3 = await scope.current();
    assert.deepEqual(w.state.calls, { listDomains: 2, listAccounts: 2 });
    assert.deepEqual(scope.judge(r3, 'a.example'), { status: 'skipped', reason: scope.judge(r3, 'a.example')!.reason, why: 'scope' });
    assert.match(scope.judge(r3, 'a.example')!.reason, /^No longer in your scope: .*Nothing was changed on it\.$/);
  });

  it('a reading still being answered is shared, however long it takes (a slow panel is not asked again meanwhile)', async () => {
    const w = world({ accounts, domains: { rita: ['a.example'] } });
    let answer: () => void = () => {};
    const slow = w.deps.panel.listDomains.bind(w.deps.panel);
    w.deps.panel.listDomains = (id) => new Promise((resolve) => (answer = () => resolve(slow(id))));
    const scope = new BulkScope(w.deps, rita, null);
    const first = scope.current();
    w.tick(3 * SCOPE_RECHECK_MS);
    assert.equal(scope.current(), first);
    answer();
    assert.equal(scope.judge(await first, 'a.example'), null);
    assert.equal(w.state.calls.listDomains, 1);
    assert.equal(scope.current(), first, 'just answered: its age counts from the answer, not from the question');
    w.tick(SCOPE_RECHECK_MS);
    assert.notEqual(scope.current(), first, 'answered, and older than SCOPE_RECHECK_MS: asked again');
  });

  it('before a domain is read: only what a reading of the last SCOPE_RECHECK_MS says, asking nothing', async () => {
    const w = world({ accounts, domains: { rita: ['b.example'] } });
    const scope = new BulkScope(w.deps, rita, null);
    assert.equal(scope.skipBefore('a.example'), null, 'nothing known yet: the domain is read, then asked');
    assert.equal(w.state.calls.listDomains, 0);
    await scope.current();
    assert.equal(scope.skipBefore('a.example')?.why, 'scope');
    assert.equal(scope.skipBefore('b.example'), null);
    w.tick(SCOPE_RECHECK_MS);
    assert.equal(scope.skipBefore('a.example'), null, 'an old reading decides nothing before the read');
    assert.equal(w.state.calls.listDomains, 1);
  });

  it('a failed reading is unconfirmed (nothing is written on it) and is not kept', async () => {
    const w = world({ accounts, domains: { rita: ['a.example'] } });
    const scope = new BulkScope(w.deps, rita, null);
    w.state.fail = 'WHM get_domain_info failed: timeout';
    const bad = await scope.current();
    const skip = scope.judge(bad, 'a.example')!;
    assert.equal(skip.why, 'unconfirmed');
    assert.match(skip.reason, /could not confirm .*\(WHM get_domain_info failed: timeout\)/);
    w.state.fail = null;
    assert.equal(scope.judge(await scope.current(), 'a.example'), null, 'asked again at once');
    assert.equal(w.state.calls.listDomains, 2);
  });

  it('the identity no longer a panel account: final — every domain after it is skipped without asking again', async () => {
    const w = world({ accounts, domains: { rita: ['a.example'] } });
    const scope = new BulkScope(w.deps, rita, null);
    w.state.accounts = accounts.filter((a) => a.user !== 'rita');
    const r = await scope.current();
    assert.equal(scope.judge(r, 'a.example')?.why, 'account');
    assert.match(scope.judge(r, 'a.example')!.reason, /your account is no longer on the panel/);
    w.state.accounts = accounts;
    w.tick(10 * SCOPE_RECHECK_MS);
    assert.equal(scope.skipBefore('z.example')?.why, 'account');
    assert.equal(scope.judge(await scope.current(), 'a.example')?.why, 'account');
    assert.equal(w.state.calls.listAccounts, 1, 'not asked again');
  });

  it('readScope: the account as the request layer knows it (role, and the login binding); an empty account list proves nothing; admins are not looked for', async () => {
    const w = world({ accounts, domains: { rita: ['a.example'], bob: ['d.example'], root: ['a.example', 'd.example'] } });
    const bob: Identity = { user: 'bob', role: 'customer' };
    assert.ok('names' in (await readScope(w.deps, bob, accountKey({ role: 'customer', owner: 'rita' }))));
    // bob moved to rex: his login was bound to the account under rita, which is not this one.
    w.state.accounts = [...accounts.filter((a) => a.user !== 'bob'), { user: 'rex', role: 'reseller' }, { user: 'bob', role: 'customer', owner: 'rex' }];
    assert.deepEqual(await readScope(w.deps, bob, accountKey({ role: 'customer', owner: 'rita' })), { gone: true });
    assert.ok('names' in (await readScope(w.deps, bob, null)), 'no binding (a front door): the name and role decide');
    assert.deepEqual(await readScope(w.deps, { user: 'bob', role: 'reseller' }, null), { gone: true }, 'another role is another account');
    w.state.accounts = [];
    assert.ok('names' in (await readScope(w.deps, rita, null)), 'a panel listing nobody is not every account removed');
    const before = w.state.calls.listAccounts;
    assert.ok('names' in (await readScope(w.deps, { user: 'admin', role: 'admin' }, null)), 'the admin token has no account of its own');
    assert.equal(w.state.calls.listAccounts, before);
  });
});
