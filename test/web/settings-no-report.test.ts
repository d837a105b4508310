// The settings page where no nightly report is scheduled (end-to-end QA): the demo, and `serve --no-report`, showed the
// schedule, recipients and resolver as if they took effect. The app is told (AppDeps.noNightlyReport) and the page
// says what is stored and what runs: nothing, for the report; for the demo also the resolver (it always asks its own
// DNS server) and that its database goes when it stops. Where the report runs (or runs in another process: the
// panels' `mailhealth service`), nothing is said. Files panel (a copy of the demo's), no DNS.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { createApp, type AppDeps } from '../../src/web/app.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { login, NO_LIMITS, setPasswords } from './helpers.js';

let dir: string;
let store: Store;
let panel: FilesPanel;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailhealth-settings-no-report-'));
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
  const noDns = () => {
    throw new Error('no DNS in this test');
  };
  const app = createApp({ panel, store, makeResolver: noDns, identityFrom: 'session', rateLimits: NO_LIMITS, ...extra });
  const root = await login(app, 'root');
  return (await root.agent.get('/settings').expect(200)).text;
}

/** The text of the element with this id (tags dropped, whitespace collapsed), or null. */
function textOf(html: string, id: string): string | null {
  const m = new RegExp(`<p [^>]*id="${id}"[^>]*>([\\s\\S]*?)</p>`).exec(html);
  return m ? m[1].replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim() : null;
}

/** The aria-describedby ids of the input with this id. */
function describedBy(html: string, id: string): string[] {
  const m = new RegExp(`<input id="${id}"[^>]*>`).exec(html);
  return (/aria-describedby="([^"]*)"/.exec(m?.[0] ?? '')?.[1] ?? '').split(' ').filter(Boolean);
}

test('serve --no-report: the page says no nightly report runs here and what the stored fields are still for', async () => {
  const html = await settingsPage({ noNightlyReport: 'no-report' });
  assert.equal(
    textOf(html, 's-no-report'),
    'This server runs no nightly report: mailhealth serve was started with --no-report. The schedule is stored for when it runs without it; ' +
      'the recipients, time zone and link address are also what mailhealth report uses, run by hand or from system cron (--email sends to these recipients).',
  );
  for (const field of ['s-sched', 's-rcpt', 's-tz', 's-base']) assert.ok(describedBy(html, field).includes('s-no-report'), field);
  assert.match(textOf(html, 's-ret-no-report') ?? '', /after each nightly report, and none runs here: mailhealth prune deletes it by hand/);
  // The resolver setting is used by serve's audits and fixes: nothing said about it.
  assert.equal(textOf(html, 's-res-demo'), null);
  assert.deepEqual(describedBy(html, 's-res'), []);
});

test('the demo: no nightly report, the resolver not used, the database temporary', async () => {
  const html = await settingsPage({ noNightlyReport: 'demo' });
  assert.match(textOf(html, 's-no-report') ?? '', /^The demo runs no nightly report: the schedule, recipients, time zone and link address are saved, but nothing here uses them, and the demo's database goes when it stops \(unless it was started with --db\)\./);
  assert.equal(
    textOf(html, 's-res-demo'),
    "The demo's audits and fixes always ask its own DNS server on 127.0.0.1, which plays the internet: a resolver saved here is stored but the demo does not use it (mailhealth serve, the panel's background service and mailhealth report do).",
  );
  assert.deepEqual(describedBy(html, 's-res'), ['s-res-demo']);
  assert.ok(describedBy(html, 's-sched').includes('s-no-report'));
  assert.ok(textOf(html, 's-ret-no-report'));
});

test('where the report is scheduled (or by another process the app cannot see), nothing of the kind is said', async () => {
  const html = await settingsPage({});
  for (const id of ['s-no-report', 's-res-demo', 's-ret-no-report']) assert.equal(textOf(html, id), null, id);
  assert.deepEqual(describedBy(html, 's-sched'), []);
  assert.deepEqual(describedBy(html, 's-base'), ['s-base-help']);
});

test('service --no-report (the panels\' background service, the report run from system cron): the page says so (review)', async () => {
  const html = await settingsPage({ noNightlyReport: 'service-no-report' });
  assert.match(textOf(html, 's-no-report') ?? '', /^This server runs no nightly report: mailhealth service was started with --no-report\./);
  assert.ok(describedBy(html, 's-sched').includes('s-no-report'));
});
