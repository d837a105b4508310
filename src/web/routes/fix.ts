// The fix flow: GET /domains/<d>/fix?check=spf previews the plan (before/after); POST /domains/<d>/fix with check,
// planHash, _csrf (and removeTerms) applies exactly that plan; the result page says what happened.
import { Router } from 'express';
import { FIX_KINDS, type Change, type FixKind } from '../../core/model.js';
import { PLAN_HASH } from '../../core/plans/plan.js';
import type { AppContext } from '../app.js';
import { ctx, HttpError, identityOf, list, refuseIfOpenedFromAnotherSite, requireDomain, requireLogin, str, takeToken, type ErrorLink } from '../http.js';
import { applyFix, atStage, outcomeHttpStatus, previewFix, shownOutcome } from '../services.js';
import { viewHelpers } from '../view-model.js';

export function parseCheck(v: unknown): FixKind {
  const s = str(v);
  if (!(FIX_KINDS as readonly string[]).includes(s)) throw new HttpError(400, `check must be one of ${FIX_KINDS.join(', ')}.`);
  return s as FixKind;
}

/** A plan hash as a preview gives it. */

export function parseTerms(v: unknown): string[] {
  return [...new Set(list(v).map((t) => t.trim()).filter((t) => t && t.length <= 500))].slice(0, 50);
}

/** Where a fix or an undo the history database stopped is looked up: the domain's history (and the domain). */
export function historyLinks(domain: string): { href: string; text: string }[] {
  return [
    { href: `/history?domain=${encodeURIComponent(domain)}`, text: `The history of ${domain}` },
    { href: `/domains/${encodeURIComponent(domain)}`, text: domain },
  ];
}

/**
 * The links of a fix preview its rate limit refused: the same preview again (its check and the terms chosen for
 * removal kept), and the domain — "Back to your domains" alone lost the user's place (review R9).
 */
export function previewRefusalLinks(domain: string, check: FixKind, removeTerms: readonly string[]): ErrorLink[] {
  const remove = removeTerms.map((t) => `&remove=${encodeURIComponent(t)}`).join('');
  return [
    { href: `/domains/${encodeURIComponent(domain)}/fix?check=${encodeURIComponent(check)}${remove}`, text: 'Preview again' },
    { href: `/domains/${encodeURIComponent(domain)}`, text: domain },
  ];
}

/**
 * What an undo of a fix needs first, said beside its Undo button (the fix's result page, the history row): a fix that
 * published a DKIM key the panel generated (and turned signing on with) is not undone while the server signs with that
 * key — the undo would take the key out of DNS (core/plans/apply.ts undoBreaksSigning refuses it). The CLI says so at
 * apply time (cli/commands/fix.ts appliedNext); an Undo offered bare was refused after the click (review R9). Null
 * when the undo needs nothing first.
 */
export function undoCaveat(domain: string, changes: readonly Pick<Change, 'keyGenerated'>[]): string | null {
  if (!changes.some((c) => c.keyGenerated)) return null;
  return `To undo, turn DKIM signing off for ${domain} in the panel first: the panel generated this DKIM key and signs ${domain}'s mail with it.`;
}

export function fixRoutes(c: AppContext): Router {
  const r = Router();
  r.use('/domains', requireLogin);

  r.get('/domains/:domain/fix', requireDomain(c), async (req, res) => {
    const ref = ctx(res).domainRef!;
    const check = parseCheck(req.query.check);
    const removeTerms = parseTerms(req.query.remove);
    // A preview reads the panel and the DNS like an audit does: it takes an audit token — not for another site's link.
    refuseIfOpenedFromAnotherSite(req, `This preview of the ${check} fix for ${ref.domain}`, `Preview the ${check} fix for ${ref.domain}`);
    takeToken(c, 'audit', identityOf(res).user, 'page', { back: previewRefusalLinks(ref.domain, check, removeTerms) });
    const { plan, unknownTerms, serviceTerms, picked, otherPicked } = await previewFix(c, ref.domain, check, removeTerms);
    res.render('fix', { title: `Fix ${check} — ${ref.domain}`, ref, plan, unknownTerms, serviceTerms, picked, otherPicked, removeTerms, h: viewHelpers });
  });

  r.post('/domains/:domain/fix', requireDomain(c), async (req, res) => {
    const ref = ctx(res).domainRef!;
    const body = req.body as Record<string, unknown>;
    const check = parseCheck(body.check);
    const planHash = str(body.planHash);
    if (!planHash) throw new HttpError(400, 'planHash is missing: preview the fix first.');
    if (!PLAN_HASH.test(planHash)) throw new HttpError(400, 'planHash is not a valid plan hash (sha256: and 64 hex digits, as the preview gives it): preview the fix again.');
    const removeTerms = parseTerms(body.removeTerms);
    // A history database that fails under the fix: where to look for what was written, never the store's own words
    // (services.ts atStage, shownOutcome; the raw error is in the server's log).
    const outcome = shownOutcome(
      c.store,
      'fix',
      ref.domain,
      await atStage('fix', `POST /domains/${ref.domain}/fix`, () => applyFix(c, identityOf(res), ref, { check, planHash, removeTerms }), historyLinks(ref.domain)),
    );
    const undoNote = outcome.status === 'applied' ? undoCaveat(ref.domain, outcome.plan.changes) : outcome.status === 'already' ? undoCaveat(ref.domain, outcome.changes) : null;
    res.status(outcomeHttpStatus(outcome)).render('fix-result', { title: `Fix ${check} — ${ref.domain}`, ref, check, outcome, removeTerms, undoNote, h: viewHelpers });
  });

  return r;
}
