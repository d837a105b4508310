// SPF fix defects QA reproduced (scenarios spfloop, spfnestbad, spfmany2, spfvoid2, spfnegrelay, spfneutralrelay,
// dall0, dnegcidr, daslash):
//  1. a record receivers answer with permerror got "nothing to change" (the final gate ran only when something
//     changed): now it is blocked with the reason, naming the term — and the SPF check asks the same planner
//     (spfFixPath) whether its findings offer the fix;
//  2. a relay include with "-", "~" or "?" counted as authorising the relay: the fix makes it a plain include, in place;
//  3. ip4/ip6 judged only by "the range contains the server": a range as wide as +all goes, and this server's IP goes
//     before a "-"/"~"/"?" term that matches it first (one covering only this server goes);
//  4. `a/24`, `mx/24` (RFC 7208 §5.6 CIDR lengths) are terms like any other (kept; they authorise this server).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
// Namespace imports: on the code before these fixes (no spfFixPath / relayAuthorisation) each test fails on its own.
import * as plans from '../../../src/core/plans/spf.js';
import { checkHost } from '../../../src/core/spf/evaluate.js';
import * as relays from '../../../src/core/spf/relay.js';
import { walkSpfRecord } from '../../../src/core/spf/tree.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from '../checks/context.js';
import { SPF_QA_WORLD } from '../../helpers/spf-qa-world.js';
import { spfCheck } from '../../../src/core/checks/spf.js';

const D = 'cust.example';
const HELO = 'server1.newhost.example';
const RELAY = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;

function world(extra: ZoneMap = {}): ZoneMap {
  return { ...SPF_QA_WORLD, ...extra };
}

const txt = (value: string): ZoneRecord => ({ name: D, ttl: 3600, type: 'TXT', value, txt: [value], ref: `r:${value}` });

