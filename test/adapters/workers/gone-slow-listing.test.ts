// ScopeWatch with a ScopeRecheck, against a listing slower than `everyMs` (Plesk lists a reseller's domains with a call
// per client, one after the other): a listing answers for `everyMs` from when it was answered, not from when it was
// asked — else it is stale when it arrives, and every domain of the run waits for a brand-new listing (review).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ScopeWatch } from '../../../src/adapters/workers/gone.js';

it('a listing that takes longer than everyMs answers the domains read right after it', async () => {
  const s = { clock: 0, listings: 0 };
  const watch = new ScopeWatch(
    async () => {
      s.listings++;
      s.clock += 6_000; // the listing took 6 s
      return [{ domain: 'a.example' }, { domain: 'b.example' }, { domain: 'c.example' }];
    },
    { everyMs: 5_000, now: () => s.clock },
  );
  for (const d of ['a.example', 'b.example', 'c.example']) {
    assert.equal(await watch.after(d, watch.mark(), false), null);
  }
  assert.equal(s.listings, 1, `${s.listings} listings for 3 domains read one after the other`);
  // Once that answer is older than everyMs, the next domain asks again.
  s.clock += 5_000;
  assert.equal(await watch.after('d.example', watch.mark(), false), 'out-of-scope');
  assert.equal(s.listings, 2);
});
