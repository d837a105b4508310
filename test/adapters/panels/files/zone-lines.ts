// A seeded generator of zone-file lines as hosting customers' zones carry them, in the spellings BIND 9.18 reads
// (upper/lower case types and classes, TTL units, class and TTL in either order, parentheses over several lines,
// comments, relative and absolute names, escapes, RFC 3597's TYPE<n> and `\#` forms), and mutated variants (a field
// dropped or added, a number out of range, bad hexadecimal or base64, a quote added or taken off, odd whitespace) —
// for the differential test of the files panel's zone reader against named-checkzone (zonefile-bind-diff.test.ts).
// Deterministic from its Rng: a case names everything needed to replay it.
import { parseZoneFile, presentValue, renderRecordLine, type ParsedRecord } from '../../../../src/adapters/panels/files/zonefile.js';
import type { Rng } from '../../../helpers/prng.js';

/** The zone every case is read in. */
export const ORIGIN = 'example.com';
export const HEAD_TTL = '$TTL 3600';
export const HEAD_SOA = '@ IN SOA ns1.other.net. host.other.net. ( 1 3600 600 86400 300 )';
export const HEAD_NS = '@ IN NS ns1.other.net.';

export interface ZoneCase {
  /** The line (or lines, for data in parentheses) under test. */
  line: string;
  /** An SOA line: it takes the place of the zone's own SOA (a zone has one). */
  soa: boolean;
  /** What the generator did (the type, the mutation), for the report. */
  kind: string;
}

/** The zone of a case: $TTL, the SOA (the case's own for an SOA), the apex NS, the line. */
export function zoneOf(c: ZoneCase): string {
  return c.soa ? [HEAD_TTL, c.line, HEAD_NS, ''].join('\n') : [HEAD_TTL, HEAD_SOA, HEAD_NS, c.line, ''].join('\n');
}

/** The 0-based line the case starts on in zoneOf. */
export const caseLine = (c: ZoneCase) => (c.soa ? 1 : 3);

// ------------------------------------------------------------------------------------------------ pieces

const LABELS = ['a', 'mail', 'www', 'mx', 'ns1', 'smtp', 'sub', 'web-2', 'cdn', 'shop', 'x1'];

function hostLabels(r: Rng, n = 1 + r.int(2)): string {
  return Array.from({ length: n }, () => r.pick(LABELS)).join('.');
}

/** A letter of a label written as `\DDD` or `\X` now and then (BIND reads `\109ail` as mail). */
function escapeSome(r: Rng, s: string): string {
  if (!r.chance(0.15)) return s;
  const k = r.int(s.length);
  const c = s[k];
  if (!/[a-z0-9]/i.test(c)) return s;
  const e = r.chance(0.5) ? '\\' + String(c.charCodeAt(0)).padStart(3, '0') : '\\' + c;
  return s.slice(0, k) + e + s.slice(k + 1);
}

/** A target name as a zone writes one: relative, absolute in or out of the zone, `@`, upper case, an escape. */
function target(r: Rng, opts: { root?: boolean; at?: boolean } = {}): string {
  const p = r.int(20);
  if (opts.root && p === 0) return '.';
  if (opts.at && p === 1) return '@';
  if (p < 8) return escapeSome(r, hostLabels(r));
  if (p < 12) return escapeSome(r, `${hostLabels(r)}.${ORIGIN}.`);
  if (p < 13) return hostLabels(r).toUpperCase();
  if (p < 14) return 'a\\.b'; // one label "a.b"
  return `${hostLabels(r)}.${r.pick(['other.net', 'mail.example.org', 'relay.mailchannels.net', 'hosting.example'])}.`;
}

/** An owner for a record of `type`. */
function owner(r: Rng, type: string): string {
  const p = r.int(16);
  if (type === 'TLSA' && p < 10) return `_${r.pick(['25', '443', '465', '587'])}._tcp.${r.pick(['mail', 'mx', 'smtp', '@'].map((x) => (x === '@' ? ORIGIN + '.' : x)))}`;
  if (type === 'SRV' && p < 10) return `_${r.pick(['sip', 'imaps', 'submission', 'autodiscover', 'xmpp-client'])}._${r.pick(['tcp', 'udp', 'tls'])}`;
  if ((type === 'TXT' || type === 'SPF') && p < 6) return r.pick(['@', '_dmarc', 'default._domainkey', 'selector1._domainkey', '_mailchannels', '_mta-sts', '_smtp._tls']);
  if (p === 0) return '@';
  if (p === 1) return `${hostLabels(r)}.${ORIGIN}.`;
  if (p === 2) return hostLabels(r).toUpperCase();
  if (p === 3) return '*';
  if (p === 4) return `*.${r.pick(LABELS)}`;
  if (p === 5) return escapeSome(r, r.pick(LABELS));
  return hostLabels(r);
}

