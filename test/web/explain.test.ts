// The bounce explainer page: paste a bounce, see the receiver, the meaning and the sender domain's findings with a
// link to the fix — only for a domain in the identity's scope.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { demoWorld, login, type TestWorld } from './helpers.js';

const MAILCHANNELS = (domain: string) =>
  `2026-11-20 10:00:01 1abc-000 ** bob@gmail.com R=dnslookup T=remote_smtp H=relay.mailchannels.net [23.83.209.1]: SMTP error from remote mail server after end of data: 550 5.7.1 This sender is not authorized to send from ${domain}.`;

describe('/explain', () => {
  let w: TestWorld;
  before(async () => {
    w = await demoWorld();
  });
  after(async () => w.close());

  test('a MailChannels 5.7.1 for the customer\'s own domain points at the stale lockdown id and its fix', async () => {
    const { agent, csrf } = await login(w.app, 'alice');
    const page = await agent.get('/explain').expect(200);
    assert.match(page.text, /name="text"/);
    const r = await agent.post('/explain').type('form').send({ _csrf: csrf, text: MAILCHANNELS('florist.example') }).expect(200);
    assert.match(r.text, /MailChannels/);
    assert.match(r.text, /auth=dreamhost/);
    assert.match(r.text, /href="\/domains\/florist.example\/fix\?check=lockdown"/);
    const api = await agent.post('/api/explain').set('x-csrf-token', csrf).send({ text: MAILCHANNELS('florist.example') }).expect(200);
    assert.equal(api.body.receiver, 'mailchannels');
    assert.equal(api.body.domain, 'florist.example');
    assert.ok(api.body.findings.some((f: { rule: string }) => f.rule === 'lockdown.stale-auth'));
  });

  test('another customer\'s domain is not audited: only the code is explained, no link', async () => {
    const { agent, csrf } = await login(w.app, 'bob');
    const r = await agent.post('/explain').type('form').send({ _csrf: csrf, text: MAILCHANNELS('florist.example') }).expect(200);
    assert.doesNotMatch(r.text, /auth=dreamhost/);
    assert.doesNotMatch(r.text, /href="\/domains\/florist.example/);
  });

  test('malformed input gives a clear error; CSRF is required; hostile text is escaped', async () => {
    const { agent, csrf } = await login(w.app, 'alice');
    const bad = await agent.post('/explain').type('form').send({ _csrf: csrf, text: 'hello <script>alert(1)</script>' }).expect(400);
    assert.match(bad.text, /role="alert"/);
    assert.doesNotMatch(bad.text, /<script>alert\(1\)<\/script>/);
    assert.match(bad.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    await agent.post('/explain').type('form').send({ text: MAILCHANNELS('florist.example') }).expect(403);
  });

  test('a bounce larger than the form takes: 413 saying so and what to paste (page and API), not a bare "could not be handled"', async () => {
    const { agent, csrf } = await login(w.app, 'alice');
    const huge = `${MAILCHANNELS('florist.example')}\n${'x'.repeat(300 * 1024)}`;
    const page = await agent.post('/explain').type('form').send({ _csrf: csrf, text: huge }).expect(413);
    assert.match(page.text, /too large .*paste only the part with the server(&#39;|')s reply/);
    const api = await agent.post('/api/explain').set('x-csrf-token', csrf).send({ text: huge }).expect(413);
    assert.match(api.body.error, /too large/);
  });
});
