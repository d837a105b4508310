// Review: with two (or more) copies of the server's key at its selector, the DKIM plan said "Publishes this server's
// key … as a single record (it is there already, beside another record)" once per copy — beside no other record. Each
// note once: the copies of one key in a form receivers use are one subject, said with how many records publish it; the
// same goes for copies the fix replaces (a previous host's key) or rewrites (t=y). The audit's side:
// test/core/checks/dkim-copies.test.ts.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { ZoneRecord } from '../../../src/core/model.js';
import { planDkim } from '../../../src/core/plans/dkim.js';
import { makePlan } from '../../../src/core/plans/index.js';
import type { PartialPlan } from '../../../src/core/plans/spf.js';
import { checkContext } from '../checks/context.js';
import { dkimRdata, findings, rsaKey, scenario, zoneText, type Scenario } from '../../helpers/scenario.js';

const D = 'copies.example';
const NAME = `default._domainkey.${D}`;
const mine = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
/** A record's text as DNS strings of at most `at` characters. */
const cut = (text: string, at = 200) => text.match(new RegExp(`[^]{1,${at}}`, 'g'))!;

async function plan(values: string[][]): Promise<{ plan: PartialPlan; zone: ZoneRecord[] }> {
  const zone: ZoneRecord[] = values.map((v, i) => ({ name: NAME, ttl: 3600, type: 'TXT', value: v.join(''), txt: v, ref: `r${i}` }));
  const ctx = checkContext(D, { [D]: { TXT: [['v=spf1 a mx ~all']] }, [NAME]: { TXT: values } }, { dkim: { selector: 'default', signing: true, publicKey: mine } }, zone);
  return { plan: await planDkim(ctx, zone), zone };
}

/** The records the plan leaves at the selector. */
function left(p: PartialPlan, zone: readonly ZoneRecord[]): ZoneRecord[] {
  const gone = new Set(p.changes.filter((c) => c.before).map((c) => c.before));
  return [...zone.filter((r) => !gone.has(r)), ...p.changes.filter((c) => c.after).map((c) => c.after!)];
}

const once = (notes: readonly string[]) => assert.equal(new Set(notes).size, notes.length, `a note said twice:\n${notes.join('\n')}`);
const matching = (notes: readonly string[], re: RegExp) => notes.filter((n) => re.test(n));

describe("the DKIM plan over copies of one key: each note once", () => {
  test("the server's key twice, then three times: one note, saying how many records publish it, and nothing beside it", async () => {
    const own = `v=DKIM1; k=rsa; p=${mine}`;
    for (const n of [2, 3]) {
      const { plan: p, zone } = await plan(Array.from({ length: n }, (_, i) => cut(own, 150 + 20 * i)));
      once(p.notes);
      const single = matching(p.notes, /as a single record/);
      assert.equal(single.length, 1, p.notes.join('\n'));
      assert.match(single[0], new RegExp(`\\(${n} records there publish it already`));
      assert.doesNotMatch(single[0], /beside another record/);
      assert.equal(left(p, zone).length, 1, JSON.stringify(p.changes));
    }
  });

  test("the server's key twice beside a verification token: one note (beside another record), the token's own note", async () => {
    const own = `v=DKIM1; k=rsa; p=${mine}`;
    const { plan: p, zone } = await plan([cut(own), ['site-verification=abc'], cut(own, 120)]);
    once(p.notes);
    const single = matching(p.notes, /as a single record/);
    assert.equal(single.length, 1, p.notes.join('\n'));
    assert.match(single[0], /2 records there publish it already, beside another record/);
    assert.equal(matching(p.notes, /site-verification=abc/).length, 1, p.notes.join('\n'));
    assert.equal(left(p, zone).length, 1);
  });

  test("a previous host's key twice: the replacement said once", async () => {
    const stale = `v=DKIM1; k=rsa; p=${other}`;
    const { plan: p, zone } = await plan([cut(stale), cut(stale, 150)]);
    once(p.notes);
    assert.equal(matching(p.notes, /^Replaces the key at /).length, 1, p.notes.join('\n'));
    assert.equal(left(p, zone).length, 1);
  });

  test("the server's key twice in testing mode (t=y): the rewrite said once", async () => {
    const t = `v=DKIM1; k=rsa; t=y; p=${mine}`;
    const { plan: p, zone } = await plan([cut(t), cut(t, 150)]);
    once(p.notes);
    assert.equal(matching(p.notes, /^Rewrites the key at .*testing mode/).length, 1, p.notes.join('\n'));
    const [kept] = left(p, zone);
    assert.doesNotMatch(kept.value, /t=y/);
  });
});

describe('what a user sees: the audit and the fix preview of a files panel whose zone holds the key twice', () => {
  let s: Scenario;
  before(async () => {
    // Two copies of the server's key, its TXT strings cut differently: two records for the zone file and for DNS.
    const key = rsaKey().publicB64;
    const again = `( ${cut(`v=DKIM1; k=rsa; p=${key}`, 100).map((x) => `"${x}"`).join(' ')} )`;
    assert.notEqual(again, dkimRdata(key), 'the copy is cut otherwise than zoneText cuts the first');
    s = await scenario({ domains: { 'twice.test': { zone: zoneText({ extra: [`default._domainkey\tIN\tTXT\t${again}`] }) } } });
  });
  after(() => s.cleanup());

  test('dkim.ok once; the preview says the single-record note once and leaves one record', async () => {
    const a = await s.audit('twice.test');
    assert.equal(findings(a, 'dkim.ok').length, 1, JSON.stringify(a.findings.map((f) => f.rule)));
    assert.equal(findings(a, 'dkim.multiple').length, 1);
    assert.equal(findings(a, 'dkim.multiple')[0].fix, 'dkim');
    const p = await makePlan({ domain: 'twice.test', check: 'dkim' }, { panel: s.panel, resolver: s.resolver });
    once(p.notes);
    assert.equal(matching(p.notes, /as a single record \(2 records there publish it already/).length, 1, p.notes.join('\n'));
    assert.deepEqual(p.changes.map((c) => c.action), ['remove']);
  });
});

