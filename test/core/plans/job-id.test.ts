// ApplyDeps.jobId: the surface's batch (the web's bulk fix job) recorded with the change a fix records — passed on as it
// came, never looked at by core — so a bulk fix job that ended short finds its own changes exactly (web/jobs.ts
// unrecordedOutcomes, store changesOfJob). A fix without one (the CLI's `fix`, the web's single fix) and an undo record
// none. Demo files panel, loopback DNS, real SQLite.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyPlan, undoChange, type ApplyOutcome } from '../../../src/core/plans/apply.js';
import { playPerTest } from '../../helpers/fixplay.js';

const start = playPerTest();
const DOMAINS = ['bakery.example', 'florist.example'];

test("a fix given a job id records it on its change; one without, and an undo, record none", async () => {
  const p = await start();
  const job = p.store.createJob({ kind: 'bulk-fix', byUser: 'root', total: 1 });
  const inJob = await p.plan('bakery.example', 'spf');
  const a = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: inJob.planHash }, p.deps({ jobId: job }));
  assert.equal(a.status, 'applied', JSON.stringify(a));
  const single = await p.plan('florist.example', 'spf');
  const b = await applyPlan({ domain: 'florist.example', check: 'spf', planHash: single.planHash }, p.deps());
  assert.equal(b.status, 'applied', JSON.stringify(b));
  const jobChange = (a as Extract<ApplyOutcome, { status: 'applied' }>).changeId;
  assert.deepEqual(p.store.changesOfJob(job, DOMAINS).map((c) => [c.id, c.domain, c.status]), [[jobChange, 'bakery.example', 'applied']]);

  const undo = await undoChange(jobChange, p.deps());
  assert.equal(undo.status, 'applied', JSON.stringify(undo));
  assert.deepEqual(p.store.changesOfJob(job, DOMAINS).map((c) => [c.id, c.status]), [[jobChange, 'reverted']], 'the undo is not the job\'s');
  assert.deepEqual(p.store.changesOfJob(job + 1, DOMAINS), [], 'another job: none');
});

test('the job id goes with the intent: a fix that stops after it (a crash) has its open change found by job id', async () => {
  const p = await start();
  const job = p.store.createJob({ kind: 'bulk-fix', byUser: 'root', total: 1 });
  const plan = await p.plan('bakery.example', 'spf');
  await assert.rejects(
    applyPlan(
      { domain: 'bakery.example', check: 'spf', planHash: plan.planHash },
      p.deps({
        jobId: job,
        crashPoint: (where) => {
          if (where === 'after-intent') throw new Error('killed');
        },
      }),
    ),
    /killed/,
  );
  assert.deepEqual(p.store.changesOfJob(job, DOMAINS).map((c) => [c.domain, c.status]), [['bakery.example', 'intent']]);
});
