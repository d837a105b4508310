// A report address written once in each of two DMARC records was said to be "written twice in rua=" (the check counted
// its repeats over the records): a customer reading either record finds it once (review). Within one record it is
// still "written twice in rua="; across several records the finding says which of them have it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dmarcCheck } from '../../../src/core/checks/dmarc.js';
import type { Finding, ZoneRecord } from '../../../src/core/model.js';
import { checkContext } from './context.js';

const A = 'alice.example';
const N = `_dmarc.${A}`;

async function findings(vals: readonly string[]): Promise<Finding[]> {
  const recs: ZoneRecord[] = vals.map((v, i) => ({ name: N, ttl: 3600, type: 'TXT', value: v, txt: [v], ref: `r${i}` }));
  return dmarcCheck(checkContext(A, { [N]: { TXT: vals.map((v) => [v]) } }, {}, recs));
}
/** The one finding about report address `address` of `tag` (failing when there are none or several). */
function about(fs: readonly Finding[], tag: 'rua' | 'ruf', address: string): Finding {
  const of = fs.filter((f) => f.subject?.toLowerCase().startsWith(`${tag}=mailto:${address}`));
  assert.equal(of.length, 1, fs.map((f) => `${f.rule} ${f.subject ?? ''}: ${f.message}`).join('\n'));
  return of[0];
}

describe('DMARC check: a report address in several DMARC records', () => {
  test('once in each of two records: "in rua= of both DMARC records", not "written twice"', async () => {
    const fs = await findings([`v=DMARC1; p=reject; rua=mailto:d@${A}`, `v=DMARC1; p=none; rua=mailto:d@${A}`]);
    assert.ok(fs.some((f) => f.rule === 'dmarc.multiple'));
    const f = about(fs, 'rua', `d@${A}`);
    assert.equal(f.rule, 'dmarc.destination');
    assert.doesNotMatch(f.message, /written/);
    assert.match(f.message, /\. It is in rua= of both DMARC records\.$/);
  });

  test('in two of three records: "2 of the 3"; in all three: "all 3"', async () => {
    const two = await findings([`v=DMARC1; p=reject; rua=mailto:d@${A}`, `v=DMARC1; p=none; rua=mailto:e@${A}`, `v=DMARC1; p=quarantine; rua=mailto:D@${A.toUpperCase()}`]);
    assert.match(about(two, 'rua', `d@${A}`).message, /It is in rua= of 2 of the 3 DMARC records\.$/);
    assert.doesNotMatch(about(two, 'rua', `e@${A}`).message, /It is/);
    const all = await findings([`v=DMARC1; p=reject; ruf=mailto:d@${A}`, `v=DMARC1; p=none; ruf=mailto:d@${A}`, `v=DMARC1; p=quarantine; ruf=mailto:d@${A}`]);
    assert.match(about(all, 'ruf', `d@${A}`).message, /It is in ruf= of all 3 DMARC records\.$/);
  });

  test('twice in one record and once in the other: both said', async () => {
    const fs = await findings([`v=DMARC1; p=reject; rua=mailto:d@${A},mailto:d@${A}`, `v=DMARC1; p=none; rua=mailto:d@${A}`]);
    assert.match(about(fs, 'rua', `d@${A}`).message, /It is in rua= of both DMARC records, twice in one of them\.$/);
  });

  test('twice within one of two records (and not in the other): "written twice in rua=", as for one record', async () => {
    const fs = await findings([`v=DMARC1; p=reject; rua=mailto:d@${A},mailto:d@${A}`, `v=DMARC1; p=none; rua=mailto:e@${A}`]);
    assert.match(about(fs, 'rua', `d@${A}`).message, /It is written twice in rua=\.$/);
  });

  test('a previous host’s address once in each record: one dmarc.stale-destination, said in both, then what the fix does', async () => {
    const fs = await findings([`v=DMARC1; p=reject; rua=mailto:x@dreamhost.com,mailto:d@${A}`, `v=DMARC1; p=none; rua=mailto:x@dreamhost.com`]);
    const f = about(fs, 'rua', 'x@dreamhost.com');
    assert.equal(f.rule, 'dmarc.stale-destination');
    assert.match(f.message, /and you do not\. It is in rua= of both DMARC records\. The DMARC fix drops it/);
    assert.doesNotMatch(f.message, /written twice/);
  });
});
