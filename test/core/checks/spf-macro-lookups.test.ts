// A term with macros before the term that passes this server (or its relay) whose record, for that sender, costs so
// many lookups that a LATER term — one the walk follows and finds nothing wrong with — is the 11th DNS-querying term:
// check_host's permerror is met at that later term (permerrorAt), not at the term with macros (RFC 7208 §4.6.4).
// Review of the macro change: the relay's mail was judged only where the 11th lookup was the relay's own include, so
// `include:%{i1r}._spf.<list> include:_spf.google.com include:relay.mailchannels.net` was spf.ok while receivers
// (pyspf, Mail::SPF: test/e2e/spf-voids-oracles.test.ts) answer permerror; for a server that sends itself, its IP
// was added after the terms (the plan blocked, its notes saying it was added and dropped) while
// spf.server-not-authorized offered the fix. Now the term with macros is named, and the fix puts the relay's include
// (or this server's IP) before it, keeping it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import { checkHost } from '../../../src/core/spf/evaluate.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from './context.js';

const D = 'macrolookups.example';
const RELAY = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;
const MACRO = 'include:%{i1r}._spf.many.example';
const GOOGLE = 'include:_spf.google.com';
/** Addresses of the relay's (not the first of a range: mailhealth probes those). */
const RELAY_SENDERS = ['23.83.215.250', '205.201.140.9'];
const GOOGLE_SENDER = '64.233.160.5';

/** For the first octet of the relay's and this server's addresses, the list's record costs 9 more lookups. */
const NINE = `v=spf1 ${Array.from({ length: 9 }, (_, k) => `include:h${k}.many.example`).join(' ')} -all`;
const WORLD: ZoneMap = {
  'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ip4:205.201.128.0/20 ~all']] },
  '_spf.google.com': { TXT: [['v=spf1 ip4:64.233.160.0/19 ip6:2001:4860:4000::/36 ~all']] },
  ...Object.fromEntries(['23', '205', SERVER_IP.split('.')[0]].map((o) => [`${o}._spf.many.example`, { TXT: [[NINE]] }])),
  ...Object.fromEntries(Array.from({ length: 9 }, (_, k) => [`h${k}.many.example`, { TXT: [['v=spf1 -all']] }])),
};

function world(spf: string): ZoneMap {
  return { [D]: { TXT: [[spf]], A: [SERVER_IP], MX: [{ priority: 10, exchange: `mail.${D}` }] }, [`mail.${D}`]: { A: [SERVER_IP] }, ...WORLD };
}

function setup(spf: string, settings: Partial<MailSettings>) {
  const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'TXT', value: spf, txt: [spf], ref: 'spf' }];
  return { ctx: checkContext(D, world(spf), settings, zone), zone };
}

