// The SPF include name for a relay (smarthost): shared by the SPF check and the SPF fix, so both agree on what
// authorises a relayed server.
import type { CheckContext } from '../checks/context.js';
import { canonName, registrableDomain } from '../domain.js';
import { cidrOverlap, cidrShared, cidrsCover } from '../ip.js';
import { joinTxt } from '../resolver.js';
import { isSpfRecord, parseTermShared, type Qualifier } from './parse.js';
import { ipTermRange } from './terms.js';
import type { SpfTreeNode, SpfTreeTerm } from './tree.js';

/** RFC 7208 §4.6.4: DNS-querying terms one evaluation may cost. */
const LOOKUP_LIMIT = 10;

/**
 * The names that may hold a relay's SPF record, in the order cPanel's autodiscovery tries them (cpanel.md §7.2): the
 * relay host, then each dot-suffix down to its registrable domain (never the public suffix itself).
 */
export function relayIncludeCandidates(host: string): string[] {
  const h = canonName(host);
  const org = registrableDomain(h);
  const out = [h];
  if (org === h || !h.endsWith(`.${org}`)) return out;
  for (let n = h; n !== org; ) {
    n = n.slice(n.indexOf('.') + 1);
    out.push(n);
  }
  return out;
}

export type RelayInclude = { host: string } | { none: string[] } | { unknown: string };

/**
 * The name to include for the relay: `include:X` of a name X without an SPF record is a permanent error at every
 * receiver (RFC 7208 §5.2; mail-auth.md §1.2), so the relay host is checked first. A host a mail service documents as its
 * SPF include (the knowledge base, each entry with its source — e.g. relay.mailchannels.net) is used as it is; any
 * other relay host, or the first of its dot-suffixes, must publish exactly one `v=spf1` record.
 */
export async function relayInclude(ctx: Pick<CheckContext, 'resolver' | 'knowledge'>, relayHost: string): Promise<RelayInclude> {
  const host = canonName(relayHost);
  if (ctx.knowledge.providers.some((p) => p.spf.some((s) => canonName(s) === host))) return { host };
  const tried: string[] = [];
  for (const name of relayIncludeCandidates(host)) {
    const a = await ctx.resolver.resolve(name, 'TXT');
    if (a.status === 'unknown') return { unknown: `looking up the SPF record of ${name} (for the relay ${host}) got no answer (${a.error ?? 'timeout or server failure'})` };
    tried.push(name);
    if (a.status === 'ok' && a.records.filter((r) => isSpfRecord(joinTxt(r))).length === 1) return { host: name };
  }
  return { none: tried };
}

/**
 * How a walked SPF record treats mail the relay sends, as receivers evaluate it (RFC 7208 §4.6.2, §5.2): terms in
 * order, the first match decides with its qualifier; an include matches only when the record it names gives `pass`
 * (so a `~include:` of the relay inside an included record makes that record softfail — the include does not match,
 * and evaluation goes on). An include of one of `hosts` (the relay's include names) is taken as passing the relay's
 * servers — unless a "-", "~" or "?" ip4/ip6 term before it, in the same record, covers part of the ranges the relay's
 * record publishes (its "+" ip4/ip6 terms, as walked): those of the relay's servers match that term first and do not
 * pass. a, mx, exists and ptr terms cannot be judged without the relay's servers' names and addresses (the walk has
 * none) and count as no match.
 *
 * - `pass`: a term reaching the relay with `+` (or no qualifier) decides first — the relay is authorised;
 * - `denied`: the first top-level term that reaches the relay has `-`, `~` or `?` (`~include:relay.mailchannels.net`):
 *   receivers fail, softfail or neutral the relay's mail there;
 * - `shadowed`: `term` (`-ip4:23.83.208.0/20`) comes before `include`, the term that reaches the relay, and covers
 *   `ranges` of the relay's: receivers fail, softfail or neutral the relay's mail from those addresses; `via`: the
 *   top-level include or redirect= leading to the record where that happens (then `term` is not in the record itself,
 *   and no later term reaches the relay with a pass);
 * - `absent`: no evaluated term reaches the relay with a pass.
 */
export type RelayAuthorisation =
  | { state: 'pass'; term: string }
  | { state: 'denied'; term: string; qualifier: '-' | '~' | '?' }
  | { state: 'shadowed'; term: string; qualifier: '-' | '~' | '?'; include: string; ranges: string[]; via?: string }
  | { state: 'absent' };

interface Denying {
  term: string;
  qualifier: Qualifier;
  range: string;
  /** The "+" ip4/ip6 ranges before it in the same record. */
  passed: string[];
}

