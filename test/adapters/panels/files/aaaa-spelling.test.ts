// An AAAA record read from a zone file is spelled as the DNS client spells the same address in a live answer
// (core/ip.ts: RFC 5952, an IPv4-mapped address in dotted quad): the audit compares the panel's records with live DNS as
// text, and two spellings of one address were two addresses to it. The generic form `\# 16 …ffff0a000001` was read
// `::ffff:a00:1` (ipaddr.js) and `AAAA ::FFFF:A00:1` kept as written, where the answer is `::ffff:10.0.0.1`: a previous
// host's address left in mail.<domain> was then no trace of that host (no mx.stale), and the advice of mx.stale left
// out the AAAA record to change. BIND's named-checkzone, where installed, is the judge of the spelling it dumps.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { encodeName, nameKey, parseResponse, QTYPE } from '../../../../src/adapters/dns/wire.js';
import { parseZoneFile, presentValue, renderRecordLine } from '../../../../src/adapters/panels/files/zonefile.js';
import { findings, scenario, zoneText } from '../../../helpers/scenario.js';

const HEAD = ['$TTL 3600', '@ IN SOA ns1.other.net. host.other.net. ( 1 3600 600 86400 300 )', '@ IN NS ns1.other.net.'];
const zoneWith = (line: string) => [...HEAD, line, ''].join('\n');

/** The value the files panel reads from one AAAA line (it must read it: no error). */
function readAaaa(data: string): string {
  const z = parseZoneFile(zoneWith(`a AAAA ${data}`), 'example.com');
  assert.deepEqual(z.errors, [], data);
  const r = z.records.filter((x) => x.type === 'AAAA');
  assert.equal(r.length, 1, data);
  return presentValue(r[0]);
}

/** The address the DNS client reads from a live answer carrying these 16 octets. */
function liveAaaa(octets: Buffer): string {
  const msg = dnsPacket.encode({ type: 'response', id: 1, flags: 0, questions: [{ name: 'a.example.com', type: 'AAAA' }], answers: [{ name: 'a.example.com', type: 'AAAA', data: '::' }] });
  // The answer's 16 octets are the message's last 16 (one answer, nothing after it).
  octets.copy(msg, msg.length - 16);
  const records = parseResponse(msg, nameKey(encodeName('a.example.com')!), QTYPE.AAAA).records as string[];
  assert.equal(records.length, 1);
  return records[0];
}

