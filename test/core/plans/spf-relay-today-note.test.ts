// Review: the SPF fix's notes on the relay's include written with a qualifier ("Replaces ~include:… with include:…")
// and on another include reaching the relay with one ("Adds include:… before ~include:…") said what that qualifier
// does "today" from the plan's own terms — after the plan had dropped or removed some of them — not from the record as
// published. `ip4:0.0.0.0/1 ip4:128.0.0.0/1 ~include:relay.mailchannels.net` (the /1s dropped, as wide as +all) was said
// to give softfail to the relay's mail from 23.83.208.0/20, which the /1 passes today (check_host stops at the first
// match, RFC 7208 §4.6.2); so was a passing ip4 term the user selected for removal. And
// `-ip4:23.83.208.0/20 ~include:relay.mailchannels.net` was said to softfail "the relay's mail that no term before it
// matches first" — there is none: the -ip4 fails all of it first, and the check says the include decides for none of it.
// The notes now judge today on the record as published (check_host per piece of the relay's ranges, as the check does);
// what the fix does is unchanged (each test pins the record the plan writes).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import { checkHost } from '../../../src/core/spf/evaluate.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from '../checks/context.js';

const D = 'shop.example';
const HELO = 'server1.newhost.example';
const INCLUDE = 'include:relay.mailchannels.net';
const RELAY = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;
const WORLD: ZoneMap = {
  [D]: { A: [SERVER_IP] },
  'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ~all']] },
  // A record that reaches the relay through its own include.
  'wrap.example': { TXT: [['v=spf1 include:relay.mailchannels.net ~all']] },
};
/** The relay's record of the reviewer's example: an IPv6 range beside the IPv4 one. */
const RELAY_46: ZoneMap = { 'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ip6:2001:db8:100::/48 ~all']] } };

/** The plan for the SPF record(s) `spf`, published as written; `today(ip)`: check_host over them as published. */
async function run(spf: string | string[], opts: { removeTerms?: string[]; extra?: ZoneMap; published?: ZoneMap[string] } = {}) {
  const records = Array.isArray(spf) ? spf : [spf];
  const map: ZoneMap = { ...WORLD, ...opts.extra, [D]: { ...WORLD[D], TXT: records.map((r) => [r]), ...opts.published } };
  const zone: ZoneRecord[] = records.map((r, i) => ({ name: D, ttl: 3600, type: 'TXT', value: r, txt: [r], ref: `spf${i}` }));
  const ctx = checkContext(D, map, RELAY, zone);
  const plan = await planSpf(ctx, zone, { removeTerms: opts.removeTerms ?? [] });
  const after = plan.changes.find((c) => c.after)?.after;
  const today = (ip: string) => checkHost(ip, D, `postmaster@${D}`, HELO, new MapResolver(map));
  const finding = async () => (await spfCheck(checkContext(D, map, RELAY, zone))).find((f) => f.rule === 'spf.server-not-authorized')?.message ?? '';
  return { plan, after: after ? (after.txt ?? [after.value]).join('') : null, today, finding, text: `${plan.blocked ?? ''}\n${plan.notes.join('\n')}` };
}

const replacesNote = (notes: readonly string[]) => notes.find((n) => n.startsWith(`Replaces ~${INCLUDE} with ${INCLUDE}:`)) ?? '';
const addsNote = (notes: readonly string[], term: string) => notes.find((n) => n.startsWith(`Adds ${INCLUDE} before ${term}`)) ?? '';

/** "a", "a and b", "a, b and c" → the items. */
const items = (list: string) => list.split(/, | and /);
/** An address inside `range` (a.b.c.d/n with n < 32, or x::/n). */
const inside = (range: string) => {
  const net = range.split('/')[0];
  if (net.includes(':')) return `${net}1`;
  const o = net.split('.').map(Number);
  return `${o[0]}.${o[1]}.${o[2]}.${o[3] + 1}`;
};
const RESULT: Record<string, string> = { fails: 'fail', softfails: 'softfail', 'gives neutral to': 'neutral' };

/**
 * Each claim a note makes of today, checked with check_host over the record as published for an address of each range
 * it names: the include term (`term`) decides for the ranges it is said to give `result` to; terms before it pass those
 * said to pass first; a named term decides for those it is said to fail first; and where the note says the include
 * decides for none of the relay's mail, it decides for no address of `relayRanges`. The number of claims checked.
 */
