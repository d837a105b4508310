// A relayed server's SPF record with the relay's include after 7–11 DNS lookups, judged by receivers' own libraries:
// pyspf (python3-spf, through test/fixtures/oracles/audit-verdicts.py) and Mail::SPF (libmail-spf-perl,
// test/fixtures/oracles/spf-judge.pl), asked check_host(<ip>, <domain>, postmaster@<domain>) for addresses of the
// relay's ranges over one loopback DNS server (src/adapters/dns/server.ts) that mailhealth asks too (its wire resolver,
// in process; test/helpers/spf-scenarios.ts).
//
// The records (seeded, GENERATED, and HAND_MADE — the smallest record showing each defect below) put before the relay's
// include — top-level, one record down, or as redirect= — includes whose records hold "-", "~", "?" and "+" ip4 terms
// covering all, part or none of the relay's ranges, before or after their own lookups (filler a: terms), nested
// includes with qualifiers, and a, mx and exists terms naming names that have some of the relay's addresses or none.
// mailhealth judged the relay along the way to its include (src/core/spf/relay.ts), and so, against both judges:
// - relay-deny-early, relay-pass-early: an include before the relay's whose record fails ("-ip4:<the relay's ranges>")
//   or passes (a:<a name>/20) the relay's addresses before its own 10 lookups was counted whole: the audit said the
//   relay's include is reached past 10 lookups (spf.server-not-authorized); receivers stop there and pass the relay;
// - relay-a-deny, relay-mx-deny, relay-exists-deny: -a:/~mx: of a name with one of the relay's addresses, or
//   -exists:<a name that exists> (every sender), before the relay's include — no match for the audit (spf.ok); receivers
//   fail or softfail the relay's mail from those addresses;
// - relay-include-neutral, relay-include-fail: ?include: / -include: of a record that passes some of the relay's
//   addresses (an include matches when its record passes) — spf.ok; receivers give neutral or fail;
// - relay-inside-a: the same a: term inside the record that leads to the relay, before its include there — spf.ok;
// - relay-inside-lookups, relay-inside-broken: the lookups inside the record that leads to the relay take receivers
//   past 10 before its include of the relay, or an include of a name without SPF comes first there — only the terms
//   before the top-level include were counted (the relay judged authorised; the judges answer permerror);
// - relay-redirect-a: -a: before redirect=relay… — spf.ok;
// and the SPF fix, judging the relay the same way, left those records as they were or wrote records that still failed
// the relay's addresses (a -a:, ?include: or -include: kept before the include it added or moved).
// Now the relay's ranges are cut where any term of the record treats their addresses differently, and the walked
// record is evaluated for each piece as check_host evaluates it (relay.ts: relayAuthorisation, permerrorBefore).
//
// PROBES holds one address of each such piece of the relay's ranges for every term the generator writes, so that
// "every probe passes" is what mailhealth's verdict for the whole range means. For each domain: both judges answer
// alike; mailhealth says the relay is authorised (no spf.server-not-authorized) exactly when both pass every probe;
// spf.ok only then (and, in a record without a term with macros, only when a stranger gets no permerror); where a
// finding offers the SPF fix and its plan goes through, both judges pass every probe after it and so does the audit.
// Documented differences (DIFFERENCES): what a term with macros matches depends on the address (exists:%{i}.<list>:
// LISTED is the list's only address, probed beside PROBES and never counted in the verdict); and a record that fails
// addresses of the relay no probe asks about (mailhealth judges every address of the relay's ranges).
//
// Skipped with a message when no python3 with pyspf or no perl with Mail::SPF is found (test/helpers/oracles.ts).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServedZoneMap } from '../../src/adapters/dns/server.js';
import type { Finding, ZoneRecord } from '../../src/core/model.js';
import { prng, type Rng } from '../helpers/prng.js';
import { apexOf, assertNoTrouble, authorised, BASE_WORLD, findSpfJudges, rec, ScenarioRuns, served, type Answer, type SpfScenario } from '../helpers/spf-scenarios.js';

const found = findSpfJudges();
const skip = 'skip' in found ? found.skip : false;

