// /bulk (resellers and admins): every customer domain, filtered and paginated; bulk audit as a background job with
// progress, cancel and results streaming in; bulk fix of one check across selected domains — previewed in the request,
// applied as a background job (its page follows the domains as they are fixed; the outcomes are kept in SQLite). Where
// no background job can run, the apply runs within the request and is kept the same way: every apply answers with a
// redirect to its job's page. A job is its account's alone (jobs.ts jobVisibleTo): another account — one given the
// name of a removed account included — gets the 404 of a job that does not exist.
import { createHash, randomBytes } from 'node:crypto';
import { checkDomain } from '../../core/domain.js';
import { Router } from 'express';
import type { DomainRef } from '../../core/model.js';
import { PLAN_HASH, type Plan } from '../../core/plans/plan.js';
import type { Job } from '../../adapters/store/store.js';
import type { AppContext } from '../app.js';
import { BULK_AUDIT_JOB, BULK_FIX_JOB, jobAccount, pageJobsOf, scopeAccount, shownJob, type FixJobScope } from '../jobs.js';
import { applyFilter, filterQuery, listPage, pageNumber, parseFilter, rowsFor } from '../domain-list.js';
import { ctx, HttpError, identityOf, list, requireJob, requireLogin, requireRole, scopedDomains, scopeOf, str, takeToken, type ErrorLink, type Refused } from '../http.js';
import { applyBulkFix, atStage, BULK_FIX_CONCURRENCY, bulkOutcomeDetail, bulkOutcomeOutOfScope, freshFor, isStoreFailure, logWeb, previewFix, shownDetail, shownJobResults, shownText, storeFailureMessage, type BulkFixItem, type BulkOutcomeDetail, type Preview } from '../services.js';
import { mapInGroups, zoneGroup } from '../pool.js';
import { CHECK_LABELS, viewHelpers } from '../view-model.js';
import { parseCheck } from './fix.js';
import { chooser } from './choosers.js';

