// dmarc.compat for OpenDMARC's length limits on report addresses (libopendmarc 1.4.2, judged at the boundaries in
// test/e2e/dmarc-opendmarc-judge.test.ts): a report URI of 256 octets or more makes it apply no DMARC policy from the
// record; a rua= or ruf= value of 512 octets or more (as written) makes it send no report of that kind to any of the
// addresses. The check was silent on both (dmarc.ok); now a warning with the fix, which says which addresses it keeps —
// the same ones its plan writes — and whose record then passes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dmarcCheck } from '../../../src/core/checks/dmarc.js';
import type { Finding, ZoneRecord } from '../../../src/core/model.js';
import { planDmarc } from '../../../src/core/plans/dmarc.js';
import { checkContext } from './context.js';

const D = 'alice.example';
const NAME = `_dmarc.${D}`;
const OPENDMARC = 'OpenDMARC \\(the DMARC milter of many Postfix and Sendmail receivers\\)';

/** A mailto: URI of exactly `n` octets at the domain (its local part filled with "a"). */
const uriOf = (n: number) => `mailto:${'a'.repeat(n - `mailto:@${D}`.length)}@${D}`;
/** `n` report addresses of 37 octets at the domain, comma-separated (36 + 1 octets each). */
const listOf = (n: number) => Array.from({ length: n }, (_, k) => `mailto:dmarc-report-${String(k).padStart(2, '0')}@${D}`);
/** A record as the strings of its TXT record (at most 200 octets each, as a zone stores a long one). */
const strings = (text: string) => text.match(/[^]{1,200}/g)!;

async function run(value: string) {
  const txt = strings(value);
  const recs: ZoneRecord[] = [{ name: NAME, ttl: 3600, type: 'TXT', value, txt, ref: 'r0' }];
  const ctx = checkContext(D, { [NAME]: { TXT: [txt] } }, {}, recs);
  const findings = await dmarcCheck(ctx);
  const plan = await planDmarc(ctx, recs);
  const after = plan.changes.map((c) => c.after).filter(Boolean);
  return { findings, plan, compat: findings.filter((f) => f.rule === 'dmarc.compat'), fixed: after.length === 1 ? (after[0]!.txt ?? [after[0]!.value]).join('') : null };
}
const rules = (fs: Finding[]) => fs.map((f) => `${f.rule}:${f.severity}${f.fix ? ':fix' : ''}`);

/** The fix's record passes: no dmarc.compat, dmarc.ok, and the fix has nothing more to do. */
async function passes(value: string) {
  const again = await run(value);
  assert.deepEqual(again.compat, [], value);
  assert.ok(again.findings.some((f) => f.rule === 'dmarc.ok'), rules(again.findings).join(', '));
  assert.deepEqual(again.plan.changes, []);
}

