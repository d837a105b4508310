// When the parser says receivers read a record as p=none (RFC 7489 §6.6.3 step 6): only for a record without a valid
// p= (or with an invalid sp=) that has at least one syntactically valid rua URI — without one, receivers apply no DMARC
// processing — and never for one of several DMARC records (`several`), of which receivers apply none. The texts that
// say p=none name the valid rua they depend on. Over every combination of p=, sp=, np= and rua= below.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDmarcRecord } from '../../../src/core/dmarc/record.js';

/** A text that says what receivers make of the record as p=none. */
const SAYS_NONE = /read the record as p=none|treated as p=none/;

const P = ['', 'p=reject', 'p=none', 'p=bogus'];
const SP = ['', 'sp=reject', 'sp=block'];
const NP = ['', 'np=quarantine'];
const RUA = ['', 'rua=mailto:d@example.net', 'rua=junk', 'rua=junk,mailto:d@example.net'];

const records = P.flatMap((p) => SP.flatMap((sp) => NP.flatMap((np) => RUA.map((rua) => ['v=DMARC1', p, sp, np, rua].filter(Boolean).join('; ')))));

describe('DMARC parser: p=none is said only where receivers apply it', () => {
  test('one record: said iff it has no valid p (or an invalid sp) and a valid rua; the text names the rua', () => {
    let said = 0;
    for (const txt of records) {
      const r = parseDmarcRecord(txt);
      const texts = [...r.errors, ...r.warnings].filter((t) => SAYS_NONE.test(t));
      const fallback = (!/; p=(reject|none)/.test(txt) || /sp=block/.test(txt)) && r.rua.length > 0;
      // Said where the record falls back to p=none and has something to say of it (a missing p, an invalid sp, a
      // stricter sp=/np= not applied); never where it does not fall back.
      if (!fallback) assert.deepEqual(texts, [], txt);
      for (const t of texts) assert.match(t, /valid rua/, `${txt}: ${t}`);
      if (fallback) assert.equal(r.policy, 'none', txt);
      said += texts.length;
    }
    assert.ok(said > 10, 'the combinations include records read as p=none');
  });

  test('one of several records: never said (receivers apply none of them); the record is read the same otherwise', () => {
    for (const txt of records) {
      const alone = parseDmarcRecord(txt);
      const r = parseDmarcRecord(txt, { several: true });
      assert.deepEqual([...r.errors, ...r.warnings].filter((t) => SAYS_NONE.test(t) || /is not applied/.test(t)), [], txt);
      // Its reading (what the fix merges by) and its errors are those of the record alone.
      assert.deepEqual([r.policy, r.subdomainPolicy, r.nonExistentPolicy, r.errors], [alone.policy, alone.subdomainPolicy, alone.nonExistentPolicy, alone.errors], txt);
    }
  });

  test('the texts, one record', () => {
    assert.ok(parseDmarcRecord('v=DMARC1; p=reject; sp=block; rua=mailto:d@example.net').warnings.includes('invalid sp=block: receivers read the record as p=none, not p=reject (RFC 7489 §6.6.3), since it has a valid rua'));
    assert.ok(parseDmarcRecord('v=DMARC1; sp=reject; rua=mailto:d@example.net').warnings.includes('sp=reject is not applied: without a valid p receivers read the record as p=none since it has a valid rua, for subdomains too (RFC 7489 §6.6.3)'));
    assert.ok(parseDmarcRecord('v=DMARC1; p=reject; sp=block').errors.includes('invalid sp=block and no valid rua: RFC 7489 receivers apply no DMARC processing, not p=reject'));
    assert.ok(parseDmarcRecord('v=DMARC1; sp=reject; rua=mailto:d@example.net', { several: true }).warnings.includes('missing p tag (RFC 7489 requires it)'));
  });
});
