// The settings page's nightly report fields (QA, time handling item 14): the time zone field, empty, gave no hint that
// empty means the server's time zone, nor which zone that is, and nothing said when the report runs next. Now the page
// names the server's zone, and — where this process runs the report (AppDeps.reportSchedule: serve's scheduler) — the
// next run in the zone it runs in, and the schedule in force when it is not the one shown. Files panel, no DNS.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { SETTING_KEYS } from '../../src/core/settings.js';
import { createApp, type AppDeps } from '../../src/web/app.js';
import * as viewModel from '../../src/web/view-model.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { login, NO_LIMITS, setPasswords } from './helpers.js';

const NOW = new Date('2027-03-01T12:00:00Z');
const SERVER_ZONE = new Intl.DateTimeFormat().resolvedOptions().timeZone;

let dir: string;
let store: Store;
let panel: FilesPanel;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailhealth-settings-schedule-'));
  cpSync(join(REPO_ROOT, 'src/demo/panel'), join(dir, 'panel'), { recursive: true });
  panel = new FilesPanel(join(dir, 'panel'));
  store = openStore(join(dir, 'db.sqlite'));
  await setPasswords(store, ['root']);
});
after(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function settingsPage(extra: Partial<AppDeps>): Promise<string> {
  const app = createApp({ panel, store, makeResolver: () => ({}) as never, identityFrom: 'session', rateLimits: NO_LIMITS, now: () => NOW, ...extra });
  const root = await login(app, 'root');
  return (await root.agent.get('/settings').expect(200)).text;
}

function textOf(html: string, id: string): string | null {
  const m = new RegExp(`<p [^>]*id="${id}"[^>]*>([\\s\\S]*?)</p>`).exec(html);
  return m ? m[1].replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim() : null;
}

function describedBy(html: string, id: string): string[] {
  const m = new RegExp(`<input id="${id}"[^>]*>`).exec(html);
  return (/aria-describedby="([^"]*)"/.exec(m?.[0] ?? '')?.[1] ?? '').split(' ').filter(Boolean);
}

const schedule = (cronExpr: string, timezone: string | undefined, next: string) => ({ cronExpr, timezone, nextRuns: () => [new Date(next)] });

test('an empty time zone is said to be the server\'s, and which zone that is', async () => {
  store.setSettings({ [SETTING_KEYS.reportTimezone]: undefined, [SETTING_KEYS.reportSchedule]: undefined });
  const html = await settingsPage({});
  assert.equal(textOf(html, 's-tz-help'), `The zone the schedule's times are in: an IANA name such as Europe/Amsterdam or UTC. Empty: the server's time zone, which is ${SERVER_ZONE}.`);
  assert.ok(describedBy(html, 's-tz').includes('s-tz-help'));
  assert.match(html, new RegExp(`<input id="s-tz"[^>]*placeholder="server time \\(${SERVER_ZONE.replace('/', '\\/')}\\)"`));
  // The report runs in another process (or nowhere the app can see): no next run is made up.
  assert.equal(textOf(html, 's-sched-next'), null);
});

test('where this process runs the report: the next run, in the zone it runs in', async () => {
  store.setSettings({ [SETTING_KEYS.reportTimezone]: 'Australia/Sydney', [SETTING_KEYS.reportSchedule]: '0 3 * * *' });
  const html = await settingsPage({ reportSchedule: schedule('0 3 * * *', 'Australia/Sydney', '2027-03-04T16:00:00Z') });
  assert.equal(textOf(html, 's-sched-next'), 'Next run: 2027-03-05 03:00 Australia/Sydney (2027-03-04 16:00 UTC), in 3 days.');
  assert.match(html, /<time datetime="2027-03-04T16:00:00.000Z" title="2027-03-04 16:00 UTC">/);
  assert.ok(describedBy(html, 's-sched').includes('s-sched-next'));
});

test('server time: the line names the server\'s zone', async () => {
  store.setSettings({ [SETTING_KEYS.reportTimezone]: undefined, [SETTING_KEYS.reportSchedule]: '0 3 * * *' });
  const html = await settingsPage({ reportSchedule: schedule('0 3 * * *', undefined, '2027-03-02T03:00:00Z') });
  assert.equal(textOf(html, 's-sched-next'), `Next run: ${viewModel.zonedTime(new Date('2027-03-02T03:00:00Z'))} server time (${SERVER_ZONE}${/^(Etc\/)?(UTC|UCT|GMT|Universal|Zulu)$/i.test(SERVER_ZONE) ? '' : '; 2027-03-02 03:00 UTC'}), in 15 h.`);
});

test('a schedule in force other than the one shown (a flag, a fallback) is named', async () => {
  store.setSettings({ [SETTING_KEYS.reportTimezone]: undefined, [SETTING_KEYS.reportSchedule]: '0 4 * * *' });
  const html = await settingsPage({ reportSchedule: schedule('0 3 * * *', undefined, '2027-03-02T03:00:00Z') });
  assert.match(textOf(html, 's-sched-next') ?? '', /, in 15 h — by the schedule in force, "0 3 \* \* \*" in server time\.$/);
});

test('no next run where this process runs no report (serve --no-report)', async () => {
  const html = await settingsPage({ noNightlyReport: 'no-report', reportSchedule: schedule('0 3 * * *', undefined, '2027-03-02T03:00:00Z') });
  assert.equal(textOf(html, 's-sched-next'), null);
  assert.ok(textOf(html, 's-tz-help'));
});

test('untilTime and zonedTime', () => {
  assert.equal(viewModel.untilTime(new Date('2027-03-02T03:00:00Z'), NOW), 'in 15 h');
  assert.equal(viewModel.untilTime(new Date('2027-03-01T12:20:00Z'), NOW), 'in 20 min');
  assert.equal(viewModel.untilTime(new Date('2027-03-02T14:00:00Z'), NOW), 'in 1 day');
  assert.equal(viewModel.untilTime(new Date('2027-03-01T12:00:30Z'), NOW), 'now');
  assert.equal(viewModel.zonedTime(new Date('2027-03-04T16:00:00Z'), 'Australia/Sydney'), '2027-03-05 03:00');
  assert.equal(viewModel.zonedTime(new Date('2027-03-04T16:00:00Z'), 'UTC'), '2027-03-04 16:00');
});
