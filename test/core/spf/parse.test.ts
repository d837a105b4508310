// SPF parser: checkdmarc's offline vectors (accept/reject the same way) plus our own edge cases.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isSpfRecord, parseSpf, parseTerm, renderSpf, selectSpf, splitTxt } from '../../../src/core/spf/parse.js';
import { checkHost } from '../../../src/core/spf/evaluate.js';
import { walkSpfRecord } from '../../../src/core/spf/tree.js';
import { corpusMissing, corpusPath, readCorpus } from '../../helpers/corpora.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';

interface Vector {
  test: string;
  doc: string;
  record: string;
  decorators: string[];
  expect: 'parses' | 'raises';
  exception?: string;
  kwargs?: Record<string, string>;
}

const VECTORS = 'spf/checkdmarc-spf-parse-vectors.json';

/** Zone-file multi-string form ("\"v=spf1 … \" \"include:… -all\"") → the joined text; plain text unchanged. */
function recordText(s: string): string {
  if (!s.startsWith('"')) return s;
  return [...s.matchAll(/"([^"]*)"/g)].map((m) => m[1]).join('');
}

/** checkdmarc drops mechanisms written after `all` (with a warning) instead of failing; everything else must be clean. */
function lenientErrors(text: string) {
  return parseSpf(text).errors.filter((e) => !e.afterAll);
}

/**
 * Vectors whose upstream exception needs DNS (upstream patches it): the zone we serve to reproduce it, and the
 * condition our walker must report. Record text is used as-is, published at example.com.
 */
const DNS_VECTORS: Record<string, { zones: ZoneMap; check: (t: Awaited<ReturnType<typeof walkSpfRecord>>) => void }> = {
  testSPFIncludeLoop: {
    zones: { 'example.com': { TXT: [['v=spf1 include:example.com']] } },
    check: (t) => assert.deepEqual(t.loops, ['example.com → example.com']),
  },
  testRedirectLoop: {
    zones: { 'example.com': { TXT: [['v=spf1 redirect=example.com']] } },
    check: (t) => assert.equal(t.loops.length, 1),
  },
  testTooManyMxRecords: {
    zones: { 'example.com': { MX: Array.from({ length: 11 }, (_, i) => ({ priority: i, exchange: `mx${i}.example.com` })) } },
    check: (t) => assert.match(t.terms[0].error ?? '', /more than|at most 10/),
  },
  testMxHostMissingARecords: {
    zones: { 'example.com': { MX: [1, 2, 3].map((i) => ({ priority: i, exchange: `mx${i}.example.com` })) } },
    check: (t) => {
      assert.equal(t.totalVoids, 3);
      assert.equal(t.overVoidLimit, true);
    },
  },
};

/** Warnings checkdmarc asserts upstream (read from test/doc), checked on our side too. */
const WARNINGS: Record<string, RegExp> = {
  testPtrEmitsWarning: /ptr/,
  testPtrWithExplicitDomain: /ptr/,
  testPtrMissingARecords: /ptr/,
  testTextAfterExpValueWarns: /after "all"/,
};

describe('checkdmarc SPF parse vectors (undecorated)', { skip: corpusPath(VECTORS) ? false : corpusMissing(VECTORS) }, () => {
  if (!corpusPath(VECTORS)) return;
  const vectors = (JSON.parse(readCorpus(VECTORS)) as Vector[]).filter((v) => v.decorators.length === 0);
  test('there are 52 undecorated vectors', () => assert.equal(vectors.length, 52));

  for (const v of vectors) {
    test(`${v.test}: ${v.expect}${v.exception ? ` ${v.exception}` : ''}`, async () => {
      const text = recordText(v.record);
      const errors = lenientErrors(text);
      if (v.expect === 'raises' && v.exception === 'SPFSyntaxError') {
        assert.ok(errors.length > 0, `${v.doc}: expected a syntax error for ${text}`);
        return;
      }
      assert.deepEqual(errors, [], `${v.doc}: ${text}`);
      const warn = WARNINGS[v.test];
      if (warn) assert.ok(parseSpf(text).warnings.some((w) => warn.test(w)), `${v.test}: expected a warning ${warn}`);
      if (v.expect === 'raises') {
        const dns = DNS_VECTORS[v.test];
        assert.ok(dns, `no DNS fixture for ${v.test} (${v.exception})`);
        dns.check(await walkSpfRecord(new MapResolver(dns.zones), 'example.com', text));
      }
    });
  }
});

