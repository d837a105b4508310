// The stub client itself: name encoding, response parsing, and transport behaviour against scripted UDP/TCP servers on
// 127.0.0.1 (id/question mismatches ignored, REFUSED, retry on the next server, TC → TCP, close()).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { DnsClient, decodeText, encodeName, nameKey, parseResponse, parseServerSpec, QTYPE, systemNameservers, type ServerAddress } from '../../../src/adapters/dns/wire.js';

test('encodeName: any label bytes, refuses only what cannot be encoded', () => {
  assert.deepEqual([...encodeName('a:b.%c d/')!], [3, 0x61, 0x3a, 0x62, 5, 0x25, 0x63, 0x20, 0x64, 0x2f, 0]);
  assert.deepEqual([...encodeName('example.com.')!], [...encodeName('example.com')!]);
  assert.deepEqual([...encodeName('')!], [0]);
  assert.equal(encodeName('a'.repeat(63) + '.com')!.length, 69);
  assert.equal(encodeName('a'.repeat(64) + '.com'), null, 'label > 63 octets');
  assert.equal(encodeName('é'.repeat(32) + '.com'), null, '64 UTF-8 octets');
  assert.equal(encodeName('a..b'), null, 'empty label');
  assert.equal(encodeName('.a'), null, 'empty first label');
  const name253 = Array.from({ length: 4 }, () => 'a'.repeat(62)).join('.') + '.b'; // 4*63 + 2 = 254 - 1
  assert.equal(name253.length, 253);
  assert.ok(encodeName(name253));
  assert.equal(encodeName(name253 + 'b'), null, '254 characters');
});

test('decodeText: UTF-8 when valid, other octets as U+DC00 + octet (and encodeName writes them back)', () => {
  assert.equal(decodeText(Buffer.from('v=spf1 -all'), 0, 11), 'v=spf1 -all');
  assert.equal(decodeText(Buffer.from('\xEF\xBB\xBFx', 'latin1'), 0, 4), '\uFEFFx');
  assert.equal(decodeText(Buffer.from('\x80a:\x96', 'latin1'), 0, 4), '\udc80a:\udc96');
  assert.equal(decodeText(Buffer.from('caf\xc3\xa9\xe9', 'latin1'), 0, 6), 'caf\u00e9\udce9');
  assert.deepEqual(encodeName('caf\u00e9\udce9.test'), Buffer.from('\x06caf\xc3\xa9\xe9\x04test\x00', 'latin1'));
});

test('parseServerSpec and systemNameservers', () => {
  assert.deepEqual(parseServerSpec('192.0.2.1'), { host: '192.0.2.1', port: 53 });
  assert.deepEqual(parseServerSpec('127.0.0.1:5353'), { host: '127.0.0.1', port: 5353 });
  assert.deepEqual(parseServerSpec('[::1]:5353'), { host: '::1', port: 5353 });
  assert.deepEqual(parseServerSpec('::1'), { host: '::1', port: 53 });
  const dir = mkdtempSync(join(tmpdir(), 'mh-resolv-'));
  const f = join(dir, 'resolv.conf');
  writeFileSync(f, '# comment\nsearch example.com\nnameserver 192.0.2.53\nnameserver 2001:db8::53\nnameserver bogus\noptions ndots:1\n');
  assert.deepEqual(systemNameservers(f), ['192.0.2.53:53', '[2001:db8::53]:53']);
  writeFileSync(f, 'search example.com\n');
  assert.deepEqual(systemNameservers(f), ['127.0.0.1:53']);
  assert.deepEqual(systemNameservers(join(dir, 'missing')), ['127.0.0.1:53']);
});

function response(q: string, type: string, answers: dnsPacket.Answer[], rcode = 0, id = 1): Buffer {
  return dnsPacket.encode({ type: 'response', id, flags: rcode, questions: [{ name: q, type: type as 'A' }], answers });
}

