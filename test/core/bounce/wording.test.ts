// Review round 2, items 2 and 3: Gmail 421 4.7.26, phrases matched within the receiver's own lines, no contradictory
// notes for an unknown code, and Yahoo's real [TSS04] / [TSS09] wordings.
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
const fixture = (name: string) => parsed(readFileSync(join(FIXTURES_DIR, 'bounces', name), 'utf8'));
const f = (rule: string, severity: Severity): Finding => ({ rule, check: rule.split('.')[0] as CheckName, severity, message: rule, evidence: {} });
const audit = (...findings: Finding[]): DomainAudit => ({ domain: 'shop.example.com', status: 'fail', auditedAt: '2025-11-04T00:00:00Z', findings });
const entry = (id: string) => BOUNCE_TABLE.codes.find((c) => c.id === id);

describe('Gmail 421 4.7.26 (unauthenticated, rate limited)', () => {
  it('has an entry with its source: SPF and DKIM, deferred', () => {
    const e = entry('gmail-4.7.26');
    assert.ok(e, 'gmail-4.7.26 in the table');
    assert.equal(e.reply, '421');
    assert.match(e.source, /google/);
    assert.ok(e.rules.includes('spf.server-not-authorized') && e.rules.includes('dkim.key-mismatch'));
  });
  for (const file of ['gmail-4.7.26-dsn.txt', 'gmail-4.7.26-exim-log.txt']) {
    it(`${file} → gmail-4.7.26 (not 4.7.27 "SPF did not pass"), SPF and DKIM causes`, () => {
      const p = fixture(file);
      assert.equal(matchBounceCode(p)?.id, 'gmail-4.7.26');
      const e = explainBounce(p, audit(f('dkim.missing', 'fail'), f('spf.server-not-authorized', 'fail')));
      assert.deepEqual(e.findings.map((x) => x.rule), ['spf.server-not-authorized', 'dkim.missing']);
      assert.ok(e.notes.some((n) => /temporary/.test(n)));
      assert.match(e.meaning, /neither SPF nor DKIM/);
    });
  }
  it('the Exim log line\'s literal "\\n" separates lines: no reply-code prefixes left in the text', () => {
    const p = fixture('gmail-4.7.26-exim-log.txt');
    assert.ok(!p.text.includes('\\n') && !p.text.includes('421-4.7.26'), p.text);
    assert.ok(p.segments.includes('DKIM = did not pass'), JSON.stringify(p.segments));
  });
});

describe('phrases are matched within one line of the receiver, not across joined lines', () => {
  const RESULTS = (code: string) =>
    [
      `421-${code} Your mail was deferred.`,
      `421-${code}`,
      `421-${code}  Authentication results:`,
      `421-${code}  DKIM = did not pass`,
      `421-${code}  SPF [shop.example.com] with ip: [198.51.100.31] = did not pass`,
      `421 ${code}  https://support.google.com/mail/answer/81126 - gsmtp`,
    ].join('\n');
  it('"DKIM = did not pass" + "SPF [d] …" does not read as "did not pass SPF" (no false gmail-4.7.27)', () => {
    const p = parsed(RESULTS('4.7.99'));
    assert.equal(p.receiver, 'gmail');
    assert.ok(p.text.includes('DKIM = did not pass SPF [shop.example.com]'), 'the one-line text still joins them');
    assert.equal(matchBounceCode(p)?.id ?? null, null);
  });
  it('the same lines without code prefixes (a pasted excerpt): result lines stand alone', () => {
    const p = parsed('421 4.7.99 Your mail was deferred.\n Authentication results:\n DKIM = did not pass\n SPF [shop.example.com] with ip: [198.51.100.31] = did not pass\n - gsmtp');
    assert.equal(matchBounceCode(p)?.id ?? null, null);
  });
  it('a phrase wrapped by the receiver or by Postfix still matches', () => {
    assert.equal(matchBounceCode(parsed('550-5.7.26 This message does not have authentication information or fails to\n550-5.7.26 pass authentication checks. - gsmtp'))?.id, 'gmail-5.7.26');
    const postfix = '<a@gmail.com>: host gmail-smtp-in.l.google.com[142.250.153.27] said:\n    550-5.7.1 [198.51.100.31] The IP address sending this message does not have\n    a PTR record setup. - gsmtp (in reply to end of DATA command)';
    assert.equal(matchBounceCode(parsed(postfix))?.id, 'gmail-5.7.1-ptr');
  });
});

describe('an unknown code never also says "not caused by a DNS record"', () => {
  it('no table entry + an audit: the explainer says it cannot tell, not that DNS is innocent', () => {
    const e = explainBounce(parsed('550 5.9.99 Something odd happened'), audit(f('spf.missing', 'fail')));
    assert.equal(e.entry, null);
    assert.equal(e.verdict, 'unknown-code');
    assert.ok(!e.notes.some((n) => /not caused by a DNS record/.test(n)), e.notes.join(' | '));
    assert.ok(e.notes.some((n) => /not in the explainer's table/.test(n)));
    assert.deepEqual(e.otherFindings.map((x) => x.rule), ['spf.missing'], 'the audit\'s problems are still shown');
  });
  it('a known code whose cause is outside DNS still says so', () => {
    const e = explainBounce(parsed('550 5.1.1 The email account that you tried to reach does not exist. - gsmtp'), audit(f('spf.missing', 'fail')));
    assert.ok(e.notes.some((n) => /not caused by a DNS record/.test(n)));
  });
});

describe('Yahoo: the real [TSS04] and [TSS09] wordings', () => {
  it('421 4.7.0 [TSS04] "temporarily deferred due to unexpected volume or user complaints" → yahoo-4.7.0-complaints', () => {
    const p = fixture('yahoo-421-4.7.0-tss04.txt');
    assert.equal(matchBounceCode(p)?.id, 'yahoo-4.7.0-complaints');
    const e = explainBounce(p, audit(f('spf.stale-term', 'warn')));
    assert.match(e.meaning, /volume/);
    assert.deepEqual(e.findings, []);
    assert.ok(e.outsideDns.includes(BOUNCE_TABLE.outsideDns.complaints));
    assert.match(entry('yahoo-4.7.0-complaints')!.source, /UNCONFIRMED/);
  });
  it('553 5.7.2 [TSS09] "permanently deferred" → its own entry (IP reputation), marked UNCONFIRMED', () => {
    const p = fixture('yahoo-553-5.7.2-tss09.txt');
    const m = matchBounceCode(p);
    assert.equal(m?.id, 'yahoo-5.7.2-tss09');
    assert.equal(m?.receiver, 'yahoo');
    assert.match(m!.source, /UNCONFIRMED/);
    const e = explainBounce(p, null);
    assert.match(e.meaning, /Yahoo/);
    assert.match(e.meaning, /permanently/);
    assert.ok(!/not in the explainer's table/.test(e.meaning));
  });
  it('a Yahoo 5.7.2 without the [TSS09] wording is not given that meaning', () => {
    assert.notEqual(matchBounceCode({ receiver: 'yahoo', replyCode: '553', enhancedCode: '5.7.2', text: '553 5.7.2 something else' })?.id, 'yahoo-5.7.2-tss09');
  });
});
