// The history store: audit runs and results, fix plans (changes) with undo links, cross-process locks,
// background jobs, web logins, settings and nightly reports — one SQLite file (better-sqlite3, WAL).
//
// Every public method is synchronous except withLock, and every multi-statement write runs in one
// BEGIN IMMEDIATE transaction, so a crash, a busy database or a thrown error never leaves half a write.
// SQLite errors surface as StoreError with a code the surfaces can explain:
//   corrupt   the file is not a (mailhealth) database
//   locked    another process holds the database (busy_timeout ran out: SQLITE_BUSY) or a named lock (withLock —
//             then the error's `heldLock` names the lock; a busy database leaves it undefined)
//   io        the file or its directory cannot be created, read or written
//   not-found a referenced run/change/job does not exist
//   invalid   bad input (an unparseable timestamp, a non-JSON value, a constraint)
//   too-new   the file was written by a newer mailhealth — at open, or (SchemaChangedError) while this process ran:
//             another process's newer mailhealth migrated it (see Store.checkSchema)
//
// Text columns are UTF-8: a lone UTF-16 surrogate in a message or subject comes back as U+FFFD (three of them:
// better-sqlite3 writes it as three bytes that read back as one U+FFFD each).
// JSON columns (evidence, classification, changes, meta, scope, settings, report json) round-trip exactly.
//
// Audit storage (schema v2, and v3 for the shared-evidence documents; see migrations.ts). One `results` row per audited
// domain holds everything:
//   findings  ONE JSON document {"evidence": [...], "findings": [...]}: the findings in the order the audit produced
//             them, each with the keys in the order readers return them (rule, check, severity, message, evidence,
//             subject?, classification?, fix?), where `evidence` is an index into the document's evidence list — the
//             checks hand one evidence object (the raw records) to several findings, and it is written once (on the
//             bench's audits: 5.9 → 5.0 KB of JSON and 8.2 → 5.8 KB of database per domain). readFindingsDocument()
//             puts the evidence back; documents written before this are a plain array of findings and read as they
//             are. Nothing in SQL looks inside it, and it carries no json_valid CHECK (prepareAudit made it with
//             JSON.stringify);
//   checks    the worst severity per check (JSON object, keys in check order), so list pages (latestSummaries)
//             never read findings;
//   findings_count  what prune reports as the findings it removed.
// Schema v1 stored each finding as a row (~13 per domain, json_valid CHECKs on two columns, an index entry):
// ~100-130 µs of main-thread CPU per domain for the bench's audits (~6 KB of findings JSON each). One row, one
// cached INSERT, no JSON validation in SQLite: ~20 µs per domain to insert on a new file, ~28 µs on a file created
// with 4 KiB pages (measured with `npx tsx bench/store-write.ts`). New files get 16 KiB pages (NEW_FILE_PAGE_SIZE):
// a ~6 KB row then fits in a page instead of spilling to an overflow page, which cuts WAL writes and checkpoint
// work; existing files keep their page size (changing it needs a VACUUM out of WAL mode). The results indexes
// stay: dropping results_audited_at saved ~1 µs, within noise, and prune uses it; results_domain_id (schema v8, the order
// written, see "Audit order") cost no measurable time per insert (~16–21 µs a row either way, 20,000 rows in batches of 50).
// The work is split so that serialising can run off the thread that owns the database: prepareAudit() is pure
// (no database, no clock) and turns an audit into a PreparedAudit of strings, numbers and one Uint8Array (the
// findings document as UTF-8, transferable), ready to post from a worker thread; Store.recordPreparedAudits()
// only inserts. recordAudit/recordAudits do both on the calling thread.
//
// Documents stored once (schema v9). A domain audited night after night mostly gets the very same document again (QA:
// ~6.5 KB a domain a night, 0.94 MB a domain at 90 days, 1.75 GB at 2,000 domains). So a document is stored once, in
// document_texts, under the SHA-256 of its bytes (documents.hash, made by prepareAudit with the document, in the worker
// that serialised it): a result names it by results.doc_id, and a result whose document is stored already — the
// domain's previous one, most often, or any other with the same bytes — costs one indexed lookup (documents_hash) and a
// row of ~150 bytes. documents.refs counts the results naming a document (counted up by the one INSERT, down by a
// trigger on results: migrations.ts v9), so prune — or anything else that deletes results — deletes a document with its
// last result and never one still named. Rows written before v9 keep their document inline in results.findings (doc_id NULL) and are read as they
// were: every reader takes the document from RESULT_COLUMNS, which reads either.
import type { ChangeStatus, StoredChange, Verified } from '../../core/plans/apply.js';
import { createHash } from 'node:crypto';
import { readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { SEVERITY_ORDER, type Change, type CheckName, type DomainAudit, type DomainStatus, type Finding, type Severity } from '../../core/model.js';
import { APPLICATION_ID, MIGRATIONS, migrate, SchemaTooNewError, schemaVersion, upgradeSpace, upgradeSpaceFactor, type Migration } from './migrations.js';
import { lockHolderGone, processLockOwner } from './lock-owner.js';
import {
  backupPath,
  discardBackup,
  formatBytes,
  freeBytes,
  keepLatestBackups,
  markUpgrading,
  publishBackup,
  removeBackup,
  unmarkUpgrading,
  upgraderRunning,
  writeBackup,
  type Backup,
} from './backup.js';
import { spaceOf, vacuumNeed, type SpaceInfo } from './space.js';
import { checkRootCreation, createPrivateFile, existingSideFiles, makePrivateDirs, tightenDatabaseFiles, warnOnStderr } from './private-files.js';

export type StoreErrorCode = 'corrupt' | 'locked' | 'io' | 'not-found' | 'invalid' | 'too-new';

export class StoreError extends Error {
  /**
   * Set (code 'locked') when a named lock is held by someone else (withLock): another fix, another report run. Undefined
   * for a busy database (another process's write transaction outlasted busy_timeout), which is also code 'locked'.
   */
  readonly heldLock?: string;
  constructor(
    public readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown; heldLock?: string },
  ) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'StoreError';
    if (options?.heldLock !== undefined) this.heldLock = options.heldLock;
  }
}

/**
 * The file was migrated to a newer schema by another process (a newer mailhealth) while this one had it open: code
 * 'too-new', as at open, but a distinct class — the process itself must be restarted (a running `serve` or `service`
 * of the previous version), and a web page answers that (503), not a fault. Every call of this Store throws it from
 * then on: nothing is read or written with a schema this code does not know.
 */
export class SchemaChangedError extends StoreError {
  constructor(
    path: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(
      'too-new',
      `${path}: mailhealth was upgraded while this process ran — the history database is now at schema version ${found}, this process knows ${known}; ` +
        'restart it (the service: systemctl restart mailhealth) so that the new version runs',
    );
    this.name = 'SchemaChangedError';
  }
}

export type RunKind = 'audit' | 'bulk' | 'report';
export type RunStatus = 'running' | 'complete' | 'interrupted' | 'cancelled';

export interface Run {
  id: number;
  kind: RunKind;
  startedAt: string;
  finishedAt: string | null;
  status: RunStatus;
  byUser: string;
  total: number | null;
  done: number;
  failed: number;
  meta: unknown;
}

/** A stored per-domain audit result with its findings. Structurally a DomainAudit plus where it came from. */
export interface AuditResult extends DomainAudit {
  resultId: number;
  runId: number;
  owner: string | null;
  findingsCount: number;
}

/** A finding without its evidence, classification or fix (Store.resultFindingsByIds). */
export type FindingHead = Pick<Finding, 'rule' | 'check' | 'severity' | 'message' | 'subject'>;

/** A stored result with only some of its findings, each without evidence (Store.resultFindingsByIds). */
export interface ResultFindings extends Omit<AuditResult, 'findings'> {
  findings: FindingHead[];
}

/** The latest result of a domain without evidence: what list pages show. */
export interface ResultSummary {
  resultId: number;
  runId: number;
  domain: string;
  owner: string | null;
  status: DomainStatus;
  auditedAt: string;
  findingsCount: number;
  /** Worst severity per check that has findings. */
  checks: Partial<Record<CheckName, Finding['severity']>>;
}

/** One stored result without findings, with the run it belongs to. */
export interface ResultRow {
  resultId: number;
  runId: number;
  domain: string;
  owner: string | null;
  status: DomainStatus;
  auditedAt: string;
  findingsCount: number;
  byUser: string;
  runKind: RunKind;
  /** Worst severity per check that has findings (as ResultSummary), when asked for (recentResults withChecks). */
  checks?: Partial<Record<CheckName, Finding['severity']>>;
}

export type { ChangeStatus, Verified };
export type { SpaceInfo };

/** A change in history: core's StoredChange plus when it was written and the error, if any. */
export interface ChangeRecord extends StoredChange {
  createdAt: string;
  updatedAt: string;
  error: string | null;
}

export interface IntentInput {
  domain: string;
  check: CheckName;
  planHash: string;
  /** The zone's concurrency token the plan was made against. */
  zoneVersion: string | null;
  changes: Change[];
  byUser: string;
  /** Set when this plan undoes an earlier change. */
  undoOf?: number | null;
  /** The bulk fix job whose apply this is (core's ApplyDeps.jobId; see changesOfJob); absent or null: none. */
  jobId?: number | null;
}

export interface OutcomeInput {
  status: Exclude<ChangeStatus, 'intent'>;
  /** Omitted fields keep their stored value. */
  zoneVersionAfter?: string | null;
  verified?: Verified | null;
  error?: string | null;
}

export type JobStatus = 'queued' | 'running' | 'complete' | 'failed' | 'interrupted' | 'cancelled';

/**
 * Job.byAccount of a job whose account was seen gone (disownJobs): equal to no account (an account is an accountKey,
 * a JSON array), so nobody — not a new account given the name — lists or opens it.
 */
export const GONE_ACCOUNT = 'gone';

