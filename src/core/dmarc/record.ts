// DMARC records (RFC 7489, with the DMARCbis / RFC 9989 changes): parse, validate, render, report authorisation.
// Pure: no I/O, never throws on a bad record — problems come back as lists of reasons.
//
// Semantics chosen per tag (errors make the record fail; warnings are reported but the record still applies):
//
// | tag / case                         | we follow   | outcome                                                                 |
// |------------------------------------|-------------|-------------------------------------------------------------------------|
// | v (first, = DMARC1)                | both        | missing/not first/other value → error. Tag name and whitespace around    |
// |                                    |             | `=`/`;` are tolerant (`V = DMARC1\t;`); the value DMARC1 is exact        |
// |                                    |             | (case-sensitive: see isDmarcRecord) — `v=dmarc1` is no DMARC record:     |
// |                                    |             | not counted, not merged, never a policy (RFC 7489 §6.6.3 discards it)    |
// | SPF record at _dmarc (`v=spf1 …`)  | both        | error                                                                   |
// | syntax (part without `=`)          | both        | error                                                                   |
// | duplicate tag                      | both        | error (RFC 7489 §6.3 grammar; checkdmarc InvalidDMARCTag)               |
// | p missing, valid rua present       | both        | warning: DMARCbis ≡ p=none; RFC 7489 §6.6.3 also acts as p=none          |
// | p missing/invalid, valid rua, sp=  | RFC 7489    | the record applies p=none to the domain AND its subdomains (and np): the |
// | or np= given                       |             | receiver "acts as if a record containing a valid v tag and p=none was    |
// |                                    |             | retrieved" (§6.6.3) — sp/np are not applied without a valid p; warning   |
// | p missing, no valid rua            | RFC 7489    | error: RFC 7489 receivers apply no DMARC processing at all (DMARCbis     |
// |                                    |             | would read p=none — either way the record does nothing)                  |
// | sp invalid (p valid)               | RFC 7489    | error; the record counts as one without a valid p (§6.6.3 step 6): p=none|
// |                                    |             | for the domain and its subdomains with a valid rua, else no processing   |
// | one of several records             | both        | no remark says what receivers apply from it (p=none, sp/np not applied): |
// | (opts.several)                     |             | they apply none of the records (§6.6.3) — the check's dmarc.multiple     |
// | p / sp / np value                  | both        | none|quarantine|reject (case-insensitive), else error                    |
// | p not right after v                | DMARCbis    | warning (RFC 7489 required it; older readers may reject)                 |
// | sp weaker than p                   | —           | warning (subdomains less protected)                                      |
// | np                                 | DMARCbis    | accepted; bad value → error                                              |
// | adkim / aspf                       | both        | r|s, else error                                                          |
// | fo                                 | both        | colon list of 0 1 d s, else error; `0` with `1` or repeats → warning;    |
// |                                    |             | fo without ruf → warning (no effect)                                     |
// | pct / rf / ri                      | DMARCbis    | warning "removed in DMARCbis"; bad rf/ri values are warnings, not errors;|
// |                                    |             | pct<100 additionally warns that only part of the mail is hit             |
// | pct not a whole number 0–100       | RFC 7489    | error (§6.3: pct is 1*3DIGIT, 0–100; receivers discard a bad value for   |
// |                                    |             | the default 100): the DMARC fix drops it, as any invalid tag             |
// | t                                  | DMARCbis    | y|n, else error; t=y → warning (test mode, policy not enforced)          |
// | psd                                | DMARCbis    | y|n|u, else error                                                        |
// | unknown tag                        | DMARCbis    | warning (ignored)                                                        |
// | rua / ruf URI without scheme/bad   | both        | error (checkdmarc InvalidDMARCReportURI)                                 |
// | rua / ruf `!size` suffix           | DMARCbis    | warning (suffix dropped in DMARCbis; kept in `size`)                     |
// | rua / ruf non-mailto scheme        | both        | warning (receivers are only required to support mailto)                  |
// | rua missing                        | —           | warning (no aggregate reports: you cannot see who sends as you)          |
// | parked option, p or sp ≠ reject    | —           | warning                                                                  |
import { aLabelName, registrableDomain } from '../domain.js';
import { octetsOf } from '../octets.js';
import { quoteShort } from '../text.js';

export type DmarcPolicy = 'none' | 'quarantine' | 'reject';

export interface ReportUri {
  /** The URI as written (trimmed), including any `!size` suffix. */
  raw: string;
  /** Lower-case scheme, e.g. `mailto`. */
  scheme: string;
  /** The URI without the `!size` suffix (for mailto: the mailbox `local@domain`). */
  address: string;
  /** Lower-case host of the destination (mailto: the part after `@`), '' when none can be read. */
  domain: string;
  /** `!size` limit in bytes (k/m/g/t = 2^10/2^20/2^30/2^40), when given. */
  size?: number;
}

