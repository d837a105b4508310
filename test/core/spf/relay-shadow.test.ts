// QA: `v=spf1 -ip4:23.83.208.0/20 include:relay.mailchannels.net -all` got spf.ok — relayAuthorisation() took every
// ip4/ip6 term as "no match", so a "-" range before the relay's include that covers the relay's own addresses went
// unseen, and the relay's mail from those addresses fails. A "-"/"~"/"?" ip4/ip6 term before the include that reaches
// the relay, overlapping a range the relay's record publishes, is now `shadowed`: the check fails the domain
// (spf.server-not-authorized, naming the term and the ranges) and the fix puts the relay's include first.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import { relayAuthorisation } from '../../../src/core/spf/relay.js';
import { walkSpfRecord } from '../../../src/core/spf/tree.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';
import { SPF_QA_WORLD } from '../../helpers/spf-qa-world.js';
import { checkContext } from '../checks/context.js';

const D = 'shadow.example';
const RELAY = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;
// The relay's record as the QA world publishes it: ip4:23.83.208.0/20.
const WORLD: ZoneMap = { ...SPF_QA_WORLD, 'spf.custom.example': { TXT: [['v=spf1 include:relay.mailchannels.net ~all']] } };

async function state(record: string) {
  const map: ZoneMap = { ...WORLD, [D]: { TXT: [[record]] } };
  return relayAuthorisation(await walkSpfRecord(new MapResolver(map), D, record), ['relay.mailchannels.net']);
}

function setup(record: string) {
  const map: ZoneMap = { ...WORLD, [D]: { TXT: [[record]] } };
  const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'TXT', value: record, txt: [record], ref: 'spf' }];
  return { ctx: checkContext(D, map, RELAY, zone), zone };
}

describe('relayAuthorisation: a "-"/"~"/"?" ip4/ip6 term before the relay include that covers its addresses', () => {
  test('-ip4 equal to the relay range → shadowed, naming the term, the include and the range', async () => {
    assert.deepEqual(await state('v=spf1 -ip4:23.83.208.0/20 include:relay.mailchannels.net -all'), {
      state: 'shadowed',
      term: '-ip4:23.83.208.0/20',
      qualifier: '-',
      include: 'include:relay.mailchannels.net',
      ranges: ['23.83.208.0/20'],
    });
  });

  test('part of the range (~ip4 of a /24 inside it) or a wider range → shadowed', async () => {
    assert.equal((await state('v=spf1 ~ip4:23.83.210.0/24 include:relay.mailchannels.net -all')).state, 'shadowed');
    assert.equal((await state('v=spf1 ?ip4:23.80.0.0/12 include:relay.mailchannels.net -all')).state, 'shadowed');
  });

  test('through an include that includes the relay → shadowed at the top level', async () => {
    const v = await state('v=spf1 -ip4:23.83.208.1 include:spf.custom.example -all');
    assert.equal(v.state, 'shadowed');
    assert.equal(v.state === 'shadowed' && v.include, 'include:spf.custom.example');
  });

  test('a range that does not overlap, one after the include, or a "+" one → pass', async () => {
    assert.equal((await state('v=spf1 -ip4:192.0.2.0/24 include:relay.mailchannels.net -all')).state, 'pass');
    assert.equal((await state('v=spf1 include:relay.mailchannels.net -ip4:23.83.208.0/20 -all')).state, 'pass');
    assert.equal((await state('v=spf1 ip4:23.83.208.0/20 include:relay.mailchannels.net -all')).state, 'pass');
    assert.equal((await state('v=spf1 -ip6:2001:db8::/32 include:relay.mailchannels.net -all')).state, 'pass');
  });
});

