// Void lookups that depend on the sender, judged by receivers' own libraries: pyspf (python3-spf, through
// test/fixtures/oracles/audit-verdicts.py) and Mail::SPF (libmail-spf-perl, test/fixtures/oracles/spf-judge.pl), each
// with RFC 7208 §4.6.4's limit of 2 void lookups, asked check_host(<ip>, <domain>, postmaster@<domain>) over one
// loopback DNS server (src/adapters/dns/server.ts) that mailhealth asks too (its wire resolver, in process).
//
// A void lookup depends on the sender in two ways: a name with addresses of one family only is void for the other
// family's senders (they ask for their own family alone, RFC 7208 §5.3/§5.4), and exists:%{i}.<list> (Salesforce's
// exists:%{i}._spf.mta.salesforce.com, Cisco's exists:%{i}.spf.<id>.iphmx.com) is void for every address the list does
// not hold. The walk cannot count the second at all, nor the first for every sender at once; found by this test:
// - relay-exists: a relayed server's include after two such exists terms and a name with an IPv6 address only — the
//   audit said spf.ok (the relay judged by its include alone); both judges answer permerror for the relay's addresses;
// - relay-added: the same terms without the include — the fix added it after them, and its record still gave the
//   relay's mail permerror;
// - direct-v6: a server's IPv6 address after three names without AAAA — spf.server-not-authorized offered the fix,
//   and its plan was blocked (the IP was added after them);
// - direct-note: the fix dropped a previous host's include and wrote a record that still costs IPv6 senders 3 void
//   lookups before Google's include — without a word; the plan now says so, and the judges confirm what it says.
// And by its review (the relay judged by check_host for its addresses: relayPastVoids):
// - relay-own-v6: the relay reached through an include of the domain's own record that also lists an IPv6 range,
//   after names without AAAA — that range was probed as the relay's, and the audit said the relay's mail failed;
// - relay-inside: that include's own record has the exists terms before its include of the relay — the audit said
//   spf.ok (only the terms before the top-level include were counted); the fix cannot edit that record: not offered;
// - relay-redirect: the relay reached through redirect= after the terms — the fix's block said to move the redirect=;
//   it now adds an include of its target before them;
// - relay-deny: a denylist (-exists:%{i}.deny.<domain>) first among the terms — the fix put the relay's include before
//   it, and the relay's address it lists passed; the include now goes after it.
// And by the review of terms with macros before the relay's include (an include or redirect= with macros whose name for
// the relay's address publishes no SPF record: RFC 7208 §5.2 — the audit said spf.ok; relayPastVoids now names it):
// - relay-macro: include:%{ir}._spf.<list> before the relay's include — both judges answer permerror for the relay's
//   addresses; the fix puts the relay's include first and keeps the list (its listed sender still passes);
// - relay-macro-nodata: include:%{i1r}._spf.<list>, whose names for the relay's addresses exist with no SPF record;
// - relay-macro-added: the same list, the relay's include missing — the fix added it after the list;
// - relay-macro-redirect: the relay reached through redirect= after the list — an include of its target goes first;
// - relay-macro-nested: a service's include whose record is redirect=%{ir}… — the same, one record down;
// - relay-macro-lookups: include:%{i1r}._spf.<list>, whose record costs 9 more lookups: the relay's include is the 11th;
// - relay-macro-inside: the list before the relay's include inside the domain's own included record — not offered;
// - relay-macro-a: a:%{ir}… and mx:%{ir}… before it are void lookups (2), no permerror: both judges pass the relay;
// - direct-macro: a server that sends itself, its addresses after the list — check_host already said so (server not
//   authorised); the fix added its IP after the list (its plan was blocked while the finding offered it).
// And by the review of that change (the 11th lookup at a term the walk follows, after the list whose record cost it):
// - relay-macro-lookups-later: include:%{i1r}._spf.<list> (9 more lookups) then Google's include, the 11th, then the
//   relay's — the audit said spf.ok (only an 11th lookup at the relay's own include was judged); both judges answer
//   permerror; the fix puts the relay's include before the list;
// - direct-macro-lookups: the same before the server's addresses — the fix added them after (its plan was blocked
//   while the finding offered it); it now puts them before the list.
// For each domain: mailhealth's verdict on each of the server's (or the relay's) addresses agrees with both judges;
// where a finding offers the SPF fix its plan goes through, and after it both judges pass every one of those
// addresses (and a kept service's listed address), and the audit says they are authorised; where no finding offers it
// (`fix: 'not-offered'`), none does.
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
  type SpfScenario,
} from '../helpers/spf-scenarios.js';

