// The floor: the same set of DNS queries the audit made, fired by a minimal client (one UDP socket connected to the
// server, pre-encoded names, ids matched, nothing parsed) at the same concurrency — what the DNS alone costs on this
// machine, now.
//
// Refill ('turn', the default): the answers that arrived in one turn of the event loop are all read first, then the
// freed slots are refilled together (setImmediate), as the audit's own client sends (src/adapters/dns/wire.ts).
// Refilling each slot inside its answer's callback ('each', kept for comparison) puts one datagram at a time on the
// wire. The 102,774 questions of the 10,000-domain bench, four rounds against NSD: 'turn' 0.74–0.78 s, 'each'
// 0.78–0.93 s; the floor before 2026-11-26 ('each', plus an unconnected socket and a timer per question) 1.02–1.15 s.
import dgram from 'node:dgram';
import { buildQuery, QTYPE, type QTypeName } from '../src/adapters/dns/wire.js';

export type FloorRefill = 'turn' | 'each';

/** A question not answered within this many ms is sent again (with a new id). */
export const RETRY_MS = 2000;

export async function fireQueries(
  port: number,
  queries: { name: string; type: string }[],
  concurrency: number,
  refill: FloorRefill = 'turn',
  retryMs = RETRY_MS,
): Promise<{ seconds: number; answered: number; retries: number }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  await new Promise<void>((r, j) => sock.connect(port, '127.0.0.1', (err?: Error) => (err ? j(err) : r())));
  sock.setRecvBufferSize(4 * 1024 * 1024);
  sock.setSendBufferSize(4 * 1024 * 1024);
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
  const total = packets.length;
  // Ids are 16 bits: never more in flight than there are free ids.
  const maxInFlight = Math.max(1, Math.min(concurrency, 60_000));
  // id → index of the question it carries. Sends in order of time, for the retry sweep (every wait is retryMs, so
  // the oldest send is at the head).
  const pending = new Map<number, number>();
  const sentIds: number[] = [];
  const sentQ: number[] = [];
  const sentAt: number[] = [];
  let head = 0;
  let next = 0;
  let answered = 0;
  let retries = 0;
  let nextId = 0;
  let scheduled = false;
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    const send = (i: number) => {
      nextId = (nextId % 65535) + 1;
      while (pending.has(nextId)) nextId = (nextId % 65535) + 1;
      const pkt = packets[i];
      pkt.writeUInt16BE(nextId, 0);
      pending.set(nextId, i);
      sentIds.push(nextId);
      sentQ.push(i);
      sentAt.push(Date.now());
      sock.send(pkt);
    };
    const pump = () => {
      scheduled = false;
      while (pending.size < maxInFlight && next < total) send(next++);
    };
    const sweep = setInterval(() => {
      const now = Date.now();
      // Skip sends already answered (their id may carry a newer question by now); resend the expired ones.
      while (head < sentIds.length) {
        const waiting = pending.get(sentIds[head]) === sentQ[head];
        if (waiting && now - sentAt[head] < retryMs) break;
        if (waiting) {
          pending.delete(sentIds[head]);
          retries++;
          send(sentQ[head]);
        }
        head++;
      }
      if (head > 4096 && head * 2 > sentIds.length) {
        sentIds.splice(0, head);
        sentQ.splice(0, head);
        sentAt.splice(0, head);
        head = 0;
      }
    }, Math.min(100, retryMs));
    const done = () => {
      clearInterval(sweep);
      resolve();
    };
    sock.on('message', (msg) => {
      if (msg.length < 2) return;
      const id = msg.readUInt16BE(0);
      if (!pending.delete(id)) return;
      answered++;
      if (answered === total) return done();
      if (refill === 'each') pump();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(pump);
      }
    });
    if (total === 0) done();
    else pump();
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  sock.close();
  return { seconds, answered, retries };
}
