// A cPanel server emulator built from the documented shapes (shared/reference/cpanel.md §2–§8): zone files held as
// line arrays (line_index = position; a save keeps every untouched record on its line, drops removed records with
// their padding so later records move up, appends adds — §4.4 and Cpanel::ZoneFile::LineEdit::save), the UAPI
// functions the adapter uses, and an HTTP front (`/execute/<Module>/<func>`, `Authorization: cpanel USER:TOKEN`) on
// 127.0.0.1. Record text is held as the zone file's octets, one character per octet (a UTF-8 "é" is two characters
// "Ã©"), as parse_zone returns them base64-encoded (§3).
// The same state (JSON-serialisable) backs the WHM emulator and the fake `uapi`/`whmapi1` executables.
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { makeFixture, type Fixture, type FixtureAccount } from './fixture.js';

export type Line =
  | { kind: 'record'; dname: string; ttl: number; type: string; data: string[] }
  | { kind: 'comment' | 'control'; text: string }
  | null;

export interface CpZone {
  serial: number;
  lines: Line[];
}

export interface CpState {
  /** Each account's enabled features (its package's feature list): what Features::has_feature answers 1 for. */
  accounts: (FixtureAccount & { features: string[] })[];
  /**
   * The features the server knows (Cpanel::Features::load_all_feature_names: cPanel's own plus the addonfeatures files
   * plugins register, e.g. `mailhealth`). Features::has_feature answers null for any other name. Absent = DEFAULT_FEATURES.
   */
  installedFeatures?: string[];
  zones: Record<string, CpZone>;
  /** API tokens: `cpanel:<user>` and `whm:<user>` → token. */
  tokens: Record<string, string>;
  /** The account the fake `uapi` runs as when no --user is given. */
  cliUser: string;
  hostname: string;
  /** The default outbound IP (`/etc/mailips` `*:` as first written). */
  mailIp: string;
  /** The server's main IP (`/var/cpanel/mainip`); local (private) behind NAT. */
  mainIp: string;
  /**
   * `/etc/mailips` (§8.2): domain → IP, `*` = default. An entry may be empty (`*:` alone) or missing: Exim then falls
   * back to the main IP. The effective IP (what EmailAuth reports) is mailips[domain] → ['*'] → main IP, NAT-mapped.
   */
  mailips: Record<string, string>;
  /** `/var/cpanel/cpnat` (Cpanel::NAT): local IP → public IP; empty without NAT. */
  nat: Record<string, string>;
  nameservers: string[];
  /** Zones (or domains) whose public DNS is elsewhere (has_local_authority answers 0 with those nameservers). */
  remoteAuthority?: Record<string, string[]>;
  /**
   * The SOA serial public DNS serves for a zone served here (cPanel's resolver sees it): absent = the zone's current
   * serial (public DNS up to date). Set it to model a write not yet propagated — has_local_authority then answers 0.
   */
  publicSerial?: Record<string, number>;
  /** Zones (or domains) whose SOA lookup by cPanel fails: has_local_authority answers 0 with this `error`. */
  authorityErrors?: Record<string, string>;
  /** Today as YYYYMMDD for the serial rule (§4.4: YYYYMMDD00 when larger, else old + 1); absent = today (UTC). */
  serialDate?: string;
  /** What public DNS holds at default._domainkey.<domain> for a domain whose authority is elsewhere (else MISSING). */
  publicDkim?: Record<string, string>;
  dkim: { privateKeyPem: string; publicKey: string };
  /** Domains with a server DKIM key (EmailAuth "expected"). */
  dkimDomains: string[];
  /**
   * Domains with a DKIM validity cache entry (§8.4: Exim signs only for these). cPanel sets an entry when
   * validate_current_dkims finds the published key VALID; a new key has none. Initially: the domains whose zone
   * already publishes the server's key (what scripts/refresh-dkim-validity-cache leaves).
   */
  validityCache: string[];
  /** Domains whose validity cache entry cannot be written (validate_current_dkims answers `error` for them). */
  validityCacheFails?: string[];
  mxDetected: Record<string, string>;
  /**
   * The server's filesystem root (as written by writeCpanelServerFiles), if any: key generation
   * (ensure_dkim_keys_exist / enable_dkim) then writes the key and validity cache there, like the real server.
   */
  serverRoot?: string | null;
  /** Every API call, "Module::func domain" / "whm:func", for assertions. */
  calls: string[];
}

