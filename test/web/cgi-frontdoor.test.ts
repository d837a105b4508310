// Who may open the panel pages, beyond the identity itself (src/web/cgi.ts):
// - the cPanel page needs the account's Feature Manager feature `mailhealth` (UAPI Features::has_feature, asked through
//   the customer's own UAPI — the `uapi` CLI or cpsrvd's LiveAPI socket — on every request);
// - the WHM page lets a reseller in only with the WHM privileges the page uses (/var/cpanel/resellers `all`, or
//   `list-accts` and `edit-dns`), and only root when that file cannot be read.
import '../helpers/shared-settings.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeCpanelBins, noBody, parseCgi, scratchDir, startLiveApi, waitForSeen, type ParsedCgi } from '../helpers/cgi.js';
import { makeCpState, type CpState } from '../helpers/emulators/cpanel.js';
import { runCgi } from '../../src/cli/commands/cgi.js';
import { FrontDoorRefused, whmIdentity } from '../../src/web/cgi.js';
import type { Panel } from '../../src/core/panel.js';

const domainsOf = (p: ParsedCgi) => (JSON.parse(p.text) as { domain: string }[]).map((d) => d.domain).sort();

const ALICE = ['alice-shop.example', 'alice.example', 'blog.alice.example'];
const RES1 = ['alice-shop.example', 'alice.example', 'blog.alice.example', 'bob.example', 'res1.example'];

const scratch = scratchDir('mailhealth-cgi-frontdoor-');

