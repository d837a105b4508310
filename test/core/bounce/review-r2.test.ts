// Review R2 of the bounce explainer: a message-format rejection blamed on SPF/DKIM, quoted-printable decoding run on a
// whole paste because a DKIM signature's base64 ends in "=", a PTR rejection of an IP the audit never looked up called
// "nothing explains it", a volume/complaints deferral said to name a blocklist, and terminal colour codes refusing a
// bounce.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckName, DomainAudit, Finding, Severity } from '../../../src/core/model.js';
import { BOUNCE_TABLE } from '../../../src/core/bounce/codes.js';
import { dnsHeadline, explainBounce, NAMES_A_BLOCKLIST } from '../../../src/core/bounce/explain.js';
import { isParseError, parseBounce, type ParsedBounce } from '../../../src/core/bounce/parse.js';

const finding = (rule: string, severity: Severity, subject?: string): Finding => ({
  rule,
  check: rule.split('.')[0] as CheckName,
  severity,
  message: rule,
  evidence: {},
  ...(subject ? { subject } : {}),
});
const audit = (...findings: Finding[]): DomainAudit => ({ domain: 'shop.example', status: 'fail', auditedAt: '2026-01-01T00:00:00Z', findings });
function parsed(text: string): ParsedBounce {
  const r = parseBounce(text);
  if (isParseError(r)) assert.fail(r.error);
  return r;
}
const rules = (fs: Finding[]) => fs.map((f) => f.rule);

// ---------------------------------------------------------------- 1. Gmail's "not RFC 5322 compliant"

// Postfix log lines as published at https://www.spamresource.com/2022/08/gmail-weird-rfc-5322-bounces-and-what.html
// (the IP, blank there, filled in).
const RFC5322_FROM =
  "Aug 25 12:48:59 s1 postfix/smtp[14180]: C90492056B: to=<x@gmail.com>, relay=aspmx.l.google.com[142.250.141.27]:25, delay=0.69, delays=0.08/0/0.39/0.22, dsn=5.7.1, status=bounced (host aspmx.l.google.com[142.250.141.27] said: 550-5.7.1 [203.0.113.5] Our system has detected that this message is not RFC 550-5.7.1 5322 compliant: 550-5.7.1 Multiple 'From' headers found. 550-5.7.1 To reduce the amount of spam sent to Gmail, this message has been 550-5.7.1 blocked. Please visit 550-5.7.1  https://support.google.com/mail/?p=RfcMessageNonCompliant 550 5.7.1  and review RFC 5322 specifications for more information. y6-20020a17090a86c600b001fb71e2d709si4076772pjv.83 - gsmtp (in reply to end of DATA command))";
const RFC5322_DUP =
  'Aug 25 11:20:24 s1 postfix/smtp[26906]: 98299221BB: to=<x@gmail.com>, relay=gmail-smtp-in.l.google.com[142.250.141.26]:25, delay=1.2, delays=0.04/0.77/0.2/0.21, dsn=5.7.1, status=bounced (host gmail-smtp-in.l.google.com[142.250.141.26] said: 550-5.7.1 [203.0.113.5] Our system has detected that this message is not RFC 550-5.7.1 5322 compliant: duplicate headers. To reduce the amount of spam sent 550-5.7.1 to Gmail, this message has been blocked. Please review 550 5.7.1  RFC 5322 specifications for more information. j6-20020a637a46000000b0042b3a763e76si3563504pgn.127 - gsmtp (in reply to end of DATA command))';
// The older wording (https://pastebin.com/ixwyyH5i).
const RFC2822 =
  '550-5.7.1 [203.0.113.5 11] Our system has detected that this message is\n550-5.7.1 not RFC 2822 compliant. To reduce the amount of spam sent to Gmail,\n550-5.7.1 this message has been blocked. Please review\n550 5.7.1 RFC 2822 specifications for more information. nr8si8771738lab.216 - gsmtp';
// SPF and DKIM broken on this server's selector: they explain an authentication rejection, not this one.
const BROKEN_AUTH = audit(
  finding('spf.too-many-lookups', 'fail'),
  finding('dkim.ok', 'pass', 'default'),
  finding('dkim.weak-key', 'fail', 'default'),
  finding('ptr.missing', 'fail', '203.0.113.5'),
);

