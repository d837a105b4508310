// The CLI as a child process (node --import tsx src/cli/bin.ts): JSON shape, exit codes, usage errors writing nothing,
// --resolver, --as scoping, IDN, escaped human output, and the offline demo.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT } from '../helpers/corpora.js';
import { scenario, zoneText, type Scenario } from '../helpers/scenario.js';
import { CLI_ARGV } from '../helpers/cli-argv.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...CLI_ARGV, ...args],
      { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1', MAILHEALTH_DB: '', ...env }, maxBuffer: 32 * 1024 * 1024, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

interface JsonOut {
  generatedAt: string;
  domains: { domain: string; status: string; findings: { rule: string; severity: string; subject?: string; evidence: Record<string, unknown> }[] }[];
}

describe('mailhealth audit', () => {
  let s: Scenario;
  let tmp: string;
  let base: string[];
  const hostile = 'v=DMARC1; p=\x1b[2J\x1b]0;owned\x07<script>x</script>';
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'mailhealth-cli-'));
    s = await scenario({
      accounts: [
        { user: 'root', role: 'admin' },
        { user: 'alice', role: 'customer', domains: ['clean.test', 'bücher.example', 'hostile.test'] },
        { user: 'bob', role: 'customer', domains: ['bad.test'] },
      ],
      domains: {
        'clean.test': {},
        'xn--bcher-kva.example': {},
        'bad.test': { zone: zoneText({ spf: null }) },
        'hostile.test': { zone: zoneText({ dmarc: null }) },
      },
      extra: { '_dmarc.hostile.test': { TXT: [[hostile]] } },
    });
    base = ['--panel', 'files', '--panel-root', s.root, '--resolver', s.dns.address];
  });
  after(async () => {
    await s.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('--json: {generatedAt, domains:[{domain,status,findings}]}, exit 1 when something failed, history written', async () => {
    const db = join(tmp, 'json.sqlite');
    const r = await cli([...base, '--db', db, 'audit', 'clean.test', 'bad.test', '--json']);
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout) as JsonOut;
    assert.ok(!Number.isNaN(Date.parse(out.generatedAt)));
    assert.deepEqual(out.domains.map((d) => [d.domain, d.status]), [
      ['bad.test', 'fail'],
      ['clean.test', 'pass'],
    ]);
    for (const d of out.domains) {
      assert.deepEqual(Object.keys(d).filter((k) => ['domain', 'status', 'findings'].includes(k)).sort(), ['domain', 'findings', 'status']);
      for (const f of d.findings) assert.ok(f.rule && f.severity && f.evidence, JSON.stringify(f));
    }
    assert.ok(out.domains[0].findings.some((f) => f.rule === 'spf.missing' && f.severity === 'fail'));
    assert.ok(existsSync(db), 'the run is recorded');
  });

  test('exit 0 when nothing failed; --resolver 127.0.0.1:PORT is the DNS asked', async () => {
    const queries = s.dns.queries;
    const r = await cli([...base, 'audit', '--no-history', 'clean.test', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as JsonOut).domains[0].status, 'pass');
    assert.ok(s.dns.queries > queries, 'the loopback server was queried');
  });

  test('an IDN given in Unicode is audited by its A-label', async () => {
    const r = await cli([...base, 'audit', '--no-history', 'bücher.example', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as JsonOut).domains.map((d) => [d.domain, d.status]), [['xn--bcher-kva.example', 'pass']]);
  });

  test('--as scopes to the identity', async () => {
    const r = await cli([...base, '--as', 'alice', 'audit', '--no-history', '--all', '--json']);
    assert.equal(r.code, 1, r.stderr); // hostile.test fails (dmarc.syntax)
    assert.deepEqual((JSON.parse(r.stdout) as JsonOut).domains.map((d) => d.domain).sort(), ['clean.test', 'hostile.test', 'xn--bcher-kva.example']);
    const db = join(tmp, 'scope.sqlite');
    const denied = await cli([...base, '--db', db, '--as', 'alice', 'audit', 'bad.test']);
    assert.equal(denied.code, 2);
    assert.match(denied.stderr, /bad\.test is not a domain alice may see/);
    assert.equal(denied.stdout, '');
    assert.ok(!existsSync(db));
  });

  test('hostile TXT bytes: unchanged in JSON, escaped in human output', async () => {
    const j = await cli([...base, 'audit', '--no-history', 'hostile.test', '--json', '--evidence']);
    const f = (JSON.parse(j.stdout) as JsonOut).domains[0].findings.find((x) => x.rule === 'dmarc.syntax');
    assert.ok(f, j.stdout);
    assert.equal(f.subject, hostile);
    const h = await cli([...base, 'audit', '--no-history', 'hostile.test', '--evidence', '--verbose']);
    assert.equal(h.code, 1);
    assert.ok(h.stdout.includes('dmarc.syntax'));
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(h.stdout, /[\x00-\x08\x0b-\x1f\x7f]/, 'no control characters reach the terminal');
    assert.ok(h.stdout.includes('\\x1b'));
  });

  const usage: [string, string[], RegExp, string?][] = [
    ['unknown panel kind', ['--panel', 'nosuch', 'audit', 'clean.test'], /--panel must be one of/],
    ['missing --panel-root', ['--panel', 'files', 'audit', 'clean.test'], /needs --panel-root/],
    ['bad domain', ['audit', 'not a domain!'], /invalid domain name/],
    ['domain not in scope', ['audit', 'elsewhere.test'], /not a domain root may see/],
    ['no domain and no --all', ['audit'], /name one or more domains/],
    ['bad --concurrency', ['--concurrency', '0', 'audit', 'clean.test'], /--concurrency takes a whole number/],
    ['non-numeric --concurrency', ['--concurrency', 'lots', 'audit', 'clean.test'], /--concurrency/],
    ['bad --resolver port', ['--resolver', '127.0.0.1:99999', 'audit', 'clean.test'], /--resolver takes an IP address/],
    ['--resolver that is not an address', ['--resolver', 'not an ip', 'audit', 'clean.test'], /--resolver takes an IP address/],
    ['unknown --as account', ['--as', 'mallory', 'audit', 'clean.test'], /--as mallory/],
  ];
  for (const [name, args, msg, todo] of usage) {
    test(`usage error → exit 2, clear message, nothing written: ${name}`, todo ? { todo } : {}, async () => {
      const db = join(tmp, `usage-${name.replace(/\W+/g, '-')}.sqlite`);
      const needsRoot = !args.includes('--panel');
      const r = await cli([...(needsRoot ? ['--panel-root', s.root] : []), ...(args.includes('--resolver') ? [] : ['--resolver', s.dns.address]), '--db', db, ...args]);
      assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, msg);
      assert.match(r.stderr, /^mailhealth: /m);
      assert.equal(r.stdout, '', 'nothing on stdout');
      assert.ok(!existsSync(db), 'no database file created');
    });
  }
});

test('demo --audit-only --json runs offline and reports the demo domains', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mailhealth-demo-test-'));
  try {
    const r = await cli(['--db', join(tmp, 'demo.sqlite'), 'demo', '--audit-only', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as JsonOut;
    const status = Object.fromEntries(out.domains.map((d) => [d.domain, d.status]));
    assert.deepEqual(status, {
      'bakery.example': 'fail',
      'florist.example': 'fail',
      'dentist.example': 'fail',
      'lawyer.example': 'fail',
      'plumber.example': 'fail',
      'clean.example': 'pass',
    });
    const bakery = out.domains.find((d) => d.domain === 'bakery.example')!;
    const stale = bakery.findings.find((f) => f.rule === 'spf.stale-term' && f.subject === 'include:websitewelcome.com');
    assert.ok(stale, 'the HostGator leftover is found');
    assert.ok(!bakery.findings.some((f) => f.rule === 'spf.stale-term' && f.subject === 'include:_spf.google.com'), 'Google Workspace is kept');
    assert.match(r.stderr, /loopback only/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