describe('cPanel page: the account needs the "mailhealth" feature (Feature Manager)', () => {
  const bins = fakeCpanelBins(scratch);
  /** The emulated server's state, changed by `edit`, for the fake `uapi` the page runs. */
  const setState = (edit: (s: CpState) => void) => {
    const s = makeCpState();
    edit(s);
    bins.write(s);
  };
  const alice = (home: string) => ({ user: 'alice', uid: 1001, home: join(scratch.dir, home) });
  const env = (extra: Record<string, string> = {}) => ({
    REQUEST_METHOD: 'GET',
    PATH_INFO: '/api/domains',
    QUERY_STRING: '',
    SCRIPT_NAME: '/cpsess0123456789/frontend/jupiter/mailhealth/index.live.cgi',
    REMOTE_USER: 'alice',
    HTTP_ACCEPT: 'application/json',
    HTTPS: 'on',
    cp_security_token: '/cpsess0123456789',
    ...extra,
  });
  const page = async (home: string, extra: Record<string, string> = {}) => parseCgi(await runCgi('cpanel', { frontDoor: 'cpanel' }, env(extra), noBody(), alice(home)));
  const disable = (s: CpState) => (s.accounts.find((a) => a.user === 'alice')!.features = ['zoneedit', 'emailauth']);

  test('enabled for the account: the page works, after asking the customer’s own UAPI', async () => {
    setState(() => undefined);
    const out = await page('home-enabled');
    assert.equal(out.status, 200, out.text);
    assert.deepEqual(domainsOf(out), ALICE);
    assert.equal(bins.read<CpState>().calls[0], 'Features::has_feature', 'asked first, through the page’s UAPI');
  });

  test('disabled in the account’s feature list: 403 with a clear message, before anything else is done', async () => {
    setState(disable);
    const out = await page('home-disabled');
    assert.equal(out.status, 403, out.text);
    assert.match(out.text, /not enabled for your account/);
    assert.match(out.text, /"mailhealth"/);
    assert.match(out.text, /Feature Manager/);
    assert.deepEqual(bins.read<CpState>().calls, ['Features::has_feature'], 'no other UAPI call (no domain list, no zone read)');
    assert.ok(!existsSync(join(scratch.dir, 'home-disabled/.local/share/mailhealth')), 'no history database opened');
    // Every page of the app, not only the API.
    const html = await page('home-disabled', { PATH_INFO: '/domains', HTTP_ACCEPT: 'text/html' });
    assert.equal(html.status, 403);
    assert.match(html.text, /not enabled for your account/);
  });

  test('not installed on the server (no such feature): refused too — the admin could not restrict the page', async () => {
    setState((s) => (s.installedFeatures = s.installedFeatures!.filter((f) => f !== 'mailhealth')));
    const out = await page('home-missing');
    assert.equal(out.status, 403, out.text);
    assert.match(out.text, /no cPanel feature "mailhealth"/);
    assert.match(out.text, /installer/);
  });

  test('checked on every request, nothing remembered: a change in Feature Manager applies at once', async () => {
    setState(() => undefined);
    assert.equal((await page('home-toggle')).status, 200);
    setState(disable);
    assert.equal((await page('home-toggle')).status, 403);
    setState(() => undefined);
    assert.equal((await page('home-toggle')).status, 200);
  });

  test('the check cannot be made (uapi fails): 503, fail closed', async () => {
    const broken = mkdtempSync(join(tmpdir(), 'mh-broken-uapi-'));
    writeFileSync(join(broken, 'uapi'), '#!/bin/sh\necho "uapi: cannot connect to cpsrvd" >&2\nexit 1\n');
    chmodSync(join(broken, 'uapi'), 0o755);
    process.env.PATH = `${broken}:${scratch.path}`;
    try {
      const out = await page('home-broken');
      assert.equal(out.status, 503, out.text);
      assert.match(out.text, /could not check/);
      assert.match(out.text, /"mailhealth"/);
    } finally {
      process.env.PATH = `${bins.dir}:${scratch.path}`;
      rmSync(broken, { recursive: true, force: true });
    }
  });

  describe('through the LiveAPI socket cpsrvd provides', () => {
    const liveApi = (state: CpState, override?: (module: string, func: string) => unknown) => startLiveApi(scratch.dir, state, 'alice', override);

    test('enabled → the page; disabled → 403; the LiveAPI session is closed either way', async () => {
      process.env.PATH = scratch.path; // no fake uapi: LiveAPI only
      try {
        const on = await liveApi(makeCpState());
        try {
          const out = await page('home-live', { CPANEL_CONNECT_SOCKET: on.sock });
          assert.equal(out.status, 200, out.text);
          assert.deepEqual(domainsOf(out), ALICE);
          assert.equal(on.seen[1], 'Features::has_feature mailhealth');
        } finally {
          await on.close();
        }
        const offState = makeCpState();
        disable(offState);
        const off = await liveApi(offState);
        try {
          const out = await page('home-live', { CPANEL_CONNECT_SOCKET: off.sock });
          assert.equal(out.status, 403, out.text);
          assert.match(out.text, /not enabled for your account/);
          await waitForSeen(off.seen, 'shutdown');
          assert.deepEqual(off.seen, ['enable', 'Features::has_feature mailhealth', 'shutdown'], 'nothing else asked; the session closed');
        } finally {
          await off.close();
        }
      } finally {
        process.env.PATH = `${bins.dir}:${scratch.path}`;
      }
    });

    test('an error answer (status 0) or an unexpected one: 503, fail closed', async () => {
      process.env.PATH = scratch.path;
      try {
        for (const answer of [
          { status: 0, data: null, errors: ['Internal error'], messages: null, metadata: {}, warnings: null },
          { status: 1, data: 'yes', errors: null, messages: null, metadata: {}, warnings: null },
        ]) {
          const live = await liveApi(makeCpState(), (m, f) => (m === 'Features' && f === 'has_feature' ? answer : undefined));
          try {
            const out = await page('home-live-err', { CPANEL_CONNECT_SOCKET: live.sock });
            assert.equal(out.status, 503, out.text);
            assert.match(out.text, /could not check/);
            await waitForSeen(live.seen, 'shutdown');
            assert.ok(live.seen.includes('shutdown'), 'the LiveAPI session closed');
          } finally {
            await live.close();
          }
        }
      } finally {
        process.env.PATH = `${bins.dir}:${scratch.path}`;
      }
    });
  });
});

