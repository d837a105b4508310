import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Change, ZoneRecord } from '../../../../src/core/model.js';
import { PanelError } from '../../../../src/core/panel.js';
import { hashRecords } from '../../../../src/core/zone.js';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import { PleskLocalCli, PleskPanel, PleskRestCli } from '../../../../src/adapters/panels/plesk/index.js';
import { installFakeBins } from '../../../helpers/emulators/bins.js';
import type { RunningServer } from '../../../helpers/emulators/cpanel.js';
import { LOCKDOWN, SPF } from '../../../helpers/emulators/fixture.js';
import { makePleskState, recordsOf, startPleskServer, writePleskKeys, type PleskState } from '../../../helpers/emulators/plesk.js';
import { rejectsWith } from '../../../helpers/panel-errors.js';

const find = (records: ZoneRecord[], name: string, type: string) => records.filter((r) => r.name === name && r.type === type);

function plesk(url: string, key: string, opts: { root?: string | null; cli?: 'rest' | string } = {}): PleskPanel {
  const rest = new PanelHttpClient({ baseUrl: url, label: 'Plesk', headers: { 'x-api-key': key } });
  const cli = !opts.cli || opts.cli === 'rest' ? new PleskRestCli(rest) : new PleskLocalCli(opts.cli);
  return new PleskPanel({ rest, apiKey: key, cli, root: opts.root ?? null });
}

const txt = (name: string, value: string, ttl = 3600): ZoneRecord => ({ name, ttl, type: 'TXT', value, txt: [value] });

