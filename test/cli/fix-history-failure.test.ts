// The CLI's fix and undo when the history database fails after the zone was written (a full disk, an I/O error): the
// answer — text or JSON, which a script or a panel page may pass on to a customer — says what the failure left in
// mailhealth's own words (the outcome pending, the verification not recorded), never the database file's path or
// SQLite's words; those go to stderr, the admin's terminal, as a log line. A fix written and recorded whose
// verification could not be recorded is applied (exit 0), not an error.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { openStore } from '../../src/adapters/store/store.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { startPlay } from '../helpers/fixplay.js';
import { cli } from './fixtures/run-cli.js';

const STORE_FAILS = pathToFileURL(join(REPO_ROOT, 'test/cli/fixtures/store-fails.ts')).href;

async function setup(t: TestContext) {
  const play = await startPlay();
  t.after(() => play.close());
  const db = join(dirname(play.dbPath), 'cli.sqlite');
  const base = ['--panel', 'files', '--panel-root', play.dir, '--resolver', play.dns.address, '--authoritative-port', String(play.dns.port), '--db', db];
  const run = async (args: string[], fails?: 'setVerified' | 'outcome') => {
    const r = await cli([...base, ...args], fails ? { env: { MH_TEST_STORE_FAILS: fails }, preload: ['tsx', STORE_FAILS] } : {});
    play.refresh();
    return r;
  };
  const stored = (id: number) => {
    const s = openStore(db);
    try {
      return s.getChange(id)!;
    } finally {
      s.close();
    }
  };
  return { db, run, stored };
}

/** The answer (stdout) carries none of the store's words; the log (stderr) has them, once, as a line of its own. */
function assertSaidApart(r: { stdout: string; stderr: string }, db: string): void {
  assert.ok(!r.stdout.includes(db), r.stdout);
  assert.doesNotMatch(r.stdout, /SQLITE_|mailhealth database/);
  assert.match(r.stderr, new RegExp(`^mailhealth: .*: the history database failed: cannot read or write the mailhealth database ${db.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(SQLITE_IOERR: disk I/O error\\)$`, 'm'));
}

test('fix --apply --json: the verification cannot be recorded — applied (exit 0) with a note; the store’s error on stderr only', { timeout: 120_000 }, async (t) => {
  const c = await setup(t);
  const r = await c.run(['fix', 'florist.example', '--check', 'lockdown', '--apply', '--json'], 'setVerified');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const j = JSON.parse(r.stdout) as { status: string; changeId: number; message: string };
  assert.equal(j.status, 'applied');
  assert.match(j.message, /its verification could not be recorded \(the history database could not be read or written\)/);
  assertSaidApart(r, c.db);
  assert.equal(c.stored(j.changeId).status, 'applied');

  // undo, text output: the same.
  const u = await c.run(['undo', String(j.changeId)], 'setVerified');
  assert.equal(u.code, 0, u.stderr + u.stdout);
  assert.match(u.stdout, /undone.* — its verification could not be recorded \(the history database could not be read or written\)/);
  assertSaidApart(u, c.db);
  assert.equal(c.stored(j.changeId).status, 'reverted');
});

test('fix --apply and undo --json: the outcome cannot be recorded — the zone written, the change pending, in mailhealth’s words', { timeout: 120_000 }, async (t) => {
  const c = await setup(t);
  const r = await c.run(['fix', 'florist.example', '--check', 'lockdown', '--apply'], 'outcome');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /the zone was written, but its outcome could not be recorded yet: the history database could not be read or written\. The history shows change \d+ as pending/);
  assertSaidApart(r, c.db);

  // An undo while the history still cannot record it: the change cannot be settled — said in mailhealth's words (the
  // reconcile error the CLI quotes), the store's on stderr.
  const id = Number(/The history shows change (\d+) as pending/.exec(r.stdout)?.[1]);
  const refused = await c.run(['undo', String(id), '--json'], 'outcome');
  assert.equal(refused.code, 1, refused.stderr + refused.stdout);
  assert.match((JSON.parse(refused.stdout) as { reason: string }).reason, /could not be checked yet \(the history database could not be read or written\); it is checked again on the next try/);
  assertSaidApart(refused, c.db);

  // Settled (the zone holds it); an undo whose own outcome cannot be recorded: written, pending, exit 0.
  const s = openStore(c.db);
  try {
    assert.ok(s.settleIntent(id, { status: 'applied' }));
  } finally {
    s.close();
  }
  const u = await c.run(['undo', String(id), '--json'], 'outcome');
  assert.equal(u.code, 0, u.stderr + u.stdout);
  const j = JSON.parse(u.stdout) as { status: string; changeId: number; message: string };
  assert.equal(j.status, 'applied');
  assert.match(j.message, /^undone.* — the zone was written, but its outcome could not be recorded yet: the history database could not be read or written\. The history shows change \d+ as pending/);
  assertSaidApart(u, c.db);
  assert.equal(c.stored(j.changeId).status, 'intent', 'the undo is pending until it is settled');
});