const found = findSpfJudges();
const skip = 'skip' in found ? found.skip : false;

// ---- the servers, the senders and the world ----

const SALESFORCE_IP = '13.110.208.10';
/** An address of the relay's that relay-deny.example's denylist (-exists:%{i}.deny.<domain>) holds. */
const RELAY_DENIED = '23.83.212.7';
const GOOGLE_IP = '64.233.160.5';
/** The one sender the macro list (include:%{ir}._spf.list.example) publishes an SPF record for. */
const LIST_IP = '198.51.100.77';
const GOOGLE_IP6 = '2001:4860:4000::25';

const WORLD: ServedZoneMap = {
  ...BASE_WORLD,
  '_spf.google.com': { TXT: [['v=spf1 ip4:64.233.160.0/19 ip6:2001:4860:4000::/36 ~all']] },
  // A previous host's include (HostGator's, in the knowledge base).
  'websitewelcome.com': { TXT: [['v=spf1 ip4:192.185.0.0/16 ~all']] },
  // The exists:%{i} lists hold their own senders' addresses only.
  [`${SALESFORCE_IP}._spf.mta.salesforce.com`]: { A: ['127.0.0.1'] },
  '198.51.100.44.spf.hc1234-56.iphmx.com': { A: ['127.0.0.1'] },
  // A list by include with macros: a record at the sender's reversed address for its own senders only (every other
  // address's name does not exist), and a service whose record hands every sender to it.
  [`${LIST_IP.split('.').reverse().join('.')}._spf.list.example`]: { TXT: [[`v=spf1 ip4:${LIST_IP} -all`]] },
  '_spf.svc.example': { TXT: [['v=spf1 redirect=%{ir}._spf.list.example']] },
  // A list by the first octet of the sender's address (%{i1r}): for the relay's, a record of 9 more lookups.
  // (And for this server's: 203 for its IPv4 address, 2 — the first nibble — for its IPv6 one.)
  ...Object.fromEntries(['23', '205', '203', '2'].map((o) => [`${o}._spf.many.example`, { TXT: [[`v=spf1 ${Array.from({ length: 9 }, (_, k) => `include:h${k}.many.example`).join(' ')} -all`]] }])),
  ...Object.fromEntries(Array.from({ length: 9 }, (_, k) => [`h${k}.many.example`, { TXT: [['v=spf1 -all']] }])),
  // A list whose names for the relay's addresses exist without an SPF record: a TXT record of another kind, none at all.
  '23._spf.nodata.example': { TXT: [['verification=0123456789']] },
  '205._spf.nodata.example': { A: ['127.0.0.2'] },
};

/** Two exists:%{i} lists, and a host with an IPv6 address only: 3 void lookups for the relay's IPv4 addresses. */
const SERVICES = (d: string) => `a mx exists:%{i}._spf.mta.salesforce.com exists:%{i}.spf.hc1234-56.iphmx.com a:crm.${d}`;

