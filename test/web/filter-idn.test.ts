// The "Domain contains" filter (/domains, /bulk, the exports, "Audit all N matching", POST /api/bulk: parseFilter and
// applyFilter) finds a domain typed as its customer writes it — "bücher.example", "BÜCHER.EXAMPLE.", "bakery.example."
// — as its domain page does (QA-IDN-4): the text is read like a domain name (lower-case A-labels, no trailing dot),
// label by label when it is only part of one; other text is matched as typed (lower case), as before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFilter, filterQuery, parseFilter, type DomainRow } from '../../src/web/domain-list.js';

const row = (domain: string): DomainRow => ({ domain, owner: 'alice', reseller: null, status: 'pass', auditedAt: null, checks: {} });
const rows = ['xn--bcher-kva.example', 'bakery.example', 'shop.xn--bcher-kva.example', 'bucher.example'].map(row);
const found = (q: string) => applyFilter(rows, parseFilter({ q })).map((r) => r.domain);

test('a whole name in any spelling finds the domain (and its subdomains, as "contains" did)', () => {
  for (const q of ['bücher.example', 'BÜCHER.EXAMPLE.', 'Bücher.Example\u3002', 'xn--bcher-kva.example', 'XN--BCHER-KVA.EXAMPLE.', 'bu\u0308cher.example']) {
    assert.deepEqual(found(q), ['xn--bcher-kva.example', 'shop.xn--bcher-kva.example'], JSON.stringify(q));
  }
  assert.deepEqual(found('bakery.example.'), ['bakery.example']);
  assert.deepEqual(found(' BAKERY.EXAMPLE '), ['bakery.example']);
});

test('part of a name: each label that converts as its A-label, the rest as typed; one trailing dot dropped', () => {
  assert.deepEqual(found('Bücher'), ['xn--bcher-kva.example', 'shop.xn--bcher-kva.example']);
  assert.deepEqual(found('shop.bücher'), ['shop.xn--bcher-kva.example']);
  assert.deepEqual(found('bakery.'), ['bakery.example']);
  assert.deepEqual(found('.EXAMPLE'), rows.map((r) => r.domain));
  assert.deepEqual(found('UCHER'), ['bucher.example'], 'a substring of a label matches as before');
  assert.deepEqual(found('xn--'), ['xn--bcher-kva.example', 'shop.xn--bcher-kva.example']);
  assert.deepEqual(found('no such thing!'), []);
});

test('the filter keeps the normalised text: links, exports and POST /api/bulk read the same', () => {
  const f = parseFilter({ q: 'BÜCHER.EXAMPLE.' });
  assert.equal(f.q, 'xn--bcher-kva.example');
  assert.deepEqual(parseFilter(Object.fromEntries(new URLSearchParams(filterQuery(f).slice(1)))), f);
  assert.equal(parseFilter({ q: 'x'.repeat(2000) }).q?.length, 253);
  assert.equal(parseFilter({ q: '.' }).q, undefined, 'nothing left to match: no filter, as every name contains "."');
});
