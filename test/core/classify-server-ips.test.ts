// Classifier defects QA reproduced on a files panel (/tmp/qa-mig):
//  1. An address the zone's mail.<domain> names that the panel does not list among the domain's outbound IPs (a
//     dedicated IP the domain does not send from, or the main IP while the domain sends from a dedicated one) was a
//     "trace of the previous host" with no look at whose it is: FAIL mx.stale, and the SPF fix dropped `a` and `mx` —
//     this server's own terms. An address of this server's host name / HELO is this server; one whose PTR name is in
//     this server's own network is not a previous host's (another address of this server or another machine there).
//     A genuinely foreign mail.<domain> stays the previous host's.
//  2. Mail routed elsewhere and kept at the old host through mail.<domain> (MX mail.<domain> → a HostGator server):
//     the MX was "likely the customer's current mail server", yet include:websitewelcome.com (HostGator) was "a
//     previous host's" and the SPF fix dropped it — while the MX spelled as the HostGator name kept it. The provider
//     an MX host's address belongs to by its PTR name is where the mail is delivered, as one its name belongs to.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makePlan } from '../../src/core/plans/index.js';
import { isUnanswered } from '../../src/core/classify.js';
import { planSpf } from '../../src/core/plans/spf.js';
import type { Plan } from '../../src/core/plans/plan.js';
import type { DomainAudit, Finding, ZoneRecord } from '../../src/core/model.js';
import type { ZoneMap } from '../helpers/map-resolver.js';
import { MAILCHANNELS, scenario, zoneText, type Scenario } from '../helpers/scenario.js';
import { checkContext, SERVER_IP } from './checks/context.js';
import { mxCheck } from '../../src/core/checks/mx.js';
import { spfCheck } from '../../src/core/checks/spf.js';

