import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { execFile } from 'node:child_process';
import dnsPacket from 'dns-packet';
import { startDnsServer } from '../../../src/adapters/dns/server.js';
import { createResolver } from '../../../src/adapters/dns/resolver.js';

test('loopback server + wire resolver: answers, NXDOMAIN, NODATA, CNAME, split TXT, errors as unknown, cache', async (t) => {
  const long = 'v=spf1 ' + Array.from({ length: 40 }, (_, i) => `ip4:192.0.2.${i}`).join(' ') + ' ~all';
  const server = await startDnsServer({
    data: {
      'example.com': {
        A: ['192.0.2.1'],
        TXT: [['v=spf1 ip4:192.0.2.1 ', '-all'], ['google-site-verification=abc']],
        MX: [{ priority: 10, exchange: 'mail.example.com' }],
      },
      'big.example.com': { TXT: [[long.slice(0, 255), long.slice(255, 510), long.slice(510)]] },
      'alias.example.com': { CNAME: ['example.com'] },
      'slow.example.com': { TIMEOUT: true },
      'broken.example.com': { SERVFAIL: ['TXT'], A: ['192.0.2.9'] },
      'sub.deep.example.com': { A: ['192.0.2.7'] },
    },
  });
  t.after(() => server.close());
  const r = createResolver({ servers: [server.address], timeoutMs: 200, tries: 1 });

  const txt = await r.resolve('Example.COM.', 'TXT');
  assert.equal(txt.status, 'ok');
  assert.deepEqual(txt.records.find((x) => x[0].startsWith('v=spf1')), ['v=spf1 ip4:192.0.2.1 ', '-all']);
  assert.equal((await r.resolve('nope.example.com', 'TXT')).status, 'nxdomain');
  assert.equal((await r.resolve('example.com', 'AAAA')).status, 'nodata');
  assert.equal((await r.resolve('deep.example.com', 'A')).status, 'nodata', 'empty non-terminal is NODATA');
  const mx = await r.resolve('example.com', 'MX');
  assert.deepEqual(mx.records, [{ priority: 10, exchange: 'mail.example.com' }]);
  assert.deepEqual((await r.resolve('alias.example.com', 'CNAME')).records, ['example.com']);
  assert.deepEqual((await r.resolve('alias.example.com', 'A')).records, ['192.0.2.1']);
  const big = await r.resolve('big.example.com', 'TXT');
  assert.equal(big.status, 'ok');
  assert.equal(big.records[0].join(''), long, 'long TXT arrives whole (TCP fallback)');
  const slow = await r.resolve('slow.example.com', 'TXT');
  assert.equal(slow.status, 'unknown');
  assert.equal(slow.error, 'timeout');
  const sf = await r.resolve('broken.example.com', 'TXT');
  assert.equal(sf.status, 'unknown');
  assert.equal(sf.error, 'servfail');
  assert.deepEqual((await r.resolve('broken.example.com', 'A')).records, ['192.0.2.9']);

  const before = r.stats();
  await r.resolve('example.com', 'TXT');
  assert.equal(r.stats().queries, before.queries, 'second ask is served from the run cache');
  assert.equal(r.stats().cacheHits, before.cacheHits + 1);
});

