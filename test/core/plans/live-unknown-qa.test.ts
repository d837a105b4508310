// QA defect: a live timeout or SERVFAIL on the very record a fix rewrites. The audit says `<check>.dns-error`
// ("Nothing is changed until DNS answers"), so the fix, planned from the panel's zone in apply mode, must not be
// offered or applied either: makePlanWith asks live DNS for the names the fix owns (TXT) and refuses to plan while one
// of them is unknown. NXDOMAIN and NODATA are answers; only the fix's own names are asked.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { FixKind, ZoneRecord } from '../../../src/core/model.js';
import type { Answer, Resolver, RRType } from '../../../src/core/resolver.js';
import { applyPlan } from '../../../src/core/plans/apply.js';
import { makePlan, makePlanWith, PlanError } from '../../../src/core/plans/index.js';
import { startPlay, type Play } from '../../helpers/fixplay.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { MapResolver } from '../../helpers/map-resolver.js';
import { checkContext } from '../checks/context.js';

const D = 'qa.example';
const NS = ['ns1.newhost.example', 'ns2.newhost.example'];
const MC = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } };
const txt = (name: string, value: string): ZoneRecord => ({ name, ttl: 3600, type: 'TXT', value, txt: [value] });

/** The panel's zone: a record of each fix that its fix would rewrite. */
const ZONE: ZoneRecord[] = [
  txt(D, 'v=spf1 include:websitewelcome.com ~all'),
  txt(`default._domainkey.${D}`, 'v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC2QYjS1lNpNE'),
  txt(`_mailchannels.${D}`, 'v=mc1 auth=dreamhost'),
  txt(`_dmarc.${D}`, 'v=DMARC1; p=none; rua=dmarc@old.example'),
];
const OWNED: Record<FixKind, string> = { spf: D, dkim: `default._domainkey.${D}`, lockdown: `_mailchannels.${D}`, dmarc: `_dmarc.${D}` };

describe('makePlanWith (apply mode): an unknown live answer at an owned name → no plan', () => {
  for (const check of ['spf', 'dkim', 'lockdown', 'dmarc'] as const) {
    for (const failure of ['SERVFAIL', 'TIMEOUT'] as const) {
      test(`${check}: ${failure} at ${OWNED[check]} TXT → PlanError`, async () => {
        const map: ZoneMap = { [D]: { NS }, [OWNED[check]]: { ...(check === 'spf' ? { NS } : {}), TXT: failure } };
        const ctx = checkContext(D, map, MC, ZONE);
        await assert.rejects(makePlanWith(ctx, check), (e: unknown) => {
          assert.ok(e instanceof PlanError, String(e));
          assert.equal(e.message, `Could not read the live TXT at ${OWNED[check]} (DNS ${failure === 'SERVFAIL' ? 'servfail' : 'timeout'}): no plan until DNS answers.`);
          return true;
        });
      });
    }
  }

  test("another fix's name failing does not block this one; NXDOMAIN/NODATA at the owned name are answers", async () => {
    // _dmarc times out, _mailchannels is NXDOMAIN: the lockdown plan is made (stale auth= replaced).
    const ctx = checkContext(D, { [D]: { NS }, [`_dmarc.${D}`]: { TXT: 'TIMEOUT' } }, MC, ZONE);
    const plan = await makePlanWith(ctx, 'lockdown');
    assert.equal(plan.blocked, undefined);
    assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.after?.value}`), ['edit v=mc1 auth=newhostmc']);
    // NODATA at _mailchannels (the name exists, no TXT): also an answer.
    const nodata = checkContext(D, { [D]: { NS }, [`_mailchannels.${D}`]: { A: ['192.0.2.1'] } }, MC, ZONE);
    assert.equal((await makePlanWith(nodata, 'lockdown')).changes.length, 1);
  });

  test('cost: one question more, at the fix’s own name only', async () => {
    const resolver = new MapResolver({ [D]: { NS }, [`_mailchannels.${D}`]: { TXT: [['v=mc1 auth=dreamhost']] } });
    const ctx = { ...checkContext(D, {}, MC, ZONE), resolver };
    await makePlanWith(ctx, 'lockdown');
    assert.deepEqual(resolver.log.filter((q) => !q.endsWith(' NS')), [`_mailchannels.${D} TXT`]);
  });
});

describe('QA repro through the files panel: a preview made while DNS answered cannot be applied once it does not', () => {
  let play: Play | null = null;
  afterEach(async () => {
    await play?.close();
    play = null;
  });

  /** The play's resolver with these questions answered unknown, as the wire resolver reports SERVFAIL/timeouts. */
  function failing(p: Play, questions: string[], error = 'servfail'): Resolver {
    const base = p.resolver();
    return {
      async resolve<T extends RRType>(name: string, type: T): Promise<Answer<T>> {
        if (questions.includes(`${name.toLowerCase().replace(/\.$/, '')} ${type}`)) return { name, type, status: 'unknown', records: [], error };
        return base.resolve(name, type);
      },
    };
  }

  for (const [domain, check, name, error] of [
    ['bakery.example', 'spf', 'bakery.example', 'servfail'],
    ['plumber.example', 'dkim', 'default._domainkey.plumber.example', 'timeout'],
    ['florist.example', 'lockdown', '_mailchannels.florist.example', 'servfail'],
    ['florist.example', 'dmarc', '_dmarc.florist.example', 'timeout'],
  ] as const) {
    test(`${check} on ${domain}: ${error} at ${name} → no plan, apply refused, nothing written`, async () => {
      const p = (play ??= await startPlay());
      const preview = await p.plan(domain, check);
      assert.ok(preview.changes.length > 0, `${check}: the preview has something to change`);
      const before = p.zoneText(domain);
      await assert.rejects(makePlan({ domain, check }, { panel: p.panel, resolver: failing(p, [`${name} TXT`], error) }), {
        name: 'PlanError',
        message: `Could not read the live TXT at ${name} (DNS ${error}): no plan until DNS answers.`,
      });
      const out = await applyPlan({ domain, check, planHash: preview.planHash }, p.deps({ resolver: failing(p, [`${name} TXT`], error) }));
      assert.equal(out.status, 'refused');
      assert.match(out.status === 'refused' ? out.reason : '', /no plan until DNS answers/);
      assert.equal(p.zoneText(domain), before);
      assert.deepEqual(p.store.changesForDomain(domain), []);
    });
  }
});
