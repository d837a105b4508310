// The grace period of a stop of `serve` or `service` (stopGraceMs): STOP_GRACE_MS, or MAILHEALTH_STOP_GRACE_MS (tests;
// an install that gives systemd a longer TimeoutStopSec), and how the stop's lines say it. stop-exits.test.ts runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { graceText, STOP_GRACE_MS, stopGraceMs } from '../../src/cli/commands/serve.js';

test('the grace period: 30 s unless MAILHEALTH_STOP_GRACE_MS says otherwise (empty: unset), said in seconds when whole', () => {
  assert.equal(stopGraceMs({}), STOP_GRACE_MS);
  assert.equal(STOP_GRACE_MS, 30_000);
  assert.equal(stopGraceMs({ MAILHEALTH_STOP_GRACE_MS: '' }), STOP_GRACE_MS);
  assert.equal(stopGraceMs({ MAILHEALTH_STOP_GRACE_MS: '0' }), 0);
  assert.equal(stopGraceMs({ MAILHEALTH_STOP_GRACE_MS: '600000' }), 600_000);
  assert.throws(() => stopGraceMs({ MAILHEALTH_STOP_GRACE_MS: ' 5' }), /MAILHEALTH_STOP_GRACE_MS takes a whole number from 0 to 600000/);
  assert.deepEqual([30_000, 600_000, 250, 1500, 0].map(graceText), ['30 s', '600 s', '250 ms', '1500 ms', '0 ms']);
});
