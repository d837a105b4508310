// What the SPF relay finding (spf.server-not-authorized) and the SPF fix's "Moves include… before" note say receivers
// do today, where no term of the record decides for the relay's mail (review):
// - two SPF records, neither including the relay: the finding said "receivers fail SPF for its mail" — with two SPF
//   records receivers answer permerror for every sender (RFC 7208 §4.5);
// - a syntax error anywhere in the record (`foo:bar`, `ip4:1.2.3.999`) beside a term that shadows the relay's include:
//   the finding said, in the present tense, what the shadowing term does; the note that it "fails the relay's mail" —
//   receivers refuse the whole record first (§4.6, permerror);
// - more than 2 void lookups before the shadowing term (`a:gone1… a:gone2… a:gone3… -ip4:23.83.210.0/24
//   include:relay.mailchannels.net`): the same present tense, where check_host stops at the third name (§4.6.4);
// - the relay's include passing behind a syntax error was cited as RFC 7208 §5.2 (a target without a usable SPF
//   record); a syntax error is §4.6;
// - TXT records meant as SPF that receivers do not read as one (`"v=spf1" "a -all"`): the finding said receivers fail
//   SPF for the relay's mail — they find no SPF record (result none, §4.5);
// - a record without the relay's include that receivers answer permerror for before any term decides (a syntax error,
//   three names that do not exist, an include of a name with no SPF record): "receivers fail SPF" — permerror.
// Each now says what receivers answer today, and what a term does is said as what it would do once that is mended.
// Rule ids, severities, subjects and what the fix writes are unchanged (pinned here).
//
// The first part runs everywhere (mailhealth's own check_host over an in-memory world); the second asks pyspf and
// Mail::SPF over one loopback DNS server (test/helpers/spf-scenarios.ts), and skips with a message when no python3 with
// pyspf or no perl with Mail::SPF is found.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServedZoneMap } from '../../../src/adapters/dns/server.js';
import type { Finding, ZoneRecord } from '../../../src/core/model.js';
import { spfCheck } from '../../../src/core/checks/spf.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import { checkHost } from '../../../src/core/spf/evaluate.js';
import { checkContext } from './context.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';
import { inRange } from '../../helpers/ipv4-range.js';
import { INCLUDE, MC, mechanism, rangesOf, RELAY, relayAudit, show } from '../../helpers/relay-words.js';
import { apexOf, BASE_WORLD, findSpfJudges, judges, rec, ScenarioRuns, served, type Answer, type SpfJudges, type SpfScenario } from '../../helpers/spf-scenarios.js';

// ---- mailhealth's own check_host, in memory ----

const D = 'shop.example';
const WORLD: ZoneMap = {
  [D]: { A: ['203.0.113.10'] },
  [RELAY]: { TXT: [['v=spf1 ip4:23.83.208.0/20 ~all']] },
  'svia.example': { TXT: [[`v=spf1 -ip4:23.83.210.0/24 ${INCLUDE} ~all`]] },
};
/** Addresses of the relay's range (23.83.208.0/20): one in each half, one in 23.83.210.0/24. */
const RELAY_IPS = ['23.83.208.5', '23.83.210.5', '23.83.220.5'];
const GONE = 'a:gone1.example a:gone2.example a:gone3.example';
const audit = (spf: string | string[]) => relayAudit(WORLD, D, spf);
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\~]/g, '\\$&');

/** What the old words claimed of mail receivers answer permerror (or none) for. */
const FAILS_NOW = /receivers fail SPF for its mail|so receivers give the relay's mail from those addresses fail|so that record gives the relay's mail|other addresses pass through/;

