// The undo of a change whose interrupted fix reconcile has just put back (the old records restored in the zone) but
// could not record that: unsettledUndoReason, given reconcile's error as the CLI's undo passes it, used to quote it
// inside "whether it was written could not be checked yet (…)" and end "Nothing was changed; try again shortly." —
// false, records had just been put back. It now says what was put back, that it could not be recorded, and what to do.
// Reconcile's own words (apply.ts) are what this reads: the first test runs a real reconcile, so a change to them shows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reconcile } from '../../../src/core/plans/apply.js';
import { unsettledUndoReason, type SettlingSource } from '../../../src/core/plans/settling.js';
import { recordKeys, playPerTest } from '../../helpers/fixplay.js';
import { assertClean, ioError, overriding } from '../../helpers/failing-history.js';

const start = playPerTest();

test('reconcile put the old records back, not recorded: the undo says so — what, where, pending, what to do — never "Nothing was changed"', async () => {
  const p = await start();
  const domain = 'twospf.example';
  const original = p.zoneText(domain);
  const plan = await p.plan(domain, 'spf');
  const zone = await p.panel.readZone(domain);
  const id = p.store.recordIntent({ domain, check: 'spf', planHash: plan.planHash, zoneVersion: zone.version, changes: plan.changes, byUser: 'root' });
  // Only the first change reached the zone (a panel that edits record by record, interrupted).
  (p.panel as { capabilities: object }).capabilities = { ...p.panel.capabilities, recordByRecordWrites: true };
  await p.panel.applyChanges(domain, [plan.changes[0]], zone.version);
  const history = overriding(p.store, {
    settleIntent: () => {
      throw ioError(p);
    },
  });
  const [r] = await reconcile(p.deps({ history }));
  assert.equal(r.id, id);
  assert.ok(r.outcome.startsWith('error: '), r.outcome);
  const notSoa = (x: { type: string }) => x.type !== 'SOA';
  assert.deepEqual(recordKeys(p.zoneText(domain), domain, notSoa), recordKeys(original, domain, notSoa), 'put back');

  const reason = unsettledUndoReason(p.store, id, r.outcome.slice('error: '.length));
  const at = [...new Set(plan.changes.map((c) => `${c.name} ${c.type}`))].join(', ');
  assert.equal(
    reason,
    `Change ${id} has nothing left to undo: its fix on twospf.example was interrupted part-way through its write, and mailhealth has just put the records at ${at} back as they were before it — ` +
      `but could not record that in the history (the history database could not be read or written): the history shows change ${id} as pending until mailhealth settles it from the zone, ` +
      `at the next fix or undo on twospf.example or by the running service. No other record was changed. Check the records at ${at}; if the history database keeps failing, ask your hosting provider.`,
  );
  assertClean(p, reason);
});

/** A store of one open intent on a.example (its records at a.example TXT, unless `named` is false), its domain lock held or not. */
function source(held: boolean, named = true): SettlingSource {
  return {
    getChange: (id) => ({ id, domain: 'a.example', status: 'intent', ...(named ? { changes: [{ name: 'a.example', type: 'TXT' }] } : {}) }),
    lockHolder: () => (held ? { expiresAt: Date.parse('2027-03-01T12:02:00.000Z') } : null),
  };
}
const RESTORED = 'the history database could not be read or written; found: restored, not recorded: the old records were put back in the zone';

test('unsettledUndoReason: put back by this command’s settling is said even if another fix holds the domain now', () => {
  const reason = unsettledUndoReason(source(true), 7, RESTORED)!;
  assert.match(reason, /^Change 7 has nothing left to undo: .* put the records at a\.example TXT back as they were before it — but could not record that in the history \(the history database could not be read or written\)/);
  assert.doesNotMatch(reason, /Nothing was changed|still being settled/);
  // No records known (a source that does not give them): said without names.
  assert.match(unsettledUndoReason(source(false, false), 7, RESTORED)!, /has just put the records it had changed back as they were before it/);
});

test('unsettledUndoReason: any other settling problem, or none, answers as before', () => {
  assert.equal(
    unsettledUndoReason(source(false), 7, 'the history database could not be read or written'),
    'Change 7 is still being settled: a fix on a.example was interrupted and whether it was written could not be checked yet (the history database could not be read or written); it is checked again on the next try. Nothing was changed; try again shortly.',
  );
  assert.match(unsettledUndoReason(source(false), 7)!, /could not be checked yet; it is checked again on the next try\. Nothing was changed; try again shortly\.$/);
  assert.match(unsettledUndoReason(source(true), 7, 'x')!, /^Change 7 is still being settled: a fix on a\.example was interrupted \(or is still running\)/);
  assert.equal(unsettledUndoReason({ getChange: () => null, lockHolder: () => null }, 7, RESTORED), null);
});