const u16 = (r: Rng) => String(r.pick([0, 1, 5, 10, 20, 50, 100, 443, 5060, 65535, r.int(65536)]));
const u8 = (r: Rng) => String(r.pick([0, 1, 2, 3, 128, 255, r.int(256)]));
const leadZero = (r: Rng, n: string) => (r.chance(0.1) ? '0' + n : n);

function hex(r: Rng, octets: number): string {
  let s = '';
  for (let k = 0; k < octets; k++) s += r.int(256).toString(16).padStart(2, '0');
  return r.chance(0.5) ? s.toUpperCase() : s;
}

/** Hexadecimal or base64 text cut into words (BIND reads them joined), sometimes in parentheses. */
function words(r: Rng, s: string): string[] {
  if (!r.chance(0.3)) return [s];
  const out: string[] = [];
  for (let k = 0; k < s.length; ) {
    const n = 2 + r.int(Math.max(2, s.length / 2));
    out.push(s.slice(k, k + n));
    k += n;
  }
  return out;
}

function base64(r: Rng, octets: number): string {
  const b = Buffer.alloc(octets);
  for (let k = 0; k < octets; k++) b[k] = r.int(256);
  return b.toString('base64');
}

/** A string's text (without quotes) as written in a zone file: escapes \" \\ \DDD \X, `;` and parentheses, UTF-8. */
function stringText(r: Rng): string {
  const pieces = [
    'v=spf1 include:_spf.example.net ~all',
    'v=DMARC1; p=none; rua=mailto:d@example.com',
    'v=DKIM1; k=rsa; p=',
    'google-site-verification=abc123',
    'v=mc1 auth=myhost',
    'hello world',
    'a;b',
    '(paren)',
    '\\"quoted\\"',
    '\\\\',
    '\\;',
    '\\065',
    '\\000',
    '\\255',
    '\\195\\169',
    'é',
    '\\x',
    ' ',
    '',
  ];
  let s = '';
  for (let n = 1 + r.int(3); n > 0; n--) s += r.pick(pieces);
  return s;
}

/** A bare word (no space, quote, parenthesis or `;`, but escaped), as a TXT or HINFO word may be written. */
function bareWord(r: Rng): string {
  return r.pick(['v=spf1', '-all', 'word', 'a\\032b', 'x\\;y', '\\"q', 'k=rsa\\;', 'Linux', 'INTEL', 'c\\255']);
}

function txtData(r: Rng): string[] {
  const out: string[] = [];
  for (let n = 1 + (r.chance(0.3) ? r.int(3) : 0); n > 0; n--) {
    if (r.chance(0.15)) out.push(bareWord(r));
    else if (r.chance(0.05)) out.push(`"${'p'.repeat(r.pick([254, 255]))}"`);
    else out.push(`"${stringText(r)}"`);
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ wire form (RFC 3597)

function wireName(n: string): Buffer {
  if (n === '.') return Buffer.from([0]);
  const parts = n.replace(/\.$/, '').split('.');
  return Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p)])), Buffer.from([0])]);
}
const u16b = (v: number) => Buffer.from([v >> 8, v & 0xff]);

