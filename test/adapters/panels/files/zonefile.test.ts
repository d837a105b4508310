// The files panel's BIND parser on the shared zone corpus (read in place, never copied), plus round trips and serials.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FilesPanel } from '../../../../src/adapters/panels/files/index.js';
import { applyLineEdits, bumpSerialText, nextSerial, parseZoneFile, renderRecordLine, splitTxt, type ParsedRecord } from '../../../../src/adapters/panels/files/zonefile.js';
import { recordKey } from '../../../../src/core/zone.js';
import { corpusMissing, corpusPath } from '../../../helpers/corpora.js';

const Z = (f: string) => `zones/${f}`;
function corpus(f: string): { text: string | null; skip: string | false } {
  const p = corpusPath(Z(f));
  return p ? { text: readFileSync(p, 'utf8'), skip: false } : { text: null, skip: corpusMissing(Z(f)) };
}
function countTypes(rs: ParsedRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rs) out[r.type] = (out[r.type] ?? 0) + 1;
  return out;
}
const at = (rs: ParsedRecord[], name: string, type: string) => rs.filter((r) => r.name === name && r.type === type);

const exampleOrg = corpus('dnscontrol-example.org.zone');
test('dnscontrol example.org: counts, $ORIGIN switches, ( ) continuation, 2-string DKIM', { skip: exampleOrg.skip }, () => {
  const z = parseZoneFile(exampleOrg.text!, 'example.org');
  assert.deepEqual(z.errors, []);
  // Counted by reading the file (non-comment lines per type).
  assert.deepEqual(countTypes(z.records), { SOA: 1, NS: 15, MX: 5, TXT: 45, SRV: 40, A: 35, AAAA: 43, CNAME: 70, PTR: 3, SSHFP: 45, CAA: 6, TLSA: 41 });
  assert.equal(z.records.length, 349);
  const soa = at(z.records, 'example.org', 'SOA')[0];
  assert.deepEqual(soa.rdata, ['ns1.example.org', 'hostmaster.example.org', '2020030700', '7200', '3600', '10d', '7200']);
  assert.equal(soa.ttl, 43200);
  assert.deepEqual([soa.startLine + 1, soa.endLine + 1], [29, 35], 'the SOA spans its ( ) lines');
  // Blank owners after the SOA belong to the apex, with $TTL 7200.
  assert.deepEqual(at(z.records, 'example.org', 'NS').map((r) => [r.rdata[0], r.ttl]), [
    ['ns1.example.org', 7200],
    ['ns2.example.org', 7200],
    ['ns-a.example.net', 7200],
    ['friend-dns.example.com', 7200],
  ]);
  assert.deepEqual(at(z.records, 'example.org', 'MX')[0].rdata, ['10', 'mx.example.org']);
  assert.deepEqual(at(z.records, 'example.org', 'TXT')[0].txt, ['v=spf1 ip4:192.0.2.25 ip6:2001:db8::1:25 mx include:_spf.example.com ~all']);
  // $ORIGIN switches.
  for (const n of ['example.net', 'example.com', 'xn--2j5b.xn--9t4b11yi5a', 'special.test', 'xn--qck5b9a5eml3bze.xn--zckzah']) {
    assert.deepEqual(at(z.records, `${n}._report._dmarc.example.org`, 'TXT')[0]?.txt, ['v=DMARC1'], n);
  }
  assert.equal(at(z.records, '_dmarc.gladys.example.org', 'TXT').length, 1);
  assert.equal(at(z.records, 'fred.example.org', 'A')[0].rdata[0], '192.0.2.93');
  assert.equal(at(z.records, 'fred.example.org', 'TXT').length, 1, 'blank owner after "@" under $ORIGIN fred');
  assert.equal(at(z.records, 'd202003._domainkey.mailtest.example.org', 'TXT').length, 1);
  assert.equal(at(z.records, 'yoyo.example.org', 'NS').length, 5);
  assert.equal(at(z.records, '_hkp._tcp.sks-peer.example.org', 'SRV').length, 1);
  assert.equal(at(z.records, 'khard.example.org', 'NS').length, 4, 'back at example.org after the last $ORIGIN');
  assert.equal(at(z.records, '_fedcba9876543210fedcba9876543210.go.example.org', 'CNAME').length, 1, 'absolute owner');
  assert.deepEqual(at(z.records, '_client._smtp.example.org', 'SRV')[0].rdata, ['1', '1', '1', 'example.org'], '"@" in rdata');
  // Multi-line TXT in ( ).
  const info = at(z.records, 'dns-moreinfo.example.org', 'TXT')[0];
  assert.deepEqual(info.txt, ['Fred Bloggs, TZ=America/New_York', 'Chat-Service-X: @handle1', 'Chat-Service-Y: federated-handle@example.org']);
  // The RSA-2048 DKIM key in 2 strings.
  const dk = at(z.records, 'd201911._domainkey.example.org', 'TXT')[0];
  assert.equal(dk.txt!.length, 2);
  assert.ok(dk.txt![0].startsWith('v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA4SmyE5Tz5'));
  assert.ok(dk.txt![0].endsWith('SutwE22z0i4V88nQ9UBa1ks'));
  assert.ok(dk.txt![1].startsWith('6cVGxXBZFovWC+i28aGs6Lc7cSfHG5'));
  assert.ok(dk.txt![1].endsWith('A9IoSQIDAQAB'));
  assert.ok(!dk.txt!.join('').includes(' 6cV'), 'strings join with no separator');
  assert.deepEqual(at(z.records, 'd201911e2._domainkey.example.org', 'TXT')[0].txt, ['v=DKIM1; k=ed25519; p=GBt2k2L39KUb39fg5brOppXDHXvISy0+ECGgPld/bIo=']);
  // TLSA in ( ) with a comment line inside.
  assert.deepEqual(at(z.records, '_ourcaca4-tlsa.example.org', 'TLSA')[0].rdata, ['02', '00', '01', 'ea99063a0a3bda9727032cf82da238698b90ba729300703d3956943635f96488']);
  assert.deepEqual(at(z.records, 'realhost.example.org', 'MX')[0].rdata, ['0', '.']);
  assert.deepEqual(z.warnings, []);
});