interface Reach {
  term: string;
  qualifier: Qualifier;
  /** When a "-"/"~"/"?" ip4/ip6 term before `include` decides for some of the relay's addresses (`term` is that one). */
  shadow?: { include: string; ranges: string[]; via?: string };
}

/** "+" ip4/ip6 ranges a walked record publishes, through its "+" includes and redirect (the relay's addresses). */
export function publishedRanges(node: SpfTreeNode | undefined, depth = 0): string[] {
  if (!node || depth > 10) return [];
  const out: string[] = [];
  for (const t of node.terms) {
    if (t.ignored || t.loop || t.error) continue;
    const p = parseTermShared(t.term);
    if (p.error || p.qualifier !== '+') continue;
    const range = ipTermRange(p);
    if (range) out.push(range);
    else if ((p.mechanism === 'include' || p.modifier === 'redirect') && t.children) out.push(...publishedRanges(t.children, depth + 1));
  }
  return out;
}

/**
 * The walked record of one of `hosts` at or below an include's target (the relay's own record), if walked. `hosts` in
 * canonical form (canonName); the walk's targets are (tree.ts staticTarget).
 */
export function relayNode(t: SpfTreeTerm, hosts: ReadonlySet<string>, depth = 0): SpfTreeNode | undefined {
  if (!t.children || depth > 10) return undefined;
  if (t.target && hosts.has(t.target.toLowerCase())) return t.children;
  for (const c of t.children.terms) {
    const n = relayNode(c, hosts, depth + 1);
    if (n) return n;
  }
  return undefined;
}

const MECH = /^([+\-~?]?)([a-z0-9]+)/i;

function reaches(node: SpfTreeNode, hosts: ReadonlySet<string>, depth: number): Reach | null {
  if (depth > 32) return null;
  let redirect: SpfTreeTerm | undefined;
  /**
   * "-", "~" and "?" ip4/ip6 terms met so far in this record: they decide first for the addresses they cover — except
   * those a "+" ip4/ip6 term before them (`passed`) already matched, which pass there.
   */
  const denying: Denying[] = [];
  /** "+" ip4/ip6 ranges met so far in this record. */
  const passing: string[] = [];
  /**
   * The first "+" include whose record shadows some of the relay's addresses: for those it does not match, and
   * evaluation goes on — the relay passes only if a later term reaches it (else this is the verdict).
   */
  let pending: Reach | null = null;
  for (const t of node.terms) {
    if (t.ignored || t.loop) continue;
    if (t.kind === 'modifier') {
      if (/^redirect=/i.test(t.term)) redirect = t;
      continue;
    }
    if (t.kind !== 'mechanism') continue;
    const m = MECH.exec(t.term);
    const mech = m?.[2].toLowerCase();
    if (m && (mech === 'ip4' || mech === 'ip6') && !t.error) {
      const range = ipTermRange(parseTermShared(t.term));
      if (range && m[1] && m[1] !== '+') denying.push({ term: t.term, qualifier: m[1] as Qualifier, range, passed: [...passing] });
      else if (range) passing.push(range);
      continue;
    }
    if (!m || mech !== 'include' || !t.target) continue;
    const q = (m[1] || '+') as Qualifier;
    const direct = hosts.has(t.target.toLowerCase());
    const inner = !direct && t.children ? reaches(t.children, hosts, depth + 1) : null;
    if (inner?.shadow && q === '+') {
      pending ??= { ...inner, shadow: { ...inner.shadow, via: t.term } };
      continue;
    }
    const passes = direct || inner?.qualifier === '+';
    if (!passes) continue;
    return (q === '+' && shadowed(t, denying, hosts)) || { term: t.term, qualifier: q };
  }
  // redirect= applies only when no mechanism matched; the target's result is the record's.
  let viaRedirect: Reach | null = null;
  if (redirect?.target) {
    if (hosts.has(redirect.target.toLowerCase())) viaRedirect = shadowed(redirect, denying, hosts) ?? { term: redirect.term, qualifier: '+' };
    else {
      const inner = redirect.children ? reaches(redirect.children, hosts, depth + 1) : null;
      // A shadow in the target's record is the record's (named through the redirect, not as its qualifier).
      if (inner?.shadow) viaRedirect = { ...inner, shadow: { ...inner.shadow, via: redirect.term } };
      else if (inner) viaRedirect = (inner.qualifier === '+' && shadowed(redirect, denying, hosts)) || { term: redirect.term, qualifier: inner.qualifier };
    }
  }
  // An include that shadowed some of the relay's addresses did not match for them, and evaluation went on: a redirect=
  // that passes the relay decides for them (review: it was reported failing), else that shadow is the verdict.
  if (pending) return viaRedirect && viaRedirect.qualifier === '+' && !viaRedirect.shadow ? viaRedirect : pending;
  return viaRedirect;
}

