// Answers that must not read as data: an extended rcode in the OPT record, TC=1 again over TCP, CNAME chains that
// loop or run too long, a lame server's referral asked through resolveAt; names folded as DNS does (ASCII only), and
// TXT character-strings decoded as the bytes of the whole record. Hand-made packets from scripted servers on 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsClient, decodeTxtStrings, encodeName, nameKey, parseResponse, QTYPE, type ServerAddress } from '../../../src/adapters/dns/wire.js';
import { createResolver } from '../../../src/adapters/dns/resolver.js';
import { joinTxt } from '../../../src/core/resolver.js';
import { scriptedServer, type Query, type ScriptedServer } from '../../helpers/dns-query.js';

// ------------------------------------------------------------------------------------------------ packet crafting

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u32 = (n: number) => Buffer.from([n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);

/** Wire form of a name whose labels are given as bytes (a string label is taken as UTF-8). */
function wname(labels: (string | Buffer)[] | string): Buffer {
  const ls = typeof labels === 'string' ? (labels === '' ? [] : labels.split('.')) : labels;
  const parts = ls.map((l) => (typeof l === 'string' ? Buffer.from(l, 'utf8') : l));
  return Buffer.concat([...parts.map((b) => Buffer.concat([Buffer.from([b.length]), b])), Buffer.from([0])]);
}

/** The question's owner, as servers write it: a pointer to offset 12. */
const QNAME = Buffer.from([0xc0, 12]);

function rr(owner: Buffer, type: number, rdata: Buffer, ttl = 60): Buffer {
  return Buffer.concat([owner, u16(type), u16(1), u32(ttl), u16(rdata.length), rdata]);
}

/** An OPT record (owner root, payload 1232) with the given extended rcode (the first octet of its TTL field). */
function opt(extRcode: number): Buffer {
  return Buffer.concat([Buffer.from([0]), u16(41), u16(1232), Buffer.from([extRcode, 0, 0, 0]), u16(0)]);
}

/** TXT rdata from character-strings given as bytes. */
function txt(...strings: Buffer[]): Buffer {
  return Buffer.concat(strings.map((b) => Buffer.concat([Buffer.from([b.length]), b])));
}



/** A response to `q`: QR, RD, RA, and `aa`/`tc`/`rcode` as given, the question echoed. */
function response(q: Query, o: { rcode?: number; aa?: boolean; tc?: boolean; an?: Buffer[]; ns?: Buffer[]; ar?: Buffer[] } = {}): Buffer {
  const flags = 0x8000 | 0x0100 | 0x0080 | (o.aa ? 0x0400 : 0) | (o.tc ? 0x0200 : 0) | (o.rcode ?? 0);
  const an = o.an ?? [];
  const ns = o.ns ?? [];
  const ar = o.ar ?? [];
  return Buffer.concat([u16(q.id), u16(flags), u16(1), u16(an.length), u16(ns.length), u16(ar.length), q.question, ...an, ...ns, ...ar]);
}

/** A parseResponse-ready message for qname/qtype (id 1). */
function message(qname: string, qtype: number, o: Parameters<typeof response>[1] = {}): Buffer {
  const question = Buffer.concat([encodeName(qname)!, u16(qtype), u16(1)]);
  return response({ id: 1, question, qtype, qname }, o);
}

const key = (n: string) => nameKey(encodeName(n)!);

/** A scripted server (test/helpers/dns-query.ts) that also keeps the queries it saw (`asked`). */
async function serve(handle: (q: Query, via: 'udp' | 'tcp') => Buffer | null): Promise<ScriptedServer & { asked: { via: string; q: Query }[] }> {
  const asked: { via: string; q: Query }[] = [];
  const srv = await scriptedServer((q, _raw, via) => {
    asked.push({ via, q });
    return handle(q, via);
  });
  return { ...srv, asked };
}

// ------------------------------------------------------------------------------------------------ 1. extended rcode

test('parseResponse: the rcode includes the OPT record’s extended bits (BADVERS is not NOERROR)', () => {
  const k = key('x.test');
  assert.equal(parseResponse(message('x.test', QTYPE.TXT, { ar: [opt(1)] }), k, QTYPE.TXT).rcode, 16, 'BADVERS');
  assert.equal(parseResponse(message('x.test', QTYPE.TXT, { ar: [opt(2)] }), k, QTYPE.TXT).rcode, 32);
  assert.equal(parseResponse(message('x.test', QTYPE.TXT, { rcode: 3, ar: [opt(1)] }), k, QTYPE.TXT).rcode, 19, 'header 3 + ext 1');
  assert.equal(parseResponse(message('x.test', QTYPE.TXT, { rcode: 3, ar: [opt(0)] }), k, QTYPE.TXT).rcode, 3);
  // Behind an answer, an SOA in the authority section and another additional record.
  const soa = rr(QNAME, 6, Buffer.concat([wname('ns.test'), wname('h.test'), Buffer.alloc(20)]));
  const full = message('x.test', QTYPE.TXT, { an: [rr(QNAME, 16, txt(Buffer.from('v=spf1 -all')))], ns: [soa], ar: [rr(wname('ns.test'), 1, Buffer.from([192, 0, 2, 1])), opt(1)] });
  const p = parseResponse(full, k, QTYPE.TXT);
  assert.equal(p.rcode, 16);
  // No OPT, or OPT with extended rcode 0: the header's rcode as it is.
  assert.equal(parseResponse(message('x.test', QTYPE.TXT), k, QTYPE.TXT).rcode, 0);
  assert.equal(parseResponse(message('x.test', QTYPE.TXT, { rcode: 2, ar: [opt(0)] }), k, QTYPE.TXT).rcode, 2);
  // Two OPT records: malformed.
  assert.throws(() => parseResponse(message('x.test', QTYPE.TXT, { ar: [opt(0), opt(1)] }), k, QTYPE.TXT), /more than one OPT/);
});

test('wire resolver: header NOERROR with an extended rcode in OPT (BADVERS, 32) is unknown, never NODATA', async (t) => {
  let ext = 1;
  const srv = await serve((q) => response(q, { ar: [opt(ext)] }));
  t.after(() => srv.close());
  const r = createResolver({ servers: [srv.spec], timeoutMs: 1000, tries: 1, cache: false });
  t.after(() => r.close());
  const a = await r.resolve('example.test', 'TXT');
  assert.equal(a.status, 'unknown');
  assert.equal(a.error, 'badvers');
  ext = 2;
  const b = await r.resolve('example.test', 'TXT');
  assert.equal(b.status, 'unknown');
  assert.equal(b.error, 'rcode 32');
  ext = 0;
  assert.equal((await r.resolve('example.test', 'TXT')).status, 'nodata');
});

// ------------------------------------------------------------------------------------------------ 2. TC over TCP

test('transport: TC=1 again over TCP is an error (truncated), not the records that fit', async (t) => {
  const srv = await serve((q, via) =>
    via === 'udp' ? response(q, { tc: true }) : response(q, { tc: true, an: [rr(QNAME, 16, txt(Buffer.from('google-site-verification=abc')))] }),
  );
  t.after(() => srv.close());
  const c = new DnsClient({ timeoutMs: 2000, tries: 1 });
  t.after(() => c.close());
  assert.deepEqual(await c.query([srv.addr], 'example.test', 'TXT'), { kind: 'error', error: 'truncated' });
  assert.deepEqual(
    srv.asked.map((a) => a.via),
    ['udp', 'tcp'],
  );
  const r = createResolver({ servers: [srv.spec], timeoutMs: 2000, tries: 1, cache: false });
  t.after(() => r.close());
  const a = await r.resolve('example.test', 'TXT');
  assert.equal(a.status, 'unknown');
  assert.equal(a.error, 'truncated');
});

// ------------------------------------------------------------------------------------------------ 3. CNAME chains

/**
 * An answer section: qname → h0 → h1 → … → h<hops-1>, with a TXT record at the end; in a chain of more than 16 hops
 * also one at h15, the name 16 hops from the qname (where a cut-off at 16 hops stops).
 */
function chainAnswer(hops: number): Buffer[] {
  const an = [rr(QNAME, 5, wname('h0.test'))];
  for (let i = 0; i < hops - 1; i++) an.push(rr(wname(`h${i}.test`), 5, wname(`h${i + 1}.test`)));
  an.push(rr(wname(`h${hops - 1}.test`), 16, txt(Buffer.from('end'))));
  if (hops > 16) an.push(rr(wname('h15.test'), 16, txt(Buffer.from('h15-not-the-end'))));
  return an;
}

test('parseResponse: a CNAME chain longer than 16 hops (MAX_CNAME_HOPS), or a loop, is an error — never NODATA or the records of a name on the loop', () => {
  const k = key('a.test');
  // 16 hops: followed to the end.
  const ok = parseResponse(message('a.test', QTYPE.TXT, { an: chainAnswer(16) }), k, QTYPE.TXT);
  assert.deepEqual(ok.records, [['end']]);
  assert.equal(ok.chain.length, 16);
  assert.equal(ok.error ?? null, null);
  // 17 hops, and 21: neither the records of h15 (16 hops in) nor NODATA.
  for (const hops of [17, 21]) {
    const long = parseResponse(message('a.test', QTYPE.TXT, { an: chainAnswer(hops) }), k, QTYPE.TXT);
    assert.deepEqual(long.records, [], `${hops} hops`);
    assert.equal(long.error, 'CNAME chain too long', `${hops} hops`);
  }
  // a → b → a (records at both), a → a, and a → b → c → b.
  const loop2 = message('a.test', QTYPE.TXT, { an: [rr(QNAME, 5, wname('b.test')), rr(wname('b.test'), 5, wname('A.test')), rr(QNAME, 16, txt(Buffer.from('at-a'))), rr(wname('b.test'), 16, txt(Buffer.from('at-b')))] });
  const self = message('a.test', QTYPE.TXT, { an: [rr(QNAME, 5, QNAME), rr(QNAME, 16, txt(Buffer.from('at-a')))] });
  const tail = message('a.test', QTYPE.TXT, { an: [rr(QNAME, 5, wname('b.test')), rr(wname('b.test'), 5, wname('c.test')), rr(wname('c.test'), 5, wname('b.test'))] });
  for (const [label, m] of [['a→b→a', loop2], ['a→a', self], ['a→b→c→b', tail]] as const) {
    const p = parseResponse(m, k, QTYPE.TXT);
    assert.deepEqual(p.records, [], label);
    assert.equal(p.error, 'CNAME loop', label);
  }
  // Asked for the CNAME itself: the qname's target, no chain to follow.
  assert.deepEqual(parseResponse(loop2, k, QTYPE.CNAME).records, ['b.test']);
});

test('wire resolver: a CNAME chain too long or a loop is unknown', async (t) => {
  let mode = 'long';
  const srv = await serve((q) =>
    mode === 'long'
      ? response(q, { an: chainAnswer(18) })
      : response(q, { an: [rr(QNAME, 5, wname('b.test')), rr(wname('b.test'), 5, QNAME), rr(QNAME, 16, txt(Buffer.from('at-qname')))] }),
  );
  t.after(() => srv.close());
  const r = createResolver({ servers: [srv.spec], timeoutMs: 1000, tries: 1, cache: false });
  t.after(() => r.close());
  const long = await r.resolve('default._domainkey.example.test', 'TXT');
  assert.equal(long.status, 'unknown');
  assert.equal(long.error, 'CNAME chain too long');
  mode = 'loop';
  const loop = await r.resolve('default._domainkey.example.test', 'TXT');
  assert.equal(loop.status, 'unknown');
  assert.equal(loop.error, 'CNAME loop');
});

// ------------------------------------------------------------------------------------------------ 4. resolveAt and AA

test('resolveAt: a lame server’s referral (NOERROR, AA=0, no answer, NS in authority) is unknown; AA answers count; resolve() is unaffected', async (t) => {
  let mode = 'referral';
  const srv = await serve((q) => {
    switch (mode) {
      case 'referral':
        return response(q, { ns: [rr(wname('test'), 2, wname('a.nic.test'))] });
      case 'upward':
        return response(q, { ns: [rr(wname(''), 2, wname('a.root-servers.net'))] });
      case 'nx-no-aa':
        return response(q, { rcode: 3 });
      case 'aa-nodata':
        return response(q, { aa: true, ns: [rr(wname('example.test'), 6, Buffer.concat([wname('ns.test'), wname('h.test'), Buffer.alloc(20)]))] });
      case 'aa-nx':
        return response(q, { aa: true, rcode: 3 });
      case 'aa-ok':
        return response(q, { aa: true, an: [rr(QNAME, 16, txt(Buffer.from('v=spf1 -all')))] });
      default: // 'cached': records without AA (a server that answers from a cache)
        return response(q, { an: [rr(QNAME, 16, txt(Buffer.from('v=spf1 -all')))] });
    }
  });
  t.after(() => srv.close());
  const r = createResolver({ servers: [srv.spec], authoritativePort: srv.port, timeoutMs: 1000, tries: 1, cache: false });
  t.after(() => r.close());
  const at = (name = 'example.test') => r.resolveAt!(['127.0.0.1'], name, 'TXT');
  for (const m of ['referral', 'upward']) {
    mode = m;
    const a = await at();
    assert.equal(a.status, 'unknown', m);
    assert.equal(a.error, 'not authoritative (referral)', m);
    // The same answer to an ordinary (recursive) question: NODATA, as before.
    assert.equal((await r.resolve('example.test', 'TXT')).status, 'nodata', m);
  }
  mode = 'nx-no-aa';
  assert.deepEqual(await at(), { name: 'example.test', type: 'TXT', status: 'unknown', records: [], error: 'not authoritative' });
  assert.equal((await r.resolve('example.test', 'TXT')).status, 'nxdomain');
  mode = 'aa-nodata';
  assert.equal((await at()).status, 'nodata');
  mode = 'aa-nx';
  assert.equal((await at()).status, 'nxdomain');
  mode = 'aa-ok';
  assert.deepEqual((await at()).records, [['v=spf1 -all']]);
  mode = 'cached';
  assert.deepEqual((await at()).records, [['v=spf1 -all']]);
});

test('transport: the AA bit is reported with the answer', async (t) => {
  let aa = true;
  const srv = await serve((q) => response(q, { aa, an: [rr(QNAME, 1, Buffer.from([192, 0, 2, 1]))] }));
  t.after(() => srv.close());
  const c = new DnsClient({ timeoutMs: 1000, tries: 1 });
  t.after(() => c.close());
  assert.deepEqual(await c.query([srv.addr], 'a.test', 'A'), { kind: 'response', rcode: 0, aa: true, records: ['192.0.2.1'] });
  aa = false;
  assert.deepEqual(await c.query([srv.addr], 'a.test', 'A'), { kind: 'response', rcode: 0, aa: false, records: ['192.0.2.1'] });
});

// ------------------------------------------------------------------------------------------------ 5. ASCII-only case folding

test('parseResponse: names in record data are lower-cased in ASCII only (İ and the Kelvin sign stay as published)', () => {
  const mx = (pref: number, labels: (string | Buffer)[]) => rr(QNAME, 15, Buffer.concat([u16(pref), wname(labels)]));
  const m = message('example.test', QTYPE.MX, { an: [mx(10, ['MAİL', 'Example', 'TEST']), mx(20, ['\u212Aelvin', 'test']), mx(30, ['MX', 'Test'])] });
  const p = parseResponse(m, key('example.test'), QTYPE.MX);
  assert.deepEqual(p.records, [
    { priority: 10, exchange: 'maİl.example.test' },
    { priority: 20, exchange: '\u212Aelvin.test' },
    { priority: 30, exchange: 'mx.test' },
  ]);
  const cname = message('www.test', QTYPE.CNAME, { an: [rr(QNAME, 5, wname(['STRAßE', 'Test']))] });
  assert.deepEqual(parseResponse(cname, key('www.test'), QTYPE.CNAME).records, ['straße.test']);
});

test('wire resolver: a name is asked as written but for ASCII case (MAİL → maİl, not mai̇l; Kelvin sign → not k)', async (t) => {
  const srv = await serve((q) => response(q, { aa: true, an: [rr(QNAME, 1, Buffer.from([192, 0, 2, 25]))] }));
  t.after(() => srv.close());
  const r = createResolver({ servers: [srv.spec], timeoutMs: 1000, tries: 1, cache: false });
  t.after(() => r.close());
  const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');
  const a = await r.resolve('MAİL.Example.TEST.', 'A');
  assert.equal(a.name, 'maİl.example.test');
  assert.equal(Buffer.from(srv.asked.at(-1)!.q.qname, 'latin1').toString('hex'), hex('maİl.example.test'));
  const k = await r.resolve('\u212Aelvin.test', 'A');
  assert.equal(k.name, '\u212Aelvin.test');
  assert.equal(Buffer.from(srv.asked.at(-1)!.q.qname, 'latin1').toString('hex'), hex('\u212Aelvin.test'));
  // ASCII names: lower-cased as before.
  assert.equal((await r.resolve('WWW.Example.COM', 'A')).name, 'www.example.com');
  assert.equal(srv.asked.at(-1)!.q.qname, 'www.example.com');
});

test('a name in record data that is not UTF-8: its octets read as U+DC00 + octet (never as the latin1 char, which is another name) and are asked back as the same octets', async (t) => {
  // MX mail<e9>.example.test: not "mailé.example.test" (whose wire form is mail<c3 a9>…, another name).
  const raw = Buffer.from('mail\xe9', 'latin1');
  const srv = await serve((q) => {
    if (q.qtype === QTYPE.MX) return response(q, { aa: true, an: [rr(QNAME, 15, Buffer.concat([u16(10), wname([raw, 'example', 'test'])]))] });
    return response(q, { aa: true, an: [rr(QNAME, 1, Buffer.from([192, 0, 2, 25]))] });
  });
  t.after(() => srv.close());
  const r = createResolver({ servers: [srv.spec], timeoutMs: 1000, tries: 1, cache: false });
  t.after(() => r.close());
  const mx = await r.resolve('example.test', 'MX');
  assert.deepEqual(mx.records, [{ priority: 10, exchange: 'mail\udce9.example.test' }]);
  assert.notEqual(mx.records[0].exchange, 'mailé.example.test');
  await r.resolve(mx.records[0].exchange, 'A');
  assert.equal(Buffer.from(srv.asked.at(-1)!.q.qname, 'latin1').toString('hex'), Buffer.concat([raw, Buffer.from('.example.test')]).toString('hex'));
  // A valid UTF-8 name, and one with a character outside the BMP (a surrogate pair), still go out as UTF-8.
  await r.resolve('mailé.example.test', 'A');
  assert.equal(Buffer.from(srv.asked.at(-1)!.q.qname, 'latin1').toString('hex'), Buffer.from('mailé.example.test').toString('hex'));
  await r.resolve('m\u{1F4E7}\udc80x.example.test', 'A');
  assert.equal(Buffer.from(srv.asked.at(-1)!.q.qname, 'latin1').toString('hex'), Buffer.concat([Buffer.from('m\u{1F4E7}'), Buffer.of(0x80), Buffer.from('x.example.test')]).toString('hex'));
});

// ------------------------------------------------------------------------------------------------ 6. TXT text

const parseTxt = (...strings: Buffer[]) => parseResponse(message('x.test', QTYPE.TXT, { an: [rr(QNAME, 16, txt(...strings))] }), key('x.test'), QTYPE.TXT).records[0] as string[];

test('TXT: a UTF-8 character split across two character-strings joins to the decoding of the joined bytes', () => {
  const e = Buffer.from('é');
  const r = parseTxt(Buffer.concat([Buffer.alloc(254, 0x61), e.subarray(0, 1)]), Buffer.concat([e.subarray(1), Buffer.from('z')]));
  assert.equal(r.length, 2, 'as many strings as on the wire');
  assert.equal(joinTxt(r), 'a'.repeat(254) + 'éz');
  // The character goes to the string its first octet is in.
  assert.deepEqual(r, ['a'.repeat(254) + 'é', 'z']);
  const dkim = parseTxt(Buffer.concat([Buffer.from('v=DKIM1; n=caf'), e.subarray(0, 1)]), Buffer.concat([e.subarray(1), Buffer.from('; p=')]));
  assert.equal(joinTxt(dkim), 'v=DKIM1; n=café; p=');
  // A 4-octet character over three strings (the middle one holds only continuation octets), with empty strings around.
  const g = Buffer.from('𝄞'); // f0 9d 84 9e
  const r4 = parseTxt(Buffer.alloc(0), Buffer.concat([Buffer.from('x'), g.subarray(0, 1)]), g.subarray(1, 3), Buffer.concat([g.subarray(3), Buffer.from('y')]), Buffer.alloc(0));
  assert.equal(r4.length, 5);
  assert.equal(joinTxt(r4), 'x𝄞y');
  assert.deepEqual(r4, ['', 'x𝄞', '', 'y', '']);
});

test('TXT: different bytes never decode to the same text (an octet that is not UTF-8 is U+DC00 + octet)', () => {
  const utf8 = parseTxt(Buffer.from('café'));
  const latin1 = parseTxt(Buffer.from('café', 'latin1'));
  assert.deepEqual(utf8, ['café']);
  assert.deepEqual(latin1, ['caf\udce9']);
  assert.notEqual(joinTxt(utf8), joinTxt(latin1));
  // Not the same as a plain ASCII record spelling an escape either.
  assert.notEqual(joinTxt(latin1), joinTxt(parseTxt(Buffer.from('caf\\xe9'))));
  // Cut, overlong, surrogate and out-of-range sequences: one U+DCxx per octet, the valid text around them as it is.
  assert.deepEqual(parseTxt(Buffer.from([0x61, 0xe2, 0x82, 0x62])), ['a\udce2\udc82b']);
  assert.deepEqual(parseTxt(Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xff])), ['\udcc0\udcaf\udced\udca0\udc80\udcf4\udc90\udc80\udc80\udcff']);
  // A stray octet in one string, valid UTF-8 in the next: only the stray one is marked.
  assert.deepEqual(parseTxt(Buffer.from([0x80]), Buffer.from('ü')), ['\udc80', 'ü']);
  // ASCII and valid UTF-8 strings: as before.
  assert.deepEqual(parseTxt(Buffer.from('v=spf1 '), Buffer.from('-all')), ['v=spf1 ', '-all']);
  assert.deepEqual(parseTxt(Buffer.from('\uFEFFx')), ['\uFEFFx']);
  // Every byte string of up to 3 octets (over a small alphabet) decodes to its own text.
  const alphabet = [0x41, 0x7f, 0x80, 0xbf, 0xc2, 0xc3, 0xa9, 0xe0, 0xe2, 0x82, 0xed, 0xf0, 0x9d, 0xf4, 0xff];
  const seen = new Map<string, string>();
  const visit = (bytes: number[]) => {
    const text = joinTxt(parseTxt(Buffer.from(bytes)));
    const hex = Buffer.from(bytes).toString('hex');
    assert.ok(!seen.has(text) || seen.get(text) === hex, `${hex} and ${seen.get(text)} read the same`);
    seen.set(text, hex);
    if (bytes.length < 3) for (const b of alphabet) visit([...bytes, b]);
  };
  visit([]);
});

