// The web's side of the fix lifecycle after the write (QA, task E):
// - D1: an undo whose check finds the panel not holding the records it put back (the zone edited right after the
//   undo's write) said "undone — propagating — the records are back as they were before change N", as a success. Now
//   a warning that says the panel does not show them, never that they are back.
// - D4: a change whose records a later fix replaced turned "verified: no" when the history checked it again. Now it is
//   listed "replaced by #M", not checked again, with neither "Verify again" nor "Undo" (its undo would overwrite M).
// The demo panel (a fresh copy) served by a loopback DNS server that serves what the test publishes.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { applyFix, changeWorld, outcomeOf, type ChangeWorld } from './change-world.js';
import { login } from './helpers.js';

let w: ChangeWorld;
/** An edit someone makes right after each zone write (null: none). */
let editAfterWrite: { domain: string; from: string; to: string } | null = null;

before(async () => {
  w = await changeWorld();
  const { panel, panelDir } = w;
  const write = panel.applyChanges.bind(panel);
  panel.applyChanges = async (...args) => {
    const r = await write(...args);
    if (editAfterWrite) {
      const file = join(panelDir, 'zones', `${editAfterWrite.domain}.db`);
      writeFileSync(file, readFileSync(file, 'utf8').replace(editAfterWrite.from, editAfterWrite.to));
    }
    return r;
  };
});
after(() => w.close());

test('D1: an undo verified "no" is a warning that the panel does not show the restored records, never "the records are back"', async () => {
  const alice = await login(w.app(), 'alice');
  w.publish();
  const id = await applyFix(alice, 'florist.example', 'lockdown');
  w.publish();
  editAfterWrite = { domain: 'florist.example', from: 'auth=dreamhost', to: 'auth=someoneelse' };
  try {
    const page = await alice.agent.post(`/changes/${id}/undo`).type('form').send({ _csrf: alice.csrf }).expect(200);
    const outcome = outcomeOf(page.text);
    assert.match(outcome, /class="alert alert-warn"/);
    assert.match(outcome, /data-verified="no"/);
    assert.match(outcome, /undone, but the panel does not show the restored records — check the zone&#39;s records at _mailchannels\.florist\.example TXT/);
    assert.doesNotMatch(outcome, /propagating|records are back/);
    assert.match(page.text, /id="verify">Verify again</);
  } finally {
    editAfterWrite = null;
  }
});

test('D1: an undo verified "yes" still says the records are back', async () => {
  const alice = await login(w.app(), 'alice');
  w.publish();
  const id = await applyFix(alice, 'florist.example', 'dmarc');
  w.publish();
  // The nameservers follow the undo's write at once.
  const write = w.panel.applyChanges;
  w.panel.applyChanges = async (...args) => {
    const r = await write(...args);
    w.publish();
    return r;
  };
  let page;
  try {
    page = await alice.agent.post(`/changes/${id}/undo`).type('form').send({ _csrf: alice.csrf }).expect(200);
  } finally {
    w.panel.applyChanges = write;
  }
  const outcome = outcomeOf(page.text);
  assert.match(outcome, /class="alert alert-pass"/);
  assert.match(outcome, /<strong>undone<\/strong> — the records are back as they were before change \d+, and the domain's nameservers answer with them\./);
});

test('D4: a change replaced by a later fix of the same record is listed "replaced by #M" and not checked again on view', async () => {
  const alice = await login(w.app(), 'alice');
  w.publish();
  const first = await applyFix(alice, 'bakery.example', 'spf');
  const second = await applyFix(alice, 'bakery.example', 'spf', ['include:_spf.google.com']);
  assert.equal(w.store.getChange(first)!.verified, 'propagating');
  w.publish();
  // Two minutes on: a view checks the changes still propagating — the replaced one is left as it is.
  const later = await login(w.app({ now: () => new Date(Date.now() + 120_000) }), 'alice');
  const page = await later.agent.get('/history?domain=bakery.example').expect(200);
  assert.equal(w.store.getChange(first)!.verified, 'propagating', 'not turned "no" by a check of records replaced on purpose');
  assert.equal(w.store.getChange(second)!.verified, 'yes', 'the change that replaced it is checked');
  const row = new RegExp(`<tr id="change-${first}">[\\s\\S]*?</tr>`).exec(page.text)![0];
  assert.match(row, new RegExp(`data-replaced-by="${second}">replaced by <a href="/history\\?domain=bakery\\.example&amp;before=${second + 1}#change-${second}">#${second}</a>`));
  assert.doesNotMatch(row, /Verify again|action="\/changes\/\d+\/undo"/, 'neither verify nor undo offered');
  assert.doesNotMatch(row, /data-verified/, 'no "(verified: propagating)" left standing beside "replaced by"');
  const listed = (await later.agent.get('/api/changes?domain=bakery.example').expect(200)).body as { id: number; replacedBy?: number }[];
  assert.equal(listed.find((c) => c.id === first)!.replacedBy, second);
  assert.equal(listed.find((c) => c.id === second)!.replacedBy, undefined);
  // "Verify again" sent anyway (an old page): nothing stored, and the answer says why (409), not a silent redirect.
  const form = await alice.agent.post(`/changes/${first}/verify`).type('form').send({ _csrf: alice.csrf });
  assert.equal(form.status, 409);
  assert.match(form.text, new RegExp(`replaced by change ${second}`));
  const api = await alice.agent.post(`/api/changes/${first}/verify`).set('x-csrf-token', alice.csrf);
  assert.equal(api.status, 409);
  assert.deepEqual({ status: api.body.status, replacedBy: api.body.replacedBy }, { status: 'refused', replacedBy: second });
  assert.equal(w.store.getChange(first)!.verified, 'propagating');
});
