// The world of the model-based "never lose a record" test (model-sequences.test.ts): a seeded PRNG, post-migration zones
// generated with unrelated records around the mail ones, a files panel in a temp dir whose writes the loopback DNS server
// picks up, a real SQLite history, the model's record keys, and hand edits made the way a person edits a zone file.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createResolver, type WireResolver } from '../../../src/adapters/dns/resolver.js';
import type { DnsServer } from '../../../src/adapters/dns/server.js';
import { FilesPanel } from '../../../src/adapters/panels/files/index.js';
import { applyLineEdits, parseZoneFile, presentValue, renderRecordLine, type ParsedRecord } from '../../../src/adapters/panels/files/zonefile.js';
import { openStore, type Store } from '../../../src/adapters/store/store.js';
import { canonName } from '../../../src/core/domain.js';
import type { ZoneRecord } from '../../../src/core/model.js';
import type { ApplyDeps } from '../../../src/core/plans/apply.js';
import { buildWorld, DEMO_PANEL_DIR, DEMO_WORLD_DIR } from '../../../src/demo/world.js';
import type { Rng } from '../../helpers/prng.js';
// The seeded PRNG (mulberry32), shared with the fuzz tests.
export { prng, type Rng } from '../../helpers/prng.js';


export const TODAY = new Date('2027-03-01T12:00:00.000Z');
const DEMO_KEYS = ['bakery', 'clean', 'dentist', 'florist', 'lawyer', 'plumber'].map((d) => join(DEMO_PANEL_DIR, 'dkim', `${d}.example.pem`));

function publicKeyB64(pemPath: string): string {
  return createPublicKey(readFileSync(pemPath, 'utf8')).export({ type: 'spki', format: 'der' }).toString('base64');
}
function dkimLine(owner: string, ttl: string, pemPath: string): string {
  const v = `v=DKIM1; k=rsa; p=${publicKeyB64(pemPath)}`;
  const parts: string[] = [];
  for (let i = 0; i < v.length; i += 200) parts.push(`"${v.slice(i, i + 200)}"`);
  return `${owner}\t${ttl}IN\tTXT\t( ${parts.join(' ')} )`;
}

// ---- record keys: what the model compares (name, TTL, type, value; a TXT by its strings) ----

export function keyOf(r: { name: string; ttl: number; type: string; value: string; txt?: string[] }): string {
  const type = r.type.toUpperCase();
  return JSON.stringify([canonName(r.name), r.ttl, type, type === 'TXT' ? (r.txt ?? [r.value]) : r.value]);
}
export function parsedKey(r: ParsedRecord): string {
  return keyOf({ name: r.name, ttl: r.ttl, type: r.type, value: presentValue(r), ...(r.txt ? { txt: r.txt } : {}) });
}
/** The zone file's records as keys (the SOA left out: every write bumps its serial), sorted. */
export function zoneKeys(text: string, domain: string): string[] {
  return parseZoneFile(text, domain)
    .records.filter((r) => r.type !== 'SOA')
    .map(parsedKey)
    .sort();
}
export function zoneRecordKey(r: ZoneRecord): string {
  return keyOf(r);
}

// ---- zone generation ----

export interface Generated {
  domain: string;
  text: string;
  /** The demo key file this domain's server signs with. */
  key: string;
}

const SPF_LEFTOVERS = [
  'v=spf1 +a +mx include:websitewelcome.com ~all',
  'v=spf1 mx include:netblocks.dreamhost.com include:relay.mailchannels.net -all',
  'v=spf1 a mx include:bluehost.com ?all',
  'v=spf1 include:_spf.google.com include:websitewelcome.com ~all',
  'v=spf1 a mx include:relay.mailchannels.net ~all',
  'v=spf1 ip4:198.51.100.20 include:bluehost.com ~all',
];

function ttlField(rng: Rng): string {
  return rng.pick(['', '', '300\t', '600\t', '7200\t']);
}

