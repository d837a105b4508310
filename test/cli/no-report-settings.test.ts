// `mailhealth serve --no-report` and `mailhealth demo` schedule no nightly report, and their settings page now says so
// (end-to-end QA: it showed the schedule as if it ran). Each command is started for real, on loopback, and its
// settings page read as the admin; `serve` with the report scheduled says nothing of the kind.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openStore } from '../../src/adapters/store/store.js';
import type { MailhealthApp } from '../../src/web/app.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { login, PASSWORD, setPasswords } from '../web/helpers.js';
import { CLI_ARGV } from '../helpers/cli-argv.js';

/** Starts the CLI and resolves once `ready` matches its output (stdout and stderr together), with the match. */
function start(t: TestContext, args: string[], ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI_ARGV, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    t.after(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    });
    let out = '';
    const seen = (d: Buffer) => {
      out += String(d);
      const m = ready.exec(out);
      if (m) resolve({ child, match: m });
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', seen);
    child.once('exit', (code) => reject(new Error(`exited ${code} before it was ready:\n${out}`)));
  });
}

async function settingsText(url: string, password = PASSWORD): Promise<string> {
  // supertest takes a URL as well as an app.
  const root = await login(url as unknown as MailhealthApp, 'root', password);
  return (await root.agent.get('/settings').expect(200)).text;
}

async function servedSettings(t: TestContext, flags: string[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'mh-no-report-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(REPO_ROOT, 'src/demo/panel'), join(dir, 'panel'), { recursive: true });
  const db = join(dir, 'h.sqlite');
  const store = openStore(db);
  await setPasswords(store, ['root']);
  store.close();
  const args = ['--panel-root', join(dir, 'panel'), '--resolver', '127.0.0.1:9', '--db', db, 'serve', '--port', '0', ...flags];
  const { match } = await start(t, args, /serving on (http:\/\/\S+)\n/);
  return settingsText(match[1]);
}

test('serve --no-report: the settings page says no nightly report runs here', { timeout: 60_000 }, async (t) => {
  const html = await servedSettings(t, ['--no-report']);
  assert.match(html, /id="s-no-report">This server runs no nightly report: <code>mailhealth serve<\/code> was started with <code>--no-report<\/code>\./);
  assert.doesNotMatch(html, /id="s-res-demo"/, 'serve uses the resolver setting');
});

test('serve with its nightly report: nothing of the kind', { timeout: 60_000 }, async (t) => {
  const html = await servedSettings(t, []);
  assert.match(html, /Last nightly report: none yet/);
  assert.doesNotMatch(html, /id="s-no-report"|id="s-res-demo"|id="s-ret-no-report"/);
});

test('the demo: no nightly report, and its own DNS server whatever the resolver setting says', { timeout: 90_000 }, async (t) => {
  const { match } = await start(t, ['demo', '--port', '0'], /web UI on (http:\/\/\S+?)\/\n[\s\S]*?\n {4}root +(\S+)/);
  const html = await settingsText(match[1], match[2]);
  assert.match(html, /id="s-no-report">The demo runs no nightly report:/);
  assert.match(html, /id="s-res-demo">The demo's audits and fixes always ask its own DNS server on 127\.0\.0\.1/);
});
