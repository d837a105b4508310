// Review of the installer security QA (private_dir): the ownership check named only config.json and frontdoor.key, but
// root trusts more of what is in /etc/mailhealth — `node` is the Node.js the Plesk sbin helper (root) executes, and the
// installer rewrites it in place with `>`, which keeps its owner. A file there owned by another user (left from a time
// the directory was open), or a link of theirs (dangling too: `[ -e ]` is false for it, so it was skipped, and the
// write went where the link points), let that user choose what root runs. Every entry of the directory is checked now.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, existsSync, lchownSync, lstatSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, type Sandbox } from './sandbox.js';

const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

describe('install/cpanel.sh: anything in /etc/mailhealth or /var/lib/mailhealth another user owns is refused', { skip: IS_ROOT ? false : 'needs root (chown); the check runs only when the installer is root' }, () => {
  let s: Sandbox;
  before(() => (s = sandbox()));
  after(() => s.close());
  const R = (p: string) => join(s.root, p);

  /** An upgrade over `prepare`d state: refused, nothing upgraded, the reason names `shown`. */
  const refused = (shown: string) => {
    s.release('0.2.0');
    s.clear();
    const r = s.run('cpanel.sh');
    assert.notEqual(r.code, 0, r.out + r.err);
    assert.match(r.err, new RegExp(`${shown.replace(/[/.]/g, '\\$&')} belongs to uid 1000, not root: .*chown -R root:root`));
    assert.equal(s.installed(), '0.1.0');
    assert.ok(!s.calls().some((c) => c.startsWith('install_plugin') || c.startsWith('systemctl stop')), s.calls().join('\n'));
    s.release('0.1.0');
  };

  test('/etc/mailhealth/node (the Node.js the Plesk helper runs as root) owned by uid 1000', () => {
    assert.equal(s.run('cpanel.sh').code, 0);
    assert.ok(existsSync(R('etc/mailhealth/node')));
    chownSync(R('etc/mailhealth/node'), 1000, 1000);
    refused('/etc/mailhealth/node');
    assert.equal(lstatSync(R('etc/mailhealth/node')).uid, 1000, 'left as it was for the admin to look at');
    chownSync(R('etc/mailhealth/node'), 0, 0);
  });

  test("a dangling link of uid 1000's in place of /etc/mailhealth/node (the write would create the file where it points)", () => {
    rmSync(R('etc/mailhealth/node'));
    symlinkSync(R('tmp-not-there/node'), R('etc/mailhealth/node'));
    lchownSync(R('etc/mailhealth/node'), 1000, 1000);
    refused('/etc/mailhealth/node');
    assert.ok(!existsSync(R('tmp-not-there')), 'nothing written through the link');
    rmSync(R('etc/mailhealth/node'));
  });

  test('a file of any name in /var/lib/mailhealth owned by uid 1000', () => {
    assert.equal(s.run('cpanel.sh').code, 0);
    // (mailhealth.sqlite-journal: what SQLite writes there outside WAL mode; not on the old list.)
    symlinkSync('/nonexistent', R('var/lib/mailhealth/mailhealth.sqlite-journal'));
    lchownSync(R('var/lib/mailhealth/mailhealth.sqlite-journal'), 1000, 1000);
    refused('/var/lib/mailhealth/mailhealth.sqlite-journal');
    rmSync(R('var/lib/mailhealth/mailhealth.sqlite-journal'));
  });

  test('everything root-owned: the upgrade goes through as before', () => {
    s.release('0.2.0');
    const r = s.run('cpanel.sh');
    assert.equal(r.code, 0, r.out + r.err);
    assert.equal(s.installed(), '0.2.0');
  });
});
