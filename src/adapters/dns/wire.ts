// A small DNS stub client over the wire (RFC 1035 + EDNS0), on node:dgram / node:net.
// Why not c-ares: it refuses legal names holding ':' '/' '%' or spaces (EBADNAME) and rejects a whole TXT answer when
// one record has zero character-strings (EBADRESP). Here a name is sent as the bytes it holds (UTF-8 of the JS
// string), and only names that cannot be encoded at all (empty label, label > 63 octets, name > 255 wire octets) are
// refused.
//
// Transport: a small pool of shared UDP sockets (per address family), a random 16-bit id per query; a response counts
// only when it comes from the server asked and carries our id and our question (ASCII case-insensitive), anything else
// is ignored. EDNS0 OPT advertises 1232 bytes. A timeout retries (same id) on the next server, up to `tries` attempts.
// TC=1 → the same query over TCP (2-byte length framing), one connection per truncated answer.
//
// Process lifetime: sockets are always unref'd; only the timers of pending queries hold the event loop, so an idle
// client never keeps a CLI process alive. `close()` closes the sockets and settles whatever is pending.
import dgram from 'node:dgram';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { randomFillSync } from 'node:crypto';

export const QTYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SPF: 99 } as const;
export type QTypeName = keyof typeof QTYPE;

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

const RCODE_NAMES = ['noerror', 'formerr', 'servfail', 'nxdomain', 'notimp', 'refused', 'yxdomain', 'yxrrset', 'nxrrset', 'notauth', 'notzone'];

/** Lower-case rcode name, e.g. "notimp", "yxdomain"; unassigned ones as "rcode 12". */
export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `rcode ${rcode}`;
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
 * its length, or -1 when it cannot be encoded. "" and "." are the root.
 */
function writeName(name: string, out: Buffer, offset: number): number {
  const text = name.endsWith('.') ? name.slice(0, -1) : name;
  if (text === '') {
    out[offset] = 0;
    return 1;
  }
  if (text.length > 253) return -1; // every char is ≥ 1 octet: 254 chars need ≥ 256 wire octets
  // UTF-8 never uses 0x2e inside a multi-byte sequence, so labels are split on the '.' byte.
  const n = out.write(text, offset + 1, 'utf8');
  if (n !== Buffer.byteLength(text, 'utf8') || n + 2 > 255) return -1;
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

/** A query: header (RD), one question, one EDNS0 OPT (payload 1232); null when the name cannot be encoded. */
export function buildQuery(name: string, qtype: number, id = 0): { query: Buffer; qEnd: number } | null {
  const buf = Buffer.allocUnsafe(12 + 255 + 4 + 11);
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
  return { query: buf.subarray(0, o + 11), qEnd };
}

// ------------------------------------------------------------------------------------------------ decoding

export class MalformedResponse extends Error {}

function lowerAscii(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s;
}

/** Bytes as text: UTF-8 when they are valid UTF-8, else one char per octet (latin1), so no byte is lost. */
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
  return isUtf8(sub) ? sub.toString('utf8') : sub.toString('latin1');
}

interface NameRead {
  /** Byte-exact comparison key: latin1 labels, ASCII lower-cased, '.'-joined. */
  key: string;
  /** Offset just past the name at its original position. */
  next: number;
}

/** Read a (possibly compressed) name. `text` also yields the display form (UTF-8 when valid, lower-cased). */
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
    if (len > 255) throw new MalformedResponse('name too long');
    keys.push(lowerAscii(msg.toString('latin1', s, e)));
    if (texts) texts.push(decodeText(msg, s, e));
    o = e;
  }
  const key = keys.join('.');
  return texts ? { key, next, text: texts.join('.').toLowerCase() } : { key, next };
}

export type ParsedRecord = string | string[] | { priority: number; exchange: string };

export interface ParsedResponse {
  id: number;
  rcode: number;
  truncated: boolean;
  /** Records of the asked type owned by the end of the CNAME chain (for CNAME: the targets owned by the qname). */
  records: ParsedRecord[];
  /** The CNAME targets followed from the qname, in order (empty when the name is not an alias). */
  chain: string[];
}

