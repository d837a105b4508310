// npm run bench:compare -- [--runs R] [--against DIR] [--json] [bench options: --domains N --threads T …]
// Runs the compiled benchmark (dist/bench/run.js) R times (default 5), each in a fresh process, and prints every run
// and the median / min / max of its seconds, audit/floor ratio, CPU seconds and peak RSS. With --against DIR (another
// checkout of mailhealth, built there with `npm run build`), the runs alternate — this checkout, then DIR, R times —
// and both are summarised: on the 2-core VM the machine's own speed moved by ~20 % within a day (README "Benchmark"),
// so only runs that alternate compare two versions of the code. Every other option goes to both benchmarks as given.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The fields of one benchmark run this compares (run.ts --json prints them among others). */
export interface RunResult {
  seconds: number;
  floorRatio: number;
  auditCpuSeconds: number;
  peakRssMb: number;
  queriesPerDomain: number;
  statuses: Record<string, number>;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface Summary {
  runs: number;
  seconds: Spread;
  floorRatio: Spread;
  auditCpuSeconds: Spread;
  peakRssMb: Spread;
}

export function spread(values: number[]): Spread {
  if (values.length === 0) throw new Error('no values');
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { median: +median.toFixed(3), min: v[0], max: v[v.length - 1] };
}

export function summarise(results: RunResult[]): Summary {
  return {
    runs: results.length,
    seconds: spread(results.map((r) => r.seconds)),
    floorRatio: spread(results.map((r) => r.floorRatio)),
    auditCpuSeconds: spread(results.map((r) => r.auditCpuSeconds)),
    peakRssMb: spread(results.map((r) => r.peakRssMb)),
  };
}

/** The command-line options, and what is left over for the benchmark itself. */
export function parseArgs(argv: string[]): { runs: number; against: string | null; json: boolean; benchArgs: string[] } {
  let runs = 5;
  let against: string | null = null;
  let json = false;
  const benchArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') {
      runs = Number(argv[++i]);
      if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive whole number');
    } else if (a === '--against') {
      against = argv[++i] ?? '';
      if (!against) throw new Error('--against takes the directory of another mailhealth checkout');
    } else if (a === '--json') json = true;
    else benchArgs.push(a);
  }
  return { runs, against, json, benchArgs };
}

function runOnce(checkout: string, benchArgs: string[]): RunResult {
  const script = join(checkout, 'dist', 'bench', 'run.js');
  const r = spawnSync(process.execPath, [script, ...benchArgs, '--json'], { cwd: checkout, encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`${script} failed (exit ${r.status}): ${r.stderr.trim().split('\n').pop() ?? ''}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as RunResult;
}

function line(label: string, r: RunResult): string {
  const s = r.statuses;
  return `${label.padEnd(8)} ${r.seconds.toFixed(3).padStart(7)} s  audit/floor ${r.floorRatio.toFixed(2).padStart(5)}  CPU ${r.auditCpuSeconds.toFixed(2).padStart(6)} s  peak RSS ${r.peakRssMb.toFixed(1).padStart(6)} MB  ${r.queriesPerDomain} q/domain  ${s.fail}/${s.warn}/${s.pass}/${s.unknown}`;
}

function main(): number {
  const { runs, against, json, benchArgs } = parseArgs(process.argv.slice(2));
  // This checkout: dist/bench/compare.js is two levels down (bench/compare.ts, run through tsx, one).
  const self = fileURLToPath(import.meta.url);
  const here = resolve(dirname(self), self.endsWith('.ts') ? '..' : join('..', '..'));
  const sides: { label: string; dir: string; results: RunResult[] }[] = [{ label: 'this', dir: here, results: [] }];
  if (against) {
    const dir = resolve(against);
    if (!existsSync(join(dir, 'dist', 'bench', 'run.js'))) throw new Error(`${dir} has no dist/bench/run.js: run \`npm run build\` there first`);
    sides.push({ label: 'against', dir, results: [] });
  }
  for (let i = 0; i < runs; i++) {
    for (const side of sides) {
      const r = runOnce(side.dir, benchArgs);
      side.results.push(r);
      if (!json) process.stdout.write(line(side.label, r) + '\n');
    }
  }
  const summary = Object.fromEntries(sides.map((s) => [s.label, { dir: s.dir, ...summarise(s.results) }]));
  if (json) process.stdout.write(JSON.stringify(summary) + '\n');
  else {
    for (const [label, s] of Object.entries(summary)) {
      const f = (x: Spread, d: number) => `${x.median.toFixed(d)} (${x.min.toFixed(d)}–${x.max.toFixed(d)})`;
      process.stdout.write(`${label}: median (min–max) over ${s.runs}: ${f(s.seconds, 3)} s, audit/floor ${f(s.floorRatio, 2)}, CPU ${f(s.auditCpuSeconds, 2)} s, peak RSS ${f(s.peakRssMb, 1)} MB\n`);
    }
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main();
  } catch (e) {
    process.stderr.write(`bench:compare: ${(e as Error).message}\n`);
    process.exitCode = 2;
  }
}
