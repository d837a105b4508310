// A reseller with 5,000 domains, one customer each (shared hosting): the Customer filter of /domains and /bulk, and
// /explain's "Domain to audit", are text fields past CHOOSER_SELECT_MAX instead of a <select> carrying every customer
// (or domain) in each page (QA S5: 5,015 <option>s, ~340 KB, for a 50-row table). What is typed is matched exactly
// within the user's scope: another reseller's customer or domain gets the answer of one that does not exist.
// Below the threshold the selects are as they were.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { createApp, type MailhealthApp } from '../../src/web/app.js';
import { NOT_FOUND_MESSAGE } from '../../src/web/http.js';
import { chooser, CHOOSER_SELECT_MAX } from '../../src/web/routes/choosers.js';
import { MapResolver } from '../helpers/map-resolver.js';
import { login, NO_LIMITS, setPasswords } from './helpers.js';

const N = 5_000;
const ritaDomain = (i: number) => `d${i}.example`;
/** rex: a small reseller, three customers (below the threshold). */
const REX_CUSTOMERS = ['rexc0', 'rexc1', 'rexc2'];
const rexDomain = (j: number) => `rx${j}.example`;
const MAILCHANNELS = (domain: string) => `550 5.7.1 This sender is not authorized to send from ${domain}.`;

const optionCount = (html: string) => (html.match(/<option/g) ?? []).length;
const rows = (html: string) => [...html.matchAll(/<tr data-domain="([^"]+)"/g)].map((m) => m[1]);
const count = (html: string) => /<p class="count">(\d+) domains?<\/p>/.exec(html)?.[1];
const customerSelect = (html: string) => /<select id="f-customer" name="customer"[^>]*>([\s\S]*?)<\/select>/.exec(html)?.[1];
const customerInput = (html: string) => /<input id="f-customer" name="customer"[^>]*>/.exec(html)?.[0];
const unknownAlert = (html: string) => /<p class="alert alert-warn" role="alert" id="f-customer-error">([\s\S]*?)<\/p>/.exec(html)?.[1];
const explainError = (html: string) => /<p class="alert alert-warn" role="alert" id="explain-error">([\s\S]*?)<\/p>/.exec(html)?.[1];
const escaped = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;');

