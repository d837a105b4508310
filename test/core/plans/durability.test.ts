// Durability of a fix against the rest of the machine: a fix that stalls past its lock's lease (another process
// settles its intent meanwhile), the history database busy around the write (another process's write transaction),
// and an undo interrupted while it is recorded. Clocks are injected (openStore's `now`), "other processes" are second
// Store instances and raw SQLite connections on the same file; nothing depends on how fast the machine is.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { openStore, StoreError, type Store } from '../../../src/adapters/store/store.js';
import { PanelError, PartialWriteError } from '../../../src/core/panel.js';
import { applyPlan, domainLock, LOCK_TTL_MS, reconcile, undoChange, type History } from '../../../src/core/plans/apply.js';
import { applyAndCheck, startPlay, TODAY, type Play } from '../../helpers/fixplay.js';

let play: Play | null = null;
const closing: { close(): void }[] = [];
afterEach(async () => {
  for (const c of closing.splice(0)) {
    try {
      c.close();
    } catch {
      /* closed already */
    }
  }
  await play?.close();
  play = null;
});
async function start(): Promise<Play> {
  play = await startPlay();
  return play;
}
/** A second "process" on the history file, with its own clock. */
function storeAt(p: Play, now: () => number, busyTimeoutMs?: number): Store {
  const s = openStore(p.dbPath, { now, ...(busyTimeoutMs !== undefined ? { busyTimeoutMs } : {}) });
  closing.push(s);
  return s;
}
/** Another process's write transaction on the history file (BEGIN IMMEDIATE) until release(). */
function holdWriteLock(p: Play): { release(): void } {
  const db = new Database(p.dbPath);
  db.exec('BEGIN IMMEDIATE');
  let open = true;
  const h = {
    release() {
      if (!open) return;
      open = false;
      db.exec('COMMIT');
      db.close();
    },
    close: () => h.release(),
  };
  closing.push(h);
  return h;
}
/** `store` with some of its methods replaced and the others bound to it: the history one test runs against. */
function overriding(store: Store, methods: { [K in keyof Store]?: Store[K] }): History {
  return new Proxy(store, {
    get(target, prop) {
      const own = (methods as Record<string | symbol, unknown>)[prop];
      if (own) return own;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as History;
}

const spfLine = (text: string) => text.split('\n').find((l) => /v=spf1/.test(l)) ?? '';

describe('a fix that outlasts its lock lease (LOCK_TTL_MS)', () => {
  test('stalled before the write while another process settles its intent: nothing is written, refused with the reason', async () => {
    const p = await start();
    const plan = await p.plan('florist.example', 'spf');
    const before = p.zoneText('florist.example');
    let clock = TODAY.getTime();
    const history = storeAt(p, () => clock);
    const other = storeAt(p, () => clock);
    const out = await applyPlan(
      { domain: 'florist.example', check: 'spf', planHash: plan.planHash },
      {
        ...p.deps({ history }),
        // The process stops after its intent (Ctrl-Z, a hung mount) for longer than its lease; meanwhile another
        // process takes the domain and settles the open intent from the zone (as reconcile does: nothing written yet).
        crashPoint: (where) => {
          if (where !== 'after-intent') return;
          clock += LOCK_TTL_MS + 1;
          const [pending] = other.pendingIntents();
          assert.ok(other.tryLock(domainLock('florist.example'), 'serve:1:abc', LOCK_TTL_MS));
          other.recordOutcome(pending.id, { status: 'failed', error: 'reconciled while running: the write never happened' });
          assert.ok(other.releaseLock(domainLock('florist.example'), 'serve:1:abc'));
        },
      },
    );
    assert.equal(out.status, 'refused', JSON.stringify(out));
    if (out.status !== 'refused') return;
    assert.match(out.reason, /^Not written: change \d+ was settled meanwhile .*as failed.*Nothing was written to the zone/);
    assert.equal(p.zoneText('florist.example'), before);
    const [ch] = p.store.changesForDomain('florist.example');
    assert.equal(ch.status, 'failed');
  });

  test('stalled before the write while another process holds the domain: nothing is written, the intent closed as not written', async () => {
    const p = await start();
    const plan = await p.plan('florist.example', 'spf');
    const before = p.zoneText('florist.example');
    let clock = TODAY.getTime();
    const history = storeAt(p, () => clock);
    const other = storeAt(p, () => clock);
    const out = await applyPlan(
      { domain: 'florist.example', check: 'spf', planHash: plan.planHash },
      {
        ...p.deps({ history }),
        crashPoint: (where) => {
          if (where !== 'after-intent') return;
          clock += LOCK_TTL_MS + 1;
          assert.ok(other.tryLock(domainLock('florist.example'), 'another-fix:2:def', LOCK_TTL_MS));
        },
      },
    );
    assert.equal(out.status, 'refused', JSON.stringify(out));
    if (out.status !== 'refused') return;
    assert.match(out.reason, /^Not written: this fix outlasted its 2-minute lock on florist\.example and another mailhealth process has taken the domain since\. Nothing was written to the zone/);
    assert.equal(p.zoneText('florist.example'), before);
    const [ch] = p.store.changesForDomain('florist.example');
    assert.equal(ch.status, 'failed');
    assert.match(ch.error ?? '', /refused before the write: .*nothing was written/);
    // The other holder keeps the domain: this fix did not release or renew its lock.
    assert.equal(p.store.lockHolder(domainLock('florist.example'))?.owner, 'another-fix:2:def');
  });

  test('a lease that ran out while nobody took the domain is renewed: the fix goes through', async () => {
    const p = await start();
    const plan = await p.plan('florist.example', 'spf');
    let clock = TODAY.getTime();
    const history = storeAt(p, () => clock);
    const out = await applyPlan(
      { domain: 'florist.example', check: 'spf', planHash: plan.planHash },
      { ...p.deps({ history }), crashPoint: (w) => void (w === 'after-intent' && (clock += LOCK_TTL_MS + 1)) },
    );
    assert.equal(out.status, 'applied', JSON.stringify(out));
    if (out.status === 'applied') assert.equal(out.message, 'applied');
  });

  test('stalled inside the panel write (the QA case): the late write is recorded as applied with a note, never a silent "applied" over "failed"; undo works', async () => {
    const p = await start();
    const plan = await p.plan('florist.example', 'spf');
    const before = p.zoneText('florist.example');
    let clock = TODAY.getTime();
    const history = storeAt(p, () => clock);
    const serve = storeAt(p, () => clock);
    const write = p.panel.applyChanges;
    const settledMeanwhile: { id: number; outcome: string }[][] = [];
    p.panel.applyChanges = async (domain, changes, version) => {
      // The write stalls past the lease; `serve` reconciles the open intent from the zone as it is (not written yet).
      clock += LOCK_TTL_MS + 1;
      settledMeanwhile.push(await reconcile({ ...p.deps(), history: serve }, 'while running'));
      return write(domain, changes, version);
    };
    const out = await applyPlan({ domain: 'florist.example', check: 'spf', planHash: plan.planHash }, p.deps({ history }));
    p.panel.applyChanges = write;
    assert.equal(settledMeanwhile[0][0].outcome, 'not-written');
    assert.equal(out.status, 'applied', JSON.stringify(out));
    if (out.status !== 'applied') return;
    assert.notEqual(p.zoneText('florist.example'), before, 'the zone was written');
    assert.match(out.message, /^applied — late: change \d+ had been settled as failed by another mailhealth process .*the history now records it as applied/);
    const ch = p.store.getChange(out.changeId)!;
    assert.equal(ch.status, 'applied');
    assert.match(ch.error ?? '', /^written late: .*earlier: reconciled while running: the write never happened/);
    // The history says what the zone holds: the change can be undone, and the old record comes back.
    const undo = await undoChange(out.changeId, p.deps());
    assert.equal(undo.status, 'applied', JSON.stringify(undo));
    assert.equal(spfLine(p.zoneText('florist.example')), spfLine(before));
    assert.equal(p.store.getChange(out.changeId)!.status, 'reverted');
  });

  // Found by review: when the late write's panel call then failed (an error after the panel wrote), the failed-write
  // path found the intent settled meanwhile and answered "failed" — history "never happened", the zone written, undo refused.
  test('stalled inside a panel write that then fails after writing: recorded as written late, undo works', async () => {
    const p = await start();
    const plan = await p.plan('florist.example', 'spf');
    const before = p.zoneText('florist.example');
    let clock = TODAY.getTime();
    const history = storeAt(p, () => clock);
    const serve = storeAt(p, () => clock);
    const write = p.panel.applyChanges;
    p.panel.applyChanges = async (domain, changes, version) => {
      clock += LOCK_TTL_MS + 1;
      await reconcile({ ...p.deps(), history: serve }, 'while running');
      await write(domain, changes, version);
      throw new Error('connection reset by peer (after the panel wrote)');
    };
    const out = await applyPlan({ domain: 'florist.example', check: 'spf', planHash: plan.planHash }, p.deps({ history }));
    p.panel.applyChanges = write;
    assert.equal(out.status, 'applied', JSON.stringify(out));
    if (out.status !== 'applied') return;
    assert.notEqual(p.zoneText('florist.example'), before, 'the zone was written');
    assert.match(out.message, /^applied — late: /);
    assert.equal(p.store.getChange(out.changeId)!.status, 'applied');
    const undo = await undoChange(out.changeId, p.deps());
    assert.equal(undo.status, 'applied', JSON.stringify(undo));
    assert.equal(spfLine(p.zoneText('florist.example')), spfLine(before));
  });

  // Found by review: putting back what a half-failed write left, after the lease was lost, closed the intent as
  // failed without the lock; the new holder of the domain is the one to settle it from the zone.
  test('a write the panel half undid, the lease lost meanwhile: nothing put back, the intent left open for the new holder', async () => {
    const p = await start();
    const plan = await p.plan('bakery.example', 'spf');
    let clock = TODAY.getTime();
    const history = storeAt(p, () => clock);
    const other = storeAt(p, () => clock);
    const write = p.panel.applyChanges.bind(p.panel);
    p.panel.applyChanges = async (domain, changes, version) => {
      await write(domain, changes, version); // the panel wrote, then failed to take its steps back
      clock += LOCK_TTL_MS + 1;
      assert.ok(other.tryLock(domainLock('bakery.example'), 'another-fix', LOCK_TTL_MS));
      const added = changes.find((c) => c.after)!.after!;
      throw new PartialWriteError('other', 'step 2 failed', [{ action: 'add', name: added.name, type: added.type, ttl: added.ttl, before: null, after: added }]);
    };
    const out = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps({ history }));
    p.panel.applyChanges = write;
    assert.equal(out.status, 'failed', JSON.stringify(out));
    if (out.status !== 'failed') return;
    assert.equal(p.store.getChange(out.changeId!)!.status, 'intent', 'left for whoever holds the domain now');
  });

  test('a late write the zone no longer shows (edited since): failed, naming the records to review', async () => {
    const p = await start();
    const plan = await p.plan('florist.example', 'spf');
    let clock = TODAY.getTime();
    const history = storeAt(p, () => clock);
    const serve = storeAt(p, () => clock);
    const write = p.panel.applyChanges;
    p.panel.applyChanges = async (domain, changes, version) => {
      clock += LOCK_TTL_MS + 1;
      await reconcile({ ...p.deps(), history: serve }, 'while running');
      const r = await write(domain, changes, version);
      // Someone edits the SPF record right after the late write.
      p.writeZone(domain, p.zoneText(domain).replace(/"v=spf1 [^"]*"/, '"v=spf1 mx ~all"'));
      return r;
    };
    const out = await applyPlan({ domain: 'florist.example', check: 'spf', planHash: plan.planHash }, p.deps({ history }));
    p.panel.applyChanges = write;
    assert.equal(out.status, 'failed', JSON.stringify(out));
    if (out.status !== 'failed') return;
    assert.match(out.reason, /written late: change \d+ had been settled as failed .*does not hold this change now .*Review the records at florist\.example TXT/);
    const ch = p.store.getChange(out.changeId!)!;
    assert.equal(ch.status, 'failed');
    assert.match(ch.error ?? '', /^the zone was written late: .*review the records at florist\.example TXT — earlier: reconciled/);
  });
});

describe('the history database busy (another process holds a write transaction)', () => {
  test('just after the zone was written: says the zone was written and the outcome is pending — not "already", not "another fix"; reconcile settles it', async () => {
    const p = await start();
    const plan = await p.plan('florist.example', 'spf');
    const before = p.zoneText('florist.example');
    const history = storeAt(p, () => TODAY.getTime(), 5);
    const write = p.panel.applyChanges;
    let holder: { release(): void } | null = null;
    p.panel.applyChanges = async (domain, changes, version) => {
      const r = await write(domain, changes, version);
      holder = holdWriteLock(p); // right after the rename, before the outcome is recorded
      return r;
    };
    const out = await applyPlan({ domain: 'florist.example', check: 'spf', planHash: plan.planHash }, p.deps({ history, lockWaitMs: 0 }));
    p.panel.applyChanges = write;
    holder!.release();
    assert.equal(out.status, 'applied', JSON.stringify(out));
    if (out.status !== 'applied') return;
    assert.doesNotMatch(out.message, /being applied now|Another fix/);
    assert.match(out.message, /the zone was written, but its outcome could not be recorded yet: the history database is busy \(another mailhealth process is writing to it\)\. The history shows change \d+ as pending until mailhealth settles it/);
    assert.notEqual(p.zoneText('florist.example'), before);
    assert.equal(p.store.getChange(out.changeId)!.status, 'intent');
    // Once the lease is over (at the latest), reconcile settles it from the zone: applied.
    const later = storeAt(p, () => TODAY.getTime() + LOCK_TTL_MS + 1);
    assert.deepEqual(await reconcile({ ...p.deps(), history: later }), [{ id: out.changeId, outcome: 'applied' }]);
  });

  test("another database failure just after the zone was written (disk full): the answer still says the zone was written and names the change; the store's own error is for the log", async () => {
    const p = await start();
    const plan = await p.plan('florist.example', 'spf');
    const before = p.zoneText('florist.example');
    const store = storeAt(p, () => TODAY.getTime(), 5);
    const full = Object.assign(new Error('cannot read or write the mailhealth database (SQLITE_FULL: database or disk is full)'), { code: 'io' });
    const history = overriding(store, {
      settleIntent: () => {
        throw full;
      },
    });
    const out = await applyPlan({ domain: 'florist.example', check: 'spf', planHash: plan.planHash }, p.deps({ history, lockWaitMs: 0 }));
    assert.equal(out.status, 'applied', JSON.stringify(out));
    if (out.status !== 'applied') return;
    // In core's words: the store's (its file, SQLite's code) are on the outcome for the surface's log, never in its text.
    assert.match(out.message, /the zone was written, but its outcome could not be recorded yet: the history database could not be read or written\. /);
    assert.match(out.message, new RegExp(`The history shows change ${out.changeId} as pending`));
    assert.doesNotMatch(JSON.stringify(out), /SQLITE_|mailhealth database/);
    assert.equal(out.historyError, full);
    assert.notEqual(p.zoneText('florist.example'), before);
    assert.equal(p.store.getChange(out.changeId)!.status, 'intent');
  });

  test('a short busy spell after the write: the outcome is recorded once the other transaction ends (tried again)', async () => {
    const p = await start();
    const plan = await p.plan('florist.example', 'spf');
    const store = storeAt(p, () => TODAY.getTime(), 5);
    let holder: { release(): void } | null = null;
    let tries = 0;
    // The other process commits after the first try to record the outcome.
    const history = overriding(store, {
      settleIntent: (...a) => {
        if (++tries === 2) holder?.release();
        return store.settleIntent(...a);
      },
    });
    const write = p.panel.applyChanges;
    p.panel.applyChanges = async (domain, changes, version) => {
      const r = await write(domain, changes, version);
      holder = holdWriteLock(p);
      return r;
    };
    const out = await applyPlan({ domain: 'florist.example', check: 'spf', planHash: plan.planHash }, p.deps({ history, lockWaitMs: 0 }));
    p.panel.applyChanges = write;
    assert.equal(out.status, 'applied', JSON.stringify(out));
    if (out.status !== 'applied') return;
    assert.equal(out.message, 'applied');
    assert.equal(p.store.getChange(out.changeId)!.status, 'applied');
    assert.equal(p.store.lockHolder(domainLock('florist.example')), null, 'the domain is not left locked');
  });

  test('before anything was written: "the history database is busy … nothing was written", not "another fix is running"', async () => {
    const p = await start();
    const plan = await p.plan('florist.example', 'spf');
    const before = p.zoneText('florist.example');
    const history = storeAt(p, () => TODAY.getTime(), 5);
    const holder = holdWriteLock(p);
    const out = await applyPlan({ domain: 'florist.example', check: 'spf', planHash: plan.planHash }, p.deps({ history, lockWaitMs: 0 }));
    holder.release();
    assert.equal(out.status, 'refused', JSON.stringify(out));
    if (out.status !== 'refused') return;
    assert.doesNotMatch(out.reason, /Another fix/);
    assert.match(out.reason, /^The history database is busy \(another mailhealth process is writing to it\): nothing was written to florist\.example's zone\. Try again in a moment\.$/);
    assert.equal(p.zoneText('florist.example'), before);
    assert.deepEqual(p.store.changesForDomain('florist.example'), []);
  });

  test('busy between the intent and the write: nothing is written (the lease cannot be renewed), and it is not "already"', async () => {
    const p = await start();
    const plan = await p.plan('florist.example', 'spf');
    const before = p.zoneText('florist.example');
    const history = storeAt(p, () => TODAY.getTime(), 5);
    let holder: { release(): void } | null = null;
    const out = await applyPlan(
      { domain: 'florist.example', check: 'spf', planHash: plan.planHash },
      { ...p.deps({ history, lockWaitMs: 0 }), crashPoint: (w) => void (w === 'after-intent' && (holder = holdWriteLock(p))) },
    );
    holder!.release();
    assert.equal(out.status, 'refused', JSON.stringify(out));
    if (out.status !== 'refused') return;
    assert.match(out.reason, /^The history database is busy .*nothing was written to florist\.example's zone\. Change \d+ was recorded as about to be written; it stays pending/);
    assert.equal(p.zoneText('florist.example'), before);
    // Settled later from the zone: not written.
    const later = storeAt(p, () => TODAY.getTime() + LOCK_TTL_MS + 1);
    const [pending] = later.pendingIntents();
    assert.deepEqual(await reconcile({ ...p.deps(), history: later }), [{ id: pending.id, outcome: 'not-written' }]);
  });

  // Found by review: when handing the lock over for settling hit a busy database, the fix's own lock was released as
  // the fix ended — reconcile elsewhere could then call the write "never happened" while the panel still worked on it.
  test('a write the panel never answered, the hand-over of the lock hitting a busy database: the domain stays locked', async () => {
    const p = await start();
    const plan = await p.plan('florist.example', 'spf');
    p.panel.applyChanges = async () => {
      throw new PanelError('no-answer', 'the panel did not answer (ETIMEDOUT)');
    };
    const history = overriding(p.store, {
      handOverLock: () => {
        throw new StoreError('locked', 'database is locked');
      },
    });
    const out = await applyPlan({ domain: 'florist.example', check: 'spf', planHash: plan.planHash }, p.deps({ history }));
    assert.equal(out.status, 'failed', JSON.stringify(out));
    assert.ok(p.store.lockHolder(domainLock('florist.example')), 'the domain is still locked (its lease runs out)');
    assert.deepEqual(await reconcile(p.deps()), [{ id: p.store.pendingIntents()[0].id, outcome: 'skipped: a fix on this domain is running' }]);
  });

  // The files panel's zone held by another mailhealth process (its own database, so another domain lock): the refusal
  // says so — it read "The zone changed while applying (…): here is the new plan".
  test('the zone file locked by another mailhealth process: "Not applied: another mailhealth process is writing …", nothing written', async () => {
    const p = await start();
    const plan = await p.plan('florist.example', 'spf');
    const before = p.zoneText('florist.example');
    writeFileSync(join(p.dir, 'zones', 'florist.example.db.mailhealth.lock'), '1\n'); // pid 1 always exists
    const out = await applyPlan({ domain: 'florist.example', check: 'spf', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'refused', JSON.stringify(out));
    if (out.status !== 'refused') return;
    assert.match(out.reason, /^Not applied: another mailhealth process \(pid 1\) is writing the zone of florist\.example; try again/);
    assert.equal(out.why, undefined, 'not "changed"');
    assert.equal(p.zoneText('florist.example'), before);
    assert.equal(p.store.changesForDomain('florist.example')[0].status, 'failed');
  });

  test('a domain lock held by another fix is still "another fix is running"', async () => {
    const p = await start();
    const plan = await p.plan('florist.example', 'spf');
    assert.ok(p.store.tryLock(domainLock('florist.example'), 'web:4242:abc', LOCK_TTL_MS));
    const out = await applyPlan({ domain: 'florist.example', check: 'spf', planHash: plan.planHash }, p.deps({ lockWaitMs: 0 }));
    assert.equal(out.status, 'refused');
    if (out.status === 'refused') assert.match(out.reason, /^Another fix on florist\.example is running/);
  });
});

describe('an undo recorded in one step', () => {
  // Found by review: undoChange judged the change before taking the domain lock only; a second undo that passed that
  // check while the first ran undid it again. Now judged again under the lock.
  test('two undos of one change: the second, judged again under the lock, is refused and writes nothing', async () => {
    const p = await start();
    const { changeId } = (await applyAndCheck(p, 'florist.example', 'spf')).outcome;
    const stale = p.store.getChange(changeId)!; // what a second undo saw before the first took the lock
    const first = await undoChange(changeId, p.deps());
    assert.equal(first.status, 'applied', JSON.stringify(first));
    const zone = p.zoneText('florist.example');
    let once = true;
    const history = overriding(p.store, { getChange: (id) => (once && id === changeId ? ((once = false), stale) : p.store.getChange(id)) });
    const second = await undoChange(changeId, p.deps({ history }));
    assert.equal(second.status, 'refused', JSON.stringify(second));
    if (second.status === 'refused') assert.match(second.reason, /already undone by change/);
    assert.equal(p.zoneText('florist.example'), zone, 'nothing written');
  });

  // The store writes that follow the undo's panel write; the process "dies" (throws) at the n-th of them.
  const RECORDING = new Set(['recordOutcome', 'markUndone', 'recordUndone', 'settleIntent', 'setVerified']);
  function dyingAt(store: Store, n: number, armed: () => boolean): History {
    let calls = 0;
    return new Proxy(store, {
      get(target, prop) {
        const v: unknown = Reflect.get(target, prop, target);
        if (typeof v !== 'function') return v;
        return (...a: unknown[]) => {
          if (armed() && typeof prop === 'string' && RECORDING.has(prop) && ++calls === n) throw new Error(`killed in ${prop}`);
          return (v as (...a: unknown[]) => unknown).apply(target, a);
        };
      },
    }) as History;
  }

  for (const n of [1, 2, 3]) {
    test(`killed at the ${n}. store write after the undo's panel write: after reconcile, the undo and the change it undid agree`, async () => {
      const p = await start();
      const { outcome } = await applyAndCheck(p, 'florist.example', 'spf');
      let written = false;
      const write = p.panel.applyChanges;
      p.panel.applyChanges = async (...a) => {
        const r = await write(...a);
        written = true;
        return r;
      };
      await undoChange(outcome.changeId, p.deps({ history: dyingAt(p.store, n, () => written) })).catch((e: Error) => assert.match(e.message, /^killed in /));
      p.panel.applyChanges = write;
      // The lease of the dead process is over; the next command reconciles first.
      const later = storeAt(p, () => TODAY.getTime() + LOCK_TTL_MS + 1);
      await reconcile({ ...p.deps(), history: later });
      const original = later.getChange(outcome.changeId)!;
      const [undo] = later.changesForDomain('florist.example').filter((c) => c.undoOf === outcome.changeId);
      assert.equal(undo.status, 'applied');
      assert.equal(original.undoneBy, undo.id);
      assert.equal(original.status, 'reverted');
      const again = await undoChange(outcome.changeId, { ...p.deps(), history: later });
      assert.equal(again.status, 'refused');
      if (again.status === 'refused') assert.equal(again.reason, `Change ${outcome.changeId} was already undone by change ${undo.id}.`);
    });
  }

  test('reconcile repairs an undo an older version left half recorded (undo applied, its change not marked)', async () => {
    const p = await start();
    const { outcome, before } = await applyAndCheck(p, 'florist.example', 'spf');
    const undo = await undoChange(outcome.changeId, p.deps());
    assert.equal(undo.status, 'applied');
    if (undo.status !== 'applied') return;
    // What the old three-write undo left when killed inside markUndone.
    const db = new Database(p.dbPath);
    db.prepare(`UPDATE changes SET undone_by = NULL, status = 'applied' WHERE id = ?`).run(outcome.changeId);
    db.close();
    assert.equal(spfLine(p.zoneText('florist.example')), spfLine(before));
    assert.deepEqual(await reconcile(p.deps()), []);
    const original = p.store.getChange(outcome.changeId)!;
    assert.equal(original.undoneBy, undo.changeId);
    assert.equal(original.status, 'reverted');
    assert.match(original.error ?? '', /undone by change \d+ \(its undo had been interrupted/);
    const again = await undoChange(outcome.changeId, p.deps());
    assert.equal(again.status, 'refused');
    if (again.status === 'refused') assert.match(again.reason, /already undone by change/);
  });
});

describe('a write stopped part-way beside a TXT the fix does not own (review: a verification token at _dmarc)', () => {
  for (const [check, name, owned] of [
    ['dmarc', '_dmarc', /^v=DMARC1/],
    ['lockdown', '_mailchannels', /^v=mc1/],
  ] as const) {
    test(`${check}: the deleted record is put back (restored), not "edited meanwhile" — the token is not an edit`, async () => {
      const p = await start();
      const domain = 'florist.example';
      p.writeZone(domain, p.zoneText(domain) + `${name}\tIN\tTXT\t"google-site-verification=abc123"\n`);
      p.refresh();
      const before = p.zoneText(domain).split('\n').filter((l) => l.startsWith(name)).sort();
      const plan = await p.plan(domain, check);
      assert.ok(plan.changes.length > 0 && !plan.changes.some((c) => /google-site-verification/.test(c.before?.value ?? '')), JSON.stringify(plan.changes));
      // A record-by-record panel: the removals land, then the add fails (no PartialWriteError: nothing was rolled back).
      const write = p.panel.applyChanges.bind(p.panel);
      let once = true;
      p.panel.applyChanges = async (d, changes, version) => {
        if (!once) return write(d, changes, version);
        once = false;
        await write(d, changes.filter((c) => c.action !== 'add').map((c) => (c.action === 'edit' ? { ...c, action: 'remove' as const, after: null } : c)), version);
        throw new Error('plesk bin dns --add failed: exit 1');
      };
      Object.defineProperty(p.panel.capabilities, 'recordByRecordWrites', { value: true, configurable: true });
      const out = await applyPlan({ domain, check, planHash: plan.planHash }, p.deps());
      assert.equal(out.status, 'failed', JSON.stringify(out));
      if (out.status !== 'failed') return;
      assert.match(out.reason, /put back/);
      assert.doesNotMatch(out.reason, /edited meanwhile/);
      assert.equal(p.store.getChange(out.changeId!)!.status, 'restored');
      const now = p.zoneText(domain).split('\n').filter((l) => l.startsWith(name)).sort();
      assert.ok(now.some((l) => owned.test(l.split('"')[1] ?? '')), `the ${check} record is back: ${now.join(' | ')}`);
      assert.equal(now.length, before.length, `${now.join(' | ')} vs ${before.join(' | ')}`);
    });
  }
});