/** A record of a type with a decoder, in the generic form `\# <length> <hex>` (the type then named or TYPE<n>). */
function generic(r: Rng): { type: string; data: string[] } {
  const host = `${hostLabels(r)}.${r.pick(['other.net', ORIGIN])}.`;
  const choices: [string, number, () => Buffer][] = [
    ['A', 1, () => Buffer.from([192, 0, 2, r.int(256)])],
    ['AAAA', 28, () => Buffer.from('20010db8000000000000000000000001', 'hex')],
    ['MX', 15, () => Buffer.concat([u16b(r.int(100)), wireName(r.chance(0.1) ? '.' : host)])],
    ['CNAME', 5, () => wireName(host)],
    ['NS', 2, () => wireName(host)],
    ['PTR', 12, () => wireName(host)],
    ['SRV', 33, () => Buffer.concat([u16b(1), u16b(2), u16b(443), wireName(host)])],
    ['CAA', 257, () => Buffer.concat([Buffer.from([0, 5]), Buffer.from('issue'), Buffer.from(r.pick(['letsencrypt.org', '', 'ca.example; a=1']))])],
    ['TLSA', 52, () => Buffer.concat([Buffer.from([3, 1, 1]), Buffer.from(hex(r, 32), 'hex')])],
    ['TXT', 16, () => Buffer.concat([Buffer.from([11]), Buffer.from('v=spf1 -all')])],
    ['SPF', 99, () => Buffer.concat([Buffer.from([3]), Buffer.from('a=b')])],
    ['HINFO', 13, () => Buffer.from('01410142', 'hex')],
    ['TYPE65534', 65534, () => Buffer.from(hex(r, r.int(6)), 'hex')],
    ['TYPE65280', 65280, () => Buffer.from(hex(r, 1 + r.int(4)), 'hex')],
  ];
  const [name, num, make] = r.pick(choices);
  const b = make();
  const type = name.startsWith('TYPE') || r.chance(0.5) ? name : `TYPE${num}`;
  const h = r.chance(0.5) ? b.toString('hex').toUpperCase() : b.toString('hex');
  return { type, data: ['\\#', String(b.length), ...(h ? words(r, h) : [])] };
}

// ------------------------------------------------------------------------------------------------ records

const ALGS = ['8', '13', '15', 'RSASHA256', 'ECDSAP256SHA256', 'ed25519', '5'];

