// A misbehaving server's answers (QA, live DNS): a TXT string that runs past its record on the slow (non-UTF-8) path,
// an answer section that does not answer the question, an NXDOMAIN from a server that neither recurses nor is
// authoritative, and a server that does not know EDNS (FORMERR/NOTIMP without OPT). Hand-made packets from scripted
// UDP+TCP servers on 127.0.0.1; each case also through the resolver (resolve, resolveAt) and, where a fix or a
// verification read it wrongly, through the check or verify() that did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsClient, encodeName, nameKey, parseResponse, QTYPE, type ServerAddress } from '../../../src/adapters/dns/wire.js';
import { createResolver } from '../../../src/adapters/dns/resolver.js';
import { spfCheck } from '../../../src/core/checks/spf.js';
import { makeClassifier } from '../../../src/core/classify.js';
import { makePlanWith } from '../../../src/core/plans/index.js';
import { verify } from '../../../src/core/plans/apply.js';
import { defaultKnowledge } from '../../../src/knowledge/index.js';
import type { Change, Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import type { Panel } from '../../../src/core/panel.js';
import { checkContext } from '../../core/checks/context.js';
import { scriptedServer, type Query, type ScriptedServer } from '../../helpers/dns-query.js';

// ------------------------------------------------------------------------------------------------ packet crafting

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u32 = (n: number) => Buffer.from([n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
const wname = (n: string) => encodeName(n)!;
/** The question's owner, as servers write it: a pointer to offset 12. */
const QNAME = Buffer.from([0xc0, 12]);
const rr = (owner: Buffer, type: number, rdata: Buffer, klass = 1) => Buffer.concat([owner, u16(type), u16(klass), u32(60), u16(rdata.length), rdata]);
const txt = (...strings: string[]) => Buffer.concat(strings.map((s) => Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)])));
const aRr = (owner: Buffer, ip: string) => rr(owner, QTYPE.A, Buffer.from(ip.split('.').map(Number)));
const cname = (owner: Buffer, target: string) => rr(owner, QTYPE.CNAME, wname(target));
const soa = (zone: string) => rr(wname(zone), QTYPE.SOA, Buffer.concat([wname(`ns.${zone}`), wname(`h.${zone}`), Buffer.alloc(20)]));
const OPT = Buffer.concat([Buffer.from([0]), u16(41), u16(1232), u32(0), u16(0)]);
const DNAME = 39;

interface Reply {
  rcode?: number;
  aa?: boolean;
  /** RA: on unless said otherwise (a recursive resolver). */
  ra?: boolean;
  tc?: boolean;
  an?: Buffer[];
  ns?: Buffer[];
  /** Additional records; by default an OPT record when the query had one (as an EDNS server answers), else none. */
  ar?: Buffer[];
}

/** Does the query carry an additional record (the client's only one is its OPT)? */
const hasOpt = (raw: Buffer) => raw.readUInt16BE(10) > 0;

function response(q: Query, o: Reply, edns: boolean): Buffer {
  const flags = 0x8000 | 0x0100 | (o.ra === false ? 0 : 0x0080) | (o.aa ? 0x0400 : 0) | (o.tc ? 0x0200 : 0) | (o.rcode ?? 0);
  const an = o.an ?? [];
  const ns = o.ns ?? [];
  const ar = o.ar ?? (edns ? [OPT] : []);
  return Buffer.concat([u16(q.id), u16(flags), u16(1), u16(an.length), u16(ns.length), u16(ar.length), q.question, ...an, ...ns, ...ar]);
}

interface Served extends ScriptedServer {
  /** "udp|tcp qname TYPE +edns|-edns" per query received. */
  asked: string[];
}

