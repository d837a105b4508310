// cPanel / WHM: an owner name the customer typed in upper case (`_DMARC`) keeps its spelling through a fix and its
// undo (QA q2 #6: it came back as `_dmarc`). Owner names compare without case (RFC 4343): records are still read under
// the lower-case name; the spelling rides along in ZoneRecord.source and mass_edit_zone is given it back.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { decodeZone, massEditParams } from '../../../src/adapters/panels/cpanel/zonefile.js';
import type { Change, ZoneRecord } from '../../../src/core/model.js';
import { applyPlan, undoChange } from '../../../src/core/plans/apply.js';
import { makePlan } from '../../../src/core/plans/index.js';
import { baseRecords, DOMAIN, makeRig, type Rig } from '../../helpers/emulators/rig.js';

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});

const OLD = 'v=DMARC1; p=none; rua=mailto:dmarc@websitewelcome.com';

for (const kind of ['cpanel', 'whm'] as const) {
  describe(`${kind}: owner spelling`, () => {
    it('_DMARC stays _DMARC through the DMARC fix and its undo, the text exact', async () => {
      const r = await makeRig(kind, [...baseRecords(), { name: DOMAIN, ttl: 14400, type: 'TXT', data: ['v=spf1 +a +mx ~all'] }, { name: `_DMARC.${DOMAIN}`, ttl: 3600, type: 'TXT', data: [OLD] }]);
      rigs.push(r);
      const dmarc = () =>
        r.cp!.zones[DOMAIN].lines.filter((l) => l?.kind === 'record' && /dmarc/i.test(l.dname)).map((l) => (l?.kind === 'record' ? `${l.dname} ${l.data.join('')}` : ''));
      const plan = await makePlan({ domain: DOMAIN, check: 'dmarc', options: {} }, r.deps());
      assert.deepEqual(plan.changes.map((c) => [c.action, c.name]), [['edit', `_dmarc.${DOMAIN}`]]);
      const out = await applyPlan({ domain: DOMAIN, check: 'dmarc', planHash: plan.planHash }, r.deps());
      assert.equal(out.status, 'applied', JSON.stringify(out));
      assert.equal(dmarc().length, 1);
      assert.match(dmarc()[0], /^_DMARC v=DMARC1/);
      const undone = await undoChange((out as { changeId: number }).changeId, r.deps());
      assert.equal(undone.status, 'applied', JSON.stringify(undone));
      assert.deepEqual(dmarc(), [`_DMARC ${OLD}`]);
    });

    it('the apex written "Alice.Example." keeps that spelling through the SPF fix (an edit) and its undo', async () => {
      const STALE = 'v=spf1 +a +mx include:websitewelcome.com ~all';
      const r = await makeRig(kind, [...baseRecords(), { name: DOMAIN, ttl: 14400, type: 'TXT', data: [STALE] }, { name: `_dmarc.${DOMAIN}`, ttl: 3600, type: 'TXT', data: ['v=DMARC1; p=none'] }]);
      rigs.push(r);
      const lines = () => r.cp!.zones[DOMAIN].lines;
      for (const l of lines()) if (l?.kind === 'record' && l.type === 'TXT' && l.dname === `${DOMAIN}.` && l.data.join('') === STALE) l.dname = 'Alice.Example.';
      await r.panel.refresh();
      const spf = () => lines().flatMap((l) => (l?.kind === 'record' && l.type === 'TXT' && l.data.join('').startsWith('v=spf1') ? [`${l.dname} ${l.data.join('')}`] : []));
      const plan = await makePlan({ domain: DOMAIN, check: 'spf', options: {} }, r.deps());
      const out = await applyPlan({ domain: DOMAIN, check: 'spf', planHash: plan.planHash }, r.deps());
      assert.equal(out.status, 'applied', JSON.stringify(out));
      assert.equal(spf().length, 1);
      assert.match(spf()[0], /^Alice\.Example\. v=spf1/, 'an edit keeps the owner as written');
      const undone = await undoChange((out as { changeId: number }).changeId, r.deps());
      assert.equal(undone.status, 'applied', JSON.stringify(undone));
      assert.deepEqual(spf(), [`Alice.Example. ${STALE}`]);
    });
  });
}

