// IP helpers (pure).
import ipaddr from 'ipaddr.js';

// Plain dotted-quad IPv4 ("192.0.2.1": four decimal octets, no leading zeros) with an optional "/0".."/32": the only
// shape bulk audits meet in practice, read here without ipaddr.js and without allocating. Anything else (IPv6, odd
// IPv4 spellings ipaddr.js also accepts, odd prefix lengths) goes through ipaddr.js exactly as before.

/** s[start, end) as a plain dotted quad: the address as an unsigned 32-bit number, or -1. */
function plainV4(s: string, start: number, end: number): number {
  let value = 0;
  let i = start;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (i >= end || s.charCodeAt(i) !== 0x2e) return -1;
      i++;
    }
    const first = i;
    let n = 0;
    while (i < end && i - first < 4) {
      const c = s.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      n = n * 10 + (c - 0x30);
      i++;
    }
    const len = i - first;
    if (len === 0 || len > 3 || (len > 1 && s.charCodeAt(first) === 0x30) || n > 255) return -1;
    value = value * 256 + n;
  }
  return i === end ? value : -1;
}

/** s[start..] as a prefix length written plainly ("0".."32", no leading zero), or -1. */
function plainPrefix(s: string, start: number): number {
  const len = s.length - start;
  if (len < 1 || len > 2) return -1;
  const c0 = s.charCodeAt(start) - 0x30;
  if (c0 < 0 || c0 > 9) return -1;
  if (len === 1) return c0;
  const c1 = s.charCodeAt(start + 1) - 0x30;
  if (c0 === 0 || c1 < 0 || c1 > 9) return -1;
  const n = c0 * 10 + c1;
  return n <= 32 ? n : -1;
}

export function isIpAddress(s: string): boolean {
  if (plainV4(s, 0, s.length) >= 0) return true;
  // Without a colon only a four-part decimal IPv4 counts, and plainV4 has just read exactly those (ipaddr.js's
  // isValidFourPartDecimal: four decimal octets ≤ 255 without leading zeros). Host names — most of what is asked
  // here — end at this line: ipaddr.js's isValid throws and catches an exception for each, ~40 µs a name.
  if (!s.includes(':')) return false;
  return ipaddr.isValid(s);
}

// The one spelling of an IPv6 address: panel records are compared with live DNS answers as text (the classifier's
// traces of a previous host, the records an mx.stale finding names), so an address read from a zone file, from a
// panel's API and from a DNS answer must come out spelled alike. RFC 5952 §4: lower case, no leading zeros, the longest
// run of two or more zero groups as `::` (the first on a tie); and, as §5 recommends and inet_ntop and BIND's
// named-checkzone write it, an IPv4-mapped address (::ffff:0:0/96) with its IPv4 address in dotted quad:
// `::ffff:192.0.2.1`. (Only that one: the deprecated IPv4-compatible form, which BIND writes `::192.0.2.1`, is
// `::c000:201` here — what the comparisons need is that every reader gives the same text.)

/** The 16 octets of an IPv6 address (`b` from `at`) in the one spelling above. */
export function ipv6Text(b: Uint8Array, at = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[at + i * 2] << 8) | b[at + i * 2 + 1]);
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${b[at + 12]}.${b[at + 13]}.${b[at + 14]}.${b[at + 15]}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = w.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/**
 * The octets of an IPv6 address in text (RFC 4291 §2.2: groups of one to four hex digits in any case, at most one `::`,
 * the last 32 bits as a plain dotted quad if so written), or null: anything else, a zone id (`%eth0`) included — DNS
 * data holds none. (Node's isIPv6 takes the same texts but those with a zone id; core has no node:net.)
 */