/** A record (type as BIND names it, data tokens as written) of a type hosting zones carry. */
function record(r: Rng): { type: string; data: string[] } {
  const type = r.pick(['A', 'A', 'AAAA', 'MX', 'MX', 'CNAME', 'NS', 'TXT', 'TXT', 'TXT', 'SPF', 'SRV', 'CAA', 'TLSA', 'SSHFP', 'DS', 'DNSKEY', 'NAPTR', 'SVCB', 'HTTPS', 'HINFO', 'PTR', 'URI', 'DNAME', 'GENERIC']);
  switch (type) {
    case 'A':
      return { type, data: [r.chance(0.9) ? `192.0.2.${r.int(256)}` : r.pick(['0.0.0.0', '255.255.255.255', '10.0.0.1'])] };
    case 'AAAA':
      return { type, data: [r.pick(['2001:db8::1', '2001:DB8::25', '2001:0db8:0000:0000:0000:0000:0000:0001', '::ffff:192.0.2.1', '::', '::1', 'fe80::1:2', '2001:db8:1:2:3:4:5:6', '2001:db8::192.0.2.1'])] };
    case 'MX':
      return { type, data: [leadZero(r, r.pick(['0', '5', '10', '20', '100', u16(r)])), target(r, { root: true, at: true })] };
    case 'CNAME':
    case 'PTR':
    case 'DNAME':
      return { type, data: [target(r, { at: true })] };
    case 'URI':
      return { type, data: [u16(r), u16(r), r.pick(['"https://www.example.com/"', '"ftp://ftp1.example.com/public"', '""', '"mailto:a@b.example"', '"https://x.example/a\\\\b"'])] };
    case 'NS':
      return { type, data: [`ns${r.int(3)}.${r.pick(['other.net', 'hosting.example'])}.`] };
    case 'TXT':
    case 'SPF':
      return { type, data: txtData(r) };
    case 'SRV':
      return { type, data: [u16(r), u16(r), u16(r), target(r, { root: true })] };
    case 'CAA': {
      const tag = r.pick(['issue', 'issue', 'issuewild', 'iodef', 'Issue', 'contactemail', 'tbs1']);
      const value = r.pick(['"letsencrypt.org"', 'letsencrypt.org', 'letsencrypt.org.', '"ca.example.net; account=230123"', '""', '"mailto:security@example.com"', '";"', 'sectigo.com\\;x', '"a\\\\b"']);
      return { type, data: [r.pick(['0', '0', '128', u8(r)]), tag, value] };
    }
    case 'TLSA': {
      const mt = r.pick([0, 1, 2]);
      return { type, data: [String(r.int(4)), String(r.int(2)), String(mt), ...words(r, hex(r, mt === 2 ? 64 : mt === 1 ? 32 : 16 + r.int(20)))] };
    }
    case 'SSHFP': {
      const ft = r.pick([1, 2, 2]);
      return { type, data: [String(1 + r.int(4)), String(ft), ...words(r, hex(r, ft === 1 ? 20 : 32))] };
    }
    case 'DS': {
      const dt = r.pick(['1', '2', '2', '4', 'SHA-256', 'sha1', 'SHA384']);
      const n = /1$/.test(dt) ? 20 : /384|^4$/i.test(dt) ? 48 : 32;
      return { type, data: [u16(r), r.pick(ALGS), dt, ...words(r, hex(r, n))] };
    }
    case 'DNSKEY':
      return { type, data: [r.pick(['256', '257', 'ZONE|KSK']), r.pick(['3', '3', 'DNSSEC']), r.pick(ALGS), ...words(r, base64(r, r.pick([32, 64, 66, 132])))] };
    case 'NAPTR': {
      const flags = r.pick(['"u"', '"s"', '"a"', '""', '"U"', 'u', '"SU"']);
      const service = r.pick(['"E2U+sip"', '"SIP+D2U"', '"E2U+email:mailto"', '""', 'E2U+sip']);
      const regexp = r.pick(['""', '"!^.*$!sip:info@example.com!"', '"!^(.*)$!\\\\1@example.com!i"', '"/^\\\\+1(.*)$/sip:\\\\1@x/"', '"!^.*$!mailto:a@b!"', '"!(a|b)+!x!"', '"!a{2}!\\\\0!"', '"!^+!x!"', '"!a!b!c"']);
      const repl = regexp === '""' ? target(r, { root: true }) : r.pick(['.', '.', target(r)]);
      return { type, data: [u16(r), u16(r), flags, service, regexp, repl] };
    }
    case 'SVCB':
    case 'HTTPS': {
      const prio = r.pick(['0', '1', '1', '2', '16']);
      const data = [prio, r.pick(['.', '.', target(r)])];
      const params = ['alpn=h2', 'alpn=h2,h3', 'alpn="h2,h3"', 'alpn=h3,h2 ', 'port=443', 'port="8443"', 'ipv4hint=192.0.2.1', 'ipv4hint=192.0.2.1,192.0.2.2', 'ipv6hint=2001:db8::1', 'ech=AEX+DQBBpQAgACB/RUSJuVY=', 'no-default-alpn', 'mandatory=alpn', 'mandatory=port', 'dohpath=/dns-query{?dns}', 'key65000=abc', 'key65001', 'key65002=""', 'key65003="a b"', 'dohpath="/q{?dns}"', 'key7=/q{?dns}', 'alpn=h2\\,x'];
      if (prio !== '0' || r.chance(0.1)) for (let n = r.int(4); n > 0; n--) data.push(r.pick(params).trim());
      return { type, data };
    }
    case 'HINFO':
      return { type, data: [r.pick(['"PC Intel"', 'INTEL-386', '"x86_64"', '""', 'PC']), r.pick(['"Linux 6"', 'Linux', '"FreeBSD"', '""'])] };
    default:
      return generic(r);
  }
}

/** An SOA line's data: names, a serial, times with or without units. */
function soaData(r: Rng): string[] {
  const time = () => r.pick(['3600', '1h', '1H', '600', '10m', '2w', '1209600', '300', '5M', '1d', '86400']);
  return [target(r, { at: true }), r.pick(['host.other.net.', 'hostmaster', 'admin\\.name.example.com.', 'hostmaster.example.com.']), r.pick(['1', '2026010101', '0', '4294967295', '1700000000']), time(), time(), time(), time()];
}

// ------------------------------------------------------------------------------------------------ spelling

const TTLS = ['', '', '', '300', '3600', '1h', '1H', '1h30m', '2d', '1w', '0', '86400s', '1W2D', '7200', '2147483648', '1m1s'];
const CLASSES = ['', '', 'IN', 'IN', 'in', 'In', 'CLASS1', 'class1', 'CLASS01'];
const TYPE_NUMBERS: Record<string, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, HINFO: 13, MX: 15, TXT: 16, AAAA: 28, SRV: 33, NAPTR: 35, DS: 43, SSHFP: 44, DNSKEY: 48, TLSA: 52, SVCB: 64, HTTPS: 65, SPF: 99, CAA: 257 };

