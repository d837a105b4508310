// The first nightly report after an upgrade (QA h2 item 6) called rule changes "Resolved … fixed": a finding the
// previous version raised and this one no longer does (`dkim.weak-key` on a record nobody touched) read as fixed, and
// findings only this version raises read as new problems, with nothing saying the checks had changed. Runs now record
// the mailhealth that made them (meta.mailhealth: version and a fingerprint of the checks); a report compared with a
// run of other checks says so once at the top, and a problem gone while its records are unchanged is "no longer
// reported", never "fixed". A record that did change is still fixed. Files panel over loopback DNS.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { auditMany } from '../../src/core/audit.js';
import type { DomainAudit, Finding } from '../../src/core/model.js';
import type { ReportDoc } from '../../src/core/report/diff.js';
import { PRODUCER_META, producerFromMeta, runReport, thisMailhealth, type ReportOutcome } from '../../src/cron/report.js';
import { countingLimiter, DAY, startWorld, type TestWorld } from './world.js';

const key = (i: { domain: string; rule: string; subject?: string | null }) => `${i.domain} ${i.rule}${i.subject ? ` ${i.subject}` : ''}`;

/**
 * A night recorded as an older mailhealth would have: its meta names no version (runs never recorded one before), and
 * its checks differed — `edit` changes what they found.
 */
async function olderVersionNight(w: TestWorld, edit: (audits: DomainAudit[]) => void): Promise<number> {
  const accounts = await w.panel.listAccounts();
  const admin = accounts.find((a) => a.role === 'admin')!;
  const refs = await w.panel.listDomains({ user: admin.user, role: 'admin' });
  const audits = await auditMany(
    refs.map((r) => r.domain),
    { panel: w.panel, resolver: w.resolver(), now: () => new Date(w.clock.now()) },
  );
  edit(audits);
  const runId = w.store.startRun('report', admin.user, refs.length, { resellers: { bob: 'rita', carol: 'rita' }, qps: 20, concurrency: 8 });
  const owner = new Map(refs.map((r) => [r.domain, r.owner]));
  w.store.recordAudits(runId, audits.map((a) => ({ audit: a, owner: owner.get(a.domain) ?? null })), { done: audits.length, failed: 0 });
  assert.ok(w.store.completeRunWithReport(runId, { json: {}, html: '', text: '' }));
  return runId;
}

function finding(a: DomainAudit | undefined, rule: string): Finding {
  const f = a?.findings.find((x) => x.rule === rule);
  assert.ok(f, `${a?.domain} has no ${rule}`);
  return f;
}