// ---- the relay's addresses, the senders and the world ----

/**
 * One address of each piece of the relay's ranges (BASE_WORLD: 23.83.208.0/20, 205.201.128.0/20) that the terms below
 * treat alike: the names' own addresses (23.83.208.10, 23.83.223.250, 205.201.128.10), the rest of 23.83.208.0/24,
 * of 23.83.216.0/21, of 23.83.208.0/20 and of 205.201.128.0/20.
 */
const PROBES = ['23.83.208.10', '23.83.208.77', '23.83.212.77', '23.83.217.77', '23.83.223.250', '205.201.128.10', '205.201.140.77'];
/** The only address the list exists:%{i}.lst.relayhosts.example holds: in the piece of 23.83.212.77, but for the list. */
const LISTED = '23.83.213.5';
const STRANGER_IP = '192.0.2.200';
const RELAY = 'include:relay.mailchannels.net';

/** Ranges of ip4 terms: covering all of the relay's ranges, part of them (each with probes in it), or none. */
const ALL = ['0.0.0.0/0'];
const PART = ['23.83.208.0/20', '23.83.208.0/24', '23.83.216.0/21', '205.201.128.0/20', '23.83.0.0/16', '23.83.208.10', '0.0.0.0/1', '128.0.0.0/1'];
const NONE = ['198.51.100.0/24', '23.83.224.0/24', '205.201.144.0/24'];

/** Terms naming the relay's addresses (a, mx, a name that exists, the list), and terms naming other addresses. */
const HIT = [
  'a:hit1.relayhosts.example',
  'a:hit2.relayhosts.example',
  'a:hitb.relayhosts.example',
  'a:hitall.relayhosts.example',
  'a:hit1.relayhosts.example/24',
  'a:hit2.relayhosts.example/20',
  'mx:mxhit.relayhosts.example',
  'mx:mxall.relayhosts.example',
  'exists:yes.relayhosts.example',
  'exists:%{i}.lst.relayhosts.example',
];
const MISS = ['a:miss.relayhosts.example', 'mx:mxmiss.relayhosts.example', 'a:miss.relayhosts.example/24'];

const WORLD: ServedZoneMap = {
  ...BASE_WORLD,
  // Filler names: one lookup each, an address of each family, none of the relay's.
  ...Object.fromEntries(Array.from({ length: 12 }, (_, k) => [`f${k}.fill.example`, { A: [`192.0.2.${k + 1}`], AAAA: [`2001:db8:f::${k + 1}`] }])),
  'hit1.relayhosts.example': { A: ['23.83.208.10'] },
  'hit2.relayhosts.example': { A: ['23.83.223.250'] },
  'hitb.relayhosts.example': { A: ['205.201.128.10'] },
  'hitall.relayhosts.example': { A: ['23.83.208.10', '23.83.223.250', '205.201.128.10'] },
  'miss.relayhosts.example': { A: ['198.51.100.9'] },
  'mxhit.relayhosts.example': { MX: [{ priority: 10, exchange: 'hit2.relayhosts.example' }] },
  'mxall.relayhosts.example': { MX: [{ priority: 10, exchange: 'hitall.relayhosts.example' }] },
  'mxmiss.relayhosts.example': { MX: [{ priority: 10, exchange: 'miss.relayhosts.example' }] },
  'yes.relayhosts.example': { A: ['127.0.0.2'] },
  // A name with a TXT record that is not SPF: an include of it is a permanent error (RFC 7208 §5.2).
  'nospf.relayhosts.example': { TXT: [['site-verification=1']] },
  [`${LISTED}.lst.relayhosts.example`]: { A: ['127.0.0.2'] },
};

interface Scenario extends SpfScenario {
  spf: string;
  /** The records it includes, by name. */
  world: ServedZoneMap;
  tags: string[];
  /** An address of the relay's no probe asks about, which both judges must not pass (DIFFERENCES: unprobed). */
  unprobed?: string;
}

/** A record's text as strings of at most 250 characters (a DNS string holds 255). */
const chunks = (text: string) => text.match(/[^]{1,250}/g) ?? [''];

