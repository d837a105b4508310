import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildReport, type RunSnapshot } from '../../../src/core/report/diff.js';
import { cleanControls, domainUrl, escapeHtml, renderChart, renderReport } from '../../../src/core/report/render.js';

const HOSTILE = '<script>alert(1)</script>"\'&\u001b[31m\u202e';

function snap(runId: number, subject: string, failing = true): RunSnapshot {
  return {
    runId,
    status: 'complete',
    startedAt: new Date(Date.UTC(2026, 0, runId, 3)).toISOString(),
    domains: [
      {
        domain: 'evil.example',
        owner: 'mallory<b>',
        reseller: 'rita',
        status: failing ? 'fail' : 'pass',
        findings: failing ? [{ rule: 'spf.stale-term', check: 'spf', severity: 'fail', subject, message: `record says ${subject}` }] : [],
      },
      { domain: 'ok.example', owner: 'alice', reseller: null, status: 'pass', findings: [] },
    ],
  };
}

describe('render', () => {
  test('escapes record text, names and messages in HTML; links each problem to the panel', () => {
    const doc = buildReport({ current: snap(2, HOSTILE), runs: [snap(1, 'include:old.example')] });
    const r = renderReport(doc, { baseUrl: 'https://panel.example:2087/mailhealth/', serverName: 'srv<1>' });
    assert.ok(!r.html.includes('<script>'), 'no raw script tag');
    assert.ok(!r.html.includes('mallory<b>'));
    assert.ok(r.html.includes('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;'));
    assert.ok(!/[\u001b\u202e]/.test(r.html), 'control and bidi characters are neutralised');
    assert.ok(!/[\u001b\u202e]/.test(r.text));
    assert.ok(r.html.includes('href="https://panel.example:2087/mailhealth/domains/evil.example"'));
    assert.ok(r.text.includes('https://panel.example:2087/mailhealth/domains/evil.example'));
    assert.match(r.html, /<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok(!/(src|href)="https?:\/\/(?!panel\.example)/.test(r.html), 'no external resources');
    assert.match(r.subject, /1 new problem, 1 resolved, 0 still failing/);
    assert.equal(r.json, doc);
  });

  test('no links for a missing or non-http base URL', () => {
    assert.equal(domainUrl(undefined, 'a.example'), null);
    assert.equal(domainUrl('javascript:alert(1)', 'a.example'), null);
    assert.equal(domainUrl('https://x.example', 'a.example'), 'https://x.example/domains/a.example');
    const doc = buildReport({ current: snap(1, 'x'), runs: [] });
    const r = renderReport(doc, { baseUrl: 'javascript:alert(1)' });
    assert.ok(!r.html.includes('javascript:'));
  });

  test('chart: one bar per run, the tallest at full height, escaped labels', () => {
    const svg = renderChart([
      { runId: 1, startedAt: '2026-01-01T03:00:00.000Z', failing: 2, warning: 0, unknown: 0, total: 5 },
      { runId: 2, startedAt: '2026-01-02T03:00:00.000Z', failing: 4, warning: 1, unknown: 0, total: 5 },
      { runId: 3, startedAt: '2026-01-03T03:00:00.000Z', failing: 0, warning: 0, unknown: 1, total: 5 },
    ]);
    const bars = [...svg.matchAll(/<rect class="bar" x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"/g)].map((m) => Number(m[2]));
    assert.equal(bars.length, 3);
    assert.equal(bars[1], Math.max(...bars));
    assert.equal(bars[0], bars[1] / 2);
    assert.equal(bars[2], 0);
    assert.match(svg, /^<svg /);
    assert.match(svg, /<\/svg>$/);
    assert.equal(escapeHtml('a<b>&"\''), 'a&lt;b&gt;&amp;&quot;&#39;');
  });

  test('text part has all four sections and nights', () => {
    const doc = buildReport({ current: snap(3, 'x'), runs: [snap(1, 'x'), snap(2, 'x')] });
    const r = renderReport(doc, {});
    for (const s of ['New problems (0)', 'Resolved (0)', 'Still failing (1)', 'Unknown (DNS trouble — not counted as failures) (0)']) assert.ok(r.text.includes(s), s);
    assert.match(r.text, /3 nights/);
  });
});

describe('render: a section longer than the mail shows', () => {
  const many: RunSnapshot = {
    runId: 1,
    status: 'complete',
    startedAt: new Date(Date.UTC(2026, 0, 1, 3)).toISOString(),
    domains: Array.from({ length: 5 }, (_, i) => ({
      domain: `d${i}.example`,
      owner: 'alice',
      reseller: null,
      status: 'fail' as const,
      findings: [{ rule: 'spf.missing', check: 'spf', severity: 'fail' as const, message: 'no SPF record' }],
    })),
  };
  test('says where the rest can be seen (the panel\'s domain list, linked when the base URL is known) — not a "JSON report" nobody can open', () => {
    const doc = buildReport({ current: many, runs: [] });
    const linked = renderReport(doc, { baseUrl: 'https://panel.example:2087/mailhealth/', maxItemsPerSection: 2 });
    assert.match(linked.text, /… and 3 more: the domain list in mailhealth's panel page shows every domain's findings \(filter by status\): https:\/\/panel\.example:2087\/mailhealth\/domains/);
    assert.match(linked.html, /… and 3 more: <a href="https:\/\/panel\.example:2087\/mailhealth\/domains">the panel's domain list<\/a>/);
    const plain = renderReport(doc, { maxItemsPerSection: 2 });
    assert.match(plain.text, /… and 3 more: the domain list in mailhealth's panel page shows every domain's findings \(filter by status\)\n/);
    assert.doesNotMatch(plain.text + linked.html, /JSON report/);
  });
});

test('cleanControls: line breaks and controls → U+FFFD; zero-width, bidi marks, BOM and tag characters shown as escapes', () => {
  assert.equal(cleanControls('a\nb\u0085c'), 'a\uFFFDb\uFFFDc');
  assert.equal(cleanControls('auth=newhostmc\u200B\u200F\u2060\uFEFF\u061C\u{E0041}'), 'auth=newhostmc\\u200B\\u200F\\u2060\\uFEFF\\u061C\\u{E0041}');
  assert.equal(escapeHtml('<b>\u200B</b>'), '&lt;b&gt;\\u200B&lt;/b&gt;');
});
