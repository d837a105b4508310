// A bulk fix job that ended short (its outcomes could not be recorded; the next start marks it interrupted) shows, for
// each domain it holds no outcome of, the change its own apply recorded there — found by the job's id on the change
// (store changes.job_id), never another fix the same user made on that domain while the job ran. Review: the job's
// check, user and time window named such a fix as the job's — a single fix on a domain the job never wrote appeared as
// the job's "applied", and on a domain it did write, the newer single fix's change stood in for the job's own.
// The WHM emulator, the bulk runner and the single fix the web's pages and API use (services.ts applyFix), real SQLite.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { StoreError } from '../../src/adapters/store/store.js';
import type { Identity } from '../../src/core/model.js';
import { BulkRunner } from '../../src/web/jobs.js';
import { applyFix, previewFix, type BulkFixItem, type WebDeps } from '../../src/web/services.js';
import { zoneOfName } from '../helpers/emulators/cpanel.js';
import { whmWorld, type WhmWorld } from './shared-zone-world.js';

const RES1: Identity = { user: 'res1', role: 'reseller' };
const JOB_DOMAINS = ['res1.example', 'bob.example'];
/** A previous host's SPF include (HostGator): the SPF fix has something to change again. */
const STALE_SPF = 'v=spf1 include:websitewelcome.com ~all';

let w: WhmWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

/** Someone edits `domain`'s SPF record in cPanel (the zone's serial moves). */
function editSpf(world: WhmWorld, domain: string, value: string): void {
  const z = world.state.zones[zoneOfName(world.state, domain)!];
  const spf = z.lines.find((l) => l?.kind === 'record' && l.type === 'TXT' && l.dname === `${domain}.` && l.data.join('').startsWith('v=spf1'));
  assert.ok(spf?.kind === 'record', `${domain} has an SPF record`);
  spf.data = [value];
  z.serial += 1;
}

test("a job that ended short: each domain's missing outcome is the job's own change, never the same user's other fix in its window", { timeout: 60_000 }, async () => {
  w = await whmWorld();
  const world = w;
  const store = world.store;
  const deps: WebDeps = { panel: world.panel, store, makeResolver: world.makeResolver, now: () => new Date(), auditConcurrency: 4, identityFrom: 'front-door' };
  const runner = new BulkRunner(deps);
  runner.busyWait = { attempts: 1, pauseMs: 0, laterMs: [0] };

  // The bulk preview of the two domains.
  const items: BulkFixItem[] = [];
  for (const domain of JOB_DOMAINS) {
    const { plan } = await previewFix(deps, domain, 'spf', []);
    assert.ok(plan.changes.length > 0, `${domain}: an SPF fix to apply`);
    items.push({ ref: { domain, owner: domain === 'bob.example' ? 'bob' : 'res1' }, planHash: plan.planHash, previewed: plan });
  }
  // bob.example's SPF edited in cPanel after the preview: the job refuses it ("the zone changed") and writes nothing there.
  editSpf(world, 'bob.example', STALE_SPF);
  // The job's outcomes cannot be recorded (the disk failing under it), nor its end: its row stays "running", as after a
  // crash, until the next start marks it interrupted.
  const recordJobItem = store.recordJobItem.bind(store);
  store.recordJobItem = () => {
    throw new StoreError('io', 'cannot read or write the mailhealth database (test: disk full)');
  };
  let id: number;
  try {
    id = runner.startFix(RES1, 'spf', items, []);
    await runner.settled(id);
  } finally {
    store.recordJobItem = recordJobItem;
  }
  assert.equal(store.getJob(id)!.status, 'running');
  assert.equal(store.jobItems(id).items.length, 0, 'no outcome recorded');
  const jobWrites = store.changesForDomains(JOB_DOMAINS, 10);
  assert.deepEqual(jobWrites.map((c) => [c.domain, c.status]), [['res1.example', 'applied']], 'the job wrote res1.example only');
  const jobChange = jobWrites[0].id;

  // While the job is still "running", the same user fixes both domains one by one (the web's single fix):
  // bob.example, which the job did not write, and res1.example again after its SPF was edited back by hand.
  const single = async (domain: string): Promise<number> => {
    const { plan } = await previewFix(deps, domain, 'spf', []);
    const out = await applyFix(deps, RES1, { domain, owner: domain === 'bob.example' ? 'bob' : 'res1' }, { check: 'spf', planHash: plan.planHash, removeTerms: [] });
    assert.equal(out.status, 'applied', JSON.stringify(out));
    return (out as { changeId: number }).changeId;
  };
  const bobSingle = await single('bob.example');
  editSpf(world, 'res1.example', STALE_SPF);
  const res1Single = await single('res1.example');

  store.interruptUnfinishedJobs(); // the next start
  const job = store.getJob(id)!;
  assert.equal(job.status, 'interrupted');
  // Both single fixes are of the job's check, by its user, within its start and its end: the window alone names them.
  for (const c of [bobSingle, res1Single].map((x) => store.getChange(x)!)) {
    assert.deepEqual([c.check, c.byUser, c.undoOf], ['spf', 'res1', null]);
    assert.ok(c.createdAt >= job.createdAt && c.createdAt <= job.updatedAt, `${c.createdAt} within ${job.createdAt}…${job.updatedAt}`);
  }

  // The job's results: res1.example with the job's own change; bob.example with no line (it was never written by it).
  const { results } = runner.fixResultsSince(id, 0);
  assert.deepEqual(
    results.map((r) => [r.domain, r.status, r.changeId]),
    [['res1.example', 'applied', jobChange]],
  );
  // Only the job's change carries its id; single fixes carry none.
  assert.deepEqual(store.changesOfJob(id, JOB_DOMAINS).map((c) => c.id), [jobChange]);
});
