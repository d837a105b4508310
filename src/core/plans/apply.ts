// Applying without losing anything: per-domain lock, re-plan and hash check, write-ahead intent, the panel write with
// its concurrency token, verification, undo from history, and reconciliation of interrupted writes.
// I/O only through the injected Panel, Resolver and History (the store adapter implements History); an optional
// WriteGuard (ApplyDeps.guard) is told of each panel read and asked before each write (the web's bulk-fix scope check).
import type { AuditDeps } from '../audit.js';
import { canonicalKey, publishedKey } from '../classify.js';
import { canonName } from '../domain.js';
import type { Change, CheckName, FixKind, MailSettings, Zone, ZoneRecord } from '../model.js';
import { PanelError, PartialWriteError, type Panel } from '../panel.js';
import { recordKey, recordsAt } from '../zone.js';
import { NO_SERVER_ADDRESS } from '../resolver.js';
import { isSpfRecord } from '../spf/parse.js';
import { dkimRecordFor, selectorIsAlias, signsUnpublishedKey } from './dkim.js';
import { makePlan, makePlanAndZone, PlanError } from './index.js';
import { ALIAS_ALONE, aliasClash, anAlias, hashPlan, LIVE_VERSION, nothingToChange, ownershipProblem, PLACEHOLDER_KEY, type AliasClash, type Plan, type PlanOptions } from './plan.js';
import { fixOwnsTxt, soleRecordKindAt } from './owned.js';
import { replacedIn, standingOnSameRecordsIn } from './replaced.js';

export type Verified = 'yes' | 'propagating' | 'no';
export type ChangeStatus = 'intent' | 'applied' | 'failed' | 'restored' | 'reverted';

/** A change as history keeps it (the store adds timestamps and the error text). */
export interface StoredChange {
  id: number;
  domain: string;
  check: CheckName;
  planHash: string;
  zoneVersionBefore: string | null;
  zoneVersionAfter: string | null;
  changes: Change[];
  byUser: string;
  status: ChangeStatus;
  verified: Verified | null;
  /** This change undoes that one. */
  undoOf: number | null;
  /** That change undid this one. */
  undoneBy: number | null;
}

/** What apply needs from history (implemented by src/adapters/store). */
export interface History {
  /** `jobId`: ApplyDeps.jobId, recorded with the change as it came (absent: none). */
  recordIntent(input: { domain: string; check: CheckName; planHash: string; zoneVersion: string | null; changes: Change[]; byUser: string; undoOf?: number | null; jobId?: number }): number;
  /** New changes (and zone version) for an open intent (the DKIM fix, once the panel has generated the key). */
  reviseIntent(id: number, revision: { changes: Change[]; zoneVersion: string | null }): void;
  recordOutcome(id: number, outcome: { status: 'applied' | 'failed' | 'restored' | 'reverted'; zoneVersionAfter?: string | null; verified?: Verified | null; error?: string | null }): void;
  pendingIntents(): StoredChange[];
  getChange(id: number): StoredChange | null;
  /**
   * The newest change of this domain's fix recorded with exactly this plan hash that is applied and not undone, or
   * still an intent (src/adapters/store: changeWithPlanHash). Optional: without it a refusal is never answered as
   * "already applied".
   */
  changeWithPlanHash?(domain: string, check: string, planHash: string): StoredChange | null;
  /**
   * Who holds a lock now, and until when (optional: without it a fix or an undo waits for a held domain lock all the
   * same — it cannot tell that the holder is a write kept locked to be settled, see LockWait — and never takes over one
   * whose holder's process is gone, see withDomainLock). `expiresAt`: epoch ms on the history's wall clock as it reads
   * now, for the words only — when a lease is over is the history's judgement (the store times leases on a clock that
   * a wall-clock step does not move), never core's.
   */
  lockHolder?(name: string): { owner: string; expiresAt?: number } | null;
  /** Releases the lock if `owner` still holds it (optional: without it a dead holder's lock waits for its lease). */
  releaseLock?(name: string, owner: string): boolean;
  /**
   * A lock owner naming this process for `user` (optional; src/adapters/store/lock-owner.ts): one lockHolderGone can
   * judge. Without it, an owner no process table can judge is used, and a dead holder's lock waits for its lease.
   */
  lockOwner?(user: string): string;
  /** Whether the process a lock owner names is known to be gone (optional; see lockOwner), and why. */
  lockHolderGone?(owner: string): { dead: boolean; why: string };
  markUndone(id: number, undoChangeId: number): void;
  /** Records the outcome only if the change is still an open intent (one transaction); false when it was settled meanwhile. */
  settleIntent(id: number, outcome: { status: 'applied' | 'failed' | 'restored' | 'reverted'; zoneVersionAfter?: string | null; verified?: Verified | null; error?: string | null }): boolean;
  /**
   * An undo written: the undo (an open intent) applied, and the change it undoes marked undone and reverted — in one
   * transaction. False (nothing written) when the undo was no longer an open intent.
   */
  recordUndone(undoId: number, outcome?: { zoneVersionAfter?: string | null; error?: string | null }): boolean;
  /**
   * A write that reached the zone after its intent had been settled by someone else: `note` recorded (before the earlier
   * error text) and, with `reopen`, the change made applied again (an undo: its original reverted) — only while its
   * status is still `expected`; false otherwise.
   */
  recordLateWrite(id: number, late: { expected: ChangeStatus; reopen: boolean; zoneVersionAfter?: string | null; note: string }): boolean;
  /** Links and reverts the change of every applied undo an interrupted older undo left unmarked; the pairs repaired. */
  repairUndoLinks(): { undoId: number; changeId: number }[];
  /** A domain's changes, newest first (at most `limit`). */
  changesForDomain(domain: string, limit?: number): StoredChange[];
  setVerified(id: number, verified: Verified): void;
  /**
   * Runs fn holding the lock. A lock someone else holds: throws an error with code 'locked' and `heldLock` (the lock's
   * name); a busy database (another process's write transaction) is code 'locked' without `heldLock`.
   */
  /** `keep`: asked when fn is done — true leaves the lock in place until its lease runs out. */
  withLock<T>(name: string, owner: string, ttlMs: number, fn: () => Promise<T> | T, opts?: { keep?: () => boolean }): Promise<T>;
  /**
   * Takes a lock for ttlMs without releasing it (it runs out); false when someone else holds it. A lease lasts ttlMs of
   * elapsed time whatever the wall clock does meanwhile (an NTP step, a VM resumed, a clock set back): the history's
   * to keep (src/adapters/store: the boot clock).
   */
  tryLock(name: string, owner: string, ttlMs: number): boolean;
  /** Extends to ttlMs from now a lock `owner` still holds (nobody took it since); false when it was lost. */
  renewLock(name: string, owner: string, ttlMs: number): boolean;
  /** Passes a held lock to newOwner for ttlMs from now, atomically; false when `owner` no longer holds it. */
  handOverLock(name: string, owner: string, newOwner: string, ttlMs: number): boolean;
}

/**
 * The writes a fix makes, as a WriteGuard is told of them. Each is one call site in this file (see guardedWrite and
 * recordIntentGuarded):
 * - 'intent': history.recordIntent — a fix's (applyUnderLock: the record write's, or first the DKIM key's), a signing
 *   fix's (startSigning), an undo's (undoChange). A fix that has the panel generate a key records one intent only, and
 *   its record write later goes over it (reviseIntent, not a write of its own).
 * - 'generate-dkim': panel.generateDkim (generateKey).
 * - 'start-signing': panel.startDkimSigning (startSigning).
 * - 'records': panel.applyChanges of the fix's (or undo's) own changes (applyUnderLock, undoChange).
 * - 'cleanup': panel.applyChanges putting back what a write that failed part way left in the zone (settleLeftovers),
 *   or old records (reconcileOne's restore: after this fix's failed write — settleFromZone —, after a write the panel
 *   answered as done but its zone holds only part of — settleAnswered —, or for an earlier fix's intent left open,
 *   settleOrphans; and at start, reconcile).
 */
export type WriteStep = 'intent' | 'records' | 'generate-dkim' | 'start-signing' | 'cleanup';

/**
 * A check of a fix's writes from outside core (the web's bulk fix: services.ts ScopeGuard, which asks again whether
 * the domain is still in the acting user's scope). Core calls it at fixed points; without one (the default) nothing is
 * asked.
 *
 * - afterRead: after each panel read made with these deps — readZone and readMailSettings, the plan's (buildContext)
 *   and verification's included, also a read that failed (readsReported). Its promise is awaited before the fix goes
 *   on; it must not reject.
 * - beforeWrite(step): immediately before each write (WriteStep), after core's own checks (the domain's lease, the
 *   intent still open). It may throw to stop the write, and core then handles the throw exactly as it handles that
 *   write failing, because it is thrown where the write would be:
 *   'intent' — nothing is recorded and the throw leaves applyPlan (or undoChange) as it is: the caller reports it;
 *   'generate-dkim' — as the panel failing to generate the key: the key's intent settled as failed, unless the guard
 *     settled it first (settleIntent only closes an open intent, so the guard's words stay);
 *   'start-signing' — as the panel failing to start signing: likewise;
 *   'records' — as a failed write: the intent is settled from the zone (it holds the records before: "the write never
 *     happened", with the throw's message), or left open when the zone cannot be read;
 *   'cleanup' — as a failed clean-up (settleLeftovers records it for review; a restore of reconcile's leaves the
 *     intent open). A guard must not stop the clean-up of a record write it let through: that leaves the zone half
 *     written (ScopeGuard: recordWriteSent).
 * - afterWrite(step, changeId): after each write that answered (a write that threw is not reported): 'intent' with the
 *   id just recorded; otherwise `changeId` is the change the write was made for (for 'cleanup', maybe an earlier fix's).
 *   It must not throw: the write is done.
 */
export interface WriteGuard {
  afterRead(): Promise<void>;
  beforeWrite(step: WriteStep): void;
  afterWrite(step: WriteStep, changeId: number): void;
}

export interface ApplyDeps extends AuditDeps {
  history: History;
  byUser: string;
  /** Asked around every panel read and write of applyPlan, undoChange and reconcile made with these deps (WriteGuard). */
  guard?: WriteGuard;
  /** Test hook: called between the intent and the panel write, and between the write and the outcome. */
  crashPoint?: (where: 'after-intent' | 'after-write') => void;
  /** How long applyPlan and undoChange wait for another fix's lock on the domain (default LOCK_WAIT_MS; 0: not at all). */
  lockWaitMs?: number;
  /**
   * The surface's batch this fix belongs to (the web's bulk fix job), recorded with each change it records
   * (History.recordIntent) so the surface can find that batch's changes exactly. Core does nothing else with it.
   */
  jobId?: number;
  /** Test hook: how often the domain's lease is renewed while a panel write is in flight (default LOCK_TTL_MS / 4). */
  leaseBeatMs?: number;
}

/**
 * The history database's own error behind an outcome (or a reconcile result) whose words say only what that failure
 * left — not recorded, pending, nothing written: the error names the database's file and quotes SQLite, so core never
 * puts it in a reason or a message (a customer reads those: the web, the CLI's JSON). A surface logs it (the server's
 * log, the admin's terminal). Set only when the history failed during the call (the first such error; a busy database,
 * which the words say as it is, is not one), and not enumerable: JSON.stringify and a spread copy leave it out.
 */
export interface HistoryFault {
  readonly historyError?: unknown;
}

export type ApplyOutcome = HistoryFault &
  (
    | {
        status: 'applied';
        changeId: number;
        verified: Verified;
        plan: Plan;
        message: string;
        /**
         * The panel's key step, when this fix had it generate a DKIM key: the zone version before it (the plan's) and after
         * it (the one the record write was made over). The panel moved the zone itself (cPanel publishes the key, and the
         * adapter takes that record back out), and generateKey found the same records on both sides — so a bulk fix can
         * count this move as its own, as it does the write (the history keeps only the write's versions).
         */
        keyStep?: { before: string; after: string };
      }
    | {
        status: 'refused';
        reason: string;
        newPlan?: Plan;
        /**
         * Why (with a new plan): 'changed' — the zone or the DNS answers changed since the preview, the new plan differs;
         * 'blocked' — the plan cannot be applied now (reason says why); 'elsewhere' — this server's DNS is not the live
         * one; 'nothing' — nothing is left to change.
         */
        why?: 'changed' | 'blocked' | 'elsewhere' | 'nothing';
      }
    | {
        /**
         * The same preview (plan hash) was applied already — the form sent twice, a double click — as change `changeId`,
         * applied and not undone (`changeStatus` 'applied', with its `verified`) or still being applied ('intent'). Nothing
         * was written by this call. `reason` says so in words (for the CLI, whose text output prints it).
         */
        status: 'already';
        changeId: number;
        changeStatus: 'applied' | 'intent';
        verified: Verified | null;
        /** The changes that change wrote (or is writing). */
        changes: Change[];
        reason: string;
      }
    | { status: 'failed'; changeId?: number; reason: string }
  );

/**
 * How long a fix's per-domain lock lasts when its process dies without releasing it: elapsed time, as the history
 * measures a lease (History.tryLock) — a step of the wall clock neither ends it early nor stretches it.
 */
export const LOCK_TTL_MS = 120_000;
/**
 * How long a fix or an undo waits for the domain's lock held by another fix before it is refused (LockWait): a form
 * sent twice finds the first submission's fix holding it, and answers with that change once it is recorded (see
 * applyPlan); an undo issued while a fix of another process runs on the domain goes through once that fix is done.
 */
export const LOCK_WAIT_MS = 5_000;
const LOCK_POLL_MS = 100;
/** The name of a domain's lock (apply, undo and reconcile take it). */
export const domainLock = (domain: string) => `domain:${domain}`;
/**
 * An undo of a change whose fix was interrupted or is still running, and whose domain is still locked. `until`: when
 * that lock runs out (epoch ms, the history's clock), when known.
 */
export function stillRunningReason(id: number, domain: string, until?: number): string {
  return (
    `Change ${id} is still being settled: a fix on ${domain} was interrupted (or is still running), and whether it ` +
    `was written is checked again${until !== undefined && Number.isFinite(until) ? ` from ${utc(until)},` : ''} once its lock on the domain expires (at most ${minutes(LOCK_TTL_MS)}). Nothing was changed; try again shortly.`
  );
}

/** When a domain's lock runs out: "at 2027-03-01 12:02:00 UTC" when its holder is known (the history's clock), else "at most 2 minutes". */
function lockEnds(until: number | undefined): string {
  return until !== undefined && Number.isFinite(until) ? `at ${utc(until)}` : `at most ${minutes(LOCK_TTL_MS)}`;
}
const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

/**
 * A fix's (an undo's, a reconcile's) lock owner, as the history names this process (Store.lockOwner:
 * `<user>:<host>:<pid>:<random>[:ns…:st…]`), so a later process on this host can tell that a holder killed with SIGKILL
 * is gone and take the domain at once. A history that cannot name processes (a test's, an embedding's) gets
 * `<user>:local:<n>` — core reads no process id or randomness (rule 1): n counts this module's owners, so two fixes of
 * one process never share one, and such a history serves one process (the store, shared between processes, names
 * them). Never judged gone (parseLockOwner does not read it): its lease decides.
 */
let localOwners = 0;
const lockOwner = (history: History, user: string) => history.lockOwner?.(user) ?? `${user}:local:${++localOwners}`;
/**
 * The owner of a lock kept after a write the panel never answered: it names no process (never judged gone), because
 * what it waits for is the panel, not the process that sent the write — which usually exits (the CLI) meanwhile. Made
 * from the fix's own owner (unique: the store's holds random bytes) with its colons turned to dots, so that it never
 * reads as a process's owner (parseLockOwner needs `…:<host>:<pid>:<hex>`): `settle-later:<owner with dots>`.
 */
const settlingOwner = (owner: string) => `${SETTLING}:${owner.replace(/:/g, '.')}`;

/**
 * The panel took a write but gave no answer: the domain stays locked for LOCK_TTL_MS from now, so the open intent is
 * reconciled only once the panel has had time to finish (or not) what it was sent. The fix's own lock is handed over
 * in one step (a release and a new lock would leave a moment in which another process could take the domain); if the
 * fix's lease already ran out (a write that outlasted it), a new lock is taken if nobody else holds one.
 */
function keepLockedForSettling(domain: string, owner: string, history: History): void {
  try {
    const settling = settlingOwner(owner);
    if (!history.handOverLock(domainLock(domain), owner, settling, LOCK_TTL_MS)) {
      history.tryLock(domainLock(domain), settling, LOCK_TTL_MS);
    }
  } catch {
    // The history database busy or failing: the fix's own lock (renewed just before the write) stays until its lease
    // runs out — never released at the end of the fix (keptLocks), or reconcile could settle the write while the panel
    // works on it. Never thrown: the panel may have written (the answer says the write is not known yet).
    // (That owner names this process, but withDomainLock never takes over a lock whose holder left an intent open.)
    keptLocks.add(owner);
  }
}
/** Owners whose domain lock is to outlive their fix (see keepLockedForSettling); withLock's `keep` asks, once. */
const keptLocks = new Set<string>();
const keepIfKept = (owner: string) => ({ keep: () => keptLocks.delete(owner) });
/** The lock owner's name while a write the panel never answered waits to be settled. */
const SETTLING = 'settle-later';

