// A bulk fix is one action: the preview pays a token (of the bulk previews' bucket), and applying the plans that
// preview showed (the same user, the same check and plan hashes, within half an hour) pays none — QA found "Audit
// all", preview, apply, preview again refused (429) within a minute. Plans not previewed still pay a bulk token (each
// costs a panel read and DNS before its hash is checked). Demo panel, loopback DNS, real SQLite.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { demoWorld, login, type TestWorld } from './helpers.js';

let w: TestWorld;
before(async () => {
  // One preview token and no bulk token: bulk previews have a bucket of their own (app.ts bulkPreviewBucket), so the
  // applies below that are not credited meet the empty bulk bucket.
  w = await demoWorld({ app: { rateLimits: { audit: { capacity: 100, perMinute: 0 }, bulk: { capacity: 0, perMinute: 0 }, bulkPreview: { capacity: 1, perMinute: 0 }, login: { capacity: 100, perMinute: 0 } } } });
});
after(async () => w.close());

test('applying the plans this user just previewed costs no second token; other plans do', async () => {
  const admin = await login(w.app, 'root');
  const preview = await admin.agent.post('/bulk/fix/preview').type('form').send({ _csrf: admin.csrf, check: 'spf', domains: ['bakery.example', 'florist.example'] });
  assert.equal(preview.status, 200);
  const plans = [...preview.text.matchAll(/name="plan" value="([^"]+)"/g)].map((m) => m[1].replace(/&#124;/g, '|'));
  assert.equal(plans.length, 2, 'two applicable plans');
  const applied = await admin.agent.post('/bulk/fix/apply').type('form').redirects(1).send({ _csrf: admin.csrf, check: 'spf', plan: plans });
  assert.equal(applied.status, 200, applied.text);
  assert.equal(w.store.changesForDomains(['bakery.example', 'florist.example'], 10).length, 2);
  // Review: the credit is used once — the same apply sent again pays (and the bucket is empty).
  const resent = await admin.agent.post('/bulk/fix/apply').type('form').send({ _csrf: admin.csrf, check: 'spf', plan: plans });
  assert.equal(resent.status, 429);
  // The same plans for another check, or a plan never previewed: a new action, and the bucket is empty.
  const otherCheck = await admin.agent.post('/bulk/fix/apply').type('form').send({ _csrf: admin.csrf, check: 'dmarc', plan: plans });
  assert.equal(otherCheck.status, 429);
  const forged = await admin.agent.post('/bulk/fix/apply').type('form').send({ _csrf: admin.csrf, check: 'spf', plan: [`dentist.example|sha256:${'c'.repeat(64)}`] });
  assert.equal(forged.status, 429);
});
