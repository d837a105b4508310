import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { Change, DomainAudit, Finding } from '../../../src/core/model.js';
import { APPLICATION_ID, MIGRATIONS, migrate, type Migration } from '../../../src/adapters/store/migrations.js';
import { resolveDbPath, SYSTEM_DB_PATH, USER_DB_RELATIVE, userDbPath } from '../../../src/adapters/store/path.js';
import { NEW_FILE_PAGE_SIZE, openStore, prepareAudit, Store, StoreError, type PreparedAudit, type StoreOptions } from '../../../src/adapters/store/store.js';
import { NASTY, readAll, SCENARIO_END, T0 as SCENARIO_T0, fakeClock as scenarioClock, writeScenario } from './v1-scenario.js';

const root = mkdtempSync(join(tmpdir(), 'mailhealth-store-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A fresh database path inside a not-yet-existing subdirectory (openStore must create it). */
function freshPath(): string {
  return join(root, `case-${++n}`, 'nested', 'mailhealth.sqlite');
}

const T0 = Date.parse('2025-03-01T00:00:00.000Z');
const DAY = 86_400_000;
function fakeClock(start = T0) {
  const c = { t: start, now: () => c.t, advance: (ms: number) => void (c.t += ms) };
  return c;
}

function open(path = freshPath(), options: StoreOptions = {}): Store {
  return openStore(path, options);
}

function isStoreError(code: StoreError['code'], pattern?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof StoreError, `expected StoreError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  };
}

const HOSTILE = 'nul\u0000 bell\u0007 esc\u001b[31m quote" back\\slash \u2028\u2029 rtl\u202e émoji😀 <script>alert(1)</script> \'; DROP TABLE findings; --';

function finding(over: Partial<Finding> = {}): Finding {
  return {
    rule: 'spf-missing',
    check: 'spf',
    severity: 'fail',
    message: 'No SPF record',
    evidence: { panel: [], live: [] },
    ...over,
  };
}

function audit(domain: string, auditedAt: string, findings: Finding[] = [finding()]): DomainAudit {
  return { domain, status: findings.length ? 'fail' : 'pass', auditedAt, findings };
}

describe('opening and migrations', () => {
  test('creates directory and schema from empty; WAL; re-open is idempotent and keeps data', () => {
    const path = freshPath();
    const s = open(path);
    assert.equal(s.schemaVersion(), MIGRATIONS.length);
    const run = s.startRun('audit', 'alice');
    s.close();
    s.close(); // idempotent

    const raw = new Database(path, { readonly: true });
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(raw.pragma('user_version', { simple: true }), MIGRATIONS.length);
    assert.equal(raw.pragma('application_id', { simple: true }), APPLICATION_ID);
    raw.close();

    const again = open(path);
    assert.equal(again.schemaVersion(), MIGRATIONS.length);
    assert.equal(again.getRun(run)?.byUser, 'alice');
    again.close();
  });

  test('foreign keys are enforced (results need a run)', () => {
    const s = open();
    assert.throws(() => s.recordAudit(999, audit('a.example', '2025-01-01T00:00:00.000Z')), isStoreError('not-found'));
    assert.equal(s.latestAudit('a.example'), null);
    s.close();
  });

  test('migrate applies the steps an upgrade needs in one transaction: a failing step rolls back the ones before it too', () => {
    // Upgrade QA: step by step, a failure left the file at a schema in between, which the previous version refuses
    // too. All or nothing: the file stays at the schema it had, which the previous version still opens.
    const db = new Database(join(root, `migrate-${++n}.sqlite`));
    const steps: Migration[] = [
      { description: 'one', sql: 'CREATE TABLE a (x INTEGER);' },
      { description: 'two', sql: 'CREATE TABLE b (y INTEGER);' },
      { description: 'broken', sql: 'CREATE TABLE c (z INTEGER); INSERT INTO nowhere VALUES (1);' },
    ];
    assert.deepEqual(migrate(db, steps.slice(0, 1)), [1]);
    assert.deepEqual(migrate(db, steps.slice(0, 1)), []);
    assert.throws(() => migrate(db, steps), /no such table: nowhere/);
    assert.equal(db.pragma('user_version', { simple: true }), 1);
    const tables = (db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
    assert.deepEqual(tables, ['a']);
    assert.deepEqual(migrate(db, steps.slice(0, 2)), [2]);
    db.close();
  });

  test('a file from a newer mailhealth is refused with too-new', () => {
    const path = freshPath();
    open(path).close();
    const raw = new Database(path);
    raw.pragma(`user_version = ${MIGRATIONS.length + 5}`);
    raw.close();
    assert.throws(() => open(path), isStoreError('too-new', /newer than this mailhealth knows/));
  });

  test('an SQLite file that is not ours is refused and left untouched', () => {
    const path = freshPath();
    open(path).close(); // creates the directory
    const other = path.replace('mailhealth.sqlite', 'other.sqlite');
    const raw = new Database(other);
    raw.exec('CREATE TABLE customers (id INTEGER)');
    raw.close();
    const before = readFileSync(other);
    assert.throws(() => open(other), isStoreError('corrupt', /not a mailhealth one/));
    assert.deepEqual(readFileSync(other), before);
  });

  test('a corrupted file (garbage bytes) gives StoreError corrupt with a clear message, and is not modified', () => {
    const path = freshPath();
    open(path).close();
    rmSync(path);
    const garbage = Buffer.alloc(8192);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) & 0xff;
    writeFileSync(path, garbage);
    assert.throws(() => open(path), isStoreError('corrupt', /is not a usable mailhealth database .*file is not a database.*move it aside/));
    assert.deepEqual(readFileSync(path), garbage);
    assert.equal(existsSync(path + '-wal'), false);
  });

  test('an unwritable location gives StoreError io', () => {
    const blocker = join(root, `blocker-${++n}`);
    writeFileSync(blocker, 'a file where a directory should be');
    assert.throws(() => open(join(blocker, 'sub', 'mailhealth.sqlite')), isStoreError('io', /cannot create the directory/));
  });

  test('a database held by another connection gives StoreError locked at open (rollback journal, exclusive)', () => {
    const path = freshPath();
    open(path).close();
    // Another process switched the file back to a rollback journal and holds an exclusive transaction:
    const holder = new Database(path);
    holder.pragma('journal_mode = DELETE');
    holder.exec('BEGIN EXCLUSIVE');
    try {
      assert.throws(() => open(path, { busyTimeoutMs: 20 }), isStoreError('locked', /locked by another process/));
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  });

  test('a write while another connection holds the write lock gives StoreError locked and writes nothing', () => {
    const path = freshPath();
    const s = open(path, { busyTimeoutMs: 20 });
    const run = s.startRun('audit', 'alice');
    const holder = new Database(path);
    holder.exec('BEGIN EXCLUSIVE');
    try {
      assert.throws(() => s.recordAudit(run, audit('a.example', '2025-01-01T00:00:00.000Z', [finding(), finding()])), isStoreError('locked'));
      assert.throws(() => s.tryLock('fix:a.example', 'p1', 1000), isStoreError('locked'));
      // Reads still work in WAL mode.
      assert.equal(s.getRun(run)?.id, run);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    assert.equal(s.latestAudit('a.example'), null);
    s.close();
    const check = new Database(path, { readonly: true });
    // Findings live in the results row (schema v2): no result row, no findings.
    assert.equal((check.prepare('SELECT count(*) AS n FROM results').get() as { n: number }).n, 0);
    assert.equal((check.prepare('SELECT count(*) AS n FROM locks').get() as { n: number }).n, 0);
    check.close();
  });
});

describe('audit history', () => {
  test('round trip: findings with classification, evidence JSON incl. hostile bytes, optional fields absent', () => {
    const s = open();
    const run = s.startRun('audit', 'alice', 1, { trigger: 'ui', note: HOSTILE });
    const findings: Finding[] = [
      finding({
        rule: 'spf-stale-include',
        subject: 'include:_spf.oldhost.example',
        message: `Stale include ${HOSTILE}`,
        classification: { class: 'stale', reason: `previous host ${HOSTILE}`, provider: 'oldhost', source: 'kb' },
        evidence: {
          panel: ['v=spf1 include:_spf.oldhost.example ~all', HOSTILE],
          live: ['lone surrogates \ud800 \udfff survive in JSON', '\u0000\u0001\u001f\u007f'],
          nested: { deep: [1, 2.5, null, true, { k: HOSTILE }] },
        },
        fix: 'spf',
      }),
      finding({ rule: 'dmarc-missing', check: 'dmarc', severity: 'warn', message: 'No DMARC', evidence: {} }),
      finding({ rule: 'ptr-ok', check: 'ptr', severity: 'pass', message: 'PTR matches', evidence: { live: ['mail.example.com'] } }),
    ];
    const a: DomainAudit = { domain: 'example.com', status: 'fail', auditedAt: '2025-03-01T10:00:00.000Z', findings };
    const rid = s.recordAudit(run, a, 'cust1');
    assert.ok(rid > 0);
    s.bumpRunProgress(run, { done: 1 });
    s.finishRun(run, 'complete');

    assert.deepEqual(s.latestAudit('example.com'), a);
    const [res] = s.runResults(run);
    assert.equal(res.owner, 'cust1');
    assert.equal(res.findingsCount, 3);
    assert.equal(res.runId, run);
    assert.deepEqual(res.findings, findings);
    const r = s.getRun(run)!;
    assert.equal(r.status, 'complete');
    assert.equal(r.done, 1);
    assert.equal(r.failed, 0);
    assert.equal(r.total, 1);
    assert.ok(r.finishedAt);
    assert.deepEqual(r.meta, { trigger: 'ui', note: HOSTILE });
    s.close();
  });

  test('an audit with no findings round-trips; latest is by auditedAt (a batch written late hides no re-audit), ties go to the later write; lists in the order written', () => {
    const s = open();
    const run = s.startRun('audit', 'alice');
    s.recordAudit(run, audit('x.example', '2025-03-02T00:00:00.000Z', []));
    s.recordAudit(run, audit('x.example', '2025-03-01T23:50:00.000Z')); // recorded later, audited 10 minutes earlier
    assert.deepEqual(s.latestAudit('x.example'), audit('x.example', '2025-03-02T00:00:00.000Z', []));
    s.recordAudit(run, audit('x.example', '2025-03-02T00:00:00Z', [finding({ rule: 'tie' })])); // same instant, normalised
    assert.equal(s.latestAudit('x.example')?.findings[0]?.rule, 'tie');
    assert.equal(s.latestAudits(['x.example']).get('x.example')?.findings[0]?.rule, 'tie');
    assert.equal(s.latestAudits().get('x.example')?.findings[0]?.rule, 'tie');
    assert.deepEqual(
      s.auditsForDomain('x.example', 10).map((r) => [r.auditedAt, r.findings.length]),
      [
        ['2025-03-02T00:00:00.000Z', 1],
        ['2025-03-01T23:50:00.000Z', 1],
        ['2025-03-02T00:00:00.000Z', 0],
      ],
    );
    assert.equal(s.auditsForDomain('x.example', 2).length, 2);
    assert.throws(() => s.recordAudit(run, audit('x.example', 'yesterday-ish')), isStoreError('invalid'));

    // Batch: all or nothing, ids in order.
    const ids = s.recordAudits(run, [
      { audit: audit('y.example', '2025-03-05T00:00:00.000Z'), owner: 'o1' },
      { audit: audit('z.example', '2025-03-05T00:00:00.000Z', []) },
    ]);
    assert.equal(ids.length, 2);
    assert.ok(ids[1] > ids[0]);
    assert.deepEqual(
      s.runResults(run).filter((r) => r.domain !== 'x.example').map((r) => [r.resultId, r.domain, r.owner, r.findings.length]),
      [
        [ids[0], 'y.example', 'o1', 1],
        [ids[1], 'z.example', null, 0],
      ],
    );
    assert.throws(
      () => s.recordAudits(9999, [{ audit: audit('w.example', '2025-03-05T00:00:00.000Z') }]),
      isStoreError('not-found'),
    );
    assert.throws(
      () => s.recordAudits(run, [{ audit: audit('w.example', '2025-03-05T00:00:00.000Z') }, { audit: { ...audit('v.example', 'x'), status: 'pass' } }]),
      isStoreError('invalid'),
    );
    const other = s.startRun('audit', 'x');
    // Second item violates a CHECK constraint after the first was inserted: the first is rolled back too.
    assert.throws(
      () => s.recordAudits(other, [{ audit: audit('w.example', '2025-03-05T00:00:00.000Z') }, { audit: { ...audit('v.example', '2025-03-05T00:00:00.000Z'), status: 'bogus' as never } }]),
      isStoreError('invalid'),
    );
    assert.equal(s.latestAudit('w.example'), null);
    assert.deepEqual(s.runResults(other), []);
    s.close();
  });

  test('latestAudits over 10,000 domains returns each domain\'s latest row (all, and a chosen subset)', () => {
    const s = open();
    const domains = Array.from({ length: 10_000 }, (_, i) => `d${String(i).padStart(5, '0')}.example`);
    // Night 1: everyone fails. Night 2: even domains pass. Night 3 (partial): every 7th gets a warn.
    const night1 = s.startRun('report', 'cron');
    for (const d of domains) s.recordAudit(night1, audit(d, '2025-03-01T02:00:00.000Z', [finding({ subject: d })]));
    const night2 = s.startRun('report', 'cron');
    domains.forEach((d, i) => {
      if (i % 2 === 0) s.recordAudit(night2, audit(d, '2025-03-02T02:00:00.000Z', []));
    });
    const night3 = s.startRun('bulk', 'alice');
    domains.forEach((d, i) => {
      if (i % 7 === 0) {
        s.recordAudit(night3, {
          domain: d,
          status: 'warn',
          auditedAt: '2025-03-03T02:00:00.000Z',
          findings: [finding({ severity: 'warn', rule: 'w1', subject: d }), finding({ severity: 'info', rule: 'w2' })],
        });
      }
    });

    const expectFor = (i: number) =>
      i % 7 === 0 ? { status: 'warn', auditedAt: '2025-03-03T02:00:00.000Z', rules: ['w1', 'w2'], run: night3 }
      : i % 2 === 0 ? { status: 'pass', auditedAt: '2025-03-02T02:00:00.000Z', rules: [], run: night2 }
      : { status: 'fail', auditedAt: '2025-03-01T02:00:00.000Z', rules: ['spf-missing'], run: night1 };

    const all = s.latestAudits();
    assert.equal(all.size, 10_000);
    assert.deepEqual([...all.keys()], domains); // domain order
    domains.forEach((d, i) => {
      const got = all.get(d)!;
      const want = expectFor(i);
      assert.equal(got.domain, d);
      assert.equal(got.status, want.status, d);
      assert.equal(got.auditedAt, want.auditedAt, d);
      assert.equal(got.runId, want.run, d);
      assert.deepEqual(got.findings.map((f) => f.rule), want.rules, d);
      assert.equal(got.findingsCount, want.rules.length);
    });

    const subset = s.latestAudits(['d00007.example', 'd00008.example', 'd00009.example', 'nope.example', 'd00007.example']);
    assert.deepEqual([...subset.keys()], ['d00007.example', 'd00008.example', 'd00009.example']);
    assert.equal(subset.get('d00007.example')!.status, 'warn');
    assert.equal(subset.get('d00008.example')!.status, 'pass');
    assert.equal(subset.get('d00009.example')!.status, 'fail');
    assert.deepEqual(subset.get('d00007.example')!.findings[0].subject, 'd00007.example');
    assert.equal(s.latestAudits([]).size, 0);

    // Comparing nightly runs.
    const r1 = s.runResults(night1);
    const r2 = s.runResults(night2);
    assert.equal(r1.length, 10_000);
    assert.equal(r2.length, 5_000);
    assert.ok(r2.every((r) => r.status === 'pass' && r.findings.length === 0));
    s.close();
  });

  test('runs: listRuns newest first and by kind; progress bumps; unknown run is not-found', () => {
    const clock = fakeClock();
    const s = open(freshPath(), { now: clock.now });
    const a = s.startRun('audit', 'alice');
    clock.advance(1000);
    const b = s.startRun('bulk', 'bob', 10, { scope: ['x'] });
    const c = s.startRun('report', 'cron');
    assert.deepEqual(s.listRuns({ limit: 10 }).map((r) => r.id), [c, b, a]);
    assert.deepEqual(s.listRuns({ kind: 'bulk', limit: 10 }).map((r) => r.id), [b]);
    assert.deepEqual(s.listRuns({ limit: 1 }).map((r) => r.id), [c]);
    s.bumpRunProgress(b, { done: 3 });
    s.bumpRunProgress(b, { done: 2, failed: 1 });
    const run = s.getRun(b)!;
    assert.deepEqual([run.done, run.failed, run.total, run.status, run.startedAt], [5, 1, 10, 'running', '2025-03-01T00:00:01.000Z']);
    assert.equal(s.getRun(a)!.meta, null);
    assert.equal(s.getRun(12345), null);
    assert.throws(() => s.bumpRunProgress(12345, { done: 1 }), isStoreError('not-found'));
    assert.throws(() => s.finishRun(12345, 'complete'), isStoreError('not-found'));
    s.close();
  });
});

describe('changes', () => {
  const txt = (value: string) => ({ name: 'example.com', ttl: 3600, type: 'TXT', value, txt: [value] });
  const changes: Change[] = [
    { action: 'edit', name: 'example.com', type: 'TXT', ttl: 3600, before: txt('v=spf1 include:old ~all'), after: txt('v=spf1 a mx ~all') },
    { action: 'add', name: '_dmarc.example.com', type: 'TXT', ttl: 3600, before: null, after: { ...txt('v=DMARC1; p=none'), name: '_dmarc.example.com' } },
  ];

  test('intent → pendingIntents → outcome; history newest first; undo links', () => {
    const clock = fakeClock();
    const s = open(freshPath(), { now: clock.now });
    const id = s.recordIntent({ domain: 'example.com', check: 'spf', planHash: 'sha256:abc', zoneVersion: '2025030101', changes, byUser: 'alice' });
    const pending = s.pendingIntents();
    assert.equal(pending.length, 1);
    assert.equal(pending[0].id, id);
    assert.equal(pending[0].status, 'intent');
    assert.deepEqual(pending[0].changes, changes);
    assert.equal(pending[0].zoneVersionBefore, '2025030101');
    assert.equal(pending[0].zoneVersionAfter, null);
    assert.equal(pending[0].verified, null);
    assert.equal(pending[0].createdAt, '2025-03-01T00:00:00.000Z');

    clock.advance(5000);
    s.recordOutcome(id, { status: 'applied', zoneVersionAfter: '2025030102', verified: 'propagating' });
    assert.deepEqual(s.pendingIntents(), []);
    let c = s.getChange(id)!;
    assert.deepEqual([c.status, c.zoneVersionAfter, c.verified, c.error, c.updatedAt], ['applied', '2025030102', 'propagating', null, '2025-03-01T00:00:05.000Z']);
    s.setVerified(id, 'yes');
    s.recordOutcome(id, { status: 'applied' }); // omitted fields are kept
    c = s.getChange(id)!;
    assert.deepEqual([c.verified, c.zoneVersionAfter], ['yes', '2025030102']);

    const failed = s.recordIntent({ domain: 'other.example', check: 'dkim', planHash: 'h2', zoneVersion: null, changes: [], byUser: 'bob' });
    s.recordOutcome(failed, { status: 'failed', error: `panel said: ${HOSTILE}` });
    assert.equal(s.getChange(failed)!.error, `panel said: ${HOSTILE}`);

    const undo = s.recordIntent({ domain: 'example.com', check: 'spf', planHash: 'sha256:undo', zoneVersion: '2025030102', changes: [], byUser: 'alice', undoOf: id });
    s.recordOutcome(undo, { status: 'applied', zoneVersionAfter: '2025030103' });
    s.markUndone(id, undo);
    s.markUndone(id, undo); // same undo again is harmless
    assert.equal(s.getChange(id)!.undoneBy, undo);
    assert.equal(s.getChange(undo)!.undoOf, id);
    assert.throws(() => s.markUndone(id, failed), isStoreError('invalid', /already undone by change/));
    assert.throws(() => s.markUndone(id, 9999), isStoreError('invalid'));
    assert.throws(() => s.markUndone(9999, undo), isStoreError('not-found'));
    assert.throws(() => s.recordOutcome(9999, { status: 'applied' }), isStoreError('not-found'));
    assert.throws(() => s.setVerified(9999, 'no'), isStoreError('not-found'));
    assert.throws(
      () => s.recordIntent({ domain: 'x', check: 'spf', planHash: 'h', zoneVersion: null, changes: [], byUser: 'a', undoOf: 9999 }),
      isStoreError('not-found'),
    );

    assert.deepEqual(s.changesForDomain('example.com', 10).map((x) => x.id), [undo, id]);
    assert.deepEqual(s.changesForDomain(undefined, 10).map((x) => x.id), [undo, failed, id]);
    assert.deepEqual(s.changesForDomain(null, 1).map((x) => x.id), [undo]);
    assert.equal(s.getChange(424242), null);
    s.close();
  });

  test('an intent written by one process is seen as pending by the next (crash between intent and outcome)', () => {
    const path = freshPath();
    const a = open(path);
    const id = a.recordIntent({ domain: 'example.com', check: 'dkim', planHash: 'h', zoneVersion: 'v1', changes, byUser: 'alice' });
    a.close(); // "crash"
    const b = open(path);
    assert.deepEqual(b.pendingIntents().map((c) => c.id), [id]);
    b.recordOutcome(id, { status: 'restored', error: 'reconciled at start: zone unchanged' });
    assert.deepEqual(b.pendingIntents(), []);
    b.close();
  });
});

describe('locks (fake clock)', () => {
  test('held, expired, released — two Store instances on one file act as two processes', () => {
    const path = freshPath();
    const clock = fakeClock();
    const p1 = open(path, { now: clock.now });
    const p2 = open(path, { now: clock.now });

    assert.equal(p1.tryLock('fix:example.com', 'p1', 60_000), true);
    assert.equal(p2.tryLock('fix:example.com', 'p2', 60_000), false);
    assert.equal(p1.tryLock('fix:example.com', 'p1', 60_000), false, 'not re-entrant');
    assert.equal(p2.tryLock('fix:other.example', 'p2', 60_000), true, 'other names are independent');
    assert.equal(p2.lockHolder('fix:example.com')?.owner, 'p1');
    assert.equal(p2.releaseLock('fix:example.com', 'p2'), false, 'only the holder releases');

    clock.advance(59_999);
    assert.equal(p2.tryLock('fix:example.com', 'p2', 60_000), false);
    assert.equal(p1.renewLock('fix:example.com', 'p1', 60_000), true);
    clock.advance(59_999);
    assert.equal(p2.tryLock('fix:example.com', 'p2', 60_000), false, 'renewed lease still held');
    clock.advance(1);
    // p1 "crashed": its lease is over.
    assert.equal(p1.lockHolder('fix:example.com'), null);
    assert.equal(p2.tryLock('fix:example.com', 'p2', 60_000), true);
    assert.equal(p1.renewLock('fix:example.com', 'p1', 60_000), false);
    assert.equal(p1.releaseLock('fix:example.com', 'p1'), false, 'a late release does not free the new holder');
    assert.equal(p1.tryLock('fix:example.com', 'p1', 60_000), false);

    assert.equal(p2.releaseLock('fix:example.com', 'p2'), true);
    assert.equal(p1.tryLock('fix:example.com', 'p1', 60_000), true);
    assert.throws(() => p1.tryLock('x', 'p1', 0), isStoreError('invalid'));
    p1.close();
    p2.close();
  });

  test('handOverLock passes a held lock on with a new lease in one step; not an expired or foreign one', async () => {
    const path = freshPath();
    const clock = fakeClock();
    const p1 = open(path, { now: clock.now });
    const p2 = open(path, { now: clock.now });
    assert.equal(p2.handOverLock('domain:a.example', 'p1', 'later', 60_000), false, 'nothing held');
    // Inside withLock: the holder hands over, and withLock's own release then frees nothing.
    await p1.withLock('domain:a.example', 'p1', 60_000, () => {
      clock.advance(30_000);
      assert.equal(p2.handOverLock('domain:a.example', 'p2', 'later', 60_000), false, 'only the holder hands over');
      assert.equal(p1.handOverLock('domain:a.example', 'p1', 'later', 120_000), true);
    });
    assert.equal(p2.lockHolder('domain:a.example')?.owner, 'later');
    assert.equal(p2.tryLock('domain:a.example', 'p2', 60_000), false);
    clock.advance(119_999);
    assert.equal(p2.tryLock('domain:a.example', 'p2', 60_000), false, 'the new lease runs from the hand-over');
    clock.advance(1);
    assert.equal(p2.tryLock('domain:a.example', 'p2', 60_000), true);
    clock.advance(60_000);
    assert.equal(p2.handOverLock('domain:a.example', 'p2', 'later', 60_000), false, 'an expired lease is not handed over');
    assert.throws(() => p1.handOverLock('x', 'p1', 'y', 0), isStoreError('invalid'));
    p1.close();
    p2.close();
  });

  test('withLock runs fn under the lock, releases it after success or failure, and throws locked when held', async () => {
    const path = freshPath();
    const clock = fakeClock();
    const p1 = open(path, { now: clock.now });
    const p2 = open(path, { now: clock.now });

    const seen = await p1.withLock('report:nightly', 'cron-1', 3_600_000, async () => {
      await assert.rejects(p2.withLock('report:nightly', 'cron-2', 3_600_000, () => 'never'), isStoreError('locked', /"report:nightly" is busy: held by cron-1 until/));
      return p2.lockHolder('report:nightly')?.owner;
    });
    assert.equal(seen, 'cron-1');
    assert.equal(p2.lockHolder('report:nightly'), null);

    await assert.rejects(p1.withLock('fix:a', 'o1', 1000, () => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(p2.tryLock('fix:a', 'o2', 1000), true);

    let ran = false;
    await assert.rejects(p1.withLock('fix:a', 'o1', 1000, () => (ran = true)), isStoreError('locked'));
    assert.equal(ran, false);
    clock.advance(1000);
    assert.equal(await p1.withLock('fix:a', 'o1', 1000, () => 42), 42);
    p1.close();
    p2.close();
  });
});

describe('jobs, users, settings, reports', () => {
  test('jobs: create, update, list per user, cancel', () => {
    const clock = fakeClock();
    const path = freshPath();
    const s = open(path, { now: clock.now });
    const j1 = s.createJob({ kind: 'bulk-audit', byUser: 'alice', scope: { domains: ['a.example', HOSTILE] }, total: 2 });
    clock.advance(10);
    const j2 = s.createJob({ kind: 'bulk-audit', byUser: 'bob', scope: null, total: 5 });
    const j3 = s.createJob({ kind: 'bulk-fix', byUser: 'alice', total: 1 });
    assert.deepEqual(s.listJobs('alice').map((j) => j.id), [j3, j1]);
    assert.deepEqual(s.listJobs().map((j) => j.id), [j3, j2, j1]);

    const run = s.startRun('bulk', 'alice', 2);
    s.updateJob(j1, { status: 'running', runId: run });
    s.updateJob(j1, { done: 1, failed: 1 });
    const job = s.getJob(j1)!;
    assert.deepEqual(
      [job.status, job.done, job.failed, job.total, job.runId, job.cancelRequested, job.scope],
      ['running', 1, 1, 2, run, false, { domains: ['a.example', HOSTILE] }],
    );

    assert.equal(s.isCancelRequested(j1), false);
    // The web process asks; the worker (another Store on the same file) sees it.
    const worker = open(path, { now: clock.now });
    assert.equal(s.requestCancel(j1), true);
    assert.equal(worker.isCancelRequested(j1), true);
    worker.updateJob(j1, { status: 'cancelled' });
    worker.close();
    assert.equal(s.getJob(j1)!.status, 'cancelled');
    assert.equal(s.requestCancel(j1), false, 'finished jobs cannot be cancelled');
    assert.equal(s.requestCancel(9999), false);
    assert.equal(s.isCancelRequested(9999), false);
    assert.equal(s.getJob(9999), null);
    assert.throws(() => s.updateJob(9999, { done: 1 }), isStoreError('not-found'));
    assert.throws(() => s.updateJob(j2, { done: -1 }), isStoreError('invalid'));
    s.close();
  });

  test('jobs: the count of domains skipped as gone; pageJobs lists every running job of a user and their latest finished one', () => {
    const s = open();
    const j1 = s.createJob({ kind: 'bulk-audit', byUser: 'rita', total: 10 });
    s.updateJob(j1, { status: 'running' });
    const done = s.createJob({ kind: 'bulk-audit', byUser: 'rita', total: 1 });
    s.updateJob(done, { status: 'complete', done: 1 });
    const j3 = s.createJob({ kind: 'bulk-audit', byUser: 'rita', total: 3 });
    s.updateJob(j3, { status: 'running' });
    const other = s.createJob({ kind: 'bulk-audit', byUser: 'rex', total: 2 });
    s.updateJob(other, { status: 'running' });
    assert.equal(s.getJob(j1)!.gone, 0);
    s.updateJob(j1, { done: 4, failed: 1, gone: 2 });
    assert.deepEqual([s.getJob(j1)!.done, s.getJob(j1)!.failed, s.getJob(j1)!.gone], [4, 1, 2]);
    s.updateJob(j1, { done: 5 });
    assert.equal(s.getJob(j1)!.gone, 2, 'an update that does not name it keeps it');
    assert.throws(() => s.updateJob(j1, { gone: -1 }), isStoreError('invalid'));

    // listJobs(user, 1) would give j3 alone: j1 still runs and must be on the page too.
    const page = s.pageJobs('rita');
    assert.deepEqual(page.active.map((j) => j.id), [j3, j1]);
    assert.equal(page.lastFinished?.id, done);
    assert.deepEqual(s.pageJobs('nobody'), { active: [], lastFinished: null });
    s.close();
  });

  test('users and settings', () => {
    const s = open();
    assert.equal(s.getPasswordHash('alice'), null);
    s.setPasswordHash('alice', 'scrypt$1');
    s.setPasswordHash('alice', 'scrypt$2');
    assert.equal(s.getPasswordHash('alice'), 'scrypt$2');

    assert.equal(s.getSetting('report.recipients'), undefined);
    s.setSetting('report.recipients', ['ops@example.com']);
    s.setSetting('report.hour', 3);
    s.setSetting('flag', false);
    s.setSetting('nothing', null);
    s.setSetting('hostile', { text: HOSTILE });
    assert.deepEqual(s.getSetting<string[]>('report.recipients'), ['ops@example.com']);
    assert.equal(s.getSetting('flag'), false);
    assert.equal(s.getSetting('nothing'), null);
    assert.deepEqual(s.allSettings(), { flag: false, hostile: { text: HOSTILE }, nothing: null, 'report.hour': 3, 'report.recipients': ['ops@example.com'] });
    s.setSetting('flag', undefined);
    assert.equal(s.getSetting('flag'), undefined);
    assert.throws(() => s.setSetting('fn', () => 1), isStoreError('invalid'));
    // Several at once: all or nothing, `undefined` deletes.
    s.setSettings({ 'report.schedule': '15 4 * * *', 'report.timezone': 'UTC', 'report.hour': undefined });
    assert.deepEqual([s.getSetting('report.schedule'), s.getSetting('report.timezone'), s.getSetting('report.hour')], ['15 4 * * *', 'UTC', undefined]);
    assert.throws(() => s.setSettings({ 'report.schedule': '0 5 * * *', fn: () => 1 }), isStoreError('invalid'));
    assert.equal(s.getSetting('report.schedule'), '15 4 * * *', 'nothing of a refused save is written');
    s.close();
  });

  test('reports and deliveries', () => {
    const s = open();
    const run = s.startRun('report', 'cron');
    assert.equal(s.getReport(run), null);
    s.saveReport(run, { json: { domains: 3, failing: ['a.example'] }, html: '<h1>Report</h1>', text: 'Report' });
    s.saveReport(run, { json: { domains: 3, failing: [] }, html: `<h1>${HOSTILE}</h1>`, text: 'Report v2' });
    s.recordDelivery(run, 'ops@example.com', true);
    s.recordDelivery(run, 'bad@example.com', false, '550 no such user');
    const r = s.getReport(run)!;
    assert.deepEqual(r.json, { domains: 3, failing: [] });
    assert.equal(r.html, `<h1>${HOSTILE}</h1>`);
    assert.equal(r.text, 'Report v2');
    assert.deepEqual(
      r.deliveries.map((d) => [d.recipient, d.ok, d.error]),
      [
        ['ops@example.com', true, null],
        ['bad@example.com', false, '550 no such user'],
      ],
    );
    assert.throws(() => s.saveReport(9999, { json: {}, html: '', text: '' }), isStoreError('not-found'));
    s.close();
  });
});

describe('retention', () => {
  test('prune keeps the latest audit of every domain and every change; removes old results, findings, runs, reports', () => {
    const clock = fakeClock(T0);
    const s = open(freshPath(), { now: clock.now });
    const iso = (ms: number) => new Date(ms).toISOString();

    // Day 0: a.example and b.example audited (b never again). Report saved on that run.
    const old = s.startRun('report', 'cron');
    s.recordAudit(old, audit('a.example', iso(T0), [finding(), finding({ rule: 'r2' })]));
    s.recordAudit(old, audit('b.example', iso(T0), [finding({ rule: 'b-only' })]));
    s.saveReport(old, { json: {}, html: '', text: '' });
    s.finishRun(old, 'complete');
    // Day 1: a.example only, a run with no b.
    clock.advance(DAY);
    const mid = s.startRun('audit', 'alice');
    s.recordAudit(mid, audit('a.example', iso(T0 + DAY), [finding({ rule: 'mid' })]));
    s.finishRun(mid, 'complete');
    // An old empty run that never finished (still 'running'): kept.
    const stuck = s.startRun('bulk', 'bob');
    // Changes from day 0/1, never pruned.
    const ch1 = s.recordIntent({ domain: 'a.example', check: 'spf', planHash: 'h', zoneVersion: '1', changes: [], byUser: 'alice' });
    s.recordOutcome(ch1, { status: 'applied' });
    const ch2 = s.recordIntent({ domain: 'b.example', check: 'dmarc', planHash: 'h', zoneVersion: '1', changes: [], byUser: 'alice' });
    const job = s.createJob({ kind: 'bulk', byUser: 'bob', total: 1 });
    s.updateJob(job, { status: 'complete' });
    s.tryLock('fix:a.example', 'gone', 1000);

    // Day 40: a.example audited again.
    clock.advance(39 * DAY);
    const recent = s.startRun('report', 'cron');
    s.recordAudit(recent, audit('a.example', iso(clock.t), [finding({ rule: 'recent' })]));
    s.finishRun(recent, 'complete');

    // One day: the newest complete report run (recent) is the one kept whatever its age (see the next test).
    const counts = s.prune({ olderThanDays: 1 });
    assert.deepEqual(counts, { runs: 1, results: 2, findings: 3, reports: 0, jobs: 1, locks: 1 });
    // old run keeps b.example's (latest) result so it survives; mid run lost its only result.
    assert.equal(s.getRun(mid), null);
    assert.ok(s.getRun(old));
    assert.ok(s.getReport(old));
    assert.ok(s.getRun(stuck));
    assert.ok(s.getRun(recent));
    assert.deepEqual(s.latestAudit('b.example')?.findings.map((f) => f.rule), ['b-only']);
    assert.deepEqual(s.auditsForDomain('a.example', 10).map((r) => r.findings.map((f) => f.rule)), [['recent']]);
    assert.deepEqual(s.runResults(old).map((r) => r.domain), ['b.example']);
    assert.deepEqual(s.changesForDomain(null, 10).map((c) => c.id), [ch2, ch1]);
    assert.equal(s.getJob(job), null);

    // b.example is re-audited; now the old run empties and goes, with its report and deliveries.
    s.recordDelivery(old, 'ops@example.com', true);
    s.recordAudit(recent, audit('b.example', iso(clock.t), []));
    assert.deepEqual(s.prune({ olderThanDays: 1 }), { runs: 1, results: 1, findings: 1, reports: 1, jobs: 0, locks: 0 });
    assert.equal(s.getRun(old), null);
    assert.equal(s.getReport(old), null);
    assert.equal(s.latestAudits().size, 2);

    // Pruning everything older than now still keeps each domain's latest result and every change.
    clock.advance(400 * DAY);
    const last = s.prune({ olderThanDays: 0 });
    assert.equal(last.results, 0);
    assert.equal(s.latestAudits().size, 2);
    assert.equal(s.changesForDomain(null, 10).length, 2);
    assert.throws(() => s.prune({ olderThanDays: -1 }), isStoreError('invalid'));
    s.close();
  });
});

describe('resolveDbPath', () => {
  test('flag, then env, then root default, then per-user default', () => {
    assert.equal(resolveDbPath({ flag: '/tmp/flag.sqlite', env: '/tmp/env.sqlite', isRoot: true }), '/tmp/flag.sqlite');
    assert.equal(resolveDbPath({ flag: '', env: '/tmp/env.sqlite', isRoot: true }), '/tmp/env.sqlite');
    assert.equal(resolveDbPath({ env: '/tmp/env.sqlite', isRoot: false }), '/tmp/env.sqlite');
    assert.equal(resolveDbPath({ env: null, isRoot: true }), SYSTEM_DB_PATH);
    assert.equal(resolveDbPath({ env: '', isRoot: false, home: '/home/alice' }), '/home/alice/.local/share/mailhealth/mailhealth.sqlite');
    assert.equal(SYSTEM_DB_PATH, '/var/lib/mailhealth/mailhealth.sqlite');
    assert.equal(userDbPath('/h'), join('/h', USER_DB_RELATIVE));
    assert.equal(resolveDbPath({ flag: 'rel/db.sqlite' }), resolve('rel/db.sqlite'));
  });

  test('env defaults to process.env.MAILHEALTH_DB', () => {
    const saved = process.env.MAILHEALTH_DB;
    try {
      process.env.MAILHEALTH_DB = '/tmp/from-env.sqlite';
      assert.equal(resolveDbPath({ isRoot: true }), '/tmp/from-env.sqlite');
      assert.equal(resolveDbPath({ flag: '/tmp/f.sqlite' }), '/tmp/f.sqlite');
      delete process.env.MAILHEALTH_DB;
      assert.equal(resolveDbPath({ isRoot: true }), SYSTEM_DB_PATH);
      assert.equal(resolveDbPath({ isRoot: false, home: '/home/bob' }), userDbPath('/home/bob'));
    } finally {
      if (saved === undefined) delete process.env.MAILHEALTH_DB;
      else process.env.MAILHEALTH_DB = saved;
    }
  });
});

describe('schema v2: one findings document per result', () => {
  const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
  const v1Readback = readFileSync(join(fixtures, 'v1-readback.json'), 'utf8').trimEnd();

  /**
   * The readers' answers as the v1 store gave them (fixtures/v1-readback.json), byte for byte, key order included —
   * except what later versions changed on purpose, each checked against v1's own answer:
   * - schema v8, "Audit order" (store.ts): lists in the order written, never by audited_at, which a clock set back makes
   *   lie (the scenario's bulk run writes an audit of d03.example stamped before night 1's after it): v1's rows, newest
   *   written first;
   * - prune (QA r1): night 2 is recorded 37 days after the bulk run, alone — to prune, as a night at a clock far ahead
   *   would be (the two cannot be told apart) — so ages are judged against the bulk run's time (plus 3 days), not the
   *   clock: the 30-day prune deletes nothing, and the 0-day prune, 400 days on, deletes in one go what v1's two prunes
   *   deleted between them (each domain's latest result stays; night 2, the newest complete report run kept whole,
   *   holds only latest ones).
   */
  function assertAsV1(got: string): void {
    type Row = { resultId: number; runId: number; findingsCount: number };
    type Counts = { runs: number; results: number; findings: number; reports: number; jobs: number; locks: number };
    const g = JSON.parse(got) as Record<string, unknown>;
    const w = JSON.parse(v1Readback) as Record<string, unknown>;
    const changed = new Set(['auditsForDomain', 'recentResults', 'prune30', 'afterPrune30', 'prune0']);
    assert.deepEqual(Object.keys(g), Object.keys(w));
    for (const k of Object.keys(w)) if (!changed.has(k)) assert.equal(JSON.stringify(g[k]), JSON.stringify(w[k]), k);
    const written = (rows: Row[]) => [...rows].sort((a, b) => b.resultId - a.resultId);
    const lists = w.auditsForDomain as Row[][][];
    assert.equal(JSON.stringify(g.auditsForDomain), JSON.stringify(lists.map(([all, one]) => [written(all), one])));
    assert.equal(JSON.stringify(g.recentResults), JSON.stringify((w.recentResults as Row[][]).map(written)));
    const v1Prune30 = w.prune30 as Counts;
    const v1Prune0 = w.prune0 as Counts;
    assert.ok(v1Prune30.results > 0, 'v1 pruned at 30 days');
    assert.deepEqual(g.prune30, { runs: 0, results: 0, findings: 0, reports: 0, jobs: 0, locks: 0 });
    assert.equal(JSON.stringify(g.afterPrune30), JSON.stringify((w.afterPrune30 as [string, Row[]][]).map(([d], i) => [d, written(lists[i][0])])));
    const sum = Object.fromEntries(Object.keys(v1Prune0).map((k) => [k, v1Prune30[k as keyof Counts] + v1Prune0[k as keyof Counts]]));
    assert.deepEqual(g.prune0, sum);
  }

  function tables(path: string): string[] {
    const raw = new Database(path, { readonly: true });
    try {
      return (raw.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
    } finally {
      raw.close();
    }
  }

  test('a v1 file written by the v1 store migrates and reads back exactly as the v1 store read it (but for what v8 changed on purpose)', () => {
    const path = freshPath();
    mkdirSync(dirname(path), { recursive: true });
    copyFileSync(join(fixtures, 'v1.db'), path);
    const raw = new Database(path, { readonly: true });
    assert.equal(raw.pragma('user_version', { simple: true }), 1);
    assert.equal((raw.prepare('SELECT count(*) AS n FROM findings').get() as { n: number }).n > 100, true);
    raw.close();

    const s = open(path);
    assert.equal(s.schemaVersion(), MIGRATIONS.length);
    assert.equal(MIGRATIONS.length, 9);
    assert.ok(!tables(path).includes('findings'));
    const got = readAll(s);
    s.close();
    assertAsV1(got);
  });

  test('the same writes through the current store read back exactly as the v1 store read them (but for what v8 changed on purpose)', () => {
    const clock = scenarioClock(SCENARIO_T0);
    const s = open(freshPath(), { now: clock.now });
    writeScenario(s, clock);
    assert.equal(clock.t, SCENARIO_END);
    const got = readAll(s);
    s.close();
    assertAsV1(got);
  });

  test('a migration interrupted by an error leaves the v1 file as it was (all or nothing)', () => {
    const path = freshPath();
    mkdirSync(dirname(path), { recursive: true });
    copyFileSync(join(fixtures, 'v1.db'), path);
    const broken: Migration[] = [MIGRATIONS[0], { description: 'v2 then a failure', sql: `${MIGRATIONS[1].sql}\nINSERT INTO nowhere VALUES (1);` }];
    assert.throws(() => open(path, { migrations: broken }), /no such table: nowhere/);
    assert.ok(tables(path).includes('findings'));
    const s = open(path); // the real v2 step still applies
    assertAsV1(readAll(s));
    s.close();
  });

  test('prepareAudit is pure and its value survives structured cloning; recordPreparedAudits stores what recordAudits would', () => {
    const findings: Finding[] = [
      finding({ rule: 'a', check: 'spf', severity: 'warn', subject: 'include:x', classification: { class: 'stale', reason: 'r' }, fix: 'spf', evidence: { live: ['x'] } }),
      finding({ rule: 'b', check: 'dkim', severity: 'pass' }),
      finding({ rule: 'c', check: 'spf', severity: 'fail' }),
    ];
    const a: DomainAudit = { domain: 'p.example', status: 'fail', auditedAt: '2025-03-01T10:00:00Z', findings };
    const before = JSON.stringify(a);
    const p1 = prepareAudit(a, 'cust1');
    assert.equal(JSON.stringify(a), before, 'the audit is not modified');
    assert.deepEqual(prepareAudit(a, 'cust1'), p1, 'same input, same value');
    const cloned = structuredClone(p1) as PreparedAudit; // as posted from a worker thread
    assert.equal(cloned.auditedAt, '2025-03-01T10:00:00.000Z');
    assert.equal(cloned.findingsCount, 3);
    assert.deepEqual(JSON.parse(cloned.checks), { dkim: 'pass', spf: 'fail' });

    const s = open();
    const run = s.startRun('bulk', 'alice');
    const [viaPrepared] = s.recordPreparedAudits(run, [cloned]);
    const [viaAudits] = s.recordAudits(run, [{ audit: { ...a, domain: 'q.example' }, owner: 'cust1' }]);
    const [r1, r2] = s.runResults(run);
    assert.deepEqual([r1.resultId, r2.resultId], [viaPrepared, viaAudits]);
    assert.deepEqual({ ...r1, resultId: 0, domain: '' }, { ...r2, resultId: 0, domain: '' });
    assert.deepEqual(r1.findings, findings);
    assert.deepEqual(s.latestSummaries(['p.example']).get('p.example')?.checks, { dkim: 'pass', spf: 'fail' });
    assert.deepEqual(s.recordPreparedAudits(run, []), []);
    assert.throws(() => s.recordPreparedAudits(9999, [p1]), isStoreError('not-found'));
    s.close();
  });

  test('evidence shared by findings is written once and read back in place; an array document (older files) reads as it is', () => {
    const shared = { panel: ['x.example 3600 TXT "v=spf1 include:old.example ~all"'], live: ['"v=spf1 include:old.example ~all"'] };
    const findings: Finding[] = [
      finding({ rule: 'spf.term', severity: 'warn', subject: 'include:old.example', evidence: shared }),
      finding({ rule: 'spf.term', severity: 'info', subject: '+a', evidence: shared }),
      finding({ rule: 'dmarc.missing', check: 'dmarc', evidence: { panel: [], live: [] } }),
      finding({ rule: 'spf.lookups', severity: 'info', evidence: shared }),
    ];
    const a = audit('x.example', '2025-03-01T00:00:00.000Z', findings);
    const doc = JSON.parse(new TextDecoder().decode(prepareAudit(a).findings)) as { evidence: unknown[]; findings: { evidence: unknown }[] };
    assert.deepEqual(doc.evidence, [shared, { panel: [], live: [] }], 'each evidence object once, in order of first use');
    assert.deepEqual(doc.findings.map((f) => f.evidence), [0, 0, 1, 0]);

    const path = freshPath();
    const s = open(path);
    const run = s.startRun('audit', 'alice');
    s.recordAudit(run, a);
    const [r] = s.runResults(run);
    assert.equal(JSON.stringify(r.findings), JSON.stringify(findings), 'same findings, same key order');
    assert.equal(r.findings[0].evidence, r.findings[1].evidence, 'findings that shared an evidence object share it again');
    assert.notEqual(r.findings[0].evidence, r.findings[2].evidence);

    // A row as the store wrote it before evidence was shared: the plain array of findings, inline (before schema v9).
    const raw = new Database(path);
    raw.prepare(`UPDATE results SET findings = ?, doc_id = NULL WHERE id = ?`).run(JSON.stringify(findings), r.resultId);
    raw.close();
    assert.equal(JSON.stringify(s.runResults(run)[0].findings), JSON.stringify(findings));
    s.close();
    // The release before this format knew two schema steps and read only arrays: it refuses the file (too-new)
    // instead of failing on every page that shows findings.
    assert.throws(() => open(path, { migrations: MIGRATIONS.slice(0, 2) }), isStoreError('too-new', /newer than this mailhealth knows \(2\)/));
  });

  test('finding text with lone surrogates reads back as from a TEXT column; JSON values round-trip exactly', () => {
    const s = open();
    const run = s.startRun('audit', 'alice');
    const evidence = { live: [NASTY, 'lone \ud800'] };
    s.recordAudit(run, audit('t.example', '2025-03-01T00:00:00.000Z', [finding({ rule: NASTY, message: NASTY, subject: NASTY, evidence, classification: { class: 'keep', reason: NASTY } })]), NASTY);
    const [r] = s.runResults(run);
    const asText = r.owner!; // owner is a plain TEXT column
    assert.notEqual(asText, NASTY);
    assert.ok(asText.includes('\ufffd'));
    const f = r.findings[0];
    assert.deepEqual([f.rule, f.message, f.subject], [asText, asText, asText]);
    assert.deepEqual(f.evidence, evidence);
    assert.deepEqual(f.classification, { class: 'keep', reason: NASTY });
    s.close();
  });

  test('prepareAudit refuses what the v1 schema refused, before any write', () => {
    const bad = (over: Partial<Finding>) => audit('x.example', '2025-03-01T00:00:00.000Z', [finding(), finding(over)]);
    assert.throws(() => prepareAudit(bad({ severity: 'bogus' as never })), isStoreError('invalid', /severity/));
    assert.throws(() => prepareAudit(bad({ message: undefined as never })), isStoreError('invalid', /message/));
    assert.throws(() => prepareAudit(bad({ rule: null as never })), isStoreError('invalid', /rule/));
    assert.throws(() => prepareAudit(bad({ evidence: (() => 1) as never })), isStoreError('invalid', /evidence/));
    assert.throws(() => prepareAudit(bad({ classification: Symbol('x') as never })), isStoreError('invalid', /classification/));
    assert.throws(() => prepareAudit({ ...audit('x.example', '2025-03-01T00:00:00.000Z'), status: 'bogus' as never }), isStoreError('invalid', /status/));
    assert.throws(() => prepareAudit(audit('x.example', 'not a time')), isStoreError('invalid', /auditedAt/));
    const s = open();
    const run = s.startRun('audit', 'alice');
    assert.throws(() => s.recordAudits(run, [{ audit: audit('ok.example', '2025-03-01T00:00:00.000Z') }, { audit: bad({ severity: 'nope' as never }) }]), isStoreError('invalid'));
    assert.deepEqual(s.runResults(run), []);
    s.close();
  });

  test('a new file gets 16 KiB pages; a file made with 4 KiB pages keeps them and works the same', () => {
    const fresh = freshPath();
    open(fresh).close();
    const small = freshPath();
    mkdirSync(dirname(small), { recursive: true });
    const pre = new Database(small);
    pre.pragma('page_size = 4096');
    pre.pragma('journal_mode = WAL');
    pre.close();
    for (const [path, size] of [[fresh, NEW_FILE_PAGE_SIZE], [small, 4096]] as const) {
      const s = open(path);
      const run = s.startRun('audit', 'alice');
      s.recordAudit(run, audit('a.example', '2025-03-01T00:00:00.000Z'));
      assert.equal(s.latestAudit('a.example')?.findings[0].rule, 'spf-missing');
      s.close();
      const raw = new Database(path, { readonly: true });
      assert.equal(raw.pragma('page_size', { simple: true }), size);
      raw.close();
    }
  });
});
