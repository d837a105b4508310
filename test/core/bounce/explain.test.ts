import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { corpusMissing, corpusPath, FIXTURES_DIR } from '../../helpers/corpora.js';
import type { CheckName, DomainAudit, Finding, Severity } from '../../../src/core/model.js';
import { BOUNCE_TABLE } from '../../../src/core/bounce/codes.js';
import { explainBounce, matchBounceCode, ruleMatches } from '../../../src/core/bounce/explain.js';
import { isParseError, parseBounce, type ParsedBounce } from '../../../src/core/bounce/parse.js';

function finding(rule: string, severity: Severity): Finding {
  return { rule, check: rule.split('.')[0] as CheckName, severity, message: `${rule} (${severity})`, evidence: {} };
}

function audit(domain: string, ...findings: Finding[]): DomainAudit {
  return { domain, status: 'fail', auditedAt: '2025-06-01T00:00:00Z', findings };
}

function parsed(text: string): ParsedBounce {
  const r = parseBounce(text);
  if (isParseError(r)) assert.fail(r.error);
  return r;
}

const fixture = (name: string) => parsed(readFileSync(join(FIXTURES_DIR, 'bounces', name), 'utf8'));
const rules = (fs: Finding[]) => fs.map((f) => f.rule);
const OUTSIDE = BOUNCE_TABLE.outsideDns;

const GMAIL_5726 = [
  '550-5.7.26 This message does not have authentication information or fails to',
  '550-5.7.26 pass authentication checks. To best protect our users from spam,',
  '550 5.7.26 the message has been blocked. - gsmtp',
].join('\n');

describe('ruleMatches', () => {
  it('prefixes end in a dot; exact ids match themselves only', () => {
    assert.ok(ruleMatches('spf.missing', 'spf.'));
    assert.ok(!ruleMatches('spfx.missing', 'spf.'));
    assert.ok(ruleMatches('ptr.listed', 'ptr.listed'));
    assert.ok(!ruleMatches('ptr.listed-extra', 'ptr.listed'));
    assert.ok(!ruleMatches('ptr.missing', 'ptr.listed'));
  });
});

describe('explainBounce: ranking', () => {
  const a = audit(
    'shop.example.com',
    finding('mx.stale', 'warn'),
    finding('spf.weak-all', 'warn'),
    finding('dkim.missing', 'fail'),
    finding('dmarc.policy-none', 'info'),
    finding('spf.ptr', 'pass'),
    finding('ptr.missing', 'fail'),
    finding('spf.too-many-lookups', 'unknown'),
    finding('spf.missing', 'fail'),
  );
  const e = explainBounce(parsed(GMAIL_5726), a);
  it('5.7.26 from Gmail points at what makes SPF or DKIM fail, worst first, then the entry\'s rule order', () => {
    assert.equal(e.receiver, 'gmail');
    assert.equal(e.code, '5.7.26');
    assert.equal(e.entry, 'gmail-5.7.26');
    // spf.weak-all (?all) cannot make SPF fail; an unknown (DNS error) finding is no cause.
    assert.deepEqual(rules(e.findings), ['spf.missing', 'dkim.missing']);
    assert.equal(e.explained, true);
    assert.equal(e.domain, 'shop.example.com', 'the audited domain when the bounce names none');
  });
  it('pass and info findings are left out; the rest of the audit\'s problems come separately', () => {
    assert.ok(!e.findings.some((f) => f.severity === 'pass' || f.severity === 'info'));
    assert.deepEqual(rules(e.otherFindings), ['ptr.missing', 'mx.stale', 'spf.weak-all', 'spf.too-many-lookups']);
  });
  it('outside-DNS hints stay as a secondary list when the audit explains it', () => {
    assert.ok(e.outsideDns.includes(OUTSIDE['sending-path']));
    assert.ok(!e.outsideDns.includes(OUTSIDE.volume), 'defaults only when nothing explains it');
  });
  it('findings are the audit\'s own objects (with their fix), not copies', () => {
    assert.ok(e.findings.every((f) => a.findings.includes(f)));
  });
});

