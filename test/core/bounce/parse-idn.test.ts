// A bounce that names its sender only by an internationalised address (RFC 6531, SMTPUTF8: "müller@bücher.example")
// gives the sender's domain, as its A-label (QA-IDN-7): /explain then audits it. The local part may have letters,
// marks and digits of any script; nothing invisible or bidi, at most 64 octets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isParseError, parseBounce } from '../../../src/core/bounce/parse.js';

const REPLY = '550 5.7.26 Unauthenticated email is not accepted';
const parsed = (text: string) => {
  const p = parseBounce(text);
  assert.ok(!isParseError(p), JSON.stringify(p));
  return p;
};

test('From: müller@bücher.example gives the sender domain, in every place a sender is read', () => {
  assert.equal(parsed(`From: müller@bücher.example\nTo: x@gmail.com\n\n${REPLY}`).domain, 'xn--bcher-kva.example');
  assert.equal(parsed(`From: "Jörg Müller" <jörg.müller@BÜCHER.example>\nTo: x@gmail.com\n\n${REPLY}`).domain, 'xn--bcher-kva.example');
  assert.equal(parsed(`From: u\u0308ber@bücher.example\nTo: x@gmail.com\n\n${REPLY}`).domain, 'xn--bcher-kva.example', 'a combining mark');
  assert.equal(parsed(`From: 用户@例子.example\nTo: x@gmail.com\n\n${REPLY}`).domain, 'xn--fsqu00a.example');
  assert.equal(parsed(`2024-01-01 12:00:00 1abc-0001 ** x@gmail.com F=<müller@bücher.example> R=dnslookup T=remote_smtp: SMTP error from remote mail server after end of data: ${REPLY}`).domain, 'xn--bcher-kva.example');
  // The recipient is read the same way.
  assert.equal(parsed(`Final-Recipient: rfc822; jörg@bücher.example\nStatus: 5.7.26\n\n${REPLY}`).recipient, 'jörg@xn--bcher-kva.example');
});

test('a local part with an invisible or bidi character, or over 64 octets, is no address', () => {
  for (const local of ['mü\u200Bller', 'mü\u202Eller', 'mü\u2060ller', 'ü'.repeat(33)]) {
    assert.equal(parsed(`From: ${local}@bücher.example\nTo: x@gmail.com\n\n${REPLY}`).domain, null, JSON.stringify(local));
  }
  // 32 × "ü" is 64 octets: an address.
  assert.equal(parsed(`From: ${'ü'.repeat(32)}@bücher.example\nTo: x@gmail.com\n\n${REPLY}`).domain, 'xn--bcher-kva.example');
  // ASCII addresses as before.
  assert.equal(parsed(`From: ops@bakery.example\nTo: x@gmail.com\n\n${REPLY}`).domain, 'bakery.example');
});
