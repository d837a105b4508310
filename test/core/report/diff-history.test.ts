// The comparison across nights of DNS trouble, panel failures, ownership moves, `since` and pruned history
// (regressions of the nightly report QA: resolved-lost, wasfailing-forgotten, reseller-move, zone-unreadable,
// since-none, reseller-own, prune-trend).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CheckName, DomainStatus, Severity } from '../../../src/core/model.js';
import { buildReport, type DomainSnapshot, type RunSnapshot, type SnapshotFinding } from '../../../src/core/report/diff.js';
import { renderReport } from '../../../src/core/report/render.js';

function f(rule: string, severity: Severity, subject?: string): SnapshotFinding {
  return { rule, check: rule.split('.')[0] as CheckName, severity, ...(subject ? { subject } : {}), message: `${rule} message` };
}

function dom(domain: string, owner: string, reseller: string | null, findings: SnapshotFinding[]): DomainSnapshot {
  const sev = findings.map((x) => x.severity);
  const status: DomainStatus = sev.includes('fail') ? 'fail' : sev.includes('warn') ? 'warn' : sev.includes('unknown') ? 'unknown' : 'pass';
  return { domain, owner, reseller, status, findings };
}

function run(runId: number, domains: DomainSnapshot[], extra: Partial<RunSnapshot> = {}): RunSnapshot {
  return { runId, status: 'complete', startedAt: new Date(Date.UTC(2026, 0, runId, 3)).toISOString(), domains, ...extra };
}

const key = (i: { domain: string; rule: string; subject?: string | null }) => `${i.domain} ${i.rule}${i.subject ? ` ${i.subject}` : ''}`;

const stale = f('lockdown.stale-auth', 'fail', 'auth=dreamhost');
const lockdownDns = f('lockdown.dns-error', 'unknown');

describe('buildReport: a night of DNS trouble in between', () => {
  test('fixed after an unknown night: resolved (fixed), compared with the last night whose check answered', () => {
    const r1 = run(1, [dom('a.example', 'alice', null, [stale])]);
    const r2 = run(2, [dom('a.example', 'alice', null, [lockdownDns])]);
    const r3 = run(3, [dom('a.example', 'alice', null, [])]);
    const n3 = buildReport({ current: r3, runs: [r1, r2] });
    assert.equal(n3.previousRunId, 2);
    assert.deepEqual(n3.resolved.map((r) => [key(r), r.reason]), [['a.example lockdown.stale-auth auth=dreamhost', 'fixed']]);
    assert.equal(n3.summary.resolved, 1);
    assert.equal(n3.newProblems.length + n3.stillFailing.length + n3.unknown.length, 0);
  });

  test('two unknown nights in a row: the second still says what was failing; fixed on the third: resolved', () => {
    const r1 = run(1, [dom('a.example', 'alice', null, [stale, f('spf.weak-all', 'warn')])]);
    const r2 = run(2, [dom('a.example', 'alice', null, [lockdownDns, f('spf.weak-all', 'warn')])]);
    const r3 = run(3, [dom('a.example', 'alice', null, [lockdownDns, f('spf.weak-all', 'warn')])]);
    const n3 = buildReport({ current: r3, runs: [r1, r2] });
    assert.deepEqual(n3.unknown.map((u) => [u.rule, u.wasFailing]), [
      ['lockdown.dns-error', [{ rule: 'lockdown.stale-auth', severity: 'fail', subject: 'auth=dreamhost' }]],
    ]);
    assert.equal(n3.resolved.length, 0);
    const n4 = buildReport({ current: run(4, [dom('a.example', 'alice', null, [f('spf.weak-all', 'warn')])]), runs: [r1, r2, r3] });
    assert.deepEqual(n4.resolved.map(key), ['a.example lockdown.stale-auth auth=dreamhost']);
    assert.deepEqual(n4.stillFailing.map((s) => [key(s), s.nights]), [['a.example spf.weak-all', 4]]);
  });

  test('back after unknown nights: still failing (severity compared with the last known night), not new', () => {
    const r1 = run(1, [dom('a.example', 'alice', null, [f('lockdown.stale-auth', 'warn', 'auth=dreamhost')])]);
    const r2 = run(2, [dom('a.example', 'alice', null, [lockdownDns])]);
    const n3 = buildReport({ current: run(3, [dom('a.example', 'alice', null, [stale])]), runs: [r1, r2] });
    assert.equal(n3.newProblems.length, 0);
    assert.deepEqual(n3.stillFailing.map((s) => [key(s), s.nights, s.previousSeverity]), [['a.example lockdown.stale-auth auth=dreamhost', 2, 'warn']]);
  });

  test('known absent after the problem, then unknown: nothing is resolved twice', () => {
    const r1 = run(1, [dom('a.example', 'alice', null, [stale])]);
    const r2 = run(2, [dom('a.example', 'alice', null, [])]); // resolved that night
    const r3 = run(3, [dom('a.example', 'alice', null, [lockdownDns])]);
    const n4 = buildReport({ current: run(4, [dom('a.example', 'alice', null, [])]), runs: [r1, r2, r3] });
    assert.equal(n4.resolved.length, 0);
    const n3 = buildReport({ current: r3, runs: [r1, r2] });
    assert.deepEqual(n3.unknown[0].wasFailing, []);
  });

  test('a domain removed after an unknown night: resolved, domain-removed, with its last recorded owner', () => {
    const r1 = run(1, [dom('a.example', 'alice', 'rita', [stale]), dom('b.example', 'bob', null, [])]);
    const r2 = run(2, [dom('a.example', 'alice', 'rita', [lockdownDns]), dom('b.example', 'bob', null, [])]);
    const n3 = buildReport({ current: run(3, [dom('b.example', 'bob', null, [])]), runs: [r1, r2] });
    assert.deepEqual(n3.resolved.map((r) => [key(r), r.reason, r.owner, r.reseller]), [['a.example lockdown.stale-auth auth=dreamhost', 'domain-removed', 'alice', 'rita']]);
    // And only once: the night after, it is gone from the previous run.
    const n4 = buildReport({ current: run(4, [dom('b.example', 'bob', null, [])]), runs: [r1, r2, run(3, [dom('b.example', 'bob', null, [])])] });
    assert.equal(n4.resolved.length, 0);
  });
});

