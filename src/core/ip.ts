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

// Range arithmetic ("address/prefix" strings of one family): what an SPF term before the relay's include shadows.

/** Do two ranges ("address/prefix") of the same family share addresses? The shorter prefix holds the other whole. */
export function cidrOverlap(a: string, b: string): boolean {
  const [ipA, pA] = a.split('/');
  const [ipB, pB] = b.split('/');
  if (ipA.includes(':') !== ipB.includes(':')) return false;
  return Number(pA) <= Number(pB) ? cidrContains(a, ipB) : cidrContains(b, ipA);
}

/** The narrower of two overlapping ranges: the addresses they share. */
export function cidrShared(a: string, b: string): string {
  return Number(a.split('/')[1]) >= Number(b.split('/')[1]) ? a : b;
}

/** The two halves of a range ("23.83.208.0/20" → its two /21s), or null for a single address (or an odd spelling). */
function cidrHalves(range: string): [string, string] | null {
  try {
    const [addr, n] = ipaddr.parseCIDR(range);
    const bytes = addr.toByteArray();
    if (n >= bytes.length * 8) return null;
    for (let i = 0; i < bytes.length * 8; i++) if (i >= n) bytes[i >> 3] &= ~(0x80 >> (i & 7));
    const high = [...bytes];
    high[n >> 3] |= 0x80 >> (n & 7);
    return [`${ipaddr.fromByteArray(bytes).toString()}/${n + 1}`, `${ipaddr.fromByteArray(high).toString()}/${n + 1}`];
  } catch {
    return null;
  }
}

/** Does the union of `ranges` hold every address of `range`? (Split in halves only where a smaller range lies inside.) */
export function cidrsCover(ranges: readonly string[], range: string, depth = 0): boolean {
  const [ip, p] = range.split('/');
  const same = ranges.filter((r) => r.includes(':') === ip.includes(':'));
  if (same.some((r) => Number(r.split('/')[1]) <= Number(p) && cidrContains(r, ip))) return true;
  if (depth > 128 || !same.some((r) => cidrOverlap(r, range))) return false;
  const h = cidrHalves(range);
  return !!h && cidrsCover(same, h[0], depth + 1) && cidrsCover(same, h[1], depth + 1);
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

