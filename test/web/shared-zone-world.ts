// Helpers for the bulk fix tests over the cPanel/WHM emulator: a WHM-backed app (reseller res1 logged in), live DNS
// that serves the emulator's zones as they are now (a write is public at once, as when the nameservers reload), and
// reading the preview form's plan values.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PanelHttpClient } from '../../src/adapters/panels/http.js';
import { WhmHttp, WhmPanel } from '../../src/adapters/panels/whm/index.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { canonName } from '../../src/core/domain.js';
import type { Panel } from '../../src/core/panel.js';
import type { Answer, RRType, Resolver } from '../../src/core/resolver.js';
import { createApp, type AppDeps, type MailhealthApp } from '../../src/web/app.js';
import { makeCpState, zoneOfName, zoneView, type CpState, type RunningServer } from '../helpers/emulators/cpanel.js';
import { makeFixture, type Fixture } from '../helpers/emulators/fixture.js';
import { startWhmServer, writeCpanelServerFiles } from '../helpers/emulators/whm.js';
import { MapResolver, type ZoneMap } from '../helpers/map-resolver.js';
import { login, NO_LIMITS, setPasswords, type Session } from './helpers.js';

export interface WhmWorld {
  state: CpState;
  store: Store;
  /** The panel the app acts through (wrapped as asked) and its live DNS: what a server over this world needs. */
  panel: Panel;
  makeResolver: () => Resolver;
  app: MailhealthApp;
  /** The reseller res1 (alice's and bob's reseller), logged in. */
  res1: Session;
  /** A new app over the same server and database, res1 logged in again (mailhealth restarted). */
  restart(): Promise<{ app: MailhealthApp; res1: Session }>;
  close(): Promise<void>;
}

/**
 * The emulators' fixture (or `f`) served by the WHM API 1 emulator on loopback, every zone at serial 2024061100; the
 * server files with MailChannels as the relay; an app over WhmPanel (root's token) with a fresh SQLite history.
 */
export async function whmWorld(opts: { fixture?: Fixture; wrapPanel?: (p: Panel) => Panel; app?: Partial<AppDeps> } = {}): Promise<WhmWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'mh-bulk-whm-'));
  const state = makeCpState(opts.fixture ?? makeFixture());
  const srv: RunningServer = await startWhmServer(state);
  writeCpanelServerFiles(state, dir, { mailchannels: true });
  const store = openStore(join(dir, 'db.sqlite'));
  await setPasswords(store, ['res1']);
  const client = new PanelHttpClient({ baseUrl: srv.url, label: 'WHM', headers: { authorization: 'whm root:tok-root' } });
  const whm = new WhmPanel({ transport: new WhmHttp(client), user: 'root', root: dir });
  const panel = opts.wrapPanel ? opts.wrapPanel(whm) : whm;
  const makeResolver = () => cpanelLive(state);
  const newApp = () => createApp({ panel, store, makeResolver, identityFrom: 'session', rateLimits: NO_LIMITS, ...opts.app });
  const app = newApp();
  return {
    state,
    store,
    panel,
    makeResolver,
    app,
    res1: await login(app, 'res1'),
    async restart() {
      const again = newApp();
      return { app: again, res1: await login(again, 'res1') };
    },
    async close() {
      store.close();
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The rest of the world the fixture's domains refer to (the server, the old host's and the relay's SPF). */
function world(state: CpState): ZoneMap {
  return {
    [state.hostname]: { A: [state.mailIp] },
    [state.mailIp.split('.').reverse().join('.') + '.in-addr.arpa']: { PTR: [state.hostname] },
    ...Object.fromEntries(state.nameservers.map((n, i) => [n, { A: [`203.0.113.${53 + i}`] }])),
    'websitewelcome.com': { TXT: [['v=spf1 ip4:192.185.0.0/16 ~all']] },
    'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ~all']] },
  };
}

/** Every zone of the emulator as an authoritative server answers it now. */
function zonesNow(state: CpState): ZoneMap {
  const map: ZoneMap = world(state);
  for (const zone of Object.keys(state.zones)) {
    for (const r of zoneView(state, zone)) {
      if (r.type === 'SOA') continue;
      const e = (map[canonName(r.name)] ??= {}) as Record<string, unknown[]>;
      const strip = (s: string) => canonName(s);
      const v = r.type === 'TXT' ? [...r.data] : r.type === 'MX' ? { priority: Number(r.data[0]), exchange: strip(r.data[1]) } : strip(r.data[0]);
      (e[r.type] ??= []).push(v);
    }
  }
  return map;
}

/** Live DNS = the emulator's zones as they are at each question. */
export function cpanelLive(state: CpState): Resolver {
  const now = () => new MapResolver(zonesNow(state));
  return {
    resolve: <T extends RRType>(name: string, type: T): Promise<Answer<T>> => now().resolve(name, type),
    resolveAt: <T extends RRType>(_servers: string[], name: string, type: T): Promise<Answer<T>> => now().resolve(name, type),
  };
}

/** The records of the zone that holds `domain` (absolute names). */
export function serverRecords(state: CpState, domain: string) {
  return zoneView(state, zoneOfName(state, domain)!);
}

/** The `domain|planHash` values of a bulk preview page's ticked boxes, in page order. */
export function planValues(html: string): string[] {
  return [...html.matchAll(/name="plan" value="([^"]+)"/g)].map((m) => m[1].replace(/&#124;/g, '|'));
}

/** Zone reads wait while the gate is shut: the job's domains stop where the test wants them. */
export class Gate {
  private shut = false;
  private held: (() => void)[] = [];
  private watchers: { n: number; resolve: () => void }[] = [];
  wrap = (target: Panel): Panel =>
    new Proxy(target, {
      get: (t, prop) => {
        const v = (t as unknown as Record<string | symbol, unknown>)[prop];
        if (prop !== 'readZone') return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
        return async (domain: string) => {
          if (this.shut) {
            await new Promise<void>((resolve) => {
              this.held.push(resolve);
              for (const w of this.watchers.filter((x) => this.held.length >= x.n)) w.resolve();
            });
          }
          return t.readZone(domain);
        };
      },
    });
  close(): void {
    this.shut = true;
  }
  open(): void {
    this.shut = false;
    for (const release of this.held.splice(0)) release();
  }
  /** Resolves once `n` zone reads are waiting at the gate. */
  waiting(n: number): Promise<void> {
    if (this.held.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push({ n, resolve }));
  }
}
