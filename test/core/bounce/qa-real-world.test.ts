// QA of "explain a bounce" against the real-world shapes customers paste (fixtures test/fixtures/bounces/qa/*.txt,
// written from the receivers' documented wordings): the code and entry found, the sender's domain and IP, the receiver,
// and which findings the explanation blames — never SPF/DKIM for a bounce that is not about authentication.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURES_DIR } from '../../helpers/corpora.js';
import type { CheckName, DomainAudit, Finding, Severity } from '../../../src/core/model.js';
import { explainBounce, type Verdict } from '../../../src/core/bounce/explain.js';
import { isParseError, parseBounce, type ParsedBounce } from '../../../src/core/bounce/parse.js';

const SERVER_IP = '198.51.100.31';

function finding(rule: string, severity: Severity, extra: Partial<Finding> = {}): Finding {
  return { rule, check: rule.split('.')[0] as CheckName, severity, message: rule, evidence: {}, ...extra };
}

/** A domain whose SPF does not list this server, with no DKIM key, a stale lockdown record and no DMARC record. */
const AUDIT: DomainAudit = {
  domain: 'shop.example.com',
  status: 'fail',
  auditedAt: '2025-11-04T11:00:00Z',
  findings: [
    finding('spf.server-not-authorized', 'fail', { subject: SERVER_IP, fix: 'spf' }),
    finding('dkim.missing', 'fail', { subject: 'default', fix: 'dkim' }),
    finding('lockdown.stale-auth', 'fail', { fix: 'lockdown' }),
    finding('dmarc.missing', 'warn', { fix: 'dmarc' }),
    finding('spf.stale-term', 'warn', { subject: 'include:websitewelcome.com' }),
  ],
};

export function parsedFixture(name: string): ParsedBounce {
  const r = parseBounce(readFileSync(join(FIXTURES_DIR, 'bounces', 'qa', name), 'utf8'));
  if (isParseError(r)) assert.fail(`${name}: ${r.error}`);
  return r;
}

interface Expect {
  receiver: string;
  code: string;
  entry: string;
  verdict: Verdict;
  findings: string[];
  domain?: string | null;
  ip?: string | null;
}

const CASES: Record<string, Expect> = {
  // Gmail
  'gmail-5.7.26-postfix-dsn-multipart.txt': { receiver: 'gmail', code: '5.7.26', entry: 'gmail-5.7.26', verdict: 'explained', findings: ['spf.server-not-authorized', 'dkim.missing'], domain: 'shop.example.com', ip: SERVER_IP },
  'gmail-5.7.27-base64.txt': { receiver: 'gmail', code: '5.7.27', entry: 'gmail-5.7.27', verdict: 'explained', findings: ['spf.server-not-authorized'], domain: 'shop.example.com' },
  'gmail-421-4.7.28-rate.txt': { receiver: 'gmail', code: '4.7.28', entry: 'gmail-4.7.28-domain', verdict: 'not-dns', findings: [], domain: 'shop.example.com' },
  'gmail-550-5.7.28-ip.txt': { receiver: 'gmail', code: '5.7.28', entry: 'gmail-5.7.28', verdict: 'not-explained', findings: [], ip: SERVER_IP },
  'gmail-user-unknown.txt': { receiver: 'gmail', code: '5.1.1', entry: 'generic-5.1.1', verdict: 'not-dns', findings: [] },
  'gmail-over-quota.txt': { receiver: 'gmail', code: '4.2.2', entry: 'generic-4.2.2', verdict: 'not-dns', findings: [] },
  // Microsoft
  'microsoft-s3140.txt': { receiver: 'microsoft', code: '5.7.1', entry: 'microsoft-5.7.1-own-blocklist', verdict: 'not-explained', findings: [], ip: SERVER_IP },
  'microsoft-exo-5.7.509-html.txt': { receiver: 'microsoft', code: '5.7.509', entry: 'microsoft-5.7.509', verdict: 'explained', findings: ['spf.server-not-authorized', 'dkim.missing'], domain: 'shop.example.com', ip: SERVER_IP },
  'exchange-de-5.7.509.txt': { receiver: 'microsoft', code: '5.7.509', entry: 'microsoft-5.7.509', verdict: 'explained', findings: ['spf.server-not-authorized', 'dkim.missing'], domain: 'shop.example.com', ip: SERVER_IP },
  'exchange-fr-5.7.23.txt': { receiver: 'microsoft', code: '5.7.23', entry: 'microsoft-5.7.23', verdict: 'explained', findings: ['spf.server-not-authorized'], domain: 'shop.example.com', ip: SERVER_IP },
  'microsoft-5.7.708.txt': { receiver: 'microsoft', code: '5.7.708', entry: 'microsoft-5.7.708', verdict: 'not-dns', findings: [] },
  'microsoft-5.7.750.txt': { receiver: 'microsoft', code: '5.7.750', entry: 'microsoft-5.7.750', verdict: 'not-dns', findings: [] },
  'exchange-user-unknown.txt': { receiver: 'generic', code: '5.1.10', entry: 'generic-5.1.10', verdict: 'not-dns', findings: [] },
  'exchange-es-user-unknown.txt': { receiver: 'generic', code: '5.1.10', entry: 'generic-5.1.10', verdict: 'not-dns', findings: [] },
  'hotmail-dmarc-5.7.0.txt': { receiver: 'generic', code: '5.7.0', entry: 'generic-dmarc', verdict: 'explained', findings: ['spf.server-not-authorized', 'dkim.missing'], domain: 'shop.example.com', ip: SERVER_IP },
  // Yahoo / AOL / Comcast
  'yahoo-554-5.7.9-policy.txt': { receiver: 'yahoo', code: '5.7.9', entry: 'yahoo-5.7.9-policy', verdict: 'explained', findings: ['spf.server-not-authorized', 'dkim.missing'] },
  'aol-tss04.txt': { receiver: 'yahoo', code: '4.7.0', entry: 'yahoo-4.7.0-complaints', verdict: 'not-explained', findings: [], ip: SERVER_IP },
  'comcast-dmarc.txt': { receiver: 'comcast', code: '5.2.0', entry: 'generic-dmarc', verdict: 'explained', findings: ['spf.server-not-authorized', 'dkim.missing'] },
  // MailChannels
  'mailchannels-lockdown-alt.txt': { receiver: 'mailchannels', code: '5.7.1', entry: 'mailchannels-5.7.1-lockdown', verdict: 'explained', findings: ['lockdown.stale-auth'], domain: 'shop.example.com' },
  // A MailChannels 5.7.1 in words no entry knows: its own fallback (Domain Lockdown, else its policy), never the generic
  // 5.7.1 that blamed SPF, DKIM and the PTR — checks a relay's refusal is not about (QA note).
  'mailchannels-5.7.1-unknown-wording.txt': { receiver: 'mailchannels', code: '5.7.1', entry: 'mailchannels-5.7.1-other', verdict: 'explained', findings: ['lockdown.stale-auth'], domain: 'shop.example.com' },
  // The returned copy's Received-SPF / Authentication-Results are an earlier hop's, not the receiver's verdict.
  'exim-5.7.23-forwarded-copy.txt': { receiver: 'microsoft', code: '5.7.23', entry: 'microsoft-5.7.23', verdict: 'explained', findings: ['spf.server-not-authorized'], domain: 'shop.example.com', ip: null },
  'exim-mailbox-full-with-ar.txt': { receiver: 'generic', code: '5.2.2', entry: 'generic-5.2.2', verdict: 'not-dns', findings: [], ip: null },
};

