// Smoke test of the benchmark: `npm run bench -- --domains 200 --json --passes 2` runs end to end and reports what it must.
// It checks that the benchmark works and audits every domain — never its speed. Needs NSD (skipped without it).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NSD = process.env.MAILHEALTH_NSD ?? '/usr/sbin/nsd';

test('bench --domains 200 --json --passes 2 audits every domain (in each pass) and reports the required fields', { timeout: 180_000 }, async (t) => {
  if (!existsSync(NSD)) {
    t.skip(`NSD is not installed (${NSD} missing): apt-get install -y nsd to run the benchmark smoke test`);
    return;
  }
  const out = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(root, 'bench', 'run.ts'), '--domains', '200', '--json', '--passes', '2'],
      { cwd: root, timeout: 170_000, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
  const r = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
  for (const k of ['domains', 'seconds', 'domainsPerSecond', 'queriesPerDomain', 'floorSeconds', 'floorRatio', 'peakRssMb']) {
    assert.equal(typeof r[k], 'number', `${k} is a number in ${out}`);
  }
  assert.equal(r.domains, 200);
  assert.equal(r.audited, 200, 'every domain was audited');
  const statuses = r.statuses as Record<string, number>;
  assert.equal(Object.values(statuses).reduce((a, b) => a + b, 0), 200, 'every domain has a status');
  assert.equal(r.floorQueries, r.queries, 'the floor fired the same queries');
  const later = r.laterPasses as { seconds: number; cpuSeconds: number; audited: number }[];
  assert.equal(later.length, 1, 'one pass after the first');
  assert.equal(later[0].audited, 200, 'the second pass audited every domain too');
  assert.equal(typeof later[0].seconds, 'number');
  assert.equal(typeof later[0].cpuSeconds, 'number');
});
