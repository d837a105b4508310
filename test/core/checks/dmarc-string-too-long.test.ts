// dmarc.string-too-long: the panel's zone storing the DMARC record as one string over 255 bytes (which a TXT record
// cannot carry, RFC 1035 §3.3.14; BIND refuses to load such a zone) was not flagged — the DMARC planner rewrites it as
// strings of at most 255 bytes, but no finding offered that fix, so nobody saw it. Now a fail, as spf.string-too-long
// and dkim.string-too-long, offering the DMARC fix only where its plan rewrites the record (the panel's DNS is the live
// one, and the plan is not blocked); elsewhere a hand edit. Like the SPF and DKIM findings it is about the panel's own
// copy, so the live-elsewhere note (src/core/checks/dns.ts noteLiveElsewhere) is not added to it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dmarcCheck } from '../../../src/core/checks/dmarc.js';
import type { Finding, ZoneRecord } from '../../../src/core/model.js';
import { dmarcStrings } from '../../../src/core/plans/dmarc.js';
import { makePlanWith } from '../../../src/core/plans/index.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from './context.js';

const D = 'shop.example';
const NAME = `_dmarc.${D}`;
/** This server's nameservers (checkContext's settings) answer for the domain: the panel's zone is the live one. */
const OURS = { NS: ['ns1.newhost.example', 'ns2.newhost.example'] };
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.fix ? ` fix=${f.fix}` : ''}: ${f.message}`).join('\n');

/**
 * A DMARC record of exactly `bytes` bytes that the DMARC fix has nothing else to change in: a policy, and aggregate
 * addresses on the domain itself (none a previous host's, none needing another domain's authorisation).
 */
function recordOf(bytes: number): string {
  const head = `v=DMARC1; p=quarantine; adkim=s; rua=`;
  const addrs = Array.from({ length: 6 }, (_, i) => `mailto:dmarc-reports-${i}@${D}`);
  const body = `${head}${addrs.join(',')},mailto:x`;
  const pad = bytes - Buffer.byteLength(`${body}@${D}`);
  assert.ok(pad >= 0, `${bytes} bytes is too short for the test record`);
  const rec = `${body}${'x'.repeat(pad)}@${D}`;
  assert.equal(Buffer.byteLength(rec), bytes);
  return rec;
}
const LONG = recordOf(300);

interface World {
  /** The DMARC record in the panel's zone, as its strings. */
  panel: string[];
  /** What live DNS serves at _dmarc (default: the panel's record, as DNS carries it — strings of ≤255 bytes). */
  live?: string[][];
  ns?: ZoneMap[string]['NS'];
  extra?: ZoneRecord[];
}

function setup(w: World) {
  const zone: ZoneRecord[] = [{ name: NAME, ttl: 3600, type: 'TXT', value: w.panel.join(''), txt: w.panel, ref: 'dmarc' }, ...(w.extra ?? [])];
  const map: ZoneMap = { [D]: { NS: w.ns ?? OURS.NS }, [NAME]: { TXT: w.live ?? [dmarcStrings(w.panel.join(''))] } };
  return { ctx: checkContext(D, map, {}, zone), zone };
}

describe('dmarc.string-too-long', () => {
  test('a 300-byte DMARC record stored as one string, the panel DNS live → fail offering the DMARC fix, whose plan splits it into strings ≤255 bytes, same text', async () => {
    const { ctx } = setup({ panel: [LONG] });
    const findings = await dmarcCheck(ctx);
    const f = findings.find((x) => x.rule === 'dmarc.string-too-long');
    assert.ok(f, show(findings));
    assert.equal(f.severity, 'fail');
    assert.equal(f.fix, 'dmarc');
    assert.match(f.message, /one string of 300 bytes/);
    assert.match(f.message, /The DMARC fix rewrites it as strings of at most 255 bytes/);
    // A fail in the check: it does not also say the record is fine.
    assert.ok(!findings.some((x) => x.rule === 'dmarc.ok'), show(findings));

    // The fix the finding offers, as preview and apply make it.
    const plan = await makePlanWith(ctx, f.fix);
    assert.equal(plan.mode, 'apply');
    assert.equal(plan.blocked, undefined, plan.blocked);
    assert.equal(plan.changes.length, 1, JSON.stringify(plan.changes));
    const [c] = plan.changes;
    assert.equal(c.before?.ref, 'dmarc');
    const strings = c.after?.txt;
    assert.ok(strings && strings.length > 1, JSON.stringify(c.after));
    assert.ok(strings.every((s) => Buffer.byteLength(s) <= 255), JSON.stringify(strings));
    assert.equal(strings.join(''), LONG);
    assert.equal(c.after?.value, LONG);
  });

  test('the same record stored as strings of at most 255 bytes: no finding, and the check passes it', async () => {
    for (const panel of [dmarcStrings(LONG), [LONG.slice(0, 255), LONG.slice(255)]]) {
      const findings = await dmarcCheck(setup({ panel }).ctx);
      assert.ok(!findings.some((x) => x.rule === 'dmarc.string-too-long'), show(findings));
      assert.ok(findings.some((x) => x.rule === 'dmarc.ok'), show(findings));
    }
  });

  test("the panel's DNS is not the live one, which serves another record: flagged, a hand edit, without the live-elsewhere note (it is about the panel's copy)", async () => {
    const { ctx } = setup({ panel: [LONG], ns: ['ns1.otherhost.example'], live: [['v=DMARC1; p=none']] });
    const findings = await dmarcCheck(ctx);
    const f = findings.find((x) => x.rule === 'dmarc.string-too-long');
    assert.ok(f, show(findings));
    assert.equal(f.fix, undefined);
    assert.match(f.message, /Edit the record in the panel's DNS editor/);
    assert.doesNotMatch(f.message, /live DNS of shop\.example serves/);
    // The fix there publishes at the live DNS host, over the live record: it does not touch the panel's copy.
    const plan = await makePlanWith(ctx, 'dmarc');
    assert.equal(plan.mode, 'publish-elsewhere');
    assert.ok(!plan.changes.some((c) => c.before?.ref === 'dmarc'), JSON.stringify(plan.changes));
  });

  test('the DMARC plan is blocked (an alias at _dmarc beside the record): flagged, the fix not offered', async () => {
    const alias: ZoneRecord = { name: NAME, ttl: 3600, type: 'CNAME', value: 'dmarc.reports.example' };
    const { ctx } = setup({ panel: [LONG], extra: [alias] });
    const findings = await dmarcCheck(ctx);
    const f = findings.find((x) => x.rule === 'dmarc.string-too-long');
    assert.ok(f, show(findings));
    assert.equal(f.fix, undefined);
    assert.ok((await makePlanWith(ctx, 'dmarc')).blocked);
  });
});
