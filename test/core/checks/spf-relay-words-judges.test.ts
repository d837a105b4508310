// What spf.server-not-authorized says of a relayed server's SPF record — which term decides for which of the relay's
// addresses — checked against receivers' own libraries: pyspf (python3-spf) and Mail::SPF (libmail-spf-perl), asked
// check_host(<ip>, <domain>, postmaster@<domain>) over one loopback DNS server that mailhealth asks too
// (test/helpers/spf-scenarios.ts; the pattern of test/e2e/spf-relay-limit-oracles.test.ts). Mail::SPF names the
// top-level mechanism that matched ("mechanism '-ip4:23.83.208.0/20' matched"): the term a message says decides must
// be that one, with the result it says, for one address of each piece of the relay's ranges the records treat alike.
//
// Three messages said what was not so (review of src/core/spf/relay.ts):
// - `-ip4:23.83.210.0/24 include:relay.mailchannels.net`: "covers the relay's addresses 23.83.208.0/20" — the judges
//   fail only 23.83.210.0/24 there, and pass the rest through the include;
// - `-ip4:23.83.208.0/20 ~include:relay.mailchannels.net`: "reaches it through ~include:…: its "~" qualifier gives the
//   relay's mail softfail" — the judges fail 23.83.208.0/20 at the -ip4 (the include never decides for them);
// - `a:<a name in 23.83.208.0/20>/20 -ip4:23.83.208.0/20 include:<a relay whose own record fails part of the ranges it
//   publishes>`: "-ip4:23.83.208.0/20 … covers the relay's addresses" — the judges pass 23.83.208.0/20 at the a term,
//   and answer for every address as for the relay's include alone (`v=spf1 include:<relay> -all`, which mailhealth
//   calls authorised: the addresses the relay's own record fails are none a domain's record can pass).
// Addresses the relay's own record does not pass (asked of the judges: check_host(<ip>, <the relay's name>)) are no
// claim's: nothing a domain's record does makes its include pass them.
//
// Skipped with a message when no python3 with pyspf or no perl with Mail::SPF is found (test/helpers/oracles.ts).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServedZoneMap } from '../../../src/adapters/dns/server.js';
import type { Finding, ZoneRecord } from '../../../src/core/model.js';
import { apexOf, BASE_WORLD, findSpfJudges, judges, rec, ScenarioRuns, served, type Answer, type SpfJudges, type SpfScenario } from '../../helpers/spf-scenarios.js';
import { inRange } from '../../helpers/ipv4-range.js';

const found = findSpfJudges();
const skip = 'skip' in found ? found.skip : false;

const RELAY = 'relay.mailchannels.net';
/** The relay's own record in the second world: it fails part of a range it publishes. */
const SELF_FAILING = 'v=spf1 -ip4:205.201.130.0/24 ip4:23.83.208.0/20 ip4:205.201.128.0/20 ~all';

/**
 * One address of each piece of the relay's ranges (23.83.208.0/20, 205.201.128.0/20) the records below treat alike:
 * 23.83.208.0/23, 23.83.210.0/24 (the name hit's address among them), 23.83.211.0/24, 23.83.212.0/22, 23.83.216.0/21;
 * 205.201.128.0/23, 205.201.130.0/24, 205.201.131.0/24, 205.201.132.0/22, 205.201.136.0/21.
 */
const PROBES = [
  '23.83.208.10',
  '23.83.210.5',
  '23.83.210.77',
  '23.83.211.7',
  '23.83.212.77',
  '23.83.217.77',
  '23.83.223.250',
  '205.201.128.10',
  '205.201.130.9',
  '205.201.131.9',
  '205.201.133.9',
  '205.201.140.77',
];

const NAMES: ServedZoneMap = { 'hit.relaywords.example': { A: ['23.83.210.5'] } };

interface Scenario extends SpfScenario {
  spf: string;
  /** Included records, by name. */
  world: Record<string, string>;
  /** The relay's own record publishes ranges it fails in part (SELF_FAILING). */
  selfFailing?: true;
}

