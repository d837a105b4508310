// A bulk fix applied within its request — where no background job can run (a panel page without the background
// service) — answered with its results page to the POST itself: F5 on the results sent the apply again (another bulk
// token, a new page of "already applied" rows). Now it is kept as a finished job and answered with a redirect to its
// page (POST-redirect-GET), and the very form sent again — the same preview's key, the same plans — is answered with
// that first job: nothing read, written or paid again, and the page says so. WHM API 1 emulator on loopback, SQLite.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { StoreError } from '../../src/adapters/store/store.js';
import { makeFixture, zoneRecords } from '../helpers/emulators/fixture.js';
import { login, NO_LIMITS, setPasswords, type Session } from './helpers.js';
import { planValues, whmWorld, type WhmWorld } from './shared-zone-world.js';

const DOMAINS = ['res1.example', 'alice.example', 'bob.example'];
const outcomes = (html: string) =>
  Object.fromEntries([...html.matchAll(/data-domain="([^"]+)" data-outcome="([a-z]+)"/g)].map((m) => [m[1], m[2]]));
const applyKeyOf = (html: string) => /name="applyKey" value="([^"]+)"/.exec(html)?.[1];
/**
 * One preview token and no bulk token: the preview takes its token, its apply is free (credited once); anything sent
 * on pays a bulk token and is refused. (Bulk previews have a bucket of their own: app.ts bulkPreviewBucket.)
 */
const ONE_BULK_TOKEN = { ...NO_LIMITS, bulk: { capacity: 0, perMinute: 0 }, bulkPreview: { capacity: 1, perMinute: 0 } };

describe('bulk fix apply without background jobs', () => {
  let w: WhmWorld | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  async function preview(s: Session): Promise<{ form: Record<string, unknown>; plans: string[] }> {
    const page = await s.agent.post('/bulk/fix/preview').type('form').send({ _csrf: s.csrf, check: 'spf', domains: DOMAINS }).expect(200);
    const plans = planValues(page.text);
    const applyKey = applyKeyOf(page.text);
    assert.equal(plans.length, DOMAINS.length);
    assert.ok(applyKey, 'the preview form carries its key');
    return { form: { _csrf: s.csrf, check: 'spf', plan: plans, applyKey }, plans };
  }
  const zones = (world: WhmWorld) => JSON.stringify(world.state.zones);

  test('answers with a redirect to its kept results; the same POST sent again applies nothing and shows them', { timeout: 60_000 }, async () => {
    w = await whmWorld({ app: { backgroundJobs: false, rateLimits: ONE_BULK_TOKEN } });
    const { res1, store } = w;
    const { form } = await preview(res1);
    const first = await res1.agent.post('/bulk/fix/apply').type('form').send(form);
    assert.equal(first.status, 303, 'a redirect, not a page that a reload would send again');
    const id = Number(/^\/bulk\/fix\/jobs\/(\d+)$/.exec(first.headers.location ?? '')?.[1]);
    assert.ok(id > 0, first.headers.location);
    const job = store.getJob(id)!;
    assert.equal(job.status, 'complete', 'applied within the request: finished when answered');
    assert.deepEqual([job.total, job.done, job.failed], [3, 3, 0]);
    const shown = await res1.agent.get(first.headers.location!).expect(200);
    assert.deepEqual(outcomes(shown.text), Object.fromEntries(DOMAINS.map((d) => [d, 'applied'])));
    // F5 on the results: a GET, as often as it likes.
    await res1.agent.get(first.headers.location!).expect(200);

    const zonesAfter = zones(w);
    const changes = store.changesForDomains(DOMAINS, 50).length;
    assert.equal(changes, 3);
    const calls = w.state.calls.length;
    // The very same POST again (a reload of an answer that was the page itself, the button pressed twice): the first
    // job answers — with no bulk token left, a second apply would have been refused 429.
    const again = await res1.agent.post('/bulk/fix/apply').type('form').send(form);
    assert.equal(again.status, 303, again.text);
    assert.equal(again.headers.location, `/bulk/fix/jobs/${id}?resent=1`);
    assert.equal(zones(w), zonesAfter, 'nothing changed in the panel');
    // (The app's own account check may ask for the account list: that reads nothing of a zone.)
    assert.deepEqual(w.state.calls.slice(calls).filter((c) => c !== 'whm:listaccts'), [], 'no zone was even read');
    assert.equal(store.changesForDomains(DOMAINS, 50).length, changes, 'no change recorded');
    assert.equal(store.listJobs('res1').length, 1, 'no second job');
    const earlier = await res1.agent.get(again.headers.location!).expect(200);
    assert.deepEqual(outcomes(earlier.text), Object.fromEntries(DOMAINS.map((d) => [d, 'applied'])), 'the earlier outcome');
    assert.match(earlier.text, /id="fix-job-resent"[^>]*>This bulk fix form was sent again \(a second click or a resubmitted form\); it was applied once — the results below\./);
  });

  test('the same form with other boxes ticked is another apply; a form key that is not ours is refused, nothing changed', { timeout: 60_000 }, async () => {
    w = await whmWorld({ app: { backgroundJobs: false } });
    const { res1, store } = w;
    const { form, plans } = await preview(res1);
    const one = await res1.agent.post('/bulk/fix/apply').type('form').send({ ...form, plan: plans.slice(0, 1) }).expect(303);
    const two = await res1.agent.post('/bulk/fix/apply').type('form').send({ ...form, plan: plans.slice(1) }).expect(303);
    assert.notEqual(one.headers.location, two.headers.location);
    assert.equal(store.changesForDomains(DOMAINS, 50).length, 3);

    const before = zones(w);
    for (const applyKey of ['x', 'a'.repeat(23), '<script>alert(1)</script>']) {
      const bad = await res1.agent.post('/bulk/fix/apply').type('form').send({ ...form, applyKey });
      assert.equal(bad.status, 400);
      assert.match(bad.text, /Preview the bulk fix again; nothing was changed\./);
      assert.doesNotMatch(bad.text, /<script>alert/);
    }
    assert.equal(zones(w), before);
    assert.equal(store.listJobs('res1').length, 2);
  });

  test('the results URL is the account\'s own: another reseller gets 404, and its own apply of the same form is its own', { timeout: 60_000 }, async () => {
    const f = makeFixture();
    f.accounts.push({ user: 'res2', owner: 'res2', ip: '203.0.113.10', main: 'res2.example', addon: [], parked: [], sub: [] });
    f.zones['res2.example'] = zoneRecords('res2.example', f.dkim.publicKey);
    w = await whmWorld({ fixture: f, app: { backgroundJobs: false } });
    const { res1, store, app } = w;
    await setPasswords(store, ['res2']);
    const res2 = await login(app, 'res2');
    const { form } = await preview(res1);
    const first = await res1.agent.post('/bulk/fix/apply').type('form').send(form).expect(303);
    await res2.agent.get(first.headers.location!).expect(404);
    // The other reseller sending res1's form (its key and plans) finds no job of its own: nothing of res1's is shown.
    const theirs = await res2.agent.post('/bulk/fix/apply').type('form').send({ ...form, _csrf: res2.csrf });
    assert.notEqual(theirs.headers.location, first.headers.location);
    assert.notEqual(theirs.headers.location, `${first.headers.location}?resent=1`);
  });
});

