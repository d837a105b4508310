// A redirect= beside an `all` term: RFC 7208 §6.1 has receivers ignore it, yet two independent SPF libraries that
// receiving servers run (pyspf, behind postfix-policyd-spf-python; Mail::SPF, behind SpamAssassin and
// postfix-policyd-spf-perl) still look it up and count its lookups (test/e2e/spf-second-judge.test.ts). It authorises
// nobody either way, so it is a term to drop: the check says so as a warning with the SPF fix, and the fix drops it
// even when nothing else in the record needs changing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ZoneRecord } from '../../../src/core/model.js';
import { spfCheck } from '../../../src/core/checks/spf.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import { checkContext, SERVER_IP } from '../checks/context.js';

const D = 'cust.example';
const world = {
  'server1.newhost.example': { A: [SERVER_IP] },
  '10.113.0.203.in-addr.arpa': { PTR: ['server1.newhost.example'] },
  '_spf.google.com': { TXT: [['v=spf1 ip4:172.217.0.0/19 ~all']] },
  '_spf.cust.example': { TXT: [[`v=spf1 ip4:${SERVER_IP} -all`]] },
};
const RECORD = `v=spf1 ip4:${SERVER_IP} include:_spf.google.com redirect=_spf.cust.example ~all`;

function setup(record: string) {
  const rec: ZoneRecord = { name: D, ttl: 3600, type: 'TXT', value: record, txt: [record], ref: 'spf' };
  const zone = [{ name: D, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.', ref: 'ns' } as ZoneRecord, rec];
  return { ctx: checkContext(D, { ...world, [D]: { TXT: [[record]] } }, {}, zone), zone };
}

describe('SPF: redirect= beside all, which some receivers still count', () => {
  test('the check warns, naming the libraries that count it, and offers the SPF fix', async () => {
    const { ctx } = setup(RECORD);
    const fs = await spfCheck(ctx);
    const f = fs.find((x) => x.subject === 'redirect=_spf.cust.example');
    assert.ok(f, fs.map((x) => `${x.severity} ${x.rule} ${x.message}`).join('\n'));
    assert.equal(f.severity, 'warn');
    assert.equal(f.fix, 'spf');
    assert.match(f.message, /ignored by receivers that follow RFC 7208 §6\.1/);
    assert.match(f.message, /pyspf|Mail::SPF/);
  });

  test('the fix drops it when nothing else in the record needs changing', async () => {
    const { ctx, zone } = setup(RECORD);
    const p = await planSpf(ctx, zone, {});
    assert.equal(p.blocked, undefined, p.notes.join('\n'));
    const after = p.changes.find((c) => c.after)?.after;
    assert.equal(after?.value, `v=spf1 ip4:${SERVER_IP} include:_spf.google.com ~all`, p.notes.join('\n'));
  });

  test('a redirect= without an all term decides, and is no finding of this kind', async () => {
    const { ctx } = setup(`v=spf1 include:_spf.google.com redirect=_spf.cust.example`);
    const fs = await spfCheck(ctx);
    assert.equal(fs.find((x) => x.subject === 'redirect=_spf.cust.example' && x.severity === 'warn'), undefined, fs.map((x) => `${x.severity} ${x.rule} ${x.message}`).join('\n'));
  });
});
