// An undo (or a clean-up putting records back) must never leave an alias (CNAME) beside other data at a name: a name
// that is an alias holds no other record (RFC 1034 §3.6.2, RFC 2181 §10.1) and BIND refuses to load such a zone.
// Review R5: the DMARC fix removed a stray TXT at _dmarc; the customer then replaced the DMARC record by a CNAME to a
// DMARC service; the undo put the stray TXT back beside the CNAME — "undone — propagating", the zone no longer loaded.
// Same write through the cPanel and Plesk emulators (core sent it). Now refused, nothing written, nothing recorded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseZoneFile } from '../../../src/adapters/panels/files/zonefile.js';
import type { Change, Zone, ZoneRecord } from '../../../src/core/model.js';
import { PartialWriteError } from '../../../src/core/panel.js';
import { applyPlan, reconcile, undoBesideAlias, undoChange } from '../../../src/core/plans/apply.js';
import { makePlan } from '../../../src/core/plans/index.js';
import { aliasBlock, aliasClash } from '../../../src/core/plans/plan.js';
import { massEdit, zoneView } from '../../helpers/emulators/cpanel.js';
import { baseRecords, DOMAIN, makeRig, type Kind } from '../../helpers/emulators/rig.js';
import { playPerTest, type Play } from '../../helpers/fixplay.js';

const start = playPerTest();
const D = 'bakery.example';
const DMARC_LINE = '_dmarc\tIN\tTXT\t"v=DMARC1; p=none; rua=mailto:dmarc@bakery.example"';
const SERVICE = 'bakery.example.dmarc.service.example';

/** The files panel's bakery.example with a second TXT at _dmarc, the DMARC fix applied (it removes only that one). */
async function strayRemoved(p: Play, stray: string): Promise<number> {
  const text = p.zoneText(D);
  assert.ok(text.includes(DMARC_LINE), 'the demo zone has the DMARC record this test expects');
  p.writeZone(D, text.replace(DMARC_LINE, `${DMARC_LINE}\n_dmarc\tIN\tTXT\t"${stray}"`));
  p.refresh();
  const plan = await p.plan(D, 'dmarc');
  assert.deepEqual(
    plan.changes.map((c) => [c.action, c.type, c.before?.txt?.join('')]),
    [['remove', 'TXT', stray]],
    'the fix removes only the stray record',
  );
  const out = await applyPlan({ domain: D, check: 'dmarc', planHash: plan.planHash }, p.deps());
  assert.equal(out.status, 'applied', JSON.stringify(out));
  return (out as { changeId: number }).changeId;
}

/** The customer points _dmarc at a DMARC service: its TXT records deleted, a CNAME added. */
function pointAtService(p: Play): void {
  const lines = p
    .zoneText(D)
    .split('\n')
    .filter((l) => !/^_dmarc\s/.test(l));
  lines.push(`_dmarc\tIN\tCNAME\t${SERVICE}.`, '');
  p.writeZone(D, lines.join('\n'));
  p.refresh();
  assert.deepEqual(parseZoneFile(p.zoneText(D), D).warnings, [], 'the zone with the alias is valid');
}

const atDmarc = (text: string) =>
  parseZoneFile(text, D)
    .records.filter((r) => r.name === `_dmarc.${D}`)
    .map((r) => `${r.type} ${r.rdata.join(' ')}`);

