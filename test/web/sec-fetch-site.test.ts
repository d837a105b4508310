// A page load another site started (Sec-Fetch-Site: cross-site or same-site) spends no audit token and sends no DNS
// query: the fix preview and the never-audited domain page say so and link the same address; /history lists changes
// without checking them again. The session cookie goes along with a top-level link (SameSite=Lax), so before this a
// page elsewhere could use up the user's allowance of checks with a few links (QA, left in the last notes).
// A browser that sends no Fetch Metadata, or says same-origin / none (typed, bookmarked), gets the page as before.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AppDeps } from '../../src/web/app.js';
import { changeWorld, postFix, previewFix, type ChangeWorld } from './change-world.js';
import { login } from './helpers.js';

let w: ChangeWorld;
before(async () => {
  w = await changeWorld();
});
after(() => w.close());
const oneToken = { audit: { capacity: 1, perMinute: 0 }, bulk: { capacity: 100, perMinute: 0 }, login: { capacity: 100, perMinute: 0 } };
const app = (extra: Partial<AppDeps> = {}) => w.app(extra);

describe('GETs that cost a check, opened from another site', () => {
  test('fix preview: refused without a token spent; the link offered is the same preview; same-origin previews', async () => {
    const alice = await login(app({ rateLimits: oneToken }), 'alice');
    w.publish();
    for (const site of ['cross-site', 'same-site']) {
      const r = await alice.agent.get('/domains/bakery.example/fix?check=spf').set('Sec-Fetch-Site', site);
      assert.equal(r.status, 409, site);
      assert.match(r.text, /opened from a link on another site, so nothing was checked/);
      assert.match(r.text, /<a href="\/domains\/bakery\.example\/fix\?check=spf">Preview the spf fix for bakery\.example<\/a>/);
      assert.doesNotMatch(r.text, /name="planHash"/, 'no plan shown');
    }
    // The one token is still there: the preview from this site (the link above, followed) runs.
    const here = await alice.agent.get('/domains/bakery.example/fix?check=spf').set('Sec-Fetch-Site', 'same-origin');
    assert.equal(here.status, 200, here.text);
    assert.match(here.text, /name="planHash"/);
    // And now it is spent.
    assert.equal((await alice.agent.get('/domains/bakery.example/fix?check=spf')).status, 429);
  });

  test('the JSON API: a browser sent to a preview by another site gets a 409 and keeps its token', async () => {
    const alice = await login(app({ rateLimits: oneToken }), 'alice');
    w.publish();
    const r = await alice.agent.get('/api/domains/bakery.example/fix?check=spf').set('Sec-Fetch-Site', 'cross-site');
    assert.equal(r.status, 409);
    assert.match((r.body as { error: string }).error, /opened from a link on another site, so nothing was checked/);
    // A script (no Fetch Metadata) still previews, with the token kept above.
    const script = await alice.agent.get('/api/domains/bakery.example/fix?check=spf');
    assert.equal(script.status, 200, script.text);
    assert.equal((await alice.agent.get('/api/domains/bakery.example/fix?check=spf')).status, 429);
  });

  test('no Fetch Metadata (an older browser) or "none" (typed, a bookmark): previewed as before', async () => {
    const alice = await login(app(), 'alice');
    w.publish();
    assert.equal((await alice.agent.get('/domains/florist.example/fix?check=lockdown')).status, 200);
    assert.equal((await alice.agent.get('/domains/florist.example/fix?check=lockdown').set('Sec-Fetch-Site', 'none')).status, 200);
  });

  test('a domain page never audited: not audited for another site; from this site it is', async () => {
    const bob = await login(app({ rateLimits: oneToken }), 'bob');
    w.publish();
    assert.equal(w.store.latestAudit('plumber.example'), null, 'no test before this one audits plumber.example');
    const r = await bob.agent.get('/domains/plumber.example').set('Sec-Fetch-Site', 'cross-site');
    assert.equal(r.status, 409);
    assert.match(r.text, /The page of plumber\.example, not audited yet, was opened from a link on another site/);
    assert.match(r.text, /<a href="\/domains\/plumber\.example">Audit plumber\.example and show it<\/a>/);
    assert.equal(w.store.latestAudit('plumber.example'), null, 'nothing audited');
    const here = await bob.agent.get('/domains/plumber.example').set('Sec-Fetch-Site', 'same-origin');
    assert.equal(here.status, 200);
    assert.ok(w.store.latestAudit('plumber.example'), 'audited from this site');
  });

  test('/history from another site lists changes without checking them again; from this site it checks', async () => {
    const base = app();
    const alice = await login(base, 'alice');
    w.publish();
    const plan = await previewFix(alice, 'florist.example', 'dmarc');
    assert.ok(plan.changes.length > 0);
    const out = await postFix(alice, 'florist.example', 'dmarc', plan.planHash);
    assert.equal(out.verified, 'propagating');
    w.publish(); // served now: a check would turn it "yes"
    // Two minutes later: the change is due for a check on view.
    const later = await login(app({ now: () => new Date(Date.now() + 120_000) }), 'alice');
    const foreign = await later.agent.get('/history').set('Sec-Fetch-Site', 'cross-site').expect(200);
    assert.match(foreign.text, new RegExp(`id="change-${out.changeId}"[\\s\\S]*?\\(verified: propagating\\)`));
    assert.equal(w.store.getChange(out.changeId)!.verified, 'propagating', 'not checked again');
    const here = await later.agent.get('/history').set('Sec-Fetch-Site', 'same-origin').expect(200);
    assert.match(here.text, new RegExp(`id="change-${out.changeId}"[\\s\\S]*?\\(verified: yes\\)`));
    assert.equal(w.store.getChange(out.changeId)!.verified, 'yes');
  });
});
