// Verifying an applied change again, later. A change stays `verified: propagating` until the domain's nameservers
// answer with its records; it is checked again on request (the web's "Verify again", `mailhealth verify N`) and when
// the history is viewed (the web's /history and GET /api/changes, `mailhealth history`: a few changes still
// propagating whose last check is over a minute old). One code path for every surface: the check is apply's `verify`
// (the panel's zone, then each of the domain's nameservers), its answer stored with the change.
//
// A change whose records a later fix replaced (change M edited or removed a record this one wrote) is not checked
// again: its records are gone from the zone by design, and "verified: no" would read as a problem. It is listed as
// "replaced by change M" instead (computed from the history each time; nothing about it is stored).
// Pure: I/O only through the injected Panel, Resolver and History.
import type { AuditDeps } from '../audit.js';
import type { Change } from '../model.js';
import { DB_BUSY, DB_FAILED, isDbBusy, verify, type History, type HistoryFault, type StoredChange, type Verified } from './apply.js';
import { LATER_CHANGES, replaceable, replacedBy, replacedIn } from './replaced.js';

export { replacedBy };

/** A change still propagating is checked again on a history view when its last check is at least this old. */
export const REVERIFY_AFTER_MS = 60_000;
/** At most this many changes are checked again per history view (the view waits for them). */
export const REVERIFY_PER_VIEW = 3;

/** Why a change cannot be verified again, by its status (null: it can) — only applied changes not undone since. */
export function cannotReverify(ch: Pick<StoredChange, 'id' | 'status' | 'undoneBy'>): string | null {
  if (ch.status !== 'applied') return `Change ${ch.id} is ${ch.status}, not applied: there is nothing to verify.`;
  if (ch.undoneBy) return `Change ${ch.id} was undone by change ${ch.undoneBy}: there is nothing to verify.`;
  return null;
}

/**
 * The changes as listed, each one whose records a later change replaced carrying `replacedBy` (that change's id). One
 * read of the history per domain concerned.
 */
export function withReplacements<T extends StoredChange>(changes: readonly T[], history: Pick<History, 'changesForDomain'>): (T & { replacedBy?: number })[] {
  const byDomain = new Map<string, StoredChange[]>();
  for (const ch of changes) {
    if (replaceable(ch) && !byDomain.has(ch.domain)) byDomain.set(ch.domain, history.changesForDomain(ch.domain, LATER_CHANGES));
  }
  return changes.map((ch) => {
    const by = byDomain.has(ch.domain) ? replacedBy(ch, byDomain.get(ch.domain)!) : null;
    return by === null ? ch : { ...ch, replacedBy: by };
  });
}

/** Why a replaced change is not verified again. */
export function replacedReason(id: number, by: number): string {
  return `Change ${id} was replaced by change ${by}, a later fix of the same records: its records are no longer expected in the zone, so there is nothing of it to verify. Verify change ${by} instead.`;
}

/**
 * Is this listed change due for a check on a history view: applied, not undone, not replaced, still propagating, its
 * last check (`updatedAt`) at least REVERIFY_AFTER_MS before `now` (ms).
 */
export function reverifyDue(ch: StoredChange & { updatedAt: string; replacedBy?: number }, now: number): boolean {
  return ch.verified === 'propagating' && !cannotReverify(ch) && ch.replacedBy === undefined && now - Date.parse(ch.updatedAt) >= REVERIFY_AFTER_MS;
}

export type ReverifyOutcome = { status: 'checked'; verified: Verified } | { status: 'refused'; reason: string; replacedBy?: number };

/**
 * Why a change is not verified again (null: it is): not applied, undone, or its records replaced by a later change.
 * Asked before anything is spent on the check (the web's audit token): a refusal costs nothing.
 */
export function verifyRefusal(ch: StoredChange, history: Pick<History, 'changesForDomain'>): Extract<ReverifyOutcome, { status: 'refused' }> | null {
  const why = cannotReverify(ch);
  if (why) return { status: 'refused', reason: why };
  const by = replacedIn(ch, history);
  return by !== null ? { status: 'refused', reason: replacedReason(ch.id, by), replacedBy: by } : null;
}

/**
 * Check an applied change's records again (the panel's zone, then the domain's nameservers) and store the answer. A
 * check that could not run (the panel or the DNS did not answer) is `propagating`, never `no`. Refused, nothing stored:
 * a change that is not applied, was undone, or whose records a later change replaced. A history that fails to store
 * the answer throws its error (the web answers that as a failure at its "verify" stage; recheckChange keeps the answer).
 */
