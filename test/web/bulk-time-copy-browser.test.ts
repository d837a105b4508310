// Review R9 items 3 and 5, in a real browser (Debian's Chromium through playwright-core; skipped with a message when
// /usr/bin/chromium is missing). Demo files panel (a fresh copy) on loopback DNS, the server on 127.0.0.1, port 0.
// - A bulk audit streaming into /bulk: bulk.js rewrote each row's "Last audit" as the bare words "just now", losing the
//   exact time (text, not only a tooltip: README accessibility) and the <time datetime> the page renders
//   (partials/exact-time.ejs). The cell is rebuilt as the page renders it, from the job result's auditedAt.
// - A "Copy" button does nothing without JavaScript: the page renders it hidden and app.js shows it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import type { Panel } from '../../src/core/panel.js';
import { startServer, type RunningServer } from '../../src/web/server.js';
import { demoWorld, logInThroughForm, type TestWorld } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium); CI installs it`;

function launch(profile: string, javaScriptEnabled: boolean): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    javaScriptEnabled,
  });
}

describe('browser: bulk.js keeps exact times; Copy needs JavaScript', { skip }, () => {
  let w: TestWorld;
  let server: RunningServer;
  const profiles: string[] = [];
  const contexts: BrowserContext[] = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const GATED = 'plumber.example';
  before(async () => {
    w = await demoWorld({});
    const inner = w.panel;
    // One of the bulk audit's domains waits for release(): the job is still running when /bulk opens, so the rows of
    // the other domains are written by bulk.js, not by the server.
    const panel: Panel = {
      kind: inner.kind,
      capabilities: inner.capabilities,
      listAccounts: () => inner.listAccounts(),
      listDomains: (identity) => inner.listDomains(identity),
      readZone: async (domain) => {
        if (domain === GATED) await gate;
        return inner.readZone(domain);
      },
      readMailSettings: (domain) => inner.readMailSettings(domain),
      applyChanges: (domain, changes, version) => inner.applyChanges(domain, changes, version),
    };
    server = await startServer({ panel, store: w.store, makeResolver: w.makeResolver, identityFrom: 'session', host: '127.0.0.1', port: 0, auditConcurrency: 4 });
  });
  after(async () => {
    release();
    for (const c of contexts) await c.close();
    await server?.close();
    await w?.close();
    for (const p of profiles) rmSync(p, { recursive: true, force: true });
  });
  async function context(js: boolean): Promise<BrowserContext> {
    const profile = mkdtempSync(join(tmpdir(), 'mailhealth-chromium-'));
    profiles.push(profile);
    const c = await launch(profile, js);
    contexts.push(c);
    return c;
  }

  test('a row bulk.js updates keeps the exact time and <time datetime>, as the page renders them', async () => {
    const ctx = await context(true);
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await logInThroughForm(page, server.url, 'rita');
    await page.goto(`${server.url}/bulk`);
    await page.getByRole('button', { name: /Audit all/ }).click();
    await page.waitForURL(/\/bulk$/);
    assert.equal(await page.getAttribute('#jobs section.job[data-job-id]', 'data-status'), 'running');
    // A row of a domain other than the gated one, updated by bulk.js (it marks the rows it writes "fresh").
    const row = page.locator(`tr.fresh[data-domain]:not([data-domain="${GATED}"])`).first();
    await row.waitFor({ timeout: 20_000 });
    const cell = await row.locator('td.when').evaluate((td) => ({
      datetime: td.querySelector('time')?.getAttribute('datetime') ?? null,
      time: td.querySelector('time')?.textContent ?? null,
      exact: td.querySelector('.exact-time')?.textContent ?? null,
      exactClass: td.querySelector('.exact-time')?.className ?? null,
    }));
    assert.ok(cell.datetime && Number.isFinite(Date.parse(cell.datetime)), `a <time datetime> in the cell: ${JSON.stringify(cell)}`);
    assert.equal(cell.time, 'just now');
    // The exact time as partials/exact-time.ejs writes it (view-model.ts utcText), from the same instant.
    assert.equal(cell.exact, `${new Date(Date.parse(cell.datetime)).toISOString().slice(0, 16).replace('T', ' ')} UTC`);
    assert.equal(cell.exactClass, 'exact-time small muted');
    // The instant is the audit's own, as the store records it (once the job, let go, has finished).
    const domain = await row.getAttribute('data-domain');
    release();
    await page.waitForSelector('#jobs section.job[data-status="complete"]', { timeout: 20_000 });
    const stored = w.store.recentResults([domain!], 1)[0];
    assert.equal(cell.datetime, stored?.auditedAt);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('app.js shows a Copy button the page renders hidden', async () => {
    const ctx = await context(true);
    const page = await ctx.newPage();
    await logInThroughForm(page, server.url, 'rita');
    // The publish-elsewhere page (lawyer.example's DNS is not this server's) with its Copy buttons hidden, as a page
    // without JavaScript must have them: `hidden` on the button, and a style sheet whose `.btn { display: inline-block }`
    // does not override it.
    await page.route('**/assets/app.css', async (route) => {
      const res = await route.fetch();
      await route.fulfill({ response: res, body: `${await res.text()}\n[hidden] { display: none !important; }\n` });
    });
    await page.route('**/domains/lawyer.example/fix?check=spf', async (route) => {
      const res = await route.fetch();
      const html = (await res.text()).replace(/<button type="button" class="btn btn-small copy"(?![^>]*\shidden)/g, '$& hidden');
      await route.fulfill({ response: res, body: html });
    });
    await page.goto(`${server.url}/domains/lawyer.example/fix?check=spf`);
    const buttons = page.locator('button.copy');
    assert.ok((await buttons.count()) > 0, 'the page has Copy buttons');
    for (const b of await buttons.all()) assert.ok(await b.isVisible(), 'a Copy button shown by app.js');
    await page.close();
  });

  test('without JavaScript, the Copy button is not shown', async () => {
    const ctx = await context(false);
    const page = await ctx.newPage();
    await logInThroughForm(page, server.url, 'rita');
    await page.goto(`${server.url}/domains/lawyer.example/fix?check=spf`);
    const buttons = page.locator('button.copy');
    assert.ok((await buttons.count()) > 0, 'the page has Copy buttons');
    for (const b of await buttons.all()) assert.equal(await b.isVisible(), false, 'a Copy button that does nothing without JavaScript is shown');
    await page.close();
  });
});
