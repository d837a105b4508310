// WHM: mail routing off the server (Email::list_mxs as the domain's owner through uapi_cpanel, cpanel.md §1, §2, §8.1)
// and whose nameservers on the server (has_local_authority first, /etc/wwwacct.conf as the fallback, §5).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import { WhmHttp, WhmPanel, type WhmTransport } from '../../../../src/adapters/panels/whm/index.js';
import { auditDomain } from '../../../../src/core/audit.js';
import { makePlan } from '../../../../src/core/plans/index.js';
import type { Params } from '../../../../src/adapters/panels/cpanel/uapi.js';
import { makeCpState, type CpState } from '../../../helpers/emulators/cpanel.js';
import { startWhmServer, writeCpanelServerFiles } from '../../../helpers/emulators/whm.js';
import { MapResolver, type ZoneMap } from '../../../helpers/map-resolver.js';

const FIXED = new Date('2027-03-01T12:00:00.000Z');
const Z = 'alice.example';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

async function rig(change: (s: CpState) => void = () => {}, user = 'root') {
  const state = makeCpState();
  change(state);
  const { url, close } = await startWhmServer(state);
  const root = mkdtempSync(join(tmpdir(), 'mh-whm-ra-'));
  cleanup.push(async () => {
    await close();
    rmSync(root, { recursive: true, force: true });
  });
  const transport = new WhmHttp(new PanelHttpClient({ baseUrl: url, headers: { authorization: `whm ${user}:tok-${user}` } }));
  return { state, root, transport, remote: new WhmPanel({ transport, user, root: null, hostname: 'server1.host.example' }) };
}

/** alice.example's mail at GoDaddy Workspace (secureserver.net), its SPF allowing it. */
const godaddy = (s: CpState) => {
  const z = s.zones[Z];
  z.lines = z.lines.map((l) =>
    l?.kind === 'record' && l.type === 'MX'
      ? { ...l, data: ['0', 'smtp.secureserver.net.'] }
      : l?.kind === 'record' && l.type === 'TXT' && l.dname === `${Z}.`
        ? { ...l, data: ['v=spf1 +a +mx include:secureserver.net ~all'] }
        : l,
  );
  s.mxDetected[Z] = 'remote';
};
const godaddyWorld: ZoneMap = {
  [Z]: { NS: ['ns1.host.example', 'ns2.host.example'], TXT: [['v=spf1 +a +mx include:secureserver.net ~all']], MX: [{ priority: 0, exchange: 'smtp.secureserver.net' }], A: ['203.0.113.10'] },
  'secureserver.net': { TXT: [['v=spf1 ip4:68.178.213.0/24 ~all']] },
  'smtp.secureserver.net': { A: ['68.178.213.37'] },
};

describe('WHM off the server: mail routing from Email::list_mxs as the domain’s owner', () => {
  it('cPanel’s MX check says remote → routing remote: no mx.stale, the SPF fix keeps +mx and the GoDaddy include', async () => {
    const r = await rig(godaddy);
    r.state.calls.length = 0;
    const s = await r.remote.readMailSettings(Z);
    assert.equal(s.routing, 'remote');
    assert.ok(r.state.calls.includes(`whm:uapi_cpanel ${Z}`) && r.state.calls.includes(`Email::list_mxs ${Z}`), r.state.calls.join(', '));
    const resolver = new MapResolver(godaddyWorld);
    const audit = await auditDomain(Z, { panel: r.remote, resolver, now: () => FIXED, checks: ['spf', 'mx'] });
    assert.ok(!audit.findings.some((f) => f.rule === 'mx.stale' || f.rule === 'spf.stale-term'), audit.findings.map((f) => f.rule).join(', '));
    const plan = await makePlan({ domain: Z, check: 'spf' }, { panel: r.remote, resolver, now: () => FIXED });
    assert.ok(plan.changes.every((c) => !c.after || (/include:secureserver\.net/.test(c.after.value) && /\+mx/.test(c.after.value))), JSON.stringify(plan.changes));
  });

  it('a domain whose mail is accepted here reads local; a reseller token asks for its own accounts', async () => {
    const r = await rig(() => {}, 'res1');
    assert.equal((await r.remote.readMailSettings(Z)).routing, 'local');
    r.state.mxDetected['bob.example'] = 'remote';
    assert.equal((await r.remote.readMailSettings('bob.example')).routing, 'remote');
  });

  it('list_mxs "secondary" (a backup MX: the mail server is elsewhere) reads remote (review)', async () => {
    const r = await rig();
    r.state.mxDetected[Z] = 'secondary';
    assert.equal((await r.remote.readMailSettings(Z)).routing, 'remote');
  });

  it('no answer from uapi_cpanel (refused, UAPI error, no item, HTTP failure): the settings are unreadable — neither local nor remote', async () => {
    // Before QA h3 (D2) these read "remote": safe for the fixes, but the audit reported it as the panel's setting
    // (mx.routing-mismatch "Set the panel's mail routing to local" from a call that failed). Now the read fails, saying
    // which call; core reports the settings unreadable (unknown) and plans nothing on them.
    const r = await rig(godaddy);
    r.state.mxDetected[Z] = 'local';
    const variants: [(func: string, params: Params) => Promise<unknown> | null, RegExp][] = [
      [(func) => (func === 'uapi_cpanel' ? Promise.resolve({ ok: false, data: null, reason: 'Permission denied' }) : null), /WHM uapi_cpanel \(Email::list_mxs as alice\) failed: Permission denied/],
      [(func) => (func === 'uapi_cpanel' ? Promise.resolve({ ok: true, data: { uapi: { status: 0, data: null, errors: ['Failed to load module'] } }, reason: 'OK' }) : null), /Email::list_mxs for alice\.example failed: Failed to load module/],
      [(func) => (func === 'uapi_cpanel' ? Promise.resolve({ ok: true, data: { uapi: { status: 1, data: [] } }, reason: 'OK' }) : null), /no item for alice\.example/],
      [(func) => (func === 'uapi_cpanel' ? Promise.reject(new Error('socket hang up')) : null), /socket hang up/],
    ];
    for (const [v, message] of variants) {
      const transport: WhmTransport = { call: (func, params = []) => (v(func, params) as ReturnType<WhmTransport['call']> | null) ?? r.transport.call(func, params) };
      const panel = new WhmPanel({ transport, user: 'root', root: null });
      await assert.rejects(panel.readMailSettings(Z), message);
      const a = await auditDomain(Z, { panel, resolver: new MapResolver({}), now: () => FIXED });
      assert.equal(a.findings.find((f) => f.rule === 'dns.panel-settings-unreadable')?.severity, 'unknown');
      assert.ok(!a.findings.some((f) => f.rule === 'mx.routing-mismatch'), 'no routing finding from a call that failed');
    }
  });
});

