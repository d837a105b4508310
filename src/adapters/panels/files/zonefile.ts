// BIND master-file parser and surgical editor for the files panel.
// Parses $ORIGIN, $TTL, ( ) continuations, quoted multi-string TXT with escapes, comments, blank owners, relative names,
// types written TYPE<n> and TXT in RFC 3597's generic form, as BIND reads them; $INCLUDE, $GENERATE, a byte order mark
// and a name BIND would not read (an empty label, quotes) are errors (the zone is read as far as it goes, and not
// written).
// Every record remembers the lines it came from, so an edit rewrites only those lines: the rest of the file stays
// byte-identical.
import { isUtf8 } from 'node:buffer';
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
  /** A \DDD escape above 255 in one of its strings (not an octet: the line cannot be read). */
  badEscape?: boolean;
}

function badEscapeError(l: Logical): string {
  return `line ${l.startLine + 1}: an escape \\DDD above \\255 in a string (an escape stands for one octet, 0-255)`;
}

const CLASSES = new Set(['IN', 'CH', 'HS', 'CS']);

function decodeEscapes(s: string): string | null {
  // No backslash: nothing to decode (the octet round trip below is the identity for text as read).
  if (!s.includes('\\')) return s;
  // \DDD (one octet, 0-255: RFC 1035 §5.1) and \X (literal X). The octets are then read as the zone file is: UTF-8,
  // any other octet as U+DC00 + octet (core/octets.ts), so "\233" alone is that octet, never U+FFFD.
  const bytes: number[] = [];
  let run = 0;
  const plain = (to: number) => {
    if (to > run) for (const b of octetsOf(s.slice(run, to))) bytes.push(b);
  };
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) !== 0x5c || i + 1 >= s.length) continue;
    plain(i);
    const d = /^[0-9]{3}/.exec(s.slice(i + 1, i + 4));
    if (d) {
      const v = Number(d[0]);
      if (v > 255) return null;
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
 * - quoted: BIND reads no quoted names (the quote marks are part of the name there, `"a b"` two tokens), and a name read
 *   as the quoted text has no written form that reads back as itself;
 * - an empty label (hasEmptyLabel);
 * - a final backslash that escapes nothing (a token cut at the end of its line).
 */
function nameProblem(token: string, quoted: boolean): string | null {
  if (quoted) return 'is quoted (BIND does not read quotes in a name: they would be part of it)';
  if (hasEmptyLabel(token)) return 'has an empty label (a dot at its start or two in a row), which BIND refuses to load the zone for';
  if (oddBackslashesAtEnd(token)) return 'ends with a backslash that escapes nothing';
  return null;
}

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
  'SMIMEA', 'ALIAS', 'APL', 'CDS', 'CDNSKEY', 'NULL', 'WKS', 'MB', 'MG', 'MR', 'MINFO', 'X25', 'ISDN', 'RT', 'NSAP', 'PX', 'GPOS', 'KX', 'IPSECKEY', 'DHCID', 'NSEC3', 'NSEC3PARAM', 'HIP', 'ZONEMD',
]);

/**
 * Type numbers of the mnemonics above (RFC 3597 lets a zone name any type as TYPE<n>: BIND reads `TYPE16 "v=spf1 …"` as
 * the TXT it is, so must we — else the SPF fix would not see that record and add a second one).
 */
const TYPE_NAMES: Record<number, string> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 7: 'MB', 8: 'MG', 9: 'MR', 10: 'NULL', 11: 'WKS', 12: 'PTR', 13: 'HINFO', 14: 'MINFO',
  15: 'MX', 16: 'TXT', 17: 'RP', 18: 'AFSDB', 19: 'X25', 20: 'ISDN', 21: 'RT', 22: 'NSAP', 24: 'SIG', 25: 'KEY', 26: 'PX',
  27: 'GPOS', 28: 'AAAA', 29: 'LOC', 35: 'NAPTR', 36: 'KX', 37: 'CERT', 39: 'DNAME', 42: 'APL', 43: 'DS', 44: 'SSHFP',
  45: 'IPSECKEY', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 49: 'DHCID', 50: 'NSEC3', 51: 'NSEC3PARAM', 52: 'TLSA', 53: 'SMIMEA',
  55: 'HIP', 59: 'CDS', 60: 'CDNSKEY', 61: 'OPENPGPKEY', 63: 'ZONEMD', 64: 'SVCB', 65: 'HTTPS', 99: 'SPF', 256: 'URI', 257: 'CAA',
};

