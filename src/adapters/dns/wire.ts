// A small DNS stub client over the wire (RFC 1035 + EDNS0), on node:dgram / node:net.
// Why not c-ares: it refuses legal names holding ':' '/' '%' or spaces (EBADNAME) and rejects a whole TXT answer when
// one record has zero character-strings (EBADRESP). Here a name is sent as the bytes it holds (UTF-8 of the JS
// string), and only names that cannot be encoded at all (empty label, label > 63 octets, name > 255 wire octets) are
// refused; a name past 255 wire octets cannot exist at all, and is refused as such (NAME_TOO_LONG).
//
// Transport: per server, a few UDP sockets connected to it (each bound to a random source port by the kernel, used in
// turn; past 16 servers, a shared pool of unconnected ones), a random 16-bit id per query; a response counts only when
// it comes from the server asked and carries our id and our question (ASCII case-insensitive), anything else is
// ignored — but for TC=1 with no question at all (QDCOUNT 0), which goes to TCP as any TC=1 (as BIND does). EDNS0 OPT
// advertises 1232 bytes; a server that answers FORMERR or NOTIMP without an OPT record (it does not know EDNS: RFC
// 6891 §7) is asked again at once without it, and from then on always without it (for the client's life: its answers
// are then up to 512 octets over UDP, larger ones come truncated and go to TCP as any other). A timeout retries (same
// id) on the next server, up to `tries` attempts; a late answer from a server asked before counts (NOERROR, NXDOMAIN),
// but a late SERVFAIL/REFUSED/… from it does not end the current attempt (it is the error only if that one times out).
// TC=1 → the same query over TCP (2-byte length framing), one connection per truncated answer; TC=1 again over TCP is
// an error ('truncated'). An ICMP "unreachable" is a lost datagram (a timeout), on connected and unconnected sockets
// alike. The rcode is the full one (the OPT record's extended bits included); a CNAME chain that loops or runs past
// MAX_CNAME_HOPS is an error, never NODATA, and so is an answer section that does not answer the question (records
// only for another name, type or class, a chain with a missing link: notAnAnswer) and an NXDOMAIN that holds records.
//
// Process lifetime: sockets are always unref'd; only the one timeout timer, armed while queries are pending, holds the
// event loop, so an idle client never keeps a CLI process alive. `close()` closes the sockets and settles whatever is
// pending.
import dgram from 'node:dgram';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { randomFillSync } from 'node:crypto';
import { emptyList } from '../../core/arrays.js';
import { lowerAscii } from '../../core/domain.js';
import { ipv6Text } from '../../core/ip.js';
import { decodeJoined, ESCAPED_OCTET, octetsOf } from '../../core/octets.js';

export const QTYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SPF: 99 } as const;
export type QTypeName = keyof typeof QTYPE;

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

const RCODE_NAMES = ['noerror', 'formerr', 'servfail', 'nxdomain', 'notimp', 'refused', 'yxdomain', 'yxrrset', 'nxrrset', 'notauth', 'notzone'];
/** The extended rcodes (RFC 6891 and later) from 16 on, which need the OPT record's upper 8 bits. */
const EXT_RCODE_NAMES = ['badvers', 'badkey', 'badtime', 'badmode', 'badname', 'badalg', 'badtrunc', 'badcookie'];

/** Lower-case rcode name, e.g. "notimp", "yxdomain", "badvers"; unassigned ones as "rcode 12". */
export function rcodeName(rcode: number): string {
  return (rcode < 16 ? RCODE_NAMES[rcode] : EXT_RCODE_NAMES[rcode - 16]) ?? `rcode ${rcode}`;
}

export const EDNS_PAYLOAD = 1232;

export interface ServerAddress {
  host: string;
  port: number;
  family: 4 | 6;
}

/** "host", "host:port", "[v6]:port", bare "v6". */
export function parseServerSpec(s: string, defaultPort = 53): { host: string; port: number } {
  const m6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (m6) return { host: m6[1], port: m6[2] ? Number(m6[2]) : defaultPort };
  const m = /^([^:]+)(?::(\d+))?$/.exec(s);
  if (m) return { host: m[1], port: m[2] ? Number(m[2]) : defaultPort };
  return { host: s, port: defaultPort };
}

/** Nameservers of resolv.conf (IPv4/IPv6 literals, zone ids kept); 127.0.0.1 when there are none. */
export function systemNameservers(path = '/etc/resolv.conf'): string[] {
  const out: string[] = [];
  try {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const m = /^\s*nameserver\s+(\S+)/.exec(line);
      if (!m) continue;
      const host = m[1];
      if (net.isIP(host.replace(/%.*$/, ''))) out.push(host.includes(':') ? `[${host}]:53` : `${host}:53`);
    }
  } catch {
    // no resolv.conf: fall through
  }
  return out.length ? out : ['127.0.0.1:53'];
}

// ------------------------------------------------------------------------------------------------ encoding

/**
 * Write the wire form of `name` (labels as UTF-8 bytes) at `offset` of `out` (which has room for 255 octets), returning
 * its length, or -1 when it cannot be encoded, -2 when it is longer than 255 wire octets. "" and "." are the root.
 */
function writeName(name: string, out: Buffer, offset: number): number {
  const text = name.endsWith('.') ? name.slice(0, -1) : name;
  if (text === '') {
    out[offset] = 0;
    return 1;
  }
  if (text.length > 253) return -2; // every char is ≥ 1 octet: 254 chars need ≥ 256 wire octets
  // UTF-8 never uses 0x2e inside a multi-byte sequence, so labels are split on the '.' byte.
  let n = out.write(text, offset + 1, 'utf8');
  // Not ASCII and holding octets of a name that was not UTF-8 in the answer it came from (decodeText): those are
  // written back as they were.
  if (n !== text.length && ESCAPED_OCTET.test(text)) {
    const bytes = octetsOf(text);
    if (bytes.length + 2 > 255) return -2;
    n = bytes.copy(out, offset + 1);
  } else if (n !== Buffer.byteLength(text, 'utf8') || n + 2 > 255) return -2; // (a write cut short by `out`'s end too)
  let lenAt = offset;
  for (let i = offset + 1, end = offset + 1 + n; i <= end; i++) {
    if (i === end || out[i] === 0x2e) {
      const len = i - lenAt - 1;
      if (len === 0 || len > 63) return -1;
      out[lenAt] = len;
      lenAt = i;
    }
  }
  out[offset + n + 1] = 0;
  return n + 2;
}

/** Wire form of a name (labels as UTF-8 bytes), or null when it cannot be encoded. "" and "." are the root. */
export function encodeName(name: string): Buffer | null {
  const buf = Buffer.allocUnsafe(256);
  const n = writeName(name, buf, 0);
  return n < 0 ? null : Buffer.from(buf.subarray(0, n));
}

/**
 * The error of a question whose name is longer than 255 wire octets (RFC 1035 §2.3.4): no such name can exist, so
 * the resolver answers it as NXDOMAIN without asking (resolver.ts), where a name that cannot be encoded for another
 * reason (an empty label, a label past 63 octets) stays 'bad name'.
 */
export const NAME_TOO_LONG = 'name too long';

