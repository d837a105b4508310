// An undo must never leave two records of a kind a name holds only one of (two DMARC records: receivers apply no
// policy). Guards from the review of a tried relaxation (the history's chain of recorded writes taken as proof that
// nothing was written at a name since a fix): on cPanel/WHM the zone's version is its SOA serial, which a hand edit of
// the zone file need not bump, and a crashed write that reconcile settles records the zone's version at reconcile time,
// hand edits included — both hid a second DMARC record added by hand, and the undo restored the old one beside it.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { applyPlan, reconcile, undoChange } from '../../../src/core/plans/apply.js';
import { makePlan } from '../../../src/core/plans/index.js';
import { baseRecords, DOMAIN, makeRig, type Kind, type Rig } from '../../helpers/emulators/rig.js';
import { startPlay } from '../../helpers/fixplay.js';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

for (const kind of ['cpanel', 'whm'] as Kind[]) {
  test(`${kind}: a second DMARC record added by hand without a new serial, then the DMARC fix's undo: refused`, async () => {
    const r = (rig = await makeRig(kind, [...baseRecords(), { name: `_dmarc.${DOMAIN}`, ttl: 7200, type: 'TXT', data: ['v=DMARC1; p=quarantine; rua=mailto:dmarc@websitewelcome.com'] }]));
    const plan = await makePlan({ domain: DOMAIN, check: 'dmarc' }, r.deps());
    const out = await applyPlan({ domain: DOMAIN, check: 'dmarc', planHash: plan.planHash }, r.deps());
    assert.equal(out.status, 'applied', JSON.stringify(out));
    const id = (out as { changeId: number }).changeId;
    // root edits the zone file by hand and forgets the serial
    r.cp!.zones[DOMAIN].lines.push({ kind: 'record', dname: '_dmarc', ttl: 300, type: 'TXT', data: ['v=DMARC1; p=reject'] });
    await r.panel.refresh();
    const u = await undoChange(id, r.deps());
    const dmarcs = (await r.records()).filter((x) => x.startsWith(`_dmarc.${DOMAIN} TXT`));
    assert.equal(u.status, 'refused', `undo ${u.status}; _dmarc now holds ${JSON.stringify(dmarcs)}`);
    assert.match('reason' in u ? u.reason : '', /2 DMARC records/);
    assert.equal(dmarcs.length, 2, 'nothing written: the fix\'s record and the hand-added one');
  });
}

test('files panel: a crashed write settled by reconcile after a second DMARC record was added by hand, then the DMARC fix\'s undo: refused', async () => {
  const p = await startPlay();
  try {
    const d = 'florist.example';
    const dp = await p.plan(d, 'dmarc');
    const fix = await applyPlan({ domain: d, check: 'dmarc', planHash: dp.planHash }, p.deps());
    assert.equal(fix.status, 'applied');
    const id = (fix as { changeId: number }).changeId;
    const sp = await p.plan(d, 'spf');
    assert.ok(sp.changes.length);
    const crash = (w: string) => {
      if (w === 'after-write') throw new Error('injected crash');
    };
    await assert.rejects(applyPlan({ domain: d, check: 'spf', planHash: sp.planHash }, p.deps({ crashPoint: crash })), /injected crash/);
    // The customer adds a second DMARC record by hand before anything settles the crashed write.
    p.writeZone(d, p.zoneText(d) + '_dmarc\tIN\tTXT\t"v=DMARC1; p=reject"\n');
    p.refresh();
    await reconcile(p.deps());
    const text = p.zoneText(d);
    const u = await undoChange(id, p.deps());
    assert.equal(u.status, 'refused', `undo ${u.status}; _dmarc lines now ${JSON.stringify(p.zoneText(d).split('\n').filter((l) => l.startsWith('_dmarc')))}`);
    assert.equal(p.zoneText(d), text, 'nothing written');
  } finally {
    await p.close();
  }
});
