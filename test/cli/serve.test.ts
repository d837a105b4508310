// `mailhealth serve` schedules the nightly report (node-cron) and refuses a bad schedule with exit 2; the running
// schedule follows the settings page (right after a save, and a periodic check for other processes' writes) unless
// the command line fixed it.
import { mock, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/corpora.js';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore } from '../../src/adapters/store/store.js';
import { SCHEDULE_CHECK_MS, startNightlyReport } from '../../src/cli/nightly.js';
import { createApp } from '../../src/web/app.js';
import { SETTING_KEYS } from '../../src/core/settings.js';
import { login, NO_LIMITS, setPasswords } from '../web/helpers.js';
import { fakeSchedule } from '../cron/fake-schedule.js';
import { CLI_ARGV } from '../helpers/cli-argv.js';

function serve(args: string[], untilLine: RegExp | null): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...CLI_ARGV, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** `serve`'s nightly report and web app over a temp store and demo panel, wired as the serve command wires them. */
async function servedReport(t: TestContext, flags: { reportCron?: string; reportTz?: string } = {}, settings: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mh-serve-follow-'));
  cpSync(join(REPO_ROOT, 'src/demo/panel'), join(dir, 'panel'), { recursive: true });
  const db = join(dir, 'h.sqlite');
  const store = openStore(db);
  const panel = new FilesPanel(join(dir, 'panel'));
  await setPasswords(store, ['root']);
  for (const [k, v] of Object.entries(settings)) store.setSetting(k, v);
  const fake = fakeSchedule();
  const logs: string[] = [];
  const report = startNightlyReport(flags, panel, store, { schedule: fake.schedule, log: (m) => logs.push(m) });
  const noDns = () => {
    throw new Error('no DNS in this test');
  };
  const app = createApp({ panel, store, makeResolver: noDns, identityFrom: 'session', rateLimits: NO_LIMITS, ...report.web });
  t.after(async () => {
    await report.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { app, store, db, report, fake, logs };
}

test('a stored schedule or time zone that will not do does not keep the service down: the default is used, and logged', async (t) => {
  const { report, fake, logs } = await servedReport(t, {}, { [SETTING_KEYS.reportSchedule]: '99 3 * * *', [SETTING_KEYS.reportTimezone]: 'Mars/Olympus' });
  assert.equal(report.scheduler.cronExpr, '0 3 * * *');
  assert.equal(report.scheduler.timezone, undefined);
  assert.deepEqual(fake.exprs, ['0 3 * * *']);
  assert.ok(logs.some((l) => l.startsWith('the saved report schedule "99 3 * * *" is not used, "0 3 * * *" instead')), logs.join('\n'));
  assert.ok(logs.some((l) => l.startsWith('the saved report time zone "Mars/Olympus" is not used, server time instead')), logs.join('\n'));
});

const form = (csrf: string, reportSchedule: string, reportTimezone: string) => ({ _csrf: csrf, reportSchedule, reportTimezone, retentionDays: '90' });

test('saving a schedule on the settings page moves the running nightly report at once', async (t) => {
  const { app, report, fake, logs } = await servedReport(t);
  assert.equal(report.scheduler.cronExpr, '0 3 * * *');
  const { agent, csrf } = await login(app, 'root');
  await agent.post('/settings').type('form').send(form(csrf, '15 4 * * *', 'UTC')).expect(303);
  assert.equal(report.scheduler.cronExpr, '15 4 * * *');
  assert.equal(report.scheduler.timezone, 'UTC');
  assert.deepEqual(fake.exprs, ['0 3 * * *', '15 4 * * *']);
  assert.equal(fake.destroyed(), 1, 'the old node-cron task is gone');
  assert.ok(logs.includes('nightly report rescheduled: "15 4 * * *" (UTC)'), logs.join('\n'));
  // A form with errors saves nothing and moves nothing; an empty schedule is the default again, in server time.
  await agent.post('/settings').type('form').send(form(csrf, '99 4 * * *', 'UTC')).expect(400);
  assert.equal(fake.exprs.length, 2);
  await agent.post('/settings').type('form').send(form(csrf, '', '')).expect(303);
  assert.equal(report.scheduler.cronExpr, '0 3 * * *');
  assert.equal(report.scheduler.timezone, undefined);
  assert.ok(logs.includes('nightly report rescheduled: "0 3 * * *" (server time)'));
  // Nothing on the page says the fields are fixed.
  assert.doesNotMatch((await agent.get('/settings').expect(200)).text, /--report-(cron|tz)/);
});

test('with --report-cron / --report-tz the command line wins: saving does not move them, and the page says so', async (t) => {
  const both = await servedReport(t, { reportCron: '30 2 * * *', reportTz: 'Europe/Amsterdam' });
  const s = await login(both.app, 'root');
  const page = (await s.agent.get('/settings').expect(200)).text;
  assert.match(page, /started with <code>--report-cron "30 2 \* \* \*"<\/code>/);
  assert.match(page, /started with <code>--report-tz "Europe\/Amsterdam"<\/code>/);
  await s.agent.post('/settings').type('form').send(form(s.csrf, '15 4 * * *', 'UTC')).expect(303);
  assert.equal(both.store.getSetting(SETTING_KEYS.reportSchedule), '15 4 * * *', 'the settings are saved all the same');
  assert.equal(both.report.scheduler.cronExpr, '30 2 * * *');
  assert.equal(both.report.scheduler.timezone, 'Europe/Amsterdam');
  assert.equal(both.report.refresh(), false);
  assert.deepEqual(both.fake.exprs, ['30 2 * * *']);
  assert.ok(!both.logs.some((l) => /rescheduled/.test(l)));

  // Each flag fixes its own field (what a restart would do): the time zone still follows the page.
  const cronOnly = await servedReport(t, { reportCron: '30 2 * * *' });
  const c = await login(cronOnly.app, 'root');
  const page2 = (await c.agent.get('/settings').expect(200)).text;
  assert.match(page2, /--report-cron "30 2/);
  assert.doesNotMatch(page2, /--report-tz/);
  await c.agent.post('/settings').type('form').send(form(c.csrf, '15 4 * * *', 'UTC')).expect(303);
  assert.equal(cronOnly.report.scheduler.cronExpr, '30 2 * * *');
  assert.equal(cronOnly.report.scheduler.timezone, 'UTC');
});

test('refresh picks up a schedule another process wrote; a bad stored one is logged once and the old one stays', async (t) => {
  const { db, report, fake, logs } = await servedReport(t);
  // Another process (the CGI front door, a script) writes the settings in the same database.
  const other = openStore(db);
  t.after(() => other.close());
  other.setSetting(SETTING_KEYS.reportSchedule, '45 1 * * *');
  other.setSetting(SETTING_KEYS.reportTimezone, 'UTC');
  assert.equal(report.refresh(), true);
  assert.equal(report.scheduler.cronExpr, '45 1 * * *');
  assert.equal(report.scheduler.timezone, 'UTC');
  assert.equal(report.refresh(), false, 'nothing new');
  assert.equal(fake.exprs.length, 2);
  // saveSettings validates, but a hand-edited database might not.
  other.setSetting(SETTING_KEYS.reportSchedule, '0 25 * * *');
  assert.equal(report.refresh(), false);
  assert.equal(report.refresh(), false);
  assert.equal(report.scheduler.cronExpr, '45 1 * * *');
  assert.equal(fake.exprs.length, 2);
  assert.equal(logs.filter((l) => /not used, "45 1 \* \* \*" stays: invalid cron expression "0 25 \* \* \*"/.test(l)).length, 1, logs.join('\n'));
});

test('the settings are checked every minute until the report stops', async (t) => {
  mock.timers.enable({ apis: ['setInterval'] });
  t.after(() => mock.timers.reset());
  const { store, report } = await servedReport(t);
  store.setSetting(SETTING_KEYS.reportSchedule, '5 5 * * *');
  mock.timers.tick(SCHEDULE_CHECK_MS - 1);
  assert.equal(report.scheduler.cronExpr, '0 3 * * *');
  mock.timers.tick(1);
  assert.equal(report.scheduler.cronExpr, '5 5 * * *');
  assert.equal(SCHEDULE_CHECK_MS, 60_000);
  await report.stop();
  store.setSetting(SETTING_KEYS.reportSchedule, '6 6 * * *');
  // After stop the timer is gone: the settings are not even read (a stopped scheduler would refuse the change anyway).
  let reads = 0;
  const getSetting = store.getSetting.bind(store);
  store.getSetting = ((key: string) => (reads++, getSetting(key))) as typeof store.getSetting;
  mock.timers.tick(SCHEDULE_CHECK_MS * 3);
  assert.equal(reads, 0, 'no check after stop');
  assert.equal(report.scheduler.cronExpr, '5 5 * * *');
});
