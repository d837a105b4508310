// The admin's drop-ins in /etc/systemd/system/mailhealth.service.d/ (the README's --no-report recipe: `systemctl edit
// mailhealth`, an empty ExecStart= and the unit's line with --no-report added). Such a drop-in holds a whole copy of
// the command line, so it outlives the Node.js path and the arguments it was copied from (QA: --uninstall and --purge
// left the directory, and a reinstall or an upgrade that changed the Node.js path kept running the old command line,
// silently). Now: an install or upgrade shows every drop-in line that replaces the command line (a warning when it is
// not this install's line plus additions), --uninstall keeps the directory with the config and says so, --purge
// removes it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, type Sandbox } from './sandbox.js';

const DIR = 'etc/systemd/system/mailhealth.service.d';

for (const script of ['cpanel.sh', 'plesk.sh', 'standalone.sh']) {
  describe(`install/${script} and the service's drop-ins`, () => {
    let s: Sandbox;
    before(() => (s = sandbox()));
    after(() => s.close());
    const R = (p: string) => join(s.root, p);
    const unitLine = () => /^ExecStart=(.*)$/m.exec(readFileSync(R('etc/systemd/system/mailhealth.service'), 'utf8'))?.[1] ?? '';
    const dropIn = (name: string, text: string) => {
      mkdirSync(R(DIR), { recursive: true });
      writeFileSync(R(`${DIR}/${name}`), text);
    };

    test('a drop-in with an older command line (another Node.js): the upgrade warns with the file, its line and the unit\'s', () => {
      assert.equal(s.run(script).code, 0);
      const old = '"/opt/old-node/bin/node" /usr/local/mailhealth/bin/mailhealth.js --config /etc/mailhealth/config.json serve --no-report';
      dropIn('override.conf', `[Service]\nExecStart=\nExecStart=${old}\n`);
      const r = s.run(script);
      assert.equal(r.code, 0, r.err + r.out);
      assert.match(r.err, new RegExp(`^mailhealth: warning: /${DIR}/override\\.conf replaces the service's command line, and not with this install's`, 'm'));
      assert.ok(r.err.includes(`  drop-in: ExecStart=${old}\n`), r.err);
      assert.ok(r.err.includes(`  unit:    ExecStart=${unitLine()}\n`), r.err);
      assert.match(r.err, /systemctl edit mailhealth/);
    });

    test('a drop-in that is this install\'s line plus --no-report (the README recipe): a note, no warning', () => {
      dropIn('override.conf', `[Service]\nExecStart=\nExecStart=${unitLine()} --no-report\n`);
      const r = s.run(script);
      assert.equal(r.code, 0, r.err + r.out);
      assert.doesNotMatch(r.err, /warning/);
      assert.match(r.out, new RegExp(`note: /${DIR}/override\\.conf replaces the service's command line with this install's plus additions`));
      // Written by hand without the quotes `systemctl cat` shows: the same line.
      dropIn('override.conf', `[Service]\nExecStart=\nExecStart=${unitLine().replace(/"/g, '')} --no-report\n`);
      assert.doesNotMatch(s.run(script).err, /warning/);
    });

    test('a drop-in that does not touch the command line: nothing said', () => {
      dropIn('override.conf', '[Service]\nEnvironment=MAILHEALTH_STOP_GRACE_MS=60000\nTimeoutStopSec=90\n');
      const r = s.run(script);
      assert.equal(r.code, 0, r.err + r.out);
      assert.doesNotMatch(r.out + r.err, /drop-in|override\.conf/);
    });

    test('--uninstall keeps the drop-ins (with the config) and says so; --purge removes them', () => {
      dropIn('no-report.conf', '[Service]\nExecStart=\nExecStart=/old/node /usr/local/mailhealth/bin/mailhealth.js --no-report\n');
      s.clear();
      const un = s.run(script, ['--uninstall']);
      assert.equal(un.code, 0, un.err + un.out);
      assert.ok(existsSync(R(`${DIR}/no-report.conf`)));
      assert.match(un.out, new RegExp(`kept /${DIR} \\(drop-ins for the service: no-report\\.conf override\\.conf\\): a reinstall runs with them; --purge removes them`));
      s.clear();
      const purge = s.run(script, ['--purge']);
      assert.equal(purge.code, 0, purge.err + purge.out);
      assert.ok(!existsSync(R(DIR)), 'purged');
      assert.match(purge.out, new RegExp(`removed /${DIR} \\(drop-ins for the service\\)`));
      assert.ok(s.calls().includes('systemctl daemon-reload'), s.calls().join('\n'));
    });
  });
}