function setup(spf: string[], extra: ZoneMap = {}, settings: Partial<MailSettings> = {}) {
  const map = world(extra);
  map[D] = { ...(map[D] ?? {}), TXT: spf.map((s) => [s]) };
  const zone = [{ name: D, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.', ref: 'ns' } as ZoneRecord, ...spf.map(txt)];
  return { ctx: checkContext(D, map, settings, zone), zone, map };
}

async function plan(spf: string[], extra: ZoneMap = {}, settings: Partial<MailSettings> = {}, removeTerms: string[] = []) {
  const { ctx, zone } = setup(spf, extra, settings);
  const p = await plans.planSpf(ctx, zone, { removeTerms });
  const after = p.changes.find((c) => c.after)?.after;
  return { p, after: after ? (after.txt ?? [after.value]).join('') : null };
}

/** check_host(this server) with `record` published at the apex. */
async function evaluate(record: string, extra: ZoneMap = {}) {
  const map = world(extra);
  map[D] = { ...(map[D] ?? {}), TXT: [[record]] };
  return checkHost(SERVER_IP, D, `postmaster@${D}`, HELO, new MapResolver(map));
}

/** How the record treats the relay (only a "+" include authorises it). */
async function relayState(record: string) {
  const map = world();
  map[D] = { TXT: [[record]] };
  return relays.relayAuthorisation(await walkSpfRecord(new MapResolver(map), D, record), ['relay.mailchannels.net']).state;
}

const show = (p: { notes: string[]; blocked?: string; changes: unknown[] }, after: string | null) =>
  `changes: ${p.changes.length}\nafter: ${after}\nblocked: ${p.blocked}\n${p.notes.join('\n')}`;

describe('SPF fix (QA 1): a record receivers answer with permerror is never "already right"', () => {
  test('spfnestbad: an include whose record has ip4:198.51.100.300 → blocked, naming the include and the invalid term', async () => {
    const { p, after } = await plan(['v=spf1 include:broken.vendor.example include:relay.mailchannels.net ~all'], {}, RELAY);
    assert.equal(p.changes.length, 0, show(p, after));
    assert.ok(p.blocked, `blocked, not "nothing to change"\n${show(p, after)}`);
    assert.match(p.blocked!, /include:broken\.vendor\.example leads to a record receivers cannot evaluate/);
    assert.match(p.blocked!, /invalid ip4 address "198\.51\.100\.300"/);
    assert.match(p.blocked!, /permerror/);
    assert.match(p.blocked!, /its owner must fix that record, or remove include:broken\.vendor\.example/);
    assert.match(p.blocked!, /select it for removal/, 'an unknown include may be selected for removal');
  });

  test('spfloop: an include loop below the top level → blocked, naming the include and the loop', async () => {
    const { p, after } = await plan(['v=spf1 include:loop-a.vendor.example include:relay.mailchannels.net ~all'], {}, RELAY);
    assert.equal(p.changes.length, 0, show(p, after));
    assert.match(p.blocked ?? '', /include:loop-a\.vendor\.example leads to a record receivers cannot evaluate/, show(p, after));
    assert.match(p.blocked!, /include loop: cust\.example → loop-a\.vendor\.example → loop-b\.vendor\.example → loop-a\.vendor\.example/);
  });

  test('spfmany2: 12 lookups, every term a mail service or this server → blocked with the costliest terms', async () => {
    const { p, after } = await plan(['v=spf1 include:_spf.google.com include:spf.protection.outlook.com include:mailgun.org include:relay.mailchannels.net include:sendgrid.net ~all'], {}, RELAY);
    assert.equal(p.changes.length, 0, show(p, after));
    assert.match(p.blocked ?? '', /would need 1[1-9] DNS lookups \(limit 10/, show(p, after));
    assert.match(p.blocked!, /include:mailgun\.org \(4\)/);
    // Services go only when the user selects them (the customer knows which the domain no longer uses): named as
    // such; this server's own terms (the relay include) never are.
    assert.match(p.blocked!, /select its term for removal and the fix drops it: include:mailgun\.org \(4\)/);
    assert.doesNotMatch(p.blocked!.slice(p.blocked!.indexOf('select its term for removal')), /relay\.mailchannels\.net/, 'this server’s terms are not offered for removal');
  });

  test('spfvoid2: 3 void lookups from names that exist without addresses → blocked, naming the terms', async () => {
    const spf = 'v=spf1 a:gone1.oldvendor.example a:noaddr2.oldvendor.example a:noaddr3.oldvendor.example include:relay.mailchannels.net ~all';
    const { p, after } = await plan([spf], {}, RELAY);
    assert.equal(p.changes.length, 0, show(p, after));
    assert.match(p.blocked ?? '', /3 void lookups \(limit 2/, show(p, after));
    for (const t of ['a:gone1.oldvendor.example', 'a:noaddr2.oldvendor.example', 'a:noaddr3.oldvendor.example']) assert.ok(p.blocked!.includes(t), t);
  });

  test('selecting the unknown include for removal clears the block, and the record it writes is sound', async () => {
    const { p, after } = await plan(['v=spf1 include:broken.vendor.example include:relay.mailchannels.net ~all'], {}, RELAY, ['include:broken.vendor.example']);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, 'v=spf1 include:relay.mailchannels.net ~all');
  });

  test('spfFixPath: what the check asks — select (unknown culprits), blocked (kept ones), fixes, nothing', async () => {
    const ask = async (spf: string, settings: Partial<MailSettings> = RELAY) => {
      const { ctx, zone } = setup([spf], {}, settings);
      return plans.spfFixPath(ctx, zone);
    };
    const nestbad = await ask('v=spf1 include:broken.vendor.example include:relay.mailchannels.net ~all');
    assert.equal(nestbad.kind, 'select');
    assert.deepEqual(nestbad.kind === 'select' && nestbad.terms, ['include:broken.vendor.example']);
    const many = await ask('v=spf1 include:_spf.google.com include:spf.protection.outlook.com include:mailgun.org include:relay.mailchannels.net include:sendgrid.net ~all');
    assert.equal(many.kind, 'blocked');
    assert.equal((await ask('v=spf1 include:websitewelcome.com include:relay.mailchannels.net ~all')).kind, 'fixes');
    assert.equal((await ask('v=spf1 include:relay.mailchannels.net ~all')).kind, 'nothing');
  });

  test('a record the gate accepts, left as it is, is still "nothing to change" (not blocked)', async () => {
    const { p, after } = await plan(['v=spf1 include:_spf.google.com include:relay.mailchannels.net ~all'], {}, RELAY);
    assert.equal(p.changes.length, 0, show(p, after));
    assert.equal(p.blocked, undefined, show(p, after));
  });

  test('a stale include causing the permerror is dropped, and the rest goes through', async () => {
    const extra: ZoneMap = { 'websitewelcome.com': { TXT: [['v=spf1 ip4:192.185.0.0/16 include:gone.websitewelcome.com ~all']] } };
    const { p, after } = await plan(['v=spf1 include:websitewelcome.com include:relay.mailchannels.net ~all'], extra, RELAY);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, 'v=spf1 include:relay.mailchannels.net ~all');
  });
});

describe('SPF fix (QA 2): only a "+" include authorises the relay', () => {
  test('spfnegrelay: ~include:relay.mailchannels.net -all → include:relay.mailchannels.net -all', async () => {
    const { p, after } = await plan(['v=spf1 ~include:relay.mailchannels.net -all'], {}, RELAY);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, 'v=spf1 include:relay.mailchannels.net -all', show(p, after));
    assert.ok(p.notes.some((n) => n.startsWith('Replaces ~include:relay.mailchannels.net with include:relay.mailchannels.net')), show(p, after));
    assert.equal(await relayState(after!), 'pass');
  });

  test('spfneutralrelay: ?include in the middle is made plain where it stands', async () => {
    const { p, after } = await plan(['v=spf1 include:_spf.google.com ?include:relay.mailchannels.net -all'], {}, RELAY);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, 'v=spf1 include:_spf.google.com include:relay.mailchannels.net -all');
  });

  test('-include before a plain copy: the first decides, so it is made plain and the copy goes', async () => {
    assert.equal(await relayState('v=spf1 -include:relay.mailchannels.net include:relay.mailchannels.net ~all'), 'denied');
    const { p, after } = await plan(['v=spf1 -include:relay.mailchannels.net include:relay.mailchannels.net ~all'], {}, RELAY);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, 'v=spf1 include:relay.mailchannels.net ~all');
  });

  test('~include of a record that includes the relay: the relay include goes before it', async () => {
    const extra: ZoneMap = { 'spf.group.example': { TXT: [['v=spf1 include:relay.mailchannels.net -all']] } };
    const { p, after } = await plan(['v=spf1 ~include:spf.group.example -all'], extra, RELAY);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, 'v=spf1 include:relay.mailchannels.net ~include:spf.group.example -all');
  });

  test('a record that reaches the relay with "~" only inside an include is not authorising (the include does not match)', async () => {
    assert.equal(await relayState('v=spf1 include:_spf.google.com -all'), 'absent');
    const extra: ZoneMap = { 'spf.group.example': { TXT: [['v=spf1 ~include:relay.mailchannels.net -all']] } };
    const map = world(extra);
    const tree = await walkSpfRecord(new MapResolver(map), D, 'v=spf1 include:spf.group.example -all');
    assert.equal(relays.relayAuthorisation(tree, ['relay.mailchannels.net']).state, 'absent');
    const { p, after } = await plan(['v=spf1 include:spf.group.example -all'], extra, RELAY);
    assert.equal(after, 'v=spf1 include:spf.group.example include:relay.mailchannels.net -all', show(p, after));
  });
});

