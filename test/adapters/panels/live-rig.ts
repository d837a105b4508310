// A cPanel, WHM or Plesk emulator with one custom zone behind the real adapter, a resolver that serves the panel's zone
// as it is after each write, a history store, and hooks to change the zone "as someone else" at a chosen call — for
// tests of what a fix does when another edit lands while it runs. No timing: every edit happens inside a hook.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpanelPanel } from '../../../src/adapters/panels/cpanel/index.js';
import { UapiHttp } from '../../../src/adapters/panels/cpanel/uapi.js';
import { PanelHttpClient } from '../../../src/adapters/panels/http.js';
import { PleskPanel, PleskRestCli } from '../../../src/adapters/panels/plesk/index.js';
import { WhmHttp, WhmPanel } from '../../../src/adapters/panels/whm/index.js';
import { openStore, type Store } from '../../../src/adapters/store/store.js';
import type { Zone } from '../../../src/core/model.js';
import type { Panel } from '../../../src/core/panel.js';
import type { ApplyDeps } from '../../../src/core/plans/apply.js';
import type { Answer, RRType, Resolver } from '../../../src/core/resolver.js';
import { addZoneFile } from '../../../src/demo/world.js';
import { makeCpState, massEdit, startCpanelServer, type CpState, type RunningServer } from '../../helpers/emulators/cpanel.js';
import { makeFixture, type FixtureRecord } from '../../helpers/emulators/fixture.js';
import { makePleskState, startPleskServer, writePleskKeys, type PleskState } from '../../helpers/emulators/plesk.js';
import { startWhmServer, writeCpanelServerFiles } from '../../helpers/emulators/whm.js';
import { MapResolver, zoneToMap, type ZoneMap } from '../../helpers/map-resolver.js';
import { rsaKey, SERVER, WORLD } from '../../helpers/scenario.js';

export const DOMAIN = 'alice.example';
export const FIXED = new Date('2027-03-01T12:00:00.000Z');
export type Kind = 'cpanel' | 'whm' | 'plesk';

/** Called around every UAPI / WHM API call (module 'WHM' for WHM) and before every `plesk bin` call. */
export interface Hooks {
  api?: (module: string, func: string, when: 'before' | 'after') => void;
  cli?: (utility: string, params: string[]) => void;
  /** Before each applyChanges reaches the adapter: after core's last read of the zone. */
  beforeWrite?: () => void;
}

function worldMap(): ZoneMap {
  const served: Record<string, Record<string, unknown>> = {};
  addZoneFile(served, WORLD, '');
  const out: ZoneMap = {};
  for (const [name, data] of Object.entries(served)) {
    const { SOA: _soa, ...rest } = data;
    out[name] = rest as ZoneMap[string];
  }
  return out;
}

/** Public DNS = the world plus the panel's zone as last served (after every write and key step). */
class LiveResolver implements Resolver {
  private inner = new MapResolver({});
  constructor(private readonly world: ZoneMap) {}
  serve(zone: Zone): void {
    this.inner = new MapResolver({ ...this.world, ...zoneToMap(zone) });
  }
  resolve<T extends RRType>(name: string, type: T): Promise<Answer<T>> {
    return this.inner.resolve(name, type);
  }
}

export interface Rig {
  panel: Panel;
  store: Store;
  hooks: Hooks;
  cp?: CpState;
  pl?: PleskState;
  deps(): ApplyDeps;
  /** The zone's records other than the SOA, as `name type ttl text`, sorted. */
  records(): Promise<string[]>;
  close(): Promise<void>;
}

export function baseRecords(d = DOMAIN): FixtureRecord[] {
  return [
    { name: d, ttl: 86400, type: 'NS', data: ['ns1.newhost.example.'] },
    { name: d, ttl: 86400, type: 'NS', data: ['ns2.newhost.example.'] },
    { name: d, ttl: 14400, type: 'A', data: ['203.0.113.10'] },
    { name: d, ttl: 14400, type: 'MX', data: ['10', `mail.${d}.`] },
    { name: `mail.${d}`, ttl: 14400, type: 'A', data: ['203.0.113.10'] },
    { name: `www.${d}`, ttl: 14400, type: 'CNAME', data: [`${d}.`] },
    { name: d, ttl: 14400, type: 'TXT', data: ['google-site-verification=tok'] },
    { name: `_sip._tls.${d}`, ttl: 3600, type: 'SRV', data: ['100', '1', '443', 'sipdir.online.lync.com.'] },
  ];
}

