// A panel that answers a write with its own success but changes nothing, or only part of it (QA h3 D7, D8, D11).
// D7: the fix was recorded `applied`, verified `no`, exit 0; the retry made change #2; the undo of the phantom #1 was
// accepted and took back #2's records, #2 staying "applied, verified yes" and its undo then refused. Now the zone read
// right after the write decides: nothing of it there → failed, nothing to undo; and an undo is refused while a later
// change that still stands wrote the same records. D8: a record-by-record panel (Plesk) that wrote half of the change
// and answered success left the domain without SPF (or with two), recorded applied; now settled as reconcile settles
// it (the old records put back). D11: a zone that could not be read after the write was recorded "propagating" as if
// the panel had shown the records; now said: not checked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Change, Zone } from '../../../src/core/model.js';
import type { Panel } from '../../../src/core/panel.js';
import { applyPlan, undoChange, withCopies, type StoredChange } from '../../../src/core/plans/apply.js';
import { standingOnSameRecords } from '../../../src/core/plans/replaced.js';
import { hookPanel, type PanelHooks } from '../../helpers/hook-panel.js';
import { playPerTest, type Play } from '../../helpers/fixplay.js';

const start = playPerTest();
const D = 'bakery.example';

const spfOf = (zone: Zone) => zone.records.filter((r) => r.name === D && r.type === 'TXT' && /^v=spf1/i.test(r.txt?.join('') ?? r.value)).map((r) => r.txt?.join('') ?? r.value);
const spfNow = async (p: Play) => spfOf(await p.panel.readZone(D));

/** The panel answering every write with the zone as it is (its own success), writing nothing — while `on()`. */
function noOp(p: Play, on: () => boolean = () => true): void {
  const write = p.panel.applyChanges.bind(p.panel);
  p.panel.applyChanges = async (domain, changes, version) => (on() ? p.panel.readZone(domain) : write(domain, changes, version));
}

/** The panel hooked, and said to write record by record (as Plesk's capabilities say). */
function recordByRecord(panel: Panel, hooks: PanelHooks): Panel {
  const hooked = hookPanel(panel, hooks);
  return new Proxy(hooked, {
    get: (t, prop) => (prop === 'capabilities' ? { ...panel.capabilities, recordByRecordWrites: true } : Reflect.get(t, prop, t)),
  });
}

test('D7: a write the panel answers but does not make is failed, "nothing was written", exit-worthy — not applied; the retry writes it; nothing phantom to undo', async () => {
  const p = await start();
  const before = await spfNow(p);
  const plan = await p.plan(D, 'spf');
  let broken = true;
  noOp(p, () => broken);
  const first = await applyPlan({ domain: D, check: 'spf', planHash: plan.planHash }, p.deps());
  assert.equal(first.status, 'failed', JSON.stringify(first));
  if (first.status !== 'failed') return;
  assert.match(first.reason, /^Not applied: the panel answered the write as done, but its zone, read right after, does not hold it \(the records at bakery\.example TXT are as they were before\): nothing was written\. Nothing to undo\./);
  const ch1 = p.store.getChange(first.changeId!)!;
  assert.equal(ch1.status, 'failed');
  assert.deepEqual(await spfNow(p), before);
  // Nothing phantom to undo.
  const undo1 = await undoChange(first.changeId!, p.deps());
  assert.equal(undo1.status, 'refused');
  if (undo1.status === 'refused') assert.match(undo1.reason, /is failed, not applied: nothing to undo/);
  // The panel works again: the same preview is applied (not "already": #1 is no applied change).
  broken = false;
  const again = await applyPlan({ domain: D, check: 'spf', planHash: plan.planHash }, p.deps());
  assert.equal(again.status, 'applied', JSON.stringify(again));
  if (again.status !== 'applied') return;
  assert.notEqual(again.changeId, first.changeId);
  assert.equal(again.verified, 'yes');
  const written = await spfNow(p);
  assert.notDeepEqual(written, before);
  // #1 still cannot be undone, and its refusal wrote nothing; #2 can.
  assert.equal((await undoChange(first.changeId!, p.deps())).status, 'refused');
  assert.deepEqual(await spfNow(p), written);
  const undo2 = await undoChange(again.changeId, p.deps());
  assert.equal(undo2.status, 'applied', JSON.stringify(undo2));
  assert.deepEqual(await spfNow(p), before);
});

