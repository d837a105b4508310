// check_host's mx looks up every MX name before comparing (RFC 7208 §5.4), as pyspf does: an MX name without an
// address of the sender's family after the one that matches is still a void lookup. It stopped at the first match,
// and said "pass" where such receivers answer permerror (differential QA: test/e2e/audit-verdicts-oracles.test.ts,
// hand-made mx-after-match).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkHost } from '../../../src/core/spf/evaluate.js';
import { MapResolver } from '../../helpers/map-resolver.js';

const IP6 = '2001:db8:10::25';
const world = (spf: string) =>
  new MapResolver({
    'd.example': { TXT: [[spf]], MX: [{ priority: 10, exchange: 'mail.d.example' }, { priority: 20, exchange: 'mx.other.example' }] },
    'mail.d.example': { AAAA: [IP6] },
    'mx.other.example': { A: ['192.0.2.9'] },
  });

test('two void lookups before mx, and an MX name after the matching one without AAAA: permerror for the IPv6 sender', async () => {
  const r = await checkHost(IP6, 'd.example', 'postmaster@d.example', 'helo.example', world('v=spf1 a:gone1.nowhere.example a:gone2.nowhere.example mx -all'));
  assert.equal(r.result, 'permerror', JSON.stringify(r.trace));
});

test('the same with one void lookup before it: pass (every MX name looked up, within the limit)', async () => {
  const res = world('v=spf1 a:gone1.nowhere.example mx -all');
  const r = await checkHost(IP6, 'd.example', 'postmaster@d.example', 'helo.example', res);
  assert.equal(r.result, 'pass', JSON.stringify(r.trace));
  assert.ok(res.log.includes('mx.other.example AAAA'), `every MX name asked: ${res.log.join(', ')}`);
});
