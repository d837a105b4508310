// sweepGoneAccounts (session.ts) and passwords stored WITHOUT their account binding — `mailhealth demo`'s, and those
// set by versions before the binding and never used to log in since. The sweep found users only through their binding
// settings, so such a password of a user the panel no longer lists was never swept: a new account given that name
// later logged in with the old password. It now takes every user with a password (Store.passwordUsers), under the
// same rules: only a panel answer that proves absence drops anything, and a password changed while the panel was read
// is left for the next sweep.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { hashPassword } from '../../src/web/passwords.js';
import { accountKey, PASSWORD_ACCOUNT_SETTING, REVOKED_BEFORE_SETTING, sweepGoneAccounts } from '../../src/web/session.js';
import { accountWorld } from './account-world.js';
import { PASSWORD } from './helpers.js';

/** The demo panel (a copy: root, rita, alice, bob, carol) and a store, on a fake clock. */
async function world(t: TestContext) {
  const { panel, store, clock, edit, attempt } = await accountWorld(t);
  const hash = await hashPassword(PASSWORD);
  const sweep = (list: () => Promise<unknown> = () => panel.listAccounts()) => sweepGoneAccounts(store, list, () => clock.t);
  const loginState = (user: string) => [store.getPasswordHash(user), store.getSetting(PASSWORD_ACCOUNT_SETTING(user)) ?? null, store.getSetting(REVOKED_BEFORE_SETTING(user)) ?? null];
  return { panel, store, clock, edit, hash, sweep, attempt, loginState };
}

test('an unbound password of a user the panel does not list is swept: a new account given the name does not log in with it', async (t) => {
  const { store, clock, edit, hash, sweep, attempt } = await world(t);
  // dave had a password before the binding existed and never logged in since; his account was removed meanwhile.
  store.setPasswordHash('dave', hash);
  store.setPasswordHash('alice', hash); // unbound too, of a listed account: bound, as before
  assert.deepEqual(await sweep(), { forgotten: ['dave'], bound: ['alice'] });
  assert.equal(store.getPasswordHash('dave'), null);
  assert.equal(store.getSetting(PASSWORD_ACCOUNT_SETTING('dave')), undefined);
  assert.equal(store.getSetting(REVOKED_BEFORE_SETTING('dave')), clock.t + 1, 'whatever session he had ends too');
  assert.equal(store.getSetting(PASSWORD_ACCOUNT_SETTING('alice')), accountKey({ role: 'customer' }));
  assert.notEqual(store.getPasswordHash('alice'), null);
  assert.deepEqual(await sweep(), { forgotten: [], bound: [] }, 'nothing more to do the next time');
  edit((a) => [...a, { user: 'dave', role: 'customer', owner: 'rita' }]); // a new customer given the name
  assert.equal((await attempt('dave', PASSWORD)).status, 401, 'the old password does not log in as the new dave');
  assert.equal((await attempt('alice', PASSWORD)).status, 303);
});

test("serve's later sweeps take unbound passwords too: one written after the first sweep is swept", async (t) => {
  const { store, hash, sweep } = await world(t);
  store.setPasswordHash('bob', hash);
  store.setSetting(PASSWORD_ACCOUNT_SETTING('bob'), accountKey({ role: 'customer', owner: 'rita' }));
  assert.deepEqual(await sweep(), { forgotten: [], bound: [] });
  // Then `mailhealth demo` (or an older version) writes unbound passwords into the same database.
  store.setPasswordHash('dave', hash);
  store.setPasswordHash('carol', hash);
  assert.deepEqual(await sweep(), { forgotten: ['dave'], bound: ['carol'] });
  assert.equal(store.getPasswordHash('dave'), null);
  assert.equal(store.getSetting(PASSWORD_ACCOUNT_SETTING('carol')), accountKey({ role: 'customer', owner: 'rita' }));
});

test('an unbound password is dropped only on a panel answer that proves absence', async (t) => {
  const { store, hash, sweep, loginState } = await world(t);
  store.setPasswordHash('dave', hash);
  const before = JSON.stringify([loginState('dave'), store.allSettings()]);
  for (const odd of [[], null, {}, [{ user: 'root' }], [{ user: '', role: 'admin' }]]) {
    assert.ok('skipped' in (await sweep(async () => odd)), JSON.stringify(odd));
  }
  assert.ok('skipped' in (await sweep(() => Promise.reject(new Error('WHM listaccts failed: timeout')))));
  assert.equal(JSON.stringify([loginState('dave'), store.allSettings()]), before, 'nothing changed');
  assert.deepEqual(await sweep(async () => [{ user: 'root', role: 'admin' }]), { forgotten: ['dave'], bound: [] });
});

test('an unbound password changed, or first set, while the panel was read is left for the next sweep', async (t) => {
  const { store, hash, sweep } = await world(t);
  store.setPasswordHash('dave', hash);
  const stale = [{ user: 'root', role: 'admin' }, { user: 'rita', role: 'reseller' }];
  // While the (slow) panel read is out: dave's account is created again and given a password, and erin's too.
  const out = await sweep(async () => {
    store.setPasswordHash('dave', `${hash}x`);
    store.setPasswordHash('erin', hash);
    return stale;
  });
  assert.deepEqual(out, { forgotten: [], bound: [] });
  assert.equal(store.getPasswordHash('dave'), `${hash}x`, 'the list may predate the new account');
  assert.equal(store.getPasswordHash('erin'), hash);
  // The next sweep, with a list that has them, binds them; one that still has not, forgets.
  assert.deepEqual(await sweep(async () => [...stale, { user: 'dave', role: 'customer', owner: 'rita' }]), { forgotten: ['erin'], bound: ['dave'] });
});

test('no password and no binding stored: the panel is not asked', async (t) => {
  const { sweep } = await world(t);
  let asked = 0;
  const list = async () => (asked++, [{ user: 'root', role: 'admin' }]);
  assert.deepEqual(await sweep(list), { forgotten: [], bound: [] });
  assert.deepEqual(await sweep(list), { forgotten: [], bound: [] });
  assert.equal(asked, 0);
});
