// Behaviour of apply, undo and reconcile that no test of core pinned (found by mutation testing of
// src/core/plans/apply.ts and undo-again.ts): each test below fails when the check it names is taken out of the code.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { Change } from '../../../src/core/model.js';
import { applyPlan, reconcile, type StoredChange } from '../../../src/core/plans/apply.js';
import { undoneAlready } from '../../../src/core/plans/undo-again.js';
import { makePlan } from '../../../src/core/plans/index.js';
import type { Resolver } from '../../../src/core/resolver.js';
import { baseRecords, DOMAIN as RIG_DOMAIN, makeRig, type Rig } from '../../helpers/emulators/rig.js';
import { hookPanel } from '../../helpers/hook-panel.js';
import { playPerTest } from '../../helpers/fixplay.js';

const start = playPerTest();
const D = 'bakery.example';
let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

test('the zone file edited (a comment only) after the re-plan read it: refused before the intent — nothing recorded, nothing written', async () => {
  const p = await start();
  const plan = await p.plan(D, 'spf');
  let edited = '';
  // The first mail-settings read of the apply comes after the re-plan's zone read and before the zone is read again just
  // before the write: the records stay, the file (and so its version) changes.
  const panel = hookPanel(p.panel, {
    readMailSettings: (orig, domain) => {
      if (!edited) {
        edited = p.zoneText(D) + '; a comment added by hand\n';
        p.writeZone(D, edited);
      }
      return orig(domain);
    },
  });
  const out = await applyPlan({ domain: D, check: 'spf', planHash: plan.planHash }, p.deps({ panel }));
  assert.equal(out.status, 'refused', JSON.stringify(out));
  if (out.status === 'refused') {
    assert.match(out.reason, /^The zone changed since the preview: here is the new plan\./);
    assert.equal(out.why, 'changed');
  }
  assert.equal(p.zoneText(D), edited);
  // Refused by core's own check of the version, before the intent: the history holds nothing (not a failed change the
  // panel's own version check would leave).
  assert.deepEqual(p.store.changesForDomain(D), []);
});

test('the DKIM key fix: the zone file edited (a comment only) after the re-plan read it — refused before the panel generates a key', async () => {
  const p = await start();
  const domain = 'newkey.example';
  const plan = await p.plan(domain, 'dkim');
  assert.ok(plan.actions.some((a) => a.kind === 'generate-dkim'));
  let edited = '';
  let generated = 0;
  const panel = hookPanel(p.panel, {
    readMailSettings: (orig, d) => {
      if (!edited) {
        edited = p.zoneText(domain) + '; a comment added by hand\n';
        p.writeZone(domain, edited);
      }
      return orig(d);
    },
    generateDkim: (orig, d) => {
      generated++;
      return orig(d);
    },
  });
  const out = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps({ panel }));
  assert.equal(out.status, 'refused', JSON.stringify(out));
  if (out.status === 'refused') assert.match(out.reason, /^The zone changed since the preview: preview the fix again\./);
  assert.equal(generated, 0, 'no key generated (signing not turned on with a key whose record is never published)');
  assert.equal(p.zoneText(domain), edited);
  const [row] = p.store.changesForDomain(domain);
  assert.equal(row.status, 'failed');
  assert.deepEqual(p.store.pendingIntents(), []);
});