// ---- generated records ----

interface Gen {
  r: Rng;
  world: ServedZoneMap;
  d: string;
  /** Included records made so far. */
  n: number;
  /** The next filler name. */
  filler: number;
  tags: Set<string>;
}

const qualifier = (r: Rng, qs = ['', '', '+', '-', '~', '?']) => r.pick(qs);

function ipRange(g: Gen): string {
  const kind = g.r.pick(['all', 'part', 'part', 'none']);
  g.tags.add(`ip:${kind}`);
  return g.r.pick(kind === 'all' ? ALL : kind === 'part' ? PART : NONE);
}

function named(g: Gen): string {
  const hit = g.r.chance(0.6);
  const t = g.r.pick(hit ? HIT : MISS);
  g.tags.add(t.includes('%{i}') ? 'list' : hit ? 'hit' : 'miss');
  return qualifier(g.r) + t;
}

const fill = (g: Gen) => `a:f${g.filler++ % 12}.fill.example`;

/**
 * An included record in the world costing about `budget` lookups, its ip4 terms before or after them, and `inner` (the
 * relay's include) last but for the ip4 terms: the term and what it costs.
 */
function include(g: Gen, budget: number, depth: number, inner?: string): [string, number] {
  const name = `i${g.n++}.${g.d}`;
  const terms: string[] = [];
  let cost = 0;
  const ipFirst = g.r.chance(0.5);
  const ips = Array.from({ length: 1 + g.r.int(2) }, () => `${qualifier(g.r)}ip4:${ipRange(g)}`);
  if (ipFirst) terms.push(...ips);
  while (cost < budget) {
    const k = g.r.int(10);
    if (k < 5) {
      terms.push(fill(g));
      cost += 1;
    } else if (k < 7 && depth < 2 && budget - cost >= 2) {
      const [t, c] = include(g, 1 + g.r.int(Math.min(4, budget - cost - 1)), depth + 1);
      terms.push(qualifier(g.r, ['', '', '~', '-']) + t);
      cost += c;
      g.tags.add('nested');
    } else if (k < 9) {
      terms.push(named(g));
      cost += 1;
    } else terms.push(`${qualifier(g.r)}ip4:${ipRange(g)}`);
  }
  if (inner) {
    terms.push(inner);
    cost += 1;
  }
  if (!ipFirst) terms.splice(g.r.int(terms.length + 1), 0, ...ips);
  const all = g.r.pick(['-all', '~all', '?all', '']);
  g.world[name] = { TXT: [chunks(['v=spf1', ...terms, ...(all ? [all] : [])].join(' '))] };
  return [`include:${name}`, cost + 1];
}

/** One generated domain: terms worth 7–11 lookups (about), then the relay's include, top-level, nested or redirect=. */
function generated(seed: number, i: number): Scenario {
  const r = prng(seed);
  const d = `g${i}.relaylimit.example`;
  const g: Gen = { r, world: {}, d, n: 0, filler: r.int(12), tags: new Set() };
  const target = 7 + r.int(5);
  const terms: string[] = [];
  let cost = 0;
  while (cost < target - 1) {
    const k = r.int(10);
    if (k < 5) {
      const [t, c] = include(g, 1 + r.int(Math.min(9, target - cost - 1)), 0);
      if (cost + c > target) continue;
      terms.push(qualifier(r, ['', '', '', '+', '~', '-', '?']) + t);
      cost += c;
    } else if (k < 7) {
      terms.push(fill(g));
      cost += 1;
    } else if (k < 9) {
      terms.push(named(g));
      cost += 1;
    } else terms.push(`${qualifier(r)}ip4:${ipRange(g)}`);
  }
  g.tags.add(`lookups:${cost}`);
  const how = r.pick(['top', 'top', 'top', 'nested', 'redirect']);
  g.tags.add(`relay:${how}`);
  let tail = r.pick(['~all', '-all', '?all']);
  if (how === 'top') terms.push(RELAY);
  else if (how === 'nested') terms.push(include(g, r.int(3), 1, RELAY)[0]);
  else tail = 'redirect=relay.mailchannels.net';
  if (r.chance(0.3)) terms.push(fill(g));
  return { domain: d, relayed: true, spf: ['v=spf1', ...terms, tail].join(' '), world: g.world, tags: [...g.tags] };
}

