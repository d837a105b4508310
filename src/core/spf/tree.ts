// Static SPF include-tree walker for audits (no client IP). Follows include/redirect, looks up a/mx/exists targets,
// counts DNS-querying terms over the whole tree and KEEPS COUNTING PAST 10, so each top-level term shows its cost
// (own lookup + nested) and users see what to drop. DNS trouble is `unknown`, never an error.
import { resolveAddresses, type Answer, type Resolver } from '../resolver.js';
import { isQueryableName, staticDomainSpec } from './evaluate.js';
import { parseSpfShared, selectSpf, tokenizeMacroString, type SpfTerm } from './parse.js';
import { filterList, mapList } from '../arrays.js';

export interface SpfTreeTerm {
  /** The term as written. */
  term: string;
  kind: SpfTerm['kind'];
  /** DNS-querying terms this term costs: its own lookup plus everything nested under it. */
  lookups: number;
  /** Void lookups (NXDOMAIN / no records) this term causes for every sender, nested ones included. */
  voids: number;
  // An a/mx name with addresses of one family only is a void lookup for the other family's senders only: receivers
  // ask for the sender's family alone (RFC 7208 §5.3/§5.4; pyspf does; differential QA).
  /** Void lookups for IPv4 senders (A lookups, and every MX/exists/include lookup). */
  voids4: number;
  /** Void lookups for IPv6 senders (AAAA lookups, and every MX/exists/include lookup). */
  voids6: number;
  /**
   * The name the term points at (include/redirect/a/mx/exists/ptr), when static: also for a term whose only macros are
   * %{d} and %{o} (`include:%{d}._spf.example.net`), expanded as receivers expand it for the domain's own mail.
   */
  target?: string;
  /** The included / redirected-to record, walked. */
  children?: SpfTreeNode;
  /**
   * a, mx: the IPv4 (A) and IPv6 (AAAA) addresses of the name it looks up (an mx: of its exchangers), as answered —
   * kept so that what the term matches is known without asking again (spf/relay.ts relayTermRanges). Unset when there
   * are none. Shared with the resolver's answers: read, never push.
   */
  addresses4?: readonly string[];
  addresses6?: readonly string[];
  /** Something definitely wrong with this term (target without SPF, loop, too many MX names, syntax…). */
  error?: string;
  /** DNS trouble (timeout, SERVFAIL…): could not check — not an error. */
  unknown?: string;
  /**
   * The term has %{…} macros that depend on the message (%{i}, %{s}, %{l}, %{h}, %{p}, %{v}): it cannot be resolved
   * statically. Not for one whose only macros are %{d} and %{o}, walked as its expanded name (`target`).
   */
  dynamic?: boolean;
  loop?: boolean;
  /** Why receivers never evaluate this term (after `all`; redirect next to `all`). Such terms cost 0. */
  ignored?: string;
  /**
   * include/redirect: problems inside the record it leads to, at any depth, that make receivers return permerror
   * (syntax, loop, target without SPF…), each with its path. DNS trouble is not among them (that is `unknown`).
   */
  nestedErrors?: string[];
}

export interface SpfTreeNode {
  domain: string;
  record: string | null;
  terms: SpfTreeTerm[];
  /** Sum of the terms' lookups (this record and below). */
  lookups: number;
  /** Void lookups for every sender (the terms' voids summed); voids4 / voids6: for the senders of one family. */
  voids: number;
  voids4: number;
  voids6: number;
  /** Syntax errors of this record. */
  syntaxErrors: string[];
  warnings: string[];
}

