// report.dnsQps / report.concurrency: a value saved as a string ("50", as typed into sqlite3) was silently ignored, and
// numbers were not range-checked as `report --qps` (1–100000) and `--concurrency` (1–1024) are (a qps of 1e9 floods the
// resolver, 0.001 stalls the night). The reader now takes what the command line takes — a whole number in the range,
// also written as digits in a string — and anything else is the default, with a log line naming the setting.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_CONCURRENCY, DEFAULT_DNS_QPS, REPORT_SETTINGS, runReport, savedReportNumber } from '../../src/cron/report.js';
import { countingLimiter, startWorld, type TestWorld } from './world.js';

function store(v: unknown) {
  return { getSetting: <T>() => v as T };
}

test('valid values are kept as before; strings of digits are read as the command line reads them', () => {
  const logs: string[] = [];
  const log = (m: string) => void logs.push(m);
  assert.equal(savedReportNumber(store(undefined), REPORT_SETTINGS.dnsQps, DEFAULT_DNS_QPS, log), 20);
  assert.equal(savedReportNumber(store(null), REPORT_SETTINGS.dnsQps, DEFAULT_DNS_QPS, log), 20);
  assert.equal(savedReportNumber(store(50), REPORT_SETTINGS.dnsQps, DEFAULT_DNS_QPS, log), 50);
  assert.equal(savedReportNumber(store(100_000), REPORT_SETTINGS.dnsQps, DEFAULT_DNS_QPS, log), 100_000);
  assert.equal(savedReportNumber(store(1), REPORT_SETTINGS.dnsQps, DEFAULT_DNS_QPS, log), 1);
  assert.equal(savedReportNumber(store('50'), REPORT_SETTINGS.dnsQps, DEFAULT_DNS_QPS, log), 50);
  assert.equal(savedReportNumber(store(' 4 '), REPORT_SETTINGS.concurrency, DEFAULT_CONCURRENCY, log), 4);
  assert.equal(savedReportNumber(store(1024), REPORT_SETTINGS.concurrency, DEFAULT_CONCURRENCY, log), 1024);
  assert.deepEqual(logs, []);
});

test('anything else is the default, logged naming the setting and the range', () => {
  const cases: [string, unknown, number][] = [
    [REPORT_SETTINGS.dnsQps, 0, 20],
    [REPORT_SETTINGS.dnsQps, -5, 20],
    [REPORT_SETTINGS.dnsQps, 2.5, 20],
    [REPORT_SETTINGS.dnsQps, 1e9, 20],
    [REPORT_SETTINGS.dnsQps, 100_001, 20],
    [REPORT_SETTINGS.dnsQps, 'fast', 20],
    [REPORT_SETTINGS.dnsQps, '0x10', 20],
    [REPORT_SETTINGS.dnsQps, '1e3', 20],
    [REPORT_SETTINGS.dnsQps, true, 20],
    [REPORT_SETTINGS.concurrency, 0, 8],
    [REPORT_SETTINGS.concurrency, 1025, 8],
    [REPORT_SETTINGS.concurrency, '2000', 8],
    [REPORT_SETTINGS.concurrency, [4], 8],
  ];
  for (const [key, v, want] of cases) {
    const logs: string[] = [];
    const fallback = key === REPORT_SETTINGS.dnsQps ? DEFAULT_DNS_QPS : DEFAULT_CONCURRENCY;
    assert.equal(savedReportNumber(store(v), key as typeof REPORT_SETTINGS.dnsQps, fallback, (m) => void logs.push(m)), want, `${key} ${JSON.stringify(v)}`);
    const range = key === REPORT_SETTINGS.dnsQps ? '1 to 100000' : '1 to 1024';
    assert.deepEqual(logs, [`the saved ${key} ${JSON.stringify(v)} is not used (a whole number from ${range}): ${want} instead`]);
  }
});

describe('a report run with the settings saved by hand', () => {
  let w: TestWorld;
  before(async () => {
    w = await startWorld();
  });
  after(() => w?.close());

  test('"50" qps and "3" concurrency are used; a qps of 0 is not (the default, logged); --qps / --concurrency still win', async () => {
    w.store.setSetting(REPORT_SETTINGS.dnsQps, '50');
    w.store.setSetting(REPORT_SETTINGS.concurrency, '3');
    const a = await runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter() });
    assert.deepEqual(w.store.getRun(a.runId)?.meta, { ...(w.store.getRun(a.runId)?.meta as object), qps: 50, concurrency: 3 });

    w.store.setSetting(REPORT_SETTINGS.dnsQps, 0);
    const logs: string[] = [];
    const b = await runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter(), log: (m) => logs.push(m) });
    assert.equal((w.store.getRun(b.runId)?.meta as { qps: number }).qps, 20);
    assert.ok(logs.includes('the saved report.dnsQps 0 is not used (a whole number from 1 to 100000): 20 instead'), logs.join('\n'));

    const c = await runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter(), qps: 7, concurrency: 2, log: (m) => logs.push(m) });
    assert.deepEqual([(w.store.getRun(c.runId)?.meta as { qps: number }).qps, (w.store.getRun(c.runId)?.meta as { concurrency: number }).concurrency], [7, 2]);
  });
});
