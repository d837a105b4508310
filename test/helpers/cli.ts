// Shared by CLI tests: run `mailhealth` as a child process, and a fresh copy of the demo panel served on loopback DNS.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { startDnsServer, type DnsServer } from '../../src/adapters/dns/server.js';
import { buildWorld } from '../../src/demo/world.js';
import { REPO_ROOT } from './corpora.js';
import { CLI_ARGV } from './cli-argv.js';

/**
 * The history database a CLI run without `--db` (and without MAILHEALTH_DB set by the test) uses: one per test process,
 * in a temp directory — never the default path, which as root (the CI runs as root) is the machine's own
 * /var/lib/mailhealth/mailhealth.sqlite (a test's run migrated it, and a preview read its settings).
 */
let isolatedDb: string | null = null;
function cliDbEnv(): NodeJS.ProcessEnv {
  if (process.env.MAILHEALTH_DB) return process.env;
  if (!isolatedDb) {
    const dir = mkdtempSync(join(tmpdir(), 'mh-cli-db-'));
    isolatedDb = join(dir, 'mailhealth.sqlite');
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return { ...process.env, MAILHEALTH_DB: isolatedDb };
}

export function runCli(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...CLI_ARGV, ...args], { cwd: REPO_ROOT, env: cliDbEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** A temp copy of the demo panel with its world served on loopback; removed when the test ends. */
export async function demoPanelWithDns(t: TestContext, prefix: string): Promise<{ dir: string; panel: string; dns: DnsServer }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const panel = join(dir, 'panel');
  cpSync(join(REPO_ROOT, 'src/demo/panel'), panel, { recursive: true });
  const dns = await startDnsServer({ data: buildWorld(panel) });
  t.after(async () => {
    await dns.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, panel, dns };
}
