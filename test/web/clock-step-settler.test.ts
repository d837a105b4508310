// The service's IntentSettler across a wall-clock step back (QA, time handling item 9): its throttle (`now - lastStart
// < minIntervalMs`) and the back-off of an intent whose zone cannot be read (`nextAt > now`) were judged by the wall
// clock, so after NTP stepped it back an hour neither its 15 s timer nor page views looked for interrupted fixes for
// that hour. Now a step back counts from now (and the default clock never steps). Fake clock, fake store and panel.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../src/adapters/store/store.js';
import type { Change } from '../../src/core/model.js';
import { PanelError, type Panel } from '../../src/core/panel.js';
import type { Resolver } from '../../src/core/resolver.js';
import { IntentSettler, SETTLE_BACKOFF_MIN_MS, SETTLE_TIMER_MS } from '../../src/web/server.js';

const T = Date.parse('2027-03-01T12:00:00Z');
const HOUR = 3600_000;

test('after a one-hour step back the timer keeps looking for open intents every tick', async () => {
  let now = T;
  let looks = 0;
  const store = { pendingIntents: () => (looks++, [{ id: 1, domain: 'bakery.example' }]) };
  const s = new IntentSettler(
    { panel: {} as never, store: store as never, makeResolver: () => ({}) as never, byUser: 'service', inScope: async () => new Set<string>() },
    { now: () => now, log: () => {} },
  );
  await s.settle();
  now -= HOUR;
  let ticksThatLooked = 0;
  for (let i = 0; i < 8; i++) {
    now += SETTLE_TIMER_MS; // two minutes of timer ticks
    const before = looks;
    await s.settle();
    if (looks > before) ticksThatLooked++;
  }
  assert.equal(ticksThatLooked, 8, 'every tick after the step looked (was 0 of 8 until the clock caught up)');
});

test('an intent backing off after a failed read waits its delay from now, not the step on top', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-settle-step-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = openStore(join(dir, 'h.sqlite'));
  t.after(() => store.close());
  const NAME = '_mailchannels.unreadable.example';
  const after = { name: NAME, ttl: 300, type: 'TXT', value: 'v=mc1 auth=x', txt: ['v=mc1 auth=x'] };
  const changes: Change[] = [{ action: 'add', name: NAME, type: 'TXT', ttl: 300, before: null, after }];
  const id = store.recordIntent({ domain: 'unreadable.example', check: 'lockdown', planHash: `sha256:${'0'.repeat(64)}`, zoneVersion: 'v1', changes, byUser: 'root' });
  let reads = 0;
  const refuse = () => Promise.reject(new PanelError('unsupported', 'not used here'));
  const panel: Panel = {
    kind: 'files',
    capabilities: { serialCheckedWrites: false, generateDkim: false },
    listAccounts: async () => [],
    listDomains: async () => [],
    readZone: async () => {
      reads++;
      throw new PanelError('unreachable', 'the panel did not answer');
    },
    readMailSettings: refuse,
    applyChanges: refuse,
  };
  let now = T;
  const s = new IntentSettler({ panel, store, makeResolver: () => ({ close() {} }) as unknown as Resolver, byUser: 'mailhealth' }, { now: () => now, log: () => {} });
  await s.settle({ force: true });
  assert.equal(reads, 1);
  assert.equal(s.backoffOf(id)?.delayMs, SETTLE_BACKOFF_MIN_MS);
  now -= HOUR; // the clock steps back
  // Two minutes of timer ticks: the back-off is counted from the first tick that sees the step (it cannot know when
  // the step came), then doubles as before — 10 s, 20 s, 40 s.
  for (let i = 0; i < 8; i++) {
    now += SETTLE_TIMER_MS;
    await s.settle();
  }
  assert.ok(reads >= 3 && reads <= 4, `retried within the two minutes after the step, backing off as before: ${reads} reads (was 1: none for an hour)`);
  assert.ok(s.backoffOf(id)!.delayMs > SETTLE_BACKOFF_MIN_MS);
  assert.equal(store.getChange(id)!.status, 'intent');
});