describe('explainBounce: what each bounce points at', () => {
  const everything = audit(
    'shop.example.com',
    finding('spf.missing', 'fail'),
    finding('dkim.key-mismatch', 'fail'),
    finding('dmarc.missing', 'warn'),
    finding('lockdown.stale-auth', 'fail'),
    finding('ptr.missing', 'fail'),
    finding('ptr.listed', 'fail'),
    finding('mx.stale', 'warn'),
  );
  it('MailChannels "sender is not authorized" → lockdown.* only', () => {
    const p = parsed('2025-04-01 09:00:00 1tAbC-000 ** friend@gmail.com F=<info@shop.example.com> R=smarthost T=remote_smtp H=smtp.mailchannels.net [23.83.209.1]: SMTP error from remote mail server after end of data: 550 5.7.1 This sender is not authorized to send from shop.example.com.');
    assert.equal(p.receiver, 'mailchannels', 'relay wording beats the gmail.com recipient');
    const e = explainBounce(p, everything);
    assert.equal(e.entry, 'mailchannels-5.7.1-lockdown');
    assert.deepEqual(rules(e.findings), ['lockdown.stale-auth']);
    assert.equal(e.explained, true);
    assert.ok(e.outsideDns.includes(OUTSIDE['relay-account']));
    assert.ok(/_mailchannels/.test(e.meaning));
  });
  it('MailChannels with a lockdown record that is fine → not explained; other problems listed apart', () => {
    const e = explainBounce(parsed('550 5.7.1 This sender is not authorized to send from shop.example.com.'), audit('shop.example.com', finding('lockdown.stale-auth', 'pass'), finding('spf.missing', 'fail')));
    assert.equal(e.explained, false);
    assert.deepEqual(e.findings, []);
    assert.deepEqual(rules(e.otherFindings), ['spf.missing']);
    assert.ok(e.notes.some((n) => /Nothing in the audit explains/.test(n)));
  });
  it('Gmail 5.7.25 → PTR (missing/mismatch), not the blocklist', () => {
    const e = explainBounce(fixture('gmail-5.7.25.txt'), everything);
    assert.equal(e.entry, 'gmail-5.7.25');
    assert.deepEqual(rules(e.findings), ['ptr.missing']);
    assert.equal(e.ip, '203.0.113.5');
    assert.ok(e.outsideDns.includes(OUTSIDE['reverse-dns']));
  });
  it('a blocklist reply → ptr.listed', () => {
    const e = explainBounce(fixture('microsoft-5.7.1-spamhaus.txt'), everything);
    assert.equal(e.receiver, 'microsoft');
    assert.equal(e.entry, 'generic-blocklist');
    assert.deepEqual(rules(e.findings), ['ptr.listed']);
    assert.ok(e.outsideDns.includes(OUTSIDE.delist));
  });
  it('Microsoft 5.7.515 → SPF, DKIM and the DMARC record; 5.7.509 (policy reject) → SPF, DKIM; 5.7.23 → SPF only', () => {
    const e515 = explainBounce(fixture('microsoft-5.7.515.txt'), everything);
    assert.equal(e515.receiver, 'microsoft');
    assert.deepEqual(rules(e515.findings), ['spf.missing', 'dkim.key-mismatch', 'dmarc.missing']);
    // A DMARC reject needs a DMARC record: a missing one cannot cause it.
    const e509 = explainBounce(fixture('microsoft-5.7.509.txt'), everything);
    assert.equal(e509.receiver, 'microsoft');
    assert.deepEqual(rules(e509.findings), ['spf.missing', 'dkim.key-mismatch']);
    const e = explainBounce(fixture('microsoft-5.7.23.txt'), everything);
    assert.equal(e.entry, 'microsoft-5.7.23');
    assert.deepEqual(rules(e.findings), ['spf.missing']);
    assert.ok(e.notes.some((n) => /customer\.example/.test(n) && /shop\.example\.com/.test(n)), 'the bounce names another domain');
  });
  it('Yahoo 5.7.9 → authentication; 553 5.7.1 → ptr.listed; 421 4.7.0 complaints is temporary', () => {
    assert.deepEqual(rules(explainBounce(fixture('yahoo-5.7.9.txt'), everything).findings), ['spf.missing', 'dkim.key-mismatch']);
    assert.deepEqual(rules(explainBounce(fixture('yahoo-553-5.7.1.txt'), everything).findings), ['ptr.listed']);
    const e = explainBounce(fixture('yahoo-421-4.7.0.txt'), everything);
    assert.equal(e.entry, 'yahoo-4.7.0-complaints');
    assert.ok(e.outsideDns.includes(OUTSIDE.complaints));
    assert.ok(e.notes.some((n) => /temporary/.test(n)));
  });
  it('Gmail DMARC wording (QP/HTML) → SPF/DKIM/DMARC, with the bounce\'s domain', () => {
    const e = explainBounce(fixture('gmail-5.7.26-dmarc-qp-html.txt'), null);
    assert.equal(e.entry, 'gmail-5.7.26-dmarc');
    assert.equal(e.domain, 'old-host.example.co.uk');
  });
  it('a bounce with no enhanced code reports the reply code (BT 554): blocklist first among equals', () => {
    const p = parsed('554 Message rejected on 01/02/2025 10:00:00 GMT, policy (3.2.1.1) ID (0123ABCD) - Your message looks like SPAM or has been reported as SPAM');
    const e = explainBounce(p, everything);
    assert.equal(e.code, '554');
    assert.equal(e.entry, 'bt-554-policy');
    assert.deepEqual(rules(e.findings), ['ptr.listed', 'ptr.missing', 'spf.missing', 'dkim.key-mismatch']);
  });
});

