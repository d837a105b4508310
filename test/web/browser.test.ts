// A real browser (Debian's Chromium through playwright-core): log in as the demo customer, open the HostGator
// leftover (bakery.example), preview the SPF fix, apply it, see it verified, undo it. Screenshots go to
// test-artifacts/ (1280px and 390px wide). Skipped with a message when /usr/bin/chromium is missing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../src/web/server.js';
import { demoWorld, PASSWORD, type TestWorld } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium); CI installs it`;

describe('browser: customer fixes the HostGator leftover', { skip }, () => {
  let w: TestWorld;
  let server: RunningServer;
  let ctx: BrowserContext;
  let profile: string;
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    w = await demoWorld({ seedAudits: true });
    server = await startServer({ panel: w.panel, store: w.store, makeResolver: w.makeResolver, identityFrom: 'session', host: '127.0.0.1', port: 0 });
    profile = mkdtempSync(join(tmpdir(), 'mailhealth-chromium-'));
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
    });
  });
  after(async () => {
    await ctx?.close();
    await server?.close();
    await w?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(ARTIFACTS, `${name}-1280.png`), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(ARTIFACTS, `${name}-390.png`), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  }

  async function logIn(page: Page, user: string): Promise<void> {
    await ctx.clearCookies();
    await page.goto(`${server.url}/login`);
    await page.getByLabel('User').fill(user);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/domains$/);
  }

  test('log in, preview, apply, verified, undo', async () => {
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/login`);
    await shot(page, '01-login');
    await logIn(page, 'alice');
    await shot(page, '02-domains');
    await page.getByRole('link', { name: 'bakery.example' }).click();
    await page.waitForURL(/\/domains\/bakery\.example$/);
    assert.match(await page.textContent('main') ?? '', /websitewelcome\.com/);
    await page.locator('#check-spf details.evidence').first().evaluate((d) => ((d as HTMLDetailsElement).open = true));
    await shot(page, '03-domain');
    await page.locator('#check-spf').getByRole('link', { name: /Fix SPF/ }).click();
    await page.waitForURL(/\/fix\?check=spf$/);
    const diff = await page.textContent('table.diff');
    assert.match(diff ?? '', /include:websitewelcome\.com/);
    assert.match(diff ?? '', /include:relay\.mailchannels\.net/);
    await shot(page, '04-fix-preview');
    await page.getByRole('button', { name: 'Apply this change' }).click();
    await page.waitForSelector('#outcome');
    assert.equal(await page.getAttribute('#outcome', 'data-verified'), 'yes');
    assert.match((await page.textContent('#outcome')) ?? '', /applied/);
    assert.match(readFileSync(join(w.demo!.panelDir, 'zones', 'bakery.example.db'), 'utf8'), /relay\.mailchannels\.net/);
    await shot(page, '05-fix-applied');
    await page.goto(`${server.url}/history`);
    await shot(page, '06-history');
    await page.getByRole('button', { name: /^Undo change/ }).first().click();
    await page.waitForSelector('#outcome');
    assert.match((await page.textContent('#outcome')) ?? '', /undone/);
    assert.doesNotMatch(readFileSync(join(w.demo!.panelDir, 'zones', 'bakery.example.db'), 'utf8'), /relay\.mailchannels\.net/);
    await shot(page, '07-undone');
    assert.deepEqual(errors, [], 'no console errors (CSP violations show up here)');
    await page.close();
  });

  test('reseller bulk page and admin settings render (screenshots)', async () => {
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await logIn(page, 'rita');
    await page.goto(`${server.url}/bulk`);
    await page.getByRole('button', { name: /Audit all/ }).click();
    await page.waitForURL(/\/bulk$/);
    const id = await page.getAttribute('#job', 'data-job-id');
    assert.ok(id);
    // The page polls the job; the bar reaches the total (bounded wait on the page, not a sleep).
    await page.waitForFunction(() => document.getElementById('job-status')?.textContent === 'complete', null, { timeout: 20_000 });
    assert.equal(await page.textContent('#job-done'), await page.textContent('#job-total'));
    await shot(page, '08-bulk');
    await page.locator('input.sel').first().check();
    await page.selectOption('#bf-check', 'dmarc');
    await page.getByRole('button', { name: 'Preview for selected' }).click();
    await shot(page, '09-bulk-fix-preview');
    await logIn(page, 'root');
    await page.goto(`${server.url}/settings`);
    await shot(page, '10-settings');
    await page.goto(`${server.url}/domains/lawyer.example/fix?check=dmarc`);
    await shot(page, '11-publish-elsewhere');
    assert.deepEqual(errors, []);
    await page.close();
  });
});