export interface DmarcRecord {
  /** Every tag in record order (names lower case, values trimmed); the first occurrence of a duplicate wins. */
  tags: Record<string, string>;
  /**
   * Effective domain policy: `p` when valid; `none` when `p` is missing or invalid but a valid `rua` exists
   * (RFC 7489 §6.6.3 / DMARCbis); null when no DMARC processing would happen (no record, or no p and no rua).
   */
  policy: DmarcPolicy | null;
  /** `sp` when valid, otherwise the effective policy. */
  subdomainPolicy: DmarcPolicy | null;
  /** `np` when valid, otherwise the subdomain policy (DMARCbis). */
  nonExistentPolicy: DmarcPolicy | null;
  /** `t=y` (DMARCbis test mode). */
  testing: boolean;
  rua: ReportUri[];
  ruf: ReportUri[];
  errors: string[];
  warnings: string[];
}

export interface DmarcParseOptions {
  /** The domain sends no mail: warn when p or sp is not reject. */
  parked?: boolean;
  /**
   * The record is one of several DMARC records at its name: receivers apply none of them (RFC 7489 §6.6.3), so the
   * remarks do not say what they would make of this one alone (p=none, an sp=/np= not applied) — the check's
   * dmarc.multiple says what applies. The record's own reading (policy, subdomainPolicy…) is unchanged: the fix merges
   * by it.
   */
  several?: boolean;
}

const KNOWN_TAGS = new Set(['v', 'p', 'sp', 'adkim', 'aspf', 'fo', 'pct', 'rf', 'ri', 'rua', 'ruf', 'np', 't', 'psd']);
const POLICIES: readonly string[] = ['none', 'quarantine', 'reject'];
const STRENGTH: Record<DmarcPolicy, number> = { none: 0, quarantine: 1, reject: 2 };
const TAG_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const HOSTNAME = /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const SIZE_UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/**
 * Is this TXT value a DMARC record receivers read (`v=DMARC1` first; whitespace around `=` and the case of the tag name
 * `v` tolerated)? The one test for the check's count, the fix's merge and the organizational domain's policy.
 *
 * The text must start with the `v`: RFC 7489 §6.6.3 discards "records that do not start with a v= tag", and §6.4's
 * ABNF has no whitespace before it. ` v=DMARC1; p=none` was counted as a record (dmarc.ok) while Mail::DMARC discards
 * it and applies the organizational domain's policy, or none (test/e2e/dmarc-verdicts-oracle.test.ts): it is one of
 * the unreadable records `repairMeantDmarc` rewrites, as a TXT with a space before `v=spf1` is no SPF record.
 *
 * The value `DMARC1` is case-sensitive. mail-auth.md §3.1 says only that a record must begin with `v=DMARC1` and that
 * others are discarded (RFC 7489 §6.6.3), nothing about case; RFC 7489 §6.4's ABNF spells the value as
 * `%x44 %x4d %x41 %x52 %x43 %x31` (exact octets, while the quoted tag name "v" is case-insensitive), and the parser's
 * own syntax finding calls `v=dmarc1` an invalid version. So `v=dmarc1; p=none` is one of the records receivers
 * discard: it is not a second DMARC record (no dmarc.multiple) and its policy never enters a merge — it is one of the
 * unreadable records `repairMeantDmarc` rewrites when it is the only one.
 */
export function isDmarcRecord(txt: string): boolean {
  return /^[vV]\s*=\s*DMARC1\s*(;|$)/.test(txt);
}

/** Who reads DMARC records with libopendmarc (OpenDMARC 1.4), for messages. */
export const OPENDMARC = 'OpenDMARC (the DMARC milter of many Postfix and Sendmail receivers)';

/**
 * Why the DMARC fix does not write this rf= or ri= value, or null when it does. RFC 7489 receivers fall back to the
 * default over a bad value (the parser only remarks on them: DMARCbis removed both tags), but OpenDMARC refuses the
 * whole record over some (openDmarcRefuses) and misreads others (rf=iodef); the fix leaves both at their defaults
 * unless the value is one every reader takes alike (afrf; a 32-bit number of seconds).
 */
export function openDmarcRefusedTag(tag: string, value: string): string | null {
  if (tag === 'rf' && !/^afrf$/i.test(value.trim()))
    return 'afrf is the only registered failure-report format (RFC 7489 §6.3), and OpenDMARC ignores the whole record over some other rf= values (rf=xml, rf=afrf:iodef) and misreads rf=iodef as an aspf= setting, so it is left at its default (rf=afrf)';
  if (tag === 'ri' && !(/^\d{1,10}$/.test(value.trim()) && Number(value) <= 2 ** 32 - 1))
    return 'ri= is a number of seconds (RFC 7489 §6.3: a 32-bit unsigned integer; OpenDMARC ignores the whole record over one that is not all digits), so it is left at its default (ri=86400)';
  return null;
}

