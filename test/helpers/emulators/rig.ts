// The real cPanel, WHM and Plesk adapters against their emulators, one custom zone (alice.example), public DNS that
// serves the panel's zone as it is after each write, and a history store with a fixed clock — for tests of what a fix
// does through a real adapter, and of what it does when someone else edits the zone at a chosen call. No timing: every
// edit happens inside a hook (Hooks), never on a timer.
//
// The pieces are exported for tests that put several panels side by side (test/adapters/panels/parity.test.ts):
// serverFixture (this server's settings), startEmulator (one panel's emulator and adapter), liveRig (the adapter as
// core sees it, with its public DNS and history). makeRig puts them together for one panel.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
import { MapResolver, zoneToMap, type ZoneMap } from '../map-resolver.js';
import { MAILCHANNELS, rsaKey, SERVER, WORLD } from '../scenario.js';
import { makeCpState, massEdit, startCpanelServer, type CpState, type RunningServer } from './cpanel.js';
import { makeFixture, type Fixture, type FixtureRecord } from './fixture.js';
import { makePleskState, startPleskServer, writePleskKeys, type PleskState } from './plesk.js';
import { startWhmServer, writeCpanelServerFiles } from './whm.js';

/** A customer of the emulators' fixture (user alice, reseller res1). */
export const DOMAIN = 'alice.example';
export const FIXED = new Date('2027-03-01T12:00:00.000Z');
export type Kind = 'cpanel' | 'whm' | 'plesk';
/** This server's first nameserver, as an SOA MNAME. */
const OUR_SOA = `${SERVER.nameservers[0]}.`;

/** Called around every UAPI / WHM API call (module 'WHM' for WHM) and before every `plesk bin` call. */
export interface Hooks {
  api?: (module: string, func: string, when: 'before' | 'after') => void;
  cli?: (utility: string, params: string[]) => void;
  /** Before each applyChanges reaches the adapter: after core's last read of the zone. */
  beforeWrite?: () => void;
}

/** The usual zone of a hosted domain: NS, A, MX, www, a site-verification TXT and an SRV record (last). */
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

/** The emulators' fixture reduced to one domain, with this server's settings (scenario.ts SERVER) and DKIM key. */
export function serverFixture(records: FixtureRecord[], domain = DOMAIN): Fixture {
  const f = makeFixture();
  const key = rsaKey();
  f.hostname = SERVER.hostname;
  f.mailIp = SERVER.ips[0];
  f.nameservers = [...SERVER.nameservers];
  f.dkim = { privateKeyPem: key.privatePem, publicKey: key.publicB64 };
  f.zones = { [domain]: records };
  return f;
}

/** The outside world (scenario.ts's WORLD) as a map, without its SOA records. */
export function worldMap(): ZoneMap {
  const served: Record<string, Record<string, unknown>> = {};
  addZoneFile(served, WORLD, '');
  const out: ZoneMap = {};
  for (const [name, data] of Object.entries(served)) {
    const { SOA: _soa, ...rest } = data;
    out[name] = rest as ZoneMap[string];
  }
  return out;
}

/**
 * Public DNS: the world plus the panel's zone as last served. With `authoritative`, the zone's nameservers answer the
 * same (resolveAt), so a write is verified `yes`; without, there is nothing to ask them with and it stays `propagating`.
 */
export class LiveResolver implements Resolver {
  private inner = new MapResolver({});
  readonly resolveAt?: Resolver['resolveAt'];
  constructor(
    private readonly world: ZoneMap = worldMap(),
    opts: { authoritative?: boolean } = {},
  ) {
    if (opts.authoritative) this.resolveAt = (_servers, name, type) => this.inner.resolve(name, type);
  }
  serve(zone: Zone): void {
    this.inner = new MapResolver({ ...this.world, ...zoneToMap(zone) });
  }
  resolve<T extends RRType>(name: string, type: T): Promise<Answer<T>> {
    return this.inner.resolve(name, type);
  }
}

/**
 * The adapter as core sees it: public DNS re-served from its zone after every write and DKIM key step (as a local
 * authority's nameservers reload), `hooks.beforeWrite` called before each write. Offers the DKIM calls the adapter has.
 */
