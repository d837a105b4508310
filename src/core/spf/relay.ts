// The SPF include name for a relay (smarthost): shared by the SPF check and the SPF fix, so both agree on what
// authorises a relayed server.
import type { CheckContext } from '../checks/context.js';
import { canonName, registrableDomain } from '../domain.js';
import { mergedText, netHalves, netInside, netOverlap, netsCover, netWidth, toNet, type Net } from '../ip.js';
import { joinTxt } from '../resolver.js';
import { isSpfRecord, parseTermShared, type Qualifier } from './parse.js';
import { ipTermRange } from './terms.js';
import type { SpfTreeNode, SpfTreeTerm } from './tree.js';

/** RFC 7208 §4.6.4: DNS-querying terms one evaluation may cost. */
const LOOKUP_LIMIT = 10;
/** RFC 7208 §4.6.4: void lookups (names that do not exist or have no address of the sender's family) one evaluation may cost. */
const VOID_LIMIT = 2;

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
 * and evaluation goes on). An include of one of `hosts` (the relay's include names) passes the relay's servers — the
 * addresses of the ranges the relay's record publishes (its "+" ip4/ip6 terms, as walked) — unless a term before it
 * matches some of them first with "-", "~" or "?": an ip4/ip6 term covering them, an a or mx term whose name has such
 * addresses (relayTermRanges), an exists term whose name exists (it matches every sender), an include or redirect= of
 * a record that passes them — in the record itself or in the one leading to the relay's include. Each address is
 * judged as check_host judges it (the ranges cut where the record's terms treat addresses differently: relayCells).
 * Terms with macros that depend on the message, ptr, and names that got no answer count as no match (only check_host
 * with the address can tell; relayPastVoids asks it where they may cost the relay's mail a permerror).
 *
 * - `pass`: a term reaching the relay with `+` (or no qualifier) decides first — the relay is authorised;
 * - `denied`: the first top-level term that reaches the relay has `-`, `~` or `?` (`~include:relay.mailchannels.net`):
 *   receivers fail, softfail or neutral the relay's mail that gets there (terms before it may decide first for some or
 *   all of it: deniedDecisions);
 * - `shadowed`: `term` (`-ip4:23.83.208.0/20`, `-a:<a name of one of the relay's addresses>`, `?include:<a record
 *   passing them>`) comes before `include`, the term that reaches the relay, and matches `ranges` of the relay's
 *   addresses first (those it decides for — `-ip4:23.83.210.0/24`: 23.83.210.0/24 of 23.83.208.0/20): receivers fail,
 *   softfail or neutral the relay's mail from those addresses (what they do with the rest: shadowRest); `via`: the
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
  net: Net;
  /** The "+" ip4/ip6 ranges before it in the same record. */
  passed: Net[];
}

/**
 * Whether `d` decides first for some addresses of `range` (one of the relay's): those they share, unless the "+" ranges
 * before `d` passed every one of them (`ip4:23.83.208.0/20 -ip4:23.83.208.0/20` shadows nothing).
 */
function shades(d: Denying, range: Net): boolean {
  return netOverlap(d.net, range) && !netsCover(d.passed, d.net.len >= range.len ? d.net : range);
}

/**
 * A record's ip4/ip6 term met in order (`m`: its MECH match): its range goes to `passing` ("+") or, with the "+" ranges
 * before it, to `denying`. Whether `t` is one.
 */
function ipTermMet(t: SpfTreeTerm, m: RegExpExecArray | null, passing: Net[], denying: Denying[]): boolean {
  const mech = m?.[2].toLowerCase();
  if (!m || (mech !== 'ip4' && mech !== 'ip6') || t.error) return false;
  const net = termNet(t);
  if (net && m[1] && m[1] !== '+') denying.push({ term: t.term, qualifier: m[1] as Qualifier, net, passed: [...passing] });
  else if (net) passing.push(net);
  return true;
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
  const passing: Net[] = [];
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
    if (ipTermMet(t, m, passing, denying)) continue;
    if (!m || m[2].toLowerCase() !== 'include' || !t.target) continue;
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
    // The relay's ranges as its record writes them.
    const covered = ranges.filter((r) => {
      const n = toNet(r);
      return n !== null && shades(d, n);
    });
    if (covered.length) return { term: d.term, qualifier: d.qualifier, shadow: { include: t.term, ranges: covered } };
  }
  return null;
}

/**
 * How a term that decides first for some of the relay's addresses (a `shadowed` verdict's `term`) reaches them, for
 * messages: "covers the relay's addresses 23.83.208.0/24" (ip4/ip6), or what an include, a/mx or exists term does.
 */
