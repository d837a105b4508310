// Review of the SPF check's judgement of a relay stopped by void lookups before its include (relayPastVoids, commit
// 3679d5f). Each case is one the first version judged otherwise than receivers (check_host for the relay's addresses,
// the evaluator pyspf and Mail::SPF agree with: test/e2e/spf-voids-oracles.test.ts), or than the design rules:
//  - the relay reached through an include of the domain's own record that also lists an IPv6 range of its own, after
//    names without AAAA: that range was probed as one of the relay's, and the relay's mail (IPv4, which passes) was
//    reported failing;
//  - the same include whose own record has the exists:%{i}… terms before the relay's include: only the terms before
//    the top-level include were counted, so check_host was never asked and the audit said spf.ok — receivers answer
//    permerror for every address of the relay;
//  - a ptr term before them whose lookup timed out: check_host took it as no match (RFC 7208 §5.5), counted the void
//    lookups after it, and the audit said fail (and the fix moved the include) — a DNS timeout is unknown, never fail;
//  - a denylist (-exists:%{i}.deny…) among the terms: the fix (test/core/plans/spf-voids-review.test.ts) now puts the
//    include after it, and the finding says so;
//  - the relay reached through redirect=: the fix's block said to put the redirect= before the terms (it always comes
//    last); the fix now adds an include of its target before them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CheckContext } from '../../../src/core/checks/context.js';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planSpf, spfFixPath } from '../../../src/core/plans/spf.js';
import type { Answer, Resolver, RRType } from '../../../src/core/resolver.js';
import { checkHost } from '../../../src/core/spf/evaluate.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from './context.js';

const D = 'relayreview.example';
const RELAY = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;
/** Addresses across the ranges the relay's record publishes (not the first of each, which mailhealth probes). */
const RELAY_SENDERS = ['23.83.215.250', '205.201.140.9'];
const SALESFORCE_IP = '13.110.208.10';
/** Three void lookups for the relay's IPv4 addresses: two exists:%{i} lists that do not hold them, a name with AAAA only. */
const VOIDS = `exists:%{i}._spf.mta.salesforce.com exists:%{i}.spf.hc1234-56.iphmx.com a:crm.${D}`;

function world(spf: string, more: ZoneMap = {}): ZoneMap {
  return {
    [D]: { TXT: [[spf]], A: [SERVER_IP], MX: [{ priority: 10, exchange: `mail.${D}` }] },
    [`mail.${D}`]: { A: [SERVER_IP] },
    [`crm.${D}`]: { AAAA: ['2001:db8:77::5'] },
    // Names with IPv4 addresses only: void lookups for IPv6 senders alone.
    [`v4a.${D}`]: { A: ['192.0.2.1'] },
    [`v4b.${D}`]: { A: ['192.0.2.2'] },
    [`v4c.${D}`]: { A: ['192.0.2.3'] },
    'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ip4:205.201.128.0/20 ~all']] },
    [`${SALESFORCE_IP}._spf.mta.salesforce.com`]: { A: ['127.0.0.1'] },
    ...more,
  };
}

function setup(spf: string, more: ZoneMap = {}) {
  const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'TXT', value: spf, txt: [spf], ref: 'spf' }];
  return { ctx: checkContext(D, world(spf, more), RELAY, zone), zone };
}

/** What receivers answer for `ip` with `record` published at the apex (the evaluator the oracle tests hold to pyspf). */
function receivers(record: string, ip: string, more: ZoneMap = {}) {
  return checkHost(ip, D, `postmaster@${D}`, 'server1.newhost.example', new MapResolver(world(record, more)));
}

/** A resolver that times out on every PTR question, as `base` answers the rest. */
function ptrTimesOut(base: Resolver): Resolver {
  return {
    async resolve<T extends RRType>(name: string, type: T): Promise<Answer<T>> {
      if (type === 'PTR') return { name, type, status: 'unknown', records: [], error: 'timeout' };
      return base.resolve(name, type);
    },
  };
}