/** Is `name` longer than DNS allows (255 wire octets)? For a name buildQuery refused, to say why. */
export function nameTooLong(name: string): boolean {
  return writeName(name, Buffer.allocUnsafe(512), 0) === -2;
}

/** Where queries are written before they are copied out at their exact length. */
const SCRATCH = Buffer.alloc(12 + 255 + 4 + 11);

/**
 * A query: header (RD), one question, one EDNS0 OPT (payload 1232); null when the name cannot be encoded. `qEnd` is
 * where the OPT record starts (withoutEdns).
 */
export function buildQuery(name: string, qtype: number, id = 0): { query: Buffer; qEnd: number } | null {
  const buf = SCRATCH;
  const nl = writeName(name, buf, 12);
  if (nl < 0) return null;
  buf.writeUInt16BE(id, 0);
  buf.writeUInt16BE(0x0100, 2); // RD
  buf.writeUInt16BE(1, 4); // QDCOUNT
  buf.writeUInt32BE(0, 6); // ANCOUNT, NSCOUNT
  buf.writeUInt16BE(1, 10); // ARCOUNT (OPT)
  let o = 12 + nl;
  buf.writeUInt16BE(qtype, o);
  buf.writeUInt16BE(1, o + 2); // IN
  o += 4;
  const qEnd = o;
  buf[o] = 0; // OPT owner: root
  buf.writeUInt16BE(41, o + 1);
  buf.writeUInt16BE(EDNS_PAYLOAD, o + 3);
  buf.writeUInt32BE(0, o + 5); // ext-rcode, version, flags
  buf.writeUInt16BE(0, o + 9);
  // A buffer of its own, of the query's length (a small slice of Node's pool, not a 282-octet one per query).
  const query = Buffer.allocUnsafe(o + 11);
  buf.copy(query, 0, 0, o + 11);
  return { query, qEnd };
}

/** `query` (buildQuery's) as it is sent to a server that does not know EDNS: cut before the OPT record, ARCOUNT 0. */
export function withoutEdns(query: Buffer, qEnd: number): Buffer {
  const out = Buffer.allocUnsafe(qEnd);
  query.copy(out, 0, 0, qEnd);
  out.writeUInt16BE(0, 10);
  return out;
}

// ------------------------------------------------------------------------------------------------ decoding

export class MalformedResponse extends Error {}

/**
 * A label's bytes as text, as readTxt decodes a TXT string: valid UTF-8 as such, any other octet as U+DC00 + octet
 * (never the latin1 char, which would read like the UTF-8 name of that char). writeName turns such text back into the
 * same bytes, so a name read from an answer is asked again exactly as it was written.
 */
export function decodeText(buf: Buffer, start: number, end: number): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (buf[i] > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return buf.toString('latin1', start, end);
  const sub = buf.subarray(start, end);
  return isUtf8(sub) ? sub.toString('utf8') : decodeJoined(sub, sub.length, [sub.length])[0];
}


interface NameRead {
  /** Byte-exact comparison key: latin1 labels, ASCII lower-cased, '.'-joined. */
  key: string;
  /** Offset just past the name at its original position. */
  next: number;
}

/**
 * A name that is the rest of a record's data (CNAME, NS, PTR, MX exchange): it must end exactly where the rdata ends —
 * else rdlength lies and the name was read from the next record's bytes (a malformed answer, not data).
 */
function nameIn(msg: Buffer, start: number, end: number): NameRead & { text: string } {
  const r = readName(msg, start, true);
  if (r.next !== end) throw new MalformedResponse('a name in the record data does not end where the data does');
  return r;
}

/** The octets of a name's labels with their length octets, at most: 255 for the whole name less the root's zero. */
const MAX_LABELS_OCTETS = 254;

/** Read a (possibly compressed) name. `text` also yields the display form (UTF-8 when valid, ASCII lower-cased). */
function readName(msg: Buffer, offset: number, text: false): NameRead;
function readName(msg: Buffer, offset: number, text: true): NameRead & { text: string };
function readName(msg: Buffer, offset: number, text: boolean): NameRead & { text?: string } {
  let o = offset;
  let next = -1;
  let jumps = 0;
  let len = 0;
  const keys: string[] = [];
  const texts: string[] | null = text ? [] : null;
  for (;;) {
    if (o >= msg.length) throw new MalformedResponse('name runs past the message');
    const b = msg[o];
    if (b === 0) {
      if (next < 0) next = o + 1;
      break;
    }
    if ((b & 0xc0) === 0xc0) {
      if (o + 1 >= msg.length) throw new MalformedResponse('truncated pointer');
      if (next < 0) next = o + 2;
      if (++jumps > 64) throw new MalformedResponse('compression loop');
      o = ((b & 0x3f) << 8) | msg[o + 1];
      continue;
    }
    if ((b & 0xc0) !== 0) throw new MalformedResponse('bad label type');
    const s = o + 1;
    const e = s + b;
    if (e > msg.length) throw new MalformedResponse('label runs past the message');
    len += b + 1;
    // RFC 1035 §3.1: at most 255 octets with the root's zero octet, so the labels with their length octets take at
    // most 254. A name one octet longer would be read, and then could not be asked again (writeName refuses it).
    if (len > MAX_LABELS_OCTETS) throw new MalformedResponse('name too long');
    const label = msg.toString('latin1', s, e);
    // A label holding the octet '.' (legal on the wire, "\." in a zone file; never in a host name): joined with '.'
    // it would read as another name — ["t.x","test"] as t / x / test, whose records would then be taken for its own,
    // and asked back it would be sent as three labels. Such a name is not read: the answer is malformed (unknown).
    // Why not an escape (U+DC2E in the text, as decodeText escapes octets that are not UTF-8): writeName splits on
    // every '.' octet, and the name's text would go on to checks and findings as a name no host can have.
    if (label.includes('.')) throw new MalformedResponse('a label holds a dot');
    keys.push(lowerAscii(label));
    if (texts) texts.push(decodeText(msg, s, e));
    o = e;
  }
  const key = keys.join('.');
  return texts ? { key, next, text: lowerAscii(texts.join('.')) } : { key, next };
}

export type ParsedRecord = string | string[] | { priority: number; exchange: string };

export interface ParsedResponse {
  id: number;
  /** The full rcode: the header's 4 bits, and the upper 8 bits from the OPT record when there is one (RFC 6891). */
  rcode: number;
  truncated: boolean;
  /** AA: the server says it is authoritative for the answer. */
  aa: boolean;
  /** RA: the server offers recursion. */
  ra: boolean;
  /**
   * What the authority section holds: an SOA record ('soa': with no records, a negative answer from the zone), else
   * NS records ('ns': with no records, a referral), else null.
   */
  authority: 'soa' | 'ns' | null;
  /**
   * The message has an OPT record (EDNS). A FORMERR/NOTIMP without one is what a server that does not know EDNS says
   * to a query that carries it (RFC 6891 §7): the client asks again without it (DnsClient.accept).
   */
  opt: boolean;
  /**
   * Why the records cannot be taken, else null: such an answer is no answer (unknown, never NODATA/NXDOMAIN). A CNAME
   * loop or a chain too long; an answer section that does not answer the question (see notAnAnswer); NXDOMAIN with
   * records of the asked type.
   */
  error: string | null;
  /** Records of the asked type owned by the end of the CNAME chain (for CNAME: the targets owned by the qname). */
  records: ParsedRecord[];
  /** The CNAME targets followed from the qname, in order (empty when the name is not an alias). */
  chain: string[];
}