describe('explain a bounce: real-world shapes (qa fixtures)', () => {
  for (const [name, e] of Object.entries(CASES)) {
    it(name, () => {
      const p = parsedFixture(name);
      const ex = explainBounce(p, AUDIT, undefined, { blocklistsChecked: true });
      assert.equal(ex.code, e.code, 'code');
      assert.equal(ex.entry, e.entry, 'table entry');
      assert.equal(ex.receiver, e.receiver, 'receiver');
      assert.equal(ex.verdict, e.verdict, 'verdict');
      assert.deepEqual(ex.findings.map((f) => f.rule), e.findings, 'findings blamed');
      if ('domain' in e) assert.equal(p.domain, e.domain, 'sender domain');
      if ('ip' in e) assert.equal(p.ip, e.ip, 'sending IP');
    });
  }

  it('a bounce that is not about authentication never blames SPF, DKIM, DMARC or the lockdown record', () => {
    for (const name of ['gmail-user-unknown.txt', 'gmail-over-quota.txt', 'exchange-user-unknown.txt', 'exchange-es-user-unknown.txt', 'exim-mailbox-full-with-ar.txt']) {
      const ex = explainBounce(parsedFixture(name), AUDIT);
      assert.equal(ex.findings.length, 0, name);
      assert.equal(ex.explained, false, name);
      assert.ok(ex.outsideDns.some((t) => /recipient address/i.test(t)), `${name}: points at the recipient address`);
    }
  });
});

describe('explain a bounce: MailChannels in words no entry knows', () => {
  it('with a sound lockdown record: nothing in DNS explains it; points at the relay account, content, reputation — not SPF or DKIM', () => {
    const clean: DomainAudit = { ...AUDIT, findings: AUDIT.findings.filter((f) => !f.rule.startsWith('lockdown.')) };
    const ex = explainBounce(parsedFixture('mailchannels-5.7.1-unknown-wording.txt'), clean);
    assert.equal(ex.entry, 'mailchannels-5.7.1-other');
    assert.deepEqual(ex.findings.map((f) => f.rule), [], 'SPF and DKIM findings are not named as the cause');
    assert.equal(ex.explained, false);
    assert.match(ex.meaning ?? '', /Domain Lockdown/);
  });
});

describe('explain a bounce: Microsoft\'s own block list (S3140/S3150)', () => {
  it('names Microsoft\'s list, not "a blocklist", and says how to get off it (the delist portal, by whoever runs the IP)', () => {
    for (const file of ['microsoft-s3140.txt']) {
      const e = explainBounce(parsedFixture(file), AUDIT);
      assert.match(e.meaning ?? '', /Microsoft's own block list/);
      assert.ok(e.outsideDns.some((t) => /sender\.office\.com/.test(t) && /SNDS/.test(t)), e.outsideDns.join(' | '));
    }
  });
});
