// An undo sent again by the user who made it — F5 on a result page, a history page left open, a retried command — is
// answered with the undo that was made, as a fix sent again is ("already"), never written twice and never called
// "refused" (it was undone, as asked). The web page, the API and the CLI's `undo` ask this one function.
// Pure: reads only the injected History.
import { withoutCopies, type ApplyOutcome, type History, type StoredChange } from './apply.js';

/** The answer to an undo sent again: the undo that was made (core's "already" shape, as a fix sent again gets). */
export type UndoAlready = Extract<ApplyOutcome, { status: 'already' }>;

/**
 * An undo of change `ch` sent again by the user who undid it — F5 on the undo's result page sends the POST again, or a
 * history page left open is used later —, answered with that undo (change M) instead of "Refused: Change N was already
 * undone by change M": it was undone once, as asked. `changeStatus` 'applied': M stands (not undone since); 'intent':
 * M is being written right now (only with `pending`: the first submission still running). Null otherwise: no undo of
 * `ch` yet, another user's undo (the refusal names it), or M undone since (the refusal stands: the records are not as
 * M left them).
 */
export function undoneAlready(store: Pick<History, 'getChange' | 'changesForDomain'>, chId: number, user: string, pending = false): UndoAlready | null {
  const ch = store.getChange(chId);
  if (!ch) return null;
  let m: StoredChange | null = null;
  if (ch.undoneBy) m = store.getChange(ch.undoneBy);
  else if (pending && ch.status === 'applied') m = store.changesForDomain(ch.domain, 50).find((x) => x.undoOf === ch.id && x.status === 'intent') ?? null;
  if (!m || m.undoOf !== ch.id || m.byUser !== user || m.undoneBy) return null;
  if (m.status !== 'applied' && m.status !== 'intent') return null;
  const writing = m.status === 'intent';
  const verified = !writing && m.verified ? ` (verified: ${m.verified})` : '';
  return {
    status: 'already',
    changeId: m.id,
    changeStatus: writing ? 'intent' : 'applied',
    verified: writing ? null : m.verified,
    changes: withoutCopies(m.changes),
    reason: writing
      ? `Change ${ch.id} is being undone now as change #${m.id}: the undo was sent again, and it is not undone a second time.`
      : `Change ${ch.id} was already undone as change #${m.id}${verified}: the undo was sent again, and it was not undone a second time.`,
  };
}

