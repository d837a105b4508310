// SPF terms that run together: a record published as several character-strings with no space at a join (zone text
// `( "v=spf1 mx include:_spf.google.com" "-all" )` — receivers join the strings as they are, RFC 7208 §3.3, and read
// `include:_spf.google.com-all`), or a pasted no-break space (U+00A0) or other non-ASCII space between two terms
// (receivers separate terms at ASCII spaces only, §4.6.1). Shared by the SPF check and the SPF fix, so both name the
// same terms and the same repair. Only a token that is clearly several terms is taken apart: every piece a valid
// term (a mechanism, or a modifier: `include:_spf.google.com` + `exp=explain.example`), and the token as receivers read it
// not working — a syntax error, an include of a name without one SPF record, a name that does not exist — while, at a
// join, each piece works on its own. `a:mail.example.c` + `a` is a name split mid-way: `a:mail.example.ca` works, and
// stays as it is. A term with stray characters in it — invisible ones (a zero-width space, a soft hyphen…) or a
// no-break space pasted into a name, `include:_spf.goo\u200Bgle.com` — is the term without them (see STRAY): receivers
// fail the record as it is (non-ASCII, RFC 7208 §3.1), and dropping the term would drop the service the customer meant.
// That holds when a string ends inside such a term too (a panel stores a TXT record over 255 bytes as 255-byte strings,
// cut wherever byte 255 falls): receivers join the strings first, so the term is the joined one without the characters.
import { listed } from '../text.js';
import { canonName } from '../domain.js';
import type { Resolver } from '../resolver.js';
import { isSpfRecord, parseTerm, selectSpf, visible } from './parse.js';

export interface RunTogether {
  /** The token as receivers read it (one term). */
  raw: string;
  /** The terms it is made of, in order (one: a term with stray characters in it). */
  parts: string[];
  /**
   * 'join': strings joined with no space between them; 'space': a non-ASCII space stands between the terms; 'stray':
   * one term with stray characters in it (see STRAY), which go.
   */
  cause: 'join' | 'space' | 'stray';
  /** For 'space': the character's name and code point ("a no-break space (U+00A0)"). */
  space?: string;
  /** The stray characters the repair removes (not those it separates at), by name and code point; absent: none. */
  removed?: string[];
  /** Whether a removed character stood inside a term (a name), not only at its ends. */
  inside?: boolean;
  /** Why the token does not work as receivers read it. */
  broken: string;
}

/** Spaces that are not the ASCII space (0x20) receivers separate terms at: tab, no-break space, Unicode spaces. */
const OTHER_SPACE = /[\t\n\v\f\r\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]/;
const OTHER_SPACES = new RegExp(`${OTHER_SPACE.source}+`, 'g');
/**
 * Characters with no width that text pasted from a web page or a document carries along unseen: the soft hyphen, the
 * zero-width space, non-joiner and joiner, the word joiner and the invisible operators, the byte-order mark (zero-width
 * no-break space), the left-to-right, right-to-left and Arabic letter marks, the Mongolian vowel separator. In a zone
 * editor a term holding one looks exactly like the term without it, so that is the term meant: the repair removes
 * them. Not the bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): they reorder what is
 * shown, so the text without them is not what the customer saw (and they are a known way to disguise text). Not
 * letters of any script either: a name in another script (an IDN, a look-alike letter) or a typo is another matter,
 * left as receivers read it.
 */
const INVISIBLE = /[\u00ad\u061c\u180e\u200b-\u200f\u2060-\u2064\ufeff]/g;
/**
 * Characters the repair may remove from inside a term: the invisible ones and the non-ASCII spaces (a no-break space
 * pasted into a name). Not tabs or line breaks (ASCII controls): they are no paste artefact hidden in a name, they
 * show — between terms they are separated at, as any other space.
 */
const STRAY_CHARS = '\\u00a0\\u00ad\\u061c\\u1680\\u180e\\u2000-\\u200f\\u202f\\u205f\\u2060-\\u2064\\u3000\\ufeff';
const STRAY = new RegExp(`[${STRAY_CHARS}]`, 'g');
/** A stray character with something other than a space or another stray character on both sides: inside a term. */
const STRAY_INSIDE = new RegExp(`[^${STRAY_CHARS}\\s][${STRAY_CHARS}]+[^${STRAY_CHARS}\\s]`);
/** Any character that may make a token several terms, or a term with stray characters. */
const ODD = /[\t\n\v\f\r\u00a0\u00ad\u061c\u1680\u180e\u2000-\u200f\u2028\u2029\u202f\u205f\u2060-\u2064\u3000\ufeff]/;