describe('Gmail 5.7.1 "not RFC 5322 compliant" is a message-format rejection, never blamed on DNS', () => {
  for (const [name, text] of [
    ['Multiple From headers', RFC5322_FROM],
    ['duplicate headers', RFC5322_DUP],
    ['RFC 2822 wording', RFC2822],
  ] as const) {
    it(`${name}: not-dns, no finding named as its cause`, () => {
      const e = explainBounce(parsed(text), BROKEN_AUTH);
      assert.equal(e.entry, 'gmail-5.7.1-rfc5322');
      assert.equal(e.receiver, 'gmail');
      assert.equal(e.verdict, 'not-dns');
      assert.equal(e.explained, false);
      assert.deepEqual(rules(e.findings), []);
      assert.deepEqual(rules(e.otherFindings).sort(), ['dkim.weak-key', 'ptr.missing', 'spf.too-many-lookups'], 'still listed apart');
      assert.ok(e.outsideDns.includes(BOUNCE_TABLE.outsideDns['message-format']), 'points at how the message was built');
      assert.doesNotMatch(dnsHeadline(e, 'audited'), /What in the DNS causes it/);
    });
  }

  it('the same audit still explains a Gmail 5.7.1 about authentication (the entry is not a blanket "not DNS")', () => {
    const auth = '550-5.7.1 [203.0.113.5] This message does not have authentication information or fails to pass\n550 5.7.1 authentication checks. - gsmtp';
    const e = explainBounce(parsed(auth), BROKEN_AUTH);
    assert.equal(e.entry, 'gmail-5.7.1-auth');
    assert.equal(e.verdict, 'explained');
    assert.deepEqual(rules(e.findings), ['spf.too-many-lookups', 'dkim.weak-key']);
  });

  it('the entry names where its wording was observed', () => {
    const entry = BOUNCE_TABLE.codes.find((c) => c.id === 'gmail-5.7.1-rfc5322');
    assert.ok(entry, 'entry exists');
    assert.deepEqual(entry.rules, []);
    assert.match(entry.source, /https:\/\/www\.spamresource\.com\/2022\/08\/gmail-weird-rfc-5322-bounces-and-what\.html/);
    assert.match(entry.source, /[Oo]bserved/);
  });
});

// ---------------------------------------------------------------- 2. quoted-printable only where it is

// A Postfix DSN returning headers whose DKIM signature's b= value ends in `tail` (an RSA-2048 signature ends in "==").
const dsn = (tail: string) => `Reporting-MTA: dns; mail.host.example
X-Postfix-Sender: rfc822; wp@server1.newhost.example

Final-Recipient: rfc822; bob@yahoo.com
Action: failed
Status: 5.7.9
Remote-MTA: dns; mta5.am0.yahoodns.net
Diagnostic-Code: smtp; 554 5.7.9 Message not accepted for policy reasons.  See
    https://help.yahoo.com/kb/postmaster/SLN7253.html

Return-Path: <wp@server1.newhost.example>
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=shop.example; s=default;
	h=From:To:Subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=Xk3v
	9q0AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz012345${tail}
From: Shop <alice@shop.example>
To: bob@yahoo.com
Subject: Your order
`;

// An Exchange Online NDR pasted as text: the receiver's Received-SPF names the sending IP ("client-ip=203…", whose
// "=20" is no encoded space), then a DKIM signature ending in `tail`.
const ndr = (tail: string) => `Your message to bob@contoso.com couldn't be delivered.
Diagnostic information for administrators:
Generating server: AM0PR04MB1234.eurprd04.prod.outlook.com
bob@contoso.com
Remote Server returned '550 5.7.509 Access denied, sending domain shop.example does not pass DMARC verification and has a DMARC policy of reject.'

Original message headers:

Received-SPF: Fail (protection.outlook.com: domain of shop.example does not
 designate 203.0.113.5 as permitted sender) receiver=protection.outlook.com;
 client-ip=203.0.113.5; helo=server1.newhost.example;
DKIM-Signature: v=1; a=rsa-sha256; d=shop.example; s=default; b=Xk3v9q0AbCdEf${tail}
From: Shop <alice@shop.example>
`;