async function judged(note: string, term: string, result: string, today: (ip: string) => ReturnType<typeof checkHost>, relayRanges: readonly string[]): Promise<number> {
  let claims = 0;
  let m: RegExpExecArray | null;
  if ((m = /to the relay's mail that no term before it matches first, from (.+?)(?: \(|;)/.exec(note))) {
    for (const r of items(m[1])) {
      const e = await today(inside(r));
      assert.deepEqual([e.result, e.decidedBy], [result, term], `${r}: ${note}`);
      claims++;
    }
  }
  if ((m = /terms before it pass (?:the relay's addresses \()?(.+?)\)? (?:first|today)/.exec(note))) {
    for (const r of items(m[1])) {
      const e = await today(inside(r));
      assert.equal(e.result, 'pass', `${r}: ${note}`);
      assert.notEqual(e.decidedBy, term, `${r}: ${note}`);
      claims++;
    }
  }
  if ((m = /([^\s(]+) before it (fails|softfails|gives neutral to) the relay's mail from (.+?) first/.exec(note))) {
    for (const r of items(m[3])) {
      const e = await today(inside(r));
      assert.deepEqual([e.result, e.decidedBy], [RESULT[m[2]], m[1]], `${r}: ${note}`);
      claims++;
    }
  }
  if (/decides (for none of the relay's mail|nothing for them) today|today, so (its "." qualifier|it) decides nothing for them/.test(note)) {
    for (const r of relayRanges) {
      assert.notEqual((await today(inside(r))).decidedBy, term, `${r}: ${note}`);
      claims++;
    }
  }
  return claims;
}

describe('terms the plan drops or removes that pass the relay\'s addresses today', () => {
  test('ip4:0.0.0.0/1 ip4:128.0.0.0/1 (dropped as wide as +all) before ~include: the "~" decides nothing today', async () => {
    const spf = `v=spf1 ip6:2001:db8:100::/47 ip4:0.0.0.0/1 ip4:128.0.0.0/1 ~${INCLUDE} -all`;
    const r = await run(spf, { extra: RELAY_46 });
    assert.deepEqual([(await r.today('23.83.208.5')).result, (await r.today('23.83.208.5')).decidedBy], ['pass', 'ip4:0.0.0.0/1']);
    assert.deepEqual([(await r.today('2001:db8:100::5')).result, (await r.today('2001:db8:100::5')).decidedBy], ['pass', 'ip6:2001:db8:100::/47']);
    // What the fix does: unchanged.
    assert.equal(r.plan.blocked, undefined, r.text);
    assert.equal(r.after, `v=spf1 ip6:2001:db8:100::/47 ${INCLUDE} -all`, r.text);
    const n = replacesNote(r.plan.notes);
    assert.match(n, /terms before it pass the relay's addresses \(23\.83\.208\.0\/20 and 2001:db8:100::\/48\) today, so its "~" qualifier decides nothing for them/, r.text);
    assert.doesNotMatch(n, /gave softfail/);
    assert.equal(await judged(n, `~${INCLUDE}`, 'softfail', r.today, ['23.83.208.0/20', '2001:db8:100::/48']), 4);
  });

  test('a passing ip4 term selected for removal: the note says what it does today, not after the removal', async () => {
    const spf = `v=spf1 ip4:23.83.0.0/16 ~${INCLUDE} -all`;
    const r = await run(spf, { removeTerms: ['ip4:23.83.0.0/16'] });
    assert.equal((await r.today('23.83.208.5')).decidedBy, 'ip4:23.83.0.0/16');
    assert.equal(r.after, `v=spf1 ${INCLUDE} -all`, r.text);
    assert.ok(r.plan.notes.includes('Removes ip4:23.83.0.0/16 (you selected it).'), r.text);
    const n = replacesNote(r.plan.notes);
    assert.match(n, /terms before it pass the relay's addresses \(23\.83\.208\.0\/20\) today, so its "~" qualifier decides nothing for them/, r.text);
    assert.doesNotMatch(n, /gave the relay's mail softfail/);
    assert.equal(await judged(n, `~${INCLUDE}`, 'softfail', r.today, ['23.83.208.0/20']), 2);
    // Without the removal the note is the same: it speaks of today.
    const kept = await run(spf);
    assert.equal(kept.after, `v=spf1 ip4:23.83.0.0/16 ${INCLUDE} -all`, kept.text);
    assert.equal(replacesNote(kept.plan.notes), n);
  });

  for (const [what, spf, removeTerms] of [
    ['a passing ip4 term selected for removal', 'v=spf1 ip4:23.83.0.0/16 ~include:wrap.example -all', ['ip4:23.83.0.0/16']],
    ['ranges dropped as wide as +all', 'v=spf1 ip4:0.0.0.0/1 ip4:128.0.0.0/1 ~include:wrap.example -all', []],
  ] as const) {
    test(`another include reaching the relay with "~", after ${what}: the added include's note does not say it decides first`, async () => {
      const r = await run(spf, { removeTerms: [...removeTerms] });
      assert.equal((await r.today('23.83.208.5')).result, 'pass');
      assert.equal(r.after, `v=spf1 ${INCLUDE} ~include:wrap.example -all`, r.text);
      const n = addsNote(r.plan.notes, '~include:wrap.example');
      assert.match(n, /terms before it pass the relay's addresses \(23\.83\.208\.0\/20\) today, so it decides nothing for them/, r.text);
      assert.doesNotMatch(n, /would decide first/);
      assert.equal(await judged(n, '~include:wrap.example', 'softfail', r.today, ['23.83.208.0/20']), 2);
    });
  }
});

describe('a "-" term before the include that fails the relay\'s addresses first', () => {
  test('-ip4:<every range the relay publishes> ~include: it decides for none of the relay\'s mail today, as the check says', async () => {
    const spf = `v=spf1 -ip4:23.83.208.0/20 ~${INCLUDE} -all`;
    const r = await run(spf);
    assert.deepEqual([(await r.today('23.83.208.5')).result, (await r.today('23.83.208.5')).decidedBy], ['fail', '-ip4:23.83.208.0/20']);
    assert.equal(r.after, `v=spf1 ${INCLUDE} -ip4:23.83.208.0/20 -all`, r.text);
    const n = replacesNote(r.plan.notes);
    assert.match(n, /its "~" qualifier decides for none of the relay's mail today \(-ip4:23\.83\.208\.0\/20 before it fails the relay's mail from 23\.83\.208\.0\/20 first: the first matching term decides\)/, r.text);
    assert.doesNotMatch(n, /no term before it matches first|gave (softfail|the relay's mail)/);
    assert.match(await r.finding(), /~include:relay\.mailchannels\.net decides for none of the relay's mail today/);
    assert.equal(await judged(n, `~${INCLUDE}`, 'softfail', r.today, ['23.83.208.0/20']), 2);
    // The include then goes before the -ip4 (unchanged).
    assert.ok(r.plan.notes.some((x) => x.startsWith(`Moves ${INCLUDE} before -ip4:23.83.208.0/20,`)), r.text);
  });

  test('-ip4:<half of the range>: the note names the half it fails and the half the "~" decides for', async () => {
    const r = await run(`v=spf1 -ip4:23.83.208.0/21 ~${INCLUDE} -all`);
    assert.equal(r.after, `v=spf1 ${INCLUDE} -ip4:23.83.208.0/21 -all`, r.text);
    const n = replacesNote(r.plan.notes);
    assert.match(n, /gave softfail instead of pass to the relay's mail that no term before it matches first, from 23\.83\.216\.0\/21 \(-ip4:23\.83\.208\.0\/21 before it fails the relay's mail from 23\.83\.208\.0\/21 first/, r.text);
    assert.equal(await judged(n, `~${INCLUDE}`, 'softfail', r.today, ['23.83.208.0/20']), 2);
  });

  test('one half passed, the other failed before it: it decides for none, and both are named', async () => {
    const r = await run(`v=spf1 ip4:23.83.208.0/21 -ip4:23.83.216.0/21 ~${INCLUDE} -all`);
    assert.equal(r.after, `v=spf1 ip4:23.83.208.0/21 ${INCLUDE} -ip4:23.83.216.0/21 -all`, r.text);
    const n = replacesNote(r.plan.notes);
    assert.match(n, /decides for none of the relay's mail today \(-ip4:23\.83\.216\.0\/21 before it fails the relay's mail from 23\.83\.216\.0\/21 first; terms before it pass 23\.83\.208\.0\/21 first: the first matching term decides\)/, r.text);
    assert.match(await r.finding(), /decides for none of the relay's mail today/);
    assert.equal(await judged(n, `~${INCLUDE}`, 'softfail', r.today, ['23.83.208.0/20']), 3);
  });
});

describe('the SPF as published is a permanent error today', () => {
  test('two SPF records (merged by the fix): the "~" decides nothing today', async () => {
    const r = await run([`v=spf1 ip4:23.83.208.0/20 ~${INCLUDE} -all`, 'v=spf1 mx -all']);
    assert.equal((await r.today('23.83.208.5')).result, 'permerror');
    assert.equal(r.after, `v=spf1 ip4:23.83.208.0/20 ${INCLUDE} mx -all`, r.text);
    const n = replacesNote(r.plan.notes);
    assert.match(n, /its "~" qualifier decides nothing for the relay's mail today: receivers answer permerror for the SPF as published \(2 SPF records/, r.text);
    assert.doesNotMatch(n, /pass the relay's addresses|gave/);
    // Another include reaching the relay with "~": the same of it.
    const other = await run(['v=spf1 ip4:23.83.208.0/20 ~include:wrap.example -all', 'v=spf1 mx -all']);
    assert.equal(other.after, `v=spf1 ip4:23.83.208.0/20 ${INCLUDE} ~include:wrap.example mx -all`, other.text);
    const a = addsNote(other.plan.notes, '~include:wrap.example');
    assert.match(a, /: it decides nothing for the relay's mail today \(receivers answer permerror for the SPF as published: 2 SPF records/, other.text);
    assert.doesNotMatch(a, /pass the relay's addresses/);
  });

  test('a syntax error (dropped by the fix): the "~" decides nothing today', async () => {
    const r = await run(`v=spf1 foo:bar ~${INCLUDE} -all`);
    assert.equal((await r.today('23.83.208.5')).result, 'permerror');
    assert.equal(r.after, `v=spf1 ${INCLUDE} -all`, r.text);
    const n = replacesNote(r.plan.notes);
    assert.match(n, /decides nothing for the relay's mail today: receivers answer permerror for the SPF as published \(unknown mechanism "foo"/, r.text);
    assert.doesNotMatch(n, /gave/);
  });

  test('an include of a name that does not exist before it (dropped by the fix): receivers stop there', async () => {
    const r = await run(`v=spf1 include:nothere.example ~${INCLUDE} -all`);
    const e = await r.today('23.83.208.5');
    assert.equal(e.result, 'permerror');
    assert.equal(r.after, `v=spf1 ${INCLUDE} -all`, r.text);
    const n = replacesNote(r.plan.notes);
    assert.match(n, /decides for none of the relay's mail today \(receivers stop at a permanent error before it, at include:nothere\.example: /, r.text);
    assert.doesNotMatch(n, /gave/);
  });
});

test('no answer for the record as published: the note claims nothing of today (a timeout is no verdict)', async () => {
  const spf = `v=spf1 ip4:23.83.0.0/16 ~${INCLUDE} -all`;
  const r = await run(spf, { published: { TXT: 'TIMEOUT' } });
  assert.equal(r.after, `v=spf1 ip4:23.83.0.0/16 ${INCLUDE} -all`, r.text);
  const n = replacesNote(r.plan.notes);
  assert.equal(n, `Replaces ~${INCLUDE} with ${INCLUDE}: with its "~" qualifier it gives the relay's mail that reaches it softfail instead of pass; only an include without a qualifier authorises (RFC 7208 §4.6.2), so receivers accept this server's mail (it relays through MailChannels).`, r.text);
  const other = await run('v=spf1 ip4:23.83.0.0/16 ~include:wrap.example -all', { published: { TXT: 'TIMEOUT' } });
  assert.equal(other.after, `v=spf1 ip4:23.83.0.0/16 ${INCLUDE} ~include:wrap.example -all`, other.text);
  assert.equal(
    addsNote(other.plan.notes, '~include:wrap.example'),
    `Adds ${INCLUDE} before ~include:wrap.example, which reaches the relay with "~": only an include reached without a qualifier authorises the relay (RFC 7208 §4.6.2), so receivers accept this server's mail (it relays through MailChannels).`,
    other.text,
  );
});