describe('SPF fix (QA 3): ip4/ip6 ranges judged by what they do', () => {
  test('dall0: ip4:0.0.0.0/0 (as wide as +all) is dropped and this server’s IP added; the result passes only it', async () => {
    const { p, after } = await plan(['v=spf1 ip4:0.0.0.0/0 -all']);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} -all`);
    assert.ok(p.notes.some((n) => n.startsWith('Drops ip4:0.0.0.0/0: it covers every IPv4 address')), show(p, after));
    assert.equal((await evaluate(after!)).result, 'pass');
  });

  test('ip6:::/0 and ip4:0.0.0.0/7 go too; ip4:17.0.0.0/8 (one network’s /8) stays', async () => {
    const { p, after } = await plan([`v=spf1 ip6:::/0 ip4:0.0.0.0/7 ip4:17.0.0.0/8 ip4:${SERVER_IP} -all`]);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, `v=spf1 ip4:17.0.0.0/8 ip4:${SERVER_IP} -all`);
  });

  test('dnegcidr: -ip4 covering this server → this server’s IP goes before it, and check_host passes', async () => {
    const spf = 'v=spf1 -ip4:203.0.113.0/28 include:_spf.google.com ~all';
    assert.equal((await evaluate(spf)).result, 'fail');
    const { p, after } = await plan([spf]);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} -ip4:203.0.113.0/28 include:_spf.google.com ~all`);
    assert.ok(p.notes.some((n) => n.startsWith(`Adds ip4:${SERVER_IP} before -ip4:203.0.113.0/28`)), show(p, after));
    assert.equal((await evaluate(after!)).result, 'pass');
  });

  test('a "-"/"~" term covering only this server is dropped (not kept beside an authorising copy)', async () => {
    for (const q of ['-', '~', '?']) {
      const { p, after } = await plan([`v=spf1 ${q}ip4:${SERVER_IP} include:_spf.google.com ~all`]);
      assert.equal(p.blocked, undefined, show(p, after));
      assert.equal(after, `v=spf1 include:_spf.google.com ip4:${SERVER_IP} ~all`, show(p, after));
      assert.ok(p.notes.some((n) => n.startsWith(`Drops ${q}ip4:${SERVER_IP}: it covers only this server's IP`)), show(p, after));
    }
  });

  test('~a where the domain’s A record is this server: the IP goes before it', async () => {
    const extra: ZoneMap = { [D]: { A: [SERVER_IP] } };
    const { p, after } = await plan(['v=spf1 ~a -all'], extra);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} ~a -all`);
    assert.equal((await evaluate(after!, extra)).result, 'pass');
  });
});

describe('SPF fix (QA 4): a/24, mx/24 and dual CIDR lengths are ordinary terms', () => {
  test('daslash: a/24 mx/24 are kept (they authorise this server); the stale include goes; no IP is added', async () => {
    const extra: ZoneMap = { [D]: { A: [SERVER_IP], MX: [{ priority: 10, exchange: 'server1.newhost.example' }] } };
    const { p, after } = await plan(['v=spf1 a/24 mx/24 include:websitewelcome.com -all'], extra);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, 'v=spf1 a/24 mx/24 -all');
    assert.equal((await evaluate(after!, extra)).result, 'pass');
  });

  test('a:host/24, mx//64 and a/24//64 are not offered for removal as unreadable, and stay when selected', async () => {
    const extra: ZoneMap = { [D]: { A: [SERVER_IP], MX: [{ priority: 10, exchange: 'server1.newhost.example' }] } };
    const terms = ['a:server1.newhost.example/24', 'mx//64', 'a/24//64'];
    const { p, after } = await plan([`v=spf1 ${terms.join(' ')} -all`], extra, {}, terms);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, null, `nothing to change\n${show(p, after)}`);
    for (const t of terms) assert.ok(p.notes.some((n) => n.startsWith(`Keeps ${t} although you selected it`)), `${t}\n${show(p, after)}`);
  });
});

// A previous host's term with "-" (`-include:websitewelcome.com`) fails that host's mail: it keeps the old host from
// sending as the domain. It was reported as a stale leftover ("lets the old host send") and the fix dropped it,
// handing the old host's mail to `all` — with `~all` a softfail instead of a fail, with `?all` neutral.
describe('SPF fix: a previous host denied with "-" stays denied', () => {
  test('-include of the previous host: no stale finding, the fix keeps it (and still adds this server)', async () => {
    const record = 'v=spf1 -include:websitewelcome.com ~all';
    const { ctx } = setup([record]);
    const fs = await spfCheck(ctx);
    assert.ok(!fs.some((f) => f.rule === 'spf.stale-term'), fs.map((f) => `${f.rule}: ${f.message}`).join('\n'));
    const about = fs.find((f) => f.subject === '-include:websitewelcome.com');
    assert.equal(about?.severity, 'info');
    assert.match(about!.message, /fails a previous host's mail .*keeps the old host from sending as cust\.example/);
    assert.equal(about!.fix, undefined);
    const { p, after } = await plan([record]);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.ok(after !== null && after.includes('-include:websitewelcome.com'), show(p, after));
    assert.ok(after!.includes(`ip4:${SERVER_IP}`), show(p, after));
    assert.equal((await evaluate(after!)).result, 'pass');
    // The old host's servers still fail (not softfail, as ~all would give them once the term is gone).
    const old = await checkHost('192.185.1.1', D, `postmaster@${D}`, 'gator.websitewelcome.com', new MapResolver({ ...world(), [D]: { TXT: [[after!]] } }));
    assert.equal(old.result, 'fail');
  });

  test('~include and a plain include of the previous host are still leftovers the fix drops', async () => {
    for (const q of ['', '~', '?']) {
      const record = `v=spf1 ${q}include:websitewelcome.com -all`;
      const { ctx } = setup([record]);
      const stale = (await spfCheck(ctx)).find((f) => f.rule === 'spf.stale-term');
      assert.ok(stale, record);
      assert.match(stale!.message, q === '' ? /lets the old host send as cust\.example and costs lookups/ : new RegExp(`gives the old host's mail ${q === '~' ? 'softfail' : 'neutral'} and costs lookups`));
      const { p, after } = await plan([record]);
      assert.ok(after !== null && !after.includes('websitewelcome'), show(p, after));
    }
  });
});