export const BULK_PER_PAGE = 50;
export const BULK_FIX_MAX = 200;
export { BULK_FIX_CONCURRENCY };
/** Running jobs shown on /bulk and a customer's /domains (the bulk rate limit keeps a user far below this). */
export const MAX_JOBS_SHOWN = 50;
/** How often a running bulk fix's page reloads itself (the Refresh header: no script needed, through every front door). */
const FIX_JOB_REFRESH_S = 5;

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
    // Every bulk audit of this user still running (each with its progress and Cancel), then the latest finished one;
    // the same for bulk fixes, as links to their pages (bulk.js streams audit results into this table, not fixes).
    // Only this account's: a removed account's jobs stay with it, even when a new account now has its name.
    const audits = pageJobsOf(c.store, me, MAX_JOBS_SHOWN, BULK_AUDIT_JOB);
    const jobs = audits.lastFinished ? [...audits.active, audits.lastFinished] : audits.active;
    const fixes = pageJobsOf(c.store, me, MAX_JOBS_SHOWN, BULK_FIX_JOB);
    const fixJobs = (fixes.lastFinished ? [...fixes.active, fixes.lastFinished] : fixes.active).map(fixJobSummary);
    res.render('bulk', { title: 'All customer domains', page, customerChooser: chooser(page.customers, filter.customer), filterQuery, jobs, fixJobs, noBackgroundJobs: c.noBackgroundJobs, now: c.now(), h: viewHelpers });
  });

  r.post('/bulk/audit', async (req, res) => {
    const me = identityOf(res);
    if (c.noBackgroundJobs) throw new HttpError(503, c.noBackgroundJobs);
    const body = req.body as Record<string, unknown>;
    takeToken(c, 'bulk', me.user, 'page', { back: [backToBulk(filterQuery(parseFilter(body)))] });
    const refs = await matching(c, await scopeOf(c, res), body);
    if (refs.length === 0) throw new HttpError(400, 'No domains match the filter.');
    await atStage('job', 'POST /bulk/audit', () => c.runner.start(me, refs, { filter: parseFilter(body) }));
    res.redirect(303, `/bulk${filterQuery(parseFilter(body))}`);
  });

  r.post('/bulk/jobs/:id/cancel', requireJob(c), async (req, res) => {
    await atStage('cancel', 'POST /bulk/jobs/:id/cancel', () => c.runner.cancel(Number(req.params.id)));
    res.redirect(303, '/bulk');
  });

  r.post('/bulk/fix/preview', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const check = parseCheck(body.check);
    const names = list(body.domains);
    if (names.length === 0) throw new HttpError(400, 'Select at least one domain.');
    if (names.length > BULK_FIX_MAX) throw new HttpError(400, `At most ${BULK_FIX_MAX} domains per bulk fix.`);
    // Up to BULK_FIX_MAX domains' panel reads and one check's DNS look-ups, nothing written: a token of the bulk
    // previews' own bucket (app.ts bulkPreviewBucket). Refused, the page offers this very preview again.
    takeToken(c, 'bulkPreview', identityOf(res).user, 'page', previewAgain(check, names));
    const { refs, notFound } = await scopedDomains(c, res, names);
    // This form's key: the apply it sends, sent again (a reload of its answer, a second click), finds its first job.
    const applyKey = randomBytes(16).toString('base64url');
    // Domains that may share a zone (one registrable domain and its subdomains) are previewed one after another.
    const items = await mapInGroups(refs, BULK_FIX_CONCURRENCY, (ref) => zoneGroup(ref.domain), async (ref): Promise<{ domain: string; preview?: Preview; error?: string }> => {
      try {
        const preview = await previewFix(c, ref.domain, check, []);
        rememberPreview(c, identityOf(res).user, `${ref.domain}|${check}|${preview.plan.planHash}`, preview.plan);
        return { domain: ref.domain, preview };
      } catch (e) {
        // A store failure met: said in words of mailhealth's own (its error, which names the database's file, logged).
        // Any other error: as it came, only words naming that file withheld (shownText) — a panel's or a record's text
        // is not said to be the database's.
        const what = `bulk fix preview of ${ref.domain}`;
        if (isStoreFailure(e)) {
          logWeb(what, e);
          return { domain: ref.domain, error: storeFailureMessage(e, 'page') };
        }
        const message = (e as Error)?.message ?? String(e);
        return { domain: ref.domain, error: shownText(c.store, what, message, "This domain's preview failed; why is not shown here (the server's log has it).") };
      }
    });
    res.render('bulk-fix-preview', { title: `Bulk fix: ${check}`, check, items, notFound, applyKey, h: viewHelpers });
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
    const keys = pairs.map((p) => `${p.domain}|${check}|${p.planHash}`);
    const account = jobAccount(c.store, me.user);
    const plans = `${check}\n${[...new Set(keys)].sort().join('\n')}`;
    // The very form sent again — the same preview's key and the same ticked plans — after its apply started (a reload
    // of the answer, a second click, even in another process): its job answers, and nothing is applied or paid again.
    const requestKey = applyRequestKey(body.applyKey, plans);
    const sent = requestKey ? c.store.findJobByRequestKey(me.user, account, BULK_FIX_JOB, requestKey) : null;
    if (sent) {
      res.redirect(303, `/bulk/fix/jobs/${sent.id}?resent=1`);
      return;
    }
    // The same plans sent again by the same account while their apply runs (two tabs, a double submit without script):
    // that apply's job answers — a second job would only lose every domain's lock to the first ("another fix … is
    // running") and cost a token. Registered before the first await, so two requests at once cannot both start.
    const applies = appliesOf(c);
    const same = `${me.user}\n${account ?? ''}\n${plans}`;
    const earlier = applies.get(same);
    if (earlier) {
      const id = await earlier;
      if (id !== undefined) {
        res.redirect(303, `/bulk/fix/jobs/${id}`);
        return;
      }
    }
    let started: (id: number | undefined) => void = () => {};
    const mine = new Promise<number | undefined>((resolve) => (started = resolve));
    applies.set(same, mine);
    let jobId: number | undefined;
    try {
      jobId = await startApply(res, me, check, pairs, keys, requestKey);
    } finally {
      started(jobId);
      const forget = () => {
        if (applies.get(same) === mine) applies.delete(same);
      };
      // Kept while the job runs; an apply that started none (refused) or ran within the request lets go at once.
      if (jobId === undefined) forget();
      else void c.runner.wait(jobId).finally(forget);
    }
    if (jobId === undefined) return; // answered already
    // Answered with the job's page: at once for many domains, once done for a few (BULK_FIX_INLINE) — a redirect either
    // way (POST-redirect-GET), so that reloading the results shows them again instead of sending the apply again.
    const job = c.store.getJob(jobId)!;
    if (job.total <= c.runner.fixInlineMax) await c.runner.wait(jobId);
    res.redirect(303, `/bulk/fix/jobs/${jobId}`);
  });

  /**
   * The apply past its form checks: the job started (its id) — or, where no background job runs, applied within this
   * request and recorded as a finished job (its id) — or undefined once answered here (the outcome could not be kept).
   */
  async function startApply(
    res: Parameters<typeof ctx>[0],
    me: ReturnType<typeof identityOf>,
    check: ReturnType<typeof parseCheck>,
    pairs: { domain: string; planHash: string }[],
    keys: string[],
    requestKey: string | null,
  ): Promise<number | undefined> {
    // Each pair costs a panel read and DNS look-ups before its hash is checked: one bulk token, like the preview —
    // unless every plan is one this user previewed here within the last half hour (preview and apply are one action).
    // A preview's credit is used once: applying the same plans again (a resubmitted form) pays like any new action.
    const credited = keys.every((k) => previewedLately(c, me.user, k));
    // Refused, the way on is a new preview of these domains (its apply is then free). Asked before the credits are
    // used: a refused apply keeps the credit of the plans it did preview (review: sent again after the wait, it paid).
    if (!credited) takeToken(c, 'bulk', me.user, 'page', previewAgain(check, [...new Set(pairs.map((p) => p.domain))]));
    // The previewed plans themselves, for a subdomain whose zone this bulk's own write moves (services.applyBulkFix).
    const previewed = new Map(keys.map((k) => [k, takePreviewedPlan(c, me.user, k)]));
    for (const k of keys) c.bulkPreviewed.get(me.user)?.delete(k);
    const { refs, notFound } = await scopedDomains(c, res, pairs.map((p) => p.domain));
    const hashes = new Map<string, string>();
    for (const p of pairs) if (!hashes.has(p.domain)) hashes.set(p.domain, p.planHash); // a name sent twice: the first
    const todo: BulkFixItem[] = refs
      .filter((ref) => hashes.has(ref.domain))
      .map((ref) => {
        const planHash = hashes.get(ref.domain)!;
        const plan = previewed.get(`${ref.domain}|${check}|${planHash}`);
        return { ref, planHash, ...(plan ? { previewed: plan } : {}) };
      });
    if (c.noBackgroundJobs || todo.length === 0) {
      // A page that ends with its request (a panel front door without the background service): applied here, as one
      // request. The outcome is kept as a finished job and the answer is a redirect to its page (POST-redirect-GET, as
      // a background job's): a reload shows the results again instead of sending the apply again.
      // Each domain's scope is asked again before its write, as in a background job (services.ts BulkScope).
      const results = await applyBulkFix(c, me, check, todo, { account: scopeAccount(c, me.user) });
      try {
        return c.runner.recordFix(me, check, todo, notFound, results, requestKey);
      } catch (e) {
        // Written, but the outcome could not be kept (the database busy or failing): shown here all the same — the
        // changes themselves are in the history.
        logWeb("a bulk fix's results could not be kept", e);
        const rows = results.map((r) => ({ domain: r.domain, outcome: shownDetail(c.store, r.domain, bulkOutcomeDetail(r.outcome)) }));
        res.render('bulk-fix-result', { title: `Bulk fix: ${check}`, check, rows, notFound, job: null, follow: false, h: viewHelpers, str });
        return undefined;
      }
    }
    // In the background, so that a panel's proxy giving up on a long request stops nothing.
    return c.runner.startFix(me, check, todo, notFound, requestKey);
  }

  /** A bulk fix job's page: its progress and each domain's outcome so far; it reloads itself while the job runs. */
  r.get('/bulk/fix/jobs/:id', requireJob(c), async (req, res) => {
    const job = fixJobOf(res);
    await renderFixJob(res, job, req.query.follow !== '0', req.query.resent === '1');
  });

  r.post('/bulk/fix/jobs/:id/cancel', requireJob(c), async (req, res) => {
    const job = fixJobOf(res);
    await atStage('cancel', 'POST /bulk/fix/jobs/:id/cancel', () => c.runner.cancel(job.id));
    // Back to the job's page as the user left it: "Stop updating" (follow=0, sent by the form) stays chosen.
    res.redirect(303, `/bulk/fix/jobs/${job.id}${(req.body as Record<string, unknown>).follow === '0' ? '?follow=0' : ''}`);
  });

  /** The job requireJob found, if it is a bulk fix (another kind of job has no such page: 404, as an unknown one). */
  function fixJobOf(res: Parameters<typeof ctx>[0]): Job {
    const job = ctx(res).job!;
    if (job.kind !== BULK_FIX_JOB) throw new HttpError(404, 'No such bulk fix.');
    return job;
  }

  /**
   * The results page of a bulk fix job: a row per domain in the order ticked, with its outcome once recorded — only the
   * domains in this identity's scope now (a customer moved to another reseller since leaves the old one's view, as in
   * the job's JSON), then the names that were not found. A domain the job itself skipped as no longer in scope keeps
   * its row: the user ticked it, and its outcome says only that (nothing read from its zone is in it).
   */
  async function renderFixJob(res: Parameters<typeof ctx>[0], job: Job, follow: boolean, resent: boolean): Promise<void> {
    const scope = job.scope as FixJobScope;
    const inScope = new Set((await scopeOf(c, res)).map((d) => d.domain));
    const outcomes = new Map<string, BulkOutcomeDetail>();
    for (let since = 0; ; ) {
      const { results, next } = c.runner.fixResultsSince(job.id, since);
      // As stored: a row kept by a previous version may name the history database's file (services.ts shownJobResults).
      for (const { domain, ...o } of shownJobResults(c.store, job.id, results)) outcomes.set(domain, o);
      if (next === since) break;
      since = next;
    }
    const shown = (d: string) => inScope.has(d) || (outcomes.has(d) && bulkOutcomeOutOfScope(outcomes.get(d)!));
    const rows = scope.domains.filter(shown).map((domain) => ({ domain, ...(outcomes.has(domain) ? { outcome: outcomes.get(domain) } : {}) }));
    res.render('bulk-fix-result', {
      title: `Bulk fix: ${scope.check}`,
      check: scope.check,
      rows,
      notFound: scope.notFound,
      // Its error as stored: an older version's may name the history database's file (jobs.ts shownJob).
      job: shownJob(c.store, job),
      follow,
      resent,
      refreshSeconds: FIX_JOB_REFRESH_S,
      h: viewHelpers,
      str,
    });
  }

  return r;
}

