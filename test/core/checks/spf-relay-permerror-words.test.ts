// What spf.server-not-authorized says of the relay's include written with "~" (or "-", "?") where the SPF as published
// is a permanent error today for the relay's addresses: two SPF records (RFC 7208 §4.5), a syntax error anywhere in the
// record (§4.6), or an include of a name with no SPF record before the relay's include (§5.2). The finding said the
// include "gives the relay's mail softfail", or that terms before it pass it "for now" — while check_host (mailhealth's
// own, pyspf, Mail::SPF) answers permerror there, and the SPF fix's note on the same include says its qualifier
// "decides nothing for the relay's mail today: receivers answer permerror" (src/core/plans/spf.ts relayToday). The
// finding now says so; its rule, severity and fix stay (only an include without a qualifier authorises the relay).
//
// The first part runs everywhere (mailhealth's check_host over an in-memory world); the second asks the judges the
// way test/core/checks/spf-relay-words-judges.test.ts does (one loopback DNS server that mailhealth asks too), and
// skips with a message when no python3 with pyspf or no perl with Mail::SPF is found.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ServedZoneMap } from '../../../src/adapters/dns/server.js';
import type { Finding } from '../../../src/core/model.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { inRange } from '../../helpers/ipv4-range.js';
import { INCLUDE, mechanism, noteOn, rangesOf, RELAY, relayAudit, relayJudgeRuns, show, type RelayScenario } from '../../helpers/relay-words.js';
import { BASE_WORLD, findSpfJudges, type SpfJudges } from '../../helpers/spf-scenarios.js';


// ---- mailhealth's own check_host, in memory ----

const D = 'shop.example';
const WORLD: ZoneMap = {
  [D]: { A: ['203.0.113.10'] },
  [RELAY]: { TXT: [['v=spf1 ip4:23.83.208.0/20 ~all']] },
  'wrap.example': { TXT: [[`v=spf1 ${INCLUDE} ~all`]] },
  'nospf.example': { TXT: [['some-verification=abc']] },
  'broken-inside.example': { TXT: [[`v=spf1 include:nothere.example ${INCLUDE} ~all`]] },
  ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`h${i}.example`, { A: [`192.0.2.${i + 1}`] }])),
};
/** Addresses of the relay's range (23.83.208.0/20): one in each half. */
const RELAY_IPS = ['23.83.208.5', '23.83.220.5'];

const audit = (spf: string | string[]) => relayAudit(WORLD, D, spf);


/**
 * The broken include's spf.unknown-term says receivers meet its permerror for mail no term before it matches — not for
 * the whole record (mail a term before it decides for never reaches it).
 */
function assertIncludeWords(fs: readonly Finding[], term: string, text: string): void {
  const f = fs.find((x) => x.rule === 'spf.unknown-term' && x.subject === term);
  assert.ok(f, text);
  assert.match(f.message, /so the include cannot work: receivers return permerror for all mail no term before it matches \(see spf\.syntax\)/, text);
  assert.doesNotMatch(f.message, /whole record/, text);
}

/** What the old words claimed of the relay's mail that check_host answers permerror for. */
const SOFTFAIL_OR_PASS = /gives the relay's mail (?:from \S+ )?softfail|receivers pass its mail from them/;

