// The CLI's --json contract (README "CLI", "JSON contract"), three outcomes it missed:
// - `history` printed a change's `error` as stored, where an older version had recorded the history database's own
//   error in it (its file's path, SQLite's words): the web withholds those words (GET /api/changes, the history page);
//   the CLI now gives the same text the web gives for the same stored change, and logs the stored text on stderr;
// - the history's bookkeeping of a change (copiesBefore / copiesAfter: how many copies of each record the zone held,
//   kept for the undo) was printed by `history --json` (each change's changes) and by an applied `undo --json`;
// - `--help --json` printed the help as text: under --json it is one JSON object, {"usage": the help's text}, exit 0.
// Real CLI processes against a files panel (and, for fix and undo, a loopback DNS server), as the other CLI tests.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openStore, type ChangeRecord } from '../../src/adapters/store/store.js';
import { shownChange } from '../../src/web/services.js';
import { startPlay } from '../helpers/fixplay.js';
import { cli, sandbox, type CliRun } from './fixtures/run-cli.js';

/** The one JSON value stdout holds (JSON.parse refuses a second value, or text, beside it). */
function onlyJson(r: CliRun): Record<string, unknown> {
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** `fn`'s result, with what it writes on stderr (the web's log) kept out of the test's output. */
function quietly<T>(fn: () => T): T {
  const write = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return fn();
  } finally {
    process.stderr.write = write;
  }
}

test("history (--json and text): a change's error naming the history database's file, as older versions stored it, is shown as the web shows it", { timeout: 60_000 }, async (t) => {
  const { panel, db } = sandbox(t, 'mh-leftovers-');
  const store = openStore(db);
  const stored: { id: number; error: string }[] = [];
  try {
    for (const error of [
      // In parentheses (a store error quoted by a fix's outcome): only those words are withheld.
      `written late — the history database failed (mailhealth database ${db}: SQLITE_IOERR disk I/O error)`,
      // Anywhere else: the whole text.
      `the mailhealth database ${db} is locked by another process`,
      // Words that merely look like the store's (a panel's message): the customer's own, shown as they are.
      'refused: the panel said SQLITE_BUSY (mailhealth database busy)',
    ]) {
      const id = store.recordIntent({ domain: 'bakery.example', check: 'spf', planHash: `sha256:${String(stored.length).repeat(64)}`, zoneVersion: null, changes: [], byUser: 'root' });
      store.settleIntent(id, { status: 'failed', error });
      stored.push({ id, error });
    }
  } finally {
    store.close();
  }
  // What the web gives for each stored change (GET /api/changes, the history page: services.ts shownChange).
  const web = openStore(db);
  const webError = new Map<number, string | null>();
  try {
    for (const { id } of stored) webError.set(id, quietly(() => shownChange(web, web.getChange(id)!)).error);
  } finally {
    web.close();
  }
  assert.equal(webError.get(stored[0].id), "written late — the history database failed (withheld: the server's log has it)");
  assert.equal(webError.get(stored[1].id), "The reason is not shown here (the server's log has it).");
  assert.equal(webError.get(stored[2].id), stored[2].error);

  const base = ['--panel-root', panel, '--db', db, 'history', 'bakery.example', '--no-recheck'];
  const json = await cli([...base, '--json']);
  assert.equal(json.code, 0, json.stderr + json.stdout);
  const changes = onlyJson(json).changes as ChangeRecord[];
  assert.deepEqual(
    changes.map((c) => [c.id, c.error]).sort((a, b) => Number(a[0]) - Number(b[0])),
    stored.map(({ id }) => [id, webError.get(id)]),
  );
  assert.ok(!json.stdout.includes(db), `the database's file is not in the answer: ${json.stdout}`);
  // The stored text goes to the admin's terminal (stderr), as the web logs it.
  assert.ok(json.stderr.includes(stored[0].error) && json.stderr.includes(stored[1].error), json.stderr);

  const text = await cli(base);
  assert.equal(text.code, 0, text.stderr + text.stdout);
  for (const { id } of stored) assert.ok(text.stdout.includes(`        ${webError.get(id)}\n`), `change ${id}'s note: ${text.stdout}`);
  assert.ok(!text.stdout.includes(db), text.stdout);
});

