// The nightly report's history read in pieces (QA scale S1): the same report as when every night was read whole,
// whole documents read only for the run compared with across a change of checks, no piece larger than HISTORY_CHUNK,
// and a turn of the event loop — a page of `serve` answered — before every run and between its pieces.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import type { DomainAudit, Finding, Severity } from '../../src/core/model.js';
import { buildReport, type Producer, type RunSnapshot } from '../../src/core/report/diff.js';
import { renderReport } from '../../src/core/report/render.js';
import { HISTORY_CHUNK, loadHistory } from '../../src/cron/report.js';
import { loadHistoryOld, toSnapshotDomainOld } from './history-old-path.js';

const root = mkdtempSync(join(tmpdir(), 'mailhealth-history-pieces-'));
after(() => rmSync(root, { recursive: true, force: true }));
let files = 0;

const DAY = 86_400_000;
const T0 = Date.parse('2026-02-01T03:00:00.000Z');
/** More than two pieces a night. */
const N = 2 * HISTORY_CHUNK + 37;
const NASTY = 'nul\u0000 esc\u001b[31m quote" back\\slash \u2028 rtl\u202e émoji😀 <b>x</b>';
const OLD_CHECKS: Producer = { version: '0.0.9', checks: 'sha256:old' };
const NEW_CHECKS: Producer = { version: '0.1.0', checks: 'sha256:new' };

const SEVERITY_RANK: Record<Severity, number> = { fail: 0, warn: 1, unknown: 2, info: 3, pass: 4 };
function statusOf(findings: Finding[]): DomainAudit['status'] {
  const worst = findings.reduce<Severity>((w, f) => (SEVERITY_RANK[f.severity] < SEVERITY_RANK[w] ? f.severity : w), 'pass');
  return worst === 'info' ? 'pass' : (worst as DomainAudit['status']);
}

/** A domain's findings on night `n`: every severity, shared evidence with record lines, classification, fix, subjects. */
function findingsOf(domain: string, i: number, n: number): Finding[] {
  const spfLine = `${domain} 3600 TXT "v=spf1 +a include:${(i + n) % 5 === 0 ? 'old.example' : 'relay.mailchannels.net'} ~all"`;
  const spfEvidence = { panel: [spfLine, `${domain} 3600 TXT "site=${i}"`], live: [`"v=spf1 +a ~all"`] };
  const out: Finding[] = [
    { rule: 'spf.term', check: 'spf', severity: 'info', message: '+a: this server.', evidence: spfEvidence, subject: '+a', classification: { class: 'this-server', reason: 'a' } },
    {
      rule: 'spf.stale-term',
      check: 'spf',
      severity: (i + n) % 5 === 0 ? 'fail' : 'pass',
      message: `include:old.example in ${domain}: a previous host.`,
      evidence: spfEvidence,
      subject: 'include:old.example',
      classification: { class: 'stale', reason: 'old host', provider: 'oldhost', source: 'kb' },
      fix: 'spf',
    },
    { rule: 'dkim.key', check: 'dkim', severity: i % 7 === n % 7 ? 'warn' : 'info', message: `DKIM ${NASTY}`, evidence: { selector: 'default', bits: 1024, panel: [`default._domainkey.${domain} 3600 TXT "v=DKIM1; p=AB${n % 2}"`] }, subject: 'default' },
    { rule: 'dmarc.policy-none', check: 'dmarc', severity: 'info', message: 'DMARC policy is p=none.', evidence: { panel: [`_dmarc.${domain} 3600 TXT "v=DMARC1; p=none"`], live: ['"v=DMARC1; p=none"'] } },
    { rule: 'lockdown.stale-auth', check: 'lockdown', severity: i % 11 === n ? 'unknown' : i % 3 === 0 ? 'fail' : 'pass', message: 'Lockdown auth=oldhost.', evidence: { live: ['v=mc1 auth=oldhost'] }, subject: 'auth=oldhost' },
    { rule: 'mx.host', check: 'mx', severity: i % 13 === 0 ? 'fail' : 'info', message: `MX of ${domain}`, evidence: { live: [`10 mail.${domain}`] }, subject: i % 26 === 0 ? NASTY : `mail.${domain}` },
    // No subject at all, and a subject null (as v1 stored it): both read as null.
    { rule: 'ptr.relay', check: 'ptr', severity: i % 17 === 0 ? 'warn' : 'info', message: 'PTR', evidence: undefined as never },
    { rule: 'dns.drift', check: 'dns', severity: i % 19 === n ? 'warn' : 'pass', message: 'drift', evidence: null as never, subject: null as never },
  ];
  // The panel could not read the zone one night: the checks reading it are unknown (MASKING_RULES).
  if (i % 97 === n) out.push({ rule: 'dns.panel-zone-unreadable', check: 'dns', severity: 'unknown', message: 'zone unreadable', evidence: { error: 'EISDIR' } });
  return out;
}

