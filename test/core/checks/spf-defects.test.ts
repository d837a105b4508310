// SPF check defects found by QA: a DNS timeout/SERVFAIL is `unknown`, never a `fail` (relay and non-relay servers);
// an include of the domain itself is not "this server" because the domain's A record is this server.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { Finding, MailSettings } from '../../../src/core/model.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from './context.js';

const D = 'cust.example';
const RELAY = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;
const rules = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule} ${f.subject ?? ''} ${f.message}`).join('\n');

async function check(spf: string, extra: ZoneMap = {}, settings: Partial<MailSettings> = {}) {
  const map: ZoneMap = {
    '_spf.google.com': { TXT: [['v=spf1 ip4:172.217.0.0/19 ~all']] },
    'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ~all']] },
    ...extra,
  };
  map[D] = { ...(map[D] ?? {}), TXT: [[spf]] };
  return spfCheck(checkContext(D, map, settings));
}

describe('spf check: DNS trouble is unknown, never fail', () => {
  for (const [label, failure] of [
    ['timeout', 'TIMEOUT'],
    ['SERVFAIL', 'SERVFAIL'],
  ] as const) {
    test(`relay: a nested include whose lookup gets no answer (${label}) → spf.dns-error unknown, no spf.server-not-authorized`, async () => {
      const fs = await check('v=spf1 include:_spf.google.com include:spf.newhost-group.example ~all', { 'spf.newhost-group.example': { TXT: failure } }, RELAY);
      assert.ok(!fs.some((f) => f.severity === 'fail'), rules(fs));
      const u = fs.find((f) => f.rule === 'spf.dns-error');
      assert.ok(u && u.severity === 'unknown', rules(fs));
      assert.equal(u.fix, undefined);
      assert.match(u.message, /relay\.mailchannels\.net/);
    });
  }

  test('relay: a deeper include that times out → unknown, not fail', async () => {
    const fs = await check(
      'v=spf1 include:group.example ~all',
      { 'group.example': { TXT: [['v=spf1 include:spf.newhost-group.example ~all']] }, 'spf.newhost-group.example': { TXT: 'TIMEOUT' } },
      RELAY,
    );
    assert.ok(!fs.some((f) => f.rule === 'spf.server-not-authorized'), rules(fs));
    assert.ok(fs.some((f) => f.rule === 'spf.dns-error' && f.severity === 'unknown'), rules(fs));
  });

  test('relay: the relay is included and another include times out → no failure about the relay', async () => {
    const fs = await check('v=spf1 include:relay.mailchannels.net include:slow.example ~all', { 'slow.example': { TXT: 'TIMEOUT' } }, RELAY);
    assert.ok(!fs.some((f) => f.rule === 'spf.server-not-authorized'), rules(fs));
    assert.ok(fs.some((f) => f.rule === 'spf.dns-error' && f.severity === 'unknown'), rules(fs));
  });

  test('relay: every lookup answers and the relay is missing → still a fail (no regression)', async () => {
    const fs = await check('v=spf1 include:_spf.google.com ~all', {}, RELAY);
    const f = fs.find((x) => x.rule === 'spf.server-not-authorized');
    assert.ok(f && f.severity === 'fail' && f.fix === 'spf', rules(fs));
  });

  test('no relay: a nested include times out before the server would match → unknown, not fail', async () => {
    const fs = await check(
      'v=spf1 include:group.example -all',
      { 'group.example': { TXT: [['v=spf1 include:slow.example ~all']] }, 'slow.example': { TXT: 'TIMEOUT' } },
    );
    assert.ok(!fs.some((f) => f.rule === 'spf.server-not-authorized'), rules(fs));
    assert.ok(fs.some((f) => f.rule === 'spf.dns-error' && f.severity === 'unknown' && f.subject === SERVER_IP), rules(fs));
  });

  test('no relay: an a: term whose lookup SERVFAILs → unknown, not fail', async () => {
    const fs = await check('v=spf1 a:mail.other.example -all', { 'mail.other.example': { A: 'SERVFAIL' } });
    assert.ok(!fs.some((f) => f.severity === 'fail'), rules(fs));
    assert.ok(fs.some((f) => f.rule === 'spf.dns-error' && f.severity === 'unknown'), rules(fs));
  });
});

describe('spf check: the domain including itself', () => {
  test('include:<the domain> is reported as the loop it is, never as this server (by the domain’s A record)', async () => {
    const fs = await check('v=spf1 include:cust.example ~all', { [D]: { A: [SERVER_IP] } });
    const loop = fs.find((f) => f.rule === 'spf.syntax' && f.subject === 'include:cust.example');
    assert.ok(loop && loop.severity === 'fail' && loop.fix === 'spf', rules(fs));
    assert.ok(!fs.some((f) => f.rule === 'spf.term' && f.subject === 'include:cust.example'), rules(fs));
    assert.ok(!fs.some((f) => f.subject === 'include:cust.example' && /Kept unless you choose/.test(f.message)), rules(fs));
  });
});

describe('spf check: terms receivers ignore', () => {
  test('redirect=<the domain> beside -all is described as ignored, not as a loop, and nothing fails', async () => {
    const fs = await check(`v=spf1 ip4:${SERVER_IP} redirect=cust.example -all`, { [D]: { A: [SERVER_IP] } });
    const about = fs.filter((f) => f.subject === 'redirect=cust.example');
    assert.ok(!about.some((f) => /loop|permerror/.test(f.message)), rules(fs));
    // A warning with the fix since some receivers' SPF libraries still count it (spf-redirect-counted.test.ts).
    assert.ok(about.some((f) => f.rule === 'spf.term' && f.severity === 'warn' && f.fix === 'spf' && /ignored by receivers that follow RFC 7208/.test(f.message)), rules(fs));
    // (No spf.ok beside that warning: the record has something to fix. Nothing fails.)
    assert.ok(!fs.some((f) => f.severity === 'fail'), rules(fs));
  });

  test('include:<the domain> after -all is described as ignored, not as a loop', async () => {
    const fs = await check(`v=spf1 ip4:${SERVER_IP} -all include:cust.example`, { [D]: { A: [SERVER_IP] } });
    const about = fs.filter((f) => f.subject === 'include:cust.example');
    assert.ok(!about.some((f) => /loop|permerror/.test(f.message)), rules(fs));
    assert.ok(about.some((f) => /ignored by receivers/.test(f.message)), rules(fs));
  });

  test('a previous host’s include after -all is not said to let the old host send', async () => {
    const fs = await check(`v=spf1 ip4:${SERVER_IP} -all include:websitewelcome.com`);
    const about = fs.filter((f) => f.subject === 'include:websitewelcome.com');
    assert.ok(about.length && !about.some((f) => /lets the old host send|costs lookups/.test(f.message)), rules(fs));
  });

  test('an unknown term: the message says the fix drops it only when it cannot work', async () => {
    const fs = await check(`v=spf1 ip4:${SERVER_IP} ip4:198.51.100.77 -all`);
    const u = fs.find((f) => f.rule === 'spf.unknown-term' && f.subject === 'ip4:198.51.100.77');
    assert.ok(u, rules(fs));
    assert.match(u.message, /Kept unless you choose to remove it/);
    assert.doesNotMatch(u.message, /only if its name does not exist/);
  });
});

describe('spf check: the DNS trouble the walker collected', () => {
  test('relay: every lookup that got no answer is named in the unknown finding, deepest ones too', async () => {
    const fs = await check(
      'v=spf1 include:group.example a:mail.other.example ~all',
      { 'group.example': { TXT: [['v=spf1 include:slow.example ~all']] }, 'slow.example': { TXT: 'TIMEOUT' }, 'mail.other.example': { A: 'SERVFAIL' } },
      RELAY,
    );
    const u = fs.find((f) => f.rule === 'spf.dns-error' && f.subject === 'relay.mailchannels.net');
    assert.ok(u && u.severity === 'unknown', rules(fs));
    assert.match(u.message, /slow\.example TXT: DNS error.*; mail\.other\.example A\/AAAA: DNS error/);
    assert.deepEqual((u.evidence as { dnsTrouble?: readonly string[] }).dnsTrouble?.length, 2);
  });
});
