// `mailhealth audit --all` over a bulk of domains: on worker threads (--threads 2) it prints exactly what the
// in-process audit (--threads 0) prints, and records the whole run.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { startDnsServer, type DnsServer } from '../../src/adapters/dns/server.js';
import { openStore } from '../../src/adapters/store/store.js';
import { MIN_PARALLEL_DOMAINS } from '../../src/adapters/workers/bulk.js';
import { buildWorld } from '../../src/demo/world.js';
import { generate } from '../../bench/generate.js';
import { runCli } from '../helpers/cli.js';

let dir: string;
let panelDir: string;
let dns: DnsServer;
const N = MIN_PARALLEL_DOMAINS + 20;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailhealth-threads-'));
  panelDir = generate(dir, N).panelDir;
  dns = await startDnsServer({ data: buildWorld(panelDir, join(dir, 'world')) });
});
after(async () => {
  await dns.close();
  rmSync(dir, { recursive: true, force: true });
});

const common = () => ['--panel', 'files', '--panel-root', panelDir, '--resolver', dns.address, '--authoritative-port', String(dns.port), '--concurrency', '32'];
const domainsOf = (stdout: string) =>
  (JSON.parse(stdout) as { domains: { auditedAt: string }[] }).domains.map((d) => ({ ...d, auditedAt: '' }));

it('prints the same audit on worker threads as in one thread, and records every domain', async () => {
  const db = join(dir, 'history.sqlite');
  const threaded = await runCli(['audit', '--all', '--json', '--threads', '2', '--db', db, ...common()]);
  const single = await runCli(['audit', '--all', '--json', '--threads', '0', '--no-history', ...common()]);
  assert.ok([0, 1].includes(threaded.code ?? -1), threaded.stderr);
  assert.equal(threaded.code, single.code, single.stderr);
  const a = domainsOf(threaded.stdout);
  assert.equal(a.length, N);
  assert.deepEqual(a, domainsOf(single.stdout));

  const store = openStore(db);
  try {
    const [run] = store.listRuns({ kind: 'audit' });
    assert.equal(run.status, 'complete');
    assert.equal(run.total, N);
    assert.equal(run.done, N);
    assert.equal(store.runResults(run.id).length, N);
  } finally {
    store.close();
  }
});

it('rejects a bad --threads value and changes nothing', async () => {
  const r = await runCli(['audit', '--all', '--threads', 'many', '--no-history', ...common()]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--threads takes a whole number/);
});
