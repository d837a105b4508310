// An undo refused because a record the fix removed or replaced stands in the zone again (a later fix wrote the old SPF
// text back): the reason said "was re-added after this fix" also for an EDIT, where nothing had been added — QA read it
// as nonsense. It now says what happened for both kinds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Change, Zone, ZoneRecord } from '../../../src/core/model.js';
import { inverseChanges } from '../../../src/core/plans/apply.js';

const txt = (value: string): ZoneRecord => ({ name: 'a.example', ttl: 300, type: 'TXT', value, txt: [value] });
const zone = (...values: string[]): Zone => ({ domain: 'a.example', serial: null, records: values.map(txt), version: 'v' });

test('an edit whose old text is back in the zone: refused, and the reason does not call it re-added', () => {
  // The fix edited "v=spf1 old" → "v=spf1 new" (one copy each before); a later change wrote "v=spf1 old" again.
  const edit: Change = { action: 'edit', name: 'a.example', type: 'TXT', ttl: 300, before: txt('v=spf1 old'), after: txt('v=spf1 new'), copiesBefore: 1, copiesAfter: 0 };
  const r = inverseChanges(zone('v=spf1 new', 'v=spf1 old'), [edit]);
  assert.ok('reason' in r);
  assert.doesNotMatch(r.reason, /re-added/);
  assert.match(r.reason, /a record this fix removed or replaced is back in the zone since \(a later fix or edit\): undo would duplicate it/);
  // As the fix left it: the undo goes through.
  const ok = inverseChanges(zone('v=spf1 new'), [edit]);
  assert.ok('changes' in ok);
  assert.equal(ok.changes[0].after?.value, 'v=spf1 old');
});