export async function reverifyChange(ch: StoredChange, deps: AuditDeps & { history: Pick<History, 'setVerified' | 'changesForDomain'> }): Promise<ReverifyOutcome> {
  const { outcome, unstored } = await checkAndStore(ch, deps);
  if (unstored) throw unstored.error;
  return outcome;
}

/**
 * A re-check's answer as recheckChange gives it: as reverifyChange's, and when the history failed to store a checked
 * answer, `unrecorded` — why, in core's words — with the store's own error on it unless the database was only busy
 * (HistoryFault: its file's path, SQLite's words, for the surface's log only; not enumerable).
 */
export type RecheckOutcome = HistoryFault & ({ status: 'checked'; verified: Verified; unrecorded?: string } | Extract<ReverifyOutcome, { status: 'refused' }>);

/**
 * reverifyChange for a surface that answers a failing history itself (the CLI's `verify` and `history`): the check's
 * answer is kept when storing it fails — what the check found is known, only the history misses it (the change keeps
 * its earlier check there). Errors before the check (reading the history for the refusal) are thrown, as there.
 */
export async function recheckChange(ch: StoredChange, deps: AuditDeps & { history: Pick<History, 'setVerified' | 'changesForDomain'> }): Promise<RecheckOutcome> {
  const { outcome, unstored } = await checkAndStore(ch, deps);
  if (!unstored || outcome.status !== 'checked') return outcome;
  const out: RecheckOutcome = { ...outcome, unrecorded: historyWords(unstored.error) };
  // As apply.ts's HistoryFault: a busy database is said as it is, in the words; any other failure's own error is kept.
  if (!isDbBusy(unstored.error)) Object.defineProperty(out, 'historyError', { value: unstored.error, enumerable: false, configurable: true });
  return out;
}

/** The check and the storing of its answer; `unstored`: the history's error when storing it failed. */
async function checkAndStore(
  ch: StoredChange,
  deps: AuditDeps & { history: Pick<History, 'setVerified' | 'changesForDomain'> },
): Promise<{ outcome: ReverifyOutcome; unstored?: { error: unknown } }> {
  const refused = verifyRefusal(ch, deps.history);
  if (refused) return { outcome: refused };
  const verified = await verify(ch.domain, ch.changes, deps, ch.zoneVersionBefore).catch((): Verified => 'propagating');
  try {
    deps.history.setVerified(ch.id, verified);
  } catch (error) {
    return { outcome: { status: 'checked', verified }, unstored: { error } };
  }
  return { outcome: { status: 'checked', verified } };
}

/**
 * The history's failure in core's words, as apply.ts says them (DB_BUSY, DB_FAILED): a busy database as such; any
 * other (a full disk, an I/O error) without its own text, which names the database's file and quotes SQLite.
 */
function historyWords(e: unknown): string {
  return isDbBusy(e) ? DB_BUSY : DB_FAILED;
}

/**
 * What follows a re-check's answer whose storing failed (`why`: RecheckOutcome's `unrecorded`; `earlier`: the change's
 * verification as the history holds it, which stays): the history misses this answer, and a re-check writes nothing to
 * the zone.
 */
export function unrecordedCheckNote(why: string, earlier: Verified | null): string {
  const shows = earlier === null ? 'as not checked' : `as ${earlier}`;
  // A busy database is a moment's wait (another process writing), not a fault: said as such, with what to do.
  const then = why === DB_BUSY ? '; verify it again in a moment, once the other process has written' : '';
  return `this answer could not be recorded in the history (${why}): the history still shows the change ${shows} until it is verified again${then}; nothing was changed in the zone`;
}

/** What a verification means for a change, in words (`changes`: the change's records; none: it had the panel sign). */
export function verifiedMeaning(verified: Verified, changes: readonly Change[]): string {
  if (!changes.length) {
    return verified === 'yes'
      ? 'the panel signs with the DKIM key published at its selector'
      : verified === 'propagating'
        ? 'the panel signs; whether receivers see the key it signs with could not be checked yet'
        : 'the panel does not sign with the DKIM key published at its selector';
  }
  const at = [...new Set(changes.map((c) => `${c.name} ${c.type}`))].join(', ');
  if (verified === 'yes') return "the panel and every one of the domain's nameservers answer with its records";
  if (verified === 'propagating') return "the panel holds its records; the domain's nameservers do not all answer with them yet";
  return `the panel does not show its records — check the zone's records at ${at} (edited since?)`;
}