function typeSpelling(r: Rng, type: string): string {
  const p = r.int(12);
  if (p === 0) return type.toLowerCase();
  if (p === 1 && type.length > 1) return type[0] + type.slice(1).toLowerCase();
  if (p === 2 && TYPE_NUMBERS[type] !== undefined) return `${r.chance(0.5) ? 'TYPE' : 'type'}${TYPE_NUMBERS[type]}`;
  return type;
}

const SEP = [' ', ' ', ' ', '\t', '  ', ' \t', '\t\t'];

/** The line: owner (or none), TTL and class in either order, the type, the data — sometimes in parentheses, over lines, with comments. */
function spell(r: Rng, own: string | null, ttl: string, cls: string, type: string, data: string[]): string {
  const sep = () => r.pick(SEP);
  const head: string[] = [];
  const order = r.chance(0.3) ? [cls, ttl] : [ttl, cls];
  for (const x of order) if (x) head.push(x);
  head.push(type);
  let body = data.join(' ');
  const q = r.int(10);
  if (q === 0 && data.length > 1) {
    const cut = 1 + r.int(data.length - 1);
    body = `${data.slice(0, cut).join(' ')} (${r.chance(0.5) ? ' ; a comment' : ''}\n${sep()}${data.slice(cut).join(' ')} )`;
  } else if (q === 1) body = `( ${data.join(sep())} )`;
  else if (q === 2 && data.length > 1) body = `(\n${data.map((d) => `\t${d}`).join(r.chance(0.5) ? '\n' : ' ; c\n')}\n)`;
  else body = data.join(sep());
  let line = (own === null ? r.pick(['\t', ' ', '  ']) : own + sep()) + head.join(sep()) + sep() + body;
  const t = r.int(10);
  if (t === 0) line += ' ; trailing comment';
  else if (t === 1) line += r.pick([' ', '\t', ' \t ']);
  else if (t === 2) line += ';no space';
  else if (t === 3) line += '\r'; // a CRLF line break
  return line;
}

// ------------------------------------------------------------------------------------------------ mutations

const BAD_NUMBERS = ['65536', '256', '-1', '4294967296', '1e3', '0x10', '00000000000000000001', '1.5', ''];

