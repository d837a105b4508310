// An IPv4 address inside a range, computed independently of src/core/ip.ts: the judge tests read the ranges a
// finding names and check them against the addresses pyspf and Mail::SPF were asked about.

function ipNumber(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** Whether `ip` is in `range` ("a.b.c.d/len", or one address). */
export function inRange(ip: string, range: string): boolean {
  const [net, len] = range.split('/');
  const bits = len === undefined ? 32 : Number(len);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((ipNumber(ip) & mask) >>> 0) === ((ipNumber(net) & mask) >>> 0);
}
