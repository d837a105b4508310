// sweepGoneAccounts (session.ts), which `serve` runs at start and every minute: the web logins of accounts the panel no
// longer lists are dropped without anyone having to try them — so a new account given the name later (same role and
// owner) starts with neither password nor sessions. A panel read that fails, an empty list and a malformed one change
// nothing.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { GONE_ACCOUNT } from '../../src/adapters/store/store.js';
import { jobAccount } from '../../src/web/jobs.js';
import { hashPassword } from '../../src/web/passwords.js';
import { accountKey, DEVICE_COOKIE, PASSWORD_ACCOUNT_SETTING, REVOKED_BEFORE_SETTING, sweepGoneAccounts } from '../../src/web/session.js';
import { accountWorld, cookieOf, type Account } from './account-world.js';
import { login, NO_LIMITS, PASSWORD } from './helpers.js';

const LIMITS = { ...NO_LIMITS, loginUser: { capacity: 2, perMinute: 0 } };

async function world(t: TestContext) {
  const { app, store, clock, edit, cfgPath, panel, attempt } = await accountWorld(t, { limits: LIMITS });
  const hash = await hashPassword(PASSWORD);
  /** A password as `user set-password` stores it: bound to the account. */
  const setPassword = (user: string, account: { role: string; owner?: string }) => {
    store.setPasswordHash(user, hash);
    store.setSetting(PASSWORD_ACCOUNT_SETTING(user), accountKey(account));
  };
  const sweep = (list: () => Promise<unknown> = () => panel.listAccounts()) => sweepGoneAccounts(store, list, () => clock.t);
  return { app, store, clock, edit, cfgPath, setPassword, sweep, attempt, hash };
}

test('bob removed and nobody tries him: the sweep drops his login, so the new bob of the same reseller starts with none', async (t) => {
  const { app, store, clock, edit, setPassword, sweep, attempt } = await world(t);
  setPassword('bob', { role: 'customer', owner: 'rita' });
  setPassword('alice', { role: 'customer' });
  const bob = await login(app, 'bob');
  // A job of his (web/jobs.ts: it belongs to his account), to see it disowned with his login.
  const job = store.createJob({ kind: 'bulk-audit', byUser: 'bob', byAccount: jobAccount(store, 'bob'), total: 0 });
  const first = await attempt('bob', PASSWORD);
  const device = cookieOf(first, DEVICE_COOKIE)!;
  let removed: Account | undefined;
  edit((a) => {
    removed = a.find((x) => x.user === 'bob');
    return a.filter((x) => x.user !== 'bob');
  });
  assert.deepEqual(await sweep(), { forgotten: ['bob'], bound: [] });
  assert.equal(store.getPasswordHash('bob'), null);
  assert.equal(store.getSetting(PASSWORD_ACCOUNT_SETTING('bob')), undefined);
  assert.equal(store.getSetting(REVOKED_BEFORE_SETTING('bob')), clock.t + 1);
  assert.equal(store.getJob(job)!.byAccount, GONE_ACCOUNT, "his jobs are nobody's: the new bob (same role and owner) does not see them");
  assert.notEqual(store.getPasswordHash('alice'), null, 'listed accounts keep theirs');
  assert.deepEqual(await sweep(), { forgotten: [], bound: [] }, 'nothing more to do the next time');
  edit((a) => [...a, removed!]); // the new bob: same name, role and owner
  assert.equal((await attempt('bob', PASSWORD)).status, 401, 'the old password does not log in as the new bob');
  assert.equal((await bob.agent.get('/api/domains')).status, 401, 'the old session does not either');
  await attempt('bob', 'guess');
  assert.equal((await attempt('bob', PASSWORD, device)).status, 429, 'the old device cookie does not lift the per-user limit');
  assert.equal((await attempt('alice', PASSWORD)).status, 303);
});

