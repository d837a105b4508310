// A step of the wall clock while a domain is locked (QA, time handling): the fix's lease is judged by the store on the
// boot clock, which every process of the host shares and which never steps (store.ts "Locks").
// - Forward (NTP, a VM resumed) between the two steps of a record-by-record write: the service's settler took the domain
//   as if the fix's 2-minute lease had run out, put the old SPF record back, and the fix's add then landed: two SPF
//   records, and a history saying the fix "outlasted its 2-minute lock". Now the settler leaves the domain alone.
// - Back (an admin correcting a fast clock) while the domain is kept locked to settle a write the panel never answered:
//   the domain stayed locked, and the change unsettled, for the step's hour instead of two minutes.
// Demo files panel + fixture zones, loopback DNS, real SQLite; each "process" has its own Store on the one file, all
// reading the same injected clocks (the wall clock and the boot's monotonic clock), moved only by the test.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStore, type Store, type StoreOptions } from '../../../src/adapters/store/store.js';
import type { Change } from '../../../src/core/model.js';
import { PanelError, type Panel } from '../../../src/core/panel.js';
import { applyPlan, domainLock, LOCK_TTL_MS, reconcile } from '../../../src/core/plans/apply.js';
import { playPerTest, TODAY, type Play } from '../../helpers/fixplay.js';

const start = playPerTest();
const D = 'bakery.example';
const HOUR = 3_600_000;

/** The host's clocks: the wall clock, and the boot clock every process of this boot reads. */
function clocks() {
  const c = { wall: TODAY.getTime(), mono: 9 * HOUR };
  const opts: StoreOptions = { now: () => c.wall, leaseClock: () => ({ clock: 'monotonic:test-boot', ms: c.mono }) };
  return { c, opts };
}

/** A process's own connection to the history database (closed with the play). */
function processStore(p: Play, opts: StoreOptions, stores: Store[]): Store {
  const s = openStore(p.dbPath, opts);
  stores.push(s);
  return s;
}

const spfRecords = (zone: string) => zone.split('\n').filter((l) => /\sTXT\s+"v=spf1/i.test(l));

test('the wall clock stepped an hour ahead between the delete and the add of a record-by-record write: the settler leaves the domain alone, one SPF record', async () => {
  const p = await start();
  const { c, opts } = clocks();
  const stores: Store[] = [];
  try {
    const fixHistory = processStore(p, opts, stores);
    const files = p.panel;
    let settler: unknown = null;
    let stepped = false;
    // A Plesk-like panel: an edit is a delete and then an add, each its own call taking no zone version.
    const plesk: Panel = Object.create(files, {
      capabilities: { value: { ...files.capabilities, recordByRecordWrites: true } },
      applyChanges: {
        value: async (domain: string, changes: Change[], version: string) => {
          let v = version;
          const steps = changes.flatMap((ch): Change[] => (ch.action === 'edit' ? [{ ...ch, action: 'remove', after: null }, { ...ch, action: 'add', before: null }] : [ch]));
          for (const [i, s] of steps.entries()) {
            if (i === 1 && !stepped) {
              stepped = true;
              c.mono += 1_000; // a second passes …
              c.wall += 1_000 + HOUR; // … and chronyd steps the wall clock an hour ahead
              // The service's settler (another process) runs now.
              settler = await reconcile({ panel: plesk, resolver: p.resolver(), history: processStore(p, opts, stores), byUser: 'service' }, 'while the service runs');
            }
            if (i > 0) v = (await files.readZone(domain)).version;
            v = (await files.applyChanges(domain, [s], v)).version;
          }
          return { version: v };
        },
      },
    });
    const before = spfRecords(p.zoneText(D));
    assert.equal(before.length, 1);
    const plan = await p.plan(D, 'spf');
    const out = await applyPlan({ domain: D, check: 'spf', planHash: plan.planHash }, p.deps({ panel: plesk, history: fixHistory }));
    assert.ok(stepped);
    assert.equal(out.status, 'applied', JSON.stringify(out));
    const id = (out as { changeId: number }).changeId;
    assert.deepEqual(settler, [{ id, outcome: 'skipped: a fix on this domain is running' }]);
    const after = spfRecords(p.zoneText(D));
    assert.equal(after.length, 1, after.join('\n'));
    assert.notEqual(after[0], before[0], 'the fix\'s record');
    const ch = fixHistory.getChange(id)!;
    assert.equal(ch.status, 'applied');
    assert.doesNotMatch(ch.error ?? '', /outlasted|settled meanwhile|late/);
  } finally {
    for (const s of stores) s.close();
  }
});

test('the wall clock set back an hour while the domain is kept locked for a write the panel never answered: settled once the 2-minute lease is over', async () => {
  const p = await start();
  const { c, opts } = clocks();
  const stores: Store[] = [];
  try {
    const fixHistory = processStore(p, opts, stores);
    const write = p.panel.applyChanges.bind(p.panel);
    const noAnswer = Object.create(p.panel, {
      applyChanges: {
        value: async (d: string, ch: Change[], v: string) => {
          await write(d, ch, v);
          throw new PanelError('no-answer', 'the panel did not answer (ETIMEDOUT)');
        },
      },
    }) as Panel;
    const plan = await p.plan(D, 'spf');
    const out = await applyPlan({ domain: D, check: 'spf', planHash: plan.planHash }, p.deps({ panel: noAnswer, history: fixHistory }));
    assert.equal(out.status, 'failed');
    const id = (out as { changeId: number }).changeId;
    assert.match(fixHistory.lockHolder(domainLock(D))?.owner ?? '', /^settle-later:/);

    c.wall -= HOUR; // the admin corrects a clock that was an hour fast
    c.wall += 60_000; // a minute passes
    c.mono += 60_000;
    const service = processStore(p, opts, stores);
    assert.deepEqual(await reconcile(p.deps({ history: service }), 'while the service runs'), [{ id, outcome: 'skipped: a fix on this domain is running' }], 'within its 2 minutes');
    c.wall += LOCK_TTL_MS;
    c.mono += LOCK_TTL_MS;
    const settled = await reconcile(p.deps({ history: service }), 'while the service runs');
    assert.deepEqual(settled, [{ id, outcome: 'applied' }], 'three minutes after the write, not an hour');
    assert.equal(service.getChange(id)?.status, 'applied');
    assert.equal(service.lockHolder(domainLock(D)), null);
  } finally {
    for (const s of stores) s.close();
  }
});
