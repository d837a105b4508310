// An AAAA record cPanel (and WHM: the same reader, decodeZone) gives as the zone file's text is read in the spelling the
// DNS client gives the same address in a live answer (core/ip.ts: RFC 5952, an IPv4-mapped address in dotted quad).
// Read as given, `::FFFF:A00:1` was another address to the audit than the answer `::ffff:10.0.0.1` (the classifier's
// traces of a previous host, the records mx.stale names are compared as text).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { encodeName, nameKey, parseResponse, QTYPE } from '../../../../src/adapters/dns/wire.js';
import { decodeZone } from '../../../../src/adapters/panels/cpanel/zonefile.js';

const Z = 'example.com';
const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');
const soa = { line_index: 0, type: 'record', record_type: 'SOA', ttl: 86400, dname_b64: b64('example.com.'), data_b64: ['ns1.example.net.', 'hostmaster.example.com.', '2024061100', '3600', '1800', '1209600', '86400'].map(b64) };

/** The address the DNS client reads from an answer carrying `address` (dns-packet writes its 16 octets). */
function live(address: string): string {
  const msg = dnsPacket.encode({ type: 'response', id: 1, flags: 0, questions: [{ name: 'mail.example.com', type: 'AAAA' }], answers: [{ name: 'mail.example.com', type: 'AAAA', data: address }] });
  return (parseResponse(msg, nameKey(encodeName('mail.example.com')!), QTYPE.AAAA).records as string[])[0];
}

test('decodeZone: an AAAA in any spelling is the text the DNS client reads for that address', () => {
  const cases: [written: string, address: string][] = [
    ['::FFFF:A00:1', '::ffff:10.0.0.1'],
    ['::ffff:a00:1', '::ffff:10.0.0.1'],
    ['0:0:0:0:0:ffff:10.0.0.1', '::ffff:10.0.0.1'],
    ['2001:DB8:0:0:0:0:0:25', '2001:db8::25'],
    ['2001:0db8::0025', '2001:db8::25'],
  ];
  for (const [written, address] of cases) {
    const z = decodeZone(Z, [soa, { line_index: 1, type: 'record', record_type: 'AAAA', ttl: 14400, dname_b64: b64('mail'), data_b64: [b64(written)] }]);
    const r = z.records.filter((x) => x.type === 'AAAA');
    assert.deepEqual(r.map((x) => [x.name, x.value]), [['mail.example.com', live(address)]], written);
    assert.equal(r[0].value, address, written);
  }
});

test('decodeZone: AAAA data that is no address stays as cPanel gave it (nothing is made up)', () => {
  const z = decodeZone(Z, [soa, { line_index: 1, type: 'record', record_type: 'AAAA', ttl: 14400, dname_b64: b64('mail'), data_b64: [b64('not-an-address')] }]);
  assert.equal(z.records.find((x) => x.type === 'AAAA')?.value, 'not-an-address');
});
