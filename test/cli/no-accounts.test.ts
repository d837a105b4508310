// A panel that lists no accounts was reported as "several accounts and no admin: say which one with --as USER" (kind
// usage): nothing --as could fix. It is a panel problem (its configuration or credentials): kind "panel", code
// "other", exit 2, saying what to check — with or without --as.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, errorOf, sandbox } from './fixtures/run-cli.js';

test('a panel with no accounts: kind "panel" (exit 2) saying the panel lists none, not "say which one with --as"', { timeout: 90_000 }, async (t) => {
  const s = sandbox(t, 'mh-no-accounts-');
  const file = join(s.panel, 'panel.json');
  writeFileSync(file, JSON.stringify({ ...(JSON.parse(readFileSync(file, 'utf8')) as object), accounts: [] }));
  const base = ['--panel-root', s.panel, '--resolver', '127.0.0.1:9', '--db', s.db];
  const expected = {
    kind: 'panel',
    code: 'other',
    message: "the files panel lists no accounts (not even an admin): check the accounts in the panel's panel.json (--panel-root)",
  };
  for (const args of [['audit', '--all'], ['audit', 'bakery.example'], ['fix', 'bakery.example', '--check', 'spf'], ['history'], ['--as', 'alice', 'audit', '--all']]) {
    const r = await cli([...base, ...args, '--json']);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.deepEqual(errorOf(r.stdout), expected, args.join(' '));
    assert.doesNotMatch(r.stderr, /--as USER|no such account/);
  }
  const text = await cli([...base, 'audit', '--all']);
  assert.equal(text.code, 2, text.stderr);
  assert.equal(text.stderr, `mailhealth: panel error (other): ${expected.message}\n`);
  assert.ok(!existsSync(s.db), 'no database created');

  // Several accounts and no admin is still the usage error that asks for --as.
  writeFileSync(file, JSON.stringify({ ...(JSON.parse(readFileSync(file, 'utf8')) as object), accounts: [{ user: 'alice', role: 'customer' }, { user: 'bob', role: 'customer' }] }));
  const several = await cli([...base, 'audit', '--all', '--json']);
  assert.equal(several.code, 2, several.stderr);
  assert.deepEqual(errorOf(several.stdout), { kind: 'usage', message: 'several accounts and no admin: say which one with --as USER' });
});
