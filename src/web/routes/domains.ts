// /domains (the list, "Audit now") and /domains/<domain> (findings grouped by check, with evidence).
import { Router } from 'express';
import type { AppContext } from '../app.js';
import { filterQuery, listPage, pageNumber, parseFilter } from '../domain-list.js';
import { ctx, HttpError, identityOf, requireDomain, requireLogin, scopeOf, takeToken } from '../http.js';
import { auditAndRecord, latestOrAudit } from '../services.js';
import { groupFindings, viewHelpers } from '../view-model.js';

export const PER_PAGE = 50;
/** Above this many domains "Audit all" runs as a background job (the bulk page shows it). */
export const SYNC_AUDIT_MAX = 25;

export function domainRoutes(c: AppContext): Router {
  const r = Router();
  r.use('/domains', requireLogin);

  r.get('/domains', async (req, res) => {
    const scope = await scopeOf(c, res);
    const filter = parseFilter(req.query as Record<string, unknown>);
    const page = listPage(c.store, scope, filter, pageNumber(req.query.page), PER_PAGE);
    res.render('domains', { title: 'Domains', page, filterQuery, now: c.now(), h: viewHelpers });
  });

  r.post('/domains/audit', async (_req, res) => {
    const me = identityOf(res);
    takeToken(c, 'audit', me.user);
    const scope = await scopeOf(c, res);
    if (scope.length > SYNC_AUDIT_MAX && me.role !== 'customer') {
      // A bulk job like /bulk/audit's: the same refusal without a background service, and the same bulk limit.
      if (c.noBackgroundJobs) throw new HttpError(503, c.noBackgroundJobs);
      takeToken(c, 'bulk', me.user);
      c.runner.start(me, scope, { filter: {}, from: 'domains' });
      return res.redirect(303, '/bulk');
    }
    await auditAndRecord(c, me, scope.slice(0, 500));
    res.redirect(303, '/domains');
  });

  r.get('/domains/:domain', requireDomain(c), async (_req, res) => {
    const ref = ctx(res).domainRef!;
    const me = identityOf(res);
    const audit = await latestOrAudit(c, me, ref, () => {
      takeToken(c, 'audit', me.user);
    });
    res.render('domain', { title: ref.domain, ref, audit, groups: groupFindings(audit), now: c.now(), h: viewHelpers });
  });

  r.post('/domains/:domain/audit', requireDomain(c), async (_req, res) => {
    const me = identityOf(res);
    takeToken(c, 'audit', me.user);
    const ref = ctx(res).domainRef!;
    await auditAndRecord(c, me, [ref]);
    res.redirect(303, `/domains/${encodeURIComponent(ref.domain)}`);
  });

  return r;
}