/**
 * Whether OpenDMARC 1.4 refuses a whole record over this rf= or ri= value (its receivers then apply no DMARC policy
 * from it), as its parser does (test/e2e/dmarc-opendmarc-judge.test.ts; `opendmarc-check` over a loopback DNS server:
 * "Found DMARC record contained a bad token value" for rf=xml and ri=daily): an ri= that is not all digits (empty is
 * taken), an rf= item (split at ",") that is not a left part of afrf or iodef (`rf=afrf:iodef`, `rf=xml`).
 */
export function openDmarcRefuses(tag: string, value: string): boolean {
  const v = value.trim();
  if (tag === 'ri') return v !== '' && !/^\d+$/.test(v);
  if (tag === 'rf')
    return v.split(',').some((x) => {
      const w = x.trim().toLowerCase();
      return w !== '' && !'afrf'.startsWith(w) && !'iodef'.startsWith(w);
    });
  return false;
}

/**
 * Whether OpenDMARC's lookup finds a record RFC 7489 receivers read: it takes a TXT at _dmarc for DMARC only when the
 * text holds `v=DMARC1` exactly as written here (lower-case v, nothing around "="), so `V=DMARC1; p=reject` and
 * `v = DMARC1; p=reject` — valid by RFC 7489 §6.4's ABNF, read by mailhealth — are no DMARC record to it
 * (`opendmarc-check` 1.4.2 over a loopback DNS server: "Looked up domain lacked a DMARC record").
 */
export function openDmarcFinds(txt: string): boolean {
  return txt.includes('v=DMARC1');
}

/**
 * What makes OpenDMARC apply no policy from a record RFC 7489 receivers read without error (each said as a reason,
 * with the tag as written): the version's spelling its lookup misses, rf=/ri= values it refuses the record over, a
 * report URI over OPENDMARC_MAX_URI octets (in a rua=/ruf= value it does not skip: openDmarcReportValues).
 */
export function openDmarcIgnores(txt: string): string[] {
  const out: string[] = [];
  if (!openDmarcFinds(txt)) out.push(`its version is written ${JSON.stringify(txt.split(';')[0].trim())}, and OpenDMARC takes a TXT record for DMARC only when it holds "v=DMARC1" exactly so (lower-case v, no spaces around "=")`);
  // (Split into tags only when an rf= or ri= may be there: one record a domain, every audit.)
  if (/r[fi]\s*=/i.test(txt)) {
    for (const { name, value } of dmarcTagParts(txt)) {
      if (name === 'rf' || name === 'ri') {
        if (openDmarcRefuses(name, value)) out.push(name === 'rf' ? `its rf=${value} is not a list of report formats OpenDMARC knows (afrf, iodef, separated by ","), and OpenDMARC refuses the whole record over it` : `its ri=${value} is not a number of seconds, and OpenDMARC refuses the whole record over it`);
      }
    }
  }
  // A URI of 256 octets needs a record of 256 octets: no split for the common record (review: the UTF-16 bound, 86
  // units, let most records with rua= and ruf= through).
  if (octetCount(txt) > OPENDMARC_MAX_URI) {
    for (const v of openDmarcReportValues(txt))
      for (const u of v.tooLong)
        out.push(`its ${v.tag}= address ${quoteShort(u.uri)} is ${u.octets} octets long, and OpenDMARC refuses the whole record over a report URI of ${OPENDMARC_MAX_URI + 1} octets or more`);
  }
  return out;
}

/**
 * OpenDMARC 1.4.2's parser copies each report URI into a 256-octet buffer with its NUL (opendmarc_util_cleanup refuses
 * a string that does not fit): a URI of 256 octets or more makes it refuse the whole record (DMARC_PARSE_ERROR_BAD_VALUE,
 * "bad token value"; its receivers apply no DMARC policy from it). Counted with the URI's whitespace removed — the
 * parser strips every space of the value first — and with its `!size` suffix. Judged at 255/256/257 octets, rua= and
 * ruf= alike: test/e2e/dmarc-opendmarc-judge.test.ts.
 */
export const OPENDMARC_MAX_URI = 255;

/**
 * …and each tag's value into a 512-octet buffer the same way: a rua= or ruf= value of 512 octets or more, counted as
 * written (from the "=" to the next ";", its whitespace included), is skipped whole — the record is still read, its
 * policy applied, but no report of that kind is sent to any of its addresses (the URIs inside are not looked at, so a
 * long one there refuses nothing). Judged at 511/512/513 octets.
 */
export const OPENDMARC_MAX_LIST = 511;

/** The octets of a text as DNS carries it (an escaped octet, U+DC80–U+DCFF: src/core/octets.ts, counts one). */
function octetCount(text: string): number {
  return /[\ud800-\udfff]/.test(text) ? octetsOf(text).length : Buffer.byteLength(text);
}