function scenario(label: string, spf: string, world: Record<string, string> = {}, selfFailing = false): Scenario {
  return { domain: `${label}.relaywords.example`, relayed: true, spf, world, ...(selfFailing ? { selfFailing: true as const } : {}) };
}

const SCENARIOS: Scenario[] = [
  // A "-" range inside the relay's: the part it covers, and the rest passing through the include.
  scenario('part', `v=spf1 -ip4:23.83.210.0/24 include:${RELAY} -all`),
  scenario('whole', `v=spf1 -ip4:23.83.208.0/20 include:${RELAY} -all`),
  // Part of the "-" range passed before it: only the rest is its.
  scenario('passed-part', `v=spf1 ip4:23.83.211.0/24 -ip4:23.83.210.0/23 include:${RELAY} -all`),
  // The same inside the record that leads to the relay.
  scenario('via', 'v=spf1 include:_spf.via.relaywords.example -all', { '_spf.via.relaywords.example': `v=spf1 -ip4:23.83.210.0/24 include:${RELAY} ~all` }),
  // The relay's include with "~" behind a "-" range: the range decides first for the addresses it covers.
  scenario('deny-first', `v=spf1 -ip4:23.83.208.0/20 ~include:${RELAY} -all`),
  scenario('deny-all-first', `v=spf1 -ip4:23.83.208.0/20 -ip4:205.201.128.0/20 ~include:${RELAY} -all`),
  scenario('deny-a-first', `v=spf1 -a:hit.relaywords.example ~include:${RELAY} -all`),
  scenario('deny-two-first', `v=spf1 -ip4:23.83.210.0/24 -ip4:205.201.130.0/24 ~include:${RELAY} -all`),
  // The relay's include with "~" behind "+" ranges: they pass some (or all) of its addresses first.
  scenario('tilde-after-part', `v=spf1 ip4:23.83.208.0/20 ~include:${RELAY} -all`),
  scenario('tilde-after-all', `v=spf1 ip4:23.83.208.0/20 ip4:205.201.128.0/20 ~include:${RELAY} -all`),
  scenario('tilde-after-a', `v=spf1 a:hit.relaywords.example ~include:${RELAY} -all`),
  scenario('tilde-alone', `v=spf1 ~include:${RELAY} -all`),
  // A relay whose own record fails 205.201.130.0/24 of what it publishes; an a term passes 23.83.208.0/20 first.
  scenario('a-first', `v=spf1 a:hit.relaywords.example/20 -ip4:23.83.208.0/20 include:${RELAY} -all`, {}, true),
  scenario('a-first-via', 'v=spf1 include:_spf.a-via.relaywords.example -all', { '_spf.a-via.relaywords.example': `v=spf1 a:hit.relaywords.example/20 -ip4:23.83.208.0/20 include:${RELAY} ~all` }, true),
  scenario('a-first-redirect', `v=spf1 a:hit.relaywords.example/20 -ip4:23.83.208.0/20 redirect=${RELAY}`, {}, true),
  scenario('include-alone', `v=spf1 include:${RELAY} -all`, {}, true),
  // …and a "-" range that does decide there.
  scenario('self-failing-part', `v=spf1 -ip4:23.83.210.0/24 include:${RELAY} -all`, {}, true),
];

function zoneOf(s: Scenario): ZoneRecord[] {
  return [...apexOf(s.domain), rec(s.domain, 'TXT', s.spf)];
}

function worldOf(scenarios: readonly Scenario[], relay: string | null): ServedZoneMap {
  const w: ServedZoneMap = { ...BASE_WORLD, ...NAMES, ...(relay ? { [RELAY]: { TXT: [[relay]] } } : {}) };
  for (const s of scenarios) for (const [n, t] of Object.entries(s.world)) w[n] = { TXT: [[t]] };
  return w;
}