describe('buildReport: a customer moving between resellers', () => {
  const problems = [f('dkim.key-mismatch', 'fail', 'default'), f('dmarc.missing', 'warn')];
  const r1 = run(1, [
    dom('lawyer.example', 'carol', 'rita', problems),
    dom('plumber.example', 'bob', 'rita', [f('mx.stale', 'fail', 'mx.old')]),
    dom('gone.example', 'gina', 'rita', [f('spf.weak-all', 'warn')]),
    dom('dave1.example', 'dave', 'rex', []),
  ]);
  // Night 2: carol is rex's now; gone.example left the server.
  const cur = run(2, [
    dom('lawyer.example', 'carol', 'rex', problems),
    dom('plumber.example', 'bob', 'rita', [f('mx.stale', 'fail', 'mx.old')]),
    dom('dave1.example', 'dave', 'rex', []),
  ]);

  test("the new reseller's part: the moved domain's problems are still failing (2 nights), not new", () => {
    const rex = buildReport({ current: cur, runs: [r1], scope: { reseller: 'rex' } });
    assert.deepEqual(rex.newProblems.map(key), []);
    assert.deepEqual(rex.stillFailing.map((s) => [key(s), s.nights, s.reseller]), [
      ['lawyer.example dkim.key-mismatch default', 2, 'rex'],
      ['lawyer.example dmarc.missing', 2, 'rex'],
    ]);
    assert.equal(rex.resolved.length, 0);
    assert.deepEqual(rex.byCustomer.map((c) => [c.owner, c.domains]), [
      ['carol', ['lawyer.example']],
      ['dave', ['dave1.example']],
    ]);
    // The chart follows tonight's ownership: lawyer.example counts for rex on night 1 too.
    assert.deepEqual(rex.trend.map((t) => [t.total, t.failing]), [
      [2, 1],
      [2, 1],
    ]);
  });

  test("the old reseller's part: the moved domain is not there at all (not resolved, not removed); a removed domain is", () => {
    const rita = buildReport({ current: cur, runs: [r1], scope: { reseller: 'rita' } });
    const named = new Set([...rita.newProblems, ...rita.stillFailing, ...rita.resolved, ...rita.unknown].map((i) => i.domain));
    assert.ok(!named.has('lawyer.example'), JSON.stringify(rita.resolved));
    assert.deepEqual(rita.resolved.map((r) => [key(r), r.reason]), [['gone.example spf.weak-all', 'domain-removed']]);
    assert.deepEqual(rita.stillFailing.map(key), ['plumber.example mx.stale mx.old']);
    assert.deepEqual(rita.byReseller.map((g) => [g.reseller, g.customers]), [['rita', ['bob', 'gina']]]);
    assert.deepEqual(rita.trend.map((t) => t.total), [2, 1]);
    const text = renderReport(rita, { audience: 'rita' }).text;
    assert.doesNotMatch(text, /lawyer\.example/);
  });

  test('the whole-server report is unchanged by the move: still failing, owners as tonight', () => {
    const all = buildReport({ current: cur, runs: [r1] });
    assert.deepEqual(all.newProblems.map(key), []);
    assert.deepEqual(all.resolved.map(key), ['gone.example spf.weak-all']);
    assert.ok(all.stillFailing.filter((s) => s.domain === 'lawyer.example').every((s) => s.reseller === 'rex' && s.nights === 2));
  });

  test('a customer scope follows tonight too', () => {
    const moved = run(3, [dom('lawyer.example', 'dora', 'rex', problems)]);
    const dora = buildReport({ current: moved, runs: [r1, cur], scope: { owner: 'dora' } });
    assert.deepEqual(dora.stillFailing.map((s) => s.nights), [3, 3]);
    const carol = buildReport({ current: moved, runs: [r1, cur], scope: { owner: 'carol' } });
    assert.equal(carol.resolved.length + carol.stillFailing.length + carol.newProblems.length, 0);
  });
});

