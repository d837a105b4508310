// Accessibility QA of the domain and history tables on a narrow screen (headless Chromium, its accessibility tree as a
// screen reader gets it through the DevTools protocol). Below 760 px these tables are stacked blocks; their header row
// was `display: none`, which took the column headers out of the accessibility tree: a cell such as the status cell
// ("Fail") was read with no column name at all. Now the header row is hidden from sight only, so the table keeps its
// column headers, each at its cell's column (a fix plan's records table too: its header row was hidden the same way,
// and its stacked cells now say "Before:"/"After:" in sight). On /bulk the header's select-all box is the one a keyboard reaches on a
// wide screen and the one above the table (.select-all-narrow) on a narrow one — never both. At 1200 px the tables are
// laid out as before: a visible header row over rows of cells side by side.
// Skipped with a message when /usr/bin/chromium is missing. The demo panel (a fresh copy, audited) on loopback DNS.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../src/web/server.js';
import { launchChromium, skipBrowser } from './a11y-helpers.js';
import { demoWorld, logInThroughForm, NO_LIMITS, type TestWorld } from './helpers.js';

/** What the test reads of an accessibility node (Accessibility.getFullAXTree). */
interface AxNode {
  nodeId: string;
  ignored: boolean;
  role?: { value?: unknown };
  name?: { value?: unknown };
  childIds?: string[];
  backendDOMNodeId?: number;
  properties?: { name: string; value: { value?: unknown } }[];
}

interface AxCell {
  role: string;
  name: string;
  /** The DOM element's attributes (class, data-label, id). */
  attrs: Record<string, string>;
}

interface AxTable {
  /** The column headers' names (lower case: the header row is in capitals by CSS, which Chromium's names follow). */
  headers: string[];
  /** The other rows, each its cells in order: a cell's column header is the header at its index. */
  rows: AxCell[][];
}

const CELL_ROLES = new Set(['columnheader', 'rowheader', 'cell', 'gridcell']);
const roleOf = (n: AxNode) => String(n.role?.value ?? '');
const nameOf = (n: AxNode) => String(n.name?.value ?? '').replace(/\s+/g, ' ').trim();

/** The page's accessibility tree and the DOM attributes of what the test looks at. */
async function axTree(page: Page): Promise<{ nodes: AxNode[]; byId: Map<string, AxNode>; attrs(n: AxNode): Promise<Record<string, string>> }> {
  const cdp = await page.context().newCDPSession(page);
  const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as unknown as { nodes: AxNode[] };
  const attrs = async (n: AxNode) => {
    if (n.backendDOMNodeId === undefined) return {};
    const { node } = (await cdp.send('DOM.describeNode', { backendNodeId: n.backendDOMNodeId })) as { node: { attributes?: string[] } };
    const a = node.attributes ?? [];
    const out: Record<string, string> = {};
    for (let i = 0; i + 1 < a.length; i += 2) out[a[i]] = a[i + 1];
    return out;
  };
  return { nodes, byId: new Map(nodes.map((n) => [n.nodeId, n])), attrs };
}

/** The tables a screen reader is given, by their names (captions): their column headers and their rows of cells. */
async function axTables(page: Page): Promise<Map<string, AxTable>> {
  const { nodes, byId, attrs } = await axTree(page);
  // The exposed nodes under n, down to (not into) the first with one of `roles`: ignored and generic boxes in between
  // are looked through, as a screen reader does.
  const under = (n: AxNode, roles: Set<string>): AxNode[] =>
    (n.childIds ?? []).flatMap((id) => {
      const c = byId.get(id);
      if (!c) return [];
      return !c.ignored && roles.has(roleOf(c)) ? [c] : under(c, roles);
    });
  const out = new Map<string, AxTable>();
  for (const t of nodes.filter((n) => !n.ignored && roleOf(n) === 'table')) {
    const table: AxTable = { headers: [], rows: [] };
    for (const row of under(t, new Set(['row', 'table'])).filter((r) => roleOf(r) === 'row')) {
      const cells = under(row, CELL_ROLES);
      if (cells.length && cells.every((c) => roleOf(c) === 'columnheader')) {
        table.headers.push(...cells.map((c) => nameOf(c).toLowerCase()));
        continue;
      }
      table.rows.push(await Promise.all(cells.map(async (c) => ({ role: roleOf(c), name: nameOf(c), attrs: await attrs(c) }))));
    }
    out.set(nameOf(t), table);
  }
  return out;
}

