// Gmail's legacy temporary rejections with 421 4.7.0: the unauthenticated wording, the IPv6 PTR/authentication wording,
// and the IP rate limit for unsolicited mail. Before, none had an entry: the first two fell through to the permanent
// 5.7.26 / 5.7.1 entries by phrase ("Gmail refused the message"), the third matched nothing.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURES_DIR } from '../../helpers/corpora.js';
import type { CheckName, DomainAudit, Finding, Severity } from '../../../src/core/model.js';
import { BOUNCE_TABLE } from '../../../src/core/bounce/codes.js';
import { explainBounce, matchBounceCode } from '../../../src/core/bounce/explain.js';
import { isParseError, parseBounce, type ParsedBounce } from '../../../src/core/bounce/parse.js';

function parsed(text: string): ParsedBounce {
  const r = parseBounce(text);
  if (isParseError(r)) assert.fail(r.error);
  return r;
}
const f = (rule: string, severity: Severity, subject?: string): Finding => ({ rule, check: rule.split('.')[0] as CheckName, severity, message: rule, evidence: {}, ...(subject ? { subject } : {}) });
const audit = (...findings: Finding[]): DomainAudit => ({ domain: 'shop.example.com', status: 'fail', auditedAt: '2025-11-04T00:00:00Z', findings });
const entry = (id: string) => BOUNCE_TABLE.codes.find((c) => c.id === id);
const rules = (fs: Finding[]) => fs.map((x) => x.rule);

/** A Postfix bounce of Gmail's legacy 421 4.7.0 "authentication" wording (shape as observed in 2018 through a relay). */
const AUTH_POSTFIX = [
  '<reader@gmail.com>: host alt1.gmail-smtp-in.l.google.com[209.85.200.26] said: 421-4.7.0 This message',
  '    does not have authentication information or fails to pass 421-4.7.0',
  '    authentication checks. To best protect our users from spam, the 421-4.7.0',
  '    message has been blocked. Please visit 421-4.7.0',
  '    https://support.google.com/mail/answer/81126#authentication for more 421',
  '    4.7.0 information. o65-v6si298486ite.142 - gsmtp (in reply to end of DATA',
  '    command)',
].join('\n');

/** The same wording as a bare multi-line reply. */
const AUTH_REPLY = [
  '421-4.7.0 This message does not have authentication information or fails to pass',
  '421-4.7.0 authentication checks. To best protect our users from spam, the message',
  '421-4.7.0 has been blocked. Please visit',
  '421-4.7.0  https://support.google.com/mail/answer/81126#authentication for more',
  '421 4.7.0 information. a1si123.45 - gsmtp',
].join('\n');

/** The older IPv6 wording, deferred (Gmail's legacy `[ip      nn]`). */
const IPV6_REPLY = [
  '421-4.7.0 [2001:db8::25      16] Our system has detected that this message does',
  '421-4.7.0 not meet IPv6 sending guidelines regarding PTR records and',
  '421-4.7.0 authentication. Please review',
  '421-4.7.0  https://support.google.com/mail/?p=IPv6AuthError for more information',
  '421 4.7.0 . a1si123.45 - gsmtp',
].join('\n');

/** The older rate limit of an IP for unsolicited mail. */
const RATE_REPLY = [
  '421-4.7.0 [203.0.113.5      15] Our system has detected an unusual rate of',
  '421-4.7.0 unsolicited mail originating from your IP address. To protect our',
  '421-4.7.0 users from spam, mail sent from your IP address has been temporarily',
  '421-4.7.0 rate limited. Please visit',
  '421-4.7.0  https://support.google.com/mail/?p=UnsolicitedRateLimitError to',
  '421 4.7.0 review our Bulk Email Senders Guidelines. a1si123.45 - gsmtp',
].join('\n');

describe('Gmail 421 4.7.0: the table has the legacy temporary wordings, with sources', () => {
  it('one entry per wording: Gmail, 421 4.7.0, only on its own phrases, with a source', () => {
    for (const id of ['gmail-4.7.0-auth', 'gmail-4.7.0-ipv6', 'gmail-4.7.0-unsolicited']) {
      const e = entry(id);
      assert.ok(e, `${id} in the table`);
      assert.equal(e.receiver, 'gmail');
      assert.equal(e.code, '4.7.0');
      assert.equal(e.reply, '421');
      assert.equal(e.requirePhrase, true, `${id}: 4.7.0 is shared by many wordings (Yahoo's [TSS04] too)`);
      assert.ok(e.source.trim().length > 0);
    }
  });
  it('authentication → SPF, DKIM and the DMARC record; IPv6 → PTR first, then SPF and DKIM', () => {
    const auth = entry('gmail-4.7.0-auth')!;
    for (const r of ['spf.server-not-authorized', 'spf.missing', 'dkim.key-mismatch', 'dkim.missing', 'dmarc.syntax', 'dmarc.multiple']) assert.ok(auth.rules.includes(r), `auth: ${r}`);
    assert.ok(!auth.rules.includes('dmarc.missing'), 'no DMARC record does not make authentication fail');
    const v6 = entry('gmail-4.7.0-ipv6')!;
    assert.deepEqual(v6.rules.slice(0, 2), ['ptr.missing', 'ptr.mismatch:fail']);
    assert.ok(v6.rules.includes('spf.server-not-authorized') && v6.rules.includes('dkim.key-mismatch'));
    assert.deepEqual(entry('gmail-4.7.0-unsolicited')!.rules, ['ptr.listed']);
  });
});