function codePoint(ch: string): string {
  return `U+${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}

const CHAR_NAMES: Record<string, string> = {
  '\u00a0': 'no-break space',
  '\u202f': 'no-break space',
  '\t': 'tab',
  '\u200b': 'zero-width space',
  '\u200c': 'zero-width non-joiner',
  '\u200d': 'zero-width joiner',
  '\u2060': 'word joiner',
  '\ufeff': 'byte-order mark',
  '\u00ad': 'soft hyphen',
  '\u200e': 'left-to-right mark',
  '\u200f': 'right-to-left mark',
  '\u061c': 'Arabic letter mark',
  '\u180e': 'Mongolian vowel separator',
};

/** "a no-break space (U+00A0)", "a zero-width space (U+200B)", "an invisible operator (U+2062)". */
function spaceName(ch: string): string {
  const name =
    CHAR_NAMES[ch] ?? (/[\n\r\v\f]/.test(ch) ? 'line break' : /[\u2061-\u2064]/.test(ch) ? 'invisible operator' : 'non-ASCII space');
  return `${/^[aeiou]/i.test(name) ? 'an' : 'a'} ${name} (${codePoint(ch)})`;
}

/** The token with control and non-ASCII characters escaped, as parse errors show them (parse.ts `visible`). */
export function visibleTerm(s: string): string {
  return visible(s);
}

/** One way of reading a token: the terms it is made of, and what was done to get them. */
interface Reading {
  parts: string[];
  /** The character it was separated at first (a non-ASCII space), if any. */
  space?: string;
  /** The characters removed (not separated at). */
  removed: string[];
  /** Whether it was cut at a join (a string boundary). */
  joined: boolean;
}

interface Candidate {
  raw: string;
  /** The ways of reading it in which every piece is a valid term, the one to prefer first (see runTogetherTerms). */
  readings: Reading[];
  /** The reading taken when none works in DNS (one of `readings`). */
  fallback: Reading;
  /** Whether it holds any character other than at a join (a space, a stray character). */
  odd: boolean;
}

function isValidTerm(p: string): boolean {
  const t = parseTerm(p);
  return !t.error && (t.kind === 'mechanism' || t.kind === 'modifier');
}

/**
 * The readings of a token (`cuts`: offsets of string joins inside it), each a list of valid terms, in the order they are
 * preferred: as the customer sees it (invisible characters gone, cut at spaces); every non-ASCII space and zero-width
 * space a separator (how such tokens were always read: `include:_spf.google.com\u200b-all`); every stray character gone
 * (a no-break space inside a name). Readings with the same terms are one. With joins inside the token, each of these
 * first with the strings joined as receivers join them (nothing between, RFC 7208 §3.3: a panel cut a long record at
 * byte 255, `include:_spf.go` + `o\u200Bgle.com`), then cut at the joins too (the customer wrote two terms as two
 * strings with no space between): a join is cut only where the joined reading does not work, as for a token with no
 * stray character (`a:mail.example.c` + `a` stays `a:mail.example.ca` when that works). `fallback`, the reading taken
 * when none works in DNS: the first cut at the joins, as before joined readings were offered; else the first.
 */
function readingsOf(tok: string, cuts: number[]): { readings: Reading[]; fallback: Reading | undefined } {
  const names = (re: RegExp, text: string) => [...new Set(text.match(re) ?? [])].map(spaceName);
  const make = (pieces: string[], drop: RegExp | null): Reading | null => {
    const kept = drop ? pieces.map((p) => p.replace(drop, '')) : pieces;
    const parts = kept.flatMap((p) => p.split(OTHER_SPACES)).filter((p) => p !== '');
    if (!parts.length || !parts.every(isValidTerm)) return null;
    const removed = drop ? names(drop, tok) : [];
    const space = OTHER_SPACE.exec(kept.join(''))?.[0];
    return { parts, removed, joined: pieces.length > 1, ...(space ? { space: spaceName(space) } : {}) };
  };
  const each = (pieces: string[]) => [make(pieces, INVISIBLE), make(pieces, null), make(pieces, STRAY)];
  const pieces: string[] = [];
  let prev = 0;
  for (const c of [...cuts, tok.length]) {
    pieces.push(tok.slice(prev, c));
    prev = c;
  }
  const key = (r: Reading) => r.parts.join(' ');
  const unique = (rs: (Reading | null)[]) => rs.filter((r, i): r is Reading => r !== null && rs.findIndex((o) => o !== null && key(o) === key(r)) === i);
  const cut = unique(each(pieces));
  // The whole token, joined: only when it holds a join (else it is the reading above) and a character to remove or
  // separate at (else it is the token as receivers read it, which does not work, or it would not be looked at).
  const whole = cuts.length && ODD.test(tok) ? unique(each([tok])) : [];
  // A joined reading with the same terms as one cut at the joins is that one, said as before (a zero-width space right
  // at the join: "runs … together … several strings", not "stands where a space belongs").
  const joinedFirst = whole.map((w) => cut.find((r) => key(r) === key(w)) ?? w);
  const readings = [...joinedFirst, ...cut.filter((r) => !joinedFirst.includes(r))];
  return { readings, fallback: cut[0] ?? readings[0] };
}

/** Tokens of the record (`chunks`: its character-strings) that look like several terms run together. Pure. */
export function runTogetherCandidates(chunks: readonly string[]): Candidate[] {
  const text = chunks.length === 1 ? chunks[0] : chunks.join('');
  // The common case, checked first (every audit runs this): one string and no other space — nothing run together.
  if (chunks.length < 2 && !ODD.test(text)) return [];
  if (!isSpfRecord(text)) return [];
  // Where one string ends and the next begins (offsets into the joined text).
  const joins: number[] = [];
  let at = 0;
  for (let i = 0; i < chunks.length - 1; i++) joins.push((at += chunks[i].length));
  const out: Candidate[] = [];
  let start = 6;
  for (const tok of text.slice(6).split(' ')) {
    const from = start;
    start += tok.length + 1;
    if (!tok) continue;
    const odd = ODD.test(tok);
    // Cut at each join inside the token, then at each run of non-ASCII spaces (dropped), or drop stray characters.
    const cuts = joins.filter((j) => j > from && j < from + tok.length).map((j) => j - from);
    if (!odd && cuts.length === 0) continue;
    if (out.some((c) => c.raw === tok)) continue;
    const all = readingsOf(tok, cuts);
    const readings = all.readings.filter((r) => r.parts.length > 1 || odd);
    const fallback = all.fallback && readings.includes(all.fallback) ? all.fallback : readings[0];
    if (readings.length) out.push({ raw: tok, readings, fallback, odd });
  }
  return out;
}

/** What a term with a character outside printable ASCII does at receivers, in words. */
function nonAsciiBroken(raw: string): string {
  const said = 'SPF records are ASCII only (RFC 7208 §3.1), so receivers fail the whole record (permerror)';
  // Receivers that look the name up anyway ask for it with those octets in it: no such name exists, and an include of
  // a name that does not exist is a permerror as well (§5.2).
  const t = parseTerm(raw.replace(STRAY, ''));
  if (t.mechanism === 'include' && !t.error) return `${said}; one that looks the name up anyway finds no such name, and an include of a name that does not exist is a permerror as well (RFC 7208 §5.2)`;
  return said;
}

/**
 * Why `raw`, read as one term, does not work — null when it works as receivers read it (then it is not taken apart);
 * `unknown` when DNS did not answer (nothing is decided on that).
 */
async function brokenAsRead(resolver: Resolver, raw: string): Promise<string | null | { unknown: string }> {
  const t = parseTerm(raw);
  if (/[^\x00-\x7f]/.test(raw)) return nonAsciiBroken(raw);
  if (/[^\x21-\x7e]/.test(raw)) return 'a term with that character is not valid SPF, so receivers fail the whole record (permerror)';
  if (t.error || t.kind === 'invalid') return `it is not valid SPF (${t.error ?? 'unknown term'}), so receivers fail the whole record (permerror)`;
  if (t.kind !== 'mechanism' || !t.domainSpec) return null;
  // A name with macros depends on the sender — but one that holds a ":" or "=" outside its macros (`include:_spf.d` run
  // together with `exists:%{i}.list.example`) is no name any sender's expansion makes exist: host names have neither
  // (differential QA: the token was not reported, and pyspf answered permerror for every sender it reached).
  if (t.hasMacro) {
    const literal = t.domainSpec.replace(/%\{[^}]*\}|%[%_-]/g, '');
    const odd = /[:=]/.exec(literal)?.[0];
    if (!odd) return null;
    return t.mechanism === 'include'
      ? `it names ${t.domainSpec}, and with its macros expanded that name still holds "${odd}": no such name exists, so receivers fail the whole record (permerror) for every sender that reaches it`
      : `it names ${t.domainSpec}, and with its macros expanded that name still holds "${odd}": no such name exists, so it matches nobody and costs a void lookup`;
  }
  const name = canonName(t.domainSpec);
  if (t.mechanism === 'include') {
    const a = await resolver.resolve(name, 'TXT');
    if (a.status === 'unknown') return { unknown: `looking up the SPF record of ${name} got no answer (${a.error ?? 'timeout or server failure'})` };
    if (a.status === 'nxdomain') return `${name} does not exist, so receivers fail the whole record (permerror)`;
    const sel = a.status === 'ok' ? selectSpf(a.records).status : 'none';
    if (sel === 'found') return null;
    return `${name} publishes ${sel === 'multiple' ? 'several SPF records' : 'no SPF record'}, so receivers fail the whole record (permerror)`;
  }
  if (t.mechanism === 'a' || t.mechanism === 'mx' || t.mechanism === 'exists') {
    const a = await resolver.resolve(name, t.mechanism === 'mx' ? 'MX' : 'A');
    if (a.status === 'unknown') return { unknown: `looking up ${name} got no answer (${a.error ?? 'timeout or server failure'})` };
    if (a.status === 'nxdomain') return `${name} does not exist, so it matches nobody and costs a void lookup`;
  }
  return null;
}

/** Whether every part works on its own (true), one does not (false), or DNS did not answer for one ({unknown}). */
async function partsWork(resolver: Resolver, parts: readonly string[]): Promise<boolean | { unknown: string }> {
  for (const part of parts) {
    const bad = await brokenAsRead(resolver, part);
    if (bad === null) continue;
    return typeof bad === 'string' ? false : bad;
  }
  return true;
}

/** The run-together token `raw`, read as `r`, with why it is broken as receivers read it. */
function found(raw: string, r: Reading, broken: string): RunTogether {
  const single = r.parts.length === 1 && !r.joined;
  const removed = single ? [...new Set([...r.removed, ...(r.space ? [r.space] : [])])] : r.removed;
  // A removed character inside the term (a name), not only before or after it.
  const inside = STRAY_INSIDE.test(raw);
  return {
    raw,
    parts: r.parts,
    cause: single ? 'stray' : r.space ? 'space' : 'join',
    ...(r.space && !single ? { space: r.space } : {}),
    ...(removed.length ? { removed } : {}),
    ...(removed.length && inside ? { inside: true } : {}),
    broken,
  };
}

/**
 * The run-together tokens of a record (`chunks`: its character-strings) that do not work as receivers read them, each
 * with the terms it is made of — or, for one term with stray characters in it (a zero-width space or a no-break space
 * pasted into a name), the term without them; `unknown` when DNS did not answer for one of them (that one is left as
 * it is). Where a token can be read more than one way (`a:mail.example.c` and a no-break space before `a`: two terms,
 * or `a:mail.example.ca`), the reading whose every term works is taken, the customer's view first (invisible
 * characters gone, a visible space a separator), the strings joined as receivers join them before a cut at a join
 * (see readingsOf); when none works, the customer's view cut at the joins (the reading taken before the joined ones
 * were offered), or with no such reading the first.
 */
export async function runTogetherTerms(resolver: Resolver, chunks: readonly string[]): Promise<{ found: RunTogether[]; unknown?: string }> {
  const out: RunTogether[] = [];
  let unknown: string | undefined;
  next: for (const c of runTogetherCandidates(chunks)) {
    const broken = await brokenAsRead(resolver, c.raw);
    if (broken === null) continue;
    if (typeof broken !== 'string') {
      unknown ??= broken.unknown;
      continue;
    }
    // Only joins, nothing else in the token: each piece must work on its own too (`include:x.example` + `a` where
    // x.example publishes no SPF record is no clearer as two terms than as one).
    if (!c.odd) {
      const works = await partsWork(resolver, c.readings[0].parts);
      if (works === true) out.push(found(c.raw, c.readings[0], broken));
      else if (works !== false) unknown ??= works.unknown;
      continue;
    }
    if (c.readings.length === 1) {
      out.push(found(c.raw, c.readings[0], broken));
      continue;
    }
    // Several readings: the first whose every term works.
    for (const r of c.readings) {
      const works = await partsWork(resolver, r.parts);
      if (works === false) continue;
      if (works !== true) {
        unknown ??= works.unknown;
        continue next;
      }
      out.push(found(c.raw, r, broken));
      continue next;
    }
    out.push(found(c.raw, c.fallback, broken));
  }
  return unknown ? { found: out, unknown } : { found: out };
}

/** The record with each run-together token written as the terms it is made of, separated by spaces. */
export function separateTerms(text: string, found: readonly RunTogether[]): string {
  if (!found.length) return text;
  const byRaw = new Map(found.map((f) => [f.raw, f.parts.join(' ')]));
  return text.slice(0, 6) + text.slice(6).split(' ').map((tok) => byRaw.get(tok) ?? tok).join(' ');
}


/** Why receivers read `f.parts` as one term, in words (for the check's finding and the fix's note). */
export function runTogetherWhy(f: RunTogether): string {
  const one = visibleTerm(f.raw);
  const also = f.removed?.length && f.cause !== 'stray' ? `; it also holds ${listed(f.removed)}, which the repair removes` : '';
  if (f.cause === 'join') {
    return `the record is published as several strings with no space where one ends and the next begins, and receivers join the strings as they are (RFC 7208 §3.3), so they read ${f.parts.join(' ')} as one term, ${one}: ${f.broken}${also}`;
  }
  // One term with a stray character in it (a trailing no-break space, a zero-width space in a name): nothing runs
  // together, a character goes.
  if (f.cause === 'stray') {
    const chars = listed(f.removed ?? []);
    if (f.inside) {
      // Inside a name: the name receivers read is not the one the customer sees in the zone editor.
      const hidden = f.removed?.every((c) => !/space \(U\+(00A0|202F|1680|200[0-A]|205F|3000)\)/.test(c));
      const what = (f.removed?.length ?? 0) > 1 ? 'characters most editors do not show' : 'a character most editors do not show';
      return `receivers read the term as it is written, "${one}", with ${chars} inside it${hidden ? ` (${what}, often carried along by text pasted from a web page or a document)` : ''}: ${f.broken}`;
    }
    return `receivers separate terms only at ASCII spaces, so they read "${one}", with ${chars} in it, as the term: ${f.broken}`;
  }
  return `${f.space} stands where a space belongs, and receivers separate terms only at ASCII spaces, so they read ${f.parts.join(' ')} as one term, "${one}": ${f.broken}${also}`;
}

/** The SPF fix's note for a run-together token (or a term with stray characters). */
export function runTogetherNote(f: RunTogether): string {
  return f.cause === 'stray'
    ? `Removes ${listed(f.removed ?? [])} from ${visibleTerm(f.raw)}, leaving ${f.parts[0]}: ${runTogetherWhy(f)}.`
    : `Separates ${visibleTerm(f.raw)} into ${f.parts.join(' ')}: ${runTogetherWhy(f)}.`;
}

/** The SPF check's message for a run-together token (or a term with stray characters). */
export function runTogetherMessage(f: RunTogether): string {
  const many = (f.removed?.length ?? 0) > 1;
  return f.cause === 'stray'
    ? `The SPF record has ${listed(f.removed ?? [])} in ${f.parts[0]}: ${runTogetherWhy(f)}. The SPF fix removes the stray character${many ? 's' : ''}.`
    : `The SPF record runs ${f.parts.join(' ')} together: ${runTogetherWhy(f)}. The SPF fix separates them again${f.removed?.length ? ` and removes ${listed(f.removed)}` : ''}.`;
}

/** A TXT record meant as the SPF record whose version tag receivers do not recognise (see versionRunTogether). */
export interface VersionRunTogether {
  /** The record's strings with the version tag repaired (`v=spf1` and an ASCII space), the terms as they were. */
  chunks: string[];
  /** The start of the record as receivers read it (`v=spf1\xa0include:_spf.google.com`, `v=spf1mx`). */
  raw: string;
  /** Why receivers find no SPF record in it, in words. */
  why: string;
}

/**
 * A TXT record meant as the SPF record that receivers do not take for one — they need "v=spf1" followed by an ASCII
 * space or the end (RFC 7208 §4.5): a non-ASCII space right after `v=spf1` (`v=spf1\u00a0include:…`) or before it (a
 * byte-order mark), or `v=spf1` published as a string of its own with no space before the next (`"v=spf1" "mx -all"`,
 * read `v=spf1mx -all`; only when what follows is a valid term). Receivers see no SPF record at all (result none): the
 * record is repaired in place, its terms kept — a new record beside it would leave a near-SPF record that whoever
 * corrects it turns into a second SPF record. Null when the TXT record is an SPF record already, or not clearly one.
 * Pure.
 */
const VERSION_RUN_TOGETHER = new RegExp(`^(${OTHER_SPACE.source}*)(v=spf1)(${OTHER_SPACE.source}*)`, 'i');

/** A term that can follow `v=spf1` in a record meant as SPF: a mechanism, or redirect=/exp= (not any name=value text). */
function spfTermAfterTag(token: string): boolean {
  const t = parseTerm(token);
  return !t.error && (t.kind === 'mechanism' || (t.kind === 'modifier' && /^(redirect|exp)=/i.test(token)));
}

export function versionRunTogether(chunks: readonly string[]): VersionRunTogether | null {
  const text = chunks.join('');
  if (isSpfRecord(text)) return null;
  const m = VERSION_RUN_TOGETHER.exec(text);
  if (!m) return null;
  const [prefix, before, tag, after] = m;
  const rest = text.slice(prefix.length);
  const joins: number[] = [];
  let at = 0;
  for (let i = 0; i < chunks.length - 1; i++) joins.push((at += chunks[i].length));
  const joined = joins.includes(prefix.length) && rest !== '' && !rest.startsWith(' ');
  // The first term after the tag, as it would stand once separated: up to a space or the next string's start
  // (`"v=spf1" "mx" "-all"`: `mx`; review).
  const nextJoin = joins.find((j) => j > prefix.length);
  const upToSpace = rest.split(' ')[0];
  const first = nextJoin !== undefined && nextJoin - prefix.length < upToSpace.length ? rest.slice(0, nextJoin - prefix.length) : upToSpace;
  if (joined && !after) {
    // `v=spf1` + `mx`: taken apart only when what follows is a valid term (`v=spf10` is no SPF record meant).
    if (!spfTermAfterTag(first)) return null;
  } else if (!before && !after) return null;
  else if (!after && rest !== '' && !rest.startsWith(' ')) return null;
  // After a stray space too, only a term SPF knows follows (`v=spf1\u00a0google-site-verification=…` is not SPF).
  else if (first !== '' && !spfTermAfterTag(first)) return null;
  const sep = rest === '' || rest.startsWith(' ') ? '' : ' ';
  const fixed = tag + sep + rest;
  // The other joins, moved with the text (for the run-together terms after the tag).
  const shift = prefix.length - tag.length - sep.length;
  const cuts = joins.filter((j) => j > prefix.length).map((j) => j - shift);
  const out: string[] = [];
  let prev = 0;
  for (const c of [...cuts, fixed.length]) {
    out.push(fixed.slice(prev, c));
    prev = c;
  }
  const raw = visibleTerm(prefix + first);
  const cause = joined && !after
    ? `the record is published as several strings, the first of them "${tag}" with no space after it, and receivers join the strings as they are (RFC 7208 §3.3), so they read ${raw}`
    : after
      ? `${spaceName(after[0])} stands right after ${tag} where a space belongs, so receivers read "${raw}"`
      : `${spaceName(before[0])} stands before ${tag}, so receivers read "${raw}"`;
  return {
    chunks: out,
    raw,
    why: `${cause}, and they take a TXT record for the SPF record only when it begins with "v=spf1" and an ASCII space (RFC 7208 §4.5): they find no SPF record at all (SPF result none)`,
  };
}