describe('SPF check and fix agree on a relay range failed first', () => {
  const record = 'v=spf1 -ip4:23.83.208.0/20 include:relay.mailchannels.net -all';

  test('check: spf.server-not-authorized naming the term and the range, with the fix; no spf.ok', async () => {
    const fs = await spfCheck(setup(record).ctx);
    const show = fs.map((f) => `${f.severity} ${f.rule} ${f.subject ?? ''} | ${f.message}`).join('\n');
    const f = fs.find((x) => x.rule === 'spf.server-not-authorized');
    assert.ok(f, show);
    assert.equal(f.subject, '-ip4:23.83.208.0/20');
    assert.equal(f.fix, 'spf');
    assert.match(f.message, /-ip4:23\.83\.208\.0\/20 comes before include:relay\.mailchannels\.net and covers the relay's addresses 23\.83\.208\.0\/20/);
    assert.ok(!fs.some((x) => x.rule === 'spf.ok'), show);
  });

  test('fix: the relay include moves before the term, with a note; the planned record passes the relay', async () => {
    const { ctx, zone } = setup(record);
    const p = await planSpf(ctx, zone, {});
    const after = p.changes.find((c) => c.after)?.after?.value ?? null;
    const show = `after: ${after}\nblocked: ${p.blocked}\n${p.notes.join('\n')}`;
    assert.equal(p.blocked, undefined, show);
    assert.equal(after, 'v=spf1 include:relay.mailchannels.net -ip4:23.83.208.0/20 -all', show);
    assert.deepEqual(p.notes, [
      'Moves include:relay.mailchannels.net before -ip4:23.83.208.0/20, which covers the relay\'s addresses 23.83.208.0/20 and, coming first, fails the relay\'s mail from them (the first matching term decides), so receivers accept this server\'s mail (it relays through MailChannels).',
    ]);
    assert.equal((await state(after!)).state, 'pass');
  });

  test('fix: relayed through another include, the relay include is added before the term', async () => {
    const { ctx, zone } = setup('v=spf1 -ip4:23.83.208.1 include:spf.custom.example -all');
    const p = await planSpf(ctx, zone, {});
    const after = p.changes.find((c) => c.after)?.after?.value ?? null;
    assert.equal(after, 'v=spf1 include:relay.mailchannels.net -ip4:23.83.208.1 include:spf.custom.example -all', p.notes.join('\n'));
    assert.match(p.notes[0], /^Adds include:relay\.mailchannels\.net before -ip4:23\.83\.208\.1/);
  });
});

// QA pass 2: (4) `-ip4:… ~include:relay…`: the fix made the include plain where it stood, then blocked (the -ip4
// shadows it) — it now moves it before that term too. (5) A "-" range an earlier "+" ip term already passed shadowed
// nothing, yet was reported. (6) A shadow inside an included or redirect= record was told as "does not include the
// relay" or as the redirect's "qualifier"; a relay include written with a trailing dot got a second copy.
async function fix(record: string) {
  const { ctx, zone } = setup(record);
  const p = await planSpf(ctx, zone, {});
  const after = p.changes.find((c) => c.after)?.after?.value ?? null;
  return { p, after, show: `after: ${after}\nblocked: ${p.blocked}\n${p.notes.join('\n')}` };
}

async function check(record: string) {
  const fs = await spfCheck(setup(record).ctx);
  return { fs, show: fs.map((f) => `${f.severity} ${f.rule} ${f.subject ?? ''} | ${f.message}`).join('\n') };
}

const NESTED: ZoneMap = { '_spf.myhost.example': { TXT: [['v=spf1 -ip4:23.83.208.0/22 include:relay.mailchannels.net ~all']] } };

function setupWith(record: string, extra: ZoneMap) {
  const map: ZoneMap = { ...WORLD, ...extra, [D]: { TXT: [[record]] } };
  const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'TXT', value: record, txt: [record], ref: 'spf' }];
  return { ctx: checkContext(D, map, RELAY, zone), zone, map };
}

