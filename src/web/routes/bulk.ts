// /bulk (resellers and admins): every customer domain, filtered and paginated; bulk audit as a background job with
// progress, cancel and results streaming in; bulk fix of one check across selected domains.
import { checkDomain, registrableDomain } from '../../core/domain.js';
import { Router } from 'express';
import type { DomainRef } from '../../core/model.js';
import { PLAN_HASH } from '../../core/plans/plan.js';
import type { AppContext } from '../app.js';
import { applyFilter, filterQuery, listPage, pageNumber, parseFilter, rowsFor } from '../domain-list.js';
import { HttpError, identityOf, list, requireJob, requireLogin, requireRole, scopedDomains, scopeOf, str, takeToken } from '../http.js';
import { applyFix, previewFix, type Preview } from '../services.js';
import { mapInGroups } from '../pool.js';
import { viewHelpers } from '../view-model.js';
import { parseCheck } from './fix.js';

export const BULK_PER_PAGE = 50;
export const BULK_FIX_MAX = 200;
/** Domains a bulk fix previews or applies at once (each one's panel reads, DNS look-ups and writes stay in order). */
export const BULK_FIX_CONCURRENCY = 4;
/** Domains that may share a zone (one registrable domain and its subdomains) are fixed one after another. */
const zoneGroup = (ref: DomainRef): string => registrableDomain(ref.domain);
/** Running jobs shown on /bulk and a customer's /domains (the bulk rate limit keeps a user far below this). */
export const MAX_JOBS_SHOWN = 50;

/** The domains matching a filter, in the identity's scope. */
export async function matching(c: AppContext, scope: DomainRef[], filterSource: Record<string, unknown>): Promise<DomainRef[]> {
  const filter = parseFilter(filterSource);
  if (!filter.status && !filter.check && !filter.customer && !filter.q) return scope;
  const keep = new Set(applyFilter(rowsFor(c.store, scope), filter).map((r) => r.domain));
  return scope.filter((d) => keep.has(d.domain));
}