test('a panel read that fails, an empty list or a malformed one changes nothing', async (t) => {
  const { store, edit, cfgPath, setPassword, sweep } = await world(t);
  setPassword('bob', { role: 'customer', owner: 'rita' });
  setPassword('alice', { role: 'customer' });
  const before = JSON.stringify([store.allSettings(), store.getPasswordHash('bob'), store.getPasswordHash('alice')]);
  const unchanged = () => assert.equal(JSON.stringify([store.allSettings(), store.getPasswordHash('bob'), store.getPasswordHash('alice')]), before);
  const good = readFileSync(cfgPath, 'utf8');
  // A panel.json cut short while being written: the files panel's read fails.
  writeFileSync(cfgPath, good.slice(0, 40));
  assert.match(JSON.stringify(await sweep()), /"skipped":"the panel's account list could not be read \(files panel: panel.json is not valid JSON/);
  unchanged();
  // One that lists nobody.
  writeFileSync(cfgPath, good);
  edit(() => []);
  assert.deepEqual(await sweep(), { skipped: 'the panel listed no accounts' });
  unchanged();
  // Answers that are not an account list.
  for (const odd of [null, {}, 'root', [{ user: 'root' }], [{ user: '', role: 'admin' }], [{ user: 'root', role: 'admin' }, { role: 'customer' }]]) {
    assert.deepEqual(await sweep(async () => odd), { skipped: "the panel's account list was not of the expected shape" }, JSON.stringify(odd));
  }
  assert.deepEqual(await sweep(() => Promise.reject(new Error('WHM listaccts failed: timeout'))), { skipped: "the panel's account list could not be read (WHM listaccts failed: timeout)" });
  unchanged();
});

test('an unbound password (the demo, versions before the binding) is bound to its listed account, then swept when it goes', async (t) => {
  const { store, edit, sweep, hash } = await world(t);
  store.setPasswordHash('bob', hash);
  store.setPasswordHash('ghost', hash); // an account the panel does not list: swept all the same (Store.passwordUsers)
  assert.deepEqual(await sweep(), { forgotten: ['ghost'], bound: ['bob'] });
  assert.equal(store.getSetting(PASSWORD_ACCOUNT_SETTING('bob')), accountKey({ role: 'customer', owner: 'rita' }));
  edit((a) => a.filter((x) => x.user !== 'bob'));
  assert.deepEqual(await sweep(), { forgotten: ['bob'], bound: [] });
  assert.equal(store.getPasswordHash('bob'), null);
});

test('every sweep takes unbound passwords, and with no login stored the panel is not asked', async (t) => {
  const { store, hash } = await world(t);
  let asked = 0;
  const list = async () => (asked++, [{ user: 'bob', role: 'customer', owner: 'rita' }]);
  assert.deepEqual(await sweepGoneAccounts(store, list, () => 0), { forgotten: [], bound: [] });
  assert.equal(asked, 0);
  store.setPasswordHash('bob', hash);
  assert.deepEqual(await sweepGoneAccounts(store, list, () => 0), { forgotten: [], bound: ['bob'] });
  assert.equal(asked, 1);
});

test('a password set while the panel was being read (the account just created again) is not swept', async (t) => {
  const { store, edit, setPassword, sweep, hash } = await world(t);
  setPassword('bob', { role: 'customer', owner: 'rita' });
  edit((a) => a.filter((x) => x.user !== 'bob'));
  const stale = [{ user: 'root', role: 'admin' }, { user: 'rita', role: 'reseller' }];
  // While the (slow) panel read is out, the admin creates bob again and runs `user set-password bob`.
  const out = await sweep(async () => {
    store.setPasswordHash('bob', `${hash}x`);
    store.setSetting(REVOKED_BEFORE_SETTING('bob'), 1);
    return stale;
  });
  assert.deepEqual(out, { forgotten: [], bound: [] });
  assert.equal(store.getPasswordHash('bob'), `${hash}x`, "the new password stays: the list may predate the new account");
});

test('the account moved to another reseller: its old password is swept', async (t) => {
  const { store, edit, setPassword, sweep } = await world(t);
  setPassword('bob', { role: 'customer', owner: 'rita' });
  edit((a) => a.map((x) => (x.user === 'bob' ? { ...x, owner: 'root' } : x)));
  assert.deepEqual(await sweep(), { forgotten: ['bob'], bound: [] });
  assert.equal(store.getPasswordHash('bob'), null);
});
