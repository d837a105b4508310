// cPanel (UAPI): whose nameservers (cpanel.md §5). has_local_authority compares the local SOA serial with the one public
// DNS serves, so 0 also means "this server's zone right after a write" and an `error` means cPanel's own lookup failed —
// neither is "another host's zone". The server's own nameservers (/etc/wwwacct.conf, readable on the server) tell a
// propagating write from a zone copied from the old host; a subdomain's authority is its zone's.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { nameserversFromAuthority } from '../../../../src/adapters/panels/cpanel/authority.js';
import { CpanelPanel } from '../../../../src/adapters/panels/cpanel/index.js';
import { UapiHttp } from '../../../../src/adapters/panels/cpanel/uapi.js';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import { auditDomain } from '../../../../src/core/audit.js';
import { makePlan } from '../../../../src/core/plans/index.js';
import { makeCpState, startCpanelServer, zoneView, type CpState } from '../../../helpers/emulators/cpanel.js';
import { writeCpanelServerFiles } from '../../../helpers/emulators/whm.js';
import { MapResolver, type ZoneMap } from '../../../helpers/map-resolver.js';

const FIXED = new Date('2027-03-01T12:00:00.000Z');
const Z = 'alice.example';
const OURS = ['ns1.host.example', 'ns2.host.example'];
const OLD = ['ns1.oldhost.example', 'ns2.oldhost.example'];

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

/** alice's cPanel page: on the server (root with /etc/wwwacct.conf) or over the remote UAPI. */
async function setup(change: (s: CpState) => void = () => {}, where: 'server' | 'remote' = 'server'): Promise<{ state: CpState; panel: CpanelPanel }> {
  const state = makeCpState();
  change(state);
  const srv = await startCpanelServer(state);
  const root = mkdtempSync(join(tmpdir(), 'mh-cpanel-auth-'));
  writeCpanelServerFiles(state, root, { wwwacct: OURS });
  cleanup.push(async () => {
    await srv.close();
    rmSync(root, { recursive: true, force: true });
  });
  const client = new PanelHttpClient({ baseUrl: srv.url, headers: { authorization: 'cpanel alice:tok-alice' } });
  return { state, panel: new CpanelPanel({ transport: new UapiHttp(client), user: 'alice', ...(where === 'server' ? { root } : {}) }) };
}

/** Public DNS: the delegation (NS) of alice.example and the records the checks ask for. */
const world = (ns: string[]): ZoneMap => ({
  [Z]: { NS: ns, TXT: [['v=spf1 +a +mx include:websitewelcome.com ~all']], MX: [{ priority: 10, exchange: `mail.${Z}` }], A: ['203.0.113.10'] },
  [`mail.${Z}`]: { A: ['203.0.113.10'] },
});

const dnsFindings = async (panel: CpanelPanel, ns: string[]) =>
  (await auditDomain(Z, { panel, resolver: new MapResolver(world(ns)), now: () => FIXED, checks: ['dns'] })).findings.map((f) => f.rule).filter((r) => r !== 'dns.drift');
const planMode = async (panel: CpanelPanel, ns: string[]) => (await makePlan({ domain: Z, check: 'dmarc' }, { panel, resolver: new MapResolver(world(ns)), now: () => FIXED })).mode;

