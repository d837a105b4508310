// dmarc.compat: a DMARC record receivers following RFC 7489 read, from which OpenDMARC (libopendmarc 1.4, the milter of
// many Postfix and Sendmail receivers) applies no policy — its lookup misses a version not written exactly `v=DMARC1`,
// its parser refuses the whole record over an rf= or ri= value RFC 7489 receivers only ignore (third-judge QA:
// test/e2e/dmarc-opendmarc-judge.test.ts; `opendmarc-check` over a loopback DNS server said "Looked up domain lacked a
// DMARC record" for `V=DMARC1; p=reject` and `v = DMARC1 ; p=reject`, "bad token value" for rf=xml and ri=daily).
// A warning with the DMARC fix, which writes the record so that OpenDMARC reads it — the policy and report addresses
// kept — and then passes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dmarcCheck } from '../../../src/core/checks/dmarc.js';
import type { Finding, ZoneRecord } from '../../../src/core/model.js';
import { planDmarc } from '../../../src/core/plans/dmarc.js';
import { checkContext } from './context.js';

const D = 'alice.example';
const NAME = `_dmarc.${D}`;

async function run(values: string[]) {
  const recs: ZoneRecord[] = values.map((value, i) => ({ name: NAME, ttl: 3600, type: 'TXT', value, txt: [value], ref: `r${i}` }));
  const ctx = checkContext(D, { [NAME]: { TXT: values.map((v) => [v]) } }, {}, recs);
  const findings = await dmarcCheck(ctx);
  const plan = await planDmarc(ctx, recs);
  const after = plan.changes.map((c) => c.after).filter(Boolean);
  return { findings, plan, compat: findings.filter((f) => f.rule === 'dmarc.compat'), fixed: after.length === 1 ? (after[0]!.txt ?? [after[0]!.value]).join('') : null };
}
const rules = (fs: Finding[]) => fs.map((f) => `${f.rule}:${f.severity}${f.fix ? ':fix' : ''}`);

describe('dmarc check: records OpenDMARC applies no policy from', () => {
  for (const [value, why, fixed] of [
    ['V=DMARC1; p=reject; rua=mailto:d@alice.example', /its version is written "V=DMARC1", and OpenDMARC takes a TXT record for DMARC only when it holds "v=DMARC1" exactly so/, 'v=DMARC1; p=reject; rua=mailto:d@alice.example'],
    ['v = DMARC1 ; p=quarantine; rua=mailto:d@alice.example', /its version is written "v = DMARC1"/, 'v=DMARC1; p=quarantine; rua=mailto:d@alice.example'],
    ['v=DMARC1; p=reject; rf=xml; rua=mailto:d@alice.example', /its rf=xml is not a list of report formats OpenDMARC knows .* refuses the whole record over it/, 'v=DMARC1; p=reject; rua=mailto:d@alice.example'],
    ['v=DMARC1; p=reject; ri=daily; rua=mailto:d@alice.example', /its ri=daily is not a number of seconds, and OpenDMARC refuses the whole record over it/, 'v=DMARC1; p=reject; rua=mailto:d@alice.example'],
  ] as const) {
    test(`${value}: dmarc.compat (warn) with the fix, which writes ${fixed}; the fixed record passes`, async () => {
      const { findings, compat, fixed: wrote, plan } = await run([value]);
      assert.equal(compat.length, 1, rules(findings).join(', '));
      assert.equal(compat[0].severity, 'warn');
      assert.equal(compat[0].fix, 'dmarc');
      assert.match(compat[0].message, /^Receivers that follow RFC 7489 read the DMARC record, but OpenDMARC \(the DMARC milter of many Postfix and Sendmail receivers\) applies no DMARC policy from it: /);
      assert.match(compat[0].message, why);
      assert.ok(!findings.some((f) => f.rule === 'dmarc.ok'));
      assert.equal(wrote, fixed, plan.notes.join('\n'));
      const again = await run([wrote!]);
      assert.deepEqual(again.compat, []);
      assert.ok(again.findings.some((f) => f.rule === 'dmarc.ok'), rules(again.findings).join(', '));
      assert.deepEqual(again.plan.changes, []);
    });
  }

  test('the version rewrite is said in the plan', async () => {
    const { plan } = await run(['V=DMARC1; p=reject; rua=mailto:d@alice.example']);
    assert.ok(plan.notes.some((n) => /^Writes the version as v=DMARC1 \(the record has "V=DMARC1"\): RFC 7489 allows that spelling, but OpenDMARC/.test(n)), plan.notes.join('\n'));
  });

  test('values OpenDMARC takes (rf=iodef, rf=, ri=, a large ri) and the usual spellings: no dmarc.compat', async () => {
    for (const value of ['v=DMARC1; p=reject; rua=mailto:d@alice.example', 'v=DMARC1;p=reject;rua=mailto:d@alice.example', 'v=DMARC1 ; p=none', 'v=DMARC1; p=none; rf=iodef', 'v=DMARC1; p=none; rf=afrf,iodef', 'v=DMARC1; p=none; rf=', 'v=DMARC1; p=none; ri=', 'v=DMARC1; p=none; ri=4294967296']) {
      const { compat } = await run([value]);
      assert.deepEqual(compat, [], value);
    }
  });

  test('a record with errors, or two records, says that instead (dmarc.syntax, dmarc.multiple), not dmarc.compat', async () => {
    assert.deepEqual((await run(['V=DMARC1; p=reject; pct=abc'])).compat, []);
    assert.deepEqual((await run(['V=DMARC1; p=reject', 'v=DMARC1; p=none'])).compat, []);
  });

  test('another TXT record beside the DMARC record (OpenDMARC reads only the first of the answer): dmarc.compat — with the fix where the fix removes it, else a hand edit', async () => {
    const spf = await run(['v=DMARC1; p=reject', 'v=spf1 -all']);
    assert.equal(spf.compat.length, 1, rules(spf.findings).join(', '));
    assert.equal(spf.compat[0].fix, 'dmarc');
    assert.match(spf.compat[0].message, /^Beside the DMARC record, _dmarc\.alice\.example has another TXT record \("v=spf1 -all"\): .* reads only the first TXT record DNS returns there, .* The DMARC fix removes it\.$/);
    assert.ok(!spf.findings.some((f) => f.rule === 'dmarc.ok'));
    assert.deepEqual(spf.plan.changes.map((c) => [c.action, c.before?.value]), [['remove', 'v=spf1 -all']]);
    const token = await run(['v=DMARC1; p=reject', 'google-site-verification=abc']);
    assert.equal(token.compat.length, 1);
    assert.equal(token.compat[0].fix, undefined);
    assert.match(token.compat[0].message, /The DMARC fix leaves TXT records that are not DMARC's alone: remove it by hand if nothing needs it any more/);
    assert.deepEqual(token.plan.changes, []);
    const both = await run(['v=DMARC2; p=none', 'v=DMARC1; p=reject', 'token=1']);
    assert.equal(both.compat[0].fix, 'dmarc');
    assert.match(both.compat[0].message, /2 other TXT records .* The DMARC fix removes "v=DMARC2; p=none"; remove the other by hand/);
    // A record meant as DMARC beside it is dmarc.syntax's (the fix removes it), not said twice.
    assert.deepEqual((await run(['v=DMARC1; p=reject', 'v=DMARC1 p=none'])).compat, []);
  });
});
