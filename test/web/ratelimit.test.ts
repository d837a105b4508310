// The in-memory rate limiter (a flood of made-up keys must not lift anyone's lockout, and memory stays bounded) and
// password checks (an unknown user costs the same scrypt work and never matches).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_KEYS, RateLimiter } from '../../src/web/ratelimit.js';
import { hashPassword, verifyPassword } from '../../src/web/passwords.js';

test('an emptied bucket survives a flood of other keys; the map stays bounded', () => {
  let now = 1_000_000;
  const limiter = new RateLimiter({ capacity: 3, perMinute: 1 }, () => now);
  for (let i = 0; i < 3; i++) assert.equal(limiter.take('login:victim'), true);
  assert.equal(limiter.take('login:victim'), false, 'victim locked out');
  for (let i = 0; i < 3 * MAX_KEYS; i++) {
    now += 1; // 30 000 keys in 30 s: the victim's bucket regains half a token, still under one
    limiter.take(`login:made-up-${i}`);
    assert.ok(limiter.size <= MAX_KEYS, `bounded (${limiter.size} after ${i + 1})`);
  }
  assert.equal(limiter.take('login:victim'), false, 'still locked out after the flood');
  now += 60_000;
  assert.equal(limiter.take('login:victim'), true, 'refills with time');
});

test('many limiting buckets are all kept, and pruning still bounds the map', () => {
  let now = 0;
  const limiter = new RateLimiter({ capacity: 1, perMinute: 0 }, () => now);
  // 500 emptied buckets, then a flood: none of the 500 is forgotten.
  for (let i = 0; i < 500; i++) limiter.take(`locked-${i}`);
  for (let i = 0; i < 2 * MAX_KEYS; i++) {
    now += 1;
    limiter.take(`other-${i}`);
  }
  for (let i = 0; i < 500; i++) assert.equal(limiter.take(`locked-${i}`), false, `locked-${i} still empty`);
  // With capacity 1 every flooded key is empty too: they are kept (up to the hard bound), the map grows past MAX_KEYS.
  assert.ok(limiter.size > MAX_KEYS);
  assert.ok(limiter.size <= MAX_KEYS * 10);
});

test('verifyPassword: no hash (unknown user) or a malformed one is false; the right password is true', async () => {
  const hash = await hashPassword('correct horse');
  assert.equal(await verifyPassword('correct horse', hash), true);
  assert.equal(await verifyPassword('wrong', hash), false);
  assert.equal(await verifyPassword('correct horse', null), false);
  assert.equal(await verifyPassword('', null), false);
  assert.equal(await verifyPassword('x', 'scrypt$garbage'), false);
  // The unknown-user path does scrypt work too (not an instant answer): a check costs at least a millisecond.
  const t0 = process.hrtime.bigint();
  await verifyPassword('x', null);
  assert.ok(process.hrtime.bigint() - t0 > 1_000_000n, 'the unknown-user check does scrypt work');
});

test('retryAfterMs is exact for fractional rates: take() succeeds after that wait, never a millisecond before', () => {
  // A client that waits exactly Retry-After must get in; one that comes a millisecond sooner must not (the rounding of
  // the refill's floating-point sum once gave a wait 1 ms short).
  let early = 0;
  for (const perMinute of [0.7, 1, 2.5, 3, 7, 11, 13.3, 29, 59, 61, 97.1, 600]) {
    for (let start = 1_000_003; start < 1_000_003 + 40 * 137; start += 137) {
      for (const used of [1, 2]) {
        let now = start;
        const limiter = new RateLimiter({ capacity: 2, perMinute }, () => now);
        for (let i = 0; i < used; i++) limiter.take('k');
        // Partly refilled, then emptied again: tokens is a fraction here.
        now += 333;
        while (limiter.take('k')) now += 1;
        const wait = limiter.retryAfterMs('k');
        assert.ok(Number.isFinite(wait) && wait >= 1, `wait ${wait}`);
        const at = now;
        now = at + wait - 1;
        if (limiter.retryAfterMs('k') === 0) early++;
        now = at + wait;
        assert.equal(limiter.retryAfterMs('k'), 0, `rate ${perMinute}/min, start ${start}: still waiting after ${wait} ms`);
        assert.ok(limiter.take('k'), `rate ${perMinute}/min, start ${start}: refused after waiting ${wait} ms`);
      }
    }
  }
  assert.equal(early, 0, 'a wait was longer than needed');
});
