// The relay judged address by address, as check_host judges it (src/core/spf/relay.ts relayAuthorisation,
// permerrorBefore), where the walk along the way to the relay's include took shortcuts — found by
// test/e2e/spf-relay-limit-oracles.test.ts (pyspf and Mail::SPF over records with the relay's include after 7–11
// lookups), each reproduced here on its smallest record, with mailhealth's own check_host (src/core/spf/evaluate.ts)
// saying what receivers answer for the relay's addresses:
// - an include before the relay's whose record fails (-ip4:) or passes (a:<name>/20) the relay's addresses before its
//   own 10 lookups was counted whole: "the relay's include is reached past 10 lookups" where receivers pass it;
// - lookups inside the record that leads to the relay, before its include there, were not counted at all, nor was an
//   include of a name without SPF there: the 11th lookup (the permanent error) came first for receivers, the audit
//   said the relay was authorised;
// - -a:, ~mx:, -exists: of names with the relay's addresses (or that exist), ?include: and -include: of records that
//   pass them, before the relay's include (or before it inside the record leading to it) were no match: spf.ok, while
//   receivers fail, softfail or neutral the relay's mail from those addresses; and the SPF fix left such a record as it
//   was, or wrote one that still did. A term with macros stays no match (only check_host with the address can tell).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import { checkHost } from '../../../src/core/spf/evaluate.js';
import { permerrorBefore, relayAuthorisation, relayTermRanges } from '../../../src/core/spf/relay.js';
import { walkSpfRecord } from '../../../src/core/spf/tree.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from '../checks/context.js';

const D = 'limit.example';
const RELAY = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;
const HOSTS = ['relay.mailchannels.net'];
/** Addresses of each range the relay publishes below. */
const RELAY_IPS = ['23.83.208.10', '23.83.215.250', '205.201.128.10'];
const fills = (from: number, n: number) => Array.from({ length: n }, (_, k) => `a:f${from + k}.fill.example`).join(' ');

const WORLD: ZoneMap = {
  'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ip4:205.201.128.0/20 ~all']] },
  ...Object.fromEntries(Array.from({ length: 12 }, (_, k) => [`f${k}.fill.example`, { A: [`192.0.2.${k + 1}`] }])),
  'hit.names.example': { A: ['23.83.208.10'] },
  'wide.names.example': { A: ['23.83.208.1'] },
  'wideb.names.example': { A: ['205.201.128.1'] },
  'mx.names.example': { MX: [{ priority: 10, exchange: 'hit.names.example' }] },
  'yes.names.example': { A: ['127.0.0.2'] },
  '23.83.208.10.list.names.example': { A: ['127.0.0.2'] },
  'passes.example': { TXT: [['v=spf1 ip4:23.83.0.0/16 -all']] },
};

function world(record: string, more: ZoneMap = {}): ZoneMap {
  return { ...WORLD, ...more, [D]: { TXT: [[record]] } };
}

async function walked(record: string, more: ZoneMap = {}) {
  const resolver = new MapResolver(world(record, more));
  const tree = await walkSpfRecord(resolver, D, record);
  return { tree, known: relayTermRanges(tree) };
}

/** What receivers answer for each of RELAY_IPS (mailhealth's check_host). */
async function receivers(record: string, more: ZoneMap = {}): Promise<string[]> {
  const out: string[] = [];
  for (const ip of RELAY_IPS) out.push((await checkHost(ip, D, `postmaster@${D}`, 'server1.newhost.example', new MapResolver(world(record, more)))).result);
  return out;
}

function setup(record: string, more: ZoneMap = {}) {
  const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'TXT', value: record, txt: [record], ref: 'spf' }];
  return { ctx: checkContext(D, world(record, more), RELAY, zone), zone };
}

