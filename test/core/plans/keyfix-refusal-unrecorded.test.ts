// The DKIM fix that has the panel generate a key stops before its record write — the panel refuses to make the key, fails
// to make it, the zone changes while it is made, the ownership guard refuses the changes, or the zone changes before the
// record write (with the new plan) — and recording that stop (settleIntent) fails. The answer is still that stop, word
// for word, with a sentence saying it could not be recorded and the change stays pending, the note about a generated key
// whose record is not published kept, and the store's error on the answer (it was "the history database could not be
// read or written: nothing was written … try again once it works", the refusal and the new plan lost). With a working
// history the answers are as before.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { StoreError } from '../../../src/adapters/store/store.js';
import { PanelError } from '../../../src/core/panel.js';
import { applyPlan, reconcile, type ApplyOutcome, type History } from '../../../src/core/plans/apply.js';
import { startPlay, type Play } from '../../helpers/fixplay.js';
import { assertClean, ioError, overriding } from '../../helpers/failing-history.js';

let play: Play | null = null;
afterEach(async () => {
  await play?.close();
  play = null;
});

const NEWKEY = 'newkey.example';
/** The note every stop after the key was generated ends with (afterKey). */
const AFTER_KEY = ' The panel has generated a new DKIM key and turned signing on; its record is not published: run the DKIM fix again.';
/** What the panel says when it has made the key and the zone changed meanwhile (generateKey's `made`). */
const MADE = `the panel has generated a new DKIM key for ${NEWKEY} and turned signing on, but its record is not published — preview and apply the DKIM fix again to publish it (until then mail this server signs for ${NEWKEY} fails DKIM), or turn signing off in the panel`;

/** How the panel is made to stop the key fix, and the answer it gives when the history records the stop. */
interface Stop {
  name: string;
  status: 'refused' | 'failed';
  arrange(p: Play): void;
  /** The answer's reason with a working history, and the same with `unrecorded` (the sentence) where it goes. */
  reason(unrecorded: string): string;
  /** The answer carries the new plan. */
  newPlan?: boolean;
  /** The panel made the key (it signs now). */
  keyMade: boolean;
}

/** After the key is made, `then` runs at the fix's next read of the mail settings (the ownership guard's). */
function afterKeyMade(p: Play, then: (s: Awaited<ReturnType<Play['panel']['readMailSettings']>>) => Awaited<ReturnType<Play['panel']['readMailSettings']>>): void {
  const generate = p.panel.generateDkim.bind(p.panel);
  const read = p.panel.readMailSettings.bind(p.panel);
  let made = false;
  let done = false;
  p.panel.generateDkim = async (d) => {
    const s = await generate(d);
    made = true;
    return s;
  };
  p.panel.readMailSettings = async (d) => {
    const s = await read(d);
    if (!made || done) return s;
    done = true;
    return then(s);
  };
}

const STOPS: Stop[] = [
  {
    name: 'the panel refuses to make the key (the zone changed under the key step)',
    status: 'refused',
    keyMade: false,
    arrange: (p) => {
      p.panel.generateDkim = async () => {
        throw new PanelError('stale', 'two new keys at default._domainkey: which one the panel published cannot be told');
      };
    },
    reason: (u) =>
      `The zone changed while the panel generated the DKIM key (two new keys at default._domainkey: which one the panel published cannot be told): mailhealth wrote nothing to it and took nothing back — check the DKIM records of ${NEWKEY} in the panel, then preview the fix again.${u}`,
  },
  {
    name: 'the panel fails to make the key',
    status: 'failed',
    keyMade: false,
    arrange: (p) => {
      p.panel.generateDkim = async () => {
        throw new Error('injected: key generation failed');
      };
    },
    reason: (u) => `The panel could not generate a DKIM key (injected: key generation failed); the zone was not changed.${u}`,
  },
  {
    name: 'the zone is edited while the panel makes the key',
    status: 'refused',
    keyMade: true,
    arrange: (p) => {
      const generate = p.panel.generateDkim.bind(p.panel);
      p.panel.generateDkim = async (d) => {
        const s = await generate(d);
        p.writeZone(d, p.zoneText(d) + '@\tIN\tTXT\t"edited-meanwhile=1"\n');
        return s;
      };
    },
    reason: (u) => `The zone changed while the key was generated (another edit, or a record the panel left): nothing was written to it; ${MADE}.${u}`,
  },
  {
    name: 'the ownership guard refuses the changes (the panel names another selector once the key is made)',
    status: 'refused',
    keyMade: true,
    arrange: (p) => afterKeyMade(p, (s) => ({ ...s, dkim: { ...s.dkim, selector: 'other' } })),
    reason: (u) => `dkim fix may not change default._domainkey.${NEWKEY} TXT${u ? `.${u}` : ''}${AFTER_KEY}`,
  },
  {
    name: 'the zone changes before the record write (the new plan)',
    status: 'refused',
    keyMade: true,
    newPlan: true,
    arrange: (p) =>
      afterKeyMade(p, (s) => {
        p.writeZone(NEWKEY, p.zoneText(NEWKEY) + '@\tIN\tTXT\t"edited-meanwhile=1"\n');
        return s;
      }),
    reason: (u) => `The zone changed since the preview: here is the new plan.${u}${AFTER_KEY}`,
  },
];