describe('isSpfRecord / selectSpf', () => {
  test('version section', () => {
    for (const t of ['v=spf1', 'v=spf1 -all', 'V=SPF1 ~all', 'v=SpF1 a']) assert.equal(isSpfRecord(t), true, t);
    for (const t of ['v=spf10', 'v=spf1\t-all', ' v=spf1 -all', 'v=spf2 -all', 'spf1', '', 'v=spf1-all']) assert.equal(isSpfRecord(t), false, t);
  });
  test('joins character-strings without a separator and detects none/multiple', () => {
    assert.deepEqual(selectSpf([['v=spf1 ip4:192.0.2.1 ', '-all'], ['other']]), { status: 'found', record: 'v=spf1 ip4:192.0.2.1 -all' });
    assert.deepEqual(selectSpf([['v=spf1', 'mx']]), { status: 'none' }); // "v=spf1mx"
    assert.deepEqual(selectSpf([]), { status: 'none' });
    assert.equal(selectSpf([['v=spf1 -all'], ['V=spf1 +all']]).status, 'multiple');
  });
});

describe('term structure', () => {
  test('fields of each kind of term', () => {
    const p = parseSpf('v=spf1 ~ip4:192.0.2.0/24 a:mail.example.com/24//64 MX ip6:2001:DB8::/32 include:_spf.example.com exists:%{i}.x.example.com ?ptr redirect=x.example.com exp=why.%{d} foo=bar');
    assert.deepEqual(p.errors, []);
    const [ip4, a, mx, ip6, inc, ex, ptr, red, exp, foo] = p.terms;
    assert.deepEqual(
      { q: ip4.qualifier, qe: ip4.qualifierExplicit, m: ip4.mechanism, ip: ip4.ip, c: ip4.cidr4 },
      { q: '~', qe: true, m: 'ip4', ip: '192.0.2.0', c: 24 },
    );
    assert.deepEqual({ m: a.mechanism, d: a.domainSpec, c4: a.cidr4, c6: a.cidr6, q: a.qualifier, qe: a.qualifierExplicit }, { m: 'a', d: 'mail.example.com', c4: 24, c6: 64, q: '+', qe: false });
    assert.equal(mx.mechanism, 'mx');
    assert.equal(mx.domainSpec, undefined);
    assert.deepEqual({ ip: ip6.ip, c: ip6.cidr6 }, { ip: '2001:DB8::', c: 32 });
    assert.equal(inc.domainSpec, '_spf.example.com');
    assert.equal(inc.hasMacro, false);
    assert.equal(ex.hasMacro, true);
    assert.equal(ptr.qualifier, '?');
    assert.deepEqual({ k: red.kind, m: red.modifier, d: red.domainSpec }, { k: 'modifier', m: 'redirect', d: 'x.example.com' });
    assert.equal(p.redirect, red);
    assert.equal(p.exp, exp);
    assert.equal(exp.hasMacro, true);
    assert.deepEqual({ k: foo.kind, m: foo.modifier, v: foo.value }, { k: 'modifier', m: 'foo', v: 'bar' });
  });

  test('syntax errors name the problem and never throw', () => {
    const cases: [string, RegExp][] = [
      ['v=spf1 foo:bar', /unknown mechanism/],
      ['v=spf1 ip4:192.0.2.1/33', /out of range/],
      ['v=spf1 ip4:192.0.2.1/032', /invalid ip4 CIDR/],
      ['v=spf1 ip4:192.0.2', /invalid ip4 address/],
      ['v=spf1 ip4:192.0.2.01', /invalid ip4 address/],
      ['v=spf1 ip6:2001:db8::/129', /out of range/],
      ['v=spf1 ip6:2001:db8::1::2', /invalid ip6 address/],
      ['v=spf1 a:%{x}.example.com', /unknown macro letter/],
      ['v=spf1 a:%{d0}.example.com', /invalid number of parts/],
      ['v=spf1 exists:%{i.example.com', /unterminated/],
      ['v=spf1 exists:%(i).example.com', /must be followed/],
      ['v=spf1 a:%{c}.example.com', /only in explanation/],
      ['v=spf1 redirect=a.example.com redirect=b.example.com', /more than once/],
      ['v=spf1 exp=a.example.com exp=b.example.com -all', /more than once/],
      ['v=spf1 a:museum', /top-level label/],
      ['v=spf1 a:111.222.33.44', /top-level label/],
      ['v=spf1 -all/8', /takes no argument/],
      ['v=spf1 include:', /empty domain-spec/],
      ['v=spf1 a/24/64', /invalid a term/],
      ['v=spf1 ptr/0', /invalid ptr term/],
      ['v=spf1 1up=foo', /invalid term/],
      ['v=spf1 =all', /invalid term/],
      ['v=spf1 +redirect=x.example.com', /unknown mechanism/],
    ];
    for (const [text, re] of cases) {
      const p = parseSpf(text);
      assert.ok(p.errors.some((e) => re.test(e.reason)), `${text}: ${JSON.stringify(p.errors)}`);
    }
  });

  test('hostile bytes are errors, not crashes', () => {
    const hostile = [
      'v=spf1 a:foo.example.com\0',
      'v=spf1 a:ctrl.example.com\rptr -all',
      'v=spf1 ip4:192.0.2.5\n include:x.example.com ~all',
      'v=spf1 a:\u00ef\u00bb\u00bfgarbage.example.net -all',
      'v=spf1 a:\ufeffgarbage.example.net -all',
      'v=spf1 \u0080a:example.net -all',
      'v=spf1 a:example.net \u0096all',
      'v=spf1 a:例え.jp -all',
      'v=spf1 exists:%{' + 'i'.repeat(5000),
      'v=spf1 ' + '%'.repeat(10000),
      'v=spf1 ' + 'a:x.example.com '.repeat(5000) + '\u0000',
      'v=spf1 \ud800',
    ];
    for (const text of hostile) {
      const p = parseSpf(text);
      assert.ok(p.errors.length > 0, JSON.stringify(text.slice(0, 60)));
    }
    assert.ok(parseSpf('v=spf1 a:example.net \u0096all').errors.some((e) => /non-ASCII/.test(e.reason)));
  });

  test('spaces: several between terms and trailing are fine; a tab is not a separator', () => {
    assert.deepEqual(parseSpf('v=spf1 a  -all ').errors, []);
    assert.equal(parseSpf('v=spf1 a  -all ').terms.length, 2);
    assert.ok(parseSpf('v=spf1 a\t-all').errors.length > 0);
  });

  test('mechanisms after all are flagged (ignored by receivers), modifiers after all still count', () => {
    const p = parseSpf('v=spf1 -all junk exp=%{?}');
    assert.deepEqual(
      p.errors.map((e) => e.afterAll),
      [true, false],
    );
    assert.ok(p.warnings.some((w) => /after "all"/.test(w)));
  });

  test('renderSpf gives the record back; parseTerm builds terms to insert', () => {
    const text = 'v=spf1 ip4:192.0.2.1 include:_spf.google.com ~all';
    assert.equal(renderSpf(parseSpf(text).terms), text);
    const terms = parseSpf(text).terms;
    terms.splice(1, 1, parseTerm('include:relay.mailchannels.net'));
    assert.equal(renderSpf(terms), 'v=spf1 ip4:192.0.2.1 include:relay.mailchannels.net ~all');
    assert.equal(renderSpf([]), 'v=spf1');
  });
});

