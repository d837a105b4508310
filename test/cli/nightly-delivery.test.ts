import assert from 'node:assert/strict';
import { after, beforeEach, describe, test } from 'node:test';
import { startNightlyReport } from '../../src/cli/nightly.js';
import type { Mailer } from '../../src/adapters/mail/deliver.js';
import { startWorld, type TestWorld } from '../cron/world.js';
import { fakeSchedule } from '../cron/fake-schedule.js';

// A bad saved delivery setting must cost the night only the mail it concerns: the audit, the saved report and the
// prune happen every night, and what was not sent is logged and recorded as a failed delivery of the run.
describe('nightly run with a bad saved delivery setting', () => {
  let w: TestWorld;
  let sent: string[];
  let logs: string[];
  const mailer: Mailer = {
    async sendMail(m) {
      sent.push(m.to);
    },
  };
  const worlds: TestWorld[] = [];

  beforeEach(async () => {
    w = await startWorld();
    worlds.push(w);
    sent = [];
    logs = [];
    w.store.setSetting('report.dnsQps', 100_000); // the polite rate is not what is tested here
    w.store.setSetting('report.recipients', ['admin@newhost.example']);
  });
  after(async () => {
    for (const x of worlds) await x.close();
  });

  async function night() {
    const nightly = startNightlyReport({ resolver: w.dns.address, authoritativePort: w.dns.port, reportCron: '0 3 * * *', reportTz: 'UTC' }, w.panel, w.store, {
      schedule: fakeSchedule().schedule,
      log: (m) => logs.push(m),
      mailer,
    });
    try {
      return await nightly.scheduler.tick();
    } finally {
      await nightly.stop();
    }
  }

  function savedRun() {
    const runs = w.store.listRuns({ kind: 'report' });
    assert.deepEqual(runs.map((r) => r.status), ['complete']);
    const report = w.store.getReport(runs[0].id);
    assert.ok(report, 'the report is saved');
    return report;
  }

  test('a bad reseller address: that reseller gets nothing; the admin gets the report; audit, report and prune happen', async () => {
    w.store.setSetting('report.resellers', { rita: 'rita at example.com' });
    assert.equal(await night(), 'ran');
    const report = savedRun();
    assert.deepEqual(sent, ['admin@newhost.example']);
    const bad = report.deliveries.find((d) => d.recipient === 'rita at example.com');
    assert.equal(bad?.ok, false);
    assert.match(bad?.error ?? '', /^not sent: report\.resellers\.rita: not an email address: "rita at example\.com"/);
    assert.equal(report.deliveries.find((d) => d.recipient === 'admin@newhost.example')?.ok, true);
    assert.ok(logs.some((l) => /not sent to rita at example\.com \(reseller rita\): report\.resellers\.rita/.test(l)), logs.join('\n'));
    assert.ok(logs.some((l) => /^history pruned:/.test(l)), 'pruned');
    assert.ok(!logs.some((l) => /nightly report failed/.test(l)));
  });

  test('a bad transport: nothing is sent, each recipient recorded as not sent; audit, report and prune happen', async () => {
    w.store.setSetting('report.resellers', { rita: 'rita@reseller.example' });
    w.store.setSetting('report.transport', 'SMTP');
    assert.equal(await night(), 'ran');
    const report = savedRun();
    assert.deepEqual(sent, []);
    assert.deepEqual(report.deliveries.map((d) => [d.recipient, d.ok]).sort(), [
      ['admin@newhost.example', false],
      ['rita@reseller.example', false],
    ]);
    for (const d of report.deliveries) assert.match(d.error ?? '', /^not sent: report\.transport must be "sendmail" or "smtp", not "SMTP"/);
    assert.ok(logs.some((l) => /not sent to admin@newhost\.example: report\.transport must be/.test(l)), logs.join('\n'));
    assert.ok(logs.some((l) => /^history pruned:/.test(l)), 'pruned');
  });

  test('report.resellers not an object: the admin still gets the report', async () => {
    w.store.setSetting('report.resellers', 'rita@reseller.example');
    assert.equal(await night(), 'ran');
    const report = savedRun();
    assert.deepEqual(sent, ['admin@newhost.example']);
    assert.ok(report.deliveries.some((d) => !d.ok && d.recipient === 'report.resellers' && /must be an object/.test(d.error ?? '')));
    assert.ok(logs.some((l) => /^history pruned:/.test(l)), 'pruned');
  });
});
