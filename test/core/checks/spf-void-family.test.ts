// Void lookups as receivers count them: an a/mx term asks for the sender's address family only (A for IPv4, AAAA for
// IPv6: RFC 7208 §5.3/§5.4), so a name with IPv4 addresses only is a void lookup for every IPv6 sender. The record
// check counted a name void only when it had neither family, and said spf.ok for records pyspf answers permerror for
// IPv6 senders (differential QA: test/e2e/audit-verdicts-oracles.test.ts). And the SPF fix merging two records kept
// "+a" beside "a" (one term: "+" is the default), each repeat another lookup (oracle QA: the merged record of
// spf-two.example failed IPv6 senders with 4 void lookups).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { Finding, ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from './context.js';

const D = 'fam.example';
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''} [${f.subject ?? ''}]: ${f.message}`).join('\n');

function world(spf: string[], v6 = false) {
  const map: ZoneMap = {
    [D]: { TXT: spf.map((t) => [t]), A: [SERVER_IP], MX: [{ priority: 10, exchange: `mail.${D}` }], ...(v6 ? { AAAA: ['2001:db8::10'] } : {}) },
    [`mail.${D}`]: { A: [SERVER_IP], ...(v6 ? { AAAA: ['2001:db8::10'] } : {}) },
    [`www.${D}`]: { A: [SERVER_IP], ...(v6 ? { AAAA: ['2001:db8::10'] } : {}) },
  };
  const zone: ZoneRecord[] = spf.map((t) => ({ name: D, ttl: 3600, type: 'TXT', value: t, txt: [t] }));
  return { ctx: checkContext(D, map, {}, zone), zone };
}

describe('spf: void lookups per address family', () => {
  test('three names with IPv4 addresses only: spf.void-lookups for IPv6 senders (no fix: the names exist), not spf.ok', async () => {
    const fs = await spfCheck(world([`v=spf1 ip4:${SERVER_IP} a mx a:www.${D} ~all`]).ctx);
    const v = fs.filter((f) => f.rule === 'spf.void-lookups');
    assert.equal(v.length, 1, show(fs));
    assert.equal(v[0].severity, 'fail');
    assert.equal(v[0].subject, 'IPv6');
    assert.equal(v[0].fix, undefined);
    assert.match(v[0].message, /^The SPF record causes 3 void lookups for IPv6 senders \(limit 2\) — receivers look up only the sender's address family, and these names have no IPv6 address \(AAAA\): a: 1, mx: 1, a:www\.fam\.example: 1\. Past 2, receivers return permerror for mail from IPv6 addresses/);
    assert.ok(!fs.some((f) => f.rule === 'spf.ok'), show(fs));
  });

  test('the same names with IPv6 addresses too: no void lookup; two such names: within the limit', async () => {
    for (const [spf, v6] of [[`v=spf1 ip4:${SERVER_IP} a mx a:www.${D} ~all`, true], [`v=spf1 ip4:${SERVER_IP} a mx ~all`, false]] as const) {
      const fs = await spfCheck(world([spf], v6).ctx);
      assert.ok(!fs.some((f) => f.rule === 'spf.void-lookups'), `${spf} (AAAA: ${v6}): ${show(fs)}`);
      assert.ok(fs.some((f) => f.rule === 'spf.ok'), show(fs));
    }
  });

  test('the SPF fix merging "+a +mx" with "a mx" keeps one of each', async () => {
    const { ctx, zone } = world(['v=spf1 +a +mx ~all', 'v=spf1 a mx ~all']);
    const plan = await planSpf(ctx, zone, {});
    // The zone as the plan leaves it: one SPF record (the merge may keep one of the two as it stands).
    const gone = new Set(plan.changes.flatMap((c) => (c.before ? [c.before.value] : [])));
    const left = [...zone.filter((r) => !gone.has(r.value)).map((r) => r.value), ...plan.changes.flatMap((c) => (c.after ? [c.after.value] : []))];
    assert.equal(left.length, 1, JSON.stringify(plan));
    const terms = left[0].split(' ');
    assert.equal(terms.filter((t) => /^\+?a$/.test(t)).length, 1, left[0]);
    assert.equal(terms.filter((t) => /^\+?mx$/.test(t)).length, 1, left[0]);
  });
});
