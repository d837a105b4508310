// Review: with two (or more) copies of the server's key at its selector the audit said dkim.ok once per copy — and,
// per copy again, dkim.weak-key, dkim.testing or dkim.key-mismatch when the copies carried one. Records at a selector
// that publish one key and that verifiers read alike (copies, or the same key spelt otherwise: p= folded, split into
// other strings, v= left out, k= after p=) are one subject: each finding once (dkim.multiple says how many records
// there are). A spelling verifiers read otherwise (v= not first) is not a copy: its own finding (dkim.malformed) stays.
// The DKIM plan's notes: test/core/plans/dkim-copies.test.ts.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { dkimCheck } from '../../../src/core/checks/dkim.js';
import type { Finding, ZoneRecord } from '../../../src/core/model.js';
import { checkContext } from './context.js';

const D = 'copies.example';
const NAME = `default._domainkey.${D}`;
const key = (bits: number) => generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const mine = key(2048);
const other = key(2048);
const weak = key(1024);
const show = (fs: readonly Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''} [${f.subject}]: ${f.message}`).join('\n');
/** A record's text as DNS strings of at most `at` characters (the copies below are cut at different places). */
const cut = (text: string, at = 200) => text.match(new RegExp(`[^]{1,${at}}`, 'g'))!;

/** The DKIM check with `values` at the server's selector (live and in the panel's zone), the server signing with `serverKey`. */
async function audit(values: string[][], serverKey = mine): Promise<Finding[]> {
  const zone: ZoneRecord[] = values.map((v, i) => ({ name: NAME, ttl: 3600, type: 'TXT', value: v.join(''), txt: v, ref: `r${i}` }));
  const ctx = checkContext(D, { [D]: { TXT: [['v=spf1 a mx ~all']] }, [NAME]: { TXT: values } }, { dkim: { selector: 'default', signing: true, publicKey: serverKey } }, zone);
  return dkimCheck(ctx);
}

/** Findings equal to an earlier one in rule, subject and message: said twice. */
function repeated(fs: readonly Finding[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const f of fs) {
    const k = JSON.stringify([f.rule, f.subject, f.message]);
    if (seen.has(k)) out.push(`${f.rule} [${f.subject}]: ${f.message}`);
    seen.add(k);
  }
  return out;
}

const count = (fs: readonly Finding[], rule: string) => fs.filter((f) => f.rule === rule).length;

describe("copies of one key at the server's selector are one subject: each finding once", () => {
  test('the same record twice, and three times: one dkim.ok, one dkim.multiple (naming how many)', async () => {
    const own = `v=DKIM1; k=rsa; p=${mine}`;
    for (const n of [2, 3]) {
      const fs = await audit(Array.from({ length: n }, () => cut(own)));
      assert.equal(count(fs, 'dkim.ok'), 1, show(fs));
      assert.equal(count(fs, 'dkim.multiple'), 1, show(fs));
      assert.match(fs.find((f) => f.rule === 'dkim.multiple')!.message, new RegExp(`^${n} TXT records at .* publish the same key`));
      assert.deepEqual(repeated(fs), [], show(fs));
    }
  });

  test('the same key spelt otherwise (other strings, p= folded, no v=, k= after p=): one dkim.ok', async () => {
    const own = `v=DKIM1; k=rsa; p=${mine}`;
    const spellings = [cut(own, 100), cut(`v=DKIM1; k=rsa; p=${mine.slice(0, 150)} ${mine.slice(150)}`), cut(`k=rsa; p=${mine}`), cut(`v=DKIM1; p=${mine}; k=rsa`)];
    for (const s of spellings) {
      const fs = await audit([cut(own), s]);
      assert.equal(count(fs, 'dkim.ok'), 1, `${JSON.stringify(s.join(''))}\n${show(fs)}`);
      assert.equal(fs.find((f) => f.rule === 'dkim.multiple')?.severity, 'warn', show(fs));
      assert.deepEqual(repeated(fs), [], show(fs));
    }
  });

  test('a spelling verifiers read otherwise (v= not first) is not a copy: dkim.ok once, and its dkim.malformed', async () => {
    const fs = await audit([cut(`v=DKIM1; k=rsa; p=${mine}`), cut(`k=rsa; v=DKIM1; p=${mine}`)]);
    assert.equal(count(fs, 'dkim.ok'), 1, show(fs));
    assert.equal(count(fs, 'dkim.malformed'), 1, show(fs));
    assert.equal(fs.find((f) => f.rule === 'dkim.multiple')?.severity, 'fail', show(fs));
  });

  test("copies of the server's 1024-bit key: dkim.weak-key once", async () => {
    const fs = await audit([cut(`v=DKIM1; k=rsa; p=${weak}`), cut(`v=DKIM1; k=rsa; p=${weak}`, 120)], weak);
    assert.equal(count(fs, 'dkim.weak-key'), 1, show(fs));
    assert.equal(count(fs, 'dkim.ok'), 1, show(fs));
    assert.deepEqual(repeated(fs), [], show(fs));
  });

  test('copies in testing mode (t=y): dkim.testing once', async () => {
    const t = `v=DKIM1; k=rsa; t=y; p=${mine}`;
    const fs = await audit([cut(t), cut(t, 150)]);
    assert.equal(count(fs, 'dkim.testing'), 1, show(fs));
    assert.deepEqual(repeated(fs), [], show(fs));
  });

  test("copies of a previous host's key at the server's selector: dkim.key-mismatch once, with the fix", async () => {
    const stale = `v=DKIM1; k=rsa; p=${other}`;
    const fs = await audit([cut(stale), cut(stale, 150)]);
    const mismatch = fs.filter((f) => f.rule === 'dkim.key-mismatch');
    assert.equal(mismatch.length, 1, show(fs));
    assert.equal(mismatch[0].fix, 'dkim');
    assert.deepEqual(repeated(fs), [], show(fs));
  });

  test("records that say different things keep a finding each: the server's key, another key, a revoked record", async () => {
    const fs = await audit([cut(`v=DKIM1; k=rsa; p=${mine}`), cut(`v=DKIM1; k=rsa; p=${other}`), cut('v=DKIM1; k=rsa; p=')]);
    assert.equal(count(fs, 'dkim.ok'), 1, show(fs));
    assert.equal(count(fs, 'dkim.key-mismatch'), 1, show(fs));
    assert.equal(count(fs, 'dkim.revoked'), 1, show(fs));
  });
});