/** The server's features when the state does not say: a few of cPanel's own and the one install/cpanel.sh registers. */
export const DEFAULT_FEATURES = ['zoneedit', 'simplezoneedit', 'changemx', 'emailauth', 'nettools', 'mailhealth'];

export function makeCpState(f: Fixture = makeFixture()): CpState {
  const zones: Record<string, CpZone> = {};
  for (const [zone, recs] of Object.entries(f.zones)) {
    const lines: Line[] = [
      { kind: 'comment', text: '; cPanel first:11.120.0.16 (update_time):1700000000 Cpanel::ZoneFile::VERSION:1.3 hostname:server1.host.example latest:11.120.0.16' },
      { kind: 'control', text: '$TTL 14400' },
      { kind: 'record', dname: `${zone}.`, ttl: 86400, type: 'SOA', data: ['ns1.host.example.', `hostmaster.${zone}.`, '2024061100', '3600', '1800', '1209600', '86400'] },
      null,
    ];
    for (const r of recs) lines.push({ kind: 'record', dname: r.name === zone ? `${zone}.` : r.name.slice(0, -zone.length - 1), ttl: r.ttl, type: r.type, data: [...r.data] });
    zones[zone] = { serial: 2024061100, lines };
  }
  const state: CpState = {
    // Installed with its feature enabled for every package (README: enable it in WHM » Feature Manager).
    accounts: f.accounts.map((a) => ({ ...a, features: ['zoneedit', 'emailauth', 'mailhealth'] })),
    installedFeatures: [...DEFAULT_FEATURES],
    zones,
    tokens: { 'cpanel:alice': 'tok-alice', 'cpanel:bob': 'tok-bob', 'cpanel:carol': 'tok-carol', 'whm:root': 'tok-root', 'whm:res1': 'tok-res1' },
    cliUser: 'alice',
    hostname: f.hostname,
    mailIp: f.mailIp,
    mainIp: f.mailIp,
    // bob.example sends from its own IP; carol's account has a dedicated IP (listaccts `ip`) that mail does not use.
    mailips: { '*': f.mailIp, 'bob.example': '203.0.113.11' },
    nat: {},
    nameservers: f.nameservers,
    dkim: f.dkim,
    dkimDomains: Object.keys(f.zones),
    validityCache: [],
    mxDetected: {},
    calls: [],
  };
  state.validityCache = state.dkimDomains.filter((d) => dkimPublicState(state, d) === 'VALID');
  return state;
}

/** The zone that holds `name` (the longest zone of the state it is in or under). */
export function zoneOfName(state: CpState, name: string): string | undefined {
  return Object.keys(state.zones)
    .filter((z) => name === z || name.endsWith(`.${z}`))
    .sort((a, b) => b.length - a.length)[0];
}

/** The domain's effective outbound mail IP as cPanel reports it (§8.2, §7.2): mailips[domain] → ['*'] → main IP, then NAT. */
export function effectiveMailIpOf(state: CpState, domain: string): string {
  const local = state.mailips[domain] || state.mailips['*'] || state.mainIp;
  return state.nat[local] ?? local;
}

/** The key of a `v=DKIM1; …; p=<key>` record, whitespace removed. */
const dkimP = (txt: string) => /(?:^|;)\s*p=([^;]*)/.exec(txt)?.[1].replace(/\s+/g, '') ?? '';

/**
 * validate_current_dkims' state for `domain` (§7.1, §7.4): the record at default._domainkey in public DNS — the
 * local zone, or `publicDkim` when the domain's authority is elsewhere — against the server's key.
 */
export function dkimPublicState(state: CpState, domain: string): 'VALID' | 'MISMATCH' | 'MISSING' | 'MULTIPLE' | 'NOPUB' {
  if (!state.dkimDomains.includes(domain)) return 'NOPUB';
  const name = `default._domainkey.${domain}`;
  const zone = zoneOfName(state, domain);
  let values: string[];
  if (zone && (state.remoteAuthority?.[domain] || state.remoteAuthority?.[zone])) {
    values = state.publicDkim?.[domain] !== undefined ? [state.publicDkim[domain]] : [];
  } else {
    values = zone ? zoneView(state, zone).filter((r) => r.name === name && r.type === 'TXT').map((r) => r.data.join('')) : [];
    values = values.filter((v) => /^v=DKIM1/i.test(v) || /(^|;)\s*p=/.test(v));
  }
  if (!values.length) return 'MISSING';
  if (values.length > 1) return 'MULTIPLE';
  return dkimP(values[0]) === state.dkim.publicKey ? 'VALID' : 'MISMATCH';
}