// `a/0` widens the domain's address to every IPv4 address (RFC 7208 §5.6): like +all it lets the whole internet send.
// It was read as "this server's" (its A record is this server) and passed; ip4:0.0.0.0/0 was already caught.
describe('SPF: a/mx with a CIDR length as wide as +all', () => {
  test('a/0, mx/4 and a//8 are spf.permissive-all (fail) and the fix drops them, authorising this server by its IP; a/8 and mx//16 are not', async () => {
    const extra: ZoneMap = { [D]: { A: [SERVER_IP], MX: [{ priority: 10, exchange: 'server1.newhost.example' }] } };
    for (const [term, words] of [
      ['a/0', /^a\/0 covers every IPv4 address: like \+all/],
      ['mx/4', /^mx\/4 covers a \/4 around each address it names: 268,435,456 IPv4 addresses/],
      ['a//8', /^a\/\/8 covers a \/8 around each address it names: 2\^120 IPv6 addresses/],
    ] as const) {
      const record = `v=spf1 ${term} -all`;
      const { ctx } = setup([record], extra);
      const fs = await spfCheck(ctx);
      const wide = fs.filter((f) => f.rule === 'spf.permissive-all');
      assert.equal(wide.length, 1, `${term}: ${fs.map((f) => `${f.rule}: ${f.message}`).join('\n')}`);
      assert.equal(wide[0].severity, 'fail');
      assert.match(wide[0].message, words);
      assert.equal(wide[0].fix, 'spf');
      assert.ok(!fs.some((f) => f.subject === term && f.rule === 'spf.term'), `${term} is not "this server's"`);
      const { p, after } = await plan([record], extra);
      assert.equal(p.blocked, undefined, show(p, after));
      assert.equal(after, `v=spf1 ip4:${SERVER_IP} -all`, show(p, after));
      assert.ok(p.notes.some((n) => n.startsWith(`Drops ${term}: it covers `)), show(p, after));
      assert.equal((await evaluate(after!, extra)).result, 'pass');
    }
    for (const term of ['a/8', 'mx//16']) {
      const { ctx } = setup([`v=spf1 ${term} -all`], extra);
      assert.ok(!(await spfCheck(ctx)).some((f) => f.rule === 'spf.permissive-all'), term);
    }
  });
});

