// /explain and POST /api/explain: the "Domain to audit" choice (the user's own domains; empty: the one the bounce
// names), scoped like every domain page; the receiver of a receiver-specific wording; a blocklist bounce with the
// blocklist check off says so and where to turn it on, and with it on does not.
import { after, before, describe, test } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { NOT_FOUND_MESSAGE } from '../../src/web/http.js';
import { SETTING_KEYS } from '../../src/core/settings.js';
import { corpusMissing, corpusPath, readCorpus } from '../helpers/corpora.js';
import { DEMO_SCOPE, demoWorld, login, type TestWorld } from './helpers.js';

const GMAIL = 'bounces/gmail-5.7.26.txt';
const MAILCHANNELS = (domain: string) => `550 5.7.1 This sender is not authorized to send from ${domain}.`;
const MS_509 = '550 5.7.509 Access denied, sending domain bakery.example does not pass DMARC verification and has a DMARC policy of reject.';
const BLOCKED = '554 5.7.1 Service unavailable; Client host [203.0.113.10] blocked using zen.spamhaus.org; from=<info@bakery.example>';

const explanation = (html: string) => /<section class="card" id="explanation">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? '';
const select = (html: string) => /<select id="explain-domain" name="domain"[^>]*>([\s\S]*?)<\/select>/.exec(html)?.[1] ?? '';
const options = (html: string) => [...select(html).matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]);