/** C's isspace in the C locale: what OpenDMARC removes from a value before it splits it at ",". */
const C_SPACE = /[ \t\n\v\f\r]/g;

/** A report URI's length as OpenDMARC measures it: octets, whitespace removed (OPENDMARC_MAX_URI). */
export function openDmarcUriOctets(uri: string): number {
  return octetCount(uri.replace(C_SPACE, ''));
}

/** One rua= or ruf= of a record as OpenDMARC's parser meets it. */
export interface OpenDmarcReportValue {
  tag: 'rua' | 'ruf';
  /** The value, trimmed. */
  value: string;
  /** Octets of the value as written, from "=" to the next ";" (whitespace included). */
  octets: number;
  /** The URIs in it (split at ",", empty ones left out), each with its OpenDMARC length (openDmarcUriOctets). */
  uris: { uri: string; octets: number }[];
  /** Over OPENDMARC_MAX_LIST: the value is skipped, no report of that kind is sent. */
  skipped: boolean;
  /** When not skipped: the URIs over OPENDMARC_MAX_URI, over which the whole record is refused. */
  tooLong: { uri: string; octets: number }[];
}

/**
 * Every rua= and ruf= of a record (duplicates too: OpenDMARC reads each), as OpenDMARC's parser measures them: the
 * record split at ";", a tag's name compared without its whitespace or case, its value taken from the first "=".
 */
export function openDmarcReportValues(txt: string): OpenDmarcReportValue[] {
  const out: OpenDmarcReportValue[] = [];
  for (const part of txt.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const tag = part.slice(0, eq).replace(C_SPACE, '').toLowerCase();
    if (tag !== 'rua' && tag !== 'ruf') continue;
    const raw = part.slice(eq + 1);
    const octets = octetCount(raw);
    const uris = raw
      .split(',')
      .filter((u) => u.replace(C_SPACE, '') !== '')
      .map((u) => ({ uri: u.trim(), octets: openDmarcUriOctets(u) }));
    const skipped = octets > OPENDMARC_MAX_LIST;
    out.push({ tag, value: raw.trim(), octets, uris, skipped, tooLong: skipped ? [] : uris.filter((u) => u.octets > OPENDMARC_MAX_URI) });
  }
  return out;
}

/**
 * Why OpenDMARC sends none of a kind of reports a record asks for although it reads the record (each said as a
 * reason): a rua= or ruf= value over OPENDMARC_MAX_LIST octets, which it skips whole. [] for the common short record.
 */
export function openDmarcDropsReports(txt: string): string[] {
  // A value of 512 octets needs a record of 512 octets: no split for the common record.
  if (octetCount(txt) <= OPENDMARC_MAX_LIST) return [];
  return openDmarcReportValues(txt)
    .filter((v) => v.skipped)
    .map(
      (v) =>
        `its ${v.tag}= value is ${v.octets} octets long (from "=" to the next ";", spaces included), and OpenDMARC skips a rua= or ruf= value of ${OPENDMARC_MAX_LIST + 1} octets or more whole, so it sends no ${v.tag === 'rua' ? 'aggregate' : 'failure'} reports to ${v.uris.length === 1 ? 'its address' : `any of its ${v.uris.length} addresses`}`,
    );
}

/** How the DMARC fix fits report URIs to OpenDMARC's limits (fitReportUris). */
export interface ReportUriFit {
  /** The URIs written, in the order given. */
  kept: string[];
  /** URIs over OPENDMARC_MAX_URI only with their `!size` suffix: written without it (`to`). */
  shortened: { from: string; to: string; octets: number }[];
  /** URIs over OPENDMARC_MAX_URI even without a suffix: dropped. */
  tooLong: { uri: string; octets: number }[];
  /** URIs that do not fit in OPENDMARC_MAX_LIST octets after the ones before them: dropped. */
  left: string[];
  /** Octets of the whole list (joined with ",") before any was left out for OPENDMARC_MAX_LIST. */
  octets: number;
}

/**
 * A rua= or ruf= list (URIs receivers can read, each once) as the DMARC fix writes it so that OpenDMARC reads it: joined
 * with "," and nothing else, at most OPENDMARC_MAX_LIST octets, each URI at most OPENDMARC_MAX_URI. A URI over the
 * limit only with its `!size` suffix is written without it — the same mailbox; the suffix only asks receivers to send
 * nothing larger, and DMARCbis dropped it — one over the limit anyway is dropped (no shorter form names that mailbox,
 * and keeping it would make OpenDMARC ignore the whole record). The list keeps each URI, in the order written, that
 * still fits after the ones kept before it: the first are taken as the ones that matter most; the others are dropped
 * (keeping them would make OpenDMARC drop every address of the list). Each dropped URI is returned, to be said.
 */
