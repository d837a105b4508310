// What an undo says after its check (QA, task E, D1): an undo whose verification is `no` — the panel does not show the
// records it put back, e.g. the zone edited right after the undo's write — was answered "undone — propagating", as if
// the records were back and only the nameservers lagged. Now it says so, as a fix verified `no` does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyPlan, undoChange, undoneMessage } from '../../../src/core/plans/apply.js';
import { playPerTest } from '../../helpers/fixplay.js';

const start = playPerTest();

test('undo verified "no" (the zone edited right after the undo\'s write): the message says the panel does not show the restored records', async () => {
  const p = await start();
  const plan = await p.plan('florist.example', 'lockdown');
  const out = await applyPlan({ domain: 'florist.example', check: 'lockdown', planHash: plan.planHash }, p.deps());
  assert.equal(out.status, 'applied');
  if (out.status !== 'applied') return;
  // Someone (the panel's zone editor, another admin) edits the record right after the undo's write.
  const write = p.panel.applyChanges;
  p.panel.applyChanges = async (...args) => {
    const r = await write(...args);
    p.writeZone('florist.example', p.zoneText('florist.example').replace('auth=dreamhost', 'auth=someoneelse'));
    p.refresh();
    return r;
  };
  const u = await undoChange(out.changeId, p.deps());
  assert.equal(u.status, 'applied');
  if (u.status !== 'applied') return;
  assert.equal(u.verified, 'no');
  assert.equal(u.message, "undone, but the panel does not show the restored records — check the zone's records at _mailchannels.florist.example TXT");
  assert.doesNotMatch(u.message, /propagating/);
  assert.equal(p.store.getChange(u.changeId)!.verified, 'no');
});

test('undo verified "yes": "undone"', async () => {
  const p = await start();
  const plan = await p.plan('florist.example', 'lockdown');
  const out = await applyPlan({ domain: 'florist.example', check: 'lockdown', planHash: plan.planHash }, p.deps());
  assert.equal(out.status, 'applied');
  if (out.status !== 'applied') return;
  const u = await undoChange(out.changeId, p.deps());
  assert.equal(u.status, 'applied');
  if (u.status !== 'applied') return;
  assert.equal(u.verified, 'yes');
  assert.equal(u.message, 'undone');
});

test('undoneMessage: one wording per verification', () => {
  const changes = [{ action: 'edit' as const, name: 'x.example', type: 'TXT', ttl: 300, before: null, after: null }];
  assert.equal(undoneMessage('yes', changes), 'undone');
  assert.equal(undoneMessage('propagating', changes), 'undone — propagating');
  assert.equal(undoneMessage('no', changes), "undone, but the panel does not show the restored records — check the zone's records at x.example TXT");
});
