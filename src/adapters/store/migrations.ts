// Versioned schema migrations for the history store.
//
// MIGRATIONS[i] takes the database from `PRAGMA user_version = i` to `i + 1`. An upgrade runs every step it needs in
// ONE BEGIN IMMEDIATE transaction together with the user_version bump, so a failing step (a full disk, an I/O error,
// kill -9) leaves the database exactly where it was — at the schema the previous version of mailhealth can open, never
// at one in between that neither version can. Never edit a step's SQL once it has shipped: append a new one.
// Before an upgrade of an existing file, openStore (store.ts) checks the space and copies the file beside it.
import type Database from 'better-sqlite3';

export interface Migration {
  /** What the step does, for logs and test messages. */
  description: string;
  sql: string;
  /**
   * Free space this step may need while it runs, as a multiple of the database's size: the pages it adds to the file
   * plus the write-ahead log, which holds every page the upgrade's transaction writes until it ends (the log keeps
   * that size until the last connection closes). Default 1 — the database's size: generous for a step that adds a
   * column (it writes a page or two) or an index (a fraction of its table), and what the space check and the message
   * of a failed upgrade say (see upgradeSpace).
   */
  space?: number;
}

/** Default Migration.space: the database's size. */
export const DEFAULT_STEP_SPACE = 1;

/** Marks a database as ours (PRAGMA application_id); 0x4d484c54 = "MHLT". */
export const APPLICATION_ID = 0x4d484c54;