export interface SpfTree extends SpfTreeNode {
  status: 'found' | 'none' | 'multiple' | 'unknown';
  totalLookups: number;
  totalVoids: number;
  /** Any DNS trouble anywhere in the tree. */
  unknown: boolean;
  /**
   * That DNS trouble (timeout, SERVFAIL…), each lookup that got no answer as the walker worded it, in walk order
   * (depth first): empty exactly when `unknown` is false. Shared and empty when nothing failed: read it, never push.
   */
  troubles: readonly string[];
  overLookupLimit: boolean;
  overVoidLimit: boolean;
  /** Every problem in the tree, with the path that leads to it. */
  errors: string[];
  /**
   * The subset of `errors` receivers turn into permerror (syntax, loops, include/redirect targets without one SPF
   * record, too many MX names) — not the walker's own limits, not DNS trouble. The lookup and void limits are
   * `overLookupLimit` / `overVoidLimit`.
   */
  permerrors: string[];
  /** Loops found, as "a → b → a". */
  loops: string[];
  /** Names of all terms that could not be resolved statically. */
  dynamicTerms: string[];
}

export interface WalkOptions {
  /** Stop descending after this many nested records (hostile trees). Default 20. */
  maxDepth?: number;
  /** Fetch at most this many records in one walk. Default 200. */
  maxRecords?: number;
  maxLookups?: number;
  maxVoidLookups?: number;
  /**
   * The MAIL FROM domain %{o} stands for: the domain whose mail the record is walked for. Default the domain walked
   * (a record of the domain's own walked on its own, `_spf.<domain>`, gives the domain).
   */
  sender?: string;
}

interface WalkState {
  records: number;
  unknown: boolean;
  /** The DNS trouble met, allocated at the first one (nothing when every lookup answered). */
  troubles: string[] | undefined;
  errors: string[];
  /** The subset of `errors` receivers turn into permerror (not the walker's own limits), for `nestedErrors`. */
  permerrors: string[];
  loops: string[];
  dynamic: string[];
  opts: Required<Omit<WalkOptions, 'sender'>>;
  /** %{o}: see WalkOptions.sender. */
  sender: string;
}

const VISIBLE_ASCII = /^[\x21-\x7e]*$/;

/**
 * The name a domain-spec names for the domain's own mail, lower-cased: a macro-free spec (only %% %_ %- escapes) as
 * written, one whose only macros are %{d} (`domain`, the record's own) and %{o} (`sender`) expanded as check_host
 * expands them (evaluate.ts staticDomainSpec); null when it is unusable or another macro makes it depend on the message
 * (callers tell those apart by the term's hasMacro and staticMacros).
 */
function staticTarget(spec: string, domain: string, sender: string): string | null {
  // No "%" and only visible ASCII: the spec is one literal, the name as written (the common case, without tokenising).
  if (!spec.includes('%') && VISIBLE_ASCII.test(spec)) return (spec.endsWith('.') ? spec.slice(0, -1) : spec).toLowerCase();
  if (spec.includes('%{')) return staticDomainSpec(spec, domain, sender)?.toLowerCase() ?? null;
  const t = tokenizeMacroString(spec);
  if ('error' in t) return null;
  let name = t.tokens.map((x) => (x.kind === 'macro' ? '' : x.text)).join('');
  if (name.endsWith('.')) name = name.slice(0, -1);
  return name.toLowerCase();
}

/** Whether every macro of a domain-spec is %{d} or %{o} (with transformers, any case): none depends on the message. */
export function staticMacros(spec: string): boolean {
  const t = tokenizeMacroString(spec);
  return !('error' in t) && t.tokens.every((x) => x.kind !== 'macro' || x.letter === 'd' || x.letter === 'o');
}

/**
 * The name a term (include, redirect=, a, mx, exists, ptr) of the record at `domain` looks up, as the walk does: its
 * domain-spec (or `domain` itself for `a`, `mx`, `ptr` without one) with %{d} and %{o} expanded for mail from `sender`
 * (default `domain`: a term of the domain's own record). Null for a term whose macros depend on the message, or whose
 * spec is no usable name; undefined for a term that names none (ip4, ip6, all, other modifiers).
 */
