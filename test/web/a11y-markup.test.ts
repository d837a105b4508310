// Accessibility QA of the rendered pages (WCAG 2.1 AA), on the HTML the app sends: page titles that say which page and
// how a form or a fix ended, errors tied to their fields, accessible names that hold the words a button shows (2.5.3:
// a voice-control user says what they see), "not checked" said in words rather than by a dash with a label screen
// readers skip, tables with captions, exact times on the page rather than only in a tooltip, breadcrumbs as navigation
// with their arrows hidden. The demo panel (a fresh copy, no audits recorded) on loopback DNS; supertest.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { utcText } from '../../src/web/view-model.js';
import { demoWorld, login, type TestWorld } from './helpers.js';

const titleOf = (html: string) => /<title>([^<]*)<\/title>/.exec(html)?.[1];
/** Tag by tag: each opening tag with its attributes, for attribute checks without an HTML parser. */
const tags = (html: string, name: string) => [...html.matchAll(new RegExp(`<${name}\\b[^>]*>`, 'g'))].map((m) => m[0]);
const attr = (tag: string, name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
const text = (html: string) => html.replace(/<[^>]+>/g, '').replace(/&amp;/g, '&').replace(/&#39;/g, "'").replace(/\s+/g, ' ').trim();

/** Controls (button, a) whose aria-label does not hold the words they show. */
function labelNotHoldingItsWords(html: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/<(button|a)\b([^>]*\saria-label="([^"]*)"[^>]*)>([\s\S]*?)<\/\1>/g)) {
    const shown = text(m[4]);
    if (shown && !m[3].toLowerCase().includes(shown.toLowerCase())) out.push(`${m[3]} ≠ ${shown}`);
  }
  return out;
}

