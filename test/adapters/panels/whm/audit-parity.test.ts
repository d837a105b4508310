// The lead's audit engine run through the cPanel, WHM and Plesk adapters on the same fixture domain (same live DNS
// from a map resolver): the findings (rule, check, severity, subject) must be the same whatever panel serves them.
// (Files panel parity and plans are not covered yet: src/core/plans/ had no planner when this was written.)
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { auditDomain } from '../../../../src/core/audit.js';
import type { Panel } from '../../../../src/core/panel.js';
import { CpanelPanel } from '../../../../src/adapters/panels/cpanel/index.js';
import { UapiHttp } from '../../../../src/adapters/panels/cpanel/uapi.js';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import { PleskPanel, PleskRestCli } from '../../../../src/adapters/panels/plesk/index.js';
import { WhmHttp, WhmPanel } from '../../../../src/adapters/panels/whm/index.js';
import { MapResolver, type ZoneMap } from '../../../helpers/map-resolver.js';
import { makeCpState, startCpanelServer, type RunningServer } from '../../../helpers/emulators/cpanel.js';
import { makeFixture } from '../../../helpers/emulators/fixture.js';
import { makePleskState, startPleskServer, writePleskKeys } from '../../../helpers/emulators/plesk.js';
import { startWhmServer, writeCpanelServerFiles } from '../../../helpers/emulators/whm.js';

describe('audit parity across panel adapters', () => {
  const servers: RunningServer[] = [];
  const panels: Record<string, Panel> = {};
  let zones: ZoneMap;
  before(async () => {
    const f = makeFixture();
    const cp = makeCpState(f);
    const cpSrv = await startCpanelServer(cp);
    const whmSrv = await startWhmServer(cp);
    const pl = makePleskState(f);
    pl.outgoingMode = 'explicit-ip';
    pl.explicitIpv4 = f.mailIp;
    const plSrv = await startPleskServer(pl);
    servers.push(cpSrv, whmSrv, plSrv);
    const root = mkdtempSync(join(tmpdir(), 'mh-parity-'));
    writeCpanelServerFiles(cp, root);
    writePleskKeys(pl, root);
    const c = (url: string, headers: Record<string, string>) => new PanelHttpClient({ baseUrl: url, headers });
    panels.cpanel = new CpanelPanel({ transport: new UapiHttp(c(cpSrv.url, { authorization: 'cpanel alice:tok-alice' })), user: 'alice', hostname: f.hostname, root });
    panels.whm = new WhmPanel({ transport: new WhmHttp(c(whmSrv.url, { authorization: 'whm root:tok-root' })), user: 'root', root });
    const plRest = c(plSrv.url, { 'x-api-key': pl.apiKey });
    panels.plesk = new PleskPanel({ rest: plRest, apiKey: pl.apiKey, cli: new PleskRestCli(plRest), root });
    // Live DNS = the fixture zone as published.
    zones = {};
    for (const r of f.zones['alice.example']) {
      const e = (zones[r.name] ??= {}) as Record<string, unknown[]>;
      const strip = (s: string) => s.replace(/\.$/, '');
      const v = r.type === 'TXT' ? r.data : r.type === 'MX' ? { priority: Number(r.data[0]), exchange: strip(r.data[1]) } : strip(r.data[0]);
      (e[r.type] ??= []).push(v);
    }
    zones['10.113.0.203.in-addr.arpa'] = { PTR: [f.hostname] };
    zones[f.hostname] = { A: [f.mailIp] };
  });
  after(async () => {
    for (const s of servers) await s.close();
  });

  it('gives the same findings for alice.example through cPanel, WHM and Plesk', async () => {
    const results: Record<string, string[]> = {};
    for (const [kind, panel] of Object.entries(panels)) {
      const audit = await auditDomain('alice.example', { panel, resolver: new MapResolver(zones), now: () => new Date(0), checks: ['spf', 'dkim', 'lockdown', 'dmarc'] });
      results[kind] = audit.findings.map((x) => `${x.check} ${x.rule} ${x.severity} ${x.subject ?? ''}`).sort();
    }
    if (process.env.MH_DEBUG) console.log(results);
    assert.ok(results.cpanel.length > 0, 'the fixture has problems to find');
    assert.ok(results.cpanel.some((l) => l.includes('websitewelcome')) || results.cpanel.some((l) => l.startsWith('spf')), results.cpanel.join('\n'));
    assert.deepEqual(results.whm, results.cpanel);
    assert.deepEqual(results.plesk, results.cpanel);
  });
});
