// The CLI's side of the fix lifecycle after the write (QA, task E): what `undo` says when its check finds the panel
// not holding the restored records (D1), what `fix --apply` says about undoing a fix that `undo` alone cannot revert
// (D3), `mailhealth verify N` and `history` checking propagating changes again (D2), and a change whose records a later
// fix replaced (D4). The CLI runs as a child process against a files panel and a loopback DNS server that picks up the
// panel's zones only when the test says so (after each command, as a live authoritative server would).
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { openStore } from '../../src/adapters/store/store.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { startPlay, type Play } from '../helpers/fixplay.js';
import { cli, errorOf, type CliRun } from './fixtures/run-cli.js';

const EDIT_AFTER_WRITE = pathToFileURL(join(REPO_ROOT, 'test/cli/fixtures/edit-after-write.ts')).href;

interface Cli {
  play: Play;
  db: string;
  run(args: string[], opts?: { env?: NodeJS.ProcessEnv; preload?: string[] }): Promise<CliRun>;
  /** Preview and apply a fix (as the admin); its change id. */
  apply(domain: string, check: string, ...extra: string[]): Promise<{ changeId: number; verified: string }>;
}

async function setup(t: TestContext): Promise<Cli> {
  const play = await startPlay();
  t.after(() => play.close());
  const db = join(dirname(play.dbPath), 'cli.sqlite');
  const base = ['--panel', 'files', '--panel-root', play.dir, '--resolver', play.dns.address, '--authoritative-port', String(play.dns.port), '--db', db];
  const c: Cli = {
    play,
    db,
    async run(args, opts = {}) {
      // A preload written in TypeScript goes after tsx (cli() puts preloads first; tsx imported twice is loaded once).
      const r = await cli([...base, ...args], { env: opts.env, preload: opts.preload ? ['tsx', ...opts.preload] : undefined });
      // The CLI's files panel wrote the zone; the test's DNS server picks it up like a live authoritative server.
      play.refresh();
      return r;
    },
    async apply(domain, check, ...extra) {
      const preview = await c.run(['fix', domain, '--check', check, ...extra, '--json']);
      assert.equal(preview.code, 0, preview.stderr + preview.stdout);
      const r = await c.run(['fix', domain, '--check', check, ...extra, '--apply', '--plan-hash', JSON.parse(preview.stdout).planHash, '--json']);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const j = JSON.parse(r.stdout) as { status: string; changeId: number; verified: string };
      assert.equal(j.status, 'applied');
      return j;
    },
  };
  return c;
}

/** A change's stored state, read from the CLI's history database. */
function stored(c: Cli, id: number) {
  const store = openStore(c.db);
  try {
    return store.getChange(id)!;
  } finally {
    store.close();
  }
}

/** Makes a change's last check look two minutes old (a history view checks it again), its answer `propagating`. */
function lastCheckedLongAgo(c: Cli, id: number): void {
  const store = openStore(c.db, { now: () => Date.now() - 120_000 });
  try {
    store.setVerified(id, 'propagating');
  } finally {
    store.close();
  }
}