export function shadowWords(term: string, ranges: readonly string[]): string {
  const them = ranges.length ? `the relay's addresses ${ranges.join(', ')}` : "the relay's addresses";
  const m = MECH.exec(term)?.[2].toLowerCase();
  if (m === 'include') return `leads to a record that passes ${them}, so it matches them`;
  if (m === 'a' || m === 'mx') return `matches ${them} (${m === 'a' ? "its name's addresses" : "its mail hosts' addresses"})`;
  if (m === 'exists') return `matches every sender (its name exists), ${them} among them`;
  return `covers ${them}`;
}

/**
 * See RelayAuthorisation. `hosts`: the names whose SPF record authorises the relay (its host, its include name);
 * `known`: what the record's a/mx terms match (relayTermRanges — without it they match nothing). The walk along the
 * way to the relay's include (reaches) names the term that reaches it; each address of the relay's ranges is then
 * judged as check_host judges it (asEvaluated).
 *
 * Why the walk stays beside the cells: its choices are part of what callers say and do, and the cells alone choose
 * otherwise — the term named as passing the relay (`include:A include:relay.mailchannels.net -all`, A's record failing
 * part of the relay's addresses before its own include of the relay: the walk names the second, every cell passes
 * through one or the other), `denied` for a relay include with a qualifier even where a term before it matches first
 * (`-ip4:23.83.208.0/20 ~include:relay.mailchannels.net`: the fix makes that include plain, then moves it — what the
 * cells say decides there is deniedDecisions', for messages), and its verdict where the cells name nothing and it is
 * no `shadowed` they refute (a relay whose own record fails some of the ranges it publishes, with the relay's include
 * passing; more than MAX_CELLS cells). A judgement from the cells alone was weighed in review: it changes those
 * results. The ranges a `shadowed` verdict names are the cells' (asEvaluated).
 */
export function relayAuthorisation(tree: SpfTreeNode, hosts: readonly string[], known?: TermRanges): RelayAuthorisation {
  const set = new Set(hosts.map((h) => canonName(h)));
  const r = reaches(tree, set, 0);
  if (!r) return { state: 'absent' };
  if (r.qualifier !== '+' && !r.shadow) return { state: 'denied', term: r.term, qualifier: r.qualifier };
  const walked: RelayAuthorisation = r.qualifier === '+' ? { state: 'pass', term: r.term } : { state: 'shadowed', term: r.term, qualifier: r.qualifier as '-' | '~' | '?', ...r.shadow! };
  return asEvaluated(tree, walked, set, known);
}

// ---- The relay's addresses, as receivers evaluate a record for them ----
//
// check_host for the relay's mail (RFC 7208 §4.6): terms in order, the first match decides; an include matches when
// the record it names passes; the 11th DNS-querying term is a permerror (§4.6.4), and the lookups of terms never
// reached are not counted. Differential QA (test/e2e/spf-relay-limit-oracles.test.ts: pyspf and Mail::SPF over
// generated records) found the walk-based shortcuts wrong both ways: an include before the relay's whose record fails
// the relay's addresses early (`-ip4:23.83.208.0/20 a:… a:…`) was counted whole, and the relay reported past 10
// lookups; `-a:<a name of the relay's address>`, `?include:<a record passing them>` and `-include:…` before the relay's
// include were no match, and the relay reported authorised. So the relay's published ranges are cut into cells that
// every ip4/ip6 term of the tree, and every address an a/mx term names, treats alike (wholly inside or outside it), and
// the walked tree is evaluated for each cell as check_host evaluates it for any address in it.

/**
 * The ranges each a/mx term of a walked tree matches ("address/prefix": the addresses its name has — an mx, its
 * exchangers' — with the term's CIDR length applied, RFC 7208 §5.3, §5.4), as the walk found them (tree.ts keeps them).
 */
export type TermRanges = ReadonlyMap<SpfTreeTerm, readonly string[]>;

/** relayTermRanges' cap on the a/mx terms it reads (a hostile tree's): past it, the rest count as no match. */
const MAX_ADDRESSED_TERMS = 40;

/**
 * What the a/mx terms of `tree` (at any depth) match: see TermRanges. Nothing is asked: the walk kept the addresses it
 * got for each name. A term with DNS trouble or an error,
 * or a name with macros that depend on the message, is left out (no match: DNS trouble is the tree's `unknown`).
 */
export function relayTermRanges(tree: SpfTreeNode): TermRanges {
  const out = new Map<SpfTreeTerm, string[]>();
  let left = MAX_ADDRESSED_TERMS;
  const collect = (node: SpfTreeNode, depth: number): void => {
    for (const t of node.terms) {
      if (t.ignored || t.error || t.unknown || t.dynamic || t.loop) continue;
      const p = parseTermShared(t.term);
      if ((p.mechanism === 'a' || p.mechanism === 'mx') && t.target) {
        // The cap reached: no later term is read either.
        if (left-- <= 0) return;
        const found = [...(t.addresses4 ?? []).map((ip) => `${ip}/${p.cidr4 ?? 32}`), ...(t.addresses6 ?? []).map((ip) => `${ip}/${p.cidr6 ?? 128}`)];
        if (found.length) out.set(t, found);
      } else if (t.children && depth < 10) collect(t.children, depth + 1);
    }
  };
  collect(tree, 0);
  return out;
}

