// QA: a domain that sends from a dedicated IP (the panel lists 203.0.113.24 as its outbound IP) while its MX host
// resolves to the server's main address — 203.0.113.10, the address of this server's host name
// server1.newhost.example. Only mail.<domain> was compared with the host name's addresses, so `MX 10 @` (apex A
// 203.0.113.10) or `MX 10 mx` (mx A 203.0.113.10) was "not this server" and the mx check advised changing the mail
// routing. Any MX host at an address of this server's host name / HELO is this server, whatever it is called.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mxCheck } from '../../../src/core/checks/mx.js';
import type { Finding } from '../../../src/core/model.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from './context.js';

const D = 'ded.example';
const DEDICATED = '203.0.113.24';
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.subject ? ` [${f.subject}]` : ''}: ${f.message}`).join('\n');

function world(mxHost: string, address: string): ZoneMap {
  return {
    [mxHost]: { A: [address] },
    [D]: { MX: [{ priority: 10, exchange: mxHost }], NS: ['ns1.newhost.example', 'ns2.newhost.example'], ...(mxHost === D ? { A: [address] } : {}) },
    'server1.newhost.example': { A: [SERVER_IP] },
    [`${SERVER_IP.split('.').reverse().join('.')}.in-addr.arpa`]: { PTR: ['server1.newhost.example'] },
    '99.113.0.203.in-addr.arpa': { PTR: ['server9.newhost.example'] },
  };
}

describe("an MX host at the address of this server's host name, the domain sending from a dedicated IP", () => {
  for (const host of [D, `mx.${D}`]) {
    test(`MX 10 ${host === D ? '@' : 'mx'} (A ${SERVER_IP}): this server — mx.ok, no routing advice`, async () => {
      const fs = await mxCheck(checkContext(D, world(host, SERVER_IP), { ips: [DEDICATED] }));
      assert.ok(!fs.some((f) => f.rule === 'mx.routing-mismatch'), show(fs));
      assert.ok(fs.some((f) => f.rule === 'mx.ok'), show(fs));
      const h = fs.find((f) => f.rule === 'mx.host');
      assert.equal(h?.classification?.class, 'this-server', show(fs));
      assert.match(h.classification.reason, /address of this server's host name server1\.newhost\.example/);
    });
  }

  test('another machine of the provider (server9.newhost.example, not the host name’s address): still another machine', async () => {
    const fs = await mxCheck(checkContext(D, world(`mx.${D}`, '203.0.113.99'), { ips: [DEDICATED] }));
    assert.ok(fs.some((f) => f.rule === 'mx.routing-mismatch'), show(fs));
    assert.ok(!fs.some((f) => f.rule === 'mx.ok'), show(fs));
  });
});
