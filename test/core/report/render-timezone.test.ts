// The report dates its nights in the schedule's time zone: a run at 00:30 in Europe/Berlin starts 23:30 UTC the day
// before, and was labelled with that UTC day (QA) — the chart's dates and each night's label now use the zone given.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderChart } from '../../../src/core/report/render.js';

const trend = [
  { runId: 1, startedAt: '2026-11-25T23:30:00.000Z', failing: 3, warning: 1, unknown: 0, total: 10 },
  { runId: 2, startedAt: '2026-11-26T23:30:00.000Z', failing: 2, warning: 1, unknown: 0, total: 10 },
];

test('chart labels: local dates in the schedule time zone, UTC without one, UTC for an unknown zone', () => {
  const berlin = renderChart(trend, { timeZone: 'Europe/Berlin' });
  assert.match(berlin, />11-26</);
  assert.match(berlin, />11-27</);
  assert.match(berlin, /run 2, 2026-11-27:/);
  const utc = renderChart(trend);
  assert.match(utc, />11-25</);
  assert.match(utc, /run 2, 2026-11-26:/);
  assert.equal(renderChart(trend, { timeZone: 'Mars/Base' }), utc);
});