describe('dmarc check: report addresses over OpenDMARC\'s length limits', () => {
  test('a report URI of 256 octets: dmarc.compat (warn) with the fix, saying OpenDMARC applies no policy, the numbers, and that the fix drops it', async () => {
    const value = `v=DMARC1; p=reject; rua=mailto:d@alice.example,${uriOf(256)}`;
    const { findings, compat, fixed } = await run(value);
    assert.equal(compat.length, 1, rules(findings).join(', '));
    assert.equal(compat[0].severity, 'warn');
    assert.equal(compat[0].fix, 'dmarc');
    assert.match(
      compat[0].message,
      new RegExp(
        `^Receivers that follow RFC 7489 read the DMARC record, but ${OPENDMARC} applies no DMARC policy from it: its rua= address "mailto:a{50}\\.\\.\\." is 256 octets long, and OpenDMARC refuses the whole record over a report URI of 256 octets or more\\. The DMARC fix writes the record so that it reads it, keeping its policy and the report addresses that fit: it drops rua "mailto:a{50}\\.\\.\\." \\(256 octets, even without a !size suffix\\)\\.$`,
      ),
    );
    assert.ok(!findings.some((f) => f.rule === 'dmarc.ok'));
    assert.equal(fixed, 'v=DMARC1; p=reject; rua=mailto:d@alice.example');
    await passes(fixed!);
  });

  test('a ruf URI of 256 octets too; one of 255 is no finding', async () => {
    const { compat, fixed } = await run(`v=DMARC1; p=reject; rua=mailto:d@alice.example; ruf=${uriOf(256)}`);
    assert.equal(compat.length, 1);
    assert.match(compat[0].message, /its ruf= address "mailto:a+\.\.\." is 256 octets long, .* it drops ruf "mailto:a+\.\.\." \(256 octets, even without a !size suffix\)\.$/);
    assert.equal(fixed, 'v=DMARC1; p=reject; rua=mailto:d@alice.example');
    const ok = await run(`v=DMARC1; p=reject; rua=mailto:d@alice.example; ruf=${uriOf(255)}`);
    assert.deepEqual(ok.compat, []);
    assert.ok(ok.findings.some((f) => f.rule === 'dmarc.ok'), rules(ok.findings).join(', '));
  });

  test('over 255 octets only with its !size suffix: the fix says it writes the URI without it', async () => {
    const { compat, fixed } = await run(`v=DMARC1; p=quarantine; rua=${uriOf(252)}!10m`);
    assert.equal(compat.length, 1);
    assert.match(compat[0].message, /it writes rua "mailto:a+\.\.\." without its !size suffix \(256 octets with it\)\.$/);
    assert.equal(fixed, `v=DMARC1; p=quarantine; rua=${uriOf(252)}`);
  });

  test('the only aggregate address over 255 octets: the fix says where the reports go instead', async () => {
    const { compat, fixed } = await run(`v=DMARC1; p=none; rua=${uriOf(300)}`);
    assert.equal(compat.length, 1);
    assert.match(compat[0].message, /it drops rua "mailto:a+\.\.\." \(300 octets, even without a !size suffix\); with no aggregate address of the record left, it sends the aggregate reports to postmaster@alice\.example instead\.$/);
    assert.equal(fixed, 'v=DMARC1; p=none; rua=mailto:postmaster@alice.example');
  });

  test('a rua= list of 512 octets or more: dmarc.compat saying OpenDMARC applies the policy but sends no aggregate report, and which addresses the fix drops', async () => {
    // 14 addresses: 14 × 36 + 13 = 517 octets; the fix keeps 13 (13 × 36 + 12 = 480).
    const uris = listOf(14);
    const { findings, compat, fixed } = await run(`v=DMARC1; p=reject; rua=${uris.join(',')}`);
    assert.equal(compat.length, 1, rules(findings).join(', '));
    assert.equal(compat[0].fix, 'dmarc');
    assert.equal(
      compat[0].message,
      `Receivers that follow RFC 7489 read the DMARC record with all its report addresses; OpenDMARC (the DMARC milter of many Postfix and Sendmail receivers) applies its policy, but its rua= value is 517 octets long (from "=" to the next ";", spaces included), and OpenDMARC skips a rua= or ruf= value of 512 octets or more whole, so it sends no aggregate reports to any of its 14 addresses. The DMARC fix writes the record so that it reads it, keeping its policy and the report addresses that fit: it drops rua mailto:dmarc-report-13@alice.example, which do not fit in the 511 octets of the list after the addresses written before it.`,
    );
    assert.equal(fixed, `v=DMARC1; p=reject; rua=${uris.slice(0, 13).join(',')}`);
    await passes(fixed!);
  });

  test('a list over 511 octets only with its spaces: the fix keeps every address (it writes them without the spaces)', async () => {
    // 13 × 36 + 12 × 4 = 516 octets as written, 480 without the spaces.
    const uris = listOf(13);
    const { compat, fixed } = await run(`v=DMARC1; p=reject; rua=${uris.join(' ,  ')}`);
    assert.equal(compat.length, 1);
    assert.match(compat[0].message, /its rua= value is 516 octets long .* The DMARC fix writes the record so that it reads it, keeping its policy and report addresses\.$/);
    assert.equal(fixed, `v=DMARC1; p=reject; rua=${uris.join(',')}`);
  });

  test('a list of 511 octets is no finding', async () => {
    // 13 addresses of 36 octets and one of 30: 13 × 36 + 30 + 13 = 511.
    const value = `v=DMARC1; p=reject; rua=${[...listOf(13), `mailto:d12345678@${D}`].join(',')}`;
    assert.equal(Buffer.byteLength(value.split('rua=')[1]), 511);
    const { compat, findings } = await run(value);
    assert.deepEqual(compat, []);
    assert.ok(findings.some((f) => f.rule === 'dmarc.ok'), rules(findings).join(', '));
  });

  test('a previous host\'s address in a long list: both findings name the addresses the fix keeps, as its plan does', async () => {
    // The previous host's address first: the fix drops it, and then 13 of the 15 others fit.
    const uris = listOf(15);
    const { findings, compat, fixed } = await run(`v=DMARC1; p=reject; rua=mailto:dmarc-reports@dreamhost.com,${uris.join(',')}`);
    const stale = findings.find((f) => f.rule === 'dmarc.stale-destination');
    assert.ok(stale, rules(findings).join(', '));
    assert.ok(stale.message.endsWith(`The DMARC fix drops it and keeps ${uris.slice(0, 13).map((u) => u.slice(7)).join(', ')}.`), stale.message);
    assert.match(compat[0].message, /it drops rua mailto:dmarc-report-13@alice\.example, mailto:dmarc-report-14@alice\.example, which do not fit in the 511 octets of the list after the addresses written before them\.$/);
    assert.equal(fixed, `v=DMARC1; p=reject; rua=${uris.slice(0, 13).join(',')}`);
  });

  test('a ruf= list of 512 octets or more: no failure reports at OpenDMARC\'s receivers, said', async () => {
    const { compat } = await run(`v=DMARC1; p=reject; rua=mailto:d@alice.example; ruf=${listOf(15).join(',')}`);
    assert.equal(compat.length, 1);
    assert.match(compat[0].message, /its ruf= value is 554 octets long .* so it sends no failure reports to any of its 15 addresses\. .* it drops ruf mailto:dmarc-report-13@alice\.example, mailto:dmarc-report-14@alice\.example, /);
  });
});
