// QA (big.example): a record of exactly 10 lookups, every one this server's or a mail service's, and the relay's
// include missing. spf.server-not-authorized offered the SPF fix ("fix: mailhealth fix big.example --check spf"), but
// its plan was blocked (adding the relay's include makes 11 lookups) and --remove-term of a service's include was
// refused, so the only way out was a hand edit nothing mentioned: the check asked the planner only when a permerror
// finding was there. Now it also asks where the fix's own additions would take the record past the limits, offers the
// fix only when the plan goes through, and otherwise says why and what to do.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from './context.js';

const D = 'big.example';
const RELAY = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;
/** a (1) mx (1) Google (3) SendGrid (1) Microsoft (1) Zoho (2) Mailchimp (1) = 10 lookups. */
const BIG = 'v=spf1 a mx include:_spf.google.com include:sendgrid.net include:spf.protection.outlook.com include:zoho.com include:servers.mcsv.net ~all';

const WORLD: ZoneMap = {
  [D]: { A: [SERVER_IP], MX: [{ priority: 10, exchange: `mail.${D}` }] },
  [`mail.${D}`]: { A: [SERVER_IP] },
  'server1.newhost.example': { A: [SERVER_IP] },
  '10.113.0.203.in-addr.arpa': { PTR: ['server1.newhost.example'] },
  'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ~all']] },
  '_spf.google.com': { TXT: [['v=spf1 include:_netblocks.google.com include:_netblocks2.google.com ~all']] },
  '_netblocks.google.com': { TXT: [['v=spf1 ip4:35.190.247.0/24 ~all']] },
  '_netblocks2.google.com': { TXT: [['v=spf1 ip6:2001:4860:4000::/36 ~all']] },
  'sendgrid.net': { TXT: [['v=spf1 ip4:167.89.0.0/17 ~all']] },
  'spf.protection.outlook.com': { TXT: [['v=spf1 ip4:40.92.0.0/15 -all']] },
  'zoho.com': { TXT: [['v=spf1 include:spf.zoho.com ~all']] },
  'spf.zoho.com': { TXT: [['v=spf1 ip4:136.143.160.0/19 ~all']] },
  'servers.mcsv.net': { TXT: [['v=spf1 ip4:205.201.128.0/20 ~all']] },
  'websitewelcome.com': { TXT: [['v=spf1 ip4:192.185.0.0/16 ~all']] },
  'k1.vendor.example': { TXT: [['v=spf1 ip4:198.51.100.1 -all']] },
};