test('parseResponse: CNAME chains, case, MX/NS/PTR names, AAAA text, empty TXT, other classes', () => {
  const key = (n: string) => nameKey(encodeName(n)!);
  const chain = response('www.Example.com', 'A', [
    { name: 'www.example.com', type: 'CNAME', data: 'B.example.net' },
    { name: 'b.example.NET', type: 'CNAME', data: 'c.example.org' },
    { name: 'www.example.com', type: 'A', data: '192.0.2.99' }, // not at the end of the chain
    { name: 'C.EXAMPLE.ORG', type: 'A', data: '192.0.2.1' },
  ]);
  assert.deepEqual(parseResponse(chain, key('www.Example.com'), QTYPE.A).records, ['192.0.2.1']);
  assert.deepEqual(parseResponse(chain, key('www.example.com'), QTYPE.CNAME).records, ['b.example.net']);
  const mx = response('x.test', 'MX', [{ name: 'x.test', type: 'MX', data: { preference: 5, exchange: 'MX1.X.Test.' } }]);
  assert.deepEqual(parseResponse(mx, key('x.test'), QTYPE.MX).records, [{ priority: 5, exchange: 'mx1.x.test' }]);
  const v6 = response('x.test', 'AAAA', [
    { name: 'x.test', type: 'AAAA', data: '2001:db8:0:0:0:0:0:1' },
    { name: 'x.test', type: 'AAAA', data: '2001:db8:0:1:0:0:0:1' },
    { name: 'x.test', type: 'AAAA', data: '::ffff:192.0.2.5' },
    { name: 'x.test', type: 'AAAA', data: '1:2:3:4:5:6:7:8' },
  ]);
  assert.deepEqual(parseResponse(v6, key('x.test'), QTYPE.AAAA).records, ['1:2:3:4:5:6:7:8', '2001:db8:0:1::1', '2001:db8::1', '::ffff:192.0.2.5']); // as text, in one order
  const txt = response('x.test', 'TXT', [
    { name: 'x.test', type: 'TXT', data: [] },
    { name: 'x.test', type: 'TXT', data: [Buffer.from('a'), Buffer.from([0x80])] },
    { name: 'x.test', type: 'TXT', class: 'CH', data: ['chaos'] },
  ]);
  // 0x80 alone is not UTF-8: U+DC80 (see readTxt), never a char some text could hold.
  assert.deepEqual(parseResponse(txt, key('x.test'), QTYPE.TXT).records, [[], ['a', '\udc80']]);
  const nx = response('x.test', 'A', [], 3);
  assert.equal(parseResponse(nx, key('x.test'), QTYPE.A).rcode, 3);
  assert.throws(() => parseResponse(txt.subarray(0, txt.length - 3), key('x.test'), QTYPE.TXT));
  // compression loop
  const loop = Buffer.from(response('x.test', 'A', [{ name: 'x.test', type: 'A', data: '192.0.2.1' }]));
  const ansAt = 12 + encodeName('x.test')!.length + 4;
  loop.writeUInt16BE(0xc000 | ansAt, ansAt);
  assert.throws(() => parseResponse(loop, key('x.test'), QTYPE.A));
});

