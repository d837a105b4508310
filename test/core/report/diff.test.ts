import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CheckName, DomainStatus, Severity } from '../../../src/core/model.js';
import { buildReport, pickPrevious, ReportInputError, type DomainSnapshot, type RunSnapshot, type SnapshotFinding } from '../../../src/core/report/diff.js';

function f(rule: string, severity: Severity, subject?: string): SnapshotFinding {
  return { rule, check: rule.split('.')[0] as CheckName, severity, ...(subject ? { subject } : {}), message: `${rule} message` };
}

const OWNERS: Record<string, [string, string | null]> = {
  'a.example': ['alice', null],
  'b.example': ['bob', 'rita'],
  'c.example': ['carol', 'rita'],
  'd.example': ['dave', 'sam'],
};

function dom(domain: string, findings: SnapshotFinding[]): DomainSnapshot {
  const sev = findings.map((x) => x.severity);
  const status: DomainStatus = sev.includes('fail') ? 'fail' : sev.includes('warn') ? 'warn' : sev.includes('unknown') ? 'unknown' : 'pass';
  const [owner, reseller] = OWNERS[domain] ?? ['zed', null];
  return { domain, owner, reseller, status, findings };
}

let day = 0;
function run(runId: number, status: RunSnapshot['status'], domains?: DomainSnapshot[]): RunSnapshot {
  day++;
  return { runId, status, startedAt: new Date(Date.UTC(2026, 0, runId, 3)).toISOString(), ...(domains ? { domains } : {}) };
}

const key = (i: { domain: string; rule: string; subject?: string | null }) => `${i.domain} ${i.rule}${i.subject ? ` ${i.subject}` : ''}`;

