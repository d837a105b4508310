// Review of the SPF fix's handling of void lookups that depend on the sender (commit 3679d5f):
//  - cost: the plan that adds the relay's include walked the whole record once more for every relayed domain, to see
//    whether void lookups stand before the include — an ordinary record (nothing there can cost a sender more than 2)
//    now asks no DNS question for that;
//  - the note on a fixed record that still costs one family's senders more than 2 void lookups named a "-" term after
//    them among "the senders [it] authorises";
//  - the relay's include was put before a "-" term among those terms (a denylist, -exists:%{i}.deny…): the relay's
//    addresses it lists, failed before, passed after the fix — it now goes after such a term;
//  - a relay reached through redirect= of the domain's own record, after such terms: the block said to put the
//    redirect= before them by hand, which cannot be done (redirect= always comes last).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import { checkHost } from '../../../src/core/spf/evaluate.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from '../checks/context.js';
import { RELAY, RELAY_SENDERS, voidsWorld } from './spf-voids-world.js';

const D = 'voidsreview.example';
const world = (spf: string, more: ZoneMap = {}): ZoneMap => voidsWorld(D, [spf], more);

async function plan(spf: string, settings: Partial<MailSettings> = {}, more: ZoneMap = {}) {
  const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'TXT', value: spf, txt: [spf], ref: 'spf' }];
  const ctx = checkContext(D, world(spf, more), settings, zone);
  const p = await planSpf(ctx, zone, {});
  const after = p.changes.find((c) => c.after)?.after?.value ?? null;
  return { p, after, log: (ctx.resolver as MapResolver).log };
}

const show = (p: { notes: string[]; blocked?: string }, after: string | null) => `after: ${after}\nblocked: ${p.blocked}\n${p.notes.join('\n')}`;

describe("SPF fix: the relay's include on an ordinary record asks no more DNS questions", () => {
  test('adding the include walks the record no more often than planning the record that already has it', async () => {
    // www.<domain> AAAA is asked only by the walks of the record (a:www costs one per walk).
    const www = (log: string[]) => log.filter((q) => q === `www.${D} AAAA`).length;
    const adds = await plan(`v=spf1 a:www.${D} include:_spf.google.com ~all`, RELAY);
    assert.equal(adds.after, `v=spf1 a:www.${D} include:_spf.google.com include:relay.mailchannels.net ~all`, show(adds.p, adds.after));
    const has = await plan(`v=spf1 a:www.${D} include:_spf.google.com include:relay.mailchannels.net ~all`, RELAY);
    assert.equal(has.after, null, show(has.p, has.after));
    assert.ok(www(has.log) > 0, has.log.join('\n'));
    assert.equal(www(adds.log), www(has.log), `${adds.log.join('\n')}\n---\n${has.log.join('\n')}`);
    // Nor is any address of the relay's looked up.
    assert.ok(!adds.log.some((q) => /^(23\.83|205\.201)\./.test(q) || /in-addr\.arpa/.test(q)), adds.log.join('\n'));
  });
});

describe('SPF fix: the note on a record that still costs IPv6 senders more than 2 void lookups', () => {
  test('a "-" term after the names is not among the senders it says receivers answer with permerror', async () => {
    const { p, after } = await plan(`v=spf1 ip4:${SERVER_IP} a mx a:www.${D} include:websitewelcome.com -ip6:2001:db8:99::/48 include:_spf.google.com ~all`);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} a mx a:www.${D} -ip6:2001:db8:99::/48 include:_spf.google.com ~all`, show(p, after));
    const note = p.notes.find((n) => n.startsWith('The fixed record still costs IPv6 senders'));
    assert.ok(note, show(p, after));
    assert.match(note!, /among it, mail from the senders include:_spf\.google\.com authorises, after them/);
    assert.ok(!note!.includes('-ip6:2001:db8:99::/48'), note);
  });
});

describe("SPF fix: the relay's include is not moved before a \"-\" term that may match the relay's servers", () => {
  test('a denylist (-exists:%{i}…) among the terms: the include goes after it, and the address it denies stays failed', async () => {
    const DENIED = '23.83.212.7';
    const more: ZoneMap = { [`${DENIED}.deny.${D}`]: { A: ['127.0.0.2'] } };
    const spf = `v=spf1 a mx -exists:%{i}.deny.${D} exists:%{i}._spf.mta.salesforce.com exists:%{i}.spf.hc1234-56.iphmx.com a:crm.${D} include:relay.mailchannels.net ~all`;
    const receivers = (record: string, ip: string) => checkHost(ip, D, `postmaster@${D}`, 'server1.newhost.example', new MapResolver(world(record, more)));
    // As published: the denied address fails there; the relay's other addresses get permerror past 3 void lookups.
    assert.equal((await receivers(spf, DENIED)).result, 'fail');
    for (const ip of RELAY_SENDERS) assert.equal((await receivers(spf, ip)).result, 'permerror', ip);
    const { p, after } = await plan(spf, RELAY, more);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, `v=spf1 a mx -exists:%{i}.deny.${D} include:relay.mailchannels.net exists:%{i}._spf.mta.salesforce.com exists:%{i}.spf.hc1234-56.iphmx.com a:crm.${D} ~all`, show(p, after));
    assert.match(p.notes.join('\n'), /^Puts include:relay\.mailchannels\.net before exists:%\{i\}\._spf\.mta\.salesforce\.com: /m);
    assert.equal((await receivers(after!, DENIED)).result, 'fail', 'the denylist still decides for the address it lists');
    for (const ip of RELAY_SENDERS) assert.equal((await receivers(after!, ip)).result, 'pass', ip);
  });
});

describe("SPF fix: the relay reached through redirect= of the domain's own record, after void lookups", () => {
  test('blocked, saying to add an include of its target before the terms (a redirect= cannot be moved)', async () => {
    const more: ZoneMap = { [`_spf.${D}`]: { TXT: [['v=spf1 include:relay.mailchannels.net ~all']] } };
    const { p, after } = await plan(`v=spf1 exists:%{i}._spf.mta.salesforce.com exists:%{i}.spf.hc1234-56.iphmx.com a:crm.${D} redirect=_spf.${D}`, RELAY, more);
    assert.equal(after, null, show(p, after));
    assert.match(p.blocked ?? '', /^The record would still make receivers return permerror for the relay's mail before they reach redirect=_spf\.voidsreview\.example: /, show(p, after));
    assert.match(p.blocked!, /Add include:_spf\.voidsreview\.example before them by hand \(redirect= always comes last\)/);
    assert.ok(!/Put redirect=/.test(p.blocked!), p.blocked);
  });
});
