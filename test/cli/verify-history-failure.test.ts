// CLI `verify N` and `history`'s re-check when the history database fails as the check's answer is stored (a full
// disk, an I/O error: setVerified throws). `verify` used to exit 2 with the store's own error (the database file's
// path, SQLite's words) and no answer. It now gives the answer the check found — verified, propagating or not — with
// a sentence saying it could not be recorded in the history (nothing was changed in the zone), exits as the answer
// says (0 verified or propagating, 1 not verified), and its JSON says `"recorded": false`; the store's error goes to
// stderr as a log line, as for `fix` and `undo`. `history` lists the change as recorded, its log line saying what the
// check found and that it could not be recorded (it said "could not be checked again").
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { openStore } from '../../src/adapters/store/store.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { startPlay } from '../helpers/fixplay.js';
import { cli, escapeRe, type CliRun } from './fixtures/run-cli.js';

const STORE_FAILS = pathToFileURL(join(REPO_ROOT, 'test/cli/fixtures/store-fails.ts')).href;

async function setup(t: TestContext) {
  const play = await startPlay();
  t.after(() => play.close());
  const db = join(dirname(play.dbPath), 'cli.sqlite');
  const base = ['--panel', 'files', '--panel-root', play.dir, '--resolver', play.dns.address, '--authoritative-port', String(play.dns.port), '--db', db];
  /** The CLI; with `failing`, every setVerified of the store fails (test/cli/fixtures/store-fails.ts). */
  const run = async (args: string[], failing = false) => {
    const r = await cli([...base, ...args], failing ? { env: { MH_TEST_STORE_FAILS: 'setVerified' }, preload: ['tsx', STORE_FAILS] } : {});
    // The CLI's files panel wrote the zone; the test's DNS server picks it up like a live authoritative server.
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
  /** A fix applied (recorded normally): its change id, propagating (the DNS server picked the zone up after its check). */
  const applied = async (domain: string, check: string) => {
    const r = await run(['fix', domain, '--check', check, '--apply', '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const j = JSON.parse(r.stdout) as { status: string; changeId: number; verified: string };
    assert.equal(j.status, 'applied');
    assert.equal(j.verified, 'propagating');
    return j.changeId;
  };
  return { play, db, run, stored, applied };
}

/** The answer (stdout) carries none of the store's words; the log (stderr) has them, as a line of its own. */
function assertSaidApart(r: CliRun, db: string, what: string): void {
  assert.ok(!r.stdout.includes(db), r.stdout);
  assert.doesNotMatch(r.stdout, /SQLITE_|mailhealth database/);
  assert.match(r.stderr, new RegExp(`^mailhealth: ${what}: the history database failed: cannot read or write the mailhealth database ${escapeRe(db)} \\(SQLITE_IOERR: disk I/O error\\)$`, 'm'));
}

test('verify --json: the answer cannot be stored — the check’s answer still given (exit 0 for verified), recorded: false, no store words', { timeout: 120_000 }, async (t) => {
  const c = await setup(t);
  const id = await c.applied('bakery.example', 'spf');

  const r = await c.run(['verify', String(id), '--json'], true);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const j = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual(
    { status: j.status, changeId: j.changeId, domain: j.domain, check: j.check, verified: j.verified, recorded: j.recorded },
    { status: 'checked', changeId: id, domain: 'bakery.example', check: 'spf', verified: 'yes', recorded: false },
  );
  assert.equal(
    j.message,
    "the panel and every one of the domain's nameservers answer with its records — this answer could not be recorded in the history " +
      '(the history database could not be read or written): the history still shows the change as propagating until it is verified again; nothing was changed in the zone',
  );
  assertSaidApart(r, c.db, `verify of change ${id}`);
  assert.equal(c.stored(id).verified, 'propagating', 'nothing stored');

  // Text output: the answer, then the sentence; exit 0.
  const text = await c.run(['verify', String(id)], true);
  assert.equal(text.code, 0, text.stderr + text.stdout);
  assert.equal(
    text.stdout,
    `Change ${id} (spf, bakery.example): verified — the panel and every one of the domain's nameservers answer with its records. ` +
      'This answer could not be recorded in the history (the history database could not be read or written): the history still shows the change as propagating until it is verified again; nothing was changed in the zone.\n',
  );
  assertSaidApart(text, c.db, `verify of change ${id}`);

  // Recorded as usual once the history works: recorded: true, the message the answer's meaning alone.
  const ok = await c.run(['verify', String(id), '--json']);
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  const k = JSON.parse(ok.stdout) as Record<string, unknown>;
  assert.equal(k.recorded, true);
  assert.equal(k.message, "the panel and every one of the domain's nameservers answer with its records");
  assert.equal(ok.stderr, '');
  assert.equal(c.stored(id).verified, 'yes');
});

test('verify: "not verified" cannot be stored — still exit 1 with the answer (not exit 2 with the store’s error)', { timeout: 120_000 }, async (t) => {
  const c = await setup(t);
  const id = await c.applied('bakery.example', 'spf');
  // The record edited by hand since: the panel does not show it.
  const zone = c.play.zoneText('bakery.example');
  c.play.writeZone('bakery.example', zone.replace('include:relay.mailchannels.net ', ''));
  c.play.refresh();
  const r = await c.run(['verify', String(id), '--json'], true);
  assert.equal(r.code, 1, r.stderr + r.stdout);
  const j = JSON.parse(r.stdout) as { status: string; verified: string; recorded: boolean; message: string };
  assert.deepEqual({ status: j.status, verified: j.verified, recorded: j.recorded }, { status: 'checked', verified: 'no', recorded: false });
  assert.match(j.message, /^the panel does not show its records — check the zone's records at bakery\.example TXT \(edited since\?\) — this answer could not be recorded in the history/);
  assertSaidApart(r, c.db, `verify of change ${id}`);
  assert.equal(c.stored(id).verified, 'propagating');
});

test('history: a re-check whose answer cannot be stored lists the change as recorded (exit 0); the log says what was found, not "could not be checked"', { timeout: 120_000 }, async (t) => {
  const c = await setup(t);
  const id = await c.applied('bakery.example', 'spf');
  // Last checked over a minute ago: due for the history's re-check.
  const s = openStore(c.db, { now: () => Date.now() - 120_000 });
  try {
    s.setVerified(id, 'propagating');
  } finally {
    s.close();
  }
  const r = await c.run(['history', 'bakery.example', '--json'], true);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const listed = (JSON.parse(r.stdout) as { changes: { id: number; verified: string }[] }).changes.find((x) => x.id === id);
  assert.equal(listed?.verified, 'propagating', 'listed as recorded');
  assertSaidApart(r, c.db, `checking change ${id} again \\(found: yes; listed as recorded\\)`);
  assert.doesNotMatch(r.stderr, /could not be checked again/);
  assert.equal(c.stored(id).verified, 'propagating');
});
