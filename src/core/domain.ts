// The one domain-name validator. Every surface passes user-supplied domain names through here.
import { domainToASCII } from 'node:url';
import { getDomain } from 'tldts';

export class InvalidDomainError extends Error {
  constructor(public readonly input: string, reason: string) {
    super(`invalid domain name ${JSON.stringify(input.slice(0, 80))}: ${reason}`);
    this.name = 'InvalidDomainError';
  }
}

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;
/**
 * One trailing full stop: "." and the stops UTS #46 maps to it — ideographic (U+3002), full-width (U+FF0E) and
 * half-width ideographic (U+FF61), which an IME types for the dot. Dropped before the name is mapped: mapped, it would
 * leave an empty last label.
 */
const TRAILING_STOP = /[.\u3002\uFF0E\uFF61]$/;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * Why an A-label ("xn--…", lower case) is not one — null when it is: IDNA (node:url domainToASCII, UTS #46) must give
 * it back unchanged, i.e. it decodes (punycode) to a valid Unicode label whose A-label it is. Asked of the ASCII
 * spelling too, so "xn--a.xn--bcher-kva.example" is refused as "xn--a.bücher.example" is (domainToASCII refuses that).
 */
function aLabelProblem(label: string): string | null {
  if (!label.startsWith('xn--') || domainToASCII(label) === label) return null;
  return `label ${JSON.stringify(label)} is not a valid A-label (the ASCII form of an internationalised name)`;
}

/**
 * Normalise a domain name: trim, drop one trailing dot (or ideographic/full-width full stop), lower-case, convert IDN
 * to A-labels (punycode). Returns the A-label form, or a reason it is not a valid host name. A name with non-ASCII
 * characters is mapped by UTS #46 alone (node:url domainToASCII: case folding included), as browsers and mail clients
 * read it: "STRAẞE.de" is strasse.de there, where lower-casing first (ẞ → ß) would make it another domain.
 */
export function checkDomain(input: string): { ok: true; domain: string } | { ok: false; reason: string } {
  if (typeof input !== 'string') return { ok: false, reason: 'not a string' };
  let s = input.trim();
  if (s.length === 0) return { ok: false, reason: 'empty' };
  if (s.length > 1000) return { ok: false, reason: 'too long' };
  s = s.replace(TRAILING_STOP, '');
  if (/[\s/\\@:?#%<>"'`;,()[\]{}|*+=!$&^~]/.test(s)) return { ok: false, reason: 'contains characters not allowed in a domain name' };
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(s)) return { ok: false, reason: 'contains control characters' };
  const isAscii = PRINTABLE_ASCII.test(s);
  const ascii = isAscii ? s.toLowerCase() : domainToASCII(s);
  if (!ascii) {
    // The same reason as the ASCII spelling gets when an A-label written in it is what IDNA refused.
    const bad = s.split(/[.\u3002\uFF0E\uFF61]/).map((l) => (PRINTABLE_ASCII.test(l) ? aLabelProblem(l.toLowerCase()) : null)).find(Boolean);
    return { ok: false, reason: bad ?? 'not a valid internationalised domain name' };
  }
  if (ascii.length > 253) return { ok: false, reason: 'longer than 253 characters' };
  const labels = ascii.split('.');
  if (labels.length < 2) return { ok: false, reason: 'needs at least two labels (e.g. example.com)' };
  for (const l of labels) {
    if (!LABEL.test(l)) return { ok: false, reason: `label ${JSON.stringify(l)} is not a valid DNS label` };
    const bad = isAscii ? aLabelProblem(l) : null;
    if (bad) return { ok: false, reason: bad };
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1])) return { ok: false, reason: 'looks like an IP address, not a domain' };
  return { ok: true, domain: ascii };
}

/** The scripts a label may be written in, each alone (with digits, "-", "_" and combining marks: Common, Inherited). */
const SCRIPTS = ['Latin', 'Greek', 'Cyrillic', 'Armenian', 'Hebrew', 'Arabic', 'Syriac', 'Thaana', 'Devanagari', 'Bengali', 'Gurmukhi', 'Gujarati', 'Oriya', 'Tamil', 'Telugu', 'Kannada', 'Malayalam', 'Sinhala', 'Thai', 'Lao', 'Tibetan', 'Myanmar', 'Georgian', 'Hangul', 'Ethiopic', 'Khmer', 'Mongolian', 'Han'];
const ONE_SCRIPT: readonly RegExp[] = [
  ...SCRIPTS.map((x) => new RegExp(`^[\\p{Script=${x}}\\p{Script=Common}\\p{Script=Inherited}]*$`, 'u')),
  // The scripts written together (UTS #39 "highly restrictive"): Japanese, Chinese, Korean, each with Latin.
  /^[\p{Script=Latin}\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Common}\p{Script=Inherited}]*$/u,
  /^[\p{Script=Latin}\p{Script=Han}\p{Script=Bopomofo}\p{Script=Common}\p{Script=Inherited}]*$/u,
  /^[\p{Script=Latin}\p{Script=Han}\p{Script=Hangul}\p{Script=Common}\p{Script=Inherited}]*$/u,
];

