// BIND master-file parser and surgical editor for the files panel.
// Parses $ORIGIN, $TTL, ( ) continuations, quoted multi-string TXT with escapes, comments, blank owners, relative names,
// classes and types written CLASS<n> and TYPE<n>, data in RFC 3597's generic form, quoted owners, as BIND reads them;
// $INCLUDE, $GENERATE, a byte order mark, a name BIND would not read (an empty label, a bad escape, a label over 63
// octets, quotes where BIND reads none) and a line whose data BIND refuses (checked with BIND 9.18's named-checkzone:
// test/adapters/panels/files/zonefile-bind-*.test.ts, line by line over generated lines in zonefile-bind-diff.test.ts;
// LOC data in zonefile-loc.test.ts) are errors (the zone is read as far as it goes, and not written).
// Every record remembers the lines it came from, so an edit rewrites only those lines: the rest of the file stays
// byte-identical.
import { isUtf8 } from 'node:buffer';
import { isIPv4, isIPv6 } from 'node:net';
import { canonicalIpv6, ipv6Text } from '../../../core/ip.js';
import { decodeOctets, octetsOf } from '../../../core/octets.js';

export interface ParsedRecord {
  name: string; // absolute, lower case, no trailing dot
  ttl: number;
  class: string;
  type: string; // upper case
  /** Presentation rdata as tokens (quoted strings unescaped for TXT). */
  rdata: string[];
  /** For TXT/SPF: the character-strings. */
  txt?: string[];
  /** 0-based first and last line of the record in the source. */
  startLine: number;
  endLine: number;
}

export interface ParsedZone {
  origin: string;
  records: ParsedRecord[];
  /** Lines that could not be read (a write that would produce any is refused). */
  errors: string[];
  /**
   * Problems BIND would refuse to load the zone for, which this lenient parser accepts and reports instead:
   * a CNAME next to other data at the same name, no NS record at the apex, owners outside the zone.
   */
  warnings: string[];
  /**
   * The names holding an alias (CNAME) beside other data, in order of first appearance: the warnings' "NAME: CNAME and
   * other data", as data (the files panel refuses a write that would make a new one, and reads no warning's words).
   */
  cnameClashes: string[];
  /**
   * Where the file shows it is DNSSEC-signed (an RRSIG, NSEC or NSEC3 record: the output of a signer, not a zone a signer
   * reads): `line N: TYPE`. Such a file is read, but never written (a changed record would keep its old signatures).
   */
  signed?: string;
}

interface Logical {
  /** Token texts (quoted strings unescaped) and, in step, whether each was quoted. */
  texts: string[];
  quoted: boolean[];
  blankOwner: boolean;
  startLine: number;
  endLine: number;
  /** A \DDD escape above 255, or a backslash and only one or two digits, in one of its strings (the line cannot be read). */
  badEscape?: boolean;
  /**
   * The text as written (escapes kept) of each quoted token that holds a backslash, by index: a quoted owner is read as
   * BIND reads it, its escapes those of a name (quotedName).
   */
  raw?: string[];
}

function badEscapeError(l: Logical): string {
  return `line ${l.startLine + 1}: an escape \\DDD above \\255, or a backslash and fewer than three digits, in a string (an escape \\DDD stands for one octet, 0-255, in three digits; BIND refuses the zone: bad escape)`;
}

/** The classes by mnemonic (CS, which BIND does not know, is refused as a class other than IN all the same). */
const CLASS_NUMBERS: Record<string, number> = { IN: 1, CS: 2, CH: 3, HS: 4 };

/**
 * The number of the class a token names (upper case), as BIND reads one (dns_rdataclass_fromtext): a mnemonic, or
 * RFC 3597 §5's CLASS<n> with one to five digits and n ≤ 65535 (`CLASS1` is IN); else null. BIND takes class 0 for no
 * class at all: the zone's, and a class may still follow (`CLASS0 IN A …` loads).
 */
function classNumber(u: string): number | null {
  const n = CLASS_NUMBERS[u];
  if (n !== undefined) return n;
  // (Most tokens asked about are a TTL or a type: they leave before the regular expression.)
  if (!u.startsWith('CLASS') || !/^CLASS[0-9]{1,5}$/.test(u)) return null;
  const v = Number(u.slice(5));
  return v <= 0xffff ? v : null;
}

/** The class token `k` names (upper case, with its number: classNumber), else null (none there, or quoted). */
function classToken(toks: readonly string[], quoted: readonly boolean[], k: number): { written: string; n: number } | null {
  if (k >= toks.length || quoted[k]) return null;
  const u = toks[k].toUpperCase();
  const n = classNumber(u);
  return n === null ? null : { written: u, n };
}

/** The name BIND gives class `n` in its messages. */
function className(n: number): string {
  return ['', 'IN', 'CS', 'CH', 'HS'][n] || (n === 254 ? 'NONE' : n === 255 ? 'ANY' : `CLASS${n}`);
}

function decodeEscapes(s: string): string | null {
  // No backslash: nothing to decode (the octet round trip below is the identity for text as read).
  if (!s.includes('\\')) return s;
  // \DDD (one octet, 0-255: RFC 1035 §5.1) and \X (literal X, X no digit). The octets are then read as the zone file
  // is: UTF-8, any other octet as U+DC00 + octet (core/octets.ts), so "\233" alone is that octet, never U+FFFD. A
  // backslash and one or two digits is no escape BIND reads (`"\0v=DKIM1"`, `\12x`: "syntax error", the zone is not
  // loaded); read as the digit itself, the record was one the name server does not serve.
  const bytes: number[] = [];
  let run = 0;
  const plain = (to: number) => {
    if (to > run) for (const b of octetsOf(s.slice(run, to))) bytes.push(b);
  };
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) !== 0x5c || i + 1 >= s.length) continue;
    plain(i);
    const d = /^[0-9]{1,3}/.exec(s.slice(i + 1, i + 4));
    if (d) {
      const v = Number(d[0]);
      if (v > 255 || d[0].length < 3) return null;
      bytes.push(v);
      i += 3;
    } else {
      // The escaped character itself (a surrogate pair stays whole).
      const cp = s.codePointAt(i + 1)!;
      const len = cp > 0xffff ? 2 : 1;
      for (const b of octetsOf(s.slice(i + 1, i + 1 + len))) bytes.push(b);
      i += len;
    }
    run = i + 1;
  }
  plain(s.length);
  const buf = Buffer.from(bytes);
  return isUtf8(buf) ? buf.toString('utf8') : decodeOctets(buf);
}

/**
 * Split the text into logical records (a record spans lines inside ( ); a quoted string ends at its line's end). Lines are the pieces
 * between '\n' (a trailing '\r' dropped), walked in place in `text` without cutting it into line strings.
 */
/** The token being read (a class, not a closure made per call). */
class TokenState {
  tok = '';
  tokQuoted = false;
  haveTok = false;
  flush(l: Logical): void {
    if (this.haveTok) {
      const text = this.tokQuoted ? decodeEscapes(this.tok) : this.tok;
      if (text === null) l.badEscape = true;
      if (this.tokQuoted && text !== this.tok) (l.raw ??= [])[l.texts.length] = this.tok;
      l.texts.push(text ?? this.tok);
      l.quoted.push(this.tokQuoted);
    }
    this.tok = '';
    this.tokQuoted = false;
    this.haveTok = false;
  }
}

/** `problems` receives a quote still open at a line's end and a parenthesis still open at the end of the file. */
function lex(text: string, problems: string[]): Logical[] {
  const out: Logical[] = [];
  const n = text.length;
  let cur: Logical | null = null;
  let depth = 0;
  let inQuote = false;
  const t = new TokenState();

  for (let ln = 0, pos = 0; ; ln++) {
    const nl = text.indexOf('\n', pos);
    let end = nl < 0 ? n : nl;
    if (end > pos && text.charCodeAt(end - 1) === 0x0d) end--;
    if (!cur) {
      const c0 = pos < end ? text.charCodeAt(pos) : -1;
      cur = { texts: [], quoted: [], blankOwner: c0 === 0x20 || c0 === 0x09, startLine: ln, endLine: ln };
    }
    cur.endLine = ln;
    for (let i = pos; i < end; i++) {
      const c = text.charCodeAt(i);
      if (inQuote) {
        if (c === 0x5c && i + 1 < end) {
          t.tok += text.slice(i, i + 2);
          i++;
        } else if (c === 0x22) {
          inQuote = false;
          t.flush(cur);
        } else {
          // A run of plain characters in one slice (long DKIM strings are thousands of characters).
          let j = i + 1;
          while (j < end) {
            const d = text.charCodeAt(j);
            if (d === 0x5c || d === 0x22) break;
            j++;
          }
          t.tok += text.slice(i, j);
          i = j - 1;
        }
        continue;
      }
      if (c === 0x5c && i + 1 < end) {
        // An escaped char in an unquoted token (e.g. \; inside a DKIM TXT word), kept as written, as every escape there
        // is: a TXT word is decoded as a quoted string is (decodeEscapes), a name keeps its escapes (`a\.b`). Taking the
        // backslash off `\;` and `\ ` alone made names such as `_dmarc\;x` read as `_dmarc;x`, which a write then put in
        // the file as the start of a comment.
        t.tok += text.slice(i, i + 2);
        t.haveTok = true;
        i++;
        continue;
      }
      if (c === 0x3b) break; // comment
      if (c === 0x22) {
        t.flush(cur);
        inQuote = true;
        t.tokQuoted = true;
        t.haveTok = true;
        continue;
      }
      if (c === 0x28) {
        t.flush(cur);
        depth++;
        continue;
      }
      if (c === 0x29) {
        t.flush(cur);
        depth = Math.max(0, depth - 1);
        continue;
      }
      if (c === 0x20 || c === 0x09) {
        t.flush(cur);
        continue;
      }
      // A run of plain characters (not space, tab, quote, backslash, parenthesis or comment) in one slice.
      let j = i + 1;
      while (j < end) {
        const d = text.charCodeAt(j);
        if (d === 0x20 || d === 0x09 || d === 0x22 || d === 0x5c || d === 0x28 || d === 0x29 || d === 0x3b) break;
        j++;
      }
      t.tok += text.slice(i, j);
      i = j - 1;
      t.haveTok = true;
    }
    if (inQuote) {
      // A quoted string does not continue over a line break (BIND and Knot refuse it: "unbalanced quotes"). Read as one
      // string, a stray quote would swallow the lines up to the next quote into this record, and a fix rewriting it would
      // delete them: the string ends here and the zone is not written until it is repaired.
      problems.push(`line ${ln + 1}: a quoted string is not closed on its line (a string cannot continue over a line break; the lines after it would be misread)`);
      inQuote = false;
    }
    t.flush(cur);
    if (depth === 0) {
      if (cur.texts.length) out.push(cur);
      cur = null;
    }
    if (nl < 0) break;
    pos = nl + 1;
  }
  if (depth > 0) {
    problems.push(`line ${(cur?.startLine ?? 0) + 1}: a parenthesis opened here is never closed (every line after it would be read as part of this record)`);
  }
  if (cur && cur.texts.length) out.push(cur);
  return out;
}

/**
 * Whether a name as written has an empty label: a leading dot (`.a`) or two in a row (`a..b`, `mail.example..`), which
 * BIND refuses the zone for ("empty label"). The root `.` and an escaped dot (`a\..b`: the label "a.") are fine. Read
 * on, `mail.example..` became the name "mail.example." — a name no check asks for, which a line rendered from it
 * (renderRecordLine) then wrote as `mail.example.`, another name.
 */
function hasEmptyLabel(name: string): boolean {
  // Almost every name leaves at once.
  if (name.charCodeAt(0) !== 0x2e && !name.includes('..')) return false;
  if (name === '.') return false;
  let len = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2e) {
      if (len === 0) return true;
      len = 0;
    } else {
      // An escape (`\.`, `\DDD`) is part of its label: only whether a label is empty counts here.
      if (c === 0x5c) i++;
      len++;
    }
  }
  return false;
}

/**
 * Why a name token (an owner, or a name field of the data) cannot be read as the name BIND reads, else null:
 * - quoted: BIND reads a quoted name only as an owner or an SVCB or HTTPS target (those are made bare first:
 *   quotedName); a quoted NS, CNAME, MX… target, or $ORIGIN, it refuses the zone for ("unexpected token");
 * - empty (`""`: BIND, "unexpected end of input");
 * - an empty label (hasEmptyLabel);
 * - an escape BIND refuses (hasBadEscape);
 * - a final backslash that escapes nothing (a token cut at the end of its line);
 * - longer than a DNS name can be (nameLengthProblem; a relative name with `origin`, the origin of its line).
 */