export interface Job {
  id: number;
  kind: string;
  byUser: string;
  /**
   * The panel account the job belongs to (web/jobs.ts jobAccount: the accountKey the user's web login was bound to when
   * it started); null when started without a binding (a panel's front door, the admin token) or before schema v6;
   * GONE_ACCOUNT once that account was seen gone.
   */
  byAccount: string | null;
  /** The key of the form it was started from (a bulk fix preview's), so that form sent again finds it; else null. */
  requestKey: string | null;
  scope: unknown;
  total: number;
  /** Domains handled: audited, or skipped as gone. */
  done: number;
  failed: number;
  /** Domains skipped because the panel no longer has them (removed while the job ran): not audited, not recorded. */
  gone: number;
  status: JobStatus;
  cancelRequested: boolean;
  runId: number | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A job to create: see Job (byAccount and requestKey default to null). */
export interface NewJob {
  kind: string;
  byUser: string;
  byAccount?: string | null;
  requestKey?: string | null;
  scope?: unknown;
  total?: number;
}

export interface JobUpdate {
  done?: number;
  failed?: number;
  gone?: number;
  status?: JobStatus;
  runId?: number | null;
  error?: string | null;
}

/** One domain's entry in a job's log (a bulk fix apply: its outcome), in the order the job recorded them. */
export interface JobItem {
  seq: number;
  domain: string;
  /** What happened, in one word (a fix outcome: applied, already, refused, failed, skipped). */
  status: string;
  /** The rest of it, as the job gave it (JSON). */
  detail: unknown;
  at: string;
}

export interface Delivery {
  recipient: string;
  ok: boolean;
  error: string | null;
  at: string;
}

export interface Report {
  runId: number;
  json: unknown;
  html: string;
  text: string;
  createdAt: string;
  deliveries: Delivery[];
}

export interface LockInfo {
  name: string;
  owner: string;
  acquiredAt: number;
  expiresAt: number;
}

export interface PruneResult {
  runs: number;
  results: number;
  findings: number;
  reports: number;
  jobs: number;
  locks: number;
}

export interface StoreOptions {
  /** Clock in epoch milliseconds (tests pass a fake one). Default Date.now. */
  now?: () => number;
  /**
   * The clock leases are judged on (see "Locks" in the Store class): default bootClock() — Linux's CLOCK_MONOTONIC, named
   * by the boot id — or null where there is none. A store given its own `now` (a test's fake clock) and no leaseClock
   * has none: its leases run on that `now`, as the time it simulates passes. null: none (the wall clock alone).
   */
  leaseClock?: LeaseClock | null;
  /** How long a statement waits for another process's write lock before StoreError('locked'). Default 2000 ms. */
  busyTimeoutMs?: number;
  /** For tests only: the schema steps to apply. Default MIGRATIONS. */
  migrations?: readonly Migration[];
  /**
   * Where the store's lines for the log go — a database file made private (or left readable by others), the history
   * database upgraded to a newer schema (and where the copy of the old one is). Default: stderr.
   */
  warn?: (message: string) => void;
  /** For tests only: the bytes free on the file system of a directory (null: unknown, not checked). Default: statfs. */
  freeSpace?: (dir: string) => number | null;
  /** For tests only: prune's bounds and pauses (see Store.prune). Default PRUNE_TUNING. */
  prune?: Partial<PruneTuning>;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 2000;

/** Page size of a newly created database file (SQLite's default is 4096). */
export const NEW_FILE_PAGE_SIZE = 16384;

/**
 * Opens (creating directory, file and schema as needed) the history database at `path`. It holds the web logins'
 * password hashes and session secret, so it is kept private whatever the umask (./private-files.ts): directories
 * created 0700, a new file 0600 (SQLite's -wal and -shm follow its mode), an existing mailhealth database of ours with
 * group or other access made owner-only, once it is known to be one (a file that is not is refused untouched). As
 * root, none is created in another user's directory, nor reached through another user's link (StoreError 'io').
 * An existing database at an older schema is upgraded (see upgradeSchema): after a copy of it is made beside it, and
 * with a line for the log saying so — from then on older versions of mailhealth refuse it.
 */
export function openStore(path: string, options: StoreOptions = {}): Store {
  const warn = options.warn ?? warnOnStderr;
  try {
    // As root: no database created in another user's directory, no link of another user's followed to one.
    checkRootCreation(path);
  } catch (e) {
    throw new StoreError('io', errText(e), { cause: e });
  }
  try {
    makePrivateDirs(dirname(path));
  } catch (e) {
    throw new StoreError('io', `cannot create the directory for the mailhealth database ${path}: ${errText(e)}`, { cause: e });
  }
  try {
    createPrivateFile(path);
  } catch (e) {
    throw new StoreError('io', `cannot create the mailhealth database ${path}: ${errText(e)}`, { cause: e });
  }
  // The -wal and -shm there before SQLite opens it: those it creates now take the database's mode (reported with it).
  const sideFiles = existingSideFiles(path);
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
  } catch (e) {
    throw toStoreError(e, path);
  }
  const migrations = options.migrations ?? MIGRATIONS;
  try {
    // Read first: on a file that is not a database this fails before anything is written. One read
    // transaction, so a first-install migration committed by another process is seen whole or not at all.
    const fresh = db.transaction(() => {
      if (schemaVersion(db) === 0) {
        const objects = db.prepare(`SELECT count(*) AS n FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'`).get() as { n: number };
        if (objects.n > 0) {
          throw new StoreError('corrupt', `${path} is an SQLite database but not a mailhealth one (it already holds other tables); refusing to modify it`);
        }
      } else if ((db.pragma('application_id', { simple: true }) as number) !== APPLICATION_ID) {
        throw new StoreError('corrupt', `${path} is an SQLite database but not a mailhealth one (application_id mismatch); refusing to modify it`);
      }
      return schemaVersion(db) === 0;
    })();
    // Ours (or empty, about to be): before anything is written to it.
    const loose = tightenDatabaseFiles(path, undefined, sideFiles);
    if (loose) warn(loose);
    // A new file gets 16 KiB pages (see "Audit storage" above); an existing file keeps the size it was made with.
    if (fresh) {
      db.pragma(`page_size = ${NEW_FILE_PAGE_SIZE}`);
      // Set before the first table exists, or never again without a VACUUM: prune can then give the pages it frees back
      // to the file system a few at a time (see Store.prune), instead of the file staying at its largest for ever.
      db.pragma('auto_vacuum = INCREMENTAL');
    }
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // SQLite's stock 2 MiB page cache (better-sqlite3 raises it to 16 MB): a bulk run appends rows and needs little
    // cache, and measured on the 10,000-domain benchmark the bigger one cost ~50 MB of RSS and saved no time.
    db.pragma('cache_size = -2000');
    const upgraded = upgradeSchema(db, path, migrations, options.freeSpace ?? freeBytes);
    if (upgraded) warn(upgraded);
  } catch (e) {
    try {
      db.close();
    } catch {
      /* already failing */
    }
    throw toStoreError(e, path);
  }
  const leaseClock = options.leaseClock !== undefined ? options.leaseClock : options.now ? null : bootClock();
  return new Store(db, path, options.now ?? Date.now, migrations.length, leaseClock, {
    prune: { ...PRUNE_TUNING, ...options.prune },
    freeSpace: options.freeSpace ?? freeBytes,
  });
}

/**
 * Brings the mailhealth database open as `db` to the schema `migrations` ends at: a new (empty) one is simply created;
 * an existing one at an older schema is upgraded. Any
 * command does (it cannot work on a schema it does not know), read-only ones included, and the upgrade cannot be undone
 * in place: the previous version refuses the file from then on (a running previous-version service stops and exits 75,
 * see src/cli/upgrade-watch.ts). So, before the first step:
 *   - the space is checked: a copy of the database (its pages in use) plus the upgrade's own need (upgradeSpace: the
 *     database's size times its steps' largest Migration.space — 2.5 for the step that rewrites the findings of a
 *     schema-1 file, 0.01 for v9 alone (two tables and a column: a few pages), else 1). Short of that, nothing is changed and the error says how much is needed;
 *   - a copy is made beside it (backup.ts: `<file>.schema-N.bak`, 0600, the database's owner) with VACUUM INTO: one
 *     read transaction of this connection, so the copy is consistent while other processes (the running service)
 *     read and write the file, without blocking them; synchronous (the backup API is not, through better-sqlite3, and
 *     openStore is), and compact (free pages are not copied). SQLite is never given a name another user could swap
 *     for a link (root upgrading a customer's database: it writes into a private temporary directory first, backup.ts);
 *   - the copy is written under a temporary name and given its own only once this process holds the write lock with
 *     steps to run (the first thing in the upgrade's transaction): two processes upgrading at once never replace or
 *     remove each other's copy, and the one left waiting says that another process is upgrading the file (QA r1).
 * Then every step runs in one transaction (migrations.ts migrate): a failure rolls all of it back, and the error says
 * it was the upgrade from N to M that failed, that nothing was changed, and the space it needs.
 * No VACUUM afterwards: it would rewrite the whole file again in the write-ahead log (as much space again, seconds for a
 * large file) while holding the write lock every other process waits for; the pages the schema-1 rewrite frees are
 * reused by later results (see the README).
 * Returns the line for the log when steps were applied (null when none were: current already, or another process
 * upgraded it meanwhile). Throws when the file is newer than `migrations` knows (SchemaTooNewError).
 */
function upgradeSchema(db: Database.Database, path: string, migrations: readonly Migration[], freeSpace: (dir: string) => number | null): string | null {
  const from = schemaVersion(db);
  const to = migrations.length;
  if (from === 0 || from >= to) {
    // A new file (nothing to copy, nothing an older version could have opened), a current one (nothing to do), or one
    // too new (migrate throws).
    migrate(db, migrations);
    return null;
  }
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db.pragma('page_count', { simple: true }) as number;
  const freePages = db.pragma('freelist_count', { simple: true }) as number;
  const size = pages * pageSize;
  const copySize = (pages - freePages) * pageSize; // VACUUM INTO copies the pages in use, and no more
  const need = upgradeSpace(size, from, migrations);
  const how = `(estimate: ${upgradeSpaceFactor(from, migrations)} × the database's size, ${formatBytes(size)}: the pages the upgrade adds and its write-ahead log)`;
  // The copy goes beside the file SQLite writes (a --db that is a link: the file it leads to), as its -wal does.
  let real: string;
  try {
    real = realpathSync(path);
  } catch (e) {
    throw new StoreError('io', `cannot upgrade the history database ${path}: ${errText(e)}; nothing was changed`, { cause: e });
  }
  const dir = dirname(real);
  const upgrade = `the history database ${path} from schema ${from} to ${to}`;
  // Said of a failure before this process held the write lock: unless another process is upgrading it right now (its
  // marker, backup.ts), in which case the file may well be at the new schema in a moment.
  const unchanged = (): string => {
    const other = upgraderRunning(real);
    return other === null
      ? `nothing was changed (the previous version of mailhealth can still open it)`
      : `this process changed nothing — another mailhealth process (pid ${other}) is upgrading it at this moment`;
  };
  const free = freeSpace(dir);
  if (free !== null && free < copySize + need) {
    throw new StoreError(
      'io',
      `mailhealth cannot upgrade ${upgrade}: it needs about ${formatBytes(copySize + need)} free in ${dir} — ${formatBytes(copySize)} for a copy of the database as it is ` +
        `(${backupPath(real, from)}, kept so that the previous version can be restored) and about ${formatBytes(need)} while it runs ${how} — and ${formatBytes(free)} is free; ` +
        `${unchanged()}: free some space there, then run mailhealth again`,
    );
  }
  const marker = markUpgrading(real);
  try {
    let copy: Backup | null;
    try {
      copy = writeBackup(real, (target) => void db.prepare('VACUUM INTO ?').run(target), to, { size: copySize, freeSpace });
    } catch (e) {
      throw copyFailed(e);
    }
    // The copy gets its name only once this process holds the write lock with steps to run (backup.ts): a process that
    // loses the race to another one upgrading at the same time never replaces nor removes the copy that one made.
    const state: { holding: boolean; published: Backup | null; publishing: boolean } = { holding: false, published: null, publishing: false };
    let applied: number[];
    try {
      applied = migrate(db, migrations, () => {
        state.holding = true;
        if (!copy) return;
        state.publishing = true;
        state.published = publishBackup(copy, real);
        state.publishing = false;
      });
    } catch (e) {
      if (state.published) removeBackup(state.published);
      else if (copy) discardBackup(copy);
      if (state.publishing) throw copyFailed(e, `nothing was changed (the previous version of mailhealth can still open it)`);
      const inner = toStoreError(e, path);
      if (!(inner instanceof StoreError) || inner.code === 'too-new') throw inner;
      if (!state.holding) {
        // The write lock was not had: nothing of this process's was written, but the file is another's to say about.
        const other = inner.code === 'locked' ? upgraderRunning(real) : null;
        if (other !== null) {
          throw new StoreError(
            'locked',
            `mailhealth cannot upgrade ${upgrade} now: another mailhealth process (pid ${other}) is upgrading it at this moment (${errText(e)}); ` +
              'this process changed nothing and kept no copy of its own (that process makes the copy and says where): run mailhealth again once it has finished',
            { cause: e },
          );
        }
        throw new StoreError(
          inner.code,
          `the upgrade of ${upgrade} failed (${errText(e)}); nothing was changed: ` +
            (inner.code === 'locked' ? 'another process holds the database\'s write lock (the running service writing, most likely); try again shortly' : `the upgrade could not begin`),
          { cause: e },
        );
      }
      let now = from;
      try {
        now = schemaVersion(db);
      } catch {
        /* said as it was */
      }
      throw new StoreError(
        inner.code,
        `the upgrade of ${upgrade} failed (${errText(e)}); nothing was changed: its transaction rolled back, the database is still at schema ${now} ` +
          `and the previous version of mailhealth can still open it` +
          (outOfSpace(e)
            ? `. It needs about ${formatBytes(need)} free in ${dir} while it runs ${how}${free !== null ? `, and ${formatBytes(free)} was free before it started` : ''}: ` +
              'free some space there, then run mailhealth again'
            : inner.code === 'locked'
              ? '; try again shortly'
              : ''),
        { cause: e },
      );
    }
    if (!applied.length) {
      // Another process upgraded it meanwhile (and said so, with its copy).
      if (copy) discardBackup(copy);
      return null;
    }
    keepLatestBackups(real);
    const made = state.published ? state.published.path : 'none — the file was upgraded by another process while it was copied';
    return (
      `upgraded the history database ${path} from schema ${applied[0] - 1} to ${applied[applied.length - 1]} (a copy of the old one: ${made}); ` +
      'older versions of mailhealth can no longer open it'
    );
  } finally {
    unmarkUpgrading(marker);
  }

  /** The error for a copy that could not be made or put in place (`said`: what to say of the file). */
  function copyFailed(e: unknown, said: string = unchanged()): StoreError {
    const inner = toStoreError(e, path);
    const code = inner instanceof StoreError ? inner.code : 'io';
    return new StoreError(
      code === 'locked' || code === 'too-new' ? code : 'io',
      `mailhealth cannot upgrade ${upgrade}: the copy of it made first (${backupPath(real, from)}) failed (${errText(e)}); ${said}` +
        (code === 'locked'
          ? '; try again shortly'
          : outOfSpace(e)
            ? `. It needs about ${formatBytes(copySize + need)} free in ${dir}: ${formatBytes(copySize)} for the copy and about ${formatBytes(need)} for the upgrade after it ${how}` +
              `${free !== null ? `, and ${formatBytes(free)} was free` : ''}; free some space there, then run mailhealth again`
            : ''),
      { cause: e },
    );
  }
}

/** Whether `e` is a write that failed for want of space (or the disk): SQLite's full or I/O error, or the file system's. */
function outOfSpace(e: unknown): boolean {
  if (e instanceof Database.SqliteError) return e.code === 'SQLITE_FULL' || e.code.startsWith('SQLITE_IOERR');
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EIO';
}

/**
 * A reading of a clock that never steps, for leases: `ms` on the clock named `clock`. Two readings compare only when
 * their `clock` is the same string (the same boot of the same host, the same time namespace).
 */
export interface LeaseReading {
  clock: string;
  ms: number;
}
/** Reads the lease clock; null when it cannot be read now. */
export type LeaseClock = () => LeaseReading | null;

/**
 * This host's boot clock, when it has one every process shares: on Linux, CLOCK_MONOTONIC (process.hrtime: libuv reads
 * it; milliseconds since boot, not counting suspend, slewed by NTP but never stepped), the same in every process of
 * one boot — named by the kernel's boot id (random at each boot) and, where the kernel has time namespaces (which may
 * offset the clock), this process's time namespace. null elsewhere (no /proc: macOS, Windows), so leases there run on
 * the wall clock as before. Read once: neither changes while a process runs.
 */
export function bootClock(): LeaseClock | null {
  let boot: string;
  try {
    boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
  if (!/^[0-9a-f-]{32,36}$/i.test(boot)) return null;
  let ns = '';
  try {
    ns = /^time:\[([0-9]+)\]$/.exec(readlinkSync('/proc/self/ns/time'))?.[1] ?? '';
  } catch {
    // A kernel without time namespaces (before 5.6): one monotonic clock for the whole boot.
  }
  const clock = `monotonic:${boot.toLowerCase()}${ns ? `:time${ns}` : ''}`;
  return () => ({ clock, ms: Number(process.hrtime.bigint() / 1_000_000n) });
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Translates a better-sqlite3 / fs error into a StoreError with a message a hosting admin can act on. */
export function toStoreError(e: unknown, path: string): unknown {
  if (e instanceof StoreError) return e;
  if (e instanceof SchemaTooNewError) return new StoreError('too-new', `${path}: ${e.message}`, { cause: e });
  if (e instanceof Database.SqliteError) {
    const code = e.code;
    if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
      return new StoreError(
        'corrupt',
        `${path} is not a usable mailhealth database (${e.message}); move it aside (history will start fresh) or restore it from a backup`,
        { cause: e },
      );
    }
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      return new StoreError('locked', `the mailhealth database ${path} is locked by another process (${e.message}); try again shortly`, { cause: e });
    }
    if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
      return new StoreError('not-found', `mailhealth database ${path}: a referenced record does not exist (${e.message})`, { cause: e });
    }
    if (code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_RANGE') {
      return new StoreError('invalid', `mailhealth database ${path}: rejected value (${e.message})`, { cause: e });
    }
    if (
      code.startsWith('SQLITE_IOERR') ||
      code.startsWith('SQLITE_CANTOPEN') ||
      code.startsWith('SQLITE_READONLY') ||
      code === 'SQLITE_FULL' ||
      code === 'SQLITE_PERM' ||
      code === 'SQLITE_AUTH'
    ) {
      return new StoreError('io', `cannot read or write the mailhealth database ${path} (${e.message})`, { cause: e });
    }
    return new StoreError('io', `mailhealth database ${path}: ${e.message}`, { cause: e });
  }
  if (e instanceof TypeError && /open|closed/i.test(e.message)) {
    return new StoreError('io', `mailhealth database ${path}: ${e.message}`, { cause: e });
  }
  return e;
}

// ---- row shapes ----

interface RunRow {
  id: number;
  kind: RunKind;
  started_at: string;
  finished_at: string | null;
  status: RunStatus;
  by_user: string;
  total: number | null;
  done: number;
  failed: number;
  meta: string | null;
}

/** The columns of a result row that every reader returns, before its findings or its per-check summary. */
interface ResultHeadRow {
  result_id: number;
  run_id: number;
  domain: string;
  owner: string | null;
  status: DomainStatus;
  audited_at: string;
  findings_count: number;
}

interface ResultDocRow extends ResultHeadRow {
  /** The findings document (see readFindingsDocument); null: the document it names is missing (see documentOf). */
  findings: string | null;
}

interface ChangeRow {
  id: number;
  domain: string;
  check: CheckName;
  plan_hash: string;
  zone_version_before: string | null;
  zone_version_after: string | null;
  changes: string;
  by_user: string;
  created_at: string;
  updated_at: string;
  status: ChangeStatus;
  verified: Verified | null;
  error: string | null;
  undo_of: number | null;
  undone_by: number | null;
}

