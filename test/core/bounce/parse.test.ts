import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CORPORA_DIR, FIXTURES_DIR, REPO_ROOT } from '../../helpers/corpora.js';
import raw from '../../../src/knowledge/bounce-codes.json' with { type: 'json' };
import { BOUNCE_TABLE, validateBounceTable } from '../../../src/core/bounce/codes.js';
import { isParseError, MAX_BOUNCE_BYTES, parseBounce, type ParsedBounce } from '../../../src/core/bounce/parse.js';

type Expect = Partial<Pick<ParsedBounce, 'receiver' | 'replyCode' | 'enhancedCode' | 'domain' | 'ip' | 'recipient' | 'format'>> & {
  textIncludes?: string;
};

function parsed(text: string): ParsedBounce {
  const r = parseBounce(text);
  if (isParseError(r)) assert.fail(`unexpected parse error: ${r.error}`);
  return r;
}

function check(p: ParsedBounce, e: Expect) {
  for (const k of ['receiver', 'replyCode', 'enhancedCode', 'domain', 'ip', 'recipient', 'format'] as const) {
    if (k in e) assert.equal(p[k], e[k], `${k}`);
  }
  if (e.textIncludes) assert.ok(p.text.includes(e.textIncludes), `text ${JSON.stringify(p.text)} includes ${JSON.stringify(e.textIncludes)}`);
  // Continuations are joined: no reply-code prefix is left inside the text, no line breaks.
  assert.ok(!/\n/.test(p.text), 'text is one line');
  if (p.replyCode && p.enhancedCode) {
    const rest = p.text.slice(`${p.replyCode} ${p.enhancedCode}`.length);
    assert.ok(!rest.includes(`${p.replyCode}-${p.enhancedCode}`) && !rest.includes(`${p.replyCode} ${p.enhancedCode}`), `continuation prefixes left in ${p.text}`);
  }
}

// ---------------------------------------------------------------- shared corpus (../shared/corpora/bounces)

// What each file says (its README and its text). recipient "[email protected]" is redacted in the source → null.
const CORPUS: Record<string, Expect> = {
  'bt-554-policy.txt': { receiver: 'bt', replyCode: '554', enhancedCode: null, domain: null, ip: null, textIncludes: 'looks like SPAM' },
  'exim-mailchannels-5.7.1.txt': { receiver: 'mailchannels', replyCode: '550', enhancedCode: '5.7.1', domain: 'example_domain.com', ip: null, format: 'exim' },
  'gmail-5.7.1-unsolicited.txt': { receiver: 'gmail', replyCode: '550', enhancedCode: '5.7.1', domain: null, ip: null, textIncludes: 'likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked.' },
  'gmail-5.7.26.txt': { receiver: 'gmail', replyCode: '550', enhancedCode: '5.7.26', domain: null, ip: null, textIncludes: 'or fails to pass authentication checks (SPF or DKIM). To best protect our users from spam, the message' },
  'mailenable-5.7.1.txt': { receiver: 'gmail', replyCode: '550', enhancedCode: '5.7.1', domain: null, ip: '2a04:2180:0:2::77', recipient: 'example@gmail.com' },
  'postfix-dsn-gmail-5.7.1.txt': {
    receiver: 'gmail', replyCode: '550', enhancedCode: '5.7.1', domain: null, ip: null, recipient: 'john.doe@example1.com', format: 'dsn',
    textIncludes: 'Please visit https://support.google.com/mail/answer/81126#authentication for more information.',
  },
  'postfix-syslog-5.7.26.txt': { receiver: 'gmail', replyCode: '550', enhancedCode: '5.7.26', domain: null, ip: null, recipient: null, format: 'postfix', textIncludes: 'c1si172391qka.253 - gsmtp' },
};

const corpusDir = join(CORPORA_DIR, 'bounces');
const corpusSkip = existsSync(corpusDir) ? false : `corpus folder bounces/ not found under ${CORPORA_DIR} (set MAILHEALTH_CORPORA to the shared/corpora folder)`;

