// Reports across a change of checks (QA h2 item 6): the run compared with was made by another mailhealth (an upgrade):
// the report says so once, and a problem gone while the records it quoted are unchanged is "no longer reported", never
// "fixed"; one whose records changed is fixed; one the records cannot tell about is worded neutrally.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CheckName, Severity } from '../../../src/core/model.js';
import { buildReport, recordsVerdict, type DomainSnapshot, type Producer, type RunSnapshot, type SnapshotFinding } from '../../../src/core/report/diff.js';
import { renderHtml, renderText, reportSubject, resolvedText, versionChangeText } from '../../../src/core/report/render.js';

const OLD: Producer = { version: '0.0.9', checks: 'sha256:0000000000000000' };
const NEW: Producer = { version: '0.1.0', checks: 'sha256:1111111111111111' };

const KEY_LINE = 'dreamhost._domainkey.florist.example 3600 TXT "v=DKIM1; k=rsa; p=MIGf"';
const LIVE_KEY = '"v=DKIM1; k=rsa; p=MIGf"';

function f(rule: string, severity: Severity, subject: string | null, panel: string[] = [], live: string[] = []): SnapshotFinding {
  return { rule, check: rule.split('.')[0] as CheckName, severity, subject, message: `${rule} message`, evidence: { panel, live } };
}

/** A domain whose checks quoted `records` (per check) that night, besides its problems' own lines. */
function dom(domain: string, findings: SnapshotFinding[], records: DomainSnapshot['records'] = {}): DomainSnapshot {
  const sev = findings.map((x) => x.severity);
  return { domain, owner: 'alice', reseller: null, status: sev.includes('fail') ? 'fail' : sev.includes('warn') ? 'warn' : 'pass', findings, records };
}

function run(runId: number, producer: Producer | null | undefined, domains: DomainSnapshot[]): RunSnapshot {
  return { runId, status: 'complete', startedAt: new Date(Date.UTC(2026, 0, runId, 3)).toISOString(), domains, ...(producer !== undefined ? { producer } : {}) };
}

const dkimRecords = (panel: string[], live: string[]) => ({ dkim: { panel, live } });

describe('recordsVerdict', () => {
  test('every line quoted still quoted: unchanged (a TTL aside)', () => {
    assert.equal(recordsVerdict({ panel: [KEY_LINE], live: [LIVE_KEY] }, { panel: ['other 3600 TXT "x"', KEY_LINE], live: [LIVE_KEY] }), 'unchanged');
    assert.equal(recordsVerdict({ panel: [KEY_LINE] }, { panel: [KEY_LINE.replace(' 3600 ', ' 300 ')], live: [] }), 'unchanged');
  });
  test('the same name and type holding another value, or added where there was none: changed', () => {
    assert.equal(recordsVerdict({ panel: [KEY_LINE], live: [LIVE_KEY] }, { panel: [KEY_LINE.replace('MIGf', 'MIIB')], live: ['"v=DKIM1; k=rsa; p=MIIB"'] }), 'changed');
    assert.equal(recordsVerdict({ panel: ["_dmarc.d.example TXT: none in the panel's zone"] }, { panel: ['_dmarc.d.example 3600 TXT "v=DMARC1; p=none"'], live: [] }), 'changed');
    assert.equal(recordsVerdict({ panel: ['_dmarc.d.example 3600 TXT "v=DMARC1; p=none"'] }, { panel: ["_dmarc.d.example TXT: none in the panel's zone"], live: [] }), 'changed');
  });
  test('nothing to tell by: undefined', () => {
    // The other run's check quoted nothing about that record.
    assert.equal(recordsVerdict({ panel: [KEY_LINE] }, { panel: ['default._domainkey.florist.example 3600 TXT "v=DKIM1; p=AAAA"'], live: [] }), undefined);
    // A live answer gone (live lines carry no name: which record it was cannot be told).
    assert.equal(recordsVerdict({ live: [LIVE_KEY] }, { panel: [], live: ['"something else"'] }), undefined);
    assert.equal(recordsVerdict({}, { panel: [KEY_LINE], live: [] }), undefined);
    assert.equal(recordsVerdict(undefined, { panel: [KEY_LINE], live: [] }), undefined);
    assert.equal(recordsVerdict({ panel: [KEY_LINE] }, undefined), undefined);
  });
});

