// `audit --all` takes its domain list at the start; a domain removed from the panel while the run goes used to be
// audited anyway and recorded as a new failing audit (dkim.missing, spf.missing, dns.not-authoritative fails and
// dns.panel-zone-unreadable). Now it is skipped and reported as no longer on the server (JSON `gone`, a text line),
// nothing recorded, not counted as failing — and a domain the panel still lists but cannot read is audited as before.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { openStore } from '../../src/adapters/store/store.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { demoPanelWithDns } from '../helpers/cli.js';

const PRELOAD = pathToFileURL(join(REPO_ROOT, 'test/cli/fixtures/remove-on-first-read.ts')).href;

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', PRELOAD, join(REPO_ROOT, 'src/cli/bin.ts'), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, MAILHEALTH_DB: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('audit --all: a domain removed from the panel during the run is reported gone, not audited, nothing recorded', { timeout: 120_000 }, async (t) => {
  const { dir, panel, dns } = await demoPanelWithDns(t, 'mailhealth-audit-gone-');
  const db = join(dir, 'h.sqlite');
  const base = ['--panel', 'files', '--panel-root', panel, '--resolver', dns.address, '--authoritative-port', String(dns.port), '--db', db, '--concurrency', '1'];
  // plumber.example (bob's) leaves the panel once the run has started; dentist.example stays listed without its zone.
  const env = { MH_TEST_PANEL: panel, MH_TEST_REMOVE: 'plumber.example', MH_TEST_DROP_ZONE: 'dentist.example' };
  const r = await cli([...base, 'audit', '--all', '--json'], env);
  assert.equal(r.code, 1, r.stderr); // the demo's other domains fail on purpose
  const out = JSON.parse(r.stdout) as { domains: { domain: string; findings: { rule: string }[] }[]; gone: string[] };
  assert.deepEqual(out.gone, ['plumber.example']);
  assert.deepEqual(out.domains.map((d) => d.domain).sort(), ['bakery.example', 'clean.example', 'dentist.example', 'florist.example', 'lawyer.example']);
  assert.ok(out.domains.find((d) => d.domain === 'dentist.example')!.findings.some((f) => f.rule === 'dns.panel-zone-unreadable'), 'still listed: audited');

  const store = openStore(db);
  try {
    assert.equal(store.latestAudit('plumber.example'), null, 'no audit row (with fix advice) for the removed domain');
    assert.ok(store.latestAudit('dentist.example'));
    const run = store.listRuns({ kind: 'audit' })[0];
    assert.deepEqual([run.status, run.done], ['complete', 5]);
  } finally {
    store.close();
  }
});

test('audit --all (text): the removed domain is named as no longer on the server; nothing else fails because of it', { timeout: 120_000 }, async (t) => {
  const { dir, panel, dns } = await demoPanelWithDns(t, 'mailhealth-audit-gone-');
  const base = ['--panel', 'files', '--panel-root', panel, '--resolver', dns.address, '--authoritative-port', String(dns.port), '--db', join(dir, 'h.sqlite'), '--concurrency', '1'];
  // Only clean.example (which passes) stays: the run exits 0 although lawyer.example left the panel meanwhile.
  const r = await cli([...base, '--as', 'carol', 'audit', '--all'], { MH_TEST_PANEL: panel, MH_TEST_REMOVE: 'lawyer.example' });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^lawyer\.example {2}NO LONGER ON THE SERVER: removed from the panel during the run; not audited, nothing recorded$/m);
  assert.doesNotMatch(r.stdout, /lawyer\.example {2}FAIL/);
});
