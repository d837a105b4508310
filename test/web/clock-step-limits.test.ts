// The web's rate limits across a wall-clock step back (QA, time handling item 6): a bucket refilled by (now - at), and
// after NTP stepped the clock back an hour that was negative — the bucket DRAINED by the step, and one login in the
// hour before it locked its user out for the next hour ("next one allowed in 58 minutes"). A step back now counts as
// no time passing; the app's limits use a clock that never steps unless a test injects one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore } from '../../src/adapters/store/store.js';
import { createApp } from '../../src/web/app.js';
import { RateLimiter } from '../../src/web/ratelimit.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { login, setPasswords } from './helpers.js';

const T = Date.parse('2027-03-01T12:00:00Z');
const HOUR = 3600_000;

test('a bucket neither drains nor refuses after a backward step; its wait is counted from now', () => {
  let now = T;
  const l = new RateLimiter({ capacity: 10, perMinute: 5 }, () => now);
  assert.equal(l.take('a'), true);
  now -= HOUR;
  assert.equal(l.retryAfterSeconds('a'), 0, 'nine tokens left: a try is allowed');
  assert.equal(l.take('a'), true);
  // Emptied after the step: the wait is the refill of one token (12 s at 5 a minute), not the hour on top.
  for (let i = 0; i < 8; i++) l.take('a');
  assert.equal(l.take('a'), false);
  assert.equal(l.retryAfterSeconds('a'), 12);
  now += 12_000;
  assert.equal(l.take('a'), true, 'refills with the time that passes after the step');
});

test('an emptied bucket stays empty across a backward step (a step back lifts no limit either)', () => {
  let now = T;
  const l = new RateLimiter({ capacity: 2, perMinute: 1 }, () => now);
  l.take('a');
  l.take('a');
  now -= HOUR;
  assert.equal(l.take('a'), false);
  assert.equal(l.retryAfterSeconds('a'), 60);
});

test('one login before a one-hour backward step does not lock the user out (default limits)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-limit-step-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(REPO_ROOT, 'src/demo/panel'), join(dir, 'panel'), { recursive: true });
  const store = openStore(join(dir, 'h.sqlite'));
  t.after(() => store.close());
  await setPasswords(store, ['alice']);
  const clock = { t: T + HOUR }; // an hour fast
  // The app's default limits (no rateLimits), on its injected clock.
  const app = createApp({ panel: new FilesPanel(join(dir, 'panel')), store, makeResolver: () => ({}) as never, identityFrom: 'session', now: () => new Date(clock.t) });
  await login(app, 'alice');
  clock.t = T + 60_000; // NTP corrects the clock; a minute later alice logs in again
  await login(app, 'alice'); // threw "login alice: 429" ("The next one is allowed in 58 minutes")
  // And the audit bucket: a customer's audit before the step, one after it.
  assert.equal(app.context.limits.audit.take('alice'), true);
  clock.t -= HOUR;
  assert.equal(app.context.limits.audit.take('alice'), true);
});
