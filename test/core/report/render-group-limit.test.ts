// The per reseller and customer table of the report had no limit: 5,000 customers made 5,253 rows — a 1 MB mail every
// night — while every section stops at 200 items with "… and N more". The table stops at 200 rows too (the resellers'
// rows first: their counts cover all their customers), in the text and the HTML, saying how many customers (and
// resellers) are left out and where to see them; the JSON stays whole, as for the sections.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildReport, type DomainSnapshot } from '../../../src/core/report/diff.js';
import { renderReport } from '../../../src/core/report/render.js';

/** `customers` customers, one domain each, spread over `resellers` resellers (every third customer the admin's). */
function doc(customers: number, resellers: number) {
  const domains: DomainSnapshot[] = [];
  for (let i = 0; i < customers; i++) {
    domains.push({ domain: `d${i}.example`, owner: `cust${String(i).padStart(5, '0')}`, reseller: i % 3 ? `res${String(i % resellers).padStart(3, '0')}` : null, status: 'pass', findings: [] });
  }
  return buildReport({ current: { runId: 2, status: 'complete', startedAt: '2026-01-02T03:00:00Z', domains }, runs: [] });
}

/** The table's lines in the text: from its heading to the blank line after it. */
function textTable(text: string): string[] {
  const lines = text.split('\n');
  const from = lines.indexOf('Per reseller and customer (new / resolved / still failing / unknown)');
  assert.ok(from >= 0, text);
  const to = lines.indexOf('', from);
  return lines.slice(from + 1, to < 0 ? undefined : to);
}

/** The table's rows in the HTML (the header row left out). */
function htmlRows(html: string): string[] {
  const table = html.slice(html.indexOf('<h2 style="font-size:16px">Per reseller and customer</h2>'));
  return table.slice(0, table.indexOf('</table>')).split('\n').filter((l) => l.startsWith('<tr') && !l.includes('<th>'));
}

describe('the per reseller and customer table is limited like the sections', () => {
  test('5,000 customers: 200 rows, every reseller first, "… and N more customers" with where to see them; JSON whole', () => {
    const d = doc(5000, 50);
    assert.equal(d.byCustomer.length, 5000);
    const r = renderReport(d, { baseUrl: 'https://panel.example:2087/mailhealth/' });
    const lines = textTable(r.text);
    const more = lines.pop()!;
    assert.equal(lines.length, 200);
    // Every reseller's row (51 with the server admin's customers), then customers in the rows left.
    assert.equal(lines.filter((l) => /^ {2}\S/.test(l)).length, 51);
    assert.equal(lines.filter((l) => /^ {4}\S/.test(l)).length, 149);
    assert.equal(
      more,
      "  … and 4851 more customers: the domain list in mailhealth's panel page shows every customer's domains (filter by customer): https://panel.example:2087/mailhealth/domains",
    );
    const rows = htmlRows(r.html);
    assert.equal(rows.length, 200);
    assert.match(r.html, /<p>… and 4851 more customers: <a href="https:\/\/panel\.example:2087\/mailhealth\/domains">the panel's domain list<\/a> shows every customer's domains\.<\/p>/);
    // The mail is no longer megabytes.
    assert.ok(r.html.length < 100_000 && r.text.length < 50_000, `${r.html.length} ${r.text.length}`);
    // The JSON is the whole document.
    assert.equal(r.json.byCustomer.length, 5000);
    assert.equal(r.json.byReseller.length, 51);
  });

  test('a reseller\'s totals count all their customers, shown or not', () => {
    const d = doc(900, 2);
    const r = renderReport(d, { maxItemsPerSection: 10 });
    const lines = textTable(r.text);
    // Three reseller rows (res000, res001 and the server admin's), seven customers.
    assert.equal(d.byReseller.length, 3);
    assert.equal(lines.length, 11);
    assert.match(lines[10], /^ {2}… and 893 more customers: the domain list in mailhealth's panel page shows every customer's domains \(filter by customer\)$/);
    const res = d.byReseller.find((g) => g.reseller === 'res000')!;
    assert.ok(lines.some((l) => l === `  res000: 0 / 0 / 0 / 0`));
    assert.equal(res.counts.domains, 300);
    assert.ok(r.html.includes(`<td>res000</td><td>300</td>`));
  });

  test('more resellers than rows: those left out are counted too', () => {
    const d = doc(600, 400);
    const r = renderReport(d, { maxItemsPerSection: 5 });
    const lines = textTable(r.text);
    assert.equal(lines.length, 6);
    assert.ok(lines.slice(0, 5).every((l) => /^ {2}\S/.test(l) && !l.startsWith('  …')), lines.join('\n'));
    assert.equal(lines[5].slice(0, lines[5].indexOf(':')), `  … and 600 more customers and ${d.byReseller.length - 5} more resellers`);
    assert.equal(htmlRows(r.html).length, 5);
  });

  test('a table within the limit is whole, with no "more" line', () => {
    const r = renderReport(doc(30, 3));
    const lines = textTable(r.text);
    assert.equal(lines.length, 3 + 30); // the server admin, res001, res002 and their customers
    assert.ok(!lines.some((l) => l.includes('more customer')));
    assert.ok(!r.html.includes('more customer'));
  });
});