const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule} ${f.subject ?? ''} fix=${f.fix ?? '-'} | ${f.message}`).join('\n');

function setup(spf: string, settings: Partial<MailSettings> = RELAY) {
  const map: ZoneMap = { ...WORLD, [D]: { ...WORLD[D], TXT: [[spf]] } };
  const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'TXT', value: spf, txt: [spf], ref: 'spf' }];
  return { ctx: checkContext(D, map, settings, zone), zone };
}

describe('spf check: a record the fix would take past 10 lookups', () => {
  test('big.example: spf.server-not-authorized offers no fix, says why and what to do (the services one may drop, or a hand edit)', async () => {
    const { ctx, zone } = setup(BIG);
    const plan = await planSpf(ctx, zone, {});
    assert.match(plan.blocked ?? '', /would need 11 DNS lookups/, 'the plan without a selection is blocked');
    const fs = await spfCheck(ctx);
    assert.ok(!fs.some((f) => f.fix), `no finding offers a fix whose plan is blocked\n${show(fs)}`);
    const f = fs.find((x) => x.rule === 'spf.server-not-authorized');
    assert.ok(f, show(fs));
    assert.equal(f.severity, 'fail');
    assert.match(f.message, /The SPF fix cannot be applied to this record as it stands\. .*would need 11 DNS lookups \(limit 10/, f.message);
    // What to do: the mail services' terms the customer may select for removal, how, and the hand edit otherwise.
    assert.match(f.message, /include:servers\.mcsv\.net \(1\)/, f.message);
    assert.match(f.message, /select its term for removal/, f.message);
    assert.match(f.message, /hand edit/, f.message);
    assert.doesNotMatch(f.message, /\ba \(1\)|\bmx \(1\)/, 'this server’s own terms are not offered for removal');
  });

  test('big.example with include:servers.mcsv.net selected: the plan drops it, adds the relay include, and goes through', async () => {
    const { ctx, zone } = setup(BIG);
    const plan = await planSpf(ctx, zone, { removeTerms: ['include:servers.mcsv.net'] });
    assert.equal(plan.blocked, undefined, plan.notes.join('\n'));
    const after = plan.changes.find((c) => c.after)?.after;
    assert.equal(after?.value, 'v=spf1 a mx include:_spf.google.com include:sendgrid.net include:spf.protection.outlook.com include:zoho.com include:relay.mailchannels.net ~all');
    assert.ok(plan.notes.some((n) => /^Removes include:servers\.mcsv\.net \(you selected it\): it authorises Mailchimp/.test(n)), plan.notes.join('\n'));
    assert.ok(!plan.notes.some((n) => /although you selected it/.test(n)), plan.notes.join('\n'));
  });

  test("this server's own terms stay when selected", async () => {
    const { ctx, zone } = setup(BIG);
    const plan = await planSpf(ctx, zone, { removeTerms: ['a', 'include:servers.mcsv.net'] });
    assert.ok(plan.notes.some((n) => n.startsWith('Keeps a although you selected it')), plan.notes.join('\n'));
    assert.match(plan.changes.find((c) => c.after)?.after?.value ?? '', /^v=spf1 a mx /);
  });

  test('one lookup less (9): the fix is offered as before', async () => {
    const fs = await spfCheck(setup(BIG.replace(' include:servers.mcsv.net', '')).ctx);
    assert.equal(fs.find((x) => x.rule === 'spf.server-not-authorized')?.fix, 'spf', show(fs));
  });

  test('10 lookups with a previous host’s include the fix drops: room for the relay, the fix is offered', async () => {
    const fs = await spfCheck(setup(BIG.replace('include:servers.mcsv.net', 'include:websitewelcome.com')).ctx);
    assert.equal(fs.find((x) => x.rule === 'spf.server-not-authorized')?.fix, 'spf', show(fs));
    assert.equal(fs.find((x) => x.rule === 'spf.stale-term')?.fix, 'spf', show(fs));
  });

  test('10 lookups with an include nobody could identify: the fix is offered, saying it must be selected and why', async () => {
    const fs = await spfCheck(setup(BIG.replace('include:servers.mcsv.net', 'include:k1.vendor.example')).ctx);
    const f = fs.find((x) => x.rule === 'spf.server-not-authorized');
    assert.equal(f?.fix, 'spf', show(fs));
    assert.match(f!.message, /The SPF fix drops include:k1\.vendor\.example only once you select it for removal .*11 DNS lookups/, f!.message);
  });

  test('a record at 10 lookups that authorises this server: not planned, spf.ok (no cost for every domain)', async () => {
    const record = BIG.replace(' include:servers.mcsv.net', ' include:relay.mailchannels.net');
    const { ctx } = setup(record);
    const fs = await spfCheck(ctx);
    assert.ok(fs.some((x) => x.rule === 'spf.ok'), show(fs));
  });

  test('without a relay (this server’s IP costs no lookup): a record at 10 lookups that does not authorise it keeps the fix', async () => {
    const record = 'v=spf1 include:_spf.google.com include:sendgrid.net include:spf.protection.outlook.com include:zoho.com include:servers.mcsv.net include:k1.vendor.example include:websitewelcome.com ~all';
    const fs = await spfCheck(setup(record, {}).ctx);
    assert.equal(fs.find((x) => x.rule === 'spf.server-not-authorized')?.fix, 'spf', show(fs));
  });
});
