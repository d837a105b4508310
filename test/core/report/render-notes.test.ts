// Notes the report computes and the mail must show (review R4, item 4): a new problem whose check could not tell on
// the run compared with (NewProblem.previouslyUnknown), and a still-failing problem whose severity changed
// (StillFailing.previousSeverity).
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
  return { domain, owner: 'alice', reseller: null, status, findings };
}

function run(runId: number, domains: DomainSnapshot[]): RunSnapshot {
  return { runId, status: 'complete', startedAt: new Date(Date.UTC(2026, 0, runId, 3)).toISOString(), domains };
}

/** The report line of one item (text mail), by its rule. */
function line(text: string, rule: string): string {
  const l = text.split('\n').find((x) => x.startsWith('  [') && x.includes(`  ${rule}`));
  assert.ok(l, `a line for ${rule}`);
  return l;
}

describe('renderReport: notes on new and still-failing problems', () => {
  test('a new problem whose check was unknown on the run compared with says it may be older (text and HTML)', () => {
    // The reviewer's scenario A: absent night 1, spf unknown night 2, spf.missing night 3.
    const r1 = run(1, [dom('a.example', [])]);
    const r2 = run(2, [dom('a.example', [f('spf.dns-error', 'unknown')])]);
    const r3 = run(3, [dom('a.example', [f('spf.missing', 'fail')])]);
    const doc = buildReport({ current: r3, runs: [r1, r2] });
    assert.equal(doc.newProblems[0]?.previouslyUnknown, true);
    const out = renderReport(doc, { baseUrl: null, serverName: 's' });
    assert.match(line(out.text, 'spf.missing'), /could not tell \(DNS trouble\) on the run compared with: it may be older/);
    assert.match(out.html, /could not tell \(DNS trouble\) on the run compared with: it may be older/);
  });

  test('a new problem after a night its check answered carries no such note', () => {
    const r1 = run(1, [dom('a.example', [])]);
    const r2 = run(2, [dom('a.example', [f('spf.missing', 'fail')])]);
    const out = renderReport(buildReport({ current: r2, runs: [r1] }), { baseUrl: null, serverName: 's' });
    assert.doesNotMatch(line(out.text, 'spf.missing'), /DNS trouble|may be older/);
  });

  test('a still-failing problem whose severity changed says what it was', () => {
    const r1 = run(1, [dom('a.example', [f('lockdown.stale-auth', 'warn', 'auth=dreamhost')])]);
    const r2 = run(2, [dom('a.example', [f('lockdown.stale-auth', 'fail', 'auth=dreamhost')])]);
    const doc = buildReport({ current: r2, runs: [r1] });
    assert.equal(doc.stillFailing[0]?.previousSeverity, 'warn');
    const out = renderReport(doc, { baseUrl: null, serverName: 's' });
    assert.match(line(out.text, 'lockdown.stale-auth'), /; 2 nights, was warn on the previous run$/);
    assert.match(out.html, /2 nights, was warn on the previous run/);
  });

  test('the same severity: the nights alone', () => {
    const r1 = run(1, [dom('a.example', [f('lockdown.stale-auth', 'fail', 'auth=dreamhost')])]);
    const r2 = run(2, [dom('a.example', [f('lockdown.stale-auth', 'fail', 'auth=dreamhost')])]);
    const out = renderReport(buildReport({ current: r2, runs: [r1] }), { baseUrl: null, serverName: 's' });
    assert.match(line(out.text, 'lockdown.stale-auth'), /; 2 nights$/);
  });
});
