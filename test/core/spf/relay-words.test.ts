// What the relay's verdict says decides for which of its addresses (src/core/spf/relay.ts relayAuthorisation, and the
// SPF check's words for it), as check_host evaluates the record for each piece of the relay's ranges — the judges'
// view is test/core/checks/spf-relay-words-judges.test.ts (pyspf and Mail::SPF); here mailhealth's own check_host
// (src/core/spf/evaluate.ts) says what receivers answer, over a map resolver. Three messages said what was not so:
// - a "-" range inside the relay's was said to cover the relay's whole range it overlaps (the walk's words):
//   `-ip4:23.83.210.0/24 …` "covers the relay's addresses 23.83.208.0/20", and the fix's note said the same;
// - `-ip4:23.83.208.0/20 ~include:relay.mailchannels.net`: the finding named the include's "~" as what decides, where
//   receivers fail those addresses at the -ip4 first;
// - `a:<name>/20 -ip4:23.83.208.0/20 include:<a relay whose own record fails part of what it publishes>`: "shadowed by
//   -ip4", which decides for none of the relay's addresses (the a term passes them first); receivers answer as for
//   the relay's include alone, which is authorised.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import { checkHost } from '../../../src/core/spf/evaluate.js';
import { relayAuthorisation, relayTermRanges } from '../../../src/core/spf/relay.js';
import { walkSpfRecord } from '../../../src/core/spf/tree.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from '../checks/context.js';

const D = 'words.example';
const RELAY = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;
const HOSTS = ['relay.mailchannels.net'];
const TWO_RANGES = 'v=spf1 ip4:23.83.208.0/20 ip4:205.201.128.0/20 ~all';
/** A relay whose own record fails part of a range it publishes. */
const SELF_FAILING = 'v=spf1 -ip4:205.201.130.0/24 ip4:23.83.208.0/20 ip4:205.201.128.0/20 ~all';

function world(records: string | string[], relay = TWO_RANGES, more: ZoneMap = {}): ZoneMap {
  return {
    'relay.mailchannels.net': { TXT: [[relay]] },
    'hit.words.example': { A: ['23.83.210.5'] },
    ...more,
    [D]: { TXT: (Array.isArray(records) ? records : [records]).map((r) => [r]) },
  };
}

async function authorisation(record: string, relay = TWO_RANGES, more: ZoneMap = {}) {
  const tree = await walkSpfRecord(new MapResolver(world(record, relay, more)), D, record);
  return relayAuthorisation(tree, HOSTS, relayTermRanges(tree));
}

/** What mailhealth's check_host answers for `ip`. */
async function receiver(ip: string, record: string, relay = TWO_RANGES, more: ZoneMap = {}) {
  return checkHost(ip, D, `postmaster@${D}`, 'server1.newhost.example', new MapResolver(world(record, relay, more)));
}

function setup(records: string | string[], relay = TWO_RANGES, more: ZoneMap = {}) {
  const list = Array.isArray(records) ? records : [records];
  const zone: ZoneRecord[] = list.map((r, i) => ({ name: D, ttl: 3600, type: 'TXT', value: r, txt: [r], ref: `spf${i}` }));
  return { ctx: checkContext(D, world(list, relay, more), RELAY, zone), zone };
}

const show = (fs: readonly Finding[]) => fs.map((f) => `${f.severity} ${f.rule} [${f.subject ?? ''}] ${f.message}`).join('\n');

async function check(records: string | string[], relay = TWO_RANGES, more: ZoneMap = {}) {
  const fs = await spfCheck(setup(records, relay, more).ctx);
  return { fs, na: fs.filter((f) => f.rule === 'spf.server-not-authorized'), show: show(fs) };
}

async function fix(record: string, relay = TWO_RANGES, more: ZoneMap = {}) {
  const { ctx, zone } = setup(record, relay, more);
  const p = await planSpf(ctx, zone, {});
  return { p, after: p.changes.find((c) => c.after)?.after?.value ?? null, notes: p.notes.join('\n') };
}