for (const stray of ['v=spf1 -all', 'v=DMARC1; p=none']) {
  test(`files panel: undo of a fix that removed ${JSON.stringify(stray)} at _dmarc, now an alias: refused, nothing written or recorded; undoable once the alias is gone`, async () => {
    const p = await start();
    const id = await strayRemoved(p, stray);
    pointAtService(p);
    const before = p.zoneText(D);
    const u = await undoChange(id, p.deps());
    assert.equal(u.status, 'refused', `undo ${u.status}; _dmarc now holds ${JSON.stringify(atDmarc(p.zoneText(D)))}`);
    const reason = (u as { reason: string }).reason;
    assert.ok(reason.startsWith(`Not undone: _dmarc.${D} is now an alias (CNAME to ${SERVICE}): undoing change ${id} would put the TXT record ${JSON.stringify(stray)} back beside it`), reason);
    assert.match(reason, /RFC 1034 §3\.6\.2, RFC 2181 §10\.1/);
    assert.match(reason, /Nothing was written\./);
    assert.equal(p.zoneText(D), before, 'the zone file is as it was');
    assert.deepEqual(parseZoneFile(p.zoneText(D), D).warnings, []);
    // The history is unchanged: the change still applied and undoable, no undo intent recorded.
    const ch = p.store.getChange(id)!;
    assert.equal(ch.status, 'applied');
    assert.ok(!ch.undoneBy);
    assert.equal(p.store.getChange(id + 1), null, 'no intent recorded for the refused undo');
    assert.deepEqual(p.store.pendingIntents(), []);

    // The customer takes the alias out again: now the undo goes through and puts the record back.
    p.writeZone(D, p.zoneText(D).replace(`_dmarc\tIN\tCNAME\t${SERVICE}.\n`, ''));
    p.refresh();
    const again = await undoChange(id, p.deps());
    assert.equal(again.status, 'applied', JSON.stringify(again));
    assert.deepEqual(atDmarc(p.zoneText(D)), [`TXT ${stray}`]);
  });
}

for (const kind of ['cpanel', 'plesk'] as Kind[]) {
  test(`${kind}: the same undo beside an alias the customer added in the panel: refused, nothing written`, async () => {
    const r = await makeRig(kind, [
      ...baseRecords(),
      { name: DOMAIN, ttl: 14400, type: 'TXT', data: ['v=spf1 +a +mx ~all'] },
      { name: `_dmarc.${DOMAIN}`, ttl: 14400, type: 'TXT', data: ['v=DMARC1; p=none; rua=mailto:d@alice.example'] },
      { name: `_dmarc.${DOMAIN}`, ttl: 14400, type: 'TXT', data: ['v=spf1 -all'] },
    ]);
    try {
      const plan = await makePlan({ domain: DOMAIN, check: 'dmarc' }, { panel: r.panel, resolver: r.resolver });
      assert.deepEqual(
        plan.changes.map((c) => [c.action, c.before?.txt?.join('') ?? c.before?.value]),
        [['remove', 'v=spf1 -all']],
      );
      const out = await applyPlan({ domain: DOMAIN, check: 'dmarc', planHash: plan.planHash }, r.deps());
      assert.equal(out.status, 'applied', JSON.stringify(out));
      const id = (out as { changeId: number }).changeId;
      const target = `${DOMAIN}.dmarc.service.example`;
      if (r.cp) {
        // cPanel's Zone Editor: the DMARC TXT deleted, the CNAME added, in one mass edit.
        const z = r.cp.zones[DOMAIN];
        const line = zoneView(r.cp, DOMAIN).find((x) => x.name.startsWith('_dmarc.') && x.type === 'TXT')!.line;
        const res = massEdit(r.cp, DOMAIN, [['zone', DOMAIN], ['serial', String(z.serial)], ['remove', String(line)], ['add', JSON.stringify({ dname: '_dmarc', ttl: 14400, record_type: 'CNAME', data: [`${target}.`] })]], null);
        assert.ok(res.ok, JSON.stringify(res));
      } else {
        const pl = r.pl!;
        pl.records = pl.records.filter((x) => !(x.type === 'TXT' && x.host.startsWith('_dmarc.')));
        pl.records.push({ id: pl.nextId++, domain_id: pl.domains.find((x) => x.name === DOMAIN)!.id, type: 'CNAME', host: `_dmarc.${DOMAIN}.`, value: `${target}.`, opt: '', ttl: 14400 });
      }
      await r.panel.refresh();
      const before = await r.records();
      const u = await undoChange(id, r.deps());
      const at = (await r.records()).filter((x) => x.startsWith('_dmarc.'));
      assert.equal(u.status, 'refused', `undo ${u.status}; _dmarc now holds ${JSON.stringify(at)}`);
      assert.match((u as { reason: string }).reason, new RegExp(`^Not undone: _dmarc\\.${DOMAIN.replace('.', '\\.')} is now an alias \\(CNAME to ${target.replace(/\./g, '\\.')}\\): .* Nothing was written\\.`));
      assert.deepEqual(await r.records(), before, 'nothing written');
      assert.deepEqual(at, [`_dmarc.${DOMAIN} CNAME 14400 ${target}`]);
      assert.equal(r.store.getChange(id)!.status, 'applied');
      assert.equal(r.store.getChange(id + 1), null, 'no intent recorded');
    } finally {
      await r.close();
    }
  });
}