export type Params = [string, string][];
export interface Envelope {
  status: 0 | 1;
  data: unknown;
  errors: string[] | null;
  messages: string[] | null;
  metadata: Record<string, unknown>;
  warnings: null;
}

const ok = (data: unknown): Envelope => ({ status: 1, data, errors: null, messages: null, metadata: {}, warnings: null });
const fail = (errors: string[], data: unknown = null): Envelope => ({ status: 0, data, errors, messages: null, metadata: {}, warnings: null });

/** `name`, `name-0`, `name-1`… (Cpanel::Args::get_multiple, §4.1). */
export function getMultiple(params: Params, name: string): string[] {
  const re = new RegExp(`^${name}(-[0-9]+)?$`);
  return params.filter(([k]) => re.test(k)).map(([, v]) => v);
}
const get = (params: Params, name: string) => params.find(([k]) => k === name)?.[1];

const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');

export function accountZones(a: FixtureAccount): string[] {
  return [a.main, ...a.addon, ...a.parked];
}
export function accountDomains(a: FixtureAccount): string[] {
  return [a.main, ...a.addon, ...a.parked, ...a.sub];
}

export function parseZoneItems(z: CpZone): unknown[] {
  const items: unknown[] = [];
  z.lines.forEach((l, i) => {
    if (!l) return;
    if (l.kind === 'record') {
      const data = l.type === 'SOA' ? [...l.data.slice(0, 2), String(z.serial), ...l.data.slice(3)] : l.data;
      items.push({ line_index: i, type: 'record', record_type: l.type, ttl: l.ttl, dname_b64: b64(l.dname), data_b64: data.map(b64) });
    } else items.push({ line_index: i, type: l.kind, text_b64: b64(l.text) });
  });
  return items;
}

/** Records of a zone with absolute names (test assertions). */
export function zoneView(state: CpState, zone: string): { line: number; name: string; ttl: number; type: string; data: string[] }[] {
  const out: { line: number; name: string; ttl: number; type: string; data: string[] }[] = [];
  state.zones[zone].lines.forEach((l, i) => {
    if (l?.kind === 'record') out.push({ line: i, name: l.dname.endsWith('.') ? l.dname.slice(0, -1) : `${l.dname}.${zone}`, ttl: l.ttl, type: l.type, data: [...l.data] });
  });
  return out;
}

export type MassEditOutcome = { ok: true; newSerial: number } | { ok: false; errors: string[]; data: unknown };

/** The serial a save gives (§4.4 step 3, Cpanel::ZoneFile::LineEdit `_bump_soa_serial`): YYYYMMDD00 if larger, else old + 1. */
export function nextSerial(state: CpState, old: number): number {
  const today = state.serialDate ?? new Date().toISOString().slice(0, 10).replace(/-/g, '');
  const fresh = Number(`${today}00`);
  return fresh > old ? fresh : old + 1;
}

/** The record types WHM's mass_edit_dns_zone may add (§6.1; edits are not type-limited). */
export const WHM_ADD_TYPES = ['A', 'AAAA', 'AFSDB', 'CAA', 'CNAME', 'DNAME', 'DS', 'HINFO', 'LOC', 'MX', 'NAPTR', 'NS', 'PTR', 'RP', 'SRV', 'TLSA', 'TXT'];

/**
 * DNS::mass_edit_zone / mass_edit_dns_zone semantics (§4, §6.1). `gates.add` / `gates.edit`: the record types an add /
 * an edit may carry (null = any; a bare list applies to both). The checks come in cPanel's order (Cpanel/API/DNS.pm, Whostmgr/API/1/DNS.pm): the
 * change list, each add and edit with its type gate, then the serial (Stale), then the lines, then the save.
 */
