// Scenario builder for audit tests: a files panel written into a temp dir from a small spec, plus a loopback DNS
// server serving the "outside world" and (by default) the panel's own zones, and a wire resolver pointed at it.
import { generateKeyPairSync, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createResolver, type WireResolver } from '../../src/adapters/dns/resolver.js';
import { startDnsServer, type DnsServer, type ServedData, type ServedZoneMap } from '../../src/adapters/dns/server.js';
import { FilesPanel, type FilesPanelAccount, type FilesPanelServer } from '../../src/adapters/panels/files/index.js';
import { auditDomain } from '../../src/core/audit.js';
import type { AuditOptions } from '../../src/core/checks/context.js';
import type { DomainAudit, Finding } from '../../src/core/model.js';
import { addZoneFile } from '../../src/demo/world.js';

export const SERVER: FilesPanelServer = {
  hostname: 'server1.newhost.example',
  ips: ['203.0.113.10'],
  helo: 'server1.newhost.example',
  nameservers: ['ns1.newhost.example', 'ns2.newhost.example'],
  dkimSelector: 'default',
  relay: null,
};
export const MAILCHANNELS = { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' };

/**
 * The outside world every scenario sees. Provider records are small stand-ins written for the tests.
 * 198.51.100.77 deliberately has no PTR (an unknown IP).
 */
export const WORLD = `$ORIGIN .
$TTL 300
newhost.example.              NS   ns1.newhost.example.
ns1.newhost.example.          A    203.0.113.53
ns2.newhost.example.          A    203.0.113.54
server1.newhost.example.      A    203.0.113.10
10.113.0.203.in-addr.arpa.    PTR  server1.newhost.example.
relay.mailchannels.net.       TXT  "v=spf1 ip4:23.83.208.0/20 ~all"
_spf.google.com.              TXT  "v=spf1 include:_netblocks.google.com ~all"
_netblocks.google.com.        TXT  "v=spf1 ip4:35.190.247.0/24 ip4:64.233.160.0/19 ~all"
aspmx.l.google.com.           A    142.250.1.26
websitewelcome.com.           TXT  "v=spf1 ip4:192.185.0.0/16 ~all"
ns1.hostgator.com.            A    192.0.2.53
ns2.hostgator.com.            A    192.0.2.54
gator4000.hostgator.com.      A    192.185.1.10
10.1.185.192.in-addr.arpa.    PTR  gator4000.hostgator.com.
spf.oldprovider.test.         TXT  "v=spf1 ip4:192.0.2.128/25 ~all"
spf.soaprovider.test.         TXT  "v=spf1 ip4:192.0.2.64/26 ~all"
`;

/** One RSA key pair per size per process (key generation is the slow part). */
const keyCache = new Map<number, { privatePem: string; publicB64: string; key: KeyObject }>();
export function rsaKey(bits = 2048): { privatePem: string; publicB64: string } {
  let k = keyCache.get(bits);
  if (!k) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
    k = {
      privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicB64: createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('base64'),
      key: privateKey,
    };
    keyCache.set(bits, k);
  }
  return { privatePem: k.privatePem, publicB64: k.publicB64 };
}
/** A second, different 2048-bit key (the "previous host's"). */
let otherKey: { privatePem: string; publicB64: string } | null = null;
export function otherRsaKey(): { privatePem: string; publicB64: string } {
  if (!otherKey) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    otherKey = {
      privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicB64: createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('base64'),
    };
  }
  return otherKey;
}

/** A DKIM TXT as zone-file rdata, split into quoted strings of at most 255 bytes. */
export function dkimRdata(publicB64: string, extra = ''): string {
  const txt = `v=DKIM1; k=rsa;${extra ? ` ${extra};` : ''} p=${publicB64}`;
  const parts: string[] = [];
  for (let i = 0; i < txt.length; i += 250) parts.push(txt.slice(i, i + 250));
  return `( ${parts.map((p) => `"${p}"`).join(' ')} )`;
}

export interface ZoneParts {
  /** Apex SPF TXT rdata (quoted), or null for none. Default authorises this server. */
  spf?: string | null;
  /** _dmarc TXT rdata (quoted), or null. */
  dmarc?: string | null;
  /** default._domainkey rdata (TXT, quoted) or null; default: the server's 2048-bit key. */
  dkim?: string | null;
  /** MX lines (rdata), default ["10 mail"]. */
  mx?: string[];
  /** mail.<domain> A; default this server. */
  mailA?: string;
  /** Apex NS rdata; default this server's nameservers. */
  ns?: string[];
  soaMname?: string;
  /** Extra zone lines. */
  extra?: string[];
}

