// The shared HTTPS client (src/adapters/panels/http.ts) and the factory (src/adapters/panels/factory.ts), exercised
// with the cPanel emulator. (Kept here: the test tree for panels mirrors cpanel/whm/plesk only.)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PanelError } from '../../../../src/core/panel.js';
import { createPanel, loadConfig } from '../../../../src/adapters/panels/factory.js';
import { checkPanelUrl, isLoopbackHost, PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import { makeCpState, startCpanelServer, type RunningServer } from '../../../helpers/emulators/cpanel.js';

function throwsCode(fn: () => unknown, code: PanelError['code'], re?: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof PanelError && e.code === code && (!re || re.test(e.message)));
}

describe('panel URLs', () => {
  it('accepts https anywhere, plain http only for loopback', () => {
    assert.ok(checkPanelUrl('https://panel.example.net:2083'));
    assert.ok(checkPanelUrl('http://127.0.0.1:2083'));
    assert.ok(checkPanelUrl('http://[::1]:2083'));
    assert.ok(checkPanelUrl('http://localhost:8443'));
    throwsCode(() => checkPanelUrl('http://panel.example.net:2082'), 'other', /refusing plain http:\/\/ for panel\.example\.net/);
    throwsCode(() => checkPanelUrl('http://10.0.0.5:2082'), 'other', /refusing plain http/);
    throwsCode(() => checkPanelUrl('http://127.0.0.1.example.net/'), 'other', /refusing plain http/);
    throwsCode(() => checkPanelUrl('ftp://127.0.0.1/'), 'other', /https/);
    throwsCode(() => checkPanelUrl('not a url'), 'other', /not a valid URL/);
    assert.equal(isLoopbackHost('128.0.0.1'), false);
    // A name under .localhost is looked up like any other (nsswitch "files dns"): DNS could send the token anywhere.
    throwsCode(() => checkPanelUrl('http://panel.example.localhost:2083'), 'other', /refusing plain http:\/\/ for panel\.example\.localhost/);
  });

  it('createPanel refuses a non-loopback http:// URL before sending the token', () => {
    throwsCode(() => createPanel({ panel: 'cpanel', panelUrl: 'http://203.0.113.5:2082', panelUser: 'alice', token: 't' }), 'other', /refusing plain http/);
  });
});

describe('factory: token sources', () => {
  let srv: RunningServer;
  const saved = process.env.MAILHEALTH_PANEL_TOKEN;
  before(async () => {
    srv = await startCpanelServer(makeCpState());
  });
  after(async () => {
    if (saved === undefined) delete process.env.MAILHEALTH_PANEL_TOKEN;
    else process.env.MAILHEALTH_PANEL_TOKEN = saved;
    await srv.close();
  });

  it('never takes the token from argv', () => {
    delete process.env.MAILHEALTH_PANEL_TOKEN;
    const argv = process.argv;
    process.argv = [...argv, '--token', 'tok-alice', '--panel-token=tok-alice', 'MAILHEALTH_PANEL_TOKEN=tok-alice'];
    try {
      throwsCode(
        () => createPanel({ panel: 'cpanel', panelUrl: srv.url, panelUser: 'alice', configPath: join(tmpdir(), 'mh-no-such-config.json') }),
        'auth',
        /MAILHEALTH_PANEL_TOKEN.*never taken from the command line/,
      );
    } finally {
      process.argv = argv;
    }
  });

  it('takes it from MAILHEALTH_PANEL_TOKEN', async () => {
    process.env.MAILHEALTH_PANEL_TOKEN = 'tok-alice';
    const p = createPanel({ panel: 'cpanel', panelUrl: srv.url, panelUser: 'alice', configPath: join(tmpdir(), 'mh-no-such-config.json') });
    assert.equal((await p.listDomains({ user: 'alice', role: 'customer' })).length, 3);
  });

  it('or from the config file', async () => {
    delete process.env.MAILHEALTH_PANEL_TOKEN;
    const dir = mkdtempSync(join(tmpdir(), 'mh-cfg-'));
    const path = join(dir, 'config.json');
    writeFileSync(path, JSON.stringify({ token: 'tok-bob' }));
    assert.deepEqual(loadConfig(path), { token: 'tok-bob' });
    assert.deepEqual(loadConfig(join(dir, 'missing.json')), {});
    writeFileSync(join(dir, 'bad.json'), '{');
    throwsCode(() => loadConfig(join(dir, 'bad.json')), 'other', /not valid JSON/);
    const p = createPanel({ panel: 'cpanel', panelUrl: srv.url, panelUser: 'bob', configPath: path });
    assert.deepEqual((await p.listDomains({ user: 'bob', role: 'customer' })).map((d) => d.domain), ['bob.example']);
  });

  // The installed config is root's (0600): another user's command that needs a token got "cannot read config file"
  // as a panel failure. It is the missing token, said with why the file gave none (a directory stands in for a file
  // this user cannot read: the tests run as root, which reads every file).
  it('a config file that cannot be read gives no token: the "no API token" error, saying why', () => {
    delete process.env.MAILHEALTH_PANEL_TOKEN;
    const dir = mkdtempSync(join(tmpdir(), 'mh-cfg-'));
    throwsCode(() => createPanel({ panel: 'cpanel', panelUrl: srv.url, panelUser: 'alice', configPath: dir }), 'auth', new RegExp(`^no API token for cPanel: .* — cannot read config file ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('a wrong token is a named auth error', async () => {
    process.env.MAILHEALTH_PANEL_TOKEN = 'nope';
    const p = createPanel({ panel: 'cpanel', panelUrl: srv.url, panelUser: 'alice' });
    await assert.rejects(p.listDomains({ user: 'alice', role: 'customer' }), (e: unknown) => e instanceof PanelError && e.code === 'auth');
  });

  it('builds every kind; unknown kinds are refused', () => {
    process.env.MAILHEALTH_PANEL_TOKEN = 'x';
    assert.equal(createPanel({ panel: 'whm', panelUrl: srv.url, panelUser: 'root' }).kind, 'whm');
    assert.equal(createPanel({ panel: 'plesk', panelUrl: srv.url }).kind, 'plesk');
    assert.equal(createPanel({ panel: 'cpanel', bins: { uapi: '/nonexistent/uapi' } }).kind, 'cpanel');
    throwsCode(() => createPanel({ panel: 'nope' as 'files' }), 'unsupported');
  });
});

describe('HTTPS with a self-signed panel certificate', () => {
  let server: https.Server;
  let url: string;
  let certFile: string;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mh-tls-'));
    const keyFile = join(dir, 'key.pem');
    certFile = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    server = https.createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 1, data: { main_domain: 'tls.example' }, errors: null }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('refuses an untrusted certificate with advice, accepts it with --panel-ca or --panel-insecure', async () => {
    await assert.rejects(new PanelHttpClient({ baseUrl: url }).request({ path: '/' }), (e: unknown) => e instanceof PanelError && e.code === 'unreachable' && /--panel-ca/.test(e.message));
    assert.equal((await new PanelHttpClient({ baseUrl: url, caFile: certFile }).request({ path: '/' })).status, 200);
    assert.equal((await new PanelHttpClient({ baseUrl: url, insecure: true }).request({ path: '/' })).status, 200);
    assert.throws(() => new PanelHttpClient({ baseUrl: url, caFile: '/nonexistent/ca.pem' }), /cannot read the panel CA file/);
  });
});
