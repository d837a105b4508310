// A domain named more than once on the command line (any case, with or without the final dot) is audited and
// recorded once, in the order it was first named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { demoPanelWithDns, runCli } from '../helpers/cli.js';
import { openStore } from '../../src/adapters/store/store.js';
import { domainsInScope } from '../../src/cli/context.js';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';

test('audit clean.example CLEAN.example. clean.example: one audit, one recorded result', { timeout: 120_000 }, async (t) => {
  const { dir, panel, dns } = await demoPanelWithDns(t, 'mh-dup-');
  const db = join(dir, 'h.sqlite');
  const r = await runCli(['--panel-root', panel, '--resolver', dns.address, '--authoritative-port', String(dns.port), '--db', db, 'audit', 'clean.example', 'CLEAN.example.', 'clean.example', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as { domains: { domain: string }[] }).domains.map((d) => d.domain), ['clean.example']);
  const store = openStore(db);
  try {
    const [run] = store.listRuns({ kind: 'audit' });
    assert.equal(run.total, 1);
    assert.equal(run.done, 1);
    assert.deepEqual(store.runResults(run.id).map((a) => a.domain), ['clean.example']);
  } finally {
    store.close();
  }
});

test('domainsInScope keeps the first-seen order of distinct domains', async (t) => {
  const { panel } = await demoPanelWithDns(t, 'mh-dup-order-');
  const files = new FilesPanel(panel);
  const got = await domainsInScope(files, { user: 'root', role: 'admin' }, ['Florist.example', 'bakery.example.', 'florist.example', 'BAKERY.EXAMPLE', 'clean.example'], false);
  assert.deepEqual(got.map((d) => d.domain), ['florist.example', 'bakery.example', 'clean.example']);
});
