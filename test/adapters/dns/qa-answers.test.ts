// Answers QA found read wrongly, from hand-made packets of scripted servers on 127.0.0.1: identical records repeated in
// one answer (RFC 2181 §5: one record), a non-recursive server's referral asked as a recursive question (not NODATA),
// a nameserver whose own address lookup failed (not "no address": verify() must not skip it), and names longer than
// DNS allows (NXDOMAIN without asking, not "bad name" for ever).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { encodeName, nameKey, parseResponse, QTYPE } from '../../../src/adapters/dns/wire.js';
import { createResolver } from '../../../src/adapters/dns/resolver.js';
import { NO_SERVER_ADDRESS } from '../../../src/core/resolver.js';
import { dnsCheck } from '../../../src/core/checks/dns.js';
import { spfCheck } from '../../../src/core/checks/spf.js';
import { verify } from '../../../src/core/plans/apply.js';
import type { AuditDeps } from '../../../src/core/audit.js';
import type { Change, Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import type { Panel } from '../../../src/core/panel.js';
import { checkContext } from '../../core/checks/context.js';
import { parseQuery as readQuery, type Query } from '../../helpers/dns-query.js';

// ------------------------------------------------------------------------------------------------ packet crafting

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u32 = (n: number) => Buffer.from([n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
const wname = (n: string) => encodeName(n)!;
/** The question's owner, as servers write it: a pointer to offset 12. */
const QNAME = Buffer.from([0xc0, 12]);
const rr = (owner: Buffer, type: number, rdata: Buffer) => Buffer.concat([owner, u16(type), u16(1), u32(60), u16(rdata.length), rdata]);
const txt = (...strings: string[]) => Buffer.concat(strings.map((s) => Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)])));
const soa = (zone: string) => rr(wname(zone), QTYPE.SOA, Buffer.concat([wname(`ns.${zone}`), wname(`h.${zone}`), Buffer.alloc(20)]));
const nsRr = (zone: string, host: string) => rr(wname(zone), QTYPE.NS, wname(host));
const opt = Buffer.concat([Buffer.from([0]), u16(41), u16(1232), u32(0), u16(0)]);



interface Reply {
  rcode?: number;
  aa?: boolean;
  /** RA: on unless said otherwise (a recursive resolver). */
  ra?: boolean;
  an?: Buffer[];
  ns?: Buffer[];
  ar?: Buffer[];
}

function response(q: Pick<Query, 'id' | 'question'>, o: Reply = {}): Buffer {
  const flags = 0x8000 | 0x0100 | (o.ra === false ? 0 : 0x0080) | (o.aa ? 0x0400 : 0) | (o.rcode ?? 0);
  const an = o.an ?? [];
  const ns = o.ns ?? [];
  const ar = o.ar ?? [opt];
  return Buffer.concat([u16(q.id), u16(flags), u16(1), u16(an.length), u16(ns.length), u16(ar.length), q.question, ...an, ...ns, ...ar]);
}