export function massEdit(state: CpState, zone: string, params: Params, gateOpt: { add: string[] | null; edit: string[] | null } | string[] | null): MassEditOutcome {
  // A bare list (or null) gates adds and edits alike (UAPI's rule), as older callers pass it.
  const gates = gateOpt === null || Array.isArray(gateOpt) ? { add: gateOpt, edit: gateOpt } : gateOpt;
  const z = state.zones[zone];
  const serial = get(params, 'serial');
  if (!serial) return { ok: false, errors: ['You must specify the “serial”.'], data: null };
  const adds = getMultiple(params, 'add');
  const edits = getMultiple(params, 'edit');
  const removes = getMultiple(params, 'remove');
  if (!adds.length && !edits.length && !removes.length) return { ok: false, errors: ['You must provide at least one change to the DNS zone.'], data: null };
  type Rec = { dname: string; ttl: number; record_type: string; data: string[]; line_index?: number };
  const parse = (s: string, kind: string): Rec | string => {
    let o: Rec;
    try {
      o = JSON.parse(s) as Rec;
    } catch {
      return `Each “${kind}” must be an object.`;
    }
    if (!o || typeof o !== 'object' || !o.dname || !o.record_type || !/^\d+$/.test(String(o.ttl)) || !Array.isArray(o.data) || !o.data.length) return `Each “${kind}” must be an object.`;
    // §4.2: every element printable ASCII (cPanel quotes and escapes it itself).
    for (const d of o.data) if (!/^[\x20-\x7e]*$/.test(d)) return 'This value must contain only printable ASCII characters.';
    return o;
  };
  const gate = (allowed: string[] | null, type: string): string | null => {
    if (!allowed || allowed.includes(type)) return null;
    return `This interface cannot create “${type}” records. It can only create ${allowed.map((t) => `“${t}”`).join(', ')} records.`;
  };
  for (const s of removes) if (!/^\d+$/.test(s)) return { ok: false, errors: ['Each “remove” must be a nonnegative integer.'], data: null };
  const addRecs: Rec[] = [];
  for (const s of adds) {
    const o = parse(s, 'add');
    if (typeof o === 'string') return { ok: false, errors: [o], data: null };
    const g = gate(gates.add, o.record_type.toUpperCase());
    if (g) return { ok: false, errors: [g], data: null };
    addRecs.push(o);
  }
  const editRecs: Rec[] = [];
  for (const s of edits) {
    const o = parse(s, 'edit');
    if (typeof o === 'string') return { ok: false, errors: [o], data: null };
    const g = gate(gates.edit, o.record_type.toUpperCase());
    if (g) return { ok: false, errors: [g], data: null };
    editRecs.push(o);
  }
  if (Number(serial) !== z.serial || String(serial) !== String(z.serial)) {
    return {
      ok: false,
      errors: [`The given serial number (${serial}) does not match the DNS zone’s serial number (${z.serial}). Refresh your view of the DNS zone, then resubmit.`],
      data: { type: 'Stale', detail: null },
    };
  }
  const lines = z.lines.map((l) => (l ? { ...l } : null)) as Line[];
  const toLine = (o: Rec): Line => ({ kind: 'record', dname: o.dname, ttl: Number(o.ttl), type: o.record_type.toUpperCase(), data: o.data });
  const seen = new Set<number>();
  for (const o of editRecs) {
    const i = Number(o.line_index);
    const cur = lines[i];
    if (!Number.isInteger(i) || !cur || cur.kind !== 'record') return { ok: false, errors: [`No record exists at line ${i} in the “${zone}” DNS zone.`], data: null };
    if (cur.type === 'SOA') return { ok: false, errors: ['You cannot edit the SOA record’s serial number.'], data: null };
    if (seen.has(i)) return { ok: false, errors: [`You submitted multiple edits for line index ${i}. This interface forbids multiple edits per line.`], data: null };
    seen.add(i);
    lines[i] = toLine(o);
  }
  const removed = new Set<number>();
  for (const s of removes) {
    const i = Number(s);
    const cur = lines[i];
    if (!cur || cur.kind !== 'record') return { ok: false, errors: [`No record exists at line ${i} in the “${zone}” DNS zone.`], data: null };
    if (cur.type === 'SOA') return { ok: false, errors: ['Every DNS zone must contain an SOA record.'], data: null };
    if (seen.has(i) || removed.has(i)) return { ok: false, errors: [`You submitted multiple edits for line index ${i}. This interface forbids multiple edits per line.`], data: null };
    removed.add(i);
  }
  // LineEdit::save: every item keeps its line, padded with the blank lines that followed it, except a removed item,
  // which goes with its padding (later items move up); the last item gets no padding; adds are appended.
  const saved: Line[] = [];
  const items = lines.map((l, i) => (l ? i : -1)).filter((i) => i >= 0);
  items.forEach((i, k) => {
    if (removed.has(i)) return;
    saved.push(lines[i]);
    const next = items[k + 1];
    if (next !== undefined) for (let j = i + 1; j < next; j++) saved.push(null);
  });
  for (const o of addRecs) saved.push(toLine(o));
  // Validity (Cpanel::DnsUtils::CheckZone): every TXT string ≤255 bytes; at least one NS.
  const byLine: [number, string][] = [];
  saved.forEach((l, i) => {
    if (l?.kind === 'record' && l.type === 'TXT') for (const d of l.data) if (Buffer.byteLength(d, 'latin1') > 255) byLine.push([i, 'TXT character-string longer than 255 bytes']);
  });
  if (!saved.some((l) => l?.kind === 'record' && l.type === 'NS')) byLine.push([2, `The zone “${zone}” must have at least one NS record.`]);
  if (byLine.length) return { ok: false, errors: [`The DNS zone “${zone}” would be invalid: ${byLine.map((b) => b[1]).join('; ')}`], data: { type: 'InvalidZoneFile', detail: { by_line: byLine } } };
  z.lines = saved;
  z.serial = nextSerial(state, z.serial);
  return { ok: true, newSerial: z.serial };
}