/** Another holder of a named lock (the store's withLock: code 'locked' with `heldLock`) — another fix on the domain. */
function isHeldLock(e: unknown): boolean {
  return (e as { code?: string } | null)?.code === 'locked' && typeof (e as { heldLock?: unknown }).heldLock === 'string';
}
/**
 * The history database busy: another process's write transaction outlasted the store's busy timeout (code 'locked'
 * without `heldLock`). Not another fix: a report run, a bulk audit, an admin's sqlite3 — nothing about the domain.
 */
export function isDbBusy(e: unknown): boolean {
  return (e as { code?: string } | null)?.code === 'locked' && !isHeldLock(e);
}
/** The words for a busy history database. */
export const DB_BUSY = 'the history database is busy (another mailhealth process is writing to it)';
/**
 * The words for any other failure of the history database (a full disk, an I/O error, a file gone): its own error names
 * the file and quotes SQLite, and goes to the surface's log (HistoryFault), never into an answer or a record.
 */
export const DB_FAILED = 'the history database could not be read or written';
const minutes = (ms: number) => `${Math.round(ms / 60_000)} minutes`;
/** "its 2-minute lock on D" (the lease, renewed before each write). */
const itsLock = (domain: string) => `its ${Math.round(LOCK_TTL_MS / 60_000)}-minute lock on ${domain}`;
/** How many times a record that must follow a write (its outcome) is tried while the database is busy. */
const BUSY_ATTEMPTS = 4;

/**
 * A store write that must follow a panel write (its outcome): tried again a few times while the database is busy (each
 * try already waits the store's busy timeout), so a short write by another process does not leave the change pending
 * and the domain locked. Still busy: the busy error is thrown.
 */
async function throughBusy<T>(fn: () => T): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return fn();
    } catch (e) {
      if (!isDbBusy(e) || attempt >= BUSY_ATTEMPTS) throw e;
      await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
  }
}

/**
 * A panel write under the domain's lock, its lease renewed every quarter of LOCK_TTL_MS while the call is in flight. A
 * panel that writes record by record (Plesk: one `plesk bin dns` call a step, each allowed 120 s) can take longer than
 * one lease, and another process that took the domain meanwhile would settle the intent from a zone still being
 * written — QA: it put the old SPF record back between the fix's delete and add, leaving two. A process that dies stops
 * renewing, so after a crash the lease still runs out as before; every panel call is bounded by its own timeout.
 */
async function keepingLease<T>(deps: ApplyDeps, domain: string, owner: string, write: () => Promise<T>): Promise<T> {
  const beat = setInterval(() => {
    try {
      deps.history.renewLock(domainLock(domain), owner, LOCK_TTL_MS);
    } catch {
      /* a busy history database: the next beat tries again */
    }
  }, deps.leaseBeatMs ?? LOCK_TTL_MS / 4);
  beat.unref?.();
  try {
    return await write();
  } finally {
    clearInterval(beat);
  }
}

/** The Panel contract's methods (optional ones too). */
type PanelMethod = { [K in keyof Panel]-?: NonNullable<Panel[K]> extends (...a: never[]) => unknown ? K : never }[keyof Panel];
/** The Panel's reads (readsReported reports readZone and readMailSettings; the listings are the guard's own question). */
type PanelRead = 'listAccounts' | 'listDomains' | 'readZone' | 'readMailSettings';
/**
 * Every other method of the Panel contract is a write, and its step. Typed against Panel: a write method added to the
 * contract does not compile until it has a step here — and then core must make it through guardedWrite, so a guard
 * (WriteGuard) is asked before it. (A clean-up is an applyChanges too, as 'cleanup'.)
 */
const PANEL_WRITE_STEPS = { applyChanges: 'records', generateDkim: 'generate-dkim', startDkimSigning: 'start-signing' } as const satisfies Record<Exclude<PanelMethod, PanelRead>, WriteStep>;

/**
 * `deps` with a panel whose readZone and readMailSettings are each followed by the guard's afterRead (also when the
 * read fails), when there is a guard; else `deps` as they are. Made once where a fix, an undo or a reconcile starts, so
 * every read made for it is reported — the plan's (buildContext, in audit.ts, which knows no guard) and verification's
 * (verify, shared with re-verification) as much as apply's own. Every other member is the panel's, unchanged: writes
 * go through guardedWrite at their call sites.
 */
function readsReported(deps: ApplyDeps): ApplyDeps {
  const guard = deps.guard;
  if (!guard) return deps;
  const panel = deps.panel;
  const reported = async <T>(read: () => Promise<T>): Promise<T> => {
    try {
      return await read();
    } finally {
      await guard.afterRead();
    }
  };
  const view: Panel = {
    get kind() {
      return panel.kind;
    },
    get capabilities() {
      return panel.capabilities;
    },
    listAccounts: () => panel.listAccounts(),
    listDomains: (identity) => panel.listDomains(identity),
    readZone: (domain) => reported(() => panel.readZone(domain)),
    readMailSettings: (domain) => reported(() => panel.readMailSettings(domain)),
    applyChanges: (domain, changes, expectedVersion) => panel.applyChanges(domain, changes, expectedVersion),
    ...(panel.generateDkim ? { generateDkim: (domain: string) => panel.generateDkim!(domain) } : {}),
    ...(panel.startDkimSigning ? { startDkimSigning: (domain: string) => panel.startDkimSigning!(domain) } : {}),
  };
  return { ...deps, panel: view };
}

/**
 * Errors the history has thrown (watched): said in core's words wherever an answer or a record would quote them (said).
 * A module's set, not a call's: an error met by one call may be said by another (settleOrphans settling what an earlier
 * fix left). Weak: an error is forgotten with the error.
 */
const historyErrors = new WeakSet<object>();
/** The history's failures each call met (keyed by the call's watched history), for its answer's HistoryFault. */
const faultsOf = new WeakMap<History, unknown[]>();

/**
 * `history` with every error it throws known as the history's (historyErrors), and each failure that is not a busy
 * database or another holder's lock — answered in words of their own — kept in `faults`. An error fn throws inside
 * withLock (the panel's, a guard's) passes through it untouched: only the history's own are the history's.
 */
function watched(history: History, faults: unknown[]): History {
  const met = (e: unknown) => {
    if (e !== null && typeof e === 'object') historyErrors.add(e);
    if (!isDbBusy(e) && !isHeldLock(e) && !faults.includes(e)) faults.push(e);
  };
  const view = new Proxy(history, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        /** What fn threw inside withLock: not the history's. */
        const inner = new WeakSet<object>();
        if (prop === 'withLock' && typeof args[3] === 'function') {
          const fn = args[3] as () => unknown;
          args[3] = () => {
            const mark = (e: unknown) => {
              if (e !== null && typeof e === 'object') inner.add(e);
              throw e;
            };
            try {
              const r = fn();
              return r instanceof Promise ? r.catch(mark) : r;
            } catch (e) {
              return mark(e);
            }
          };
        }
        const fault = (e: unknown) => {
          if (!(e !== null && typeof e === 'object' && inner.has(e))) met(e);
          throw e;
        };
        try {
          const r = (v as (...a: unknown[]) => unknown).apply(target, args);
          return r instanceof Promise ? r.catch(fault) : r;
        } catch (e) {
          return fault(e);
        }
      };
    },
  });
  faultsOf.set(view, faults);
  return view;
}

/** An error in words an answer or a record may carry: the history's in core's words (DB_BUSY, DB_FAILED), else its message. */
function said(e: unknown): string {
  if (e !== null && typeof e === 'object' && historyErrors.has(e)) return isDbBusy(e) ? DB_BUSY : DB_FAILED;
  return (e as Error)?.message ?? String(e);
}

/** Whether `e` is a failure of the history database (not busy, not a held lock): the words of DB_FAILED. */
function isHistoryFailure(e: unknown): boolean {
  return e !== null && typeof e === 'object' && historyErrors.has(e) && !isDbBusy(e) && !isHeldLock(e);
}

/**
 * What a fix, an undo or a reconcile starts with: the guard told of every panel read (readsReported), and the history
 * watched (watched), so its failures are said in core's words and the first one is on the answer (withFault).
 */
function forThisCall(deps: ApplyDeps): ApplyDeps {
  return { ...readsReported(deps), history: watched(deps.history, []) };
}

/** `o` with the first history failure its call met as its HistoryFault (not enumerable), when there was one. */
function withFault<O extends object>(o: O, deps: ApplyDeps): O {
  const first = faultsOf.get(deps.history)?.[0];
  if (first !== undefined && !Object.prototype.hasOwnProperty.call(o, 'historyError')) {
    Object.defineProperty(o, 'historyError', { value: first, enumerable: false, configurable: true });
  }
  return o;
}

/**
 * A panel write (`step`, for change `changeId`) between the guard's beforeWrite and afterWrite. Called where the write
 * is made — inside keepingLease, after leaseLost — so a guard's throw is that write's failure, and takes its path
 * (WriteGuard). No guard: the write alone.
 */
async function guardedWrite<T>(deps: ApplyDeps, step: Exclude<WriteStep, 'intent'>, changeId: number, write: () => Promise<T>): Promise<T> {
  deps.guard?.beforeWrite(step);
  const out = await write();
  deps.guard?.afterWrite(step, changeId);
  return out;
}

/**
 * history.recordIntent between the guard's beforeWrite('intent') (a throw: nothing recorded) and afterWrite — with the
 * surface's job id (ApplyDeps.jobId) when it gave one: every change a fix records goes through here.
 */
function recordIntentGuarded(deps: ApplyDeps, input: Omit<Parameters<History['recordIntent']>[0], 'jobId'>): number {
  deps.guard?.beforeWrite('intent');
  const id = deps.history.recordIntent(deps.jobId !== undefined ? { ...input, jobId: deps.jobId } : input);
  deps.guard?.afterWrite('intent', id);
  return id;
}

/**
 * Immediately before a panel write (a zone write, generating a DKIM key, having the panel start signing, putting records
 * back): the domain's lock renewed for LOCK_TTL_MS from now, and the change's intent still open. A fix that stalled
 * past its lease (a paused process, a hung disk) may have lost the domain meanwhile — reconcile settling its intent
 * from the zone as it was then, another fix writing — and must not write: why, else null. (A busy database throws.)
 */
function leaseLost(deps: ApplyDeps, domain: string, owner: string, changeId: number | null): string | null {
  // The intent first (the more telling reason: settled, and how), then the lease (renewed when still this fix's).
  if (changeId !== null) {
    const ch = deps.history.getChange(changeId);
    if (ch?.status !== 'intent') return `change ${changeId} was settled meanwhile by another mailhealth process (${ch ? `as ${ch.status}` : 'it is gone from the history'}) while this fix outlasted ${itsLock(domain)}`;
  }
  if (!deps.history.renewLock(domainLock(domain), owner, LOCK_TTL_MS)) {
    return `this fix outlasted ${itsLock(domain)} and another mailhealth process has taken the domain since`;
  }
  return null;
}

/**
 * Runs fn holding the domain's lock (History.withLock). A lock whose holder is a process of this host that is gone —
 * killed with SIGKILL or by the OOM killer (lockHolderGone: the rule the report lock follows) — and that left no change
 * open on the domain (it died planning, or after recording its outcome) is released, only while that owner still holds
 * it, and taken at once instead of refused until its 2-minute lease runs out (QA: after a `kill -9` every fix and undo
 * on the domain answered "another fix is running" for 2 minutes). One that left an intent open keeps its lease
 * (releaseIfGone: its write may still be under way), and the refusal says when it will be settled.
 * fn is told why it could take it (null: the lock was free), so that it settles what that process left open first. A
 * live holder, one on another host, one that cannot be judged, or the lock kept to settle a write the panel never
 * answered: the held-lock error, as before.
 */
async function withDomainLock<T>(history: History, domain: string, owner: string, fn: (gone: string | null) => Promise<T>, opts?: { keep?: () => boolean }): Promise<T> {
  const name = domainLock(domain);
  let gone: string | null = null;
  for (;;) {
    let entered = false;
    try {
      return await history.withLock(name, owner, LOCK_TTL_MS, () => {
        entered = true;
        return fn(gone);
      }, opts);
    } catch (e) {
      if (entered || gone !== null || !isHeldLock(e)) throw e;
      gone = releaseIfGone(history, name, domain);
      if (gone === null) throw e;
    }
  }
}

/**
 * The lock released when its holder's process is gone and it left no change open on the domain: why it is gone; null
 * when it was not (or could not be) released. A dead holder with an open intent keeps its lease: its write may still
 * be under way without it — a `plesk bin dns` child outlives its parent, Plesk's and cPanel's servers finish a request
 * whose client is gone, a write the panel did not answer was handed to the lease on purpose (keepLockedForSettling) —
 * and settling it now would record "never written" (or restore the old records) while the panel goes on to write it
 * (review: an SPF record lost, the history saying the write never happened). Settled once the lease runs out, as before.
 */
function releaseIfGone(history: History, name: string, domain: string): string | null {
  try {
    const holder = history.lockHolder?.(name);
    if (!holder || !history.releaseLock || !history.lockHolderGone) return null;
    const gone = history.lockHolderGone(holder.owner);
    if (!gone.dead) return null;
    if (history.pendingIntents().some((c) => c.domain === domain)) return null;
    return history.releaseLock(name, holder.owner) ? gone.why : null;
  } catch (e) {
    // A busy database is said as such (the fix's busy answer). A failing one cannot say: the holder is not known to be
    // gone — the lock is held, as before (a refusal, never the history's error).
    if (isDbBusy(e)) throw e;
    return null;
  }
}

/** The domain's lock, when someone else holds it now (for the words of a refusal). */
function heldBy(history: History, domain: string): { owner: string; expiresAt?: number } | null {
  try {
    return history.lockHolder?.(domainLock(domain)) ?? null;
  } catch {
    return null; // a busy database: said without the time
  }
}

/**
 * The wait for a domain's lock that another fix holds, one rule for a fix (applyPlan) and an undo (undoChange). After
 * a try that found the lock held, worthIt says whether to try again: some of the wait (ApplyDeps.lockWaitMs, default
 * LOCK_WAIT_MS) is left, and the holder is not a write the panel never answered, kept locked until it is settled
 * (keepLockedForSettling: up to LOCK_TTL_MS, far past any wait — the answer is not going to change). A holder that
 * cannot be named (a history without lockHolder, a lock freed since) is waited for. pause waits one poll. The wait is
 * counted in polls, not read off a clock (core reads none, rule 1): a try that finds the domain held fails at once, so
 * the polls last about lockWaitMs. Given up: refused with anotherFixReason.
 */
class LockWait {
  private polls: number;
  constructor(
    private readonly history: History,
    private readonly domain: string,
    waitMs: number | undefined,
  ) {
    this.polls = Math.ceil(Math.max(0, waitMs ?? LOCK_WAIT_MS) / LOCK_POLL_MS);
  }

  /**
   * A history that fails to name the holder (busy, or failing) is not waited for: the refusal stands as it is — an
   * answer, never the history's error (review: a fix whose intent was already recorded as refused rejected here).
   */
  worthIt(): boolean {
    if (this.polls <= 0) return false;
    try {
      return this.history.lockHolder?.(domainLock(this.domain))?.owner.startsWith(`${SETTLING}:`) !== true;
    } catch {
      return false;
    }
  }

  async pause(): Promise<void> {
    this.polls--;
    await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
  }
}

/** "Another fix on D is running …": the lock is held by a live process, or one that cannot be judged (another host). */
function anotherFixReason(domain: string, holder: { expiresAt?: number } | null): string {
  return (
    `Another fix on ${domain} is running; try again in a moment. If that fix was interrupted, whatever it left is ` +
    `settled once its lock on the domain runs out (${lockEnds(holder?.expiresAt)}).`
  );
}

/**
 * Under the domain's lock, before a new fix plans: an open intent of this domain belongs to a fix that lost the lock —
 * its process gone (`gone`: the lock was taken over just now) or its lease run out — and is settled first, as reconcile
 * settles it, so the plan is made from a zone whose last write is accounted for, and that write is never recorded twice
 * (the new fix's and the old intent's both 'applied'). Null when nothing is left open; else the refusal's reason.
 */
async function settleOrphans(domain: string, gone: string | null, owner: string, deps: ApplyDeps): Promise<string | null> {
  const open = deps.history.pendingIntents().filter((c) => c.domain === domain);
  if (!open.length) return null;
  const when = gone ? `at once: the process of the fix that recorded it is gone (${gone})` : 'before another fix on this domain';
  const out: { id: number; outcome: string }[] = [];
  for (const ch of open) {
    try {
      await reconcileOne(ch, deps, out, when, owner);
    } catch (e) {
      if (isDbBusy(e)) throw e;
      // Its old records put back (a partial write), only that not recorded: said, never "nothing was written".
      const wrote = e instanceof Unrecorded && e.found === 'restored' ? 'its old records were put back in the zone, but that could not be recorded; nothing else was written' : 'nothing was written';
      return `Change ${ch.id}, an earlier fix on ${domain} that was interrupted, could not be settled yet (${said(historyCause(e))}): ${wrote}; try again shortly.`;
    }
  }
  return null;
}

/** The names and types a change list touches, for "review the records at …". */
function touched(changes: readonly Change[]): string {
  return [...new Set(changes.map((c) => `${c.name} ${c.type}`))].join(', ');
}

