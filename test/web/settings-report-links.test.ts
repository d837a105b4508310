// "Each problem links to the domain's page in the panel UI": the admin sets the address of mailhealth's pages on the
// settings page (stored as report.baseUrl), and both the background service's nightly run and `mailhealth report`
// without --base-url link each problem to <address>/domains/<domain>. Bad addresses are refused and nothing is saved.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startNightlyReport } from '../../src/cli/nightly.js';
import { reportCommand } from '../../src/cli/commands/report.js';
import { createApp } from '../../src/web/app.js';
import { fakeSchedule } from '../cron/fake-schedule.js';
import { countingLimiter, startWorld, type TestWorld } from '../cron/world.js';
import { csrfFrom, login, NO_LIMITS, setPasswords, type Session } from './helpers.js';

const KEY = 'report.baseUrl';
const BASE = 'https://server.example.com:8443/modules/mailhealth/index.php/index/app';

describe('settings page: the address the nightly report links to', () => {
  let w: TestWorld;
  let root: Session;
  before(async () => {
    w = await startWorld();
    w.store.setSetting('report.dnsQps', 100_000); // the polite rate is not what is tested here
    const app = createApp({ panel: w.panel, store: w.store, makeResolver: () => w.resolver(), identityFrom: 'session', adminToken: null, rateLimits: NO_LIMITS });
    await setPasswords(w.store, ['root']);
    root = await login(app, 'root');
  });
  after(() => w?.close());

  async function save(reportBaseUrl: string) {
    const page = await root.agent.get('/settings').expect(200);
    return root.agent
      .post('/settings')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), mailchannelsAccountId: '', reportSchedule: '', reportRecipients: '', reportTimezone: '', dnsResolver: '', retentionDays: '90', reportBaseUrl });
  }

  test('the page has the field and says what it is for; bad addresses are refused and nothing is stored', async () => {
    const page = await root.agent.get('/settings').expect(200);
    assert.match(page.text, /<input id="s-base" name="reportBaseUrl"/);
    assert.match(page.text, /\/domains\/<\/code> and the domain/);
    for (const bad of [
      'https://admin:secret@server.example.com/mh',
      'https://admin@server.example.com/mh',
      'https://server.example.com/mh#top',
      'https://server.example.com/mh?session=1',
      'ftp://server.example.com/mh',
      'javascript:alert(1)',
      '/modules/mailhealth/index.php/index/app',
      'server.example.com',
      // QA: 150 KB went into every link of every report (2.7 MB reports).
      `https://server.example.com/${'a'.repeat(2100)}`,
    ]) {
      const res = await save(bad);
      assert.equal(res.status, 400, bad);
      assert.match(res.text, /id="s-base-err"/, bad);
      assert.equal(w.store.getSetting(KEY), undefined, bad);
    }
  });

  test('saved: shown again, stored under report.baseUrl; the nightly service and `mailhealth report` link to it', async () => {
    const res = await save(BASE);
    assert.equal(res.status, 303, res.text);
    assert.equal(w.store.getSetting(KEY), BASE);
    const page = await root.agent.get('/settings').expect(200);
    assert.ok(page.text.includes(`value="${BASE}"`));

    // The background service's nightly run (serve / service), no --base-url anywhere.
    const logs: string[] = [];
    const nightly = startNightlyReport({ resolver: w.dns.address, authoritativePort: w.dns.port, reportCron: '0 3 * * *', reportTz: 'UTC' }, w.panel, w.store, {
      schedule: fakeSchedule().schedule,
      log: (m) => logs.push(m),
    });
    try {
      assert.equal(await nightly.scheduler.tick(), 'ran', logs.join('\n'));
    } finally {
      await nightly.stop();
    }
    const [run] = w.store.listRuns({ kind: 'report', limit: 1 });
    const saved = w.store.getReport(run.id);
    assert.ok(saved);
    assert.ok(saved.html.includes(`href="${BASE}/domains/`), 'the HTML part links each problem');
    assert.ok(saved.text.includes(`${BASE}/domains/`), 'text part links too');

    // `mailhealth report` on the same database, without --base-url; with it, --base-url wins.
    const cli = async (extra: { baseUrl?: string }) => {
      let out = '';
      await reportCommand(
        { panel: 'files', panelRoot: join(w.dir, 'panel'), resolver: w.dns.address, authoritativePort: w.dns.port, db: join(w.dir, 'mailhealth.sqlite'), ...extra },
        { limiter: countingLimiter(), stdout: (s) => void (out += s), stderr: () => {} },
      );
      return out;
    };
    assert.ok((await cli({})).includes(`${BASE}/domains/`));
    const flagged = await cli({ baseUrl: 'https://other.example/mh' });
    assert.ok(flagged.includes('https://other.example/mh/domains/'));
    assert.ok(!flagged.includes(`${BASE}/domains/`));
  });

  test('saved empty: the key is removed (no links, as before)', async () => {
    assert.equal((await save('')).status, 303);
    assert.equal(w.store.getSetting(KEY), undefined);
  });
});
