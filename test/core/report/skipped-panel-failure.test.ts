// A night the panel could not be read is recorded as a report run that did not complete, with meta
// {failed: "panel", reason} (src/cron/report.ts recordPanelFailure). The next report listed it as "run N interrupted",
// like a run stopped by Ctrl-C: the admin could not tell a lost night from a stopped process, nor what the panel said.
// Now it says why, in the text, the HTML (escaped) and the JSON (a field on the skipped run); other runs are unchanged.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildReport, panelFailureOf, type RunSnapshot } from '../../../src/core/report/diff.js';
import { renderReport } from '../../../src/core/report/render.js';

function run(runId: number, status: RunSnapshot['status'], extra: Partial<RunSnapshot> = {}): RunSnapshot {
  const domains = status === 'complete' ? [{ domain: 'a.example', owner: 'alice', reseller: null, status: 'pass' as const, findings: [] }] : undefined;
  return { runId, status, startedAt: new Date(Date.UTC(2026, 0, runId, 3)).toISOString(), ...(domains ? { domains } : {}), ...extra };
}

const REASON = 'connect ECONNREFUSED 127.0.0.1:2087';
const HOSTILE = 'bad answer: <html><script>alert(1)</script>, "x" & \'y\'\nSubject: forged\u202e';

describe('report: a skipped night the panel could not be read', () => {
  test('JSON: the skipped run carries failed "panel" and the reason; a run stopped otherwise carries neither', () => {
    const doc = buildReport({
      current: run(4, 'complete'),
      runs: [run(1, 'complete'), run(2, 'interrupted', { meta: { failed: 'panel', reason: REASON } }), run(3, 'interrupted', { meta: { resellers: {}, qps: 20 } })],
    });
    assert.deepEqual(doc.skippedRuns, [
      { runId: 2, status: 'interrupted', startedAt: run(2, 'interrupted').startedAt, failed: 'panel', reason: REASON },
      { runId: 3, status: 'interrupted', startedAt: run(3, 'interrupted').startedAt },
    ]);
    // Saved as JSON and read back (the store's reports table): the fields survive.
    assert.deepEqual(JSON.parse(JSON.stringify(doc)).skippedRuns[0], doc.skippedRuns[0]);
  });

  test('text and HTML: "run N: the panel could not be read — <reason>"; other interrupted runs stay "run N interrupted"', () => {
    const doc = buildReport({
      current: run(4, 'complete'),
      runs: [run(1, 'complete'), run(2, 'interrupted', { meta: { failed: 'panel', reason: REASON } }), run(3, 'interrupted')],
    });
    const r = renderReport(doc, { serverName: 'server1' });
    assert.ok(r.text.includes(`Skipped (did not complete): run 2: the panel could not be read — ${REASON}; run 3 interrupted.\n`), r.text);
    assert.ok(r.html.includes(`Skipped (did not complete): run 2: the panel could not be read — ${REASON}; run 3 interrupted.</p>`), r.html);
  });

  test('no panel failure among them: the line is as before', () => {
    const doc = buildReport({ current: run(4, 'complete'), runs: [run(1, 'complete'), run(2, 'interrupted'), run(3, 'cancelled')] });
    const r = renderReport(doc);
    assert.ok(r.text.includes('Skipped (did not complete): run 2 interrupted, run 3 cancelled.\n'), r.text);
    assert.deepEqual(doc.skippedRuns.map((s) => Object.keys(s).sort()), [['runId', 'startedAt', 'status'], ['runId', 'startedAt', 'status']]);
  });

  test('the reason is hostile text: escaped in HTML, no line forged in the text, cut short when long', () => {
    const doc = buildReport({
      current: run(3, 'complete'),
      runs: [run(1, 'complete'), run(2, 'interrupted', { meta: { failed: 'panel', reason: HOSTILE + 'z'.repeat(5000) } })],
    });
    const r = renderReport(doc);
    assert.ok(!r.html.includes('<script>') && !r.html.includes('<html><script>'), 'no raw markup from the panel');
    assert.ok(r.html.includes('bad answer: &lt;html&gt;&lt;script&gt;alert(1)&lt;/script&gt;, &quot;x&quot; &amp; &#39;y&#39;'));
    assert.ok(!/\nSubject: forged/.test(r.text), 'the newline in the reason does not start a line');
    assert.ok(!/[\u202e]/.test(r.text + r.html), 'bidi override neutralised');
    const line = r.text.split('\n').find((l) => l.startsWith('Skipped'));
    assert.ok(line && line.length < 450 && /zzz…\.$/.test(line), line);
    // The JSON keeps what was recorded (it is data, escaped wherever it is shown).
    assert.equal(doc.skippedRuns[0].reason, HOSTILE + 'z'.repeat(5000));
  });

  test('a meta that says "panel" without a reason that is text: the run says the panel could not be read, nothing more', () => {
    const doc = buildReport({ current: run(3, 'complete'), runs: [run(1, 'complete'), run(2, 'interrupted', { meta: { failed: 'panel', reason: 42 } })] });
    assert.deepEqual(doc.skippedRuns[0], { runId: 2, status: 'interrupted', startedAt: run(2, 'interrupted').startedAt, failed: 'panel' });
    assert.ok(renderReport(doc).text.includes('Skipped (did not complete): run 2: the panel could not be read.\n'));
    assert.equal(panelFailureOf(null), undefined);
    assert.equal(panelFailureOf({ failed: 'dns' }), undefined);
    assert.deepEqual(panelFailureOf({ failed: 'panel', reason: '  ' }), { reason: null });
  });
});
