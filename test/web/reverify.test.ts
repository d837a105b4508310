// "verified: propagating" is checked again: "Verify again" (POST /changes/<id>/verify with CSRF, POST
// /api/changes/<id>/verify) and, on viewing /history or GET /api/changes, changes still propagating whose last check is
// over a minute old. Only applied changes in the user's scope; an audit token each, like a preview.
// The demo panel (a fresh copy) served by a loopback DNS server that does NOT follow the panel's writes: it serves
// what the test publishes (a slow secondary), so a fix is "propagating" until the test publishes the new zone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AppDeps } from '../../src/web/app.js';
import { changeWorld, postFix, previewFix, type ChangeWorld } from './change-world.js';
import { login, NO_LIMITS, type Session } from './helpers.js';

let w: ChangeWorld;
before(async () => {
  w = await changeWorld();
});
after(() => w.close());
const app = (extra: Partial<AppDeps> = {}) => w.app(extra);
/** An app whose clock is two minutes ahead: every stored change looks over a minute old. */
const later = (extra: Partial<AppDeps> = {}) => app({ now: () => new Date(Date.now() + 120_000), ...extra });

/** Apply a fix through the API while the nameservers still serve the old zone: a propagating change. */
async function applyPropagating(s: Session, domain: string, check: string): Promise<number> {
  w.publish();
  const plan = await previewFix(s, domain, check);
  assert.ok(plan.changes.length > 0, `${domain} ${check} has something to change`);
  const out = await postFix(s, domain, check, plan.planHash);
  assert.equal(out.verified, 'propagating');
  assert.equal(w.store.getChange(out.changeId)!.verified, 'propagating');
  return out.changeId;
}

describe('"Verify again"', () => {
  test('on the fix result and the history; checks now and stores the answer; CSRF and scope', async () => {
    const a = app();
    const alice = await login(a, 'alice');
    w.publish();
    const preview = await alice.agent.get('/domains/bakery.example/fix?check=spf').expect(200);
    const planHash = /name="planHash" value="([^"]+)"/.exec(preview.text)![1];
    const result = await alice.agent.post('/domains/bakery.example/fix').type('form').send({ _csrf: alice.csrf, check: 'spf', planHash }).expect(200);
    assert.match(result.text, /data-verified="propagating"/);
    const id = Number(/action="\/changes\/(\d+)\/verify"/.exec(result.text)?.[1]);
    assert.ok(id > 0, 'the result page offers "Verify again"');
    const history = await alice.agent.get('/history').expect(200);
    assert.match(history.text, new RegExp(`<form method="post" action="/changes/${id}/verify"`));
    assert.match(history.text, new RegExp(`id="change-${id}"[\\s\\S]*?\\(verified: propagating\\)`));

    // Without the form's token: refused, nothing checked.
    assert.equal((await alice.agent.post(`/changes/${id}/verify`).type('form').send({})).status, 403);
    // Still not served: still propagating.
    await alice.agent.post(`/changes/${id}/verify`).type('form').send({ _csrf: alice.csrf }).expect(303);
    assert.equal(w.store.getChange(id)!.verified, 'propagating');

    // Another customer's change: the same 404 as no change at all, on the page and the API.
    const bob = await login(a, 'bob');
    assert.equal((await bob.agent.post(`/changes/${id}/verify`).type('form').send({ _csrf: bob.csrf })).status, 404);
    assert.equal((await bob.agent.post(`/api/changes/${id}/verify`).set('x-csrf-token', bob.csrf)).status, 404);
    assert.equal((await bob.agent.post('/changes/999999/verify').type('form').send({ _csrf: bob.csrf })).status, 404);

    w.publish();
    const done = await alice.agent.post(`/changes/${id}/verify`).type('form').send({ _csrf: alice.csrf }).expect(303);
    assert.equal(done.headers.location, `/history?domain=bakery.example#change-${id}`);
    assert.equal(w.store.getChange(id)!.verified, 'yes');
    const after = await alice.agent.get('/history').expect(200);
    assert.match(after.text, new RegExp(`id="change-${id}"[\\s\\S]*?\\(verified: yes\\)`));
    assert.doesNotMatch(after.text, new RegExp(`action="/changes/${id}/verify"`), 'nothing left to verify');
    const listed = ((await alice.agent.get('/api/changes').expect(200)).body as { id: number; verified: string }[]).find((c) => c.id === id)!;
    assert.equal(listed.verified, 'yes');
  });

  test('POST /api/changes/<id>/verify answers with the change as stored now', async () => {
    const a = app();
    const alice = await login(a, 'alice');
    const id = await applyPropagating(alice, 'florist.example', 'lockdown');
    const still = await alice.agent.post(`/api/changes/${id}/verify`).set('x-csrf-token', alice.csrf).expect(200);
    assert.equal((still.body as { verified: string }).verified, 'propagating');
    w.publish();
    const now = await alice.agent.post(`/api/changes/${id}/verify`).set('x-csrf-token', alice.csrf).expect(200);
    assert.equal((now.body as { id: number; verified: string }).id, id);
    assert.equal((now.body as { verified: string }).verified, 'yes');
    assert.equal(w.store.getChange(id)!.verified, 'yes');
    assert.equal((await alice.agent.post(`/api/changes/${id}/verify`)).status, 403, 'a cookie session needs the CSRF token');
  });

  test('only applied changes that were not undone; an audit token each', async () => {
    const alice = await login(app(), 'alice');
    const id = await applyPropagating(alice, 'florist.example', 'dmarc');
    const undo = (await alice.agent.post(`/api/changes/${id}/undo`).set('x-csrf-token', alice.csrf).expect(200)).body as { changeId: number };
    const refused = await alice.agent.post(`/api/changes/${id}/verify`).set('x-csrf-token', alice.csrf);
    assert.equal(refused.status, 409);
    assert.match((refused.body as { error: string }).error, /not applied|undone/);
    const page = await alice.agent.post(`/changes/${id}/verify`).type('form').send({ _csrf: alice.csrf });
    assert.equal(page.status, 409);
    // The undo itself is an applied change: it can be verified (once the nameservers serve it).
    w.publish();
    await alice.agent.post(`/api/changes/${undo.changeId}/verify`).set('x-csrf-token', alice.csrf).expect(200);
    assert.equal(w.store.getChange(undo.changeId)!.verified, 'yes');

    const limited = app({ rateLimits: { ...NO_LIMITS, audit: { capacity: 0, perMinute: 0 } } });
    const id2 = await applyPropagating(await login(app(), 'bob'), 'dentist.example', 'spf');
    const bob = await login(limited, 'bob');
    const r = await bob.agent.post(`/changes/${id2}/verify`).type('form').send({ _csrf: bob.csrf });
    assert.equal(r.status, 429);
    assert.match(r.text, /Too many audits/);
    assert.equal((await bob.agent.post(`/api/changes/${id2}/verify`).set('x-csrf-token', bob.csrf)).status, 429);
  });
});