/** The range of an ip4/ip6 term of a walked tree (null for any other term), kept with the term: asked for every cell. */
const termNets = new WeakMap<SpfTreeTerm, Net | null>();

function termNet(t: SpfTreeTerm): Net | null {
  let n = termNets.get(t);
  if (n === undefined) {
    const range = t.error ? null : ipTermRange(parseTermShared(t.term));
    n = range ? toNet(range) : null;
    termNets.set(t, n);
  }
  return n;
}

/** Cells past this many (a hostile tree's ranges): the record is judged as before, by the walk's shortcuts. */
const MAX_CELLS = 2048;

/**
 * The relay's `ranges` cut into cells: no ip4/ip6 term of `tree` (any qualifier, any depth) and no range an a/mx term
 * matches (`known`) lies partly inside one — each holds a cell whole or not at all, so check_host evaluates the record
 * alike for every address of a cell. In address order; null past MAX_CELLS.
 */
function relayCells(tree: SpfTreeNode, ranges: readonly string[], known: TermRanges | undefined): Net[] | null {
  const cuts: Net[] = [];
  const collect = (node: SpfTreeNode, depth: number): void => {
    for (const t of node.terms) {
      if (t.ignored || t.error) continue;
      const n = termNet(t);
      if (n) cuts.push(n);
      for (const r of known?.get(t) ?? []) {
        const k = toNet(r);
        if (k) cuts.push(k);
      }
      if (t.children && depth < 10) collect(t.children, depth + 1);
    }
  };
  collect(tree, 0);
  const own = ranges.map(toNet).filter((n): n is Net => n !== null);
  // A range inside another of the relay's is that one's (its cells are made once).
  const todo = own.filter((n, i) => !own.some((o, j) => j !== i && netInside(n, o) && (o.len < n.len || j < i)));
  const out: Net[] = [];
  while (todo.length) {
    const c = todo.pop()!;
    if (c.len < netWidth(c) && cuts.some((k) => k.len > c.len && netInside(k, c))) todo.push(...netHalves(c));
    else out.push(c);
    if (out.length + todo.length > MAX_CELLS) return null;
  }
  return out.sort((a, b) => (a.v6 !== b.v6 ? (a.v6 ? 1 : -1) : a.bits < b.bits ? -1 : a.bits > b.bits ? 1 : 0));
}

type Verdict = 'pass' | 'fail' | 'softfail' | 'neutral' | 'permerror' | 'unknown';

const RESULT: Record<Qualifier, Verdict> = { '+': 'pass', '-': 'fail', '~': 'softfail', '?': 'neutral' };
const QUALIFIER: Partial<Record<Verdict, '-' | '~' | '?'>> = { fail: '-', softfail: '~', neutral: '?' };

/** What check_host gives a cell of the relay's addresses in one record. */
interface Decision {
  result: Verdict;
  /**
   * The term of the record that decided — matched, led to the result (redirect=), or met the permanent error; none when
   * no term matched (neutral) or the record itself is broken.
   */
  term?: SpfTreeTerm;
  /** The decision of the record `term` leads to (include, redirect=). */
  inner?: Decision;
  /** DNS-querying terms counted before `term`. */
  before: number;
  /** A permanent error's cause: `limit` (the 11th DNS-querying term), `voids` (the third void lookup), else the error. */
  error?: string;
  /** For `voids`: the void lookups counted by the end of `term`. */
  voids?: number;
}

interface Evaluation {
  /** The cell (null: an address no ip4/ip6 term and no a/mx term matches — the walk's shortcut, when no cell is known). */
  cell: Net | null;
  hosts: ReadonlySet<string>;
  known: TermRanges | undefined;
  /** DNS-querying terms counted so far. */
  lookups: number;
  /**
   * Void lookups counted so far, where they are counted (permerrorBefore and deniedDecisions: what receivers answer for
   * the relay's mail); undefined: not counted (relayAuthorisation's verdict, and relayPastVoids' check_host for a
   * passing include, keep the walk's rule).
   */
  voids?: number;
}

/**
 * The void lookups a walked a/mx/exists term costs a sender in `cell` (tree.ts counts them per family: receivers look
 * up only the sender's family, RFC 7208 §5.3; exists always asks A). Those of the record an include or redirect= leads
 * to are counted there, term by term. No cell: the names void for every sender.
 */
function ownVoids(t: SpfTreeTerm, m: string | undefined, cell: Net | null): number {
  if (m !== 'a' && m !== 'mx' && m !== 'exists') return 0;
  return !cell ? t.voids : cell.v6 ? t.voids6 : t.voids4;
}