export class LivePanel implements Panel {
  readonly kind: string;
  readonly capabilities: Panel['capabilities'];
  /** Zone writes that succeeded. */
  writes = 0;
  readonly generateDkim?: Panel['generateDkim'];
  readonly startDkimSigning?: Panel['startDkimSigning'];
  constructor(
    readonly inner: Panel,
    readonly resolver: LiveResolver,
    private readonly hooks: Hooks = {},
    /** The domain whose zone is re-served (scenario.ts's DOMAIN unless given). */
    private readonly domain: string = DOMAIN,
  ) {
    this.kind = inner.kind;
    this.capabilities = inner.capabilities;
    if (inner.generateDkim) this.generateDkim = (d) => this.after(inner.generateDkim!(d));
    if (inner.startDkimSigning) this.startDkimSigning = (d) => this.after(inner.startDkimSigning!(d));
  }
  async refresh(): Promise<void> {
    this.resolver.serve(await this.inner.readZone(this.domain));
  }
  private async after<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } finally {
      await this.refresh();
    }
  }
  listAccounts: Panel['listAccounts'] = () => this.inner.listAccounts();
  listDomains: Panel['listDomains'] = (i) => this.inner.listDomains(i);
  readZone: Panel['readZone'] = (d) => this.inner.readZone(d);
  readMailSettings: Panel['readMailSettings'] = (d) => this.inner.readMailSettings(d);
  applyChanges: Panel['applyChanges'] = (domain, changes, v) => {
    this.hooks.beforeWrite?.();
    return this.after(
      this.inner.applyChanges(domain, changes, v).then((r) => {
        this.writes++;
        return r;
      }),
    );
  };
}

export interface EmulatorOptions {
  /** The server has a DKIM key for the domain (default true). Without: the DKIM fix has the panel generate one. */
  serverKey?: boolean;
  /** cPanel/WHM: the SOA MNAME (default this server's first nameserver). Plesk's REST API lists no SOA. */
  soaMname?: string;
  /** Mail relays through MailChannels with scenario.ts's account id: Exim's smarthost, Postfix's relayhost. */
  mailchannels?: boolean;
  hooks?: Hooks;
}

export interface Emulator {
  /** The real adapter, talking to the emulator over loopback HTTP. */
  panel: Panel;
  server: RunningServer;
  cp?: CpState;
  pl?: PleskState;
}

/** One panel's emulator serving `f`, and its adapter; the server's files (keys, mail settings) under `root`. */
export async function startEmulator(kind: Kind, f: Fixture, root: string, opts: EmulatorOptions = {}): Promise<Emulator> {
  const hooks = opts.hooks ?? {};
  const serverKey = opts.serverKey ?? true;
  const http = (url: string, headers: Record<string, string>) => new PanelHttpClient({ baseUrl: url, headers });
  if (kind === 'cpanel' || kind === 'whm') {
    const cp = makeCpState(f);
    for (const zone of Object.values(cp.zones)) {
      const soa = zone.lines.find((l) => l?.kind === 'record' && l.type === 'SOA');
      if (soa?.kind === 'record') soa.data[0] = opts.soaMname ?? OUR_SOA;
    }
    // Serials from a fixed date, not today's.
    cp.serialDate = '20270301';
    if (!serverKey) {
      cp.dkimDomains = [];
      cp.validityCache = [];
    }
    const server = kind === 'cpanel' ? await startCpanelServer(cp) : await startWhmServer(cp);
    // writeCpanelServerFiles' own MailChannels login is "myhostingco": the scenario's account id instead.
    const localopts = opts.mailchannels
      ? `smarthost_routelist=* smtp.mailchannels.net::587\nsmarthost_auth_required=1\nsmarthost_username=${MAILCHANNELS.authId}\nspf_include_hosts=relay.mailchannels.net\n`
      : undefined;
    writeCpanelServerFiles(cp, root, { localopts });
    cp.serverRoot = root;
    if (kind === 'cpanel') {
      const ut = new UapiHttp(http(server.url, { authorization: 'cpanel alice:tok-alice' }));
      const transport = {
        label: ut.label,
        call: async (m: string, fn: string, p: [string, string][]) => {
          hooks.api?.(m, fn, 'before');
          const res = await ut.call(m, fn, p);
          hooks.api?.(m, fn, 'after');
          return res;
        },
      };
      return { panel: new CpanelPanel({ transport, user: 'alice', owner: 'res1', hostname: SERVER.hostname, root }), server, cp };
    }
    const wt = new WhmHttp(http(server.url, { authorization: 'whm root:tok-root' }));
    const transport = {
      call: async (fn: string, p: [string, string][] = []) => {
        hooks.api?.('WHM', fn, 'before');
        const res = await wt.call(fn, p);
        hooks.api?.('WHM', fn, 'after');
        return res;
      },
    };
    return { panel: new WhmPanel({ transport, user: 'root', root }), server, cp };
  }
  // Plesk: outgoing mail from the server's IP (explicit-ip mode), the DKIM key in /etc/domainkeys.
  const pl = makePleskState(f);
  pl.outgoingMode = 'explicit-ip';
  pl.explicitIpv4 = SERVER.ips[0];
  const server = await startPleskServer(pl);
  mkdirSync(root, { recursive: true });
  pl.root = root; // where turning signing on writes the key
  if (serverKey) writePleskKeys(pl, root);
  else for (const d of Object.keys(f.zones)) pl.mailPrefs[d] = { sign: false, mailservice: true };
  if (opts.mailchannels) {
    mkdirSync(join(root, 'etc/postfix'), { recursive: true });
    writeFileSync(join(root, 'etc/postfix/main.cf'), 'relayhost = [smtp.mailchannels.net]:587\n');
  }
  const rest = http(server.url, { 'x-api-key': pl.apiKey });
  const real = new PleskRestCli(rest);
  const cli = {
    run: async (u: string, p: string[]) => {
      hooks.cli?.(u, p);
      return real.run(u, p);
    },
  };
  return { panel: new PleskPanel({ rest, apiKey: pl.apiKey, cli, root }), server, pl };
}

