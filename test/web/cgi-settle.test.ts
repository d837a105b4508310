// The per-request front doors settle interrupted fixes at the start of each request (src/cli/commands/cgi.ts
// settleForRequest): the cPanel page in the customer's own database through the customer's own UAPI, the WHM page
// handled in-process in the shared database — each only for the domains in the identity's scope. Meanwhile (the killed
// page's lock still held) an undo says the change is still being settled.
import '../helpers/shared-settings.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fakeCpanelBins, noBody, parseCgi, scratchDir } from '../helpers/cgi.js';
import type { CpState } from '../helpers/emulators/cpanel.js';
import { runCgi } from '../../src/cli/commands/cgi.js';
import { CpanelPanel } from '../../src/adapters/panels/cpanel/index.js';
import { UapiCli } from '../../src/adapters/panels/cpanel/uapi.js';
import { userDbPath } from '../../src/adapters/store/path.js';
import { openStore } from '../../src/adapters/store/store.js';
import type { Change } from '../../src/core/model.js';

const HASH = `sha256:${'0'.repeat(64)}`;
/** An intent for a record that was never written (reconcile: not-written → failed). */
const unwritten = (domain: string): Change[] => {
  const after = { name: `_mh-never.${domain}`, ttl: 300, type: 'TXT', value: 'never written', txt: ['never written'] };
  return [{ action: 'add', name: after.name, type: 'TXT', ttl: 300, before: null, after }];
};

const scratch = scratchDir('mailhealth-cgi-settle-');

describe('cPanel page: settles interrupted fixes at the start of each request', () => {
  const bins = fakeCpanelBins(scratch);
  const alice = { user: 'alice', uid: 1001, home: '' };
  before(() => {
    alice.home = join(scratch.dir, 'home-alice');
    mkdirSync(alice.home, { recursive: true });
  });
  const env = (extra: Record<string, string> = {}) => ({
    REQUEST_METHOD: 'GET',
    PATH_INFO: '/api/changes',
    QUERY_STRING: '',
    SCRIPT_NAME: '/cpsess0123456789/frontend/jupiter/mailhealth/index.live.cgi',
    REMOTE_USER: 'alice',
    HTTP_ACCEPT: 'application/json',
    HTTP_COOKIE: 'cpsession=alice%3aabc',
    HTTPS: 'on',
    cp_security_token: '/cpsess0123456789',
    ...extra,
  });
  const page = async (extra: Record<string, string> = {}, body = '') =>
    parseCgi(await runCgi('cpanel', { frontDoor: 'cpanel' }, env(extra), body ? Readable.from([body]) : noBody(), alice));
  const changeOf = async (id: number) => {
    const res = await page();
    assert.equal(res.status, 200, res.text);
    return (JSON.parse(res.text) as { id: number; status: string; error: string | null }[]).find((c) => c.id === id)!;
  };
  const undo = async (id: number) => {
    const me = await page({ PATH_INFO: '/api/me' });
    const cookie = (me.header('set-cookie') ?? '').split(';')[0];
    const csrf = (JSON.parse(me.text) as { csrf: string }).csrf;
    return page({ REQUEST_METHOD: 'POST', PATH_INFO: `/api/changes/${id}/undo`, HTTP_COOKIE: `cpsession=alice%3aabc; ${cookie}`, HTTP_X_CSRF_TOKEN: csrf, CONTENT_TYPE: 'application/json', CONTENT_LENGTH: '2' }, '{}');
  };
  const uapi = () => new CpanelPanel({ transport: new UapiCli(bins.path('uapi')), user: 'alice' });
  const mcValue = async () => (await uapi().readZone('alice.example')).records.find((r) => r.name === '_mailchannels.alice.example' && r.type === 'TXT')!.value;

  /** The page's process killed after its write through the customer's UAPI, before the outcome. */
  async function killedAfterWrite(account: string, lockHeld: boolean): Promise<number> {
    const panel = uapi();
    const zone = await panel.readZone('alice.example');
    const before = zone.records.find((r) => r.name === '_mailchannels.alice.example' && r.type === 'TXT')!;
    const value = `v=mc1 auth=${account}`;
    const changes: Change[] = [{ action: 'edit', name: before.name, type: 'TXT', ttl: before.ttl, before, after: { name: before.name, ttl: before.ttl, type: 'TXT', value, txt: [value] } }];
    const store = openStore(userDbPath(alice.home));
    try {
      if (lockHeld) assert.ok(store.tryLock('domain:alice.example', 'alice:4242:deadbeefcafe', 120_000));
      const id = store.recordIntent({ domain: 'alice.example', check: 'lockdown', planHash: HASH, zoneVersion: zone.version, changes, byUser: 'alice' });
      await panel.applyChanges('alice.example', changes, zone.version);
      return id;
    } finally {
      store.close();
    }
  }

  test('the first request after a killed fix shows it settled, and undo goes through', async () => {
    assert.equal((await page({ PATH_INFO: '/api/me' })).status, 200); // creates the customer's database
    const id = await killedAfterWrite('newhostmc', false);
    const ch = await changeOf(id);
    assert.equal(ch.status, 'applied');
    assert.match(ch.error ?? '', /the write had happened/);
    const res = await undo(id);
    assert.equal(res.status, 200, res.text);
    assert.match(await mcValue(), /auth=(?!newhostmc)/);
  });

  test("while the killed page's lock is held: intent, and undo says it is being settled; settled by the first request after", async () => {
    const id = await killedAfterWrite('othermc', true);
    assert.equal((await changeOf(id)).status, 'intent');
    const refused = await undo(id);
    assert.equal(refused.status, 409);
    const body = JSON.parse(refused.text) as { reason: string; why: string };
    assert.equal(body.why, 'settling');
    assert.match(body.reason, new RegExp(`^Change ${id} is still being settled: a fix on alice\\.example was interrupted`));
    assert.match(body.reason, /at most 2 minutes/);
    assert.match(await mcValue(), /auth=othermc/, 'nothing written');
    // The history page's Undo button says the same.
    const html = await page({ PATH_INFO: '/history', HTTP_ACCEPT: 'text/html' });
    const cookie = (html.header('set-cookie') ?? '').split(';')[0];
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html.text)![1];
    const form = `_csrf=${encodeURIComponent(csrf)}`;
    const pageUndo = await page(
      { REQUEST_METHOD: 'POST', PATH_INFO: `/changes/${id}/undo`, HTTP_ACCEPT: 'text/html', HTTP_COOKIE: `cpsession=alice%3aabc; ${cookie}`, CONTENT_TYPE: 'application/x-www-form-urlencoded', CONTENT_LENGTH: String(form.length) },
      form,
    );
    assert.equal(pageUndo.status, 409);
    assert.match(pageUndo.text, /Refused:<\/strong> Change \d+ is still being settled/);
    // The lease of the killed process runs out.
    const store = openStore(userDbPath(alice.home));
    try {
      assert.ok(store.releaseLock('domain:alice.example', 'alice:4242:deadbeefcafe'));
    } finally {
      store.close();
    }
    assert.equal((await changeOf(id)).status, 'applied');
    assert.equal((await undo(id)).status, 200);
  });

  test("an intent for a domain outside the customer's scope is left open and never read through the customer's UAPI", async () => {
    const store = openStore(userDbPath(alice.home));
    const id = store.recordIntent({ domain: 'carol.example', check: 'dmarc', planHash: HASH, zoneVersion: null, changes: unwritten('carol.example'), byUser: 'alice' });
    store.close();
    bins.write({ ...bins.read<CpState>(), calls: [] });
    assert.equal((await page()).status, 200);
    const after = openStore(userDbPath(alice.home));
    try {
      assert.equal(after.getChange(id)!.status, 'intent');
    } finally {
      after.close();
    }
    const calls = bins.read<CpState>().calls;
    assert.ok(calls.length > 0, 'the page did ask its UAPI (the scope)');
    assert.deepEqual(calls.filter((c) => c.includes('carol.example')), []);
  });

  test('no open intent in scope: the page does not read a zone to settle anything', async () => {
    // Only the carol.example intent (out of scope) is open now.
    bins.write({ ...bins.read<CpState>(), calls: [] });
    assert.equal((await page({ PATH_INFO: '/api/me' })).status, 200);
    assert.deepEqual(bins.read<CpState>().calls.filter((c) => /zone|Zone/.test(c)), []);
  });
});

