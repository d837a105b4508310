// Review: a DMARC record with no p= but a valid rua= (`v=DMARC1; sp=reject; rua=mailto:…`) was dmarc.ok with no fix
// offered, while `fix --check dmarc` rewrote it — adding p=none and dropping the sp=reject the customer set. RFC 7489
// §6.3 requires p=; §6.6.3 step 6 has receivers act as if p=none were given (its sp= not applied, for subdomains too);
// Mail::DMARC applies the sp= to subdomains all the same (test/e2e/dmarc-verdicts-oracle.test.ts), and OpenDMARC 1.4.2
// refuses the record ("lacked a required p= entry": no policy, no aggregate reports; test/e2e/dmarc-opendmarc-judge.test.ts).
// Now dmarc.syntax (warn, as DMARCbis reads a missing p= as p=none) with the fix; the finding says what the fix writes
// and that it drops sp=reject — which RFC 7489 receivers do not apply today, so keeping it would newly reject
// subdomains' failing mail — and how to keep it. The check and the fix agree: the fix is offered exactly where it writes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dmarcCheck } from '../../../src/core/checks/dmarc.js';
import { parseDmarcRecord } from '../../../src/core/dmarc/record.js';
import type { Finding, ZoneRecord } from '../../../src/core/model.js';
import { planDmarc } from '../../../src/core/plans/dmarc.js';
import { checkContext } from './context.js';

const D = 'alice.example';
const NAME = `_dmarc.${D}`;
const RUA = `rua=mailto:d@${D}`;
const show = (fs: readonly Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''}: ${f.message}`).join('\n');

/** The check's findings and the plan for _dmarc holding `value` (live and in the panel's zone), and what the plan leaves. */
async function run(value: string) {
  const recs: ZoneRecord[] = [{ name: NAME, ttl: 3600, type: 'TXT', value, txt: [value], ref: 'r0' }];
  const ctx = checkContext(D, { [NAME]: { TXT: [[value]] } }, {}, recs);
  const findings = await dmarcCheck(ctx);
  const plan = await planDmarc(ctx, recs);
  assert.equal(plan.blocked, undefined);
  const removed = new Set(plan.changes.filter((c) => c.before).map((c) => c.before));
  const left = [...recs.filter((r) => !removed.has(r)), ...plan.changes.filter((c) => c.after).map((c) => c.after!)].map((r) => r.value);
  return { findings, plan, left };
}

const offers = (fs: readonly Finding[]) => fs.some((f) => f.fix === 'dmarc');

describe('a DMARC record without p= but with a valid rua=: a warning whose fix is the plan', () => {
  test(`the review's record (v=DMARC1; sp=reject; ${RUA}): dmarc.syntax warn with the fix, naming the sp=reject it drops and how to keep it`, async () => {
    const { findings, plan, left } = await run(`v=DMARC1; sp=reject; ${RUA}`);
    assert.ok(!findings.some((f) => f.rule === 'dmarc.ok'), show(findings));
    const f = findings.find((x) => x.rule === 'dmarc.syntax');
    assert.equal(f?.severity, 'warn', show(findings));
    assert.equal(f.fix, 'dmarc');
    assert.match(f.message, /no p= tag/);
    assert.match(f.message, /OpenDMARC .*refuses a record without p=/);
    assert.match(f.message, /Mail::DMARC applies sp=reject to subdomains/);
    assert.match(f.message, /The DMARC fix adds p=none, .*; it drops sp=reject, .*would newly apply reject to subdomains\): to keep it, add p= yourself/);
    // What it says is what the plan does: p=none written, sp=reject gone, the report address kept — and its note says
    // so, with the same way to keep sp=reject.
    assert.deepEqual(left, [`v=DMARC1; p=none; ${RUA}`]);
    const note = plan.notes.find((n) => n.startsWith('Drops sp=reject'));
    assert.ok(note, plan.notes.join('\n'));
    assert.match(note, /To keep sp=reject, add p= yourself \(p=none, right after v=DMARC1\) instead of applying this fix\./);
  });

  test('sp= and np= stricter than none: both named, as the plan drops both', async () => {
    const { findings, left, plan } = await run(`v=DMARC1; sp=reject; np=quarantine; ${RUA}`);
    const f = findings.find((x) => x.rule === 'dmarc.syntax');
    assert.equal(f?.fix, 'dmarc', show(findings));
    assert.match(f.message, /it drops sp=reject and np=quarantine, .*reject to subdomains and quarantine to non-existent subdomains/);
    const rec = parseDmarcRecord(left[0]);
    assert.deepEqual([rec.tags.p, rec.tags.sp, rec.tags.np], ['none', undefined, undefined]);
    assert.ok(plan.notes.some((n) => n.startsWith('Drops np=quarantine') && /To keep np=quarantine/.test(n)), plan.notes.join('\n'));
  });

  test('no sp=: the warning and the fix add p=none, and drop nothing', async () => {
    for (const value of [`v=DMARC1; ${RUA}`, `v=DMARC1; sp=none; ${RUA}`]) {
      const { findings, left } = await run(value);
      const f = findings.find((x) => x.rule === 'dmarc.syntax');
      assert.equal(f?.severity, 'warn', show(findings));
      assert.equal(f.fix, 'dmarc');
      assert.doesNotMatch(f.message, /drops/);
      assert.equal(parseDmarcRecord(left[0]).tags.p, 'none');
      assert.ok(left[0].includes(RUA), left[0]);
    }
  });

  test('what the fix leaves, and the record the finding advises instead, are both ok to the check — and the fix leaves them alone', async () => {
    for (const value of [`v=DMARC1; p=none; ${RUA}`, `v=DMARC1; p=none; sp=reject; ${RUA}`]) {
      const { findings, plan } = await run(value);
      assert.ok(findings.some((f) => f.rule === 'dmarc.ok'), `${value}\n${show(findings)}`);
      assert.ok(!offers(findings), show(findings));
      assert.deepEqual(plan.changes, [], value);
    }
  });

  test('the fix is offered exactly where the plan writes', async () => {
    for (const value of [`v=DMARC1; sp=reject; ${RUA}`, `v=DMARC1; ${RUA}`, `v=DMARC1; sp=quarantine; adkim=s; ${RUA}`, `v=DMARC1; p=none; ${RUA}`, `v=DMARC1; p=reject; sp=none; ${RUA}`]) {
      const { findings, plan } = await run(value);
      assert.equal(offers(findings), plan.changes.length > 0, `${value}\n${show(findings)}\n${plan.notes.join('\n')}`);
    }
  });
});