test('D1: an undo whose check finds the panel not holding the restored records says so, never "propagating"', { timeout: 120_000 }, async (t) => {
  const c = await setup(t);
  const { changeId } = await c.apply('florist.example', 'lockdown');
  // Someone edits the record right after the undo's write, before its check.
  const env = { MH_TEST_PANEL: c.play.dir, MH_TEST_EDIT_DOMAIN: 'florist.example', MH_TEST_EDIT_FROM: 'auth=dreamhost', MH_TEST_EDIT_TO: 'auth=someoneelse' };
  const r = await c.run(['undo', String(changeId)], { env, preload: [EDIT_AFTER_WRITE] });
  assert.equal(r.code, 0, r.stderr + r.stdout); // written and recorded, as a fix verified "no" is
  assert.match(r.stdout, /undone, but the panel does not show the restored records — check the zone's records at _mailchannels\.florist\.example TXT/);
  assert.doesNotMatch(r.stdout, /propagating/);
  const undoId = Number(/\(change (\d+); check again with: mailhealth verify \1\)/.exec(r.stdout)?.[1]);
  assert.ok(undoId > changeId, r.stdout);
  assert.equal(stored(c, undoId).verified, 'no');
});

test('D3: after a DKIM fix that had the panel generate the key, the hint says to turn signing off first; undo alone is refused', { timeout: 120_000 }, async (t) => {
  const c = await setup(t);
  const r = await c.run(['fix', 'nokey.example', '--check', 'dkim', '--apply']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const id = Number(/\(change (\d+)/.exec(r.stdout)?.[1]);
  assert.ok(id > 0, r.stdout);
  assert.doesNotMatch(r.stdout, /undo with: mailhealth undo/);
  assert.match(r.stdout, new RegExp(`the panel generated this DKIM key and signs nokey\\.example's mail with it — to undo, turn DKIM signing off for nokey\\.example in the panel first, then: mailhealth undo ${id}\\)`));
  // What the hint says: the undo alone is refused while the server signs with the key.
  const undo = await c.run(['undo', String(id), '--json']);
  assert.equal(undo.code, 1, undo.stdout);
  assert.match(JSON.parse(undo.stdout).reason, /Turn DKIM signing off for nokey\.example in the panel first/);
});

test('D3: a DKIM fix that only had the panel start signing (no record changed) offers no undo', { timeout: 120_000 }, async (t) => {
  const c = await setup(t);
  // clean.example's key is published; its signing switch is off (the files panel's per-domain setting).
  writeFileSync(join(c.play.dir, 'domains', 'clean.example.json'), JSON.stringify({ dkim: false }));
  const r = await c.run(['fix', 'clean.example', '--check', 'dkim', '--apply']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.doesNotMatch(r.stdout, /undo with: mailhealth undo/);
  assert.match(r.stdout, /it changed no DNS record, so there is nothing to undo — to stop signing, turn DKIM signing off for clean\.example in the panel\)/);
});

test('D2: verify CHANGE_ID checks a change again and stores the answer; scope, missing changes and refusals as undo', { timeout: 120_000 }, async (t) => {
  const c = await setup(t);
  const applied = await c.apply('bakery.example', 'spf');
  // The DNS server picked up the zone only after the fix's own check: propagating until checked again.
  assert.equal(applied.verified, 'propagating');
  const id = applied.changeId;

  const ok = await c.run(['verify', String(id), '--json']);
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  const j = JSON.parse(ok.stdout);
  assert.deepEqual({ status: j.status, changeId: j.changeId, domain: j.domain, check: j.check, verified: j.verified }, { status: 'checked', changeId: id, domain: 'bakery.example', check: 'spf', verified: 'yes' });
  assert.equal(stored(c, id).verified, 'yes', 'stored, as the web\'s "Verify again" stores it');
  const text = await c.run(['verify', String(id)]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`^Change ${id} \\(spf, bakery\\.example\\): verified — the panel and every one of the domain's nameservers answer with its records\\.\\n$`));

  // A change the caller may not see answers exactly like a missing one (exit 2).
  const hidden = await c.run(['--as', 'bob', 'verify', String(id), '--json']);
  const missing = await c.run(['--as', 'bob', 'verify', '99999', '--json']);
  assert.equal(hidden.code, 2);
  assert.equal(missing.code, 2);
  assert.equal(errorOf(hidden.stdout).kind, 'usage');
  assert.equal(errorOf(hidden.stdout).message.replace(String(id), 'N'), errorOf(missing.stdout).message.replace('99999', 'N'));
  assert.equal(stored(c, id).verified, 'yes');
  assert.equal((await c.run(['verify', 'abc'])).code, 2);
  // No database at a named path: no such change, and none is created.
  const nowhere = join(dirname(c.db), 'none.sqlite');
  const none = await cli(['--panel', 'files', '--panel-root', c.play.dir, '--db', nowhere, 'verify', String(id), '--json']);
  assert.equal(none.code, 2);
  assert.match(errorOf(none.stdout).message, new RegExp(`no change ${id} that root may see`));
  assert.ok(!existsSync(nowhere));

  // The record edited by hand since: the panel does not show it — "no", exit 1.
  const zone = c.play.zoneText('bakery.example');
  c.play.writeZone('bakery.example', zone.replace('include:relay.mailchannels.net ', ''));
  c.play.refresh();
  const no = await c.run(['verify', String(id), '--json']);
  assert.equal(no.code, 1, no.stdout);
  assert.equal(JSON.parse(no.stdout).verified, 'no');
  assert.match(JSON.parse(no.stdout).message, /the panel does not show its records — check the zone's records at bakery\.example TXT/);
  c.play.writeZone('bakery.example', zone);
  c.play.refresh();

  // Undone: nothing to verify (refused, exit 1).
  assert.equal((await c.run(['undo', String(id)])).code, 0);
  const undone = await c.run(['verify', String(id), '--json']);
  assert.equal(undone.code, 1);
  assert.equal(JSON.parse(undone.stdout).status, 'refused');
  assert.match(JSON.parse(undone.stdout).reason, new RegExp(`Change ${id} is reverted, not applied: there is nothing to verify`));
});

test('D2: history checks again the changes still propagating whose last check is over a minute old (not with --no-recheck)', { timeout: 120_000 }, async (t) => {
  const c = await setup(t);
  const { changeId: id, verified } = await c.apply('bakery.example', 'spf');
  assert.equal(verified, 'propagating');
  // Checked a moment ago: listed as it is, not asked again.
  const fresh = JSON.parse((await c.run(['history', '--json'])).stdout);
  assert.equal(fresh.changes.find((x: { id: number }) => x.id === id).verified, 'propagating');

  lastCheckedLongAgo(c, id);
  const r = await c.run(['history', 'bakery.example', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).changes.find((x: { id: number }) => x.id === id).verified, 'yes');
  assert.equal(stored(c, id).verified, 'yes');

  lastCheckedLongAgo(c, id);
  const quiet = await c.run(['history', '--no-recheck', '--json']);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(JSON.parse(quiet.stdout).changes.find((x: { id: number }) => x.id === id).verified, 'propagating');
  assert.equal(stored(c, id).verified, 'propagating');
});

test('D4: a change whose records a later fix replaced is listed "replaced by #M", not checked again, and verify says why', { timeout: 120_000 }, async (t) => {
  const c = await setup(t);
  const first = (await c.apply('bakery.example', 'spf')).changeId;
  // A later fix of the same record: the Google include removed too (the user's choice).
  const second = (await c.apply('bakery.example', 'spf', '--remove-term', 'include:_spf.google.com')).changeId;
  assert.ok(second > first);
  lastCheckedLongAgo(c, first);

  const h = JSON.parse((await c.run(['history', 'bakery.example', '--json'])).stdout) as { changes: { id: number; verified: string; replacedBy?: number }[] };
  const a = h.changes.find((x) => x.id === first)!;
  assert.equal(a.replacedBy, second);
  assert.equal(a.verified, 'propagating', 'not checked again (it would only turn "no")');
  assert.equal(h.changes.find((x) => x.id === second)!.replacedBy, undefined);
  const text = await c.run(['history', 'bakery.example', '--no-recheck']);
  assert.match(text.stdout, new RegExp(`#${first} .* applied \\(propagating\\) by root — replaced by #${second}\\n`));

  const v = await c.run(['verify', String(first), '--json']);
  assert.equal(v.code, 1);
  const j = JSON.parse(v.stdout);
  assert.equal(j.status, 'refused');
  assert.equal(j.replacedBy, second);
  assert.match(j.reason, new RegExp(`Change ${first} was replaced by change ${second}, a later fix of the same records.*Verify change ${second} instead\\.`));
  assert.equal(stored(c, first).verified, 'propagating', 'nothing stored');

  // Its undo would overwrite the later fix: refused, naming it.
  const undo = await c.run(['undo', String(first), '--json']);
  assert.equal(undo.code, 1);
  assert.match(JSON.parse(undo.stdout).reason, new RegExp(`Change ${second}, a later fix, replaced these records: undo change ${second} first, then this one\\.`));
});

test('undo sent again by the same user (a retried command) answers "already" with that undo, exit 0; nothing written twice', { timeout: 120_000 }, async (t) => {
  const c = await setup(t);
  const { changeId } = await c.apply('florist.example', 'dmarc');
  const first = await c.run(['undo', String(changeId), '--json']);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  const undoId = (JSON.parse(first.stdout) as { changeId: number }).changeId;
  const again = await c.run(['undo', String(changeId), '--json']);
  assert.equal(again.code, 0, again.stderr + again.stdout);
  const j = JSON.parse(again.stdout) as { status: string; changeId: number; undoOf: number; reason: string };
  assert.deepEqual([j.status, j.changeId, j.undoOf], ['already', undoId, changeId]);
  assert.match(j.reason, new RegExp(`already undone as change #${undoId}`));
  assert.equal(stored(c, undoId + 1), null, 'no further change recorded');
  const text = await c.run(['undo', String(changeId)]);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^already: Change \d+ was already undone as change #\d+/);
});
