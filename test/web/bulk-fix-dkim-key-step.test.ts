// A bulk DKIM fix of two cPanel subdomains sharing one zone: the first one's key step (cPanel writes the new key into
// the zone itself) moves the zone outside any write the bulk recorded, so the second is refused "the zone changed" —
// and the refusal says why and what to do (QA: it read as if someone else had edited the zone).
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { makeFixture, zoneRecords } from '../helpers/emulators/fixture.js';
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

let w: WhmWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

test('the second subdomain of one zone is refused with the first one\'s key step named, and how to go on', { timeout: 60_000 }, async () => {
  w = await whmWorld({ fixture: fixture() });
  const { res1 } = w;
  const pv = await res1.agent.post('/bulk/fix/preview').type('form').send({ _csrf: res1.csrf, check: 'dkim', domains: DOMS });
  const plans = planValues(pv.text);
  assert.deepEqual(plans.map((p) => p.split('|')[0]), DOMS, text(pv.text).slice(0, 2000));
  const res = await res1.agent.post('/bulk/fix/apply').type('form').redirects(2).send({ _csrf: res1.csrf, check: 'dkim', plan: plans });
  assert.equal(res.status, 200);
  assert.equal(outcomeOf(res.text, DOMS[0]), 'applied', text(res.text).slice(-1500));
  assert.equal(outcomeOf(res.text, DOMS[1]), 'refused', text(res.text).slice(-1500));
  const page = text(res.text);
  assert.match(page, /DKIM fix of a\.zed\.example, which shares the zone zed\.example with blog\.zed\.example, changed it/);
  assert.match(page, /Preview blog\.zed\.example again/);
});