const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''} [${f.subject ?? ''}]: ${f.message}`).join('\n');
const notAuthorised = (fs: Finding[]) => fs.filter((f) => f.rule === 'spf.server-not-authorized');

describe("spf: the relay reached through an include of the domain's own record", () => {
  // _spf.<domain> lists an IPv6 range of the domain's own, then includes the relay; before it, three names with IPv4
  // addresses only — void lookups for IPv6 senders, not for the relay's IPv4 servers.
  const OWN_V6 = { [`_spf.${D}`]: { TXT: [['v=spf1 ip6:2001:db8:5::/48 include:relay.mailchannels.net ~all']] } };
  const SPF_V6 = `v=spf1 a:v4a.${D} a:v4b.${D} a:v4c.${D} include:_spf.${D} ~all`;

  test("another range of that record is not the relay's: the relay's mail passes, and the audit says so", async () => {
    for (const ip of RELAY_SENDERS) assert.equal((await receivers(SPF_V6, ip, OWN_V6)).result, 'pass', ip);
    const { ctx, zone } = setup(SPF_V6, OWN_V6);
    const fs = await spfCheck(ctx);
    assert.deepEqual(notAuthorised(fs), [], show(fs));
    // The record's own trouble for IPv6 senders is said as that (and the fix is not blocked on the relay's account).
    assert.ok(fs.some((f) => f.rule === 'spf.void-lookups' && f.subject === 'IPv6'), show(fs));
    const p = await planSpf(ctx, zone, {});
    assert.ok(!/relay's mail/.test(p.blocked ?? ''), p.blocked);
  });

  // _spf.<domain>'s own terms cost the relay's addresses 3 void lookups before its include of the relay.
  const INSIDE = { [`_spf.${D}`]: { TXT: [[`v=spf1 ${VOIDS} include:relay.mailchannels.net ~all`]] } };

  test('void lookups inside that record before its include of the relay: not authorised, as receivers answer', async () => {
    const spf = `v=spf1 include:_spf.${D} ~all`;
    for (const ip of RELAY_SENDERS) assert.equal((await receivers(spf, ip, INSIDE)).result, 'permerror', ip);
    const { ctx, zone } = setup(spf, INSIDE);
    const fs = await spfCheck(ctx);
    assert.ok(!fs.some((f) => f.rule === 'spf.ok'), show(fs));
    const f = notAuthorised(fs);
    assert.equal(f.length, 1, show(fs));
    assert.equal(f[0].severity, 'fail');
    assert.match(f[0].message, /^This server relays through MailChannels, and the SPF record includes it \(include:_spf\.relayreview\.example\), but the terms before the relay's include in the record include:_spf\.relayreview\.example leads to come first/);
    // Those terms are not this record's: the fix, which edits only it, is not offered, and the finding says what to do.
    assert.equal(f[0].fix, undefined, show(fs));
    assert.match(f[0].message, /Edit the record at _spf\.relayreview\.example by hand so that it reaches the relay's include before those terms/);
    const p = await planSpf(ctx, zone, {});
    assert.match(p.blocked ?? '', /^The record would still make receivers return permerror for the relay's mail before they reach include:_spf\.relayreview\.example/);
    assert.ok(!/select .* for removal/.test(p.blocked ?? ''), `the include of the domain's own record is not offered for removal: ${p.blocked}`);
  });

  test('one void term before that include and two inside it: named both ways', async () => {
    const inside2 = { [`_spf.${D}`]: { TXT: [[`v=spf1 exists:%{i}.spf.hc1234-56.iphmx.com a:crm.${D} include:relay.mailchannels.net ~all`]] } };
    const spf = `v=spf1 exists:%{i}._spf.mta.salesforce.com include:_spf.${D} ~all`;
    for (const ip of RELAY_SENDERS) assert.equal((await receivers(spf, ip, inside2)).result, 'permerror', ip);
    const { ctx } = setup(spf, inside2);
    const fs = await spfCheck(ctx);
    const f = notAuthorised(fs);
    assert.equal(f.length, 1, show(fs));
    assert.equal(f[0].subject, 'exists:%{i}._spf.mta.salesforce.com');
    assert.match(f[0].message, /but exists:%\{i\}\._spf\.mta\.salesforce\.com and the terms before the relay's include in the record include:_spf\.relayreview\.example leads to come first/);
  });
});