/** The first of `denying` (terms before `t`, which reaches the relay with "+") that covers some of the relay's ranges. */
function shadowed(t: SpfTreeTerm, denying: readonly Denying[], hosts: ReadonlySet<string>): Reach | null {
  if (!denying.length) return null;
  const ranges = publishedRanges(relayNode(t, hosts));
  for (const d of denying) {
    // Addresses an earlier "+" ip4/ip6 term matched pass there: `ip4:23.83.208.0/20 -ip4:23.83.208.0/20` shadows nothing.
    const covered = ranges.filter((r) => cidrOverlap(d.range, r) && !cidrsCover(d.passed, cidrShared(d.range, r)));
    if (covered.length) return { term: d.term, qualifier: d.qualifier, shadow: { include: t.term, ranges: covered } };
  }
  return null;
}

/** See RelayAuthorisation. `hosts`: the names whose SPF record authorises the relay (its host, its include name). */
export function relayAuthorisation(tree: SpfTreeNode, hosts: readonly string[]): RelayAuthorisation {
  const r = reaches(tree, new Set(hosts.map((h) => canonName(h))), 0);
  if (!r) return { state: 'absent' };
  if (r.qualifier === '+') return { state: 'pass', term: r.term };
  return r.shadow ? { state: 'shadowed', term: r.term, qualifier: r.qualifier, ...r.shadow } : { state: 'denied', term: r.term, qualifier: r.qualifier };
}

/**
 * Whether receivers evaluating the "+" include `t` after `before` DNS lookups reach, within the lookup limit, "+"
 * ip4/ip6 terms that cover every one of `ranges` together with `passing` — in its record, in order, through its "+"
 * includes and its redirect= (which comes last). Ranges it passes are added to `passing` (those addresses matched).
 * a, mx, exists and ptr terms count as no match, as permerrorBefore counts them.
 */
function coveredWithin(t: SpfTreeTerm, ranges: readonly string[], passing: string[], before: number, depth = 0): boolean {
  return passedIn(t, ranges, passing, before, depth) === true;
}

/** coveredWithin's walk: true when covered, else the lookups counted by the end of `t`. */
function passedIn(t: SpfTreeTerm, ranges: readonly string[], passing: string[], before: number, depth: number): true | number {
  const p = parseTermShared(t.term);
  const follow = t.children && !t.error && !t.unknown && !t.loop && depth < 10 && (p.mechanism === 'include' ? p.qualifier === '+' : p.modifier === 'redirect');
  if (!ranges.length || !follow) return before + t.lookups;
  let n = before + 1;
  if (n > LOOKUP_LIMIT) return before + t.lookups;
  const inner = t.children!.terms.filter((x) => !x.ignored);
  for (const x of [...inner.filter((x) => x.kind === 'mechanism'), ...inner.filter((x) => x.kind !== 'mechanism')]) {
    const q = parseTermShared(x.term);
    const range = !x.error && q.qualifier === '+' ? ipTermRange(q) : null;
    if (range) {
      passing.push(range);
      if (ranges.every((r) => cidrsCover(passing, r))) return true;
      continue;
    }
    const r = passedIn(x, ranges, passing, n, depth + 1);
    if (r === true) return true;
    n = r;
    if (n > LOOKUP_LIMIT) break;
  }
  return before + t.lookups;
}

/**
 * What makes receivers answer permerror for the relay's mail before they reach `passTerm` (the top-level term
 * relayAuthorisation found passing it; `hosts` as given to it) in the record `tree` is: a syntax error anywhere in the
 * record (it is refused whole), or an include before that term whose evaluation is a permanent error — its target
 * publishes no SPF record or several, is no usable name, loops, or leads to such a record (RFC 7208 §5.2) — unless "+"
 * ip4/ip6 terms before that include already cover every range the relay's record publishes (they match first). a, mx
 * and exists terms cannot be judged for the relay's servers (the walk has none of their names) and count as no match,
 * as relayAuthorisation counts them (differential QA: pyspf answered permerror for the relay's addresses; the audit
 * said the relay was authorised). Null when nothing does.
 */