test('reconcile: an intent closed by its own fix between the list of open intents and the domain lock is left alone — not reported, not read again', async () => {
  const p = await start();
  const plan = await p.plan(D, 'spf');
  const crashAfterWrite = (w: string) => {
    if (w === 'after-write') throw new Error('injected crash after-write');
  };
  await assert.rejects(applyPlan({ domain: D, check: 'spf', planHash: plan.planHash }, p.deps({ crashPoint: crashAfterWrite })), /injected crash/);
  const [open] = p.store.pendingIntents();
  assert.ok(open);
  const zoneAfter = p.zoneText(D);
  // The fix that held the domain's lock records its own outcome just before reconcile gets the lock.
  const history = new Proxy(p.store, {
    get: (t, prop) => {
      if (prop !== 'withLock') return Reflect.get(t, prop, t);
      return (...a: Parameters<typeof p.store.withLock>) => {
        t.settleIntent(open.id, { status: 'applied', zoneVersionAfter: null });
        return t.withLock(...a);
      };
    },
  });
  let reads = 0;
  const panel = hookPanel(p.panel, {
    readZone: (orig, d) => {
      reads++;
      return orig(d);
    },
  });
  assert.deepEqual(await reconcile(p.deps({ history, panel })), []);
  assert.equal(reads, 0, 'the zone is not read for an intent settled meanwhile');
  assert.equal(p.store.getChange(open.id)!.status, 'applied');
  assert.equal(p.zoneText(D), zoneAfter);
});

