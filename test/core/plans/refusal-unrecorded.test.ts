// A refusal the history cannot record: the panel answers the write with `busy` or `stale`, or the fix lost its domain
// lock just before the write, and recording that refusal (settleIntent) fails. The answer is still the refusal — the
// panel's own words, the new plan for `stale` — with a sentence saying it could not be recorded and the change stays
// pending (it was "the history database could not be read or written: nothing was written … try again once it works",
// the panel's words and the new plan lost). And reconcile that puts the old records back (restored) but cannot record
// it says so in its result, not only the history's words.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { StoreError } from '../../../src/adapters/store/store.js';
import { PanelError } from '../../../src/core/panel.js';
import { applyPlan, reconcile, type ApplyOutcome, type History } from '../../../src/core/plans/apply.js';
import { recordKeys, startPlay, type Play } from '../../helpers/fixplay.js';
import { assertClean, ioError, overriding } from '../../helpers/failing-history.js';

let play: Play | null = null;
afterEach(async () => {
  await play?.close();
  play = null;
});
async function start(): Promise<Play> {
  play = await startPlay();
  return play;
}

const FLORIST = 'florist.example';
/** The refusal's common part: nothing written, not recorded, pending until settled; the store's error on the answer. */
function assertUnrecordedRefusal(p: Play, out: ApplyOutcome, err: unknown, before: string, why = 'the history database could not be read or written'): number {
  assert.equal(out.status, 'refused', JSON.stringify(out));
  if (out.status !== 'refused') throw new Error('unreachable');
  assert.doesNotMatch(out.reason, /^The history database/);
  assert.match(out.reason, /Nothing was written to the zone/);
  const [open] = p.store.pendingIntents();
  assert.ok(open, 'the intent stays open');
  assert.ok(out.reason.includes(` This could not be recorded (${why}): the history shows change ${open.id} as pending until mailhealth settles it from the zone`), out.reason);
  assert.equal(out.historyError, err);
  assertClean(p, out);
  assert.equal(p.zoneText(FLORIST), before, 'nothing was written');
  return open.id;
}

/** Once the history works again, settling the open intent records what the zone holds: never written. */
async function settlesAsNotWritten(p: Play, id: number): Promise<void> {
  assert.deepEqual(await reconcile(p.deps()), [{ id, outcome: 'not-written' }]);
  assert.equal(p.store.getChange(id)!.status, 'failed');
}

test('the panel answers busy, recording the refusal fails: the panel’s words, not recorded, pending — not "the history database …"', async () => {
  const p = await start();
  const plan = await p.plan(FLORIST, 'spf');
  const before = p.zoneText(FLORIST);
  p.panel.applyChanges = async () => {
    throw new PanelError('busy', 'the zone is being edited');
  };
  const err = ioError(p);
  const history = overriding(p.store, {
    settleIntent: () => {
      throw err;
    },
  });
  const out = await applyPlan({ domain: FLORIST, check: 'spf', planHash: plan.planHash }, p.deps({ history }));
  const id = assertUnrecordedRefusal(p, out, err, before);
  assert.match((out as { reason: string }).reason, /^Not applied: the zone is being edited\. Nothing was written to the zone\. This could not be recorded/);
  await settlesAsNotWritten(p, id);
});

test('the panel answers stale, recording the refusal fails: the panel’s words and the new plan, not recorded, pending', async () => {
  const p = await start();
  const plan = await p.plan(FLORIST, 'spf');
  const before = p.zoneText(FLORIST);
  p.panel.applyChanges = async () => {
    throw new PanelError('stale', 'the zone changed (serial 5 != 4)');
  };
  const err = ioError(p);
  const history = overriding(p.store, {
    settleIntent: () => {
      throw err;
    },
  });
  const out = await applyPlan({ domain: FLORIST, check: 'spf', planHash: plan.planHash }, p.deps({ history }));
  const id = assertUnrecordedRefusal(p, out, err, before);
  if (out.status !== 'refused') return;
  assert.match(out.reason, /^The zone changed while applying \(the zone changed \(serial 5 != 4\)\): here is the new plan\. Nothing was written/);
  assert.ok(out.newPlan, 'the new plan is kept');
  assert.equal(out.why, 'changed');
  assert.equal(out.newPlan.domain, FLORIST);
  await settlesAsNotWritten(p, id);
});

