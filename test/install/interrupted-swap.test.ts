// Review r1 item 6: install_app swaps the app with two renames — `mv APP_DIR APP_DIR.old`, then `mv APP_DIR.new
// APP_DIR`. A signal between them (a Ctrl-C, a kill) ran the exit trap with the app directory missing: it deleted the
// new copy, never put the old one back, started the service on no app and said "nothing was installed". Now the trap
// reads where the swap stood from the directories: before the second rename the old version is put back (nothing
// upgraded, the old service started again); after it the swap counts as done (the new version, its service started);
// if neither can be moved in, it says so and where both copies are, and leaves the service stopped.
//
// A fake `mv` (first on PATH) does the real rename, then sends SIGTERM to the installer, as the sandbox's MH_TERM does
// for the other tools: MH_MV_TERM=old after the first rename, =new after the second. MH_MV_STUCK=1: once the signal
// is sent, a rename into the app directory fails.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHELLS, sandbox, type Sandbox } from './sandbox.js';

const CRON = 'etc/cron.d/mailhealth';
const APP = 'usr/local/mailhealth';
const realMv = spawnSync('sh', ['-c', 'command -v mv'], { encoding: 'utf8' }).stdout.trim();

function fakeMv(s: Sandbox): void {
  const app = `${s.root}/${APP}`;
  writeFileSync(
    join(s.bin, 'mv'),
    `#!/bin/sh
sent="$MH_BASE/mv-term-sent"
if [ "\${MH_MV_STUCK:-}" = 1 ] && [ -e "$sent" ] && [ "$2" = '${app}' ]; then echo "mv: cannot move $1 (test)" >&2; exit 1; fi
'${realMv}' "$@" || exit $?
case "\${MH_MV_TERM:-}:$1:$2" in
  'old:${app}:${app}.old'|'new:${app}.new:${app}') : > "$sent"; kill -TERM $PPID ;;
esac
`,
  );
  chmodSync(join(s.bin, 'mv'), 0o755);
}

for (const shell of SHELLS) {
  describe(`install_app interrupted between its two renames (${shell})`, () => {
    let s: Sandbox;
    before(() => {
      s = sandbox({ shell });
      fakeMv(s);
    });
    after(() => s.close());
    const R = (p: string) => join(s.root, p);

    /** 0.1.0 installed by cpanel.sh and running, an older install's cron entry, release 0.2.0 ready. */
    function installedThenNewRelease(): void {
      rmSync(join(s.base, 'mv-term-sent'), { force: true });
      s.run('cpanel.sh', ['--purge']);
      s.release('0.1.0');
      const first = s.run('cpanel.sh');
      assert.equal(first.code, 0, first.err + first.out);
      assert.equal(s.running(), '0.1.0');
      mkdirSync(R('etc/cron.d'), { recursive: true });
      writeFileSync(R(CRON), '17 3 * * * root /usr/local/bin/mailhealth report --email\n');
      s.release('0.2.0');
      s.clear();
    }

    test('after the old version was moved aside: it is put back and runs again; "nothing was upgraded", not "nothing was installed"', () => {
      installedThenNewRelease();
      const r = s.run('cpanel.sh', [], { MH_MV_TERM: 'old' });
      assert.equal(r.code, 143, r.err + r.out);
      assert.equal(s.installed(), '0.1.0', 'the version installed before is back in place');
      assert.equal(s.running(), '0.1.0', 'and the service runs it');
      assert.ok(existsSync(R(`${APP}/bin/mailhealth.js`)));
      assert.ok(!existsSync(R(`${APP}.old`)) && !existsSync(R(`${APP}.new`)));
      assert.match(r.out, /put the version installed before back in \/usr\/local\/mailhealth/);
      assert.match(r.err, /the installer was interrupted \(signal 15\) while replacing \/usr\/local\/mailhealth/);
      assert.match(r.err, /nothing was upgraded: \/usr\/local\/mailhealth holds the version installed before/);
      assert.doesNotMatch(r.err, /nothing was installed/);
      assert.ok(existsSync(R(CRON)), 'an install that was not upgraded keeps what it runs by');
      // Run again: it finishes.
      const again = s.run('cpanel.sh');
      assert.equal(again.code, 0, again.err + again.out);
      assert.equal(s.installed(), '0.2.0');
      assert.equal(s.running(), '0.2.0');
    });

    test('after the new version was moved in: the swap counts as done — the new version runs, the old copy and cron entry go', () => {
      installedThenNewRelease();
      const r = s.run('cpanel.sh', [], { MH_MV_TERM: 'new' });
      assert.equal(r.code, 143, r.err + r.out);
      assert.equal(s.installed(), '0.2.0');
      assert.equal(s.running(), '0.2.0');
      assert.ok(!existsSync(R(`${APP}.old`)) && !existsSync(R(`${APP}.new`)));
      assert.ok(!existsSync(R(CRON)));
      assert.match(r.err, /\/usr\/local\/mailhealth holds the new version \(0\.2\.0\); the steps from "replacing \/usr\/local\/mailhealth" on were not done/);
      assert.match(r.err, /the service runs the new version/);
      assert.doesNotMatch(r.err, /nothing was (installed|upgraded)/);
      const again = s.run('cpanel.sh');
      assert.equal(again.code, 0, again.err + again.out);
      assert.equal(s.running(), '0.2.0');
    });

    test('neither copy can be moved back in: said so with where both are; the service is not started on no app', () => {
      installedThenNewRelease();
      const r = s.run('cpanel.sh', [], { MH_MV_TERM: 'old', MH_MV_STUCK: '1' });
      assert.equal(r.code, 143, r.err + r.out);
      assert.equal(s.installed(), null, r.out + r.err);
      assert.equal(readFileSync(R(`${APP}.old/package.json`), 'utf8').includes('"0.1.0"'), true, 'the old version is kept aside');
      assert.equal(readFileSync(R(`${APP}.new/package.json`), 'utf8').includes('"0.2.0"'), true, 'the new copy is kept');
      assert.equal(s.running(), null);
      assert.ok(!s.calls().includes('systemctl restart mailhealth.service'), s.calls().join('\n'));
      assert.match(r.err, /\/usr\/local\/mailhealth is missing and could not be put back: the version installed before is in \/usr\/local\/mailhealth\.old, this release in \/usr\/local\/mailhealth\.new/);
      assert.match(r.err, /the service was left stopped/);
      assert.doesNotMatch(r.err, /nothing was installed/);
      // Run again (the renames work now): it installs this release.
      const again = s.run('cpanel.sh');
      assert.equal(again.code, 0, again.err + again.out);
      assert.equal(s.installed(), '0.2.0');
      assert.equal(s.running(), '0.2.0');
    });

    test('a fresh install interrupted right after its rename: installed, said so', () => {
      rmSync(join(s.base, 'mv-term-sent'), { force: true });
      s.run('cpanel.sh', ['--purge']);
      s.clear();
      const r = s.run('cpanel.sh', [], { MH_MV_TERM: 'new' });
      assert.equal(r.code, 143, r.err + r.out);
      assert.equal(s.installed(), '0.2.0');
      assert.match(r.err, /\/usr\/local\/mailhealth holds the new version \(0\.2\.0\)/);
      assert.doesNotMatch(r.err, /nothing was installed/);
    });
  });
}