// ---- what a message claims ----

/** A claim: for `ranges` (null: the relay's addresses no other claim names), check_host of `domain` decides at `term`. */
interface Claim {
  ranges: string[] | null;
  /** The record it is said of: the scenario's own, or the record an include leads to (`via`). */
  domain?: string;
  /** The top-level term that decides (one of them when several are named), or null when it is not said. */
  terms: string[] | null;
  result: string;
  /** `term` decides for none of the relay's addresses. */
  none?: true;
}

const rangesOf = (text: string) => text.split(/, | and /).map((x) => x.trim());

/** What `message` (spf.server-not-authorized for the relay) says decides for which addresses, every way it says it. */
function claimsOf(message: string): Claim[] {
  const out: Claim[] = [];
  let m: RegExpExecArray | null;
  const via = /reaches it only through include:(\S+), and in the record that leads to, /.exec(message);
  m = /(\S+) comes before (\S+) and (?:covers|matches|leads to a record that passes) the relay's addresses (.+?)(?: \(|, so it|: the first)/.exec(message);
  const result = /(?:give|gives) the relay's mail from those addresses (\w+) instead of pass/.exec(message);
  if (m && result) out.push({ ranges: rangesOf(m[3]), terms: [m[1]], result: result[1], ...(via ? { domain: via[1] } : {}) });
  if ((m = /The relay's other addresses pass through (\S+)\./.exec(message))) out.push({ ranges: null, terms: [m[1]], result: 'pass' });
  if ((m = /The relay's other addresses pass \((.+?) (?:match|matches) them first\)/.exec(message))) out.push({ ranges: null, terms: rangesOf(m[1]), result: 'pass' });
  if ((m = /The relay's mail from (.+?) reaches (\S+), whose "." qualifier gives it (\w+) instead of pass/.exec(message))) out.push({ ranges: rangesOf(m[1]), terms: [m[2]], result: m[3] });
  if ((m = /The relay's other addresses reach (\S+), whose "." qualifier gives them (\w+) instead of pass/.exec(message))) out.push({ ranges: null, terms: [m[1]], result: m[2] });
  if ((m = /(\S+) decides for none of the relay's mail today/.exec(message))) out.push({ ranges: null, terms: [m[1]], result: '', none: true });
  if ((m = /terms before it pass the relay's addresses (.+?) first/.exec(message))) out.push({ ranges: rangesOf(m[1]), terms: null, result: 'pass' });
  if ((m = /reaches it through (\S+): its "." qualifier gives the relay's mail from (.+?) (\w+) instead of pass \(terms before it pass (.+?) first/.exec(message))) {
    out.push({ ranges: m[2] === 'its other addresses' ? null : rangesOf(m[2]), terms: [m[1]], result: m[3] }, { ranges: rangesOf(m[4]), terms: null, result: 'pass' });
  } else if ((m = /reaches it through (\S+): its "." qualifier gives the relay's mail (\w+) instead of pass/.exec(message))) {
    out.push({ ranges: null, terms: [m[1]], result: m[2] });
  }
  return out;
}

// ---- the addresses ----



/** The mechanism Mail::SPF says matched, or null (none matched). */
function mechanism(a: Answer): string | null {
  return /\(mechanism '([^']+)' matched\)/.exec(a.explanation)?.[1] ?? null;
}

const show = (fs: readonly Finding[]) => fs.filter((f) => f.check === 'spf' && f.severity !== 'info').map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''} [${f.subject ?? ''}]: ${f.message}`).join('\n');

describe("what spf.server-not-authorized says decides for the relay's addresses, judged by pyspf and Mail::SPF", { skip }, () => {
  const j = found as SpfJudges;
  const plain = SCENARIOS.filter((s) => !s.selfFailing);
  const self = SCENARIOS.filter((s) => s.selfFailing);
  const options = (scenarios: Scenario[], relay: string | null) =>
    new ScenarioRuns({
      scenarios,
      judges: j,
      zoneOf,
      serve: (zones) => served(worldOf(scenarios, relay), [...zones.values()].flat()),
      askBefore: () => PROBES,
      askAfter: () => PROBES,
    });
  const runs = [options(plain, null), options(self, SELF_FAILING)];
  const runOf = (s: Scenario) => runs[s.selfFailing ? 1 : 0];
  /** Per domain asked (the relay's name, the records includes lead to): the judges' answers for PROBES. */
  const other = new Map<string, [Answer, Answer][]>();

  before(async () => {
    for (const r of runs) {
      await r.start();
      // The served records other than the domains' zones stay as they were: the relay's own, the included ones.
      const asked = [RELAY, ...new Set(r === runs[0] ? plain.flatMap((s) => Object.keys(s.world)) : self.flatMap((s) => Object.keys(s.world)))];
      const as = await judges(j, r.dns!.port, asked.flatMap((domain) => PROBES.map((ip) => ({ domain, ip }))));
      asked.forEach((d, i) => other.set(`${r === runs[0] ? 'plain' : 'self'} ${d}`, as.slice(i * PROBES.length, (i + 1) * PROBES.length)));
    }
  });
  after(async () => {
    for (const r of runs) await r.stop();
  });

  /** The probes the relay's own record passes (both judges): the ones a domain's include of it can pass. */
  const relays = (s: Scenario) => {
    const as = other.get(`${s.selfFailing ? 'self' : 'plain'} ${RELAY}`)!;
    return PROBES.filter((_, i) => as[i][0].result === 'pass' && as[i][1].result === 'pass');
  };

  test('the worlds are as meant: the relay passes every probe, or all but 205.201.130.0/24 (its own record fails it)', () => {
    assert.deepEqual(relays(plain[0]), PROBES);
    assert.deepEqual(relays(self[0]), PROBES.filter((ip) => !inRange(ip, '205.201.130.0/24')));
  });

  for (const s of SCENARIOS) {
    test(`${s.domain} (${s.spf}): every claim of the finding is what both judges answer`, () => {
      const r = runOf(s);
      const { fs } = r.before.get(s.domain)!;
      const as = r.judgedBefore.get(s.domain)!;
      const where = `${s.spf}\n${Object.entries(s.world).map(([n, t]) => `${n}: ${t}`).join('\n')}\n${PROBES.map((ip, i) => `${ip}: pyspf ${as[i][0].result}, Mail::SPF ${as[i][1].result} ${mechanism(as[i][1]) ?? ''}`).join('\n')}\nmailhealth:\n${show(fs)}`;
      PROBES.forEach((ip, i) => assert.equal(as[i][0].result, as[i][1].result, `${ip}: the judges agree\n${where}`));
      const mine = relays(s);
      const na = fs.filter((f) => f.rule === 'spf.server-not-authorized');
      if (!na.length) {
        // Authorised: every address the relay's own record passes passes.
        for (const ip of mine) assert.equal(as[PROBES.indexOf(ip)][0].result, 'pass', `${ip}: no finding, so it passes\n${where}`);
        return;
      }
      assert.equal(na.length, 1, where);
      const claims = claimsOf(na[0].message);
      assert.ok(claims.length, `the message names what decides\n${where}`);
      const named = (ip: string) => claims.some((c) => c.ranges?.some((x) => inRange(ip, x)));
      for (const c of claims) {
        const domain = c.domain ?? s.domain;
        const answers = domain === s.domain ? as : other.get(`${s.selfFailing ? 'self' : 'plain'} ${domain}`)!;
        const ips = mine.filter((ip) => (c.ranges ? c.ranges.some((x) => inRange(ip, x)) : !named(ip)));
        if (c.none) {
          for (const ip of mine) assert.notEqual(mechanism(answers[PROBES.indexOf(ip)][1]), c.terms![0], `${ip}: ${c.terms![0]} decides for none\n${where}`);
          continue;
        }
        assert.ok(ips.length, `the claim ${JSON.stringify(c)} is about some probe\n${where}`);
        for (const ip of ips) {
          const [py, ms] = answers[PROBES.indexOf(ip)];
          const said = `${ip} in ${domain}: ${JSON.stringify(c)}\n${where}`;
          assert.equal(py.result, c.result, `pyspf: ${said}`);
          assert.equal(ms.result, c.result, `Mail::SPF: ${said}`);
          if (c.terms) assert.ok(c.terms.includes(mechanism(ms) ?? ''), `Mail::SPF matched ${mechanism(ms)}: ${said}`);
          // Said of the record an include leads to: the domain's own record does not pass them either.
          if (c.domain) assert.notEqual(as[PROBES.indexOf(ip)][0].result, 'pass', `the domain's record: ${said}`);
        }
      }
      // The term the finding is about is the one it says decides first (or the include leading to it).
      const first = /(?:but|,) (?:in .*?, )?(\S+) comes before/.exec(na[0].message);
      if (first) assert.equal(na[0].subject, claims[0].domain ? `include:${claims[0].domain}` : first[1], where);
    });

    test(`${s.domain}: the SPF fix acts on the term the finding names, and both judges pass the relay after it`, () => {
      const r = runOf(s);
      const { fs, plan } = r.before.get(s.domain)!;
      const na = fs.find((f) => f.rule === 'spf.server-not-authorized');
      if (!na) {
        assert.equal(plan, null, `no finding offers the fix\n${show(fs)}`);
        return;
      }
      assert.ok(plan && !plan.blocked, `${plan?.blocked ?? 'no plan'}\n${show(fs)}`);
      const notes = plan.notes.join('\n');
      // A term of the record itself named as deciding first (not one inside the record an include leads to): the
      // relay's include goes before it.
      const first = claimsOf(na.message)[0];
      if (na.subject && first && !first.domain && first.terms?.[0] === na.subject) {
        assert.match(notes, new RegExp(`(?:Moves|Adds) include:relay\\.mailchannels\\.net before ${na.subject.replace(/[.?+*/]/g, '\\$&')}`), `${na.message}\n${notes}`);
      }
      const as = r.judgedAfter.get(s.domain)!;
      const record = r.fixed.get(s.domain)!.find((x) => x.type === 'TXT')!.value;
      for (const ip of relays(s)) {
        assert.equal(as[PROBES.indexOf(ip)][0].result, 'pass', `${ip} after the fix ("${record}"): pyspf\n${notes}`);
        assert.equal(as[PROBES.indexOf(ip)][1].result, 'pass', `${ip} after the fix ("${record}"): Mail::SPF\n${notes}`);
      }
    });
  }

  test('the relay whose own record fails part of its ranges: a record the judges answer as they answer its include alone is judged as that one', () => {
    const alone = self.find((s) => s.domain.startsWith('include-alone.'))!;
    const base = runOf(alone).judgedBefore.get(alone.domain)!;
    const authorised = (s: Scenario) => !runOf(s).before.get(s.domain)!.fs.some((f) => f.rule === 'spf.server-not-authorized');
    for (const s of self) {
      const as = runOf(s).judgedBefore.get(s.domain)!;
      const same = PROBES.every((_, i) => as[i][0].result === base[i][0].result && as[i][1].result === base[i][1].result);
      if (same) assert.equal(authorised(s), authorised(alone), `${s.spf}\n${show(runOf(s).before.get(s.domain)!.fs)}`);
    }
    // Not vacuous: the a-first records are answered so, and the part one is not.
    for (const label of ['a-first', 'a-first-via', 'a-first-redirect']) {
      const s = self.find((x) => x.domain.startsWith(`${label}.`))!;
      const as = runOf(s).judgedBefore.get(s.domain)!;
      assert.ok(PROBES.every((_, i) => as[i][0].result === base[i][0].result), label);
    }
  });
});