export function fitReportUris(uris: readonly string[]): ReportUriFit {
  const fit: ReportUriFit = { kept: [], shortened: [], tooLong: [], left: [], octets: 0 };
  const short: string[] = [];
  for (const uri of uris) {
    const octets = openDmarcUriOctets(uri);
    if (octets <= OPENDMARC_MAX_URI) {
      short.push(uri);
      continue;
    }
    const bare = uri.replace(/!\d+[kmgt]?$/i, '');
    if (bare !== uri && openDmarcUriOctets(bare) <= OPENDMARC_MAX_URI) {
      fit.shortened.push({ from: uri, to: bare, octets });
      short.push(bare);
    } else fit.tooLong.push({ uri, octets });
  }
  fit.octets = short.length ? octetCount(short.join(',')) : 0;
  let used = -1; // octets of the list kept so far, counting the "," before the next URI
  for (const uri of short) {
    const n = octetCount(uri);
    if (used + 1 + n <= OPENDMARC_MAX_LIST) {
      fit.kept.push(uri);
      used += 1 + n;
    } else fit.left.push(uri);
  }
  return fit;
}

/**
 * A record that is readable but for the case of its version (`v=dmarc1; p=reject`), with the version written
 * `DMARC1`; null for any other text. RFC 7489's receivers discard it, but lenient ones (parsers comparing the value
 * case-insensitively) apply its policy: the fix writes it with `DMARC1` keeping its policy, and a subdomain under it
 * is not given a record of its own (review: its p=reject became p=none, and subdomains got p=none records).
 */
export function dmarcVersionCaseOnly(txt: string): string | null {
  const m = /^(\s*[vV]\s*=\s*)(dmarc1)(\s*(;|$))/i.exec(txt);
  if (!m || m[2] === 'DMARC1') return null;
  const fixed = m[1] + 'DMARC1' + txt.slice(m[1].length + m[2].length);
  return isDmarcRecord(fixed) ? fixed : null;
}

/**
 * A TXT meant as DMARC that receivers cannot read — `v=DMARC1 p=reject` (no ";"), `p=quarantine; v=DMARC1` (v= not
 * first), `v=DMARC1, p=reject, rua=…` (commas), `"v=DMARC1; p=reject"` (quotes kept as text), `v=DMARC1p=reject;…`
 * (two strings joined) — as a record receivers read (v=DMARC1 first, ";" between the tags as written), or null when it
 * is not such a record (a readable one, or text that does not come out as a readable record).
 */
export function repairMeantDmarc(text: string): string | null {
  if (isDmarcRecord(text) || !/v\s*=\s*DMARC1/i.test(text)) return null;
  let t = text.trim();
  if (t.length > 1 && t.startsWith('"') && t.endsWith('"')) t = t.slice(1, -1);
  t = t.replace(/^(\s*v\s*=\s*DMARC1)(?=[A-Za-z][A-Za-z0-9_]*\s*=)/i, '$1;');
  const parts = t
    .split(/;|,(?=\s*[A-Za-z][A-Za-z0-9_]*\s*=)|\s+(?=[A-Za-z][A-Za-z0-9_]*\s*=)/)
    .map((p) => p.trim())
    .filter(Boolean);
  const v = parts.findIndex((p) => /^v\s*=\s*DMARC1$/i.test(p));
  if (v < 0 || parts.length < 2) return null;
  parts.splice(v, 1);
  const out = ['v=DMARC1', ...parts].join('; ');
  // Every part a tag=value pair, one of them p=: anything else is prose that mentions DMARC, not a record.
  return isDmarcRecord(out) && parts.some((p) => /^p\s*=/i.test(p)) && parts.every((p) => /^[A-Za-z][A-Za-z0-9_]*\s*=\S/.test(p)) ? out : null;
}