export function permerrorBefore(tree: SpfTreeNode, passTerm: string, hosts: readonly string[]): { term: string; why: string } | null {
  if (tree.syntaxErrors.length) return { term: tree.record ?? '', why: tree.syntaxErrors[0] };
  const pass = tree.terms.find((t) => t.term === passTerm);
  const ranges = pass ? publishedRanges(relayNode(pass, new Set(hosts.map((h) => canonName(h))))) : [];
  const passing: string[] = [];
  const matchedFirst = () => ranges.length > 0 && ranges.every((r) => cidrsCover(passing, r));
  // DNS-querying terms receivers evaluate for the relay's mail before `passTerm` (a, mx, exists and ptr match none of
  // its addresses here, as above): past 10 — an include's own record's terms counted with it — they answer permerror
  // there (RFC 7208 §4.6.4), and `passTerm`, itself a lookup, is never reached (differential QA: pyspf answered
  // permerror for the relay's addresses behind 9 lookups and Google's include; the audit said the relay was authorised).
  let lookups = 0;
  for (const t of tree.terms) {
    if (t === pass) {
      if (lookups + 1 > LOOKUP_LIMIT && !matchedFirst()) return { term: tree.record ?? '', why: `the terms before ${t.term} cost ${lookups} DNS lookups, and it is one more: more than ${LOOKUP_LIMIT} (RFC 7208 §4.6.4)` };
      return null;
    }
    if (t.ignored || t.kind !== 'mechanism') continue;
    const m = MECH.exec(t.term);
    const mech = m?.[2].toLowerCase();
    if ((mech === 'ip4' || mech === 'ip6') && !t.error && (m?.[1] || '+') === '+') {
      const range = ipTermRange(parseTermShared(t.term));
      if (range) passing.push(range);
      continue;
    }
    // An include whose own record passes every range first (its "+" ip4/ip6 terms, within the limit) ends the
    // evaluation for the relay's mail there: the rest of its lookups never happen (review: its total was counted).
    if (coveredWithin(t, ranges, passing, lookups)) return null;
    lookups += t.lookups;
    if (lookups > LOOKUP_LIMIT && !matchedFirst()) return { term: t.term, why: `receivers count ${lookups} DNS lookups by the end of it, more than ${LOOKUP_LIMIT} (RFC 7208 §4.6.4)` };
    if (mech !== 'include' || t.unknown) continue;
    if (!(t.error || t.nestedErrors?.length)) continue;
    if (matchedFirst()) return null;
    return { term: t.term, why: t.error ?? t.nestedErrors![0] };
  }
  return null;
}

/**
 * For a record that does not include the relay (relayAuthorisation: `absent`): whether its own "+" ip4/ip6 terms copy
 * every range the relay's record publishes (`relayRanges`, e.g. `ip4:23.83.208.0/20` for relay.mailchannels.net's) —
 * so receivers pass the relay's mail from today's addresses (differential QA: pyspf and Mail::SPF both pass them,
 * where the audit said receivers fail the relay's mail). Each range must be passed first, as receivers evaluate: by
 * "+" terms not shadowed by a "-", "~" or "?" ip4/ip6 term before them (the rule relayAuthorisation applies), before
 * `all` and before any include that is a permanent error, in a record without syntax errors. a, mx, exists and ptr
 * terms count as no match (relayAuthorisation's rule). The copied ranges, or null.
 */
export function relayRangesCopied(tree: SpfTreeNode, relayRanges: readonly string[]): string[] | null {
  if (!relayRanges.length || tree.syntaxErrors.length) return null;
  const passing: string[] = [];
  const denying: { range: string; passed: string[] }[] = [];
  const copied = () =>
    relayRanges.every((r) => cidrsCover(passing, r) && !denying.some((d) => cidrOverlap(d.range, r) && !cidrsCover(d.passed, cidrShared(d.range, r))));
  for (const t of tree.terms) {
    if (t.ignored || t.kind !== 'mechanism') continue;
    const m = MECH.exec(t.term);
    const mech = m?.[2].toLowerCase();
    if (mech === 'all') break;
    if ((mech === 'ip4' || mech === 'ip6') && !t.error) {
      const range = ipTermRange(parseTermShared(t.term));
      if (!range) continue;
      if ((m?.[1] || '+') === '+') passing.push(range);
      else denying.push({ range, passed: [...passing] });
      continue;
    }
    // An include that is a permanent error ends evaluation for every address not passed before it.
    if (mech === 'include' && !t.unknown && (t.error || t.nestedErrors?.length)) return copied() ? [...relayRanges] : null;
  }
  return copied() ? [...relayRanges] : null;
}
