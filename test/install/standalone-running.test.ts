// Review r1 item 6 (standalone.sh): an admin who set the panel on the service's command line — a drop-in in
// /etc/systemd/system/mailhealth.service.d/ whose ExecStart= adds --panel or --panel-root — while config.json still
// names the default files panel (no panel.json) was told "the service cannot start yet", and the upgrade, which now
// stops the service to replace the app, left it stopped: the older installer left it running. Now the drop-in's
// command line counts as the app counts it (its --panel, --panel-root, --config win over the file), and an upgrade of
// a service that was running starts it again whatever the check says (with a note).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, type Sandbox } from './sandbox.js';

const DIR = 'etc/systemd/system/mailhealth.service.d';
const DEFAULT_CONFIG = '{"panel": "files", "panelRoot": "/etc/mailhealth/panel"}\n';
const NOT_STARTED = /installed, not started/;

describe('install/standalone.sh: a panel set on the service\'s command line, an upgrade of a running service', () => {
  let s: Sandbox;
  before(() => (s = sandbox()));
  after(() => s.close());
  const R = (p: string) => join(s.root, p);
  const unitLine = () => /^ExecStart=(.*)$/m.exec(readFileSync(R('etc/systemd/system/mailhealth.service'), 'utf8'))?.[1] ?? '';

  /** A fresh sandbox state: 0.1.0 installed with the default config (not started: no panel.json), no drop-ins. */
  function installedDefault(): void {
    s.run('standalone.sh', ['--purge']);
    rmSync(R(DIR), { recursive: true, force: true });
    rmSync(R('srv'), { recursive: true, force: true });
    s.release('0.1.0');
    const r = s.run('standalone.sh');
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, NOT_STARTED);
    assert.equal(readFileSync(R('etc/mailhealth/config.json'), 'utf8'), DEFAULT_CONFIG);
  }
  const dropIn = (name: string, text: string) => {
    mkdirSync(R(DIR), { recursive: true });
    writeFileSync(R(`${DIR}/${name}`), text);
  };
  const panelDir = (dir: string) => {
    mkdirSync(R(dir), { recursive: true });
    writeFileSync(R(`${dir}/panel.json`), '{}\n');
  };
  /** The admin started the service (systemctl enable --now) with their drop-in. */
  const adminStarts = () => writeFileSync(join(s.base, 'service'), `${s.installed()}\n`);
  const upgrade = () => {
    s.release('0.2.0');
    s.clear();
    const r = s.run('standalone.sh');
    assert.equal(r.code, 0, r.err + r.out);
    return r;
  };

  test('--panel-root on the drop-in\'s ExecStart (the README\'s `systemctl edit` recipe), service running: the upgrade starts it again', () => {
    installedDefault();
    panelDir('srv/panel');
    dropIn('override.conf', `[Service]\nExecStart=\nExecStart=${unitLine().replace(' serve ', ' --panel-root /srv/panel serve ')}\n`);
    adminStarts();
    const r = upgrade();
    assert.doesNotMatch(r.out, /cannot start yet|not started/, r.out);
    assert.ok(s.calls().includes('systemctl stop mailhealth.service'));
    assert.ok(s.calls().includes('systemctl restart mailhealth.service'), s.calls().join('\n'));
    assert.equal(s.running(), '0.2.0');
  });

  test('--panel whm (and --panel=plesk) on the drop-in: the files panel\'s panel.json is not asked for — started, even when it was stopped', () => {
    installedDefault();
    dropIn('override.conf', `[Service]\nExecStart=\nExecStart=${unitLine()} --panel whm\n`);
    let r = upgrade();
    assert.doesNotMatch(r.out, NOT_STARTED, r.out);
    assert.equal(s.running(), '0.2.0');
    dropIn('override.conf', `[Service]\nExecStart=\nExecStart=${unitLine()} --panel=plesk\n`);
    rmSync(join(s.base, 'service'));
    r = upgrade();
    assert.doesNotMatch(r.out, NOT_STARTED, r.out);
    assert.equal(s.running(), '0.2.0');
  });

  test('--config on the drop-in names the file that counts', () => {
    installedDefault();
    mkdirSync(R('etc/mailhealth-alt'), { recursive: true });
    writeFileSync(R('etc/mailhealth-alt/config.json'), '{"panel": "cpanel"}\n');
    dropIn('override.conf', `[Service]\nExecStart=\nExecStart=${unitLine().replace('--config /etc/mailhealth/config.json', '--config /etc/mailhealth-alt/config.json')}\n`);
    upgrade();
    assert.equal(s.running(), '0.2.0');
  });

  test('a drop-in naming a --panel-root without panel.json: not started, the drop-in named as the reason', () => {
    installedDefault();
    dropIn('override.conf', `[Service]\nExecStart=\nExecStart=${unitLine()} --panel-root "/srv/no panel"\n`);
    const r = upgrade();
    assert.match(r.out, NOT_STARTED);
    assert.match(r.out, new RegExp(`the service cannot start yet: --panel-root in /${DIR}/override\\.conf: the files panel has no panel\\.json in /srv/no panel`), r.out);
    assert.equal(s.running(), null);
  });

  test('systemd\'s order: a later drop-in\'s empty ExecStart= clears an earlier one\'s flags', () => {
    installedDefault();
    dropIn('10-panel.conf', `[Service]\nExecStart=\nExecStart=${unitLine()} --panel whm\n`);
    dropIn('20-reset.conf', `[Service]\nExecStart=\nExecStart=${unitLine()} --no-report\n`);
    const r = upgrade();
    assert.match(r.out, /the service cannot start yet: \/etc\/mailhealth\/config\.json: the files panel has no panel\.json in \/etc\/mailhealth\/panel/, r.out);
    assert.equal(s.running(), null);
  });

  test('running, and the check still finds a blocker (the panel set where it does not look): started again, with a note', () => {
    installedDefault();
    adminStarts();
    const r = upgrade();
    assert.match(r.out, /note: \/etc\/mailhealth\/config\.json: the files panel has no panel\.json in \/etc\/mailhealth\/panel/);
    assert.match(r.out, /note: mailhealth\.service is running, so it has a panel to run with: it is started again after the upgrade/);
    assert.doesNotMatch(r.out, NOT_STARTED);
    assert.equal(s.running(), '0.2.0');
  });

  test('not running and a blocker: not started, as before', () => {
    installedDefault();
    const r = upgrade();
    assert.match(r.out, NOT_STARTED);
    assert.equal(s.running(), null);
  });
});