/** The link a refused bulk action offers first: /bulk, with the filter the user had (a query filterQuery made). */
function backToBulk(query = ''): ErrorLink {
  return { href: `/bulk${query}`, text: 'Back to all customer domains' };
}

/**
 * What a rate-limited bulk fix refusal offers: /bulk, and a button that previews the same check for the same domains
 * (a link back would lose the ticked boxes).
 */
function previewAgain(check: ReturnType<typeof parseCheck>, domains: string[]): Refused {
  // The label counts the domains the preview covers (each valid name once, in any spelling), not the names sent; the
  // fields send the names as they came (review: "these 4 domains" for one domain sent four ways).
  const n = new Set(domains.flatMap((d) => {
    const c = checkDomain(d);
    return c.ok ? [c.domain] : [];
  })).size || domains.length;
  return {
    back: [backToBulk()],
    resend: {
      action: '/bulk/fix/preview',
      label: `Preview the ${CHECK_LABELS[check]} fix again for ${n === 1 ? 'this domain' : `these ${n} domains`}`,
      fields: [['check', check], ...domains.map((d) => ['domains', d] as const)],
    },
  };
}

/** The key the preview form carried (`applyKey`, 16 random bytes in base64url); anything else there is not our form. */
const APPLY_KEY = /^[A-Za-z0-9_-]{22}$/;