export function termTarget(t: Pick<SpfTerm, 'kind' | 'mechanism' | 'modifier' | 'domainSpec' | 'hasMacro'>, domain: string, sender = domain): string | null | undefined {
  if (t.kind === 'modifier' ? t.modifier !== 'redirect' : t.kind !== 'mechanism' || t.mechanism === 'all' || t.mechanism === 'ip4' || t.mechanism === 'ip6') return undefined;
  if (t.domainSpec === undefined) return t.kind === 'mechanism' && t.mechanism !== 'include' && t.mechanism !== 'exists' ? domain.toLowerCase().replace(/\.$/, '') : null;
  const name = staticTarget(t.domainSpec, domain, sender);
  return name !== null && isQueryableName(name) ? name : null;
}

/** The SPF record in `domain`'s TXT answer. */
function recordIn(
  domain: string,
  ans: Answer<'TXT'>,
): { status: 'found'; record: string } | { status: 'none'; why: string } | { status: 'multiple'; records: string[] } | { status: 'unknown'; why: string } {
  if (ans.status === 'unknown') return { status: 'unknown', why: `${domain} TXT: DNS error (${ans.error ?? 'unknown'})` };
  if (ans.status === 'nxdomain') return { status: 'none', why: `${domain} does not exist (NXDOMAIN)` };
  const sel = selectSpf(ans.records);
  if (sel.status === 'none') return { status: 'none', why: `${domain} has no SPF record` };
  return sel;
}

function isVoidAnswer(status: string, count: number): boolean {
  return status === 'nxdomain' || status === 'nodata' || (status === 'ok' && count === 0);
}

/** `SpfTree.troubles` when every lookup answered: one shared empty list of strings' elements kind (never pushed to). */
const NO_TROUBLES: readonly string[] = (() => {
  const a = [''];
  a.length = 0;
  return a;
})();

/** DNS trouble (timeout, SERVFAIL…): the tree is `unknown`, and the message is kept for `troubles`. */
function trouble(st: WalkState, message: string): void {
  st.unknown = true;
  (st.troubles ??= []).push(message);
}

/** The addresses of one name an a/mx term looks up, kept on the term (SpfTreeTerm.addresses4/addresses6), after those it has. */
function keepAddresses(out: SpfTreeTerm, a: Answer<'A'>, aaaa: Answer<'AAAA'>): void {
  if (a.status === 'ok' && a.records.length) out.addresses4 = out.addresses4 ? [...out.addresses4, ...a.records] : a.records;
  if (aaaa.status === 'ok' && aaaa.records.length) out.addresses6 = out.addresses6 ? [...out.addresses6, ...aaaa.records] : aaaa.records;
}

/** A problem receivers turn into permerror: listed in `errors` and counted for the including term's `nestedErrors`. */
function fault(st: WalkState, message: string): void {
  st.errors.push(message);
  st.permerrors.push(message);
}


