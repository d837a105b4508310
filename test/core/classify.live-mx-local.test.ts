// QA "website moved, mail stayed at GoDaddy" (x7.example): the panel delivers the domain's mail here (routing local),
// but the live MX is the old hosting provider's and the SPF record includes its SPF. The QA report's provider was
// GoDaddy (MX smtp / mailstore1.secureserver.net, include:secureserver.net); since the provider review GoDaddy's
// include:secureserver.net is a mail service (GoDaddy email, Microsoft 365 from GoDaddy — kept whatever the MX), so
// the same story is told here with a hosting-only provider: HostGator (MX gator4000 / gator4001.hostgator.com,
// include:websitewelcome.com, MailChannels id auth=hostgator).
//  - mx.stale said only "incoming mail goes to the old host's mailboxes", with no way out. It now gives both: point the
//    MX at this server (naming what to point it at: the panel's own MX when it names this server, else a name the
//    panel's zone points here, else this server's host name; for mail.<domain> at an old address, the record to change),
//    or set the routing to remote if the mailboxes are still at that provider.
//  - The SPF fix dropped the include (then include:secureserver.net) as "a hosting provider that is not this server",
//    though the live MX delivers the domain's mail there: the old host's mailboxes' outgoing mail would have lost SPF.
//    Which of the two it is (a left-over MX, or mailboxes still there) is for the customer to settle, so a provider the
//    LIVE MX points at — whatever the panel's routing — has its SPF terms, DKIM selectors and MailChannels ids unknown
//    (kept unless selected), the reason naming the MX. A live MX lookup without an answer leaves them unknown
//    (unanswered), never stale. The MX host itself stays mx.stale (fail).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isUnanswered } from '../../src/core/classify.js';
import { lockdownCheck } from '../../src/core/checks/lockdown.js';
import { mxCheck } from '../../src/core/checks/mx.js';
import { spfCheck } from '../../src/core/checks/spf.js';
import type { Finding, MailSettings, ZoneRecord } from '../../src/core/model.js';
import { planLockdown } from '../../src/core/plans/lockdown.js';
import { planSpf } from '../../src/core/plans/spf.js';
import type { ZoneMap } from '../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from './checks/context.js';

