// The SPF check and void lookups that depend on the sender, for a server that relays: the relay's include authorises
// its mail only where receivers reach it, and more than 2 void lookups before it — exists:%{i}… terms that do not list
// the relay's addresses (Salesforce's exists:%{i}._spf.mta.salesforce.com, Cisco's …iphmx.com), names without an IPv4
// address — are a permerror first (RFC 7208 §4.6.4). The walk cannot count those (a term with macros depends on the
// sender), and the check judged the relay by its include alone: spf.ok where receivers (pyspf, Mail::SPF:
// test/e2e/spf-voids-oracles.test.ts) fail the relay's mail. A server that sends itself was judged right (check_host for
// its own addresses); its finding offered the fix while the plan was blocked (the IP added after the terms).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from './context.js';

const D = 'relayvoids.example';
const RELAY = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;
const SERVER_IP6 = '2001:db8:10::25';
const BEFORE = `a mx exists:%{i}._spf.mta.salesforce.com exists:%{i}.spf.hc1234-56.iphmx.com a:crm.${D}`;

function setup(spf: string, settings: Partial<MailSettings>) {
  const map: ZoneMap = {
    [D]: { TXT: [[spf]], A: [SERVER_IP], MX: [{ priority: 10, exchange: `mail.${D}` }] },
    [`mail.${D}`]: { A: [SERVER_IP] },
    [`www.${D}`]: { A: [SERVER_IP] },
    [`crm.${D}`]: { AAAA: ['2001:db8:77::5'] },
    [`_spf.${D}`]: { TXT: [['v=spf1 include:relay.mailchannels.net ~all']] },
    'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ~all']] },
  };
  const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'TXT', value: spf, txt: [spf] }];
  return { ctx: checkContext(D, map, settings, zone), zone };
}

const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''} [${f.subject ?? ''}]: ${f.message}`).join('\n');

describe("spf: the relay's include after terms that cost its addresses void lookups", () => {
  test('3 void lookups before it: spf.server-not-authorized naming them, with the fix (which goes through), not spf.ok', async () => {
    const { ctx, zone } = setup(`v=spf1 ${BEFORE} include:relay.mailchannels.net ~all`, RELAY);
    const fs = await spfCheck(ctx);
    assert.ok(!fs.some((f) => f.rule === 'spf.ok'), show(fs));
    const f = fs.find((x) => x.rule === 'spf.server-not-authorized');
    assert.ok(f, show(fs));
    assert.equal(f!.severity, 'fail');
    assert.equal(f!.subject, 'exists:%{i}._spf.mta.salesforce.com');
    assert.equal(f!.fix, 'spf');
    assert.match(
      f!.message,
      /^This server relays through MailChannels, and the SPF record includes it \(include:relay\.mailchannels\.net\), but exists:%\{i\}\._spf\.mta\.salesforce\.com, exists:%\{i\}\.spf\.hc1234-56\.iphmx\.com and a:crm\.relayvoids\.example come first and cost the relay's addresses more than 2 void lookups/,
    );
    assert.match(f!.message, /check_host for 23\.83\.208\.0: permerror, more than 2 void DNS lookups/);
    assert.match(f!.message, /Receivers return permerror for the relay's mail before they reach include:relay\.mailchannels\.net \(RFC 7208 §4\.6\.4\)/);
    const p = await planSpf(ctx, zone, {});
    assert.equal(p.blocked, undefined, p.notes.join('\n'));
  });

  test("reached through the domain's own include: the finding says the fix drops the terms only once selected", async () => {
    const { ctx } = setup(`v=spf1 ${BEFORE} include:_spf.${D} ~all`, RELAY);
    const fs = await spfCheck(ctx);
    const f = fs.find((x) => x.rule === 'spf.server-not-authorized');
    assert.ok(f, show(fs));
    assert.match(f!.message, /before they reach include:_spf\.relayvoids\.example/);
    assert.match(f!.message, /The SPF fix drops exists:%\{i\}\._spf\.mta\.salesforce\.com, exists:%\{i\}\.spf\.hc1234-56\.iphmx\.com, a:crm\.relayvoids\.example only once you select them for removal/, show(fs));
  });

  test("one exists term before it: spf.ok, and the relay's addresses are not even looked up", async () => {
    const { ctx } = setup('v=spf1 a mx exists:%{i}._spf.mta.salesforce.com include:relay.mailchannels.net ~all', RELAY);
    const fs = await spfCheck(ctx);
    assert.ok(fs.some((f) => f.rule === 'spf.ok'), show(fs));
    assert.ok(!(ctx.resolver as MapResolver).log.some((q) => q.startsWith('23.83.')), (ctx.resolver as MapResolver).log.join('\n'));
  });
});

describe('spf: a server that sends itself, its IPv6 address after 3 names without AAAA', () => {
  test('spf.server-not-authorized for the IPv6 address offers the fix, and its plan goes through', async () => {
    const { ctx, zone } = setup(`v=spf1 a mx a:www.${D} ip6:${SERVER_IP6} ~all`, { ips: [SERVER_IP, SERVER_IP6] });
    const fs = await spfCheck(ctx);
    const f = fs.find((x) => x.rule === 'spf.server-not-authorized');
    assert.equal(f?.subject, SERVER_IP6, show(fs));
    assert.equal(f?.fix, 'spf', show(fs));
    const p = await planSpf(ctx, zone, {});
    assert.equal(p.blocked, undefined, p.notes.join('\n'));
  });
});
