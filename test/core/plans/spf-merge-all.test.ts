// QA: merging two SPF records silently took the first record's `all` (`if (!all) all = t`): `~all` then `-all` merged
// to `~all` with no note, the same two records in the other order to `-all`, and `?all` first noted only "Replaces
// ?all" without saying `-all` was dropped. The merged record now ends in the strictest of the records' all terms
// (-all, ~all, ?all; +all is replaced as permissive), whatever their order, and a note says which was taken and which
// dropped whenever the records disagree.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from '../checks/context.js';

const D = 'twospf.example';
const WORLD: ZoneMap = {
  [D]: { A: [SERVER_IP], MX: [{ priority: 10, exchange: 'server1.newhost.example' }] },
  'server1.newhost.example': { A: [SERVER_IP] },
  '10.113.0.203.in-addr.arpa': { PTR: ['server1.newhost.example'] },
  '_spf.google.com': { TXT: [['v=spf1 include:_netblocks.google.com ~all']] },
  '_netblocks.google.com': { TXT: [['v=spf1 ip4:35.190.247.0/24 ~all']] },
  'websitewelcome.com': { TXT: [['v=spf1 ip4:192.185.0.0/16 ~all']] },
  'spf.crm.example': { TXT: [['v=spf1 ip4:198.18.5.0/24 -all']] },
};

async function merge(records: string[], settings: Partial<MailSettings> = {}) {
  const map: ZoneMap = { ...WORLD, [D]: { ...WORLD[D], TXT: records.map((r) => [r]) } };
  const zone: ZoneRecord[] = records.map((value, i) => ({ name: D, ttl: 3600, type: 'TXT', value, txt: [value], ref: `spf:${i}` }));
  const p = await planSpf(checkContext(D, map, settings, zone), zone, {});
  // The SPF records the zone holds after the plan (a merge that keeps one record as it is only removes the others).
  const removed = new Set(p.changes.map((c) => c.before).filter((r) => r));
  const left = zone.filter((r) => !removed.has(r)).concat(p.changes.flatMap((c) => (c.after ? [c.after] : [])));
  const after = p.changes.length ? left.map((r) => (r.txt ?? [r.value]).join('')).join(' | ') : null;
  return { p, after, show: `${p.blocked ?? ''}\n${p.notes.join('\n')}` };
}

const endsIn = (record: string | null) => record?.split(' ').pop();
const allNote = (notes: string[]) => notes.find((n) => n.startsWith('The SPF records end differently'));

describe('SPF fix: merging records that end in different all terms', () => {
  const soft = 'v=spf1 include:websitewelcome.com ~all';
  const hard = 'v=spf1 a mx include:_spf.google.com -all';

  test('~all then -all → -all, with a note naming what was taken and what was dropped', async () => {
    const { p, after, show } = await merge([soft, hard]);
    assert.equal(p.blocked, undefined, show);
    assert.equal(after, 'v=spf1 a mx include:_spf.google.com -all', show);
    const note = allNote(p.notes);
    assert.ok(note, show);
    assert.match(note, /~all, -all/);
    assert.match(note, /takes -all, the strictest/);
    assert.match(note, /drops ~all/);
  });

  test('the same records in the other order → the same record and the same choice', async () => {
    const a = await merge([soft, hard]);
    const b = await merge([hard, soft]);
    assert.equal(b.after, a.after, b.show);
    assert.match(allNote(b.p.notes) ?? '', /takes -all, the strictest .* drops ~all/, b.show);
  });

  test('?all first → -all, the note says -all was taken and ?all dropped (not only "Replaces ?all")', async () => {
    const { p, after, show } = await merge(['v=spf1 include:spf.crm.example ?all', hard]);
    assert.equal(endsIn(after), '-all', show);
    assert.match(allNote(p.notes) ?? '', /takes -all, the strictest .* drops \?all/, show);
    assert.ok(!p.notes.some((n) => n.startsWith('Replaces ?all')), `?all is not what the merged record ends in\n${show}`);
  });

  test('+all and ?all → neither kept as such: ?all taken over +all, then replaced with ~all as for one record', async () => {
    for (const order of [
      ['v=spf1 a +all', 'v=spf1 mx ?all'],
      ['v=spf1 mx ?all', 'v=spf1 a +all'],
    ]) {
      const { p, after, show } = await merge(order);
      assert.equal(endsIn(after), '~all', show);
      assert.match(allNote(p.notes) ?? '', /takes \?all, the strictest .* drops \+all \(it authorises everyone\)/, show);
      assert.ok(p.notes.includes('Replaces ?all (neutral) with ~all.'), show);
    }
  });

  test('records that agree: no note about the all term', async () => {
    const { p, after, show } = await merge(['v=spf1 include:spf.crm.example -all', hard]);
    assert.equal(endsIn(after), '-all', show);
    assert.equal(allNote(p.notes), undefined, show);
  });

  test('one record keeps its all term as before (the first one receivers evaluate)', async () => {
    const { after, p, show } = await merge(['v=spf1 a mx ~all']);
    assert.equal(after, null, show);
    assert.equal(allNote(p.notes), undefined, show);
  });
});