/** The column header each kind of cell belongs under, by its class (a check cell: its data-label; a row's heading: "domain"). */
type Columns = Record<string, string>;

/**
 * The table named `caption` has the column headers `headers`, and every cell of its rows sits under the header of its
 * own column: `columns` maps a cell's class to that header. Returns the rows checked.
 */
function assertColumnsTied(tables: Map<string, AxTable>, caption: string, headers: string[], columns: Columns, what: string): AxCell[][] {
  const t = tables.get(caption);
  assert.ok(t, `${what}: a table "${caption}" (tables: ${JSON.stringify([...tables.keys()])})`);
  assert.deepEqual(t.headers, headers, `${what}: "${caption}" exposes its column headers`);
  assert.ok(t.rows.length > 0, `${what}: "${caption}" has rows`);
  for (const row of t.rows) {
    assert.equal(row.length, headers.length, `${what}: a row of "${caption}" has a cell for each column: ${JSON.stringify(row.map((c) => c.name))}`);
    row.forEach((cell, i) => {
      const classes = (cell.attrs.class ?? '').split(/\s+/).filter(Boolean);
      const want = cell.attrs['data-label']?.toLowerCase() ?? (cell.role === 'rowheader' ? columns.rowheader : classes.map((k) => columns[k]).find(Boolean));
      if (want) assert.equal(headers[i], want, `${what}: cell "${cell.name}" (${cell.role} ${classes.join(' ')}) of "${caption}" is under "${headers[i]}"`);
    });
  }
  return t.rows;
}

/** The column headers as the page's markup has them (its <thead>), in lower case. */
const markupHeaders = (page: Page, table: string) => page.$$eval(`${table} > thead th`, (ths) => ths.map((th) => (th.textContent ?? '').replace(/\s+/g, ' ').trim().toLowerCase()));

/** How a table is laid out: its header row's box and display, and whether each body row's cells sit side by side. */
const layoutOf = (page: Page, table: string) =>
  page.$eval(table, (t) => {
    const head = t.querySelector(':scope > thead')!;
    const box = head.getBoundingClientRect();
    const heads = [...head.querySelectorAll('th')].map((th) => Math.round(th.getBoundingClientRect().top));
    const rows = [...t.querySelectorAll(':scope > tbody > tr')];
    return {
      table: getComputedStyle(t).display,
      head: getComputedStyle(head).display,
      headHeight: Math.round(box.height),
      headInOneLine: heads.length > 0 && new Set(heads).size === 1,
      rows: [...new Set(rows.map((r) => getComputedStyle(r).display))],
      rowsInOneLine: rows.every((r) => new Set([...r.children].map((c) => Math.round(c.getBoundingClientRect().top))).size === 1),
    };
  });

const WIDE = { table: 'table', head: 'table-header-group', rows: ['table-row'], headInOneLine: true, rowsInOneLine: true };

