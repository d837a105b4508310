// Rule 7 at the CLI's log sinks: a panel's error text (a fragment of whatever answered in its place, cPanel's errors[],
// a JSON.parse snippet of a hand-edited file) reaches stderr escaped like record text — never a raw ESC that drives the
// terminal, never a line break that starts a line passing for one of ours. JSON output keeps the text as it is.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openStore } from '../../src/adapters/store/store.js';
import type { Panel } from '../../src/core/panel.js';
import { reportCommand } from '../../src/cli/commands/report.js';
import { startAccountSweep } from '../../src/cli/commands/serve.js';
import { startNightlyReport } from '../../src/cli/nightly.js';
import { runCli } from '../helpers/cli.js';
import { writePanel } from '../helpers/scenario.js';
import { fakeSchedule } from '../cron/fake-schedule.js';
import { sandbox } from './fixtures/run-cli.js';

/** Hostile text: clears the screen, paints red, and breaks the line to forge one of ours. */
const HOSTILE = '\x1b[2J\x1b[31mFORGED\nmailhealth: all good';
/** Nothing listens here (the test's own port range): a query fails at once, no DNS is needed. */
const NO_DNS = '127.0.0.1:56351';

function assertEscaped(stderr: string): void {
  assert.ok(!stderr.includes('\x1b'), `a raw ESC on stderr: ${JSON.stringify(stderr)}`);
  assert.ok(!stderr.split('\n').some((l) => l.startsWith('mailhealth: all good')), `a forged line on stderr: ${JSON.stringify(stderr)}`);
}

/** What `fn` writes on process.stderr (the default sinks), kept off the real stderr. */
async function captureStderr(fn: () => Promise<unknown>): Promise<string> {
  const write = process.stderr.write;
  let got = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    got += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stderr.write;
  try {
    await fn();
  } finally {
    process.stderr.write = write;
  }
  return got;
}

function tempStore(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'mh-log-escape-'));
  const store = openStore(join(dir, 'h.sqlite'));
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

/** A panel whose every read fails with `message` (as a panel answering with something else would). */
function failingPanel(message: string): Panel {
  const fail = () => Promise.reject(new Error(message));
  return { kind: 'files', capabilities: {}, listAccounts: fail, listDomains: fail, readZone: fail, readMailSettings: fail, applyChanges: fail } as unknown as Panel;
}

test('fix: the PlanError carrying the panel\'s text is escaped on stderr; under --json the error object keeps it', { timeout: 60_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'mh-log-escape-fix-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  writePanel(root, { domains: { 'esc.example': {} } });
  // The domain's settings file holds the escapes; the files panel's JSON.parse error quotes the start of it.
  writeFileSync(join(root, 'domains', 'esc.example.json'), HOSTILE);
  const base = ['--panel', 'files', '--panel-root', root, '--resolver', NO_DNS, '--db', join(root, 'h.db')];
  const text = await runCli([...base, 'fix', 'esc.example', '--check', 'spf']);
  assert.equal(text.code, 1, text.stderr);
  assert.match(text.stderr, /^mailhealth: The panel could not provide the server's mail settings: .*\\x1b/);
  assertEscaped(text.stderr);
  const json = await runCli([...base, 'fix', 'esc.example', '--check', 'spf', '--json']);
  assert.equal(json.code, 1, json.stderr);
  const err = (JSON.parse(json.stdout) as { error: { kind: string; message: string } }).error;
  assert.equal(err.kind, 'plan');
  assert.ok(err.message.includes('\x1b'), 'the JSON error keeps the text as it is (JSON escapes it)');
  assertEscaped(json.stderr);
});

test('report: the panel\'s error recorded as a failed night is logged escaped', { timeout: 60_000 }, async (t) => {
  const s = sandbox(t, 'mh-log-escape-report-');
  openStore(s.db).close();
  writeFileSync(join(s.panel, 'panel.json'), HOSTILE);
  let stderr = '';
  await assert.rejects(reportCommand({ panel: 'files', panelRoot: s.panel, resolver: NO_DNS, db: s.db }, { stdout: () => {}, stderr: (x) => void (stderr += x) }));
  assert.match(stderr, /^mailhealth: report run 1: mailhealth could not read the panel: files panel: panel\.json is not valid JSON .*\\x1b/m);
  assertEscaped(stderr);
});

test('nightly report (serve, service): a panel that fails with hostile text is logged escaped', { timeout: 60_000 }, async (t) => {
  const store = tempStore(t);
  const stderr = await captureStderr(async () => {
    const nightly = startNightlyReport({ resolver: NO_DNS, reportCron: '0 3 * * *', reportTz: 'UTC' }, failingPanel(HOSTILE), store, { schedule: fakeSchedule().schedule });
    try {
      await nightly.scheduler.tick();
    } finally {
      await nightly.stop();
    }
  });
  assert.match(stderr, /could not read the panel: \\x1b\[2J/);
  assertEscaped(stderr);
});

test('serve: the account sweep logs the panel\'s error escaped', async (t) => {
  const store = tempStore(t);
  store.setPasswordHash('alice', 'not-a-real-hash');
  const stderr = await captureStderr(async () => {
    const sweep = startAccountSweep(failingPanel(HOSTILE), store, { everyMs: 3_600_000 });
    await sweep.sweep();
    await sweep.stop();
  });
  assert.match(stderr, /^mailhealth: web logins not compared with the panel's accounts, nothing changed: .*\\x1b\[2J/);
  assertEscaped(stderr);
});

test('cgi: the front door\'s lines in the web server\'s error log are escaped (a file name from the shim\'s environment)', async () => {
  const { pleskAllowedDomains } = await import('../../src/cli/commands/cgi.js');
  // fs quotes the name as it is in its error message, which the front door logs.
  const stderr = await captureStderr(async () => {
    assert.throws(() => pleskAllowedDomains({ MAILHEALTH_ALLOWED_DOMAINS_FILE: `/nonexistent/${HOSTILE}` }));
  });
  assert.match(stderr, /^mailhealth cgi: MAILHEALTH_ALLOWED_DOMAINS_FILE .*ENOENT.*\\x1b\[2J/);
  assertEscaped(stderr);
});
