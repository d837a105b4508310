// A small authoritative DNS server over a name → records map, on loopback (UDP + TCP).
// Used by the embedded demo (the "outside world" of the demo panel) and by tests. Never binds beyond 127.0.0.1.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';

export interface ServedData {
  A?: string[];
  AAAA?: string[];
  TXT?: (string | Buffer)[][];
  /** Obsolete type 99; served as type SPF only when asked for SPF. */
  SPF?: (string | Buffer)[][];
  MX?: { priority: number; exchange: string }[];
  NS?: string[];
  CNAME?: string[];
  PTR?: string[];
  SOA?: { mname: string; rname: string; serial: number }[];
  /** Never answer: for every type (true) or just these types. */
  TIMEOUT?: true | string[];
  /** Answer SERVFAIL: for every type (true) or just these types. */
  SERVFAIL?: true | string[];
}
export type ServedZoneMap = Record<string, ServedData>;

export interface DnsServer {
  host: string;
  port: number;
  /** "127.0.0.1:PORT" — what a Resolver's `servers` takes. */
  address: string;
  setData(map: ServedZoneMap): void;
  close(): Promise<void>;
  /** Queries received so far. */
  queries: number;
}

const TYPES = ['A', 'AAAA', 'TXT', 'SPF', 'MX', 'NS', 'CNAME', 'PTR', 'SOA'] as const;

function norm(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

function normalizeMap(map: ServedZoneMap): Map<string, ServedData> {
  const m = new Map<string, ServedData>();
  for (const [k, v] of Object.entries(map)) {
    const key = norm(k);
    const prev = m.get(key);
    m.set(key, prev ? mergeData(prev, v) : v);
  }
  return m;
}

function mergeData(a: ServedData, b: ServedData): ServedData {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = Array.isArray(cur) && Array.isArray(v) ? [...cur, ...v] : v;
  }
  return out as ServedData;
}

function matches(flag: true | string[] | undefined, type: string): boolean {
  if (flag === true) return true;
  return Array.isArray(flag) && flag.map((t) => t.toUpperCase()).includes(type);
}

type Answer = dnsPacket.Answer;

function rrsFor(name: string, type: string, d: ServedData, ttl: number): Answer[] {
  const base = { name, ttl, class: 'IN' as const };
  switch (type) {
    case 'A':
      return (d.A ?? []).map((data) => ({ ...base, type: 'A', data }));
    case 'AAAA':
      return (d.AAAA ?? []).map((data) => ({ ...base, type: 'AAAA', data }));
    case 'TXT':
      return (d.TXT ?? []).map((s) => ({ ...base, type: 'TXT', data: s.map((x) => (Buffer.isBuffer(x) ? x : Buffer.from(x, 'utf8'))) }));
    case 'SPF':
      // Type 99 has TXT's rdata layout; dns-packet encodes it as opaque rdata.
      return (d.SPF ?? []).map((s) => {
        const rdata = (dnsPacket as unknown as { txt: { encode(d: Buffer[]): Buffer } }).txt.encode(s.map((x) => (Buffer.isBuffer(x) ? x : Buffer.from(x, 'utf8')))).subarray(2);
        return { ...base, type: 'SPF', data: rdata } as unknown as Answer;
      });
    case 'MX':
      return (d.MX ?? []).map((m) => ({ ...base, type: 'MX', data: { preference: m.priority, exchange: m.exchange } }));
    case 'NS':
      return (d.NS ?? []).map((data) => ({ ...base, type: 'NS', data }));
    case 'CNAME':
      return (d.CNAME ?? []).slice(0, 1).map((data) => ({ ...base, type: 'CNAME', data }));
    case 'PTR':
      return (d.PTR ?? []).map((data) => ({ ...base, type: 'PTR', data }));
    case 'SOA':
      return (d.SOA ?? []).map((s) => ({
        ...base,
        type: 'SOA',
        data: { mname: s.mname, rname: s.rname, serial: s.serial, refresh: 3600, retry: 600, expire: 604800, minimum: 300 },
      }));
    default:
      return [];
  }
}

interface Decision {
  drop?: boolean;
  rcode: number;
  answers: Answer[];
}

