// The Plesk shim (plugin-manifests/plesk/plib/controllers/IndexController.php) run for real under php-cli, with small
// stand-ins for the Plesk SDK classes it uses (test/fixtures/plesk-php/stubs.php). What it hands pm_ApiCli::callSbin
// is recorded at call time. A reseller's domain list must not travel in one environment variable: Linux limits one
// environment string to 128 KiB (MAX_ARG_STRLEN), and exec fails with E2BIG — the page would not open for a reseller
// with thousands of domains. It goes in a 0600 file in the extension's var dir, removed once the helper has answered.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONTROLLER = fileURLToPath(new URL('../../plugin-manifests/plesk/plib/controllers/IndexController.php', import.meta.url));
const RUNNER = fileURLToPath(new URL('../fixtures/plesk-php/run.php', import.meta.url));
const MAX_ARG_STRLEN = 128 * 1024;
const HAVE_PHP = spawnSync('php', ['-v'], { encoding: 'utf8' }).status === 0;

interface ScopeFileAtCall {
  path: string;
  exists: boolean;
  isFile: boolean;
  mode: string | null;
  content: string | null;
}
interface Call {
  name: string;
  args: string[];
  env: Record<string, string>;
  scopeFile: ScopeFileAtCall | null;
}
interface Run {
  calls: Call[];
  thrown: string | null;
  response: { code: number; headers: [string, string][]; body: string };
}

const ANSWER = 'Status: 200 OK\r\nContent-Type: application/json\r\nX-Test: yes\r\n\r\n[{"domain":"ok.example"}]';

describe('Plesk shim under php-cli: the domain list goes to the helper in a file, not in the environment', { skip: HAVE_PHP ? false : 'php is not installed: the Plesk controller is not run' }, () => {
  let dir = '';
  let n = 0;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailhealth-plesk-php-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** One appAction() with a fresh, empty var dir. */
  function run(scenario: { role: string; login: string; domains: string[]; access: number[]; throw?: boolean; server?: Record<string, string> }): Run & { varDir: string } {
    const varDir = join(dir, `var-${++n}`) + '/';
    mkdirSync(varDir, { recursive: true });
    const file = join(dir, `scenario-${n}.json`);
    writeFileSync(file, JSON.stringify({ ...scenario, varDir, answer: ANSWER }));
    const r = spawnSync('php', [RUNNER, CONTROLLER, file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    assert.equal(r.status, 0, `php: ${r.stdout.slice(0, 2000)}${r.stderr}`);
    return { ...(JSON.parse(r.stdout) as Run), varDir };
  }

  // 7,500 domains on the server (names of ~30 characters), 7,000 of them the reseller's: 7,000 × 31 bytes ≈ 212 KiB.
  const domains = Array.from({ length: 7500 }, (_, i) => `customer-site-${String(i).padStart(5, '0')}.example.net`);
  const access = domains.map((_, i) => i).filter((i) => i % 15 !== 7);

  function assertNoLongEnvString(call: Call): void {
    for (const [k, v] of Object.entries(call.env)) {
      const bytes = Buffer.byteLength(`${k}=${v}`) + 1;
      assert.ok(bytes <= MAX_ARG_STRLEN, `environment string ${k} is ${bytes} bytes: exec would fail with E2BIG (limit ${MAX_ARG_STRLEN})`);
    }
  }

  test('a reseller with 7,000 accessible domains: no environment string over 128 KiB; the file held exactly those names at call time and is gone afterwards', () => {
    assert.equal(access.length, 7000);
    const out = run({ role: 'reseller', login: 'res1', domains, access });
    assert.equal(out.thrown, null);
    assert.equal(out.calls.length, 1);
    const [call] = out.calls;
    assert.equal(call.name, 'mailhealth-v1');
    assert.deepEqual(call.args, ['--user', 'res1', '--role', 'reseller']);
    assertNoLongEnvString(call);
    assert.equal(call.env.MAILHEALTH_ALLOWED_DOMAINS, undefined, 'the list is not (also) in the environment');
    const f = call.scopeFile;
    assert.ok(f, 'MAILHEALTH_ALLOWED_DOMAINS_FILE names the list');
    assert.equal(dirname(f.path), out.varDir.replace(/\/$/, ''), "in the extension's var dir");
    assert.ok(f.exists && f.isFile, 'it exists while the helper runs');
    assert.equal(f.mode, '600');
    assert.deepEqual(f.content!.split('\n').filter(Boolean), access.map((i) => domains[i]), 'exactly the accessible names, one per line');
    assert.equal(existsSync(f.path), false, 'removed once the helper has answered');
    assert.deepEqual(readdirSync(out.varDir), [], 'nothing left in the var dir');
    // And the helper's answer reaches the page.
    assert.equal(out.response.code, 200, out.response.body);
    assert.equal(out.response.body, '[{"domain":"ok.example"}]');
    assert.ok(out.response.headers.some(([k, v]) => k === 'X-Test' && v === 'yes'));
  });

  test('a customer with two domains: the same file, just short', () => {
    const out = run({ role: 'customer', login: 'alice', domains: ['alice.example', 'carol.example', 'alice-shop.example'], access: [0, 2] });
    const [call] = out.calls;
    assert.deepEqual(call.args, ['--user', 'alice', '--role', 'customer']);
    assert.equal(call.env.MAILHEALTH_ALLOWED_DOMAINS, undefined);
    assert.ok(call.scopeFile?.isFile);
    assert.equal(call.scopeFile.content, 'alice.example\nalice-shop.example\n');
    assert.deepEqual(readdirSync(out.varDir), []);
    assert.equal(out.response.code, 200);
  });

  test('the file is removed even when callSbin throws', () => {
    const out = run({ role: 'reseller', login: 'res1', domains: domains.slice(0, 10), access: [1, 2, 3], throw: true });
    assert.equal(out.thrown, 'callSbin failed');
    assert.ok(out.calls[0].scopeFile?.isFile);
    assert.deepEqual(readdirSync(out.varDir), []);
  });

  test("the browser's Sec-Fetch-Site reaches the app (a link from another site checks nothing), and only when sent", () => {
    // Review: the shim passed on Accept, Cookie and X-CSRF-Token only, so a page opened from another site's link was
    // served as for a browser that sends no such header — it audited and took an audit token.
    for (const site of ['cross-site', 'same-origin']) {
      const out = run({ role: 'customer', login: 'alice', domains: ['alice.example'], access: [0], server: { HTTP_SEC_FETCH_SITE: site } });
      assert.equal(out.calls[0].env.HTTP_SEC_FETCH_SITE, site);
    }
    const none = run({ role: 'customer', login: 'alice', domains: ['alice.example'], access: [0] });
    assert.equal(none.calls[0].env.HTTP_SEC_FETCH_SITE, undefined);
  });

  test('an admin: no domain list at all (neither file nor variable)', () => {
    const out = run({ role: 'admin', login: 'admin', domains, access: [] });
    const [call] = out.calls;
    assert.deepEqual(call.args, ['--user', 'admin', '--role', 'admin']);
    assert.equal(call.env.MAILHEALTH_ALLOWED_DOMAINS_FILE, undefined);
    assert.equal(call.env.MAILHEALTH_ALLOWED_DOMAINS, undefined);
    assert.equal(call.scopeFile, null);
    assertNoLongEnvString(call);
    assert.deepEqual(readdirSync(out.varDir), []);
    assert.equal(out.response.code, 200);
  });
});