/**
 * The generated key in the server's files (§8.3), when the state has a root. No validity cache entry: cPanel sets
 * that only once it has seen the key published (§8.4, validate_current_dkims).
 */
export function writeServerKey(state: CpState, domain: string): void {
  if (!state.serverRoot) return;
  const p = `var/cpanel/domain_keys/private/${domain}`;
  mkdirSync(join(state.serverRoot, p, '..'), { recursive: true });
  writeFileSync(join(state.serverRoot, p), state.dkim.privateKeyPem);
}

/** Cpanel::DKIM::ValidityCache::Write->set: the entry in the state, and its file under the server root if any. */
function setValidityCache(state: CpState, domain: string): boolean {
  if (state.validityCache.includes(domain)) return false;
  state.validityCache.push(domain);
  if (state.serverRoot) {
    const p = `var/cpanel/domain_keys/validity_cache/${domain}`;
    mkdirSync(join(state.serverRoot, p, '..'), { recursive: true });
    writeFileSync(join(state.serverRoot, p), '');
  }
  return true;
}

/**
 * Add or replace `default._domainkey.<domain>` TXT (EmailAuth::enable_dkim, §7.4), in the zone that holds the domain
 * (a subdomain's record goes into its parent's zone, §3).
 */
export function installDkim(state: CpState, domain: string): void {
  const zone = zoneOfName(state, domain);
  const z = zone ? state.zones[zone] : undefined;
  if (!zone || !z) return;
  const dname = domain === zone ? 'default._domainkey' : `default._domainkey.${domain.slice(0, -zone.length - 1)}`;
  const value = `v=DKIM1; k=rsa; p=${state.dkim.publicKey};`;
  const data = [value.slice(0, 255), value.slice(255)].filter(Boolean);
  const i = z.lines.findIndex((l) => l?.kind === 'record' && l.type === 'TXT' && l.dname === dname && l.data.join('').startsWith('v=DKIM1'));
  const line: Line = { kind: 'record', dname, ttl: 14400, type: 'TXT', data };
  if (i >= 0) z.lines[i] = line;
  else z.lines.push(line);
  z.serial = nextSerial(state, z.serial);
}

/** The zone's own apex NS records (names without the trailing dot, lower case). */
export function zoneNs(state: CpState, zone: string): string[] {
  return zoneView(state, zone)
    .filter((r) => r.name === zone && r.type === 'NS')
    .map((r) => r.data[0].replace(/\.$/, '').toLowerCase());
}

/**
 * One has_local_authority item (§5; cPanel's Cpanel/DnsUtils/Authority.pm): `local_authority` 1 only while the SOA
 * serial public DNS serves equals the local zone's, with the zone's public nameservers; `error` (and 0, no
 * nameservers) when cPanel's own SOA lookup fails. The emulated world's public DNS for a zone:
 * - `authorityErrors[domain|zone]`: the lookup fails;
 * - `remoteAuthority[domain|zone]`: served elsewhere by those nameservers (another host's zone, another serial);
 * - a zone whose own NS records name none of this server's nameservers (a copy left here after the domain moved, an
 *   imported zone whose delegation still points at the old host): served by those NS, with the old host's serial;
 * - else served from here: the delegation points at the NS the zone lists, with serial `publicSerial[zone]` (absent:
 *   the current one).
 * cPanel looks the nameservers up per zone and answers them under the domain's name, so a subdomain gets none.
 */