function nameProblem(token: string, quoted: boolean, origin: string): string | null {
  if (quoted) return 'is quoted (BIND reads a quoted name only as an owner or an SVCB or HTTPS target; here it refuses to load the zone: unexpected token)';
  if (token === '') return 'is empty, which BIND refuses to load the zone for';
  if (hasEmptyLabel(token)) return 'has an empty label (a dot at its start or two in a row), which BIND refuses to load the zone for';
  if (hasBadEscape(token)) return 'has an escape \\DDD above \\255 or with fewer than three digits, which BIND refuses to load the zone for (bad escape)';
  if (oddBackslashesAtEnd(token)) return 'ends with a backslash that escapes nothing';
  return nameLengthProblem(token, origin);
}

/**
 * Why a name (a token as written; relative, completed with `origin`) is longer than a DNS name can be, else null: a
 * label over 63 octets, or the whole name over 255 octets in wire form (RFC 1035 §2.3.4). BIND refuses the zone for
 * either ("label too long", "ran out of space"); read on, the audit saw a record under a name no resolver can ask for.
 */
function nameLengthProblem(token: string, origin: string): string | null {
  const at = token === '@';
  const rel = !at && origin !== '' && !endsWithDot(token);
  // Almost every name leaves here: no character is more than 3 octets, a label of 21 characters is at most 63, and a
  // name of 84 characters with a dot holds at most 252 octets (a label's length octet and the root's included). (An
  // escaped dot is part of its label: such a name is counted.)
  const length = at ? origin.length : rel ? token.length + 1 + origin.length : token.length;
  if (length <= 21 || (length <= 84 && (at || !longRun(token)) && (!(at || rel) || !longRun(origin)))) return null;
  const name = at ? origin : rel ? `${token}.${origin}` : token;
  let total = 1; // the root
  let label = 0;
  for (let i = 0; i <= name.length; i++) {
    const c = i < name.length ? name.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      // (The final dot of an absolute name ends its last label; `.` alone is the root.)
      if (label > 63) return `has a label of ${label} octets, where a label holds at most 63 (BIND refuses to load the zone: label too long)`;
      if (label > 0) total += 1 + label;
      label = 0;
      continue;
    }
    if (c === 0x5c && i + 1 < name.length) {
      // An escape is one octet (\DDD), or the octets of the character it escapes.
      if (/^[0-9]{3}/.test(name.slice(i + 1, i + 4))) {
        label++;
        i += 3;
        continue;
      }
      i++;
    }
    const cp = name.codePointAt(i)!;
    if (cp > 0xffff) i++;
    label += cp < 0x80 || (cp >= 0xdc80 && cp <= 0xdcff) ? 1 : cp < 0x800 ? 2 : cp <= 0xffff ? 3 : 4;
  }
  return total > 255 ? `is ${total} octets long, where a name holds at most 255 (BIND refuses to load the zone: ran out of space)` : null;
}

/** Whether a name has a run of 22 characters without a dot (a label that may be over 63 octets), or an escape. */
function longRun(name: string): boolean {
  // (One pass: a regular expression for the run tried 22 characters from every place.)
  for (let k = 0, run = 0; k < name.length; k++) {
    const c = name.charCodeAt(k);
    if (c === 0x5c) return true;
    run = c === 0x2e ? 0 : run + 1;
    if (run === 22) return true;
  }
  return false;
}

/**
 * Whether a name holds an escape BIND refuses ("bad escape"): a backslash and one or two digits (`\12ns1`), or \DDD
 * above 255 (`\256`). Read on, such a name was one the name server does not serve (it refuses the zone).
 */
function hasBadEscape(name: string): boolean {
  for (let i = name.indexOf('\\'); i >= 0; i = name.indexOf('\\', i + 2)) {
    const d = /^[0-9]{1,3}/.exec(name.slice(i + 1, i + 4));
    if (d && (d[0].length < 3 || Number(d[0]) > 255)) return true;
  }
  return false;
}

/**
 * A name written in quotes, as an owner or an SVCB or HTTPS target (`raw`: the text between the quotes, escapes kept),
 * as the bare name BIND reads (it reads the quoted text as a name: `"www"` is www, `"a b"` a\032b): its escapes kept,
 * what a bare token cannot hold (a space, a parenthesis, `;`, a control character) escaped.
 */
function quotedName(raw: string): string {
  let out = '';
  for (let k = 0; k < raw.length; k++) {
    const c = raw.charCodeAt(k);
    if (c === 0x5c && k + 1 < raw.length) {
      out += raw.slice(k, k + 2);
      k++;
    } else if (c <= 0x20 || c === 0x7f || c === 0x22 || c === 0x28 || c === 0x29 || c === 0x3b) out += '\\' + String(c).padStart(3, '0');
    else out += raw[k];
  }
  return out;
}

/**
 * A name as written with its escapes in BIND's form (dns_name_totext): an escaped character that needs none read as
 * itself (`\109ail`, `\_dmarc` are mail and _dmarc: the name the name server serves, which the audit looks up by),
 * one that does (`\.` `\;` `\@`, a space, a control character) kept escaped, as `\X` or `\DDD`; an `@` or `$` in a
 * longer name (`@.` is the name of one label "@", not the origin) escaped. (Only called for a name holding a backslash,
 * `@` or `$`.)
 */
function canonicalName(name: string): string {
  let out = '';
  for (let k = 0; k < name.length; k++) {
    const ch = name[k];
    if (ch !== '\\' || k + 1 >= name.length) {
      out += ch === '@' || ch === '$' ? '\\' + ch : ch;
      continue;
    }
    const d = /^[0-9]{3}/.exec(name.slice(k + 1, k + 4));
    const c = d ? Number(d[0]) : name.charCodeAt(k + 1);
    k += d ? 3 : 1;
    if (!d && c >= 0xd800 && c <= 0xdbff) {
      // An escaped character outside the BMP: kept as written.
      out += name.slice(k - 1, k + 2);
      k++;
    } else if (c <= 0x20 || c === 0x7f || (d && c > 0x7f)) out += '\\' + String(c).padStart(3, '0');
    else if (NAME_SPECIALS.has(c)) out += '\\' + String.fromCharCode(c);
    else out += String.fromCharCode(c);
  }
  return out;
}

/** The characters BIND escapes in a name as `\X`: `"` `(` `)` `.` `;` `\` `@` `$`. */
const NAME_SPECIALS = new Set([0x22, 0x28, 0x29, 0x2e, 0x3b, 0x5c, 0x40, 0x24]);

function nameError(l: Logical, bad: { name: string; why: string }): string {
  return `line ${l.startLine + 1}: the name ${JSON.stringify(bad.name)} ${bad.why}`;
}

/** Whether `s` (up to `end`) ends with a backslash that is not itself escaped (an odd run of them). */
function oddBackslashesAtEnd(s: string, end = s.length): boolean {
  let n = 0;
  for (let k = end - 1; k >= 0 && s.charCodeAt(k) === 0x5c; k--) n++;
  return n % 2 === 1;
}

/**
 * Whether a name as written ends with a dot that ends it (an absolute name), not an escaped one: `a\.` is the relative
 * name whose label is "a." (read as absolute, it lost its escape's dot and then wrote a backslash before the next
 * token). An even run of backslashes before the dot escapes only itself (`a\\.`).
 */
function endsWithDot(s: string, end = s.length): boolean {
  return end > 0 && s.charCodeAt(end - 1) === 0x2e && !oddBackslashesAtEnd(s, end - 1);
}

function absName(name: string, origin: string): string {
  if (name === '@') return origin;
  if (name.indexOf('\\') >= 0 || name.indexOf('@') >= 0 || name.indexOf('$') >= 0) name = canonicalName(name);
  if (endsWithDot(name)) return name.slice(0, -1).toLowerCase();
  return (origin ? `${name}.${origin}` : name).toLowerCase();
}

/** Seconds per unit letter of a TTL (BIND 8 style: 1w2d3h4m5s), by the letter's code, either case. */
const TTL_UNIT: Record<number, number> = { 0x73: 1, 0x6d: 60, 0x68: 3600, 0x64: 86400, 0x77: 604800 };

/**
 * A TTL as BIND reads it (lib/dns/ttl.c bind_ttl, master.c limit_ttl), else null: a plain number, or numbers each with a
 * unit (`1h30m`). Not a TTL: a token past 63 characters, a number past 2^32-1, a unit with no number before it, a plain
 * number after units (`1h30`: BIND refuses it, where reading 1h would drop the 30), a total past 2^32-1. A total past
 * 2^31-1 is 0 (RFC 2181 §8; BIND: "TTL > MAXTTL, setting TTL to 0").
 * One pass over the characters: the regular expression this replaces, /^([0-9]+[smhdw]?)+$/, backtracked
 * exponentially on a run of digits that did not end well (`1111…1x`: twice the time per digit, a 40-digit token in a
 * zone file held the process for hours).
 */
export function parseTtl(s: string): number | null {
  // Every TTL starts with a digit: most tokens asked about (IN, A, TXT, names) leave here.
  const n = s.length;
  const c0 = s.charCodeAt(0);
  if (!(c0 >= 0x30 && c0 <= 0x39) || n > 63) return null;
  let total = 0;
  for (let i = 0; i < n; ) {
    let num = 0;
    const start = i;
    for (let c = s.charCodeAt(i); c >= 0x30 && c <= 0x39; c = s.charCodeAt(++i)) {
      num = num * 10 + (c - 0x30);
      if (num > 0xffffffff) return null;
    }
    if (i === start) return null;
    if (i === n) {
      if (total !== 0) return null;
      total = num;
      break;
    }
    const unit = TTL_UNIT[s.charCodeAt(i) | 0x20];
    if (unit === undefined) return null;
    total += num * unit;
    i++;
  }
  if (total > 0xffffffff) return null;
  return total > 0x7fffffff ? 0 : total;
}

const KNOWN_TYPES = new Set([
  'A', 'AAAA', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'SPF', 'PTR', 'SRV', 'CAA', 'DS', 'DNSKEY', 'TLSA', 'NAPTR', 'SSHFP',
  'HINFO', 'RP', 'LOC', 'DNAME', 'HTTPS', 'SVCB', 'AFSDB', 'CERT', 'KEY', 'SIG', 'NSEC', 'RRSIG', 'URI', 'OPENPGPKEY',
  'SMIMEA', 'APL', 'CDS', 'CDNSKEY', 'NULL', 'WKS', 'MB', 'MG', 'MR', 'MINFO', 'X25', 'ISDN', 'RT', 'NSAP', 'PX', 'GPOS', 'KX', 'IPSECKEY', 'DHCID', 'NSEC3', 'NSEC3PARAM', 'HIP', 'ZONEMD',
]);

/**
 * Type numbers of the mnemonics above (RFC 3597 lets a zone name any type as TYPE<n>: BIND reads `TYPE16 "v=spf1 …"` as
 * the TXT it is, so must we — else the SPF fix would not see that record and add a second one).
 */
const TYPE_NAMES: Record<number, string> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 7: 'MB', 8: 'MG', 9: 'MR', 10: 'NULL', 11: 'WKS', 12: 'PTR', 13: 'HINFO', 14: 'MINFO',
  15: 'MX', 16: 'TXT', 17: 'RP', 18: 'AFSDB', 19: 'X25', 20: 'ISDN', 21: 'RT', 22: 'NSAP', 24: 'SIG', 25: 'KEY', 26: 'PX',
  27: 'GPOS', 28: 'AAAA', 29: 'LOC', 33: 'SRV', 35: 'NAPTR', 36: 'KX', 37: 'CERT', 39: 'DNAME', 42: 'APL', 43: 'DS', 44: 'SSHFP',
  45: 'IPSECKEY', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 49: 'DHCID', 50: 'NSEC3', 51: 'NSEC3PARAM', 52: 'TLSA', 53: 'SMIMEA',
  55: 'HIP', 59: 'CDS', 60: 'CDNSKEY', 61: 'OPENPGPKEY', 63: 'ZONEMD', 64: 'SVCB', 65: 'HTTPS', 99: 'SPF', 256: 'URI', 257: 'CAA',
};

/**
 * The other type numbers BIND 9.18 reads as types of its own and checks the data of (MD, MF, NSAP-PTR, NXT, EID, NIMLOC,
 * ATMA, A6, SINK, OPT, NINFO, RKEY, TALINK, CSYNC, DSYNC, HHIT, BRID, NID, L32, L64, LP, EUI48, EUI64, AVC, DOA, AMTRELAY,
 * RESINFO, WALLET, TA, DLV; found by asking named-checkzone for each number). mailhealth has no reader of their data,
 * so a line of one is not read; 0 and 128–255 are meta and question types no zone may hold.
 */
const BIND_ONLY_TYPES = new Set([3, 4, 23, 30, 31, 32, 34, 38, 40, 41, 56, 57, 58, 62, 66, 67, 68, 104, 105, 106, 107, 108, 109, 258, 259, 260, 261, 262, 32768, 32769]);

