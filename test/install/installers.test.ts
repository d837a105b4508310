// The installers against a sandbox root (MAILHEALTH_ROOT) with fake panel tools that record their arguments:
// install, re-install (idempotent, admin edits kept), uninstall (history kept), purge (history removed), and clear
// errors when Node.js 20 is missing or too old. No cron entry: the background service schedules the nightly report
// itself, and an upgrade removes the /etc/cron.d/mailhealth older installs wrote. Never touches the real / (sandbox.ts;
// upgrades under a running service: upgrade.test.ts; standalone start: standalone-start.test.ts; drop-ins: dropins.test.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, sandbox, type Sandbox } from './sandbox.js';

const mode = (p: string) => statSync(p).mode & 0o777;

const CRON = 'etc/cron.d/mailhealth';
/** /etc/cron.d/mailhealth as older installers wrote it (a second, fixed-time report run beside the service's). */
function oldCronEntry(root: string): void {
  mkdirSync(join(root, 'etc/cron.d'), { recursive: true });
  writeFileSync(
    join(root, CRON),
    '# mailhealth nightly report (installed by the mailhealth installer)\nMAILHEALTH_DB=/var/lib/mailhealth/mailhealth.sqlite\n17 3 * * * root /usr/local/bin/mailhealth --config /etc/mailhealth/config.json report --email >/dev/null 2>&1\n',
    { mode: 0o644 },
  );
}
const CRON_REMOVED = /^mailhealth: removed \/etc\/cron\.d\/mailhealth from an older install: the background service runs the nightly report now$/m;
/** The unit's ExecStart line, whole: the service schedules the report by itself, with no extra arguments. */
const execStart = (unit: string) => /^ExecStart=(.*)$/m.exec(unit)?.[1];
/** A panel install's service command line: the panel named before `service`, whatever "panel" a kept config names. */
const panelServiceArgs = (panel: 'whm' | 'plesk') =>
  `/usr/local/mailhealth/bin/mailhealth.js --config /etc/mailhealth/config.json --panel ${panel} service --socket /run/mailhealth/mailhealth.sock --key /etc/mailhealth/frontdoor.key`;