const show = (fs: readonly Finding[]) => fs.filter((f) => f.check === 'spf').map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''} [${f.subject ?? ''}]: ${f.message}`).join('\n');
const notAuthorised = (fs: readonly Finding[]) => fs.filter((f) => f.rule === 'spf.server-not-authorized');

async function fixed(record: string, more: ZoneMap = {}) {
  const { ctx, zone } = setup(record, more);
  const p = await planSpf(ctx, zone, {});
  const after = p.changes.find((c) => c.after)?.after?.value ?? null;
  return { p, after, show: `after: ${after}\nblocked: ${p.blocked}\n${p.notes.join('\n')}` };
}

describe("permerrorBefore: lookups counted as receivers count them for the relay's addresses", () => {
  const spf = `v=spf1 include:_spf.early.example include:relay.mailchannels.net ~all`;

  test('an include whose record fails the relay\'s addresses before its 10 lookups: receivers stop there and pass the relay; not reported', async () => {
    const more: ZoneMap = { '_spf.early.example': { TXT: [[`v=spf1 -ip4:23.83.208.0/20 ~ip4:205.201.128.0/20 ${fills(0, 10)} ~all`]] } };
    assert.deepEqual(await receivers(spf, more), ['pass', 'pass', 'pass']);
    const { tree, known } = await walked(spf, more);
    assert.equal(relayAuthorisation(tree, HOSTS, known).state, 'pass');
    assert.equal(permerrorBefore(tree, 'include:relay.mailchannels.net', HOSTS, known), null);
    const fs = await spfCheck(setup(spf, more).ctx);
    assert.deepEqual(notAuthorised(fs), [], show(fs));
    // The record still costs other senders 12 lookups: said as such.
    assert.ok(fs.some((f) => f.rule === 'spf.too-many-lookups'), show(fs));
  });

  test('…one that fails part of them: the rest go through its 10 lookups, and are reported', async () => {
    const more: ZoneMap = { '_spf.early.example': { TXT: [[`v=spf1 -ip4:23.83.208.0/20 ${fills(0, 10)} ~all`]] } };
    assert.deepEqual(await receivers(spf, more), ['pass', 'pass', 'permerror']);
    const { tree, known } = await walked(spf, more);
    assert.deepEqual(permerrorBefore(tree, 'include:relay.mailchannels.net', HOSTS, known), {
      term: 'include:_spf.early.example',
      why: 'receivers count 11 DNS lookups by the end of it, more than 10 (RFC 7208 §4.6.4)',
    });
  });

  test('an include whose a: terms name every address of the relay\'s ranges first: it passes them there; not reported', async () => {
    const more: ZoneMap = { '_spf.early.example': { TXT: [[`v=spf1 a:wide.names.example/20 a:wideb.names.example/20 ${fills(0, 9)} ~all`]] } };
    assert.deepEqual(await receivers(spf, more), ['pass', 'pass', 'pass']);
    const { tree, known } = await walked(spf, more);
    assert.equal(permerrorBefore(tree, 'include:relay.mailchannels.net', HOSTS, known), null);
    const fs = await spfCheck(setup(spf, more).ctx);
    assert.deepEqual(notAuthorised(fs), [], show(fs));
  });

  test('lookups inside the record that leads to the relay, before its include there: the 11th comes first; reported', async () => {
    const record = `v=spf1 ${fills(0, 8)} include:_spf.hoster.example ~all`;
    const more: ZoneMap = { '_spf.hoster.example': { TXT: [[`v=spf1 ${fills(8, 2)} include:relay.mailchannels.net ~all`]] } };
    assert.deepEqual(await receivers(record, more), ['permerror', 'permerror', 'permerror']);
    const { tree, known } = await walked(record, more);
    assert.deepEqual(relayAuthorisation(tree, HOSTS, known), { state: 'pass', term: 'include:_spf.hoster.example' });
    assert.deepEqual(permerrorBefore(tree, 'include:_spf.hoster.example', HOSTS, known), {
      term: record,
      why: "the terms before the relay's include in the record include:_spf.hoster.example leads to take receivers past 10 DNS lookups (RFC 7208 §4.6.4)",
      within: true,
    });
    const fs = await spfCheck(setup(record, more).ctx);
    const na = notAuthorised(fs);
    assert.equal(na.length, 1, show(fs));
    assert.match(na[0].message, /but too many lookups come first: the terms before the relay's include in the record include:_spf\.hoster\.example leads to take receivers past 10 DNS lookups \(RFC 7208 §4\.6\.4\)\. Receivers return permerror for the relay's mail before they reach the relay's include in the record include:_spf\.hoster\.example leads to/);
  });
});

describe('permerrorBefore: a permanent error inside the record that leads to the relay, before its include there', () => {
  test('an include of a name without SPF there: receivers answer permerror for the relay; reported, naming that record', async () => {
    const record = 'v=spf1 include:_spf.broken-hoster.example ~all';
    const more: ZoneMap = {
      '_spf.broken-hoster.example': { TXT: [['v=spf1 include:nospf.names.example include:relay.mailchannels.net ~all']] },
      'nospf.names.example': { TXT: [['site-verification=1']] },
    };
    assert.deepEqual(await receivers(record, more), ['permerror', 'permerror', 'permerror']);
    const { tree, known } = await walked(record, more);
    const bad = permerrorBefore(tree, 'include:_spf.broken-hoster.example', HOSTS, known);
    assert.equal(bad?.term, record);
    assert.equal(bad?.within, true);
    const fs = await spfCheck(setup(record, more).ctx);
    const na = notAuthorised(fs);
    assert.equal(na.length, 1, show(fs));
    assert.match(na[0].message, /but in the record include:_spf\.broken-hoster\.example leads to, a permanent error comes before the relay's include: .*nospf\.names\.example.* Receivers return permerror for the relay's mail before they reach the relay's include in the record include:_spf\.broken-hoster\.example leads to \(RFC 7208 §5\.2\)/);
  });
});

describe("relayAuthorisation: a term before the relay's include that matches some of its addresses first", () => {
  const cases: { record: string; receivers: string[]; term: string; ranges: string[]; words: RegExp }[] = [
    {
      record: `v=spf1 -a:hit.names.example ${fills(0, 6)} include:relay.mailchannels.net ~all`,
      receivers: ['fail', 'pass', 'pass'],
      term: '-a:hit.names.example',
      ranges: ['23.83.208.10'],
      words: /-a:hit\.names\.example comes before include:relay\.mailchannels\.net and matches the relay's addresses 23\.83\.208\.10 \(its name's addresses\)/,
    },
    {
      record: `v=spf1 ~mx:mx.names.example/24 include:relay.mailchannels.net ~all`,
      receivers: ['softfail', 'pass', 'pass'],
      term: '~mx:mx.names.example/24',
      ranges: ['23.83.208.0/24'],
      words: /~mx:mx\.names\.example\/24 comes before include:relay\.mailchannels\.net and matches the relay's addresses 23\.83\.208\.0\/24 \(its mail hosts' addresses\)/,
    },
    {
      record: 'v=spf1 -exists:yes.names.example include:relay.mailchannels.net ~all',
      receivers: ['fail', 'fail', 'fail'],
      term: '-exists:yes.names.example',
      ranges: ['23.83.208.0/20', '205.201.128.0/20'],
      words: /-exists:yes\.names\.example comes before include:relay\.mailchannels\.net and matches every sender \(its name exists\)/,
    },
    {
      record: 'v=spf1 ?include:passes.example include:relay.mailchannels.net ~all',
      receivers: ['neutral', 'neutral', 'pass'],
      term: '?include:passes.example',
      ranges: ['23.83.208.0/20'],
      words: /\?include:passes\.example comes before include:relay\.mailchannels\.net and leads to a record that passes the relay's addresses 23\.83\.208\.0\/20, so it matches them/,
    },
    {
      record: 'v=spf1 -include:passes.example include:relay.mailchannels.net ~all',
      receivers: ['fail', 'fail', 'pass'],
      term: '-include:passes.example',
      ranges: ['23.83.208.0/20'],
      words: /-include:passes\.example comes before include:relay\.mailchannels\.net and leads to a record that passes the relay's addresses 23\.83\.208\.0\/20, so it matches them: .* fail instead of pass/,
    },
  ];
  for (const c of cases) {
    test(`${c.record}: shadowed by ${c.term}; the check says so (not spf.ok), and the fix puts the relay's include first`, async () => {
      assert.deepEqual(await receivers(c.record), c.receivers);
      const { tree, known } = await walked(c.record);
      assert.deepEqual(relayAuthorisation(tree, HOSTS, known), {
        state: 'shadowed',
        term: c.term,
        qualifier: c.term[0],
        include: 'include:relay.mailchannels.net',
        ranges: c.ranges,
      });
      const fs = await spfCheck(setup(c.record).ctx);
      const na = notAuthorised(fs);
      assert.equal(na.length, 1, show(fs));
      assert.equal(na[0].subject, c.term);
      assert.equal(na[0].fix, 'spf');
      assert.match(na[0].message, c.words);
      assert.ok(!fs.some((f) => f.rule === 'spf.ok'), show(fs));
      const f = await fixed(c.record);
      assert.equal(f.p.blocked, undefined, f.show);
      assert.equal(f.after, c.record.replace(' include:relay.mailchannels.net', '').replace(c.term, `include:relay.mailchannels.net ${c.term}`), f.show);
      assert.match(f.show, new RegExp(`Moves include:relay\\.mailchannels\\.net before ${c.term.replace(/[.?+*/]/g, '\\$&')}, which `));
      assert.deepEqual(await receivers(f.after!), ['pass', 'pass', 'pass']);
    });
  }

  test('without what the a term names (no relayTermRanges), it matches nothing: the walk\'s verdict', async () => {
    const { tree } = await walked('v=spf1 -a:hit.names.example include:relay.mailchannels.net ~all');
    assert.equal(relayAuthorisation(tree, HOSTS).state, 'pass');
  });

  test('a "+" a term naming the address first passes it there: a later "-" range shadows nothing of it', async () => {
    const record = 'v=spf1 a:hit.names.example -ip4:23.83.208.10 include:relay.mailchannels.net ~all';
    assert.deepEqual(await receivers(record), ['pass', 'pass', 'pass']);
    const { tree, known } = await walked(record);
    assert.equal(relayAuthorisation(tree, HOSTS, known).state, 'pass');
  });

  test('a term with macros stays no match (its list holds 23.83.208.10: only check_host with the address can tell)', async () => {
    const record = 'v=spf1 -exists:%{i}.list.names.example include:relay.mailchannels.net ~all';
    assert.deepEqual(await receivers(record), ['fail', 'pass', 'pass']);
    const { tree, known } = await walked(record);
    assert.equal(relayAuthorisation(tree, HOSTS, known).state, 'pass');
  });
});