const receivers = async (record: string, ip: string) => checkHost(ip, D, `postmaster@${D}`, 'server1.newhost.example', new MapResolver(world(record)));
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''} [${f.subject ?? ''}]: ${f.message}`).join('\n');

async function planned(spf: string, settings: Partial<MailSettings>) {
  const { ctx, zone } = setup(spf, settings);
  const p = await planSpf(ctx, zone, {});
  return { p, after: p.changes.find((c) => c.after)?.after?.value ?? null };
}

describe("spf: a term with macros whose record makes a later, followed term the 11th lookup before the relay's include", () => {
  const spf = `v=spf1 ${MACRO} ${GOOGLE} include:relay.mailchannels.net ~all`;

  test('receivers meet the permanent error at the later term (the premise)', async () => {
    for (const ip of RELAY_SENDERS) {
      const r = await receivers(spf, ip);
      assert.equal(r.result, 'permerror', ip);
      assert.equal(r.permerrorAt, GOOGLE, ip);
      assert.match(r.reason ?? '', /more than 10 DNS-querying terms/);
    }
  });

  test('the audit says spf.server-not-authorized naming the term with macros (not spf.ok), and offers the fix', async () => {
    const fs = await spfCheck(setup(spf, RELAY).ctx);
    assert.ok(!fs.some((f) => f.rule === 'spf.ok'), show(fs));
    const f = fs.find((x) => x.rule === 'spf.server-not-authorized');
    assert.equal(f?.severity, 'fail', show(fs));
    assert.equal(f!.subject, MACRO);
    assert.equal(f!.fix, 'spf', show(fs));
    assert.match(f!.message, /more than 10 DNS-querying terms/);
    assert.match(f!.message, /The SPF fix puts include:relay\.mailchannels\.net before include:%\{i1r\}\._spf\.many\.example, which stays/);
  });

  test("the fix puts the relay's include before the term with macros; the relay passes, Google's servers are as they were", async () => {
    const { p, after } = await planned(spf, RELAY);
    assert.equal(p.blocked, undefined, p.notes.join('\n'));
    assert.equal(after, `v=spf1 include:relay.mailchannels.net ${MACRO} ${GOOGLE} ~all`);
    for (const ip of RELAY_SENDERS) assert.equal((await receivers(after!, ip)).result, 'pass', ip);
    assert.equal((await receivers(after!, GOOGLE_SENDER)).result, (await receivers(spf, GOOGLE_SENDER)).result);
    const fs = await spfCheck(setup(after!, RELAY).ctx);
    assert.ok(fs.some((f) => f.rule === 'spf.ok'), show(fs));
  });
});

describe("spf: a server that sends itself, its IP after such terms", () => {
  const spf = `v=spf1 ${MACRO} ${GOOGLE} ip4:${SERVER_IP} ~all`;

  test('the fix puts its IP before the term with macros (the plan is not blocked), and the finding offers it', async () => {
    assert.equal((await receivers(spf, SERVER_IP)).result, 'permerror');
    const fs = await spfCheck(setup(spf, {}).ctx);
    const f = fs.find((x) => x.rule === 'spf.server-not-authorized');
    assert.equal(f?.subject, SERVER_IP, show(fs));
    const { p, after } = await planned(spf, {});
    assert.equal(p.blocked, undefined, `${p.notes.join('\n')}\n${show(fs)}`);
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} ${MACRO} ${GOOGLE} ~all`);
    assert.match(p.notes.join('\n'), /^Adds ip4:203\.0\.113\.10 before include:%\{i1r\}\._spf\.many\.example: .*more than 10 DNS-querying terms/m);
    assert.equal((await receivers(after!, SERVER_IP)).result, 'pass');
    assert.equal(f!.fix, 'spf', show(fs));
  });
});

describe('spf: the lookup limit is cited as such (RFC 7208 §4.6.4), not as a target without SPF (§5.2)', () => {
  test("the relay's own include the 11th: the finding, the plan's note and a blocked plan's reason cite §4.6.4", async () => {
    const spf = `v=spf1 ${MACRO} include:relay.mailchannels.net ~all`;
    const fs = await spfCheck(setup(spf, RELAY).ctx);
    const f = fs.find((x) => x.rule === 'spf.server-not-authorized');
    assert.match(f?.message ?? '', /before they reach include:relay\.mailchannels\.net \(RFC 7208 §4\.6\.4\)/, show(fs));
    assert.doesNotMatch(f!.message, /§5\.2/);
    const { p } = await planned(spf, RELAY);
    assert.match(p.notes.join('\n'), /^Puts include:relay\.mailchannels\.net before .*\(RFC 7208 §4\.6\.4\)/m);
    assert.doesNotMatch(p.notes.join('\n'), /§5\.2/);
    // A denylist between them: the plan is blocked, saying why.
    const { p: blocked } = await planned(`v=spf1 ${MACRO} -exists:%{i}.deny.${D} include:relay.mailchannels.net ~all`, RELAY);
    assert.match(blocked.blocked ?? '', /more than 10 DNS-querying terms .*; RFC 7208 §4\.6\.4\)/, blocked.notes.join('\n'));
  });

  test("this server's IP: the plan's note cites §4.6.4", async () => {
    const { p } = await planned(`v=spf1 ${MACRO} ${GOOGLE} ip4:${SERVER_IP} ~all`, {});
    assert.match(p.notes.join('\n'), /^Adds ip4:203\.0\.113\.10 before .*\(RFC 7208 §4\.6\.4\)/m);
    assert.doesNotMatch(p.notes.join('\n'), /§5\.2/);
  });
});
