// Web undo (page and API) of a fix interrupted part-way through a record-by-record write, when the settling pass the
// server runs first (server.ts: forced before every request acting on history) puts the old records back but the
// history database fails as that is recorded. The answer used to be the generic "whether it was written could not be
// checked yet … Nothing was changed; try again shortly" — false: records had just been put back, and nothing is left to
// undo. The pass's result for the change now reaches the undo (AppDeps.settledBefore), as the CLI's `undo` passes it,
// and the answer is settling.ts's: what was put back, that it could not be recorded, what to check — never the store's
// own words (those are in the settler's log line).
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import request from 'supertest';
import { StoreError, type Store } from '../../src/adapters/store/store.js';
import { startServer, type RunningServer } from '../../src/web/server.js';
import { recordKeys, startPlay, type Play } from '../helpers/fixplay.js';
import { csrfFrom, PASSWORD, setPasswords } from './helpers.js';

const TOKEN = 'restored-unrecorded-admin-token';
const DOMAIN = 'twospf.example';
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * The play's files panel writing record by record (as Plesk does: reconcile puts back what a partly written fix left),
 * behind a server whose store fails — as a full disk does, naming its file and quoting SQLite — when a put-back is
 * recorded (settleIntent to 'restored'); every other store call works. No timer: only requests settle.
 */
async function world(t: TestContext): Promise<{ play: Play; server: RunningServer; log: string[] }> {
  const play = await startPlay();
  t.after(() => play.close());
  (play.panel as { capabilities: Play['panel']['capabilities'] }).capabilities = { ...play.panel.capabilities, recordByRecordWrites: true };
  const store = new Proxy(play.store, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (prop === 'settleIntent') {
        return (...args: Parameters<Store['settleIntent']>) => {
          if (args[1].status === 'restored') throw new StoreError('io', `cannot read or write the mailhealth database ${target.path} (SQLITE_IOERR: disk I/O error)`);
          return target.settleIntent(...args);
        };
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  await setPasswords(play.store, ['root']);
  const log: string[] = [];
  const server = await startServer({
    panel: play.panel,
    store,
    makeResolver: () => play.resolver(),
    identityFrom: 'session',
    adminToken: TOKEN,
    host: '127.0.0.1',
    port: 0,
    settle: { timerMs: 0, log: (line) => log.push(line) },
  });
  t.after(() => server.close());
  return { play, server, log };
}

/** A fix killed part-way through its write (after the server started): its intent open, only its first change in the zone. */
async function halfWritten(play: Play): Promise<{ id: number; at: string; original: string }> {
  const original = play.zoneText(DOMAIN);
  const plan = await play.plan(DOMAIN, 'spf');
  assert.ok(plan.changes.length >= 2, JSON.stringify(plan.changes));
  const zone = await play.panel.readZone(DOMAIN);
  const id = play.store.recordIntent({ domain: DOMAIN, check: 'spf', planHash: plan.planHash, zoneVersion: zone.version, changes: plan.changes, byUser: 'root' });
  await play.panel.applyChanges(DOMAIN, [plan.changes[0]], zone.version);
  assert.notEqual(play.zoneText(DOMAIN), original);
  return { id, at: [...new Set(plan.changes.map((c) => `${c.name} ${c.type}`))].join(', '), original };
}

function assertRestoredReason(reason: string, id: number, at: string, dbPath: string): void {
  assert.match(reason, new RegExp(`^Change ${id} has nothing left to undo: its fix on twospf\\.example was interrupted part-way through its write, and mailhealth has just put the records at ${escapeRe(at)} back as they were before it`));
  assert.match(reason, /could not record that in the history \(the history database could not be read or written\)/);
  assert.match(reason, new RegExp(`the history shows change ${id} as pending until mailhealth settles it from the zone`));
  assert.doesNotMatch(reason, /Nothing was changed|could not be checked yet|try again shortly|found: restored/);
  assert.ok(!reason.includes(dbPath));
  assert.doesNotMatch(reason, /SQLITE_|mailhealth database/);
}

test('undo page: says the records were put back but not recorded, not "Nothing was changed"', async (t) => {
  const { play, server, log } = await world(t);
  // Logged in first: those requests settle too (throttled), and the fix is killed after them — the undo's own pass is
  // the one that finds it.
  const agent = request.agent(server.url);
  const page = await agent.get('/login').expect(200);
  await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), user: 'root', password: PASSWORD }).expect(303);
  const csrf = ((await agent.get('/api/me').expect(200)).body as { csrf: string }).csrf;
  const { id, at, original } = await halfWritten(play);
  const res = await agent.post(`/changes/${id}/undo`).type('form').send({ _csrf: csrf });
  assert.equal(res.status, 409, res.text);
  const outcome = /id="outcome"[^>]*>([\s\S]*?)<\/p>/.exec(res.text)?.[1] ?? '';
  const text = outcome.replace(/<[^>]+>/g, '').replace(/&#39;/g, "'").replace(/&amp;/g, '&').replace(/\s+/g, ' ').trim();
  assertRestoredReason(text.replace(/^Refused: /, ''), id, at, play.dbPath);
  assert.ok(!res.text.includes(play.dbPath));
  // It did put them back (the zone as before the fix); the change stays open; the store's words are in the log.
  const notSoa = (x: { type: string }) => x.type !== 'SOA';
  assert.deepEqual(recordKeys(play.zoneText(DOMAIN), DOMAIN, notSoa), recordKeys(original, DOMAIN, notSoa));
  assert.equal(play.store.getChange(id)!.status, 'intent');
  assert.ok(log.some((l) => l.includes(play.dbPath)), log.join('\n'));
});

test('undo API: the same reason, why: settling', async (t) => {
  const { play, server } = await world(t);
  const { id, at } = await halfWritten(play);
  const res = await fetch(`${server.url}/api/changes/${id}/undo`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{}' });
  assert.equal(res.status, 409);
  const body = (await res.json()) as { status: string; reason: string; why: string; undoOf: number };
  assert.deepEqual([body.status, body.why, body.undoOf], ['refused', 'settling', id]);
  assertRestoredReason(body.reason, id, at, play.dbPath);
});
