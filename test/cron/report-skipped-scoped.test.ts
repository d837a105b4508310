// Night 1 a full report; night 2 the panel lists no domains (recorded as failed: "the panel listed no domains, while
// the last report had 6"); night 3 a normal run. The reseller's mail of night 3 said "Skipped (did not complete):
// run 2: the panel could not be read — the panel listed no domains, while the last report had 6": the whole server's
// domain count and the panel's error, in a part of 4 domains. Now the reseller's and a customer's parts say only that
// run 2 did not complete; the admin's report (and the night-2 notice) keep the reason.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Panel } from '../../src/core/panel.js';
import { plannedMessages, type DeliverySettings } from '../../src/adapters/mail/deliver.js';
import { runReport, type PanelFailure } from '../../src/cron/report.js';
import { countingLimiter, DAY, startWorld, type TestWorld } from './world.js';

/** The world's panel listing no domains (accounts still listed), as WHM does once its token lost its access. */
function empty(panel: Panel): Panel {
  const p = Object.create(panel) as Panel;
  p.listDomains = async () => [];
  return p;
}

const SETTINGS: DeliverySettings = {
  from: 'mailhealth@server1.example',
  recipients: ['admin@server1.example'],
  resellers: { rita: ['rita@reseller.example'] },
  transport: 'sendmail',
  attempts: 1,
  backoffMs: 0,
  timeoutMs: 1000,
};

describe('nightly report: a failed night in the reseller\'s and the customer\'s parts', () => {
  let w: TestWorld;
  before(async () => {
    w = await startWorld();
  });
  after(() => w?.close());

  test('the parts list run 2 as not complete without the reason; the admin\'s report and notice keep it', async () => {
    const night = (panel: Panel, onPanelFailure?: (f: PanelFailure) => Promise<unknown>) =>
      runReport({ store: w.store, panel, resolver: w.resolver(), limiter: countingLimiter(), serverName: 'server1', ...(onPanelFailure ? { onPanelFailure } : {}) });
    const first = await night(w.panel);
    const reason = `the panel listed no domains, while the last report had ${first.audited}`;
    w.clock.advance(DAY);
    const notices: PanelFailure[] = [];
    await assert.rejects(night(empty(w.panel), async (f) => void notices.push(f)));
    assert.equal(notices.length, 1);
    assert.ok(notices[0].notice.text.includes(reason), 'the admin\'s notice says why');
    const failedRun = notices[0].runId!;
    w.clock.advance(DAY);
    const third = await night(w.panel);

    // The admin's report: the reason, in the text, the HTML and the JSON.
    assert.deepEqual(third.doc.skippedRuns.map((r) => [r.runId, r.failed, r.reason]), [[failedRun, 'panel', reason]]);
    assert.ok(third.rendered.text.includes(`run ${failedRun}: the panel could not be read — ${reason}.`), third.rendered.text);
    assert.ok(third.rendered.html.includes(`run ${failedRun}: the panel could not be read — ${reason}.`));

    const startedAt = w.store.getRun(failedRun)!.startedAt;
    for (const [scope, domains] of [[{ reseller: 'rita' }, 4], [{ owner: 'bob' }, 2]] as const) {
      const part = third.partFor(scope);
      assert.equal(part.doc.summary.domains, domains);
      assert.deepEqual(part.doc.skippedRuns, [{ runId: failedRun, status: 'interrupted', startedAt }], JSON.stringify(scope));
      const all = [part.rendered.subject, part.rendered.text, part.rendered.html, JSON.stringify(part.rendered.json)].join('\n');
      for (const leak of [reason, `had ${first.audited}`, 'panel could not be read', '"reason"']) assert.ok(!all.includes(leak), `${leak} in ${JSON.stringify(scope)}'s part`);
      assert.ok(part.rendered.text.includes(`\nSkipped (did not complete): run ${failedRun} interrupted.\n`), part.rendered.text);
      assert.ok(part.rendered.html.includes(`>Skipped (did not complete): run ${failedRun} interrupted.</p>`));
    }

    // What is mailed: the admin's message has the reason, rita's does not.
    const msgs = plannedMessages(third, SETTINGS);
    const admin = msgs.find((m) => m.audience === 'admin')!;
    const rita = msgs.find((m) => m.audience === 'reseller' && m.reseller === 'rita')!;
    assert.ok(admin.rendered.text.includes(reason) && admin.rendered.html.includes(reason));
    assert.ok(!rita.rendered.text.includes(reason) && !rita.rendered.html.includes(reason), rita.rendered.text);
  });
});