function decide(data: Map<string, ServedData>, qname: string, qtype: string, ttl: number): Decision {
  let name = norm(qname);
  const answers: Answer[] = [];
  for (let hops = 0; hops < 8; hops++) {
    const d = data.get(name);
    if (!d) {
      // NXDOMAIN unless some owner lives below this name (empty non-terminal → NODATA, RFC 8020).
      const below = [...data.keys()].some((k) => k.endsWith('.' + name));
      return { rcode: answers.length || below ? 0 : 3, answers };
    }
    if (matches(d.TIMEOUT, qtype)) return { drop: true, rcode: 0, answers: [] };
    if (matches(d.SERVFAIL, qtype)) return { rcode: 2, answers: [] };
    if (qtype !== 'CNAME' && d.CNAME && d.CNAME.length > 0) {
      answers.push(...rrsFor(name, 'CNAME', d, ttl));
      name = norm(d.CNAME[0]);
      continue;
    }
    answers.push(...rrsFor(name, qtype, d, ttl));
    return { rcode: 0, answers };
  }
  return { rcode: 2, answers: [] };
}

export async function startDnsServer(opts: { data: ServedZoneMap; port?: number; ttl?: number }): Promise<DnsServer> {
  let data = normalizeMap(opts.data);
  const ttl = opts.ttl ?? 300;
  let udp = dgram.createSocket('udp4');
  let tcp: net.Server | null = null;
  const state = { queries: 0 };

  function respond(msg: Buffer, maxSize: number | null): Buffer | null {
    let q: dnsPacket.Packet;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return null;
    }
    state.queries++;
    const question = q.questions?.[0];
    if (!question) return null;
    const qtype = String(question.type).toUpperCase();
    const dec = (TYPES as readonly string[]).includes(qtype)
      ? decide(data, question.name, qtype, ttl)
      : { rcode: data.has(norm(question.name)) ? 0 : 3, answers: [] as Answer[] };
    if ('drop' in dec && dec.drop) return null;
    const flags = dnsPacket.AUTHORITATIVE_ANSWER | (q.flags! & dnsPacket.RECURSION_DESIRED) | dnsPacket.RECURSION_AVAILABLE | dec.rcode;
    const res: dnsPacket.Packet = { type: 'response', id: q.id, flags, questions: q.questions, answers: dec.answers };
    let buf = dnsPacket.encode(res);
    if (maxSize !== null) {
      const opt = (q.additionals ?? []).find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
      const limit = Math.max(512, opt?.udpPayloadSize ?? 512);
      if (buf.length > limit) {
        buf = dnsPacket.encode({ type: 'response', id: q.id, flags: flags | dnsPacket.TRUNCATED_RESPONSE, questions: q.questions, answers: [] });
      }
    }
    return buf;
  }

  const bindUdp = async (socket: dgram.Socket): Promise<void> => {
    socket.on('message', (msg, rinfo) => {
      const out = respond(msg, 512);
      if (out) socket.send(out, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    // Default receive buffers hold ~250 datagrams; a client bursting more (the benchmark, concurrency tests) lost queries.
    try {
      socket.setRecvBufferSize(4 << 20);
    } catch {
      /* capped or refused by the OS: keep the default */
    }
  };
  await bindUdp(udp);
  let port = udp.address().port;

  const sockets = new Set<net.Socket>();
  tcp = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        const out = respond(msg, null);
        if (out) {
          const framed = Buffer.alloc(2 + out.length);
          framed.writeUInt16BE(out.length, 0);
          out.copy(framed, 2);
          sock.write(framed);
        }
      }
    });
    sock.on('error', () => sock.destroy());
  });
  // TCP on the port the OS gave UDP: that port may be taken for TCP (another socket's): then another UDP port.
  for (let attempt = 1; ; attempt++) {
    try {
      await new Promise<void>((resolve, reject) => {
        tcp!.once('error', reject);
        tcp!.listen(port, '127.0.0.1', () => resolve());
      });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || opts.port !== undefined || attempt >= 20) {
        udp.close();
        throw e;
      }
      udp.close();
      udp = dgram.createSocket('udp4');
      await bindUdp(udp);
      port = udp.address().port;
    }
  }

  return {
    host: '127.0.0.1',
    port,
    address: `127.0.0.1:${port}`,
    setData(map) {
      data = normalizeMap(map);
    },
    get queries() {
      return state.queries;
    },
    async close() {
      await new Promise<void>((r) => udp.close(() => r()));
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => (tcp ? tcp.close(() => r()) : r()));
    },
  };
}
