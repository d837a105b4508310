// The installers against a local user on the same server (a hosting customer with a shell): secrets never on a command
// line (every user can read /proc/PID/cmdline while a process runs), nothing created open to other users even for a
// moment (whatever umask the admin's shell hands over), private directories that someone else owns refused rather than
// filled with secrets. Runs in the sandbox with every system tool traced (sandbox.ts `trace`); never touches the real /.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, existsSync, lstatSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO, sandbox, SHELLS, type Sandbox } from './sandbox.js';

/** The key the fake `plesk bin secret_key --create` prints (sandbox.ts). */
const PLESK_KEY = 'c5b239d1-8eb6-8cee-76b7-aa16be37fee8';
const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

/** Every file and directory under `dir` (symbolic links not followed), with its permission bits. */
function tree(dir: string): { path: string; mode: number; dir: boolean }[] {
  const out: { path: string; mode: number; dir: boolean }[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) continue;
    out.push({ path: p, mode: st.mode & 0o7777, dir: st.isDirectory() });
    if (st.isDirectory()) out.push(...tree(p));
  }
  return out;
}

for (const shell of SHELLS) {
  describe(`install/plesk.sh (${shell}): the Plesk REST API key never travels on a command line`, () => {
    let s: Sandbox;
    before(() => (s = sandbox({ shell, trace: true })));
    after(() => s.close());
    const R = (p: string) => join(s.root, p);

    /** Every command line the install ran — the real tools' and the fakes' — that shows the key. */
    const leaks = () => [...s.argv(), ...s.calls()].filter((l) => l.includes(PLESK_KEY));

    test('a fresh install writes the key into config.json with no tool seeing it', () => {
      const r = s.run('plesk.sh');
      assert.equal(r.code, 0, r.err + r.out);
      assert.equal((JSON.parse(readFileSync(R('etc/mailhealth/config.json'), 'utf8')) as { token?: string }).token, PLESK_KEY);
      assert.ok(s.argv().length > 0, 'the trace works');
      assert.deepEqual(leaks(), []);
    });

    test("the admin's config without a token gets the key added — not through a command line", () => {
      // QA (security): the key was spliced in with `sed "0,/{/s//{\"token\": \"KEY\", /"`: for as long as sed ran, any
      // local user could read the Plesk administrator's API key in /proc — bound to 127.0.0.1, where every local user is.
      writeFileSync(R('etc/mailhealth/config.json'), '{\n  "panel": "plesk",\n  "panelUrl": "https://127.0.0.1:8443",\n  "resolver": "9.9.9.9"\n}\n', { mode: 0o600 });
      s.clear();
      const r = s.run('plesk.sh');
      assert.equal(r.code, 0, r.err + r.out);
      assert.deepEqual(JSON.parse(readFileSync(R('etc/mailhealth/config.json'), 'utf8')), { token: PLESK_KEY, panel: 'plesk', panelUrl: 'https://127.0.0.1:8443', resolver: '9.9.9.9' });
      assert.equal(statSync(R('etc/mailhealth/config.json')).mode & 0o777, 0o600);
      assert.deepEqual(leaks(), []);
    });
  });
}

/**
 * What holds secrets: the two directories (0700), the config with the panel's API token and the front-door key (0600),
 * the history database. (/etc/mailhealth/node, the Node.js path for the Plesk helper, is 0644 inside the closed one.)
 */
const PRIVATE = /^(etc\/mailhealth|var\/lib\/mailhealth|etc\/mailhealth\/(config\.json|frontdoor\.key)|var\/lib\/mailhealth\/.*)$/;

for (const script of ['cpanel.sh', 'plesk.sh', 'standalone.sh']) {
  describe(`install/${script} under the admin's umask 000: nothing open to other users, not even for a moment`, () => {
    let s: Sandbox;
    before(() => (s = sandbox({ trace: true })));
    after(() => s.close());
    const rel = (p: string) => relative(s.root, p);

    test('every mode a chmod found, and every file and directory left, is closed to other users where it must be', () => {
      // QA (security): the installers took the umask they were given until write_config set 022 — /etc/mailhealth and
      // /var/lib/mailhealth were made by `mkdir -p` (0777 under umask 000), and closed by chmod 700 only after: in
      // between, any local user could put a config.json (naming the panel tools root runs), a frontdoor.key or a
      // history database of their own in them. Root's umask is an admin's choice, an installer must not depend on it.
      const r = s.run(script, [], {}, { umask: '000' });
      assert.equal(r.code, 0, r.err + r.out);
      const seen = s
        .argv()
        .filter((l) => l.startsWith('before-chmod '))
        .map((l) => {
          const [, mode, path] = /^before-chmod (\d+) (.*)$/.exec(l)!;
          return { mode: parseInt(mode, 8), path: rel(path) };
        })
        .filter((m) => !m.path.startsWith('..'));
      assert.ok(seen.some((m) => m.path === 'etc/mailhealth'), 'the trace sees the chmod of /etc/mailhealth');
      const open = seen.filter((m) => (PRIVATE.test(m.path) ? m.mode & 0o077 : m.mode & 0o002)).map((m) => `${m.path} ${m.mode.toString(8)}`);
      assert.deepEqual(open, [], 'open to other users before it was closed');
      const left = tree(s.root)
        .filter((e) => (PRIVATE.test(rel(e.path)) ? e.mode & 0o077 : e.mode & 0o002))
        .map((e) => `${rel(e.path)} ${e.mode.toString(8)}`);
      assert.deepEqual(left, [], 'left open to other users');
    });
  });
}

