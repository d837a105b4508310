// Accessibility inside the panels: the cPanel and WHM pages are the same views as the standalone pages (one layout:
// language, skip link, landmarks, one h1, a title that names the page), and re-basing their links under the page's URL
// leaves the in-page links (the skip link, an error summary's links to its fields) alone. The cPanel page as a CGI with
// the environment cpsrvd sets (fake `uapi`), the WHM page with REMOTE_USER of a reseller (fake `whmapi1`).
import '../helpers/shared-settings.js';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { runCgi } from '../../src/cli/commands/cgi.js';
import { rebase } from '../../src/web/cgi.js';
import { fakeCpanelBins, noBody, parseCgi, scratchDir } from '../helpers/cgi.js';

const scratch = scratchDir('mailhealth-a11y-frontdoor-');

/** What every page of the app's layout holds, whatever door it came through. */
function assertLayout(html: string, title: string, base: string): void {
  assert.match(html, /^<!doctype html>\n<html lang="en">/);
  assert.equal(/<title>([^<]*)<\/title>/.exec(html)?.[1], `${title} · Mail health`);
  assert.match(html, /<a class="skip" href="#main">Skip to content<\/a>/, 'the skip link is not re-based: it stays in the page');
  assert.match(html, /<main id="main">/);
  assert.match(html, /<nav aria-label="Main">/);
  assert.equal(html.match(/<h1\b/g)?.length, 1, 'one h1');
  assert.match(html, new RegExp(`<a href="${base.replace(/[.]/g, '\\.')}/domains"`), 'links under the page URL');
  for (const m of html.matchAll(/<table\b[^>]*>\s*(<caption\b[^>]*>[^<]+<\/caption>)?/g)) assert.ok(m[1], `${m[0]} has a caption`);
  for (const m of html.matchAll(/<(button|a)\b[^>]*\saria-label="([^"]*)"[^>]*>([^<]+)<\/\1>/g)) {
    assert.ok(m[2].toLowerCase().includes(m[3].trim().toLowerCase()), `"${m[2]}" holds the words "${m[3]}"`);
  }
}

describe('the panel pages render the same accessible views', () => {
  fakeCpanelBins(scratch);
  let whmRoot: string;
  before(() => {
    whmRoot = join(scratch.dir, 'whm-root');
    mkdirSync(join(whmRoot, 'var/cpanel'), { recursive: true });
    writeFileSync(join(whmRoot, 'var/cpanel/resellers'), 'res1:list-accts,edit-dns\n');
  });

  test('cPanel: the domain list', async () => {
    const base = '/cpsess0123456789/frontend/jupiter/mailhealth/index.live.cgi';
    const env = { REQUEST_METHOD: 'GET', PATH_INFO: '/domains', QUERY_STRING: '', SCRIPT_NAME: base, REMOTE_USER: 'alice', HTTP_ACCEPT: 'text/html', HTTP_COOKIE: 'cpsession=alice%3aabc', HTTPS: 'on', cp_security_token: '/cpsess0123456789' };
    const page = parseCgi(await runCgi('cpanel', { frontDoor: 'cpanel' }, env, noBody(), { user: 'alice', uid: 1001, home: join(scratch.dir, 'home-alice') }));
    assert.equal(page.status, 200, page.text.slice(0, 300));
    assertLayout(page.text, 'Domains', base);
    assert.match(page.text, /aria-label="Audit now: alice\.example">Audit now<\/button>/);
  });

  test('WHM: a reseller\'s bulk page, and an error page titled by its kind', async () => {
    const base = '/cpsess99/cgi/mailhealth/index.cgi';
    const opts = { frontDoor: 'whm', serverRoot: whmRoot, db: join(scratch.dir, 'whm.sqlite') };
    const env = (path: string) => ({ REQUEST_METHOD: 'GET', PATH_INFO: path, REMOTE_USER: 'res1', HTTP_ACCEPT: 'text/html', SCRIPT_NAME: base });
    const root = { user: 'root', uid: 0, home: '/root' };
    const bulk = parseCgi(await runCgi('whm', opts, env('/bulk'), noBody(), root));
    assert.equal(bulk.status, 200, bulk.text.slice(0, 300));
    assertLayout(bulk.text, 'All customer domains', base);
    const settings = parseCgi(await runCgi('whm', opts, env('/settings'), noBody(), root));
    assert.equal(settings.status, 403);
    assertLayout(settings.text, 'Not allowed', base);
  });

  test('re-basing leaves in-page links alone and moves the others under the page URL', () => {
    const html = '<a class="skip" href="#main">Skip</a><a href="#s-ret">Keep audit results for</a><a href="/history?domain=x#change-3">h</a>';
    const out = rebase({ status: 200, headers: [['Content-Type', 'text/html; charset=utf-8']], body: Buffer.from(html) }, '/cpsess1/x.cgi').body.toString();
    assert.equal(out, '<a class="skip" href="#main">Skip</a><a href="#s-ret">Keep audit results for</a><a href="/cpsess1/x.cgi/history?domain=x#change-3">h</a>');
  });

  // Found by this QA, in src/web/cgi.ts (not a view): a running bulk fix's page, without script, refreshes itself through
  // <noscript><meta http-equiv="refresh" content="5; url=/bulk/fix/jobs/N">, whose URL rebase() does not move under the
  // page's: inside WHM it would load /bulk/fix/jobs/N at the root of WHM's server.
  test('a no-script refresh goes to the page under the panel URL', () => {
    const html = '<noscript><meta http-equiv="refresh" content="5; url=/bulk/fix/jobs/3"></noscript>';
    const out = rebase({ status: 200, headers: [['Content-Type', 'text/html; charset=utf-8']], body: Buffer.from(html) }, '/cpsess1/x.cgi').body.toString();
    assert.match(out, /content="5; url=\/cpsess1\/x\.cgi\/bulk\/fix\/jobs\/3"/);
  });
});
