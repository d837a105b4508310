// Headless Chromium, QA of the bulk fix pages: the running job's page reloaded itself every 5 s (a Refresh header), so
// keyboard and screen-reader focus went back to the top each time; it now updates in place (bulk-fix.js) and reloads
// only without script (<noscript> refresh). At 390 px /bulk hid the table header holding the only "Select all" box.
// Skipped with a message when /usr/bin/chromium is missing. WHM API 1 emulator on loopback (res1's five domains).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, beforeEach, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../src/web/server.js';
import { logInThroughForm, NO_LIMITS } from './helpers.js';
import { Gate, planValues, whmWorld, type WhmWorld } from './shared-zone-world.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium); CI installs it`;
const DOMAINS = ['res1.example', 'alice.example', 'alice-shop.example', 'blog.alice.example', 'bob.example'];

describe('browser: the bulk fix pages, by keyboard and on a phone', { skip }, () => {
  let gate: Gate;
  let w: WhmWorld;
  let server: RunningServer;
  let browser: Browser;
  const worlds: { w: WhmWorld; server: RunningServer; gate: Gate }[] = [];
  /** A fresh world and server for each test (a fix applied by one leaves nothing to fix for the next). */
  beforeEach(async () => {
    gate = new Gate();
    w = await whmWorld({ wrapPanel: gate.wrap });
    server = await startServer({ panel: w.panel, store: w.store, makeResolver: w.makeResolver, identityFrom: 'session', rateLimits: NO_LIMITS, host: '127.0.0.1', port: 0 });
    server.app.runner.fixInlineMax = 0; // the job's page at once
    worlds.push({ w, server, gate });
  });
  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  });
  after(async () => {
    await browser?.close();
    for (const x of worlds) {
      x.gate.open();
      await x.server.close();
      await x.w.close();
    }
  });

  async function loggedIn(ctx: BrowserContext): Promise<Page> {
    const page = await ctx.newPage();
    await logInThroughForm(page, server.url, 'res1');
    return page;
  }
  /** A bulk SPF fix of the five domains started from this page's session, held at the panel: its job id. */
  async function startHeldJob(page: Page): Promise<number> {
    const csrf = (await page.getAttribute('meta[name="csrf-token"]', 'content'))!;
    // The forms send repeated fields (domains, plan): the bodies are written by hand.
    const body = new URLSearchParams([['_csrf', csrf], ['check', 'spf'], ...DOMAINS.map((d) => ['domains', d] as [string, string])]);
    const pv = await page.request.post(`${server.url}/bulk/fix/preview`, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, data: body.toString() });
    const plans = planValues(await pv.text());
    assert.equal(plans.length, 5);
    gate.close();
    const applyBody = new URLSearchParams([['_csrf', csrf], ['check', 'spf'], ...plans.map((p) => ['plan', p] as [string, string])]);
    const res = await page.request.post(`${server.url}/bulk/fix/apply`, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, data: applyBody.toString(), maxRedirects: 0 });
    assert.equal(res.status(), 303);
    return Number(/\/bulk\/fix\/jobs\/(\d+)$/.exec(res.headers().location ?? '')![1]);
  }

  test('the running job page updates in place: focus stays on Cancel, then on a link, through to the end', { timeout: 90_000 }, async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await loggedIn(ctx);
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    const id = await startHeldJob(page);
    await gate.waiting(4);
    await page.goto(`${server.url}/bulk/fix/jobs/${id}`);
    assert.equal(await page.textContent('#fix-job-status'), 'running');
    assert.equal(await page.getAttribute('#fix-job-summary', 'aria-live'), 'polite');
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    const cancel = page.getByRole('button', { name: 'Cancel the domains not started yet' });
    await cancel.focus();
    // Updates while the job is held: the page fetched itself and swapped nothing under the focus (the second fetch is
    // asked only once the first one's update is done).
    const update = () => page.waitForResponse((r) => r.url() === `${server.url}/bulk/fix/jobs/${id}` && r.request().resourceType() === 'fetch');
    await update();
    await update();
    assert.equal(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true, 'not reloaded');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Cancel the domains not started yet', 'focus stays on Cancel');

    // Focus on a link outside the job's box; the job finishes; the rows and counts come in without a reload.
    await page.getByRole('link', { name: 'See the history (undo is there)' }).focus();
    gate.open();
    await page.locator('#fix-job-status', { hasText: 'complete' }).waitFor({ timeout: 60_000 });
    await page.locator('tr[data-outcome="applied"]').nth(4).waitFor();
    assert.equal(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true, 'not reloaded');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'See the history (undo is there)');
    assert.match((await page.textContent('#fix-job-summary'))!, /5 of 5 domains done: 5 applied, 0 not applied/);
    assert.equal(await page.locator('button', { hasText: 'Cancel the domains' }).count(), 0, 'no Cancel once done');
    assert.equal(await page.locator('tr[data-outcome="applied"] a', { hasText: /^change/ }).count(), 0);
    assert.match((await page.textContent('tbody'))!, /change #\d+/);
    assert.deepEqual(errors, []);
    await ctx.close();
  });

  test('without script the page still follows the job: it reloads itself', { timeout: 90_000 }, async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: false });
    const page = await loggedIn(ctx);
    const id = await startHeldJob(page);
    await gate.waiting(4);
    await page.goto(`${server.url}/bulk/fix/jobs/${id}`);
    assert.equal(await page.textContent('#fix-job-status'), 'running');
    const reloaded = page.waitForEvent('load');
    gate.open();
    await reloaded;
    await page.locator('#fix-job-status', { hasText: 'complete' }).waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('tr[data-outcome="applied"]').count(), 5, await page.textContent('tbody') ?? '');
    await ctx.close();
  });

  test('at 390 px a labelled "Select all" box is there and works from the keyboard', { timeout: 60_000 }, async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await loggedIn(ctx);
    await page.goto(`${server.url}/bulk`);
    const narrow = page.locator('#select-all-narrow');
    assert.ok(await narrow.isVisible(), 'visible on a phone');
    assert.equal(await page.locator('#select-all').isVisible(), false, 'the header box is hidden there');
    await narrow.focus();
    await page.keyboard.press('Space');
    assert.equal(await page.locator('input.sel:checked').count(), await page.locator('input.sel').count());
    assert.ok((await page.locator('input.sel').count()) >= 5);
    assert.equal((await page.textContent('label:has(#select-all-narrow)'))!.trim(), 'Select all on this page', 'labelled');
    // Unticking a domain unticks "all".
    await page.locator('input.sel').first().uncheck();
    assert.equal(await narrow.isChecked(), false);
    await page.setViewportSize({ width: 1280, height: 900 });
    assert.equal(await narrow.isVisible(), false, 'on a wide screen the table header has it');
    await ctx.close();
  });
});
