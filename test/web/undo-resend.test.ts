// QA of the undo and "Verify again" pages (task U):
// - D1: the undo's result is the page of its POST; F5 there sent the undo again and answered "Refused: Change N was
//   already undone by change M." for an undo that worked. The same user's undo sent again is now answered with that
//   undo — "already undone as change #M … not undone a second time", the records it restored, Verify again — as a fix
//   sent again is; another user's, or one undone since, is still refused. The API's helper (undoOnce) answers alike.
// - D2: "Verify again" on a change replaced meanwhile ended on an error page whose only link was "Back to your
//   domains"; it now links the domain's history at that change and the change that replaced it.
// The demo panel (a fresh copy) served by a loopback DNS server; SQLite in a temp directory.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Panel } from '../../src/core/panel.js';
import { outcomeJson, undoOnce } from '../../src/web/services.js';
import { applyFix as fix, changeWorld, outcomeOf, type ChangeWorld } from './change-world.js';
import { login } from './helpers.js';

let w: ChangeWorld;
before(async () => {
  w = await changeWorld();
});
after(() => w.close());

/** A fix applied through the API, the nameservers publishing the panel's zones first. */
const applyFix = (...args: Parameters<typeof fix>) => {
  w.publish();
  return fix(...args);
};

const zone = (domain: string) => readFileSync(join(w.panelDir, 'zones', `${domain}.db`), 'utf8');
const words = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();

test('D1: the undo sent again by its user (F5 on its result page) is answered with that undo, not "Refused"', async () => {
  const web = w.app();
  const alice = await login(web, 'alice');
  const id = await applyFix(alice, 'florist.example', 'dmarc');
  const first = await alice.agent.post(`/changes/${id}/undo`).type('form').send({ _csrf: alice.csrf }).expect(200);
  assert.match(outcomeOf(first.text), /undone/);
  const undoId = w.store.getChange(id)!.undoneBy!;
  assert.ok(undoId > id);
  const zoneAfter = zone('florist.example');
  const count = w.store.changesForDomain('florist.example').length;

  // F5: the browser sends the same POST again.
  const again = await alice.agent.post(`/changes/${id}/undo`).type('form').send({ _csrf: alice.csrf });
  assert.equal(again.status, 200, again.text);
  const outcome = outcomeOf(again.text);
  assert.doesNotMatch(again.text, /Refused/);
  assert.match(outcome, new RegExp(`data-already="applied" data-change="${undoId}"`));
  assert.match(words(outcome), new RegExp(`Change ${id} was already undone as change #${undoId}\\. The undo was sent again \\(a second click, or the page reloaded\\); it was not undone a second time\\.`));
  // The records that undo restored (the DMARC record back at dreamhost), and where to find it.
  assert.match(again.text, new RegExp(`The records change #${undoId} restored`));
  assert.match(again.text, /<code class="rec add">.*rua=mailto:dmarc-reports@dreamhost\.com/);
  assert.match(again.text, new RegExp(`href="/history\\?domain=florist\\.example&amp;before=${undoId + 1}#change-${undoId}"`));
  // Verify again is offered as on the first answer, unless that undo is verified already.
  const verified = w.store.getChange(undoId)!.verified;
  if (verified === 'yes') assert.doesNotMatch(again.text, /id="verify"/);
  else assert.match(again.text, new RegExp(`action="/changes/${undoId}/verify"`));
  // Nothing written or recorded a second time.
  assert.equal(zone('florist.example'), zoneAfter);
  assert.equal(w.store.changesForDomain('florist.example').length, count);
});

test('D1: another user\'s undo sent again, or an undo undone since, is still refused', async () => {
  const web = w.app();
  const alice = await login(web, 'alice');
  const root = await login(web, 'root');
  const id = await applyFix(alice, 'florist.example', 'dmarc');
  await alice.agent.post(`/changes/${id}/undo`).type('form').send({ _csrf: alice.csrf }).expect(200);
  const undoId = w.store.getChange(id)!.undoneBy!;
  // root did not make that undo: told who did, as before.
  const theirs = await root.agent.post(`/changes/${id}/undo`).type('form').send({ _csrf: root.csrf });
  assert.equal(theirs.status, 409);
  assert.match(words(outcomeOf(theirs.text)), new RegExp(`Refused: Change ${id} was already undone by change ${undoId}\\.`));
  // The undo itself undone (the fix's records back): alice's undo of the fix again is refused — the zone is not as her
  // undo left it, so it is not "already undone".
  await alice.agent.post(`/changes/${undoId}/undo`).type('form').send({ _csrf: alice.csrf }).expect(200);
  assert.ok(w.store.getChange(undoId)!.undoneBy);
  const stale = await alice.agent.post(`/changes/${id}/undo`).type('form').send({ _csrf: alice.csrf });
  assert.equal(stale.status, 409);
  assert.match(outcomeOf(stale.text), /Refused/);
  assert.doesNotMatch(stale.text, /data-already/);
});

