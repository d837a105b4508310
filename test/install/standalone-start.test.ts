// install/standalone.sh starts the service only when the config names a panel it can start with — judged on the panel
// the config names, read as JSON (QA: a grep for the default `"panelRoot": "/etc/mailhealth/panel"` line held back a
// config that had switched to `"panel": "whm"` and left that line in — "installed, not started", the configured
// service not restarted on the upgrade — and let through the same default written another way, or no panel at all).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, type Sandbox } from './sandbox.js';

const NOT_STARTED = /installed, not started: configure the panel in \/etc\/mailhealth\/config\.json/;

describe('install/standalone.sh: started when the configured panel can start', () => {
  let s: Sandbox;
  before(() => (s = sandbox()));
  after(() => s.close());
  const R = (p: string) => join(s.root, p);

  /**
   * Install with this config.json (kept by the installer) and report whether the service was enabled and started. The
   * service is not running before (`running`: it is — an upgrade leaves a running service running whatever the check
   * says, see standalone-running.test.ts).
   */
  function installWith(config: string, { running = false } = {}): { started: boolean; out: string; err: string } {
    if (!running) rmSync(join(s.base, 'service'), { force: true });
    mkdirSync(R('etc/mailhealth'), { recursive: true });
    writeFileSync(R('etc/mailhealth/config.json'), config, { mode: 0o600 });
    s.clear();
    const r = s.run('standalone.sh');
    assert.equal(r.code, 0, r.err + r.out);
    const calls = s.calls();
    const started = calls.includes('systemctl enable mailhealth.service') && calls.includes('systemctl restart mailhealth.service');
    assert.equal(started, !NOT_STARTED.test(r.out), r.out);
    return { started, out: r.out, err: r.err };
  }

  test('WHM with the default "panelRoot" line left in: started (an upgrade restarts it)', () => {
    const config = '{"panel": "whm", "panelRoot": "/etc/mailhealth/panel", "panelUrl": "https://whm.example.net:2087", "panelUser": "root", "token": "T"}\n';
    assert.ok(installWith(config).started);
    // The upgrade of that running install: stopped, replaced, started again.
    s.release('0.2.0');
    const up = installWith(config, { running: true });
    assert.ok(up.started, up.out);
    assert.ok(s.calls().includes('systemctl stop mailhealth.service'));
    assert.equal(s.running(), '0.2.0');
  });

  test('cPanel and Plesk panels: started (their own settings are the service\'s to check)', () => {
    assert.ok(installWith('{"panel": "cpanel", "panelRoot": "/etc/mailhealth/panel"}').started);
    assert.ok(installWith('{"panel": "plesk", "token": "T"}').started);
  });

  test('a files panel whose directory has a panel.json (a demo copy): started', () => {
    mkdirSync(R('srv/mailhealth-demo'), { recursive: true });
    writeFileSync(R('srv/mailhealth-demo/panel.json'), '{}\n');
    assert.ok(installWith('{"panel": "files", "panelRoot": "/srv/mailhealth-demo"}').started);
    // The default directory, once filled: started too.
    mkdirSync(R('etc/mailhealth/panel'), { recursive: true });
    writeFileSync(R('etc/mailhealth/panel/panel.json'), '{}\n');
    assert.ok(installWith('{"panel": "files", "panelRoot": "/etc/mailhealth/panel"}').started);
  });

  test('the default files panel written another way (no space, keys swapped), still without panel.json: not started, the reason said', () => {
    const r = installWith('{"panelRoot":"/srv/empty-panel","panel":"files"}');
    assert.ok(!r.started);
    assert.match(r.out, /the service cannot start yet: \/etc\/mailhealth\/config\.json: the files panel has no panel\.json in \/srv\/empty-panel/);
  });

  test('no panel named (the files panel) and no "panelRoot": not started', () => {
    const r = installWith('{}\n');
    assert.ok(!r.started);
    assert.match(r.out, /the files panel needs "panelRoot"/);
  });

  test('a config that is not JSON, or names no known panel: not started, the reason said', () => {
    const bad = installWith('{"panel": "whm",}\n');
    assert.ok(!bad.started);
    assert.match(bad.out, /the service cannot start yet: \/etc\/mailhealth\/config\.json is not valid JSON/);
    const unknown = installWith('{"panel": "directadmin"}\n');
    assert.ok(!unknown.started);
    assert.match(unknown.out, /"panel" must be files, cpanel, whm or plesk \(got "directadmin"\)/);
  });

  test('the fresh install (default config, no panel.json): not started, as before', () => {
    s.run('standalone.sh', ['--purge']);
    s.clear();
    const r = s.run('standalone.sh');
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, NOT_STARTED);
    assert.match(r.out, /the files panel has no panel\.json in \/etc\/mailhealth\/panel/);
    assert.ok(!s.calls().some((c) => /^systemctl (enable|restart)/.test(c)), s.calls().join('\n'));
  });
});
