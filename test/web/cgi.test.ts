// The panel front doors end to end: the cPanel page as a CGI with the environment cpsrvd sets (fake `uapi`, and the
// LiveAPI socket), the WHM page with REMOTE_USER of a reseller (fake `whmapi1`), the Plesk sbin helper with the
// arguments the PHP shim passes (Plesk emulator on loopback), and the background service behind a signed header.
// Each identity sees exactly its domains; forged identity headers from a browser are ignored.
import '../helpers/shared-settings.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import { installFakeBins } from '../helpers/emulators/bins.js';
import { fakeCpanelBins, noBody, parseCgi, scratchDir, startLiveApi, waitForSeen, type ParsedCgi } from '../helpers/cgi.js';
import { makeCpState, type CpState } from '../helpers/emulators/cpanel.js';
import { addPleskAlias, makePleskState, startPleskServer } from '../helpers/emulators/plesk.js';
import type { RunningServer } from '../helpers/emulators/cpanel.js';
import { runCgi, SERVICE_MAX_HEADER_BYTES } from '../../src/cli/commands/cgi.js';
import { PleskPanel, PleskRestCli } from '../../src/adapters/panels/plesk/index.js';
import { PanelHttpClient } from '../../src/adapters/panels/http.js';
import { createHmac } from 'node:crypto';
import { publishSharedSettings } from '../../src/cli/shared-settings.js';
import { userDbPath } from '../../src/adapters/store/path.js';
import { signIdentity, signedHeaderFrontDoor } from '../../src/web/identity.js';
import { startServer, type RunningServer as AppServer } from '../../src/web/server.js';
import { WhmCli, WhmPanel } from '../../src/adapters/panels/whm/index.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { createResolver } from '../../src/adapters/dns/resolver.js';
import { cgiRequestFromEnv, narrowByIdentity, rebase } from '../../src/web/cgi.js';
import { CLI_ARGV, TEST_BUILD } from '../helpers/cli-argv.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const HELPER = join(REPO, 'plugin-manifests/plesk/sbin/mailhealth-v1');

const ALICE = ['alice-shop.example', 'alice.example', 'blog.alice.example'];
const RES1 = ['alice-shop.example', 'alice.example', 'blog.alice.example', 'bob.example', 'res1.example'];
const ALL = [...RES1, 'carol.example'].sort();

const domainsOf = (p: ParsedCgi) => p.json<{ domain: string }[]>().map((d) => d.domain).sort();
const forged = { HTTP_X_MAILHEALTH_IDENTITY: signIdentity('not-the-key-not-the-key-not-the-key', { user: 'root', role: 'admin' }), HTTP_X_REMOTE_USER: 'root', HTTP_AUTHORIZATION: 'Bearer whatever' };

const scratch = scratchDir('mailhealth-cgi-test-');