const simple = corpus('dnscontrol-simple.com.zone');
test('dnscontrol simple.com: Google MX, SPF, two DKIM records', { skip: simple.skip }, () => {
  const z = parseZoneFile(simple.text!, 'simple.com');
  assert.deepEqual(z.errors, []);
  assert.deepEqual(countTypes(z.records), { SOA: 1, NS: 4, MX: 5, TXT: 4, CNAME: 4, SRV: 1 });
  assert.deepEqual(at(z.records, 'simple.com', 'NS').map((r) => r.ttl), [172800, 172800, 172800, 172800]);
  assert.deepEqual(at(z.records, 'simple.com', 'MX').map((r) => r.rdata.join(' ')), ['1 aspmx.l.google.com', '5 alt1.aspmx.l.google.com', '5 alt2.aspmx.l.google.com', '10 alt3.aspmx.l.google.com', '10 alt4.aspmx.l.google.com']);
  assert.ok(at(z.records, 'simple.com', 'TXT').some((r) => r.txt![0] === 'v=spf1 mx include:mktomail.com ~all'));
  assert.equal(at(z.records, 'm1._domainkey.simple.com', 'TXT').length, 1);
  assert.equal(at(z.records, 'm1._domainkey.dev-email.simple.com', 'TXT').length, 1);
  assert.deepEqual(z.warnings, []);
});

const apex = corpus('dnscontrol-apex.com.zone');
test('negative fixture apex.com: CNAME at the apex is parsed and reported as a warning', { skip: apex.skip }, () => {
  const z = parseZoneFile(apex.text!, 'apex.com');
  assert.deepEqual(z.errors, []);
  assert.deepEqual(countTypes(z.records), { SOA: 1, NS: 4, CNAME: 2 });
  assert.deepEqual(at(z.records, 'apex.com', 'CNAME')[0].rdata, ['cnametest1.example.com']);
  assert.deepEqual(z.warnings, ['apex.com: CNAME and other data']);
});

const ds = corpus('dnscontrol-ds.com.zone');
test('negative fixture ds.com: no NS records is reported as a warning', { skip: ds.skip }, () => {
  const z = parseZoneFile(ds.text!, 'ds.com');
  assert.deepEqual(z.errors, []);
  assert.deepEqual(countTypes(z.records), { SOA: 1, DS: 1 });
  assert.equal(at(z.records, 'geo.ds.com', 'DS')[0].rdata.length, 4);
  assert.deepEqual(z.warnings, ['ds.com: no NS records at the zone apex']);
});

