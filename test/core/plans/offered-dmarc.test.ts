// The DMARC fix changes a record only where a finding offers it (offered-invariant.test.ts). Review: `v=DMARC1; p=none;
// foo=bar; rua=…` was dmarc.ok, yet the DMARC fix rewrote it dropping foo=bar; `v=DMARC1; rua=…; p=none` was ok, yet
// the fix moved p= with no note. A record that already says what the fix would write — spelt otherwise: its tags in
// another order, an unknown tag receivers ignore, a policy value in capitals, other spacing, a final ";", a report
// address written twice — is now left exactly as written; those differences ride along only when the record is
// rewritten for a reason a finding gives. Copies of the record (the same strings twice in the zone: one record to DNS)
// are judged once, not merged as two records.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dmarcCheck } from '../../../src/core/checks/dmarc.js';
import type { Finding, ZoneRecord } from '../../../src/core/model.js';
// A namespace import: on the code before this change (no sameMeaning) each test fails on its own.
import * as dmarcPlan from '../../../src/core/plans/dmarc.js';
import { checkContext } from '../checks/context.js';

const D = 'alice.example';
const NAME = `_dmarc.${D}`;
const rec = (value: string, i = 0): ZoneRecord => ({ name: NAME, ttl: 3600, type: 'TXT', value, txt: [value], ref: `r${i}` });
const show = (fs: readonly Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.fix ? ' (fix)' : ''}`).join(', ');

/** The check over what DNS serves (each record once), and the plan over the zone's records. */
async function run(zone: string[], live: string[] = [...new Set(zone)]) {
  const recs = zone.map(rec);
  const ctx = checkContext(D, { [NAME]: { TXT: live.map((v) => [v]) } }, {}, recs);
  return { findings: await dmarcCheck(ctx), plan: await dmarcPlan.planDmarc(ctx, recs), recs };
}

describe('a DMARC record that says what the fix would write is left as written', () => {
  const SPELLINGS = [
    // The review's two records.
    `v=DMARC1; p=none; foo=bar; rua=mailto:dmarc@${D}`,
    `v=DMARC1; rua=mailto:dmarc@${D}; p=none`,
    // The policy in capitals, other spacing, a final ";".
    'v=DMARC1;p=Reject',
    `v=DMARC1 ; p=quarantine ; rua=mailto:dmarc@${D} ;`,
    // Tags the fix writes in another order, an unknown tag among them.
    `v=DMARC1; sp=none; note=set-by-host; adkim=s; p=reject; rua=mailto:dmarc@${D}; fo=1; ruf=mailto:f@${D}`,
    // A report address written twice.
    `v=DMARC1; p=none; rua=mailto:dmarc@${D},mailto:dmarc@${D}`,
  ];
  for (const v of SPELLINGS) {
    test(JSON.stringify(v), async () => {
      const { findings, plan } = await run([v]);
      assert.deepEqual(
        findings.filter((f) => f.fix).map((f) => f.rule),
        [],
        show(findings),
      );
      assert.deepEqual(plan.changes, [], JSON.stringify(plan.changes.map((c) => c.after?.value)));
      assert.equal(plan.blocked, undefined);
      assert.deepEqual(plan.notes, []);
    });
  }

  test('rewritten for a reason a finding gives (a previous host\'s report address): the unknown tag and the order ride along, said', async () => {
    const { findings, plan } = await run([`v=DMARC1; rua=mailto:dmarc@${D}; foo=bar; p=none; ruf=mailto:dmarc@websitewelcome.com`]);
    assert.ok(findings.some((f) => f.rule === 'dmarc.stale-destination' && f.fix === 'dmarc'), show(findings));
    assert.deepEqual(
      plan.changes.map((c) => c.after?.value),
      [`v=DMARC1; p=none; rua=mailto:dmarc@${D}`],
    );
    assert.ok(plan.notes.includes('Drops the unknown tag foo=bar.'), plan.notes.join('\n'));
  });

  test('what differs in meaning is not spelling: another policy, another report address, a tag left at another value', () => {
    const { sameMeaning } = dmarcPlan;
    const base = `v=DMARC1; p=none; rua=mailto:dmarc@${D}`;
    assert.equal(sameMeaning(`v=DMARC1; rua=mailto:dmarc@${D}; P=None; foo=1`, base), true);
    for (const other of [`v=DMARC1; p=quarantine; rua=mailto:dmarc@${D}`, `v=DMARC1; p=none; rua=mailto:other@${D}`, `v=DMARC1; p=none; rua=mailto:dmarc@${D}; adkim=s`, `v=DMARC1; p=none`, `v=DMARC1; p=none; sp=reject; rua=mailto:dmarc@${D}`]) {
      assert.equal(sameMeaning(other, base), false, other);
    }
    // A record with an error is never "the same" (the check's dmarc.syntax offers the fix for it).
    assert.equal(sameMeaning(`v=DMARC1; p=none; p=none; rua=mailto:dmarc@${D}`, base), false);
  });
});

describe('copies of the DMARC record (the same strings twice in the zone: one record to DNS)', () => {
  test('judged once: no merge of "2 DMARC records"; the plan only removes the copy, and says why', async () => {
    const v = `v=DMARC1; p=reject; rua=mailto:dmarc@${D}`;
    const { findings, plan, recs } = await run([v, v]);
    assert.ok(!findings.some((f) => f.rule === 'dmarc.multiple'), show(findings));
    assert.deepEqual(
      plan.changes.map((c) => [c.action, c.before?.ref]),
      [['remove', recs[1].ref]],
    );
    assert.ok(!plan.notes.some((n) => /^Merges/.test(n)), plan.notes.join('\n'));
    assert.equal(plan.notes.filter((n) => n.startsWith(`Removes a copy of the DMARC record at ${NAME}`)).length, 1, plan.notes.join('\n'));
  });

  test('a record the fix rewrites goes with its copy: one record left', async () => {
    const v = 'v=DMARC1; p=none; rua=mailto:dmarc@websitewelcome.com';
    const { plan } = await run([v, v]);
    assert.equal(plan.changes.filter((c) => c.after).length, 1);
    assert.equal(plan.changes.filter((c) => c.action === 'remove').length, 1);
    assert.ok(!plan.notes.some((n) => /^Merges/.test(n)), plan.notes.join('\n'));
  });
});
