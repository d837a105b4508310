// CLI `undo N` of a fix that was interrupted part-way through its write, when the settling that comes first (reconcile)
// puts the old records back in the zone but the history database fails as that is recorded (a full disk, an I/O
// error). The answer used to quote reconcile's words inside "whether it was written could not be checked yet (…)" and
// end "Nothing was changed; try again shortly." — false: records had just been put back, and there is nothing left to
// undo. It now says what was put back, that it could not be recorded, and what to do; never the store's own words
// (those go to stderr, as a log line).
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { openStore } from '../../src/adapters/store/store.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { recordKeys, startPlay } from '../helpers/fixplay.js';
import { cli, escapeRe } from './fixtures/run-cli.js';

const RESTORE_UNRECORDED = pathToFileURL(join(REPO_ROOT, 'test/cli/fixtures/restore-unrecorded.ts')).href;

test('undo after reconcile put records back but could not record it: says what was put back and what to do, not "Nothing was changed"', { timeout: 120_000 }, async (t) => {
  const play = await startPlay();
  t.after(() => play.close());
  const db = join(dirname(play.dbPath), 'cli.sqlite');
  const domain = 'twospf.example';
  const original = play.zoneText(domain);

  // A fix killed part-way through a record-by-record write: its intent open, only its first change in the zone, its
  // lock gone (a lease that ran out).
  const plan = await play.plan(domain, 'spf');
  assert.ok(plan.changes.length >= 2, JSON.stringify(plan.changes));
  const zone = await play.panel.readZone(domain);
  const store = openStore(db);
  const id = store.recordIntent({ domain, check: 'spf', planHash: plan.planHash, zoneVersion: zone.version, changes: plan.changes, byUser: 'root' });
  store.close();
  await play.panel.applyChanges(domain, [plan.changes[0]], zone.version);
  assert.notEqual(play.zoneText(domain), original);

  const base = ['--panel', 'files', '--panel-root', play.dir, '--resolver', play.dns.address, '--authoritative-port', String(play.dns.port), '--db', db];
  const r = await cli([...base, 'undo', String(id), '--json'], { preload: ['tsx', RESTORE_UNRECORDED] });
  assert.equal(r.code, 1, r.stderr + r.stdout);
  const j = JSON.parse(r.stdout) as { status: string; reason: string; undoOf: number };
  assert.equal(j.status, 'refused');
  assert.equal(j.undoOf, id);
  // What was put back, where, and that it could not be recorded — in mailhealth's words.
  const at = [...new Set(plan.changes.map((c) => `${c.name} ${c.type}`))].join(', ');
  assert.match(j.reason, new RegExp(`^Change ${id} has nothing left to undo: its fix on twospf\\.example was interrupted part-way through its write, and mailhealth has just put the records at ${escapeRe(at)} back as they were before it`));
  assert.match(j.reason, /could not record that in the history \(the history database could not be read or written\)/);
  assert.match(j.reason, new RegExp(`the history shows change ${id} as pending until mailhealth settles it from the zone`));
  // Never the old, false words.
  assert.doesNotMatch(j.reason, /Nothing was changed|could not be checked yet|try again shortly|found: restored/);
  // The store's own words: on stderr only, as a log line.
  assert.ok(!r.stdout.includes(db), r.stdout);
  assert.doesNotMatch(r.stdout, /SQLITE_|mailhealth database/);
  assert.match(r.stderr, new RegExp(`^mailhealth: settling change ${id}: the history database failed: cannot read or write the mailhealth database ${escapeRe(db)} \\(SQLITE_IOERR: disk I/O error\\)$`, 'm'));

  // It did put them back: the zone holds the original records again (SOA aside); the change is still open.
  const notSoa = (x: { type: string }) => x.type !== 'SOA';
  assert.deepEqual(recordKeys(play.zoneText(domain), domain, notSoa), recordKeys(original, domain, notSoa));
  const after = openStore(db);
  try {
    assert.equal(after.getChange(id)!.status, 'intent');
  } finally {
    after.close();
  }
});
