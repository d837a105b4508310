// Batched prune changes which result is a domain's latest (a clock-ahead result comes back as "latest") when a
// batch boundary falls between the row that disqualified it and the true latest.
// (Review of the batched prune: the old single-transaction prune kept the 09:45 result; the first batched one did not.)
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { openStore, type StoreOptions } from '../../../src/adapters/store/store.js';
import type { Finding } from '../../../src/core/model.js';

const DAY = 86_400_000;
const base = Date.parse('2025-03-01T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const f = (m: string): Finding[] => [{ rule: 'r', check: 'spf', severity: 'warn', message: m, evidence: {} }];

for (const tuned of [true, false]) test(`a prune keeps (${tuned ? 'results: 1' : 'default tuning, 2,000 other results between'}) the same latest result for a domain no longer audited`, () => {
  const path = join(mkdtempSync(join(tmpdir(), 'rev23b-')), 'mh.sqlite');
  const clock = { t: base };
  const store = openStore(path, { warn: () => {}, leaseClock: null, now: () => clock.t, ...(tuned ? { prune: { results: 1, pause: () => {} } } : { prune: { pause: () => {} } }) } as StoreOptions);
  const run = store.startRun('audit', 'root');
  // gone.example: audited at 10:00 by a clock an hour fast (id 1), then, after the clock was corrected,
  // at 09:00 (id 2: passes over id 1) and at 09:45 (id 3: the latest).
  store.recordAudit(run, { domain: 'gone.example', status: 'fail', auditedAt: iso(base), findings: f('fast clock') });
  store.recordAudit(run, { domain: 'gone.example', status: 'warn', auditedAt: iso(base - 3_600_000), findings: f('09:00') });
  if (!tuned) store.recordAudits(run, Array.from({ length: 2100 }, (_, i) => ({ audit: { domain: `d${i}.example`, status: 'pass', auditedAt: iso(base - 3_600_000 + 1000 * i), findings: f('x') } })));
  store.recordAudit(run, { domain: 'gone.example', status: 'pass', auditedAt: iso(base - 900_000), findings: f('09:45 latest') });
  store.finishRun(run, 'complete');
  // Another domain still audited, so history goes on after gone.example's last audit.
  for (let d = 1; d <= 40; d++) {
    clock.t = base + d * DAY;
    const r = store.startRun('audit', 'root');
    store.recordAudit(r, { domain: 'live.example', status: 'pass', auditedAt: iso(clock.t), findings: f('ok') });
    store.finishRun(r, 'complete');
  }
  const before = store.latestAudits(['gone.example']).get('gone.example');
  assert.equal(before?.status, 'pass');
  store.prune({ olderThanDays: 10 });
  const after = store.latestAudits(['gone.example']).get('gone.example');
  store.close();
  assert.equal(after?.status, 'pass', `latest result after prune: ${after?.status} (${after?.auditedAt})`);
});
