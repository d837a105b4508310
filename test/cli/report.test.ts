import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildProgram } from '../../src/cli/main.js';
import { outFormat, parseSince, reportCommand, type ReportCommandOptions } from '../../src/cli/commands/report.js';
import { UsageError } from '../../src/cli/context.js';
import { openStore } from '../../src/adapters/store/store.js';
import { countingLimiter, startWorld, type TestWorld } from '../cron/world.js';

describe('mailhealth report', () => {
  let w: TestWorld;
  let base: ReportCommandOptions;
  let dbPath: string;
  before(async () => {
    w = await startWorld();
    dbPath = join(w.dir, 'cli.sqlite');
    base = { panel: 'files', panelRoot: join(w.dir, 'panel'), resolver: w.dns.address, authoritativePort: w.dns.port, db: dbPath };
  });
  after(() => w?.close());

  function run(extra: Partial<ReportCommandOptions>) {
    let stdout = '';
    let stderr = '';
    const p = reportCommand({ ...base, ...extra }, { limiter: countingLimiter(), stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) });
    return p.then((code) => ({ code, stdout, stderr }));
  }

  test('--json prints the document: runId, previousRunId, the four sections with at least domain/rule/severity/owner', async () => {
    const first = await run({ json: true });
    assert.equal(first.code, 1, 'failing domains → exit 1');
    const doc = JSON.parse(first.stdout);
    for (const k of ['runId', 'previousRunId', 'newProblems', 'resolved', 'stillFailing', 'unknown']) assert.ok(k in doc, k);
    assert.equal(doc.previousRunId, null);
    assert.ok(doc.newProblems.length > 0);
    for (const i of doc.newProblems) for (const k of ['domain', 'rule', 'severity', 'owner']) assert.ok(k in i, `${k} in item`);
    const second = await run({ json: true, baseUrl: 'https://panel.example' });
    const doc2 = JSON.parse(second.stdout);
    assert.equal(doc2.previousRunId, doc.runId);
    assert.equal(doc2.newProblems.length, 0);
    assert.ok(doc2.stillFailing.length > 0);
    for (const s of doc2.stillFailing) assert.equal(s.nights, 2);
    assert.ok(Array.isArray(doc2.unknown) && Array.isArray(doc2.resolved));
    // Recorded as report runs in the database given with --db.
    const store = openStore(dbPath);
    try {
      assert.deepEqual(store.listRuns({ kind: 'report' }).map((r) => r.status), ['complete', 'complete']);
    } finally {
      store.close();
    }
  });

  test('--out FILE writes HTML, JSON or text by extension; stdout gets the text report', async () => {
    const html = join(w.dir, 'report.html');
    const json = join(w.dir, 'report.json');
    const r1 = await run({ out: html, baseUrl: 'https://panel.example' });
    assert.ok(existsSync(html));
    assert.match(readFileSync(html, 'utf8'), /^<!DOCTYPE html>[\s\S]*<svg[\s\S]*href="https:\/\/panel\.example\/domains\//);
    assert.match(r1.stdout, /Still failing \(\d+\)/);
    await run({ out: json, json: true });
    const doc = JSON.parse(readFileSync(json, 'utf8'));
    assert.ok(Array.isArray(doc.stillFailing));
    assert.equal(outFormat('x.txt'), 'text');
    assert.equal(outFormat('x.JSON'), 'json');
    assert.equal(outFormat('x'), 'html');
  });

  test('usage errors: --since, --base-url, non-admin, --email without recipients', async () => {
    assert.equal(parseSince(undefined), 'last');
    assert.equal(parseSince('2026-01-05T00:00:00Z').toString(), new Date('2026-01-05T00:00:00Z').toString());
    assert.throws(() => parseSince('yesterday-ish'), UsageError);
    assert.throws(() => parseSince('2026-02-31'), UsageError);
    await assert.rejects(run({ baseUrl: 'javascript:alert(1)' }), UsageError);
    await assert.rejects(run({ as: 'rita' }), /as the admin/);
    await assert.rejects(run({ email: true }), /no recipients/);
  });

  test("--email with one mistyped reseller address still audits, saves the report and mails the others (README: a bad setting skips only its mail)", async () => {
    const db = join(w.dir, 'email-bad.sqlite');
    const seed = openStore(db);
    seed.setSettings({ 'report.recipients': ['admin@example.com'], 'report.resellers': { rita: ['rita at example.com'] } });
    seed.close();
    const sent: string[] = [];
    let stderr = '';
    const code = await reportCommand(
      { ...base, db, email: true, json: true },
      { limiter: countingLimiter(), mailer: { sendMail: async (m) => void sent.push(m.to) }, sleep: async () => {}, stdout: () => {}, stderr: (s) => void (stderr += s) },
    );
    assert.equal(code, 1, 'failing domains and one undelivered mail → exit 1, not a usage error');
    assert.deepEqual(sent, ['admin@example.com']);
    assert.match(stderr, /not sent to rita at example\.com/);
    const store = openStore(db);
    try {
      assert.deepEqual(store.listRuns({ kind: 'report' }).map((r) => r.status), ['complete']);
    } finally {
      store.close();
    }
  });

  test('registered in the program with its options', () => {
    const cmd = buildProgram().commands.find((c) => c.name() === 'report');
    assert.ok(cmd);
    const flags = cmd.options.map((o) => o.long);
    for (const f of ['--since', '--email', '--out', '--json', '--base-url']) assert.ok(flags.includes(f), f);
  });
});
