// The SPF check and fix for a relayed server whose record has, before the relay's include, a term with macros that
// receivers cannot evaluate for the relay's addresses: `include:%{ir}._spf.other.example` whose name for the relay's
// address does not exist or publishes no SPF record is a permanent error there (RFC 7208 §5.2), so receivers (pyspf,
// Mail::SPF: test/e2e/spf-voids-oracles.test.ts) return permerror for the relay's mail before they reach its include.
// permerrorBefore judges only terms without macros, and relayPastVoids ran check_host for the relay's addresses but
// kept only a void-limit permerror: the audit said spf.ok. A DNS failure there is unknown, never fail. The fix puts
// the relay's include before the term and keeps the term (it may be a mail service the domain sends through); a
// server that sends itself gets its IP before it (check_host already failed it, but its plan was blocked while the
// finding offered the fix).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import { checkHost } from '../../../src/core/spf/evaluate.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from './context.js';

const D = 'relaymacro.example';
const RELAY = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;
const MACRO = 'include:%{ir}._spf.other.example';
/** The sender the list publishes a record for (its own), and addresses of the relay's (not the first of a range). */
const LISTED = '198.51.100.77';
const RELAY_SENDERS = ['23.83.215.250', '205.201.140.9'];
const rev = (ip: string) => ip.split('.').reverse().join('.');

function world(spf: string, more: ZoneMap = {}): ZoneMap {
  return {
    [D]: { TXT: [[spf]], A: [SERVER_IP], MX: [{ priority: 10, exchange: `mail.${D}` }] },
    [`mail.${D}`]: { A: [SERVER_IP] },
    'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ip4:205.201.128.0/20 ~all']] },
    [`${rev(LISTED)}._spf.other.example`]: { TXT: [[`v=spf1 ip4:${LISTED} -all`]] },
    ...more,
  };
}

function setup(spf: string, settings: Partial<MailSettings> = RELAY, more: ZoneMap = {}) {
  const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'TXT', value: spf, txt: [spf], ref: 'spf' }];
  return { ctx: checkContext(D, world(spf, more), settings, zone), zone };
}

/** What receivers answer for `ip` with `record` published (this project's check_host, as the judges do). */
const receivers = async (record: string, ip: string, more: ZoneMap = {}) => (await checkHost(ip, D, `postmaster@${D}`, 'server1.newhost.example', new MapResolver(world(record, more)))).result;

