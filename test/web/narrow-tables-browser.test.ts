// Headless Chromium, QA of the history and bulk fix tables (task U), with two customer domains whose names are over
// 120 characters long:
// - D4: at 390 px /history's Changes table (520 px in a 326 px box) put the state, "replaced by #M", Undo and Verify
//   again off-screen with no hint. Its rows are now stacked blocks, as /domains' are.
// - D3: the bulk fix preview cut short names letter by letter (`word-break: break-all`) and, with Details open at
//   390 px, overflowed its box and clipped the notes and records; at 1280 px long names split mid-word. Names now wrap
//   at their hyphens on a wide screen, the rows are stacked on a phone, and nothing is wider than its box.
// - D5: the bulk fix's "sent again" note stuck after F5 (the address kept ?resent=1); app.js drops it once shown.
// - A row a link points at (/history#change-N) is highlighted.
// Skipped with a message when /usr/bin/chromium is missing. Demo files panel (a fresh copy) on loopback DNS.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createResolver } from '../../src/adapters/dns/resolver.js';
import { startDnsServer, type DnsServer } from '../../src/adapters/dns/server.js';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { buildWorld, DEMO_PANEL_DIR } from '../../src/demo/world.js';
import { startServer, type RunningServer } from '../../src/web/server.js';
import { logInThroughForm, NO_LIMITS, setPasswords } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium); CI installs it`;

const LONG_A = 'the-family-run-neighbourhood-bakery-and-coffee-house-springfld.online-shop-and-catering-services-for-weddings-and-parties.example';
const LONG_B = 'extraordinarily-long-label-for-a-plumbing-company-web-site-xyz.plumbing-heating-and-air-conditioning-services-of-springfield.example';

describe('browser: the history and bulk fix tables on a phone and on a wide screen', { skip }, () => {
  let dir: string;
  let panelDir: string;
  let dns: DnsServer;
  let store: Store;
  let server: RunningServer;
  let browser: Browser;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mailhealth-narrow-'));
    panelDir = join(dir, 'panel');
    cpSync(DEMO_PANEL_DIR, panelDir, { recursive: true });
    // Two long names: alice's (history) and bob's (rita's customer: the bulk fix), each a copy of florist.example's
    // zone with a long SPF record (the previous host's include and a dozen ip4 terms).
    const cfg = JSON.parse(readFileSync(join(panelDir, 'panel.json'), 'utf8')) as { accounts: { user: string; domains?: string[] }[] };
    cfg.accounts.find((a) => a.user === 'alice')!.domains!.push(LONG_A);
    cfg.accounts.find((a) => a.user === 'bob')!.domains!.push(LONG_B);
    writeFileSync(join(panelDir, 'panel.json'), JSON.stringify(cfg, null, 2));
    const florist = readFileSync(join(panelDir, 'zones', 'florist.example.db'), 'utf8');
    const ip4 = Array.from({ length: 13 }, (_, i) => `ip4:198.51.100.${i + 1}`);
    const spf = `"v=spf1 mx include:netblocks.dreamhost.com include:relay.mailchannels.net ${ip4.slice(0, 7).join(' ')} " "${ip4.slice(7).join(' ')} -all"`;
    for (const d of [LONG_A, LONG_B]) {
      writeFileSync(join(panelDir, 'zones', `${d}.db`), florist.replaceAll('florist.example', d).replace(/"v=spf1[^"]*"/, spf));
      cpSync(join(panelDir, 'dkim', 'florist.example.pem'), join(panelDir, 'dkim', `${d}.pem`));
    }
    dns = await startDnsServer({ data: buildWorld(panelDir) });
    store = openStore(join(dir, 'db.sqlite'));
    const panel = new FilesPanel(panelDir);
    // The nameservers serve each write at once (fixes verify "yes").
    const write = panel.applyChanges.bind(panel);
    panel.applyChanges = async (...args) => {
      const r = await write(...args);
      dns.setData(buildWorld(panelDir));
      return r;
    };
    await setPasswords(store, ['alice', 'rita']);
    const makeResolver = () => createResolver({ servers: [dns.address], authoritativePort: dns.port, timeoutMs: 1000, tries: 2 });
    server = await startServer({ panel, store, makeResolver, identityFrom: 'session', rateLimits: NO_LIMITS, host: '127.0.0.1', port: 0 });
    server.app.runner.fixInlineMax = 10; // a bulk fix of a few domains answers once done
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    store?.close();
    await dns?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function loggedIn(ctx: BrowserContext, user: string): Promise<Page> {
    const page = await ctx.newPage();
    await logInThroughForm(page, server.url, user);
    return page;
  }

  /** Elements matching `selector` that are not wholly on screen (left of 0 or right of the viewport). */
  const offScreen = (page: Page, selector: string) =>
    page.$$eval(selector, (els) => {
      const vw = document.documentElement.clientWidth;
      return els.filter((e) => {
        const r = e.getBoundingClientRect();
        return r.width > 0 && (r.left < 0 || r.right > vw + 0.5);
      }).map((e) => `${e.tagName.toLowerCase()} "${(e.textContent ?? '').trim().slice(0, 40)}" ${Math.round(e.getBoundingClientRect().left)}–${Math.round(e.getBoundingClientRect().right)}`);
    });
  /** Table boxes whose content is wider than the box (scrolled or clipped out of sight). */
  const overflowingWraps = (page: Page) => page.$$eval('.table-wrap', (ws) => ws.filter((w) => w.scrollWidth > w.clientWidth + 1).map((w) => `${w.scrollWidth} > ${w.clientWidth}`));
  /** The lines a cell's text is laid out on (by the top of each character's box). */
  const linesOf = (page: Page, selector: string) =>
    page.$eval(selector, (el) => {
      const node = [...el.childNodes].find((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim()) ?? el.querySelector('a')?.firstChild;
      const text = node!.textContent!;
      const lines: string[] = [];
      let top: number | null = null;
      const range = document.createRange();
      for (let i = 0; i < text.length; i++) {
        range.setStart(node!, i);
        range.setEnd(node!, i + 1);
        const r = range.getBoundingClientRect();
        if (!r.width && !r.height) continue;
        if (top === null || Math.abs(r.top - top) > 2) {
          lines.push('');
          top = r.top;
        }
        lines[lines.length - 1] += text[i];
      }
      return lines.map((l) => l.trim()).filter(Boolean);
    });

  test('D4: /history at 390 px keeps the state, "replaced by #M", Undo and Verify again on screen; the targeted row stands out', { timeout: 90_000 }, async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await loggedIn(ctx, 'alice');
    // Two fixes of the long domain's SPF record (the second replaces the first), and one left to verify.
    await page.goto(`${server.url}/domains/${LONG_A}/fix?check=spf`);
    await page.click('#apply');
    await page.waitForLoadState();
    await page.goto(`${server.url}/domains/${LONG_A}/fix?check=spf&remove=${encodeURIComponent('ip4:198.51.100.1')}`);
    await page.click('#apply');
    await page.waitForLoadState();
    const [latest, first] = store.changesForDomain(LONG_A);
    store.setVerified(latest.id, 'propagating');
    await page.goto(`${server.url}/history`);
    assert.equal(await page.locator(`#change-${first.id} [data-replaced-by="${latest.id}"]`).count(), 1);
    assert.equal(await page.getByRole('button', { name: `Verify again: change ${latest.id}` }).count(), 1);
    assert.deepEqual(await offScreen(page, 'tr[id^="change-"] button, tr[id^="change-"] .state, tr[id^="change-"] [data-replaced-by], tr[id^="change-"] > td'), []);
    assert.deepEqual(await overflowingWraps(page), []);
    // "replaced by #M" goes to the row of change M, marked.
    await page.locator(`#change-${first.id} [data-replaced-by] a`).click();
    await page.waitForURL(new RegExp(`#change-${latest.id}$`));
    const bg = (id: number) => page.$eval(`#change-${id}`, (tr) => getComputedStyle(tr).backgroundColor);
    assert.notEqual(await bg(latest.id), await bg(first.id), 'the targeted row is highlighted');
    await ctx.close();
  });

  test('D3: the bulk fix preview — short names whole, long names at their hyphens, nothing clipped with Details open', { timeout: 90_000 }, async () => {
    // The lockdown fix's plan names _mailchannels.<long name> (code that cannot wrap at a hyphen near its start); the SPF
    // fix's row lists a dozen kept terms beside the name.
    for (const [width, check] of [[390, 'lockdown'], [390, 'spf'], [1280, 'spf'], [1280, 'lockdown']] as const) {
      const ctx = await browser.newContext({ viewport: { width, height: 900 } });
      const page = await loggedIn(ctx, 'rita');
      const csrf = (await page.getAttribute('meta[name="csrf-token"]', 'content'))!;
      const domains = ['dentist.example', LONG_B, 'lawyer.example', 'plumber.example', 'clean.example'];
      // The preview is a POST answered in place: sent by a form built on the page, as the /bulk form sends it.
      await Promise.all([
        page.waitForURL(/\/bulk\/fix\/preview$/),
        page.evaluate(
          ({ csrf, domains, check }) => {
            const f = document.createElement('form');
            f.method = 'post';
            f.action = '/bulk/fix/preview';
            for (const [k, v] of [['_csrf', csrf], ['check', check], ...domains.map((d) => ['domains', d])]) {
              const i = document.createElement('input');
              i.type = 'hidden';
              i.name = k;
              i.value = v;
              f.appendChild(i);
            }
            document.body.appendChild(f);
            f.submit();
          },
          { csrf, domains, check },
        ),
      ]);
      await page.locator('table.history details').first().waitFor();
      for (const d of await page.locator('table.history details').all()) await d.evaluate((e) => ((e as HTMLDetailsElement).open = true));
      assert.deepEqual(await overflowingWraps(page), [], `${width} px, ${check}: the table fits its box`);
      assert.deepEqual(await offScreen(page, 'table.history td, table.history th, table.history li, table.history code'), [], `${width} px, ${check}: nothing past the edge`);
      for (const short of ['clean.example', 'dentist.example']) {
        assert.deepEqual(await linesOf(page, `table.history > tbody > tr > th:text-is("${short}")`), [short], `${width} px: ${short} on one line`);
      }
      const lines = await linesOf(page, `table.history > tbody > tr > th:text-is("${LONG_B}")`);
      assert.equal(lines.join(''), LONG_B);
      if (width === 1280) {
        // Every line but the last ends where the name may break: after a hyphen (never inside a word).
        for (const l of lines.slice(0, -1)) assert.match(l, /-$/, `1280 px: "${l}" ends mid-word (lines: ${JSON.stringify(lines)})`);
      }
      await ctx.close();
    }
  });

  test('D5: the bulk fix\'s "sent again" note is shown once: the address drops ?resent=1, and F5 shows the results without it', { timeout: 90_000 }, async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await loggedIn(ctx, 'rita');
    const csrf = (await page.getAttribute('meta[name="csrf-token"]', 'content'))!;
    const preview = await page.request.post(`${server.url}/bulk/fix/preview`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      data: new URLSearchParams([['_csrf', csrf], ['check', 'dmarc'], ['domains', 'dentist.example']]).toString(),
    });
    const html = await preview.text();
    const fields: [string, string][] = [['_csrf', csrf], ['check', 'dmarc'], ['applyKey', /name="applyKey" value="([^"]+)"/.exec(html)![1]], ...[...html.matchAll(/name="plan" value="([^"]+)"/g)].map((m) => ['plan', m[1].replace(/&#124;/g, '|').replace(/&amp;/g, '&')] as [string, string])];
    assert.equal(fields.filter(([k]) => k === 'plan').length, 1);
    const send = () =>
      Promise.all([
        page.waitForURL(/\/bulk\/fix\/jobs\/\d+/),
        page.evaluate((fields) => {
          const f = document.createElement('form');
          f.method = 'post';
          f.action = '/bulk/fix/apply';
          for (const [k, v] of fields) {
            const i = document.createElement('input');
            i.type = 'hidden';
            i.name = k;
            i.value = v;
            f.appendChild(i);
          }
          document.body.appendChild(f);
          f.submit();
        }, fields),
      ]);
    await send();
    await page.locator('#fix-job-status', { hasText: 'complete' }).waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('#fix-job-resent').count(), 0);
    // The same form sent again: answered with the job, the note said once.
    await send();
    await page.waitForLoadState();
    assert.match((await page.textContent('#fix-job-resent'))!.replace(/\s+/g, ' '), /^This bulk fix form was sent again \(a second click or a resubmitted form\); it was applied once — the results below\./);
    await page.waitForFunction(() => !location.search.includes('resent'));
    assert.match(page.url(), /\/bulk\/fix\/jobs\/\d+$/);
    await page.reload();
    assert.equal(await page.locator('#fix-job-resent').count(), 0, 'not shown again on F5');
    assert.equal(await page.locator('tr[data-outcome="applied"]').count(), 1, 'the results are');
    await ctx.close();
  });
});