describe('buildReport: the panel could not read the zone', () => {
  test('a zone never readable: what live DNS gets wrong is shown every night (seen tonight), never counted as new or resolved', () => {
    const nights = [1, 2, 3, 4].map((n) => run(n, [dom('a.example', 'alice', null, [{ ...zoneUnreadable }, f('dmarc.missing', 'warn'), f('mx.stale', 'fail', 'mx.old')])]));
    for (let i = 0; i < nights.length; i++) {
      const r = buildReport({ current: nights[i], runs: nights.slice(0, i) });
      assert.equal(r.newProblems.length + r.stillFailing.length + r.resolved.length, 0);
      assert.deepEqual(r.unknown.map((u) => (u.seenTonight ?? []).map((w) => w.rule).sort()), [['dmarc.missing', 'mx.stale']], `night ${i + 1}`);
      const mail = renderReport(r);
      assert.match(mail.text, /seen tonight, unconfirmed: dmarc\.missing, mx\.stale mx\.old|seen tonight, unconfirmed: mx\.stale mx\.old, dmarc\.missing/);
      assert.match(mail.html, /seen tonight, unconfirmed: /);
    }
  });

  const zoneUnreadable: SnapshotFinding = { rule: 'dns.panel-zone-unreadable', check: 'dns', severity: 'unknown', message: 'x' };
  const r1 = run(1, [dom('a.example', 'alice', null, [f('dkim.weak-key', 'warn', 'dreamhost'), f('spf.stale-term', 'warn', 'include:old.example'), stale])]);

  test('the zone-dependent checks are unknown that night: their problems are not resolved but listed under it', () => {
    // Night 2: the zone is unreadable, so dkim probes fewer selectors and the classifier has no zone traces.
    const r2 = run(2, [dom('a.example', 'alice', null, [zoneUnreadable, stale])]);
    const n2 = buildReport({ current: r2, runs: [r1] });
    assert.deepEqual(n2.resolved.map(key), []);
    assert.deepEqual(n2.stillFailing.map(key), ['a.example lockdown.stale-auth auth=dreamhost']);
    assert.deepEqual(n2.unknown.map((u) => [u.rule, u.wasFailing.map((w) => w.rule).sort()]), [['dns.panel-zone-unreadable', ['dkim.weak-key', 'spf.stale-term']]]);
    // Night 3: the zone is back; the same problems are still failing (3 nights, the unknown one not counted), not new.
    const n3 = buildReport({ current: run(3, r1.domains!), runs: [r1, r2] });
    assert.deepEqual(n3.newProblems.map(key), []);
    assert.deepEqual(n3.stillFailing.map((s) => [key(s), s.nights]).sort(), [
      ['a.example dkim.weak-key dreamhost', 2],
      ['a.example lockdown.stale-auth auth=dreamhost', 3],
      ['a.example spf.stale-term include:old.example', 2],
    ]);
  });

  test('narrowest rule: checks that never read the zone (lockdown, ptr) still count — a fix there is resolved', () => {
    const before = run(1, [dom('a.example', 'alice', null, [...r1.domains![0].findings, f('ptr.listed', 'fail', 'zen.spamhaus.org'), f('dmarc.missing', 'warn'), f('mx.stale', 'fail', 'mx.old')])]);
    const r2 = run(2, [dom('a.example', 'alice', null, [zoneUnreadable, f('dkim.weak-key', 'warn', 'dreamhost')])]);
    const n2 = buildReport({ current: r2, runs: [before] });
    assert.deepEqual(n2.resolved.map(key).sort(), ['a.example lockdown.stale-auth auth=dreamhost', 'a.example ptr.listed zen.spamhaus.org']);
    // dkim.weak-key is reported again that night, but by a check that could not read the zone: listed under the
    // unknown item with the other hidden problems, not counted as still failing.
    assert.deepEqual(n2.stillFailing.map(key), []);
    assert.deepEqual(n2.unknown[0].wasFailing.map((w) => w.rule).sort(), ['dkim.weak-key', 'dmarc.missing', 'mx.stale', 'spf.stale-term']);
  });

  test('a problem reported only on the night the zone was unreadable is neither new then nor resolved the night after', () => {
    // Without the zone the classifier has no previous-host traces: the stale include reads as an unknown term.
    const r2 = run(2, [dom('a.example', 'alice', null, [zoneUnreadable, stale, f('spf.unknown-term', 'warn', 'include:old.example'), f('dkim.weak-key', 'warn', 'dreamhost')])]);
    const n2 = buildReport({ current: r2, runs: [r1] });
    assert.deepEqual(n2.newProblems.map(key), []);
    assert.deepEqual(n2.resolved.map(key), []);
    // Shown under the panel failure, not counted: the one failing before as "was failing", the other as seen tonight.
    assert.deepEqual(n2.unknown.map((u) => [u.rule, u.wasFailing.map((w) => w.rule).sort(), (u.seenTonight ?? []).map((w) => `${w.rule} ${w.subject}`)]), [
      ['dns.panel-zone-unreadable', ['dkim.weak-key', 'spf.stale-term'], ['spf.unknown-term include:old.example']],
    ]);
    const n3 = buildReport({ current: run(3, r1.domains!), runs: [r1, r2] });
    assert.deepEqual(n3.newProblems.map(key), []);
    assert.deepEqual(n3.resolved.map(key), []);
    assert.deepEqual(n3.stillFailing.map((s) => [key(s), s.nights]).sort(), [
      ['a.example dkim.weak-key dreamhost', 2],
      ['a.example lockdown.stale-auth auth=dreamhost', 3],
      ['a.example spf.stale-term include:old.example', 2],
    ]);
  });
});

