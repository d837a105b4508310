// Re-verifying applied changes: a change stays `verified: propagating` until the domain's nameservers answer with its
// records. "Verify again" (POST /changes/<id>/verify, POST /api/changes/<id>/verify) asks now; viewing the history
// (/history, GET /api/changes) asks again for a few changes still propagating whose last check is over a minute old.
// Each check reads the panel and asks the nameservers, like a fix preview: it takes an audit token of the viewer.
import { verify, type Verified } from '../core/plans/apply.js';
import type { ChangeRecord } from '../adapters/store/store.js';
import type { AppContext } from './app.js';
import { withResolver, type WebDeps } from './services.js';
import { auditOptionsFrom } from './settings.js';

/** A change still propagating is checked again on view when its last check is at least this old. */
export const REVERIFY_AFTER_MS = 60_000;
/** At most this many changes are checked again per view (the page waits for them). */
export const REVERIFY_PER_VIEW = 3;

/** Why a change cannot be verified again (null: it can) — only applied changes not undone since. */
export function cannotReverify(ch: ChangeRecord): string | null {
  if (ch.status !== 'applied') return `Change ${ch.id} is ${ch.status}, not applied: there is nothing to verify.`;
  if (ch.undoneBy) return `Change ${ch.id} was undone by change ${ch.undoneBy}: there is nothing to verify.`;
  return null;
}

/**
 * Check the change's records again (the panel's zone, then the domain's nameservers) and store the result. A check that
 * could not run (the panel or the DNS did not answer) stays `propagating`.
 */
export async function reverify(deps: WebDeps, ch: ChangeRecord): Promise<Verified> {
  const verified = await withResolver(deps, (resolver) =>
    verify(ch.domain, ch.changes, { panel: deps.panel, resolver, options: auditOptionsFrom(deps.store), now: deps.now }, ch.zoneVersionBefore),
  ).catch((): Verified => 'propagating');
  deps.store.setVerified(ch.id, verified);
  return verified;
}

/**
 * The changes as listed, after checking again those still propagating whose last check (`updatedAt`) is over
 * REVERIFY_AFTER_MS old — at most REVERIFY_PER_VIEW, newest first, each for an audit token of `user`. When the user's
 * tokens run out the rest wait for a later view (the page is never refused for it). Changes already being checked by
 * another request are skipped.
 */
export async function reverifyStale(c: AppContext, user: string, changes: ChangeRecord[]): Promise<ChangeRecord[]> {
  const now = c.now().getTime();
  const due = changes
    .filter((ch) => ch.verified === 'propagating' && !cannotReverify(ch) && !c.reverifying.has(ch.id) && now - Date.parse(ch.updatedAt) >= REVERIFY_AFTER_MS)
    .slice(0, REVERIFY_PER_VIEW);
  const picked: ChangeRecord[] = [];
  for (const ch of due) {
    if (!c.limits.audit.take(user)) break;
    picked.push(ch);
  }
  if (picked.length === 0) return changes;
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
  return changes.map((ch) => fresh.get(ch.id) ?? ch);
}