/** One mutation of the data tokens (or of the spelling), with its name. */
function mutateData(r: Rng, type: string, data: string[]): { data: string[]; what: string } {
  const d = [...data];
  const k = r.int(Math.max(1, d.length));
  switch (r.int(9)) {
    case 0:
      d.splice(k, 1);
      return { data: d, what: 'drop' };
    case 1:
      d.push(r.pick(['junk', '1', '"x"', 'AB', '=']));
      return { data: d, what: 'add' };
    case 2: {
      const nums = d.map((t, j) => (/^[0-9]+$/.test(t) ? j : -1)).filter((j) => j >= 0);
      if (!nums.length) return { data: d, what: 'none' };
      d[r.pick(nums)] = r.pick(BAD_NUMBERS.filter((x) => x));
      return { data: d, what: 'number' };
    }
    case 3: {
      // Hexadecimal or base64: a character too many, too few, not of the alphabet.
      const j = d.length - 1;
      const t = d[j] ?? '';
      d[j] = r.pick([t + 'a', t.slice(0, -1), t + 'g', t + '=', t.replace(/[=]+$/, ''), t + '==', '']);
      return { data: d, what: 'blob' };
    }
    case 4:
      if (d[k] !== undefined && !d[k].startsWith('"')) d[k] = `"${d[k]}"`;
      else if (d[k] !== undefined) d[k] = d[k].slice(1, -1) || 'x';
      return { data: d, what: 'quote' };
    case 5:
      if (d[k] !== undefined) d[k] = d[k].replace(/^"?/, (m) => m + r.pick(['\\256', '\\999', '\\', '\\0', '\\12']));
      return { data: d, what: 'escape' };
    case 6:
      if (d.length > 1) [d[0], d[d.length - 1]] = [d[d.length - 1], d[0]];
      return { data: d, what: 'swap' };
    case 7:
      if (d[k] !== undefined) d[k] = d[k] + r.pick(['.', '..', '-', ',', '}', '"']);
      return { data: d, what: 'suffix' };
    default:
      return { data: type === 'TXT' ? d : [...d, ...d.slice(0, 1)], what: 'repeat' };
  }
}

/** Owners BIND refuses, or reads otherwise than as written (quoted, `@.`, out of the zone, a label of 63 or 64 octets, a name over 255). */
const ODD_OWNERS = ['a..b', '.a', '"a"', '"a b"', '"a\\.b"', '"@"', '""', 'a\\', 'x.other.net.', '@.', 'a b', 'l'.repeat(63), 'l'.repeat(64), `${'l'.repeat(60)}.`.repeat(4) + 'x'];
const BAD_TTLS = ['1h30', '4294967296', 'h', '-1', '1x', '99999999999'];
const BAD_CLASSES = ['CH', 'HS', 'CS', 'IN IN', 'CLASS3', 'CLASS0 IN', 'CLASS65536'];
const BAD_TYPES = ['TXTT', 'ALIAS', 'ANAME', 'TYPE0', 'TYPE65536', 'TYPE000016', 'TYPE255', 'TYPE3'];

/** A case: a record of a common type (an SOA now and then), spelled one of BIND's ways, mutated about half the time. */
export function genCase(r: Rng): ZoneCase {
  const soa = r.chance(0.06);
  const rec = soa ? { type: 'SOA', data: soaData(r) } : record(r);
  let { type, data } = rec;
  let own: string | null = soa ? r.pick(['@', `${ORIGIN}.`, 'EXAMPLE.com.']) : r.chance(0.05) ? null : owner(r, type);
  let ttl = r.pick(TTLS);
  let cls = r.pick(CLASSES);
  let typeText = type.startsWith('TYPE') ? type : typeSpelling(r, type);
  let kind = type;
  if (r.chance(0.5)) {
    const p = r.int(10);
    if (p < 7) {
      const m = mutateData(r, type, data);
      data = m.data;
      kind += `/${m.what}`;
    } else if (p === 7 && !soa) {
      own = r.pick(ODD_OWNERS);
      kind += '/owner';
    } else if (p === 8) {
      if (r.chance(0.5)) ttl = r.pick(BAD_TTLS);
      else cls = r.pick(BAD_CLASSES);
      kind += '/ttl-class';
    } else {
      typeText = r.pick(BAD_TYPES);
      kind += '/type';
    }
  }
  // Now and then under another $ORIGIN (relative names then complete with it).
  const origin = !soa && r.chance(0.05) ? `${r.pick(['$ORIGIN', '$origin'])} ${r.pick(['sub', 'sub.example.com.', 'EXAMPLE.COM.', 'other.net.'])}\n` : '';
  return { line: origin + spell(r, own, ttl, cls, typeText, data), soa, kind: origin ? `${kind}/origin` : kind };
}

// ------------------------------------------------------------------------------------------------ BIND's dump, compared

/** The positions of the names in the data of a type as BIND dumps it (compared without case: DNS names have none). */
const NAME_AT: Record<string, number[]> = {
  NS: [0], CNAME: [0], PTR: [0], DNAME: [0], MX: [1], SRV: [3], SVCB: [1], HTTPS: [1], SOA: [0, 1], NAPTR: [5],
};

/** Tokens of a dump line (a quoted string one token, its quotes kept). */
function dumpTokens(line: string): string[] {
  return line.match(/"(?:[^"\\]|\\.)*"|[^\s"]+/g) ?? [];
}

/**
 * The records of a named-checkzone `-D` dump (one per line: owner, TTL, class, type, data), names in lower case, in
 * order; the SOA's serial left out (a dump of our rendering has the same; kept so the SOA's other fields count).
 */
export function dumpRecords(dump: string): string[] {
  const out: string[] = [];
  for (const line of dump.split('\n')) {
    const t = dumpTokens(line);
    if (t.length < 4) continue;
    const [own, ttl, cls, type, ...data] = t;
    for (const k of NAME_AT[type] ?? []) if (data[k] !== undefined) data[k] = data[k].toLowerCase();
    out.push([own.toLowerCase(), ttl, cls, type, ...data].join(' '));
  }
  return out.sort();
}

// ------------------------------------------------------------------------------------------------ one verdict


/** named-checkzone's verdict on a zone text: its `-D` dump when it loads the zone, else null; and what it said. */
export type Bind = (zone: string) => Promise<{ dump: string | null; said: string }>;

export interface Verdict {
  c: ZoneCase;
  /** BIND loads the zone / the reader reads it without errors. */
  bind: boolean;
  ours: boolean;
  bindSaid: string;
  ourErrors: string[];
  ourWarnings: string[];
  /**
   * Both load it: where the record mailhealth read, written anew as the panel writes a record (renderRecordLine), is
   * not what BIND loads from the line (BIND's dumps of the two zones differ, or BIND refuses the rendering), why.
   */
  valueDiff?: string;
}