test('decodeTxtStrings: octets decode exactly as the same strings read from the wire (for a panel copy to compare equal)', () => {
  const e = Buffer.from('é');
  const cases: Buffer[][] = [
    [Buffer.from('v=spf1 '), Buffer.from('-all')],
    [Buffer.from('owner=café')],
    [Buffer.concat([Buffer.from('caf'), e.subarray(0, 1)]), Buffer.concat([e.subarray(1), Buffer.from('!')])],
    [Buffer.from([0x63, 0x61, 0x66, 0xe9])],
    [Buffer.alloc(0), Buffer.from([0xff, 0xfe]), Buffer.from('ü'), Buffer.alloc(0)],
    [],
  ];
  // Random octets over a UTF-8-heavy alphabet, in 1–3 strings.
  const alphabet = [0x41, 0x80, 0x9f, 0xa9, 0xbf, 0xc3, 0xe2, 0xed, 0xf0, 0xf4, 0xff];
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  for (let c = 0; c < 300; c++) {
    const strings: Buffer[] = [];
    for (let k = 1 + rnd(3); k > 0; k--) strings.push(Buffer.from(Array.from({ length: rnd(6) }, () => alphabet[rnd(alphabet.length)])));
    cases.push(strings);
  }
  for (const strings of cases) {
    const wire = parseResponse(message('x.test', QTYPE.TXT, { an: [rr(QNAME, 16, txt(...strings))] }), key('x.test'), QTYPE.TXT).records[0] as string[];
    assert.deepEqual(decodeTxtStrings(strings), wire, strings.map((b) => b.toString('hex')).join(' '));
  }
});