describe('Plesk adapter (REST v2 + XML + cli/call emulator on loopback)', () => {
  let state: PleskState;
  let srv: RunningServer;
  let panel: PleskPanel;
  let fsRoot: string;
  before(async () => {
    state = makePleskState();
    srv = await startPleskServer(state);
    fsRoot = mkdtempSync(join(tmpdir(), 'mh-plesk-root-'));
    writePleskKeys(state, fsRoot, ['alice.example', 'bob.example']);
    state.root = fsRoot;
    panel = plesk(srv.url, state.apiKey, { root: fsRoot });
  });
  after(() => srv.close());

  it('lists domains per identity: admin all, reseller its customers’ subscriptions, customer own — no leaks', async () => {
    const all = (await panel.listDomains({ user: 'admin', role: 'admin' })).map((d) => d.domain).sort();
    assert.deepEqual(all, ['alice-shop.example', 'alice.example', 'bob.example', 'carol.example', 'res1.example']);
    const res = await panel.listDomains({ user: 'res1', role: 'reseller' });
    assert.deepEqual(res.map((d) => d.domain).sort(), ['alice-shop.example', 'alice.example', 'bob.example', 'res1.example']);
    assert.deepEqual(res.find((d) => d.domain === 'bob.example'), { domain: 'bob.example', owner: 'bob', reseller: 'res1' });
    assert.deepEqual(res.find((d) => d.domain === 'res1.example'), { domain: 'res1.example', owner: 'res1' });
    assert.deepEqual((await panel.listDomains({ user: 'alice', role: 'customer' })).map((d) => d.domain).sort(), ['alice-shop.example', 'alice.example']);
    assert.deepEqual((await panel.listDomains({ user: 'carol', role: 'customer' })).map((d) => d.domain), ['carol.example']);
    assert.deepEqual(await panel.listDomains({ user: 'res1', role: 'customer' }), []); // a reseller login asking as customer
    assert.deepEqual(await panel.listDomains({ user: 'mallory', role: 'reseller' }), []);
    const accts = await panel.listAccounts();
    assert.deepEqual(accts.find((a) => a.user === 'alice'), { user: 'alice', role: 'customer', owner: 'res1' });
    assert.equal(accts.find((a) => a.user === 'res1')?.role, 'reseller');
    assert.equal(accts.find((a) => a.user === 'admin')?.role, 'admin');
  });

  it('reads a zone: absolute names, TXT value whole (≤255-byte chunks), no serial, version = hash of records', async () => {
    const z = await panel.readZone('alice.example');
    assert.equal(z.serial, null);
    assert.equal(z.version, hashRecords(z.records));
    assert.ok(z.records.every((r) => !r.name.endsWith('.')));
    assert.equal(find(z.records, 'alice.example', 'TXT')[0].value, SPF);
    assert.equal(find(z.records, '_mailchannels.alice.example', 'TXT')[0].value, LOCKDOWN);
    const dk = find(z.records, 'default._domainkey.alice.example', 'TXT')[0];
    assert.equal(dk.value, `v=DKIM1; k=rsa; p=${state.dkim.publicKey}`);
    assert.equal(dk.txt!.length, 2);
    assert.ok(dk.txt!.every((c) => c.length <= 255));
    assert.equal(find(z.records, 'alice.example', 'MX')[0].value, '10 mail.alice.example');
    assert.equal(find(z.records, 'www.alice.example', 'CNAME')[0].value, 'alice.example');
    await rejectsWith(panel.readZone('nothere.example'), 'not-found', /not found/i);
  });

  it('reads mail settings: hostname, outgoing mail IP mode, DKIM key and signing flag, zone status', async () => {
    const s = await panel.readMailSettings('alice-shop.example');
    assert.equal(s.hostname, 'server1.host.example');
    assert.deepEqual(s.ips, ['203.0.113.10']); // domain-ip mode: the subscription (alice.example) IP
    assert.equal(s.dkim.signing, false); // no key file for alice-shop.example
    const a = await panel.readMailSettings('alice.example');
    assert.equal(a.dkim.publicKey, state.dkim.publicKey);
    assert.equal(a.dkim.signing, true);
    assert.deepEqual(a.nameservers, ['ns1.host.example', 'ns2.host.example']);
    state.mailPrefs['bob.example'].sign = false;
    assert.equal((await panel.readMailSettings('bob.example')).dkim.signing, false);
    // Server-wide prefs are asked once per SERVER_TTL_MS: a changed mode shows on the next read after that.
    const calls = () => state.calls.filter((c) => c.includes('/api/v2/server') && !c.includes('/server/')).length;
    const before = calls();
    await panel.readMailSettings('alice.example');
    await panel.readMailSettings('bob.example');
    assert.equal(calls(), before, 'the server host name is not asked again for each domain');
    state.outgoingMode = 'explicit-ip';
    assert.deepEqual((await panel.readMailSettings('bob.example')).ips, ['203.0.113.11'], 'still the prefs read a moment ago');
    const ttl = PleskPanel.SERVER_TTL_MS;
    PleskPanel.SERVER_TTL_MS = 0;
    try {
      assert.deepEqual((await panel.readMailSettings('bob.example')).ips, ['198.51.100.7']);
      assert.equal(calls(), before + 1);
      state.outgoingMode = 'domain-ip';
      assert.deepEqual((await panel.readMailSettings('bob.example')).ips, ['203.0.113.11']);
    } finally {
      PleskPanel.SERVER_TTL_MS = ttl;
    }
    assert.equal(await panel.zoneStatus('bob.example'), 'enabled');
    state.zoneStatus['bob.example'] = 'disabled';
    assert.equal(await panel.zoneStatus('bob.example'), 'disabled');
    mkdirSync(join(fsRoot, 'etc/postfix'), { recursive: true });
    writeFileSync(join(fsRoot, 'etc/postfix/main.cf'), 'myhostname = server1\nrelayhost = [smtp.mailchannels.net]:587\n');
    assert.deepEqual((await panel.readMailSettings('bob.example')).relay, { provider: 'mailchannels', host: 'relay.mailchannels.net' });
  });

  it('applies add / edit (delete+add) / remove via plesk bin dns over /cli/dns/call; other records unchanged', async () => {
    const z = await panel.readZone('alice.example');
    const before = recordsOf(state, 'alice.example').map((r) => ({ ...r }));
    const spf = find(z.records, 'alice.example', 'TXT')[0];
    const lock = find(z.records, '_mailchannels.alice.example', 'TXT')[0];
    const newSpf = 'v=spf1 +a +mx include:relay.mailchannels.net -all';
    const changes: Change[] = [
      { action: 'edit', name: 'alice.example', type: 'TXT', ttl: spf.ttl, before: spf, after: txt('alice.example', newSpf, spf.ttl) },
      { action: 'remove', name: lock.name, type: 'TXT', ttl: lock.ttl, before: lock, after: null },
      { action: 'add', name: '_dmarc.alice.example', type: 'TXT', ttl: 3600, before: null, after: txt('_dmarc.alice.example', 'v=DMARC1; p=none') },
    ];
    const r = await panel.applyChanges('alice.example', changes, z.version);
    const afterRecs = recordsOf(state, 'alice.example');
    const untouched = before.filter((b) => b.id !== Number(spf.ref) && b.id !== Number(lock.ref));
    for (const b of untouched) assert.deepEqual(afterRecs.find((x) => x.id === b.id), b);
    assert.equal(afterRecs.length, before.length);
    assert.ok(afterRecs.some((x) => x.host === 'alice.example.' && x.type === 'TXT' && x.value === newSpf));
    assert.ok(!afterRecs.some((x) => x.value === SPF || x.value === LOCKDOWN));
    assert.ok(afterRecs.some((x) => x.host === '_dmarc.alice.example.' && x.value === 'v=DMARC1; p=none' && x.ttl === 3600));
    const z2 = await panel.readZone('alice.example');
    assert.equal(r.version, z2.version);
    assert.ok(state.calls.some((c) => c.startsWith('POST /api/v2/cli/dns/call')));
  });

  it('refuses when the zone changed since it was read (re-read and compare), writing nothing', async () => {
    const z = await panel.readZone('bob.example');
    state.records.push({ id: state.nextId++, domain_id: state.domains.find((d) => d.name === 'bob.example')!.id, type: 'TXT', host: 'bob.example.', value: 'google-site-verification=x', opt: '', ttl: 300 });
    const snapshot = JSON.stringify(recordsOf(state, 'bob.example'));
    await rejectsWith(panel.applyChanges('bob.example', [{ action: 'add', name: '_dmarc.bob.example', type: 'TXT', ttl: 3600, before: null, after: txt('_dmarc.bob.example', 'v=DMARC1; p=none') }], z.version), 'stale');
    assert.equal(JSON.stringify(recordsOf(state, 'bob.example')), snapshot);
  });

  it('exit code 2 from dns --add → record-exists', async () => {
    const z = await panel.readZone('carol.example');
    const lock = find(z.records, '_mailchannels.carol.example', 'TXT')[0];
    await rejectsWith(panel.applyChanges('carol.example', [{ action: 'add', name: lock.name, type: 'TXT', ttl: 3600, before: null, after: txt(lock.name, LOCKDOWN) }], z.version), 'record-exists', /already exists/);
  });

  it('a dns call failing part-way: every step already taken is undone, newest first (the zone is as it was)', async () => {
    const rest = new PanelHttpClient({ baseUrl: srv.url, label: 'Plesk', headers: { 'x-api-key': state.apiKey } });
    const real = new PleskRestCli(rest);
    const newSpf = 'v=spf1 mx include:relay.mailchannels.net -all';
    // The add of the new SPF record fails (as a Plesk that rejects the value would); every other call goes through.
    const cli = { run: (util: string, params: string[]) => (util === 'dns' && params[0] === '--add' && params.includes(newSpf) ? Promise.resolve({ code: 1, stdout: '', stderr: 'injected failure' }) : real.run(util, params)) };
    const flaky = new PleskPanel({ rest, apiKey: state.apiKey, cli, root: fsRoot });
    const key = (r: { host: string; type: string; value: string }) => `${r.host} ${r.type} ${r.value}`;
    const beforeSet = recordsOf(state, 'carol.example').map(key).sort();
    const z = await flaky.readZone('carol.example');
    const spf = find(z.records, 'carol.example', 'TXT')[0];
    const lock = find(z.records, '_mailchannels.carol.example', 'TXT')[0];
    const changes: Change[] = [
      { action: 'remove', name: lock.name, type: 'TXT', ttl: lock.ttl, before: lock, after: null },
      { action: 'edit', name: 'carol.example', type: 'TXT', ttl: spf.ttl, before: spf, after: txt('carol.example', newSpf, spf.ttl) },
    ];
    await rejectsWith(flaky.applyChanges('carol.example', changes, z.version), 'other', /injected failure/);
    assert.deepEqual(recordsOf(state, 'carol.example').map(key).sort(), beforeSet);
  });

  it('an IDN domain listed in punycode is read whichever spelling Plesk filters on (name or ascii_name)', async () => {
    const dom = state.domains.find((d) => d.name === 'alice-shop.example')!;
    const before = { name: dom.name, ascii: dom.ascii_name };
    // The emulator filters ?name= and ?domain= on `name`: here the Unicode spelling, while the list gives punycode.
    dom.name = 'bücher.example';
    dom.ascii_name = 'xn--bcher-kva.example';
    try {
      const fresh = plesk(srv.url, state.apiKey, { root: fsRoot });
      assert.ok((await fresh.listDomains({ user: 'alice', role: 'customer' })).some((r) => r.domain === 'xn--bcher-kva.example'));
      const z = await fresh.readZone('xn--bcher-kva.example');
      assert.ok(z.records.length > 0);
      const settings = await fresh.readMailSettings('xn--bcher-kva.example');
      assert.equal(settings.domain, 'xn--bcher-kva.example');
    } finally {
      dom.name = before.name;
      dom.ascii_name = before.ascii;
    }
  });

  it('non-TXT changes are refused as unsupported', async () => {
    const z = await panel.readZone('carol.example');
    const mx = find(z.records, 'carol.example', 'MX')[0];
    await rejectsWith(panel.applyChanges('carol.example', [{ action: 'remove', name: mx.name, type: 'MX', ttl: mx.ttl, before: mx, after: null }], z.version), 'unsupported');
  });

  it('generates DKIM with domain_pref -sign_outgoing_mail true', async () => {
    const at = 'default._domainkey.alice-shop.example.';
    const dom = state.domains.find((d) => d.name === 'alice-shop.example')!;
    state.records = state.records.filter((r) => !(r.domain_id === dom.id && r.host === at)); // no key record yet
    const s = await panel.generateDkim('alice-shop.example');
    // The record Plesk published when signing was turned on is taken back: the fix's plan publishes it.
    assert.deepEqual(state.records.filter((r) => r.domain_id === dom.id && r.host === at), []);
    assert.equal(s.dkim.signing, true);
    assert.equal(s.dkim.publicKey, state.dkim.publicKey);
    assert.ok(state.calls.includes('bin:domain_pref --update alice-shop.example -sign_outgoing_mail true'));
  });

  it('REST errors: wrong key → auth (401 {code,message}); disallowed utility → not-found', async () => {
    await rejectsWith(plesk(srv.url, 'wrong').listAccounts(), 'auth', /wrong API key/);
    const rest = new PanelHttpClient({ baseUrl: srv.url, headers: { 'x-api-key': state.apiKey } });
    await rejectsWith(new PleskRestCli(rest).run('secret_key', ['--list']), 'not-found', /secret_key/);
  });
});