describe('install/cpanel.sh', () => {
  let s: Sandbox;
  before(() => (s = sandbox()));
  after(() => s.close());
  const R = (p: string) => join(s.root, p);

  test('install: app, pages, registration, config 0600, key 0600, unit; no cron entry', () => {
    const r = s.run('cpanel.sh');
    assert.equal(r.code, 0, r.err + r.out);
    assert.ok(existsSync(R('usr/local/mailhealth/bin/mailhealth.js')));
    assert.ok(existsSync(R('usr/local/mailhealth/node_modules/express/package.json')));
    assert.ok(existsSync(R('usr/local/mailhealth/views/layout-top.ejs')));
    const page = R('usr/local/cpanel/base/frontend/jupiter/mailhealth/index.live.cgi');
    assert.equal(mode(page), 0o755);
    assert.match(readFileSync(page, 'utf8'), /cgi --front-door cpanel/);
    assert.equal(mode(R('usr/local/cpanel/whostmgr/docroot/cgi/mailhealth/index.cgi')), 0o755);
    assert.ok(existsSync(R('usr/local/cpanel/whostmgr/docroot/addon_plugins/mailhealth.png')));
    assert.equal(readFileSync(R('usr/local/cpanel/whostmgr/addonfeatures/mailhealth'), 'utf8').trim(), 'mailhealth:Mail Health');
    assert.equal(mode(R('etc/mailhealth/config.json')), 0o600);
    assert.deepEqual(JSON.parse(readFileSync(R('etc/mailhealth/config.json'), 'utf8')), { panel: 'whm' });
    assert.equal(mode(R('etc/mailhealth/frontdoor.key')), 0o600);
    assert.ok(readFileSync(R('etc/mailhealth/frontdoor.key'), 'utf8').trim().length >= 32);
    assert.equal(mode(R('etc/mailhealth')), 0o700);
    assert.equal(mode(R('var/lib/mailhealth')), 0o700);
    const unit = readFileSync(R('etc/systemd/system/mailhealth.service'), 'utf8');
    assert.equal(execStart(unit), `"${join(s.bin, 'node')}" ${panelServiceArgs('whm')}`);
    assert.match(unit, /RuntimeDirectoryMode=0700/);
    assert.doesNotMatch(unit, /@[A-Z]+@/);
    assert.match(readFileSync(R('usr/local/bin/mailhealth'), 'utf8'), /exec '.*node' '\/usr\/local\/mailhealth\/bin\/mailhealth\.js' "\$@"/);
    assert.ok(!existsSync(R(CRON)), 'the service schedules the nightly report: no cron entry');
    assert.doesNotMatch(r.out, /cron/);
    // The service starts on the new app before the panel steps (upgrade.test.ts: never old code on new files).
    assert.deepEqual(s.calls(), [
      'systemctl daemon-reload',
      'systemctl enable mailhealth.service',
      'systemctl restart mailhealth.service',
      `install_plugin ${s.src}/plugin-manifests/cpanel --theme=jupiter`,
      `register_appconfig ${s.src}/plugin-manifests/whm/mailhealth.conf`,
    ]);
  });

  test('re-install is idempotent: same calls, admin edits and the key kept, app replaced', () => {
    writeFileSync(R('etc/mailhealth/config.json'), '{"panel": "whm", "edited": true}\n', { mode: 0o600 });
    const key = readFileSync(R('etc/mailhealth/frontdoor.key'), 'utf8');
    writeFileSync(R('usr/local/mailhealth/stale-file'), 'x');
    writeFileSync(R('var/lib/mailhealth/mailhealth.sqlite'), 'history');
    s.clear();
    const r = s.run('cpanel.sh');
    assert.equal(r.code, 0, r.err);
    assert.match(readFileSync(R('etc/mailhealth/config.json'), 'utf8'), /"edited": true/);
    assert.equal(readFileSync(R('etc/mailhealth/frontdoor.key'), 'utf8'), key);
    assert.ok(!existsSync(R('usr/local/mailhealth/stale-file')), 'the app directory is replaced, not merged');
    assert.equal(readFileSync(R('var/lib/mailhealth/mailhealth.sqlite'), 'utf8'), 'history');
    assert.equal(s.calls().filter((c) => c.startsWith('install_plugin')).length, 1);
    assert.equal(s.calls().filter((c) => c.startsWith('register_appconfig')).length, 1);
  });

  test('upgrading an install that has the old cron entry removes it, says so once, and leaves the unit as it is', () => {
    const unit = readFileSync(R('etc/systemd/system/mailhealth.service'), 'utf8');
    oldCronEntry(s.root);
    const r = s.run('cpanel.sh');
    assert.equal(r.code, 0, r.err + r.out);
    assert.ok(!existsSync(R(CRON)), 'one scheduler per install: the service');
    assert.equal(r.out.split('\n').filter((l) => CRON_REMOVED.test(l)).length, 1, r.out);
    assert.equal(readFileSync(R('etc/systemd/system/mailhealth.service'), 'utf8'), unit);
    assert.equal(execStart(unit), `"${join(s.bin, 'node')}" ${panelServiceArgs('whm')}`);
    // Nothing to remove the next time, nothing said.
    assert.doesNotMatch(s.run('cpanel.sh').out, /cron/);
  });

  test('--uninstall removes pages, registration, unit, app and an old cron entry but keeps the history database', () => {
    oldCronEntry(s.root);
    s.clear();
    const r = s.run('cpanel.sh', ['--uninstall']);
    assert.equal(r.code, 0, r.err);
    assert.ok(!existsSync(R('usr/local/cpanel/base/frontend/jupiter/mailhealth')));
    assert.ok(!existsSync(R('usr/local/cpanel/whostmgr/docroot/cgi/mailhealth')));
    assert.ok(!existsSync(R('usr/local/mailhealth')));
    assert.ok(!existsSync(R('etc/systemd/system/mailhealth.service')));
    assert.ok(!existsSync(R('etc/cron.d/mailhealth')));
    assert.equal(readFileSync(R('var/lib/mailhealth/mailhealth.sqlite'), 'utf8'), 'history');
    assert.ok(existsSync(R('etc/mailhealth/config.json')));
    assert.deepEqual(s.calls(), [
      `uninstall_plugin ${s.src}/plugin-manifests/cpanel --theme=jupiter`,
      'unregister_appconfig mailhealth',
      'systemctl disable --now mailhealth.service',
      'systemctl daemon-reload',
    ]);
    // uninstalling again is harmless
    assert.equal(s.run('cpanel.sh', ['--uninstall']).code, 0);
  });

  test('--purge removes the history database and /etc/mailhealth', () => {
    s.run('cpanel.sh');
    writeFileSync(R('var/lib/mailhealth/mailhealth.sqlite'), 'history');
    writeFileSync(R('etc/mailhealth-settings.json'), '{}\n'); // as the service publishes it for the cPanel page
    const r = s.run('cpanel.sh', ['--uninstall', '--purge']);
    assert.equal(r.code, 0, r.err);
    assert.ok(!existsSync(R('var/lib/mailhealth')));
    assert.ok(!existsSync(R('etc/mailhealth')));
    assert.ok(!existsSync(R('etc/mailhealth-settings.json')));
  });

  test('Node.js: ea-nodejs20 preferred; missing or too old is a clear error', () => {
    const ea = R('opt/cpanel/ea-nodejs20/bin/node');
    mkdirSync(join(ea, '..'), { recursive: true });
    cpSync(join(s.bin, 'node'), ea);
    chmodSync(ea, 0o755);
    assert.equal(s.run('cpanel.sh').code, 0);
    assert.match(readFileSync(R('etc/systemd/system/mailhealth.service'), 'utf8'), /ExecStart="\/opt\/cpanel\/ea-nodejs20\/bin\/node" /);
    rmSync(R('opt'), { recursive: true });

    const old = s.run('cpanel.sh', [], { FAKE_NODE_VERSION: '18.19.0' });
    assert.notEqual(old.code, 0);
    assert.match(old.err, /Node\.js 20 or newer is required/);
    assert.match(old.err, /too old/);
    assert.match(old.err, /ea-nodejs20/);
    rmSync(join(s.bin, 'node'));
    const none = s.run('cpanel.sh');
    assert.notEqual(none.code, 0);
    assert.match(none.err, /Node\.js 20 or newer is required/);
  });

  test('not a cPanel server: a clear error', () => {
    const r = s.run('cpanel.sh', [], { INSTALL_PLUGIN: join(s.base, 'missing/install_plugin') });
    assert.notEqual(r.code, 0);
    assert.match(r.err, /install_plugin not found/);
  });
});