describe('cPanel page (.live.cgi as the cPanel user)', () => {
  const bins = fakeCpanelBins(scratch);
  const cpsrvdEnv = (extra: Record<string, string> = {}) => ({
    REQUEST_METHOD: 'GET',
    PATH_INFO: '/api/domains',
    QUERY_STRING: '',
    SCRIPT_NAME: '/cpsess0123456789/frontend/jupiter/mailhealth/index.live.cgi',
    REMOTE_USER: 'alice',
    HTTP_ACCEPT: 'application/json',
    HTTP_COOKIE: 'cpsession=alice%3aabc; timezone=UTC',
    HTTPS: 'on',
    cp_security_token: '/cpsess0123456789',
    ...extra,
  });
  const alice = () => ({ user: 'alice', uid: 1001, home: join(scratch.dir, 'home-alice') });

  test("the admin's settings, published by the service, apply on the customer's page (its own database cannot see root's)", async (t) => {
    const shared = join(scratch.dir, 'shared-settings.json');
    const prev = process.env.MAILHEALTH_SHARED_SETTINGS;
    process.env.MAILHEALTH_SHARED_SETTINGS = shared;
    t.after(() => (prev === undefined ? delete process.env.MAILHEALTH_SHARED_SETTINGS : (process.env.MAILHEALTH_SHARED_SETTINGS = prev)));
    const root = openStore(join(scratch.dir, 'root-settings.sqlite'));
    root.setSettings({ 'mailchannels.accountId': 'realmc', 'audit.blocklists': true });
    publishSharedSettings(root);
    root.close();
    assert.equal(statSync(shared).mode & 0o777, 0o644);
    assert.equal(parseCgi(await runCgi('cpanel', { frontDoor: 'cpanel' }, cpsrvdEnv({ PATH_INFO: '/api/me' }), noBody(), alice())).status, 200);
    const mine = openStore(userDbPath(alice().home));
    try {
      assert.equal(mine.getSetting('mailchannels.accountId'), 'realmc');
      assert.equal(mine.getSetting('audit.blocklists'), true);
    } finally {
      mine.close();
    }
    // Cleared by the admin → cleared on the page too; a malformed value is ignored.
    writeFileSync(shared, JSON.stringify({ 'mailchannels.accountId': 'bad id; x', 'audit.blocklists': false }));
    assert.equal(parseCgi(await runCgi('cpanel', { frontDoor: 'cpanel' }, cpsrvdEnv({ PATH_INFO: '/api/me' }), noBody(), alice())).status, 200);
    const again = openStore(userDbPath(alice().home));
    try {
      assert.equal(again.getSetting('mailchannels.accountId'), undefined);
      assert.equal(again.getSetting('audit.blocklists'), false);
    } finally {
      again.close();
    }
  });

  test('sees exactly its own domains through its own UAPI; history in its home', async () => {
    const out = parseCgi(await runCgi('cpanel', { frontDoor: 'cpanel' }, cpsrvdEnv(), noBody(), alice()));
    assert.equal(out.status, 200, out.text);
    assert.deepEqual(domainsOf(out), ALICE);
    const me = parseCgi(await runCgi('cpanel', { frontDoor: 'cpanel' }, cpsrvdEnv({ PATH_INFO: '/api/me' }), noBody(), alice()));
    assert.match(me.text, /"user":"alice"/);
    assert.match(me.text, /"role":"customer"/);
    // the session cookie is scoped to the page and Secure under HTTPS
    const cookie = me.header('set-cookie') ?? '';
    assert.match(cookie, /Path=\/cpsess0123456789\/frontend\/jupiter\/mailhealth\/index\.live\.cgi/);
    assert.match(cookie, /Secure/);
    const { existsSync, statSync } = await import('node:fs');
    const db = join(scratch.dir, 'home-alice/.local/share/mailhealth/mailhealth.sqlite');
    assert.ok(existsSync(db), 'history database in the user home');
    assert.equal(statSync(db).mode & 0o077, 0, 'database not readable by others');
  });

  test('a forged identity header (signed with the wrong key), X-Remote-User or Authorization changes nothing', async () => {
    const out = parseCgi(await runCgi('cpanel', { frontDoor: 'cpanel' }, cpsrvdEnv(forged), noBody(), alice()));
    assert.equal(out.status, 200, out.text);
    assert.deepEqual(domainsOf(out), ALICE);
  });

  test('refused: REMOTE_USER is not the OS user, missing, or the page runs as root', async () => {
    const other = parseCgi(await runCgi('cpanel', { frontDoor: 'cpanel' }, cpsrvdEnv({ REMOTE_USER: 'bob' }), noBody(), alice()));
    assert.equal(other.status, 403);
    assert.match(other.text, /REMOTE_USER/);
    const env = cpsrvdEnv();
    delete (env as Record<string, string | undefined>).REMOTE_USER;
    assert.equal(parseCgi(await runCgi('cpanel', { frontDoor: 'cpanel' }, env, noBody(), alice())).status, 403);
    assert.equal(parseCgi(await runCgi('cpanel', { frontDoor: 'cpanel' }, cpsrvdEnv({ REMOTE_USER: 'root' }), noBody(), { user: 'root', uid: 0, home: scratch.dir })).status, 403);
  });

  test('HTML links, redirects and assets are re-based under the page URL', async () => {
    const page = parseCgi(await runCgi('cpanel', { frontDoor: 'cpanel' }, cpsrvdEnv({ PATH_INFO: '/domains', HTTP_ACCEPT: 'text/html' }), noBody(), alice()));
    assert.equal(page.status, 200, page.text.slice(0, 300));
    assert.match(page.text, /href="\/cpsess0123456789\/frontend\/jupiter\/mailhealth\/index\.live\.cgi\/assets\/app\.css"/);
    assert.doesNotMatch(page.text, /href="\/domains"/);
    assert.equal(Number(page.header('content-length')), Buffer.byteLength(page.text));
    const css = parseCgi(await runCgi('cpanel', { frontDoor: 'cpanel' }, cpsrvdEnv({ PATH_INFO: '/assets/app.css', HTTP_ACCEPT: 'text/css' }), noBody(), alice()));
    assert.equal(css.status, 200);
  });

  test('POST with the session CSRF token reaches the app; without it, 403', async () => {
    const first = parseCgi(await runCgi('cpanel', { frontDoor: 'cpanel' }, cpsrvdEnv({ PATH_INFO: '/domains', HTTP_ACCEPT: 'text/html' }), noBody(), alice()));
    const cookie = (first.header('set-cookie') ?? '').split(';')[0];
    const csrf = /name="_csrf" value="([^"]+)"/.exec(first.text)?.[1] ?? /name="csrf-token" content="([^"]+)"/.exec(first.text)?.[1];
    assert.ok(csrf, 'page carries a CSRF token');
    const body = Buffer.from(new URLSearchParams({ _csrf: csrf! }).toString());
    // A route that does not exist: past the CSRF check it is a 404; stopped by it, a 403.
    const env = cpsrvdEnv({ REQUEST_METHOD: 'POST', PATH_INFO: '/api/no-such-thing', CONTENT_TYPE: 'application/x-www-form-urlencoded', CONTENT_LENGTH: String(body.length), HTTP_COOKIE: cookie });
    const ok = parseCgi(await runCgi('cpanel', { frontDoor: 'cpanel' }, env, Readable.from([body]), alice()));
    assert.equal(ok.status, 404, ok.text);
    const bad = Buffer.from('_csrf=nope');
    const denied = parseCgi(await runCgi('cpanel', { frontDoor: 'cpanel' }, { ...env, CONTENT_LENGTH: String(bad.length) }, Readable.from([bad]), alice()));
    assert.equal(denied.status, 403);
  });

  test('through the LiveAPI socket cpsrvd provides (CPANEL_CONNECT_SOCKET framing)', async () => {
    const state: CpState = makeCpState();
    const live = await startLiveApi(scratch.dir, state, 'alice');
    const { sock, seen } = live;
    try {
      process.env.PATH = scratch.path; // no fake uapi: LiveAPI only
      const out = parseCgi(await runCgi('cpanel', { frontDoor: 'cpanel' }, cpsrvdEnv({ CPANEL_CONNECT_SOCKET: sock }), noBody(), alice()));
      assert.equal(out.status, 200, out.text);
      assert.deepEqual(domainsOf(out), ALICE);
      assert.equal(seen[0], 'enable');
      await waitForSeen(seen, 'shutdown');
      assert.ok(seen.includes('shutdown'), 'LiveAPI session closed');
    } finally {
      process.env.PATH = `${bins.dir}:${scratch.path}`;
      await live.close();
    }
  });

  test('the real command, run as an unprivileged OS user like cpsrvd does', async (t) => {
    const nobody = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' });
    if (process.getuid?.() !== 0 || nobody.status !== 0) return t.skip('needs root to start a process as "nobody"');
    const uid = Number(nobody.stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).stdout.trim());
    const state = makeCpState();
    state.accounts.find((a) => a.user === 'alice')!.user = 'nobody';
    const own = installFakeBins({ ...state, cliUser: 'nobody' });
    const work = mkdtempSync(join(tmpdir(), 'mailhealth-cgi-nobody-'));
    chmodSync(work, 0o777);
    chmodSync(own.dir, 0o777);
    chmodSync(own.stateFile, 0o666);
    try {
      const run = (env: Record<string, string>) =>
        new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
          const p = spawn(process.execPath, [...CLI_ARGV, 'cgi', '--front-door', 'cpanel', '--db', join(work, 'db/mailhealth.sqlite')], {
            cwd: REPO,
            uid,
            gid,
            env: { PATH: `${own.dir}:${scratch.path}`, HOME: work, TMPDIR: work, REQUEST_METHOD: 'GET', PATH_INFO: '/api/domains', HTTP_ACCEPT: 'application/json', ...env },
          });
          let out = '';
          let err = '';
          p.stdout.on('data', (d) => (out += d));
          p.stderr.on('data', (d) => (err += d));
          p.stdin.end();
          p.on('close', (code) => resolve({ code, out, err }));
        });
      const r = await run({ REMOTE_USER: 'nobody', ...forged });
      if (r.code !== 0 && /EACCES|permission denied/i.test(r.err)) return t.skip(`the checkout is not readable by nobody: ${r.err.slice(0, 200)}`);
      const parsed = parseCgi(r.out);
      assert.equal(parsed.status, 200, r.err + parsed.text);
      assert.deepEqual(domainsOf(parsed), ALICE.map((d) => d));
      const wrong = parseCgi((await run({ REMOTE_USER: 'alice' })).out);
      assert.equal(wrong.status, 403);
    } finally {
      rmSync(work, { recursive: true, force: true });
      rmSync(own.dir, { recursive: true, force: true });
    }
  });
});