/**
 * check_host over a walked record for `e.cell`. What the walk cannot judge for an address counts as no match: terms
 * with macros that depend on the message (their lookups, void lookups and permanent errors for the relay's addresses
 * are relayPastVoids' check_host's), ptr, names that got no answer. An a/mx term matches the cells of the ranges
 * `e.known` gives it; an exists term whose name has an address (the walk counted no void lookup) matches every sender.
 */
function evaluateFor(node: SpfTreeNode, e: Evaluation, depth: number): Decision {
  if (node.syntaxErrors.length) return { result: 'permerror', before: e.lookups, error: node.syntaxErrors[0] };
  let redirect: SpfTreeTerm | undefined;
  for (const t of node.terms) {
    if (t.ignored) continue;
    if (t.kind === 'modifier') {
      if (/^redirect=/i.test(t.term)) redirect = t;
      continue;
    }
    if (t.kind !== 'mechanism') continue;
    const p = parseTermShared(t.term);
    const before = e.lookups;
    const m = p.mechanism;
    if (m === 'ip4' || m === 'ip6') {
      const n = termNet(t);
      if (n && e.cell && netInside(e.cell, n)) return { result: RESULT[p.qualifier], term: t, before };
      continue;
    }
    if (m === 'all') return { result: RESULT[p.qualifier], term: t, before };
    if (++e.lookups > LOOKUP_LIMIT) return { result: 'permerror', term: t, before, error: 'limit' };
    // Every name an a/mx term looks up is asked before it is compared (an mx's exchangers too): past the void limit it
    // is a permerror, whether it matches or not (check_host's countVoid; evaluate.ts).
    if (e.voids !== undefined && (e.voids += ownVoids(t, m, e.cell)) > VOID_LIMIT) return { result: 'permerror', term: t, before, error: 'voids', voids: e.voids };
    if (m === 'include') {
      // The relay's own include, when its record was not walked (no cell then): it passes the relay.
      if (!e.cell && t.target && e.hosts.has(t.target) && !t.children) return { result: RESULT[p.qualifier], term: t, before };
      const d = follow(t, e, depth);
      if (d?.result === 'permerror') return { result: 'permerror', term: t, inner: d, before, error: d.error, ...(d.voids ? { voids: d.voids } : {}) };
      if (d?.result === 'pass') return { result: RESULT[p.qualifier], term: t, inner: d, before };
    } else if (m === 'a' || m === 'mx') {
      // An error found after the name was looked up (more than 10 MX names) is a permerror; an unusable name matches nothing.
      if (t.error && t.target) return { result: 'permerror', term: t, before, error: t.error };
      if (e.cell && namesCell(e.known?.get(t), e.cell)) return { result: RESULT[p.qualifier], term: t, before };
    } else if (m === 'exists' && !t.dynamic && !t.unknown && !t.error && t.target && t.voids === 0) {
      return { result: RESULT[p.qualifier], term: t, before };
    }
  }
  if (redirect) {
    const before = e.lookups;
    if (++e.lookups > LOOKUP_LIMIT) return { result: 'permerror', term: redirect, before, error: 'limit' };
    const d = follow(redirect, e, depth);
    if (!d) return { result: 'unknown', term: redirect, before };
    return { result: d.result, term: redirect, inner: d, before, ...(d.error ? { error: d.error } : {}), ...(d.voids ? { voids: d.voids } : {}) };
  }
  return { result: 'neutral', before: e.lookups };
}

/** Whether one of `ranges` (an a/mx term's: TermRanges) holds `cell`. */
function namesCell(ranges: readonly string[] | undefined, cell: Net): boolean {
  if (ranges) {
    for (const r of ranges) {
      const n = toNet(r);
      if (n && netInside(cell, n)) return true;
    }
  }
  return false;
}

/** The decision of the record an include or redirect= leads to; null when the walk could not follow it (no match). */
function follow(t: SpfTreeTerm, e: Evaluation, depth: number): Decision | null {
  if (t.dynamic || t.unknown || depth >= 10) return null;
  // The walker's own limits are no receiver's error.
  if (t.error) return /^not followed/.test(t.error) ? null : { result: 'permerror', before: e.lookups, error: t.error };
  if (!t.children) return null;
  return evaluateFor(t.children, e, depth + 1);
}

/** Each cell of the relay's ranges (those of the record `top` leads to) and what check_host gives it in `tree`. */
function evaluated(tree: SpfTreeNode, top: SpfTreeTerm, hosts: ReadonlySet<string>, known: TermRanges | undefined, voids = false): { cell: Net | null; d: Decision; at: number }[] | null {
  const ranges = publishedRanges(relayNode(top, hosts));
  const cells: (Net | null)[] | null = ranges.length ? relayCells(tree, ranges, known) : [null];
  if (!cells) return null;
  return cells.map((cell) => {
    const d = evaluateFor(tree, { cell, hosts, known, lookups: 0, ...(voids ? { voids: 0 } : {}) }, 0);
    return { cell, d, at: d.term ? tree.terms.indexOf(d.term) : tree.terms.length };
  });
}