interface History {
  store: Store;
  path: string;
  nights: number[];
  clock: { t: number };
}

/**
 * Seven nights of N domains (two made by other checks, one partly pruned, one failed panel read in between), a domain
 * spelt in Unicode then as its A-label, a customer moving to another reseller, and a result stored as a plain array of
 * findings (a document from before evidence was shared).
 */
function writeHistory(): History {
  const path = join(root, `h${++files}.sqlite`);
  const clock = { t: T0 };
  const store = openStore(path, { now: () => clock.t });
  const nights: number[] = [];
  for (let n = 0; n < 7; n++) {
    if (n === 4) {
      store.recordFailedRun('report', 'root', { failed: 'panel', reason: `the panel could not be read ${NASTY}` });
      clock.t += DAY;
    }
    const resellers: Record<string, string> = {};
    for (let c = 0; c < 20; c++) resellers[`cust${c}`] = `res${(c + (n >= 3 && c === 4 ? 1 : 0)) % 3}`;
    const producer = n < 2 ? OLD_CHECKS : NEW_CHECKS;
    const domains = Array.from({ length: N }, (_, i) => `d${i}.example`);
    domains.push(n < 3 ? 'bücher.example' : 'xn--bcher-kva.example');
    // Night 2 recorded more than it kept: partly pruned.
    const run = store.startRun('report', 'root', domains.length + (n === 2 ? 3 : 0), { resellers, mailhealth: producer });
    const items = domains.map((d, i) => {
      const findings = findingsOf(d, i, n);
      return { audit: { domain: d, status: statusOf(findings), auditedAt: new Date(clock.t).toISOString(), findings }, owner: i % 41 === 0 ? null : `cust${i % 20}` };
    });
    for (let b = 0; b < items.length; b += 100) store.recordAudits(run, items.slice(b, b + 100), { done: Math.min(100, items.length - b) });
    if (n === 5) {
      const raw = new Database(path);
      const doc = JSON.stringify([
        { rule: 'spf.none', check: 'spf', severity: 'fail', message: 'No SPF (an old document)', evidence: { panel: ['legacy.example 3600 TXT "x"'], live: [] } },
        { rule: 'mx.host', check: 'mx', severity: 'info', message: 'MX', evidence: { live: ['10 mx'] }, subject: 'mx' },
      ]);
      raw
        .prepare(`INSERT INTO results (run_id, domain, owner, status, audited_at, findings_count, checks, findings) VALUES (?, 'legacy.example', 'cust3', 'fail', ?, 2, '{}', ?)`)
        .run(run, new Date(clock.t).toISOString(), doc);
      raw.close();
    }
    assert.ok(store.completeRunWithReport(run, { json: {}, html: '', text: '' }));
    nights.push(run);
    clock.t += DAY;
  }
  return { store, path, nights, clock };
}

/** The newest night as tonight's run: as runReport makes it (whole audits, with their records). */
function tonight(h: History, producer: Producer): RunSnapshot {
  const id = h.nights[h.nights.length - 1];
  const run = h.store.getRun(id)!;
  const resellers = (run.meta as { resellers: Record<string, string> }).resellers;
  return {
    runId: id,
    status: 'complete',
    startedAt: run.startedAt,
    producer,
    domains: h.store.runResults(id).map((r) => toSnapshotDomainOld(r.domain, r.owner, r.owner ? (resellers[r.owner] ?? null) : null, r, true)),
  };
}

/** The documents a report makes from a history: the whole server's and every reseller's part, rendered. */
function reports(current: RunSnapshot, history: { runs: RunSnapshot[]; truncated: boolean }, since: 'last' | Date): string {
  const input = { current, runs: history.runs, since, historyTruncated: history.truncated };
  const out: unknown[] = [];
  for (const scope of [undefined, { reseller: 'res0' }, { reseller: 'res1' }, { owner: 'cust4' }]) {
    const doc = buildReport({ ...input, ...(scope ? { scope } : {}) });
    const r = renderReport(doc, { baseUrl: 'https://panel.example:2087', serverName: 'server1', timeZone: 'Europe/Berlin' });
    out.push(doc, r.subject, r.text, r.html);
  }
  return JSON.stringify(out);
}

