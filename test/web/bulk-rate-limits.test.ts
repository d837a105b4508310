// The bulk rate limits on a reseller's ordinary walk through /bulk (end-to-end QA): "Audit all", then SPF, DKIM and
// DMARC previewed and applied, stopped at the DMARC preview with a 429 that said "Wait a minute", linked to /domains
// and lost the ticked domains. Now bulk fix previews (read-only, at most 200 domains) have a bucket of their own
// (app.ts bulkPreviewBucket) and the walk through all four checks fits with the default limits; a refusal says how many
// seconds until the next one is allowed (from the limiter's bucket; also the Retry-After header), links back to /bulk
// and offers the same preview again (the ticked domains kept). Demo panel, loopback DNS, a clock the test moves.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RateLimiter } from '../../src/web/ratelimit.js';
import { DEMO_SCOPE, demoWorld, login, NO_LIMITS, type TestWorld } from './helpers.js';

const START = Date.parse('2026-11-27T12:00:00Z');

/** The `domain|planHash` values of a bulk preview page's ticked boxes. */
const planValues = (html: string) => [...html.matchAll(/name="plan" value="([^"]+)"/g)].map((m) => unescape(m[1]));
const applyKeyOf = (html: string) => /name="applyKey" value="([^"]+)"/.exec(html)?.[1];

