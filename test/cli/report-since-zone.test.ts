// QA h4 item 14 (part): `report --since YYYY-MM-DD` meant the end of that day in SERVER time, while the report dates
// its nights in the schedule's time zone (the settings page's, else the server's). On a server in UTC with the schedule
// in Australia/Sydney, `--since 2027-03-04` picked the run the report labels 2027-03-05. A date (and a timestamp
// without a zone) is now read in the report's time zone.
process.env.TZ = 'UTC'; // the server's zone, for this file (its own process): not the schedule's
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseSince, reportCommand } from '../../src/cli/commands/report.js';
import { countingLimiter, startWorld, type TestWorld } from '../cron/world.js';

const iso = (d: 'last' | Date) => (d === 'last' ? d : d.toISOString());

describe('--since DATE in the report\'s time zone (parseSince)', () => {
  test('a date is the end of that day in the zone given; a timestamp without a zone is that zone\'s; one with a zone is as written', () => {
    assert.equal(iso(parseSince('2027-03-04', 'Australia/Sydney')), '2027-03-04T12:59:59.999Z'); // AEDT, UTC+11
    assert.equal(iso(parseSince('2027-03-04', 'America/Los_Angeles')), '2027-03-05T07:59:59.999Z');
    assert.equal(iso(parseSince('2027-03-04T10:30', 'Australia/Sydney')), '2027-03-03T23:30:00.000Z');
    assert.equal(iso(parseSince('2027-03-04T10:30:05.25', 'Australia/Sydney')), '2027-03-03T23:30:05.250Z');
    assert.equal(iso(parseSince('2027-03-04T10:30Z', 'Australia/Sydney')), '2027-03-04T10:30:00.000Z');
    assert.equal(iso(parseSince('2027-03-04T10:30+02:00', 'Australia/Sydney')), '2027-03-04T08:30:00.000Z');
    // No zone given (the check before the settings are read): server time, as before.
    assert.equal(iso(parseSince('2027-03-04')), '2027-03-04T23:59:59.999Z');
  });

  test('daylight saving: a day whose midnight is skipped or repeated ends where the next day begins', () => {
    // America/Santiago: 2026-04-04 24:00 → 23:00 (23:xx twice), 2026-09-05 24:00 → 01:00 (no 00:xx on the 6th).
    assert.equal(iso(parseSince('2026-04-04', 'America/Santiago')), '2026-04-05T03:59:59.999Z');
    assert.equal(iso(parseSince('2026-09-05', 'America/Santiago')), '2026-09-06T03:59:59.999Z');
    // A local time the clocks skip: the first moment after the gap; one shown twice: its first showing.
    assert.equal(iso(parseSince('2027-03-14T02:30', 'America/New_York')), '2027-03-14T07:00:00.000Z');
    assert.equal(iso(parseSince('2026-11-01T01:30', 'America/New_York')), '2026-11-01T05:30:00.000Z');
  });
});

describe('mailhealth report --since DATE with the schedule in Australia/Sydney (server in UTC)', () => {
  let w: TestWorld;
  before(async () => {
    w = await startWorld();
    w.store.setSetting('report.timezone', 'Australia/Sydney');
  });
  after(() => w?.close());

  test('--since 2027-03-04 compares with the run the report labels 2027-03-04, not the one it labels 03-05', async () => {
    // The nights of 03-04 and 03-05 in Sydney: 03:00 AEDT is 16:00 UTC the day before.
    const runAt = (iso: string) => {
      w.clock.t = Date.parse(iso);
      const id = w.store.startRun('report', 'root', 0);
      w.store.completeRunWithReport(id, { json: {}, html: '', text: '' });
      return id;
    };
    const night0304 = runAt('2027-03-03T16:00:00Z');
    runAt('2027-03-04T16:00:00Z');
    let stdout = '';
    await reportCommand(
      { panel: 'files', panelRoot: join(w.dir, 'panel'), resolver: w.dns.address, authoritativePort: w.dns.port, db: join(w.dir, 'mailhealth.sqlite'), json: true, since: '2027-03-04' },
      { limiter: countingLimiter(), now: () => new Date('2027-03-05T16:00:00Z'), stdout: (s) => void (stdout += s), stderr: () => {} },
    );
    const doc = JSON.parse(stdout) as { previousRunId: number; since: string };
    assert.equal(doc.since, '2027-03-04T12:59:59.999Z');
    assert.equal(doc.previousRunId, night0304);
  });
});
