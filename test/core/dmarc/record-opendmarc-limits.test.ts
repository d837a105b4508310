// OpenDMARC's length limits on report addresses (libopendmarc 1.4.2's parser; judged at the boundaries in
// test/e2e/dmarc-opendmarc-judge.test.ts): a report URI of 256 octets or more — whitespace not counted, a !size suffix
// counted — makes it refuse the whole record; a rua= or ruf= value of 512 octets or more as written (from "=" to the
// next ";", whitespace counted) is skipped whole, its URIs not looked at. mailhealth read neither: dmarc.compat was
// silent, and the DMARC fix wrote such records. Pinned here without gcc.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fitReportUris, openDmarcDropsReports, openDmarcIgnores, openDmarcReportValues, openDmarcUriOctets, parseDmarcRecord } from '../../../src/core/dmarc/record.js';
import { listOf, uriOf } from '../../helpers/dmarc-lengths.js';

const refusals = (txt: string) => openDmarcIgnores(txt).filter((w) => /^its ru[af]= address/.test(w));

describe('OpenDMARC report URI length (256 octets or more: the whole record refused)', () => {
  test('octets, not characters; whitespace not counted; an escaped octet counts one', () => {
    assert.equal(openDmarcUriOctets(uriOf(255)), 255);
    assert.equal(openDmarcUriOctets(`mailto:${'é'.repeat(10)}@example.com`), 39);
    assert.equal(openDmarcUriOctets(`  ${uriOf(250)}\t `), 250);
    // A TXT octet that is not UTF-8 (U+DC00 + octet, src/core/octets.ts) is one octet on the wire, not three.
    assert.equal(openDmarcUriOctets('mailto:\udce9@example.com'), 20);
  });

  for (const tag of ['rua', 'ruf'] as const) {
    test(`${tag}: 255 octets read, 256 and 257 refused — said with the exact numbers`, () => {
      assert.deepEqual(refusals(`v=DMARC1; p=reject; ${tag}=${uriOf(255)}`), []);
      for (const n of [256, 257]) {
        const said = refusals(`v=DMARC1; p=reject; ${tag}=mailto:d@example.com,${uriOf(n)}`);
        assert.equal(said.length, 1, `${n}`);
        assert.match(said[0], new RegExp(`^its ${tag}= address "mailto:a{50}\\.\\.\\." is ${n} octets long, and OpenDMARC refuses the whole record over a report URI of 256 octets or more$`));
      }
    });
  }

  test('a !size suffix counts; spaces around a URI do not', () => {
    assert.equal(refusals(`v=DMARC1; p=reject; rua=${uriOf(251)}!10m`).length, 0);
    assert.equal(refusals(`v=DMARC1; p=reject; rua=${uriOf(252)}!10m`).length, 1);
    assert.equal(refusals(`v=DMARC1; p=reject; rua=   ${uriOf(255)}   ,mailto:d@example.com`).length, 0);
  });

  test('a long URI in a list OpenDMARC skips whole refuses nothing (the list is dropped before its URIs are looked at)', () => {
    const txt = `v=DMARC1; p=reject; rua=${listOf(211)},${uriOf(300)}`;
    assert.deepEqual(refusals(txt), []);
    assert.equal(openDmarcDropsReports(txt).length, 1);
    const within = `v=DMARC1; p=reject; rua=${listOf(254)},${uriOf(256)}`;
    assert.equal(refusals(within).length, 1);
    assert.deepEqual(openDmarcDropsReports(within), []);
  });

  test('the records are valid to mailhealth (RFC 7489 receivers read them): the warning is OpenDMARC\'s alone', () => {
    const rec = parseDmarcRecord(`v=DMARC1; p=reject; rua=${uriOf(256)}`);
    assert.deepEqual(rec.errors, []);
    assert.equal(rec.rua.length, 1);
  });
});

