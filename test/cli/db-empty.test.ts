// `--db ""` (a script's `--db "$UNSET"`) fell back to MAILHEALTH_DB or the default database: `history` showed the
// system's history, `audit` and `fix --apply` wrote to it. It is a usage error before anything starts (exit 2), as an
// empty --config is; the database MAILHEALTH_DB names, or the default one, is neither read nor created.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../src/adapters/store/store.js';
import { cli, errorOf, NON_ROOT, sandbox } from './fixtures/run-cli.js';

const MESSAGE = '--db needs the path of a history database (got an empty one)';

test('--db "": exit 2 for every command, the database MAILHEALTH_DB names untouched', { timeout: 120_000 }, async (t) => {
  const s = sandbox(t, 'mh-db-empty-');
  // MAILHEALTH_DB names a database with one audit in it: `--db ""` must not read it (nor write it).
  const store = openStore(s.db);
  const run = store.startRun('audit', 'root', 1);
  store.recordAudit(run, { domain: 'bakery.example', status: 'pass', auditedAt: new Date().toISOString(), findings: [] }, 'root');
  store.finishRun(run, 'complete');
  store.close();
  const before = statSync(s.db).mtimeMs;
  const env = { MAILHEALTH_DB: s.db };
  const base = ['--panel-root', s.panel, '--resolver', '127.0.0.1:9'];

  const history = await cli([...base, '--db', '', 'history', '--json'], { env });
  assert.equal(history.code, 2, history.stderr);
  assert.deepEqual(errorOf(history.stdout), { kind: 'usage', message: MESSAGE });
  assert.equal(history.stderr, `mailhealth: ${MESSAGE}\n`);

  for (const args of [
    ['audit', 'bakery.example', '--json'],
    ['fix', 'bakery.example', '--check', 'spf', '--apply', '--json'],
    ['undo', '1', '--json'],
    ['prune', '--json'],
    ['report', '--json'],
  ]) {
    const r = await cli([...base, '--db', '', ...args], { env });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.deepEqual(errorOf(r.stdout), { kind: 'usage', message: MESSAGE }, args.join(' '));
  }
  // Also as `--db=` and after the command name.
  const eq = await cli([...base, 'history', '--db=', '--json'], { env });
  assert.equal(eq.code, 2, eq.stderr);
  assert.equal(errorOf(eq.stdout).message, MESSAGE);
  assert.equal(statSync(s.db).mtimeMs, before, 'the database MAILHEALTH_DB names is not written');

  // Without MAILHEALTH_DB: the default database (here under a scratch HOME) is not created either.
  const home = join(s.dir, 'home');
  const audit = await cli([...base, '--db', '', 'audit', 'bakery.example'], { env: { HOME: home }, preload: [NON_ROOT] });
  assert.equal(audit.code, 2, audit.stderr);
  assert.match(audit.stderr, /--db needs the path of a history database/);
  assert.ok(!existsSync(join(home, '.local')), 'no default database created');

  // A real path still works.
  const ok = await cli([...base, '--db', s.db, 'history', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).audits.length, 1);
});
