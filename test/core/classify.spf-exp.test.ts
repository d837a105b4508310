// SPF exp= and the classifier. exp= names no sender: whose its name is (the customer's own, a previous host's) is judged
// by src/core/spf/exp.ts (judgeExp), which the SPF check and the SPF fix ask. The classifier still answered `keep`
// ("explanation text only") for an exp= handed to spfTerm — a branch neither caller reached any more, and an answer
// that disagreed with exp.ts (a previous host's exp= is stale there). The branch is gone: such a term is unknown, never
// kept; and the check and the fix are shown never to hand an exp= (or any modifier but redirect=) to spfTerm.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../src/core/checks/spf.js';
import type { CheckContext, Classifier } from '../../src/core/checks/context.js';
import { parseTerm } from '../../src/core/spf/parse.js';
import type { ZoneRecord } from '../../src/core/model.js';
import { planSpf } from '../../src/core/plans/spf.js';
import type { ZoneMap } from '../helpers/map-resolver.js';
import { SPF_QA_WORLD } from '../helpers/spf-qa-world.js';
import { checkContext, SERVER_IP } from './checks/context.js';

const D = 'moved.example';
const OWN = `ip4:${SERVER_IP}`;

/** A context whose classifier records every term spfTerm is asked about. */
function recording(records: string[], extra: ZoneMap = {}): { ctx: CheckContext; zone: ZoneRecord[]; asked: string[] } {
  const map: ZoneMap = { ...SPF_QA_WORLD, ...extra, [D]: { ...(extra[D] ?? {}), TXT: records.map((r) => [r]) } };
  const zone: ZoneRecord[] = [
    { name: D, ttl: 3600, type: 'NS', value: 'ns1.newhost.example', ref: 'ns1' },
    ...records.map((r, i) => ({ name: D, ttl: 3600, type: 'TXT', value: r, txt: [r], ref: `spf${i}` }) as ZoneRecord),
  ];
  const ctx = checkContext(D, map, {}, zone);
  const asked: string[] = [];
  const inner = ctx.classifier;
  const classifier: Classifier = {
    spfTerm: (term) => (asked.push(term), inner.spfTerm(term)),
    host: (h) => inner.host(h),
    ip: (ip) => inner.ip(ip),
    dkimKey: (s, k, a) => inner.dkimKey(s, k, a),
    lockdownId: (f, v) => inner.lockdownId(f, v),
    reportAddress: (a) => inner.reportAddress(a),
  };
  return { ctx: { ...ctx, classifier }, zone, asked };
}

describe('SPF exp= is judged by spf/exp.ts, not by the classifier', () => {
  test('neither the SPF check nor the SPF fix asks spfTerm about exp= or another modifier but redirect=', async () => {
    const cases: { records: string[]; extra?: ZoneMap; remove?: string[] }[] = [
      { records: [`v=spf1 ${OWN} exp=explain.websitewelcome.com -all`] },
      { records: [`v=spf1 ${OWN} include:websitewelcome.com exp=explain.websitewelcome.com -all`] },
      { records: [`v=spf1 ${OWN} exp=explain.moved.example -all`] },
      { records: [`v=spf1 ${OWN} exp=explain.somewhere.example -all`], remove: ['exp=explain.somewhere.example'] },
      { records: [`v=spf1 ${OWN} exp=explain._spf.%{d} foo=bar -all`] },
      // Two records merged, each with an exp= (one is dropped as the second), and a redirect= beside one.
      { records: [`v=spf1 ${OWN} exp=explain.websitewelcome.com -all`, `v=spf1 mx exp=why.moved.example redirect=_spf.google.com`], extra: { [D]: { MX: [{ priority: 10, exchange: 'server1.newhost.example' }] } } },
    ];
    for (const c of cases) {
      const check = recording(c.records, c.extra);
      await spfCheck(check.ctx);
      const fix = recording(c.records, c.extra);
      await planSpf(fix.ctx, fix.zone, c.remove ? { removeTerms: c.remove } : {});
      for (const term of [...check.asked, ...fix.asked]) {
        const t = parseTerm(term);
        assert.ok(t.kind !== 'modifier' || t.modifier === 'redirect', `${c.records.join(' | ')}: spfTerm was asked about ${term}`);
      }
      assert.ok(check.asked.length > 0 && fix.asked.length > 0, 'the other terms are classified');
    }
  });

  test('an exp= handed to spfTerm anyway is unknown — not kept as "explanation text only" (exp.ts may find it stale)', async () => {
    const { ctx } = recording([`v=spf1 ${OWN} -all`]);
    for (const term of ['exp=explain.websitewelcome.com', 'exp=explain.moved.example']) {
      const c = await ctx.classifier.spfTerm(term);
      assert.equal(c.class, 'unknown', `${term}: ${c.reason}`);
      assert.match(c.reason, /a modifier that names no sender/);
    }
    // redirect= still names the record receivers evaluate instead: classified by its target.
    assert.equal((await ctx.classifier.spfTerm('redirect=websitewelcome.com')).class, 'stale');
  });
});