/** The number of a type written TYPE<n> (upper case), as BIND reads one: one to five digits, n ≤ 65535; else null. */
function typeNumber(u: string): number | null {
  if (!u.startsWith('TYPE') || !/^TYPE[0-9]{1,5}$/.test(u)) return null;
  const n = Number(u.slice(4));
  return n <= 0xffff ? n : null;
}

/** The mnemonic of a type given as TYPE<n> when there is one (`TYPE16` → `TXT`), else `TYPE<n>` (no leading zeros); any other type as given. */
function canonicalType(u: string): string {
  const n = typeNumber(u);
  return n === null ? u : (TYPE_NAMES[n] ?? `TYPE${n}`);
}

/** Why BIND would not take a type written TYPE<n> that has no mnemonic here (a type only BIND reads, a meta type), else null. */
function typeProblem(type: string): string | null {
  const n = typeNumber(type);
  if (n === null) return null;
  if (n === 0 || (n >= 128 && n <= 255)) return `${type} is a meta or question type, which no zone holds (BIND refuses to load the zone: invalid use of a meta type)`;
  if (BIND_ONLY_TYPES.has(n)) return `${type} is a record type BIND reads and checks the data of, which mailhealth does not read: it cannot tell whether BIND loads this line`;
  return null;
}

/** Is `u` (already upper case) a record type? */
function isUpperType(u: string): boolean {
  return KNOWN_TYPES.has(u) || typeNumber(u) !== null;
}

/**
 * Types some DNS hosts' editors offer (an address record that follows another name's, at the apex too) which are no
 * DNS record types: BIND refuses to load a zone file holding one ("unknown RR type"), and nothing serves it.
 */
const PSEUDO_TYPES = new Set(['ALIAS', 'ANAME']);

/** The error for a line whose type cannot be read (`given`: the token where the type should be, upper case). */
function typeError(l: Logical, toks: string[], given: string | undefined): string {
  if (given !== undefined && PSEUDO_TYPES.has(given)) {
    return `line ${l.startLine + 1}: ${given} is no DNS record type (BIND refuses to load the zone: unknown RR type '${given}'): a DNS host's editor may offer it, but a zone file cannot hold it — write the addresses it stands for as A and AAAA records (or, below the apex, a CNAME)`;
  }
  return `line ${l.startLine + 1}: cannot find a record type in ${JSON.stringify(toks.slice(0, 4).join(' '))}`;
}

// ------------------------------------------------------------------------------------------------ RFC 3597's generic form

/**
 * The octets of data in RFC 3597's generic form (`\# <length> <hex>…`: `words` from the `\#` on), as BIND reads it: the
 * length a bare number of 0 to 65535, then bare hexadecimal words (split anywhere) holding exactly that many octets.
 * Else why not (BIND refuses the zone: "unexpected end of input", "extra input text", "bad hex encoding"…).
 */
function genericOctets(words: readonly string[], quoted: readonly boolean[]): Buffer | string {
  const len = words[1];
  if (len === undefined) return 'no length after the \\#';
  if (quoted[1] || !/^[0-9]+$/.test(len) || Number(len) > 0xffff) return `the length ${JSON.stringify(len)} is not a number of 0 to 65535`;
  for (let k = 2; k < words.length; k++) if (quoted[k]) return `the data ${short(words[k])} is quoted (the octets are written in hexadecimal, bare)`;
  const hex = words.slice(2).join('');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) return `the data ${short(hex)} is not hexadecimal octets (two digits each)`;
  const n = hex.length / 2;
  if (n !== Number(len)) return `the data holds ${n} octet${n === 1 ? '' : 's'}, where the length says ${Number(len)}`;
  return Buffer.from(hex, 'hex');
}

/** Octets as text the way the zone file is read: UTF-8, any other octet as U+DC00 + octet (core/octets.ts). */
function octetText(b: Buffer): string {
  return isUtf8(b) ? b.toString('utf8') : decodeOctets(b);
}

/**
 * The character-strings of TXT data in the generic form: each a length octet and that many octets, at least one. Null
 * when they do not fill the data exactly (BIND refuses such a line).
 */
function genericTxt(bytes: Buffer): string[] | null {
  if (bytes.length === 0) return null;
  const out: string[] = [];
  for (let k = 0; k < bytes.length; ) {
    const n = bytes[k];
    if (k + 1 + n > bytes.length) return null;
    out.push(octetText(bytes.subarray(k + 1, k + 1 + n)));
    k += 1 + n;
  }
  return out;
}

/** Data decoded from the generic form into the tokens of the type's own form, as the lexer gives them. */
interface Decoded {
  texts: string[];
  quoted: boolean[];
}

/** Octets of a label as presentation text: the characters that mean something in a zone file escaped (`\.`: NAME_SPECIALS), other octets outside printable ASCII as \DDD. */
function labelText(b: Buffer): string {
  let out = '';
  for (const c of b) {
    if (c <= 0x20 || c >= 0x7f) out += '\\' + String(c).padStart(3, '0');
    else if (NAME_SPECIALS.has(c)) out += '\\' + String.fromCharCode(c);
    else out += String.fromCharCode(c);
  }
  return out;
}

/**
 * The domain name in wire form at `at` (RFC 1035 §3.1: labels, then the root), as an absolute name in presentation form
 * (`mail.example.com.`, the root `.`), with the offset after it; else why it is none. A compression pointer is refused:
 * the generic form holds a record's data on its own, and BIND refuses it there ("disallowed").
 */
function wireName(b: Buffer, at: number): { text: string; end: number } | string {
  let text = '';
  let total = 1;
  for (let k = at; ; ) {
    if (k >= b.length) return 'a name runs past the end of the data';
    const n = b[k];
    if (n === 0) return { text: text || '.', end: k + 1 };
    if (n >= 0xc0) return 'a name is compressed (a pointer), which data on its own cannot hold';
    if (n > 63) return 'a name has a label of an unknown kind';
    if (k + 1 + n > b.length) return 'a name runs past the end of the data';
    total += 1 + n;
    if (total > 255) return 'a name is longer than 255 octets';
    text += labelText(b.subarray(k + 1, k + 1 + n)) + '.';
    k += 1 + n;
  }
}

/**
 * Reads fields off wire-format data in order: `num(n)` a number of n octets, `name()` a domain name, `bytes(n)` n
 * octets, `rest()` / `blob()` what is left; each returns null (and keeps the reason in `why`) once the data does not
 * hold it. `end()`: the reason, or one when data is left over (BIND: "extra input data").
 */
class Wire {
  at = 0;
  why: string | null = null;
  constructor(readonly b: Buffer) {}
  num(n: 1 | 2): string | null {
    if (this.why !== null) return null;
    if (this.at + n > this.b.length) {
      this.why = 'the data ends before its last field';
      return null;
    }
    const v = n === 1 ? this.b[this.at] : this.b.readUInt16BE(this.at);
    this.at += n;
    return String(v);
  }
  name(): string | null {
    if (this.why !== null) return null;
    const r = wireName(this.b, this.at);
    if (typeof r === 'string') {
      this.why = r;
      return null;
    }
    this.at = r.end;
    return r.text;
  }
  bytes(n: number): Buffer | null {
    if (this.why !== null) return null;
    if (this.at + n > this.b.length) {
      this.why = 'the data ends before its last field';
      return null;
    }
    this.at += n;
    return this.b.subarray(this.at - n, this.at);
  }
  rest(): Buffer {
    const r = this.b.subarray(this.at);
    this.at = this.b.length;
    return r;
  }
  /** What is left, at least one octet, in hexadecimal (upper case, as BIND writes it). */
  blob(): string | null {
    if (this.why === null && this.at >= this.b.length) this.why = 'the data ends before its last field';
    return this.why === null ? this.rest().toString('hex').toUpperCase() : null;
  }
  end(): string | null {
    return this.why ?? (this.at < this.b.length ? `${this.b.length - this.at} octet${this.b.length - this.at === 1 ? '' : 's'} after its last field` : null);
  }
}

/** Bare tokens (null: a field the data did not hold; the Wire keeps why). */
const bare = (...texts: (string | null)[]): Decoded => ({ texts: texts.map((t) => t ?? ''), quoted: texts.map(() => false) });

/**
 * Decoders of the generic form for the types the audit reads or a mail zone carries (RFC 1035, 1183, 2163, 2230, 2782,
 * 6698, 8659): the data becomes the type's own tokens, then read and checked as if written so. TXT and SPF are read
 * apart (their strings).
 */
const GENERIC_DECODERS: Record<string, (w: Wire) => Decoded> = {
  A: (w) => {
    const b = w.bytes(4);
    return bare(b && [...b].join('.'));
  },
  AAAA: (w) => {
    const b = w.bytes(16);
    // (In the one spelling of core/ip.ts, the DNS client's: ipaddr.js spelled an IPv4-mapped address `::ffff:a00:1`,
    // which the live answer `::ffff:10.0.0.1` did not equal.)
    return bare(b && ipv6Text(b));
  },
  NS: (w) => bare(w.name()),
  CNAME: (w) => bare(w.name()),
  PTR: (w) => bare(w.name()),
  DNAME: (w) => bare(w.name()),
  MB: (w) => bare(w.name()),
  MG: (w) => bare(w.name()),
  MR: (w) => bare(w.name()),
  MX: (w) => bare(w.num(2), w.name()),
  AFSDB: (w) => bare(w.num(2), w.name()),
  RT: (w) => bare(w.num(2), w.name()),
  KX: (w) => bare(w.num(2), w.name()),
  SRV: (w) => bare(w.num(2), w.num(2), w.num(2), w.name()),
  CAA: (w) => {
    const flags = w.num(1);
    const n = w.num(1);
    if (n === '0') w.why ??= 'the property tag is empty';
    const tag = n === null ? null : w.bytes(Number(n));
    return { texts: [flags ?? '', tag ? octetText(tag) : '', octetText(w.rest())], quoted: [false, false, true] };
  },
  TLSA: (w) => bare(w.num(1), w.num(1), w.num(1), w.blob()),
  SMIMEA: (w) => bare(w.num(1), w.num(1), w.num(1), w.blob()),
};

/**
 * The tokens of data given in the generic form (`octets`) for a type with a decoder, or why they are no such data;
 * null for a type without one.
 */
function decodeGeneric(type: string, octets: Buffer): Decoded | string | null {
  const decode = GENERIC_DECODERS[type];
  if (!decode) return null;
  const w = new Wire(octets);
  const d = decode(w);
  return w.end() ?? d;
}

