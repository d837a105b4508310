// DNS trouble one check runs into that changes what other checks find, with no unknown finding of theirs (review R4,
// item 1): the report must not call their changed findings new, nor what they dropped fixed. The findings are the
// ones the checks gave in the reviewer's scenarios (demo world, one record type answering SERVFAIL for one night).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CheckName, DomainStatus, Severity } from '../../../src/core/model.js';
import { buildReport, type DomainSnapshot, type RunSnapshot, type SnapshotFinding } from '../../../src/core/report/diff.js';
import { renderReport } from '../../../src/core/report/render.js';

function f(rule: string, severity: Severity, subject?: string): SnapshotFinding {
  return { rule, check: rule.split('.')[0] as CheckName, severity, ...(subject ? { subject } : {}), message: `${rule} message` };
}

function dom(domain: string, findings: SnapshotFinding[]): DomainSnapshot {
  const sev = findings.map((x) => x.severity);
  const status: DomainStatus = sev.includes('fail') ? 'fail' : sev.includes('warn') ? 'warn' : sev.includes('unknown') ? 'unknown' : 'pass';
  return { domain, owner: 'carol', reseller: null, status, findings };
}

function run(runId: number, domains: DomainSnapshot[]): RunSnapshot {
  return { runId, status: 'complete', startedAt: new Date(Date.UTC(2026, 0, runId, 3)).toISOString(), domains };
}

const key = (i: { domain: string; rule: string; subject?: string | null }) => `${i.domain} ${i.rule}${i.subject ? ` ${i.subject}` : ''}`;

// Case a: the NS lookup of lawyer.example answers SERVFAIL — the dns check says dns.dns-error, and the mx check, which
// can no longer tell whose DNS serves the MX, turns mx.stale into mx.routing-mismatch.
const lawyerGood = [f('mx.stale', 'fail', 'lawyer.example'), f('dns.not-authoritative', 'warn'), f('spf.server-not-authorized', 'fail')];
const lawyerNsFail = [f('dns.dns-error', 'unknown'), f('mx.routing-mismatch', 'warn'), f('spf.server-not-authorized', 'fail')];

// Case b: the MX lookup of florist.example answers SERVFAIL — mx.dns-error; the classifier cannot tell where the mail
// is delivered, so lockdown.stale-auth loses its subject and a previous host's key comes back as dkim.weak-key.
const floristGood = [f('lockdown.stale-auth', 'fail', 'auth=dreamhost'), f('dmarc.stale-destination', 'warn', 'rua=mailto:x@dreamhost.com')];
const floristMxFail = [f('mx.dns-error', 'unknown'), f('lockdown.stale-auth', 'fail'), f('dkim.weak-key', 'warn', 'dreamhost'), f('dmarc.stale-destination', 'warn', 'rua=mailto:x@dreamhost.com')];

