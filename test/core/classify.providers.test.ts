// Known providers judged against the current host (mail-auth.md §8: "decide staleness by comparing with the current
// host"), not by their kind alone:
// - a hosting company's mailbox product still in use (the panel routes the domain's mail elsewhere and its MX is at
//   that provider) is a service the customer uses: kept, and the SPF fix keeps it;
// - the provider this server's own host name / HELO belongs to is this server, never stale;
// - hosting providers' DKIM selectors are stale candidates, and a selector published as a CNAME is judged by the
//   provider of its target;
// - fingerprints of mail-auth.md §8 that need patterns (HubSpot hs1-<portal>, GoDaddy dc-<random>._spfm.<domain>).
// The hosting company with mailboxes in use was GoDaddy (gdmail.example); since the provider review GoDaddy's
// include:secureserver.net is a mail service (GoDaddy email, Microsoft 365 from GoDaddy: kept whatever the MX), so the
// example is now HostGator (hgmail.example: a hosting-only entry, mailboxes on its gator servers), and the
// dc-<random>._spfm. include is GoDaddy's DNS-managed SPF (godaddy-spfm, the customer's own senders: kept).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../src/core/checks/spf.js';
import { mxCheck } from '../../src/core/checks/mx.js';
import type { CheckContext } from '../../src/core/checks/context.js';
import type { MailSettings, ZoneRecord } from '../../src/core/model.js';
import { planSpf } from '../../src/core/plans/spf.js';
import type { ZoneMap } from '../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from './checks/context.js';

const KEY = 'MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC2QYjS1lNpNE/eQCaCLH4ddx65dL7JpTQTzzA/1hD6i8PfcghMV+AqpQOt2Cj5CnMzak91BqgYcw/miB84dPRAaUBJyuczxP6B7hAdr6c7LFYonPhOkznOKgh47Y+qTejnQBFgPv76hFndc6AAXC9ch3YCvGJKs6avRJd9dWZbPQIDAQAB';

/** hgmail.example (the reviewer's gdmail.example, moved to a hosting-only provider): website here, mailboxes still on
 * HostGator's shared servers. */
