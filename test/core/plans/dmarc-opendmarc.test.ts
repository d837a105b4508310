// The DMARC fix never writes an rf= or ri= value OpenDMARC (libopendmarc 1.4, the milter of many Postfix and Sendmail
// receivers) refuses the whole record over: found by test/e2e/dmarc-opendmarc-judge.test.ts, pinned here without gcc.
// mailhealth's parser only remarks on such values (DMARCbis removed both tags), so the fix used to keep them — and
// OpenDMARC's receivers then applied no DMARC policy at all from the record it wrote.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ZoneRecord } from '../../../src/core/model.js';
import { planDmarc } from '../../../src/core/plans/dmarc.js';
import { checkContext } from '../checks/context.js';

const D = 'alice.example';
const NAME = `_dmarc.${D}`;

/** The record the fix leaves at _dmarc (the one it writes, or the one it leaves as it is) and its notes. */
async function fixed(value: string) {
  const recs: ZoneRecord[] = [{ name: NAME, ttl: 3600, type: 'TXT', value, txt: [value], ref: 'r0' }];
  const ctx = checkContext(D, { [NAME]: { TXT: [[value]] } }, {}, recs);
  const plan = await planDmarc(ctx, recs);
  const after = plan.changes.find((c) => c.after)?.after;
  return { value: after ? (after.txt ?? [after.value]).join('') : plan.changes.length ? null : value, notes: plan.notes };
}

describe('DMARC fix: rf= and ri= values OpenDMARC refuses are dropped', () => {
  test('rf=xml beside a previous host\'s report address: the rewritten record has no rf=', async () => {
    const { value, notes } = await fixed('v=DMARC1; p=reject; rf=xml; rua=mailto:dmarc-reports@dreamhost.com');
    assert.equal(value, 'v=DMARC1; p=reject; rua=mailto:postmaster@alice.example');
    assert.ok(notes.some((n) => n.startsWith('Drops rf=xml: afrf is the only registered failure-report format') && n.includes('OpenDMARC')), notes.join('\n'));
  });

  test('rf=afrf:iodef (RFC 7489 grammar, but OpenDMARC splits formats at ","): dropped, the default afrf applies', async () => {
    // (The previous host's ruf= goes too; a record that never asked for aggregate reports is given none.)
    const { value } = await fixed('v=DMARC1; p=quarantine; rf=afrf:iodef; ruf=mailto:f@dreamhost.com');
    assert.equal(value, 'v=DMARC1; p=quarantine');
  });

  test('ri=daily and ri=1 day: dropped; a record with only that wrong is rewritten', async () => {
    for (const ri of ['daily', '1 day', '-5', '4294967296']) {
      const { value, notes } = await fixed(`v=DMARC1; p=reject; ri=${ri}; rua=mailto:d@alice.example`);
      assert.equal(value, 'v=DMARC1; p=reject; rua=mailto:d@alice.example', ri);
      assert.ok(notes.some((n) => n.startsWith(`Drops ri=${ri}: ri= is a number of seconds`)), `${ri}: ${notes.join('\n')}`);
    }
  });

  test('valid rf= and ri= values are kept as written', async () => {
    const { value } = await fixed('v=DMARC1; p=quarantine; rf=AFRF; ri=3600; rua=mailto:dmarc-reports@dreamhost.com');
    assert.equal(value, 'v=DMARC1; p=quarantine; rf=AFRF; ri=3600; rua=mailto:postmaster@alice.example');
    const same = await fixed('v=DMARC1; p=none; rf=afrf; ri=86400; rua=mailto:d@alice.example');
    assert.equal(same.value, 'v=DMARC1; p=none; rf=afrf; ri=86400; rua=mailto:d@alice.example');
  });
});

describe('DMARC fix: where OpenDMARC applies a policy RFC 7489 receivers do not, the note says so', () => {
  // Its parser (test/e2e/dmarc-opendmarc-judge.test.ts) reads `p=reject; v=DMARC1` as p=reject and `p=r`, `p=rej` as
  // reject: the fix's p=none weakens mail there, so the note tells the customer how to keep it.
  test('v= not first: the fix publishes p=none; the note says OpenDMARC may apply p=reject already', async () => {
    const { value, notes } = await fixed('p=reject; v=DMARC1; rua=mailto:d@alice.example');
    assert.equal(value, 'v=DMARC1; p=none; rua=mailto:d@alice.example');
    assert.ok(notes.some((n) => n.includes('set p=reject yourself') && n.endsWith('(OpenDMARC (the DMARC milter of many Postfix and Sendmail receivers) does not check where v= stands, so its receivers may apply p=reject already.)')), notes.join('\n'));
    // A record that is not v-not-first (no ";" between tags) is not read by OpenDMARC either: no such words.
    const other = await fixed('v=DMARC1 p=reject; rua=mailto:d@alice.example');
    assert.ok(!other.notes.some((n) => n.includes('does not check where v= stands')), other.notes.join('\n'));
  });

  test('p=r and p=quar: p=none, and the note names the policy OpenDMARC reads; p=block and p=n: no such words', async () => {
    for (const [p, full] of [['r', 'reject'], ['quar', 'quarantine'], ['re ject', 'reject']]) {
      const { value, notes } = await fixed(`v=DMARC1; p=${p}; rua=mailto:d@alice.example`);
      assert.equal(value, 'v=DMARC1; p=none; rua=mailto:d@alice.example');
      assert.ok(notes.some((n) => n.startsWith(`The record has p=${p}, which is not a policy`) && n.endsWith(`accepts the start of a policy's name and reads it as p=${full}: set p=${full} yourself if that is what was meant.)`)), notes.join('\n'));
    }
    for (const p of ['block', 'n']) {
      const { notes } = await fixed(`v=DMARC1; p=${p}; rua=mailto:d@alice.example`);
      assert.ok(!notes.some((n) => n.includes('accepts the start of a policy')), notes.join('\n'));
    }
  });
});
