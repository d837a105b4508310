// Beside several DMARC records receivers apply none of them (RFC 7489 §6.6.3; Mail::DMARC: "too many policies"), but
// the check still said of one of them "DMARC policy is p=none (monitoring only)…" (dmarc.policy-none) and, in its
// remarks, "receivers read the record as p=none" / "treated as p=none" — under dmarc.multiple's "receivers then apply
// no DMARC policy at all" (review). Beside several records neither is said now; a single record keeps both. The other
// findings keep their rule ids and severities.
//
// And the dmarc.syntax finding named the report addresses the DMARC fix repairs, but not one whose domain is written in
// Unicode, which the fix writes as its A-label (`d@bücher.example` → `mailto:d@xn--bcher-kva.example`): it now says so,
// and why.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dmarcCheck } from '../../../src/core/checks/dmarc.js';
import type { Finding, ZoneRecord } from '../../../src/core/model.js';
import { planDmarc } from '../../../src/core/plans/dmarc.js';
import { checkContext } from './context.js';

const A = 'alice.example';
const N = `_dmarc.${A}`;

function ctxOf(vals: readonly string[]) {
  const recs: ZoneRecord[] = vals.map((v, i) => ({ name: N, ttl: 3600, type: 'TXT', value: v, txt: [v], ref: `r${i}` }));
  return { ctx: checkContext(A, { [N]: { TXT: vals.map((v) => [v]) } }, {}, recs), recs };
}
const findings = (vals: readonly string[]): Promise<Finding[]> => dmarcCheck(ctxOf(vals).ctx);
const show = (fs: readonly Finding[]) => fs.map((f) => `${f.severity} ${f.rule}: ${f.message}`).join('\n');
/** Says receivers read or treat a record as p=none (what it applies), not p=none as the fix's word. */
const SAYS_NONE = /DMARC policy is p=none|read the record as p=none|treated as p=none/;

describe('DMARC check beside several DMARC records: no finding says one of them applies as p=none', () => {
  test('p=none beside p=reject: no dmarc.policy-none; the other findings as before', async () => {
    const fs = await findings([`v=DMARC1; p=none; rua=mailto:d@${A}`, `v=DMARC1; p=reject; rua=mailto:e@${A}`]);
    assert.ok(!fs.some((f) => SAYS_NONE.test(f.message)), show(fs));
    assert.deepEqual(
      fs.map((f) => `${f.severity} ${f.rule}`),
      ['fail dmarc.multiple', 'info dmarc.destination', 'info dmarc.destination'],
      show(fs),
    );
    assert.match(fs[0].message, /receivers then apply no DMARC policy at all/);
  });

  test('an invalid sp= with a valid rua beside another record: the remark does not say it is read as p=none', async () => {
    const bad = `v=DMARC1; p=reject; sp=block; rua=mailto:d@${A}`;
    const fs = await findings([bad, 'v=DMARC1; p=quarantine']);
    assert.ok(!fs.some((f) => SAYS_NONE.test(f.message)), show(fs));
    // The error itself is still said, and the rule ids and severities are those of before.
    assert.deepEqual(
      fs.map((f) => `${f.severity} ${f.rule}`),
      ['fail dmarc.multiple', 'fail dmarc.syntax', 'info dmarc.destination', 'info dmarc.remarks'],
      show(fs),
    );
    assert.match(fs.find((f) => f.rule === 'dmarc.syntax')!.message, /invalid sp=block \(expected none, quarantine or reject\)/);
  });

  test('a record without p= beside another: "missing p tag" is said, not that it is treated as p=none; its sp= not "not applied" as p=none', async () => {
    const noP = `v=DMARC1; sp=reject; rua=mailto:d@${A}`;
    const fs = await findings([noP, 'v=DMARC1; p=quarantine']);
    assert.ok(!fs.some((f) => SAYS_NONE.test(f.message)), show(fs));
    const remark = fs.find((f) => f.rule === 'dmarc.remarks' && f.subject === noP);
    assert.ok(remark, show(fs));
    assert.equal(remark.message, 'Remarks on the DMARC record: missing p tag (RFC 7489 requires it).');
    assert.ok(!fs.some((f) => f.rule === 'dmarc.policy-none'), show(fs));
  });

  test('one record: p=none is still said, as before (the finding and the remarks)', async () => {
    const one = await findings([`v=DMARC1; p=none; rua=mailto:d@${A}`]);
    assert.equal(one.filter((f) => f.rule === 'dmarc.policy-none' && f.severity === 'info').length, 1, show(one));
    const noP = await findings([`v=DMARC1; sp=reject; rua=mailto:d@${A}`]);
    assert.ok(noP.some((f) => f.rule === 'dmarc.policy-none'), show(noP));
    assert.ok(noP.some((f) => f.rule === 'dmarc.remarks' && /missing p tag: treated as p=none/.test(f.message)), show(noP));
  });
});

describe('DMARC check: the dmarc.syntax finding names a report address the fix writes as its A-label', () => {
  const WHY = "It writes a Unicode domain as its A-label (the same mailbox): report addresses in rua=/ruf= are ASCII only, and receivers' mail systems cannot send reports to a domain written in Unicode there.";

  for (const [written, fixed] of [
    ['d@bücher.example', 'mailto:d@xn--bcher-kva.example'],
    ['mailto:d@bücher.example', 'mailto:d@xn--bcher-kva.example'],
  ] as const) {
    test(`rua=${written}: said as ${fixed}, as the fix writes it`, async () => {
      const rec = `v=DMARC1; p=none; rua=mailto:x@${A},${written}`;
      const { ctx, recs } = ctxOf([rec]);
      const fs = await dmarcCheck(ctx);
      const syntax = fs.find((f) => f.rule === 'dmarc.syntax');
      assert.ok(syntax, show(fs));
      assert.ok(syntax.message.includes(`The DMARC fix repairs rua ${JSON.stringify(written)} as ${fixed} (then checks each address like any report address). ${WHY}`), syntax.message);
      // What it says is what the fix writes.
      const plan = await planDmarc(ctx, recs);
      assert.equal(plan.changes.find((c) => c.after)?.after?.value, `v=DMARC1; p=none; rua=mailto:x@${A},${fixed}`);
    });
  }

  test('an address repaired only for its scheme is not said to be written as an A-label', async () => {
    const fs = await findings([`v=DMARC1; p=none; rua=d@example.net`]);
    const syntax = fs.find((f) => f.rule === 'dmarc.syntax')!;
    assert.match(syntax.message, /The DMARC fix repairs rua "d@example\.net" as mailto:d@example\.net \(then checks each address like any report address\)\.$/);
    assert.doesNotMatch(syntax.message, /A-label/);
  });
});
