// The nightly report audits through the rate-limited wrapper of the resolver (src/cron/ratelimit.ts), which had no
// view per audit (forAudit): there a previous host's dead DNS was still waited out once per check that asked the same
// question, as the wire resolver's view no longer does. Now the wrapper gives each audit a view of its own that keeps
// the unknown answers it got — every question still taking its token through the wrapper (the inner resolver's own
// view would go round the limiter).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rateLimitedResolver, type RateLimiter } from '../../src/cron/ratelimit.js';
import type { Answer, Resolver, RRType } from '../../src/core/resolver.js';

function world() {
  const asked: string[] = [];
  const inner: Resolver = {
    async resolve<T extends RRType>(name: string, type: T): Promise<Answer<T>> {
      asked.push(`${name} ${type}`);
      if (name.startsWith('dead.')) return { status: 'unknown', records: [], error: 'timeout' } as unknown as Answer<T>;
      return { status: 'ok', records: ['192.0.2.1'] } as unknown as Answer<T>;
    },
    // A view of the inner resolver would skip the limiter: the wrapper must not hand it out.
    forAudit(): Resolver {
      throw new Error('the inner resolver\'s view was used');
    },
  };
  let tokens = 0;
  const limiter: RateLimiter = {
    async take() {
      tokens++;
    },
  };
  return { r: rateLimitedResolver(inner, limiter), asked, tokens: () => tokens };
}

test('an audit\'s view of the rate-limited resolver: its unknown answers given again, every question through the limiter', async () => {
  const { r, asked, tokens } = world();
  assert.ok(r.forAudit, 'the wrapper offers a view per audit');
  const one = r.forAudit();
  const other = r.forAudit();
  assert.equal((await one.resolve('dead.example', 'TXT')).status, 'unknown');
  assert.equal((await one.resolve('DEAD.example.', 'TXT')).status, 'unknown');
  assert.deepEqual(asked, ['dead.example TXT'], 'asked once by the audit that got no answer');
  assert.equal(tokens(), 1);
  // Another audit and the wrapper itself ask again (DNS trouble is not kept for the run), each with a token.
  await other.resolve('dead.example', 'TXT');
  await r.resolve('dead.example', 'TXT');
  assert.equal(asked.length, 3);
  assert.equal(tokens(), 3);
  // Good answers: the wrapper's memo, as before — one question, one token, for every view.
  assert.equal((await one.resolve('ok.example', 'A')).status, 'ok');
  assert.equal((await other.resolve('ok.example', 'A')).status, 'ok');
  assert.equal(asked.filter((q) => q === 'ok.example A').length, 1);
  assert.equal(tokens(), 4);
  assert.equal(r.limited, 4);
});
