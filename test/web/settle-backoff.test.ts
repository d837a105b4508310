// An interrupted fix whose zone cannot be read (the panel does not answer, the zone is gone) is retried with a growing
// delay per intent — doubling up to a cap — not on every page view once the 5 s throttle has passed; the delay is
// forgotten once the intent settles. No wall-clock waits: the settler's clock is a fake moved by the test.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import type { Change, Zone } from '../../src/core/model.js';
import { PanelError, type Panel } from '../../src/core/panel.js';
import type { Resolver } from '../../src/core/resolver.js';
import { IntentSettler, SETTLE_BACKOFF_MAX_MS, SETTLE_BACKOFF_MIN_MS, SETTLE_MIN_INTERVAL_MS } from '../../src/web/server.js';

const DOMAIN = 'unreadable.example';
const NAME = `_mailchannels.${DOMAIN}`;
const VALUE = 'v=mc1 auth=newhostmc';

/** A panel whose zone reads fail until `readable` is set; every read is noted with the settler's clock. */
function flakyPanel(clock: { ms: number }) {
  const state = { readable: false, reads: [] as number[] };
  const zone: Zone = { domain: DOMAIN, serial: null, version: 'v2', records: [{ name: NAME, ttl: 300, type: 'TXT', value: VALUE, txt: [VALUE] }] };
  const refuse = () => Promise.reject(new PanelError('unsupported', 'not used here'));
  const panel: Panel = {
    kind: 'files',
    capabilities: { serialCheckedWrites: false, generateDkim: false },
    listAccounts: async () => [],
    listDomains: async () => [],
    readZone: async () => {
      state.reads.push(clock.ms);
      if (!state.readable) throw new PanelError('unreachable', 'the panel did not answer');
      return zone;
    },
    readMailSettings: refuse,
    applyChanges: refuse,
  };
  return { panel, state };
}

function intent(store: Store): number {
  const after = { name: NAME, ttl: 300, type: 'TXT', value: VALUE, txt: [VALUE] };
  const changes: Change[] = [{ action: 'add', name: NAME, type: 'TXT', ttl: 300, before: null, after }];
  return store.recordIntent({ domain: DOMAIN, check: 'lockdown', planHash: `sha256:${'0'.repeat(64)}`, zoneVersion: 'v1', changes, byUser: 'root' });
}

/** A page view every 6 s (past the 5 s throttle each time) from `from` to `to`. */
async function views(settler: IntentSettler, clock: { ms: number }, from: number, to: number): Promise<void> {
  for (let t = from; t <= to; t += 6_000) {
    clock.ms = t;
    await settler.settle();
  }
}

describe('IntentSettler: back-off for an intent whose zone cannot be read', () => {
  let dir: string;
  let store: Store;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailhealth-backoff-'));
    store = openStore(join(dir, 'db.sqlite'));
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const noResolver = () => ({ close() {} }) as unknown as Resolver;

  test('the retries slow down (doubling up to the cap) instead of one every few seconds; an acting request still retries at once', async () => {
    assert.ok(SETTLE_BACKOFF_MIN_MS >= SETTLE_MIN_INTERVAL_MS && SETTLE_BACKOFF_MAX_MS >= 2 * 60_000 && SETTLE_BACKOFF_MAX_MS <= 15 * 60_000);
    const clock = { ms: 0 };
    const { panel, state } = flakyPanel(clock);
    const id = intent(store);
    const lines: string[] = [];
    const settler = new IntentSettler({ panel, store, makeResolver: noResolver, byUser: 'mailhealth' }, { now: () => clock.ms, log: (l) => lines.push(l) });
    await settler.settle({ force: true }); // at start
    await views(settler, clock, 6_000, 15 * 60_000);
    const gaps = state.reads.slice(1).map((t, i) => t - state.reads[i]);
    // Without a back-off: a read on every view, 151 in these 15 minutes.
    assert.ok(state.reads.length <= 10, `${state.reads.length} zone reads in 15 minutes of views: ${JSON.stringify(state.reads)}`);
    assert.ok(gaps[0] >= SETTLE_BACKOFF_MIN_MS, `first retry after ${gaps[0]} ms`);
    for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i] >= gaps[i - 1], `the delays grow: ${JSON.stringify(gaps)}`);
    assert.ok(gaps.at(-1)! >= SETTLE_BACKOFF_MAX_MS && gaps.at(-1)! < SETTLE_BACKOFF_MAX_MS + 6_000, `capped: ${JSON.stringify(gaps)}`);
    assert.equal(store.getChange(id)!.status, 'intent', 'still open: its zone could not be read');
    assert.equal(lines.filter((l) => l.includes(`change ${id}`)).length, 1, 'the same error is logged once');
    const backing = settler.backoffOf(id);
    assert.equal(backing?.delayMs, SETTLE_BACKOFF_MAX_MS);

    // An undo or a fix (forced) does not wait for the back-off; its failure keeps the delay at the cap.
    const before = state.reads.length;
    clock.ms += 7_000;
    await settler.settle({ force: true });
    assert.equal(state.reads.length, before + 1);
    assert.equal(settler.backoffOf(id)?.delayMs, SETTLE_BACKOFF_MAX_MS);

    // The zone can be read again: at the next due view it settles, and its back-off is forgotten.
    state.readable = true;
    await views(settler, clock, clock.ms + 6_000, clock.ms + SETTLE_BACKOFF_MAX_MS + 6_000);
    assert.equal(store.getChange(id)!.status, 'applied');
    assert.equal(settler.backoffOf(id), null);
  });

  test('the back-off is per intent: a new interrupted fix starts at the first delay, and a due one is not held up by one backing off', async () => {
    const clock = { ms: 0 };
    const { panel, state } = flakyPanel(clock);
    const settler = new IntentSettler({ panel, store, makeResolver: noResolver, byUser: 'mailhealth' }, { now: () => clock.ms, log: () => {} });
    const first = intent(store);
    await settler.settle({ force: true });
    await views(settler, clock, 6_000, 10 * 60_000); // first backs off to the cap
    assert.equal(settler.backoffOf(first)?.delayMs, SETTLE_BACKOFF_MAX_MS);
    const second = intent(store);
    const readsBefore = state.reads.length;
    clock.ms += 6_000;
    await settler.settle();
    assert.equal(state.reads.length, readsBefore + 1, 'the new intent is tried at once, the backing-off one is not');
    assert.equal(settler.backoffOf(second)?.delayMs, SETTLE_BACKOFF_MIN_MS);
    assert.equal(settler.backoffOf(first)?.delayMs, SETTLE_BACKOFF_MAX_MS);
    // Settle both for good.
    state.readable = true;
    clock.ms += SETTLE_BACKOFF_MAX_MS + 1;
    await settler.settle();
    assert.equal(store.getChange(first)!.status, 'applied');
    assert.equal(store.getChange(second)!.status, 'applied');
    assert.equal(settler.backoffOf(first), null);
    assert.equal(settler.backoffOf(second), null);
  });
});
