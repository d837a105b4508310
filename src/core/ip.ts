// IP helpers (pure).
import ipaddr from 'ipaddr.js';

export function isIpAddress(s: string): boolean {
  return ipaddr.isValid(s) && (ipaddr.IPv4.isValidFourPartDecimal(s) || s.includes(':'));
}

/** Does `cidr` ("192.0.2.0/24", "2001:db8::/32", or a bare address) contain `ip`? */
export function cidrContains(cidr: string, ip: string): boolean {
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

