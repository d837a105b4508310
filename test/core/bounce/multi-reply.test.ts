// A bounce for several recipients refused for different reasons: one reply is explained whole — its code, receiver,
// meaning and findings all from that reply, never the code of one and the words of another — and it is the one about
// sender authentication or policy (x.7.x) when there is one; the others are named in a note.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { explainBounce } from '../../../src/core/bounce/explain.js';
import { isParseError, parseBounce, type ParsedBounce } from '../../../src/core/bounce/parse.js';

const parsed = (text: string): ParsedBounce => {
  const r = parseBounce(text);
  assert.ok(!isParseError(r), JSON.stringify(r));
  return r;
};

const GMAIL_NO_USER = '550 5.1.1 The email account that you tried to reach does not exist. https://support.google.com/mail/?p=NoSuchUser - gsmtp';
const OUTLOOK_SPF = '550 5.7.23 The message was rejected because of Sender Policy Framework violation [AM4PEPF.eurprd04.prod.outlook.com]';

test('no-such-mailbox for one recipient, an SPF refusal for the other (Exim-style blocks): the SPF reply, whole; 5.1.1 named in a note', () => {
  for (const order of ['nouser-first', 'spf-first'] as const) {
    const blocks = [
      `  someone@gmail.com\n    host gmail-smtp-in.l.google.com [142.250.102.27]\n    ${GMAIL_NO_USER}`,
      `  other@outlook.com\n    host outlook-com.olc.protection.outlook.com [52.101.1.1]\n    ${OUTLOOK_SPF}`,
    ];
    if (order === 'spf-first') blocks.reverse();
    const p = parsed(`From: info@bakery.example\n\n${blocks.join('\n')}\n`);
    assert.equal(p.enhancedCode, '5.7.23', order);
    assert.equal(p.receiver, 'microsoft', order);
    assert.doesNotMatch(p.text, /does not exist|5\.1\.1/, order);
    assert.deepEqual(p.otherCodes, ['5.1.1'], order);
    assert.equal(p.domain, 'bakery.example');
    const x = explainBounce(p, null);
    assert.ok(x.notes.some((n) => /other replies too \(5\.1\.1\): this explains 5\.7\.23/.test(n)), x.notes.join(' | '));
  }
});

test('a DKIM refusal after a no-such-mailbox (both Gmail): the DKIM reply is explained, not "not caused by DNS"', () => {
  const p = parsed(
    `From: info@plumber.example\n\n  a@gmail.com\n    ${GMAIL_NO_USER}\n  b@gmail.com\n    550-5.7.30 This mail has been blocked because it didn't pass DKIM authentication. gsmtp\n    550 5.7.30 gsmtp\n`,
  );
  assert.equal(p.enhancedCode, '5.7.30');
  assert.equal(p.receiver, 'gmail');
  assert.deepEqual(p.otherCodes, ['5.1.1']);
});

test('a DSN with two per-recipient Diagnostic-Codes: the policy one', () => {
  const dsn = [
    'From: Mail Delivery System <MAILER-DAEMON@mx.example.net>',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.net',
    '',
    'Final-Recipient: rfc822; a@gmail.com',
    'Action: failed',
    'Status: 5.1.1',
    `Diagnostic-Code: smtp; ${GMAIL_NO_USER}`,
    '',
    'Final-Recipient: rfc822; b@outlook.com',
    'Action: failed',
    'Status: 5.7.23',
    `Diagnostic-Code: smtp; ${OUTLOOK_SPF}`,
    '',
    'From: info@bakery.example',
    '',
  ].join('\n');
  const p = parsed(dsn);
  assert.equal(p.enhancedCode, '5.7.23');
  assert.deepEqual(p.otherCodes, ['5.1.1']);
});

test('one reply, wrapped over several lines: unchanged (no other codes, the whole text)', () => {
  const p = parsed('host gmail-smtp-in.l.google.com[142.250.102.27] said: 550-5.7.26 This mail has been blocked because the sender is\n    550-5.7.26 unauthenticated. Gmail requires all senders to authenticate with either\n    550 5.7.26 SPF or DKIM. - gsmtp (in reply to end of DATA command)\n');
  assert.equal(p.enhancedCode, '5.7.26');
  assert.equal(p.otherCodes, undefined);
  assert.match(p.text, /unauthenticated.*SPF or DKIM/s);
});

test("a reply quoted in the returned message is not one of the bounce's: a 5.1.1 stays 5.1.1", () => {
  const p = parsed(
    `From: info@bakery.example\n\n  someone@gmail.com\n    host gmail-smtp-in.l.google.com [142.250.102.27]\n    ${GMAIL_NO_USER}\n\n------ This is a copy of the message, including all the headers. ------\n\nFrom: info@bakery.example\nSubject: Fwd: undeliverable\n\nTheir reply was\n${OUTLOOK_SPF}\n> 550 5.7.26 quoted\n`,
  );
  assert.equal(p.enhancedCode, '5.1.1');
  assert.equal(p.otherCodes, undefined);
});

// The search for the reply started at the first "said:" anywhere — also one inside the returned message (a forwarded
// Postfix bounce), so a 5.1.1 bounce was explained as the forwarded SPF refusal. Only the bounce's own text counts.
test('a "said:" inside the returned message does not move the reply search there', () => {
  const p = parsed(
    `From: info@bakery.example\n\n  someone@gmail.com\n    host gmail-smtp-in.l.google.com [142.250.102.27]\n    ${GMAIL_NO_USER}\n\n------ This is a copy of the message, including all the headers. ------\n\nFrom: info@bakery.example\nSubject: Fwd: undeliverable\n\nhost mx.example.net[192.0.2.1] said: ${OUTLOOK_SPF} (in reply to RCPT TO command)\n`,
  );
  assert.equal(p.enhancedCode, '5.1.1');
  assert.match(p.text, /does not exist/);
  // The bounce's own "said:" still leads the search (Postfix: the reply after it, not a code in the text before).
  const q = parsed('Reporting-MTA note: 451 words earlier\n<a@x.example>: host mx.x.example[192.0.2.7] said: 550 5.7.1 Sender rejected (in reply to RCPT TO command)\n');
  assert.equal(q.enhancedCode, '5.7.1');
});
