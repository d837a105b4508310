// Upgrading under a running service (QA): the installers replaced the app directory and restarted the service only at
// the very end, after the panel steps. For those seconds — and for good when a panel step failed (set -eu stopped the
// script) — the old process ran on the new files (GET /settings → 500 "ReferenceError: …/views/settings.ejs:33
// lastReport is not defined"), and an upgrade from v1 kept its 03:17 cron entry beside the service. Now the service is
// stopped before the swap and started right after it, before the panel steps; an exit trap starts it again on a
// failure or a signal, removes the old cron entry once the app is swapped, and says what state the server is in.
//
// The fakes (sandbox.ts) model the service: each step is recorded with the version the service runs and the version
// installed at that moment, so "old code on new files" is seen wherever it happens. Each scenario runs under dash
// (Debian's sh) and bash (RHEL's sh: cPanel's and most Plesk servers').
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UPGRADE_EXIT_CODE } from '../../src/cli/upgrade-watch.js';
import { REPO, SHELLS, sandbox, type Sandbox } from './sandbox.js';

const CRON = 'etc/cron.d/mailhealth';
function oldCronEntry(root: string): void {
  mkdirSync(join(root, 'etc/cron.d'), { recursive: true });
  writeFileSync(join(root, CRON), '17 3 * * * root /usr/local/bin/mailhealth --config /etc/mailhealth/config.json report --email >/dev/null 2>&1\n');
}

/** Every step ran with the service stopped or on the installed app, and it ends so: never old code on new files. */
function assertNeverMismatched(s: Sandbox): void {
  const lines = s.timeline();
  for (const line of lines) {
    const m = / \| service=(\S+) app=(\S+)$/.exec(line);
    assert.ok(m, line);
    assert.ok(m[1] === '-' || m[1] === m[2], `the service ran ${m[1]} on the files of ${m[2]} during "${line.split(' | ')[0]}":\n${lines.join('\n')}`);
  }
  const running = s.running();
  assert.ok(running === null || running === s.installed(), `the service runs ${running} on the files of ${s.installed()}`);
}

const index = (lines: string[], prefix: string) => lines.findIndex((l) => l.startsWith(prefix));

/** A server with version 0.1.0 installed by `script` and running, an older install's cron entry, and release 0.2.0. */
function installedThenNewRelease(s: Sandbox, script: string): void {
  s.release('0.1.0');
  const first = s.run(script);
  assert.equal(first.code, 0, first.err + first.out);
  assert.equal(s.running(), '0.1.0');
  oldCronEntry(s.root);
  s.release('0.2.0');
  s.clear();
}

// The panel steps after the service restart, each made to fail: the service runs the new code, the old cron entry is
// gone, and the installer says which step stopped it and what to do; run again, it finishes.
const PANEL_STEPS: { script: string; fail: string; step: RegExp }[] = [
  { script: 'cpanel.sh', fail: 'install_plugin', step: /while installing the cPanel page \(install_plugin\)/ },
  { script: 'cpanel.sh', fail: 'register_appconfig', step: /while installing the WHM page \(register_appconfig\)/ },
  { script: 'plesk.sh', fail: 'plesk bin extension --upgrade', step: /while installing the Plesk extension \(plesk bin extension\)/ },
];

