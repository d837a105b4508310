// A newer mailhealth migrated the history database under a running `serve`/`service` (review: the nightly report then
// failed every night with only a log line, and pages answered 503 until someone restarted it). The process stops by
// itself and exits 75, so the service manager (Restart=on-failure) starts the new version.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MIGRATIONS, type Migration } from '../../src/adapters/store/migrations.js';
import { openStore, StoreError } from '../../src/adapters/store/store.js';
import { UPGRADE_EXIT_CODE, watchForUpgrade } from '../../src/cli/upgrade-watch.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { CLI_ARGV } from '../helpers/cli-argv.js';

const NEXT: readonly Migration[] = [...MIGRATIONS, { description: 'test: a step of a later release', sql: 'CREATE TABLE later_release (id INTEGER PRIMARY KEY);' }];

test('the watch calls back once when a newer release migrated the database, never for a busy or unchanged one', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-upgrade-watch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'h.sqlite');
  const store = openStore(path);
  const seen: StoreError[] = [];
  const watch = watchForUpgrade(store, (e) => seen.push(e), 3_600_000);
  t.after(() => {
    watch.stop();
    store.close();
  });
  assert.equal(watch.check(), false);
  assert.equal(watch.upgraded, false);
  openStore(path, { migrations: NEXT }).close();
  assert.equal(watch.check(), true);
  assert.equal(watch.check(), true);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].code, 'too-new');
  const busy = watchForUpgrade({ schemaVersion: () => { throw new StoreError('locked', 'busy'); } }, () => assert.fail('a busy database is no upgrade'), 3_600_000);
  assert.equal(busy.check(), false);
  busy.stop();
});

test('serve stops by itself and exits 75 once a newer release migrated its database', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-upgrade-serve-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(REPO_ROOT, 'src/demo/panel'), join(dir, 'panel'), { recursive: true });
  const db = join(dir, 'h.sqlite');
  const args = ['--panel-root', join(dir, 'panel'), '--resolver', '127.0.0.1:9', '--db', db, 'serve', '--port', '0', '--no-report'];
  const child = spawn(process.execPath, [...CLI_ARGV, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MAILHEALTH_UPGRADE_CHECK_MS: '50' },
  });
  let stderr = '';
  let migrated = false;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.stderr.on('data', (d) => {
    stderr += String(d);
    if (!migrated && /serving on/.test(stderr)) {
      migrated = true;
      openStore(db, { migrations: NEXT }).close();
    }
  });
  // Only so that a serve that never stops fails the test instead of hanging it (not a speed requirement).
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await exited;
  clearTimeout(guard);
  assert.equal(code, UPGRADE_EXIT_CODE, stderr);
  assert.match(stderr, /mailhealth was upgraded while this process ran.* — stopping; exit 75 so the service manager starts the new version/);
});
