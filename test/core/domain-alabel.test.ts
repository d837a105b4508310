// The helpers built on the one domain validator (src/core/domain.ts) for internationalised names: aLabelName (a name the
// SPF and DMARC fixes write as its A-label: only one that converts cleanly, each label in one script — never a
// look-alike) and labelToAscii (the list filter's "Domain contains" text, label by label).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { domainToASCII } from 'node:url';
import { aLabelName, labelToAscii } from '../../src/core/domain.js';

describe('aLabelName: a name the SPF and DMARC fixes write as its A-label', () => {
  test('a Unicode name that converts: its A-label (the validator\'s form)', () => {
    assert.equal(aLabelName('spf.bücher.example'), 'spf.xn--bcher-kva.example');
    assert.equal(aLabelName('mail.BÜCHER.example.'), 'mail.xn--bcher-kva.example');
    assert.equal(aLabelName('bu\u0308cher.example'), 'xn--bcher-kva.example');
    assert.equal(aLabelName('пример.рф'), 'xn--e1afmkfd.xn--p1ai');
    assert.equal(aLabelName('ひらがな漢字.jp'), domainToASCII('ひらがな漢字.jp'));
  });

  test('nothing to write: ASCII, no domain name, a label mixing scripts (a look-alike), an invisible character', () => {
    assert.equal(aLabelName('spf.example.com'), null);
    assert.equal(aLabelName('bücher'), null);
    assert.equal(aLabelName('xn--a.bücher.example'), null);
    assert.equal(aLabelName('_spf.g\u043Eogle.com'), null, 'Cyrillic о among Latin letters');
    assert.equal(aLabelName('p\u0430ypal.com'), null, 'Cyrillic а among Latin letters');
    assert.equal(aLabelName('goo\u200Bgle.com'), null);
    assert.equal(aLabelName('b\u00ADücher.example'), null);
    assert.equal(aLabelName('b\u202Eücher.example'), null);
  });
});

test('labelToAscii: one label as IDNA writes it, or null', () => {
  assert.equal(labelToAscii('Bücher'), 'xn--bcher-kva');
  assert.equal(labelToAscii('SHOP'), 'shop');
  assert.equal(labelToAscii('xn--a'), null);
  assert.equal(labelToAscii(''), null);
  assert.equal(labelToAscii('a b'), null);
  assert.equal(labelToAscii('１２３'), null, 'node reads it as an IPv4 number: no label');
});
