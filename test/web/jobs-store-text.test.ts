// A bulk fix's outcomes as a job keeps them (jobs.ts) follow the web's one rule for a failing store's own words
// (services.ts isStoreText / shownDetail: the database file's path, which every error the store builds of SQLite's
// names): they give way to words of mailhealth's own, the text as it came going to the server's log. jobs.ts had a copy
// of that rule of its own, and the bulk fix applied within its request (recordFix: a panel front door without the
// background service) kept its outcomes as they came. SQLite's words without the path ("mailhealth database", a
// SQLITE_ code) are not the store's: a record or a panel's message may say them, and they are kept as they are.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../src/adapters/store/store.js';
import type { Panel } from '../../src/core/panel.js';
import { BulkRunner } from '../../src/web/jobs.js';
import type { BulkFixResult } from '../../src/web/services.js';
import { capturingLog } from './failing-store.js';

test("a bulk fix recorded within its request keeps its outcomes without the store's own words (logged instead)", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-jobs-text-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'h.sqlite');
  const store = openStore(path);
  t.after(() => store.close());
  const runner = new BulkRunner({ panel: {} as Panel, store, makeResolver: () => { throw new Error('no DNS'); }, now: () => new Date(), auditConcurrency: 1 });
  const rita = { user: 'rita', role: 'reseller' as const };
  const quotedPath = `The history database failed (mailhealth database ${path}: The database connection is not open): nothing was written to a.example's zone.`;
  const noPath = 'applied — the zone was written, but a record quoting SQLITE_FULL and "the mailhealth database (disk full)" is left. The history shows change 7';
  const results: BulkFixResult[] = [
    { domain: 'a.example', outcome: { status: 'failed', changeId: 6, reason: quotedPath } },
    { domain: 'b.example', outcome: { status: 'applied', changeId: 7, verified: 'propagating', message: noPath, plan: { domain: 'b.example', check: 'spf', mode: 'apply', changes: [], actions: [], zoneVersion: 'v', options: {}, planHash: 'h', notes: [] } } },
    { domain: 'c.example', outcome: { status: 'refused', reason: 'Nothing to change: the records are already right.', why: 'nothing' } },
  ];
  const items = results.map((r) => ({ ref: { domain: r.domain, owner: 'bob' }, planHash: 'h' }));
  const { result: id, log } = await capturingLog(async () => runner.recordFix(rita, 'spf', items, [], results));
  const kept = store.jobItems(id).items;
  const text = JSON.stringify(kept);
  assert.ok(!text.includes(path));
  const detail = (d: string) => kept.find((i) => i.domain === d)!.detail as { reason?: string; message?: string };
  assert.equal(detail('a.example').reason, "The history database failed (withheld: the server's log has it): nothing was written to a.example's zone.");
  assert.equal(detail('b.example').message, noPath);
  assert.equal(detail('c.example').reason, 'Nothing to change: the records are already right.');
  // What the page does not show is in the server's log.
  assert.ok(log.includes(path));
  assert.ok(!log.includes('SQLITE_FULL'), 'a text that names no database file is not logged as one');
});