export function bulkRoutes(c: AppContext): Router {
  const r = Router();
  r.use('/bulk', requireLogin, requireRole('reseller', 'admin'));

  r.get('/bulk', async (req, res) => {
    const me = identityOf(res);
    const scope = await scopeOf(c, res);
    const filter = parseFilter(req.query as Record<string, unknown>);
    const page = listPage(c.store, scope, filter, pageNumber(req.query.page), BULK_PER_PAGE);
    // Every job of this user still running (each with its progress and Cancel), then the latest finished one.
    const { active, lastFinished } = c.store.pageJobs(me.user, MAX_JOBS_SHOWN);
    const jobs = lastFinished ? [...active, lastFinished] : active;
    res.render('bulk', { title: 'All customer domains', page, filterQuery, jobs, noBackgroundJobs: c.noBackgroundJobs, now: c.now(), h: viewHelpers });
  });

  r.post('/bulk/audit', async (req, res) => {
    const me = identityOf(res);
    if (c.noBackgroundJobs) throw new HttpError(503, c.noBackgroundJobs);
    takeToken(c, 'bulk', me.user);
    const body = req.body as Record<string, unknown>;
    const refs = await matching(c, await scopeOf(c, res), body);
    if (refs.length === 0) throw new HttpError(400, 'No domains match the filter.');
    c.runner.start(me, refs, { filter: parseFilter(body) });
    res.redirect(303, `/bulk${filterQuery(parseFilter(body))}`);
  });

  r.post('/bulk/jobs/:id/cancel', requireJob(c), (req, res) => {
    c.runner.cancel(Number(req.params.id));
    res.redirect(303, '/bulk');
  });

  r.post('/bulk/fix/preview', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const check = parseCheck(body.check);
    const names = list(body.domains);
    if (names.length === 0) throw new HttpError(400, 'Select at least one domain.');
    if (names.length > BULK_FIX_MAX) throw new HttpError(400, `At most ${BULK_FIX_MAX} domains per bulk fix.`);
    // Up to BULK_FIX_MAX panel reads and DNS look-ups: one bulk token, like a bulk audit.
    takeToken(c, 'bulk', identityOf(res).user);
    const { refs, notFound } = await scopedDomains(c, res, names);
    const items = await mapInGroups(refs, BULK_FIX_CONCURRENCY, zoneGroup, async (ref): Promise<{ domain: string; preview?: Preview; error?: string }> => {
      try {
        const preview = await previewFix(c, ref.domain, check, []);
        rememberPreview(c, identityOf(res).user, `${ref.domain}|${check}|${preview.plan.planHash}`);
        return { domain: ref.domain, preview };
      } catch (e) {
        return { domain: ref.domain, error: (e as Error).message };
      }
    });
    res.render('bulk-fix-preview', { title: `Bulk fix: ${check}`, check, items, notFound, h: viewHelpers });
  });

  r.post('/bulk/fix/apply', async (req, res) => {
    const me = identityOf(res);
    const body = req.body as Record<string, unknown>;
    const check = parseCheck(body.check);
    const raw = list(body.plan);
    if (raw.length === 0) throw new HttpError(400, 'No domain was ticked: tick the domains to apply the fix to on the preview (back on /bulk), or preview the bulk fix again.');
    if (raw.length > BULK_FIX_MAX) throw new HttpError(400, `At most ${BULK_FIX_MAX} domains per bulk fix.`);
    const pairs = raw.map((p) => {
      const i = p.lastIndexOf('|');
      const d = checkDomain(i > 0 ? p.slice(0, i) : ''); // the one validator: the same spelling scopedDomains will use
      const planHash = i > 0 ? p.slice(i + 1) : '';
      if (!d.ok || !PLAN_HASH.test(planHash)) throw new HttpError(400, `Not a previewed plan: ${JSON.stringify(p.slice(0, 120))}. Preview the bulk fix again; nothing was changed.`);
      return { domain: d.domain, planHash };
    });
    // Each pair costs a panel read and DNS look-ups before its hash is checked: one bulk token, like the preview —
    // unless every plan is one this user previewed here within the last half hour (preview and apply are one action).
    // A preview's credit is used once: applying the same plans again (a resubmitted form) pays like any new action.
    const keys = pairs.map((p) => `${p.domain}|${check}|${p.planHash}`);
    const credited = keys.every((k) => previewedLately(c, me.user, k));
    for (const k of keys) c.bulkPreviewed.get(me.user)?.delete(k);
    if (!credited) takeToken(c, 'bulk', me.user);
    const { refs, notFound } = await scopedDomains(c, res, pairs.map((p) => p.domain));
    const hashes = new Map<string, string>();
    for (const p of pairs) if (!hashes.has(p.domain)) hashes.set(p.domain, p.planHash); // a name sent twice: the first
    const todo = refs.filter((ref) => hashes.has(ref.domain));
    const results = await mapInGroups(todo, BULK_FIX_CONCURRENCY, zoneGroup, async (ref) => {
      try {
        return { domain: ref.domain, outcome: await applyFix(c, me, ref, { check, planHash: hashes.get(ref.domain)!, removeTerms: [] }) };
      } catch (e) {
        return { domain: ref.domain, outcome: { status: 'failed' as const, reason: (e as Error).message } };
      }
    });
    res.render('bulk-fix-result', { title: `Bulk fix: ${check}`, check, results, notFound, h: viewHelpers, str });
  });

  return r;
}

/** How long a bulk preview makes its plans' apply free of a bulk token. */
const PREVIEW_CREDIT_MS = 30 * 60_000;

function rememberPreview(c: AppContext, user: string, key: string): void {
  let mine = c.bulkPreviewed.get(user);
  if (!mine) c.bulkPreviewed.set(user, (mine = new Map()));
  const now = c.now().getTime();
  mine.delete(key); // re-previewed: to the end, so the oldest entries go first below
  mine.set(key, now);
  // Bounded: the plans of the last few bulk previews, oldest dropped first (they pay the token again).
  if (mine.size > 4 * BULK_FIX_MAX) for (const [k, at] of mine) if (mine.size > 2 * BULK_FIX_MAX || now - at > PREVIEW_CREDIT_MS) mine.delete(k);
}

function previewedLately(c: AppContext, user: string, key: string): boolean {
  const at = c.bulkPreviewed.get(user)?.get(key);
  return at !== undefined && c.now().getTime() - at <= PREVIEW_CREDIT_MS;
}