test('wire resolver: names c-ares refused (":", "%", "/", space), empty TXT records, 2 KB TXT over TCP', async (t) => {
  const chunk = (c: string) => c.repeat(250);
  const big = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map(chunk); // 2000 octets: over 1232 → TC → TCP
  const server = await startDnsServer({
    data: {
      'a:b.example.com': { A: ['192.0.2.10'] },
      '%{i}.x%20y.example.com': { TXT: [['pct']] },
      'sp ace/slash.example.com': { TXT: [['odd']] },
      'null.example.com': { TXT: [['v=spf1 ip4:', '192.0.2.5 -all'], []] },
      'empty.example.com': { TXT: [[]] },
      'big.example.com': { TXT: [big] },
      '1.2.0.192.in-addr.arpa': { PTR: ['Host.Example.COM.'] },
      'v6.example.com': { AAAA: ['2001:db8::1'], NS: ['NS1.Example.com'] },
    },
  });
  t.after(() => server.close());
  const r = createResolver({ servers: [server.address], timeoutMs: 2000, tries: 1 });
  t.after(() => r.close());
  assert.deepEqual(await r.resolve('a:b.example.com', 'A'), { name: 'a:b.example.com', type: 'A', status: 'ok', records: ['192.0.2.10'] });
  assert.deepEqual((await r.resolve('%{i}.x%20y.example.com', 'TXT')).records, [['pct']]);
  assert.deepEqual((await r.resolve('sp ace/slash.example.com', 'TXT')).records, [['odd']]);
  assert.equal((await r.resolve('no:such.example.com', 'A')).status, 'nxdomain');
  const nul = await r.resolve('null.example.com', 'TXT');
  assert.equal(nul.status, 'ok');
  assert.deepEqual(nul.records, [[], ['v=spf1 ip4:', '192.0.2.5 -all']]); // an RRset in one order (the empty record first)
  assert.deepEqual(await r.resolve('empty.example.com', 'TXT'), { name: 'empty.example.com', type: 'TXT', status: 'ok', records: [[]] });
  const b = await r.resolve('big.example.com', 'TXT');
  assert.equal(b.status, 'ok');
  assert.deepEqual(b.records, [big]);
  assert.deepEqual((await r.resolve('1.2.0.192.in-addr.arpa', 'PTR')).records, ['host.example.com']);
  assert.deepEqual((await r.resolve('v6.example.com', 'AAAA')).records, ['2001:db8::1']);
  assert.deepEqual((await r.resolve('v6.example.com', 'NS')).records, ['ns1.example.com']);
  const bad = await r.resolve('x'.repeat(64) + '.example.com', 'A');
  assert.equal(bad.status, 'unknown');
  assert.equal(bad.error, 'bad name');
});

/** A UDP server on 127.0.0.1 answering through `handle` (the datagrams it returns are sent in order). */
async function scripted(handle: (q: dnsPacket.Packet) => Buffer[]): Promise<{ address: string; port: number; close(): Promise<void> }> {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    for (const out of handle(dnsPacket.decode(msg))) sock.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const port = sock.address().port;
  return { address: `127.0.0.1:${port}`, port, close: () => new Promise<void>((r) => sock.close(() => r())) };
}

test('wire resolver: REFUSED and other rcodes are unknown; a reply with another id is ignored', async (t) => {
  const srv = await scripted((q) => {
    const name = q.questions![0].name;
    const res = (flags: number, id = q.id!, answers: dnsPacket.Answer[] = []) =>
      dnsPacket.encode({ type: 'response', id, flags, questions: q.questions, answers });
    if (name.startsWith('refused.')) return [res(5)];
    if (name.startsWith('notimp.')) return [res(4)];
    if (name.startsWith('yx.')) return [res(6)];
    return [res(0, (q.id! + 1) & 0xffff, [{ name, type: 'A', data: '192.0.2.66' }]), res(0, q.id!, [{ name, type: 'A', data: '192.0.2.1' }])];
  });
  t.after(() => srv.close());
  const r = createResolver({ servers: [srv.address], timeoutMs: 5000, tries: 1, cache: false });
  t.after(() => r.close());
  assert.deepEqual(await r.resolve('refused.example', 'TXT'), { name: 'refused.example', type: 'TXT', status: 'unknown', records: [], error: 'refused' });
  assert.equal((await r.resolve('notimp.example', 'TXT')).error, 'notimp');
  assert.equal((await r.resolve('yx.example', 'TXT')).error, 'yxdomain');
  assert.deepEqual((await r.resolve('ok.example', 'A')).records, ['192.0.2.1']);
  assert.equal(r.stats().unknown, 3);
});

test('wire resolver: resolveAt asks the given servers on authoritativePort', async (t) => {
  const server = await startDnsServer({ data: { 'z.example.com': { TXT: [['fresh']] } } });
  t.after(() => server.close());
  const r = createResolver({ servers: ['127.0.0.1:9'], authoritativePort: server.port, timeoutMs: 2000, tries: 1 });
  t.after(() => r.close());
  assert.deepEqual((await r.resolveAt!(['127.0.0.1'], 'z.example.com', 'TXT')).records, [['fresh']]);
});

