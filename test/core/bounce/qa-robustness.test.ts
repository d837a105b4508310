// QA of "explain a bounce": line endings, very large pastes and hostile text never change the reading or crash it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURES_DIR } from '../../helpers/corpora.js';
import { explainBounce, explanationJson } from '../../../src/core/bounce/explain.js';
import { isParseError, MAX_BOUNCE_BYTES, parseBounce } from '../../../src/core/bounce/parse.js';

const read = (name: string) => readFileSync(join(FIXTURES_DIR, 'bounces', 'qa', name), 'utf8');

describe('explain a bounce: robustness (qa)', () => {
  it('CRLF and LF pastes of the same DSN read the same', () => {
    const lf = read('gmail-5.7.26-postfix-dsn-multipart.txt');
    const a = parseBounce(lf);
    const b = parseBounce(lf.replace(/\n/g, '\r\n'));
    assert.ok(!isParseError(a) && !isParseError(b));
    assert.deepEqual(b, a);
  });

  it('a 1 MB paste is refused with a clear error, not a crash', () => {
    const big = read('gmail-550-5.7.28-ip.txt') + '\n' + 'x'.repeat(1024 * 1024);
    const r = parseBounce(big);
    assert.ok(isParseError(r));
    assert.match(r.error, /too large/);
  });

  it('a paste just under the limit with a long returned body still finds the reply', () => {
    const text = read('exim-5.7.23-forwarded-copy.txt') + 'body line\n'.repeat((MAX_BOUNCE_BYTES - 4096) / 10);
    const r = parseBounce(text);
    assert.ok(!isParseError(r), JSON.stringify(r));
    assert.equal(r.enhancedCode, '5.7.23');
  });

  it('many client-ip= lines in a returned copy are not all examined (bounded) and never taken', () => {
    const text = read('exim-5.7.23-forwarded-copy.txt').replace('From: Shop', 'Received-SPF: pass (relay.example: x) client-ip=192.0.2.7;\n'.repeat(500) + 'From: Shop');
    const r = parseBounce(text);
    assert.ok(!isParseError(r));
    assert.equal(r.ip, null);
  });

  it('HTML and script in a bounce never crash the reader; the JSON keeps the text as data only', () => {
    const hostile = '550 5.7.1 <script>alert(1)</script> &lt;img src=x onerror=alert(2)&gt; rejected by policy from [198.51.100.31]';
    const r = parseBounce(hostile);
    assert.ok(!isParseError(r));
    assert.equal(r.enhancedCode, '5.7.1');
    assert.ok(!r.text.includes('<script>'), 'script blocks are dropped');
    const json = explanationJson(explainBounce(r, null));
    assert.equal(JSON.parse(JSON.stringify(json)).code, '5.7.1');
  });

  it('the Spanish "Encabezados del mensaje original" starts the returned headers like the English and German ones', () => {
    // Their Received-SPF is the receiver's own (receiver=protection.outlook.com): its client-ip is the sending IP.
    const r = parseBounce(read('exchange-es-user-unknown.txt'));
    assert.ok(!isParseError(r));
    assert.equal(r.ip, '192.0.2.99');
    assert.equal(r.domain, 'shop.example.com');
  });
});
