// DMARC fix, QA defects: (1) a subdomain without a record of its own inherits its organizational domain's policy —
// the fix must not publish a weaker record over it (RFC 7489 §6.6.3); (4) an out-of-range pct is invalid (RFC 7489
// §6.3: 0–100) — the check reports it and the fix drops it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dmarcCheck } from '../../../src/core/checks/dmarc.js';
import { parseDmarcRecord } from '../../../src/core/dmarc/record.js';
import type { ZoneRecord } from '../../../src/core/model.js';
import { makePlanWith } from '../../../src/core/plans/index.js';
import { planDmarc } from '../../../src/core/plans/dmarc.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from '../checks/context.js';

const SUB = 'dmarcsubrej.shop.example';
const NS = { NS: ['ns1.newhost.example', 'ns2.newhost.example'] };
const txt = (name: string, value: string): ZoneRecord => ({ name, ttl: 3600, type: 'TXT', value, txt: [value] });
const rules = async (ctx: Parameters<typeof dmarcCheck>[0]) => (await dmarcCheck(ctx)).map((f) => `${f.severity} ${f.rule}${f.fix ? ` fix:${f.fix}` : ''}`);

describe('DMARC fix on a domain that inherits its organizational domain’s policy', () => {
  test('QA repro: _dmarc.shop.example p=reject, no _dmarc at the subdomain → nothing published, note says what is inherited', async () => {
    const ctx = checkContext(SUB, { [SUB]: NS, '_dmarc.shop.example': { TXT: [['v=DMARC1; p=reject']] } }, {}, []);
    assert.deepEqual(await rules(ctx), ['pass dmarc.inherited']);
    const plan = await planDmarc(ctx, []);
    assert.deepEqual(plan.changes, []);
    assert.equal(plan.blocked, undefined);
    assert.equal(plan.notes.length, 1);
    assert.match(plan.notes[0], /inherits p=reject from shop\.example \(its p=reject\)/);
    // Through makePlanWith as the CLI and the web call it: an apply-mode plan with nothing to change (the subdomain's
    // own _dmarc is NXDOMAIN — an answer, not a reason to refuse).
    const full = await makePlanWith(ctx, 'dmarc');
    assert.equal(full.mode, 'apply');
    assert.deepEqual(full.changes, []);
    assert.equal(full.blocked, undefined);
  });

  test('sp= decides what a subdomain inherits; a weaker sp is inherited as it is — still nothing published over it', async () => {
    for (const [org, want] of [
      ['v=DMARC1; p=none; sp=quarantine', /inherits p=quarantine from shop\.example \(its sp=quarantine\)/],
      ['v=DMARC1; p=reject; sp=none; rua=mailto:d@shop.example', /inherits p=none from shop\.example \(its sp=none\)/],
      ['v=DMARC1; rua=mailto:d@shop.example', /inherits p=none from shop\.example/],
      // An invalid sp= with a valid report address: p=none (RFC 7489 §6.6.3), not the p=reject beside it.
      ['v=DMARC1; p=reject; sp=bogus; rua=mailto:d@shop.example', /inherits p=none from shop\.example/],
    ] as const) {
      const ctx = checkContext(SUB, { '_dmarc.shop.example': { TXT: [[org]] } }, {}, []);
      assert.deepEqual(await rules(ctx), ['pass dmarc.inherited'], org);
      const plan = await planDmarc(ctx, []);
      assert.deepEqual(plan.changes, [], org);
      assert.match(plan.notes.join(' '), want, org);
    }
  });

  test('a non-DMARC TXT at the subdomain’s _dmarc changes nothing while the parent’s policy applies', async () => {
    const spf = txt(`_dmarc.${SUB}`, 'v=spf1 -all');
    const ctx = checkContext(SUB, { [`_dmarc.${SUB}`]: { TXT: [['v=spf1 -all']] }, '_dmarc.shop.example': { TXT: [['v=DMARC1; p=quarantine']] } }, {}, [spf]);
    assert.deepEqual(await rules(ctx), ['pass dmarc.inherited']);
    assert.deepEqual((await planDmarc(ctx, [spf])).changes, []);
  });

  test('the organizational domain’s lookup gets no answer → unknown, and the plan is blocked (nothing published)', async () => {
    const ctx = checkContext(SUB, { '_dmarc.shop.example': { TXT: 'TIMEOUT' } }, {}, []);
    assert.deepEqual(await rules(ctx), ['unknown dmarc.dns-error']);
    const plan = await planDmarc(ctx, []);
    assert.deepEqual(plan.changes, []);
    assert.match(plan.blocked ?? '', /Could not read the DMARC record of shop\.example.*DNS timeout.*no change until DNS answers/);
  });

  test('no policy comes from the parent (none published, several records, or one applying none) → p=none is published as before', async () => {
    const none: ZoneMap = {};
    const several: ZoneMap = { '_dmarc.shop.example': { TXT: [['v=DMARC1; p=reject'], ['v=DMARC1; p=none']] } };
    const broken: ZoneMap = { '_dmarc.shop.example': { TXT: [['v=DMARC1; p=bogus']] } };
    // RFC 7489 §6.6.3: an sp= that is not valid means no DMARC processing (without a report address) — not the p= beside
    // it (it was read as "inherits p=reject": the audit passed and the fix published nothing).
    const badSp: ZoneMap = { '_dmarc.shop.example': { TXT: [['v=DMARC1; p=reject; sp=bogus']] } };
    for (const [map, why] of [
      [none, null],
      [several, /shop\.example publishes 2 DMARC records, so receivers apply none of them/],
      [broken, /the DMARC record of shop\.example applies no policy/],
      [badSp, /the DMARC record of shop\.example has an invalid sp=bogus, so receivers apply no policy to its subdomains/],
    ] as const) {
      const ctx = checkContext(SUB, map, {}, []);
      assert.deepEqual(await rules(ctx), ['warn dmarc.missing fix:dmarc']);
      const plan = await planDmarc(ctx, []);
      assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.after?.value}`), [`add v=DMARC1; p=none; rua=mailto:postmaster@${SUB}`]);
      if (why) {
        assert.match((await dmarcCheck(ctx))[0].message, why);
        assert.match(plan.notes.join(' '), why);
      }
    }
  });

  test('an organizational domain itself (no parent to inherit from) still gets p=none', async () => {
    const ctx = checkContext('shop.example', {}, {}, []);
    const plan = await planDmarc(ctx, []);
    assert.deepEqual(plan.changes.map((c) => c.after?.value), ['v=DMARC1; p=none; rua=mailto:postmaster@shop.example']);
  });
});

describe('DMARC pct out of range (RFC 7489 §6.3: a whole number 0–100)', () => {
  test('the parser: pct=200, -1, 50.5, abc, empty are errors; 0, 50, 100 are not', () => {
    for (const v of ['200', '101', '-1', '50.5', 'abc', '', '1000']) {
      const r = parseDmarcRecord(`v=DMARC1; p=reject; pct=${v}`);
      assert.ok(r.errors.some((e) => e.startsWith(`invalid pct=${v} `)), `pct=${v}: ${JSON.stringify(r.errors)}`);
      assert.equal(r.policy, 'reject', 'the policy still applies');
    }
    for (const v of ['0', '50', '100', '050']) assert.deepEqual(parseDmarcRecord(`v=DMARC1; p=reject; rua=mailto:d@example.com; pct=${v}`).errors, [], v);
  });

  test('QA repro dmarcbad.example: the fixed record has no pct=200', async () => {
    const D = 'dmarcbad.example';
    const rec = txt(`_dmarc.${D}`, `v=DMARC1; p=reject; rua=dmarc@${D}; adkim=x; pct=200`);
    const ctx = checkContext(D, {}, {}, [rec]);
    const plan = await planDmarc(ctx, [rec]);
    // rua=dmarc@… (no mailto:) is repaired, not replaced by postmaster@ (it is on the domain itself: no authorisation needed).
    assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.after?.value}`), [`edit v=DMARC1; p=reject; rua=mailto:dmarc@${D}`]);
    assert.ok(plan.notes.some((n) => /^Drops pct=200: invalid pct=200/.test(n)), plan.notes.join('\n'));
    assert.ok(plan.notes.includes(`Repairs rua dmarc@${D} as mailto:dmarc@${D}: a report address needs the mailto: scheme.`), plan.notes.join('\n'));
  });

  test('a record whose only problem is pct=200: the check reports dmarc.syntax with the fix, and the fix drops pct', async () => {
    const D = 'pct.example';
    const value = `v=DMARC1; p=quarantine; rua=mailto:postmaster@${D}; pct=200`;
    const rec = txt(`_dmarc.${D}`, value);
    const ctx = checkContext(D, { [`_dmarc.${D}`]: { TXT: [[value]] } }, {}, [rec]);
    const f = await dmarcCheck(ctx);
    const syntax = f.find((x) => x.rule === 'dmarc.syntax');
    assert.ok(syntax, JSON.stringify(f.map((x) => x.rule)));
    assert.equal(syntax.severity, 'fail');
    assert.equal(syntax.fix, 'dmarc');
    assert.match(syntax.message, /invalid pct=200/);
    assert.ok(!f.some((x) => x.rule === 'dmarc.ok'));
    const plan = await planDmarc(ctx, [rec]);
    assert.deepEqual(plan.changes.map((c) => c.after?.value), [`v=DMARC1; p=quarantine; rua=mailto:postmaster@${D}`]);
    // After the fix: nothing left to report or change.
    const fixed = `v=DMARC1; p=quarantine; rua=mailto:postmaster@${D}`;
    const after = checkContext(D, { [`_dmarc.${D}`]: { TXT: [[fixed]] } }, {}, [txt(`_dmarc.${D}`, fixed)]);
    assert.ok(!(await dmarcCheck(after)).some((x) => x.fix === 'dmarc'));
    assert.deepEqual((await planDmarc(after, [txt(`_dmarc.${D}`, fixed)])).changes, []);
  });

  test('several records, one with pct=200: the invalid value counts as the default (100), the valid lowest is kept', async () => {
    const D = 'pctmerge.example';
    const a = txt(`_dmarc.${D}`, `v=DMARC1; p=reject; rua=mailto:postmaster@${D}; pct=200`);
    const b = txt(`_dmarc.${D}`, `v=DMARC1; p=reject; rua=mailto:postmaster@${D}; pct=40`);
    const plan = await planDmarc(checkContext(D, {}, {}, [a, b]), [a, b]);
    const values = plan.changes.filter((c) => c.after).map((c) => c.after!.value);
    assert.deepEqual(values, [`v=DMARC1; p=reject; pct=40; rua=mailto:postmaster@${D}`]);
  });
});