const D = 'x7.example';
const SPF = 'v=spf1 +a include:websitewelcome.com include:relay.mailchannels.net ~all';
const LOCKDOWN = 'v=mc1 auth=newhostmc auth=hostgator';
const MC: Partial<MailSettings> = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } };
const HG_MX = ['gator4000.hostgator.com', 'gator4001.hostgator.com'];
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.subject ? ` [${f.subject}]` : ''} ${f.classification?.class ?? ''}: ${f.message}`).join('\n');

/** The panel's zone (served here, as the live DNS): MX `mx`, the SPF and lockdown records, plus `extra`. */
function records(mx: string[], extra: ZoneRecord[] = []): ZoneRecord[] {
  return [
    { name: D, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.', ref: 'ns1' },
    { name: D, ttl: 3600, type: 'NS', value: 'ns2.newhost.example.', ref: 'ns2' },
    { name: D, ttl: 3600, type: 'A', value: SERVER_IP, ref: 'a' },
    ...mx.map((h, i) => ({ name: D, ttl: 3600, type: 'MX', value: `${i * 10} ${h}.`, ref: `mx${i}` })),
    { name: D, ttl: 3600, type: 'TXT', value: SPF, txt: [SPF], ref: 'spf' },
    { name: `_mailchannels.${D}`, ttl: 3600, type: 'TXT', value: LOCKDOWN, txt: [LOCKDOWN], ref: 'mc' },
    ...extra,
  ];
}

/** Live DNS: the domain's MX (`'TIMEOUT'`: no answer) and nameservers (this server's unless given). */
function world(mx: string[] | 'TIMEOUT', more: ZoneMap = {}, ns = ['ns1.newhost.example', 'ns2.newhost.example']): ZoneMap {
  return {
    [D]: { NS: ns, A: [SERVER_IP], TXT: [[SPF]], MX: mx === 'TIMEOUT' ? 'TIMEOUT' : mx.map((exchange, i) => ({ priority: i * 10, exchange })) },
    [`_mailchannels.${D}`]: { TXT: [[LOCKDOWN]] },
    'websitewelcome.com': { TXT: [['v=spf1 ip4:192.185.0.0/16 ip4:108.167.128.0/18 ~all']] },
    'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ~all']] },
    'gator4000.hostgator.com': { A: ['192.185.4.100'] },
    'gator4001.hostgator.com': { A: ['192.185.4.101'] },
    'server1.newhost.example': { A: [SERVER_IP] },
    'ns1.newhost.example': { A: ['127.0.0.1'] },
    ...more,
  };
}

function ctxFor(mx: string[] | 'TIMEOUT', opts: { zoneMx?: string[]; extra?: ZoneRecord[]; more?: ZoneMap; ns?: string[]; routing?: MailSettings['routing'] } = {}) {
  const zone = records(opts.zoneMx ?? (mx === 'TIMEOUT' ? HG_MX : mx), opts.extra);
  return { ctx: checkContext(D, world(mx, opts.more, opts.ns), { ...MC, routing: opts.routing ?? 'local' }, zone), zone };
}

describe('routing local, the live MX at a hosting provider (HostGator): its SPF include and lockdown id are kept unless selected', () => {
  test('include:websitewelcome.com is unknown (not unanswered), naming the MX; the SPF check says so and the fix keeps it', async () => {
    const { ctx, zone } = ctxFor(HG_MX);
    const c = await ctx.classifier.spfTerm('include:websitewelcome.com');
    assert.equal(c.class, 'unknown', c.reason);
    assert.equal(isUnanswered(c), false);
    assert.equal(c.provider, 'hostgator');
    assert.match(c.reason, /x7\.example's live MX delivers its mail to HostGator \(EIG\) \(MX gator4000\.hostgator\.com, gator4001\.hostgator\.com\) while the panel delivers it on this server/);
    assert.match(c.reason, /if x7\.example's mailboxes are still at HostGator \(EIG\), mail sent from them uses it; if that MX is left from a previous host, point it at this server \(mx\.stale says how\)/);

    const spf = await spfCheck(ctx);
    assert.ok(!spf.some((f) => f.rule === 'spf.stale-term'), show(spf));
    assert.equal(spf.find((f) => f.subject === 'include:websitewelcome.com')?.rule, 'spf.unknown-term', show(spf));

    const plan = await planSpf(ctx, zone, {});
    assert.deepEqual(plan.changes, [], plan.notes.join('\n'));
    assert.ok(!plan.notes.some((n) => /websitewelcome/.test(n)), plan.notes.join('\n'));
    // The customer settles it: selected, it goes.
    const removed = await planSpf(ctx, zone, { removeTerms: ['include:websitewelcome.com'] });
    assert.equal(removed.changes.find((x) => x.after)?.after?.value, 'v=spf1 +a include:relay.mailchannels.net ~all', removed.notes.join('\n'));
  });

  // GoDaddy's include:dc-<random>._spfm.<domain> was one of these terms; it is GoDaddy's DNS-managed SPF now (godaddy-spfm,
  // a mail service: kept whatever the MX), no hosting provider's, so it left this loop.
  test("HostGator's other SPF terms too: mx (the MX hosts) and an address whose PTR is HostGator's", async () => {
    const { ctx } = ctxFor(HG_MX, { more: { '100.4.185.192.in-addr.arpa': { PTR: ['gator4000.hostgator.com'] } } });
    for (const term of ['mx', 'ip4:192.185.4.100']) {
      const c = await ctx.classifier.spfTerm(term);
      assert.equal(c.class, 'unknown', `${term}: ${c.reason}`);
      assert.match(c.reason, /live MX delivers its mail to HostGator \(EIG\)/, term);
    }
    // "-" fails HostGator's mail: not this server's either way, unknown too (the fix keeps it).
    assert.equal((await ctx.classifier.spfTerm('-include:websitewelcome.com')).class, 'unknown');
    // Another hosting provider is still a previous host's.
    assert.equal((await ctx.classifier.spfTerm('include:bluehost.com')).class, 'stale');
  });

  test('the MX hosts themselves stay a previous host\'s: mx.stale (fail) with both ways out, no routing-mismatch', async () => {
    const { ctx } = ctxFor(HG_MX);
    assert.equal((await ctx.classifier.host('gator4000.hostgator.com')).class, 'stale');
    const fs = await mxCheck(ctx);
    const stale = fs.filter((f) => f.rule === 'mx.stale');
    assert.deepEqual(stale.map((f) => `${f.severity} ${f.subject}`), ['fail gator4000.hostgator.com', 'fail gator4001.hostgator.com'], show(fs));
    assert.ok(!fs.some((f) => f.rule === 'mx.routing-mismatch'), show(fs));
    const m = stale[0].message;
    assert.match(m, /^MX gator4000\.hostgator\.com \(HostGator \(EIG\)\) is at a previous host, but this server delivers x7\.example's mail locally: incoming mail goes to the old host's mailboxes\./);
    // Way out 1: point the MX here — at a name the panel's zone points at this server (the domain itself here).
    assert.match(m, /If x7\.example's mailboxes are on this server, point the MX at this server \(for example MX 0 x7\.example: its A record in the panel's zone is this server's 203\.0\.113\.10\)/);
    // Way out 2: the mailboxes are still at HostGator.
    assert.match(m, /if they are still at HostGator \(EIG\), set the panel's mail routing for x7\.example to remote\./);
    assert.match(m, /Until one of these is done, the SPF, DKIM and lockdown fixes keep HostGator \(EIG\)'s SPF terms, DKIM selectors and MailChannels id, if the records have any, unless you select them\.$/);
  });

  test('auth=hostgator is unknown naming the MX: the lockdown check does not fail it, the fix keeps it', async () => {
    const { ctx, zone } = ctxFor(HG_MX);
    const c = await ctx.classifier.lockdownId('auth', 'hostgator');
    assert.equal(c.class, 'unknown', c.reason);
    assert.match(c.reason, /auth=hostgator names HostGator \(EIG\), where x7\.example's live MX delivers its mail \(MX gator4000\.hostgator\.com, gator4001\.hostgator\.com\)/);
    const fs = await lockdownCheck(ctx);
    assert.ok(!fs.some((f) => f.rule === 'lockdown.stale-auth'), show(fs));
    const plan = await planLockdown(ctx, zone);
    assert.deepEqual(plan.changes, [], plan.notes.join('\n'));
  });

  test("a hosting provider's DKIM selector (DreamHost's, with the live MX at DreamHost) is unknown, not a previous host's", async () => {
    const KEY = 'MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC2QYjS1lNpNE/eQCaCLH4ddx65dL7JpTQTzzA/1hD6i8PfcghMV+AqpQOt2Cj5CnMzak91BqgYcw/miB84dPRAaUBJyuczxP6B7hAdr6c7LFYonPhOkznOKgh47Y+qTejnQBFgPv76hFndc6AAXC9ch3YCvGJKs6avRJd9dWZbPQIDAQAB';
    const dh = ctxFor(['mx1.mail.dreamhost.com']).ctx;
    const c = await dh.classifier.dkimKey('dreamhost', KEY);
    assert.equal(c.class, 'unknown', c.reason);
    assert.match(c.reason, /selector dreamhost belongs to DreamHost.*live MX delivers its mail to DreamHost \(MX mx1\.mail\.dreamhost\.com\)/);
    // The live MX at HostGator: DreamHost's selector stays a previous host's.
    assert.equal((await ctxFor(HG_MX).ctx.classifier.dkimKey('dreamhost', KEY)).class, 'stale');
  });
});

describe('routing local: the live MX decides only when it answers', () => {
  test('the live MX lookup gets no answer: unknown (unanswered), never stale — the fix keeps the include and says why', async () => {
    const { ctx, zone } = ctxFor('TIMEOUT');
    const c = await ctx.classifier.spfTerm('include:websitewelcome.com');
    assert.equal(c.class, 'unknown', c.reason);
    assert.ok(isUnanswered(c), c.reason);
    assert.match(c.reason, /the MX lookup of x7\.example got no answer \(timeout\)/);
    const plan = await planSpf(ctx, zone, {});
    assert.ok(!plan.notes.some((n) => /^Drops include:websitewelcome/.test(n)), plan.notes.join('\n'));
    assert.match(plan.notes.join('\n'), /Keeps include:websitewelcome\.com: .*Preview the fix again when DNS answers/);
    const id = await ctx.classifier.lockdownId('auth', 'hostgator');
    assert.equal(id.class, 'unknown', id.reason);
    assert.ok(isUnanswered(id), id.reason);
  });

  test('the live MX at this server: HostGator is a previous host, as before — stale, and the SPF fix drops the include', async () => {
    const { ctx, zone } = ctxFor([`mail.${D}`], { extra: [{ name: `mail.${D}`, ttl: 3600, type: 'A', value: SERVER_IP }], more: { [`mail.${D}`]: { A: [SERVER_IP] } } });
    const c = await ctx.classifier.spfTerm('include:websitewelcome.com');
    assert.equal(c.class, 'stale', c.reason);
    const plan = await planSpf(ctx, zone, {});
    assert.ok(plan.notes.some((n) => /^Drops include:websitewelcome\.com: websitewelcome\.com belongs to HostGator \(EIG\), a hosting provider that is not this server\.$/.test(n)), plan.notes.join('\n'));
    assert.equal((await ctx.classifier.lockdownId('auth', 'hostgator')).class, 'stale');
    assert.ok(!(await mxCheck(ctx)).some((f) => f.rule === 'mx.stale'));
  });

  test('routing remote: the MX at HostGator is where the mail is delivered — kept, as before', async () => {
    const { ctx } = ctxFor(HG_MX, { routing: 'remote' });
    const c = await ctx.classifier.spfTerm('include:websitewelcome.com');
    assert.equal(c.class, 'keep', c.reason);
    assert.match(c.reason, /the panel routes its mail elsewhere/);
  });
});

describe('mx.stale (routing local): what to point the MX at', () => {
  test("mail.<domain> at the old host's address (x1.example): change its A record to this server's address", async () => {
    const d = 'x1.example';
    const zone: ZoneRecord[] = [
      { name: d, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.' },
      { name: d, ttl: 3600, type: 'A', value: SERVER_IP },
      { name: d, ttl: 3600, type: 'MX', value: `10 mail.${d}.` },
      { name: `mail.${d}`, ttl: 3600, type: 'A', value: '198.51.100.20' },
    ];
    const map: ZoneMap = {
      [d]: { NS: ['ns1.newhost.example'], A: [SERVER_IP], MX: [{ priority: 10, exchange: `mail.${d}` }] },
      [`mail.${d}`]: { A: ['198.51.100.20'] },
      '20.100.51.198.in-addr.arpa': { PTR: ['box123.bluehost.com'] },
    };
    const fs = await mxCheck(checkContext(d, map, {}, zone));
    const f = fs.find((x) => x.rule === 'mx.stale');
    assert.ok(f, show(fs));
    assert.equal(f.severity, 'fail');
    assert.equal(
      f.message,
      "MX mail.x1.example (198.51.100.20) is at a previous host, but this server delivers x1.example's mail locally: incoming mail goes to the old host's mailboxes. If x1.example's mailboxes are on this server, point mail.x1.example at this server: change its A record 198.51.100.20 to 203.0.113.10 in the panel's zone; if they are still at the previous host, set the panel's mail routing for x1.example to remote.",
    );
  });

  test("the same with Bluehost's include (the demo's dentist.example): the zone's own old record is the previous host's — the include and mx stay stale", async () => {
    const d = 'x1.example';
    const spf = 'v=spf1 a mx include:bluehost.com include:relay.mailchannels.net ?all';
    const zone: ZoneRecord[] = [
      { name: d, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.' },
      { name: d, ttl: 3600, type: 'A', value: SERVER_IP },
      { name: d, ttl: 3600, type: 'MX', value: `10 mail.${d}.` },
      { name: `mail.${d}`, ttl: 3600, type: 'A', value: '198.51.100.20' },
      { name: d, ttl: 3600, type: 'TXT', value: spf, txt: [spf] },
    ];
    const map: ZoneMap = {
      [d]: { NS: ['ns1.newhost.example'], A: [SERVER_IP], MX: [{ priority: 10, exchange: `mail.${d}` }], TXT: [[spf]] },
      [`mail.${d}`]: { A: ['198.51.100.20'] },
      '20.100.51.198.in-addr.arpa': { PTR: ['box123.bluehost.com'] },
      'bluehost.com': { TXT: [['v=spf1 ip4:69.89.16.0/20 ~all']] },
    };
    const c = checkContext(d, map, {}, zone).classifier;
    for (const term of ['include:bluehost.com', 'mx']) assert.equal((await c.spfTerm(term)).class, 'stale', term);
    // Not a record of the panel's zone (DNS served elsewhere): the address's PTR name says Bluehost — unknown.
    const elsewhere = checkContext(d, map, {}, zone.filter((r) => r.name !== `mail.${d}`)).classifier;
    const inc = await elsewhere.spfTerm('include:bluehost.com');
    assert.equal(inc.class, 'unknown', inc.reason);
    assert.match(inc.reason, /MX mail\.x1\.example → 198\.51\.100\.20 \(PTR box123\.bluehost\.com\)/);
  });

  test("the panel's zone names this server's MX while the live one (DNS served elsewhere) is HostGator's: that MX, and where to change it", async () => {
    const { ctx } = ctxFor(HG_MX, {
      zoneMx: [`mail.${D}`],
      extra: [{ name: `mail.${D}`, ttl: 3600, type: 'A', value: SERVER_IP }],
      more: { [`mail.${D}`]: { A: [SERVER_IP] } },
      ns: ['ns1.dnshost.example', 'ns2.dnshost.example'],
    });
    const f = (await mxCheck(ctx)).find((x) => x.rule === 'mx.stale');
    assert.ok(f);
    assert.match(f.message, /point the MX at this server \(as the panel's zone does: MX 0 mail\.x7\.example\) where x7\.example's DNS is served \(its live nameservers ns1\.dnshost\.example, ns2\.dnshost\.example are not this server's: see dns\.not-authoritative\); if they are still at HostGator \(EIG\)/);
  });

  test("mail.<domain> at the old address while the domain's DNS is served elsewhere: the record to change there, not in the panel's zone", async () => {
    const d = 'x1.example';
    const zone: ZoneRecord[] = [
      { name: d, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.' },
      { name: d, ttl: 3600, type: 'MX', value: `10 mail.${d}.` },
      { name: `mail.${d}`, ttl: 3600, type: 'A', value: '198.51.100.20' },
    ];
    const map: ZoneMap = {
      [d]: { NS: ['ns1.dnshost.example'], MX: [{ priority: 10, exchange: `mail.${d}` }] },
      [`mail.${d}`]: { A: ['198.51.100.20'] },
    };
    const f = (await mxCheck(checkContext(d, map, {}, zone))).find((x) => x.rule === 'mx.stale');
    assert.ok(f);
    assert.match(f.message, /point mail\.x1\.example at this server: change its A record 198\.51\.100\.20 to 203\.0\.113\.10 where x1\.example's DNS is served \(its live nameservers ns1\.dnshost\.example are not this server's: see dns\.not-authoritative\); if they are still at the previous host/);
  });

  test("no name of the domain points here in the panel's zone: this server's host name", async () => {
    const zone = records(HG_MX).filter((r) => r.type !== 'A');
    const f = (await mxCheck(checkContext(D, world(HG_MX), { ...MC }, zone))).find((x) => x.rule === 'mx.stale');
    assert.ok(f);
    assert.match(f.message, /point the MX at this server \(for example MX 0 server1\.newhost\.example, this server's host name\)/);
  });
});
