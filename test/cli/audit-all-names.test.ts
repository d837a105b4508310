// `audit --all nosuch.example bad..name` audited every domain and dropped the names without a word (invalid ones
// included), where without --all those names are a usage error. Both together are a usage error (exit 2) before the
// panel is asked anything or a database is created.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cli, errorOf, sandbox } from './fixtures/run-cli.js';

const MESSAGE = '--all audits every domain in scope; name domains or give --all, not both';

test('audit --all with domain names: exit 2, nothing audited, no database created', { timeout: 90_000 }, async (t) => {
  const s = sandbox(t, 'mh-audit-all-');
  const base = ['--panel-root', s.panel, '--resolver', '127.0.0.1:9', '--db', s.db];
  for (const names of [['nosuch.example', 'bad..name'], ['bakery.example']]) {
    const json = await cli([...base, 'audit', '--all', ...names, '--json']);
    assert.equal(json.code, 2, json.stderr);
    assert.deepEqual(errorOf(json.stdout), { kind: 'usage', message: MESSAGE });
    const text = await cli([...base, 'audit', ...names, '--all', '--no-history']);
    assert.equal(text.code, 2, text.stderr);
    assert.equal(text.stderr, `mailhealth: ${MESSAGE}\n`);
    assert.equal(text.stdout, '');
  }
  assert.ok(!existsSync(s.db), 'no database created');
  // Each alone is as before: a name that is not a domain is refused; --all alone is accepted (checked with a panel
  // that cannot be read, so that nothing is audited: the error is the panel's, not the usage error above).
  const bad = await cli([...base, 'audit', 'bad..name', '--json']);
  assert.equal(bad.code, 2, bad.stderr);
  assert.notEqual(errorOf(bad.stdout).message, MESSAGE);
  const all = await cli(['--panel-root', s.dir + '/no-panel', '--db', s.db, 'audit', '--all', '--json']);
  assert.equal(all.code, 2, all.stderr);
  assert.notEqual(errorOf(all.stdout).message, MESSAGE);
});
