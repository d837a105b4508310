// SPF check defects QA reproduced:
//  1. permerror findings (spf.syntax, spf.too-many-lookups, spf.void-lookups) offered the SPF fix whose plan could not
//     clear them: the finding now offers it only where the plan (spfFixPath) does — or does once the user selects
//     the unknown term it names — and otherwise says why;
//  2. a relay include with "~"/"?"/"-" counted as authorising the relay (spf.ok, the term "this server");
//  3. ip4/ip6 judged only by "the range contains the server": ip4:0.0.0.0/0 passed as "this server's outbound IP",
//     -ip4:<the server's network> was "this server's";
//  4. a/24 and mx/24 were "not a term mailhealth can read" (spf.unknown-term, offered for removal).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { Finding, MailSettings } from '../../../src/core/model.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from './context.js';
import { SPF_QA_WORLD } from '../../helpers/spf-qa-world.js';

const D = 'cust.example';
const RELAY = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;
const rules = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule} ${f.subject ?? ''} fix=${f.fix ?? '-'} ${f.classification?.class ?? ''} | ${f.message}`).join('\n');

const WORLD: ZoneMap = SPF_QA_WORLD;

async function check(spf: string, settings: Partial<MailSettings> = {}, extra: ZoneMap = {}) {
  const map: ZoneMap = { ...WORLD, ...extra };
  map[D] = { ...(map[D] ?? {}), TXT: [[spf]] };
  return spfCheck(checkContext(D, map, settings));
}

const one = (fs: Finding[], rule: string, subject?: string) => {
  const f = fs.find((x) => x.rule === rule && (subject === undefined || x.subject === subject));
  assert.ok(f, `${rule} ${subject ?? ''}\n${rules(fs)}`);
  return f;
};

describe('spf check (QA 1): permerror findings offer the fix only where its plan clears them', () => {
  test('spfmany2: 12 lookups, all mail services → spf.too-many-lookups without a fix, saying why', async () => {
    const fs = await check('v=spf1 include:_spf.google.com include:spf.protection.outlook.com include:mailgun.org include:relay.mailchannels.net include:sendgrid.net ~all', RELAY);
    const f = one(fs, 'spf.too-many-lookups');
    assert.equal(f.severity, 'fail');
    assert.equal(f.fix, undefined, rules(fs));
    assert.match(f.message, /The SPF fix cannot clear this: .*DNS lookups \(limit 10/);
    assert.ok(!fs.some((x) => x.fix), `no SPF finding offers a fix whose plan is blocked\n${rules(fs)}`);
  });

  test('a stale term beside a lookup count the fix cannot bring down offers no fix either (the plan is blocked)', async () => {
    const fs = await check(
      'v=spf1 include:_spf.google.com include:spf.protection.outlook.com include:mailgun.org include:sendgrid.net include:websitewelcome.com include:_netblocks.google.com ~all',
      RELAY,
    );
    assert.equal(one(fs, 'spf.too-many-lookups').fix, undefined, rules(fs));
    assert.equal(one(fs, 'spf.stale-term', 'include:websitewelcome.com').fix, undefined, rules(fs));
    assert.equal(one(fs, 'spf.server-not-authorized').fix, undefined, rules(fs));
  });

  test('a broken record behind a mail service’s include → spf.syntax without a fix', async () => {
    const fs = await check('v=spf1 include:_spf.google.com include:relay.mailchannels.net ~all', RELAY, { '_netblocks.google.com': { TXT: [['v=spf1 ip4:172.217.0.0/33 ~all']] } });
    const f = one(fs, 'spf.syntax', 'include:_spf.google.com');
    assert.equal(f.fix, undefined, rules(fs));
    assert.match(f.message, /The SPF fix cannot clear this: .*include:_spf\.google\.com leads to a record receivers cannot evaluate/);
  });

  for (const [name, spf, subject] of [
    ['spfnestbad', 'v=spf1 include:broken.vendor.example include:relay.mailchannels.net ~all', 'include:broken.vendor.example'],
    ['spfloop', 'v=spf1 include:loop-a.vendor.example include:relay.mailchannels.net ~all', 'include:loop-a.vendor.example'],
  ] as const) {
    test(`${name}: the culprit is a term nobody could identify → the fix is offered, saying it must be selected`, async () => {
      const fs = await check(spf, RELAY);
      const f = one(fs, 'spf.syntax', subject);
      assert.equal(f.fix, 'spf', rules(fs));
      assert.ok(f.message.includes(`The SPF fix drops ${subject} only once you select it for removal`), f.message);
      one(fs, 'spf.unknown-term', subject);
    });
  }

  test('spfvoid2: void lookups from unknown names → offered, the terms to select named', async () => {
    const fs = await check('v=spf1 a:gone1.oldvendor.example a:noaddr2.oldvendor.example a:noaddr3.oldvendor.example include:relay.mailchannels.net ~all', RELAY);
    const f = one(fs, 'spf.void-lookups');
    assert.equal(f.fix, 'spf', rules(fs));
    assert.match(f.message, /drops a:gone1\.oldvendor\.example, a:noaddr2\.oldvendor\.example, a:noaddr3\.oldvendor\.example only once you select them/);
  });

  test('a permerror the plan clears by itself (a syntax error in the record) keeps its fix, message unchanged', async () => {
    const fs = await check('v=spf1 ip4:192.0.2.300 include:relay.mailchannels.net ~all', RELAY);
    const f = one(fs, 'spf.syntax');
    assert.equal(f.fix, 'spf', rules(fs));
    assert.doesNotMatch(f.message, /SPF fix/);
  });
});

describe('spf check (QA 2): only a "+" include authorises the relay', () => {
  for (const q of ['~', '?', '-']) {
    test(`${q}include:relay.mailchannels.net → spf.server-not-authorized with the fix, not spf.ok / "this server"`, async () => {
      const fs = await check(`v=spf1 include:_spf.google.com ${q}include:relay.mailchannels.net -all`, RELAY);
      const f = one(fs, 'spf.server-not-authorized');
      assert.equal(f.severity, 'fail');
      assert.equal(f.fix, 'spf');
      assert.ok(f.message.includes(`${q}include:relay.mailchannels.net`), f.message);
      assert.match(f.message, /RFC 7208 §4\.6\.2/);
      assert.ok(!fs.some((x) => x.rule === 'spf.ok'), rules(fs));
      assert.ok(!fs.some((x) => x.subject === `${q}include:relay.mailchannels.net` && x.classification?.class === 'this-server'), rules(fs));
    });
  }

  test('+include and a plain include still authorise it (no regression)', async () => {
    for (const spf of ['v=spf1 +include:relay.mailchannels.net -all', 'v=spf1 include:relay.mailchannels.net -all']) {
      const fs = await check(spf, RELAY);
      assert.ok(fs.some((x) => x.rule === 'spf.ok'), rules(fs));
    }
  });

  test('a ~include of the relay before a plain one decides first → not authorised', async () => {
    const fs = await check('v=spf1 ~include:relay.mailchannels.net include:relay.mailchannels.net ~all', RELAY);
    one(fs, 'spf.server-not-authorized');
  });

  test('the relay reached with "~" inside an included record → not authorised (the include does not match)', async () => {
    const fs = await check('v=spf1 include:spf.group.example -all', RELAY, { 'spf.group.example': { TXT: [['v=spf1 ~include:relay.mailchannels.net -all']] } });
    const f = one(fs, 'spf.server-not-authorized');
    assert.match(f.message, /does not include relay\.mailchannels\.net/);
  });

  test('the relay included with "+" inside an included record still counts', async () => {
    const fs = await check('v=spf1 include:spf.group.example -all', RELAY, { 'spf.group.example': { TXT: [['v=spf1 include:relay.mailchannels.net -all']] } });
    assert.ok(!fs.some((x) => x.rule === 'spf.server-not-authorized'), rules(fs));
  });
});

describe('spf check (QA 3): ip4/ip6 ranges judged by what they do', () => {
  test('dall0: ip4:0.0.0.0/0 → spf.permissive-all (fail, fix), never "this server’s outbound IP", no spf.ok', async () => {
    const fs = await check('v=spf1 ip4:0.0.0.0/0 -all');
    const f = one(fs, 'spf.permissive-all', 'ip4:0.0.0.0/0');
    assert.equal(f.severity, 'fail');
    assert.equal(f.fix, 'spf');
    assert.match(f.message, /every IPv4 address/);
    assert.ok(!fs.some((x) => x.rule === 'spf.ok' || (x.rule === 'spf.term' && x.subject === 'ip4:0.0.0.0/0')), rules(fs));
  });

  test('ip6:::/0 and ip4:0.0.0.0/7 are as permissive; ip4:17.0.0.0/8 and ip6:2001:4860::/32 are not', async () => {
    const fs = await check(`v=spf1 ip6:::/0 ip4:0.0.0.0/7 ip4:17.0.0.0/8 ip6:2001:4860::/32 ip4:${SERVER_IP} -all`);
    one(fs, 'spf.permissive-all', 'ip6:::/0');
    one(fs, 'spf.permissive-all', 'ip4:0.0.0.0/7');
    assert.ok(!fs.some((x) => x.rule === 'spf.permissive-all' && (x.subject === 'ip4:17.0.0.0/8' || x.subject === 'ip6:2001:4860::/32')), rules(fs));
  });

  test('a wide range after all is ignored by receivers: not reported as permissive', async () => {
    const fs = await check(`v=spf1 ip4:${SERVER_IP} -all ip4:0.0.0.0/0`);
    assert.ok(!fs.some((x) => x.rule === 'spf.permissive-all'), rules(fs));
  });

  test('dnegcidr: -ip4 covering this server → not "this server’s"; spf.server-not-authorized names it', async () => {
    const fs = await check('v=spf1 -ip4:203.0.113.0/28 include:_spf.google.com ~all');
    const f = one(fs, 'spf.server-not-authorized');
    assert.ok(f.message.includes('-ip4:203.0.113.0/28 matches it first'), f.message);
    assert.equal(f.fix, 'spf');
    const t = fs.find((x) => x.subject === '-ip4:203.0.113.0/28');
    assert.ok(t, rules(fs));
    assert.notEqual(t.classification?.class, 'this-server', rules(fs));
    assert.match(t.message, /"-" qualifier fails this server's mail/);
  });

  test('a positive range containing the server is still this server’s, said as a range', async () => {
    const fs = await check('v=spf1 ip4:203.0.113.0/24 -all');
    const t = one(fs, 'spf.term', 'ip4:203.0.113.0/24');
    assert.equal(t.classification?.class, 'this-server');
    assert.match(t.message, /203\.0\.113\.0\/24 contains this server's outbound IP 203\.0\.113\.10/);
    one(fs, 'spf.ok');
  });
});

describe('spf check (QA 4): CIDR lengths on a and mx (RFC 7208 §5.6)', () => {
  const extra: ZoneMap = { [D]: { A: [SERVER_IP], MX: [{ priority: 10, exchange: 'server1.newhost.example' }] } };
  test('daslash: a/24 mx/24 are classified like a and mx (this server), not "not a term mailhealth can read"', async () => {
    const fs = await check('v=spf1 a/24 mx/24 include:websitewelcome.com -all', {}, extra);
    for (const t of ['a/24', 'mx/24']) {
      const f = one(fs, 'spf.term', t);
      assert.equal(f.classification?.class, 'this-server', rules(fs));
    }
    assert.ok(!fs.some((x) => x.rule === 'spf.unknown-term'), rules(fs));
  });

  test('a:host/24, mx//64, a/24//64, +mx/24//128 are readable too', async () => {
    const terms = ['a:server1.newhost.example/24', 'mx//64', 'a/24//64', '+mx/24//128'];
    const fs = await check(`v=spf1 ${terms.join(' ')} -all`, {}, extra);
    for (const t of terms) assert.equal(one(fs, 'spf.term', t).classification?.class, 'this-server', rules(fs));
    assert.ok(!fs.some((x) => /not a term mailhealth can read/.test(x.message)), rules(fs));
  });

  // The prefix length counts: a/24 of a host at 203.0.113.99 covers this server's 203.0.113.10 (it was classed by the
  // host's own address, "not this server", and offered for removal — the one term that authorised the server).
  test('a/24 and mx/24 whose host is another address in this server\'s /24: this server\'s, not an unknown term', async () => {
    const near: ZoneMap = { [D]: { A: ['203.0.113.99'], MX: [{ priority: 10, exchange: 'mx.near.example' }] }, 'mx.near.example': { A: ['203.0.113.98'] } };
    const fs = await check('v=spf1 a/24 mx/24 -all', {}, near);
    for (const t of ['a/24', 'mx/24']) {
      const f = one(fs, 'spf.term', t);
      assert.equal(f.classification?.class, 'this-server', rules(fs));
      assert.match(f.classification!.reason, /\/24 network holds this server's outbound IP 203\.0\.113\.10/);
    }
    assert.ok(!fs.some((x) => x.rule === 'spf.unknown-term'), rules(fs));
    one(fs, 'spf.ok');
    // Without the prefix the same hosts are not this server's.
    const bare = await check('v=spf1 a mx -all', {}, near);
    assert.ok(bare.some((x) => x.rule === 'spf.unknown-term' && x.subject === 'a'), rules(bare));
  });
});