/**
 * The term of the record `t` leads to (at any depth, along the way to the relay) that keeps `cell` from passing there,
 * and the term of its record that leads on to the relay; null when there is none to name.
 */
function shadowInside(t: SpfTreeTerm, cell: Net | null, hosts: ReadonlySet<string>, known: TermRanges | undefined, depth = 0): { term: SpfTreeTerm; include: SpfTreeTerm; qualifier: '-' | '~' | '?' } | null {
  if (!t.children || depth > 10 || (t.target && hosts.has(t.target))) return null;
  const node = t.children;
  const d = evaluateFor(node, { cell, hosts, known, lookups: 0 }, depth + 1);
  const next = node.terms.find((x) => !x.ignored && !!x.target && (hosts.has(x.target) || !!relayNode(x, hosts)));
  if (!next) return null;
  const q = QUALIFIER[d.result];
  const at = d.term ? node.terms.indexOf(d.term) : node.terms.length;
  if (d.term && q && d.term !== next && at < node.terms.indexOf(next)) return { term: d.term, include: next, qualifier: q };
  return shadowInside(next, cell, hosts, known, depth + 1);
}

/**
 * relayAuthorisation's verdict checked against check_host for every cell of the relay's ranges: `pass` when every cell
 * passes (or the rest is permerrorBefore's, or cannot be judged); else `shadowed` by what keeps the first cells from
 * passing — a term before `top` (the top-level term that reaches the relay) that matches them with "-", "~" or "?", or
 * one inside the record `top` leads to (`via`) — with the cells it decides for as its ranges (the walk named the relay's
 * ranges it overlaps: `-ip4:23.83.210.0/24` was said to cover 23.83.208.0/20). `walked`, the walk's verdict, keeps its
 * `include` where it names the same term. Where the cells name nothing, every address of the relay's that its own
 * record passes passes: a `shadowed` verdict of the walk is then its mistake (it takes a/mx terms for no match:
 * `a:<a name in 23.83.208.0/20>/20 -ip4:23.83.208.0/20 include:relay.mailchannels.net` decides at the a term, pyspf and
 * Mail::SPF agree, as for the include alone), and the verdict is the relay's include alone's (`pass`); a walked `pass`
 * stays one.
 */
function asEvaluated(tree: SpfTreeNode, walked: Extract<RelayAuthorisation, { state: 'pass' | 'shadowed' }>, hosts: ReadonlySet<string>, known: TermRanges | undefined): RelayAuthorisation {
  const topTerm = walked.state === 'pass' ? walked.term : (walked.via ?? walked.include);
  const k = tree.terms.findIndex((t) => t.term === topTerm && !t.ignored);
  if (k < 0) return walked;
  const top = tree.terms[k];
  const all = evaluated(tree, top, hosts, known);
  if (!all) return walked;
  // A permerror before the relay's term passes it is permerrorBefore's to report; an unknown decides nothing.
  const failing = all.filter((x) => x.d.result !== 'pass' && x.d.result !== 'unknown' && !(x.d.result === 'permerror' && x.at <= k));
  if (!failing.length) return { state: 'pass', term: topTerm };
  const first = Math.min(...failing.map((x) => x.at));
  if (first < k) {
    const t = tree.terms[first];
    const by = failing.filter((x) => x.at === first);
    const ranges = mergedText(by.flatMap((x) => (x.cell ? [x.cell] : [])));
    if (walked.state === 'shadowed' && !walked.via && walked.term === t.term) return { ...walked, ranges };
    const qualifier = QUALIFIER[by[0].d.result];
    if (qualifier) return { state: 'shadowed', term: t.term, qualifier, include: top.term, ranges };
  }
  // Not passed by the record `top` leads to: what in it keeps them from the relay's include.
  const inner = failing.map((x) => ({ x, s: shadowInside(top, x.cell, hosts, known) }));
  const named = inner.find((y) => y.s);
  if (!named?.s) return walked.state === 'shadowed' ? { state: 'pass', term: topTerm } : walked;
  const s = named.s;
  const ranges = mergedText(inner.filter((y) => y.s?.term === s.term).flatMap((y) => (y.x.cell ? [y.x.cell] : [])));
  if (walked.state === 'shadowed' && walked.via && walked.term === s.term.term) return { ...walked, ranges };
  return { state: 'shadowed', term: s.term.term, qualifier: s.qualifier, include: s.include.term, ranges, via: top.term };
}

/** The top-level term `term` of `tree` and each cell of the relay's ranges with what check_host gives it; null when not judged. */
function cellsAt(tree: SpfTreeNode, term: string, hosts: readonly string[], known: TermRanges | undefined, voids = false): { k: number; all: { cell: Net | null; d: Decision; at: number }[] } | null {
  const k = tree.terms.findIndex((t) => t.term === term && !t.ignored);
  if (k < 0) return null;
  const all = evaluated(tree, tree.terms[k], new Set(hosts.map((h) => canonName(h))), known, voids);
  return all && { k, all };
}