describe('/explain: choosing the domain', () => {
  let w: TestWorld;
  before(async () => {
    w = await demoWorld();
  });
  after(async () => w.close());

  test('the form offers the user\'s own domains, "from the bounce" first', async () => {
    const { agent } = await login(w.app, 'alice');
    const page = await agent.get('/explain').expect(200);
    assert.match(page.text, /<label for="explain-domain">Domain to audit<\/label>/);
    assert.deepEqual(options(page.text), ['', ...DEMO_SCOPE.alice]);
    assert.match(select(page.text), /<option value="">From the bounce<\/option>/);
    const bob = await login(w.app, 'bob');
    assert.deepEqual(options((await bob.agent.get('/explain').expect(200)).text), ['', ...DEMO_SCOPE.bob]);
  });

  test('a bounce without a domain, explained for the chosen one (page and API)', { skip: corpusPath(GMAIL) ? false : corpusMissing(GMAIL) }, async () => {
    const text = readCorpus(GMAIL);
    const { agent, csrf } = await login(w.app, 'alice');
    // Not chosen: the note points at the form's choice, which exists.
    const none = await agent.post('/explain').type('form').send({ _csrf: csrf, text, domain: '' }).expect(200);
    assert.match(explanation(none.text), /does not name the sender&#39;s domain: choose the domain to audit under &#34;Domain to audit&#34; in the form above/);
    const noneApi = await agent.post('/api/explain').set('x-csrf-token', csrf).send({ text }).expect(200);
    assert.equal(noneApi.body.domain, null);
    assert.ok(noneApi.body.notes.some((n: string) => /send the domain to audit as "domain" in the request body/.test(n)), noneApi.body.notes.join(' | '));

    const r = await agent.post('/explain').type('form').send({ _csrf: csrf, text, domain: 'bakery.example' }).expect(200);
    const ex = explanation(r.text);
    assert.doesNotMatch(ex, /No DNS records were checked/);
    assert.match(ex, /<a href="\/domains\/bakery.example">bakery.example<\/a>/);
    assert.match(ex, /href="\/domains\/bakery.example\/fix\?check=spf"/);
    assert.match(select(r.text), /<option value="bakery.example" selected>/, 'the choice is kept');
    const api = await agent.post('/api/explain').set('x-csrf-token', csrf).send({ text, domain: 'bakery.example' }).expect(200);
    assert.equal(api.body.domain, 'bakery.example');
    assert.ok(api.body.findings.some((f: { rule: string }) => f.rule === 'spf.server-not-authorized'));
  });

  test('a chosen domain wins over the one the bounce names, and a note says so', async () => {
    const { agent, csrf } = await login(w.app, 'alice');
    const api = await agent.post('/api/explain').set('x-csrf-token', csrf).send({ text: MAILCHANNELS('florist.example'), domain: 'bakery.example' }).expect(200);
    assert.equal(api.body.domain, 'bakery.example');
    assert.ok(api.body.notes.some((n: string) => /names florist\.example, but you chose bakery\.example: the explanation uses bakery\.example/.test(n)), api.body.notes.join(' | '));
  });

  test('a domain outside the scope, or no domain name: the same 404 as every domain page', async () => {
    const { agent, csrf } = await login(w.app, 'bob');
    for (const domain of ['florist.example', 'nowhere.example', '<b>x</b>', 'a..b']) {
      const page = await agent.post('/explain').type('form').send({ _csrf: csrf, text: MAILCHANNELS('plumber.example'), domain }).expect(404);
      assert.ok(page.text.includes(NOT_FOUND_MESSAGE.replace(/'/g, '&#39;')) || page.text.includes(NOT_FOUND_MESSAGE), domain);
      const api = await agent.post('/api/explain').set('x-csrf-token', csrf).send({ text: MAILCHANNELS('plumber.example'), domain }).expect(404);
      assert.deepEqual(api.body, { error: NOT_FOUND_MESSAGE });
    }
    await agent.post('/api/explain').set('x-csrf-token', csrf).send({ text: MAILCHANNELS('plumber.example'), domain: ['plumber.example', 'dentist.example'] }).expect(400);
    // Its own domain is fine.
    const ok = await agent.post('/api/explain').set('x-csrf-token', csrf).send({ text: MAILCHANNELS('florist.example'), domain: 'plumber.example' }).expect(200);
    assert.equal(ok.body.domain, 'plumber.example');
  });

  test('Microsoft\'s 5.7.509 wording without an Outlook host: receiver microsoft', async () => {
    const { agent, csrf } = await login(w.app, 'alice');
    const api = await agent.post('/api/explain').set('x-csrf-token', csrf).send({ text: MS_509 }).expect(200);
    assert.equal(api.body.receiver, 'microsoft');
    const page = await agent.post('/explain').type('form').send({ _csrf: csrf, text: MS_509 }).expect(200);
    assert.match(explanation(page.text), /<h2>Microsoft \(Outlook.com \/ Exchange Online\)/);
  });

  // The demo's server relays through MailChannels: the address a receiver blocks is the relay's, which no audit looks
  // up (QA: the page said "turn the check on", then, with it on, "nothing explains it" — never having looked).
  test('a blocklist bounce on a server that relays: the relay’s address, not looked up — never "turn the check on"', async () => {
    const { agent, csrf } = await login(w.app, 'alice');
    for (const on of [false, true]) {
      w.store.setSetting(SETTING_KEYS.blocklists, on);
      try {
        const api = await agent.post('/api/explain').set('x-csrf-token', csrf).send({ text: BLOCKED }).expect(200);
        assert.ok(api.body.notes.some((n: string) => /sends its mail through a relay \(ptr\.relay\): the address a receiver blocks is the relay's/.test(n)), api.body.notes.join(' | '));
        assert.ok(!api.body.notes.some((n: string) => /blocklist check is off/.test(n)), api.body.notes.join(' | '));
        assert.notEqual(api.body.verdict, 'not-checked');
      } finally {
        w.store.setSetting(SETTING_KEYS.blocklists, false);
      }
    }
  });

  test('a blocklist bounce without a relay: check off says so and where to turn it on; on, with the zone queried, not; on, without that zone, names it', async () => {
    const cfgPath = join(w.demo!.panelDir, 'panel.json');
    const saved = readFileSync(cfgPath, 'utf8');
    const cfg = JSON.parse(saved) as { server: Record<string, unknown> };
    cfg.server = { ...cfg.server, relay: null };
    writeFileSync(cfgPath, JSON.stringify(cfg));
    try {
      const { agent, csrf } = await login(w.app, 'alice');
      const page = await agent.post('/explain').type('form').send({ _csrf: csrf, text: BLOCKED }).expect(200);
      const ex = explanation(page.text);
      assert.doesNotMatch(ex, /Nothing in the domain/);
      assert.doesNotMatch(ex, /Nothing in the audit explains/);
      assert.match(ex, /The audit did not check blocklists \(the blocklist check is off\)/);
      assert.match(ex, /blocklist check is off, so the audit did not look whether the sending IP 203\.0\.113\.10 is on a blocklist/);
      assert.match(ex, /Settings, under DNS: &#34;Check the sending IPs against blocklists&#34;/);
      assert.doesNotMatch(ex, /href="\/settings/, 'a customer gets no link to the admin\'s page');
      const root = await login(w.app, 'root');
      const adminPage = await root.agent.post('/explain').type('form').send({ _csrf: root.csrf, text: BLOCKED }).expect(200);
      assert.match(explanation(adminPage.text), /<a class="btn" href="\/settings#s-bl">/);

      w.store.setSetting(SETTING_KEYS.blocklists, true);
      try {
        const api = await agent.post('/api/explain').set('x-csrf-token', csrf).send({ text: BLOCKED }).expect(200);
        assert.ok(!api.body.notes.some((n: string) => /blocklist check is off|not among those the audit queries/.test(n)), api.body.notes.join(' | '));
        // The demo's sending IP is on no list: nothing in the audit explains it.
        assert.ok(api.body.notes.some((n: string) => /Nothing in the audit explains this rejection/.test(n)), api.body.notes.join(' | '));
        // The admin's zones do not include the one the bounce names: not looked up, and said so.
        w.store.setSetting(SETTING_KEYS.blocklistZones, ['bl.example.org']);
        const other = await agent.post('/api/explain').set('x-csrf-token', csrf).send({ text: BLOCKED }).expect(200);
        assert.equal(other.body.verdict, 'not-checked');
        assert.ok(other.body.notes.some((n: string) => /names the blocklist zen\.spamhaus\.org, which is not among those the audit queries \(bl\.example\.org\)/.test(n)), other.body.notes.join(' | '));
      } finally {
        w.store.setSetting(SETTING_KEYS.blocklists, false);
        w.store.setSetting(SETTING_KEYS.blocklistZones, undefined);
      }
    } finally {
      writeFileSync(cfgPath, saved);
    }
  });
});