describe('massEditParams: the owner as spelled', () => {
  const Z = 'alice.example';
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const zone = decodeZone(Z, [
    { line_index: 0, type: 'record', dname_b64: b64(`${Z}.`), ttl: 86400, record_type: 'SOA', data_b64: ['ns1.x.', 'h.x.', '5', '1', '1', '1', '1'].map(b64) },
    { line_index: 3, type: 'record', dname_b64: b64('_DMARC'), ttl: 3600, record_type: 'TXT', data_b64: [b64('v=DMARC1; p=none')] },
    { line_index: 4, type: 'record', dname_b64: b64('Mail'), ttl: 300, record_type: 'A', data_b64: [b64('192.0.2.1')] },
    { line_index: 5, type: 'record', dname_b64: b64('www'), ttl: 300, record_type: 'A', data_b64: [b64('192.0.2.2')] },
  ]);
  const at = (name: string): ZoneRecord => zone.records.find((r) => r.name === name)!;
  const sent = (changes: Change[]) => massEditParams(Z, '5', changes).filter(([k]) => k !== 'zone' && k !== 'serial').map(([k, v]) => [k, k === 'remove' ? v : JSON.parse(v).dname]);

  it('an owner read as a full name is written back as that full name (trailing dot), a relative one relative', () => {
    const z = decodeZone(Z, [
      { line_index: 0, type: 'record', dname_b64: b64('Alice.Example.'), ttl: 300, record_type: 'TXT', data_b64: [b64('v=spf1 -all')] },
      { line_index: 1, type: 'record', dname_b64: b64('_MailChannels.Alice.Example.'), ttl: 300, record_type: 'TXT', data_b64: [b64('v=mc1 auth=x')] },
      { line_index: 2, type: 'record', dname_b64: b64(`${Z}.`), ttl: 300, record_type: 'TXT', data_b64: [b64('other')] },
      { line_index: 3, type: 'record', dname_b64: b64(`_mailchannels.${Z}.`), ttl: 300, record_type: 'TXT', data_b64: [b64('v=mc1 auth=y')] },
    ]);
    assert.deepEqual(
      z.records.map((r) => [r.name, r.source]),
      [
        [Z, 'Alice.Example.'],
        [`_mailchannels.${Z}`, '_MailChannels.Alice.Example.'],
        [Z, undefined],
        [`_mailchannels.${Z}`, `_mailchannels.${Z}.`],
      ],
    );
    const readd = (r: ZoneRecord): Change => ({ action: 'add', name: r.name, type: r.type, ttl: r.ttl, before: null, after: { ...r, ref: undefined } });
    assert.deepEqual(sent(z.records.map(readd)), [['add', 'Alice.Example.'], ['add-1', '_MailChannels.Alice.Example.'], ['add-2', `${Z}.`], ['add-3', `_mailchannels.${Z}.`]]);
    const fresh = { name: Z, ttl: 300, type: 'TXT', value: 'v=spf1 mx -all' };
    assert.deepEqual(sent([{ action: 'edit', name: Z, type: 'TXT', ttl: 300, before: z.records[0], after: fresh }]), [['edit', 'Alice.Example.']]);
  });

  it('read under the lower-case name; the spelling kept only where it differs', () => {
    assert.equal(at(`_dmarc.${Z}`).source, `_DMARC.${Z}`);
    assert.equal(at(`www.${Z}`).source, undefined);
  });

  it('an edit keeps the old owner spelling; an undo (add of the old record) puts it back; another owner is not given it', () => {
    const d = at(`_dmarc.${Z}`);
    const fresh = { name: `_dmarc.${Z}`, ttl: 3600, type: 'TXT', value: 'v=DMARC1; p=quarantine' };
    assert.deepEqual(sent([{ action: 'edit', name: d.name, type: 'TXT', ttl: 3600, before: d, after: fresh }]), [['edit', '_DMARC']]);
    assert.deepEqual(sent([{ action: 'add', name: d.name, type: 'TXT', ttl: 3600, before: null, after: { ...d, ref: undefined } }]), [['add', '_DMARC']]);
    const mail = at(`mail.${Z}`);
    assert.deepEqual(sent([{ action: 'edit', name: `www.${Z}`, type: 'A', ttl: 300, before: mail, after: { name: `www.${Z}`, ttl: 300, type: 'A', value: '192.0.2.3' } }]), [['edit', 'www']]);
    assert.deepEqual(sent([{ action: 'add', name: `new.${Z}`, type: 'TXT', ttl: 300, before: null, after: { name: `new.${Z}`, ttl: 300, type: 'TXT', value: 'x', source: `_DMARC.${Z}` } }]), [['add', 'new']]);
  });
});
