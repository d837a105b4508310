// Headless Chromium: a reseller's bulk fix applied as a background job — /bulk, tick, preview, apply; the browser lands
// on the job's page at once (the writes held at the panel), which updates itself (a script in place; a noscript reload without one) until
// every domain's outcome is there. Screenshots in test-artifacts/. Skipped with a message when /usr/bin/chromium is
// missing. WHM API 1 emulator on loopback (reseller res1's five domains), real SQLite.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';
import { startServer, type RunningServer } from '../../src/web/server.js';
import { logInThroughForm, NO_LIMITS } from './helpers.js';
import { Gate, whmWorld, type WhmWorld } from './shared-zone-world.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium); CI installs it`;

describe('browser: a bulk fix followed on its job page', { skip }, () => {
  const gate = new Gate();
  let w: WhmWorld;
  let server: RunningServer;
  let ctx: BrowserContext;
  let profile: string;
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    w = await whmWorld({ wrapPanel: gate.wrap });
    server = await startServer({ panel: w.panel, store: w.store, makeResolver: w.makeResolver, identityFrom: 'session', rateLimits: NO_LIMITS, host: '127.0.0.1', port: 0 });
    server.app.runner.fixInlineMax = 0; // five domains: the job's page, as for a large bulk fix
    profile = mkdtempSync(join(tmpdir(), 'mailhealth-chromium-'));
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
    });
  });
  after(async () => {
    gate.open();
    await ctx?.close();
    await server?.close();
    await w?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  test('tick, preview, apply: the job page shows the domains waiting, then reloads itself to every outcome', { timeout: 90_000 }, async () => {
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await logInThroughForm(page, server.url, 'res1');
    await page.goto(`${server.url}/bulk`);
    await page.locator('#select-all').check();
    await page.selectOption('#bf-check', 'spf');
    await page.getByRole('button', { name: 'Preview for selected' }).click();
    await page.waitForURL(/\/bulk\/fix\/preview$/);
    assert.equal(await page.locator('input[name="plan"]:checked').count(), 5);

    gate.close();
    await page.getByRole('button', { name: /Apply to the ticked domains/ }).click();
    await page.waitForURL(/\/bulk\/fix\/jobs\/\d+$/);
    const id = /\/bulk\/fix\/jobs\/(\d+)$/.exec(page.url())![1];
    assert.equal(await page.textContent('#fix-job-status'), 'running');
    assert.equal(await page.locator('tr[data-outcome="waiting"]').count(), 5);
    await page.screenshot({ path: join(ARTIFACTS, '14-bulk-fix-job-running-1280.png'), fullPage: true });

    gate.open();
    // The page reloads itself every few seconds (no script): wait for the reload that shows the job complete.
    await page.locator('#fix-job-status', { hasText: 'complete' }).waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('tr[data-outcome="applied"]').count(), 5);
    assert.match((await page.textContent('#fix-job'))!, /5 of 5 domains done: 5 applied, 0 not applied/);
    await page.screenshot({ path: join(ARTIFACTS, '15-bulk-fix-job-done-1280.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(ARTIFACTS, '15-bulk-fix-job-done-390.png'), fullPage: true });

    // /bulk lists it, as a link to its page.
    await page.goto(`${server.url}/bulk`);
    assert.equal(await page.locator(`#fix-jobs a[href="/bulk/fix/jobs/${id}"]`).count(), 1);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.screenshot({ path: join(ARTIFACTS, '16-bulk-fix-jobs-listed-1280.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });
});
