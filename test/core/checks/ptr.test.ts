// PTR check: DNS blocklist answers — a listing versus the blocklist refusing the query.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ptrCheck } from '../../../src/core/checks/ptr.js';
import { checkContext } from './context.js';

async function blocklist(answer: string[]) {
  const ctx = checkContext('b.example', {
    '10.113.0.203.in-addr.arpa': { PTR: ['server1.newhost.example'] },
    'server1.newhost.example': { A: ['203.0.113.10'] },
    '10.113.0.203.zen.spamhaus.org': { A: answer },
  });
  ctx.options = { blocklists: ['zen.spamhaus.org'] };
  return (await ptrCheck(ctx)).filter((f) => f.subject === '203.0.113.10 @ zen.spamhaus.org');
}

describe('ptr check: blocklists', () => {
  for (const code of ['127.255.255.252', '127.255.255.254', '127.255.255.255']) {
    test(`${code} (query refused) is unknown, not listed`, async () => {
      const fs = await blocklist([code]);
      assert.equal(fs.length, 1);
      assert.equal(fs[0].rule, 'ptr.dns-error');
      assert.equal(fs[0].severity, 'unknown');
      assert.equal(fs[0].fix, undefined);
      assert.match(fs[0].message, /refused the query/);
    });
  }

  test('127.0.0.2 is a listing', async () => {
    const fs = await blocklist(['127.0.0.2']);
    assert.deepEqual(fs.map((f) => `${f.severity} ${f.rule}`), ['fail ptr.listed']);
  });

  test('not listed: no blocklist finding', async () => {
    assert.deepEqual(await blocklist([]), []);
  });
});
