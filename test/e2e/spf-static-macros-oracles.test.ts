// SPF terms whose only macros are %{d} (the domain of the record being evaluated) and %{o} (the MAIL FROM domain),
// judged by receivers' own libraries: pyspf (python3-spf, through test/fixtures/oracles/audit-verdicts.py) and Mail::SPF
// (libmail-spf-perl, test/fixtures/oracles/spf-judge.pl), asked check_host(<ip>, <domain>, postmaster@<domain>) over one
// loopback DNS server (src/adapters/dns/server.ts) that mailhealth asks too (its wire resolver, in process).
//
// For the domain's own mail such terms name one name, whoever sends (src/core/spf/tree.ts expands them as check_host
// does). mailhealth walked them as "evaluated per message" (one lookup, nothing followed), and so:
// - direct-after / relay-missing: include:%{d}.<a name without SPF> after the server's IP (after the relay's include) —
//   both judges answer permerror for every other sender; the audit said spf.ok and the fix kept the term;
// - direct-first / relay-before: the same before the server's IP (before the relay's include) — the fix put the IP (the
//   include) before the term and kept it: strangers still got permerror after it; it now drops the term;
// - relay-present: the relay reached through include:%{d}._spf.<host> — both judges pass the relay's addresses (and the
//   address that record lists); the audit said the relay was not authorised and offered a fix;
// - relay-o: the same one record down, include:%{o}.… inside a service's record (%{o} there is the domain checked; a
//   %{d} beside it is the service's name);
// - relay-redirect: redirect=%{d}.<name> leading to the relay's include;
// - relay-transform: %{dr} and %{d2} (RFC 7208 §7.3 transformers) naming the records that list a sender and the relay;
// - direct-exists: exists:%{d}.<name without an A record> is a void lookup for every sender: with two more, a permerror
//   for every sender the server's IP does not match first (the audit counted 2 and said spf.ok).
// And a macro that depends on the message stays per message (relay-i: include:%{ir}.%{d}._spf.<list> before the relay's
// include, whose name for the relay's addresses does not exist: check_host for them, as before).
//
// For each domain: mailhealth's verdict on each of the server's (or the relay's) addresses agrees with both judges, and
// so does its verdict for a stranger's address (a permanent error for every sender, or none) where the record's terms
// name fixed names; the addresses a record lists pass or not as both judges say. Where a finding offers the SPF fix its
// plan goes through; after it both judges pass the server's (or the relay's) addresses, answer no permerror for a
// stranger, and the audit agrees; where no finding offers it, none does.
//
// Skipped with a message when no python3 with pyspf or no perl with Mail::SPF is found (test/helpers/oracles.ts).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServedZoneMap } from '../../src/adapters/dns/server.js';
import type { Finding, ZoneRecord } from '../../src/core/model.js';
import {
  apexOf,
  assertNoTrouble,
  assertNotOffered,
  authorised,
  BASE_WORLD,
  findSpfJudges,
  probes,
  rec,
  ScenarioRuns,
  served,
  SERVER_IP,
  SERVER_IP6,
  type Answer,
  type SpfScenario,
} from '../helpers/spf-scenarios.js';

const found = findSpfJudges();
const skip = 'skip' in found ? found.skip : false;

// ---- the servers, the senders and the world ----

/** An address no record lists. */
const STRANGER_IP = '192.0.2.200';
const STRANGER_IP6 = '2001:db8:ffff::200';
/** Senders the records below list (each in one record only). */
const HOSTED_IP = '198.51.100.10';
const TENANT_IP = '198.51.100.20';
const REVERSED_IP = '198.51.100.30';
const LIST_IP = '198.51.100.77';

const WORLD: ServedZoneMap = {
  ...BASE_WORLD,
  // A service's record that includes, per domain sending through it, a record named after that domain (%{o}), and one
  // named after itself (%{d}: its own name there).
  '_spf.tenants.example': { TXT: [['v=spf1 include:%{d}.own.tenants.example include:%{o}.t.tenants.example ~all']] },
  '_spf.tenants.example.own.tenants.example': { TXT: [[`v=spf1 ip4:${TENANT_IP} ~all`]] },
  // A list by the sender's reversed address, per domain (%{ir}.%{d}): its own sender only.
  [`${LIST_IP.split('.').reverse().join('.')}.relay-i.example._spf.list.example`]: { TXT: [[`v=spf1 ip4:${LIST_IP} -all`]] },
};

