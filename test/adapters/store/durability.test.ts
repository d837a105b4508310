// The store methods a fix needs to stay truthful across processes: lease renewal, outcomes recorded only onto an open
// intent, an undo recorded in one transaction, a late write corrected, half-recorded undos repaired, and a held named
// lock told apart from a busy database. Fake clocks; "processes" are two Store instances and a raw connection.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { Change } from '../../../src/core/model.js';
import { openStore, StoreError, type Store, type StoreOptions } from '../../../src/adapters/store/store.js';

const root = mkdtempSync(join(tmpdir(), 'mailhealth-store-durability-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(root, `case-${++n}`, 'h.sqlite');
const T0 = Date.parse('2027-03-01T12:00:00.000Z');
function fakeClock(start = T0) {
  const c = { t: start, now: () => c.t, advance: (ms: number) => void (c.t += ms) };
  return c;
}
const opened: Store[] = [];
after(() => opened.forEach((s) => s.close()));
function open(path: string, options: StoreOptions = {}): Store {
  const s = openStore(path, options);
  opened.push(s);
  return s;
}
const CHANGE: Change = {
  action: 'edit',
  name: 'a.example',
  type: 'TXT',
  ttl: 3600,
  before: { name: 'a.example', ttl: 3600, type: 'TXT', value: 'v=spf1 include:old.example -all' },
  after: { name: 'a.example', ttl: 3600, type: 'TXT', value: 'v=spf1 -all' },
};
const intent = (s: Store, undoOf?: number) => s.recordIntent({ domain: 'a.example', check: 'spf', planHash: 'sha256:x', zoneVersion: 'v1', changes: [CHANGE], byUser: 'root', undoOf: undoOf ?? null });

describe('renewLock', () => {
  test('renews a lease still the owner\'s, also one that ran out while nobody took the lock; never one taken, released or pruned since', () => {
    const path = freshPath();
    const clock = fakeClock();
    const p1 = open(path, { now: clock.now });
    const p2 = open(path, { now: clock.now });
    assert.ok(p1.tryLock('domain:a.example', 'p1', 60_000));
    clock.advance(60_001);
    assert.equal(p1.lockHolder('domain:a.example'), null, 'ran out');
    assert.equal(p1.renewLock('domain:a.example', 'p1', 60_000), true, 'nobody took it in between');
    assert.equal(p2.tryLock('domain:a.example', 'p2', 60_000), false, 'held again for 60 s from the renewal');
    clock.advance(60_001);
    assert.ok(p2.tryLock('domain:a.example', 'p2', 60_000));
    assert.equal(p1.renewLock('domain:a.example', 'p1', 60_000), false, 'taken by p2');
    assert.ok(p2.releaseLock('domain:a.example', 'p2'));
    assert.equal(p1.renewLock('domain:a.example', 'p1', 60_000), false, 'released since');
    assert.ok(p1.tryLock('domain:b.example', 'p1', 60_000));
    clock.advance(60_001);
    p2.prune({ olderThanDays: 90 });
    assert.equal(p1.renewLock('domain:b.example', 'p1', 60_000), false, 'pruned (expired locks go)');
  });
});

describe('held lock or busy database', () => {
  test('withLock on a lock someone holds: code locked with heldLock; a busy database: code locked without it', async () => {
    const path = freshPath();
    const p1 = open(path, { busyTimeoutMs: 5 });
    const p2 = open(path, { busyTimeoutMs: 5 });
    assert.ok(p1.tryLock('domain:a.example', 'p1', 60_000));
    await assert.rejects(p2.withLock('domain:a.example', 'p2', 60_000, () => 1), (e: unknown) => e instanceof StoreError && e.code === 'locked' && e.heldLock === 'domain:a.example');
    const raw = new Database(path);
    raw.exec('BEGIN IMMEDIATE');
    try {
      assert.throws(() => p2.tryLock('domain:b.example', 'p2', 60_000), (e: unknown) => e instanceof StoreError && e.code === 'locked' && e.heldLock === undefined);
      await assert.rejects(p2.withLock('domain:b.example', 'p2', 60_000, () => 1), (e: unknown) => e instanceof StoreError && e.code === 'locked' && e.heldLock === undefined);
    } finally {
      raw.exec('COMMIT');
      raw.close();
    }
  });
});

describe('outcomes onto open intents only', () => {
  test('settleIntent records once; a change settled meanwhile is left as it is', () => {
    const s = open(freshPath());
    const id = intent(s);
    assert.equal(s.settleIntent(id, { status: 'failed', error: 'reconciled: the write never happened' }), true);
    assert.equal(s.settleIntent(id, { status: 'applied', zoneVersionAfter: 'v2' }), false);
    const ch = s.getChange(id)!;
    assert.equal(ch.status, 'failed');
    assert.equal(ch.zoneVersionAfter, null);
    assert.throws(() => s.settleIntent(999, { status: 'failed' }), (e: unknown) => e instanceof StoreError && e.code === 'not-found');
  });

  test('recordUndone: the undo applied and its change undone and reverted together; not on a settled undo; all or nothing', () => {
    const s = open(freshPath());
    const orig = intent(s);
    s.recordOutcome(orig, { status: 'applied', zoneVersionAfter: 'v2' });
    const undo = intent(s, orig);
    assert.equal(s.recordUndone(undo, { zoneVersionAfter: 'v3' }), true);
    assert.equal(s.getChange(undo)!.status, 'applied');
    assert.equal(s.getChange(undo)!.zoneVersionAfter, 'v3');
    assert.equal(s.getChange(orig)!.status, 'reverted');
    assert.equal(s.getChange(orig)!.undoneBy, undo);
    assert.equal(s.recordUndone(undo), false, 'no longer an intent');
    // A second undo of the same change (found by review: it threw and stayed an open intent for ever — reconcile
    // failed on it every time): settled as written, saying the change was undone already; the link stays the first's.
    const undo2 = intent(s, orig);
    assert.equal(s.recordUndone(undo2), true);
    assert.equal(s.getChange(undo2)!.status, 'applied');
    assert.match(s.getChange(undo2)!.error ?? '', new RegExp(`change ${orig} had already been undone by change ${undo}; this undo was written too`));
    assert.equal(s.getChange(orig)!.undoneBy, undo);
    assert.throws(() => s.recordUndone(orig), (e: unknown) => e instanceof StoreError && e.code === 'invalid', 'not an undo');
  });

  test('recordLateWrite: reopened as applied (an undo: its change reverted) with the note before the earlier text; only from the expected status', () => {
    const s = open(freshPath());
    const id = intent(s);
    s.settleIntent(id, { status: 'failed', error: 'reconciled while running: the write never happened' });
    assert.equal(s.recordLateWrite(id, { expected: 'applied', reopen: true, note: 'x' }), false);
    assert.equal(s.recordLateWrite(id, { expected: 'failed', reopen: true, zoneVersionAfter: 'v2', note: 'written late: …' }), true);
    const ch = s.getChange(id)!;
    assert.equal(ch.status, 'applied');
    assert.equal(ch.zoneVersionAfter, 'v2');
    assert.equal(ch.error, 'written late: … — earlier: reconciled while running: the write never happened');

    const undo = intent(s, id);
    s.settleIntent(undo, { status: 'failed', error: 'reconciled: the write never happened' });
    assert.ok(s.recordLateWrite(undo, { expected: 'failed', reopen: true, note: 'written late' }));
    assert.equal(s.getChange(undo)!.status, 'applied');
    assert.equal(s.getChange(id)!.status, 'reverted');
    assert.equal(s.getChange(id)!.undoneBy, undo);

    const other = intent(s);
    s.settleIntent(other, { status: 'failed', error: 'e' });
    assert.ok(s.recordLateWrite(other, { expected: 'failed', reopen: false, note: 'review a.example TXT' }));
    assert.equal(s.getChange(other)!.status, 'failed');
    assert.equal(s.getChange(other)!.error, 'review a.example TXT — earlier: e');
  });
});

describe('repairUndoLinks', () => {
  test('an applied undo whose change is not marked (or marked but still applied) is repaired; consistent history is left alone', () => {
    const s = open(freshPath());
    // Killed between the undo's outcome and markUndone.
    const a = intent(s);
    s.recordOutcome(a, { status: 'applied' });
    const ua = intent(s, a);
    s.recordOutcome(ua, { status: 'applied' });
    // Killed between markUndone and the change's 'reverted'.
    const b = intent(s);
    s.recordOutcome(b, { status: 'applied' });
    const ub = intent(s, b);
    s.recordOutcome(ub, { status: 'applied' });
    s.markUndone(b, ub);
    // Consistent: an undo that failed, and one properly recorded.
    const c = intent(s);
    s.recordOutcome(c, { status: 'applied' });
    const uc = intent(s, c);
    s.recordOutcome(uc, { status: 'failed' });
    const d = intent(s);
    s.recordOutcome(d, { status: 'applied' });
    const ud = intent(s, d);
    s.recordUndone(ud);
    const before = s.getChange(d)!;

    assert.deepEqual(s.repairUndoLinks(), [
      { undoId: ua, changeId: a },
      { undoId: ub, changeId: b },
    ]);
    for (const [orig, undo] of [
      [a, ua],
      [b, ub],
    ]) {
      assert.equal(s.getChange(orig)!.status, 'reverted');
      assert.equal(s.getChange(orig)!.undoneBy, undo);
    }
    assert.equal(s.getChange(c)!.status, 'applied');
    assert.equal(s.getChange(c)!.undoneBy, null);
    assert.deepEqual(s.getChange(d), before);
    assert.deepEqual(s.repairUndoLinks(), [], 'nothing left to repair');
  });
});
