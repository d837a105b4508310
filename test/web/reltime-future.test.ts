// relTime (view-model.ts) on a recorded time later than the server's clock (QA, time handling item 14): it said "just
// now" for any future time, even a year ahead — an audit recorded by a clock a year fast passed for a fresh one. Now a
// time ahead by more than a small skew is shown in full, saying it is ahead of the server's clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { relTime } from '../../src/web/view-model.js';

/** The skew a future time may have and still read "just now" (view-model.ts FUTURE_SKEW_S). */
const FUTURE_SKEW_S = 120;

const now = new Date('2027-03-01T12:00:00Z');

test('a time ahead of the server clock beyond the skew is shown in full, not "just now"', () => {
  assert.equal(relTime('2028-03-01T12:00:00.000Z', now), "2028-03-01 12:00 UTC (ahead of this server's clock)");
  assert.equal(relTime('2027-03-01T15:00:00.000Z', now), "2027-03-01 15:00 UTC (ahead of this server's clock)");
  assert.equal(relTime(new Date(now.getTime() + (FUTURE_SKEW_S + 1) * 1000).toISOString(), now), "2027-03-01 12:02 UTC (ahead of this server's clock)");
});

test('within the skew, and in the past, as before', () => {
  assert.equal(relTime(new Date(now.getTime() + FUTURE_SKEW_S * 1000).toISOString(), now), 'just now');
  assert.equal(relTime('2027-03-01T11:59:30.000Z', now), 'just now');
  assert.equal(relTime('2027-03-01T11:50:00.000Z', now), '10 min ago');
  assert.equal(relTime('2027-03-01T09:00:00.000Z', now), '3 h ago');
  assert.equal(relTime('2027-02-26T12:00:00.000Z', now), '3 days ago');
  assert.equal(relTime(null, now), 'never');
  assert.equal(relTime('not a time', now), 'at an unknown time');
});
