// IP helpers (pure).
import ipaddr from 'ipaddr.js';

// Plain dotted-quad IPv4 ("192.0.2.1": four decimal octets, no leading zeros) with an optional "/0".."/32": the only
// shape bulk audits meet in practice, read without ipaddr.js. Anything else (IPv6, odd IPv4 spellings ipaddr.js also
// accepts, odd prefix lengths) goes through ipaddr.js exactly as before.
const PLAIN_V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\/(3[0-2]|[12]?\d))?$/;

/** [address as an unsigned 32-bit number, prefix length or -1 when none], or null when `s` is not a plain dotted quad. */
function plainV4(s: string): [number, number] | null {
  const m = PLAIN_V4.exec(s);
  if (!m) return null;
  return [((+m[1] << 24) | (+m[2] << 16) | (+m[3] << 8) | +m[4]) >>> 0, m[5] === undefined ? -1 : +m[5]];
}

export function isIpAddress(s: string): boolean {
  if (s.length <= 15 && !s.includes('/') && plainV4(s)) return true;
  return ipaddr.isValid(s) && (ipaddr.IPv4.isValidFourPartDecimal(s) || s.includes(':'));
}

/** Does `cidr` ("192.0.2.0/24", "2001:db8::/32", or a bare address) contain `ip`? */
export function cidrContains(cidr: string, ip: string): boolean {
  const a = plainV4(ip);
  const n = a && a[1] < 0 ? plainV4(cidr) : null;
  if (n) {
    const bits = n[1] < 0 ? 32 : n[1];
    return bits === 0 || a![0] >>> (32 - bits) === n[0] >>> (32 - bits);
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

/** in-addr.arpa / ip6.arpa name for an address. */
export function reverseName(ip: string): string {
  const a = ipaddr.parse(ip);
  if (a.kind() === 'ipv4') return (a as ipaddr.IPv4).octets.slice().reverse().join('.') + '.in-addr.arpa';
  const hex = (a as ipaddr.IPv6).parts.map((x) => x.toString(16).padStart(4, '0')).join('');
  return hex.split('').reverse().join('.') + '.ip6.arpa';
}

export function isPrivateIp(ip: string): boolean {
  try {
    const r = ipaddr.parse(ip).range();
    return ['private', 'loopback', 'linkLocal', 'uniqueLocal', 'carrierGradeNat', 'unspecified'].includes(r);
  } catch {
    return false;
  }
}

