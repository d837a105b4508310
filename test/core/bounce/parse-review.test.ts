// Review fixes in parseBounce: linear regexes on long input, the returned message's From (not a quoted reply's),
// and Microsoft's "550; 5.7.515" form.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { BOUNCE_TABLE } from '../../../src/core/bounce/codes.js';
import { matchBounceCode } from '../../../src/core/bounce/explain.js';
import { isParseError, MAX_BOUNCE_BYTES, MAX_SCAN_CHARS, parseBounce, type ParsedBounce } from '../../../src/core/bounce/parse.js';

function parsed(text: string, scanLimit?: number): ParsedBounce {
  const r = parseBounce(text, BOUNCE_TABLE, scanLimit);
  if (isParseError(r)) assert.fail(`unexpected parse error: ${r.error}`);
  return r;
}

type Expect = Partial<Pick<ParsedBounce, 'replyCode' | 'enhancedCode' | 'text' | 'domain' | 'recipient' | 'remoteMta' | 'format'>>;

function check(p: ParsedBounce, e: Expect, what: string) {
  for (const [k, v] of Object.entries(e)) assert.equal(p[k as keyof ParsedBounce], v, `${what}: ${k}`);
}

// ---------------------------------------------------------------- linear regexes

// About 250 KB each (under MAX_BOUNCE_BYTES). The quadratic regexes the review found take 20 s to over a minute on these,
// so a regression fails by the timeout below instead of by a timing assertion. A synchronous test body is never timed
// out by node:test: each test yields first (the timeout counts from there) and after each parse (it fires then).
const N = 250_000;
const HEAD = '550 5.7.1 x\n\n'; // the blank line ends the reply's paragraph
const reply: Expect = { replyCode: '550', enhancedCode: '5.7.1', text: '550 5.7.1 x' };

const LONG: { name: string; input: string; full: Expect; bounded?: Expect }[] = [
  // validAddress's trailing `[>\])"',;:.]+$` on a Final-Recipient value.
  { name: 'Final-Recipient with a long run of dots', input: HEAD + 'Final-Recipient: rfc822; ' + '.'.repeat(N) + 'x\n', full: { ...reply, recipient: null, format: 'dsn' }, bounded: { ...reply, recipient: null, format: 'smtp' } },
  // `^\s*<…>:\s*host` (Postfix recipient line) across a long run of blank lines.
  { name: 'long run of newlines', input: HEAD + '\n'.repeat(N), full: { ...reply, recipient: null, format: 'smtp' } },
  // `\s.*$` on a folded Remote-MTA value with a long run of spaces.
  {
    name: 'Remote-MTA with a long run of spaces',
    input: HEAD + 'Remote-MTA: dns; a' + ' '.repeat(N) + 'b\n c\n',
    full: { ...reply, remoteMta: 'a' },
    bounded: { ...reply, remoteMta: null }, // the long line lies past MAX_SCAN_CHARS
  },
  // Exim's `R=\S+ T=\S+` on overlapping R= tokens.
  { name: 'many R= tokens', input: HEAD + 'R='.repeat(N / 2), full: { ...reply, format: 'smtp' } },
  // Others of the same shape (a long run, then something that fails at its end).
  { name: 'From: with a long run of dots', input: HEAD + 'From: <alice@example.com>' + '.'.repeat(N) + 'x\n', full: { ...reply, domain: 'example.com' }, bounded: { ...reply, domain: null } },
  { name: 'Postfix recipient line with a long run of spaces', input: HEAD + '<bob@gmail.com>:' + ' '.repeat(N) + 'x\n', full: { ...reply, recipient: null } },
  { name: 'Received: with many "by" words', input: HEAD + 'Received: from x ' + 'by '.repeat(N / 3) + '\n', full: reply },
  { name: 'client-ip with a long run of spaces', input: HEAD + 'client-ip' + ' '.repeat(N) + 'x\n', full: { ...reply, recipient: null } },
];