test('a write the panel undid but for a removal, the name made an alias meanwhile: the removed record is not put back beside it (settleLeftovers)', async () => {
  const p = await start();
  const stray = 'v=spf1 -all';
  const text = p.zoneText(D);
  p.writeZone(D, text.replace(DMARC_LINE, `${DMARC_LINE}\n_dmarc\tIN\tTXT\t"${stray}"`));
  p.refresh();
  const plan = await p.plan(D, 'dmarc');
  const write = p.panel.applyChanges.bind(p.panel);
  let calls = 0;
  p.panel.applyChanges = async (domain, changes, version) => {
    if (calls++ > 0) return write(domain, changes, version);
    // The fix's write: the removal reaches the zone, then the customer makes _dmarc an alias, then the panel fails
    // saying the removal is what it left written.
    await write(domain, changes, version);
    pointAtService(p);
    throw new PartialWriteError('other', 'step 2 failed', changes);
  };
  const out = await applyPlan({ domain: D, check: 'dmarc', planHash: plan.planHash }, p.deps());
  assert.equal(out.status, 'failed', JSON.stringify(out));
  assert.deepEqual(atDmarc(p.zoneText(D)), [`CNAME ${SERVICE}`], 'nothing put back beside the alias');
  assert.deepEqual(parseZoneFile(p.zoneText(D), D).warnings, []);
  assert.equal(calls, 1, 'no clean-up write was sent');
  const ch = p.store.getChange((out as { changeId: number }).changeId)!;
  assert.equal(ch.status, 'failed');
  assert.match(ch.error ?? '', /_dmarc\.bakery\.example is now an alias \(CNAME to bakery\.example\.dmarc\.service\.example\), and putting the TXT record "v=spf1 -all" back would leave it beside the alias/);
  assert.match((out as { reason: string }).reason, /could not be put back/);
});

test('reconcile of a part-written fix whose name was made an alias since: the old record is not restored beside it (conflict)', async () => {
  const p = await start();
  const zone = await p.panel.readZone(D);
  const old = zone.records.find((r) => r.name === `_dmarc.${D}` && r.type === 'TXT')!;
  const fresh: ZoneRecord = { name: old.name, ttl: old.ttl, type: 'TXT', value: 'v=DMARC1; p=quarantine', txt: ['v=DMARC1; p=quarantine'] };
  // A fix that writes record by record (delete, then add), interrupted after the delete.
  const changes: Change[] = [
    { action: 'remove', name: old.name, type: 'TXT', ttl: old.ttl, before: old, after: null },
    { action: 'add', name: old.name, type: 'TXT', ttl: old.ttl, before: null, after: fresh },
  ];
  const id = p.store.recordIntent({ domain: D, check: 'dmarc', planHash: 'sha256:' + '1'.repeat(64), zoneVersion: zone.version, changes, byUser: 'root' });
  (p.panel as { capabilities: object }).capabilities = { ...p.panel.capabilities, recordByRecordWrites: true };
  await p.panel.applyChanges(D, [changes[0]], zone.version);
  // The customer points _dmarc at a DMARC service before anything settles the write.
  pointAtService(p);
  const before = p.zoneText(D);
  const results = await reconcile(p.deps());
  assert.deepEqual(
    results.map((x) => [x.id, x.outcome]),
    [[id, 'conflict']],
  );
  assert.equal(p.zoneText(D), before, 'nothing restored beside the alias');
  const ch = p.store.getChange(id)!;
  assert.equal(ch.status, 'failed');
  assert.match(ch.error ?? '', /_dmarc\.bakery\.example is now an alias \(CNAME to bakery\.example\.dmarc\.service\.example\), and putting the TXT record "v=DMARC1; p=none; rua=mailto:dmarc@bakery\.example" back would leave it beside the alias.*nothing was restored/);
});