/**
 * A TXT record's character-strings as text. Core code joins them (joinTxt: no separator), so what counts is that the
 * joined text is the decoding of the record's joined bytes, and that different bytes never give the same text:
 * - every string ASCII (SPF, DKIM, DMARC: the common case): one char per octet, as before;
 * - every string valid UTF-8 on its own: each decoded (a valid string ends on a character boundary, so the pieces
 *   join to the decoding of the joined bytes);
 * - else (a character split across two strings, as a 255-octet split does, or bytes that are not UTF-8 at all):
 *   readTxtJoined decodes the record's bytes together and cuts the text back at the string boundaries.
 * An octet that is not part of a valid UTF-8 sequence becomes the lone surrogate U+DC00 + octet (U+DC80–U+DCFF, the
 * "surrogateescape" of PEP 383), not the latin1 char it was before: a UTF-8 decoding never yields a surrogate, so such
 * a char cannot be mistaken for text (bytes 63 61 66 e9 are "caf\udce9", never "café", which is 63 61 66 c3 a9), and
 * text → bytes stays one-to-one. Why not "\xNN" escapes: a record of plain ASCII "\xe9" would then read the same as
 * the byte e9, unless every backslash were escaped too, which would change the text of valid records (and their
 * comparison with zone data). quoteText escapes lone surrogates in JSON ("\udce9"); UTF-8 output shows them as
 * U+FFFD.
 */
