// The bulk fix's scope check (ScopeGuard, src/web/services.ts) stops a write to a domain that left the user's scope —
// but not the fix's own clean-up once a write was sent (review: a write that failed part way could not be put back,
// the zone was left half-written and the row said nothing was changed), and not the record of a DKIM key the panel
// has just generated because one listing failed (review: the panel was left signing with an unpublished key).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import type { Change } from '../../src/core/model.js';
import { PartialWriteError } from '../../src/core/panel.js';
import { login } from './helpers.js';
import { planValues } from './shared-zone-world.js';
import { editPanel, moveBobToRex } from './panel-edits.js';
import { keyWorld, scopeWorld } from './scope-world.js';

for (const mode of ['listing fails', 'domain moved'] as const) {
it(`a write that failed part way, then (${mode}): the fix's own clean-up is not stopped by the scope check, and the row is the fix's failure`, { timeout: 60_000 }, async () => {
  let armed = false;
  const s = await scopeWorld((s) => ({
    applyChanges: async (own, d, changes, ver) => {
      s.log.push(`applyChanges(${d}) ${JSON.stringify(changes.map((c) => c.action + ' ' + c.type))}`);
      const out = await own(d, changes, ver);
      if (armed) {
        armed = false;
        // Plesk-like: the adapter wrote its steps, then failed and could not undo them.
        if (mode === 'listing fails') s.failList = true;
        else editPanel(s.w, moveBobToRex);
        s.clock += 6_000;
        const steps: Change[] = changes.flatMap((c): Change[] =>
          c.action === 'edit'
            ? [
                { action: 'remove', name: c.name, type: c.type, ttl: c.ttl, before: c.before, after: null },
                { action: 'add', name: c.name, type: c.type, ttl: c.ttl, before: null, after: c.after },
              ]
            : [c],
        );
        throw new PartialWriteError('other', 'connection reset after the second step', steps);
      }
      return out;
    },
  }));
  try {
    const zoneFile = join(s.w.demo!.panelDir, 'zones', 'dentist.example.db');
    const before = readFileSync(zoneFile, 'utf8');
    const rita = await login(s.w.app, 'rita');
    s.w.app.runner.fixInlineMax = 0;
    let check = '';
    let plans: string[] = [];
    for (const c of ['spf', 'dmarc', 'mx']) {
      const page = await rita.agent.post('/bulk/fix/preview').type('form').send({ _csrf: rita.csrf, check: c, domains: ['dentist.example'] });
      plans = planValues(page.text);
      if (plans.length) { check = c; break; }
    }
    assert.ok(check, 'a plan');
    s.log.length = 0;
    armed = true;
    const started = await rita.agent.post('/bulk/fix/apply').type('form').send({ _csrf: rita.csrf, check, plan: plans });
    const id = Number(/(\d+)$/.exec(started.headers.location as string)![1]);
    await s.w.app.runner.wait(id);
    const item = s.w.store.jobItems(id).items[0];
    const job = s.w.store.getJob(id)!;
    const ch = s.w.store.changesForDomains(['dentist.example'], 10).map((c: any) => s.w.store.getChange(c.id));
    const after = readFileSync(zoneFile, 'utf8');
    const spf = (text: string) => text.split('\n').filter((l) => /\bTXT\b.*v=spf1/.test(l)).map((l) => l.replace(/^\S*\s+(IN\s+)?TXT\s+/, ''));
    // The clean-up (remove what the failed write added, put back what it removed) went through: the old SPF record,
    // alone — not the half-written zone (the old record gone, the new one in).
    assert.deepEqual(spf(after), spf(before), JSON.stringify(s.log));
    assert.equal(s.log.filter((l) => l.startsWith('applyChanges')).length, 2, 'the write, then its clean-up');
    // The row is what core said (failed, with its change), not "no longer in your scope: nothing was changed".
    const detail = item.detail as { status: string; why?: string; changeId?: number; reason?: string };
    assert.equal(item.status, 'failed', JSON.stringify(detail));
    assert.ok(detail.changeId, JSON.stringify(detail));
    assert.doesNotMatch(detail.reason ?? '', /Nothing was changed|nothing was written to it/);
    assert.equal((job as { failed: number }).failed, 1);
    assert.doesNotMatch(ch[0]?.error ?? '', /scope check/);
  } finally {
    await s.w.close();
  }
});
}

it('one failed listing after the panel generated the key: the record is still published (nothing said the domain left the scope)', { timeout: 60_000 }, async () => {
  const s = await keyWorld((name, st) => {
    if (name !== 'generateDkim') return;
    st.failList = true; // a transient listing failure; dentist.example never left rita's scope
    st.clock += 6_000;
  });
  try {
    const rita = await login(s.w.app, 'rita');
    s.w.app.runner.fixInlineMax = 0;
    const page = await rita.agent.post('/bulk/fix/preview').type('form').send({ _csrf: rita.csrf, check: 'dkim', domains: ['dentist.example'] });
    const plans = planValues(page.text);
    s.log.length = 0;
    const started = await rita.agent.post('/bulk/fix/apply').type('form').send({ _csrf: rita.csrf, check: 'dkim', plan: plans });
    const id = Number(/(\d+)$/.exec(started.headers.location as string)![1]);
    await s.w.app.runner.wait(id);
    const item = s.w.store.jobItems(id).items[0];
    assert.ok(s.log.includes('applyChanges(dentist.example)'), 'the record of the key the panel just generated should be published (scope was in, nothing says it moved)');
    assert.equal(item.status, 'applied', JSON.stringify(item.detail));
    assert.equal(s.w.store.changesForDomains(['dentist.example'], 10)[0]?.status, 'applied');
  } finally {
    await s.w.close();
  }
});
