// The answer to an undo of a change still `intent`: its fix was interrupted (or is still running) and the change is
// not settled yet. Every surface settles open intents before an undo (src/web/server.ts, src/cli/commands/cgi.ts, the
// CLI's `undo`); one still open then is one whose domain lock is held — a fix running, or the lease of a process that
// died where that cannot be told (another host, an owner written by an older version: a holder on this host whose
// process is gone is taken over at once), which expires within 2 minutes (core/plans/apply.ts LOCK_TTL_MS) — or one
// whose zone could not be read. Core's
// undoChange gives the first answer (stillRunningReason) itself; the surfaces, which can also see the domain's lock, add
// why settling failed (the reconcile error they saw). Pure: the store comes in as a SettlingSource.
import { domainLock, stillRunningReason } from './apply.js';

/** What this needs of the store (the lock name is apply.ts's per-domain lock). */
export interface SettlingSource {
  getChange(id: number): { id: number; domain: string; status: string } | null;
  /** The current holder of a lock (and when its lease runs out, epoch ms), or null. */
  lockHolder(name: string): { expiresAt?: number } | null;
}

/**
 * Why change `id` cannot be undone yet, or null when it is settled (then undoChange answers as usual). `problem`: why
 * the last attempt to settle it failed, when the caller knows (the CLI's reconcile results).
 */
export function unsettledUndoReason(store: SettlingSource, id: number, problem?: string): string | null {
  const ch = store.getChange(id);
  if (!ch || ch.status !== 'intent') return null;
  const holder = store.lockHolder(domainLock(ch.domain));
  if (holder) return stillRunningReason(id, ch.domain, holder.expiresAt);
  return (
    `Change ${id} is still being settled: a fix on ${ch.domain} was interrupted and whether it was written could not be ` +
    `checked yet${problem ? ` (${problem})` : ''}; it is checked again on the next try. Nothing was changed; try again shortly.`
  );
}
