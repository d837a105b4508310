// The history database failing at every one of its calls in turn — once (a transient I/O error), or from that call on
// (a full disk) — during a fix, a fix whose panel write fails part way, the DKIM fix that has the panel sign, and an
// undo. Whatever the call: applyPlan and undoChange never reject once the panel was asked to write or the call recorded
// anything (before that, the store's error may stand: nothing was done); an answer never quotes the store's words (its
// error names the database file) and carries the store's error as `historyError` when it met one; what the answer says
// of the zone (or of the panel's signing) is what the zone holds; and once the history works again, settling what was
// left open (reconcile) records what the zone holds.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore, StoreError, type Store } from '../../../src/adapters/store/store.js';
import { PanelError, PartialWriteError } from '../../../src/core/panel.js';
import { applyPlan, reconcile, undoChange, type ApplyOutcome, type History } from '../../../src/core/plans/apply.js';
import { recordKey } from '../../../src/core/zone.js';
import { startPlay, TODAY, type Play } from '../../helpers/fixplay.js';

/** `store` with every call counted; call `failAt` throws `err` — and, `persistent`, every call after it. */
function counting(store: Store, failAt: number, persistent: boolean, err: Error): { history: History; calls: string[]; hit: () => boolean } {
  const calls: string[] = [];
  let hit = false;
  const history = new Proxy(store, {
    get(target, prop) {
      const v: unknown = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const i = calls.length;
        calls.push(String(prop));
        if (i === failAt || (persistent && i > failAt)) {
          hit = true;
          throw err;
        }
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as History;
  return { history, calls, hit: () => hit };
}

/** A run's own history database (fresh, on the fixed clock), and the error its file would give. */
function freshStore(p: Play, n: number): { store: Store; path: string; err: StoreError } {
  const path = join(dirname(p.dir), `run-${n}.sqlite`);
  return { store: openStore(path, { now: () => TODAY.getTime() }), path, err: new StoreError('io', `cannot read or write the mailhealth database ${path} (SQLITE_IOERR: disk I/O error)`) };
}

type State = string;
/** What an answer says the zone (or the panel's signing) holds: the state before the call, after it, or not known. */
type Claim = 'before' | 'after' | 'unknown';

interface Scenario {
  name: string;
  domain: string;
  check: 'spf' | 'dkim';
  /** Sets the panel up for a run (its methods are the play's own again before each). */
  arrange?(p: Play): void;
  /** The zone's records, or whether the panel signs. */
  state(p: Play): Promise<State>;
  /** An undo: the fix is applied with a working history first, and its change undone with the failing one. */
  undo?: boolean;
  /** What a failed answer says (its reason): the claim, or undefined when the reason is not one this test knows. */
  failedClaim(reason: string): Claim | undefined;
  /** Whether a change recorded as `status` agrees with the state (`is`: which one the state is). */
  recorded(status: string, is: Claim, error: string | null): boolean;
  /** Put back what a run changed besides the zone and clean.example's signing (a generated key). */
  reset?(p: Play): void;
  /** More to check of an answer. */
  extra?(p: Play, out: ApplyOutcome, where: string): void;
}

async function zoneRecords(p: Play, domain: string): Promise<State> {
  const z = await p.panel.readZone(domain);
  return z.records
    .filter((r) => r.type.toUpperCase() !== 'SOA')
    .map(recordKey)
    .sort()
    .join('\n');
}

/** A failed answer about records: put back or never written — before; carried out or written — after; else not known. */
function zoneClaim(reason: string): Claim | undefined {
  if (/could not be checked|could not be re-checked|is not known yet/.test(reason)) return 'unknown';
  // Left part-written, for review: the zone is not as before.
  if (/could not be put back/.test(reason)) return 'after';
  if (/were put back|nothing (of it )?was written|nothing was written|nothing of this (write|undo) is in the zone/.test(reason)) return 'before';
  if (/has carried out|was written to .*'s zone|was written late|zone of \S+ was written/.test(reason)) return 'after';
  // The panel's own failure (the write rolled back by the adapter, or not made): nothing of it in the zone.
  if (/^(plesk dns|the panel answered)/.test(reason) && !/could not be put back/.test(reason)) return 'before';
  return undefined;
}
/**
 * Applied — the zone changed; failed or restored — as before, unless recorded as left part-written for review (not put
 * back, or settled later from a zone that holds neither state).
 */
const zoneRecorded = (status: string, is: Claim, error: string | null) =>
  status === 'applied' ? is === 'after' : status === 'failed' ? is === (/putting it back failed.*: review |nothing was restored — review /.test(error ?? '') ? 'after' : 'before') : status === 'restored' ? is === 'before' : false;

const FLORIST = 'florist.example';
const CLEAN = 'clean.example';
const NEWKEY = 'newkey.example';

/** The DKIM scenarios: clean.example's key published, the panel not signing until asked to check it again. */
function signingArrange(fails: boolean) {
  return (p: Play) => {
    const overrides = join(p.dir, 'domains', `${CLEAN}.json`);
    const read = p.panel.readMailSettings;
    p.panel.readMailSettings = async (d) => {
      const s = await read.call(p.panel, d);
      return s.dkim.signing ? s : { ...s, dkim: { ...s.dkim, startSigning: 'recheck' } };
    };
    p.panel.startDkimSigning = async (d: string) => {
      writeFileSync(overrides, JSON.stringify({ dkim: true }));
      // It signs now, whatever it answers.
      if (fails) throw new PanelError('other', 'the panel answered 500');
      return p.panel.readMailSettings(d);
    };
  };
}
const signs = async (p: Play) => ((await p.panel.readMailSettings(CLEAN)).dkim.signing ? 'signs' : 'off');
function signingClaim(reason: string): Claim | undefined {
  if (/; it signs now\./.test(reason) || /has carried out/.test(reason)) return 'after';
  if (/still does not sign|nothing was written/.test(reason)) return 'before';
  if (/could not be checked|not known yet|whether it signs now could not be read/.test(reason)) return 'unknown';
  return undefined;
}

/** florist.example's SPF write on a Plesk-like panel: the add is left in the zone when the adapter's rollback fails. */
function partlyWriting(p: Play): void {
  const orig = p.panel.applyChanges;
  let n = 0;
  p.panel.applyChanges = async (d, changes, v) => {
    if (n++ === 0) {
      const c = changes[0];
      const add = { action: 'add' as const, name: c.name, type: c.type, ttl: c.ttl, before: null, after: c.after };
      await orig.call(p.panel, d, [add], v);
      throw new PartialWriteError('other', 'plesk dns --del failed; rolling back failed: --add undo refused', [add]);
    }
    return orig.call(p.panel, d, changes, v);
  };
}

const SCENARIOS: Scenario[] = [
  { name: 'an SPF fix', domain: FLORIST, check: 'spf', state: (p) => zoneRecords(p, FLORIST), failedClaim: zoneClaim, recorded: zoneRecorded },
  { name: 'an SPF fix whose write is left part-written', domain: FLORIST, check: 'spf', arrange: partlyWriting, state: (p) => zoneRecords(p, FLORIST), failedClaim: zoneClaim, recorded: zoneRecorded },
  {
    name: 'an SPF fix whose write fails part way on a record-by-record panel',
    domain: FLORIST,
    check: 'spf',
    arrange: (p) => {
      (p.panel as { capabilities: object }).capabilities = { ...p.panel.capabilities, recordByRecordWrites: true };
      const orig = p.panel.applyChanges;
      let n = 0;
      p.panel.applyChanges = async (d, changes, v) => {
        if (n++ === 0) {
          const c = changes[0];
          await orig.call(p.panel, d, [{ action: 'remove', name: c.name, type: c.type, ttl: c.ttl, before: c.before, after: null }], v);
          throw new PanelError('other', 'plesk dns --add failed');
        }
        return orig.call(p.panel, d, changes, v);
      };
    },
    state: (p) => zoneRecords(p, FLORIST),
    failedClaim: zoneClaim,
    recorded: zoneRecorded,
  },
  {
    name: 'the DKIM fix that has the panel sign',
    domain: CLEAN,
    check: 'dkim',
    arrange: signingArrange(false),
    state: signs,
    failedClaim: signingClaim,
    recorded: (status, is) => (status === 'applied' ? is === 'after' : status === 'failed' ? is === 'before' : false),
  },
  {
    name: 'the DKIM fix whose panel fails to start signing but signs',
    domain: CLEAN,
    check: 'dkim',
    arrange: signingArrange(true),
    state: signs,
    failedClaim: signingClaim,
    // The panel's call failed: recorded as failed saying it signs now (or, settled later, applied: it signs).
    recorded: (status, is, error) => (status === 'applied' ? is === 'after' : status === 'failed' ? is === (/it signs now/.test(error ?? '') ? 'after' : 'before') : false),
  },
  {
    name: 'the DKIM fix that has the panel generate a key, then publishes it',
    domain: NEWKEY,
    check: 'dkim',
    reset: (p) => {
      rmSync(join(p.dir, 'dkim', `${NEWKEY}.pem`), { force: true });
      rmSync(join(p.dir, 'domains', `${NEWKEY}.json`), { force: true });
    },
    state: (p) => zoneRecords(p, NEWKEY),
    failedClaim: zoneClaim,
    recorded: zoneRecorded,
    // A key generated and not published is always said: the server signs with a key receivers cannot find.
    extra: (p, out, where) => {
      if (out.status === 'applied' || !existsSync(join(p.dir, 'dkim', `${NEWKEY}.pem`))) return;
      assert.match((out as { reason: string }).reason, /generated a new DKIM key/, `${where}: ${JSON.stringify(out)}`);
    },
  },
  { name: 'an undo of an SPF fix', domain: FLORIST, check: 'spf', undo: true, state: (p) => zoneRecords(p, FLORIST), failedClaim: zoneClaim, recorded: zoneRecorded },
  { name: 'an undo whose write is left part-written', domain: FLORIST, check: 'spf', undo: true, arrange: partlyWriting, state: (p) => zoneRecords(p, FLORIST), failedClaim: zoneClaim, recorded: zoneRecorded },
];

describe('the history failing at each of its calls in turn', () => {
  let p: Play;
  let runs = 0;
  /** The zone files as the fixtures have them (each run starts from these). */
  const zoneTexts = new Map<string, string>();
  /** The play's panel methods, put back before each run (a run wraps them). */
  let panel: Pick<Play['panel'], 'applyChanges' | 'startDkimSigning' | 'generateDkim' | 'readMailSettings' | 'capabilities'>;
  before(async () => {
    p = await startPlay();
    panel = {
      applyChanges: p.panel.applyChanges,
      startDkimSigning: p.panel.startDkimSigning,
      generateDkim: p.panel.generateDkim,
      readMailSettings: p.panel.readMailSettings,
      capabilities: p.panel.capabilities,
    };
    for (const d of [FLORIST, CLEAN, NEWKEY]) zoneTexts.set(d, readFileSync(join(p.dir, 'zones', `${d}.db`), 'utf8'));
  });
  after(async () => {
    await p.close();
  });

  for (const sc of SCENARIOS) {
    test(sc.name, async () => {
      const zoneFile = join(p.dir, 'zones', `${sc.domain}.db`);
      const overrides = join(p.dir, 'domains', `${CLEAN}.json`);
      const zoneText = zoneTexts.get(sc.domain)!;
      /** The panel's writes during the call under test. */
      let writes = 0;
      const reset = () => {
        writeFileSync(zoneFile, zoneText);
        writeFileSync(overrides, JSON.stringify({ dkim: false }));
        sc.reset?.(p);
        p.refresh();
        Object.assign(p.panel, panel);
      };
      reset();
      const plan = await p.plan(sc.domain, sc.check);

      /** One run: the call under test with the history failing at call `failAt` (Infinity: never). */
      const run = async (failAt: number, persistent: boolean) => {
        reset();
        const { store, path, err } = freshStore(p, runs++);
        try {
          const deps = (history: History) => ({ panel: p.panel, resolver: p.resolver(), history, byUser: 'root' });
          let undoOf: number | null = null;
          if (sc.undo) {
            const fixed = await applyPlan({ domain: sc.domain, check: sc.check, planHash: plan.planHash }, deps(store));
            assert.equal(fixed.status, 'applied', JSON.stringify(fixed));
            undoOf = (fixed as { changeId: number }).changeId;
          }
          sc.arrange?.(p);
          for (const k of ['applyChanges', 'startDkimSigning', 'generateDkim'] as const) {
            const f = p.panel[k] as ((...a: unknown[]) => Promise<unknown>) | undefined;
            if (f) (p.panel as unknown as Record<string, unknown>)[k] = async (...a: unknown[]) => (writes++, f.apply(p.panel, a));
          }
          writes = 0;
          const beforeState = await sc.state(p);
          const recordedBefore = store.changesForDomain(sc.domain).length;
          const c = counting(store, failAt, persistent, err);
          const where = `failing at call ${failAt} (${persistent ? 'from then on' : 'once'})`;
          let out: ApplyOutcome;
          try {
            out = undoOf !== null ? await undoChange(undoOf, deps(c.history)) : await applyPlan({ domain: sc.domain, check: sc.check, planHash: plan.planHash }, deps(c.history));
          } catch (e) {
            // Rejected: only before anything was asked of the panel or recorded — and with the history's own error.
            assert.equal(e, err, `${where}: ${(e as Error).stack}`);
            assert.equal(writes, 0, `${where}: rejected after the panel was asked to write (calls: ${c.calls.join(', ')})`);
            assert.equal(store.changesForDomain(sc.domain).length, recordedBefore, `${where}: rejected after recording a change (calls: ${c.calls.join(', ')})`);
            assert.equal(await sc.state(p), beforeState);
            return { calls: c.calls, outcome: null, after: null };
          }
          const said = JSON.stringify(out);
          assert.ok(!said.includes(path), `${where}: ${said}`);
          assert.doesNotMatch(said, /SQLITE_|mailhealth database|historyError/, where);
          sc.extra?.(p, out, where);
          if (c.hit()) assert.equal(out.historyError, err, `${where}: the store's error on the answer — ${said}`);
          else assert.equal(out.historyError, undefined, `${where}: ${said}`);
          const now = await sc.state(p);
          const claim: Claim | undefined =
            out.status === 'applied' ? 'after' : out.status === 'refused' ? 'before' : out.status === 'failed' ? sc.failedClaim(out.reason) : undefined;
          assert.ok(claim !== undefined, `${where}: an answer this test cannot read — ${said}`);
          /** Which state the zone (or panel) is in: before the call, or not (after it, or in between). */
          const is: Claim = now === beforeState ? 'before' : 'after';
          if (claim !== 'unknown') assert.equal(is, claim, `${where}: the answer says ${claim}, the zone is ${is} — ${said}`);
          return { calls: c.calls, outcome: out, after: now, settle: async () => settleAndCheck(sc, store, path, beforeState, undoOf, where) };
        } finally {
          store.close();
        }
      };

      /** Once the history works again (its lease run out: a later clock), what was left open is settled from the zone. */
      async function settleAndCheck(sc: Scenario, _store: Store, path: string, beforeState: State, undoOf: number | null, where: string): Promise<void> {
        const later = openStore(path, { now: () => TODAY.getTime() + 10 * 60_000 });
        try {
          const settled = await reconcile({ panel: p.panel, resolver: p.resolver(), history: later, byUser: 'root' });
          for (const s of settled) assert.doesNotMatch(s.outcome, /^(error|skipped)/, `${where}: ${JSON.stringify(settled)}`);
          const now = await sc.state(p);
          const is: Claim = now === beforeState ? 'before' : 'after';
          for (const ch of later.changesForDomain(sc.domain)) {
            if (ch.id === undoOf) {
              // The fix undone: reverted exactly when the undo is recorded as applied.
              const undo = later.changesForDomain(sc.domain).find((u) => u.undoOf === undoOf);
              assert.equal(ch.status === 'reverted', undo?.status === 'applied', `${where}: change ${ch.id} is ${ch.status}, its undo ${undo?.status}`);
              continue;
            }
            const error = (ch as { error?: string | null }).error ?? null;
            assert.ok(sc.recorded(ch.status, is, error), `${where}: change ${ch.id} recorded as ${ch.status}, the zone is ${is} — ${error}`);
          }
        } finally {
          later.close();
        }
      }

      // The run with a working history: every call it makes, and the state it leaves.
      const baseline = await run(Infinity, false);
      assert.ok(baseline.outcome, 'the baseline answers');
      assert.notEqual(baseline.outcome.status, 'refused', JSON.stringify(baseline.outcome));
      const n = baseline.calls.length;
      assert.ok(n > 5, `${n} calls: ${baseline.calls.join(', ')}`);
      let answered = 0;
      for (const persistent of [false, true]) {
        for (let k = 0; k < n; k++) {
          const r = await run(k, persistent);
          if (r.outcome) {
            answered++;
            await r.settle!();
          }
        }
      }
      assert.ok(answered > 0);
    });
  }
});