/** A scripted UDP server: `handle` returns the datagrams to send back (in order) for each query. */
async function scripted(handle: (q: dnsPacket.Packet, raw: Buffer) => Buffer[]): Promise<{ addr: ServerAddress; close(): Promise<void>; seen: number }> {
  const sock = dgram.createSocket('udp4');
  const state = { seen: 0 };
  sock.on('message', (msg, rinfo) => {
    state.seen++;
    for (const out of handle(dnsPacket.decode(msg), msg)) sock.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return {
    addr: { host: '127.0.0.1', port: sock.address().port, family: 4 },
    close: () => new Promise<void>((r) => sock.close(() => r())),
    get seen() {
      return state.seen;
    },
  };
}

function reply(q: dnsPacket.Packet, answers: dnsPacket.Answer[], opts: { id?: number; rcode?: number; qname?: string; tc?: boolean } = {}): Buffer {
  const flags = (opts.rcode ?? 0) | (opts.tc ? dnsPacket.TRUNCATED_RESPONSE : 0);
  const questions = opts.qname ? [{ ...q.questions![0], name: opts.qname }] : q.questions;
  return dnsPacket.encode({ type: 'response', id: opts.id ?? q.id, flags, questions, answers });
}

test('transport: wrong id / wrong question / queries are ignored, the matching answer wins', async (t) => {
  const srv = await scripted((q) => {
    const name = q.questions![0].name;
    const a = (data: string): dnsPacket.Answer => ({ name, type: 'A', data });
    return [
      reply(q, [a('192.0.2.66')], { id: (q.id! + 1) & 0xffff }),
      reply(q, [a('192.0.2.67')], { qname: 'other.' + name }),
      dnsPacket.encode({ type: 'query', id: q.id, questions: q.questions }),
      Buffer.from([1, 2, 3]),
      reply(q, [a('192.0.2.1')], { qname: name.toUpperCase() }),
    ];
  });
  t.after(() => srv.close());
  const c = new DnsClient({ timeoutMs: 5000, tries: 1 });
  t.after(() => c.close());
  const r = await c.query([srv.addr], 'x:y%z.example', 'A');
  assert.deepEqual(r, { kind: 'response', rcode: 0, aa: false, records: ['192.0.2.1'] });
});

test('transport: a server that never answers → next server on retry; all silent → timeout', async (t) => {
  const silent = await scripted(() => []);
  const good = await scripted((q) => [reply(q, [{ name: q.questions![0].name, type: 'A', data: '192.0.2.2' }])]);
  t.after(() => Promise.all([silent.close(), good.close()]));
  const c = new DnsClient({ timeoutMs: 100, tries: 2 });
  t.after(() => c.close());
  assert.deepEqual(await c.query([silent.addr, good.addr], 'a.example', 'A'), { kind: 'response', rcode: 0, aa: false, records: ['192.0.2.2'] });
  assert.deepEqual(await c.query([silent.addr], 'b.example', 'A'), { kind: 'error', error: 'timeout' });
  assert.equal(c.inFlight, 0);
});

test('transport: REFUSED is returned as such (single server), and retried on another server when there is one', async (t) => {
  const refusing = await scripted((q) => [reply(q, [], { rcode: 5 })]);
  const good = await scripted((q) => [reply(q, [{ name: q.questions![0].name, type: 'TXT', data: ['ok'] }])]);
  t.after(() => Promise.all([refusing.close(), good.close()]));
  const c = new DnsClient({ timeoutMs: 2000, tries: 2 });
  t.after(() => c.close());
  assert.deepEqual(await c.query([refusing.addr], 'r.example', 'TXT'), { kind: 'response', rcode: 5, aa: false, records: [] });
  assert.deepEqual(await c.query([refusing.addr, good.addr], 'r.example', 'TXT'), { kind: 'response', rcode: 0, aa: false, records: [['ok']] });
});

test('transport: TC → TCP (same server), answers matched by id over a 2-byte framed stream', async (t) => {
  const big = Array.from({ length: 9 }, (_, i) => Buffer.alloc(250, 0x61 + i));
  const udp = await scripted((q) => [reply(q, [], { tc: true })]);
  // TCP on the same port: first a frame with a wrong id, then the answer split across writes.
  const tcp = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      const q = dnsPacket.decode(buf.subarray(2));
      const frame = (m: Buffer) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m]);
      const wrong = frame(reply(q, [], { id: (q.id! + 7) & 0xffff }));
      const right = frame(reply(q, [{ name: q.questions![0].name, type: 'TXT', data: big }]));
      sock.write(Buffer.concat([wrong, right.subarray(0, 100)]));
      setImmediate(() => sock.write(right.subarray(100)));
    });
    sock.on('error', () => sock.destroy());
  });
  await new Promise<void>((r) => tcp.listen(udp.addr.port, '127.0.0.1', () => r()));
  t.after(() => Promise.all([udp.close(), new Promise<void>((r) => tcp.close(() => r()))]));
  const c = new DnsClient({ timeoutMs: 5000, tries: 1 });
  t.after(() => c.close());
  const r = await c.query([udp.addr], 'big.example', 'TXT');
  assert.equal(r.kind, 'response');
  assert.deepEqual(r.kind === 'response' && r.records, [big.map((b) => b.toString())]);
});

test('transport: close() settles pending queries and later ones', async (t) => {
  const silent = await scripted(() => []);
  t.after(() => silent.close());
  const c = new DnsClient({ timeoutMs: 60_000, tries: 1 });
  const p = c.query([silent.addr], 'a.example', 'A');
  c.close();
  assert.deepEqual(await p, { kind: 'error', error: 'resolver closed' });
  assert.deepEqual(await c.query([silent.addr], 'a.example', 'A'), { kind: 'error', error: 'resolver closed' });
});

test('transport: a closed port (ICMP unreachable) is a timeout, as a silent server is; retries go on to the next server', async (t) => {
  // A port with nothing behind it: bind one, note it, close it.
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
  const closedPort = probe.address().port;
  await new Promise<void>((r) => probe.close(() => r()));
  const closed: ServerAddress = { host: '127.0.0.1', port: closedPort, family: 4 };
  const good = await scripted((q) => [reply(q, [{ name: q.questions![0].name, type: 'A', data: '192.0.2.3' }])]);
  t.after(() => good.close());
  const c = new DnsClient({ timeoutMs: 150, tries: 2 });
  t.after(() => c.close());
  assert.deepEqual(await c.query([closed], 'a.example', 'A'), { kind: 'error', error: 'timeout' });
  assert.deepEqual(await c.query([closed], 'b.example', 'A'), { kind: 'error', error: 'timeout' });
  assert.deepEqual(await c.query([closed, good.addr], 'c.example', 'A'), { kind: 'response', rcode: 0, aa: false, records: ['192.0.2.3'] });
  assert.equal(c.inFlight, 0);
});

