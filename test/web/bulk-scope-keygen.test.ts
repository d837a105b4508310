// A bulk DKIM fix that must have the panel generate a key: core records the key's intent first, then reads the zone,
// has the key generated, reads again, and writes the record over that intent (reviseIntent) — so a scope check only
// where an intent is recorded missed a move seen by any of those later reads (review: the key was generated and the
// record written after a reading said the domain had left the user's scope). services.ts ScopeGuard checks the latest
// reading immediately before every panel write too: nothing is generated or written, the job row says the domain was
// skipped as no longer in scope, and the history's intent is closed as not written (never left open, never "the panel
// could not generate a DKIM key").
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { login } from './helpers.js';
import { planValues } from './shared-zone-world.js';
import { editPanel, moveBobToRex } from './panel-edits.js';
import { keyWorld, type ScopeWorld } from './scope-world.js';

async function applyDkim(s: ScopeWorld, afterIntent: () => void = () => {}) {
  const rita = await login(s.w.app, 'rita');
  s.w.app.runner.fixInlineMax = 0;
  const page = await rita.agent.post('/bulk/fix/preview').type('form').send({ _csrf: rita.csrf, check: 'dkim', domains: ['dentist.example'] });
  const plans = planValues(page.text);
  assert.equal(plans.length, 1, 'dentist.example has a DKIM plan (generate a key)');
  const store = s.w.store as unknown as { recordIntent: (...a: unknown[]) => number };
  const orig = store.recordIntent.bind(s.w.store);
  store.recordIntent = (...a: unknown[]) => {
    const id = orig(...a);
    s.log.push(`recordIntent(${(a[0] as { domain: string }).domain})`);
    afterIntent();
    return id;
  };
  s.log.length = 0;
  const started = await rita.agent.post('/bulk/fix/apply').type('form').send({ _csrf: rita.csrf, check: 'dkim', plan: plans });
  assert.equal(started.status, 303);
  const id = Number(/(\d+)$/.exec(started.headers.location as string)![1]);
  await s.w.app.runner.wait(id);
  const job = s.w.store.getJob(id)!;
  const item = s.w.store.jobItems(id).items[0];
  const changes = s.w.store.changesForDomains(['dentist.example'], 10);
  const zone = readFileSync(join(s.w.demo!.panelDir, 'zones', 'dentist.example.db'), 'utf8');
  return { job, item, changes, zone, detail: item.detail as { reason?: string; why?: string } };
}

it('a move seen after the key intent is recorded: no key generated, no record written, the intent closed as not written', { timeout: 60_000 }, async () => {
  const s = await keyWorld();
  try {
    let moved = false;
    const r = await applyDkim(s, () => {
      if (moved) return;
      moved = true;
      // Right after the (allowed) key intent: bob moves to rex, and the 5 s reading expires on the app's clock.
      editPanel(s.w, moveBobToRex);
      s.clock += 6_000;
    });
    assert.ok(s.log.some((l) => l.includes('dentist OUT')), s.log.join('\n'));
    assert.deepEqual(
      s.log.filter((l) => /^(generateDkim|applyChanges|startDkimSigning)/.test(l)),
      [],
      `nothing generated or written after a reading said out of scope:\n${s.log.join('\n')}`,
    );
    // The job row: skipped as no longer in scope (counted apart), nothing changed.
    assert.equal(r.item.status, 'skipped');
    assert.equal(r.detail.why, 'scope');
    assert.match(r.detail.reason!, /No longer in your scope.*Nothing was changed/);
    assert.equal(r.job.gone, 1);
    assert.equal(r.job.failed, 0);
    // The history: the key's intent closed as not written, in those words (not "the panel could not generate a key").
    assert.equal(r.changes.length, 1);
    const ch = s.w.store.getChange(r.changes[0].id)! as { status: string; error?: string | null };
    assert.equal(ch.status, 'failed');
    assert.match(String(ch.error), /not written: the bulk fix's scope check just before this write found that dentist\.example is no longer in rita's scope.*no DKIM key was generated/);
    assert.doesNotMatch(String(ch.error), /could not generate/);
    assert.equal(s.w.store.pendingIntents().length, 0, 'no intent left open');
  } finally {
    await s.w.close();
  }
});

it('a move seen after the key was generated: the record is not written, and the row says a key was made', { timeout: 60_000 }, async () => {
  const s = await keyWorld((name, st) => {
    if (name !== 'generateDkim') return;
    // Right after the panel generated the key: bob moves to rex, and the reading expires.
    editPanel(st.w, moveBobToRex);
    st.clock += 6_000;
  });
  try {
    const r = await applyDkim(s);
    const writes = s.log.filter((l) => /^(generateDkim|applyChanges)/.test(l));
    assert.deepEqual(writes, ['generateDkim(dentist.example)'], `the record write must not follow the OUT reading:\n${s.log.join('\n')}`);
    assert.equal(r.item.status, 'skipped');
    assert.equal(r.detail.why, 'scope');
    // Not "nothing was changed": the panel made a key and signs with it; its record is not published.
    assert.doesNotMatch(r.detail.reason!, /Nothing was changed/);
    assert.match(r.detail.reason!, /already generated a new DKIM key/);
    assert.equal(r.job.gone, 1);
    const ch = s.w.store.getChange(r.changes[0].id)! as { status: string; error?: string | null };
    assert.equal(ch.status, 'failed');
    assert.match(String(ch.error), /not written: the bulk fix's scope check just before this write found that dentist\.example is no longer in rita's scope/);
    assert.equal(s.w.store.pendingIntents().length, 0, 'no intent left open');
  } finally {
    await s.w.close();
  }
});
