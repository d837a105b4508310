import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Change, ZoneRecord } from '../../../../src/core/model.js';
import { canAccess, PanelError } from '../../../../src/core/panel.js';
import { hashRecords } from '../../../../src/core/zone.js';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import { PleskLocalCli, PleskPanel, PleskRestCli } from '../../../../src/adapters/panels/plesk/index.js';
import { splitTxt as splitUtf8 } from '../../../../src/adapters/panels/files/zonefile.js';
import { openStore } from '../../../../src/adapters/store/store.js';
import { auditDomain } from '../../../../src/core/audit.js';
import { applyPlan, undoChange } from '../../../../src/core/plans/apply.js';
import { makePlan } from '../../../../src/core/plans/index.js';
import { installFakeBins } from '../../../helpers/emulators/bins.js';
import type { RunningServer } from '../../../helpers/emulators/cpanel.js';
import { LOCKDOWN, SPF } from '../../../helpers/emulators/fixture.js';
import { addPleskAlias, liveOf, makePleskState, recordsOf, startPleskServer, writePleskKeys, type PleskState } from '../../../helpers/emulators/plesk.js';
import { MapResolver } from '../../../helpers/map-resolver.js';
import { rejectsWith } from '../../../helpers/panel-errors.js';
import { otherRsaKey } from '../../../helpers/scenario.js';

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
    // No key file for alice-shop.example, but Plesk signs for it (spam-protect-sign): the key is the one in its record.
    assert.equal(s.dkim.signing, true);
    assert.equal(s.dkim.publicKey, state.dkim.publicKey);
    assert.equal(s.dkim.privateKeyPem, undefined);
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

  it('exit code 2 from dns --add ("already exists", plesk.md §2.1: already present) for a record added since the re-read → the record is in place: applied', async () => {
    const rest = new PanelHttpClient({ baseUrl: srv.url, label: 'Plesk', headers: { 'x-api-key': state.apiKey } });
    const real = new PleskRestCli(rest);
    const value = 'v=DMARC1; p=none; rua=mailto:d@carol.example';
    const carol = state.domains.find((d) => d.name === 'carol.example')!.id;
    // Someone adds the same record between the adapter's re-read and its `--add`.
    const cli = {
      run: (util: string, params: string[]) => {
        if (util === 'dns' && params[0] === '--add' && params.includes(value)) state.records.push({ id: state.nextId++, domain_id: carol, type: 'TXT', host: '_dmarc.carol.example.', value, opt: '', ttl: 300 });
        return real.run(util, params);
      },
    };
    const racing = new PleskPanel({ rest, apiKey: state.apiKey, cli, root: fsRoot });
    const z = await racing.readZone('carol.example');
    const stale = find(z.records, '_dmarc.carol.example', 'TXT');
    const r = await racing.applyChanges('carol.example', [{ action: 'add', name: '_dmarc.carol.example', type: 'TXT', ttl: 3600, before: null, after: txt('_dmarc.carol.example', value) }], z.version);
    const after = await panel.readZone('carol.example');
    assert.equal(r.version, after.version);
    assert.deepEqual(find(after.records, '_dmarc.carol.example', 'TXT').map((x) => x.value).sort(), [...stale.map((x) => x.value), value].sort());
  });

  it('an add of a record the zone already holds (type, name, value; any TTL) is refused as record-exists, nothing sent: Plesk keeps one copy', async () => {
    const z = await panel.readZone('carol.example');
    const lock = find(z.records, '_mailchannels.carol.example', 'TXT')[0];
    const calls = state.calls.length;
    const e = await rejectsWith(panel.applyChanges('carol.example', [{ action: 'add', name: lock.name, type: 'TXT', ttl: 3600, before: null, after: txt(lock.name, LOCKDOWN) }], z.version), 'record-exists');
    assert.match(e.message, /keeps one copy of identical records: the zone already holds the TXT record at _mailchannels\.carol\.example .*\(TTL 14400\), so another copy \(TTL 3600\) cannot be added/);
    assert.ok(!state.calls.slice(calls).some((c) => c.startsWith('POST /api/v2/cli') || c.startsWith('DELETE')), 'nothing sent');
    assert.equal((await panel.readZone('carol.example')).version, z.version);
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

  it('changes other than TXT and CNAME are refused as unsupported, before anything is sent', async () => {
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
  it('writes through execFile(plesk, [bin, dns, …]), re-reads, refuses stale versions, and takes exit code 2 as already present', async () => {
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
      // Exit code 2 (the record already exists: someone added it since the re-read): already present, so the write
      // stands, with the record once.
      const local = new PleskLocalCli(bins.path('plesk'));
      const dmarc = 'v=DMARC1; p=none';
      const racing = new PleskPanel({
        rest: new PanelHttpClient({ baseUrl: srv.url, label: 'Plesk', headers: { 'x-api-key': state.apiKey } }),
        apiKey: state.apiKey,
        root: null,
        cli: {
          run: (util, params) => {
            if (util === 'dns' && params[0] === '--add' && params.includes(dmarc)) {
              const s = bins.read<PleskState>();
              s.records.push({ id: s.nextId++, domain_id: s.domains.find((d) => d.name === 'bob.example')!.id, type: 'TXT', host: '_dmarc.bob.example.', value: dmarc, opt: '', ttl: 300 });
              bins.write(s);
            }
            return local.run(util, params);
          },
        },
      });
      const z2 = await racing.readZone('bob.example');
      await racing.applyChanges('bob.example', [{ action: 'add', name: '_dmarc.bob.example', type: 'TXT', ttl: 3600, before: null, after: txt('_dmarc.bob.example', dmarc) }], z2.version);
      assert.equal(recordsOf(bins.read<PleskState>(), 'bob.example').filter((x) => x.host === '_dmarc.bob.example.' && x.value === dmarc).length, 1);
    } finally {
      await srv.close();
    }
  });
});

/** A fresh emulator and a panel on it, per test (these tests change the emulated server's state). */
async function rig(opts: { root?: string | null; tweak?: (s: PleskState) => void } = {}) {
  const state = makePleskState();
  opts.tweak?.(state);
  const srv = await startPleskServer(state);
  const panel = plesk(srv.url, state.apiKey, { root: opts.root ?? null });
  return { state, srv, panel };
}


const FIXED = () => new Date(0);

describe('Plesk adapter: main.cf relayhost', () => {
  it('an empty `relayhost =` is no relay: the next line is never read as the relay host', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mh-plesk-relay-'));
    const { state, srv, panel } = await rig({ root });
    try {
      writePleskKeys(state, root);
      mkdirSync(join(root, 'etc/postfix'), { recursive: true });
      const mainCf = (text: string) => writeFileSync(join(root, 'etc/postfix/main.cf'), text);
      mainCf('myhostname = server1.host.example\nrelayhost =\nsmtp_tls_security_level = may\n');
      assert.equal((await panel.readMailSettings('alice.example')).relay, null);
      mainCf('relayhost =   \n\nmydestination = localhost\n');
      assert.equal((await panel.readMailSettings('alice.example')).relay, null);
      // A line that starts with white space continues the one before (postconf(5)); `#` lines are comments.
      mainCf('relayhost =\n    [smtp.mailchannels.net]:587\n');
      assert.deepEqual((await panel.readMailSettings('alice.example')).relay, { provider: 'mailchannels', host: 'relay.mailchannels.net' });
      mainCf('#relayhost = [smtp.old.example]\nrelayhost = [smtp.relay.example]:587\n');
      assert.deepEqual((await panel.readMailSettings('alice.example')).relay, { provider: 'smtp.relay.example', host: 'smtp.relay.example' });
      // The SPF fix never authorises a made-up relay.
      mainCf('myhostname = server1.host.example\nrelayhost =\nsmtp_tls_security_level = may\n');
      const resolver = liveOf(state, 'alice.example', { 'server1.host.example': { A: ['203.0.113.10'] } });
      const plan = await makePlan({ domain: 'alice.example', check: 'spf' }, { panel, resolver, now: FIXED });
      assert.equal(plan.mode, 'apply');
      assert.ok(plan.changes.every((c) => !/smtp_tls_security_level/.test(c.after?.value ?? '')), JSON.stringify(plan.changes));
    } finally {
      await srv.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('Plesk adapter: a disabled or slave zone is not this server’s DNS (§5, §6.1)', () => {
  // The zone as imported from the DNS host the domain really uses, which is what live DNS delegates to.
  const external = (state: PleskState) => {
    const dom = state.domains.find((d) => d.name === 'alice.example')!;
    for (const r of state.records) {
      if (r.domain_id === dom.id && r.type === 'NS') r.value = r.value.replace('ns1.host.example.', 'ada.ns.cloudflare.com.').replace('ns2.host.example.', 'bob.ns.cloudflare.com.');
    }
  };

  it('reports no nameservers of this server for a disabled or slave zone; the NS records for an enabled one', async () => {
    const { state, srv, panel } = await rig();
    try {
      assert.deepEqual((await panel.readMailSettings('alice.example')).nameservers, ['ns1.host.example', 'ns2.host.example']);
      state.zoneStatus['alice.example'] = 'disabled';
      assert.deepEqual((await panel.readMailSettings('alice.example')).nameservers, []);
      state.zoneStatus['alice.example'] = 'enabled';
      state.zoneType['alice.example'] = 'slave';
      assert.equal(await panel.zoneStatus('alice.example'), 'external');
      assert.deepEqual((await panel.readMailSettings('alice.example')).nameservers, []);
      assert.deepEqual((await panel.readMailSettings('bob.example')).nameservers, ['ns1.host.example', 'ns2.host.example']);
    } finally {
      await srv.close();
    }
  });

  it('a subdomain with no NS records of its own is served by its parent domain’s nameservers — while Plesk serves the parent’s zone', async () => {
    // A Plesk subdomain (REST base_domain_id names the subscription) whose record list holds no NS at its name (not
    // delegated): it was read as "DNS served elsewhere", so the audit said not authoritative and no fix could apply.
    const sub = 'shop.bob.example';
    const { state, srv, panel } = await rig({
      tweak: (s) => {
        const bob = s.domains.find((d) => d.name === 'bob.example')!;
        s.domains.push({ ...bob, id: 60, name: sub, ascii_name: sub, base_domain_id: bob.id });
        for (const [type, value] of [['A', '203.0.113.11'], ['MX', 'mail.bob.example.'], ['TXT', SPF]] as const) {
          s.records.push({ id: s.nextId++, domain_id: 60, type, host: `${sub}.`, value, opt: type === 'MX' ? '10' : '', ttl: 3600 });
        }
      },
    });
    try {
      assert.deepEqual((await panel.readMailSettings(sub)).nameservers, ['ns1.host.example', 'ns2.host.example']);
      // The parent's zone not served here: neither is the subdomain's.
      state.zoneStatus['bob.example'] = 'disabled';
      assert.deepEqual((await panel.readMailSettings(sub)).nameservers, []);
      state.zoneStatus['bob.example'] = 'enabled';
      // NS records of its own (a zone of its own, or delegated): those count, not the parent's.
      state.records.push({ id: state.nextId++, domain_id: 60, type: 'NS', host: `${sub}.`, value: 'ns.elsewhere.example.', opt: '', ttl: 3600 });
      assert.deepEqual((await panel.readMailSettings(sub)).nameservers, ['ns.elsewhere.example']);
      // A subdomain of that subdomain (no NS records of its own either): the closest parent that has NS records (review).
      state.records = state.records.filter((r) => !(r.domain_id === 60 && r.type === 'NS'));
      const deeper = `x.${sub}`;
      state.domains.push({ ...state.domains.find((d) => d.id === 60)!, id: 61, name: deeper, ascii_name: deeper });
      state.records.push({ id: state.nextId++, domain_id: 61, type: 'TXT', host: `${deeper}.`, value: SPF, opt: '', ttl: 3600 });
      assert.deepEqual((await panel.readMailSettings(deeper)).nameservers, ['ns1.host.example', 'ns2.host.example']);
      // A domain that is no subdomain of a Plesk domain and has no NS records: none.
      const carol = state.domains.find((d) => d.name === 'carol.example')!;
      state.records = state.records.filter((r) => !(r.domain_id === carol.id && r.type === 'NS'));
      assert.deepEqual((await panel.readMailSettings('carol.example')).nameservers, []);
    } finally {
      await srv.close();
    }
  });

  it('audit: not authoritative; plans are records to publish elsewhere; apply refuses and the Plesk zone is not written', async () => {
    const { state, srv, panel } = await rig({ tweak: external });
    const tmp = mkdtempSync(join(tmpdir(), 'mh-plesk-zone-off-'));
    const store = openStore(join(tmp, 'h.sqlite'), { now: () => 0 });
    try {
      state.zoneStatus['alice.example'] = 'disabled';
      const resolver = liveOf(state, 'alice.example', { '_dmarc.alice.example': {} });
      const audit = await auditDomain('alice.example', { panel, resolver, now: FIXED, checks: ['dns'] });
      assert.deepEqual(audit.findings.map((f) => `${f.rule} ${f.severity}`), ['dns.not-authoritative warn']);
      const plan = await makePlan({ domain: 'alice.example', check: 'dmarc' }, { panel, resolver, now: FIXED });
      assert.equal(plan.mode, 'publish-elsewhere');
      assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.name}`), ['add _dmarc.alice.example']);
      const before = JSON.stringify(recordsOf(state, 'alice.example'));
      const out = await applyPlan({ domain: 'alice.example', check: 'dmarc', planHash: plan.planHash }, { panel, resolver, history: store, byUser: 'root', now: FIXED });
      assert.equal(out.status, 'refused');
      assert.equal(JSON.stringify(recordsOf(state, 'alice.example')), before);
      assert.deepEqual(state.calls.filter((c) => c.startsWith('bin:')), []);
    } finally {
      store.close();
      await srv.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('a zone status Plesk cannot give (XML error) keeps the zone’s NS records, without failing the read', async () => {
    const state = makePleskState();
    const srv = await startPleskServer(state);
    try {
      const rest = new PanelHttpClient({ baseUrl: srv.url, label: 'Plesk', headers: { 'x-api-key': state.apiKey } });
      const real = rest.request.bind(rest);
      // The per-operation error shape of §3.1, for the `dns get` packet only.
      rest.request = async (req) =>
        req.body?.text.includes('<dns><get>')
          ? { status: 200, json: undefined, text: '<packet><dns><get><result><status>error</status><errcode>1013</errcode><errtext>DNS zone does not exist</errtext></result></get></dns></packet>' }
          : real(req);
      const panel = new PleskPanel({ rest, apiKey: state.apiKey, cli: new PleskRestCli(rest), root: null });
      await rejectsWith(panel.zoneStatus('alice.example'), 'other', /DNS zone does not exist/);
      const s = await panel.readMailSettings('alice.example');
      assert.deepEqual(s.nameservers, ['ns1.host.example', 'ns2.host.example']);
    } finally {
      await srv.close();
    }
  });
});

describe('Plesk adapter: TXT values beyond Latin-1', () => {
  it('edits a TXT value holding a character above U+00FF: `dns --del` gets the exact stored value', async () => {
    const { state, srv, panel } = await rig();
    try {
      const dashed = 'v=spf1 +a +mx include:websitewelcome.com \u2013all'; // an en dash pasted for "-"
      const spfRec = state.records.find((r) => r.type === 'TXT' && r.host === 'alice.example.' && r.value.startsWith('v=spf1'))!;
      spfRec.value = dashed;
      const z = await panel.readZone('alice.example');
      const rec = find(z.records, 'alice.example', 'TXT')[0];
      assert.equal(rec.value, dashed);
      assert.equal(rec.txt!.join(''), dashed);
      const fixed = 'v=spf1 +a +mx -all';
      await panel.applyChanges('alice.example', [{ action: 'edit', name: 'alice.example', type: 'TXT', ttl: rec.ttl, before: rec, after: txt('alice.example', fixed, rec.ttl) }], z.version);
      assert.deepEqual(recordsOf(state, 'alice.example').filter((r) => r.type === 'TXT' && r.host === 'alice.example.').map((r) => r.value), [fixed]);
      assert.ok(state.calls.includes(`bin:dns --del alice.example -txt ${dashed} -domain `));
      // And back (the undo of that edit): the value sent is the record's value, not its character-strings.
      const z2 = await panel.readZone('alice.example');
      const now = find(z2.records, 'alice.example', 'TXT')[0];
      await panel.applyChanges('alice.example', [{ action: 'edit', name: 'alice.example', type: 'TXT', ttl: now.ttl, before: now, after: { ...rec, ref: undefined } }], z2.version);
      assert.deepEqual(recordsOf(state, 'alice.example').filter((r) => r.type === 'TXT' && r.host === 'alice.example.').map((r) => r.value), [dashed]);
    } finally {
      await srv.close();
    }
  });

  it('reads a long value as ≤255-byte UTF-8 strings, never cutting a character, that join back to the value', async () => {
    const { state, srv, panel } = await rig();
    try {
      const long = `v=spf1 ${'€'.repeat(100)} ${'é'.repeat(100)} 😀😀 -all`;
      const dom = state.domains.find((d) => d.name === 'alice.example')!;
      state.records.push({ id: state.nextId++, domain_id: dom.id, type: 'TXT', host: 'long.alice.example.', value: long, opt: '', ttl: 300 });
      const rec = find((await panel.readZone('alice.example')).records, 'long.alice.example', 'TXT')[0];
      assert.equal(rec.value, long);
      assert.equal(rec.txt!.join(''), long);
      assert.ok(rec.txt!.length > 1);
      for (const c of rec.txt!) {
        assert.ok(Buffer.byteLength(c, 'utf8') <= 255, `${Buffer.byteLength(c, 'utf8')} bytes`);
        assert.equal(Buffer.from(c, 'utf8').toString('utf8'), c, 'a character cut in two');
      }
    } finally {
      await srv.close();
    }
  });

  it('splitUtf8: byte-bounded chunks on character boundaries', () => {
    assert.deepEqual(splitUtf8(''), ['']);
    assert.deepEqual(splitUtf8('abc', 2), ['ab', 'c']);
    assert.deepEqual(splitUtf8('a€b', 3), ['a', '€', 'b']); // € is 3 bytes: never split
    assert.deepEqual(splitUtf8('😀😀', 5), ['😀', '😀']); // 4 bytes (a surrogate pair in JS)
  });
});

describe('Plesk adapter without server files (REST + XML only): DKIM', () => {
  it('signing comes from spam-protect-sign; the key from Plesk’s own default._domainkey record', async () => {
    const { state, srv, panel } = await rig();
    try {
      const s = await panel.readMailSettings('alice.example');
      assert.equal(s.dkim.signing, true);
      assert.equal(s.dkim.publicKey, state.dkim.publicKey);
      assert.equal(s.dkim.privateKeyPem, undefined);
      // The audit does not call Plesk's correct record stale, nor signing off; the fix has nothing to do.
      const resolver = liveOf(state, 'alice.example');
      const audit = await auditDomain('alice.example', { panel, resolver, now: FIXED, checks: ['dkim'] });
      assert.deepEqual(audit.findings.map((f) => `${f.rule} ${f.severity}`), ['dkim.ok pass']);
      const plan = await makePlan({ domain: 'alice.example', check: 'dkim' }, { panel, resolver, now: FIXED });
      assert.deepEqual(plan.changes, []);
      assert.deepEqual(plan.actions, []);
      // Signing off: no key is taken from the zone (the record may be anyone's), and signing shows off.
      state.mailPrefs['bob.example'].sign = false;
      const b = await panel.readMailSettings('bob.example');
      assert.equal(b.dkim.signing, false);
      assert.equal(b.dkim.publicKey, undefined);
    } finally {
      await srv.close();
    }
  });

  it('two different keys at default._domainkey: no key is guessed', async () => {
    const { state, srv, panel } = await rig();
    try {
      const dom = state.domains.find((d) => d.name === 'alice.example')!;
      state.records.push({ id: state.nextId++, domain_id: dom.id, type: 'TXT', host: 'default._domainkey.alice.example.', value: `v=DKIM1; k=rsa; p=${otherRsaKey().publicB64}`, opt: '', ttl: 300 });
      const s = await panel.readMailSettings('alice.example');
      assert.equal(s.dkim.signing, true);
      assert.equal(s.dkim.publicKey, undefined);
    } finally {
      await srv.close();
    }
  });

  it('generateDkim: the key is the one Plesk just published, never a record that was there before', async () => {
    const { state, srv, panel } = await rig();
    try {
      const shop = state.domains.find((d) => d.name === 'alice-shop.example')!;
      const at = 'default._domainkey.alice-shop.example.';
      state.records = state.records.filter((r) => !(r.domain_id === shop.id && r.host === at));
      state.mailPrefs['alice-shop.example'].sign = false;
      const before = JSON.stringify(recordsOf(state, 'alice-shop.example'));
      const s = await panel.generateDkim('alice-shop.example');
      assert.equal(s.dkim.signing, true);
      assert.equal(s.dkim.publicKey, state.dkim.publicKey);
      assert.equal(JSON.stringify(recordsOf(state, 'alice-shop.example')), before, 'the record Plesk published is taken back');
      // A previous host's key at the selector, and Plesk publishes nothing beside it: no key known (not the old one).
      const bob = state.domains.find((d) => d.name === 'bob.example')!;
      const old = `v=DKIM1; k=rsa; p=${otherRsaKey().publicB64}`;
      for (const r of state.records) if (r.domain_id === bob.id && r.host === 'default._domainkey.bob.example.') r.value = old;
      state.mailPrefs['bob.example'].sign = false;
      const b = await panel.generateDkim('bob.example');
      assert.equal(b.dkim.signing, true);
      assert.equal(b.dkim.publicKey, undefined);
    } finally {
      await srv.close();
    }
  });
});

/** The reason an alias's mail settings give for no DKIM key generation (see PleskPanel aliasMailSettings). */
const noKeyGen = (alias: string, parent: string) =>
  `${alias} is a domain alias of ${parent} and signs with ${parent}'s DKIM key, which is not on this server: turn on "Use DKIM spam protection system to sign outgoing email messages" in the Mail Settings of ${parent} in Plesk (Plesk creates the key), then run the DKIM fix again to publish it under ${alias}`;

describe('Plesk adapter: domain aliases (REST aliases[], ?domain=<alias>; plesk.md §1.2, §1.3, §4, §5)', () => {
  /**
   * alice.example: alice-alias.example (everything on); alice-shop.example: bücher.example (IDN: Plesk filters on the
   * Unicode `name`, we list the A-label); bob.example: bob-nomail.example (mail off); carol.example:
   * carol-nodns.example (DNS off — the emulator still serves records for it, so nothing may depend on a 404);
   * res1.example: res1-alias.example. And an alias of alice.example named carol.example, which is carol's domain.
   */
  const aliases = (state: PleskState) => {
    addPleskAlias(state, 'alice.example', { name: 'alice-alias.example' });
    addPleskAlias(state, 'alice-shop.example', { name: 'bücher.example', ascii_name: 'xn--bcher-kva.example' });
    addPleskAlias(state, 'bob.example', { name: 'bob-nomail.example', mail: false });
    addPleskAlias(state, 'carol.example', { name: 'carol-nodns.example', dns: false });
    addPleskAlias(state, 'res1.example', { name: 'res1-alias.example' });
    addPleskAlias(state, 'alice.example', { name: 'carol.example' }, { zone: false });
  };
  const names = (refs: { domain: string }[]) => refs.map((d) => d.domain).sort();

  it('lists each alias under its A-label with the owner and reseller of its domain; a name that is also a domain stays that domain', async () => {
    const { state, srv, panel } = await rig({ tweak: aliases });
    try {
      const admin = await panel.listDomains({ user: 'admin', role: 'admin' });
      assert.deepEqual(names(admin), [
        'alice-alias.example',
        'alice-shop.example',
        'alice.example',
        'bob-nomail.example',
        'bob.example',
        'carol-nodns.example',
        'carol.example',
        'res1-alias.example',
        'res1.example',
        'xn--bcher-kva.example',
      ]);
      assert.deepEqual(admin.filter((d) => d.domain === 'carol.example'), [{ domain: 'carol.example', owner: 'carol' }], 'the alias named carol.example is not listed');
      const res = await panel.listDomains({ user: 'res1', role: 'reseller' });
      assert.deepEqual(names(res), ['alice-alias.example', 'alice-shop.example', 'alice.example', 'bob-nomail.example', 'bob.example', 'res1-alias.example', 'res1.example', 'xn--bcher-kva.example']);
      assert.deepEqual(res.find((d) => d.domain === 'alice-alias.example'), { domain: 'alice-alias.example', owner: 'alice', reseller: 'res1', aliasOf: 'alice.example' });
      assert.deepEqual(res.find((d) => d.domain === 'res1-alias.example'), { domain: 'res1-alias.example', owner: 'res1', aliasOf: 'res1.example' });
      assert.deepEqual(names(await panel.listDomains({ user: 'alice', role: 'customer' })), ['alice-alias.example', 'alice-shop.example', 'alice.example', 'xn--bcher-kva.example']);
      assert.deepEqual(names(await panel.listDomains({ user: 'bob', role: 'customer' })), ['bob-nomail.example', 'bob.example'], 'an alias without mail is listed');
      assert.deepEqual(names(await panel.listDomains({ user: 'carol', role: 'customer' })), ['carol-nodns.example', 'carol.example'], 'an alias without DNS is listed');
      assert.equal(await canAccess(panel, { user: 'alice', role: 'customer' }, 'carol.example'), null);
      assert.equal(await canAccess(panel, { user: 'bob', role: 'customer' }, 'alice-alias.example'), null);
      // carol.example read and set up as carol's domain, never as alice's alias.
      const z = await panel.readZone('carol.example');
      assert.deepEqual(z.records.map((r) => r.ref).sort(), recordsOf(state, 'carol.example').map((r) => String(r.id)).sort());
      const s = await panel.readMailSettings('carol.example');
      assert.deepEqual(s.ips, ['203.0.113.12']);
      assert.equal(s.routing, 'local');
    } finally {
      await srv.close();
    }
  });

  it('reads an alias’s own zone over REST ?domain=<alias>, in whichever spelling Plesk knows it by', async () => {
    const { state, srv, panel } = await rig({ tweak: aliases });
    try {
      const z = await panel.readZone('alice-alias.example');
      assert.equal(z.domain, 'alice-alias.example');
      assert.equal(z.serial, null);
      assert.equal(z.version, hashRecords(z.records));
      assert.ok(z.records.length > 0 && z.records.every((r) => r.name === 'alice-alias.example' || r.name.endsWith('.alice-alias.example')));
      assert.equal(find(z.records, 'alice-alias.example', 'TXT')[0].value, SPF);
      assert.equal(find(z.records, 'default._domainkey.alice-alias.example', 'TXT')[0].value, `v=DKIM1; k=rsa; p=${state.dkim.publicKey}`);
      assert.deepEqual(z.records.map((r) => r.ref).sort(), recordsOf(state, 'alice-alias.example').map((r) => String(r.id)).sort());
      assert.ok(state.calls.includes('GET /api/v2/dns/records?domain=alice-alias.example'));
      // Listed as the A-label; the emulator's ?domain= knows the alias by its Unicode `name` only.
      const idn = await panel.readZone('xn--bcher-kva.example');
      assert.equal(idn.domain, 'xn--bcher-kva.example');
      assert.equal(find(idn.records, '_mailchannels.xn--bcher-kva.example', 'TXT')[0].value, LOCKDOWN);
      await rejectsWith(panel.readZone('no-such-alias.example'), 'not-found');
    } finally {
      await srv.close();
    }
  });

  it('mail settings of an alias: its domain’s IPs, HELO, relay, signing flag and mail service; its own key and nameservers', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mh-plesk-alias-'));
    const { state, srv, panel } = await rig({ root, tweak: aliases });
    try {
      writePleskKeys(state, root, ['alice-alias.example']);
      mkdirSync(join(root, 'etc/postfix'), { recursive: true });
      writeFileSync(join(root, 'etc/postfix/main.cf'), 'relayhost = [smtp.mailchannels.net]:587\n');
      const a = await panel.readMailSettings('alice-alias.example');
      assert.equal(a.domain, 'alice-alias.example');
      assert.equal(a.hostname, 'server1.host.example');
      assert.deepEqual(a.ips, ['203.0.113.10']); // domain-ip: the subscription of alice.example
      assert.equal(a.helo, 'server1.host.example');
      assert.deepEqual(a.nameservers, ['ns1.host.example', 'ns2.host.example']);
      assert.equal(a.routing, 'local');
      assert.deepEqual(a.relay, { provider: 'mailchannels', host: 'relay.mailchannels.net' });
      assert.deepEqual(a.dkim, { selector: 'default', signing: true, privateKeyPem: state.dkim.privateKeyPem, publicKey: state.dkim.publicKey, cannotGenerate: noKeyGen('alice-alias.example', 'alice.example') });
      // No key file for the IDN alias nor its domain: the key its own zone publishes may be a previous host's, so it is
      // never taken for the server's; the key Plesk publishes in its domain's zone while the domain signs is (as for the
      // domain itself, and the alias signs with its domain's key).
      const idn = await panel.readMailSettings('xn--bcher-kva.example');
      const shop = await panel.readMailSettings('alice-shop.example');
      assert.equal(shop.dkim.signing, true);
      assert.deepEqual(idn.dkim, { selector: 'default', signing: true, publicKey: shop.dkim.publicKey, cannotGenerate: noKeyGen(idn.domain, 'alice-shop.example') });
      assert.ok(idn.dkim.publicKey);
      assert.deepEqual(idn.ips, ['203.0.113.10']);
      // Signing off for the domain: off for its aliases; no key is taken from the alias zone then.
      state.mailPrefs['alice-shop.example'].sign = false;
      assert.deepEqual((await panel.readMailSettings('xn--bcher-kva.example')).dkim, { selector: 'default', signing: false, cannotGenerate: noKeyGen('xn--bcher-kva.example', 'alice-shop.example') });
      // The alias handles no mail, or its domain's mail service is off: routing remote.
      const b = await panel.readMailSettings('bob-nomail.example');
      assert.equal(b.routing, 'remote');
      assert.deepEqual(b.ips, ['203.0.113.11']);
      state.mailPrefs['alice.example'].mailservice = false;
      assert.equal((await panel.readMailSettings('alice-alias.example')).routing, 'remote');
      // domain-name mode: the greeting of the alias's subscription (alice-shop.example is an addon of alice.example).
      state.outgoingMode = 'domain-name';
      const ttl = PleskPanel.SERVER_TTL_MS;
      PleskPanel.SERVER_TTL_MS = 0;
      try {
        const n = await panel.readMailSettings('xn--bcher-kva.example');
        assert.equal(n.helo, 'alice.example');
        assert.deepEqual(n.ips, ['203.0.113.10']);
      } finally {
        PleskPanel.SERVER_TTL_MS = ttl;
      }
      // No zone status for an alias: XML dns get needs a site-alias-id, which REST does not give.
      await rejectsWith(panel.zoneStatus('alice-alias.example'), 'unsupported', /site-alias-id/);
      assert.ok(!state.calls.some((c) => c.startsWith('bin:')));
    } finally {
      await srv.close();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('an alias with DNS off has no Plesk zone: an empty zone never written, no nameservers; the audit says DNS is served elsewhere and the fix is records to publish there', async () => {
    const { state, srv, panel } = await rig({ tweak: aliases });
    try {
      const z = await panel.readZone('carol-nodns.example');
      assert.deepEqual(z.records, []);
      assert.match(z.writeBlocked ?? '', /no DNS zone for carol-nodns\.example.*alias of carol\.example.*DNS off/);
      const s = await panel.readMailSettings('carol-nodns.example');
      assert.deepEqual(s.nameservers, []);
      assert.deepEqual(s.ips, ['203.0.113.12']);
      assert.ok(!state.calls.some((c) => c.includes('domain=carol-nodns.example')), 'its records are never asked for');
      await rejectsWith(panel.applyChanges('carol-nodns.example', [{ action: 'add', name: '_dmarc.carol-nodns.example', type: 'TXT', ttl: 3600, before: null, after: txt('_dmarc.carol-nodns.example', 'v=DMARC1; p=none') }], z.version), 'unsupported');
      const resolver = new MapResolver({ 'carol-nodns.example': { NS: ['ada.ns.cloudflare.com', 'bob.ns.cloudflare.com'], TXT: [[SPF]] } });
      const audit = await auditDomain('carol-nodns.example', { panel, resolver, now: FIXED, checks: ['dns'] });
      assert.deepEqual(audit.findings.map((f) => `${f.rule} ${f.severity}`).sort(), ['dns.not-authoritative warn']);
      assert.match(audit.findings.find((f) => f.rule === 'dns.not-authoritative')!.message, /the panel does not serve this zone/);
      const plan = await makePlan({ domain: 'carol-nodns.example', check: 'dmarc' }, { panel, resolver, now: FIXED });
      assert.equal(plan.mode, 'publish-elsewhere');
      assert.ok(plan.changes.some((c) => c.name === '_dmarc.carol-nodns.example' && c.after), 'a DMARC record to publish at the DNS host');
      assert.ok(!state.calls.some((c) => c.startsWith('POST /api/v2/dns/records') || c.startsWith('DELETE ')));
    } finally {
      await srv.close();
    }
  });

  it('writes an alias’s records through REST POST / DELETE ?domain=<alias> (never plesk bin dns); other records and the domain’s zone unchanged', async () => {
    const { state, srv, panel } = await rig({ tweak: aliases });
    try {
      const z = await panel.readZone('alice-alias.example');
      const before = recordsOf(state, 'alice-alias.example').map((r) => ({ ...r }));
      const parent = JSON.stringify(recordsOf(state, 'alice.example'));
      const spf = find(z.records, 'alice-alias.example', 'TXT')[0];
      const lock = find(z.records, '_mailchannels.alice-alias.example', 'TXT')[0];
      const newSpf = 'v=spf1 +a +mx include:relay.mailchannels.net -all';
      const changes: Change[] = [
        { action: 'edit', name: spf.name, type: 'TXT', ttl: spf.ttl, before: spf, after: txt(spf.name, newSpf, spf.ttl) },
        { action: 'remove', name: lock.name, type: 'TXT', ttl: lock.ttl, before: lock, after: null },
        { action: 'add', name: '_dmarc.alice-alias.example', type: 'TXT', ttl: 3600, before: null, after: txt('_dmarc.alice-alias.example', 'v=DMARC1; p=none') },
      ];
      const r = await panel.applyChanges('alice-alias.example', changes, z.version);
      const afterRecs = recordsOf(state, 'alice-alias.example');
      for (const b of before.filter((x) => x.id !== Number(spf.ref) && x.id !== Number(lock.ref))) assert.deepEqual(afterRecs.find((x) => x.id === b.id), b);
      assert.equal(afterRecs.length, before.length);
      assert.ok(afterRecs.some((x) => x.host === 'alice-alias.example.' && x.type === 'TXT' && x.value === newSpf && x.ttl === spf.ttl));
      assert.ok(!afterRecs.some((x) => x.value === SPF || x.value === LOCKDOWN));
      assert.ok(afterRecs.some((x) => x.host === '_dmarc.alice-alias.example.' && x.value === 'v=DMARC1; p=none' && x.ttl === 3600));
      assert.equal(r.version, (await panel.readZone('alice-alias.example')).version);
      assert.equal(JSON.stringify(recordsOf(state, 'alice.example')), parent);
      assert.deepEqual(
        state.calls.filter((c) => /^(POST|DELETE) \/api\/v2\/dns\//.test(c)),
        ['POST /api/v2/dns/records?domain=alice-alias.example', `DELETE /api/v2/dns/records/${spf.ref}`, `DELETE /api/v2/dns/records/${lock.ref}`, 'POST /api/v2/dns/records?domain=alice-alias.example'],
      );
      assert.ok(!state.calls.some((c) => c.startsWith('bin:') || c.includes('/cli/')));
    } finally {
      await srv.close();
    }
  });

  it('a fix through core on an alias: preview (apply mode), apply, undo — all through REST', async () => {
    const { state, srv, panel } = await rig({ tweak: aliases });
    const tmp = mkdtempSync(join(tmpdir(), 'mh-plesk-alias-fix-'));
    const store = openStore(join(tmp, 'h.sqlite'), { now: () => 0 });
    try {
      const live = () => liveOf(state, 'alice-alias.example');
      const plan = await makePlan({ domain: 'alice-alias.example', check: 'dmarc' }, { panel, resolver: live(), now: FIXED });
      assert.equal(plan.mode, 'apply');
      assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.name}`), ['add _dmarc.alice-alias.example']);
      const out = await applyPlan({ domain: 'alice-alias.example', check: 'dmarc', planHash: plan.planHash }, { panel, resolver: live(), history: store, byUser: 'root', now: FIXED });
      assert.equal(out.status, 'applied', JSON.stringify(out));
      const dmarc = () => recordsOf(state, 'alice-alias.example').filter((r) => r.host === '_dmarc.alice-alias.example.');
      assert.equal(dmarc().length, 1);
      assert.deepEqual(recordsOf(state, 'alice.example').filter((r) => r.host.startsWith('_dmarc.')), []);
      const undone = await undoChange((out as { changeId: number }).changeId, { panel, resolver: live(), history: store, byUser: 'root', now: FIXED });
      assert.equal(undone.status, 'applied', JSON.stringify(undone));
      assert.deepEqual(dmarc(), []);
      assert.ok(!state.calls.some((c) => c.startsWith('bin:')));
    } finally {
      store.close();
      await srv.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('a REST step failing part-way on an alias: the steps already taken are undone, newest first', async () => {
    const state = makePleskState();
    aliases(state);
    const srv = await startPleskServer(state);
    try {
      const rest = new PanelHttpClient({ baseUrl: srv.url, label: 'Plesk', headers: { 'x-api-key': state.apiKey } });
      const real = rest.request.bind(rest);
      const newSpf = 'v=spf1 mx include:relay.mailchannels.net -all';
      const writes: string[] = [];
      // The POST of the new SPF value is refused (400, as for a value Plesk rejects); every other call goes through.
      rest.request = async (req) => {
        if (req.method === 'POST' || req.method === 'DELETE') writes.push(`${req.method} ${req.method === 'POST' ? (req.json as { value: string }).value : req.path}`);
        if (req.method === 'POST' && (req.json as { value?: string } | undefined)?.value === newSpf) {
          return { status: 400, json: { code: 400, message: 'injected failure' }, text: '{"code":400,"message":"injected failure"}' };
        }
        return real(req);
      };
      const flaky = new PleskPanel({ rest, apiKey: state.apiKey, cli: new PleskRestCli(rest), root: null });
      const key = (r: { host: string; type: string; value: string; ttl: number }) => `${r.host} ${r.type} ${r.ttl} ${r.value}`;
      const beforeSet = recordsOf(state, 'alice-alias.example').map(key).sort();
      const z = await flaky.readZone('alice-alias.example');
      const spf = find(z.records, 'alice-alias.example', 'TXT')[0];
      const lock = find(z.records, '_mailchannels.alice-alias.example', 'TXT')[0];
      const changes: Change[] = [
        { action: 'remove', name: lock.name, type: 'TXT', ttl: lock.ttl, before: lock, after: null },
        { action: 'edit', name: spf.name, type: 'TXT', ttl: spf.ttl, before: spf, after: txt(spf.name, newSpf, spf.ttl) },
      ];
      await rejectsWith(flaky.applyChanges('alice-alias.example', changes, z.version), 'other', /injected failure/);
      assert.deepEqual(recordsOf(state, 'alice-alias.example').map(key).sort(), beforeSet);
      // An edit adds the new record before it deletes the old one: the refused add leaves the old SPF untouched.
      assert.deepEqual(writes, [`DELETE /api/v2/dns/records/${lock.ref}`, `POST ${newSpf}`, `POST ${LOCKDOWN}`]);
      // A step that cannot be undone is named (the caller then reconciles the zone): the old record's delete fails,
      // and so does taking the new one out again.
      const z2 = await flaky.readZone('alice-alias.example');
      const spf2 = find(z2.records, 'alice-alias.example', 'TXT')[0];
      rest.request = async (req) => (req.method === 'DELETE' ? { status: 500, json: { code: 500, message: 'injected failure' }, text: 'boom' } : real(req));
      await rejectsWith(flaky.applyChanges('alice-alias.example', [{ action: 'edit', name: spf2.name, type: 'TXT', ttl: spf2.ttl, before: spf2, after: txt(spf2.name, newSpf, spf2.ttl) }], z2.version), 'other', /injected failure; rolling back failed: removing alice-alias\.example TXT/);
      // Put the zone back as it was for what follows (the new SPF stayed, beside the old one).
      state.records = state.records.filter((r) => !(r.host === 'alice-alias.example.' && r.value === newSpf));
      assert.deepEqual(recordsOf(state, 'alice-alias.example').map(key).sort(), beforeSet);
      // Plesk answers the POST with the record at another host (a name read as relative, §1.2 UNCONFIRMED): the record
      // is taken out again and the write fails.
      rest.request = async (req) => {
        const res = await real(req);
        if (req.method !== 'POST') return res;
        const o = res.json as { host: string };
        return { ...res, json: { ...o, host: `${o.host}alice-alias.example.` } };
      };
      const z3 = await flaky.readZone('alice-alias.example');
      const keep = recordsOf(state, 'alice-alias.example').map(key).sort();
      const dmarc = txt('_dmarc.alice-alias.example', 'v=DMARC1; p=none');
      await rejectsWith(flaky.applyChanges('alice-alias.example', [{ action: 'add', name: dmarc.name, type: 'TXT', ttl: 3600, before: null, after: dmarc }], z3.version), 'other', /stored the TXT record for _dmarc\.alice-alias\.example at _dmarc\.alice-alias\.example\.alice-alias\.example/);
      assert.deepEqual(recordsOf(state, 'alice-alias.example').map(key).sort(), keep);
      // The same on an edit: the new SPF lands elsewhere → taken out again before the old SPF is touched; zone unchanged.
      const z4 = await flaky.readZone('alice-alias.example');
      const spf4 = find(z4.records, 'alice-alias.example', 'TXT')[0];
      await rejectsWith(flaky.applyChanges('alice-alias.example', [{ action: 'edit', name: spf4.name, type: 'TXT', ttl: spf4.ttl, before: spf4, after: txt(spf4.name, newSpf, spf4.ttl) }], z4.version), 'other', /stored the TXT record for alice-alias\.example at alice-alias\.example\.alice-alias\.example/);
      assert.deepEqual(recordsOf(state, 'alice-alias.example').map(key).sort(), keep);
      // A restore in the rollback that lands elsewhere is taken out again and named as a failed undo.
      const z5 = await flaky.readZone('alice-alias.example');
      const lock5 = find(z5.records, '_mailchannels.alice-alias.example', 'TXT')[0];
      rest.request = async (req) => {
        if (req.method === 'POST' && (req.json as { value?: string }).value === newSpf) return { status: 400, json: { code: 400, message: 'injected failure' }, text: '' };
        const res = await real(req);
        if (req.method !== 'POST') return res;
        const o = res.json as { host: string };
        return { ...res, json: { ...o, host: `${o.host}alice-alias.example.` } };
      };
      await rejectsWith(
        flaky.applyChanges('alice-alias.example', [{ action: 'remove', name: lock5.name, type: 'TXT', ttl: lock5.ttl, before: lock5, after: null }, { action: 'add', name: 'alice-alias.example', type: 'TXT', ttl: 3600, before: null, after: txt('alice-alias.example', newSpf) }], z5.version),
        'other',
        /injected failure; rolling back failed: restoring _mailchannels\.alice-alias\.example TXT \(Plesk stored it at/,
      );
      assert.ok(!recordsOf(state, 'alice-alias.example').some((r) => r.value === LOCKDOWN), 'the lockdown record is gone (named in the error), and no stray copy is left');
    } finally {
      await srv.close();
    }
  });

  it('a POST answered without an id: the record it made is found by value, so a failed write still takes it out', async () => {
    const state = makePleskState();
    aliases(state);
    const srv = await startPleskServer(state);
    try {
      const rest = new PanelHttpClient({ baseUrl: srv.url, label: 'Plesk', headers: { 'x-api-key': state.apiKey } });
      const real = rest.request.bind(rest);
      const newSpf = 'v=spf1 mx include:relay.mailchannels.net -all';
      rest.request = async (req) => {
        if (req.method === 'DELETE') return { status: 500, json: { code: 500, message: 'injected failure' }, text: '' };
        const res = await real(req);
        return req.method === 'POST' ? { ...res, json: { status: 'ok' } } : res;
      };
      const panel = new PleskPanel({ rest, apiKey: state.apiKey, cli: new PleskRestCli(rest), root: null });
      const key = (r: { host: string; type: string; value: string; ttl: number }) => `${r.host} ${r.type} ${r.ttl} ${r.value}`;
      const before = recordsOf(state, 'alice-alias.example').map(key).sort();
      const z = await panel.readZone('alice-alias.example');
      const spf = find(z.records, 'alice-alias.example', 'TXT')[0];
      // The add goes through (no id in the answer), the delete of the old SPF fails: the rollback must find the new
      // record to take it out — here its DELETE fails too, so it is named; with DELETE working it is removed.
      await rejectsWith(panel.applyChanges('alice-alias.example', [{ action: 'edit', name: spf.name, type: 'TXT', ttl: spf.ttl, before: spf, after: txt(spf.name, newSpf, spf.ttl) }], z.version), 'other', /rolling back failed: removing alice-alias\.example TXT/);
      state.records = state.records.filter((r) => r.value !== newSpf);
      rest.request = async (req) => {
        const res = await real(req);
        return req.method === 'POST' ? { ...res, json: { status: 'ok' } } : res;
      };
      const z2 = await panel.readZone('alice-alias.example');
      const lock = find(z2.records, '_mailchannels.alice-alias.example', 'TXT')[0];
      const spf2 = find(z2.records, 'alice-alias.example', 'TXT')[0];
      const r = await panel.applyChanges('alice-alias.example', [{ action: 'edit', name: spf2.name, type: 'TXT', ttl: spf2.ttl, before: spf2, after: txt(spf2.name, newSpf, spf2.ttl) }], z2.version);
      assert.equal(r.version, (await panel.readZone('alice-alias.example')).version);
      assert.ok(recordsOf(state, 'alice-alias.example').some((x) => x.value === newSpf));
      assert.ok(!recordsOf(state, 'alice-alias.example').some((x) => x.value === SPF));
      assert.ok(lock);
      assert.equal(before.length, recordsOf(state, 'alice-alias.example').length);
    } finally {
      await srv.close();
    }
  });

  it('an alias zone changed since it was read: refused as stale, nothing written; with the fresh version the write goes through', async () => {
    const { state, srv, panel } = await rig({ tweak: aliases });
    try {
      const z = await panel.readZone('alice-alias.example');
      const zoneId = state.aliases.find((a) => a.name === 'alice-alias.example')!.id;
      state.records.push({ id: state.nextId++, domain_id: zoneId, type: 'TXT', host: 'alice-alias.example.', value: 'google-site-verification=x', opt: '', ttl: 300 });
      const snapshot = JSON.stringify(recordsOf(state, 'alice-alias.example'));
      const add: Change = { action: 'add', name: '_dmarc.alice-alias.example', type: 'TXT', ttl: 3600, before: null, after: txt('_dmarc.alice-alias.example', 'v=DMARC1; p=none') };
      await rejectsWith(panel.applyChanges('alice-alias.example', [add], z.version), 'stale');
      assert.equal(JSON.stringify(recordsOf(state, 'alice-alias.example')), snapshot);
      assert.ok(!state.calls.some((c) => c.startsWith('POST /api/v2/dns/records')));
      const z2 = await panel.readZone('alice-alias.example');
      await panel.applyChanges('alice-alias.example', [add], z2.version);
      assert.ok(recordsOf(state, 'alice-alias.example').some((r) => r.host === '_dmarc.alice-alias.example.' && r.value === 'v=DMARC1; p=none'));
    } finally {
      await srv.close();
    }
  });

  it('an add of a TXT record the alias zone already holds → record-exists, nothing sent', async () => {
    const { state, srv, panel } = await rig({ tweak: aliases });
    try {
      const z = await panel.readZone('alice-alias.example');
      const lock = find(z.records, '_mailchannels.alice-alias.example', 'TXT')[0];
      await rejectsWith(panel.applyChanges('alice-alias.example', [{ action: 'add', name: lock.name, type: 'TXT', ttl: 3600, before: null, after: txt(lock.name, LOCKDOWN) }], z.version), 'record-exists', /already exists/);
      assert.ok(!state.calls.some((c) => c.startsWith('POST /api/v2/dns/records')));
    } finally {
      await srv.close();
    }
  });

  it('generateDkim on an alias → unsupported (it signs with its domain’s key, made by the domain’s switch); the DKIM fix is blocked at preview with that reason, zone unchanged', async () => {
    const { state, srv, panel } = await rig({ tweak: aliases });
    const tmp = mkdtempSync(join(tmpdir(), 'mh-plesk-alias-dkim-'));
    const store = openStore(join(tmp, 'h.sqlite'), { now: () => 0 });
    try {
      await rejectsWith(panel.generateDkim('alice-alias.example'), 'unsupported', /domain alias of alice\.example and signs with alice\.example's DKIM key, which is not on this server/);
      const zoneId = state.aliases.find((a) => a.name === 'alice-alias.example')!.id;
      state.records = state.records.filter((r) => !(r.domain_id === zoneId && r.host === 'default._domainkey.alice-alias.example.'));
      state.mailPrefs['alice.example'].sign = false;
      const resolver = liveOf(state, 'alice-alias.example');
      // No key for the alias, and the panel cannot make one for an alias: the plan is blocked at preview, with why.
      const plan = await makePlan({ domain: 'alice-alias.example', check: 'dkim' }, { panel, resolver, now: FIXED });
      assert.deepEqual(plan.actions, []);
      assert.match(plan.blocked ?? '', /no DKIM key for alice-alias\.example.*signs with alice\.example's DKIM key, which is not on this server/);
      const before = JSON.stringify(recordsOf(state, 'alice-alias.example'));
      const out = await applyPlan({ domain: 'alice-alias.example', check: 'dkim', planHash: plan.planHash }, { panel, resolver, history: store, byUser: 'root', now: FIXED });
      assert.notEqual(out.status, 'applied');
      assert.equal(JSON.stringify(recordsOf(state, 'alice-alias.example')), before);
      assert.ok(!state.calls.some((c) => c.startsWith('bin:')), 'no domain_pref call for the alias or its domain');
    } finally {
      store.close();
      await srv.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