/** A random unrelated record line (relative owners), n: a counter for distinct values. */
export function unrelatedLine(rng: Rng, domain: string, n: number): string {
  const t = ttlField(rng);
  switch (rng.int(11)) {
    case 0:
      return `@\t${t}IN\tA\t203.0.113.${10 + (n % 200)}`;
    case 1:
      return `www${n}\t${t}IN\tCNAME\t${domain}.`;
    case 2:
      return `@\t${t}IN\tAAAA\t2001:db8::${(n % 4000).toString(16)}`;
    case 3:
      return `ftp${n}\t${t}IN\tA\t203.0.113.${11 + (n % 200)}`;
    case 4:
      return `@\t${t}IN\tMX\t${10 + n}\tmail.${domain}.`;
    case 5:
      return `@\t${t}IN\tMX\t${20 + n}\taspmx.l.google.com.`;
    case 6:
      return `_sip._tcp\t${t}IN\tSRV\t10 60 ${5060 + n} sip.${domain}.`;
    case 7:
      return `@\t${t}IN\tCAA\t0 issue "letsencrypt.org"`;
    case 8:
      return `@\t${t}IN\tTXT\t"google-site-verification=tok${n}"`;
    case 9:
      return `_github-challenge-${n}\t${t}IN\tTXT\t"gh${n}"`;
    default:
      return `mail\t${t}IN\tA\t203.0.113.${10 + (n % 5)}`;
  }
}

/** A post-migration zone: leftovers of the previous host at the mail names, unrelated records around them. */
export function generateZone(rng: Rng, domain: string): Generated {
  const key = rng.pick(DEMO_KEYS);
  const lines: string[] = [
    `; ${domain} — generated by model-world.ts`,
    '$TTL 3600',
    '@\tIN\tSOA\tns1.newhost.example. hostmaster.newhost.example. (',
    '\t\t2026110101 ; serial',
    '\t\t3600 1800 1209600 300 )',
    '\tIN\tNS\tns1.newhost.example.',
    '\tIN\tNS\tns2.newhost.example.',
    '@\tIN\tA\t203.0.113.10',
  ];
  const body: string[] = [];
  for (let i = 0, n = 2 + rng.int(6); i < n; i++) body.push(unrelatedLine(rng, domain, i));
  // SPF: none, one, or two (the SPF fix merges them); one split over two strings now and then.
  const spfCount = rng.pick([0, 1, 1, 1, 2]);
  for (let i = 0; i < spfCount; i++) {
    const v = rng.pick(SPF_LEFTOVERS);
    const split = rng.chance(0.25) ? `"${v.slice(0, 12)}" "${v.slice(12)}"` : `"${v}"`;
    body.push(`@\t${ttlField(rng)}IN\tTXT\t${split}`);
  }
  const lock = rng.pick(['v=mc1 auth=dreamhost', 'v=mc1 auth=newhostmc', 'v=mc1 auth=hostgator', null, null]);
  if (lock) body.push(`_mailchannels\t${ttlField(rng)}IN\tTXT\t"${lock}"`);
  const dmarcOwner = rng.chance(0.2) ? '_DMARC' : '_dmarc';
  const dmarc = rng.pick(['v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@dreamhost.com', 'v=DMARC1; p=none', 'v=DMARC1; p=reject; rua=mailto:d@bluehost.com', null]);
  if (dmarc) body.push(`${dmarcOwner}\t${ttlField(rng)}IN\tTXT\t"${dmarc}"`);
  if (rng.chance(0.2)) body.push(`_dmarc\t${ttlField(rng)}IN\tTXT\t"site-verification=dm${rng.int(1000)}"`);
  const dkim = rng.pick(['same', 'other', 'other', 'none']);
  if (dkim !== 'none') body.push(dkimLine('default._domainkey', ttlField(rng), dkim === 'same' ? key : DEMO_KEYS.find((k) => k !== key)!));
  if (rng.chance(0.3)) body.push(dkimLine('dreamhost._domainkey', ttlField(rng), DEMO_KEYS[0]));
  // Shuffle the body (records of a name need not stand together).
  for (let i = body.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [body[i], body[j]] = [body[j], body[i]];
  }
  return { domain, text: [...lines, ...body].join('\n') + '\n', key };
}

// ---- hand edits: what a person does in an editor ----

