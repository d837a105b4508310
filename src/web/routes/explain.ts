// /explain: paste the bounce a customer got; see the receiver, what the code means, and the findings of the sender
// domain that cause it (linking to the domain page and its fix). JSON: POST /api/explain {text}.
import { Router, type Response } from 'express';
import { explainBounce, explanationJson, type BounceExplanation } from '../../core/bounce/explain.js';
import { isParseError, parseBounce } from '../../core/bounce/parse.js';
import type { DomainAudit } from '../../core/model.js';
import type { AppContext } from '../app.js';
import { identityOf, requireLogin, scopeOf, str, takeToken } from '../http.js';
import { auditAndRecord } from '../services.js';
import { viewHelpers } from '../view-model.js';

async function explain(c: AppContext, res: Response, text: string): Promise<{ error: string } | { ex: BounceExplanation; inScope: boolean }> {
  const parsed = parseBounce(text);
  if (isParseError(parsed)) return { error: parsed.error };
  let audit: DomainAudit | null = null;
  let inScope = false;
  if (parsed.domain) {
    const ref = (await scopeOf(c, res)).find((d) => d.domain === parsed.domain);
    if (ref) {
      inScope = true;
      const me = identityOf(res);
      takeToken(c, 'audit', me.user);
      audit = (await auditAndRecord(c, me, [ref]))[0];
    }
  }
  // A domain outside the identity's scope is never audited or named as known: only the code is explained.
  return { ex: explainBounce(parsed, audit), inScope };
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
    res.render('explain', { title: 'Explain a bounce', text, result: out.ex, inScope: out.inScope, error: null, h: viewHelpers });
  });

  r.post('/api/explain', async (req, res) => {
    const out = await explain(c, res, str(req.body?.text));
    if ('error' in out) {
      res.status(400).json({ error: out.error });
      return;
    }
    res.json(explanationJson(out.ex));
  });
  return r;
}
