// The floor: the same set of DNS queries the audit made, fired by a minimal client (one UDP socket, pre-encoded
// names, ids matched, nothing parsed) at the same concurrency — what the DNS alone costs on this machine, now.
import dgram from 'node:dgram';
import { buildQuery, QTYPE, type QTypeName } from '../src/adapters/dns/wire.js';

export async function fireQueries(port: number, queries: { name: string; type: string }[], concurrency: number): Promise<{ seconds: number; answered: number; retries: number }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  sock.setRecvBufferSize(4 * 1024 * 1024);
  sock.setSendBufferSize(4 * 1024 * 1024);
  const pending = new Map<number, { i: number; timer: NodeJS.Timeout }>();
  let next = 0;
  let answered = 0;
  let retries = 0;
  let nextId = 1;
  // All packets pre-encoded into one buffer (views into it), so 100,000 questions cost a few MB, not one slab each.
  const encoded = queries.map((q) => buildQuery(q.name, QTYPE[q.type as QTypeName] ?? 1)?.query ?? Buffer.from([0]));
  const all = Buffer.allocUnsafe(encoded.reduce((n, b) => n + b.length, 0));
  let at = 0;
  const packets = encoded.map((b) => {
    b.copy(all, at);
    const view = all.subarray(at, at + b.length);
    at += b.length;
    return view;
  });
  encoded.length = 0;
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    const send = (i: number) => {
      const id = (nextId++ % 65535) + 1;
      const pkt = packets[i];
      pkt.writeUInt16BE(id, 0);
      const timer = setTimeout(() => {
        pending.delete(id);
        retries++;
        send(i);
      }, 2000);
      pending.set(id, { i, timer });
      sock.send(pkt, port, '127.0.0.1');
    };
    const pump = () => {
      while (pending.size < concurrency && next < packets.length) send(next++);
      if (answered === packets.length) resolve();
    };
    sock.on('message', (msg) => {
      const id = msg.readUInt16BE(0);
      const p = pending.get(id);
      if (!p) return;
      clearTimeout(p.timer);
      pending.delete(id);
      answered++;
      pump();
    });
    if (packets.length === 0) resolve();
    else pump();
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  sock.close();
  return { seconds, answered, retries };
}