describe('WHM on the server: mail routing from /etc/localdomains, /etc/remotedomains, /etc/secondarymx', () => {
  it('a domain in none of them is asked of cPanel (list_mxs), never taken as local; a backup-MX domain is remote', async () => {
    // cPanel QA: a domain missing from every list (before updateuserdomains ran) read "local", so another provider's MX,
    // includes and keys would be taken for a previous host's.
    const r = await rig(godaddy);
    writeCpanelServerFiles(r.state, r.root);
    const on = new WhmPanel({ transport: r.transport, user: 'root', root: r.root, hostname: 'server1.host.example' });
    const write = (p: string, text: string) => writeFileSync(join(r.root, p), text);
    write('etc/localdomains', 'bob.example\n');
    write('etc/remotedomains', 'carol.example\n');
    write('etc/secondarymx', 'res1.example\n');
    r.state.calls.length = 0;
    assert.equal((await on.readMailSettings(Z)).routing, 'remote', 'in no list: cPanel says remote');
    assert.ok(r.state.calls.includes(`Email::list_mxs ${Z}`), r.state.calls.join(', '));
    r.state.mxDetected[Z] = 'local';
    assert.equal((await on.readMailSettings(Z)).routing, 'local', 'in no list: cPanel says local');
    r.state.calls.length = 0;
    assert.equal((await on.readMailSettings('bob.example')).routing, 'local');
    assert.equal((await on.readMailSettings('carol.example')).routing, 'remote');
    assert.equal((await on.readMailSettings('res1.example')).routing, 'remote', 'a backup MX: the mail server is elsewhere');
    assert.ok(!r.state.calls.some((c) => c.startsWith('Email::list_mxs')), 'listed domains need no API call');
  });
});

describe('WHM on the server: whose nameservers', () => {
  const BRANDED = ['ns1.resellerdns.example', 'ns2.resellerdns.example'];
  /** alice.example is served here under its reseller's branded nameservers; /etc/wwwacct.conf lists the server's own. */
  const branded = (s: CpState) => {
    for (const l of s.zones[Z].lines) if (l?.kind === 'record' && l.type === 'NS') l.data = [l.data[0] === 'ns1.host.example.' ? `${BRANDED[0]}.` : `${BRANDED[1]}.`];
    s.nameservers = [...s.nameservers, ...BRANDED];
  };
  const live = (ns: string[]): ZoneMap => ({ [Z]: { NS: ns, TXT: [['v=spf1 +a +mx include:websitewelcome.com ~all']], MX: [{ priority: 10, exchange: `mail.${Z}` }], A: ['203.0.113.10'] } });

  it('has_local_authority 1 wins over /etc/wwwacct.conf (a reseller’s branded nameservers); 0 falls back to it', async () => {
    const r = await rig(branded);
    writeCpanelServerFiles(r.state, r.root, { wwwacct: ['ns1.host.example', 'ns2.host.example'] });
    const onServer = new WhmPanel({ transport: r.transport, user: 'root', root: r.root });
    assert.deepEqual((await onServer.readMailSettings(Z)).nameservers, BRANDED);
    const audit = await auditDomain(Z, { panel: onServer, resolver: new MapResolver(live(BRANDED)), now: () => FIXED, checks: ['dns'] });
    assert.ok(audit.findings.some((f) => f.rule === 'dns.authoritative'), audit.findings.map((f) => f.message).join('\n'));
    assert.equal((await makePlan({ domain: Z, check: 'dmarc' }, { panel: onServer, resolver: new MapResolver(live(BRANDED)), now: () => FIXED })).mode, 'apply');
    // Right after a write (public DNS on the previous serial): the server's own list, as before.
    r.state.publicSerial = { [Z]: r.state.zones[Z].serial - 1 };
    assert.deepEqual((await onServer.readMailSettings(Z)).nameservers, ['ns1.host.example', 'ns2.host.example']);
  });
});