/**
 * For a `shadowed` verdict of relayAuthorisation (same `tree`, `hosts`, `known`), what check_host gives the relay's
 * other addresses — those `v.term` does not decide for: the top-level terms that pass them, in record order, when every
 * one of them passes (`-ip4:23.83.210.0/24 include:relay.mailchannels.net`: the include passes the rest); `[]` when
 * `v.term` decides for all of them; null when some of the rest do not pass either, or the cells cannot tell. For
 * messages: the finding says the rest pass only where they do. `voids`: void lookups counted (what receivers answer
 * today: past 2 before the term that passes them, they answer permerror — then the rest do not all pass).
 */
export function shadowRest(tree: SpfTreeNode, v: Extract<RelayAuthorisation, { state: 'shadowed' }>, hosts: readonly string[], known?: TermRanges, voids = false): string[] | null {
  const c = cellsAt(tree, v.via ?? v.include, hosts, known, voids);
  const shadowed = v.ranges.map(toNet).filter((n): n is Net => n !== null);
  if (!c || !shadowed.length) return null;
  const rest = c.all.filter((x) => !x.cell || !netsCover(shadowed, x.cell));
  if (rest.some((x) => x.d.result !== 'pass' || !x.d.term)) return null;
  return [...new Set(rest.sort((a, b) => a.at - b.at).map((x) => x.d.term!.term))];
}

/**
 * For a `denied` verdict of relayAuthorisation (the walk's: the term the fix makes plain, or puts the relay's include
 * before), what check_host gives the relay's addresses (`tree`, `hosts`, `known` as given to it), their ranges merged:
 * `first` — the first term before `v.term` that matches some of them with "-", "~" or "?" and decides for them
 * (`-ip4:23.83.208.0/20 ~include:relay.mailchannels.net`: pyspf and Mail::SPF fail them at the -ip4, the include's "~"
 * never reached), with those; `reached` — those `v.term` decides for with its qualifier; `passed` — those a term before
 * it passes first; `others` — whether some are decided otherwise (by another term before it, or after it). Null when
 * the cells cannot tell (then the walk's words stand).
 */
export function deniedDecisions(
  tree: SpfTreeNode,
  v: Extract<RelayAuthorisation, { state: 'denied' }>,
  hosts: readonly string[],
  known?: TermRanges,
): { first?: { term: string; qualifier: '-' | '~' | '?'; ranges: string[] }; reached: string[]; passed: string[]; others: boolean } | null {
  // Void lookups counted: past 2 before the term, receivers answer permerror there and nothing decides (review: three
  // names that do not exist before `~include:relay.mailchannels.net` were said to leave the "~" giving softfail, where
  // pyspf and Mail::SPF answer permerror).
  const c = cellsAt(tree, v.term, hosts, known, true);
  if (!c || c.all.some((x) => !x.cell)) return null;
  const { k, all } = c;
  const nets = (xs: typeof all) => mergedText(xs.map((x) => x.cell!));
  const early = all.filter((x) => x.at < k && QUALIFIER[x.d.result]);
  const at = early.length ? Math.min(...early.map((x) => x.at)) : -1;
  const by = early.filter((x) => x.at === at);
  const reached = all.filter((x) => x.at === k && x.d.result === RESULT[v.qualifier]);
  const passed = all.filter((x) => x.at < k && x.d.result === 'pass');
  return {
    ...(by.length ? { first: { term: tree.terms[at].term, qualifier: QUALIFIER[by[0].d.result]!, ranges: nets(by) } } : {}),
    reached: nets(reached),
    passed: nets(passed),
    others: by.length + reached.length + passed.length < all.length,
  };
}

/**
 * What makes receivers answer permerror for the relay's mail before they reach `passTerm` (the top-level term
 * relayAuthorisation found passing it; `hosts` and `known` as given to it) in the record `tree` is: a syntax error
 * anywhere in the record (it is refused whole, RFC 7208 §4.6); or, for some of the relay's addresses, check_host's evaluation meets a
 * permanent error before that term passes them — an include whose target publishes no SPF record or several, is no
 * usable name, loops, or leads to such a record (RFC 7208 §5.2), or the 11th DNS-querying term (§4.6.4) — counted as
 * receivers count for those addresses: terms that match them first end the evaluation, and the lookups after never
 * happen (differential QA: an include whose record fails the relay's addresses with `-ip4:…` before its own lookups
 * was counted whole, and a relay that passes reported past 10 lookups; pyspf answered permerror for the relay's
 * addresses behind 9 lookups and Google's include, the audit said the relay was authorised). `within`: it is met inside
 * the record `passTerm` leads to, before the relay's include there (then `term` is the record). Null when nothing does.
 * `voids`: the third void lookup (§4.6.4: names that do not exist or have no address of the sender's family) counts
 * too — for a relay include with a qualifier (deniedDecisions counts them); a passing include's void lookups are
 * relayPastVoids' (check_host for the relay's addresses, with what the walk cannot count).
 */
