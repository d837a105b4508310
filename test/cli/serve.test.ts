// `mailhealth serve` schedules the nightly report (node-cron) and refuses a bad schedule with exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/corpora.js';

function serve(args: string[], untilLine: RegExp | null): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/bin.ts'), ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
      if (untilLine && untilLine.test(stderr)) child.kill('SIGTERM');
    });
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

test('serve schedules the nightly report and stops cleanly; a bad cron expression is a usage error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-serve-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(REPO_ROOT, 'src/demo/panel'), join(dir, 'panel'), { recursive: true });
  const base = ['--panel-root', join(dir, 'panel'), '--resolver', '127.0.0.1:9', '--db', join(dir, 'h.sqlite'), 'serve', '--port', '0'];
  const ok = await serve([...base, '--report-cron', '30 2 * * *', '--report-tz', 'UTC'], /, next .*\n/);
  assert.match(ok.stderr, /nightly report "30 2 \* \* \*" \(UTC\), next \d{4}-\d\d-\d\dT02:30:00/);
  const bad = await serve([...base, '--report-cron', 'every night'], null);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /cron|schedule/i);
  const off = await serve([...base, '--no-report'], /serving on/);
  assert.doesNotMatch(off.stderr, /nightly report/);
});
