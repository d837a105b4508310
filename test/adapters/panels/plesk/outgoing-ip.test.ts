// The IP a Plesk domain's mail leaves from (plesk.md §2.3: the XML server prefs' outgoing_email_mode; explicit-ip's
// address, else the subscription's webspace gen_info dns_ip_address) is never guessed (review R6 item 2).
// Before: a failed or timed-out `server get prefs` or `webspace get` was replaced by the first shared IP of
// GET /server/ips — wrong in explicit-ip mode and for a subscription on an exclusive IP — so the audit failed
// spf.server-not-authorized and the SPF fix added that IP. An answer naming no mode or IP was read as "no IP".
// Now each is PanelError: the audit reports the settings unreadable (`unknown`) and no SPF fix is planned.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { HttpResponse } from '../../../../src/adapters/panels/http.js';
import { PanelError } from '../../../../src/core/panel.js';
import type { DomainAudit } from '../../../../src/core/model.js';
import { makePlan } from '../../../../src/core/plans/index.js';
import { rejectsWith } from '../../../helpers/panel-errors.js';
import { DOMAIN, healthyRecords, page, pleskWorld, type RestFault, type World } from './world.js';

let w: World | null = null;
afterEach(async () => {
  await w?.close();
  w = null;
});

const SHARED = '203.0.113.10';
const EXPLICIT = '198.51.100.7';
const EXCLUSIVE = '198.51.100.20';

/** DOMAIN's records with its SPF authorising only `ip` (the IP its mail really leaves from). */
const spfFor = (ip: string) => healthyRecords().map((r) => (r.type === 'TXT' && r.name === DOMAIN ? { ...r, data: [`v=spf1 ip4:${ip} ~all`] } : r));

/** Mode explicit-ip with EXPLICIT; the server's only shared IP is SHARED. */
async function explicitWorld(): Promise<World> {
  const x = await pleskWorld(spfFor(EXPLICIT));
  x.state.outgoingMode = 'explicit-ip';
  x.state.explicitIpv4 = EXPLICIT;
  x.state.ips = [{ ipv4: SHARED, ipv6: '', type: 'shared' }];
  return x;
}

/** Mode domain-ip; DOMAIN's subscription is on the exclusive IP EXCLUSIVE, the first shared IP is SHARED. */
async function exclusiveWorld(): Promise<World> {
  const x = await pleskWorld(spfFor(EXCLUSIVE));
  x.state.outgoingMode = 'domain-ip';
  x.state.webspaceIp[DOMAIN] = EXCLUSIVE;
  x.state.ips = [
    { ipv4: SHARED, ipv6: '', type: 'shared' },
    { ipv4: EXCLUSIVE, ipv6: '', type: 'exclusive' },
  ];
  return x;
}

/** Answer the XML packet whose body contains `marker` with `answer` (a response, or a thrown PanelError). */
const onXml =
  (marker: string, answer: () => HttpResponse): RestFault =>
  (req) =>
    req.path === '/enterprise/control/agent.php' && (req.body?.text ?? '').includes(marker) ? answer() : null;

const xmlPacket = (inner: string) => `<?xml version="1.0" encoding="UTF-8"?><packet version="1.6.9.1">${inner}</packet>`;
const timeout = (): HttpResponse => {
  throw new PanelError('no-answer', 'Plesk: no answer within 30 s');
};

/** How a call fails: the fault, the PanelError code and the message of the call that failed. */
type Failure = [name: string, answer: () => HttpResponse, code: PanelError['code'], message: RegExp];

const PREFS = '<server><get><prefs/>';
const PREFS_FAILURES: Failure[] = [
  ['HTTP 500', () => page(500, '<html><body><h1>500 Internal Server Error</h1></body></html>'), 'other', /Plesk XML API \(server get prefs\): HTTP 500/],
  ['<status>error</status>', () => page(200, xmlPacket('<server><get><result><status>error</status><errcode>1006</errcode><errtext>Permission denied</errtext></result></get></server>')), 'other', /server get prefs\): Permission denied \(1006\)/],
  ['an empty body', () => page(200, ''), 'other', /server get prefs\): unexpected answer \(HTTP 200, an empty body\)/],
  ['no answer (timeout)', timeout, 'no-answer', /no answer within 30 s/],
];

const WEBSPACE = '<webspace><get>';
const WEBSPACE_FAILURES: Failure[] = [
  ['<status>error</status>', () => page(200, xmlPacket('<webspace><get><result><status>error</status><errcode>1002</errcode><errtext>Internal error</errtext></result></get></webspace>')), 'other', /webspace get\): Internal error \(1002\)/],
  ['HTTP 500', () => page(500, '<html><body>500 Internal Server Error</body></html>'), 'other', /Plesk XML API \(webspace get\): HTTP 500/],
  ['no answer (timeout)', timeout, 'no-answer', /no answer within 30 s/],
];

const severe = (a: DomainAudit) => a.findings.filter((f) => f.severity === 'fail' || f.severity === 'warn').map((f) => `${f.rule}: ${f.message.slice(0, 100)}`);
const askedServerIps = (x: World) => x.state.calls.filter((c) => c.startsWith('GET /api/v2/server/ips'));