/** Parse one report URI (RFC 7489 §6.2: `URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ]`). */
export function parseReportUri(raw: string): { uri: ReportUri | null; errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const text = raw.trim();
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(.+)$/s.exec(text);
  if (!m) return { uri: null, errors: [`report URI "${text}" has no scheme (expected mailto:address)`], warnings };
  const scheme = m[1].toLowerCase();
  let rest = m[2];
  let size: number | undefined;
  const sz = /!(\d+)([kmgt]?)$/i.exec(rest);
  if (sz) {
    size = Number(sz[1]) * SIZE_UNITS[sz[2].toLowerCase()];
    rest = rest.slice(0, sz.index);
    warnings.push(`report URI "${text}": the !size suffix was dropped in DMARCbis (receivers may ignore it)`);
  } else if (rest.includes('!')) {
    errors.push(`report URI "${text}" has a malformed !size suffix`);
  }
  if (/\s/.test(rest)) errors.push(`report URI "${text}" contains whitespace`);
  let domain = '';
  let address: string;
  if (scheme === 'mailto') {
    address = rest;
    const at = rest.lastIndexOf('@');
    const local = at > 0 ? rest.slice(0, at) : '';
    domain = at > 0 ? rest.slice(at + 1).replace(/\?.*$/s, '').toLowerCase() : '';
    if (!local || !HOSTNAME.test(domain)) {
      // A domain written in Unicode: how to write it so receivers can read it (as the DMARC fix writes it).
      const ascii = /^[\x21-\x7e]+$/.test(local) ? aLabelName(rest.slice(at + 1).replace(/\?.*$/s, '')) : null;
      errors.push(`report URI "${text}" is not a valid mailto:local@domain address${ascii ? ` (write the domain as its A-label, which receivers can read: mailto:${local}@${ascii})` : ''}`);
    }
  } else {
    address = `${scheme}:${rest}`;
    warnings.push(`report URI "${text}": receivers are only required to support mailto`);
    const host = /^\/\/([^/?#:]+)/.exec(rest);
    if (host) domain = host[1].toLowerCase();
  }
  const uri: ReportUri = { raw: text, scheme, address, domain };
  if (size !== undefined) uri.size = size;
  return { uri: errors.length ? null : uri, errors, warnings };
}

/** A scheme at the start of a URI (RFC 3986 §3.1). */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** How `repairReportUri` read an item: the URIs it stands for, and what was repaired. */
export interface ReportUriRepair {
  /** The URIs, each readable by parseReportUri, in the order written. */
  uris: string[];
  /** Several URIs separated by whitespace instead of commas. */
  split: boolean;
  /** `local@domain` written without a scheme, given `mailto:`. */
  mailto: boolean;
}

/**
 * One item of a rua=/ruf= list (the text between commas) that is not a URI receivers can read, as the report
 * addresses it was meant to be: `local@domain` without a scheme gets `mailto:`; URIs separated by whitespace instead of
 * commas are split apart (each piece repaired the same way; a piece that is no address is kept apart, to be dropped
 * on its own). Null when the item already reads as a URI, or when no piece of it reads as a report address (such an
 * item is dropped, not guessed at).
 */
export function repairReportUri(item: string): ReportUriRepair | null {
  const text = item.trim();
  if (text === '' || parseReportUri(text).uri) return null;
  const pieces = text.split(/\s+/);
  const uris: string[] = [];
  let mailto = false;
  for (const piece of pieces) {
    if (parseReportUri(piece).uri) uris.push(piece);
    else if (!SCHEME.test(piece) && piece.includes('@') && parseReportUri(`mailto:${piece}`).uri) {
      uris.push(`mailto:${piece}`);
      mailto = true;
    } else if (pieces.length > 1) {
      // One piece of several separated by spaces that is not a report address itself (`mailto:junk`, `junk`):
      // separated from the others and judged (dropped) on its own, not taking the valid ones down with it (QA).
      uris.push(piece);
    } else return null;
  }
  // Nothing in it reads as a report address: dropped whole, not guessed at.
  if (!uris.some((u) => parseReportUri(u).uri)) return null;
  return { uris, split: uris.length > 1, mailto };
}

/** RFC 7489 §6.3: `pct` is 1*3DIGIT with a value from 0 to 100. */
export function validPct(v: string): boolean {
  return /^\d{1,3}$/.test(v) && Number(v) <= 100;
}

export function policyValue(v: string | undefined): DmarcPolicy | undefined {
  if (v === undefined) return undefined;
  const l = v.toLowerCase();
  return POLICIES.includes(l) ? (l as DmarcPolicy) : undefined;
}


/**
 * The parts of a DMARC tag list, in order: a tag (`name` lower case; duplicates kept — the parser reports them) or,
 * with `name` null, a part that is not tag=value.
 */
export function dmarcTagParts(text: string): { part: string; name: string | null; value: string }[] {
  const out: { part: string; name: string | null; value: string }[] = [];
  for (const raw of text.split(';')) {
    const part = raw.trim();
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? '' : part.slice(0, eq).trim();
    if (eq < 0 || !TAG_NAME.test(name)) out.push({ part, name: null, value: '' });
    else out.push({ part, name: name.toLowerCase(), value: part.slice(eq + 1).trim() });
  }
  return out;
}

/** Parse a DMARC TXT record. Pass the character-strings as an array to have them joined (no separator). */
export function parseDmarcRecord(txt: string | readonly string[], opts: DmarcParseOptions = {}): DmarcRecord {
  const text = (typeof txt === 'string' ? txt : txt.join('')).trim();
  const errors: string[] = [];
  const warnings: string[] = [];
  const tags: Record<string, string> = {};
  const rec: DmarcRecord = {
    tags,
    policy: null,
    subdomainPolicy: null,
    nonExistentPolicy: null,
    testing: false,
    rua: [],
    ruf: [],
    errors,
    warnings,
  };

  if (/^v\s*=\s*spf1(\s|$)/i.test(text)) {
    errors.push('an SPF record was found where the DMARC record should be');
    return rec;
  }

  const order: string[] = [];
  for (const { part, name: key, value } of dmarcTagParts(text)) {
    if (key === null) {
      errors.push(`syntax error at "${part}" (expected tag=value)`);
      continue;
    }
    if (Object.prototype.hasOwnProperty.call(tags, key)) {
      errors.push(`duplicate tag "${key}"`);
      continue;
    }
    tags[key] = value;
    order.push(key);
  }

  // v: present, first, DMARC1.
  if (order[0] !== 'v') {
    errors.push(tags.v === undefined ? 'missing v=DMARC1' : 'v=DMARC1 must be the first tag');
  } else if (tags.v !== 'DMARC1') {
    errors.push(`invalid version v=${tags.v} (expected DMARC1)`);
  }

  for (const key of order) {
    if (!KNOWN_TAGS.has(key)) warnings.push(`unknown tag "${key}" is ignored`);
  }

  // Policy tags.
  const check = (tag: 'p' | 'sp' | 'np'): DmarcPolicy | undefined => {
    const v = tags[tag];
    const p = policyValue(v);
    if (v !== undefined && !p) errors.push(`invalid ${tag}=${v} (expected none, quarantine or reject)`);
    return p;
  };
  const p = check('p');
  const sp = check('sp');
  const np = check('np');

  // Alignment.
  for (const tag of ['adkim', 'aspf'] as const) {
    const v = tags[tag];
    if (v !== undefined && !/^[rs]$/i.test(v)) errors.push(`invalid ${tag}=${v} (expected r or s)`);
  }

  // fo.
  if (tags.fo !== undefined) {
    const opts = tags.fo.split(':').map((o) => o.trim().toLowerCase());
    const bad = opts.filter((o) => !['0', '1', 'd', 's'].includes(o));
    if (bad.length) errors.push(`invalid fo=${tags.fo} (options are 0, 1, d, s separated by ':')`);
    else {
      if (opts.includes('0') && opts.includes('1')) warnings.push('fo: 0 and 1 together are redundant (1 already covers 0)');
      if (new Set(opts).size !== opts.length) warnings.push(`fo=${tags.fo} repeats an option`);
    }
    if (tags.ruf === undefined) warnings.push('fo has no effect without ruf');
  }

  // Tags removed in DMARCbis: warn, never fail.
  for (const tag of ['pct', 'rf', 'ri'] as const) {
    const v = tags[tag];
    if (v === undefined) continue;
    warnings.push(`the ${tag} tag was removed in DMARCbis (RFC 9989); older receivers may still honour it`);
    if (tag === 'pct') {
      if (!validPct(v)) errors.push(`invalid pct=${v} (expected a whole number from 0 to 100)`);
      else if (Number(v) < 100) warnings.push(`pct=${v}: RFC 7489 receivers apply the policy to only ${Number(v)}% of failing mail`);
    }
    if (tag === 'ri' && !/^\d+$/.test(v)) warnings.push(`ri=${v} is not a number of seconds`);
    if (tag === 'rf' && !/^afrf$/i.test(v.split(':')[0].trim())) warnings.push(`rf=${v} is not afrf`);
  }

  // t, psd (DMARCbis).
  if (tags.t !== undefined) {
    const t = tags.t.toLowerCase();
    if (t !== 'y' && t !== 'n') errors.push(`invalid t=${tags.t} (expected y or n)`);
    rec.testing = t === 'y';
    if (rec.testing) warnings.push('t=y: test mode, the policy is not enforced (DMARCbis)');
  }
  if (tags.psd !== undefined && !/^[ynu]$/i.test(tags.psd)) errors.push(`invalid psd=${tags.psd} (expected y, n or u)`);

  // Report URIs.
  for (const tag of ['rua', 'ruf'] as const) {
    const v = tags[tag];
    if (v === undefined) continue;
    const parts = v.split(',');
    for (const part of parts) {
      if (part.trim() === '') {
        errors.push(`${tag}: empty report URI in "${v}"`);
        continue;
      }
      const r = parseReportUri(part);
      errors.push(...r.errors.map((e) => `${tag}: ${e}`));
      warnings.push(...r.warnings.map((w) => `${tag}: ${w}`));
      if (r.uri) rec[tag].push(r.uri);
    }
  }
  if (tags.rua === undefined) warnings.push('no rua: you receive no aggregate reports about mail sent as this domain');

  // Effective policies. RFC 7489 §6.6.3 step 6: a record that "contains an sp tag that is not valid" is read as one
  // without a valid p — for the domain itself too, not only for its subdomains (organizationalPolicy): p=reject; sp=block
  // was taken for p=reject, while receivers (Mail::DMARC too) apply p=none with a valid rua, else nothing.
  const spInvalid = tags.sp !== undefined && !sp;
  if (p && order.indexOf('p') !== 1 && order[0] === 'v')
    warnings.push('the p tag does not immediately follow the v tag (RFC 7489 requires it; DMARCbis allows it)');
  // What receivers apply from the record is said only where it decides it: p=none only with a valid rua (§6.6.3 step
  // 6 A), else no DMARC processing (step 6 B); beside other DMARC records nothing at all (opts.several), whatever the
  // record holds.
  const several = opts.several === true;
  if (p && spInvalid) {
    if (rec.rua.length > 0) {
      rec.policy = 'none';
      if (!several) warnings.push(`invalid sp=${tags.sp}: receivers read the record as p=none, not p=${p} (RFC 7489 §6.6.3), since it has a valid rua`);
    } else errors.push(`invalid sp=${tags.sp} and no valid rua: RFC 7489 receivers apply no DMARC processing, not p=${p}`);
  } else if (p) {
    rec.policy = p;
  } else if (rec.rua.length > 0) {
    rec.policy = 'none';
    if (tags.p === undefined)
      warnings.push(several ? 'missing p tag (RFC 7489 requires it)' : 'missing p tag: treated as p=none (DMARCbis; RFC 7489 §6.6.3 with a valid rua)');
  } else if (tags.p === undefined) {
    errors.push('missing p tag and no valid rua: RFC 7489 receivers apply no DMARC processing');
  }
  if (p && !spInvalid) {
    rec.subdomainPolicy = sp ?? rec.policy;
    rec.nonExistentPolicy = np ?? rec.subdomainPolicy;
  } else {
    // RFC 7489 §6.6.3: without a valid p (or with an invalid sp) the receiver acts as if the record were
    // `v=DMARC1; p=none` (with a valid rua), else applies no DMARC processing — to the domain and to its subdomains
    // alike: sp= and np= are not applied.
    rec.subdomainPolicy = rec.policy;
    rec.nonExistentPolicy = rec.policy;
    // (rec.policy is set only with a valid rua: without one nothing is applied, sp=/np= no more than p=.)
    if (rec.policy && !several) {
      const without = p ? 'with an invalid sp' : 'without a valid p';
      for (const [tag, v] of [
        ['sp', sp],
        ['np', np],
      ] as const) {
        if (v && v !== rec.policy)
          warnings.push(`${tag}=${v} is not applied: ${without} receivers read the record as p=none since it has a valid rua, for subdomains too (RFC 7489 §6.6.3)`);
      }
    }
  }
  if (sp && p && STRENGTH[sp] < STRENGTH[p])
    warnings.push(`sp=${sp} is weaker than p=${rec.policy}: subdomains are less protected`);

  if (opts.parked) {
    if (rec.policy !== 'reject') warnings.push('parked domain: p should be reject');
    if (rec.subdomainPolicy !== 'reject') warnings.push('parked domain: subdomain policy (sp) should be reject');
  }
  return rec;
}

/** Render tags as a DMARC record, keeping their order but always putting v=DMARC1 first. */
export function renderDmarc(tags: Readonly<Record<string, string>>): string {
  const parts = ['v=DMARC1'];
  for (const [k, v] of Object.entries(tags)) {
    if (k.toLowerCase() === 'v') continue;
    parts.push(`${k}=${v}`);
  }
  return parts.join('; ');
}

function bare(d: string): string {
  return d.trim().toLowerCase().replace(/\.$/, '');
}

/**
 * Organizational domain (RFC 7489 §3.2) by the whole public suffix list, its ICANN and private sections, as receivers
 * read it (Mail::DMARC loads the whole file); the name itself when it has none (e.g. a bare public suffix).
 * uk.com, us.com, eu.com… are private-section suffixes under which CentralNic sells domains: example.uk.com is its own
 * organizational domain, whose subdomains inherit its record, not uk.com's (by the ICANN section alone it
 * took uk.com: a subdomain inherited uk.com's policy, example.uk.com itself too, and reports to other.uk.com needed no
 * authorisation — test/e2e/dmarc-verdicts-oracle.test.ts).
 */
export function organizationalDomain(domain: string): string {
  return registrableDomain(bare(domain), true);
}

/** RFC 7489 §7.1: a report destination in another organizational domain needs its authorisation record. */
export function needsExternalAuthorization(policyDomain: string, reportDomain: string): boolean {
  return organizationalDomain(policyDomain) !== organizationalDomain(reportDomain);
}

/** Name of the external report authorisation TXT: `<policyDomain>._report._dmarc.<reportDomain>`. */
export function externalAuthName(policyDomain: string, reportDomain: string): string {
  return `${bare(policyDomain)}._report._dmarc.${bare(reportDomain)}`;
}
