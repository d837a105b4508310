// The real cPanel, WHM and Plesk adapters against their emulators (test/helpers/emulators), one custom zone, a
// resolver that serves the panel's zone as it is after each write, and a history store with a fixed clock — for apply
// tests in which someone else edits the zone at a chosen moment (a hook, never a timer).
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
import { makeCpState, startCpanelServer, type CpState, type RunningServer } from '../../helpers/emulators/cpanel.js';
import { makeFixture, type FixtureRecord } from '../../helpers/emulators/fixture.js';
import { makePleskState, startPleskServer, writePleskKeys, type PleskState } from '../../helpers/emulators/plesk.js';
import { startWhmServer, writeCpanelServerFiles } from '../../helpers/emulators/whm.js';
import { MapResolver, zoneToMap, type ZoneMap } from '../../helpers/map-resolver.js';
import { rsaKey, SERVER, WORLD } from '../../helpers/scenario.js';

export const DOMAIN = 'alice.example';
export const FIXED = new Date('2027-03-01T12:00:00.000Z');
export type Kind = 'cpanel' | 'whm' | 'plesk';
export const STALE_SPF = 'v=spf1 +a +mx include:websitewelcome.com ~all';

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

/** Public DNS: the world plus the panel's zone as last served (after every write). */
export class LiveResolver implements Resolver {
  private inner = new MapResolver({});
  constructor(private readonly world: ZoneMap) {}
  serve(zone: Zone): void {
    this.inner = new MapResolver({ ...this.world, ...zoneToMap(zone) });
  }
  resolve<T extends RRType>(name: string, type: T): Promise<Answer<T>> {
    return this.inner.resolve(name, type);
  }
}

/** The panel, re-serving its zone to the resolver after each write. */
class LivePanel implements Panel {
  readonly kind: string;
  readonly capabilities: Panel['capabilities'];
  constructor(
    readonly inner: Panel,
    private readonly resolver: LiveResolver,
  ) {
    this.kind = inner.kind;
    this.capabilities = inner.capabilities;
  }
  async refresh(): Promise<void> {
    this.resolver.serve(await this.inner.readZone(DOMAIN));
  }
  listAccounts: Panel['listAccounts'] = () => this.inner.listAccounts();
  listDomains: Panel['listDomains'] = (i) => this.inner.listDomains(i);
  readZone: Panel['readZone'] = (d) => this.inner.readZone(d);
  readMailSettings: Panel['readMailSettings'] = (d) => this.inner.readMailSettings(d);
  applyChanges: Panel['applyChanges'] = async (domain, changes, v) => {
    try {
      return await this.inner.applyChanges(domain, changes, v);
    } finally {
      await this.refresh();
    }
  };
}

export interface Rig {
  kind: Kind;
  panel: LivePanel;
  resolver: LiveResolver;
  store: Store;
  cp?: CpState;
  pl?: PleskState;
  deps(extra?: Partial<ApplyDeps>): ApplyDeps;
  close(): Promise<void>;
}

/** The zone of alice.example: the usual records, an SRV record below the SPF record, and the previous host's SPF. */
export function records(): FixtureRecord[] {
  const d = DOMAIN;
  return [
    { name: d, ttl: 86400, type: 'NS', data: ['ns1.newhost.example.'] },
    { name: d, ttl: 86400, type: 'NS', data: ['ns2.newhost.example.'] },
    { name: d, ttl: 14400, type: 'A', data: ['203.0.113.10'] },
    { name: d, ttl: 14400, type: 'MX', data: ['10', `mail.${d}.`] },
    { name: `mail.${d}`, ttl: 14400, type: 'A', data: ['203.0.113.10'] },
    { name: `www.${d}`, ttl: 14400, type: 'CNAME', data: [`${d}.`] },
    { name: d, ttl: 14400, type: 'TXT', data: ['google-site-verification=tok'] },
    { name: d, ttl: 14400, type: 'TXT', data: [STALE_SPF] },
    { name: `_sip._tls.${d}`, ttl: 3600, type: 'SRV', data: ['100', '1', '443', 'sipdir.online.lync.com.'] },
  ];
}

export async function makeRig(kind: Kind): Promise<Rig> {
  const tmp = mkdtempSync(join(tmpdir(), 'mailhealth-emulated-rig-'));
  const f = makeFixture();
  const key = rsaKey();
  f.hostname = SERVER.hostname;
  f.mailIp = SERVER.ips[0];
  f.nameservers = [...SERVER.nameservers];
  f.dkim = { privateKeyPem: key.privatePem, publicKey: key.publicB64 };
  f.zones = { [DOMAIN]: records() };
  const http = (url: string, headers: Record<string, string>) => new PanelHttpClient({ baseUrl: url, headers });
  let server: RunningServer;
  let inner: Panel;
  let cp: CpState | undefined;
  let pl: PleskState | undefined;
  if (kind === 'cpanel' || kind === 'whm') {
    cp = makeCpState(f);
    const soa = cp.zones[DOMAIN].lines.find((l) => l?.kind === 'record' && l.type === 'SOA');
    if (soa?.kind === 'record') soa.data[0] = 'ns1.newhost.example.';
    cp.serialDate = '20270301';
    server = kind === 'cpanel' ? await startCpanelServer(cp) : await startWhmServer(cp);
    const root = join(tmp, 'root');
    writeCpanelServerFiles(cp, root, {});
    cp.serverRoot = root;
    inner =
      kind === 'cpanel'
        ? new CpanelPanel({ transport: new UapiHttp(http(server.url, { authorization: 'cpanel alice:tok-alice' })), user: 'alice', owner: 'res1', hostname: SERVER.hostname, root })
        : new WhmPanel({ transport: new WhmHttp(http(server.url, { authorization: 'whm root:tok-root' })), user: 'root', root });
  } else {
    pl = makePleskState(f);
    pl.outgoingMode = 'explicit-ip';
    pl.explicitIpv4 = SERVER.ips[0];
    server = await startPleskServer(pl);
    const root = join(tmp, 'plesk-root');
    mkdirSync(root, { recursive: true });
    pl.root = root;
    writePleskKeys(pl, root);
    const rest = http(server.url, { 'x-api-key': pl.apiKey });
    inner = new PleskPanel({ rest, apiKey: pl.apiKey, cli: new PleskRestCli(rest), root });
  }
  const resolver = new LiveResolver(worldMap());
  const panel = new LivePanel(inner, resolver);
  await panel.refresh();
  const store = openStore(join(tmp, 'h.sqlite'), { now: () => FIXED.getTime() });
  return {
    kind,
    panel,
    resolver,
    store,
    cp,
    pl,
    deps: (extra = {}) => ({ panel, resolver, history: store, byUser: 'root', lockWaitMs: 0, ...extra }),
    async close() {
      store.close();
      await server.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** The zone's records as sorted text lines (name, type, TTL, value), SOA aside. */
export async function recordLines(r: Rig): Promise<string[]> {
  const z = await r.panel.readZone(DOMAIN);
  return z.records
    .filter((x) => x.type !== 'SOA')
    .map((x) => `${x.name} ${x.type} ${x.ttl} ${JSON.stringify(x.txt ?? x.value)}`)
    .sort();
}

/**
 * A resolver that runs `edit` once, at its first question — the re-plan inside applyPlan has read the zone by then
 * and is asking DNS — then answers as `inner` does.
 */
export function editingAtFirstQuestion(inner: Resolver, edit: () => void): Resolver {
  let done = false;
  return {
    resolve: (name, type) => {
      if (!done) {
        done = true;
        edit();
      }
      return inner.resolve(name, type);
    },
  };
}
