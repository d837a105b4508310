// A Plesk emulator with a misbehaving REST client and `plesk bin` transport in front of it (QA h3): the real adapter
// talks to the emulator through a client whose `faults` may answer a request themselves (after letting it through, or
// not), and through a CLI transport whose `cli` faults may do the same to a `plesk bin` call. A second adapter goes
// straight to the emulator, for what is really in the zone; public DNS serves the emulator's zone as it is at each
// question (so a write verifies `yes` once it is there). Loopback only, any free port; no timing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PanelHttpClient, type CommandResult, type HttpRequest, type HttpResponse } from '../../../../src/adapters/panels/http.js';
import { PleskPanel, PleskRestCli, type PleskCliTransport } from '../../../../src/adapters/panels/plesk/index.js';
import { openStore, type Store } from '../../../../src/adapters/store/store.js';
import { auditDomain } from '../../../../src/core/audit.js';
import type { DomainAudit } from '../../../../src/core/model.js';
import type { ApplyDeps } from '../../../../src/core/plans/apply.js';
import type { Answer, Resolver, RRType } from '../../../../src/core/resolver.js';
import type { RunningServer } from '../../../helpers/emulators/cpanel.js';
import type { FixtureRecord } from '../../../helpers/emulators/fixture.js';
import { liveOf, makePleskState, recordsOf, startPleskServer, type PleskState } from '../../../helpers/emulators/plesk.js';
import { DOMAIN, FIXED, serverFixture, worldMap } from '../../../helpers/emulators/rig.js';
import { otherRsaKey, rsaKey, SERVER } from '../../../helpers/scenario.js';

export { DOMAIN, FIXED };

/** A REST fault: answers `req` itself (`pass` lets it through to the emulator and gives its answer), or null to let it be. */
export type RestFault = (req: HttpRequest, pass: () => Promise<HttpResponse>) => Promise<HttpResponse> | HttpResponse | null;
/** A `plesk bin` fault: answers the call itself (`pass` runs it on the emulator), or null to let it be. */
export type CliFault = (utility: string, params: string[], pass: () => Promise<CommandResult>) => Promise<CommandResult> | CommandResult | null;

class FaultyClient extends PanelHttpClient {
  constructor(
    url: string,
    apiKey: string,
    private readonly faults: RestFault[],
  ) {
    super({ baseUrl: url, label: 'Plesk', headers: { 'x-api-key': apiKey } });
  }
  override async request(req: HttpRequest): Promise<HttpResponse> {
    const pass = () => super.request(req);
    for (const f of this.faults) {
      const out = f(req, pass);
      if (out) return out;
    }
    return pass();
  }
}

/** A JSON answer. */
export const json = (status: number, body: unknown): HttpResponse => ({ status, text: JSON.stringify(body), json: body });
/** An HTML (or other non-JSON) answer. */
export const page = (status: number, text: string): HttpResponse => ({ status, text, json: undefined });

/** A healthy domain: SPF naming this server, the server's DKIM key published, DMARC. */
export function healthyRecords(d = DOMAIN): FixtureRecord[] {
  const key = `v=DKIM1; k=rsa; p=${rsaKey().publicB64}`;
  return [
    { name: d, ttl: 86400, type: 'NS', data: ['ns1.newhost.example.'] },
    { name: d, ttl: 86400, type: 'NS', data: ['ns2.newhost.example.'] },
    { name: d, ttl: 14400, type: 'A', data: ['203.0.113.10'] },
    { name: d, ttl: 14400, type: 'MX', data: ['10', `mail.${d}.`] },
    { name: `mail.${d}`, ttl: 14400, type: 'A', data: ['203.0.113.10'] },
    { name: d, ttl: 14400, type: 'TXT', data: ['v=spf1 +a +mx ~all'] },
    { name: `_dmarc.${d}`, ttl: 14400, type: 'TXT', data: ['v=DMARC1; p=none; rua=mailto:dmarc@alice.example'] },
    { name: `default._domainkey.${d}`, ttl: 3600, type: 'TXT', data: [key.slice(0, 255), key.slice(255)] },
  ];
}

