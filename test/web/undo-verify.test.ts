// The web's side of the fix lifecycle after the write (QA, task E):
// - D1: an undo whose check finds the panel not holding the records it put back (the zone edited right after the
//   undo's write) said "undone — propagating — the records are back as they were before change N", as a success. Now
//   a warning that says the panel does not show them, never that they are back.
// - D4: a change whose records a later fix replaced turned "verified: no" when the history checked it again. Now it is
//   listed "replaced by #M", not checked again, with neither "Verify again" nor "Undo" (its undo would overwrite M).
// The demo panel (a fresh copy) served by a loopback DNS server that serves what the test publishes.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createResolver } from '../../src/adapters/dns/resolver.js';
import { startDnsServer, type DnsServer } from '../../src/adapters/dns/server.js';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { buildWorld, DEMO_PANEL_DIR } from '../../src/demo/world.js';
import { createApp, type AppDeps } from '../../src/web/app.js';
import { login, NO_LIMITS, setPasswords, USERS, type Session } from './helpers.js';

let dir: string;
let panelDir: string;
let dns: DnsServer;
let store: Store;
let panel: FilesPanel;
/** An edit someone makes right after each zone write (null: none). */
let editAfterWrite: { domain: string; from: string; to: string } | null = null;
const publish = () => dns.setData(buildWorld(panelDir));
const app = (extra: Partial<AppDeps> = {}) =>
  createApp({
    panel,
    store,
    makeResolver: () => createResolver({ servers: [dns.address], authoritativePort: dns.port, timeoutMs: 1000, tries: 2 }),
    identityFrom: 'session',
    rateLimits: NO_LIMITS,
    ...extra,
  });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailhealth-undo-verify-'));
  panelDir = join(dir, 'panel');
  cpSync(DEMO_PANEL_DIR, panelDir, { recursive: true });
  dns = await startDnsServer({ data: buildWorld(panelDir) });
  store = openStore(join(dir, 'db.sqlite'));
  panel = new FilesPanel(panelDir);
  const write = panel.applyChanges.bind(panel);
  panel.applyChanges = async (...args) => {
    const r = await write(...args);
    if (editAfterWrite) {
      const file = join(panelDir, 'zones', `${editAfterWrite.domain}.db`);
      writeFileSync(file, readFileSync(file, 'utf8').replace(editAfterWrite.from, editAfterWrite.to));
    }
    return r;
  };
  await setPasswords(store, USERS);
});
after(async () => {
  store.close();
  await dns.close();
  rmSync(dir, { recursive: true, force: true });
});

async function applyFix(s: Session, domain: string, check: string, remove: string[] = []): Promise<number> {
  const q = remove.map((t) => `&remove=${encodeURIComponent(t)}`).join('');
  const plan = (await s.agent.get(`/api/domains/${domain}/fix?check=${check}${q}`).expect(200)).body as { planHash: string };
  const out = (await s.agent.post(`/api/domains/${domain}/fix`).set('x-csrf-token', s.csrf).send({ check, planHash: plan.planHash, remove }).expect(200)).body as { status: string; changeId: number };
  assert.equal(out.status, 'applied');
  return out.changeId;
}

/** The undo page's outcome paragraph. */
const outcomeOf = (html: string) => /<p class="alert[^"]*"[^>]*id="outcome"[\s\S]*?<\/p>/.exec(html)?.[0] ?? '';

test('D1: an undo verified "no" is a warning that the panel does not show the restored records, never "the records are back"', async () => {
  const alice = await login(app(), 'alice');
  publish();
  const id = await applyFix(alice, 'florist.example', 'lockdown');
  publish();
  editAfterWrite = { domain: 'florist.example', from: 'auth=dreamhost', to: 'auth=someoneelse' };
  try {
    const page = await alice.agent.post(`/changes/${id}/undo`).type('form').send({ _csrf: alice.csrf }).expect(200);
    const outcome = outcomeOf(page.text);
    assert.match(outcome, /class="alert alert-warn"/);
    assert.match(outcome, /data-verified="no"/);
    assert.match(outcome, /undone, but the panel does not show the restored records — check the zone&#39;s records at _mailchannels\.florist\.example TXT/);
    assert.doesNotMatch(outcome, /propagating|records are back/);
    assert.match(page.text, /id="verify">Verify again</);
  } finally {
    editAfterWrite = null;
  }
});

test('D1: an undo verified "yes" still says the records are back', async () => {
  const alice = await login(app(), 'alice');
  publish();
  const id = await applyFix(alice, 'florist.example', 'dmarc');
  publish();
  // The nameservers follow the undo's write at once.
  const write = panel.applyChanges;
  panel.applyChanges = async (...args) => {
    const r = await write(...args);
    publish();
    return r;
  };
  let page;
  try {
    page = await alice.agent.post(`/changes/${id}/undo`).type('form').send({ _csrf: alice.csrf }).expect(200);
  } finally {
    panel.applyChanges = write;
  }
  const outcome = outcomeOf(page.text);
  assert.match(outcome, /class="alert alert-pass"/);
  assert.match(outcome, /<strong>undone<\/strong> — the records are back as they were before change \d+, and the domain's nameservers answer with them\./);
});

test('D4: a change replaced by a later fix of the same record is listed "replaced by #M" and not checked again on view', async () => {
  const alice = await login(app(), 'alice');
  publish();
  const first = await applyFix(alice, 'bakery.example', 'spf');
  const second = await applyFix(alice, 'bakery.example', 'spf', ['include:_spf.google.com']);
  assert.equal(store.getChange(first)!.verified, 'propagating');
  publish();
  // Two minutes on: a view checks the changes still propagating — the replaced one is left as it is.
  const later = await login(app({ now: () => new Date(Date.now() + 120_000) }), 'alice');
  const page = await later.agent.get('/history?domain=bakery.example').expect(200);
  assert.equal(store.getChange(first)!.verified, 'propagating', 'not turned "no" by a check of records replaced on purpose');
  assert.equal(store.getChange(second)!.verified, 'yes', 'the change that replaced it is checked');
  const row = new RegExp(`<tr id="change-${first}">[\\s\\S]*?</tr>`).exec(page.text)![0];
  assert.match(row, new RegExp(`data-replaced-by="${second}">replaced by <a href="/history\\?domain=bakery\\.example&amp;before=${second + 1}#change-${second}">#${second}</a>`));
  assert.doesNotMatch(row, /Verify again|action="\/changes\/\d+\/undo"/, 'neither verify nor undo offered');
  assert.doesNotMatch(row, /data-verified/, 'no "(verified: propagating)" left standing beside "replaced by"');
  const listed = (await later.agent.get('/api/changes?domain=bakery.example').expect(200)).body as { id: number; replacedBy?: number }[];
  assert.equal(listed.find((c) => c.id === first)!.replacedBy, second);
  assert.equal(listed.find((c) => c.id === second)!.replacedBy, undefined);
  // "Verify again" sent anyway (an old page): nothing stored, and the answer says why (409), not a silent redirect.
  const form = await alice.agent.post(`/changes/${first}/verify`).type('form').send({ _csrf: alice.csrf });
  assert.equal(form.status, 409);
  assert.match(form.text, new RegExp(`replaced by change ${second}`));
  const api = await alice.agent.post(`/api/changes/${first}/verify`).set('x-csrf-token', alice.csrf);
  assert.equal(api.status, 409);
  assert.deepEqual({ status: api.body.status, replacedBy: api.body.replacedBy }, { status: 'refused', replacedBy: second });
  assert.equal(store.getChange(first)!.verified, 'propagating');
});
