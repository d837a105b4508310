// Review of the DMARC check against its fix:
//  - a report address written twice in rua= (or with another !size suffix, or in another case) gave two findings
//    (two dmarc.destination, two dmarc.stale-destination…): it is one destination, said once, and that it is repeated;
//  - a record whose p= is not one policy (`p=block; sp=reject`, p= twice, no p= in a record with errors): the plan's
//    note said the fix drops sp=reject (receivers apply no sp= from such a record, so keeping it would newly apply it),
//    while the dmarc.syntax finding said nothing of it. It now says what the fix does with sp=/np= — the same tags the
//    plan drops.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dmarcCheck } from '../../../src/core/checks/dmarc.js';
import type { Finding, ZoneRecord } from '../../../src/core/model.js';
import { planDmarc } from '../../../src/core/plans/dmarc.js';
import { checkContext } from './context.js';

const D = 'alice.example';
const NAME = `_dmarc.${D}`;

async function run(value: string) {
  const recs: ZoneRecord[] = [{ name: NAME, ttl: 3600, type: 'TXT', value, txt: [value], ref: 'r0' }];
  const ctx = checkContext(D, { [NAME]: { TXT: [[value]] } }, {}, recs);
  const findings = await dmarcCheck(ctx);
  const plan = await planDmarc(ctx, recs);
  return { findings, plan, written: plan.changes.find((c) => c.after)?.after?.value };
}
const about = (fs: Finding[], rule: string) => fs.filter((f) => f.rule === rule);

describe('DMARC check: a report address written twice is one finding', () => {
  test('rua= with the same address twice: one dmarc.destination, saying it is written twice', async () => {
    const { findings } = await run(`v=DMARC1; p=none; rua=mailto:d@${D},mailto:d@${D}`);
    const fs = about(findings, 'dmarc.destination');
    assert.equal(fs.length, 1, fs.map((f) => f.message).join('\n'));
    assert.equal(fs[0].message, `rua reports go to d@${D}: d@${D} is on the domain itself. It is written twice in rua=.`);
  });

  test('three times, once with a !size suffix and once in capitals: one finding, "3 times"', async () => {
    const { findings } = await run(`v=DMARC1; p=none; rua=mailto:d@${D},mailto:d@${D}!10m,mailto:D@ALICE.EXAMPLE`);
    const fs = about(findings, 'dmarc.destination');
    assert.equal(fs.length, 1, fs.map((f) => f.message).join('\n'));
    assert.equal(fs[0].subject, `rua=mailto:d@${D}`);
    assert.match(fs[0].message, /It is written 3 times in rua=\.$/);
  });

  test('a previous host\'s address twice: one dmarc.stale-destination, repeated said before what the fix does', async () => {
    const { findings, written } = await run(`v=DMARC1; p=none; rua=mailto:x@dreamhost.com,mailto:d@${D},mailto:x@dreamhost.com`);
    const fs = about(findings, 'dmarc.stale-destination');
    assert.equal(fs.length, 1, fs.map((f) => f.message).join('\n'));
    assert.match(fs[0].message, /and you do not\. It is written twice in rua=\. The DMARC fix drops it and keeps d@alice\.example\.$/);
    assert.equal(written, `v=DMARC1; p=none; rua=mailto:d@${D}`);
  });

  test('an address at another domain that does not authorise the reports, twice: one dmarc.unauthorized-destination', async () => {
    const { findings } = await run('v=DMARC1; p=none; rua=mailto:dmarc@reports.example.net,mailto:dmarc@reports.example.net');
    assert.equal(about(findings, 'dmarc.unauthorized-destination').length, 1);
  });

  test('the same address in rua= and in ruf=: one finding for each tag (they are two kinds of reports)', async () => {
    const { findings } = await run(`v=DMARC1; p=none; rua=mailto:d@${D}; ruf=mailto:d@${D}`);
    assert.deepEqual(about(findings, 'dmarc.destination').map((f) => f.subject), [`rua=mailto:d@${D}`, `ruf=mailto:d@${D}`]);
    assert.ok(about(findings, 'dmarc.destination').every((f) => !/written/.test(f.message)));
  });
});