test('D1: the same undo sent twice at once (no script): the second answers with the undo being written', async () => {
  // The panel's zone write held until released: the first undo waits there, holding the domain's lock.
  let release: () => void = () => {};
  let arrived: () => void = () => {};
  let hold = false;
  const atWrite = new Promise<void>((r) => (arrived = r));
  const gated = new Proxy(w.panel as Panel, {
    get: (t, prop) => {
      const v = (t as unknown as Record<string | symbol, unknown>)[prop];
      if (prop !== 'applyChanges' || !hold) return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      return async (...args: Parameters<Panel['applyChanges']>) => {
        arrived();
        await new Promise<void>((r) => (release = r));
        return t.applyChanges(...args);
      };
    },
  });
  const web = w.app({ panel: gated });
  const alice = await login(web, 'alice');
  const id = await applyFix(alice, 'bakery.example', 'spf');
  hold = true;
  const firstReq = alice.agent.post(`/changes/${id}/undo`).type('form').send({ _csrf: alice.csrf }).then((r) => r);
  await atWrite;
  const second = await alice.agent.post(`/changes/${id}/undo`).type('form').send({ _csrf: alice.csrf });
  hold = false;
  release();
  const first = await firstReq;
  assert.equal(first.status, 200, first.text);
  assert.equal(second.status, 200, second.text);
  const undoId = w.store.getChange(id)!.undoneBy!;
  assert.match(second.text, new RegExp(`data-already="intent" data-change="${undoId}"`));
  assert.match(words(outcomeOf(second.text)), new RegExp(`Change ${id} is being undone now as change #${undoId}\\.`));
  assert.doesNotMatch(second.text, /id="verify"/, 'nothing to verify while it is written');
  assert.equal(w.store.changesForDomain('bakery.example').filter((c) => c.undoOf === id).length, 1, 'one undo');
});

test('D1 (API helper): undoOnce answers a retried undo "already", with the undo\'s change and records', async () => {
  const web = w.app();
  const alice = await login(web, 'alice');
  const id = await applyFix(alice, 'florist.example', 'lockdown');
  const ref = (await w.panel.listDomains({ user: 'alice', role: 'customer' })).find((d) => d.domain === 'florist.example')!;
  const me = { user: 'alice', role: 'customer' as const };
  const done = await undoOnce(web.context, me, { id }, ref);
  assert.equal(done.status, 'applied');
  const again = await undoOnce(web.context, me, { id }, ref);
  assert.equal(again.status, 'already');
  const json = outcomeJson(again) as { status: string; changeId: number; changeStatus: string; reason: string; changes: unknown[] };
  assert.equal(json.changeId, (done as { changeId: number }).changeId);
  assert.equal(json.changeStatus, 'applied');
  assert.match(json.reason, new RegExp(`^Change ${id} was already undone as change #${json.changeId}\\b.*not undone a second time\\.$`));
  assert.ok(json.changes.length > 0);
  assert.ok(!JSON.stringify(json.changes).includes('copiesBefore'), 'the records as a fix\'s "already" gives them');
  // Another user's retry is the refusal as before.
  const root = await undoOnce(web.context, { user: 'root', role: 'admin' }, { id }, ref);
  assert.equal(root.status, 'refused');
});

test('D2: a refused "Verify again" (replaced meanwhile) links the domain\'s history at that change and the change that replaced it', async () => {
  const web = w.app();
  const alice = await login(web, 'alice');
  const first = await applyFix(alice, 'bakery.example', 'spf');
  const later = await applyFix(alice, 'bakery.example', 'spf', ['include:_spf.google.com']);
  const page = await alice.agent.post(`/changes/${first}/verify`).type('form').send({ _csrf: alice.csrf });
  assert.equal(page.status, 409);
  assert.match(page.text, new RegExp(`Change ${first} was replaced by change ${later}`));
  const links = [...page.text.matchAll(/<a href="([^"]+)">([^<]+)<\/a>/g)].map((m) => [m[1].replace(/&amp;/g, '&'), m[2]]);
  assert.deepEqual(
    links.filter(([href]) => href.startsWith('/history')),
    [
      [`/history?domain=bakery.example&before=${first + 1}#change-${first}`, `Back to the history of bakery.example (change #${first})`],
      [`/history?domain=bakery.example&before=${later + 1}#change-${later}`, `Change #${later}, which replaced it`],
    ],
  );
  assert.match(page.text, /Back to your domains/);
  // A refusal of another kind (undone) links the history at that change only.
  await alice.agent.post(`/changes/${later}/undo`).type('form').send({ _csrf: alice.csrf }).expect(200);
  const undone = await alice.agent.post(`/changes/${later}/verify`).type('form').send({ _csrf: alice.csrf });
  assert.equal(undone.status, 409);
  assert.match(undone.text, new RegExp(`href="/history\\?domain=bakery\\.example&amp;before=${later + 1}#change-${later}"`));
  assert.doesNotMatch(undone.text, /which replaced it/);
});