// A raw multipart bounce: its human part in quoted-printable, the returned headers (a DKIM signature ending in "==",
// a Received-SPF with client-ip=203…) in 7bit.
const MULTIPART = `From: Mail Delivery System <MAILER-DAEMON@mail.host.example>
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="B1.1700000000/mail.host.example"

--B1.1700000000/mail.host.example
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<bob@contoso.com>: host contoso-com.mail.protection.outlook.com[52.101.0.1] said:=
 550 5.7.509 Access denied, sending domain shop.example does not pass DMARC =
verification and has a DMARC policy of reject. (in reply to end of DATA command)
R=C3=A9sum=C3=A9: the message was refused.

--B1.1700000000/mail.host.example
Content-Type: text/rfc822-headers
Content-Transfer-Encoding: 7bit

Received-SPF: Fail (protection.outlook.com: domain of shop.example does not
 designate 203.0.113.5 as permitted sender) receiver=protection.outlook.com;
 client-ip=203.0.113.5; helo=server1.newhost.example;
Return-Path: <wp@server1.newhost.example>
DKIM-Signature: v=1; a=rsa-sha256; d=shop.example; s=default;
	b=Xk3v9q0AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz012345==
From: Shop <alice@shop.example>
To: bob@contoso.com

--B1.1700000000/mail.host.example--
`;

