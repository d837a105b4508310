// The DMARC fix's notes beside several DMARC records: receivers apply none of them (RFC 7489 §6.6.3: several records
// are no record; the check's dmarc.multiple says so), but the notes on a record whose p= is not one policy said what
// receivers would do with that record alone — "has p=bogus, which is not a policy: receivers apply it as p=none today",
// "Drops sp=reject: receivers apply the record … as p=none today", "sets p more than once …: receivers apply no DMARC
// policy today" (review). They now say what receivers apply today — nothing — in the words of the check's dmarc.syntax;
// what the fix writes is unchanged (the records it makes, and the notes of a single record, are pinned elsewhere).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dmarcCheck } from '../../../src/core/checks/dmarc.js';
import type { ZoneRecord } from '../../../src/core/model.js';
import { planDmarc } from '../../../src/core/plans/dmarc.js';
import { makePlanWith } from '../../../src/core/plans/index.js';
import { checkContext } from '../checks/context.js';

const A = 'alice.example';
const N = `_dmarc.${A}`;
const NONE_OF_SEVERAL = 'receivers apply no DMARC policy at all while the domain has several DMARC records';

const zone = (vals: readonly string[]): ZoneRecord[] => vals.map((v, i) => ({ name: N, ttl: 3600, type: 'TXT', value: v, txt: [v], ref: `r${i}` }));

async function run(vals: readonly string[]) {
  const recs = zone(vals);
  const ctx = checkContext(A, { [N]: { TXT: vals.map((v) => [v]) } }, {}, recs);
  const plan = await planDmarc(ctx, recs);
  const findings = await dmarcCheck(ctx);
  return { plan, findings, show: [...plan.notes, ...plan.changes.map((c) => `${c.action} ${c.before?.value ?? '-'} -> ${c.after?.value ?? '-'}`)].join('\n') };
}

/** The note about one record (quoted in it, as the plan quotes each of several records) that starts with `head`. */
const noteOn = (notes: readonly string[], head: RegExp) => notes.filter((n) => head.test(n));

const REJECT = `v=DMARC1; p=reject; rua=mailto:d@${A}`;