for (const shell of SHELLS) {
  describe(`upgrading under a running service (${shell})`, () => {
    let s: Sandbox;
    before(() => (s = sandbox({ shell })));
    after(() => s.close());

    for (const script of ['cpanel.sh', 'plesk.sh', 'standalone.sh']) {
      test(`${script}: the service is stopped before the app is replaced and started on it before anything else`, () => {
        if (script === 'standalone.sh') {
          // A configured panel, so the service runs (a files panel with its panel.json).
          mkdirSync(join(s.root, 'etc/mailhealth/panel'), { recursive: true });
          writeFileSync(join(s.root, 'etc/mailhealth/panel/panel.json'), '{}\n');
        }
        installedThenNewRelease(s, script);
        const r = s.run(script);
        assert.equal(r.code, 0, r.err + r.out);
        assertNeverMismatched(s);
        assert.equal(s.running(), '0.2.0');
        assert.equal(readFileSync(join(s.root, 'usr/local/mailhealth/views/layout-top.ejs'), 'utf8'), '<html data-version="0.2.0">\n');
        const t = s.timeline();
        assert.match(t[index(t, 'systemctl stop')] ?? '', /service=0\.1\.0 app=0\.1\.0$/, t.join('\n'));
        assert.match(t[index(t, 'systemctl restart')] ?? '', /service=- app=0\.2\.0$/, t.join('\n'));
        // The panel steps come after the restart.
        for (const panel of ['install_plugin', 'register_appconfig', 'plesk bin extension']) {
          if (index(t, panel) !== -1) assert.ok(index(t, panel) > index(t, 'systemctl restart'), t.join('\n'));
        }
        assert.ok(!existsSync(join(s.root, CRON)));
        assert.ok(!existsSync(join(s.root, 'usr/local/mailhealth.new')) && !existsSync(join(s.root, 'usr/local/mailhealth.old')));
        assert.equal(s.run(script, ['--purge']).code, 0);
      });
    }

    for (const { script, fail, step } of PANEL_STEPS) {
      test(`${script}: ${fail} fails after the swap — the service runs the new code, the old cron entry is gone, the way on is said`, () => {
        installedThenNewRelease(s, script);
        const r = s.run(script, [], { MH_FAIL: fail });
        assert.equal(r.code, 1, r.err + r.out);
        assertNeverMismatched(s);
        assert.equal(s.installed(), '0.2.0');
        assert.equal(s.running(), '0.2.0');
        assert.ok(!existsSync(join(s.root, CRON)), 'the older install\'s cron entry goes even when a later step fails');
        assert.match(r.err, step);
        assert.match(r.err, /\/usr\/local\/mailhealth holds the new version \(0\.2\.0\)/);
        assert.match(r.err, /the service runs the new version/);
        assert.match(r.err, new RegExp(`fix the cause above, then run \\S*install/${script.replace('.', '\\.')} again`));
        // Run again: it finishes, the failed step included.
        s.clear();
        const again = s.run(script);
        assert.equal(again.code, 0, again.err + again.out);
        assert.ok(s.calls().some((c) => c.startsWith(fail)), s.calls().join('\n'));
        assertNeverMismatched(s);
        assert.equal(s.run(script, ['--purge']).code, 0);
      });
    }

    test('a failure between the stop and the start: the exit trap starts the service on the new code', () => {
      installedThenNewRelease(s, 'cpanel.sh');
      const r = s.run('cpanel.sh', [], { MH_FAIL: 'systemctl enable' });
      assert.equal(r.code, 1, r.err + r.out);
      assert.equal(s.running(), '0.2.0');
      assertNeverMismatched(s);
      assert.match(r.out, /started mailhealth\.service again/);
      assert.match(r.err, /while writing and starting mailhealth\.service/);
      assert.ok(!existsSync(join(s.root, CRON)));
      // Nothing after the failure ran.
      assert.ok(!s.calls().some((c) => c.startsWith('install_plugin')));
      assert.equal(s.run('cpanel.sh', ['--purge']).code, 0);
    });

    test('SIGTERM (a Ctrl-C, a kill) while the service is down: started again, exit 143', () => {
      installedThenNewRelease(s, 'cpanel.sh');
      const r = s.run('cpanel.sh', [], { MH_TERM: 'systemctl enable' });
      assert.equal(r.code, 143, r.err + r.out);
      assert.equal(s.running(), '0.2.0');
      assertNeverMismatched(s);
      assert.match(r.err, /the installer was interrupted \(signal 15\) while writing and starting mailhealth\.service/);
      assert.equal(s.run('cpanel.sh', ['--purge']).code, 0);
    });

    test('stopped before the swap (SIGTERM during the stop): nothing upgraded, the old version started again', () => {
      installedThenNewRelease(s, 'cpanel.sh');
      const r = s.run('cpanel.sh', [], { MH_TERM: 'systemctl stop' });
      assert.equal(r.code, 143, r.err + r.out);
      assert.equal(s.installed(), '0.1.0');
      assert.equal(s.running(), '0.1.0');
      assertNeverMismatched(s);
      assert.match(r.err, /nothing was upgraded: \/usr\/local\/mailhealth holds the version installed before/);
      assert.ok(!existsSync(join(s.root, 'usr/local/mailhealth.new')), 'the copy of the new release is cleaned up');
      assert.ok(existsSync(join(s.root, CRON)), 'an install that was not upgraded keeps what it runs by');
      assert.equal(s.run('cpanel.sh', ['--purge']).code, 0);
    });

    test('plesk.sh: the REST API key comes before the swap — when Plesk refuses it, nothing is upgraded and the old service runs on', () => {
      installedThenNewRelease(s, 'plesk.sh');
      // A config without a token (given in MAILHEALTH_PANEL_TOKEN before): the installer asks Plesk for one.
      writeFileSync(join(s.root, 'etc/mailhealth/config.json'), '{"panel": "plesk", "panelUrl": "https://127.0.0.1:8443"}\n');
      const r = s.run('plesk.sh', [], { MH_FAIL: 'plesk bin secret_key' });
      assert.equal(r.code, 1, r.err + r.out);
      assert.equal(s.installed(), '0.1.0');
      assert.equal(s.running(), '0.1.0');
      assertNeverMismatched(s);
      assert.match(r.err, /while creating a Plesk REST API key/);
      assert.match(r.err, /nothing was upgraded/);
      assert.ok(!s.calls().some((c) => c.startsWith('systemctl')), s.calls().join('\n'));
      assert.equal(s.run('plesk.sh', ['--purge']).code, 0);
    });

    test('a fresh install whose panel step fails: the service runs, the message says what is left', () => {
      s.release('0.2.0');
      const r = s.run('cpanel.sh', [], { MH_FAIL: 'install_plugin' });
      assert.equal(r.code, 1, r.err + r.out);
      assert.equal(s.running(), '0.2.0');
      assert.match(r.err, /the steps from "installing the cPanel page \(install_plugin\)" on were not done/);
      assert.equal(s.run('cpanel.sh', ['--purge']).code, 0);
    });
  });
}