interface Scenario extends SpfScenario {
  spf: (d: string) => string;
  /** More names of the world, by the domain: [name, type, value]. */
  more?: (d: string) => [string, 'TXT' | 'A', string][];
  /** Receivers fail one of the server's (or the relay's) addresses before the fix. */
  failsBefore: boolean;
  /**
   * What both judges answer a stranger before the fix: a permerror (for every sender), or not. Absent where a term
   * depends on the message (what it costs a stranger is not the record's).
   */
  everyoneBefore?: boolean;
  /** Senders a record lists and what both judges answer for them (before, and after the fix). */
  listed?: { ip: string; result: string }[];
  /** No finding offers the SPF fix. */
  fix?: 'not-offered';
  /** The fixed record, when the fix is offered. */
  fixed?: (d: string) => string;
}

const SCENARIOS: Scenario[] = [
  {
    domain: 'direct-after.example',
    relayed: false,
    spf: () => `v=spf1 ip4:${SERVER_IP} ip6:${SERVER_IP6} include:%{d}.missing.example ~all`,
    failsBefore: false,
    everyoneBefore: true,
    fixed: () => `v=spf1 ip4:${SERVER_IP} ip6:${SERVER_IP6} ~all`,
  },
  {
    domain: 'direct-first.example',
    relayed: false,
    // The name exists, with no SPF record.
    spf: () => `v=spf1 include:%{d}.missing.example ip4:${SERVER_IP} ip6:${SERVER_IP6} ~all`,
    more: (d) => [[`${d}.missing.example`, 'TXT', 'verification=0123456789']],
    failsBefore: true,
    everyoneBefore: true,
    fixed: () => `v=spf1 ip4:${SERVER_IP} ip6:${SERVER_IP6} ~all`,
  },
  {
    domain: 'relay-missing.example',
    relayed: true,
    spf: () => 'v=spf1 include:relay.mailchannels.net include:%{d}.missing.example ~all',
    failsBefore: false,
    everyoneBefore: true,
    fixed: () => 'v=spf1 include:relay.mailchannels.net ~all',
  },
  {
    domain: 'relay-before.example',
    relayed: true,
    spf: () => 'v=spf1 include:%{d}.missing.example include:relay.mailchannels.net ~all',
    failsBefore: true,
    everyoneBefore: true,
    fixed: () => 'v=spf1 include:relay.mailchannels.net ~all',
  },
  {
    domain: 'relay-present.example',
    relayed: true,
    spf: () => 'v=spf1 include:%{d}._spf.hoster.example ~all',
    more: (d) => [[`${d}._spf.hoster.example`, 'TXT', `v=spf1 ip4:${HOSTED_IP} include:relay.mailchannels.net ~all`]],
    failsBefore: false,
    everyoneBefore: false,
    listed: [{ ip: HOSTED_IP, result: 'pass' }],
    fix: 'not-offered',
  },
  {
    domain: 'relay-o.example',
    relayed: true,
    spf: () => 'v=spf1 include:_spf.tenants.example ~all',
    more: (d) => [[`${d}.t.tenants.example`, 'TXT', 'v=spf1 include:relay.mailchannels.net ~all']],
    failsBefore: false,
    everyoneBefore: false,
    listed: [{ ip: TENANT_IP, result: 'pass' }],
    fix: 'not-offered',
  },
  {
    domain: 'relay-redirect.example',
    relayed: true,
    spf: () => 'v=spf1 redirect=%{d}.spf.hoster.example',
    more: (d) => [[`${d}.spf.hoster.example`, 'TXT', 'v=spf1 include:relay.mailchannels.net -all']],
    failsBefore: false,
    everyoneBefore: false,
    fix: 'not-offered',
  },
  {
    domain: 'shop.transform.example',
    relayed: true,
    spf: () => 'v=spf1 include:%{dr}.rev.hoster.example include:%{d2}._spf.hoster.example ~all',
    more: () => [
      ['example.transform.shop.rev.hoster.example', 'TXT', `v=spf1 ip4:${REVERSED_IP} -all`],
      ['transform.example._spf.hoster.example', 'TXT', 'v=spf1 include:relay.mailchannels.net ~all'],
    ],
    failsBefore: false,
    everyoneBefore: false,
    listed: [{ ip: REVERSED_IP, result: 'pass' }],
    fix: 'not-offered',
  },
  {
    domain: 'direct-exists.example',
    relayed: false,
    // exists:%{d}.nolist.example: the name does not exist (a void lookup); gone.<d> does not exist; noaddr.<d> has no
    // address. The fix drops a:gone.<d> and exists:%{d}.nolist.example (terms of names that do not exist: they match no
    // sender), which leaves 1.
    spf: (d) => `v=spf1 ip4:${SERVER_IP} ip6:${SERVER_IP6} exists:%{d}.nolist.example a:gone.${d} a:noaddr.${d} ~all`,
    more: (d) => [[`noaddr.${d}`, 'TXT', 'not an address']],
    failsBefore: false,
    everyoneBefore: true,
    fixed: (d) => `v=spf1 ip4:${SERVER_IP} ip6:${SERVER_IP6} a:noaddr.${d} ~all`,
  },
  {
    domain: 'relay-i.example',
    relayed: true,
    spf: () => 'v=spf1 include:%{ir}.%{d}._spf.list.example include:relay.mailchannels.net ~all',
    failsBefore: true,
    listed: [{ ip: LIST_IP, result: 'pass' }],
    fixed: () => 'v=spf1 include:relay.mailchannels.net include:%{ir}.%{d}._spf.list.example ~all',
  },
];

