// Checking an applied change again when the history fails to store the answer (setVerified throws: a full disk, an I/O
// error, or a busy database). recheckChange (the CLI's `verify` and `history`) keeps the check's answer and says why it
// was not stored in core's words, the store's own error on it as a HistoryFault (not for a busy database, which the
// words say as it is); reverifyChange (the web's "Verify again") still throws the store's error, as before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StoreError } from '../../../src/adapters/store/store.js';
import { applyPlan, DB_BUSY } from '../../../src/core/plans/apply.js';
import { recheckChange, reverifyChange, unrecordedCheckNote } from '../../../src/core/plans/reverify.js';
import { playPerTest, type Play } from '../../helpers/fixplay.js';
import { assertClean, ioError, overriding } from '../../helpers/failing-history.js';

const start = playPerTest();

/** An SPF fix of bakery.example applied and recorded, its verification set back to propagating; its change id. */
async function appliedChange(p: Play): Promise<number> {
  const plan = await p.plan('bakery.example', 'spf');
  const out = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps());
  assert.equal(out.status, 'applied');
  const id = (out as { changeId: number }).changeId;
  p.store.setVerified(id, 'propagating');
  return id;
}

test('recheckChange: storing fails — the answer kept, unrecorded in core’s words, the store’s error as HistoryFault (not enumerable)', async () => {
  const p = await start();
  const id = await appliedChange(p);
  const err = ioError(p);
  const history = overriding(p.store, {
    setVerified: () => {
      throw err;
    },
  });
  const out = await recheckChange(p.store.getChange(id)!, { ...p.deps(), history });
  assert.deepEqual(out, { status: 'checked', verified: 'yes', unrecorded: 'the history database could not be read or written' });
  assert.equal(out.historyError, err);
  assertClean(p, out);
  assert.equal(p.store.getChange(id)!.verified, 'propagating', 'nothing stored');

  // reverifyChange (the web's): the store's error thrown, as before.
  await assert.rejects(reverifyChange(p.store.getChange(id)!, { ...p.deps(), history }), (e) => e === err);

  // Stored: as reverifyChange's answer, no `unrecorded`, no HistoryFault.
  const ok = await recheckChange(p.store.getChange(id)!, p.deps());
  assert.deepEqual(ok, { status: 'checked', verified: 'yes' });
  assert.equal(ok.historyError, undefined);
  assert.equal(p.store.getChange(id)!.verified, 'yes');
});

test('recheckChange: a busy database is said as busy, with no HistoryFault', async () => {
  const p = await start();
  const id = await appliedChange(p);
  const busy = new StoreError('locked', `the mailhealth database ${p.dbPath} is busy (SQLITE_BUSY)`);
  const history = overriding(p.store, {
    setVerified: () => {
      throw busy;
    },
  });
  const out = await recheckChange(p.store.getChange(id)!, { ...p.deps(), history });
  assert.deepEqual(out, { status: 'checked', verified: 'yes', unrecorded: 'the history database is busy (another mailhealth process is writing to it)' });
  assert.equal(out.historyError, undefined);
  await assert.rejects(reverifyChange(p.store.getChange(id)!, { ...p.deps(), history }), (e) => e === busy);
});

test('unrecordedCheckNote: the history keeps the earlier check; nothing changed in the zone', () => {
  assert.equal(
    unrecordedCheckNote('the history database could not be read or written', 'propagating'),
    'this answer could not be recorded in the history (the history database could not be read or written): the history still shows the change as propagating until it is verified again; nothing was changed in the zone',
  );
  assert.match(unrecordedCheckNote('x', null), /the history still shows the change as not checked until it is verified again/);
  assert.doesNotMatch(unrecordedCheckNote('the history database could not be read or written', 'yes'), /in a moment/);
});

test('unrecordedCheckNote: a busy database (another process writing) says to verify again in a moment', () => {
  assert.equal(
    unrecordedCheckNote(DB_BUSY, 'propagating'),
    `this answer could not be recorded in the history (${DB_BUSY}): the history still shows the change as propagating until it is verified again; verify it again in a moment, once the other process has written; nothing was changed in the zone`,
  );
});
