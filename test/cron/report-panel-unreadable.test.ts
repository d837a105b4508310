// A night the panel cannot be read (panel.json broken, the WHM/Plesk API down or refusing the token): the run read the
// panel's lists before it recorded anything, so the background service only logged a line — no run in the history, no
// mail, nothing the admin who reads the nightly mail would ever see. Now the night is recorded as a failed run (not
// complete, with the reason), the admin's recipients get a short notice, and no report ever compares with that night:
// nothing is called resolved, fine or failing from a panel that was not read.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PanelError, type Panel } from '../../src/core/panel.js';
import { startNightlyReport } from '../../src/cli/nightly.js';
import type { MailMessage } from '../../src/adapters/mail/deliver.js';
import { PANEL_FAILED } from '../../src/core/report/diff.js';
import { runReport, type PanelFailure } from '../../src/cron/report.js';
import { countingLimiter, DAY, startWorld, type TestWorld } from './world.js';
import { fakeSchedule } from './fake-schedule.js';

const key = (i: { domain: string; rule: string }) => `${i.domain} ${i.rule}`;

/** The world's panel with one list failing as an unreachable API does. */
function failing(panel: Panel, what: 'listAccounts' | 'listDomains', message = 'connect ECONNREFUSED 127.0.0.1:2087'): Panel {
  const p = Object.create(panel) as Panel;
  p[what] = async () => {
    throw new PanelError('unreachable', message);
  };
  return p;
}

describe('nightly report: a panel that cannot be read', () => {
  let w: TestWorld;
  before(async () => {
    w = await startWorld();
  });
  after(() => w?.close());

  test('the night is recorded as a failed run with the reason, the notice goes to onPanelFailure, the panel\'s error goes on; later reports skip that night', async () => {
    const first = await runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter(), serverName: 'server1' });
    w.clock.advance(DAY);

    // Night 2: the domain list cannot be read (the service's run: no identity given).
    const notices: PanelFailure[] = [];
    const logs: string[] = [];
    await assert.rejects(
      runReport({
        store: w.store,
        panel: failing(w.panel, 'listDomains'),
        resolver: w.resolver(),
        limiter: countingLimiter(),
        serverName: 'server1',
        log: (m) => logs.push(m),
        onPanelFailure: async (f) => void notices.push(f),
      }),
      (e: unknown) => e instanceof PanelError && e.code === 'unreachable',
    );
    const [failed] = w.store.listRuns({ kind: 'report', limit: 1 });
    assert.notEqual(failed.id, first.runId);
    assert.deepEqual(
      { status: failed.status, byUser: failed.byUser, total: failed.total, done: failed.done, meta: failed.meta },
      { status: 'interrupted', byUser: 'root', total: null, done: 0, meta: { failed: PANEL_FAILED, reason: 'connect ECONNREFUSED 127.0.0.1:2087' } },
    );
    assert.ok(failed.finishedAt, 'finished, not left running');
    assert.equal(w.store.runResults(failed.id).length, 0, 'nothing audited');
    assert.equal(w.store.getReport(failed.id), null, 'no report: nothing was compared');
    assert.equal(notices.length, 1);
    assert.equal(notices[0].runId, failed.id);
    assert.match(notices[0].notice.text, /^mailhealth could not read the panel: connect ECONNREFUSED 127\.0\.0\.1:2087; no audit ran tonight\.\n/);
    assert.match(notices[0].notice.text, new RegExp(`Nothing was audited, compared or changed on server1 \\(report run ${failed.id}, recorded as not complete\\)`));
    assert.match(notices[0].notice.subject, /^mailhealth nightly report — server1: not run, the panel could not be read$/);
    assert.doesNotMatch(notices[0].notice.text + notices[0].notice.subject, /resolved:|new problems?:|still failing:/i);
    assert.ok(logs.some((l) => l.startsWith(`report run ${failed.id}: mailhealth could not read the panel: connect ECONNREFUSED`)), logs.join('\n'));

    // Meanwhile florist.example is fixed; night 3 compares with night 1, lists night 2 as skipped, and nothing from
    // night 2 reads as resolved or new (and the failed night does not count in the streaks).
    w.editZone('florist.example', (t) => t.replace('"v=mc1 auth=dreamhost"', '"v=mc1 auth=newhostmc"'));
    w.clock.advance(DAY);
    const third = await runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter() });
    assert.equal(third.previousRunId, first.runId);
    assert.deepEqual(third.doc.skippedRuns.map((r) => [r.runId, r.status]), [[failed.id, 'interrupted']]);
    assert.deepEqual(third.doc.skippedRuns[0], { runId: failed.id, status: 'interrupted', startedAt: failed.startedAt, failed: 'panel', reason: 'connect ECONNREFUSED 127.0.0.1:2087' });
    assert.match(third.rendered.text, new RegExp(`Skipped \\(did not complete\\): run ${failed.id}: the panel could not be read — connect ECONNREFUSED 127\\.0\\.0\\.1:2087\\.`));
    assert.ok(third.rendered.html.includes(`run ${failed.id}: the panel could not be read — connect ECONNREFUSED 127.0.0.1:2087.`));
    assert.deepEqual(third.doc.resolved.map(key), ['florist.example lockdown.stale-auth']);
    assert.equal(third.doc.newProblems.length, 0);
    for (const s of third.doc.stillFailing) assert.equal(s.nights, 2, key(s));
  });

  test('the account list unreadable (no identity given): recorded the same way; a notice that fails is only logged', async () => {
    const logs: string[] = [];
    await assert.rejects(
      runReport({
        store: w.store,
        panel: failing(w.panel, 'listAccounts', 'WHM answered 401: the API token was refused'),
        resolver: w.resolver(),
        limiter: countingLimiter(),
        log: (m) => logs.push(m),
        onPanelFailure: async () => {
          throw new Error('sendmail exploded');
        },
      }),
      /the API token was refused/,
    );
    const [failed] = w.store.listRuns({ kind: 'report', limit: 1 });
    assert.equal(failed.status, 'interrupted');
    assert.equal(failed.byUser, 'admin', 'the admin account could not be read either');
    assert.deepEqual(failed.meta, { failed: PANEL_FAILED, reason: 'WHM answered 401: the API token was refused' });
    assert.ok(logs.some((l) => l === `report run ${failed.id}: the notice could not be sent: sendmail exploded`), logs.join('\n'));
  });

  test('with the identity given (`mailhealth report`), an unreadable account list still only files resellers\' own domains under the admin: the run completes', async () => {
    const logs: string[] = [];
    const out = await runReport({ store: w.store, panel: failing(w.panel, 'listAccounts'), identity: { user: 'root', role: 'admin' }, resolver: w.resolver(), limiter: countingLimiter(), log: (m) => logs.push(m), onPanelFailure: async () => assert.fail('not a failed night') });
    assert.equal(w.store.getRun(out.runId)?.status, 'complete');
    assert.ok(logs.some((l) => /account list could not be read/.test(l)));
  });
});