/**
 * What identifies one sending of a preview form: its key and the plans ticked on it (the same form sent with other
 * boxes ticked is another apply). Null when the form carried no key (an older page, a hand-made request: applied as
 * before — the plans' hashes still keep a change from being written twice).
 */
function applyRequestKey(raw: unknown, plans: string): string | null {
  if (raw === undefined || raw === '') return null;
  if (typeof raw !== 'string' || !APPLY_KEY.test(raw)) {
    throw new HttpError(400, 'This apply did not come from a bulk fix preview of this site (its form key is not valid). Preview the bulk fix again; nothing was changed.');
  }
  return createHash('sha256').update(`${raw}\n${plans}`).digest('base64url');
}

/** A bulk fix job as /bulk lists it. */
function fixJobSummary(job: Job) {
  return { id: job.id, status: job.status, check: (job.scope as FixJobScope).check, total: job.total, done: job.done, failed: job.failed, createdAt: job.createdAt };
}

/**
 * The bulk applies running now, per process: "user, account, check, the plans" → the job they started (undefined: none was).
 * Only this process runs its jobs (a restart interrupts them), so memory is the right place.
 */
const runningApplies = new WeakMap<AppContext, Map<string, Promise<number | undefined>>>();

function appliesOf(c: AppContext): Map<string, Promise<number | undefined>> {
  let m = runningApplies.get(c);
  if (!m) runningApplies.set(c, (m = new Map()));
  return m;
}