describe('install/plesk.sh', () => {
  let s: Sandbox;
  before(() => (s = sandbox()));
  after(() => s.close());
  const R = (p: string) => join(s.root, p);

  test('install: API key for loopback into config (0600), extension installed, unit; no cron entry', () => {
    const r = s.run('plesk.sh');
    assert.equal(r.code, 0, r.err + r.out);
    const cfg = JSON.parse(readFileSync(R('etc/mailhealth/config.json'), 'utf8')) as { panel: string; token: string };
    assert.equal(cfg.panel, 'plesk');
    assert.equal(cfg.token, 'c5b239d1-8eb6-8cee-76b7-aa16be37fee8');
    assert.equal(mode(R('etc/mailhealth/config.json')), 0o600);
    assert.equal(mode(R('etc/mailhealth/frontdoor.key')), 0o600);
    assert.deepEqual(s.calls(), [
      'plesk bin secret_key --create -ip-address 127.0.0.1 -description mailhealth (loopback)',
      'systemctl daemon-reload',
      'systemctl enable mailhealth.service',
      'systemctl restart mailhealth.service',
      'plesk bin extension --list',
      `plesk bin extension -i ${s.src}/release/mailhealth-plesk-0.1.0.zip`,
    ]);
    assert.equal(execStart(readFileSync(R('etc/systemd/system/mailhealth.service'), 'utf8')), `"${join(s.bin, 'node')}" ${panelServiceArgs('plesk')}`);
    assert.ok(!existsSync(R(CRON)));
  });

  test('re-install upgrades the extension and creates no second API key; an old cron entry is removed', () => {
    oldCronEntry(s.root);
    s.clear();
    const r = s.run('plesk.sh');
    assert.equal(r.code, 0, r.err + r.out);
    assert.ok(!existsSync(R(CRON)));
    assert.match(r.out, CRON_REMOVED);
    assert.ok(!s.calls().some((c) => c.includes('secret_key')));
    assert.ok(s.calls().includes(`plesk bin extension --upgrade ${s.src}/release/mailhealth-plesk-0.1.0.zip`));
  });

  test('--uninstall keeps the history, --purge removes it', () => {
    writeFileSync(R('var/lib/mailhealth/mailhealth.sqlite'), 'history');
    s.clear();
    assert.equal(s.run('plesk.sh', ['--uninstall']).code, 0);
    assert.ok(s.calls().includes('plesk bin extension --uninstall mailhealth'));
    assert.equal(readFileSync(R('var/lib/mailhealth/mailhealth.sqlite'), 'utf8'), 'history');
    assert.ok(!existsSync(R('usr/local/mailhealth')));
    assert.equal(s.run('plesk.sh', ['--purge']).code, 0);
    assert.ok(!existsSync(R('var/lib/mailhealth')));
  });

  test("re-install over an admin's config without a token adds the token and keeps every other setting", () => {
    // QA: the config was replaced whole by {"panel","token"} — panelUrl, ca, resolver … lost.
    mkdirSync(R('etc/mailhealth'), { recursive: true });
    writeFileSync(R('etc/mailhealth/config.json'), '{\n  "panel": "plesk",\n  "panelUrl": "https://127.0.0.1:8443",\n  "resolver": "9.9.9.9",\n  "bins": {"plesk": "/usr/sbin/plesk"}\n}\n');
    s.clear();
    const r = s.run('plesk.sh');
    assert.equal(r.code, 0, r.err + r.out);
    assert.ok(s.calls().some((c) => c.includes('secret_key --create')));
    const cfg = JSON.parse(readFileSync(R('etc/mailhealth/config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(cfg, { token: 'c5b239d1-8eb6-8cee-76b7-aa16be37fee8', panel: 'plesk', panelUrl: 'https://127.0.0.1:8443', resolver: '9.9.9.9', bins: { plesk: '/usr/sbin/plesk' } });
    assert.equal(mode(R('etc/mailhealth/config.json')), 0o600);
    // Once it has a token, a re-install leaves it alone.
    s.clear();
    assert.equal(s.run('plesk.sh').code, 0);
    assert.ok(!s.calls().some((c) => c.includes('secret_key')));
    assert.deepEqual(JSON.parse(readFileSync(R('etc/mailhealth/config.json'), 'utf8')), cfg);
  });

  test('Plesk Node.js component preferred; a missing zip is a clear error', () => {
    const pn = R('opt/plesk/node/20/bin/node');
    mkdirSync(join(pn, '..'), { recursive: true });
    cpSync(join(s.bin, 'node'), pn);
    chmodSync(pn, 0o755);
    assert.equal(s.run('plesk.sh').code, 0);
    assert.equal(readFileSync(R('etc/mailhealth/node'), 'utf8').trim(), '/opt/plesk/node/20/bin/node');
    const r = s.run('plesk.sh', ['--zip', join(s.base, 'nope.zip')]);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /no extension zip/);
  });
});

describe('install/standalone.sh', () => {
  let s: Sandbox;
  before(() => (s = sandbox()));
  after(() => s.close());
  const R = (p: string) => join(s.root, p);

  test('install, re-install, uninstall, purge', () => {
    assert.equal(s.run('standalone.sh').code, 0);
    const unit = readFileSync(R('etc/systemd/system/mailhealth.service'), 'utf8');
    assert.equal(execStart(unit), `"${join(s.bin, 'node')}" /usr/local/mailhealth/bin/mailhealth.js --config /etc/mailhealth/config.json serve --host 127.0.0.1 --port 8080`);
    assert.equal(mode(R('etc/mailhealth/config.json')), 0o600);
    assert.ok(!existsSync(R('etc/mailhealth/frontdoor.key')), 'no front doors, no key');
    assert.ok(!existsSync(R(CRON)), 'serve schedules the nightly report: no second run from cron');
    // Upgrading an older install, which ran the report from cron too (twice a night): the cron entry goes.
    oldCronEntry(s.root);
    const up = s.run('standalone.sh');
    assert.equal(up.code, 0, up.err + up.out);
    assert.ok(!existsSync(R(CRON)));
    assert.match(up.out, CRON_REMOVED);
    assert.equal(readFileSync(R('etc/systemd/system/mailhealth.service'), 'utf8'), unit);
    writeFileSync(R('var/lib/mailhealth/mailhealth.sqlite'), 'history');
    assert.equal(s.run('standalone.sh', ['--uninstall']).code, 0);
    assert.ok(existsSync(R('var/lib/mailhealth/mailhealth.sqlite')));
    assert.ok(!existsSync(R('usr/local/mailhealth')));
    assert.equal(s.run('standalone.sh', ['--uninstall', '--purge']).code, 0);
    assert.ok(!existsSync(R('var/lib/mailhealth')));
    const bad = s.run('standalone.sh', ['--bogus']);
    assert.equal(bad.code, 2);
  });

  test('a fresh install with the default (not yet created) files panel writes the unit but does not start it', () => {
    s.clear();
    const r = s.run('standalone.sh');
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /installed, not started: configure the panel/);
    assert.ok(existsSync(R('etc/systemd/system/mailhealth.service')));
    assert.ok(!s.calls().some((c) => /^systemctl (enable|restart)/.test(c)), s.calls().join('\n'));
    // Once the panel exists, a re-run enables and starts it.
    mkdirSync(R('etc/mailhealth/panel'), { recursive: true });
    writeFileSync(R('etc/mailhealth/panel/panel.json'), '{}\n');
    s.clear();
    const again = s.run('standalone.sh');
    assert.equal(again.code, 0, again.err + again.out);
    assert.ok(s.calls().includes('systemctl enable mailhealth.service'));
    assert.ok(s.calls().includes('systemctl restart mailhealth.service'));
    assert.equal(s.run('standalone.sh', ['--uninstall', '--purge']).code, 0);
  });

  test('a Node.js whose path has spaces (and a quote, $ and %) stays one word in the wrapper and one argument in the unit', () => {
    // QA: `exec $NODE …` and `ExecStart=@NODE@ …` split such a path: the command, the panel pages and the service failed.
    const dir = join(s.base, "opt/node's 20 $HOME %i");
    mkdirSync(dir, { recursive: true });
    cpSync(join(s.bin, 'node'), join(dir, 'node'));
    chmodSync(join(dir, 'node'), 0o755);
    const node = join(dir, 'node');
    const r = s.run('standalone.sh', [], { MAILHEALTH_NODE: node });
    assert.equal(r.code, 0, r.err + r.out);
    writeFileSync(s.log, '');
    const run = spawnSync(join(s.base, 'tools/sh'), [R('usr/local/bin/mailhealth'), 'audit', 'a b.example'], { encoding: 'utf8', env: { PATH: join(s.base, 'tools'), MH_LOG: s.log } });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(readFileSync(s.log, 'utf8').trim(), 'node /usr/local/mailhealth/bin/mailhealth.js audit a b.example');
    const unit = readFileSync(R('etc/systemd/system/mailhealth.service'), 'utf8');
    const quoted = `"${node.replace(/%/g, '%%').replace(/\$/g, '$$$$')}"`;
    assert.equal(execStart(unit), `${quoted} /usr/local/mailhealth/bin/mailhealth.js --config /etc/mailhealth/config.json serve --host 127.0.0.1 --port 8080`);
    assert.equal(readFileSync(R('etc/mailhealth/node'), 'utf8').trim(), node);
    assert.equal(s.run('standalone.sh', ['--purge'], { MAILHEALTH_NODE: node }).code, 0);
  });

  test('a Node.js that cannot load the app\'s native database module is refused, with the reason; nothing installed', () => {
    const r = s.run('standalone.sh', [], { FAKE_NODE_LOADS: '0' });
    assert.equal(r.code, 1);
    assert.match(r.err, /no Node\.js here can load the app's database module \(better-sqlite3/);
    assert.ok(!existsSync(R('usr/local/mailhealth')));
    const forced = s.run('standalone.sh', [], { FAKE_NODE_LOADS: '0', MAILHEALTH_NODE: join(s.bin, 'node') });
    assert.equal(forced.code, 1);
    assert.match(forced.err, /cannot load the app's database module/);
  });

  // The chosen Node.js runs as root (service, nightly report): one another user can replace would hand them root. The
  // check runs only when the installer is root (as on a real server; .ci/run runs the tests as root).
  const asRoot = process.getuid?.() === 0;
  test('a Node.js that a user other than root can replace is not used; only such Node.js is a clear error', { skip: asRoot ? false : 'the installers check ownership only when run as root' }, () => {
    const unitNode = () => /^ExecStart="([^"]+)" /m.exec(readFileSync(R('etc/systemd/system/mailhealth.service'), 'utf8'))?.[1];
    const ea = R('opt/cpanel/ea-nodejs20/bin/node');
    mkdirSync(join(ea, '..'), { recursive: true });
    cpSync(join(s.bin, 'node'), ea);
    chmodSync(ea, 0o755);
    assert.equal(s.run('standalone.sh').code, 0);
    assert.equal(unitNode(), '/opt/cpanel/ea-nodejs20/bin/node', 'root-owned: chosen');

    // A directory above it belongs to another user (nvm under a home directory): skipped, the next Node.js is used.
    chownSync(R('opt/cpanel'), 65534, 65534);
    assert.equal(s.run('standalone.sh').code, 0);
    assert.equal(unitNode(), join(s.bin, 'node'));
    chownSync(R('opt/cpanel'), 0, 0);
    // World-writable without the sticky bit: skipped; with it (as /tmp): fine.
    chmodSync(R('opt/cpanel/ea-nodejs20/bin'), 0o777);
    assert.equal(s.run('standalone.sh').code, 0);
    assert.equal(unitNode(), join(s.bin, 'node'));
    chmodSync(R('opt/cpanel/ea-nodejs20/bin'), 0o1777);
    assert.equal(s.run('standalone.sh').code, 0);
    assert.equal(unitNode(), '/opt/cpanel/ea-nodejs20/bin/node');
    chmodSync(R('opt/cpanel/ea-nodejs20/bin'), 0o755);
    // Group-writable for a group other than root: skipped.
    chownSync(ea, 0, 65534);
    chmodSync(ea, 0o775);
    assert.equal(s.run('standalone.sh').code, 0);
    assert.equal(unitNode(), join(s.bin, 'node'));
    chownSync(ea, 0, 0);
    chmodSync(ea, 0o755);

    // A root-owned link to a Node.js in a user's directory: the target is what runs.
    const home = join(s.base, 'home-bob');
    mkdirSync(home);
    cpSync(join(s.bin, 'node'), join(home, 'node'));
    chmodSync(join(home, 'node'), 0o755);
    chownSync(home, 65534, 65534);
    rmSync(ea);
    symlinkSync(join(home, 'node'), ea);
    // The only Node.js left is that one: a clear error, nothing installed.
    rmSync(join(s.bin, 'node'));
    rmSync(R('usr/local/mailhealth'), { recursive: true, force: true });
    const r = s.run('standalone.sh');
    assert.equal(r.code, 1);
    assert.match(r.err, /every usable Node\.js here can be changed by a user other than root: \/opt\/cpanel\/ea-nodejs20\/bin\/node \(.*belongs to uid 65534, not root\)/);
    assert.ok(!existsSync(R('usr/local/mailhealth')));
    // Named explicitly: refused with the reason too.
    const named = s.run('standalone.sh', [], { MAILHEALTH_NODE: join(home, 'node') });
    assert.equal(named.code, 1);
    assert.match(named.err, /would run as root but .*home-bob belongs to uid 65534, not root/);
  });
});

/**
 * The options an installer accepts: the case arms of lib.sh's parse_args and of the script's own argument loop
 * (plesk.sh's --zip). Read from the code, so an option added there and not to the help fails the test below.
 */
function acceptedOptions(script: string): string[] {
  const lib = readFileSync(join(REPO, 'install/lib.sh'), 'utf8');
  const start = lib.indexOf('parse_args() {');
  const parse = lib.slice(start, lib.indexOf('\n}\n', start));
  const own = readFileSync(join(REPO, 'install', script), 'utf8');
  const options = new Set<string>();
  for (const text of [parse, own]) {
    for (const m of text.matchAll(/^\s*((?:-{1,2}[a-z][a-z-]*\|?)+)\)/gm)) for (const o of m[1].split('|')) if (o) options.add(o);
  }
  return [...options].sort();
}