/**
 * A store that records the reads of the history (which, how many results, at which turn of `turns`); `beforeRead` runs
 * before each read of results.
 */
function watched(store: Store, turns: { n: number }, beforeRead: (method: string) => void = () => {}) {
  const calls: { method: string; ids: number; turn: number; runId?: number }[] = [];
  const idsOfRun = new Map<number, number>();
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      const name = String(prop);
      return (...args: unknown[]) => {
        if (name === 'runResults' || name === 'resultsByIds' || name === 'resultFindingsByIds') beforeRead(name);
        const result = (v as (...a: unknown[]) => unknown).apply(target, args);
        if (name === 'runResultIds') {
          for (const id of result as number[]) idsOfRun.set(id, args[0] as number);
          calls.push({ method: name, ids: (result as number[]).length, turn: turns.n, runId: args[0] as number });
        } else if (name === 'runResults' || name === 'resultsByIds' || name === 'resultFindingsByIds') {
          const ids = name === 'runResults' ? (result as unknown[]).length : (args[0] as number[]).length;
          const runId = name === 'runResults' ? (args[0] as number) : idsOfRun.get((args[0] as number[])[0]);
          calls.push({ method: name, ids, turn: turns.n, ...(runId !== undefined ? { runId } : {}) });
        }
        return result;
      };
    },
  });
  return { store: proxy, calls };
}

