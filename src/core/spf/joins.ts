// SPF terms that run together: a record published as several character-strings with no space at a join (zone text
// `( "v=spf1 mx include:_spf.google.com" "-all" )` — receivers join the strings as they are, RFC 7208 §3.3, and read
// `include:_spf.google.com-all`), or a pasted no-break space (U+00A0) or other non-ASCII space between two terms
// (receivers separate terms at ASCII spaces only, §4.6.1). Shared by the SPF check and the SPF fix, so both name the
// same terms and the same repair. Only a token that is clearly several terms is taken apart: every piece a valid
// term (a mechanism, or a modifier: `include:_spf.google.com` + `exp=explain.example`), and the token as receivers read it
// not working — a syntax error, an include of a name without one SPF record, a name that does not exist — while, at a
// join, each piece works on its own. `a:mail.example.c` + `a` is a name split mid-way: `a:mail.example.ca` works, and
// stays as it is.
import { canonName } from '../domain.js';
import type { Resolver } from '../resolver.js';
import { isSpfRecord, parseTerm, selectSpf } from './parse.js';

export interface RunTogether {
  /** The token as receivers read it (one term). */
  raw: string;
  /** The terms it is made of, in order. */
  parts: string[];
  /** 'join': strings joined with no space between them; 'space': a non-ASCII space stands between the terms. */
  cause: 'join' | 'space';
  /** For 'space': the character's name and code point ("a no-break space (U+00A0)"). */
  space?: string;
  /** Why the token does not work as receivers read it. */
  broken: string;
}

/** Spaces that are not the ASCII space (0x20) receivers separate terms at: tab, no-break space, Unicode spaces. */
const OTHER_SPACE = /[\t\n\v\f\r\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]/;
const OTHER_SPACES = new RegExp(`${OTHER_SPACE.source}+`, 'g');

function spaceName(ch: string): string {
  const code = `U+${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  const name =
    ch === '\u00a0' || ch === '\u202f' ? 'no-break space' : ch === '\t' ? 'tab' : ch === '\u200b' ? 'zero-width space' : ch === '\ufeff' ? 'byte-order mark' : /[\n\r\v\f]/.test(ch) ? 'line break' : 'non-ASCII space';
  return `a ${name} (${code})`;
}

/** The token with control and non-ASCII characters shown as \xNN (as parse errors show them). */
export function visibleTerm(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

interface Candidate {
  raw: string;
  parts: string[];
  cause: 'join' | 'space';
  space?: string;
}

/** Tokens of the record (`chunks`: its character-strings) that look like several terms run together. Pure. */
export function runTogetherCandidates(chunks: readonly string[]): Candidate[] {
  const text = chunks.length === 1 ? chunks[0] : chunks.join('');
  // The common case, checked first (every audit runs this): one string and no other space — nothing run together.
  if (chunks.length < 2 && !OTHER_SPACE.test(text)) return [];
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
    const space = OTHER_SPACE.exec(tok)?.[0];
    // Cut at each join inside the token, then at each run of non-ASCII spaces (dropped).
    const cuts = joins.filter((j) => j > from && j < from + tok.length).map((j) => j - from);
    if (space === undefined && cuts.length === 0) continue;
    if (out.some((c) => c.raw === tok)) continue;
    const pieces: string[] = [];
    let prev = 0;
    for (const c of [...cuts, tok.length]) {
      pieces.push(...tok.slice(prev, c).split(OTHER_SPACES));
      prev = c;
    }
    const parts = pieces.filter((p) => p !== '');
    if (!parts.length || (parts.length < 2 && !space)) continue;
    const ok = parts.every((p) => {
      const t = parseTerm(p);
      return !t.error && (t.kind === 'mechanism' || t.kind === 'modifier');
    });
    if (!ok) continue;
    out.push({ raw: tok, parts, cause: space ? 'space' : 'join', ...(space ? { space: spaceName(space) } : {}) });
  }
  return out;
}

/**
 * Why `raw`, read as one term, does not work — null when it works as receivers read it (then it is not taken apart);
 * `unknown` when DNS did not answer (nothing is decided on that).
 */
async function brokenAsRead(resolver: Resolver, raw: string): Promise<string | null | { unknown: string }> {
  const t = parseTerm(raw);
  if (/[^\x21-\x7e]/.test(raw)) return 'a term with that character is not valid SPF, so receivers fail the whole record (permerror)';
  if (t.error || t.kind === 'invalid') return `it is not valid SPF (${t.error ?? 'unknown term'}), so receivers fail the whole record (permerror)`;
  if (t.kind !== 'mechanism' || !t.domainSpec || t.hasMacro) return null;
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

/**
 * The run-together tokens of a record (`chunks`: its character-strings) that do not work as receivers read them, each
 * with the terms it is made of; `unknown` when DNS did not answer for one of them (that one is left as it is).
 */
export async function runTogetherTerms(resolver: Resolver, chunks: readonly string[]): Promise<{ found: RunTogether[]; unknown?: string }> {
  const found: RunTogether[] = [];
  let unknown: string | undefined;
  next: for (const c of runTogetherCandidates(chunks)) {
    const broken = await brokenAsRead(resolver, c.raw);
    if (broken === null) continue;
    if (typeof broken !== 'string') {
      unknown ??= broken.unknown;
      continue;
    }
    // At a join, each piece must work on its own too (`include:x.example` + `a` where x.example publishes no SPF
    // record is no clearer as two terms than as one). No valid term holds a non-ASCII space: there, the pieces are it.
    if (c.cause === 'join') {
      for (const part of c.parts) {
        const bad = await brokenAsRead(resolver, part);
        if (bad === null) continue;
        if (typeof bad !== 'string') unknown ??= bad.unknown;
        continue next;
      }
    }
    found.push({ ...c, broken });
  }
  return unknown ? { found, unknown } : { found };
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
  if (f.cause === 'join') {
    return `the record is published as several strings with no space where one ends and the next begins, and receivers join the strings as they are (RFC 7208 §3.3), so they read ${f.parts.join(' ')} as one term, ${one}: ${f.broken}`;
  }
  // One term with a stray character beside it (a trailing no-break space): nothing runs together, a character goes.
  if (f.parts.length === 1) return `receivers separate terms only at ASCII spaces, so they read "${one}", with ${f.space} in it, as the term: ${f.broken}`;
  return `${f.space} stands where a space belongs, and receivers separate terms only at ASCII spaces, so they read ${f.parts.join(' ')} as one term, "${one}": ${f.broken}`;
}

/** The SPF fix's note for a run-together token (or a term with a stray non-ASCII space). */
export function runTogetherNote(f: RunTogether): string {
  return f.parts.length === 1
    ? `Removes ${f.space} from ${visibleTerm(f.raw)}, leaving ${f.parts[0]}: ${runTogetherWhy(f)}.`
    : `Separates ${visibleTerm(f.raw)} into ${f.parts.join(' ')}: ${runTogetherWhy(f)}.`;
}

/** The SPF check's message for a run-together token (or a term with a stray non-ASCII space). */
export function runTogetherMessage(f: RunTogether): string {
  return f.parts.length === 1
    ? `The SPF record has ${f.space} in ${f.parts[0]}: ${runTogetherWhy(f)}. The SPF fix removes the stray character.`
    : `The SPF record runs ${f.parts.join(' ')} together: ${runTogetherWhy(f)}. The SPF fix separates them again.`;
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
