// `mailhealth prune`: deletes audit history older than the retention, keeps each domain's latest audit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/adapters/store/store.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { cli, errorOf, escapeRe, NON_ROOT, sandbox } from './fixtures/run-cli.js';
import { CLI_ARGV } from '../helpers/cli-argv.js';

test('prune removes old runs but never the last audit of a domain', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-prune-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(REPO_ROOT, 'src/demo/panel'), join(dir, 'panel'), { recursive: true });
  const db = join(dir, 'h.sqlite');
  const DAY = 86_400_000;
  const old = Date.now() - 200 * DAY;
  let clock = old;
  const store = openStore(db, { now: () => clock });
  for (const [i, when] of [old, old + DAY].entries()) {
    clock = when;
    const run = store.startRun('audit', 'root', 2);
    for (const domain of i === 0 ? ['bakery.example', 'clean.example'] : ['bakery.example']) {
      store.recordAudit(run, { domain, status: 'pass', auditedAt: new Date(when).toISOString(), findings: [] }, 'alice');
    }
    store.finishRun(run, 'complete');
  }
  store.close();
  const r = spawnSync(process.execPath, [...CLI_ARGV, '--panel-root', join(dir, 'panel'), '--db', db, 'prune', '--days', '30', '--json'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.days, 30);
  assert.ok(out.results >= 1, 'the older bakery.example audit is pruned');
  const after = openStore(db);
  t.after(() => after.close());
  assert.ok(after.latestAudit('bakery.example'), 'latest audit of bakery.example kept');
  assert.ok(after.latestAudit('clean.example'), 'the only audit of clean.example kept although it is old');
  assert.equal(after.auditsForDomain('bakery.example', 10).length, 1);
});

// `prune` opened (so created) the database wherever --db pointed and answered "nothing pruned" (exit 0): a typo looked
// like an empty history and left a new database behind. Now as `history` and `undo`: at a path the user named (--db,
// MAILHEALTH_DB) a usage error and nothing is created; at the default path (a fresh install) nothing to prune, exit 0,
// nothing created.
test('prune with a --db or MAILHEALTH_DB path that does not exist: exit 2 "no history database at PATH", nothing created', { timeout: 90_000 }, async (t) => {
  const s = sandbox(t, 'mh-prune-nodb-');
  const missingDir = join(s.dir, 'typo-dir');
  const db = join(missingDir, 'mailhealth.sqlit');
  const json = await cli(['--panel-root', s.panel, '--db', db, 'prune', '--json']);
  assert.equal(json.code, 2, json.stderr);
  const e = errorOf(json.stdout);
  assert.equal(e.kind, 'usage');
  assert.equal(e.message, `no history database at ${db} (nothing has been recorded there; none was created)`);
  const text = await cli(['--db', s.db, 'prune', '--days', '30']);
  assert.equal(text.code, 2, text.stderr);
  assert.match(text.stderr, new RegExp(`^mailhealth: no history database at ${escapeRe(s.db)} `));
  assert.equal(text.stdout, '');
  const env = await cli(['prune'], { env: { MAILHEALTH_DB: s.db } });
  assert.equal(env.code, 2, env.stderr);
  assert.match(env.stderr, /no history database at /);
  assert.ok(!existsSync(missingDir), 'neither the directory nor a database is created');
  assert.ok(!existsSync(s.db), 'no database created');
});

test('prune at the default path on a fresh install: nothing to prune (exit 0), nothing created', { timeout: 90_000 }, async (t) => {
  const s = sandbox(t, 'mh-prune-fresh-');
  const home = join(s.dir, 'home');
  const run = (args: string[]) => cli(args, { env: { HOME: home }, preload: [NON_ROOT] });
  const json = await run(['prune', '--json']);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), { days: 90, runs: 0, results: 0, findings: 0, reports: 0, jobs: 0, locks: 0 });
  const days = await run(['prune', '--days', '7', '--json']);
  assert.equal(days.code, 0, days.stderr);
  assert.equal(JSON.parse(days.stdout).days, 7);
  const text = await run(['prune']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^Nothing to prune: nothing has been recorded on this server yet \(no history database at .*home\/\.local\/share\/mailhealth\/mailhealth\.sqlite\)\.\n$/);
  assert.ok(!existsSync(join(home, '.local')), 'no directory or database created');
});

// The config file was never read by prune: `--config bad.json prune` pruned and exited 0. It is checked first, as by
// every other command (a usage error, exit 2), before the database is opened — an existing one is left as it was.
test('prune with a --config file that is not valid JSON: exit 2, before the database is opened', { timeout: 90_000 }, async (t) => {
  const s = sandbox(t, 'mh-prune-config-');
  const bad = join(s.dir, 'bad.json');
  writeFileSync(bad, '{bad json');
  const store = openStore(s.db);
  const run = store.startRun('audit', 'root', 0);
  store.finishRun(run, 'complete');
  store.close();
  const r = await cli(['--config', bad, '--db', s.db, 'prune', '--days', '1', '--json']);
  assert.equal(r.code, 2, r.stderr);
  const e = errorOf(r.stdout);
  assert.equal(e.kind, 'usage');
  assert.match(e.message, /config file .*bad\.json is not valid JSON/);
  // With the database missing too, the config is still what is reported (it is checked first).
  const both = await cli(['--config', bad, '--db', join(s.dir, 'none.sqlite'), 'prune']);
  assert.equal(both.code, 2, both.stderr);
  assert.match(both.stderr, /not valid JSON/);
  // A good config file: prune runs.
  const good = join(s.dir, 'config.json');
  writeFileSync(good, JSON.stringify({ panel: 'files', panelRoot: s.panel }));
  const ok = await cli(['--config', good, '--db', s.db, 'prune', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).days, 90);
});
