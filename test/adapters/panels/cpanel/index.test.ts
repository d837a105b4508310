import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Change, ZoneRecord } from '../../../../src/core/model.js';
import { PanelError } from '../../../../src/core/panel.js';
import { CpanelPanel } from '../../../../src/adapters/panels/cpanel/index.js';
import { UapiCli, UapiHttp } from '../../../../src/adapters/panels/cpanel/uapi.js';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import { installFakeBins } from '../../../helpers/emulators/bins.js';
import { makeCpState, startCpanelServer, zoneView, type CpState, type RunningServer } from '../../../helpers/emulators/cpanel.js';
import { LOCKDOWN, SPF } from '../../../helpers/emulators/fixture.js';
import { rejectsWith } from '../../../helpers/panel-errors.js';

function httpPanel(url: string, user: string, token: string, extra: { owner?: string } = {}): CpanelPanel {
  const client = new PanelHttpClient({ baseUrl: url, label: 'cPanel', headers: { authorization: `cpanel ${user}:${token}` } });
  return new CpanelPanel({ transport: new UapiHttp(client), user, ...extra });
}

const find = (records: ZoneRecord[], name: string, type: string) => records.filter((r) => r.name === name && r.type === type);

describe('cPanel adapter over HTTPS (UAPI emulator on loopback)', () => {
  let state: CpState;
  let srv: RunningServer;
  let alice: CpanelPanel;
  before(async () => {
    state = makeCpState();
    srv = await startCpanelServer(state);
    alice = httpPanel(srv.url, 'alice', 'tok-alice', { owner: 'res1' });
  });
  after(() => srv.close());

  it('lists domains per identity without leaks', async () => {
    const own = await alice.listDomains({ user: 'alice', role: 'customer' });
    assert.deepEqual(own.map((d) => d.domain).sort(), ['alice-shop.example', 'alice.example', 'blog.alice.example']);
    assert.ok(own.every((d) => d.owner === 'alice' && d.reseller === 'res1'));
    assert.deepEqual(await alice.listDomains({ user: 'bob', role: 'customer' }), []);
    assert.equal((await alice.listDomains({ user: 'res1', role: 'reseller' })).length, 3);
    assert.deepEqual(await alice.listDomains({ user: 'res2', role: 'reseller' }), []);
    assert.equal((await alice.listDomains({ user: 'root', role: 'admin' })).length, 3);
    assert.deepEqual(await alice.listAccounts(), [{ user: 'alice', role: 'customer', owner: 'res1' }]);
  });

  it('reads a zone: absolute names, TXT chunks kept, serial from SOA, line refs', async () => {
    const z = await alice.readZone('alice.example');
    assert.equal(z.serial, 2024061100);
    assert.equal(z.version, '2024061100');
    assert.ok(z.records.every((r) => !r.name.endsWith('.') && (r.name === 'alice.example' || r.name.endsWith('.alice.example'))));
    // The SOA is a record too (as in the files panel): MNAME/RNAME absolute without the dot, the current serial.
    assert.deepEqual(
      find(z.records, 'alice.example', 'SOA').map((r) => [r.ttl, r.value]),
      [[86400, 'ns1.host.example hostmaster.alice.example 2024061100 3600 1800 1209600 86400']],
    );
    const [spf] = find(z.records, 'alice.example', 'TXT');
    assert.equal(spf.value, SPF);
    assert.deepEqual(spf.txt, [SPF]);
    const [dkim] = find(z.records, 'default._domainkey.alice.example', 'TXT');
    assert.equal(dkim.txt!.length, 2);
    assert.equal(dkim.value, dkim.txt!.join(''));
    assert.equal(dkim.value, `v=DKIM1; k=rsa; p=${state.dkim.publicKey}`);
    assert.equal(find(z.records, '_mailchannels.alice.example', 'TXT')[0].value, LOCKDOWN);
    assert.equal(find(z.records, 'alice.example', 'MX')[0].value, '10 mail.alice.example');
    assert.equal(find(z.records, 'www.alice.example', 'CNAME')[0].value, 'alice.example');
    assert.deepEqual(find(z.records, 'alice.example', 'NS').map((r) => r.value), ['ns1.host.example', 'ns2.host.example']);
    for (const r of z.records) assert.ok(state.zones['alice.example'].lines[Number(r.ref)], `ref ${r.ref} is a zone line`);
    // a subdomain lives in its parent's zone
    const sub = await alice.readZone('blog.alice.example');
    assert.equal(sub.domain, 'alice.example');
    assert.equal(find(sub.records, 'blog.alice.example', 'A').length, 1);
  });

  it('refuses a domain of another account (not-found)', async () => {
    await rejectsWith(alice.readZone('bob.example'), 'not-found', /bob\.example/);
  });

  it('reads mail settings from EmailAuth, Email::list_mxs and has_local_authority', async () => {
    const s = await alice.readMailSettings('alice.example');
    assert.deepEqual(s.ips, ['203.0.113.10']);
    assert.equal(s.helo, 'server1.host.example');
    assert.deepEqual(s.nameservers, ['ns1.host.example', 'ns2.host.example']);
    assert.equal(s.dkim.selector, 'default');
    assert.equal(s.dkim.publicKey, state.dkim.publicKey);
    assert.equal(s.dkim.signing, true);
    assert.equal(s.routing, 'local');
    assert.equal(s.relay, null);
    state.mxDetected['alice-shop.example'] = 'remote';
    assert.equal((await alice.readMailSettings('alice-shop.example')).routing, 'remote');
  });

  it("does not take the public nameservers for the server's own when the server is not the authority", async () => {
    state.remoteAuthority = { 'alice-shop.example': ['ns1.oldhost.example', 'ns2.oldhost.example'] };
    try {
      assert.deepEqual((await alice.readMailSettings('alice-shop.example')).nameservers, []);
      assert.deepEqual((await alice.readMailSettings('alice.example')).nameservers, ['ns1.host.example', 'ns2.host.example']);
    } finally {
      delete state.remoteAuthority;
    }
  });

  it('applies add / edit / remove exactly; every other record unchanged; serial bumped', async () => {
    state.serialDate = '20270301';
    const z = await alice.readZone('alice.example');
    const beforeView = zoneView(state, 'alice.example');
    const spf = find(z.records, 'alice.example', 'TXT')[0];
    const lock = find(z.records, '_mailchannels.alice.example', 'TXT')[0];
    const newSpf = 'v=spf1 +a +mx ip4:203.0.113.10 include:relay.mailchannels.net ~all';
    const dmarc = 'v=DMARC1; p=none; rua=mailto:dmarc@alice.example';
    const changes: Change[] = [
      { action: 'edit', name: 'alice.example', type: 'TXT', ttl: 14400, before: spf, after: { name: 'alice.example', ttl: 14400, type: 'TXT', value: newSpf, txt: [newSpf] } },
      { action: 'remove', name: '_mailchannels.alice.example', type: 'TXT', ttl: 14400, before: lock, after: null },
      { action: 'add', name: '_dmarc.alice.example', type: 'TXT', ttl: 3600, before: null, after: { name: '_dmarc.alice.example', ttl: 3600, type: 'TXT', value: dmarc, txt: [dmarc] } },
    ];
    const res = await alice.applyChanges('alice.example', changes, z.version);
    // §4.4: YYYYMMDD00 when larger than the old serial (2024061100).
    assert.equal(res.version, '2027030100');
    const afterView = zoneView(state, 'alice.example');
    // Untouched records keep their content; those after the removed line move up by one (LineEdit::save drops a
    // removed record's line), those before it keep their index.
    const removedAt = Number(lock.ref);
    for (const r of beforeView) {
      if (r.line === Number(spf.ref) || r.line === removedAt || r.type === 'SOA') continue;
      assert.deepEqual(afterView.find((x) => x.line === (r.line > removedAt ? r.line - 1 : r.line)), { ...r, line: r.line > removedAt ? r.line - 1 : r.line });
    }
    assert.deepEqual(afterView.find((x) => x.line === Number(spf.ref))?.data, [newSpf]);
    assert.ok(!afterView.some((x) => x.name === '_mailchannels.alice.example'));
    const added = afterView.filter((x) => x.name === '_dmarc.alice.example');
    assert.deepEqual(added.map((x) => [x.type, x.ttl, x.data]), [['TXT', 3600, [dmarc]]]);
    assert.equal(afterView.length, beforeView.length); // one removed, one added
    const z2 = await alice.readZone('alice.example');
    assert.equal(z2.version, res.version);
    assert.equal(find(z2.records, '_dmarc.alice.example', 'TXT')[0].value, dmarc);
    // The same day again: old + 1.
    const d2 = find(z2.records, '_dmarc.alice.example', 'TXT')[0];
    const res2 = await alice.applyChanges('alice.example', [{ action: 'remove', name: d2.name, type: 'TXT', ttl: d2.ttl, before: d2, after: null }], z2.version);
    assert.equal(res2.version, '2027030101');
  });

  it('sends a long DKIM value as its ≤255-byte chunks, then refreshes DKIM validity', async () => {
    const z = await alice.readZone('alice-shop.example');
    const dk = find(z.records, 'default._domainkey.alice-shop.example', 'TXT')[0];
    const long = `v=DKIM1; k=rsa; p=${state.dkim.publicKey}`;
    const chunks = [long.slice(0, 255), long.slice(255)];
    state.calls.length = 0;
    await alice.applyChanges(
      'alice-shop.example',
      [{ action: 'edit', name: dk.name, type: 'TXT', ttl: 14400, before: dk, after: { ...dk, value: long, txt: chunks, ref: undefined } }],
      z.version,
    );
    assert.deepEqual(zoneView(state, 'alice-shop.example').find((x) => x.line === Number(dk.ref))?.data, chunks);
    assert.ok(state.calls.includes('EmailAuth::validate_current_dkims alice-shop.example'), state.calls.join(', '));
  });

  it('refuses a stale serial and leaves the zone alone', async () => {
    const z = await alice.readZone('bob.example').catch(() => null);
    assert.equal(z, null);
    const a = await alice.readZone('alice.example');
    // a concurrent edit bumps the serial
    const spf = find(a.records, 'alice.example', 'TXT')[0];
    await alice.applyChanges('alice.example', [{ action: 'edit', name: spf.name, type: 'TXT', ttl: 14400, before: spf, after: { ...spf, value: 'v=spf1 -all', txt: ['v=spf1 -all'] } }], a.version);
    const snapshot = JSON.stringify(state.zones['alice.example']);
    await rejectsWith(
      alice.applyChanges('alice.example', [{ action: 'remove', name: spf.name, type: 'TXT', ttl: 14400, before: spf, after: null }], a.version),
      'stale',
      /changed since it was read/,
    );
    assert.equal(JSON.stringify(state.zones['alice.example']), snapshot);
  });

  it('maps InvalidZoneFile (nothing changed) to invalid-zone', async () => {
    const z = await alice.readZone('alice.example');
    const snapshot = JSON.stringify(state.zones['alice.example']);
    const ns = find(z.records, 'alice.example', 'NS');
    const e = await rejectsWith(
      alice.applyChanges('alice.example', ns.map((r) => ({ action: 'remove' as const, name: r.name, type: 'NS', ttl: r.ttl, before: r, after: null })), z.version),
      'invalid-zone',
      /nothing was changed/,
    );
    assert.match(e.message, /line \d+: .*NS/);
    assert.equal(JSON.stringify(state.zones['alice.example']), snapshot);
  });

  it('missing zoneedit feature → feature-missing with "ask your host to enable Zone Editor"', async () => {
    const acct = state.accounts.find((a) => a.user === 'alice')!;
    const saved = acct.features;
    try {
      const z = await alice.readZone('alice.example');
      const add: Change = { action: 'add', name: '_dmarc2.alice.example', type: 'TXT', ttl: 3600, before: null, after: { name: '_dmarc2.alice.example', ttl: 3600, type: 'TXT', value: 'x', txt: ['x'] } };
      acct.features = ['emailauth'];
      await rejectsWith(alice.applyChanges('alice.example', [add], z.version), 'feature-missing', /ask your host to enable Zone Editor/);
      acct.features = ['simplezoneedit', 'emailauth'];
      await rejectsWith(alice.applyChanges('alice.example', [add], z.version), 'feature-missing', /ask your host to enable Zone Editor/);
    } finally {
      acct.features = saved;
    }
  });

  it('wrong token → auth; unknown function → not-found; closed port → unreachable', async () => {
    const bad = httpPanel(srv.url, 'alice', 'wrong');
    await rejectsWith(bad.listDomains({ user: 'alice', role: 'customer' }), 'auth', /refused the credentials \(HTTP 401\)/);
    const client = new PanelHttpClient({ baseUrl: srv.url, headers: { authorization: 'cpanel alice:tok-alice' } });
    await rejectsWith(new UapiHttp(client).call('Nope', 'nothing'), 'not-found', /Nope::nothing/);
    const closed = await startCpanelServer(state);
    await closed.close();
    await rejectsWith(httpPanel(closed.url, 'alice', 'tok-alice').listDomains({ user: 'alice', role: 'customer' }), 'unreachable', /unreachable/);
  });

  it('generates DKIM through EmailAuth and refreshes the validity cache', async () => {
    state.dkimDomains = state.dkimDomains.filter((d) => d !== 'alice-shop.example');
    state.calls.length = 0;
    const dkimBefore = find((await alice.readZone('alice-shop.example')).records, 'default._domainkey.alice-shop.example', 'TXT').map((r) => [r.ref, r.ttl, r.txt]);
    const s = await alice.generateDkim('alice-shop.example');
    // enable_dkim's own record is taken back: the fix's plan is what publishes the key.
    assert.deepEqual(find((await alice.readZone('alice-shop.example')).records, 'default._domainkey.alice-shop.example', 'TXT').map((r) => [r.ref, r.ttl, r.txt]), dkimBefore);
    assert.equal(s.dkim.publicKey, state.dkim.publicKey);
    assert.ok(state.calls.indexOf('EmailAuth::ensure_dkim_keys_exist alice-shop.example') < state.calls.indexOf('EmailAuth::enable_dkim alice-shop.example'));
    assert.ok(state.calls.includes('EmailAuth::validate_current_dkims alice-shop.example'));
  });
});

