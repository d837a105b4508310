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
import { verify, type History, type StoredChange, type Verified } from './apply.js';
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
 * a change that is not applied, was undone, or whose records a later change replaced.
 */
export async function reverifyChange(ch: StoredChange, deps: AuditDeps & { history: Pick<History, 'setVerified' | 'changesForDomain'> }): Promise<ReverifyOutcome> {
  const refused = verifyRefusal(ch, deps.history);
  if (refused) return refused;
  const verified = await verify(ch.domain, ch.changes, deps, ch.zoneVersionBefore).catch((): Verified => 'propagating');
  deps.history.setVerified(ch.id, verified);
  return { status: 'checked', verified };
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
