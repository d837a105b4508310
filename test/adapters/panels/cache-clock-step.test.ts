// The panels' few-second caches after the wall clock was set back (QA h4 item 7). They were aged with Date.now() -
// at: after a backward step (NTP, an admin correcting a fast clock) the age is negative and the cached answer was used
// for as long as the step — WHM's domain list (a domain moved to another account stayed in its old owner's scope: the
// web's identity checks ask listDomains), Plesk's server-wide answers (the domain list among them), the
// has_local_authority answers read ahead. They are now aged by a clock that only goes forward (performance.now(),
// injectable), and an age below zero asks again whatever clock is given.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { AuthorityBatcher, type AuthorityAnswer } from '../../../src/adapters/panels/cpanel/authority.js';
import { PleskPanel } from '../../../src/adapters/panels/plesk/index.js';
import { WhmPanel } from '../../../src/adapters/panels/whm/index.js';
import type { Identity } from '../../../src/core/model.js';

const bob: Identity = { user: 'bob', role: 'customer' };
const realNow = Date.now;
const realPerfNow = performance.now;
afterEach(() => {
  Date.now = realNow;
  performance.now = realPerfNow;
});

/**
 * The wall clock (Date.now) and the monotonic one (performance.now) under the test's hand: `step` moves the wall clock
 * alone (an NTP step), `pass` moves both (time going by).
 */
function clocks(start: string) {
  let wall = Date.parse(start);
  let mono = 1_000;
  Date.now = () => wall;
  performance.now = () => mono;
  return {
    step: (ms: number) => void (wall += ms),
    pass: (ms: number) => {
      wall += ms;
      mono += ms;
    },
  };
}

/** A WHM whose get_domain_info lists shop.example under `owner` (changed by the test), counting the calls. */
function whm(now?: () => number) {
  const state = { owner: 'bob', calls: 0 };
  const transport = {
    call: async (func: string) => {
      if (func !== 'get_domain_info') return { ok: false, data: null, reason: `not emulated: ${func}` };
      state.calls++;
      return { ok: true, data: { domains: [{ domain: 'shop.example', user: state.owner, user_owner: 'root', domain_type: 'main' }] }, reason: '' };
    },
  };
  return { state, panel: new WhmPanel({ transport, user: 'root', root: null, ...(now ? { now } : {}) }) };
}
const domainsOf = async (p: WhmPanel) => (await p.listDomains(bob)).map((d) => d.domain);

describe('WHM domain list (get_domain_info, 10 s)', () => {
  it('the wall clock set back an hour: a minute later the list is read again — a domain moved away leaves the scope', async () => {
    const c = clocks('2027-03-01T12:00:00Z');
    const { state, panel } = whm();
    assert.deepEqual(await domainsOf(panel), ['shop.example']);
    c.step(-3600_000);
    state.owner = 'carol'; // the admin moves shop.example to carol's account
    c.pass(60_000);
    assert.deepEqual(await domainsOf(panel), [], 'not the list from before the step');
    assert.equal(state.calls, 2);
  });

  it('within 10 s by the (injected) monotonic clock the list is shared, whatever the wall clock does; past 10 s it is asked again', async () => {
    let mono = 0;
    const { state, panel } = whm(() => mono);
    const c = clocks('2027-03-01T12:00:00Z');
    await domainsOf(panel);
    c.step(3600_000); // a forward step does not age it either
    mono += 9_999;
    await domainsOf(panel);
    assert.equal(state.calls, 1);
    mono += 1;
    await domainsOf(panel);
    assert.equal(state.calls, 2);
  });

  it('a clock given that does go back (a wall clock passed in): the cached list is not used, it is asked again', async () => {
    let t = 1_000_000;
    const { state, panel } = whm(() => t);
    await domainsOf(panel);
    t -= 3600_000;
    await domainsOf(panel);
    assert.equal(state.calls, 2);
  });
});