describe('WHM page (AppConfig, root with REMOTE_USER)', () => {
  const bins = fakeCpanelBins(scratch);
  let root: string;
  before(() => {
    root = join(scratch.dir, 'whm-root');
    mkdirSync(join(root, 'var/cpanel'), { recursive: true });
    // The privileges the page needs (src/web/cgi.ts WHM_RESELLER_ACLS); test/web/cgi-frontdoor.test.ts covers the rest.
    writeFileSync(join(root, 'var/cpanel/resellers'), 'res1:list-accts,edit-dns,create-acct\n');
  });
  const whmEnv = (user: string, extra: Record<string, string> = {}) => ({ REQUEST_METHOD: 'GET', PATH_INFO: '/api/domains', REMOTE_USER: user, HTTP_ACCEPT: 'application/json', SCRIPT_NAME: '/cpsess99/cgi/mailhealth/index.cgi', ...extra });
  const rootOs = { user: 'root', uid: 0, home: '/root' };
  const opts = () => ({ frontDoor: 'whm', serverRoot: root, db: join(scratch.dir, 'whm.sqlite') });

  test('a reseller sees exactly its accounts’ domains (WHM listaccts owners)', async () => {
    const out = parseCgi(await runCgi('whm', opts(), whmEnv('res1'), noBody(), rootOs));
    assert.equal(out.status, 200, out.text);
    assert.deepEqual(domainsOf(out), RES1);
  });

  test('root is the admin and sees every domain', async () => {
    const out = parseCgi(await runCgi('whm', opts(), whmEnv('root'), noBody(), rootOs));
    assert.equal(out.status, 200, out.text);
    assert.deepEqual(domainsOf(out), ALL);
  });

  test('forged headers do not lift a reseller to admin', async () => {
    const out = parseCgi(await runCgi('whm', opts(), whmEnv('res1', forged), noBody(), rootOs));
    assert.deepEqual(domainsOf(out), RES1);
  });

  test('handled here (no service): the bulk page offers no bulk audit, and one is refused without starting a job', async () => {
    const page = parseCgi(await runCgi('whm', opts(), whmEnv('res1', { PATH_INFO: '/bulk', HTTP_ACCEPT: 'text/html' }), noBody(), rootOs));
    assert.equal(page.status, 200, page.text.slice(0, 300));
    assert.doesNotMatch(page.text, /action="[^"]*\/bulk\/audit"/);
    assert.match(page.text, /need the mailhealth background service/);
    const cookie = (page.header('set-cookie') ?? '').split(';')[0];
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1];
    const body = Buffer.from(`_csrf=${encodeURIComponent(csrf)}`);
    const post = parseCgi(
      await runCgi(
        'whm',
        opts(),
        whmEnv('res1', { REQUEST_METHOD: 'POST', PATH_INFO: '/bulk/audit', HTTP_ACCEPT: 'text/html', HTTP_COOKIE: cookie, CONTENT_TYPE: 'application/x-www-form-urlencoded', CONTENT_LENGTH: String(body.length) }),
        Readable.from([body]),
        rootOs,
      ),
    );
    assert.equal(post.status, 503, post.text.slice(0, 300));
    assert.match(post.text, /need the mailhealth background service/);
    const store = openStore(join(scratch.dir, 'whm.sqlite'));
    try {
      assert.deepEqual(store.listJobs('res1', 10), [], 'no job row');
    } finally {
      store.close();
    }
  });

  test('refused: a customer login, a user missing from /var/cpanel/resellers or without its ACLs, no REMOTE_USER, not started as root', async () => {
    assert.equal(parseCgi(await runCgi('whm', opts(), whmEnv('alice'), noBody(), rootOs)).status, 403);
    writeFileSync(join(root, 'var/cpanel/resellers'), 'someoneelse:all\n');
    assert.equal(parseCgi(await runCgi('whm', opts(), whmEnv('res1'), noBody(), rootOs)).status, 403);
    writeFileSync(join(root, 'var/cpanel/resellers'), 'res1:list-accts,create-acct\n');
    const acl = parseCgi(await runCgi('whm', opts(), whmEnv('res1'), noBody(), rootOs));
    assert.equal(acl.status, 403, 'listed, but without the "Edit DNS Zones" privilege (edit-dns) the page would use for it');
    assert.match(acl.text, /edit-dns/);
    writeFileSync(join(root, 'var/cpanel/resellers'), 'res1:list-accts,edit-dns,create-acct\n');
    assert.equal(parseCgi(await runCgi('whm', opts(), whmEnv(''), noBody(), rootOs)).status, 403);
    assert.equal(parseCgi(await runCgi('whm', opts(), whmEnv('root'), noBody(), { user: 'res1', uid: 1000, home: '/home/res1' })).status, 403);
  });
});

