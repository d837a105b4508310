// `mailhealth serve` gives its app the nightly report's scheduler: the settings page says when the report runs next,
// in the zone it runs in (QA, time handling item 14). `--report-cron` / `--report-tz` make the next run known
// whatever the day; port 57520 (this suite's range), loopback only.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import request from 'supertest';
import { openStore } from '../../src/adapters/store/store.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { csrfFrom, PASSWORD, setPasswords } from '../web/helpers.js';
import { CLI_ARGV } from '../helpers/cli-argv.js';

const PORT = 57520;

test('serve: the settings page names the next nightly report run', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-serve-next-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(REPO_ROOT, 'src/demo/panel'), join(dir, 'panel'), { recursive: true });
  const db = join(dir, 'h.sqlite');
  const store = openStore(db);
  await setPasswords(store, ['root']);
  store.close();
  const args = ['--panel-root', join(dir, 'panel'), '--resolver', '127.0.0.1:9', '--db', db, 'serve', '--port', String(PORT), '--report-cron', '30 2 * * *', '--report-tz', 'UTC'];
  const child = spawn(process.execPath, [...CLI_ARGV, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  t.after(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += String(d);
      if (/serving on /.test(stderr)) resolve();
    });
    child.on('exit', () => reject(new Error(`serve exited: ${stderr}`)));
  });
  const agent = request.agent(`http://127.0.0.1:${PORT}`);
  const page = await agent.get('/login').expect(200);
  await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), user: 'root', password: PASSWORD }).expect(303);
  const html = (await agent.get('/settings').expect(200)).text;
  const line = /<p [^>]*id="s-sched-next"[^>]*>([\s\S]*?)<\/p>/.exec(html)?.[1].replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim();
  // The flags win over the stored (default) schedule the form shows: the line names the one in force.
  assert.match(line ?? '', /^Next run: \d{4}-\d\d-\d\d 02:30 UTC, (in \d+ (min|h)|in 1 day|now) — by the schedule in force, "30 2 \* \* \*" in UTC\.$/, line);
});