describe('WHM page: a reseller needs the WHM privileges the page uses', () => {
  /** A panel whose account list has res1 (and res2) as resellers: only the ACLs decide. */
  const panel = { listAccounts: async () => [{ user: 'res1', role: 'reseller' as const }, { user: 'res2', role: 'reseller' as const }, { user: 'alice', role: 'customer' as const }] } as unknown as Panel;
  const who = (user: string, resellers: string | null) => whmIdentity({ REMOTE_USER: user }, panel, { isRoot: true, resellers });
  const refused = async (p: Promise<unknown>, message: RegExp) => {
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof FrontDoorRefused, String(e));
      assert.equal(e.status, 403);
      assert.match(e.message, message);
      return true;
    });
  };

  test('allowed: `all`, or both `list-accts` and `edit-dns` (any order, other ACLs, blanks and CRLF alike)', async () => {
    for (const line of ['res1:all', 'res1:list-accts,edit-dns', 'res1:create-acct,edit-dns,show-bandwidth,list-accts', 'res1: list-accts , edit-dns \r', 'res1:edit-dns,list-accts,all']) {
      const file = `root:all\nres2:list-accts\n${line}\n`;
      assert.deepEqual(await who('res1', file), { user: 'res1', role: 'reseller' }, line);
    }
  });

  test('refused: an ACL missing, none at all, or not listed — naming what is missing', async () => {
    await refused(who('res1', 'res1:list-accts,create-acct\n'), /"Edit DNS Zones" \(edit-dns\)/);
    await refused(who('res1', 'res1:list-accts\n'), /edit-dns/);
    await refused(who('res1', 'res1:edit-dns,create-dns,edit-mx\n'), /"List Accounts" \(list-accts\)/);
    await refused(who('res1', 'res1:\n'), /list-accts.*edit-dns/);
    await refused(who('res1', 'res1:create-acct,kill-acct\n'), /list-accts.*edit-dns/);
    await refused(who('res1', 'res1:alls,list-accts-x,edit-dns-x\n'), /list-accts.*edit-dns/); // names match exactly
    await refused(who('res1', 'res10:all\nres:all\nsomeoneelse:all\n'), /not a WHM reseller/);
    await refused(who('res1', ''), /not a WHM reseller/);
  });

  test('/var/cpanel/resellers unreadable: only root gets in (fail closed)', async () => {
    await refused(who('res1', null), /\/var\/cpanel\/resellers could not be read/);
    assert.deepEqual(await who('root', null), { user: 'root', role: 'admin' });
  });

  describe('end to end (fake whmapi1, the file under --server-root)', () => {
    const bins = fakeCpanelBins(scratch);
    let root: string;
    before(() => {
      root = join(scratch.dir, 'whm-root');
      mkdirSync(join(root, 'var/cpanel'), { recursive: true });
    });
    const rootOs = { user: 'root', uid: 0, home: '/root' };
    const whm = async (user: string, serverRoot = root) =>
      parseCgi(await runCgi('whm', { frontDoor: 'whm', serverRoot, db: join(scratch.dir, 'whm.sqlite') }, { REQUEST_METHOD: 'GET', PATH_INFO: '/api/domains', REMOTE_USER: user, HTTP_ACCEPT: 'application/json' }, noBody(), rootOs));
    const resellers = (text: string) => writeFileSync(join(root, 'var/cpanel/resellers'), text);

    test('with list-accts and edit-dns: its accounts’ domains; with list-accts alone: 403 naming edit-dns', async () => {
      resellers('res1:list-accts,edit-dns,create-acct\n');
      const ok = await whm('res1');
      assert.equal(ok.status, 200, ok.text);
      assert.deepEqual(domainsOf(ok), RES1);
      resellers('res1:list-accts,create-acct\n');
      const no = await whm('res1');
      assert.equal(no.status, 403, no.text);
      assert.match(no.text, /edit-dns/);
      resellers('res1:all\n');
      assert.equal((await whm('res1')).status, 200);
    });

    test('no /var/cpanel/resellers: the reseller is refused, root still gets in', async () => {
      const bare = join(scratch.dir, 'whm-root-bare');
      mkdirSync(bare, { recursive: true });
      const no = await whm('res1', bare);
      assert.equal(no.status, 403, no.text);
      assert.match(no.text, /could not be read/);
      const admin = await whm('root', bare);
      assert.equal(admin.status, 200, admin.text);
    });
  });
});
