// `mailhealth prune`: deletes audit history older than the retention, keeps each domain's latest audit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/adapters/store/store.js';
import { REPO_ROOT } from '../helpers/corpora.js';

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
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', '--panel-root', join(dir, 'panel'), '--db', db, 'prune', '--days', '30', '--json'], { cwd: REPO_ROOT, encoding: 'utf8' });
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
