import { test } from 'node:test';
import assert from 'node:assert/strict';
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
