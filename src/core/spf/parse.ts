// SPF record syntax (RFC 7208 §4.5, §4.6, §5, §6, §7): parse into terms, select the record from a TXT answer,
// render terms back, split long records into ≤255-octet character-strings. Pure; never throws on input.
import ipaddr from 'ipaddr.js';
import { filterList, mapList } from '../arrays.js';

export type Qualifier = '+' | '-' | '~' | '?';
export type Mechanism = 'all' | 'include' | 'a' | 'mx' | 'ptr' | 'ip4' | 'ip6' | 'exists';
export const MECHANISMS: readonly Mechanism[] = ['all', 'include', 'a', 'mx', 'ptr', 'ip4', 'ip6', 'exists'];
/** Terms that cost one DNS lookup each toward the 10-lookup limit (§4.6.4). `redirect` (a modifier) also does. */
export const LOOKUP_MECHANISMS: readonly Mechanism[] = ['include', 'a', 'mx', 'ptr', 'exists'];

export interface SpfTerm {
  /** The term exactly as written in the record. */
  raw: string;
  kind: 'mechanism' | 'modifier' | 'invalid';
  /** Modifiers and invalid terms carry '+'. */
  qualifier: Qualifier;
  qualifierExplicit: boolean;
  mechanism?: Mechanism;
  /** Lower-cased modifier name ('redirect', 'exp', or any other name). */
  modifier?: string;
  /** Modifier value as written (for redirect/exp it is also `domainSpec`). */
  value?: string;
  domainSpec?: string;
  cidr4?: number;
  cidr6?: number;
  /** ip4/ip6 network address as written (without the CIDR length). */
  ip?: string;
  /** True when the domain-spec / value contains a `%{…}` macro (cannot be resolved statically). */
  hasMacro: boolean;
  /** Whether the term comes after an `all` mechanism (such mechanisms are never evaluated, §5.1). */
  afterAll: boolean;
  /** Syntax error in this term, if any. */
  error?: string;
}

export interface SpfIssue {
  reason: string;
  /** The offending term as written, when the error belongs to one term. */
  term?: string;
  /**
   * The error is in a mechanism written after `all`. RFC 7208 still makes the whole record a permerror (§4.6: syntax
   * errors anywhere), but lenient checkers (checkdmarc) drop text after `all` with a warning.
   */
  afterAll: boolean;
}

export interface ParsedSpf {
  /** The version section as written ("v=spf1"), or null when the text is not an SPF record. */
  version: string | null;
  terms: SpfTerm[];
  /** Syntax errors (any of them makes a receiver return permerror). Empty = valid. */
  errors: SpfIssue[];
  /** Valid-but-questionable things: ptr usage, text after all, size. */
  warnings: string[];
  redirect?: SpfTerm;
  exp?: SpfTerm;
}

/** Exactly `v=spf1` (any case) followed by a space or the end of the text (§4.5). */
export function isSpfRecord(text: string): boolean {
  return /^v=spf1(?: |$)/i.test(text);
}

export type SpfSelection =
  | { status: 'none' }
  | { status: 'found'; record: string }
  | { status: 'multiple'; records: string[] };

/** Pick the SPF record out of a TXT answer (each record = its character-strings, joined with no separator). */
export function selectSpf(txtRecords: readonly (readonly string[])[]): SpfSelection {
  const spf = filterList(mapList(txtRecords, (r) => r.join('')), isSpfRecord);
  if (spf.length === 0) return { status: 'none' };
  if (spf.length === 1) return { status: 'found', record: spf[0] };
  return { status: 'multiple', records: spf };
}

// ---------------------------------------------------------------------------------------------- macros

const DOMAIN_MACRO_LETTERS = 'slodiphv';
const EXP_MACRO_LETTERS = 'slodiphvcrt';
const DELIMITERS = '.-+,/_=';

export type MacroToken =
  | { kind: 'literal'; text: string }
  | { kind: 'macro'; letter: string; upper: boolean; digits?: number; reverse: boolean; delimiters: string }
  | { kind: 'escape'; text: string };