describe('has_local_authority read as cPanel computes it', () => {
  it('right after a write (public DNS still on the old serial) the zone is still this server’s; an imported zone is not', async () => {
    // This server's zone, written a moment ago: public DNS still serves the previous serial.
    const { state, panel } = await setup();
    assert.deepEqual((await panel.readMailSettings(Z)).nameservers, OURS);
    state.publicSerial = { [Z]: state.zones[Z].serial };
    const z = await panel.readZone(Z);
    const dmarc = 'v=DMARC1; p=none; rua=mailto:postmaster@alice.example';
    await panel.applyChanges(Z, [{ action: 'add', name: `_dmarc.${Z}`, type: 'TXT', ttl: 3600, before: null, after: { name: `_dmarc.${Z}`, ttl: 3600, type: 'TXT', value: dmarc, txt: [dmarc] } }], z.version);
    state.calls.length = 0;
    const s = await panel.readMailSettings(Z);
    assert.deepEqual(s.nameservers, OURS, 'the server’s own nameservers (/etc/wwwacct.conf)');
    assert.deepEqual(await dnsFindings(panel, OURS), ['dns.authoritative']);
    assert.equal(await planMode(panel, OURS), 'apply');
    assert.ok(state.calls.includes(`DNS::has_local_authority ${Z}`));

    // A zone copied from the old host: it lists the old host's NS, and the delegation still points there.
    const imported = await setup((s) => {
      for (const l of s.zones[Z].lines) if (l?.kind === 'record' && l.type === 'NS') l.data = [l.data[0] === 'ns1.host.example.' ? `${OLD[0]}.` : `${OLD[1]}.`];
    });
    assert.deepEqual(zoneView(imported.state, Z).filter((r) => r.type === 'NS').map((r) => r.data[0]), OLD.map((n) => `${n}.`));
    assert.deepEqual(await dnsFindings(imported.panel, OLD), ['dns.not-authoritative']);
    assert.equal(await planMode(imported.panel, OLD), 'publish-elsewhere');
  });

  it('cPanel’s own lookup failed (`error`): DNS trouble, not "another host’s zone" — core asks DNS itself', async () => {
    const { panel } = await setup((s) => (s.authorityErrors = { [Z]: 'The DNS query (alice.example/SOA) timed out.' }));
    assert.deepEqual((await panel.readMailSettings(Z)).nameservers, OURS);
    assert.deepEqual(await dnsFindings(panel, OURS), ['dns.authoritative']);
    // core's own lookup failing too: unknown, no plan — never a zone change.
    const unknown = await auditDomain(Z, { panel, resolver: new MapResolver({ ...world(OURS), [Z]: { NS: 'TIMEOUT' } }), now: () => FIXED, checks: ['dns'] });
    assert.deepEqual(unknown.findings.map((f) => f.severity), ['unknown']);
  });

  it('off the server, cPanel’s own lookup failed: whose zone it is cannot be told — unknown, no plan (not "publish elsewhere")', async () => {
    const { panel } = await setup((s) => (s.authorityErrors = { [Z]: 'The DNS query (alice.example/SOA) timed out.' }), 'remote');
    const s = await panel.readMailSettings(Z);
    assert.deepEqual(s.nameservers, []);
    assert.match(s.nameserversUnknown ?? '', /could not check whether public DNS serves this zone \(The DNS query .* timed out\.\)/);
    const audit = await auditDomain(Z, { panel, resolver: new MapResolver(world(OURS)), now: () => FIXED, checks: ['dns'] });
    assert.deepEqual(audit.findings.map((f) => `${f.rule} ${f.severity}`), ['dns.authority-unknown unknown']);
    await assert.rejects(makePlan({ domain: Z, check: 'dmarc' }, { panel, resolver: new MapResolver(world(OURS)), now: () => FIXED }), /Could not tell whether this server's DNS is the live one .*could not check whether public DNS serves this zone/);
    // Without an error, a plain 0 off the server stays the safe reading: not authoritative, records to publish.
    const plain = await setup(() => {}, 'remote');
    assert.equal((await plain.panel.readMailSettings(Z)).nameserversUnknown, undefined);
  });

  it('a subdomain is asked about through its zone: cPanel lists nameservers for zones only', async () => {
    const { state, panel } = await setup(() => {}, 'remote');
    state.calls.length = 0;
    assert.deepEqual((await panel.readMailSettings('blog.alice.example')).nameservers, OURS);
    assert.ok(state.calls.includes(`DNS::has_local_authority ${Z}`), state.calls.join(', '));
  });

  it('the rules, item by item', () => {
    const ours = ['ns1.host.example'];
    // 1: public DNS serves this zone — its public nameservers, also branded ones no server-wide list holds.
    assert.deepEqual(nameserversFromAuthority({ local_authority: 1, nameservers: ['NS1.Brand.example.'], error: null }, ours), ['ns1.brand.example']);
    // 0 (serial differs) or an error: the server's own, for core to compare with the live NS; none when unknown here.
    assert.deepEqual(nameserversFromAuthority({ local_authority: 0, nameservers: ['ns1.host.example'], error: null }, ours), ours);
    assert.deepEqual(nameserversFromAuthority({ local_authority: 0, nameservers: ['ns1.host.example'], error: null }, []), []);
    assert.deepEqual(nameserversFromAuthority({ local_authority: 0, nameservers: [], error: 'timed out' }, ours), ours);
    assert.deepEqual(nameserversFromAuthority({ local_authority: 1, nameservers: ['ns1.x.example'], error: 'timed out' }, []), []);
    // the call failed: the server's own, else none.
    assert.deepEqual(nameserversFromAuthority(null, ours), ours);
    assert.deepEqual(nameserversFromAuthority(null, []), []);
  });
});
