// The SPF fix and void lookups that depend on the sender: names with addresses of one family only (void for the other
// family's senders, who ask for their own family alone — RFC 7208 §5.3/§5.4) and exists:%{i}… terms (void for every
// address they do not list). The fix's gate counted only names void for every sender, so:
//  - a record the fix wrote could still cost one family's senders more than 2 void lookups, a kept mail service's among
//    them, with nothing said: the plan now says so in a note (the fix keeps those names: they exist);
//  - this server's IP was added after such terms: check_host still answered permerror for it, and the plan was blocked
//    while the check's finding offered the fix — the IP now goes before the first term that cost a void lookup;
//  - the relay's include was added (or left) after such terms: the gate, judging the relay by its include alone, let
//    through a record receivers answer with permerror for the relay's mail — the include now goes before them, and the
//    gate asks check_host for the relay's addresses.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planSpf, spfFixPath } from '../../../src/core/plans/spf.js';
import { checkHost } from '../../../src/core/spf/evaluate.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from '../checks/context.js';
import { RELAY, RELAY_SENDERS, voidsWorld } from './spf-voids-world.js';

const D = 'voids.example';
const HELO = 'server1.newhost.example';
const SERVER_IP6 = '2001:db8:10::25';
const GOOGLE_IP6 = '2001:4860:4000::25';
const GOOGLE_IP = '64.233.160.5';
const SALESFORCE_IP = '13.110.208.10';

/** voidsWorld, with the domain's own record that includes the relay and Salesforce's list. */
function world(spf: string[]): ZoneMap {
  return voidsWorld(D, spf, {
    // The domain's own record that includes the relay (the fix moves only the relay's own include).
    [`_spf.${D}`]: { TXT: [['v=spf1 include:relay.mailchannels.net ~all']] },
    // exists:%{i}._spf.mta.salesforce.com lists Salesforce's servers only: void for every other address.
    [`${SALESFORCE_IP}._spf.mta.salesforce.com`]: { A: ['127.0.0.1'] },
  });
}

const txt = (value: string): ZoneRecord => ({ name: D, ttl: 3600, type: 'TXT', value, txt: [value], ref: `r:${value}` });

