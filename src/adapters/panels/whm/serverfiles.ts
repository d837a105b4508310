// Mail settings read from a cPanel server's own files (root, or a test directory via `root`).
// Paths and formats: shared/reference/cpanel.md §6.3, §8.1–§8.5 (CONFIRMED there unless marked INFERRED).
import { checkDomain, registrableDomain } from '../../../core/domain.js';
import { PanelError } from '../../../core/panel.js';
import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';
import { canonName } from '../../../core/domain.js';
import type { RelaySettings } from '../../../core/model.js';
import { relayOf } from '../../../knowledge/index.js';

/**
 * A server file as the cPanel/WHM adapters read it: its text, null when it does not exist (ENOENT, ENOTDIR: a missing
 * file, which the formats give a meaning — no entry, no NAT, no smarthost), or `error` when it exists but cannot be
 * read (EACCES for the cPanel adapter running as the customer, EISDIR, EIO…). An unreadable file is never read as an
 * absent one: what depends on it is not known (R6: an unreadable smarthost file read as "no relay").
 */
export type ServerFile = { text: string | null; error?: undefined } | { text: null; error: string };

export function readServerFile(root: string, path: string): ServerFile {
  try {
    return { text: readFileSync(join(root, path), 'utf8') };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException)?.code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { text: null };
    return { text: null, error: `cannot read /${path}: ${code ?? (e instanceof Error ? e.message : String(e))}` };
  }
}

/**
 * `/etc/mailips`, `/etc/mailhelo`: Exim lsearch files (cpanel.md §8.2: Exim's `interface` / `helo_data` look them up),
 * read as Exim's lsearch reads them (src/lookups/lsearch.c): a key runs to the first colon or white space and is
 * compared without regard to case; the data follows after white space and an optional colon; `#` lines, blank lines and
 * lines beginning with white space (continuations) hold no key; the FIRST line for a key is the one used — the search
 * stops there. `*` = default.
 */
export function parseColonMap(text: string | null): Map<string, string> {
  const m = new Map<string, string>();
  const seen = new Set<string>();
  for (const line of (text ?? '').split('\n')) {
    const t = line.trimEnd();
    if (!t || t.startsWith('#') || /^\s/.test(t)) continue;
    const key = /^[^:\s]+/.exec(t)?.[0];
    if (!key) continue;
    const k = key.toLowerCase();
    if (seen.has(k)) continue; // lsearch stops at the first line for a key: a later one is never read
    seen.add(k);
    // `*:` (or `domain:`) with nothing after it is no entry: Exim's lookup then yields an empty interface/HELO and
    // the next fallback applies (the main IP, the host name). It still stops the search: a later line for the same
    // key is not used.
    const v = t.slice(key.length).replace(/^\s*:?\s*/, '').trim();
    if (v) m.set(k, v);
  }
  return m;
}

/**
 * `/var/cpanel/cpnat`, cPanel's NAT map (`Cpanel::NAT`, which cpanel.md §8.2 names; the file and its format are from
 * the cPanel source the reference cites, `Cpanel/NAT/Object.pm`): one `local_ip public_ip` pair per line, whitespace
 * separated; a line with only a local IP maps nothing; when two local IPs claim the same public IP, the first wins.
 * An absent or empty file = no NAT.
 */
export function parseCpnat(text: string | null): Map<string, string> {
  const m = new Map<string, string>();
  const publics = new Set<string>();
  for (const line of (text ?? '').split('\n')) {
    const [local, pub] = line.trim().split(/\s+/);
    if (!local || !pub || !ipaddr.isValid(local) || !ipaddr.isValid(pub)) continue;
    if (publics.has(pub)) continue;
    m.set(local, pub);
    publics.add(pub);
  }
  return m;
}

/** Documentation ranges (RFC 5737, RFC 3849): they stand for public addresses in examples and tests. */
const DOCUMENTATION = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32'].map((c) => ipaddr.parseCIDR(c));

/** Is `ip` a globally routable unicast address (not private, loopback, link-local, CGNAT…)? */
export function isPublicIp(ip: string): boolean {
  try {
    const a = ipaddr.process(ip);
    if (a.range() === 'unicast') return true;
    return DOCUMENTATION.some(([net, bits]) => net.kind() === a.kind() && a.match(net, bits));
  } catch {
    return false;
  }
}