/** The mail names a fix owns (TXT/CNAME there), as the model tracks them. */
export function ownedSlot(domain: string, r: { name: string; type: string }): string | null {
  const n = canonName(r.name);
  const t = r.type.toUpperCase();
  if (t !== 'TXT' && t !== 'CNAME') return null;
  if (n === domain) return t === 'TXT' ? `${n}|TXT` : null;
  if (n === `_dmarc.${domain}` || n === `_mailchannels.${domain}` || n === `default._domainkey.${domain}`) return `${n}|${t}`;
  return null;
}

export interface HandEdit {
  text: string;
  /** Keys removed from / added to the zone. */
  removed: string[];
  added: string[];
  /** Slots (name|type) the edit touched, for the model's "changed since". */
  slots: string[];
  what: string;
}

/** A record line for a mail name (an SPF, DMARC or lockdown record someone adds or rewrites by hand). */
function ownedValue(rng: Rng, name: string, domain: string, n: number): string {
  if (name === domain) return rng.pick(['v=spf1 a mx include:websitewelcome.com ~all', `v=spf1 a mx ip4:192.0.2.${n % 250} ~all`, 'v=spf1 include:relay.mailchannels.net -all']);
  if (name.startsWith('_dmarc.')) return rng.pick(['v=DMARC1; p=none', `v=DMARC1; p=quarantine; rua=mailto:r${n}@dreamhost.com`, `token-${n}`]);
  if (name.startsWith('_mailchannels.')) return rng.pick(['v=mc1 auth=dreamhost', 'v=mc1 auth=newhostmc', `v=mc1 auth=old${n}`]);
  return `v=DKIM1; k=rsa; p=${publicKeyB64(DEMO_KEYS[n % DEMO_KEYS.length])}`;
}

/**
 * One random hand edit of the zone text: `owned` picks a record at a mail name (or adds one there), else an unrelated
 * record. Kinds: TTL changed, value changed, removed, a record added. Null when there is nothing to edit of that kind.
 */
export function handEdit(rng: Rng, text: string, domain: string, owned: boolean, n: number): HandEdit | null {
  const parsed = parseZoneFile(text, domain).records;
  const candidates = parsed.filter((r) => r.type !== 'SOA' && r.type !== 'NS' && (ownedSlot(domain, r) !== null) === owned);
  const kind = candidates.length ? rng.pick(['ttl', 'value', 'remove', 'add']) : 'add';
  if (kind === 'add') {
    if (owned) {
      const name = rng.pick([domain, `_dmarc.${domain}`, `_mailchannels.${domain}`]);
      const line = renderRecordLine({ name, ttl: rng.pick([300, 3600]), type: 'TXT', value: ownedValue(rng, name, domain, n) });
      const rec = parseZoneFile(line, domain).records[0];
      return { text: applyLineEdits(text, [{ startLine: -1, endLine: -1, lines: [line] }]), removed: [], added: [parsedKey(rec)], slots: [`${name}|TXT`], what: `added ${line}` };
    }
    const rel = unrelatedLine(rng, domain, 100 + n);
    const line = `$ORIGIN ${domain}.\n${rel}`;
    const rec = parseZoneFile(line, domain).records[0];
    const abs = renderRecordLine({ name: rec.name, ttl: rec.ttl, type: rec.type, value: presentValue(rec), ...(rec.txt ? { txt: rec.txt } : {}) });
    return { text: applyLineEdits(text, [{ startLine: -1, endLine: -1, lines: [abs] }]), removed: [], added: [parsedKey(parseZoneFile(abs, domain).records[0])], slots: [], what: `added ${abs}` };
  }
  const r = rng.pick(candidates);
  const slot = ownedSlot(domain, r);
  const slots = slot ? [slot] : [];
  if (kind === 'remove') {
    return { text: applyLineEdits(text, [{ startLine: r.startLine, endLine: r.endLine, lines: [] }]), removed: [parsedKey(r)], added: [], slots, what: `removed ${r.name} ${r.type}` };
  }
  let next: { name: string; ttl: number; type: string; value: string; txt?: string[] };
  if (kind === 'ttl') {
    next = { name: r.name, ttl: r.ttl + 60, type: r.type, value: presentValue(r), ...(r.txt ? { txt: r.txt } : {}) };
  } else if (r.type === 'TXT') {
    const v = slot ? ownedValue(rng, r.name, domain, n) : `edited-${n}`;
    next = { name: r.name, ttl: r.ttl, type: 'TXT', value: v };
  } else if (r.type === 'A') next = { name: r.name, ttl: r.ttl, type: 'A', value: `198.51.100.${n % 250}` };
  else if (r.type === 'MX') next = { name: r.name, ttl: r.ttl, type: 'MX', value: `${5 + (n % 50)} mx${n}.${domain}.` };
  else next = { name: r.name, ttl: r.ttl + 1, type: r.type, value: presentValue(r), ...(r.txt ? { txt: r.txt } : {}) };
  const line = renderRecordLine(next);
  const rec = parseZoneFile(line, domain).records[0];
  if (parsedKey(rec) === parsedKey(r)) return null;
  return {
    text: applyLineEdits(text, [{ startLine: r.startLine, endLine: r.endLine, lines: [line] }]),
    removed: [parsedKey(r)],
    added: [parsedKey(rec)],
    slots,
    what: `${kind} of ${r.name} ${r.type} → ${line.slice(0, 80)}`,
  };
}

