// voidsThrough: the most void lookups receivers can count for a sender of one family before the record a term leads to
// has decided for it — voidsBefore and what that record itself may cost (review: a relay reached through an include of
// the domain's own record whose terms before the relay's include cost void lookups was never checked). voidsAcross:
// the same over every mechanism of a record (the SPF fix asks no DNS question about where the relay's include stands
// when it is at most 2).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { voidsAcross, voidsBefore, voidsThrough, walkSpfRecord } from '../../../src/core/spf/tree.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';

const D = 'through.example';

function world(record: string): ZoneMap {
  return {
    [D]: { TXT: [[record]] },
    'v6only.example': { AAAA: ['2001:db8::1'] },
    'v4only.example': { A: ['198.51.100.1'] },
    // The domain's own record: a name without A, an exists term with macros, then the relay-like record.
    [`_spf.${D}`]: { TXT: [['v=spf1 a:v6only.example exists:%{i}.list.example include:_target.example ~all']] },
    '_target.example': { TXT: [['v=spf1 ip4:23.83.208.0/20 ~all']] },
  };
}

const tree = (record: string) => walkSpfRecord(new MapResolver(world(record)), D, record);

describe('voidsThrough and voidsAcross', () => {
  test('what the record a term leads to may cost counts through it, per family', async () => {
    const t = await tree(`v=spf1 a:v4only.example include:_spf.${D} ~all`);
    const own = t.terms.find((x) => x.term === `include:_spf.${D}`)!;
    // Before it: a:v4only.example is void for IPv6 senders only.
    assert.equal(voidsBefore(t, own, 4), 0);
    assert.equal(voidsBefore(t, own, 6), 1);
    // Through it: v6only.example (void for IPv4) and the exists term (void for an address the list does not hold).
    assert.equal(voidsThrough(t, own, 4), 2);
    assert.equal(voidsThrough(t, own, 6), 2);
    assert.equal(voidsAcross(t, 4), 2);
    assert.equal(voidsAcross(t, 6), 2);
  });

  test('a record whose names all have both families, no macros: nothing through it, nothing across', async () => {
    const t = await tree('v=spf1 include:_target.example ~all');
    assert.equal(voidsThrough(t, t.terms[0], 4), 0);
    assert.equal(voidsAcross(t, 4) + voidsAcross(t, 6), 0);
  });

  test('terms after all are never evaluated: they cost nothing across', async () => {
    const t = await tree('v=spf1 ~all exists:%{i}.list.example a:v6only.example');
    assert.equal(voidsAcross(t, 4), 0);
  });
});
