// The nightly report dates its nights in the zone its schedule runs in: --report-tz, else the settings page's, else
// the server's own — as the scheduler does (review: with no zone set, a server in Europe/Berlin got UTC dates).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reportTimeZone } from '../../src/cron/report.js';

test('the report zone: the one given, else the saved one, else the server’s own (an invalid one is skipped)', () => {
  const server = Intl.DateTimeFormat().resolvedOptions().timeZone;
  assert.equal(reportTimeZone('Europe/Berlin', 'Asia/Tokyo'), 'Europe/Berlin');
  assert.equal(reportTimeZone(undefined, 'Asia/Tokyo'), 'Asia/Tokyo');
  assert.equal(reportTimeZone('Mars/Base', 'Asia/Tokyo'), 'Asia/Tokyo');
  assert.equal(reportTimeZone(undefined, 'Mars/Base'), server);
  assert.equal(reportTimeZone(undefined, undefined), server);
});
