// Review of the batched prune: the service stops (SIGTERM: nightly.stop() aborts the run's signal) while the night's prune is in progress: the
// prune should end at its next pause (every transaction is whole), not run every remaining batch first.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startNightlyReport } from '../../src/cli/nightly.js';
import { openStore, type StoreOptions } from '../../src/adapters/store/store.js';
import { startDnsServer } from '../../src/adapters/dns/server.js';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { buildWorld, DEMO_PANEL_DIR } from '../../src/demo/world.js';
import { fakeSchedule } from '../cron/fake-schedule.js';

test('a stop during the nightly prune ends it at the next pause', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rev23b-nightly-'));
  cpSync(DEMO_PANEL_DIR, join(dir, 'panel'), { recursive: true });
  const dns = await startDnsServer({ data: buildWorld(join(dir, 'panel')), port: 0 });
  const DAY = 86_400_000;
  const clock = { t: Date.parse('2026-01-01T03:00:00.000Z') - 300 * DAY };
  let pauses = 0;
  let afterStop = 0;
  let stopping: Promise<void> | null = null;
  let nightly: ReturnType<typeof startNightlyReport>;
  const store = openStore(join(dir, 'mailhealth.sqlite'), {
    now: () => clock.t,
    prune: {
      results: 10,
      pause: async () => {
        pauses++;
        if (stopping) afterStop++;
        if (pauses === 3) stopping = nightly.stop();
        await new Promise((r) => setImmediate(r));
      },
    },
  } as StoreOptions);
  // 300 days of a small history (2 results a day for old domains): a prune to 90 days has ~40 batches to do.
  for (let d = 0; d < 300; d++) {
    clock.t += DAY;
    const run = store.startRun('audit', 'root');
    store.recordAudits(run, [0, 1].map((i) => ({ audit: { domain: `old${i}.example`, status: 'pass', auditedAt: new Date(clock.t).toISOString(), findings: [] } })));
    store.finishRun(run, 'complete');
  }
  store.setSetting('report.dnsQps', 100_000);
  const logs: string[] = [];
  nightly = startNightlyReport({ resolver: dns.address, authoritativePort: dns.port, reportCron: '0 3 * * *', reportTz: 'UTC' }, new FilesPanel(join(dir, 'panel')), store, {
    schedule: fakeSchedule().schedule, log: (m: string) => logs.push(m), mailer: { async sendMail() {} }, now: () => new Date(clock.t),
  });
  await nightly.scheduler.tick();
  await stopping;
  await nightly.stop();
  store.close();
  await dns.close();
  assert.ok(afterStop <= 1, `the prune went on for ${afterStop} more batches after the stop`);
  assert.ok(logs.some((l) => /history partly pruned \(the service is stopping/.test(l)), logs.join('\n'));
});
