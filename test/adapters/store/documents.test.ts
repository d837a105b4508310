// QA scale S3: every result stored its whole findings document (~6.5 KB a domain), night after night, even when it was
// the very one the domain's previous result held — 0.94 MB a domain at the default 90 days (1.75 GB at 2,000 domains).
// Since schema v9 a document is stored once (documents, document_texts) and results name it (results.doc_id); rows
// written before keep their document inline and read as before. These tests: the growth per repeated result, every
// reader the same whichever way a row holds its document, the upgrade from every older schema (cheap: no row rewritten),
// and prune never deleting a document still named nor leaving one named by nobody.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { DomainAudit, Finding } from '../../../src/core/model.js';
import { MIGRATIONS, upgradeSpaceFactor } from '../../../src/adapters/store/migrations.js';
import { documentHash, openStore, prepareAudit, type Store, type StoreOptions } from '../../../src/adapters/store/store.js';
import { readAll, SCENARIO_END, T0 as SCENARIO_T0, fakeClock as scenarioClock, writeScenario } from './v1-scenario.js';

const root = mkdtempSync(join(tmpdir(), 'mailhealth-documents-'));
after(() => rmSync(root, { recursive: true, force: true }));
const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
let n = 0;
const freshPath = () => {
  const dir = join(root, `case-${++n}`);
  mkdirSync(dir, { recursive: true });
  return join(dir, 'mailhealth.sqlite');
};
const quiet: StoreOptions = { warn: () => {} };
const DAY = 86_400_000;
const T0 = Date.parse('2025-03-01T03:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** Findings like a real audit's (~6 KB of JSON, records as evidence shared by several findings); `variant` changes one message. */
function realistic(domain: string, variant = 0): Finding[] {
  const records = { panel: Array.from({ length: 12 }, (_, i) => `${domain}. 3600 IN TXT "v=spf1 include:relay${i}.example ip4:192.0.2.${i} ~all"`), live: Array.from({ length: 12 }, (_, i) => `"v=spf1 include:relay${i}.example ip4:192.0.2.${i} ~all" ; from ns${i}.${domain}`) };
  const mx = { live: Array.from({ length: 6 }, (_, i) => `${10 * i} mx${i}.${domain}.`), addresses: Array.from({ length: 6 }, (_, i) => `198.51.100.${i}`) };
  const out: Finding[] = [];
  for (let i = 0; i < 18; i++) {
    out.push({
      rule: `rule.${i}`,
      check: i % 2 ? 'spf' : 'mx',
      severity: i === 0 ? 'fail' : i % 3 ? 'pass' : 'warn',
      message: `${domain}: finding ${i}${i === 0 ? ` (variant ${variant})` : ''} — the record says what it says, and this message is about as long as a real one`,
      evidence: i % 2 ? records : mx,
      ...(i % 4 === 0 ? { subject: `include:relay${i}.example` } : {}),
    });
  }
  return out;
}

function audit(domain: string, at: number, findings: Finding[]): DomainAudit {
  return { domain, status: findings.some((f) => f.severity === 'fail') ? 'fail' : 'pass', auditedAt: iso(at), findings };
}

/** Bytes of the file's pages in use (what it holds, free pages left out), read by another connection. */
function usedBytes(path: string): number {
  const raw = new Database(path, { readonly: true });
  try {
    const pages = raw.pragma('page_count', { simple: true }) as number;
    const free = raw.pragma('freelist_count', { simple: true }) as number;
    return (pages - free) * (raw.pragma('page_size', { simple: true }) as number);
  } finally {
    raw.close();
  }
}

/**
 * The invariants of the stored documents: each document's refs is the number of results naming it (none at 0), each has
 * its text and each text its document, and every result names a document that is there (or none: its own, inline).
 */
function assertDocumentsWhole(path: string): { documents: number; named: number } {
  const raw = new Database(path, { readonly: true });
  try {
    const wrongRefs = raw
      .prepare(`SELECT d.id, d.refs, (SELECT count(*) FROM results r WHERE r.doc_id = d.id) AS named FROM documents d WHERE d.refs != named OR d.refs <= 0`)
      .all();
    assert.deepEqual(wrongRefs, [], 'refs counts the results naming a document; none is kept for nobody');
    assert.deepEqual(raw.prepare(`SELECT id FROM documents EXCEPT SELECT id FROM document_texts`).all(), [], 'every document has its text');
    assert.deepEqual(raw.prepare(`SELECT id FROM document_texts EXCEPT SELECT id FROM documents`).all(), [], 'no text without its document');
    assert.deepEqual(raw.prepare(`SELECT id FROM results WHERE doc_id IS NOT NULL AND doc_id NOT IN (SELECT id FROM documents)`).all(), [], 'no result names a document that is gone');
    return {
      documents: (raw.prepare(`SELECT count(*) AS n FROM documents`).get() as { n: number }).n,
      named: (raw.prepare(`SELECT count(*) AS n FROM results WHERE doc_id IS NOT NULL`).get() as { n: number }).n,
    };
  } finally {
    raw.close();
  }
}

describe('findings documents stored once (QA scale S3)', () => {
  test('a domain audited night after night with the same findings stores its document once: the file grows by a small row a night, not by the document', () => {
    const path = freshPath();
    const clock = { t: T0 };
    const s = openStore(path, { ...quiet, now: () => clock.t });
    const domains = Array.from({ length: 20 }, (_, i) => `d${i}.example`);
    const docBytes = prepareAudit(audit(domains[0], T0, realistic(domains[0]))).findings.length;
    assert.ok(docBytes > 5000, `a realistic document (${docBytes} bytes)`);
    const night = (k: number) => {
      clock.t = T0 + k * DAY;
      const run = s.startRun('report', 'root', domains.length);
      s.recordAudits(run, domains.map((d) => ({ audit: audit(d, clock.t, realistic(d)), owner: 'cust' })));
      s.finishRun(run, 'complete');
    };
    night(0);
    const first = usedBytes(path);
    const NIGHTS = 60;
    for (let k = 1; k <= NIGHTS; k++) night(k);
    const perResult = (usedBytes(path) - first) / (NIGHTS * domains.length);
    // Before: ~6 KB a result (the document again). Now: the result's row and its index entries.
    assert.ok(perResult < 600, `${perResult.toFixed(0)} bytes a repeated result (the document is ${docBytes})`);

    // Read back whole, every night, as written.
    const want = JSON.stringify(realistic('d7.example'));
    const history = s.auditsForDomain('d7.example', 100);
    assert.equal(history.length, NIGHTS + 1);
    for (const r of history) assert.equal(JSON.stringify(r.findings), want);
    assert.equal(history[0].findings[1].evidence, history[0].findings[3].evidence, 'findings that shared evidence share it again');
    s.close();
    assert.deepEqual(assertDocumentsWhole(path), { documents: domains.length, named: (NIGHTS + 1) * domains.length });
  });

  test('one document for the same bytes, whichever domain or night: changed findings get their own, a return to earlier ones finds it again', () => {
    const path = freshPath();
    const s = openStore(path, quiet);
    const run = s.startRun('bulk', 'root');
    const empty = (d: string, k: number) => audit(d, T0 + k, []);
    // x: A, B, A; y, z: nothing found (the same document as each other's); w: A's findings under its own name differ.
    const ids = [
      s.recordAudit(run, audit('x.example', T0, realistic('x.example', 0))),
      s.recordAudit(run, audit('x.example', T0 + 1, realistic('x.example', 1))),
      s.recordAudit(run, audit('x.example', T0 + 2, realistic('x.example', 0))),
      s.recordAudit(run, empty('y.example', 3)),
      s.recordAudit(run, empty('z.example', 4)),
      s.recordAudit(run, audit('w.example', T0 + 5, realistic('w.example', 0))),
    ];
    const raw = new Database(path, { readonly: true });
    const docOf = (id: number) => (raw.prepare(`SELECT doc_id FROM results WHERE id = ?`).get(id) as { doc_id: number }).doc_id;
    assert.equal(docOf(ids[0]), docOf(ids[2]), 'A again: the same document');
    assert.notEqual(docOf(ids[0]), docOf(ids[1]));
    assert.equal(docOf(ids[3]), docOf(ids[4]), 'two domains with nothing found: one document');
    assert.notEqual(docOf(ids[5]), docOf(ids[0]));
    const stored = raw.prepare(`SELECT d.hash, t.text FROM documents d JOIN document_texts t ON t.id = d.id WHERE d.id = ?`).get(docOf(ids[1])) as { hash: string; text: string };
    assert.equal(stored.hash, documentHash(new TextEncoder().encode(stored.text)), 'stored under the SHA-256 of its bytes');
    assert.equal(stored.hash, prepareAudit(audit('x.example', T0, realistic('x.example', 1))).findingsHash);
    raw.close();
    assert.deepEqual(
      s.resultsByIds(ids).map((r) => JSON.stringify(r.findings)),
      [realistic('x.example', 0), realistic('x.example', 1), realistic('x.example', 0), [], [], realistic('w.example', 0)].map((f) => JSON.stringify(f)),
    );
    s.close();
    assert.deepEqual(assertDocumentsWhole(path), { documents: 4, named: 6 });
  });

  test('every reader returns the same whether a result holds its document inline (written before v9), names a stored one, or a mix', () => {
    const dumps: string[] = [];
    for (const inline of ['none', 'odd', 'all'] as const) {
      const clock = scenarioClock(SCENARIO_T0);
      const path = freshPath();
      const s = openStore(path, { ...quiet, now: clock.now });
      writeScenario(s, clock);
      assert.equal(clock.t, SCENARIO_END);
      if (inline !== 'none') {
        // Rows as the store wrote them before v9: the document in results.findings, no doc_id (the triggers drop the
        // documents nobody names any more).
        const raw = new Database(path);
        raw
          .prepare(
            `UPDATE results SET findings = (SELECT text FROM document_texts WHERE id = results.doc_id), doc_id = NULL
             WHERE doc_id IS NOT NULL AND (? OR id % 2 = 1)`,
          )
          .run(inline === 'all' ? 1 : 0);
        raw.close();
        const left = assertDocumentsWhole(path);
        if (inline === 'all') assert.deepEqual(left, { documents: 0, named: 0 });
        else assert.ok(left.named > 0 && left.documents > 0);
      }
      // latestAudits, latestAudit, auditsForDomain, runResults, latestSummaries, recentResults, then prune and after.
      dumps.push(readAll(s));
      // And the readers by id, over every result still stored.
      const ids = s.recentResults([...s.latestAudits().keys()], 1000).map((r) => r.resultId);
      dumps[dumps.length - 1] += JSON.stringify([s.resultsByIds(ids), s.resultFindingsByIds(ids, ['fail', 'warn', 'unknown'])]);
      s.close();
      assertDocumentsWhole(path);
    }
    assert.equal(dumps[1], dumps[0], 'half inline');
    assert.equal(dumps[2], dumps[0], 'all inline');
  });

  test('a file of every older schema upgrades to v9 cheaply (no row rewritten), reads its results as before, and stores the next ones once', () => {
    // The space asked for on top of the copy: a sliver of the file for v9 alone (the default, the file's size, before).
    assert.equal(upgradeSpaceFactor(MIGRATIONS.length - 1), 0.01);
    for (let from = 1; from < MIGRATIONS.length; from++) {
      const path = freshPath();
      const domain = 'old.example';
      const findings = realistic(domain);
      if (from === 1) {
        copyFileSync(join(fixtures, 'v1.db'), path);
      } else {
        // The file as that release left it: its results written with the document inline, in that release's format.
        openStore(path, { ...quiet, migrations: MIGRATIONS.slice(0, from) }).close();
        const raw = new Database(path);
        const run = Number(raw.prepare(`INSERT INTO runs (kind, started_at, finished_at, by_user, status) VALUES ('audit', ?, ?, 'root', 'complete')`).run(iso(T0), iso(T0)).lastInsertRowid);
        // v2 wrote a plain array of findings; v3 on, the shared-evidence document prepareAudit still makes.
        const doc = from === 2 ? JSON.stringify(findings) : new TextDecoder().decode(prepareAudit(audit(domain, T0, findings)).findings);
        const insert = raw.prepare(
          `INSERT INTO results (run_id, domain, owner, status, audited_at, findings_count, checks, findings) VALUES (?, ?, 'cust', 'fail', ?, ?, '{"mx":"fail","spf":"warn"}', ?)`,
        );
        // Enough rows to span many pages: what an upgrade must not rewrite.
        for (let i = 0; i < 200; i++) insert.run(run, i ? `filler${i}.example` : domain, iso(T0), findings.length, doc);
        raw.close(); // the last connection: the log goes into the file
      }
      const raw = new Database(path);
      const resultPages = (raw.prepare(`SELECT count(*) AS n FROM dbstat WHERE name = 'results'`).get() as { n: number }).n;
      const oldLatest = from === 1 ? null : raw.prepare(`SELECT findings FROM results WHERE domain = ?`).get(domain);
      raw.close();

      // After everything the file holds (the v1 scenario's nights are later than T0).
      const clock = { t: (from === 1 ? SCENARIO_END : T0) + DAY };
      const s = openStore(path, { ...quiet, now: () => clock.t });
      assert.equal(s.schemaVersion(), MIGRATIONS.length, `from schema ${from}`);
      // The upgrade's transaction is still in the write-ahead log: a few pages (schema, new tables), none of results'.
      const probe = new Database(path);
      const [wal] = probe.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
      probe.close();
      // Schema 1 → 2 rewrites every result (that step's own doing, as before); from 2 on, the steps write a few pages each.
      const rewrite = from === 1 ? Infinity : 25;
      assert.ok(wal.log <= rewrite, `from schema ${from}: ${wal.log} pages written by the upgrade (results: ${resultPages} pages)`);
      if (from > 1) assert.ok(resultPages > 50, `${resultPages} pages of results`);

      const before = from === 1 ? s.latestAudits() : null;
      if (from > 1) {
        const old = s.latestAudit(domain)!;
        assert.equal(JSON.stringify(old.findings), JSON.stringify(findings), `from schema ${from}: the inline document reads as written`);
        assert.ok(oldLatest);
      }
      // The next audits: stored once, read alongside the old row; prune takes the old row and leaves the document.
      const target = from === 1 ? [...before!.keys()][0] : domain;
      const next = from === 1 ? before!.get(target)!.findings : findings;
      const run = s.startRun('audit', 'root', 1);
      s.recordAudit(run, audit(target, clock.t, next), 'cust');
      clock.t += DAY;
      s.recordAudit(run, audit(target, clock.t, next), 'cust');
      s.finishRun(run, 'complete');
      const all = s.auditsForDomain(target, 100);
      assert.ok(all.length >= 3);
      // The two new ones (and from v2 on, the old one too: the same findings).
      for (const r of from === 1 ? all.slice(0, 2) : all) assert.equal(JSON.stringify(r.findings), JSON.stringify(next), `from schema ${from}: ${r.resultId}`);
      s.prune({ olderThanDays: 0, now: clock.t });
      const left = s.auditsForDomain(target, 100);
      assert.equal(JSON.stringify(s.latestAudit(target)!.findings), JSON.stringify(next));
      // Two runs a day apart (v2 on): nothing stands out, so the clock decides — only the latest is left.
      if (from > 1) assert.equal(left.length, 1, `from schema ${from}: the old inline row and the older new one pruned (${left.length} left)`);
      s.close();
      assertDocumentsWhole(path);
    }
  });

  test('prune never deletes a document a result still names, and leaves none named by nobody — whoever deletes results', () => {
    const path = freshPath();
    const clock = { t: T0 };
    const s = openStore(path, { ...quiet, now: () => clock.t });
    // x: A A B A B B C over seven nights; y: nothing found every night (the document z shares on night 3); z: C on night 6.
    const plan: Record<string, (Finding[] | null)[]> = {
      'x.example': [0, 0, 1, 0, 1, 1, 2].map((v) => realistic('x.example', v)),
      'y.example': [[], [], [], [], [], [], []],
      'z.example': [null, null, null, [], null, null, realistic('x.example', 2)],
    };
    for (let k = 0; k < 7; k++) {
      clock.t = T0 + k * DAY;
      const run = s.startRun('audit', 'root');
      for (const [d, nights] of Object.entries(plan)) if (nights[k]) s.recordAudit(run, audit(d, clock.t, nights[k]!));
      s.finishRun(run, 'complete');
    }
    const expectRead = (d: string, since: number) =>
      plan[d]
        .slice(since)
        .filter((f): f is Finding[] => f !== null)
        .map((f) => JSON.stringify(f))
        .reverse();
    assertDocumentsWhole(path);
    // Ages cut night by night: whatever is left reads as written, and the documents stay whole.
    for (const keepFrom of [2, 4, 6]) {
      s.prune({ olderThanDays: 6 - keepFrom + 0.5, now: T0 + 6 * DAY });
      assertDocumentsWhole(path);
      for (const d of ['x.example', 'y.example']) {
        assert.deepEqual(s.auditsForDomain(d, 100).map((r) => JSON.stringify(r.findings)), expectRead(d, keepFrom), `${d} from night ${keepFrom}`);
      }
    }
    // z's night-6 result names x's C document (same bytes): x's own C result is its latest; both stay.
    assert.equal(JSON.stringify(s.latestAudit('z.example')!.findings), JSON.stringify(realistic('x.example', 2)));
    assert.deepEqual(assertDocumentsWhole(path), { documents: 2, named: 3 });

    // An sqlite3 shell deleting results (foreign keys off, no mailhealth code): the triggers keep the count.
    const shell = new Database(path);
    shell.pragma('foreign_keys = OFF');
    shell.prepare(`DELETE FROM results WHERE domain = 'x.example'`).run();
    shell.close();
    assert.deepEqual(assertDocumentsWhole(path), { documents: 2, named: 2 }, 'C stays for z; nothing left for nobody');
    const raw = new Database(path);
    raw.prepare(`DELETE FROM results`).run();
    raw.close();
    assert.deepEqual(assertDocumentsWhole(path), { documents: 0, named: 0 });
    s.close();
  });
});
