// A night the panel could not be read is listed by the next report with the panel's error ("run 2: the panel could
// not be read — the panel listed no domains, while the last report had 6"). The reseller's (and a customer's) part
// carried that text too: the whole server's domain count, and whatever the panel (or what answered in its place) said
// — the admin's business. Now a scoped part lists the night only as a run that did not complete (its run number and
// date, its status); the whole server's report keeps the reason. Text, HTML and JSON alike.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildReport, type DomainSnapshot, type ReportDoc, type ReportScope, type RunSnapshot } from '../../../src/core/report/diff.js';
import { renderReport, skippedText } from '../../../src/core/report/render.js';

const DOMAINS: DomainSnapshot[] = [
  { domain: 'a.example', owner: 'alice', reseller: null, status: 'pass', findings: [] },
  { domain: 'b.example', owner: 'bob', reseller: 'rita', status: 'pass', findings: [] },
  { domain: 'c.example', owner: 'carol', reseller: 'rita', status: 'pass', findings: [] },
];

function run(runId: number, status: RunSnapshot['status'], extra: Partial<RunSnapshot> = {}): RunSnapshot {
  return { runId, status, startedAt: new Date(Date.UTC(2026, 0, runId, 3)).toISOString(), ...(status === 'complete' ? { domains: DOMAINS } : {}), ...extra };
}

const REASON = 'the panel listed no domains, while the last report had 6';
const HOSTILE = 'bad gateway: <html><title>whm.internal.example</title> token root:abc';
const RUNS = [
  run(1, 'complete'),
  run(2, 'interrupted', { meta: { failed: 'panel', reason: REASON } }),
  run(3, 'interrupted', { meta: { failed: 'panel', reason: HOSTILE } }),
  run(4, 'interrupted'),
];
const build = (scope?: ReportScope) => buildReport({ current: run(5, 'complete'), runs: RUNS, ...(scope ? { scope } : {}) });

/** Everything a scoped part shows or exports. */
function everything(doc: ReportDoc): string {
  const r = renderReport(doc, { serverName: 'server1', audience: 'x' });
  return [r.subject, r.text, r.html, JSON.stringify(r.json), JSON.stringify(doc)].join('\n');
}

describe('report: a skipped night in a reseller\'s or a customer\'s part', () => {
  for (const scope of [{ reseller: 'rita' }, { owner: 'bob' }, { reseller: 'rita', owner: 'carol' }]) {
    test(`scope ${JSON.stringify(scope)}: the night is listed by run, status and date only — no reason, in the text, the HTML or the JSON`, () => {
      const doc = build(scope);
      assert.deepEqual(doc.skippedRuns, [
        { runId: 2, status: 'interrupted', startedAt: run(2, 'interrupted').startedAt },
        { runId: 3, status: 'interrupted', startedAt: run(3, 'interrupted').startedAt },
        { runId: 4, status: 'interrupted', startedAt: run(4, 'interrupted').startedAt },
      ]);
      const all = everything(doc);
      for (const leak of ['had 6', 'listed no domains', 'panel could not be read', 'whm.internal', 'root:abc', '"reason"', '"failed"']) {
        assert.ok(!all.includes(leak), `${leak} in ${JSON.stringify(scope)}'s part`);
      }
      const r = renderReport(doc);
      assert.ok(r.text.includes('\nSkipped (did not complete): run 2 interrupted, run 3 interrupted, run 4 interrupted.\n'), r.text);
      assert.ok(r.html.includes('>Skipped (did not complete): run 2 interrupted, run 3 interrupted, run 4 interrupted.</p>'), r.html);
    });
  }

  test('the whole server\'s report (no scope, or an empty one) keeps the reasons', () => {
    for (const doc of [build(), build({})]) {
      assert.equal(doc.scope, null);
      assert.deepEqual(doc.skippedRuns.map((s) => [s.runId, s.failed, s.reason]), [
        [2, 'panel', REASON],
        [3, 'panel', HOSTILE],
        [4, undefined, undefined],
      ]);
      const r = renderReport(doc);
      assert.ok(r.text.includes(`Skipped (did not complete): run 2: the panel could not be read — ${REASON}; run 3: the panel could not be read — `), r.text);
      assert.ok(r.html.includes(`Skipped (did not complete): run 2: the panel could not be read — ${REASON}; `), r.html);
    }
  });

  test('rendering a scoped document that carries a reason (made or saved otherwise) does not show it', () => {
    const whole = build();
    const doc: ReportDoc = { ...whole, scope: { reseller: 'rita' } };
    assert.equal(skippedText(doc), 'Skipped (did not complete): run 2 interrupted, run 3 interrupted, run 4 interrupted.');
    const r = renderReport(doc);
    for (const leak of ['had 6', 'panel could not be read', 'whm.internal']) assert.ok(!(r.text + r.html).includes(leak), leak);
    // A document saved before `scope` existed is the whole server's.
    const old = { ...whole } as Partial<ReportDoc>;
    delete old.scope;
    assert.match(skippedText(old as ReportDoc) ?? '', /run 2: the panel could not be read — the panel listed no domains/);
  });
});