describe('DMARC fix beside several DMARC records: the notes say receivers apply no policy today, not p=none', () => {
  test('the review case: p=bogus; sp=reject beside p=reject', async () => {
    const bogus = `v=DMARC1; p=bogus; sp=reject; rua=mailto:e@${A}`;
    const { plan, findings, show } = await run([REJECT, bogus]);
    // No note says receivers apply one of the records (as p=none, or at all) today.
    assert.ok(!plan.notes.some((n) => /as p=none today|apply it as p=none|apply the record .* as p=none/.test(n)), show);
    const notPolicy = noteOn(plan.notes, /has p=bogus, which is not a policy/);
    assert.equal(notPolicy.length, 1, show);
    assert.match(notPolicy[0], new RegExp(`which is not a policy: ${NONE_OF_SEVERAL}, so the fix uses p=none\\.`));
    const drops = noteOn(plan.notes, /^Drops sp=reject\b/);
    assert.equal(drops.length, 1, show);
    assert.match(drops[0], new RegExp(`${NONE_OF_SEVERAL}, so keeping it would newly apply reject to subdomains\\.$`));
    // It names the record whose sp= goes (two are at the name).
    assert.ok(drops[0].includes(JSON.stringify(bogus)), show);
    // The check says the same of the same record (dmarc.multiple, and dmarc.syntax in the same words).
    assert.ok(findings.some((f) => f.rule === 'dmarc.multiple'));
    assert.ok(findings.some((f) => f.rule === 'dmarc.syntax' && f.message.includes(NONE_OF_SEVERAL)));
    // What the fix does is what it did: one record, p=none, both addresses, sp= gone; the other record removed.
    assert.deepEqual(
      plan.changes.map((c) => [c.action, c.before?.value ?? null, c.after?.value ?? null]),
      [
        ['edit', REJECT, `v=DMARC1; p=none; rua=mailto:d@${A},mailto:e@${A}`],
        ['remove', bogus, null],
      ],
      show,
    );
  });

  test('a record without p= beside another: it is not said to apply as p=none today', async () => {
    const noP = `v=DMARC1; sp=reject; rua=mailto:e@${A}`;
    const { plan, show } = await run([REJECT, noP]);
    assert.ok(!plan.notes.some((n) => /as p=none today/.test(n)), show);
    const noPolicy = noteOn(plan.notes, /has no p= policy/);
    assert.equal(noPolicy.length, 1, show);
    assert.match(noPolicy[0], new RegExp(`so the fix uses p=none: ${NONE_OF_SEVERAL}\\.$`));
    assert.equal(noteOn(plan.notes, new RegExp(`^Drops sp=reject from the record .*: ${NONE_OF_SEVERAL}`)).length, 1, show);
    assert.equal(plan.changes.find((c) => c.after)?.after?.value, `v=DMARC1; p=none; rua=mailto:d@${A},mailto:e@${A}`, show);
  });

  test('p= twice beside another record: no policy because the records are several, not "today" from that record', async () => {
    const twice = `v=DMARC1; p=reject; p=none; sp=reject; np=quarantine; rua=mailto:e@${A}`;
    const { plan, show } = await run([REJECT, twice]);
    const sets = noteOn(plan.notes, /sets p more than once/);
    assert.equal(sets.length, 1, show);
    assert.match(sets[0], new RegExp(`which makes it invalid: ${NONE_OF_SEVERAL}, so the fix uses p=none`));
    assert.doesNotMatch(sets[0], /no DMARC policy today/);
    // Its sp= and np= are dropped, each said in the same words (it said "receivers ignore the record … today").
    for (const [tag, v, to] of [
      ['sp', 'reject', 'subdomains'],
      ['np', 'quarantine', 'non-existent subdomains'],
    ])
      assert.equal(noteOn(plan.notes, new RegExp(`^Drops ${tag}=${v} from the record .*, whose p= is not one policy: ${NONE_OF_SEVERAL}, so keeping it would newly apply ${v} to ${to}\\.$`)).length, 1, show);
    assert.ok(!plan.notes.some((n) => /receivers ignore the record/.test(n)), show);
    assert.equal(plan.changes.find((c) => c.after)?.after?.value, `v=DMARC1; p=none; rua=mailto:d@${A},mailto:e@${A}`, show);
  });

  test('an invalid sp= beside p=reject, with another record: not "apply it as p=none today: … its p=reject applies"', async () => {
    const quarantine = `v=DMARC1; p=quarantine; rua=mailto:d@${A}`;
    const badSp = `v=DMARC1; p=reject; sp=block; rua=mailto:e@${A}`;
    const { plan, show } = await run([quarantine, badSp]);
    const invalid = noteOn(plan.notes, /has the invalid sp=block/);
    assert.equal(invalid.length, 1, show);
    assert.doesNotMatch(invalid[0], /as p=none|p=reject applies/);
    assert.match(invalid[0], new RegExp(`${NONE_OF_SEVERAL}; with sp= dropped, its p=reject counts in the merge as written\\.$`));
    // The merge keeps the weaker policy, p=quarantine (not the record's p=reject the old note said applies).
    assert.equal(plan.changes.find((c) => c.after)?.after?.value, `v=DMARC1; p=quarantine; rua=mailto:d@${A},mailto:e@${A}`, show);
  });

  test('copies of one record are one record: its notes still say what receivers do with it alone', async () => {
    // The same record twice is one record to DNS (RFC 2181 §5): not "several DMARC records".
    const bogus = `v=DMARC1; p=bogus; sp=reject; rua=mailto:e@${A}`;
    const { plan, show } = await run([bogus, bogus]);
    assert.ok(!plan.notes.some((n) => n.includes('several DMARC records')), show);
    assert.ok(plan.notes.some((n) => /has p=bogus, which is not a policy: receivers apply it as p=none today/.test(n)), show);
    assert.ok(plan.notes.some((n) => n.startsWith('Drops sp=reject: receivers apply that record as p=none today')), show);
  });
});

describe('DMARC fix, DNS served elsewhere: several DMARC records in the panel’s zone', () => {
  test('the panel’s notes say receivers would apply none of them, not one as p=none', async () => {
    const D = 'd.example';
    const NAME = `_dmarc.${D}`;
    const vals = [`v=DMARC1; p=reject; rua=mailto:d@${D}`, `v=DMARC1; p=bogus; sp=reject; rua=mailto:e@${D}`];
    const panel: ZoneRecord[] = [
      { name: D, ttl: 3600, type: 'NS', value: 'ns1.newhost.example', ref: 'r:ns1' },
      { name: D, ttl: 3600, type: 'NS', value: 'ns2.newhost.example', ref: 'r:ns2' },
      ...vals.map((v, i): ZoneRecord => ({ name: NAME, ttl: 1800, type: 'TXT', value: v, txt: [v], ref: `r:dmarc${i}` })),
    ];
    // The previous host still serves the domain, with no DMARC record: the panel's record is what is published.
    const ctx = checkContext(D, { [D]: { NS: ['ns1.hostgator.com', 'ns2.hostgator.com'] } }, {}, panel);
    const p = await makePlanWith(ctx, 'dmarc');
    const show = [`mode ${p.mode}`, ...p.notes, ...p.changes.map((c) => `${c.action} ${c.after?.value ?? '-'}`)].join('\n');
    assert.equal(p.mode, 'publish-elsewhere', show);
    assert.ok(!p.notes.some((n) => /would apply it as p=none|would apply the record .* as p=none/.test(n)), show);
    const several = "receivers would apply no DMARC policy at all while the panel's zone has several DMARC records";
    assert.ok(p.notes.some((n) => n.includes('has p=bogus, which is not a policy') && n.includes(several)), show);
    assert.ok(p.notes.some((n) => /drops sp=reject from the record/i.test(n) && n.includes(several)), show);
    assert.deepEqual(p.changes.filter((c) => c.after).map((c) => c.after!.value), [`v=DMARC1; p=none; rua=mailto:d@${D},mailto:e@${D}`], show);
  });
});
