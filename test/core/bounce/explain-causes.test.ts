// Review round 2, item 1: the explainer names as the cause only findings that can produce the rejection, for this mail.
// Before: rules were prefixes ("spf.", "dkim.", "dmarc.") and generic 5.7.1 took spf./dkim./dmarc./ptr., so any warning
// (a stale include, ?all, a report address, a weak key on another sender's selector) "explained" any bounce.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURES_DIR } from '../../helpers/corpora.js';
import type { CheckName, DomainAudit, Finding, FixKind, Severity } from '../../../src/core/model.js';
import { BOUNCE_TABLE, validateBounceTable } from '../../../src/core/bounce/codes.js';
import raw from '../../../src/knowledge/bounce-codes.json' with { type: 'json' };
import { explainBounce } from '../../../src/core/bounce/explain.js';
import { isParseError, parseBounce, type ParsedBounce } from '../../../src/core/bounce/parse.js';

function f(rule: string, severity: Severity, extra: { subject?: string; fix?: FixKind } = {}): Finding {
  return { rule, check: rule.split('.')[0] as CheckName, severity, message: `${rule} (${severity})`, evidence: {}, ...extra };
}
const audit = (...findings: Finding[]): DomainAudit => ({ domain: 'shop.example.com', status: 'warn', auditedAt: '2025-11-04T00:00:00Z', findings });
function parsed(text: string): ParsedBounce {
  const r = parseBounce(text);
  if (isParseError(r)) assert.fail(r.error);
  return r;
}
const fixture = (name: string) => parsed(readFileSync(join(FIXTURES_DIR, 'bounces', name), 'utf8'));
const rules = (fs: Finding[]) => fs.map((x) => x.rule);
const OUTSIDE = BOUNCE_TABLE.outsideDns;

// A domain whose SPF authorises this server (spf.ok), whose own DKIM key is fine (dkim.ok at "default"), but with the
// leftovers a migration leaves: stale includes, ?all, no DMARC, reports to the old host, the old host's 1024-bit key at
// its own selector, a stale MX. None of these makes SPF, DKIM or DMARC fail for this server's mail.
const LEFTOVERS = [
  f('spf.ok', 'pass'),
  f('spf.stale-term', 'warn', { subject: 'include:bluehost.com', fix: 'spf' }),
  f('spf.stale-term', 'warn', { subject: 'mx', fix: 'spf' }),
  f('spf.weak-all', 'warn', { fix: 'spf' }),
  f('spf.ptr', 'warn', { subject: 'ptr' }),
  f('dkim.ok', 'pass', { subject: 'default' }),
  f('dkim.other-selector', 'info', { subject: 'dreamhost' }),
  f('dkim.weak-key', 'warn', { subject: 'dreamhost' }),
  f('dmarc.missing', 'warn', { fix: 'dmarc' }),
  f('dmarc.stale-destination', 'warn', { subject: 'rua=mailto:dmarc-reports@dreamhost.com' }),
  f('mx.stale', 'fail', { subject: 'mail.shop.example.com' }),
  f('ptr.relay', 'info'),
];

describe('explainBounce: warnings that cannot cause the rejection are not its cause', () => {
  const cases: [string, string][] = [
    ['SPF fail (Microsoft 5.7.23)', 'microsoft-5.7.23-ndr-headers.txt'],
    ['unauthenticated (Gmail 5.7.26)', 'gmail-5.7.26-quoted-body.txt'],
    ['unauthenticated, deferred (Gmail 4.7.26)', 'gmail-4.7.26-dsn.txt'],
    ['DMARC reject (Microsoft 5.7.509)', 'microsoft-5.7.509.txt'],
    ['IP on a block list (Outlook.com S3150)', 'microsoft-5.7.1-block-list.txt'],
    ['spam policy (MailChannels CS01)', 'mailchannels-5.7.1-cs01.txt'],
    ['IP deferred for volume or complaints (Yahoo TSS04)', 'yahoo-421-4.7.0-tss04.txt'],
  ];
  for (const [what, file] of cases) {
    it(`${what}: nothing explains it; says so and points outside DNS (reputation, content)`, () => {
      const e = explainBounce(fixture(file), audit(...LEFTOVERS));
      assert.deepEqual(rules(e.findings), [], 'no finding is named as the cause');
      assert.equal(e.explained, false);
      assert.ok(e.otherFindings.some((x) => x.rule === 'spf.stale-term'), 'the leftovers are still listed apart');
      assert.ok(e.outsideDns.includes(OUTSIDE.reputation) && e.outsideDns.includes(OUTSIDE.content), 'points at reputation and content');
      assert.ok(e.notes.some((n) => /Nothing in the audit explains|not caused by a DNS record/.test(n)), e.notes.join(' | '));
    });
  }
});