interface Scenario extends SpfScenario {
  spf: (d: string) => string;
  /** Senders (other than the server's or the relay's) and what both judges must answer for them after the fix. */
  afterFix?: { ip: string; result: string }[];
  /** The plan's note the fix must carry. */
  note?: RegExp;
  /** Receivers fail one of the server's (or the relay's) addresses before the fix (else the fix is for another finding). */
  failsBefore: boolean;
  /** No finding offers the SPF fix (its plan could not change what fails, or nothing fails). */
  fix?: 'not-offered';
  /** More TXT and A records of the domain's zone: [name, type, value]. */
  more?: (d: string) => [string, 'TXT' | 'A', string][];
}

const SCENARIOS: Scenario[] = [
  { domain: 'relay-exists.example', relayed: true, spf: (d) => `v=spf1 ${SERVICES(d)} include:relay.mailchannels.net ~all`, afterFix: [{ ip: SALESFORCE_IP, result: 'pass' }], failsBefore: true },
  { domain: 'relay-added.example', relayed: true, spf: (d) => `v=spf1 ${SERVICES(d)} ~all`, afterFix: [{ ip: SALESFORCE_IP, result: 'pass' }], failsBefore: true },
  { domain: 'direct-v6.example', relayed: false, spf: (d) => `v=spf1 a mx a:www.${d} ip4:${SERVER_IP} ip6:${SERVER_IP6} ~all`, failsBefore: true },
  {
    domain: 'direct-note.example',
    relayed: false,
    spf: (d) => `v=spf1 ip4:${SERVER_IP} ip6:${SERVER_IP6} a mx a:www.${d} include:websitewelcome.com include:_spf.google.com ~all`,
    // What the note says: Google's IPv6 servers get permerror (they reach its include past 3 void lookups), its IPv4
    // servers pass.
    afterFix: [
      { ip: GOOGLE_IP6, result: 'permerror' },
      { ip: GOOGLE_IP, result: 'pass' },
    ],
    failsBefore: false,
    note: /^The fixed record still costs IPv6 senders 3 void lookups \(limit 2\): a, mx and a:www\.direct-note\.example look up names without an IPv6 address \(AAAA\).* among it, mail from the senders include:_spf\.google\.com authorises/,
  },
  {
    domain: 'relay-own-v6.example',
    relayed: true,
    spf: (d) => `v=spf1 a:v4a.${d} a:v4b.${d} a:v4c.${d} include:_spf.${d} ~all`,
    more: (d) => [
      [`v4a.${d}`, 'A', '192.0.2.1'],
      [`v4b.${d}`, 'A', '192.0.2.2'],
      [`v4c.${d}`, 'A', '192.0.2.3'],
      [`_spf.${d}`, 'TXT', 'v=spf1 ip6:2001:db8:5::/48 include:relay.mailchannels.net ~all'],
    ],
    failsBefore: false,
    fix: 'not-offered',
  },
  {
    domain: 'relay-inside.example',
    relayed: true,
    spf: (d) => `v=spf1 include:_spf.${d} ~all`,
    more: (d) => [[`_spf.${d}`, 'TXT', `v=spf1 exists:%{i}._spf.mta.salesforce.com exists:%{i}.spf.hc1234-56.iphmx.com a:crm.${d} include:relay.mailchannels.net ~all`]],
    failsBefore: true,
    fix: 'not-offered',
  },
  { domain: 'relay-redirect.example', relayed: true, spf: (d) => `v=spf1 ${SERVICES(d)} redirect=relay.mailchannels.net`, afterFix: [{ ip: SALESFORCE_IP, result: 'pass' }], failsBefore: true },
  {
    domain: 'relay-deny.example',
    relayed: true,
    spf: (d) => `v=spf1 -exists:%{i}.deny.${d} ${SERVICES(d)} include:relay.mailchannels.net ~all`,
    more: (d) => [[`${RELAY_DENIED}.deny.${d}`, 'A', '127.0.0.2']],
    // The relay's address the domain's denylist holds still fails after the fix (its include goes after the denylist).
    afterFix: [
      { ip: RELAY_DENIED, result: 'fail' },
      { ip: SALESFORCE_IP, result: 'pass' },
    ],
    failsBefore: true,
  },
  {
    domain: 'relay-macro.example',
    relayed: true,
    spf: () => 'v=spf1 include:%{ir}._spf.list.example include:relay.mailchannels.net ~all',
    afterFix: [{ ip: LIST_IP, result: 'pass' }],
    note: /^Puts include:relay\.mailchannels\.net before include:%\{ir\}\._spf\.list\.example: .* include:%\{ir\}\._spf\.list\.example stays/,
    failsBefore: true,
  },
  { domain: 'relay-macro-nodata.example', relayed: true, spf: () => 'v=spf1 include:%{i1r}._spf.nodata.example include:relay.mailchannels.net ~all', failsBefore: true },
  { domain: 'relay-macro-added.example', relayed: true, spf: () => 'v=spf1 include:%{ir}._spf.list.example ~all', afterFix: [{ ip: LIST_IP, result: 'pass' }], failsBefore: true },
  { domain: 'relay-macro-redirect.example', relayed: true, spf: () => 'v=spf1 include:%{ir}._spf.list.example redirect=relay.mailchannels.net', afterFix: [{ ip: LIST_IP, result: 'pass' }], failsBefore: true },
  { domain: 'relay-macro-nested.example', relayed: true, spf: () => 'v=spf1 include:_spf.svc.example include:relay.mailchannels.net ~all', afterFix: [{ ip: LIST_IP, result: 'pass' }], failsBefore: true },
  { domain: 'relay-macro-lookups.example', relayed: true, spf: () => 'v=spf1 include:%{i1r}._spf.many.example include:relay.mailchannels.net ~all', failsBefore: true },
  {
    domain: 'relay-macro-lookups-later.example',
    relayed: true,
    spf: () => 'v=spf1 include:%{i1r}._spf.many.example include:_spf.google.com include:relay.mailchannels.net ~all',
    note: /^Puts include:relay\.mailchannels\.net before include:%\{i1r\}\._spf\.many\.example: .*more than 10 DNS-querying terms/,
    failsBefore: true,
  },
  {
    domain: 'direct-macro-lookups.example',
    relayed: false,
    spf: () => `v=spf1 include:%{i1r}._spf.many.example include:_spf.google.com ip4:${SERVER_IP} ip6:${SERVER_IP6} ~all`,
    failsBefore: true,
  },
  {
    domain: 'relay-macro-inside.example',
    relayed: true,
    spf: (d) => `v=spf1 include:_spf.${d} ~all`,
    more: (d) => [[`_spf.${d}`, 'TXT', 'v=spf1 include:%{ir}._spf.list.example include:relay.mailchannels.net ~all']],
    failsBefore: true,
    fix: 'not-offered',
  },
  { domain: 'relay-macro-a.example', relayed: true, spf: () => 'v=spf1 a:%{ir}._spf.list.example mx:%{ir}._spf.list.example include:relay.mailchannels.net ~all', failsBefore: false, fix: 'not-offered' },
  {
    domain: 'direct-macro.example',
    relayed: false,
    spf: () => `v=spf1 include:%{ir}._spf.list.example ip4:${SERVER_IP} ip6:${SERVER_IP6} ~all`,
    afterFix: [{ ip: LIST_IP, result: 'pass' }],
    failsBefore: true,
  },
];