/** Parse a zone file. `origin` is the zone's domain (used until a $ORIGIN line changes it). */
export function parseZoneFile(text: string, origin: string): ParsedZone {
  const zoneName = origin.toLowerCase().replace(/\.$/, '');
  let curOrigin = zoneName;
  let soa: ParsedRecord | null = null;
  let defaultTtl = 3600;
  let ttlSet = false;
  let lastOwner = curOrigin;
  // The owner as written, and why, when it cannot be read (nameProblem): the lines after it that leave the owner out
  // have that owner too, and are not read either.
  let lastOwnerBad: { name: string; why: string } | null = null;
  let lastTtl: number | null = null;
  const records: ParsedRecord[] = [];
  const errors: string[] = [];
  let signed: string | undefined;
  if (text.charCodeAt(0) === 0xfeff) {
    // A UTF-8 byte order mark (Windows Notepad saves one): BIND and NSD read it as part of the first line and refuse the
    // whole zone. The records are read as meant (the mark is only in line 1, so line numbers stay), but the zone is not
    // written until the file is saved without it: a write would leave a file the name server still does not load.
    errors.push('line 1: the file starts with a UTF-8 byte order mark (BOM, the bytes EF BB BF some editors save), which BIND and NSD refuse to load the zone for; save the file as UTF-8 without a BOM');
    text = text.slice(1);
  }

  for (const l of lex(text, errors)) {
    let toks = l.texts;
    let quoted = l.quoted;
    const first = toks[0];
    if (!quoted[0] && first.charCodeAt(0) === 0x24 /* $ */) {
      const dir = first.toUpperCase();
      if (dir === '$ORIGIN' && toks[1]) {
        const why = nameProblem(toks[1], quoted[1], curOrigin);
        if (why) errors.push(nameError(l, { name: toks[1], why }));
        else curOrigin = absName(toks[1], curOrigin);
      }
      else if (dir === '$TTL' && toks[1]) {
        const t = parseTtl(toks[1]);
        if (t === null) errors.push(`line ${l.startLine + 1}: bad $TTL ${toks[1]}`);
        else {
          defaultTtl = t;
          ttlSet = true;
        }
      } else if (dir === '$INCLUDE') {
        // The records of another file: not read (the audit does not see them), and a write could not keep in step with them.
        errors.push(`line ${l.startLine + 1}: ${first} is not supported: mailhealth neither reads nor writes the records it brings in from ${toks[1] ? JSON.stringify(toks[1]) : 'another file'}`);
      } else if (dir === '$GENERATE') {
        // BIND's extension that makes records from a pattern: not expanded, so the audit does not see those records.
        errors.push(`line ${l.startLine + 1}: ${first} is not supported: mailhealth does not expand the records it makes`);
      } else errors.push(`line ${l.startLine + 1}: unknown directive ${first}`);
      continue;
    }
    let i = 0;
    let owner = lastOwner;
    let ownerBad: { name: string; why: string } | null = lastOwnerBad;
    if (!l.blankOwner) {
      // A quoted owner is read as BIND reads it: the name written bare (`"www" A …` loads as www).
      const name = quoted[0] ? quotedName(l.raw?.[0] ?? first) : first;
      owner = absName(name, curOrigin);
      const why = nameProblem(name, false, curOrigin);
      ownerBad = why ? { name: first, why } : null;
      i = 1;
    }
    let ttl: number | null = null;
    // BIND's order (master.c): [class] [ttl] [class], then the type; the second class only when none came first or it
    // was class 0, which is none to BIND (`CLASS0 IN A …` loads). Any other second class (`a IN IN A`, `a CLASS1 IN A`)
    // is then read as the type, and BIND refuses the zone ("unknown RR type"); so it is here ("cannot find a record type").
    let cls = classToken(toks, quoted, i);
    if (cls !== null) i++;
    const v = i < toks.length && !quoted[i] ? parseTtl(toks[i]) : null;
    if (v !== null) {
      ttl = v;
      i++;
    }
    if (!cls?.n) {
      const second = classToken(toks, quoted, i);
      if (second !== null) {
        cls = second;
        i++;
      }
    }
    const given = i < toks.length && !quoted[i] ? toks[i].toUpperCase() : undefined;
    if (!given || !isUpperType(given)) {
      errors.push(typeError(l, toks, given));
      continue;
    }
    let type = canonicalType(given);
    i++;
    if (!signed && (type === 'RRSIG' || type === 'NSEC' || type === 'NSEC3')) signed = `line ${l.startLine + 1}: ${type}`;
    const recTtl: number = ttl ?? (ttlSet ? defaultTtl : (lastTtl ?? defaultTtl));
    // A type written TYPE<n> that BIND reads some other way; data in RFC 3597's generic form (`MX \# 18 000a…`) read as
    // BIND reads it: decoded into the type's own tokens, or not read (readGeneric).
    let formProblem = typeProblem(type);
    if (formProblem === null && ((toks[i] === '\\#' && !quoted[i]) || typeNumber(type) !== null)) {
      const g = readGeneric(type, toks.slice(i), quoted.slice(i));
      if (typeof g === 'string') formProblem = g;
      else if (g !== null) {
        toks = [...toks.slice(0, i), ...g.texts];
        quoted = [...quoted.slice(0, i), ...g.quoted];
      }
    }
    if ((type === 'SVCB' || type === 'HTTPS') && quoted[i + 1]) {
      // BIND reads a quoted SVCB or HTTPS target as the name written bare, as a quoted owner.
      toks = [...toks];
      quoted = [...quoted];
      toks[i + 1] = quotedName(l.raw?.[i + 1] ?? toks[i + 1]);
      quoted[i + 1] = false;
    }
    // A name that cannot be read, as the owner or in the data (the name fields parseZoneFile makes absolute below); a
    // record of another class than the zone's, at a name BIND does not take it at (placeProblem), or whose data BIND
    // would not take (dataProblem, fieldProblem).
    const badName = ownerBad ?? badNameField(type, toks, quoted, i, curOrigin);
    const badData = badName === null && !l.badEscape ? (classProblem(cls) ?? formProblem ?? placeProblem(type, owner, zoneName) ?? dataProblem(type, toks, i) ?? fieldProblem(type, toks, quoted, i)) : null;
    if (l.badEscape || badName !== null || badData !== null) {
      // Not read, but its owner and TTL still carry over to the lines after it that leave them out.
      errors.push(badName !== null ? nameError(l, badName) : badData !== null ? `line ${l.startLine + 1}: ${badData}` : badEscapeError(l));
      lastOwner = owner;
      lastOwnerBad = ownerBad;
      lastTtl = recTtl;
      continue;
    }
    const rec: ParsedRecord = {
      name: owner,
      ttl: recTtl,
      class: 'IN',
      type,
      rdata: toks.slice(i),
      startLine: l.startLine,
      endLine: l.endLine,
    };
    decodeTextFields(rec, quoted, i);
    switch (type) {
      case 'TXT':
      case 'SPF': {
        if (!quoted[i] && toks[i] === '\\#' && (type === 'SPF' || (!quoted[i + 1] && /^[0-9]+$/.test(toks[i + 1] ?? '') && Number(toks[i + 1]) <= 0xffffffff))) {
          // RFC 3597's generic form (`TXT \# 21 14763d…`, as some tools export): BIND reads the strings it encodes.
          // (For TXT only when a number follows, one its lexer reads as a number, below 2^32: else `\#` is the string
          // "#", and BIND reads `TXT \# abc` as "#" "abc".)
          const octets = genericOctets(toks.slice(i), quoted.slice(i));
          const g = typeof octets === 'string' ? null : genericTxt(octets);
          if (!g) {
            const why = typeof octets === 'string' ? octets : 'its octets are not character-strings (each a length octet and that many octets)';
            errors.push(`line ${l.startLine + 1}: ${type} rdata in the generic form \\# <length> <hex> that is not well formed: ${why} (BIND refuses to load the zone)`);
            lastOwner = owner;
            lastOwnerBad = ownerBad;
            lastTtl = recTtl;
            continue;
          }
          rec.txt = g;
          break;
        }
        // Unquoted words are character-strings too: their escapes (\DDD, \X) mean what they mean in quotes.
        const strings = toks.slice(i);
        for (let k = 0; k < strings.length; k++) {
          if (quoted[i + k] || !strings[k].includes('\\')) continue;
          const d = decodeEscapes(strings[k]);
          if (d === null) l.badEscape = true;
          else strings[k] = d;
        }
        // (A string over 255 octets — a DKIM key pasted as one string — is read as written, though BIND refuses the
        // zone for it: the audit reports it, `*.string-too-long`, and the SPF, DKIM and DMARC fixes rewrite such a
        // record as strings of at most 255 octets, which makes the zone loadable again.)
        if (l.badEscape) {
          errors.push(badEscapeError(l));
          lastOwner = owner;
          lastOwnerBad = ownerBad;
          lastTtl = recTtl;
          continue;
        }
        rec.txt = strings;
        break;
      }
      // An address in the one spelling of core/ip.ts (the DNS client's): as written (`::FFFF:A00:1`, `2001:0DB8::1`),
      // it did not equal the same address in a live answer, and the audit took the two for different addresses.
      case 'AAAA':
        rec.rdata = [canonicalIpv6(rec.rdata[0]) ?? rec.rdata[0]];
        break;
      // Relative names inside rdata of name-bearing types become absolute.
      case 'NS':
      case 'CNAME':
      case 'PTR':
      case 'DNAME':
        if (rec.rdata[0]) rec.rdata = [absName(rec.rdata[0], curOrigin)];
        break;
      // (Their root, the "no service" target, is `.`: also as `@` under `$ORIGIN .`.)
      case 'MX':
        if (rec.rdata[1]) rec.rdata = [rec.rdata[0], rec.rdata[1] === '.' ? '.' : absName(rec.rdata[1], curOrigin) || '.'];
        break;
      case 'SRV':
        if (rec.rdata[3]) rec.rdata = [...rec.rdata.slice(0, 3), rec.rdata[3] === '.' ? '.' : absName(rec.rdata[3], curOrigin) || '.'];
        break;
      // (A root written `.` stays `.`, as an MX's: an SVCB's `.` is the owner itself, NAPTR's and RP's `.` no name.)
      case 'MB':
      case 'MG':
      case 'MR':
      case 'AFSDB':
      case 'RT':
      case 'KX':
      case 'RP':
      case 'MINFO':
      case 'PX':
      case 'NAPTR':
      case 'SVCB':
      case 'HTTPS':
        if (type === 'SVCB' || type === 'HTTPS') rec.rdata = [...rec.rdata.slice(0, 2), ...svcParamTokens(toks.slice(i + 2), quoted.slice(i + 2))];
        for (const k of nameFields(type, rec.rdata.length)) rec.rdata[k] = rec.rdata[k] === '.' ? '.' : absName(rec.rdata[k], curOrigin) || '.';
        break;
      case 'SOA':
        // (RFC 1035 would default the TTL to the SOA minimum when there is no $TTL; BIND uses the SOA's own TTL,
        // as here: close enough for our purpose.)
        if (rec.rdata.length >= 2) rec.rdata = [absName(rec.rdata[0], curOrigin), absName(rec.rdata[1], curOrigin), ...rec.rdata.slice(2)];
        {
          // One SOA, at the apex (BIND refuses the zone for another: "SOA record not at top of zone", "multiple RRs of
          // singleton type"; the same one twice is one). The serial a write bumps is the first SOA's: read from
          // another, a fix bumped the wrong line.
          const why = owner !== zoneName ? `the SOA record of ${owner} is not at the top of the zone ${zoneName}` : soa !== null && soa.rdata.join(' ') !== rec.rdata.join(' ') ? `a second SOA record (the first is on line ${soa.startLine + 1}), where a zone has one` : null;
          if (why !== null) {
            errors.push(`line ${l.startLine + 1}: ${why} (BIND refuses to load the zone)`);
            lastOwner = owner;
            lastOwnerBad = ownerBad;
            lastTtl = recTtl;
            continue;
          }
          soa ??= rec;
        }
        break;
    }
    records.push(rec);
    lastOwner = owner;
    lastOwnerBad = ownerBad;
    lastTtl = rec.ttl;
  }
  const cnameClashes = aliasClashes(records);
  return { origin: zoneName, records, errors, warnings: zoneWarnings(records, zoneName, cnameClashes), cnameClashes, ...(signed ? { signed } : {}) };
}

const NONE: readonly number[] = [];
const FIRST: readonly number[] = [0];
const SECOND: readonly number[] = [1];
const FOURTH: readonly number[] = [3];
const FIRST_TWO: readonly number[] = [0, 1];

const SECOND_THIRD: readonly number[] = [1, 2];
const SIXTH: readonly number[] = [5];

/**
 * The positions of the names in a record's data of `n` tokens: those parseZoneFile makes absolute (and checks), and
 * renderRecordLine writes absolute. Every type whose data holds a name at a fixed place (RFC 1035, 1183, 2163, 2230,
 * 3403, 9460; as BIND reads them): one left relative came back relative to the origin where its line was read (`1 afs`
 * for `AFSDB 1 afs`), a value that names no host, and a line rendered from it then meant a name under the origin where
 * it landed (and `1 afs.example.net.` lost its final dot: written back, afs.example.net.<origin>). The cPanel
 * panel's reader takes its positions from here too (cpanel/zonefile.ts), so a record reads the same from either panel.
 */
export function nameFields(type: string, n: number): readonly number[] {
  switch (type) {
    case 'NS':
    case 'CNAME':
    case 'PTR':
    case 'DNAME':
    case 'MB':
    case 'MG':
    case 'MR':
      return n >= 1 ? FIRST : NONE;
    case 'MX':
    case 'AFSDB':
    case 'RT':
    case 'KX':
    case 'SVCB':
    case 'HTTPS':
      return n >= 2 ? SECOND : NONE;
    case 'SRV':
      return n >= 4 ? FOURTH : NONE;
    case 'SOA':
    case 'RP':
    case 'MINFO':
      return n >= 2 ? FIRST_TWO : NONE;
    case 'PX':
      return n >= 3 ? SECOND_THIRD : NONE;
    case 'NAPTR':
      return n >= 6 ? SIXTH : NONE;
    default:
      return NONE;
  }
}

/**
 * The number of tokens of the data of each type that has a fixed number of fields, each one token (as BIND reads them:
 * lib/dns/rdata/). Data with fewer (`@ MX 10`, `www IN A`) or more (`@ MX 10 mx.example.com. junk`) is a
 * line BIND refuses the zone for ("unexpected end of input", "extra input text"): read as a record, the audit saw an
 * MX with no host, or one that the name server does not serve (it serves the zone's last loadable version, or none
 * after a restart), and a fix was written into a zone the name server would not load.
 */
const FIELDS: Record<string, number> = {
  A: 1, AAAA: 1, NS: 1, CNAME: 1, PTR: 1, DNAME: 1, MB: 1, MG: 1, MR: 1,
  MX: 2, AFSDB: 2, RT: 2, KX: 2, RP: 2, MINFO: 2, HINFO: 2,
  PX: 3, CAA: 3, URI: 3, SRV: 4, NAPTR: 6, SOA: 7,
};