/**
 * Tokenise a macro-string (§7.1). `allowSpace` for explanation text; `letters` are the allowed macro letters.
 * Returns tokens or an error reason.
 */
export function tokenizeMacroString(
  s: string,
  opts: { letters?: string; allowSpace?: boolean } = {},
): { tokens: MacroToken[] } | { error: string } {
  const letters = opts.letters ?? DOMAIN_MACRO_LETTERS;
  const tokens: MacroToken[] = [];
  let lit = '';
  const flush = () => {
    if (lit) tokens.push({ kind: 'literal', text: lit });
    lit = '';
  };
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    const code = ch.charCodeAt(0);
    if (ch !== '%') {
      if (code > 0x7e) return { error: `non-ASCII character in "${visible(s)}"` };
      if (code < 0x21 && !(opts.allowSpace && ch === ' ')) return { error: `invalid character 0x${code.toString(16).padStart(2, '0')} in "${visible(s)}"` };
      lit += ch;
      continue;
    }
    const next = s[i + 1];
    if (next === '%' || next === '_' || next === '-') {
      flush();
      tokens.push({ kind: 'escape', text: next === '%' ? '%' : next === '_' ? ' ' : '%20' });
      i++;
      continue;
    }
    if (next !== '{') return { error: `bad macro: "%" must be followed by "{", "%", "_" or "-" in "${visible(s)}"` };
    const close = s.indexOf('}', i + 2);
    if (close < 0) return { error: `bad macro: unterminated "%{" in "${visible(s)}"` };
    const body = s.slice(i + 2, close);
    const m = /^([A-Za-z])(\d*)([rR]?)(.*)$/s.exec(body);
    if (!m) return { error: `bad macro "%{${body}}"` };
    const [, letter, digits, rev, delims] = m;
    if (!letters.includes(letter.toLowerCase())) {
      const where = EXP_MACRO_LETTERS.includes(letter.toLowerCase()) ? ' (c, r, t are allowed only in explanation text)' : '';
      return { error: `bad macro "%{${body}}": unknown macro letter "${letter}"${where}` };
    }
    for (const d of delims) if (!DELIMITERS.includes(d)) return { error: `bad macro "%{${body}}": invalid delimiter "${d}"` };
    if (digits && (Number(digits) === 0 || digits.length > 3)) return { error: `bad macro "%{${body}}": invalid number of parts` };
    flush();
    tokens.push({
      kind: 'macro',
      letter: letter.toLowerCase(),
      upper: letter !== letter.toLowerCase(),
      ...(digits ? { digits: Number(digits) } : {}),
      reverse: rev !== '',
      delimiters: delims,
    });
    i = close;
  }
  flush();
  return { tokens };
}

const TOPLABEL = /^(?:[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9])$/;

/** Validate a domain-spec (§7.1): a macro-string ending in "." toplabel ["."] or in a macro-expand. */
export function checkDomainSpec(spec: string, letters = DOMAIN_MACRO_LETTERS): string | null {
  if (spec === '') return 'empty domain-spec';
  const t = tokenizeMacroString(spec, { letters });
  if ('error' in t) return t.error;
  const last = t.tokens[t.tokens.length - 1];
  if (last.kind !== 'literal') return null; // ends with a macro-expand
  const m = /\.([^.]*)\.?$/.exec(last.text);
  if (!m) return `invalid domain "${visible(spec)}": must end in a dot and a top-level label`;
  if (!TOPLABEL.test(m[1])) return `invalid domain "${visible(spec)}": bad top-level label "${visible(m[1])}"`;
  return null;
}

/**
 * The text with control and non-ASCII characters escaped (record text is hostile): \xNN up to U+00FF, \uXXXX above —
 * a zero-width space reads `\u200B`, never `\x200b` (which reads as a space and "0b").
 */
export function visible(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
  });
}

// ---------------------------------------------------------------------------------------------- terms