/** The customer's SPF before the fix: a previous host's include next to Google's. The SPF fix drops the old include. */
export const OLD_SPF = 'v=spf1 +a +mx include:websitewelcome.com include:_spf.google.com ~all';
export const NEW_SPF = 'v=spf1 +a +mx include:_spf.google.com ~all';

/** A domain after a migration: SPF with the old host's include next to Google's, the old host's DKIM key. */
export function migratedRecords(d = DOMAIN): FixtureRecord[] {
  const old = `v=DKIM1; k=rsa; p=${otherRsaKey().publicB64}`;
  return [
    ...healthyRecords(d).filter((r) => !(r.type === 'TXT' && (r.name === d || r.name.startsWith('default._domainkey.') || r.name.startsWith('_dmarc.')))),
    { name: d, ttl: 14400, type: 'TXT', data: ['google-site-verification=tok'] },
    { name: d, ttl: 14400, type: 'TXT', data: [OLD_SPF] },
    { name: `default._domainkey.${d}`, ttl: 3600, type: 'TXT', data: [old.slice(0, 255), old.slice(255)] },
  ];
}

export interface World {
  state: PleskState;
  /** The adapter behind the faults. */
  panel: PleskPanel;
  /** The adapter straight to the emulator. */
  direct: PleskPanel;
  /** REST faults, tried in order on every request of `panel`: change them between calls. */
  rest: RestFault[];
  /** `plesk bin` faults, tried in order on every call of `panel`. */
  cli: CliFault[];
  resolver: Resolver;
  store: Store;
  deps(): ApplyDeps;
  audit(): Promise<DomainAudit>;
  /** The SPF records of DOMAIN as the emulator holds them. */
  spf(): string[];
  close(): Promise<void>;
}

export async function pleskWorld(records: FixtureRecord[]): Promise<World> {
  const state = makePleskState(serverFixture(records));
  state.outgoingMode = 'explicit-ip';
  state.explicitIpv4 = SERVER.ips[0];
  const srv: RunningServer = await startPleskServer(state);
  const rest: RestFault[] = [];
  const cliFaults: CliFault[] = [];
  const client = new FaultyClient(srv.url, state.apiKey, rest);
  const inner = new PleskRestCli(client);
  const cli: PleskCliTransport = {
    run(utility, params) {
      const pass = () => inner.run(utility, params);
      for (const f of cliFaults) {
        const out = f(utility, params, pass);
        if (out) return Promise.resolve(out);
      }
      return pass();
    },
  };
  const panel = new PleskPanel({ rest: client, apiKey: state.apiKey, cli, root: null });
  const plain = new PanelHttpClient({ baseUrl: srv.url, label: 'Plesk', headers: { 'x-api-key': state.apiKey } });
  const direct = new PleskPanel({ rest: plain, apiKey: state.apiKey, cli: new PleskRestCli(plain), root: null });
  // Public DNS: the world, and the emulator's zone as it is at each question (its nameservers answer the same).
  const ask = <T extends RRType>(name: string, type: T): Promise<Answer<T>> => liveOf(state, DOMAIN, worldMap()).resolve(name, type);
  const resolver: Resolver = { resolve: ask, resolveAt: (_servers, name, type) => ask(name, type) };
  const tmp = mkdtempSync(join(tmpdir(), 'mh-plesk-world-'));
  const store = openStore(join(tmp, 'h.sqlite'), { now: () => FIXED.getTime() });
  return {
    state,
    panel,
    direct,
    rest,
    cli: cliFaults,
    resolver,
    store,
    deps: () => ({ panel, resolver, history: store, byUser: 'root', now: () => FIXED, lockWaitMs: 0 }),
    audit: () => auditDomain(DOMAIN, { panel, resolver, now: () => FIXED }),
    spf: () =>
      recordsOf(state, DOMAIN)
        .filter((r) => r.type === 'TXT' && r.host === `${DOMAIN}.` && r.value.startsWith('v=spf1'))
        .map((r) => r.value)
        .sort(),
    async close() {
      store.close();
      await srv.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