describe('buildReport: DNS trouble of one check hides the checks that depend on it', () => {
  test('dns.dns-error (NS lookup): mx is not compared — no new mx.routing-mismatch, no "fixed" mx.stale', () => {
    const r1 = run(1, [dom('lawyer.example', lawyerGood)]);
    const r2 = run(2, [dom('lawyer.example', lawyerNsFail)]);
    const doc = buildReport({ current: r2, runs: [r1] });
    assert.deepEqual(doc.newProblems.map(key), []);
    assert.deepEqual(doc.resolved.map(key), []);
    const u = doc.unknown.find((i) => i.rule === 'dns.dns-error')!;
    assert.deepEqual(u.wasFailing.map((w) => w.rule).sort(), ['dns.not-authoritative', 'mx.stale']);
    assert.deepEqual((u.seenTonight ?? []).map((w) => w.rule), ['mx.routing-mismatch']);
    // spf does not depend on whose DNS is live: its problem is still failing.
    assert.deepEqual(doc.stillFailing.map(key), ['lawyer.example spf.server-not-authorized']);
  });

  test('dns.authority-unknown hides mx the same way', () => {
    const r1 = run(1, [dom('lawyer.example', lawyerGood)]);
    const r2 = run(2, [dom('lawyer.example', [f('dns.authority-unknown', 'unknown'), f('mx.routing-mismatch', 'warn'), f('spf.server-not-authorized', 'fail')])]);
    const doc = buildReport({ current: r2, runs: [r1] });
    assert.deepEqual(doc.newProblems.map(key), []);
    assert.deepEqual(doc.resolved.map(key), []);
  });

  test('mx.dns-error: lockdown and dkim are not compared — no new stale-auth or weak-key, no "fixed" stale-auth', () => {
    const r1 = run(1, [dom('florist.example', floristGood)]);
    const r2 = run(2, [dom('florist.example', floristMxFail)]);
    const doc = buildReport({ current: r2, runs: [r1] });
    assert.deepEqual(doc.newProblems.map(key), []);
    assert.deepEqual(doc.resolved.map(key), []);
    const u = doc.unknown.find((i) => i.rule === 'mx.dns-error')!;
    assert.deepEqual(u.wasFailing.map((w) => [w.rule, w.subject]), [['lockdown.stale-auth', 'auth=dreamhost']]);
    assert.deepEqual((u.seenTonight ?? []).map((w) => [w.rule, w.subject]).sort(), [['dkim.weak-key', 'dreamhost'], ['lockdown.stale-auth', null]]);
    // dmarc does not ask where the mail is delivered: still failing.
    assert.deepEqual(doc.stillFailing.map(key), ['florist.example dmarc.stale-destination rua=mailto:x@dreamhost.com']);
    // The rendered mail says the same: nothing new, nothing resolved.
    const text = renderReport(doc, { baseUrl: null, serverName: 's' }).text;
    assert.match(text, /New problems \(0\)|No new problems/);
    assert.doesNotMatch(text, /fixed/);
  });

  test('mx.dns-error: an spf.stale-term that drops away is not fixed', () => {
    const r1 = run(1, [dom('florist.example', [f('spf.stale-term', 'warn', 'include:netblocks.dreamhost.com')])]);
    const r2 = run(2, [dom('florist.example', [f('mx.dns-error', 'unknown')])]);
    const doc = buildReport({ current: r2, runs: [r1] });
    assert.deepEqual(doc.resolved.map(key), []);
    assert.deepEqual(doc.unknown[0].wasFailing.map((w) => w.rule), ['spf.stale-term']);
  });

  test('mx.dns-error: a split delegation to a previous host\'s nameservers that drops away is not fixed', () => {
    // With the mail routed elsewhere, whether those nameservers are a previous host's is judged by where the mail is
    // delivered (classifier.host), which the MX trouble leaves unknown.
    const r1 = run(1, [dom('florist.example', [f('dns.not-authoritative', 'warn')])]);
    const r2 = run(2, [dom('florist.example', [f('mx.dns-error', 'unknown')])]);
    const doc = buildReport({ current: r2, runs: [r1] });
    assert.deepEqual(doc.resolved.map(key), []);
    assert.deepEqual(doc.unknown[0].wasFailing.map((w) => w.rule), ['dns.not-authoritative']);
  });

  test('the night after, DNS answering again: the problems are still failing (not new again), streaks go on', () => {
    const r1 = run(1, [dom('florist.example', floristGood), dom('lawyer.example', lawyerGood)]);
    const r2 = run(2, [dom('florist.example', floristMxFail), dom('lawyer.example', lawyerNsFail)]);
    const r3 = run(3, [dom('florist.example', floristGood), dom('lawyer.example', lawyerGood)]);
    const doc = buildReport({ current: r3, runs: [r1, r2] });
    assert.deepEqual(doc.newProblems.map(key), []);
    assert.deepEqual(doc.resolved.map(key), []);
    const nights = Object.fromEntries(doc.stillFailing.map((s) => [key(s), s.nights]));
    assert.equal(nights['florist.example lockdown.stale-auth auth=dreamhost'], 2);
    assert.equal(nights['lawyer.example mx.stale lawyer.example'], 2);
    // Checks the trouble did not hide count every night.
    assert.equal(nights['lawyer.example spf.server-not-authorized'], 3);
  });

  test('a domain whose only fail that night came from a hidden check is not counted failing', () => {
    const r1 = run(1, [dom('florist.example', [])]);
    const r2 = run(2, [dom('florist.example', [f('mx.dns-error', 'unknown'), f('lockdown.stale-auth', 'fail')])]);
    const doc = buildReport({ current: r2, runs: [r1] });
    assert.equal(doc.summary.failingDomains, 0);
    assert.equal(doc.summary.unknownDomains, 1);
  });

  test('an unknown of a check that hides nothing else (dkim.dns-error) leaves lockdown compared', () => {
    const r1 = run(1, [dom('florist.example', floristGood)]);
    const r2 = run(2, [dom('florist.example', [f('dkim.dns-error', 'unknown'), f('dmarc.stale-destination', 'warn', 'rua=mailto:x@dreamhost.com')])]);
    const doc = buildReport({ current: r2, runs: [r1] });
    assert.deepEqual(doc.resolved.map((r) => [key(r), r.reason]), [['florist.example lockdown.stale-auth auth=dreamhost', 'fixed']]);
  });
});
