// MX check: an address lookup that gets no answer is unknown (never mx.ok, never "no address"); a null MX beside
// other MX records is reported as such (RFC 7505 §3), not as a host without an address.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mxCheck } from '../../../src/core/checks/mx.js';
import { checkContext } from './context.js';

const rules = (fs: { severity: string; rule: string }[]) => fs.map((f) => `${f.severity} ${f.rule}`);

describe('mx check: unanswered address lookups and a mixed null MX', () => {
  for (const [a, aaaa] of [
    [[], 'TIMEOUT'],
    ['TIMEOUT', []],
  ] as const) {
    test(`A ${JSON.stringify(a)}, AAAA ${JSON.stringify(aaaa)}: unknown, no mx.ok, no mx.unresolvable, no routing warn`, async () => {
      const ctx = checkContext('x.example', { 'x.example': { MX: [{ priority: 10, exchange: 'mx.other.example' }] }, 'mx.other.example': { A: a as never, AAAA: aaaa as never } });
      const fs = await mxCheck(ctx);
      assert.deepEqual(rules(fs), ['unknown mx.dns-error']);
    });
  }

  test('an address on one family and no answer on the other: the host has an address (classified as usual)', async () => {
    const ctx = checkContext('x.example', { 'x.example': { MX: [{ priority: 10, exchange: 'mx.other.example' }] }, 'mx.other.example': { A: ['198.51.100.9'], AAAA: 'TIMEOUT' } });
    const fs = await mxCheck(ctx);
    assert.ok(!fs.some((f) => f.rule === 'mx.dns-error' || f.rule === 'mx.unresolvable'), JSON.stringify(rules(fs)));
  });

  test('null MX beside a real MX: mx.null fail, and "." is not judged as a host', async () => {
    const ctx = checkContext('x.example', { 'x.example': { MX: [{ priority: 0, exchange: '.' }, { priority: 10, exchange: 'mx.other.example' }] }, 'mx.other.example': { A: ['198.51.100.9'] } });
    const fs = await mxCheck(ctx);
    assert.ok(fs.some((f) => f.rule === 'mx.null' && f.severity === 'fail'), JSON.stringify(rules(fs)));
    assert.ok(!fs.some((f) => f.rule === 'mx.unresolvable'), JSON.stringify(rules(fs)));
  });
});

describe('mx check follows the classification of the MX hosts (mail routed elsewhere)', () => {
  const D = 'r.example';
  const ns = (value: string) => ({ name: D, ttl: 300, type: 'NS', value });

  // The hosting provider was GoDaddy: since the provider review its secureserver.net is GoDaddy email (a mail service,
  // kept whatever the routing), so HostGator (hosting only: mailboxes on its gator servers) is the example now.
  test('routing remote, MX at a hosting provider (HostGator mailboxes): where mail is delivered, no mx.stale', async () => {
    const map = { [D]: { MX: [{ priority: 0, exchange: 'gator4000.hostgator.com' }] }, 'gator4000.hostgator.com': { A: ['192.185.4.100'] } };
    const fs = await mxCheck(checkContext(D, map, { routing: 'remote' }));
    assert.deepEqual(rules(fs), ['info mx.host', 'pass mx.ok']);
    assert.equal(fs[0].classification?.class, 'keep');
  });

  test('routing local, the same MX: mx.stale fail', async () => {
    const map = { [D]: { MX: [{ priority: 0, exchange: 'gator4000.hostgator.com' }] }, 'gator4000.hostgator.com': { A: ['192.185.4.100'] } };
    assert.deepEqual(rules(await mxCheck(checkContext(D, map))), ['fail mx.stale']);
  });

  test('routing remote, MX at the provider of the old nameservers (no known provider): mx.stale warn', async () => {
    const map = { [D]: { MX: [{ priority: 10, exchange: 'mx.oldhost.test' }] }, 'mx.oldhost.test': { A: ['198.51.100.40'] } };
    const fs = await mxCheck(checkContext(D, map, { routing: 'remote' }, [ns('ns1.newhost.example'), ns('ns1.oldhost.test')]));
    assert.deepEqual(rules(fs), ['warn mx.stale']);
  });
});