describe('bulk fix apply without background jobs, the database failing after the writes', () => {
  test('the outcome that could not be kept is shown within the request all the same', { timeout: 60_000 }, async (t) => {
    const w = await whmWorld({ app: { backgroundJobs: false } });
    t.after(() => w.close());
    const page = await w.res1.agent.post('/bulk/fix/preview').type('form').send({ _csrf: w.res1.csrf, check: 'spf', domains: DOMAINS }).expect(200);
    w.store.createFinishedJob = () => {
      throw new StoreError('locked', 'the database is busy');
    };
    t.mock.method(process.stderr, 'write', () => true);
    const res = await w.res1.agent.post('/bulk/fix/apply').type('form').send({ _csrf: w.res1.csrf, check: 'spf', plan: planValues(page.text), applyKey: applyKeyOf(page.text) });
    assert.equal(res.status, 200);
    assert.deepEqual(outcomes(res.text), Object.fromEntries(DOMAINS.map((d) => [d, 'applied'])));
    assert.equal(w.store.changesForDomains(DOMAINS, 50).length, 3, 'the changes are in the history');
  });
});

describe('bulk fix apply as a background job', () => {
  let w: WhmWorld | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  test('the same form sent again after its job finished is answered with that job, not a second one', { timeout: 60_000 }, async () => {
    w = await whmWorld();
    const { res1, store } = w;
    const page = await res1.agent.post('/bulk/fix/preview').type('form').send({ _csrf: res1.csrf, check: 'spf', domains: DOMAINS }).expect(200);
    const form = { _csrf: res1.csrf, check: 'spf', plan: planValues(page.text), applyKey: applyKeyOf(page.text) };
    const first = await res1.agent.post('/bulk/fix/apply').type('form').send(form).expect(303);
    const again = await res1.agent.post('/bulk/fix/apply').type('form').send(form).expect(303);
    assert.equal(again.headers.location, `${first.headers.location}?resent=1`);
    assert.equal(store.listJobs('res1').length, 1);
  });
});
