// What the a/mx terms of a relayed domain's SPF record match (src/core/spf/relay.ts relayTermRanges) is read from the
// walk (src/core/spf/tree.ts keeps each a/mx name's addresses on the term), not asked again. Review: relayTermRanges
// walked the tree a second time and asked every a/mx name's A and AAAA (and every mx name's MX) again — for every
// relayed domain, at the check and again at each plan; answered from the run's cache, but each a question the nightly
// report's rate limit pays for, and, asked again, an answer that differs from the walk's (a timeout the second time)
// made the judgement disagree with the tree it judged.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Answer, Resolver, RRType } from '../../../src/core/resolver.js';
import { relayAuthorisation, relayTermRanges } from '../../../src/core/spf/relay.js';
import { walkSpfRecord, type SpfTreeNode, type SpfTreeTerm } from '../../../src/core/spf/tree.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';

const D = 'ranges.example';
const HOSTS = ['relay.mailchannels.net'];
const WORLD: ZoneMap = {
  'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ~all']] },
  'hit.names.example': { A: ['23.83.208.10'] },
  'both.names.example': { A: ['23.83.208.20', '23.83.208.21'], AAAA: ['2001:db8::20'] },
  'v6only.names.example': { AAAA: ['2001:db8::9'] },
  'none.names.example': { TXT: [['no addresses']] },
  'mx.names.example': {
    MX: [
      { priority: 10, exchange: 'hit.names.example' },
      { priority: 20, exchange: 'both.names.example' },
    ],
  },
  '_spf.inner.example': { TXT: [['v=spf1 a:v6only.names.example//64 include:relay.mailchannels.net ~all']] },
};

function term(tree: SpfTreeNode, text: string): SpfTreeTerm {
  const t = tree.terms.find((x) => x.term === text);
  assert.ok(t, text);
  return t;
}

describe('the walk keeps the addresses of each a/mx name', () => {
  test('a: its name\'s A and AAAA answers; mx: its exchangers\', in order; none for a name without addresses', async () => {
    const record = 'v=spf1 a:both.names.example mx:mx.names.example a:none.names.example include:relay.mailchannels.net ~all';
    const tree = await walkSpfRecord(new MapResolver({ ...WORLD, [D]: { TXT: [[record]] } }), D, record);
    const a = term(tree, 'a:both.names.example');
    assert.deepEqual([a.addresses4, a.addresses6], [['23.83.208.20', '23.83.208.21'], ['2001:db8::20']]);
    const mx = term(tree, 'mx:mx.names.example');
    assert.deepEqual([mx.addresses4, mx.addresses6], [['23.83.208.10', '23.83.208.20', '23.83.208.21'], ['2001:db8::20']]);
    const none = term(tree, 'a:none.names.example');
    assert.deepEqual([none.addresses4, none.addresses6], [undefined, undefined]);
  });
});

describe('relayTermRanges reads the walk', () => {
  test('no question asked; each term\'s addresses with its CIDR lengths, nested records included', async () => {
    const record = 'v=spf1 -a:hit.names.example/24 ~mx:mx.names.example//64 include:_spf.inner.example ~all';
    const resolver = new MapResolver({ ...WORLD, [D]: { TXT: [[record]] } });
    const tree = await walkSpfRecord(resolver, D, record);
    const asked = resolver.log.length;
    const known = relayTermRanges(tree);
    assert.equal(resolver.log.length, asked, `asked again: ${resolver.log.slice(asked).join(', ')}`);
    assert.deepEqual(
      [...known].map(([t, ranges]) => [t.term, [...ranges].sort()]),
      [
        ['-a:hit.names.example/24', ['23.83.208.10/24']],
        ['~mx:mx.names.example//64', ['2001:db8::20/64', '23.83.208.10/32', '23.83.208.20/32', '23.83.208.21/32']],
        ['a:v6only.names.example//64', ['2001:db8::9/64']],
      ],
    );
  });

  test("the relay is judged with the addresses the walk got, whatever the name's next answer (a timeout)", async () => {
    const record = 'v=spf1 -a:hit.names.example include:relay.mailchannels.net ~all';
    const resolver = new SecondAnswerTimesOut({ ...WORLD, [D]: { TXT: [[record]] } }, 'hit.names.example A');
    const tree = await walkSpfRecord(resolver, D, record);
    assert.equal(tree.unknown, false);
    assert.deepEqual(relayAuthorisation(tree, HOSTS, relayTermRanges(tree)), {
      state: 'shadowed',
      term: '-a:hit.names.example',
      qualifier: '-',
      include: 'include:relay.mailchannels.net',
      ranges: ['23.83.208.10'],
    });
  });

  test('at most 40 a/mx terms are read (a hostile tree), the first ones in the order of the record and its includes', async () => {
    // 30 a terms in the record, then an include of 20 more: the first 10 of those are read, the rest match nothing.
    const names: ZoneMap = Object.fromEntries(Array.from({ length: 50 }, (_, k) => [`h${k}.many.example`, { A: [`23.83.${208 + (k % 16)}.${k}`] }]));
    const own = Array.from({ length: 30 }, (_, k) => `-a:h${k}.many.example`);
    const more = Array.from({ length: 20 }, (_, k) => `-a:h${30 + k}.many.example`);
    const record = `v=spf1 ${own.join(' ')} include:_spf.more.example include:relay.mailchannels.net ~all`;
    const resolver = new MapResolver({ ...WORLD, ...names, '_spf.more.example': { TXT: [[`v=spf1 ${more.join(' ')} ~all`]] }, [D]: { TXT: [[record]] } });
    const tree = await walkSpfRecord(resolver, D, record);
    const known = relayTermRanges(tree);
    assert.deepEqual(
      [...known.keys()].map((t) => t.term),
      [...own, ...more.slice(0, 10)],
    );
  });
});

/** A MapResolver whose answer to one question ("name TYPE") is a timeout from the second time it is asked. */
class SecondAnswerTimesOut implements Resolver {
  private readonly inner: MapResolver;
  private asked = 0;
  constructor(
    map: ZoneMap,
    private readonly question: string,
  ) {
    this.inner = new MapResolver(map);
  }
  async resolve<T extends RRType>(name: string, type: T): Promise<Answer<T>> {
    if (`${name.toLowerCase()} ${type}` === this.question && ++this.asked > 1) return { name, type, status: 'unknown', records: [], error: 'timeout' };
    return this.inner.resolve(name, type);
  }
}
