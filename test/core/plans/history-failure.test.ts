// A history database that fails (not busy: a full disk, an I/O error, its file gone) around a fix, an undo or the
// settling of an interrupted one. Core says what the failure left — the zone written and the outcome pending, the
// verification not recorded, an interrupted fix not settled yet — in words of its own; the store's error (it names the
// database file and quotes SQLite) is on the answer as `historyError` (not enumerable: never in JSON) for the surface's
// log. And once the outcome is recorded nothing throws: a fix written and recorded never reports as an error.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { PanelError } from '../../../src/core/panel.js';
import { applyPlan, reconcile, undoChange, type ApplyOutcome, type History } from '../../../src/core/plans/apply.js';
import { applyAndCheck, startPlay, type Play } from '../../helpers/fixplay.js';
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

test('a fix written and recorded whose verification cannot be recorded: applied, with a note — never an error', async () => {
  const p = await start();
  const plan = await p.plan('florist.example', 'spf');
  const before = p.zoneText('florist.example');
  const err = ioError(p);
  const history = overriding(p.store, {
    setVerified: () => {
      throw err;
    },
  });
  const out: ApplyOutcome = await applyPlan({ domain: 'florist.example', check: 'spf', planHash: plan.planHash }, p.deps({ history }));
  assert.equal(out.status, 'applied', JSON.stringify(out));
  if (out.status !== 'applied') return;
  assert.notEqual(p.zoneText('florist.example'), before);
  assert.match(out.message, /^applied.* — its verification could not be recorded \(the history database could not be read or written\): the history shows the change as not checked until it is verified again$/);
  assert.equal(out.historyError, err);
  assertClean(p, out);
  const ch = p.store.getChange(out.changeId)!;
  assert.equal(ch.status, 'applied');
  assert.equal(ch.verified, null);
});

test('an undo written and recorded whose verification cannot be recorded: undone, with a note — never an error', async () => {
  const p = await start();
  const { outcome } = await applyAndCheck(p, 'florist.example', 'spf');
  const err = ioError(p);
  const history = overriding(p.store, {
    setVerified: () => {
      throw err;
    },
  });
  const undo = await undoChange(outcome.changeId, p.deps({ history }));
  assert.equal(undo.status, 'applied', JSON.stringify(undo));
  if (undo.status !== 'applied') return;
  assert.match(undo.message, /^undone.* — its verification could not be recorded \(the history database could not be read or written\)/);
  assert.equal(undo.historyError, err);
  assertClean(p, undo);
  assert.equal(p.store.getChange(outcome.changeId)!.status, 'reverted');
  assert.equal(p.store.getChange(undo.changeId)!.status, 'applied');
});

test('an undo whose outcome cannot be recorded: the zone was written, the undo pending — in core’s words', async () => {
  const p = await start();
  const { outcome } = await applyAndCheck(p, 'florist.example', 'spf');
  const err = ioError(p);
  const history = overriding(p.store, {
    recordUndone: () => {
      throw err;
    },
  });
  const undo = await undoChange(outcome.changeId, p.deps({ history }));
  assert.equal(undo.status, 'applied', JSON.stringify(undo));
  if (undo.status !== 'applied') return;
  assert.match(undo.message, /the zone was written, but its outcome could not be recorded yet: the history database could not be read or written\. The history shows change \d+ as pending/);
  assert.equal(undo.historyError, err);
  assertClean(p, undo);
});

/** An intent left open with the zone written (the process "died" after the panel write). */
async function interrupted(p: Play, domain: string): Promise<number> {
  const plan = await p.plan(domain, 'spf');
  await assert.rejects(
    applyPlan({ domain, check: 'spf', planHash: plan.planHash }, p.deps({ crashPoint: (w) => { if (w === 'after-write') throw new Error('killed'); } })),
    /killed/,
  );
  const [open] = p.store.pendingIntents();
  assert.ok(open);
  return open.id;
}

test('reconcile that cannot record what it found: "error: …" in core’s words (the CLI’s undo quotes it), the store’s error on the result', async () => {
  const p = await start();
  const id = await interrupted(p, 'florist.example');
  const err = ioError(p);
  const history = overriding(p.store, {
    settleIntent: () => {
      throw err;
    },
  });
  const out = await reconcile(p.deps({ history }));
  assert.deepEqual(out, [{ id, outcome: 'error: the history database could not be read or written' }]);
  assert.equal(out[0].historyError, err);
  assertClean(p, out);
});

test('a fix that finds an interrupted one it cannot settle: refused in core’s words, the store’s error on the answer', async () => {
  const p = await start();
  await interrupted(p, 'florist.example');
  const err = ioError(p);
  const history = overriding(p.store, {
    settleIntent: () => {
      throw err;
    },
  });
  const plan = await p.plan('florist.example', 'spf');
  const out = await applyPlan({ domain: 'florist.example', check: 'spf', planHash: plan.planHash }, p.deps({ history, lockWaitMs: 0 }));
  assert.equal(out.status, 'refused', JSON.stringify(out));
  if (out.status !== 'refused') return;
  assert.match(out.reason, /^Change \d+, an earlier fix on florist\.example that was interrupted, could not be settled yet \(the history database could not be read or written\): nothing was written/);
  assert.equal(out.historyError, err);
  assertClean(p, out);
});

test("the panel's own error inside the fix is said as the panel said it (not taken for the history's)", async () => {
  const p = await start();
  const plan = await p.plan('florist.example', 'spf');
  p.panel.applyChanges = async () => {
    throw new PanelError('other', 'the panel answered 500 (mailhealth database of the panel is locked)');
  };
  const out = await applyPlan({ domain: 'florist.example', check: 'spf', planHash: plan.planHash }, p.deps());
  assert.equal(out.status, 'failed', JSON.stringify(out));
  if (out.status === 'failed') assert.match(out.reason, /^the panel answered 500 \(mailhealth database of the panel is locked\)/);
  assert.equal(out.historyError, undefined);
});

test('the DKIM fix that has the panel sign, whose outcome cannot be recorded: applied, the outcome pending — never an error', async () => {
  const p = await start();
  const domain = 'clean.example';
  // The key is published, but the panel signs only once asked to check it again (cPanel's validity cache).
  const overrides = join(p.dir, 'domains', `${domain}.json`);
  writeFileSync(overrides, JSON.stringify({ dkim: false }));
  const read = p.panel.readMailSettings.bind(p.panel);
  p.panel.readMailSettings = async (d) => {
    const s = await read(d);
    return s.dkim.signing ? s : { ...s, dkim: { ...s.dkim, startSigning: 'recheck' } };
  };
  p.panel.startDkimSigning = async (d: string) => {
    writeFileSync(overrides, JSON.stringify({ dkim: true }));
    return p.panel.readMailSettings(d);
  };
  const plan = await p.plan(domain, 'dkim');
  assert.deepEqual(plan.actions.map((a) => a.kind), ['refresh-dkim']);
  const err = ioError(p);
  const settle = p.store.settleIntent.bind(p.store);
  const history = overriding(p.store, {
    settleIntent: (id, outcome) => {
      if (outcome.status === 'applied') throw err;
      return settle(id, outcome);
    },
  });
  const out = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps({ history }));
  assert.equal(out.status, 'applied', JSON.stringify(out));
  if (out.status !== 'applied') return;
  assert.match(out.message, /the panel signs now, but the history database could not be read or written and the outcome could not be recorded yet: the history shows change \d+ as pending/);
  assert.equal(out.historyError, err);
  assertClean(p, out);
});