export function ipv6Octets(text: string): Uint8Array | null {
  let s = text;
  let v4 = -1;
  if (s.includes('.')) {
    const colon = s.lastIndexOf(':');
    v4 = colon < 0 ? -1 : plainV4(s, colon + 1, s.length);
    if (v4 < 0) return null;
    // The dotted quad stands for the last two groups; `::1.2.3.4` keeps its `::` (the colon before the quad stays).
    s = s.slice(0, colon + 1) + '0:0';
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return null;
  const n = head.length + tail.length;
  if (halves.length === 2 ? n > 7 : n !== 8) return null;
  const words = [...head, ...new Array<number>(8 - n).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[i * 2] = words[i] >> 8;
    out[i * 2 + 1] = words[i] & 0xff;
  }
  if (v4 >= 0) {
    out[12] = v4 >>> 24;
    out[13] = (v4 >>> 16) & 0xff;
    out[14] = (v4 >>> 8) & 0xff;
    out[15] = v4 & 0xff;
  }
  return out;
}

/** An IPv6 address written any way (`::FFFF:A00:1`, `2001:0db8:0:0::1`) in the one spelling (ipv6Text); null when `text` is none. */
export function canonicalIpv6(text: string): string | null {
  const b = ipv6Octets(text);
  return b && ipv6Text(b);
}

/** Does `cidr` ("192.0.2.0/24", "2001:db8::/32", or a bare address) contain `ip`? */
export function cidrContains(cidr: string, ip: string): boolean {
  const a = plainV4(ip, 0, ip.length);
  if (a >= 0) {
    const slash = cidr.indexOf('/');
    const n = plainV4(cidr, 0, slash < 0 ? cidr.length : slash);
    const bits = slash < 0 ? 32 : plainPrefix(cidr, slash + 1);
    if (n >= 0 && bits >= 0) return bits === 0 || a >>> (32 - bits) === n >>> (32 - bits);
  }
  try {
    const addr = ipaddr.parse(ip);
    const [base, bitsRaw] = cidr.split('/');
    const net = ipaddr.parse(base);
    if (net.kind() !== addr.kind()) {
      // Compare IPv4-mapped IPv6 with IPv4.
      const a = addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() ? (addr as ipaddr.IPv6).toIPv4Address() : addr;
      if (a.kind() !== net.kind()) return false;
      return a.match(net, bitsRaw === undefined ? (net.kind() === 'ipv4' ? 32 : 128) : Number(bitsRaw));
    }
    const bits = bitsRaw === undefined ? (net.kind() === 'ipv4' ? 32 : 128) : Number(bitsRaw);
    return addr.match(net, bits);
  } catch {
    return false;
  }
}

// Range arithmetic: ranges read once into bits — what an SPF record's ip4/ip6 terms, and the addresses its a/mx terms
// name, do to a relay's ranges (spf/relay.ts). One family per range; a range of one family never holds an address of
// the other.

/** A range: the `len` leading bits of `bits` (the rest zero), IPv4 in 32 bits, IPv6 in 128. */
export interface Net {
  v6: boolean;
  bits: bigint;
  len: number;
}

export const netWidth = (n: Pick<Net, 'v6'>): number => (n.v6 ? 128 : 32);

/** toNet's answers, by text: the same ranges come back for every relayed domain (as spf/parse.ts caches terms). */
const NET_CACHE_MAX = 4096;
const netCache = new Map<string, Net | null>();

/** "address/prefix" (or a bare address) as a Net, its host bits cleared; null when it is none. */
export function toNet(cidr: string): Net | null {
  let n = netCache.get(cidr);
  if (n === undefined) {
    if (netCache.size >= NET_CACHE_MAX) netCache.clear();
    n = parseNet(cidr);
    netCache.set(cidr, n);
  }
  return n;
}

function parseNet(cidr: string): Net | null {
  const slash = cidr.indexOf('/');
  let bytes: number[];
  try {
    bytes = ipaddr.parse(slash < 0 ? cidr : cidr.slice(0, slash)).toByteArray();
  } catch {
    return null;
  }
  const v6 = bytes.length === 16;
  // The prefix as digits only: Number() would read "" as 0 ("1.2.3.4/" a /0) and " 8", "0x10", "1e1" as lengths.
  const prefix = slash < 0 ? '' : cidr.slice(slash + 1);
  if (slash >= 0 && !/^\d{1,3}$/.test(prefix)) return null;
  const len = slash < 0 ? (v6 ? 128 : 32) : Number(prefix);
  if (!Number.isInteger(len) || len < 0 || len > (v6 ? 128 : 32)) return null;
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  const host = BigInt((v6 ? 128 : 32) - len);
  return { v6, bits: (bits >> host) << host, len };
}

/**
 * A range as messages write it: "23.83.208.0/24", a single address without its length; IPv6 in the one spelling every
 * reader gives (ipv6Text — ipaddr.js writes `::ffff:a00:1`).
 */
function netText(n: Net): string {
  const bytes = new Uint8Array(netWidth(n) / 8);
  for (let i = bytes.length - 1, b = n.bits; i >= 0; i--, b >>= 8n) bytes[i] = Number(b & 0xffn);
  const ip = n.v6 ? ipv6Text(bytes) : bytes.join('.');
  return n.len === netWidth(n) ? ip : `${ip}/${n.len}`;
}

/** Is every address of `a` in `b`? */
export function netInside(a: Net, b: Net): boolean {
  if (a.v6 !== b.v6 || b.len > a.len) return false;
  const host = BigInt(netWidth(a) - b.len);
  return a.bits >> host === b.bits >> host;
}

/** Do two ranges share addresses? One then holds the other whole. */
export function netOverlap(a: Net, b: Net): boolean {
  return netInside(a, b) || netInside(b, a);
}

/** Do two ranges ("address/prefix", or bare addresses) share addresses? */
export function cidrOverlap(a: string, b: string): boolean {
  const x = toNet(a);
  const y = toNet(b);
  return x !== null && y !== null && netOverlap(x, y);
}

/** The two halves of a range that is more than one address. */
export function netHalves(n: Net): [Net, Net] {
  const len = n.len + 1;
  return [
    { v6: n.v6, bits: n.bits, len },
    { v6: n.v6, bits: n.bits | (1n << BigInt(netWidth(n) - len)), len },
  ];
}

/** Does the union of `nets` hold every address of `n`? (Split in halves only where a smaller range lies inside.) */
export function netsCover(nets: readonly Net[], n: Net): boolean {
  if (nets.some((r) => netInside(n, r))) return true;
  if (n.len === netWidth(n) || !nets.some((r) => netInside(r, n))) return false;
  const [lo, hi] = netHalves(n);
  return netsCover(nets, lo) && netsCover(nets, hi);
}

/** Ranges in address order as few ranges, as text: the two halves of one range as that range, repeatedly. */
export function mergedText(nets: readonly Net[]): string[] {
  const out: Net[] = [];
  for (const c of nets) {
    out.push(c);
    // The last two are the halves of one range: that range (which may in turn be the upper half of the one before).
    for (let a = out[out.length - 2], b = out[out.length - 1]; a && a.v6 === b.v6 && a.len === b.len && a.len > 0; a = out[out.length - 2], b = out[out.length - 1]) {
      const bit = 1n << BigInt(netWidth(a) - a.len);
      if ((a.bits & bit) !== 0n || b.bits !== (a.bits | bit)) break;
      out.splice(out.length - 2, 2, { v6: a.v6, bits: a.bits, len: a.len - 1 });
    }
  }
  return out.map(netText);
}

/** in-addr.arpa / ip6.arpa name for an address. */
export function reverseName(ip: string): string {
  const a = ipaddr.parse(ip);
  if (a.kind() === 'ipv4') return (a as ipaddr.IPv4).octets.slice().reverse().join('.') + '.in-addr.arpa';
  const hex = (a as ipaddr.IPv6).parts.map((x) => x.toString(16).padStart(4, '0')).join('');
  return hex.split('').reverse().join('.') + '.ip6.arpa';
}

export function isPrivateIp(ip: string): boolean {
  try {
    let a = ipaddr.parse(ip);
    // An IPv4-mapped IPv6 address (::ffff:10.0.0.5) is the IPv4 address it carries.
    if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) a = (a as ipaddr.IPv6).toIPv4Address();
    const r = a.range();
    return ['private', 'loopback', 'linkLocal', 'uniqueLocal', 'carrierGradeNat', 'unspecified'].includes(r);
  } catch {
    return false;
  }
}

