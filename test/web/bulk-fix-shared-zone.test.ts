// A reseller's bulk fix over a domain and its subdomain that cPanel keeps in ONE zone (blog.alice.example's records
// live in alice.example's zone): the parent's apply moves the zone's serial, and the subdomain's previewed plan hash
// carries the zone version — it was refused "the zone changed" and had to be previewed again. Now the subdomain is
// applied too, but only when the move is this bulk's own write and its fresh plan has the same changes as the preview;
// any other edit to the zone in between is still refused. WHM API 1 emulator on loopback (reseller res1), live DNS
// served from the emulator's current zones, real SQLite.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Store } from '../../src/adapters/store/store.js';
import { nextSerial, type CpState } from '../helpers/emulators/cpanel.js';
import { makeFixture, zoneRecords, type Fixture } from '../helpers/emulators/fixture.js';
import type { Session } from './helpers.js';
import { planValues, serverRecords, whmWorld, type WhmWorld } from './shared-zone-world.js';

const PARENT = 'alice.example';
const SUB = 'blog.alice.example';

describe('bulk fix: a subdomain in its parent domain\'s cPanel zone', () => {
  let w: WhmWorld | undefined;
  let state: CpState;
  let store: Store;
  let res1: Session;

  /** A fresh server state (every fixture zone at serial 2024061100), history and app. */
  async function setup(f: Fixture): Promise<void> {
    await w?.close();
    w = await whmWorld({ fixture: f });
    ({ state, store, res1 } = w);
  }
  beforeEach(() => setup(makeFixture()));
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  async function preview(check: string, domains: string[]): Promise<string[]> {
    const page = await res1.agent.post('/bulk/fix/preview').type('form').send({ _csrf: res1.csrf, check, domains });
    assert.equal(page.status, 200, page.text);
    return planValues(page.text);
  }
  const applyForm = (check: string, plan: string[]) => res1.agent.post('/bulk/fix/apply').type('form').redirects(1).send({ _csrf: res1.csrf, check, plan });
  const outcomeOf = (html: string, domain: string) => new RegExp(`data-domain="${domain.replace(/\./g, '\\.')}" data-outcome="([a-z]+)"`).exec(html)?.[1];

  test('both are applied in one bulk fix: the zone moved only by the parent\'s write in this same apply', { timeout: 60_000 }, async () => {
    const plans = await preview('spf', [PARENT, SUB]);
    assert.deepEqual(plans.map((p) => p.split('|')[0]), [PARENT, SUB], 'an SPF plan for the domain and for its subdomain');
    const res = await applyForm('spf', plans);
    assert.equal(res.status, 200, res.text);
    assert.equal(outcomeOf(res.text, PARENT), 'applied', res.text);
    assert.equal(outcomeOf(res.text, SUB), 'applied', `the subdomain is applied too, not refused as "the zone changed":\n${res.text}`);
    const changes = store.changesForDomains([PARENT, SUB], 10);
    assert.deepEqual(changes.map((c) => [c.domain, c.status]).sort(), [[PARENT, 'applied'], [SUB, 'applied']]);
    // The subdomain's write was made over the version the parent's write left (nothing in between).
    const p = changes.find((c) => c.domain === PARENT)!;
    const s = changes.find((c) => c.domain === SUB)!;
    assert.equal(s.zoneVersionBefore, p.zoneVersionAfter);
    // Both records are in the one zone, the parent's SPF rewritten, the subdomain's added.
    const spf = serverRecords(state, PARENT).filter((r) => r.type === 'TXT' && r.data.join('').startsWith('v=spf1'));
    assert.ok(spf.some((r) => r.name === PARENT && !r.data.join('').includes('websitewelcome')), JSON.stringify(spf));
    assert.ok(spf.some((r) => r.name === SUB), JSON.stringify(spf));
    // The same form sent again (a double click): both were applied already, neither is written twice.
    const again = await applyForm('spf', plans);
    assert.equal(again.status, 200, again.text);
    assert.equal(outcomeOf(again.text, PARENT), 'already', again.text);
    assert.equal(outcomeOf(again.text, SUB), 'already', again.text);
    assert.equal(store.changesForDomains([PARENT, SUB], 10).length, 2);
  });

  test('the form sent again after someone else edited the zone: refused with the new plan, not "already applied"', { timeout: 60_000 }, async () => {
    const plans = await preview('spf', [PARENT, SUB]);
    const first = await applyForm('spf', plans);
    assert.equal(outcomeOf(first.text, SUB), 'applied', first.text);
    // Someone edits the parent's SPF record in cPanel after the fix: the fix's own records changed since.
    const z = state.zones[PARENT];
    const spf = z.lines.find((l) => l?.kind === 'record' && l.type === 'TXT' && l.dname === `${PARENT}.` && l.data.join('').startsWith('v=spf1'));
    assert.ok(spf?.kind === 'record');
    spf.data = ['v=spf1 include:websitewelcome.com ~all'];
    z.serial += 1;
    const again = await applyForm('spf', plans);
    assert.equal(outcomeOf(again.text, PARENT), 'refused', again.text);
    assert.equal(outcomeOf(again.text, SUB), 'refused', again.text);
    assert.equal(store.changesForDomains([PARENT, SUB], 10).length, 2, 'nothing written the second time');
  });

  test('an edit by anyone else to the shared zone between the preview and the apply still refuses the subdomain', { timeout: 60_000 }, async () => {
    const plans = await preview('spf', [PARENT, SUB]);
    // Someone adds a record to the zone in cPanel after the preview: the serial moves, and nothing of the fixes changes.
    const z = state.zones[PARENT];
    z.lines.push({ kind: 'record', dname: 'shop', ttl: 14400, type: 'A', data: ['203.0.113.10'] });
    z.serial += 1;
    const res = await applyForm('spf', plans);
    assert.equal(res.status, 200, res.text);
    assert.equal(outcomeOf(res.text, PARENT), 'refused');
    assert.equal(outcomeOf(res.text, SUB), 'refused');
    assert.equal(store.changesForDomains([PARENT, SUB], 10).length, 0, 'nothing written');
  });

  test('an edit by anyone else right after the parent\'s write still refuses the subdomain', { timeout: 60_000 }, async () => {
    const plans = await preview('spf', [PARENT, SUB]);
    // The edit lands just after the parent's SPF write (the emulator's next zone read of the subdomain's fix).
    const z = state.zones[PARENT];
    const serialBefore = z.serial;
    let edited = false;
    const origPush = state.calls.push.bind(state.calls);
    state.calls.push = (...items: string[]) => {
      if (!edited && z.serial !== serialBefore && items.some((c) => c.startsWith('whm:parse_dns_zone'))) {
        edited = true;
        z.lines.push({ kind: 'record', dname: 'shop', ttl: 14400, type: 'A', data: ['203.0.113.10'] });
        z.serial += 1;
      }
      return origPush(...items);
    };
    try {
      const res = await applyForm('spf', plans);
      assert.equal(res.status, 200, res.text);
      assert.ok(edited, 'the foreign edit happened');
      assert.equal(outcomeOf(res.text, PARENT), 'applied');
      assert.equal(outcomeOf(res.text, SUB), 'refused', res.text);
      assert.match(res.text, /zone \(or the plan\) changed since the preview/);
      assert.deepEqual(store.changesForDomains([PARENT, SUB], 10).map((c) => c.domain), [PARENT]);
    } finally {
      state.calls.push = origPush;
    }
  });

  test('a subdomain whose fresh plan differs from the one previewed is refused, even when only the bulk moved the zone', { timeout: 60_000 }, async () => {
    const plans = await preview('spf', [PARENT, SUB]);
    // Right after the parent's write, the subdomain gets an SPF record without the serial moving (the version chain
    // still holds): its fresh plan edits that record instead of adding one — not the plan the user ticked.
    const z = state.zones[PARENT];
    const serialBefore = z.serial;
    let edited = false;
    const origPush = state.calls.push.bind(state.calls);
    state.calls.push = (...items: string[]) => {
      if (!edited && z.serial !== serialBefore && items.some((c) => c.startsWith('whm:parse_dns_zone'))) {
        edited = true;
        z.lines.push({ kind: 'record', dname: 'blog', ttl: 14400, type: 'TXT', data: ['v=spf1 include:websitewelcome.com ~all'] });
      }
      return origPush(...items);
    };
    try {
      const res = await applyForm('spf', plans);
      assert.equal(res.status, 200, res.text);
      assert.ok(edited);
      assert.equal(outcomeOf(res.text, PARENT), 'applied');
      assert.equal(outcomeOf(res.text, SUB), 'refused', res.text);
      assert.deepEqual(store.changesForDomains([PARENT, SUB], 10).map((c) => c.domain), [PARENT]);
    } finally {
      state.calls.push = origPush;
    }
  });

  test('a domain of the same group in a zone of its own is never rebased on a write to another zone, even with the same serial', { timeout: 60_000 }, async () => {
    // shop.alice.example: an addon domain of another account, with its own zone (same registrable domain, so the
    // bulk runs it after alice.example). Every fixture zone starts at the same serial.
    const SHOP = 'shop.alice.example';
    const f = makeFixture();
    f.accounts.find((a) => a.user === 'bob')!.addon.push(SHOP);
    f.zones[SHOP] = zoneRecords(SHOP, f.dkim.publicKey);
    await setup(f);
    const plans = await preview('spf', [PARENT, SHOP]);
    assert.deepEqual(plans.map((p) => p.split('|')[0]), [PARENT, SHOP]);
    // Someone edits shop.alice.example's zone in cPanel: its serial becomes the one alice.example's write will get.
    const shop = state.zones[SHOP];
    shop.lines.push({ kind: 'record', dname: 'www2', ttl: 14400, type: 'A', data: ['203.0.113.10'] });
    shop.serial = nextSerial(state, state.zones[PARENT].serial);
    const res = await applyForm('spf', plans);
    assert.equal(res.status, 200, res.text);
    assert.equal(outcomeOf(res.text, PARENT), 'applied');
    assert.equal(String(state.zones[PARENT].serial), String(shop.serial), 'the two zones now have the same serial');
    assert.equal(outcomeOf(res.text, SHOP), 'refused', res.text);
    assert.deepEqual(store.changesForDomains([PARENT, SHOP], 10).map((c) => c.domain), [PARENT]);
  });
});