test('wire resolver: 5,000 concurrent asks (concurrency 64 and 200) all answered correctly', async (t) => {
  const data: Record<string, { A: string[] }> = {};
  for (let i = 0; i < 5000; i++) data[`h${i}.example.com`] = { A: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`] };
  const server = await startDnsServer({ data });
  t.after(() => server.close());
  for (const concurrency of [undefined, 200]) {
    const r = createResolver({ servers: [server.address], timeoutMs: 10_000, tries: 3, ...(concurrency ? { concurrency } : {}) });
    t.after(() => r.close());
    const answers = await Promise.all(Array.from({ length: 5000 }, (_, i) => r.resolve(`H${i}.example.com`, 'A')));
    answers.forEach((a, i) => {
      assert.equal(a.status, 'ok', `h${i}: ${a.error ?? ''}`);
      assert.equal(a.name, `h${i}.example.com`);
      assert.deepEqual(a.records, [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`]);
    });
    assert.equal(r.stats().queries, 5000);
  }
});

test('wire resolver: an idle resolver that was never closed does not keep the process alive', async (t) => {
  const server = await startDnsServer({ data: { 'x.example.com': { A: ['192.0.2.1'] } } });
  t.after(() => server.close());
  const mod = new URL('../../../src/adapters/dns/resolver.ts', import.meta.url).href;
  const script = `import { createResolver } from ${JSON.stringify(mod)};
const r = createResolver({ servers: [${JSON.stringify(server.address)}], timeoutMs: 5000, tries: 1 });
const a = await r.resolve('x.example.com', 'A');
console.log(JSON.stringify(a.records));`;
  // The child must exit by itself; the 60 s kill is only a guard against a hung test run.
  const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout.trim(), '["192.0.2.1"]');
});

test('an unknown answer (timeout) is not cached: the next ask goes to the wire again', async (t) => {
  const server = await startDnsServer({ data: { 'flaky.example': { TIMEOUT: true } } });
  t.after(() => server.close());
  const r = createResolver({ servers: [server.address], timeoutMs: 150, tries: 1 });
  t.after(() => r.close());
  assert.equal((await r.resolve('flaky.example', 'TXT')).status, 'unknown');
  server.setData({ 'flaky.example': { TXT: [['v=spf1 -all']] } });
  const again = await r.resolve('flaky.example', 'TXT');
  assert.equal(again.status, 'ok');
  assert.deepEqual(again.records, [['v=spf1 -all']]);
  // A real answer is cached.
  const q = r.stats().queries;
  await r.resolve('flaky.example', 'TXT');
  assert.equal(r.stats().queries, q);
});

test('a question that fails at once (bad name) is unknown and not cached; thousands of them behind a small concurrency all settle', async (t) => {
  const server = await startDnsServer({ data: { 'ok.example': { A: ['192.0.2.1'] } } });
  t.after(() => server.close());
  const r = createResolver({ servers: [server.address], timeoutMs: 2000, tries: 1, concurrency: 1, recordAsked: true });
  t.after(() => r.close());
  const bad = 'x'.repeat(64) + '.example';
  assert.deepEqual(await r.resolve(bad, 'TXT'), { name: bad, type: 'TXT', status: 'unknown', records: [], error: 'bad name' });
  const q = r.stats().queries;
  await r.resolve(bad, 'TXT');
  assert.equal(r.stats().queries, q + 1, 'asked again: the unknown answer left the cache');
  // One real question holds the only slot; 5,000 bad names queue behind it and settle one after the other.
  const answers = await Promise.all([r.resolve('ok.example', 'A'), ...Array.from({ length: 5000 }, (_, i) => r.resolve(`${'y'.repeat(64)}${i}.example`, 'A'))]);
  assert.deepEqual(answers[0].records, ['192.0.2.1']);
  assert.ok(answers.slice(1).every((a) => a.status === 'unknown' && a.error === 'bad name'));
  assert.equal(r.stats().unknown, 5002);
  assert.equal(r.asked().length, 5002);
});

