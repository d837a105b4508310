// Plesk addresses a record by type + host + value (`plesk bin dns --del`, `--add`; plesk.md §2.1). Two cases where that
// is not the record the plan names (QA D1, D3):
// - a host Plesk returns spelled in capitals (`_DMARC.alice.example.`, `Alice.Example.`): `--del` with the lower-case
//   prefix found nothing and the fix failed — now such a record is deleted by its id (REST, §1.2);
// - two records of one type, name and value (TTLs differ): `--del` took the first, not the previewed one — now deleted
//   by id; and an add of a record identical to one the zone holds (the undo of such a removal) is refused, named,
//   with nothing written, instead of being counted as done while Plesk keeps one copy.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { applyPlan, undoChange } from '../../../../src/core/plans/apply.js';
import { makePlan } from '../../../../src/core/plans/index.js';
import type { FixtureRecord } from '../../../helpers/emulators/fixture.js';
import { recordsOf } from '../../../helpers/emulators/plesk.js';
import { baseRecords, DOMAIN, makeRig, type Rig } from '../../../helpers/emulators/rig.js';

const d = DOMAIN;
const T = (name: string, ttl: number, text: string): FixtureRecord => ({ name, ttl, type: 'TXT', data: [text] });
const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});

async function rig(records: FixtureRecord[]): Promise<Rig> {
  const r = await makeRig('plesk', [...baseRecords(), ...records]);
  rigs.push(r);
  return r;
}
/** The emulator's TXT records at a host (as Plesk stores it) as "host ttl value", sorted — SPF and DMARC records only. */
const txtAt = (r: Rig, match: (host: string) => boolean) =>
  recordsOf(r.pl!, d)
    .filter((x) => x.type === 'TXT' && match(x.host) && /^v=(spf1|DMARC1)/.test(x.value))
    .map((x) => `${x.host} ${x.ttl} ${x.value}`)
    .sort();
const lower = (host: string) => (h: string) => h.toLowerCase() === host;

describe('Plesk: a host spelled in capitals', () => {
  it('DMARC at _DMARC.alice.example.: the fix deletes that record by its id and applies; the undo puts it back as spelled', async () => {
    const old = 'v=DMARC1; p=none; rua=mailto:x@websitewelcome.com';
    const r = await rig([T(d, 300, 'v=spf1 +a +mx ~all'), T(`_dmarc.${d}`, 7200, old)]);
    const rec = r.pl!.records.find((x) => x.host === `_dmarc.${d}.`)!;
    rec.host = `_DMARC.${d}.`;
    await r.panel.refresh();
    const plan = await makePlan({ domain: d, check: 'dmarc' }, r.deps());
    assert.equal(plan.blocked, undefined);
    const calls = r.pl!.calls.length;
    const out = await applyPlan({ domain: d, check: 'dmarc', planHash: plan.planHash }, r.deps());
    assert.equal(out.status, 'applied', JSON.stringify(out));
    const sent = r.pl!.calls.slice(calls);
    assert.ok(sent.includes(`DELETE /api/v2/dns/records/${rec.id}`), sent.join('\n'));
    assert.ok(!sent.some((c) => c.startsWith('bin:dns --del')), 'no value-matched delete');
    const now = txtAt(r, lower(`_dmarc.${d}.`));
    assert.equal(now.length, 1);
    assert.ok(!now[0].includes('websitewelcome'));
    const u = await undoChange((out as { changeId: number }).changeId, r.deps());
    assert.equal(u.status, 'applied', JSON.stringify(u));
    assert.deepEqual(txtAt(r, lower(`_dmarc.${d}.`)), [`_DMARC.${d}. 7200 ${old}`]);
  });

  it('SPF at the apex spelled Alice.Example.: the fix applies (deleted by id), the zone holds the new record once', async () => {
    const r = await rig([T(d, 300, 'v=spf1 +a +mx include:websitewelcome.com ~all')]);
    const rec = r.pl!.records.find((x) => x.type === 'TXT' && x.host === `${d}.` && x.value.startsWith('v=spf1'))!;
    rec.host = 'Alice.Example.';
    await r.panel.refresh();
    const plan = await makePlan({ domain: d, check: 'spf' }, r.deps());
    const out = await applyPlan({ domain: d, check: 'spf', planHash: plan.planHash }, r.deps());
    assert.equal(out.status, 'applied', JSON.stringify(out));
    assert.ok(r.pl!.calls.includes(`DELETE /api/v2/dns/records/${rec.id}`));
    const now = txtAt(r, lower(`${d}.`));
    assert.equal(now.length, 1);
    assert.ok(!now[0].includes('websitewelcome'), now[0]);
  });
});

describe('Plesk: identical records (one type, name and value)', () => {
  const OK_SPF = 'v=spf1 +a +mx ~all';
  const STALE_SPF = 'v=spf1 +a +mx include:websitewelcome.com ~all';

  it('apply removes the copy the preview names (TTL 3600, by its id), not the first one', async () => {
    const r = await rig([T(d, 300, OK_SPF), T(d, 3600, OK_SPF)]);
    const plan = await makePlan({ domain: d, check: 'spf' }, r.deps());
    assert.deepEqual(
      plan.changes.map((c) => [c.action, c.ttl]),
      [['remove', 3600]],
    );
    const gone = r.pl!.records.find((x) => x.type === 'TXT' && x.ttl === 3600 && x.value === OK_SPF)!;
    const out = await applyPlan({ domain: d, check: 'spf', planHash: plan.planHash }, r.deps());
    assert.equal(out.status, 'applied', JSON.stringify(out));
    assert.ok(r.pl!.calls.includes(`DELETE /api/v2/dns/records/${gone.id}`));
    assert.deepEqual(txtAt(r, lower(`${d}.`)), [`${d}. 300 ${OK_SPF}`]);
  });

  it('the undo of a merge of two identical records fails, saying Plesk keeps one copy; nothing written, the fix stays undoable', async () => {
    const r = await rig([T(d, 300, STALE_SPF), T(d, 3600, STALE_SPF)]);
    const plan = await makePlan({ domain: d, check: 'spf' }, r.deps());
    const out = await applyPlan({ domain: d, check: 'spf', planHash: plan.planHash }, r.deps());
    assert.equal(out.status, 'applied', JSON.stringify(out));
    const fixed = txtAt(r, lower(`${d}.`));
    assert.equal(fixed.length, 1);
    const calls = r.pl!.calls.length;
    const u = await undoChange((out as { changeId: number }).changeId, r.deps());
    assert.equal(u.status, 'failed', JSON.stringify(u));
    assert.match((u as { reason: string }).reason, /Plesk keeps one copy of identical records: .* the TXT record at alice\.example .*\(TTL 300\), so another copy \(TTL 3600\) cannot be added/);
    assert.ok(!r.pl!.calls.slice(calls).some((c) => c.startsWith('bin:dns') || c.startsWith('DELETE') || c.startsWith('POST /api/v2/cli')), 'nothing sent');
    assert.deepEqual(txtAt(r, lower(`${d}.`)), fixed);
    const ch = r.store.getChange((out as { changeId: number }).changeId)!;
    assert.equal(ch.status, 'applied');
    assert.equal(ch.undoneBy ?? null, null);
  });
});