function readTxt(msg: Buffer, s: number, e: number): string[] {
  const out: string[] = [];
  let o = s;
  while (o < e) {
    const l = msg[o];
    const a = o + 1;
    const b = a + l;
    if (b > e) throw new MalformedResponse('TXT string runs past its record');
    let ascii = true;
    for (let i = a; i < b; i++) {
      if (msg[i] > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) out.push(msg.toString('latin1', a, b));
    else {
      const sub = msg.subarray(a, b);
      if (!isUtf8(sub)) return readTxtJoined(msg, s, e);
      out.push(sub.toString('utf8'));
    }
    o = b;
  }
  return out;
}

/**
 * The slow path of readTxt (see there): the record's strings joined, for decodeJoined. Every string is bounds-checked
 * again: readTxt came here at the first string that is not UTF-8 and checked only those before it, and a string that
 * ran past `e` would copy the next record's octets as this record's text, or (the last record) stop at the message's
 * end and leave octets of `bytes` (allocUnsafe: earlier contents of process memory) counted in `total` and read as text.
 */
function readTxtJoined(msg: Buffer, s: number, e: number): string[] {
  const bytes = Buffer.allocUnsafe(e - s);
  const ends: number[] = [];
  let total = 0;
  for (let o = s; o < e; ) {
    const l = msg[o];
    if (o + 1 + l > e) throw new MalformedResponse('TXT string runs past its record');
    msg.copy(bytes, total, o + 1, o + 1 + l);
    total += l;
    ends.push(total);
    o += 1 + l;
  }
  return decodeJoined(bytes, total, ends);
}

/**
 * A TXT record's character-strings, given as octets, as text exactly as the resolver reads them from the wire (see
 * readTxt). For whatever else must compare equal with live answers: a panel's copy of a zone whose TXT data comes as
 * octets (cPanel's parse_zone base64 fields) has to be decoded the same way, the whole record's strings at once.
 */
export function decodeTxtStrings(strings: readonly Buffer[]): string[] {
  const out: string[] = [];
  for (const b of strings) {
    let ascii = true;
    for (let i = 0; i < b.length; i++) {
      if (b[i] > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) out.push(b.toString('latin1'));
    else if (isUtf8(b)) out.push(b.toString('utf8'));
    else {
      const bytes = Buffer.concat(strings);
      const ends: number[] = [];
      let total = 0;
      for (const x of strings) ends.push((total += x.length));
      return decodeJoined(bytes, total, ends);
    }
  }
  return out;
}

/**
 * Parse a response to (qname key, qtype): rcode, TC, and the records of the asked type at the end of the CNAME chain
 * found in the answer section. Throws MalformedResponse on a message that cannot be read.
 */
export function parseResponse(msg: Buffer, qnameKey: string, qtype: number): ParsedResponse {
  return parseMessage(msg, qtype, { qnameKey }, false);
}

/** CNAME hops followed from the qname; an answer whose chain goes on past them is no answer (ParsedResponse.error). */
export const MAX_CNAME_HOPS = 16;

/**
 * The authority and additional sections, from `o` (just past the answer section): the OPT record's extended rcode
 * (the upper 8 bits of the 12-bit rcode: RFC 6891 §6.1.3, the first octet of its TTL field) goes into res.rcode —
 * BADVERS comes as header rcode 0 with OPT extended rcode 1, and must not read as NOERROR — and whether the authority
 * section holds an SOA or NS records (res.authority: what an empty answer is). Called only when the message has
 * authority or additional records. More than one OPT record: malformed.
 */
function readTail(msg: Buffer, o: number, res: ParsedResponse): void {
  const ns = msg.readUInt16BE(8);
  const ar = msg.readUInt16BE(10);
  let opt = false;
  for (let i = 0, n = ns + ar; i < n; i++) {
    o = skipName(msg, o);
    if (o + 10 > msg.length) throw new MalformedResponse('record header runs past the message');
    if (i < ns) {
      // IN SOA, IN NS (a type and class of 6/2 and 1: their high octets are 0).
      if (msg[o] === 0 && msg[o + 2] === 0 && msg[o + 3] === 1) {
        if (msg[o + 1] === 6) res.authority = 'soa';
        else if (msg[o + 1] === 2 && res.authority === null) res.authority = 'ns';
      }
    } else if (msg[o] === 0 && msg[o + 1] === 41) {
      if (opt) throw new MalformedResponse('more than one OPT record');
      opt = true;
      res.opt = true;
      res.rcode |= msg[o + 4] << 4;
    }
    o += 10 + msg.readUInt16BE(o + 8);
    if (o > msg.length) throw new MalformedResponse('rdata runs past the message');
  }
}

/** Offset just past the (possibly compressed) name at `offset`, checking only that it stays inside the message. */
function skipName(msg: Buffer, offset: number): number {
  let o = offset;
  let len = 0;
  for (;;) {
    if (o >= msg.length) throw new MalformedResponse('name runs past the message');
    const b = msg[o];
    if (b === 0) return o + 1;
    if ((b & 0xc0) === 0xc0) {
      if (o + 1 >= msg.length) throw new MalformedResponse('truncated pointer');
      // The name's own bytes end here; what the pointer leads to is read (and checked) wherever it is used.
      return o + 2;
    }
    if ((b & 0xc0) !== 0) throw new MalformedResponse('bad label type');
    o += b + 1;
    if (o > msg.length) throw new MalformedResponse('label runs past the message');
    len += b + 1;
    if (len > MAX_LABELS_OCTETS) throw new MalformedResponse('name too long');
  }
}

/**
 * parseResponse, for the client: `asked` says the message's question was checked to be ours (sameQuestion), so an
 * owner that points at the question's name (0xC00C, what servers write) is the qname without reading it, and the
 * qname's key is only worked out when some owner is written otherwise.
 */
function parseMessage(msg: Buffer, qtype: number, q: { readonly qnameKey: string }, asked: boolean): ParsedResponse {
  if (msg.length < 12) throw new MalformedResponse('short message');
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  // Authority and additional records (readTail).
  const tail = msg.readUInt16BE(8) + msg.readUInt16BE(10);
  // emptyList: an answer with no records has the elements kind of one with records (see core/arrays.ts).
  const res: ParsedResponse = {
    id,
    rcode: flags & 0x0f,
    truncated: (flags & 0x0200) !== 0,
    aa: (flags & 0x0400) !== 0,
    ra: (flags & 0x0080) !== 0,
    authority: null,
    opt: false,
    error: null,
    records: emptyList(),
    chain: [],
  };
  let o = 12;
  for (let i = 0; i < qd; i++) {
    // The question's names are read as before (a pointer in a question is followed and checked) unless it is ours.
    o = (asked ? skipName(msg, o) : readName(msg, o, false).next) + 4;
    if (o > msg.length) throw new MalformedResponse('question runs past the message');
  }
  if (an === 0) {
    if (tail !== 0) readTail(msg, o, res);
    return res;
  }
  // Owner of each record of qtype: null = the qname (pointer to the question), else its key; its data in step.
  // Owner key → CNAME target key.
  let cnames: Map<string, { key: string; text: string }> | null = null;
  const owners: (string | null)[] = [];
  const data: ParsedRecord[] = [];
  // A record of the asked type that this parser does not read (a type no check asks for): nothing can be said of
  // whether the answer answers the question (notAnAnswer).
  let unread = false;
  for (let i = 0; i < an; i++) {
    let owner: string | null;
    if (asked && o + 1 < msg.length && msg[o] === 0xc0 && msg[o + 1] === 12) {
      owner = null;
      o += 2;
    } else {
      const r = readName(msg, o, false);
      owner = r.key;
      o = r.next;
    }
    if (o + 10 > msg.length) throw new MalformedResponse('record header runs past the message');
    const type = msg.readUInt16BE(o);
    const klass = msg.readUInt16BE(o + 2);
    const rdlen = msg.readUInt16BE(o + 8);
    const s = o + 10;
    const e = s + rdlen;
    if (e > msg.length) throw new MalformedResponse('rdata runs past the message');
    o = e;
    if (klass !== 1) continue;
    if (type === QTYPE.CNAME) {
      const t = nameIn(msg, s, e);
      if (qtype === QTYPE.CNAME) {
        owners.push(owner);
        data.push(t.text);
      } else {
        const ok = owner ?? q.qnameKey;
        cnames ??= new Map();
        if (!cnames.has(ok)) cnames.set(ok, { key: t.key, text: t.text });
      }
      continue;
    }
    if (type !== qtype) continue;
    let d: ParsedRecord;
    switch (type) {
      case QTYPE.A:
        if (rdlen !== 4) throw new MalformedResponse('A rdata is not 4 octets');
        d = `${msg[s]}.${msg[s + 1]}.${msg[s + 2]}.${msg[s + 3]}`;
        break;
      case QTYPE.AAAA:
        if (rdlen !== 16) throw new MalformedResponse('AAAA rdata is not 16 octets');
        // (In the one spelling every reader of addresses gives, core/ip.ts: a zone file's AAAA compares equal to it.)
        d = ipv6Text(msg, s);
        break;
      case QTYPE.TXT:
      case QTYPE.SPF:
        d = readTxt(msg, s, e);
        break;
      case QTYPE.MX:
        if (rdlen < 3) throw new MalformedResponse('MX rdata too short');
        d = { priority: msg.readUInt16BE(s), exchange: nameIn(msg, s + 2, e).text };
        break;
      case QTYPE.NS:
      case QTYPE.PTR:
        d = nameIn(msg, s, e).text;
        break;
      default:
        unread = true;
        continue;
    }
    owners.push(owner);
    data.push(d);
  }
  if (tail !== 0) readTail(msg, o, res);
  // The end of the CNAME chain: the qname itself (target null) unless it is an alias.
  let target: string | null = null;
  if (cnames && qtype !== QTYPE.CNAME) {
    let t = q.qnameKey;
    for (let c = cnames.get(t); c !== undefined; c = cnames.get(t)) {
      // Each owner has one target (the first one listed), so a chain that took as many hops as there are aliases and
      // goes on has come back to a name it passed: a loop, with no end to read records at.
      if (res.chain.length === cnames.size) {
        res.error = 'CNAME loop';
        break;
      }
      // The chain goes on past what we follow: its end (and records there) is unknown, not absent.
      if (res.chain.length === MAX_CNAME_HOPS) {
        res.error = 'CNAME chain too long';
        break;
      }
      res.chain.push(c.text);
      t = c.key;
    }
    if (res.error !== null) return res;
    if (res.chain.length) target = t;
  }
  for (let i = 0; i < data.length; i++) {
    const ow = owners[i];
    if (target === null ? ow === null || ow === q.qnameKey : (ow ?? q.qnameKey) === target) res.records.push(data[i]);
  }
  const n = res.records.length;
  if (n > 1) res.records = inCanonicalOrder(withoutDuplicates(res.records), qtype);
  else if (n === 0 && !unread) res.error = notAnAnswer(data.length, cnames === null ? 0 : cnames.size, res.chain.length);
  // A name that does not exist has no records: an NXDOMAIN that holds some contradicts itself.
  if (n > 0 && res.rcode === RCODE.NXDOMAIN) res.error = 'NXDOMAIN with records';
  return res;
}

/**
 * Why an answer section that has records (ANCOUNT > 0) but none of the asked type at the end of the CNAME chain does
 * not answer the question, else null (a real negative answer). Filtering those records away and reading NODATA (or
 * NXDOMAIN) would say the name has no such records from an answer that said nothing of it — a fix would then drop an
 * SPF include or read a removal as done. So: unknown, when
 * - records of the asked type are there, none at the end of the chain (`typed`: another owner, or a chain a→b with
 *   them at c);
 * - there is no alias (`aliases` 0) and nothing of the asked type: records of another type or class, a DNAME alone;
 * - some alias is not on the chain followed from the qname (a chain with a missing link: a→b, c→d).
 * An alias chain whose every link is followed and ends with nothing (`aliases` === `hops` > 0) is a real negative
 * answer for its target (NODATA/NXDOMAIN by the rcode), and with RA=0 the resolver's "alias not followed" rule.
 */
function notAnAnswer(typed: number, aliases: number, hops: number): string | null {
  if (typed > 0) return 'the answer does not match the question (records for another name)';
  if (aliases === 0) return 'the answer does not match the question (records of another type or class)';
  if (aliases > hops) return 'the answer does not match the question (a CNAME chain with a missing link)';
  return null;
}

/**
 * An RRset holds each record once (RFC 2181 §5: identical records in an answer are to be treated as one): a server
 * that repeats one (the same SPF TXT twice) must not read as two records — two SPF records, a drift from the panel's
 * one. The data is compared as read (text decoding is one-to-one, names in it are lower-cased in ASCII as DNS
 * compares them); the first copy stays, in order. Answers are small: compared pairwise, with no key made per record,
 * up to 16 records; a larger one by keys.
 */
function withoutDuplicates(records: ParsedRecord[]): ParsedRecord[] {
  const n = records.length;
  let out: ParsedRecord[] | null = null;
  if (n <= 16) {
    for (let i = 1; i < n; i++) {
      let dup = false;
      for (let j = 0; j < i && !dup; j++) dup = sameRecord(records[i], records[j]);
      if (dup) out ??= records.slice(0, i);
      else out?.push(records[i]);
    }
    return out ?? records;
  }
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = records[i];
    // Unambiguous keys: a TXT record's strings with their lengths; an MX's priority, then its exchange.
    const k = typeof r === 'string' ? r : Array.isArray(r) ? r.map((x) => `${x.length}:${x}`).join('') : `${r.priority} ${r.exchange}`;
    if (!seen.has(k)) {
      seen.add(k);
      out?.push(r);
    } else out ??= records.slice(0, i);
  }
  return out ?? records;
}

/**
 * An RRset has no order (RFC 2181 §5), and servers rotate it (round-robin) from one answer to the next: read as sent,
 * the same records would make other evidence, other finding text and a new history document each night (documents are
 * stored once by their hash). So records are put in one order: A by address, MX by priority then exchange, TXT (and
 * type SPF) by their character-strings, other names as text. Sorts `records` in place (the answer's own array).
 */
function inCanonicalOrder(records: ParsedRecord[], qtype: number): ParsedRecord[] {
  if (records.length < 2) return records;
  return records.sort(qtype === QTYPE.A ? byIpv4 : qtype === QTYPE.MX ? byMx : qtype === QTYPE.TXT || qtype === QTYPE.SPF ? byStrings : byText);
}

function byText(a: ParsedRecord, b: ParsedRecord): number {
  return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
}

/** Dotted quads, by value (192.0.2.2 before 192.0.2.10). */
function byIpv4(a: ParsedRecord, b: ParsedRecord): number {
  return ipv4Value(a as string) - ipv4Value(b as string) || byText(a, b);
}

function ipv4Value(s: string): number {
  let v = 0;
  let part = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      v = v * 256 + part;
      part = 0;
    } else part = part * 10 + (c - 48);
  }
  return v * 256 + part;
}