describe('parseBounce: shared corpus of real bounce texts', { skip: corpusSkip }, () => {
  const files = corpusSkip ? [] : readdirSync(corpusDir).filter((f) => f !== 'README.md').sort();
  it('has an expectation for every corpus file', () => {
    assert.deepEqual(files.filter((f) => !(f in CORPUS)), [], 'new corpus files need an expectation here');
  });
  for (const f of files) {
    it(f, () => {
      const p = parsed(readFileSync(join(corpusDir, f), 'utf8'));
      check(p, CORPUS[f] ?? {});
    });
  }
  it('the Postfix log line: the receiver\'s relay IP is not taken for the sending IP', () => {
    const p = parsed(readFileSync(join(corpusDir, 'postfix-syslog-5.7.26.txt'), 'utf8'));
    assert.equal(p.remoteMta, 'gmail-smtp-in.l.google.com');
    assert.equal(p.ip, null);
    assert.ok(!p.text.includes('in reply to'));
  });
});

// ---------------------------------------------------------------- own fixtures (test/fixtures/bounces)

const FIXTURES: Record<string, Expect> = {
  'microsoft-5.7.515.txt': { receiver: 'microsoft', replyCode: '550', enhancedCode: '5.7.515', domain: 'shop.example.com', ip: null, recipient: 'someone@outlook.com', format: 'dsn', textIncludes: 'does not meet the required authentication level' },
  'microsoft-5.7.509.txt': { receiver: 'microsoft', replyCode: '550', enhancedCode: '5.7.509', domain: 'billing.example.org', ip: null, recipient: 'partner@contoso.example', format: 'exim' },
  'microsoft-5.7.23.txt': { receiver: 'microsoft', replyCode: '550', enhancedCode: '5.7.23', domain: 'customer.example', ip: null, recipient: 'bob@fabrikam.example', format: 'exim' },
  'microsoft-5.7.1-spamhaus.txt': { receiver: 'microsoft', replyCode: '550', enhancedCode: '5.7.1', domain: null, ip: '203.0.113.9' },
  'yahoo-5.7.9.txt': { receiver: 'yahoo', replyCode: '550', enhancedCode: '5.7.9', domain: 'news.example.net', ip: null, recipient: 'reader@yahoo.com', format: 'postfix', textIncludes: 'Yahoo requires all senders to authenticate' },
  'yahoo-553-5.7.1.txt': { receiver: 'yahoo', replyCode: '553', enhancedCode: '5.7.1', ip: '203.0.113.45' },
  'yahoo-421-4.7.0.txt': { receiver: 'yahoo', replyCode: '421', enhancedCode: '4.7.0', ip: '203.0.113.45' },
  'gmail-5.7.26-new.txt': { receiver: 'gmail', replyCode: '550', enhancedCode: '5.7.26', domain: 'shop.example.com', ip: '203.0.113.5', textIncludes: 'SPF [shop.example.com] with ip: [203.0.113.5] = did not pass' },
  'gmail-5.7.26-dmarc-qp-html.txt': { receiver: 'gmail', replyCode: '550', enhancedCode: '5.7.26', domain: 'old-host.example.co.uk', ip: null, textIncludes: "not accepted due to domain's DMARC policy. Please contact the administrator of old-host.example.co.uk domain" },
  'gmail-5.7.25.txt': { receiver: 'gmail', replyCode: '550', enhancedCode: '5.7.25', ip: '203.0.113.5', textIncludes: 'does not have a PTR record setup' },
  // Review round 2 (explainer defects): see test/core/bounce/explain-causes.test.ts, wording.test.ts, parse-ip.test.ts.
  'gmail-4.7.26-exim-log.txt': { receiver: 'gmail', replyCode: '421', enhancedCode: '4.7.26', domain: 'shop.example.com', ip: '198.51.100.31', format: 'exim', textIncludes: 'Gmail requires all senders to authenticate' },
  'gmail-4.7.26-dsn.txt': { receiver: 'gmail', replyCode: '421', enhancedCode: '4.7.26', domain: 'shop.example.com', ip: '198.51.100.31', recipient: 'ana@gmail.com', format: 'dsn' },
  'gmail-421-4.7.0-legacy-ip.txt': { receiver: 'gmail', replyCode: '421', enhancedCode: '4.7.0', domain: null, ip: '198.51.100.23', recipient: 'ana@gmail.com' },
  'gmail-5.7.26-quoted-body.txt': { receiver: 'gmail', replyCode: '550', enhancedCode: '5.7.26', domain: 'shop.example.com', ip: null, recipient: 'ana@gmail.com', format: 'exim' },
  'microsoft-5.7.23-ndr-headers.txt': { receiver: 'microsoft', replyCode: '550', enhancedCode: '5.7.23', domain: 'shop.example.com', ip: '198.51.100.44' },
  'microsoft-5.7.1-block-list.txt': { receiver: 'microsoft', replyCode: '550', enhancedCode: '5.7.1', domain: 'shop.example.com', ip: '198.51.100.31', recipient: 'lena@hotmail.com', format: 'exim' },
  'yahoo-421-4.7.0-tss04.txt': { receiver: 'yahoo', replyCode: '421', enhancedCode: '4.7.0', domain: 'shop.example.com', ip: '198.51.100.31', recipient: 'reader@yahoo.com', format: 'exim' },
  'yahoo-553-5.7.2-tss09.txt': { receiver: 'yahoo', replyCode: '553', enhancedCode: '5.7.2', domain: null, ip: '198.51.100.31', recipient: 'reader@yahoo.com', format: 'postfix', textIncludes: 'Retrying will NOT succeed' },
  'mailchannels-5.7.1-cs01.txt': { receiver: 'mailchannels', replyCode: '550', enhancedCode: '5.7.1', domain: 'shop.example.com', ip: null, recipient: 'buyer@example.net', format: 'exim' },
};