/** The sentence of a stop that could not be recorded (`why`: the history's words). */
const unrecordedSentence = (id: number, why: string) =>
  ` This could not be recorded (${why}): the history shows change ${id} as pending until mailhealth settles it from the zone: at the next fix or undo on ${NEWKEY}, or by the running service, once the domain's lock is free (within about 2 minutes).`;

/** The key's record is in the zone (it never is after these stops). */
const published = (p: Play) => /^default\._domainkey/m.test(p.zoneText(NEWKEY));

async function run(stop: Stop, history?: (p: Play) => History): Promise<{ p: Play; out: ApplyOutcome }> {
  const p = (play = await startPlay());
  const plan = await p.plan(NEWKEY, 'dkim');
  assert.ok(plan.actions.some((a) => a.kind === 'generate-dkim'), 'the plan has the panel generate a key');
  stop.arrange(p);
  const out = await applyPlan({ domain: NEWKEY, check: 'dkim', planHash: plan.planHash }, p.deps(history ? { history: history(p) } : {}));
  return { p, out };
}

function assertStop(stop: Stop, out: ApplyOutcome, unrecorded: (id: number) => string, id: number): void {
  assert.equal(out.status, stop.status, JSON.stringify(out));
  if (out.status !== 'refused' && out.status !== 'failed') return;
  assert.equal(out.reason, stop.reason(unrecorded(id)));
  if (out.status === 'failed') assert.equal(out.changeId, id);
  if (stop.newPlan) {
    assert.ok(out.status === 'refused' && out.newPlan, 'the new plan is kept');
    assert.equal(out.why, 'changed');
    assert.equal(out.newPlan.domain, NEWKEY);
    // The key is made now: the new plan publishes it, without making another.
    assert.ok(!out.newPlan.actions.some((a) => a.kind === 'generate-dkim'), JSON.stringify(out.newPlan.actions));
    assert.ok(out.newPlan.changes.some((c) => /^default\._domainkey\./.test(c.name)), JSON.stringify(out.newPlan.changes));
  }
}

for (const stop of STOPS) {
  test(`${stop.name}, recording it fails: the same answer, not recorded, pending — not "the history database …"`, async () => {
    let err: StoreError | null = null;
    const { p, out } = await run(stop, (p) => {
      err = ioError(p);
      return overriding(p.store, {
        settleIntent: () => {
          throw err;
        },
      });
    });
    const [open] = p.store.pendingIntents();
    assert.ok(open, `the intent stays open: ${JSON.stringify(out)}`);
    assert.doesNotMatch((out as { reason: string }).reason, /^The history database/);
    assertStop(stop, out, (id) => unrecordedSentence(id, 'the history database could not be read or written'), open.id);
    assert.equal(out.historyError, err);
    assertClean(p, out);
    assert.equal(published(p), false, 'no record written');
    assert.equal(existsSync(join(p.dir, 'dkim', `${NEWKEY}.pem`)), stop.keyMade);
    // Once the history works, settling the open intent records what the zone holds: the record never written.
    assert.deepEqual(await reconcile(p.deps()), [{ id: open.id, outcome: 'not-written' }]);
    assert.equal(p.store.getChange(open.id)!.status, 'failed');
  });

  test(`${stop.name}, the history records it: the answer as before (no sentence about recording)`, async () => {
    const { p, out } = await run(stop);
    const [row] = p.store.changesForDomain(NEWKEY);
    assert.ok(row);
    assertStop(stop, out, () => '', row.id);
    assert.equal(out.historyError, undefined);
    assert.equal(row.status, 'failed');
    assert.deepEqual(p.store.pendingIntents(), []);
    // Recorded as the stop: the refusal (prefixed) or the failure.
    assert.equal(row.error, stop.status === 'failed' ? stop.reason('') : `refused: ${stop.status === 'refused' && stop.newPlan ? `the zone changed before the record could be published.${AFTER_KEY}` : stop.reason('')}`);
    assert.equal(published(p), false);
  });
}

test('the zone changes before the record write, the history busy throughout: the new plan, "the history database is busy", pending', async () => {
  const stop = STOPS.find((s) => s.newPlan)!;
  let tries = 0;
  const { p, out } = await run(stop, (p) => {
    const err = new StoreError('locked', `the mailhealth database ${p.dbPath} is busy (SQLITE_BUSY)`);
    return overriding(p.store, {
      settleIntent: () => {
        tries++;
        throw err;
      },
    });
  });
  assert.ok(tries > 1, 'tried again through the busy database');
  assert.equal(out.status, 'refused', JSON.stringify(out));
  if (out.status !== 'refused') return;
  assert.match(out.reason, /^The zone changed since the preview: here is the new plan\. This could not be recorded \(the history database is busy/);
  assert.ok(out.reason.endsWith(AFTER_KEY), out.reason);
  assert.ok(out.newPlan);
  // A busy database is said in words of its own: not a HistoryFault.
  assert.equal(out.historyError, undefined);
  assertClean(p, out);
  const [open] = p.store.pendingIntents();
  assert.ok(open);
  assert.deepEqual(await reconcile(p.deps()), [{ id: open.id, outcome: 'not-written' }]);
});