const octo = corpus('octodns-bind-unit.tests.zone');
test('octodns unit.tests: multi-line SOA with comments, TTL inheritance without $TTL, TLSA continuation', { skip: octo.skip }, () => {
  const z = parseZoneFile(octo.text!, 'unit.tests');
  assert.deepEqual(z.errors, []);
  assert.deepEqual(countTypes(z.records), { SOA: 1, NS: 4, SSHFP: 2, CAA: 2, SRV: 4, TXT: 3, MX: 4, LOC: 2, A: 4, AAAA: 1, CNAME: 2, TLSA: 2 });
  assert.equal(z.records.length, 31);
  const soa = at(z.records, 'unit.tests', 'SOA')[0];
  assert.equal(soa.rdata[2], '2018071501');
  assert.equal(soa.rdata.length, 7);
  assert.deepEqual(at(z.records, 'mx.unit.tests', 'MX').map((r) => r.rdata.join(' ')), ['10 smtp-4.unit.tests', '20 smtp-2.unit.tests', '30 smtp-3.unit.tests', '40 smtp-1.unit.tests']);
  assert.deepEqual(at(z.records, 'caa.unit.tests', 'CAA')[1].rdata, ['0', 'iodef', 'mailto:admin@unit.tests']);
  const tlsa = at(z.records, '_25._tcp.mx2.unit.tests', 'TLSA')[0];
  assert.equal(tlsa.ttl, 300, 'no $TTL: the last TTL given');
  assert.deepEqual(tlsa.rdata, ['3', '1', '1', 'C164B2C3F36D068D42A6138E446152F5', '68615F28C69BD96A73E354CAC88ED00C']);
  assert.deepEqual([tlsa.startLine + 1, tlsa.endLine + 1], [61, 63]);
  assert.equal(at(z.records, 'wwww.sub.unit.tests', 'A').length, 1);
  assert.deepEqual(at(z.records, '_pop3._tcp.unit.tests', 'SRV')[0].rdata, ['0', '0', '0', '.']);
});

const elgsRaw = corpus('elgs-dns-zonefile-zonefile_forward.txt');
/**
 * Its two DS records hold no DS data (`DS tag=12345 alg=3 digest_type=1 <foofoo>`): BIND refuses the zone ("not a valid
 * number"), so they are lines mailhealth cannot read and the file is not written. For the rest, read as written with
 * those two given DS data BIND reads (same lines, so every line number stays).
 */
const DS_GARBAGE = /tag=12345 alg=3 digest_type=1 "?<foofoo>"?/g;
const elgs = { ...elgsRaw, text: elgsRaw.text?.replace(DS_GARBAGE, '12345 3 1 0123456789abcdef0123456789abcdef01234567') ?? null };
test('elgs: DS records holding no DS data are lines BIND refuses, each an error naming it, no record', { skip: elgsRaw.skip }, () => {
  const z = parseZoneFile(elgsRaw.text!, 'mydomain.com');
  assert.deepEqual(z.errors, [48, 49].map((n) => `line ${n}: the DS record's field 1, "tag=12345", is not a number of 0 to 65535 (BIND refuses to load the zone)`));
  assert.deepEqual(z.records.filter((r) => r.type === 'DS'), []);
  const { DS: ds, ...others } = countTypes(parseZoneFile(elgs.text!, 'mydomain.com').records);
  assert.equal(ds, 2);
  assert.deepEqual(countTypes(z.records), others, 'every other record read as before');
});
test('elgs (deliberately messy): blank owners, \\; escapes, unquoted TXT words, SPF type, out-of-zone owners', { skip: elgs.skip }, () => {
  const z = parseZoneFile(elgs.text!, 'mydomain.com');
  assert.deepEqual(z.errors, []);
  assert.deepEqual(countTypes(z.records), { SOA: 1, NS: 2, MX: 2, A: 7, AAAA: 3, CAA: 3, CNAME: 4, SPF: 4, TXT: 4, DS: 2, SRV: 6 });
  // Upper-case $ORIGIN, names lower-cased.
  assert.deepEqual(at(z.records, 'mydomain.com', 'NS').map((r) => r.rdata[0]), ['ns1.nameserver.net', 'ns2.nameserver.net']);
  assert.deepEqual(at(z.records, 'mydomain.com', 'MX').map((r) => r.rdata.join(' ')), ['0 mail1.mydomain.com', '10 mail2.mydomain.com']);
  // Blank owners inherit the previous owner.
  assert.deepEqual(at(z.records, 'mydomain.com', 'A').map((r) => r.rdata[0]), ['2.2.2.2', '1.1.1.1', '127.0.0.1']);
  assert.deepEqual(at(z.records, 'mail.mydomain.com', 'A').map((r) => r.rdata[0]), ['127.0.0.1', '1.2.3.4']);
  assert.deepEqual(at(z.records, 'tst.mydomain.com', 'A')[0].rdata, ['101.228.10.127'], 'trailing ;comment with no space');
  assert.equal(at(z.records, 'tst.mydomain.com', 'A')[0].ttl, 300);
  assert.deepEqual(at(z.records, 'a.mydomain.com', 'AAAA')[0], { ...at(z.records, 'a.mydomain.com', 'AAAA')[0], ttl: 200, rdata: ['2001:db8::1'] }, 'owner "A" is a name, not a type');
  assert.deepEqual(at(z.records, 'mydomain.com', 'CAA')[0].rdata, ['0', 'issue', 'ca.example.net; account=230123'], '; inside quotes is data');
  assert.deepEqual(at(z.records, 'cname.mydomain.com', 'CNAME').map((r) => r.rdata[0]), ['cname.mydomain.com', 'cname.mydomain.com']);
  assert.deepEqual(at(z.records, 'test1.mydomain.com', 'SPF').map((r) => r.txt![0]), ['v=spf2', 'v=spf3', 'v=spf4']);
  assert.deepEqual(at(z.records, 'test1.mydomain.com', 'SPF')[1].txt, ['v=spf3', 'mx:gcloud-node.com.', '-all    ', 'aasdfsadfdsafdasf']);
  const tf = at(z.records, 'treefrog.ca', 'TXT');
  assert.equal(tf.length, 2);
  assert.deepEqual(tf[1].txt, tf[0].txt, 'an unquoted word is a character-string too');
  assert.deepEqual(tf[0].txt, ['v=spf1 a mx a:mail.treefrog.ca a:webmail.treefrog.ca ip4:76.75.250.33 ?all', 'asdfsdaf', 'sdfsadfdasf']);
  // \; inside a quoted DKIM string is a literal ;
  assert.deepEqual(at(z.records, 'treemonkey.ca', 'TXT').map((r) => r.txt), [['v=DKIM1; k=rsa; p=MIGf...'], ['v=DKIM1; k=rsa; p=MIGf...']]);
  assert.equal(at(z.records, '_foobar._tcp.mydomain.com', 'SRV').length, 4);
  assert.equal(at(z.records, '*._udp.mydomain.com', 'SRV').length, 1);
  // Out-of-zone owners are kept and reported.
  assert.ok(z.warnings.some((w) => w.includes('treefrog.ca is outside the zone mydomain.com')));
  assert.ok(z.warnings.some((w) => w.includes('secure.example is outside the zone')));
  assert.ok(z.warnings.includes('cname.mydomain.com: CNAME and other data') === false);
});

