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
