// `mailhealth service` (the background service of the cPanel and Plesk installs) schedules the nightly report as
// `serve` does: at the settings page's schedule, not at all with --no-report, and a schedule saved on the settings
// page through a front door (the WHM page handing the request to the service) moves the running report at once.
import '../helpers/shared-settings.js';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { REPO_ROOT } from '../helpers/corpora.js';
import { runCgi, startService, type ServiceOptions } from '../../src/cli/commands/cgi.js';
import { openStore } from '../../src/adapters/store/store.js';
import { SETTING_KEYS } from '../../src/core/settings.js';
import { csrfFrom } from '../web/helpers.js';
import { fakeSchedule } from '../cron/fake-schedule.js';
import { CLI_ARGV } from '../helpers/cli-argv.js';

const KEY = 'front-door-key-for-the-service-tests-0123456789';

/** A temp dir with a copy of the demo panel and a front-door key (0600). */
function sandbox(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'mh-service-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(REPO_ROOT, 'src/demo/panel'), join(dir, 'panel'), { recursive: true });
  const key = join(dir, 'frontdoor.key');
  writeFileSync(key, KEY + '\n', { mode: 0o600 });
  return { dir, panel: join(dir, 'panel'), key, db: join(dir, 'h.sqlite'), sock: join(dir, 'svc.sock') };
}

function service(args: string[], untilLine: RegExp | null): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...CLI_ARGV, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stopping = false;
    child.stderr.on('data', (d) => {
      stderr += String(d);
      // One SIGTERM only: the service stops on the first; a second one would kill it outright.
      if (untilLine && !stopping && untilLine.test(stderr)) {
        stopping = true;
        child.kill('SIGTERM');
      }
    });
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

test('the service command schedules the nightly report and stops cleanly; --no-report schedules nothing; a bad cron expression is a usage error', async (t) => {
  const s = sandbox(t);
  const base = ['--panel-root', s.panel, '--resolver', '127.0.0.1:9', '--db', s.db, 'service', '--socket', s.sock, '--key', s.key];
  // Stopped at the first start-up line: the next one (the schedule) is written before the SIGTERM is handled, so the
  // whole stderr says what was scheduled.
  const on = await service([...base, '--report-cron', '30 2 * * *', '--report-tz', 'UTC'], /front-door service on/);
  assert.equal(on.code, 0, on.stderr);
  assert.match(on.stderr, /front-door service on unix:/);
  assert.match(on.stderr, /nightly report "30 2 \* \* \*" \(UTC\), next \d{4}-\d\d-\d\dT02:30:00/);
  const off = await service([...base, '--no-report'], /front-door service on/);
  assert.equal(off.code, 0, off.stderr);
  assert.doesNotMatch(off.stderr, /nightly report/);
  const bad = await service([...base, '--report-cron', 'every night'], null);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /cron|schedule/i);
});

/** `mailhealth service` as the command starts it, on a socket in a temp dir, with node-cron's stand-in. */
async function startedService(t: TestContext, flags: Partial<ServiceOptions> = {}, settings: Record<string, string> = {}) {
  const s = sandbox(t);
  if (Object.keys(settings).length) {
    const store = openStore(s.db);
    for (const [k, v] of Object.entries(settings)) store.setSetting(k, v);
    store.close();
  }
  const fake = fakeSchedule();
  const logs: string[] = [];
  const svc = await startService(
    { panelRoot: s.panel, resolver: '127.0.0.1:9', db: s.db, socket: s.sock, port: '8081', key: s.key, ...flags },
    { schedule: fake.schedule, log: (m) => logs.push(m) },
  );
  t.after(() => svc.close());
  return { ...s, svc, fake, logs };
}

/** One request through the WHM page (root), handed to the service on its socket; the page's own database stays unused. */
async function throughWhm(s: { dir: string; panel: string; key: string; sock: string }, req: { method?: string; path: string; cookie?: string; form?: Record<string, string> }) {
  const body = req.form ? Buffer.from(new URLSearchParams(req.form).toString()) : Buffer.alloc(0);
  const env: NodeJS.ProcessEnv = {
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: req.path,
    REMOTE_USER: 'root',
    HTTP_ACCEPT: 'text/html',
    ...(req.cookie ? { HTTP_COOKIE: req.cookie } : {}),
    ...(req.form ? { CONTENT_TYPE: 'application/x-www-form-urlencoded', CONTENT_LENGTH: String(body.length) } : {}),
  };
  const o = { frontDoor: 'whm', service: s.sock, key: s.key, panel: 'files', panelRoot: s.panel, db: join(s.dir, 'whm-page.sqlite'), serverRoot: s.dir };
  const out = (await runCgi('whm', o, env, Readable.from([body]), { user: 'root', uid: 0, home: '/root' })).toString();
  const head = out.slice(0, out.indexOf('\r\n\r\n'));
  return {
    status: Number(/^Status: (\d{3})/.exec(head)?.[1]),
    cookie: /^Set-Cookie: ([^;\r\n]+)/im.exec(head)?.[1],
    text: out.slice(head.length + 4),
  };
}

/** Opens the settings page through the WHM page and saves a schedule there. */
async function saveScheduleThroughWhm(s: Parameters<typeof throughWhm>[0], reportSchedule: string, reportTimezone: string) {
  const page = await throughWhm(s, { path: '/settings' });
  assert.equal(page.status, 200, page.text);
  assert.ok(page.cookie, 'the session cookie carries the CSRF token');
  const saved = await throughWhm(s, { method: 'POST', path: '/settings', cookie: page.cookie, form: { _csrf: csrfFrom(page.text), reportSchedule, reportTimezone, retentionDays: '90' } });
  return { page, saved };
}

