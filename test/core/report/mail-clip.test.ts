// The mail's cut of a long field (render.ts clip, MAIL_LIMITS): between characters, never inside a surrogate pair
// (a lone surrogate is no character: it would go out as U+FFFD, or break a strict client's decoder), saying how much
// was left out.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildReport, type DomainSnapshot } from '../../../src/core/report/diff.js';
import { clip, MAIL_LIMITS, renderReport } from '../../../src/core/report/render.js';

function bigReport(record: string) {
  const domains: DomainSnapshot[] = Array.from({ length: 5 }, (_, i) => ({
    domain: `d${i}.example`,
    owner: `cust${i}`,
    reseller: null,
    status: 'fail',
    findings: [{ rule: 'spf.stale-term', check: 'spf', severity: 'fail', subject: null, message: `A stale term: ${record}` }],
  }));
  return buildReport({ current: { runId: 2, status: 'complete', startedAt: '2026-01-02T03:00:00Z', domains }, runs: [] });
}

describe('a long field in the mail', () => {
  test('a field is cut between characters, never inside a surrogate pair, and says how much is left out', () => {
    assert.equal(clip('a😀😀', 2), 'a… [4 more characters]');
    assert.equal(clip('a😀😀', 3), 'a😀… [2 more characters]');
    assert.equal(clip('abc', 3), 'abc');
    // An odd offset into emoji, in a rendered report: no lone surrogate in either part.
    const doc = bigReport(`${'a'.repeat(MAIL_LIMITS.message - 'A stale term: '.length - 1)}${'😀'.repeat(100)}`);
    const r = renderReport(doc, {});
    assert.doesNotMatch(r.text, /[\ud800-\udbff](?![\udc00-\udfff])/, 'no lone high surrogate');
    assert.doesNotMatch(r.html, /[\ud800-\udbff](?![\udc00-\udfff])/, 'no lone high surrogate');
    assert.match(r.html, /… \[\d+ more characters\]/);
  });
});