function byMx(a: ParsedRecord, b: ParsedRecord): number {
  const x = a as { priority: number; exchange: string };
  const y = b as { priority: number; exchange: string };
  return x.priority - y.priority || (x.exchange < y.exchange ? -1 : x.exchange > y.exchange ? 1 : 0);
}

/** TXT records: string by string, a record that is a prefix of the other first. */
function byStrings(a: ParsedRecord, b: ParsedRecord): number {
  const x = a as string[];
  const y = b as string[];
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return x.length - y.length;
}

/** The same record data (records of one answer are of one type). */
function sameRecord(a: ParsedRecord, b: ParsedRecord): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  return a.priority === b.priority && a.exchange === b.exchange;
}

/** The comparison key of an encoded name (at `offset`). */
export function nameKey(wire: Buffer, offset = 0): string {
  return readName(wire, offset, false).key;
}

// ------------------------------------------------------------------------------------------------ transport

export type QueryResult =
  /**
   * `aa`: the AA bit (an answer from a server asked as authoritative means little without it: resolveAt).
   * `noRecursion`, only on a NOERROR answer without records of the asked type from a server that offers no recursion
   * (RA=0) and gives no SOA (no negative answer): a referral ('referral': NS records in the authority section) or
   * nothing at all ('empty') — what a non-recursive server says of a name it does not serve (see resolver.ts). Also on
   * an NXDOMAIN from a server that neither recurses (RA=0) nor is authoritative (AA=0) and gives no SOA: a lame or
   * non-authoritative server's word that the name does not exist is no proof of it.
   */
  | { kind: 'response'; rcode: number; aa: boolean; records: ParsedRecord[]; chain?: string[]; noRecursion?: 'referral' | 'empty' }
  | { kind: 'error'; error: string };

/** Who is told the result of DnsClient.ask. */
export interface QueryWaiter {
  settle(r: QueryResult): void;
}

export interface DnsClientOptions {
  timeoutMs?: number;
  tries?: number;
  /** UDP sockets per address family (source ports). */
  poolSize?: number;
  /** Queries a socket sends before it is replaced by a new one on a fresh (kernel-random) port (see ROTATE_AFTER). */
  rotateAfter?: number;
}

/**
 * Source ports are part of what an off-path attacker must guess to forge an answer (RFC 5452 §9.2): a socket that
 * served this many queries is retired and the next query opens a new one, so no port lives long enough to be learnt
 * and reused. A retired socket still takes the late answers to its queries until they have all timed out.
 */
export const ROTATE_AFTER = 1024;

const RECV_BUFFER = 4 << 20;
/** Servers that get sockets of their own (connected); queries to further servers share the unconnected pool. */
const MAX_CONNECTED_SERVERS = 16;

const ID_POOL = new Uint16Array(4096);
let idPos = ID_POOL.length;
function randomId(): number {
  if (idPos >= ID_POOL.length) {
    randomFillSync(ID_POOL);
    idPos = 0;
  }
  return ID_POOL[idPos++];
}

class Pending {
  id = 0;
  attempt = 0;
  serverIndex = 0;
  /** Its place in the client's timeout queue (-1: none). */
  slot = -1;
  tcp: net.Socket | null = null;
  done = false;
  /** The query without its OPT record, for servers that do not know EDNS (made when first needed). */
  plain: Buffer | null = null;
  /** Whether what the current attempt last sent carried the OPT record (a FORMERR to it may be about EDNS). */
  ednsSent = true;
  /**
   * The rcode of a late SERVFAIL/REFUSED/… from a server an earlier attempt asked (-1: none), said instead of 'timeout'
   * if the current attempt gets no answer either (DnsClient.accept).
   */
  lateRcode = -1;
  private key: string | null = null;
  /** The send callback of this query (one function per query, not per datagram). */
  readonly onSent: (err: Error | null) => void;
  constructor(
    readonly client: DnsClient,
    readonly query: Buffer,
    /** End of the question section in `query` (header + qname + qtype + qclass). */
    readonly qEnd: number,
    readonly qtype: number,
    readonly servers: ServerAddress[],
    readonly waiter: QueryWaiter,
  ) {
    this.onSent = (err) => client.afterSend(this, err);
  }
  /** The qname's comparison key, worked out only when an answer needs it. */
  get qnameKey(): string {
    return (this.key ??= nameKey(this.query, 12));
  }
}