describe('DMARC check: a record whose p= is not one policy says what the fix does with its sp=/np=', () => {
  /** The sp=/np= tags the plan's notes say it drops for that reason (not the invalid ones). */
  const planDrops = (notes: readonly string[]) =>
    notes
      .map((n) => /^Drops ((?:sp|np)=\w+): receivers (?:apply that record as p=none|ignore that record)/.exec(n)?.[1])
      .filter((x): x is string => x !== undefined)
      .sort();
  /** The same, from the dmarc.syntax finding. */
  const findingDrops = (f: Finding) => {
    const m = /The DMARC fix writes p=none and drops (.+?): /.exec(f.message);
    return m ? m[1].split(' and ').sort() : [];
  };

  for (const [value, drops, today] of [
    [`v=DMARC1; p=block; sp=reject; rua=mailto:d@${D}`, ['sp=reject'], /apply the record as p=none today, for subdomains too/],
    ['v=DMARC1; p=block; sp=reject', ['sp=reject'], /receivers apply no DMARC policy from the record today/],
    [`v=DMARC1; p=reject; p=reject; sp=quarantine; np=reject; rua=mailto:d@${D}`, ['np=reject', 'sp=quarantine'], /receivers apply no DMARC policy from the record today/],
    [`v=DMARC1; sp=reject; adkim=x; rua=mailto:d@${D}`, ['sp=reject'], /apply the record as p=none today/],
    [`v=DMARC1; p=quar; np=quarantine; sp=none; rua=mailto:d@${D}`, ['np=quarantine'], /apply the record as p=none today/],
  ] as const) {
    test(`${value}: the finding names ${drops.join(', ')} as the plan drops them, and the plan writes p=none`, async () => {
      const { findings, plan, written } = await run(value);
      const syntax = about(findings, 'dmarc.syntax').filter((f) => f.severity === 'fail');
      assert.equal(syntax.length, 1, findings.map((f) => f.message).join('\n'));
      assert.deepEqual(findingDrops(syntax[0]), [...drops].sort(), syntax[0].message);
      assert.deepEqual(planDrops(plan.notes), [...drops].sort(), plan.notes.join('\n'));
      assert.match(syntax[0].message, today);
      assert.match(written ?? '', /^v=DMARC1; p=none(;|$)/);
      for (const d of drops) assert.ok(!(written ?? '').includes(d), written);
    });
  }

  test('p= valid (its sp= invalid, or none to drop): no such words', async () => {
    for (const value of [`v=DMARC1; p=reject; sp=block; rua=mailto:d@${D}`, `v=DMARC1; p=block; sp=none; rua=mailto:d@${D}`, `v=DMARC1; p=reject; adkim=x; sp=quarantine; rua=mailto:d@${D}`]) {
      const { findings, plan } = await run(value);
      const syntax = about(findings, 'dmarc.syntax');
      assert.ok(syntax.length >= 1, value);
      assert.ok(syntax.every((f) => !/drops (sp|np)=/.test(f.message)), syntax.map((f) => f.message).join('\n'));
      assert.deepEqual(planDrops(plan.notes), [], plan.notes.join('\n'));
    }
  });
});

test('several DMARC records: the dmarc.syntax finding does not say receivers apply one as p=none (they apply none: dmarc.multiple)', async () => {
  const A = 'alice.example';
  const N = `_dmarc.${A}`;
  const vals = [`v=DMARC1; p=reject; rua=mailto:d@${A}`, `v=DMARC1; p=bogus; sp=reject; rua=mailto:e@${A}`];
  const recs: ZoneRecord[] = vals.map((v, i) => ({ name: N, ttl: 3600, type: 'TXT', value: v, txt: [v], ref: `r${i}` }));
  const fs = await dmarcCheck(checkContext(A, { [N]: { TXT: vals.map((v) => [v]) } }, {}, recs));
  assert.ok(fs.some((f) => f.rule === 'dmarc.multiple'));
  const syntax = fs.find((f) => f.rule === 'dmarc.syntax' && f.message.includes('drops sp=reject'));
  assert.ok(syntax, fs.map((f) => `${f.rule}: ${f.message}`).join('\n'));
  assert.doesNotMatch(syntax.message, /as p=none today/);
  assert.match(syntax.message, /receivers apply no DMARC policy at all while the domain has several DMARC records/);
});
