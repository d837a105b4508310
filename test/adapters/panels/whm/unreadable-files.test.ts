// WHM on the server (R6 items 1, 4, 5): what the server files cannot say is never read as a setting.
// - Behind NAT with no map for the private main IP, and WHM's validate_current_spfs failing (or giving no public
//   address): the outbound IP is not known — the settings are unreadable, no SPF fix — never the private address (the
//   SPF fix rewrote SPF to `ip4:10.0.0.5`, and nothing authorised the real public IP).
// - A server file that exists but cannot be read (EISDIR here: the tests run as root, so EACCES cannot be made) is not
//   an absent one: the relay is not known (relayUnknown), the IP and HELO are not known, the routing is asked of cPanel.
// - /etc/mailips and /etc/mailhelo are read as Exim's lsearch reads them: the first line for a key wins; a key may end
//   with white space instead of a colon (Exim src/lookups/lsearch.c).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import { WhmHttp, WhmPanel, type WhmTransport } from '../../../../src/adapters/panels/whm/index.js';
import { effectiveMailIp, parseColonMap, publicKeyFromPem, readCpanelServerFiles, readServerFile } from '../../../../src/adapters/panels/whm/serverfiles.js';
import { auditDomain } from '../../../../src/core/audit.js';
import { makePlan } from '../../../../src/core/plans/index.js';
import type { Answer, Resolver, RRType } from '../../../../src/core/resolver.js';
import { type CpState } from '../../../helpers/emulators/cpanel.js';
import { startWhmServer } from '../../../helpers/emulators/whm.js';
import { MapResolver, zoneToMap } from '../../../helpers/map-resolver.js';
import { rejectsWith } from '../../../helpers/panel-errors.js';
import { serverFilesRigs, unreadable } from '../../../helpers/server-files-rig.js';

const FIXED = new Date('2027-03-01T12:00:00.000Z');
const D = 'alice.example';

const rig = serverFilesRigs({
  prefix: 'mh-whm-unreadable-',
  start: startWhmServer,
  transport: (url) => new WhmHttp(new PanelHttpClient({ baseUrl: url, headers: { authorization: 'whm root:tok-root' } })),
  adapter: (transport: WhmTransport, root) => new WhmPanel({ transport, user: 'root', root }),
});


/** WHM whose validate_current_spfs answers `answer` (result 0 by default); every other call as the emulator answers. */
function spfValidator(http: WhmTransport, answer: { ok: boolean; data: unknown; reason: string } = { ok: false, data: null, reason: 'Temporary DNS failure' }): WhmTransport {
  return { call: (f, p) => (f === 'validate_current_spfs' ? Promise.resolve(answer) : http.call(f, p)) };
}

function liveFrom(panel: WhmPanel): Resolver {
  const ask = async <T extends RRType>(name: string, type: T): Promise<Answer<T>> => new MapResolver(zoneToMap(await panel.readZone(D))).resolve(name, type);
  return { resolve: ask, resolveAt: (_servers, name, type) => ask(name, type) };
}

/** Behind NAT: main IP and mailips private, the map (when written) giving 203.0.113.10. */
const natted = (s: CpState) => {
  s.mainIp = '10.0.0.5';
  s.mailips = { '*': '10.0.0.5' };
  s.nat = { '10.0.0.5': '203.0.113.10' };
};

describe('WHM on the server behind NAT without a map: the private IP is never the outbound IP', () => {
  it('validate_current_spfs failing: the settings are unreadable, the audit says so, and no SPF fix is planned', async () => {
    const r = await rig(natted);
    unlinkSync(join(r.root, 'var/cpanel/cpnat'));
    const panel = r.panel(spfValidator(r.http));
    await rejectsWith(panel.readMailSettings(D), 'other', /outbound mail IP of alice\.example is not known: the outbound IP is private \(10\.0\.0\.5\).*validate_current_spfs for alice\.example failed: Temporary DNS failure/);
    const a = await auditDomain(D, { panel, resolver: liveFrom(panel), now: () => FIXED, checks: ['spf'] });
    assert.equal(a.findings.find((f) => f.rule === 'dns.panel-settings-unreadable')?.severity, 'unknown');
    assert.ok(!a.findings.some((f) => f.severity === 'fail' || f.severity === 'warn'), JSON.stringify(a.findings.map((f) => f.rule)));
    assert.doesNotMatch(JSON.stringify(a.findings), /10\.0\.0\.5 is this server|server-not-authorized/);
    await assert.rejects(makePlan({ domain: D, check: 'spf' }, { panel, resolver: liveFrom(panel), now: () => FIXED }), /not known/);
  });

  it('validate_current_spfs answering with a private address or none: not known either', async () => {
    const r = await rig(natted);
    unlinkSync(join(r.root, 'var/cpanel/cpnat'));
    const answers: [unknown, RegExp][] = [
      [{ payload: [{ domain: D, ip_address: '10.0.0.5', state: 'VALID' }] }, /gives no public address \(10\.0\.0\.5\)/],
      [{ payload: [{ domain: D, state: 'VALID' }] }, /gives no address/],
    ];
    for (const [data, re] of answers) await rejectsWith(r.panel(spfValidator(r.http, { ok: true, data, reason: 'OK' })).readMailSettings(D), 'other', re);
  });

  it('validate_current_spfs answering: its public address, as before', async () => {
    const r = await rig(natted);
    unlinkSync(join(r.root, 'var/cpanel/cpnat'));
    assert.deepEqual((await r.panel().readMailSettings(D)).ips, ['203.0.113.10']);
  });
});

