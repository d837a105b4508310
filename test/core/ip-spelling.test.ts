// The one spelling of an IPv6 address (core/ip.ts ipv6Text, canonicalIpv6), which the DNS client, the zone-file reader
// and the panels' readers all give: RFC 5952 §4, and an IPv4-mapped address in dotted quad (§5). Judged against
// independent parsers: Node's isIPv6 (inet_pton's syntax) for which texts are addresses, and the WHATWG URL parser
// (its own IPv6 parser and RFC 5952 serializer, without the dotted quad) for the address a text holds.
import assert from 'node:assert/strict';
import { isIPv6 } from 'node:net';
import { test } from 'node:test';
import { canonicalIpv6, ipv6Octets, ipv6Text } from '../../src/core/ip.js';
import { prng } from '../helpers/prng.js';

/** The URL parser's spelling of the address `text` holds (RFC 5952, hexadecimal throughout). */
const urlSpelling = (text: string): string => new URL(`http://[${text}]/`).hostname.slice(1, -1);

/** Our spelling with an IPv4-mapped address's dotted quad written in hexadecimal, as the URL parser writes it. */
function hexOnly(ours: string): string {
  const m = /^::ffff:(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ours);
  if (!m) return ours;
  const [a, b, c, d] = m.slice(1).map(Number);
  return `::ffff:${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

/** Random 16 octets, zero groups frequent (so `::` runs of every length and place occur), sometimes IPv4-mapped. */
function randomOctets(r: ReturnType<typeof prng>): Uint8Array {
  const b = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (r.int(3) === 0) continue;
    const w = r.pick([1, 0x25, 0xdb8, 0xffff, 0xabcd, r.int(0x10000)]);
    b[i * 2] = w >> 8;
    b[i * 2 + 1] = w & 0xff;
  }
  if (r.int(4) === 0) {
    b.fill(0, 0, 10);
    b[10] = 0xff;
    b[11] = 0xff;
  }
  return b;
}

/** Another spelling of the same octets: groups with leading zeros or not, any case, `::` for some zero run or none, the last 32 bits dotted or not. */
function respell(b: Uint8Array, r: ReturnType<typeof prng>): string {
  const w = Array.from({ length: 8 }, (_, i) => (b[i * 2] << 8) | b[i * 2 + 1]);
  const dotted = r.int(3) === 0;
  const groups = w.slice(0, dotted ? 6 : 8).map((x) => {
    const h = r.int(2) ? x.toString(16).padStart(4, '0') : x.toString(16);
    return r.int(2) ? h.toUpperCase() : h;
  });
  const tail = dotted ? [`${b[12]}.${b[13]}.${b[14]}.${b[15]}`] : [];
  // A run of zero groups to write as `::` (any one, at least one group long), or none.
  const runs: [number, number][] = [];
  for (let i = 0; i < groups.length; i++) {
    if (w[i] !== 0) continue;
    let j = i;
    while (j < groups.length && w[j] === 0) j++;
    runs.push([i, j]);
    i = j;
  }
  if (!runs.length || r.int(3) === 0) return [...groups, ...tail].join(':');
  const [s, e] = r.pick(runs);
  const end = s + 1 + r.int(e - s); // any part of the run that starts with its first group
  return `${groups.slice(0, s).join(':')}::${[...groups.slice(end), ...tail].join(':')}`;
}

test('ipv6Text: RFC 5952 as the URL parser writes it, an IPv4-mapped address with its dotted quad', () => {
  const r = prng(20261201);
  for (let k = 0; k < 5000; k++) {
    const b = randomOctets(r);
    const ours = ipv6Text(b);
    assert.equal(hexOnly(ours), urlSpelling(ours), ours);
    assert.equal(/^::ffff:\d+\.\d+\.\d+\.\d+$/.test(ours), b.subarray(0, 12).every((x, i) => (i < 10 ? x === 0 : x === 0xff)), ours);
    assert.deepEqual(ipv6Octets(ours), b, ours);
  }
  assert.equal(ipv6Text(Buffer.from('00000000000000000000ffff0a000001', 'hex')), '::ffff:10.0.0.1');
  assert.equal(ipv6Text(Buffer.from('aa20010db8000000000000000000000001', 'hex'), 1), '2001:db8::1', 'read from an offset');
});

test('canonicalIpv6: every spelling of an address gives its one spelling', () => {
  const r = prng(20261202);
  for (let k = 0; k < 5000; k++) {
    const b = randomOctets(r);
    const text = respell(b, r);
    assert.ok(isIPv6(text), `the generator wrote an address: ${text}`);
    assert.equal(canonicalIpv6(text), ipv6Text(b), text);
    assert.equal(hexOnly(canonicalIpv6(text)!), urlSpelling(text), text);
  }
  // `::1.2.3.4` is the IPv4-compatible address (RFC 4291 §2.5.5.1), not an IPv4-mapped one.
  assert.equal(canonicalIpv6('::1.2.3.4'), '::102:304');
  assert.equal(canonicalIpv6('::FFFF:A00:1'), '::ffff:10.0.0.1');
});

test('ipv6Octets: a text is an address exactly when inet_pton (Node\'s isIPv6) takes it, a zone id aside', () => {
  const r = prng(20261203);
  const fixed = ['', ':', '::', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::', '::1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8::', '12345::', 'g::', '1.2.3.4', '::1.2.3', '::1.2.3.4.5', '::256.0.0.1', '::01.2.3.4', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '1:2:3:4:5:6::1.2.3.4', '::1.2.3.4:5', ' ::1', '::1 ', '-1::', '+1::', '0x1::', ':1::', '1:'];
  const mutate = (s: string): string => {
    const at = r.int(s.length + 1);
    const ch = r.pick([':', '.', '0', 'f', 'G', '::', '1.2.3.4', '%', ' ']);
    return r.int(2) ? s.slice(0, at) + ch + s.slice(at) : s.slice(0, at) + s.slice(at + 1);
  };
  const texts = [...fixed];
  for (let k = 0; k < 5000; k++) texts.push(mutate(respell(randomOctets(r), r)));
  for (const t of texts) assert.equal(ipv6Octets(t) !== null, isIPv6(t) && !t.includes('%'), JSON.stringify(t));
  assert.equal(canonicalIpv6('fe80::1%eth0'), null, 'DNS data holds no zone id');
});
