// The walk's unfollowedAt: the term of a record a permanent error check_host met at one of its terms (permerrorAt)
// comes from, where the walk cannot see it — the term itself when the walk could not follow it, or, when check_host
// met the 11th DNS-querying term at a term the walk follows and finds nothing wrong with, the first term before it the
// walk could not follow (its record cost that sender the lookups). Review: only the relay's own include was taken as
// such an 11th term, so a later service's include (include:_spf.google.com) left the audit saying spf.ok.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkHost } from '../../../src/core/spf/evaluate.js';
import { unfollowedAt, walkSpfRecord } from '../../../src/core/spf/tree.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';

const D = 'unfollowedat.example';
const IP = '192.0.2.10';
const NINE = `v=spf1 ${Array.from({ length: 9 }, (_, k) => `include:h${k}.many.example`).join(' ')} -all`;
const WORLD: ZoneMap = {
  '192._spf.many.example': { TXT: [[NINE]] },
  ...Object.fromEntries(Array.from({ length: 9 }, (_, k) => [`h${k}.many.example`, { TXT: [['v=spf1 -all']] }])),
  '_spf.svc.example': { TXT: [['v=spf1 ip4:198.51.100.0/24 -all']] },
  '_spf.broken.example': { TXT: [['v=spf1 include:nothing.example -all']] },
};

async function both(spf: string) {
  const resolver = new MapResolver({ [D]: { TXT: [[spf]] }, ...WORLD });
  const tree = await walkSpfRecord(resolver, D, spf);
  const r = await checkHost(IP, D, `postmaster@${D}`, `mail.${D}`, resolver);
  return { tree, r };
}

describe('walk: unfollowedAt', () => {
  test('the 11th lookup at a later term the walk follows: the term with macros before it', async () => {
    const { tree, r } = await both('v=spf1 ip4:198.51.100.1 include:%{i1r}._spf.many.example include:_spf.svc.example ~all');
    assert.equal(r.permerrorAt, 'include:_spf.svc.example');
    assert.match(r.reason ?? '', /more than 10 DNS-querying terms/);
    assert.equal(unfollowedAt(tree, r.permerrorAt), 'include:%{i1r}._spf.many.example');
  });

  test('the 11th lookup at a redirect=: the term with macros among the mechanisms', async () => {
    const { tree, r } = await both('v=spf1 include:%{i1r}._spf.many.example redirect=_spf.svc.example');
    assert.equal(r.permerrorAt, 'redirect=_spf.svc.example');
    assert.equal(unfollowedAt(tree, r.permerrorAt), 'include:%{i1r}._spf.many.example');
  });

  test('an include with macros whose name has no SPF record: that include', async () => {
    const { tree, r } = await both('v=spf1 include:%{ir}._spf.none.example include:_spf.svc.example ~all');
    assert.equal(unfollowedAt(tree, r.permerrorAt), 'include:%{ir}._spf.none.example');
  });

  test('a permanent error the walk sees (an include leading to a name without SPF): none, even after a term with macros', async () => {
    const { tree, r } = await both('v=spf1 include:%{ir}._spf.svc.example include:_spf.broken.example ~all');
    // (%{ir}… for this address: 10.2.0.192._spf.svc.example, which does not exist — the first error check_host meets.)
    assert.equal(r.permerrorAt, 'include:%{ir}._spf.svc.example');
    assert.equal(unfollowedAt(tree, 'include:_spf.broken.example'), undefined);
    assert.equal(unfollowedAt(tree, undefined), undefined);
  });

  test('no term the walk could not follow before the term: none', async () => {
    const { tree } = await both('v=spf1 include:_spf.svc.example include:%{i1r}._spf.many.example ~all');
    assert.equal(unfollowedAt(tree, 'include:_spf.svc.example'), undefined);
  });
});