describe('mailhealth.service restart policy', () => {
  const unit = readFileSync(join(REPO, 'install/mailhealth.service'), 'utf8');
  const values = (key: string) => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].flatMap((m) => m[1].trim().split(/\s+/));

  test('a failure that keeps coming back (exit 2: a newer-schema database, a bad config) is not restarted for ever; a passing one is', () => {
    assert.deepEqual(values('Restart'), ['on-failure']);
    // Exit 2 also covers failures that pass (the panel's API or the disk not ready at boot): restarted, but bounded.
    assert.ok(!values('RestartPreventExitStatus').includes('2'), unit);
    assert.deepEqual(values('StartLimitIntervalSec'), ['600']);
    assert.deepEqual(values('StartLimitBurst'), ['10']);
    assert.deepEqual(values('RestartSec'), ['10']);
  });

  test(`exit ${UPGRADE_EXIT_CODE} (a newer mailhealth migrated the database under the service) is still restarted`, () => {
    assert.ok(!values('RestartPreventExitStatus').includes(String(UPGRADE_EXIT_CODE)));
    assert.ok(!values('SuccessExitStatus').includes(String(UPGRADE_EXIT_CODE)));
  });

  test('the installed unit carries it', () => {
    const s = sandbox();
    try {
      assert.equal(s.run('cpanel.sh').code, 0);
      assert.match(readFileSync(join(s.root, 'etc/systemd/system/mailhealth.service'), 'utf8'), /^StartLimitBurst=10$/m);
    } finally {
      s.close();
    }
  });
});
