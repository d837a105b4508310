// Store.passwordUsers: every user with a standalone password, bound to an account or not — what `serve`'s account
// sweep (session.ts sweepGoneAccounts) compares with the panel's list.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../../src/adapters/store/store.js';

test('passwordUsers lists the users with a password, in name order, and follows sets and deletes', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-password-users-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = openStore(join(dir, 'h.sqlite'));
  t.after(() => store.close());
  assert.deepEqual(store.passwordUsers(), []);
  store.setPasswordHash('rita', 'scrypt$a');
  store.setPasswordHash('alice', 'scrypt$b');
  store.setPasswordHash('bob', 'scrypt$c');
  store.setPasswordHash('alice', 'scrypt$d'); // a new password: still one alice
  store.setSetting('web.passwordAccount.carol', '["customer",null]'); // a binding alone is no password
  assert.deepEqual(store.passwordUsers(), ['alice', 'bob', 'rita']);
  store.deletePasswordHash('bob');
  assert.deepEqual(store.passwordUsers(), ['alice', 'rita']);
});