async function walkRecord(
  resolver: Resolver,
  domain: string,
  record: string,
  chain: string[],
  path: string,
  st: WalkState,
): Promise<SpfTreeNode> {
  const parsed = parseSpfShared(record);
  const node: SpfTreeNode = {
    domain,
    record,
    terms: [],
    lookups: 0,
    voids: 0,
    voids4: 0,
    voids6: 0,
    syntaxErrors: mapList(parsed.errors, (e) => e.reason),
    warnings: parsed.warnings.slice(),
  };
  for (const e of node.syntaxErrors) fault(st, `${path}: ${e}`);
  const hasAll = parsed.terms.some((t) => t.mechanism === 'all' && !t.error);
  let seenAll = false;

  // Indexed loops where the body awaits: a for-of iterator kept across an await allocates on every step.
  for (let i = 0; i < parsed.terms.length; i++) {
    const term = parsed.terms[i];
    const out: SpfTreeTerm = { term: term.raw, kind: term.kind, lookups: 0, voids: 0, voids4: 0, voids6: 0 };
    node.terms.push(out);
    if (term.error) {
      out.error = term.error;
      if (seenAll && term.kind !== 'modifier') out.ignored = 'after "all"';
      continue;
    }
    if (term.kind === 'mechanism' && seenAll) {
      out.ignored = 'after "all": never evaluated';
      continue;
    }
    if (term.mechanism === 'all') seenAll = true;
    if (term.kind === 'modifier' && term.modifier === 'redirect' && hasAll) {
      out.ignored = 'redirect= is ignored when the record has "all"';
      continue;
    }
    const m = term.kind === 'modifier' ? (term.modifier === 'redirect' ? 'redirect' : null) : term.mechanism!;
    if (!m || m === 'all' || m === 'ip4' || m === 'ip6') continue;

    out.lookups = 1;
    const where = `${path} ${term.raw}`;
    // %{d} and %{o} alone name one name for the domain's own mail (the record's domain, the MAIL FROM domain): walked
    // as that name — its record's lookups, void lookups and errors are every sender's (oracle QA: include:%{d}.<name
    // without SPF> is a permerror for every sender at pyspf and Mail::SPF, and was spf.ok).
    if (term.hasMacro && !staticMacros(term.domainSpec ?? '')) {
      out.dynamic = true;
      st.dynamic.push(term.raw);
      continue;
    }
    const target = term.domainSpec !== undefined ? staticTarget(term.domainSpec, domain, st.sender) : domain;
    if (target === null || !isQueryableName(target)) {
      out.error = `"${term.domainSpec}" is not a usable DNS name`;
      // An include/redirect target that is no name makes receivers return permerror; for a/mx/exists it just fails to match.
      if (m === 'include' || m === 'redirect') fault(st, `${where}: ${out.error}`);
      else st.errors.push(`${where}: ${out.error}`);
      continue;
    }
    out.target = target;

    switch (m) {
      case 'include':
      case 'redirect': {
        if (chain.includes(target)) {
          out.loop = true;
          out.error = `${m} loop: ${[...chain, target].join(' → ')}`;
          st.loops.push([...chain, target].join(' → '));
          fault(st, `${where}: ${out.error}`);
          break;
        }
        if (chain.length >= st.opts.maxDepth || st.records >= st.opts.maxRecords) {
          out.error = `not followed: the tree is deeper/larger than the walker's limit`;
          st.errors.push(`${where}: ${out.error}`);
          break;
        }
        st.records++;
        const rec = recordIn(target, await resolver.resolve(target, 'TXT'));
        if (rec.status === 'unknown') {
          out.unknown = rec.why;
          trouble(st, out.unknown);
          break;
        }
        if (rec.status === 'none') {
          out.error = `${m} target ${rec.why} (receivers return permerror)`;
          fault(st, `${where}: ${out.error}`);
          break;
        }
        if (rec.status === 'multiple') {
          out.error = `${m} target ${target} has ${rec.records.length} SPF records (permerror)`;
          fault(st, `${where}: ${out.error}`);
          break;
        }
        const before = st.permerrors.length;
        const child = await walkRecord(resolver, target, rec.record, [...chain, target], `${where} → ${target}`, st);
        out.children = child;
        if (st.permerrors.length > before) out.nestedErrors = st.permerrors.slice(before);
        out.lookups += child.lookups;
        out.voids += child.voids;
        out.voids4 += child.voids4;
        out.voids6 += child.voids6;
        break;
      }
      case 'a': {
        const { a, aaaa } = await resolveAddresses(resolver, target);
        if (a.status === 'unknown' || aaaa.status === 'unknown') {
          out.unknown = `${target} A/AAAA: DNS error (${(a.status === 'unknown' ? a.error : aaaa.error) ?? 'unknown'})`;
          trouble(st, out.unknown);
          break;
        }
        if (isVoidAnswer(a.status, a.records.length)) out.voids4 = 1;
        if (isVoidAnswer(aaaa.status, aaaa.records.length)) out.voids6 = 1;
        if (out.voids4 && out.voids6) out.voids = 1;
        keepAddresses(out, a, aaaa);
        break;
      }
      case 'mx': {
        const mx = await resolver.resolve(target, 'MX');
        if (mx.status === 'unknown') {
          out.unknown = `${target} MX: DNS error (${mx.error ?? 'unknown'})`;
          trouble(st, out.unknown);
          break;
        }
        if (isVoidAnswer(mx.status, mx.records.length)) {
          out.voids = out.voids4 = out.voids6 = 1;
          break;
        }
        const hosts = filterList(mapList(mx.records, (r) => r.exchange.replace(/\.$/, '').toLowerCase()), (h) => h !== '');
        if (hosts.length > 10) {
          out.error = `${target} has ${hosts.length} MX names; an mx term may look up at most 10 (permerror)`;
          fault(st, `${where}: ${out.error}`);
          break;
        }
        for (let j = 0; j < hosts.length; j++) {
          const h = hosts[j];
          if (!isQueryableName(h)) continue;
          const { a, aaaa } = await resolveAddresses(resolver, h); // as for an a term
          if (a.status === 'unknown' || aaaa.status === 'unknown') {
            // Each exchanger that did not answer is listed in `troubles`; the term keeps the last one.
            out.unknown = `${h} A/AAAA: DNS error (${(a.status === 'unknown' ? a.error : aaaa.error) ?? 'unknown'})`;
            trouble(st, out.unknown);
            continue;
          }
          const v4 = isVoidAnswer(a.status, a.records.length);
          const v6 = isVoidAnswer(aaaa.status, aaaa.records.length);
          if (v4) out.voids4++;
          if (v6) out.voids6++;
          if (v4 && v6) out.voids++;
          keepAddresses(out, a, aaaa);
        }
        break;
      }
      case 'exists': {
        const a = await resolver.resolve(target, 'A');
        if (a.status === 'unknown') {
          out.unknown = `${target} A: DNS error (${a.error ?? 'unknown'})`;
          trouble(st, out.unknown);
          break;
        }
        // exists asks for A records whatever the sender's family (RFC 7208 §5.7).
        if (isVoidAnswer(a.status, a.records.length)) out.voids = out.voids4 = out.voids6 = 1;
        break;
      }
      case 'ptr':
        // Needs the client IP: costs its lookup, nothing to resolve statically.
        break;
    }
  }
  for (const t of node.terms) {
    node.lookups += t.lookups;
    node.voids += t.voids;
    node.voids4 += t.voids4;
    node.voids6 += t.voids6;
  }
  return node;
}