interface JobRow {
  id: number;
  kind: string;
  by_user: string;
  by_account: string | null;
  request_key: string | null;
  scope: string | null;
  total: number;
  done: number;
  failed: number;
  gone: number;
  status: JobStatus;
  cancel_requested: number;
  run_id: number | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * The columns of a result row with its findings document: stored once in document_texts (doc_id, schema v9), or inline
 * in results.findings (rows written before). NULL only when a document named is missing (not written by mailhealth).
 */
const RESULT_COLUMNS = `r.id AS result_id, r.run_id, r.domain, r.owner, r.status, r.audited_at, r.findings_count,
  CASE WHEN r.doc_id IS NULL THEN r.findings ELSE (SELECT t.text FROM document_texts t WHERE t.id = r.doc_id) END AS findings`;

/**
 * Audit order. A domain's latest audit is the one audited last (audited_at, the time the audit ran), not the one written
 * last: a bulk audit or the nightly report writes its results in batches, a little after auditing them, and a batch
 * written after a re-audit of one of its domains must not hide that fresher re-audit. But audited_at is the wall clock's
 * word: an audit stamped by a clock that was ahead (set back since) would stay "latest" over every re-audit until the
 * clock caught up (QA: a failing audit at 13:00 of a clock an hour fast hid the passing re-audit at 12:05 after the
 * correction, on the domain list and the domain's page). Writes do not come out of order by more than a batch takes,
 * so a result written before another one that was audited more than AUDIT_CLOCK_SLACK earlier was stamped by a clock
 * that has gone back since: it is passed over. Within the slack, audited_at decides (ties: the later write) — so a step
 * back smaller than the slack hides a re-audit for at most the step. Lists (auditsForDomain, recentResults) are in the
 * order written, newest first, as the report and change history are.
 */
const AUDIT_CLOCK_SLACK = '1800 seconds';
/**
 * Latest result id per domain (see "Audit order"): a seek into results_domain_latest, and for the row found a seek into
 * results_domain_id for the rows written after it (usually none). INDEXED BY: the planner, without statistics, may take
 * either index for the second — the one by time reads every older row of the domain.
 */
const LATEST_ID = `(SELECT r2.id FROM results r2 INDEXED BY results_domain_latest WHERE r2.domain = wanted.domain
   AND NOT EXISTS (SELECT 1 FROM results r3 INDEXED BY results_domain_id
                   WHERE r3.domain = r2.domain AND r3.id > r2.id
                     AND r3.audited_at < strftime('%Y-%m-%dT%H:%M:%fZ', r2.audited_at, '-${AUDIT_CLOCK_SLACK}'))
   ORDER BY r2.audited_at DESC, r2.id DESC LIMIT 1)`;

function parseJson(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

function toJson(value: unknown, what: string): string | null {
  if (value === undefined) return null;
  const s = JSON.stringify(value);
  if (s === undefined) throw new StoreError('invalid', `${what} is not JSON-serialisable`);
  return s;
}

function runFromRow(r: RunRow): Run {
  return {
    id: r.id,
    kind: r.kind,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    status: r.status,
    byUser: r.by_user,
    total: r.total,
    done: r.done,
    failed: r.failed,
    meta: parseJson(r.meta),
  };
}

function changeFromRow(r: ChangeRow): ChangeRecord {
  return {
    id: r.id,
    domain: r.domain,
    check: r.check,
    planHash: r.plan_hash,
    zoneVersionBefore: r.zone_version_before,
    zoneVersionAfter: r.zone_version_after,
    changes: JSON.parse(r.changes) as Change[],
    byUser: r.by_user,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    status: r.status,
    verified: r.verified,
    error: r.error,
    undoOf: r.undo_of,
    undoneBy: r.undone_by,
  };
}

function jobFromRow(r: JobRow): Job {
  return {
    id: r.id,
    kind: r.kind,
    byUser: r.by_user,
    byAccount: r.by_account,
    requestKey: r.request_key,
    scope: parseJson(r.scope),
    total: r.total,
    done: r.done,
    failed: r.failed,
    gone: r.gone,
    status: r.status,
    cancelRequested: r.cancel_requested !== 0,
    runId: r.run_id,
    error: r.error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function resultHead(row: ResultHeadRow): Omit<ResultSummary, 'checks'> {
  return {
    resultId: row.result_id,
    runId: row.run_id,
    domain: row.domain,
    owner: row.owner,
    status: row.status,
    auditedAt: row.audited_at,
    findingsCount: row.findings_count,
  };
}

function resultFromRow(row: ResultDocRow): AuditResult {
  return { ...resultHead(row), findings: readFindingsDocument(documentOf(row)) };
}

/**
 * A row's findings document. Missing only when its document_texts row was deleted by hand (mailhealth deletes a text with
 * its document, and a document with the last result naming it): said as such, never read as "no findings".
 */
function documentOf(row: ResultDocRow): string {
  if (row.findings === null) throw new StoreError('corrupt', `the findings of result ${row.result_id} (${row.domain}) are missing from the history database`);
  return row.findings;
}

/**
 * The findings of a stored document: {"evidence": [...], "findings": [...]} with each finding's evidence an index
 * into the list (see "Audit storage" above), or a plain array (documents written before evidence was shared).
 * Findings that shared an evidence object when audited share it again.
 */
export function readFindingsDocument(text: string): Finding[] {
  const doc = JSON.parse(text) as FindingOut[] | { evidence: unknown[]; findings: FindingOut[] };
  if (Array.isArray(doc)) return doc as Finding[];
  const { evidence, findings } = doc;
  for (const f of findings) f.evidence = evidence[f.evidence as number];
  return findings as Finding[];
}

/**
 * The findings of a stored document (see readFindingsDocument) whose severity is in `keep`, as FindingHead: the
 * evidence list is parsed with the rest and dropped with it, never attached.
 */
function findingHeads(text: string, keep: ReadonlySet<string>): FindingHead[] {
  const doc = JSON.parse(text) as FindingOut[] | { findings: FindingOut[] };
  const out: FindingHead[] = [];
  for (const f of Array.isArray(doc) ? doc : doc.findings) {
    if (!keep.has(f.severity)) continue;
    const h: FindingHead = { rule: f.rule, check: f.check as CheckName, severity: f.severity as Severity, message: f.message };
    if (f.subject !== undefined) h.subject = f.subject;
    out.push(h);
  }
  return out;
}

function toDomainAudit(r: AuditResult): DomainAudit {
  return { domain: r.domain, status: r.status, auditedAt: r.auditedAt, findings: r.findings };
}

/**
 * An audit ready to insert: validated, serialised, nothing left but strings, numbers and a Uint8Array (structured-clone
 * friendly, so a worker thread can make it and post it to the thread that owns the database). Make it with
 * prepareAudit(); store it with Store.recordPreparedAudits().
 */
export interface PreparedAudit {
  domain: string;
  owner: string | null;
  status: DomainStatus;
  /** Normalised to ISO 8601 UTC with milliseconds. */
  auditedAt: string;
  findingsCount: number;
  /** JSON object: worst severity per check that has findings, keys in check order. */
  checks: string;
  /** The findings document (evidence written once, see readFindingsDocument), already encoded as UTF-8 (transferable). */
  findings: Uint8Array;
  /**
   * SHA-256 of `findings` (lowercase hex): the key the document is stored under once (see "Documents stored once"),
   * made with it where it is serialised (a worker thread), so the thread that owns the database only looks it up.
   */
  findingsHash: string;
}

const utf8 = new TextEncoder();
const DOMAIN_STATUSES: ReadonlySet<string> = new Set<DomainStatus>(['fail', 'warn', 'pass', 'unknown']);
/** The model's severity ranks (0 = worst) by name, and the severities worst first: the per-check summary. */
const SEVERITY_RANK: ReadonlyMap<string, number> = new Map(Object.entries(SEVERITY_ORDER));
const SEVERITIES_WORST_FIRST = [...SEVERITY_RANK.keys()].sort((a, b) => SEVERITY_RANK.get(a)! - SEVERITY_RANK.get(b)!) as Severity[];

const LONE_SURROGATE = /\p{Surrogate}/u;
const LONE_SURROGATES = /\p{Surrogate}/gu;

/**
 * A string field of a finding as the v1 TEXT column gave it back: better-sqlite3 writes a lone surrogate as its
 * three (invalid UTF-8) bytes, which read back as three U+FFFD. Everything else is unchanged.
 */
function asText(value: string): string {
  return LONE_SURROGATE.test(value) ? value.replace(LONE_SURROGATES, '\uFFFD\uFFFD\uFFFD') : value;
}

function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new StoreError('invalid', `${what} must be a string, got ${value === null ? 'null' : typeof value}`);
  return value;
}

/** A value JSON.stringify would leave out of an object (where toJson would throw): refuse it like toJson does. */
function checkJsonable(value: unknown, what: string): unknown {
  const t = typeof value;
  if (t === 'function' || t === 'symbol' || (t === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function')) {
    toJson(value, what);
  }
  return value;
}

/** A finding with the keys in the order the v1 row reader built them (and readers still return them). */
interface FindingOut {
  rule: string;
  check: string;
  severity: string;
  message: string;
  evidence: unknown;
  subject?: string;
  classification?: unknown;
  fix?: string;
}

/**
 * Validates and serialises one audit for Store.recordPreparedAudits. Pure (no database, no clock): safe to run in
 * a worker thread. Throws StoreError('invalid') on what the database would reject: an unparseable auditedAt, an
 * unknown status or severity, a missing text field, a value that is not JSON-serialisable.
 */
export function prepareAudit(audit: DomainAudit, owner?: string | null): PreparedAudit {
  if (!DOMAIN_STATUSES.has(audit.status)) throw new StoreError('invalid', `status of ${audit.domain} is not one of fail, warn, pass, unknown: ${JSON.stringify(audit.status)}`);
  const auditedAt = normaliseTime(audit.auditedAt, `auditedAt of ${audit.domain}`);
  let doc = serialiseFindings(audit, (t) => t);
  // JSON.stringify writes a lone surrogate as a \udXXX escape and has no other reason to write "\ud": when there
  // is none (the usual case), no text field needs asText and the first document is the one.
  if (doc.findings.includes('\\ud')) doc = serialiseFindings(audit, asText);
  const findings = utf8.encode(doc.findings);
  return {
    domain: audit.domain,
    owner: owner ?? null,
    status: audit.status,
    auditedAt,
    findingsCount: audit.findings.length,
    checks: doc.checks,
    findings,
    findingsHash: documentHash(findings),
  };
}

/** The key a findings document is stored under (PreparedAudit.findingsHash): SHA-256 of its UTF-8 bytes, hex. */
export function documentHash(findings: Uint8Array): string {
  return createHash('sha256').update(findings).digest('hex');
}

function serialiseFindings(audit: DomainAudit, text: (s: string) => string): { findings: string; checks: string } {
  const worst = new Map<string, number>();
  const out = new Array<FindingOut>(audit.findings.length);
  // Each distinct evidence object once, in order of first use; findings refer to it by index.
  const evidence: unknown[] = [];
  const evidenceAt = new Map<unknown, number>();
  for (let i = 0; i < audit.findings.length; i++) {
    const f = audit.findings[i];
    const rank = SEVERITY_RANK.get(f.severity);
    if (rank === undefined) throw new StoreError('invalid', `severity of a ${audit.domain} finding is not one of ${SEVERITIES_WORST_FIRST.join(', ')}: ${JSON.stringify(f.severity)}`);
    const check = text(checkText(f.check, 'finding check'));
    const seen = worst.get(check);
    if (seen === undefined || rank < seen) worst.set(check, rank);
    // Absent when v1 stored NULL: subject and fix when null/undefined, classification when undefined.
    const o: FindingOut = {
      rule: text(checkText(f.rule, 'finding rule')),
      check,
      severity: f.severity,
      message: text(checkText(f.message, 'finding message')),
      evidence: 0,
    };
    const ev = f.evidence ?? {};
    let at = evidenceAt.get(ev);
    if (at === undefined) {
      at = evidence.push(checkJsonable(ev, 'finding evidence')) - 1;
      evidenceAt.set(ev, at);
    }
    o.evidence = at;
    if (f.subject != null) o.subject = text(checkText(f.subject, 'finding subject'));
    if (f.classification !== undefined) o.classification = checkJsonable(f.classification, 'finding classification');
    if (f.fix != null) o.fix = text(checkText(f.fix, 'finding fix'));
    out[i] = o;
  }
  const checks: Record<string, string> = {};
  for (const check of [...worst.keys()].sort()) checks[check] = SEVERITIES_WORST_FIRST[worst.get(check)!];
  return { findings: JSON.stringify({ evidence, findings: out }), checks: JSON.stringify(checks) };
}

function normaliseTime(value: string, what: string): string {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new StoreError('invalid', `${what} is not a timestamp: ${JSON.stringify(value)}`);
  return new Date(t).toISOString();
}

function checkCount(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0) throw new StoreError('invalid', `${what} must be a non-negative integer, got ${n}`);
  return n;
}

function checkLimit(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new StoreError('invalid', `limit must be a positive integer, got ${n}`);
  return n;
}

const DAY_MS = 86_400_000;
/**
 * The most complete report runs prune keeps whatever their dates (see prune): the nightly report's chart and streaks
 * look back 30 runs (src/cron/report.ts DEFAULT_HISTORY_DEPTH).
 */
export const KEEP_REPORT_RUNS = 30;
/**
 * The settings key under which prune records the newest complete report run it deleted (Store.newestPrunedReportRun).
 * A row of the settings table rather than a column: no schema change, so a history file of any version opens as it
 * did, and one pruned by a version before this key simply has none (its streaks read as before).
 */
export const PRUNED_REPORT_RUN = 'history.prunedReportRun';
/** How many reports before a new one Store.thinEarlierReports looks at (the one before, and two a busy night left). */
export const THIN_REPORTS_BACK = 3;
/**
 * How prune tells a clock far ahead from the history (see prune): the lower median of this many newest times recorded
 * by runs and jobs (one night at a wrong clock writes fewer than half of them), and how far ahead of it, at least, the
 * newest may be before it stands out (with a report each night the median is two nights back; one more for a missed one).
 */
export const PRUNE_EVIDENCE = 5;
export const PRUNE_SLACK_DAYS = 3;

/**
 * Given the newest times runs and jobs recorded (ms, newest first, at most PRUNE_EVIDENCE), the time prune judges ages
 * against when the newest of them stand far ahead of the others (see prune) — the newest that does not — or null when
 * none stands out (the clock is not contradicted). Pure.
 */
export function trustedNow(newestFirst: readonly number[]): number | null {
  const times = newestFirst.filter((t) => !Number.isNaN(t)).sort((a, b) => b - a);
  if (times.length < 2) return null;
  const middle = times[Math.floor(times.length / 2)];
  const spread = middle - times[times.length - 1];
  const limit = middle + Math.max(PRUNE_SLACK_DAYS * DAY_MS, 2 * spread);
  if (times[0] <= limit) return null;
  return times.find((t) => t <= limit) ?? middle;
}

/** A row of the locks table (ttl_ms, clock, clock_expires_at: NULL in rows of versions before schema v8). */
interface LockRow {
  name: string;
  owner: string;
  acquired_at: number;
  expires_at: number;
  ttl_ms: number | null;
  clock: string | null;
  clock_expires_at: number | null;
}

function checkTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new StoreError('invalid', `lock ttl must be a positive number of ms, got ${ttlMs}`);
}

/** Whether a lock row's lease was written on the lease clock this process reads now (see "Locks" in Store). */
function onLeaseClock(row: LockRow, clock: LeaseReading | null): clock is LeaseReading {
  return clock !== null && row.clock !== null && row.clock_expires_at !== null && row.clock === clock.clock;
}

/**
 * What is left of a lock's lease, in ms (0 or less: over): on the lease clock when the row was written on the one this
 * process reads, else on the wall clock (`now`) — never more than the lease's own length when the row records it (a
 * lease end further ahead was written before the wall clock went back). Pure: Store's lock calls judge with it.
 */
function leaseLeft(row: LockRow, now: number, clock: LeaseReading | null): number {
  if (onLeaseClock(row, clock)) return row.clock_expires_at! - clock.ms;
  const left = row.expires_at - now;
  return row.ttl_ms !== null && left > row.ttl_ms ? row.ttl_ms : left;
}

export class Store {
  private readonly statements = new Map<string, Database.Statement>();
  private closed = false;
  /** PRAGMA data_version when the schema was last looked at (see checkSchema). */
  private seenDataVersion: number;
  /** Set once another process migrated the file past `knownVersion`: thrown by every call from then on. */
  private upgraded: SchemaChangedError | null = null;
  private readonly dataVersion: Database.Statement;

  /** Use openStore(). */
  constructor(
    private readonly db: Database.Database,
    readonly path: string,
    private readonly now: () => number,
    /** The schema version this code knows (the migrations it was opened with). */
    private readonly knownVersion: number = MIGRATIONS.length,
    /** The clock leases are judged on (StoreOptions.leaseClock); null: the wall clock alone. */
    private readonly leaseClock: LeaseClock | null = null,
    /** StoreOptions.prune and freeSpace, defaults filled in. */
    private readonly tuning: { prune: PruneTuning; freeSpace: (dir: string) => number | null } = { prune: PRUNE_TUNING, freeSpace: freeBytes },
  ) {
    this.dataVersion = db.prepare('PRAGMA data_version').pluck();
    // Unknown: the first call reads user_version once (a migration committed between openStore's and this is seen).
    this.seenDataVersion = -1;
  }

  // ---- plumbing ----

  private st(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /**
   * The schema is checked at open (migrate) and again whenever another connection has committed since the last look:
   * a newer mailhealth (the CLI of an upgrade) may migrate the file under a long-running process (`serve`, `service`),
   * whose reads would then meet documents and columns it cannot read (500 pages). PRAGMA data_version — a counter of
   * this connection, changed only by other connections' commits — reads no page; user_version is read only when it
   * moved. It is asked once per public call (a read, or a write transaction — inside it, where no migration can slip
   * in between): measured, a getSetting went from ~2.7 to ~4.5 µs, and a batch of audits (recordPreparedAudits: the
   * bench's 10,000 results, 50 a batch) pays it once per batch, never per row (~11 µs a result either way).
   * Throws SchemaChangedError (and keeps throwing it) once the file is newer than this code knows.
   */
  private checkSchema(): void {
    if (this.upgraded) throw this.upgraded;
    if (this.db.inTransaction) return; // checked when this transaction (or the call it belongs to) began
    this.checkSchemaNow();
  }

  private checkSchemaNow(): void {
    const v = this.dataVersion.get() as number;
    if (v === this.seenDataVersion) return;
    this.seenDataVersion = v;
    const found = schemaVersion(this.db);
    if (found > this.knownVersion) throw (this.upgraded = new SchemaChangedError(this.path, found, this.knownVersion));
  }

  /** Runs fn, translating SQLite errors. */
  private guard<T>(fn: () => T): T {
    return this.guardUnchecked(() => {
      this.checkSchema();
      return fn();
    });
  }

  /** Runs fn in one BEGIN IMMEDIATE transaction (all or nothing), translating SQLite errors. */
  private write<T>(fn: () => T): T {
    if (this.upgraded) throw this.upgraded;
    if (this.db.inTransaction) return this.guard(() => this.db.transaction(fn).immediate());
    // The schema is looked at once the write lock is held: no migration can come between the check and the write.
    return this.guardUnchecked(() =>
      this.db
        .transaction(() => {
          this.checkSchemaNow();
          return fn();
        })
        .immediate(),
    );
  }

  /** guard without the schema check (close, the write transaction that checks inside). */
  private guardUnchecked<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw toStoreError(e, this.path);
    }
  }

  private iso(ms = this.now()): string {
    return new Date(ms).toISOString();
  }

  /** The schema version of the open file. */
  schemaVersion(): number {
    return this.guard(() => schemaVersion(this.db));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.statements.clear();
    // Unchecked: a process told the schema moved on must still close the file.
    this.guardUnchecked(() => this.db.close());
  }

  // ---- runs and audit history ----

  startRun(kind: RunKind, byUser: string, total?: number | null, meta?: unknown): number {
    if (total != null) checkCount(total, 'total');
    const metaJson = toJson(meta, 'run meta');
    return this.write(() => {
      const info = this.st(`INSERT INTO runs (kind, started_at, status, by_user, total, meta) VALUES (?, ?, 'running', ?, ?, ?)`).run(
        kind,
        this.iso(),
        byUser,
        total ?? null,
        metaJson,
      );
      return Number(info.lastInsertRowid);
    });
  }

  /**
   * A run that ended before it began (a night the panel could not be read, or the database stayed busy): recorded
   * finished and `interrupted` in one statement — never left `running` between two writes. Returns its id.
   */
  recordFailedRun(kind: RunKind, byUser: string, meta?: unknown): number {
    const metaJson = toJson(meta, 'run meta');
    return this.write(() => {
      const at = this.iso();
      const info = this.st(`INSERT INTO runs (kind, started_at, finished_at, status, by_user, total, meta) VALUES (?, ?, ?, 'interrupted', ?, NULL, ?)`).run(
        kind,
        at,
        at,
        byUser,
        metaJson,
      );
      return Number(info.lastInsertRowid);
    });
  }

  /** Stores one domain's audit (result row with its findings) in one transaction. Returns the result id. */
  recordAudit(runId: number, audit: DomainAudit, owner?: string | null): number {
    const prepared = prepareAudit(audit, owner);
    return this.write(() => this.insertPrepared(runId, prepared));
  }

  /**
   * Stores many audits in one transaction (all or none) — much faster than recordAudit in a loop for a
   * nightly run. Returns the result ids in input order.
   */
  recordAudits(runId: number, items: readonly { audit: DomainAudit; owner?: string | null }[], progress?: { done?: number; failed?: number }): number[] {
    return this.recordPreparedAudits(runId, items.map((i) => prepareAudit(i.audit, i.owner)), progress);
  }

  /**
   * Stores audits made ready by prepareAudit (possibly in another thread) in one transaction (all or none).
   * Only inserts: no serialisation here. Returns the result ids in input order. `progress`: added to the run's
   * done/failed counters in the same transaction (as bumpRunProgress), so a batch tried again after a busy database
   * is never counted twice, nor its rows kept without their count.
   */
  recordPreparedAudits(runId: number, items: readonly PreparedAudit[], progress?: { done?: number; failed?: number }): number[] {
    return this.write(() => {
      const ids = new Array<number>(items.length);
      for (let i = 0; i < items.length; i++) ids[i] = this.insertPrepared(runId, items[i]);
      if (progress) this.bumpProgress(runId, progress);
      return ids;
    });
  }

  /**
   * One result, naming its findings document (see "Documents stored once"): the one stored under its hash when there is
   * one — a lookup in documents_hash and its reference counted, nothing else written — else a new one. The only INSERT
   * into results: it counts the reference itself (no trigger does, see migrations.ts v9); deletes are counted by trigger.
   */
  private insertPrepared(runId: number, a: PreparedAudit): number {
    // A PreparedAudit made by an older prepareAudit (none in this code; a value kept across an upgrade) has no hash yet.
    const hash = (a.findingsHash as string | undefined) ?? documentHash(a.findings);
    let doc = this.st(`SELECT id FROM documents WHERE hash = ?`).pluck().get(hash) as number | undefined;
    if (doc !== undefined) this.st(`UPDATE documents SET refs = refs + 1 WHERE id = ?`).run(doc);
    else {
      doc = Number(this.st(`INSERT INTO documents (hash, refs) VALUES (?, 1)`).run(hash).lastInsertRowid);
      // The document arrives as UTF-8 bytes: CAST stores them as the TEXT they are (no re-encoding here).
      this.st(`INSERT INTO document_texts (id, text) VALUES (?, CAST(? AS TEXT))`).run(doc, a.findings);
    }
    const info = this.st(
      `INSERT INTO results (run_id, domain, owner, status, audited_at, findings_count, checks, doc_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(runId, a.domain, a.owner, a.status, a.auditedAt, a.findingsCount, a.checks, doc);
    return Number(info.lastInsertRowid);
  }

  /** Adds to the run's done/failed counters (increments, not absolute values). */
  bumpRunProgress(runId: number, progress: { done?: number; failed?: number }): void {
    this.write(() => this.bumpProgress(runId, progress));
  }

  /** bumpRunProgress inside a write transaction. */
  private bumpProgress(runId: number, { done = 0, failed = 0 }: { done?: number; failed?: number }): void {
    const info = this.st(`UPDATE runs SET done = done + ?, failed = failed + ? WHERE id = ?`).run(done, failed, runId);
    if (info.changes === 0) throw new StoreError('not-found', `run ${runId} does not exist`);
  }

  /**
   * A report run that ends with its report: marked complete and its report saved in one transaction — never complete
   * without a report (the next night would compare with a night nobody was told about), never a report on a run left
   * unfinished. Only a run still `running`: false (nothing written) when it was marked otherwise meanwhile (a stopped
   * process's run marked interrupted by the run that took its lock over, Ctrl-C).
   */
  completeRunWithReport(runId: number, report: { json: unknown; html: string; text: string }): boolean {
    const jsonText = toJson(report.json, 'report json') ?? 'null';
    return this.write(() => {
      const at = this.iso();
      const info = this.st(`UPDATE runs SET status = 'complete', finished_at = ? WHERE id = ? AND status = 'running'`).run(at, runId);
      if (info.changes === 0) {
        if (!this.st(`SELECT 1 FROM runs WHERE id = ?`).get(runId)) throw new StoreError('not-found', `run ${runId} does not exist`);
        return false;
      }
      this.insertReport(runId, jsonText, report.html, report.text, at);
      return true;
    });
  }

  finishRun(runId: number, status: Exclude<RunStatus, 'running'>): void {
    this.write(() => {
      const info = this.st(`UPDATE runs SET status = ?, finished_at = ? WHERE id = ?`).run(status, this.iso(), runId);
      if (info.changes === 0) throw new StoreError('not-found', `run ${runId} does not exist`);
    });
  }

  getRun(id: number): Run | null {
    return this.guard(() => {
      const row = this.st(`SELECT * FROM runs WHERE id = ?`).get(id) as RunRow | undefined;
      return row ? runFromRow(row) : null;
    });
  }

  /**
   * Newest first. `complete`: only complete runs (true) or only the others (false) — the nightly report picks the runs
   * it compares with among complete ones however many failed nights lie between (src/cron/report.ts loadHistory), and
   * lists the others since then. `afterId`, `beforeId`: only runs made after, before that one.
   */
  listRuns({ kind, limit = 50, complete, afterId, beforeId }: { kind?: RunKind; limit?: number; complete?: boolean; afterId?: number; beforeId?: number } = {}): Run[] {
    checkLimit(limit);
    return this.guard(() => {
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (kind) {
        where.push('kind = ?');
        args.push(kind);
      }
      if (complete !== undefined) where.push(complete ? `status = 'complete'` : `status != 'complete'`);
      if (afterId !== undefined) {
        where.push('id > ?');
        args.push(afterId);
      }
      if (beforeId !== undefined) {
        where.push('id < ?');
        args.push(beforeId);
      }
      const rows = this.st(`SELECT * FROM runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`).all(...args, limit) as RunRow[];
      return rows.map(runFromRow);
    });
  }

  /**
   * The newest complete report run prune has deleted (PRUNED_REPORT_RUN), or null when it never deleted one (or did so
   * before it was recorded): the nightly report's streaks that reach the oldest run kept are then lower bounds.
   */
  newestPrunedReportRun(): number | null {
    const v = this.getSetting<unknown>(PRUNED_REPORT_RUN);
    return typeof v === 'number' && Number.isSafeInteger(v) ? v : null;
  }

  /** The most recent audit of a domain (latest audited_at, see "Audit order"; ties go to the later write), or null. */
  latestAudit(domain: string): DomainAudit | null {
    const r = this.latestAudits([domain]).get(domain);
    return r ? toDomainAudit(r) : null;
  }

  /**
   * The latest result of every domain (or of the given domains; unknown ones are absent), keyed by domain
   * in domain order, findings included. One query: two index seeks per domain (see LATEST_ID).
   */
  latestAudits(domains?: readonly string[]): Map<string, AuditResult> {
    return this.guard(() => {
      const rows = (
        domains
          ? this.st(
              `WITH wanted(domain) AS (SELECT DISTINCT value FROM json_each(?)),
                    latest(id) AS (SELECT ${LATEST_ID} FROM wanted)
               SELECT ${RESULT_COLUMNS}
               FROM latest JOIN results r ON r.id = latest.id
               ORDER BY r.domain`,
            ).all(JSON.stringify(domains))
          : this.st(
              `WITH wanted(domain) AS (SELECT DISTINCT domain FROM results),
                    latest(id) AS (SELECT ${LATEST_ID} FROM wanted)
               SELECT ${RESULT_COLUMNS}
               FROM latest JOIN results r ON r.id = latest.id
               ORDER BY r.domain`,
            ).all()
      ) as ResultDocRow[];
      return new Map(rows.map((row) => [row.domain, resultFromRow(row)]));
    });
  }

  /** A domain's audits, newest first in the order written (see "Audit order": never by a clock that went back). */
  auditsForDomain(domain: string, limit = 20): AuditResult[] {
    checkLimit(limit);
    return this.guard(() => {
      const rows = this.st(
        `WITH picked AS (SELECT id FROM results INDEXED BY results_domain_id WHERE domain = ? ORDER BY id DESC LIMIT ?)
         SELECT ${RESULT_COLUMNS}
         FROM picked JOIN results r ON r.id = picked.id
         ORDER BY r.id DESC`,
      ).all(domain, limit) as ResultDocRow[];
      return rows.map(resultFromRow);
    });
  }

  /** Every result of one run, by domain, with findings — for comparing two nightly runs. */
  runResults(runId: number): AuditResult[] {
    return this.guard(() => {
      const rows = this.st(
        `SELECT ${RESULT_COLUMNS}
         FROM results r
         WHERE r.run_id = ?
         ORDER BY r.domain, r.id`,
      ).all(runId) as ResultDocRow[];
      return rows.map(resultFromRow);
    });
  }

  /**
   * The ids of a run's results in the order runResults returns them (by domain, then as written), reading no findings:
   * what a reader that takes a big run in pieces goes by (resultFindingsByIds, resultsByIds — the nightly report's
   * history, which lets the event loop turn between pieces).
   */
  runResultIds(runId: number): number[] {
    return this.guard(() => this.st(`SELECT id FROM results WHERE run_id = ? ORDER BY domain, id`).pluck().all(runId) as number[]);
  }

  /** Results by id, whole (findings with their evidence, as runResults), in the order of `ids`; ids not stored are left out. */
  resultsByIds(ids: readonly number[]): AuditResult[] {
    return this.byIds(ids, resultFromRow);
  }

  /**
   * Results by id, in the order of `ids` (ids not stored are left out), each with only its findings of `severities`, and
   * of those only rule, check, severity, message and subject (when stored): no evidence, classification or fix. For a
   * reader of many results that needs their problems, not their records (the nightly report's history: 30 nights of
   * every domain). Each row's document is decoded and dropped in turn: what is returned holds no evidence, and no more
   * than one raw document is alive at a time. Decoded in JavaScript, not projected in SQL: on QA's 2,000-domain history
   * (6.5 KB documents) JSON.parse and a filter took ~90 ms a night against 113–190 ms for json_each in SQL.
   */
  resultFindingsByIds(ids: readonly number[], severities: readonly Severity[]): ResultFindings[] {
    const keep: ReadonlySet<string> = new Set(severities);
    return this.byIds(ids, (row) => ({ ...resultHead(row), findings: findingHeads(documentOf(row), keep) }));
  }

  /** The rows of `ids` (one query, rowid seeks), each made into T as it is read, in the order of `ids`. */
  private byIds<T>(ids: readonly number[], make: (row: ResultDocRow) => T): T[] {
    if (!ids.length) return [];
    return this.guard(() => {
      const byId = new Map<number, T>();
      for (const row of this.st(`SELECT ${RESULT_COLUMNS} FROM results r WHERE r.id IN (SELECT value FROM json_each(?))`).iterate(
        JSON.stringify(ids),
      ) as IterableIterator<ResultDocRow>) {
        byId.set(row.result_id, make(row));
      }
      const out: T[] = [];
      for (const id of ids) {
        const r = byId.get(id);
        if (r !== undefined) out.push(r);
      }
      return out;
    });
  }

  /**
   * How many results each run still holds (read-only; runs without any are absent) — prune keeps a domain's latest
   * result however old, so an old run may hold only part of what it audited. Findings are not read.
   */
  runResultCounts(runIds: readonly number[]): Map<number, number> {
    if (!runIds.length) return new Map();
    return this.guard(() => {
      const rows = this.st(
        `SELECT run_id AS runId, count(*) AS n FROM results WHERE run_id IN (SELECT value FROM json_each(?)) GROUP BY run_id`,
      ).all(JSON.stringify(runIds)) as { runId: number; n: number }[];
      return new Map(rows.map((r) => [r.runId, r.n]));
    });
  }

  /**
   * Per-domain summary of the latest result (no evidence): status, time, owner, findings count and the worst
   * severity per check. For list pages over many domains; domains never audited are absent.
   */
  latestSummaries(domains: readonly string[]): Map<string, ResultSummary> {
    return this.guard(() => {
      const rows = this.st(
        `WITH wanted(domain) AS (SELECT DISTINCT value FROM json_each(?)),
              latest(id) AS (SELECT ${LATEST_ID} FROM wanted)
         SELECT r.id AS result_id, r.run_id, r.domain, r.owner, r.status, r.audited_at, r.findings_count, r.checks
         FROM latest JOIN results r ON r.id = latest.id
         ORDER BY r.domain`,
      ).all(JSON.stringify(domains)) as (ResultHeadRow & { checks: string })[];
      const out = new Map<string, ResultSummary>();
      for (const row of rows) {
        out.set(row.domain, { ...resultHead(row), checks: JSON.parse(row.checks) as ResultSummary['checks'] });
      }
      return out;
    });
  }

  /**
   * Recent results (no findings) of the given domains, newest first in the order written (see "Audit order"), with who
   * ran the audit. The ids are picked from the covering index results_domain_id (domain, id) and only those `limit`
   * rows are read (as auditsForDomain does): sorting the scope's rows themselves read every result of every domain in
   * it (QA: 206,450 rows of ~6.5 KB for 50, 0.5–1 s at 2,000 domains). CROSS JOIN keeps the picked ids the outer loop
   * (whatever the planner's statistics say); the `limit` rows are sorted here, which needs no second sort in SQL.
   */
  recentResults(domains: readonly string[], limit = 50, opts: { withChecks?: boolean } = {}): ResultRow[] {
    checkLimit(limit);
    return this.guard(() =>
      (
        this.st(
          `WITH picked AS (SELECT id FROM results INDEXED BY results_domain_id
                           WHERE domain IN (SELECT value FROM json_each(?)) ORDER BY id DESC LIMIT ?)
           SELECT r.id, r.run_id, r.domain, r.owner, r.status, r.audited_at, r.findings_count, r.checks, runs.by_user, runs.kind
           FROM picked CROSS JOIN results r ON r.id = picked.id JOIN runs ON runs.id = r.run_id`,
        ).all(JSON.stringify(domains), limit) as {
          id: number;
          run_id: number;
          domain: string;
          owner: string | null;
          status: DomainStatus;
          audited_at: string;
          findings_count: number;
          checks: string;
          by_user: string;
          kind: RunKind;
        }[]
      )
        .sort((a, b) => b.id - a.id)
        .map((r) => ({
          resultId: r.id,
          runId: r.run_id,
          domain: r.domain,
          owner: r.owner,
          status: r.status,
          auditedAt: r.audited_at,
          findingsCount: r.findings_count,
          byUser: r.by_user,
          runKind: r.kind,
          ...(opts.withChecks ? { checks: JSON.parse(r.checks) as NonNullable<ResultRow['checks']> } : {}),
        })),
    );
  }

  /**
   * The newest `limit` changes of these domains, newest first; with `beforeId`, only those older than that change. As
   * recentResults: ids from the covering index changes_domain (domain, id) first, then only those rows.
   */
  changesForDomains(domains: readonly string[], limit = 50, beforeId?: number): ChangeRecord[] {
    checkLimit(limit);
    if (beforeId !== undefined && !(Number.isSafeInteger(beforeId) && beforeId > 0)) throw new StoreError('invalid', `beforeId must be a positive integer, got ${beforeId}`);
    return this.guard(() =>
      (
        this.st(
          `WITH picked AS (SELECT id FROM changes INDEXED BY changes_domain
                           WHERE domain IN (SELECT value FROM json_each(?)) AND id < ? ORDER BY id DESC LIMIT ?)
           SELECT c.* FROM picked CROSS JOIN changes c ON c.id = picked.id`,
        ).all(JSON.stringify(domains), beforeId ?? Number.MAX_SAFE_INTEGER, limit) as ChangeRow[]
      )
        .sort((a, b) => b.id - a.id)
        .map(changeFromRow),
    );
  }

  // ---- changes (fix plans) ----

  /** Records a plan before the panel write. Returns the change id. */
  recordIntent(input: IntentInput): number {
    const changesJson = toJson(input.changes, 'changes') as string;
    return this.write(() => {
      const at = this.iso();
      const info = this.st(
        `INSERT INTO changes (domain, "check", plan_hash, zone_version_before, changes, by_user, created_at, updated_at, status, undo_of, job_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'intent', ?, ?)`,
      ).run(input.domain, input.check, input.planHash, input.zoneVersion, changesJson, input.byUser, at, at, input.undoOf ?? null, input.jobId ?? null);
      return Number(info.lastInsertRowid);
    });
  }

  /**
   * The changes job `jobId`'s applies recorded (IntentInput.jobId) on these domains, newest first: what a bulk fix job
   * wrote, exactly — never another fix of its user on the same domain meanwhile. None for a job that no longer exists
   * (prune clears the id from its changes), nor for changes older than schema v7. Nor for changes written before the
   * job was created (ids up to jobs.changes_after): a job deleted with foreign keys off (an sqlite3 shell) leaves its id
   * on its changes, and INTEGER PRIMARY KEY gives that id to the next job — which must not claim them. By change id,
   * never by created_at: a change the job wrote after the clock was set back is still its own.
   */
  changesOfJob(jobId: number, domains: readonly string[]): ChangeRecord[] {
    return this.guard(() =>
      (
        this.st(
          `SELECT changes.* FROM changes JOIN jobs ON jobs.id = changes.job_id
           WHERE changes.job_id = ? AND changes.id > coalesce(jobs.changes_after, 0) AND changes.domain IN (SELECT value FROM json_each(?))
           ORDER BY changes.id DESC`,
        ).all(jobId, JSON.stringify(domains)) as ChangeRow[]
      ).map(changeFromRow),
    );
  }

  /**
   * Replaces the changes (and the zone version they start from) of an open intent: a DKIM fix records its intent
   * before the panel generates the key, and only then knows the record it will publish.
   */
  reviseIntent(id: number, revision: { changes: Change[]; zoneVersion: string | null }): void {
    const changesJson = toJson(revision.changes, 'changes') as string;
    this.write(() => {
      const info = this.st(`UPDATE changes SET changes = ?, zone_version_before = ?, updated_at = ? WHERE id = ? AND status = 'intent'`).run(changesJson, revision.zoneVersion, this.iso(), id);
      if (info.changes !== 1) throw new StoreError('not-found', `change ${id} is not an open intent`);
    });
  }

  /** Records what happened to a plan. Fields left out keep their stored values. */
  recordOutcome(id: number, outcome: OutcomeInput): void {
    this.write(() => {
      const row = this.st(`SELECT * FROM changes WHERE id = ?`).get(id) as ChangeRow | undefined;
      if (!row) throw new StoreError('not-found', `change ${id} does not exist`);
      this.updateOutcome(row, outcome);
    });
  }

  /** Plans recorded but never resolved (a crash between intent and outcome), oldest first. */
  pendingIntents(): ChangeRecord[] {
    return this.guard(() => (this.st(`SELECT * FROM changes WHERE status = 'intent' ORDER BY id`).all() as ChangeRow[]).map(changeFromRow));
  }

  getChange(id: number): ChangeRecord | null {
    return this.guard(() => {
      const row = this.st(`SELECT * FROM changes WHERE id = ?`).get(id) as ChangeRow | undefined;
      return row ? changeFromRow(row) : null;
    });
  }

  /**
   * The newest change of `domain`'s `check` fix recorded with exactly this plan hash that is applied and not undone, or
   * still pending (an intent) — the preview was applied already (a form sent twice) — or null. Undos and changes that
   * failed, were restored or reverted do not count.
   */
  changeWithPlanHash(domain: string, check: string, planHash: string): ChangeRecord | null {
    return this.guard(() => {
      const row = this.st(
        `SELECT * FROM changes WHERE domain = ? AND "check" = ? AND plan_hash = ? AND undo_of IS NULL AND undone_by IS NULL
           AND status IN ('applied', 'intent') ORDER BY id DESC LIMIT 1`,
      ).get(domain, check, planHash) as ChangeRow | undefined;
      return row ? changeFromRow(row) : null;
    });
  }

  /** Newest first; all domains when `domain` is omitted. */
  changesForDomain(domain?: string | null, limit = 50): ChangeRecord[] {
    checkLimit(limit);
    return this.guard(() => {
      const rows = (
        domain != null
          ? this.st(`SELECT * FROM changes WHERE domain = ? ORDER BY id DESC LIMIT ?`).all(domain, limit)
          : this.st(`SELECT * FROM changes ORDER BY id DESC LIMIT ?`).all(limit)
      ) as ChangeRow[];
      return rows.map(changeFromRow);
    });
  }

  /**
   * Links change `id` to the change that undid it. Leaves `status` alone (set 'reverted' through recordOutcome
   * if that is wanted). A change can be undone once: a second, different undo throws StoreError('invalid').
   * An undo's own bookkeeping uses recordUndone, which does the undo's outcome, this link and 'reverted' in one
   * transaction.
   */
  markUndone(id: number, undoChangeId: number): void {
    this.write(() => {
      const row = this.st(`SELECT undone_by FROM changes WHERE id = ?`).get(id) as { undone_by: number | null } | undefined;
      if (!row) throw new StoreError('not-found', `change ${id} does not exist`);
      if (row.undone_by !== null && row.undone_by !== undoChangeId) {
        throw new StoreError('invalid', `change ${id} was already undone by change ${row.undone_by}`);
      }
      this.st(`UPDATE changes SET undone_by = ?, updated_at = ? WHERE id = ?`).run(undoChangeId, this.iso(), id);
    });
  }

  /**
   * Records the outcome of change `id` only if it is still an open intent — read and write in one transaction, so an
   * outcome another process recorded meanwhile (reconcile settling a fix whose lease ran out) is never overwritten.
   * False when it was no longer an intent (nothing written). Fields left out keep their stored values.
   */
  settleIntent(id: number, outcome: OutcomeInput): boolean {
    return this.write(() => {
      const row = this.st(`SELECT * FROM changes WHERE id = ?`).get(id) as ChangeRow | undefined;
      if (!row) throw new StoreError('not-found', `change ${id} does not exist`);
      if (row.status !== 'intent') return false;
      this.updateOutcome(row, outcome);
      return true;
    });
  }

  /**
   * An undo that was written: the undo (change `undoId`, still an open intent) applied, and the change it undoes linked
   * to it (undone_by) and reverted — the three writes in one transaction, so a crash or a busy database never leaves
   * the undo applied while the change it undid still reads applied and undoable. False (nothing written) when the undo
   * was no longer an open intent. A change undone by another undo already: StoreError('invalid'), nothing written.
   */
  recordUndone(undoId: number, outcome: { zoneVersionAfter?: string | null; verified?: Verified | null; error?: string | null } = {}): boolean {
    return this.write(() => {
      const row = this.st(`SELECT * FROM changes WHERE id = ?`).get(undoId) as ChangeRow | undefined;
      if (!row) throw new StoreError('not-found', `change ${undoId} does not exist`);
      if (row.undo_of === null) throw new StoreError('invalid', `change ${undoId} is not an undo`);
      if (row.status !== 'intent') return false;
      // The change already undone by another undo (never through undoChange, which judges it under the domain lock):
      // this undo is settled as written all the same, saying so — never left open by a link that cannot be made.
      const other = this.undoneByOther(row.undo_of, undoId);
      const conflict = other === null ? null : `change ${row.undo_of} had already been undone by change ${other}; this undo was written too — review the records`;
      this.updateOutcome(row, { status: 'applied', ...outcome, ...(conflict ? { error: outcome.error ? `${conflict} — ${outcome.error}` : conflict } : {}) });
      if (other === null) this.markReverted(row.undo_of, undoId);
      return true;
    });
  }

  /**
   * A write that reached the zone after its intent had been settled by someone else (its fix outlasted the lock's
   * lease and reconcile closed it from the zone as it was then): the record is corrected, in one transaction and only
   * while its status is still `expected` (false, nothing written, otherwise). `note` goes before the earlier error
   * text, which is kept. `reopen`: the zone holds the write — status 'applied' (and for an undo, the change it undoes
   * linked and reverted), so the history says what the zone holds and undo works; else the status stays.
   */
  recordLateWrite(id: number, late: { expected: ChangeStatus; reopen: boolean; zoneVersionAfter?: string | null; note: string }): boolean {
    return this.write(() => {
      const row = this.st(`SELECT * FROM changes WHERE id = ?`).get(id) as ChangeRow | undefined;
      if (!row) throw new StoreError('not-found', `change ${id} does not exist`);
      if (row.status !== late.expected) return false;
      const error = row.error ? `${late.note} — earlier: ${row.error}` : late.note;
      if (!late.reopen) {
        this.updateOutcome(row, { status: row.status as OutcomeInput['status'], error });
        return true;
      }
      this.updateOutcome(row, { status: 'applied', error, ...(late.zoneVersionAfter !== undefined ? { zoneVersionAfter: late.zoneVersionAfter } : {}) });
      if (row.undo_of !== null && this.undoneByOther(row.undo_of, id) === null) this.markReverted(row.undo_of, id);
      return true;
    });
  }

  /**
   * Repairs what an undo interrupted between its own outcome and the marking of the change it undid left (written by
   * versions that made those separate writes): an applied undo whose change is not linked to it, or linked but still
   * 'applied', gets it linked and 'reverted'. One transaction; returns the pairs it repaired (usually none).
   */
  repairUndoLinks(): { undoId: number; changeId: number }[] {
    return this.write(() => {
      const rows = this.st(
        `SELECT u.id AS undo_id, o.id AS change_id FROM changes u JOIN changes o ON o.id = u.undo_of
         WHERE u.undo_of IS NOT NULL AND u.status = 'applied' AND o.status IN ('applied', 'reverted')
           AND ((o.undone_by IS NULL) OR (o.undone_by = u.id AND o.status = 'applied'))
         ORDER BY u.id`,
      ).all() as { undo_id: number; change_id: number }[];
      const out: { undoId: number; changeId: number }[] = [];
      for (const r of rows) {
        // Two applied undos of one change (never made by mailhealth): the first links it, the second is left alone.
        const cur = this.st(`SELECT undone_by FROM changes WHERE id = ?`).get(r.change_id) as { undone_by: number | null };
        if (cur.undone_by !== null && cur.undone_by !== r.undo_id) continue;
        this.markReverted(r.change_id, r.undo_id, `undone by change ${r.undo_id} (its undo had been interrupted before this change was marked; repaired)`);
        out.push({ undoId: r.undo_id, changeId: r.change_id });
      }
      return out;
    });
  }

  /** UPDATE of a change's outcome columns from `row` (inside a write transaction). */
  private updateOutcome(row: ChangeRow, outcome: OutcomeInput): void {
    this.st(`UPDATE changes SET status = ?, zone_version_after = ?, verified = ?, error = ?, updated_at = ? WHERE id = ?`).run(
      outcome.status,
      outcome.zoneVersionAfter !== undefined ? outcome.zoneVersionAfter : row.zone_version_after,
      outcome.verified !== undefined ? outcome.verified : row.verified,
      outcome.error !== undefined ? outcome.error : row.error,
      this.iso(),
      row.id,
    );
  }

  /** The undo that change `id` is linked to, when it is another than `undoChangeId`; else null. */
  private undoneByOther(id: number, undoChangeId: number): number | null {
    const row = this.st(`SELECT undone_by FROM changes WHERE id = ?`).get(id) as { undone_by: number | null } | undefined;
    return row && row.undone_by !== null && row.undone_by !== undoChangeId ? row.undone_by : null;
  }

  /** Links change `id` to its undo and marks it reverted (inside a write transaction); see markUndone. */
  private markReverted(id: number, undoChangeId: number, error?: string): void {
    const row = this.st(`SELECT undone_by, error FROM changes WHERE id = ?`).get(id) as { undone_by: number | null; error: string | null } | undefined;
    if (!row) throw new StoreError('not-found', `change ${id} does not exist`);
    if (row.undone_by !== null && row.undone_by !== undoChangeId) {
      throw new StoreError('invalid', `change ${id} was already undone by change ${row.undone_by}`);
    }
    this.st(`UPDATE changes SET undone_by = ?, status = 'reverted', error = ?, updated_at = ? WHERE id = ?`).run(
      undoChangeId,
      error === undefined ? row.error : row.error ? `${error} — earlier: ${row.error}` : error,
      this.iso(),
      id,
    );
  }

  setVerified(id: number, verified: Verified | null): void {
    this.write(() => {
      const info = this.st(`UPDATE changes SET verified = ?, updated_at = ? WHERE id = ?`).run(verified, this.iso(), id);
      if (info.changes === 0) throw new StoreError('not-found', `change ${id} does not exist`);
    });
  }

  // ---- locks ----
  // A lock is a row; taking one succeeds when the name is free or its holder's lease is over (so a crashed holder cannot
  // block forever): read and written in one BEGIN IMMEDIATE transaction, so two processes never both take it. Locks are
  // not re-entrant: the same owner asking again while it holds the lock gets false — use renewLock to extend a lease.
  // Owners should be unique per holder (e.g. `${user}:${pid}:${random}`), not just a user name.
  //
  // How long a lease runs is not read off the wall clock, which jumps: an NTP step or a VM resumed moves it by minutes
  // or hours at once (QA: a lease judged on it ran out for every process at once under a fix still writing record by
  // record; the service's settler took the domain and put the old SPF record back between the panel's delete and add —
  // two SPF records), and a clock set back held a domain for the step's length instead of 2 minutes. Each lease is also
  // written on the lease clock (bootClock: the boot's monotonic clock, the same in every process of this host, never
  // stepped), and a row written on the clock this process reads is judged on it alone (leaseLeft). A row of another
  // clock — another boot or host, a process without one (not Linux), an older mailhealth (no such columns) — is judged on
  // the wall clock as before, except that a lease ending further ahead than its own length means the clock went back
  // since it was written: it counts as one lease from now, and tryLock writes that, so a step back holds a lock for at
  // most one more lease. The wall-clock end (expires_at) is always written too: for those readers, and for the words.

  /** The lease clock now (null: none, or it could not be read). */
  private leaseNow(): LeaseReading | null {
    try {
      return this.leaseClock?.() ?? null;
    } catch {
      return null;
    }
  }

  /** A lock row's lease columns for ttlMs from now. */
  private leaseFor(ttlMs: number, now: number, clock: LeaseReading | null): { expiresAt: number; ttl: number; clock: string | null; clockExpiresAt: number | null } {
    return { expiresAt: Math.ceil(now + ttlMs), ttl: Math.ceil(ttlMs), clock: clock?.clock ?? null, clockExpiresAt: clock ? Math.ceil(clock.ms + ttlMs) : null };
  }

  tryLock(name: string, owner: string, ttlMs: number): boolean {
    checkTtl(ttlMs);
    return this.write(() => {
      const now = this.now();
      const clock = this.leaseNow();
      const row = this.st(`SELECT * FROM locks WHERE name = ?`).get(name) as LockRow | undefined;
      if (row && leaseLeft(row, now, clock) > 0) {
        // Held. A wall-clock lease that ends further ahead than its length (the clock went back): from now on it ends
        // one lease from now, so it does not hold the lock for the step's length.
        if (!onLeaseClock(row, clock) && row.ttl_ms !== null && row.expires_at - now > row.ttl_ms) {
          this.st(`UPDATE locks SET expires_at = ? WHERE name = ? AND owner = ?`).run(Math.ceil(now + row.ttl_ms), name, row.owner);
        }
        return false;
      }
      const l = this.leaseFor(ttlMs, now, clock);
      this.st(
        `INSERT INTO locks (name, owner, acquired_at, expires_at, ttl_ms, clock, clock_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at,
           ttl_ms = excluded.ttl_ms, clock = excluded.clock, clock_expires_at = excluded.clock_expires_at`,
      ).run(name, owner, now, l.expiresAt, l.ttl, l.clock, l.clockExpiresAt);
      return true;
    });
  }

  /**
   * Extends the lease of a lock `owner` still holds, to ttlMs from now — one UPDATE … WHERE name AND owner. True also
   * for a lease that ran out while nobody took the lock (the row is still the owner's: taking a lock rewrites its
   * owner, releasing it deletes the row, so nobody held it in between). False when someone else took it since, it was
   * released, or pruned — the holder lost it and must not act as if it still held it.
   */
  renewLock(name: string, owner: string, ttlMs: number): boolean {
    checkTtl(ttlMs);
    return this.write(() => {
      const l = this.leaseFor(ttlMs, this.now(), this.leaseNow());
      const info = this.st(`UPDATE locks SET expires_at = ?, ttl_ms = ?, clock = ?, clock_expires_at = ? WHERE name = ? AND owner = ?`).run(
        l.expiresAt,
        l.ttl,
        l.clock,
        l.clockExpiresAt,
        name,
        owner,
      );
      return info.changes === 1;
    });
  }

  /**
   * Passes a lock `owner` still holds to `newOwner` for ttlMs from now, in one transaction: nobody can take it in
   * between (as they could between a release and a new tryLock). False when `owner` no longer holds it, or its lease is
   * over.
   */
  handOverLock(name: string, owner: string, newOwner: string, ttlMs: number): boolean {
    checkTtl(ttlMs);
    return this.write(() => {
      const now = this.now();
      const clock = this.leaseNow();
      const row = this.st(`SELECT * FROM locks WHERE name = ? AND owner = ?`).get(name, owner) as LockRow | undefined;
      if (!row || leaseLeft(row, now, clock) <= 0) return false;
      const l = this.leaseFor(ttlMs, now, clock);
      const info = this.st(
        `UPDATE locks SET owner = ?, acquired_at = ?, expires_at = ?, ttl_ms = ?, clock = ?, clock_expires_at = ? WHERE name = ? AND owner = ?`,
      ).run(newOwner, now, l.expiresAt, l.ttl, l.clock, l.clockExpiresAt, name, owner);
      return info.changes === 1;
    });
  }

  /** A lock owner naming this process (host, pid, pid namespace, start time) for `user`: see lock-owner.ts. */
  lockOwner(user: string): string {
    return processLockOwner(user);
  }

  /** Whether the process a lock owner names is known to be gone (a process of this host killed, say): lock-owner.ts. */
  lockHolderGone(owner: string): { dead: boolean; why: string } {
    return lockHolderGone(owner);
  }

  /** Releases the lock if `owner` holds it. Returns whether it did. */
  releaseLock(name: string, owner: string): boolean {
    return this.write(() => this.st(`DELETE FROM locks WHERE name = ? AND owner = ?`).run(name, owner).changes === 1);
  }

  /**
   * The current holder of a lock whose lease is not over, or null. `expiresAt`: when the lease runs out on the wall
   * clock as it reads now (what is left of it, judged as tryLock does, from now) — for the words of a refusal.
   */
  lockHolder(name: string): LockInfo | null {
    return this.guard(() => {
      const row = this.st(`SELECT * FROM locks WHERE name = ?`).get(name) as LockRow | undefined;
      if (!row) return null;
      const now = this.now();
      const left = leaseLeft(row, now, this.leaseNow());
      return left > 0 ? { name: row.name, owner: row.owner, acquiredAt: row.acquired_at, expiresAt: now + left } : null;
    });
  }

  /** Runs fn holding the lock; throws StoreError('locked') without running it when someone else holds it. */
  /** `opts.keep`: asked once fn is done (or failed) — true leaves the lock in place until its lease runs out. */
  async withLock<T>(name: string, owner: string, ttlMs: number, fn: () => Promise<T> | T, opts: { keep?: () => boolean } = {}): Promise<T> {
    if (!this.tryLock(name, owner, ttlMs)) {
      const holder = this.lockHolder(name);
      const who = holder ? `${holder.owner} until ${this.iso(holder.expiresAt)}` : 'another process';
      throw new StoreError('locked', `"${name}" is busy: held by ${who}`, { heldLock: name });
    }
    try {
      return await fn();
    } finally {
      try {
        if (!opts.keep?.()) this.releaseLock(name, owner);
      } catch {
        // The database was busy: the lease simply runs out at its expiry. Never turn a finished fn into a failure.
      }
    }
  }

  // ---- jobs ----

  /** A new job (queued). `byAccount`, `requestKey`: see Job; both null when not given. */
  createJob(job: NewJob): number {
    return this.write(() => this.insertJob(job, this.iso()));
  }

  /**
   * A job that ran to its end within one request (a bulk fix applied where no background job can run), recorded once
   * done — job, progress and every item in one transaction — so its results page can be shown by a redirect. Recorded
   * only then: a row that said "running" would stay so if the process were killed (a page's process has no restart
   * that marks it interrupted). Returns its id.
   */
  createFinishedJob(
    job: NewJob & {
      status: Exclude<JobStatus, 'queued' | 'running'>;
      done: number;
      failed: number;
      items: readonly { domain: string; status: string; detail: unknown }[];
    },
  ): number {
    checkCount(job.done, 'done');
    checkCount(job.failed, 'failed');
    const details = job.items.map((it) => toJson(it.detail ?? null, 'job item') as string);
    return this.write(() => {
      const at = this.iso();
      const id = this.insertJob(job, at);
      job.items.forEach((it, seq) => {
        this.st(`INSERT INTO job_items (job_id, seq, domain, status, detail, at) VALUES (?, ?, ?, ?, ?, ?)`).run(id, seq, it.domain, it.status, details[seq], at);
      });
      this.st(`UPDATE jobs SET done = ?, failed = ?, status = ? WHERE id = ?`).run(job.done, job.failed, job.status, id);
      return id;
    });
  }

  private insertJob({ kind, byUser, byAccount = null, requestKey = null, scope, total = 0 }: NewJob, at: string): number {
    checkCount(total, 'total');
    const scopeJson = toJson(scope, 'job scope');
    // changes_after: the newest change now — the job's own changes come after it (changesOfJob).
    const info = this.st(
      `INSERT INTO jobs (kind, by_user, by_account, request_key, scope, total, created_at, updated_at, changes_after)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, (SELECT coalesce(max(id), 0) FROM changes))`,
    ).run(kind, byUser, byAccount, requestKey, scopeJson, total, at, at);
    return Number(info.lastInsertRowid);
  }

  /** The first job of this user and account (null: none; see Job.byAccount) of that kind started with `requestKey`. */
  findJobByRequestKey(byUser: string, byAccount: string | null, kind: string, requestKey: string): Job | null {
    return this.guard(() => {
      const row = this.st(`SELECT * FROM jobs WHERE by_user = ? AND request_key = ? AND by_account IS ? AND kind = ? ORDER BY id LIMIT 1`).get(
        byUser,
        requestKey,
        byAccount,
        kind,
      ) as JobRow | undefined;
      return row ? jobFromRow(row) : null;
    });
  }

  /**
   * The panel account behind `user`'s jobs is gone (its web login is being forgotten): every job of that name becomes
   * nobody's (byAccount GONE_ACCOUNT), and one still queued or running is asked to stop. A new account given the name
   * — even one with the same role and owner, which nothing else tells apart — starts without them. Returns how many.
   */
  disownJobs(user: string): number {
    return this.write(
      () =>
        this.st(
          `UPDATE jobs SET by_account = ?, updated_at = ?,
             cancel_requested = CASE WHEN status IN ('queued', 'running') THEN 1 ELSE cancel_requested END
           WHERE by_user = ? AND by_account IS NOT ?`,
        ).run(GONE_ACCOUNT, this.iso(), user, GONE_ACCOUNT).changes,
    );
  }

  /** Sets (absolute values, not increments) the given fields. */
  updateJob(id: number, update: JobUpdate): void {
    if (update.done !== undefined) checkCount(update.done, 'done');
    if (update.failed !== undefined) checkCount(update.failed, 'failed');
    if (update.gone !== undefined) checkCount(update.gone, 'gone');
    this.write(() => {
      const row = this.st(`SELECT * FROM jobs WHERE id = ?`).get(id) as JobRow | undefined;
      if (!row) throw new StoreError('not-found', `job ${id} does not exist`);
      this.st(`UPDATE jobs SET done = ?, failed = ?, gone = ?, status = ?, run_id = ?, error = ?, updated_at = ? WHERE id = ?`).run(
        update.done ?? row.done,
        update.failed ?? row.failed,
        update.gone ?? row.gone,
        update.status ?? row.status,
        update.runId !== undefined ? update.runId : row.run_id,
        update.error !== undefined ? update.error : row.error,
        this.iso(),
        id,
      );
    });
  }

  getJob(id: number): Job | null {
    return this.guard(() => {
      const row = this.st(`SELECT * FROM jobs WHERE id = ?`).get(id) as JobRow | undefined;
      return row ? jobFromRow(row) : null;
    });
  }

  /** A user's jobs newest first (every user's when byUser is omitted). */
  listJobs(byUser?: string | null, limit = 50): Job[] {
    checkLimit(limit);
    return this.guard(() => {
      const rows = (
        byUser != null
          ? this.st(`SELECT * FROM jobs WHERE by_user = ? ORDER BY id DESC LIMIT ?`).all(byUser, limit)
          : this.st(`SELECT * FROM jobs ORDER BY id DESC LIMIT ?`).all(limit)
      ) as JobRow[];
      return rows.map(jobFromRow);
    });
  }

  /**
   * What a user's job list on a page shows: every job of theirs still queued or running (newest first, at most
   * `limit`), then their latest finished one (null when none). With `byAccount` given (null included), only the jobs of
   * that account (Job.byAccount); without it, the user name's jobs of every account.
   */
  pageJobs(byUser: string, limit = 50, kind?: string, byAccount?: string | null): { active: Job[]; lastFinished: Job | null } {
    checkLimit(limit);
    // Of one kind when asked (a page that shows bulk audits and bulk fixes apart), else of every kind.
    const kindIs = kind === undefined ? `? IS NULL` : `kind = ?`;
    // `? = 0`: no account asked for, every account's; else `by_account IS ?` (NULL matches NULL).
    const accountIs = `(? = 0 OR by_account IS ?)`;
    const account = [byAccount === undefined ? 0 : 1, byAccount ?? null];
    // One read transaction: a job that finishes meanwhile is listed once, not twice or not at all.
    return this.guard(() =>
      this.db.transaction(() => {
        const active = this.st(`SELECT * FROM jobs WHERE by_user = ? AND ${kindIs} AND ${accountIs} AND status IN ('queued', 'running') ORDER BY id DESC LIMIT ?`).all(
          byUser,
          kind ?? null,
          ...account,
          limit,
        ) as JobRow[];
        const last = this.st(`SELECT * FROM jobs WHERE by_user = ? AND ${kindIs} AND ${accountIs} AND status NOT IN ('queued', 'running') ORDER BY id DESC LIMIT 1`).get(
          byUser,
          kind ?? null,
          ...account,
        ) as JobRow | undefined;
        return { active: active.map(jobFromRow), lastFinished: last ? jobFromRow(last) : null };
      })(),
    );
  }

  /**
   * Appends one domain's entry to a job's log and sets the job's progress, in one transaction: a reload never shows
   * progress without its entries, or entries beyond the progress. Returns the entry's number (0, 1, …).
   */
  recordJobItem(jobId: number, item: { domain: string; status: string; detail: unknown }, progress: { done: number; failed: number }): number {
    checkCount(progress.done, 'done');
    checkCount(progress.failed, 'failed');
    const detail = toJson(item.detail ?? null, 'job item') as string;
    return this.write(() => {
      const at = this.iso();
      const { n } = this.st(`SELECT coalesce(max(seq) + 1, 0) AS n FROM job_items WHERE job_id = ?`).get(jobId) as { n: number };
      this.st(`INSERT INTO job_items (job_id, seq, domain, status, detail, at) VALUES (?, ?, ?, ?, ?, ?)`).run(jobId, n, item.domain, item.status, detail, at);
      const changed = this.st(`UPDATE jobs SET done = ?, failed = ?, updated_at = ? WHERE id = ?`).run(progress.done, progress.failed, at, jobId).changes;
      if (changed !== 1) throw new StoreError('not-found', `job ${jobId} does not exist`);
      return n;
    });
  }

  /** A job's log from entry `since` on (at most `limit`), and where the next read starts. */
  jobItems(jobId: number, since = 0, limit = 500): { items: JobItem[]; next: number } {
    checkLimit(limit);
    const from = Number.isSafeInteger(since) && since > 0 ? since : 0;
    return this.guard(() => {
      const rows = this.st(`SELECT seq, domain, status, detail, at FROM job_items WHERE job_id = ? AND seq >= ? ORDER BY seq LIMIT ?`).all(jobId, from, limit) as {
        seq: number;
        domain: string;
        status: string;
        detail: string;
        at: string;
      }[];
      const items = rows.map((r) => ({ seq: r.seq, domain: r.domain, status: r.status, detail: parseJson(r.detail), at: r.at }));
      return { items, next: items.length ? items[items.length - 1].seq + 1 : from };
    });
  }

  /** Asks a queued or running job to stop. False when the job is unknown or already finished. */
  requestCancel(id: number): boolean {
    return this.write(
      () =>
        this.st(`UPDATE jobs SET cancel_requested = 1, updated_at = ? WHERE id = ? AND status IN ('queued', 'running')`).run(this.iso(), id)
          .changes === 1,
    );
  }

  isCancelRequested(id: number): boolean {
    return this.guard(() => {
      const row = this.st(`SELECT cancel_requested FROM jobs WHERE id = ?`).get(id) as { cancel_requested: number } | undefined;
      return row?.cancel_requested === 1;
    });
  }

  /**
   * At start: jobs left queued or running by a previous process are marked interrupted (and their runs too).
   * Returns how many jobs it marked.
   */
  interruptUnfinishedJobs(): number {
    return this.write(() => {
      const at = this.iso();
      this.st(
        `UPDATE runs SET status = 'interrupted', finished_at = ?
         WHERE status = 'running' AND id IN (SELECT run_id FROM jobs WHERE status IN ('queued', 'running') AND run_id IS NOT NULL)`,
      ).run(at);
      return this.st(`UPDATE jobs SET status = 'interrupted', error = coalesce(error, 'interrupted by a restart'), updated_at = ? WHERE status IN ('queued', 'running')`).run(at)
        .changes;
    });
  }

  // ---- users ----

  setPasswordHash(user: string, hash: string): void {
    this.write(() => {
      this.st(
        `INSERT INTO users (user, password_hash, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (user) DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at`,
      ).run(user, hash, this.iso());
    });
  }

  /** Removes a user's standalone password (the account is gone). */
  deletePasswordHash(user: string): void {
    this.write(() => {
      this.st(`DELETE FROM users WHERE user = ?`).run(user);
    });
  }

  getPasswordHash(user: string): string | null {
    return this.guard(() => {
      const row = this.st(`SELECT password_hash FROM users WHERE user = ?`).get(user) as { password_hash: string } | undefined;
      return row?.password_hash ?? null;
    });
  }

  /**
   * Every user with a standalone password, in name order — bound to an account or not (`mailhealth demo` and versions
   * before the binding store none): what `serve`'s sweep compares with the panel's account list (sweepGoneAccounts).
   */
  passwordUsers(): string[] {
    return this.guard(() => (this.st(`SELECT user FROM users ORDER BY user`).all() as { user: string }[]).map((r) => r.user));
  }

  // ---- settings ----

  getSetting<T = unknown>(key: string): T | undefined {
    return this.guard(() => {
      const row = this.st(`SELECT value FROM settings WHERE key = ?`).get(key) as { value: string } | undefined;
      return row ? (JSON.parse(row.value) as T) : undefined;
    });
  }

  /** Stores a JSON value; `undefined` deletes the key. */
  setSetting(key: string, value: unknown): void {
    this.setSettings({ [key]: value });
  }

  /**
   * Stores several JSON values in one transaction (`undefined` deletes a key): another process reading them (the
   * background service's minute check) sees all of them changed or none — never a new schedule with the old time zone.
   */
  setSettings(values: Record<string, unknown>): void {
    const rows = Object.entries(values).map(([key, value]) => ({ key, json: value === undefined ? null : (toJson(value, `setting ${key}`) as string) }));
    this.write(() => {
      const at = this.iso();
      for (const { key, json } of rows) {
        if (json === null) this.st(`DELETE FROM settings WHERE key = ?`).run(key);
        else {
          this.st(
            `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
          ).run(key, json, at);
        }
      }
    });
  }

  allSettings(): Record<string, unknown> {
    return this.guard(() => {
      const out: Record<string, unknown> = {};
      for (const row of this.st(`SELECT key, value FROM settings ORDER BY key`).all() as { key: string; value: string }[]) {
        out[row.key] = JSON.parse(row.value);
      }
      return out;
    });
  }

  // ---- reports ----

  /** Stores (or replaces) the report document of a run. `json` is any JSON value. */
  saveReport(runId: number, { json, html, text }: { json: unknown; html: string; text: string }): void {
    const jsonText = toJson(json, 'report json') ?? 'null';
    this.write(() => this.insertReport(runId, jsonText, html, text, this.iso()));
  }

  private insertReport(runId: number, json: string, html: string, text: string, at: string): void {
    this.st(
      `INSERT INTO reports (run_id, json, html, text, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (run_id) DO UPDATE SET json = excluded.json, html = excluded.html, text = excluded.text, created_at = excluded.created_at`,
    ).run(runId, json, html, text, at);
  }

  getReport(runId: number): Report | null {
    return this.guard(() => {
      const row = this.st(`SELECT * FROM reports WHERE run_id = ?`).get(runId) as
        | { run_id: number; json: string; html: string; text: string; created_at: string }
        | undefined;
      if (!row) return null;
      return { runId: row.run_id, json: JSON.parse(row.json), html: row.html, text: row.text, createdAt: row.created_at, deliveries: this.deliveries(runId) };
    });
  }

  /**
   * Empties the `stillFailing` list of the reports saved for the THIN_REPORTS_BACK runs before `runId` that have one, and
   * records how many items it held (`stillFailingOmitted`); everything else in those documents, their HTML and their
   * text stay as saved. Returns how many reports it thinned. The nightly report calls it once its run's report is saved
   * (src/cron/report.ts): the list repeats every still-failing problem every night (QA: 2.6 MB a night at 2,000
   * domains, 12.9 MB at 10,000), nothing reads an older report's list back, and the newest report keeps it whole.
   * Only the few reports before `runId` are looked at, so a night's work stays one or two documents (the one before, and
   * any a busy night left), never the whole history in one write transaction: reports saved before this existed keep
   * their lists until the retention removes them. Reports already thinned, or holding no such list, are passed over
   * (the text test spares parsing them again; the JSON functions decide). One transaction, in SQL: no document is
   * decoded in JavaScript.
   */
  thinEarlierReports(runId: number): number {
    return this.write(
      () =>
        this.st(
          `UPDATE reports
           SET json = json_set(json, '$.stillFailing', json('[]'), '$.stillFailingOmitted', json_array_length(json, '$.stillFailing'))
           WHERE run_id IN (SELECT run_id FROM reports WHERE run_id < ? ORDER BY run_id DESC LIMIT ?)
             AND instr(json, '"stillFailing":[]') = 0 AND json_array_length(json, '$.stillFailing') > 0`,
        ).run(runId, THIN_REPORTS_BACK).changes,
    );
  }

  recordDelivery(runId: number, recipient: string, ok: boolean, error?: string | null): void {
    this.write(() => {
      this.st(`INSERT INTO deliveries (run_id, recipient, ok, error, at) VALUES (?, ?, ?, ?, ?)`).run(
        runId,
        recipient,
        ok ? 1 : 0,
        error ?? null,
        this.iso(),
      );
    });
  }

  /** Delivery attempts for a run's report, oldest first. */
  deliveries(runId: number): Delivery[] {
    return this.guard(() =>
      (this.st(`SELECT recipient, ok, error, at FROM deliveries WHERE run_id = ? ORDER BY id`).all(runId) as {
        recipient: string;
        ok: number;
        error: string | null;
        at: string;
      }[]).map((d) => ({ recipient: d.recipient, ok: d.ok === 1, error: d.error, at: d.at })),
    );
  }

  // ---- retention ----

  /**
   * Deletes audit results (with their findings, counted by findings_count) older than `olderThanDays`, except each
   * domain's latest result, which is kept however old, and the results of the newest complete report runs (below); then
   * finished runs older than that which no longer hold any result (their reports and delivery logs go with them);
   * finished jobs older than that; and locks whose lease is over. Change records are never deleted. Runs still
   * 'running' are never deleted. A findings document goes with the last result that names it (see "Documents stored
   * once"), never before.
   *
   * In write transactions of bounded size (PruneTuning), so no one of them holds the database's write lock for long
   * (QA: one transaction of 3.1 s for a prune to 14 days at 2,000 domains — above the 2 s busy timeout, so another
   * process's fix or audit at that moment failed "busy"): results oldest first, `results` of them looked at per
   * transaction; then the runs, jobs and locks to delete, `runs` and `jobs` at most per transaction. After a transaction
   * that reached its bound (more of the same to do) it pauses `pauseMs` before the next: SQLite's busy wait retries every
   * 100 ms at most, so another process waiting for the lock gets it in that gap — back to back, it would seldom see the
   * lock free. This method pauses by blocking the thread (a CLI command); pruneAsync lets the event loop run instead (a
   * process that serves requests meanwhile). Each transaction is whole in itself: a prune stopped between two of them
   * (killed, busy) has deleted only what it should have, and the next one goes on from there. The cut-off, the report
   * runs kept and each domain's latest result are taken once, at the start (as one transaction judged them), every
   * transaction keeps those latest results, and a result written after the start is left to the next prune (it was not
   * there for the judging). The counts returned are the sums over the transactions.
   *
   * A clock far ahead must not take the history with it (QA: one night at a clock a year fast deleted 9 of 10 report
   * runs and their reports — nothing left to compare with — and live locks):
   * - the cut-off is never later than the newest time recorded (a result, a run, a job): a clock ahead of everything
   *   recorded never prunes all of it;
   * - nor is "now" taken from a clock the history contradicts (QA r1: a night at a clock a year fast writes its report
   *   run, then prunes: by the first rule alone that run made everything else "older than 90 days", and a finished job
   *   and every earlier audit went). When the newest time runs and jobs recorded stands far ahead of the others — ahead
   *   of the middle one (lower median) of the PRUNE_EVIDENCE newest by more than PRUNE_SLACK_DAYS and more than twice
   *   their spread below it — it is a clock far ahead, or the first night after a long pause (the two cannot be told
   *   apart): ages are then judged against the newest time that does not stand out, plus PRUNE_SLACK_DAYS. One night at
   *   a wrong clock writes one or two such times (its report run, perhaps a job), not enough to move the middle one;
   *   after a real pause, pruning is back to the clock once three nights are recorded (until then it keeps more, never
   *   less). A history that is merely old (nothing recorded for months, then a prune) stands out nowhere, and is pruned
   *   by the clock as before;
   * - the newest complete report runs are kept whole, with their reports, whatever their dates: as many as the
   *   retention has days, at least 1 (what the next night's report compares with) and at most KEEP_REPORT_RUNS (the
   *   report's chart and streaks). With a report every night, none missed, and a right clock, the retention keeps them
   *   anyway: nothing changes then;
   * - a lock goes only once its lease is over, judged as tryLock judges it (the lease clock, where it was written on
   *   it), never because the wall clock jumped.
   *
   * Then, in a file in incremental auto-vacuum mode (every file created since schema v9; an older one once `vacuum` has
   * run), free pages above `reclaimShare` of the file (and `reclaimMinBytes`) are given back to the file system, `pages`
   * per transaction: a lower retention shrinks the file instead of leaving it at its largest. Below that share they stay
   * for the next nights' results, which would only grow the file again. An older file (auto-vacuum off: set only before
   * its first table, or by a VACUUM) keeps its free pages: see `space` and `vacuum`.
   */
  prune({ olderThanDays, now = this.now() }: { olderThanDays: number; now?: number }): PruneResult {
    const steps = this.pruneSteps(olderThanDays, now, { runs: 0, results: 0, findings: 0, reports: 0, jobs: 0, locks: 0 });
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
      if (!step.value) continue;
      if (this.tuning.prune.pause) void this.tuning.prune.pause();
      else sleepSync(this.tuning.prune.pauseMs);
    }
  }

  /**
   * prune, letting the event loop run between its write transactions (and pausing with a timer, not by blocking the
   * thread, where prune pauses): for a process that answers requests meanwhile (`serve`, `service`). The same result.
   * With `signal`: once it is aborted (the service stopping), no further transaction starts — each one is whole in
   * itself, and the next prune goes on from there — and the counts so far are returned (review: a stop waited for every
   * remaining transaction and pause, ~21 s on a 2,000-domain history lowered to 14 days).
   */
  async pruneAsync({ olderThanDays, now = this.now(), signal }: { olderThanDays: number; now?: number; signal?: AbortSignal }): Promise<PruneResult> {
    const out: PruneResult = { runs: 0, results: 0, findings: 0, reports: 0, jobs: 0, locks: 0 };
    const steps = this.pruneSteps(olderThanDays, now, out);
    for (let first = true; ; first = false) {
      if (!first && signal?.aborted) {
        steps.return(out);
        return out;
      }
      const step = steps.next();
      if (step.done) return step.value;
      if (!step.value) await new Promise((resolve) => setImmediate(resolve));
      else if (this.tuning.prune.pause) await this.tuning.prune.pause();
      else await sleep(this.tuning.prune.pauseMs);
    }
  }

  /**
   * prune's write transactions, one per step; between two of them it yields whether to pause (the one before reached its
   * bound: more of the same to do) or only to let other work run. Returns the counts.
   */
  private *pruneSteps(olderThanDays: number, now: number, out: PruneResult): Generator<boolean, PruneResult, void> {
    if (!Number.isFinite(olderThanDays) || olderThanDays < 0) {
      throw new StoreError('invalid', `olderThanDays must be a non-negative number, got ${olderThanDays}`);
    }
    const t = this.tuning.prune;
    const keepReports = Math.min(KEEP_REPORT_RUNS, Math.max(1, Math.ceil(olderThanDays)));
    // The cut-off and the report runs kept whole, read once (one read transaction).
    const { cutoff, keep, maxId } = this.guard(() =>
      this.db.transaction(() => {
        const newest = this.st(
          `SELECT max(t) AS t FROM (SELECT max(audited_at) AS t FROM results
                                    UNION ALL SELECT max(coalesce(finished_at, started_at)) FROM runs
                                    UNION ALL SELECT max(updated_at) FROM jobs)`,
        ).get() as { t: string | null };
        const newestMs = newest.t === null ? NaN : Date.parse(newest.t);
        const recent = this.st(
          `SELECT t FROM (SELECT coalesce(finished_at, started_at) AS t FROM runs UNION ALL SELECT updated_at FROM jobs)
           WHERE t IS NOT NULL ORDER BY t DESC LIMIT ?`,
        ).all(PRUNE_EVIDENCE) as { t: string }[];
        const trusted = trustedNow(recent.map((r) => Date.parse(r.t)));
        const by = now - olderThanDays * DAY_MS;
        const byHistory = trusted === null ? NaN : trusted + (PRUNE_SLACK_DAYS - olderThanDays) * DAY_MS;
        const kept = this.st(`SELECT id FROM runs WHERE kind = 'report' AND status = 'complete' ORDER BY id DESC LIMIT ?`).pluck().all(keepReports) as number[];
        const cutoff = this.iso(Math.min(by, ...[newestMs, byHistory].filter((x) => !Number.isNaN(x))));
        // Each domain's latest result as judged now, for every domain with a result the prune may delete: kept by every
        // transaction below. Judged again per transaction alone, a transaction that deleted an earlier row could make
        // a result stamped by a fast clock the latest again, and a later one delete the real latest (review: a
        // no-longer-audited domain kept `fail` from the wrong clock instead of its last `pass`), which one transaction
        // never did.
        this.db.exec(`CREATE TEMP TABLE IF NOT EXISTS prune_latest (id INTEGER PRIMARY KEY)`);
        this.st(`DELETE FROM temp.prune_latest`).run();
        this.st(
          `INSERT OR IGNORE INTO temp.prune_latest (id)
           SELECT id FROM (SELECT ${LATEST_ID} AS id FROM (SELECT DISTINCT domain FROM results INDEXED BY results_audited_at WHERE audited_at < ?) AS wanted)
           WHERE id IS NOT NULL`,
        ).run(cutoff);
        const maxId = (this.st(`SELECT coalesce(max(id), 0) FROM results`).pluck().get() as number) ?? 0;
        return { cutoff, keep: JSON.stringify(kept), maxId };
      })(),
    );

    // Results, oldest first, from where the transaction before stopped: (audited_at, id) of the last one it looked at.
    let from: { at: string; id: number } = { at: '', id: 0 };
    try {
      for (let first = true; ; first = false) {
        if (!first) yield true;
        const batch = this.write(() => this.pruneResults(cutoff, keep, maxId, from, t.results));
        out.results += batch.results;
        out.findings += batch.findings;
        if (batch.last === null || batch.scanned < t.results) break;
        from = batch.last;
      }
    } finally {
      // Also when the prune stops here (pruneAsync's signal, an error): the next prune judges afresh.
      this.guard(() => this.st(`DELETE FROM temp.prune_latest`).run());
    }

    // Runs left without results, finished jobs, locks whose lease is over.
    for (let pause = false; ; pause = true) {
      yield pause;
      if (!this.write(() => this.pruneRest(cutoff, keep, now, out))) break;
    }

    // Free pages given back to the file system, where the file allows it a few at a time.
    const space = this.space();
    if (space.autoVacuum === 'incremental' && space.freePages * space.pageSize >= t.reclaimMinBytes && space.freePages > space.pages * t.reclaimShare) {
      for (let first = true, was = space.freePages; ; first = false) {
        yield !first;
        const left = this.write(() => {
          this.db.pragma(`incremental_vacuum(${t.pages})`);
          return this.db.pragma('freelist_count', { simple: true }) as number;
        });
        // Done — or no nearer (another process freeing pages as fast): what is left waits for the next prune.
        if (left === 0 || left >= was) break;
        was = left;
      }
    }
    return out;
  }

  /**
   * One transaction's worth of prune's results (inside a write transaction): up to `limit` results older than `cutoff`
   * after `from`, oldest first; of those, the ones not in a kept report run (`keep`, a JSON array of run ids) and not
   * their domain's latest (temp.prune_latest: LATEST_ID as judged when the prune began; results after `maxId`, written since, are not looked at) are deleted — their documents with them, where they were the last to
   * name one (trigger results_doc_delete).
   */
  private pruneResults(
    cutoff: string,
    keep: string,
    maxId: number,
    from: { at: string; id: number },
    limit: number,
  ): { scanned: number; results: number; findings: number; last: { at: string; id: number } | null } {
    this.db.exec(`CREATE TEMP TABLE IF NOT EXISTS prune_results (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, domain TEXT NOT NULL, audited_at TEXT NOT NULL)`);
    this.st(`DELETE FROM temp.prune_results`).run();
    const scanned = this.st(
      `INSERT INTO temp.prune_results (id, run_id, domain, audited_at)
       SELECT id, run_id, domain, audited_at FROM results INDEXED BY results_audited_at
       WHERE (audited_at, id) > (?, ?) AND audited_at < ? AND id <= ?
       ORDER BY audited_at, id LIMIT ?`,
    ).run(from.at, from.id, cutoff, maxId, limit).changes;
    const last = this.st(`SELECT audited_at AS at, id FROM temp.prune_results ORDER BY audited_at DESC, id DESC LIMIT 1`).get() as { at: string; id: number } | undefined;
    this.st(
      `DELETE FROM temp.prune_results
       WHERE run_id IN (SELECT value FROM json_each(?))
          OR id IN (SELECT id FROM temp.prune_latest)`,
    ).run(keep);
    const findings = (this.st(`SELECT coalesce(sum(findings_count), 0) AS n FROM results WHERE id IN (SELECT id FROM temp.prune_results)`).get() as { n: number }).n;
    const results = this.st(`DELETE FROM results WHERE id IN (SELECT id FROM temp.prune_results)`).run().changes;
    this.st(`DELETE FROM temp.prune_results`).run();
    return { scanned, results, findings, last: last ?? null };
  }

  /**
   * The rest of a prune (inside a write transaction), adding to `out`: up to `runs` finished runs older than `cutoff`
   * that hold no result and are not kept (with their reports and delivery logs: foreign keys), up to `jobs` finished
   * jobs older than that (with their items), and every lock whose lease is over. True when runs or jobs reached their
   * bound (there may be more).
   */
  private pruneRest(cutoff: string, keep: string, now: number, out: PruneResult): boolean {
    const t = this.tuning.prune;
    const runIds = this.st(
      `SELECT id FROM runs WHERE status != 'running' AND coalesce(finished_at, started_at) < ?
         AND id NOT IN (SELECT value FROM json_each(?))
         AND NOT EXISTS (SELECT 1 FROM results WHERE results.run_id = runs.id)
       ORDER BY id LIMIT ?`,
    )
      .pluck()
      .all(cutoff, keep, t.runs) as number[];
    if (runIds.length) {
      const ids = JSON.stringify(runIds);
      // A complete report run deleted whole leaves no trace of its night: recorded (the newest such, in the same
      // transaction), so the report calls a streak reaching the oldest run kept a lower bound ("at least N nights").
      const report = this.st(`SELECT max(id) FROM runs WHERE id IN (SELECT value FROM json_each(?)) AND kind = 'report' AND status = 'complete'`).pluck().get(ids) as number | null;
      if (report !== null && report > (this.newestPrunedReportRun() ?? 0)) {
        this.st(
          `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        ).run(PRUNED_REPORT_RUN, JSON.stringify(report), this.iso());
      }
      out.reports += (this.st(`SELECT count(*) AS n FROM reports WHERE run_id IN (SELECT value FROM json_each(?))`).get(ids) as { n: number }).n;
      out.runs += this.st(`DELETE FROM runs WHERE id IN (SELECT value FROM json_each(?))`).run(ids).changes;
    }
    const jobIds = this.st(`SELECT id FROM jobs WHERE status NOT IN ('queued', 'running') AND updated_at < ? ORDER BY id LIMIT ?`).pluck().all(cutoff, t.jobs) as number[];
    if (jobIds.length) out.jobs += this.st(`DELETE FROM jobs WHERE id IN (SELECT value FROM json_each(?))`).run(JSON.stringify(jobIds)).changes;

    const clock = this.leaseNow();
    for (const row of this.st(`SELECT * FROM locks`).all() as LockRow[]) {
      if (leaseLeft(row, now, clock) > 0) continue;
      out.locks += this.st(`DELETE FROM locks WHERE name = ? AND owner = ?`).run(row.name, row.owner).changes;
    }
    return runIds.length >= t.runs || jobIds.length >= t.jobs;
  }

  // ---- space ----

  /** How big the file is and how much of it is free (pages; SQLite's view, the write-ahead log not counted). */
  space(): SpaceInfo {
    return this.guard(() => spaceOf(this.db));
  }

  /**
   * Gives every free page of the file back to the file system (`mailhealth prune --vacuum`): SQLite's VACUUM, which
   * rewrites the database into a temporary file (in SQLite's temporary directory: SQLITE_TMPDIR, TMPDIR, /var/tmp or
   * /tmp) and copies it back through the write-ahead log — so it needs about the size of what is in use free in each
   * (twice that when they are on one file system), and it holds the write lock the whole time: every other mailhealth
   * process's write waits, and fails "busy" after its busy timeout. Only on request, then: the space is checked first
   * (StoreError 'io', the file left as it was, saying where and how much is missing), and the file is switched to incremental
   * auto-vacuum in the same pass, so that from then on prune gives back what it frees by itself. The write-ahead log is
   * truncated afterwards (when no other process is reading). Returns the sizes before and after.
   */
  vacuum(): { before: SpaceInfo; after: SpaceInfo } {
    const before = this.space();
    const need = vacuumNeed(this.path, before, this.tuning.freeSpace);
    if (need.short.length) {
      throw new StoreError(
        'io',
        `mailhealth cannot compact the history database ${this.path} (${formatBytes(before.pages * before.pageSize)}, ${formatBytes(before.freePages * before.pageSize)} of it free): ` +
          `${need.short.join('; ')}; the file was left as it was — free some space there${need.tempDir !== null ? ' (or give SQLITE_TMPDIR a directory on a file system with room for the temporary copy)' : ''}, then run it again`,
      );
    }
    this.guard(() => {
      this.db.pragma('auto_vacuum = INCREMENTAL');
      this.db.exec('VACUUM');
    });
    try {
      this.guardUnchecked(() => this.db.pragma('wal_checkpoint(TRUNCATE)'));
    } catch {
      // Another process reading or writing: the log is emptied at a later checkpoint, and removed at the last close.
    }
    return { before, after: this.space() };
  }
}

/** Bounds of prune's write transactions and its pauses between them (see Store.prune). */
export interface PruneTuning {
  /** Results looked at (so deleted, at most) in one write transaction. */
  results: number;
  /** Finished runs (with their reports and delivery logs) deleted in one write transaction. */
  runs: number;
  /** Finished jobs (with their items) deleted in one write transaction. */
  jobs: number;
  /** Free pages given back to the file system in one write transaction (a file in incremental auto-vacuum mode). */
  pages: number;
  /** The pause after a write transaction that reached its bound, before the next one (ms). */
  pauseMs: number;
  /** Free pages are given back once they are more than this share of the file … */
  reclaimShare: number;
  /** … and at least this many bytes. */
  reclaimMinBytes: number;
  /** For tests: called instead of pausing (pruneAsync awaits it). */
  pause?: () => void | Promise<void>;
}

/**
 * Measured on QA's 2,000-domain history (100 nights, 1.75 GB, documents inline: ~6.5 KB a result, 16 KiB pages), a prune
 * to 14 days (174,380 results, 467 runs): 111 transactions of at most 2,000 results, median 108 ms, longest 441 ms —
 * well under the 2 s busy timeout on a disk several times slower — against one of 3.3 s before; 9.8 s of work in all
 * against 3.3 s (each commit checkpoints its pages), plus the pauses. The same history written with shared documents:
 * median 80 ms, longest 274 ms, and the file went 116 → 37 MB (the free pages given back, 4,096 pages — 64 MB at
 * 16 KiB — a transaction). Runs carry their report and delivery logs, jobs their items (one a domain for a bulk fix):
 * fewer of them a transaction.
 */
export const PRUNE_TUNING: Readonly<PruneTuning> = { results: 2000, runs: 20, jobs: 10, pages: 4096, pauseMs: 100, reclaimShare: 0.25, reclaimMinBytes: 1024 * 1024 };

/** Blocks this thread for `ms` (prune's pause in a synchronous caller). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
