// Re-verifying applied changes: a change stays `verified: propagating` until the domain's nameservers answer with its
// records. "Verify again" (POST /changes/<id>/verify, POST /api/changes/<id>/verify) asks now; viewing the history
// (/history, GET /api/changes) asks again for a few changes still propagating whose last check is over a minute old.
// Each check reads the panel and asks the nameservers, like a fix preview: it takes an audit token of the viewer.
// The check itself is core's (src/core/plans/reverify.ts), shared with the CLI's `verify` and `history`.
import { reverifyChange, reverifyDue, verifyRefusal, REVERIFY_PER_VIEW, withReplacements, type ReverifyOutcome } from '../core/plans/reverify.js';
import type { ChangeRecord } from '../adapters/store/store.js';
import type { AppContext } from './app.js';
import { withResolver, type WebDeps } from './services.js';
import { auditOptionsFrom } from '../core/settings.js';

export { verifyRefusal };

/** A change as the history lists it: `replacedBy` when a later change replaced its records (core/plans/reverify.ts). */
export type ListedChange = ChangeRecord & { replacedBy?: number };

/**
 * Check the change's records again (the panel's zone, then the domain's nameservers) and store the result. A check that
 * could not run (the panel or the DNS did not answer) stays `propagating`; a change whose records a later change
 * replaced is not checked (nothing stored; the history says "replaced by change M").
 */
export async function reverify(deps: WebDeps, ch: ChangeRecord): Promise<ReverifyOutcome> {
  return withResolver(deps, (resolver) => reverifyChange(ch, { panel: deps.panel, resolver, options: auditOptionsFrom(deps.store), now: deps.now, history: deps.store }));
}

/**
 * The changes as listed — each replaced one with `replacedBy` —, after checking again those still propagating whose
 * last check (`updatedAt`) is over REVERIFY_AFTER_MS old — at most REVERIFY_PER_VIEW, newest first, each for an audit
 * token of `user`. When the user's tokens run out the rest wait for a later view (the page is never refused for it).
 * Changes already being checked by another request are skipped, and so are replaced ones (their records are gone by
 * design: checking them would only turn them "no", and take the view's slots every time).
 */
export async function reverifyStale(c: AppContext, user: string, changes: ChangeRecord[]): Promise<ListedChange[]> {
  const now = c.now().getTime();
  const listed = withReplacements(changes, c.store);
  const due = listed.filter((ch) => reverifyDue(ch, now) && !c.reverifying.has(ch.id)).slice(0, REVERIFY_PER_VIEW);
  const picked: ChangeRecord[] = [];
  for (const ch of due) {
    if (!c.limits.audit.take(user)) break;
    picked.push(ch);
  }
  if (picked.length === 0) return listed;
  for (const ch of picked) c.reverifying.add(ch.id);
  const fresh = new Map<number, ChangeRecord>();
  try {
    await Promise.all(
      picked.map(async (ch) => {
        try {
          await reverify(c, ch);
          const again = c.store.getChange(ch.id);
          if (again) fresh.set(ch.id, again);
        } catch (e) {
          // A store that fails here fails the page's own read too; the list as read stays right otherwise.
          process.stderr.write(`mailhealth web: re-verifying change ${ch.id}: ${(e as Error)?.message ?? String(e)}\n`);
        }
      }),
    );
  } finally {
    for (const ch of picked) c.reverifying.delete(ch.id);
  }
  return listed.map((ch) => fresh.get(ch.id) ?? ch);
}