test('errors: bad $TTL, unsupported $INCLUDE, a line without a type', () => {
  const z = parseZoneFile('$TTL soon\n$INCLUDE other.db\n@ IN SOA ns1.x.test. h.x.test. 1 2 3 4 5\nwww IN 192.0.2.1\n@ NS ns1.x.test.\n', 'x.test');
  assert.equal(z.errors.length, 3);
  assert.match(z.errors[0], /line 1: bad \$TTL/);
  assert.match(z.errors[1], /line 2: \$INCLUDE is not supported/);
  assert.match(z.errors[2], /line 4: cannot find a record type/);
  assert.equal(z.records.length, 2);
});

test('escapes: \\DDD bytes, \\" and \\\\ in quoted strings; CRLF line ends', () => {
  const z = parseZoneFile('@ 300 IN TXT "a\\"b\\\\c\\059d\\195\\169"\r\n@ 300 IN MX 10 mail\r\n', 'x.test');
  assert.deepEqual(z.records[0].txt, ['a"b\\c;dé']);
  assert.deepEqual(z.records[1].rdata, ['10', 'mail.x.test']);
});

test('renderRecordLine: absolute names everywhere, TXT over 255 bytes split, escapes round-trip', () => {
  assert.equal(renderRecordLine({ name: '_sip._tcp.x.test', ttl: 60, type: 'SRV', value: '10 1 5060 sip.x.test' }), '_sip._tcp.x.test.\t60\tIN\tSRV\t10 1 5060 sip.x.test.');
  assert.equal(renderRecordLine({ name: 'x.test', ttl: 60, type: 'MX', value: '10 mail.x.test' }), 'x.test.\t60\tIN\tMX\t10 mail.x.test.');
  assert.equal(renderRecordLine({ name: 'x.test', ttl: 60, type: 'MX', value: '0 .' }), 'x.test.\t60\tIN\tMX\t0 .');
  const long = 'v=spf1 ' + 'ip4:192.0.2.1 '.repeat(40) + '-all';
  const line = renderRecordLine({ name: 'x.test', ttl: 60, type: 'TXT', value: long });
  const back = parseZoneFile(line + '\n', 'x.test').records[0];
  assert.equal(back.txt!.join(''), long);
  assert.ok(back.txt!.every((c) => Buffer.byteLength(c) <= 255));
  const hostile = 'a"b\\c;d\x00\x1b<script>é';
  const r2 = parseZoneFile(renderRecordLine({ name: 'x.test', ttl: 60, type: 'TXT', value: hostile, txt: [hostile] }) + '\n', 'x.test').records[0];
  assert.deepEqual(r2.txt, [hostile]);
  assert.deepEqual(splitTxt('é'.repeat(200)).map((c) => Buffer.byteLength(c)), [254, 146], 'never inside a UTF-8 character');
});