test('D7: the undo of a phantom change an older version recorded as applied is refused while the later change that wrote the same records stands — it never takes back that change\'s records', async () => {
  const p = await start();
  const before = await spfNow(p);
  const plan = await p.plan(D, 'spf');
  // History as the old code left it: change #1 "applied, verified no", the zone never written.
  const zone = await p.panel.readZone(D);
  const phantom = p.store.recordIntent({ domain: D, check: 'spf', planHash: plan.planHash, zoneVersion: zone.version, changes: withCopies(zone, plan.changes), byUser: 'root' });
  p.store.settleIntent(phantom, { status: 'applied', zoneVersionAfter: zone.version, verified: 'no' });
  // The retry writes it: change #2.
  const real = await applyPlan({ domain: D, check: 'spf', planHash: plan.planHash }, p.deps());
  assert.equal(real.status, 'applied', JSON.stringify(real));
  if (real.status !== 'applied') return;
  const written = await spfNow(p);
  // Old code: "undone", #2's records taken back, #2 left "applied, verified yes".
  const undo1 = await undoChange(phantom, p.deps());
  assert.equal(undo1.status, 'refused', JSON.stringify(undo1));
  if (undo1.status === 'refused') {
    assert.match(undo1.reason, new RegExp(`^Not undone: change ${real.changeId}, made after change ${phantom}, also changed the records at bakery\\.example TXT and still stands`));
    assert.match(undo1.reason, new RegExp(`Undo change ${real.changeId} first, then change ${phantom}`));
  }
  assert.deepEqual(await spfNow(p), written);
  assert.equal(p.store.getChange(real.changeId)!.undoneBy, null);
  assert.equal(p.store.getChange(phantom)!.undoneBy, null);
  // The newest first: #2 is undone, and then #1 has nothing of it in the zone — said as such.
  const undo2 = await undoChange(real.changeId, p.deps());
  assert.equal(undo2.status, 'applied', JSON.stringify(undo2));
  assert.deepEqual(await spfNow(p), before);
  const undo1again = await undoChange(phantom, p.deps());
  assert.equal(undo1again.status, 'refused');
  if (undo1again.status === 'refused') assert.match(undo1again.reason, /as they were before change \d+ — it was never written .*nothing of it to undo\. Nothing was written\./);
  assert.deepEqual(await spfNow(p), before);
});

test('D7: an undo the panel answers but does not make is failed; the change stays applied (not reverted) and can be undone once the panel works', async () => {
  const p = await start();
  const before = await spfNow(p);
  const plan = await p.plan(D, 'spf');
  const out = await applyPlan({ domain: D, check: 'spf', planHash: plan.planHash }, p.deps());
  assert.equal(out.status, 'applied');
  if (out.status !== 'applied') return;
  const written = await spfNow(p);
  let broken = true;
  noOp(p, () => broken);
  const undo = await undoChange(out.changeId, p.deps());
  assert.equal(undo.status, 'failed', JSON.stringify(undo));
  if (undo.status === 'failed') {
    assert.match(undo.reason, /^Not undone: the panel answered the undo as done, but its zone, read right after, does not hold it .*nothing was written\. The change it was to undo stays applied/);
    assert.equal(p.store.getChange(undo.changeId!)!.status, 'failed');
  }
  const ch = p.store.getChange(out.changeId)!;
  assert.equal(ch.status, 'applied');
  assert.equal(ch.undoneBy, null);
  assert.deepEqual(await spfNow(p), written);
  broken = false;
  const again = await undoChange(out.changeId, p.deps());
  assert.equal(again.status, 'applied', JSON.stringify(again));
  assert.deepEqual(await spfNow(p), before);
});

/** An edit as a record-by-record panel makes it with one of its two steps silently not taken. */
function halfOf(changes: Change[], step: 'add' | 'del'): Change[] {
  return changes.flatMap((c): Change[] => {
    if (c.action !== 'edit' || !c.before || !c.after) return [c];
    return step === 'del' ? [{ ...c, action: 'remove', after: null }] : [{ ...c, action: 'add', before: null }];
  });
}

for (const [made, left] of [
  ['del', 'the old SPF record deleted, the new one never added (no SPF at all)'],
  ['add', 'the new SPF record added, the old one never deleted (two SPF records)'],
] as const) {
  test(`D8: a record-by-record panel that answers success having made only half of an edit (${left}): settled from the zone — the old record put back, failed, history "restored"`, async () => {
    const p = await start();
    const before = await spfNow(p);
    const plan = await p.plan(D, 'spf');
    let half = true;
    const panel = recordByRecord(p.panel, {
      applyChanges: (orig, domain, changes, version) => {
        const only = half ? halfOf(changes, made) : changes;
        half = false;
        return orig(domain, only, version);
      },
    });
    const out = await applyPlan({ domain: D, check: 'spf', planHash: plan.planHash }, p.deps({ panel }));
    assert.equal(out.status, 'failed', JSON.stringify(out));
    if (out.status !== 'failed') return;
    assert.match(out.reason, /^Not applied: the panel answered the write as done, but its zone, read right after, held only part of it \(the files panel writes record by record\); the records it had written were taken out and the ones before put back: nothing of the write is in the zone\.$/);
    assert.equal(p.store.getChange(out.changeId!)!.status, 'restored');
    assert.deepEqual(await spfNow(p), before);
  });
}

