// The answer to an undo of a change still `intent`: its fix was interrupted (or is still running) and the change is
// not settled yet. Every surface settles open intents before an undo (src/web/server.ts, src/cli/commands/cgi.ts, the
// CLI's `undo`); one still open then is one whose domain lock is held — a fix running, or the lease of a process that
// died, which expires within 2 minutes (core/plans/apply.ts LOCK_TTL_MS) — or one whose zone could not be read. Core's
// undoChange says the first too; here the surfaces can also say why settling failed (the reconcile error they saw).
import type { LockInfo } from '../../adapters/store/store.js';
import { domainLock } from '../../core/plans/apply.js';

/** What the surfaces need of the store (the lock name is apply.ts's per-domain lock). */
export interface SettlingSource {
  getChange(id: number): { id: number; domain: string; status: string } | null;
  lockHolder(name: string): LockInfo | null;
}

/**
 * Why change `id` cannot be undone yet, or null when it is settled (then undoChange answers as usual). `problem`: why
 * the last attempt to settle it failed, when the caller knows (the CLI's reconcile results).
 */
export function unsettledUndoReason(store: SettlingSource, id: number, problem?: string): string | null {
  const ch = store.getChange(id);
  if (!ch || ch.status !== 'intent') return null;
  if (store.lockHolder(domainLock(ch.domain))) {
    return (
      `Change ${id} is still being settled: a fix on ${ch.domain} was interrupted (or is still running), and whether it ` +
      `was written is checked again once its lock on the domain expires (at most 2 minutes). Nothing was changed; try again shortly.`
    );
  }
  return (
    `Change ${id} is still being settled: a fix on ${ch.domain} was interrupted and whether it was written could not be ` +
    `checked yet${problem ? ` (${problem})` : ''}; it is checked again on the next try. Nothing was changed; try again shortly.`
  );
}
