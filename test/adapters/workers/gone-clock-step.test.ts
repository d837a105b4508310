// ScopeWatch (a bulk run's scope asked again, ScopeRecheck) after the clock it is given went back (QA h4 item 7): the
// web's bulk jobs give it the app's wall clock, and a listing's age after a backward step came out negative — that
// listing then answered "still in scope" for as long as the step, and a domain moved to another reseller meanwhile was
// audited under this identity's run. A listing whose age is below zero is not used: a fresh one is taken.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ScopeWatch } from '../../../src/adapters/workers/gone.js';

describe('ScopeWatch with a ScopeRecheck whose clock goes back', () => {
  it('a listing answered before a one-hour backward step is not reused a minute later: the moved domain is out of scope', async () => {
    let t = Date.parse('2027-03-01T12:00:00Z');
    let scope = ['shop.example', 'bakery.example'];
    let listings = 0;
    const watch = new ScopeWatch(
      async () => {
        listings++;
        return scope.map((domain) => ({ domain }));
      },
      { everyMs: 5_000, now: () => t },
    );
    assert.equal(await watch.after('shop.example', watch.mark(), false), null);
    t -= 3600_000; // the clock is set back
    scope = ['bakery.example']; // shop.example's customer moves to another reseller
    t += 60_000;
    assert.equal(await watch.after('shop.example', watch.mark(), false), 'out-of-scope');
    assert.equal(listings, 2);
  });

  it('within everyMs (the clock going forward) one listing still answers for every domain', async () => {
    let t = 1_000;
    let listings = 0;
    const watch = new ScopeWatch(
      async () => {
        listings++;
        return [{ domain: 'a.example' }, { domain: 'b.example' }];
      },
      { everyMs: 5_000, now: () => t },
    );
    assert.equal(await watch.after('a.example', watch.mark(), false), null);
    t += 4_999;
    assert.equal(await watch.after('b.example', watch.mark(), false), null);
    assert.equal(listings, 1);
  });
});