describe('install/cpanel.sh: a private directory, config or key that another user owns is refused', { skip: IS_ROOT ? false : 'needs root (chown); the check runs only when the installer is root' }, () => {
  let s: Sandbox;
  before(() => (s = sandbox()));
  after(() => s.close());
  const R = (p: string) => join(s.root, p);

  for (const [what, path] of [
    ['/etc/mailhealth', 'etc/mailhealth'],
    ['/etc/mailhealth/config.json', 'etc/mailhealth/config.json'],
    ['/etc/mailhealth/frontdoor.key', 'etc/mailhealth/frontdoor.key'],
    ['/var/lib/mailhealth', 'var/lib/mailhealth'],
    ['/var/lib/mailhealth/mailhealth.sqlite', 'var/lib/mailhealth/mailhealth.sqlite'],
  ] as const) {
    test(`${what} owned by uid 1000: refused before anything is replaced, and said why`, () => {
      // QA (security): chmod 700/600 kept the owner — a customer who owned /etc/mailhealth (left by an older install made
      // under a loose umask, or restored from a copy with the wrong owner) went on reading the API token and could put
      // in a config naming the panel tools the service runs as root.
      assert.equal(s.run('cpanel.sh').code, 0);
      if (!existsSync(R(path))) writeFileSync(R(path), 'history');
      s.release('0.2.0');
      chownSync(R(path), 1000, 1000);
      s.clear();
      const r = s.run('cpanel.sh');
      assert.notEqual(r.code, 0);
      assert.match(r.err, new RegExp(`${what.replace(/\//g, '\\/').replace(/\./g, '\\.')} belongs to uid 1000, not root: .*chown -R root:root \\/(etc|var\\/lib)\\/mailhealth`));
      assert.match(r.err, /nothing was upgraded/);
      assert.equal(s.installed(), '0.1.0');
      assert.ok(!s.calls().some((c) => c.startsWith('install_plugin') || c.startsWith('systemctl stop')), s.calls().join('\n'));
      assert.equal(statSync(R(path)).uid, 1000, 'left as it was for the admin to look at');
      chownSync(R(path), 0, 0);
      s.release('0.1.0');
    });
  }
});

describe('the systemd unit: hardening that cannot stop the panel tools the service runs', () => {
  const unit = readFileSync(join(REPO, 'install/mailhealth.service'), 'utf8');
  const set = (k: string) => new RegExp(`^${k}=`, 'm').test(unit);

  test('kernel modules, the kernel log, kernel tunables and real-time scheduling are out of reach', () => {
    for (const k of ['ProtectKernelModules', 'ProtectKernelLogs', 'ProtectKernelTunables', 'RestrictRealtime']) assert.match(unit, new RegExp(`^${k}=yes$`, 'm'), k);
    assert.match(unit, /^UMask=0077$/m);
    assert.match(unit, /^PrivateTmp=yes$/m);
    assert.match(unit, /^RuntimeDirectoryMode=0700$/m);
  });

  test('nothing that would stop whmapi1 or `plesk bin dns` (children of the service) from writing where they write', () => {
    for (const k of ['ProtectSystem', 'ProtectHome', 'NoNewPrivileges', 'ReadOnlyPaths', 'InaccessiblePaths', 'ReadWritePaths', 'DynamicUser', 'PrivateUsers', 'CapabilityBoundingSet', 'SystemCallFilter', 'MemoryDenyWriteExecute']) {
      assert.ok(!set(k), `${k}= would break the panel tools (or Node.js's JIT: MemoryDenyWriteExecute): see the unit's comment`);
    }
    assert.match(unit, /^User=root$/m);
  });
});