test('a write that fails part-way after another process settled its intent (this fix outlasted its lease): nothing is put back — the zone is not this fix\'s to write any more', async () => {
  const p = await start();
  const plan = await p.plan(D, 'spf');
  let halfWritten = '';
  const panel = hookPanel(p.panel, {
    applyChanges: async (orig, domain, changes, version) => {
      if (halfWritten) return orig(domain, changes, version); // a clean-up write, if any
      // Half of the edit (the old SPF record deleted, the new one not added yet), as a record-by-record panel fails.
      await orig(domain, changes.map((c): Change => (c.action === 'edit' ? { ...c, action: 'remove', after: null } : c)), version);
      halfWritten = p.zoneText(D);
      // Meanwhile another mailhealth process, holding the domain now, settled the intent from the zone.
      const [open] = p.store.pendingIntents();
      p.store.settleIntent(open.id, { status: 'failed', error: 'settled by another process' });
      throw new Error('connection reset during the write');
    },
  });
  const out = await applyPlan({ domain: D, check: 'spf', planHash: plan.planHash }, p.deps({ panel }));
  assert.equal(out.status, 'failed', JSON.stringify(out));
  if (out.status === 'failed') assert.match(out.reason, /connection reset during the write; the zone could not be re-checked \(the old records were not put back: change \d+ was settled meanwhile/);
  assert.ok(halfWritten);
  assert.equal(p.zoneText(D), halfWritten, 'no clean-up write once the intent was settled by someone else');
});

test("publish-elsewhere (the domain's live DNS is served by the old host): refused as such — why 'elsewhere', the reason says where to publish; nothing recorded", async () => {
  const p = await start();
  const domain = 'lawyer.example';
  const before = p.zoneText(domain);
  for (const check of ['spf', 'dmarc'] as const) {
    const plan = await p.plan(domain, check);
    assert.equal(plan.mode, 'publish-elsewhere', check);
    const out = await applyPlan({ domain, check, planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'refused', check);
    if (out.status !== 'refused') continue;
    assert.equal(out.why, 'elsewhere', check);
    assert.match(out.reason, /^This server's DNS is not the live one: publish the records at the real DNS host instead\./, check);
    assert.equal(out.newPlan?.planHash, plan.planHash, check);
  }
  assert.equal(p.zoneText(domain), before);
  assert.deepEqual(p.store.changesForDomain(domain), []);
});

test('cpanel: two lines of the zone swapped by hand (same records, the serial not bumped) while apply re-plans: refused by the record-for-record check (refs included) before the intent — nothing written, nothing recorded', async () => {
  const STALE_SPF = 'v=spf1 +a +mx include:websitewelcome.com ~all';
  const records = baseRecords();
  const srv = records.pop()!;
  const r = (rig = await makeRig('cpanel', [...records, { name: RIG_DOMAIN, ttl: 14400, type: 'TXT', data: [STALE_SPF] }, srv]));
  const before = await r.records();
  const plan = await makePlan({ domain: RIG_DOMAIN, check: 'spf' }, r.deps());
  assert.equal(plan.changes.length, 1);
  const z = r.cp!.zones[RIG_DOMAIN];
  const serial = z.serial;
  const swap = () => {
    const spf = z.lines.findIndex((l) => l?.kind === 'record' && l.type === 'TXT' && l.data.join('') === STALE_SPF);
    const other = z.lines.findIndex((l) => l?.kind === 'record' && l.type === 'SRV');
    assert.ok(spf >= 0 && other >= 0);
    [z.lines[spf], z.lines[other]] = [z.lines[other], z.lines[spf]];
  };
  // At the re-plan's first DNS question (the zone read by then): the same records, each on another line.
  let done = false;
  const resolver: Resolver = {
    resolve: (name, type) => {
      if (!done) {
        done = true;
        swap();
      }
      return r.resolver.resolve(name, type);
    },
  };
  const out = await applyPlan({ domain: RIG_DOMAIN, check: 'spf', planHash: plan.planHash }, r.deps({ resolver }));
  assert.equal(out.status, 'refused', JSON.stringify(out));
  if (out.status === 'refused') assert.equal(out.why, 'changed');
  assert.equal(z.serial, serial, 'nothing was written');
  assert.deepEqual(await r.records(), before, 'every record as it was (the SRV record not overwritten)');
  // Core's own check (the version alone, the serial, did not move): nothing recorded — not an intent the panel then
  // refuses.
  assert.deepEqual(r.store.changesForDomain(RIG_DOMAIN), []);
});

describe('undoneAlready: which earlier undo answers an undo sent again', () => {
  const change = (over: Partial<StoredChange> & { id: number }): StoredChange => ({
    domain: D,
    check: 'spf',
    planHash: `sha256:${over.id}`,
    zoneVersionBefore: 'v1',
    zoneVersionAfter: 'v2',
    changes: [],
    byUser: 'alice',
    status: 'applied',
    verified: 'yes',
    undoOf: null,
    undoneBy: null,
    ...over,
  });
  const storeOf = (...changes: StoredChange[]) => ({
    getChange: (id: number) => changes.find((c) => c.id === id) ?? null,
    changesForDomain: (domain: string) => changes.filter((c) => c.domain === domain).sort((a, b) => b.id - a.id),
  });

  test("the same user's undo, applied: answered with it; another user's: null (the refusal names it)", () => {
    const store = storeOf(change({ id: 1, status: 'reverted', undoneBy: 2 }), change({ id: 2, undoOf: 1 }));
    const mine = undoneAlready(store, 1, 'alice');
    assert.equal(mine?.changeId, 2);
    assert.equal(mine?.changeStatus, 'applied');
    assert.equal(undoneAlready(store, 1, 'bob'), null);
  });

  // Two guards cover this one (the undo's undoneBy, and its status: an undo undone is 'reverted'): it fails only when
  // both are taken out.
  test('an undo undone since (the fix\'s records back): null — the records are not as that undo left them', () => {
    const store = storeOf(change({ id: 1, status: 'reverted', undoneBy: 2 }), change({ id: 2, undoOf: 1, status: 'reverted', undoneBy: 3 }), change({ id: 3, undoOf: 2 }));
    assert.equal(undoneAlready(store, 1, 'alice'), null);
    assert.equal(undoneAlready(store, 1, 'alice', true), null);
  });

  test('an undo still an open intent counts only when asked with `pending` (never one a crash left open, on the first ask)', () => {
    const store = storeOf(change({ id: 1 }), change({ id: 2, undoOf: 1, status: 'intent', verified: null, zoneVersionAfter: null }));
    assert.equal(undoneAlready(store, 1, 'alice'), null);
    const pending = undoneAlready(store, 1, 'alice', true);
    assert.equal(pending?.changeId, 2);
    assert.equal(pending?.changeStatus, 'intent');
    assert.equal(undoneAlready(store, 1, 'bob', true), null);
  });
});
