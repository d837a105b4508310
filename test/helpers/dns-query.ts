// A DNS query as a crafted test server reads it, and such a server (test/adapters/dns/*: servers that send hand-made
// answers).
import dgram from 'node:dgram';
import net from 'node:net';

export interface Query {
  id: number;
  /** The question section (qname, qtype, qclass) as sent. */
  question: Buffer;
  qtype: number;
  /** The qname's labels, as bytes (latin1 text), case as sent. */
  qname: string;
}

export function parseQuery(raw: Buffer): Query {
  let o = 12;
  const labels: string[] = [];
  while (raw[o] !== 0) {
    labels.push(raw.toString('latin1', o + 1, o + 1 + raw[o]));
    o += raw[o] + 1;
  }
  return { id: raw.readUInt16BE(0), question: raw.subarray(12, o + 5), qtype: raw.readUInt16BE(o + 1), qname: labels.join('.') };
}

/** A scripted DNS server on 127.0.0.1 (see scriptedServer). */
export interface ScriptedServer {
  port: number;
  /** "127.0.0.1:port", as a resolver setting names it. */
  spec: string;
  addr: { host: string; port: number; family: 4 };
  close(): Promise<void>;
}

/**
 * A scripted server on 127.0.0.1: UDP, and TCP on the same port (2-byte framing). `handle` gets each query as sent
 * (`raw`) and as read, and how it came, and returns the message to send back (null: none). The port is the kernel's
 * choice for UDP; when TCP cannot listen on it (taken, rarely), another one is tried.
 */
export async function scriptedServer(handle: (q: Query, raw: Buffer, via: 'udp' | 'tcp') => Buffer | null): Promise<ScriptedServer> {
  const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
  for (let tries = 0; ; tries++) {
    const udp = dgram.createSocket('udp4');
    udp.on('message', (msg, rinfo) => {
      const out = handle(parseQuery(msg), msg, 'udp');
      if (out) udp.send(out, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const port = udp.address().port;
    const conns = new Set<net.Socket>();
    const tcp = net.createServer((s) => {
      conns.add(s);
      s.on('close', () => conns.delete(s));
      s.on('error', () => s.destroy());
      let buf = Buffer.alloc(0);
      s.on('data', (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const raw = Buffer.from(buf.subarray(2, 2 + buf.readUInt16BE(0)));
          buf = buf.subarray(2 + raw.length);
          const out = handle(parseQuery(raw), raw, 'tcp');
          if (out) s.write(Buffer.concat([u16(out.length), out]));
        }
      });
    });
    try {
      await new Promise<void>((r, j) => {
        tcp.once('error', j);
        tcp.listen(port, '127.0.0.1', () => r());
      });
    } catch (e) {
      udp.close();
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || tries >= 20) throw e;
      continue;
    }
    return {
      port,
      spec: `127.0.0.1:${port}`,
      addr: { host: '127.0.0.1', port, family: 4 },
      close: async () => {
        for (const s of conns) s.destroy();
        await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
      },
    };
  }
}