describe('parseBounce: 250 KB inputs that were quadratic', () => {
  for (const c of LONG) {
    it(c.name, { timeout: 10_000 }, async () => {
      assert.ok(Buffer.byteLength(c.input) <= MAX_BOUNCE_BYTES);
      await tick();
      const full = parsed(c.input, Infinity); // every regex on the whole input
      await tick();
      check(full, c.full, 'whole input');
      const bounded = parsed(c.input); // what the web route and CLI do: the first MAX_SCAN_CHARS
      await tick();
      check(bounded, c.bounded ?? c.full, 'first MAX_SCAN_CHARS');
    });
  }

  it('reads only the first MAX_SCAN_CHARS of the input, cut at a line end', () => {
    const pad = 'x'.repeat(70) + '\n';
    const filler = pad.repeat(Math.ceil(MAX_SCAN_CHARS / pad.length));
    assert.equal(parsed(HEAD + filler + 'From: <alice@example.com>\n').domain, null);
    assert.equal(parsed(HEAD + 'From: <alice@example.com>\n' + filler).domain, 'example.com');
    assert.equal(parsed(HEAD + filler + 'From: <alice@example.com>\n', Infinity).domain, 'example.com');
  });
});

// ---------------------------------------------------------------- the sender domain from From:

// Gmail's 5.7.26 wording (shared/reference/mail-auth.md §6) does not name the domain: it comes from the returned headers.
const EXIM_HEAD = `Return-path: <>
From: Mail Delivery System <Mailer-Daemon@server1.host.example>
To: alice@example.com
Subject: Mail delivery failed: returning message to sender

`;
const EXIM_BODY = `This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  bob@gmail.com
    host gmail-smtp-in.l.google.com [142.250.1.26]
    SMTP error from remote mail server after end of data:
    550-5.7.26 This mail has been blocked because the sender is
    550-5.7.26 unauthenticated. Gmail requires all senders to authenticate with
    550 5.7.26 either SPF or DKIM. - gsmtp

------ This is a copy of the message, including all the headers. ------

Return-path: <alice@example.com>
Received: from [198.51.100.7] (port=51234 helo=[192.168.1.5])
	by server1.host.example with esmtpsa
From: Alice <alice@example.com>
To: Bob <bob@gmail.com>
Subject: Re: quote

Sure, see below.

From: Bob <bob@gmail.com>
Sent: Monday, 3 March 2025 10:00
To: Alice <alice@example.com>
Subject: quote

> From: Carol <carol@gmail.com>
Can you send the quote?
`;

describe('parseBounce: the sender domain is the returned message\'s From, not a quoted reply\'s', () => {
  it('Exim bounce with its own headers, the returned headers and a quoted reply in the body', () => {
    const p = parsed(EXIM_HEAD + EXIM_BODY);
    check(p, { replyCode: '550', enhancedCode: '5.7.26', domain: 'example.com', recipient: 'bob@gmail.com', format: 'exim' }, 'exim');
    assert.equal(p.receiver, 'gmail');
  });
  it('the same bounce pasted without its own headers', () => {
    assert.equal(parsed(EXIM_BODY).domain, 'example.com');
  });
  it("a bounce whose own From is not a daemon (Exchange NDR) still takes the original message's From", () => {
    const ndr = `From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.onmicrosoft.com>
To: <alice@contoso.com>
Subject: Undeliverable: quote

Delivery has failed to these recipients or groups:

bob@fabrikam.example
Remote Server returned '550 5.7.1 Service unavailable, Client host [203.0.113.5] blocked using Spamhaus'

Original message headers:

Received: from AM0PR01MB1234.eurprd01.prod.outlook.com (2603:10a6:208:1::1)
From: Alice <alice@contoso.com>
To: Bob <bob@fabrikam.example>
Subject: quote
`;
    check(parsed(ndr), { replyCode: '550', enhancedCode: '5.7.1', domain: 'contoso.com' }, 'ndr');
  });
});

// ---------------------------------------------------------------- Microsoft's "550; 5.7.515"

describe('parseBounce: Microsoft 550; 5.7.515', () => {
  it('the form in Microsoft\'s announcement', () => {
    const p = parsed('550; 5.7.515 Access denied, sending domain [example.com] does not meet the required authentication level.');
    check(p, {
      replyCode: '550',
      enhancedCode: '5.7.515',
      text: '550 5.7.515 Access denied, sending domain [example.com] does not meet the required authentication level.',
      domain: 'example.com',
    }, '5.7.515');
    assert.equal(matchBounceCode(p)?.id, 'microsoft-5.7.515');
  });
});
