// Review round 2, items 5 and 6 (and item 1 on a real audit): the explain page's severity chips show the severity,
// the page renders the explanation's notes (escaped), and it says what happened when no audit ran.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SEVERITY_LABELS } from '../../src/web/view-model.js';
import { demoWorld, login, type TestWorld } from './helpers.js';

// A distinctive token in each pasted bounce: it must appear in the textarea only.
const MAILCHANNELS = (domain: string) =>
  `2026-11-20 10:00:01 1abc-000 ** bob@gmail.com R=dnslookup T=remote_smtp H=relay.mailchannels.net [23.83.209.1]: SMTP error from remote mail server after end of data: 550 5.7.1 This sender is not authorized to send from ${domain}. Ref QX7TOKEN`;
const DMARC_REJECT = (domain: string) =>
  `Remote server returned '550 5.7.509 Access denied, sending domain ${domain.toUpperCase()} does not pass DMARC verification and has a DMARC policy of reject. [AM4PEPF00027A6C.eurprd04.prod.outlook.com 2026-11-20T10:40:01.123Z 08DE0A1B2C3D4E60]'`;
const NO_DOMAIN = '421-4.7.23 The sending IP address for this message doesn\'t have a PTR record,\n421 4.7.23 or the PTR record\'s forward DNS entry doesn\'t match the sending IP. - gsmtp';

/** The page without its form (the textarea holds the pasted text as it was). */
const outsideForm = (html: string) => html.replace(/<textarea[\s\S]*?<\/textarea>/, '');
const explanation = (html: string) => /<section class="card" id="explanation">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? '';

describe('/explain page', () => {
  let w: TestWorld;
  before(async () => {
    w = await demoWorld();
  });
  after(async () => w.close());

  test('severity chips show the severity label, never the pasted bounce', async () => {
    const { agent, csrf } = await login(w.app, 'alice');
    const r = await agent.post('/explain').type('form').send({ _csrf: csrf, text: MAILCHANNELS('florist.example') }).expect(200);
    const chips = [...explanation(r.text).matchAll(/<span class="chip chip-(\w+)">([\s\S]*?)<\/span>/g)];
    assert.ok(chips.length >= 1, 'the finding has a chip');
    for (const [, sev, label] of chips) assert.equal(label, SEVERITY_LABELS[sev as keyof typeof SEVERITY_LABELS], `chip ${sev}`);
    assert.ok(chips.some(([, sev, label]) => sev === 'fail' && label === 'Fail'));
    assert.doesNotMatch(outsideForm(r.text), /QX7TOKEN/, 'the bounce appears only in the textarea');
  });

  test('a domain outside the user\'s scope: says no DNS was checked and why, renders the notes', async () => {
    const { agent, csrf } = await login(w.app, 'bob');
    const r = await agent.post('/explain').type('form').send({ _csrf: csrf, text: MAILCHANNELS('florist.example') }).expect(200);
    const ex = explanation(r.text);
    assert.doesNotMatch(ex, /Nothing in the domain/);
    assert.match(ex, /No DNS records were checked: florist\.example is not a domain you may audit here/);
    assert.match(ex, /<ul class="notes">[\s\S]*florist\.example was not audited[\s\S]*<\/ul>/);
  });

  test('a bounce that names no domain: says so (escaped), not "nothing in the DNS explains"', async () => {
    const { agent, csrf } = await login(w.app, 'alice');
    const r = await agent.post('/explain').type('form').send({ _csrf: csrf, text: NO_DOMAIN }).expect(200);
    const ex = explanation(r.text);
    assert.doesNotMatch(ex, /Nothing in the domain/);
    assert.match(ex, /No DNS records were checked: the bounce does not name the sender&#39;s domain\./);
    assert.match(ex, /<ul class="notes">[\s\S]*This is a temporary refusal[\s\S]*<\/ul>/, 'the explanation\'s notes are rendered');
    assert.doesNotMatch(ex, /sender's domain/, 'notes are escaped like every other value');
  });

  test('an audited domain whose DNS cannot cause the DMARC reject: no finding named, the note says so', async () => {
    // florist.example has warnings (a stale include, reports to the old host, the old host's 1024-bit key at its own
    // selector) and a stale lockdown id: none of them makes SPF or DKIM fail for this server's mail.
    const { agent, csrf } = await login(w.app, 'alice');
    const r = await agent.post('/explain').type('form').send({ _csrf: csrf, text: DMARC_REJECT('florist.example') }).expect(200);
    const ex = explanation(r.text);
    assert.doesNotMatch(ex, /What in the DNS causes it/);
    assert.doesNotMatch(ex, /<ul class="findings">/);
    assert.match(ex, /Nothing in the domain&#39;s DNS explains this bounce\./);
    assert.match(ex, /<ul class="notes">[\s\S]*Nothing in the audit explains this rejection[\s\S]*<\/ul>/);
    const api = await agent.post('/api/explain').set('x-csrf-token', csrf).send({ text: DMARC_REJECT('florist.example') }).expect(200);
    assert.deepEqual(api.body.findings, []);
    assert.equal(api.body.explained, false);
  });

  test('the JSON API carries the out-of-scope note too', async () => {
    const { agent, csrf } = await login(w.app, 'bob');
    const api = await agent.post('/api/explain').set('x-csrf-token', csrf).send({ text: MAILCHANNELS('florist.example') }).expect(200);
    assert.ok(api.body.notes.some((n: string) => /not a domain you may audit here/.test(n)), api.body.notes.join(' | '));
  });
});