describe('relay shadow (QA pass 2)', () => {
  test('~include of the relay behind a -ip4 covering it: made plain AND moved before the term; not blocked', async () => {
    const { p, after, show } = await fix('v=spf1 -ip4:23.83.208.0/22 ~include:relay.mailchannels.net -all');
    assert.equal(p.blocked, undefined, show);
    assert.equal(after, 'v=spf1 include:relay.mailchannels.net -ip4:23.83.208.0/22 -all', show);
    assert.ok(p.notes.some((n) => n.startsWith('Replaces ~include:relay.mailchannels.net with include:relay.mailchannels.net')), show);
    assert.ok(p.notes.some((n) => n.startsWith('Moves include:relay.mailchannels.net before -ip4:23.83.208.0/22')), show);
  });

  test('a "-" range inside an earlier "+" range shadows nothing: pass, spf.ok, no change', async () => {
    const record = 'v=spf1 ip4:23.83.208.0/20 -ip4:23.83.208.0/20 include:relay.mailchannels.net -all';
    assert.equal((await state(record)).state, 'pass');
    const { fs, show } = await check(record);
    assert.ok(fs.some((f) => f.rule === 'spf.ok'), show);
    assert.equal((await fix(record)).p.changes.length, 0);
  });

  test('earlier "+" ranges that together hold the shadowed part (two /21s): pass; one /21 only: still shadowed', async () => {
    assert.equal((await state('v=spf1 ip4:23.83.208.0/21 ip4:23.83.216.0/21 -ip4:23.83.208.0/20 include:relay.mailchannels.net -all')).state, 'pass');
    const v = await state('v=spf1 ip4:23.83.208.0/21 -ip4:23.83.208.0/20 include:relay.mailchannels.net -all');
    assert.equal(v.state, 'shadowed');
  });

  test('shadow inside an included record: named through the include, not "does not include the relay"', async () => {
    const { ctx } = setupWith('v=spf1 include:_spf.myhost.example -all', NESTED);
    const fs = await spfCheck(ctx);
    const f = fs.find((x) => x.rule === 'spf.server-not-authorized');
    assert.ok(f);
    assert.equal(f.subject, 'include:_spf.myhost.example');
    assert.match(f.message, /reaches it only through include:_spf\.myhost\.example, and in the record that leads to, -ip4:23\.83\.208\.0\/22 comes before include:relay\.mailchannels\.net/);
    assert.doesNotMatch(f.message, /does not include/);
  });

  test('shadow inside a redirect target: named through the redirect, not as a redirect "qualifier"; the fix adds the include', async () => {
    const { ctx, zone } = setupWith('v=spf1 mx redirect=_spf.myhost.example', NESTED);
    const fs = await spfCheck(ctx);
    const f = fs.find((x) => x.rule === 'spf.server-not-authorized');
    assert.ok(f);
    assert.doesNotMatch(f.message, /qualifier/);
    assert.match(f.message, /reaches it only through redirect=_spf\.myhost\.example, and in the record that leads to, -ip4:23\.83\.208\.0\/22/);
    const p = await planSpf(ctx, zone, {});
    assert.equal(p.blocked, undefined, p.notes.join('\n'));
    assert.equal(p.changes.find((c) => c.after)?.after?.value, 'v=spf1 mx include:relay.mailchannels.net redirect=_spf.myhost.example');
  });

  test('a later include of the relay passes the addresses an earlier include\'s record shadowed: pass', async () => {
    const map: ZoneMap = { ...WORLD, ...NESTED };
    const record = 'v=spf1 include:_spf.myhost.example include:relay.mailchannels.net -all';
    const v = relayAuthorisation(await walkSpfRecord(new MapResolver({ ...map, [D]: { TXT: [[record]] } }), D, record), ['relay.mailchannels.net']);
    assert.equal(v.state, 'pass');
  });

  test('the relay include written with a trailing dot is the same include: moved, not added beside', async () => {
    const { p, after, show } = await fix('v=spf1 -ip4:23.83.208.0/24 include:relay.mailchannels.net. -all');
    assert.equal(p.blocked, undefined, show);
    assert.equal(after, 'v=spf1 include:relay.mailchannels.net -ip4:23.83.208.0/24 -all', show);
    assert.ok(p.notes.some((n) => n.startsWith('Moves include:relay.mailchannels.net before')), show);
  });
});

describe('review: a shadow inside an include, then a redirect= that passes the relay', () => {
  test('the redirect decides for the shadowed addresses: spf.ok, no fix', async () => {
    const extra: ZoneMap = {
      'inner.example': { TXT: [['v=spf1 -ip4:23.83.208.0/22 include:relay.mailchannels.net -all']] },
      'relayish.example': { TXT: [['v=spf1 include:relay.mailchannels.net -all']] },
    };
    const record = 'v=spf1 include:inner.example redirect=relayish.example';
    const map: ZoneMap = { ...WORLD, ...extra, [D]: { TXT: [[record]] } };
    assert.equal((relayAuthorisation(await walkSpfRecord(new MapResolver(map), D, record), ['relay.mailchannels.net'])).state, 'pass');
    const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'TXT', value: record, txt: [record], ref: 'spf' }];
    const findings = await spfCheck(checkContext(D, map, RELAY, zone));
    assert.ok(!findings.some((f) => f.rule === 'spf.server-not-authorized'), findings.map((f) => `${f.rule}: ${f.message}`).join('\n'));
  });
});