describe('browser: the domain and history tables keep their column headers for screen readers below 760 px', { skip: skipBrowser }, () => {
  let w: TestWorld;
  let server: RunningServer;
  let ctx: BrowserContext;
  let profile: string;
  before(async () => {
    w = await demoWorld({ seedAudits: true });
    server = await startServer({ panel: w.panel, store: w.store, makeResolver: w.makeResolver, identityFrom: 'session', rateLimits: NO_LIMITS, host: '127.0.0.1', port: 0 });
    profile = mkdtempSync(join(tmpdir(), 'mailhealth-a11y-narrow-chromium-'));
    ctx = await launchChromium(profile);
  });
  after(async () => {
    await ctx?.close();
    await server?.close();
    await w?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  async function logIn(user: string): Promise<Page> {
    await ctx.clearCookies();
    const page = await ctx.newPage();
    await logInThroughForm(page, server.url, user);
    return page;
  }

  const DOMAINS = 'Domains and the result of each check, worst first';
  const DOMAIN_COLUMNS: Columns = { rowheader: 'domain', st: 'status', when: 'last audit' };

  test('/domains at 400 px: the table has its column headers, and the status cell is under "Status"; at 1200 px as before', { timeout: 90_000 }, async () => {
    const page = await logIn('alice');
    await page.setViewportSize({ width: 400, height: 900 });
    await page.goto(`${server.url}/domains`);
    const headers = await markupHeaders(page, 'table.domains');
    assert.deepEqual(headers.slice(0, 2), ['domain', 'status'], 'a customer: no Customer column');
    const narrow = await layoutOf(page, 'table.domains');
    assert.deepEqual([narrow.table, narrow.rows, narrow.headHeight <= 1], ['block', ['flex'], true], 'the stacked layout, no header row in sight');
    const rows = assertColumnsTied(await axTables(page), DOMAINS, headers, DOMAIN_COLUMNS, '400 px');
    // The status cell is there in every row, with its words (no label of its own: the column's header names it).
    for (const row of rows) {
      const st = row.findIndex((c) => c.attrs.class === 'st');
      assert.ok(st >= 0, 'a status cell');
      assert.equal(headers[st], 'status');
      assert.match(row[st].name, /^(Fail|Warning|Unknown|OK|Not audited)$/);
    }

    await page.setViewportSize({ width: 1200, height: 900 });
    await page.goto(`${server.url}/domains`);
    const wide = await layoutOf(page, 'table.domains');
    assert.ok(wide.headHeight > 10, `the header row is in sight (${wide.headHeight} px)`);
    assert.deepEqual({ table: wide.table, head: wide.head, rows: wide.rows, headInOneLine: wide.headInOneLine, rowsInOneLine: wide.rowsInOneLine }, WIDE);
    assertColumnsTied(await axTables(page), DOMAINS, headers, DOMAIN_COLUMNS, '1200 px');
    await page.close();
  });

  test('/history at 400 px: both tables have their column headers — the state and the result under theirs; at 1200 px as before', { timeout: 90_000 }, async () => {
    const page = await logIn('alice');
    // A change to list: a fix applied through its page.
    await page.goto(`${server.url}/domains/bakery.example/fix?check=spf`);
    await Promise.all([page.waitForEvent('load'), page.click('#apply')]);
    assert.equal(w.store.changesForDomain('bakery.example').length, 1, 'the fix was recorded');
    const CHANGES: Columns = { num: '#', when: 'when', dom: 'domain', what: 'what', by: 'who', st: 'state', acts: 'actions' };
    const AUDITS: Columns = { when: 'when', dom: 'domain', res: 'result', by: 'who' };
    for (const width of [400, 1200]) {
      await page.setViewportSize({ width, height: 900 });
      await page.goto(`${server.url}/history`);
      const changes = await markupHeaders(page, 'table.changes');
      const audits = await markupHeaders(page, 'table.audits');
      assert.deepEqual(changes, ['#', 'when', 'domain', 'what', 'who', 'state', 'actions']);
      assert.deepEqual(audits, ['when', 'domain', 'result', 'problems', 'who']);
      const tables = await axTables(page);
      const changeRows = assertColumnsTied(tables, 'Changes, newest first', changes, CHANGES, `${width} px`);
      const auditRows = assertColumnsTied(tables, 'Audits, newest first', audits, AUDITS, `${width} px`);
      assert.ok(changeRows.some((r) => r.some((c) => c.attrs.class === 'st' && /^applied\b/i.test(c.name))), `${width} px: the change's state cell`);
      assert.ok(auditRows.every((r) => r.some((c) => c.attrs.class === 'res' && c.name)), `${width} px: each audit's result cell`);
      const layout = await layoutOf(page, 'table.changes');
      if (width === 400) assert.deepEqual([layout.table, layout.rows, layout.headHeight <= 1], ['block', ['flex'], true], 'the stacked layout, no header row in sight');
      else {
        assert.ok(layout.headHeight > 10, `the header row is in sight (${layout.headHeight} px)`);
        assert.deepEqual({ table: layout.table, head: layout.head, rows: layout.rows, headInOneLine: layout.headInOneLine }, { table: 'table', head: 'table-header-group', rows: ['table-row'], headInOneLine: true });
      }
    }
    await page.close();
  });

  test("a fix's plan at 400 px: its records table keeps its column headers (each record under Before or After) and says so in sight; at 1200 px as before", { timeout: 90_000 }, async () => {
    const page = await logIn('alice');
    const caption = 'Records before and after the fix';
    for (const width of [400, 1200]) {
      await page.setViewportSize({ width, height: 900 });
      // florist.example: its SPF fix is previewed only (the history test applies bakery.example's).
      await page.goto(`${server.url}/domains/florist.example/fix?check=spf`);
      const headers = await markupHeaders(page, 'table.diff');
      assert.deepEqual(headers, ['change', 'before', 'after']);
      const rows = assertColumnsTied(await axTables(page), caption, headers, {}, `${width} px`);
      // Every cell with a data-label sat under its header (checked above); the before and after cells have one.
      for (const row of rows) assert.deepEqual(row.map((c) => c.attrs['data-label'] ?? null), [null, 'Before', 'After'], `${width} px: a row's cells`);
      const layout = await layoutOf(page, 'table.diff');
      // The label a sighted reader gets in the stacked layout (CSS generated text), and none beside the columns.
      const label = await page.$eval('table.diff td[data-label="After"]', (td) => getComputedStyle(td, '::before').content);
      if (width === 400) {
        assert.ok(layout.headHeight <= 1, `no header row in sight (${layout.headHeight} px)`);
        assert.deepEqual(layout.rows, ['block'], 'the stacked layout');
        assert.equal(label, '"After: "', 'the cell says it is the record after');
      } else {
        assert.ok(layout.headHeight > 10, `the header row is in sight (${layout.headHeight} px)`);
        assert.deepEqual({ head: layout.head, rows: layout.rows, headInOneLine: layout.headInOneLine, rowsInOneLine: layout.rowsInOneLine }, { head: 'table-header-group', rows: ['table-row'], headInOneLine: true, rowsInOneLine: true });
        assert.equal(label, 'none', 'no label beside the columns');
      }
    }
    await page.close();
  });

  test('/bulk: one select-all box a keyboard reaches at each width (above the table at 400 px, in its header at 1200 px); the table keeps its column headers', { timeout: 90_000 }, async () => {
    const page = await logIn('root');
    const selectAlls = async () => {
      const { nodes, attrs } = await axTree(page);
      const boxes = nodes.filter((n) => !n.ignored && roleOf(n) === 'checkbox' && nameOf(n) === 'Select all on this page' && n.properties?.some((p) => p.name === 'focusable' && p.value.value === true));
      return Promise.all(boxes.map(async (b) => (await attrs(b)).id));
    };
    const COLUMNS: Columns = { rowheader: 'domain', st: 'status', when: 'last audit' };
    const caption = 'Customer domains and the result of each check, worst first; tick domains to preview a bulk fix for them';

    await page.setViewportSize({ width: 400, height: 900 });
    await page.goto(`${server.url}/bulk`);
    assert.deepEqual(await selectAlls(), ['select-all-narrow']);
    const headers = await markupHeaders(page, 'table.domains');
    assert.equal(headers[0], 'select', 'the box column still has a name');
    assertColumnsTied(await axTables(page), caption, headers, COLUMNS, '400 px');
    // The box above the table ticks them all.
    await page.locator('#select-all-narrow').focus();
    await page.keyboard.press('Space');
    assert.equal(await page.locator('input.sel:checked').count(), await page.locator('input.sel').count());

    await page.setViewportSize({ width: 1200, height: 900 });
    await page.goto(`${server.url}/bulk`);
    assert.deepEqual(await selectAlls(), ['select-all']);
    assert.equal(await page.locator('.select-all-narrow').isVisible(), false);
    const wide = await layoutOf(page, 'table.domains');
    assert.deepEqual({ table: wide.table, head: wide.head, rows: wide.rows, headInOneLine: wide.headInOneLine, rowsInOneLine: wide.rowsInOneLine }, WIDE);
    // On a wide screen the box column's header is the box, named as before.
    assertColumnsTied(await axTables(page), caption, ['select all on this page', ...headers.slice(1)], COLUMNS, '1200 px');
    await page.close();
  });
});