/** The SPF check and fix over TXT records published as several strings each (`chunks`). */
async function auditChunks(chunks: string[][]) {
  const map: ZoneMap = { ...WORLD, [D]: { ...WORLD[D], TXT: chunks } };
  const zone: ZoneRecord[] = chunks.map((c, i) => ({ name: D, ttl: 3600, type: 'TXT', value: c.join(''), txt: c, ref: `spf${i}` }));
  const fs = await spfCheck(checkContext(D, map, MC, zone));
  const plan = await planSpf(checkContext(D, map, MC, zone), zone, {});
  const written = plan.changes.filter((c) => c.after).map((c) => (c.after!.txt ?? [c.after!.value]).join(''));
  const today = (ip: string) => checkHost(ip, D, `postmaster@${D}`, 'server1.newhost.example', new MapResolver(map));
  return { fs, na: fs.filter((f) => f.rule === 'spf.server-not-authorized'), plan, written, today, text: `${show(fs)}\n--- plan: ${JSON.stringify(written)}\n${plan.notes.join('\n')}` };
}

const one = (fs: readonly Finding[], text: string) => {
  const na = fs.filter((f) => f.rule === 'spf.server-not-authorized');
  assert.equal(na.length, 1, text);
  return na[0];
};

describe('two SPF records, neither including the relay: permerror today, not "fail"', () => {
  test('the finding says receivers answer permerror for every sender, and that merged they would still lack the include', async () => {
    const r = await audit(['v=spf1 ip4:192.0.2.1 -all', 'v=spf1 a -all']);
    for (const ip of RELAY_IPS) assert.equal((await r.today(ip)).result, 'permerror', `${ip}\n${r.text}`);
    const f = one(r.fs, r.text);
    assert.deepEqual([f.severity, f.fix, f.subject], ['fail', 'spf', undefined], r.text);
    assert.equal(
      f.message,
      'This server relays through MailChannels, but neither SPF record includes relay.mailchannels.net, and receivers answer permerror for the SPF as published today, whatever the sender: shop.example publishes 2 SPF records (RFC 7208 §4.5; see spf.multiple). So the relay\'s mail fails SPF and they reject or junk it; merged into one, the records would still not include relay.mailchannels.net.',
    );
    assert.deepEqual(r.written, [`v=spf1 ip4:192.0.2.1 a ${INCLUDE} -all`], r.text);
  });
});