test('transport: timeouts of many queries started at different times each come after timeoutMs, in the order sent, answered ones never', async (t) => {
  // Answers only names starting with "ok": the others time out, each no sooner than timeoutMs after it was sent. Only
  // lower bounds on time (a slow machine makes timers late, never early); that no timer is lost or re-armed for ever
  // shows as the order the timeouts settle in, and a lost one would leave Promise.all (and the test) hanging.
  const srv = await scripted((q) => (q.questions![0].name.startsWith('ok') ? [reply(q, [{ name: q.questions![0].name, type: 'A', data: '192.0.2.4' }])] : []));
  t.after(() => srv.close());
  const c = new DnsClient({ timeoutMs: 120, tries: 1 });
  t.after(() => c.close());
  const settled: number[] = [];
  const results: Promise<{ r: Awaited<ReturnType<DnsClient['query']>>; ms: number }>[] = [];
  for (let i = 0; i < 6; i++) {
    if (i) await new Promise((r) => setTimeout(r, 40));
    const at = Date.now();
    for (const name of [`ok${i}.example`, `silent${i}.example`]) {
      results.push(
        c.query([srv.addr], name, 'A').then((r) => {
          if (name.startsWith('silent')) settled.push(i);
          return { r, ms: Date.now() - at };
        }),
      );
    }
  }
  const all = await Promise.all(results);
  all.forEach(({ r, ms }, k) => {
    if (k % 2 === 0) assert.deepEqual(r, { kind: 'response', rcode: 0, aa: false, records: ['192.0.2.4'] });
    else {
      assert.deepEqual(r, { kind: 'error', error: 'timeout' });
      assert.ok(ms >= 115, `timed out after ${ms} ms, before timeoutMs`);
    }
  });
  assert.deepEqual(settled, [0, 1, 2, 3, 4, 5]);
  assert.equal(c.inFlight, 0);
});

test('transport: more servers than get sockets of their own are all answered (shared sockets past the first 16)', async (t) => {
  const servers = await Promise.all(Array.from({ length: 20 }, (_, i) => scripted((q) => [reply(q, [{ name: q.questions![0].name, type: 'A', data: `192.0.2.${i}` }])])));
  t.after(() => Promise.all(servers.map((s) => s.close())));
  const c = new DnsClient({ timeoutMs: 5000, tries: 1 });
  t.after(() => c.close());
  for (let round = 0; round < 2; round++) {
    const rs = await Promise.all(servers.map((s, i) => c.query([s.addr], `n${i}.example`, 'A')));
    rs.forEach((r, i) => assert.deepEqual(r, { kind: 'response', rcode: 0, aa: false, records: [`192.0.2.${i}`] }));
  }
  assert.equal(c.inFlight, 0);
});

test('transport: an answer from another port than the one asked is ignored', async (t) => {
  const srv = dgram.createSocket('udp4');
  const other = dgram.createSocket('udp4');
  await Promise.all([srv, other].map((s) => new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()))));
  t.after(() => Promise.all([srv, other].map((s) => new Promise<void>((r) => s.close(() => r())))));
  let seen = 0;
  srv.on('message', (msg, rinfo) => {
    seen++;
    const q = dnsPacket.decode(msg);
    other.send(reply(q, [{ name: q.questions![0].name, type: 'A', data: '192.0.2.66' }]), rinfo.port, rinfo.address);
  });
  const c = new DnsClient({ timeoutMs: 200, tries: 1 });
  t.after(() => c.close());
  const addr: ServerAddress = { host: '127.0.0.1', port: srv.address().port, family: 4 };
  assert.deepEqual(await c.query([addr], 'x.example', 'A'), { kind: 'error', error: 'timeout' });
  assert.equal(seen, 1);
});

