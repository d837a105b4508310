// Fuzzing the DNS message parser with mangled answers: a previous host's authoritative servers answer the audit's
// questions, so every octet of a datagram is the attacker's. Well-formed answers (A, AAAA, MX, TXT, CNAME chains, NS,
// PTR, SOA in authority, OPT, names at the 255-octet limit) are mutated — truncated at every length, bits flipped, octets
// overwritten, counts and rdlengths that lie, compression pointers forward, backward, to themselves and in loops,
// labels past 63, sections repeated — and parseResponse must either return records of the declared shape or throw
// MalformedResponse (never a TypeError/RangeError of a buffer read); through the real resolver on 127.0.0.1, resolve()
// must give `ok` data of the right shape or another status, never a rejection.
//
// Deterministic: a seeded PRNG (mulberry32), fixed iteration counts. A failure names the seed, the iteration, the
// base answer, the mutations and the input as hex, so it replays without the loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { decodeTxtStrings, encodeName, MalformedResponse, nameKey, nameTooLong, parseResponse, QTYPE, type ParsedResponse } from '../../../src/adapters/dns/wire.js';
import { createResolver } from '../../../src/adapters/dns/resolver.js';
import type { Answer, RRType } from '../../../src/core/resolver.js';
import { octetsOf } from '../../../src/core/octets.js';
import { scriptedServer } from '../../helpers/dns-query.js';
import { prng, type Rng } from '../../helpers/prng.js';

// ------------------------------------------------------------------------------------------------ PRNG

// (prng, Rng: test/helpers/prng.ts)

// ------------------------------------------------------------------------------------------------ building answers