const GENERATED: Scenario[] = Array.from({ length: 120 }, (_, i) => generated(0x5eed + i * 7919, i));

// ---- hand-made records: the smallest showing each defect (see the top) ----

const fills = (from: number, n: number) => Array.from({ length: n }, (_, k) => `a:f${from + k}.fill.example`).join(' ');

function handMade(label: string, spf: string, world: Record<string, string> = {}, more: Partial<Scenario> = {}): Scenario {
  const d = `${label}.relaylimit.example`;
  return { domain: d, relayed: true, spf, world: Object.fromEntries(Object.entries(world).map(([n, t]) => [n, { TXT: [chunks(t)] }])), tags: ['hand-made'], ...more };
}

const HAND_MADE: Scenario[] = [
  handMade('relay-deny-early', `v=spf1 include:_spf.deny-early.example ${RELAY} ~all`, { '_spf.deny-early.example': `v=spf1 -ip4:23.83.208.0/20 -ip4:205.201.128.0/20 ${fills(0, 10)} ~all` }),
  // The same, but for part of the relay's ranges: the rest go on through its 10 lookups (a permerror, as said before).
  handMade('relay-deny-part', `v=spf1 include:_spf.deny-part.example ${RELAY} ~all`, { '_spf.deny-part.example': `v=spf1 ~ip4:23.83.208.0/20 ${fills(0, 10)} ~all` }),
  handMade('relay-pass-early', `v=spf1 include:_spf.pass-early.example ${RELAY} ~all`, {
    '_spf.pass-early.example': `v=spf1 a:hit2.relayhosts.example/20 a:hitb.relayhosts.example/20 ${fills(0, 9)} ~all`,
  }),
  handMade('relay-a-deny', `v=spf1 -a:hit1.relayhosts.example ${fills(0, 6)} ${RELAY} ~all`),
  handMade('relay-mx-deny', `v=spf1 ~mx:mxhit.relayhosts.example ${fills(0, 6)} ${RELAY} ~all`),
  handMade('relay-exists-deny', `v=spf1 ${fills(0, 6)} -exists:yes.relayhosts.example ${RELAY} ~all`),
  handMade('relay-include-neutral', `v=spf1 ${fills(0, 6)} ?include:_spf.neutral.example ${RELAY} ~all`, { '_spf.neutral.example': 'v=spf1 ip4:23.83.0.0/16 -all' }),
  handMade('relay-include-fail', `v=spf1 -include:deny.include-fail.example ${fills(0, 6)} ${RELAY} ~all`, { 'deny.include-fail.example': 'v=spf1 +ip4:23.83.208.0/24 -all' }),
  handMade('relay-inside-a', `v=spf1 ${fills(0, 6)} include:_spf.hoster-a.example ~all`, { '_spf.hoster-a.example': `v=spf1 -a:hit1.relayhosts.example ${RELAY} ~all` }),
  handMade('relay-inside-lookups', `v=spf1 ${fills(0, 8)} include:_spf.hoster-lookups.example ~all`, { '_spf.hoster-lookups.example': `v=spf1 ${fills(8, 2)} ${RELAY} ~all` }),
  handMade('relay-inside-broken', `v=spf1 ${fills(0, 6)} include:_spf.hoster-broken.example ~all`, { '_spf.hoster-broken.example': `v=spf1 include:nospf.relayhosts.example ${RELAY} ~all` }),
  handMade('relay-redirect-a', `v=spf1 ${fills(0, 6)} -a:hitall.relayhosts.example redirect=relay.mailchannels.net`),
  // DIFFERENCES: list — the list's address fails; mailhealth cannot tell which addresses a list with macros holds.
  handMade('relay-list-deny', `v=spf1 -exists:%{i}.lst.relayhosts.example ${fills(0, 6)} ${RELAY} ~all`, {}, { tags: ['hand-made', 'list'] }),
  // DIFFERENCES: unprobed — a piece of the relay's ranges no probe is in.
  handMade('relay-unprobed', `v=spf1 -ip4:23.83.209.0/24 ${fills(0, 6)} ${RELAY} ~all`, {}, { unprobed: '23.83.209.5' }),
];

