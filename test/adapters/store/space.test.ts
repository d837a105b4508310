// QA scale S3: space freed by prune was never given back to the file system (auto_vacuum 0, no VACUUM): lowering the
// retention from 365 to 14 days left a 1.75 GB file 84 % free pages. A file created now is in incremental auto-vacuum
// mode and prune gives back free pages above a quarter of it; an older file keeps them until `vacuum`
// (`mailhealth prune --vacuum`), which checks the space it needs first and switches the file to incremental mode.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { Finding } from '../../../src/core/model.js';
import { sqliteTempDir, vacuumNeed } from '../../../src/adapters/store/space.js';
import { openStore, PRUNE_TUNING, StoreError, type Store, type StoreOptions } from '../../../src/adapters/store/store.js';

const root = mkdtempSync(join(tmpdir(), 'mailhealth-space-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshPath = () => {
  const dir = join(root, `case-${++n}`);
  mkdirSync(dir, { recursive: true });
  return join(dir, 'mailhealth.sqlite');
};
const DAY = 86_400_000;
const T0 = Date.parse('2025-03-01T03:00:00.000Z');
const NIGHTS = 30;
const NOW = T0 + (NIGHTS - 1) * DAY + 3_600_000;

/** Findings that differ every night (so every night stores its documents): ~4 KB each. */
const findings = (domain: string, night: number): Finding[] =>
  Array.from({ length: 8 }, (_, i) => ({
    rule: `r${i}`,
    check: 'spf' as const,
    severity: 'warn' as const,
    message: `${domain} night ${night}: ${'x'.repeat(300)}`,
    evidence: { live: [`"v=spf1 include:n${night}-${i}.example ~all"`] },
  }));

/** NIGHTS nights of 20 domains, each result its own document (~2.5 MB), and NOW on the clock. */
function history(path: string, options: StoreOptions = {}, nights = NIGHTS): Store {
  const clock = { t: T0 };
  const store = openStore(path, { warn: () => {}, ...options, now: () => clock.t });
  for (let night = NIGHTS - nights; night < NIGHTS; night++) {
    clock.t = T0 + night * DAY;
    const run = store.startRun('audit', 'root', 20);
    store.recordAudits(
      run,
      Array.from({ length: 20 }, (_, i) => ({ audit: { domain: `d${i}.example`, status: 'warn' as const, auditedAt: new Date(clock.t).toISOString(), findings: findings(`d${i}.example`, night) } })),
    );
    store.finishRun(run, 'complete');
  }
  clock.t = NOW;
  return store;
}

/** A file as versions before schema 9 made it: auto-vacuum off (a VACUUM by another connection sets it so). */
function autoVacuumOff(path: string): void {
  const raw = new Database(path);
  raw.pragma('auto_vacuum = NONE');
  raw.exec('VACUUM');
  raw.close();
}

const fileBytes = (path: string) => statSync(path).size;

describe('space given back to the file system (QA scale S3)', () => {
  test('a new file is in incremental auto-vacuum mode: a prune that frees more than a quarter of it gives the pages back', () => {
    const path = freshPath();
    const store = history(path, { prune: { reclaimMinBytes: 0, pages: 16 } });
    const before = store.space();
    assert.equal(before.autoVacuum, 'incremental');
    assert.equal(before.freePages, 0);
    const pruned = store.prune({ olderThanDays: 2 });
    assert.equal(pruned.results, (NIGHTS - 2) * 20);
    const after = store.space();
    assert.equal(after.freePages, 0, 'every free page given back');
    assert.ok(after.pages < before.pages / 4, `${before.pages} → ${after.pages} pages`);
    // What is left reads as written.
    assert.equal(store.auditsForDomain('d3.example', 100).length, 2);
    assert.equal(store.latestAudit('d3.example')!.findings[0].message, `d3.example night ${NIGHTS - 1}: ${'x'.repeat(300)}`);
    store.close(); // the last connection: its log goes into the file, which is cut to its pages
    assert.ok(fileBytes(path) <= after.pages * after.pageSize, `${fileBytes(path)} bytes on disk, ${after.pages} pages`);
  });

  test('below a quarter of the file (or PRUNE_TUNING.reclaimMinBytes) the free pages stay, for the next nights to reuse', () => {
    assert.deepEqual([PRUNE_TUNING.reclaimShare, PRUNE_TUNING.reclaimMinBytes], [0.25, 1024 * 1024]);
    const path = freshPath();
    const store = history(path, { prune: { reclaimMinBytes: 0 } });
    const before = store.space();
    store.prune({ olderThanDays: NIGHTS - 5 }); // the 4 oldest nights of 30
    const after = store.space();
    assert.equal(after.pages, before.pages);
    assert.ok(after.freePages > 0 && after.freePages <= after.pages * 0.25, `${after.freePages} of ${after.pages} free`);
    store.close();
    // A small file: nothing worth giving back, whatever its share (the default minimum: 1 MiB).
    const small = freshPath();
    const s2 = history(small, {}, 5);
    s2.prune({ olderThanDays: 2 });
    assert.ok(s2.space().freePages * s2.space().pageSize < 1024 * 1024);
    assert.ok(s2.space().freePages > s2.space().pages * 0.25, 'more than a quarter free, but only a few MB');
    s2.close();
  });

  test('an older file (auto-vacuum off) keeps its free pages through prune; vacuum gives them back and switches it to incremental', () => {
    const path = freshPath();
    history(path).close();
    autoVacuumOff(path);
    const store = openStore(path, { warn: () => {}, now: () => NOW, prune: { reclaimMinBytes: 0 } });
    assert.equal(store.space().autoVacuum, 'none');
    const full = store.space().pages;
    store.prune({ olderThanDays: 2 });
    const pruned = store.space();
    assert.equal(pruned.pages, full, 'prune cannot shrink it');
    assert.ok(pruned.freePages > full / 2);

    const v = store.vacuum();
    assert.deepEqual(v.before, pruned);
    assert.equal(v.after.autoVacuum, 'incremental');
    assert.equal(v.after.freePages, 0);
    assert.ok(v.after.pages < pruned.pages / 2, `${pruned.pages} (${pruned.freePages} free) → ${v.after.pages} pages`);
    assert.ok(fileBytes(path) <= v.after.pages * v.after.pageSize, 'the file on disk is cut (log checkpointed and truncated)');
    assert.equal(store.auditsForDomain('d5.example', 100).length, 2, 'the history left reads as before');
    store.close();

    // From then on a prune gives back what it frees by itself.
    const again = openStore(path, { warn: () => {}, now: () => NOW + 10 * DAY, prune: { reclaimMinBytes: 0, reclaimShare: 0 } });
    const was = again.space().pages;
    again.prune({ olderThanDays: 0 });
    assert.ok(again.space().pages < was, 'the next prune shrinks the file');
    assert.equal(again.space().freePages, 0);
    again.close();
  });

  test('vacuum short of space refuses before anything, saying where and how much; the file is left as it was', () => {
    const path = freshPath();
    history(path).close();
    autoVacuumOff(path);
    const store = openStore(path, { warn: () => {}, now: () => NOW, freeSpace: () => 1000 });
    store.prune({ olderThanDays: 2 });
    const before = store.space();
    assert.throws(
      () => store.vacuum(),
      (e: unknown) => {
        assert.ok(e instanceof StoreError && e.code === 'io', String(e));
        assert.match(
          e.message,
          new RegExp(
            `^mailhealth cannot compact the history database ${path} \\([0-9.]+ [kM]B, [0-9.]+ [kM]B of it free\\): it needs about [0-9.]+ [kM]B free in .+ \\(.*temporary copy of the [0-9.]+ [kM]B in use.*\\), ` +
              `and 1 kB is free.*; the file was left as it was — free some space there`,
          ),
        );
        return true;
      },
    );
    assert.deepEqual(store.space(), before);
    store.close();
  });

  test("SQLite's temporary directory: SQLITE_TMPDIR, then TMPDIR, then /var/tmp or /tmp; what a vacuum needs there and beside the file", () => {
    const dir = mkdtempSync(join(root, 'tmp-'));
    assert.equal(sqliteTempDir({ SQLITE_TMPDIR: dir, TMPDIR: '/nonexistent' }), dir);
    assert.equal(sqliteTempDir({ SQLITE_TMPDIR: '/nonexistent', TMPDIR: dir }), dir);
    assert.ok(['/var/tmp', '/usr/tmp', '/tmp'].includes(sqliteTempDir({})));
    const path = freshPath();
    openStore(path, { warn: () => {} }).close();
    const info = { pageSize: 4096, pages: 1000, freePages: 750, autoVacuum: 'none' as const };
    // On one file system (the usual case): twice what is in use, 250 pages.
    const need = (free: number) => vacuumNeed(path, info, () => free, { SQLITE_TMPDIR: dir });
    assert.deepEqual(need(2 * 250 * 4096), { short: [], tempDir: null });
    const short = need(2 * 250 * 4096 - 1).short;
    assert.equal(short.length, 1);
    assert.match(short[0], /^it needs about 2\.0 MB free in .* \(a temporary copy of the 1\.0 MB in use \(in .*\) and the write-ahead log it is copied back through\), and 2\.0 MB is free$/);
    assert.deepEqual(vacuumNeed(path, info, () => null).short, [], 'free space unknown: not refused');
  });
});