/** `key=value` lines (`/etc/exim.conf.localopts`). */
export function parseKeyValue(text: string | null): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of (text ?? '').split('\n')) {
    const i = line.indexOf('=');
    if (i <= 0 || line.trim().startsWith('#')) continue;
    m.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return m;
}

/** base64 SubjectPublicKeyInfo of a PEM private (or public) key; null when unreadable. */
export function publicKeyFromPem(pem: string | null): string | null {
  if (!pem) return null;
  try {
    return createPublicKey(pem).export({ type: 'spki', format: 'der' }).toString('base64');
  } catch {
    return null;
  }
}

/** Lines of `/etc/localdomains`-style files (one domain per line). */
export function domainList(text: string | null): Set<string> {
  return new Set((text ?? '').split('\n').map((l) => canonName(l.trim())).filter(Boolean));
}

/**
 * The smarthost host of an Exim route list such as `* smtp.mailchannels.net::587` (§8.5, Exim `route_list` syntax):
 * routes separated by ";", each "domains hosts [options]"; with several routes, the catch-all one (`*`) — a route for
 * some domains only is no server-wide relay (none then) —; its host list quoted or not, items separated by ":" with
 * "::" a literal colon (`host::587` is the host with its port), an IP literal in brackets. The first host of it (cPanel QA:
 * `example.com mx.other.example ; * smtp.sendgrid.net::587` read mx.other.example, a quoted list kept its quote).
 */
export function routeListHost(routelist: string | undefined): string | null {
  if (!routelist || !routelist.trim()) return null;
  const routes = routelist
    .split(';')
    .map((r) => r.trim())
    .filter(Boolean)
    .map((r) => {
      const m = /^(\S+)\s+(.*)$/.exec(r);
      return m ? { domains: m[1], hosts: m[2].trim() } : { domains: '*', hosts: r };
    });
  const route = routes.length === 1 ? routes[0] : routes.find((r) => r.domains === '*');
  if (!route) return null;
  let hosts = route.hosts;
  if (hosts.startsWith('"')) {
    const end = hosts.indexOf('"', 1);
    hosts = end > 0 ? hosts.slice(1, end) : hosts.slice(1);
  } else hosts = hosts.split(/\s+/)[0];
  hosts = hosts.trim();
  // An IP literal in brackets may hold colons of its own (IPv6).
  const bracket = /^\[([^\]]*)\]/.exec(hosts);
  const first = bracket ? bracket[1] : hosts.replace(/::/g, '\u0000').split(':')[0].split('\u0000')[0];
  const host = first.trim();
  return host ? canonName(host) : null;
}

/** `spf_include_hosts` from `/etc/exim.conf.localopts`: `;` `,` `:` (or blank) separated host names (§7.2). */
export function spfIncludeHosts(opts: Map<string, string>): string[] {
  return (opts.get('spf_include_hosts') ?? '').split(/[;,:\s]+/).map((h) => canonName(h)).filter(Boolean);
}

/**
 * Relay from `/etc/exim.conf.localopts`: a smarthost route list or `spf_include_hosts` naming a relay network
 * (knowledge relayOf: MailChannels, mailchannels.net) means that relay. INFERRED: `authId` = `smarthost_username`
 * (MailChannels SMTP logins are the account id in the setups we know of); the SPF include host is the one from
 * `spf_include_hosts` if it names that relay, else the relay's documented include (`relay.mailchannels.net`,
 * mail-auth.md §4).
 *
 * Any other smarthost: its SPF include host is the admin's `spf_include_hosts` entry (§7.2: the include hosts cPanel
 * itself expects) — the one in the smarthost's organisational domain, else the first listed. Without one, the smarthost
 * host name itself; the SPF planner then looks for the name (or dot-suffix) that really publishes SPF, as cPanel's
 * autodiscovery does, and never includes a name without an SPF record.
 */
