// Runs every test/**/*.test.ts with Node's test runner (Node 20's --test takes no globs).
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
const args = process.argv.slice(2);
const files = (args.length ? args : ['test']).flatMap((a) => (statSync(a).isDirectory() ? find(a) : [a]));
// A service or root front door started by a test publishes the shared settings (src/cli/shared-settings.ts): into a
// temp dir, never /etc.
const scratch = mkdtempSync(join(tmpdir(), 'mailhealth-test-run-'));
const env = { ...process.env, MAILHEALTH_SHARED_SETTINGS: process.env.MAILHEALTH_SHARED_SETTINGS || join(scratch, 'shared-settings.json') };
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], { stdio: 'inherit', env });
child.on('exit', (code, signal) => {
  rmSync(scratch, { recursive: true, force: true });
  process.exit(code ?? (signal ? 1 : 0));
});