export interface LiveRig {
  panel: LivePanel;
  resolver: LiveResolver;
  store: Store;
  /** What applyPlan and undoChange are given: this panel, its public DNS and history, acting as root, FIXED as now. */
  deps(extra?: Partial<ApplyDeps>): ApplyDeps;
  /** The zone's records other than the SOA, as `name type ttl text` (TXT strings joined), sorted. */
  records(): Promise<string[]>;
}

/** An adapter with its public DNS (served its zone now) and a history store at `dbPath` with the fixed clock. */
export async function liveRig(inner: Panel, dbPath: string, opts: { world?: ZoneMap; authoritative?: boolean; hooks?: Hooks } = {}): Promise<LiveRig> {
  const resolver = new LiveResolver(opts.world ?? worldMap(), { authoritative: opts.authoritative });
  const panel = new LivePanel(inner, resolver, opts.hooks);
  await panel.refresh();
  const store = openStore(dbPath, { now: () => FIXED.getTime() });
  return {
    panel,
    resolver,
    store,
    // lockWaitMs 0: a lock held by someone else is refused at once, never waited for on the clock.
    deps: (extra = {}) => ({ panel, resolver, history: store, byUser: 'root', now: () => FIXED, lockWaitMs: 0, ...extra }),
    async records() {
      const z = await inner.readZone(DOMAIN);
      return z.records
        .filter((x) => x.type !== 'SOA')
        .map((x) => `${x.name} ${x.type} ${x.ttl} ${x.txt ? x.txt.join('') : x.value}`)
        .sort();
    },
  };
}

export interface Rig extends LiveRig {
  kind: Kind;
  /** Set them at any time: they are read at each call. */
  hooks: Hooks;
  /** The emulator's state (cPanel/WHM or Plesk), to edit the zone "as someone else". */
  cp?: CpState;
  pl?: PleskState;
  close(): Promise<void>;
}

/** One panel with DOMAIN's zone = `records`. `noServerKey`: no DKIM key on the server (the DKIM fix has one made). */
export async function makeRig(kind: Kind, records: FixtureRecord[], opts: { noServerKey?: boolean } = {}): Promise<Rig> {
  const tmp = mkdtempSync(join(tmpdir(), 'mh-rig-'));
  const hooks: Hooks = {};
  const emu = await startEmulator(kind, serverFixture(records), join(tmp, 'root'), { serverKey: !opts.noServerKey, hooks });
  const rig = await liveRig(emu.panel, join(tmp, 'h.sqlite'), { hooks });
  return {
    ...rig,
    kind,
    hooks,
    cp: emu.cp,
    pl: emu.pl,
    async close() {
      rig.store.close();
      await emu.server.close();
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