export function relayFromLocalopts(text: string | null): RelaySettings | null {
  const opts = parseKeyValue(text);
  const host = routeListHost(opts.get('smarthost_routelist'));
  const includes = spfIncludeHosts(opts);
  // A relay network (providers.json `relay`: MailChannels) named by the smarthost, else by an include host.
  const hostRelay = host ? relayOf(host) : null;
  const relayInclude = includes.find((h) => {
    const r = relayOf(h);
    return !!r && (!hostRelay || r.provider === hostRelay.provider);
  });
  const relay = hostRelay ?? (relayInclude ? relayOf(relayInclude) : null);
  if (relay) {
    const r: RelaySettings = { provider: relay.provider, host: relayInclude ?? relay.include };
    const user = opts.get('smarthost_username');
    if (user) r.authId = user;
    return r;
  }
  if (!host) return null;
  const org = registrableDomain(host);
  const include = includes.find((h) => registrableDomain(h) === org) ?? includes[0];
  return { provider: host, host: include ?? host };
}

export interface CpanelServerFiles {
  /** `/etc/mailips[domain]`, else `/etc/mailips['*']` (empty values are no entry); null when neither is set. */
  mailIp: string | null;
  helo: string | null;
  privateKeyPem: string | null;
  publicKey: string | null;
  /** `/var/cpanel/domain_keys/validity_cache/<domain>` exists: Exim signs (§8.4). */
  validityCache: boolean;
  relay: RelaySettings | null;
  /** null also when /etc/localdomains (asked first) cannot be read: the files do not say. */
  routing: 'local' | 'remote' | null;
  hostname: string | null;
  mainIp: string | null;
  /** `/var/cpanel/cpnat`: local IP → public IP (empty without NAT). */
  nat: Map<string, string>;
  /**
   * Why a value above is not known: its file exists but cannot be read (readServerFile). The value beside it is then
   * null (false, empty) and means "not known", never "not set": `mailIp` (/etc/mailips), `helo` (/etc/mailhelo),
   * `mainIp`, `nat`, `hostname`, `publicKey` (neither key file readable), `validityCache`, `relay`
   * (/etc/exim.conf.localopts).
   */
  unknown: Partial<Record<'mailIp' | 'helo' | 'mainIp' | 'nat' | 'hostname' | 'publicKey' | 'validityCache' | 'relay', string>>;
}

/** effectiveMailIp's answer when the files cannot say: why. */
export interface MailIpUnknown {
  unknown: string;
}

/**
 * The domain's outbound mail IP as receivers see it (§8.2, §7.2): `/etc/mailips[domain]` → `/etc/mailips['*']` →
 * the main IP, then NAT-mapped to the public IP. `/etc/domainips` (dedicated IPs) is not used for mail, so an
 * account's own IP never enters. `natMapped` says whether the NAT map knew the address. `{unknown}` when a file it
 * depends on exists but cannot be read (`f.unknown`): /etc/mailips (it may name another IP), the main IP when
 * /etc/mailips names none, the NAT map (it may map the address).
 */
export function effectiveMailIp(f: Pick<CpanelServerFiles, 'mailIp' | 'mainIp' | 'nat'> & { unknown?: CpanelServerFiles['unknown'] }): { ip: string; natMapped: boolean } | MailIpUnknown | null {
  const why = f.unknown ?? {};
  if (why.mailIp) return { unknown: why.mailIp };
  if (!f.mailIp && why.mainIp) return { unknown: why.mainIp };
  const local = f.mailIp ?? f.mainIp;
  if (!local) return null;
  if (why.nat) return { unknown: why.nat };
  const pub = f.nat.get(local);
  return pub ? { ip: pub, natMapped: true } : { ip: local, natMapped: false };
}

/**
 * What effectiveMailIp's answer tells of the outbound IP receivers see (the cPanel and WHM adapters read it alike):
 * `ips`, a public or NAT-mapped address as it is, none when the files name none; else `why` it is not known — a
 * private address the NAT map does not know (its public one is what receivers see, §7.2), or an IP the files cannot
 * tell (one of them unreadable). Never the private address, which the SPF fix would then write in place of the public
 * one (R6).
 */