/** A UDP+TCP server (test/helpers/dns-query.ts) answering each query with `handle` (null: no answer). */
async function serve(handle: (q: Query, edns: boolean, via: 'udp' | 'tcp') => Reply | null): Promise<Served> {
  const asked: string[] = [];
  const srv = await scriptedServer((q, raw, via) => {
    const edns = hasOpt(raw);
    asked.push(`${via} ${q.qname.toLowerCase()} ${Object.entries(QTYPE).find(([, v]) => v === q.qtype)?.[0] ?? q.qtype} ${edns ? '+edns' : '-edns'}`);
    const r = handle({ ...q, qname: q.qname.toLowerCase() }, edns, via);
    return r ? response(q, r, edns) : null;
  });
  return { ...srv, asked };
}

const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}: ${f.message}`).join('\n');
const label = (r: Reply) => JSON.stringify(r, (_k, v) => (v?.type === 'Buffer' ? '…' : v));

/**
 * The SPF check of `D` (whose live SPF and panel SPF include _spf.google.com) through a wire resolver asking `srv`
 * (`include` answers _spf.google.com TXT), and the SPF fix planned from it.
 */
const D = 'ex.test';
const SPF = 'v=spf1 ip4:203.0.113.10 include:_spf.google.com -all';
async function spfThrough(include: Reply): Promise<{ findings: Finding[]; changes: number }> {
  const srv = await serve((q) => {
    if (q.qtype === QTYPE.NS && q.qname === D) return { an: [rr(QNAME, QTYPE.NS, wname('ns1.newhost.example')), rr(QNAME, QTYPE.NS, wname('ns2.newhost.example'))] };
    if (q.qtype === QTYPE.TXT && q.qname === D) return { an: [rr(QNAME, QTYPE.TXT, txt(SPF))] };
    if (q.qtype === QTYPE.TXT && q.qname === '_spf.google.com') return include;
    if (q.qtype === QTYPE.TXT && q.qname === '_netblocks.google.com') return { an: [rr(QNAME, QTYPE.TXT, txt('v=spf1 ip4:35.190.247.0/24 ~all'))] };
    return { ns: [soa('test')] };
  });
  const r = createResolver({ servers: [srv.spec], timeoutMs: 5000, tries: 1 });
  try {
    const base = checkContext(D, {}, {}, [{ name: D, ttl: 300, type: 'TXT', value: SPF, txt: [SPF] }]);
    const classifier = makeClassifier({ domain: D, zone: base.zone, zoneIndex: base.zoneIndex, settings: base.settings, resolver: r, knowledge: defaultKnowledge });
    const ctx = { ...base, resolver: r, classifier };
    const findings = await spfCheck(ctx);
    const plan = await makePlanWith(ctx, 'spf').catch(() => null);
    return { findings, changes: plan ? plan.changes.length : 0 };
  } finally {
    r.close();
    await srv.close();
  }
}

/**
 * verify() of removing `_dmarc.D` TXT, whose zone nameservers are ns1/ns2.newhost.test: `ns2` answers ns2's A and
 * AAAA lookups, `dmarc` the TXT question asked of the nameservers (AA=1 unless said otherwise).
 */
async function verifyRemoval(ns2: Reply, dmarc: Reply): Promise<string> {
  const old = 'v=DMARC1; p=none; rua=mailto:dmarc@oldhost.example';
  const srv = await serve((q) => {
    if (q.qname === 'ns1.newhost.test') return q.qtype === QTYPE.A ? { an: [aRr(QNAME, '127.0.0.1')] } : { ns: [soa('newhost.test')] };
    if (q.qname === 'ns2.newhost.test') return ns2;
    if (q.qname === `_dmarc.${D}` && q.qtype === QTYPE.TXT) return dmarc;
    return { rcode: 5 };
  });
  const r = createResolver({ servers: [srv.spec], authoritativePort: srv.port, timeoutMs: 5000, tries: 1 });
  try {
    const before: ZoneRecord = { name: `_dmarc.${D}`, ttl: 300, type: 'TXT', value: old, txt: [old] };
    const settings = { ...checkContext(D, {}).settings, nameservers: ['ns1.newhost.test', 'ns2.newhost.test'] } satisfies MailSettings;
    const panel = { readZone: async () => ({ domain: D, serial: 2, version: 'v2', records: [] }), readMailSettings: async () => settings } as unknown as Panel;
    const changes: Change[] = [{ action: 'remove', name: before.name, type: 'TXT', ttl: 300, before, after: null }];
    return await verify(D, changes, { panel, resolver: r });
  } finally {
    r.close();
    await srv.close();
  }
}

// ------------------------------------------------------------------------------------------------ 1. TXT overrun

test('parseResponse: a TXT string that runs past its record after a string that is not UTF-8 is malformed — never the next record, never uninitialised memory', () => {
  const question = Buffer.concat([wname('x.test'), u16(QTYPE.TXT), u16(1)]);
  const msg = (an: Buffer[]) => Buffer.concat([u16(1), u16(0x8180), u16(1), u16(an.length), u16(0), u16(0), question, ...an]);
  const key = nameKey(wname('x.test'));
  // The last record: a 255-octet string past the message's end (padding with empty strings gave the scratch room
  // for it, so the old code read 254 octets of allocUnsafe memory as text).
  const last = msg([rr(QNAME, QTYPE.TXT, Buffer.concat([Buffer.from([1, 0xff]), Buffer.alloc(600), Buffer.from([255, 0x61])]))]);
  assert.throws(() => parseResponse(last, key, QTYPE.TXT), /TXT string runs past its record/);
  // Not the last: the overrun would read the next record's octets as this record's text.
  const mid = msg([rr(QNAME, QTYPE.TXT, Buffer.from([1, 0xff, 200, 0x61])), rr(QNAME, QTYPE.TXT, txt('v=spf1 -all'))]);
  assert.throws(() => parseResponse(mid, key, QTYPE.TXT), /TXT string runs past its record/);
  // The slow path still reads honest records: a lone 0xff, a character split across two strings (read whole, in the
  // string where it starts).
  const ok = msg([rr(QNAME, QTYPE.TXT, Buffer.from([1, 0xff, 1, 0x61])), rr(QNAME, QTYPE.TXT, Buffer.from([2, 0x61, 0xc3, 1, 0xa9]))]);
  assert.deepEqual(parseResponse(ok, key, QTYPE.TXT).records, [['aé', ''], ['\udcff', 'a']]); // in one order: see inCanonicalOrder
});

test('resolve and resolveAt: such a TXT answer is unknown (malformed), whatever process memory holds', async (t) => {
  const bad = rr(QNAME, QTYPE.TXT, Buffer.concat([Buffer.from([1, 0xff]), Buffer.alloc(600), Buffer.from([255, 0x61])]));
  const srv = await serve(() => ({ aa: true, an: [bad] }));
  t.after(() => srv.close());
  const r = createResolver({ servers: [srv.spec], authoritativePort: srv.port, timeoutMs: 5000, tries: 1, cache: false });
  t.after(() => r.close());
  for (const a of [await r.resolve(D, 'TXT'), await r.resolveAt!(['127.0.0.1'], D, 'TXT')]) {
    assert.equal(a.status, 'unknown');
    assert.deepEqual(a.records, []);
    assert.match(a.error!, /^malformed response \(TXT string runs past its record\)$/);
  }
});

// ------------------------------------------------------------------------------------------------ 2. not an answer

/** Answers to "_spf.google.com TXT" that do not answer it (each also sent with AA=1 for resolveAt). */
const NOT_ANSWERS: Record<string, Reply> = {
  'TXT owned by another name': { an: [rr(wname('google.com'), QTYPE.TXT, txt('v=spf1 -all'))] },
  'A records to a TXT question': { an: [aRr(QNAME, '192.0.2.1')] },
  'TXT of class CH': { an: [rr(QNAME, QTYPE.TXT, txt('v=spf1 -all'), 3)] },
  'a chain a→b with the TXT at c': { an: [cname(QNAME, 'b.google.com'), rr(wname('c.google.com'), QTYPE.TXT, txt('v=spf1 -all'))] },
  'a chain a→b, c→d (a missing link) and nothing else': { an: [cname(QNAME, 'b.google.com'), cname(wname('c.google.com'), 'd.google.com')], ns: [soa('google.com')] },
  'the TXT at the qname, which is an alias': { an: [cname(QNAME, 'b.google.com'), rr(QNAME, QTYPE.TXT, txt('v=spf1 -all'))], ns: [soa('google.com')] },
  'a DNAME alone (no CNAME synthesised)': { an: [rr(wname('google.com'), DNAME, wname('google.example'))] },
  'NXDOMAIN with the TXT at the qname': { rcode: 3, an: [rr(QNAME, QTYPE.TXT, txt('v=spf1 -all'))], ns: [soa('google.com')] },
  'NXDOMAIN with the TXT at the end of the chain': { rcode: 3, an: [cname(QNAME, 'b.google.com'), rr(wname('b.google.com'), QTYPE.TXT, txt('v=spf1 -all'))] },
};

test('resolve and resolveAt: an answer section that does not answer the question (another name, type or class; a broken chain; a DNAME alone; NXDOMAIN with records) is unknown, never NODATA/NXDOMAIN', async (t) => {
  let reply: Reply = {};
  const srv = await serve(() => reply);
  t.after(() => srv.close());
  const r = createResolver({ servers: [srv.spec], authoritativePort: srv.port, timeoutMs: 5000, tries: 1, cache: false });
  t.after(() => r.close());
  for (const [what, rep] of Object.entries(NOT_ANSWERS)) {
    reply = rep;
    const a = await r.resolve('_spf.google.com', 'TXT');
    assert.equal(a.status, 'unknown', `${what}: resolve gave ${a.status}`);
    assert.match(a.error!, /^the answer does not match the question \(|^NXDOMAIN with records$/, what);
    reply = { ...rep, aa: true };
    const at = await r.resolveAt!(['127.0.0.1'], '_spf.google.com', 'TXT');
    assert.equal(at.status, 'unknown', `${what}: resolveAt gave ${at.status}`);
  }
  // The errors say what was wrong.
  reply = NOT_ANSWERS['TXT owned by another name'];
  assert.equal((await r.resolve('_spf.google.com', 'TXT')).error, 'the answer does not match the question (records for another name)');
  reply = NOT_ANSWERS['A records to a TXT question'];
  assert.equal((await r.resolve('_spf.google.com', 'TXT')).error, 'the answer does not match the question (records of another type or class)');
  reply = NOT_ANSWERS['a chain a→b, c→d (a missing link) and nothing else'];
  assert.equal((await r.resolve('_spf.google.com', 'TXT')).error, 'the answer does not match the question (a CNAME chain with a missing link)');
  // A CNAME question answered with another name's CNAME.
  reply = { an: [cname(wname('other.google.com'), 'x.google.com')] };
  assert.equal((await r.resolve('_spf.google.com', 'CNAME')).status, 'unknown');
});

test('resolve: real answers through aliases stay answers — the chain followed to its target, NODATA and NXDOMAIN at the target, a DNAME with its CNAME', async (t) => {
  let reply: Reply = {};
  const srv = await serve(() => reply);
  t.after(() => srv.close());
  const r = createResolver({ servers: [srv.spec], timeoutMs: 5000, tries: 1, cache: false });
  t.after(() => r.close());
  const ask = () => r.resolve('sel._domainkey.d.test', 'TXT');
  const key = 'v=DKIM1; k=rsa; p=MIIB';
  // a→b→c with the TXT at c (and a stray A record of another name beside it: the TXT answers).
  reply = { an: [cname(QNAME, 'b.provider.test'), cname(wname('b.provider.test'), 'c.provider.test'), rr(wname('c.provider.test'), QTYPE.TXT, txt(key)), aRr(wname('x.test'), '192.0.2.1')] };
  assert.deepEqual(await ask(), { name: 'sel._domainkey.d.test', type: 'TXT', status: 'ok', records: [[key]], cnames: ['b.provider.test', 'c.provider.test'] });
  // A CNAME-only answer: the target has no TXT (NODATA there), from a resolver (RA=1) with or without the SOA.
  for (const nodata of [{ an: [cname(QNAME, 'b.provider.test')] }, { an: [cname(QNAME, 'b.provider.test')], ns: [soa('provider.test')] }] satisfies Reply[]) {
    reply = nodata;
    assert.deepEqual(await ask(), { name: 'sel._domainkey.d.test', type: 'TXT', status: 'nodata', records: [], cnames: ['b.provider.test'] }, label(nodata));
  }
  // The chain ends at a name that does not exist: NXDOMAIN (RFC 6604), the chain kept.
  reply = { rcode: 3, an: [cname(QNAME, 'b.provider.test'), cname(wname('b.provider.test'), 'gone.provider.test')], ns: [soa('provider.test')] };
  assert.deepEqual(await ask(), { name: 'sel._domainkey.d.test', type: 'TXT', status: 'nxdomain', records: [], cnames: ['b.provider.test', 'gone.provider.test'] });
  // A DNAME with the CNAME synthesised from it, and the TXT at the target.
  reply = { an: [rr(wname('_domainkey.d.test'), DNAME, wname('keys.provider.test')), cname(QNAME, 'sel.keys.provider.test'), rr(wname('sel.keys.provider.test'), QTYPE.TXT, txt(key))] };
  assert.deepEqual((await ask()).records, [[key]]);
  // Empty answers are the negative answers they always were.
  reply = { ns: [soa('d.test')] };
  assert.equal((await ask()).status, 'nodata');
  reply = { rcode: 3, ns: [soa('d.test')] };
  assert.equal((await ask()).status, 'nxdomain');
  // A CNAME question: the qname's own CNAME.
  reply = { an: [cname(QNAME, 'b.provider.test')] };
  assert.deepEqual((await r.resolve('sel._domainkey.d.test', 'CNAME')).records, ['b.provider.test']);
});

test('the repository DNS server: an alias answers for its target (records, the alias reported); a CNAME-only answer is NODATA there, and the target asked next answers for itself', async (t) => {
  const { startDnsServer } = await import('../../../src/adapters/dns/server.js');
  const srv = await startDnsServer({ data: { 'sel._domainkey.d.test': { CNAME: ['sel.provider.test'] }, 'sel.provider.test': { TXT: [['v=DKIM1; p=MIIB']] } } });
  t.after(() => srv.close());
  const r = createResolver({ servers: [srv.address], timeoutMs: 5000, tries: 1, cache: false });
  t.after(() => r.close());
  const a = await r.resolve('sel._domainkey.d.test', 'TXT');
  assert.deepEqual(a, { name: 'sel._domainkey.d.test', type: 'TXT', status: 'ok', records: [['v=DKIM1; p=MIIB']], cnames: ['sel.provider.test'] });
  srv.setData({ 'sel._domainkey.d.test': { CNAME: ['sel.provider.test'] }, 'provider.test': { SOA: [{ mname: 'ns.provider.test', rname: 'h.provider.test', serial: 1 }] } });
  const b = await r.resolve('sel._domainkey.d.test', 'TXT');
  assert.equal(b.status, 'nodata');
  assert.deepEqual(b.cnames, ['sel.provider.test']);
  assert.equal((await r.resolve(b.cnames![0], 'TXT')).status, 'nxdomain');
});

test("SPF check and fix: an include target's answer that does not answer the question is unknown — never spf.syntax (fail), never a plan dropping the include", async () => {
  for (const what of ['TXT owned by another name', 'A records to a TXT question', 'a chain a→b with the TXT at c', 'NXDOMAIN with the TXT at the qname']) {
    const { findings, changes } = await spfThrough(NOT_ANSWERS[what]);
    assert.ok(!findings.some((f) => f.severity === 'fail'), `${what}:\n${show(findings)}`);
    assert.ok(findings.some((f) => f.severity === 'unknown'), `${what}:\n${show(findings)}`);
    assert.equal(changes, 0, `${what}: the SPF plan changes the record`);
  }
  // The same include answered properly: no finding about it, nothing to change.
  const good = await spfThrough({ an: [rr(QNAME, QTYPE.TXT, txt('v=spf1 include:_netblocks.google.com ~all'))] });
  assert.ok(!good.findings.some((f) => f.severity === 'fail' || f.severity === 'unknown'), show(good.findings));
});

test("verify(): a removal is not 'yes' on an answer that does not answer — the TXT under another owner, or a nameserver's A lookup answered with another name's A", async () => {
  const gone: Reply = { aa: true, ns: [soa(D)] };
  const noAddress: Reply = { ns: [soa('newhost.test')] };
  // Sound answers first: removed at both (ns2 has no address: left out) → yes.
  assert.equal(await verifyRemoval(noAddress, gone), 'yes');
  // The TXT under another owner (AA=1): the old record may well still be served.
  const old = 'v=DMARC1; p=none; rua=mailto:dmarc@oldhost.example';
  assert.equal(await verifyRemoval(noAddress, { aa: true, an: [rr(wname(`_dmarc.${D}.x`), QTYPE.TXT, txt(old))] }), 'propagating');
  // ns2's address lookup answered with another name's A: its address is unknown, not "none" (it may serve the old TXT).
  assert.equal(await verifyRemoval({ an: [aRr(wname('ns9.newhost.test'), '127.0.0.1')] }, gone), 'propagating');
});

// ------------------------------------------------------------------------------------------------ 3. lame NXDOMAIN

test('resolve: NXDOMAIN from a server that neither recurses nor is authoritative (RA=0, AA=0, no SOA) is unknown — the SPF fix keeps the include, verify() does not skip the nameserver', async (t) => {
  const lame: Reply = { ra: false, rcode: 3 };
  const srv = await serve(() => lame);
  t.after(() => srv.close());
  const r = createResolver({ servers: [srv.spec], timeoutMs: 5000, tries: 1, cache: false });
  t.after(() => r.close());
  const a = await r.resolve('_spf.google.com', 'TXT');
  assert.equal(a.status, 'unknown');
  assert.equal(a.error, 'NXDOMAIN from a server not authoritative for the name (the DNS resolver is not recursive: set a recursive resolver)');
  const spf = await spfThrough(lame);
  assert.ok(!spf.findings.some((f) => f.severity === 'fail'), show(spf.findings));
  assert.equal(spf.changes, 0, 'the SPF plan drops the include');
  // ns2's address lookups answered by such a server: unknown, so ns2 is not left out as having no address.
  assert.equal(await verifyRemoval(lame, { aa: true, ns: [soa(D)] }), 'propagating');
  // With the zone's SOA it is a negative answer: ns2 has no address and is left out.
  assert.equal(await verifyRemoval({ ra: false, rcode: 3, ns: [soa('newhost.test')] }, { aa: true, ns: [soa(D)] }), 'yes');
});

// ------------------------------------------------------------------------------------------------ 4. no EDNS

/** A server that does not know EDNS: `rcode` (FORMERR) without OPT to any query with one; `answer` to the others. */
function noEdns(answer: (q: Query, via: 'udp' | 'tcp') => Reply, rcode = 1): (q: Query, edns: boolean, via: 'udp' | 'tcp') => Reply {
  return (q, edns, via) => (edns ? { rcode, ar: [] } : answer(q, via));
}

test('transport: FORMERR or NOTIMP without OPT to an EDNS query → asked again at once without EDNS, and that server is asked without it from then on', async (t) => {
  for (const rcode of [1, 4]) {
    const old = await serve(noEdns(() => ({ an: [rr(QNAME, QTYPE.TXT, txt('v=spf1 -all'))], ar: [] }), rcode));
    const modern = await serve(() => ({ an: [rr(QNAME, QTYPE.TXT, txt('v=spf1 mx -all'))] }));
    const c = new DnsClient({ timeoutMs: 5000, tries: 1 });
    try {
      assert.deepEqual(await c.query([old.addr], 'a.test', 'TXT'), { kind: 'response', rcode: 0, aa: false, records: [['v=spf1 -all']] });
      assert.deepEqual(old.asked, ['udp a.test TXT +edns', 'udp a.test TXT -edns'], `rcode ${rcode}`);
      // Remembered: the next queries go without EDNS at once; another server still gets it.
      assert.deepEqual((await c.query([old.addr], 'b.test', 'TXT')).kind, 'response');
      assert.deepEqual((await c.query([modern.addr], 'b.test', 'TXT')).kind, 'response');
      assert.deepEqual(old.asked.slice(2), ['udp b.test TXT -edns']);
      assert.deepEqual(modern.asked, ['udp b.test TXT +edns']);
    } finally {
      c.close();
      await old.close();
      await modern.close();
    }
  }
});

test('transport: no second fallback — FORMERR to the plain query is the answer (unknown), and FORMERR with OPT is not about EDNS (no resend)', async (t) => {
  const always = await serve(() => ({ rcode: 1, ar: [] }));
  t.after(() => always.close());
  const withOpt = await serve(() => ({ rcode: 1 })); // an EDNS server's FORMERR: the OPT record echoed
  t.after(() => withOpt.close());
  const c = new DnsClient({ timeoutMs: 5000, tries: 1 });
  t.after(() => c.close());
  assert.deepEqual(await c.query([always.addr], 'a.test', 'TXT'), { kind: 'response', rcode: 1, aa: false, records: [] });
  assert.deepEqual(always.asked, ['udp a.test TXT +edns', 'udp a.test TXT -edns']);
  assert.deepEqual(await c.query([withOpt.addr], 'a.test', 'TXT'), { kind: 'response', rcode: 1, aa: false, records: [] });
  assert.deepEqual(withOpt.asked, ['udp a.test TXT +edns']);
  const r = createResolver({ servers: [always.spec], timeoutMs: 5000, tries: 1, cache: false });
  t.after(() => r.close());
  assert.deepEqual(await r.resolve('b.test', 'TXT'), { name: 'b.test', type: 'TXT', status: 'unknown', records: [], error: 'formerr' });
});

test('transport: a server without EDNS truncates past 512 octets → the plain query over TCP', async (t) => {
  const big = Array.from({ length: 4 }, (_, i) => rr(QNAME, QTYPE.TXT, txt(`v=spf1 ${String(i).repeat(200)}`)));
  // FORMERR to EDNS; the plain UDP query gets TC (the answer is over 512 octets); TCP answers in full.
  const srv = await serve(noEdns((_q, via) => (via === 'udp' ? { tc: true, ar: [] } : { an: big, ar: [] })));
  t.after(() => srv.close());
  const c = new DnsClient({ timeoutMs: 5000, tries: 1 });
  t.after(() => c.close());
  const a = await c.query([srv.addr], 'big.test', 'TXT');
  assert.equal(a.kind === 'response' && a.records.length, 4);
  assert.deepEqual(srv.asked, ['udp big.test TXT +edns', 'udp big.test TXT -edns', 'tcp big.test TXT -edns']);
});

test('resolve and resolveAt: a server that does not know EDNS answers (ok), not unknown', async (t) => {
  const srv = await serve(noEdns((q) => (q.qtype === QTYPE.TXT ? { aa: true, an: [rr(QNAME, QTYPE.TXT, txt('v=DMARC1; p=none'))], ar: [] } : { aa: true, ns: [soa('d.test')], ar: [] })));
  t.after(() => srv.close());
  const r = createResolver({ servers: [srv.spec], authoritativePort: srv.port, timeoutMs: 5000, tries: 2, cache: false });
  t.after(() => r.close());
  assert.deepEqual((await r.resolve('_dmarc.d.test', 'TXT')).records, [['v=DMARC1; p=none']]);
  assert.deepEqual((await r.resolveAt!(['127.0.0.1'], '_dmarc.d.test', 'TXT')).records, [['v=DMARC1; p=none']]);
  assert.equal((await r.resolve('d.test', 'MX')).status, 'nodata');
  // One EDNS query in all: the first one; the rest went plain at once.
  assert.equal(srv.asked.filter((x) => x.endsWith('+edns')).length, 1, srv.asked.join('\n'));
});
