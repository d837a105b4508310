// install/cpanel.sh --uninstall decided by what is registered, and retriable (review r7): when cPanel's uninstall_plugin
// or unregister_appconfig fails, what marks that registration is kept, the run exits non-zero naming what is left and
// the command to run again, and that run calls the tool again. A WHM registration whose page directory is already gone
// (as older installers left it) is still undone. And the install's last line says the feature is on, not to turn it on.
// Never touches the real / (sandbox.ts: MH_FAIL makes the fake tool whose call starts with it exit 1).
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, type Sandbox } from './sandbox.js';

const JUPITER = 'usr/local/cpanel/base/frontend/jupiter/mailhealth';
const FEATURE = 'usr/local/cpanel/whostmgr/addonfeatures/mailhealth';
const WHM_CGI = 'usr/local/cpanel/whostmgr/docroot/cgi/mailhealth';
const WHM_ICON = 'usr/local/cpanel/whostmgr/docroot/addon_plugins/mailhealth.png';
const APPCONFIG = 'var/cpanel/apps/mailhealth.conf';

const panelCalls = (s: Sandbox) => s.calls().filter((c) => !c.startsWith('systemctl'));

describe('install/cpanel.sh --uninstall', () => {
  let s: Sandbox;
  const R = (p: string) => join(s.root, p);
  beforeEach(() => {
    s = sandbox();
    const r = s.run('cpanel.sh');
    assert.equal(r.code, 0, r.err + r.out);
    s.clear();
  });
  afterEach(() => s.close());

  test('uninstall_plugin fails: exit non-zero, the cPanel page kept; the next run calls it again and finishes', () => {
    const first = s.run('cpanel.sh', ['--uninstall'], { MH_FAIL: 'uninstall_plugin' });
    assert.notEqual(first.code, 0, first.out);
    assert.match(first.err, /uninstall_plugin failed/);
    assert.match(first.err, /not uninstalled from the panel: the cPanel page \(uninstall_plugin\)\. Fix the cause above, then run \S*cpanel\.sh --uninstall again/);
    assert.doesNotMatch(first.out, /^mailhealth: uninstalled$/m);
    assert.ok(existsSync(R(JUPITER)), 'the page directory marks the registration left');
    assert.ok(existsSync(R(FEATURE)), 'the feature stays listed, so Feature Manager can still turn the link off');
    // The rest went: the WHM registration (its tool worked), the app and the service.
    assert.ok(panelCalls(s).includes('unregister_appconfig mailhealth'));
    assert.ok(!existsSync(R(WHM_CGI)));
    assert.ok(!existsSync(R('usr/local/mailhealth')));
    assert.ok(!existsSync(R('etc/systemd/system/mailhealth.service')));

    s.clear();
    const second = s.run('cpanel.sh', ['--uninstall']);
    assert.equal(second.code, 0, second.err + second.out);
    assert.deepEqual(panelCalls(s), [`uninstall_plugin ${s.src}/plugin-manifests/cpanel --theme=jupiter`]);
    assert.match(second.out, /^mailhealth: uninstalled$/m);
    assert.ok(!existsSync(R(JUPITER)));
    assert.ok(!existsSync(R(FEATURE)));
  });

  test('unregister_appconfig fails: exit non-zero, the WHM page kept; the next run calls it again and finishes', () => {
    const first = s.run('cpanel.sh', ['--uninstall'], { MH_FAIL: 'unregister_appconfig' });
    assert.notEqual(first.code, 0, first.out);
    assert.match(first.err, /unregister_appconfig failed/);
    assert.match(first.err, /not uninstalled from the panel: the WHM page \(unregister_appconfig\)\. Fix the cause above, then run \S*cpanel\.sh --uninstall again/);
    assert.ok(existsSync(R(WHM_CGI)));
    assert.ok(existsSync(R(WHM_ICON)));
    assert.ok(!existsSync(R(JUPITER)), 'the cPanel page, whose tool worked, is gone');

    s.clear();
    const second = s.run('cpanel.sh', ['--uninstall']);
    assert.equal(second.code, 0, second.err + second.out);
    assert.deepEqual(panelCalls(s), ['unregister_appconfig mailhealth']);
    assert.ok(!existsSync(R(WHM_CGI)));
    assert.ok(!existsSync(R(WHM_ICON)));
  });

  test('both fail under --purge: both named, and the command to repeat is --purge', () => {
    const first = s.run('cpanel.sh', ['--purge'], { MH_FAIL: 'un' });
    assert.notEqual(first.code, 0, first.out);
    assert.match(first.err, /not uninstalled from the panel: the cPanel page \(uninstall_plugin\); the WHM page \(unregister_appconfig\)\. Fix the cause above, then run \S*cpanel\.sh --purge again/);
    assert.ok(!existsSync(R('etc/mailhealth')), 'purged as asked');
    s.clear();
    assert.equal(s.run('cpanel.sh', ['--purge']).code, 0);
    assert.deepEqual(panelCalls(s), [`uninstall_plugin ${s.src}/plugin-manifests/cpanel --theme=jupiter`, 'unregister_appconfig mailhealth']);
  });

  test('a WHM registration left without its page directory (an older installer) is still undone', () => {
    // As register_appconfig leaves it (cpanel.md 9.3), and an unregister_appconfig that removes it, as the real one does.
    const fake = join(s.base, 'unregister-real');
    writeFileSync(fake, `#!/bin/sh\necho "unregister_appconfig $*" >> "$MH_LOG"\nrm -f "$MAILHEALTH_ROOT/${APPCONFIG}"\n`);
    chmodSync(fake, 0o755);
    mkdirSync(R('var/cpanel/apps'), { recursive: true });
    writeFileSync(R(APPCONFIG), 'service=whostmgr\nname=mailhealth\n');
    // What an older --uninstall whose unregister_appconfig failed left: the page and icon deleted, the registration not.
    rmSync(R(WHM_CGI), { recursive: true });
    rmSync(R(WHM_ICON));
    const env = { UNREGISTER_APPCONFIG: fake };
    const r = s.run('cpanel.sh', ['--uninstall'], env);
    assert.equal(r.code, 0, r.err + r.out);
    assert.ok(panelCalls(s).includes('unregister_appconfig mailhealth'), panelCalls(s).join('\n'));
    assert.ok(!existsSync(R(APPCONFIG)));
    // Nothing registered any more: nothing called.
    s.clear();
    assert.equal(s.run('cpanel.sh', ['--uninstall'], env).code, 0);
    assert.deepEqual(panelCalls(s), []);
  });

  test("after a complete --uninstall, another calls no panel tool and succeeds", () => {
    s.run('cpanel.sh', ['--uninstall']);
    s.clear();
    const r = s.run('cpanel.sh', ['--uninstall']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(panelCalls(s), []);
  });
});

describe('install/cpanel.sh: the last line', () => {
  test('says the feature is on for every package until turned off, not to enable it', () => {
    const s = sandbox();
    try {
      const r = s.run('cpanel.sh');
      assert.equal(r.code, 0, r.err + r.out);
      const last = r.out.trim().split('\n').at(-1) ?? '';
      assert.equal(
        last,
        'mailhealth: installed. The "mailhealth" feature is on for every package until you turn it off in WHM » Feature Manager; WHM » Plugins » Mail Health for resellers and root.',
      );
    } finally {
      s.close();
    }
  });
});