export function mailIpOrWhy(eff: ReturnType<typeof effectiveMailIp>): { ips: string[] } | { why: string } {
  if (!eff) return { ips: [] };
  if ('ip' in eff && (eff.natMapped || isPublicIp(eff.ip))) return { ips: [eff.ip] };
  return { why: 'ip' in eff ? `the outbound IP is private (${eff.ip}) and /var/cpanel/cpnat does not map it to a public one` : eff.unknown };
}

/** Does `root` look like a cPanel server (tests: a temp dir holding etc/ and var/cpanel/)? */
export function hasCpanelFiles(root: string): boolean {
  return existsSync(join(root, 'etc/mailips')) || existsSync(join(root, 'var/cpanel'));
}

export function readCpanelServerFiles(root: string, domain: string): CpanelServerFiles {
  // The domain becomes part of file paths: only a valid host name may (no "..", no "/").
  const checked = checkDomain(domain);
  if (!checked.ok) throw new PanelError('not-found', `invalid domain: ${checked.reason}`);
  const d = checked.domain;
  const unknown: CpanelServerFiles['unknown'] = {};
  // Each file read once; a read error other than "no such file" is noted against the value it feeds (unknown).
  const read = (path: string, value?: keyof CpanelServerFiles['unknown']): ServerFile => {
    const f = readServerFile(root, path);
    if (f.error && value) unknown[value] ??= f.error;
    return f;
  };
  const mailips = parseColonMap(read('etc/mailips', 'mailIp').text);
  const mailhelo = parseColonMap(read('etc/mailhelo', 'helo').text);
  const pemFile = read(`var/cpanel/domain_keys/private/${d}`);
  const pubFile = read(`var/cpanel/domain_keys/public/${d}`);
  const pem = pemFile.text;
  const publicKey = publicKeyFromPem(pem) ?? publicKeyFromPem(pubFile.text);
  // A key file that exists but cannot be read (the private one is root's: the cPanel adapter running as the customer)
  // leaves the key unknown unless the other one gives it.
  if (!publicKey && (pemFile.error || pubFile.error)) unknown.publicKey = [pemFile.error, pubFile.error].filter(Boolean).join('; ');
  // Backup MX (§8.1 "secondary": accepted only until a higher-priority MX is up): the domain's mail server is
  // elsewhere — remote, as list_mxs's "secondary" is read (cpanel/index.ts routingOfListMxs). /etc/localdomains is
  // asked first: when it cannot be read it may name the domain, and the files do not say (null: the panel is asked);
  // an unreadable remote list names no domain here, which is null as well.
  const localFile = read('etc/localdomains');
  const [local, remote, secondary] = [localFile, read('etc/remotedomains'), read('etc/secondarymx')].map((f) => domainList(f.text));
  const routing = localFile.error ? null : local.has(d) ? 'local' : remote.has(d) || secondary.has(d) ? 'remote' : null;
  // INFERRED: `/var/cpanel/mainip` holds the main IP and `/etc/hostname` the host name on cPanel servers.
  const mainIp = read('var/cpanel/mainip', 'mainIp').text?.trim() || null;
  const hostname = read('etc/hostname', 'hostname').text?.trim() || null;
  const localopts = read('etc/exim.conf.localopts', 'relay');
  const nat = read('var/cpanel/cpnat', 'nat');
  return {
    mailIp: mailips.get(d) ?? mailips.get('*') ?? null,
    helo: mailhelo.get(d) ?? mailhelo.get('*') ?? null,
    privateKeyPem: pem,
    publicKey,
    validityCache: validityEntry(root, `var/cpanel/domain_keys/validity_cache/${d}`, unknown),
    relay: localopts.error ? null : relayFromLocalopts(localopts.text),
    routing,
    hostname,
    mainIp,
    nat: parseCpnat(nat.text),
    unknown,
  };
}

/** Does the validity cache entry exist (§8.4)? A stat that fails otherwise than "no such file" leaves it unknown. */
function validityEntry(root: string, path: string, unknown: CpanelServerFiles['unknown']): boolean {
  try {
    statSync(join(root, path));
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException)?.code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') unknown.validityCache = `cannot read /${path}: ${code ?? String(e)}`;
    return false;
  }
}