describe('Plesk adapter with the local `plesk bin` (fake executable)', () => {
  it('writes through execFile(plesk, [bin, dns, …]), re-reads, refuses stale versions and maps exit code 2', async () => {
    const state = makePleskState();
    const bins = installFakeBins(state);
    const srv = await startPleskServer(state, bins.stateFile); // REST and the fake CLI share the JSON state file
    try {
      const panel = plesk(srv.url, state.apiKey, { cli: bins.path('plesk') });
      const z = await panel.readZone('bob.example');
      const lock = find(z.records, '_mailchannels.bob.example', 'TXT')[0];
      const v = 'v=mc1 auth=myhostingco';
      const r = await panel.applyChanges('bob.example', [{ action: 'edit', name: lock.name, type: 'TXT', ttl: lock.ttl, before: lock, after: txt(lock.name, v, lock.ttl) }], z.version);
      const st = bins.read<PleskState>();
      assert.ok(recordsOf(st, 'bob.example').some((x) => x.host === '_mailchannels.bob.example.' && x.value === v));
      assert.ok(!recordsOf(st, 'bob.example').some((x) => x.value === LOCKDOWN));
      assert.ok(st.calls.includes(`bin:dns --del bob.example -txt ${LOCKDOWN} -domain _mailchannels`));
      assert.equal(r.version, (await panel.readZone('bob.example')).version);
      await rejectsWith(panel.applyChanges('bob.example', [{ action: 'remove', name: lock.name, type: 'TXT', ttl: lock.ttl, before: lock, after: null }], z.version), 'stale');
      const z2 = await panel.readZone('bob.example');
      await rejectsWith(
        panel.applyChanges('bob.example', [{ action: 'add', name: lock.name, type: 'TXT', ttl: 3600, before: null, after: txt(lock.name, v) }], z2.version),
        'record-exists',
      );
    } finally {
      await srv.close();
    }
  });
});