const SCENARIOS = [...GENERATED, ...HAND_MADE];

function zoneOf(s: Scenario): ZoneRecord[] {
  return [...apexOf(s.domain), { ...rec(s.domain, 'TXT', s.spf), txt: chunks(s.spf) }];
}

// ---- the verdicts ----

const show = (fs: readonly Finding[]) => fs.filter((f) => f.check === 'spf' && f.severity !== 'info').map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''} [${f.subject ?? ''}]: ${f.message}`).join('\n');

/** The addresses both judges are asked about: the probes, the list's address, a stranger, and an unprobed address. */
const asked = (s: Scenario) => [...PROBES, LISTED, STRANGER_IP, ...(s.unprobed ? [s.unprobed] : [])];
const at = (s: Scenario, ip: string) => asked(s).indexOf(ip);

/** What the judges answered, in words, for a message. */
function said(s: Scenario, as: readonly [Answer, Answer][]): string {
  return asked(s)
    .map((ip, i) => `${ip}: pyspf ${as[i][0].result} (${as[i][0].explanation}), Mail::SPF ${as[i][1].result}`)
    .join('\n');
}

function describeScenario(s: Scenario): string {
  return [s.spf, ...Object.entries(s.world).map(([n, v]) => `${n}: ${(v.TXT ?? []).map((x) => x.join('')).join(' | ')}`), `tags: ${s.tags.join(' ')}`].join('\n');
}

/**
 * Documented differences: where mailhealth's verdict and the judges' may part, and why. Each is asserted to show
 * exactly so, and to be shown by some domain.
 */
const DIFFERENCES = {
  list: "exists:%{i}.<list> (or any term with macros that depend on the message) matches the addresses its list holds: mailhealth cannot tell which of the relay's addresses a list holds (only check_host with each address could), and counts the term as no match — as for a denylist, README \"SPF terms with macros\"; LISTED's answers differ from those of 23.83.212.77, in the same piece of the relay's ranges but for the list, only in records with such a term",
  unprobed: "mailhealth judges every address of the relay's ranges (the relay may send from any of them): a record that fails some the probes do not ask about (-ip4:23.83.209.0/24) is spf.server-not-authorized while both judges pass every probe — and fail the unprobed address",
};

describe("a relay's include after 7–11 lookups: the audit's verdict on the relay and the SPF fix, judged by pyspf and Mail::SPF", { skip }, () => {
  const runs = new ScenarioRuns({
    scenarios: SCENARIOS,
    judges: found as Exclude<typeof found, { skip: string }>,
    zoneOf,
    serve: (zones) => served(Object.assign({}, WORLD, ...SCENARIOS.map((s) => s.world)), [...zones.values()].flat()),
    askBefore: asked,
    askAfter: asked,
  });
  const { before: before_, after: after_, judgedBefore, judgedAfter, fixed } = runs;

  before(() => runs.start());
  after(() => runs.stop());

  test('neither judge answers temperror or fails, and mailhealth has no unknown finding', () => assertNoTrouble(runs));

  test('the generated records show what they are meant to: each kind of term, and 7 to 11 lookups before the relay', () => {
    const tags = new Set(GENERATED.flatMap((s) => s.tags));
    for (const t of ['ip:all', 'ip:part', 'ip:none', 'hit', 'miss', 'list', 'nested', 'relay:top', 'relay:nested', 'relay:redirect', ...[7, 8, 9, 10, 11].map((n) => `lookups:${n}`)]) {
      assert.ok(tags.has(t), t);
    }
  });

  for (const s of SCENARIOS) {
    test(`${s.domain}: both judges agree; mailhealth says the relay is authorised exactly when they pass every probe`, () => {
      const { fs } = before_.get(s.domain)!;
      const as = judgedBefore.get(s.domain)!;
      const where = `${describeScenario(s)}\n${said(s, as)}\nmailhealth:\n${show(fs)}`;
      asked(s).forEach((ip, i) => assert.equal(as[i][0].result, as[i][1].result, `${ip}: the judges agree\n${where}`));
      const pass = PROBES.every((ip) => as[at(s, ip)][0].result === 'pass');
      const mh = authorised(s, fs, PROBES[0]);
      if (s.unprobed) {
        // DIFFERENCES.unprobed: every probe passes, the unprobed address does not, and mailhealth says so of the range.
        assert.ok(pass && as[at(s, s.unprobed)][0].result !== 'pass' && !mh, `${DIFFERENCES.unprobed}\n${where}`);
        return;
      }
      assert.equal(mh, pass, `mailhealth ${mh ? 'authorised' : 'not authorised'}, the judges ${pass ? 'pass' : 'do not pass'} every probe\n${where}`);
      // spf.ok only where every probe passes — and, without a term with macros, no sender gets permerror.
      if (fs.some((f) => f.rule === 'spf.ok')) {
        assert.ok(pass, where);
        if (!s.spf.includes('%{') && !Object.values(s.world).some((v) => JSON.stringify(v).includes('%{'))) assert.notEqual(as[at(s, STRANGER_IP)][0].result, 'permerror', where);
      }
      // DIFFERENCES.list: the list's address is answered otherwise than its piece of the ranges only where a list is.
      const listed = as[at(s, LISTED)][0].result;
      if (listed !== as[at(s, '23.83.212.77')][0].result) assert.ok(s.tags.includes('list'), `${DIFFERENCES.list}\n${where}`);
    });

    test(`${s.domain}: where the SPF fix is offered and goes through, both judges pass every probe after it, and so does the audit`, () => {
      const { plan } = before_.get(s.domain)!;
      if (!plan || plan.blocked) return;
      const record = fixed.get(s.domain)!.find((r) => r.type === 'TXT')!.value;
      const as = judgedAfter.get(s.domain)!;
      const where = `"${record}"\n${describeScenario(s)}\n${said(s, as)}\n${plan.notes.join('\n')}`;
      for (const ip of PROBES) {
        assert.equal(as[at(s, ip)][0].result, 'pass', `${ip} after the fix: pyspf\n${where}`);
        assert.equal(as[at(s, ip)][1].result, 'pass', `${ip} after the fix: Mail::SPF\n${where}`);
      }
      const fs = after_.get(s.domain)!;
      assert.ok(authorised(s, fs, PROBES[0]), `after the fix, mailhealth authorised\n${where}\n${show(fs)}`);
    });
  }

  test('each documented difference is shown by some domain', () => {
    const listShown = SCENARIOS.some((s) => {
      const as = judgedBefore.get(s.domain)!;
      return as[at(s, LISTED)][0].result !== as[at(s, '23.83.212.77')][0].result && authorised(s, before_.get(s.domain)!.fs, PROBES[0]) === PROBES.every((ip) => as[at(s, ip)][0].result === 'pass');
    });
    assert.ok(listShown, 'list');
    assert.ok(SCENARIOS.some((s) => s.unprobed), 'unprobed');
  });

  test('the SPF fix is planned and goes through for some generated domains (the checks after it are not vacuous)', () => {
    const applied = GENERATED.filter((s) => {
      const p = before_.get(s.domain)!.plan;
      return p && !p.blocked && p.changes.length;
    });
    assert.ok(applied.length >= 10, `${applied.length}`);
  });

  test('hand-made: the SPF fix is offered for each defect the relay shows, and goes through', () => {
    for (const label of ['relay-a-deny', 'relay-mx-deny', 'relay-exists-deny', 'relay-include-neutral', 'relay-include-fail', 'relay-inside-a', 'relay-redirect-a']) {
      const s = HAND_MADE.find((x) => x.domain.startsWith(`${label}.`))!;
      const { fs, plan } = before_.get(s.domain)!;
      assert.ok(plan && !plan.blocked, `${label}: ${plan?.blocked ?? 'no plan'}\n${show(fs)}`);
    }
  });
});