const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''} [${f.subject ?? ''}]: ${f.message}`).join('\n');
const notAuthorised = (fs: Finding[]) => fs.find((f) => f.rule === 'spf.server-not-authorized');

async function planned(spf: string, settings: Partial<MailSettings> = RELAY, more: ZoneMap = {}) {
  const { ctx, zone } = setup(spf, settings, more);
  const p = await planSpf(ctx, zone, {});
  return { p, after: p.changes.find((c) => c.after)?.after?.value ?? null };
}

describe("spf: a term with macros before the relay's include, whose name for the relay's addresses has no SPF record", () => {
  for (const [why, more] of [
    ['does not exist', {}],
    ['exists without an SPF record', Object.fromEntries(['23.83.208.0', '205.201.128.0'].map((ip) => [`${rev(ip)}._spf.other.example`, { TXT: [['google-site-verification=abc']], A: ['127.0.0.2'] }]))],
  ] as [string, ZoneMap][]) {
    test(`the name ${why}: spf.server-not-authorized naming the term, with the fix, not spf.ok`, async () => {
      const spf = `v=spf1 ${MACRO} include:relay.mailchannels.net ~all`;
      for (const ip of RELAY_SENDERS) assert.equal(await receivers(spf, ip, more), 'permerror', ip);
      const { ctx } = setup(spf, RELAY, more);
      const fs = await spfCheck(ctx);
      assert.ok(!fs.some((f) => f.rule === 'spf.ok'), show(fs));
      const f = notAuthorised(fs);
      assert.ok(f, show(fs));
      assert.equal(f!.severity, 'fail');
      assert.equal(f!.subject, MACRO);
      assert.equal(f!.fix, 'spf', show(fs));
      assert.match(
        f!.message,
        /^This server relays through MailChannels, and the SPF record includes it \(include:relay\.mailchannels\.net\), but include:%\{ir\}\._spf\.other\.example comes first, and for the relay's addresses receivers get a permanent error from it \(check_host for 23\.83\.208\.0: permerror, include:%\{ir\}\._spf\.other\.example: target 0\.208\.83\.23\._spf\.other\.example has no SPF record\)\. Receivers return permerror for the relay's mail before they reach include:relay\.mailchannels\.net \(RFC 7208 §5\.2\)/,
      );
      assert.match(f!.message, /The SPF fix puts include:relay\.mailchannels\.net before include:%\{ir\}\._spf\.other\.example, which stays/);
    });
  }

  test('the fix puts the relay include first and keeps the term: the relay passes, and so does the sender the list names', async () => {
    const spf = `v=spf1 ${MACRO} include:relay.mailchannels.net ~all`;
    const { p, after } = await planned(spf);
    assert.equal(p.blocked, undefined, p.notes.join('\n'));
    assert.equal(after, `v=spf1 include:relay.mailchannels.net ${MACRO} ~all`);
    assert.match(p.notes.join('\n'), /^Puts include:relay\.mailchannels\.net before include:%\{ir\}\._spf\.other\.example: for the relay's address 23\.83\.208\.0, receivers get a permanent error from include:%\{ir\}\._spf\.other\.example \(target 0\.208\.83\.23\._spf\.other\.example has no SPF record\)/m);
    for (const ip of RELAY_SENDERS) assert.equal(await receivers(after!, ip), 'pass', ip);
    assert.equal(await receivers(after!, LISTED), 'pass');
    // And the audit of the fixed record says the relay is authorised.
    const fs = await spfCheck(setup(after!).ctx);
    assert.ok(fs.some((f) => f.rule === 'spf.ok'), show(fs));
  });

  test("the relay's include missing: the fix adds it before the term, not after it", async () => {
    const { p, after } = await planned(`v=spf1 ${MACRO} ~all`);
    assert.equal(p.blocked, undefined, p.notes.join('\n'));
    assert.equal(after, `v=spf1 include:relay.mailchannels.net ${MACRO} ~all`);
    for (const ip of RELAY_SENDERS) assert.equal(await receivers(after!, ip), 'pass', ip);
  });

  test('the relay reached through redirect= after the term: the fix adds an include of its target before it', async () => {
    const spf = `v=spf1 ${MACRO} redirect=relay.mailchannels.net`;
    const fs = await spfCheck(setup(spf).ctx);
    const f = notAuthorised(fs);
    assert.equal(f?.subject, MACRO, show(fs));
    assert.match(f!.message, /the SPF record leads to it \(redirect=relay\.mailchannels\.net\)/);
    assert.match(f!.message, /The SPF fix adds include:relay\.mailchannels\.net before include:%\{ir\}\._spf\.other\.example/);
    const { p, after } = await planned(spf);
    assert.equal(p.blocked, undefined, p.notes.join('\n'));
    assert.equal(after, `v=spf1 include:relay.mailchannels.net ${MACRO} redirect=relay.mailchannels.net`);
    for (const ip of RELAY_SENDERS) assert.equal(await receivers(after!, ip), 'pass', ip);
  });

  test("a service's include whose record is redirect=%{ir}…: the include is named, and the fix puts the relay's first", async () => {
    const more: ZoneMap = { '_spf.svc.example': { TXT: [['v=spf1 redirect=%{ir}._spf.other.example']] } };
    const spf = 'v=spf1 include:_spf.svc.example include:relay.mailchannels.net ~all';
    for (const ip of RELAY_SENDERS) assert.equal(await receivers(spf, ip, more), 'permerror', ip);
    const fs = await spfCheck(setup(spf, RELAY, more).ctx);
    assert.equal(notAuthorised(fs)?.subject, 'include:_spf.svc.example', show(fs));
    const { p, after } = await planned(spf, RELAY, more);
    assert.equal(p.blocked, undefined, p.notes.join('\n'));
    assert.equal(after, 'v=spf1 include:relay.mailchannels.net include:_spf.svc.example ~all');
  });

  test("the term's record costs the relay's include its 11th lookup: the term is named (not the relay's include), and moved after it", async () => {
    const many: ZoneMap = Object.fromEntries(Array.from({ length: 9 }, (_, k) => [`h${k}.other.example`, { TXT: [['v=spf1 -all']] }]));
    const nine = `v=spf1 ${Array.from({ length: 9 }, (_, k) => `include:h${k}.other.example`).join(' ')} -all`;
    for (const ip of ['23.83.208.0', '205.201.128.0', ...RELAY_SENDERS]) many[`${rev(ip)}._spf.other.example`] = { TXT: [[nine]] };
    const spf = `v=spf1 ${MACRO} include:relay.mailchannels.net ~all`;
    for (const ip of RELAY_SENDERS) assert.equal(await receivers(spf, ip, many), 'permerror', ip);
    const fs = await spfCheck(setup(spf, RELAY, many).ctx);
    const f = notAuthorised(fs);
    assert.equal(f?.subject, MACRO, show(fs));
    assert.match(f!.message, /more than 10 DNS-querying terms/);
    const { p, after } = await planned(spf, RELAY, many);
    assert.equal(p.blocked, undefined, p.notes.join('\n'));
    assert.equal(after, `v=spf1 include:relay.mailchannels.net ${MACRO} ~all`);
    for (const ip of RELAY_SENDERS) assert.equal(await receivers(after!, ip, many), 'pass', ip);
  });
});

describe('spf: what is not a permanent error, or not known to be one', () => {
  test("the list's name for the relay's address publishes a record (-all: no match): spf.ok", async () => {
    const more: ZoneMap = Object.fromEntries(['23.83.208.0', '205.201.128.0'].map((ip) => [`${rev(ip)}._spf.other.example`, { TXT: [['v=spf1 -all']] }]));
    const fs = await spfCheck(setup(`v=spf1 ${MACRO} include:relay.mailchannels.net ~all`, RELAY, more).ctx);
    assert.ok(fs.some((f) => f.rule === 'spf.ok'), show(fs));
  });

  test('a:%{ir}… and mx:%{ir}… before the include are void lookups (2), not a permanent error: spf.ok', async () => {
    const spf = 'v=spf1 a:%{ir}._spf.other.example mx:%{ir}._spf.other.example include:relay.mailchannels.net ~all';
    for (const ip of RELAY_SENDERS) assert.equal(await receivers(spf, ip), 'pass', ip);
    const fs = await spfCheck(setup(spf).ctx);
    assert.ok(fs.some((f) => f.rule === 'spf.ok'), show(fs));
  });

  test("DNS fails for the term's name (SERVFAIL): spf.dns-error, unknown — never fail — and the fix waits", async () => {
    const more: ZoneMap = { '0.208.83.23._spf.other.example': { TXT: 'SERVFAIL' } };
    const spf = `v=spf1 ${MACRO} include:relay.mailchannels.net ~all`;
    const { ctx, zone } = setup(spf, RELAY, more);
    const fs = await spfCheck(ctx);
    assert.ok(!fs.some((f) => f.severity === 'fail'), show(fs));
    const u = fs.find((f) => f.rule === 'spf.dns-error');
    assert.equal(u?.severity, 'unknown', show(fs));
    assert.ok(!fs.some((f) => f.fix), show(fs));
    const p = await planSpf(ctx, zone, {});
    assert.match(p.blocked ?? '', /^DNS did not answer while planning/);
  });
});

describe('spf: where the fix cannot put the relay include first, no finding says it does', () => {
  test('a denylist between the term and the relay include: the finding does not promise the move, and the plan is blocked saying what to do', async () => {
    const spf = `v=spf1 ${MACRO} -exists:%{i}.deny.${D} include:relay.mailchannels.net ~all`;
    const fs = await spfCheck(setup(spf).ctx);
    const f = notAuthorised(fs);
    assert.equal(f?.subject, MACRO, show(fs));
    assert.doesNotMatch(f!.message, /The SPF fix puts/);
    const { p } = await planned(spf);
    assert.match(p.blocked ?? '', /Put include:relay\.mailchannels\.net before include:%\{ir\}\._spf\.other\.example by hand, or remove include:%\{ir\}\._spf\.other\.example if relaymacro\.example no longer sends through it/, p.notes.join('\n'));
  });

  test("the relay's include missing, a denylist after the term: the fix is not one that leaves the relay's mail failing", async () => {
    const spf = `v=spf1 ${MACRO} -exists:%{i}.deny.${D} ~all`;
    const { p, after } = await planned(spf);
    // Either the plan says why it cannot, or what it writes passes the relay (it wrote the include last: permerror).
    if (!p.blocked) for (const ip of RELAY_SENDERS) assert.equal(await receivers(after!, ip), 'pass', `${ip} with "${after}"`);
    assert.ok(p.blocked, `after: ${after}\n${p.notes.join('\n')}`);
    // The finding offers the fix only as the plan allows it: once the term is selected for removal.
    const fs = await spfCheck(setup(spf).ctx);
    const f = notAuthorised(fs);
    assert.ok(f, show(fs));
    assert.match(f!.message, /The SPF fix drops include:%\{ir\}\._spf\.other\.example only once you select it for removal/, show(fs));
  });

  test("inside the domain's own included record: named there, and no fix is offered (that record is not the fix's)", async () => {
    const more: ZoneMap = { [`_spf.${D}`]: { TXT: [[`v=spf1 ${MACRO} include:relay.mailchannels.net ~all`]] } };
    const fs = await spfCheck(setup(`v=spf1 include:_spf.${D} ~all`, RELAY, more).ctx);
    const f = notAuthorised(fs);
    assert.ok(f, show(fs));
    assert.equal(f!.subject, `include:_spf.${D}`);
    assert.match(f!.message, /in the record include:_spf\.relaymacro\.example leads to, a term before the relay's include gives the relay's addresses a permanent error/);
    assert.ok(!fs.some((x) => x.fix), show(fs));
  });
});

describe('spf: a server that sends itself, its IP after such a term', () => {
  test('check_host already fails it; the fix now puts its IP before the term (its plan was blocked) and keeps the term', async () => {
    const spf = `v=spf1 ${MACRO} ip4:${SERVER_IP} ~all`;
    const fs = await spfCheck(setup(spf, {}).ctx);
    const f = notAuthorised(fs);
    assert.equal(f?.subject, SERVER_IP, show(fs));
    assert.match(f!.message, /check_host = permerror/);
    assert.equal(f!.fix, 'spf');
    const { p, after } = await planned(spf, {});
    assert.equal(p.blocked, undefined, p.notes.join('\n'));
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} ${MACRO} ~all`);
    assert.match(p.notes.join('\n'), /^Adds ip4:203\.0\.113\.10 before include:%\{ir\}\._spf\.other\.example: for 203\.0\.113\.10, receivers get a permanent error from include:%\{ir\}\._spf\.other\.example/m);
    assert.equal(await receivers(after!, SERVER_IP), 'pass');
    assert.equal(await receivers(after!, LISTED), 'pass');
  });
});