describe('buildReport: --since before the oldest run', () => {
  const p = f('mx.stale', 'fail', 'mx.old');
  const r1 = run(1, [dom('a.example', 'alice', null, [p])]);
  const r2 = run(2, [dom('a.example', 'alice', null, [p]), dom('b.example', 'bob', null, [])]);
  const cur = run(3, [dom('a.example', 'alice', null, [p]), dom('b.example', 'bob', null, [f('spf.weak-all', 'warn')])]);

  test('compares with the oldest complete run and says so; nothing contradicts the chart', () => {
    const since = new Date(Date.UTC(2020, 0, 1, 23, 59, 59));
    const r = buildReport({ current: cur, runs: [r1, r2], since });
    assert.equal(r.previousRunId, 1);
    assert.equal(r.sinceBeforeOldest, true);
    assert.equal(r.since, since.toISOString());
    assert.deepEqual(r.newProblems.map(key), ['b.example spf.weak-all']);
    assert.deepEqual(r.stillFailing.map((s) => [key(s), s.nights]), [['a.example mx.stale mx.old', 3]]);
    assert.deepEqual(r.trend.map((t) => t.runId), [1, 2, 3]);
    const text = renderReport(r).text;
    assert.doesNotMatch(text, /first complete run|nothing to compare/);
    assert.match(text, /no complete run kept at or before 2020-01-01T23:59:59\.000Z; compared with the oldest kept, run 1 \(2026-01-01T03:00:00\.000Z\)/);
  });

  test('a date that has a run: as before; no history at all: the first run', () => {
    const r = buildReport({ current: cur, runs: [r1, r2], since: new Date(Date.UTC(2026, 0, 1, 12)) });
    assert.deepEqual([r.previousRunId, r.sinceBeforeOldest], [1, false]);
    const first = buildReport({ current: cur, runs: [], since: new Date(Date.UTC(2020, 0, 1)) });
    assert.deepEqual([first.previousRunId, first.sinceBeforeOldest], [null, false]);
    assert.match(renderReport(first).text, /first complete run: nothing to compare with yet/);
  });
});

