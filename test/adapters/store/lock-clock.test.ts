// Leases judged on a clock that does not jump (schema v8, store.ts "Locks"). QA: a forward step of the wall clock (NTP,
// a VM resumed) made a fix's lease look run out to every process at once, and another took the domain mid-write (two
// SPF records); a step back held a domain locked for the step's length instead of two minutes; prune deleted live locks
// after a forward step. Every clock here is injected: the wall clock (`now`) and the lease clock (the boot's monotonic
// clock, shared by the processes of one boot) move only when a test moves them.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../../src/adapters/store/migrations.js';
import { bootClock, openStore, type StoreOptions } from '../../../src/adapters/store/store.js';

const root = mkdtempSync(join(tmpdir(), 'mailhealth-lock-clock-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(root, `case-${++n}.sqlite`);

const T0 = Date.parse('2027-03-01T12:00:00.000Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const LEASE = 2 * MIN;
const iso = (ms: number) => new Date(ms).toISOString();

/** One host's clocks: the wall clock every process reads, and this boot's monotonic clock (named `boot`). */
function hostClocks(boot = 'monotonic:test-boot-1') {
  const c = {
    wall: T0,
    mono: 7 * HOUR, // ms since boot
    /** Time passing: both clocks move. */
    pass(ms: number) {
      c.wall += ms;
      c.mono += ms;
    },
    /** A step of the wall clock alone (NTP, an admin, a VM resumed): the boot clock does not move. */
    step(ms: number) {
      c.wall += ms;
    },
    opts(clock = boot): StoreOptions {
      return { now: () => c.wall, leaseClock: () => ({ clock, ms: c.mono }) };
    },
  };
  return c;
}

describe('a lease written on the boot clock is judged on it alone', () => {
  test('a forward step of the wall clock: the holder keeps the lock (tryLock, handOverLock, renewLock); it runs out after its length on the boot clock', () => {
    const path = freshPath();
    const c = hostClocks();
    const fix = openStore(path, c.opts());
    const service = openStore(path, c.opts());
    try {
      assert.ok(fix.tryLock('domain:a.example', 'fix', LEASE));
      c.pass(30_000);
      c.step(HOUR); // chronyd steps the clock an hour ahead while the fix writes
      assert.equal(service.tryLock('domain:a.example', 'settler', LEASE), false, 'a fix on this domain is running');
      const held = service.lockHolder('domain:a.example');
      assert.equal(held?.owner, 'fix');
      assert.equal(iso(held!.expiresAt), iso(c.wall + LEASE - 30_000), 'what is left of the lease, on the wall clock as it reads now');
      assert.deepEqual(service.prune({ olderThanDays: 90 }).locks, 0, 'prune leaves a live lock');
      assert.equal(fix.renewLock('domain:a.example', 'fix', LEASE), true);
      c.pass(LEASE - 1);
      assert.equal(service.tryLock('domain:a.example', 'settler', LEASE), false, 'renewed: two minutes from the renewal');
      assert.equal(fix.handOverLock('domain:a.example', 'fix', 'settle-later:fix', LEASE), true, 'still held: handed over');
      c.pass(LEASE - 1);
      assert.equal(service.tryLock('domain:a.example', 'settler', LEASE), false);
      c.pass(1);
      assert.equal(service.lockHolder('domain:a.example'), null, 'over on the boot clock');
      assert.equal(service.tryLock('domain:a.example', 'settler', LEASE), true);
      assert.equal(fix.handOverLock('domain:a.example', 'settle-later:fix', 'x', LEASE), false);
    } finally {
      fix.close();
      service.close();
    }
  });

  test('a step back: the lease ends after its length, not the step\'s (a domain kept locked to settle a write, the report lock)', () => {
    const path = freshPath();
    const c = hostClocks();
    const a = openStore(path, c.opts());
    const b = openStore(path, c.opts());
    try {
      assert.ok(a.tryLock('domain:a.example', 'settle-later:x', LEASE));
      assert.ok(a.tryLock('report', 'report:host:1:abcd1234', 15 * MIN));
      c.step(-HOUR); // the admin corrects a clock an hour fast
      c.pass(LEASE + MIN);
      assert.equal(b.lockHolder('domain:a.example'), null);
      assert.equal(b.tryLock('domain:a.example', 'settler', LEASE), true, 'three minutes later the 2-minute lease is over');
      assert.equal(b.tryLock('report', 'report:host:2:abcd1234', 15 * MIN), false);
      assert.equal(iso(b.lockHolder('report')!.expiresAt), iso(c.wall + 12 * MIN), 'the report lock has 12 of its 15 minutes left');
      c.pass(12 * MIN);
      assert.equal(b.tryLock('report', 'report:host:2:abcd1234', 15 * MIN), true);
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('a lease judged on the wall clock (another boot or host, no boot clock, an older version)', () => {
  test('written on another clock: a forward step ends it (nothing better to go by); a step back holds it at most one more lease, written back by tryLock', () => {
    const path = freshPath();
    const c = hostClocks();
    const other = openStore(path, c.opts('monotonic:another-boot'));
    const here = openStore(path, c.opts());
    try {
      assert.ok(other.tryLock('domain:a.example', 'elsewhere', LEASE));
      c.step(-HOUR);
      c.pass(MIN);
      // Ends more than a lease ahead: the clock went back. It counts as one lease from now.
      assert.equal(iso(here.lockHolder('domain:a.example')!.expiresAt), iso(c.wall + LEASE));
      assert.equal(here.tryLock('domain:a.example', 'here', LEASE), false, 'still held');
      c.pass(LEASE - 1);
      assert.equal(here.tryLock('domain:a.example', 'here', LEASE), false, 'one lease from the first look after the step');
      c.pass(1);
      assert.equal(here.tryLock('domain:a.example', 'here', LEASE), true, 'not an hour later');
      // The owner's own boot judges its row on its clock; a row of this boot, on this one.
      assert.equal(other.lockHolder('domain:a.example')?.owner, 'here');
      assert.ok(other.releaseLock('domain:a.example', 'here'));
      assert.ok(other.tryLock('domain:b.example', 'elsewhere', LEASE));
      c.step(HOUR);
      assert.equal(here.tryLock('domain:b.example', 'here', LEASE), true, 'on the wall clock a forward step ends it, as before');
    } finally {
      other.close();
      here.close();
    }
  });

  test('no boot clock (leaseClock null, or a store given only a fake `now`): the wall clock, with the same bound after a step back', () => {
    const path = freshPath();
    const c = hostClocks();
    const a = openStore(path, { now: () => c.wall, leaseClock: null });
    const b = openStore(path, { now: () => c.wall }); // a test's fake clock: its time passing is the lease's
    try {
      assert.ok(a.tryLock('x', 'a', LEASE));
      c.pass(LEASE - 1);
      assert.equal(b.tryLock('x', 'b', LEASE), false);
      c.pass(1);
      assert.equal(b.tryLock('x', 'b', LEASE), true);
      c.step(-HOUR);
      assert.equal(a.tryLock('x', 'a', LEASE), false);
      c.pass(LEASE);
      assert.equal(a.tryLock('x', 'a', LEASE), true, 'two minutes after the step back, not an hour');
    } finally {
      a.close();
      b.close();
    }
  });

  test('a row an older version wrote (no lease length, no boot clock) is judged on the wall clock exactly as before', () => {
    const path = freshPath();
    const c = hostClocks();
    const s = openStore(path, c.opts());
    try {
      const raw = new Database(path);
      raw.prepare(`INSERT INTO locks (name, owner, acquired_at, expires_at) VALUES (?, ?, ?, ?)`).run('domain:a.example', 'root:4242:deadbeefcafe', c.wall, c.wall + HOUR);
      raw.close();
      assert.equal(s.lockHolder('domain:a.example')?.expiresAt, c.wall + HOUR, 'its own end: its lease length is not known');
      assert.equal(s.tryLock('domain:a.example', 'fix', LEASE), false);
      c.step(HOUR);
      assert.equal(s.tryLock('domain:a.example', 'fix', LEASE), true);
    } finally {
      s.close();
    }
  });
});

describe('prune and locks', () => {
  test('a clock far ahead deletes no live lock; a lease over on the boot clock goes', () => {
    const path = freshPath();
    const c = hostClocks();
    const s = openStore(path, c.opts());
    try {
      assert.ok(s.tryLock('domain:live.example', 'fix', LEASE));
      assert.ok(s.tryLock('report', 'report:host:1:abcd1234', 15 * MIN));
      c.step(365 * 24 * HOUR);
      assert.equal(s.prune({ olderThanDays: 90 }).locks, 0);
      assert.equal(s.lockHolder('domain:live.example')?.owner, 'fix');
      assert.equal(s.renewLock('domain:live.example', 'fix', LEASE), true);
      c.pass(LEASE + 1);
      assert.equal(s.prune({ olderThanDays: 90 }).locks, 1, 'the report lock still has its lease');
      assert.equal(s.lockHolder('report')?.owner, 'report:host:1:abcd1234');
      assert.equal(s.renewLock('domain:live.example', 'fix', LEASE), false, 'pruned: the holder knows it lost it');
    } finally {
      s.close();
    }
  });
});

describe('the boot clock', () => {
  test('on Linux: CLOCK_MONOTONIC named by the boot id (and time namespace), the same clock in every process of the boot', { skip: !existsSync('/proc/sys/kernel/random/boot_id') }, () => {
    const read = bootClock();
    assert.ok(read);
    const a = read()!;
    const b = read()!;
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    assert.ok(a.clock.startsWith(`monotonic:${boot}`), a.clock);
    assert.equal(b.clock, a.clock);
    assert.ok(b.ms >= a.ms);
    // Milliseconds since boot, as /proc/uptime counts them (which also counts suspend: never less).
    const uptimeMs = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
    assert.ok(a.ms <= uptimeMs + 1000, `${a.ms} vs uptime ${uptimeMs}`);
  });

  test('a store opened with no clocks given judges leases on the boot clock: a lock taken now is held', () => {
    const s = openStore(freshPath());
    try {
      assert.ok(s.tryLock('x', 'a', LEASE));
      assert.equal(s.tryLock('x', 'b', LEASE), false);
      assert.equal(s.lockHolder('x')?.owner, 'a');
    } finally {
      s.close();
    }
  });
});

describe('schema v8', () => {
  test('a v7 file with a lock of an older version migrates: the row stays, without a lease length or boot clock', () => {
    const path = freshPath();
    const c = hostClocks();
    openStore(path, { now: () => c.wall, migrations: MIGRATIONS.slice(0, 7) }).close();
    // The row as v7 wrote it (its columns; this code's tryLock writes v8's).
    const v7 = new Database(path);
    v7.prepare(`INSERT INTO locks (name, owner, acquired_at, expires_at) VALUES (?, ?, ?, ?)`).run('domain:a.example', 'root:4242:deadbeefcafe', c.wall, c.wall + LEASE);
    v7.close();
    const s = openStore(path, c.opts());
    try {
      assert.equal(s.schemaVersion(), MIGRATIONS.length);
      assert.equal(s.tryLock('domain:a.example', 'fix', LEASE), false);
      c.step(LEASE);
      assert.equal(s.tryLock('domain:a.example', 'fix', LEASE), true, 'judged on the wall clock, as the version that wrote it did');
    } finally {
      s.close();
    }
    const raw = new Database(path, { readonly: true });
    try {
      const row = raw.prepare(`SELECT owner, ttl_ms, clock, clock_expires_at FROM locks`).get();
      assert.deepEqual(row, { owner: 'fix', ttl_ms: LEASE, clock: 'monotonic:test-boot-1', clock_expires_at: 7 * HOUR + LEASE });
    } finally {
      raw.close();
    }
  });
});