describe('WHM on the server: a server file that exists but cannot be read is not an absent one', () => {
  it('/etc/exim.conf.localopts: the relay is not known (relayUnknown), never "no relay"', async () => {
    const r = await rig(() => {}, { mailchannels: true });
    unreadable(r.root, 'etc/exim.conf.localopts');
    const panel = r.panel();
    const s = await panel.readMailSettings(D);
    assert.equal(s.relay, null);
    assert.equal(s.relayUnknown, 'cannot read /etc/exim.conf.localopts: EISDIR');
    const a = await auditDomain(D, { panel, resolver: liveFrom(panel), now: () => FIXED, checks: ['lockdown'] });
    assert.ok(a.findings.some((f) => f.rule === 'lockdown.relay-unknown' && f.severity === 'unknown'), JSON.stringify(a.findings.map((f) => f.rule)));
    assert.ok(!a.findings.some((f) => f.rule === 'lockdown.inert'), 'never "this server does not relay through MailChannels"');
    // A missing file still means no smarthost.
    rmSync(join(r.root, 'etc/exim.conf.localopts'), { recursive: true });
    const gone = await panel.readMailSettings(D);
    assert.equal(gone.relay, null);
    assert.equal(gone.relayUnknown, undefined);
  });

  it('/etc/mailips: the IP is asked of WHM (validate_current_spfs); when WHM cannot say, not known — never the main IP', async () => {
    const r = await rig((s) => (s.mailips = { [D]: '203.0.113.11' }));
    unreadable(r.root, 'etc/mailips');
    // The emulator's validate_current_spfs gives the IP /etc/mailips names (cpanel.md §7.2).
    assert.deepEqual((await r.panel().readMailSettings(D)).ips, ['203.0.113.11']);
    await rejectsWith(r.panel(spfValidator(r.http)).readMailSettings(D), 'other', /outbound mail IP of alice\.example is not known: cannot read \/etc\/mailips: EISDIR/);
  });

  it('/var/cpanel/cpnat: the map may name the public address — asked of WHM, else not known', async () => {
    const r = await rig(natted);
    unreadable(r.root, 'var/cpanel/cpnat');
    assert.deepEqual((await r.panel().readMailSettings(D)).ips, ['203.0.113.10']);
    await rejectsWith(r.panel(spfValidator(r.http)).readMailSettings(D), 'other', /cannot read \/var\/cpanel\/cpnat: EISDIR/);
  });

  it('/etc/mailhelo: the HELO is not known (never the host name), the settings unreadable', async () => {
    const r = await rig();
    unreadable(r.root, 'etc/mailhelo');
    await rejectsWith(r.panel().readMailSettings(D), 'other', /cannot read \/etc\/mailhelo: EISDIR, so the HELO for alice\.example is not known/);
  });

  it('the DKIM key files: the key is not known (never "no key"); one readable key file is enough', async () => {
    const r = await rig();
    unreadable(r.root, `var/cpanel/domain_keys/private/${D}`);
    await rejectsWith(r.panel().readMailSettings(D), 'other', /cannot read \/var\/cpanel\/domain_keys\/private\/alice\.example: EISDIR, so the server's DKIM key/);
    // The public key file alone gives the key.
    const pub = publicKeyFromPem(r.state.dkim.privateKeyPem);
    assert.ok(pub);
    mkdirSync(join(r.root, 'var/cpanel/domain_keys/public'), { recursive: true });
    writeFileSync(join(r.root, `var/cpanel/domain_keys/public/${D}`), `-----BEGIN PUBLIC KEY-----\n${pub.match(/.{1,64}/g)!.join('\n')}\n-----END PUBLIC KEY-----\n`);
    assert.equal((await r.panel().readMailSettings(D)).dkim.publicKey, pub);
  });

  it('the DKIM validity cache entry cannot be tested (a symlink loop: ELOOP): whether Exim signs is not known', async () => {
    const r = await rig();
    const entry = join(r.root, `var/cpanel/domain_keys/validity_cache/${D}`);
    rmSync(entry, { force: true });
    symlinkSync(entry, entry);
    await rejectsWith(r.panel().readMailSettings(D), 'other', /cannot read \/var\/cpanel\/domain_keys\/validity_cache\/alice\.example: ELOOP, so whether Exim signs/);
  });

  it('/etc/localdomains: it may name the domain, so the files do not say — cPanel is asked (list_mxs)', async () => {
    const r = await rig((s) => (s.mxDetected['carol.example'] = 'local'));
    // carol.example is in /etc/remotedomains; with /etc/localdomains (asked first) unreadable the files cannot tell.
    assert.equal((await r.panel().readMailSettings('carol.example')).routing, 'remote');
    unreadable(r.root, 'etc/localdomains');
    r.state.calls.length = 0;
    assert.equal((await r.panel().readMailSettings('carol.example')).routing, 'local');
    assert.ok(r.state.calls.some((c) => c.startsWith('whm:uapi_cpanel')), r.state.calls.join(', '));
  });
});

describe('server file reads and the lsearch files (Exim src/lookups/lsearch.c)', () => {
  it('readServerFile: a missing file is absent (null); any other error is said', () => {
    const root = mkdtempSync(join(tmpdir(), 'mh-whm-read-'));
    try {
      assert.deepEqual(readServerFile(root, 'etc/mailips'), { text: null });
      mkdirSync(join(root, 'etc/mailips'), { recursive: true });
      assert.deepEqual(readServerFile(root, 'etc/mailips'), { text: null, error: 'cannot read /etc/mailips: EISDIR' });
      writeFileSync(join(root, 'etc/hostname'), 'h.example\n');
      assert.deepEqual(readServerFile(root, 'etc/hostname'), { text: 'h.example\n' });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('effectiveMailIp: an unreadable file it depends on makes the IP unknown', () => {
    const nat = new Map([['10.0.0.5', '203.0.113.10']]);
    assert.deepEqual(effectiveMailIp({ mailIp: null, mainIp: '10.0.0.5', nat, unknown: { mailIp: 'cannot read /etc/mailips: EACCES' } }), { unknown: 'cannot read /etc/mailips: EACCES' });
    assert.deepEqual(effectiveMailIp({ mailIp: null, mainIp: null, nat, unknown: { mainIp: 'cannot read /var/cpanel/mainip: EIO' } }), { unknown: 'cannot read /var/cpanel/mainip: EIO' });
    // /etc/mailips names the IP: the main IP is not needed.
    assert.deepEqual(effectiveMailIp({ mailIp: '203.0.113.11', mainIp: null, nat, unknown: { mainIp: 'cannot read /var/cpanel/mainip: EIO' } }), { ip: '203.0.113.11', natMapped: false });
    assert.deepEqual(effectiveMailIp({ mailIp: '10.0.0.5', mainIp: null, nat: new Map(), unknown: { nat: 'cannot read /var/cpanel/cpnat: EACCES' } }), { unknown: 'cannot read /var/cpanel/cpnat: EACCES' });
  });

  it('the first line for a key wins; a key ends at a colon or white space; keys without regard to case', () => {
    const m = parseColonMap('shop.example: 203.0.113.21\n*: 203.0.113.30\nshop.example: 203.0.113.99\n*: 203.0.113.98\nother.example 203.0.113.5\nSpaced.Example   :   203.0.113.6\nv6.example: 2001:db8::1\nv6b.example 2001:db8::2\n');
    assert.equal(m.get('shop.example'), '203.0.113.21');
    assert.equal(m.get('*'), '203.0.113.30');
    assert.equal(m.get('other.example'), '203.0.113.5');
    assert.equal(m.get('spaced.example'), '203.0.113.6');
    assert.equal(m.get('v6.example'), '2001:db8::1');
    assert.equal(m.get('v6b.example'), '2001:db8::2');
    // A first line with no data ends the search all the same: the later line is never read (no entry, as before).
    assert.equal(parseColonMap('a.example:\na.example: 203.0.113.7\n').has('a.example'), false);
    // Comments and continuation lines (beginning with white space) hold no key.
    assert.equal(parseColonMap('# x.example: 203.0.113.1\n  y.example: 203.0.113.2\n').size, 0);
  });

  it('readCpanelServerFiles reads the domain’s first mailips / mailhelo entry', () => {
    const root = mkdtempSync(join(tmpdir(), 'mh-whm-lsearch-'));
    try {
      mkdirSync(join(root, 'etc'), { recursive: true });
      mkdirSync(join(root, 'var/cpanel'), { recursive: true });
      writeFileSync(join(root, 'var/cpanel/mainip'), '203.0.113.10');
      writeFileSync(join(root, 'etc/mailips'), 'shop.example: 203.0.113.21\nshop.example: 203.0.113.99\n');
      writeFileSync(join(root, 'etc/mailhelo'), 'shop.example: mx1.host.example\nshop.example: mx9.host.example\nother.example mx5.host.example\n');
      const shop = readCpanelServerFiles(root, 'shop.example');
      assert.equal(shop.mailIp, '203.0.113.21');
      assert.equal(shop.helo, 'mx1.host.example');
      assert.equal(readCpanelServerFiles(root, 'other.example').helo, 'mx5.host.example');
      assert.deepEqual(shop.unknown, {});
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
