// A bulk job's results are shown in the viewer's scope of today: a customer moved to another reseller since the job
// ran takes their domains out of the old reseller's job view (QA: the old job kept showing them, with statuses), as
// history, exports and undo already did. Demo panel, loopback DNS, real SQLite.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { demoWorld, login, type TestWorld } from './helpers.js';

let w: TestWorld;
before(async () => {
  w = await demoWorld({});
});
after(async () => w.close());

test("a customer moved to another reseller leaves the old reseller's job view", async () => {
  const rita = await login(w.app, 'rita');
  const started = await rita.agent.post('/api/bulk').set('x-csrf-token', rita.csrf).send({}).expect(202);
  const jobId = (started.body as { jobId: number }).jobId;
  await w.app.runner.wait(jobId);
  const domainsOf = async () => ((await rita.agent.get(`/api/jobs/${jobId}`).expect(200)).body as { results: { domain: string }[] }).results.map((r) => r.domain).sort();
  assert.deepEqual(await domainsOf(), ['clean.example', 'dentist.example', 'lawyer.example', 'plumber.example']);
  // carol (lawyer.example, clean.example) moves to reseller rex.
  const file = join(w.demo!.panelDir, 'panel.json');
  const cfg = JSON.parse(readFileSync(file, 'utf8')) as { accounts: { user: string; role: string; owner?: string }[] };
  cfg.accounts.push({ user: 'rex', role: 'reseller' });
  cfg.accounts.find((a) => a.user === 'carol')!.owner = 'rex';
  writeFileSync(file, JSON.stringify(cfg));
  assert.deepEqual(await domainsOf(), ['dentist.example', 'plumber.example']);
});