/** The domain's zone: its apex and mail host on this server (IPv4 only), www too, crm on an IPv6 address only. */
function zoneOf(s: Scenario): ZoneRecord[] {
  const d = s.domain;
  return [
    ...apexOf(d),
    rec(`www.${d}`, 'A', SERVER_IP),
    rec(`crm.${d}`, 'AAAA', '2001:db8:77::5'),
    rec(d, 'TXT', s.spf(d)),
    ...(s.more?.(d) ?? []).map(([name, type, value]) => rec(name, type, value)),
  ];
}

// ---- mailhealth's verdicts ----

const show = (fs: readonly Finding[]) => fs.filter((f) => f.check === 'spf' && f.severity !== 'info').map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''} [${f.subject ?? ''}]: ${f.message}`).join('\n');

describe('void lookups that depend on the sender: the audit and the SPF fix, judged by pyspf and Mail::SPF', { skip }, () => {
  const runs = new ScenarioRuns({
    scenarios: SCENARIOS,
    judges: found as Exclude<typeof found, { skip: string }>,
    zoneOf,
    serve: (zones) => served(WORLD, [...zones.values()].flat()),
    askBefore: probes,
    askAfter: (s) => [...probes(s), ...(s.afterFix ?? []).map((x) => x.ip)],
  });
  const { fixed, before: before_, after: after_, judgedBefore, judgedAfter } = runs;

  before(() => runs.start());
  after(() => runs.stop());

  test('neither judge answers temperror or fails, and mailhealth has no unknown finding', () => assertNoTrouble(runs));

  for (const s of SCENARIOS) {
    test(`${s.domain}: the audit's verdict on each of ${s.relayed ? "the relay's" : "the server's"} addresses is the judges'`, () => {
      const { fs } = before_.get(s.domain)!;
      probes(s).forEach((ip, i) => {
        const [py, ms] = judgedBefore.get(s.domain)![i];
        assert.equal(py.result === 'pass', ms.result === 'pass', `${ip}: the judges agree (pyspf ${py.result}: ${py.explanation}; Mail::SPF ${ms.result}: ${ms.explanation})`);
        assert.equal(authorised(s, fs, ip), py.result === 'pass', `${ip}: mailhealth ${authorised(s, fs, ip) ? 'authorised' : 'not authorised'}, pyspf ${py.result} (${py.explanation}), Mail::SPF ${ms.result}\n${show(fs)}`);
      });
      // The scenario shows what it is meant to: the judges fail one of the addresses before the fix, or none.
      assert.equal(judgedBefore.get(s.domain)!.some(([py]) => py.result !== 'pass'), s.failsBefore, `${s.domain}: some address fails before the fix`);
    });

    if (s.fix === 'not-offered') {
      test(`${s.domain}: no finding offers the SPF fix`, () => assertNotOffered(runs, s, show));
      continue;
    }
    test(`${s.domain}: the SPF fix is offered and goes through; after it both judges pass ${s.relayed ? "the relay's" : "the server's"} addresses`, () => {
      const { fs, plan } = before_.get(s.domain)!;
      assert.ok(plan, `the fix is offered\n${show(fs)}`);
      assert.equal(plan!.blocked, undefined, `${plan!.blocked}\n${plan!.notes.join('\n')}`);
      const record = fixed.get(s.domain)!.find((r) => r.type === 'TXT')!.value;
      const answers = judgedAfter.get(s.domain)!;
      probes(s).forEach((ip, i) => {
        const [py, ms] = answers[i];
        assert.equal(py.result, 'pass', `${ip} with "${record}": pyspf ${py.result} (${py.explanation})`);
        assert.equal(ms.result, 'pass', `${ip} with "${record}": Mail::SPF ${ms.result} (${ms.explanation})`);
      });
      (s.afterFix ?? []).forEach((x, k) => {
        const [py, ms] = answers[probes(s).length + k];
        assert.equal(py.result, x.result, `${x.ip} with "${record}": pyspf ${py.result} (${py.explanation})`);
        assert.equal(ms.result, x.result, `${x.ip} with "${record}": Mail::SPF ${ms.result} (${ms.explanation})`);
      });
      const fsAfter = after_.get(s.domain)!;
      for (const ip of probes(s)) assert.ok(authorised(s, fsAfter, ip), `after the fix, ${ip}: mailhealth authorised\n${show(fsAfter)}`);
      if (s.note) assert.ok(plan!.notes.some((n) => s.note!.test(n)), `the plan's note\n${plan!.notes.join('\n')}`);
    });
  }
});
