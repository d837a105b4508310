// A history database that fails (not busy: a full disk, an I/O error) once a fix or an undo has recorded something or
// the panel has changed something: applyPlan and undoChange answer with an outcome that says what the zone (or the
// panel) holds and that it could not be recorded — in core's words, the store's error on the answer as `historyError`
// — and never reject with the store's error (it names the database's file; review: the surfaces showed it, and the
// customer was not told what had been done). Each test here rejected on the code before.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { PanelError, PartialWriteError } from '../../../src/core/panel.js';
import { applyPlan, domainLock, reconcile, undoChange, type History } from '../../../src/core/plans/apply.js';
import { recordKey } from '../../../src/core/zone.js';
import { applyAndCheck, startPlay, type Play } from '../../helpers/fixplay.js';
import { assertClean, ioError, overriding } from '../../helpers/failing-history.js';

let play: Play | null = null;
afterEach(async () => {
  await play?.close();
  play = null;
});
async function start(): Promise<Play> {
  play = await startPlay();
  return play;
}

/** The zone's records (SOA aside: a write bumps the serial), for comparing states. */
async function records(p: Play, domain: string): Promise<string> {
  const z = await p.panel.readZone(domain);
  return z.records
    .filter((r) => r.type.toUpperCase() !== 'SOA')
    .map(recordKey)
    .sort()
    .join('\n');
}

test('the panel busy, the intent recorded as refused, then the lookup of the same preview fails: the refusal, not the error', async () => {
  const p = await start();
  const plan = await p.plan('florist.example', 'spf');
  p.panel.applyChanges = async () => {
    throw new PanelError('busy', 'the zone is being edited');
  };
  const err = ioError(p);
  const history = overriding(p.store, {
    changeWithPlanHash: () => {
      throw err;
    },
  });
  const out = await applyPlan({ domain: 'florist.example', check: 'spf', planHash: plan.planHash }, p.deps({ history }));
  assert.equal(out.status, 'refused', JSON.stringify(out));
  if (out.status !== 'refused') return;
  assert.equal(out.reason, 'Not applied: the zone is being edited.');
  assert.equal(out.historyError, err);
  assertClean(p, out);
  assert.equal(p.store.changesForDomain('florist.example')[0]?.status, 'failed');
});

test('a fix and an undo refused while another fix holds the domain, the holder unreadable: "another fix", no wait, never the error', async () => {
  const p = await start();
  const { outcome } = await applyAndCheck(p, 'florist.example', 'spf');
  const plan = await p.plan('florist.example', 'spf');
  assert.ok(p.store.tryLock(domainLock('florist.example'), 'someone:else', 60_000));
  const err = ioError(p);
  // The first lookup (is the holder gone?) answers; the wait's look at the holder fails.
  const failingAfterFirst = () => {
    let n = 0;
    const holder = p.store.lockHolder.bind(p.store);
    return overriding(p.store, {
      lockHolder: (name: string) => {
        if (n++ > 0) throw err;
        return holder(name);
      },
    });
  };
  const fix = await applyPlan({ domain: 'florist.example', check: 'spf', planHash: plan.planHash }, p.deps({ history: failingAfterFirst() }));
  assert.equal(fix.status, 'refused', JSON.stringify(fix));
  if (fix.status === 'refused') assert.match(fix.reason, /^Another fix on florist\.example is running; try again in a moment\./);
  assert.equal(fix.historyError, err);
  assertClean(p, fix);
  const undo = await undoChange(outcome.changeId, p.deps({ history: failingAfterFirst() }));
  assert.equal(undo.status, 'refused', JSON.stringify(undo));
  if (undo.status === 'refused') assert.match(undo.reason, /^Another fix on florist\.example is running; try again in a moment\./);
  assert.equal(undo.historyError, err);
  assertClean(p, undo);
});