/**
 * Why BIND would refuse the data of a record of `type` (toks[i..]), else null: data with the wrong number of fields for
 * a type that has a fixed number (FIELDS), or none at all (every type has data but APL, whose list may be empty; a type
 * in RFC 3597's generic form has at least its `\#`).
 */
function dataProblem(type: string, toks: string[], i: number): string | null {
  const n = toks.length - i;
  const want = FIELDS[type];
  if (n === 0 && type !== 'APL') return `the ${type} record has no data (BIND refuses to load the zone: unexpected end of input)`;
  if (want === undefined || n === want) return null;
  if (n < want) return `the ${type} record's data ${short(toks.slice(i).join(' '))} has ${fieldCount(n)}, where ${type} has ${want} (BIND refuses to load the zone: unexpected end of input)`;
  return `the ${type} record's data has ${fieldCount(n)}, where ${type} has ${want}: ${short(toks.slice(i + want).join(' '))} after it is extra (BIND refuses to load the zone: extra input text)`;
}

const fieldCount = (k: number) => `${k} field${k === 1 ? '' : 's'}`;

/** A token list for a message: quoted, cut short. */
function short(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s);
}

/**
 * Why a record of class `cls` (null: none given, the zone's) cannot be read, else null. The files panel's zones are
 * class IN, and BIND refuses to load a zone that holds a record of another class ("class 'CH' != zone class 'IN'";
 * CS it does not know at all). Read as an IN record, a `CH TXT "v=spf1 …"` was an SPF record to the audit that no
 * resolver is ever given, and a record rendered from it was written back as IN.
 */
function classProblem(cls: { written: string; n: number } | null): string | null {
  if (cls === null || cls.n <= 1) return null;
  const name = className(cls.n);
  return `class ${cls.written}${name === cls.written ? '' : ` (${name})`}: a zone of class IN holds IN records only (BIND refuses to load the zone: class '${name}' != zone class 'IN')`;
}

/**
 * Why BIND refuses a record of `type` at the name `owner` of the zone `zone`, else null: an NS record at a wildcard
 * (`* NS …`: "invalid NS owner name (wildcard)"), a DS record at the top of the zone (it belongs in the parent zone:
 * "DS record at top of zone" — a DS pasted from the registrar's page at `@`). Both stop BIND loading the zone.
 */
function placeProblem(type: string, owner: string, zone: string): string | null {
  // Only an NS or a DS record has a place BIND refuses (every record is asked: the type first). Out of the zone, BIND
  // ignores the record before it looks at it (zoneWarnings).
  if ((type !== 'NS' && type !== 'DS') || (owner !== zone && !owner.endsWith(`.${zone}`))) return null;
  if (type === 'NS' && (owner === '*' || owner.startsWith('*.'))) return `an NS record at the wildcard name ${owner}, which no delegation can have (BIND refuses to load the zone: invalid NS owner name (wildcard))`;
  if (type === 'DS' && owner === zone) return `a DS record at the top of the zone ${zone}: it belongs in the parent zone, where the registrar publishes it (BIND refuses to load the zone: DS record at top of zone)`;
  return null;
}

/** The octets of text as read (UTF-8, U+DC00 + octet for any other octet: core/octets.ts). */
function octetLength(t: string): number {
  return /^[\x00-\x7f]*$/.test(t) ? t.length : octetsOf(t).length;
}

/**
 * Data in RFC 3597's generic form (`words`: the record's data) for a type other than TXT and SPF (read with their
 * strings), as BIND reads it: the type's own tokens decoded from it (GENERIC_DECODERS), to be read and checked as if
 * written so; null when it is kept as written (a type without a name, TYPE<n>, holds nothing mailhealth reads); or why
 * the line cannot be read — not well formed, no data of its type, or a type mailhealth has no decoder for (kept as
 * TYPE<n>, a `MX \# …` was no MX to the audit while the name server served one). Data not in the generic form: null,
 * but for a type without a name, which has no other form.
 */
function readGeneric(type: string, words: string[], quoted: boolean[]): Decoded | string | null {
  const unnamed = typeNumber(type) !== null;
  if (words[0] !== '\\#' || quoted[0]) {
    return unnamed && words.length ? `the ${type} record's data ${short(words.join(' '))} is not in RFC 3597's generic form \\# <length> <hex>, the only form a type without a name has (BIND refuses to load the zone: unknown class/type)` : null;
  }
  if (type === 'TXT' || type === 'SPF') return null;
  const octets = genericOctets(words, quoted);
  if (typeof octets === 'string') return `the ${type} record's data in RFC 3597's generic form \\# <length> <hex> is not well formed: ${octets} (BIND refuses to load the zone)`;
  if (unnamed) return null;
  const d = decodeGeneric(type, octets);
  if (d === null) {
    return `the ${type} record is written in RFC 3597's generic form (\\# …), which mailhealth reads for ${Object.keys(GENERIC_DECODERS).join(', ')}, TXT and SPF only: write it in the form of its type (named-checkzone -D prints the zone so)`;
  }
  if (typeof d === 'string') return `the ${type} record's data in RFC 3597's generic form is no ${type} data: ${d} (BIND refuses to load the zone)`;
  return d;
}

/** What a field of a record's data must be (as BIND reads it: lib/dns/rdata/). */
type FieldKind = 'u8' | 'u16' | 'u32' | 'period' | 'ipv4' | 'ipv6' | 'string' | 'regexp' | 'tag' | 'quoted' | 'secalg' | 'secproto' | 'digest' | 'keyflags' | 'escaped' | 'any';

/**
 * The leading fields of the data of the types checked field by field: the types the audit reads and those a mail zone
 * carries (DANE, CAA, SRV, NAPTR, URI, the DNSSEC keys of a zone signed elsewhere). Names are checked by nameProblem.
 */
const LAYOUT: Record<string, readonly FieldKind[]> = {
  A: ['ipv4'],
  AAAA: ['ipv6'],
  MX: ['u16', 'any'],
  AFSDB: ['u16', 'any'],
  RT: ['u16', 'any'],
  KX: ['u16', 'any'],
  PX: ['u16', 'any', 'any'],
  SRV: ['u16', 'u16', 'u16', 'any'],
  SOA: ['any', 'any', 'u32', 'period', 'period', 'period', 'period'],
  HINFO: ['string', 'string'],
  CAA: ['u8', 'tag', 'escaped'],
  NAPTR: ['u16', 'u16', 'string', 'string', 'regexp', 'any'],
  URI: ['u16', 'u16', 'quoted'],
  TLSA: ['u8', 'u8', 'u8'],
  SMIMEA: ['u8', 'u8', 'u8'],
  SSHFP: ['u8', 'u8'],
  DS: ['u16', 'secalg', 'digest'],
  CDS: ['u16', 'secalg', 'digest'],
  DNSKEY: ['keyflags', 'secproto', 'secalg'],
  CDNSKEY: ['keyflags', 'secproto', 'secalg'],
  SVCB: ['u16', 'any'],
  HTTPS: ['u16', 'any'],
};

/** The kinds of field that hold text (a character-string, a CAA value, a URI target): quoted or bare, the same text. */
const TEXT_KINDS: ReadonlySet<FieldKind> = new Set(['string', 'regexp', 'escaped', 'quoted']);

/** The positions of the text fields (TEXT_KINDS) of each type that has any: HINFO, CAA, NAPTR, URI (from LAYOUT). */
const TEXT_FIELDS: ReadonlyMap<string, readonly number[]> = new Map(
  Object.entries(LAYOUT)
    .map(([type, layout]) => [type, layout.flatMap((kind, k) => (TEXT_KINDS.has(kind) ? [k] : []))] as const)
    .filter(([, fields]) => fields.length > 0),
);

/** Is field `k` of a record of `type` a text field (TEXT_FIELDS)? */
function isTextField(type: string, k: number): boolean {
  return TEXT_FIELDS.get(type)?.includes(k) === true;
}

/**
 * The text fields of a record's data (TEXT_KINDS: HINFO's, NAPTR's strings, a CAA value) written bare, as BIND reads
 * them: escapes decoded, as the lexer decodes a quoted one (`issue sectigo.com\;x` is the value `sectigo.com;x`; kept
 * as written, the audit read the backslash as part of it). `quoted[i]` is the data's first token's. (Their escapes are
 * checked already: kindProblem.)
 */
function decodeTextFields(rec: ParsedRecord, quoted: readonly boolean[], i: number): void {
  for (const k of TEXT_FIELDS.get(rec.type) ?? NONE) {
    const t = rec.rdata[k];
    if (!quoted[i + k] && t.includes('\\')) rec.rdata[k] = decodeEscapes(t) ?? t;
  }
}

/** The types whose data ends in a hexadecimal or base64 blob (the words after LAYOUT's fields, at least one, joined). */
const BLOB: Record<string, 'hex' | 'base64'> = { TLSA: 'hex', SMIMEA: 'hex', SSHFP: 'hex', DS: 'hex', CDS: 'hex', DNSKEY: 'base64', CDNSKEY: 'base64' };

/** The DNSSEC algorithm mnemonics BIND 9.18 reads (dns_secalg_fromtext), upper case. */
const SECALGS = new Set(['RSAMD5', 'DH', 'DSA', 'RSASHA1', 'NSEC3DSA', 'NSEC3RSASHA1', 'RSASHA256', 'RSASHA512', 'ECCGOST', 'ECDSAP256SHA256', 'ECDSA256', 'ECDSAP384SHA384', 'ECDSA384', 'ED25519', 'ED448', 'INDIRECT', 'PRIVATEDNS', 'PRIVATEOID']);

/** The DNSKEY protocol mnemonics BIND 9.18 reads (dns_secproto_fromtext), upper case. */
const SECPROTOS = new Set(['NONE', 'TLS', 'EMAIL', 'DNSSEC', 'IPSEC', 'ALL']);

/** The DS digest types BIND 9.18 reads by name (dns_dsdigest_fromtext), upper case, with their numbers. */
const DIGESTS: Record<string, number> = { 'SHA-1': 1, SHA1: 1, 'SHA-256': 2, SHA256: 2, GOST: 3, 'SHA-384': 4, SHA384: 4 };

/** The octets a DS digest of a type has, where BIND checks it (SHA-1, SHA-256, SHA-384); an SSHFP fingerprint's likewise. */
const DIGEST_OCTETS: Record<number, number> = { 1: 20, 2: 32, 4: 48 };
const SSHFP_OCTETS: Record<number, number> = { 1: 20, 2: 32 };

/**
 * The DNSKEY flag names BIND 9.18 reads (dns_keyflags_fromtext), upper case: a flags field is a number, or names (each
 * any leading part of one, in any case) joined with `|`.
 */
const KEY_FLAGS = ['NOCONF', 'NOAUTH', 'NOKEY', 'FLAG2', 'EXTEND', 'FLAG4', 'FLAG5', 'USER', 'ZONE', 'HOST', 'NTYP3', 'FLAG8', 'FLAG9', 'FLAG10', 'FLAG11', ...Array.from({ length: 16 }, (_, k) => `SIG${k}`), 'KSK'];

/**
 * Why BIND refuses a DNSKEY's flags field, else null (dns_keyflags_fromtext): a token starting with a digit, of at most 12
 * characters, is a number — decimal, else hexadecimal (`0x101`, `101a`) — of at most 65535 ("out of range"); any other
 * token names flags (KEY_FLAGS; "unknown flag": `REVOKE`, `SEP`, `-1`).
 */
function keyFlagsProblem(t: string): string | null {
  if (/^[0-9]/.test(t) && t.length <= 12) {
    const v = /^[0-9]+$/.test(t) ? Number(t) : /^(?:0[xX])?[0-9a-fA-F]+$/.test(t) ? parseInt(t, 16) : NaN;
    if (v <= 0xffff) return null;
    if (v > 0xffff) return 'is not a number of 0 to 65535 (BIND: out of range)';
  }
  const ok = t.split('|').every((f) => KEY_FLAGS.some((k) => k.startsWith(f.toUpperCase())));
  return ok ? null : 'is no DNSKEY flags (a number of 0 to 65535, or flag names such as ZONE|KSK; BIND: unknown flag)';
}

/** A number token as BIND reads one (decimal digits, any leading zeros) up to `max`, else null. */
function numberUpTo(t: string, max: number): number | null {
  if (!/^[0-9]+$/.test(t)) return null;
  const v = Number(t);
  return v <= max ? v : null;
}

