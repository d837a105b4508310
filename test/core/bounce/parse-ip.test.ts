// Review round 2, item 4: the sending IP in Gmail's legacy "[ip      15]" and in Exchange Online's Received line
// "from host (ip) by …outlook.com (ip)" — never the receiver's own IP, never one from a returned message's body.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURES_DIR } from '../../helpers/corpora.js';
import { isParseError, parseBounce, type ParsedBounce } from '../../../src/core/bounce/parse.js';

function parsed(text: string): ParsedBounce {
  const r = parseBounce(text);
  if (isParseError(r)) assert.fail(r.error);
  return r;
}
const fixture = (name: string) => parsed(readFileSync(join(FIXTURES_DIR, 'bounces', name), 'utf8'));

describe('parseBounce: sending IP layouts', () => {
  it('Gmail legacy "[198.51.100.23      15]"', () => {
    assert.equal(fixture('gmail-421-4.7.0-legacy-ip.txt').ip, '198.51.100.23');
    assert.equal(parsed('421-4.7.0 [2001:db8::25 7] Our system has detected - gsmtp').ip, '2001:db8::25');
  });
  it('Gmail legacy form with the receiver\'s own IP is not taken', () => {
    assert.equal(parsed('host gmail-smtp-in.l.google.com[142.250.153.26] said: 421-4.7.0 [142.250.153.26  15] Our system has detected - gsmtp').ip, null);
  });
  it('Exchange Online: "Received: from host (ip) by …mail.protection.outlook.com (ip)" → the from-part IP', () => {
    assert.equal(fixture('microsoft-5.7.23-ndr-headers.txt').ip, '198.51.100.44');
  });
  it('never the by-part (the receiver\'s address), never Microsoft\'s internal hops, never a private address', () => {
    const hop = [
      '550 5.7.23 The message was rejected because of Sender Policy Framework violation',
      '',
      'Received: from AM0PR02MB1111.eurprd02.prod.outlook.com (2603:10a6:20b:1::5) by AM0PR02MB2222.eurprd02.prod.outlook.com (2603:10a6:20b:1::6) with Microsoft SMTP Server',
      'Received: from laptop (10.1.2.3) by DB5PEPF00014C2A.mail.protection.outlook.com (10.167.242.10) with Microsoft SMTP Server',
      'From: a@shop.example.com',
    ].join('\n');
    assert.equal(parsed(hop).ip, null);
  });
  it('a Received line the sender\'s own server wrote is not the sending IP (parentheses or brackets)', () => {
    assert.equal(parsed('550 5.7.1 rejected\n\nReceived: from pc (198.51.100.61) by cp7.hosting.example with esmtpsa\nFrom: a@shop.example.com').ip, null);
  });
  it('Received lines and bracketed or parenthesised IPs in a returned message\'s body are ignored', () => {
    const p = fixture('gmail-5.7.26-quoted-body.txt');
    assert.equal(p.ip, null);
    assert.equal(p.domain, 'shop.example.com');
  });
  it('the returned message\'s header block still counts after the bounce\'s own headers and text', () => {
    const text = [
      'From: Mail Delivery System <MAILER-DAEMON@cp7.hosting.example>',
      'To: orders@shop.example.com',
      'Subject: Mail delivery failed',
      '',
      '550 5.7.26 Unauthenticated email is not accepted - gsmtp',
      '',
      '------ This is a copy of the message, including all the headers. ------',
      '',
      'Received: from cp7.hosting.example (cp7.hosting.example. [198.51.100.31])',
      '        by mx.google.com with ESMTPS id x1si1;',
      'From: Shop <orders@shop.example.com>',
      '',
      'Received: from elsewhere.example (elsewhere.example [192.0.2.99]) by mx.google.com',
    ].join('\n');
    assert.equal(parsed(text).ip, '198.51.100.31');
  });
});
