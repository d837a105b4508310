// What the SPF fix drops, keeps and adds where no other test pinned it (found by manual mutation testing of
// src/core/plans/spf.ts): each test below fails when the rule it names is removed or loosened.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from '../checks/context.js';

const txt = (name: string, value: string, ref: string): ZoneRecord => ({ name, ttl: 3600, type: 'TXT', value, txt: [value], ref });
/** The SPF records left at the apex once the plan's changes are applied to `zone` (one, when the fix is right). */
function after(zone: ZoneRecord[], plan: Awaited<ReturnType<typeof planSpf>>): string {
  const gone = new Set(plan.changes.map((c) => c.before).filter((r) => r !== null));
  const left = [...zone.filter((r) => !gone.has(r)), ...plan.changes.flatMap((c) => (c.after ? [c.after] : []))];
  return left.map((r) => (r.txt ? r.txt.join('') : r.value)).filter((t) => t.startsWith('v=spf1')).join(' | ');
}

describe('spf fix: an include of a name that publishes several SPF records', () => {
  // Receivers return permerror for such an include whoever it names (RFC 7208 §4.5 at the target): the fix drops it,
  // saying why, rather than keeping it and refusing to fix the record.
  const D = 'twice.example';
  const SPF = `v=spf1 ip4:${SERVER_IP} include:spf.twice-vendor.example ~all`;
  const MAP: ZoneMap = {
    [D]: { TXT: [[SPF]] },
    'spf.twice-vendor.example': { TXT: [['v=spf1 ip4:198.51.100.0/24 ~all'], ['v=spf1 ip4:192.0.2.0/24 ~all']] },
  };

  test('the include is dropped with its reason, and the plan goes through', async () => {
    const zone = [txt(D, SPF, 'spf')];
    const plan = await planSpf(checkContext(D, MAP, {}, zone), zone, {});
    assert.equal(plan.blocked, undefined, plan.blocked);
    assert.equal(after(zone, plan), `v=spf1 ip4:${SERVER_IP} ~all`, plan.notes.join('\n'));
    assert.ok(
      plan.notes.some((n) => n.startsWith('Drops include:spf.twice-vendor.example: spf.twice-vendor.example publishes several SPF records')),
      plan.notes.join('\n'),
    );
  });
});

describe('spf fix: merging a record whose redirect= becomes an include', () => {
  // Two records: one ends in -all, the other applies redirect=_spf.vendor-x.example (no all term). The merged record
  // ends in -all, so the redirect is written as include:_spf.vendor-x.example — and selecting that include, as the
  // preview shows it, removes it (the customer no longer sends through that vendor).
  const D = 'merge.example';
  const A = `v=spf1 ip4:${SERVER_IP} -all`;
  const B = 'v=spf1 redirect=_spf.vendor-x.example';
  const MAP: ZoneMap = {
    [D]: { TXT: [[A], [B]] },
    '_spf.vendor-x.example': { TXT: [['v=spf1 ip4:198.51.100.0/24 -all']] },
  };
  const zone = [txt(D, A, 'a'), txt(D, B, 'b')];

  test('without a selection: the redirect is kept as an include', async () => {
    const plan = await planSpf(checkContext(D, MAP, {}, zone), zone, {});
    assert.equal(plan.blocked, undefined, plan.blocked);
    assert.equal(after(zone, plan), `v=spf1 ip4:${SERVER_IP} include:_spf.vendor-x.example -all`, plan.notes.join('\n'));
  });

  test('the include form selected for removal: the redirect goes, and the selection is not called missing', async () => {
    const plan = await planSpf(checkContext(D, MAP, {}, zone), zone, { removeTerms: ['include:_spf.vendor-x.example'] });
    assert.equal(plan.blocked, undefined, plan.blocked);
    assert.equal(after(zone, plan), `v=spf1 ip4:${SERVER_IP} -all`, plan.notes.join('\n'));
    assert.ok(plan.notes.some((n) => n.startsWith('Drops redirect=_spf.vendor-x.example')), plan.notes.join('\n'));
    assert.ok(!plan.notes.some((n) => /has no such term/.test(n)), plan.notes.join('\n'));
  });
});
