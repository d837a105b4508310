// cPanel (UAPI) on the server (R6 items 1, 4): where cPanel's EmailAuth checks give no answer, the server files stand
// in only where they say it.
// - Behind NAT with no map: the private main IP is not the outbound IP receivers see (cpanel.md §7.2, §8.2: "then
//   NAT-mapped to the public IP"). With validate_current_spfs and validate_current_ptrs failing, the settings are
//   unreadable and no SPF fix is planned — the old reading gave ips ['10.0.0.5'] and an SPF fix to `ip4:10.0.0.5`.
// - A server file that exists but cannot be read (EISDIR here: the tests run as root) is not an absent one: the relay
//   is not known (relayUnknown), an unreadable /etc/mailhelo or /etc/mailips stands in for nothing.
import assert from 'node:assert/strict';
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CpanelPanel } from '../../../../src/adapters/panels/cpanel/index.js';
import { UapiHttp, type UapiTransport } from '../../../../src/adapters/panels/cpanel/uapi.js';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import { auditDomain } from '../../../../src/core/audit.js';
import { makePlan } from '../../../../src/core/plans/index.js';
import type { Answer, Resolver, RRType } from '../../../../src/core/resolver.js';
import { startCpanelServer, type CpState } from '../../../helpers/emulators/cpanel.js';
import { MapResolver, zoneToMap } from '../../../helpers/map-resolver.js';
import { rejectsWith } from '../../../helpers/panel-errors.js';
import { serverFilesRigs, unreadable } from '../../../helpers/server-files-rig.js';

const FIXED = new Date('2027-03-01T12:00:00.000Z');
const D = 'alice.example';

const rig = serverFilesRigs({
  prefix: 'mh-cpanel-unreadable-',
  start: startCpanelServer,
  transport: (url) => new UapiHttp(new PanelHttpClient({ baseUrl: url, headers: { authorization: 'cpanel alice:tok-alice' } })),
  adapter: (transport: UapiTransport, root) => new CpanelPanel({ transport, user: 'alice', root }),
});


/** cPanel whose EmailAuth `funcs` fail (cPanel's own DNS lookups timing out); every other call as the emulator answers. */
function failing(http: UapiTransport, funcs: string[]): UapiTransport {
  return {
    label: 'cPanel',
    call: (m, f, p) => (m === 'EmailAuth' && funcs.includes(f) ? Promise.resolve({ ok: false, data: null, errors: ['DNS query timed out'], warnings: [] }) : http.call(m, f, p)),
  };
}
const IP_CHECKS = ['validate_current_spfs', 'validate_current_ptrs'];

function liveFrom(panel: CpanelPanel): Resolver {
  const ask = async <T extends RRType>(name: string, type: T): Promise<Answer<T>> => new MapResolver(zoneToMap(await panel.readZone(D))).resolve(name, type);
  return { resolve: ask, resolveAt: (_servers, name, type) => ask(name, type) };
}

const natted = (s: CpState) => {
  s.mainIp = '10.0.0.5';
  s.mailips = { '*': '10.0.0.5' };
  s.nat = { '10.0.0.5': '203.0.113.10' };
};

describe('cPanel on the server behind NAT without a map: the private IP is never the outbound IP', () => {
  it('the EmailAuth checks failing: the settings are unreadable, the audit says so, and no SPF fix is planned', async () => {
    const r = await rig(natted);
    unlinkSync(join(r.root, 'var/cpanel/cpnat'));
    // cPanel's answer gives the public address.
    assert.deepEqual((await r.panel().readMailSettings(D)).ips, ['203.0.113.10']);
    const panel = r.panel(failing(r.http, IP_CHECKS));
    await rejectsWith(panel.readMailSettings(D), 'other', /outbound mail IP of alice\.example is not known: the outbound IP is private \(10\.0\.0\.5\) and \/var\/cpanel\/cpnat does not map it/);
    const a = await auditDomain(D, { panel, resolver: liveFrom(panel), now: () => FIXED, checks: ['spf'] });
    assert.equal(a.findings.find((f) => f.rule === 'dns.panel-settings-unreadable')?.severity, 'unknown');
    assert.ok(!a.findings.some((f) => f.severity === 'fail' || f.severity === 'warn'), JSON.stringify(a.findings.map((f) => f.rule)));
    await assert.rejects(makePlan({ domain: D, check: 'spf' }, { panel, resolver: liveFrom(panel), now: () => FIXED }), /not known/);
  });

  it('with the map: the mapped public IP from the files, as before', async () => {
    const r = await rig(natted);
    assert.deepEqual((await r.panel(failing(r.http, IP_CHECKS)).readMailSettings(D)).ips, ['203.0.113.10']);
  });
});

describe('cPanel on the server: a server file that exists but cannot be read is not an absent one', () => {
  it('/etc/exim.conf.localopts: the relay is not known (relayUnknown), never "no relay"', async () => {
    const r = await rig(() => {}, { mailchannels: true });
    assert.equal((await r.panel().readMailSettings(D)).relay?.provider, 'mailchannels');
    unreadable(r.root, 'etc/exim.conf.localopts');
    const s = await r.panel().readMailSettings(D);
    assert.equal(s.relay, null);
    assert.equal(s.relayUnknown, 'cannot read /etc/exim.conf.localopts: EISDIR');
  });

  it('/etc/mailips with the EmailAuth checks failing: not known — never the main IP', async () => {
    const r = await rig((s) => (s.mailips = { [D]: '203.0.113.11' }));
    unreadable(r.root, 'etc/mailips');
    await rejectsWith(r.panel(failing(r.http, IP_CHECKS)).readMailSettings(D), 'other', /outbound mail IP of alice\.example is not known: cannot read \/etc\/mailips: EISDIR/);
    // cPanel's own answer needs no file.
    assert.deepEqual((await r.panel().readMailSettings(D)).ips, ['203.0.113.11']);
  });

  it('/etc/mailhelo with validate_current_ptrs failing: the HELO is not known — never the host name', async () => {
    const r = await rig();
    unreadable(r.root, 'etc/mailhelo');
    await rejectsWith(r.panel(failing(r.http, ['validate_current_ptrs'])).readMailSettings(D), 'other', /EmailAuth::validate_current_ptrs for alice\.example failed: DNS query timed out/);
  });
});