describe('the Customer and domain choosers with 5,000 customers', () => {
  let dir: string;
  let store: Store;
  let app: MailhealthApp;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mailhealth-choosers-'));
    const accounts: object[] = [
      { user: 'root', role: 'admin' },
      { user: 'rita', role: 'reseller' },
      { user: 'rex', role: 'reseller' },
    ];
    for (let i = 0; i < N; i++) accounts.push({ user: `cust${i}`, role: 'customer', owner: 'rita', domains: [ritaDomain(i)] });
    REX_CUSTOMERS.forEach((u, j) => accounts.push({ user: u, role: 'customer', owner: 'rex', domains: [rexDomain(j)] }));
    writeFileSync(join(dir, 'panel.json'), JSON.stringify({ server: { hostname: 'h.example', ips: ['192.0.2.1'], nameservers: ['ns1.h.example'] }, accounts }));
    store = openStore(join(dir, 'db.sqlite'));
    await setPasswords(store, ['root', 'rita', 'rex']);
    app = createApp({ panel: new FilesPanel(dir), store, makeResolver: () => new MapResolver({}), identityFrom: 'session', rateLimits: NO_LIMITS });
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the threshold: a select up to CHOOSER_SELECT_MAX choices, a text field past it; an unknown value is flagged', () => {
    const list = (n: number) => Array.from({ length: n }, (_, i) => `c${i}`);
    assert.deepEqual(chooser(list(CHOOSER_SELECT_MAX), undefined).options, list(CHOOSER_SELECT_MAX));
    assert.equal(chooser(list(CHOOSER_SELECT_MAX + 1), undefined).options, null);
    assert.equal(chooser(list(3), 'c1').unknown, false);
    assert.equal(chooser(list(3), 'C1').unknown, true, 'matched exactly, as the filter is');
    assert.equal(chooser(list(3), '').unknown, false);
    assert.equal(chooser(list(3), undefined).unknown, false);
  });

  test('/domains (every page), /bulk and /explain carry no <option> per customer or domain', async () => {
    const { agent } = await login(app, 'rita');
    for (const path of ['/domains', '/domains?page=100', '/bulk', '/bulk?page=50', '/explain']) {
      const page = await agent.get(path).expect(200);
      // The status and check filters and the bulk fix's check: a few dozen at most (before: 5,015).
      assert.ok(optionCount(page.text) < 40, `${path}: ${optionCount(page.text)} <option>s`);
      assert.ok(page.text.length < 120_000, `${path}: ${page.text.length} characters`);
      assert.doesNotMatch(page.text, /cust4999|d4999\.example/, `${path} names a customer or domain not in its table`);
    }
    const list = await agent.get('/domains').expect(200);
    assert.equal(count(list.text), String(N));
    assert.equal(rows(list.text).length, 50);
    assert.equal(customerSelect(list.text), undefined);
    assert.match(list.text, /<label for="f-customer">Customer<\/label>/);
    const input = customerInput(list.text)!;
    assert.match(input, /value=""/);
    assert.match(input, /aria-describedby="f-customer-help"/);
    assert.match(list.text, /<p class="help filters-help" id="f-customer-help">Customer: type the customer's user name exactly as the Customer column shows it \(5,000 customers, too many to list here\)/);
    const explain = await agent.get('/explain').expect(200);
    assert.equal(/<select id="explain-domain"/.test(explain.text), false);
    assert.match(explain.text, /<label for="explain-domain">Domain to audit<\/label>\s*<input id="explain-domain" name="domain" value=""/);
  });

  test('the typed customer filters the list exactly, and is kept in the field (/domains, /bulk, exports)', async () => {
    const { agent } = await login(app, 'rita');
    for (const base of ['/domains', '/bulk']) {
      const page = await agent.get(`${base}?customer=cust4321`).expect(200);
      assert.equal(count(page.text), '1', base);
      assert.deepEqual(rows(page.text), [ritaDomain(4321)]);
      assert.match(customerInput(page.text)!, /value="cust4321"/);
      assert.equal(unknownAlert(page.text), undefined);
      // Exact: no prefix or case-insensitive match (cust43 is a customer of its own, cust432 one more).
      const upper = await agent.get(`${base}?customer=CUST4321`).expect(200);
      assert.equal(count(upper.text), '0');
      assert.ok(unknownAlert(upper.text));
    }
    const bulk = await agent.get('/bulk?customer=cust4321').expect(200);
    assert.match(bulk.text, /Audit all 1 matching/);
    assert.match(bulk.text, /<input type="hidden" name="customer" value="cust4321">/);
    const csv = await agent.get('/api/export.csv?customer=cust4321').expect(200);
    assert.equal(csv.text.trim().split('\r\n').length, 2);
  });

  test("a reseller typing another reseller's customer sees nothing of theirs: the answer of a name that does not exist", async () => {
    const { agent } = await login(app, 'rita');
    for (const base of ['/domains', '/bulk']) {
      const foreign = await agent.get(`${base}?customer=rexc1`).expect(200);
      const none = await agent.get(`${base}?customer=nosuchcust`).expect(200);
      for (const p of [foreign, none]) {
        assert.equal(count(p.text), '0', base);
        assert.deepEqual(rows(p.text), []);
        assert.doesNotMatch(p.text, /rx\d\.example/);
        assert.match(customerInput(p.text)!, /aria-invalid="true"/);
      }
      assert.match(unknownAlert(none.text)!, /^No customer named “nosuchcust” among your domains: check the spelling/);
      assert.equal(unknownAlert(foreign.text)!.replace('rexc1', 'X'), unknownAlert(none.text)!.replace('nosuchcust', 'X'));
      // The whole page, but for the name typed (twice: the field and the message).
      assert.equal(foreign.text.replace(/_csrf" value="[^"]+"|csrf-token" content="[^"]+"/g, '').replaceAll('rexc1', 'X'), none.text.replace(/_csrf" value="[^"]+"|csrf-token" content="[^"]+"/g, '').replaceAll('nosuchcust', 'X'));
    }
    // The value is escaped where it is shown.
    const hostile = await agent.get(`/domains?customer=${encodeURIComponent('<b>x"')}`).expect(200);
    assert.doesNotMatch(hostile.text, /<b>x/);
    assert.match(unknownAlert(hostile.text)!, /&lt;b&gt;x&#34;/);
  });

  test('/explain: a typed domain of the user’s is explained; another reseller’s gets the answer of none, with the form kept', async () => {
    const { agent, csrf } = await login(app, 'rita');
    const text = MAILCHANNELS('elsewhere.example');
    const ok = await agent.post('/explain').type('form').send({ _csrf: csrf, text, domain: ` ${ritaDomain(42)} ` }).expect(200);
    assert.match(ok.text, /<input id="explain-domain" name="domain" value="d42\.example"/);
    assert.match(ok.text, /you chose d42\.example: the explanation uses d42\.example/);
    const answers: string[] = [];
    for (const domain of [rexDomain(1), 'nowhere.example', 'a..b']) {
      const page = await agent.post('/explain').type('form').send({ _csrf: csrf, text, domain }).expect(404);
      assert.ok(explainError(page.text)!.startsWith(escaped(NOT_FOUND_MESSAGE)), explainError(page.text));
      assert.match(page.text, new RegExp(`<input id="explain-domain" name="domain" value="${domain.replace(/\./g, '\\.')}"[^>]*aria-describedby="explain-domain-help explain-error" aria-invalid="true">`));
      assert.ok(page.text.includes(`>${escaped(text)}</textarea>`), 'the pasted bounce is kept');
      assert.equal(/id="explanation"/.test(page.text), false, 'nothing explained, nothing audited');
      answers.push(explainError(page.text)!);
    }
    assert.equal(new Set(answers).size, 1, 'the same words for a foreign domain, a missing one and no domain name');
    assert.equal(store.latestSummaries([rexDomain(1)]).size, 0, 'the foreign domain was not audited');
  });

  test('below the threshold the selects are as they were', async () => {
    const { agent, csrf } = await login(app, 'rex');
    for (const base of ['/domains', '/bulk']) {
      const page = await agent.get(`${base}?customer=rexc1`).expect(200);
      assert.equal(customerInput(page.text), undefined);
      const select = customerSelect(page.text)!;
      assert.match(page.text, /<select id="f-customer" name="customer">/, 'no extra attributes');
      assert.deepEqual([...select.matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]), ['', ...REX_CUSTOMERS]);
      assert.match(select, /<option value="rexc1" selected>rexc1<\/option>/);
      assert.match(select, /<option value="rexc0" >rexc0<\/option>/);
      assert.deepEqual(rows(page.text), [rexDomain(1)]);
      assert.doesNotMatch(page.text, /f-customer-help|f-customer-error/);
    }
    const explain = await agent.get('/explain').expect(200);
    const options = [.../<select id="explain-domain" name="domain" aria-describedby="explain-domain-help">([\s\S]*?)<\/select>/.exec(explain.text)![1].matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual(options, ['', rexDomain(0), rexDomain(1), rexDomain(2)]);
    assert.match(explain.text, /<p class="help" id="explain-domain-help">Choose one of your domains/);
  });

  test('below the threshold, a customer or domain not his (a hand-made request): nothing of it, and said so', async () => {
    const { agent, csrf } = await login(app, 'rex');
    for (const base of ['/domains', '/bulk']) {
      const foreign = await agent.get(`${base}?customer=cust7`).expect(200);
      assert.equal(count(foreign.text), '0');
      assert.match(unknownAlert(foreign.text)!, /No customer named “cust7” among your domains/);
      assert.match(foreign.text, /<select id="f-customer" name="customer" aria-invalid="true" aria-describedby="f-customer-error">/);
    }
    // Rita's domain sent as rex's choice: the same 404 as ever, the form kept.
    const page = await agent.post('/explain').type('form').send({ _csrf: csrf, text: MAILCHANNELS('x.example'), domain: ritaDomain(3) }).expect(404);
    assert.ok(explainError(page.text)!.startsWith(escaped(NOT_FOUND_MESSAGE)));
  });

  test('the admin (5,003 customers) gets the text field too, and finds any customer', async () => {
    const { agent } = await login(app, 'root');
    const page = await agent.get('/bulk?customer=rexc2').expect(200);
    assert.ok(optionCount(page.text) < 40);
    assert.deepEqual(rows(page.text), [rexDomain(2)]);
  });
});