/**
 * After a panel write (a fix's or an undo's): record the outcome onto the still-open intent (`record`, one transaction,
 * retried through a busy history database), verify, and say what else the answer must tell. An intent closed meanwhile
 * — the write outlasted its lease and another process settled it from the zone as it was before — gets the late write
 * recorded for what it is (settleLateWrite), never silently left as "failed". `failed`: the answer's reason; else the
 * verification and a note for the message (the outcome not recorded yet, or "late: …"; the verification not recorded),
 * or null. Never throws: the zone was written — a history that fails from here on is said in the answer (in core's
 * words: its own error is the answer's HistoryFault), never turned into an error that hides the write.
 * `checked`: what settleAnswered read right after the write — the zone (verified from it, not read again), or why it
 * could not be read; absent, the zone is read here. A zone that could not be read leaves the change `propagating` (the
 * state of a change not confirmed yet, checked again later: reverify.ts) — never `yes` or `no`, which nobody saw — and
 * `unchecked` says why, for the answer's words (QA h3 D11: "applied — propagating" when nothing at all was checked).
 */
async function afterWrite(
  changeId: number,
  domain: string,
  changes: Change[],
  record: () => boolean,
  deps: ApplyDeps,
  checked?: { held: Zone } | { unread: string },
): Promise<{ failed: string } | { verified: Verified; note: string | null; unchecked: string | null }> {
  let late: string | null = null;
  /** Why the outcome could not be recorded (DB_BUSY, DB_FAILED), or null. */
  let unrecorded: string | null = null;
  let open = true;
  try {
    open = await throughBusy(record);
  } catch (e) {
    // The zone was written either way: the answer says so and names the change (QA: a full disk after the write gave
    // a bare "cannot write the database" and hid that the zone had changed).
    unrecorded = historyWords(e);
  }
  if (!open) {
    let settled: Awaited<ReturnType<typeof settleLateWrite>>;
    try {
      settled = await settleLateWrite(changeId, domain, changes, deps);
    } catch (e) {
      return { failed: lateUnrecorded(changeId, domain, changes, historyWords(e)) };
    }
    if (settled && !settled.ok) return { failed: settled.reason };
    if (settled) late = settled.note;
  }
  let unchecked: string | null = checked && 'unread' in checked ? checked.unread : null;
  let zone: Zone | null = checked && 'held' in checked ? checked.held : null;
  if (!checked && changes.length) {
    zone = await deps.panel.readZone(domain).catch((e: unknown) => {
      unchecked = said(e);
      return null;
    });
  }
  // The zone read: what it holds, then the nameservers (a failure past the zone — the settings, DNS — is 'propagating':
  // the panel holds the records, the nameservers could not all be asked). Not read: 'propagating', said (`unchecked`).
  const verified: Verified = !changes.length
    ? await verify(domain, changes, deps).catch((): Verified => 'propagating')
    : zone !== null
      ? await verifyZone(zone, domain, changes, deps).catch((): Verified => 'propagating')
      : 'propagating';
  /** Why the verification could not be recorded, or null (the outcome not recorded either: not tried). */
  let unverified: string | null = null;
  if (unrecorded === null) {
    try {
      deps.history.setVerified(changeId, verified);
    } catch (e) {
      // The outcome is recorded: only the verification is missing (the history shows the change as not checked).
      unverified = historyWords(e);
    }
  }
  const notes = [unrecorded !== null ? unrecordedAfterWrite(changeId, domain, unrecorded) : late ? `late: ${late}` : null, unverified !== null ? unverifiedNote(unverified) : null];
  return { verified, note: notes.filter((n): n is string => n !== null).join(' — ') || null, unchecked };
}

/**
 * The words of a write (a fix's or an undo's) recorded as the panel answered it while its zone could not be read right
 * after (`why`): neither confirmed nor denied, so left `propagating` and checked again later (afterWrite). Also the
 * history's note on the change (`error`, as for a reconciled one).
 */
function uncheckedSaid(why: string): string {
  return `not checked: the panel's zone could not be read after the write (${why}), so whether it holds the change is not known yet — it is checked again later, as a change still propagating is`;
}

/**
 * What the panel's zone, read right after a write the panel answered as done, says of it (settleAnswered): `held` — the
 * zone holds the change (or, on a panel that writes a zone in one step, was edited right after it: see there), recorded
 * as applied and verified from this zone; `unread` — the zone could not be read (why), recorded as the panel answered;
 * `recorded` — settled from the zone as applied already (reconcileOne, its failure to record it, if any); `failed` —
 * settled from the zone as not written, or partly written and put back, or left for review: the answer's reason.
 */
type Answered = { held: Zone } | { unread: string } | { recorded: Unrecorded | null } | { failed: string };

/**
 * After a write (`what`: a fix's, or an undo's) the panel answered as done: the panel's own zone, read at once, decides
 * what is recorded — never the panel's answer alone. QA h3 D7/D8: a panel that answers a write with its own success but
 * changes nothing (or, writing record by record, only part of it: Plesk's `dns --add` exiting 0 with an error) was
 * recorded `applied`, verified `no`, `mailhealth fix` exit 0 — a phantom change that a later undo "undid", taking back
 * the records of the retry that did write them.
 * - The zone holds the change: `held` (recorded applied, verified from this zone).
 * - It holds the records exactly as they were before (identical copies counted, as reconcile counts them): nothing was
 *   written — the intent is settled `failed` ("the panel answered the write as done, but its zone does not hold it"),
 *   and there is nothing to undo.
 * - Neither, on a panel that writes record by record (Plesk): part of it — settled as reconcile settles an interrupted
 *   write (settleFromZone): only this write's records there → the old ones put back (`restored`); another record there
 *   → left alone for review; the whole change there after all → applied.
 * - Neither, on a panel that writes a zone in one step (cPanel/WHM, the files panel): the write cannot have landed in
 *   part; someone edited these names right after it — `held`: applied, and verified `no` with the records to check, as
 *   before.
 * - The zone could not be read: `unread` — recorded as the panel answered (applied), its check said to be missing.
 * The read renews the domain's lease while it lasts (keepingLease), as the write did.
 */
async function settleAnswered(changeId: number, domain: string, changes: Change[], what: 'fix' | 'undo', owner: string, deps: ApplyDeps): Promise<Answered> {
  let zone: Zone;
  try {
    zone = await keepingLease(deps, domain, owner, () => deps.panel.readZone(domain));
  } catch (e) {
    return { unread: said(e) };
  }
  if (holdsAfter(zone, changes)) return { held: zone };
  const the = what === 'undo' ? 'the undo' : 'the write';
  const at = touched(changes);
  if (holdsBefore(zone, changes)) {
    const error = `the panel answered ${the} as done, but its zone, read right after, does not hold it (the records at ${at} are as they were before): nothing was written`;
    let unrecorded = '';
    try {
      await throughBusy(() => deps.history.settleIntent(changeId, { status: 'failed', error }));
    } catch (e) {
      unrecorded = ` This could not be recorded (${historyWords(e)}): ${pendingUntilSettled(changeId, domain)}.`;
    }
    const next =
      what === 'undo'
        ? 'The change it was to undo stays applied; try the undo again, and if this happens again, check the DNS zone editor of the panel.'
        : 'Nothing to undo. Preview the fix again and apply it; if this happens again, the panel is not saving DNS changes: check its DNS zone editor.';
    return { failed: `Not ${what === 'undo' ? 'undone' : 'applied'}: ${error}.${unrecorded} ${next}` };
  }
  if (deps.panel.capabilities.recordByRecordWrites !== true) return { held: zone };
  const part = `the panel answered ${the} as done, but its zone, read right after, held only part of it (the ${deps.panel.kind} panel writes record by record)`;
  const fromZone = await settleFromZone(changeId, part, owner, deps, `after ${the} (${part})`);
  if ('recheck' in fromZone) return { failed: `Not ${what === 'undo' ? 'undone' : 'applied'}: ${fromZone.recheck}.` };
  const { outcome, unrecorded } = fromZone;
  if (outcome === 'applied') return { recorded: unrecorded };
  const unsaid = unrecorded ? ` — this could not be recorded (${historyWords(unrecorded.cause)}): ${pendingUntilSettled(changeId, domain)}` : '';
  const head = `Not ${what === 'undo' ? 'undone' : 'applied'}: ${part}`;
  if (outcome === 'restored') return { failed: `${head}; the records it had written were taken out and the ones before put back: nothing of ${the} is in the zone${unsaid}.` };
  if (outcome === 'not-written') return { failed: `${head}; read again, the zone holds the records as they were before: nothing was written${unsaid}.` };
  if (outcome === 'conflict') return { failed: `${head}, and records ${the} did not write are there too (edited meanwhile?): nothing was put back — review the records at ${at}${unsaid}.` };
  return { failed: `${head}; change ${changeId} was settled meanwhile by another mailhealth process — review the records at ${at}.` };
}

/** A failing history in core's words: busy (DB_BUSY), any other failure of it (DB_FAILED); else the error's message. */
function historyWords(e: unknown): string {
  return isDbBusy(e) ? DB_BUSY : said(e);
}

/** The note of a change written and recorded whose verification could not be recorded (`why`: historyWords). */
function unverifiedNote(why: string): string {
  return `its verification could not be recorded (${why}): the history shows the change as not checked until it is verified again`;
}

/**
 * A write that reached the zone although its intent had been settled by another process meanwhile: the fix outlasted
 * its lease inside the panel's write (the one window the check just before the write leaves) and reconcile closed the
 * intent from the zone as it was before the write landed. Never silent: what the zone holds now decides.
 * - The change is 'applied' already (reconcile saw the write): null — the history is right.
 * - The zone holds this change: the record is reopened as applied with a note (an undo: its change marked undone), so
 *   the history says what the zone holds and the change can be undone. `ok` unless a change recorded on the domain since
 *   no longer has its records in the zone (this late write may have overwritten it): then the reason names them.
 * - It does not (edited since): the record keeps its status, with a note naming the records to review; not ok.
 * A busy database throws (the caller says so).
 */
async function settleLateWrite(
  changeId: number,
  domain: string,
  changes: Change[],
  deps: ApplyDeps,
): Promise<null | { ok: true; note: string } | { ok: false; reason: string }> {
  const ch = deps.history.getChange(changeId);
  if (!ch) return { ok: false, reason: `The zone of ${domain} was written, but change ${changeId} is gone from the history: review the records at ${touched(changes)}.` };
  if (ch.status === 'applied' && ch.undoneBy === null) return null;
  const zone = await deps.panel.readZone(domain).catch(() => null);
  const was = `change ${changeId} had been settled as ${ch.status} by another mailhealth process before its write reached the zone (this fix outlasted ${itsLock(domain)} during the panel's write)`;
  // Changes recorded on the domain since this one: once the lease had run out another fix could run, and a write that
  // raced this one may have been overwritten by it.
  const since = deps.history.changesForDomain(domain, 50).filter((c) => c.id > changeId && c.status === 'applied' && c.undoneBy === null && c.changes.length > 0);
  const lost = since.filter((c) => zone === null || !holdsAfter(zone, c.changes));
  const lostText = lost.length
    ? `; change${lost.length > 1 ? 's' : ''} ${lost.map((c) => `#${c.id} (${c.check}: ${touched(c.changes)})`).join(', ')}, recorded on ${domain} since, no longer ${lost.length > 1 ? 'have' : 'has'} all ${lost.length > 1 ? 'their' : 'its'} records in the zone: this late write may have overwritten ${lost.length > 1 ? 'them' : 'it'} — review those records`
    : '';
  if (zone !== null && holdsAfter(zone, changes)) {
    const note = `written late: ${was}; the zone holds this change, so it is recorded as applied${lostText}`;
    if (!(await throughBusy(() => deps.history.recordLateWrite(changeId, { expected: ch.status, reopen: true, zoneVersionAfter: zone.version, note })))) {
      return { ok: false, reason: `The zone of ${domain} was written late (${was}), and the history changed again meanwhile: review change ${changeId} and the records at ${touched(changes)}.` };
    }
    if (lost.length) return { ok: false, reason: `The zone of ${domain} was written late: ${was}. It holds this change, which is recorded as applied (change ${changeId}; it can be undone)${lostText}.` };
    return { ok: true, note: `${was}; the zone holds it, and the history now records it as applied` };
  }
  const now = zone === null ? 'the zone could not be read to check it' : 'the zone does not hold this change now (edited since?)';
  const note = `the zone was written late: ${was}; ${now} — review the records at ${touched(changes)}${lostText}`;
  await throughBusy(() => deps.history.recordLateWrite(changeId, { expected: ch.status, reopen: false, note }));
  return { ok: false, reason: `The zone of ${domain} was written late: ${was}; ${now}. Review the records at ${touched(changes)}${lostText}.` };
}

/**
 * What to say when the outcome of a write could not be recorded: `why`, the history database stayed busy (DB_BUSY) or
 * failed (DB_FAILED).
 */
function unrecordedAfterWrite(changeId: number, domain: string, why: string): string {
  return (
    `the zone was written, but its outcome could not be recorded yet: ${why}. The history shows change ${changeId} ` +
    `as pending until mailhealth settles it from the zone: at the next fix or undo on ${domain}, or by the running ` +
    `service, once the domain's lock is free (within about ${minutes(LOCK_TTL_MS)})`
  );
}

/**
 * A late write (see settleLateWrite) whose record could not be corrected: `why`, the history database stayed busy
 * (DB_BUSY) or failed (DB_FAILED).
 */
function lateUnrecorded(changeId: number, domain: string, changes: Change[], why: string): string {
  return (
    `The zone of ${domain} was written after change ${changeId} had been settled by another mailhealth process (this fix ` +
    `outlasted ${itsLock(domain)}), and ${why}: the history could not be corrected and may ` +
    `show change ${changeId} as not written although the zone holds it. Review change ${changeId} and the records at ${touched(changes)}.`
  );
}

/**
 * A fix that ended on a busy history database, or on a failing one once it had recorded its intent: its answer, given as
 * is (never "another fix is running", never the history's error).
 */
class HistoryBusy extends Error {
  constructor(readonly outcome: ApplyOutcome) {
    super('history database busy or failing');
  }
}

/**
 * An answer given as is, never replaced by an earlier change of the same preview ("already"): an interrupted fix on the
 * domain could not be settled, and that change may be the interrupted one itself.
 */
class AnswerStands extends Error {
  constructor(readonly outcome: ApplyOutcome) {
    super('answer stands');
  }
}

function text(r: ZoneRecord): string {
  return r.txt ? r.txt.join('') : r.value;
}
function sameRecord(a: ZoneRecord, b: ZoneRecord): boolean {
  return canonName(a.name) === canonName(b.name) && a.type.toUpperCase() === b.type.toUpperCase() && text(a) === text(b);
}
function findRecord(zone: Zone, r: ZoneRecord): ZoneRecord | undefined {
  return recordsAt(zone.records, r.name, r.type).find((x) => sameRecord(x, r));
}

/**
 * What makes two records "the same" for history: name, type and text — and, for a change whose before and after are
 * the same text (re-splitting a string over 255 bytes, a TTL), also the strings and the TTL, or the change could not
 * be told from no change at all.
 */
function identityOf(c: Change): (r: ZoneRecord) => string {
  const loose = (r: ZoneRecord) => `${canonName(r.name)}\t${r.type.toUpperCase()}\t${text(r)}`;
  if (!(c.before && c.after && loose(c.before) === loose(c.after))) return loose;
  return (r) => `${loose(r)}\t${r.ttl}\t${JSON.stringify(r.txt ?? [r.value])}`;
}
function copiesIn(zone: Zone, r: ZoneRecord, key: (r: ZoneRecord) => string): number {
  const k = key(r);
  let n = 0;
  for (const x of recordsAt(zone.records, r.name, r.type)) if (key(x) === k) n++;
  return n;
}

/** The changes with how many identical records `zone` (the zone just before the write) holds of each side. */
export function withCopies(zone: Zone, changes: Change[]): Change[] {
  return changes.map((c) => {
    const key = identityOf(c);
    return { ...c, ...(c.before ? { copiesBefore: copiesIn(zone, c.before, key) } : {}), ...(c.after ? { copiesAfter: copiesIn(zone, c.after, key) } : {}) };
  });
}

/**
 * Per record identity, how many copies the zone holds before and after the changes — from the counts apply stored
 * (null for history written without them).
 */
function expectedCopies(changes: Change[]): Map<string, { record: ZoneRecord; key: (r: ZoneRecord) => string; before: number; after: number }> | null {
  const out = new Map<string, { record: ZoneRecord; key: (r: ZoneRecord) => string; before: number; after: number }>();
  for (const c of changes) {
    if ((c.before && c.copiesBefore === undefined) || (c.after && c.copiesAfter === undefined)) return null;
    const key = identityOf(c);
    const side = (r: ZoneRecord, copies: number, delta: number) => {
      const k = key(r);
      let e = out.get(k);
      if (!e) out.set(k, (e = { record: r, key, before: copies, after: copies }));
      e.after += delta;
    };
    if (c.before) side(c.before, c.copiesBefore!, -1);
    if (c.after) side(c.after, c.copiesAfter!, +1);
  }
  return out;
}

/** Does the zone hold the state after the changes (every `after` present, every removed `before` gone)? */
function holdsAfter(zone: Zone, changes: Change[]): boolean {
  const expected = expectedCopies(changes);
  if (expected) return [...expected.values()].every((e) => copiesIn(zone, e.record, e.key) === e.after);
  return changes.every((c) => {
    if (c.after && !findRecord(zone, c.after)) return false;
    if (c.action === 'remove' && c.before && findRecord(zone, c.before)) return false;
    return true;
  });
}
function holdsBefore(zone: Zone, changes: Change[]): boolean {
  const expected = expectedCopies(changes);
  if (expected) return [...expected.values()].every((e) => copiesIn(zone, e.record, e.key) === e.before);
  return changes.every((c) => {
    if (c.before && !findRecord(zone, c.before)) return false;
    if (c.action === 'add' && c.after && findRecord(zone, c.after)) return false;
    return true;
  });
}

