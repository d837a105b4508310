// /history: audits and changes of the identity's domains, who/when/what, with Undo for applied changes and
// "Verify again" for those not verified yet (changes still propagating are also checked again on view: reverify.ts).
import { Router, type Request, type Response } from 'express';
import { checkDomain } from '../../core/domain.js';
import type { DomainRef, Identity } from '../../core/model.js';
import type { ApplyOutcome } from '../../core/plans/apply.js';
import { replacedIn } from '../../core/plans/replaced.js';
import type { ChangeRecord } from '../../adapters/store/store.js';
import type { AppContext } from '../app.js';
import { ctx, HttpError, identityOf, NOT_FOUND_MESSAGE, openedFromAnotherSite, requireChange, requireLogin, scopeOf, takeToken, type ErrorLink } from '../http.js';
import { isUnrecordedCheck, logUnrecordedCheck, reverify, reverifyStale, unrecordedCheckText, verifyRefusal } from '../reverify.js';
import { atStage, outcomeHttpStatus, shownChange, shownOutcome, undoOnce, WITHHELD, withheldText } from '../services.js';
import { historyLinks, undoCaveat } from './fix.js';
import { unsettledUndoReason } from '../../core/plans/settling.js';
import { viewHelpers } from '../view-model.js';

/**
 * The history's `domain` filter (page and JSON API): absent or blank → every domain in scope; else a name through the
 * one validator — anything that is not a domain name is refused with the validator's reason (never read as "no filter").
 */
export function historyFilter(raw: unknown): { ok: true; domain: string | null } | { ok: false; input: string; message: string } {
  if (raw === undefined) return { ok: true, domain: null };
  const input = typeof raw === 'string' ? raw : '';
  if (typeof raw !== 'string') return { ok: false, input, message: 'Not a domain name: give the domain filter once, as a name such as example.com.' };
  if (input.trim() === '') return { ok: true, domain: null };
  const checked = checkDomain(input);
  if (!checked.ok) return { ok: false, input, message: `Not a domain name (${checked.reason}): ${JSON.stringify(input.slice(0, 120))}. Filter by a domain name such as example.com.` };
  return { ok: true, domain: checked.domain };
}

/**
 * The domains a history view covers: the whole scope, or the one filtered. A name outside the scope is the same 404 as
 * its domain page (QA: "No changes yet" was said of another customer's domain with many changes).
 */
export async function historyDomains(c: AppContext, res: Response, domain: string | null): Promise<string[]> {
  const scope = (await scopeOf(c, res)).map((d) => d.domain);
  if (domain === null) return scope;
  if (!scope.includes(domain)) throw new HttpError(404, NOT_FOUND_MESSAGE, [{ href: '/history', text: 'The history of your domains' }]);
  return [domain];
}

/** Changes per history page (and the API's default); a bulk fix writes up to BULK_FIX_MAX (200), so older ones page. */
export const HISTORY_PAGE = 100;

/**
 * The `before` parameter of the history page and API (a change id: list the changes older than it): absent → the
 * newest; else a whole number ≥ 1, or null (refused with a reason).
 */
export function beforeParam(raw: unknown): number | undefined | null {
  if (raw === undefined || raw === '') return undefined;
  return typeof raw === 'string' && /^[1-9][0-9]{0,15}$/.test(raw) && Number.isSafeInteger(Number(raw)) ? Number(raw) : null;
}

/**
 * Where change `id` of `domain` is listed: the domain's history, paged so that the change is on the page (the history
 * lists the newest HISTORY_PAGE changes; `before=id+1` starts at this one), and scrolled to its row.
 */
export function changeHref(domain: string, id: number): string {
  return `/history?domain=${encodeURIComponent(domain)}&before=${id + 1}#change-${id}`;
}

/** The links of a refused "Verify again": the history of the change's domain at that change, and the change that replaced it. */
export function verifyRefusalLinks(ch: Pick<ChangeRecord, 'id' | 'domain'>, replacedBy?: number): ErrorLink[] {
  const links: ErrorLink[] = [{ href: changeHref(ch.domain, ch.id), text: `Back to the history of ${ch.domain} (change #${ch.id})` }];
  if (replacedBy !== undefined) links.push({ href: changeHref(ch.domain, replacedBy), text: `Change #${replacedBy}, which replaced it` });
  return links;
}