test('the panel fails to start signing but signs now, and that cannot be recorded: failed, saying it signs and is pending', async () => {
  const p = await start();
  const domain = 'clean.example';
  const overrides = join(p.dir, 'domains', `${domain}.json`);
  writeFileSync(overrides, JSON.stringify({ dkim: false }));
  const read = p.panel.readMailSettings.bind(p.panel);
  p.panel.readMailSettings = async (d) => {
    const s = await read(d);
    return s.dkim.signing ? s : { ...s, dkim: { ...s.dkim, startSigning: 'recheck' } };
  };
  p.panel.startDkimSigning = async () => {
    writeFileSync(overrides, JSON.stringify({ dkim: true }));
    throw new PanelError('other', 'the panel answered 500');
  };
  const plan = await p.plan(domain, 'dkim');
  assert.deepEqual(plan.actions.map((a) => a.kind), ['refresh-dkim']);
  const err = ioError(p);
  const history = overriding(p.store, {
    settleIntent: () => {
      throw err;
    },
  });
  const out = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps({ history }));
  assert.equal(out.status, 'failed', JSON.stringify(out));
  if (out.status !== 'failed') return;
  assert.match(
    out.reason,
    /^The panel could not start DKIM signing for clean\.example \(the panel answered 500\); it signs now\. mailhealth changed no DNS record\. Its outcome could not be recorded yet \(the history database could not be read or written\): the history shows change \d+ as pending until mailhealth settles it from whether the panel signs/,
  );
  assert.equal(out.historyError, err);
  assertClean(p, out);
  assert.equal((await read(domain)).dkim.signing, true);
  // Pending, and settled as what the panel does once the history works (here: at once, the lock released).
  assert.equal(p.store.getChange(out.changeId!)?.status, 'intent');
  assert.deepEqual(await reconcile(p.deps()), [{ id: out.changeId, outcome: 'applied' }]);
});

test('the panel never answers the write, and the domain cannot be kept locked for settling: failed "not known yet", not the error', async () => {
  const p = await start();
  const plan = await p.plan('florist.example', 'spf');
  p.panel.applyChanges = async () => {
    throw new PanelError('no-answer', 'the panel did not answer in 120 s');
  };
  const err = ioError(p);
  const history = overriding(p.store, {
    handOverLock: () => {
      throw err;
    },
    tryLock: (name, owner, ttl) => {
      if (owner.startsWith('settle-later:')) throw err;
      return p.store.tryLock(name, owner, ttl);
    },
  });
  const out = await applyPlan({ domain: 'florist.example', check: 'spf', planHash: plan.planHash }, p.deps({ history }));
  assert.equal(out.status, 'failed', JSON.stringify(out));
  if (out.status !== 'failed') return;
  assert.match(out.reason, /^the panel did not answer in 120 s: whether the change was written is not known yet\./);
  assert.equal(out.historyError, err);
  assertClean(p, out);
  // The fix's own lock stays until its lease runs out: nothing settles the write while the panel may still make it.
  assert.ok(p.store.lockHolder(domainLock('florist.example')), 'the domain is still locked');
});

/** A Plesk-like write of florist.example's SPF fix: its add is left in the zone when the adapter's rollback fails. */
function partlyWriting(p: Play): { writes: () => number } {
  const orig = p.panel.applyChanges.bind(p.panel);
  let n = 0;
  p.panel.applyChanges = async (d, changes, v) => {
    if (n++ === 0) {
      const c = changes[0];
      const add = { action: 'add' as const, name: c.name, type: c.type, ttl: c.ttl, before: null, after: c.after };
      await orig(d, [add], v);
      throw new PartialWriteError('other', 'plesk dns --del failed; rolling back failed: --add undo refused', [add]);
    }
    return orig(d, changes, v);
  };
  return { writes: () => n };
}

test('a partial write put back by a second write, and that cannot be recorded: "put back", "could not be recorded" — not "putting it back failed"', async () => {
  const p = await start();
  const plan = await p.plan('florist.example', 'spf');
  const before = await records(p, 'florist.example');
  const { writes } = partlyWriting(p);
  const err = ioError(p);
  const settled: string[] = [];
  const history = overriding(p.store, {
    settleIntent: (_id, outcome) => {
      settled.push(`${outcome.status}: ${outcome.error}`);
      throw err;
    },
  });
  const out = await applyPlan({ domain: 'florist.example', check: 'spf', planHash: plan.planHash }, p.deps({ history }));
  assert.equal(out.status, 'failed', JSON.stringify(out));
  if (out.status !== 'failed') return;
  assert.equal(writes(), 2, 'the write, and the clean-up');
  assert.equal(await records(p, 'florist.example'), before, 'the zone holds the records before the fix again');
  assert.match(
    out.reason,
    /^plesk dns --del failed; rolling back failed: --add undo refused — the records written before the failure were put back — this could not be recorded \(the history database could not be read or written\): the history shows change \d+ as pending until mailhealth settles it from the zone/,
  );
  assert.doesNotMatch(out.reason, /putting it back failed|could not be put back/);
  // Only the outcome that happened was tried: never "putting it back failed".
  assert.equal(settled.length, 1, settled.join('\n'));
  assert.match(settled[0], /^restored: .*put back what this write had left/);
  assert.equal(out.historyError, err);
  assertClean(p, out);
  // Settled later from the zone: it holds the records before the write.
  assert.deepEqual(await reconcile(p.deps()), [{ id: out.changeId, outcome: 'not-written' }]);
});