/**
 * A case judged both ways. Where both load the line, the records mailhealth read from it are rendered (renderRecordLine,
 * the values presentValue gives the audit) into the same zone, and BIND's canonical dumps of the two zones compared:
 * BIND is the judge of both sides, so a value read wrong (a name, a TTL, a string, a number) shows as a difference.
 */
export async function judge(c: ZoneCase, bind: Bind): Promise<Verdict> {
  const text = zoneOf(c);
  const z = parseZoneFile(text, ORIGIN);
  const b = await bind(text);
  const v: Verdict = { c, bind: b.dump !== null, ours: z.errors.length === 0, bindSaid: b.said, ourErrors: z.errors, ourWarnings: z.warnings };
  if (!v.bind || !v.ours) return v;
  const from = caseLine(c);
  const to = from + c.line.split('\n').length;
  const mine = z.records.filter((r) => r.startLine >= from && r.startLine < to);
  const lines = mine.map((r) => renderRecordLine({ name: r.name, ttl: r.ttl, type: r.type, value: presentValue(r), ...(r.txt ? { txt: r.txt } : {}) }));
  const again = c.soa ? [HEAD_TTL, ...lines, HEAD_NS, ''].join('\n') : [HEAD_TTL, HEAD_SOA, HEAD_NS, ...lines, ''].join('\n');
  const sem = semanticDiff(mine, b.dump!);
  if (sem) {
    v.valueDiff = sem;
    return v;
  }
  const b2 = await bind(again);
  if (b2.dump === null) v.valueDiff = `BIND refuses the record as mailhealth writes it: ${JSON.stringify(lines)}: ${b2.said}`;
  else {
    const want = dumpRecords(b.dump!);
    const got = dumpRecords(b2.dump);
    if (want.join('\n') !== got.join('\n')) v.valueDiff = `BIND reads ${JSON.stringify(want.filter((x) => !got.includes(x)))}, mailhealth ${JSON.stringify(got.filter((x) => !want.includes(x)))} (written ${JSON.stringify(lines)})`;
  }
  return v;
}

/**
 * The value the audit reads of a record of the types it looks at (TXT and SPF strings, MX preference and host, SRV,
 * addresses, targets, CAA), with numbers and IPv6 addresses in one form; null for other types.
 */
function meaning(r: ParsedRecord): string | null {
  const d = r.rdata;
  switch (r.type) {
    case 'TXT':
    case 'SPF':
      return JSON.stringify(r.txt);
    case 'MX':
      return `${Number(d[0])} ${d[1]}`;
    case 'SRV':
      return `${d.slice(0, 3).map(Number).join(' ')} ${d[3]}`;
    case 'A':
    case 'CNAME':
    case 'NS':
    case 'PTR':
      return d[0];
    case 'AAAA':
      return new URL(`http://[${d[0]}]/`).hostname;
    case 'CAA':
      return `${Number(d[0])} ${d[1]} ${JSON.stringify(d[2])}`;
    default:
      return null;
  }
}

/**
 * Where a record mailhealth read (`mine`) does not mean what BIND loaded from the line (its dump, read back: a canonical
 * text — names absolute, numbers plain, strings quoted with escapes — that leaves nothing to interpretation), why; else
 * null. By owner, type and meaning (a record BIND does not keep, out of the zone, shows too).
 */
function semanticDiff(mine: ParsedRecord[], dump: string): string | null {
  const theirs = parseZoneFile(dump, ORIGIN);
  if (theirs.errors.length) return `mailhealth cannot read BIND's dump: ${theirs.errors.join('; ')}`;
  for (const r of mine) {
    const m = meaning(r);
    // (A record out of the zone BIND ignores, where mailhealth reads it and warns: the audit asks for no such name.)
    if (m === null || (r.name !== ORIGIN && !r.name.endsWith(`.${ORIGIN}`))) continue;
    const same = theirs.records.filter((t) => t.name === r.name && t.type === r.type).map(meaning);
    if (!same.includes(m)) return `mailhealth reads ${r.name} ${r.type} ${m}, BIND ${same.length ? same.join(' | ') : 'no such record'}`;
  }
  return null;
}
