// A night the panel lists NO domains after complete runs that had some (the WHM adapter turns "No accounts found" —
// a token that lost its access — into an empty list): the run completed and every problem read "resolved — domain no
// longer on the server", and the next good night every one "new" again, its streak restarted. An empty list where the
// last complete report had domains is now a panel that could not be read: recorded as a failed panel read (meta
// {failed: 'panel', reason}), the admin's notice, listed under Skipped by the next report, which compares with the last
// complete run. A server with no domains and no earlier complete run with any is reported as before.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PanelError, type Panel } from '../../src/core/panel.js';
import { startNightlyReport } from '../../src/cli/nightly.js';
import type { MailMessage } from '../../src/adapters/mail/deliver.js';
import { PANEL_FAILED } from '../../src/core/report/diff.js';
import { runReport, type PanelFailure } from '../../src/cron/report.js';
import { countingLimiter, DAY, startWorld, type TestWorld } from './world.js';
import { fakeSchedule } from './fake-schedule.js';

/** The world's panel listing no domains (accounts still listed), as WHM does once its token lost its access. */
function empty(panel: Panel): Panel {
  const p = Object.create(panel) as Panel;
  p.listDomains = async () => [];
  return p;
}

const key = (i: { domain: string; rule: string }) => `${i.domain} ${i.rule}`;

describe('nightly report: the panel lists no domains after nights with some', () => {
  let w: TestWorld;
  before(async () => {
    w = await startWorld();
  });
  after(() => w?.close());

  test('recorded as a failed panel read with the reason, the notice sent; the next good night compares with the last complete one', async () => {
    const first = await runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter(), serverName: 'server1' });
    const domains = first.audited;
    assert.ok(domains > 0 && first.doc.newProblems.length > 0);
    w.clock.advance(DAY);

    const notices: PanelFailure[] = [];
    const reason = `the panel listed no domains, while the last report had ${domains}`;
    for (let night = 2; night <= 3; night++) {
      // Twice: a failed night is not the "last report" of the next one.
      await assert.rejects(
        runReport({ store: w.store, panel: empty(w.panel), resolver: w.resolver(), limiter: countingLimiter(), serverName: 'server1', onPanelFailure: async (f) => void notices.push(f) }),
        (e: unknown) => e instanceof PanelError && e.message === reason,
      );
      const [failed] = w.store.listRuns({ kind: 'report', limit: 1 });
      assert.deepEqual({ status: failed.status, meta: failed.meta }, { status: 'interrupted', meta: { failed: PANEL_FAILED, reason } });
      assert.equal(w.store.getReport(failed.id), null, 'no report: nothing compared, nothing resolved');
      assert.equal(notices.length, night - 1);
      assert.match(notices[night - 2].notice.text, new RegExp(`^mailhealth could not read the panel: the panel listed no domains, while the last report had ${domains}; no audit ran tonight\\.\\n`));
      w.clock.advance(DAY);
    }

    const good = await runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter(), serverName: 'server1' });
    assert.equal(good.previousRunId, first.runId);
    assert.deepEqual(good.doc.skippedRuns.map((r) => [r.status, r.failed, r.reason]), [
      ['interrupted', 'panel', reason],
      ['interrupted', 'panel', reason],
    ]);
    assert.match(good.rendered.text, /Skipped \(did not complete\): run \d+: the panel could not be read — the panel listed no domains, while the last report had \d+; run \d+:/);
    assert.deepEqual(good.doc.resolved.map(key), []);
    assert.deepEqual(good.doc.newProblems.map(key), []);
    assert.deepEqual(good.doc.stillFailing.map(key).sort(), first.doc.newProblems.map(key).sort());
    for (const s of good.doc.stillFailing) assert.equal(s.nights, 2, key(s));
  });
});

describe('nightly report: a server with no domains (no earlier complete run had any)', () => {
  let w: TestWorld;
  before(async () => {
    w = await startWorld();
  });
  after(() => w?.close());

  test('the run completes, as before, night after night', async () => {
    for (let night = 1; night <= 2; night++) {
      const out = await runReport({ store: w.store, panel: empty(w.panel), resolver: w.resolver(), limiter: countingLimiter(), onPanelFailure: async () => assert.fail('not a failed night') });
      assert.equal(w.store.getRun(out.runId)?.status, 'complete');
      assert.equal(out.doc.summary.domains, 0);
      w.clock.advance(DAY);
    }
  });
});

describe('the background service: the admin\'s recipients get the notice', () => {
  let w: TestWorld;
  before(async () => {
    w = await startWorld();
  });
  after(() => w?.close());

  test('one good night, then an empty list: the notice, recorded on the failed run; the tick fails', async () => {
    w.store.setSetting('report.recipients', 'admin@newhost.example');
    w.store.setSetting('report.resellers', { rita: 'rita@reseller.example' });
    const sent: MailMessage[] = [];
    let panel = w.panel as Panel;
    // The service's panel, whichever one the night has.
    const live = Object.create(w.panel) as Panel;
    live.listAccounts = () => panel.listAccounts();
    live.listDomains = (id) => panel.listDomains(id);
    const nightly = startNightlyReport({ resolver: w.dns.address, authoritativePort: w.dns.port, reportCron: '0 3 * * *', reportTz: 'UTC' }, live, w.store, {
      schedule: fakeSchedule().schedule,
      log: () => {},
      mailer: { async sendMail(m) { sent.push(m); } },
    });
    try {
      assert.equal(await nightly.scheduler.tick(), 'ran');
      w.clock.advance(DAY);
      sent.length = 0;
      panel = empty(w.panel);
      assert.equal(await nightly.scheduler.tick(), 'failed');
    } finally {
      await nightly.stop();
    }
    const [failed] = w.store.listRuns({ kind: 'report' });
    assert.equal(failed.status, 'interrupted');
    assert.deepEqual(sent.map((m) => m.to), ['admin@newhost.example']);
    assert.match(sent[0].subject, /not run, the panel could not be read$/);
    assert.match(sent[0].text, /^mailhealth could not read the panel: the panel listed no domains, while the last report had \d+; no audit ran tonight\./);
    assert.deepEqual(w.store.deliveries(failed.id).map((d) => [d.recipient, d.ok]), [['admin@newhost.example', true]]);
  });
});