/** Each address, with the spellings a zone file may hold it in (BIND loads them all as that address). */
const SPELLINGS: { hex: string; written: string[] }[] = [
  // IPv4-mapped (::ffff:10.0.0.1): ipaddr.js wrote `::ffff:a00:1`.
  { hex: '00000000000000000000ffff0a000001', written: ['\\# 16 00000000000000000000ffff0a000001', '::ffff:10.0.0.1', '::FFFF:A00:1', '::ffff:a00:1', '0:0:0:0:0:ffff:0a00:0001', '0000:0000:0000:0000:0000:FFFF:10.0.0.1'] },
  { hex: '00000000000000000000ffffc6336407', written: ['\\# 16 00000000000000000000ffffc6336407', '::FFFF:198.51.100.7', '::ffff:c633:6407'] },
  // Other addresses: upper case, leading zeros, `::` elsewhere or not at all.
  { hex: '20010db8000000000000000000000001', written: ['\\# 16 20010db8000000000000000000000001', '2001:DB8::1', '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8:0::0:1'] },
  { hex: '20010db8000000010000000000000001', written: ['2001:DB8:0:1:0:0:0:1', '2001:db8:0:1::1'] },
  { hex: '20010db8000000000001000000000001', written: ['2001:db8::1:0:0:1', '2001:DB8:0:0:1::1'] },
  { hex: '00010002000300040005000600070000', written: ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'] },
  { hex: '00000000000000000000000000000001', written: ['::1', '0:0:0:0:0:0:0:1'] },
];

test('an AAAA read from a zone file, in any spelling BIND loads, is the text the DNS client reads from the same address in an answer', () => {
  for (const { hex, written } of SPELLINGS) {
    const live = liveAaaa(Buffer.from(hex, 'hex'));
    for (const w of written) assert.equal(readAaaa(w), live, `${w}: the zone's spelling, where the answer is ${live}`);
  }
  assert.equal(readAaaa('\\# 16 00000000000000000000ffff0a000001'), '::ffff:10.0.0.1');
  assert.equal(readAaaa('::FFFF:A00:1'), '::ffff:10.0.0.1');
});

test('an AAAA in the one spelling is written back as it reads (a line rendered from the record reads as the same record)', () => {
  for (const { written } of SPELLINGS) {
    for (const w of written) {
      const r = parseZoneFile(zoneWith(`a AAAA ${w}`), 'example.com').records[2];
      const back = parseZoneFile(zoneWith(renderRecordLine({ name: r.name, ttl: r.ttl, type: r.type, value: presentValue(r) })), 'example.com');
      assert.deepEqual(back.errors, [], w);
      assert.deepEqual([back.records[2].type, presentValue(back.records[2])], ['AAAA', presentValue(r)], w);
    }
  }
});

test('named-checkzone agrees: the value read is the one BIND dumps for the line (BIND writes an IPv4-mapped address in dotted quad too)', (t) => {
  const probe = spawnSync('named-checkzone', ['-v'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    t.skip('named-checkzone (BIND) is not installed (apt-get install bind9-utils to check the spelling against it)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'mailhealth-aaaa-spelling-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'example.com.db');
  for (const { written } of SPELLINGS) {
    for (const w of written) {
      writeFileSync(file, zoneWith(`a AAAA ${w}`));
      const r = spawnSync('named-checkzone', ['-q', '-D', '-o', '-', 'example.com', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, `BIND refuses ${w}`);
      const line = r.stdout.split('\n').find((l) => /\sAAAA\s/.test(l));
      // BIND's own text of the address (the dump's last field), compared as text: not read back through the reader.
      assert.equal(readAaaa(w), line?.trim().split(/\s+/).pop(), `${w}: BIND dumps ${JSON.stringify(line)}`);
    }
  }
});

// ------------------------------------------------------------------------------------------------ through an audit

/** The zone's mail.<domain> AAAA, as written in the file: the previous host's address 198.51.100.7, IPv4-mapped. */
const OLD_V6 = ['\\# 16 00000000000000000000ffffc6336407', '::FFFF:C633:6407', '0:0:0:0:0:FFFF:198.51.100.7'];

test('audit: a previous host\'s AAAA left beside this server\'s A at mail.<domain> is an mx.stale finding, however the zone file spells it', async () => {
  // The live DNS serves the panel's own zone (a name server loads the file; the client reads ::ffff:198.51.100.7). The
  // address is the zone's trace of the previous host only when the zone's spelling is the answer's: the spelling of
  // the generic form and of `::FFFF:C633:6407` was not, and the audit said nothing of the old address.
  for (const written of OLD_V6) {
    const s = await scenario({ domains: { 'bakery.test': { zone: zoneText({ extra: [`mail\tIN\tAAAA\t${written}`] }) } } });
    try {
      const a = await s.audit('bakery.test');
      const stale = findings(a, 'mx.stale', 'mail.bakery.test');
      assert.equal(stale.length, 1, `${written}: ${JSON.stringify(a.findings.filter((f) => f.check === 'mx').map((f) => `${f.rule}: ${f.message}`))}`);
      assert.equal(stale[0].severity, 'fail');
      assert.match(stale[0].message, /resolves to this server \(203\.0\.113\.10\) and also to ::ffff:198\.51\.100\.7, a previous host's address \(the zone's mail\.bakery\.test still points at ::ffff:198\.51\.100\.7, not this server\)/, written);
      assert.match(stale[0].message, /Remove ::ffff:198\.51\.100\.7 from mail\.bakery\.test's AAAA records\./, written);
    } finally {
      await s.cleanup();
    }
  }
});

test('audit: mx.stale names every address record of mail.<domain> to change, the AAAA too, however the zone file spells it', async () => {
  // Both of mail.<domain>'s addresses are the previous host's: the advice names the zone's records whose value is a
  // live address — the AAAA was left out when its spelling was not the answer's.
  for (const written of OLD_V6) {
    const s = await scenario({ domains: { 'bakery.test': { zone: zoneText({ mailA: '192.0.2.77', extra: [`mail\tIN\tAAAA\t${written}`] }) } } });
    try {
      const a = await s.audit('bakery.test');
      const stale = findings(a, 'mx.stale', 'mail.bakery.test');
      assert.equal(stale.length, 1, `${written}: ${JSON.stringify(a.findings.filter((f) => f.check === 'mx').map((f) => `${f.rule}: ${f.message}`))}`);
      assert.match(stale[0].message, /point mail\.bakery\.test at this server: change its A\/AAAA records 192\.0\.2\.77, ::ffff:198\.51\.100\.7 to 203\.0\.113\.10 in the panel's zone/, written);
    } finally {
      await s.cleanup();
    }
  }
});
