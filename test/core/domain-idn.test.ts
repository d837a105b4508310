// The one domain validator (src/core/domain.ts checkDomain) and internationalised names, as UTS #46 reads them (node:url
// domainToASCII: what browsers and mail clients use), so one typed name is one domain everywhere (QA-IDN-6):
// - a trailing ideographic or full-width full stop (IME input) is the trailing dot, not an empty label;
// - an A-label that is not valid punycode is refused in an ASCII spelling as it is in a mixed one;
// - upper case does not change which domain a name is ("STRAẞE.de" is strasse.de, not the A-label of "straße.de").
// The helpers built on it are in domain-alabel.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { domainToASCII } from 'node:url';
import { checkDomain } from '../../src/core/domain.js';

const ok = (s: string) => {
  const r = checkDomain(s);
  assert.ok(r.ok, `${JSON.stringify(s)}: ${'reason' in r ? r.reason : ''}`);
  return r.domain;
};
const refused = (s: string) => {
  const r = checkDomain(s);
  assert.ok(!r.ok, `${JSON.stringify(s)} accepted as ${'domain' in r ? r.domain : ''}`);
  return r.reason;
};

describe('checkDomain: internationalised spellings', () => {
  test('a trailing ideographic, full-width or half-width full stop is the trailing dot', () => {
    for (const stop of ['.', '\u3002', '\uFF0E', '\uFF61']) {
      assert.equal(ok(`bücher.example${stop}`), 'xn--bcher-kva.example', JSON.stringify(stop));
      assert.equal(ok(`Example.COM${stop}`), 'example.com', JSON.stringify(stop));
    }
    // One stop only, as with ".": a second one is an empty label.
    for (const stop of ['\u3002', '\uFF0E', '\uFF61']) refused(`bücher.example.${stop}`);
    refused('a.example..');
    // A stop inside the name is a dot (UTS #46 maps it).
    assert.equal(ok('bücher\u3002example'), 'xn--bcher-kva.example');
  });

  test('an A-label that is not valid punycode is refused in every spelling, with the same reason', () => {
    const ascii = refused('xn--a.xn--bcher-kva.example');
    assert.match(ascii, /"xn--a" is not a valid A-label/);
    assert.equal(refused('XN--A.example.'), ascii);
    assert.equal(refused('xn--a.bücher.example'), ascii);
    refused('xn--.example');
    // A valid one is accepted, in any case, and is the same domain as its Unicode spelling.
    assert.equal(ok('XN--BCHER-KVA.EXAMPLE.'), 'xn--bcher-kva.example');
    assert.equal(ok('xn--bcher-kva.example'), ok('bücher.example'));
    // Labels with "--" elsewhere are not A-labels: unchanged.
    assert.equal(ok('ab--cd.example'), 'ab--cd.example');
    assert.equal(ok('_dmarc.xn--bcher-kva.example'), '_dmarc.xn--bcher-kva.example');
  });

  test('case folding is UTS #46\'s: capital sharp s, final sigma — what node:url (and browsers) give', () => {
    for (const s of ['STRA\u1E9EE.de', 'Stra\u00DFe.de', 'ΟΔΟΣ.gr', 'BÜCHER.EXAMPLE', 'İstanbul.example', 'ＥＸＡＭＰＬＥ.com']) {
      assert.equal(ok(s), domainToASCII(s).replace(/\.$/, ''), JSON.stringify(s));
    }
    assert.equal(ok('STRA\u1E9EE.de'), 'strasse.de');
    // Lower-case sharp s stays itself (nontransitional processing, IDNA2008): another domain than strasse.de.
    assert.equal(ok('straße.de'), 'xn--strae-oqa.de');
  });

  test('what was refused before still is', () => {
    for (const s of ['', ' ', 'example', 'a..b', '-a.example', 'a-.example', 'exa mple.com', 'a/b.example', 'ex@mple.com', '1.2.3.4', 'b\u202Eücher.example', 'a\x00.example', `${'a'.repeat(64)}.example`, `${'a.'.repeat(127)}example`]) refused(s);
  });
});
