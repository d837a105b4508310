// A bulk DKIM fix of two cPanel subdomains sharing one zone, each needing a new key: the first one's key step (cPanel
// publishes the new key into the zone itself, and the adapter takes that record back out) moves the zone's serial
// outside the record write. The bulk counts that move as its own (core saw the same records on both sides), so the
// second subdomain is applied in the same round (QA: ten cPanel subdomains took ten rounds, one per click) — while an
// edit of anyone else's in between still refuses it.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { Panel } from '../../src/core/panel.js';
import { makeFixture, zoneRecords } from '../helpers/emulators/fixture.js';
import { zoneView } from '../helpers/emulators/cpanel.js';
import { planValues, whmWorld, type WhmWorld } from './shared-zone-world.js';

const DOMS = ['a.zed.example', 'blog.zed.example'];
function fixture() {
  const f = makeFixture();
  f.accounts.push({ user: 'zed', owner: 'res1', ip: '203.0.113.10', main: 'zed.example', addon: [], parked: [], sub: DOMS });
  f.zones['zed.example'] = zoneRecords('zed.example', f.dkim.publicKey, DOMS);
  return f;
}
const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/&#39;|&apos;/g, "'").replace(/\s+/g, ' ');
const outcomeOf = (html: string, domain: string) => new RegExp(`data-domain="${domain.replace(/\./g, '\\.')}" data-outcome="([a-z]+)"`).exec(html)?.[1];
const dkimAt = (w: WhmWorld, name: string) => zoneView(w.state, 'zed.example').filter((r) => r.type === 'TXT' && r.name === name).map((r) => r.data.join(''));

let w: WhmWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

test('two subdomains of one zone that each need a new DKIM key are both applied in one bulk fix', { timeout: 60_000 }, async () => {
  w = await whmWorld({ fixture: fixture() });
  const { res1 } = w;
  for (const d of DOMS) assert.deepEqual(dkimAt(w, `default._domainkey.${d}`), [], 'no key published before');
  const pv = await res1.agent.post('/bulk/fix/preview').type('form').send({ _csrf: res1.csrf, check: 'dkim', domains: DOMS });
  const plans = planValues(pv.text);
  assert.deepEqual(plans.map((p) => p.split('|')[0]), DOMS, text(pv.text).slice(0, 2000));
  const res = await res1.agent.post('/bulk/fix/apply').type('form').redirects(2).send({ _csrf: res1.csrf, check: 'dkim', plan: plans });
  assert.equal(res.status, 200);
  for (const d of DOMS) assert.equal(outcomeOf(res.text, d), 'applied', `${d}: ${text(res.text).slice(-1500)}`);
  // Each subdomain's key is published once, in the shared zone, with the key the panel now signs with.
  for (const d of DOMS) {
    const recs = dkimAt(w, `default._domainkey.${d}`);
    assert.equal(recs.length, 1, `${d}: ${JSON.stringify(recs)}`);
    assert.match(recs[0], new RegExp(`p=${w.state.dkim.publicKey.slice(0, 40).replace(/[+/]/g, '\\$&')}`));
    assert.ok(w.state.dkimDomains.includes(d), `${d} signs`);
  }
  // The zone's own key stays.
  assert.equal(dkimAt(w, 'default._domainkey.zed.example').length, 1);
  // Two changes recorded, one per domain, each with its key made by the panel.
  const changes = w.store.changesForDomains(DOMS, 10);
  assert.deepEqual(changes.map((c) => c.domain).sort(), [...DOMS].sort());
  assert.ok(changes.every((c) => c.status === 'applied' && c.changes.some((x) => x.keyGenerated)), JSON.stringify(changes.map((c) => [c.status, c.error])));
});

test('the same bulk DKIM form sent again over that shared zone: each domain "already applied", nothing written (review)', { timeout: 60_000 }, async () => {
  w = await whmWorld({ fixture: fixture() });
  const { res1 } = w;
  const pv = await res1.agent.post('/bulk/fix/preview').type('form').send({ _csrf: res1.csrf, check: 'dkim', domains: DOMS });
  const plans = planValues(pv.text);
  const send = () => res1.agent.post('/bulk/fix/apply').type('form').redirects(2).send({ _csrf: res1.csrf, check: 'dkim', plan: plans });
  const first = await send();
  for (const d of DOMS) assert.equal(outcomeOf(first.text, d), 'applied', text(first.text).slice(-1500));
  const again = await send();
  for (const d of DOMS) assert.equal(outcomeOf(again.text, d), 'already', `${d}: ${text(again.text).slice(-1500)}`);
  assert.equal(w.store.changesForDomains(DOMS, 10).length, 2, 'nothing written again');
});

test("another edit of the shared zone between the key step and the next domain still refuses that domain", { timeout: 60_000 }, async () => {
  // Someone adds a record to the zone right after the first domain's write: the chain of this bulk's own moves no
  // longer leads to the zone as it is, so the second domain is refused "the zone changed" (and nothing is written).
  let writes = 0;
  let ww: WhmWorld | undefined;
  const wrapPanel = (p: Panel): Panel =>
    new Proxy(p, {
      get(target, prop, recv) {
        const v = Reflect.get(target, prop, recv);
        if (prop !== 'applyChanges' || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
        return async (...args: unknown[]) => {
          const out = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (++writes === 1 && ww) {
            const z = ww.state.zones['zed.example'];
            z.lines.push({ kind: 'record', dname: 'other', ttl: 300, type: 'A', data: ['192.0.2.7'] });
            z.serial++;
          }
          return out;
        };
      },
    });
  w = ww = await whmWorld({ fixture: fixture(), wrapPanel });
  const { res1 } = w;
  const pv = await res1.agent.post('/bulk/fix/preview').type('form').send({ _csrf: res1.csrf, check: 'dkim', domains: DOMS });
  const plans = planValues(pv.text);
  const res = await res1.agent.post('/bulk/fix/apply').type('form').redirects(2).send({ _csrf: res1.csrf, check: 'dkim', plan: plans });
  assert.equal(outcomeOf(res.text, DOMS[0]), 'applied', text(res.text).slice(-1500));
  assert.equal(outcomeOf(res.text, DOMS[1]), 'refused', text(res.text).slice(-1500));
  assert.match(text(res.text), /changed since the preview/);
  assert.deepEqual(dkimAt(w, `default._domainkey.${DOMS[1]}`), []);
});