describe('nightly report history read in pieces (QA scale S1)', () => {
  const h = writeHistory();
  after(() => h.store.close());
  const newest = h.nights[h.nights.length - 1];

  const cases: { name: string; producer?: Producer; since: 'last' | Date; depth?: number }[] = [
    { name: 'same checks, compared with the last run', producer: NEW_CHECKS, since: 'last' },
    { name: 'other checks than the run compared with (its records compared)', producer: { version: '0.2.0', checks: 'sha256:newer' }, since: 'last' },
    { name: 'no producer given', since: 'last' },
    { name: '--since a night made by the old checks', producer: NEW_CHECKS, since: new Date(T0 + DAY + 3600_000) },
    { name: '--since before every run', producer: NEW_CHECKS, since: new Date(T0 - 30 * DAY) },
    { name: '--since older than the runs loaded (depth 2)', producer: NEW_CHECKS, since: new Date(T0 + 3600_000), depth: 2 },
  ];
  for (const c of cases) {
    test(`the same history and the same report as when every night was read whole: ${c.name}`, async () => {
      const opts = { ...(c.producer ? { producer: c.producer } : {}), since: c.since, ...(c.depth ? { depth: c.depth } : {}) };
      const before = loadHistoryOld(h.store, newest, opts);
      const now = await loadHistory(h.store, newest, opts);
      assert.deepEqual(now, before);
      // What the projection leaves out is really there to be left out: pass/info findings, evidence, a plain-array
      // document, a run with records (when compared across checks).
      assert.ok(h.store.runResults(h.nights[5]).some((r) => r.domain === 'legacy.example'));
      const current = tonight(h, c.producer ?? NEW_CHECKS);
      assert.equal(reports(current, now, c.since), reports(current, before, c.since));
    });
  }

  test('the report is not trivial: every section has items, a run partly pruned, a failed night, a change of checks', async () => {
    const history = await loadHistory(h.store, newest, { producer: { version: '0.2.0', checks: 'sha256:newer' } });
    const doc = buildReport({ current: tonight(h, { version: '0.2.0', checks: 'sha256:newer' }), runs: history.runs, historyTruncated: history.truncated });
    for (const k of ['newProblems', 'resolved', 'stillFailing', 'unknown'] as const) assert.ok(doc[k].length > 0, k);
    assert.ok(doc.stillFailing.some((s) => s.nights >= 3));
    assert.ok(doc.unknown.some((u) => u.wasFailing.length > 0));
    assert.ok(doc.resolved.some((r) => r.domain === 'legacy.example' && r.reason === 'domain-removed'));
    assert.deepEqual(doc.prunedRuns.map((r) => r.runId), [h.nights[2]]);
    assert.equal(doc.skippedRuns.length, 0, 'the failed night is before the run compared with');
    assert.ok(history.runs.some((r) => r.status === 'interrupted'));
    assert.ok(doc.versionChange);
  });

  test('whole documents only for the run compared with across a change of checks; no read larger than a piece; no evidence elsewhere', async () => {
    for (const [producer, wholeRuns] of [
      [NEW_CHECKS, []],
      [{ version: '0.2.0', checks: 'sha256:newer' }, [h.nights[5]]],
      [undefined, []],
    ] as const) {
      const w = watched(h.store, { n: 0 });
      const history = await loadHistory(w.store, newest, producer ? { producer } : {});
      assert.deepEqual(w.calls.filter((c) => c.method === 'runResults'), [], 'no run read whole at once');
      const whole = w.calls.filter((c) => c.method === 'resultsByIds');
      assert.deepEqual([...new Set(whole.map((c) => c.runId))], wholeRuns, 'whole documents (evidence) only where records are compared');
      for (const c of w.calls) if (c.method !== 'runResultIds') assert.ok(c.ids <= HISTORY_CHUNK, `${c.method}: ${c.ids} results at once`);
      // Every result of every run loaded was read, in pieces.
      const read = w.calls.filter((c) => c.method !== 'runResultIds').reduce((n, c) => n + c.ids, 0);
      const listed = w.calls.filter((c) => c.method === 'runResultIds').reduce((n, c) => n + c.ids, 0);
      assert.equal(read, listed);
      assert.ok(w.calls.filter((c) => c.method === 'resultFindingsByIds').length >= 3 * 5);
      // What is kept: the problems, and records only in the run compared across checks.
      for (const r of history.runs) {
        for (const d of r.domains ?? []) {
          const withRecords = (wholeRuns as readonly number[]).includes(r.runId);
          assert.equal(d.records !== undefined, withRecords, `run ${r.runId} ${d.domain}: records`);
          for (const f of d.findings) {
            assert.ok(f.severity === 'fail' || f.severity === 'warn' || f.severity === 'unknown', f.severity);
            assert.equal(f.evidence !== undefined, withRecords);
          }
        }
      }
    }
  });

  test('the event loop turns before every run and between its pieces: a page asked for meanwhile is answered', async () => {
    // A "web request" each turn of the event loop: a read of the same database, as a history page does.
    const turns = { n: 0 };
    let answered = 0;
    let stop = false;
    const w = watched(h.store, turns);
    const serve = () => {
      if (stop) return;
      turns.n++;
      if (h.store.recentResults(['d1.example', 'd2.example'], 5).length === 5) answered++;
      setImmediate(serve);
    };
    setImmediate(serve);
    const loading = loadHistory(w.store, newest, { producer: NEW_CHECKS });
    const answeredAtStart = answered;
    await loading;
    stop = true;
    assert.equal(answeredAtStart, 0);
    const reads = w.calls;
    assert.ok(reads.length > 0 && reads[0].turn > 0, `a turn before the first run: ${JSON.stringify(reads[0])}`);
    for (let i = 1; i < reads.length; i++) {
      // A run's first piece is read with its list of ids; every other read comes after a turn.
      if (reads[i - 1].method === 'runResultIds') continue;
      assert.ok(reads[i].turn > reads[i - 1].turn, `read ${i} (${reads[i].method} of run ${reads[i].runId}) came without a turn of the event loop after read ${i - 1}`);
    }
    assert.equal(reads.filter((r) => r.method === 'runResultIds').length, 6, 'six complete nights loaded');
    assert.equal(reads.length, 6 * 4, 'each in three pieces, after its list of ids');
    assert.ok(answered >= 6 * 3, `${answered} pages answered while the history loaded`);
  });

  test('results pruned between two pieces: the run is partly pruned, and the next whole run is the one whose records are read', async () => {
    const h2 = writeHistory();
    try {
      const last = h2.nights[h2.nights.length - 1];
      const producer = { version: '0.2.0', checks: 'sha256:newer' };
      // Another process prunes part of the newest night loaded (the run compared with: read whole) after its ids were
      // listed, before its second piece (d400 and d401 are in it: the pieces go by domain).
      let pruned = false;
      const w = watched(h2.store, { n: 0 }, () => {
        if (pruned) return;
        pruned = true;
        const raw = new Database(h2.path);
        raw.prepare(`DELETE FROM results WHERE run_id = ? AND domain IN ('d400.example', 'd401.example')`).run(h2.nights[5]);
        raw.close();
      });
      const history = await loadHistory(w.store, last, { producer });
      const night6 = history.runs.find((r) => r.runId === h2.nights[5])!;
      assert.equal(night6.partial, true);
      assert.equal(night6.domains?.length, N + 2 - 2);
      const night5 = history.runs.find((r) => r.runId === h2.nights[4])!;
      assert.ok(night5.domains?.every((d) => d.records !== undefined), 'the run compared with now: its records');
      // As the report read whole after the prune.
      assert.deepEqual(history, loadHistoryOld(h2.store, last, { producer }));
    } finally {
      h2.store.close();
    }
  });

});