test('renderRecordLine: a given TXT string over 255 bytes is split further (no zone loads a longer one)', () => {
  const value = 'v=mc1 ' + Array.from({ length: 30 }, (_, i) => `auth=provider${String(i).padStart(2, '0')}`).join(' ');
  assert.ok(Buffer.byteLength(value) > 255);
  const back = parseZoneFile(renderRecordLine({ name: '_mailchannels.x.test', ttl: 60, type: 'TXT', value, txt: [value] }) + '\n', 'x.test').records[0];
  assert.equal(back.txt!.join(''), value);
  assert.ok(back.txt!.length >= 2 && back.txt!.every((c) => Buffer.byteLength(c) <= 255), JSON.stringify(back.txt!.map((c) => c.length)));
  // Strings within the limit are written as given (a DKIM key's own split is kept).
  const kept = parseZoneFile(renderRecordLine({ name: 'x.test', ttl: 60, type: 'TXT', value: 'abcdef', txt: ['abc', 'def'] }) + '\n', 'x.test').records[0];
  assert.deepEqual(kept.txt, ['abc', 'def']);
});

test('bumpSerialText / nextSerial: YYYYMMDDnn, old+1 when that is not larger', () => {
  const day = new Date(Date.UTC(2026, 10, 1));
  assert.equal(nextSerial(2020030700, day), 2026110100);
  assert.equal(nextSerial(2026110100, day), 2026110101);
  assert.equal(nextSerial(2026110105, day), 2026110106);
  assert.equal(nextSerial(2099010100, day), 2099010101);
  assert.equal(nextSerial(7, day), 2026110100);
  assert.equal(nextSerial(4294967295, day), 0, 'RFC 1982 wrap');
  const text = '$TTL 300\n@ IN SOA ns1.x.test. h.x.test. (\n\t2020030700 ; serial 2020030700\n\t3600 600 604800 300 )\n@ NS ns1.x.test.\n';
  const soa = parseZoneFile(text, 'x.test').records[0];
  const out = bumpSerialText(text, soa, 2026110100)!;
  assert.equal(out, text.replace('\t2020030700 ;', '\t2026110100 ;'), 'only the serial token changes, the comment stays');
  const one = '@ 300 IN SOA ns1.x.test. h.x.test. 5 3600 600 604800 300\n';
  assert.equal(bumpSerialText(one, parseZoneFile(one, 'x.test').records[0], 6), '@ 300 IN SOA ns1.x.test. h.x.test. 6 3600 600 604800 300\n');
});

test('applyLineEdits keeps untouched bytes, CRLF included', () => {
  const t = 'a\r\nb\r\nc\r\n';
  assert.equal(applyLineEdits(t, [{ startLine: 1, endLine: 1, lines: ['B'] }]), 'a\r\nB\r\nc\r\n');
  assert.equal(applyLineEdits(t, [{ startLine: 1, endLine: 1, lines: [] }, { startLine: -1, endLine: -1, lines: ['d'] }]), 'a\r\nc\r\nd\r\n');
});

test('applyLineEdits on CRLF: a line given with its \\r (a stored source) gets one CRLF, not \\r\\r\\n; the last line keeps having no break', () => {
  const t = 'a\r\nb\r\nc';
  // A two-line record's source as read from the file: each line still holds the \r of its break.
  assert.equal(applyLineEdits(t, [{ startLine: 0, endLine: 1, lines: ['X\r', 'Y\r'] }]), 'X\r\nY\r\nc');
  assert.equal(applyLineEdits(t, [{ startLine: 1, endLine: 1, lines: ['B\r'] }]), 'a\r\nB\r\nc');
  // The last line has no line break: its replacement has none either (no stray \r at the end of the file), and the
  // lines before it get the file's CRLF.
  assert.equal(applyLineEdits(t, [{ startLine: 2, endLine: 2, lines: ['C1', 'C2'] }]), 'a\r\nb\r\nC1\r\nC2');
  assert.equal(applyLineEdits(t, [{ startLine: 2, endLine: 2, lines: ['C\r'] }]), 'a\r\nb\r\nC');
  // The last line deleted: the line now last has no break either (not half of one).
  assert.equal(applyLineEdits(t, [{ startLine: 2, endLine: 2, lines: [] }]), 'a\r\nb');
  assert.equal(applyLineEdits(t, [{ startLine: 1, endLine: 1, lines: ['B'] }, { startLine: 2, endLine: 2, lines: [] }]), 'a\r\nB');
  assert.equal(applyLineEdits(t, [{ startLine: 2, endLine: 2, lines: [] }, { startLine: -1, endLine: -1, lines: ['d'] }]), 'a\r\nb\r\nd\r\n');
});

