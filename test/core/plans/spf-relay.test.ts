// SPF fix with a relay (smarthost): `include:X` of a name X without an SPF record is a permanent error at every
// receiver, so the planner includes only a name that publishes `v=spf1` — the relay host, else its first dot-suffix
// that does (cPanel's own autodiscovery, cpanel.md §7.2) — and adds no include when none does. A failed lookup blocks
// the plan, like every DNS failure while planning. MailChannels' documented include works exactly as before.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { applyPlan } from '../../../src/core/plans/apply.js';
import { makePlan } from '../../../src/core/plans/index.js';
import { relayIncludeCandidates } from '../../../src/core/spf/relay.js';
import type { Answer, Resolver, RRType } from '../../../src/core/resolver.js';
import { checkHost } from '../../../src/core/spf/evaluate.js';
import { startPlay, type Play } from '../../helpers/fixplay.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';

let play: Play | null = null;
afterEach(async () => {
  await play?.close();
  play = null;
});

const RELAYCO = { provider: 'smtp.relayco.example', host: 'smtp.relayco.example' };
const DOMAIN = 'bakery.example'; // v=spf1 +a +mx include:websitewelcome.com include:_spf.google.com ~all

/** The play's DNS, with the names in `extra` answered from the map instead (the relay's world). */
function withWorld(base: Resolver, extra: ZoneMap, log: string[] = []): Resolver {
  const map = new MapResolver(extra);
  const pick = (name: string) => Object.hasOwn(extra, name.toLowerCase().replace(/\.$/, ''));
  return {
    resolve<T extends RRType>(name: string, type: T): Promise<Answer<T>> {
      log.push(`${name.toLowerCase()} ${type}`);
      return pick(name) ? map.resolve(name, type) : base.resolve(name, type);
    },
    resolveAt<T extends RRType>(servers: string[], name: string, type: T): Promise<Answer<T>> {
      return pick(name) ? map.resolve(name, type) : base.resolveAt!(servers, name, type);
    },
  };
}

async function spfOf(p: Play, domain: string): Promise<string[]> {
  const zone = await p.panel.readZone(domain);
  return zone.records.filter((r) => r.name === domain && r.type === 'TXT' && /^v=spf1/i.test(r.txt ? r.txt.join('') : r.value)).map((r) => (r.txt ? r.txt.join('') : r.value));
}