function unescape(v: string): string {
  return v.replace(/&#124;/g, '|').replace(/&#34;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** The error page's "send it again" form: its action and hidden fields (in order), or null. */
function resendForm(html: string): { action: string; fields: [string, string][]; label: string } | null {
  const m = /<form method="post" action="([^"]*)" id="error-resend">([\s\S]*?)<\/form>/.exec(html);
  if (!m) return null;
  const fields = [...m[2].matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((f) => [unescape(f[1]), unescape(f[2])] as [string, string]);
  const label = /<button[^>]*>([^<]*)<\/button>/.exec(m[2])?.[1] ?? '';
  return { action: unescape(m[1]), fields, label };
}

/** The error page's links before "Back to your domains". */
const backLinks = (html: string) => [...(/<ul class="plain error-links"[^>]*>([\s\S]*?)<\/ul>/.exec(html)?.[1] ?? '').matchAll(/<a href="([^"]*)">([^<]*)<\/a>/g)].map((m) => [unescape(m[1]), m[2]]);

test('RateLimiter.retryAfterMs: how long until take() succeeds, from the bucket, taking nothing', () => {
  let now = 1_000_000;
  const limiter = new RateLimiter({ capacity: 3, perMinute: 1 }, () => now);
  assert.equal(limiter.retryAfterMs('u'), 0, 'a new bucket is full');
  for (let i = 0; i < 3; i++) assert.equal(limiter.take('u'), true);
  assert.equal(limiter.retryAfterMs('u'), 60_000);
  assert.equal(limiter.retryAfterMs('u'), 60_000, 'asking takes nothing');
  now += 15_000;
  assert.equal(limiter.retryAfterMs('u'), 45_000);
  assert.equal(limiter.take('u'), false);
  assert.equal(limiter.retryAfterMs('u'), 45_000, 'a refused take costs nothing either');
  now += 45_000;
  assert.equal(limiter.retryAfterMs('u'), 0);
  assert.equal(limiter.take('u'), true);
  assert.equal(limiter.retryAfterMs('other'), 0);
  const never = new RateLimiter({ capacity: 1, perMinute: 0 }, () => now);
  never.take('u');
  assert.equal(never.retryAfterMs('u'), Infinity);
});

describe('the default bulk limits', () => {
  let w: TestWorld;
  const clock = { t: START };
  before(async () => {
    // rateLimits {}: every bucket at its default. The clock stands still unless the test moves it: nothing refills.
    w = await demoWorld({ app: { rateLimits: {}, now: () => new Date(clock.t) } });
  });
  after(async () => w.close());

  test('a reseller audits all, then previews and applies SPF, DKIM, DMARC and lockdown within the same minute', { timeout: 120_000 }, async () => {
    const rita = await login(w.app, 'rita');
    const audit = await rita.agent.post('/bulk/audit').type('form').send({ _csrf: rita.csrf });
    assert.equal(audit.status, 303, audit.text);
    await w.app.runner.wait(w.store.listJobs('rita', 1)[0].id);
    let applied = 0;
    for (const check of ['spf', 'dkim', 'dmarc', 'lockdown']) {
      const preview = await rita.agent.post('/bulk/fix/preview').type('form').send({ _csrf: rita.csrf, check, domains: DEMO_SCOPE.rita });
      assert.equal(preview.status, 200, `${check} preview: ${preview.text.slice(0, 400)}`);
      const plans = planValues(preview.text);
      if (plans.length === 0) continue;
      const apply = await rita.agent.post('/bulk/fix/apply').type('form').send({ _csrf: rita.csrf, check, plan: plans, applyKey: applyKeyOf(preview.text) });
      assert.equal(apply.status, 303, `${check} apply: ${apply.text.slice(0, 400)}`);
      const id = Number(/\/bulk\/fix\/jobs\/(\d+)/.exec(apply.headers.location ?? '')?.[1]);
      await w.app.runner.wait(id);
      assert.equal(w.store.getJob(id)?.status, 'complete');
      applied++;
    }
    assert.ok(applied >= 3, `SPF, DKIM and DMARC had something to apply on rita's domains (applied ${applied})`);

    // Two previews to spare (6 at once), then the seventh in the same instant waits for the refill: 2 a minute.
    const send = () => rita.agent.post('/bulk/fix/preview').type('form').send({ _csrf: rita.csrf, check: 'spf', domains: DEMO_SCOPE.rita });
    assert.equal((await send()).status, 200);
    assert.equal((await send()).status, 200);
    const refused = await send();
    assert.equal(refused.status, 429);
    assert.equal(refused.headers['retry-after'], '30');
    assert.match(refused.text, /Too many bulk fix previews in a short time\. The next one is allowed in 30 seconds\./);

    // The bulk bucket paid only for the audit: two more bulk audits, then a 429 that says when.
    for (let i = 0; i < 2; i++) {
      assert.equal((await rita.agent.post('/bulk/audit').type('form').send({ _csrf: rita.csrf })).status, 303);
      await w.app.runner.wait(w.store.listJobs('rita', 1)[0].id);
    }
    const third = await rita.agent.post('/bulk/audit').type('form').send({ _csrf: rita.csrf });
    assert.equal(third.status, 429);
    assert.equal(third.headers['retry-after'], '60');
    assert.match(third.text, /Too many bulk actions in a short time\. The next one is allowed in 60 seconds\./);
  });
});

describe('a rate-limited bulk action says when, links back to /bulk and keeps the selection', () => {
  let w: TestWorld;
  const clock = { t: START };
  before(async () => {
    w = await demoWorld({
      app: {
        rateLimits: { ...NO_LIMITS, bulk: { capacity: 1, perMinute: 1 }, bulkPreview: { capacity: 1, perMinute: 2 } },
        now: () => new Date(clock.t),
      },
    });
  });
  after(async () => w.close());

  test('a refused preview: seconds to wait (page and Retry-After), a link to /bulk, and the same preview one click away', { timeout: 60_000 }, async () => {
    const root = await login(w.app, 'root');
    const hostile = 'x"><script>alert(1)</script>.example';
    // Sent as ticked (a name twice in another spelling, one that is no domain): the label counts the domains the
    // preview covers, the form sends every name back as it came (review).
    const ticked = ['bakery.example', 'florist.example', 'BAKERY.example.', hostile];
    const send = (fields: Record<string, unknown>) => root.agent.post('/bulk/fix/preview').type('form').send({ _csrf: root.csrf, ...fields });
    assert.equal((await send({ check: 'spf', domains: ticked })).status, 200);

    const refused = await send({ check: 'spf', domains: ticked });
    assert.equal(refused.status, 429);
    assert.equal(refused.headers['retry-after'], '30');
    assert.match(refused.text, /Too many bulk fix previews in a short time\. The next one is allowed in 30 seconds\./);
    assert.deepEqual(backLinks(refused.text), [['/bulk', 'Back to all customer domains']]);
    assert.match(refused.text, /<a href="\/domains">Back to your domains<\/a>/, 'the way home stays');
    const form = resendForm(refused.text);
    assert.ok(form, 'the page offers the preview again');
    assert.equal(form.action, '/bulk/fix/preview');
    assert.equal(form.label, 'Preview the SPF fix again for these 2 domains');
    assert.deepEqual(form.fields, [['_csrf', root.csrf], ['check', 'spf'], ...ticked.map((d) => ['domains', d])], 'the check and every ticked name, in order');
    assert.doesNotMatch(refused.text, /<script>alert/, 'a ticked value is escaped in the form');

    // Ten seconds on, the wait is twenty.
    clock.t += 10_000;
    const later = await send({ check: 'spf', domains: ticked });
    assert.equal(later.status, 429);
    assert.equal(later.headers['retry-after'], '20');
    assert.match(later.text, /The next one is allowed in 20 seconds\./);

    // Once it is over, the page's form previews the same domains.
    clock.t += 20_000;
    const body = new URLSearchParams(form.fields).toString();
    const again = await root.agent.post(form.action).type('form').send(body);
    assert.equal(again.status, 200, again.text.slice(0, 400));
    assert.match(again.text, /Bulk fix: SPF/);
    assert.match(again.text, /bakery\.example/);
    assert.match(again.text, /florist\.example/);
  });

  test('a refused bulk audit links back to /bulk with its filter; the API answers with Retry-After and the seconds', { timeout: 60_000 }, async () => {
    const rita = await login(w.app, 'rita');
    const first = await rita.agent.post('/bulk/audit').type('form').send({ _csrf: rita.csrf, q: 'example' });
    assert.equal(first.status, 303);
    await w.app.runner.wait(w.store.listJobs('rita', 1)[0].id);
    const refused = await rita.agent.post('/bulk/audit').type('form').send({ _csrf: rita.csrf, q: 'example' });
    assert.equal(refused.status, 429);
    assert.equal(refused.headers['retry-after'], '60');
    assert.match(refused.text, /Too many bulk actions in a short time\. The next one is allowed in 60 seconds\./);
    assert.deepEqual(backLinks(refused.text), [['/bulk?q=example', 'Back to all customer domains']]);
    assert.equal(resendForm(refused.text), null, 'nothing to send again: the audit is one click on /bulk');

    const api = await rita.agent.post('/api/bulk').set('x-csrf-token', rita.csrf).send({});
    assert.equal(api.status, 429);
    assert.equal(api.headers['retry-after'], '60');
    assert.deepEqual(api.body, { error: 'too many bulk actions; try again in 60 s' });
  });

  test('an apply that pays and finds the bulk bucket empty offers a new preview of its domains (whose apply is free)', { timeout: 60_000 }, async () => {
    const rita = await login(w.app, 'rita');
    // rita's one bulk token went on the audit above: a plan never previewed pays, and is refused.
    const plan = [`dentist.example|sha256:${'c'.repeat(64)}`, `plumber.example|sha256:${'d'.repeat(64)}`];
    const refused = await rita.agent.post('/bulk/fix/apply').type('form').send({ _csrf: rita.csrf, check: 'dmarc', plan });
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers['retry-after']) > 0);
    assert.deepEqual(backLinks(refused.text), [['/bulk', 'Back to all customer domains']]);
    const form = resendForm(refused.text);
    assert.equal(form?.action, '/bulk/fix/preview');
    assert.equal(form?.label, 'Preview the DMARC fix again for these 2 domains');
    assert.deepEqual(form?.fields.slice(1), [['check', 'dmarc'], ['domains', 'dentist.example'], ['domains', 'plumber.example']]);
  });

  test('an apply refused for a plan never previewed keeps the credit of the plans it did preview (review)', { timeout: 60_000 }, async () => {
    const rita = await login(w.app, 'rita');
    clock.t += 120_000; // a preview token again; the bulk bucket refills too: spend it first
    const audit = await rita.agent.post('/bulk/audit').type('form').send({ _csrf: rita.csrf });
    assert.equal(audit.status, 303);
    await w.app.runner.wait(w.store.listJobs('rita', 1)[0].id);
    const preview = await rita.agent.post('/bulk/fix/preview').type('form').send({ _csrf: rita.csrf, check: 'spf', domains: ['dentist.example'] });
    assert.equal(preview.status, 200);
    const plans = planValues(preview.text);
    assert.equal(plans.length, 1, preview.text.slice(0, 500));
    // The previewed plan and one never previewed: pays, the bucket is empty → refused.
    const mixed = await rita.agent.post('/bulk/fix/apply').type('form').send({ _csrf: rita.csrf, check: 'spf', plan: [...plans, `plumber.example|sha256:${'e'.repeat(64)}`] });
    assert.equal(mixed.status, 429);
    // The previewed plan alone is still free: applied, with the bucket still empty.
    const alone = await rita.agent.post('/bulk/fix/apply').type('form').send({ _csrf: rita.csrf, check: 'spf', plan: plans, applyKey: applyKeyOf(preview.text) });
    assert.notEqual(alone.status, 429, alone.text.slice(0, 400));
  });
});
