// The settings page (admin) says how the last nightly report run went: when, complete with how many domains, or not
// complete — a night the panel could not be read says so with the panel's error (escaped: it is whatever answered in
// the panel's place) — or that none ran yet. Before, nothing on the page told the admin that the nightly run had failed.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { PanelError } from '../../src/core/panel.js';
import { recordPanelFailure } from '../../src/cron/report.js';
import { DEMO_PANEL_DIR } from '../../src/demo/world.js';
import { createApp } from '../../src/web/app.js';
import { lastReport } from '../../src/web/routes/settings.js';
import { utcText } from '../../src/web/view-model.js';
import { login, NO_LIMITS, setPasswords } from './helpers.js';

const NIGHT = Date.parse('2026-03-01T03:00:00.000Z');
const HOUR = 3_600_000;

/** The page's "Last nightly report" line, tags and all. */
function line(html: string): string {
  const m = /<p class="help" id="s-last-report">([\s\S]*?)<\/p>/.exec(html);
  assert.ok(m, 'the settings page has the last report line');
  return m[1];
}

describe('settings page: the last nightly report run', () => {
  let dir: string;
  let store: Store;
  let app: ReturnType<typeof createApp>;
  const clock = { t: NIGHT };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mh-settings-last-'));
    cpSync(DEMO_PANEL_DIR, join(dir, 'panel'), { recursive: true });
    store = openStore(join(dir, 'h.sqlite'), { now: () => clock.t });
    app = createApp({
      panel: new FilesPanel(join(dir, 'panel')),
      store,
      makeResolver: () => {
        throw new Error('the settings page asks no DNS');
      },
      identityFrom: 'session',
      adminToken: null,
      rateLimits: NO_LIMITS,
      now: () => new Date(clock.t),
    });
    await setPasswords(store, ['root']);
  });
  after(() => {
    store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // A new login each time: the tests move the clock by days, past a session's life.
  const page = async () => line((await (await login(app, 'root')).agent.get('/settings').expect(200)).text);

  test('none yet', async () => {
    // An audit run is not a report run.
    store.finishRun(store.startRun('audit', 'root', 1), 'complete');
    assert.equal(await page(), 'Last nightly report: none yet.');
  });

  test('complete: when, and how many domains', async () => {
    const id = store.startRun('report', 'root', 6, { resellers: {}, qps: 20, concurrency: 8 });
    store.bumpRunProgress(id, { done: 6, failed: 4 });
    store.finishRun(id, 'complete');
    clock.t += 3 * HOUR;
    const iso = store.getRun(id)!.startedAt;
    // The exact time as text too (a title= tooltip is out of reach of the keyboard and most screen readers).
    assert.equal(await page(), `Last nightly report: <time datetime="${iso}" title="${iso}">3 h ago</time><span class="exact-time"> (${utcText(Date.parse(iso))})</span>, complete — 6 domains.`);
  });

  test('complete, but the mail did not reach some addresses: named, with where to look', async () => {
    clock.t += 1 * HOUR;
    const id = store.startRun('report', 'root', 6, { resellers: {}, qps: 20, concurrency: 8 });
    store.bumpRunProgress(id, { done: 6 });
    store.finishRun(id, 'complete');
    store.recordDelivery(id, 'ops@example.com', true);
    store.recordDelivery(id, 'rita@example.com', false, 'connect ECONNREFUSED');
    store.recordDelivery(id, 'rita@example.com', false, 'connect ECONNREFUSED');
    store.recordDelivery(id, 'late@example.com', false, 'timeout');
    store.recordDelivery(id, 'late@example.com', true);
    assert.match(
      await page(),
      /<\/span>, complete — 6 domains; the mail has not reached one address \(rita@example\.com\) — the server&#39;s log says why, and the next report that reaches it says so\.$/,
    );
    // A setting that would not do is recorded under its name: named as a setting, not as an address.
    store.recordDelivery(id, 'report.resellers', false, 'not sent: not a map of addresses');
    assert.match(await page(), /has not reached 2 addresses \(rita@example\.com; report\.resellers, a setting\)/);
  });

  test('the panel could not be read: not complete, with the panel\'s error, escaped', async () => {
    clock.t += 21 * HOUR;
    const failure = await recordPanelFailure(store, new PanelError('other', 'answered with <script>alert(1)</script> & "more"'), { byUser: 'root', serverName: 'server1' });
    const iso = store.getRun(failure.runId!)!.startedAt;
    const shown = await page();
    assert.equal(
      shown,
      `Last nightly report: <time datetime="${iso}" title="${iso}">just now</time><span class="exact-time"> (${utcText(Date.parse(iso))})</span>, not complete: the panel could not be read ` +
        '(answered with &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;more&#34;).',
    );
    assert.ok(!shown.includes('<script>'));
  });

  test('stopped halfway (Ctrl-C, a lost lock): not complete, how far it got', async () => {
    clock.t += 24 * HOUR;
    const id = store.startRun('report', 'root', 6, { resellers: {}, qps: 20, concurrency: 8 });
    store.bumpRunProgress(id, { done: 2 });
    store.finishRun(id, 'interrupted');
    assert.match(await page(), /<\/span>, not complete: interrupted after 2 of 6 domains\.$/);
  });

  test('a database that cannot be read does not take the page down, and the page never quotes it (its error is logged)', () => {
    const broken = {
      listRuns: () => {
        throw new Error('mailhealth database /var/lib/mailhealth/history.db: disk I/O error');
      },
    };
    const logged: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    (process.stderr as unknown as { write: (s: unknown) => boolean }).write = (s: unknown) => (logged.push(String(s)), true);
    try {
      assert.deepEqual(lastReport(broken), { startedAt: null, outcome: "not known: the history database could not be read (the server's log says why)" });
    } finally {
      (process.stderr as unknown as { write: typeof write }).write = write;
    }
    assert.match(logged.join(''), /\/var\/lib\/mailhealth\/history\.db: disk I\/O error/);
  });
});
