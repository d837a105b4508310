// A night whose admin's settings cannot be read partway through (the history database failing under the run): the
// findings recorded for the domains audited from then on say so in words of mailhealth's own — never the database
// file's path or SQLite's words, which the web would show on each domain's page — and the raw error is in the night's
// log (the service passes the store itself to withSettings: src/cli/nightly.ts, src/cli/commands/report.ts).
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { withSettings } from '../../src/adapters/panels/with-settings.js';
import { runReport } from '../../src/cron/report.js';
import { SETTING_KEYS } from '../../src/core/settings.js';
import { failingStore } from '../web/failing-store.js';
import { countingLimiter, startWorld, type TestWorld } from './world.js';

let w: TestWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

test("settings unreadable partway through a night: its findings say so without the store's words; the log has them", async () => {
  const t = (w = await startWorld());
  const f = failingStore(t.store);
  try {
    // The first two domains read the settings; every read after that fails (a closed database file).
    f.fail('getSetting', 'io', { times: Infinity, skip: 2, match: (key) => key === SETTING_KEYS.mailchannelsAccountId });
    const lines: string[] = [];
    const log = (m: string) => lines.push(m);
    const out = await runReport({ store: t.store, panel: withSettings(t.panel, f.store, { log }), resolver: t.resolver(), limiter: countingLimiter(), log });
    assert.ok(f.failed > 0);
    const recorded = JSON.stringify(t.store.runResults(out.runId));
    assert.match(recorded, /The panel could not provide the server's mail settings: the admin's settings could not be read from mailhealth's history database/);
    assert.ok(!recorded.includes(t.store.path), 'no database path in the recorded findings');
    assert.doesNotMatch(recorded, /mailhealth database|SQLITE_|connection is not open/);
    assert.doesNotMatch(JSON.stringify(out.doc), /mailhealth database|SQLITE_|connection is not open/);
    assert.equal(lines.filter((l) => l.includes(t.store.path)).length, 1, lines.join('\n'));
  } finally {
    f.close();
  }
});
