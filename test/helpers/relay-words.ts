// Shared set-up of the tests that hold what the SPF relay finding and the SPF fix's notes say against check_host
// (in memory) and against pyspf and Mail::SPF (test/core/checks/spf-relay-*-words.test.ts).
import { after, before } from 'node:test';
import type { ServedZoneMap } from '../../src/adapters/dns/server.js';
import { spfCheck } from '../../src/core/checks/spf.js';
import type { Finding, MailSettings, ZoneRecord } from '../../src/core/model.js';
import { planSpf } from '../../src/core/plans/spf.js';
import { checkHost } from '../../src/core/spf/evaluate.js';
import { checkContext } from '../core/checks/context.js';
import { MapResolver, type ZoneMap } from './map-resolver.js';
import { apexOf, judges, rec, ScenarioRuns, served, type Answer, type SpfJudges, type SpfScenario } from './spf-scenarios.js';

export const RELAY = 'relay.mailchannels.net';
export const INCLUDE = `include:${RELAY}`;
/** A server that relays through MailChannels. */
export const MC = { relay: { provider: 'mailchannels', host: RELAY, authId: 'newhostmc' } } as Partial<MailSettings>;

/** The SPF findings, one a line, for assertion messages. */
export const show = (fs: readonly Finding[]) => fs.filter((f) => f.check === 'spf').map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''} [${f.subject ?? ''}]: ${f.message}`).join('\n');

/** The SPF check and the SPF fix of `domain` publishing `spf` (one record or several) in `world`, on a relaying server. */
export async function relayAudit(world: ZoneMap, domain: string, spf: string | string[]) {
  const records = Array.isArray(spf) ? spf : [spf];
  const map: ZoneMap = { ...world, [domain]: { ...world[domain], TXT: records.map((r) => [r]) } };
  const zone: ZoneRecord[] = records.map((r, i) => ({ name: domain, ttl: 3600, type: 'TXT', value: r, txt: [r], ref: `spf${i}` }));
  const fs = await spfCheck(checkContext(domain, map, MC, zone));
  const plan = await planSpf(checkContext(domain, map, MC, zone), zone, {});
  const written = plan.changes.filter((c) => c.after).map((c) => (c.after!.txt ?? [c.after!.value]).join(''));
  const today = (ip: string) => checkHost(ip, domain, `postmaster@${domain}`, 'server1.newhost.example', new MapResolver(map));
  const na = fs.filter((f) => f.rule === 'spf.server-not-authorized');
  return { fs, na, plan, written, today, text: `${show(fs)}\n--- plan: ${plan.blocked ?? ''} ${JSON.stringify(written)}\n${plan.notes.join('\n')}` };
}

/** The plan's note on the relay's include written with "~" (made plain, or another one added before it). */
export const noteOn = (notes: readonly string[], term: string) => notes.find((n) => n.startsWith(`Replaces ${term} with`) || n.startsWith(`Adds ${INCLUDE} before ${term}`)) ?? '';

/** A scenario publishing one SPF record or several. */
export interface RelayScenario extends SpfScenario {
  spf: string[];
}

/** A scenario's zone: the apex records and its SPF record(s). */
export const zoneOf = (s: RelayScenario): ZoneRecord[] => [...apexOf(s.domain), ...s.spf.map((t) => rec(s.domain, 'TXT', t))];

/** "a", "a and b", "a, b and c" → the items. */
export const rangesOf = (text: string) => text.split(/, | and /).map((x) => x.trim());

/** The mechanism Mail::SPF says matched, or null (none matched). */
export const mechanism = (a: Answer) => /\(mechanism '([^']+)' matched\)/.exec(a.explanation)?.[1] ?? null;

/**
 * The judges' runs of `scenarios` (before and after the fix, at `probes`) over `world` served on loopback, started and
 * stopped by the calling describe block; `relayPasses()`: the probes both judges pass in the relay's own record — those
 * a domain's include of it can pass.
 */
export function relayJudgeRuns<S extends RelayScenario>(j: SpfJudges, scenarios: S[], world: ServedZoneMap, probes: string[]) {
  const runs = new ScenarioRuns({
    scenarios,
    judges: j,
    zoneOf,
    serve: (zones) => served(world, [...zones.values()].flat()),
    askBefore: () => probes,
    askAfter: () => probes,
  });
  let relayPasses: string[] = [];
  before(async () => {
    await runs.start();
    const as = await judges(j, runs.dns!.port, probes.map((ip) => ({ domain: RELAY, ip })));
    relayPasses = probes.filter((_, i) => as[i][0].result === 'pass' && as[i][1].result === 'pass');
  });
  after(async () => {
    await runs.stop();
  });
  return { runs, relayPasses: () => relayPasses };
}
