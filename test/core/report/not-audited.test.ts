// The first nightly report after the panels' domain names went through the one validator (src/adapters/panels/
// listed.ts): a name the panel lists that is not a domain name (a wildcard "*.shop.example", a name with a space) is
// no longer audited, and an IDN listed before in its Unicode spelling is now audited under its A-label. QA: the report
// called every earlier problem of those domains "resolved — domain no longer on the server", which an admin reads as
// fixed or gone. Now: no longer audited (and why), never resolved; the same domain under its canonical spelling is the
// same domain. A domain the panel really no longer lists is resolved as removed, as before.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CheckName, DomainStatus, Severity } from '../../../src/core/model.js';
import { buildReport, type DomainSnapshot, type RunSnapshot, type SnapshotFinding } from '../../../src/core/report/diff.js';
import { renderHtml, renderText, reportSubject } from '../../../src/core/report/render.js';

function f(rule: string, severity: Severity, subject?: string): SnapshotFinding {
  return { rule, check: rule.split('.')[0] as CheckName, severity, ...(subject ? { subject } : {}), message: `${rule} message` };
}

function dom(domain: string, owner: string, findings: SnapshotFinding[], reseller: string | null = null): DomainSnapshot {
  const sev = findings.map((x) => x.severity);
  const status: DomainStatus = sev.includes('fail') ? 'fail' : sev.includes('warn') ? 'warn' : 'pass';
  return { domain, owner, reseller, status, findings };
}

function run(runId: number, domains: DomainSnapshot[]): RunSnapshot {
  return { runId, status: 'complete', startedAt: new Date(Date.UTC(2026, 0, runId, 3)).toISOString(), domains };
}

const key = (i: { domain: string; rule: string; subject?: string | null }) => `${i.domain} ${i.rule}${i.subject ? ` ${i.subject}` : ''}`;

const WILD = '*.shop.example';
const SPF = f('spf.missing', 'fail');
const DMARC = f('dmarc.policy-none', 'warn');

/** Night 1 as a version before the validator recorded it; night 2 as the panel's adapters list the same server now. */
function upgradeNights(): { before: RunSnapshot; after: RunSnapshot } {
  const before = run(1, [
    dom('a.example', 'alice', [SPF]),
    dom(WILD, 'alice', [SPF, DMARC], 'rita'),
    dom('bücher.example', 'bob', [DMARC]),
    dom('gone.example', 'carol', [SPF]),
  ]);
  const after = run(2, [dom('a.example', 'alice', [SPF]), dom('xn--bcher-kva.example', 'bob', [DMARC])]);
  return { before, after };
}

describe('a domain no longer audited is not "resolved"', () => {
  test('a name that is not a domain name: its problems are listed as no longer audited, with the validator’s reason', () => {
    const { before, after } = upgradeNights();
    const r = buildReport({ current: after, runs: [before] });
    assert.deepEqual(r.resolved.map((i) => [key(i), i.reason]), [['gone.example spf.missing', 'domain-removed']]);
    assert.deepEqual(
      (r.notAudited ?? []).map((i) => [key(i), i.why, i.owner, i.reseller]),
      [
        [`${WILD} spf.missing`, 'invalid-name', 'alice', 'rita'],
        [`${WILD} dmarc.policy-none`, 'invalid-name', 'alice', 'rita'],
      ],
    );
    assert.match(r.notAudited![0].reason, /characters not allowed/);
    assert.equal(r.summary.resolved, 1);
    assert.equal(r.summary.notAudited, 2);
    // Counted nowhere else: not new, not still failing, not in a customer's resolved count.
    assert.deepEqual(r.newProblems.map(key), []);
    assert.equal(r.byCustomer.reduce((n, g) => n + g.counts.resolved, 0), 1);
  });

  test('an IDN recorded in its Unicode spelling is the same domain under its A-label: still failing, not removed and new', () => {
    const { before, after } = upgradeNights();
    const r = buildReport({ current: after, runs: [before] });
    assert.deepEqual(r.stillFailing.map((i) => [key(i), i.nights]), [
      ['a.example spf.missing', 2],
      ['xn--bcher-kva.example dmarc.policy-none', 2],
    ]);
    assert.ok(!r.resolved.some((i) => i.domain === 'bücher.example'));
  });

  test('listed once: the night after, nothing more is said of it (as of a removed domain)', () => {
    const { before, after } = upgradeNights();
    const third = run(3, after.domains!);
    const r = buildReport({ current: third, runs: [before, after] });
    assert.deepEqual(r.notAudited, []);
    assert.deepEqual(r.resolved, []);
  });

  test('a reseller’s part lists its customer’s name no longer audited (owner as last recorded)', () => {
    const { before, after } = upgradeNights();
    const rita = buildReport({ current: after, runs: [before], scope: { reseller: 'rita' } });
    assert.deepEqual((rita.notAudited ?? []).map(key), [`${WILD} spf.missing`, `${WILD} dmarc.policy-none`]);
    const alice = buildReport({ current: after, runs: [before], scope: { owner: 'carol' } });
    assert.deepEqual(alice.notAudited, []);
  });

  test('the mail: a section of its own with why, not linked; the subject counts it apart from "resolved"', () => {
    const { before, after } = upgradeNights();
    const doc = buildReport({ current: after, runs: [before] });
    const opts = { baseUrl: 'https://panel.example' };
    assert.match(reportSubject(doc, opts), /1 resolved, 2 still failing, 2 no longer audited$/);
    const text = renderText(doc, opts);
    assert.match(text, /\nNo longer audited \(not counted as resolved\) \(2\)\n/);
    assert.match(text, /\[fail\] \*\.shop\.example {2}spf\.missing {2}— alice \/ rita; no longer audited: not a valid domain name \(contains characters not allowed in a domain name\)/);
    assert.match(text, /not checked, not fixed\. If the panel still lists the name, correct or remove it there/);
    assert.doesNotMatch(text, /https:\/\/panel\.example\/domains\/[^\n]*shop/, 'no link to a page that does not exist');
    // Resolved lists only the domain the panel no longer lists.
    const resolved = text.slice(text.indexOf('\nResolved ('), text.indexOf('\nNo longer audited'));
    assert.match(resolved, /gone\.example/);
    assert.doesNotMatch(resolved, /shop\.example/);
    const html = renderHtml(doc, opts);
    assert.match(html, /<h2 style="font-size:16px" id="notAudited">No longer audited \(not counted as resolved\) \(2\)<\/h2>/);
    assert.doesNotMatch(html, /href="[^"]*shop\.example/);
  });

  test('a night without such names: no section, the subject as before', () => {
    const r1 = run(1, [dom('a.example', 'alice', [SPF]), dom('gone.example', 'carol', [SPF])]);
    const doc = buildReport({ current: run(2, [dom('a.example', 'alice', [SPF])]), runs: [r1] });
    assert.deepEqual(doc.notAudited, []);
    assert.doesNotMatch(renderText(doc), /No longer audited/);
    assert.equal(reportSubject(doc), 'mailhealth nightly report: 0 new problems, 1 resolved, 1 still failing');
  });

  test('a report saved by an earlier version (no notAudited) renders as before', () => {
    const { before, after } = upgradeNights();
    const doc = buildReport({ current: after, runs: [before] });
    const { notAudited: _n, ...old } = doc;
    const { notAudited: _s, ...summary } = old.summary;
    const earlier = { ...old, summary };
    assert.doesNotMatch(renderText(earlier), /No longer audited/);
    assert.doesNotMatch(reportSubject(earlier), /no longer audited/);
  });
});