test('parseResponse: a name in record data must end where its rdlength says (else malformed, never data)', () => {
  const key = (n: string) => nameKey(encodeName(n)!);
  const q = encodeName('_dmarc.victim.test')!;
  const header = Buffer.from([0, 1, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0]);
  const question = Buffer.concat([q, Buffer.from([0, 16, 0, 1])]);
  const rr = (owner: Buffer, type: number, rdata: Buffer, rdlen = rdata.length) => {
    const h = Buffer.alloc(10);
    h.writeUInt16BE(type, 0);
    h.writeUInt16BE(1, 2);
    h.writeUInt32BE(300, 4);
    h.writeUInt16BE(rdlen, 8);
    return Buffer.concat([owner, h, rdata]);
  };
  const txt = Buffer.concat([Buffer.from([16]), Buffer.from('v=DMARC1; p=none')]);
  // A CNAME at the question name with rdlength 0: its "target" would be read from the next record's owner bytes.
  const lying = Buffer.concat([header, question, rr(Buffer.from([0xc0, 12]), 5, Buffer.alloc(0)), rr(encodeName('evil.test')!, 16, txt)]);
  assert.throws(() => parseResponse(lying, key('_dmarc.victim.test'), QTYPE.TXT), /does not end where the data does/);
  // The same with an honest rdlength parses (the CNAME chain is followed to evil.test).
  const target = encodeName('evil.test')!;
  const honest = Buffer.concat([header, question, rr(Buffer.from([0xc0, 12]), 5, target), rr(target, 16, txt)]);
  assert.deepEqual(parseResponse(honest, key('_dmarc.victim.test'), QTYPE.TXT).records, [['v=DMARC1; p=none']]);
});

test('transport: source ports rotate — a socket is replaced after rotateAfter queries; late answers on a retired one still count', async (t) => {
  const ports = new Set<number>();
  const held: (() => void)[] = [];
  const srv = dgram.createSocket('udp4');
  await new Promise<void>((r) => srv.bind(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => srv.close(() => r())));
  srv.on('message', (msg, rinfo) => {
    ports.add(rinfo.port);
    const q = dnsPacket.decode(msg);
    const out = reply(q, [{ name: q.questions![0].name, type: 'A', data: '192.0.2.7' }]);
    // The first query's answer is held back until every other query has been sent (its socket is retired by then).
    if (q.questions![0].name === 'late.example') held.push(() => srv.send(out, rinfo.port, rinfo.address));
    else srv.send(out, rinfo.port, rinfo.address);
  });
  const addr: ServerAddress = { host: '127.0.0.1', port: srv.address().port, family: 4 };
  // One server: its connected sockets, two at a time, each replaced after 5 queries.
  const c = new DnsClient({ timeoutMs: 5000, tries: 1, poolSize: 2, rotateAfter: 5 });
  t.after(() => c.close());
  const late = c.query([addr], 'late.example', 'A');
  for (let i = 0; i < 40; i++) assert.deepEqual(await c.query([addr], `n${i}.example`, 'A'), { kind: 'response', rcode: 0, aa: false, records: ['192.0.2.7'] });
  for (const send of held) send();
  assert.deepEqual(await late, { kind: 'response', rcode: 0, aa: false, records: ['192.0.2.7'] });
  // 41 queries, at most 5 per socket: at least 9 different source ports (2 at a time).
  assert.ok(ports.size >= 9, `source ports seen: ${ports.size}`);
});

test('transport: a server port a socket refuses (0, 70000, not whole) is an error result, never an uncaught RangeError', async (t) => {
  // Such a port can come from a stored setting ("dns.resolver" edited by hand) or any caller but the CLI's checked
  // flags; dgram throws ERR_SOCKET_BAD_PORT from connect/send, which the client runs from setImmediate.
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => uncaught.push(e);
  process.on('uncaughtException', onUncaught);
  t.after(() => void process.off('uncaughtException', onUncaught));
  const good = await scripted((q) => [reply(q, [{ name: q.questions![0].name, type: 'A', data: '192.0.2.4' }])]);
  t.after(() => good.close());
  const c = new DnsClient({ timeoutMs: 300, tries: 2 });
  t.after(() => c.close());
  for (const port of [70000, 0, -1, 53.5, Number.NaN]) {
    const r = await c.query([{ host: '127.0.0.1', port, family: 4 }], 'a.example', 'A');
    assert.equal(r.kind, 'error', `port ${port}`);
    assert.match(r.kind === 'error' ? r.error : '', /bad DNS server port/, `port ${port}`);
  }
  // The client still works for a good server afterwards, and nothing escaped.
  assert.deepEqual(await c.query([good.addr], 'b.example', 'A'), { kind: 'response', rcode: 0, aa: false, records: ['192.0.2.4'] });
  await new Promise((r) => setImmediate(r)); // the client sends from setImmediate: let anything the bad queries scheduled run
  assert.deepEqual(uncaught, []);
  assert.equal(c.inFlight, 0);
});