describe('Plesk sbin helper (pm_ApiCli::callSbin from the PHP shim)', () => {
  let plesk: RunningServer;
  let config: string;
  const state = makePleskState();
  // The helper runs `dist/` when MAILHEALTH_HOME has a build (a stale one would test old code): point it at this
  // run's build (scripts/test.mjs, MAILHEALTH_TEST_BUILD) as dist/ beside bin/, else at the source through a checkout
  // without dist/ (symlinks).
  let appHome: string;
  before(async () => {
    appHome = join(scratch.dir, 'plesk-app');
    mkdirSync(appHome);
    if (TEST_BUILD) {
      // bin/ copied, not linked: node resolves a linked entry point to its real path, whose ../dist is the checkout's.
      cpSync(join(REPO, 'bin'), join(appHome, 'bin'), { recursive: true });
      for (const e of ['node_modules', 'package.json']) symlinkSync(join(REPO, e), join(appHome, e));
      symlinkSync(TEST_BUILD, join(appHome, 'dist'));
    } else for (const e of ['src', 'node_modules', 'package.json', 'tsconfig.json']) symlinkSync(join(REPO, e), join(appHome, e));
    plesk = await startPleskServer(state);
    config = join(scratch.dir, 'plesk-config.json');
    writeFileSync(config, JSON.stringify({ panel: 'plesk', panelUrl: plesk.url, token: state.apiKey }), { mode: 0o600 });
  });
  after(() => plesk.close());

  /** What callSbin does: run sbin/mailhealth-v1 with argv items, the CGI variables as env and the body on stdin. */
  function callSbin(args: string[], env: Record<string, string>, stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const p = spawn(HELPER, args, {
        env: {
          PATH: scratch.path ?? '/usr/bin:/bin',
          MAILHEALTH_HOME: appHome,
          MAILHEALTH_NODE: process.execPath,
          MAILHEALTH_CONFIG: config,
          MAILHEALTH_DB: join(scratch.dir, 'plesk.sqlite'),
          MAILHEALTH_SOCKET: join(scratch.dir, 'no-service.sock'),
          REQUEST_METHOD: 'GET',
          PATH_INFO: '/api/domains',
          HTTP_ACCEPT: 'application/json',
          SCRIPT_NAME: '/modules/mailhealth/index.php/index/app',
          ...env,
        },
      });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      p.stdin.on('error', () => undefined); // the helper may refuse before reading stdin
      p.stdin.end(stdin);
      p.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  test('customer: its own domains, narrowed to what pm_Session said it may access', async () => {
    const r = await callSbin(['--user', 'alice', '--role', 'customer'], { MAILHEALTH_ALLOWED_DOMAINS: 'alice.example,alice-shop.example', ...forged });
    assert.equal(r.code, 0, r.stderr);
    const out = parseCgi(r.stdout);
    assert.equal(out.status, 200, out.text + r.stderr);
    assert.deepEqual(domainsOf(out), ['alice-shop.example', 'alice.example']);
    const narrowed = parseCgi((await callSbin(['--user', 'alice', '--role', 'customer'], { MAILHEALTH_ALLOWED_DOMAINS: 'alice.example,carol.example' })).stdout);
    assert.deepEqual(domainsOf(narrowed), ['alice.example'], 'the shim cannot widen the panel scope, only narrow it');
  });

  test('customer: the list in a file (MAILHEALTH_ALLOWED_DOMAINS_FILE, one name per line) narrows as the variable does, however long', async () => {
    // 7,000 names of ~30 characters (~210 KiB: more than one environment string may hold), alice.example among them.
    const names = Array.from({ length: 6999 }, (_, i) => `customer-site-${String(i).padStart(5, '0')}.example.net`);
    names.splice(3500, 0, 'alice.example');
    const list = join(scratch.dir, 'plesk-scope-7000');
    writeFileSync(list, names.join('\n') + '\n', { mode: 0o600 });
    assert.ok(Buffer.byteLength(names.join(',')) > 128 * 1024);
    const r = await callSbin(['--user', 'alice', '--role', 'customer'], { MAILHEALTH_ALLOWED_DOMAINS_FILE: list, ...forged });
    assert.equal(r.code, 0, r.stderr);
    const out = parseCgi(r.stdout);
    assert.equal(out.status, 200, out.text + r.stderr);
    assert.deepEqual(domainsOf(out), ['alice.example'], 'only those of her domains the file lists');
    // The file wins over the older variable (still read when no file is named).
    const both = parseCgi((await callSbin(['--user', 'alice', '--role', 'customer'], { MAILHEALTH_ALLOWED_DOMAINS_FILE: list, MAILHEALTH_ALLOWED_DOMAINS: 'alice.example,alice-shop.example' })).stdout);
    assert.deepEqual(domainsOf(both), ['alice.example']);
  });

  test('customer: a list file that cannot be read fails closed (an error, never the unnarrowed scope)', async () => {
    for (const bad of [join(scratch.dir, 'no-such-scope-file'), scratch.dir, '']) {
      for (const extra of [{}, { MAILHEALTH_ALLOWED_DOMAINS: 'alice.example,alice-shop.example' }] as Record<string, string>[]) {
        const r = await callSbin(['--user', 'alice', '--role', 'customer'], { MAILHEALTH_ALLOWED_DOMAINS_FILE: bad, ...extra });
        assert.equal(r.code, 0, r.stderr);
        const out = parseCgi(r.stdout);
        assert.equal(out.status, 500, `${JSON.stringify(bad)}: ${out.text}`);
        assert.match(out.text, /could not read the list of domains Plesk allows this user/);
        assert.doesNotMatch(out.text, /alice|\.example/, 'no domains listed');
      }
    }
  });

  test("customer: a domain alias is in scope when its domain is (pm_Domain's list, which the shim sends, has no aliases)", async () => {
    const alias = addPleskAlias(state, 'alice.example', { name: 'alice-alias.example' });
    try {
      const r = parseCgi((await callSbin(['--user', 'alice', '--role', 'customer'], { MAILHEALTH_ALLOWED_DOMAINS: 'alice.example,alice-shop.example' })).stdout);
      assert.deepEqual(domainsOf(r), ['alice-alias.example', 'alice-shop.example', 'alice.example']);
      const narrowed = parseCgi((await callSbin(['--user', 'alice', '--role', 'customer'], { MAILHEALTH_ALLOWED_DOMAINS: 'alice-shop.example' })).stdout);
      assert.deepEqual(domainsOf(narrowed), ['alice-shop.example'], 'not when its domain is not');
    } finally {
      state.aliases.splice(state.aliases.indexOf(alias), 1);
      state.records = state.records.filter((x) => x.domain_id !== alias.id);
    }
  });

  // The narrowed scope (Plesk's domain list) kept such requests out of the background service, which knew only
  // {user, role}: a Plesk reseller or customer got no bulk audits at all ("not available here"). The list now goes
  // signed with the identity, and the service narrows the same way; a long list fits the service's header room.
  test('a narrowed request goes to the service with its domain list signed; the service narrows the same way, also with 7,000 names', async (t) => {
    const sock = join(scratch.dir, 'plesk-svc.sock');
    const keyFile = join(scratch.dir, 'plesk-frontdoor.key');
    const key = 'p'.repeat(48);
    writeFileSync(keyFile, key + '\n', { mode: 0o600 });
    const svcStore = openStore(join(scratch.dir, 'plesk-svc.sqlite'));
    const base = new PleskPanel({ rest: new PanelHttpClient({ baseUrl: plesk.url, label: 'Plesk', headers: { 'x-api-key': state.apiKey } }), apiKey: state.apiKey, cli: new PleskRestCli(new PanelHttpClient({ baseUrl: plesk.url, label: 'Plesk', headers: { 'x-api-key': state.apiKey } })), root: null });
    const svc = await startServer({
      panel: narrowByIdentity(base),
      store: svcStore,
      makeResolver: () => createResolver({ servers: ['127.0.0.1:9'], timeoutMs: 200, tries: 1 }),
      identityFrom: 'front-door',
      frontDoor: signedHeaderFrontDoor(Buffer.from(key)),
      host: sock,
      port: 0,
      maxHeaderSize: SERVICE_MAX_HEADER_BYTES,
    });
    t.after(async () => {
      await svc.close();
      svcStore.close();
    });
    const unused = join(scratch.dir, 'plesk-narrow-unused.sqlite');
    const ask = async (allowed: string) => {
      const list = join(scratch.dir, 'plesk-scope.txt');
      writeFileSync(list, allowed);
      return parseCgi(
        await runCgi(
          'plesk',
          { frontDoor: 'plesk', user: 'res1', role: 'reseller', service: sock, key: keyFile, config, db: unused },
          { REQUEST_METHOD: 'GET', PATH_INFO: '/api/domains', HTTP_ACCEPT: 'application/json', MAILHEALTH_ALLOWED_DOMAINS_FILE: list },
          noBody(),
          { user: 'root', uid: 0, home: '/root' },
        ),
      );
    };
    const out = await ask('alice.example\nbob.example\ncarol.example\n');
    assert.equal(out.status, 200, out.text);
    assert.deepEqual(domainsOf(out), ['alice.example', 'bob.example'], 'narrowed (carol.example is not res1’s: the list cannot widen)');
    assert.ok(!existsSync(unused), 'handled by the service, not in-process');
    // 7,000 names (~200 KB signed): the service still answers, narrowed.
    const many = Array.from({ length: 7000 }, (_, i) => `customer-domain-number-${i}.example`).concat(['alice-shop.example']).join('\n');
    const big = await ask(many);
    assert.equal(big.status, 200, big.text.slice(0, 300));
    assert.deepEqual(domainsOf(big), ['alice-shop.example']);
    assert.ok(!existsSync(unused));
    // A list beyond the service's header room (QA: 300,000 names gave a blank 431 page) is handled in-process.
    const huge = Array.from({ length: 300_000 }, (_, i) => `customer-domain-number-${i}.example`).concat(['bob.example']).join('\n');
    const local = await ask(huge);
    assert.equal(local.status, 200, local.text.slice(0, 300));
    assert.deepEqual(domainsOf(local), ['bob.example']);
    assert.ok(existsSync(unused), 'handled in-process');
    // A bulk audit is available there (the in-process page refused it for a narrowed identity).
    const page = parseCgi(
      await runCgi('plesk', { frontDoor: 'plesk', user: 'res1', role: 'reseller', service: sock, key: keyFile, config, db: unused }, { REQUEST_METHOD: 'GET', PATH_INFO: '/bulk', HTTP_ACCEPT: 'text/html', MAILHEALTH_ALLOWED_DOMAINS: 'alice.example' }, noBody(), { user: 'root', uid: 0, home: '/root' }),
    );
    assert.equal(page.status, 200, page.text.slice(0, 300));
    assert.match(page.text, /action="[^"]*\/bulk\/audit"/);
    assert.doesNotMatch(page.text, /not available here|need the mailhealth background service/);
  });

  test('a forged or malformed domain list in a signed identity gives no identity (never the wider scope)', async () => {
    const fd = signedHeaderFrontDoor(Buffer.from('k'.repeat(40)));
    const req = (identity: string) => ({ headers: { 'x-mailhealth-identity': identity } }) as unknown as Parameters<typeof fd>[0];
    assert.deepEqual(await fd(req(signIdentity('k'.repeat(40), { user: 'res1', role: 'reseller', allowed: ['alice.example'] }))), { user: 'res1', role: 'reseller', allowed: ['alice.example'] });
    const payload = Buffer.from(JSON.stringify({ user: 'res1', role: 'reseller', exp: Math.floor(Date.now() / 1000) + 60, allowed: 'alice.example' })).toString('base64url');
    const mac = createHmac('sha256', Buffer.from('k'.repeat(40))).update(payload).digest('base64url');
    assert.equal(await fd(req(`${payload}.${mac}`)), null, 'allowed not a list: refused');
  });

  test('reseller and admin', async () => {
    const res = parseCgi((await callSbin(['--user', 'res1', '--role', 'reseller'], {})).stdout);
    assert.deepEqual(domainsOf(res), ['alice-shop.example', 'alice.example', 'bob.example', 'res1.example']);
    const admin = parseCgi((await callSbin(['--user', 'admin', '--role', 'admin'], {})).stdout);
    assert.deepEqual(domainsOf(admin), ['alice-shop.example', 'alice.example', 'bob.example', 'carol.example', 'res1.example']);
  });

  test('a role the panel does not give that login gets no identity; bad arguments are refused', async () => {
    const lying = parseCgi((await callSbin(['--user', 'alice', '--role', 'admin'], {})).stdout);
    assert.equal(lying.status, 401, 'alice is not an admin in Plesk');
    for (const args of [['--user', 'alice'], ['--user', '-x', '--role', 'customer'], ['--user', 'a b', '--role', 'customer'], ['--user', 'alice', '--role', 'root'], ['--user', 'alice', '--role', 'customer', '--db', '/tmp/x']]) {
      const r = await callSbin(args, {});
      assert.equal(r.code, 64, `${args.join(' ')}: ${r.stderr}`);
    }
  });
});

describe('background service (root-only socket, signed identity)', () => {
  const bins = fakeCpanelBins(scratch);
  let svc: AppServer;
  let store: Store;
  let sock: string;
  let keyFile: string;
  const key = 'k'.repeat(16) + 'front-door-key-for-tests-0123456789';
  before(async () => {
    sock = join(scratch.dir, 'svc.sock');
    keyFile = join(scratch.dir, 'frontdoor.key');
    writeFileSync(keyFile, key + '\n', { mode: 0o600 });
    // The WHM page's /var/cpanel/resellers: without it only root would get in (src/web/cgi.ts whmIdentity).
    mkdirSync(join(scratch.dir, 'svc-root/var/cpanel'), { recursive: true });
    writeFileSync(join(scratch.dir, 'svc-root/var/cpanel/resellers'), 'res1:list-accts,edit-dns\n');
    store = openStore(join(scratch.dir, 'svc.sqlite'));
    const panel = new WhmPanel({ transport: new WhmCli(), user: 'root', root: null });
    svc = await startServer({ panel, store, makeResolver: () => createResolver({ servers: ['127.0.0.1:9'], timeoutMs: 200, tries: 1 }), identityFrom: 'front-door', frontDoor: signedHeaderFrontDoor(Buffer.from(key)), host: sock, port: 0 });
  });
  after(async () => {
    await svc.close();
    store.close();
  });
  const direct = (headers: Record<string, string>) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const r = http.request({ socketPath: sock, path: '/api/domains', headers: { accept: 'application/json', ...headers } }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      r.on('error', reject);
      r.end();
    });

  test('a header signed with another key, or an expired one, gives no identity', async () => {
    assert.equal((await direct({ 'x-mailhealth-identity': signIdentity('another-key-another-key-another-key', { user: 'root', role: 'admin' }) })).status, 401);
    assert.equal((await direct({ 'x-mailhealth-identity': signIdentity(key, { user: 'root', role: 'admin' }, -10) })).status, 401);
    assert.equal((await direct({ 'x-remote-user': 'root' })).status, 401);
    const good = await direct({ 'x-mailhealth-identity': signIdentity(key, { user: 'res1', role: 'reseller' }) });
    assert.equal(good.status, 200);
  });

  test('the WHM page hands the request to the service with the signed identity of REMOTE_USER', async () => {
    const out = parseCgi(
      await runCgi('whm', { frontDoor: 'whm', service: sock, key: keyFile, db: join(scratch.dir, 'unused.sqlite'), serverRoot: join(scratch.dir, 'svc-root') }, { REQUEST_METHOD: 'GET', PATH_INFO: '/api/domains', REMOTE_USER: 'res1', HTTP_ACCEPT: 'application/json', ...forged }, noBody(), { user: 'root', uid: 0, home: '/root' }),
    );
    assert.equal(out.status, 200, out.text);
    assert.deepEqual(domainsOf(out), RES1);
    const { existsSync } = await import('node:fs');
    assert.ok(!existsSync(join(scratch.dir, 'unused.sqlite')), 'handled by the service, not in-process');
  });

  test('a key file others can read is refused', async () => {
    chmodSync(keyFile, 0o644);
    try {
      const out = parseCgi(await runCgi('whm', { frontDoor: 'whm', service: sock, key: keyFile, db: join(scratch.dir, 'fallback.sqlite'), serverRoot: join(scratch.dir, 'svc-root') }, { REQUEST_METHOD: 'GET', PATH_INFO: '/api/domains', REMOTE_USER: 'res1', HTTP_ACCEPT: 'application/json' }, noBody(), { user: 'root', uid: 0, home: '/root' }));
      // falls back to handling the request in-process (same scope), never to trusting the key
      assert.deepEqual(domainsOf(out), RES1);
    } finally {
      chmodSync(keyFile, 0o600);
    }
  });
});

