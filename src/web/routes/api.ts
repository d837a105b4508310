// The JSON API (mounted at /api): the pages' data and actions for automation, with the same scope rules
// (requireDomain / requireChange / requireJob) and the same CSRF rule for cookie sessions.
import { Router, type Response } from 'express';
import type { DomainRef } from '../../core/model.js';
import type { AppContext } from '../app.js';
import { applyFilter, parseFilter, rowsFor, sortWorstFirst, toCsv } from '../domain-list.js';
import { ctx, HttpError, identityOf, list, openedFromAnotherSite, refuseIfOpenedFromAnotherSite, requireChange, requireDomain, requireJob, requireLogin, scopedDomains, scopeOf, str, takeToken } from '../http.js';
import { atStage, auditAndRecord, applyFix, bulkOutcomeOutOfScope, latestOrAudit, outcomeHttpStatus, outcomeJson, planJson, previewFix, shownAudit, shownChange, shownJobResults, shownOutcome, undoOnce } from '../services.js';
import { isUnrecordedCheck, logUnrecordedCheck, reverify, reverifyStale, unrecordedCheckText, verifyRefusal } from '../reverify.js';
import { matching } from './bulk.js';
import { parseCheck, parseTerms } from './fix.js';
import { PLAN_HASH } from '../../core/plans/plan.js';
import { beforeParam, HISTORY_PAGE, historyDomains, historyFilter, undoProblem } from './history.js';
import { unsettledUndoReason } from '../../core/plans/settling.js';

/**
 * The terms selected for removal in a POST …/fix body: `remove`, as GET …/fix takes them (README), or `removeTerms`, as
 * the web form posts them — read with one name only, the preview's hash looked like a changed zone (409 "changed").
 * Each a list of strings (a string alone: one term, as a form field given once); anything else, or both names with
 * different terms, is a 400: a guess would apply a plan the caller did not preview.
 */
function bodyTerms(body: Record<string, unknown>): string[] {
  const read = (name: string): string[] | undefined => {
    const v = body[name];
    // null: not given (a JSON client sending an optional field as null), as before.
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'))) return parseTerms(v);
    throw new HttpError(400, `${name} takes a list of terms (strings), as GET …/fix?remove= takes them.`);
  };
  const remove = read('remove');
  const removeTerms = read('removeTerms');
  if (remove && removeTerms && [...remove].sort().join('\n') !== [...removeTerms].sort().join('\n')) {
    throw new HttpError(400, 'remove and removeTerms name different terms: send the terms once, in remove.');
  }
  return remove ?? removeTerms ?? [];
}