/** Why a field of kind `kind` cannot be `t` (`q`: quoted), else null: the words of the message after the field. */
function kindProblem(kind: FieldKind, t: string, q: boolean): string | null {
  switch (kind) {
    case 'any':
      return null;
    case 'escaped':
      // (A quoted token's escapes the lexer checks.)
      return q || decodeEscapes(t) !== null ? null : 'holds an escape \\DDD above \\255 or with fewer than three digits (bad escape)';
    case 'string':
    case 'regexp': {
      const d = q ? t : decodeEscapes(t);
      if (d === null) return 'holds an escape \\DDD above \\255 or with fewer than three digits (bad escape)';
      const n = octetLength(d);
      if (n > 255) return `is ${n} octets long, where a string holds at most 255`;
      if (kind === 'regexp') {
        const why = naptrRegexpProblem(d);
        if (why) return `is no NAPTR regular expression (RFC 3403 §4.1): ${why}`;
      }
      return null;
    }
    case 'quoted':
      return q ? null : 'is not quoted (BIND reads a URI target only in quotes)';
    case 'tag':
      return !q && /^[A-Za-z0-9]+$/.test(t) ? null : 'is no property tag (letters and digits, bare)';
  }
  if (q) return 'is quoted, where BIND reads it bare (unexpected token)';
  switch (kind) {
    case 'u8':
      return numberUpTo(t, 0xff) === null ? 'is not a number of 0 to 255' : null;
    case 'u16':
      return numberUpTo(t, 0xffff) === null ? 'is not a number of 0 to 65535' : null;
    case 'u32':
      return numberUpTo(t, 0xffffffff) === null ? 'is not a number of 0 to 4294967295' : null;
    case 'period':
      return parseTtl(t) === null ? 'is not a time in seconds (a number, or numbers with units: 1h30m)' : null;
    case 'ipv4':
      return isIPv4(t) ? null : 'is not an IPv4 address (four numbers of 0 to 255, no leading zeros)';
    case 'ipv6':
      return isIPv6(t) && !t.includes('%') ? null : 'is not an IPv6 address';
    // (A number where a name may stand is one of at most 12 characters: BIND reads a longer one as a name, and knows none.)
    case 'secalg':
      return (t.length <= 12 && numberUpTo(t, 0xff) !== null) || SECALGS.has(t.toUpperCase()) ? null : 'is no DNSSEC algorithm (a number of 0 to 255, or a name such as RSASHA256)';
    case 'secproto':
      return (t.length <= 12 && numberUpTo(t, 0xff) !== null) || SECPROTOS.has(t.toUpperCase()) ? null : 'is no DNSKEY protocol (a number of 0 to 255, or a name such as DNSSEC)';
    case 'digest':
      return (t.length <= 12 && numberUpTo(t, 0xff) !== null) || DIGESTS[t.toUpperCase()] !== undefined ? null : 'is no digest type (a number of 0 to 255, or SHA-1, SHA-256, GOST, SHA-384)';
    case 'keyflags':
      return keyFlagsProblem(t);
  }
  return null;
}

/**
 * Why BIND would refuse the data of a record of `type` (toks[i..], the number of fields already right: dataProblem)
 * field by field, else null: a number out of its range or no number, an address that is none, a string over 255
 * octets, a CAA tag that is none, a NAPTR regular expression BIND refuses, a hexadecimal or base64 blob that is none
 * or, for a DS digest or an SSHFP fingerprint of a known kind, of another length. Read as a record, such a line was data
 * the name server does not serve (it refuses the zone).
 */
function fieldProblem(type: string, toks: readonly string[], quoted: readonly boolean[], i: number): string | null {
  if (type === 'LOC') return locProblem(toks, quoted, i);
  const layout = LAYOUT[type];
  if (!layout) return null;
  const blob = BLOB[type];
  const least = layout.length + (blob ? 1 : 0);
  if (toks.length - i < least) return `the ${type} record's data ${short(toks.slice(i).join(' '))} has ${fieldCount(toks.length - i)}, where ${type} has at least ${least} (BIND refuses to load the zone: unexpected end of input)`;
  for (let k = 0; k < layout.length; k++) {
    const why = kindProblem(layout[k], toks[i + k], quoted[i + k]);
    if (why) return `the ${type} record's field ${k + 1}, ${short(toks[i + k])}, ${why} (BIND refuses to load the zone)`;
  }
  if (type === 'SVCB' || type === 'HTTPS') {
    const params = toks.slice(i + 2);
    const why = svcParamsProblem(type, params, quoted.slice(i + 2));
    // (A named key written key<N>: BIND may load it; mailhealth does not read it.)
    return why && `the ${type} record's parameters ${short(params.join(' '))}: ${why}${why.includes(' written by number') ? '' : ' (BIND refuses to load the zone)'}`;
  }
  if (!blob) return null;
  const from = i + layout.length;
  for (let k = from; k < toks.length; k++) if (quoted[k]) return `the ${type} record's data ${short(toks[k])} is quoted, where BIND reads it bare (unexpected token)`;
  const text = toks.slice(from).join('');
  if (blob === 'base64') {
    return isBase64(text) ? null : `the ${type} record's key ${short(text)} is not base64 (BIND refuses to load the zone: bad base64 encoding)`;
  }
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(text)) return `the ${type} record's data ${short(text)} is not hexadecimal octets, two digits each (BIND refuses to load the zone: bad hex encoding)`;
  // The digest types and fingerprint types whose length BIND knows (RFC 4034, 4509, 6594, 6605).
  const kind = type === 'DS' || type === 'CDS' ? (DIGESTS[toks[i + 2].toUpperCase()] ?? Number(toks[i + 2])) : type === 'SSHFP' ? Number(toks[i + 1]) : NaN;
  const want = type === 'SSHFP' ? SSHFP_OCTETS[kind] : DIGEST_OCTETS[kind];
  if (want !== undefined && text.length / 2 !== want) return `the ${type} record's ${type === 'SSHFP' ? 'fingerprint' : 'digest'} has ${text.length / 2} octets, where its type ${kind} has ${want} (BIND refuses to load the zone)`;
  return null;
}

// ------------------------------------------------------------------------------------------------ LOC (RFC 1876)
// `d1 [m1 [s1]] N|S d2 [m2 [s2]] E|W alt[m] [siz[m] [hp[m] [vp[m]]]]`, as BIND 9.18 reads it (lib/dns/rdata/generic/
// loc_29.c; named-checkzone the judge: zonefile-loc.test.ts). Its fields vary in number, so it has no LAYOUT: read
// unchecked, a LOC BIND refuses was a record of a zone the name server does not load, and a fix was written into it.

/**
 * The start of `s` as C's strtoul reads it (BIND's LOC parser does): a sign, then decimal digits; `end` 0 when there are
 * none. A minus wraps the number round (far above any maximum), but for zero.
 */
function strtoul(s: string): { value: number; end: number } {
  const m = /^([+-]?)([0-9]+)/.exec(s);
  if (!m) return { value: 0, end: 0 };
  const v = Number(m[2]);
  return { value: m[1] === '-' && v !== 0 ? Infinity : v, end: m[0].length };
}

/**
 * A decimal field of a LOC record as BIND reads one (loc_getdecimal, loc_getprecision): a whole number of at most
 * `max`, then `.` and at most `places` digits if any, then (where `unit`) an `m`, and nothing else, a digit somewhere:
 * its value in units of 10^-places, or the word BIND refuses it with.
 */
function locDecimal(s: string, max: number, places: number, unit: boolean): number | 'syntax error' | 'out of range' {
  const { value, end } = strtoul(s);
  let k = end;
  if (k < s.length && s[k] !== '.' && !(unit && s[k] === 'm')) return 'syntax error';
  if (value > max) return 'out of range';
  let digits = end > 0;
  let frac = 0;
  let n = 0;
  if (s[k] === '.') {
    for (k++; n < places && k < s.length && !(unit && s[k] === 'm'); n++, k++) {
      const d = s.charCodeAt(k) - 0x30;
      if (d < 0 || d > 9) return 'syntax error';
      frac = frac * 10 + d;
      digits = true;
    }
  }
  for (; n < places; n++) frac *= 10;
  if (unit && s[k] === 'm') k++;
  return digits && k === s.length ? value * 10 ** places + frac : 'syntax error';
}

const LOC_AXES = [
  { what: 'latitude', dirs: ['N', 'S'], maxd: 90 },
  { what: 'longitude', dirs: ['E', 'W'], maxd: 180 },
] as const;

/** Why BIND refuses the data of a LOC record (toks[i..]), else null: its words after the record's. */
function locProblem(toks: readonly string[], quoted: readonly boolean[], i: number): string | null {
  const bad = (what: string, k: number, why: string) => `the LOC record's ${what} ${short(toks[k])} ${why}`;
  const end = (what: string) => `the LOC record's data ${short(toks.slice(i).join(' '))} ends before its ${what} (BIND refuses to load the zone: unexpected end of input)`;
  // (A quoted field BIND reads with its quotes: no number, no direction.)
  const q = quoted.indexOf(true, i);
  if (q >= 0) return bad('data', q, 'is quoted, where BIND reads it bare (BIND refuses to load the zone: unexpected token)');
  let k = i;
  for (const { what, dirs, maxd } of LOC_AXES) {
    // Degrees, then minutes and seconds until the direction: whole numbers but the seconds (59.999 at most). A
    // coordinate at its maximum (90, 180) has no minutes or seconds past it.
    const names = ['degrees', 'minutes', 'seconds'];
    const limits = [`a number of 0 to ${maxd}`, 'a number of 0 to 59', 'a number of 0 to 59.999'];
    const parts: number[] = [];
    for (;; k++) {
      const t = toks[k];
      if (t === undefined) return end(parts.length ? `${what}'s direction (${dirs.join(' or ')})` : what);
      if (parts.length > 0 && (t === dirs[0] || t === dirs[1])) break;
      if (parts.length === 3) return bad(`${what}'s direction`, k, `is not ${dirs.join(' or ')} (upper case) (BIND refuses to load the zone: syntax error)`);
      const field = `${what} ${names[parts.length]}`;
      let v: number | string;
      if (parts.length === 2) v = locDecimal(t, 59, 3, false);
      else if (!/^[0-9]+$/.test(t)) return bad(field, k, 'is not a number (BIND refuses to load the zone: not a valid number)');
      else v = Number(t) > (parts.length === 0 ? maxd : 59) ? 'out of range' : Number(t);
      if (typeof v === 'string') return bad(field, k, `is not ${limits[parts.length]} (BIND refuses to load the zone: ${v})`);
      if (parts.length > 0 && parts[0] === maxd && v !== 0) return bad(field, k, `goes past ${what} ${maxd} (BIND refuses to load the zone: out of range)`);
      parts.push(v);
    }
    k++;
  }
  const alt = toks[k];
  if (alt === undefined) return end('altitude');
  const a = alt.startsWith('-') ? locDecimal(alt.slice(1), 100000, 2, true) : locDecimal(alt, 42849672, 2, true);
  const altWhy = typeof a === 'string' ? a : a > (alt.startsWith('-') ? 10000000 : 4284967295) ? 'out of range' : null;
  if (altWhy) return bad('altitude', k, `is not a height of -100000.00 to 42849672.95 m (BIND refuses to load the zone: ${altWhy})`);
  k++;
  for (const what of ['size', 'horizontal precision', 'vertical precision']) {
    if (k >= toks.length) return null;
    const p = locDecimal(toks[k], 90000000, 2, true);
    if (typeof p === 'string') return bad(what, k, `is not a length of 0 to 90000000.99 m (BIND refuses to load the zone: ${p})`);
    k++;
  }
  return k < toks.length ? `the LOC record's data has ${short(toks.slice(k).join(' '))} after its vertical precision, its last field (BIND refuses to load the zone: extra input text)` : null;
}

/**
 * Whether text is base64 as BIND reads it: canonical only — whole quads, padding at the end, no bits left over in the
 * last quad, nothing else (what decodes and encodes back to itself; Buffer's decoder skips what is no base64).
 */
function isBase64(text: string): boolean {
  return Buffer.from(text, 'base64').toString('base64') === text;
}

/** The SvcParamKeys by name (RFC 9460 §14.3.2; dohpath: RFC 9461), as BIND 9.18 knows them, with their numbers. */
const SVC_KEYS: Record<string, number> = { mandatory: 0, alpn: 1, 'no-default-alpn': 2, port: 3, ipv4hint: 4, ech: 5, ipv6hint: 6, dohpath: 7 };

/** The number of a SvcParamKey written by name or as key<N> (lower case, no leading zero, N ≤ 65535), else null. */
function svcKey(k: string): number | null {
  const n = SVC_KEYS[k];
  if (n !== undefined) return n;
  const m = /^key(0|[1-9][0-9]{0,4})$/.exec(k);
  return m && Number(m[1]) <= 0xffff ? Number(m[1]) : null;
}

/**
 * SVCB or HTTPS parameters (the tokens after the target, checked: svcParamsProblem) as one bare token each: a quoted
 * value (`alpn="h2,h3"`, which the lexer gives as `alpn=` and the string `h2,h3`) joined to its key, what a bare token
 * cannot hold escaped (bareText). BIND reads the two forms alike; kept apart, the value was `alpn= h2,h3`, and a line
 * rendered from it (renderRecordLine) was one BIND refuses (a key with no value, then a word that is no key).
 */
