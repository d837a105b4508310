// Re-verifying applied changes: a change stays `verified: propagating` until the domain's nameservers answer with its
// records. "Verify again" (POST /changes/<id>/verify, POST /api/changes/<id>/verify) asks now; viewing the history
// (/history, GET /api/changes) asks again for a few changes still propagating whose last check is over a minute old.
// Each check reads the panel and asks the nameservers, like a fix preview: it takes an audit token of the viewer.
// The check itself is core's (src/core/plans/reverify.ts), shared with the CLI's `verify` and `history`.
import { recheckChange, reverifyDue, unrecordedCheckNote, verifiedMeaning, verifyRefusal, REVERIFY_PER_VIEW, withReplacements, type RecheckOutcome } from '../core/plans/reverify.js';
import type { ChangeRecord } from '../adapters/store/store.js';
import type { AppContext } from './app.js';
import { logWeb, withResolver, type WebDeps } from './services.js';
import { auditOptionsFrom } from '../core/settings.js';
import { CHECK_LABELS } from './view-model.js';

export { verifyRefusal };

/** A change as the history lists it: `replacedBy` when a later change replaced its records (core/plans/reverify.ts). */
export type ListedChange = ChangeRecord & { replacedBy?: number };

/**
 * Check the change's records again (the panel's zone, then the domain's nameservers) and store the result. A check that
 * could not run (the panel or the DNS did not answer) stays `propagating`; a change whose records a later change
 * replaced is not checked (nothing stored; the history says "replaced by change M"). A history that cannot store the
 * answer does not lose it (core's recheckChange, as the CLI's `verify`): the outcome is `checked` with `unrecorded` (why,
 * in core's words) and, unless the database was only busy, the store's own error as `historyError` — for the server's
 * log only (logUnrecordedCheck); the answer says unrecordedCheckText.
 */
export async function reverify(deps: WebDeps, ch: ChangeRecord): Promise<RecheckOutcome> {
  return withResolver(deps, (resolver) => recheckChange(ch, { panel: deps.panel, resolver, options: auditOptionsFrom(deps.store), now: deps.now, history: deps.store }));
}

/** A re-check whose answer the history could not store (reverify). */
export type UnrecordedCheck = Extract<RecheckOutcome, { status: 'checked' }> & { unrecorded: string };

export function isUnrecordedCheck(out: RecheckOutcome): out is UnrecordedCheck {
  return out.status === 'checked' && out.unrecorded !== undefined;
}

/**
 * "Verify again"'s words for an answer the history could not store: what the check found (as the CLI's `verify` says
 * it), then that the history misses it and still shows the change as it was (core's unrecordedCheckNote). The history's
 * failure only in core's words — never the database file's path or SQLite's (logUnrecordedCheck logs those).
 */
export function unrecordedCheckText(ch: Pick<ChangeRecord, 'id' | 'check' | 'domain' | 'changes' | 'verified'>, out: UnrecordedCheck): string {
  const head = out.verified === 'yes' ? 'verified' : out.verified === 'propagating' ? 'propagating' : 'not verified';
  const note = unrecordedCheckNote(out.unrecorded, ch.verified ?? null);
  const label = (CHECK_LABELS as Record<string, string>)[ch.check] ?? ch.check;
  return `Change ${ch.id} (${label}, ${ch.domain}) was checked again: ${head} — ${verifiedMeaning(out.verified, ch.changes)}. ${note[0].toUpperCase()}${note.slice(1)}.`;
}

/** The server's log line for an answer the history could not store: what was found, and the store's own error. */
export function logUnrecordedCheck(what: string, out: UnrecordedCheck): void {
  logWeb(`${what}: the answer found (verified: ${out.verified}) could not be recorded`, out.historyError ?? out.unrecorded);
}

/**
 * The changes as listed — each replaced one with `replacedBy` —, after checking again those still propagating whose
 * last check (`updatedAt`) is over REVERIFY_AFTER_MS old — at most REVERIFY_PER_VIEW, newest first, each for an audit
 * token of `user`. When the user's tokens run out the rest wait for a later view (the page is never refused for it).
 * Changes already being checked by another request are skipped, and so are replaced ones (their records are gone by
 * design: checking them would only turn them "no", and take the view's slots every time). `recheck` false: none.
 */
export async function reverifyStale(c: AppContext, user: string, changes: ChangeRecord[], recheck = true): Promise<ListedChange[]> {
  const now = c.now().getTime();
  const listed = withReplacements(changes, c.store);
  // (Not on a view another site opened — http.ts openedFromAnotherSite: listed as the history holds them.)
  if (!recheck) return listed;
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
          const out = await reverify(c, ch);
          // Checked, but the answer could not be stored: listed as the history holds it (what the history lists); the
          // log says what the check found, and the store's error.
          if (isUnrecordedCheck(out)) return void logUnrecordedCheck(`re-verifying change ${ch.id} (listed as recorded)`, out);
          const again = c.store.getChange(ch.id);
          if (again) fresh.set(ch.id, again);
        } catch (e) {
          // A store that fails here fails the page's own read too; the list as read stays right otherwise.
          logWeb(`re-verifying change ${ch.id}`, e);
        }
      }),
    );
  } finally {
    for (const ch of picked) c.reverifying.delete(ch.id);
  }
  return listed.map((ch) => fresh.get(ch.id) ?? ch);
}