describe("relayAuthorisation: the same inside the record that leads to the relay's include", () => {
  const more: ZoneMap = { '_spf.hoster.example': { TXT: [['v=spf1 -a:hit.names.example include:relay.mailchannels.net ~all']] } };
  const record = 'v=spf1 include:_spf.hoster.example ~all';

  test('shadowed through the include, naming the term there; the fix adds the relay\'s include beside it', async () => {
    assert.deepEqual(await receivers(record, more), ['softfail', 'pass', 'pass']);
    const { tree, known } = await walked(record, more);
    assert.deepEqual(relayAuthorisation(tree, HOSTS, known), {
      state: 'shadowed',
      term: '-a:hit.names.example',
      qualifier: '-',
      include: 'include:relay.mailchannels.net',
      ranges: ['23.83.208.10'],
      via: 'include:_spf.hoster.example',
    });
    const fs = await spfCheck(setup(record, more).ctx);
    const na = notAuthorised(fs);
    assert.equal(na.length, 1, show(fs));
    assert.equal(na[0].subject, 'include:_spf.hoster.example');
    assert.match(na[0].message, /reaches it only through include:_spf\.hoster\.example, and in the record that leads to, -a:hit\.names\.example comes before include:relay\.mailchannels\.net and matches the relay's addresses 23\.83\.208\.10 \(its name's addresses\)/);
    const f = await fixed(record, more);
    assert.equal(f.p.blocked, undefined, f.show);
    assert.equal(f.after, 'v=spf1 include:_spf.hoster.example include:relay.mailchannels.net ~all', f.show);
    assert.deepEqual(await receivers(f.after!, more), ['pass', 'pass', 'pass']);
  });

  test('redirect= to the relay after a -a: term: shadowed, and the fix puts an include of the relay first', async () => {
    const r = 'v=spf1 -a:hit.names.example redirect=relay.mailchannels.net';
    assert.deepEqual(await receivers(r), ['fail', 'pass', 'pass']);
    const { tree, known } = await walked(r);
    assert.equal(relayAuthorisation(tree, HOSTS, known).state, 'shadowed');
    const f = await fixed(r);
    assert.equal(f.p.blocked, undefined, f.show);
    assert.equal(f.after, 'v=spf1 include:relay.mailchannels.net -a:hit.names.example redirect=relay.mailchannels.net', f.show);
    assert.deepEqual(await receivers(f.after!), ['pass', 'pass', 'pass']);
  });
});

test('an IPv6 piece of the relay\'s ranges is named in the one spelling every reader gives (::ffff:10.0.0.5, not ::ffff:a00:5)', async () => {
  // relay.ts wrote its cells with ipaddr.js's spelling; the zone readers, the DNS client and the classifier use
  // RFC 5952 with an IPv4-mapped address as a dotted quad (src/core/ip.ts ipv6Text).
  const record = 'v=spf1 -a:h6.names.example include:relay6.example -all';
  const resolver = new MapResolver({
    [D]: { TXT: [[record]] },
    'relay6.example': { TXT: [['v=spf1 ip6:::ffff:10.0.0.0/120 -all']] },
    'h6.names.example': { AAAA: ['::ffff:10.0.0.5'] },
  });
  const tree = await walkSpfRecord(resolver, D, record);
  const hosts = ['relay6.example'];
  const r = relayAuthorisation(tree, hosts, relayTermRanges(tree));
  assert.equal(r.state, 'shadowed', JSON.stringify(r));
  assert.deepEqual(r.state === 'shadowed' ? r.ranges : null, ['::ffff:10.0.0.5']);
});