describe("buildReport: a reseller's own domains", () => {
  test('grouped under the reseller and named as their own', () => {
    const cur = run(1, [dom('ritaown.example', 'rita', 'rita', [f('spf.weak-all', 'warn')]), dom('plumber.example', 'bob', 'rita', [])]);
    const r = buildReport({ current: cur, runs: [], scope: { reseller: 'rita' } });
    assert.deepEqual(r.byReseller.map((g) => [g.reseller, g.customers]), [['rita', ['bob', 'rita']]]);
    const text = renderReport(r, { audience: 'rita' }).text;
    assert.match(text, /ritaown\.example {2}spf\.weak-all {2}— rita \(reseller's own\)/);
    assert.match(text, /^ {4}rita \(own domains\): 1 \/ 0 \/ 0 \/ 0 — 1 domain\(s\)$/m);
  });
});

describe('buildReport: partly pruned runs', () => {
  const p = f('mx.stale', 'fail', 'mx.old');
  const doms = (ps: SnapshotFinding[]) => [dom('a.example', 'alice', null, ps), dom('b.example', 'bob', null, [p]), dom('c.example', 'carol', null, [])];
  // Run 3 was partly pruned: only removed.example's last result is left in it.
  const r3 = run(3, [dom('removed.example', 'rose', null, [p])], { partial: true });
  const r4 = run(4, doms([p]));

  test('left out of the trend and listed as pruned; a streak reaching it is a lower bound', () => {
    const r = buildReport({ current: run(5, doms([p])), runs: [r3, r4] });
    assert.deepEqual(r.trend.map((t) => [t.runId, t.failing, t.total]), [
      [4, 2, 3],
      [5, 2, 3],
    ]);
    assert.deepEqual(r.prunedRuns, [{ runId: 3, startedAt: r3.startedAt }]);
    assert.deepEqual(r.stillFailing.map((s) => [key(s), s.nights, s.nightsAtLeast]), [
      ['a.example mx.stale mx.old', 2, true],
      ['b.example mx.stale mx.old', 2, true],
    ]);
    assert.match(renderReport(r).text, /Not in the chart \(results partly pruned\): run 3\./);
  });

  test('never the previous run; a domain it lacks is not known then (not "removed", not "new" because of it)', () => {
    const r = buildReport({ current: run(5, doms([p])), runs: [r3] });
    assert.equal(r.previousRunId, null);
    assert.equal(r.resolved.length, 0);
    assert.match(renderReport(r).text, /nothing to compare with: no earlier complete run is kept whole/);
    // With a whole run before it, comparisons walk past it.
    const r2 = run(2, doms([p]));
    const n = buildReport({ current: run(5, doms([])), runs: [r2, r3] });
    assert.equal(n.previousRunId, 2);
    assert.deepEqual(n.resolved.map(key), ['a.example mx.stale mx.old']);
    assert.deepEqual(n.stillFailing.map((s) => [key(s), s.nights, s.nightsAtLeast]), [['b.example mx.stale mx.old', 2, true]]);
  });
});

describe('buildReport: the server clock was set back between two runs', () => {
  test('runs are compared in the order they were made (by id), not by their start times', () => {
    const r1 = run(1, [dom('a.example', 'alice', null, [stale])]);
    // Run 1 was stamped 30 min in the future (a fast clock NTP corrected before run 2).
    const early = { ...r1, startedAt: new Date(Date.parse(r1.startedAt) + 30 * 60_000 + 86_400_000).toISOString() };
    const r2 = run(2, [dom('a.example', 'alice', null, [stale])]);
    const n2 = buildReport({ current: r2, runs: [early] });
    assert.equal(n2.previousRunId, 1);
    assert.deepEqual(n2.newProblems.map(key), []);
    assert.deepEqual(n2.stillFailing.map((s) => [key(s), s.nights]), [['a.example lockdown.stale-auth auth=dreamhost', 2]]);
    assert.deepEqual(n2.trend.map((p) => p.runId), [1, 2]);
  });
});

describe('buildReport: --since older than the runs loaded (QA: since-streak-gap)', () => {
  const p = f('mx.stale', 'fail', 'mx.old');
  // Run 1 had the problem, run 2 (fixed that night) was not loaded: the loader passed runs 3 and 4 (its depth) and
  // run 1 (the one `since` asks for), saying one complete run between run 1 and run 3 was not loaded.
  const r1 = run(1, [dom('a.example', 'alice', null, [p])], { runsNotLoadedAfter: 1 });
  const r3 = run(3, [dom('a.example', 'alice', null, [p])]);
  const r4 = run(4, [dom('a.example', 'alice', null, [p])]);
  const cur = run(5, [dom('a.example', 'alice', null, [p])]);

  test('a streak stops at the runs not loaded: "at least" the nights loaded, never across the gap', () => {
    for (const since of [new Date(Date.UTC(2020, 0, 1)), new Date(Date.UTC(2026, 0, 1, 12))]) {
      const r = buildReport({ current: cur, runs: [r1, r3, r4], since, historyTruncated: true });
      assert.equal(r.previousRunId, 1);
      assert.deepEqual(r.stillFailing.map((s) => [key(s), s.nights, s.nightsAtLeast, s.since]), [['a.example mx.stale mx.old', 3, true, r3.startedAt]]);
      assert.deepEqual(r.historyGap, { runs: 1, olderRunId: 1, olderStartedAt: r1.startedAt, newerRunId: 3, newerStartedAt: r3.startedAt });
      // The chart is nights in a row: the run beyond the gap is not a point of it.
      assert.deepEqual(r.trend.map((t) => t.runId), [3, 4, 5]);
      const text = renderReport(r).text;
      assert.match(text, /at least 3 nights/);
      assert.doesNotMatch(text, /at least 4 nights/);
      assert.match(text, /1 complete run between run 1 \(2026-01-01T03:00:00\.000Z\) and run 3 \(2026-01-03T03:00:00\.000Z\) was not loaded: streaks count from run 3 on/);
    }
  });

  test('no gap: the streak reaches the oldest run, exact unless older runs exist; historyGap null', () => {
    const r2 = run(2, [dom('a.example', 'alice', null, [])]);
    const whole = buildReport({ current: cur, runs: [{ ...r1, runsNotLoadedAfter: 0 }, r2, r3, r4], since: new Date(Date.UTC(2020, 0, 1)) });
    assert.equal(whole.historyGap, null);
    assert.deepEqual(whole.stillFailing.map((s) => [s.nights, s.nightsAtLeast]), [[3, undefined]]);
    const all = buildReport({ current: cur, runs: [{ ...r1, runsNotLoadedAfter: undefined }, r3, r4] });
    assert.deepEqual(all.stillFailing.map((s) => [s.nights, s.nightsAtLeast, s.since]), [[4, undefined, r1.startedAt]]);
    assert.doesNotMatch(renderReport(all).text, /not loaded/);
  });
});

describe('buildReport: problems hidden by an unreadable zone do not make a domain failing (QA: masked-failing)', () => {
  const zone: SnapshotFinding = { rule: 'dns.panel-zone-unreadable', check: 'dns', severity: 'unknown', message: 'x' };
  const settings: SnapshotFinding = { rule: 'dns.panel-settings-unreadable', check: 'dns', severity: 'unknown', message: 'x' };
  // dom() gives each domain the status its audit gives it: fail (a hidden fail is still a fail finding).
  const doms = () => [
    dom('a.example', 'alice', null, [zone, f('mx.stale', 'fail', 'mx.old')]), // only hidden fails: unknown
    dom('b.example', 'bob', null, [zone, f('dkim.key-mismatch', 'fail', 'default'), f('lockdown.missing', 'warn')]), // warn
    dom('c.example', 'carol', null, [zone, f('mx.stale', 'fail', 'mx.old'), stale]), // lockdown's fail stands: fail
    dom('d.example', 'dave', null, [settings, stale]), // every check hidden: unknown
  ];

  test('header, groups and trend: the unmasked findings decide', () => {
    const r = buildReport({ current: run(2, doms()), runs: [run(1, doms())] });
    assert.deepEqual(r.stillFailing.map(key), ['c.example lockdown.stale-auth auth=dreamhost', 'b.example lockdown.missing']);
    assert.deepEqual([r.summary.failingDomains, r.summary.warningDomains, r.summary.unknownDomains], [1, 1, 2]);
    assert.deepEqual(r.trend.map((t) => [t.failing, t.warning, t.unknown, t.total]), [
      [1, 1, 2, 4],
      [1, 1, 2, 4],
    ]);
    assert.deepEqual(r.byCustomer.map((c) => [c.owner, c.counts.failingDomains]), [
      ['alice', 0],
      ['bob', 0],
      ['carol', 1],
      ['dave', 0],
    ]);
    assert.equal(r.byReseller[0].counts.failingDomains, 1);
    const text = renderReport(r).text;
    assert.match(text, /4 domains: 1 failing, 1 with warnings, 2 unknown\./);
    assert.match(text, /Failing domains per night \(oldest first\): 1\? 1\?/);
  });
});

describe('buildReport: a night of DNS trouble in the trend (QA: trend-unknown-zero)', () => {
  const ok = () => [dom('a.example', 'alice', null, [f('mx.stale', 'fail', 'mx.old')]), dom('b.example', 'bob', null, [f('spf.missing', 'fail')]), dom('c.example', 'carol', null, [])];
  // Night 2: DNS trouble — every check that asks DNS is unknown.
  const trouble = [
    dom('a.example', 'alice', null, [f('mx.dns-error', 'unknown')]),
    dom('b.example', 'bob', null, [f('spf.dns-error', 'unknown')]),
    dom('c.example', 'carol', null, [f('spf.dns-error', 'unknown')]),
  ];

  test('is shown as unknown, not as 0 failing: chart, text and JSON agree', () => {
    const r = buildReport({ current: run(3, ok()), runs: [run(1, ok()), run(2, trouble)] });
    assert.deepEqual(r.trend.map((t) => [t.failing, t.unknown, t.total]), [
      [2, 0, 3],
      [0, 3, 3],
      [2, 0, 3],
    ]);
    const mail = renderReport(r);
    assert.match(mail.text, /^Failing domains per night \(oldest first\): 2 0\? 2$/m);
    assert.match(mail.text, /^Unknown domains per night \(DNS trouble: "\?" above — failing not known for them\): 0 3 0$/m);
    // The chart: night 2's bar is all unknown (grey), as tall as the 3 domains it stands for, and says so.
    const seg = (cls: string) => [...mail.svg.matchAll(new RegExp(`<rect class="${cls}" x="[\\d.]+" y="[\\d.]+" width="[\\d.]+" height="([\\d.]+)"`, 'g'))].map((m) => Number(m[1]));
    const failing = seg('bar');
    const unknown = seg('bar-unknown');
    assert.equal(failing.length, 3);
    assert.equal(failing[1], 0);
    assert.equal(unknown.length, 1);
    assert.equal(unknown[0], (failing[0] * 3) / 2);
    assert.match(mail.svg, /run 2, 2026-01-02: 0 failing, 3 unknown \(DNS trouble\) of 3/);
    assert.match(mail.svg, /unknown \(DNS trouble\)/);
  });

  test('no unknown nights: no unknown line, no marks', () => {
    const r = buildReport({ current: run(2, ok()), runs: [run(1, ok())] });
    const mail = renderReport(r);
    assert.match(mail.text, /^Failing domains per night \(oldest first\): 2 2$/m);
    assert.doesNotMatch(mail.text, /Unknown domains per night/);
    assert.doesNotMatch(mail.svg, /bar-unknown/);
  });
});