test('applyLineEdits appending after a last line without a line break: that line ends with the file\'s break first (CRLF or LF)', () => {
  assert.equal(applyLineEdits('a\r\nb', [{ startLine: -1, endLine: -1, lines: ['c', 'd\r'] }]), 'a\r\nb\r\nc\r\nd\r\n');
  assert.equal(applyLineEdits('a\r\nb\r\n', [{ startLine: -1, endLine: -1, lines: ['c'] }]), 'a\r\nb\r\nc\r\n');
  // A last line whose CRLF lost its \n: only the \n is added.
  assert.equal(applyLineEdits('a\r\nb\r', [{ startLine: -1, endLine: -1, lines: ['c'] }]), 'a\r\nb\r\nc\r\n');
  // LF files: as before.
  assert.equal(applyLineEdits('a\nb', [{ startLine: -1, endLine: -1, lines: ['c'] }]), 'a\nb\nc\n');
  assert.equal(applyLineEdits('a\nb\n', [{ startLine: 1, endLine: 1, lines: ['B'] }, { startLine: -1, endLine: -1, lines: ['c'] }]), 'a\nB\nc\n');
  assert.equal(applyLineEdits('', [{ startLine: -1, endLine: -1, lines: ['c'] }]), 'c\n');
});

test('applyLineEdits on a file mixing CRLF and LF: a replaced line keeps its own break, appended lines take the break most lines have', () => {
  const mostlyLf = 'a\r\nb\nc\nd';
  assert.equal(applyLineEdits(mostlyLf, [{ startLine: 1, endLine: 1, lines: ['B1', 'B2'] }]), 'a\r\nB1\nB2\nc\nd');
  assert.equal(applyLineEdits(mostlyLf, [{ startLine: 0, endLine: 0, lines: ['A'] }]), 'A\r\nb\nc\nd');
  assert.equal(applyLineEdits(mostlyLf, [{ startLine: 3, endLine: 3, lines: ['D1', 'D2'] }]), 'a\r\nb\nc\nD1\nD2');
  assert.equal(applyLineEdits(mostlyLf, [{ startLine: -1, endLine: -1, lines: ['e'] }]), 'a\r\nb\nc\nd\ne\n');
  const mostlyCrlf = 'a\nb\r\nc\r\n';
  assert.equal(applyLineEdits(mostlyCrlf, [{ startLine: 0, endLine: 0, lines: ['A\r'] }, { startLine: -1, endLine: -1, lines: ['d'] }]), 'A\nb\r\nc\r\nd\r\n');
  // As many of each: the break of the file's last line.
  assert.equal(applyLineEdits('a\nb\r\n', [{ startLine: -1, endLine: -1, lines: ['c'] }]), 'a\nb\r\nc\r\n');
  assert.equal(applyLineEdits('a\r\nb\n', [{ startLine: -1, endLine: -1, lines: ['c'] }]), 'a\r\nb\nc\n');
});

