// The stray-character repair of src/core/spf/joins.ts on its own: which characters count (invisible format characters
// and non-ASCII spaces — not letters, not bidirectional overrides, not ASCII controls), and how record text is shown.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runTogetherCandidates, runTogetherTerms, visibleTerm } from '../../../src/core/spf/joins.js';
import { parseSpf } from '../../../src/core/spf/parse.js';
import { MapResolver } from '../../helpers/map-resolver.js';

const resolver = new MapResolver({ '_spf.google.com': { TXT: [['v=spf1 ip4:172.217.0.0/19 ~all']] } });

test('characters above U+00FF are escaped as \\uXXXX, never as an ambiguous \\x200b', () => {
  assert.equal(visibleTerm('goo\u200bgle'), 'goo\\u200Bgle');
  assert.equal(visibleTerm('a\u00a0b\u00adc'), 'a\\xa0b\\xadc');
  assert.ok(parseSpf('v=spf1 include:a\u200bb.example -all').errors.some((e) => e.reason.includes('a\\u200Bb.example')));
});

test('every invisible format character and the no-break space inside a name: the term without it', async () => {
  for (const ch of ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad', '\u00a0', '\u202f', '\u200e', '\u200f', '\u2062', '\u061c', '\u180e']) {
    const r = await runTogetherTerms(resolver, [`v=spf1 include:_spf.goo${ch}gle.com -all`]);
    assert.deepEqual(
      r.found.map((f) => [f.cause, f.parts]),
      [['stray', ['include:_spf.google.com']]],
      `U+${ch.charCodeAt(0).toString(16)}`,
    );
  }
});

test('not stray: letters of another script, bidirectional overrides and isolates, ASCII tabs inside a name', () => {
  for (const tok of ['include:_spf.g\u043eogle.com', 'include:_spf.goo\u202egle.com', 'include:_spf.goo\u2066gle.com', 'include:_spf.goo\tgle.com', 'include:b\u00fccher.example']) {
    assert.deepEqual(runTogetherCandidates([`v=spf1 ${tok} -all`]), [], JSON.stringify(tok));
  }
});
