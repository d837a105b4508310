// Verdicts no other test pinned, found by manual mutation testing of src/core/classify.ts, src/core/checks/{spf,
// lockdown,mx,dmarc}.ts and src/core/plans/lockdown.ts: each test below fails when the rule it names is removed or
// loosened (the mutant that survived the other tests is named beside it).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dmarcCheck } from '../../../src/core/checks/dmarc.js';
import { lockdownCheck } from '../../../src/core/checks/lockdown.js';
import { mxCheck } from '../../../src/core/checks/mx.js';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planLockdown } from '../../../src/core/plans/lockdown.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from './context.js';

const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule} ${f.subject ?? ''} fix=${f.fix ?? '-'} | ${f.message}`).join('\n');
const txt = (name: string, value: string, ref: string): ZoneRecord => ({ name, ttl: 3600, type: 'TXT', value, txt: [value], ref });

describe('classifier: a DMARC report address at the domain itself', () => {
  // A subdomain sending its reports to its organisation's own address (rua=mailto:dmarc@cust.example for
  // shop.cust.example) is the customer's own, not an address nothing identifies (mutant: only names inside the
  // domain counted).
  const D = 'shop.cust.example';
  const RECORD = 'v=DMARC1; p=quarantine; rua=mailto:dmarc@cust.example';

  test('an address at the organisational domain is on the domain itself (this-server), not unknown', async () => {
    const ctx = checkContext(D, {});
    const c = await ctx.classifier.reportAddress('dmarc@cust.example');
    assert.equal(c.class, 'this-server', c.reason);
    assert.match(c.reason, /on the domain itself/);
  });

  test('the dmarc check says so: dmarc.destination with that classification, no authorisation needed', async () => {
    const map: ZoneMap = { [`_dmarc.${D}`]: { TXT: [[RECORD]] } };
    const fs = await dmarcCheck(checkContext(D, map));
    const dest = fs.find((f) => f.rule === 'dmarc.destination');
    assert.ok(dest, show(fs));
    assert.equal(dest.classification?.class, 'this-server', show(fs));
    assert.ok(!fs.some((f) => f.rule === 'dmarc.unauthorized-destination' || f.rule === 'dmarc.stale-destination'), show(fs));
  });
});

describe('lockdown check: relaying through MailChannels with no account id configured', () => {
  // Without this host's account id no id can be judged: each is lockdown.unknown-id with severity unknown (not info,
  // which is for an id judged to be nobody's known), and the check never says "Domain Lockdown authorises this host's
  // MailChannels account" (mutant: severity always info, which let lockdown.ok through).
  const D = 'noid.example';
  const NAME = `_mailchannels.${D}`;
  const NO_ID = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net' } } as Partial<MailSettings>;

  test('an id is lockdown.unknown-id with severity unknown, and there is no lockdown.ok', async () => {
    const rec = 'v=mc1 auth=someaccount';
    const fs = await lockdownCheck(checkContext(D, { [NAME]: { TXT: [[rec]] } }, NO_ID, [txt(NAME, rec, 'l0')]));
    const u = fs.find((f) => f.rule === 'lockdown.unknown-id');
    assert.ok(u, show(fs));
    assert.equal(u.severity, 'unknown', show(fs));
    assert.match(u.message, /account id is not configured/);
    assert.ok(!fs.some((f) => f.rule === 'lockdown.ok'), `nothing says the record authorises this host\n${show(fs)}`);
  });
});

describe('lockdown fix: an account id that cannot be written in a record', () => {
  // The record would carry it as "auth=new host": the plan is blocked, saying to correct the id in the admin settings.
  const D = 'badid.example';
  const NAME = `_mailchannels.${D}`;
  for (const id of ['new host', 'newhost,mc', 'newhost;mc']) {
    test(`authId ${JSON.stringify(id)}: the plan is blocked, nothing is written`, async () => {
      const settings = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: id } } as Partial<MailSettings>;
      const rec = 'v=mc1 auth=oldhostmc';
      const zone = [txt(NAME, rec, 'l0')];
      const plan = await planLockdown(checkContext(D, { [NAME]: { TXT: [[rec]] } }, settings, zone), zone);
      assert.deepEqual(plan.changes, [], JSON.stringify(plan.changes));
      assert.match(plan.blocked ?? '', /cannot be written in a Domain Lockdown record/, plan.blocked);
    });
  }
});

describe("spf check: the relay's include would take the record past 2 void lookups", () => {
  // The record has 2 void lookups (a mail service's record names two hosts without addresses); the relay's own record
  // costs one more. The fix must add the relay's include, which makes 3 (permerror): its plan is blocked, so no finding
  // may offer it, and the one it concerns says why (mutant: the check's own void limit for the fix's additions at 3).
  const D = 'voids.example';
  const RELAY = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;
  const SPF = 'v=spf1 include:sendgrid.net ~all';
  const MAP: ZoneMap = {
    [D]: { A: [SERVER_IP], MX: [{ priority: 10, exchange: `mail.${D}` }], TXT: [[SPF]] },
    [`mail.${D}`]: { A: [SERVER_IP] },
    'sendgrid.net': { TXT: [['v=spf1 ip4:167.89.0.0/17 a:out1.sendgrid.net a:out2.sendgrid.net ~all']] },
    'out1.sendgrid.net': {},
    'out2.sendgrid.net': {},
    'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 a:gone.mailchannels.net ~all']] },
    'gone.mailchannels.net': {},
  };

  test('the plan is blocked by the void-lookup limit, and no finding offers the fix', async () => {
    const zone = [txt(D, SPF, 'spf')];
    const ctx = checkContext(D, MAP, RELAY, zone);
    const plan = await planSpf(ctx, zone, {});
    assert.match(plan.blocked ?? '', /3 void lookups \(limit 2/, plan.blocked);
    const fs = await spfCheck(ctx);
    const f = fs.find((x) => x.rule === 'spf.server-not-authorized');
    assert.ok(f, show(fs));
    assert.equal(f.severity, 'fail');
    assert.ok(!fs.some((x) => x.fix), `no finding offers a fix whose plan is blocked\n${show(fs)}`);
    assert.match(f.message, /The SPF fix cannot be applied to this record as it stands\. .*3 void lookups/, f.message);
  });
});

describe("the domain's own nameserver in its NS and SOA is no trace of a previous host", () => {
  // A zone whose NS and SOA name the domain's own (vanity, "private") nameserver — ns1.vanity.example — beside this
  // server's nameservers: only a foreign NS/SOA name is evidence of the host the domain came from. Were the domain's
  // own organisation taken for a previous host, every name of the domain would be "stale": its MX (pointing at this
  // server) reported as a previous host's, its own SPF terms dropped by the fix.
  const D = 'vanity.example';
  const SPF = `v=spf1 ip4:${SERVER_IP} a:app.${D} ~all`;
  const ZONE: ZoneRecord[] = [
    { name: D, ttl: 3600, type: 'SOA', value: `ns1.${D}. hostmaster.${D}. 1 3600 1800 1209600 300`, ref: 'soa' },
    { name: D, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.', ref: 'ns1' },
    { name: D, ttl: 3600, type: 'NS', value: 'ns2.newhost.example.', ref: 'ns2' },
    { name: D, ttl: 3600, type: 'NS', value: `ns1.${D}.`, ref: 'ns3' },
    { name: D, ttl: 3600, type: 'MX', value: `10 mail.${D}.`, ref: 'mx' },
    { name: `mail.${D}`, ttl: 3600, type: 'A', value: SERVER_IP, ref: 'mail' },
    txt(D, SPF, 'spf'),
  ];
  const MAP: ZoneMap = {
    [D]: { MX: [{ priority: 10, exchange: `mail.${D}` }], TXT: [[SPF]], NS: ['ns1.newhost.example', 'ns2.newhost.example', `ns1.${D}`] },
    [`mail.${D}`]: { A: [SERVER_IP] },
    [`app.${D}`]: { A: ['198.51.100.5'] },
  };
  const ctx = () => checkContext(D, MAP, {}, ZONE);

  test("a name of the domain is judged by its addresses, not called the previous host's", async () => {
    const c = ctx().classifier;
    assert.equal((await c.host(`mail.${D}`)).class, 'this-server');
    const app = await c.spfTerm(`a:app.${D}`);
    assert.equal(app.class, 'unknown', app.reason);
  });

  test("the mx check does not call the MX stale, and the SPF fix leaves the domain's own term (and record) as it is", async () => {
    const fs = await mxCheck(ctx());
    assert.ok(!fs.some((f) => f.rule === 'mx.stale'), show(fs));
    const plan = await planSpf(ctx(), ZONE, {});
    assert.equal(plan.blocked, undefined, plan.blocked);
    assert.deepEqual(plan.changes, [], `the record is right as it is\n${plan.notes.join('\n')}`);
  });
});

describe("spf check: the relay's include written with '~'", () => {
  // spf.server-not-authorized names ~include:relay.mailchannels.net and the fix makes it a plain include: the term gets
  // no finding of its own that would contradict that (mutant: the term classified like any other, as "unknown: kept
  // unless you choose to remove it").
  const D = 'tilde.example';
  const RELAY = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;
  const SPF = 'v=spf1 ~include:relay.mailchannels.net ~all';

  test('one finding about the term: the server-not-authorized failure', async () => {
    const map: ZoneMap = {
      [D]: { A: [SERVER_IP], MX: [{ priority: 10, exchange: `mail.${D}` }], TXT: [[SPF]] },
      [`mail.${D}`]: { A: [SERVER_IP] },
      'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ~all']] },
    };
    const fs = await spfCheck(checkContext(D, map, RELAY, [txt(D, SPF, 'spf')]));
    const bad = fs.find((f) => f.rule === 'spf.server-not-authorized');
    assert.ok(bad, show(fs));
    assert.match(bad.message, /~include:relay\.mailchannels\.net/);
    assert.deepEqual(
      fs.filter((f) => f.subject === '~include:relay.mailchannels.net').map((f) => f.rule),
      [],
      `no spf.term / spf.unknown-term for the relay include\n${show(fs)}`,
    );
  });
});

describe("classifier: an mx term whose exchanger is only at this server's provider", () => {
  // mx9.newhost.example is at this server's organisation (newhost.example) but resolves to another address: the term
  // is this server's provider's, and its reason (the spf.term message) says that — not "an MX of … is this server".
  const D = 'near.example';
  test('the reason names the provider, not this server', async () => {
    const map: ZoneMap = {
      [D]: { MX: [{ priority: 10, exchange: 'mx9.newhost.example' }] },
      'mx9.newhost.example': { A: ['198.51.100.9'] },
    };
    const c = await checkContext(D, map).classifier.spfTerm('mx');
    assert.equal(c.class, 'this-server');
    assert.match(c.reason, /own provider \(newhost\.example\)/, c.reason);
    assert.doesNotMatch(c.reason, /is this server$/, c.reason);
  });
});

describe('dmarc check: a report URI that is not mailto:', () => {
  // Receivers are only required to send reports by mail (the remark says so): an https: URI is neither classified as
  // anybody's address nor asked for an RFC 7489 §7.1 authorisation record.
  const D = 'webrua.example';
  test('no destination findings for it, only the remark', async () => {
    const rec = 'v=DMARC1; p=quarantine; rua=https://reports.elsewhere.example/dmarc';
    const fs = await dmarcCheck(checkContext(D, { [`_dmarc.${D}`]: { TXT: [[rec]] } }));
    assert.deepEqual(
      fs.filter((f) => /destination/.test(f.rule)).map((f) => `${f.rule} ${f.subject}`),
      [],
      show(fs),
    );
    assert.ok(fs.some((f) => f.rule === 'dmarc.remarks' && /only required to support mailto/.test(f.message)), show(fs));
    assert.ok(fs.some((f) => f.rule === 'dmarc.ok'), show(fs));
  });
});

describe('spf check: the 512-byte record size', () => {
  // RFC 7208 §3.4: a record over 512 bytes may not fit a UDP answer. Exactly 512 is within; 513 is over.
  const D = 'size.example';
  /** A record of exactly `n` bytes: this server's IP, ip4 terms of distinct addresses, then an a: term whose name pads it. */
  function recordOf(n: number): string {
    const head = `v=spf1 ip4:${SERVER_IP}`;
    const tail = ' ~all';
    const terms: string[] = [];
    let len = head.length + tail.length;
    for (let i = 1; len + ' ip4:198.51.100.1'.length <= n - 20; i++) {
      const t = ` ip4:198.51.${100 + Math.floor(i / 250)}.${i % 250}`;
      terms.push(t);
      len += t.length;
    }
    // The a: term's name (of the domain, answering with this server's IP) takes the bytes still missing (a label of
    // 4 to 21 characters: the loop above stops within 20 to 37 bytes of n).
    const missing = n - len - ' a:'.length;
    const name = `${'x'.repeat(missing - D.length - 1)}.${D}`;
    return `${head}${terms.join('')} a:${name}${tail}`;
  }
  for (const [n, flagged] of [
    [512, false],
    [513, true],
  ] as const) {
    test(`${n} bytes: spf.record-too-long ${flagged ? 'reported' : 'not reported'}`, async () => {
      const spf = recordOf(n);
      assert.equal(Buffer.byteLength(spf), n);
      const name = spf.split(' a:')[1].split(' ')[0];
      const map: ZoneMap = { [D]: { TXT: [spf.match(/.{1,255}/g)!] }, [name]: { A: [SERVER_IP] } };
      const fs = await spfCheck(checkContext(D, map));
      assert.equal(fs.some((f) => f.rule === 'spf.record-too-long'), flagged, show(fs));
    });
  }
});

describe('spf check: an include of a name that publishes several SPF records', () => {
  // It cannot work whoever it names (receivers return permerror): the finding says so, and that the fix drops it —
  // as the fix does (not "kept unless you choose to remove it").
  const D = 'twice.example';
  test('spf.unknown-term says why it cannot work and that the fix drops it', async () => {
    const spf = `v=spf1 ip4:${SERVER_IP} include:spf.twice-vendor.example ~all`;
    const map: ZoneMap = {
      [D]: { TXT: [[spf]] },
      'spf.twice-vendor.example': { TXT: [['v=spf1 ip4:198.51.100.0/24 ~all'], ['v=spf1 ip4:192.0.2.0/24 ~all']] },
    };
    const fs = await spfCheck(checkContext(D, map, {}, [txt(D, spf, 'spf')]));
    const f = fs.find((x) => x.rule === 'spf.unknown-term' && x.subject === 'include:spf.twice-vendor.example');
    assert.ok(f, show(fs));
    assert.match(f.message, /spf\.twice-vendor\.example publishes several SPF records, so the include cannot work/, f.message);
    assert.match(f.message, /The SPF fix drops it\./, f.message);
    assert.doesNotMatch(f.message, /Kept unless you choose/, f.message);
  });
});