const IP4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function parseCidr(s: string, max: number, what: string): number | string {
  if (!/^(?:0|[1-9]\d*)$/.test(s)) return `invalid ${what} CIDR length "/${visible(s)}"`;
  const n = Number(s);
  if (n > max) return `${what} CIDR length /${n} out of range 0–${max}`;
  return n;
}

/** Parse one term (without surrounding spaces). Never throws; syntax problems land in `error`. */
export function parseTerm(raw: string, afterAll = false): SpfTerm {
  const base = { raw, qualifier: '+' as Qualifier, qualifierExplicit: false, hasMacro: false, afterAll };
  if (/[^\x00-\x7f]/.test(raw)) return { ...base, kind: 'invalid', error: `non-ASCII character in term "${visible(raw)}"` };

  const mod = /^([A-Za-z][A-Za-z0-9._-]*)=(.*)$/s.exec(raw);
  if (mod) {
    const name = mod[1].toLowerCase();
    const value = mod[2];
    const term: SpfTerm = { ...base, kind: 'modifier', modifier: name, value, hasMacro: value.includes('%{') };
    if (name === 'redirect' || name === 'exp') {
      term.domainSpec = value;
      const err = checkDomainSpec(value);
      if (err) term.error = `${name}=: ${err}`;
    } else {
      const t = tokenizeMacroString(value, { letters: EXP_MACRO_LETTERS });
      if ('error' in t) term.error = `modifier ${mod[1]}=: ${t.error}`;
    }
    return term;
  }

  const mech = /^([+\-~?]?)([A-Za-z][A-Za-z0-9]*)(.*)$/s.exec(raw);
  if (!mech) return { ...base, kind: 'invalid', error: `invalid term "${visible(raw)}"` };
  const [, q, nameRaw, rest] = mech;
  const name = nameRaw.toLowerCase() as Mechanism;
  const term: SpfTerm = { ...base, kind: 'mechanism', qualifier: (q || '+') as Qualifier, qualifierExplicit: q !== '' };
  if (!MECHANISMS.includes(name)) {
    return { ...term, kind: 'invalid', error: `unknown mechanism "${visible(nameRaw)}" in "${visible(raw)}"` };
  }
  term.mechanism = name;
  const fail = (reason: string): SpfTerm => ({ ...term, error: reason });

  switch (name) {
    case 'all':
      if (rest !== '') return fail(`"all" takes no argument: "${visible(raw)}"`);
      return term;
    case 'include':
    case 'exists': {
      if (!rest.startsWith(':')) return fail(`${name} needs ":domain": "${visible(raw)}"`);
      const spec = rest.slice(1);
      term.domainSpec = spec;
      term.hasMacro = spec.includes('%{');
      const err = checkDomainSpec(spec);
      return err ? fail(`${name}: ${err}`) : term;
    }
    case 'ptr': {
      if (rest === '') return term;
      if (!rest.startsWith(':')) return fail(`invalid ptr term "${visible(raw)}"`);
      const spec = rest.slice(1);
      term.domainSpec = spec;
      term.hasMacro = spec.includes('%{');
      const err = checkDomainSpec(spec);
      return err ? fail(`ptr: ${err}`) : term;
    }
    case 'a':
    case 'mx': {
      const m = /^(.*?)(?:\/(\d+))?(?:\/\/(\d+))?$/s.exec(rest)!;
      const [, specPart, c4, c6] = m;
      if (specPart !== '' && !specPart.startsWith(':')) return fail(`invalid ${name} term "${visible(raw)}"`);
      if (c4 !== undefined) {
        const n = parseCidr(c4, 32, 'ip4');
        if (typeof n === 'string') return fail(`${name}: ${n}`);
        term.cidr4 = n;
      }
      if (c6 !== undefined) {
        const n = parseCidr(c6, 128, 'ip6');
        if (typeof n === 'string') return fail(`${name}: ${n}`);
        term.cidr6 = n;
      }
      if (specPart === '') return term;
      const spec = specPart.slice(1);
      term.domainSpec = spec;
      term.hasMacro = spec.includes('%{');
      const err = checkDomainSpec(spec);
      return err ? fail(`${name}: ${err}`) : term;
    }
    case 'ip4': {
      if (!rest.startsWith(':')) return fail(`ip4 needs ":address": "${visible(raw)}"`);
      const v = rest.slice(1);
      const slash = v.indexOf('/');
      const ip = slash < 0 ? v : v.slice(0, slash);
      term.ip = ip;
      if (!IP4.test(ip)) return fail(`invalid ip4 address "${visible(ip)}"`);
      if (slash >= 0) {
        const n = parseCidr(v.slice(slash + 1), 32, 'ip4');
        if (typeof n === 'string') return fail(n);
        term.cidr4 = n;
      }
      return term;
    }
    case 'ip6': {
      if (!rest.startsWith(':')) return fail(`ip6 needs ":address": "${visible(raw)}"`);
      const v = rest.slice(1);
      const slash = v.indexOf('/');
      const ip = slash < 0 ? v : v.slice(0, slash);
      term.ip = ip;
      if (!/^[0-9A-Fa-f:.]+$/.test(ip) || !ip.includes(':') || !ipaddr.IPv6.isValid(ip)) return fail(`invalid ip6 address "${visible(ip)}"`);
      if (slash >= 0) {
        const n = parseCidr(v.slice(slash + 1), 128, 'ip6');
        if (typeof n === 'string') return fail(n);
        term.cidr6 = n;
      }
      return term;
    }
  }
}

