// A bulk audit writes its results and progress in batches, at least every STORE_BATCH_MS (jobs.ts). That pace was
// judged by the wall clock (Date.now() - lastFlush): after a step back it stayed negative, and a job under 100
// domains wrote (and its page showed) no progress until it ended or the clock caught up. Now the pace is kept on a
// clock that never steps (BulkRunner.elapsedMs, performance.now), and one that went back means "write now". The demo
// panel (a copy), a resolver that answers "unknown" at once except for one domain held by the test; no DNS, no waits.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore } from '../../src/adapters/store/store.js';
import type { Answer, Resolver, RRType } from '../../src/core/resolver.js';
import { BulkRunner } from '../../src/web/jobs.js';
import { REPO_ROOT } from '../helpers/corpora.js';

const T = Date.parse('2027-03-01T12:00:00Z');
const HELD = 'plumber.example';

test("a bulk audit's progress is written while it runs after the clock stepped back", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-jobs-step-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(REPO_ROOT, 'src/demo/panel'), join(dir, 'panel'), { recursive: true });
  const store = openStore(join(dir, 'h.sqlite'));
  t.after(() => store.close());
  const panel = new FilesPanel(join(dir, 'panel'));
  const admin = { user: 'root', role: 'admin' as const };
  const refs = await panel.listDomains(admin);
  assert.ok(refs.some((r) => r.domain === HELD) && refs.length > 2);

  // The clock: 300 ms further at every read, and an hour back once the first DNS question is asked (the job has
  // started: its last write was "in the future" from then on). Both the runner's pace clock and Date.now (what the
  // pace was judged by before) read it.
  let clock = T;
  let stepped = false;
  const tick = () => (clock += 300);
  let release: () => void = () => {};
  const held = new Promise<void>((r) => (release = r));
  let heldAsked: () => void = () => {};
  const heldReached = new Promise<void>((r) => (heldAsked = r));
  const resolver: Resolver = {
    async resolve<K extends RRType>(name: string, type: K): Promise<Answer<K>> {
      if (!stepped) {
        stepped = true;
        clock -= 3600_000;
      }
      if (name === HELD || name.endsWith(`.${HELD}`)) {
        heldAsked();
        await held;
      }
      return { name, type, status: 'unknown', records: [], error: 'timeout' };
    },
  };
  const runner = new BulkRunner({ panel, store, makeResolver: () => resolver, now: () => new Date(T), auditConcurrency: 16 });
  runner.elapsedMs = tick;
  const realNow = Date.now;
  Date.now = tick;
  let id = 0;
  try {
    id = runner.start(admin, refs, {});
    await heldReached;
    // Let every other domain finish its audit (they answer at once) while the held one waits.
    for (let i = 0; i < 50 && runner.view(store.getJob(id)!, 0).results.length < refs.length - 1; i++) await new Promise((r) => setImmediate(r));
    assert.equal(runner.view(store.getJob(id)!, 0).results.length, refs.length - 1, 'the other domains are audited');
    const job = store.getJob(id)!;
    assert.equal(job.done, refs.length - 1, `progress written while the held domain runs (was 0 until the job ended)`);
  } finally {
    Date.now = realNow;
    release();
    if (id) await runner.wait(id);
  }
  assert.equal(store.getJob(id)!.done, refs.length);
});