/** How long a bulk preview makes its plans' apply free of a bulk token. */
const PREVIEW_CREDIT_MS = 30 * 60_000;

/**
 * The plans themselves, beside c.bulkPreviewed's times (same keys, same bound): what a bulk apply compares a subdomain's
 * fresh plan with when this bulk's own write moved its zone (services.applyBulkFix). Kept in this process only: after a
 * restart such a subdomain is refused as "the zone changed", as before.
 */
const previewedPlans = new WeakMap<AppContext, Map<string, Map<string, Plan>>>();

function rememberPreview(c: AppContext, user: string, key: string, plan: Plan): void {
  let mine = c.bulkPreviewed.get(user);
  if (!mine) c.bulkPreviewed.set(user, (mine = new Map()));
  // On a clock that never steps (c.elapsedMs): a preview is credited for half an hour, not half an hour plus however
  // far the wall clock was put back meanwhile.
  const now = c.elapsedMs();
  mine.delete(key); // re-previewed: to the end, so the oldest entries go first below
  mine.set(key, now);
  // Bounded: the plans of the last few bulk previews, oldest dropped first (they pay the token again).
  if (mine.size > 4 * BULK_FIX_MAX) for (const [k, at] of mine) if (mine.size > 2 * BULK_FIX_MAX || !freshFor(at, now, PREVIEW_CREDIT_MS)) mine.delete(k);
  let users = previewedPlans.get(c);
  if (!users) previewedPlans.set(c, (users = new Map()));
  let plans = users.get(user);
  if (!plans) users.set(user, (plans = new Map()));
  plans.set(key, plan);
  // The same bound: a plan is kept only while its preview is remembered.
  if (plans.size > mine.size) for (const k of plans.keys()) if (!mine.has(k)) plans.delete(k);
}

/** The plan a bulk preview of this user showed under `key` (within the preview credit's time), used once. */
function takePreviewedPlan(c: AppContext, user: string, key: string): Plan | undefined {
  const plans = previewedPlans.get(c)?.get(user);
  const plan = plans?.get(key);
  plans?.delete(key);
  return plan && previewedLately(c, user, key) ? plan : undefined;
}

function previewedLately(c: AppContext, user: string, key: string): boolean {
  const at = c.bulkPreviewed.get(user)?.get(key);
  // An age below zero (a test's clock stepped back since the preview) is no credit (freshFor).
  return at !== undefined && freshFor(at, c.elapsedMs(), PREVIEW_CREDIT_MS);
}