describe('buildReport', () => {
  test('first complete run: everything is new, no previous run', () => {
    const cur = run(1, 'complete', [dom('a.example', [f('spf.server-not-authorized', 'fail'), f('dkim.ok', 'pass')]), dom('b.example', [])]);
    const r = buildReport({ current: cur, runs: [] });
    assert.equal(r.previousRunId, null);
    assert.deepEqual(r.newProblems.map(key), ['a.example spf.server-not-authorized']);
    assert.equal(r.stillFailing.length, 0);
    assert.equal(r.resolved.length, 0);
    assert.deepEqual(r.trend.map((p) => p.failing), [1]);
    assert.equal(r.summary.domains, 2);
    const item = r.newProblems[0];
    assert.deepEqual(
      { domain: item.domain, rule: item.rule, severity: item.severity, owner: item.owner, reseller: item.reseller },
      { domain: 'a.example', rule: 'spf.server-not-authorized', severity: 'fail', owner: 'alice', reseller: null },
    );
  });

  test('new, resolved and still failing with nights; keyed by (domain, rule, subject)', () => {
    const r1 = run(1, 'complete', [
      dom('a.example', [f('spf.stale-term', 'warn', 'include:old.example'), f('mx.stale', 'fail', 'mx.old.example')]),
      dom('b.example', [f('dkim.key-mismatch', 'fail', 'default')]),
    ]);
    const r2 = run(2, 'complete', [
      dom('a.example', [f('spf.stale-term', 'warn', 'include:old.example'), f('mx.stale', 'fail', 'mx.old.example')]),
      dom('b.example', [f('dkim.key-mismatch', 'fail', 'default')]),
    ]);
    const r3 = run(3, 'complete', [
      // spf.stale-term with another subject is a different problem; mx.stale fixed.
      dom('a.example', [f('spf.stale-term', 'warn', 'include:old.example'), f('spf.stale-term', 'warn', 'include:other.example')]),
      dom('b.example', [f('dkim.key-mismatch', 'fail', 'default')]),
      dom('c.example', [f('dmarc.missing', 'warn'), f('dkim.info', 'info')]),
    ]);
    const r = buildReport({ current: r3, runs: [r1, r2] });
    assert.equal(r.previousRunId, 2);
    assert.deepEqual(r.newProblems.map(key).sort(), ['a.example spf.stale-term include:other.example', 'c.example dmarc.missing']);
    assert.deepEqual(r.resolved.map(key), ['a.example mx.stale mx.old.example']);
    assert.equal(r.resolved[0].reason, 'fixed');
    assert.equal(r.resolved[0].severity, 'fail');
    const nights = Object.fromEntries(r.stillFailing.map((s) => [key(s), s.nights]));
    assert.deepEqual(nights, { 'b.example dkim.key-mismatch default': 3, 'a.example spf.stale-term include:old.example': 3 });
    assert.equal(r.stillFailing.find((s) => s.domain === 'b.example')?.since, r1.startedAt);
    // worst first
    assert.equal(r.stillFailing[0].severity, 'fail');
    assert.deepEqual(r.trend.map((p) => [p.runId, p.failing]), [
      [1, 2],
      [2, 2],
      [3, 1],
    ]);
  });

  test('a streak broken by a night without the problem restarts', () => {
    const p = [f('dkim.key-mismatch', 'fail', 'default')];
    const runs = [run(1, 'complete', [dom('a.example', p)]), run(2, 'complete', [dom('a.example', [])]), run(3, 'complete', [dom('a.example', p)])];
    const r = buildReport({ current: run(4, 'complete', [dom('a.example', p)]), runs });
    assert.equal(r.stillFailing[0].nights, 2);
  });

  test('unknown is not a failure: not new, not resolved, and does not break a streak', () => {
    const p = f('spf.server-not-authorized', 'fail');
    const dnsTrouble = f('spf.lookup-failed', 'unknown');
    const r1 = run(1, 'complete', [dom('a.example', [p]), dom('b.example', [])]);
    const r2 = run(2, 'complete', [dom('a.example', [dnsTrouble]), dom('b.example', [f('dmarc.lookup', 'unknown')])]);
    // Night 2: a's SPF problem is hidden by DNS trouble → neither resolved nor still failing; listed under unknown.
    const n2 = buildReport({ current: r2, runs: [r1] });
    assert.equal(n2.resolved.length, 0);
    assert.equal(n2.newProblems.length, 0);
    assert.equal(n2.stillFailing.length, 0);
    assert.deepEqual(n2.unknown.map(key).sort(), ['a.example spf.lookup-failed', 'b.example dmarc.lookup']);
    assert.deepEqual(n2.unknown.find((u) => u.domain === 'a.example')?.wasFailing, [{ rule: 'spf.server-not-authorized', severity: 'fail', subject: null }]);
    assert.equal(n2.summary.failingDomains, 0);
    assert.equal(n2.summary.unknownDomains, 2);
    // Night 3: it's back → still failing (not new), nights count the known nights only.
    const n3 = buildReport({ current: run(3, 'complete', [dom('a.example', [p]), dom('b.example', [])]), runs: [r1, r2] });
    assert.equal(n3.newProblems.length, 0);
    assert.deepEqual(n3.stillFailing.map((s) => [key(s), s.nights]), [['a.example spf.server-not-authorized', 2]]);
  });

  test('a problem after an unknown night with no earlier record is new, flagged previouslyUnknown', () => {
    const r1 = run(1, 'complete', [dom('a.example', [f('spf.lookup-failed', 'unknown')])]);
    const r = buildReport({ current: run(2, 'complete', [dom('a.example', [f('spf.server-not-authorized', 'fail')])]), runs: [r1] });
    assert.equal(r.newProblems.length, 1);
    assert.equal(r.newProblems[0].previouslyUnknown, true);
  });

  test('panel settings unreadable hides every check of the domain', () => {
    const r1 = run(1, 'complete', [dom('a.example', [f('dkim.key-mismatch', 'fail', 'default'), f('spf.stale-term', 'warn', 'mx')])]);
    const r2 = run(2, 'complete', [dom('a.example', [{ rule: 'dns.panel-settings-unreadable', check: 'dns', severity: 'unknown', message: 'x' }])]);
    const r = buildReport({ current: r2, runs: [r1] });
    assert.equal(r.resolved.length, 0);
    assert.equal(r.unknown.length, 1);
    assert.equal(r.unknown[0].wasFailing.length, 2);
  });

  test('previous = last complete run: interrupted and running runs are skipped', () => {
    const p = f('dkim.key-mismatch', 'fail', 'default');
    const q = f('mx.stale', 'fail', 'mx.old');
    const r1 = run(1, 'complete', [dom('a.example', [p]), dom('b.example', [q])]);
    // The interrupted run audited only a.example and found it clean — it must not count.
    const r2 = run(2, 'interrupted', [dom('a.example', [])]);
    const r3 = run(3, 'running');
    const r4 = run(4, 'cancelled');
    const cur = run(5, 'complete', [dom('a.example', [p]), dom('b.example', [q])]);
    const r = buildReport({ current: cur, runs: [r3, r1, r4, r2] });
    assert.equal(r.previousRunId, 1);
    assert.deepEqual(r.skippedRuns.map((s) => [s.runId, s.status]), [
      [2, 'interrupted'],
      [3, 'running'],
      [4, 'cancelled'],
    ]);
    assert.equal(r.newProblems.length, 0);
    assert.equal(r.resolved.length, 0);
    assert.deepEqual(r.stillFailing.map((s) => s.nights), [2, 2]);
    assert.deepEqual(r.trend.map((t) => t.runId), [1, 5]);
  });

  test('an interrupted run is never reported', () => {
    assert.throws(() => buildReport({ current: run(9, 'interrupted', []), runs: [] }), ReportInputError);
  });

  test('domain removed from the server: resolved with reason domain-removed', () => {
    const r1 = run(1, 'complete', [dom('a.example', [f('mx.stale', 'fail', 'mx.old')]), dom('b.example', [])]);
    const r = buildReport({ current: run(2, 'complete', [dom('b.example', [])]), runs: [r1] });
    assert.deepEqual(r.resolved.map((x) => [x.domain, x.reason]), [['a.example', 'domain-removed']]);
  });

  test('severity change keeps the streak and notes the previous severity', () => {
    const r1 = run(1, 'complete', [dom('a.example', [f('spf.weak-all', 'warn')])]);
    const r = buildReport({ current: run(2, 'complete', [dom('a.example', [f('spf.weak-all', 'fail')])]), runs: [r1] });
    assert.equal(r.stillFailing[0].nights, 2);
    assert.equal(r.stillFailing[0].previousSeverity, 'warn');
  });

  test('since DATE compares with the last complete run started at or before it', () => {
    const p = f('mx.stale', 'fail', 'mx.old');
    const r1 = run(1, 'complete', [dom('a.example', [])]);
    const r2 = run(2, 'complete', [dom('a.example', [p])]);
    const r3 = run(3, 'complete', [dom('a.example', [p])]);
    const cur = run(4, 'complete', [dom('a.example', [p])]);
    const since = new Date(Date.UTC(2026, 0, 1, 12));
    assert.equal(pickPrevious(cur, [r1, r2, r3], since)?.runId, 1);
    const r = buildReport({ current: cur, runs: [r1, r2, r3], since });
    assert.equal(r.previousRunId, 1);
    assert.deepEqual(r.newProblems.map(key), ['a.example mx.stale mx.old']);
  });

  test('groups per reseller and per customer, and a reseller scope', () => {
    const r1 = run(1, 'complete', [dom('a.example', [f('mx.stale', 'fail', 'x')]), dom('b.example', [f('dkim.key-mismatch', 'fail', 'default')])]);
    const cur = run(2, 'complete', [
      dom('a.example', []),
      dom('b.example', [f('dkim.key-mismatch', 'fail', 'default')]),
      dom('c.example', [f('dmarc.missing', 'warn'), f('spf.lookup', 'unknown')]),
      dom('d.example', [f('spf.weak-all', 'warn')]),
    ]);
    const r = buildReport({ current: cur, runs: [r1] });
    assert.deepEqual(
      r.byReseller.map((g) => [g.reseller, g.customers, g.counts.newProblems, g.counts.resolved, g.counts.stillFailing, g.counts.unknown]),
      [
        [null, ['alice'], 0, 1, 0, 0],
        ['rita', ['bob', 'carol'], 1, 0, 1, 1],
        ['sam', ['dave'], 1, 0, 0, 0],
      ],
    );
    assert.deepEqual(
      r.byCustomer.map((c) => [c.owner, c.domains]),
      [
        ['alice', ['a.example']],
        ['bob', ['b.example']],
        ['carol', ['c.example']],
        ['dave', ['d.example']],
      ],
    );
    const rita = buildReport({ current: cur, runs: [r1], scope: { reseller: 'rita' } });
    const domains = new Set([...rita.newProblems, ...rita.stillFailing, ...rita.resolved, ...rita.unknown].map((i) => i.domain));
    assert.deepEqual([...domains].sort(), ['b.example', 'c.example']);
    assert.equal(rita.summary.domains, 2);
    assert.deepEqual(rita.scope, { reseller: 'rita' });
    assert.deepEqual(rita.trend.map((t) => t.total), [1, 2]);
  });

  test('trend is capped at 30 points, this run last; truncated history marks nights as a lower bound', () => {
    const p = f('mx.stale', 'fail', 'x');
    const runs: RunSnapshot[] = [];
    for (let i = 1; i <= 40; i++) runs.push(run(i, 'complete', [dom('a.example', [p])]));
    const cur = run(41, 'complete', [dom('a.example', [p])]);
    const r = buildReport({ current: cur, runs, historyTruncated: true });
    assert.equal(r.trend.length, 30);
    assert.equal(r.trend[29].runId, 41);
    assert.equal(r.trend[0].runId, 12);
    assert.equal(r.stillFailing[0].nights, 41);
    assert.equal(r.stillFailing[0].nightsAtLeast, true);
  });
});
