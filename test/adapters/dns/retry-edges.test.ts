// The stub client's edges between attempts and transports (review R8), against servers on 127.0.0.1 (kernel-chosen
// ports): a late SERVFAIL/REFUSED/NOTIMP/FORMERR from a server an earlier attempt asked must not end the query while
// the next server's attempt is in flight; TC=1 with an empty question section from the server asked goes to TCP (as
// BIND does); a label holding the octet '.' is malformed, never read as another name. The ordering tests are driven
// by the servers' own events (A answers once B has been asked), never by how fast anything runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { DnsClient, MalformedResponse, nameKey, parseResponse, QTYPE, type ServerAddress } from '../../../src/adapters/dns/wire.js';
import { createResolver } from '../../../src/adapters/dns/resolver.js';
import { parseQuery, scriptedServer, type Query } from '../../helpers/dns-query.js';

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u32 = (n: number) => Buffer.from([n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
/** The question's owner, as servers write it: a pointer to offset 12. */
const QNAME = Buffer.from([0xc0, 12]);
const OPT = Buffer.concat([Buffer.from([0]), u16(41), u16(1232), u32(0), u16(0)]);
/** Wire name from explicit labels (latin1 bytes): a label may hold a '.'. */
const labels = (...ls: string[]) => Buffer.concat([...ls.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
const rr = (owner: Buffer, type: number, rdata: Buffer) => Buffer.concat([owner, u16(type), u16(1), u32(60), u16(rdata.length), rdata]);
const txt = (s: string) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]);
const SPF = rr(QNAME, QTYPE.TXT, txt('v=spf1 -all'));

interface Reply {
  rcode?: number;
  tc?: boolean;
  an?: Buffer[];
  /** Echo an OPT record when the query had one (an EDNS server); false: never (a server that does not know EDNS). */
  opt?: boolean;
  /** Leave the question section out (QDCOUNT 0). */
  noQuestion?: boolean;
  id?: number;
}

/** A response to `raw` (the query as sent): RA set, the question echoed unless said otherwise. */
function response(raw: Buffer, o: Reply): Buffer {
  const q = parseQuery(raw);
  const edns = raw.readUInt16BE(10) > 0 && o.opt !== false;
  const flags = 0x8000 | 0x0100 | 0x0080 | (o.tc ? 0x0200 : 0) | (o.rcode ?? 0);
  const an = o.an ?? [];
  const question = o.noQuestion ? Buffer.alloc(0) : q.question;
  return Buffer.concat([u16(o.id ?? q.id), u16(flags), u16(o.noQuestion ? 0 : 1), u16(an.length), u16(0), u16(edns ? 1 : 0), question, ...an, ...(edns ? [OPT] : [])]);
}

/** A UDP server on 127.0.0.1 that hands each query to `onQuery` with a way to answer it (resolved once sent). */
interface UdpServer {
  addr: ServerAddress;
  spec: string;
  /** Queries received, in order. */
  queries: Buffer[];
  close(): Promise<void>;
}

async function udpServer(onQuery: (raw: Buffer, send: (msg: Buffer) => Promise<void>) => void): Promise<UdpServer> {
  const sock = dgram.createSocket('udp4');
  const queries: Buffer[] = [];
  sock.on('message', (raw, rinfo) => {
    queries.push(raw);
    onQuery(raw, (msg) => new Promise<void>((r) => sock.send(msg, rinfo.port, rinfo.address, () => r())));
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const port = sock.address().port;
  return { addr: { host: '127.0.0.1', port, family: 4 }, spec: `127.0.0.1:${port}`, queries, close: () => new Promise<void>((r) => sock.close(() => r())) };
}

/**
 * Server A holds the first query it gets and answers it with `late` only when `release()` is called (what a resolver
 * whose own recursion gives up after our timeout does); later queries get the same, at once.
 */
async function slowFailing(late: Reply): Promise<UdpServer & { release(): Promise<void> }> {
  let held: { raw: Buffer; send: (msg: Buffer) => Promise<void> } | null = null;
  let released = false;
  const srv = await udpServer((raw, send) => {
    if (released || held) void send(response(raw, late));
    else held = { raw, send };
  });
  return {
    ...srv,
    release: async () => {
      released = true;
      const h = held;
      held = null;
      if (h) await h.send(response(h.raw, late));
    },
  };
}

// ------------------------------------------------------------------------------------------------ 1. late rcode

test('a late SERVFAIL/REFUSED/NOTIMP/FORMERR from the server asked first does not end the query: the next server, asked on the timeout, answers (ok)', async (t) => {
  const cases: Reply[] = [{ rcode: 2 }, { rcode: 5 }, { rcode: 4, opt: false }, { rcode: 1, opt: false }, { rcode: 1 }];
  await Promise.all(
    cases.map(async (late) => {
      const what = JSON.stringify(late);
      // A holds its answer; B, once asked (A's attempt timed out), makes A send it, and answers only after A's has
      // gone out: A's word reaches the client first, while B's attempt is current.
      const a = await slowFailing(late);
      const b = await udpServer((raw, send) => void a.release().then(() => send(response(raw, { an: [SPF] }))));
      t.after(() => Promise.all([a.close(), b.close()]));
      const c = new DnsClient({ timeoutMs: 1000, tries: 2 });
      t.after(() => c.close());
      assert.deepEqual(await c.query([a.addr, b.addr], 'example.test', 'TXT'), { kind: 'response', rcode: 0, aa: false, records: [['v=spf1 -all']] }, what);
      assert.equal(a.queries.length, 1, `${what}: A asked once`);
      assert.equal(b.queries.length, 1, `${what}: B asked once`);
      // The same through the resolver (a fresh A: the first one now answers at once).
      const a2 = await slowFailing(late);
      t.after(() => a2.close());
      const b3 = await udpServer((raw, send) => void a2.release().then(() => send(response(raw, { an: [SPF] }))));
      t.after(() => b3.close());
      const r = createResolver({ servers: [a2.spec, b3.spec], timeoutMs: 1000, tries: 2, cache: false });
      t.after(() => r.close());
      assert.deepEqual(await r.resolve('example.test', 'TXT'), { name: 'example.test', type: 'TXT', status: 'ok', records: [['v=spf1 -all']] }, what);
    }),
  );
});

test('a late SERVFAIL from the server asked first, and no answer from the next one: the error is that rcode, not timeout (unknown either way)', async (t) => {
  const a = await slowFailing({ rcode: 2 });
  // B never answers; being asked makes A send its SERVFAIL.
  const b = await udpServer(() => void a.release());
  t.after(() => Promise.all([a.close(), b.close()]));
  const c = new DnsClient({ timeoutMs: 200, tries: 2 });
  t.after(() => c.close());
  assert.deepEqual(await c.query([a.addr, b.addr], 'example.test', 'TXT'), { kind: 'error', error: 'servfail' });
  assert.equal(b.queries.length, 1);
});

test('unchanged: one server\'s SERVFAIL ends the query at once (tries left or not); the current server\'s SERVFAIL moves on to the next server at once', async (t) => {
  const failing = await udpServer((raw, send) => void send(response(raw, { rcode: 2 })));
  const good = await udpServer((raw, send) => void send(response(raw, { an: [SPF] })));
  t.after(() => Promise.all([failing.close(), good.close()]));
  // A timeout no run of this test waits for: each query ends on an answer.
  const c = new DnsClient({ timeoutMs: 60_000, tries: 2 });
  t.after(() => c.close());
  assert.deepEqual(await c.query([failing.addr], 'example.test', 'TXT'), { kind: 'response', rcode: 2, aa: false, records: [] });
  assert.equal(failing.queries.length, 1);
  assert.deepEqual(await c.query([failing.addr, good.addr], 'example.test', 'TXT'), { kind: 'response', rcode: 0, aa: false, records: [['v=spf1 -all']] });
  assert.equal(failing.queries.length, 2);
  assert.equal(good.queries.length, 1);
});

// ------------------------------------------------------------------------------------------------ 3. TC=1, QDCOUNT 0

/** UDP: `udp` (a TC=1 reply without question by default); TCP: the full answer. Logs "udp"/"tcp" per query. */
async function truncating(udp: (raw: Buffer) => Buffer | null = (raw) => response(raw, { tc: true, noQuestion: true })) {
  const asked: string[] = [];
  const srv = await scriptedServer((_q: Query, raw, via) => {
    asked.push(via);
    return via === 'udp' ? udp(raw) : response(raw, { an: [SPF] });
  });
  return { ...srv, asked };
}

test('TC=1 with an empty question section (QDCOUNT 0), our id, from the server asked → the query over TCP (as BIND does)', async (t) => {
  const srv = await truncating();
  t.after(() => srv.close());
  // A long timeout: on the old code the query times out (the datagram read as foreign) and the test fails on that.
  const c = new DnsClient({ timeoutMs: 3000, tries: 1 });
  t.after(() => c.close());
  assert.deepEqual(await c.query([srv.addr], 'big.test', 'TXT'), { kind: 'response', rcode: 0, aa: false, records: [['v=spf1 -all']] });
  assert.deepEqual(srv.asked, ['udp', 'tcp']);
  const r = createResolver({ servers: [srv.spec], timeoutMs: 3000, tries: 2, cache: false });
  t.after(() => r.close());
  assert.deepEqual(await r.resolve('big.test', 'TXT'), { name: 'big.test', type: 'TXT', status: 'ok', records: [['v=spf1 -all']] });
  assert.deepEqual(srv.asked, ['udp', 'tcp', 'udp', 'tcp']);
});

test('without our question, anything else is still ignored: TC=1 with another id, or QDCOUNT 0 without TC (no TCP, the attempt times out)', async (t) => {
  const otherId = await truncating((raw) => response(raw, { tc: true, noQuestion: true, id: (raw.readUInt16BE(0) + 1) & 0xffff }));
  const noTc = await truncating((raw) => response(raw, { rcode: 2, noQuestion: true }));
  t.after(() => Promise.all([otherId.close(), noTc.close()]));
  const c = new DnsClient({ timeoutMs: 200, tries: 1 });
  t.after(() => c.close());
  assert.deepEqual(await c.query([otherId.addr], 'big.test', 'TXT'), { kind: 'error', error: 'timeout' });
  assert.deepEqual(await c.query([noTc.addr], 'big.test', 'TXT'), { kind: 'error', error: 'timeout' });
  assert.deepEqual(otherId.asked, ['udp']);
  assert.deepEqual(noTc.asked, ['udp']);
});

// ------------------------------------------------------------------------------------------------ 2. dotted labels

test("a label holding the octet '.' is malformed: never read as the name with more labels", () => {
  const question = Buffer.concat([labels('d', 'test'), u16(QTYPE.MX), u16(1)]);
  const head = (an: number) => Buffer.concat([u16(7), u16(0x8180), u16(1), u16(an), u16(0), u16(0)]);
  // MX exchange "mail.x" + "test" (two labels): read as mail / x / test before, and asked back as three labels.
  const mx = Buffer.concat([head(1), question, rr(QNAME, QTYPE.MX, Buffer.concat([u16(10), labels('mail.x', 'test')]))]);
  const key = nameKey(labels('d', 'test'));
  assert.throws(() => parseResponse(mx, key, QTYPE.MX), (e) => e instanceof MalformedResponse && /label holds a dot/.test(e.message));
  // Keys are byte-exact: ["t.x","test"] is not ["t","x","test"] (it has no key at all).
  assert.throws(() => nameKey(labels('t.x', 'test')), MalformedResponse);
  assert.equal(nameKey(labels('t', 'x', 'test')), 't.x.test');
});

test("resolve: a CNAME to a name with a dotted label, and another owner's TXT riding along, is unknown — never that owner's records", async (t) => {
  const srv = await scriptedServer((q, raw) => {
    const n = q.qname.toLowerCase();
    if (n === 'alias.test') return response(raw, { an: [rr(QNAME, QTYPE.CNAME, labels('t.x', 'test')), rr(labels('t', 'x', 'test'), QTYPE.TXT, txt('v=spf1 +all'))] });
    if (n === 'd.test') return response(raw, { an: [rr(QNAME, QTYPE.MX, Buffer.concat([u16(10), labels('mail.x', 'test')]))] });
    return response(raw, { rcode: 3 });
  });
  t.after(() => srv.close());
  const r = createResolver({ servers: [srv.spec], timeoutMs: 5000, tries: 1, cache: false });
  t.after(() => r.close());
  const alias = await r.resolve('alias.test', 'TXT');
  assert.equal(alias.status, 'unknown', JSON.stringify(alias));
  assert.deepEqual(alias.records, []);
  const mx = await r.resolve('d.test', 'MX');
  assert.equal(mx.status, 'unknown', JSON.stringify(mx));
  assert.match(mx.error ?? '', /label holds a dot/);
});