export function authorityItem(state: CpState, domain: string): { domain: string; zone: string | null; local_authority: 0 | 1; nameservers: string[]; error: string | null } {
  const zone = zoneOfName(state, domain) ?? domain;
  const error = state.authorityErrors?.[domain] ?? state.authorityErrors?.[zone];
  if (error) return { domain, zone: null, local_authority: 0, nameservers: [], error };
  const own = state.zones[zone] ? zoneNs(state, zone) : [];
  let publicNs = state.remoteAuthority?.[domain] ?? state.remoteAuthority?.[zone];
  let local = false;
  if (!publicNs) {
    if (own.length && !own.some((n) => state.nameservers.includes(n))) publicNs = own;
    else {
      publicNs = own.length ? own : state.nameservers;
      local = (state.publicSerial?.[zone] ?? state.zones[zone]?.serial) === state.zones[zone]?.serial;
    }
  }
  return { domain, zone, local_authority: local ? 1 : 0, nameservers: domain === zone ? publicNs : [], error: null };
}

export function emailAuthItem(state: CpState, func: string, domain: string): unknown {
  switch (func) {
    case 'validate_current_spfs': {
      const ip = effectiveMailIpOf(state, domain);
      return { domain, ip_address: ip, ip_version: 4, state: 'INVALID', expected: `ip4:${ip}`, records: [], error: null };
    }
    case 'validate_current_dkims': {
      // Cpanel::APICommon::EmailAuth: a VALID record whose cache entry is missing gets one (`set`); anything else
      // leaves the cache as it is (`none`) — the validator never removes an entry.
      const st = dkimPublicState(state, domain);
      const cached = state.validityCache.includes(domain);
      const update = st !== 'VALID' || cached ? 'none' : state.validityCacheFails?.includes(domain) ? 'error' : (setValidityCache(state, domain), 'set');
      return {
        domain: `default._domainkey.${domain}`,
        state: st,
        expected: st === 'NOPUB' ? '' : `v=DKIM1; k=rsa; p=${state.dkim.publicKey};`,
        records: [],
        error: null,
        validity_cache_update: update,
      };
    }
    case 'validate_current_ptrs': {
      const ip = effectiveMailIpOf(state, domain);
      return { domain, helo: state.hostname, ip_address: ip, ip_version: 4, arpa_domain: `${ip.split('.').reverse().join('.')}.in-addr.arpa`, nameservers: [], state: 'VALID', error: null, ptr_records: [] };
    }
    default:
      return null;
  }
}

