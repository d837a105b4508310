// Information added next to the RFC results: check_host's dnsTrouble (lookups RFC 7208 treats as no match) and the
// tree walker's nestedErrors (permerror causes below a top-level include).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkHost } from '../../../src/core/spf/evaluate.js';
import { walkSpfRecord } from '../../../src/core/spf/tree.js';
import { MapResolver } from '../../helpers/map-resolver.js';

describe('check_host dnsTrouble', () => {
  test('PTR timeout: result stays fail (RFC 7208 §5.5), the trouble is reported', async () => {
    const r = new MapResolver({ 'ptr.example': { TXT: [['v=spf1 ptr -all']] }, '10.113.0.203.in-addr.arpa': { PTR: 'TIMEOUT' } });
    const e = await checkHost('203.0.113.10', 'ptr.example', 'x@ptr.example', 'h.example', r);
    assert.equal(e.result, 'fail');
    assert.deepEqual(e.dnsTrouble, ['10.113.0.203.in-addr.arpa PTR: DNS error (timeout)']);
  });

  test('forward lookup of a PTR name fails: reported', async () => {
    const r = new MapResolver({
      'ptr.example': { TXT: [['v=spf1 ptr -all']] },
      '10.113.0.203.in-addr.arpa': { PTR: ['host.ptr.example'] },
      'host.ptr.example': { A: 'SERVFAIL' },
    });
    const e = await checkHost('203.0.113.10', 'ptr.example', 'x@ptr.example', 'h.example', r);
    assert.equal(e.result, 'fail');
    assert.deepEqual(e.dnsTrouble, ['host.ptr.example A: DNS error (servfail)']);
  });

  test('answered lookups: no dnsTrouble', async () => {
    const r = new MapResolver({
      'ptr.example': { TXT: [['v=spf1 ptr -all']] },
      '10.113.0.203.in-addr.arpa': { PTR: ['host.ptr.example'] },
      'host.ptr.example': { A: ['203.0.113.10'] },
    });
    const e = await checkHost('203.0.113.10', 'ptr.example', 'x@ptr.example', 'h.example', r);
    assert.equal(e.result, 'pass');
    assert.equal(e.dnsTrouble, undefined);
  });
});

describe('tree nestedErrors', () => {
  test('a missing target two levels down is listed on the top-level include, with its path', async () => {
    const r = new MapResolver({ 'esp.example': { TXT: [['v=spf1 include:gone.example ~all']] } });
    const tree = await walkSpfRecord(r, 'n.example', 'v=spf1 ip4:192.0.2.1 include:esp.example -all');
    const inc = tree.terms.find((t) => t.term === 'include:esp.example')!;
    assert.equal(inc.error, undefined);
    assert.deepEqual(inc.nestedErrors, [
      'n.example include:esp.example → esp.example include:gone.example: include target gone.example does not exist (NXDOMAIN) (receivers return permerror)',
    ]);
    assert.deepEqual(tree.errors, inc.nestedErrors);
  });

  test('DNS trouble and void a/mx terms below are not nested errors', async () => {
    const r = new MapResolver({ 'esp.example': { TXT: [['v=spf1 include:slow.example a:none.example ~all']] }, 'slow.example': { TXT: 'TIMEOUT' } });
    const tree = await walkSpfRecord(r, 'n.example', 'v=spf1 include:esp.example -all');
    assert.equal(tree.unknown, true);
    assert.equal(tree.terms[0].nestedErrors, undefined);
  });
});
