// Static include-tree walker, over dnscontrol's frozen snapshot of real ESP SPF trees (names not in it → NXDOMAIN)
// plus small hand-made zones for loops, voids and DNS trouble.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { walkSpf, walkSpfRecord, type SpfTreeTerm } from '../../../src/core/spf/tree.js';
import { corpusMissing, corpusPath, readCorpus } from '../../helpers/corpora.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';

const DNS1 = 'spf/dnscontrol-spflib-testdata-dns1.json';
const hasDns1 = corpusPath(DNS1) !== null;

function dns1Zones(): ZoneMap {
  const raw = JSON.parse(readCorpus(DNS1)) as Record<string, { txt: string[] }>;
  const zones: ZoneMap = {};
  for (const [name, v] of Object.entries(raw)) zones[name.toLowerCase()] = { TXT: v.txt.map((s) => [s]) };
  return zones;
}

/** Independent count straight from the JSON: 1 per include, plus what the included record costs. */
function expectedIncludeCost(zones: ZoneMap, name: string): number {
  const txt = zones[name]?.TXT;
  if (!Array.isArray(txt)) return 1;
  const rec = txt.map((r) => r.join('')).find((r) => r.startsWith('v=spf1'))!;
  const nested = rec
    .split(' ')
    .filter((t) => t.startsWith('include:'))
    .reduce((n, t) => n + expectedIncludeCost(zones, t.slice('include:'.length)), 0);
  return 1 + nested;
}

function term(terms: SpfTreeTerm[], raw: string): SpfTreeTerm {
  const t = terms.find((x) => x.term === raw);
  assert.ok(t, `term ${raw} in ${terms.map((x) => x.term).join(' ')}`);
  return t;
}

describe('SPF tree over the dnscontrol snapshot', { skip: hasDns1 ? false : corpusMissing(DNS1) }, () => {
  test('lookup cost per include (own lookup + nested)', async () => {
    const zones = dns1Zones();
    const r = new MapResolver(zones);
    const tree = await walkSpfRecord(r, 'customer.example', 'v=spf1 include:_spf.google.com include:mailgun.org include:sendgrid.net ip4:192.0.2.1 ~all');
    assert.equal(term(tree.terms, 'include:_spf.google.com').lookups, 4); // itself + 3 _netblocks includes
    assert.equal(term(tree.terms, 'include:mailgun.org').lookups, 3); // itself + spf1 + spf2
    assert.equal(term(tree.terms, 'include:sendgrid.net').lookups, 1);
    assert.equal(term(tree.terms, 'ip4:192.0.2.1').lookups, 0);
    assert.equal(term(tree.terms, '~all').lookups, 0);
    for (const name of ['_spf.google.com', 'mailgun.org', 'sendgrid.net']) {
      assert.equal(term(tree.terms, `include:${name}`).lookups, expectedIncludeCost(zones, name), name);
    }
    assert.equal(tree.totalLookups, 8);
    assert.equal(tree.totalVoids, 0);
    assert.equal(tree.overLookupLimit, false);
    assert.deepEqual(tree.errors, []);
    assert.equal(tree.unknown, false);
    // Children are the walked records; google's netblocks are leaves.
    const g = term(tree.terms, 'include:_spf.google.com').children!;
    assert.equal(g.domain, '_spf.google.com');
    assert.deepEqual(
      g.terms.filter((t) => t.children).map((t) => t.children!.domain),
      ['_netblocks.google.com', '_netblocks2.google.com', '_netblocks3.google.com'],
    );
  });

  test('walkSpf fetches the record; a TXT answer with other records selects the SPF one', async () => {
    const r = new MapResolver(dns1Zones());
    const tree = await walkSpf(r, 'mailgun.org');
    assert.equal(tree.status, 'found');
    assert.match(tree.record!, /^v=spf1 include:spf1\.mailgun\.org/);
    assert.equal(tree.totalLookups, 2);
  });

  test('a tree over 10 lookups keeps counting and shows every term', async () => {
    const r = new MapResolver(dns1Zones());
    const rec =
      'v=spf1 include:_spf.google.com include:mailgun.org include:sendgrid.net include:mail.zendesk.com ' +
      'include:servers.mcsv.net include:spf.mtasv.net include:spf-basic.fogcreek.com a mx -all';
    const tree = await walkSpfRecord(r, 'customer.example', rec);
    assert.deepEqual(
      tree.terms.map((t) => t.lookups),
      [4, 3, 1, 1, 1, 1, 1, 1, 1, 0],
    );
    assert.equal(tree.totalLookups, 14);
    assert.equal(tree.overLookupLimit, true);
    assert.ok(tree.errors.some((e) => /14 DNS-querying terms/.test(e)), tree.errors.join('\n'));
    // customer.example is not in the snapshot: `a` and `mx` are voids, counted but not errors.
    assert.equal(term(tree.terms, 'a').voids, 1);
    assert.equal(term(tree.terms, 'mx').voids, 1);
    assert.equal(tree.totalVoids, 2);
    assert.equal(tree.overVoidLimit, false);
  });

  test('include of a name outside the snapshot (NXDOMAIN) is an error on that term', async () => {
    const r = new MapResolver(dns1Zones());
    const tree = await walkSpfRecord(r, 'customer.example', 'v=spf1 include:_spf.salesforce.com include:sendgrid.net ~all');
    const t = term(tree.terms, 'include:_spf.salesforce.com');
    assert.match(t.error ?? '', /NXDOMAIN/);
    assert.equal(t.lookups, 1);
    assert.equal(t.unknown, undefined);
    assert.equal(tree.errors.length, 1);
    assert.equal(tree.unknown, false);
  });
});

