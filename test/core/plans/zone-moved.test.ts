// Apply writes only over the zone its plan was made from. On cPanel/WHM the zone's version is its SOA serial, and an
// edit that does not bump it (a hand edit of /var/named/<zone>.db) moves the line indexes the plan's edits point at: QA
// saw the new SPF record written over an SRV record by mass_edit_zone's line_index, the old SPF record kept, "applied,
// but the panel does not show the new records", nothing in the history about the SRV record. Apply now compares the
// zone it reads just before the write with the planned one record for record (refs included) and refuses, with the new
// plan, as for a version change. A zone re-read unchanged still applies; an edit that bumps the serial is refused as
// it always was; Plesk (whose version is a hash of the records) applies as before.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { applyPlan } from '../../../src/core/plans/apply.js';
import { makePlan } from '../../../src/core/plans/index.js';
import type { Resolver } from '../../../src/core/resolver.js';
import { baseRecords, DOMAIN, makeRig, type Kind, type Rig } from '../../helpers/emulators/rig.js';

const STALE_SPF = 'v=spf1 +a +mx include:websitewelcome.com ~all';
const SRV = `_sip._tls.${DOMAIN} SRV 3600 100 1 443 sipdir.online.lync.com`;
const NEW_SPF = `${DOMAIN} TXT 14400 v=spf1 +a +mx ~all`;
const OLD_SPF = `${DOMAIN} TXT 14400 ${STALE_SPF}`;

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

/** alice.example with the previous host's SPF record, the SRV record on the line below it. */
function spfRig(kind: Kind): Promise<Rig> {
  const records = baseRecords();
  const srv = records.pop()!;
  return makeRig(kind, [...records, { name: DOMAIN, ttl: 14400, type: 'TXT', data: [STALE_SPF] }, srv]);
}

/**
 * A resolver that runs `edit` once, at its first question — the re-plan inside applyPlan has read the zone by then
 * and is asking DNS — then answers as `inner` does.
 */
function editingAtFirstQuestion(inner: Resolver, edit: () => void): Resolver {
  let done = false;
  return {
    resolve: (name, type) => {
      if (!done) {
        done = true;
        edit();
      }
      return inner.resolve(name, type);
    },
  };
}

/** A line inserted near the top of the zone file, by hand: line indexes below it move; the serial does not. */
function handEditWithoutSerial(r: Rig): void {
  r.cp!.zones[DOMAIN].lines.splice(4, 0, { kind: 'record', dname: 'new-host', ttl: 300, type: 'A', data: ['192.0.2.99'] });
}

for (const kind of ['cpanel', 'whm'] as Kind[]) {
  describe(`${kind}: an edit that does not bump the serial, made while apply re-plans`, () => {
    test('refused with the new plan ("changed"): nothing written, the SRV record intact, nothing in the history; the new plan then applies', async () => {
      const r = (rig = await spfRig(kind));
      const before = await r.records();
      const plan = await makePlan({ domain: DOMAIN, check: 'spf' }, r.deps());
      assert.equal(plan.changes.length, 1);
      const serial = r.cp!.zones[DOMAIN].serial;

      const resolver = editingAtFirstQuestion(r.resolver, () => handEditWithoutSerial(r));
      const out = await applyPlan({ domain: DOMAIN, check: 'spf', planHash: plan.planHash }, r.deps({ resolver }));
      assert.equal(out.status, 'refused', JSON.stringify(out));
      if (out.status !== 'refused') return;
      assert.equal(out.why, 'changed');
      assert.match(out.reason, /^The zone changed since the preview/);
      assert.equal(r.cp!.zones[DOMAIN].serial, serial, 'the zone was not written (a write bumps the serial)');
      const now = await r.records();
      assert.ok(now.includes(SRV), 'the SRV record is intact');
      assert.ok(now.includes(OLD_SPF) && !now.includes(NEW_SPF), 'the SPF record is as it was');
      assert.deepEqual(now, [...before, `new-host.${DOMAIN} A 300 192.0.2.99`].sort(), 'the zone holds the hand edit and nothing else');
      assert.deepEqual(r.store.changesForDomain(DOMAIN), [], 'nothing recorded');
      // The new plan points at the SPF record's new line.
      assert.ok(out.newPlan);
      assert.notEqual(out.newPlan.changes[0].before?.ref, plan.changes[0].before?.ref);
      assert.equal(out.newPlan.changes[0].before?.value, STALE_SPF);

      const again = await applyPlan({ domain: DOMAIN, check: 'spf', planHash: out.newPlan.planHash }, r.deps());
      assert.equal(again.status, 'applied', JSON.stringify(again));
      if (again.status !== 'applied') return;
      assert.notEqual(again.verified, 'no', 'the panel shows the new records');
      const after = await r.records();
      assert.ok(after.includes(SRV), 'the SRV record is intact');
      assert.ok(after.includes(NEW_SPF) && !after.includes(OLD_SPF), 'the SPF record replaced');
    });
  });
}

describe('cpanel: the legitimate cases apply as before', () => {
  test('the same zone re-read (nobody edits it): applied', async () => {
    const r = (rig = await spfRig('cpanel'));
    const plan = await makePlan({ domain: DOMAIN, check: 'spf' }, r.deps());
    const out = await applyPlan({ domain: DOMAIN, check: 'spf', planHash: plan.planHash }, r.deps());
    assert.equal(out.status, 'applied', JSON.stringify(out));
    const after = await r.records();
    assert.ok(after.includes(SRV) && after.includes(NEW_SPF) && !after.includes(OLD_SPF));
  });

  test('an edit of a record the plan does not touch, serial bumped, while apply re-plans: refused with the new plan, as before (the version differs)', async () => {
    const r = (rig = await spfRig('cpanel'));
    const plan = await makePlan({ domain: DOMAIN, check: 'spf' }, r.deps());
    const resolver = editingAtFirstQuestion(r.resolver, () => {
      const z = r.cp!.zones[DOMAIN];
      const a = z.lines.find((l) => l?.kind === 'record' && l.type === 'A' && l.dname === 'mail');
      if (a?.kind === 'record') a.data = ['203.0.113.11'];
      z.serial += 1;
    });
    const out = await applyPlan({ domain: DOMAIN, check: 'spf', planHash: plan.planHash }, r.deps({ resolver }));
    assert.equal(out.status, 'refused', JSON.stringify(out));
    if (out.status !== 'refused') return;
    assert.equal(out.why, 'changed');
    assert.ok((await r.records()).includes(OLD_SPF));
    assert.deepEqual(r.store.changesForDomain(DOMAIN), []);
  });
});

describe('plesk: the record-for-record comparison (record ids included) does not stand in the way', () => {
  test('applied, the SRV record intact', async () => {
    const r = (rig = await spfRig('plesk'));
    const plan = await makePlan({ domain: DOMAIN, check: 'spf' }, r.deps());
    const out = await applyPlan({ domain: DOMAIN, check: 'spf', planHash: plan.planHash }, r.deps());
    assert.equal(out.status, 'applied', JSON.stringify(out));
    const after = await r.records();
    assert.ok(after.some((l) => l.startsWith(`_sip._tls.${DOMAIN} SRV`)));
    assert.ok(after.some((l) => l.includes('v=spf1 +a +mx ~all')) && !after.some((l) => l.includes('websitewelcome')));
  });
});