describe('explainBounce: nothing in the audit explains it', () => {
  it('a clean audit: explained false, says so, lists what to check outside DNS', () => {
    const e = explainBounce(parsed(GMAIL_5726), audit('shop.example.com', finding('spf.missing', 'pass'), finding('dkim.missing', 'pass'), finding('dmarc.policy-none', 'info')));
    assert.equal(e.explained, false);
    assert.deepEqual(e.findings, []);
    assert.deepEqual(e.otherFindings, []);
    for (const k of ['content', 'volume', 'reputation']) assert.ok(e.outsideDns.includes(OUTSIDE[k]), k);
    assert.ok(e.notes.some((n) => /Nothing in the audit explains/.test(n)));
  });
  it('Gmail "likely unsolicited" is about content and reputation even when the audit has failures', () => {
    const text = '550-5.7.1 Our system has detected that this message is\n550-5.7.1 likely unsolicited mail. - gsmtp';
    const e = explainBounce(parsed(text), audit('shop.example.com', finding('spf.missing', 'fail')));
    assert.equal(e.entry, 'gmail-5.7.1-unsolicited');
    assert.equal(e.explained, false);
    assert.deepEqual(e.findings, []);
    assert.deepEqual(rules(e.otherFindings), ['spf.missing']);
    assert.equal(e.outsideDns[0], OUTSIDE.content);
    assert.ok(e.notes.some((n) => /not caused by a DNS record/.test(n)));
  });
  it('only unknown (DNS error) findings where the causes would be: not explained, listed apart, says to retry', () => {
    const e = explainBounce(parsed(GMAIL_5726), audit('shop.example.com', finding('spf.dns-error', 'unknown')));
    assert.equal(e.explained, false);
    assert.deepEqual(rules(e.findings), [], 'a DNS error is no cause');
    assert.deepEqual(rules(e.otherFindings), ['spf.dns-error']);
    assert.equal(e.verdict, 'inconclusive');
    assert.ok(e.notes.some((n) => /could not finish/.test(n)));
  });
  it('no audit at all', () => {
    const e = explainBounce(fixture('microsoft-5.7.515.txt'), null);
    assert.equal(e.explained, false);
    assert.equal(e.domain, 'shop.example.com');
    assert.ok(e.notes.some((n) => /not audited/.test(n)));
    assert.ok(e.outsideDns.length > 0);
  });
  it('a mailbox error (5.1.1) is not a DNS problem', () => {
    const e = explainBounce(parsed('550 5.1.1 The email account that you tried to reach does not exist. - gsmtp'), audit('shop.example.com', finding('spf.missing', 'fail')));
    assert.equal(e.entry, 'generic-5.1.1');
    assert.equal(e.explained, false);
    assert.ok(e.outsideDns.includes(OUTSIDE.recipient));
  });
  it('an unknown code gets a general meaning', () => {
    const e = explainBounce(parsed('550 5.9.99 Something odd'), null);
    assert.equal(e.entry, null);
    assert.ok(/not in the explainer's table/.test(e.meaning));
  });
});

describe('matchBounceCode', () => {
  it('generic 5.7.1 when no receiver wording matches', () => {
    assert.equal(matchBounceCode({ receiver: 'generic', replyCode: '550', enhancedCode: '5.7.1', text: '550 5.7.1 Message refused' })?.id, 'generic-5.7.1');
  });
  it('a Gmail 5.7.1 without a known wording falls back to generic 5.7.1', () => {
    assert.equal(matchBounceCode({ receiver: 'gmail', replyCode: '550', enhancedCode: '5.7.1', text: '550 5.7.1 Something new - gsmtp' })?.id, 'generic-5.7.1');
  });
  it('Gmail 5.7.27 means SPF at Gmail, null MX elsewhere (RFC 7505)', () => {
    assert.equal(matchBounceCode({ receiver: 'gmail', replyCode: '550', enhancedCode: '5.7.27', text: '550 5.7.27 x' })?.id, 'gmail-5.7.27');
    assert.equal(matchBounceCode({ receiver: 'generic', replyCode: '550', enhancedCode: '5.7.27', text: '550 5.7.27 x' })?.id, 'generic-5.7.27');
  });
  it('wording of one receiver is recognised even when the receiver was not', () => {
    assert.equal(matchBounceCode({ receiver: 'generic', replyCode: '550', enhancedCode: '5.7.515', text: '550 5.7.515 Access denied, sending domain [X.EXAMPLE] does not meet the required authentication level.' })?.id, 'microsoft-5.7.515');
  });
  it('a phrase does not carry an entry into another class of code (5.1.x vs 5.7.x)', () => {
    assert.equal(matchBounceCode({ receiver: 'gmail', replyCode: '550', enhancedCode: '5.1.1', text: '550 5.1.1 fails to pass authentication checks' })?.id, 'generic-5.1.1');
  });
});

describe('explainBounce: shared corpus', { skip: existsSync(join(corpusPath('') ?? '/nonexistent', 'bounces')) ? false : corpusMissing('bounces/') }, () => {
  const all = audit(
    'example_domain.com',
    finding('spf.missing', 'fail'),
    finding('dkim.missing', 'fail'),
    finding('lockdown.stale-auth', 'fail'),
    finding('ptr.missing', 'warn'),
    finding('ptr.listed', 'fail'),
  );
  const cases: Record<string, { entry: string; first: string | null }> = {
    'exim-mailchannels-5.7.1.txt': { entry: 'mailchannels-5.7.1-lockdown', first: 'lockdown.stale-auth' },
    'gmail-5.7.26.txt': { entry: 'gmail-5.7.26', first: 'spf.missing' },
    'postfix-syslog-5.7.26.txt': { entry: 'gmail-5.7.26', first: 'spf.missing' },
    'postfix-dsn-gmail-5.7.1.txt': { entry: 'gmail-5.7.1-auth', first: 'spf.missing' },
    'mailenable-5.7.1.txt': { entry: 'gmail-5.7.1-ipv6', first: 'spf.missing' },
    'gmail-5.7.1-unsolicited.txt': { entry: 'gmail-5.7.1-unsolicited', first: null },
    'bt-554-policy.txt': { entry: 'bt-554-policy', first: 'ptr.listed' },
  };
  for (const [file, want] of Object.entries(cases)) {
    it(`${file} → ${want.entry}`, () => {
      const p = parsed(readFileSync(corpusPath(`bounces/${file}`)!, 'utf8'));
      const e = explainBounce(p, all);
      assert.equal(e.entry, want.entry);
      assert.equal(e.findings[0]?.rule ?? null, want.first);
      assert.equal(e.explained, want.first !== null);
    });
  }
});