describe('SPF tree: loops, voids, DNS trouble, dynamic terms', () => {
  const zones: ZoneMap = {
    'loop-a.test': { TXT: [['v=spf1 include:loop-b.test -all']] },
    'loop-b.test': { TXT: [['v=spf1 ip4:192.0.2.1 include:loop-a.test']] },
    'self.test': { TXT: [['v=spf1 redirect=self.test']] },
    'slow.test': { TXT: 'TIMEOUT' },
    'broken.test': { TXT: 'SERVFAIL' },
    'nospf.test': { TXT: [['google-site-verification=abc']] },
    'two.test': { TXT: [['v=spf1 -all'], ['v=spf1 ~all']] },
    'host.test': { A: ['192.0.2.10'], MX: [{ priority: 10, exchange: 'mx1.host.test' }, { priority: 20, exchange: 'gone.host.test' }] },
    'mx1.host.test': { A: ['192.0.2.11'] },
    'many-mx.test': { MX: Array.from({ length: 11 }, (_, i) => ({ priority: i, exchange: `mx${i}.many-mx.test` })) },
    'split.test': { TXT: [['v=spf1 ip4:192.0.2.0/24 ', 'include:nospf.test -all']] },
  };

  test('include loop is reported, not followed forever', async () => {
    const tree = await walkSpf(new MapResolver(zones), 'loop-a.test');
    assert.deepEqual(tree.loops, ['loop-a.test → loop-b.test → loop-a.test']);
    const inner = term(tree.terms, 'include:loop-b.test').children!;
    const back = term(inner.terms, 'include:loop-a.test');
    assert.equal(back.loop, true);
    assert.match(back.error!, /loop/);
    assert.equal(tree.totalLookups, 2);
  });

  test('redirect to itself is a loop', async () => {
    const tree = await walkSpf(new MapResolver(zones), 'self.test');
    assert.equal(tree.loops.length, 1);
    assert.equal(term(tree.terms, 'redirect=self.test').loop, true);
  });

  test('void lookups are counted per term and over 2 is flagged', async () => {
    const tree = await walkSpfRecord(new MapResolver(zones), 'host.test', 'v=spf1 a a:nx1.test mx exists:nx2.test a:nx3.test -all');
    assert.deepEqual(
      tree.terms.map((t) => [t.term, t.voids]),
      [
        ['a', 0],
        ['a:nx1.test', 1],
        ['mx', 1], // gone.host.test has no address
        ['exists:nx2.test', 1],
        ['a:nx3.test', 1],
        ['-all', 0],
      ],
    );
    assert.equal(tree.totalVoids, 4);
    assert.equal(tree.overVoidLimit, true);
    assert.ok(tree.errors.some((e) => /4 void lookups/.test(e)));
  });

  test('a timeout or SERVFAIL is unknown, not an error', async () => {
    const r = new MapResolver(zones);
    const tree = await walkSpfRecord(r, 'customer.example', 'v=spf1 include:slow.test include:broken.test a:slow.test ip4:192.0.2.1 -all');
    for (const raw of ['include:slow.test', 'include:broken.test']) {
      const t = term(tree.terms, raw);
      assert.match(t.unknown ?? '', /timeout|servfail/);
      assert.equal(t.error, undefined);
      assert.equal(t.lookups, 1);
    }
    assert.equal(tree.unknown, true);
    assert.deepEqual(tree.errors, []);
    const root = await walkSpf(r, 'slow.test');
    assert.equal(root.status, 'unknown');
    assert.equal(root.unknown, true);
    assert.equal(root.record, null);
  });

  test('include target without SPF, multiple SPF records, no record at all', async () => {
    const r = new MapResolver(zones);
    const tree = await walkSpfRecord(r, 'customer.example', 'v=spf1 include:nospf.test include:two.test ~all');
    assert.match(term(tree.terms, 'include:nospf.test').error!, /no SPF record/);
    assert.match(term(tree.terms, 'include:two.test').error!, /2 SPF records/);
    assert.equal(tree.errors.length, 2);
    assert.equal((await walkSpf(r, 'nospf.test')).status, 'none');
    assert.equal((await walkSpf(r, 'nowhere.test')).status, 'none');
    const two = await walkSpf(r, 'two.test');
    assert.equal(two.status, 'multiple');
    assert.equal(two.errors.length, 1);
  });

  test('nested errors carry the path; multi-string TXT is joined', async () => {
    const tree = await walkSpf(new MapResolver(zones), 'split.test');
    assert.equal(tree.record, 'v=spf1 ip4:192.0.2.0/24 include:nospf.test -all');
    assert.equal(tree.errors.length, 1);
    assert.match(tree.errors[0], /^split\.test include:nospf\.test: /);
  });

  test('macro terms are dynamic: one lookup, no DNS query', async () => {
    const r = new MapResolver(zones);
    const tree = await walkSpfRecord(r, 'customer.example', 'v=spf1 include:%{i}._ip.%{h}._ehlo.%{d}._spf.vali.email exists:%{l}.x.test ~all');
    for (const t of tree.terms.slice(0, 2)) {
      assert.equal(t.dynamic, true);
      assert.equal(t.lookups, 1);
    }
    assert.equal(tree.totalLookups, 2);
    assert.equal(tree.dynamicTerms.length, 2);
    assert.deepEqual(r.log, []);
  });

  test('mx with more than 10 names is an error; ptr costs a lookup', async () => {
    const tree = await walkSpfRecord(new MapResolver(zones), 'many-mx.test', 'v=spf1 mx ptr -all');
    assert.match(term(tree.terms, 'mx').error!, /11 MX names/);
    assert.equal(term(tree.terms, 'ptr').lookups, 1);
    assert.equal(tree.totalLookups, 2);
    assert.ok(tree.warnings.some((w) => /ptr/.test(w)));
  });

  test('terms after all and redirect next to all cost nothing', async () => {
    const r = new MapResolver(zones);
    const tree = await walkSpfRecord(r, 'customer.example', 'v=spf1 -all include:loop-a.test redirect=loop-b.test');
    assert.equal(tree.totalLookups, 0);
    assert.match(term(tree.terms, 'include:loop-a.test').ignored!, /after "all"/);
    assert.match(term(tree.terms, 'redirect=loop-b.test').ignored!, /ignored/);
    assert.deepEqual(r.log, []);
  });

  test('syntax errors are reported with the path', async () => {
    const tree = await walkSpfRecord(new MapResolver(zones), 'customer.example', 'v=spf1 ip4:192.0.2.300 a:foo -all');
    assert.equal(tree.syntaxErrors.length, 2);
    assert.equal(tree.errors.length, 2);
  });
});
