// `history` shows the identity's own changes, however many newer changes other accounts' domains have.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/adapters/store/store.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { CLI_ARGV } from '../helpers/cli-argv.js';

test("history --limit N: a customer's changes are not hidden behind other customers' newer ones", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-history-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(REPO_ROOT, 'src/demo/panel'), join(dir, 'panel'), { recursive: true });
  const db = join(dir, 'h.sqlite');
  const store = openStore(db);
  const change = (domain: string, byUser: string) => {
    const id = store.recordIntent({ domain, check: 'spf', planHash: `sha256:${'0'.repeat(64)}`, zoneVersion: null, changes: [], byUser });
    store.recordOutcome(id, { status: 'applied', verified: 'yes' });
    return id;
  };
  const alices = [change('bakery.example', 'alice'), change('florist.example', 'alice')];
  for (let i = 0; i < 12; i++) change(i % 2 ? 'plumber.example' : 'lawyer.example', 'rita'); // bob's and carol's, newer
  store.close();
  const history = (...args: string[]) => {
    const r = spawnSync(process.execPath, [...CLI_ARGV, '--panel-root', join(dir, 'panel'), '--db', db, ...args, '--json'], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, MAILHEALTH_DB: '' } });
    assert.equal(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout) as { changes: { id: number; domain: string }[] }).changes;
  };
  assert.deepEqual(history('--as', 'alice', 'history', '--limit', '1').map((c) => c.id), [alices[1]]);
  assert.deepEqual(history('--as', 'alice', 'history', '--limit', '5').map((c) => c.id), [alices[1], alices[0]]);
  assert.deepEqual(history('--as', 'alice', 'history', 'bakery.example', '--limit', '1').map((c) => c.id), [alices[0]]);
  const bobs = history('--as', 'bob', 'history', '--limit', '3');
  assert.equal(bobs.length, 3);
  assert.ok(bobs.every((c) => c.domain === 'plumber.example'));
});

// Found by QA: the text output never showed a change's note ("written late: …", an undo's conflict, a failure's
// reason) — only `--json` had it.
test('history (text) prints each change\'s note under it, made safe for the terminal', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-history-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(REPO_ROOT, 'src/demo/panel'), join(dir, 'panel'), { recursive: true });
  const db = join(dir, 'h.sqlite');
  const store = openStore(db);
  const id = store.recordIntent({ domain: 'bakery.example', check: 'spf', planHash: `sha256:${'0'.repeat(64)}`, zoneVersion: null, changes: [], byUser: 'root' });
  store.recordOutcome(id, { status: 'applied', verified: 'yes', error: 'written late: the zone holds this change \u001b[31mred' });
  store.close();
  const r = spawnSync(process.execPath, [...CLI_ARGV, '--panel-root', join(dir, 'panel'), '--db', db, 'history'], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, MAILHEALTH_DB: '' } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`#${id} .*applied \\(yes\\) by root\\n {8}written late: the zone holds this change`));
  assert.doesNotMatch(r.stdout, /\u001b/, 'no terminal escape sequence passes');
});
