// Review: results pruned mid-read from the newest run when that run was made by tonight's checks, and
// the next whole run by other checks. The old path (one read per run) compares with the next whole run and reads its
// records; the new path kept `compared` on the now-partial run (it was only reset when records were being read), so
// the run the diff actually compares with (pickPrevious skips the partial one) has no records.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import type { Finding } from '../../src/core/model.js';
import type { Producer } from '../../src/core/report/diff.js';
import { loadHistory } from '../../src/cron/report.js';
import { loadHistoryOld } from './history-old-path.js';

const Database = createRequire(import.meta.url)('better-sqlite3');
const OLD: Producer = { version: '0.0.9', checks: 'sha256:old' };
const NEW: Producer = { version: '0.1.0', checks: 'sha256:new' };

test('pruned mid-read, same checks as tonight: the next whole run (other checks) keeps its records, as the old path', async () => {
  const root = mkdtempSync(join(tmpdir(), 'rev23-'));
  const path = join(root, 'h.sqlite');
  let t = Date.parse('2026-02-01T03:00:00.000Z');
  const store = openStore(path, { now: () => t });
  const nights: number[] = [];
  try {
    for (const producer of [OLD, NEW, NEW]) {
      const domains = ['a.example', 'b.example', 'c.example'];
      const run = store.startRun('report', 'root', domains.length, { mailhealth: producer });
      const items = domains.map((d) => {
        const findings: Finding[] = [{ rule: 'spf.none', check: 'spf', severity: 'fail', message: `no SPF ${d}`, evidence: { panel: [`${d} TXT "x"`], live: [] } }];
        return { audit: { domain: d, status: 'fail' as const, auditedAt: new Date(t).toISOString(), findings }, owner: 'cust' };
      });
      store.recordAudits(run, items, { done: items.length });
      assert.ok(store.completeRunWithReport(run, { json: {}, html: '', text: '' }));
      nights.push(run);
      t += 86_400_000;
    }
    const tonight = nights[2];
    const newestLoaded = nights[1];
    let pruned = false;
    const proxy = new Proxy(store, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          if ((prop === 'resultFindingsByIds' || prop === 'resultsByIds') && !pruned) {
            pruned = true;
            const raw = new Database(path);
            raw.prepare(`DELETE FROM results WHERE run_id = ? AND domain = 'b.example'`).run(newestLoaded);
            raw.close();
          }
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as Store;
    const now = await loadHistory(proxy, tonight, { producer: NEW });
    const old = loadHistoryOld(store, tonight, { producer: NEW });
    const runOf = (h: typeof now, id: number) => h.runs.find((r) => r.runId === id)!;
    assert.equal(runOf(now, newestLoaded).partial, true);
    // The old path (reading after the prune) reads the OLD-checks night's records: it is the run compared with.
    assert.ok(runOf(old, nights[0]).domains!.every((d) => d.records !== undefined), 'old path: records of the run compared with');
    assert.ok(runOf(now, nights[0]).domains!.every((d) => d.records !== undefined), 'new path: the run compared with has no records');
  } finally {
    store.close();
    rmSync(root, { recursive: true, force: true });
  }
});