/**
 * The void lookups past the limit as receivers count them: for every sender (`all`: the names void whatever the
 * sender's family), else for the senders of one family (names with addresses of the other family only), how many, and
 * which terms cause them for those senders. Null within the limit.
 */
export function voidsPast(node: SpfTreeNode, limit = 2): { senders: 'all' | 'IPv4' | 'IPv6'; count: number; terms: { term: string; voids: number }[]; missing: string } | null {
  const senders = node.voids > limit ? 'all' : node.voids4 > limit && node.voids4 >= node.voids6 ? 'IPv4' : node.voids6 > limit ? 'IPv6' : null;
  if (!senders) return null;
  const of = (t: SpfTreeTerm) => (senders === 'IPv4' ? t.voids4 : senders === 'IPv6' ? t.voids6 : t.voids);
  const terms = node.terms.filter((t) => of(t) > 0).map((t) => ({ term: t.term, voids: of(t) }));
  const missing = senders === 'IPv4' ? 'no IPv4 address (A)' : senders === 'IPv6' ? 'no IPv6 address (AAAA)' : 'no addresses';
  return { senders, count: senders === 'IPv4' ? node.voids4 : senders === 'IPv6' ? node.voids6 : node.voids, terms, missing };
}

/**
 * The void lookups a walked term may cost that the walk cannot count: at most one for a term with macros that depend on
 * the message (`dynamic`: exists:%{i}… is void for every address it does not list) or a ptr (void without a PTR
 * record), any number (Infinity) for such an include, redirect= or mx; for an include or redirect=, those of the record
 * it leads to. A term whose only macros are %{d} and %{o} is walked as its name: counted, nothing uncounted.
 */