describe("spf: a denylist among the terms before the relay's include", () => {
  test('the finding says the fix puts the include after it (it may fail some of the relay’s servers)', async () => {
    const { ctx } = setup(`v=spf1 -exists:%{i}.deny.${D} ${VOIDS} include:relay.mailchannels.net ~all`);
    const fs = await spfCheck(ctx);
    const f = notAuthorised(fs);
    assert.equal(f.length, 1, show(fs));
    assert.equal(f[0].fix, 'spf', show(fs));
    assert.match(f[0].message, /puts include:relay\.mailchannels\.net before them — after -exists:%\{i\}\.deny\.relayreview\.example, which may fail some of the relay's servers and still decides first for them\.$/);
  });
});

describe('spf: DNS trouble while check_host judges the relay is unknown, never fail', () => {
  // ptr:mailchannels.net would match the relay's servers (their PTR names) before the void lookups, if its lookup answered.
  const SPF = `v=spf1 ptr:mailchannels.net ${VOIDS} include:relay.mailchannels.net ~all`;

  test('the PTR lookup answers (no PTR record): the relay is not authorised (control)', async () => {
    const { ctx } = setup(SPF);
    const fs = await spfCheck(ctx);
    assert.equal(notAuthorised(fs)[0]?.severity, 'fail', show(fs));
  });

  test('the PTR lookup times out: spf.dns-error (unknown), no failure, and the fix changes nothing on it', async () => {
    const { ctx, zone } = setup(SPF);
    const troubled: CheckContext = { ...ctx, resolver: ptrTimesOut(ctx.resolver) };
    const fs = await spfCheck(troubled);
    assert.deepEqual(notAuthorised(fs), [], show(fs));
    const u = fs.find((f) => f.rule === 'spf.dns-error');
    assert.equal(u?.severity, 'unknown', show(fs));
    assert.match(u!.message, /PTR: DNS error \(timeout\)/);
    const p = await planSpf(troubled, zone, {});
    assert.match(p.blocked ?? '', /^DNS did not answer while planning: /, p.notes.join('\n'));
    assert.equal((await spfFixPath(troubled, zone)).kind, 'dns');
  });
});

describe('spf: the relay reached through redirect= after terms that cost its addresses void lookups', () => {
  const SPF = `v=spf1 a mx ${VOIDS} redirect=relay.mailchannels.net`;

  test('not authorised; the fix adds an include of the redirect’s target before them, and receivers pass the relay', async () => {
    for (const ip of RELAY_SENDERS) assert.equal((await receivers(SPF, ip)).result, 'permerror', ip);
    const { ctx, zone } = setup(SPF);
    const fs = await spfCheck(ctx);
    const f = notAuthorised(fs);
    assert.equal(f.length, 1, show(fs));
    assert.equal(f[0].fix, 'spf', show(fs));
    assert.match(f[0].message, /the SPF record leads to it \(redirect=relay\.mailchannels\.net\)/);
    assert.match(f[0].message, /adds include:relay\.mailchannels\.net before them \(redirect=relay\.mailchannels\.net, which always comes last, stays\)/);
    const p = await planSpf(ctx, zone, {});
    assert.equal(p.blocked, undefined, p.notes.join('\n'));
    const after = p.changes.find((c) => c.after)?.after?.value;
    assert.equal(after, `v=spf1 a mx include:relay.mailchannels.net ${VOIDS} redirect=relay.mailchannels.net`, p.notes.join('\n'));
    assert.match(p.notes.join('\n'), /^Adds include:relay\.mailchannels\.net before exists:%\{i\}\._spf\.mta\.salesforce\.com: .*redirect=relay\.mailchannels\.net stays/m);
    for (const ip of RELAY_SENDERS) assert.equal((await receivers(after!, ip)).result, 'pass', ip);
    // Nobody else gains or loses: Salesforce still passes, this server (IPv4, the a and mx terms) still passes, and a
    // stranger gets what it got before.
    for (const ip of [SALESFORCE_IP, SERVER_IP, '198.51.100.99']) assert.equal((await receivers(after!, ip)).result, (await receivers(SPF, ip)).result, ip);
  });
});