describe('WHM page handled in-process: each identity settles only its scope', () => {
  const bins = fakeCpanelBins(scratch);
  let root: string;
  before(() => {
    root = join(scratch.dir, 'whm-root');
    mkdirSync(join(root, 'var/cpanel'), { recursive: true });
    // The privileges the WHM page needs for a reseller (src/web/cgi.ts WHM_RESELLER_ACLS).
    writeFileSync(join(root, 'var/cpanel/resellers'), 'res1:list-accts,edit-dns,create-acct\n');
  });
  const db = () => join(scratch.dir, 'whm.sqlite');
  const whm = (user: string) =>
    runCgi('whm', { frontDoor: 'whm', serverRoot: root, db: db() }, { REQUEST_METHOD: 'GET', PATH_INFO: '/api/changes', REMOTE_USER: user, HTTP_ACCEPT: 'application/json', SCRIPT_NAME: '/cpsess99/cgi/mailhealth/index.cgi' }, noBody(), {
      user: 'root',
      uid: 0,
      home: '/root',
    });

  test("a reseller's page settles its accounts' intents, not carol's (root's account); root's page settles the rest", async () => {
    const store = openStore(db());
    const bob = store.recordIntent({ domain: 'bob.example', check: 'dmarc', planHash: HASH, zoneVersion: null, changes: unwritten('bob.example'), byUser: 'res1' });
    const carol = store.recordIntent({ domain: 'carol.example', check: 'dmarc', planHash: HASH, zoneVersion: null, changes: unwritten('carol.example'), byUser: 'root' });
    store.close();
    const status = (id: number) => {
      const s = openStore(db());
      try {
        return s.getChange(id)!.status;
      } finally {
        s.close();
      }
    };
    assert.equal(parseCgi(await whm('res1')).status, 200);
    assert.equal(status(bob), 'failed', "res1's customer's intent: never written");
    assert.equal(status(carol), 'intent', 'not in the reseller’s scope');
    assert.equal(parseCgi(await whm('root')).status, 200);
    assert.equal(status(carol), 'failed');
  });
});