test('D11: the zone unreadable right after the write: applied as the panel answered, "propagating" (checked again later), and the answer and the history say it was not checked', async () => {
  const p = await start();
  const plan = await p.plan(D, 'spf');
  let written = false;
  const panel = hookPanel(p.panel, {
    applyChanges: async (orig, ...a) => {
      const r = await orig(...a);
      written = true;
      return r;
    },
    readZone: (orig, domain) => (written ? Promise.reject(new Error('cPanel DNS::parse_zone: HTTP 500')) : orig(domain)),
  });
  const out = await applyPlan({ domain: D, check: 'spf', planHash: plan.planHash }, p.deps({ panel }));
  assert.equal(out.status, 'applied', JSON.stringify(out));
  if (out.status !== 'applied') return;
  assert.equal(out.verified, 'propagating');
  assert.equal(
    out.message,
    "applied, but not checked: the panel's zone could not be read after the write (cPanel DNS::parse_zone: HTTP 500), so whether it holds the change is not known yet — it is checked again later, as a change still propagating is",
  );
  const ch = p.store.getChange(out.changeId)! as StoredChange & { error?: string | null };
  assert.equal(ch.status, 'applied');
  assert.equal(ch.verified, 'propagating');
  assert.match(ch.error ?? '', /^not checked: the panel's zone could not be read after the write/);
});

test('a panel that writes a zone in one step, edited right after the write (neither state): still applied, verified "no" — the write landed', async () => {
  const p = await start();
  const plan = await p.plan(D, 'spf');
  const write = p.panel.applyChanges.bind(p.panel);
  p.panel.applyChanges = async (...a) => {
    const r = await write(...a);
    p.writeZone(D, p.zoneText(D).replace(/"v=spf1 [^"]*"/, '"v=spf1 -all"'));
    p.refresh();
    return r;
  };
  const out = await applyPlan({ domain: D, check: 'spf', planHash: plan.planHash }, p.deps());
  assert.equal(out.status, 'applied', JSON.stringify(out));
  if (out.status === 'applied') assert.equal(out.verified, 'no');
});

test('standingOnSameRecords: a later standing change on the same records (a fix writing them back included) — not an undo of a change made later, not other records, not an undone one', () => {
  const txt = (value: string, name = 'a.example') => ({ name, ttl: 300, type: 'TXT', value, txt: [value] });
  const edit = (from: string, to: string, name = 'a.example'): Change => ({ action: 'edit', name, type: 'TXT', ttl: 300, before: txt(from, name), after: txt(to, name) });
  const ch = (id: number, changes: Change[], more: Partial<StoredChange> = {}): StoredChange => ({
    id,
    domain: 'a.example',
    check: 'spf',
    planHash: `h${id}`,
    zoneVersionBefore: null,
    zoneVersionAfter: null,
    changes,
    byUser: 'root',
    status: 'applied',
    verified: 'yes',
    undoOf: null,
    undoneBy: null,
    ...more,
  });
  const one = ch(1, [edit('v=spf1 a', 'v=spf1 b')]);
  // The retry of a phantom: the same records.
  assert.equal(standingOnSameRecords(one, [one, ch(2, [edit('v=spf1 a', 'v=spf1 b')])]), 2);
  // A -> B, B -> C, C -> B (a fix): the newest one stands on B.
  assert.equal(standingOnSameRecords(one, [one, ch(2, [edit('v=spf1 b', 'v=spf1 c')]), ch(3, [edit('v=spf1 c', 'v=spf1 b')])]), 3);
  // A -> B, B -> C undone by 3 (C -> B): nothing stands on B but the undo of a later change — which gave it back.
  assert.equal(standingOnSameRecords(one, [one, ch(2, [edit('v=spf1 b', 'v=spf1 c')], { status: 'reverted', undoneBy: 3 }), ch(3, [edit('v=spf1 c', 'v=spf1 b')], { undoOf: 2 })]), null);
  // Another record (DMARC), a failed change, an earlier change: none.
  assert.equal(standingOnSameRecords(one, [one, ch(2, [edit('v=DMARC1; p=none', 'v=DMARC1; p=quarantine', '_dmarc.a.example')]), ch(3, [edit('v=spf1 a', 'v=spf1 b')], { status: 'failed' })]), null);
  assert.equal(standingOnSameRecords(ch(5, [edit('v=spf1 a', 'v=spf1 b')]), [ch(4, [edit('v=spf1 a', 'v=spf1 b')])]), null);
});