describe('Gmail 421 4.7.0: the explainer recognises the legacy wordings', () => {
  for (const [what, text] of [
    ['Postfix bounce', AUTH_POSTFIX],
    ['bare reply', AUTH_REPLY],
  ] as const) {
    it(`"does not have authentication information" (${what}) → gmail-4.7.0-auth: temporary, SPF/DKIM/DMARC causes`, () => {
      const p = parsed(text);
      assert.equal(p.receiver, 'gmail');
      assert.equal(p.enhancedCode, '4.7.0');
      assert.equal(matchBounceCode(p)?.id, 'gmail-4.7.0-auth');
      const e = explainBounce(p, audit(f('dkim.missing', 'fail', 'default'), f('spf.server-not-authorized', 'fail'), f('dmarc.syntax', 'fail'), f('spf.stale-term', 'warn'), f('dmarc.missing', 'warn')));
      assert.equal(e.entry, 'gmail-4.7.0-auth');
      assert.equal(e.verdict, 'explained');
      assert.deepEqual(rules(e.findings), ['spf.server-not-authorized', 'dkim.missing', 'dmarc.syntax']);
      assert.match(e.meaning, /defer/i);
      assert.doesNotMatch(e.meaning, /refused the message/);
      assert.ok(e.notes.some((n) => /temporary/.test(n)));
    });
  }

  it('"does not meet IPv6 sending guidelines regarding PTR records" → gmail-4.7.0-ipv6: the PTR of the sending IPv6 first', () => {
    const p = parsed(IPV6_REPLY);
    assert.equal(p.receiver, 'gmail');
    assert.equal(p.ip, '2001:db8::25');
    assert.equal(matchBounceCode(p)?.id, 'gmail-4.7.0-ipv6');
    const e = explainBounce(p, audit(f('spf.server-not-authorized', 'fail'), f('ptr.missing', 'fail', '2001:db8::25'), f('ptr.missing', 'fail', '2001:db8::99')));
    assert.equal(e.verdict, 'explained');
    assert.deepEqual(e.findings.map((x) => `${x.rule} ${x.subject ?? ''}`.trim()), ['ptr.missing 2001:db8::25', 'spf.server-not-authorized'], 'the PTR of this IP, not another');
    assert.match(e.meaning, /IPv6/);
    assert.ok(e.outsideDns.includes(BOUNCE_TABLE.outsideDns['reverse-dns']));
  });

  it('"unusual rate of unsolicited mail originating from your IP address" → gmail-4.7.0-unsolicited: reputation, not a record', () => {
    const p = parsed(RATE_REPLY);
    assert.equal(p.receiver, 'gmail');
    assert.equal(p.ip, '203.0.113.5');
    assert.equal(matchBounceCode(p)?.id, 'gmail-4.7.0-unsolicited');
    const leftovers = audit(f('spf.stale-term', 'warn'), f('dmarc.missing', 'warn'), f('spf.server-not-authorized', 'fail'));
    const e = explainBounce(p, leftovers);
    assert.deepEqual(rules(e.findings), [], 'SPF is not why an IP is rate limited for spam');
    assert.equal(e.verdict, 'not-explained');
    assert.ok(e.outsideDns.includes(BOUNCE_TABLE.outsideDns.reputation) && e.outsideDns.includes(BOUNCE_TABLE.outsideDns.volume));
    const listed = explainBounce(p, audit(f('ptr.listed', 'fail', '203.0.113.5 @ zen.spamhaus.org')));
    assert.deepEqual(rules(listed.findings), ['ptr.listed']);
  });

  it('the legacy "very low reputation of the sending IP address" fixture → the same reputation entry', () => {
    const p = parsed(readFileSync(join(FIXTURES_DIR, 'bounces', 'gmail-421-4.7.0-legacy-ip.txt'), 'utf8'));
    assert.equal(matchBounceCode(p)?.id, 'gmail-4.7.0-unsolicited');
  });

  it('the permanent 5.x wordings keep their own entries; Yahoo 421 4.7.0 stays Yahoo\'s', () => {
    assert.equal(matchBounceCode(parsed(AUTH_REPLY.replace(/421([- ])4\.7\.0/g, '550$15.7.1')))?.id, 'gmail-5.7.1-auth');
    assert.equal(matchBounceCode(parsed(IPV6_REPLY.replace(/421([- ])4\.7\.0/g, '550$15.7.1')))?.id, 'gmail-5.7.1-ipv6');
    assert.equal(matchBounceCode(parsed(readFileSync(join(FIXTURES_DIR, 'bounces', 'yahoo-421-4.7.0-tss04.txt'), 'utf8')))?.id, 'yahoo-4.7.0-complaints');
    assert.equal(matchBounceCode(parsed('421-4.7.0 Try again later, closing connection. (EHLO) a1si123.45 - gsmtp'))?.id ?? null, null, 'another 4.7.0 wording is not given these meanings');
  });
});