/**
 * Verify through the panel, then ask the authoritative servers directly: each of the panel's name servers on its own
 * ('yes' only when every one serves the change — a secondary that has not transferred the new zone yet still hands
 * the old records to part of the world; one that does not answer leaves it 'propagating').
 */
export async function verify(domain: string, changes: Change[], deps: AuditDeps, zoneVersionBefore?: string | null): Promise<Verified> {
  // A change with no record changes had the panel start signing: judged against the zone its plan was made from (live
  // DNS when that was served elsewhere, see verifySigning).
  if (!changes.length) return verifySigning(domain, deps, undefined, zoneVersionBefore ?? undefined);
  return verifyZone(await deps.panel.readZone(domain), domain, changes, deps);
}

/** verify, the panel's zone read already (`zone`: apply's read right after its write, see settleAnswered). */
async function verifyZone(zone: Zone, domain: string, changes: Change[], deps: AuditDeps): Promise<Verified> {
  if (!holdsAfter(zone, changes)) return 'no';
  const settings = await deps.panel.readMailSettings(domain);
  const resolveAt = deps.resolver.resolveAt?.bind(deps.resolver);
  if (!resolveAt || settings.nameservers.length === 0) return 'propagating';
  // A listed name server with no address at all (no A, no AAAA) serves nobody: it is left out, as resolvers leave it;
  // at least one must have been asked.
  let asked = 0;
  for (const ns of [...new Set(settings.nameservers)]) {
    const served = await servesChanges(ns, changes, resolveAt);
    if (served === 'no address') continue;
    if (!served) return 'propagating';
    asked++;
  }
  return asked > 0 ? 'yes' : 'propagating';
}

/**
 * A change that wrote no record — the DKIM fix that had the panel start signing with the published key (startSigning)
 * — is verified by reading the panel's settings back: 'yes' when it signs with the key published at its selector,
 * 'no' when it does not sign, or signs with a key that is not the one published there.
 */
async function verifySigning(domain: string, deps: AuditDeps, settings?: MailSettings, zoneVersion?: string): Promise<Verified> {
  const s = settings ?? (await deps.panel.readMailSettings(domain));
  if (!s.dkim.signing) return 'no';
  // Planned from live DNS (the domain's DNS is served elsewhere): the key receivers see is the one that counts.
  if (zoneVersion?.startsWith(LIVE_VERSION)) return verifyLiveKey(domain, deps, s);
  const zone = await deps.panel.readZone(domain);
  // The selector an alias (CNAME) alone in the panel's zone: the key is where it points — read as receivers read it,
  // through the alias (a panel that made a new key while turning signing on signs with one the alias does not serve).
  if (selectorIsAlias(s, domain, zone.records)) return verifyLiveKey(domain, deps, s);
  return signsUnpublishedKey(s, domain, zone.records) ? 'no' : 'yes';
}

/**
 * verifySigning against the selector's live TXT answer (the resolver follows an alias there): 'propagating' when DNS
 * does not answer — never a 'yes' or a 'no' it did not see.
 */
async function verifyLiveKey(domain: string, deps: AuditDeps, s: MailSettings): Promise<Verified> {
  const name = `${s.dkim.selector}._domainkey.${domain}`;
  const a = await deps.resolver.resolve(name, 'TXT');
  if (a.status === 'unknown') return 'propagating';
  const live: ZoneRecord[] = a.status === 'ok' ? (a.records as string[][]).map((r, i) => ({ name, ttl: 0, type: 'TXT', value: r.join(''), txt: r, ref: `live:${i}` })) : [];
  return signsUnpublishedKey(s, domain, live) ? 'no' : 'yes';
}

/** Does one authoritative server answer with the state after the changes? A question it does not answer: no. */
async function servesChanges(ns: string, changes: Change[], resolveAt: NonNullable<AuditDeps['resolver']['resolveAt']>): Promise<boolean | 'no address'> {
  const expected = expectedCopies(changes);
  for (const c of changes) {
    // A CNAME is asked for as such (a TXT question follows it to its target).
    const cname = c.type.toUpperCase() === 'CNAME';
    const a = cname ? await resolveAt([ns], c.name, 'CNAME') : await resolveAt([ns], c.name, 'TXT');
    if (a.status === 'unknown') return a.error === NO_SERVER_ADDRESS ? 'no address' : false;
    const live = a.status !== 'ok' ? [] : cname ? (a.records as string[]).map(canonName) : (a.records as string[][]).map((r) => r.join(''));
    const value = (r: ZoneRecord) => (cname ? canonName(r.value) : text(r));
    if (c.after && !live.includes(value(c.after))) return false;
    // Gone from the live answers — unless identical copies of it stay (removing one of two identical records).
    const stays = c.before && expected ? (expected.get(identityOf(c)(c.before))?.after ?? 0) > 0 : false;
    if (c.action === 'remove' && c.before && !stays && live.includes(value(c.before))) return false;
  }
  return true;
}

type ApplyInput = { domain: string; check: FixKind; planHash: string; options?: PlanOptions };

/**
 * The answer to a preview applied already (see applyPlan): that change, never a second write. `holder`: the domain's
 * lock while that change is still an intent (its fix running — or interrupted, settled when the lock runs out).
 */
function alreadyOutcome(ch: StoredChange, holder: { expiresAt?: number } | null = null): ApplyOutcome & { status: 'already' } {
  const pending = ch.status === 'intent';
  const reason = pending
    ? `This fix is being applied now as change #${ch.id}: the same preview was sent again, and it is not applied a second time. The history shows the outcome once it is recorded. If that fix was interrupted, change #${ch.id} is settled from the zone once its lock on ${ch.domain} runs out (${lockEnds(holder?.expiresAt)}).`
    : `This fix was already applied as change #${ch.id}${ch.verified ? ` (verified: ${ch.verified})` : ''}: the same preview was sent again, and it was not applied a second time.`;
  return {
    status: 'already',
    changeId: ch.id,
    changeStatus: pending ? 'intent' : 'applied',
    verified: ch.verified,
    changes: withoutCopies(ch.changes),
    reason,
  };
}

/**
 * Apply exactly the previewed plan: re-plan under the domain lock and refuse when the hash differs (the zone changed,
 * or the plan would differ), then write-ahead the intent, write through the panel, verify.
 *
 * The same preview sent twice (a double click, the form posted again) is applied once: a submission that would be
 * refused — the domain locked by the first one's fix, or the re-plan's hash differing because the first one changed the
 * zone — while the history holds a change of this domain and fix with this very plan hash, applied and not undone or
 * still an intent, answers `already` with that change. While the lock is held by another fix it waits (up to
 * `lockWaitMs`) for it, then looks again.
 */
export async function applyPlan(input: ApplyInput, deps: ApplyDeps): Promise<ApplyOutcome> {
  // A guard (WriteGuard) hears of every panel read made for this fix from here on; the history's failures are said in
  // core's words, the first one on the answer (HistoryFault).
  const d = forThisCall(deps);
  return withFault(await applyWatched(input, d), d);
}

async function applyWatched(input: ApplyInput, deps: ApplyDeps): Promise<ApplyOutcome> {
  const lockWait = new LockWait(deps.history, input.domain, deps.lockWaitMs);
  for (;;) {
    let outcome: ApplyOutcome;
    let locked = false;
    try {
      outcome = await applyUnderLock(input, deps);
    } catch (e) {
      // A busy history database is not another fix: its answer stands (and an intent of this very call is not "already").
      if (e instanceof HistoryBusy || e instanceof AnswerStands) return e.outcome;
      if (!(e instanceof LockNotTaken)) throw e;
      locked = true;
      outcome = { status: 'refused', reason: anotherFixReason(input.domain, heldBy(deps.history, input.domain)) };
    }
    if (outcome.status !== 'refused') return outcome;
    // The refusal may follow an intent recorded as refused (the panel busy): a history that cannot be asked for the same
    // preview's change leaves the refusal as the answer — "no same change", and no wait (LockWait) — never its error.
    const same = sameChange(input, deps);
    // Waiting is for a fix that is running; a domain kept locked until a write the panel never answered is settled
    // (up to LOCK_TTL_MS) is not waited for (LockWait).
    const wait = locked && lockWait.worthIt();
    // A change still being written is waited for while the wait lasts (its outcome is the better answer).
    // An applied change answers only while the zone is still as that change left it: an old preview sent again after
    // the records were changed since is refused with the new plan, not "already applied".
    if (same && same.status === 'applied' && !(await stillAsApplied(same, deps))) return outcome;
    if (same && (same.status === 'applied' || !wait)) return alreadyOutcome(same, same.status === 'intent' ? heldBy(deps.history, input.domain) : null);
    if (!wait) return outcome;
    await lockWait.pause();
  }
}

/** The change of this very preview (History.changeWithPlanHash), or null — also when the history cannot be asked. */
function sameChange(input: ApplyInput, deps: ApplyDeps): StoredChange | null {
  try {
    return deps.history.changeWithPlanHash?.(input.domain, input.check, input.planHash) ?? null;
  } catch {
    return null;
  }
}

/** Is the zone still the one `ch` left (its version after the write)? A panel that cannot be read: not known, so no. */
async function stillAsApplied(ch: StoredChange, deps: ApplyDeps): Promise<boolean> {
  if (!ch.zoneVersionAfter) return false;
  const zone = await deps.panel.readZone(ch.domain).catch(() => null);
  return zone !== null && zone.version === ch.zoneVersionAfter;
}

/** The domain's lock was held by someone else: nothing ran (a 'locked' error from inside the fix is not this). */
class LockNotTaken extends Error {}

async function applyUnderLock(input: ApplyInput, deps: ApplyDeps): Promise<ApplyOutcome> {
  const owner = lockOwner(deps.history, deps.byUser);
  let entered = false;
  // How far the fix got, for the answer when the history database turns out busy: the change recorded (if any), whether
  // the zone may hold (part of) the write, whether the panel generated a key.
  const progress: { changeId: number | null; written: 'no' | 'maybe' | 'yes'; key: boolean } = { changeId: null, written: 'no', key: false };
  try {
    // A lock whose holder's process is gone (kill -9) is taken over at once (withDomainLock).
    const outcome = await withDomainLock(deps.history, input.domain, owner, async (gone) => {
      entered = true;
      // What an earlier fix on this domain left open (its process gone, its lease run out) is settled first.
      const orphaned = await settleOrphans(input.domain, gone, owner, deps);
      if (orphaned) throw new AnswerStands({ status: 'refused', reason: orphaned });
      let plan: Plan;
      /** The panel's zone the plan was computed from: the zone must still be this one, record for record, at the write. */
      let planned: Zone | null;
      try {
        ({ plan, zone: planned } = await makePlanAndZone({ domain: input.domain, check: input.check, options: input.options ?? {} }, deps));
      } catch (e) {
        return { status: 'refused' as const, reason: said(e) };
      }
      // A plan that cannot be applied now says why, whether or not it also differs from the preview.
      if (plan.blocked) return { status: 'refused' as const, reason: plan.blocked, newPlan: plan, why: 'blocked' as const };
      const nothing = plan.changes.length === 0 && plan.actions.length === 0;
      const nothingLeft = { status: 'refused' as const, reason: nothingToChange(plan.notes, { notesShown: false }), newPlan: plan, why: 'nothing' as const };
      if (plan.planHash !== input.planHash) {
        // Nothing left to change (the previewed change made by hand meanwhile): that is the answer, not "the zone changed"
        // (QA: refused, exit 1, for a fix the customer had made in the panel exactly as previewed).
        if (nothing) return nothingLeft;
        return { status: 'refused' as const, reason: 'The zone changed since the preview (or the plan would differ): here is the new plan.', newPlan: plan, why: 'changed' as const };
      }
      if (plan.mode !== 'apply') return { status: 'refused' as const, reason: "This server's DNS is not the live one: publish the records at the real DNS host instead.", newPlan: plan, why: 'elsewhere' as const };
      if (nothing) return nothingLeft;

      if (plan.actions.some((a) => a.kind === 'refresh-dkim')) return await startSigning(input.domain, plan, owner, deps, progress);

      let changes = plan.changes;
      let zoneVersion = plan.zoneVersion;
      /** The zone `changes` point into (their refs): the planned one, or the one re-read after the panel made a key. */
      let basis = planned;
      // Generating a key is a write too (a key, signing turned on): its intent goes first, and stays in the history
      // with what happened if the fix stops there.
      let keyIntent: number | null = null;
      /**
       * A refusal (no record written) onto the open intent `id`: '' or, when the history could not record it, a sentence
       * saying so (retried through a busy database). Never thrown: the answer is the refusal — the panel's words, a new
       * plan — which a failure to record it must not hide (review: it became "the history database could not be read or
       * written: … try again once it works", the panel's "the zone changed" and the new plan lost). The history's own
       * error is the answer's HistoryFault (watched).
       */
      const recordRefusal = async (id: number, error: string): Promise<string> => {
        try {
          await throughBusy(() => deps.history.settleIntent(id, { status: 'failed', error }));
          return '';
        } catch (e) {
          return ` This could not be recorded (${historyWords(e)}): ${pendingUntilSettled(id, input.domain)}.`;
        }
      };
      /**
       * The refusal as the answer; when it could not be recorded (`unrecorded`), as it is (AnswerStands): the intent this
       * call left open has the same preview's hash, and must not turn the refusal into "already being applied".
       */
      const refusal = (o: ApplyOutcome & { status: 'refused' }, unrecorded: string): ApplyOutcome & { status: 'refused' } => {
        if (unrecorded) throw new AnswerStands(o);
        return o;
      };
      /**
       * The key fix stopping before its record write (the panel refused or failed to make the key, the guard, the zone
       * changed): its intent closed with `error` through recordRefusal — '' or the sentence saying it could not be
       * recorded, for the answer (review: a failing history replaced the refusal with its own answer, the new plan lost).
       * No key intent (not a key fix): nothing to record, ''.
       */
      const stopKeyFix = (error: string): Promise<string> => (keyIntent !== null ? recordRefusal(keyIntent, error) : Promise.resolve(''));
      if (plan.actions.some((a) => a.kind === 'generate-dkim')) {
        if (!deps.panel.generateDkim) return { status: 'refused' as const, reason: `The ${deps.panel.kind} panel cannot generate DKIM keys: create one in the panel.` };
        // Guard: 'intent' (the key's, which the record write later goes over).
        keyIntent = recordIntentGuarded(deps, { domain: input.domain, check: input.check, planHash: plan.planHash, zoneVersion, changes, byUser: deps.byUser });
        progress.changeId = keyIntent;
        const ki = keyIntent;
        const generated = await generateKey(input.domain, ki, plan.zoneVersion, planned, changes, deps, {
          beforeWrite: () => leaseLost(deps, input.domain, owner, ki),
          keepingLease: (write) => keepingLease(deps, input.domain, owner, write),
          generated: () => (progress.key = true),
        });
        if ('refused' in generated) {
          const unrecorded = await stopKeyFix(`refused: ${generated.refused}`);
          return refusal({ status: 'refused', reason: generated.refused + unrecorded }, unrecorded);
        }
        if ('failed' in generated) {
          // A failure answers as it is (never "already"): not recorded, it only says so.
          const unrecorded = await stopKeyFix(generated.failed);
          return { status: 'failed' as const, changeId: keyIntent, reason: generated.failed + unrecorded };
        }
        changes = generated.changes;
        zoneVersion = generated.zoneVersion;
        basis = generated.zone;
      }
      const afterKey = keyIntent !== null ? ' The panel has generated a new DKIM key and turned signing on; its record is not published: run the DKIM fix again.' : '';
      /** A message ending in a sentence of its own about the generated key, when one was generated. */
      const withKey = (m: string) => (afterKey ? `${m.replace(/\.?$/, '.')}${afterKey}` : m);
      const guard = ownershipProblem(input.check, input.domain, (await deps.panel.readMailSettings(input.domain)).dkim.selector, changes);
      if (guard) {
        const unrecorded = await stopKeyFix(`refused: ${guard}${afterKey}`);
        // The note about the generated key stays last, as in every refusal after the key (withKey).
        return refusal({ status: 'refused', reason: unrecorded ? `${guard.replace(/\.?$/, '.')}${unrecorded}${afterKey}` : guard + afterKey }, unrecorded);
      }
      // The zone just before the write: the one planned from — the same version and, record for record, the same zone
      // (sameZone: on cPanel/WHM the version is only the serial, and an edit that does not bump it can move the line
      // an edit targets onto another record) — and what it holds of each record the changes touch (identical copies
      // counted: see withCopies).
      const pre = await deps.panel.readZone(input.domain);
      if (pre.version !== zoneVersion || (basis !== null && !sameZone(pre, basis))) {
        const unrecorded = await stopKeyFix(`refused: the zone changed before the record could be published.${afterKey}`);
        const newPlan = await makePlan({ domain: input.domain, check: input.check, options: input.options ?? {} }, deps).catch(() => undefined);
        return refusal({ status: 'refused', reason: `The zone changed since the preview: here is the new plan.${unrecorded}${afterKey}`, ...(newPlan ? { newPlan, why: 'changed' as const } : {}) }, unrecorded);
      }
      changes = withCopies(pre, changes);

      let changeId: number;
      if (keyIntent !== null) {
        deps.history.reviseIntent(keyIntent, { changes, zoneVersion });
        changeId = keyIntent;
      } else {
        // Guard: 'intent'.
        changeId = recordIntentGuarded(deps, { domain: input.domain, check: input.check, planHash: plan.planHash, zoneVersion, changes, byUser: deps.byUser });
        progress.changeId = changeId;
      }
      deps.crashPoint?.('after-intent');
      // Immediately before the write: still the domain's lock holder, the intent still open — else nothing is written.
      const lost = leaseLost(deps, input.domain, owner, changeId);
      if (lost) {
        const unrecorded = await recordRefusal(changeId, `refused before the write: ${lost}; nothing was written`);
        return refusal({ status: 'refused', reason: withKey(`Not written: ${lost}. Nothing was written to the zone; preview the fix again.${unrecorded}`) }, unrecorded);
      }
      let after: string | null = null;
      /** Recorded already (the zone re-checked after a failed write turned out to hold the whole change). */
      let recorded = false;
      /** The intent was settled by another process while the write failed: not this fix's to record as applied. */
      let lateSettled = false;
      /** The history's failure that kept the zone's re-check (which found the whole change) from being recorded. */
      let unrecordedBy: unknown;
      progress.written = 'maybe';
      try {
        // Guard: 'records' — a stop is this write failing: the catch below settles the intent from the zone.
        after = (await keepingLease(deps, input.domain, owner, () => guardedWrite(deps, 'records', changeId, () => deps.panel.applyChanges(input.domain, changes, zoneVersion)))).version;
      } catch (e) {
        if (e instanceof PanelError && e.code === 'no-answer') {
          keepLockedForSettling(input.domain, owner, deps.history);
          return {
            status: 'failed' as const,
            changeId,
            reason: `${e.message}: whether the change was written is not known yet. mailhealth checks the zone again in about ${Math.round(LOCK_TTL_MS / 60_000)} minutes (the history shows the change as pending until then); meanwhile no other fix runs on ${input.domain}.${keyIntent !== null ? ' The panel has generated a new DKIM key for this fix and turned signing on.' : ''}`,
          };
        }
        // An adapter that undoes its own steps says what of the write it could not undo (PartialWriteError).
        const left = e instanceof PartialWriteError ? e.leftWritten : null;
        // The panel refused the write (nothing written): its refusal is the answer, recorded or not (recordRefusal).
        if (e instanceof PanelError && e.code === 'busy') {
          progress.written = 'no';
          const unrecorded = await recordRefusal(changeId, withKey(`refused: ${e.message}`));
          return refusal({ status: 'refused', reason: `Not applied: ${e.message}.${unrecorded ? ` Nothing was written to the zone.${unrecorded}` : ''}${afterKey}` }, unrecorded);
        }
        if (e instanceof PanelError && e.code === 'stale' && !left?.length) {
          progress.written = 'no';
          const unrecorded = await recordRefusal(changeId, withKey(`refused: ${e.message}`));
          const newPlan = await makePlan({ domain: input.domain, check: input.check, options: input.options ?? {} }, deps).catch(() => undefined);
          const reason = `The zone changed while applying (${e.message}): here is the new plan.${unrecorded ? ` Nothing was written to the zone.${unrecorded}` : ''}${afterKey}`;
          return refusal({ status: 'refused', reason, ...(newPlan ? { newPlan, why: 'changed' as const } : {}) }, unrecorded);
        }
        const reason = said(e);
        if (left) {
          // Only what this write left in the zone is put back; a record missing for another reason stays missing.
          const settled = await settleLeftovers(changeId, input.domain, left, withKey(reason), owner, deps);
          return { status: 'failed' as const, changeId, reason: withKey(reason + leftoversSaid(settled, 'write', changeId, input.domain, left)) };
        }
        // The write failed, perhaps part-way (panels that write record by record): what is in the zone now decides
        // the outcome, as after a crash — nothing written, fully written, partly written (old records put back) or
        // edited meanwhile (left alone). If even that fails, the intent stays open for the next start.
        const fromZone = await settleFromZone(changeId, reason, owner, deps);
        if ('recheck' in fromZone) return { status: 'failed' as const, changeId, reason: withKey(fromZone.recheck) };
        const outcome = fromZone.outcome;
        // Settled by another process while this write was failing (it outlasted its lease): what the zone holds decides,
        // as for any late write (afterWrite: recorded as written late, or failed naming the records to review).
        if (outcome === 'settled meanwhile') lateSettled = true;
        else if (outcome !== 'applied') return { status: 'failed' as const, changeId, reason: withKey(reason + fromZoneSaid(fromZone, changeId, input.domain, changes)) };
        // The zone holds the whole change after all: carry on as applied (the outcome is recorded — or, when the history
        // failed to record it, afterWrite says so: its record throws that failure).
        else if (fromZone.unrecorded) unrecordedBy = fromZone.unrecorded.cause;
        else recorded = true;
      }
      deps.crashPoint?.('after-write');
      /** What the zone, read right after a write the panel answered as done, holds of it (settleAnswered). */
      let checked: { held: Zone } | { unread: string } | undefined;
      if (!recorded && !lateSettled && unrecordedBy === undefined) {
        const answered = await settleAnswered(changeId, input.domain, changes, 'fix', owner, deps);
        if ('failed' in answered) {
          progress.written = 'no';
          return { status: 'failed' as const, changeId, reason: withKey(answered.failed) };
        }
        if ('recorded' in answered) {
          // Settled from the zone as applied already (the whole change there after all), or found so but not recorded.
          if (answered.recorded) unrecordedBy = answered.recorded.cause;
          else recorded = true;
        } else checked = answered;
      }
      progress.written = 'yes';
      /** The note on a change recorded as the panel answered it, its zone unread (afterWrite: `unchecked`). */
      const unreadNote = checked && 'unread' in checked ? uncheckedSaid(checked.unread) : null;
      const done = await afterWrite(
        changeId,
        input.domain,
        changes,
        () => {
          if (unrecordedBy !== undefined) throw unrecordedBy;
          return !lateSettled && (recorded || deps.history.settleIntent(changeId, { status: 'applied', zoneVersionAfter: after, ...(unreadNote ? { error: unreadNote } : {}) }));
        },
        deps,
        checked,
      );
      if ('failed' in done) return { status: 'failed' as const, changeId, reason: withKey(done.failed) };
      const { verified } = done;
      const base =
        done.unchecked !== null
          ? `applied, but ${uncheckedSaid(done.unchecked)}`
          : verified === 'yes'
            ? 'applied'
            : verified === 'propagating'
              ? 'applied — propagating'
              : 'applied, but the panel does not show the new records';
      const message = done.note ? `${base} — ${done.note}` : base;
      const keyStep = keyIntent !== null && zoneVersion !== plan.zoneVersion ? { keyStep: { before: plan.zoneVersion, after: zoneVersion } } : {};
      return { status: 'applied' as const, changeId, verified, plan: { ...plan, changes: withoutCopies(changes) }, message, ...keyStep };
    }, keepIfKept(owner));
    return outcome;
  } catch (e) {
    if (isHeldLock(e) && !entered) throw new LockNotTaken();
    if (isDbBusy(e)) throw new HistoryBusy(busyOutcome(input.domain, progress, DB_BUSY));
    // The history failing once the fix recorded its intent (or may have written): an answer saying what it left, the
    // history's error on it (HistoryFault) — never the error itself, which hides what the fix did (review: a failing
    // lookup after the intent made applyPlan reject). Before that, nothing was recorded or written: the error stands.
    if (isHistoryFailure(e) && (progress.changeId !== null || progress.written !== 'no')) throw new HistoryBusy(busyOutcome(input.domain, progress, DB_FAILED));
    // A 'locked' error from inside the fix that is not the history database: a lock of the panel's (never "another
    // fix on the domain", which is only said when this fix could not take the domain's lock).
    throw e;
  }
}