test('close(): questions in flight and those waiting for a slot settle as unknown (resolver closed)', async () => {
  const server = await startDnsServer({ data: { 'slow.example': { TIMEOUT: true } } });
  try {
    const r = createResolver({ servers: [server.address], timeoutMs: 60_000, tries: 1, concurrency: 2, cache: false });
    const ps = (['A', 'AAAA', 'TXT', 'MX', 'NS', 'A'] as const).map((type) => r.resolve('slow.example', type));
    await new Promise((res) => setTimeout(res, 50));
    r.close();
    const as = await Promise.all(ps);
    assert.ok(as.every((a) => a.status === 'unknown' && a.error === 'resolver closed'), JSON.stringify(as));
    assert.equal(r.stats().queries, 6);
    assert.equal(r.stats().unknown, 6);
  } finally {
    await server.close();
  }
});

test('asked(): each question put on the wire once, in the order first asked; the cache keeps 2 generations of cacheSize/2', async (t) => {
  const data: Record<string, { A?: string[]; TXT?: string[][]; TIMEOUT?: true }> = { 'gone.example': { TIMEOUT: true } };
  for (let i = 0; i < 120; i++) data[`h${i}.example`] = { A: [`192.0.2.${i}`], TXT: [[`t${i}`]] };
  const server = await startDnsServer({ data });
  t.after(() => server.close());
  const r = createResolver({ servers: [server.address], timeoutMs: 150, tries: 1, cacheSize: 100, recordAsked: true });
  t.after(() => r.close());
  await r.resolve('H1.example.', 'A');
  await r.resolve('h1.example', 'TXT');
  await r.resolve('gone.example', 'A'); // unknown: not cached, asked again below
  await r.resolve('h1.example', 'A'); // cache hit
  await r.resolve('gone.example', 'A');
  assert.deepEqual(r.asked(), [
    { type: 'A', name: 'h1.example' },
    { type: 'TXT', name: 'h1.example' },
    { type: 'A', name: 'gone.example' },
  ]);
  assert.deepEqual(r.stats(), { queries: 4, cacheHits: 1, unknown: 2 });
  // 120 more answers: h1's fall out of both generations (50 each) and are asked again; a recent one is still a hit.
  for (let i = 0; i < 120; i++) await r.resolve(`h${i}.example`, i % 2 ? 'A' : 'TXT');
  const q = r.stats().queries;
  await r.resolve('h119.example', 'A');
  assert.equal(r.stats().queries, q, 'recent answer: from the cache');
  await r.resolve('h1.example', 'TXT');
  assert.equal(r.stats().queries, q + 1, 'old answer: asked again');
  const asked = r.asked();
  assert.equal(asked.length, new Set(asked.map((a) => `${a.type} ${a.name}`)).size, 'no question twice');
  assert.deepEqual(asked.slice(0, 3).map((a) => `${a.type} ${a.name}`), ['A h1.example', 'TXT h1.example', 'A gone.example']);
  r.clearCache();
  assert.deepEqual(r.asked(), []);
});

test('asked() keeps nothing unless recordAsked is set (the list grows with the run)', async (t) => {
  const server = await startDnsServer({ data: { 'h.example': { A: ['192.0.2.1'] } } });
  t.after(() => server.close());
  const r = createResolver({ servers: [server.address], timeoutMs: 500, tries: 1 });
  t.after(() => r.close());
  assert.deepEqual((await r.resolve('h.example', 'A')).records, ['192.0.2.1']);
  assert.equal(r.stats().queries, 1);
  assert.deepEqual(r.asked(), []);
});

test('a resolver with a port the socket refuses (settings edited by hand, authoritativePort 70000) answers unknown instead of throwing', async (t) => {
  const server = await startDnsServer({ data: { 'example.com': { A: ['192.0.2.1'], NS: ['127.0.0.1'] } } });
  t.after(() => server.close());
  const bad = createResolver({ servers: ['127.0.0.1:70000'], timeoutMs: 200, tries: 1 });
  t.after(() => bad.close());
  const a = await bad.resolve('example.com', 'A');
  assert.equal(a.status, 'unknown');
  assert.match(a.error ?? '', /bad DNS server port/);
  // Verification asks the zone's nameservers at authoritativePort.
  const verify = createResolver({ servers: [server.address], authoritativePort: 70000, timeoutMs: 200, tries: 1 });
  t.after(() => verify.close());
  const at = await verify.resolveAt!(['127.0.0.1'], 'example.com', 'A');
  assert.equal(at.status, 'unknown');
  assert.match(at.error ?? '', /bad DNS server port/);
});
