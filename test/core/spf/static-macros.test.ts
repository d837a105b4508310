// SPF terms whose only macros are %{d} (the domain whose record holds the term) and %{o} (the MAIL FROM domain): they
// do not depend on the message, so the walk expands them as check_host does for the domain's own mail and follows the
// name like a plain one — its record's lookups, void lookups and errors (a name without an SPF record is a permerror for
// every sender: pyspf and Mail::SPF, test/e2e/spf-static-macros-oracles.test.ts). They were `dynamic` (one lookup,
// nothing followed): include:%{d}.<a name without SPF> was spf.ok. Other macros (%{i}, %{s}, %{l}, %{h}, %{p}, %{v})
// stay dynamic; a record without macros asks exactly the questions it asked before.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkHost, staticDomainSpec } from '../../../src/core/spf/evaluate.js';
import { parseTerm, withDomainSpec } from '../../../src/core/spf/parse.js';
import { staticMacros, termTarget, unfollowed, voidsAcross, walkSpf, walkSpfRecord, type SpfTree } from '../../../src/core/spf/tree.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';

const D = 'shop.example.com';
const term = (tree: SpfTree, raw: string) => tree.terms.find((t) => t.term === raw)!;

describe('walk: %{d} and %{o} expanded, followed as plain names', () => {
  test('include:%{d}.<name without SPF> is a permerror for every sender, with the name it expands to', async () => {
    const r = new MapResolver({ [`${D}.nospf.example`]: { A: ['192.0.2.1'] } });
    const tree = await walkSpfRecord(r, D, 'v=spf1 ip4:203.0.113.10 include:%{d}.nospf.example include:%{d}.gone.example ~all');
    const nodata = term(tree, 'include:%{d}.nospf.example');
    assert.equal(nodata.dynamic, undefined);
    assert.equal(nodata.target, `${D}.nospf.example`);
    assert.match(nodata.error!, /include target shop\.example\.com\.nospf\.example has no SPF record \(receivers return permerror\)/);
    assert.match(term(tree, 'include:%{d}.gone.example').error!, /shop\.example\.com\.gone\.example does not exist/);
    assert.equal(tree.permerrors.length, 2, tree.permerrors.join('\n'));
    assert.deepEqual(tree.dynamicTerms, []);
    // Each costs its lookup; the TXT lookup of an include is no void lookup (RFC 7208 §4.6.4 counts A/AAAA/MX/PTR/exists).
    assert.equal(tree.totalLookups, 2);
  });

  test("include:%{d}._spf.<host> costs the lookups of the record it names, and that record's terms are walked", async () => {
    const map: ZoneMap = {
      [`${D}._spf.hoster.example`]: { TXT: [['v=spf1 a:out1.hoster.example a:out2.hoster.example include:relay.mailchannels.net ~all']] },
      'out1.hoster.example': { A: ['198.51.100.1'] },
      'out2.hoster.example': { A: ['198.51.100.2'] },
      'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ~all']] },
    };
    const tree = await walkSpfRecord(new MapResolver(map), D, 'v=spf1 include:%{d}._spf.hoster.example ~all');
    const t = term(tree, 'include:%{d}._spf.hoster.example');
    assert.equal(t.lookups, 4, 'the include, its two a terms and its include');
    assert.equal(tree.totalLookups, 4);
    assert.equal(t.children?.domain, `${D}._spf.hoster.example`);
    assert.equal(t.children?.terms[2].target, 'relay.mailchannels.net');
    assert.equal(unfollowed(t), false, 'followed all the way: no uncounted void lookups');
  });

  test('%{o} inside an included record is the domain checked, %{d} there the included name', async () => {
    const map: ZoneMap = {
      '_spf.svc.example': { TXT: [['v=spf1 include:%{o}.tenants.svc.example exists:%{d}.up.svc.example ~all']] },
      [`${D}.tenants.svc.example`]: { TXT: [['v=spf1 ip4:198.51.100.0/24 ~all']] },
    };
    const tree = await walkSpfRecord(new MapResolver(map), D, 'v=spf1 include:_spf.svc.example ~all');
    const inner = term(tree, 'include:_spf.svc.example').children!;
    assert.equal(inner.terms[0].target, `${D}.tenants.svc.example`);
    assert.equal(inner.terms[0].error, undefined);
    assert.equal(inner.terms[1].target, '_spf.svc.example.up.svc.example');
    assert.equal(inner.terms[1].voids, 1, 'exists of a name without an A record: a void lookup for every sender');
    assert.equal(tree.totalVoids, 1);
    assert.equal(tree.totalLookups, 3);
  });

  test('the MAIL FROM domain of a record of the domain\'s own walked on its own is the one given (sender)', async () => {
    const map: ZoneMap = { [`${D}.tenants.svc.example`]: { TXT: [['v=spf1 -all']] } };
    const own = await walkSpfRecord(new MapResolver(map), `_spf.${D}`, 'v=spf1 include:%{o}.tenants.svc.example ~all', { sender: D });
    assert.equal(own.terms[0].target, `${D}.tenants.svc.example`);
    assert.equal(own.terms[0].error, undefined);
    const alone = await walkSpfRecord(new MapResolver(map), `_spf.${D}`, 'v=spf1 include:%{o}.tenants.svc.example ~all');
    assert.equal(alone.terms[0].target, `_spf.${D}.tenants.svc.example`, 'without it: the domain walked');
  });

  test('redirect=%{d}.<name> is followed; without an SPF record there it is a permerror', async () => {
    const map: ZoneMap = { [`${D}.spf.example.net`]: { TXT: [['v=spf1 ip4:192.0.2.0/24 -all']] } };
    const ok = await walkSpfRecord(new MapResolver(map), D, 'v=spf1 redirect=%{d}.spf.example.net');
    assert.equal(ok.terms[0].target, `${D}.spf.example.net`);
    assert.equal(ok.terms[0].children?.record, 'v=spf1 ip4:192.0.2.0/24 -all');
    assert.deepEqual(ok.permerrors, []);
    const broken = await walkSpfRecord(new MapResolver({}), D, 'v=spf1 redirect=%{d}.spf.example.net');
    assert.match(broken.permerrors.join('\n'), /redirect target shop\.example\.com\.spf\.example\.net does not exist/);
  });

  test('include:%{d} is the record including itself: a loop', async () => {
    const tree = await walkSpf(new MapResolver({ [D]: { TXT: [['v=spf1 include:%{d} ~all']] } }), D);
    assert.equal(term(tree, 'include:%{d}').loop, true);
    assert.deepEqual(tree.loops, [`${D} → ${D}`]);
  });

  test('a:%{o} and mx:%{d} look up the domain itself; exists:%{d}.<name> without an A record is a void lookup', async () => {
    const map: ZoneMap = { [D]: { A: ['203.0.113.10'], MX: [{ priority: 10, exchange: `mail.${D}` }] }, [`mail.${D}`]: { A: ['203.0.113.10'] } };
    const r = new MapResolver(map);
    const tree = await walkSpfRecord(r, D, 'v=spf1 a:%{o} mx:%{d} exists:%{d}.list.example ~all');
    assert.equal(term(tree, 'a:%{o}').target, D);
    assert.equal(term(tree, 'a:%{o}').voids4, 0);
    assert.equal(term(tree, 'mx:%{d}').target, D);
    assert.equal(term(tree, 'exists:%{d}.list.example').voids, 1);
    assert.equal(tree.totalVoids, 1);
    assert.ok(r.log.includes(`${D}.list.example A`), r.log.join('\n'));
    assert.equal(voidsAcross(tree, 4), 1, 'counted once, nothing left uncounted');
  });

  test('transformers: digits, reversal, delimiters, upper case — the names check_host looks up', async () => {
    const specs = ['%{d2}.x.example', '%{dr}.x.example', '%{d1r}.x.example', '%{o2r}.x.example', '%{D}.x.example', '%{d-}.x.example', '%{d1.-}.x.example', '%{d5}.x.example', '_spf.%{o}', '%{d}.%{o1}.x.example'];
    const r = new MapResolver({});
    for (const spec of specs) {
      const tree = await walkSpfRecord(r, D, `v=spf1 exists:${spec} -all`);
      // check_host (evaluate.ts) for any address and the domain's own MAIL FROM: the name it asks for is the walk's target.
      const ask = new MapResolver({ [D]: { TXT: [[`v=spf1 exists:${spec} -all`]] } });
      await checkHost('192.0.2.1', D, `postmaster@${D}`, 'helo.example', ask);
      const asked = ask.log.filter((q) => q.endsWith(' A')).map((q) => q.slice(0, -2));
      assert.deepEqual(asked, [tree.terms[0].target], spec);
    }
    // As RFC 7208 §7.4 works them for the domain: a few written out.
    const name = (spec: string) => staticDomainSpec(spec, D, D);
    assert.equal(name('%{d2}.x.example'), 'example.com.x.example');
    assert.equal(name('%{dr}.x.example'), 'com.example.shop.x.example');
    assert.equal(name('%{d1r}.x.example'), 'shop.x.example');
  });

  test('a name over 253 octets after expansion is cut from the left, as check_host cuts it', async () => {
    const long = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(50)}.example`;
    const spec = `%{d}.${'x'.repeat(20)}.example`;
    const tree = await walkSpfRecord(new MapResolver({}), long, `v=spf1 exists:${spec} -all`);
    const ask = new MapResolver({ [long]: { TXT: [[`v=spf1 exists:${spec} -all`]] } });
    await checkHost('192.0.2.1', long, `postmaster@${long}`, 'helo.example', ask);
    const asked = ask.log.filter((q) => q.endsWith(' A')).map((q) => q.slice(0, -2));
    assert.ok(tree.terms[0].target!.length <= 253);
    assert.deepEqual(asked, [tree.terms[0].target]);
  });

  test('any other macro keeps the term dynamic: one lookup, no DNS question', async () => {
    const r = new MapResolver({});
    const tree = await walkSpfRecord(r, D, 'v=spf1 include:%{i}.%{d}.list.example exists:%{l}.%{o}.x.example a:%{h}.x.example mx:%{v}.%{d}.example ptr:%{s} ~all');
    assert.deepEqual(
      tree.terms.filter((t) => t.dynamic).map((t) => t.term),
      ['include:%{i}.%{d}.list.example', 'exists:%{l}.%{o}.x.example', 'a:%{h}.x.example', 'mx:%{v}.%{d}.example', 'ptr:%{s}'],
    );
    assert.equal(tree.totalLookups, 5);
    assert.deepEqual(r.log, []);
  });
});

describe('a record without macros asks what it asked before', () => {
  test('the same DNS questions, once each, in the same order', async () => {
    const map: ZoneMap = {
      [D]: { A: ['203.0.113.10'], MX: [{ priority: 10, exchange: `mail.${D}` }] },
      [`mail.${D}`]: { A: ['203.0.113.10'] },
      '_spf.google.com': { TXT: [['v=spf1 include:_netblocks.google.com ~all']] },
      '_netblocks.google.com': { TXT: [['v=spf1 ip4:64.233.160.0/19 ~all']] },
    };
    const r = new MapResolver(map);
    await walkSpfRecord(r, D, 'v=spf1 a mx include:_spf.google.com exists:x.example ip4:192.0.2.1 ~all');
    assert.deepEqual(r.log, [
      `${D} A`,
      `${D} AAAA`,
      `${D} MX`,
      `mail.${D} A`,
      `mail.${D} AAAA`,
      '_spf.google.com TXT',
      '_netblocks.google.com TXT',
      'x.example A',
    ]);
  });
});

describe('the helpers', () => {
  test('staticMacros: %{d} and %{o} with any transformers only', () => {
    assert.equal(staticMacros('%{d}._spf.example.net'), true);
    assert.equal(staticMacros('%{D2r-}.%{o}.example'), true);
    assert.equal(staticMacros('plain.example'), true);
    assert.equal(staticMacros('%{i}.%{d}.example'), false);
    assert.equal(staticMacros('%{l}.example'), false);
  });

  test('termTarget: the name a term of the domain\'s record looks up; null when it depends on the message', () => {
    assert.equal(termTarget(parseTerm('include:%{d}._spf.Example.NET.'), D), `${D}._spf.example.net`);
    assert.equal(termTarget(parseTerm('redirect=_spf.%{o}'), D), `_spf.${D}`);
    assert.equal(termTarget(parseTerm('a'), D), D);
    assert.equal(termTarget(parseTerm('mx:%{d}/24'), D), D);
    assert.equal(termTarget(parseTerm('include:%{d}.x.example'), `_spf.${D}`, D), `_spf.${D}.x.example`, 'in a record of the domain\'s own: %{d} is that record');
    assert.equal(termTarget(parseTerm('include:%{i}.x.example'), D), null);
    assert.equal(termTarget(parseTerm('ip4:192.0.2.1'), D), undefined);
  });

  test('withDomainSpec: the term as the name it expands to, qualifier and CIDR lengths kept', () => {
    assert.equal(withDomainSpec(parseTerm('-include:%{d}._spf.example.net'), 'x.example'), '-include:x.example');
    assert.equal(withDomainSpec(parseTerm('~a:%{o}/24//64'), D), `~a:${D}/24//64`);
    assert.equal(withDomainSpec(parseTerm('redirect=%{d}.spf.example'), 'y.example'), 'redirect=y.example');
    assert.equal(withDomainSpec(parseTerm('mx'), 'y.example'), 'mx');
  });
});
