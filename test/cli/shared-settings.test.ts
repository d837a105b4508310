// The admin's shared settings file (src/cli/shared-settings.ts) as the root service publishes it for the cPanel page,
// which runs as each customer: it must be world-readable (0644) and reachable (every directory on its path searchable
// by others) whatever the service's umask — the systemd unit sets UMask=0077 (install/mailhealth.service).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishSharedSettings, readSharedSettings } from '../../src/cli/shared-settings.js';

/** A store with the admin's settings (only what publishSharedSettings reads). */
const adminStore = (values: Record<string, unknown> = { 'mailchannels.accountId': 'realmc', 'audit.blocklists': true }) => ({
  getSetting: <T = unknown>(k: string) => values[k] as T | undefined,
});

/** Runs `fn` under the service's umask (0077), restoring the test process's umask afterwards. */
function underServiceUmask<T>(fn: () => T): T {
  const prev = process.umask(0o077);
  try {
    return fn();
  } finally {
    process.umask(prev);
  }
}

/** Captures what `fn` writes to stderr (publishSharedSettings logs there and never throws). */
function stderrOf(fn: () => void): string {
  let out = '';
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stderr.write = write;
  }
  return out;
}

const scratch = (t: { after(fn: () => void): void }) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-shared-settings-'));
  chmodSync(dir, 0o755); // mkdtemp makes it 0700; the tests below set the modes they need
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

test('published under the service umask (0077), the file is 0644: the customer’s cPanel page can read it', (t) => {
  const path = join(scratch(t), 'mailhealth-settings.json');
  const log = stderrOf(() => underServiceUmask(() => publishSharedSettings(adminStore(), path)));
  assert.equal(statSync(path).mode & 0o777, 0o644, 'world-readable despite UMask=0077');
  assert.equal(log, '', 'nothing to report');
  assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { 'mailchannels.accountId': 'realmc', 'audit.blocklists': true });
  // Republished (a save on the settings page) over a file someone made private: 0644 again.
  chmodSync(path, 0o600);
  underServiceUmask(() => publishSharedSettings(adminStore({ 'mailchannels.accountId': 'other' }), path));
  assert.equal(statSync(path).mode & 0o777, 0o644);
  assert.equal(readSharedSettings(path)?.['mailchannels.accountId'], 'other');
});

test('a missing directory is created searchable by others (0755) under the service umask', (t) => {
  const path = join(scratch(t), 'new', 'dir', 'mailhealth-settings.json');
  const log = stderrOf(() => underServiceUmask(() => publishSharedSettings(adminStore(), path)));
  assert.equal(log, '');
  assert.equal(statSync(join(path, '..')).mode & 0o777, 0o755);
  assert.equal(statSync(join(path, '../..')).mode & 0o777, 0o755);
  assert.equal(statSync(path).mode & 0o777, 0o644);
});

test('a directory others cannot search is left alone and reported: the cPanel page could not reach the file', (t) => {
  const dir = join(scratch(t), 'private');
  mkdirSync(dir, { mode: 0o700 });
  chmodSync(dir, 0o700);
  const path = join(dir, 'mailhealth-settings.json');
  const log = stderrOf(() => underServiceUmask(() => publishSharedSettings(adminStore(), path)));
  assert.equal(statSync(dir).mode & 0o777, 0o700, 'never loosened (it could be /etc/mailhealth, which holds the API token)');
  assert.equal(statSync(path).mode & 0o777, 0o644, 'the file itself is still published');
  assert.match(log, /not searchable by others/);
  assert.match(log, new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
});

test('never throws: a failure is logged, and no temp file is left behind', (t) => {
  const dir = scratch(t);
  const blocker = join(dir, 'file');
  writeFileSync(blocker, 'x');
  // Its "directory" is a file: nothing can be written.
  const log = stderrOf(() => underServiceUmask(() => publishSharedSettings(adminStore(), join(blocker, 'mailhealth-settings.json'))));
  assert.match(log, /could not publish the shared settings/);
  // The temp file is written but cannot replace the target (a directory is in the way): it is removed.
  const target = join(dir, 'taken');
  mkdirSync(join(target, 'inside'), { recursive: true });
  const log2 = stderrOf(() => underServiceUmask(() => publishSharedSettings(adminStore(), target)));
  assert.match(log2, /could not publish the shared settings/);
  assert.deepEqual(readdirSync(dir).sort(), ['file', 'taken']);
});
