// /history: audits and changes of the identity's domains, who/when/what, with Undo for applied changes and
// "Verify again" for those not verified yet (changes still propagating are also checked again on view: reverify.ts).
import { Router } from 'express';
import { checkDomain } from '../../core/domain.js';
import type { AppContext } from '../app.js';
import { ctx, HttpError, identityOf, requireChange, requireLogin, scopeOf, str, takeToken } from '../http.js';
import { cannotReverify, reverify, reverifyStale } from '../reverify.js';
import { undo } from '../services.js';
import { unsettledUndoReason } from '../../core/plans/settling.js';
import { viewHelpers } from '../view-model.js';

export function historyRoutes(c: AppContext): Router {
  const r = Router();
  r.use(['/history', '/changes'], requireLogin);

  r.get('/history', async (req, res) => {
    const scope = (await scopeOf(c, res)).map((d) => d.domain);
    const wanted = checkDomain(str(req.query.domain));
    // A domain filter outside the scope simply matches nothing.
    const domains = wanted.ok ? scope.filter((d) => d === wanted.domain) : scope;
    const audits = c.store.recentResults(domains, 50);
    const changes = await reverifyStale(c, identityOf(res).user, c.store.changesForDomains(domains, 100));
    res.render('history', { title: 'History', audits, changes, domainFilter: wanted.ok ? wanted.domain : '', now: c.now(), h: viewHelpers });
  });

  // "Verify again": the change's records checked now (panel, then the domain's nameservers), for an audit token.
  r.post('/changes/:id/verify', requireChange(c), async (_req, res) => {
    const ch = ctx(res).change!;
    const why = cannotReverify(ch);
    if (why) throw new HttpError(409, why);
    takeToken(c, 'audit', identityOf(res).user);
    await reverify(c, ch);
    res.redirect(303, `/history?domain=${encodeURIComponent(ch.domain)}#change-${ch.id}`);
  });

  r.post('/changes/:id/undo', requireChange(c), async (_req, res) => {
    const ch = ctx(res).change!;
    // Interrupted and not settled yet (its domain lock still held, or its zone unreadable): say so, not "intent, not applied".
    const unsettled = unsettledUndoReason(c.store, ch.id);
    if (unsettled) {
      res.status(409).render('undo-result', { title: `Undo change ${ch.id}`, change: ch, outcome: { status: 'refused', reason: unsettled }, h: viewHelpers });
      return;
    }
    const outcome = await undo(c, identityOf(res), ch.id, ctx(res).domainRef!);
    const status = outcome.status === 'applied' ? 200 : outcome.status === 'refused' ? 409 : 502;
    res.status(status).render('undo-result', { title: `Undo change ${ch.id}`, change: ch, outcome, h: viewHelpers });
  });

  return r;
}