test('the domain lost just before the write, recording the refusal fails: "Not written: …", not recorded, pending', async () => {
  const p = await start();
  const plan = await p.plan(FLORIST, 'spf');
  const before = p.zoneText(FLORIST);
  let asked = false;
  p.panel.applyChanges = async () => {
    asked = true;
    throw new Error('the panel must not be asked to write');
  };
  const err = ioError(p);
  const history = overriding(p.store, {
    // Another process took the domain (this fix outlasted its lease).
    renewLock: () => false,
    settleIntent: () => {
      throw err;
    },
  });
  const out = await applyPlan({ domain: FLORIST, check: 'spf', planHash: plan.planHash }, p.deps({ history }));
  assert.equal(asked, false);
  const id = assertUnrecordedRefusal(p, out, err, before);
  assert.match((out as { reason: string }).reason, /^Not written: this fix outlasted its \d+-minute lock on florist\.example and another mailhealth process has taken the domain since\. Nothing was written to the zone; preview the fix again\. This could not be recorded/);
  await settlesAsNotWritten(p, id);
});

test('the panel answers busy, the history busy throughout: the panel’s words, "the history database is busy", pending', async () => {
  const p = await start();
  const plan = await p.plan(FLORIST, 'spf');
  const before = p.zoneText(FLORIST);
  p.panel.applyChanges = async () => {
    throw new PanelError('busy', 'the zone is being edited');
  };
  const err = new StoreError('locked', `the mailhealth database ${p.dbPath} is busy (SQLITE_BUSY)`);
  let tries = 0;
  const history = overriding(p.store, {
    settleIntent: () => {
      tries++;
      throw err;
    },
  });
  const out = await applyPlan({ domain: FLORIST, check: 'spf', planHash: plan.planHash }, p.deps({ history }));
  assert.ok(tries > 1, 'tried again through the busy database');
  assert.equal(out.status, 'refused', JSON.stringify(out));
  if (out.status !== 'refused') return;
  assert.match(out.reason, /^Not applied: the zone is being edited\. Nothing was written to the zone\. This could not be recorded \(the history database is busy/);
  // A busy database is said in words of its own: not a HistoryFault.
  assert.equal(out.historyError, undefined);
  assertClean(p, out);
  assert.equal(p.zoneText(FLORIST), before);
  const [open] = p.store.pendingIntents();
  await settlesAsNotWritten(p, open.id);
});

test('the panel answers busy, the history records it: the answer as before (no sentence about recording)', async () => {
  const p = await start();
  const plan = await p.plan(FLORIST, 'spf');
  p.panel.applyChanges = async () => {
    throw new PanelError('busy', 'the zone is being edited');
  };
  const out = await applyPlan({ domain: FLORIST, check: 'spf', planHash: plan.planHash }, p.deps());
  assert.deepEqual(out, { status: 'refused', reason: 'Not applied: the zone is being edited.' });
  assert.equal(p.store.changesForDomain(FLORIST)[0]?.status, 'failed');
});

test('reconcile puts the old records back but cannot record it: its result says restored, not recorded — not only the history’s words', async () => {
  const p = await start();
  const domain = 'twospf.example';
  const original = p.zoneText(domain);
  const plan = await p.plan(domain, 'spf');
  const zone = await p.panel.readZone(domain);
  const id = p.store.recordIntent({ domain, check: 'spf', planHash: plan.planHash, zoneVersion: zone.version, changes: plan.changes, byUser: 'root' });
  // Only the first change reached the zone (a panel that edits record by record, interrupted).
  (p.panel as { capabilities: object }).capabilities = { ...p.panel.capabilities, recordByRecordWrites: true };
  await p.panel.applyChanges(domain, [plan.changes[0]], zone.version);
  const err = ioError(p);
  const history = overriding(p.store, {
    settleIntent: () => {
      throw err;
    },
  });
  const out = await reconcile(p.deps({ history }));
  assert.deepEqual(out, [{ id, outcome: 'error: the history database could not be read or written; found: restored, not recorded: the old records were put back in the zone' }]);
  assert.equal(out[0].historyError, err);
  assertClean(p, out);
  // It did put them back: the zone holds the original records again (SOA aside); the intent stays open.
  const notSoa = (r: { type: string }) => r.type !== 'SOA';
  assert.deepEqual(recordKeys(p.zoneText(domain), domain, notSoa), recordKeys(original, domain, notSoa));
  assert.equal(p.store.getChange(id)!.status, 'intent');
  // Settled once the history works: the zone holds the records from before the write.
  assert.deepEqual(await reconcile(p.deps()), [{ id, outcome: 'not-written' }]);
});
