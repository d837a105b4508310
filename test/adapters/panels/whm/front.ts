// A WHM emulator behind a misbehaving front (QA h3): the real adapter (off the server: WhmHttp, no server files) talks
// to the front, which forwards every WHM API 1 call to the emulator except the ones a rule picks, and answers those
// itself — the emulator's envelope rewritten, or a status and body of its own (an error page). A second adapter goes
// straight to the emulator, for what is really in the zone; public DNS serves that zone. Loopback only, any free port.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import { WhmHttp, WhmPanel } from '../../../../src/adapters/panels/whm/index.js';
import { openStore, type Store } from '../../../../src/adapters/store/store.js';
import { auditDomain } from '../../../../src/core/audit.js';
import type { DomainAudit } from '../../../../src/core/model.js';
import type { ApplyDeps } from '../../../../src/core/plans/apply.js';
import { makeCpState, type CpState, type RunningServer } from '../../../helpers/emulators/cpanel.js';
import type { FixtureRecord } from '../../../helpers/emulators/fixture.js';
import { DOMAIN, FIXED, LiveResolver, serverFixture } from '../../../helpers/emulators/rig.js';
import { startWhmServer } from '../../../helpers/emulators/whm.js';
import { otherRsaKey, rsaKey, SERVER } from '../../../helpers/scenario.js';

export { DOMAIN, FIXED };

export interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/**
 * A rule: the WHM function it picks (`get_domain_info`), or a UAPI function called through `uapi_cpanel`
 * (`uapi:list_mxs`), and what the front answers instead.
 */
export interface Rule {
  func: string;
  answer: (upstream: () => Promise<Answer>) => Promise<Answer> | Answer;
}

/** The emulator's answer with its JSON rewritten by `edit` (which may change it in place or return a new one). */
export const rewrite =
  (edit: (json: any) => unknown) =>
  async (upstream: () => Promise<Answer>): Promise<Answer> => {
    const up = await upstream();
    const json = JSON.parse(up.body);
    const out = edit(json);
    return { status: up.status, body: JSON.stringify(out === undefined ? json : out), headers: { 'content-type': 'application/json' } };
  };

/** WHM's error envelope for a call that failed (result 0). */
export const failed = (reason = 'Internal error (whostmgr)') => rewrite((j) => ({ metadata: { ...j.metadata, result: 0, reason }, data: null }));

/** A fixed answer. */
export const respond = (status: number, body: string, headers: Record<string, string> = { 'content-type': 'text/html' }) => (): Answer => ({ status, body, headers });

async function startFront(upstream: string, rules: Rule[]): Promise<{ url: string; close(): Promise<void> }> {
  const forward = (req: http.IncomingMessage, body: Buffer) => (): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const up = http.request(new URL(req.url ?? '/', upstream), { method: req.method, headers: { ...req.headers, host: new URL(upstream).host } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: { 'content-type': String(res.headers['content-type'] ?? 'application/json') } }));
        res.on('error', reject);
      });
      up.on('error', reject);
      up.end(body);
    });
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const func = decodeURIComponent(/^\/json-api\/([^/?]+)/.exec(req.url ?? '')?.[1] ?? '');
    const name = func === 'uapi_cpanel' ? `uapi:${new URLSearchParams(body.toString('utf8')).get('cpanel.function') ?? ''}` : func;
    const rule = rules.find((r) => r.func === name);
    const answer = await (rule ? rule.answer(forward(req, body)) : forward(req, body)());
    res.writeHead(answer.status, answer.headers ?? {});
    res.end(answer.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

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

/** A domain after a migration: the old host's DKIM key published at the server's selector. */
export function migratedRecords(d = DOMAIN): FixtureRecord[] {
  const old = `v=DKIM1; k=rsa; p=${otherRsaKey().publicB64}`;
  return [...healthyRecords(d).filter((r) => !r.name.startsWith('default._domainkey.')), { name: `default._domainkey.${d}`, ttl: 3600, type: 'TXT', data: [old.slice(0, 255), old.slice(255)] }];
}

export interface World {
  cp: CpState;
  /** The adapter behind the front (WHM off the server). */
  panel: WhmPanel;
  /** The adapter straight to the emulator. */
  direct: WhmPanel;
  /** The front's rules: change them between calls. */
  rules: Rule[];
  /** The clock the adapter behind the front ages its domain list by (ms): move it past WhmPanel.INFO_TTL_MS. */
  clock: { now: number };
  resolver: LiveResolver;
  store: Store;
  deps(): ApplyDeps;
  audit(): Promise<DomainAudit>;
  /** The zone's records other than the SOA, as the emulator holds them. */
  records(): Promise<string[]>;
  close(): Promise<void>;
}

/** The emulator serving DOMAIN with `records`, the front applying `rules`, public DNS serving the zone as it is. */
export async function frontWorld(records: FixtureRecord[], rules: Rule[] = []): Promise<World> {
  const cp = makeCpState(serverFixture(records));
  cp.serialDate = '20270301';
  for (const zone of Object.values(cp.zones)) {
    const soa = zone.lines.find((l) => l?.kind === 'record' && l.type === 'SOA');
    if (soa?.kind === 'record') soa.data[0] = `${SERVER.nameservers[0]}.`;
  }
  const server: RunningServer = await startWhmServer(cp);
  const front = await startFront(server.url, rules);
  const clock = { now: 0 };
  const adapter = (url: string, now?: () => number) =>
    new WhmPanel({ transport: new WhmHttp(new PanelHttpClient({ baseUrl: url, label: 'WHM', headers: { authorization: 'whm root:tok-root' } })), user: 'root', root: null, ...(now ? { now } : {}) });
  const panel = adapter(front.url, () => clock.now);
  const direct = adapter(server.url);
  const resolver = new LiveResolver();
  resolver.serve(await direct.readZone(DOMAIN));
  const tmp = mkdtempSync(join(tmpdir(), 'mh-whm-front-'));
  const store = openStore(join(tmp, 'h.sqlite'), { now: () => FIXED.getTime() });
  return {
    cp,
    panel,
    direct,
    rules,
    clock,
    resolver,
    store,
    deps: () => ({ panel, resolver, history: store, byUser: 'root', now: () => FIXED, lockWaitMs: 0 }),
    audit: () => auditDomain(DOMAIN, { panel, resolver, now: () => FIXED }),
    async records() {
      const z = await direct.readZone(DOMAIN);
      return z.records
        .filter((x) => x.type !== 'SOA')
        .map((x) => `${x.name} ${x.type} ${x.ttl} ${x.txt ? x.txt.join('') : x.value}`)
        .sort();
    },
    async close() {
      store.close();
      await front.close();
      await server.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
