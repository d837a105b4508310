// The web withholds the history database's own words — its file's path, which every error the store builds of SQLite's
// names (store.ts toStoreError) — from pages and API answers, and says the database failed only where a store failure
// was actually met. Review: the filter matched "SQLITE_[A-Z]" and "mailhealth database" anywhere, so a TXT record, a zone
// line or a panel's message quoting them (text the customer controls) hid legitimate content — a partly-written fix's
// "review removed <record>" — behind a false "the history database failed"; a panel error echoing SQLITE_BUSY was a
// 409 saying the database failed; a stored change's error was logged again on every view of the history; audits and
// bulk fix job rows a previous version recorded (which did quote the path) were shown as they were; and a path holding
// ")" was cut in two by the parenthesis match, part of it shown.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { SchemaChangedError, StoreError, toStoreError } from '../../src/adapters/store/store.js';
import type { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { PanelError, PartialWriteError, type Panel } from '../../src/core/panel.js';
import { buildWorld } from '../../src/demo/world.js';
import { BULK_FIX_JOB, jobAccount } from '../../src/web/jobs.js';
import { logWeb, shownText } from '../../src/web/services.js';
import { capturingLog } from './failing-store.js';
import { demoWorld, login, type TestWorld } from './helpers.js';

/** bakery.example's SPF record in the files panel's zone set to `spf`, served by the demo's DNS now. */
function setSpf(w: TestWorld, spf: string): void {
  const f = join(w.demo!.panelDir, 'zones', 'bakery.example.db');
  writeFileSync(f, readFileSync(f, 'utf8').replace(/"v=spf1 [^"]*"/, `"${spf}"`));
  w.demo!.dns.setData(buildWorld(w.demo!.panelDir));
}

/** What stands for words withheld because they named the database's file (services.ts WITHHELD). */
const WITHHELD = "(withheld: the server's log has it)";

/** What the store-text filter used to put instead of a text it took for the store's. */
const OLD_CLAIMS = /the history database (failed|could not be read or written)|the server's log says why|the server&#39;s log says why/;

test("a partly-written fix whose clean-up failed: History shows its \"review removed <record>\" though the record quotes SQLITE_BUSY", async () => {
  let broken = false;
  const wrap = (p: FilesPanel): Panel => {
    const w = Object.create(p) as Panel;
    // As Plesk's adapter: the delete went through, the add failed, and undoing its own step failed (PartialWriteError).
    w.applyChanges = async (_d, changes) => {
      broken = true;
      throw new PartialWriteError('other', 'plesk bin dns --add failed (exit 1)', [changes[0]]);
    };
    // The panel then does not answer the re-read that would put the record back.
    w.readZone = async (d) => {
      if (broken) {
        broken = false;
        throw new PanelError('other', 'Plesk: HTTP 502');
      }
      return p.readZone(d);
    };
    return w;
  };
  const w = await demoWorld({ wrapPanel: wrap });
  try {
    setSpf(w, 'v=spf1 exists:SQLITE_BUSY.%{d} +a +mx include:websitewelcome.com include:_spf.google.com ~all');
    const alice = await login(w.app, 'alice');
    const prev = await alice.agent.get('/api/domains/bakery.example/fix?check=spf').expect(200);
    await capturingLog(() => alice.agent.post('/api/domains/bakery.example/fix').set('x-csrf-token', alice.csrf).send({ check: 'spf', planHash: (prev.body as { planHash: string }).planHash }));
    const stored = w.store.changesForDomains(['bakery.example'], 5)[0];
    assert.match(stored.error ?? '', /putting it back failed .*review removed bakery\.example TXT "v=spf1 exists:SQLITE_BUSY/);
    const { result, log } = await capturingLog(async () => ({
      api: await alice.agent.get('/api/changes?domain=bakery.example').expect(200),
      page: await alice.agent.get('/history?domain=bakery.example').expect(200),
    }));
    // The record to restore is named, as recorded; nothing claims the history database failed, nothing is logged.
    assert.equal((result.api.body as { error: string | null }[])[0].error, stored.error);
    assert.match(result.page.text, /review removed bakery\.example TXT/);
    assert.doesNotMatch(result.page.text, OLD_CLAIMS);
    assert.equal(log, '');
  } finally {
    await w.close();
  }
});

test('the foreign records a reconcile lists (in parentheses) are shown though one of them quotes SQLITE_', async () => {
  const w = await demoWorld();
  try {
    const id = w.store.recordIntent({ domain: 'bakery.example', check: 'spf', planHash: `sha256:${'0'.repeat(64)}`, zoneVersion: 'v1', changes: [], byUser: 'alice' });
    // core/plans/apply.ts's reconcile, its format.
    const list = ['bakery.example TXT "v=spf1 include:evil.example ~all"', 'bakery.example TXT "note: SQLITE_BUSY in the mailhealth database"'];
    const error = `reconciled at start: the zone was edited since this write began (${list.join('; ')}); nothing was restored — review these records`;
    w.store.settleIntent(id, { status: 'failed', error });
    const alice = await login(w.app, 'alice');
    const { result: api } = await capturingLog(() => alice.agent.get('/api/changes?domain=bakery.example').expect(200));
    assert.equal((api.body as { error: string }[])[0].error, error);
  } finally {
    await w.close();
  }
});

test('a zone line the files panel cannot read, quoting SQLITE_: the fix result names it as the preview does', async () => {
  const w = await demoWorld();
  try {
    const f = join(w.demo!.panelDir, 'zones', 'bakery.example.db');
    writeFileSync(f, readFileSync(f, 'utf8') + 'junk SQLITE_BUSY here\n');
    w.demo!.dns.setData(buildWorld(w.demo!.panelDir));
    const alice = await login(w.app, 'alice');
    const prev = await alice.agent.get('/api/domains/bakery.example/fix?check=spf').expect(200);
    const { result: fix } = await capturingLog(() =>
      alice.agent.post('/api/domains/bakery.example/fix').set('x-csrf-token', alice.csrf).send({ check: 'spf', planHash: (prev.body as { planHash: string }).planHash }),
    );
    const reason = (fix.body as { reason?: string }).reason ?? '';
    assert.match(reason, /junk SQLITE_BUSY here/);
    assert.doesNotMatch(reason, OLD_CLAIMS);
  } finally {
    await w.close();
  }
});

test("a panel's error quoting SQLITE_BUSY is the panel's: shown as it is, never a history database failure", async () => {
  const wrap = (p: FilesPanel): Panel => {
    const w = Object.create(p) as Panel;
    // As WHM's adapter: cPanel's reason quoted, here echoing a zone line.
    w.readMailSettings = async (d) => {
      if (d === 'bakery.example') throw new PanelError('other', 'WHM get_domain_info failed: bad value "SQLITE_BUSY" for bakery.example');
      return p.readMailSettings(d);
    };
    return w;
  };
  const w = await demoWorld({ wrapPanel: wrap });
  try {
    const alice = await login(w.app, 'alice');
    const { result } = await capturingLog(async () => ({
      api: await alice.agent.get('/api/domains/bakery.example/fix?check=spf'),
      page: await alice.agent.get('/domains/bakery.example/fix?check=spf'),
    }));
    assert.equal(result.api.status, 409);
    assert.match((result.api.body as { error: string }).error, /bad value "SQLITE_BUSY" for bakery\.example/);
    assert.doesNotMatch((result.api.body as { error: string }).error, OLD_CLAIMS);
    assert.match(result.page.text, /bad value &#34;SQLITE_BUSY&#34;|bad value &quot;SQLITE_BUSY&quot;/);
    assert.doesNotMatch(result.page.text, OLD_CLAIMS);
  } finally {
    await w.close();
  }
});

/** The demo world with a panel whose domain listing throws `e()` once `on` is set (GET /domains meets it). */
async function listingFails(e: (path: string) => unknown): Promise<{ w: TestWorld; on: () => void }> {
  let on = false;
  let path = '';
  const w = await demoWorld({
    wrapPanel: (p) => {
      const x = Object.create(p) as Panel;
      x.listDomains = async (id) => {
        if (on) throw e(path);
        return p.listDomains(id);
      };
      return x;
    },
  });
  path = w.store.path;
  return { w, on: () => (on = true) };
}

test("an error answer naming the database's file, with no store failure behind it: only those words withheld, its status kept", async () => {
  const { w, on } = await listingFails((path) => new PanelError('other', `listing failed (it read ${path}): ask the panel`));
  try {
    const alice = await login(w.app, 'alice');
    on();
    const { result, log } = await capturingLog(async () => ({
      api: await alice.agent.get('/api/domains'),
      page: await alice.agent.get('/domains'),
    }));
    assert.equal(result.api.status, 502);
    assert.equal((result.api.body as { error: string }).error, `The panel reported a problem (other): listing failed ${WITHHELD}: ask the panel`);
    assert.equal(result.page.status, 502);
    assert.ok(!result.page.text.includes(w.store.path));
    assert.doesNotMatch(result.page.text, OLD_CLAIMS);
    assert.ok(log.includes(w.store.path), 'the answer as it came is in the log');
  } finally {
    await w.close();
  }
});

test('an error answer naming the database\'s file, caused by the store being busy: "busy", with 503', async () => {
  const { w, on } = await listingFails((path) => {
    const busy = toStoreError(new Database.SqliteError('database is locked', 'SQLITE_BUSY'), path) as StoreError;
    return Object.assign(new PanelError('other', `listing failed: ${busy.message}`), { cause: busy });
  });
  try {
    const alice = await login(w.app, 'alice');
    on();
    const { result: api } = await capturingLog(() => alice.agent.get('/api/domains'));
    assert.equal(api.status, 503);
    assert.match((api.body as { error: string }).error, /^The history database is busy \(another mailhealth process is writing to it\): this page could not be shown/);
    assert.ok(!api.text.includes(w.store.path));
  } finally {
    await w.close();
  }
});

test('a change whose error names the database file (recorded so by a previous version) is logged once, not on every view', async () => {
  const w = await demoWorld();
  try {
    const path = w.store.path;
    const id = w.store.recordIntent({ domain: 'bakery.example', check: 'spf', planHash: `sha256:${'1'.repeat(64)}`, zoneVersion: 'v1', changes: [], byUser: 'alice' });
    w.store.settleIntent(id, { status: 'failed', error: `the history database failed (the mailhealth database ${path} is locked by another process (database is locked); try again shortly)` });
    const alice = await login(w.app, 'alice');
    const { result, log } = await capturingLog(async () => [
      await alice.agent.get('/api/changes?domain=bakery.example').expect(200),
      await alice.agent.get('/api/changes?domain=bakery.example').expect(200),
      await alice.agent.get('/history?domain=bakery.example').expect(200),
    ]);
    assert.equal(log.split(path).length - 1, 1, `logged once:\n${log}`);
    for (const r of result) assert.ok(!r.text.includes(path));
    assert.equal((result[0].body as { error: string }[])[0].error, `the history database failed ${WITHHELD}`);
  } finally {
    await w.close();
  }
});

test("an audit a previous version recorded quoting the store: the domain's page and the API withhold the database's file", async () => {
  const w = await demoWorld();
  try {
    const path = w.store.path;
    const msg = `The panel could not provide the server's mail settings: the mailhealth database ${path} is locked by another process (database is locked); try again shortly`;
    const run = w.store.startRun('audit', 'root', 1);
    w.store.recordAudits(run, [
      {
        audit: {
          domain: 'bakery.example',
          status: 'unknown',
          auditedAt: new Date().toISOString(),
          findings: [
            { rule: 'dns.panel-settings-unreadable', check: 'dns', severity: 'unknown', message: msg, evidence: { panel: [msg, 'kept as it is'], why: { note: `(read ${path})` } } },
            { rule: 'spf.note', check: 'spf', severity: 'info', message: 'a record quoting SQLITE_BUSY stays', evidence: {} },
          ],
        } as never,
        owner: 'alice',
      },
    ]);
    w.store.finishRun(run, 'complete');
    const alice = await login(w.app, 'alice');
    const { result, log } = await capturingLog(async () => ({
      page: await alice.agent.get('/domains/bakery.example').expect(200),
      api: await alice.agent.get('/api/domains/bakery.example').expect(200),
      again: await alice.agent.get('/api/domains/bakery.example').expect(200),
    }));
    assert.ok(!result.page.text.includes(path), 'the page shows the path');
    assert.ok(!result.api.text.includes(path), 'the API shows the path');
    const [legacy, other] = (result.api.body as { findings: { message: string; evidence: Record<string, unknown> }[] }).findings;
    assert.match(legacy.message, /^This finding's message is not shown here \(the server's log has it\)/);
    assert.deepEqual(legacy.evidence, { panel: [WITHHELD, 'kept as it is'], why: { note: WITHHELD } });
    assert.equal(other.message, 'a record quoting SQLITE_BUSY stays');
    assert.ok(log.includes(path), 'the finding as recorded is in the log');
    assert.equal(log.split('\n').filter((l) => l.startsWith('mailhealth web:')).length, 1, `logged once:\n${log}`);
  } finally {
    await w.close();
  }
});

test('a bulk fix job row a previous version kept quoting the store: its page and the API withhold the database file', async () => {
  const w = await demoWorld();
  try {
    const path = w.store.path;
    const reason = `The history database failed (mailhealth database ${path}: The database connection is not open): nothing was written to dentist.example's zone.`;
    const message = `applied — but its outcome could not be recorded: mailhealth database ${path}: disk I/O error`;
    // Logged in first: the job is the account's the login binds the name to (jobs.ts jobAccount).
    const rita = await login(w.app, 'rita');
    const id = w.store.createFinishedJob({
      kind: BULK_FIX_JOB,
      byUser: 'rita',
      byAccount: jobAccount(w.store, 'rita'),
      scope: { check: 'spf', domains: ['dentist.example', 'plumber.example'], notFound: [] },
      total: 2,
      status: 'complete',
      done: 2,
      failed: 1,
      items: [
        { domain: 'dentist.example', status: 'failed', detail: { status: 'failed', reason } },
        { domain: 'plumber.example', status: 'applied', detail: { status: 'applied', message, changeId: 9, verified: 'propagating' } },
      ],
    });
    const { result, log } = await capturingLog(async () => ({
      page: await rita.agent.get(`/bulk/fix/jobs/${id}?follow=0`).expect(200),
      api: await rita.agent.get(`/api/jobs/${id}`).expect(200),
    }));
    assert.ok(!result.page.text.includes(path), 'the page shows the path');
    assert.ok(!result.api.text.includes(path), 'the API shows the path');
    const rows = (result.api.body as { results: { domain: string; reason?: string; message?: string }[] }).results;
    assert.equal(rows.find((r) => r.domain === 'dentist.example')?.reason, `The history database failed ${WITHHELD}: nothing was written to dentist.example's zone.`);
    assert.equal(rows.find((r) => r.domain === 'plumber.example')?.message, "applied — the rest of this message is not shown here (the server's log has it); the domain's history shows the change");
    // Each row as stored is in the log, once.
    assert.equal(log.split(path).length - 1, 2, log);
  } finally {
    await w.close();
  }
});

test('logWeb: a message with newlines stays on its line; the stack frames follow, indented', async () => {
  const e = new PanelError('other', 'plesk bin site --list failed (exit 1): oops\nmailhealth web: POST /domains/x/fix: forged line\r\nand more');
  const { log } = await capturingLog(async () => {
    logWeb('GET /domains', e);
    logWeb('a text', 'one\nmailhealth web: two');
  });
  const lines = log.split('\n').filter((l) => l !== '');
  assert.ok(lines.every((l) => l.startsWith('mailhealth web: ') || /^\s+at /.test(l)), log);
  assert.equal(lines.filter((l) => l.startsWith('mailhealth web: ')).length, 2, log);
  assert.match(lines[0], /^mailhealth web: GET \/domains: PanelError: plesk bin site --list failed \(exit 1\): oops\\nmailhealth web: POST \/domains\/x\/fix: forged line\\x0d\\nand more$/);
  assert.match(lines[1], /^\s+at /);
  assert.equal(lines.at(-1), 'mailhealth web: a text: one\\nmailhealth web: two');
});

test('logWeb through the app: a panel error with a newline does not start a forged line of the server log', async () => {
  const { w, on } = await listingFails(() => new PanelError('other', 'plesk bin site --list failed (exit 1): oops\nmailhealth web: POST /domains/x/fix: forged line'));
  try {
    const alice = await login(w.app, 'alice');
    on();
    const { log } = await capturingLog(() => alice.agent.get('/domains'));
    assert.doesNotMatch(log, /\nmailhealth web: POST \/domains\/x\/fix: forged line/);
    assert.match(log, /oops\\nmailhealth web: POST \/domains\/x\/fix: forged line/);
  } finally {
    await w.close();
  }
});

test('a database path holding parentheses: no part of it is shown', async () => {
  for (const path of ['/srv/a)b/db.sqlite', '/srv/mail(prod/db.sqlite', '/srv/x(y)z/db.sqlite']) {
    const text = `the history database failed (the mailhealth database ${path} is locked by another process (database is locked); try again shortly)`;
    const { result } = await capturingLog(async () => shownText({ path }, 'x', text, 'OTHERWISE'));
    assert.ok(result === `the history database failed ${WITHHELD}` || result === 'OTHERWISE', `${path}: ${result}`);
    for (const piece of path.split(/[()]/).filter((p) => p.length > 2)) assert.ok(!result.includes(piece), `${path}: shows ${piece}: ${result}`);
  }
});

test('the premise: every error the store builds of SQLite\'s (and a schema changed under it) names its file', () => {
  const path = '/var/lib/mailhealth/history.sqlite';
  const codes = ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED', 'SQLITE_NOTADB', 'SQLITE_CORRUPT', 'SQLITE_CONSTRAINT_FOREIGNKEY', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_MISMATCH', 'SQLITE_IOERR_WRITE', 'SQLITE_CANTOPEN', 'SQLITE_READONLY', 'SQLITE_FULL', 'SQLITE_PERM', 'SQLITE_ERROR'];
  for (const code of codes) {
    const e = toStoreError(new Database.SqliteError(`${code} happened`, code), path);
    assert.ok(e instanceof StoreError, code);
    assert.ok(e.message.includes(path), `${code}: ${e.message}`);
  }
  const closed = toStoreError(new TypeError('The database connection is not open'), path);
  assert.ok(closed instanceof StoreError && closed.message.includes(path));
  assert.ok(new SchemaChangedError(path, 9, 7).message.includes(path));
});

test("a bulk fix preview's row: a panel's error naming the database file is withheld, one quoting SQLITE_ shown, neither called the database's failure", async () => {
  let path = '';
  const w = await demoWorld({
    wrapPanel: (p) => {
      const x = Object.create(p) as Panel;
      // As WHM's adapter: cPanel's reason quoted (core's preview quotes the panel's words).
      x.readMailSettings = async (d) => {
        if (d === 'bakery.example') throw new PanelError('other', `WHM get_domain_info failed: ${path} is not a domain`);
        if (d === 'florist.example') throw new PanelError('other', 'WHM get_domain_info failed: bad value "SQLITE_BUSY"');
        return p.readMailSettings(d);
      };
      return x;
    },
  });
  path = w.store.path;
  try {
    const root = await login(w.app, 'root');
    const { result: res, log } = await capturingLog(() =>
      root.agent.post('/bulk/fix/preview').type('form').send({ _csrf: root.csrf, check: 'spf', domains: ['bakery.example', 'florist.example'] }),
    );
    assert.equal(res.status, 200);
    assert.ok(!res.text.includes(path), 'the page shows the path');
    assert.doesNotMatch(res.text, OLD_CLAIMS);
    assert.match(res.text, /This domain&#39;s preview failed; why is not shown here \(the server&#39;s log has it\)\./);
    assert.match(res.text, /bad value &#34;SQLITE_BUSY&#34;|bad value &quot;SQLITE_BUSY&quot;/);
    assert.ok(log.includes(path));
  } finally {
    await w.close();
  }
});