/** parse → change one mail record through the files panel → parse: every other record identical. */
async function roundTrip(file: string, text: string, origin: string, pick: (rs: ParsedRecord[]) => ParsedRecord, change: 'edit' | 'remove') {
  const root = mkdtempSync(join(tmpdir(), 'mailhealth-zrt-'));
  try {
    mkdirSync(join(root, 'zones'));
    writeFileSync(join(root, 'panel.json'), JSON.stringify({ server: { hostname: 'h.test', ips: [], nameservers: [] }, accounts: [] }));
    writeFileSync(join(root, 'zones', `${origin}.db`), text);
    const panel = new FilesPanel(root);
    panel.now = () => new Date(Date.UTC(2026, 10, 1));
    const zone = await panel.readZone(origin);
    const target = pick(parseZoneFile(text, origin).records);
    const before = zone.records.find((r) => r.ref === `${target.startLine}-${target.endLine}`)!;
    const after = { ...before, value: before.type === 'TXT' ? 'v=spf1 include:_spf.google.com -all' : '20 mx2.elsewhere.test', ...(before.type === 'TXT' ? { txt: ['v=spf1 include:_spf.google.com -all'] } : {}) };
    await panel.applyChanges(origin, [{ action: change, name: before.name, type: before.type, ttl: before.ttl, before, after: change === 'edit' ? after : null }], zone.version);
    const newText = readFileSync(join(root, 'zones', `${origin}.db`), 'utf8');
    const z2 = await panel.readZone(origin);
    const key = (r: { name: string; ttl: number; type: string; value: string; txt?: string[] }) => recordKey({ ...r, ref: undefined });
    const oldKeys = zone.records.filter((r) => r !== before && r.type !== 'SOA').map(key);
    const newKeys = z2.records.filter((r) => r.type !== 'SOA').map(key);
    if (change === 'edit') {
      assert.ok(newKeys.includes(key({ ...after, ttl: before.ttl })), `${file}: the edited record is there`);
      newKeys.splice(newKeys.indexOf(key({ ...after, ttl: before.ttl })), 1);
    }
    assert.deepEqual(newKeys.sort(), oldKeys.sort(), `${file}: every other record identical`);
    const soaOld = zone.records.find((r) => r.type === 'SOA');
    const soaNew = z2.records.find((r) => r.type === 'SOA');
    if (soaOld) {
      assert.ok(z2.serial! > zone.serial! || z2.serial === 2026110100, 'serial bumped');
      assert.equal(soaNew!.value.split(' ').filter((_, i) => i !== 2).join(' '), soaOld.value.split(' ').filter((_, i) => i !== 2).join(' '));
    }
    return { oldText: text, newText };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const corpora: [string, string, (rs: ParsedRecord[]) => ParsedRecord][] = [
  ['dnscontrol-example.org.zone', 'example.org', (rs) => rs.find((r) => r.name === 'example.org' && r.type === 'TXT')!],
  ['dnscontrol-simple.com.zone', 'simple.com', (rs) => rs.find((r) => r.name === 'simple.com' && r.txt?.[0].startsWith('v=spf1'))!],
  ['octodns-bind-unit.tests.zone', 'unit.tests', (rs) => rs.find((r) => r.type === 'MX')!],
  ['elgs-dns-zonefile-zonefile_forward.txt', 'mydomain.com', (rs) => rs.find((r) => r.name === 'mydomain.com' && r.type === 'MX')!],
];
for (const [file, origin, pick] of corpora) {
  // (elgs with its two DS lines given data BIND reads: as published, the file is one mailhealth does not write.)
  const c = file === 'elgs-dns-zonefile-zonefile_forward.txt' ? elgs : corpus(file);
  for (const change of ['edit', 'remove'] as const) {
    test(`round trip ${file}: ${change} one mail record, every other record identical`, { skip: c.skip }, async () => {
      const { oldText, newText } = await roundTrip(file, c.text!, origin, pick, change);
      assert.notEqual(newText, oldText);
    });
  }
}

test('round trip where later records inherit owner (blank) and TTL (no $TTL) from the removed one', { skip: elgs.skip || octo.skip }, async () => {
  // elgs: "treefrog.ca. IN TXT ..." (an SPF) is followed by a blank-owner TXT that would otherwise fall to test1.
  const r1 = await roundTrip('elgs', elgs.text!, 'mydomain.com', (rs) => rs.find((r) => r.name === 'treefrog.ca')!, 'remove');
  assert.match(r1.newText, /^treefrog\.ca\.\tIN TXT "v=spf1 a mx/m);
  await roundTrip('elgs', elgs.text!, 'mydomain.com', (rs) => rs.find((r) => r.name === 'treefrog.ca')!, 'edit');
  // octodns: no $TTL; the last MX (TTL 300) is followed by LOC records with explicit TTLs, TLSA inherits from "cname".
  const text = '@ 3600 IN SOA ns1.x.test. h.x.test. 1 2 3 4 5\n@ 3600 NS ns1.x.test.\n@ 600 IN TXT "v=spf1 -all"\n\tIN MX 10 mail\nmail IN A 192.0.2.1\n';
  const { newText } = await roundTrip('inline', text, 'x.test', (rs) => rs.find((r) => r.type === 'TXT')!, 'remove');
  assert.match(newText, /^x\.test\.\t600\tIN MX 10 mail$/m, 'owner and TTL written out on the next record');
});

test('an unclosed quote or parenthesis at the end of the file is an error naming the line', () => {
  const paren = parseZoneFile('$TTL 3600\n_dmarc IN TXT ( "v=DMARC1; p=none"\nwww IN A 192.0.2.1\n', 'x.test');
  assert.match(paren.errors.join('\n'), /^line 2: a parenthesis opened here is never closed/m);
  const quote = parseZoneFile('$TTL 3600\n_dmarc IN TXT "v=DMARC1; p=none\nwww IN A 192.0.2.1\n', 'x.test');
  assert.match(quote.errors.join('\n'), /^line 2: a quoted string is not closed on its line/m);
  assert.deepEqual(quote.records.map((r) => `${r.name} ${r.type}`), ['_dmarc.x.test TXT', 'www.x.test A'], 'the next line is its own record');
});

test('a stray quote does not swallow the lines up to the next quote: the string ends at its line, the zone is flagged', () => {
  // QA: `"…" "x` read on until the next '"' lines later, taking the site verification and the DKIM key into the SPF
  // record — and the SPF fix, rewriting that record's lines, deleted them.
  const text = [
    '$TTL 3600',
    '@ IN TXT "v=spf1 include:_spf.google.com ~all" "x',
    '@ IN TXT "google-site-verification=abc"',
    'default._domainkey IN TXT "v=DKIM1; k=rsa; p=MIIB"',
    'www IN A 192.0.2.1',
    '',
  ].join('\n');
  const z = parseZoneFile(text, 'x.test');
  assert.match(z.errors.join('\n'), /^line 2: a quoted string is not closed on its line/m);
  assert.deepEqual(
    z.records.map((r) => `${r.name} ${r.type} ${r.rdata.join('|')}`),
    ['x.test TXT v=spf1 include:_spf.google.com ~all|x', 'x.test TXT google-site-verification=abc', 'default._domainkey.x.test TXT v=DKIM1; k=rsa; p=MIIB', 'www.x.test A 192.0.2.1'],
  );
});

test('escapes in unquoted TXT words are decoded as in quoted strings (\\DDD, \\X)', () => {
  const z = parseZoneFile('$TTL 3600\n@ IN TXT v=spf1\\032a\\032-all\n@ IN TXT a\\"b plain\n', 'x.test');
  assert.deepEqual(z.errors, []);
  assert.deepEqual(z.records.map((r) => r.txt), [['v=spf1 a -all'], ['a"b', 'plain']]);
});

// \DDD stands for one octet (RFC 1035 §5.1): \365 was read as octet 365 & 0xff (`m`), so "auth=newhost\365c" read as
// "auth=newhostmc" and passed, in a zone the name server would refuse. Now such a line cannot be read (writes are
// refused, as for any unreadable line). And an escaped octet that is not UTF-8 reads as U+DC00 + octet (as the DNS
// client reads it off the wire), not as U+FFFD.
test('\\DDD above 255 makes the line unreadable; a lone non-UTF-8 octet escape reads as U+DC00 + octet', () => {
  const z = parseZoneFile('_mailchannels 300 IN TXT "v=mc1 auth=newhost\\365c"\nx 300 IN TXT v=mc1\\256\n@ 300 IN TXT "caf\\233" "ok"\n', 'x.test');
  assert.equal(z.records.length, 1);
  assert.match(z.errors[0], /^line 1: an escape \\DDD above \\255/);
  assert.match(z.errors[1], /^line 2: an escape \\DDD above \\255/);
  assert.deepEqual(z.records[0].txt, ['caf\udce9', 'ok']);
  // Rendered back, the same octets.
  const line = renderRecordLine({ name: 'x.test', ttl: 60, type: 'TXT', value: 'caf\udce9ok', txt: ['caf\udce9', 'ok'] });
  assert.deepEqual(parseZoneFile(line + '\n', 'x.test').records[0].txt, ['caf\udce9', 'ok']);
});

// A line skipped for such an escape still gives its owner (and TTL) to the next lines that leave theirs out: the next
// record read as the apex's would be a record that is not there (a phantom apex SPF record).
test('a line skipped for a bad escape keeps its owner and TTL for the lines after it', () => {
  const z = parseZoneFile('foo 600 IN TXT "bad\\999"\n    IN TXT "v=spf1 -all"\n', 'ex.com');
  assert.equal(z.errors.length, 1);
  assert.deepEqual(z.records.map((r) => [r.name, r.ttl, r.txt]), [['foo.ex.com', 600, ['v=spf1 -all']]]);
  const u = parseZoneFile('foo 600 IN TXT bad\\999\n    IN TXT "v=spf1 -all"\n', 'ex.com');
  assert.deepEqual(u.records.map((r) => [r.name, r.ttl]), [['foo.ex.com', 600]]);
});