/** The paths of every key named copiesBefore or copiesAfter in `v`. */
function internalFields(v: unknown, at = '$'): string[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => internalFields(x, `${at}[${i}]`));
  if (v === null || typeof v !== 'object') return [];
  return Object.entries(v).flatMap(([k, x]) => [...(k === 'copiesBefore' || k === 'copiesAfter' ? [`${at}.${k}`] : []), ...internalFields(x, `${at}.${k}`)]);
}

test('no JSON answer of fix, undo, verify or history carries a change\'s copiesBefore / copiesAfter (the history keeps them)', { timeout: 180_000 }, async (t: TestContext) => {
  const play = await startPlay();
  t.after(() => play.close());
  const db = join(dirname(play.dbPath), 'cli.sqlite');
  const base = ['--panel', 'files', '--panel-root', play.dir, '--resolver', play.dns.address, '--authoritative-port', String(play.dns.port), '--db', db];
  const answers: { what: string; doc: Record<string, unknown> }[] = [];
  const run = async (what: string, args: string[], exit = 0) => {
    const r = await cli([...base, ...args]);
    play.refresh();
    assert.equal(r.code, exit, `${what}: ${r.stderr}${r.stdout}`);
    const doc = onlyJson(r);
    answers.push({ what, doc });
    return doc;
  };
  const preview = await run('fix (preview)', ['fix', 'florist.example', '--check', 'lockdown', '--json']);
  const fix = await run('fix --apply', ['fix', 'florist.example', '--check', 'lockdown', '--apply', '--plan-hash', String(preview.planHash), '--json']);
  assert.equal(fix.status, 'applied', JSON.stringify(fix));
  const fixId = fix.changeId as number;
  const again = await run('fix --apply (the same preview again)', ['fix', 'florist.example', '--check', 'lockdown', '--apply', '--plan-hash', String(preview.planHash), '--json']);
  assert.equal(again.status, 'already', JSON.stringify(again));
  await run('verify', ['verify', String(fixId), '--json']);
  const fixHistory = await run('history (the fix)', ['history', 'florist.example', '--no-recheck', '--json']);
  const undo = await run('undo', ['undo', String(fixId), '--json']);
  assert.equal(undo.status, 'applied', JSON.stringify(undo));
  const undoAgain = await run('undo (again)', ['undo', String(fixId), '--json']);
  assert.equal(undoAgain.status, 'already', JSON.stringify(undoAgain));
  await run('history (the fix and its undo)', ['history', '--no-recheck', '--json']);

  // The premise: the history holds the copies for both changes (so an answer made from them could show them).
  const s = openStore(db);
  try {
    for (const id of [fixId, undo.changeId as number]) {
      const ch = s.getChange(id)!;
      assert.ok(ch.changes.length > 0 && ch.changes.every((c) => (c.before === null || c.copiesBefore !== undefined) && (c.after === null || c.copiesAfter !== undefined)), `change ${id}: ${JSON.stringify(ch.changes)}`);
    }
  } finally {
    s.close();
  }
  assert.deepEqual(answers.map(({ what, doc }) => ({ what, fields: internalFields(doc) })).filter((a) => a.fields.length), []);
  // The records themselves are still there.
  const listed = (fixHistory.changes as { id: number; changes: { action: string; before: unknown; after: unknown }[] }[]).find((c) => c.id === fixId)!;
  assert.deepEqual(listed.changes, (fix.changes as unknown[]), 'history lists the records the fix answered with');
  assert.ok((undo.changes as { action: string }[]).length > 0, JSON.stringify(undo));
});

test('--help under --json: one JSON object {"usage": the help text}, exit 0 — for the program, a command, `help COMMAND`', { timeout: 90_000 }, async () => {
  for (const [args, plain] of [
    [['--help', '--json'], ['--help']],
    [['fix', '--help', '--json'], ['fix', '--help']],
    [['fix', '--json', '--help'], ['fix', '--help']],
    [['history', '-h', '--json'], ['history', '--help']],
    [['help', 'undo', '--json'], ['undo', '--help']],
    // A command without --json of its own: the same (the help is shown before options are checked).
    [['serve', '--help', '--json'], ['serve', '--help']],
  ] as const) {
    const [r, text] = await Promise.all([cli([...args]), cli([...plain])]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^Usage: mailhealth/, 'the premise: the help as text');
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.deepEqual(onlyJson(r), { usage: text.stdout }, args.join(' '));
    assert.equal(r.stderr, '', args.join(' '));
  }
});