export function apiRoutes(c: AppContext): Router {
  const r = Router();
  r.use(requireLogin);

  const rows = async (res: Parameters<typeof scopeOf>[1], query: Record<string, unknown>) =>
    applyFilter(sortWorstFirst(rowsFor(c.store, await scopeOf(c, res))), parseFilter(query));

  r.get('/me', (_req, res) => {
    res.json({ ...identityOf(res), csrf: ctx(res).authVia === 'token' ? null : ctx(res).csrf });
  });

  r.get('/domains', async (req, res) => {
    res.json(
      (await rows(res, req.query as Record<string, unknown>)).map((d) => ({ domain: d.domain, status: d.status, owner: d.owner, checks: d.checks, auditedAt: d.auditedAt })),
    );
  });

  r.get('/domains/:domain', requireDomain(c), async (req, res) => {
    const me = identityOf(res);
    const a = await latestOrAudit(c, me, ctx(res).domainRef!, () => {
      // (A browser sent here by another site's link: nothing audited, no token — as the pages, http.ts.)
      refuseIfOpenedFromAnotherSite(req, `This audit of ${ctx(res).domainRef!.domain}`, 'Audit it');
      takeToken(c, 'audit', me.user, 'api');
    });
    res.json({ domain: a.domain, status: a.status, auditedAt: a.auditedAt, findings: a.findings });
  });

  r.post('/domains/:domain/audit', requireDomain(c), async (_req, res) => {
    const me = identityOf(res);
    takeToken(c, 'audit', me.user, 'api');
    const ref = ctx(res).domainRef!;
    const a = shownAudit(c.store, (await atStage('audit', `POST /api/domains/${ref.domain}/audit`, () => auditAndRecord(c, me, [ref])))[0]);
    res.json({ domain: a.domain, status: a.status, auditedAt: a.auditedAt, findings: a.findings });
  });

  r.get('/domains/:domain/fix', requireDomain(c), async (req, res) => {
    const check = parseCheck(req.query.check);
    const removeTerms = parseTerms(req.query.remove);
    refuseIfOpenedFromAnotherSite(req, `This preview of the ${check} fix for ${ctx(res).domainRef!.domain}`, 'Preview it');
    takeToken(c, 'audit', identityOf(res).user, 'api');
    const { plan, unknownTerms, serviceTerms } = await previewFix(c, ctx(res).domainRef!.domain, check, removeTerms);
    res.json({ ...planJson(plan), unknownTerms, serviceTerms });
  });

  r.post('/domains/:domain/fix', requireDomain(c), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const planHash = str(body.planHash);
    if (!planHash) throw new HttpError(400, 'planHash is required (from GET …/fix)');
    if (!PLAN_HASH.test(planHash)) throw new HttpError(400, 'planHash is not a valid plan hash (sha256: and 64 hex digits, from GET …/fix)');
    const ref = ctx(res).domainRef!;
    const input = { check: parseCheck(body.check), planHash, removeTerms: bodyTerms(body) };
    // A failing history database: said in words of mailhealth's own (services.ts atStage, shownOutcome).
    const outcome = shownOutcome(c.store, 'fix', ref.domain, await atStage('fix', `POST /api/domains/${ref.domain}/fix`, () => applyFix(c, identityOf(res), ref, input)));
    res.status(outcomeHttpStatus(outcome)).json(outcomeJson(outcome));
  });

  r.get('/changes', async (req, res) => {
    // ?domain=: one domain's changes (as /history?domain=); not a domain name → 400 with the reason, nothing listed.
    const filter = historyFilter(req.query.domain);
    if (!filter.ok) throw new HttpError(400, filter.message);
    // ?before=ID: the changes older than change ID (paging: pass the last id of the previous answer); ?limit=N (1–500,
    // default 100). The answer stays a list, newest first.
    const before = beforeParam(req.query.before);
    if (before === null) throw new HttpError(400, 'before= takes a change number: the changes older than it are listed.');
    const limitRaw = req.query.limit;
    const limit = limitRaw === undefined ? HISTORY_PAGE : typeof limitRaw === 'string' && /^[1-9][0-9]{0,2}$/.test(limitRaw) && Number(limitRaw) <= 500 ? Number(limitRaw) : null;
    if (limit === null) throw new HttpError(400, 'limit= takes a whole number from 1 to 500.');
    const domains = await historyDomains(c, res, filter.domain);
    res.json((await reverifyStale(c, identityOf(res).user, c.store.changesForDomains(domains, limit, before), !openedFromAnotherSite(req))).map((ch) => shownChange(c.store, ch)));
  });

  r.post('/changes/:id/verify', requireChange(c), async (_req, res) => {
    const ch = ctx(res).change!;
    // Every refusal in one shape (`error` as every API error has it, `status`/`reason`/`replacedBy` as the CLI's
    // `verify --json`), answered before a token is taken: a refusal costs nothing.
    const refuse = (r: { reason: string; replacedBy?: number }) =>
      res.status(409).json({ error: r.reason, status: 'refused', reason: r.reason, ...(r.replacedBy !== undefined ? { replacedBy: r.replacedBy } : {}) });
    const refused = await atStage('verify', `POST /api/changes/${ch.id}/verify`, () => verifyRefusal(ch, c.store));
    if (refused) return void refuse(refused);
    takeToken(c, 'audit', identityOf(res).user, 'api');
    const out = await atStage('verify', `POST /api/changes/${ch.id}/verify`, () => reverify(c, ch));
    if (out.status === 'refused') return void refuse(out);
    if (isUnrecordedCheck(out)) {
      // Checked, but the history could not store the answer: the change as read before the check, with the answer found
      // (`verified`), `recorded: false` and `message` saying so — as the CLI's `verify --json` (200: the check was made and
      // its answer given). The store's own error goes to the log only.
      logUnrecordedCheck(`POST /api/changes/${ch.id}/verify`, out);
      res.json({ ...shownChange(c.store, ch), verified: out.verified, recorded: false, message: unrecordedCheckText(ch, out) });
      return;
    }
    const stored = c.store.getChange(ch.id);
    res.json(stored && { ...shownChange(c.store, stored), recorded: true });
  });

  r.post('/changes/:id/undo', requireChange(c), async (req, res) => {
    // Interrupted and not settled yet (its domain lock still held, or its zone unreadable): say so, not "intent, not
    // applied" — and when the settling just made put the records back but could not record it, that (settling.ts).
    const ch = ctx(res).change!;
    await atStage('undo', `POST /api/changes/${ch.id}/undo`, async () => {
      const unsettled = unsettledUndoReason(c.store, ch.id, undoProblem(c, req, ch.id));
      if (unsettled) {
        res.status(409).json({ status: 'refused', reason: unsettled, why: 'settling', undoOf: ch.id });
        return;
      }
      // A retried undo (the same user's, already made or being made) answers "already" with that undo, as a retried fix.
      const outcome = shownOutcome(c.store, 'undo', ch.domain, await undoOnce(c, identityOf(res), ch, ctx(res).domainRef!));
      res.status(outcomeHttpStatus(outcome)).json({ ...outcomeJson(outcome), undoOf: ch.id });
    });
  });

  r.post('/bulk', async (req, res) => {
    const me = identityOf(res);
    if (me.role === 'customer') throw new HttpError(403, 'bulk audits are for resellers and admins');
    if (c.noBackgroundJobs) throw new HttpError(503, c.noBackgroundJobs);
    takeToken(c, 'bulk', me.user, 'api');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const names = list(body.domains);
    let refs: DomainRef[];
    if (names.length) {
      const found = await scopedDomains(c, res, names);
      // Every name must be one of the caller's domains: a silently shorter job would look like a complete one.
      if (found.notFound.length) throw new HttpError(400, `not your domains (or not domain names): ${found.notFound.slice(0, 20).join(', ')}`);
      refs = found.refs;
    } else refs = await matching(c, await scopeOf(c, res), body);
    if (refs.length === 0) throw new HttpError(400, 'no domains match');
    const id = await atStage('job', 'POST /api/bulk', () => c.runner.start(me, refs, { filter: parseFilter(body), domains: names.length || undefined }));
    res.status(202).json({ jobId: id, total: refs.length });
  });

  r.get('/jobs/:id', requireJob(c), async (req, res) => {
    const since = Number(req.query.since);
    res.json(await inScope(res, jobView(ctx(res).job!.id, Number.isInteger(since) && since > 0 ? since : 0)));
  });

  r.post('/jobs/:id/cancel', requireJob(c), async (_req, res) => {
    const ok = await atStage('cancel', 'POST /api/jobs/:id/cancel', () => c.runner.cancel(ctx(res).job!.id));
    res.json({ cancelRequested: ok, job: await inScope(res, jobView(ctx(res).job!.id, Number.MAX_SAFE_INTEGER)) });
  });

  /**
   * A job as the API shows it: its rows as stored, a previous version's naming the history database's file withheld
   * (its error likewise: BulkRunner.view, jobs.ts shownJob).
   */
  function jobView(id: number, since: number) {
    const view = c.runner.view(c.store.getJob(id)!, since);
    return { ...view, results: shownJobResults<{ domain: string }>(c.store, id, view.results) as typeof view.results };
  }

  /**
   * A job's results as this request's identity may see them now: the results of the domains in its scope today only —
   * a customer moved to another reseller since the job started, or a front door's narrowed list (Plesk's) that changed,
   * takes those domains' results out of the old job's view, as it does everywhere else.
   */
  async function inScope<V extends { results: { domain: string; status: string; why?: string }[] }>(res: Response, view: V): Promise<V> {
    const scope = new Set((await scopeOf(c, res)).map((d) => d.domain));
    // A domain removed from the panel meanwhile is in nobody's scope: its row says only that (no audit data). A bulk
    // fix's "no longer in your scope" row likewise says only that nothing was written (as the job's page shows it).
    return { ...view, results: view.results.filter((x) => x.status === 'gone' || bulkOutcomeOutOfScope(x) || scope.has(x.domain)) };
  }

  r.get('/export.csv', async (req, res) => {
    res.type('text/csv').attachment('mailhealth-domains.csv').send(toCsv(await rows(res, req.query as Record<string, unknown>)));
  });

  r.get('/export.json', async (req, res) => {
    const out = await rows(res, req.query as Record<string, unknown>);
    res.attachment('mailhealth-domains.json').json({ generatedAt: c.now().toISOString(), domains: out });
  });

  return r;
}
