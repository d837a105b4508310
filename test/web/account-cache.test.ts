// The app's 10 s account-list cache, filled while an account name was absent, made the FIRST request after a new
// account of that name logged in forget its password, revoke its sessions and disown its jobs (the login itself read
// the fresh list and let it in). A miss in the cached list is now read again before anything is concluded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { accountKey, PASSWORD_ACCOUNT_SETTING } from '../../src/web/session.js';
import { hashPassword } from '../../src/web/passwords.js';
import { jobAccount } from '../../src/web/jobs.js';
import { csrfFrom, PASSWORD } from './helpers.js';
import { accountWorld } from './account-world.js';

test('a new account that logs in while the cached list predates it keeps its password and jobs', async (t) => {
  const { app, store, edit } = await accountWorld(t, { advanceOnEdit: false });
  const hash = await hashPassword(PASSWORD);
  store.setPasswordHash('alice', hash);
  store.setSetting(PASSWORD_ACCOUNT_SETTING('alice'), accountKey({ role: 'customer' }));
  // alice is logged in; bob does not exist yet (removed earlier, or never): the cache is filled without him.
  edit((a) => a.filter((x) => x.user !== 'bob'));
  const al = request.agent(app);
  const p = await al.get('/login');
  await al.post('/login').type('form').send({ _csrf: csrfFrom(p.text), user: 'alice', password: PASSWORD }).expect(303);
  await al.get('/domains').expect(200); // fills the 10 s account cache (no bob)
  // The admin creates bob and `mailhealth user set-password bob` (within the same 10 s).
  edit((a) => [...a, { user: 'bob', role: 'customer', owner: 'rita', domains: ['plumber.example'] }]);
  store.setPasswordHash('bob', hash);
  store.setSetting(PASSWORD_ACCOUNT_SETTING('bob'), accountKey({ role: 'customer', owner: 'rita' }));
  const bob = request.agent(app);
  const page = await bob.get('/login');
  await bob.post('/login').type('form').send({ _csrf: csrfFrom(page.text), user: 'bob', password: PASSWORD }).expect(303);
  const job = store.createJob({ kind: 'bulk-audit', byUser: 'bob', byAccount: jobAccount(store, 'bob'), total: 0 });
  const next = await bob.get('/domains');
  assert.notEqual(store.getPasswordHash('bob'), null, 'the new bob\'s password was forgotten by his first request');
  assert.equal(store.getJob(job)!.byAccount, jobAccount(store, 'bob'), 'his job was disowned');
  assert.equal(next.status, 200);
});