export function permerrorBefore(tree: SpfTreeNode, passTerm: string, hosts: readonly string[], known?: TermRanges, voids = false): { term: string; why: string; within?: true } | null {
  const s = permerrorStop(tree, passTerm, hosts, known, voids);
  return s ? { term: s.term, why: s.why, ...(s.within ? { within: s.within } : {}) } : null;
}

/**
 * Where check_host meets a permanent error, in permerrorBefore's words (`term`, `why`, `within`), and what makes it
 * one — known where it is met, not read back from the words (review: the section was found by matching "§4.6.4" in
 * `why`, which a name quoted there could carry too): `limit` — a lookup limit (the 11th DNS-querying term, the third
 * void lookup), not a broken term, so the fix may need the user's choice; `section` — the section of RFC 7208 that
 * makes it a permanent error, as cited: §4.6.4 for the limits (10 DNS-querying terms, 2 void lookups, 10 MX names of
 * an mx term), §4.6 for a syntax error in the record itself (refused before any term is evaluated), §5.2 for an
 * include whose target has no usable SPF record (review: a syntax error was cited as §5.2).
 */
export interface PermerrorStop {
  term: string;
  why: string;
  within?: true;
  limit: boolean;
  section: string;
}

const LIMITS = 'RFC 7208 §4.6.4';

/** permerrorBefore, with what makes it a permanent error (PermerrorStop). */
export function permerrorStop(tree: SpfTreeNode, passTerm: string, hosts: readonly string[], known?: TermRanges, voids = false): PermerrorStop | null {
  if (tree.syntaxErrors.length) return { term: tree.record ?? '', why: tree.syntaxErrors[0], limit: false, section: 'RFC 7208 §4.6' };
  const set = new Set(hosts.map((h) => canonName(h)));
  const k = tree.terms.findIndex((t) => t.term === passTerm && !t.ignored);
  if (k < 0) return null;
  const pass = tree.terms[k];
  // Past MAX_CELLS, one address no ip4/ip6 or a/mx term matches stands for them all (the walk's shortcut).
  const all = evaluated(tree, pass, set, known, voids) ?? [{ cell: null, d: evaluateFor(tree, { cell: null, hosts: set, known, lookups: 0, ...(voids ? { voids: 0 } : {}) }, 0), at: -1 }];
  let worst: { d: Decision; at: number } | null = null;
  for (const x of all) {
    const at = x.d.term ? tree.terms.indexOf(x.d.term) : -1;
    if (x.d.result !== 'permerror' || at < 0 || at > k) continue;
    if (!worst || at < worst.at) worst = { d: x.d, at };
  }
  if (!worst) return null;
  return stopAt(tree, worst.d, tree.terms[worst.at], pass);
}

/**
 * permerrorBefore's words for the permanent error `d` check_host met at the top-level term `t` of `tree`, with what
 * makes it one (PermerrorStop); `pass`: the term that leads to the relay (an error met at it is inside the record it
 * leads to: `within`), if any.
 */
function stopAt(tree: SpfTreeNode, d: Decision, t: SpfTreeTerm, pass: SpfTreeTerm | undefined): PermerrorStop {
  const limit = { limit: true, section: LIMITS };
  if (d.error === 'limit') {
    if (t !== pass) return { term: t.term, why: `receivers count ${d.before + t.lookups} DNS lookups by the end of it, more than ${LOOKUP_LIMIT} (RFC 7208 §4.6.4)`, ...limit };
    if (!d.inner) return { term: tree.record ?? '', why: `the terms before ${t.term} cost ${d.before} DNS lookups, and it is one more: more than ${LOOKUP_LIMIT} (RFC 7208 §4.6.4)`, ...limit };
    return { term: tree.record ?? '', why: `the terms before the relay's include in the record ${t.term} leads to take receivers past ${LOOKUP_LIMIT} DNS lookups (RFC 7208 §4.6.4)`, within: true, ...limit };
  }
  if (d.error === 'voids') {
    const n = d.voids ?? VOID_LIMIT + 1;
    const what = `lookups of names that do not exist or have no address of the sender's family: more than ${VOID_LIMIT} (RFC 7208 §4.6.4)`;
    if (t !== pass) return { term: t.term, why: `receivers count ${n} void lookups by the end of it, ${what}`, ...limit };
    return { term: tree.record ?? '', why: `the terms before the relay's include in the record ${t.term} leads to cost receivers ${n} void lookups, ${what}`, within: true, ...limit };
  }
  const why = t.error ?? t.nestedErrors?.[0] ?? d.error ?? 'a permanent error';
  // An mx term's more than 10 MX names is a limit of §4.6.4 too, but one term's, which the fix drops like a broken one.
  const cause = { limit: false, section: mxNamesError(d) ? LIMITS : 'RFC 7208 §5.2' };
  return t === pass ? { term: tree.record ?? '', why, within: true, ...cause } : { term: t.term, why, ...cause };
}