/** The script's header comment block as the help shows it: from line 2 up to the first line that is not a comment. */
function headerOf(script: string): string {
  const lines = readFileSync(join(REPO, 'install', script), 'utf8').split('\n').slice(1);
  const end = lines.findIndex((l) => !l.startsWith('#'));
  return lines
    .slice(0, end)
    .map((l) => l.replace(/^# ?/, '') + '\n')
    .join('');
}

describe('installer --help', () => {
  let s: Sandbox;
  before(() => (s = sandbox()));
  after(() => s.close());

  test('the options are read from the code (the check below is not vacuous)', () => {
    assert.deepEqual(acceptedOptions('standalone.sh'), ['--help', '--purge', '--uninstall', '-h']);
    assert.deepEqual(acceptedOptions('cpanel.sh'), ['--help', '--purge', '--uninstall', '-h']);
    assert.deepEqual(acceptedOptions('plesk.sh'), ['--help', '--purge', '--uninstall', '--zip', '-h']);
  });

  for (const script of ['standalone.sh', 'cpanel.sh', 'plesk.sh']) {
    test(`${script} --help: exactly the header comment, every option it accepts named, no shell code`, () => {
      const r = s.run(script, ['--help']);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.err, '');
      assert.equal(r.out, headerOf(script));
      for (const o of acceptedOptions(script)) {
        assert.match(r.out, new RegExp(`(?<![\\w-])${o}(?![\\w-])`), `${script} --help does not name ${o}:\n${r.out}`);
      }
      // No line of the script's code: `set -eu` (what a fixed line range printed after a shorter header) or any other.
      const code = new Set(
        readFileSync(join(REPO, 'install', script), 'utf8')
          .split('\n')
          .filter((l) => l.trim() && !l.startsWith('#'))
          .map((l) => l.trim()),
      );
      for (const line of r.out.split('\n')) assert.ok(!code.has(line.trim()), `${script} --help prints shell code: ${line}`);
      assert.doesNotMatch(r.out, /^set -|^\. "\$HERE|^[A-Z_]+=|usage\(\)/m);
      assert.equal(s.run(script, ['-h']).out, r.out);
      // Nothing was done: no panel tool called, nothing written under the sandbox root.
      assert.deepEqual(s.calls(), []);
      assert.deepEqual(readdirSync(s.root), []);
    });

    test(`${script} with an unknown option: exit 2, the option named and the help on stderr, nothing done`, () => {
      const r = s.run(script, ['--bogus']);
      assert.equal(r.code, 2);
      assert.equal(r.out, '');
      assert.equal(r.err, `mailhealth: error: unknown option --bogus\n\n${headerOf(script)}`);
      assert.deepEqual(s.calls(), []);
      assert.deepEqual(readdirSync(s.root), []);
    });
  }
});