/** One UAPI call as `user` (§2 envelope, flat). */
export function uapiCall(state: CpState, user: string, module: string, func: string, params: Params): Envelope | 'not-found' {
  const acct = state.accounts.find((a) => a.user === user);
  if (!acct) return fail([`The user “${user}” does not exist.`]);
  const domain = get(params, 'domain');
  state.calls.push(`${module}::${func}${domain ? ` ${domain}` : ''}`);
  const domainArgs = getMultiple(params, 'domain');
  const mine = (d: string | undefined) => !!d && accountDomains(acct).includes(d);
  switch (`${module}::${func}`) {
    case 'DomainInfo::list_domains':
      return ok({ main_domain: acct.main, addon_domains: acct.addon, parked_domains: acct.parked, sub_domains: acct.sub });
    case 'DNS::parse_zone': {
      const zone = get(params, 'zone') ?? '';
      if (!accountZones(acct).includes(zone) || !state.zones[zone]) return fail([`You do not control a DNS zone named “${zone}”.`]);
      return { ...ok(parseZoneItems(state.zones[zone])), metadata: { transformed: 1 } };
    }
    case 'DNS::mass_edit_zone': {
      const zone = get(params, 'zone') ?? '';
      const f = acct.features;
      if (!['simplezoneedit', 'zoneedit', 'changemx'].some((x) => f.includes(x))) return fail(['You do not have the feature “zoneedit”.']);
      if (!accountZones(acct).includes(zone)) return fail([`You do not control a DNS zone named “${zone}”.`]);
      const allowed = [...(f.includes('simplezoneedit') || f.includes('zoneedit') ? ['A', 'CNAME'] : []), ...(f.includes('zoneedit') ? ['AAAA', 'CAA', 'SRV', 'TXT'] : []), ...(f.includes('changemx') ? ['MX'] : [])];
      const r = massEdit(state, zone, params, { add: allowed, edit: allowed });
      return r.ok ? ok({ new_serial: String(r.newSerial) }) : fail(r.errors, r.data);
    }
    case 'DNS::has_local_authority':
      return ok(domainArgs.map((d) => authorityItem(state, d)));
    case 'Features::has_feature': {
      // [src] Cpanel/API/Features.pm (11.120); https://api.docs.cpanel.net/specifications/cpanel.openapi/cpanel-features/features-has_feature:
      // the call succeeds (status 1) with data 1 (the account has the feature), 0 (it exists but is not enabled, with
      // a message) or null (no such feature on the server); no name → status 0.
      const name = get(params, 'name');
      if (!name) return fail(['You must specify a feature name.']);
      if (!(state.installedFeatures ?? DEFAULT_FEATURES).includes(name)) return ok(null);
      if (acct.features.includes(name)) return ok(1);
      return { ...ok(0), messages: [`The feature “${name}” exists but is not enabled.`] };
    }
    case 'Email::list_mxs':
      return ok(domainArgs.map((d) => ({ domain: d, alwaysaccept: 1, detected: state.mxDetected[d] ?? 'local', entries: [{ domain: d, mx: `mail.${d}`, priority: 10 }], entrycount: 1 })));
    case 'EmailAuth::validate_current_spfs':
    case 'EmailAuth::validate_current_dkims':
    case 'EmailAuth::validate_current_ptrs':
      if (!acct.features.includes('emailauth')) return fail(['You do not have the feature “emailauth”.']);
      return ok(domainArgs.filter(mine).map((d) => emailAuthItem(state, func, d)));
    case 'EmailAuth::ensure_dkim_keys_exist':
      if (!acct.features.includes('emailauth')) return fail(['You do not have the feature “emailauth”.']);
      return ok(
        domainArgs.filter(mine).map((d) => {
          const had = state.dkimDomains.includes(d);
          if (!had) state.dkimDomains.push(d);
          writeServerKey(state, d);
          return { domain: d, status: 1, msg: had ? 'key is acceptable' : 'created new key' };
        }),
      );
    case 'EmailAuth::enable_dkim':
      if (!acct.features.includes('emailauth')) return fail(['You do not have the feature “emailauth”.']);
      return ok(
        domainArgs.filter(mine).map((d) => {
          installDkim(state, d);
          return { domain: d, status: 1, msg: '[OK]' };
        }),
      );
    default:
      return 'not-found';
  }
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function listen(handler: http.RequestListener): Promise<RunningServer> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Form body + query string as ordered pairs. */
export async function requestParams(req: http.IncomingMessage): Promise<Params> {
  const url = new URL(req.url ?? '/', 'http://x');
  const params: Params = [...url.searchParams];
  if (req.method === 'POST') params.push(...new URLSearchParams(await readBody(req)));
  return params;
}

/** Which `scheme USER:TOKEN` header is valid → the user, or null. */
export function authUser(state: CpState, req: http.IncomingMessage, scheme: 'cpanel' | 'whm'): string | null {
  const m = new RegExp(`^${scheme} ([^:]+):(.+)$`).exec(req.headers.authorization ?? '');
  if (!m) return null;
  return state.tokens[`${scheme}:${m[1]}`] === m[2] ? m[1] : null;
}

export function startCpanelServer(state: CpState): Promise<RunningServer> {
  return listen(async (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const m = /^\/execute\/([^/?]+)\/([^/?]+)/.exec(req.url ?? '');
    if (!m) return send(404, { status: 0, errors: ['Not found'] });
    const user = authUser(state, req, 'cpanel');
    if (!user) {
      res.writeHead(401, { 'content-type': 'text/plain' });
      return res.end('Access denied');
    }
    const params = await requestParams(req);
    const out = uapiCall(state, user, decodeURIComponent(m[1]), decodeURIComponent(m[2]), params);
    if (out === 'not-found') return send(404, { status: 0, errors: [`Could not find function “${m[2]}” in module “${m[1]}”`], data: null });
    send(200, out);
  });
}