const HG = 'hgmail.example';
const HG_SPF = `v=spf1 include:websitewelcome.com ip4:${SERVER_IP} -all`;
const hgMx = [
  { priority: 0, exchange: 'gator4000.hostgator.com' },
  { priority: 10, exchange: 'gator4001.hostgator.com' },
];
const hgRecords: ZoneRecord[] = [
  { name: HG, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.' },
  { name: HG, ttl: 3600, type: 'A', value: SERVER_IP },
  { name: HG, ttl: 3600, type: 'MX', value: '0 gator4000.hostgator.com.' },
  { name: HG, ttl: 3600, type: 'MX', value: '10 gator4001.hostgator.com.' },
  { name: HG, ttl: 3600, type: 'TXT', value: HG_SPF, txt: [HG_SPF] },
];
const hgMap = (mx: ZoneMap[string]['MX'] = hgMx): ZoneMap =>
  ({
    [HG]: { A: [SERVER_IP], MX: mx, TXT: [[HG_SPF]] },
    'websitewelcome.com': { TXT: [['v=spf1 ip4:192.185.0.0/16 ~all']] },
    'gator4000.hostgator.com': { A: ['192.185.4.100'] },
    'gator4001.hostgator.com': { A: ['192.185.4.101'] },
  }) as ZoneMap;

function hg(routing: MailSettings['routing'], opts: { map?: ZoneMap; zone?: ZoneRecord[] | null } = {}): CheckContext {
  return checkContext(HG, opts.map ?? hgMap(), { routing }, opts.zone === undefined ? hgRecords : opts.zone);
}

describe('rule: a hosting company whose mailboxes the domain uses (routing remote, MX there) is kept', () => {
  test('hgmail.example: include:websitewelcome.com and the MX hosts are kept, with the delivery as the reason', async () => {
    const c = hg('remote').classifier;
    const inc = await c.spfTerm('include:websitewelcome.com');
    assert.equal(inc.class, 'keep', inc.reason);
    assert.equal(inc.provider, 'hostgator');
    assert.match(inc.reason, /hgmail\.example's mail is delivered/);
    assert.match(inc.reason, /gator4000\.hostgator\.com/);
    for (const h of ['gator4000.hostgator.com', 'gator4001.hostgator.com']) assert.equal((await c.host(h)).class, 'keep', h);
    assert.equal((await c.spfTerm('mx')).class, 'keep');
    // So is a report address at HostGator. (GoDaddy's dc-<random>._spfm. include, asserted here before, is no hosting
    // provider's any more: kept as godaddy-spfm, see the pattern fingerprints below.)
    assert.equal((await c.reportAddress('dmarc@reports.websitewelcome.com')).class, 'keep');
  });

  test('hgmail.example: the mx check reports no mx.stale and the SPF plan keeps the include', async () => {
    const ctx = hg('remote');
    const mx = await mxCheck(ctx);
    assert.ok(!mx.some((f) => f.rule === 'mx.stale'), JSON.stringify(mx.map((f) => f.rule)));
    assert.ok(mx.some((f) => f.rule === 'mx.ok'));
    assert.deepEqual(
      mx.filter((f) => f.rule === 'mx.host').map((f) => f.classification?.class),
      ['keep', 'keep'],
    );
    const spf = await spfCheck(ctx);
    assert.ok(!spf.some((f) => f.rule === 'spf.stale-term'), JSON.stringify(spf.map((f) => f.rule)));
    const plan = await planSpf(ctx, hgRecords, {});
    assert.deepEqual(plan.changes, [], JSON.stringify(plan));
    assert.ok(!plan.notes.some((n) => /websitewelcome/.test(n)), plan.notes.join('\n'));
  });

  test('the live MX decides when the panel has no copy of the zone', async () => {
    const inc = await hg('remote', { zone: null }).classifier.spfTerm('include:websitewelcome.com');
    assert.equal(inc.class, 'keep', inc.reason);
  });

  test("the panel's copy of the zone counts too (its MX may be the one in use)", async () => {
    const map = hgMap([{ priority: 10, exchange: 'mx.elsewhere.example' }]);
    const inc = await hg('remote', { map }).classifier.spfTerm('include:websitewelcome.com');
    assert.equal(inc.class, 'keep', inc.reason);
  });

  test('routing remote, MX lookup unanswered and no zone copy: unknown, never stale (DNS trouble is no reason to drop)', async () => {
    const map = { ...hgMap(), [HG]: { A: [SERVER_IP], MX: 'TIMEOUT', TXT: [[HG_SPF]] } } as ZoneMap;
    const inc = await hg('remote', { map, zone: null }).classifier.spfTerm('include:websitewelcome.com');
    assert.equal(inc.class, 'unknown', inc.reason);
    assert.match(inc.reason, /timeout/);
  });

  test('routing remote, MX at another provider: HostGator stays a previous host (stale)', async () => {
    const map = hgMap([{ priority: 1, exchange: 'aspmx.l.google.com' }]);
    const zone = hgRecords.filter((r) => r.type !== 'MX');
    const c = hg('remote', { map, zone }).classifier;
    assert.equal((await c.spfTerm('include:websitewelcome.com')).class, 'stale');
    assert.equal((await c.host('aspmx.l.google.com')).class, 'keep');
  });

  // Routing local: the MX at HostGator stays mx.stale (fail, with both ways out), but it may be where the mailboxes still
  // are (website moved, mail stayed): HostGator's include is unknown and kept unless selected (classify.ts liveMxAt).
  test('routing local: the same MX at HostGator is mx.stale fail; its include is unknown and the SPF fix keeps it', async () => {
    const ctx = hg('local');
    const inc = await ctx.classifier.spfTerm('include:websitewelcome.com');
    assert.equal(inc.class, 'unknown', inc.reason);
    assert.match(inc.reason, /live MX delivers its mail to HostGator \(EIG\) \(MX gator4000\.hostgator\.com, gator4001\.hostgator\.com\)/);
    const mx = await mxCheck(ctx);
    assert.deepEqual(
      mx.filter((f) => f.rule === 'mx.stale').map((f) => f.severity),
      ['fail', 'fail'],
    );
    const plan = await planSpf(ctx, hgRecords, {});
    assert.ok(!plan.notes.some((n) => /^Drops include:websitewelcome\.com/.test(n)), plan.notes.join('\n'));
    assert.deepEqual(plan.changes, [], plan.notes.join('\n'));
    // Selected for removal, it goes.
    const removed = await planSpf(ctx, hgRecords, { removeTerms: ['include:websitewelcome.com'] });
    assert.ok(removed.notes.some((n) => /^Removes include:websitewelcome\.com \(you selected it\)/.test(n)), removed.notes.join('\n'));
  });

  test('Namecheap Private Email: stale candidate (mail-auth.md §8.1), kept while the mail is delivered there', async () => {
    const d = 'pe.example';
    const map = {
      [d]: { MX: [{ priority: 10, exchange: 'mx1.privateemail.com' }] },
      'spf.privateemail.com': { TXT: [['v=spf1 ip4:198.54.122.0/24 ~all']] },
    } as ZoneMap;
    const remote = await checkContext(d, map, { routing: 'remote' }).classifier.spfTerm('include:spf.privateemail.com');
    assert.equal(remote.class, 'keep', remote.reason);
    assert.equal(remote.provider, 'namecheap-privateemail');
    assert.match(remote.reason, /mail is delivered/);
    const local = await checkContext(d, { ...map, [d]: { MX: [{ priority: 10, exchange: `mail.${d}` }] } } as ZoneMap).classifier.spfTerm('include:spf.privateemail.com');
    assert.equal(local.class, 'stale', local.reason);
  });

  test('DKIM: a hosting provider the mail is delivered to keeps its selectors and CNAME targets', async () => {
    const d = 'ionosmail.example';
    const c = checkContext(d, { [d]: { MX: [{ priority: 10, exchange: 'mx00.ionos.com' }] } } as ZoneMap, { routing: 'remote' }).classifier;
    const sel = await c.dkimKey('s1-ionos', KEY);
    assert.equal(sel.class, 'keep', sel.reason);
    assert.match(sel.reason, /mail is delivered/);
    assert.equal((await c.dkimKey('s1', KEY, ['s1.dkim.ionos.com'])).class, 'keep');
  });
});

describe("rule: the provider of this server's own host name is this host", () => {
  const serverAt = (hostname: string, map: ZoneMap = {}) => checkContext('customer.example', map, { hostname, helo: hostname }).classifier;

  test('server gator4100.hostgator.com: include:websitewelcome.com (HostGator) is this server, not stale', async () => {
    const c = serverAt('gator4100.hostgator.com', { 'websitewelcome.com': { TXT: [['v=spf1 ip4:192.185.0.0/16 ~all']] } } as ZoneMap);
    const inc = await c.spfTerm('include:websitewelcome.com');
    assert.equal(inc.class, 'this-server', inc.reason);
    assert.equal(inc.provider, 'hostgator');
    assert.match(inc.reason, /gator4100\.hostgator\.com/);
    // Another hosting provider is still a previous host.
    assert.equal((await c.spfTerm('include:bluehost.com')).class, 'stale');
  });

  test('server on web-hosting.com (Namecheap): MX mx1-hosting.jellyfish.systems is this server', async () => {
    const c = serverAt('server123.web-hosting.com');
    assert.equal((await c.host('mx1-hosting.jellyfish.systems')).class, 'this-server');
    assert.equal((await c.spfTerm('include:spf.web-hosting.com')).class, 'this-server');
  });

  test('server on OVH: include:mx.ovh.com is this server; a DKIM selector of its provider too', async () => {
    assert.equal((await serverAt('vps-1a2b3c4d.vps.ovh.net').spfTerm('include:mx.ovh.com')).class, 'this-server');
    assert.equal((await serverAt('vps1.dreamhost.com').dkimKey('dreamhost', KEY)).class, 'this-server');
  });

  test("an IP whose PTR is at this server's provider is not this server, but no previous host either (unknown)", async () => {
    const c = serverAt('gator4100.hostgator.com', { '10.1.185.192.in-addr.arpa': { PTR: ['gator4000.websitewelcome.com'] } } as ZoneMap);
    const ip = await c.ip('192.185.1.10');
    assert.equal(ip.class, 'unknown', ip.reason);
  });

  test("the zone's old nameservers at this server's provider are no trace of a previous host", async () => {
    const records: ZoneRecord[] = [{ name: 'customer.example', ttl: 300, type: 'NS', value: 'ns1.websitewelcome.com.' }];
    const ctx = checkContext('customer.example', {}, { hostname: 'gator4100.hostgator.com', helo: 'gator4100.hostgator.com' }, records);
    const h = await ctx.classifier.host('box.websitewelcome.com');
    assert.notEqual(h.class, 'stale', h.reason);
  });

  test('the SPF check reports no stale term for the include of its own provider', async () => {
    const map = {
      'customer.example': { TXT: [['v=spf1 +a +mx include:websitewelcome.com ~all']], A: [SERVER_IP], MX: [{ priority: 0, exchange: 'customer.example' }] },
      'websitewelcome.com': { TXT: [['v=spf1 ip4:192.185.0.0/16 ~all']] },
    } as ZoneMap;
    const ctx = checkContext('customer.example', map, { hostname: 'gator4100.hostgator.com', helo: 'gator4100.hostgator.com' });
    assert.ok(!(await spfCheck(ctx)).some((f) => f.rule === 'spf.stale-term'));
  });
});

describe('DKIM selectors of hosting providers, CNAME targets, and pattern fingerprints', () => {
  const c = checkContext('customer.example', {}).classifier;

  for (const sel of ['dreamhost', 's1-ionos', 's2-ionos']) {
    test(`${sel}: a hosting provider's selector, not this server: stale`, async () => {
      const k = await c.dkimKey(sel, KEY);
      assert.equal(k.class, 'stale', k.reason);
      assert.ok(k.provider === 'dreamhost' || k.provider === 'ionos', k.provider);
    });
  }

  test('s1 CNAME → s1.dkim.ionos.com is IONOS (stale), not SendGrid; s1 → SendGrid target or no CNAME stays SendGrid (keep)', async () => {
    const ionos = await c.dkimKey('s1', KEY, ['s1.dkim.ionos.com']);
    assert.equal(ionos.class, 'stale', ionos.reason);
    assert.equal(ionos.provider, 'ionos');
    assert.match(ionos.reason, /s1\.dkim\.ionos\.com/);
    const sg = await c.dkimKey('s1', KEY, ['s1.domainkey.u1234.wl.sendgrid.net']);
    assert.equal(sg.class, 'keep');
    assert.equal(sg.provider, 'sendgrid');
    assert.equal((await c.dkimKey('s1', KEY)).provider, 'sendgrid');
    // A target no provider is known for: the selector's name decides.
    assert.equal((await c.dkimKey('s1', KEY, ['key.unknown.example'])).provider, 'sendgrid');
  });

  test('HubSpot hs1-<portal>, hs2-<portal>: kept as HubSpot', async () => {
    for (const sel of ['hs1-4242424', 'hs2-4242424']) {
      const k = await c.dkimKey(sel, KEY);
      assert.equal(k.class, 'keep', `${sel}: ${k.reason}`);
      assert.equal(k.provider, 'hubspot');
    }
    assert.equal((await c.dkimKey('hs3-4242424', KEY)).class, 'unknown');
  });

  // Was "GoDaddy, a stale candidate": since the provider review it is GoDaddy's DNS-managed SPF, holding the customer's
  // own senders (a mail service), kept even with routing local and no MX at GoDaddy.
  test("GoDaddy's include:dc-<random>._spfm.<domain>: GoDaddy's DNS-managed SPF (godaddy-spfm), kept (routing local)", async () => {
    const k = await c.spfTerm('include:dc-aa1b2c3d4e._spfm.customer.example');
    assert.equal(k.class, 'keep', k.reason);
    assert.equal(k.provider, 'godaddy-spfm');
  });
});
