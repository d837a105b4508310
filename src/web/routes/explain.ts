// /explain: paste the bounce a customer got; see the receiver, what the code means, and the findings of the sender
// domain that cause it (linking to the domain page and its fix). JSON: POST /api/explain {text}.
import { Router, type Response } from 'express';
import { dnsHeadline, explainBounce, explanationJson, type AuditState, type BounceExplanation } from '../../core/bounce/explain.js';
import { isParseError, parseBounce } from '../../core/bounce/parse.js';
import type { DomainAudit } from '../../core/model.js';
import type { AppContext } from '../app.js';
import { identityOf, requireLogin, scopeOf, str, takeToken } from '../http.js';
import { auditAndRecord } from '../services.js';
import { viewHelpers } from '../view-model.js';

interface Explained {
  ex: BounceExplanation;
  inScope: boolean;
  /** Whether the sender domain's DNS was audited, and if not why (no domain in the bounce, or one outside the scope). */
  auditState: AuditState;
  /** Notes of the route's own (the domain outside the user's scope), after the explanation's. */
  notes: string[];
}

async function explain(c: AppContext, res: Response, text: string): Promise<{ error: string } | Explained> {
  const parsed = parseBounce(text);
  if (isParseError(parsed)) return { error: parsed.error };
  let audit: DomainAudit | null = null;
  let inScope = false;
  const notes: string[] = [];
  if (parsed.domain) {
    const ref = (await scopeOf(c, res)).find((d) => d.domain === parsed.domain);
    if (ref) {
      inScope = true;
      const me = identityOf(res);
      takeToken(c, 'audit', me.user);
      audit = (await auditAndRecord(c, me, [ref]))[0];
    } else notes.push(`${parsed.domain} is not a domain you may audit here: only the code is explained.`);
  }
  // A domain outside the identity's scope is never audited or named as known: only the code is explained (the same
  // words whether the domain is another customer's or on no panel at all).
  const auditState: AuditState = audit ? 'audited' : parsed.domain ? 'out-of-scope' : 'no-domain';
  return { ex: explainBounce(parsed, audit), inScope, auditState, notes };
}

export function explainRoutes(c: AppContext): Router {
  const r = Router();
  r.use(['/explain', '/api/explain'], requireLogin);

  r.get('/explain', (_req, res) => {
    res.render('explain', { title: 'Explain a bounce', text: '', result: null, error: null, h: viewHelpers });
  });

  r.post('/explain', async (req, res) => {
    const text = str(req.body?.text);
    const out = await explain(c, res, text);
    if ('error' in out) {
      res.status(400).render('explain', { title: 'Explain a bounce', text, result: null, error: out.error, h: viewHelpers });
      return;
    }
    res.render('explain', {
      title: 'Explain a bounce',
      text,
      result: out.ex,
      inScope: out.inScope,
      headline: dnsHeadline(out.ex, out.auditState),
      notes: [...out.ex.notes, ...out.notes],
      error: null,
      h: viewHelpers,
    });
  });

  r.post('/api/explain', async (req, res) => {
    const out = await explain(c, res, str(req.body?.text));
    if ('error' in out) {
      res.status(400).json({ error: out.error });
      return;
    }
    res.json(explanationJson(out.ex, out.notes));
  });
  return r;
}