describe('buildReport across a change of checks', () => {
  const weakBefore = f('dkim.weak-key', 'warn', 'dreamhost', [KEY_LINE], [LIVE_KEY]);

  test('the same checks: fixed, as before, and no note', () => {
    const r = buildReport({
      current: run(2, NEW, [dom('florist.example', [], dkimRecords([KEY_LINE], [LIVE_KEY]))]),
      runs: [run(1, NEW, [dom('florist.example', [weakBefore])])],
    });
    assert.equal(r.versionChange, null);
    assert.deepEqual(r.madeBy, NEW);
    assert.deepEqual(r.resolved.map((i) => [i.rule, i.reason, i.records]), [['dkim.weak-key', 'fixed', undefined]]);
    assert.equal(r.summary.noLongerReported, 0);
    assert.equal(versionChangeText(r), null);
  });

  test('runs whose maker is not said (older callers): compared as before', () => {
    const r = buildReport({ current: run(2, undefined, [dom('florist.example', [])]), runs: [run(1, undefined, [dom('florist.example', [weakBefore])])] });
    assert.equal(r.versionChange, null);
    assert.equal(r.madeBy, null);
    assert.equal(r.resolved[0].reason, 'fixed');
  });

  test('another version, record unchanged: no longer reported; the note names the version', () => {
    const r = buildReport({
      current: run(2, NEW, [dom('florist.example', [], dkimRecords([KEY_LINE], [LIVE_KEY]))]),
      runs: [run(1, OLD, [dom('florist.example', [weakBefore])])],
    });
    assert.deepEqual(r.versionChange, { version: '0.1.0', checks: NEW.checks, previousVersion: '0.0.9', previousChecks: OLD.checks });
    assert.deepEqual(r.resolved.map((i) => [i.rule, i.reason, i.records]), [['dkim.weak-key', 'no-longer-reported', 'unchanged']]);
    assert.equal(r.summary.resolved, 1);
    assert.equal(r.summary.noLongerReported, 1);
    assert.match(versionChangeText(r) ?? '', /^The previous run \(run 1\) was made by mailhealth 0\.0\.9; this one by mailhealth 0\.1\.0: findings that appear or disappear may come from the upgrade's changed checks, not from DNS\./);
    const text = renderText(r);
    assert.ok(text.includes("dkim.weak-key (dreamhost)  — alice; no longer reported: its records are unchanged — this version's checks no longer raise it; nothing was fixed"), text);
    assert.doesNotMatch(text, /; fixed/);
    assert.equal(reportSubject(r), 'mailhealth nightly report: 0 new problems, 0 resolved, 1 no longer reported, 0 still failing');
  });

  test('another version, records that cannot tell: worded neutrally', () => {
    const r = buildReport({
      current: run(2, NEW, [dom('florist.example', [], {})]),
      runs: [run(1, OLD, [dom('florist.example', [weakBefore])])],
    });
    assert.deepEqual(r.resolved.map((i) => [i.reason, i.records]), [['no-longer-reported', undefined]]);
    assert.match(renderText(r), /; no longer reported: last seen by another mailhealth version's checks — fixed, or no longer raised by this version's \(the records cannot tell\)/);
  });

  test('another version, record changed: fixed (its records changed)', () => {
    const changed = KEY_LINE.replace('MIGf', 'MIIB');
    const r = buildReport({
      current: run(2, NEW, [dom('florist.example', [], dkimRecords([changed], []))]),
      runs: [run(1, OLD, [dom('florist.example', [weakBefore])])],
    });
    assert.deepEqual(r.resolved.map((i) => [i.reason, i.records]), [['fixed', 'changed']]);
    assert.equal(resolvedText(r.resolved[0]), 'fixed (its records changed)');
  });

  test('a previous run that recorded no version, and a build of the same version with other checks', () => {
    const none = buildReport({ current: run(2, NEW, [dom('a.example', [])]), runs: [run(1, null, [dom('a.example', [])])] });
    assert.deepEqual(none.versionChange, { version: '0.1.0', checks: NEW.checks, previousVersion: null, previousChecks: null });
    assert.match(versionChangeText(none) ?? '', /was made by an earlier mailhealth \(one that did not record its version\); this one by mailhealth 0\.1\.0/);
    const build = buildReport({ current: run(2, NEW, [dom('a.example', [])]), runs: [run(1, { version: '0.1.0', checks: 'sha256:2222222222222222' }, [dom('a.example', [])])] });
    assert.match(versionChangeText(build) ?? '', /was made by another build of mailhealth 0\.1\.0, whose checks differ from this one's; this one by mailhealth 0\.1\.0/);
    // Same checks under another version number (a release that changed no check): nothing to say.
    const same = buildReport({ current: run(2, NEW, [dom('a.example', [])]), runs: [run(1, { version: '0.0.9', checks: NEW.checks }, [dom('a.example', [])])] });
    assert.equal(same.versionChange, null);
  });

  test('a new problem on records the other checks saw unchanged is marked; one on a changed record is not', () => {
    const term = 'bakery.example 3600 TXT "v=spf1 include:websitewelcome.com ~all"';
    const r = buildReport({
      current: run(2, NEW, [dom('bakery.example', [f('spf.stale-term', 'warn', 'include:websitewelcome.com', [term], [])])]),
      runs: [run(1, OLD, [dom('bakery.example', [], { spf: { panel: [term], live: [] } })])],
    });
    assert.deepEqual(r.newProblems.map((i) => [i.rule, i.records]), [['spf.stale-term', 'unchanged']]);
    assert.match(renderText(r), /spf\.stale-term \(include:websitewelcome\.com\)  — alice; its records are unchanged: raised by this version's checks, not by a DNS change/);
    const r2 = buildReport({
      current: run(2, NEW, [dom('bakery.example', [f('spf.stale-term', 'warn', 'include:websitewelcome.com', [term], [])])]),
      runs: [run(1, OLD, [dom('bakery.example', [], { spf: { panel: ['bakery.example 3600 TXT "v=spf1 ~all"'], live: [] } })])],
    });
    assert.deepEqual(r2.newProblems.map((i) => [i.rule, i.records]), [['spf.stale-term', 'changed']]);
    assert.doesNotMatch(renderText(r2), /raised by this version's checks/);
  });

  test('last seen by other checks before nights of DNS trouble: worded neutrally though the previous run is this version\'s', () => {
    const unknownDkim = { rule: 'dkim.dns-error', check: 'dkim' as CheckName, severity: 'unknown' as Severity, subject: null, message: 'timeout' };
    const r = buildReport({
      current: run(3, NEW, [dom('florist.example', [], dkimRecords([KEY_LINE], [LIVE_KEY]))]),
      runs: [run(1, OLD, [dom('florist.example', [weakBefore])]), run(2, NEW, [{ ...dom('florist.example', [unknownDkim]), status: 'unknown' }])],
    });
    assert.equal(r.versionChange, null);
    // The old run's evidence is there in this snapshot: the records can tell.
    assert.deepEqual(r.resolved.map((i) => [i.rule, i.reason, i.records]), [['dkim.weak-key', 'no-longer-reported', 'unchanged']]);
  });

  test('HTML: the note once, escaped', () => {
    const r = buildReport({ current: run(2, NEW, [dom('a.example', [])]), runs: [run(1, { version: '<b>0.0.9</b>', checks: 'x' }, [dom('a.example', [])])] });
    const html = renderHtml(r);
    assert.equal((html.match(/class="version-change"/g) ?? []).length, 1);
    assert.ok(html.includes('was made by mailhealth &lt;b&gt;0.0.9&lt;/b&gt;'));
    assert.ok(!html.includes('<b>0.0.9'));
  });
});