describe('parseBounce: Microsoft, Yahoo and Gmail variants written from mail-auth.md §6', () => {
  const dir = join(FIXTURES_DIR, 'bounces');
  const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
  it('has an expectation for every fixture', () => assert.deepEqual(files.filter((f) => !(f in FIXTURES)), []));
  for (const f of files) it(f, () => check(parsed(readFileSync(join(dir, f), 'utf8')), FIXTURES[f] ?? {}));
  it('quoted-printable and HTML: no tags, entities or =XX left', () => {
    const p = parsed(readFileSync(join(dir, 'gmail-5.7.26-dmarc-qp-html.txt'), 'utf8'));
    assert.ok(!/[<>]|&#|&nbsp;|=3D|=E2/.test(p.text), p.text);
    assert.ok(p.text.includes('– gsmtp'), 'UTF-8 from =E2=80=93');
  });
});

// ---------------------------------------------------------------- shapes and sources of domain / ip

describe('parseBounce: sender domain, IP and recipient sources', () => {
  it('X-Postfix-Sender gives the domain when the reply does not name it', () => {
    const p = parsed('Reporting-MTA: dns; mx.hosting.example\nX-Postfix-Sender: rfc822; info@Shop.Example.COM\n\nFinal-Recipient: rfc822; a@b.example\nStatus: 5.7.1\nDiagnostic-Code: smtp; 550 5.7.1 Message rejected by policy');
    assert.equal(p.domain, 'shop.example.com');
    assert.equal(p.receiver, 'generic');
  });
  it('From of the copied message, skipping the bounce\'s own MAILER-DAEMON From', () => {
    const p = parsed([
      'From: Mail Delivery System <MAILER-DAEMON@server.hosting.example>',
      'To: info@shop.example.com',
      'Subject: Mail delivery failed',
      '',
      '550 5.7.1 Message rejected',
      '',
      'From: Info <info@shop.example.com>',
    ].join('\n'));
    assert.equal(p.domain, 'shop.example.com');
  });
  it('Exim F=<> (envelope sender) and H= receiver host; the receiver IP is excluded', () => {
    const p = parsed('2025-01-01 10:00:00 1abc-000 ** x@gmail.com F=<a@Sender.Example> R=dnslookup T=remote_smtp H=gmail-smtp-in.l.google.com [142.250.102.26]: SMTP error from remote mail server after end of data: 550-5.7.25 [203.0.113.77] The IP address sending this message does not have a 550-5.7.25 PTR record setup - gsmtp');
    assert.equal(p.domain, 'sender.example');
    assert.equal(p.ip, '203.0.113.77');
    assert.equal(p.receiver, 'gmail');
    assert.equal(p.recipient, 'x@gmail.com');
  });
  it('client-ip= from Received-SPF, and a Received line written by the receiver', () => {
    assert.equal(parsed('Received-SPF: fail (google.com: domain of a@x.example does not designate 198.51.100.4 as permitted sender) client-ip=198.51.100.4;\n550 5.7.26 blocked').ip, '198.51.100.4');
    assert.equal(
      parsed('Received: from mail.host.example (mail.host.example. [198.51.100.8])\n        by mx.google.com with ESMTPS id x;\n\n550 5.7.1 rejected').ip,
      '198.51.100.8',
    );
    // A Received line written by the sender's own server names the customer's client, not the sending IP.
    assert.equal(parsed('Received: from [192.0.2.50] (helo=laptop)\n\tby server.hosting.example with esmtpsa\n\n550 5.7.1 rejected').ip, null);
  });
  it('"domain of" wording and IDN domains are normalised', () => {
    assert.equal(parsed('550 5.7.23 The domain of Müller.Example does not designate 198.51.100.4').domain, 'xn--mller-kva.example');
  });
  it('an invalid domain in the wording is not reported', () => {
    assert.equal(parsed('550 5.7.1 This sender is not authorized to send from [email protected]').domain, null);
    assert.equal(parsed('550 5.7.1 This sender is not authorized to send from localhost.').domain, null);
  });
  it('a bare reply code without an enhanced code, after a lead-in', () => {
    const p = parsed('host mx.example.net[192.0.2.1] said: 554 rejected: your IP is listed at zen.spamhaus.org (in reply to RCPT TO command)');
    assert.equal(p.replyCode, '554');
    assert.equal(p.enhancedCode, null);
    assert.equal(p.ip, null, 'receiver IP excluded');
    assert.equal(p.text, '554 rejected: your IP is listed at zen.spamhaus.org');
  });
  it('an enhanced code alone (Postfix dsn= with no reply) is accepted', () => {
    const p = parsed('Feb 19 18:45:56 h postfix/smtp[1]: A1: to=<a@b.example>, dsn=5.7.26, status=bounced');
    assert.equal(p.replyCode, null);
    assert.equal(p.enhancedCode, '5.7.26');
    assert.equal(p.recipient, 'a@b.example');
  });
  it('CRLF line endings and a bare multi-line reply without enhanced codes', () => {
    const p = parsed('550-Rejected because\r\n550-the sending host\r\n550 has no reverse DNS\r\n');
    assert.equal(p.text, '550 Rejected because the sending host has no reverse DNS');
  });
});

// ---------------------------------------------------------------- malformed, enormous, pathological

describe('parseBounce: malformed and enormous input', () => {
  it('empty input', () => {
    const r = parseBounce('   \n ');
    assert.ok(isParseError(r) && /empty/.test(r.error));
  });
  it('text without any SMTP code', () => {
    const r = parseBounce('Hello, my emails to Gmail are not arriving, please help!');
    assert.ok(isParseError(r) && /no SMTP error code/.test(r.error), JSON.stringify(r));
  });
  it('binary junk', () => {
    const bytes = Buffer.alloc(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 256;
    const r = parseBounce(bytes.toString('latin1'));
    assert.ok(isParseError(r) && /binary/.test(r.error), JSON.stringify(r));
    const r2 = parseBounce('550 5.7.1 \u0000\u0001\u0002 junk');
    assert.ok(isParseError(r2) && /binary/.test(r2.error));
  });
  it('not a string', () => {
    const r = parseBounce(42 as unknown as string);
    assert.ok(isParseError(r) && /text/.test(r.error));
  });
  it('input over 256 KiB is refused at once', () => {
    const big = '550 5.7.26 ' + 'a'.repeat(MAX_BOUNCE_BYTES);
    const r = parseBounce(big);
    assert.ok(isParseError(r) && /too large/.test(r.error) && /256 KiB/.test(r.error));
    // Multi-byte characters count as bytes.
    const r2 = parseBounce('550 5.7.1 ' + 'é'.repeat(MAX_BOUNCE_BYTES / 2 + 10));
    assert.ok(isParseError(r2) && /too large/.test(r2.error));
  });
  const N = 200 * 1024;
  const fill = (unit: string) => unit.repeat(Math.floor(N / unit.length));
  const pathological: Record<string, string> = {
    'continuations': fill('550-5.7.26 '),
    'continuations-no-space': fill('550-'),
    'codes-dots': fill('5.5.5.'),
    'open-tags': '<p>' + fill('<'),
    'unclosed-tag-attr': '<p ' + fill('a '),
    'style-blocks': fill('<style>'),
    'entities': '<br>' + fill('&#'),
    'qp': fill('=3D='),
    'brackets': '550 5.7.1 ' + fill('[1:'),
    'addresses': '550 5.7.1 ' + fill('a@'),
    'angle-addresses': '550 5.7.1 F=' + fill('<a@'),
    'header-folds': 'Diagnostic-Code: smtp; 550 5.7.1 x\n' + fill('x\n'),
    'headers': fill('A: b\n'),
    'domain-phrases': '550 5.7.1 ' + fill('send from '),
    'sending-domain': '550 5.7.1 ' + fill('sending domain ['),
    'spaces': '550' + fill(' ') + 'x',
    'digits': fill('550 '),
    'ipv6ish': '550 5.7.1 from ' + fill('1:'),
    'exim-stars': fill(' ** '),
    'hosts': fill('host a['),
    'dashes': '550' + fill('-'),
    // Review round 2: the Exim literal "\n", result lines, Received parentheses, Gmail's "[ip   15]".
    'exim-literal-newlines': '550 5.7.1 x' + fill('\\n550-5.7.1 '),
    'literal-newline-spaces': '550 5.7.1 x\\n' + fill(' ') + 'y',
    'result-lines': fill('550-5.7.1  SPF x = did not pass\n'),
    'result-line-no-equals': '550 5.7.1 x\n550-5.7.1 dkim' + fill(' a'),
    'received-parens': '550 5.7.1 x\n\nReceived: from a ' + fill('(1:') + ' by mx.google.com',
    'legacy-bracket': '550 5.7.1 ' + fill('[1.2.3.4 '),
  };
  for (const [name, s] of Object.entries(pathological)) {
    it(`200 KiB pathological input "${name}" finishes fast and does not throw`, () => {
      assert.ok(Buffer.byteLength(s) <= MAX_BOUNCE_BYTES);
      // A bound only catastrophic backtracking reaches (quadratic on 200 KiB: minutes); the linear parse takes
      // milliseconds, so a slow or busy machine never trips it.
      const t0 = performance.now();
      const r = parseBounce(s);
      const ms = performance.now() - t0;
      assert.ok(ms < 20_000, `${name} took ${ms.toFixed(0)} ms`);
      assert.ok(isParseError(r) ? typeof r.error === 'string' : typeof r.text === 'string');
    });
  }
  it('never throws on random text', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const alphabet = '550-5.7.26 <>[]()@:;=\n\r\t&#x3D;abcSPFdkimhost=H=F=**said:Diagnostic-Code:é\u00a0';
    for (let i = 0; i < 500; i++) {
      let s = '';
      const len = Math.floor(rnd() * 400);
      for (let j = 0; j < len; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      const r = parseBounce(s);
      assert.ok(r && (isParseError(r) ? r.error.length > 0 : r.text.length > 0));
    }
  });
});

// ---------------------------------------------------------------- the table itself

// README's "Rule ids (public contract)" list, every id (the test below keeps the two in sync).
const PUBLIC_RULES = [
  'spf.missing', 'spf.multiple', 'spf.syntax', 'spf.too-many-lookups', 'spf.void-lookups', 'spf.permissive-all', 'spf.weak-all', 'spf.ptr',
  'spf.string-too-long', 'spf.record-too-long', 'spf.server-not-authorized', 'spf.relay-no-spf', 'spf.stale-term', 'spf.unknown-term', 'spf.term',
  'spf.ok', 'spf.no-mail', 'dkim.string-too-long', 'dkim.no-mail', 'dkim.missing', 'dkim.key-mismatch', 'dkim.weak-key', 'dkim.testing', 'dkim.revoked', 'dkim.malformed', 'dkim.signing-off',
  'dkim.multiple', 'dkim.other-selector', 'dkim.ok', 'dkim.compat', 'dmarc.compat', 'lockdown.missing', 'lockdown.stale-auth', 'lockdown.syntax', 'lockdown.deprecated-cfid',
  'lockdown.multiple', 'lockdown.inert', 'lockdown.unknown-id', 'lockdown.relay-unknown', 'lockdown.none', 'lockdown.ok', 'dmarc.missing', 'dmarc.multiple', 'dmarc.syntax',
  'dmarc.policy-none', 'dmarc.unauthorized-destination', 'dmarc.stale-destination', 'dmarc.remarks', 'dmarc.destination', 'dmarc.inherited',
  'dmarc.ok', 'dmarc.string-too-long', 'mx.stale', 'mx.routing-mismatch', 'mx.unresolvable', 'mx.cname', 'mx.missing', 'mx.null', 'mx.host', 'mx.ok',
  'dns.not-authoritative', 'dns.authority-unknown', 'dns.drift', 'dns.authoritative', 'dns.panel-zone-unreadable', 'dns.panel-settings-unreadable', 'dns.panel-zone-unwritable', 'ptr.missing',
  'ptr.mismatch', 'ptr.generic', 'ptr.listed', 'ptr.relay', 'ptr.private-ip', 'ptr.ip-unknown', 'ptr.ok',
];

/** The rule ids README's "Rule ids (public contract)" section names, in order. */
function readmeRuleIds(): string[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf('### Rule ids (public contract)');
  assert.ok(at >= 0, 'README has a "Rule ids (public contract)" section');
  const rest = readme.slice(at);
  const end = rest.indexOf('\n## ');
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...new Set([...section.matchAll(/`([a-z]+\.[a-z][a-z-]*)`/g)].map((m) => m[1]))];
}

describe('bounce-codes.json', () => {
  it('is valid', () => assert.deepEqual(validateBounceTable(raw), []));
  it('PUBLIC_RULES is README\'s rule list', () => {
    assert.deepEqual([...PUBLIC_RULES].sort(), readmeRuleIds().sort());
  });
  it('every rule pattern names a public rule id (no prefixes; a severity suffix only :fail or :warn)', () => {
    const sets = (raw as { ruleSets?: Record<string, string[]> }).ruleSets ?? {};
    const patterns = [...BOUNCE_TABLE.codes.flatMap((c) => c.rules.map((r) => [c.id, r])), ...Object.entries(sets).flatMap(([n, l]) => l.map((r) => [`@${n}`, r]))];
    assert.ok(patterns.length > 40);
    for (const [where, r] of patterns) {
      const [id, sev, ...more] = r.split(':');
      assert.ok(PUBLIC_RULES.includes(id), `${where}: ${r} is not a public rule id`);
      assert.ok(sev === undefined || ((sev === 'fail' || sev === 'warn') && more.length === 0), `${where}: ${r}`);
    }
  });
  it('covers the codes the issue asks for', () => {
    const has = (receiver: string, code: string | null, reply?: string) =>
      BOUNCE_TABLE.codes.some((c) => c.receiver === receiver && c.code === code && (reply === undefined || c.reply === reply));
    for (const code of ['4.7.23', '5.7.25', '4.7.27', '5.7.27', '5.7.29', '4.7.29', '4.7.30', '5.7.30', '4.7.31', '4.7.32', '5.7.26', '5.7.1']) assert.ok(has('gmail', code), `gmail ${code}`);
    for (const code of ['5.7.23', '5.7.509', '5.7.515', '5.7.350']) assert.ok(has('microsoft', code), `microsoft ${code}`);
    assert.ok(has('yahoo', '5.7.9') && has('yahoo', '5.7.1', '553') && has('yahoo', '4.7.0', '421'));
    assert.ok(has('mailchannels', '5.7.1') && has('comcast', null, '554') && has('gmx', null, '554') && has('bt', null, '554') && has('generic', '5.7.1'));
  });
  it('rejects a broken table with reasons', () => {
    const errs = validateBounceTable({ receivers: [], codes: [{ id: 'x', receiver: 'nobody', code: '57.1', phrases: ['UPPER'], rules: ['SPF'], outside: ['nope'], confidence: 'sure' }], outsideDns: {}, defaultOutsideDns: [] });
    assert.ok(errs.length >= 6, errs.join('\n'));
  });
});
