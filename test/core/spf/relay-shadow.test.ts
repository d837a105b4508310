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