/**
 * The A-label spelling of a name written with non-ASCII characters ("spf.bücher.example" → "spf.xn--bcher-kva.example"),
 * when it converts cleanly through checkDomain and each label is written in one script; null when it has nothing to
 * convert, is no domain name, or a label mixes scripts. For record text that must be ASCII (SPF, DMARC report
 * addresses), where the customer plainly meant that name. A label that mixes scripts ("g\u043Eogle": a Cyrillic "о"
 * among Latin letters, a look-alike) is not plainly meant: its A-label is someone else's domain, so it is not written;
 * nor is a name with an invisible or bidi character in it.
 */
export function aLabelName(name: string): string | null {
  // An invisible or bidi character (format, Cf) would be dropped or refused by the mapping: not plainly that name either.
  if (PRINTABLE_ASCII.test(name) || /\p{Cf}/u.test(name)) return null;
  if (!name.split(/[.\u3002\uFF0E\uFF61]/).every((l) => ONE_SCRIPT.some((re) => re.test(l)))) return null;
  const r = checkDomain(name);
  return r.ok ? r.domain : null;
}

/**
 * One label as IDNA writes it (UTS #46 mapping, as checkDomain applies it: "Bücher" → "xn--bcher-kva", "SHOP" → "shop"),
 * or null when it is no valid DNS label that way. For text that is only part of a name (a list filter).
 */
export function labelToAscii(label: string): string | null {
  if (label.length === 0 || label.length > 253) return null;
  const a = PRINTABLE_ASCII.test(label) ? label.toLowerCase() : domainToASCII(label);
  return LABEL.test(a) && !aLabelProblem(a) ? a : null;
}

/** The name part of a mail address as the report's recipients take it: no leading "-" (a sendmail option). */
// Control characters (C0, DEL, C1) too: nodemailer rewrites `a\x01b\x7f@example.com` as `"ab "@example.com`, another
// mailbox (mail QA).
const LOCAL_PART = /^(?![-.])(?!.*\.\.)(?!.*\.$)[^\s@<>"'`,;()[\]\\\x00-\x1f\x7f-\x9f]{1,64}$/;
const ONE_LABEL_HOST = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/**
 * Why `input` is not a mail address the report can be sent to — null when it is one: a name part (no leading "-" or
 * ".", no "..", nothing that ends an address in a list or a header) "@" a domain through checkDomain, or a host name
 * of one label (root@localhost, delivered by the server itself). The settings page and the mailer ask this one
 * function, so an address the page saves is one the mailer sends to.
 */
export function mailAddressProblem(input: string): string | null {
  const at = input.lastIndexOf('@');
  if (at <= 0 || at === input.length - 1) return 'not of the form name@domain';
  const local = input.slice(0, at);
  const domain = input.slice(at + 1);
  if (!LOCAL_PART.test(local)) return local.startsWith('-') ? 'the name before "@" starts with "-"' : 'the name before "@" has characters or dots an address cannot have';
  if (ONE_LABEL_HOST.test(domain)) return null;
  const d = checkDomain(domain);
  return d.ok ? null : `the domain after "@": ${d.reason}`;
}

export function normalizeDomain(input: string): string {
  const r = checkDomain(input);
  if (!r.ok) throw new InvalidDomainError(input, r.reason);
  return r.domain;
}

const toLower = (m: string): string => m.toLowerCase();
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * `s` with ASCII A–Z folded to a–z and nothing else changed: DNS compares names ASCII-case-insensitively (RFC 4343),
 * so a non-ASCII character is part of the name as it is (String.prototype.toLowerCase would turn "İ" into "i̇" — other
 * bytes — and the Kelvin sign into ASCII "k": another name). toLowerCase does the work where it may (it costs no
 * more than a scan): when it changes nothing (an all-lower name, the common case) there was no A–Z to fold either,
 * and on a pure-ASCII string it folds exactly A–Z; only a name with non-ASCII characters goes through the A–Z-only
 * replace.
 */
export function lowerAscii(s: string): string {
  const l = s.toLowerCase();
  if (l === s) return s;
  return NON_ASCII.test(s) ? (/[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, toLower) : s) : l;
}

/** Lower-case (ASCII letters only: lowerAscii), strip trailing dot. For names that come from DNS data (not user input). */
export function canonName(name: string): string {
  const n = lowerAscii(name);
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

// The registrable domain of every name an audit meets is asked many times (classifier, DMARC report destinations):
// remembered, bounded (cleared when full), keyed by the exact name given; one memo per reading of the list.
const registrable = new Map<string, string>();
const registrableWithPrivate = new Map<string, string>();

/**
 * The organizational domain of a name as given (callers normalise it): its registrable domain by the public suffix
 * list — its ICANN section, or with `withPrivate` its private section too (uk.com, blogspot.com…: DMARC reads the whole
 * list) — or the name itself when there is none (e.g. a bare public suffix).
 */
export function registrableDomain(name: string, withPrivate = false): string {
  const memo = withPrivate ? registrableWithPrivate : registrable;
  let r = memo.get(name);
  if (r === undefined) {
    if (memo.size >= 8192) memo.clear();
    r = getDomain(name, { allowPrivateDomains: withPrivate }) ?? name;
    memo.set(name, r);
  }
  return r;
}

/** Is `name` equal to or below `zone`? */
export function inZone(name: string, zone: string): boolean {
  const n = canonName(name);
  const z = canonName(zone);
  return n === z || n.endsWith('.' + z);
}