// The pure pieces, on zones built by hand.
const rec = (name: string, type: string, value: string, ttl = 3600): ZoneRecord => (type === 'TXT' ? { name, ttl, type, value, txt: [value] } : { name, ttl, type, value });
const zoneOf = (records: ZoneRecord[]): Zone => ({ domain: 'a.example', serial: null, version: 'v1', records });

test('undoBesideAlias: an alias put back at a name that holds other records now is refused, naming them', () => {
  // A fix replaced the alias at a DKIM selector by a TXT key (edit); since, that key stayed and a second TXT was added.
  const alias = rec('s1._domainkey.a.example', 'CNAME', 's1.dkim.mail.example');
  const key = rec('s1._domainkey.a.example', 'TXT', 'v=DKIM1; k=rsa; p=AAAA');
  const other = rec('s1._domainkey.a.example', 'TXT', 'note');
  const zone = zoneOf([key, other]);
  const inverse: Change[] = [{ action: 'edit', name: key.name, type: 'TXT', ttl: 3600, before: key, after: alias }];
  const reason = undoBesideAlias(7, zone, inverse)!;
  assert.equal(
    reason,
    'Not undone: undoing change 7 would put an alias (CNAME to s1.dkim.mail.example) back at s1._domainkey.a.example, which now holds the TXT record "note", and a name that is an alias holds no other record (RFC 1034 §3.6.2, RFC 2181 §10.1): the zone would be invalid, and BIND refuses to load it. ' +
      'Nothing was written. To go back to the alias change 7 replaced, delete that record at s1._domainkey.a.example in the panel\'s DNS editor first, then undo change 7 again; to keep it, leave change 7 as it is.',
  );
  // Without the record added since, the same undo is no clash: the edit takes the key out as it puts the alias back.
  assert.equal(undoBesideAlias(7, zoneOf([key]), inverse), null);
});

test('aliasClash: only names the changes add to; an alias the changes take out, DNSSEC records, or a clash elsewhere are none', () => {
  const cname = rec('_dmarc.a.example', 'CNAME', 'x.example');
  const txt = rec('_dmarc.a.example', 'TXT', 'v=DMARC1; p=none');
  const add = (r: ZoneRecord): Change => ({ action: 'add', name: r.name, type: r.type, ttl: r.ttl, before: null, after: r });
  const remove = (r: ZoneRecord): Change => ({ action: 'remove', name: r.name, type: r.type, ttl: r.ttl, before: r, after: null });
  assert.deepEqual(aliasClash([cname], [add(txt)]), [{ name: txt.name, added: txt, alias: cname, others: [txt] }]);
  assert.equal(aliasClash([cname], [remove(cname), add(txt)]).length, 0, 'the alias replaced by the TXT');
  // A copy of the alias (not the zone's object) taken out counts as taking it out.
  assert.equal(aliasClash([cname], [remove({ ...cname }), add(txt)]).length, 0);
  assert.equal(aliasClash([cname], [add(rec('_dmarc.a.example', 'RRSIG', 'CNAME 13 3 3600 1 2 3 a.example. AAAA'))]).length, 0);
  // The zone already has an alias beside a TXT at www: a change at _dmarc does not make it this write's clash.
  const www = [rec('www.a.example', 'CNAME', 'a.example'), rec('www.a.example', 'TXT', 'old')];
  assert.equal(aliasClash(www, [add(txt)]).length, 0);
  // An alias added beside a TXT: the alias is what was added.
  assert.deepEqual(aliasClash([txt], [add(cname)]), [{ name: cname.name, added: cname, alias: cname, others: [txt] }]);
  // aliasBlock says an alias as the undo's refusal does.
  assert.match(aliasBlock([cname], '_dmarc.a.example', 'DMARC policy')!, /^_dmarc\.a\.example is an alias \(CNAME to x\.example\): /);
});