describe('accessibility of the rendered pages', () => {
  let w: TestWorld;
  before(async () => {
    w = await demoWorld({});
  });
  after(async () => w.close());

  test('page titles say which page — an error page by its kind, a preview, a form with errors, how a fix ended', async () => {
    const alice = await login(w.app, 'alice');
    // An error page other than a 404 was titled just "Error".
    assert.equal(titleOf((await alice.agent.get('/settings').expect(403)).text), 'Not allowed · Mail health');
    assert.equal(titleOf((await alice.agent.get('/domains/nowhere.example').expect(404)).text), 'Not found · Mail health');
    const preview = await alice.agent.get('/domains/bakery.example/fix?check=spf').expect(200);
    assert.equal(titleOf(preview.text), 'Preview: fix SPF for bakery.example · Mail health', 'not "Fix spf — bakery.example"');
    // A preview that no longer matches the zone: the title says the fix was refused (it was the preview's title).
    const refused = await alice.agent.post('/domains/bakery.example/fix').type('form').send({ _csrf: alice.csrf, check: 'spf', planHash: `sha256:${'0'.repeat(64)}` });
    assert.match(refused.text, /id="outcome" data-why="changed"/);
    assert.equal(titleOf(refused.text), 'Fix SPF for bakery.example: refused · Mail health');
    const badFilter = await alice.agent.get('/history?domain=bad..name').expect(400);
    assert.equal(titleOf(badFilter.text), 'Error: History · Mail health');
    const badBounce = await alice.agent.post('/explain').type('form').send({ _csrf: alice.csrf, text: 'hello' }).expect(400);
    assert.equal(titleOf(badBounce.text), 'Error: Explain a bounce · Mail health');
    const root = await login(w.app, 'root');
    const settings = await root.agent.post('/settings').type('form').send({ _csrf: root.csrf, retentionDays: 'x' }).expect(400);
    assert.equal(titleOf(settings.text), 'Error: Settings not saved · Mail health');
    const wrong = request.agent(w.app);
    const form = await wrong.get('/login').expect(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1];
    const failed = await wrong.post('/login').type('form').send({ _csrf: csrf, user: 'alice', password: 'not it', next: '/domains' }).expect(401);
    assert.equal(titleOf(failed.text), 'Error: Log in · Mail health');
  });

  test('an error is tied to the field it is about: the login fields, the bounce text box', async () => {
    const agent = request.agent(w.app);
    const form = await agent.get('/login').expect(200);
    assert.doesNotMatch(form.text, /aria-describedby="login-error"/, 'no error, no description');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1];
    const failed = await agent.post('/login').type('form').send({ _csrf: csrf, user: 'alice', password: 'not it', next: '/domains' }).expect(401);
    assert.match(failed.text, /<p class="alert alert-fail" role="alert" id="login-error">Wrong user name or password\.<\/p>/);
    for (const id of ['user', 'password']) {
      const input = tags(failed.text, 'input').find((t) => attr(t, 'id') === id)!;
      assert.equal(attr(input, 'aria-describedby'), 'login-error', `#${id} is described by the error`);
    }
    const alice = await login(w.app, 'alice');
    // Not a bounce: the error is about the text box, which says so (it was left unmarked).
    const bad = await alice.agent.post('/explain').type('form').send({ _csrf: alice.csrf, text: 'hello' }).expect(400);
    const box = tags(bad.text, 'textarea')[0];
    assert.equal(attr(box, 'aria-invalid'), 'true');
    assert.equal(attr(box, 'aria-describedby'), 'explain-error');
    assert.match(bad.text, /role="alert" id="explain-error">/);
    // A domain outside the scope: the domain field is the one marked, not the text box.
    const bounce = '550 5.7.1 This sender is not authorized to send from florist.example.';
    const other = await alice.agent.post('/explain').type('form').send({ _csrf: alice.csrf, text: bounce, domain: 'dentist.example' }).expect(404);
    assert.equal(attr(tags(other.text, 'textarea')[0], 'aria-invalid'), undefined);
    const field = [...tags(other.text, 'select'), ...tags(other.text, 'input')].find((t) => attr(t, 'id') === 'explain-domain')!;
    assert.equal(attr(field, 'aria-invalid'), 'true');
  });

  test('a control whose accessible name is not its visible words holds them (WCAG 2.5.3): Audit now, Verify again, Re-apply', async () => {
    const alice = await login(w.app, 'alice');
    const domains = (await alice.agent.get('/domains').expect(200)).text;
    assert.match(domains, /aria-label="Audit now: bakery\.example">Audit now<\/button>/);
    assert.deepEqual(labelNotHoldingItsWords(domains), []);
    // A fix still propagating (Verify again), and another fix undone (the undo offers Re-apply #N).
    const propagating = w.store.recordIntent({ domain: 'bakery.example', check: 'spf', planHash: `sha256:${'1'.repeat(64)}`, zoneVersion: null, changes: [], byUser: 'alice' });
    w.store.recordOutcome(propagating, { status: 'applied', verified: 'propagating' });
    const fix = w.store.recordIntent({ domain: 'florist.example', check: 'dmarc', planHash: `sha256:${'2'.repeat(64)}`, zoneVersion: null, changes: [], byUser: 'alice' });
    w.store.recordOutcome(fix, { status: 'applied', verified: 'yes' });
    const undo = w.store.recordIntent({ domain: 'florist.example', check: 'dmarc', planHash: `sha256:${'3'.repeat(64)}`, zoneVersion: null, changes: [], byUser: 'alice', undoOf: fix });
    w.store.recordOutcome(undo, { status: 'applied', verified: 'yes' });
    const history = (await alice.agent.get('/history').expect(200)).text;
    assert.match(history, new RegExp(`aria-label="Verify again: change ${propagating}">Verify again</button>`));
    assert.match(history, new RegExp(`aria-label="Re-apply #${fix}: undo change ${undo}">Re-apply #${fix}</button>`));
    assert.deepEqual(labelNotHoldingItsWords(history), []);
    const rita = await login(w.app, 'rita');
    assert.deepEqual(labelNotHoldingItsWords((await rita.agent.get('/bulk').expect(200)).text), []);
  });

  test('"not checked" is said in words (a dash with aria-label on a plain span is skipped by screen readers)', async () => {
    // rita's customers' domains: none of them is audited in this file.
    const { agent } = await login(w.app, 'rita');
    for (const page of ['/domains', '/bulk']) {
      const html = (await agent.get(page).expect(200)).text;
      const dashes = [...html.matchAll(/<span class="dash"[^>]*>—<\/span>(<span class="sr-only">[^<]*<\/span>)?/g)];
      assert.ok(dashes.length > 0, `${page}: unaudited domains show dashes`);
      for (const d of dashes) {
        assert.match(d[0], /^<span class="dash" aria-hidden="true">—<\/span><span class="sr-only">not checked<\/span>$/, page);
      }
    }
  });

  test('every table has a caption; breadcrumbs are navigation whose arrows are not read out', async () => {
    const alice = await login(w.app, 'alice');
    const pages = ['/domains', '/history', '/domains/bakery.example/fix?check=spf'];
    for (const p of pages) {
      const html = (await alice.agent.get(p).expect(200)).text;
      const tables = [...html.matchAll(/<table\b[^>]*>\s*(<caption\b[^>]*>[^<]+<\/caption>)?/g)];
      assert.ok(tables.length > 0, `${p} has a table`);
      for (const t of tables) assert.ok(t[1], `${p}: ${t[0].slice(0, 60)} has a caption`);
    }
    const rita = await login(w.app, 'rita');
    const bulk = (await rita.agent.get('/bulk').expect(200)).text;
    assert.match(bulk, /<table class="domains" id="bulk-table">\s*<caption class="sr-only">[^<]+<\/caption>/);
    const fix = (await alice.agent.get('/domains/bakery.example/fix?check=spf').expect(200)).text;
    assert.match(fix, /<nav class="crumbs" aria-label="Breadcrumb"><a href="\/domains">Domains<\/a> <span aria-hidden="true">›<\/span>/);
    assert.doesNotMatch(fix.replace(/<span aria-hidden="true">[‹›]<\/span>/g, ''), /[‹›]/, 'no arrow left to be read out');
  });

  test('an exact time is on the page, not only in a tooltip: the domain lists (/domains, /bulk)', async () => {
    const rita = await login(w.app, 'rita');
    await rita.agent.get('/domains/clean.example').expect(200); // audits it: a "Last audit" to show
    for (const path of ['/domains', '/bulk']) {
      const page = (await rita.agent.get(path).expect(200)).text;
      const cells = [...page.matchAll(/<td class="when">([\s\S]*?)<\/td>/g)].map((m) => m[1]).filter((c) => c.includes('datetime='));
      assert.ok(cells.length > 0, `${path} lists an audited domain`);
      for (const cell of cells) {
        const at = /datetime="([^"]+)"/.exec(cell)![1];
        assert.ok(text(cell).includes(utcText(Date.parse(at))), `${path}: ${cell} shows ${utcText(Date.parse(at))}`);
      }
    }
  });

  test('an exact time is on the page, not only in a tooltip: the history, a domain page', async () => {
    const alice = await login(w.app, 'alice');
    const page = (await alice.agent.get('/domains/florist.example').expect(200)).text; // audits it
    const audited = /Audited <time datetime="([^"]+)"[^>]*>[^<]*<\/time>([^·]*)·/.exec(page);
    assert.ok(audited, page.slice(0, 3000));
    assert.equal(text(audited[2]), `(${utcText(Date.parse(audited[1]))})`);
    const history = (await alice.agent.get('/history').expect(200)).text;
    const cells = [...history.matchAll(/<td class="when">([\s\S]*?)<\/td>/g)].map((m) => m[1]);
    assert.ok(cells.length > 0);
    for (const cell of cells) {
      const at = /datetime="([^"]+)"/.exec(cell)![1];
      assert.ok(text(cell).includes(utcText(Date.parse(at))), `${cell} shows ${utcText(Date.parse(at))}`);
    }
  });
});
