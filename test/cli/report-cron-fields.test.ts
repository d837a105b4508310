// `serve|service --report-cron` took six-field (seconds-first) cron expressions the settings page refuses: a stray extra
// field silently made "0 3 * * * *" a run every hour at minute 3 and "* * * * * *" one every second, each with its
// report mail. The flag, the page and a schedule stored by hand now go through the one check (validateCronExpr): five
// fields, with the page's message.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../src/adapters/store/store.js';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { UsageError } from '../../src/cli/context.js';
import { checkReportFlags } from '../../src/cli/commands/serve.js';
import { startNightlyReport } from '../../src/cli/nightly.js';
import { DEMO_PANEL_DIR } from '../../src/demo/world.js';
import { FIVE_CRON_FIELDS } from '../../src/adapters/schedule/expression.js';
import { saveSettings } from '../../src/web/settings.js';
import { SETTING_KEYS } from '../../src/core/settings.js';
import { fakeSchedule } from '../cron/fake-schedule.js';

const SIX = ['0 3 * * * *', '* * * * * *', '0 0 3 * * *'];

test('--report-cron refuses what the settings page refuses (six fields), with the page\'s message; five fields pass', () => {
  for (const expr of SIX) {
    assert.throws(
      () => checkReportFlags({ reportCron: expr }),
      (e: unknown) => e instanceof UsageError && e.message.startsWith('--report-cron: ') && e.message.includes(FIVE_CRON_FIELDS) && e.message.includes(`"${expr}"`),
      expr,
    );
    const saved: Record<string, unknown> = {};
    const page = saveSettings({ getSetting: (k) => saved[k] as never, setSettings: (v) => void Object.assign(saved, v) }, { reportSchedule: expr, retentionDays: '90' });
    // The page gives the same reason as the flag (the count, and the rule).
    const said = page.ok ? '' : (page.errors.reportSchedule ?? '');
    assert.ok(said.includes(FIVE_CRON_FIELDS) && said.includes(`"${expr}"`) && said.includes('6 fields, not five'), `${expr}: ${said}`);
  }
  for (const few of ['0 3 * *', '3']) assert.throws(() => checkReportFlags({ reportCron: few }), /--report-cron: .*not five\. Five cron fields/);
  assert.doesNotThrow(() => checkReportFlags({ reportCron: '0 3 * * *', reportTz: 'UTC' }));
  assert.doesNotThrow(() => checkReportFlags({ reportCron: '0 3 * * * *', report: false }), '--no-report: nothing scheduled, nothing checked');
  assert.throws(() => checkReportFlags({ reportTz: 'Mars/Olympus' }), /--report-tz: unknown time zone "Mars\/Olympus"/);
});

test('a six-field schedule stored by hand is not used by the background service: logged, and 03:00 runs instead', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-cron-six-'));
  const store = openStore(join(dir, 'h.sqlite'));
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  store.setSetting(SETTING_KEYS.reportSchedule, '* * * * * *');
  const fake = fakeSchedule();
  const logs: string[] = [];
  const nightly = startNightlyReport({ resolver: '127.0.0.1:9', reportTz: 'UTC' }, new FilesPanel(DEMO_PANEL_DIR), store, { schedule: fake.schedule, log: (m) => logs.push(m) });
  t.after(() => nightly.stop());
  assert.deepEqual(fake.exprs, ['0 3 * * *']);
  assert.ok(logs.some((l) => l.includes('the saved report schedule "* * * * * *" is not used, "0 3 * * *" instead') && l.includes(FIVE_CRON_FIELDS)), logs.join('\n'));
});