describe('CGI plumbing', () => {
  test('HTTP_* become headers, identity-carrying ones are dropped, the body is cut at CONTENT_LENGTH', () => {
    const r = cgiRequestFromEnv({ REQUEST_METHOD: 'post', PATH_INFO: '/domains/a b.example', QUERY_STRING: 'x=1', CONTENT_TYPE: 'text/plain', CONTENT_LENGTH: '3', HTTP_X_CSRF_TOKEN: 't', ...forged }, Buffer.from('abcdef'));
    assert.equal(r.method, 'POST');
    assert.equal(r.path, '/domains/a%20b.example');
    assert.equal(r.body.toString(), 'abc');
    assert.equal(r.headers['x-csrf-token'], 't');
    assert.equal(r.headers['x-mailhealth-identity'], undefined);
    assert.equal(r.headers['x-remote-user'], undefined);
    assert.equal(r.headers.authorization, undefined);
  });

  test('rebase rewrites Location and leaves absolute URLs alone', () => {
    const r = rebase({ status: 303, headers: [['Location', '/domains'], ['Set-Cookie', 'mh_session=x; Path=/; HttpOnly']], body: Buffer.from('<a href="//evil.example/">x</a><a href="https://a.example/">y</a>') }, '/base');
    assert.equal(r.headers.find(([k]) => k === 'Location')?.[1], '/base/domains');
    assert.match(r.headers.find(([k]) => k === 'Set-Cookie')![1], /Path=\/base;/);
  });
});
