// The config file is checked key by key when the CLI reads it (QA: `"insecure": "false"`, a string, turned certificate
// checking OFF and a self-signed listener received the panel token; `"panelRoot": 5` gave a raw Node error; `"panel":
// ["files"]` blamed --panel; a misspelled key was silently ignored). A bad key is a configuration error — exit 2, kind
// "usage", naming the key and the file, before anything is sent to the panel; an unknown key is a warning on stderr
// (once per run, with the nearest known key), never an error and never with its value.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openStore } from '../../src/adapters/store/store.js';
import { cli, errorOf, escapeRe, sandbox } from './fixtures/run-cli.js';

/** The CLI without a panel token in its environment (the token under test is the config file's). */
const NO_ENV_TOKEN = { MAILHEALTH_PANEL_TOKEN: '' };

/**
 * A self-signed HTTPS listener on loopback that records the Authorization header of every request it gets (on the
 * first free port of 58050–58099: the ports this test was given, so it never takes another test's fixed port).
 */
async function selfSignedListener(t: TestContext): Promise<{ url: string; seen: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'mh-cfg-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const seen: string[] = [];
  const server = https.createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (req, res) => {
    seen.push(String(req.headers.authorization ?? ''));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 1, data: [], errors: null }));
  });
  for (let port = 58050; port <= 58099; port++) {
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) {
      t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
      return { url: `https://127.0.0.1:${port}`, seen };
    }
  }
  throw new Error('no free port in 58050-58099');
}

test('"insecure": "false" (a string) is refused naming the key and the file: nothing reaches the self-signed panel', { timeout: 90_000 }, async (t) => {
  const s = sandbox(t, 'mh-cfg-insecure-');
  const panel = await selfSignedListener(t);
  const config = join(s.dir, 'config.json');
  writeFileSync(config, JSON.stringify({ panel: 'cpanel', panelUrl: panel.url, panelUser: 'bob', token: 'SECRET-TOKEN-123', insecure: 'false' }), { mode: 0o600 });
  const r = await cli(['--config', config, '--db', s.db, 'history', '--json'], { env: NO_ENV_TOKEN });
  assert.equal(r.code, 2, r.stderr);
  const e = errorOf(r.stdout);
  assert.equal(e.kind, 'usage', r.stdout);
  assert.match(e.message, new RegExp(`config file ${escapeRe(config)}: "insecure" is the string "false", not a JSON boolean: write "insecure": false \\(no quotes\\)`));
  assert.doesNotMatch(r.stdout + r.stderr, /SECRET-TOKEN-123/);
  assert.equal(panel.seen.length, 0, 'no request reached the panel');

  // The JSON boolean true still means what it says (the listener is reached: certificate checking is off by choice).
  writeFileSync(config, JSON.stringify({ panel: 'cpanel', panelUrl: panel.url, panelUser: 'bob', token: 'SECRET-TOKEN-123', insecure: true }), { mode: 0o600 });
  await cli(['--config', config, '--db', s.db, 'history', '--json'], { env: NO_ENV_TOKEN });
  assert.ok(panel.seen.includes('cpanel bob:SECRET-TOKEN-123'), JSON.stringify(panel.seen));
});