/**
 * The answer of a fix that stopped on a busy (`why`: DB_BUSY) or failing (DB_FAILED) history database, from how far it
 * got.
 */
function busyOutcome(domain: string, progress: { changeId: number | null; written: 'no' | 'maybe' | 'yes'; key: boolean }, why: string): ApplyOutcome {
  const id = progress.changeId;
  const key = progress.key ? ' The panel has generated a new DKIM key for this fix and turned signing on; its record is not published: run the DKIM fix again.' : '';
  if (progress.written === 'no') {
    const pending = id !== null ? ` Change ${id} was recorded as about to be written; it stays pending until mailhealth checks the zone and closes it (nothing of it was written).` : '';
    return { status: 'refused', reason: `${capital(why)}: nothing was written to ${domain}'s zone.${pending}${key} ${tryAgain(why)}` };
  }
  if (progress.written === 'maybe') {
    return {
      status: 'failed',
      ...(id !== null ? { changeId: id } : {}),
      reason: `The panel's write of change ${id} did not go through cleanly, and ${why}: what it left in ${domain}'s zone could not be checked and recorded. The history shows the change as pending until mailhealth checks the zone: at the next fix or undo on ${domain}, or by the running service, once the domain's lock is free (within about ${minutes(LOCK_TTL_MS)}).${key}`,
    };
  }
  return {
    status: 'failed',
    ...(id !== null ? { changeId: id } : {}),
    reason: `The panel has carried out change ${id}, but its outcome could not be recorded yet: ${why}. The history shows it as pending until mailhealth settles it: at the next fix or undo on ${domain}, or by the running service, once the domain's lock is free (within about ${minutes(LOCK_TTL_MS)}).${key}`,
  };
}

/** "The history database …" (DB_BUSY, DB_FAILED) at the start of a sentence. */
const capital = (words: string) => words.charAt(0).toUpperCase() + words.slice(1);
/** When to try again after the history stopped a fix or an undo that wrote nothing: busy — soon; failing — once it works. */
const tryAgain = (why: string) => (why === DB_BUSY ? 'Try again in a moment.' : "Try again once the history database works again (the server's log says what failed).");

/**
 * The panel generates the key (its own writes: a key file, and on cPanel/Plesk a DKIM record it publishes and the
 * adapter takes back out, so the plan's record is the one that lands). The zone must be the previewed one before, and
 * the same records after — anything else means someone edited it meanwhile (or the panel left something behind), and
 * the plan's changes would no longer say what they do. The changes then point at the records as re-read (a panel's
 * line indexes can move) and carry the new key in place of the placeholder.
 */
async function generateKey(
  domain: string,
  changeId: number,
  planVersion: string,
  planned: Zone | null,
  changes: Change[],
  deps: ApplyDeps,
  hooks: { beforeWrite: () => string | null; keepingLease: <T>(write: () => Promise<T>) => Promise<T>; generated: () => void },
): Promise<{ changes: Change[]; zoneVersion: string; zone: Zone } | { refused: string } | { failed: string }> {
  const before = await deps.panel.readZone(domain);
  // The planned zone, record for record (sameZone: a cPanel serial alone misses an edit that did not bump it).
  if (before.version !== planVersion || (planned !== null && !sameZone(before, planned))) return { refused: 'The zone changed since the preview: preview the fix again.' };
  let publicKey: string | undefined;
  // Generating a key is a write: the same check as before a zone write, immediately before it.
  const lost = hooks.beforeWrite();
  if (lost) return { refused: `Not written: ${lost}. No DKIM key was generated and nothing was written; preview the fix again.` };
  try {
    // Guard: 'generate-dkim' — a stop is the panel failing to generate the key (the catch below).
    publicKey = (await hooks.keepingLease(() => guardedWrite(deps, 'generate-dkim', changeId, () => deps.panel.generateDkim!(domain)))).dkim.publicKey;
    hooks.generated();
  } catch (e) {
    // The adapter saw the zone change under the key step in a way it could not take apart (two new keys at the
    // selector, one of them someone else's): it took nothing back. Said as what it is, not as a panel failure.
    if (e instanceof PanelError && e.code === 'stale') {
      hooks.generated();
      return { refused: `The zone changed while the panel generated the DKIM key (${e.message}): mailhealth wrote nothing to it and took nothing back — check the DKIM records of ${domain} in the panel, then preview the fix again.` };
    }
    const now = await deps.panel.readZone(domain).catch(() => null);
    const untouched = now !== null && sameRecords(now, before);
    return { failed: `The panel could not generate a DKIM key (${said(e)})${untouched ? '; the zone was not changed' : '; the zone may have been changed by the panel: check the DKIM records'}.` };
  }
  if (!publicKey) return { failed: 'The panel generated no readable DKIM key.' };
  const after = await deps.panel.readZone(domain);
  const made = `the panel has generated a new DKIM key for ${domain} and turned signing on, but its record is not published — preview and apply the DKIM fix again to publish it (until then mail this server signs for ${domain} fails DKIM), or turn signing off in the panel`;
  if (!sameRecords(after, before)) return { refused: `The zone changed while the key was generated (another edit, or a record the panel left): nothing was written to it; ${made}.` };
  const out: Change[] = [];
  // Each change's record in the re-read zone: the one at the same ref while it is still the same record, else the first
  // same record not already taken — two identical records (an old key published twice) map to two records, not one.
  const taken = new Set<ZoneRecord>();
  for (const c of changes) {
    let cur: ZoneRecord | undefined;
    if (c.before) {
      const b = c.before;
      const same = recordsAt(after.records, b.name, b.type).filter((x) => sameRecord(x, b) && !taken.has(x));
      cur = (b.ref !== undefined ? same.find((x) => x.ref === b.ref) : undefined) ?? same[0];
      if (!cur) return { refused: `${c.name} ${c.type} changed while the key was generated: ${made}.` };
      taken.add(cur);
    }
    if (c.after && c.after.value.includes(PLACEHOLDER_KEY)) out.push({ ...c, before: cur ?? c.before, after: dkimRecordFor(c.after.name, c.after.ttl, publicKey), keyGenerated: true });
    else out.push({ ...c, before: cur ?? c.before });
  }
  return { changes: out, zoneVersion: after.version, zone: after };
}

/**
 * The same zone, record for record — names, types, TTLs, values (TXT strings as stored) and the panel's refs (a cPanel
 * line index, a Plesk record id) — in any order: apply's check that the zone just before its write is the one its
 * changes were made from. The version alone is not enough where it is the serial (cPanel/WHM): a hand edit of the zone
 * file need not bump it, and a line inserted above the record an edit targets moves that line index onto another
 * record (QA: mass_edit_zone overwrote an SRV record with the new SPF record, the old SPF record stayed). Where the
 * version is a hash of the records or of the file (Plesk, the files panel) the same version almost always means the
 * same zone, and this is a cheap comparison of two lists already read.
 */
function sameZone(a: Zone, b: Zone): boolean {
  if (a === b) return true;
  if (a.records.length !== b.records.length) return false;
  const list = (z: Zone) => z.records.map((r) => `${recordKey(r)}\t${r.ref ?? ''}`).sort();
  const x = list(a);
  const y = list(b);
  return x.every((v, i) => v === y[i]);
}