async function plan(spf: string[], settings: Partial<MailSettings> = {}) {
  const zone = [{ name: D, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.', ref: 'ns' } as ZoneRecord, ...spf.map(txt)];
  const ctx = checkContext(D, world(spf), settings, zone);
  const p = await planSpf(ctx, zone, {});
  const after = p.changes.find((c) => c.after)?.after;
  return { p, after: after ? (after.txt ?? [after.value]).join('') : null, ctx, zone };
}

/** Receivers' check_host for `ip` with `record` published at the apex. */
function receivers(record: string, ip: string) {
  return checkHost(ip, D, `postmaster@${D}`, HELO, new MapResolver(world([record])));
}

const show = (p: { notes: string[]; blocked?: string; changes: unknown[] }, after: string | null) =>
  `changes: ${p.changes.length}\nafter: ${after}\nblocked: ${p.blocked}\n${p.notes.join('\n')}`;

describe('SPF fix: void lookups of one address family', () => {
  test('the fixed record still costs IPv6 senders 3 void lookups: a note names them and the mail service after them', async () => {
    const { p, after } = await plan([`v=spf1 ip4:${SERVER_IP} a mx a:www.${D} include:websitewelcome.com include:_spf.google.com ~all`]);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} a mx a:www.${D} include:_spf.google.com ~all`, 'the previous host’s include goes, the names that exist stay');
    // What the note says is what receivers do: Google's IPv6 servers get permerror, its IPv4 ones and this server pass.
    assert.equal((await receivers(after!, GOOGLE_IP6)).result, 'permerror');
    assert.equal((await receivers(after!, GOOGLE_IP)).result, 'pass');
    const note = p.notes.find((n) => n.startsWith('The fixed record still costs IPv6 senders'));
    assert.ok(note, show(p, after));
    assert.match(note!, /^The fixed record still costs IPv6 senders 3 void lookups \(limit 2\): a, mx and a:www\.voids\.example look up names without an IPv6 address \(AAAA\)/);
    assert.match(note!, /receivers return permerror for mail from IPv6 addresses that gets past them — among it, mail from the senders include:_spf\.google\.com authorises/);
    assert.match(note!, /The fix keeps these terms \(their names exist\): give the names IPv6 addresses/);
  });

  test('no note where each family stays within 2 (two names without AAAA)', async () => {
    const { p, after } = await plan([`v=spf1 ip4:${SERVER_IP} a mx include:websitewelcome.com include:_spf.google.com ~all`]);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.ok(after, show(p, after));
    assert.ok(!p.notes.some((n) => /void lookups/.test(n)), show(p, after));
  });

  test("this server's IPv6 address after 3 names without AAAA: added before them, not blocked; the audit's fix goes through", async () => {
    const spf = [`v=spf1 a mx a:www.${D} ip6:${SERVER_IP6} ~all`];
    const { p, after, ctx, zone } = await plan(spf, { ips: [SERVER_IP, SERVER_IP6] });
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, `v=spf1 ip6:${SERVER_IP6} a mx a:www.${D} ~all`, show(p, after));
    assert.match(p.notes.join('\n'), /^Adds ip6:2001:db8:10::25 before a: for 2001:db8:10::25, receivers count more than 2 void lookups from a, mx and a:www\.voids\.example/m);
    for (const ip of [SERVER_IP, SERVER_IP6]) assert.equal((await receivers(after!, ip)).result, 'pass', ip);
    // The check asks the same planner (spf.server-not-authorized offers the fix): it goes through.
    assert.equal((await spfFixPath(ctx, zone)).kind, 'fixes');
  });

  test('names void for every sender past 2: the IP is not moved, the plan stays blocked on them (as before)', async () => {
    const spf = [`v=spf1 a:noaddr1.${D} a:noaddr2.${D} a:noaddr3.${D} ~all`];
    const map = world(spf);
    for (const k of [1, 2, 3]) map[`noaddr${k}.${D}`] = { TXT: [['x']] };
    const zone = spf.map(txt);
    const p = await planSpf(checkContext(D, map, {}, zone), zone, {});
    assert.match(p.blocked ?? '', /would still cause 3 void lookups/);
    assert.ok(!p.notes.some((n) => /before a:noaddr1/.test(n)), p.notes.join('\n'));
  });
});

describe("SPF fix: the relay's include after terms that cost its addresses void lookups", () => {
  // a and mx name this server's IPv4 address (no void lookup for the relay's IPv4 servers); then two exists:%{i} terms
  // that do not list the relay's addresses and a name with an IPv6 address only: 3 void lookups for each of them.
  const BEFORE = `a mx exists:%{i}._spf.mta.salesforce.com exists:%{i}.spf.hc1234-56.iphmx.com a:crm.${D}`;

  test('the include the fix adds goes before the first of them, and receivers pass the relay’s mail', async () => {
    const { p, after } = await plan([`v=spf1 ${BEFORE} ~all`], RELAY);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, `v=spf1 a mx include:relay.mailchannels.net exists:%{i}._spf.mta.salesforce.com exists:%{i}.spf.hc1234-56.iphmx.com a:crm.${D} ~all`, show(p, after));
    assert.match(p.notes.join('\n'), /^Puts include:relay\.mailchannels\.net before exists:%\{i\}\._spf\.mta\.salesforce\.com: for the relay's address 23\.83\.208\.0, receivers count more than 2 void lookups/m);
    for (const ip of RELAY_SENDERS) assert.equal((await receivers(after!, ip)).result, 'pass', ip);
    // The names stay: Salesforce still passes.
    assert.equal((await receivers(after!, SALESFORCE_IP)).result, 'pass');
  });

  test('the relay’s include already there, after them: moved before them', async () => {
    const spf = `v=spf1 ${BEFORE} include:relay.mailchannels.net ~all`;
    for (const ip of RELAY_SENDERS) assert.equal((await receivers(spf, ip)).result, 'permerror', `as published, ${ip}`);
    const { p, after } = await plan([spf], RELAY);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, `v=spf1 a mx include:relay.mailchannels.net exists:%{i}._spf.mta.salesforce.com exists:%{i}.spf.hc1234-56.iphmx.com a:crm.${D} ~all`, show(p, after));
    for (const ip of RELAY_SENDERS) assert.equal((await receivers(after!, ip)).result, 'pass', ip);
  });

  test('reached only through an include of the domain’s own record: not moved, and the gate blocks naming the terms', async () => {
    const { p, after } = await plan([`v=spf1 ${BEFORE} include:_spf.${D} ~all`], RELAY);
    assert.equal(p.changes.length, 0, show(p, after));
    assert.match(p.blocked ?? '', /^The record would still make receivers return permerror for the relay's mail before they reach include:_spf\.voids\.example: exists:%\{i\}\._spf\.mta\.salesforce\.com, exists:%\{i\}\.spf\.hc1234-56\.iphmx\.com and a:crm\.voids\.example cost its addresses more than 2 void lookups/, show(p, after));
  });

  test('one exists term before the include: within the limit, nothing moved', async () => {
    const spf = 'v=spf1 a mx exists:%{i}._spf.mta.salesforce.com include:relay.mailchannels.net ~all';
    const { p, after } = await plan([spf], RELAY);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, null, show(p, after));
  });
});
