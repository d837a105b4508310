// bench/compare.ts: the summary it prints (median, min, max) and its options. The runs themselves are the benchmark's
// (test/bench/smoke.test.ts); this never starts one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs, spread, summarise, type RunResult } from '../../bench/compare.js';

test('spread: median of an odd and an even number of runs, min and max, input order not changed', () => {
  const v = [4.5, 4.1, 5.2];
  assert.deepEqual(spread(v), { median: 4.5, min: 4.1, max: 5.2 });
  assert.deepEqual(v, [4.5, 4.1, 5.2]);
  assert.deepEqual(spread([4, 5, 6, 10]), { median: 5.5, min: 4, max: 10 });
  assert.deepEqual(spread([3]), { median: 3, min: 3, max: 3 });
  assert.throws(() => spread([]), /no values/);
});

test('summarise: each measure over the runs', () => {
  const run = (seconds: number, peakRssMb: number): RunResult => ({ seconds, floorRatio: seconds / 1.1, auditCpuSeconds: seconds * 1.7, peakRssMb, queriesPerDomain: 10.28, statuses: { fail: 1, warn: 0, pass: 1, unknown: 0 } });
  const s = summarise([run(4.2, 230), run(4.6, 236), run(4.4, 224)]);
  assert.equal(s.runs, 3);
  assert.deepEqual(s.seconds, { median: 4.4, min: 4.2, max: 4.6 });
  assert.deepEqual(s.peakRssMb, { median: 230, min: 224, max: 236 });
  assert.equal(s.auditCpuSeconds.max, 4.6 * 1.7);
});

test('parseArgs: its own options; everything else goes to the benchmark as given', () => {
  assert.deepEqual(parseArgs([]), { runs: 5, against: null, json: false, benchArgs: [] });
  assert.deepEqual(parseArgs(['--runs', '3', '--domains', '1000', '--against', '../old', '--threads', '0', '--json']), {
    runs: 3,
    against: '../old',
    json: true,
    benchArgs: ['--domains', '1000', '--threads', '0'],
  });
  assert.throws(() => parseArgs(['--runs', '0']), /--runs takes a positive whole number/);
  assert.throws(() => parseArgs(['--runs', 'x']), /--runs/);
  assert.throws(() => parseArgs(['--against']), /--against takes the directory/);
});