/**
 * The term as written with its domain-spec in place of `name` — qualifier, mechanism or modifier name and CIDR lengths
 * kept (`include:%{d}._spf.example.net` → `include:example.com._spf.example.net`): a term with macros as the name it
 * expands to, for what judges names. The term as written when it has no domain-spec.
 */
export function withDomainSpec(t: Pick<SpfTerm, 'raw' | 'kind' | 'domainSpec'>, name: string): string {
  if (t.domainSpec === undefined) return t.raw;
  // The spec starts right after the first ":" of a mechanism, or the first "=" of a modifier (names hold neither).
  const at = t.raw.indexOf(t.kind === 'modifier' ? '=' : ':') + 1;
  if (at === 0 || t.raw.slice(at, at + t.domainSpec.length) !== t.domainSpec) return t.raw;
  return t.raw.slice(0, at) + name + t.raw.slice(at + t.domainSpec.length);
}

// Records repeat across domains (a bulk audit parses the same few includes and the same hosting defaults thousands
// of times): parsed records are memoised by text and handed out as copies, so callers may still modify what they get.
const PARSE_CACHE_MAX = 2048;
const parseCache = new Map<string, ParsedSpf>();

function copyParsed(p: ReadonlyParsedSpf): ParsedSpf {
  const terms = p.terms.map((t) => ({ ...t }));
  const out: ParsedSpf = { version: p.version, terms, errors: p.errors.map((e) => ({ ...e })), warnings: [...p.warnings] };
  if (p.redirect) out.redirect = terms[p.terms.indexOf(p.redirect)];
  if (p.exp) out.exp = terms[p.terms.indexOf(p.exp)];
  return out;
}

/** Parse an SPF record text. Never throws. */
export function parseSpf(text: string): ParsedSpf {
  return copyParsed(parseSpfShared(text));
}

/** A parsed record that is shared between callers: read it, never modify it. */
export interface ReadonlyParsedSpf {
  readonly version: string | null;
  readonly terms: readonly Readonly<SpfTerm>[];
  readonly errors: readonly Readonly<SpfIssue>[];
  readonly warnings: readonly string[];
  readonly redirect?: Readonly<SpfTerm>;
  readonly exp?: Readonly<SpfTerm>;
}

const TERM_CACHE_MAX = 4096;
const termCache = new Map<string, Readonly<SpfTerm>>();

/**
 * parseTerm(raw) (not after `all`) shared between callers that only read it: a bulk audit reads the same few terms
 * (a relay's ranges, the mail services' includes) for every domain.
 */