function uncountedVoids(t: SpfTreeTerm, depth = 0): number {
  if (t.ignored || t.error || depth > 20) return 0;
  const m = /^[+\-~?]?([a-z0-9]+)/i.exec(t.term)?.[1].toLowerCase();
  if (t.dynamic) return m === 'a' || m === 'exists' || m === 'ptr' ? 1 : Infinity;
  if (m === 'ptr') return 1;
  let n = 0;
  if (t.children) for (const c of t.children.terms) n += uncountedVoids(c, depth + 1);
  return n;
}

/**
 * Whether the walk could not follow `t` all the way: an include, redirect= or mx with macros that depend on the message
 * (`dynamic`), itself or in the record it leads to. What such a term costs a sender — lookups, void lookups, a permanent error where the name it looks up for
 * that sender publishes no SPF record — depends on the sender: only check_host with an address can tell.
 */
export function unfollowed(t: SpfTreeTerm): boolean {
  return uncountedVoids(t) === Infinity;
}

/**
 * The term of `node` that a permanent error check_host met at its term `at` (SpfEvaluation.permerrorAt) comes from, where
 * the walk cannot see it: `at` itself when the walk could not follow it (unfollowed); when it could and found nothing
 * wrong there, the first term before it the walk could not follow — `at` was the 11th DNS-querying term, the lookups
 * that term's record costs this sender counted before it (RFC 7208 §4.6.4; review: `include:%{i1r}._spf.<list>
 * include:_spf.google.com include:relay.mailchannels.net`, the 11th at Google's include, was spf.ok while pyspf and
 * Mail::SPF answer permerror for the relay's addresses). Undefined otherwise: a permanent error the walk sees is one for
 * every sender, the SPF check's and the fix's gate's own.
 */
export function unfollowedAt(node: SpfTreeNode, at: string | undefined): string | undefined {
  const k = node.terms.findIndex((t) => t.term === at && !t.ignored);
  if (k < 0) return undefined;
  const t = node.terms[k];
  if (unfollowed(t)) return t.term;
  if (t.error || t.nestedErrors) return undefined;
  // A redirect= comes after every mechanism.
  const end = t.kind === 'modifier' ? node.terms.length : k;
  return node.terms.slice(0, end).find((x) => x.kind === 'mechanism' && !x.ignored && unfollowed(x))?.term;
}

/**
 * The most void lookups receivers can count for a sender of `family` before they reach `term` (a term of `node` as
 * walked; a redirect= comes after every mechanism): what the walk counted for that family, and at most what the terms
 * it cannot count may cost (uncountedVoids). No more than 2: receivers reach `term` for every such sender, as far as
 * void lookups go; past 2, only check_host with the sender's address can tell.
 */
export function voidsBefore(node: SpfTreeNode, term: SpfTreeTerm, family: 4 | 6): number {
  return voidsUpTo(node, term.kind === 'modifier' ? node.terms.length : node.terms.indexOf(term), family, term);
}

/**
 * voidsBefore, and at most what `term` itself may cost a sender of `family` before the record it leads to decides for
 * it (review: a relay reached through an include of the domain's own record, `include:_spf.<domain>`, whose record has
 * exists:%{i}… terms before the relay's include — receivers count those too, and the walk's count before the
 * top-level term left check_host unasked while pyspf answered permerror).
 */
export function voidsThrough(node: SpfTreeNode, term: SpfTreeTerm, family: 4 | 6): number {
  const own = term.ignored ? 0 : (family === 4 ? term.voids4 : term.voids6) + uncountedVoids(term);
  return voidsBefore(node, term, family) + own;
}

/**
 * The most void lookups receivers can count for a sender of `family` over every mechanism of `node` (voidsBefore of a
 * term after all of them). At most 2: void lookups keep no term put anywhere among them from receivers (the SPF fix then
 * asks no DNS question about where the relay's include stands).
 */
export function voidsAcross(node: SpfTreeNode, family: 4 | 6): number {
  return voidsUpTo(node, node.terms.length, family);
}

/**
 * The most void lookups receivers can count for a sender of `family` anywhere in `node` (every term receivers evaluate,
 * redirect= included, with what the walk cannot count): no voidsBefore or voidsThrough of a term of `node` is more.
 * A cheap bound that lets callers skip the per-term work when it is 2 or less (the common record).
 */
