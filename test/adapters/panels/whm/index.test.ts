import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Change, ZoneRecord } from '../../../../src/core/model.js';
import { PanelError } from '../../../../src/core/panel.js';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import { WhmCli, WhmHttp, WhmPanel } from '../../../../src/adapters/panels/whm/index.js';
import { relayFromLocalopts } from '../../../../src/adapters/panels/whm/serverfiles.js';
import { installFakeBins } from '../../../helpers/emulators/bins.js';
import { makeCpState, zoneView, type CpState, type RunningServer } from '../../../helpers/emulators/cpanel.js';
import { startWhmServer, writeCpanelServerFiles } from '../../../helpers/emulators/whm.js';
import { rejectsWith } from '../../../helpers/panel-errors.js';

const find = (records: ZoneRecord[], name: string, type: string) => records.filter((r) => r.name === name && r.type === type);

function whm(url: string, user: string, token: string, root: string | null = null): WhmPanel {
  const client = new PanelHttpClient({ baseUrl: url, label: 'WHM', headers: { authorization: `whm ${user}:${token}` } });
  return new WhmPanel({ transport: new WhmHttp(client), user, root });
}

describe('WHM adapter over HTTPS (WHM API 1 emulator on loopback)', () => {
  let state: CpState;
  let srv: RunningServer;
  let root: WhmPanel;
  let reseller: WhmPanel;
  let fsRoot: string;
  before(async () => {
    state = makeCpState();
    srv = await startWhmServer(state);
    fsRoot = mkdtempSync(join(tmpdir(), 'mh-whm-root-'));
    writeCpanelServerFiles(state, fsRoot, { mailchannels: true });
    root = whm(srv.url, 'root', 'tok-root', fsRoot);
    reseller = whm(srv.url, 'res1', 'tok-res1');
  });
  after(() => srv.close());

  it('lists domains per identity: admin all, reseller its customers, customer its own — no leaks', async () => {
    const all = (await root.listDomains({ user: 'root', role: 'admin' })).map((d) => d.domain).sort();
    assert.deepEqual(all, ['alice-shop.example', 'alice.example', 'blog.alice.example', 'bob.example', 'carol.example', 'res1.example']);
    const res = await root.listDomains({ user: 'res1', role: 'reseller' });
    assert.deepEqual(res.map((d) => d.domain).sort(), ['alice-shop.example', 'alice.example', 'blog.alice.example', 'bob.example', 'res1.example']);
    assert.equal(res.find((d) => d.domain === 'bob.example')?.reseller, 'res1');
    assert.equal(res.find((d) => d.domain === 'bob.example')?.owner, 'bob');
    assert.deepEqual((await root.listDomains({ user: 'carol', role: 'customer' })).map((d) => d.domain), ['carol.example']);
    assert.deepEqual((await root.listDomains({ user: 'alice', role: 'customer' })).map((d) => d.domain).sort(), ['alice-shop.example', 'alice.example', 'blog.alice.example']);
    assert.deepEqual(await root.listDomains({ user: 'nobody', role: 'customer' }), []);
    assert.deepEqual(await root.listDomains({ user: 'res2', role: 'reseller' }), []);
    // a reseller token: WHM itself hides root-owned accounts even for an "admin" question
    assert.ok(!(await reseller.listDomains({ user: 'res1', role: 'admin' })).some((d) => d.domain === 'carol.example'));
  });

  it('lists accounts with roles and owners', async () => {
    const accts = await root.listAccounts();
    assert.deepEqual(accts.find((a) => a.user === 'root'), { user: 'root', role: 'admin' });
    assert.equal(accts.find((a) => a.user === 'res1')?.role, 'reseller');
    assert.deepEqual(accts.find((a) => a.user === 'bob'), { user: 'bob', role: 'customer', owner: 'res1' });
    assert.deepEqual(accts.find((a) => a.user === 'carol'), { user: 'carol', role: 'customer', owner: 'root' });
    assert.ok(!(await reseller.listAccounts()).some((a) => a.user === 'carol'));
  });

  it('reads a zone through parse_dns_zone; a reseller cannot read a root-owned zone', async () => {
    const z = await root.readZone('carol.example');
    assert.equal(z.serial, 2024061100);
    const dk = find(z.records, 'default._domainkey.carol.example', 'TXT')[0];
    assert.equal(dk.txt!.length, 2);
    assert.equal(dk.value, `v=DKIM1; k=rsa; p=${state.dkim.publicKey}`);
    await rejectsWith(reseller.readZone('carol.example'), 'not-found');
    assert.equal((await reseller.readZone('bob.example')).serial, 2024061100);
  });

  it('reads mail settings from the server files: mailips, mailhelo, DKIM key, localopts (MailChannels)', async () => {
    const s = await root.readMailSettings('bob.example');
    assert.deepEqual(s.ips, ['203.0.113.11']); // per-domain /etc/mailips entry
    assert.equal(s.helo, 'server1.host.example');
    assert.equal(s.hostname, 'server1.host.example');
    assert.equal(s.dkim.publicKey, state.dkim.publicKey);
    assert.match(s.dkim.privateKeyPem ?? '', /BEGIN PRIVATE KEY/);
    assert.equal(s.dkim.signing, true);
    assert.deepEqual(s.relay, { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'myhostingco' });
    assert.deepEqual(s.nameservers, ['ns1.host.example', 'ns2.host.example']);
    assert.equal(s.routing, 'local');
    const c = await root.readMailSettings('carol.example');
    assert.deepEqual(c.ips, ['203.0.113.10']); // '*' default
    assert.equal(c.routing, 'remote'); // /etc/remotedomains
  });

  it('remote WHM (no server files) falls back to the EmailAuth validators', async () => {
    const s = await reseller.readMailSettings('alice.example');
    assert.deepEqual(s.ips, ['203.0.113.10']);
    assert.equal(s.helo, 'server1.host.example');
    assert.equal(s.dkim.publicKey, state.dkim.publicKey);
    assert.equal(s.relay, null);
  });

  it('relay detection from exim localopts', () => {
    assert.equal(relayFromLocalopts('smarthost_routelist=\n'), null);
    assert.deepEqual(relayFromLocalopts('smarthost_routelist=* smtp.mailchannels.net::587\n'), { provider: 'mailchannels', host: 'relay.mailchannels.net' });
    assert.deepEqual(relayFromLocalopts('spf_include_hosts=relay.mailchannels.net\n'), { provider: 'mailchannels', host: 'relay.mailchannels.net' });
    assert.deepEqual(relayFromLocalopts('smarthost_routelist=* smtp.example.net::25\n'), { provider: 'smtp.example.net', host: 'smtp.example.net' });
  });

  it('applies changes with mass_edit_dns_zone; others untouched; Stale and InvalidZoneFile mapped', async () => {
    const z = await root.readZone('bob.example');
    const beforeView = zoneView(state, 'bob.example');
    const lock = find(z.records, '_mailchannels.bob.example', 'TXT')[0];
    const v = 'v=mc1 auth=myhostingco';
    const changes: Change[] = [{ action: 'edit', name: lock.name, type: 'TXT', ttl: 14400, before: lock, after: { ...lock, value: v, txt: [v] } }];
    state.calls.length = 0;
    state.serialDate = '20240611'; // §4.4: today's YYYYMMDD00 is not larger than 2024061100 → old + 1
    const r = await reseller.applyChanges('bob.example', changes, z.version);
    assert.equal(r.version, '2024061101');
    const afterView = zoneView(state, 'bob.example');
    for (const b of beforeView) if (b.line !== Number(lock.ref) && b.type !== 'SOA') assert.deepEqual(afterView.find((x) => x.line === b.line), b);
    assert.deepEqual(afterView.find((x) => x.line === Number(lock.ref))?.data, [v]);
    assert.ok(!state.calls.some((c) => c.startsWith('whm:validate_current_dkims')), 'no DKIM refresh for a non-DKIM change');
    await rejectsWith(reseller.applyChanges('bob.example', changes, z.version), 'stale');
    const z2 = await root.readZone('bob.example');
    const ns = find(z2.records, 'bob.example', 'NS');
    await rejectsWith(
      root.applyChanges('bob.example', ns.map((n) => ({ action: 'remove' as const, name: n.name, type: 'NS', ttl: n.ttl, before: n, after: null })), z2.version),
      'invalid-zone',
      /nothing was changed/,
    );
    await rejectsWith(reseller.applyChanges('carol.example', changes, '1'), 'not-found');
  });

  it('bad token → auth; unknown function → not-found', async () => {
    await rejectsWith(whm(srv.url, 'root', 'nope').listAccounts(), 'auth', /401/);
    const client = new PanelHttpClient({ baseUrl: srv.url, headers: { authorization: 'whm root:tok-root' } });
    await rejectsWith(new WhmHttp(client).call('no_such_function'), 'not-found', /no_such_function/);
  });
});