describe('explainBounce: the findings that do cause it', () => {
  it('SPF fail → the SPF record problems that make SPF fail, not the warnings beside them', () => {
    for (const cause of ['spf.server-not-authorized', 'spf.missing', 'spf.multiple', 'spf.syntax', 'spf.too-many-lookups', 'spf.void-lookups']) {
      const e = explainBounce(fixture('microsoft-5.7.23-ndr-headers.txt'), audit(...LEFTOVERS.filter((x) => x.rule !== 'spf.ok'), f(cause, 'fail', { fix: 'spf' })));
      assert.deepEqual(rules(e.findings), [cause], cause);
      assert.equal(e.explained, true);
    }
    const relay = explainBounce(fixture('microsoft-5.7.23-ndr-headers.txt'), audit(f('spf.relay-no-spf', 'warn', { subject: 'relay.example.net' }), f('spf.weak-all', 'warn')));
    assert.deepEqual(rules(relay.findings), ['spf.relay-no-spf']);
  });

  it('DKIM fail → only findings on the selector this server signs with', () => {
    const mine = [f('dkim.key-mismatch', 'fail', { subject: 'default', fix: 'dkim' }), f('dkim.other-selector', 'info', { subject: 'dreamhost' }), f('dkim.weak-key', 'fail', { subject: 'dreamhost' })];
    const e = explainBounce(parsed('550 5.7.20 No passing DKIM signature found'), audit(...mine));
    assert.deepEqual(rules(e.findings), ['dkim.key-mismatch'], 'a weak key at another sender\'s selector does not sign this mail');
    // A key under 1024 bits at the server's own selector is ignored by receivers: a cause. 1024 bits (warn) is not.
    const weak = (sev: Severity) => explainBounce(parsed('550 5.7.20 No passing DKIM signature found'), audit(f('dkim.ok', 'pass', { subject: 'default' }), f('dkim.weak-key', sev, { subject: 'default', fix: 'dkim' })));
    assert.deepEqual(rules(weak('fail').findings), ['dkim.weak-key']);
    assert.deepEqual(rules(weak('warn').findings), []);
    for (const cause of ['dkim.missing', 'dkim.malformed', 'dkim.revoked', 'dkim.signing-off']) {
      const x = explainBounce(parsed('550 5.7.20 No passing DKIM signature found'), audit(f(cause, cause === 'dkim.signing-off' ? 'warn' : 'fail', { subject: 'default', fix: 'dkim' })));
      assert.deepEqual(rules(x.findings), [cause], cause);
    }
  });

  it('DMARC reject → the SPF and DKIM causes; a missing DMARC record or a stale report address is not one', () => {
    const e = explainBounce(
      fixture('microsoft-5.7.509.txt'),
      audit(...LEFTOVERS.filter((x) => x.rule !== 'spf.ok' && x.rule !== 'dkim.ok'), f('spf.server-not-authorized', 'fail', { fix: 'spf' }), f('dkim.missing', 'fail', { subject: 'default', fix: 'dkim' })),
    );
    assert.deepEqual(rules(e.findings), ['spf.server-not-authorized', 'dkim.missing']);
  });

  it('blocklist → ptr.listed of the bounce\'s sending IP only; never SPF', () => {
    const withSpf = audit(f('spf.server-not-authorized', 'fail', { subject: '198.51.100.31', fix: 'spf' }), f('spf.stale-term', 'warn', { subject: 'include:old.example' }));
    assert.deepEqual(rules(explainBounce(fixture('microsoft-5.7.1-block-list.txt'), withSpf).findings), []);
    const listed = (ip: string) => explainBounce(fixture('microsoft-5.7.1-block-list.txt'), audit(f('ptr.listed', 'fail', { subject: `${ip} @ zen.spamhaus.org` })));
    assert.deepEqual(rules(listed('198.51.100.31').findings), ['ptr.listed']);
    assert.deepEqual(rules(listed('198.51.100.99').findings), [], 'another of the server\'s IPs being listed did not refuse this mail');
  });

  it('PTR → ptr.missing, or a PTR that does not resolve back (fail); a HELO name mismatch (warn) is not it', () => {
    const e = (x: Finding) => explainBounce(fixture('gmail-5.7.25.txt'), audit(x));
    assert.deepEqual(rules(e(f('ptr.missing', 'fail', { subject: '203.0.113.5' })).findings), ['ptr.missing']);
    assert.deepEqual(rules(e(f('ptr.mismatch', 'fail', { subject: '203.0.113.5' })).findings), ['ptr.mismatch']);
    assert.deepEqual(rules(e(f('ptr.mismatch', 'warn', { subject: '203.0.113.5' })).findings), []);
  });

  it('MailChannels "sender is not authorized" → the lockdown record; "no record" (no restriction) is not it', () => {
    const p = parsed('550 5.7.1 This sender is not authorized to send from shop.example.com.');
    for (const cause of ['lockdown.stale-auth', 'lockdown.syntax', 'lockdown.multiple']) {
      assert.deepEqual(rules(explainBounce(p, audit(f(cause, cause === 'lockdown.multiple' ? 'warn' : 'fail'), f('spf.stale-term', 'warn'))).findings), [cause], cause);
    }
    assert.deepEqual(rules(explainBounce(p, audit(f('lockdown.missing', 'warn'))).findings), []);
  });

  it('a generic 5.7.1 with only leftovers is not explained (before: every warning was its cause)', () => {
    const e = explainBounce(parsed('550 5.7.1 Message refused'), audit(...LEFTOVERS));
    assert.equal(e.entry, 'generic-5.7.1');
    assert.deepEqual(rules(e.findings), []);
    assert.equal(e.verdict, 'not-explained');
  });
});

describe('bounce-codes.json: rules are rule ids, never prefixes', () => {
  it('no entry names a prefix', () => {
    for (const c of BOUNCE_TABLE.codes) for (const r of c.rules) assert.ok(!r.endsWith('.'), `${c.id}: ${r}`);
  });
  it('the validator refuses a prefix and an unknown rule set', () => {
    const t = structuredClone(raw) as { codes: { rules: string[] }[] };
    t.codes[0].rules = ['spf.'];
    assert.ok(validateBounceTable(t).some((e) => /spf\./.test(e)));
    t.codes[0].rules = ['@no-such-set'];
    assert.ok(validateBounceTable(t).some((e) => /no-such-set/.test(e)));
  });
});