/** A UDP server on 127.0.0.1 answering each query with `handle` (null: no answer); `asked` keeps "qname TYPE". */
async function serve(handle: (q: Query) => Reply | null): Promise<{ port: number; spec: string; asked: string[]; close(): Promise<void> }> {
  const asked: string[] = [];
  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    const q = parseQuery(msg);
    asked.push(`${q.qname} ${Object.entries(QTYPE).find(([, v]) => v === q.qtype)?.[0] ?? q.qtype}`);
    const r = handle(q);
    if (r) udp.send(response(q, r), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  const port = udp.address().port;
  return { port, spec: `127.0.0.1:${port}`, asked, close: () => new Promise<void>((r) => udp.close(() => r())) };
}

const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}: ${f.message}`).join('\n');

// ------------------------------------------------------------------------------------------------ 1. duplicate records

test('parseResponse: identical records repeated in one answer are one record (RFC 2181 §5); different ones all stay, in one order', () => {
  const msg = (qtype: number, an: Buffer[]) => response({ id: 1, question: Buffer.concat([wname('d.test'), u16(qtype), u16(1)]) }, { an });
  const key = nameKey(wname('d.test'));
  const spf = txt('v=spf1 mx -all');
  assert.deepEqual(parseResponse(msg(QTYPE.TXT, [rr(QNAME, 16, spf), rr(QNAME, 16, txt('x')), rr(QNAME, 16, spf)]), key, QTYPE.TXT).records, [['v=spf1 mx -all'], ['x']]);
  // The same text in other character-strings is another record (other bytes on the wire).
  assert.deepEqual(parseResponse(msg(QTYPE.TXT, [rr(QNAME, 16, txt('ab', 'c')), rr(QNAME, 16, txt('a', 'bc')), rr(QNAME, 16, txt('abc'))]), key, QTYPE.TXT).records, [['a', 'bc'], ['ab', 'c'], ['abc']]);
  const a = (ip: number) => rr(QNAME, 1, Buffer.from([192, 0, 2, ip]));
  assert.deepEqual(parseResponse(msg(QTYPE.A, [a(1), a(2), a(1), a(2), a(3)]), key, QTYPE.A).records, ['192.0.2.1', '192.0.2.2', '192.0.2.3']);
  // A large answer (compared by keys): the same.
  const many = Array.from({ length: 40 }, (_, i) => i % 20);
  assert.deepEqual(parseResponse(msg(QTYPE.A, many.map(a)), key, QTYPE.A).records, Array.from({ length: 20 }, (_, i) => `192.0.2.${i}`));
  const txts = Array.from({ length: 30 }, (_, i) => rr(QNAME, 16, i % 2 ? txt('ab', 'c') : txt('a', 'bc')));
  assert.deepEqual(parseResponse(msg(QTYPE.TXT, [...txts, rr(QNAME, 16, txt('abc'))]), key, QTYPE.TXT).records, [['a', 'bc'], ['ab', 'c'], ['abc']]);
  // Names in the data compare as DNS compares them (ASCII case).
  const mx = (p: number, host: string) => rr(QNAME, 15, Buffer.concat([u16(p), wname(host)]));
  assert.deepEqual(parseResponse(msg(QTYPE.MX, [mx(10, 'mx.d.test'), mx(10, 'MX.d.test'), mx(20, 'mx.d.test')]), key, QTYPE.MX).records, [
    { priority: 10, exchange: 'mx.d.test' },
    { priority: 20, exchange: 'mx.d.test' },
  ]);
});

test('parseResponse: an RRset comes out in one order however the server rotates it (A by address, MX by priority, TXT by text)', () => {
  const msg = (qtype: number, an: Buffer[]) => response({ id: 1, question: Buffer.concat([wname('d.test'), u16(qtype), u16(1)]) }, { an });
  const key = nameKey(wname('d.test'));
  const rotations = <T>(xs: T[]) => xs.map((_, i) => [...xs.slice(i), ...xs.slice(0, i)]);
  const a = (ip: number[]) => rr(QNAME, QTYPE.A, Buffer.from(ip));
  for (const r of rotations([a([192, 0, 2, 10]), a([192, 0, 2, 2]), a([10, 9, 9, 9]), a([198, 51, 100, 1])])) {
    assert.deepEqual(parseResponse(msg(QTYPE.A, r), key, QTYPE.A).records, ['10.9.9.9', '192.0.2.2', '192.0.2.10', '198.51.100.1']);
  }
  const mx = (p: number, host: string) => rr(QNAME, QTYPE.MX, Buffer.concat([u16(p), wname(host)]));
  for (const r of rotations([mx(20, 'b.d.test'), mx(10, 'z.d.test'), mx(20, 'a.d.test'), mx(5, 'm.d.test')])) {
    assert.deepEqual(
      parseResponse(msg(QTYPE.MX, r), key, QTYPE.MX).records.map((m) => (typeof m === 'object' && !Array.isArray(m) ? `${m.priority} ${m.exchange}` : m)),
      ['5 m.d.test', '10 z.d.test', '20 a.d.test', '20 b.d.test'],
    );
  }
  const t = (...s: string[]) => rr(QNAME, QTYPE.TXT, txt(...s));
  for (const r of rotations([t('v=spf1 mx -all'), t('google-site-verification=x'), t('v=spf1 ', 'a'), t('v=spf1')])) {
    assert.deepEqual(parseResponse(msg(QTYPE.TXT, r), key, QTYPE.TXT).records, [['google-site-verification=x'], ['v=spf1'], ['v=spf1 ', 'a'], ['v=spf1 mx -all']]);
  }
  // Type SPF (99) holds character-strings as TXT does: compared string by string, not as text.
  const spf = (...x: string[]) => rr(QNAME, QTYPE.SPF, txt(...x));
  // (As text, ["v=spf1 a,b"] and ["v=spf1 a", "b"] both read "v=spf1 a,b": their order would be the server's.)
  for (const r of rotations([spf('v=spf1 a,b'), spf('v=spf1 a', 'b'), spf('v=spf1 ', 'a', 'x')])) {
    assert.deepEqual(parseResponse(msg(QTYPE.SPF, r), key, QTYPE.SPF).records, [['v=spf1 ', 'a', 'x'], ['v=spf1 a', 'b'], ['v=spf1 a,b']]);
  }
});

test('wire resolver + checks: a server rotating its records gives the same evidence and findings every time (one history document)', async (t) => {
  const D = 'rot.test';
  const txts = ['v=spf1 ip4:203.0.113.10 -all', 'v=spf1 include:_spf.google.com ~all', 'google-site-verification=abc'];
  const mxs = [[10, 'mx1.rot.test'], [10, 'mx2.rot.test'], [20, 'backup.rot.test']] as const;
  let turn = 0;
  let round = 0;
  const srv = await serve((q) => {
    turn++;
    const k = round;
    const rot = <T>(xs: readonly T[]) => xs.map((_, i) => xs[(i + k) % xs.length]);
    if (q.qname === D && q.qtype === QTYPE.TXT) return { an: rot(txts).map((s) => rr(QNAME, QTYPE.TXT, txt(s))) };
    if (q.qname === D && q.qtype === QTYPE.MX) return { an: rot(mxs).map(([p, h]) => rr(QNAME, QTYPE.MX, Buffer.concat([u16(p), wname(h)]))) };
    return { ns: [soa('test')] };
  });
  t.after(() => srv.close());
  const seen = new Set<string>();
  for (round = 0; round < 3; round++) {
    // A new resolver each round: nothing cached, every answer read from the wire again (rotated by the round).
    const r = createResolver({ servers: [srv.spec], timeoutMs: 1000, tries: 1 });
    const fs = await spfCheck({ ...checkContext(D, {}), resolver: r });
    const mx = await r.resolve(D, 'MX');
    await r.close();
    seen.add(JSON.stringify({ fs, mx: mx.records }));
  }
  assert.ok(turn >= 6, `the server was asked ${turn} times`);
  assert.equal(seen.size, 1, [...seen].join('\n'));
  const only = JSON.parse([...seen][0]);
  assert.ok(only.fs.some((f: Finding) => f.rule === 'spf.multiple'), JSON.stringify(only.fs));
});

test('wire resolver + SPF check: the same SPF record sent twice is one SPF record — no spf.multiple', async (t) => {
  const D = 'dup.test';
  const srv = await serve((q) => {
    if (q.qname === D && q.qtype === QTYPE.TXT) return { an: [rr(QNAME, 16, txt('v=spf1 ip4:203.0.113.10 -all')), rr(QNAME, 16, txt('v=spf1 ip4:203.0.113.10 -all'))] };
    return { ns: [soa('test')] };
  });
  t.after(() => srv.close());
  const r = createResolver({ servers: [srv.spec], timeoutMs: 1000, tries: 1 });
  t.after(() => r.close());
  assert.deepEqual((await r.resolve(D, 'TXT')).records, [['v=spf1 ip4:203.0.113.10 -all']]);
  const fs = await spfCheck({ ...checkContext(D, {}), resolver: r });
  assert.ok(!fs.some((f) => f.rule === 'spf.multiple'), show(fs));
  assert.ok(!fs.some((f) => f.severity === 'fail'), show(fs));
});

// ------------------------------------------------------------------------------------------------ 2. referrals

test('resolve: an empty NOERROR from a server that does not recurse (RA=0, no SOA) is unknown — a referral is not NODATA', async (t) => {
  let reply: Reply = {};
  const srv = await serve(() => reply);
  t.after(() => srv.close());
  const r = createResolver({ servers: [srv.spec], authoritativePort: srv.port, timeoutMs: 1000, tries: 1, cache: false });
  t.after(() => r.close());
  const ask = () => r.resolve('shop.parent.test', 'TXT');
  const referral: Reply = { ra: false, ns: [nsRr('shop.parent.test', 'ns1.elsewhere.test'), nsRr('shop.parent.test', 'ns2.elsewhere.test')] };
  reply = referral;
  let a = await ask();
  assert.equal(a.status, 'unknown');
  assert.match(a.error!, /^referral \(the DNS resolver is not recursive/);
  // A non-recursive server with nothing to say at all (no authority section).
  reply = { ra: false };
  a = await ask();
  assert.equal(a.status, 'unknown');
  assert.match(a.error!, /^no answer \(the DNS resolver is not recursive/);
  // An alias whose target the server did not look up: nothing is known of the target's records.
  reply = { ra: false, aa: true, an: [rr(QNAME, QTYPE.CNAME, wname('target.elsewhere.test'))] };
  a = await ask();
  assert.equal(a.status, 'unknown');
  assert.match(a.error!, /^alias not followed \(the DNS resolver is not recursive/);
  // Real NODATA: an SOA in the authority section, or AA=1 for the name itself, or a server that recurses.
  for (const nodata of [
    { ra: false, ns: [soa('parent.test')] },
    { ra: false, ns: [nsRr('parent.test', 'ns.parent.test'), soa('parent.test')] },
    { ra: false, aa: true },
    { ra: false, aa: true, ns: [nsRr('shop.parent.test', 'ns1.elsewhere.test')] },
    { ns: [nsRr('shop.parent.test', 'ns1.elsewhere.test')] },
    {},
    { ra: false, aa: true, an: [rr(QNAME, QTYPE.CNAME, wname('t.parent.test'))], ns: [soa('parent.test')] },
  ] satisfies Reply[]) {
    reply = nodata;
    assert.equal((await ask()).status, 'nodata', JSON.stringify(nodata, (_k, v) => (v?.type === 'Buffer' ? '…' : v)));
  }
  // NXDOMAIN from a server that neither recurses (RA=0) nor is authoritative (AA=0) and gives no SOA: unknown, as the
  // empty NOERROR above. This was 'nxdomain' until QA showed a fix dropping `include:_spf.google.com` on it: a lame or
  // non-authoritative server's NXDOMAIN is no proof the name is gone, and unknown never changes a zone.
  reply = { ra: false, rcode: 3 };
  let nx = await ask();
  assert.equal(nx.status, 'unknown');
  assert.match(nx.error!, /^NXDOMAIN from a server not authoritative for the name \(the DNS resolver is not recursive/);
  reply = { ra: false, rcode: 3, ns: [nsRr('parent.test', 'ns.parent.test')] };
  assert.equal((await ask()).status, 'unknown');
  // A real NXDOMAIN still is one: the zone's SOA, AA=1, or a server that recurses (RA=1, even with no SOA).
  for (const real of [{ ra: false, rcode: 3, ns: [soa('parent.test')] }, { ra: false, aa: true, rcode: 3 }, { rcode: 3 }] satisfies Reply[]) {
    reply = real;
    nx = await ask();
    assert.equal(nx.status, 'nxdomain', JSON.stringify(real, (_k, v) => (v?.type === 'Buffer' ? '…' : v)));
  }
  // Answers with records are as before.
  reply = { ra: false, an: [rr(QNAME, 16, txt('v=spf1 -all'))] };
  assert.deepEqual((await ask()).records, [['v=spf1 -all']]);
  // resolveAt (a zone's own servers, which never recurse) still goes by the AA bit alone.
  const at = () => r.resolveAt!(['127.0.0.1'], 'shop.parent.test', 'TXT');
  reply = referral;
  assert.equal((await at()).error, 'not authoritative (referral)');
  reply = { ra: false, aa: true };
  assert.equal((await at()).status, 'nodata');
  reply = { ra: false, aa: true, an: [rr(QNAME, QTYPE.CNAME, wname('target.elsewhere.test'))] };
  assert.equal((await at()).status, 'nodata');
});

test('checks through a resolver that is an authoritative-only server: a delegated domain is unknown, not "served by this server", and not missing its records', async (t) => {
  // The server is authoritative for parent.test (this box's NSD, say), which delegates shop.parent.test elsewhere.
  const D = 'shop.parent.test';
  const srv = await serve((q) => {
    if (q.qname === 'parent.test' && q.qtype === QTYPE.NS) return { ra: false, aa: true, an: [rr(QNAME, QTYPE.NS, wname('ns1.newhost.example'))] };
    if (q.qname === 'parent.test' || q.qname.endsWith('.parent.test')) {
      if (q.qname === D || q.qname.endsWith(`.${D}`)) return { ra: false, ns: [nsRr(D, 'ns1.hostgator.com'), nsRr(D, 'ns2.hostgator.com')] };
      return { ra: false, aa: true, ns: [soa('parent.test')] };
    }
    return { ra: false, rcode: 5 };
  });
  t.after(() => srv.close());
  const r = createResolver({ servers: [srv.spec], timeoutMs: 1000, tries: 1 });
  t.after(() => r.close());
  const ctx = { ...checkContext(D, {}), resolver: r };
  const dns = await dnsCheck(ctx);
  assert.ok(!dns.some((f) => f.rule === 'dns.authoritative'), show(dns));
  const err = dns.find((f) => f.severity === 'unknown');
  assert.ok(err, show(dns));
  assert.match(err.message, /referral \(the DNS resolver is not recursive/);
  const spf = await spfCheck(ctx);
  assert.ok(!spf.some((f) => f.severity === 'fail'), show(spf));
  assert.ok(spf.some((f) => f.severity === 'unknown'), show(spf));
});

// ------------------------------------------------------------------------------------------------ 3. verify and NS addresses

test("resolveAt: a nameserver whose address lookup failed (SERVFAIL) is unknown with that cause — NO_SERVER_ADDRESS only when DNS says it has none", async (t) => {
  let ns2: 'servfail' | 'nxdomain' | 'nodata' | 'v4-servfail-v6-nodata' = 'servfail';
  const srv = await serve((q) => {
    if (q.qname === 'ns1.host.test' && q.qtype === QTYPE.A) return { an: [rr(QNAME, 1, Buffer.from([127, 0, 0, 1]))] };
    if (q.qname === 'ns2.host.test') {
      if (ns2 === 'servfail') return { rcode: 2 };
      if (ns2 === 'nxdomain') return { rcode: 3, ns: [soa('host.test')] };
      if (ns2 === 'nodata') return { ns: [soa('host.test')] };
      return q.qtype === QTYPE.A ? { rcode: 2 } : { ns: [soa('host.test')] };
    }
    if (q.qname === '_dmarc.d.test') return { aa: true, an: [rr(QNAME, 16, txt('v=DMARC1; p=none'))] };
    return { rcode: 5 };
  });
  t.after(() => srv.close());
  const r = createResolver({ servers: [srv.spec], authoritativePort: srv.port, timeoutMs: 1000, tries: 1 });
  t.after(() => r.close());
  for (const m of ['servfail', 'v4-servfail-v6-nodata'] as const) {
    ns2 = m;
    const a = await r.resolveAt!(['ns2.host.test'], '_dmarc.d.test', 'TXT');
    assert.equal(a.status, 'unknown', m);
    assert.notEqual(a.error, NO_SERVER_ADDRESS, m);
    assert.match(a.error!, /^could not look up the address of ns2\.host\.test \(servfail\)$/, m);
  }
  for (const m of ['nxdomain', 'nodata'] as const) {
    ns2 = m;
    assert.equal((await r.resolveAt!(['ns2.host.test'], '_dmarc.d.test', 'TXT')).error, NO_SERVER_ADDRESS, m);
  }
  // Beside a server that has an address, the one whose lookup failed is simply not asked (the answer is ns1's).
  ns2 = 'servfail';
  assert.deepEqual((await r.resolveAt!(['ns2.host.test', 'ns1.host.test'], '_dmarc.d.test', 'TXT')).records, [['v=DMARC1; p=none']]);
});

test("verify(): a zone nameserver whose A/AAAA lookups got SERVFAIL leaves the change 'propagating', not 'yes'", async (t) => {
  const D = 'fixme.test';
  const value = 'v=DMARC1; p=none; rua=mailto:d@fixme.test';
  let ns2: 'servfail' | 'none' = 'servfail';
  const srv = await serve((q) => {
    if (q.qname === 'ns1.newhost.test' && q.qtype === QTYPE.A) return { an: [rr(QNAME, 1, Buffer.from([127, 0, 0, 1]))] };
    if (q.qname === 'ns2.newhost.test') return ns2 === 'servfail' ? { rcode: 2 } : { rcode: 3, ns: [soa('newhost.test')] };
    if (q.qname === `_dmarc.${D}` && q.qtype === QTYPE.TXT) return { aa: true, an: [rr(QNAME, 16, txt(value))] };
    return { rcode: 5 };
  });
  t.after(() => srv.close());
  const r = createResolver({ servers: [srv.spec], authoritativePort: srv.port, timeoutMs: 1000, tries: 1 });
  t.after(() => r.close());
  const after: ZoneRecord = { name: `_dmarc.${D}`, ttl: 300, type: 'TXT', value, txt: [value] };
  const settings = { ...checkContext(D, {}).settings, nameservers: ['ns1.newhost.test', 'ns2.newhost.test'] } satisfies MailSettings;
  const panel = {
    readZone: async () => ({ domain: D, serial: 2, version: 'v2', records: [after] }),
    readMailSettings: async () => settings,
  } as unknown as Panel;
  const deps: AuditDeps = { panel, resolver: r };
  const changes: Change[] = [{ action: 'add', name: after.name, type: 'TXT', ttl: 300, before: null, after }];
  assert.equal(await verify(D, changes, deps), 'propagating');
  // A nameserver DNS says has no address at all serves nobody: left out, as before.
  ns2 = 'none';
  assert.equal(await verify(D, changes, deps), 'yes');
});

// ------------------------------------------------------------------------------------------------ 4. names too long

test('a name longer than 255 wire octets cannot exist: NXDOMAIN without asking (resolve and resolveAt); other bad names stay unknown', async (t) => {
  const srv = await serve(() => ({ rcode: 2 }));
  t.after(() => srv.close());
  const r = createResolver({ servers: [srv.spec], authoritativePort: srv.port, timeoutMs: 1000, tries: 1 });
  t.after(() => r.close());
  const domain = Array.from({ length: 4 }, () => 'a'.repeat(61)).join('.') + '.test'; // 4*62 + 4 = 252 characters
  assert.equal(domain.length, 252);
  assert.ok(encodeName(domain), 'the domain itself fits');
  for (const name of [`_dmarc.${domain}`, `default._domainkey.${domain}`, `${Array.from({ length: 5 }, () => 'é'.repeat(30)).join('.')}.test` /* 159 characters, 311 octets */]) {
    assert.deepEqual(await r.resolve(name, 'TXT'), { name, type: 'TXT', status: 'nxdomain', records: [] }, name);
    assert.equal((await r.resolveAt!(['127.0.0.1'], name, 'TXT')).status, 'nxdomain', name);
  }
  assert.deepEqual(srv.asked, [], 'nothing asked');
  // A name that fits but cannot be encoded (an empty label, a label past 63 octets) is still unknown: bad name.
  for (const name of ['a..test', `${'x'.repeat(64)}.test`]) assert.equal((await r.resolve(name, 'TXT')).error, 'bad name', name);
  // The domain itself is asked (and its DNS trouble is unknown, as ever).
  assert.equal((await r.resolve(domain, 'TXT')).status, 'unknown');
});

/** The query with its qname lower-cased (these servers answer names in any case). */
function parseQuery(raw: Buffer): Query {
  const q = readQuery(raw);
  return { ...q, qname: q.qname.toLowerCase() };
}