describe("a '-' range inside the relay's: the part of the relay's addresses it covers, and the rest", () => {
  const record = 'v=spf1 -ip4:23.83.210.0/24 include:relay.mailchannels.net -all';

  test('receivers fail 23.83.210.0/24 at the term and pass the rest through the include', async () => {
    for (const [ip, result, by] of [
      ['23.83.210.7', 'fail', '-ip4:23.83.210.0/24'],
      ['23.83.208.10', 'pass', 'include:relay.mailchannels.net'],
      ['205.201.128.10', 'pass', 'include:relay.mailchannels.net'],
    ] as const) {
      const r = await receiver(ip, record);
      assert.deepEqual([r.result, r.decidedBy], [result, by], ip);
    }
  });

  test('relayAuthorisation: shadowed for 23.83.210.0/24, not for the whole range it overlaps', async () => {
    assert.deepEqual(await authorisation(record), { state: 'shadowed', term: '-ip4:23.83.210.0/24', qualifier: '-', include: 'include:relay.mailchannels.net', ranges: ['23.83.210.0/24'] });
  });

  test('the finding names that part, and says the rest pass through the include; the fix note names the same part', async () => {
    const { na, show } = await check(record);
    assert.equal(na.length, 1, show);
    assert.equal(na[0].subject, '-ip4:23.83.210.0/24');
    assert.equal(na[0].severity, 'fail');
    assert.match(na[0].message, /-ip4:23\.83\.210\.0\/24 comes before include:relay\.mailchannels\.net and covers the relay's addresses 23\.83\.210\.0\/24: .* fail instead of pass\. The relay's other addresses pass through include:relay\.mailchannels\.net\.$/);
    assert.doesNotMatch(na[0].message, /23\.83\.208\.0\/20/);
    const f = await fix(record);
    assert.equal(f.after, 'v=spf1 include:relay.mailchannels.net -ip4:23.83.210.0/24 -all', f.notes);
    assert.match(f.notes, /^Moves include:relay\.mailchannels\.net before -ip4:23\.83\.210\.0\/24, which covers the relay's addresses 23\.83\.210\.0\/24 and, coming first, fails/);
  });

  test('part of the "-" range passed before it: only the rest is its, and the terms that pass the others are named', async () => {
    const r = 'v=spf1 ip4:23.83.211.0/24 -ip4:23.83.210.0/23 include:relay.mailchannels.net -all';
    const v = await authorisation(r);
    assert.deepEqual(v.state === 'shadowed' ? v.ranges : v, ['23.83.210.0/24']);
    const { na, show } = await check(r);
    assert.match(na[0]?.message ?? '', /covers the relay's addresses 23\.83\.210\.0\/24: .* The relay's other addresses pass \(ip4:23\.83\.211\.0\/24 and include:relay\.mailchannels\.net match them first\)\.$/, show);
  });

  test('the same inside the record an include leads to: the part, and the rest passing through that include', async () => {
    const more: ZoneMap = { '_spf.hoster.example': { TXT: [['v=spf1 -ip4:23.83.210.0/24 include:relay.mailchannels.net ~all']] } };
    const r = 'v=spf1 include:_spf.hoster.example -all';
    const v = await authorisation(r, TWO_RANGES, more);
    assert.deepEqual(v.state === 'shadowed' ? [v.ranges, v.via] : v, [['23.83.210.0/24'], 'include:_spf.hoster.example']);
    const { na, show } = await check(r, TWO_RANGES, more);
    assert.equal(na[0]?.subject, 'include:_spf.hoster.example', show);
    assert.match(na[0].message, /covers the relay's addresses 23\.83\.210\.0\/24: .* The relay's other addresses pass through include:_spf\.hoster\.example\.$/);
  });

  test('a second term failing other addresses: nothing is said of the rest passing', async () => {
    const { na, show } = await check('v=spf1 -ip4:23.83.210.0/24 -ip4:205.201.130.0/24 include:relay.mailchannels.net -all');
    assert.equal(na.length, 1, show);
    assert.match(na[0].message, /covers the relay's addresses 23\.83\.210\.0\/24/);
    assert.doesNotMatch(na[0].message, /other addresses pass/);
  });

  test("a range covering the relay's whole range keeps its words (and says the other range passes)", async () => {
    const { na, show } = await check('v=spf1 -ip4:23.83.208.0/20 include:relay.mailchannels.net -all');
    assert.match(na[0]?.message ?? '', /covers the relay's addresses 23\.83\.208\.0\/20: .* The relay's other addresses pass through include:relay\.mailchannels\.net\.$/, show);
    const one = await check('v=spf1 -ip4:23.83.208.0/20 include:relay.mailchannels.net -all', 'v=spf1 ip4:23.83.208.0/20 ~all');
    assert.doesNotMatch(one.na[0]?.message ?? '', /other addresses/, one.show);
  });
});

describe("the relay's include with a qualifier behind a term that decides first for some of its addresses", () => {
  const record = 'v=spf1 -ip4:23.83.208.0/20 ~include:relay.mailchannels.net -all';

  test('receivers fail 23.83.208.0/20 at the -ip4; only the other range reaches the include', async () => {
    assert.deepEqual((await receiver('23.83.208.10', record)).decidedBy, '-ip4:23.83.208.0/20');
    assert.deepEqual((await receiver('23.83.208.10', record)).result, 'fail');
    assert.deepEqual((await receiver('205.201.128.10', record)).decidedBy, '~include:relay.mailchannels.net');
  });

  test('the finding is about the -ip4 (its subject), names what each decides, and stays a fail with the fix', async () => {
    const { na, show } = await check(record);
    assert.equal(na.length, 1, show);
    assert.equal(na[0].severity, 'fail');
    assert.equal(na[0].fix, 'spf');
    assert.equal(na[0].subject, '-ip4:23.83.208.0/20');
    assert.match(
      na[0].message,
      /but -ip4:23\.83\.208\.0\/20 comes before ~include:relay\.mailchannels\.net and covers the relay's addresses 23\.83\.208\.0\/20: .* fail instead of pass\. The relay's other addresses reach ~include:relay\.mailchannels\.net, whose "~" qualifier gives them softfail instead of pass/,
    );
    // The include's own term finding stays the one above's (it is not classified on its own).
    const { fs } = await check(record);
    assert.ok(!fs.some((f) => f.subject === '~include:relay.mailchannels.net'), show);
  });

  test('the plan acts on the same terms: the include made plain and put before the -ip4 the finding names', async () => {
    const { na } = await check(record);
    const f = await fix(record);
    assert.equal(f.p.blocked, undefined, f.notes);
    assert.equal(f.after, 'v=spf1 include:relay.mailchannels.net -ip4:23.83.208.0/20 -all', f.notes);
    assert.match(f.notes, new RegExp(`Moves include:relay\\.mailchannels\\.net before ${na[0].subject!.replace(/[./]/g, '\\$&')},`));
    assert.match(f.notes, /^Replaces ~include:relay\.mailchannels\.net with include:relay\.mailchannels\.net/);
  });

  test('the -ip4 covering every range the relay publishes: the include decides for none of its mail today', async () => {
    const relay = 'v=spf1 ip4:23.83.208.0/20 ~all';
    const { na, show } = await check(record, relay);
    assert.equal(na[0]?.subject, '-ip4:23.83.208.0/20', show);
    assert.match(na[0].message, /~include:relay\.mailchannels\.net decides for none of the relay's mail today, and would not authorise it either: its "~" qualifier gives softfail instead of pass/);
    assert.doesNotMatch(na[0].message, /reaches ~include/);
  });

  test('several records: named in the record that has it', async () => {
    const other = 'v=spf1 a -all';
    const { na, show } = await check([record, other]);
    const mine = na.find((f) => f.message.includes(record));
    assert.ok(mine, show);
    assert.equal(mine.subject, '-ip4:23.83.208.0/20');
    assert.match(mine.message, /but in "?.*v=spf1 -ip4:23\.83\.208\.0\/20 ~include:relay\.mailchannels\.net -all.*, -ip4:23\.83\.208\.0\/20 comes before ~include/);
  });
});

describe('the relay\'s include with a qualifier behind terms that pass some of its addresses first', () => {
  test('part passed: the qualifier decides for the rest, named; still a fail', async () => {
    const record = 'v=spf1 ip4:23.83.208.0/20 ~include:relay.mailchannels.net -all';
    assert.equal((await receiver('23.83.208.10', record)).result, 'pass');
    assert.equal((await receiver('205.201.128.10', record)).result, 'softfail');
    const { na, show } = await check(record);
    assert.equal(na.length, 1, show);
    assert.equal(na[0].severity, 'fail');
    assert.equal(na[0].subject, undefined);
    assert.match(na[0].message, /its "~" qualifier gives the relay's mail from its other addresses softfail instead of pass \(terms before it pass 23\.83\.208\.0\/20 first: the first matching term decides\)/);
    assert.doesNotMatch(na[0].message, /Receivers reject or junk this server's mail\.$/);
  });

  test("all passed: receivers pass the relay's mail for now; still a fail (only the include follows the relay)", async () => {
    const record = 'v=spf1 ip4:23.83.208.0/20 ip4:205.201.128.0/20 ~include:relay.mailchannels.net -all';
    for (const ip of ['23.83.208.10', '205.201.128.10']) assert.equal((await receiver(ip, record)).result, 'pass', ip);
    const { na, show } = await check(record);
    assert.equal(na.length, 1, show);
    assert.equal(na[0].severity, 'fail');
    assert.equal(na[0].fix, 'spf');
    assert.match(na[0].message, /terms before it pass the relay's addresses 23\.83\.208\.0\/20 and 205\.201\.128\.0\/20 first .*: receivers pass its mail from them for now, and the "~" qualifier decides nothing today/);
    assert.doesNotMatch(na[0].message, /gives the relay's mail softfail|Receivers reject or junk/);
  });

  test('nothing before it: the words as they were', async () => {
    const { na, show } = await check('v=spf1 ~include:relay.mailchannels.net -all');
    assert.equal(na[0]?.message, `This server relays through MailChannels, but the SPF record reaches it through ~include:relay.mailchannels.net: its "~" qualifier gives the relay's mail softfail instead of pass — only an include without a qualifier (or with "+") authorises (RFC 7208 §4.6.2, §5.2). Receivers reject or junk this server's mail.`, show);
  });
});

describe("a relay whose own record fails part of what it publishes, and an a term passing the rest of a '-' range first", () => {
  const record = 'v=spf1 a:hit.words.example/20 -ip4:23.83.208.0/20 include:relay.mailchannels.net -all';
  const alone = 'v=spf1 include:relay.mailchannels.net -all';

  test('receivers answer every address as for the relay\'s include alone: the -ip4 decides for none', async () => {
    for (const ip of ['23.83.208.10', '23.83.210.5', '23.83.223.250', '205.201.128.10', '205.201.130.9', '205.201.140.77']) {
      const r = await receiver(ip, record, SELF_FAILING);
      assert.equal(r.result, (await receiver(ip, alone, SELF_FAILING)).result, ip);
      assert.notEqual(r.decidedBy, '-ip4:23.83.208.0/20', ip);
    }
  });

  test('relayAuthorisation: pass (as for the include alone), not shadowed by the -ip4', async () => {
    assert.deepEqual(await authorisation(alone, SELF_FAILING), { state: 'pass', term: 'include:relay.mailchannels.net' });
    assert.deepEqual(await authorisation(record, SELF_FAILING), { state: 'pass', term: 'include:relay.mailchannels.net' });
  });

  test('through redirect= and inside the record an include leads to: the same', async () => {
    assert.deepEqual(await authorisation('v=spf1 a:hit.words.example/20 -ip4:23.83.208.0/20 redirect=relay.mailchannels.net', SELF_FAILING), { state: 'pass', term: 'redirect=relay.mailchannels.net' });
    const more: ZoneMap = { '_spf.hoster.example': { TXT: [['v=spf1 a:hit.words.example/20 -ip4:23.83.208.0/20 include:relay.mailchannels.net ~all']] } };
    assert.deepEqual(await authorisation('v=spf1 include:_spf.hoster.example -all', SELF_FAILING, more), { state: 'pass', term: 'include:_spf.hoster.example' });
  });

  test('the check says what it says of the include alone (spf.ok), and the fix changes nothing', async () => {
    const { fs, show } = await check(record, SELF_FAILING);
    assert.ok(!fs.some((f) => f.rule === 'spf.server-not-authorized'), show);
    assert.ok(fs.some((f) => f.rule === 'spf.ok'), show);
    assert.ok((await check(alone, SELF_FAILING)).fs.some((f) => f.rule === 'spf.ok'));
    assert.deepEqual((await fix(record, SELF_FAILING)).p.changes, []);
  });

  test('a "-" range that does decide there is still named, for the part it covers', async () => {
    const r = 'v=spf1 -ip4:23.83.210.0/24 include:relay.mailchannels.net -all';
    const { na, show } = await check(r, SELF_FAILING);
    assert.equal(na[0]?.subject, '-ip4:23.83.210.0/24', show);
    assert.match(na[0].message, /covers the relay's addresses 23\.83\.210\.0\/24: /);
    // The relay's own 205.201.130.0/24 does not pass: nothing is said of the rest passing.
    assert.doesNotMatch(na[0].message, /other addresses pass/);
  });
});