describe('OpenDMARC rua=/ruf= value length (512 octets or more as written: skipped)', () => {
  for (const [tag, kind] of [
    ['rua', 'aggregate'],
    ['ruf', 'failure'],
  ] as const) {
    test(`${tag}: 511 octets read, 512 and 513 skipped — said with the exact numbers`, () => {
      assert.deepEqual(openDmarcDropsReports(`v=DMARC1; p=reject; ${tag}=${listOf(511)}`), []);
      for (const n of [512, 513]) {
        const list = listOf(n);
        const said = openDmarcDropsReports(`v=DMARC1; p=reject; ${tag}=${list}`);
        assert.deepEqual(said, [
          `its ${tag}= value is ${n} octets long (from "=" to the next ";", spaces included), and OpenDMARC skips a rua= or ruf= value of 512 octets or more whole, so it sends no ${kind} reports to any of its ${list.split(',').length} addresses`,
        ]);
      }
    });
  }

  test('the whitespace of the value counts (as written between "=" and ";"), the tag name is read as OpenDMARC reads it', () => {
    assert.deepEqual(openDmarcDropsReports(`v=DMARC1; p=reject; rua= ${listOf(510)}`), []);
    assert.equal(openDmarcDropsReports(`v=DMARC1; p=reject; rua= ${listOf(510)} ; adkim=r`).length, 1);
    assert.equal(openDmarcDropsReports(`v=DMARC1; p=reject; RUA =${listOf(512)}`).length, 1);
    const [v] = openDmarcReportValues(`v=DMARC1; p=reject; rua= ${listOf(510)} ; adkim=r`);
    assert.deepEqual([v.tag, v.octets, v.skipped, v.tooLong], ['rua', 512, true, []]);
  });

  test('a short record, or one without report addresses, is not split', () => {
    assert.deepEqual(openDmarcDropsReports('v=DMARC1; p=reject; rua=mailto:d@example.com'), []);
    assert.deepEqual(openDmarcDropsReports(`v=DMARC1; p=reject; foo=${'x'.repeat(600)}`), []);
  });
});

describe('fitReportUris: the report addresses the DMARC fix writes so that OpenDMARC reads them', () => {
  test('URIs of at most 255 octets in a list of at most 511 are kept as they are', () => {
    const uris = listOf(511).split(',');
    assert.deepEqual(fitReportUris(uris), { kept: uris, shortened: [], tooLong: [], left: [], octets: 511 });
    assert.deepEqual(fitReportUris([uriOf(255)]).kept, [uriOf(255)]);
  });

  test('a URI over 255 octets only with its !size suffix is written without it; one over 255 anyway is dropped', () => {
    const fit = fitReportUris(['mailto:d@example.com', `${uriOf(252)}!10m`, uriOf(256), `${uriOf(256)}!1m`]);
    assert.deepEqual(fit.kept, ['mailto:d@example.com', uriOf(252)]);
    assert.deepEqual(fit.shortened, [{ from: `${uriOf(252)}!10m`, to: uriOf(252), octets: 256 }]);
    assert.deepEqual(fit.tooLong, [
      { uri: uriOf(256), octets: 256 },
      { uri: `${uriOf(256)}!1m`, octets: 259 },
    ]);
  });

  test('a list over 511 octets keeps each URI, in the order written, that still fits after those kept before it', () => {
    const uris = listOf(512).split(',');
    const fit = fitReportUris(uris);
    assert.deepEqual(fit.kept, uris.slice(0, -1));
    assert.deepEqual(fit.left, uris.slice(-1));
    assert.equal(fit.octets, 512);
    // A URI that does not fit any more is left out; a shorter one after it that does is kept: 200 + 1 + 200 = 401
    // octets, a third of 200 would make 602, the 20 octets of mailto:d@example.com make 422.
    const [a, b, c] = ['example.com', 'example.org', 'example.net'].map((d) => uriOf(200, d));
    const skip = fitReportUris([a, b, c, 'mailto:d@example.com']);
    assert.deepEqual(skip.kept, [a, b, 'mailto:d@example.com']);
    assert.deepEqual(skip.left, [c]);
    assert.equal(skip.octets, 623);
  });
});
