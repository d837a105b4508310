// QA scale S3: space freed by prune stayed in the file for ever (auto_vacuum 0, no VACUUM) and nothing said so. Now
// `mailhealth prune` says how much of an older file is free and how to give it back; `prune --vacuum` gives it back
// (and switches the file to incremental auto-vacuum, so later prunes shrink it by themselves); a file created now
// shrinks with each prune that frees much of it.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import type { Finding } from '../../src/core/model.js';
import { openStore } from '../../src/adapters/store/store.js';
import { cli, NON_ROOT, sandbox } from './fixtures/run-cli.js';

const DAY = 86_400_000;

/** 40 nights of 30 domains, every result its own ~8 KB document (~10 MB), the newest night a day ago. */
function history(db: string): void {
  const start = Date.now() - 41 * DAY;
  const clock = { t: start };
  const store = openStore(db, { warn: () => {}, now: () => clock.t });
  for (let night = 0; night < 40; night++) {
    clock.t = start + night * DAY;
    const run = store.startRun('audit', 'root', 30);
    store.recordAudits(
      run,
      Array.from({ length: 30 }, (_, i) => {
        const domain = `d${i}.example`;
        const findings: Finding[] = Array.from({ length: 8 }, (_, k) => ({
          rule: `r${k}`,
          check: 'spf',
          severity: 'warn',
          message: `${domain} night ${night}: ${'y'.repeat(900)}`,
          evidence: { live: [`n${night}.${k}`] },
        }));
        return { audit: { domain, status: 'warn' as const, auditedAt: new Date(clock.t).toISOString(), findings }, owner: 'cust' };
      }),
    );
    store.finishRun(run, 'complete');
  }
  store.close();
}

/** As versions before schema 9 made the file: auto-vacuum off. */
function autoVacuumOff(db: string): void {
  const raw = new Database(db);
  raw.pragma('auto_vacuum = NONE');
  raw.exec('VACUUM');
  raw.close();
}

test('prune on an older file says how much is free and how to give it back; --vacuum gives it back and later prunes shrink the file', { timeout: 180_000 }, async (t) => {
  const s = sandbox(t, 'mh-prune-vacuum-');
  history(s.db);
  autoVacuumOff(s.db);

  const plain = await cli(['--panel-root', s.panel, '--db', s.db, 'prune', '--days', '10']);
  assert.equal(plain.code, 0, plain.stderr);
  const lines = plain.stdout.split('\n');
  assert.match(lines[0], /^pruned history older than 10 days: \{"runs":\d+,"results":960,/);
  assert.match(
    lines[1],
    /^the history database holds [0-9.]+ MB of free space \(\d+ % of its [0-9.]+ MB\): new history reuses it, but the file does not shrink by itself — `mailhealth prune --vacuum` gives it back \(it holds up other mailhealth processes' writes while it runs: best with the service stopped\)$/,
  );
  const size = statSync(s.db).size;

  const vacuum = await cli(['--panel-root', s.panel, '--db', s.db, 'prune', '--days', '10', '--vacuum', '--json']);
  assert.equal(vacuum.code, 0, vacuum.stderr);
  const out = JSON.parse(vacuum.stdout) as { days: number; results: number; vacuum: { beforeBytes: number; afterBytes: number; freeBytesBefore: number } };
  assert.equal(out.days, 10);
  assert.equal(out.results, 0, 'pruned already');
  assert.ok(out.vacuum.beforeBytes >= size - 65536 && out.vacuum.freeBytesBefore > out.vacuum.beforeBytes / 4, JSON.stringify(out.vacuum));
  assert.ok(out.vacuum.afterBytes < out.vacuum.beforeBytes / 2, JSON.stringify(out.vacuum));
  assert.match(vacuum.stderr, /^mailhealth: compacting the history database .*h\.sqlite \([0-9.]+ MB, [0-9.]+ MB of it free\): other mailhealth processes cannot write to it until this ends/m);
  assert.ok(statSync(s.db).size <= out.vacuum.afterBytes, 'the file on disk is that size');

  // Switched to incremental auto-vacuum: a prune that frees much of it now shrinks it, and says so.
  const raw = new Database(s.db, { readonly: true });
  assert.equal(raw.pragma('auto_vacuum', { simple: true }), 2);
  raw.close();
  const shrink = await cli(['--panel-root', s.panel, '--db', s.db, 'prune', '--days', '3']);
  assert.equal(shrink.code, 0, shrink.stderr);
  assert.match(shrink.stdout, /^pruned history older than 3 days: \{"runs":\d+,"results":\d+,/);
  assert.match(shrink.stdout, /\ngave [0-9.]+ MB back to the file system: the history database is now [0-9.]+ [kM]B\n$/);

  // Text of --vacuum, on a file with nothing to give back.
  const again = await cli(['--panel-root', s.panel, '--db', s.db, 'prune', '--vacuum']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /\ncompacted the history database: [0-9.]+ [kM]B → [0-9.]+ [kM]B \([0-9.]+ (k?B|bytes) given back to the file system\); from now on each prune gives back the space it frees\n$/);
});

test('a new file (incremental auto-vacuum) gives space back without --vacuum; no hint when nothing much is free', { timeout: 180_000 }, async (t) => {
  const s = sandbox(t, 'mh-prune-vacuum-new-');
  history(s.db);
  const r = await cli(['--panel-root', s.panel, '--db', s.db, 'prune', '--days', '3']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^pruned history older than 3 days: .*\ngave [0-9.]+ MB back to the file system: the history database is now [0-9.]+ [kM]B\n$/);
  const quiet = await cli(['--panel-root', s.panel, '--db', s.db, 'prune', '--days', '3']);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.match(quiet.stdout, /^pruned history older than 3 days: \{[^\n]*\}\n$/, 'nothing pruned, nothing to say about space');

  // No database at the default path (a fresh install): nothing pruned, nothing compacted, nothing created.
  const home = `${s.dir}/home`;
  const fresh = await cli(['prune', '--vacuum', '--json'], { env: { HOME: home }, preload: [NON_ROOT] });
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.deepEqual(JSON.parse(fresh.stdout), { days: 90, runs: 0, results: 0, findings: 0, reports: 0, jobs: 0, locks: 0, vacuum: null });
});