describe('Plesk server-wide answers (once, 10 s)', () => {
  /** A Plesk whose REST answers GET /server with a new host name each time, counting the calls. */
  function plesk(now?: () => number) {
    const state = { calls: 0 };
    const rest = {
      request: async (req: { method: string; path: string }) => {
        assert.equal(`${req.method} ${req.path}`, 'GET /api/v2/server');
        state.calls++;
        const json = { hostname: `host${state.calls}.example` };
        return { status: 200, json, text: JSON.stringify(json) };
      },
    };
    const panel = new PleskPanel({ rest: rest as never, apiKey: 'k', cli: { run: async () => ({ code: 1, stdout: '', stderr: 'not emulated' }) }, root: null, ...(now ? { now } : {}) });
    // The cache itself (private): what the domain list, host name and mail prefs go through.
    const hostname = () => (panel as unknown as { hostname(): Promise<string> }).hostname();
    return { state, hostname };
  }

  it('the wall clock set back an hour: a minute later the answer is asked again', async () => {
    const c = clocks('2027-03-01T12:00:00Z');
    const { state, hostname } = plesk();
    assert.equal(await hostname(), 'host1.example');
    c.step(-3600_000);
    c.pass(60_000);
    assert.equal(await hostname(), 'host2.example');
    assert.equal(state.calls, 2);
  });

  it('shared within 10 s by the monotonic clock; an injected clock that goes back asks again', async () => {
    let mono = 0;
    const { state, hostname } = plesk(() => mono);
    await hostname();
    mono += 9_999;
    await hostname();
    assert.equal(state.calls, 1);
    mono -= 3600_000;
    await hostname();
    assert.equal(state.calls, 2);
  });
});

const settle = () => new Promise<void>((r) => setImmediate(r));

describe('AuthorityBatcher (has_local_authority read ahead, 60 s)', () => {
  function batcher(now?: () => number) {
    const asked: string[][] = [];
    const ask = async (zones: string[]): Promise<AuthorityAnswer> => {
      asked.push(zones);
      return { ok: true, items: zones.map((z) => ({ domain: z, zone: z, local_authority: 1, nameservers: [`ns.${z}`], error: null })) } as AuthorityAnswer;
    };
    const b = now ? new AuthorityBatcher(ask, now) : new AuthorityBatcher(ask);
    b.listed('admin:root', ['d0.example', 'd1.example', 'd2.example', 'd3.example'], (d) => d);
    return { b, asked };
  }

  it('default clock: the wall clock set back an hour does not keep an answer read ahead before the step past its minute', async () => {
    const c = clocks('2027-03-01T12:00:00Z');
    const { b, asked } = batcher();
    await b.itemFor('d0.example', 'd0.example');
    await b.itemFor('d1.example', 'd1.example'); // a bulk run: d2, d3 read ahead
    assert.deepEqual(asked[1], ['d1.example', 'd2.example', 'd3.example']);
    await settle(); // the call is over (its zones no longer in flight)
    c.step(-3600_000);
    c.pass(30_000);
    await b.itemFor('d2.example', 'd2.example');
    assert.equal(asked.length, 2, 'within its minute the answer read ahead is taken: the step alone does not age it');
    c.pass(31_000);
    await b.itemFor('d3.example', 'd3.example');
    assert.equal(asked.length, 3, 'past its minute it is not: asked again');
    assert.equal(asked[2][0], 'd3.example');
  });

  it('a clock given that goes back: an answer read ahead before the step is not taken, the zone is asked again', async () => {
    let t = 10_000_000;
    const { b, asked } = batcher(() => t);
    await b.itemFor('d0.example', 'd0.example');
    await b.itemFor('d1.example', 'd1.example');
    await settle(); // the call is over (its zones no longer in flight)
    t -= 3600_000;
    t += 60_000;
    await b.itemFor('d2.example', 'd2.example');
    assert.equal(asked.length, 3, 'asked again');
    assert.equal(asked[2][0], 'd2.example');
  });
});