const u16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const u32 = (n: number) => Buffer.from([n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);

/** Wire form of a name whose labels are given (strings as UTF-8, or bytes), optionally ending in a pointer. */
function wname(labels: (string | Buffer)[], pointer?: number): Buffer {
  const parts = labels.map((l) => (typeof l === 'string' ? Buffer.from(l, 'utf8') : l));
  const tail = pointer === undefined ? Buffer.from([0]) : u16(0xc000 | pointer);
  return Buffer.concat([...parts.map((b) => Buffer.concat([Buffer.from([b.length]), b])), tail]);
}

/** A piece of record data: octets, or a name (whose offset is remembered for the pointer mutations). */
type Piece = Buffer | { name: Buffer };

/** An answer being built, with where its names, counts and rdlengths are (for targeted mutations). */
class Builder {
  private parts: Buffer[] = [];
  len = 0;
  readonly nameAt: number[] = [];
  readonly rdlenAt: number[] = [];
  readonly counts = [0, 0, 0, 0];
  /** Offset of each record (owner first octet) and its end, per section (0 question, 1 answer, 2 authority, 3 additional). */
  readonly records: { section: number; start: number; end: number }[] = [];
  constructor(
    readonly qname: string,
    readonly qtype: number,
    flags: number,
  ) {
    this.put(Buffer.concat([u16(0x1234), u16(flags), Buffer.alloc(8)]));
    this.name(encodeName(qname)!);
    this.put(Buffer.concat([u16(qtype), u16(1)]));
    this.counts[0] = 1;
  }
  put(b: Buffer): number {
    const at = this.len;
    this.parts.push(b);
    this.len += b.length;
    return at;
  }
  name(b: Buffer): number {
    this.nameAt.push(this.len);
    return this.put(b);
  }
  /** A record in `section`; returns the offset of each piece of its data. */
  rr(section: 1 | 2 | 3, owner: Buffer, type: number, data: Piece[], klass = 1, ttl = 300): number[] {
    const start = this.len;
    this.name(owner);
    this.put(Buffer.concat([u16(type), u16(klass), u32(ttl)]));
    const rdlen = data.reduce((n, p) => n + (Buffer.isBuffer(p) ? p.length : p.name.length), 0);
    this.rdlenAt.push(this.len);
    this.put(u16(rdlen));
    const at = data.map((p) => (Buffer.isBuffer(p) ? this.put(p) : this.name(p.name)));
    this.counts[section]++;
    this.records.push({ section, start, end: this.len });
    return at;
  }
  opt(extRcode = 0): void {
    const start = this.len;
    this.name(Buffer.from([0]));
    this.put(Buffer.concat([u16(41), u16(1232), Buffer.from([extRcode, 0, 0, 0])]));
    this.rdlenAt.push(this.len);
    this.put(u16(0));
    this.counts[3]++;
    this.records.push({ section: 3, start, end: this.len });
  }
  done(label: string): Base {
    const msg = Buffer.concat(this.parts);
    for (let i = 0; i < 4; i++) msg.writeUInt16BE(this.counts[i], 4 + i * 2);
    return { label, msg, qname: this.qname, qtype: this.qtype, nameAt: this.nameAt, rdlenAt: this.rdlenAt, records: this.records };
  }
}

interface Base {
  label: string;
  msg: Buffer;
  qname: string;
  qtype: number;
  nameAt: number[];
  rdlenAt: number[];
  records: { section: number; start: number; end: number }[];
}

const QR_RD_RA = 0x8180;
const Q = 12; // the question's name: what servers point owners at
const txtData = (...strings: Buffer[]) => Buffer.concat(strings.map((b) => Buffer.concat([Buffer.from([b.length]), b])));
const ptr = (at: number) => u16(0xc000 | at);
const soa = (b: Builder, section: 1 | 2 | 3, owner: Buffer) =>
  b.rr(section, owner, QTYPE.SOA, [{ name: wname(['ns1'], Q) }, { name: wname(['hostmaster'], Q) }, u32(2024010100), u32(3600), u32(900), u32(604800), u32(300)]);

/** A name of exactly `octets` wire octets (labels of up to 63 'a's), for the 255-octet limit. */
function nameOfLength(octets: number, last = 'test'): Buffer {
  const labels: string[] = [last];
  let used = last.length + 2; // its label and the root
  while (used < octets) {
    const room = octets - used - 1;
    const l = Math.min(63, room);
    if (l < 1) break;
    labels.unshift('a'.repeat(l));
    used += l + 1;
  }
  const b = wname(labels);
  assert.equal(b.length, octets, `name of ${octets} octets`);
  return b;
}

function bases(): Base[] {
  const out: Base[] = [];
  let b = new Builder('mail.example.test', QTYPE.A, QR_RD_RA);
  b.rr(1, ptr(Q), QTYPE.A, [Buffer.from([192, 0, 2, 1])]);
  b.rr(1, ptr(Q), QTYPE.A, [Buffer.from([198, 51, 100, 7])]);
  b.opt();
  out.push(b.done('A'));

  b = new Builder('mail.example.test', QTYPE.AAAA, QR_RD_RA);
  b.rr(1, ptr(Q), QTYPE.AAAA, [Buffer.from('20010db8000000000000000000000001', 'hex')]);
  b.rr(1, ptr(Q), QTYPE.AAAA, [Buffer.from('00000000000000000000ffffc0000201', 'hex')]);
  b.opt();
  out.push(b.done('AAAA'));

  b = new Builder('example.test', QTYPE.MX, QR_RD_RA);
  const [, mx1] = b.rr(1, ptr(Q), QTYPE.MX, [u16(10), { name: wname(['mx1'], Q) }]);
  b.rr(1, ptr(Q), QTYPE.MX, [u16(20), { name: wname(['mx2', 'other', 'test']) }]);
  b.rr(1, ptr(Q), QTYPE.MX, [u16(0), { name: Buffer.from([0]) }]); // a null MX's "."
  b.rr(3, ptr(mx1), QTYPE.A, [Buffer.from([192, 0, 2, 25])]);
  b.opt();
  out.push(b.done('MX'));

  b = new Builder('example.test', QTYPE.TXT, QR_RD_RA | 0x0400);
  b.rr(1, ptr(Q), QTYPE.TXT, [txtData(Buffer.from('v=spf1 include:_spf.example.net '), Buffer.from('ip4:192.0.2.0/24 -all'))]);
  b.rr(1, ptr(Q), QTYPE.TXT, [txtData(Buffer.alloc(255, 0x41), Buffer.alloc(255, 0x42), Buffer.alloc(200, 0x43))]);
  // A character split across two strings, an octet that is not UTF-8, an empty string.
  b.rr(1, ptr(Q), QTYPE.TXT, [txtData(Buffer.from([0x63, 0x61, 0x66, 0xc3]), Buffer.from([0xa9, 0xe9]), Buffer.alloc(0))]);
  b.rr(1, ptr(Q), QTYPE.TXT, [Buffer.alloc(0)]); // no character-string at all
  b.opt();
  out.push(b.done('TXT'));

  b = new Builder('_dmarc.example.test', QTYPE.TXT, QR_RD_RA);
  b.rr(1, ptr(Q), QTYPE.TXT, [txtData(Buffer.from('v=DMARC1; p=reject; rua=mailto:d@example.test'))]);
  b.rr(1, ptr(Q), QTYPE.TXT, [txtData(Buffer.from('v=DMARC1; p=reject; rua=mailto:d@example.test'))]); // the same again
  out.push(b.done('TXT, a record twice'));

  b = new Builder('www.example.test', QTYPE.A, QR_RD_RA);
  const [c1] = b.rr(1, ptr(Q), QTYPE.CNAME, [{ name: wname(['a', 'chain'], Q + 4) }]);
  const [c2] = b.rr(1, ptr(c1), QTYPE.CNAME, [{ name: wname(['b'], c1 + 2) }]);
  b.rr(1, ptr(c2), QTYPE.A, [Buffer.from([192, 0, 2, 80])]);
  b.rr(1, ptr(Q), QTYPE.A, [Buffer.from([192, 0, 2, 99])]); // not at the end of the chain
  b.opt();
  out.push(b.done('CNAME chain'));

  b = new Builder('alias.example.test', QTYPE.CNAME, QR_RD_RA);
  b.rr(1, ptr(Q), QTYPE.CNAME, [{ name: wname(['target', 'example', 'net']) }]);
  out.push(b.done('CNAME'));

  b = new Builder('example.test', QTYPE.NS, QR_RD_RA);
  const [ns1] = b.rr(1, ptr(Q), QTYPE.NS, [{ name: wname(['ns1'], Q) }]);
  const [ns2] = b.rr(1, ptr(Q), QTYPE.NS, [{ name: wname(['ns2'], Q) }]);
  b.rr(3, ptr(ns1), QTYPE.A, [Buffer.from([192, 0, 2, 53])]);
  b.rr(3, ptr(ns2), QTYPE.AAAA, [Buffer.from('20010db8000000000000000000000053', 'hex')]);
  out.push(b.done('NS'));

  b = new Builder('1.2.0.192.in-addr.arpa', QTYPE.PTR, QR_RD_RA);
  b.rr(1, ptr(Q), QTYPE.PTR, [{ name: wname(['host', 'example', 'test']) }]);
  out.push(b.done('PTR'));

  b = new Builder('nowhere.example.test', QTYPE.TXT, QR_RD_RA | 3);
  soa(b, 2, ptr(Q + 8));
  b.opt();
  out.push(b.done('NXDOMAIN, SOA in authority'));

  b = new Builder('example.test', QTYPE.MX, 0x8500); // AA, RA=0: the zone's own server
  soa(b, 2, ptr(Q));
  out.push(b.done('NODATA, SOA in authority'));

  b = new Builder('example.test', QTYPE.TXT, 0x8100); // RA=0: a referral
  const [r1] = b.rr(2, ptr(Q), QTYPE.NS, [{ name: wname(['ns1', 'elsewhere', 'test']) }]);
  b.rr(2, ptr(Q), QTYPE.NS, [{ name: wname(['ns2'], r1 + 4) }]);
  b.rr(3, ptr(r1), QTYPE.A, [Buffer.from([192, 0, 2, 54])]);
  out.push(b.done('referral'));

  b = new Builder('example.test', QTYPE.SPF, QR_RD_RA);
  b.rr(1, ptr(Q), QTYPE.SPF, [txtData(Buffer.from('v=spf1 -all'))]);
  b.opt(1); // BADVERS
  out.push(b.done('SPF, BADVERS'));

  // Names at the 255-octet limit (RFC 1035 §3.1: label octets and length octets, the root's included).
  for (const octets of [254, 255, 256, 257]) {
    b = new Builder('long.example.test', QTYPE.CNAME, QR_RD_RA);
    b.rr(1, ptr(Q), QTYPE.CNAME, [{ name: nameOfLength(octets) }]);
    out.push(b.done(`CNAME target of ${octets} octets`));
    b = new Builder('example.test', QTYPE.MX, QR_RD_RA);
    // Labels before a pointer to the question's name (14 octets): the name is read through the pointer.
    const labels = nameOfLength(octets - 14 + 1, 'x').subarray(0, -1);
    b.rr(1, ptr(Q), QTYPE.MX, [u16(10), { name: Buffer.concat([labels, ptr(Q)]) }]);
    out.push(b.done(`MX exchange of ${octets} octets through a pointer`));
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ mutations

type Mutation = { what: string; apply(m: Buffer, base: Base, rng: Rng): Buffer };

const INTERESTING = [0x00, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xfe, 0xff];

const MUTATIONS: Mutation[] = [
  {
    what: 'bit flips',
    apply(m, _b, rng) {
      const out = Buffer.from(m);
      for (let k = 1 + rng.int(4); k > 0 && out.length; k--) out[rng.int(out.length)] ^= 1 << rng.int(8);
      return out;
    },
  },
  {
    what: 'octets overwritten',
    apply(m, _b, rng) {
      const out = Buffer.from(m);
      for (let k = 1 + rng.int(3); k > 0 && out.length; k--) out[rng.int(out.length)] = rng.next() < 0.5 ? rng.pick(INTERESTING) : rng.int(256);
      return out;
    },
  },
  {
    what: 'a count set high or low',
    apply(m, _b, rng) {
      const out = Buffer.from(m);
      if (out.length < 12) return out;
      const at = 4 + 2 * rng.int(4);
      const was = out.readUInt16BE(at);
      out.writeUInt16BE(rng.pick([0, 1, 2, 3, 16, 255, 256, 0x7fff, 0xffff, (was + 1) & 0xffff, (was + 0xffff) & 0xffff]), at);
      return out;
    },
  },
  {
    what: 'an rdlength lies',
    apply(m, b, rng) {
      const out = Buffer.from(m);
      const at = rng.pick(b.rdlenAt);
      if (at + 2 > out.length) return out;
      const was = out.readUInt16BE(at);
      out.writeUInt16BE(rng.pick([0, 1, 2, 3, 4, 15, 16, 17, 255, 256, 0xffff, (was + 1) & 0xffff, (was + 0xffff) & 0xffff, rng.int(65536)]), at);
      return out;
    },
  },
  {
    what: 'a compression pointer (forward, backward, self, loop, into the header, past the end)',
    apply(m, b, rng) {
      const out = Buffer.from(m);
      const at = rng.pick(b.nameAt);
      if (at + 2 > out.length) return out;
      const kind = rng.int(6);
      let to: number;
      if (kind === 0) to = at; // to itself
      else if (kind === 1) to = at + 1 + rng.int(Math.max(1, out.length - at)); // forward
      else if (kind === 2) to = rng.int(at + 1); // backward
      else if (kind === 3) to = rng.int(12); // into the header
      else if (kind === 4) to = out.length + rng.int(64); // past the end
      else {
        // A loop through two names: each points at the other.
        const other = rng.pick(b.nameAt);
        if (other + 2 <= out.length) out.writeUInt16BE(0xc000 | at, other);
        to = other;
      }
      out.writeUInt16BE(0xc000 | (to & 0x3fff), at);
      return out;
    },
  },
  {
    what: 'a label length past 63 or past its name',
    apply(m, b, rng) {
      const out = Buffer.from(m);
      const at = rng.pick(b.nameAt);
      if (at >= out.length) return out;
      out[at] = rng.pick([0x40, 0x41, 0x7f, 0x80, 0xbf, 63, 62, 0x3f, rng.int(64)]);
      return out;
    },
  },
  {
    what: 'flags: TC, AA, RA, QR, opcode, rcode',
    apply(m, _b, rng) {
      const out = Buffer.from(m);
      if (out.length < 4) return out;
      const bit = rng.int(4);
      if (bit === 0) out[2] ^= 0x02; // TC
      else if (bit === 1) out[2] ^= 0x04; // AA
      else if (bit === 2) out[3] ^= 0x80; // RA
      else out[3] = (out[3] & 0xf0) | rng.int(16); // rcode
      if (rng.next() < 0.1) out[2] = (out[2] & 0x87) | (rng.int(16) << 3); // opcode
      return out;
    },
  },
  {
    what: 'a record repeated (its section count raised)',
    apply(m, b, rng) {
      const r = rng.pick(b.records);
      if (r.end > m.length || m.length < 12) return Buffer.from(m);
      // Inserted just after itself, so it stays in its section.
      const out = Buffer.concat([m.subarray(0, r.end), m.subarray(r.start, r.end), m.subarray(r.end)]);
      const at = 4 + 2 * r.section;
      out.writeUInt16BE((out.readUInt16BE(at) + 1) & 0xffff, at);
      return out;
    },
  },
  {
    what: 'the answer section twice',
    apply(m, b) {
      const an = b.records.filter((r) => r.section === 1);
      if (!an.length || m.length < 12 || an[an.length - 1].end > m.length) return Buffer.from(m);
      const s = an[0].start;
      const e = an[an.length - 1].end;
      const out = Buffer.concat([m.subarray(0, e), m.subarray(s, e), m.subarray(e)]);
      out.writeUInt16BE((out.readUInt16BE(6) * 2) & 0xffff, 6);
      return out;
    },
  },
  {
    what: 'a second OPT record, or another extended rcode',
    apply(m, _b, rng) {
      if (m.length < 12) return Buffer.from(m);
      const o = Buffer.concat([Buffer.from([0]), u16(41), u16(rng.int(65536)), Buffer.from([rng.pick([0, 1, 2, 0xff]), 0, 0, 0]), u16(0)]);
      const out = Buffer.concat([m, o]);
      out.writeUInt16BE((out.readUInt16BE(10) + 1) & 0xffff, 10);
      return out;
    },
  },
  {
    what: 'octets inserted',
    apply(m, _b, rng) {
      const at = rng.int(m.length + 1);
      const ins = Buffer.from(Array.from({ length: 1 + rng.int(8) }, () => (rng.next() < 0.5 ? rng.pick(INTERESTING) : rng.int(256))));
      return Buffer.concat([m.subarray(0, at), ins, m.subarray(at)]);
    },
  },
  {
    what: 'octets deleted',
    apply(m, _b, rng) {
      const at = rng.int(m.length + 1);
      return Buffer.concat([m.subarray(0, at), m.subarray(Math.min(m.length, at + 1 + rng.int(8)))]);
    },
  },
  {
    what: 'cut short',
    apply(m, _b, rng) {
      return Buffer.from(m.subarray(0, rng.int(m.length + 1)));
    },
  },
];

// ------------------------------------------------------------------------------------------------ the properties

const DOTTED_QUAD = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;

/** A name as the parser gives it: text that fits in 255 wire octets (it can be asked again as it was read). */
function nameProblem(n: unknown): string | null {
  if (typeof n !== 'string') return `a name that is ${typeof n}, not a string`;
  if (nameTooLong(n)) return `a name of ${octetsOf(n).length + 2} wire octets (more than 255): ${JSON.stringify(n)}`;
  if (n !== n.replace(/[A-Z]/g, (c) => c.toLowerCase())) return `a name not lower-cased: ${JSON.stringify(n)}`;
  return null;
}

/** What is wrong with one record of `qtype`, or null. */
function recordProblem(r: unknown, qtype: number): string | null {
  switch (qtype) {
    case QTYPE.A:
      return typeof r === 'string' && DOTTED_QUAD.test(r) ? null : `an A record that is not a dotted quad: ${JSON.stringify(r)}`;
    case QTYPE.AAAA:
      return typeof r === 'string' && net.isIPv6(r) ? null : `an AAAA record that is not an IPv6 address: ${JSON.stringify(r)}`;
    case QTYPE.TXT:
    case QTYPE.SPF:
      if (!Array.isArray(r) || !r.every((s) => typeof s === 'string')) return `a TXT record that is not string[]: ${JSON.stringify(r)}`;
      // Each string comes from one character-string: at most 255 octets, give or take a character split across two
      // (which goes whole to the string it starts in: at most 3 octets more).
      for (const s of r) if (octetsOf(s).length > 255 + 3) return `a TXT string of ${octetsOf(s).length} octets`;
      return null;
    case QTYPE.MX: {
      if (!r || typeof r !== 'object' || Array.isArray(r)) return `an MX record that is not an object: ${JSON.stringify(r)}`;
      const mx = r as { priority: unknown; exchange: unknown };
      if (Object.keys(mx).length !== 2) return `an MX record with other fields: ${JSON.stringify(r)}`;
      if (typeof mx.priority !== 'number' || !Number.isInteger(mx.priority) || mx.priority < 0 || mx.priority > 65535) return `an MX priority that is not 0–65535: ${String(mx.priority)}`;
      return nameProblem(mx.exchange);
    }
    case QTYPE.CNAME:
    case QTYPE.NS:
    case QTYPE.PTR:
      return nameProblem(r);
    default:
      return `a record of type ${qtype}, which is never read: ${JSON.stringify(r)}`;
  }
}

/** What is wrong with a parse result, or null. */
function responseProblem(p: ParsedResponse, qtype: number): string | null {
  if (!Number.isInteger(p.id) || p.id < 0 || p.id > 0xffff) return `id ${p.id}`;
  if (!Number.isInteger(p.rcode) || p.rcode < 0 || p.rcode > 0xfff) return `rcode ${p.rcode}`;
  for (const k of ['truncated', 'aa', 'ra', 'opt'] as const) if (typeof p[k] !== 'boolean') return `${k} is ${typeof p[k]}`;
  if (p.authority !== null && p.authority !== 'soa' && p.authority !== 'ns') return `authority ${String(p.authority)}`;
  if (p.error !== null && (typeof p.error !== 'string' || !p.error)) return `error ${String(p.error)}`;
  if (!Array.isArray(p.records) || !Array.isArray(p.chain)) return 'records or chain not a list';
  for (const c of p.chain) {
    const why = nameProblem(c);
    if (why) return `chain: ${why}`;
  }
  for (const r of p.records) {
    const why = recordProblem(r, qtype);
    if (why) return why;
  }
  if (p.error === null && p.rcode === 3 && p.records.length) return 'NXDOMAIN with records, and no error';
  const keys = p.records.map((r) => JSON.stringify(r));
  if (new Set(keys).size !== keys.length) return `a record listed twice: ${keys.join(' ')}`;
  return null;
}

/** Parse `msg`; the reason it breaks the contract, or null (records of the declared shape, or MalformedResponse). */
function parseProblem(msg: Buffer, qnameKey: string, qtype: number): string | null {
  let p: ParsedResponse;
  try {
    p = parseResponse(msg, qnameKey, qtype);
  } catch (e) {
    if (e instanceof MalformedResponse && e.message) return null;
    return `threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`;
  }
  return responseProblem(p, qtype);
}

function report(seed: number | string, iteration: number, base: Base, steps: string[], msg: Buffer, why: string): string {
  return [
    `wire fuzz: ${why}`,
    `  seed ${seed}, iteration ${iteration}, base "${base.label}" (qname ${base.qname}, qtype ${base.qtype}), mutations: ${steps.join(' → ') || 'none'}`,
    `  replay: parseResponse(Buffer.from('${msg.toString('hex')}', 'hex'), nameKey(encodeName(${JSON.stringify(base.qname)})!), ${base.qtype})`,
  ].join('\n');
}

// ------------------------------------------------------------------------------------------------ the loops

const SEED = 0x5eed_0d15;
const ITERATIONS = 100_000;

test('wire fuzz: every base answer parses as built (the mutations start from well-formed answers)', () => {
  for (const b of bases()) {
    const key = nameKey(encodeName(b.qname)!);
    const long = /of (256|257) octets/.test(b.label);
    let p: ParsedResponse | null = null;
    try {
      p = parseResponse(b.msg, key, b.qtype);
    } catch (e) {
      assert.ok(long && e instanceof MalformedResponse, `${b.label}: ${(e as Error).message}`);
      continue;
    }
    assert.ok(!long, `${b.label}: a name past 255 octets is malformed, not read`);
    assert.equal(responseProblem(p, b.qtype), null, b.label);
  }
});

test('wire fuzz: every truncation of every base answer parses or is MalformedResponse', () => {
  let n = 0;
  for (const b of bases()) {
    const key = nameKey(encodeName(b.qname)!);
    for (let len = 0; len <= b.msg.length; len++) {
      const msg = Buffer.from(b.msg.subarray(0, len));
      const why = parseProblem(msg, key, b.qtype);
      assert.equal(why, null, why ? report('none (every length)', len, b, [`cut at ${len}`], msg, why) : '');
      n++;
    }
  }
  assert.ok(n > 1000, `${n} truncations`);
});

test(`wire fuzz: ${ITERATIONS} mangled answers (seed ${SEED}) parse to records of the declared shape or MalformedResponse`, (t) => {
  const rng = prng(SEED);
  const all = bases();
  const keys = new Map(all.map((b) => [b, nameKey(encodeName(b.qname)!)]));
  const outcomes = { parsed: 0, malformed: 0, withRecords: 0 };
  for (let i = 0; i < ITERATIONS; i++) {
    const base = rng.pick(all);
    let msg = base.msg;
    const steps: string[] = [];
    for (let k = 1 + rng.int(3); k > 0; k--) {
      const m = rng.pick(MUTATIONS);
      steps.push(m.what);
      msg = m.apply(msg, base, rng);
    }
    // Asked for the base's type, and now and then for another one (the parser must read any answer to any question).
    const qtype = rng.next() < 0.85 ? base.qtype : rng.pick([QTYPE.A, QTYPE.AAAA, QTYPE.MX, QTYPE.TXT, QTYPE.CNAME, QTYPE.NS, QTYPE.PTR, QTYPE.SPF]);
    let p: ParsedResponse | null = null;
    let why: string | null = null;
    try {
      p = parseResponse(msg, keys.get(base)!, qtype);
    } catch (e) {
      if (!(e instanceof MalformedResponse && e.message)) why = `threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`;
    }
    if (p) {
      why = responseProblem(p, qtype);
      outcomes.parsed++;
      if (p.records.length) outcomes.withRecords++;
    } else outcomes.malformed++;
    if (why) assert.fail(report(SEED, i, { ...base, qtype }, steps, msg, why));
  }
  t.diagnostic(`outcomes: ${JSON.stringify(outcomes)}`);
  // The loop reached both sides of the parser (not only its first checks).
  assert.ok(outcomes.parsed > ITERATIONS / 10 && outcomes.malformed > ITERATIONS / 10 && outcomes.withRecords > ITERATIONS / 20, JSON.stringify(outcomes));
});

test('wire fuzz: random TXT records read off the wire as decodeTxtStrings reads their strings, and keep their octets (seed 7)', () => {
  const rng = prng(7);
  const octet = () => (rng.next() < 0.3 ? rng.pick([0x22, 0x5c, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xed, 0xa0, 0xff, 0x80, 0x00]) : 0x20 + rng.int(0x5f));
  for (let i = 0; i < 5000; i++) {
    const strings = Array.from({ length: 1 + rng.int(4) }, () => Buffer.from(Array.from({ length: rng.next() < 0.1 ? 255 : rng.int(12) }, octet)));
    const b = new Builder('example.test', QTYPE.TXT, QR_RD_RA);
    b.rr(1, ptr(Q), QTYPE.TXT, [txtData(...strings)]);
    const msg = b.done('random TXT').msg;
    const hex = strings.map((s) => s.toString('hex'));
    const p = parseResponse(msg, nameKey(encodeName('example.test')!), QTYPE.TXT);
    const decoded = decodeTxtStrings(strings);
    assert.deepEqual(p.records, [decoded], `iteration ${i}: strings ${JSON.stringify(hex)}`);
    assert.equal(decoded.length, strings.length, `iteration ${i}: one text per string ${JSON.stringify(hex)}`);
    assert.deepEqual(octetsOf(decoded.join('')), Buffer.concat(strings), `iteration ${i}: the octets back ${JSON.stringify(hex)}`);
  }
});

// ------------------------------------------------------------------------------------------------ found by the fuzzer

test('regression (fuzz): a name of 256 wire octets is malformed, wherever it is; one of 255 is read and can be asked again', () => {
  // RFC 1035 §3.1: label octets and length octets, the root's zero included, at most 255. The parser counted the labels
  // without the root and allowed 255 of them: a 256-octet CNAME target or MX exchange was read as a name that
  // encodeName then refused (a lookup of that MX host answered "name too long" as NXDOMAIN).
  const cname = (octets: number) => {
    const b = new Builder('long.example.test', QTYPE.CNAME, QR_RD_RA);
    b.rr(1, ptr(Q), QTYPE.CNAME, [{ name: nameOfLength(octets) }]);
    return b.done('').msg;
  };
  const key = nameKey(encodeName('long.example.test')!);
  const at255 = parseResponse(cname(255), key, QTYPE.CNAME).records;
  assert.equal(at255.length, 1);
  assert.equal(encodeName(at255[0] as string)!.length, 255, 'read, and written back as the same 255 octets');
  assert.throws(() => parseResponse(cname(256), key, QTYPE.CNAME), (e) => e instanceof MalformedResponse && e.message === 'name too long');
  // The exact input the fuzzer found: an MX exchange of 242 octets of labels, then a pointer to the 14-octet question
  // name (example.test): 256 octets in all.
  const mx = Buffer.from(
    '123481800001000100000000076578616d706c65047465737400000f0001c00c000f00010000012c00f6000a2f' +
      '61'.repeat(47) + '3f' + '61'.repeat(63) + '3f' + '61'.repeat(63) + '3f' + '61'.repeat(63) + '0178c00c',
    'hex',
  );
  assert.throws(() => parseResponse(mx, nameKey(encodeName('example.test')!), QTYPE.MX), (e) => e instanceof MalformedResponse && e.message === 'name too long');
  // The same as an owner name (read by skipName in the authority section, by readName in the answer section).
  const owner = nameOfLength(256);
  const b = new Builder('example.test', QTYPE.TXT, QR_RD_RA);
  b.rr(2, owner, QTYPE.NS, [{ name: wname(['ns1'], Q) }]);
  assert.throws(() => parseResponse(b.done('').msg, nameKey(encodeName('example.test')!), QTYPE.TXT), /name too long/);
  const c = new Builder('example.test', QTYPE.TXT, QR_RD_RA);
  c.rr(1, owner, QTYPE.TXT, [txtData(Buffer.from('v=spf1 -all'))]);
  assert.throws(() => parseResponse(c.done('').msg, nameKey(encodeName('example.test')!), QTYPE.TXT), /name too long/);
});

// ------------------------------------------------------------------------------------------------ end to end

const TYPES: Record<number, RRType> = { [QTYPE.A]: 'A', [QTYPE.AAAA]: 'AAAA', [QTYPE.MX]: 'MX', [QTYPE.TXT]: 'TXT', [QTYPE.CNAME]: 'CNAME', [QTYPE.NS]: 'NS', [QTYPE.PTR]: 'PTR' };

function answerProblem(a: Answer, name: string, type: RRType): string | null {
  if (a.name !== name || a.type !== type) return `answer for ${a.name} ${a.type}`;
  if (!['ok', 'nodata', 'nxdomain', 'unknown'].includes(a.status)) return `status ${a.status}`;
  if (!Array.isArray(a.records)) return 'records not a list';
  if (a.status === 'ok' && a.records.length === 0) return 'ok without records';
  if (a.status !== 'ok' && a.records.length) return `${a.status} with records`;
  if (a.status === 'unknown' && (typeof a.error !== 'string' || !a.error)) return 'unknown without an error';
  for (const r of a.records) {
    const why = recordProblem(r, QTYPE[type]);
    if (why) return why;
  }
  for (const c of a.cnames ?? []) {
    const why = nameProblem(c);
    if (why) return `cnames: ${why}`;
  }
  return null;
}

const E2E_SEED = 20240611;
const E2E_ITERATIONS = 400;

test(`wire fuzz end to end: ${E2E_ITERATIONS} mangled answers from a server on 127.0.0.1 (seed ${E2E_SEED}) are ok data of the right shape or another status, never a rejection`, async (t) => {
  const rng = prng(E2E_SEED);
  const all = bases().filter((b) => TYPES[b.qtype]);
  // The answer the server sends next: the base, mangled after its question (the client takes only an answer with its
  // id and its question: anything else would wait out the timeout), with the asking query's id.
  let next: Buffer = all[0].msg;
  let sent: Buffer[] = [];
  const srv = await scriptedServer((q) => {
    const out = Buffer.from(next);
    out.writeUInt16BE(q.id, 0);
    sent.push(out);
    return out;
  });
  t.after(() => srv.close());
  const r = createResolver({ servers: [srv.spec], timeoutMs: 5000, tries: 1, cache: false });
  t.after(() => r.close());
  const statuses: Record<string, number> = {};
  for (let i = 0; i < E2E_ITERATIONS; i++) {
    const base = rng.pick(all);
    const qEnd = 12 + encodeName(base.qname)!.length + 4;
    let tail = base.msg.subarray(qEnd);
    const header = Buffer.from(base.msg.subarray(0, qEnd));
    const steps: string[] = [];
    for (let k = 1 + rng.int(3); k > 0; k--) {
      const m = rng.pick(MUTATIONS);
      steps.push(m.what);
      const whole = m.apply(Buffer.concat([header, tail]), base, rng);
      // The header's id, QR and question count stay (else the answer is not ours, and only times out); the rest as
      // mangled, the question as asked.
      if (whole.length >= 12) {
        header.set(whole.subarray(2, 4), 2);
        header.set(whole.subarray(6, 12), 6);
      }
      header[2] |= 0x80;
      tail = whole.length > qEnd ? whole.subarray(qEnd) : Buffer.alloc(0);
    }
    next = Buffer.concat([header, tail]);
    sent = [];
    const type = TYPES[base.qtype];
    let a: Answer;
    try {
      a = await r.resolve(base.qname, type);
    } catch (e) {
      assert.fail(report(E2E_SEED, i, base, steps, next, `resolve() rejected: ${(e as Error).message}`));
    }
    const why = answerProblem(a, base.qname, type);
    if (why) assert.fail(report(E2E_SEED, i, base, steps, sent[0] ?? next, `${why} (${JSON.stringify(a)})`));
    statuses[a.status] = (statuses[a.status] ?? 0) + 1;
  }
  t.diagnostic(`statuses: ${JSON.stringify(statuses)}`);
  // Mangled answers gave every kind of outcome, records included.
  assert.ok(statuses.ok > 0 && statuses.unknown > 0, JSON.stringify(statuses));
});
