// cPanel / WHM: mass_edit_zone edits and removes by line index and checks only the serial (cpanel.md §4.1). A hand
// edit of the zone file that adds or removes a line without a new serial shifts the indexes; the adapters re-read the
// zone just before the write and refuse ('stale', nothing sent) unless every edited or removed line still holds the
// record the change names (QA q2 #1b: the SPF fix overwrote an SRV record).
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { movedLines } from '../../../src/adapters/panels/cpanel/zonefile.js';
import type { Change, Zone } from '../../../src/core/model.js';
import { applyPlan } from '../../../src/core/plans/apply.js';
import { makePlan } from '../../../src/core/plans/index.js';
import { rejectsWith } from '../../helpers/panel-errors.js';
import { baseRecords, DOMAIN, makeRig, type Rig } from '../../helpers/emulators/rig.js';

const SPF = 'v=spf1 +a +mx include:websitewelcome.com ~all';
const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});

/** A line added near the top of the zone file by hand: the serial is not bumped. */
function handEdit(r: Rig): void {
  r.cp!.zones[DOMAIN].lines.splice(4, 0, { kind: 'record', dname: 'new-host', ttl: 300, type: 'A', data: ['192.0.2.99'] });
}

for (const kind of ['cpanel', 'whm'] as const) {
  describe(`${kind}: edits and removes hit the lines read, or nothing is written`, () => {
    it('a hand edit (no new serial) after core last read the zone: the SPF fix is refused as "the zone changed", no record lost', async () => {
      const r = await makeRig(kind, [...baseRecords(), { name: DOMAIN, ttl: 14400, type: 'TXT', data: [SPF] }]);
      rigs.push(r);
      const before = await r.records();
      const plan = await makePlan({ domain: DOMAIN, check: 'spf', options: {} }, r.deps());
      assert.deepEqual(plan.changes.map((c) => c.action), ['edit']);
      // The hand edit lands between core's read of the zone and the adapter's write: only the adapter can see it.
      let edited = false;
      r.hooks.beforeWrite = () => {
        if (edited) return;
        edited = true;
        handEdit(r);
      };
      const out = await applyPlan({ domain: DOMAIN, check: 'spf', planHash: plan.planHash }, r.deps());
      assert.ok(edited);
      assert.equal(out.status, 'refused', JSON.stringify(out));
      assert.match((out as { reason: string }).reason, /line \d+ no longer holds the TXT record at alice\.example/);
      const after = await r.records();
      assert.deepEqual(before.filter((x) => !after.includes(x)), [], 'no record lost');
      assert.deepEqual(after.filter((x) => !before.includes(x)), [`new-host.${DOMAIN} A 300 192.0.2.99`]);
      assert.ok(!r.store.changesForDomain(DOMAIN).some((c) => c.status === 'applied'));
    });

    it('adapter: an edit or a remove whose line moved → stale, the zone file untouched; unmoved lines are written', async () => {
      const r = await makeRig(kind, [...baseRecords(), { name: DOMAIN, ttl: 14400, type: 'TXT', data: [SPF] }]);
      rigs.push(r);
      const z = await r.panel.readZone(DOMAIN);
      const spf = z.records.find((x) => x.type === 'TXT' && x.value === SPF)!;
      const edit: Change = { action: 'edit', name: DOMAIN, type: 'TXT', ttl: spf.ttl, before: spf, after: { name: DOMAIN, ttl: spf.ttl, type: 'TXT', value: 'v=spf1 +a +mx ~all' } };
      const remove: Change = { action: 'remove', name: DOMAIN, type: 'TXT', ttl: spf.ttl, before: spf, after: null };
      handEdit(r);
      const file = JSON.stringify(r.cp!.zones[DOMAIN]);
      for (const c of [edit, remove]) {
        await rejectsWith(r.panel.applyChanges(DOMAIN, [c], z.version), 'stale', /line \d+ no longer holds the TXT record at alice\.example .*edited without a new serial; nothing was written/);
        assert.equal(JSON.stringify(r.cp!.zones[DOMAIN]), file);
      }
      assert.ok(!r.cp!.calls.some((c) => /mass_edit/.test(c)), 'mass_edit never sent');
      // Read again, the same change goes through.
      const fresh = await r.panel.readZone(DOMAIN);
      const cur = fresh.records.find((x) => x.type === 'TXT' && x.value === SPF)!;
      await r.panel.applyChanges(DOMAIN, [{ ...edit, before: cur }], fresh.version);
      assert.ok((await r.records()).includes(`${DOMAIN} TXT 14400 v=spf1 +a +mx ~all`));
    });
  });
}

describe('movedLines', () => {
  const rec = (ref: string, name: string, type: string, value: string, ttl = 300) => ({ name, ttl, type, value, ref, ...(type === 'TXT' ? { txt: [value] } : {}) });
  const zone: Zone = { domain: 'a.example', serial: 1, version: '1', records: [rec('3', 'a.example', 'TXT', 'v=spf1 ~all'), rec('4', 'x.a.example', 'A', '192.0.2.1')] };
  const change = (before: ReturnType<typeof rec>): Change => ({ action: 'remove', name: before.name, type: before.type, ttl: before.ttl, before, after: null });

  it('the same record on the line (owner case, TXT chunking aside) → null; adds are not checked', () => {
    assert.equal(movedLines(zone, [change({ ...rec('3', 'A.example.', 'TXT', 'v=spf1 ~all'), txt: ['v=spf1', ' ~all'] })]), null);
    assert.equal(movedLines(zone, [{ action: 'add', name: 'a.example', type: 'TXT', ttl: 300, before: null, after: rec('9', 'a.example', 'TXT', 'x') }]), null);
  });

  it('another record, other text, another TTL, or no record on the line → a reason naming the line', () => {
    assert.match(movedLines(zone, [change(rec('4', 'a.example', 'TXT', 'v=spf1 ~all'))])!, /^line 5 no longer holds the TXT record at a\.example \(it holds the A record at x\.a\.example now\)/);
    assert.match(movedLines(zone, [change(rec('3', 'a.example', 'TXT', 'v=spf1 -all'))])!, /other text or another TTL/);
    assert.match(movedLines(zone, [change(rec('3', 'a.example', 'TXT', 'v=spf1 ~all', 3600))])!, /other text or another TTL/);
    assert.match(movedLines(zone, [change(rec('8', 'a.example', 'TXT', 'v=spf1 ~all'))])!, /it holds no record now/);
  });
});