export function historyRoutes(c: AppContext): Router {
  const r = Router();
  r.use(['/history', '/changes'], requireLogin);

  r.get('/history', async (req, res) => {
    const filter = historyFilter(req.query.domain);
    if (!filter.ok) {
      // Not a domain name: say why and list nothing (listing every change under a filter box would look filtered).
      // The box keeps what was typed, to correct it.
      res.status(400).render('history', { title: 'History', audits: [], changes: [], domainFilter: filter.input, filterError: filter.message, now: c.now(), h: viewHelpers });
      return;
    }
    const before = beforeParam(req.query.before);
    if (before === null) throw new HttpError(400, 'before= takes a change number (older changes than that one are listed).', [{ href: '/history', text: 'The newest changes' }]);
    const domains = await historyDomains(c, res, filter.domain);
    const audits = c.store.recentResults(domains, 50, { withChecks: true });
    // One more than a page: whether there are older changes to link to.
    const page = c.store.changesForDomains(domains, HISTORY_PAGE + 1, before);
    const olderBefore = page.length > HISTORY_PAGE ? page[HISTORY_PAGE - 1].id : null;
    const changes = (await reverifyStale(c, identityOf(res).user, page.slice(0, HISTORY_PAGE), !openedFromAnotherSite(req))).map((ch) => shownChange(c.store, ch));
    res.render('history', { title: 'History', audits, changes, domainFilter: filter.domain ?? '', filterError: null, now: c.now(), h: viewHelpers, before: before ?? null, olderBefore, undoCaveat });
  });

  // "Verify again": the change's records checked now (panel, then the domain's nameservers), for an audit token.
  r.post('/changes/:id/verify', requireChange(c), async (_req, res) => {
    const ch = ctx(res).change!;
    // Refused before a token is taken: a refusal (not applied, undone, replaced by a later fix) costs nothing.
    // The error page links back to the domain's history at this change (and to the change that replaced it): a page
    // left open is the usual way here, and "Back to your domains" alone lost the user's place (QA).
    // (A history that cannot be read for it: "not checked again, nothing was changed", with the way back.)
    const refused = await atStage('verify', `POST /changes/${ch.id}/verify`, () => verifyRefusal(ch, c.store), verifyRefusalLinks(ch));
    if (refused) throw new HttpError(409, refused.reason, verifyRefusalLinks(ch, refused.replacedBy));
    // Its rate limit refusing it: the same way back to the change (review R9: the 429 linked only "Back to your domains").
    takeToken(c, 'audit', identityOf(res).user, 'page', { back: verifyRefusalLinks(ch) });
    // Replaced meanwhile (between the two reads): not checked, said why. A history database that fails under the
    // check: said so, with the way back to the change.
    const out = await atStage('verify', `POST /changes/${ch.id}/verify`, () => reverify(c, ch), verifyRefusalLinks(ch));
    if (out.status === 'refused') throw new HttpError(409, out.reason, verifyRefusalLinks(ch, out.replacedBy));
    if (isUnrecordedCheck(out)) {
      // Checked, but the history could not store the answer. The check ran and found an answer, so this is a result
      // (200), not an error page; but not the usual redirect either — the history would show the change as it was. The
      // answer is given here — what the check found, and that it is not recorded — with the way back to the change.
      // The store's own error goes to the log only.
      logUnrecordedCheck(`POST /changes/${ch.id}/verify`, out);
      res.status(200).render('verify-result', { title: `Verify again: change ${ch.id}`, change: ch, verified: out.verified, message: unrecordedCheckText(ch, out), historyHref: changeHref(ch.domain, ch.id), h: viewHelpers });
      return;
    }
    res.redirect(303, `/history?domain=${encodeURIComponent(ch.domain)}#change-${ch.id}`);
  });

  r.post('/changes/:id/undo', requireChange(c), async (req, res) => {
    const ch = ctx(res).change!;
    // A history database that fails under the undo: where to look for what was written, never the store's own words
    // (services.ts atStage, shownOutcome; the raw error is in the server's log).
    await atStage('undo', `POST /changes/${ch.id}/undo`, () => undoPage(c, req, res, ch), historyLinks(ch.domain));
  });

  return r;
}

/**
 * Why the settling pass run just before this request (AppContext.settledBefore: server.ts forces one before an undo)
 * could not settle change `id`, as the CLI's `undo` passes it to unsettledUndoReason: reconcile's "error: …" outcome
 * for it, "error: " taken off; undefined when none ran or it did not fail for this change. Core's words only: the
 * history database's own error is on the result as `historyError` (not enumerable), for the log.
 */
export function undoProblem(c: AppContext, req: Request, id: number): string | undefined {
  const problem = c
    .settledBefore(req)
    ?.find((r) => r.id === id && r.outcome.startsWith('error: '))
    ?.outcome.slice('error: '.length);
  // A panel's error quoted in it is outside text, shown escaped; words naming the history database's file (none of
  // core's do) would be withheld — the settler's log line has them already.
  return problem === undefined ? undefined : withheldText(c.store, problem, WITHHELD);
}

/** POST /changes/<id>/undo's answer: the undo made (or why not), as its result page. */
async function undoPage(c: AppContext, req: Request, res: Response, ch: ChangeRecord): Promise<void> {
  // Interrupted and not settled yet (its domain lock still held, or its zone unreadable): say so, not "intent, not
  // applied" — and when the settling just made put the records back but could not record it, that (settling.ts).
  const unsettled = unsettledUndoReason(c.store, ch.id, undoProblem(c, req, ch.id));
  if (unsettled) {
    res.status(409).render('undo-result', { title: `Undo change ${ch.id}`, change: ch, outcome: { status: 'refused', reason: unsettled }, h: viewHelpers });
    return;
  }
  // The undo answered in place (its result is this POST's page): F5 sends it again, and is answered with the undo made
  // the first time ("already undone as change #M"), as a fix's result page is — never "Refused" for an undo that worked.
  const outcome = shownOutcome(c.store, 'undo', ch.domain, await undoOnce(c, identityOf(res), ch, ctx(res).domainRef!));
  // The undo that was made: whether a later fix replaced its records since (then it is not verified again, and the
  // page says so instead of offering "Verify again").
  const madeBy = outcome.status === 'already' && outcome.changeStatus === 'applied' ? c.store.getChange(outcome.changeId) : null;
  const replacedBy = madeBy ? replacedIn(madeBy, c.store) : null;
  res.status(outcomeHttpStatus(outcome)).render('undo-result', { title: `Undo change ${ch.id}`, change: ch, outcome, replacedBy, changeHref, h: viewHelpers });
}