/** A panel zone file for a domain: this server's clean setup unless parts say otherwise. */
export function zoneText(p: ZoneParts = {}): string {
  const lines = [
    '$TTL 3600',
    `@\tIN\tSOA\t${p.soaMname ?? 'ns1.newhost.example.'} hostmaster.newhost.example. ( 2024010101 3600 1800 1209600 300 )`,
    ...(p.ns ?? ['ns1.newhost.example.', 'ns2.newhost.example.']).map((n) => `@\tIN\tNS\t${n}`),
    '@\tIN\tA\t203.0.113.10',
    `mail\tIN\tA\t${p.mailA ?? '203.0.113.10'}`,
    ...(p.mx ?? ['10 mail']).map((m) => `@\tIN\tMX\t${m}`),
  ];
  const spf = p.spf === undefined ? '"v=spf1 a mx ip4:203.0.113.10 -all"' : p.spf;
  if (spf !== null) lines.push(`@\tIN\tTXT\t${spf}`);
  const dmarc = p.dmarc === undefined ? '"v=DMARC1; p=quarantine; rua=mailto:dmarc@{DOMAIN}"' : p.dmarc;
  if (dmarc !== null) lines.push(`_dmarc\tIN\tTXT\t${dmarc}`);
  const dkim = p.dkim === undefined ? dkimRdata(rsaKey().publicB64) : p.dkim;
  if (dkim !== null) lines.push(`default._domainkey\tIN\tTXT\t${dkim}`);
  lines.push(...(p.extra ?? []));
  return lines.join('\n') + '\n';
}

export interface DomainSpec {
  /** Panel zone text ({DOMAIN} is replaced by the domain). Default: zoneText(). */
  zone?: string;
  /** What live DNS serves instead of the panel's zone (a zone text), or false for nothing at all. */
  live?: string | false;
  /** Private key PEM the server signs with; default the 2048-bit test key; null = none. */
  pem?: string | null;
  overrides?: { mailRouting?: 'local' | 'remote'; dkim?: boolean; ips?: string[] };
}

export interface ScenarioSpec {
  server?: Partial<FilesPanelServer>;
  accounts?: FilesPanelAccount[];
  domains: Record<string, DomainSpec>;
  /** Extra world zone text (absolute names). */
  world?: string;
  /** Served data merged over everything (e.g. TIMEOUT flags). */
  extra?: ServedZoneMap;
  resolver?: { timeoutMs?: number; tries?: number };
}

export interface Scenario {
  root: string;
  panel: FilesPanel;
  dns: DnsServer;
  resolver: WireResolver;
  served: ServedZoneMap;
  audit(domain: string, options?: AuditOptions): Promise<DomainAudit>;
  cleanup(): Promise<void>;
}

export function writePanel(root: string, spec: ScenarioSpec): void {
  const domains = Object.keys(spec.domains);
  const cfg = {
    server: { ...SERVER, ...spec.server },
    accounts: spec.accounts ?? [
      { user: 'root', role: 'admin' },
      { user: 'alice', role: 'customer', domains },
    ],
  };
  for (const d of ['zones', 'dkim', 'domains']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'panel.json'), JSON.stringify(cfg, null, 2));
  for (const [domain, d] of Object.entries(spec.domains)) {
    writeFileSync(join(root, 'zones', `${domain}.db`), (d.zone ?? zoneText()).replaceAll('{DOMAIN}', domain));
    const pem = d.pem === undefined ? rsaKey().privatePem : d.pem;
    if (pem) writeFileSync(join(root, 'dkim', `${domain}.pem`), pem);
    if (d.overrides) writeFileSync(join(root, 'domains', `${domain}.json`), JSON.stringify(d.overrides));
  }
}

export function servedMap(spec: ScenarioSpec): ServedZoneMap {
  const map: ServedZoneMap = {};
  addZoneFile(map, WORLD + (spec.world ?? ''), '');
  for (const [domain, d] of Object.entries(spec.domains)) {
    if (d.live === false) continue;
    addZoneFile(map, (d.live ?? d.zone ?? zoneText()).replaceAll('{DOMAIN}', domain), domain);
  }
  for (const [name, data] of Object.entries(spec.extra ?? {})) {
    const key = name.toLowerCase();
    map[key] = { ...(map[key] ?? {}), ...data } as ServedData;
  }
  return map;
}

export async function scenario(spec: ScenarioSpec): Promise<Scenario> {
  const root = mkdtempSync(join(tmpdir(), 'mailhealth-scenario-'));
  writePanel(root, spec);
  const served = servedMap(spec);
  const dns = await startDnsServer({ data: served });
  const resolver = createResolver({ servers: [dns.address], timeoutMs: spec.resolver?.timeoutMs ?? 1000, tries: spec.resolver?.tries ?? 2 });
  const panel = new FilesPanel(root);
  return {
    root,
    panel,
    dns,
    resolver,
    served,
    audit: (domain, options) => auditDomain(domain, { panel, resolver, ...(options ? { options } : {}) }),
    async cleanup() {
      await dns.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Findings of a rule (optionally with a subject). */
export function findings(a: DomainAudit, rule: string, subject?: string): Finding[] {
  return a.findings.filter((f) => f.rule === rule && (subject === undefined || f.subject === subject));
}

export function rules(a: DomainAudit): string[] {
  return a.findings.map((f) => `${f.severity} ${f.rule}${f.subject ? ` [${f.subject}]` : ''}`);
}
