// A report schedule saved by an older version's settings page in six fields or as `@daily` (QA h2 item 5): the
// background service logged it as not used and ran 03:00, while the settings page still showed "0 30 2 * * *" with no
// word — the admin found out only when saving the page refused the field. Now a form older versions took runs as its
// five fields (the same times), the page shows those five fields with a note, and saving stores them; any other saved
// schedule that will not do gets a warning beside the field: what runs instead, and what to enter. Files panel, no DNS.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { SETTING_KEYS } from '../../src/core/settings.js';
import { createApp, type AppDeps } from '../../src/web/app.js';
import { readSettings, saveSettings, storedScheduleNote } from '../../src/web/settings.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { login, NO_LIMITS, setPasswords } from './helpers.js';

const NOW = new Date('2027-03-01T12:00:00Z');

let dir: string;
let store: Store;
let panel: FilesPanel;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailhealth-settings-older-'));
  cpSync(join(REPO_ROOT, 'src/demo/panel'), join(dir, 'panel'), { recursive: true });
  panel = new FilesPanel(join(dir, 'panel'));
  store = openStore(join(dir, 'db.sqlite'));
  await setPasswords(store, ['root']);
});
after(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function app(extra: Partial<AppDeps> = {}) {
  return createApp({ panel, store, makeResolver: () => ({}) as never, identityFrom: 'session', rateLimits: NO_LIMITS, now: () => NOW, ...extra });
}

async function settingsPage(extra: Partial<AppDeps> = {}): Promise<string> {
  const root = await login(app(extra), 'root');
  return (await root.agent.get('/settings').expect(200)).text;
}

function textOf(html: string, id: string): string | null {
  const m = new RegExp(`<p [^>]*id="${id}"[^>]*>([\\s\\S]*?)</p>`).exec(html);
  return m ? m[1].replace(/<[^>]+>/g, '').replace(/&quot;|&#34;/g, '"').replace(/\s+/g, ' ').trim() : null;
}

function scheduleInput(html: string): { value: string; describedBy: string[] } {
  const m = /<input id="s-sched"[^>]*>/.exec(html)?.[0] ?? '';
  return {
    value: /value="([^"]*)"/.exec(m)?.[1] ?? '',
    describedBy: (/aria-describedby="([^"]*)"/.exec(m)?.[1] ?? '').split(' ').filter(Boolean),
  };
}

const schedule = (cronExpr: string, next: string) => ({ cronExpr, timezone: undefined, nextRuns: () => [new Date(next)] });

test('six fields with seconds 0, saved by an older version: shown as its five fields, with a note; saving stores them', async () => {
  store.setSettings({ [SETTING_KEYS.reportSchedule]: '0 30 2 * * *' });
  const html = await settingsPage({ reportSchedule: schedule('30 2 * * *', '2027-03-02T02:30:00Z') });
  const input = scheduleInput(html);
  assert.equal(input.value, '30 2 * * *');
  assert.ok(input.describedBy.includes('s-sched-stored'), input.describedBy.join(' '));
  assert.equal(
    textOf(html, 's-sched-stored'),
    'The saved schedule 0 30 2 * * * is in a form older versions took (six fields, seconds first) and this one does not: the report runs on its five fields, 30 2 * * *, at the same times. The field shows them; saving this page stores them.',
  );
  assert.match(html, /<p class="alert alert-info" id="s-sched-stored">/);
  // The service runs what the field shows: no "by the schedule in force" either.
  assert.doesNotMatch(textOf(html, 's-sched-next') ?? '', /in force/);
  // The admin saves the page as shown (another field changed): no refusal, the five fields are stored.
  const root = await login(app(), 'root');
  const page = await root.agent.get('/settings').expect(200);
  assert.equal(scheduleInput(page.text).value, '30 2 * * *');
  const post = await root.agent
    .post('/settings')
    .type('form')
    .send({ _csrf: root.csrf, reportSchedule: scheduleInput(page.text).value, retentionDays: '60', reportTimezone: '' });
  assert.equal(post.status, 303, post.text);
  assert.equal(store.getSetting(SETTING_KEYS.reportSchedule), '30 2 * * *');
  assert.equal(textOf(await settingsPage(), 's-sched-stored'), null);
});