/**
 * Whether the permanent error `d` ends at an mx term (at any depth): evaluateFor's only error there is more than 10
 * MX names (tree.ts; a broken include's or record's decision has no term of its own).
 */
function mxNamesError(d: Decision): boolean {
  let leaf = d;
  while (leaf.inner) leaf = leaf.inner;
  return !!leaf.term && parseTermShared(leaf.term.term).mechanism === 'mx';
}

/**
 * For a `shadowed` verdict `v` of relayAuthorisation (same `tree`, `hosts`, `known`): the relay's addresses check_host
 * — void lookups counted, as receivers count them — stops at a permanent error before the top-level term that leads to
 * the relay (`v.via ?? v.include`) passes them or a term before it decides (`ranges`, merged; `all`:
 * every one of them), and where (`stop`: permerrorBefore's words); `shadowed`: those of `v.ranges` that `v.term` still
 * decides for (the rest are stopped before it). The walk's verdict counts no void lookups (review:
 * `a:gone1… a:gone2… a:gone3… -ip4:23.83.210.0/24 include:relay.mailchannels.net` was said to fail the relay's mail
 * from 23.83.210.0/24 and pass the rest, where pyspf and Mail::SPF answer permerror at the third name for all of it).
 * Null when none is stopped, or the cells cannot tell. A syntax error is not this: the record is refused whole.
 */
export function stoppedBefore(
  tree: SpfTreeNode,
  v: Extract<RelayAuthorisation, { state: 'shadowed' }>,
  hosts: readonly string[],
  known?: TermRanges,
): { ranges: string[]; all: boolean; shadowed: string[]; stop: PermerrorStop } | null {
  if (tree.syntaxErrors.length) return null;
  const c = cellsAt(tree, v.via ?? v.include, hosts, known, true);
  if (!c) return null;
  const stopped = c.all.filter((x) => x.d.result === 'permerror' && x.at <= c.k);
  if (!stopped.length) return null;
  const first = stopped.reduce((a, b) => (b.at < a.at ? b : a));
  const nets = stopped.flatMap((x) => (x.cell ? [x.cell] : []));
  return {
    ranges: mergedText(nets),
    all: stopped.length === c.all.length,
    // The ranges `v.term` still decides for: those not stopped before it.
    shadowed: v.ranges.filter((r) => {
      const n = toNet(r);
      return n !== null && !netsCover(nets, n);
    }),
    stop: stopAt(tree, first.d, tree.terms[first.at], tree.terms[c.k]),
  };
}

/**
 * For a record that does not include the relay (relayAuthorisation: `absent`; `relayRanges`: the ranges the relay's
 * record publishes; `known` as relayAuthorisation is given): where check_host — void lookups counted — stops every one
 * of the relay's addresses at a permanent error (`include:nothere.example -all`, three names that do not exist before
 * `-all`: the finding said receivers fail the relay's mail, where pyspf and Mail::SPF answer permerror), in
 * permerrorBefore's words. Null when some address is not stopped (the record fails, softfails or neutrals them, or
 * passes them), or the cells cannot tell. A syntax error is the caller's (the record is refused whole).
 */
export function absentStop(tree: SpfTreeNode, relayRanges: readonly string[], known?: TermRanges): Omit<PermerrorStop, 'within'> | null {
  if (tree.syntaxErrors.length || !relayRanges.length) return null;
  const cells = relayCells(tree, relayRanges, known);
  if (!cells?.length) return null;
  let first: { d: Decision; at: number } | null = null;
  for (const cell of cells) {
    const d = evaluateFor(tree, { cell, hosts: new Set(), known, lookups: 0, voids: 0 }, 0);
    const at = d.term ? tree.terms.indexOf(d.term) : -1;
    if (d.result !== 'permerror' || at < 0) return null;
    if (!first || at < first.at) first = { d, at };
  }
  const s = stopAt(tree, first!.d, tree.terms[first!.at], undefined);
  return { term: s.term, why: s.why, limit: s.limit, section: s.section };
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
  const passing: Net[] = [];
  const denying: Denying[] = [];
  const copied = () =>
    relayRanges.every((r) => {
      const n = toNet(r);
      return n !== null && netsCover(passing, n) && !denying.some((d) => shades(d, n));
    });
  for (const t of tree.terms) {
    if (t.ignored || t.kind !== 'mechanism') continue;
    const m = MECH.exec(t.term);
    const mech = m?.[2].toLowerCase();
    if (mech === 'all') break;
    if (ipTermMet(t, m, passing, denying)) continue;
    // An include that is a permanent error ends evaluation for every address not passed before it.
    if (mech === 'include' && !t.unknown && (t.error || t.nestedErrors?.length)) return copied() ? [...relayRanges] : null;
  }
  return copied() ? [...relayRanges] : null;
}
