// spf.string-too-long offered the SPF fix wherever the panel's zone stored the SPF record as one string over 255 bytes
// (RFC 1035 §3.3.14: a TXT character-string holds at most 255; BIND refuses such a zone). Where the panel's DNS is not
// the live one the SPF fix is planned over the live records (published at the live DNS host) and leaves the panel's
// copy as it is, so the finding offered a fix that does not fix it. Now the fix is offered only where its plan rewrites
// that record (the panel's DNS is the live one, the plan not blocked), as dkim.string-too-long and
// dmarc.string-too-long do; elsewhere the message says to edit the record in the panel's DNS editor.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { Finding, ZoneRecord } from '../../../src/core/model.js';
import { makePlanWith } from '../../../src/core/plans/index.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from './context.js';

const D = 'shop.example';
const OURS = ['ns1.newhost.example', 'ns2.newhost.example'];
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.fix ? ` fix=${f.fix}` : ''}: ${f.message}`).join('\n');

/** An SPF record of 300 bytes that authorises this server: ip4 terms of documentation addresses, then the server's. */
function longSpf(): string {
  const terms = ['v=spf1'];
  for (let i = 1; Buffer.byteLength(terms.join(' ')) < 270; i++) terms.push(`ip4:198.51.100.${i}`);
  const rec = `${terms.join(' ')} ip4:${SERVER_IP} -all`;
  assert.ok(Buffer.byteLength(rec) > 255, rec);
  return rec;
}
const LONG = longSpf();
/** How DNS carries it: strings of at most 255 bytes. */
const SPLIT = [LONG.slice(0, 255), LONG.slice(255)];

function setup(ns: string[], live: string[][]) {
  const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'TXT', value: LONG, txt: [LONG], ref: 'spf' }];
  const map: ZoneMap = { [D]: { NS: ns, TXT: live } };
  return checkContext(D, map, {}, zone);
}

describe('spf.string-too-long: the fix offered only where it rewrites the panel\'s record', () => {
  test('the panel DNS live → fail offering the SPF fix, whose plan stores the record as strings of at most 255 bytes, same text', async () => {
    const ctx = setup(OURS, [SPLIT]);
    const findings = await spfCheck(ctx);
    const f = findings.find((x) => x.rule === 'spf.string-too-long');
    assert.ok(f, show(findings));
    assert.equal(f.severity, 'fail');
    assert.equal(f.fix, 'spf');
    assert.match(f.message, /The SPF fix rewrites it as strings of at most 255 bytes/);
    const plan = await makePlanWith(ctx, 'spf');
    assert.equal(plan.mode, 'apply');
    assert.equal(plan.blocked, undefined, plan.blocked);
    const c = plan.changes.find((x) => x.before?.ref === 'spf');
    assert.ok(c, JSON.stringify(plan.changes));
    const strings = c.after?.txt;
    assert.ok(strings && strings.every((s) => Buffer.byteLength(s) <= 255), JSON.stringify(c.after));
    assert.equal(strings.join(''), LONG);
  });

  test("the panel's DNS not the live one: flagged, a hand edit — the fix's plan there does not touch the panel's copy", async () => {
    const ctx = setup(['ns1.otherhost.example'], [SPLIT]);
    const findings = await spfCheck(ctx);
    const f = findings.find((x) => x.rule === 'spf.string-too-long');
    assert.ok(f, show(findings));
    assert.equal(f.severity, 'fail');
    assert.equal(f.fix, undefined, show(findings));
    assert.match(f.message, /Edit the record in the panel's DNS editor/);
    const plan = await makePlanWith(ctx, 'spf');
    assert.notEqual(plan.mode, 'apply');
    assert.ok(!plan.changes.some((c) => c.before?.ref === 'spf'), JSON.stringify(plan.changes));
  });
});