test('the service schedules the nightly report at the settings page\'s schedule', async (t) => {
  const { svc, fake, logs } = await startedService(t, {}, { [SETTING_KEYS.reportSchedule]: '45 1 * * *', [SETTING_KEYS.reportTimezone]: 'UTC' });
  assert.ok(svc.report, 'a nightly report');
  assert.deepEqual(fake.exprs, ['45 1 * * *']);
  assert.deepEqual(fake.timezones, ['UTC']);
  assert.equal(svc.report.scheduler.cronExpr, '45 1 * * *');
  assert.ok(logs.includes('nightly report scheduled: "45 1 * * *" (UTC)'), logs.join('\n'));
});

test('the service publishes the shared settings for the cPanel page at start and again when they are saved', async (t) => {
  const shared = process.env.MAILHEALTH_SHARED_SETTINGS!;
  assert.ok(shared && !shared.startsWith('/etc/'), 'scripts/test.mjs points the shared settings into a temp dir');
  const s = await startedService(t, {}, { [SETTING_KEYS.mailchannelsAccountId]: 'firstmc' });
  assert.equal(JSON.parse(readFileSync(shared, 'utf8'))[SETTING_KEYS.mailchannelsAccountId], 'firstmc');
  const page = await throughWhm(s, { path: '/settings' });
  const saved = await throughWhm(s, { method: 'POST', path: '/settings', cookie: page.cookie, form: { _csrf: csrfFrom(page.text), mailchannelsAccountId: 'secondmc', retentionDays: '90' } });
  assert.equal(saved.status, 303, saved.text);
  assert.equal(JSON.parse(readFileSync(shared, 'utf8'))[SETTING_KEYS.mailchannelsAccountId], 'secondmc');
});

test('saving a schedule on the settings page through the WHM front door reschedules the service\'s report at once', async (t) => {
  const s = await startedService(t);
  assert.deepEqual(s.fake.exprs, ['0 3 * * *'], 'default 03:00, server time');
  const { page, saved } = await saveScheduleThroughWhm(s, '15 4 * * *', 'UTC');
  assert.doesNotMatch(page.text, /--report-(cron|tz)/, 'nothing is fixed on the command line');
  assert.equal(saved.status, 303, saved.text);
  assert.ok(!existsSync(join(s.dir, 'whm-page.sqlite')), 'handled by the service, not in the WHM page process');
  assert.equal(s.svc.report?.scheduler.cronExpr, '15 4 * * *');
  assert.equal(s.svc.report?.scheduler.timezone, 'UTC');
  assert.deepEqual(s.fake.exprs, ['0 3 * * *', '15 4 * * *']);
  assert.equal(s.fake.destroyed(), 1, 'the old node-cron task is gone');
  assert.ok(s.logs.includes('nightly report rescheduled: "15 4 * * *" (UTC)'), s.logs.join('\n'));
});

test('service --report-cron: the settings page through the front door says the schedule is fixed, and saving does not move it', async (t) => {
  const s = await startedService(t, { reportCron: '30 2 * * *' });
  const { page, saved } = await saveScheduleThroughWhm(s, '15 4 * * *', 'UTC');
  assert.match(page.text, /started with <code>--report-cron "30 2 \* \* \*"<\/code>/);
  assert.equal(saved.status, 303, saved.text);
  assert.equal(s.svc.report?.scheduler.cronExpr, '30 2 * * *');
  assert.equal(s.svc.report?.scheduler.timezone, 'UTC', 'the time zone still follows the page');
});

test('the settings page through the front door says when the service runs the report next, in its zone (as serve\'s does)', async (t) => {
  const s = await startedService(t, { reportCron: '30 2 * * *', reportTz: 'UTC' });
  const page = await throughWhm(s, { path: '/settings' });
  const line = /<p [^>]*id="s-sched-next"[^>]*>([\s\S]*?)<\/p>/.exec(page.text)?.[1].replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim();
  assert.match(line ?? '', /^Next run: \d{4}-\d\d-\d\d 02:30 UTC\b/, line ?? page.text.slice(0, 3000));
});

test('service --no-report schedules nothing, and a saved schedule schedules nothing either', async (t) => {
  const s = await startedService(t, { report: false });
  assert.equal(s.svc.report, null);
  const { saved } = await saveScheduleThroughWhm(s, '15 4 * * *', 'UTC');
  assert.equal(saved.status, 303, saved.text);
  assert.deepEqual(s.fake.exprs, []);
  assert.deepEqual(s.logs, []);
});

test('stopping the service is graceful as serve\'s stop is: its running bulk jobs are cancelled and waited for before the store closes', async (t) => {
  const { svc, logs } = await startedService(t);
  // QA: a restart of serve left the domains a bulk fix job was fixing locked for the lock's 2 minutes; the service
  // runs the panels' bulk jobs too, and stopped at once.
  const runner = svc.server.app.runner;
  let stopped = 0;
  const stop = runner.stop.bind(runner);
  runner.stop = () => {
    stopped++;
    return stop();
  };
  assert.equal(await svc.close(), 'drained');
  assert.equal(stopped, 1, 'the job runner was stopped (its jobs cancelled, the domains being fixed waited for)');
  assert.ok(logs.some((l) => /^stopping/.test(l)), logs.join('\n'));
  assert.equal(await svc.close(), 'drained', 'a second close is the same stop');
});
