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
 * Normalise a domain name: trim, lower-case, drop one trailing dot, convert IDN to A-labels (punycode).
 * Returns the A-label form, or a reason it is not a valid host name.
 */
export function checkDomain(input: string): { ok: true; domain: string } | { ok: false; reason: string } {
  if (typeof input !== 'string') return { ok: false, reason: 'not a string' };
  let s = input.trim();
  if (s.length === 0) return { ok: false, reason: 'empty' };
  if (s.length > 1000) return { ok: false, reason: 'too long' };
  if (s.endsWith('.')) s = s.slice(0, -1);
  if (/[\s/\\@:?#%<>"'`;,()[\]{}|*+=!$&^~]/.test(s)) return { ok: false, reason: 'contains characters not allowed in a domain name' };
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(s)) return { ok: false, reason: 'contains control characters' };
  const ascii = /^[\x20-\x7e]*$/.test(s) ? s.toLowerCase() : domainToASCII(s.toLowerCase());
  if (!ascii) return { ok: false, reason: 'not a valid internationalised domain name' };
  if (ascii.length > 253) return { ok: false, reason: 'longer than 253 characters' };
  const labels = ascii.split('.');
  if (labels.length < 2) return { ok: false, reason: 'needs at least two labels (e.g. example.com)' };
  for (const l of labels) {
    if (!LABEL.test(l)) return { ok: false, reason: `label ${JSON.stringify(l)} is not a valid DNS label` };
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1])) return { ok: false, reason: 'looks like an IP address, not a domain' };
  return { ok: true, domain: ascii };
}

/** The name part of a mail address as the report's recipients take it: no leading "-" (a sendmail option). */
const LOCAL_PART = /^(?![-.])(?!.*\.\.)(?!.*\.$)[^\s@<>"'`,;()[\]\\]{1,64}$/;
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
// remembered, bounded (cleared when full), keyed by the exact name given.
const registrable = new Map<string, string>();

/**
 * The organizational domain of a name as given (callers normalise it): its registrable domain by the public suffix
 * list (ICANN section), or the name itself when there is none (e.g. a bare public suffix).
 */
export function registrableDomain(name: string): string {
  let r = registrable.get(name);
  if (r === undefined) {
    if (registrable.size >= 8192) registrable.clear();
    r = getDomain(name, { allowPrivateDomains: false }) ?? name;
    registrable.set(name, r);
  }
  return r;
}

/** Is `name` equal to or below `zone`? */
export function inZone(name: string, zone: string): boolean {
  const n = canonName(name);
  const z = canonName(zone);
  return n === z || n.endsWith('.' + z);
}
