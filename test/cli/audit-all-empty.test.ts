// `audit --all` for an account with no domains printed nothing at all in text mode (exit 0): a customer or reseller
// could not tell "no domains in your scope" from a run that failed silently. The text now says so; --json is unchanged.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/corpora.js';
import { runCli } from '../helpers/cli.js';

test('audit --all with no domains in scope: a line says so (text); JSON stays {"domains": [], "gone": []}; exit 0', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-audit-empty-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const panel = join(dir, 'panel');
  cpSync(join(REPO_ROOT, 'src/demo/panel'), panel, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(panel, 'panel.json'), 'utf8')) as { accounts: unknown[] };
  cfg.accounts.push({ user: 'zed', role: 'customer', owner: 'rita', domains: [] });
  writeFileSync(join(panel, 'panel.json'), JSON.stringify(cfg));
  // No DNS is asked (there is nothing to audit): a resolver nobody answers on.
  const base = ['--panel', 'files', '--panel-root', panel, '--resolver', '127.0.0.1:9', '--db', join(dir, 'h.sqlite'), '--as', 'zed', 'audit', '--all'];

  const text = await runCli(base);
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stdout, 'No domains in scope for zed: nothing was audited.\n');

  const json = await runCli([...base, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const doc = JSON.parse(json.stdout) as { domains: unknown[]; gone: unknown[] };
  assert.deepEqual([doc.domains, doc.gone], [[], []]);
});