/** A stranger of each family the scenario's senders have. */
const strangers = (s: Scenario) => (s.relayed ? [STRANGER_IP] : [STRANGER_IP, STRANGER_IP6]);

/** The domain's zone: its apex and mail host on this server, and its SPF record. */
function zoneOf(s: Scenario): ZoneRecord[] {
  const d = s.domain;
  return [...apexOf(d), rec(d, 'TXT', s.spf(d))];
}

/** The names each scenario adds to the world, as records (served before the zones). */
const moreOf = (s: Scenario): ZoneRecord[] => (s.more?.(s.domain) ?? []).map(([name, type, value]) => rec(name, type, value));

/**
 * Whether the audit says receivers answer permerror for every sender the record's own terms do not match first: a
 * syntax error or a broken include / redirect= (spf.syntax), past 10 lookups, past 2 void lookups for every sender.
 */
function everyone(fs: readonly Finding[]): boolean {
  return fs.some((f) => f.check === 'spf' && f.severity === 'fail' && (f.rule === 'spf.syntax' || f.rule === 'spf.too-many-lookups' || (f.rule === 'spf.void-lookups' && f.subject === undefined)));
}

const show = (fs: readonly Finding[]) => fs.filter((f) => f.check === 'spf').map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''} [${f.subject ?? ''}]: ${f.message}`).join('\n');
const said = (a: Answer) => `${a.result} (${a.explanation})`;

describe('SPF terms with %{d} and %{o}: the audit and the SPF fix, judged by pyspf and Mail::SPF', { skip }, () => {
  /** Per domain: the judges' answers for probes(s), then strangers(s), then the listed senders. */
  const asked = (s: Scenario) => [...probes(s), ...strangers(s), ...(s.listed ?? []).map((x) => x.ip)];
  const runs = new ScenarioRuns({
    scenarios: SCENARIOS,
    judges: found as Exclude<typeof found, { skip: string }>,
    zoneOf,
    serve: (zones) => served(WORLD, [...SCENARIOS.flatMap(moreOf), ...[...zones.values()].flat()]),
    askBefore: asked,
    askAfter: asked,
  });
  const { fixed, before: before_, after: after_, judgedBefore, judgedAfter } = runs;

  before(() => runs.start());
  after(() => runs.stop());

  test('neither judge answers temperror or fails, and mailhealth has no unknown finding', () => assertNoTrouble(runs));

  for (const s of SCENARIOS) {
    const n = probes(s).length;
    const m = strangers(s).length;
    test(`${s.domain}: the audit's verdicts — ${s.relayed ? "the relay's" : "the server's"} addresses${s.everyoneBefore === undefined ? '' : ', every other sender'} — are the judges'`, () => {
      const { fs } = before_.get(s.domain)!;
      const answers = judgedBefore.get(s.domain)!;
      probes(s).forEach((ip, i) => {
        const [py, ms] = answers[i];
        assert.equal(py.result === 'pass', ms.result === 'pass', `${ip}: the judges agree (pyspf ${said(py)}; Mail::SPF ${said(ms)})`);
        assert.equal(authorised(s, fs, ip), py.result === 'pass', `${ip}: mailhealth ${authorised(s, fs, ip) ? 'authorised' : 'not authorised'}, pyspf ${said(py)}, Mail::SPF ${ms.result}\n${show(fs)}`);
      });
      assert.equal(answers.slice(0, n).some(([py]) => py.result !== 'pass'), s.failsBefore, `${s.domain}: some address fails before the fix`);
      if (s.everyoneBefore !== undefined) {
        strangers(s).forEach((ip, k) => {
          const [py, ms] = answers[n + k];
          assert.equal(py.result === 'permerror', s.everyoneBefore, `${ip}: pyspf ${said(py)}`);
          assert.equal(ms.result === 'permerror', s.everyoneBefore, `${ip}: Mail::SPF ${said(ms)}`);
        });
        assert.equal(everyone(fs), s.everyoneBefore, `mailhealth ${everyone(fs) ? 'says' : 'does not say'} receivers answer permerror for every sender\n${show(fs)}`);
      }
      (s.listed ?? []).forEach((x, k) => {
        const [py, ms] = answers[n + m + k];
        assert.equal(py.result, x.result, `${x.ip}: pyspf ${said(py)}`);
        assert.equal(ms.result, x.result, `${x.ip}: Mail::SPF ${said(ms)}`);
      });
    });

    if (s.fix === 'not-offered') {
      test(`${s.domain}: no finding offers the SPF fix`, () => assertNotOffered(runs, s, show));
      continue;
    }
    test(`${s.domain}: the SPF fix is offered and goes through; after it both judges pass ${s.relayed ? "the relay's" : "the server's"} addresses and answer no permerror for others`, () => {
      const { fs, plan } = before_.get(s.domain)!;
      assert.ok(plan, `the fix is offered\n${show(fs)}`);
      assert.equal(plan!.blocked, undefined, `${plan!.blocked}\n${plan!.notes.join('\n')}`);
      const record = fixed.get(s.domain)!.find((r) => r.type === 'TXT')!.value;
      if (s.fixed) assert.equal(record, s.fixed(s.domain), plan!.notes.join('\n'));
      const answers = judgedAfter.get(s.domain)!;
      const fsAfter = after_.get(s.domain)!;
      probes(s).forEach((ip, i) => {
        const [py, ms] = answers[i];
        assert.equal(py.result, 'pass', `${ip} with "${record}": pyspf ${said(py)}`);
        assert.equal(ms.result, 'pass', `${ip} with "${record}": Mail::SPF ${said(ms)}`);
        assert.ok(authorised(s, fsAfter, ip), `after the fix, ${ip}: mailhealth authorised\n${show(fsAfter)}`);
      });
      if (s.everyoneBefore !== undefined) {
        strangers(s).forEach((ip, k) => {
          const [py, ms] = answers[n + k];
          assert.notEqual(py.result, 'permerror', `${ip} with "${record}": pyspf ${said(py)}`);
          assert.notEqual(ms.result, 'permerror', `${ip} with "${record}": Mail::SPF ${said(ms)}`);
        });
        assert.equal(everyone(fsAfter), false, show(fsAfter));
      }
      (s.listed ?? []).forEach((x, k) => {
        const [py, ms] = answers[n + m + k];
        assert.equal(py.result, x.result, `${x.ip} with "${record}": pyspf ${said(py)}`);
        assert.equal(ms.result, x.result, `${x.ip} with "${record}": Mail::SPF ${said(ms)}`);
      });
    });
  }
});