describe('splitTxt (≤255-octet character-strings)', () => {
  const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

  test('a 600-byte record splits at spaces and joins back exactly', () => {
    const ips = Array.from({ length: 40 }, (_, i) => `ip4:198.51.${i}.0/24`);
    let rec = `v=spf1 ${ips.join(' ')} include:relay.mailchannels.net -all`;
    while (bytes(rec) < 600) rec = rec.replace(' -all', ' ip4:203.0.113.1 -all');
    assert.ok(bytes(rec) >= 600);
    const parts = splitTxt(rec, 255);
    assert.equal(parts.join(''), rec);
    assert.ok(parts.length >= 3);
    for (const p of parts) assert.ok(bytes(p) <= 255, `${bytes(p)} bytes`);
    for (const p of parts.slice(0, -1)) assert.ok(p.endsWith(' '), `cut at a space: ${JSON.stringify(p.slice(-10))}`);
    assert.deepEqual(parseSpf(parts.join('')).errors, []);
    assert.ok(parseSpf(rec).warnings.some((w) => /512/.test(w)));
    // What a resolver gives back (one record, several strings) selects to the same record.
    assert.deepEqual(selectSpf([parts]), { status: 'found', record: rec });
  });

  test('short record stays one string; exactly 255 bytes stays one string', () => {
    assert.deepEqual(splitTxt('v=spf1 -all'), ['v=spf1 -all']);
    const s = 'v=spf1 ' + 'a'.repeat(248);
    assert.equal(bytes(s), 255);
    assert.deepEqual(splitTxt(s), [s]);
  });

  test('a long run without spaces is cut hard, never inside a UTF-8 sequence', () => {
    const s = 'x'.repeat(300);
    assert.deepEqual(
      splitTxt(s).map((p) => p.length),
      [255, 45],
    );
    const u = 'é'.repeat(200); // 400 bytes, 2 per char
    const parts = splitTxt(u, 255);
    assert.equal(parts.join(''), u);
    for (const p of parts) assert.ok(bytes(p) <= 255 && !p.includes('\ufffd'));
  });

  test('custom limit', () => {
    const parts = splitTxt('v=spf1 a mx include:x.example.com -all', 10);
    assert.equal(parts.join(''), 'v=spf1 a mx include:x.example.com -all');
    for (const p of parts) assert.ok(bytes(p) <= 10);
  });
});