function sameQuestion(msg: Buffer, query: Buffer, qEnd: number): boolean {
  if (msg.length < qEnd || msg[4] !== 0 || msg[5] !== 1) return false;
  for (let i = 12; i < qEnd; i++) {
    let a = msg[i];
    let b = query[i];
    if (a === b) continue;
    if (a >= 0x41 && a <= 0x5a) a |= 0x20;
    if (b >= 0x41 && b <= 0x5a) b |= 0x20;
    if (a !== b) return false;
  }
  return true;
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

function sameHost(a: string, b: string): boolean {
  if (a === b) return true;
  const fa = net.isIP(a);
  if (fa !== 6 || net.isIP(b) !== 6) return false;
  // IPv6 spelled differently (or with a zone id on one side only): compare the canonical forms.
  try {
    const sa = new net.SocketAddress({ address: a.replace(/%.*$/, ''), family: 'ipv6' });
    const sb = new net.SocketAddress({ address: b.replace(/%.*$/, ''), family: 'ipv6' });
    return sa.address === sb.address;
  } catch {
    return false;
  }
}

function flushOutbox(client: DnsClient): void {
  client.flush();
}

function onSweep(client: DnsClient): void {
  client.sweep();
}

/**
 * A UDP socket connected to one server: the kernel keeps the route and drops datagrams from anyone else, and a send
 * skips the address lookup an unconnected send makes. Datagrams wait in `queue` until the connect completes.
 */
interface Channel {
  sock: dgram.Socket;
  ready: boolean;
  queue: Pending[];
  /** Queries sent on it (rotation). */
  uses: number;
}

/** The connected sockets of one server (up to poolSize, in turn); `broken`: connect failed, use the shared pool. */
interface ServerChannels {
  channels: Channel[];
  rr: number;
  broken: boolean;
}

export class DnsClient {
  readonly timeoutMs: number;
  readonly tries: number;
  private readonly poolSize: number;
  private readonly rotateAfter: number;
  /** Sockets taken out of use (rotation), open until their queries' answers can no longer come. */
  private readonly retired = new Set<dgram.Socket>();
  /** Queries sent on each shared unconnected socket (rotation). */
  private readonly poolUses = new Map<dgram.Socket, number>();
  private readonly pending = new Map<number, Pending>();
  /** Unconnected sockets shared by servers past MAX_CONNECTED_SERVERS (and servers whose connect failed). */
  private readonly pools: { 4: dgram.Socket[]; 6: dgram.Socket[] } = { 4: [], 6: [] };
  private rr = 0;
  /** Connected sockets per server ("host|port"); the ServerAddress objects seen map to them without a key string. */
  private readonly byServer = new Map<string, ServerChannels>();
  private byAddress = new WeakMap<ServerAddress, ServerChannels>();
  /** Servers ("host|port") that answered FORMERR/NOTIMP without OPT to a query with one: asked without EDNS since. */
  private noEdns: Set<string> | null = null;
  private closed = false;
  /** Datagrams sent (attempts), for stats/benchmarks. */
  sent = 0;

  constructor(opts: DnsClientOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.tries = Math.max(1, opts.tries ?? 2);
    this.poolSize = Math.max(1, opts.poolSize ?? 4);
    this.rotateAfter = Math.max(1, opts.rotateAfter ?? ROTATE_AFTER);
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Ask `servers` (tried in turn on timeouts) for name/type. Never rejects. */
  query(servers: ServerAddress[], name: string, type: QTypeName | number): Promise<QueryResult> {
    return new Promise<QueryResult>((resolve) => this.ask(servers, name, type, { settle: resolve }));
  }

  /**
   * query() without a promise: `waiter.settle` is called once with the result (synchronously, within this call, for
   * a query that cannot be sent: closed, no servers, bad name).
   */
  ask(servers: ServerAddress[], name: string, type: QTypeName | number, waiter: QueryWaiter): void {
    if (this.closed) return waiter.settle({ kind: 'error', error: 'resolver closed' });
    if (servers.length === 0) return waiter.settle({ kind: 'error', error: 'no DNS servers' });
    // A port the socket would refuse (a setting or a config value gone wrong) is this query's error: dgram throws
    // ERR_SOCKET_BAD_PORT from connect/send, which run later from setImmediate, where nothing could catch it.
    for (const s of servers) if (!validPort(s.port)) return waiter.settle({ kind: 'error', error: `bad DNS server port ${s.port}` });
    const qtype = typeof type === 'number' ? type : QTYPE[type];
    const q = buildQuery(name, qtype);
    if (!q) return waiter.settle({ kind: 'error', error: nameTooLong(name) ? NAME_TOO_LONG : 'bad name' });
    const p = new Pending(this, q.query, q.qEnd, qtype, servers, waiter);
    p.id = this.allocId();
    q.query.writeUInt16BE(p.id, 0);
    this.pending.set(p.id, p);
    this.sendUdp(p);
  }

  private allocId(): number {
    for (let i = 0; i < 64; i++) {
      const id = randomId();
      if (!this.pending.has(id)) return id;
    }
    for (let id = 0; id < 65536; id++) if (!this.pending.has(id)) return id;
    throw new Error('no free DNS query id (65536 queries in flight)');
  }

  // ---------------------------------------------------------------------------------------------- timeouts
  // Every attempt waits the same timeoutMs, so deadlines come in the order attempts start: one FIFO of (query,
  // deadline) and one timer for its head replace a timer per query. An answered (or retried, or moved to TCP) query
  // leaves its slot empty at once, and empty slots at the head are dropped, so the queue holds about what is in
  // flight and nothing answered stays reachable from it. With nothing in flight there is no timer (an idle client
  // never holds the event loop).

  private tq: (Pending | null)[] = [];
  private tqDeadline: number[] = [];
  private tqHead = 0;
  /** Position (since the client started) of tq[0]; a query's slot is `p.slot - tqBase`. */
  private tqBase = 0;
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping = false;

  private arm(p: Pending): void {
    this.disarm(p);
    p.slot = this.tqBase + this.tq.length;
    this.tq.push(p);
    this.tqDeadline.push(performance.now() + this.timeoutMs);
    // No timer: nothing was waiting, so this deadline is the first. (A sweep sets its own when it ends.)
    if (!this.sweepTimer && !this.sweeping) this.sweepTimer = setTimeout(onSweep, this.timeoutMs, this);
  }

  /** Empty the query's slot, if it has one, and drop empty slots at the head. */
  private disarm(p: Pending): void {
    if (p.slot < 0) return;
    this.tq[p.slot - this.tqBase] = null;
    p.slot = -1;
    this.dropHead();
  }

  private dropHead(): void {
    const tq = this.tq;
    let h = this.tqHead;
    while (h < tq.length && tq[h] === null) h++;
    this.tqHead = h;
    if (this.sweeping) return;
    if (h === tq.length) {
      // Nothing waits: no timer may hold the process, and the arrays start over.
      this.tqBase += tq.length;
      this.tq = [];
      this.tqDeadline = [];
      this.tqHead = 0;
      if (this.sweepTimer) {
        clearTimeout(this.sweepTimer);
        this.sweepTimer = null;
      }
    } else if (h > 1024 && h * 2 > tq.length) {
      this.tqBase += h;
      this.tq = tq.slice(h);
      this.tqDeadline = this.tqDeadline.slice(h);
      this.tqHead = 0;
    }
  }

  /** @internal The timeout timer: time out every attempt whose deadline has come, then wait for the next one. */
  sweep(): void {
    this.sweepTimer = null;
    this.sweeping = true;
    const now = performance.now();
    // Timing out may retry (a new slot at the tail, due after `now`) or finish queries; the queue keeps its order.
    while (this.tqHead < this.tq.length) {
      const i = this.tqHead;
      const p = this.tq[i];
      if (p !== null) {
        if (this.tqDeadline[i] > now) break;
        this.tq[i] = null;
        p.slot = -1;
      }
      this.tqHead = i + 1;
      if (p !== null) this.timedOut(p);
    }
    this.sweeping = false;
    this.dropHead();
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = this.tqHead < this.tq.length ? setTimeout(onSweep, Math.max(1, Math.ceil(this.tqDeadline[this.tqHead] - now)), this) : null;
  }

  // ---------------------------------------------------------------------------------------------- sockets

  private channelsOf(server: ServerAddress): ServerChannels | null {
    let sc = this.byAddress.get(server);
    if (!sc) {
      const key = `${server.host}|${server.port}`;
      sc = this.byServer.get(key);
      if (!sc) {
        if (this.byServer.size >= MAX_CONNECTED_SERVERS) return null;
        sc = { channels: [], rr: 0, broken: false };
        this.byServer.set(key, sc);
      }
      this.byAddress.set(server, sc);
    }
    return sc.broken ? null : sc;
  }

  private channel(sc: ServerChannels, server: ServerAddress): Channel {
    if (sc.channels.length >= this.poolSize) {
      const i = sc.rr++ % sc.channels.length;
      const ch = sc.channels[i];
      if (!ch.ready || ++ch.uses <= this.rotateAfter) return ch;
      sc.channels.splice(i, 1);
      this.retire(ch.sock);
    }
    const sock = dgram.createSocket(server.family === 4 ? 'udp4' : 'udp6');
    const ch: Channel = { sock, ready: false, queue: [], uses: 1 };
    sock.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      // An ICMP "port unreachable" comes back on a connected socket as ECONNREFUSED: as on an unconnected one, it is
      // a datagram that got no answer (the query times out). Anything else: the socket leaves the pool.
      if (err.code === 'ECONNREFUSED') return;
      const i = sc.channels.indexOf(ch);
      if (i >= 0) sc.channels.splice(i, 1);
      try {
        sock.close();
      } catch {
        /* already closed */
      }
    });
    sock.connect(server.port, server.host, (err?: Error) => {
      const queued = ch.queue;
      ch.queue = [];
      if (err) {
        // No route, bad address, …: this server goes through the shared unconnected sockets, which report the error
        // per datagram as before.
        sc.broken = true;
        sc.channels = [];
        try {
          sock.close();
        } catch {
          /* already closed */
        }
        for (const p of queued) this.sendOn(p);
        return;
      }
      ch.ready = true;
      try {
        sock.setRecvBufferSize(RECV_BUFFER);
      } catch {
        /* not allowed: keep the default */
      }
      for (const p of queued) this.sendOn(p);
    });
    sock.unref();
    sc.channels.push(ch);
    return ch;
  }

  /** Take a socket out of use: it stays open (late answers) until every query sent on it has timed out. */
  private retire(sock: dgram.Socket): void {
    this.retired.add(sock);
    const t = setTimeout(() => {
      this.retired.delete(sock);
      try {
        sock.close();
      } catch {
        /* already closed */
      }
    }, this.timeoutMs + 1000);
    t.unref();
  }

  private socket(family: 4 | 6): dgram.Socket {
    const pool = this.pools[family];
    if (pool.length >= this.poolSize) {
      const i = this.rr++ % pool.length;
      const s = pool[i];
      const uses = (this.poolUses.get(s) ?? 0) + 1;
      if (uses <= this.rotateAfter) {
        this.poolUses.set(s, uses);
        return s;
      }
      pool.splice(i, 1);
      this.poolUses.delete(s);
      this.retire(s);
    }
    const s = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
    s.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    s.on('error', () => {
      // send errors surface through the send callback; a broken socket leaves the pool
      const i = pool.indexOf(s);
      if (i >= 0) pool.splice(i, 1);
      try {
        s.close();
      } catch {
        /* already closed */
      }
    });
    // A roomy receive buffer: a burst of answers must not overflow the default ~250 datagrams (capped by rmem_max).
    s.once('listening', () => {
      try {
        s.setRecvBufferSize(RECV_BUFFER);
      } catch {
        /* not allowed: keep the default */
      }
    });
    s.bind(0);
    s.unref();
    pool.push(s);
    this.poolUses.set(s, 1);
    return s;
  }

  /** Datagrams waiting for the end of this turn of the event loop (see sendUdp). */
  private outbox: Pending[] = [];
  private flushScheduled = false;

  private sendUdp(p: Pending): void {
    this.arm(p);
    // Queries started in one turn of the event loop leave together (setImmediate): back-to-back datagrams keep the
    // server busy, where one datagram at a time makes every send pay for waking it up (on a VM, an inter-processor
    // interrupt per packet: most of a bulk audit's send cost).
    this.outbox.push(p);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(flushOutbox, this);
    }
  }

  /** @internal */
  flush(): void {
    this.flushScheduled = false;
    const batch = this.outbox;
    this.outbox = [];
    for (const p of batch) this.sendOn(p);
  }

  /** Send the current attempt of `p` to its server: on that server's connected socket, else on the shared pool. */
  private sendOn(p: Pending): void {
    if (p.done || this.closed) return;
    const server = p.servers[p.serverIndex % p.servers.length];
    const sc = this.channelsOf(server);
    if (sc) {
      const ch = this.channel(sc, server);
      if (!ch.ready) {
        ch.queue.push(p);
        return;
      }
      this.sent++;
      ch.sock.send(this.wireFor(p, server), p.onSent);
      return;
    }
    const s = this.socket(server.family);
    this.sent++;
    s.send(this.wireFor(p, server), server.port, server.host, p.onSent);
  }

  /**
   * The bytes of `p` for `server`: the query as built (with EDNS), or without its OPT record for a server that does
   * not know EDNS. Until some server is found so, this is one comparison (no key made per query).
   */
  private wireFor(p: Pending, server: ServerAddress): Buffer {
    if (this.noEdns !== null && this.noEdns.has(`${server.host}|${server.port}`)) {
      p.ednsSent = false;
      return (p.plain ??= withoutEdns(p.query, p.qEnd));
    }
    p.ednsSent = true;
    return p.query;
  }

  /** @internal The send callback of `p`'s datagrams. */
  afterSend(p: Pending, err: Error | null): void {
    if (!err || p.done) return;
    // See the channel's error handler: an ICMP error left on a connected socket is a lost datagram, not an error.
    if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') return;
    this.failAttempt(p, err.message);
  }

  /** @internal */
  timedOut(p: Pending): void {
    this.disarm(p);
    if (p.done) return;
    if (p.tcp) {
      p.tcp.destroy();
      p.tcp = null;
      this.finish(p, { kind: 'error', error: 'timeout' });
      return;
    }
    this.failAttempt(p, p.lateRcode < 0 ? 'timeout' : rcodeName(p.lateRcode));
  }

  private failAttempt(p: Pending, error: string): void {
    this.disarm(p);
    p.attempt++;
    if (p.attempt < this.tries && !this.closed) {
      p.serverIndex++;
      this.sendUdp(p);
    } else {
      this.finish(p, { kind: 'error', error });
    }
  }

  private finish(p: Pending, r: QueryResult): void {
    if (p.done) return;
    p.done = true;
    this.disarm(p);
    if (this.pending.get(p.id) === p) this.pending.delete(p.id);
    p.waiter.settle(r);
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length < 12 || (msg[2] & 0x80) === 0) return;
    const p = this.pending.get(msg.readUInt16BE(0));
    if (!p || p.done || p.tcp) return;
    // Any server this query was sent to may answer (a late answer to an earlier attempt is still good).
    let from = false;
    const asked = Math.min(p.attempt + 1, p.servers.length);
    for (let i = 0; i < asked; i++) {
      const s = p.servers[i];
      if (s.port === rinfo.port && sameHost(s.host, rinfo.address)) {
        from = true;
        break;
      }
    }
    if (!from) return;
    if (!sameQuestion(msg, p.query, p.qEnd)) {
      // TC=1 with an empty question section (QDCOUNT 0), our id, from a server asked: a server that truncated so far
      // that not even the question fits (or leaves it out when it truncates). BIND's resolver takes exactly this as
      // "ask over TCP" ("empty question section, accepting it anyway as TC=1"): nothing of it is read, and the worst a
      // forger can do with it is make us ask over TCP, where the answer must carry our question again (startTcp).
      // Dropped as foreign, it would cost every try its whole timeout and end unknown. Any other message without
      // our question is still ignored.
      if ((msg[2] & 0x02) !== 0 && msg[4] === 0 && msg[5] === 0) this.startTcp(p);
      return;
    }
    this.accept(p, msg, rinfo);
  }

  /** `rinfo`: where a UDP answer came from; null for an answer over TCP (from the current attempt's server). */
  private accept(p: Pending, msg: Buffer, rinfo: dgram.RemoteInfo | null): void {
    const udp = rinfo !== null;
    // TC=1 over TCP: the server could not fit the answer even there (or says the RRset is cut short). There is nothing
    // further to try, and what came is not the whole answer: unknown, never the records that happened to fit.
    if (!udp && (msg[2] & 0x02) !== 0) {
      this.finish(p, { kind: 'error', error: 'truncated' });
      return;
    }
    let parsed: ParsedResponse;
    try {
      // The question was checked to be ours (sameQuestion) on both paths.
      parsed = parseMessage(msg, p.qtype, p, true);
    } catch (err) {
      if (udp && (msg[2] & 0x02) !== 0) {
        this.startTcp(p);
        return;
      }
      this.finish(p, { kind: 'error', error: `malformed response (${(err as Error).message})` });
      return;
    }
    if (udp && parsed.truncated) {
      this.startTcp(p);
      return;
    }
    const rc = parsed.rcode;
    // SERVFAIL/REFUSED/NOTIMP/FORMERR/… from a server asked before, whose attempt timed out and went on to the next
    // server: that server's word on its own attempt, not on the current one, which may yet be answered (a resolver
    // whose recursion gives up a little after our timeout answers SERVFAIL while the next server is still working).
    // Ending the query here would drop that answer and make the question unknown. So: keep waiting; if the current
    // attempt times out too, this rcode is the error rather than 'timeout'. (Only on an rcode other than NOERROR and
    // NXDOMAIN, so a common answer pays nothing for it. One server, or the same server asked again: it is current.)
    if (udp && rc !== 0 && rc !== RCODE.NXDOMAIN && !this.fromCurrent(p, rinfo)) {
      p.lateRcode = rc;
      return;
    }
    // FORMERR/NOTIMP with no OPT record, to a query that had one, from the server the current attempt asked: a server
    // (or middlebox) that does not know EDNS (RFC 6891 §7). Asked again at once without it, once (the query it gets is
    // then plain, so a second FORMERR is its answer), and every later query to it goes plain. A late answer from a
    // server asked before is not acted on here: the current attempt is elsewhere.
    if ((rc === RCODE.FORMERR || rc === RCODE.NOTIMP) && !parsed.opt && p.ednsSent && this.fromCurrent(p, rinfo)) {
      const server = p.servers[p.serverIndex % p.servers.length];
      (this.noEdns ??= new Set()).add(`${server.host}|${server.port}`);
      this.sendUdp(p);
      return;
    }
    // SERVFAIL/REFUSED/NOTIMP/FORMERR: another server may do better, when there is another one and tries are left.
    if (udp && rc !== 0 && rc !== 3 && p.servers.length > 1 && p.attempt + 1 < this.tries) {
      this.failAttempt(p, rcodeName(rc));
      return;
    }
    if (parsed.error !== null) {
      this.finish(p, { kind: 'error', error: parsed.error });
      return;
    }
    const r: QueryResult = parsed.chain.length
      ? { kind: 'response', rcode: rc, aa: parsed.aa, records: parsed.records, chain: parsed.chain }
      : { kind: 'response', rcode: rc, aa: parsed.aa, records: parsed.records };
    if (!parsed.ra && parsed.authority !== 'soa' && ((rc === 0 && parsed.records.length === 0) || (rc === RCODE.NXDOMAIN && !parsed.aa))) {
      r.noRecursion = parsed.authority === 'ns' ? 'referral' : 'empty';
    }
    this.finish(p, r);
  }

  /** Is this answer from the server the current attempt went to? (TCP: always.) */
  private fromCurrent(p: Pending, rinfo: dgram.RemoteInfo | null): boolean {
    if (rinfo === null) return true;
    const s = p.servers[p.serverIndex % p.servers.length];
    return s.port === rinfo.port && sameHost(s.host, rinfo.address);
  }

  private startTcp(p: Pending): void {
    const server = p.servers[p.serverIndex % p.servers.length];
    const query = this.wireFor(p, server);
    const framed = Buffer.allocUnsafe(2 + query.length);
    framed.writeUInt16BE(query.length, 0);
    query.copy(framed, 2);
    const sock = net.createConnection({ host: server.host, port: server.port });
    sock.unref();
    p.tcp = sock;
    this.arm(p);
    let buf: Buffer = Buffer.alloc(0);
    sock.on('connect', () => sock.write(framed));
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) return;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        if (msg.length >= 12 && msg.readUInt16BE(0) === p.id && (msg[2] & 0x80) !== 0 && sameQuestion(msg, p.query, p.qEnd)) {
          p.tcp = null;
          sock.destroy();
          this.accept(p, msg, null);
          return;
        }
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (p.tcp !== sock) return;
      p.tcp = null;
      this.finish(p, { kind: 'error', error: `tcp: ${err.code ?? err.message}` });
    });
    sock.on('close', () => {
      if (p.tcp !== sock) return;
      p.tcp = null;
      this.finish(p, { kind: 'error', error: 'tcp: connection closed without an answer' });
    });
  }

  /** Close the sockets; pending queries settle as errors ('resolver closed'). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of [...this.pending.values()]) {
      if (p.tcp) {
        const s = p.tcp;
        p.tcp = null;
        s.destroy();
      }
      this.finish(p, { kind: 'error', error: 'resolver closed' });
    }
    if (this.sweepTimer) {
      clearTimeout(this.sweepTimer);
      this.sweepTimer = null;
    }
    const socks: dgram.Socket[] = [...this.pools[4], ...this.pools[6], ...this.retired];
    this.retired.clear();
    this.poolUses.clear();
    for (const sc of this.byServer.values()) for (const ch of sc.channels) socks.push(ch.sock);
    this.pools[4] = [];
    this.pools[6] = [];
    this.byServer.clear();
    this.byAddress = new WeakMap();
    for (const s of socks) {
      try {
        s.close();
      } catch {
        /* already closed */
      }
    }
  }
}