describe('SPF fix with a relay that is not MailChannels', () => {
  test('the relay host publishes no SPF but its parent does → include:<parent>; the relay’s mail passes', async () => {
    const p = (play = await startPlay({ server: { relay: RELAYCO } }));
    const world: ZoneMap = { 'smtp.relayco.example': { A: ['198.51.100.25'] }, 'relayco.example': { TXT: [['v=spf1 ip4:198.51.100.0/24 -all']] } };
    const plan = await makePlan({ domain: DOMAIN, check: 'spf' }, { panel: p.panel, resolver: withWorld(p.resolver(), world) });
    assert.equal(plan.blocked, undefined, plan.blocked);
    const after = plan.changes.map((c) => c.after?.value);
    assert.deepEqual(after, ['v=spf1 +a +mx include:_spf.google.com include:relayco.example ~all']);
    assert.ok(plan.notes.some((n) => /smtp\.relayco\.example publishes no SPF record; relayco\.example does/.test(n)), plan.notes.join('\n'));
    // The planned record lets the relay's mail pass.
    const withRecord = withWorld(p.resolver(), { ...world, [DOMAIN]: { TXT: [[after[0]!]] } });
    assert.equal((await checkHost('198.51.100.25', DOMAIN, `postmaster@${DOMAIN}`, 'smtp.relayco.example', withRecord)).result, 'pass');
  });

  test('the relay host publishes SPF itself → include:<relay host>, no other name asked', async () => {
    const p = (play = await startPlay({ server: { relay: RELAYCO } }));
    const log: string[] = [];
    const world: ZoneMap = { 'smtp.relayco.example': { TXT: [['v=spf1 ip4:198.51.100.25 -all']] }, 'relayco.example': { TXT: [['v=spf1 -all']] } };
    const plan = await makePlan({ domain: DOMAIN, check: 'spf' }, { panel: p.panel, resolver: withWorld(p.resolver(), world, log) });
    assert.deepEqual(
      plan.changes.map((c) => c.after?.value),
      ['v=spf1 +a +mx include:_spf.google.com include:smtp.relayco.example ~all'],
    );
    assert.ok(!log.includes('relayco.example TXT'), log.join(', '));
  });

  test('no name of the relay publishes SPF → no include (never a permerror), a clear note, the rest of the fix still applies', async () => {
    const p = (play = await startPlay({ server: { relay: RELAYCO } }));
    const world: ZoneMap = { 'smtp.relayco.example': { A: ['198.51.100.25'] }, 'relayco.example': { A: ['198.51.100.1'], TXT: [['google-site-verification=abc']] } };
    const plan = await makePlan({ domain: DOMAIN, check: 'spf' }, { panel: p.panel, resolver: withWorld(p.resolver(), world) });
    assert.equal(plan.blocked, undefined, plan.blocked);
    assert.deepEqual(
      plan.changes.map((c) => c.after?.value),
      ['v=spf1 +a +mx include:_spf.google.com ~all'],
      'the previous host’s include is still dropped, and no include of the relay is added',
    );
    const note = plan.notes.find((n) => /publishes no SPF record/.test(n));
    assert.match(note ?? '', /smtp\.relayco\.example publishes no SPF record \(nor does relayco\.example\).*permerror.*Ask the relay which include to use/);
    const out = await applyPlan({ domain: DOMAIN, check: 'spf', planHash: plan.planHash }, p.deps({ resolver: withWorld(p.resolver(), world) }));
    assert.equal(out.status, 'applied', JSON.stringify(out));
    assert.deepEqual(await spfOf(p, DOMAIN), ['v=spf1 +a +mx include:_spf.google.com ~all']);
  });

  test('the relay’s SPF lookup gets no answer → the plan is blocked (never a guess), apply refuses', async () => {
    const p = (play = await startPlay({ server: { relay: RELAYCO } }));
    const world: ZoneMap = { 'smtp.relayco.example': { TXT: 'TIMEOUT' }, 'relayco.example': { TXT: [['v=spf1 ip4:198.51.100.0/24 -all']] } };
    const plan = await makePlan({ domain: DOMAIN, check: 'spf' }, { panel: p.panel, resolver: withWorld(p.resolver(), world) });
    assert.match(plan.blocked ?? '', /DNS did not answer while planning: looking up the SPF record of smtp\.relayco\.example/);
    assert.ok(!plan.changes.some((c) => /relayco/.test(c.after?.value ?? '')));
    const before = p.zoneText(DOMAIN);
    const out = await applyPlan({ domain: DOMAIN, check: 'spf', planHash: plan.planHash }, p.deps({ resolver: withWorld(p.resolver(), world) }));
    assert.equal(out.status, 'refused');
    assert.equal(p.zoneText(DOMAIN), before);
  });

  test('a record that already includes the name publishing the relay’s SPF needs nothing', async () => {
    const p = (play = await startPlay({ server: { relay: RELAYCO } }));
    p.writeZone(DOMAIN, p.zoneText(DOMAIN).replace(/"v=spf1[^"]*"/, '"v=spf1 +a +mx include:relayco.example ~all"'));
    p.refresh();
    const world: ZoneMap = { 'smtp.relayco.example': { A: ['198.51.100.25'] }, 'relayco.example': { TXT: [['v=spf1 ip4:198.51.100.0/24 -all']] } };
    const plan = await makePlan({ domain: DOMAIN, check: 'spf' }, { panel: p.panel, resolver: withWorld(p.resolver(), world) });
    assert.deepEqual(plan.changes, []);
    assert.equal(plan.blocked, undefined);
  });
});

describe('SPF fix with MailChannels: as before', () => {
  test('relay.mailchannels.net (its documented include) is added without looking it up, even where it has no SPF', async () => {
    const p = (play = await startPlay());
    const log: string[] = [];
    const plan = await makePlan({ domain: DOMAIN, check: 'spf' }, { panel: p.panel, resolver: withWorld(p.resolver(), { 'relay.mailchannels.net': { A: ['23.83.208.1'] } }, log) });
    assert.equal(plan.blocked, undefined);
    assert.deepEqual(
      plan.changes.map((c) => c.after?.value),
      ['v=spf1 +a +mx include:_spf.google.com include:relay.mailchannels.net ~all'],
    );
    assert.ok(!plan.notes.some((n) => /publishes no SPF record/.test(n)), plan.notes.join('\n'));
    assert.ok(!log.includes('mailchannels.net TXT'), log.join(', '));
  });
});

describe('relayIncludeCandidates', () => {
  test('the host, then each dot-suffix down to the registrable domain (never the public suffix)', () => {
    assert.deepEqual(relayIncludeCandidates('smtp.relayco.example'), ['smtp.relayco.example', 'relayco.example']);
    assert.deepEqual(relayIncludeCandidates('Out.EU.Mail.Relay.co.uk.'), ['out.eu.mail.relay.co.uk', 'eu.mail.relay.co.uk', 'mail.relay.co.uk', 'relay.co.uk']);
    assert.deepEqual(relayIncludeCandidates('relayco.example'), ['relayco.example']);
  });
});
