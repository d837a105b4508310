// The CLI audits and fixes with the admin's stored settings (the same MailChannels account id as the web UI).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDnsServer } from '../../src/adapters/dns/server.js';
import { SETTING_MAILCHANNELS_ACCOUNT } from '../../src/adapters/panels/with-settings.js';
import { openStore } from '../../src/adapters/store/store.js';
import { buildWorld } from '../../src/demo/world.js';
import { REPO_ROOT } from '../helpers/corpora.js';

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/bin.ts'), ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('audit and fix use the MailChannels account id stored on the settings page', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-settings-'));
  const panel = join(dir, 'panel');
  cpSync(join(REPO_ROOT, 'src/demo/panel'), panel, { recursive: true });
  const dns = await startDnsServer({ data: buildWorld(panel) });
  t.after(async () => {
    await dns.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const db = join(dir, 'h.sqlite');
  const base = ['--panel-root', panel, '--resolver', dns.address, '--db', db];
  const rules = async () => {
    const r = await cli([...base, 'audit', 'florist.example', '--json', '--no-history']);
    return (JSON.parse(r.stdout).domains[0].findings as { rule: string }[]).map((f) => f.rule);
  };
  // No database yet: the panel's own account id (newhostmc), and none is created just to read settings.
  assert.ok((await rules()).includes('lockdown.stale-auth'));
  assert.ok(!existsSync(db));
  // The admin says the account is "dreamhost": florist.example's auth=dreamhost is now this host's.
  const store = openStore(db);
  store.setSetting(SETTING_MAILCHANNELS_ACCOUNT, 'dreamhost');
  store.close();
  assert.ok(!(await rules()).includes('lockdown.stale-auth'));
  const plan = await cli([...base, 'fix', 'bakery.example', '--check', 'lockdown', '--json']);
  assert.equal(plan.code, 0, plan.stderr);
  const after = JSON.parse(plan.stdout).changes.map((c: { after: { value: string } | null }) => c.after?.value);
  assert.deepEqual(after, ['v=mc1 auth=dreamhost'], 'the fix writes the configured account id');
});
