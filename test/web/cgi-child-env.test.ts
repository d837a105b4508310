// The root front doors run the panel's own tools (whmapi1 behind the WHM page) as children: what the browser sent must
// not reach them as environment variables (src/cli/commands/cgi.ts takeRequestEnv). A `Proxy:` header arrives in a CGI
// environment as HTTP_PROXY, which HTTP clients take as their proxy ("httpoxy"); QUERY_STRING, REQUEST_METHOD and
// REMOTE_USER are what a CGI-aware tool reads as its own request and user. The page is run as cpsrvd runs it: the
// `mailhealth cgi` command in a process of its own, the request in its environment, as root (the WHM door refuses
// anyone else), with a fake whmapi1 first on PATH that writes down the environment it was given.
import '../helpers/shared-settings.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCgi } from '../helpers/cgi.js';
import { installFakeBins, type FakeBins } from '../helpers/emulators/bins.js';
import { makeCpState } from '../helpers/emulators/cpanel.js';
import { takeRequestEnv } from '../../src/cli/commands/cgi.js';
import { CLI_ARGV } from '../helpers/cli-argv.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

/** What the browser chose, as cpsrvd hands it to the WHM page (plus cpsrvd's own variables). */
const REQUEST = {
  GATEWAY_INTERFACE: 'CGI/1.1',
  REQUEST_METHOD: 'GET',
  PATH_INFO: '/api/domains',
  QUERY_STRING: 'user=root&api.version=1',
  SCRIPT_NAME: '/cpsess0123456789/cgi/mailhealth/index.cgi',
  REMOTE_USER: 'root',
  REMOTE_ADDR: '203.0.113.9',
  SERVER_PORT: '2087',
  HTTPS: 'on',
  HTTP_ACCEPT: 'application/json',
  HTTP_PROXY: 'http://203.0.113.66:3128',
  HTTP_COOKIE: 'whostmgrsession=%3aSECRET',
  cp_security_token: '/cpsess0123456789',
};

describe('takeRequestEnv', () => {
  test('hands back the whole request and leaves only the process’s own variables behind', () => {
    const env: NodeJS.ProcessEnv = { PATH: '/usr/bin:/bin', HOME: '/root', MAILHEALTH_DB: '/x.sqlite', MAILHEALTH_ALLOWED_DOMAINS_FILE: '/v/scope', CPANEL_CONNECT_SOCKET: '/s', http_proxy: 'http://admin-proxy:3128', ...REQUEST };
    const request = takeRequestEnv(env);
    assert.deepEqual(request, { PATH: '/usr/bin:/bin', HOME: '/root', MAILHEALTH_DB: '/x.sqlite', MAILHEALTH_ALLOWED_DOMAINS_FILE: '/v/scope', CPANEL_CONNECT_SOCKET: '/s', http_proxy: 'http://admin-proxy:3128', ...REQUEST });
    // The front doors' own inputs (the Plesk scope file, the LiveAPI socket) are read from the copy; what the admin set
    // for the process (a lower-case proxy, the database) stays for the children as before.
    assert.deepEqual(env, { PATH: '/usr/bin:/bin', HOME: '/root', MAILHEALTH_DB: '/x.sqlite', MAILHEALTH_ALLOWED_DOMAINS_FILE: '/v/scope', CPANEL_CONNECT_SOCKET: '/s', http_proxy: 'http://admin-proxy:3128' });
  });
});

describe('WHM page (root): whmapi1 runs without the browser’s request in its environment', { skip: IS_ROOT ? false : 'the WHM door runs only as root (as cpsrvd runs it): not root here' }, () => {
  let dir = '';
  let bins: FakeBins;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailhealth-cgi-childenv-'));
    bins = installFakeBins(makeCpState());
    // whmapi1 first on PATH: writes the environment it was started with (one JSON object a line), then answers as the
    // emulator's.
    mkdirSync(join(dir, 'bin'));
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    writeFileSync(join(dir, 'bin/whmapi1'), `#!/bin/sh\n${q(process.execPath)} -p 'JSON.stringify(process.env)' >> ${q(join(dir, 'environ'))}\nexec ${q(bins.path('whmapi1'))} "$@"\n`);
    chmodSync(join(dir, 'bin/whmapi1'), 0o755);
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(bins.dir, { recursive: true, force: true });
  });

  function page(): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const p = spawn(process.execPath, [...CLI_ARGV, 'cgi', '--front-door', 'whm', '--panel', 'whm', '--db', join(dir, 'whm.sqlite'), '--server-root', join(dir, 'root')], {
        cwd: REPO,
        env: { PATH: `${join(dir, 'bin')}:${process.env.PATH}`, HOME: dir, MAILHEALTH_SHARED_SETTINGS: join(dir, 'shared-settings.json'), ...REQUEST },
      });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      p.stdin.end();
      p.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  test('the page answers, and no whmapi1 it ran saw HTTP_PROXY, the query, the method, REMOTE_USER or the session cookie', async () => {
    const r = await page();
    assert.equal(r.code, 0, r.stderr);
    const out = parseCgi(r.stdout);
    assert.equal(out.status, 200, out.text + r.stderr);
    assert.ok((JSON.parse(out.text) as unknown[]).length > 0, 'root sees the domains: the request itself reached the app');
    assert.ok(existsSync(join(dir, 'environ')), 'whmapi1 ran');
    const runs = readFileSync(join(dir, 'environ'), 'utf8').split('\n').filter(Boolean);
    assert.ok(runs.length > 0);
    for (const run of runs) {
      const names = Object.keys(JSON.parse(run) as Record<string, string>);
      assert.ok(names.includes('PATH'), 'the process’s own environment is kept');
      const leaked = names.filter((n) => n in REQUEST);
      assert.deepEqual(leaked, [], 'request variables in whmapi1’s environment');
      assert.doesNotMatch(run, /SECRET|203\.0\.113\.66/);
    }
  });
});