test('a key of the wrong type or value: exit 2, kind usage, naming the key and the file (not --panel, not a Node error)', { timeout: 90_000 }, async (t) => {
  const s = sandbox(t, 'mh-cfg-types-');
  const config = join(s.dir, 'config.json');
  const cases: [object, RegExp][] = [
    [{ panel: 'files', panelRoot: 5 }, /"panelRoot" must be a string \(the files panel's directory, the one with panel\.json\), but got the number 5/],
    [{ panel: ['files'], panelRoot: s.panel }, /"panel" must be "files", "cpanel", "whm" or "plesk" \(got an array\)/],
    [{ panel: 'files', panelRoot: s.panel, token: ['SECRET-TOKEN-123'] }, /"token" must be a string \(the panel's API token\), but the value of token is an array/],
  ];
  for (const [cfg, message] of cases) {
    writeFileSync(config, JSON.stringify(cfg), { mode: 0o600 });
    const r = await cli(['--config', config, '--db', s.db, 'history', '--json'], { env: NO_ENV_TOKEN });
    assert.equal(r.code, 2, r.stderr);
    const e = errorOf(r.stdout);
    assert.equal(e.kind, 'usage', r.stdout);
    assert.match(e.message, new RegExp(`^config file ${escapeRe(config)}: `));
    assert.match(e.message, message);
    assert.doesNotMatch(r.stderr, /--panel must be|TypeError|ERR_INVALID_ARG_TYPE/);
    assert.doesNotMatch(r.stdout + r.stderr, /SECRET-TOKEN-123/);
    assert.match(r.stderr, /^mailhealth: config file /m);
  }
});

test('an unknown key is a warning on stderr (once, with the nearest known key, never its value), not an error', { timeout: 90_000 }, async (t) => {
  const s = sandbox(t, 'mh-cfg-unknown-');
  openStore(s.db).close();
  const config = join(s.dir, 'config.json');
  writeFileSync(config, JSON.stringify({ panel: 'files', panelRoot: s.panel, panelURL: 'https://127.0.0.1:9', tokne: 'SECRET-TOKEN-123', fromNewerVersion: 1 }), { mode: 0o600 });
  const r = await cli(['--config', config, '--db', s.db, 'history', '--json'], { env: NO_ENV_TOKEN });
  assert.equal(r.code, 0, r.stderr);
  JSON.parse(r.stdout); // stdout is still the command's JSON
  assert.match(r.stderr, new RegExp(`^mailhealth: warning: config file ${escapeRe(config)}: unknown key "panelURL" ignored — did you mean "panelUrl"\\?$`, 'm'));
  assert.match(r.stderr, /unknown key "tokne" ignored — did you mean "token"\?/);
  assert.match(r.stderr, /unknown key "fromNewerVersion" ignored \(this version knows panel, panelRoot, /);
  assert.doesNotMatch(r.stderr, /SECRET-TOKEN-123/);

  // Read twice in one run (the panel's config, then again for the token the file does not hold): warned once.
  writeFileSync(config, JSON.stringify({ panel: 'whm', panelUrl: 'https://127.0.0.1:9', panelURL: 'x' }), { mode: 0o600 });
  const twice = await cli(['--config', config, '--db', s.db, 'history'], { env: NO_ENV_TOKEN });
  assert.equal(twice.code, 2, twice.stderr);
  assert.match(twice.stderr, /no API token for WHM/);
  assert.equal(twice.stderr.match(/unknown key "panelURL"/g)?.length, 1, twice.stderr);
});

test('MAILHEALTH_PANEL_TOKEN wins over the file\'s "token" (README); an empty one is unset', { timeout: 90_000 }, async (t) => {
  const s = sandbox(t, 'mh-cfg-token-');
  const panel = await selfSignedListener(t);
  const config = join(s.dir, 'config.json');
  writeFileSync(config, JSON.stringify({ panel: 'cpanel', panelUrl: panel.url, panelUser: 'bob', token: 'FILE-TOKEN', insecure: true }), { mode: 0o600 });
  await cli(['--config', config, '--db', s.db, 'history', '--json'], { env: { MAILHEALTH_PANEL_TOKEN: 'ENV-TOKEN' } });
  assert.ok(panel.seen.length > 0, 'the panel was asked');
  assert.deepEqual([...new Set(panel.seen)], ['cpanel bob:ENV-TOKEN']);
  panel.seen.length = 0;
  await cli(['--config', config, '--db', s.db, 'history', '--json'], { env: NO_ENV_TOKEN });
  assert.deepEqual([...new Set(panel.seen)], ['cpanel bob:FILE-TOKEN']);
});