function formatAAAA(msg: Buffer, o: number): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push(msg.readUInt16BE(o + i * 2));
  // IPv4-mapped: ::ffff:a.b.c.d (as inet_ntop writes it)
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${msg[o + 12]}.${msg[o + 13]}.${msg[o + 14]}.${msg[o + 15]}`;
  }
  // RFC 5952: the longest run (≥2) of zero words becomes '::' (first such run on ties).
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

function readTxt(msg: Buffer, s: number, e: number): string[] {
  const out: string[] = [];
  let o = s;
  while (o < e) {
    const l = msg[o];
    if (o + 1 + l > e) throw new MalformedResponse('TXT string runs past its record');
    out.push(decodeText(msg, o + 1, o + 1 + l));
    o += 1 + l;
  }
  return out;
}

/**
 * Parse a response to (qname key, qtype): rcode, TC, and the records of the asked type at the end of the CNAME chain
 * found in the answer section. Throws MalformedResponse on a message that cannot be read.
 */
export function parseResponse(msg: Buffer, qnameKey: string, qtype: number): ParsedResponse {
  if (msg.length < 12) throw new MalformedResponse('short message');
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  const res: ParsedResponse = { id, rcode: flags & 0x0f, truncated: (flags & 0x0200) !== 0, records: [], chain: [] };
  let o = 12;
  for (let i = 0; i < qd; i++) {
    o = readName(msg, o, false).next + 4;
    if (o > msg.length) throw new MalformedResponse('question runs past the message');
  }
  if (an === 0) return res;
  // Owner key → CNAME target key; records of qtype as (owner key, data).
  const cnames = new Map<string, { key: string; text: string }>();
  const found: { owner: string; data: ParsedRecord }[] = [];
  for (let i = 0; i < an; i++) {
    const owner = readName(msg, o, false);
    o = owner.next;
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
      const t = readName(msg, s, true);
      if (qtype === QTYPE.CNAME) found.push({ owner: owner.key, data: t.text });
      else if (!cnames.has(owner.key)) cnames.set(owner.key, { key: t.key, text: t.text });
      continue;
    }
    if (type !== qtype) continue;
    let data: ParsedRecord;
    switch (type) {
      case QTYPE.A:
        if (rdlen !== 4) throw new MalformedResponse('A rdata is not 4 octets');
        data = `${msg[s]}.${msg[s + 1]}.${msg[s + 2]}.${msg[s + 3]}`;
        break;
      case QTYPE.AAAA:
        if (rdlen !== 16) throw new MalformedResponse('AAAA rdata is not 16 octets');
        data = formatAAAA(msg, s);
        break;
      case QTYPE.TXT:
      case QTYPE.SPF:
        data = readTxt(msg, s, e);
        break;
      case QTYPE.MX:
        if (rdlen < 3) throw new MalformedResponse('MX rdata too short');
        data = { priority: msg.readUInt16BE(s), exchange: readName(msg, s + 2, true).text };
        break;
      case QTYPE.NS:
      case QTYPE.PTR:
        data = readName(msg, s, true).text;
        break;
      default:
        continue;
    }
    found.push({ owner: owner.key, data });
  }
  let target = qnameKey;
  if (qtype !== QTYPE.CNAME) {
    for (let hops = 0; hops < 16; hops++) {
      const c = cnames.get(target);
      if (!c) break;
      res.chain.push(c.text);
      target = c.key;
    }
  }
  for (const f of found) if (f.owner === target) res.records.push(f.data);
  return res;
}

/** The comparison key of an encoded name (at `offset`). */
export function nameKey(wire: Buffer, offset = 0): string {
  return readName(wire, offset, false).key;
}

// ------------------------------------------------------------------------------------------------ transport

export type QueryResult =
  | { kind: 'response'; rcode: number; records: ParsedRecord[]; chain?: string[] }
  | { kind: 'error'; error: string };

export interface DnsClientOptions {
  timeoutMs?: number;
  tries?: number;
  /** UDP sockets per address family (source ports). */
  poolSize?: number;
}

const RECV_BUFFER = 4 << 20;

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
  timer: NodeJS.Timeout | null = null;
  tcp: net.Socket | null = null;
  done = false;
  constructor(
    readonly query: Buffer,
    /** End of the question section in `query` (header + qname + qtype + qclass). */
    readonly qEnd: number,
    readonly qnameKey: string,
    readonly qtype: number,
    readonly servers: ServerAddress[],
    readonly resolve: (r: QueryResult) => void,
  ) {}
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

function onTimer(p: Pending, client: DnsClient): void {
  client.timedOut(p);
}

export class DnsClient {
  readonly timeoutMs: number;
  readonly tries: number;
  private readonly poolSize: number;
  private readonly pending = new Map<number, Pending>();
  private readonly pools: { 4: dgram.Socket[]; 6: dgram.Socket[] } = { 4: [], 6: [] };
  private rr = 0;
  private closed = false;
  /** Datagrams sent (attempts), for stats/benchmarks. */
  sent = 0;

  constructor(opts: DnsClientOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.tries = Math.max(1, opts.tries ?? 2);
    this.poolSize = Math.max(1, opts.poolSize ?? 4);
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Ask `servers` (tried in turn on timeouts) for name/type. Never rejects. */
  query(servers: ServerAddress[], name: string, type: QTypeName | number): Promise<QueryResult> {
    if (this.closed) return Promise.resolve({ kind: 'error', error: 'resolver closed' });
    if (servers.length === 0) return Promise.resolve({ kind: 'error', error: 'no DNS servers' });
    const qtype = typeof type === 'number' ? type : QTYPE[type];
    const q = buildQuery(name, qtype);
    if (!q) return Promise.resolve({ kind: 'error', error: 'bad name' });
    const { query, qEnd } = q;
    return new Promise<QueryResult>((resolve) => {
      const p = new Pending(query, qEnd, nameKey(query, 12), qtype, servers, resolve);
      p.id = this.allocId();
      query.writeUInt16BE(p.id, 0);
      this.pending.set(p.id, p);
      this.sendUdp(p);
    });
  }

  private allocId(): number {
    for (let i = 0; i < 64; i++) {
      const id = randomId();
      if (!this.pending.has(id)) return id;
    }
    for (let id = 0; id < 65536; id++) if (!this.pending.has(id)) return id;
    throw new Error('no free DNS query id (65536 queries in flight)');
  }

  private socket(family: 4 | 6): dgram.Socket {
    const pool = this.pools[family];
    if (pool.length < this.poolSize) {
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
      return s;
    }
    return pool[this.rr++ % pool.length];
  }

  /** Datagrams waiting for the end of this turn of the event loop (see sendUdp). */
  private outbox: Pending[] = [];
  private flushScheduled = false;

  private sendUdp(p: Pending): void {
    p.timer = setTimeout(onTimer, this.timeoutMs, p, this);
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
    for (const p of batch) {
      if (p.done || this.closed) continue;
      const server = p.servers[p.serverIndex % p.servers.length];
      const s = this.socket(server.family);
      this.sent++;
      s.send(p.query, server.port, server.host, (err) => {
        if (err && !p.done) this.failAttempt(p, err.message);
      });
    }
  }

  /** @internal */
  timedOut(p: Pending): void {
    p.timer = null;
    if (p.done) return;
    if (p.tcp) {
      p.tcp.destroy();
      p.tcp = null;
      this.finish(p, { kind: 'error', error: 'timeout' });
      return;
    }
    this.failAttempt(p, 'timeout');
  }

  private failAttempt(p: Pending, error: string): void {
    if (p.timer) {
      clearTimeout(p.timer);
      p.timer = null;
    }
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
    if (p.timer) {
      clearTimeout(p.timer);
      p.timer = null;
    }
    if (this.pending.get(p.id) === p) this.pending.delete(p.id);
    p.resolve(r);
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
    if (!from || !sameQuestion(msg, p.query, p.qEnd)) return;
    this.accept(p, msg, true);
  }

  private accept(p: Pending, msg: Buffer, udp: boolean): void {
    let parsed: ParsedResponse;
    try {
      parsed = parseResponse(msg, p.qnameKey, p.qtype);
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
    // SERVFAIL/REFUSED/NOTIMP/FORMERR: another server may do better, when there is another one and tries are left.
    const rc = parsed.rcode;
    if (udp && rc !== 0 && rc !== 3 && p.servers.length > 1 && p.attempt + 1 < this.tries) {
      this.failAttempt(p, rcodeName(rc));
      return;
    }
    this.finish(p, { kind: 'response', rcode: rc, records: parsed.records, ...(parsed.chain.length ? { chain: parsed.chain } : {}) });
  }

  private startTcp(p: Pending): void {
    if (p.timer) clearTimeout(p.timer);
    const server = p.servers[p.serverIndex % p.servers.length];
    const framed = Buffer.allocUnsafe(2 + p.query.length);
    framed.writeUInt16BE(p.query.length, 0);
    p.query.copy(framed, 2);
    const sock = net.createConnection({ host: server.host, port: server.port });
    sock.unref();
    p.tcp = sock;
    p.timer = setTimeout(onTimer, this.timeoutMs, p, this);
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
          this.accept(p, msg, false);
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
    for (const fam of [4, 6] as const) {
      for (const s of this.pools[fam]) {
        try {
          s.close();
        } catch {
          /* already closed */
        }
      }
      this.pools[fam] = [];
    }
  }
}