describe('nightly report across an upgrade: rule changes are not "fixed"', () => {
  let w: TestWorld;
  let oldRun: number;
  let upgraded: ReportOutcome;
  let doc: ReportDoc;
  let sameVersion: ReportDoc;
  before(async () => {
    w = await startWorld();
    oldRun = await olderVersionNight(w, (audits) => {
      const florist = audits.find((a) => a.domain === 'florist.example');
      // The older version's checks graded florist's leftover DreamHost key as weak: the record the new checks still
      // quote under dkim.other-selector, unchanged.
      const other = finding(florist, 'dkim.other-selector');
      florist!.findings.push({ ...other, rule: 'dkim.weak-key', severity: 'warn', message: 'The key at dreamhost._domainkey.florist.example is 1024 bits.' });
      florist!.status = 'fail';
      // …and knew nothing of bakery's HostGator include (the record is the same tonight).
      const bakery = audits.find((a) => a.domain === 'bakery.example')!;
      bakery.findings = bakery.findings.filter((f) => !(f.rule === 'spf.stale-term' && f.subject === 'include:websitewelcome.com'));
    });
    // Between the nights (the upgrade's night), florist's customer really fixes the lockdown record.
    w.editZone('florist.example', (t) => t.replace('"v=mc1 auth=dreamhost"', '"v=mc1 auth=newhostmc"'));
    w.clock.advance(DAY);
    upgraded = await runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter(), serverName: 'server1' });
    doc = upgraded.doc;
    w.clock.advance(DAY);
    sameVersion = (await runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter(), serverName: 'server1' })).doc;
  });
  after(() => w?.close());

  test('the run records the mailhealth that made it', () => {
    const meta = w.store.getRun(doc.runId)?.meta as Record<string, unknown>;
    assert.deepEqual(meta[PRODUCER_META], thisMailhealth());
    assert.deepEqual(producerFromMeta(meta), thisMailhealth());
    assert.match(thisMailhealth().checks, /^sha256:[0-9a-f]{16}$/);
    assert.equal(thisMailhealth().version, '0.1.0');
    assert.equal(producerFromMeta(w.store.getRun(oldRun)?.meta), null);
    assert.deepEqual(doc.madeBy, thisMailhealth());
  });

  test('the report says once, at the top, that the previous run came from another version', () => {
    assert.equal(doc.previousRunId, oldRun);
    assert.deepEqual(doc.versionChange, { version: thisMailhealth().version, checks: thisMailhealth().checks, previousVersion: null, previousChecks: null });
    const text = upgraded.rendered.text.split('\n');
    const note = text.filter((l) => l.includes('was made by'));
    assert.deepEqual(note, [
      `The previous run (run ${oldRun}) was made by an earlier mailhealth (one that did not record its version); this one by mailhealth 0.1.0: ` +
        "findings that appear or disappear may come from the upgrade's changed checks, not from DNS. A problem no longer reported is called fixed only where its records changed.",
    ]);
    // Right under the header line.
    assert.equal(text.indexOf(note[0]), 3);
    assert.equal((upgraded.rendered.html.match(/class="version-change"/g) ?? []).length, 1);
    assert.match(upgraded.rendered.html, /was made by an earlier mailhealth \(one that did not record its version\)/);
  });

  test('a finding gone while its record is unchanged is "no longer reported", not fixed', () => {
    const weak = doc.resolved.find((i) => i.rule === 'dkim.weak-key');
    assert.ok(weak, JSON.stringify(doc.resolved));
    assert.deepEqual([weak.domain, weak.subject, weak.reason, weak.records], ['florist.example', 'dreamhost', 'no-longer-reported', 'unchanged']);
    const line = upgraded.rendered.text.split('\n').find((l) => l.includes('dkim.weak-key'));
    assert.equal(
      line,
      "  [warn] florist.example  dkim.weak-key (dreamhost)  — alice; no longer reported: its records are unchanged — this version's checks no longer raise it; nothing was fixed",
    );
    assert.doesNotMatch(line!, /; fixed/);
    assert.match(upgraded.rendered.html, /no longer reported: its records are unchanged/);
    assert.equal(doc.summary.noLongerReported, 1);
    assert.match(upgraded.rendered.subject, /, 1 no longer reported,/);
  });

  test('a record that did change is still fixed, and says so', () => {
    const lockdown = doc.resolved.find((i) => i.rule === 'lockdown.stale-auth');
    assert.ok(lockdown, JSON.stringify(doc.resolved));
    assert.deepEqual([lockdown.reason, lockdown.records], ['fixed', 'changed']);
    assert.ok(upgraded.rendered.text.includes('lockdown.stale-auth (auth=dreamhost)  — alice; fixed (its records changed)'), upgraded.rendered.text);
  });

  test('a problem only the new checks raise, on records as they were, is new — and says why', () => {
    const stale = doc.newProblems.find((i) => key(i) === 'bakery.example spf.stale-term include:websitewelcome.com');
    assert.ok(stale, JSON.stringify(doc.newProblems.map(key)));
    assert.equal(stale.records, 'unchanged');
    const line = upgraded.rendered.text.split('\n').find((l) => l.includes('spf.stale-term (include:websitewelcome.com)'));
    assert.match(line ?? '', /; its records are unchanged: raised by this version's checks, not by a DNS change$/);
  });

  test('the JSON keeps its fields: resolved items keep reason; new fields are additions', () => {
    for (const i of doc.resolved) assert.ok(['fixed', 'domain-removed', 'no-longer-reported'].includes(i.reason));
    for (const k of ['runId', 'previousRunId', 'newProblems', 'resolved', 'stillFailing', 'unknown', 'summary', 'trend']) assert.ok(k in doc, k);
    assert.equal(doc.summary.resolved, doc.resolved.length);
  });

  test('the next night, made by the same mailhealth: no note, nothing worded across versions', () => {
    assert.equal(sameVersion.versionChange, null);
    assert.equal(sameVersion.summary.noLongerReported, 0);
    for (const i of [...sameVersion.resolved, ...sameVersion.newProblems]) assert.equal((i as { records?: string }).records, undefined, key(i));
  });
});