/** `noServerKey`: the server has no DKIM key for the domain yet (the DKIM fix has the panel generate one). */
export async function makeRig(kind: Kind, records: FixtureRecord[], opts: { noServerKey?: boolean } = {}): Promise<Rig> {
  const tmp = mkdtempSync(join(tmpdir(), 'mh-live-rig-'));
  const hooks: Hooks = {};
  const f = makeFixture();
  const key = rsaKey();
  f.hostname = SERVER.hostname;
  f.mailIp = SERVER.ips[0];
  f.nameservers = [...SERVER.nameservers];
  f.dkim = { privateKeyPem: key.privatePem, publicKey: key.publicB64 };
  f.zones = { [DOMAIN]: records };
  const http = (url: string, headers: Record<string, string>) => new PanelHttpClient({ baseUrl: url, headers });
  let srv: RunningServer;
  let inner: Panel;
  let cp: CpState | undefined;
  let pl: PleskState | undefined;
  if (kind === 'cpanel' || kind === 'whm') {
    cp = makeCpState(f);
    const soa = cp.zones[DOMAIN].lines.find((l) => l?.kind === 'record' && l.type === 'SOA');
    if (soa?.kind === 'record') soa.data[0] = 'ns1.newhost.example.';
    cp.serialDate = '20270301';
    if (opts.noServerKey) {
      cp.dkimDomains = [];
      cp.validityCache = [];
    }
    srv = kind === 'cpanel' ? await startCpanelServer(cp) : await startWhmServer(cp);
    const root = join(tmp, 'root');
    writeCpanelServerFiles(cp, root);
    cp.serverRoot = root;
    if (kind === 'cpanel') {
      const ut = new UapiHttp(http(srv.url, { authorization: 'cpanel alice:tok-alice' }));
      const transport = {
        label: ut.label,
        call: async (m: string, fn: string, p: [string, string][]) => {
          hooks.api?.(m, fn, 'before');
          const res = await ut.call(m, fn, p);
          hooks.api?.(m, fn, 'after');
          return res;
        },
      };
      inner = new CpanelPanel({ transport, user: 'alice', owner: 'res1', hostname: SERVER.hostname, root });
    } else {
      const wt = new WhmHttp(http(srv.url, { authorization: 'whm root:tok-root' }));
      const transport = {
        call: async (fn: string, p: [string, string][] = []) => {
          hooks.api?.('WHM', fn, 'before');
          const res = await wt.call(fn, p);
          hooks.api?.('WHM', fn, 'after');
          return res;
        },
      };
      inner = new WhmPanel({ transport, user: 'root', root });
    }
  } else {
    pl = makePleskState(f);
    pl.outgoingMode = 'explicit-ip';
    pl.explicitIpv4 = SERVER.ips[0];
    srv = await startPleskServer(pl);
    const root = join(tmp, 'plesk-root');
    mkdirSync(root, { recursive: true });
    pl.root = root;
    writePleskKeys(pl, root);
    const rest = http(srv.url, { 'x-api-key': pl.apiKey });
    const real = new PleskRestCli(rest);
    const cli = {
      run: async (u: string, p: string[]) => {
        hooks.cli?.(u, p);
        return real.run(u, p);
      },
    };
    inner = new PleskPanel({ rest, apiKey: pl.apiKey, cli, root });
  }
  const resolver = new LiveResolver(worldMap());
  const refresh = async () => resolver.serve(await inner.readZone(DOMAIN));
  // The adapter as core sees it; public DNS follows every write and key step (as a local authority's does).
  const after = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } finally {
      await refresh();
    }
  };
  const panel: Panel = {
    kind: inner.kind,
    capabilities: inner.capabilities,
    listAccounts: () => inner.listAccounts(),
    listDomains: (i) => inner.listDomains(i),
    readZone: (d) => inner.readZone(d),
    readMailSettings: (d) => inner.readMailSettings(d),
    applyChanges: (d, changes, v) => {
      hooks.beforeWrite?.();
      return after(inner.applyChanges(d, changes, v));
    },
    generateDkim: (d) => after(inner.generateDkim!(d)),
    startDkimSigning: (d) => after(inner.startDkimSigning!(d)),
  };
  await refresh();
  const store = openStore(join(tmp, 'h.sqlite'), { now: () => FIXED.getTime() });
  return {
    panel,
    store,
    hooks,
    cp,
    pl,
    deps: () => ({ panel, resolver, history: store, byUser: 'root', now: () => FIXED }),
    async records() {
      const z = await inner.readZone(DOMAIN);
      return z.records
        .filter((x) => x.type !== 'SOA')
        .map((x) => `${x.name} ${x.type} ${x.ttl} ${x.txt ? x.txt.join('') : x.value}`)
        .sort();
    },
    async close() {
      store.close();
      await srv.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** Someone else adds a TXT record to the zone: cPanel's Zone Editor (serial bumped) or Plesk's DNS settings. */
export function addTxtAsCustomer(r: Rig, relName: string, text: string, ttl = 3600): void {
  if (r.cp) {
    const z = r.cp.zones[DOMAIN];
    const res = massEdit(r.cp, DOMAIN, [['zone', DOMAIN], ['serial', String(z.serial)], ['add', JSON.stringify({ dname: relName, ttl, record_type: 'TXT', data: [text] })]], null);
    if (!res.ok) throw new Error(`customer edit failed: ${JSON.stringify(res)}`);
  } else {
    const pl = r.pl!;
    pl.records.push({ id: pl.nextId++, domain_id: pl.domains.find((d) => d.name === DOMAIN)!.id, type: 'TXT', host: `${relName}.${DOMAIN}.`, value: text, opt: '', ttl });
  }
}