describe('parseBounce: quoted-printable is decoded only where it is', () => {
  it('a DKIM signature ending in "==" does not swallow the From: after it (pasted DSN, no MIME headers)', () => {
    assert.equal(parsed(dsn('Ag')).domain, 'shop.example');
    assert.equal(parsed(dsn('==')).domain, 'shop.example');
  });

  it('nor decode "=20" in client-ip=203.0.113.5: the sending IP is kept and only its findings explain the bounce', () => {
    const a = audit(finding('spf.server-not-authorized', 'fail', '203.0.113.5'), finding('spf.server-not-authorized', 'fail', '203.0.113.9'));
    for (const tail of ['Ag', '==']) {
      const p = parsed(ndr(tail));
      assert.equal(p.ip, '203.0.113.5', `b= ends in ${tail}`);
      assert.deepEqual(explainBounce(p, a).findings.map((f) => f.subject), ['203.0.113.5'], `b= ends in ${tail}`);
    }
  });

  it('a raw multipart bounce: its quoted-printable part decoded, the 7bit returned headers left as they are', () => {
    const p = parsed(MULTIPART);
    assert.equal(p.enhancedCode, '5.7.509');
    assert.match(p.text, /does not pass DMARC verification and has a DMARC policy of reject/, 'soft line breaks joined');
    assert.equal(p.ip, '203.0.113.5');
    assert.equal(p.domain, 'shop.example');
  });

  it('a quoted-printable paste without MIME headers is still decoded (soft breaks, =3D)', () => {
    const p = parsed('550-5.7.26 Unauthenticated email from shop.example is not accep=\nted due to domain=3D\'s\n550 5.7.26 DMARC policy. - gsmtp\n');
    assert.match(p.text, /is not accepted due to domain='s DMARC policy/);
    assert.equal(p.domain, 'shop.example');
  });
});

// ---------------------------------------------------------------- 3. a PTR rejection of an IP nobody looked up

const GMAIL_PTR = `550-5.7.25 [203.0.113.5] The IP address sending this message does not have a
550-5.7.25 PTR record setup, or the corresponding forward DNS entry does not point
550 5.7.25 to the sending IP. As a policy, Gmail does not accept messages from IPs with missing PTR records. - gsmtp`;
const PASSING = [finding('spf.ok', 'pass'), finding('dkim.ok', 'pass', 'default')];

describe('explainBounce: a PTR rejection whose sending IP the audit did not look up is never "nothing explains it"', () => {
  const cases: [string, Finding[], RegExp][] = [
    ['the panel does not say the outbound IP (ptr.ip-unknown)', [finding('ptr.ip-unknown', 'unknown')], /panel does not say which IP[^]*203\.0\.113\.5/],
    ['the server is behind NAT (ptr.private-ip)', [finding('ptr.private-ip', 'info', '10.0.0.5')], /203\.0\.113\.5 is not one the audit knows for this server \(10\.0\.0\.5, a private address\)/],
    ['the bounce names another IP than the server\'s', [finding('ptr.ok', 'pass', '198.51.100.10')], /203\.0\.113\.5 is not one the audit knows for this server \(198\.51\.100\.10\)/],
    ['the server\'s own IP has no PTR, the bounce names another', [finding('ptr.missing', 'fail', '198.51.100.10')], /not one the audit knows for this server \(198\.51\.100\.10\)/],
  ];
  for (const [name, ptr, note] of cases) {
    it(name, () => {
      const e = explainBounce(parsed(GMAIL_PTR), audit(...PASSING, ...ptr));
      assert.equal(e.entry, 'gmail-5.7.25');
      assert.equal(e.verdict, 'not-checked');
      assert.equal(e.ptrUnchecked, true);
      assert.deepEqual(rules(e.findings), []);
      assert.ok(e.notes.some((n) => note.test(n)), e.notes.join(' | '));
      assert.ok(!e.notes.some((n) => /Nothing in the audit explains/.test(n)), e.notes.join(' | '));
      const headline = dnsHeadline(e, 'audited');
      assert.match(headline, /did not check the sending IP's reverse DNS/);
      assert.doesNotMatch(headline, /blocklist|Nothing in the domain's DNS explains/);
    });
  }

  it('a bounce naming no IP, the server known only by a private address: not checked either', () => {
    const noIp = 'Diagnostic-Code: smtp; 550 5.7.25 The IP address sending this message does not have a PTR record setup - gsmtp\n';
    const e = explainBounce(parsed(noIp), audit(...PASSING, finding('ptr.private-ip', 'info', '10.0.0.5')));
    assert.equal(e.ip, null);
    assert.equal(e.verdict, 'not-checked');
    assert.ok(e.notes.some((n) => /only private addresses for this server \(10\.0\.0\.5, a private address\)/.test(n)), e.notes.join(' | '));
  });

  it('the audit did look up the sending IP: a PTR that passes is not-explained, a missing one explains it', () => {
    const ok = explainBounce(parsed(GMAIL_PTR), audit(...PASSING, finding('ptr.ok', 'pass', '203.0.113.5')));
    assert.equal(ok.verdict, 'not-explained');
    assert.ok(!ok.notes.some((n) => /not checked/.test(n)), ok.notes.join(' | '));
    const missing = explainBounce(parsed(GMAIL_PTR), audit(...PASSING, finding('ptr.missing', 'fail', '203.0.113.5')));
    assert.equal(missing.verdict, 'explained');
    assert.deepEqual(rules(missing.findings), ['ptr.missing']);
    assert.ok(!missing.notes.some((n) => /not checked/.test(n)), missing.notes.join(' | '));
  });

  it('a server that relays: the PTR receivers check is the relay\'s, its operator\'s to fix', () => {
    const e = explainBounce(parsed(GMAIL_PTR), audit(...PASSING, finding('ptr.relay', 'info')));
    assert.ok(e.notes.some((n) => /through a relay[^]*reverse DNS \(PTR\)[^]*relay's operator/.test(n)), e.notes.join(' | '));
  });

  it('a generic 5.7.1 (SPF, DKIM, PTR or a blocklist) with an unchecked PTR: the checked causes are said not to apply', () => {
    const e = explainBounce(parsed('550 5.7.1 [203.0.113.5] Message refused'), audit(...PASSING, finding('ptr.ip-unknown', 'unknown')), BOUNCE_TABLE, { blocklistsChecked: true });
    assert.equal(e.entry, 'generic-5.7.1');
    assert.equal(e.verdict, 'not-checked');
    assert.ok(e.notes.some((n) => /None of the DNS findings the audit did check can cause it/.test(n)), e.notes.join(' | '));
  });
});

// ---------------------------------------------------------------- 4. which rejections name a blocklist

describe('explainBounce, blocklist check off: only a reply that names a list is said to name one', () => {
  const a = audit(...PASSING, finding('ptr.ok', 'pass', '203.0.113.5'));
  const off = { blocklistsChecked: false };
  const noteOf = (text: string) => {
    const e = explainBounce(parsed(text), a, BOUNCE_TABLE, off);
    assert.equal(e.verdict, 'not-checked');
    const n = e.notes.find((x) => /blocklist check is off/.test(x));
    assert.ok(n, e.notes.join(' | '));
    return { entry: e.entry, note: n };
  };

  for (const [name, text, entry] of [
    ['Yahoo [TSS04] volume or complaints', '421 4.7.0 [TSS04] Messages from 203.0.113.5 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes', 'yahoo-4.7.0-complaints'],
    ['Gmail 4.7.28 rate of unsolicited mail', '421-4.7.28 [203.0.113.5] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited. - gsmtp', 'gmail-4.7.28'],
  ] as const) {
    it(`${name}: a listing is the only cause the audit can check, not the one the reply names`, () => {
      const r = noteOf(text);
      assert.equal(r.entry, entry);
      assert.doesNotMatch(r.note, /the cause this rejection names/);
      assert.match(r.note, /the only cause of this rejection the audit can check/);
    });
  }

  it('the entries said to name a list exist, and each has the blocklist rule', () => {
    for (const id of NAMES_A_BLOCKLIST) assert.ok(BOUNCE_TABLE.codes.find((c) => c.id === id)?.rules.includes('ptr.listed'), id);
  });

  for (const [name, text, entry] of [
    ['Outlook.com S3150', "550 5.7.1 Unfortunately, messages from [203.0.113.5] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). [AM2PEPF0001BF.eurprd04.prod.outlook.com]", 'microsoft-5.7.1-own-blocklist'],
    ['a reply naming Spamhaus', '554 5.7.1 Service unavailable; Client host [203.0.113.5] blocked using zen.spamhaus.org', 'generic-blocklist'],
  ] as const) {
    it(`${name}: the reply names a list`, () => {
      const r = noteOf(text);
      assert.equal(r.entry, entry);
      assert.match(r.note, /the cause this rejection names/);
    });
  }
});

// ---------------------------------------------------------------- 5. terminal colour codes

const ESC = '\x1b';
// An Exim log line as `grep --color=always '5.7.26'` writes it.
const hl = (s: string) => `${ESC}[01;31m${ESC}[K${s}${ESC}[m${ESC}[K`;
const EXIM_COLOURED =
  `2025-06-02 10:00:00 1uL2aB-0001 ** bob@gmail.com R=dkim_lookuphost T=remote_smtp H=gmail-smtp-in.l.google.com [142.250.102.27] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes: SMTP error from remote mail server after end of data: ` +
  [
    `550-${hl('5.7.26')} Your email has been blocked because the sender is unauthenticated.`,
    `550-${hl('5.7.26')} Gmail requires all senders to authenticate with either SPF or DKIM.`,
    `550-${hl('5.7.26')}`,
    `550-${hl('5.7.26')}  Authentication results:`,
    `550-${hl('5.7.26')}  DKIM = did not pass`,
    `550-${hl('5.7.26')}  SPF [shop.example] with ip: [203.0.113.5] = did not pass`,
    `550 ${hl('5.7.26')} https://support.google.com/mail/answer/81126#authentication - gsmtp`,
  ].join('\\n') +
  '\n';

describe('parseBounce: terminal colour sequences are removed before the bounce is read', () => {
  it('an Exim log line saved from grep --color=always reads as the plain one', () => {
    const coloured = parsed(EXIM_COLOURED);
    const plain = parsed(EXIM_COLOURED.split(ESC).map((s, i) => (i === 0 ? s : s.replace(/^\[[0-9;]*[mK]/, ''))).join(''));
    for (const k of ['replyCode', 'enhancedCode', 'receiver', 'domain', 'ip', 'text'] as const) assert.equal(coloured[k], plain[k], k);
    assert.equal(coloured.enhancedCode, '5.7.26');
    assert.equal(coloured.domain, 'shop.example');
    assert.equal(coloured.ip, '203.0.113.5');
    assert.ok(!coloured.text.includes(ESC) && !coloured.segments.some((s) => s.includes(ESC)));
  });

  it('a coloured reply code ("ESC[1;31m550 5.7.26ESC[0m") is found', () => {
    const p = parsed(`${ESC}[1;31m550 5.7.26${ESC}[0m This mail has been blocked because the sender is unauthenticated. - gsmtp\n`);
    assert.equal(p.replyCode, '550');
    assert.equal(p.enhancedCode, '5.7.26');
    assert.equal(p.receiver, 'gmail');
  });

  it('a terminal hyperlink (OSC 8) keeps its visible text only', () => {
    const p = parsed(`550 5.7.26 see ${ESC}]8;;https://support.google.com/mail/answer/81126${ESC}\\help${ESC}]8;;${ESC}\\ - gsmtp\n`);
    assert.match(p.text, /see help - gsmtp/);
  });

  it('binary data is still refused, and colour codes alone are an empty input', () => {
    const bin = parseBounce('\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u000e\u000f550 5.7.1 x');
    assert.ok(isParseError(bin) && /binary/.test(bin.error));
    const empty = parseBounce(`${ESC}[01;31m${ESC}[K${ESC}[m${ESC}[K\n`);
    assert.ok(isParseError(empty) && /empty/.test(empty.error));
  });
});