/** A type whose rdata is in the generic form and not decoded: `TYPE<n>` (as given, or the mnemonic's number). */
function genericTypeName(type: string, given: string): string {
  if (/^TYPE[0-9]+$/.test(given)) return given;
  for (const [n, name] of Object.entries(TYPE_NAMES)) if (name === type) return `TYPE${n}`;
  return given;
}

/** The mnemonic of a type given as TYPE<n> when there is one (`TYPE16` → `TXT`); any other type as given. */
function canonicalType(u: string): string {
  if (u.charCodeAt(0) !== 0x54 || !/^TYPE[0-9]+$/.test(u)) return u;
  return TYPE_NAMES[Number(u.slice(4))] ?? u;
}

/**
 * Character-strings of TXT rdata in RFC 3597's generic form (`\# <length> <hex>`, the hex possibly in several words):
 * each string is a length octet and that many octets. Null when it is not well formed (BIND refuses such a line).
 */
function genericTxt(words: string[]): string[] | null {
  if (words.length < 2 || !/^[0-9]+$/.test(words[1])) return null;
  const hex = words.slice(2).join('');
  const len = Number(words[1]);
  if (!/^([0-9a-fA-F]{2})*$/.test(hex) || hex.length !== len * 2 || len === 0) return null;
  const bytes = Buffer.from(hex, 'hex');
  const out: string[] = [];
  for (let k = 0; k < bytes.length; ) {
    const n = bytes[k];
    if (k + 1 + n > bytes.length) return null;
    const b = bytes.subarray(k + 1, k + 1 + n);
    out.push(isUtf8(b) ? b.toString('utf8') : decodeOctets(b));
    k += 1 + n;
  }
  return out;
}

/** Is `u` (already upper case) a record type? */
function isUpperType(u: string): boolean {
  return KNOWN_TYPES.has(u) || /^TYPE[0-9]+$/.test(u);
}

function isType(s: string): boolean {
  return isUpperType(s.toUpperCase());
}

