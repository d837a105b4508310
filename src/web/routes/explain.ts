// /explain: paste the bounce a customer got; see the receiver, what the code means, and the findings of the sender
// domain that cause it (linking to the domain page and its fix). JSON: POST /api/explain {text, domain?}.
// The domain audited is the one chosen in the form (`domain`: one of the user's own; empty: the one the bounce names).
import { Router, type Request, type Response } from 'express';
import { dnsHeadline, explainBounce, explanationJson, type AuditState, type BounceExplanation } from '../../core/bounce/explain.js';
import { isParseError, parseBounce } from '../../core/bounce/parse.js';
import { checkDomain } from '../../core/domain.js';
import type { DomainAudit, DomainRef } from '../../core/model.js';
import type { AppContext } from '../app.js';
import { HttpError, identityOf, NOT_FOUND_MESSAGE, requireLogin, scopeOf, str, takeToken } from '../http.js';
import { atStage, auditAndRecord } from '../services.js';
import { auditOptionsFrom } from '../../core/settings.js';
import { viewHelpers } from '../view-model.js';
import { chooser } from './choosers.js';

interface Explained {
  ex: BounceExplanation;
  inScope: boolean;
  /** Whether the sender domain's DNS was audited, and if not why (no domain in the bounce, or one outside the scope). */
  auditState: AuditState;
  /** Notes of the route's own (the domain outside the user's scope), after the explanation's. */
  notes: string[];
}

type Surface = 'page' | 'api';

/** How to choose the domain, in the words of each surface (the note when the bounce names none). */
const CHOOSE_HINT: Record<Surface, string> = {
  page: 'choose the domain to audit under "Domain to audit" in the form above, then explain again',
  api: 'send the domain to audit as "domain" in the request body (one of your domains)',
};

/**
 * The domain chosen in the form or the API body: null when none (empty: the one the bounce names). Anything else goes
 * through the one domain validator and the one scope check — invalid, nonexistent or somebody else's is the same 404
 * as every domain page (requireDomain).
 */
async function chosenDomain(c: AppContext, req: Request, res: Response): Promise<DomainRef | null> {
  const raw: unknown = (req.body as Record<string, unknown> | undefined)?.domain;
  if (raw === undefined || raw === null || raw === '') return null;
  if (typeof raw !== 'string') throw new HttpError(400, 'domain: send one domain name (or none: the one the bounce names).');
  if (!raw.trim()) return null;
  const d = checkDomain(raw.trim());
  const ref = d.ok ? (await scopeOf(c, res)).find((x) => x.domain === d.domain) : undefined;
  if (!ref) throw new HttpError(404, NOT_FOUND_MESSAGE);
  return ref;
}

async function explain(c: AppContext, res: Response, text: string, chosen: DomainRef | null, surface: Surface): Promise<{ error: string } | Explained> {
  const parsed = parseBounce(text);
  if (isParseError(parsed)) return { error: parsed.error };
  let audit: DomainAudit | null = null;
  let inScope = false;
  const notes: string[] = [];
  const target = chosen?.domain ?? parsed.domain;
  const options = auditOptionsFrom(c.store);
  if (target) {
    const ref = chosen ?? (await scopeOf(c, res)).find((d) => d.domain === target);
    if (ref) {
      inScope = true;
      const me = identityOf(res);
      takeToken(c, 'audit', me.user);
      audit = (await atStage('audit', `explaining a bounce: auditing ${ref.domain}`, () => auditAndRecord(c, me, [ref])))[0];
    } else notes.push(`${target} is not a domain you may audit here: only the code is explained.`);
  }
  // A domain outside the identity's scope is never audited or named as known: only the code is explained (the same
  // words whether the domain is another customer's or on no panel at all).
  const auditState: AuditState = audit ? 'audited' : target ? 'out-of-scope' : 'no-domain';
  const ex = explainBounce(parsed, audit, undefined, {
    chosenDomain: chosen?.domain ?? null,
    blocklistsChecked: (options.blocklists?.length ?? 0) > 0,
    ...(options.blocklists?.length ? { blocklistZones: options.blocklists } : {}),
    chooseDomainHint: CHOOSE_HINT[surface],
  });
  return { ex, inScope, auditState, notes };
}

export function explainRoutes(c: AppContext): Router {
  const r = Router();
  r.use(['/explain', '/api/explain'], requireLogin);

  /**
   * The page's locals: the user's own domains for the "Domain to audit" choice (null past CHOOSER_SELECT_MAX: a text
   * field, checked by chosenDomain as the select's value is), and the one chosen.
   */
  const page = async (res: Response, more: Record<string, unknown>) => ({
    title: 'Explain a bounce',
    text: '',
    chosen: '',
    result: null,
    error: null,
    domainError: false,
    h: viewHelpers,
    domains: chooser((await scopeOf(c, res)).map((d) => d.domain).sort(), undefined).options,
    isAdmin: identityOf(res).role === 'admin',
    ...more,
  });

  r.get('/explain', async (_req, res) => {
    res.render('explain', await page(res, {}));
  });

  r.post('/explain', async (req, res) => {
    const text = str(req.body?.text);
    let chosen: DomainRef | null;
    try {
      chosen = await chosenDomain(c, req, res);
    } catch (e) {
      // Not one of the user's domains (a typo in the text field, or somebody else's): the same 404 and words as every
      // domain page, on the form again with the pasted bounce and what was typed, so that only the domain needs fixing.
      if (!(e instanceof HttpError) || e.status !== 404) throw e;
      const typed = typeof req.body?.domain === 'string' ? (req.body.domain as string).trim().slice(0, 300) : '';
      const error = `${NOT_FOUND_MESSAGE} "Domain to audit" takes one of your domains as your Domains page lists it, or nothing for the one the bounce names. Nothing was audited.`;
      res.status(404).render('explain', await page(res, { text, chosen: typed, error, domainError: true }));
      return;
    }
    let out: Awaited<ReturnType<typeof explain>>;
    try {
      out = await explain(c, res, text, chosen, 'page');
    } catch (e) {
      // The audit's rate limit (429): the form again with the pasted bounce and the domain chosen, and when the next
      // audit is allowed — an error page linking only "Back to your domains" lost the pasted text (review R9).
      if (!(e instanceof HttpError) || e.status !== 429) throw e;
      if (e.retryAfterSeconds !== undefined) res.set('Retry-After', String(e.retryAfterSeconds));
      res.status(429).render('explain', await page(res, { text, chosen: chosen?.domain ?? '', error: `${e.message} Nothing was audited; the form keeps your text, to explain it again then.`, limited: true }));
      return;
    }
    if ('error' in out) {
      res.status(400).render('explain', await page(res, { text, chosen: chosen?.domain ?? '', error: out.error }));
      return;
    }
    res.render(
      'explain',
      await page(res, {
        text,
        chosen: chosen?.domain ?? '',
        result: out.ex,
        inScope: out.inScope,
        headline: dnsHeadline(out.ex, out.auditState),
        notes: [...out.ex.notes, ...out.notes],
      }),
    );
  });

  r.post('/api/explain', async (req, res) => {
    const chosen = await chosenDomain(c, req, res);
    const out = await explain(c, res, str(req.body?.text), chosen, 'api');
    if ('error' in out) {
      res.status(400).json({ error: out.error });
      return;
    }
    res.json(explanationJson(out.ex, out.notes));
  });
  return r;
}