/** The read fails naming the domain and the call; the audit says only "unreadable"; the SPF fix plans nothing. */
async function assertUnknown(x: World, code: PanelError['code'], message: RegExp): Promise<void> {
  const e = await rejectsWith(x.panel.readMailSettings(DOMAIN), code, message);
  assert.match(e.message, /^Plesk's outgoing mail settings for alice\.example could not be read, so the IP its mail leaves from is not known: /);
  assert.deepEqual(askedServerIps(x), [], 'no guess from the shared IPs');
  const a = await x.audit();
  assert.deepEqual(severe(a), [], 'no fail/warn from a call that failed');
  const unreadable = a.findings.find((f) => f.rule === 'dns.panel-settings-unreadable');
  assert.equal(unreadable?.severity, 'unknown');
  assert.match(unreadable!.message, /the IP its mail leaves from is not known/);
  const before = x.spf();
  const plan = await makePlan({ domain: DOMAIN, check: 'spf' }, { panel: x.panel, resolver: x.resolver }).catch((err: Error) => err);
  assert.ok(plan instanceof Error, `no SPF plan: ${plan instanceof Error ? '' : JSON.stringify(plan.changes.map((c) => [c.action, c.after?.value]))}`);
  assert.match(plan.message, /The panel could not provide the server's mail settings: Plesk's outgoing mail settings/);
  assert.deepEqual(x.spf(), before, 'the zone as it was');
}

describe('Plesk outgoing mail IP: answered reads (the control)', () => {
  it('explicit-ip: the explicit IP; domain-ip on an exclusive IP: the subscription IP; the audit passes SPF', async () => {
    w = await explicitWorld();
    assert.deepEqual((await w.panel.readMailSettings(DOMAIN)).ips, [EXPLICIT]);
    assert.deepEqual(severe(await w.audit()), []);
    await w.close();
    w = await exclusiveWorld();
    assert.deepEqual((await w.panel.readMailSettings(DOMAIN)).ips, [EXCLUSIVE]);
    assert.deepEqual(severe(await w.audit()), []);
    assert.deepEqual(askedServerIps(w), []);
  });
});

describe('Plesk outgoing mail IP: a failed XML server get prefs is never replaced by a shared IP (R6 case A)', () => {
  for (const [name, answer, code, message] of PREFS_FAILURES) {
    it(`${name}: PanelError, settings unreadable, no SPF fix`, async () => {
      w = await explicitWorld();
      w.rest.push(onXml(PREFS, answer));
      await assertUnknown(w, code, message);
    });
  }
});

describe('Plesk outgoing mail IP: a failed XML webspace get (exclusive-IP subscription) is never replaced by a shared IP (R6 case B)', () => {
  for (const [name, answer, code, message] of WEBSPACE_FAILURES) {
    it(`${name}: PanelError, settings unreadable, no SPF fix`, async () => {
      w = await exclusiveWorld();
      w.rest.push(onXml(WEBSPACE, answer));
      await assertUnknown(w, code, message);
    });
  }

  it("the subscription's GET /domains/{base_domain_id} answering 404: PanelError 'other' (not 'not-found': the domain is there)", async () => {
    w = await exclusiveWorld();
    w.state.domains.find((d) => d.name === DOMAIN)!.base_domain_id = 9999;
    await assertUnknown(w, 'other', /Plesk: Domain is not found \(\/domains\/9999\)/);
  });
});

describe('Plesk outgoing mail IP: an answer naming no mode or IP Plesk documents is no setting', () => {
  const prefsOk = (inner: string) => () => page(200, xmlPacket(`<server><get><result><status>ok</status><prefs>${inner}</prefs></result></get></server>`));
  const cases: [string, RestFault, RegExp][] = [
    ['prefs without outgoing_email_mode', onXml(PREFS, prefsOk('<other>x</other>')), /server get prefs had an unexpected shape \(no outgoing_email_mode\)/],
    ['an outgoing_email_mode Plesk does not document', onXml(PREFS, prefsOk('<outgoing_email_mode>main-ip</outgoing_email_mode>')), /outgoing_email_mode "main-ip", not domain-ip, domain-name or explicit-ip/],
    ['explicit-ip with no address', onXml(PREFS, prefsOk('<outgoing_email_mode>explicit-ip</outgoing_email_mode><outgoing_email_mode_explicit_ipv4></outgoing_email_mode_explicit_ipv4>')), /explicit-ip with no outgoing_email_mode_explicit_ipv4 or _ipv6/],
    ['explicit-ip with an address that is no IP', onXml(PREFS, prefsOk('<outgoing_email_mode>explicit-ip</outgoing_email_mode><outgoing_email_mode_explicit_ipv4>mail.host.example</outgoing_email_mode_explicit_ipv4>')), /outgoing_email_mode_explicit_ipv4 "mail\.host\.example", not an IP address/],
    [
      'webspace gen_info without dns_ip_address',
      onXml(WEBSPACE, () => page(200, xmlPacket(`<webspace><get><result><status>ok</status><data><gen_info><name>${DOMAIN}</name></gen_info></data></result></get></webspace>`))),
      /XML webspace get had an unexpected shape \(no dns_ip_address for the subscription alice\.example\)/,
    ],
  ];
  for (const [name, fault, message] of cases) {
    it(`${name}: PanelError, settings unreadable, no SPF fix`, async () => {
      w = await exclusiveWorld();
      w.rest.push(fault);
      await assertUnknown(w, 'other', message);
    });
  }
});