// An include of a record that ends in +all (or has a range as wide) passes every sender: an include matches whenever
// its record passes. Such a record was audited "SPF authorises this server" (pass) and the fix kept the include.
describe('SPF: an include or redirect that leads to +all', () => {
  const open = (record: string): ZoneMap => ({ 'open.example': { TXT: [[record]], A: ['198.51.100.1'] }, 'mid.example': { TXT: [['v=spf1 include:open.example -all']] } });
  test('include of +all, of ip4:0.0.0.0/0, and through a nested include: spf.permissive-all (fail); the fix drops the include', async () => {
    for (const [inner, term, words] of [
      ['v=spf1 +all', 'include:open.example', /^include:open\.example leads to \+all in open\.example's record: like \+all/],
      ['v=spf1 ip4:0.0.0.0/0 -all', 'include:open.example', /^include:open\.example leads to ip4:0\.0\.0\.0\/0 in open\.example's record \(it covers every IPv4 address\)/],
      ['v=spf1 +all', 'include:mid.example', /^include:mid\.example leads to \+all in open\.example's record/],
    ] as const) {
      const record = `v=spf1 ip4:${SERVER_IP} ${term} -all`;
      const { ctx } = setup([record], open(inner));
      const fs = await spfCheck(ctx);
      const f = fs.filter((x) => x.rule === 'spf.permissive-all');
      assert.equal(f.length, 1, fs.map((x) => `${x.rule}: ${x.message}`).join('\n'));
      assert.match(f[0].message, words);
      assert.equal(f[0].severity, 'fail');
      assert.equal(f[0].fix, 'spf');
      assert.ok(!fs.some((x) => x.rule === 'spf.ok'));
      const { p, after } = await plan([record], open(inner));
      assert.equal(p.blocked, undefined, show(p, after));
      assert.equal(after, `v=spf1 ip4:${SERVER_IP} -all`, show(p, after));
      assert.ok(p.notes.some((n) => n.startsWith(`Drops ${term}: it leads to `)), show(p, after));
    }
  });

  test('redirect to +all is the same; -include of +all and an include of a closed record are not', async () => {
    const { ctx } = setup(['v=spf1 redirect=open.example'], open('v=spf1 +all'));
    const fs = await spfCheck(ctx);
    assert.match(fs.find((x) => x.rule === 'spf.permissive-all')?.message ?? '', /^redirect=open\.example leads to \+all in open\.example's record/);
    const { p, after } = await plan(['v=spf1 redirect=open.example'], open('v=spf1 +all'));
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} ~all`, show(p, after));
    for (const [record, inner] of [
      [`v=spf1 ip4:${SERVER_IP} -include:open.example -all`, 'v=spf1 +all'],
      [`v=spf1 ip4:${SERVER_IP} include:open.example -all`, 'v=spf1 ip4:198.51.100.0/24 -all'],
      [`v=spf1 ip4:${SERVER_IP} include:open.example -all`, 'v=spf1 -all +all'],
    ]) {
      const { ctx: c2 } = setup([record], open(inner));
      assert.ok(!(await spfCheck(c2)).some((x) => x.rule === 'spf.permissive-all'), `${record} / ${inner}`);
    }
  });
});

// Over 10 lookups, the blocked plan said "Remove a term to make room — the costliest: include:_spf.google.com (2), a
// (1), mx (1)", though the fix keeps those whatever is selected ("Keeps … although you selected it"): it now names
// only terms the user can select, or says every costly term is this server's or a service's.
describe('SPF fix: over 10 lookups, the terms named to remove are ones that can go', () => {
  const extra = (n: number): ZoneMap => {
    const m: ZoneMap = { [D]: { A: [SERVER_IP], MX: [{ priority: 10, exchange: 'server1.newhost.example' }] } };
    for (let i = 1; i <= n; i++) m[`k${i}.vendor.example`] = { TXT: [[`v=spf1 ip4:198.51.100.${i} -all`]], A: ['198.51.100.200'] };
    return m;
  };
  test('unknown includes are named (selectable); the Google include, a and mx are not', async () => {
    const ks = Array.from({ length: 6 }, (_, i) => `include:k${i + 1}.vendor.example`);
    const { p, after } = await plan([`v=spf1 a mx include:_spf.google.com ${ks.join(' ')} ~all`], extra(6), RELAY);
    assert.match(p.blocked ?? '', /would need 1[1-9] DNS lookups .*the costliest of those mailhealth could not place: include:k\d\.vendor\.example \(1\)/, show(p, after));
    assert.doesNotMatch(p.blocked!, /_spf\.google\.com|\ba \(1\)|\bmx \(1\)/, p.blocked);
    assert.match(p.blocked!, /select them for removal and the fix drops them/);
  });
  test('only this server’s and services’ terms cost lookups: only the services’ are offered for removal (selected, they go)', async () => {
    const { p, after } = await plan(['v=spf1 a mx include:_spf.google.com include:spf.protection.outlook.com include:mailgun.org ~all'], extra(0), RELAY);
    assert.match(p.blocked ?? '', /Every term that costs lookups is this server's \(a, mx\), which the fix keeps, or a mail service's the domain may use, which the fix drops only when you select it/, show(p, after));
    const offered = p.blocked!.slice(p.blocked!.indexOf('select its term for removal'));
    assert.match(offered, /include:mailgun\.org \(4\)/);
    assert.doesNotMatch(offered, /\ba \(1\)|\bmx \(1\)/);
    assert.match(p.blocked!, /hand edit/);
    assert.doesNotMatch(p.blocked!, /make room/);
  });
});

// `--remove-term ip4:1.2.3.4` for a term the record does not have was silently ignored: a typo looked like done.
describe('SPF fix: a selected term the record does not have', () => {
  test('the plan says so; a term it has is removed as before', async () => {
    const extra: ZoneMap = { 'k1.vendor.example': { TXT: [['v=spf1 ip4:198.51.100.1 -all']], A: ['198.51.100.200'] } };
    const { p, after } = await plan([`v=spf1 ip4:${SERVER_IP} include:k1.vendor.example -all`], extra, {}, ['ip4:1.2.3.4', 'INCLUDE:k1.vendor.example']);
    assert.ok(p.notes.includes('You selected ip4:1.2.3.4 for removal, but the SPF record has no such term: nothing was removed for it.'), show(p, after));
    assert.ok(!p.notes.some((n) => n.includes('You selected INCLUDE:k1')), show(p, after));
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} -all`);
  });
});

// Review: a record receivers answer with permerror passes nobody, so an include of it is no +all (it was both
// spf.syntax and spf.permissive-all).
describe('SPF: an include of a broken record that ends in +all is not permissive', () => {
  test('a syntax error, or a broken include before +all: no spf.permissive-all', async () => {
    for (const inner of ['v=spf1 foo:bar +all', 'v=spf1 include:nospf.vendor.example +all']) {
      const extra: ZoneMap = { 'open.example': { TXT: [[inner]], A: ['198.51.100.1'] }, 'nospf.vendor.example': { A: ['198.51.100.2'] } };
      const { ctx } = setup([`v=spf1 ip4:${SERVER_IP} include:open.example -all`], extra);
      const fs = await spfCheck(ctx);
      assert.ok(!fs.some((f) => f.rule === 'spf.permissive-all'), `${inner}: ${fs.map((f) => `${f.rule}: ${f.message}`).join('\n')}`);
    }
  });
});

// Review of the '-' stale term kept by the fix: where the record cannot pass with it (over 10 lookups, the old host's
// record broken), the plan was stuck — blocked, naming it as "this server's or a service's", and --remove-term kept
// it. Now the plan drops it, saying why; selecting it removes it.
describe('SPF fix: a previous host denied with "-" that the record cannot keep', () => {
  test('over 10 lookups with -include:websitewelcome.com: the fix drops it and fits', async () => {
    const extra: ZoneMap = { 'websitewelcome.com': { TXT: [['v=spf1 include:a.websitewelcome.com include:b.websitewelcome.com ~all']] }, 'a.websitewelcome.com': { TXT: [['v=spf1 ip4:192.185.1.0/24 ~all']] }, 'b.websitewelcome.com': { TXT: [['v=spf1 ip4:192.185.2.0/24 ~all']] } };
    const record = `v=spf1 -include:websitewelcome.com include:_spf.google.com include:spf.protection.outlook.com include:mailgun.org ip4:${SERVER_IP} ~all`;
    const { p, after } = await plan([record], extra);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.ok(after !== null && !after.includes('websitewelcome'), show(p, after));
    assert.ok(p.notes.some((n) => n.startsWith('Drops -include:websitewelcome.com: ') && n.includes('It only failed the previous host')), show(p, after));
  });
  test('the old host’s record broken: dropped; and selecting it removes it', async () => {
    const extra: ZoneMap = { 'websitewelcome.com': { TXT: [['v=spf1 include:gone.websitewelcome.com -all']] } };
    const record = `v=spf1 ip4:${SERVER_IP} -include:websitewelcome.com ~all`;
    const { p, after } = await plan([record], extra);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} ~all`);
    const sel = await plan([`v=spf1 ip4:${SERVER_IP} -include:websitewelcome.com ~all`], {}, {}, ['-include:websitewelcome.com']);
    assert.equal(sel.after, `v=spf1 ip4:${SERVER_IP} ~all`, show(sel.p, sel.after));
    assert.ok(sel.p.notes.some((n) => n.startsWith('Removes -include:websitewelcome.com (you selected it)')));
  });
  test('where it fits, it is still kept', async () => {
    const { p, after } = await plan([`v=spf1 ip4:${SERVER_IP} -include:websitewelcome.com ~all`]);
    assert.equal(after, null, show(p, after));
    assert.equal(p.blocked, undefined);
  });
});

// QA: a kept "-include:oldhost" in front of a service the domain keeps failed that service's mail whenever the old
// host's record included it too (`websitewelcome.com` → `include:_spf.google.com`), and nothing said so. The check now
// warns, and the fix moves the "-" term after the others.
describe('SPF fix: a previous host denied with "-" in front of a kept service', () => {
  const extra: ZoneMap = { 'websitewelcome.com': { TXT: [['v=spf1 ip4:192.185.0.0/16 include:_spf.google.com ~all']] } };
  test('the check warns (with the fix); the fix moves it to the end; Google passes, the old host still fails', async () => {
    const record = 'v=spf1 -include:websitewelcome.com include:_spf.google.com ~all';
    const { ctx } = setup([record], extra);
    const f = (await spfCheck(ctx)).find((x) => x.subject === '-include:websitewelcome.com');
    assert.equal(f?.rule, 'spf.stale-term');
    assert.equal(f?.severity, 'warn');
    assert.equal(f?.fix, 'spf');
    assert.match(f!.message, /comes before include:_spf\.google\.com: the first matching term decides/);
    const { p, after } = await plan([record], extra);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, `v=spf1 include:_spf.google.com ip4:${SERVER_IP} -include:websitewelcome.com ~all`, show(p, after));
    assert.ok(p.notes.some((n) => n.startsWith('Moves -include:websitewelcome.com after the other terms')), show(p, after));
    const world = (r: string) => new MapResolver({ ...world0(), [D]: { TXT: [[r]] } });
    const world0 = () => ({ ...SPF_QA_WORLD, ...extra });
    assert.equal((await checkHost('172.217.1.1', D, `x@${D}`, 'mail-google.example', world(after!))).result, 'pass');
    assert.equal((await checkHost('192.185.1.1', D, `x@${D}`, 'gator.websitewelcome.com', world(after!))).result, 'fail');
    assert.equal((await evaluate(after!, extra)).result, 'pass');
  });
  test('already at the end: info, nothing to change', async () => {
    const record = `v=spf1 include:_spf.google.com ip4:${SERVER_IP} -include:websitewelcome.com ~all`;
    const { ctx } = setup([record], extra);
    assert.equal((await spfCheck(ctx)).find((x) => x.subject === '-include:websitewelcome.com')?.rule, 'spf.term');
    const { p, after } = await plan([record], extra);
    assert.equal(after, null, show(p, after));
  });
});

// QA: `--remove-term include:u2.example` against a record that writes `+include:u2.example` said "no such term" —
// RFC 7208 reads the two alike.
test('SPF fix: a selected term matches however its "+" is written', async () => {
  const extra: ZoneMap = { 'u2.vendor.example': { TXT: [['v=spf1 ip4:198.51.100.9 -all']], A: ['198.51.100.200'] } };
  const { p, after } = await plan([`v=spf1 ip4:${SERVER_IP} +include:u2.vendor.example -all`], extra, {}, ['include:u2.vendor.example']);
  assert.equal(after, `v=spf1 ip4:${SERVER_IP} -all`, show(p, after));
  assert.ok(!p.notes.some((n) => n.includes('no such term')), show(p, after));
  const back = await plan([`v=spf1 ip4:${SERVER_IP} include:u2.vendor.example -all`], extra, {}, ['+include:u2.vendor.example']);
  assert.equal(back.after, `v=spf1 ip4:${SERVER_IP} -all`, show(back.p, back.after));
});

// Review of the move: the relay and this server's checks ran on a record without the "-" terms (a redirect= then
// left the relay failing, the plan empty); a "-" term in front of redirect= went unflagged; terms that are not "+"
// mechanisms (a "~include", exp=) made the plan reorder a record no finding offered to fix.
describe('SPF fix: a previous host denied with "-", with redirect=, the relay, and other terms after it', () => {
  const oldIncludesRelay: ZoneMap = {
    'websitewelcome.com': { TXT: [['v=spf1 include:relay.mailchannels.net ~all']] },
    '_spf.newhost.example': { TXT: [['v=spf1 include:relay.mailchannels.net ~all']] },
  };
  test('relay: -include of an old host that includes the relay, before redirect= → warned, dropped, the relay passes', async () => {
    const record = 'v=spf1 -include:websitewelcome.com redirect=_spf.newhost.example';
    const { ctx } = setup([record], oldIncludesRelay, RELAY);
    const fs = await spfCheck(ctx);
    // The "-" include is what reaches the relay first: reported as the relay not authorised, with the fix.
    assert.equal(fs.find((f) => f.rule === 'spf.server-not-authorized')?.fix, 'spf', fs.map((f) => `${f.rule}: ${f.message}`).join('\n'));
    const { p, after } = await plan([record], oldIncludesRelay, RELAY);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.ok(after !== null && !after.includes('websitewelcome'), show(p, after));
    assert.ok(p.notes.some((n) => n.startsWith('Drops -include:websitewelcome.com: ') && n.includes('redirect= always comes last')), show(p, after));
    assert.equal(await relayState(after!), 'pass');
  });
  test('-include in front of redirect= to a service the old host also includes → warned, and the fix drops it', async () => {
    const extra: ZoneMap = { 'websitewelcome.com': { TXT: [['v=spf1 ip4:192.185.0.0/16 include:_spf.google.com ~all']] } };
    const record = `v=spf1 ip4:${SERVER_IP} -include:websitewelcome.com redirect=_spf.google.com`;
    const { ctx } = setup([record], extra);
    const f = (await spfCheck(ctx)).find((x) => x.subject === '-include:websitewelcome.com');
    assert.equal(f?.rule, 'spf.stale-term');
    assert.match(f!.message, /comes before redirect=_spf\.google\.com/);
    const { p, after } = await plan([record], extra);
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} redirect=_spf.google.com`, show(p, after));
  });
  test('only "~"/"?" terms or exp= after it: no finding offers the fix, and the plan changes nothing', async () => {
    const extra: ZoneMap = { 'foo.vendor.example': { TXT: [['v=spf1 ip4:198.51.100.7 -all']], A: ['198.51.100.200'] } };
    for (const record of [`v=spf1 ip4:${SERVER_IP} -include:websitewelcome.com ~include:foo.vendor.example -all`, `v=spf1 ip4:${SERVER_IP} -include:websitewelcome.com exp=exp.cust.example -all`]) {
      const { ctx } = setup([record], extra);
      assert.equal((await spfCheck(ctx)).find((x) => x.subject === '-include:websitewelcome.com')?.rule, 'spf.term', record);
      const { p, after } = await plan([record], extra);
      assert.equal(after, null, `${record}\n${show(p, after)}`);
    }
  });
});