function svcParamTokens(toks: readonly string[], quoted: readonly boolean[]): string[] {
  const out: string[] = [];
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k];
    if (!quoted[k] && quoted[k + 1] && t.indexOf('=') === t.length - 1) out.push(t + bareText(toks[++k]));
    else out.push(t);
  }
  return out;
}

/**
 * Text (a string's octets, as read) written as a bare token that reads back as it (decodeEscapes): a backslash, a quote,
 * a parenthesis, `;`, a space and any octet outside printable ASCII escaped.
 */
function bareText(s: string): string {
  // Almost every value (h2,h3; a port; addresses) needs no escape.
  if (!/[^\x21\x23-\x27\x2a-\x3a\x3c-\x5b\x5d-\x7e]/.test(s)) return s;
  let out = '';
  for (const b of octetsOf(s)) {
    if (b === 0x5c || b === 0x22 || b === 0x28 || b === 0x29 || b === 0x3b) out += '\\' + String.fromCharCode(b);
    else if (b <= 0x20 || b >= 0x7f) out += '\\' + String(b).padStart(3, '0');
    else out += String.fromCharCode(b);
  }
  return out;
}

/** Items of a comma-separated value list (RFC 9460 appendix A.1: `\,` is a comma inside an item). */
function valueList(v: string): string[] {
  return v.split(/(?<!\\),/);
}

/**
 * Why BIND would refuse the parameters of an SVCB or HTTPS record (the tokens after the target: `key` or `key=value`,
 * the value bare or a quoted string right after the `=`), else null: an unknown key, a key given twice, a value where
 * none belongs or none where one does, a port that is no number, hints that are no addresses, an ech that is not
 * base64, a dohpath without `{?dns}`, a mandatory list naming a key that is not there (or itself), a record with
 * no-default-alpn but no alpn. A key written key<N> for a key that has a name takes the value's wire form, which
 * mailhealth does not read: refused, where BIND may load it (write the key by its name) — but for key7, dohpath,
 * whose wire form is its text.
 */
function svcParamsProblem(type: string, toks: readonly string[], quoted: readonly boolean[]): string | null {
  const seen = new Map<number, string | null>();
  for (let k = 0; k < toks.length; k++) {
    if (quoted[k]) return `${short(toks[k])} is quoted, where a parameter starts with its key`;
    const eq = toks[k].indexOf('=');
    const name = eq < 0 ? toks[k] : toks[k].slice(0, eq);
    let value: string | null = eq < 0 ? null : toks[k].slice(eq + 1);
    // `alpn="h2,h3"`: the lexer gives the quoted value as the next token.
    const q = value === '' && quoted[k + 1] === true;
    if (q) value = toks[++k];
    const key = svcKey(name);
    if (key === null) return `${short(name)} is no parameter key (mandatory, alpn, no-default-alpn, port, ipv4hint, ech, ipv6hint, dohpath, key<N>)`;
    if (seen.has(key)) return `${name} is given twice`;
    if (value !== null && !q && value.includes('\\')) {
      value = decodeEscapes(value);
      if (value === null) return `${name} holds an escape above \\255`;
    }
    const why = svcValueProblem(name, key, value);
    if (why) return why;
    seen.set(key, value);
  }
  const mandatory = seen.get(0);
  if (mandatory) {
    const items = valueList(mandatory);
    if (items.some((m) => svcKey(m) === 0)) return 'mandatory lists itself';
    const missing = items.find((m) => !seen.has(svcKey(m)!));
    if (missing !== undefined) return `mandatory lists ${missing}, which the record does not have`;
  }
  // (SVCB as HTTPS: BIND 9.18 refuses either with no-default-alpn and no alpn, "disallowed".)
  if (seen.has(2) && !seen.has(1)) return 'no-default-alpn without alpn';
  return null;
}

/** Why the value of the SvcParam `name` (number `key`; null: none given) is none BIND takes, else null. */
function svcValueProblem(name: string, key: number, value: string | null): string | null {
  // key7 is dohpath, whose wire form is its text: BIND reads and checks it as dohpath.
  if (name.startsWith('key') && key !== 7) return key > 7 ? null : `${name} is ${Object.keys(SVC_KEYS)[key]} written by number, its value then in wire form, which mailhealth does not read: write the key by its name`;
  if (key === 2) return value === null ? null : 'no-default-alpn takes no value';
  if (value === null || value === '') return `${name} has no value`;
  switch (key) {
    case 0: {
      const items = valueList(value);
      if (items.some((m) => svcKey(m) === null)) return `mandatory ${short(value)} lists something that is no parameter key`;
      return new Set(items.map(svcKey)).size === items.length ? null : `mandatory ${short(value)} lists a key twice`;
    }
    case 1:
      return valueList(value).every((a) => a !== '') ? null : `alpn ${short(value)} has an empty protocol`;
    case 3:
      return numberUpTo(value, 0xffff) === null ? `port ${short(value)} is not a number of 0 to 65535` : null;
    case 4:
      return value.split(',').every((a) => isIPv4(a)) ? null : `ipv4hint ${short(value)} is not a list of IPv4 addresses`;
    case 5:
      return isBase64(value) ? null : `ech ${short(value)} is not base64`;
    case 6:
      return value.split(',').every((a) => isIPv6(a) && !a.includes('%')) ? null : `ipv6hint ${short(value)} is not a list of IPv6 addresses`;
    case 7:
      return value.includes('{?dns}') ? null : `dohpath ${short(value)} has no {?dns} (RFC 9461)`;
  }
  return null;
}

/**
 * Why BIND would refuse the regular expression field of a NAPTR record (its octets, escapes decoded), else null.
 * RFC 3403 §4.1: a delimiter (no digit, backslash or `i`), a POSIX extended regular expression, the delimiter, the
 * replacement, the delimiter, and flags (only `i`); a back-reference in the replacement (\1–\9, never \0) to a group the
 * expression has. Empty: no expression, which is fine.
 */
function naptrRegexpProblem(re: string): string | null {
  if (re === '') return null;
  const delim = re[0];
  if (/[0-9\\i\0]/.test(delim)) return `${JSON.stringify(delim)} cannot be its delimiter`;
  let part = 0; // 0: the expression, 1: the replacement, 2: the flags
  let ere = '';
  let ref = 0;
  for (let k = 1; k < re.length; k++) {
    const c = re[k];
    if (c === '\0') return 'it holds a NUL';
    if (c === delim) {
      if (part === 2) return `it has a fourth ${JSON.stringify(delim)}`;
      part++;
    } else if (part === 2) {
      if (c !== 'i') return `${JSON.stringify(c)} is no flag (the only one is i)`;
    } else if (c === '\\') {
      const e = re[++k];
      if (e === undefined || e === '\0') return 'it ends with a backslash';
      if (part === 0) ere += c + e;
      else if (e === '0') return 'its replacement holds \\0';
      else if (e >= '1' && e <= '9') ref = Math.max(ref, Number(e));
    } else if (part === 0) ere += c;
  }
  if (part < 2) return `it does not end with its delimiter ${JSON.stringify(delim)} (delimiter, expression, delimiter, replacement, delimiter, flags)`;
  const groups = ereGroups(ere);
  if (groups === null) return `${JSON.stringify(ere)} is no POSIX extended regular expression`;
  if (ref > groups) return `its replacement refers to \\${ref}, where the expression has ${groups} group${groups === 1 ? '' : 's'}`;
  return null;
}

/** The character classes a bracket expression may name (POSIX, the C locale). */
const CHAR_CLASSES = new Set(['alnum', 'digit', 'punct', 'alpha', 'graph', 'space', 'blank', 'lower', 'upper', 'cntrl', 'print', 'xdigit']);

/**
 * The number of groups of a POSIX extended regular expression, or null when it is none, as BIND checks one
 * (lib/isc/regex.c): not empty; parentheses that pair; `*`, `+`, `?` and a bound `{m,n}` (m ≤ n ≤ 255) after something
 * to repeat and not after another; no `|` with nothing before it, nor at the end; a back-reference to a group already
 * opened; bracket expressions closed, with known classes and ranges in order.
 */
function ereGroups(re: string): number | null {
  let groups = 0;
  let open = 0;
  let atom = false; // something to repeat is before
  let repeated = false; // and it was repeated already (or is an anchor)
  let emptyOk = false; // an empty group `()` is fine
  for (let k = 0; k < re.length; k++) {
    const c = re[k];
    if (c === '\\') {
      const e = re[++k];
      if (e === undefined) return null;
      if (e >= '1' && e <= '9' && Number(e) > groups) return null;
      atom = true;
      repeated = false;
    } else if (c === '[') {
      const end = bracketEnd(re, k + 1);
      if (end < 0) return null;
      k = end;
      atom = true;
      repeated = false;
    } else if (c === '{' && /[0-9]/.test(re[k + 1] ?? '')) {
      const m = /^\{([0-9]+)(,([0-9]*))?\}/.exec(re.slice(k));
      if (!m || !atom || repeated) return null;
      const lo = Number(m[1]);
      const hi = m[3] ? Number(m[3]) : lo;
      if (lo > 255 || hi > 255 || lo > hi) return null;
      k += m[0].length - 1;
      repeated = true;
    } else if (c === '(') {
      groups++;
      open++;
      atom = false;
      repeated = false;
      emptyOk = true;
    } else if (c === ')') {
      if (open > 0 && !atom && !emptyOk) return null;
      if (open > 0) open--;
      atom = true;
      repeated = false;
    } else if (c === '|') {
      if (!atom) return null;
      atom = false;
      emptyOk = false;
      repeated = false;
    } else if (c === '^' || c === '$') {
      atom = true;
      repeated = true;
    } else if (c === '*' || c === '+' || c === '?') {
      if (!atom || repeated) return null;
      repeated = true;
    } else {
      atom = true;
      repeated = false;
    }
  }
  return open === 0 && atom ? groups : null;
}

/** Where the bracket expression whose body starts at `k` ends (the index of its `]`), or -1 when it does not. */
function bracketEnd(re: string, k: number): number {
  if (re[k] === '^') k++;
  let first = true;
  let prev = -1; // the last character, for a range's order; -1 after a range or a class
  let rangeEnded = false; // a `-` right after a range (`[a-c-e]`) is none
  for (; k < re.length; k++, first = false) {
    const c = re[k];
    if (c === ']' && !first) return k;
    if (c === '[' && (re[k + 1] === ':' || re[k + 1] === '=' || re[k + 1] === '.')) {
      const kind = re[k + 1];
      const close = re.indexOf(kind + ']', k + 2);
      if (close < 0 || close === k + 2) return -1;
      if (kind === ':' && !CHAR_CLASSES.has(re.slice(k + 2, close))) return -1;
      prev = kind === '.' && close === k + 3 ? re.charCodeAt(k + 2) : -1;
      rangeEnded = false;
      k = close + 1;
      continue;
    }
    if (c === '-' && !first) {
      if (rangeEnded) return -1;
      if (prev >= 0 && re[k + 1] !== undefined && re[k + 1] !== ']') {
        if (re.charCodeAt(k + 1) < prev) return -1;
        k++;
        prev = -1;
        rangeEnded = true;
        continue;
      }
    }
    prev = re.charCodeAt(k);
    rangeEnded = false;
  }
  return -1;
}

/** The first name of the data (from toks[i]) that cannot be read (nameProblem), or null. */
function badNameField(type: string, toks: string[], quoted: boolean[], i: number, origin: string): { name: string; why: string } | null {
  for (const k of nameFields(type, toks.length - i)) {
    const why = nameProblem(toks[i + k], quoted[i + k], origin);
    if (why) return { name: toks[i + k], why };
  }
  return null;
}

/** The names holding an alias (CNAME) beside other data (types other than CNAME and DNSSEC's), in order of first appearance. */
function aliasClashes(records: ParsedRecord[]): string[] {
  if (!records.some((r) => r.type === 'CNAME')) return [];
  // Names in order of first appearance, each with the types it holds.
  const byName = new Map<string, Set<string>>();
  for (const r of records) {
    let set = byName.get(r.name);
    if (!set) byName.set(r.name, (set = new Set()));
    set.add(r.type);
  }
  const out: string[] = [];
  for (const [name, types] of byName) {
    if (types.has('CNAME') && [...types].some((t) => !['CNAME', 'RRSIG', 'NSEC', 'NSEC3'].includes(t))) out.push(name);
  }
  return out;
}