/** Parse a zone file. `origin` is the zone's domain (used until a $ORIGIN line changes it). */
export function parseZoneFile(text: string, origin: string): ParsedZone {
  let curOrigin = origin.toLowerCase().replace(/\.$/, '');
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
    const toks = l.texts;
    const quoted = l.quoted;
    const first = toks[0];
    if (!quoted[0] && first.charCodeAt(0) === 0x24 /* $ */) {
      const dir = first.toUpperCase();
      if (dir === '$ORIGIN' && toks[1]) {
        const why = nameProblem(toks[1], quoted[1]);
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
      owner = absName(first, curOrigin);
      const why = nameProblem(first, quoted[0]);
      ownerBad = why ? { name: first, why } : null;
      i = 1;
    }
    let ttl: number | null = null;
    let cls: string | null = null;
    // [ttl] [class] or [class] [ttl], then type. A second class (`a IN IN A`) is no class: BIND then reads it as the
    // type, and refuses the zone ("unknown RR type"); so it is here ("cannot find a record type").
    for (let k = 0; k < 2 && i < toks.length; k++) {
      const t = toks[i];
      if (quoted[i]) continue;
      let v: number | null;
      if (ttl === null && (v = parseTtl(t)) !== null && !isType(t)) {
        ttl = v;
        i++;
      } else {
        const u = t.toUpperCase();
        if (cls === null && CLASSES.has(u)) {
          cls = u;
          i++;
        }
      }
    }
    const given = i < toks.length ? toks[i].toUpperCase() : undefined;
    if (!given || !isUpperType(given)) {
      errors.push(`line ${l.startLine + 1}: cannot find a record type in ${JSON.stringify(toks.slice(0, 4).join(' '))}`);
      continue;
    }
    let type = canonicalType(given);
    i++;
    if (!signed && (type === 'RRSIG' || type === 'NSEC' || type === 'NSEC3')) signed = `line ${l.startLine + 1}: ${type}`;
    // Any other type in RFC 3597's generic form (`TYPE15 \# 9 000a…`, `MX \# …`) is not decoded: kept opaque as
    // TYPE<n> — read as that type, its `\#` and length became an MX or CNAME target (review).
    if (type !== 'TXT' && type !== 'SPF' && !quoted[i] && toks[i] === '\\#') type = genericTypeName(type, given);
    const recTtl: number = ttl ?? (ttlSet ? defaultTtl : (lastTtl ?? defaultTtl));
    // A name that cannot be read, as the owner or in the data (the name fields parseZoneFile makes absolute below); a
    // record of another class than the zone's, or whose data BIND would not take (dataProblem).
    const badName = ownerBad ?? badNameField(type, toks, quoted, i);
    const badData = badName === null && !l.badEscape ? (classProblem(cls) ?? dataProblem(type, toks, i)) : null;
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
    switch (type) {
      case 'TXT':
      case 'SPF': {
        if (!quoted[i] && toks[i] === '\\#') {
          // RFC 3597's generic form (`TXT \# 21 14763d…`, as some tools export): BIND reads the strings it encodes.
          const g = genericTxt(toks.slice(i));
          if (!g) {
            errors.push(`line ${l.startLine + 1}: ${type} rdata in the generic form \\# <length> <hex> that is not well formed`);
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
        for (const k of nameFields(type, rec.rdata.length)) rec.rdata[k] = rec.rdata[k] === '.' ? '.' : absName(rec.rdata[k], curOrigin) || '.';
        break;
      case 'SOA':
        // (RFC 1035 would default the TTL to the SOA minimum when there is no $TTL; BIND uses the SOA's own TTL,
        // as here: close enough for our purpose.)
        if (rec.rdata.length >= 2) rec.rdata = [absName(rec.rdata[0], curOrigin), absName(rec.rdata[1], curOrigin), ...rec.rdata.slice(2)];
        break;
    }
    records.push(rec);
    lastOwner = owner;
    lastOwnerBad = ownerBad;
    lastTtl = rec.ttl;
  }
  const zoneName = origin.toLowerCase().replace(/\.$/, '');
  return { origin: zoneName, records, errors, warnings: zoneWarnings(records, zoneName), ...(signed ? { signed } : {}) };
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
 * it landed (and `1 afs.example.net.` lost its final dot: written back, afs.example.net.<origin>).
 */
function nameFields(type: string, n: number): readonly number[] {
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
  PX: 3, CAA: 3, SRV: 4, NAPTR: 6, SOA: 7,
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
  const fields = (k: number) => `${k} field${k === 1 ? '' : 's'}`;
  if (n < want) return `the ${type} record's data ${short(toks.slice(i).join(' '))} has ${fields(n)}, where ${type} has ${want} (BIND refuses to load the zone: unexpected end of input)`;
  return `the ${type} record's data has ${fields(n)}, where ${type} has ${want}: ${short(toks.slice(i + want).join(' '))} after it is extra (BIND refuses to load the zone: extra input text)`;
}

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
function classProblem(cls: string | null): string | null {
  if (cls === null || cls === 'IN') return null;
  return `class ${cls}: a zone of class IN holds IN records only (BIND refuses to load the zone: class '${cls}' != zone class 'IN')`;
}

/** The first name of the data (from toks[i]) that cannot be read (nameProblem), or null. */
function badNameField(type: string, toks: string[], quoted: boolean[], i: number): { name: string; why: string } | null {
  for (const k of nameFields(type, toks.length - i)) {
    const why = nameProblem(toks[i + k], quoted[i + k]);
    if (why) return { name: toks[i + k], why };
  }
  return null;
}

function zoneWarnings(records: ParsedRecord[], zone: string): string[] {
  const out: string[] = [];
  const dotZone = '.' + zone;
  let cname = false;
  let apexNs = false;
  for (const r of records) {
    const n = r.name;
    if (zone && n !== zone && !n.endsWith(dotZone)) out.push(`line ${r.startLine + 1}: ${n} is outside the zone ${zone}`);
    if (r.type === 'CNAME') cname = true;
    else if (r.type === 'NS' && n === zone) apexNs = true;
  }
  if (cname) {
    // Names in order of first appearance, each with the types it holds.
    const byName = new Map<string, Set<string>>();
    for (const r of records) {
      let set = byName.get(r.name);
      if (!set) byName.set(r.name, (set = new Set()));
      set.add(r.type);
    }
    for (const [name, types] of byName) {
      if (types.has('CNAME') && [...types].some((t) => !['CNAME', 'RRSIG', 'NSEC', 'NSEC3'].includes(t))) out.push(`${name}: CNAME and other data`);
    }
  }
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
  let out = '';
  for (let k = 0; k < rdata.length; k++) {
    const t = rdata[k];
    out += k === 0 ? '' : ' ';
    if (needsQuotes(t) || (k === 0 && t === '\\#' && !isGenericType(r.type))) out += quoteTxt(t);
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
      // root: read from `.`, which parseZoneFile makes "".
      if (names.includes(k)) rdata += abs(texts[k]);
      else rdata += quoted[k] || needsQuotes(texts[k]) ? quoteTxt(texts[k]) : texts[k];
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