describe('WHM adapter over the local whmapi1 CLI (fake executable)', () => {
  it('lists, reads, writes and refuses stale serials through `whmapi1 --output=json`', async () => {
    const state = makeCpState();
    const bins = installFakeBins(state);
    const fsRoot = mkdtempSync(join(tmpdir(), 'mh-whm-root-'));
    writeCpanelServerFiles(state, fsRoot);
    const panel = new WhmPanel({ transport: new WhmCli(bins.path('whmapi1')), user: 'root', root: fsRoot });
    assert.equal((await panel.listDomains({ user: 'root', role: 'admin' })).length, 6);
    const z = await panel.readZone('alice.example');
    const dk = find(z.records, 'default._domainkey.alice.example', 'TXT')[0];
    const r = await panel.applyChanges('alice.example', [{ action: 'remove', name: dk.name, type: 'TXT', ttl: dk.ttl, before: dk, after: null }], z.version);
    assert.equal(r.version, String(bins.read<CpState>().zones['alice.example'].serial));
    assert.ok(Number(r.version) > 2024061100);
    const st = bins.read<CpState>();
    assert.equal(zoneView(st, 'alice.example').find((x) => x.name === dk.name), undefined);
    assert.ok(st.calls.includes('whm:validate_current_dkims alice.example'), 'DKIM change refreshes the validity cache');
    await rejectsWith(panel.applyChanges('alice.example', [{ action: 'remove', name: dk.name, type: 'TXT', ttl: dk.ttl, before: dk, after: null }], z.version), 'stale');
    const s = await panel.readMailSettings('alice.example');
    assert.equal(s.relay, null);
    assert.deepEqual(s.ips, ['203.0.113.10']);
  });
});

describe('server nameservers from /etc/wwwacct.conf', () => {
  it('reads NS…NS4, ignores empty entries, [] when the file is missing', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { readWwwacctNameservers } = await import('../../../../src/adapters/panels/whm/index.js');
    const root = mkdtempSync(join(tmpdir(), 'mh-wwwacct-'));
    assert.deepEqual(readWwwacctNameservers(root), []);
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc/wwwacct.conf'), 'HOMEDIR /home\nNS ns1.newhost.example\nNS2 NS2.newhost.example.\nNS3 \nNS4\nNSTTL 86400\n');
    assert.deepEqual(readWwwacctNameservers(root), ['ns1.newhost.example', 'ns2.newhost.example']);
  });
});