test('an undo partly written and put back, and that cannot be recorded: "put back", "could not be recorded"', async () => {
  const p = await start();
  const { outcome } = await applyAndCheck(p, 'florist.example', 'spf');
  const fixed = await records(p, 'florist.example');
  const { writes } = partlyWriting(p);
  const err = ioError(p);
  const history = overriding(p.store, {
    settleIntent: () => {
      throw err;
    },
  });
  const undo = await undoChange(outcome.changeId, p.deps({ history }));
  assert.equal(undo.status, 'failed', JSON.stringify(undo));
  if (undo.status !== 'failed') return;
  assert.equal(writes(), 2);
  assert.equal(await records(p, 'florist.example'), fixed, 'the zone holds the fix again');
  assert.match(undo.reason, / — the records written before the failure were put back — this could not be recorded \(the history database could not be read or written\): the history shows change \d+ as pending/);
  assert.equal(undo.historyError, err);
  assertClean(p, undo);
  assert.equal(p.store.getChange(outcome.changeId)?.status, 'applied');
});

test('a write that failed part way on a record-by-record panel, put back, and that cannot be recorded: said as put back', async () => {
  const p = await start();
  const plan = await p.plan('florist.example', 'spf');
  const before = await records(p, 'florist.example');
  (p.panel as { capabilities: object }).capabilities = { ...p.panel.capabilities, recordByRecordWrites: true };
  const orig = p.panel.applyChanges.bind(p.panel);
  let n = 0;
  p.panel.applyChanges = async (d, changes, v) => {
    if (n++ === 0) {
      // The old record deleted, then the panel fails before the new one is added.
      const c = changes[0];
      await orig(d, [{ action: 'remove', name: c.name, type: c.type, ttl: c.ttl, before: c.before, after: null }], v);
      throw new PanelError('other', 'plesk dns --add failed');
    }
    return orig(d, changes, v);
  };
  const err = ioError(p);
  const history = overriding(p.store, {
    settleIntent: () => {
      throw err;
    },
  });
  const out = await applyPlan({ domain: 'florist.example', check: 'spf', planHash: plan.planHash }, p.deps({ history }));
  assert.equal(out.status, 'failed', JSON.stringify(out));
  if (out.status !== 'failed') return;
  assert.equal(n, 2);
  assert.equal(await records(p, 'florist.example'), before);
  assert.match(out.reason, /^plesk dns --add failed — the records written before the failure were put back — this could not be recorded \(the history database could not be read or written\)/);
  assert.equal(out.historyError, err);
  assertClean(p, out);
});

test('the intent recorded, then the history fails before the write: refused, nothing written, the change pending — not the error', async () => {
  const p = await start();
  const plan = await p.plan('florist.example', 'spf');
  const before = await records(p, 'florist.example');
  const err = ioError(p);
  const history = overriding(p.store, {
    renewLock: () => {
      throw err;
    },
  });
  const out = await applyPlan({ domain: 'florist.example', check: 'spf', planHash: plan.planHash }, p.deps({ history }));
  assert.equal(out.status, 'refused', JSON.stringify(out));
  if (out.status !== 'refused') return;
  assert.match(out.reason, /^The history database could not be read or written: nothing was written to florist\.example's zone\. Change \d+ was recorded as about to be written; it stays pending until mailhealth checks the zone and closes it \(nothing of it was written\)\. Try again once the history database works again \(the server's log says what failed\)\.$/);
  assert.equal(out.historyError, err);
  assertClean(p, out);
  assert.equal(await records(p, 'florist.example'), before);
});
