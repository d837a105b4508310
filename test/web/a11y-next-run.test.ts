// The settings page's "Next run" (WCAG: exact times are text, not only a tooltip): the time is in the schedule's zone,
// and its UTC form was only the <time>'s title — out of reach of the keyboard and of most screen readers, while a mail
// log to match it against is in UTC. Now the UTC form is text beside it, except where the zone is UTC itself (it would
// say the same time twice). Files panel, no DNS; the server's zone is set for this process (TZ) so "server time" is
// not UTC here.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { SETTING_KEYS } from '../../src/core/settings.js';
import { createApp, type AppDeps } from '../../src/web/app.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { login, NO_LIMITS, setPasswords } from './helpers.js';

const NOW = new Date('2027-03-01T12:00:00Z');

let dir: string;
let store: Store;
let panel: FilesPanel;
let tzBefore: string | undefined;
before(async () => {
  // Node takes a TZ set at run time; serverTimeZone() and zonedTime() read it when the page is rendered.
  tzBefore = process.env.TZ;
  process.env.TZ = 'Europe/Amsterdam';
  dir = mkdtempSync(join(tmpdir(), 'mailhealth-a11y-next-run-'));
  cpSync(join(REPO_ROOT, 'src/demo/panel'), join(dir, 'panel'), { recursive: true });
  panel = new FilesPanel(join(dir, 'panel'));
  store = openStore(join(dir, 'db.sqlite'));
  await setPasswords(store, ['root']);
});
after(() => {
  if (tzBefore === undefined) delete process.env.TZ;
  else process.env.TZ = tzBefore;
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function settingsPage(extra: Partial<AppDeps>): Promise<string> {
  const app = createApp({ panel, store, makeResolver: () => ({}) as never, identityFrom: 'session', rateLimits: NO_LIMITS, now: () => NOW, ...extra });
  const root = await login(app, 'root');
  return (await root.agent.get('/settings').expect(200)).text;
}

/** The words of paragraph `id` as read: its text without tags — attributes (a title) are not in it. */
function textOf(html: string, id: string): string | null {
  const m = new RegExp(`<p [^>]*id="${id}"[^>]*>([\\s\\S]*?)</p>`).exec(html);
  return m ? m[1].replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim() : null;
}

const schedule = (cronExpr: string, timezone: string | undefined, next: string) => ({ cronExpr, timezone, nextRuns: () => [new Date(next)] });

test('a zone of its own: the next run in that zone, and its UTC form as text', async () => {
  store.setSettings({ [SETTING_KEYS.reportTimezone]: 'Australia/Sydney', [SETTING_KEYS.reportSchedule]: '0 3 * * *' });
  const html = await settingsPage({ reportSchedule: schedule('0 3 * * *', 'Australia/Sydney', '2027-03-04T16:00:00Z') });
  assert.equal(textOf(html, 's-sched-next'), 'Next run: 2027-03-05 03:00 Australia/Sydney (2027-03-04 16:00 UTC), in 3 days.');
  // The machine-readable time stays.
  assert.match(html, /<time datetime="2027-03-04T16:00:00.000Z"[^>]*>2027-03-05 03:00<\/time>/);
});

test('server time: the server\'s zone named, and the UTC form as text', async () => {
  store.setSettings({ [SETTING_KEYS.reportTimezone]: undefined, [SETTING_KEYS.reportSchedule]: '0 4 * * *' });
  const html = await settingsPage({ reportSchedule: schedule('0 4 * * *', undefined, '2027-03-02T03:00:00Z') });
  assert.equal(textOf(html, 's-sched-next'), 'Next run: 2027-03-02 04:00 server time (Europe/Amsterdam; 2027-03-02 03:00 UTC), in 15 h.');
});

test('a schedule in UTC: the time said once, not again as its UTC form', async () => {
  store.setSettings({ [SETTING_KEYS.reportTimezone]: 'UTC', [SETTING_KEYS.reportSchedule]: '30 2 * * *' });
  const html = await settingsPage({ reportSchedule: schedule('30 2 * * *', 'UTC', '2027-03-02T02:30:00Z') });
  assert.equal(textOf(html, 's-sched-next'), 'Next run: 2027-03-02 02:30 UTC, in 15 h.');
});