describe('checkHost smoke checks (MapResolver)', () => {
  const zones: ZoneMap = {
    'example.com': { TXT: [['v=spf1 mx a:%{l}.users.example.com -all']], MX: [{ priority: 10, exchange: 'mail.example.com' }] },
    'mail.example.com': { A: ['192.0.2.10'] },
    'bob.users.example.com': { A: ['192.0.2.20'] },
    'slow.example.com': { TXT: 'TIMEOUT' },
    'v6.example.com': { TXT: [['v=spf1 mx mx mx -all']], MX: [{ priority: 10, exchange: 'mail.example.com' }] },
  };
  test('mx and macro a: match, others fail, trace and counts filled', async () => {
    const r = new MapResolver(zones);
    const pass = await checkHost('192.0.2.10', 'example.com', 'alice@example.com', 'mail.example.com', r);
    assert.equal(pass.result, 'pass');
    assert.equal(pass.lookups, 1);
    assert.ok(pass.trace.length > 0);
    assert.equal((await checkHost('192.0.2.20', 'example.com', 'bob@example.com', 'h.example', r)).result, 'pass');
    const fail = await checkHost('192.0.2.20', 'example.com', 'carol@example.com', 'h.example', r);
    assert.equal(fail.result, 'fail');
    assert.equal(fail.voidLookups, 1);
  });
  test('timeout → temperror; IPv6 client against A-only MX hosts runs into the void limit', async () => {
    const r = new MapResolver(zones);
    assert.equal((await checkHost('192.0.2.1', 'slow.example.com', 'x@slow.example.com', 'h', r)).result, 'temperror');
    const v6 = await checkHost('2001:db8::1', 'v6.example.com', 'x@v6.example.com', 'h', r);
    assert.equal(v6.result, 'permerror');
    assert.equal(v6.voidLookups, 3);
  });
});