test('@daily and the other nicknames: their five fields', async () => {
  store.setSettings({ [SETTING_KEYS.reportSchedule]: '@daily' });
  const html = await settingsPage();
  assert.equal(scheduleInput(html).value, '0 0 * * *');
  assert.match(textOf(html, 's-sched-stored') ?? '', /^The saved schedule @daily is in a form older versions took \(a nickname\) and this one does not: the report runs on its five fields, 0 0 \* \* \*, at the same times\./);
  for (const [nick, five] of [['@hourly', '0 * * * *'], ['@weekly', '0 0 * * 0'], ['@monthly', '0 0 1 * *'], ['@YEARLY', '0 0 1 1 *'], ['@midnight', '0 0 * * *']]) {
    assert.equal(storedScheduleNote(nick)?.runsAs, five, nick);
  }
});

test('a saved schedule that is not used: a warning beside the field — what runs instead and what to enter', async () => {
  // Every second, in older versions: nothing to keep.
  store.setSettings({ [SETTING_KEYS.reportSchedule]: '* * * * * *' });
  let html = await settingsPage();
  assert.equal(scheduleInput(html).value, '* * * * * *');
  assert.match(html, /<p class="alert alert-warn" id="s-sched-stored">/);
  const said = textOf(html, 's-sched-stored') ?? '';
  assert.match(said, /^The saved schedule \* \* \* \* \* \* is not used: invalid cron expression "\* \* \* \* \* \*": 6 fields, not five\./);
  assert.match(said, / The report runs on 0 3 \* \* \* \(the default, 03:00\) instead\. Enter five cron fields — minute hour day-of-month month day-of-week, e\.g\. 0 3 \* \* \* \(03:00 every day\) — and save\.$/);
  // Where this process runs the report, the schedule in force is named.
  html = await settingsPage({ reportSchedule: schedule('0 3 * * *', '2027-03-02T03:00:00Z') });
  assert.match(textOf(html, 's-sched-stored') ?? '', / The report runs on 0 3 \* \* \* instead\. /);
  // Six fields with seconds other than 0: the same minute is offered, not run.
  store.setSettings({ [SETTING_KEYS.reportSchedule]: '30 0 3 * * *' });
  html = await settingsPage();
  assert.equal(scheduleInput(html).value, '30 0 3 * * *');
  assert.match(textOf(html, 's-sched-stored') ?? '', /is not used: .* Enter 0 3 \* \* \* to run it in the same minute \(five fields, without the seconds older versions took\), or other five cron fields\.$/);
  // Nothing but what was saved and a clear message: saving it as shown is refused, naming the five fields.
  const r = saveSettings(store, { ...readSettings(store), blocklists: '' });
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.errors.reportSchedule ?? '', /In five fields, "30 0 3 \* \* \*" is "0 3 \* \* \*" \(the same minute, without its seconds\)/);
});

test('a schedule this version takes: no note', async () => {
  store.setSettings({ [SETTING_KEYS.reportSchedule]: '15 4 * * 1' });
  const html = await settingsPage();
  assert.equal(textOf(html, 's-sched-stored'), null);
  assert.ok(!scheduleInput(html).describedBy.includes('s-sched-stored'));
  store.setSettings({ [SETTING_KEYS.reportSchedule]: undefined });
  assert.equal(textOf(await settingsPage(), 's-sched-stored'), null);
  assert.equal(storedScheduleNote(' 0 4 * * *\n'), null);
});

test('typed on the page now, @daily is refused with its five fields named (the five-field rule stands for new input)', () => {
  const r = saveSettings(store, { ...readSettings(store), blocklists: '', reportSchedule: '@daily' });
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.errors.reportSchedule ?? '', /In five fields, "@daily" is "0 0 \* \* \*"/);
});