const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.subject ? ` [${f.subject}]` : ''} ${f.classification?.class ?? ''}: ${f.message}`).join('\n');
const of = (a: DomainAudit, check: string) => a.findings.filter((f) => f.check === check);
const termClass = (a: DomainAudit, term: string) => a.findings.find((f) => f.check === 'spf' && f.subject === term)?.classification?.class;
/** The apex SPF record the plan leaves (its "after"), or the record as it is when the plan changes nothing. */
const spfAfter = (p: Plan, now: string): string => {
  const c = p.changes.find((x) => x.type === 'TXT' && x.after && /^v=spf1/i.test((x.after.txt ?? [x.after.value]).join('')));
  return c?.after ? (c.after.txt ?? [c.after.value]).join('') : now;
};
const planText = (p: Plan) => `blocked: ${p.blocked ?? '-'}\nchanges: ${JSON.stringify(p.changes.map((c) => [c.action, c.name, c.after?.value]))}\n${p.notes.join('\n')}`;

/** zoneText with the apex A at `apex` (zoneText always writes this server's main IP there). */
const withApex = (text: string, apex: string) => text.replace('@\tIN\tA\t203.0.113.10', `@\tIN\tA\t${apex}`);

describe("defect 1: mail.<domain> at an address this server holds but the panel does not list as the domain's outbound IP", () => {
  const SPF = 'v=spf1 a mx include:relay.mailchannels.net -all';
  let s: Scenario;
  before(async () => {
    s = await scenario({
      server: { relay: MAILCHANNELS },
      domains: {
        // A dedicated IP (PTR in this server's organisation, not its host name's address); the domain sends from the
        // main IP (the cPanel adapter gives the outbound IP only).
        'dedip.example': { zone: withApex(zoneText({ mailA: '203.0.113.20', spf: `"${SPF}"` }), '203.0.113.20') },
        // The domain sends from a dedicated IP; mail.<domain> and the apex at the main IP (this server's host name's).
        'dedi2.example': { zone: zoneText({ spf: `"${SPF}"` }), overrides: { ips: ['198.51.100.9'] } },
        // Unchanged: mail.<domain> at the old Bluehost IP is the previous host's.
        'oldip.example': { zone: zoneText({ mailA: '198.51.100.20', spf: `"${SPF}"` }) },
      },
      world: [
        '20.113.0.203.in-addr.arpa. PTR ded20.newhost.example.',
        'ded20.newhost.example. A 203.0.113.20',
        '20.100.51.198.in-addr.arpa. PTR box123.bluehost.com.',
      ].join('\n') + '\n',
    });
  });
  after(() => s.cleanup());
  const plan = (domain: string) => makePlan({ domain, check: 'spf' }, { panel: s.panel, resolver: s.resolver });

  test('dedip.example (dedicated IP, PTR ded20.newhost.example): no mx.stale, `a` and `mx` not a previous host\'s, the SPF fix keeps them', async () => {
    const a = await s.audit('dedip.example');
    const mx = of(a, 'mx');
    assert.ok(!mx.some((f) => f.rule === 'mx.stale'), show(mx));
    const host = mx.find((f) => f.rule === 'mx.host' && f.subject === 'mail.dedip.example');
    assert.ok(host, show(mx));
    assert.notEqual(host.classification?.class, 'stale', show(mx));
    assert.match(host.classification?.reason ?? '', /203\.0\.113\.20/);
    assert.ok(!mx.some((f) => /previous host|old host/.test(f.message)), show(mx));
    const spf = of(a, 'spf');
    assert.ok(!spf.some((f) => f.rule === 'spf.stale-term'), show(spf));
    for (const t of ['a', 'mx']) assert.ok(['this-server', 'unknown'].includes(termClass(a, t) ?? ''), `${t}\n${show(spf)}`);
    const p = await plan('dedip.example');
    assert.ok(!p.notes.some((n) => /^Drops (a|mx)\b/.test(n)), planText(p));
    assert.match(spfAfter(p, SPF), /^v=spf1 a mx /, planText(p));
  });

  test("dedi2.example (sends from 198.51.100.9; mail.<domain> at the main IP, this server's host name's address): this server — mx.ok, `a` and `mx` this server's, the SPF fix keeps them", async () => {
    const a = await s.audit('dedi2.example');
    const mx = of(a, 'mx');
    assert.ok(!mx.some((f) => f.rule === 'mx.stale' || f.rule === 'mx.routing-mismatch'), show(mx));
    assert.equal(mx.find((f) => f.rule === 'mx.host')?.classification?.class, 'this-server', show(mx));
    assert.ok(mx.some((f) => f.rule === 'mx.ok'), show(mx));
    assert.equal(termClass(a, 'a'), 'this-server', show(of(a, 'spf')));
    assert.equal(termClass(a, 'mx'), 'this-server', show(of(a, 'spf')));
    const p = await plan('dedi2.example');
    assert.ok(!p.notes.some((n) => /^Drops (a|mx)\b/.test(n)), planText(p));
    assert.match(spfAfter(p, SPF), /^v=spf1 a mx /, planText(p));
  });

  test('oldip.example (mail.<domain> at the old Bluehost IP): still mx.stale, and the SPF fix drops `mx` (unchanged)', async () => {
    const a = await s.audit('oldip.example');
    const stale = of(a, 'mx').find((f) => f.rule === 'mx.stale');
    assert.ok(stale && stale.severity === 'fail', show(of(a, 'mx')));
    assert.equal(termClass(a, 'mx'), 'stale', show(of(a, 'spf')));
    const p = await plan('oldip.example');
    assert.ok(p.notes.some((n) => /^Drops mx\b/.test(n)), planText(p));
  });
});

describe('defect 1: the trace address judged by what the classifier knows of this server (unit, MapResolver)', () => {
  const D = 'shop.example';
  const zone = (mailA: string[]): ZoneRecord[] => [
    { name: D, ttl: 300, type: 'NS', value: 'ns1.newhost.example' },
    { name: D, ttl: 300, type: 'MX', value: `10 mail.${D}` },
    ...mailA.map((ip) => ({ name: `mail.${D}`, ttl: 300, type: 'A', value: ip })),
  ];
  const world = (mailA: string[], extra: ZoneMap = {}): ZoneMap => ({
    [D]: { NS: ['ns1.newhost.example'], MX: [{ priority: 10, exchange: `mail.${D}` }], A: mailA },
    [`mail.${D}`]: { A: mailA },
    'server1.newhost.example': { A: [SERVER_IP] },
    'mailout.newhost.example': { A: ['203.0.113.11'] },
    ...extra,
  });

  test("the HELO name's address (no PTR at all): this server — the MX, `mx` and `a`", async () => {
    const ctx = checkContext(D, world(['203.0.113.11']), { helo: 'mailout.newhost.example', ips: ['198.51.100.9'] }, zone(['203.0.113.11']));
    for (const t of ['mx', 'a']) assert.equal((await ctx.classifier.spfTerm(t)).class, 'this-server', t);
    const ip = await ctx.classifier.ip('203.0.113.11');
    assert.equal(ip.class, 'this-server', ip.reason);
    assert.match(ip.reason, /mailout\.newhost\.example/);
    const fs = await mxCheck(ctx);
    assert.ok(fs.some((f) => f.rule === 'mx.ok') && !fs.some((f) => f.rule === 'mx.stale'), show(fs));
  });

  test("a PTR at this server's knowledge provider (server gator4100.hostgator.com, mail.<domain> at another HostGator machine): not stale", async () => {
    const map = world(['192.0.2.41'], { '41.2.0.192.in-addr.arpa': { PTR: ['gator4000.hostgator.com'] }, 'gator4100.hostgator.com': { A: ['192.0.2.100'] } });
    const ctx = checkContext(D, map, { hostname: 'gator4100.hostgator.com', helo: 'gator4100.hostgator.com', ips: ['192.0.2.100'] }, zone(['192.0.2.41']));
    for (const t of ['mx', 'a', 'ip4:192.0.2.41']) assert.notEqual((await ctx.classifier.spfTerm(t)).class, 'stale', t);
    const fs = await mxCheck(ctx);
    assert.ok(!fs.some((f) => f.rule === 'mx.stale'), show(fs));
  });

  test("this server's address beside a genuinely old one in mail.<domain>: the host is this server's (the SPF fix keeps `mx`), the old address stays stale", async () => {
    const map = world(['203.0.113.11', '198.51.100.20'], { '20.100.51.198.in-addr.arpa': { PTR: ['box20.bluehost.com'] } });
    const ctx = checkContext(D, map, { helo: 'mailout.newhost.example', ips: ['198.51.100.9'] }, zone(['198.51.100.20', '203.0.113.11']));
    assert.equal((await ctx.classifier.spfTerm('mx')).class, 'this-server');
    assert.equal((await ctx.classifier.ip('198.51.100.20')).class, 'stale');
  });

  test('the PTR lookup of the trace address times out: unknown (no answer), never stale', async () => {
    const map = world(['203.0.113.20'], { '20.113.0.203.in-addr.arpa': { PTR: 'TIMEOUT' } });
    const ctx = checkContext(D, map, {}, zone(['203.0.113.20']));
    const c = await ctx.classifier.spfTerm('mx');
    assert.equal(c.class, 'unknown', c.reason);
    const fs = await mxCheck(ctx);
    assert.ok(!fs.some((f) => f.rule === 'mx.stale'), show(fs));
    assert.ok(fs.some((f) => f.rule === 'mx.dns-error'), show(fs));
  });

  test("no trace in the zone: the host name's addresses are never asked (no extra question in the common case)", async () => {
    const ctx = checkContext(D, world([SERVER_IP]), {}, zone([SERVER_IP]));
    await spfCheck(ctx);
    await mxCheck(ctx);
    const log = (ctx.resolver as unknown as { log: string[] }).log;
    assert.ok(!log.includes('server1.newhost.example A'), log.join('\n'));
  });

  test("a trace address: this server's host name's addresses are asked once for the domain (not per term or check)", async () => {
    const map = world(['198.51.100.20', '198.51.100.21'], { '20.100.51.198.in-addr.arpa': { PTR: ['box20.bluehost.com'] } });
    const ctx = checkContext(D, map, {}, zone(['198.51.100.20', '198.51.100.21']));
    await spfCheck(ctx);
    await mxCheck(ctx);
    for (const t of ['a', 'mx', 'ip4:198.51.100.21']) await ctx.classifier.spfTerm(t);
    const log = (ctx.resolver as unknown as { log: string[] }).log;
    assert.equal(log.filter((l) => l === 'server1.newhost.example A').length, 1, log.join('\n'));
    assert.ok(!log.includes('server1.newhost.example AAAA'), 'only the family of the address');
  });
});

describe('defect 2: mail kept at the old host through mail.<domain> (routing remote)', () => {
  let s: Scenario;
  const SPF = 'v=spf1 a mx include:websitewelcome.com ~all';
  before(async () => {
    s = await scenario({
      server: { relay: MAILCHANNELS },
      domains: {
        'oldmx.example': { zone: zoneText({ mx: ['0 mail'], mailA: '192.185.1.11', spf: `"${SPF}"` }), overrides: { mailRouting: 'remote' } },
        'oldmx2.example': { zone: zoneText({ mx: ['0 gator4001.hostgator.com.'], mailA: '192.185.1.11', spf: `"${SPF}"` }), overrides: { mailRouting: 'remote' } },
      },
      world: ['11.1.185.192.in-addr.arpa. PTR gator4001.hostgator.com.', 'gator4001.hostgator.com. A 192.185.1.11'].join('\n') + '\n',
    });
  });
  after(() => s.cleanup());

  for (const [domain, mx] of [
    ['oldmx.example', 'mail.oldmx.example'],
    ['oldmx2.example', 'gator4001.hostgator.com'],
  ] as const) {
    test(`${domain} (MX ${mx}): include:websitewelcome.com is where the mail is delivered — kept by the audit and the SPF fix`, async () => {
      const a = await s.audit(domain);
      assert.equal(of(a, 'mx').find((f) => f.rule === 'mx.host')?.classification?.class, 'keep', show(of(a, 'mx')));
      const spf = of(a, 'spf');
      const inc = spf.find((f) => f.subject === 'include:websitewelcome.com');
      assert.equal(inc?.classification?.class, 'keep', show(spf));
      assert.match(inc.classification.reason, /where oldmx2?\.example's mail is delivered/);
      assert.match(inc.classification.reason, /gator4001\.hostgator\.com/, 'the evidence names the HostGator server');
      assert.ok(!spf.some((f) => f.rule === 'spf.stale-term'), show(spf));
      const p = await makePlan({ domain, check: 'spf' }, { panel: s.panel, resolver: s.resolver });
      assert.ok(!p.notes.some((n) => n.startsWith('Drops include:websitewelcome.com')), planText(p));
      assert.match(spfAfter(p, SPF), /include:websitewelcome\.com/, planText(p));
    });
  }
});

describe('defect 2: the delivery provider by PTR name (unit, MapResolver)', () => {
  const D = 'shop.example';
  const records = (mx: string[]): ZoneRecord[] => [
    { name: D, ttl: 300, type: 'NS', value: 'ns1.newhost.example' },
    ...mx.map((h, i) => ({ name: D, ttl: 300, type: 'MX', value: `${i} ${h}` })),
  ];
  const map = (mx: string[], extra: ZoneMap): ZoneMap => ({ [D]: { MX: mx.map((h, i) => ({ priority: i, exchange: h })) }, ...extra });

  // Routing local (the panel delivers the mail here): the live MX still counts — at HostGator by its address's PTR name,
  // it may be the mailboxes left there (website moved, mail stayed), so HostGator's include is unknown, not stale
  // (classify.ts liveMxAt; test/core/classify.live-mx-local.test.ts). An MX at this server asks no PTR and leaves it stale.
  test('routing local: an MX host whose address has a HostGator PTR leaves a HostGator include unknown (kept unless selected)', async () => {
    const mx = ['mx.shop.example'];
    const ctx = checkContext(D, map(mx, { 'mx.shop.example': { A: ['192.185.1.11'] }, '11.1.185.192.in-addr.arpa': { PTR: ['gator4001.hostgator.com'] } }), {}, records(mx));
    const c = await ctx.classifier.spfTerm('include:websitewelcome.com');
    assert.equal(c.class, 'unknown', c.reason);
    assert.equal(isUnanswered(c), false);
    assert.match(c.reason, /shop\.example's live MX delivers its mail to HostGator \(EIG\) \(MX mx\.shop\.example → 192\.185\.1\.11 \(PTR gator4001\.hostgator\.com\)\)/);
  });

  test('routing local, the MX at this server: a hosting include stays a previous host\'s, and no PTR is asked', async () => {
    const mx = ['mail.shop.example'];
    const ctx = checkContext(D, map(mx, { 'mail.shop.example': { A: [SERVER_IP] } }), {}, records(mx));
    assert.equal((await ctx.classifier.spfTerm('include:websitewelcome.com')).class, 'stale');
    const log = (ctx.resolver as unknown as { log: string[] }).log;
    assert.ok(!log.some((q) => q.endsWith(' PTR')), log.join('\n'));
  });

  test('routing remote, the PTR lookup of the MX address times out: unknown (not a previous host\'s)', async () => {
    const mx = ['mx.shop.example'];
    const ctx = checkContext(D, map(mx, { 'mx.shop.example': { A: ['192.185.1.11'] }, '11.1.185.192.in-addr.arpa': { PTR: 'TIMEOUT' } }), { routing: 'remote' }, records(mx));
    const c = await ctx.classifier.spfTerm('include:websitewelcome.com');
    assert.equal(c.class, 'unknown', c.reason);
    assert.match(c.reason, /PTR/);
    // Review: marked as "DNS did not answer" (nothing concluded), and the SPF fix says it kept the term for that.
    assert.ok(isUnanswered(c));
    const spf = 'v=spf1 include:websitewelcome.com ~all';
    const withSpf = map(mx, { 'mx.shop.example': { A: ['192.185.1.11'] }, '11.1.185.192.in-addr.arpa': { PTR: 'TIMEOUT' }, 'websitewelcome.com': { TXT: [['v=spf1 ip4:192.0.2.9 -all']] } });
    withSpf[D].TXT = [[spf]];
    const zone = [...records(mx), { name: D, ttl: 300, type: 'TXT', value: spf, txt: [spf], ref: 'spf' }];
    const plan = await planSpf(checkContext(D, withSpf, { routing: 'remote' }, zone), zone, {});
    assert.match(plan.notes.join('\n'), /Keeps include:websitewelcome\.com: .*Preview the fix again when DNS answers/, plan.notes.join('\n'));
  });

  test('routing remote, an MX address with a PTR of no known provider: a hosting include stays a previous host\'s', async () => {
    const mx = ['mx.shop.example'];
    const ctx = checkContext(D, map(mx, { 'mx.shop.example': { A: ['198.51.100.30'] }, '30.100.51.198.in-addr.arpa': { PTR: ['mx30.isp.example'] } }), { routing: 'remote' }, records(mx));
    assert.equal((await ctx.classifier.spfTerm('include:websitewelcome.com')).class, 'stale');
  });

  test('routing remote: the questions are bounded (4 MX hosts without a provider name, 2 addresses each)', async () => {
    const mx = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'].map((h) => `${h}.shop.example`);
    const extra: ZoneMap = {};
    for (const [i, h] of mx.entries()) extra[h] = { A: [`198.51.100.${i * 3 + 1}`, `198.51.100.${i * 3 + 2}`, `198.51.100.${i * 3 + 3}`] };
    const ctx = checkContext(D, map(mx, extra), { routing: 'remote' }, records(mx));
    await ctx.classifier.spfTerm('include:websitewelcome.com');
    const log = (ctx.resolver as unknown as { log: string[] }).log;
    assert.equal(log.filter((l) => l.endsWith(' PTR')).length, 8, log.join('\n'));
    assert.equal(log.filter((l) => / (A|AAAA)$/.test(l)).length, 4, log.join('\n'));
  });
});

describe('review: a PTR in this server network, named or generic, is weak evidence — unknown, never stale or this server', () => {
  const D = 'moved.example';
  test("a generic PTR under the server's own org (one provider's address pool): unknown, not stale — and not this server either", async () => {
    // static.….clients.your-server.de is the name Hetzner gives any address it hands out: this server's other address
    // (a dedicated IP the domain does not send from) or another customer's machine (the server the customer left):
    // a PTR cannot tell, so nothing is concluded — no mx.stale fail, and `mx` stays selectable for removal.
    const host = 'static.10.113.0.203.clients.your-server.de';
    const spf = 'v=spf1 mx ip4:203.0.113.10 ~all';
    const map: ZoneMap = {
      [D]: { MX: [{ priority: 10, exchange: `mail.${D}` }], TXT: [[spf]], A: ['203.0.113.10'] },
      [`mail.${D}`]: { A: ['198.51.100.5'] },
      '5.100.51.198.in-addr.arpa': { PTR: ['static.5.100.51.198.clients.your-server.de'] },
      [host]: { A: ['203.0.113.10'] },
    };
    const zone: ZoneRecord[] = [
      { name: D, ttl: 3600, type: 'MX', value: `10 mail.${D}.` },
      { name: `mail.${D}`, ttl: 3600, type: 'A', value: '198.51.100.5' },
      { name: D, ttl: 3600, type: 'TXT', value: spf, txt: [spf], ref: 'spf' },
    ];
    const ctx = () => checkContext(D, map, { hostname: host, helo: host }, zone);
    const c = await ctx().classifier.spfTerm('mx');
    assert.equal(c.class, 'unknown', c.reason);
    const ip = await ctx().classifier.ip('198.51.100.5');
    assert.equal(ip.class, 'unknown', ip.reason);
    assert.match(ip.reason, /pool \(generic PTR static\.5\.100\.51\.198\.clients\.your-server\.de\)/);
    const fs = await mxCheck(ctx());
    assert.ok(!fs.some((f) => f.rule === 'mx.stale'), show(fs));
  });

  test('a host at a named address of the server network is unknown, not this server: the customer can still select it for removal', async () => {
    const map: ZoneMap = {
      [D]: { A: ['203.0.113.10'] },
      'mail.elsewhere.example': { A: ['203.0.113.77'] },
      '77.113.0.203.in-addr.arpa': { PTR: ['box2.newhost.example'] },
      'server1.newhost.example': { A: [SERVER_IP] },
    };
    const ctx = checkContext(D, map, {}, [{ name: D, ttl: 300, type: 'A', value: '203.0.113.10' }]);
    // A name of its own whose address has a PTR at this server's company: this server's other address, or that company's
    // other machine (the server the customer moved from) — a PTR cannot tell.
    const c = await ctx.classifier.spfTerm('a:mail.elsewhere.example');
    assert.equal(c.class, 'unknown', c.reason);
    assert.match(c.reason, /another address of this server or another machine there/);
  });
});
