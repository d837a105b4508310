// /domains (the list, "Audit now", "Audit all" — a customer's background job shows here) and /domains/<domain>
// (findings grouped by check, with evidence).
import { Router } from 'express';
import type { AppContext } from '../app.js';
import type { DomainRef } from '../../core/model.js';
import type { Job } from '../../adapters/store/store.js';
import { filterQuery, listPage, pageNumber, parseFilter, rowsFor } from '../domain-list.js';
import { ctx, HttpError, identityOf, refuseIfOpenedFromAnotherSite, requireDomain, requireJob, requireLogin, scopeOf, takeToken, takeTokens } from '../http.js';
import { pageJobsOf } from '../jobs.js';
import { atStage, auditAndRecord, freshFor, latestOrAudit } from '../services.js';
import { MAX_JOBS_SHOWN } from './bulk.js';
import { chooser } from './choosers.js';
import { groupFindings, viewHelpers } from '../view-model.js';

export const PER_PAGE = 50;
/** Above this many domains "Audit all" runs as a background job (resellers and admins: the bulk page shows it). */
export const SYNC_AUDIT_MAX = 25;
/**
 * Without background jobs (a panel page that ends with its request), a customer's "Audit all" audits at most this many
 * domains per click — those audited longest ago (or never) first — and says so; the next click takes the next ones.
 */
export const INLINE_AUDIT_MAX = 500;
/** A finished "Audit all" job stays on the customer's /domains page this long. */
const SHOW_FINISHED_JOB_MS = 3_600_000;

/** The scope, never-audited domains first, then those audited longest ago. */
function longestAgoFirst(c: AppContext, scope: DomainRef[]): DomainRef[] {
  const at = new Map(rowsFor(c.store, scope).map((r) => [r.domain, r.auditedAt]));
  const key = (d: DomainRef) => at.get(d.domain) ?? '';
  return [...scope].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
}

export function domainRoutes(c: AppContext): Router {
  const r = Router();
  r.use('/domains', requireLogin);

  r.get('/domains', async (req, res) => {
    const me = identityOf(res);
    const scope = await scopeOf(c, res);
    const filter = parseFilter(req.query as Record<string, unknown>);
    const page = listPage(c.store, scope, filter, pageNumber(req.query.page), PER_PAGE);
    // A customer's "Audit all" jobs (customers have no bulk page): every one still running, and the latest finished
    // one within the hour.
    let jobs: Job[] = [];
    if (me.role === 'customer') {
      const { active, lastFinished } = pageJobsOf(c.store, me, MAX_JOBS_SHOWN);
      // Its finishing time is a stored wall-clock time: one ahead of the clock (written while it was fast) is not shown —
      // "within the hour" would otherwise last the hour plus however far the clock was put back (freshFor).
      jobs = lastFinished && freshFor(Date.parse(lastFinished.updatedAt), c.now().getTime(), SHOW_FINISHED_JOB_MS) ? [...active, lastFinished] : active;
    }
    // After an "Audit all" that could audit only part of the scope in the request (see POST /domains/audit).
    const audited = Number(req.query.audited);
    const of = Number(req.query.of);
    const partial = Number.isInteger(audited) && Number.isInteger(of) && audited > 0 && audited < of ? { audited, of, max: INLINE_AUDIT_MAX } : null;
    res.render('domains', { title: 'Domains', page, customerChooser: chooser(page.customers, filter.customer), filterQuery, jobs, partial, now: c.now(), h: viewHelpers });
  });

  r.post('/domains/audit', async (_req, res) => {
    const me = identityOf(res);
    // The scope first (what every page view reads), so that the tokens this costs are known before any is taken.
    const scope = await scopeOf(c, res);
    if (scope.length <= SYNC_AUDIT_MAX) {
      takeToken(c, 'audit', me.user);
      await atStage('audit', 'POST /domains/audit', () => auditAndRecord(c, me, scope));
      return res.redirect(303, '/domains');
    }
    // Many domains: a bulk job like /bulk/audit's, with the same bulk limit — for customers too (their page shows it).
    // An audit token and a bulk one, both or neither.
    if (c.noBackgroundJobs && me.role !== 'customer') throw new HttpError(503, c.noBackgroundJobs);
    takeTokens(c, ['audit', 'bulk'], me.user);
    if (!c.noBackgroundJobs) {
      await atStage('job', 'POST /domains/audit', () => c.runner.start(me, scope, { filter: {}, from: 'domains' }));
      return res.redirect(303, me.role === 'customer' ? '/domains' : '/bulk');
    }
    // No background jobs here (resellers and admins got the refusal /bulk/audit gives, above). A customer's own page (a
    // cPanel page never reaches the service) audits here instead: up to INLINE_AUDIT_MAX, longest ago first, and says
    // how many.
    const batch = longestAgoFirst(c, scope).slice(0, INLINE_AUDIT_MAX);
    await atStage('audit', 'POST /domains/audit', () => auditAndRecord(c, me, batch));
    res.redirect(303, batch.length < scope.length ? `/domains?audited=${batch.length}&of=${scope.length}` : '/domains');
  });

  r.post('/domains/jobs/:id/cancel', requireJob(c), async (req, res) => {
    await atStage('cancel', 'POST /domains/jobs/:id/cancel', () => c.runner.cancel(Number(req.params.id)));
    res.redirect(303, '/domains');
  });

  r.get('/domains/:domain', requireDomain(c), async (req, res) => {
    const ref = ctx(res).domainRef!;
    const me = identityOf(res);
    const audit = await latestOrAudit(c, me, ref, () => {
      // Never audited yet: the view audits, for a token — not for another site's link.
      refuseIfOpenedFromAnotherSite(req, `The page of ${ref.domain}, not audited yet,`, `Audit ${ref.domain} and show it`);
      takeToken(c, 'audit', me.user);
    });
    res.render('domain', { title: ref.domain, ref, audit, groups: groupFindings(audit), now: c.now(), h: viewHelpers });
  });

  r.post('/domains/:domain/audit', requireDomain(c), async (_req, res) => {
    const me = identityOf(res);
    takeToken(c, 'audit', me.user);
    const ref = ctx(res).domainRef!;
    await atStage('audit', `POST /domains/${ref.domain}/audit`, () => auditAndRecord(c, me, [ref]));
    res.redirect(303, `/domains/${encodeURIComponent(ref.domain)}`);
  });

  return r;
}