describe('spf: the cost for ordinary records', () => {
  // The walks ask a and mx names for both families (A and AAAA); check_host for an IPv4 address of the relay's asks A
  // only: more A than AAAA questions for the apex and its mail host means check_host was run for the relay's addresses.
  // An ordinary record (nothing before the include the walk cannot follow) asks none of that — measured against the
  // commit before this change: the same questions in the same order (13 for the audit of a relayed record with the
  // include, 31 with its plan; 29 when the plan adds the include).
  const google: ZoneMap = { '_spf.google.com': { TXT: [['v=spf1 ip4:64.233.160.0/19 ip6:2001:4860:4000::/36 ~all']] } };
  async function asked(spf: string) {
    const { ctx, zone } = setup(spf, RELAY, google);
    await spfCheck(ctx);
    await planSpf(ctx, zone, {});
    const log = (ctx.resolver as MapResolver).log;
    const n = (q: string) => log.filter((x) => x === q).length;
    return { a: n(`${D} A`) + n(`mail.${D} A`), aaaa: n(`${D} AAAA`) + n(`mail.${D} AAAA`), log };
  }
  for (const spf of ['v=spf1 a mx include:_spf.google.com include:relay.mailchannels.net ~all', 'v=spf1 a mx include:_spf.google.com ~all']) {
    test(`"${spf}": the audit and the plan run no check_host for the relay's addresses`, async () => {
      const { a, aaaa, log } = await asked(spf);
      assert.ok(a > 0, log.join('\n'));
      assert.equal(a, aaaa, log.join('\n'));
    });
  }
  test('with an include with macros before the relay include, they do (what the counts above would show)', async () => {
    const { a, aaaa, log } = await asked(`v=spf1 a mx ${MACRO} include:relay.mailchannels.net ~all`);
    assert.ok(a > aaaa, log.join('\n'));
  });
});
