// The SPF parser and evaluator read a/mx CIDR lengths, single and dual (RFC 7208 §5.6: a/24, mx//64, a:host/24//64)
// — checked when QA found the classifier calling such terms unreadable (the parser was right; the classifier now
// reads terms through it).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkHost } from '../../../src/core/spf/evaluate.js';
import { parseSpf, parseTerm } from '../../../src/core/spf/parse.js';
import { MapResolver } from '../../helpers/map-resolver.js';

describe('a/mx CIDR lengths (RFC 7208 §5.6)', () => {
  test('single and dual lengths parse; out-of-range or malformed ones are errors', () => {
    const cases: [string, string | undefined, number | undefined, number | undefined][] = [
      ['a/24', undefined, 24, undefined],
      ['mx/24', undefined, 24, undefined],
      ['mx//64', undefined, undefined, 64],
      ['a/24//64', undefined, 24, 64],
      ['a:host.example/24', 'host.example', 24, undefined],
      ['+mx:host.example/24//128', 'host.example', 24, 128],
    ];
    for (const [raw, spec, c4, c6] of cases) {
      const t = parseTerm(raw);
      assert.equal(t.error, undefined, raw);
      assert.deepEqual([t.domainSpec, t.cidr4, t.cidr6], [spec, c4, c6], raw);
    }
    for (const raw of ['a/33', 'mx//129', 'a/24/64', 'a/024', 'a:/24']) assert.ok(parseTerm(raw).error, raw);
    assert.deepEqual(parseSpf('v=spf1 a/24 mx//64 a/24//64 -all').errors, []);
  });

  test('check_host applies them: a/24 matches the /24 around the A record, mx//64 the /64 around the AAAA', async () => {
    const r = new MapResolver({
      'd.example': { TXT: [['v=spf1 a/24 mx//64 -all']], A: ['192.0.2.10'], MX: [{ priority: 10, exchange: 'mx.d.example' }] },
      'mx.d.example': { AAAA: ['2001:db8:1:2::25'] },
    });
    const res = async (ip: string) => (await checkHost(ip, 'd.example', 'postmaster@d.example', 'h.example', r)).result;
    assert.equal(await res('192.0.2.77'), 'pass');
    assert.equal(await res('192.0.3.1'), 'fail');
    assert.equal(await res('2001:db8:1:2::99'), 'pass');
    assert.equal(await res('2001:db8:1:3::1'), 'fail');
  });
});
