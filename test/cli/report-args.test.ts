import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkOutPath, parseSince, reportCommand, type ReportCommandOptions } from '../../src/cli/commands/report.js';
import { UsageError } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';
import { countingLimiter, startWorld, type TestWorld } from '../cron/world.js';

// `report` usage errors come before anything runs: exit 2, no audit, no report run, no database written.
describe('mailhealth report: --out and --since are checked before anything runs', () => {
  let w: TestWorld;
  let base: ReportCommandOptions;
  let dbPath: string;
  before(async () => {
    w = await startWorld();
    dbPath = join(w.dir, 'args.sqlite');
    base = { panel: 'files', panelRoot: join(w.dir, 'panel'), resolver: w.dns.address, authoritativePort: w.dns.port, db: dbPath };
  });
  after(() => w?.close());

  const run = (extra: Partial<ReportCommandOptions>) => reportCommand({ ...base, ...extra }, { limiter: countingLimiter(), stdout: () => {}, stderr: () => {} });

  test('--out in a directory that does not exist, or naming a directory: a clear usage error, nothing run or saved', async () => {
    await assert.rejects(run({ out: join(w.dir, 'no-such-dir', 'r.html') }), (e: unknown) => e instanceof UsageError && /the directory .*no-such-dir does not exist/.test(e.message));
    await assert.rejects(run({ out: w.dir }), (e: unknown) => e instanceof UsageError && /is a directory/.test(e.message));
    const file = join(w.dir, 'plain-file');
    writeFileSync(file, 'x');
    await assert.rejects(run({ out: join(file, 'r.json') }), (e: unknown) => e instanceof UsageError && /is not a directory/.test(e.message));
    assert.equal(existsSync(dbPath), false, 'no database written: nothing ran');
  });

  test('--email with no database yet (so no recipients): a usage error, and no database is created', async () => {
    await assert.rejects(run({ email: true }), (e: unknown) => e instanceof UsageError && /--email: no recipients configured/.test(e.message));
    assert.equal(existsSync(dbPath), false, 'no database written: nothing ran');
  });

  test('--out a new file in an existing writable directory is fine', () => {
    checkOutPath(join(w.dir, 'new-report.html'));
    checkOutPath('relative-name.json'); // the current directory
  });

  test('--since takes only YYYY-MM-DD or an ISO timestamp, each field checked', async () => {
    for (const bad of ['2024-13-01', '2024-00-10', '2024-02-30', '1', '12/31/2024 junk', '2024-1-5', '2024-01-05T24:00Z', '2024-01-05T10:60', '2024-01-05T10:30+24:00', '2024-01-05 10:30', ' 2024-01-05', 'yesterday']) {
      assert.throws(() => parseSince(bad), (e: unknown) => e instanceof UsageError && /--since takes "last" or a date: YYYY-MM-DD/.test(e.message) && e.message.includes(JSON.stringify(bad)), bad);
    }
    const endOfDay = parseSince('2024-02-29') as Date;
    assert.deepEqual([endOfDay.getFullYear(), endOfDay.getMonth(), endOfDay.getDate(), endOfDay.getHours(), endOfDay.getMinutes()], [2024, 1, 29, 23, 59]);
    assert.equal((parseSince('2026-01-05T10:30:00.5+02:00') as Date).toISOString(), '2026-01-05T08:30:00.500Z');
    assert.equal((parseSince('2026-01-05T10:30Z') as Date).toISOString(), '2026-01-05T10:30:00.000Z');
    assert.equal(parseSince('last'), 'last');
    await assert.rejects(run({ since: '2024-13-01' }), UsageError);
    assert.equal(existsSync(dbPath), false, 'no database written: nothing ran');
  });

  test('through the command line: exit 2, nothing written', async () => {
    const stderr = process.stderr.write;
    let said = '';
    process.stderr.write = ((s: string) => ((said += s), true)) as typeof process.stderr.write;
    const before = process.exitCode;
    try {
      const g = ['--panel', 'files', '--panel-root', join(w.dir, 'panel'), '--resolver', w.dns.address, '--authoritative-port', String(w.dns.port), '--db', dbPath];
      assert.equal(await main(['report', ...g, '--out', join(w.dir, 'missing', 'r.html')]), 2);
      assert.equal(await main(['report', ...g, '--since', '12/31/2024 junk']), 2);
    } finally {
      process.stderr.write = stderr;
      process.exitCode = before;
    }
    assert.match(said, /--out .*does not exist/);
    assert.match(said, /--since takes/);
    assert.equal(existsSync(dbPath), false);
  });
});