export const MIGRATIONS: readonly Migration[] = [
  {
    description: 'initial schema: runs, results, findings, changes, locks, jobs, users, settings, reports',
    sql: `
      PRAGMA application_id = ${APPLICATION_ID};

      CREATE TABLE runs (
        id          INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('audit', 'bulk', 'report')),
        started_at  TEXT NOT NULL,
        finished_at TEXT,
        status      TEXT NOT NULL DEFAULT 'running'
                    CHECK (status IN ('running', 'complete', 'interrupted', 'cancelled')),
        by_user     TEXT NOT NULL,
        total       INTEGER,
        done        INTEGER NOT NULL DEFAULT 0,
        failed      INTEGER NOT NULL DEFAULT 0,
        meta        TEXT CHECK (meta IS NULL OR json_valid(meta))
      );
      CREATE INDEX runs_kind ON runs (kind, id);

      -- One row per domain audited in a run. Results are never cascaded away with their run:
      -- prune() deletes a run only once it holds no results.
      CREATE TABLE results (
        id             INTEGER PRIMARY KEY,
        run_id         INTEGER NOT NULL REFERENCES runs (id),
        domain         TEXT NOT NULL,
        owner          TEXT,
        status         TEXT NOT NULL CHECK (status IN ('fail', 'warn', 'pass', 'unknown')),
        audited_at     TEXT NOT NULL,
        findings_count INTEGER NOT NULL
      );
      -- "Latest result per domain": ORDER BY audited_at DESC, id DESC LIMIT 1 is a single index seek.
      CREATE INDEX results_domain_latest ON results (domain, audited_at, id);
      CREATE INDEX results_run ON results (run_id);
      CREATE INDEX results_audited_at ON results (audited_at);

      CREATE TABLE findings (
        id             INTEGER PRIMARY KEY,
        result_id      INTEGER NOT NULL REFERENCES results (id) ON DELETE CASCADE,
        rule           TEXT NOT NULL,
        "check"        TEXT NOT NULL,
        severity       TEXT NOT NULL CHECK (severity IN ('fail', 'warn', 'info', 'unknown', 'pass')),
        subject        TEXT,
        message        TEXT NOT NULL,
        classification TEXT CHECK (classification IS NULL OR json_valid(classification)),
        evidence       TEXT NOT NULL CHECK (json_valid(evidence)),
        fix            TEXT
      );
      CREATE INDEX findings_result ON findings (result_id);

      -- Fix plans. Never pruned: this is the audit trail behind history and undo.
      CREATE TABLE changes (
        id                  INTEGER PRIMARY KEY,
        domain              TEXT NOT NULL,
        "check"             TEXT NOT NULL,
        plan_hash           TEXT NOT NULL,
        zone_version_before TEXT,
        zone_version_after  TEXT,
        changes             TEXT NOT NULL CHECK (json_valid(changes)),
        by_user             TEXT NOT NULL,
        created_at          TEXT NOT NULL,
        updated_at          TEXT NOT NULL,
        status              TEXT NOT NULL DEFAULT 'intent'
                            CHECK (status IN ('intent', 'applied', 'failed', 'restored', 'reverted')),
        verified            TEXT CHECK (verified IS NULL OR verified IN ('yes', 'propagating', 'no')),
        error               TEXT,
        undo_of             INTEGER REFERENCES changes (id),
        undone_by           INTEGER REFERENCES changes (id)
      );
      CREATE INDEX changes_domain ON changes (domain, id);
      CREATE INDEX changes_pending ON changes (status) WHERE status = 'intent';

      -- Advisory locks shared by every process on this file. expires_at is epoch milliseconds.
      CREATE TABLE locks (
        name        TEXT PRIMARY KEY,
        owner       TEXT NOT NULL,
        acquired_at INTEGER NOT NULL,
        expires_at  INTEGER NOT NULL
      );

      CREATE TABLE jobs (
        id               INTEGER PRIMARY KEY,
        kind             TEXT NOT NULL,
        by_user          TEXT NOT NULL,
        scope            TEXT CHECK (scope IS NULL OR json_valid(scope)),
        total            INTEGER NOT NULL DEFAULT 0,
        done             INTEGER NOT NULL DEFAULT 0,
        failed           INTEGER NOT NULL DEFAULT 0,
        status           TEXT NOT NULL DEFAULT 'queued'
                         CHECK (status IN ('queued', 'running', 'complete', 'failed', 'interrupted', 'cancelled')),
        cancel_requested INTEGER NOT NULL DEFAULT 0,
        run_id           INTEGER REFERENCES runs (id) ON DELETE SET NULL,
        error            TEXT,
        created_at       TEXT NOT NULL,
        updated_at       TEXT NOT NULL
      );
      CREATE INDEX jobs_user ON jobs (by_user, id);

      CREATE TABLE users (
        user          TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        updated_at    TEXT NOT NULL
      );

      CREATE TABLE settings (
        key        TEXT PRIMARY KEY,
        value      TEXT NOT NULL CHECK (json_valid(value)),
        updated_at TEXT NOT NULL
      );

      CREATE TABLE reports (
        run_id     INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
        json       TEXT NOT NULL CHECK (json_valid(json)),
        html       TEXT NOT NULL,
        text       TEXT NOT NULL,
        created_at TEXT NOT NULL
      );

      CREATE TABLE deliveries (
        id        INTEGER PRIMARY KEY,
        run_id    INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        recipient TEXT NOT NULL,
        ok        INTEGER NOT NULL,
        error     TEXT,
        at        TEXT NOT NULL
      );
      CREATE INDEX deliveries_run ON deliveries (run_id, id);
    `,
  },
  {
    description: 'findings as one JSON document per result (results.findings) with a per-check worst-severity summary (results.checks); the findings table goes',
    // Rewrites every result row and drops the findings table, whose pages stay in the file as free pages. Measured: a
    // schema-1 file of 30,000 results (upgrade QA) went 184 MB → 407 MB (178 MB of it free pages) with a write-ahead log
    // of 227 MB at its peak, 2.45 times its size in all; 21 MB → 45 MB with a 25 MB log (2.34 times) for 3,000 results.
    space: 2.5,
    // Each old finding row becomes one object of the document, in id order, with the keys in the order the row
    // reader built them (rule, check, severity, message, evidence, then subject, classification, fix when not
    // NULL). evidence/classification were JSON.stringify output under json_valid: embedded as they are, so they
    // parse back to the same values; text columns go through json_quote, whose bytes read back as the column did.
    // checks: the worst severity per check (fail < warn < unknown < info < anything else = pass), keys in check
    // order — what latestSummaries computed with GROUP BY. Results without findings keep the defaults.
    sql: `
      ALTER TABLE results ADD COLUMN checks TEXT NOT NULL DEFAULT '{}';
      ALTER TABLE results ADD COLUMN findings TEXT NOT NULL DEFAULT '[]';

      UPDATE results SET
        findings = (
          SELECT '[' || group_concat(
                   '{"rule":' || json_quote(f.rule) ||
                   ',"check":' || json_quote(f."check") ||
                   ',"severity":' || json_quote(f.severity) ||
                   ',"message":' || json_quote(f.message) ||
                   ',"evidence":' || f.evidence ||
                   CASE WHEN f.subject IS NULL THEN '' ELSE ',"subject":' || json_quote(f.subject) END ||
                   CASE WHEN f.classification IS NULL THEN '' ELSE ',"classification":' || f.classification END ||
                   CASE WHEN f.fix IS NULL THEN '' ELSE ',"fix":' || json_quote(f.fix) END ||
                   '}', ',' ORDER BY f.id) || ']'
          FROM findings f WHERE f.result_id = results.id),
        checks = (
          SELECT '{' || group_concat(json_quote(c."check") || ':' ||
                   CASE c.worst WHEN 0 THEN '"fail"' WHEN 1 THEN '"warn"' WHEN 2 THEN '"unknown"' WHEN 3 THEN '"info"' ELSE '"pass"' END,
                   ',' ORDER BY c."check") || '}'
          FROM (SELECT f."check" AS "check",
                       min(CASE f.severity WHEN 'fail' THEN 0 WHEN 'warn' THEN 1 WHEN 'unknown' THEN 2 WHEN 'info' THEN 3 ELSE 4 END) AS worst
                FROM findings f WHERE f.result_id = results.id GROUP BY f."check") AS c)
      WHERE id IN (SELECT result_id FROM findings);

      DROP TABLE findings;
    `,
  },
  {
    description: 'findings documents write each evidence object once ({"evidence": [...], "findings": [...]}, see store.ts "Audit storage")',
    // No table changes: v2 documents (plain arrays) stay and still read. The version is what tells an older
    // mailhealth — whose reader knows only arrays — that it cannot read this file (too-new), instead of failing on
    // every page that shows findings.
    sql: `SELECT 1;`,
  },
  {
    description: 'jobs.gone: domains a bulk job skipped because the panel no longer has them (removed while it ran)',
    // Additive: an older row reads as 0 (nothing skipped, which is what older code did not do).
    sql: `ALTER TABLE jobs ADD COLUMN gone INTEGER NOT NULL DEFAULT 0;`,
  },
  {
    description: 'job_items: what a background job did per domain, in the order it happened (a bulk fix apply: each outcome)',
    // Additive: jobs of older versions have no items (bulk audits keep their results in runs/results). An item goes
    // with its job (prune deletes finished jobs; the changes a fix wrote stay in changes, never pruned).
    sql: `
      CREATE TABLE job_items (
        job_id  INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        seq     INTEGER NOT NULL,
        domain  TEXT NOT NULL,
        status  TEXT NOT NULL,
        detail  TEXT NOT NULL CHECK (json_valid(detail)),
        at      TEXT NOT NULL,
        PRIMARY KEY (job_id, seq)
      ) WITHOUT ROWID;
    `,
  },
  {
    description: "jobs.by_account: the panel account a job belongs to (a user name may later be another account's); jobs.request_key: the form an apply came from",
    // Additive. by_account: the account (web/session.ts accountKey) the user's web login was bound to when the job
    // started, so a job is shown only to that account — never to a new account given a removed one's name; NULL for a
    // job started without a binding (a panel's front door, the admin token). Jobs older than this step get NULL too:
    // which account started them cannot be known now (the binding stored today may already be a new account's), so a
    // web login — always bound — no longer lists or opens them (they are finished: the restart that brought this step
    // marks unfinished ones interrupted; their changes stay in History, their audits in the runs), while the front
    // doors, which have no binding, see them as before. request_key: the key the bulk fix preview form carried, so the
    // same form sent again (a reload, a second click) is answered with its first job instead of a second apply.
    sql: `
      ALTER TABLE jobs ADD COLUMN by_account TEXT;
      ALTER TABLE jobs ADD COLUMN request_key TEXT;
      CREATE INDEX jobs_request_key ON jobs (by_user, request_key) WHERE request_key IS NOT NULL;
    `,
  },
  {
    description: 'changes.job_id: the bulk fix job whose apply recorded the change',
    // Additive. A bulk fix job that ends short (a crash, a history database busy when an outcome was due) shows, for a
    // domain it holds no outcome of, the change its own apply recorded there — found by this id, exactly. Older versions
    // took the change of the job's check by its user within the job's start and end, which named another fix of that
    // user on the domain in that window as the job's. NULL: a single fix, an undo, a bulk fix answered within its
    // request (recorded as a job only once done, with every outcome) — and every change older than this step: a job of
    // an older version that ended short shows no outcome for the domains it did not record (its row sends to History),
    // rather than a guess. ON DELETE SET NULL: prune deletes finished jobs (never a change), and a later job given the
    // id of a deleted one (INTEGER PRIMARY KEY reuses the largest id) must not find that one's changes.
    sql: `
      ALTER TABLE changes ADD COLUMN job_id INTEGER REFERENCES jobs (id) ON DELETE SET NULL;
      CREATE INDEX changes_job ON changes (job_id, id) WHERE job_id IS NOT NULL;
    `,
  },
  {
    description: 'time judged without trusting the wall clock: locks on the boot clock (locks.ttl_ms, clock, clock_expires_at); jobs.changes_after; results by domain and id',
    // Additive; every judgement that read the wall clock as if it never jumped (QA: an NTP step, a VM resumed, an admin
    // correcting a fast clock) — see store.ts "Locks" and "Audit order".
    // locks: the lease's length, and its end on the boot clock (Linux CLOCK_MONOTONIC, the same for every process of one
    // boot, never stepped) with the name of that clock (boot id, time namespace). Rows of older versions keep NULLs and
    // are judged on the wall clock as before.
    // jobs.changes_after: the largest change id when the job was created — its changes (changes.job_id) have larger ids,
    // and a later job given a deleted job's id (INTEGER PRIMARY KEY reuses the largest id; an sqlite3 shell deletes with
    // foreign keys off, so ON DELETE SET NULL does not run) never claims that one's. It replaces comparing created_at,
    // which lost a job's changes written after the clock was set back. Existing jobs get what that comparison gave: from
    // their first change written at or after their start (none yet: from the newest change now).
    // results_domain_id: a domain's results in the order written (lists, and the check that an audit's time was not
    // written by a clock that has since gone back), one index seek.
    sql: `
      ALTER TABLE locks ADD COLUMN ttl_ms INTEGER;
      ALTER TABLE locks ADD COLUMN clock TEXT;
      ALTER TABLE locks ADD COLUMN clock_expires_at INTEGER;

      ALTER TABLE jobs ADD COLUMN changes_after INTEGER;
      UPDATE jobs SET changes_after = coalesce(
        (SELECT min(c.id) - 1 FROM changes c WHERE c.job_id = jobs.id AND c.created_at >= jobs.created_at),
        (SELECT coalesce(max(c.id), 0) FROM changes c));

      CREATE INDEX results_domain_id ON results (domain, id);
    `,
  },
  {
    description: 'findings documents stored once (documents, document_texts; results.doc_id): a result whose document is one already stored refers to it',
    // Additive and cheap on any size of file: two new tables, one column added to results (a schema change only, no row
    // is read or rewritten), triggers. Rows written before keep their document inline in results.findings and read as
    // before (doc_id NULL); rows written from now on leave results.findings at its default and name their document by
    // doc_id (see store.ts "Documents stored once"). No index on results.doc_id — building one reads every row of results
    // (QA: 1.7 GB at 2,000 domains) while the upgrade holds the write lock — so nothing ever looks a document's results
    // up: documents.refs counts them. The store's one INSERT into results (insertPrepared) counts its own reference — an
    // AFTER INSERT trigger doing it cost ~17 µs a result (10,000 results: 26 against 9 µs each, bench audits); every
    // delete and doc_id update, whoever makes it (prune, an sqlite3 shell), is counted by the triggers below, and a
    // document goes with its last result — its text with it. No foreign key either: one on doc_id would make every delete
    // of a document search results for children, row by row, without such an index.
    // Measured on QA's 2,000-domain history (1.75 GB at schema 8): 2 ms, 5 pages written. So its own need is a sliver of
    // the file (the copy made before any upgrade is counted apart, see upgradeSchema), not the default of its size.
    space: 0.01,
    sql: `
      CREATE TABLE documents (
        id   INTEGER PRIMARY KEY,
        hash TEXT NOT NULL,
        refs INTEGER NOT NULL DEFAULT 0
      );
      CREATE UNIQUE INDEX documents_hash ON documents (hash);

      -- The text apart from documents: a reference counted is one small row rewritten, not a 6 KB document.
      CREATE TABLE document_texts (
        id   INTEGER PRIMARY KEY,
        text TEXT NOT NULL
      );

      ALTER TABLE results ADD COLUMN doc_id INTEGER;

      CREATE TRIGGER results_doc_delete AFTER DELETE ON results WHEN old.doc_id IS NOT NULL BEGIN
        UPDATE documents SET refs = refs - 1 WHERE id = old.doc_id;
        DELETE FROM documents WHERE id = old.doc_id AND refs <= 0;
      END;
      CREATE TRIGGER results_doc_update AFTER UPDATE OF doc_id ON results WHEN old.doc_id IS NOT new.doc_id BEGIN
        UPDATE documents SET refs = refs + 1 WHERE id = new.doc_id;
        UPDATE documents SET refs = refs - 1 WHERE id = old.doc_id;
        DELETE FROM documents WHERE id = old.doc_id AND refs <= 0;
      END;
      CREATE TRIGGER documents_delete AFTER DELETE ON documents BEGIN
        DELETE FROM document_texts WHERE id = old.id;
      END;
    `,
  },
];

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings `db` up to `migrations.length` in one BEGIN IMMEDIATE transaction: every step it needs or none (a failing step
 * rolls back the ones before it too). Returns the versions applied (empty when already current).
 * Safe against a second process migrating at the same time: the version is re-read inside the IMMEDIATE transaction,
 * so steps another process already applied are skipped. `beforeSteps(from)` runs inside that transaction, once the
 * write lock is held and only when there are steps to run.
 * Throws SchemaTooNewError when the file is newer than this code knows.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS, beforeSteps?: (from: number) => void): number[] {
  const tooNew = (v: number) => {
    if (v > migrations.length) throw new SchemaTooNewError(v, migrations.length);
  };
  const seen = schemaVersion(db);
  tooNew(seen);
  // Current: no transaction at all (every open gets here; BEGIN IMMEDIATE would wait for the write lock each time).
  if (seen === migrations.length) return [];
  const run = db.transaction(() => {
    const current = schemaVersion(db);
    tooNew(current);
    const applied: number[] = [];
    // Holding the write lock, with steps to run (none when another process upgraded it meanwhile): what the caller does
    // only then (the upgrade's copy is published, store.ts); a throw rolls back and is the error.
    if (current < migrations.length) beforeSteps?.(current);
    for (let target = current + 1; target <= migrations.length; target++) {
      db.exec(migrations[target - 1].sql);
      db.pragma(`user_version = ${target}`);
      applied.push(target);
    }
    return applied;
  });
  return run.immediate();
}

/**
 * The free space an upgrade of a database of `bytes` from schema `from` to `migrations.length` needs while it runs
 * (estimate): `bytes` times upgradeSpaceFactor. Measured against the real thing only for the step that rewrites (see
 * its `space`); the others are bounded generously by the database's size.
 */
export function upgradeSpace(bytes: number, from: number, migrations: readonly Migration[] = MIGRATIONS): number {
  return Math.ceil(bytes * upgradeSpaceFactor(from, migrations));
}

/**
 * The largest Migration.space of the steps an upgrade from schema `from` runs (0: none to run). The largest, not the
 * sum: the step that rewrites tables needs far more than the others together (a column, an index, a few rows), and
 * the default for those is already the database's size.
 */
export function upgradeSpaceFactor(from: number, migrations: readonly Migration[] = MIGRATIONS): number {
  return Math.max(0, ...migrations.slice(from).map((m) => m.space ?? DEFAULT_STEP_SPACE));
}

export class SchemaTooNewError extends Error {
  constructor(
    public readonly found: number,
    public readonly known: number,
  ) {
    super(`database schema version ${found} is newer than this mailhealth knows (${known}); upgrade mailhealth`);
    this.name = 'SchemaTooNewError';
  }
}
