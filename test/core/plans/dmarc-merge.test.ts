// DMARC fix: merging several records, and records receivers ignore (no p, p twice) — never tightened, no working
// report address lost.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CheckContext } from '../../../src/core/checks/context.js';
import type { ZoneRecord } from '../../../src/core/model.js';
import { planDmarc } from '../../../src/core/plans/dmarc.js';

const D = 'example.com';
const AUTH = { [`${D}._report._dmarc.vendor.example`]: { status: 'ok', records: [['v=DMARC1']] } };

function ctx(auth: Record<string, unknown> = AUTH): CheckContext {
  return {
    domain: D,
    settings: {},
    classifier: { reportAddress: async (a: string) => (a.includes('oldhost') ? { class: 'stale', reason: 'the previous host' } : { class: 'unknown', reason: '' }) },
    resolver: { resolve: async (n: string) => auth[n] ?? { status: 'nxdomain', records: [] } },
  } as unknown as CheckContext;
}
const rec = (value: string): ZoneRecord => ({ name: `_dmarc.${D}`, ttl: 3600, type: 'TXT', value, txt: [value] });

/** The single record the plan leaves at _dmarc, and its notes. */
async function fixed(...values: string[]): Promise<{ value: string; notes: string[] }> {
  const existing = values.map(rec);
  const plan = await planDmarc(ctx(), existing);
  assert.equal(plan.blocked, undefined);
  const removed = new Set(plan.changes.filter((c) => c.action !== 'add').map((c) => c.before));
  const left = [...existing.filter((r) => !removed.has(r)), ...plan.changes.filter((c) => c.after).map((c) => c.after!)];
  assert.equal(left.length, 1, JSON.stringify(plan.changes));
  return { value: left[0].value, notes: plan.notes };
}

describe('DMARC fix: merging records', () => {
  test('the subdomain policy is the weakest among the records (an absent sp is that record’s p)', async () => {
    const { value } = await fixed('v=DMARC1; p=reject; sp=reject; rua=mailto:d@example.com', 'v=DMARC1; p=none');
    assert.equal(value, 'v=DMARC1; p=none; sp=none; rua=mailto:d@example.com');
    assert.equal((await fixed('v=DMARC1; p=reject; sp=quarantine', 'v=DMARC1; p=reject; sp=none; rua=mailto:d@example.com')).value, 'v=DMARC1; p=reject; sp=none; rua=mailto:d@example.com');
    assert.equal((await fixed('v=DMARC1; p=quarantine; np=reject; rua=mailto:d@example.com', 'v=DMARC1; p=quarantine')).value, 'v=DMARC1; p=quarantine; np=quarantine; rua=mailto:d@example.com');
  });

  test('report addresses are the union of all records’; stale ones still dropped, unauthorised ones kept, each with a note', async () => {
    assert.equal((await fixed('v=DMARC1; p=none', 'v=DMARC1; p=none; rua=mailto:x@vendor.example')).value, 'v=DMARC1; p=none; rua=mailto:x@vendor.example');
    const { value, notes } = await fixed(
      'v=DMARC1; p=quarantine; rua=mailto:a@example.com,mailto:r@oldhost.example; ruf=mailto:f@example.com',
      'v=DMARC1; p=quarantine; rua=mailto:x@vendor.example,mailto:A@example.com,mailto:y@other.example; ruf=mailto:g@example.com',
    );
    assert.equal(value, 'v=DMARC1; p=quarantine; rua=mailto:a@example.com,mailto:x@vendor.example,mailto:y@other.example; ruf=mailto:f@example.com,mailto:g@example.com');
    assert.ok(notes.some((n) => n.startsWith('Drops rua r@oldhost.example')));
    assert.ok(notes.some((n) => n.startsWith('Keeps rua y@other.example') && n.includes('does not authorise')));
  });

  test('other tags: kept when all agree (an absent tag is its default), else the weakest or dropped with a note', async () => {
    const { value, notes } = await fixed(
      'v=DMARC1; p=reject; adkim=s; aspf=s; pct=50; fo=1; t=n; rua=mailto:a@example.com',
      'v=DMARC1; p=reject; aspf=s; pct=20; fo=d; t=y',
    );
    assert.equal(value, 'v=DMARC1; p=reject; aspf=s; pct=20; t=y; rua=mailto:a@example.com');
    assert.ok(notes.some((n) => /Drops adkim: .*adkim=s, adkim=r/.test(n)));
    assert.ok(notes.some((n) => /Drops fo: /.test(n)));
    assert.ok(notes.some((n) => /Sets pct=20/.test(n)));
  });
});

describe('DMARC fix: records receivers ignore enforce nothing, and neither does the fix', () => {
  test('p given twice → p=none with a note, whichever order', async () => {
    for (const v of ['v=DMARC1; p=reject; p=none; rua=mailto:a@example.com', 'v=DMARC1; p=none; p=reject; rua=mailto:a@example.com']) {
      const { value, notes } = await fixed(v);
      assert.equal(value, 'v=DMARC1; p=none; rua=mailto:a@example.com');
      assert.ok(notes.some((n) => /sets p more than once .*receivers apply no DMARC policy today/.test(n)), notes.join(' | '));
    }
  });

  test('no p: sp (and np) stricter than none are dropped with a note, not newly enforced', async () => {
    const { value, notes } = await fixed('v=DMARC1; sp=reject; np=quarantine');
    assert.equal(value, 'v=DMARC1; p=none; rua=mailto:postmaster@example.com');
    assert.ok(notes.some((n) => /Drops sp=reject: receivers ignore .*subdomains/.test(n)));
    assert.ok(notes.some((n) => /Drops np=quarantine/.test(n)));
  });

  test('an invalid p with sp: p=none and no sp', async () => {
    const { value, notes } = await fixed('v=DMARC1; p=rejct; sp=quarantine; rua=mailto:a@example.com');
    assert.equal(value, 'v=DMARC1; p=none; rua=mailto:a@example.com');
    assert.ok(notes.some((n) => n.includes('p=rejct')));
  });

  test('merged with an ignored record: nothing stricter than none; the ignored record’s reports kept', async () => {
    const { value } = await fixed('v=DMARC1; p=reject; sp=reject', 'v=DMARC1; p=reject; p=quarantine; rua=mailto:a@example.com');
    assert.equal(value, 'v=DMARC1; p=none; sp=none; rua=mailto:a@example.com');
  });

  test('a valid record is left as it is', async () => {
    const plan = await planDmarc(ctx(), [rec('v=DMARC1; p=reject; sp=quarantine; adkim=s; pct=50; rua=mailto:a@example.com')]);
    assert.deepEqual(plan.changes, []);
  });
});
