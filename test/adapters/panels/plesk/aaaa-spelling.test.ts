// An AAAA record Plesk gives (REST `value`, as it was typed) is read in the spelling the DNS client gives the same
// address in a live answer (core/ip.ts: RFC 5952, an IPv4-mapped address in dotted quad). Read as given,
// `::FFFF:A00:1` was another address to the audit than the answer `::ffff:10.0.0.1`. Loopback emulator (port 0).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { encodeName, nameKey, parseResponse, QTYPE } from '../../../../src/adapters/dns/wire.js';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import { PleskPanel, PleskRestCli } from '../../../../src/adapters/panels/plesk/index.js';
import { makePleskState, startPleskServer } from '../../../helpers/emulators/plesk.js';

/** The address the DNS client reads from an answer carrying `address` (dns-packet writes its 16 octets). */
function live(address: string): string {
  const msg = dnsPacket.encode({ type: 'response', id: 1, flags: 0, questions: [{ name: 'mail.example.com', type: 'AAAA' }], answers: [{ name: 'mail.example.com', type: 'AAAA', data: address }] });
  return (parseResponse(msg, nameKey(encodeName('mail.example.com')!), QTYPE.AAAA).records as string[])[0];
}

test('readZone: an AAAA Plesk stores in any spelling is the text the DNS client reads for that address', async () => {
  const state = makePleskState();
  const dom = state.domains.find((d) => d.name === 'alice.example')!;
  const cases: [written: string, address: string][] = [
    ['::FFFF:A00:1', '::ffff:10.0.0.1'],
    ['::ffff:a00:1', '::ffff:10.0.0.1'],
    ['2001:DB8:0:0:0:0:0:25', '2001:db8::25'],
    ['not-an-address', 'not-an-address'],
  ];
  cases.forEach(([value], k) => state.records.push({ id: 9000 + k, domain_id: dom.id, type: 'AAAA', host: `v6-${k}.alice.example.`, value, opt: '', ttl: 3600 }));
  const srv = await startPleskServer(state);
  try {
    const rest = new PanelHttpClient({ baseUrl: srv.url, label: 'Plesk', headers: { 'x-api-key': state.apiKey } });
    const panel = new PleskPanel({ rest, apiKey: state.apiKey, cli: new PleskRestCli(rest), root: null });
    const z = await panel.readZone('alice.example');
    cases.forEach(([written, address], k) => {
      const r = z.records.filter((x) => x.name === `v6-${k}.alice.example` && x.type === 'AAAA');
      assert.deepEqual(r.map((x) => x.value), [address], written);
      // (Data that is no address stays as Plesk gave it: nothing is made up.)
      if (address.includes(':')) assert.equal(r[0].value, live(address), written);
    });
  } finally {
    await srv.close();
  }
});