describe('a syntax error beside a term that shadows the relay: permerror today, the shadow said as what it would do', () => {
  for (const [what, spf, err] of [
    ['an unknown mechanism', `v=spf1 foo:bar include:svia.example -all`, 'unknown mechanism "foo" in "foo:bar"'],
    ['a bad ip4 value after the include', `v=spf1 include:svia.example ip4:1.2.3.999 -all`, 'invalid ip4 address "1.2.3.999"'],
  ] as const) {
    test(`${what}, the shadow inside the record an include leads to: the finding says permerror (§4.6)`, async () => {
      const r = await audit(spf);
      for (const ip of RELAY_IPS) assert.equal((await r.today(ip)).result, 'permerror', `${ip}\n${r.text}`);
      const f = one(r.fs, r.text);
      assert.deepEqual([f.severity, f.fix, f.subject], ['fail', 'spf', 'include:svia.example'], r.text);
      assert.match(
        f.message,
        new RegExp(
          `and covers the relay's addresses 23\\.83\\.210\\.0/24, and receivers answer permerror for the SPF as published today, whatever the sender: the SPF record has a syntax error \\(${esc(err)}\\), and receivers refuse a record with one anywhere in it \\(RFC 7208 §4\\.6; see spf\\.syntax\\)\\. So the relay's mail fails SPF from every address and they reject or junk it: neither -ip4:23\\.83\\.210\\.0/24 nor include:svia\\.example decides anything today\\. Once that is mended, the first matching term decides \\(RFC 7208 §4\\.6\\.2\\): -ip4:23\\.83\\.210\\.0/24 would make that record give the relay's mail from those addresses fail instead of pass\\.`,
        ),
        f.message,
      );
      assert.doesNotMatch(f.message, FAILS_NOW, f.message);
      assert.deepEqual(r.written, [`v=spf1 include:svia.example ${INCLUDE} -all`], r.text);
    });
  }

  for (const spf of [`v=spf1 foo:bar -ip4:23.83.210.0/24 ${INCLUDE} -all`, `v=spf1 ip4:1.2.3.999 -ip4:23.83.210.0/24 ${INCLUDE} -all`]) {
    test(`${spf}: the finding cites §4.6 (not §5.2), the "Moves" note says permerror today, not "fails"`, async () => {
      const r = await audit(spf);
      for (const ip of RELAY_IPS) assert.equal((await r.today(ip)).result, 'permerror', `${ip}\n${r.text}`);
      const f = one(r.fs, r.text);
      assert.deepEqual([f.severity, f.fix, f.subject], ['fail', 'spf', spf], r.text);
      assert.match(f.message, /Receivers return permerror for the relay's mail before they reach include:relay\.mailchannels\.net \(RFC 7208 §4\.6\), so it fails SPF/, f.message);
      assert.doesNotMatch(f.message, /§5\.2/, f.message);
      const note = r.plan.notes.find((n) => n.startsWith(`Moves ${INCLUDE} before -ip4:23.83.210.0/24`)) ?? '';
      assert.match(note, /which covers the relay's addresses 23\.83\.210\.0\/24 and would, coming first, give the relay's mail from them fail once that is mended \(the first matching term decides; today receivers answer permerror for every sender: a syntax error \(.+\), RFC 7208 §4\.6\), so receivers accept/, r.text);
      assert.doesNotMatch(note, /coming first, fails/, note);
      assert.deepEqual(r.written, [`v=spf1 ${INCLUDE} -ip4:23.83.210.0/24 -all`], r.text);
    });
  }

  test('control — an include of a name without SPF before the relay\'s include: still §5.2', async () => {
    const r = await audit(`v=spf1 include:nothere.example ${INCLUDE} -all`);
    assert.match(one(r.fs, r.text).message, /before they reach include:relay\.mailchannels\.net \(RFC 7208 §5\.2\)/, r.text);
  });
});

describe('more than 2 void lookups before the term that shadows the relay: permerror there, said as such', () => {
  test('before a "-" range: the finding and the note say permerror at the third name, the range as what it would do', async () => {
    const r = await audit(`v=spf1 ${GONE} -ip4:23.83.210.0/24 ${INCLUDE} -all`);
    for (const ip of RELAY_IPS) assert.deepEqual([(await r.today(ip)).result, (await r.today(ip)).permerrorAt], ['permerror', 'a:gone3.example'], `${ip}\n${r.text}`);
    const f = one(r.fs, r.text);
    assert.deepEqual([f.severity, f.fix, f.subject], ['fail', 'spf', '-ip4:23.83.210.0/24'], r.text);
    assert.equal(
      f.message,
      "This server relays through MailChannels, but -ip4:23.83.210.0/24 comes before include:relay.mailchannels.net and covers the relay's addresses 23.83.210.0/24; and a:gone3.example comes first: receivers count 3 void lookups by the end of it, lookups of names that do not exist or have no address of the sender's family: more than 2 (RFC 7208 §4.6.4). Receivers return permerror for the relay's mail before they reach -ip4:23.83.210.0/24 (RFC 7208 §4.6.4), so it fails SPF and they reject or junk it: -ip4:23.83.210.0/24 decides nothing today. Once that is mended, the first matching term decides (RFC 7208 §4.6.2): -ip4:23.83.210.0/24 would give the relay's mail from those addresses fail instead of pass. The relay's other addresses would pass through include:relay.mailchannels.net.",
    );
    const note = r.plan.notes.find((n) => n.startsWith(`Moves ${INCLUDE} before -ip4:23.83.210.0/24`)) ?? '';
    assert.match(note, /would, coming first, give the relay's mail from them fail once that is mended \(the first matching term decides; today receivers stop at a permanent error before it, at a:gone3\.example: receivers count 3 void lookups/, r.text);
    assert.doesNotMatch(note, /coming first, fails/, note);
    assert.deepEqual(r.written, [`v=spf1 ${INCLUDE} -ip4:23.83.210.0/24 -all`], r.text);
  });

  test('before the include leading to the shadow: permerror before that include', async () => {
    const r = await audit(`v=spf1 ${GONE} include:svia.example -all`);
    for (const ip of RELAY_IPS) assert.equal((await r.today(ip)).result, 'permerror', `${ip}\n${r.text}`);
    const f = one(r.fs, r.text);
    assert.deepEqual([f.severity, f.fix, f.subject], ['fail', 'spf', 'include:svia.example'], r.text);
    assert.match(f.message, /Receivers return permerror for the relay's mail before they reach include:svia\.example \(RFC 7208 §4\.6\.4\), so it fails SPF and they reject or junk it: -ip4:23\.83\.210\.0\/24 decides nothing today\. Once that is mended, .*would make that record give the relay's mail from those addresses fail instead of pass\./, f.message);
    assert.doesNotMatch(f.message, FAILS_NOW, f.message);
  });

  test('the third name after the shadowing range: the range decides for its addresses, the rest is permerror (not "pass")', async () => {
    const r = await audit(`v=spf1 a:gone1.example a:gone2.example -ip4:23.83.210.0/24 a:gone3.example ${INCLUDE} -all`);
    assert.deepEqual([(await r.today('23.83.210.5')).result, (await r.today('23.83.220.5')).result], ['fail', 'permerror'], r.text);
    const f = one(r.fs, r.text);
    assert.equal(f.subject, '-ip4:23.83.210.0/24', r.text);
    assert.match(f.message, /covers the relay's addresses 23\.83\.210\.0\/24: the first matching term decides \(RFC 7208 §4\.6\.2\), so receivers give the relay's mail from those addresses fail instead of pass\. Receivers return permerror for the relay's mail from 23\.83\.208\.0\/23, 23\.83\.211\.0\/24, 23\.83\.212\.0\/22 and 23\.83\.216\.0\/21 before they reach include:relay\.mailchannels\.net \(RFC 7208 §4\.6\.4\): a:gone3\.example comes before it/, f.message);
    assert.doesNotMatch(f.message, /other addresses pass/, f.message);
    // Today the range does fail them: the note keeps the present tense.
    assert.ok(r.plan.notes.some((n) => n.startsWith(`Moves ${INCLUDE} before -ip4:23.83.210.0/24, which covers the relay's addresses 23.83.210.0/24 and, coming first, fails the relay's mail from them`)), r.text);
  });
});

describe('a record without the relay\'s include that receivers answer permerror for: said as permerror', () => {
  for (const [what, spf, said] of [
    ['a syntax error', 'v=spf1 a foo:bar -all', /and receivers answer permerror for the SPF as published today, whatever the sender: the SPF record has a syntax error \(unknown mechanism "foo" in "foo:bar"\), and receivers refuse a record with one anywhere in it \(RFC 7208 §4\.6; see spf\.syntax\)\. So the relay's mail fails SPF and they reject or junk it\.$/],
    ['three names that do not exist', `v=spf1 ${GONE} -all`, /and for every address of the relay's, receivers meet a permanent error at a:gone3\.example before any term decides: receivers count 3 void lookups .*\(RFC 7208 §4\.6\.4\)\. They return permerror for the relay's mail \(RFC 7208 §4\.6\.4\)/],
    ['an include of a name that does not exist', 'v=spf1 include:nothere.example -all', /receivers meet a permanent error at include:nothere\.example before any term decides: .*They return permerror for the relay's mail \(RFC 7208 §5\.2\)/],
  ] as const) {
    test(what, async () => {
      const r = await audit(spf);
      for (const ip of RELAY_IPS) assert.equal((await r.today(ip)).result, 'permerror', `${ip}\n${r.text}`);
      const f = one(r.fs, r.text);
      assert.deepEqual([f.severity, f.fix, f.subject], ['fail', 'spf', undefined], r.text);
      assert.match(f.message, /^This server relays through MailChannels, but the SPF record does not include relay\.mailchannels\.net, /, f.message);
      assert.match(f.message, said, f.message);
      assert.doesNotMatch(f.message, FAILS_NOW, f.message);
      assert.deepEqual(r.written, [spf === 'v=spf1 a foo:bar -all' ? `v=spf1 a ${INCLUDE} -all` : `v=spf1 ${INCLUDE} -all`], r.text);
    });
  }

  test('control — a record that fails the relay\'s mail: "receivers fail SPF for its mail", as before', async () => {
    const r = await audit('v=spf1 a -all');
    for (const ip of RELAY_IPS) assert.equal((await r.today(ip)).result, 'fail', r.text);
    assert.equal(one(r.fs, r.text).message, 'This server relays through MailChannels, but the SPF record does not include relay.mailchannels.net: receivers fail SPF for its mail.');
  });
});

describe('TXT records meant as SPF that receivers do not read as one: SPF result none, not "fail"', () => {
  test('one record without the relay: receivers find no SPF record', async () => {
    const r = await auditChunks([['v=spf1', 'a -all']]);
    for (const ip of RELAY_IPS) assert.equal((await r.today(ip)).result, 'none', r.text);
    const f = one(r.fs, r.text);
    assert.deepEqual([f.severity, f.fix, f.subject], ['fail', 'spf', undefined], r.text);
    assert.equal(
      f.message,
      "This server relays through MailChannels, but receivers find no SPF record for shop.example today: they do not read the TXT record meant as the SPF record as one (RFC 7208 §4.5; see spf.syntax). So receivers give the relay's mail SPF result none, not pass; and the record meant as SPF does not include relay.mailchannels.net either.",
    );
    assert.deepEqual(r.written, [`v=spf1 a ${INCLUDE} -all`], r.text);
  });

  test('two such records: none of them read, not "2 SPF records" permerror', async () => {
    const r = await auditChunks([['v=spf1', 'a -all'], ['v=spf1', 'mx -all']]);
    for (const ip of RELAY_IPS) assert.equal((await r.today(ip)).result, 'none', r.text);
    const f = one(r.fs, r.text);
    assert.match(f.message, /but receivers find no SPF record for shop\.example today: they read none of the 2 TXT records meant as the SPF record as one \(RFC 7208 §4\.5; see spf\.syntax\)\. So receivers give the relay's mail SPF result none, not pass; and neither record meant as SPF includes relay\.mailchannels\.net either\.$/, f.message);
  });

  test('the relay\'s include with "~" in it: the "~" decides nothing today (none, not softfail)', async () => {
    const r = await auditChunks([['v=spf1', `~${INCLUDE} -all`]]);
    for (const ip of RELAY_IPS) assert.equal((await r.today(ip)).result, 'none', r.text);
    const f = one(r.fs, r.text);
    assert.match(f.message, /reaches it through ~include:relay\.mailchannels\.net, but receivers find no SPF record for shop\.example today: .*So receivers give the relay's mail SPF result none, not pass: the "~" qualifier decides nothing today\./, f.message);
    assert.doesNotMatch(f.message, /gives the relay's mail softfail/, f.message);
    assert.deepEqual(r.written, [`v=spf1 ${INCLUDE} -all`], r.text);
  });

  test('a range shadowing the relay in it: the range as what it would do, the note too', async () => {
    const r = await auditChunks([['v=spf1', `-ip4:23.83.210.0/24 ${INCLUDE} -all`]]);
    for (const ip of RELAY_IPS) assert.equal((await r.today(ip)).result, 'none', r.text);
    const f = one(r.fs, r.text);
    assert.equal(f.subject, '-ip4:23.83.210.0/24', r.text);
    assert.match(f.message, /So receivers give the relay's mail from every address SPF result none, not pass: neither -ip4:23\.83\.210\.0\/24 nor include:relay\.mailchannels\.net decides anything today\. Once receivers read it as SPF, the first matching term decides \(RFC 7208 §4\.6\.2\): -ip4:23\.83\.210\.0\/24 would give/, f.message);
    assert.doesNotMatch(f.message, FAILS_NOW, f.message);
    const note = r.plan.notes.find((n) => n.startsWith(`Moves ${INCLUDE} before -ip4:23.83.210.0/24`)) ?? '';
    assert.match(note, /would, coming first, give the relay's mail from them fail once receivers read the record as SPF \(the first matching term decides; today receivers find no SPF record: SPF result none, RFC 7208 §4\.5\)/, r.text);
    assert.deepEqual(r.written, [`v=spf1 ${INCLUDE} -ip4:23.83.210.0/24 -all`], r.text);
  });

  test('a version tag receivers do not know at all (v=spf10): spf.missing, and no relay finding claims more', async () => {
    const r = await audit(`v=spf10 ${INCLUDE} -all`);
    for (const ip of RELAY_IPS) assert.equal((await r.today(ip)).result, 'none', r.text);
    assert.ok(r.fs.some((f) => f.rule === 'spf.missing' && /has no SPF record/.test(f.message)), r.text);
    assert.equal(r.na.length, 0, r.text);
  });
});

// ---- the judges ----

const found = findSpfJudges();
const skip = 'skip' in found ? found.skip : false;

/** One address of each piece of the relay's ranges (BASE_WORLD's 23.83.208.0/20, 205.201.128.0/20) the records below treat alike. */
const PROBES = ['23.83.208.10', '23.83.210.5', '23.83.215.250', '23.83.216.10', '23.83.223.250', '205.201.128.10', '205.201.140.77'];
const S = 'todaywords.example';
const G3 = [1, 2, 3].map((i) => `a:gone${i}.${S}`).join(' ');

interface Scenario extends SpfScenario {
  /** TXT records of one string each. */
  spf: string[];
  /** TXT records published as several strings. */
  chunks?: string[][];
  /** The scenario whose record is this one's mended (the syntax error, the void lookups gone; read as SPF): where "would" is judged. */
  mended?: string;
}

const sc = (label: string, spf: string[], mended?: string, chunks?: string[][]): Scenario => ({
  domain: `${label}.${S}`,
  relayed: true,
  spf,
  ...(chunks ? { chunks } : {}),
  ...(mended ? { mended: `${mended}.${S}` } : {}),
});

const SCENARIOS: Scenario[] = [
  sc('two-absent', ['v=spf1 ip4:192.0.2.1 -all', 'v=spf1 a -all']),
  sc('syntax-via', [`v=spf1 foo:bar include:svia.${S} -all`], 'mended-via'),
  sc('badip-via', [`v=spf1 include:svia.${S} ip4:1.2.3.999 -all`], 'mended-via'),
  sc('syntax-shadow', [`v=spf1 foo:bar -ip4:23.83.210.0/24 ${INCLUDE} -all`]),
  sc('voids-shadow', [`v=spf1 ${G3} -ip4:23.83.210.0/24 ${INCLUDE} -all`], 'one-shadow'),
  sc('voids-via', [`v=spf1 ${G3} include:svia.${S} -all`], 'mended-via'),
  sc('voids-after', [`v=spf1 a:gone1.${S} a:gone2.${S} -ip4:23.83.210.0/24 a:gone3.${S} ${INCLUDE} -all`]),
  sc('absent-syntax', ['v=spf1 a foo:bar -all']),
  sc('absent-voids', [`v=spf1 ${G3} -all`]),
  sc('absent-nospf', [`v=spf1 include:nospf.${S} -all`]),
  sc('unread-absent', [], undefined, [['v=spf1', 'a -all']]),
  sc('unread-two', [], undefined, [['v=spf1', 'a -all'], ['v=spf1', 'mx -all']]),
  sc('unread-denied', [], undefined, [['v=spf1', `~${INCLUDE} -all`]]),
  sc('unread-shadow', [], 'one-shadow', [['v=spf1', `-ip4:23.83.210.0/24 ${INCLUDE} -all`]]),
  // The records above mended, and a control.
  sc('mended-via', [`v=spf1 include:svia.${S} -all`]),
  sc('one-shadow', [`v=spf1 -ip4:23.83.210.0/24 ${INCLUDE} -all`]),
  sc('absent-fail', ['v=spf1 a -all']),
];

const JUDGED_WORLD: ServedZoneMap = {
  ...BASE_WORLD,
  [`svia.${S}`]: { TXT: [[`v=spf1 -ip4:23.83.210.0/24 ${INCLUDE} ~all`]] },
  // A name with a TXT record that is not SPF: an include of it is a permanent error (RFC 7208 §5.2).
  [`nospf.${S}`]: { TXT: [['hello']] },
};

const zoneOf = (s: Scenario): ZoneRecord[] => [
  ...apexOf(s.domain),
  ...s.spf.map((t) => rec(s.domain, 'TXT', t)),
  ...(s.chunks ?? []).map((c) => ({ ...rec(s.domain, 'TXT', c.join('')), txt: c })),
];

/** A claim of a message: check_host gives `result` to the relay's mail from `ranges` (null: every probe no other claim of its kind names), decided at `term` (when said); `mended`: of the record mended. */
interface Claim {
  ranges: string[] | null;
  term?: string;
  result: string;
  mended?: true;
  /** Said of the record an include leads to: its result is the domain's, its term not. */
  inner?: true;
}

/** Every claim the finding makes of what receivers answer today, and would answer once the record is mended. */
function claimsOf(message: string): Claim[] {
  const out: Claim[] = [];
  let m: RegExpExecArray | null;
  const via = /reaches it only through (\S+), /.test(message);
  if (/receivers answer permerror for (?:the SPF as published|it) today, whatever the sender/.test(message)) out.push({ ranges: null, result: 'permerror' });
  if (/receivers find no SPF record for \S+ today/.test(message)) out.push({ ranges: null, result: 'none' });
  if (/for every address of the relay's, receivers meet a permanent error/.test(message)) out.push({ ranges: null, result: 'permerror' });
  if ((m = /Receivers return permerror for the relay's mail(?: from (.+?))? (?:before they reach|at) \S+ \(/.exec(message))) out.push({ ranges: m[1] ? rangesOf(m[1]) : null, result: 'permerror' });
  if (/receivers fail SPF for its mail/.test(message)) out.push({ ranges: null, result: 'fail' });
  const covers = /(\S+) comes before (\S+) and covers the relay's addresses (.+?)(?:: the first|, and receivers|; and )/.exec(message);
  if (covers) {
    const now = /so receivers give the relay's mail from those addresses (\w+) instead of pass/.exec(message);
    if (now) out.push({ ranges: rangesOf(covers[3]), term: covers[1], result: now[1] });
    const inner = /so that record gives the relay's mail from those addresses (\w+) instead of pass/.exec(message);
    if (inner) out.push({ ranges: rangesOf(covers[3]), term: covers[1], result: inner[1], inner: true });
    const would = /would (?:make that record )?give the relay's mail from those addresses (\w+) instead of pass/.exec(message);
    if (would) out.push({ ranges: rangesOf(covers[3]), term: covers[1], result: would[1], mended: true, ...(via ? { inner: true as const } : {}) });
  }
  if ((m = /The relay's other addresses would pass through (\S+)\./.exec(message))) out.push({ ranges: null, term: m[1], result: 'pass', mended: true });
  if ((m = /The relay's other addresses pass through (\S+)\./.exec(message))) out.push({ ranges: null, term: m[1], result: 'pass' });
  return out;
}

describe('what the finding says receivers answer today, judged by pyspf and Mail::SPF', { skip }, () => {
  const j = found as SpfJudges;
  const runs = new ScenarioRuns<Scenario>({
    scenarios: SCENARIOS,
    judges: j,
    zoneOf,
    serve: (zones) => served(JUDGED_WORLD, [...zones.values()].flat()),
    askBefore: () => PROBES,
    askAfter: () => PROBES,
  });
  let relayPasses: string[] = [];
  before(async () => {
    await runs.start();
    const as = await judges(j, runs.dns!.port, PROBES.map((ip) => ({ domain: RELAY, ip })));
    relayPasses = PROBES.filter((_, i) => as[i][0].result === 'pass' && as[i][1].result === 'pass');
  });
  after(async () => {
    await runs.stop();
  });

  test('the relay passes every probe', () => assert.deepEqual(relayPasses, PROBES));

  for (const s of SCENARIOS) {
    const shown = [...s.spf, ...(s.chunks ?? []).map((c) => c.map((x) => JSON.stringify(x)).join(' '))].join(' | ');
    test(`${s.domain} (${shown}): every claim of the finding is what both judges answer`, () => {
      const { fs, plan } = runs.before.get(s.domain)!;
      const as = runs.judgedBefore.get(s.domain)!;
      const line = (a: [Answer, Answer][], ip: string) => {
        const [py, ms] = a[PROBES.indexOf(ip)];
        return `${ip}: pyspf ${py.result}, Mail::SPF ${ms.result} ${mechanism(ms) ?? ''}`;
      };
      const where = `${shown}\n${PROBES.map((ip) => line(as, ip)).join('\n')}\nmailhealth:\n${show(fs)}\n--- plan:\n${plan?.notes.join('\n') ?? ''}`;
      PROBES.forEach((ip, i) => assert.equal(as[i][0].result, as[i][1].result, `${ip}: the judges agree\n${where}`));
      const na = fs.filter((f) => f.rule === 'spf.server-not-authorized');
      assert.equal(na.length, 1, where);
      const claims = claimsOf(na[0].message);
      assert.ok(claims.length, `the message says what receivers answer\n${where}`);
      for (const c of claims) {
        const of = c.mended ? s.mended : s.domain;
        if (c.mended && !of) continue;
        const answers = runs.judgedBefore.get(of!)!;
        const named = (ip: string) => claims.some((x) => !!x.mended === !!c.mended && x.ranges?.some((r) => inRange(ip, r)));
        const ips = PROBES.filter((ip) => (c.ranges ? c.ranges.some((r) => inRange(ip, r)) : !named(ip)));
        assert.ok(ips.length, `the claim ${JSON.stringify(c)} is about some probe\n${where}`);
        for (const ip of ips) {
          const [py, ms] = answers[PROBES.indexOf(ip)];
          const said = `${ip} in ${of}: ${JSON.stringify(c)} — ${line(answers, ip)}\n${where}`;
          assert.equal(py.result, c.result, `pyspf: ${said}`);
          assert.equal(ms.result, c.result, `Mail::SPF: ${said}`);
          if (c.term && !c.inner) assert.equal(mechanism(ms), c.term, `Mail::SPF matched ${mechanism(ms)}: ${said}`);
        }
      }
      // Every probe the judges answer permerror or none for is one the finding says gets it.
      PROBES.forEach((ip, i) => {
        const r = as[i][0].result;
        if (r === 'permerror' || r === 'none') assert.ok(claims.some((c) => !c.mended && c.result === r && (c.ranges ? c.ranges.some((x) => inRange(ip, x)) : true)), `${ip}: ${r}, said\n${where}`);
      });
      // The plan's notes claim nothing of today but what the judges answer: no "fails" where no term decides.
      if (PROBES.every((_, i) => as[i][0].result === 'permerror' || as[i][0].result === 'none')) {
        for (const n of plan?.notes ?? []) assert.doesNotMatch(n, /coming first, (?:fails|softfails)|gave (?:the relay's mail )?softfail/, `${n}\n${where}`);
      }
    });
  }

  test('the scenarios are as meant', () => {
    const result = (label: string, ip: string) => runs.judgedBefore.get(`${label}.${S}`)![PROBES.indexOf(ip)][0].result;
    for (const label of ['two-absent', 'syntax-via', 'badip-via', 'syntax-shadow', 'voids-shadow', 'voids-via', 'absent-syntax', 'absent-voids', 'absent-nospf']) {
      for (const ip of PROBES) assert.equal(result(label, ip), 'permerror', `${label} ${ip}`);
    }
    for (const label of ['unread-absent', 'unread-two', 'unread-denied', 'unread-shadow']) for (const ip of PROBES) assert.equal(result(label, ip), 'none', `${label} ${ip}`);
    assert.deepEqual(['23.83.210.5', '23.83.216.10'].map((ip) => result('voids-after', ip)), ['fail', 'permerror']);
    assert.deepEqual(['23.83.210.5', '23.83.216.10'].map((ip) => result('one-shadow', ip)), ['fail', 'pass']);
    for (const ip of PROBES) assert.equal(result('absent-fail', ip), 'fail', ip);
  });
});