describe('cPanel adapter over the local uapi CLI (fake executable)', () => {
  it('reads, writes and reports Stale through `uapi --output=json`', async () => {
    const bins = installFakeBins(makeCpState());
    const panel = new CpanelPanel({ transport: new UapiCli(bins.path('uapi')), user: 'alice' });
    assert.equal((await panel.listDomains({ user: 'alice', role: 'customer' })).length, 3);
    const z = await panel.readZone('alice.example');
    assert.equal(z.serial, 2024061100);
    const spf = find(z.records, 'alice.example', 'TXT')[0];
    const value = 'v=spf1 +a +mx include:relay.mailchannels.net ~all';
    const r = await panel.applyChanges('alice.example', [{ action: 'edit', name: spf.name, type: 'TXT', ttl: 14400, before: spf, after: { ...spf, value, txt: [value] } }], z.version);
    assert.equal(r.version, String(bins.read<CpState>().zones['alice.example'].serial));
    assert.ok(Number(r.version) > 2024061100);
    const st = bins.read<CpState>();
    assert.deepEqual(zoneView(st, 'alice.example').find((x) => x.line === Number(spf.ref))?.data, [value]);
    await rejectsWith(panel.applyChanges('alice.example', [{ action: 'remove', name: spf.name, type: 'TXT', ttl: 14400, before: spf, after: null }], z.version), 'stale');
    // running as root for a named user: --user=
    const asRoot = new CpanelPanel({ transport: new UapiCli(bins.path('uapi'), 'bob'), user: 'bob' });
    assert.deepEqual((await asRoot.listDomains({ user: 'bob', role: 'customer' })).map((d) => d.domain), ['bob.example']);
  });

  it('a missing uapi binary is unreachable, not a crash', async () => {
    const panel = new CpanelPanel({ transport: new UapiCli('/nonexistent/uapi'), user: 'alice' });
    await rejectsWith(panel.listDomains({ user: 'alice', role: 'customer' }), 'unreachable', /not found/);
  });
});
