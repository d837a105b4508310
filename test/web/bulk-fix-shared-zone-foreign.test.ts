// The shared-zone chain of a bulk fix links only record writes the panel answered (review): a parent whose DKIM fix is
// "start signing" (no zone write; its version after is a later zone read), or whose write failed and was settled from
// a later zone read, must not turn a foreign edit landing meanwhile into "this bulk's own write" — the subdomain is
// refused "the zone changed".
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { writeServerKey } from '../helpers/emulators/cpanel.js';
import { planValues, whmWorld, type WhmWorld } from './shared-zone-world.js';

const PARENT = 'alice.example';
const SUB = 'blog.alice.example';
let w: WhmWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

test('a foreign edit during the parent\'s start-signing is taken for the bulk\'s own write', { timeout: 60_000 }, async () => {
  w = await whmWorld();
  const { state, store, res1 } = w;
  // The parent publishes its key but cPanel does not sign yet (plan: start signing, no record change).
  state.validityCache = state.validityCache.filter((d) => d !== PARENT);
  rmSync(join(state.serverRoot!, 'var/cpanel/domain_keys/validity_cache', PARENT), { force: true });
  // The subdomain has a server key, not published (plan: add its record).
  state.dkimDomains.push(SUB);
  writeServerKey(state, SUB);
  const page = await res1.agent.post('/bulk/fix/preview').type('form').send({ _csrf: res1.csrf, check: 'dkim', domains: [PARENT, SUB] });
  assert.equal(page.status, 200, page.text);
  const plans = planValues(page.text);
  assert.deepEqual(plans.map((p) => p.split('|')[0]), [PARENT, SUB], page.text);
  // Someone else edits the zone while cPanel re-checks the parent's key.
  const z = state.zones[PARENT];
  let edited = false;
  const origPush = state.calls.push.bind(state.calls);
  state.calls.push = (...items: string[]) => {
    if (!edited && items.some((c) => c.startsWith('whm:validate_current_dkims') && c.includes(PARENT) && !c.includes(SUB))) {
      edited = true;
      z.lines.push({ kind: 'record', dname: 'shop', ttl: 14400, type: 'A', data: ['198.51.100.66'] });
      z.serial += 1;
    }
    return origPush(...items);
  };
  const res = await res1.agent.post('/bulk/fix/apply').type('form').redirects(1).send({ _csrf: res1.csrf, check: 'dkim', plan: plans });
  state.calls.push = origPush;
  assert.equal(res.status, 200, res.text);
  assert.ok(edited, 'the foreign edit happened');
  const outcome = (d: string) => new RegExp(`data-domain="${d.replace(/\./g, '\\.')}" data-outcome="([a-z]+)"`).exec(res.text)?.[1];
  const changes = store.changesForDomains([PARENT, SUB], 10);
  console.log(JSON.stringify(changes.map((c) => [c.domain, c.status, c.zoneVersionBefore, c.zoneVersionAfter, c.changes.length])));
  assert.equal(outcome(PARENT), 'applied', res.text);
  // README: "Any other edit of the zone in between ... is refused as 'the zone changed'".
  assert.equal(outcome(SUB), 'refused', `the subdomain was applied over someone else's edit:\n${JSON.stringify(changes.map((c) => [c.domain, c.zoneVersionBefore, c.zoneVersionAfter]))}`);
});

test('a parent write that fails after reaching the zone, settled from a later zone read, absorbs a foreign edit', { timeout: 60_000 }, async () => {
  let hook: (() => void) | null = null;
  w = await whmWorld({
    wrapPanel: (p) =>
      new Proxy(p, {
        get: (t, prop) => {
          const v = (t as unknown as Record<string | symbol, unknown>)[prop];
          if (prop !== 'applyChanges') return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
          return async (domain: string, changes: unknown[], version: string) => {
            const r = await (v as (...a: unknown[]) => Promise<unknown>).call(t, domain, changes, version);
            if (domain === PARENT && hook) {
              const h = hook;
              hook = null;
              h();
              throw new Error('socket hang up'); // the write reached the zone; its answer was lost
            }
            return r;
          };
        },
      }),
  });
  const { state, store, res1 } = w;
  const page = await res1.agent.post('/bulk/fix/preview').type('form').send({ _csrf: res1.csrf, check: 'spf', domains: [PARENT, SUB] });
  const plans = planValues(page.text);
  assert.deepEqual(plans.map((p) => p.split('|')[0]), [PARENT, SUB]);
  const z = state.zones[PARENT];
  hook = () => {
    z.lines.push({ kind: 'record', dname: 'shop', ttl: 14400, type: 'A', data: ['198.51.100.66'] });
    z.serial += 1;
  };
  const res = await res1.agent.post('/bulk/fix/apply').type('form').redirects(1).send({ _csrf: res1.csrf, check: 'spf', plan: plans });
  assert.equal(res.status, 200, res.text);
  const outcome = (d: string) => new RegExp(`data-domain="${d.replace(/\./g, '\\.')}" data-outcome="([a-z]+)"`).exec(res.text)?.[1];
  const changes = store.changesForDomains([PARENT, SUB], 10);
  console.log(JSON.stringify(changes.map((c) => [c.domain, c.status, c.zoneVersionBefore, c.zoneVersionAfter, c.error])));
  assert.equal(outcome(PARENT), 'applied', res.text);
  assert.equal(outcome(SUB), 'refused', 'the subdomain was applied over a foreign edit');
});