export function voidsAtMost(node: SpfTreeNode, family: 4 | 6): number {
  let n = 0;
  for (const t of node.terms) if (!t.ignored) n += (family === 4 ? t.voids4 : t.voids6) + uncountedVoids(t);
  return n;
}

function voidsUpTo(node: SpfTreeNode, at: number, family: 4 | 6, skip?: SpfTreeTerm): number {
  let n = 0;
  for (let i = 0; i < at; i++) {
    const t = node.terms[i];
    if (t === skip || t.ignored || t.kind !== 'mechanism') continue;
    n += (family === 4 ? t.voids4 : t.voids6) + uncountedVoids(t);
  }
  return n;
}

function finish(base: SpfTreeNode, status: SpfTree['status'], st: WalkState): SpfTree {
  const tree: SpfTree = {
    domain: base.domain,
    record: base.record,
    terms: base.terms,
    lookups: base.lookups,
    voids: base.voids,
    voids4: base.voids4,
    voids6: base.voids6,
    syntaxErrors: base.syntaxErrors,
    warnings: base.warnings,
    status,
    totalLookups: base.lookups,
    totalVoids: base.voids,
    overLookupLimit: base.lookups > st.opts.maxLookups,
    overVoidLimit: base.voids > st.opts.maxVoidLookups,
    unknown: st.unknown,
    troubles: st.troubles ?? NO_TROUBLES,
    errors: st.errors,
    permerrors: st.permerrors,
    loops: st.loops,
    dynamicTerms: st.dynamic,
  };
  if (tree.overLookupLimit) st.errors.push(`${tree.totalLookups} DNS-querying terms; receivers allow ${st.opts.maxLookups} (permerror)`);
  if (tree.overVoidLimit) st.errors.push(`${tree.totalVoids} void lookups; receivers allow ${st.opts.maxVoidLookups} (permerror)`);
  return tree;
}

function newState(opts: WalkOptions, domain: string): WalkState {
  return {
    records: 0,
    unknown: false,
    troubles: undefined,
    errors: [],
    permerrors: [],
    loops: [],
    dynamic: [],
    opts: { maxDepth: opts.maxDepth ?? 20, maxRecords: opts.maxRecords ?? 200, maxLookups: opts.maxLookups ?? 10, maxVoidLookups: opts.maxVoidLookups ?? 2 },
    sender: opts.sender !== undefined ? opts.sender.toLowerCase().replace(/\.$/, '') : domain,
  };
}

/** Walk a record text as if published at `domain` (e.g. a proposed fix, or a panel's copy of the zone). */
export async function walkSpfRecord(resolver: Resolver, domain: string, record: string, opts: WalkOptions = {}): Promise<SpfTree> {
  const d = domain.toLowerCase().replace(/\.$/, '');
  const st = newState(opts, d);
  const node = await walkRecord(resolver, d, record, [d], d, st);
  return finish(node, 'found', st);
}

/** Fetch `domain`'s SPF record from DNS and walk it. */
export async function walkSpf(resolver: Resolver, domain: string, opts: WalkOptions = {}): Promise<SpfTree> {
  const d = domain.toLowerCase().replace(/\.$/, '');
  const st = newState(opts, d);
  const empty: SpfTreeNode = { domain: d, record: null, terms: [], lookups: 0, voids: 0, voids4: 0, voids6: 0, syntaxErrors: [], warnings: [] };
  const rec = recordIn(d, await resolver.resolve(d, 'TXT'));
  if (rec.status === 'unknown') {
    trouble(st, rec.why);
    return finish(empty, 'unknown', st);
  }
  if (rec.status === 'none') return finish(empty, 'none', st);
  if (rec.status === 'multiple') {
    st.errors.push(`${d}: ${rec.records.length} SPF records (receivers return permerror)`);
    return finish(empty, 'multiple', st);
  }
  st.records++;
  const node = await walkRecord(resolver, d, rec.record, [d], d, st);
  return finish(node, 'found', st);
}