function zoneWarnings(records: ParsedRecord[], zone: string, cnameClashes: readonly string[]): string[] {
  const out: string[] = [];
  const dotZone = '.' + zone;
  let apexNs = false;
  for (const r of records) {
    const n = r.name;
    if (zone && n !== zone && !n.endsWith(dotZone)) out.push(`line ${r.startLine + 1}: ${n} is outside the zone ${zone}`);
    if (r.type === 'NS' && n === zone) apexNs = true;
  }
  for (const name of cnameClashes) out.push(`${name}: CNAME and other data`);
  if (zone && !apexNs) out.push(`${zone}: no NS records at the zone apex`);
  return out;
}

/**
 * Presentation value used by core (TXT: joined; names without trailing dot). A token that would not read back as itself
 * when written bare — a quoted string holding a space, `;`, a parenthesis, a quote or a control character (`0 issue
 * "ca.example; account=1"`), an empty one — is given quoted (quoteTxt), so the value still says where each token
 * starts and ends: joined bare, a CAA record rendered from it (renderRecordLine) lost everything after its `;`.
 */
export function presentValue(r: ParsedRecord): string {
  if (r.txt) return r.txt.join('');
  const rdata = r.rdata;
  // (Where a type's names are known, only those lose a final dot: an SVCB parameter's is its own, `key65000=abc.`.)
  const names = nameFields(r.type, rdata.length);
  let out = '';
  for (let k = 0; k < rdata.length; k++) {
    const t = rdata[k];
    out += k === 0 ? '' : ' ';
    // A text field (an HINFO or NAPTR string, a CAA value) is text as read: its final dot is its own (`issue ca.example.`),
    // and a backslash in it one (quoted, `"a\\b"`, it does not read as an escape).
    const text = isTextField(r.type, k);
    if (needsQuotes(t) || (k === 0 && t === '\\#' && !isGenericType(r.type)) || (text && t.includes('\\'))) out += quoteTxt(t);
    else if (text || (names.length > 0 && !names.includes(k))) out += t;
    else {
      // A name's final dot goes; not the last of two (an empty label, or a token that is no name: it would read back
      // as another token), nor an escaped one (`a\.`: part of the label), nor one after a backslash it would leave
      // unpaired.
      const u = t.length > 1 && endsWithDot(t) && !endsWithDot(t, t.length - 1) ? t.slice(0, -1) : t;
      out += u !== t && needsQuotes(u) ? t : u;
    }
  }
  return out;
}

/**
 * Whether a token's text must be quoted to be read back as itself: bare, the lexer would split it (space, tab), take it
 * for syntax (`;` `"` `(` `)`), lose or misread a control character, or take a final backslash as escaping what follows;
 * an empty token exists only quoted. (A token read bare never holds any of these but escaped: its escapes are kept as
 * written.)
 */
function needsQuotes(t: string): boolean {
  const n = t.length;
  if (n === 0) return true;
  // Almost every token (a name, a number, an address) holds none of these: one test, no loop.
  if (!MAY_NEED_QUOTES.test(t)) return false;
  for (let i = 0; i < n; i++) {
    const c = t.charCodeAt(i);
    if (c === 0x5c) {
      // An escape reads back as written (the lexer keeps it whole), but for a final backslash (it would escape what
      // follows) and an escaped line break (which ends the line first).
      const e = ++i < n ? t.charCodeAt(i) : -1;
      if (e === -1 || e === 0x0a || e === 0x0d) return true;
      continue;
    }
    if (c <= 0x20 || c === 0x22 || c === 0x28 || c === 0x29 || c === 0x3b || c === 0x7f) return true;
  }
  return false;
}

/** The characters needsQuotes looks at (a backslash for what it escapes). */
const MAY_NEED_QUOTES = /[\x00-\x20"();\\\x7f]/;

/** A type read in RFC 3597's generic form (TYPE<n>): its first token `\#` is the form's own, written bare. */
function isGenericType(type: string): boolean {
  return /^TYPE[0-9]+$/.test(type);
}

export function quoteTxt(s: string): string {
  let out = '"';
  for (const b of octetsOf(s)) {
    if (b === 0x22) out += '\\"';
    else if (b === 0x5c) out += '\\\\';
    else if (b < 0x20 || b > 0x7e) out += '\\' + String(b).padStart(3, '0');
    else out += String.fromCharCode(b);
  }
  return out + '"';
}

/**
 * Split a string into character-strings of at most `max` (255) bytes each, cut by UTF-8 bytes and never inside a
 * character; joined back, they are the string exactly. (Also the Plesk adapter's reading of a TXT value.)
 */
export function splitTxt(s: string, max = 255): string[] {
  const out: string[] = [];
  let cur = '';
  let len = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (len + n > max && cur) {
      out.push(cur);
      cur = '';
      len = 0;
    }
    cur += ch;
    len += n;
  }
  out.push(cur);
  return out;
}

const abs = (h: string) => (h === '.' || endsWithDot(h) ? h : `${h}.`);

/**
 * Render one record as a single zone-file line with an absolute owner and absolute names in the rdata (the line
 * may land after any $ORIGIN). A TXT's strings (its value when given without them) are split into strings of at most
 * 255 bytes. Other values are read as the parser reads tokens (quoted ones as such: presentValue quotes what needs it)
 * and written so that each reads back as the same token.
 */
export function renderRecordLine(r: { name: string; ttl: number; type: string; value: string; txt?: string[] }): string {
  const owner = abs(r.name);
  const type = r.type.toUpperCase();
  let rdata: string;
  // A given string over 255 bytes (no zone loads it) is split further.
  if (type === 'TXT' || type === 'SPF') rdata = (r.txt ?? [r.value]).flatMap((t) => (Buffer.byteLength(t) > 255 ? splitTxt(t) : [t])).map(quoteTxt).join(' ');
  else {
    const texts: string[] = [];
    const quoted: boolean[] = [];
    for (const l of lex(r.value, [])) {
      texts.push(...l.texts);
      quoted.push(...l.quoted);
    }
    const n = texts.length;
    const names = nameFields(type, n);
    rdata = '';
    for (let k = 0; k < n; k++) {
      rdata += k === 0 ? '' : ' ';
      // A name is written bare (BIND reads no quoted name; one read from a file holds nothing that needs quotes, and
      // presentValue quotes one with a control character only to keep the value one token). An empty name is the
      // root: read from `.`, which parseZoneFile makes "". A text field is written quoted, its text as given (a
      // backslash in it is one: parseZoneFile decodes such fields): a URI target only reads so, and a CAA value or
      // a NAPTR expression holding a backslash, written bare, read back as an escape.
      if (names.includes(k)) rdata += abs(texts[k]);
      else rdata += quoted[k] || needsQuotes(texts[k]) || isTextField(type, k) ? quoteTxt(texts[k]) : texts[k];
    }
  }
  return `${owner}\t${r.ttl}\tIN\t${type}\t${rdata}`;
}

export interface LineEdit {
  /** Replace lines [startLine, endLine] (inclusive) with `lines` (empty = delete). startLine = -1: append. */
  startLine: number;
  endLine: number;
  lines: string[];
}

/**
 * The line break a file mostly uses: CRLF or LF, by count; on a tie (a file mixing both equally) the break of its last
 * line; LF for a file with no line break at all.
 */
export function lineBreakOf(text: string): '\r\n' | '\n' {
  let crlf = 0;
  let lf = 0;
  let last: '\r\n' | '\n' = '\n';
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) {
    if (i > 0 && text.charCodeAt(i - 1) === 0x0d) {
      crlf++;
      last = '\r\n';
    } else {
      lf++;
      last = '\n';
    }
  }
  return crlf > lf ? '\r\n' : lf > crlf ? '\n' : last;
}

/** A line's text without the '\r' of a CRLF line break (text split at '\n' from a CRLF file, e.g. a record's source). */
export function withoutCr(line: string): string {
  return line.charCodeAt(line.length - 1) === 0x0d ? line.slice(0, -1) : line;
}

/**
 * Apply line edits to a file's text; untouched lines keep their exact bytes (including line endings).
 *
 * The lines given are line texts: a trailing '\r' on one (a line read from a CRLF file, such as a record's stored
 * source) is the old line break, not content, and is dropped so that no line is written with two. Every line written
 * gets the file's own line break:
 * - lines replacing others take the break of the line they replace (of the last one, for a range), so that in a file
 *   mixing CRLF and LF the edited line keeps the break it had and every other line keeps its own;
 * - lines replacing the file's last line when that line has no line break: the same (none after the last), the lines
 *   before it the break the file mostly uses (`lineBreakOf`);
 * - appended lines: the break the file mostly uses; a last line without a line break is first given that break.
 * An LF-only file gets LF everywhere, as it always did.
 */
export function applyLineEdits(text: string, edits: LineEdit[]): string {
  // Every piece but the last was followed by '\n'; a piece ending in '\r' had a CRLF break.
  const lines = text.split('\n');
  const brk = lineBreakOf(text);
  const cr = brk === '\r\n' ? '\r' : '';
  const appends: string[] = [];
  const sorted = [...edits].filter((e) => e.startLine >= 0).sort((a, b) => b.startLine - a.startLine);
  for (const e of edits) if (e.startLine < 0) appends.push(...e.lines);
  const count = lines.length;
  for (const e of sorted) {
    // (Edits run from the bottom up: the lines above an edit are still the file's own.)
    const isLast = e.endLine >= lines.length - 1;
    const own = isLast ? cr : lines[e.endLine].endsWith('\r') ? '\r' : '';
    const repl = e.lines.map((l, k) => withoutCr(l) + (isLast && k === e.lines.length - 1 ? '' : own));
    lines.splice(e.startLine, e.endLine - e.startLine + 1, ...repl);
  }
  // The last line, without a line break, deleted: the line now last loses its break, all of it (its '\n' goes in the
  // join, as in an LF file; here its '\r' too), and the file still ends without one.
  if (!text.endsWith('\n') && lines.length && sorted.some((e) => e.endLine >= count - 1)) lines[lines.length - 1] = withoutCr(lines[lines.length - 1]);
  let out = lines.join('\n');
  if (appends.length) {
    // A last line without a line break ends with the file's break first (only the '\n' when its '\r' is there).
    if (out.length && !out.endsWith('\n')) out += out.endsWith('\r') ? '\n' : brk;
    out += appends.map((l) => withoutCr(l) + brk).join('');
  }
  return out;
}

/** Replace the SOA serial token in place. Returns the new text, or null when the SOA serial cannot be found. */
export function bumpSerialText(text: string, soa: ParsedRecord, newSerial: number): string | null {
  const lines = text.split('\n');
  const oldSerial = soa.rdata[2];
  if (!oldSerial) return null;
  // Find the serial token after mname and rname within the SOA's lines, skipping comments.
  let seen = 0;
  for (let ln = soa.startLine; ln <= soa.endLine; ln++) {
    const line = lines[ln];
    const code = line.split(';')[0];
    const re = /[^\s()]+/g;
    let m: RegExpExecArray | null;
    let afterType = ln > soa.startLine;
    while ((m = re.exec(code))) {
      if (!afterType) {
        if (m[0].toUpperCase() === 'SOA') afterType = true;
        continue;
      }
      seen++;
      if (seen === 3) {
        if (m[0] !== oldSerial) return null;
        lines[ln] = line.slice(0, m.index) + String(newSerial) + line.slice(m.index + m[0].length);
        return lines.join('\n');
      }
    }
  }
  return null;
}

/**
 * Whether a serial reads as a date serial YYYYMMDDnn (a year from 1970 on, a month and a day that exist in some month).
 * Unix times before 2032 (below 1970010100) never do, so the two conventions are told apart.
 */
function isDateSerial(serial: number): boolean {
  if (serial < 1970010100 || serial > 2999123199) return false;
  const month = Math.floor(serial / 10000) % 100;
  const day = Math.floor(serial / 100) % 100;
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/**
 * Next serial, in the convention the zone already uses (the admin's own tools go on writing serials after ours: a
 * serial of another kind that is larger would make each of theirs go backwards, and secondaries would stop taking the
 * zone):
 * - a Unix time (10 digits, not a date; BIND's serial-update-method unixtime, `date +%s` scripts): now as a Unix time
 *   when that is larger than the old one, else old+1;
 * - anything else (a date serial YYYYMMDDnn, a small counter): YYYYMMDD00 for today when that is larger than the old
 *   one, else old+1.
 * Always mod 2^32 (RFC 1982 serial arithmetic: 4294967295 + 1 wraps to 0, which counts as newer).
 */
export function nextSerial(old: number, today: Date): number {
  if (old >= 1_000_000_000 && !isDateSerial(old)) {
    const unix = Math.floor(today.getTime() / 1000);
    return unix > old && unix < 2 ** 32 ? unix : (old + 1) % 2 ** 32;
  }
  const ymd = today.getUTCFullYear() * 10000 + (today.getUTCMonth() + 1) * 100 + today.getUTCDate();
  const candidate = ymd * 100;
  if (candidate > old) return candidate;
  return (old + 1) % 2 ** 32;
}