describe('the background service\'s nightly run with panel.json broken', () => {
  let w: TestWorld;
  before(async () => {
    w = await startWorld();
  });
  after(() => w?.close());

  test('the admin\'s recipients get the notice (recorded on the failed run), resellers nothing; the tick fails, nothing is pruned', async () => {
    w.store.setSetting('report.recipients', 'admin@newhost.example, noc@newhost.example');
    w.store.setSetting('report.resellers', { rita: 'rita@reseller.example' });
    w.store.setSetting('report.serverName', 'server1.newhost.example');
    writeFileSync(join(w.dir, 'panel', 'panel.json'), '{broken');
    const sent: MailMessage[] = [];
    const logs: string[] = [];
    const nightly = startNightlyReport({ resolver: w.dns.address, authoritativePort: w.dns.port, reportCron: '0 3 * * *', reportTz: 'UTC' }, w.panel, w.store, {
      schedule: fakeSchedule().schedule,
      log: (m) => logs.push(m),
      mailer: { async sendMail(m) { sent.push(m); } },
    });
    try {
      assert.equal(await nightly.scheduler.tick(), 'failed');
    } finally {
      await nightly.stop();
    }
    const [failed] = w.store.listRuns({ kind: 'report' });
    assert.equal(failed.status, 'interrupted');
    assert.match(String((failed.meta as { reason: string }).reason), /^files panel: panel\.json is not valid JSON/);
    assert.deepEqual(sent.map((m) => m.to), ['admin@newhost.example', 'noc@newhost.example']);
    for (const m of sent) {
      assert.equal(m.subject, 'mailhealth nightly report — server1.newhost.example: not run, the panel could not be read');
      assert.match(m.text, /^mailhealth could not read the panel: files panel: panel\.json is not valid JSON .*; no audit ran tonight\.\n/);
      assert.match(m.html, /<p>mailhealth could not read the panel: files panel: panel\.json is not valid JSON/);
      assert.equal(m.headers?.['X-Mailhealth-Run'], String(failed.id));
    }
    assert.deepEqual(w.store.deliveries(failed.id).map((d) => [d.recipient, d.ok]), [['admin@newhost.example', true], ['noc@newhost.example', true]]);
    assert.ok(logs.some((l) => /^nightly report failed: files panel: panel\.json is not valid JSON/.test(l)), logs.join('\n'));
    assert.ok(!logs.some((l) => /^history pruned/.test(l)), 'no prune on a night nothing ran');
  });
});

test('the notice neutralises control characters from the panel\'s message (text) and escapes it (HTML)', async () => {
  const { panelFailureNotice } = await import('../../src/cron/report.js');
  const n = panelFailureNotice('bad <b>gateway</b>\nFAKE LINE', 3, 'srv');
  assert.doesNotMatch(n.text, /\nFAKE LINE/);
  assert.match(n.text, /bad <b>gateway<\/b>\uFFFDFAKE LINE/);
  assert.match(n.html, /bad &lt;b&gt;gateway&lt;\/b&gt;\uFFFDFAKE LINE/);
});
