// A panel listing that fails while a bulk fix runs leaves the scope unconfirmed: nothing is written on that guess, but
// what core answered of a fix that writes nothing stays the answer (services.ts ScopeGuard.settle replaces it only for
// a domain out of scope, or an identity no longer on the panel) — an "already applied" domain was turned into "Not
// applied: could not confirm … Preview it again to fix it" and counted as not applied (review).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Panel } from '../../src/core/panel.js';
import { hookPanel } from '../helpers/hook-panel.js';
import { demoWorld, login } from './helpers.js';
import { planValues } from './shared-zone-world.js';

it('an already-applied domain stays "already" when the scope listing fails during the job', { timeout: 60_000 }, async () => {
  const s = { armed: false, down: false };
  const wrap = (p: Panel): Panel =>
    hookPanel(p, {
      listDomains: async (own, id) => {
        if (s.down) throw new Error('Plesk REST: HTTP 503');
        return own(id);
      },
      readZone: (own, d) => {
        if (s.armed) s.down = true;
        return own(d);
      },
    });
  const w = await demoWorld({ wrapPanel: wrap });
  try {
    const rita = await login(w.app, 'rita');
    w.app.runner.fixInlineMax = 0;
    const plans = planValues((await rita.agent.post('/bulk/fix/preview').type('form').send({ _csrf: rita.csrf, check: 'dmarc', domains: ['dentist.example'] })).text);
    assert.equal(plans.length, 1);
    const send = async () => {
      const r = await rita.agent.post('/bulk/fix/apply').type('form').send({ _csrf: rita.csrf, check: 'dmarc', plan: plans });
      const id = Number(/(\d+)$/.exec(r.headers.location as string)![1]);
      await w.app.runner.wait(id);
      return id;
    };
    const first = await send();
    assert.equal(w.store.jobItems(first).items[0].status, 'applied');
    // The same form again (a double submit): core answers "already". The panel's listing is down meanwhile.
    s.armed = true;
    const second = await send();
    s.armed = s.down = false;
    const job = w.store.getJob(second)!;
    const item = w.store.jobItems(second).items[0];
    assert.equal(item.status, 'already', 'the fix is applied (change of job 1); the answer should stay "already"');
    assert.equal(job.failed, 0, '"already applied" is not counted as not applied');
  } finally {
    await w.close();
  }
});
