// The answer to an undo of a change still `intent`: its fix was interrupted (or is still running) and the change is
// not settled yet. Every surface settles open intents before an undo (src/web/server.ts, src/cli/commands/cgi.ts, the
// CLI's `undo`); one still open then is one whose domain lock is held — a fix running, or the lease of a process that
// died where that cannot be told (another host, an owner written by an older version: a holder on this host whose
// process is gone is taken over at once), which expires within 2 minutes (core/plans/apply.ts LOCK_TTL_MS) — or one
// whose zone could not be read, or whose settling could not be recorded. Core's
// undoChange gives the first answer (stillRunningReason) itself; the surfaces, which can also see the domain's lock, add
// why settling failed (the reconcile error they saw). Pure: the store comes in as a SettlingSource.
import type { Change } from '../model.js';
import { domainLock, stillRunningReason } from './apply.js';

/** What this needs of the store (the lock name is apply.ts's per-domain lock). */
export interface SettlingSource {
  getChange(id: number): { id: number; domain: string; status: string; changes?: readonly Pick<Change, 'name' | 'type'>[] } | null;
  /** The current holder of a lock (and when its lease runs out, epoch ms), or null. */
  lockHolder(name: string): { expiresAt?: number } | null;
}

/**
 * What a reconcile result's "error: …" says after the history's words when reconcile put the old records back in the
 * zone but could not record that (apply.ts unrecordedFinding). That is a write to the zone: the answer must not say
 * "Nothing was changed", nor "could not be checked" (it was, and settled in the zone).
 */
const RESTORED_UNRECORDED = '; found: restored, not recorded: the old records were put back in the zone';

/**
 * Why change `id` cannot be undone yet, or null when it is settled (then undoChange answers as usual). `problem`: why
 * the last attempt to settle it failed, when the caller knows (the CLI's reconcile results, "error: " taken off).
 */
export function unsettledUndoReason(store: SettlingSource, id: number, problem?: string): string | null {
  const ch = store.getChange(id);
  if (!ch || ch.status !== 'intent') return null;
  // The settling just made wrote to the zone: said first, whoever holds the domain now (it is what this command did).
  const restored = problem?.indexOf(RESTORED_UNRECORDED) ?? -1;
  if (problem !== undefined && restored >= 0) return restoredUnrecordedReason(ch, problem.slice(0, restored));
  const holder = store.lockHolder(domainLock(ch.domain));
  if (holder) return stillRunningReason(id, ch.domain, holder.expiresAt);
  return (
    `Change ${id} is still being settled: a fix on ${ch.domain} was interrupted and whether it was written could not be ` +
    `checked yet${problem ? ` (${problem})` : ''}; it is checked again on the next try. Nothing was changed; try again shortly.`
  );
}

/**
 * The undo of a change whose interrupted fix the settling before it has just taken back — the records it had changed
 * put back as they were before it — without recording that (`why`: the history's failure, in core's words): nothing is
 * left to undo, the history shows the change pending until it is settled from the zone, and what to look at.
 */
function restoredUnrecordedReason(ch: { id: number; domain: string; changes?: readonly Pick<Change, 'name' | 'type'>[] }, why: string): string {
  const names = [...new Set((ch.changes ?? []).map((c) => `${c.name} ${c.type}`))].join(', ');
  const at = names ? `the records at ${names}` : 'the records it had changed';
  return (
    `Change ${ch.id} has nothing left to undo: its fix on ${ch.domain} was interrupted part-way through its write, and mailhealth has just put ` +
    `${at} back as they were before it — but could not record that in the history (${why}): the history shows change ${ch.id} as pending ` +
    `until mailhealth settles it from the zone, at the next fix or undo on ${ch.domain} or by the running service. No other record was changed. ` +
    `Check ${at}; if the history database keeps failing, ask your hosting provider.`
  );
}
