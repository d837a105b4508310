// What an ip4/ip6 term does to this server and to everyone else, beyond "does its range contain the server": a range
// so wide it lets (nearly) the whole internet send, like +all, and a term whose qualifier is not "+" — it fails,
// softfails or neutralises the addresses it covers (RFC 7208 §4.6.2: only a "+" match is a pass). Shared by the
// classifier, the SPF check and the SPF fix, so all three read a term the same way. Pure.
import { cidrContains } from '../ip.js';
import { parseSpfShared, type Qualifier, type SpfTerm } from './parse.js';
import type { SpfTreeNode } from './tree.js';

/**
 * An ip4 term with a prefix shorter than /8 (more than one /8: over 33 million addresses — no single network holds
 * that much, the largest IPv4 holders have a /8) or an ip6 term shorter than /16 (more than any RIR hands one network:
 * the largest allocations are around /19) authorises a large part of the internet: graded like `+all` (mail-auth.md
 * §1.3: fail).
 */
export const WIDE_IP4_PREFIX = 8;
export const WIDE_IP6_PREFIX = 16;

type IpTerm = Pick<SpfTerm, 'mechanism' | 'ip' | 'cidr4' | 'cidr6' | 'qualifier' | 'error'>;

/** The prefix length an ip4/ip6 term applies (its own, else /32 or /128); null for any other term. */
function prefixOf(t: IpTerm): number | null {
  if (t.error || !t.ip) return null;
  if (t.mechanism === 'ip4') return t.cidr4 ?? 32;
  if (t.mechanism === 'ip6') return t.cidr6 ?? 128;
  return null;
}

/** An ip4/ip6 term's range as "address/prefix" (e.g. "0.0.0.0/0"); null for any other term. */
export function ipTermRange(t: IpTerm): string | null {
  const p = prefixOf(t);
  return p === null ? null : `${t.ip}/${p}`;
}

/**
 * When `t` is a "+" ip4/ip6 term wide enough to authorise a large part of the internet (see WIDE_IP4_PREFIX), the
 * words for how much it covers ("every IPv4 address", "a /6: 67,108,864 IPv4 addresses"); else null. An `a`/`mx`
 * term with such a CIDR length (`a/0`, `mx//8`) widens each address it names as far (RFC 7208 §5.6): the same.
 */
export function permissiveRange(t: IpTerm): string | null {
  if (t.qualifier !== '+' || t.error) return null;
  if (t.mechanism === 'a' || t.mechanism === 'mx') {
    const around = 'around each address it names';
    if (t.cidr4 !== undefined && t.cidr4 < WIDE_IP4_PREFIX) return rangeWords(t.cidr4, true, around);
    if (t.cidr6 !== undefined && t.cidr6 < WIDE_IP6_PREFIX) return rangeWords(t.cidr6, false, around);
    return null;
  }
  const p = prefixOf(t);
  if (p === null) return null;
  const v4 = t.mechanism === 'ip4';
  if (p >= (v4 ? WIDE_IP4_PREFIX : WIDE_IP6_PREFIX)) return null;
  return rangeWords(p, v4);
}

function rangeWords(p: number, v4: boolean, around?: string): string {
  const family = v4 ? 'IPv4' : 'IPv6';
  if (p === 0) return `every ${family} address`;
  const bits = (v4 ? 32 : 128) - p;
  const size = v4 ? String(2 ** bits).replace(/\B(?=(\d{3})+$)/g, ',') : `2^${bits}`;
  return `a /${p}${around ? ` ${around}` : ''}: ${size} ${family} addresses, more than any one network holds`;
}

/** The addresses of `ips` an ip4/ip6 term covers (its range contains them); empty for any other term. */
export function coveredIps(t: IpTerm, ips: readonly string[]): string[] {
  const range = ipTermRange(t);
  if (!range) return [];
  const v4 = t.mechanism === 'ip4';
  return ips.filter((ip) => ip.includes(':') !== v4 && cidrContains(range, ip));
}

/** Does an ip4/ip6 term cover nothing but addresses of `ips` (e.g. `-ip4:<this server's IP>`)? */
export function coversOnly(t: IpTerm, ips: readonly string[]): boolean {
  const p = prefixOf(t);
  if (p === null) return false;
  const bits = (t.mechanism === 'ip4' ? 32 : 128) - p;
  if (bits > 16) return false; // far more addresses than any server has
  return new Set(coveredIps(t, ips)).size >= 2 ** bits;
}

/** What a match of a term with qualifier `q` gives the sender, as words ("fails", "softfails", …). */
export function qualifierEffect(q: Qualifier): string {
  return q === '-' ? 'fails' : q === '~' ? 'softfails' : q === '?' ? 'gives neutral to' : 'passes';
}

/** The result a match with qualifier `q` gives (RFC 7208 §4.6.2). */
export function qualifierResult(q: Qualifier): 'pass' | 'fail' | 'softfail' | 'neutral' {
  return q === '-' ? 'fail' : q === '~' ? 'softfail' : q === '?' ? 'neutral' : 'pass';
}

/**
 * When the record a "+" include (or a redirect) leads to lets every sender pass — it ends in `+all`, or has a "+"
 * term as wide (permissiveRange), there or in a record it includes with "+" or redirects to — where, in words
 * ("+all in open.example's record"); else null. `node` is the walked target (SpfTreeTerm.children). Through such an
 * include the including record passes every server on the internet too (an include matches when its record passes).
 */
export function openRecord(node: SpfTreeNode | undefined, depth = 0): string | null {
  // A record receivers answer with permerror (a syntax error) passes nobody: an include of it authorises no one.
  if (!node?.record || depth > 10 || node.syntaxErrors.length) return null;
  const parsed = parseSpfShared(node.record);
  for (let i = 0; i < parsed.terms.length; i++) {
    const t = parsed.terms[i];
    if (t.afterAll || t.kind !== 'mechanism' || t.error) continue;
    if (t.mechanism === 'all') return t.qualifier === '+' ? `${t.raw} in ${node.domain}'s record` : null;
    const wide = permissiveRange(t);
    if (wide) return `${t.raw} in ${node.domain}'s record (it covers ${wide})`;
    // An include evaluated before `all` whose record is broken is a permerror for the whole check: nobody passes.
    const walked = node.terms[i];
    if (t.mechanism === 'include' && (walked?.error || walked?.nestedErrors?.length)) return null;
    if (t.mechanism === 'include' && t.qualifier === '+') {
      const via = openRecord(walked?.children, depth + 1);
      if (via) return via;
    }
  }
  const r = parsed.redirect;
  if (r && !r.error) {
    const at = parsed.terms.indexOf(r);
    const walked = at >= 0 ? node.terms[at] : undefined;
    if (walked && !walked.ignored) return openRecord(walked.children, depth + 1);
  }
  return null;
}