/** The same records (SOA aside: a panel bumps the serial on every write), in any order. */
function sameRecords(a: Zone, b: Zone): boolean {
  const list = (z: Zone) => z.records.filter((r) => r.type.toUpperCase() !== 'SOA').map(recordKey).sort();
  const x = list(a);
  const y = list(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** The inverse of applied changes, checked against the zone as it is now. Null + reason when a later edit intervened. */
export function inverseChanges(zone: Zone, changes: Change[]): { changes: Change[] } | { reason: string } {
  const out: Change[] = [];
  // With the copies apply counted: the zone must hold exactly the state the fix left (identical records counted).
  const expected = expectedCopies(changes);
  if (expected) {
    for (const e of expected.values()) {
      const n = copiesIn(zone, e.record, e.key);
      if (n > e.after) {
        // A record this fix removed or replaced (an edit's old text) stands in the zone again: a later fix or edit put it back.
        return { reason: `${e.record.name} ${e.record.type}: a record this fix removed or replaced is back in the zone since (a later fix or edit): undo would duplicate it.` };
      }
      if (n !== e.after) return { reason: `${e.record.name} ${e.record.type} was changed after this fix: undo would overwrite a later edit.` };
    }
  }
  const find = (c: Change, r: ZoneRecord) => {
    const key = identityOf(c);
    return recordsAt(zone.records, r.name, r.type).find((x) => key(x) === key(r));
  };
  for (const c of changes) {
    if (c.action === 'add' && c.after) {
      const cur = find(c, c.after);
      if (!cur) return { reason: `${c.name} ${c.type} was changed after this fix (the added record is gone): undo would overwrite a later edit.` };
      if (cur.ttl !== c.after.ttl) return { reason: `${c.name} ${c.type} was edited after this fix (its TTL is now ${cur.ttl}): undo would overwrite a later edit.` };
      out.push({ action: 'remove', name: cur.name, type: cur.type, ttl: cur.ttl, before: cur, after: null });
    } else if (c.action === 'edit' && c.after && c.before) {
      const cur = find(c, c.after);
      if (!cur) return { reason: `${c.name} ${c.type} was edited after this fix: undo would overwrite a later edit.` };
      if (cur.ttl !== c.after.ttl) return { reason: `${c.name} ${c.type} was edited after this fix (its TTL is now ${cur.ttl}): undo would overwrite a later edit.` };
      out.push({ action: 'edit', name: cur.name, type: cur.type, ttl: cur.ttl, before: cur, after: { ...c.before, ref: undefined } });
    } else if (c.action === 'remove' && c.before) {
      if (!expected && findRecord(zone, c.before)) return { reason: `${c.name} ${c.type} was re-added after this fix: undo would duplicate it.` };
      // The old ref rides along as a hint of where the record stood (the files panel puts it back there).
      out.push({ action: 'add', name: c.before.name, type: c.before.type, ttl: c.before.ttl, before: null, after: { ...c.before } });
    }
  }
  return { changes: out };
}

/**
 * The message of an undo that was written, by its verification — as a fix's: 'no' (the panel does not show the records
 * the undo put back: the zone was edited again right after the write, or the panel did not keep them) never claims the
 * records are back, and names where to look.
 */
export function undoneMessage(verified: Verified, changes: readonly Change[]): string {
  if (verified === 'yes') return 'undone';
  if (verified === 'propagating') return 'undone — propagating';
  return `undone, but the panel does not show the restored records — check the zone's records at ${touched(changes)}`;
}

/**
 * A record's text for a message: quoted (JSON: control characters escaped), cut at 100 characters — whole for an SPF,
 * DMARC or lockdown record as a rule, so the customer finds it in the panel; a DKIM key is hundreds —, a CNAME as its
 * target.
 */
function shown(r: ZoneRecord): string {
  if (r.type.toUpperCase() === 'CNAME') return `the alias (CNAME) to ${JSON.stringify(r.value)}`;
  const t = text(r);
  return JSON.stringify(t.length > 100 ? `${t.slice(0, 97)}...` : t);
}
const listed = (rs: readonly ZoneRecord[]) => (rs.length > 1 ? `${rs.slice(0, -1).map(shown).join(', ')} and ${shown(rs[rs.length - 1])}` : shown(rs[0]));

/**
 * Why undoing change `changeId` would leave two records of one kind at a name where one must stand alone (two SPF
 * records at the apex, two DMARC at _dmarc, two _mailchannels, two DKIM at the selector) because one of that kind was
 * added there after the fix; null when it would not. `zone`: the zone now; `changes`: what the fix wrote; `inverse`:
 * the undo's changes (inverseChanges over `zone`). Only a name where the undo puts a record of the kind back counts: an
 * undo that only takes the fix's record out leaves whatever was added since as it is, and the records it puts back
 * stood together before the fix (its merge of several, undone) are no refusal either unless a new one joined them.
 * The fix left one record of the kind at its name (it merges or replaces all of them — or, of identical copies, removes
 * all but one), so one there now that is neither the fix's own nor a copy of a record it replaced was added since.
 */
export function undoLeavesTwo(domain: string, changeId: number, zone: Zone, changes: readonly Change[], inverse: readonly Change[]): string | null {
  // The zone as the undo would leave it.
  const after = [...zone.records];
  for (const c of inverse) {
    if (c.before) {
      const i = after.findIndex((r) => r === c.before || (sameRecord(r, c.before!) && r.ttl === c.before!.ttl));
      if (i >= 0) after.splice(i, 1);
    }
    if (c.after) after.push(c.after);
  }
  const seen = new Set<string>();
  for (const c of inverse) {
    const name = canonName(c.name);
    if (seen.has(name)) continue;
    seen.add(name);
    const kind = soleRecordKindAt(name, domain);
    if (!kind) continue;
    const back = inverse.filter((x) => canonName(x.name) === name && x.after && kind.is(x.after)).map((x) => x.after!);
    if (!back.length) continue;
    const left = recordsAt(after, name).filter(kind.is);
    if (left.length < 2) continue;
    const now = recordsAt(zone.records, name).filter(kind.is);
    // The zone holds every record of the change as the fix left it (inverseChanges checked the copies): one identical to
    // its after is the fix's, one identical to its before a copy the fix left (of two identical records it removed one).
    const isFixs = (r: ZoneRecord) => changes.some((x) => x.after && sameRecord(x.after, r));
    const wasThere = (r: ZoneRecord) => !isFixs(r) && changes.some((x) => x.before && sameRecord(x.before, r));
    const since = now.filter((r) => !isFixs(r) && !wasThere(r));
    if (!since.length) continue;
    const fixs = now.filter(isFixs);
    const kept = now.filter(wasThere);
    const one = since.length === 1;
    const groups: [ZoneRecord[], string][] = [
      [fixs, `written by change ${changeId}`],
      [kept, 'there before it'],
      [since, 'added since'],
    ];
    const nowSaid =
      now.length === since.length
        ? `${name} holds ${one ? 'a' : since.length} ${kind.label} record${one ? '' : 's'} added since change ${changeId}: ${listed(since)}`
        : `${name} holds ${now.length} ${kind.label} records now: ${groups
            .filter(([rs]) => rs.length)
            .map(([rs, what]) => `${listed(rs)}, ${what}`)
            .join(', and ')}`;
    const how = inverse.filter((x) => x.after && back.includes(x.after));
    const did = how.every((x) => x.action === 'add') ? 'removed' : how.every((x) => x.action === 'edit') ? 'replaced' : 'replaced or removed';
    const keep =
      one && !kept.length
        ? fixs.length
          ? `to keep the one added since, leave change ${changeId} as it is and delete the record it wrote (${listed(fixs)}) in the panel, so that one ${kind.label} record is left`
          : `to keep the one added since, leave change ${changeId} as it is`
        : `to keep ${one ? 'the one' : 'one of those'} added since, leave change ${changeId} as it is and delete the other ${kind.label} records at ${name} in the panel, so that one is left`;
    return (
      `Not undone: ${nowSaid}. Undoing change ${changeId} would put back ${listed(back)} beside the ${one ? 'one' : 'ones'} added since, leaving ${left.length} ${kind.label} records there: ${kind.harm}. ` +
      `Nothing was written. To go back to the record${back.length > 1 ? 's' : ''} change ${changeId} ${did}, delete the ${kind.label} record${one ? '' : 's'} added since in the panel's DNS editor, then undo change ${changeId} again; ${keep}.`
    );
  }
  return null;
}

/**
 * Why undoing change `changeId` would leave an alias (CNAME) beside other data at a name (aliasClash), or null: a record
 * put back at a name the customer has made an alias since (the _dmarc TXT a DMARC fix removed, the name now pointed at
 * a DMARC service), or an alias put back at a name that holds other records now. The zone would be invalid
 * (ALIAS_ALONE), so nothing is written and nothing recorded: the change stays undoable once the name is as it was.
 * `zone`: the zone now; `inverse`: the undo's changes (inverseChanges over `zone`).
 */
export function undoBesideAlias(changeId: number, zone: Zone, inverse: readonly Change[]): string | null {
  const [clash] = aliasClash(zone.records, inverse);
  if (!clash) return null;
  const how = inverse.find((c) => c.after === clash.added);
  const did = how?.action === 'edit' ? 'replaced' : 'removed';
  if (clash.added !== clash.alias) {
    return (
      `Not undone: ${clash.name} is now ${anAlias(clash.alias)}: undoing change ${changeId} would put the ${clash.added.type.toUpperCase()} record ${shown(clash.added)} back beside it, and ${ALIAS_ALONE}. ` +
      `Nothing was written. To go back to the record change ${changeId} ${did}, remove the alias in the panel's DNS editor first, then undo change ${changeId} again; to keep the alias, leave change ${changeId} as it is.`
    );
  }
  const now = clash.others.filter((r) => zone.records.includes(r));
  const beside = now.length ? now : clash.others;
  return (
    `Not undone: undoing change ${changeId} would put ${anAlias(clash.alias)} back at ${clash.name}, which ${now.length ? 'now holds' : 'would also hold'} ${typedList(beside)}, and ${ALIAS_ALONE}. ` +
    `Nothing was written. To go back to the alias change ${changeId} ${did}, delete ${beside.length === 1 ? 'that record' : 'those records'} at ${clash.name} in the panel's DNS editor first, then undo change ${changeId} again; to keep ${beside.length === 1 ? 'it' : 'them'}, leave change ${changeId} as it is.`
  );
}

/** Records with their types, for messages: `the TXT record "…"`, `the TXT records "…" and "…"` (one type), or one by one. */
function typedList(rs: readonly ZoneRecord[]): string {
  const types = [...new Set(rs.map((r) => r.type.toUpperCase()))];
  if (types.length === 1) return `the ${types[0]} record${rs.length > 1 ? 's' : ''} ${listed(rs)}`;
  const each = rs.map((r) => `the ${r.type.toUpperCase()} record ${shown(r)}`);
  return `${each.slice(0, -1).join(', ')} and ${each[each.length - 1]}`;
}

/**
 * A clean-up's put-back that would leave an alias beside other data (settleLeftovers, reconcileOne's restore: the name
 * made an alias, or given other records, while the write was failing), in words for the history.
 */
function aliasClashSaid(clashes: readonly AliasClash[]): string {
  const each = clashes.map((c) =>
    c.added === c.alias
      ? `putting ${anAlias(c.alias)} back at ${c.name} would leave it beside ${typedList(c.others)}`
      : `${c.name} is now ${anAlias(c.alias)}, and putting the ${c.added.type.toUpperCase()} record ${shown(c.added)} back would leave it beside the alias`,
  );
  return `${each.join('; ')} (${ALIAS_ALONE})`;
}

/** What to do about a later change `standing` on the records of change `changeId` (undo refusals). */
function standingSaid(changeId: number, standing: number): string {
  return `Undo change ${standing} first, then change ${changeId} (the newest change of these records is undone first).`;
}

/**
 * Undo change `changeId`: its inverse changes, under the domain's lock, written like a fix (intent first, the panel
 * write, the outcome, verification). A domain locked by another fix is waited for as a fix waits (LockWait): an undo
 * issued while another process's fix runs on the domain goes through once that fix is done, and is refused with the
 * fix's words when the wait runs out.
 */
/**
 * Changes as an outcome answers them: without the copy counts (copiesBefore/After), the history's own bookkeeping for
 * an undo — a fix's and an undo's answer alike (the CLI's and the API's JSON show outcomes as they are).
 */
export function withoutCopies<T extends Change>(changes: readonly T[]): Omit<T, 'copiesBefore' | 'copiesAfter'>[] {
  return changes.map(({ copiesBefore: _b, copiesAfter: _a, ...c }) => c);
}

export async function undoChange(changeId: number, deps: ApplyDeps): Promise<ApplyOutcome> {
  // A guard's afterRead, as for a fix (no surface passes one to an undo today); the history watched, as for a fix.
  const d = forThisCall(deps);
  return withFault(await undoWatched(changeId, d), d);
}

async function undoWatched(changeId: number, deps: ApplyDeps): Promise<ApplyOutcome> {
  // An undo interrupted by an older version between its outcome and the marking of this change: mark it first, so it
  // is not undone twice (cheap: usually nothing to do; a busy database leaves it for next time).
  try {
    deps.history.repairUndoLinks();
  } catch (e) {
    if (!isDbBusy(e)) throw e;
  }
  const ch = deps.history.getChange(changeId);
  if (!ch) return { status: 'refused', reason: `No change ${changeId} in the history.` };
  if (ch.status === 'intent') {
    return { status: 'refused', reason: stillRunningReason(changeId, ch.domain, heldBy(deps.history, ch.domain)?.expiresAt) };
  }
  if (ch.undoneBy) return { status: 'refused', reason: `Change ${changeId} was already undone by change ${ch.undoneBy}.` };
  if (ch.status !== 'applied') return { status: 'refused', reason: `Change ${changeId} is ${ch.status}, not applied: nothing to undo.` };
  // Everything from here on is judged again under the lock, after any wait.
  const lockWait = new LockWait(deps.history, ch.domain, deps.lockWaitMs);
  for (;;) {
    try {
      return await undoUnderLock(ch, deps);
    } catch (e) {
      if (!(e instanceof LockNotTaken)) throw e;
    }
    if (!lockWait.worthIt()) return { status: 'refused', reason: anotherFixReason(ch.domain, heldBy(deps.history, ch.domain)) };
    await lockWait.pause();
  }
}

/** undoChange under the domain's lock; LockNotTaken when another fix holds it (nothing ran). */
async function undoUnderLock(ch: StoredChange, deps: ApplyDeps): Promise<ApplyOutcome> {
  const changeId = ch.id;
  const owner = lockOwner(deps.history, deps.byUser);
  let entered = false;
  let undoId: number | null = null;
  let written: 'no' | 'maybe' | 'yes' = 'no';
  try {
    const outcome = await withDomainLock(deps.history, ch.domain, owner, async (gone) => {
      entered = true;
      // What an interrupted fix on this domain left open is settled first: the undo is judged against a settled zone.
      const orphaned = await settleOrphans(ch.domain, gone, owner, deps);
      if (orphaned) return { status: 'refused' as const, reason: orphaned };
      // Judged again under the lock: another undo of this change may have run between the check above and now.
      const now = deps.history.getChange(changeId);
      if (now?.undoneBy) return { status: 'refused' as const, reason: `Change ${changeId} was already undone by change ${now.undoneBy}.` };
      if (now?.status !== 'applied') return { status: 'refused' as const, reason: `Change ${changeId} is ${now?.status ?? 'gone from the history'}, not applied: nothing to undo.` };
      const zone = await deps.panel.readZone(ch.domain);
      if (ch.changes.length === 0) {
        return {
          status: 'refused' as const,
          reason: `Change ${changeId} changed no record (it had the panel start signing ${ch.domain}'s mail with the DKIM key already published): nothing to undo here. To stop signing, turn DKIM signing off for ${ch.domain} in the panel's DKIM settings.`,
        };
      }
      // The zone holds this change's records exactly as they were before it (QA h3 D7: a write the panel answered but
      // never made, recorded as applied by an older version): there is nothing of it to take back — said as such, not as
      // "changed after this fix".
      if (holdsBefore(zone, ch.changes) && !holdsAfter(zone, ch.changes)) {
        return {
          status: 'refused' as const,
          reason: `Not undone: the zone holds the records at ${touched(ch.changes)} as they were before change ${changeId} — it was never written (the panel answered the write but did not make it), or was taken back since: there is nothing of it to undo. Nothing was written.`,
        };
      }
      /** A later change that still stands on these records (see standingOnSameRecords): its records are not this one's. */
      const standing = standingOnSameRecordsIn(ch, deps.history);
      const inv = inverseChanges(zone, ch.changes);
      if ('reason' in inv) {
        // A later fix of the same records (recorded, still standing) is the "later edit": name it — undoing it first
        // puts this change's records back, and then this one can be undone.
        const by = replacedIn(ch, deps.history);
        if (by !== null) return { status: 'refused' as const, reason: `${inv.reason} Change ${by}, a later fix, replaced these records: undo change ${by} first, then this one.` };
        return { status: 'refused' as const, reason: standing === null ? inv.reason : `${inv.reason} ${standingSaid(changeId, standing)}` };
      }
      // The zone is as this change left it, but a later change that still stands wrote (or changed) the same records: they
      // are that change's now, and undoing this one would take them back while the history goes on calling that change
      // applied (QA h3 D7: the undo of a phantom change reverted the retry that wrote the records). Refused.
      if (standing !== null) {
        return { status: 'refused' as const, reason: `Not undone: change ${standing}, made after change ${changeId}, also changed the records at ${touched(ch.changes)} and still stands — undoing change ${changeId} now would take back change ${standing}'s records. ${standingSaid(changeId, standing)} Nothing was written.` };
      }
      // The records it puts back must not stand beside one of the same kind added since (QA D2: a second DMARC record
      // the customer published after the fix, and the undo restored the old one beside it, "undone, verified yes").
      const twice = undoLeavesTwo(ch.domain, changeId, zone, ch.changes, inv.changes);
      if (twice) return { status: 'refused' as const, reason: twice };
      // Nor beside an alias the customer made of the name since, nor as an alias beside records added since (review
      // R5: the DMARC fix's undo put its stray TXT back beside a CNAME to a DMARC service — "undone", and BIND refused
      // to load the zone). Before the intent: nothing is recorded, so the change can be undone once the alias is gone.
      const besideAlias = undoBesideAlias(changeId, zone, inv.changes);
      if (besideAlias) return { status: 'refused' as const, reason: besideAlias };
      if (ch.changes.some((c) => c.keyGenerated)) {
        const why = await undoBreaksSigning(ch.domain, inv.changes, deps);
        if (why) return { status: 'refused' as const, reason: why };
      }
      inv.changes = withCopies(zone, inv.changes);
      const base = { domain: ch.domain, check: ch.check as FixKind, mode: 'apply' as const, changes: inv.changes, actions: [], zoneVersion: zone.version, options: {} };
      const plan: Plan = { ...base, planHash: hashPlan(base), notes: [`Undo of change ${changeId}.`] };
      // Guard: 'intent' (the undo's).
      const id = recordIntentGuarded(deps, { domain: ch.domain, check: ch.check, planHash: plan.planHash, zoneVersion: zone.version, changes: inv.changes, byUser: deps.byUser, undoOf: changeId });
      undoId = id;
      // Immediately before the write: still the domain's lock holder, the undo's intent still open.
      const lost = leaseLost(deps, ch.domain, owner, id);
      if (lost) {
        deps.history.settleIntent(id, { status: 'failed', error: `refused before the write: ${lost}; nothing was written` });
        return { status: 'refused' as const, reason: `Not undone: ${lost}. Nothing was written to the zone; try again.` };
      }
      written = 'maybe';
      let after: string;
      try {
        // Guard: 'records' — a stop is this write failing (the catch below), as for a fix.
        after = (await keepingLease(deps, ch.domain, owner, () => guardedWrite(deps, 'records', id, () => deps.panel.applyChanges(ch.domain, inv.changes, zone.version)))).version;
      } catch (e) {
        if (e instanceof PanelError && e.code === 'no-answer') {
          keepLockedForSettling(ch.domain, owner, deps.history);
          return {
            status: 'failed' as const,
            changeId: id,
            reason: `${e.message}: whether the undo was written is not known yet. mailhealth checks the zone again in about ${Math.round(LOCK_TTL_MS / 60_000)} minutes (the history shows it as pending until then).`,
          };
        }
        // As for a fix (applyPlan): an adapter that undid its own steps says what it could not undo
        // (PartialWriteError); any other failure may have left part of the undo in the zone (record-by-record panels).
        // QA: a Plesk undo whose rollback failed was closed as failed with the old SPF record deleted and the new one
        // not added — the domain without SPF, and the change no longer undoable.
        const left = e instanceof PartialWriteError ? e.leftWritten : null;
        if (e instanceof PanelError && e.code === 'busy') {
          written = 'no';
          deps.history.settleIntent(id, { status: 'failed', error: `refused: ${e.message}` });
          return { status: 'refused' as const, reason: `Not undone: ${e.message}.` };
        }
        if (e instanceof PanelError && e.code === 'stale' && !left?.length) {
          written = 'no';
          deps.history.settleIntent(id, { status: 'failed', error: `refused: ${e.message}` });
          return { status: 'refused' as const, reason: 'The zone changed while undoing; nothing was changed. Try again.' };
        }
        const reason = said(e);
        if (left) {
          const settled = await settleLeftovers(id, ch.domain, left, reason, owner, deps);
          return { status: 'failed' as const, changeId: id, reason: reason + leftoversSaid(settled, 'undo', id, ch.domain, left) };
        }
        const fromZone = await settleFromZone(id, reason, owner, deps);
        if ('recheck' in fromZone) return { status: 'failed' as const, changeId: id, reason: fromZone.recheck };
        const settled = fromZone.outcome;
        if (settled !== 'applied') return { status: 'failed' as const, changeId: id, reason: reason + fromZoneSaid(fromZone, id, ch.domain, inv.changes) };
        // The zone holds the whole undo after all (recorded by reconcileOne, the change it undoes marked reverted).
        written = 'yes';
        const verified = await verify(ch.domain, inv.changes, deps).catch(() => 'propagating' as const);
        if (fromZone.unrecorded) {
          // Not recorded after all: the undo stands in the zone, pending in the history (nothing to verify onto).
          const note = unrecordedAfterWrite(id, ch.domain, historyWords(fromZone.unrecorded.cause));
          return { status: 'applied' as const, changeId: id, verified, plan: { ...plan, changes: withoutCopies(plan.changes) }, message: `${undoneMessage(verified, inv.changes)} — ${note}` };
        }
        let unverified = '';
        try {
          deps.history.setVerified(id, verified);
        } catch (ve) {
          // The outcome is recorded: only the verification is missing — said, never thrown (the undo was written).
          unverified = ` — ${unverifiedNote(historyWords(ve))}`;
        }
        return { status: 'applied' as const, changeId: id, verified, plan: { ...plan, changes: withoutCopies(plan.changes) }, message: undoneMessage(verified, inv.changes) + unverified };
      }
      // The panel answered the undo as done: its zone, read right after, decides (settleAnswered) — an undo the panel
      // answered but did not write is no undo: the change stays applied, not marked reverted.
      const answered = await settleAnswered(id, ch.domain, inv.changes, 'undo', owner, deps);
      if ('failed' in answered) return { status: 'failed' as const, changeId: id, reason: answered.failed };
      written = 'yes';
      const checked = 'recorded' in answered ? undefined : answered;
      const unreadNote = checked && 'unread' in checked ? uncheckedSaid(checked.unread) : null;
      // The undo applied and the change it undoes marked undone and reverted: one transaction (recordUndone) — or done
      // already by settleAnswered (reconcileOne found the whole undo in the zone after all).
      const record = () => {
        if ('recorded' in answered) {
          if (answered.recorded) throw answered.recorded.cause;
          return true;
        }
        return deps.history.recordUndone(id, { zoneVersionAfter: after, ...(unreadNote ? { error: unreadNote } : {}) });
      };
      const done = await afterWrite(id, ch.domain, inv.changes, record, deps, checked);
      if ('failed' in done) return { status: 'failed' as const, changeId: id, reason: done.failed };
      const { verified } = done;
      const head = done.unchecked !== null ? `undone, but ${uncheckedSaid(done.unchecked)}` : undoneMessage(verified, inv.changes);
      const message = done.note ? `${head} — ${done.note}` : head;
      return { status: 'applied' as const, changeId: id, verified, plan: { ...plan, changes: withoutCopies(plan.changes) }, message };
    }, keepIfKept(owner));
    return outcome;
  } catch (e) {
    if (isHeldLock(e) && !entered) throw new LockNotTaken();
    if (isHeldLock(e)) return { status: 'refused', reason: anotherFixReason(ch.domain, heldBy(deps.history, ch.domain)) };
    // A busy history database; or a failing one once the undo recorded its intent (or may have written): an answer
    // saying what it left, as for a fix (applyUnderLock) — before that nothing was recorded or written: the error stands.
    const why = isDbBusy(e) ? DB_BUSY : isHistoryFailure(e) && (undoId !== null || written !== 'no') ? DB_FAILED : null;
    if (why !== null) {
      const domain = ch.domain;
      if (written === 'no') {
        const pending = undoId !== null ? ` The undo was recorded as change ${undoId}, about to be written; it stays pending until mailhealth checks the zone and closes it (nothing of it was written).` : '';
        return { status: 'refused', reason: `${capital(why)}: nothing was written to ${domain}'s zone.${pending} ${tryAgain(why)}` };
      }
      return {
        status: 'failed',
        ...(undoId !== null ? { changeId: undoId } : {}),
        reason: `${written === 'yes' ? `The undo (change ${undoId}) was written to ${domain}'s zone, but ${why}: its outcome could not be recorded.` : `The panel's write of the undo (change ${undoId}) did not go through cleanly, and ${why}: what it left in ${domain}'s zone could not be recorded.`} The history shows the undo as pending until mailhealth checks the zone: at the next fix or undo on ${domain}, or by the running service, once the domain's lock is free (within about ${minutes(LOCK_TTL_MS)}).`,
      };
    }
    throw e;
  }
}

/**
 * The DKIM fix when the server's key is published as it should be and the panel only has to sign with it (cPanel: its
 * check of the published key, which sets the validity cache; Plesk and the files panel: the domain's signing switch).
 * Recorded in the history like any fix, with no record changes: the intent first, then the panel's call, then the
 * settings read back — applied when the panel signs with the key published at the selector, failed (with the reason)
 * when it does not. A call the panel never answered leaves the intent open and the domain locked: reconcile settles it
 * later from whether the panel signs (reconcileOne), as after a crash.
 */
async function startSigning(
  domain: string,
  plan: Plan,
  owner: string,
  deps: ApplyDeps,
  progress: { changeId: number | null; written: 'no' | 'maybe' | 'yes' },
): Promise<ApplyOutcome> {
  if (!deps.panel.startDkimSigning) {
    return { status: 'refused', reason: `The ${deps.panel.kind} panel cannot be asked to start DKIM signing from here: turn DKIM signing on for ${domain} in the panel's DKIM settings.`, why: 'blocked' };
  }
  // Guard: 'intent'.
  const changeId = recordIntentGuarded(deps, { domain, check: plan.check, planHash: plan.planHash, zoneVersion: plan.zoneVersion, changes: [], byUser: deps.byUser });
  progress.changeId = changeId;
  deps.crashPoint?.('after-intent');
  // Having the panel sign is a write: still the domain's lock holder, the intent still open — else nothing is asked.
  const lost = leaseLost(deps, domain, owner, changeId);
  if (lost) {
    deps.history.settleIntent(changeId, { status: 'failed', error: `refused before asking the panel: ${lost}; nothing was changed` });
    return { status: 'refused', reason: `Not done: ${lost}. The panel was not asked to sign and nothing was changed; preview the fix again.` };
  }
  progress.written = 'maybe';
  /**
   * The outcome onto the open intent. Settled meanwhile by another process (this fix outlasted its lease inside the
   * panel's call): the record is corrected with what the panel did after all (recordLateWrite), and the note returned.
   */
  const close = async (outcome: { status: 'applied' | 'failed'; zoneVersionAfter?: string | null; verified?: Verified | null; error: string }): Promise<string | null> => {
    if (await throughBusy(() => deps.history.settleIntent(changeId, outcome))) return null;
    const cur = deps.history.getChange(changeId);
    if (!cur || cur.status === outcome.status) return null;
    const note = `late: change ${changeId} had been settled as ${cur.status} by another mailhealth process before the panel's answer (this fix outlasted ${itsLock(domain)}); what the panel did: ${outcome.error}`;
    await throughBusy(() => deps.history.recordLateWrite(changeId, { expected: cur.status, reopen: outcome.status === 'applied', zoneVersionAfter: outcome.zoneVersionAfter, note }));
    return note;
  };
  /**
   * A failure recorded; '' or, when the history could not record it, a sentence saying so (never thrown: the panel was
   * asked, and may sign now whatever it answered — review: the fix rejected with the database's own error).
   */
  const recordFailed = async (error: string): Promise<string> => {
    try {
      // A late note (the intent settled meanwhile) is recorded; the reason says it all already.
      await close({ status: 'failed', error });
      return '';
    } catch (e) {
      return ` Its outcome could not be recorded yet (${historyWords(e)}): ${pendingUntilSettled(changeId, domain, 'whether the panel signs')}.`;
    }
  };
  let after: MailSettings;
  try {
    // Guard: 'start-signing' — a stop is the panel failing to start signing (the catch below).
    after = await keepingLease(deps, domain, owner, () => guardedWrite(deps, 'start-signing', changeId, () => deps.panel.startDkimSigning!(domain)));
  } catch (e) {
    if (e instanceof PanelError && e.code === 'no-answer') {
      keepLockedForSettling(domain, owner, deps.history);
      return {
        status: 'failed',
        changeId,
        reason: `${e.message}: whether the panel started signing is not known yet. mailhealth asks it again in about ${Math.round(LOCK_TTL_MS / 60_000)} minutes (the history shows the change as pending until then); no DNS record was changed.`,
      };
    }
    // What the panel did before it failed: whether it signs now is what matters (no record was written by mailhealth).
    const now = await deps.panel.readMailSettings(domain).catch(() => null);
    const state = now === null ? 'whether it signs now could not be read' : now.dkim.signing ? 'it signs now' : 'it still does not sign';
    const reason = `The panel could not start DKIM signing for ${domain} (${said(e)}); ${state}. mailhealth changed no DNS record.`;
    return { status: 'failed', changeId, reason: reason + (await recordFailed(reason)) };
  }
  progress.written = 'yes';
  deps.crashPoint?.('after-write');
  const name = `${after.dkim.selector}._domainkey.${domain}`;
  if (!after.dkim.signing) {
    const reason =
      after.dkim.startSigning === 'recheck'
        ? 'The panel checked the DKIM key again but still does not sign: its check reads public DNS, which may not show the key yet. Try again once DNS has caught up; nothing was changed.'
        : `The panel was asked to turn DKIM signing on for ${domain}, but its settings still show signing off; no DNS record was changed. Turn it on in the panel's DKIM settings.`;
    return { status: 'failed', changeId, reason: reason + (await recordFailed(reason)) };
  }
  // Signing: with the key published at the selector? (A panel that made a new key on the way would sign with a key
  // whose record is not published — every signed message failing DKIM.)
  const verified = await verifySigning(domain, deps, after, plan.zoneVersion).catch((): Verified => 'propagating');
  const zoneVersionAfter = (await deps.panel.readZone(domain).catch(() => null))?.version ?? plan.zoneVersion;
  /** The outcome recorded; a late note or a busy database said in the message. */
  const recordApplied = async (error: string): Promise<string> => {
    try {
      const late = await close({ status: 'applied', zoneVersionAfter, verified, error });
      return late ? ` — ${late}` : '';
    } catch (e) {
      // The panel signs: said, never thrown, whatever kept the history from recording it.
      return ` — the panel signs now, but ${historyWords(e)} and the outcome could not be recorded yet: the history shows change ${changeId} as pending until mailhealth settles it: at the next fix or undo on ${domain}, or by the running service, once the domain's lock is free (within about ${minutes(LOCK_TTL_MS)})`;
    }
  };
  if (verified === 'no') {
    const note = `The panel signs ${domain}'s mail now, but not with the key published at ${name} (it may have made a new key): until that key is published, mail it signs fails DKIM. Preview and apply the DKIM fix again to publish it.`;
    const more = await recordApplied(note);
    return { status: 'applied', changeId, verified, plan, message: `signing turned on, but not with the published key: ${note}${more}` };
  }
  // What was done, for the history (the change lists no record).
  const more = await recordApplied(`the panel signs ${domain}'s mail now, with the DKIM key published at ${name}; no DNS record was changed`);
  return { status: 'applied', changeId, verified, plan, message: (verified === 'yes' ? 'signing turned on (the panel signs with the published key)' : 'signing turned on') + more };
}

/**
 * Why undoing a DKIM fix that had the panel generate a key (and turn signing on) would leave things worse than before
 * it: the server keeps signing with the new key while the undo takes that key out of DNS, so every signed message
 * fails DKIM. Null when signing is off again (or the server signs with another key). Undo then waits for that.
 */
async function undoBreaksSigning(domain: string, changes: Change[], deps: ApplyDeps): Promise<string | null> {
  const settings = await deps.panel.readMailSettings(domain);
  const key = settings.dkim.publicKey;
  if (!settings.dkim.signing || !key) return null;
  const mine = canonicalKey(key);
  const isMine = (r: ZoneRecord | null | undefined) => mine !== null && publishedKey(r) === mine;
  const removesMine = changes.some((c) => isMine(c.before) && !isMine(c.after));
  const addsMine = changes.some((c) => isMine(c.after));
  if (!removesMine || addsMine) return null;
  return `Undoing this would take the key this server signs ${domain}'s mail with out of DNS: every message it signs would fail DKIM. Turn DKIM signing off for ${domain} in the panel first, then undo (or keep the fix).`;
}

/**
 * The records at the names and types `changes` touch that are not one of their before/after records (for SPF, only
 * SPF records count: the apex's other TXT records are not the fix's). Any such record means someone else edited
 * these names after the write began.
 */
function foreignRecords(zone: Zone, changes: Change[]): ZoneRecord[] {
  const ours = changes.flatMap((c) => [c.before, c.after]).filter((r): r is ZoneRecord => r !== null && r !== undefined);
  const seen = new Set<string>();
  const foreign: ZoneRecord[] = [];
  for (const c of changes) {
    const key = `${canonName(c.name)} ${c.type.toUpperCase()}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const spfOnly = ours.some((r) => canonName(r.name) === canonName(c.name) && r.type.toUpperCase() === 'TXT' && isSpfRecord(text(r)));
    for (const r of recordsAt(zone.records, c.name, c.type)) {
      if (spfOnly && !isSpfRecord(text(r))) continue;
      // A TXT the fix does not own (a verification token at _dmarc) is no edit of these records (see owned.ts).
      if (r.type.toUpperCase() === 'TXT' && !fixOwnsTxt(r.name, text(r))) continue;
      if (!ours.some((o) => sameRecord(o, r))) foreign.push(r);
    }
  }
  return foreign;
}

/**
 * After a panel write that failed without saying what it left (no PartialWriteError) — part of it may be in the zone
 * whatever kind of panel it is: what the zone holds now decides, as after a crash (reconcileOne, partial): the outcome
 * it recorded ('applied', 'restored', 'conflict', 'not-written', 'settled meanwhile'), or `recheck`, the answer's reason
 * when the zone could not be re-checked (the intent stays open for the next start).
 */
async function settleFromZone(
  changeId: number,
  reason: string,
  owner: string,
  deps: ApplyDeps,
  when = `after the failed write (${reason})`,
): Promise<{ outcome: string | undefined; unrecorded: Unrecorded | null } | { recheck: string }> {
  const found: { id: number; outcome: string }[] = [];
  try {
    const pending = deps.history.getChange(changeId);
    if (pending) await reconcileOne(pending, deps, found, when, owner, true);
  } catch (re) {
    // The zone re-checked (and maybe records put back), only the outcome not recorded: said as such (unrecorded).
    if (re instanceof Unrecorded) return { outcome: re.found, unrecorded: re };
    if (isDbBusy(re)) throw re;
    return { recheck: `${reason}; the zone could not be re-checked (${said(re)}): mailhealth checks it again at the next start` };
  }
  return { outcome: found[0]?.outcome, unrecorded: null };
}

/**
 * reconcileOne found (and did) `found` — 'applied', 'not-written', 'conflict', 'restored' (the old records put back) —
 * but the history failed (`cause`; never a busy database, which is thrown as it is) to record it: the intent stays open,
 * settled from the zone later. Thrown so that a caller can say what the zone holds rather than "not re-checked".
 */
class Unrecorded extends Error {
  constructor(
    readonly found: string,
    override readonly cause: unknown,
  ) {
    super(`the outcome (${found}) could not be recorded`);
  }
}
/** The history's own error behind `e` (an Unrecorded's cause). */
const historyCause = (e: unknown) => (e instanceof Unrecorded ? e.cause : e);

/**
 * After a write the panel's adapter undid itself, except `left` (PartialWriteError): put back exactly those steps —
 * a record it added is taken out, a record it deleted is added again (each only if the zone still shows that step) —
 * and nothing else: a record of the plan missing for another reason was removed by someone else and stays removed.
 * Closes the intent: 'not-written' (nothing left), 'restored', or 'review' (a step could not be put back: named) —
 * what happened in the zone, whether or not it could be recorded: `unrecorded` says why it was not (historyWords; the
 * intent then stays open and is settled from the zone later), null when it was. A failure to record is never reported
 * as a failure to put back (review: records put back, recording that failed, and the intent closed as "putting it back
 * failed" — then the fix rejected with the database's own error after two zone writes). A busy database before the
 * clean-up write throws (the fix's busy answer: what the write left is checked later).
 */
async function settleLeftovers(
  changeId: number,
  domain: string,
  left: readonly Change[],
  reason: string,
  owner: string,
  deps: ApplyDeps,
): Promise<{ outcome: 'not-written' | 'restored' | 'review'; unrecorded: string | null }> {
  /** The outcome onto the open intent; null when recorded, else why not (retried through a busy database). */
  const record = async (outcome: Parameters<History['settleIntent']>[1]): Promise<string | null> => {
    try {
      await throughBusy(() => deps.history.settleIntent(changeId, outcome));
      return null;
    } catch (e) {
      return historyWords(e);
    }
  };
  if (!left.length) {
    const unrecorded = await record({ status: 'failed', error: `${reason} — every step the panel had taken was undone: nothing of this write is in the zone` });
    return { outcome: 'not-written', unrecorded };
  }
  const name = (r: ZoneRecord) => `${r.name} ${r.type} ${JSON.stringify(text(r).slice(0, 80))}`;
  const steps = left.map((c) => (c.action === 'add' && c.after ? `added ${name(c.after)}` : c.before ? `removed ${name(c.before)}` : `${c.action} ${c.name} ${c.type}`));
  let v: string;
  try {
    const zone = await deps.panel.readZone(domain);
    const restore: Change[] = [];
    for (const c of left) {
      if (c.action === 'add' && c.after) {
        const cur = findRecord(zone, c.after);
        if (cur) restore.push({ action: 'remove', name: cur.name, type: cur.type, ttl: cur.ttl, before: cur, after: null });
      } else if (c.action === 'remove' && c.before && !findRecord(zone, c.before)) {
        const { ref: _ref, ...rest } = c.before;
        restore.push({ action: 'add', name: rest.name, type: rest.type, ttl: rest.ttl, before: null, after: rest });
      }
    }
    if (!restore.length) {
      // The zone no longer shows any of those steps (taken back, or changed by someone else since): nothing to put back.
      const unrecorded = await record({ status: 'failed', error: `${reason} — the zone no longer shows what this write had left (${steps.join('; ')}): nothing of this write is in it, nothing was written` });
      return { outcome: 'not-written', unrecorded };
    }
    // A record put back beside an alias made since (or an alias beside records added since) is an invalid zone: nothing
    // is put back, the steps are left for review (as a step that could not be put back).
    const clashes = aliasClash(zone.records, restore);
    if (clashes.length) {
      const unrecorded = await record({ status: 'failed', error: `${reason} — partly written, and not put back: ${aliasClashSaid(clashes)}; nothing else was written: review ${steps.join('; ')}` });
      return { outcome: 'review', unrecorded };
    }
    // Putting records back is a write: the domain still this fix's, the intent still open — else it is left as it is
    // (whoever holds the domain now settles the intent from the zone).
    const lost = leaseLost(deps, domain, owner, changeId);
    if (lost) return { outcome: 'review', unrecorded: null };
    // Guard: 'cleanup' — the fix's own write was sent; a stop would be this clean-up failing (the catch below: 'review').
    v = (await keepingLease(deps, domain, owner, () => guardedWrite(deps, 'cleanup', changeId, () => deps.panel.applyChanges(domain, restore, zone.version)))).version;
  } catch (e) {
    if (isDbBusy(e)) throw e;
    // Nothing was put back (the zone unread, the clean-up write failed, or the history failed before it).
    const unrecorded = await record({ status: 'failed', error: `${reason} — partly written, and putting it back failed (${said(e)}): review ${steps.join('; ')}` });
    return { outcome: 'review', unrecorded };
  }
  // Put back: that is the outcome, recorded or not.
  const unrecorded = await record({ status: 'restored', zoneVersionAfter: v, error: `${reason} — partly written: put back what this write had left (${steps.join('; ')}); nothing else was written` });
  return { outcome: 'restored', unrecorded };
}

/** What settleFromZone found (not 'applied'), for the answer's reason (after the panel's words): recorded or not. */
function fromZoneSaid(fromZone: { outcome: string | undefined; unrecorded: Unrecorded | null }, changeId: number, domain: string, changes: readonly Change[]): string {
  const { outcome, unrecorded } = fromZone;
  const unsaid = unrecorded ? ` — this could not be recorded (${historyWords(unrecorded.cause)}): ${pendingUntilSettled(changeId, domain)}` : '';
  if (outcome === 'restored') return ` — the records written before the failure were put back${unsaid}`;
  if (outcome === 'conflict') return unrecorded ? ` — the zone was also edited meanwhile: review the records at ${touched(changes)}${unsaid}` : ' — the zone was also edited meanwhile; see history';
  return unrecorded ? ` — nothing of this write is in the zone${unsaid}` : '';
}

/** What settleLeftovers did, for the answer's reason (after the panel's words): put back or not, recorded or not. */
function leftoversSaid(settled: Awaited<ReturnType<typeof settleLeftovers>>, what: 'write' | 'undo', changeId: number, domain: string, left: readonly Change[]): string {
  const unrecorded = settled.unrecorded !== null ? ` — this could not be recorded (${settled.unrecorded}): ${pendingUntilSettled(changeId, domain)}` : '';
  if (settled.outcome === 'restored') return ` — the records written before the failure were put back${unrecorded}`;
  if (settled.outcome === 'review') {
    // "see history" only when the history has it.
    return unrecorded ? ` — some records this ${what} changed could not be put back: review the records at ${touched(left)}${unrecorded}` : ` — some records this ${what} changed could not be put back; see history`;
  }
  return unrecorded ? ` — nothing of this ${what} is in the zone${unrecorded}` : '';
}

/**
 * What the history shows of a change whose outcome could not be recorded: pending, until it is settled from `from`
 * (what the zone holds, whether the panel signs) once the domain's lock is free.
 */
function pendingUntilSettled(changeId: number, domain: string, from = 'the zone'): string {
  return (
    `the history shows change ${changeId} as pending until mailhealth settles it from ${from}: at the next fix or undo ` +
    `on ${domain}, or by the running service, once the domain's lock is free (within about ${minutes(LOCK_TTL_MS)})`
  );
}

/**
 * On start: every intent without an outcome is reconciled, under the same domain lock as apply and undo (a domain
 * whose lock is held — a write in progress — is left for the next start) — the zone holds the new state → applied;
 * it holds the old state → failed (never written); anything in between, made only of this write's old and new
 * records, on a panel that writes record by record (Plesk) → partly written: the old records are put back; anything
 * else in between (a record that is neither, or any in-between state on a panel that writes a zone in one step) →
 * someone edited these names since: nothing is written, the intent is closed as failed with the records to review.
 */
export async function reconcile(deps: ApplyDeps, when = 'at start'): Promise<({ id: number; outcome: string } & HistoryFault)[]> {
  // A guard's afterRead, as for a fix (no surface passes one to reconcile today); the history watched, as for a fix:
  // an intent it could not settle says why in core's words ("error: …", which the CLI's undo quotes to the customer),
  // the history's own error on that result (HistoryFault) for the surface's log.
  deps = forThisCall(deps);
  const out: ({ id: number; outcome: string } & HistoryFault)[] = [];
  const owner = lockOwner(deps.history, deps.byUser);
  // An undo an older version left half recorded (its outcome written, the change it undid not marked): marked now, in
  // one transaction — cheap, usually nothing to do; a busy database leaves it for next time.
  try {
    deps.history.repairUndoLinks();
  } catch (e) {
    if (!isDbBusy(e)) throw e;
  }
  for (const ch of deps.history.pendingIntents()) {
    try {
      // A lock whose holder's process is gone (kill -9) is taken over at once: its intent is settled now.
      await withDomainLock(deps.history, ch.domain, owner, async (gone) => {
        // Re-read under the lock: an apply that held it may have closed this intent meanwhile.
        if (deps.history.getChange(ch.id)?.status !== 'intent') return;
        await reconcileOne(ch, deps, out, gone ? `${when}, at once: the process of the fix that recorded it is gone (${gone})` : when, owner);
      });
    } catch (e) {
      // Only a domain lock held by someone else is "a fix running"; a busy history database is an error (tried again).
      if (isHeldLock(e)) out.push({ id: ch.id, outcome: 'skipped: a fix on this domain is running' });
      else {
        // What it found but could not record is found again next time (the intent stays open): said as the failure — and
        // old records it put back (restored) said too: a write the result and the surface's log must not hide (review:
        // only the history's words were kept, and neither said the zone had been written).
        const cause = historyCause(e);
        const r = { id: ch.id, outcome: `error: ${said(cause)}${e instanceof Unrecorded ? unrecordedFinding(e.found) : ''}` };
        if (isHistoryFailure(cause)) Object.defineProperty(r, 'historyError', { value: cause, enumerable: false, configurable: true });
        out.push(r);
      }
    }
  }
  return out;
}

/**
 * What reconcileOne found but could not record (Unrecorded), after the history's words in a reconcile result's "error:
 * …", when it is more than the zone will show next time: 'restored' — reconcile put the old records back (a write to
 * the zone), and the next settling finds only "never written". Any other finding ('applied', 'not-written',
 * 'conflict') is the zone as it is, found again next time: '' (the CLI's undo quotes these words as "whether it was
 * written could not be checked yet (…)", unsettledUndoReason). No nested brackets: that quote brackets them.
 */
function unrecordedFinding(found: string): string {
  return found === 'restored' ? '; found: restored, not recorded: the old records were put back in the zone' : '';
}

/** A record of what reconcileOne found: a failing history (not a busy one) throws Unrecorded with `found`. */
function recording(found: string, record: () => boolean): boolean {
  try {
    return record();
  } catch (e) {
    if (isHistoryFailure(e)) throw new Unrecorded(found, e);
    throw e;
  }
}

/**
 * `partial`: the zone may hold part of this write (the panel's write failed just now, or the panel writes record by
 * record); else a zone that holds neither state was edited by someone else, and is left alone.
 */
async function reconcileOne(
  ch: StoredChange,
  deps: ApplyDeps,
  out: { id: number; outcome: string }[],
  when: string,
  owner: string,
  partial = deps.panel.capabilities.recordByRecordWrites === true,
): Promise<void> {
  // Every outcome goes onto the intent only while it is still open (settleIntent): one recorded meanwhile by the fix
  // itself (a write that outlasted its lease) is never overwritten.
  const settle = (outcome: Parameters<History['settleIntent']>[1], result: string) => {
    out.push({ id: ch.id, outcome: recording(result, () => deps.history.settleIntent(ch.id, outcome)) ? result : 'settled meanwhile' });
  };
  if (!ch.changes.length) {
    // An intent with no record changes is the DKIM fix that only has the panel start signing with its published key
    // (startSigning): the zone cannot tell whether that happened; whether the panel signs now can.
    const settings = await deps.panel.readMailSettings(ch.domain);
    if (settings.dkim.signing) {
      const verified = await verifySigning(ch.domain, deps, settings, ch.zoneVersionBefore ?? undefined).catch((): Verified => 'propagating');
      settle({ status: 'applied', zoneVersionAfter: ch.zoneVersionBefore, verified, error: `reconciled ${when}: the panel signs now` }, 'applied');
    } else {
      settle({ status: 'failed', error: `reconciled ${when}: the panel does not sign; no record was changed` }, 'not-written');
    }
    return;
  }
  if (ch.changes.some((c) => c.after?.value.includes(PLACEHOLDER_KEY))) {
    // Stopped while the panel generated the key: mailhealth never wrote the record (its key was not known yet). A panel
    // that publishes its new key itself (cPanel's enable_dkim, before the adapter puts the zone back) may have left it
    // in place of the old record: then the change is what the fix meant — recorded as applied with the real key, the
    // old record kept in the history (QA: it was "failed, may not be published", the old record only in a failed intent).
    const s = await deps.panel.readMailSettings(ch.domain).catch(() => null);
    const key = s?.dkim.signing ? s.dkim.publicKey : undefined;
    const zone = key ? await deps.panel.readZone(ch.domain).catch(() => null) : null;
    if (key && zone) {
      // The panel's own record of the key (its TTL and string splitting may differ from the one mailhealth would write).
      const bare = key.replace(/\s+/g, '');
      const publishedAt = (name: string) => recordsAt(zone.records, name, 'TXT').find((r) => text(r).replace(/\s+/g, '').includes(`p=${bare}`));
      const real = ch.changes.map((c): Change => {
        if (!c.after?.value.includes(PLACEHOLDER_KEY)) return c;
        const found = publishedAt(c.after.name);
        const after = found ? (({ ref: _ref, ...r }) => r)(found) : dkimRecordFor(c.after.name, c.after.ttl, key);
        return { ...c, after, keyGenerated: true };
      });
      const replaced = real.every((c) => c.action !== 'edit' || !c.before || !findRecord(zone, c.before));
      if (replaced && holdsAfter(zone, real)) {
        deps.history.reviseIntent(ch.id, { changes: real, zoneVersion: ch.zoneVersionBefore });
        const verified = await verify(ch.domain, real, deps).catch((): Verified => 'propagating');
        settle({ status: 'applied', zoneVersionAfter: zone.version, verified, error: `reconciled ${when}: interrupted while the panel generated the DKIM key; the panel published the new key itself in place of the old record, and signs with it` }, 'applied');
        return;
      }
    }
    const state = s?.dkim.signing && s.dkim.publicKey ? 'the panel has a key and signs with it, but its record may not be published — run the DKIM fix again' : 'no record was written — run the DKIM fix again';
    settle({ status: 'failed', error: `reconciled ${when}: interrupted while the panel generated the DKIM key: ${state}` }, 'not-written');
    return;
  }
  // A fix that had the panel generate a key (and turn signing on) says so whenever its record did not land.
  const keyNote = ch.changes.some((c) => c.keyGenerated) ? '; the panel had generated a new DKIM key for this fix and turned signing on, and its record may not be published: run the DKIM fix again' : '';
  const zone = await deps.panel.readZone(ch.domain);
  if (holdsAfter(zone, ch.changes)) {
    const outcome = { zoneVersionAfter: zone.version, error: `reconciled ${when}: the write had happened` };
    // An undo: applied, and the change it undid marked undone and reverted, in one transaction.
    const open = recording('applied', () => (ch.undoOf ? deps.history.recordUndone(ch.id, outcome) : deps.history.settleIntent(ch.id, { status: 'applied', ...outcome })));
    out.push({ id: ch.id, outcome: open ? 'applied' : 'settled meanwhile' });
    return;
  }
  if (holdsBefore(zone, ch.changes)) {
    settle({ status: 'failed', error: `reconciled ${when}: the write never happened${keyNote}` }, 'not-written');
    return;
  }
  const foreign = foreignRecords(zone, ch.changes);
  if (!partial && !foreign.length) {
    settle(
      {
        status: 'failed',
        error: `reconciled ${when}: the zone holds neither the records before this write nor those after it, and the ${deps.panel.kind} panel writes a zone in one step — it was edited since; nothing was restored — review the records at ${touched(ch.changes)}${keyNote}`,
      },
      'conflict',
    );
    return;
  }
  if (foreign.length) {
    const list = foreign.map((r) => `${r.name} ${r.type} ${JSON.stringify(text(r).slice(0, 80))}`);
    settle({ status: 'failed', error: `reconciled ${when}: the zone was edited since this write began (${list.join('; ')}); nothing was restored — review these records${keyNote}` }, 'conflict');
  } else {
    // Partly written (panels that edit as delete+add): put the old records back.
    const restore: Change[] = [];
    for (const c of ch.changes) {
      if (c.after) {
        const cur = findRecord(zone, c.after);
        if (cur) restore.push({ action: 'remove', name: cur.name, type: cur.type, ttl: cur.ttl, before: cur, after: null });
      }
      if (c.before && !findRecord(zone, c.before)) {
        const { ref: _ref, ...rest } = c.before;
        restore.push({ action: 'add', name: rest.name, type: rest.type, ttl: rest.ttl, before: null, after: rest });
      }
    }
    // Old records put back beside an alias made since (or an alias beside records added since) would be an invalid
    // zone: the zone was edited meanwhile — left alone, as for a record of someone else's at these names.
    const clashes = aliasClash(zone.records, restore);
    if (clashes.length) {
      settle({ status: 'failed', error: `reconciled ${when}: partly written, and the zone was edited since: ${aliasClashSaid(clashes)}; nothing was restored — review the records at ${touched(ch.changes)}${keyNote}` }, 'conflict');
      return;
    }
    // Putting the old records back is a write: the domain still held, the intent still open — else nothing is written.
    const lost = leaseLost(deps, ch.domain, owner, ch.id);
    if (lost) throw new Error(`the old records were not put back: ${lost}`);
    // Guard: 'cleanup' — a stop is this restore failing: the throw leaves the intent open (settleFromZone: "could not be
    // re-checked"; settleOrphans: "could not be settled yet"; reconcile: an error, tried again at the next start).
    const v = await keepingLease(deps, ch.domain, owner, () => guardedWrite(deps, 'cleanup', ch.id, () => deps.panel.applyChanges(ch.domain, restore, zone.version)));
    settle({ status: 'restored', zoneVersionAfter: v.version, error: `reconciled ${when}: partly written, old records restored${keyNote}` }, 'restored');
  }
}

export { PlanError };