describe('checked again on view', () => {
  test('GET /api/changes and /history check changes still propagating once their last check is over a minute old', async () => {
    const bob = await login(app(), 'bob');
    const id = await applyPropagating(bob, 'dentist.example', 'dmarc');
    w.publish();
    // Just applied: the list shows it as stored, no new check yet.
    const fresh = ((await bob.agent.get('/api/changes').expect(200)).body as { id: number; verified: string }[]).find((c) => c.id === id)!;
    assert.equal(fresh.verified, 'propagating');
    assert.equal(w.store.getChange(id)!.verified, 'propagating');

    // A minute on: viewing the list checks it again.
    const bobLater = await login(later(), 'bob');
    const listed = ((await bobLater.agent.get('/api/changes').expect(200)).body as { id: number; verified: string }[]).find((c) => c.id === id)!;
    assert.equal(listed.verified, 'yes');
    assert.equal(w.store.getChange(id)!.verified, 'yes');

    // The history page does the same.
    const id2 = await applyPropagating(bob, 'plumber.example', 'dkim');
    w.publish();
    const page = await bobLater.agent.get('/history').expect(200);
    assert.match(page.text, new RegExp(`id="change-${id2}"[\\s\\S]*?\\(verified: yes\\)`));
    assert.equal(w.store.getChange(id2)!.verified, 'yes');
  });

  test('not while the nameservers still serve the old records, not beyond the user\'s audit tokens, not outside the scope', async () => {
    const alice = await login(app(), 'alice');
    const id = await applyPropagating(alice, 'florist.example', 'spf');
    // Still old: checked, still propagating (and the check is stamped, so the next view waits another minute).
    const aliceLater = await login(later(), 'alice');
    await aliceLater.agent.get('/history').expect(200);
    assert.equal(w.store.getChange(id)!.verified, 'propagating');

    w.publish();
    // No audit tokens left: the page is served, the change waits.
    const broke = await login(later({ rateLimits: { ...NO_LIMITS, audit: { capacity: 0, perMinute: 0 } } }), 'alice');
    const page = await broke.agent.get('/history').expect(200);
    assert.match(page.text, new RegExp(`id="change-${id}"[\\s\\S]*?\\(verified: propagating\\)`));
    assert.equal(w.store.getChange(id)!.verified, 'propagating');

    // Someone who cannot see the change does not check it.
    const bobLater = await login(later({ now: () => new Date(Date.now() + 600_000) }), 'bob');
    await bobLater.agent.get('/history').expect(200);
    await bobLater.agent.get('/api/changes').expect(200);
    assert.equal(w.store.getChange(id)!.verified, 'propagating');

    // Its owner, a minute on, with tokens: checked.
    const aliceLater2 = await login(later({ now: () => new Date(Date.now() + 600_000) }), 'alice');
    await aliceLater2.agent.get('/history').expect(200);
    assert.equal(w.store.getChange(id)!.verified, 'yes');
  });
});
