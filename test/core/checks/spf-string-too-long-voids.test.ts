// spf.string-too-long offers the SPF fix where the plan over the panel's zone rewrites the record (the one apply
// makes). Where the record also costs more than 2 void lookups for one address family (spf.void-lookups for IPv6: names
// with IPv4 addresses only), the check asks the plan over the live records whether the fix can clear the findings — and
// the live record, served in strings of at most 255 bytes, needs nothing: "The SPF fix finds nothing it can change
// here" took the fix off spf.string-too-long too, while the plan over the panel's zone (apply's) still rewrote the
// record (offered-invariant.test.ts: a plan that changes the zone with no finding offering it). The live plan says
// nothing of the panel's copy: spf.string-too-long keeps its fix.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { Finding, ZoneRecord } from '../../../src/core/model.js';
import { makePlanWith } from '../../../src/core/plans/index.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from './context.js';

const D = 'shop.example';
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.subject ? ` [${f.subject}]` : ''}${f.fix ? ` fix=${f.fix}` : ''}: ${f.message}`).join('\n');

/** Three names with IPv4 addresses only (void lookups for IPv6 senders), ip4 terms to pass 255 bytes, this server's IP. */
function record(): string {
  const terms = ['v=spf1', 'a:v4a.example', 'a:v4b.example', 'a:v4c.example'];
  for (let i = 1; Buffer.byteLength(terms.join(' ')) < 270; i++) terms.push(`ip4:198.51.100.${i}`);
  return `${terms.join(' ')} ip4:${SERVER_IP} -all`;
}
const LONG = record();

describe('spf.string-too-long beside void lookups for one address family', () => {
  test('the fix stays offered: the plan apply makes rewrites the panel\'s string over 255 bytes', async () => {
    assert.ok(Buffer.byteLength(LONG) > 255);
    const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'TXT', value: LONG, txt: [LONG], ref: 'spf' }];
    const map: ZoneMap = {
      [D]: { NS: ['ns1.newhost.example', 'ns2.newhost.example'], TXT: [[LONG.slice(0, 255), LONG.slice(255)]] },
      'v4a.example': { A: ['192.0.2.1'] },
      'v4b.example': { A: ['192.0.2.2'] },
      'v4c.example': { A: ['192.0.2.3'] },
    };
    const ctx = checkContext(D, map, {}, zone);
    const findings = await spfCheck(ctx);
    const voids = findings.find((f) => f.rule === 'spf.void-lookups');
    assert.ok(voids && voids.subject === 'IPv6' && !voids.fix, show(findings));
    const long = findings.find((f) => f.rule === 'spf.string-too-long');
    assert.ok(long, show(findings));
    assert.equal(long.fix, 'spf', show(findings));
    const plan = await makePlanWith(ctx, 'spf');
    assert.equal(plan.mode, 'apply');
    assert.equal(plan.blocked, undefined, plan.blocked);
    const c = plan.changes.find((x) => x.before?.ref === 'spf');
    assert.ok(c?.after?.txt && c.after.txt.every((s) => Buffer.byteLength(s) <= 255), JSON.stringify(plan.changes));
    assert.equal(c.after.txt.join(''), LONG);
  });
});
