// The QA SPF scenarios end to end (files panel + loopback DNS + SQLite history, as `mailhealth fix` runs them): a
// record receivers answer with permerror is never "nothing to change" — the plan is blocked (apply refuses it), and
// the unknown include the block names goes once selected; a relay include with "~" is made plain and the audit then
// passes.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { auditDomain } from '../../../src/core/audit.js';
import { applyPlan } from '../../../src/core/plans/apply.js';
import { makePlan } from '../../../src/core/plans/index.js';
import type { Answer, Resolver, RRType } from '../../../src/core/resolver.js';
import { startPlay, TODAY, type Play } from '../../helpers/fixplay.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';

let play: Play | null = null;
afterEach(async () => {
  await play?.close();
  play = null;
});

const DOMAIN = 'clean.example'; // v=spf1 +a +mx include:relay.mailchannels.net ~all; the demo server relays through MailChannels
const WORLD: ZoneMap = { 'broken.vendor.example': { TXT: [['v=spf1 ip4:198.51.100.300 ~all']] } };

/** The play's DNS, with the names in WORLD answered from the map instead. */
function withWorld(base: Resolver): Resolver {
  const map = new MapResolver(WORLD);
  const pick = (name: string) => Object.hasOwn(WORLD, name.toLowerCase().replace(/\.$/, ''));
  return {
    resolve<T extends RRType>(name: string, type: T): Promise<Answer<T>> {
      return pick(name) ? map.resolve(name, type) : base.resolve(name, type);
    },
    resolveAt<T extends RRType>(servers: string[], name: string, type: T): Promise<Answer<T>> {
      return pick(name) ? map.resolve(name, type) : base.resolveAt!(servers, name, type);
    },
  };
}

function setSpf(p: Play, spf: string): void {
  p.writeZone(DOMAIN, p.zoneText(DOMAIN).replace(/"v=spf1[^"]*"/, `"${spf}"`));
  p.refresh();
}

async function spfFindings(p: Play) {
  const a = await auditDomain(DOMAIN, { panel: p.panel, resolver: withWorld(p.resolver()), checks: ['spf'], now: () => TODAY });
  return a.findings.filter((f) => f.check === 'spf');
}

describe('SPF fix end to end (QA scenarios)', () => {
  test('spfnestbad: blocked with the include named (no "nothing to change"), apply refuses; selected, it goes and SPF passes', async () => {
    const p = (play = await startPlay());
    setSpf(p, 'v=spf1 include:broken.vendor.example include:relay.mailchannels.net ~all');
    const before = p.zoneText(DOMAIN);
    const plan = await makePlan({ domain: DOMAIN, check: 'spf' }, { panel: p.panel, resolver: withWorld(p.resolver()) });
    assert.deepEqual(plan.changes, []);
    assert.match(plan.blocked ?? '', /include:broken\.vendor\.example leads to a record receivers cannot evaluate/, plan.blocked);
    const refused = await applyPlan({ domain: DOMAIN, check: 'spf', planHash: plan.planHash }, p.deps({ resolver: withWorld(p.resolver()) }));
    assert.equal(refused.status, 'refused', JSON.stringify(refused));
    assert.equal(p.zoneText(DOMAIN), before);

    const options = { removeTerms: ['include:broken.vendor.example'] };
    const chosen = await makePlan({ domain: DOMAIN, check: 'spf', options }, { panel: p.panel, resolver: withWorld(p.resolver()) });
    assert.equal(chosen.blocked, undefined, chosen.blocked);
    const out = await applyPlan({ domain: DOMAIN, check: 'spf', planHash: chosen.planHash, options }, p.deps({ resolver: withWorld(p.resolver()) }));
    assert.equal(out.status, 'applied', JSON.stringify(out));
    const fs = await spfFindings(p);
    assert.ok(fs.some((f) => f.rule === 'spf.ok'), fs.map((f) => `${f.rule} ${f.message}`).join('\n'));
  });

  test('spfnegrelay: ~include:relay.mailchannels.net is made plain, and the audit then passes', async () => {
    const p = (play = await startPlay());
    setSpf(p, 'v=spf1 ~include:relay.mailchannels.net -all');
    const failing = await spfFindings(p);
    assert.ok(failing.some((f) => f.rule === 'spf.server-not-authorized' && f.fix === 'spf'), failing.map((f) => `${f.rule} ${f.message}`).join('\n'));
    const plan = await makePlan({ domain: DOMAIN, check: 'spf' }, { panel: p.panel, resolver: p.resolver() });
    assert.equal(plan.blocked, undefined, plan.blocked);
    assert.deepEqual(
      plan.changes.map((c) => c.after?.value),
      ['v=spf1 include:relay.mailchannels.net -all'],
    );
    const out = await applyPlan({ domain: DOMAIN, check: 'spf', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'applied', JSON.stringify(out));
    const fs = await spfFindings(p);
    assert.ok(fs.some((f) => f.rule === 'spf.ok'), fs.map((f) => `${f.rule} ${f.message}`).join('\n'));
  });
});