describe('the relay\'s "~" include in SPF that is a permanent error today: the finding says permerror, as the fix\'s note does', () => {
  for (const [what, spf, term, rule] of [
    ['two SPF records, terms before the include passing the relay', [`v=spf1 ip4:23.83.208.0/20 ~${INCLUDE} -all`, 'v=spf1 mx -all'], `~${INCLUDE}`, 'spf.multiple'],
    ['two SPF records, the include alone', [`v=spf1 ~${INCLUDE} -all`, 'v=spf1 mx -all'], `~${INCLUDE}`, 'spf.multiple'],
    ['two SPF records, another include reaching the relay', ['v=spf1 ~include:wrap.example -all', 'v=spf1 mx -all'], '~include:wrap.example', 'spf.multiple'],
    ['a syntax error before the include', `v=spf1 foo:bar ~${INCLUDE} -all`, `~${INCLUDE}`, 'spf.syntax'],
    ['a syntax error after the include (the record is refused whole)', `v=spf1 ip4:23.83.208.0/20 ~${INCLUDE} foo:bar -all`, `~${INCLUDE}`, 'spf.syntax'],
  ] as const) {
    test(`${what}: receivers answer permerror for the SPF as published, and the qualifier decides nothing today`, async () => {
      const r = await audit([...[spf].flat()]);
      for (const ip of RELAY_IPS) assert.equal((await r.today(ip)).result, 'permerror', `${ip}\n${r.text}`);
      // The audit's own finding for the permanent error is there, and says permerror.
      assert.ok(r.fs.some((f) => f.rule === rule && f.severity === 'fail' && /permanent error|permerror|has errors/.test(f.message)), r.text);
      const mine = r.na.filter((f) => f.message.includes(term));
      assert.equal(mine.length, 1, r.text);
      const m = mine[0].message;
      // Rule, severity and fix as before.
      assert.deepEqual([mine[0].severity, mine[0].fix], ['fail', 'spf'], r.text);
      assert.match(m, new RegExp(`reaches it through ${term.replace(/[.~]/g, '\\$&')}, but receivers answer permerror for the SPF as published today, whatever the sender: `), m);
      assert.match(m, rule === 'spf.multiple' ? /publishes 2 SPF records \(RFC 7208 §4\.5; see spf\.multiple\)/ : /has a syntax error \(unknown mechanism "foo" in "foo:bar"\), .*\(RFC 7208 §4\.6; see spf\.syntax\)/, m);
      assert.match(m, /the "~" qualifier decides nothing today/, m);
      assert.doesNotMatch(m, SOFTFAIL_OR_PASS, m);
      // The fix's note on the same include says the same of today.
      assert.match(noteOn(r.plan.notes, term), /decides nothing for the relay's mail today(?:: | \()receivers answer permerror for the SPF as published/, r.text);
    });
  }

  test('two SPF records, and a "-" range before the include covering the relay: the range is named as deciding once that is mended, not today', async () => {
    const r = await audit([`v=spf1 -ip4:23.83.208.0/20 ~${INCLUDE} -all`, 'v=spf1 mx -all']);
    for (const ip of RELAY_IPS) assert.equal((await r.today(ip)).result, 'permerror', `${ip}\n${r.text}`);
    assert.ok(r.fs.some((f) => f.rule === 'spf.multiple'), r.text);
    const mine = r.na.filter((f) => f.message.includes(`~${INCLUDE}`));
    assert.equal(mine.length, 1, r.text);
    const m = mine[0].message;
    assert.deepEqual([mine[0].severity, mine[0].fix, mine[0].subject], ['fail', 'spf', '-ip4:23.83.208.0/20'], r.text);
    assert.match(m, /-ip4:23\.83\.208\.0\/20 comes before ~include:relay\.mailchannels\.net and covers the relay's addresses 23\.83\.208\.0\/20, and receivers answer permerror for the SPF as published today, whatever the sender: /, m);
    assert.match(m, /neither -ip4:23\.83\.208\.0\/20 nor the "~" qualifier decides anything today\. Once that is mended, the first matching term decides \(RFC 7208 §4\.6\.2\): -ip4:23\.83\.208\.0\/20 would give the relay's mail from those addresses fail instead of pass/, m);
    // Nothing said of today but permerror.
    assert.doesNotMatch(m, /receivers give the relay's mail|decides for none of the relay's mail today/, m);
    assert.match(noteOn(r.plan.notes, `~${INCLUDE}`), /decides nothing for the relay's mail today: receivers answer permerror for the SPF as published/, r.text);
  });

  for (const [what, spf, stop] of [
    ['an include of a name that does not exist before it', `v=spf1 include:nothere.example ~${INCLUDE} -all`, 'include:nothere.example'],
    ['an include of a name with no SPF record before it', `v=spf1 include:nospf.example ~${INCLUDE} -all`, 'include:nospf.example'],
    ['the same before another include reaching the relay', 'v=spf1 include:nothere.example ~include:wrap.example -all', 'include:nothere.example'],
  ] as const) {
    test(`${what}: receivers stop there with permerror before the include decides`, async () => {
      const r = await audit(spf);
      const term = spf.split(' ')[2];
      for (const ip of RELAY_IPS) assert.equal((await r.today(ip)).result, 'permerror', `${ip}\n${r.text}`);
      assert.ok(r.fs.some((f) => f.rule === 'spf.syntax' && f.subject === stop && /permerror/.test(f.message)), r.text);
      assert.equal(r.na.length, 1, r.text);
      const m = r.na[0].message;
      assert.deepEqual([r.na[0].severity, r.na[0].fix], ['fail', 'spf'], r.text);
      assert.match(m, new RegExp(`but ${stop.replace(/[.]/g, '\\.')} comes before it: .*Receivers return permerror for the relay's mail before they reach ${term.replace(/[.~]/g, '\\$&')} \\(RFC 7208 §5\\.2\\), so it fails SPF`), m);
      assert.match(m, /the "~" qualifier decides nothing today/, m);
      assert.doesNotMatch(m, SOFTFAIL_OR_PASS, m);
      // The note names the same stop.
      assert.match(noteOn(r.plan.notes, term), new RegExp(`decides for none of the relay's mail today \\(receivers stop at a permanent error before it, at ${stop.replace(/[.]/g, '\\.')}: `), r.text);
    });
  }

  test('half the relay passed before the broken include: the finding says the other half gets permerror (not that the include softfails it)', async () => {
    const r = await audit(`v=spf1 ip4:23.83.208.0/21 include:nothere.example ~${INCLUDE} -all`);
    assert.equal((await r.today('23.83.208.5')).result, 'pass');
    assert.equal((await r.today('23.83.220.5')).result, 'permerror');
    assert.equal(r.na.length, 1, r.text);
    const m = r.na[0].message;
    assert.match(m, /terms before it pass the relay's addresses 23\.83\.208\.0\/21 first .*the "~" qualifier decides nothing today\. Receivers return permerror for the relay's mail from its other addresses before they reach ~include:relay\.mailchannels\.net \(RFC 7208 §5\.2\): include:nothere\.example comes before it — /, m);
    // The broken include's own finding does not say the whole record is a permanent error (the /21 passes first).
    assertIncludeWords(r.fs, 'include:nothere.example', r.text);
  });

  test('half the relay failed first, the rest stopped by the broken include: both said, the include deciding for none', async () => {
    const r = await audit(`v=spf1 -ip4:23.83.208.0/21 include:nothere.example ~${INCLUDE} -all`);
    assert.deepEqual([(await r.today('23.83.208.5')).result, (await r.today('23.83.220.5')).result], ['fail', 'permerror']);
    assert.equal(r.na.length, 1, r.text);
    const m = r.na[0].message;
    assert.equal(r.na[0].subject, '-ip4:23.83.208.0/21');
    assert.match(m, /covers the relay's addresses 23\.83\.208\.0\/21: .*~include:relay\.mailchannels\.net decides for none of the relay's mail today, .*Receivers return permerror for the relay's mail from its other addresses before they reach ~include:relay\.mailchannels\.net \(RFC 7208 §5\.2\): include:nothere\.example comes before it/, m);
  });

  test('a permanent error inside the record the "~" include leads to: permerror at that include', async () => {
    const r = await audit('v=spf1 ~include:broken-inside.example -all');
    for (const ip of RELAY_IPS) assert.equal((await r.today(ip)).result, 'permerror', `${ip}\n${r.text}`);
    assert.equal(r.na.length, 1, r.text);
    const m = r.na[0].message;
    assert.match(m, /in the record ~include:broken-inside\.example leads to, a permanent error comes before the relay's include: .*Receivers return permerror for the relay's mail at ~include:broken-inside\.example \(RFC 7208 §5\.2\)/, m);
    assert.match(m, /the "~" qualifier decides nothing today/, m);
    assert.doesNotMatch(m, SOFTFAIL_OR_PASS, m);
  });

  test('the include the 11th DNS lookup: permerror at it (RFC 7208 §4.6.4)', async () => {
    const spf = `v=spf1 ${Array.from({ length: 10 }, (_, i) => `a:h${i}.example`).join(' ')} ~${INCLUDE} -all`;
    const r = await audit(spf);
    for (const ip of RELAY_IPS) assert.equal((await r.today(ip)).result, 'permerror', `${ip}\n${r.text}`);
    assert.ok(r.fs.some((f) => f.rule === 'spf.too-many-lookups'), r.text);
    assert.equal(r.na.length, 1, r.text);
    const m = r.na[0].message;
    assert.match(m, /Receivers return permerror for the relay's mail at ~include:relay\.mailchannels\.net \(RFC 7208 §4\.6\.4\)/, m);
    assert.doesNotMatch(m, SOFTFAIL_OR_PASS, m);
  });

  test('the broken include after the relay\'s "~" include: receivers never reach it, and the finding still says softfail', async () => {
    const r = await audit(`v=spf1 ~${INCLUDE} include:nothere.example -all`);
    for (const ip of RELAY_IPS) assert.deepEqual([(await r.today(ip)).result, (await r.today(ip)).decidedBy], ['softfail', `~${INCLUDE}`], r.text);
    assert.equal(r.na.length, 1, r.text);
    assert.match(r.na[0].message, /its "~" qualifier gives the relay's mail softfail instead of pass/, r.text);
    assert.doesNotMatch(r.na[0].message, /permerror/, r.text);
    assertIncludeWords(r.fs, 'include:nothere.example', r.text);
  });
});

// ---- the judges ----

const found = findSpfJudges();
const skip = 'skip' in found ? found.skip : false;

/** One address of each piece of the relay's ranges the records below treat alike (BASE_WORLD's 23.83.208.0/20, 205.201.128.0/20). */
const PROBES = ['23.83.208.10', '23.83.215.250', '23.83.216.10', '23.83.223.250', '205.201.128.10', '205.201.140.77'];
const S = 'relaypermerr.example';
/** Names of the world that are no scenario's domain: one that does not exist, one with no SPF record, short ones for the lookup limit. */
const MISSING = `missing.${S}`;
const TXT_ONLY = `txt-only.${S}`;
const H = (i: number) => `h${i}.lk.example`;

type Scenario = RelayScenario;

const scenario = (label: string, ...spf: string[]): Scenario => ({ domain: `${label}.${S}`, relayed: true, spf });

const SCENARIOS: Scenario[] = [
  scenario('two-passing', `v=spf1 ip4:23.83.208.0/20 ~${INCLUDE} -all`, 'v=spf1 mx -all'),
  scenario('two-alone', `v=spf1 ~${INCLUDE} -all`, 'v=spf1 mx -all'),
  scenario('two-wrap', `v=spf1 ~include:wrap.${S} -all`, 'v=spf1 mx -all'),
  scenario('two-deny-first', `v=spf1 -ip4:23.83.208.0/20 ~${INCLUDE} -all`, 'v=spf1 mx -all'),
  scenario('syntax-before', `v=spf1 foo:bar ~${INCLUDE} -all`),
  scenario('syntax-after', `v=spf1 ip4:23.83.208.0/20 ~${INCLUDE} foo:bar -all`),
  scenario('nothere', `v=spf1 include:${MISSING} ~${INCLUDE} -all`),
  scenario('nospf', `v=spf1 include:${TXT_ONLY} ~${INCLUDE} -all`),
  scenario('nothere-wrap', `v=spf1 include:${MISSING} ~include:wrap.${S} -all`),
  scenario('half-passed', `v=spf1 ip4:23.83.208.0/21 include:${MISSING} ~${INCLUDE} -all`),
  scenario('half-failed', `v=spf1 -ip4:23.83.208.0/21 include:${MISSING} ~${INCLUDE} -all`),
  scenario('inside', `v=spf1 ~include:broken.${S} -all`),
  scenario('limit', `v=spf1 ${Array.from({ length: 10 }, (_, i) => `a:${H(i)}`).join(' ')} ~${INCLUDE} -all`),
  // Controls: the relay's "~" include decides before the broken include; the same record without it.
  scenario('nothere-after', `v=spf1 ~${INCLUDE} include:${MISSING} -all`),
  scenario('tilde-alone', `v=spf1 ~${INCLUDE} -all`),
];

/** Scenarios whose fix waits for the user's choice (its preview names the terms to select for removal). */
const CHOICE = new Set(['inside', 'limit'].map((l) => `${l}.${S}`));

const JUDGED_WORLD: ServedZoneMap = {
  ...BASE_WORLD,
  [`wrap.${S}`]: { TXT: [[`v=spf1 ${INCLUDE} ~all`]] },
  [TXT_ONLY]: { TXT: [['some-verification=abc']] },
  [`broken.${S}`]: { TXT: [[`v=spf1 include:${MISSING} ${INCLUDE} ~all`]] },
  ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [H(i), { A: [`192.0.2.${i + 1}`] }])),
};






/** A claim of a message: check_host gives `result` to the relay's mail from `ranges` (null: those no other claim names), decided at `term` (when said). */
interface Claim {
  ranges: string[] | null;
  term?: string;
  result: string;
}

/** Every claim the finding makes of what receivers answer for the relay's mail (the words of deniedRelay). */
function claimsOf(message: string): Claim[] {
  const out: Claim[] = [];
  let m: RegExpExecArray | null;
  if (/receivers answer permerror for the SPF as published today, whatever the sender/.test(message)) out.push({ ranges: null, result: 'permerror' });
  if (/Receivers return permerror for the relay's mail (?:before they reach|at) /.test(message)) out.push({ ranges: null, result: 'permerror' });
  if (/Receivers return permerror for the relay's mail from its other addresses/.test(message)) out.push({ ranges: null, result: 'permerror' });
  if ((m = /(\S+) comes before (\S+) and covers the relay's addresses (.+?): the first/.exec(message))) {
    // What it "would give" once the record is mended is no claim of today.
    const r = /(?<!would )give the relay's mail from those addresses (\w+) instead of pass/.exec(message);
    if (r) out.push({ ranges: rangesOf(m[3]), term: m[1], result: r[1] });
  }
  if ((m = /terms before it pass the relay's addresses (.+?) first/.exec(message))) out.push({ ranges: rangesOf(m[1]), result: 'pass' });
  if ((m = /The relay's mail from (.+?) reaches (\S+), whose "." qualifier gives it (\w+) instead of pass/.exec(message))) out.push({ ranges: rangesOf(m[1]), term: m[2], result: m[3] });
  if ((m = /reaches it through (\S+): its "." qualifier gives the relay's mail (\w+) instead of pass/.exec(message))) out.push({ ranges: null, term: m[1], result: m[2] });
  return out;
}

describe('what the finding says receivers answer for the relay\'s mail, judged by pyspf and Mail::SPF', { skip }, () => {
  const j = found as SpfJudges;
  const { runs, relayPasses } = relayJudgeRuns(j, SCENARIOS, JUDGED_WORLD, PROBES);

  test('the relay passes every probe', () => assert.deepEqual(relayPasses(), PROBES));

  for (const s of SCENARIOS) {
    test(`${s.domain} (${s.spf.join(' | ')}): every claim of the finding is what both judges answer, and the fix passes the relay`, () => {
      const { fs, plan } = runs.before.get(s.domain)!;
      const as = runs.judgedBefore.get(s.domain)!;
      const where = `${s.spf.join(' | ')}\n${PROBES.map((ip, i) => `${ip}: pyspf ${as[i][0].result}, Mail::SPF ${as[i][1].result} ${mechanism(as[i][1]) ?? ''} ${as[i][1].result === 'permerror' ? as[i][1].explanation : ''}`).join('\n')}\nmailhealth:\n${show(fs)}`;
      PROBES.forEach((ip, i) => assert.equal(as[i][0].result, as[i][1].result, `${ip}: the judges agree\n${where}`));
      const na = fs.filter((f) => f.rule === 'spf.server-not-authorized');
      // Not authorised (only a plain include authorises the relay): one finding per record that reaches the relay.
      assert.equal(na.length, 1, where);
      const claims = claimsOf(na[0].message);
      assert.ok(claims.length, `the message says what receivers answer\n${where}`);
      const named = (ip: string) => claims.some((c) => c.ranges?.some((x) => inRange(ip, x)));
      const covers = (c: Claim, ip: string) => (c.ranges ? c.ranges.some((x) => inRange(ip, x)) : !named(ip));
      for (const c of claims) {
        const ips = PROBES.filter((ip) => covers(c, ip));
        assert.ok(ips.length, `the claim ${JSON.stringify(c)} is about some probe\n${where}`);
        for (const ip of ips) {
          const [py, ms] = as[PROBES.indexOf(ip)];
          const said = `${ip}: ${JSON.stringify(c)}\n${where}`;
          assert.equal(py.result, c.result, `pyspf: ${said}`);
          assert.equal(ms.result, c.result, `Mail::SPF: ${said}`);
          if (c.term) assert.equal(mechanism(ms), c.term, `Mail::SPF matched ${mechanism(ms)}: ${said}`);
        }
      }
      // Every probe the judges answer permerror for is one the finding says gets permerror (the words said what passed or
      // failed first, and nothing of the rest).
      PROBES.forEach((ip, i) => {
        if (as[i][0].result === 'permerror') assert.ok(claims.some((c) => c.result === 'permerror' && covers(c, ip)), `${ip}: permerror, said\n${where}`);
      });
      // "Decides nothing today" / "for none": the include decides for no probe.
      const include = /reaches it through (\S+?),? /.exec(na[0].message)?.[1] ?? /comes before (\S+) and/.exec(na[0].message)?.[1];
      if (/qualifier decides nothing today|decides for none of the relay's mail today/.test(na[0].message)) {
        assert.ok(include, where);
        for (const ip of PROBES) assert.notEqual(mechanism(as[PROBES.indexOf(ip)][1]), include, `${ip}: ${include} decides for none\n${where}`);
      }
      const neither = /neither (\S+) nor the "." qualifier decides anything today/.exec(na[0].message);
      if (neither) {
        assert.ok(include, where);
        for (const ip of PROBES) assert.ok(![neither[1], include].includes(mechanism(as[PROBES.indexOf(ip)][1]) ?? ''), `${ip}: neither decides\n${where}`);
      }
      // The fix (unchanged) passes the relay's mail — where it goes through without the user's choice: the record the
      // "~" include leads to is not the fix's to mend, and past the lookup limit the terms to remove are the user's.
      assert.ok(plan, where);
      if (CHOICE.has(s.domain)) return;
      assert.ok(!plan.blocked, `${plan.blocked}\n${where}`);
      const after = runs.judgedAfter.get(s.domain)!;
      for (const ip of relayPasses()) assert.deepEqual([after[PROBES.indexOf(ip)][0].result, after[PROBES.indexOf(ip)][1].result], ['pass', 'pass'], `${ip} after the fix\n${plan.notes.join('\n')}\n${where}`);
    });
  }

  test('the scenarios are as meant: permerror for the relay\'s mail where the SPF is a permanent error for it, softfail in the controls', () => {
    const result = (label: string, ip: string) => runs.judgedBefore.get(`${label}.${S}`)![PROBES.indexOf(ip)][0].result;
    for (const label of ['two-passing', 'two-alone', 'two-wrap', 'two-deny-first', 'syntax-before', 'syntax-after', 'nothere', 'nospf', 'nothere-wrap', 'inside', 'limit']) {
      for (const ip of PROBES) assert.equal(result(label, ip), 'permerror', `${label} ${ip}`);
    }
    for (const label of ['nothere-after', 'tilde-alone']) for (const ip of PROBES) assert.equal(result(label, ip), 'softfail', `${label} ${ip}`);
    assert.deepEqual(['23.83.208.10', '23.83.216.10'].map((ip) => result('half-passed', ip)), ['pass', 'permerror']);
    assert.deepEqual(['23.83.208.10', '23.83.216.10'].map((ip) => result('half-failed', ip)), ['fail', 'permerror']);
  });
});