export function parseTermShared(raw: string): Readonly<SpfTerm> {
  let t = termCache.get(raw);
  if (!t) {
    if (termCache.size >= TERM_CACHE_MAX) termCache.clear();
    t = parseTerm(raw);
    termCache.set(raw, t);
  }
  return t;
}

/** parseSpf without the copy, for callers that only read the result (the audit parses the same records all day). */
export function parseSpfShared(text: string): ReadonlyParsedSpf {
  let p = parseCache.get(text);
  if (!p) {
    if (parseCache.size >= PARSE_CACHE_MAX) parseCache.clear();
    p = parseSpfUncached(text);
    parseCache.set(text, p);
  }
  return p;
}

function parseSpfUncached(text: string): ParsedSpf {
  const out: ParsedSpf = { version: null, terms: [], errors: [], warnings: [] };
  if (!isSpfRecord(text)) {
    out.errors.push({ reason: 'not an SPF record: must start with "v=spf1" followed by a space or the end', afterAll: false });
    return out;
  }
  out.version = text.slice(0, 6);
  if (/[^\x00-\x7f]/.test(text)) out.errors.push({ reason: 'record contains non-ASCII characters (RFC 7208 §3.1)', afterAll: false });
  const tokens = text.slice(6).split(' ').filter((t) => t !== '');
  let seenAll = false;
  for (const tok of tokens) {
    const term = parseTerm(tok, seenAll);
    out.terms.push(term);
    // Only mechanisms after `all` are ignored by receivers; modifiers apply to the whole record.
    const ignoredAfterAll = seenAll && term.kind !== 'modifier';
    if (term.error) out.errors.push({ reason: term.error, term: tok, afterAll: ignoredAfterAll });
    if (term.mechanism === 'all') seenAll = true;
    if (term.kind === 'modifier' && (term.modifier === 'redirect' || term.modifier === 'exp')) {
      const key = term.modifier;
      if (out[key]) out.errors.push({ reason: `${key}= appears more than once`, term: tok, afterAll: false });
      else out[key] = term;
    }
  }
  const mechAfterAll = out.terms.filter((t) => t.afterAll && t.kind !== 'modifier');
  if (mechAfterAll.length) out.warnings.push(`terms after "all" are ignored: ${mechAfterAll.map((t) => t.raw).join(' ')}`);
  if (out.redirect && out.terms.some((t) => t.mechanism === 'all')) out.warnings.push('redirect= is ignored because the record has an "all" mechanism');
  if (out.terms.some((t) => t.mechanism === 'ptr')) out.warnings.push('the ptr mechanism should not be used (RFC 7208 §5.5)');
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > 512) out.warnings.push(`record is ${bytes} bytes; keep SPF answers within 512 bytes (RFC 7208 §3.4)`);
  return out;
}

/** Render terms back into a record. Uses each term's `raw` text. */
export function renderSpf(terms: readonly Pick<SpfTerm, 'raw'>[]): string {
  return ['v=spf1', ...terms.map((t) => t.raw)].join(' ');
}

/**
 * Split a record into character-strings of at most `max` octets (UTF-8), preferring to cut just after the last of the
 * `cutAfter` octets (a space unless given) within them; never inside a UTF-8 sequence. Joined with no separator, the
 * parts give back `text` exactly (§3.3).
 */
export function splitTxt(text: string, max = 255, cutAfter: readonly number[] = [0x20]): string[] {
  if (max < 4) throw new RangeError('max must be at least 4 octets');
  const buf = Buffer.from(text, 'utf8');
  const parts: string[] = [];
  let start = 0;
  while (buf.length - start > max) {
    let end = -1;
    for (let i = start + max - 1; i > start; i--) {
      if (cutAfter.includes(buf[i])) {
        end = i + 1;
        break;
      }
    }
    if (end < 0) {
      end = start + max;
      while (end > start && (buf[end] & 0xc0) === 0x80) end--; // never cut inside a UTF-8 sequence
    }
    parts.push(buf.subarray(start, end).toString('utf8'));
    start = end;
  }
  parts.push(buf.subarray(start).toString('utf8'));
  return parts;
}