// ---- the panel, DNS and history of one sequence ----

export interface World {
  dir: string;
  panel: FilesPanel;
  store: Store;
  domains: Generated[];
  zoneText(domain: string): string;
  writeZone(domain: string, text: string): void;
  deps(extra?: Partial<ApplyDeps>): ApplyDeps;
  resolver(): WireResolver;
  close(): void;
}

/**
 * A files panel in a temp dir with the generated zones (each domain's server key: a demo key), served by `dns` (the
 * world's provider records plus the panel's zones, re-served after every panel write and hand edit, as an authoritative
 * server reloading the zone), and a fresh SQLite history with a fixed clock.
 */
export function startWorld(dns: DnsServer, zones: Generated[]): World {
  const root = mkdtempSync(join(tmpdir(), 'mailhealth-model-'));
  const dir = join(root, 'panel');
  mkdirSync(join(dir, 'zones'), { recursive: true });
  mkdirSync(join(dir, 'dkim'), { recursive: true });
  const cfg = JSON.parse(readFileSync(join(DEMO_PANEL_DIR, 'panel.json'), 'utf8')) as { accounts: unknown[] };
  cfg.accounts = [{ user: 'root', role: 'admin' }, { user: 'mo', role: 'customer', domains: zones.map((z) => z.domain) }];
  writeFileSync(join(dir, 'panel.json'), JSON.stringify(cfg, null, 2) + '\n');
  for (const z of zones) {
    writeFileSync(join(dir, 'zones', `${z.domain}.db`), z.text);
    cpSync(z.key, join(dir, 'dkim', `${z.domain}.pem`));
  }
  const refresh = () => dns.setData(buildWorld(dir, DEMO_WORLD_DIR));
  refresh();
  const store = openStore(join(root, 'h.sqlite'), { now: () => TODAY.getTime() });
  const panel = new FilesPanel(dir);
  panel.now = () => TODAY;
  const apply = panel.applyChanges.bind(panel);
  panel.applyChanges = async (...args) => {
    try {
      return await apply(...args);
    } finally {
      refresh();
    }
  };
  const resolvers: WireResolver[] = [];
  const world: World = {
    dir,
    panel,
    store,
    domains: zones,
    zoneText: (d) => readFileSync(join(dir, 'zones', `${d}.db`), 'utf8'),
    writeZone(d, text) {
      writeFileSync(join(dir, 'zones', `${d}.db`), text);
      refresh();
    },
    resolver() {
      // Loopback answers come at once; the generous timeout keeps a loaded machine from turning one into `unknown`.
      const r = createResolver({ servers: [dns.address], authoritativePort: dns.port, cache: false, timeoutMs: 10_000, tries: 2 });
      resolvers.push(r);
      return r;
    },
    deps(extra = {}) {
      return { panel, resolver: world.resolver(), history: store, byUser: 'root', lockWaitMs: 0, ...extra };
    },
    close() {
      for (const r of resolvers) r.close();
      store.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return world;
}
