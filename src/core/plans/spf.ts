// SPF fix: one record; stale terms dropped; this server's terms kept; mail services' and unknown terms kept unless
// the user selected them; what this server needs added; `all` never weakened; terms receivers reject or ignore
// dropped (a second exp=/redirect=, redirect= beside `all`, the domain including itself, a:/mx:/include: of a name
// that does not exist, an ip4/ip6 range as wide as +all, a "-"/"~"/"?" ip4/ip6 term covering nothing but this
// server); strings split at 255 bytes. Terms run together (strings joined with no space, a pasted no-break space:
// src/core/spf/joins.ts) are separated, and a stray invisible character inside a term (a zero-width space pasted into
// a name) is removed, the term kept; a host named in Unicode is written as its A-label (aLabelTerm); an exp= at a previous host's name goes (src/core/spf/exp.ts); in a merge, a redirect= whose own record had no all term becomes an include of
// its target (the merged all term would make receivers ignore it); a dropped redirect='s policy for unlisted servers
// (its target's all term) is kept; every change, a dropped repeat included, has its note. What this server needs goes
// where it counts: a relay include written with a "-"/"~"/"?" qualifier becomes a plain include in its place, the
// relay include goes before a "-"/"~"/"?" ip4/ip6 term covering the relay's addresses, and this server's IP goes
// before a term that would match it first and fail it; each goes before the terms that cost its addresses more than 2
// void lookups (names with addresses of the other family only, exists:%{i}… not listing them), or before a term with
// macros that is a permanent error for them (include:%{ir}… whose name for them has no SPF record; the term stays). The
// planned record — also when nothing changes — is then checked as receivers will read it
// (syntax, 10 lookups, 2 void lookups, every permerror in its tree, check_host for this server's IPs, the relay
// include reached with "+" and reached at all — check_host for its addresses): a record that would still fail is not
// offered, nor called right — the plan is blocked with the reason, and one that still costs one family's senders more
// than 2 void lookups says so in a note; several records end in the strictest of their `all` terms. The SPF check asks the same planner
// (spfFixPath) whether its findings offer the fix where the plan may be blocked (a permerror, or a record the fix's
// additions would take past receivers' limits). A domain that declares it sends no mail (null MX, an SPF record that
// authorises nobody: src/core/nomail.ts) gets no plan at all: blocked, saying what to change first if it does send.
// A "+" `a`/`mx` term naming the domain's MX while mx.stale is unresolved is dropped or kept as the classifier judges
// what that MX points at (the panel's old mail.<domain> address: dropped; a hosting provider's MX: kept), and its note
// says so plainly — what it authorises today, what it names once the MX is settled, what to do first (staleMxNote).
import type { CheckContext } from '../checks/context.js';
import { listed } from '../text.js';
import { isUnanswered } from '../classify.js';
import { aLabelName, canonName } from '../domain.js';
import { spfPatternMatches } from '../../knowledge/index.js';
import type { ZoneRecord } from '../model.js';
import { joinTxt, type Answer, type RecordData, type Resolver, type RRType } from '../resolver.js';
import { checkHost, type SpfEvaluation } from '../spf/evaluate.js';
import { isSpfRecord, LOOKUP_MECHANISMS, parseSpf, parseTerm, selectSpf, splitTxt, type SpfTerm } from '../spf/parse.js';
import { runTogetherNote, runTogetherTerms, separateTerms, versionRunTogether, visibleTerm, type VersionRunTogether } from '../spf/joins.js';
import { ownRecordAt, staleInOwnRecord, type OwnStaleTerm } from '../spf/own.js';
import { termTarget, unfollowedAt, voidsAcross, voidsAtMost, voidsThrough, walkSpfRecord, type SpfTree, type SpfTreeTerm } from '../spf/tree.js';
import { expEffect, judgeExp, type StaleTerm } from '../spf/exp.js';
import { coveredIps, coversOnly, ipTermRange, openRecord, permissiveRange, qualifierEffect, qualifierResult } from '../spf/terms.js';
import { cidrOverlap } from '../ip.js';
import { recordsAt } from '../zone.js';
import { copiesNote, copiesRemoved, defaultTtl, replaceWithOne, selectableOf, withoutCopies, type PlanOptions } from './plan.js';
import { deniedDecisions, permerrorBefore, publishedRanges, relayAuthorisation, relayInclude, relayNode, relayRangesCopied, relayTermRanges, shadowWords, stoppedBefore, type RelayAuthorisation } from '../spf/relay.js';
import type { Change, Classification } from '../model.js';
import { noMailBlock, noMailUnknown, noMailWith } from '../nomail.js';

/**
 * Whether an include target publishes one SPF record ('spf'), none, several ('multiple': a permanent error there too,
 * as the tree walker reads it), does not exist, or did not answer.
 */
export async function includeTarget(ctx: CheckContext, name: string): Promise<'spf' | 'none' | 'multiple' | 'nxdomain' | 'unknown'> {
  const a = await ctx.resolver.resolve(canonName(name), 'TXT');
  if (a.status === 'unknown') return 'unknown';
  if (a.status === 'nxdomain') return 'nxdomain';
  if (a.status !== 'ok') return 'none';
  const sel = selectSpf(a.records).status;
  return sel === 'found' ? 'spf' : sel;
}

export interface PartialPlan {
  changes: Change[];
  notes: string[];
  blocked?: string;
  actions?: { kind: 'generate-dkim' | 'refresh-dkim'; description: string }[];
  /** The terms the notes and block offer for removal (Plan.selectable): set where those words are written. */
  selectable?: string[];
}

/**
 * A resolver that answers the domain's apex TXT with a candidate record (to evaluate a plan before it exists; the SPF
 * check evaluates each of several published records on its own with it).
 */
export function withApexSpf(base: Resolver, domain: string, candidate: string): Resolver {
  return {
    async resolve<T extends RRType>(name: string, type: T): Promise<Answer<T>> {
      if (type === 'TXT' && name.toLowerCase().replace(/\.$/, '') === domain) {
        return { name: domain, type, status: 'ok', records: [splitTxt(candidate)] as RecordData[T][] };
      }
      return base.resolve(name, type);
    },
  };
}

function renderTerms(terms: string[]): string {
  return ['v=spf1', ...terms].join(' ');
}

/** The same terms as written, in the same order. */
function sameTerms(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

/**
 * `culprits`: the kept terms the block names (the user may select the unknown ones for removal). `note`: what the
 * record, accepted, still does to other senders (familyVoidsNote). `offered`: the terms the block's or the note's
 * words offer for removal (Plan.selectable).
 */
type GateVerdict = { ok: true; note?: string; offered?: string[] } | { blocked: string; culprits: string[]; offered: string[] } | { dns: string };

interface GateInput {
  /** Terms the planner added itself (this server's IP, the relay include): not re-judged. */
  added: string[];
  /** The relay's include names, when the plan knows which one authorises it: the record must reach it with "+". */
  relayHosts?: string[];
  /** Kept terms nobody could identify (as written, lower-cased): the user may select them for removal. */
  removable: ReadonlySet<string>;
  /**
   * Kept terms of mail services (as written, lower-cased): the fix never drops one on its own, but drops it when the
   * user selects it (the domain no longer sends through that service).
   */
  services: ReadonlySet<string>;
  /** Whether the plan changes the record (the wording: "the fixed record" or "the record"). */
  changed: boolean;
}

/** At most this many of the ranges the relay's record publishes are checked, one address each (MailChannels': two). */
const RELAY_PROBES = 8;

/**
 * What relayPastVoids found: see there. `broken`: the evaluation ended in another permanent error than the void limit,
 * at this term of the domain's record (as written; `term` itself when it was inside the record `term` leads to).
 */
export type RelayPastVoids = { term: string; ip: string; r: SpfEvaluation; broken?: string };

/**
 * Receivers count more than 2 void lookups for the relay's mail before they reach `term`, the term that passes it
 * (relayAuthorisation with `hosts`), and return permerror (RFC 7208 §4.6.4): `ip`, the first address of the relay's
 * published ranges for which check_host says so, and that evaluation (its `voidsAt`: the terms that cost them — `term`
 * itself among them when its record, one of the domain's own that includes the relay, has such terms before the relay's
 * include). Names without an address of the relay's family count, and so does each exists:%{i}… term that does not list
 * the relay's address — which only check_host with an address can tell: it is asked only when the walk leaves more than
 * 2 possible (voidsThrough), for one address of each range the relay's own record publishes (not the other ranges of a
 * record of the domain's own that leads to it: review — an IPv6 range there, past names without AAAA, was reported as
 * the relay's mail failing). Or check_host meets another permanent error there that depends on the sender (`broken`):
 * an include or redirect= with macros — or a term leading to one — whose name for the relay's address publishes no SPF
 * record (RFC 7208 §5.2); the walk counts such a term as costing any number of void lookups, so check_host is asked
 * whenever one stands before `term`. `dns` when DNS did not answer — also where check_host got no answer for a lookup
 * RFC 7208 makes "no match" (ptr, %{p}) and then ended in a permerror: a term that might have matched came first
 * (never fail on DNS trouble); null when nothing does. Shared by the SPF check and the fix's gate, so that both judge
 * the relay alike.
 */
export async function relayPastVoids(ctx: CheckContext, resolver: Resolver, tree: SpfTree, hosts: readonly string[]): Promise<RelayPastVoids | { dns: string } | null> {
  // No term of the record can cost more than 2 void lookups before the relay's include (the common record): nothing to
  // ask, and no need to find the relay's include again.
  if (voidsAtMost(tree, 4) <= 2 && voidsAtMost(tree, 6) <= 2) return null;
  const v = relayAuthorisation(tree, [...hosts], relayTermRanges(tree));
  if (v.state !== 'pass') return null;
  const pass = tree.terms.find((t) => t.term === v.term && !t.ignored);
  const hostSet = new Set(hosts.map(canonName));
  const ranges = pass ? publishedRanges(relayNode(pass, hostSet)).slice(0, RELAY_PROBES) : [];
  if (!pass || !ranges.some((r) => voidsThrough(tree, pass, r.includes(':') ? 6 : 4) > 2)) return null;
  for (const range of ranges) {
    // The address the range is written with is one of its own.
    const ip = range.slice(0, range.indexOf('/'));
    const r = await checkHost(ip, ctx.domain, `postmaster@${ctx.domain}`, ctx.settings.helo, resolver);
    if (r.result === 'temperror') return { dns: `checking the record for the relay's address ${ip} got no answer from DNS (${r.reason ?? 'temperror'})` };
    if (r.result !== 'permerror') continue;
    // The third void lookup is the one that ends the evaluation. Any other permanent error before the relay's include
    // decides is one the walk could not see (permerrorBefore judged the rest): an include or redirect= with macros whose
    // name, for this address, publishes no SPF record or leads to a broken one, an mx with macros naming more than 10
    // hosts, the lookups its record costs past 10 (RFC 7208 §5.2, §4.6.4) — differential QA: `include:%{ir}._spf.<list>
    // include:relay.mailchannels.net` was spf.ok while pyspf and Mail::SPF answer permerror for the relay's addresses.
    // The term named is the one the walk could not follow (tree.ts unfollowedAt): the 11th lookup may be a later term's,
    // the relay's include or another (review). (A record past 10 lookups as walked is spf.too-many-lookups for every
    // sender already.)
    const voids = (r.voidsAt?.length ?? 0) > 2;
    const broken = voids || tree.overLookupLimit ? undefined : unfollowedAt(tree, r.permerrorAt);
    if (!voids && !broken) continue;
    if (r.dnsTrouble?.length) return { dns: `checking the record for the relay's address ${ip} got no answer from DNS for ${r.dnsTrouble.join('; ')} (receivers take that as no match)` };
    return voids ? { term: v.term, ip, r } : { term: v.term, ip, r, broken };
  }
  return null;
}

/**
 * Where the void lookups relayPastVoids found are counted, for the messages: `before`, the terms before `term` that
 * cost them; `inside`, whether some are counted in the record `term` leads to (its terms before the relay's include);
 * `words`, both said ("exists:%{i}.a.example and the terms before the relay's include in the record include:_spf.… leads
 * to"); `many`, whether the words are plural.
 */
export function relayVoidTerms(past: RelayPastVoids): { before: string[]; inside: boolean; words: string; many: boolean } {
  const all = [...new Set(past.r.voidsAt)];
  const before = all.filter((t) => t !== past.term);
  const inside = before.length < all.length;
  const there = `the terms before the relay's include in the record ${past.term} leads to`;
  const words = inside ? (before.length ? `${before.join(', ')} and ${there}` : there) : listed(before);
  return { before, inside, words, many: inside || before.length > 1 };
}

/**
 * The gate's block for a record that still gives the relay's mail permerror at `broken` (relayPastVoids), before it
 * reaches `past.term`: what to do by hand, as it can be done (as for void lookups: a redirect= always comes last, and a
 * record an include leads to is that record's to edit). The term with macros is named, never dropped on its own: what
 * it names depends on the sender, and it may be a mail service the domain sends through.
 */
function relayBrokenBlock(ctx: CheckContext, rec: string, past: RelayPastVoids, broken: string, removable: ReadonlySet<string>): string {
  const target = past.term.replace(/^[+]?(?:include:|redirect=)/i, '');
  const inside = broken === past.term;
  const how = inside
    ? `Edit the record at ${canonName(target)} by hand so that it reaches the relay's include before that term`
    : /^redirect=/i.test(past.term)
      ? `Add include:${target} before ${broken} by hand (redirect= always comes last)`
      : `Put ${past.term} before ${broken} by hand`;
  const where = inside ? `in the record ${past.term} leads to, a term before the relay's include gives` : `${broken}, before it, gives`;
  return `${rec} would still make receivers return permerror for the relay's mail before they reach ${past.term}: ${where} the relay's address ${past.ip} a permanent error (check_host: ${past.r.reason}; ${permerrorSection(past.r)}). ${how}${inside ? '' : `, or remove ${broken} if ${ctx.domain} no longer sends through it`}, then plan again${inside ? '' : selectable([broken], removable)}.`;
}

/**
 * The section of RFC 7208 a permerror check_host met before any term matched comes from: §4.6.4 where it counted an
 * 11th DNS-querying term (a term's record cost more lookups for that sender than the walk could count), else §5.2 (an
 * include or redirect= whose name for that sender publishes no SPF record). Review: the lookup limit was cited as §5.2.
 */
export function permerrorSection(r: SpfEvaluation): string {
  return r.lookups > 10 ? 'RFC 7208 §4.6.4' : 'RFC 7208 §5.2';
}

/** check_host's reason for a permerror at `term`, without the term's name when it begins with it (said beside it). */
function reasonAt(r: SpfEvaluation, term: string): string {
  const why = r.reason ?? 'permerror';
  return why.startsWith(`${term}: `) ? why.slice(term.length + 2) : why;
}

/** The terms of `terms` selectable() offers for removal: those nobody could identify. */
function placeless(terms: readonly string[], removable: ReadonlySet<string>): string[] {
  return terms.filter((t) => removable.has(t.toLowerCase()));
}

/** "(… could not place …)" after a term the user may select for removal (placeless: which ones). */
function selectable(terms: string[], removable: ReadonlySet<string>): string {
  const sel = placeless(terms, removable);
  if (!sel.length) return '';
  return ` (mailhealth could not place ${sel.join(', ')}: select ${sel.length > 1 ? 'them' : 'it'} for removal and the fix drops ${sel.length > 1 ? 'them' : 'it'})`;
}

/**
 * Would receivers accept `text` published at the domain? Syntax, the 10-lookup and 2-void-lookup limits and every
 * other permerror cause anywhere in its tree (whoever's sender is checked), then check_host for each of this server's
 * IPs, or for a relayed server that the relay include is reached with "+" (the include the planner adds is one the
 * knowledge base documents, or one found publishing exactly one SPF record, so its own record is not re-judged).
 */
async function finalGate(ctx: CheckContext, text: string, gate: GateInput): Promise<GateVerdict> {
  const { added, removable, services } = gate;
  // "The fixed record" when the plan changes it, "The record" when it leaves it as it is.
  const rec = gate.changed ? 'The fixed record' : 'The record';
  const errors = parseSpf(text).errors;
  if (errors.length) return { blocked: `${rec} would still have errors receivers reject (permerror): ${errors.map((e) => e.reason).join('; ')}.`, culprits: [], offered: [] };
  const resolver = withApexSpf(ctx.resolver, ctx.domain, text);
  const tree = await walkSpfRecord(resolver, ctx.domain, text);
  const trouble = tree.troubles;
  if (tree.unknown) return { dns: `some of the fixed record's lookups got no answer (${trouble.length ? trouble.join('; ') : 'timeout or server failure'})` };
  // The walker words each problem "<domain> <term>: …" (or "<domain> <term> → …" below it): told by term, and those
  // of a term the planner added are not re-judged.
  const ofTerm = (term: string) => (e: string) => e.startsWith(`${tree.domain} ${term}:`) || e.startsWith(`${tree.domain} ${term} →`);
  const permerrors = tree.permerrors.filter((e) => !added.some((a) => ofTerm(a)(e)));
  if (permerrors.length) {
    const told = new Set<string>();
    const causes: string[] = [];
    const culprits: string[] = [];
    for (const t of tree.terms) {
      if (added.includes(t.term)) continue;
      const own = permerrors.filter(ofTerm(t.term));
      if (!own.length) continue;
      for (const e of own) told.add(e);
      culprits.push(t.term);
      const detail = own.map((e) => e.slice(`${tree.domain} ${t.term}`.length).replace(/^(?::|\s*→)\s*/, '')).join('; ');
      causes.push(
        t.nestedErrors
          ? `${t.term} leads to a record receivers cannot evaluate (${detail}): receivers get permerror; its owner must fix that record, or remove ${t.term}${selectable([t.term], removable)}`
          : `${t.term}: ${detail}: receivers get permerror; remove or correct ${t.term}${selectable([t.term], removable)}`,
      );
    }
    for (const e of permerrors) if (!told.has(e)) causes.push(e);
    return { blocked: `${rec} would still make receivers return permerror (SPF fails for every message): ${causes.join('; ')}.`, culprits, offered: placeless(culprits, removable) };
  }
  if (tree.totalLookups > 10) {
    const costly = tree.terms
      .filter((t) => t.lookups > 0 && !added.includes(t.term))
      .sort((a, b) => b.lookups - a.lookups);
    // Name what can go: terms nobody could identify (selectable for removal); this server's and mail services' terms
    // stay whatever they cost, so they are never offered as the ones to remove.
    const canGo = costly.filter((t) => removable.has(t.term.toLowerCase()));
    // Mail services' terms go only when the user selects them (the customer knows which services the domain still
    // sends through): named as such, so a blocked plan never leaves a hand edit as the only, unsaid, way out. How to
    // select one is each surface's to say (the web's boxes, the CLI's --remove-term): a web customer was told to run
    // a shell command (review R9).
    const ofServices = costly.filter((t) => services.has(t.term.toLowerCase()));
    const list = (ts: typeof costly, n = 3) => ts.slice(0, n).map((t) => `${t.term} (${t.lookups})`).join(', ');
    const selectService = `select its term for removal and the fix drops it: ${list(ofServices, 8)}`;
    const servicesOffered = ofServices.slice(0, 8).map((t) => t.term);
    const notEnough = ofServices.length > 0 && canGo.reduce((n, t) => n + t.lookups, 0) < tree.totalLookups - 10;
    const own = costly.filter((t) => !services.has(t.term.toLowerCase())).map((t) => t.term);
    return {
      blocked: `${rec} would need ${tree.totalLookups} DNS lookups (limit 10: receivers return permerror). ${
        canGo.length
          ? `Remove a term to make room — the costliest of those mailhealth could not place: ${list(canGo)}${selectable(
              canGo.map((t) => t.term),
              removable,
            )}.${
              // Named too when dropping every one of those would not be enough.
              notEnough ? ` That is not enough: a mail service the domain no longer sends through must go too — ${selectService}.` : ''
            }`
          : ofServices.length
            ? `Every term that costs lookups is ${own.length ? `this server's (${own.join(', ')}), which the fix keeps, or ` : ''}a mail service's the domain may use, which the fix drops only when you select it. If ${ctx.domain} no longer sends through one of these services, ${selectService}. If it still sends through all of them, the record cannot authorise them and this server within 10 lookups: it needs a hand edit (e.g. have one service send from a subdomain with its own SPF record).`
            : `Every term that costs lookups is this server's (the costliest: ${list(costly)}), and the fix keeps those: the record needs a hand edit to stay within 10 lookups.`
      }`,
      culprits: costly.map((t) => t.term),
      // As the words above offer them: the terms nobody could place, and the services' where selectService is said.
      offered: canGo.length ? [...placeless(canGo.map((t) => t.term), removable), ...(notEnough ? servicesOffered : [])] : servicesOffered,
    };
  }
  if (tree.totalVoids > 2) {
    const voidTerms = tree.terms.filter((t) => t.voids > 0);
    const voids = voidTerms.map((t) => `${t.term} (${t.voids})`);
    return {
      blocked: `${rec} would still cause ${tree.totalVoids} void lookups (limit 2: receivers return permerror): ${voids.join(', ')}. Those names exist but have no addresses (or lead to some that do not): remove the terms or give the names addresses, then plan again${selectable(
        voidTerms.map((t) => t.term),
        removable,
      )}.`,
      culprits: voidTerms.map((t) => t.term),
      offered: placeless(voidTerms.map((t) => t.term), removable),
    };
  }
  if (ctx.settings.relay) {
    if (gate.relayHosts) {
      const v = relayAuthorisation(tree, gate.relayHosts, relayTermRanges(tree));
      if (v.state !== 'pass') {
        return {
          blocked: `${rec} would still not authorise the relay ${canonName(ctx.settings.relay.host)}: ${
            v.state === 'denied'
              ? `${v.term} reaches it with "${v.qualifier}" (only an include without a qualifier authorises)`
              : v.state === 'shadowed'
                ? `${v.via ? `in the record ${v.via} leads to, ` : ''}${v.term} comes before ${v.include} and ${shadowWords(v.term, v.ranges)} (the first matching term decides)`
                : 'no include reaches it (only an include without a qualifier authorises)'
          }.`,
          culprits: [],
          offered: [],
        };
      }
    }
    // Reached with "+", the relay's include must also be reached: past 2 void lookups before it for the relay's
    // addresses, receivers stop with permerror (check_host for them, as the check asks).
    const past = await relayPastVoids(ctx, resolver, tree, gate.relayHosts ?? [canonName(ctx.settings.relay.host)]);
    if (past && 'dns' in past) return { dns: past.dns };
    if (past?.broken) {
      // relayBrokenBlock offers `broken` only when it is a term of the domain's own record.
      const culprits = past.broken === past.term ? [] : [past.broken];
      return { blocked: relayBrokenBlock(ctx, rec, past, past.broken, removable), culprits, offered: placeless(culprits, removable) };
    }
    if (past) {
      const { before, inside, words } = relayVoidTerms(past);
      // What to do by hand, as it can be done: a redirect= always comes last (an include of its target goes before the
      // terms instead), and terms inside the record an include leads to are that record's to move (review: the block
      // said "put redirect=… before them", and named the include among the terms to put it before).
      const target = past.term.replace(/^[+]?(?:include:|redirect=)/i, '');
      const them = before.length > 1 ? 'them' : 'it';
      const how = inside
        ? `Edit the record at ${canonName(target)} by hand so that it reaches the relay's include before those terms${before.length ? `, and put ${past.term} before ${listed(before)}` : ''}`
        : /^redirect=/i.test(past.term)
          ? `Add include:${target} before ${them} by hand (redirect= always comes last)`
          : `Put ${past.term} before ${them} by hand`;
      return {
        blocked: `${rec} would still make receivers return permerror for the relay's mail before they reach ${past.term}: ${words} cost its addresses more than 2 void lookups (names that do not exist or have no ${past.ip.includes(':') ? 'IPv6' : 'IPv4'} address, exists: terms with macros that do not list the address; check_host for ${past.ip}: ${past.r.reason}). ${how}, or remove those not needed, then plan again${selectable(before, removable)}.`,
        culprits: before,
        offered: placeless(before, removable),
      };
    }
  } else {
    for (const ip of ctx.settings.ips) {
      const r = await checkHost(ip, ctx.domain, `postmaster@${ctx.domain}`, ctx.settings.helo, resolver);
      if (r.result === 'pass') continue;
      if (r.result === 'temperror' || r.dnsTrouble?.length) return { dns: `checking the fixed record for ${ip} got no answer from DNS (${r.result === 'temperror' ? (r.reason ?? 'temperror') : r.dnsTrouble![0]})` };
      return { blocked: `${rec} would still not authorise this server's IP ${ip}: check_host = ${r.result}${r.reason ? ` (${r.reason})` : ''}.`, culprits: [], offered: [] };
    }
  }
  const note = familyVoidsNote(tree, removable);
  return note ? { ok: true, note: note.text, offered: note.offered } : { ok: true };
}

/**
 * A record the gate accepts may still cost the senders of one address family more than 2 void lookups: names with
 * addresses of the other family only (receivers ask for the sender's family alone, RFC 7208 §5.3/§5.4). This server's
 * mail passes (the gate checked its addresses, or the relay's), but receivers return permerror for that family's mail
 * that gets past those terms — a mail service's after them among it (spf.void-lookups with `subject` IPv4/IPv6). The fix
 * drops only names that do not exist, so it keeps them and says so, naming the terms and what comes after them.
 */
function familyVoidsNote(tree: SpfTree, removable: ReadonlySet<string>): { text: string; offered: string[] } | null {
  const said: string[] = [];
  const offered: string[] = [];
  for (const family of [4, 6] as const) {
    const count = family === 4 ? tree.voids4 : tree.voids6;
    if (count <= 2) continue;
    const of = (t: SpfTreeTerm) => (t.ignored ? 0 : family === 4 ? t.voids4 : t.voids6);
    const senders = family === 4 ? 'IPv4' : 'IPv6';
    const lacking = family === 4 ? 'IPv4 address (A)' : 'IPv6 address (AAAA)';
    const voidTerms = tree.terms.filter((t) => of(t) > 0);
    const many = voidTerms.length > 1;
    // The terms receivers reach only past the limit, for such a sender no earlier term matched (where the running
    // count passes 2): those that may authorise this family's senders (not an ip4/ip6 term of the other family, not all,
    // not a "-", "~" or "?" term — it authorises nobody: review, the note said "-ip6:…" authorised senders).
    let sum = 0;
    const past = tree.terms.findIndex((t) => (sum += of(t)) > 2);
    const other = family === 4 ? /^\+?ip6:/i : /^\+?ip4:/i;
    const after = tree.terms
      .slice(past + 1)
      .filter((t) => !t.ignored && (t.kind === 'mechanism' ? !/^[-~?]/.test(t.term) && !other.test(t.term) && !/^\+?all$/i.test(t.term) : /^redirect=/i.test(t.term)))
      .map((t) => t.term);
    const among = after.length ? ` — among it, mail from the senders ${listed(after)} authorise${after.length > 1 ? '' : 's'}, after ${many ? 'them' : 'it'}` : '';
    said.push(
      `The fixed record still costs ${senders} senders ${count} void lookups (limit 2): ${listed(voidTerms.map((t) => (of(t) > 1 ? `${t.term} (${of(t)})` : t.term)))} ${many ? 'look up names' : 'looks up a name'} without an ${lacking}, and receivers look up only the sender's address family (RFC 7208 §4.6.4, §5.3). ` +
        `This server's mail passes (checked), but receivers return permerror for mail from ${senders} addresses that gets past ${many ? 'them' : 'it'}${among}. ` +
        `The fix keeps ${many ? 'these terms (their names exist)' : 'this term (its name exists)'}: give ${many ? 'the names' : 'the name'} ${family === 4 ? 'IPv4 addresses' : 'IPv6 addresses'}, or remove what is not needed${selectable(voidTerms.map((t) => t.term), removable)}.`,
    );
    offered.push(...placeless(voidTerms.map((t) => t.term), removable));
  }
  return said.length ? { text: said.join(' '), offered } : null;
}

/**
 * What the SPF fix does for a record, as the SPF check asks it (src/core/checks/spf.ts, over the records DNS serves),
 * so a finding never offers a fix whose plan is blocked or changes nothing: `fixes` (a change the gate accepts);
 * `select` (blocked as it stands only by terms nobody could identify, which the user may select for removal — with
 * them selected the plan goes through); `nothing`; `blocked` (why — the plan's own reason); `dns` (DNS did not answer
 * while planning: nothing is decided).
 */
export type SpfFixPath =
  | { kind: 'fixes' }
  | { kind: 'select'; terms: string[]; why: string }
  | { kind: 'nothing' }
  | { kind: 'blocked'; why: string }
  | { kind: 'dns'; why: string };

export async function spfFixPath(ctx: CheckContext, records: ZoneRecord[]): Promise<SpfFixPath> {
  const { plan, dns, selectable } = await planSpfDetailed(ctx, records, {});
  if (dns) return { kind: 'dns', why: plan.blocked ?? '' };
  if (plan.blocked) {
    if (selectable.length) {
      const chosen = await planSpfDetailed(ctx, records, { removeTerms: selectable });
      if (!chosen.plan.blocked && chosen.plan.changes.length) return { kind: 'select', terms: selectable, why: plan.blocked };
    }
    return { kind: 'blocked', why: plan.blocked };
  }
  return plan.changes.length ? { kind: 'fixes' } : { kind: 'nothing' };
}

/**
 * The note for a mail service's term the user selected for removal (the fix drops it). `still`: a term the record
 * keeps that authorises the same provider — then that provider's mail does not fail for this removal (review R9:
 * `+mx` removed while include:_spf.google.com stayed was said to make Google Workspace mail fail SPF).
 */
function droppedService(ctx: CheckContext, raw: string, c: Classification, still?: string): string {
  const who = c.provider ? ctx.knowledge.displayName(c.provider) : null;
  if (who && still) return `Removes ${raw} (you selected it): it authorises ${who}, which the record still authorises through ${still}, so mail ${ctx.domain} sends through ${who} still passes SPF.`;
  return who
    ? `Removes ${raw} (you selected it): it authorises ${who}, so mail ${ctx.domain} still sends through ${who} fails SPF from now on.`
    : `Removes ${raw} (you selected it): ${c.reason}. Mail ${ctx.domain} still sends through it fails SPF from now on.`;
}

/**
 * A term that names a host in Unicode ("include:spf.bücher.example", "a:mail.BÜCHER.example/24", "redirect=…") as
 * receivers can read it: that name as its A-label ("include:spf.xn--bcher-kva.example"). SPF records are ASCII only
 * (RFC 7208 §3.1: receivers fail the whole record), but the name the customer meant is plain, so the fix writes it
 * rather than dropping the term (and with it, say, the provider's authorisation). Null when there is no such name to
 * write — other non-ASCII text, a macro, a name the domain validator refuses — or the term is still not valid SPF:
 * that term is dropped as before.
 */
export function aLabelTerm(t: Pick<SpfTerm, 'raw' | 'afterAll'>): SpfTerm | null {
  if (!/[^\x00-\x7f]/.test(t.raw) || t.raw.includes('%')) return null;
  const m = /^([+\-~?]?(?:include|exists|a|mx|ptr):)([^/]+)((?:\/\d+)?(?:\/\/\d+)?)$/i.exec(t.raw) ?? /^((?:redirect|exp)=)(.+)()$/i.exec(t.raw);
  const name = m ? aLabelName(m[2]) : null;
  if (!m || !name) return null;
  const term = parseTerm(`${m[1]}${name}${m[3]}`, t.afterAll);
  return term.kind === 'invalid' || term.error ? null : term;
}

/** The note for a term written as its A-label (aLabelTerm). */
export function aLabelNote(raw: string, term: SpfTerm): string {
  return `Writes ${visibleTerm(raw)} as ${term.raw}: SPF records are ASCII only (RFC 7208 §3.1), so receivers fail the whole record with the name in Unicode; ${term.raw} names the same host in the form they read (its A-label).`;
}

/**
 * Whether a kept term authorises `provider`'s mail as the provider documents it: a "+" include (or a redirect=) of one
 * of the provider's SPF include hosts (knowledge: `spf`). Only such a term is said to keep that provider's mail passing
 * when another of its terms is removed — a term that names the provider otherwise (`+mx` with the MX at Google names
 * its inbound servers, not the ones it sends from) is not.
 */
function documentedInclude(ctx: CheckContext, t: SpfTerm, provider: string): boolean {
  const isInclude = t.kind === 'mechanism' ? t.mechanism === 'include' && t.qualifier === '+' : t.modifier === 'redirect';
  if (!isInclude || t.hasMacro || !t.domainSpec) return false;
  const host = canonName(t.domainSpec);
  const p = ctx.knowledge.providers.find((x) => x.id === provider);
  return Boolean(p && spfPatternMatches(p, host));
}

/**
 * A term as selected for removal and as written compare alike: any case, "+" written or not (RFC 7208 §4.6.2). The one
 * key: the web's preview compares the terms it offers and ticks with it too.
 */
export function termKey(raw: string): string {
  return raw.toLowerCase().replace(/^\+/, '');
}

/**
 * The domain's live MX hosts that are a previous host's while the panel delivers its mail here — what the mx check
 * reports as mx.stale —, with their addresses and why (the classifier's reason, as the mx check gives it). Routing
 * remote: none (the MX is then where the mail goes). The audit asked the same questions (the run's cache answers).
 */
export async function staleMxHosts(ctx: CheckContext): Promise<{ host: string; ips: string[]; why: string }[]> {
  if (ctx.settings.routing !== 'local') return [];
  const mx = await ctx.resolver.resolve(ctx.domain, 'MX');
  if (mx.status !== 'ok') return [];
  const out: { host: string; ips: string[]; why: string }[] = [];
  const seen = new Set<string>();
  for (const m of mx.records) {
    const host = canonName(m.exchange);
    if (!host || host === '.' || seen.has(host)) continue;
    seen.add(host);
    const c = await ctx.classifier.host(host);
    // An MX host that is not a previous host's (a backup MX elsewhere, this server): the domain's MX is not all stale,
    // and what `mx` authorises is not only the previous host's server — the plain note is the honest one (review).
    if (c.class !== 'stale') return [];
    const ips: string[] = [];
    for (const type of ['A', 'AAAA'] as const) {
      const a = await ctx.resolver.resolve(host, type);
      if (a.status === 'ok') ips.push(...(a.records as string[]));
    }
    out.push({ host, ips, why: c.reason });
  }
  return out;
}

/**
 * The stale MX hosts (staleMxHosts) a "+" `a`/`mx` term names: `mx` (or `mx:<the domain>`) all of them, `a:<host>` (or
 * a bare `a` where the apex is an MX host) the one it names. Other terms name none.
 */
export function staleMxNamed(ctx: CheckContext, t: SpfTerm, stale: { host: string; ips: string[]; why: string }[]): { host: string; ips: string[]; why: string }[] {
  if (t.kind !== 'mechanism' || t.qualifier !== '+' || t.error) return [];
  // `a:%{d}` is `a` (spf/tree.ts termTarget); a term whose macros depend on the message names no fixed host.
  const target = t.hasMacro ? termTarget(t, canonName(ctx.domain)) : canonName(t.domainSpec ?? ctx.domain);
  if (!target) return [];
  if (t.mechanism === 'mx') return target === canonName(ctx.domain) ? stale : [];
  if (t.mechanism === 'a') return stale.filter((s) => s.host === target);
  return [];
}

/** "mail.example.com (198.51.100.20)", "a.example (192.0.2.1, 192.0.2.2) and b.example". */
function hostsWithIps(hosts: { host: string; ips: string[] }[]): string {
  const each = hosts.map((h) => (h.ips.length ? `${h.host} (${h.ips.join(', ')})` : h.host));
  return listed(each);
}

/**
 * The note for a "+" `a`/`mx` term that names the domain's MX while that MX is a previous host's (mx.stale): what the
 * term does today, what the fix does with it and why, and what the customer does next — the term follows the MX, so
 * which way mx.stale is settled decides what it will authorise. `dropped`: the term is the previous host's (the MX is
 * the panel's own old mail.<domain> record, or names nothing the live MX is known to deliver to) and the fix drops it;
 * otherwise it is kept (the live MX delivers to a hosting provider: the mailboxes may still be there).
 */
function staleMxNote(ctx: CheckContext, raw: string, t: SpfTerm, hosts: { host: string; ips: string[]; why: string }[], dropped: boolean): string {
  const d = ctx.domain;
  const names = t.mechanism === 'mx' ? `${d}'s MX ${hostsWithIps(hosts)}` : `${hostsWithIps(hosts)}, ${d}'s MX`;
  const point = hosts.length === 1 && hosts[0].host.endsWith(`.${d}`) ? `point ${hosts[0].host} at this server` : 'point the MX at this server';
  if (dropped) {
    return (
      `Drops ${raw}: it names ${names}, which is still the previous host's mail server (mx.stale: ${hosts[0].why}), so today it lets that server send as ${d}. ` +
      `The fixed record authorises this server's mail without it. Once you ${point} (as mx.stale says), ${raw} would name this server, which the record already authorises: it need not come back. ` +
      `If ${d}'s mailboxes are still at the previous host, do not apply this yet: set the panel's mail routing for ${d} to remote (mx.stale's other way out), then preview again — the fix then keeps ${raw}, which names the server that takes the mail.`
    );
  }
  return (
    `Keeps ${raw}: it names ${names}, which mx.stale reports as a previous host's while this server delivers ${d}'s mail (${hosts[0].why}) — either that MX is left over or ${d}'s mailboxes are still there, which only you know. ` +
    `${raw} follows the MX: once you ${point} (as mx.stale says), it names this server; while the mailboxes are there, it authorises the server that takes their mail. ` +
    `Until then it also lets that server send as ${d}: if the mailboxes are on this server, select ${raw} for removal (or ${point} first and preview again).`
  );
}

/**
 * The name of an a:/mx:/exists: term when it does not exist (NXDOMAIN), else null: such a term matches no sender, and the
 * fix drops it (see planSpfOnce). A name built with %{o} is kept (for a domain whose record includes this one, %{o} is
 * that domain, whose name may exist); one that depends on the message is not known; DNS trouble keeps the term. The
 * check asks the same (a previous host's "-" term before such a term is in front of nothing the fix keeps).
 */
export async function nameGone(ctx: CheckContext, t: SpfTerm): Promise<string | null> {
  if (t.kind !== 'mechanism' || (t.mechanism !== 'a' && t.mechanism !== 'mx' && t.mechanism !== 'exists') || !t.domainSpec || /%\{o/i.test(t.domainSpec)) return null;
  const name = t.hasMacro ? termTarget(t, canonName(ctx.domain)) : canonName(t.domainSpec);
  if (!name) return null;
  const a = await ctx.resolver.resolve(name, t.mechanism === 'mx' ? 'MX' : 'A');
  return a.status === 'nxdomain' ? name : null;
}

export async function planSpf(ctx: CheckContext, records: ZoneRecord[], opts: PlanOptions): Promise<PartialPlan> {
  return (await planSpfDetailed(ctx, records, opts)).plan;
}

/**
 * The plan, whether DNS trouble blocked it, and the unknown terms its block names (the user may select them). A
 * previous host's term with "-" is kept (it fails that host's mail) — unless the record cannot pass receivers' limits
 * with it (more than 10 lookups, a permerror in the old host's record): then the plan that drops it, saying why.
 */
async function planSpfDetailed(ctx: CheckContext, records: ZoneRecord[], opts: PlanOptions): Promise<{ plan: PartialPlan; dns: boolean; selectable: string[] }> {
  const first = await planSpfOnce(ctx, records, opts, false);
  if (!first.plan.blocked || first.dns || !first.keptDenying) return first;
  const second = await planSpfOnce(ctx, records, opts, true);
  return second.dns ? first : second;
}

async function planSpfOnce(
  ctx: CheckContext,
  records: ZoneRecord[],
  opts: PlanOptions,
  dropDenying: boolean,
): Promise<{ plan: PartialPlan; dns: boolean; selectable: string[]; keptDenying: boolean }> {
  let keptDenying = false;
  const notes: string[] = [];
  /** The terms the notes offer for removal, pushed with the note that offers them (Plan.selectable). */
  const offered: string[] = [];
  /** The domain's MX hosts mx.stale reports (staleMxHosts), asked once, only for a "+" `a`/`mx` term. */
  let staleMx: Promise<{ host: string; ips: string[]; why: string }[]> | null = null;
  const mxStaleFor = async (t: SpfTerm) =>
    t.kind === 'mechanism' && t.qualifier === '+' && (t.mechanism === 'a' || t.mechanism === 'mx') ? staleMxNamed(ctx, t, await (staleMx ??= staleMxHosts(ctx))) : [];
  const remove = new Set((opts.removeTerms ?? []).map(termKey));
  const apexTxt = recordsAt(records, ctx.domain, 'TXT');
  let spfRecords = apexTxt.filter((r) => isSpfRecord(r.txt ? r.txt.join('') : r.value));
  // With no SPF record, a TXT record meant as one whose version tag receivers miss (`v=spf1` and a no-break space,
  // `"v=spf1" "mx -all"`: src/core/spf/joins.ts, as the check reads it) is the record: rewritten in place with its
  // terms, not left beside a new one (whoever corrects it later would make two SPF records).
  const version = new Map<ZoneRecord, VersionRunTogether>();
  if (!spfRecords.length) {
    for (const r of apexTxt) {
      const v = versionRunTogether(r.txt ?? [r.value]);
      if (v) version.set(r, v);
    }
    spfRecords = [...version.keys()];
  }
  // A domain that declares it sends and receives no mail (its only MX the null MX, and its one SPF record authorising
  // nobody: src/core/nomail.ts) gets no server authorised: adding this server or its relay would let mail pass as a
  // domain that says it sends none. The record judged is the one the fix would rewrite; the MX is the live one.
  // (Copies of one record count as that record, as the check judges them.)
  const spfTexts = new Set(spfRecords.map((r) => (version.get(r)?.chunks ?? r.txt ?? [r.value]).join('')));
  if (spfTexts.size === 1) {
    const nm = await noMailWith(ctx, [...spfTexts][0]);
    if (nm.state !== 'mail') {
      const blocked = nm.state === 'no-mail' ? noMailBlock(ctx.domain, nm, 'spf') : noMailUnknown(ctx.domain, nm, 'spf');
      return { plan: { changes: [], notes, blocked, ...selectableOf(offered) }, dns: nm.state === 'unknown', selectable: [], keptDenying };
    }
  }
  // Copies of one record (the same strings: a record added twice) are one record to DNS (RFC 2181 §5), as receivers and
  // the check read them: judged once, never "several records" to merge. A plan that rewrites the record replaces every
  // copy (spfCopies).
  const spfCopies = spfRecords;
  spfRecords = withoutCopies(spfRecords);
  if (spfRecords.length > 1) notes.push(`Merges ${spfRecords.length} SPF records into one (several records are a permanent error).`);

  let includeTrouble: string | undefined;
  // Collect terms from every SPF record, in order, without duplicates (each repeat said: every change has its note).
  /** Each term kept so far (lower-cased as written) → the index of the record it came from. */
  const seen = new Map<string, number>();
  /** Every term as written in the SPF records (lower-cased), to tell a selected term the record does not have. */
  const written = new Set<string>();
  const kept: SpfTerm[] = [];
  let all: SpfTerm | null = null;
  let redirect: SpfTerm | null = null;
  /** Every exp= of the records, in order: one is kept — the first that is not a previous host's (decided below). */
  const exps: SpfTerm[] = [];
  /**
   * Every redirect= of the records, in record order, each decided on its own merits below (whatever order DNS gives
   * the records in), with whether its record has an all term of its own (receivers ignore the redirect there) or not
   * (receivers apply it: beside the merged all term, or another applied redirect, it becomes an include — see below).
   */
  const redirects: { t: SpfTerm; besideAll: boolean }[] = [];
  /** Each SPF record's all term, in record order: its first valid one (receivers evaluate nothing after it). */
  const alls: SpfTerm[] = [];
  /**
   * The one SPF record as written — its terms as receivers read them, and its text — when it can stay as it is: not
   * several records, not one whose version or terms run together, no string over 255 bytes (each of those is a
   * finding's, and the fix's to rewrite). Null otherwise.
   */
  let asWritten: { terms: SpfTerm[]; text: string } | null = null;
  /**
   * Terms the fix drops only to tidy the record — a "-"/"~"/"?" term covering only this server, after one that passes
   * it (it decides nothing for anyone) — with the notes saying so. Receivers read the record alike with or without
   * them, and no finding offers the fix for them: a record that differs from the fix's only by them (and by spacing or
   * the version's case) is left exactly as written; they go (said) only when the record is rewritten for a reason a
   * finding gives. (A repeated term, one after the all term, a name that does not exist are the check's to say, with
   * the fix: src/core/checks/spf.ts classifyTerms.)
   */
  const tidy = new Set<SpfTerm>();
  const tidyNotes = new Set<string>();
  /**
   * Each kept mechanism's place in its own record, among the mechanisms receivers evaluate there in order (valid, before
   * the all term, repeats included): what comes before it decides first for a sender both match (RFC 7208 §4.6.2).
   */
  const places = new Map<SpfTerm, { mechs: SpfTerm[]; at: number }>();
  for (const [ri, r] of spfRecords.entries()) {
    const v = version.get(r);
    if (v) notes.push(`Rewrites the TXT record "${visibleTerm((r.txt ?? [r.value]).join(''))}" as the SPF record, keeping its terms: ${v.why}.`);
    const chunks = v ? v.chunks : (r.txt ?? [r.value]);
    // Terms run together (strings joined with no space, a pasted no-break space between two terms, RFC 7208 §3.3):
    // separated, as the missing colon below is repaired — never dropped as the one broken term receivers read.
    const together = await runTogetherTerms(ctx.resolver, chunks);
    if (together.unknown) includeTrouble ??= together.unknown;
    for (const f of together.found) notes.push(runTogetherNote(f));
    const parsed = parseSpf(separateTerms(chunks.join(''), together.found));
    const list = parsed.terms;
    if (spfRecords.length === 1 && !v && !together.found.length && chunks.every((c) => Buffer.byteLength(c) <= 255)) asWritten = { terms: list, text: chunks.join('') };
    for (const t of list) written.add(termKey(t.raw));
    const own = list.find((t) => t.kind === 'mechanism' && t.mechanism === 'all' && !t.error);
    if (own) alls.push(own);
    /** The record's mechanisms receivers evaluate, in order (see `places`). */
    const mechs: SpfTerm[] = [];
    for (let i = 0; i < list.length; i++) {
      let t = list[i];
      // `include _spf.google.com` (the colon missing): two broken terms that mean one — joined, not dropped.
      const next = list[i + 1];
      if (t.error && t.kind === 'mechanism' && (t.mechanism === 'include' || t.mechanism === 'exists') && /^[a-z]+$/i.test(t.raw.replace(/^[-+~?]/, '')) && next?.kind === 'invalid' && /^[a-z0-9_][a-z0-9_.-]*\.[a-z0-9-]+\.?$/i.test(next.raw)) {
        const joined = parseSpf(`v=spf1 ${t.raw}:${next.raw}`).terms[0];
        if (joined && !joined.error && joined.kind === 'mechanism') {
          notes.push(`Joins "${t.raw} ${next.raw}" into ${joined.raw} (the colon was missing, so receivers failed the whole record).`);
          t = joined;
          i++;
        }
      }
      // A host named in Unicode: written as its A-label, the term kept (and then judged like any other).
      const ascii = t.kind === 'invalid' ? aLabelTerm(t) : null;
      if (ascii) {
        notes.push(aLabelNote(t.raw, ascii));
        // Selected for removal in either spelling, it is the same term.
        if (remove.has(termKey(t.raw))) remove.add(termKey(ascii.raw));
        written.add(termKey(ascii.raw));
        t = ascii;
      }
      if (t.kind === 'mechanism' && !t.error && !t.afterAll && t.mechanism !== 'all') mechs.push(t);
      // "+a" and "a" are one term (RFC 7208 §4.6.2: "+" is the default): merging "+a +mx" with "a mx" kept all four, and
      // each repeat costs receivers another lookup — and a void one for senders of a family the names have no address
      // of (oracle QA: the merged record of the test's spf-two.example failed IPv6 senders).
      const key = termKey(t.raw);
      const first = seen.get(key);
      if (first !== undefined) {
        if (t.modifier === 'redirect' || t.modifier === 'exp') {
          // The same redirect= in a record without an all term is one receivers apply.
          const r = t.modifier === 'redirect' && !own ? redirects.find((x) => termKey(x.t.raw) === key) : undefined;
          if (r) r.besideAll = false;
          notes.push(`Drops the repeated ${t.raw}: a record may carry one ${t.modifier}= (RFC 7208 §6: two are a permanent error).`);
        } else if (first !== ri) {
          // The merged record's all term is chosen below (and said there when the records disagree).
          if (t.mechanism !== 'all') notes.push(`Keeps one ${t.raw}: more than one of the SPF records lists it.`);
        } else {
          const cost = t.mechanism && LOOKUP_MECHANISMS.includes(t.mechanism) ? ' (each repeat costs receivers another DNS lookup, counted toward the limit of 10)' : '';
          notes.push(`Drops the repeated ${t.raw}: the record lists it more than once, and only the first can match${cost}.`);
        }
        continue;
      }
      // A mechanism after all goes — but is not "seen": the same term in a later record, where it counts, is kept.
      if (t.afterAll && t.kind === 'mechanism' && !t.error && t.mechanism !== 'all') {
        notes.push(`Drops ${t.raw}: it stood after all, where receivers never evaluate it.`);
        continue;
      }
      seen.set(key, ri);
      // An invalid term, or a known mechanism written wrong (ip4:192.0.2.300, include without a domain): any of them
      // makes receivers fail the whole record (permerror), so it goes.
      if (t.kind === 'invalid' || t.error) {
        notes.push(`Drops ${visibleTerm(t.raw)}: ${t.error ?? 'not valid SPF'}.`);
        continue;
      }
      // The record's all term is taken above (alls); the merged record's is chosen below.
      if (t.mechanism === 'all') {
        if (own && t !== own) notes.push(`Drops ${t.raw}: it stood after ${own.raw}, where receivers never evaluate it.`);
        continue;
      }
      if (t.modifier === 'redirect') {
        redirects.push({ t, besideAll: own !== undefined });
        continue;
      }
      // exp= at most once too (merging two records that each have one, or a record with two): decided below, once the
      // other terms say whether one of them is a previous host's.
      if (t.modifier === 'exp') exps.push(t);
      if (mechs[mechs.length - 1] === t) places.set(t, { mechs, at: mechs.length - 1 });
      kept.push(t);
    }
  }

  // The all term of the merged record: the strictest of the records' (-all, then ~all, then ?all; +all last — it is
  // replaced below as permissive), whatever order the records come in. Not "the first record's": DNS returns the
  // records in no fixed order, so that would be a coin toss, and it silently weakened a -all written in the second
  // record. Not the record that "survives" either: a merge keeps every record's terms, so there is none. The strictest
  // never weakens what any of the records said about unlisted senders (as the fix never weakens `all`), and every
  // sender a record authorised is in the merged record, so none of them is hurt by it. (The DMARC merge takes the
  // weakest policy instead: a DMARC policy applies to all of the domain's mail, whoever sent it, whereas here the
  // stricter `all` concerns only servers neither record lists — and with two records they get permerror today.) When
  // the records disagree, the notes say which was taken and which dropped (as the DMARC merge explains its choices).
  const strictness = (t: SpfTerm) => ({ '-': 3, '~': 2, '?': 1, '+': 0 })[t.qualifier] ?? 0;
  for (const t of alls) if (!all || strictness(t) > strictness(all)) all = t;
  if (all && spfRecords.length > 1 && new Set(alls.map((t) => t.qualifier)).size > 1) {
    const chosen = all;
    const dropped = [...new Set(alls.filter((t) => t.qualifier !== chosen.qualifier).map((t) => t.raw))];
    const endings = alls.map((t) => t.raw).join(', ');
    notes.push(
      `The SPF records end differently (${endings}): the merged record takes ${chosen.raw}, the strictest — merging never weakens what one of them said about servers it does not list — and drops ${dropped.map((d) => (/^\+?all$/i.test(d) ? `${d} (it authorises everyone)` : d)).join(', ')}.`,
    );
  }

  // redirect= beside an all term: receivers ignore the redirect (RFC 7208 §6.1) and apply the all term. The fix keeps
  // what receivers apply today — the all term — and drops the redirect, which authorises nobody now: keeping the
  // redirect and dropping `all` instead would hand the policy for every other sender to the target's own all term
  // (which may be weaker) and authorise senders this record never authorised. Nothing that passes today stops
  // passing; what this server needs is then added as for any record.
  // A merge is different: the record that held the redirect had no all term, so receivers applied it (for every server
  // its terms did not match); the all term comes from another record. Handled after the classification below (a
  // kept redirect becomes an include of its target).
  for (const r of redirects.filter((x) => x.besideAll)) {
    const target = r.t.domainSpec ?? r.t.value ?? '';
    notes.push(
      `Drops ${r.t.raw}: receivers ignore redirect= in a record that has an all term (RFC 7208 §6.1), so it authorises nobody today and the record keeps its all term. If the senders listed at ${target} should be allowed, add include:${target}.`,
    );
  }
  /** The redirect= terms receivers apply (each in a record without an all term), decided below. */
  let applied = redirects.filter((x) => !x.besideAll).map((x) => x.t);

  // Classify and filter.
  const terms: string[] = [];
  /** The class of each kept term (lower-cased as written): unknown ones the user may select for removal. */
  const classes = new Map<string, Classification['class']>();
  /** A previous host's "-" terms the fix keeps: written after every other term (see below). */
  const denying: { raw: string; reason: string }[] = [];
  /** Whether a kept "+" term came after one of them in the record (then the fix moves them). */
  let denyingBefore = false;
  /** The terms found to be a previous host's (dropped or kept with "-"): evidence for an exp= beside them. */
  const staleTerms: StaleTerm[] = [];
  /**
   * A mail service's terms the user selected (their notes, worded once every kept term is known: a later term may
   * still authorise the same provider), and the provider's own includes the record keeps (documentedInclude):
   * provider → the first.
   */
  const droppedServices: { raw: string; c: Classification; at: number }[] = [];
  const authorising = new Map<string, string>();
  for (const t of kept) {
    let deny = false;
    // Modifiers stay where they are written; exp= is decided below.
    if (t.kind === 'modifier') {
      terms.push(t.raw);
      continue;
    }
    // An ip4/ip6 range as wide as +all (src/core/spf/terms.ts) names no sender: it goes, as +all is replaced.
    const wide = permissiveRange(t);
    if (wide) {
      notes.push(`Drops ${t.raw}: it covers ${wide}, so like +all it lets nearly every server on the internet send as ${ctx.domain}.`);
      continue;
    }
    // A "+" include of a record that lets everyone pass (+all, or a range as wide): the same, through the include.
    const open = t.mechanism === 'include' && t.qualifier === '+' && !(t.domainSpec && canonName(t.domainSpec) === canonName(ctx.domain)) ? await openTarget(ctx, t.raw) : null;
    if (open) {
      notes.push(`Drops ${t.raw}: it leads to ${open}, so like +all it lets nearly every server on the internet send as ${ctx.domain}. If that service sends your mail, ask it for a record without +all and include that.`);
      continue;
    }
    // A "-"/"~"/"?" ip4/ip6 term covering nothing but this server's own addresses only keeps this server's mail from
    // passing: it goes (one that covers more stays, and this server's IP is put before it below).
    // (Tidy: after a term that passes this server, it decides nothing for anyone — and where it does fail this server's
    // mail, the record as written does not pass the gate below, so it is rewritten.) Its note says which it is: check_host
    // stops at the first match (RFC 7208 §4.6.2), so after a term that matches this server it fails nobody's mail
    // (review: "+a -ip4:<this server>" was said to fail this server's mail).
    if (!ctx.settings.relay && t.qualifier !== '+' && coversOnly(t, ctx.settings.ips)) {
      const place = places.get(t);
      const n = onlyServerNote(t, await onlyServerDecided(ctx, t, place ? place.mechs.slice(0, place.at) : []));
      notes.push(n);
      tidy.add(t);
      tidyNotes.add(n);
      continue;
    }
    // The record including itself: a loop, a permanent error at every receiver whatever the domain's A record says.
    // (%{d} and %{o} expanded as receivers expand them, spf/tree.ts termTarget: include:%{d} is that loop too.)
    /** The name the term looks up for the domain's mail; null when its macros depend on the message. */
    const name = t.domainSpec ? (t.hasMacro ? termTarget(t, canonName(ctx.domain)) : canonName(t.domainSpec)) : null;
    /** How the notes name it: as written, or for a term with macros the name it expands to. */
    const shown = t.hasMacro ? name : t.domainSpec;
    if (t.mechanism === 'include' && name === canonName(ctx.domain)) {
      notes.push(`Drops ${t.raw}: ${ctx.domain} including its own record is a loop, so every receiver's SPF check of this record fails (permerror).`);
      continue;
    }
    const c = await ctx.classifier.spfTerm(t.raw);
    if (c.class === 'stale') staleTerms.push({ raw: t.raw, c, ...(t.domainSpec ? { domainSpec: t.domainSpec } : {}) });
    // A previous host's term with "-" fails that host's mail — kept (dropping it would hand that mail to `all`),
    // unless selected for removal, or the record cannot pass receivers' limits with it (planSpfDetailed).
    if (c.class === 'stale' && t.qualifier === '-') {
      if (remove.has(termKey(t.raw))) {
        notes.push(`Removes ${t.raw} (you selected it): ${c.reason}.`);
        continue;
      }
      if (dropDenying) {
        notes.push(`Drops ${t.raw}: ${c.reason}. It only failed the previous host's mail, and with it the record cannot pass receivers' checks (lookup limit or a broken record at the old host).`);
        continue;
      }
      keptDenying = true;
      deny = true;
    } else if (c.class === 'stale') {
      // An `a`/`mx` term naming the domain's MX while mx.stale is unresolved: what it names now, and what it would name
      // once the MX is settled, said plainly (it follows the MX).
      const viaMx = await mxStaleFor(t);
      notes.push(viaMx.length ? staleMxNote(ctx, t.raw, t, viaMx, true) : `Drops ${t.raw}: ${c.reason}.`);
      continue;
    }
    // a:/mx:/exists: of a name that does not exist (NXDOMAIN) authorises nobody and costs a lookup and a void lookup
    // (more than 2 make receivers return permerror): it goes, whoever it names — an exists: too, with any qualifier (it
    // matches no sender; review: spf.void-lookups offered the fix for three such exists: terms and the plan was blocked,
    // calling the names existing). A name that exists without addresses stays (its owner may be about to add them); DNS
    // trouble keeps the term (the final check below blocks the plan). A name built with %{o} is kept: %{o} is the
    // domain only for its own mail — for a domain whose record includes this one it is that domain, whose name may
    // exist (review: `exists:%{o}._allow.<list>` would have been dropped for them too).
    const gone = await nameGone(ctx, t);
    if (gone) {
      notes.push(`Drops ${t.raw}: ${gone} does not exist, so it authorises nobody and each receiver counts a void lookup for it (more than 2 are a permanent error).`);
      continue;
    }
    // An include of a name that publishes no SPF record is a permanent error for every receiver: it goes, whoever it
    // names. No answer from DNS says nothing: the plan is blocked below — unless the user selected the term for removal
    // (it goes below whatever its target answers; QA: a ticked include whose lookup failed still blocked the plan).
    const selected = remove.has(termKey(t.raw)) && (c.class === 'unknown' || c.class === 'keep');
    if (t.mechanism === 'include' && name && c.class !== 'this-server' && !selected) {
      const target = await includeTarget(ctx, name);
      if (target === 'unknown') includeTrouble ??= `looking up the SPF record of ${shown} got no answer`;
      else if (target !== 'spf') {
        notes.push(`Drops ${t.raw}: ${shown} ${target === 'nxdomain' ? 'does not exist' : target === 'multiple' ? 'publishes several SPF records' : 'publishes no SPF record'}, so every receiver's SPF check of this record fails (permerror).`);
        continue;
      }
    }
    if (remove.has(termKey(t.raw))) {
      // A term selected for removal goes — one nobody could identify, and a mail service's (the customer knows that
      // the domain stopped sending through it; mailhealth only knows the service exists, and the fix never drops one on
      // its own). This server's terms stay: its own mail needs them.
      if (c.class === 'unknown') {
        notes.push(`Removes ${t.raw} (you selected it).`);
        continue;
      }
      if (c.class === 'keep') {
        droppedServices.push({ raw: t.raw, c, at: notes.push(droppedService(ctx, t.raw, c)) - 1 });
        continue;
      }
      notes.push(`Keeps ${t.raw} although you selected it: ${c.reason}.`);
    }
    // Kept. When DNS did not answer a question that decides whose the term is, say so: it is never dropped on that,
    // and the customer knows to preview again once DNS answers.
    if (isUnanswered(c)) notes.push(`Keeps ${t.raw}: ${c.reason}. Preview the fix again when DNS answers: it may turn out to be a previous host's.`);
    else if (c.class === 'unknown') {
      // Kept while it names an MX mx.stale reports (the live MX at a hosting provider: the mailboxes may still be
      // there, classify.ts liveMxAt): said, so the customer knows what it authorises until the MX is settled.
      const viaMx = await mxStaleFor(t);
      if (viaMx.length) {
        notes.push(staleMxNote(ctx, t.raw, t, viaMx, false));
        offered.push(t.raw);
      }
      const own = ownRecordAt(ctx.domain, t, ctx.knowledge);
      if (own) {
        const left = await staleInOwn(ctx, own);
        if (left.length) notes.push(ownLeftNote(ctx, t.raw, left));
      }
    }
    classes.set(t.raw.toLowerCase(), c.class);
    // The provider's own include, kept: its mail still passes whatever other term of the provider's the user removes.
    if (c.provider && documentedInclude(ctx, t, c.provider) && !authorising.has(c.provider)) authorising.set(c.provider, t.raw);
    if (deny) denying.push({ raw: t.raw, reason: c.reason });
    else if (denying.length && t.kind === 'mechanism' && t.qualifier === '+') denyingBefore = true;
    terms.push(t.raw);
  }
  /**
   * A redirect= the fix drops (a previous host's, or one you selected) from a record without an all term: its target's
   * all term was the policy for every server no term matched, and the record's new all term keeps it (below).
   */
  let droppedRedirect: SpfTerm | null = null;
  // Each applied redirect= on its own merits: a loop, a record open to everyone, a previous host's or one you selected
  // goes; the others stay.
  /** Whether the kept ones become includes (decided before the merits, so a selected include form is recognised). */
  const mayInclude = all !== null || applied.length > 1;
  const redirectClass = new Map<SpfTerm, Classification['class']>();
  const redirectProvider = new Map<SpfTerm, string>();
  for (const r of [...applied]) {
    const drop = () => (applied = applied.filter((x) => x !== r));
    if (r.domainSpec && (r.hasMacro ? termTarget(r, canonName(ctx.domain)) : canonName(r.domainSpec)) === canonName(ctx.domain)) {
      notes.push(`Drops ${r.raw}: ${ctx.domain} redirecting to its own record is a loop, so every receiver's SPF check of this record fails (permerror).`);
      drop();
      continue;
    }
    const open = await openTarget(ctx, r.raw);
    if (open) {
      notes.push(`Drops ${r.raw}: it leads to ${open}, so like +all it lets nearly every server on the internet send as ${ctx.domain}.`);
      drop();
      continue;
    }
    const asInclude = `include:${r.domainSpec ?? r.value ?? ''}`;
    if (mayInclude) written.add(termKey(asInclude));
    const c = await ctx.classifier.spfTerm(r.raw);
    if (c.class === 'stale') staleTerms.push({ raw: r.raw, c, ...(r.domainSpec ? { domainSpec: r.domainSpec } : {}) });
    const selected = remove.has(termKey(r.raw)) || (mayInclude && remove.has(termKey(asInclude)));
    // As for the other terms: a redirect nobody could identify, or a mail service's, is removable on request.
    if (c.class === 'stale' || (selected && c.class === 'unknown')) {
      notes.push(`Drops ${r.raw}: ${c.class === 'stale' ? c.reason : 'you selected it'}.`);
      droppedRedirect ??= r;
      drop();
      continue;
    }
    if (selected && c.class === 'keep') {
      droppedServices.push({ raw: r.raw, c, at: notes.push(droppedService(ctx, r.raw, c)) - 1 });
      droppedRedirect ??= r;
      drop();
      continue;
    }
    if (selected) notes.push(`Keeps ${r.raw} although you selected it: ${c.reason}.`);
    redirectClass.set(r, c.class);
    if (c.provider && documentedInclude(ctx, r, c.provider)) redirectProvider.set(r, c.provider);
  }
  const single = applied.length === 1 && !all;
  for (const r of applied) {
    const as = single ? r.raw : `include:${r.domainSpec ?? r.value ?? ''}`;
    classes.set(as.toLowerCase(), redirectClass.get(r)!);
    // A kept redirect= (or the include it becomes, below) authorises what its target's record lists.
    const provider = redirectProvider.get(r);
    if (provider && !authorising.has(provider)) authorising.set(provider, as);
  }
  // Every kept term is known now: a selected service's note says its mail fails SPF only when nothing kept still
  // authorises that provider.
  for (const d of droppedServices) {
    const still = d.c.provider ? authorising.get(d.c.provider) : undefined;
    if (still) notes[d.at] = droppedService(ctx, d.raw, d.c, still);
  }
  if (single) redirect = applied[0];
  else if (applied.length) {
    // The records that held these redirect= terms had no all term, so receivers applied each (for every server its
    // record's terms did not match) — but the merged record ends in another record's all term, beside which receivers
    // would ignore a redirect (RFC 7208 §6.1), or would carry more than one (a permanent error, RFC 7208 §6). The
    // senders each target lists stay authorised through an include of it instead (an include matches where the
    // target's record passes; the all term decides the rest), for the same one DNS lookup; the final gate below checks
    // the limits and blocks the plan, saying why, when the record cannot stay within them.
    const why = all
      ? `the ${spfRecords.length > 1 ? 'merged ' : ''}record ends in ${all.raw}, beside which receivers ignore redirect= (RFC 7208 §6.1)`
      : `the ${spfRecords.length > 1 ? 'merged ' : ''}record would carry ${applied.length} redirect= terms, and more than one is a permanent error (RFC 7208 §6)`;
    for (const r of applied) {
      const target = r.domainSpec ?? r.value ?? '';
      const asInclude = `include:${target}`;
      if (terms.some((x) => termKey(x) === termKey(asInclude))) {
        notes.push(`Drops ${r.raw}: ${why}, and it already has ${asInclude}, which keeps the senders ${target} lists authorised.`);
      } else {
        terms.push(asInclude);
        if (denying.length) denyingBefore = true;
        notes.push(`Replaces ${r.raw} with ${asInclude}: ${why}, so the senders ${target} lists stay authorised through an include instead (the same one DNS lookup).`);
      }
    }
    // The redirects decided for every server no term matched: their targets' all terms are no longer the policy.
    droppedRedirect = null;
  }

  // exp= (src/core/spf/exp.ts, as the check judges it): one at a previous host's name goes — it authorises nobody, and
  // keeps the old host writing the text receivers put in every rejection of the domain's failing mail; one you
  // selected goes; the first of the others stays (a record may carry one), at the customer's own domain or a known
  // service's silently, one nobody could identify with a note. DNS trouble keeps it (nothing is decided on it).
  let keptExp: SpfTerm | null = null;
  for (const e of exps) {
    const at = () => terms.indexOf(e.raw);
    const drop = (note: string) => {
      if (at() >= 0) terms.splice(at(), 1);
      notes.push(note);
    };
    if (remove.has(termKey(e.raw))) {
      drop(`Removes ${e.raw} (you selected it): receivers that reject a message for failing SPF show their own text instead.`);
      continue;
    }
    const judged = await judgeExp(ctx, e, staleTerms);
    if (judged?.c.class === 'stale') {
      const effect = judged.name ? expEffect(judged.name) : 'receivers that reject a message for failing SPF show the text it names in the rejection (RFC 7208 §6.2)';
      drop(`Drops ${e.raw}: ${judged.c.reason}. ${effect.charAt(0).toUpperCase()}${effect.slice(1)}, and that text is the old host's to write; without exp= receivers show their own. It authorised nobody, so no mail is affected.`);
      continue;
    }
    if (keptExp) {
      drop(`Drops ${e.raw}: a record may carry one exp= (RFC 7208 §6: two are a permanent error); ${keptExp.raw} is kept.`);
      continue;
    }
    keptExp = e;
    if (judged && isUnanswered(judged.c)) notes.push(`Keeps ${e.raw}: ${judged.c.reason}. Preview the fix again when DNS answers: it may turn out to be a previous host's.`);
    else if (judged?.c.class === 'unknown') {
      notes.push(`Keeps ${e.raw}: ${judged.c.reason}. It only sets the text receivers show when they reject mail failing SPF; select it for removal if it is not yours.`);
      offered.push(e.raw);
    }
  }

  // A selected term the record does not have (a typo, or a term already gone): said, so it is not taken as done.
  for (const x of opts.removeTerms ?? []) {
    if (!written.has(termKey(x))) notes.push(`You selected ${x} for removal, but the SPF record has no such term: nothing was removed for it.`);
  }

  // What this server needs, where it counts: the first matching term decides (RFC 7208 §4.6.2).
  const relay = ctx.settings.relay;
  /** Terms the plan adds (or writes anew in place of one that kept this server from passing). */
  const added: string[] = [];
  let relayHosts: string[] | undefined;
  // A lookup that failed (timeout, SERVFAIL) says nothing about what this server needs: the plan is shown but cannot
  // be applied (a DNS failure is never a reason to change a zone).
  let dnsTrouble: string | undefined;
  if (relay) {
    // With redirect= and no all, the redirect target decides (an all term would make receivers ignore it).
    const candidate = renderTerms([...terms, ...(redirect ? [redirect.raw] : ['~all'])]);
    const asPublished = withApexSpf(ctx.resolver, ctx.domain, candidate);
    const tree = await walkSpfRecord(asPublished, ctx.domain, candidate);
    // Only an include reached with "+" authorises the relay (src/core/spf/relay.ts, as the check judges it: for every
    // address of its ranges, with what the a/mx terms' names have).
    const direct = tree.unknown ? null : relayAuthorisation(tree, [relay.host], relayTermRanges(tree));
    if (!direct) dnsTrouble = "some of the record's lookups got no answer (timeout or server failure)";
    else if (direct.state !== 'pass') {
      const inc = await relayInclude(ctx, relay.host);
      if ('unknown' in inc) dnsTrouble = inc.unknown;
      else if ('none' in inc) {
        const others = inc.none.slice(1);
        notes.push(
          `Adds no include for the relay: ${inc.none[0]} publishes no SPF record${others.length ? ` (nor does ${others.join(', ')})` : ''}, and an include of a name without one makes every receiver's SPF check fail (permerror). Ask the relay which include to use, then set it as the relay's SPF include in the panel.`,
        );
      } else {
        relayHosts = [canonName(relay.host), inc.host];
        const v = inc.host !== canonName(relay.host) ? relayAuthorisation(tree, relayHosts, relayTermRanges(tree)) : direct;
        if (v.state !== 'pass') {
          if (inc.host !== canonName(relay.host)) notes.push(`The relay host ${canonName(relay.host)} publishes no SPF record; ${inc.host} does, so the include names ${inc.host}.`);
          const include = `include:${inc.host}`;
          // A shadow in a record an include or the redirect= leads to (`via`) is not the record's to move: the relay's
          // include is added (before the redirect=, which decides last), where it reaches the relay first.
          const at = v.state === 'denied' || (v.state === 'shadowed' && !v.via) ? terms.indexOf(v.term) : -1;
          const by = ctx.knowledge.displayName(relay.provider);
          /** The relay's include as written in the record (any case, a trailing dot: the same name), else -1. */
          const written = () => terms.findIndex((x) => x.toLowerCase() === include || (/^\+?include:/i.test(x) && canonName(x.replace(/^\+?include:/i, '')) === inc.host));
          // A term before the relay's include matches some of the relay's addresses first with "-", "~" or "?" (an
          // ip4/ip6 term covering them, an a/mx term naming them, ?include: of a record passing them…): the include
          // goes before it (moved, when the record has it), so it decides first for the relay; the term still decides
          // for the other addresses it matches.
          // With several SPF records, receivers answer permerror for every sender today: the term decides nothing yet, and
          // what it does is said as what it would do in the merged record (review: the note said it "fails the relay's
          // mail" today, where pyspf and Mail::SPF answer permerror).
          // So too where receivers read no SPF record today, answer permerror for a syntax error in it, or stop at a
          // permanent error before the term for the relay's mail (shadowToday).
          const moveBefore = (w: Extract<typeof v, { state: 'shadowed' }>, k: number, now: ShadowToday | null) => {
            const had = written();
            if (had > k) terms.splice(had, 1);
            terms.splice(k, 0, include);
            const does = now
              ? ` would, coming first, give the relay's mail from them ${qualifierResult(w.qualifier)} ${now.mended} (the first matching term decides; ${now.today})`
              : spfRecords.length > 1
                ? ` would, coming first, give the relay's mail from them ${qualifierResult(w.qualifier)} once the records are one (the first matching term decides; today receivers answer permerror for every sender: ${spfRecords.length} SPF records, RFC 7208 §4.5)`
                : `, coming first, ${qualifierEffect(w.qualifier)} the relay's mail from them (the first matching term decides)`;
            notes.push(`${had > k ? 'Moves' : 'Adds'} ${include} before ${w.term}, which ${shadowWords(w.term, w.ranges)} and${does}, so receivers accept this server's mail (it relays through ${by}).`);
          };
          // What the "-"/"~"/"?" term reaching the relay does to its mail today: as receivers evaluate the record as
          // published (terms before it that match some of the relay's addresses decide first for them, RFC 7208
          // §4.6.2), not the plan's terms — the plan may have dropped or removed the very terms that pass them.
          const today = v.state === 'denied' && at >= 0 ? await relayToday(ctx, v, relayHosts) : null;
          if (v.state === 'shadowed' && at >= 0) moveBefore(v, at, await shadowToday(ctx, v, relayHosts));
          else if (v.state === 'denied' && at >= 0 && relayHosts.includes(canonName(parseSpf(`v=spf1 ${v.term}`).terms[0]?.domainSpec ?? ''))) {
            // The relay's own include written with "-", "~" or "?": the same include, plain, in its place.
            const replaced = `Replaces ${v.term} with ${include}:`;
            terms[at] = include;
            notes.push(replacedNote(replaced, v.qualifier, today, by));
            // Plain where it stands, it may still come after a "-"/"~"/"?" ip4/ip6 term covering the relay's addresses
            // (`-ip4:23.83.208.0/22 ~include:relay.mailchannels.net`): then it goes before that term too.
            const again = renderTerms([...terms, ...(redirect ? [redirect.raw] : ['~all'])]);
            const againPublished = withApexSpf(ctx.resolver, ctx.domain, again);
            const walked = await walkSpfRecord(againPublished, ctx.domain, again);
            const w = walked.unknown ? null : relayAuthorisation(walked, relayHosts, relayTermRanges(walked));
            if (!w) dnsTrouble = "some of the record's lookups got no answer (timeout or server failure)";
            else if (w.state === 'shadowed' && !w.via && terms.indexOf(w.term) >= 0) moveBefore(w, terms.indexOf(w.term), await shadowToday(ctx, w, relayHosts));
          } else if (v.state === 'denied' && at >= 0) {
            // Another include reaches the relay with "-", "~" or "?" first: the plain include goes before it.
            terms.splice(at, 0, include);
            notes.push(addedBeforeNote(`Adds ${include} before ${v.term}, which reaches the relay with "${v.qualifier}"`, today, by));
          } else {
            terms.push(include);
            notes.push(`Adds ${include} so receivers accept this server's mail (it relays through ${by}).`);
          }
          added.push(include);
        }
      }
    }
    // The relay's include decides only where receivers reach it: more than 2 void lookups before it for the relay's
    // addresses (exists:%{i}… terms that do not list them, names without an address of their family) are a
    // permerror first (RFC 7208 §4.6.4), and so is a term with macros whose name for the relay's address publishes no
    // SPF record (include:%{ir}._spf.<list>, RFC 7208 §5.2). The relay's own include goes before the first term that
    // cost one (or before the term with macros, which stays), where it decides for the relay's mail before any is
    // looked up (it matches nothing else); reached through redirect= (which always comes last), an include of the
    // redirect's target goes there, the redirect= staying as it is; another term reaching it (an include of the domain's
    // own record) is left where it is (the gate then says why the plan is blocked), and so is the include when names
    // void for every sender are past 2 (the gate blocks that record whatever the relay gets).
    if (!dnsTrouble) {
      const hosts = relayHosts ?? [canonName(relay.host)];
      const now = renderTerms([...terms, ...(redirect ? [redirect.raw] : ['~all'])]);
      const resolver = withApexSpf(ctx.resolver, ctx.domain, now);
      // Walked again only when the relay's include was added or moved above, and then only when the record's other
      // terms could cost a sender more than 2 void lookups wherever it stands (an ordinary record asks no DNS question
      // here: review — the plan that adds the include walked the whole record again for every relayed domain).
      const mayCost = voidsAcross(tree, 4) > 2 || voidsAcross(tree, 6) > 2;
      const walked = now === candidate ? tree : mayCost ? await walkSpfRecord(resolver, ctx.domain, now) : null;
      const past = !walked ? null : walked.unknown ? { dns: "some of the record's lookups got no answer (timeout or server failure)" } : await relayPastVoids(ctx, resolver, walked, hosts);
      if (past && 'dns' in past) dnsTrouble = past.dns;
      else if (past && walked!.totalVoids <= 2) {
        const from = terms.indexOf(past.term);
        // Before the first term that cost one — but not before a "-", "~" or "?" term that may match some of the relay's
        // servers (a, mx, exists, include: relayAuthorisation cannot tell which; `-exists:%{i}.denylist…`): the fix
        // would pass the relay's mail that term fails (review). After it, the gate judges what is left.
        const deny = (t: string) => /^[-~?](?!ip[46]:|all$)/i.test(t);
        const end = from >= 0 ? from : terms.length;
        const broken = past.broken;
        let to: number;
        if (broken) {
          // A term with macros (or leading to one) that receivers cannot evaluate for the relay's address: right before
          // it, where nothing before has failed — the term stays (it may be a mail service the domain sends through,
          // never dropped on its own). Not when a "-", "~" or "?" term that may match some of the relay's servers stands
          // from it to the relay's include, the term itself among them (as for void lookups): the gate says why.
          const at = terms.indexOf(broken);
          to = at >= 0 && !terms.slice(at, end).some(deny) ? at : -1;
        } else {
          const first = terms.indexOf(past.r.voidsAt![0]);
          to = first;
          for (let k = Math.max(first, 0); first >= 0 && k < end; k++) if (deny(terms[k])) to = k + 1;
        }
        const own = /^\+?include:/i.test(past.term) && hosts.includes(canonName(past.term.replace(/^\+?include:/i, '')));
        const viaRedirect = /^redirect=/i.test(past.term) && hosts.includes(canonName(past.term.replace(/^redirect=/i, '')));
        // Why receivers stop before the relay's include, and what the moved include does (said of either term).
        const why = broken
          ? `receivers get a permanent error from ${broken} (${reasonAt(past.r, broken)}) and return permerror`
          : `receivers count more than 2 void lookups from ${listed([...new Set(past.r.voidsAt)])} and return permerror`;
        const rfc = broken ? permerrorSection(past.r) : 'RFC 7208 §4.6.4';
        const sooner = broken ? `before ${broken} is looked up` : 'before any of them is looked up';
        const stays = broken ? ` ${broken} stays: it may authorise a mail service's servers (what it looks up depends on the sender).` : '';
        if (own && to >= 0 && to < from) {
          terms.splice(from, 1);
          terms.splice(to, 0, past.term);
          notes.push(
            `Puts ${past.term} before ${terms[to + 1]}: for the relay's address ${past.ip}, ${why} before they reach it (${rfc}); first, it decides for the relay's mail ${sooner}, so receivers accept this server's mail.${stays}`,
          );
        } else if (viaRedirect && to >= 0 && to < end) {
          const include = `include:${canonName(past.term.replace(/^redirect=/i, ''))}`;
          terms.splice(to, 0, include);
          added.push(include);
          notes.push(
            `Adds ${include} before ${terms[to + 1]}: for the relay's address ${past.ip}, ${why} before they reach ${past.term}, which always comes last (${rfc}, §6.1); first, the include decides for the relay's mail ${sooner}, so receivers accept this server's mail. ${past.term} stays: it still decides for every server no term matches.${stays}`,
          );
        }
      }
    }
  } else {
    /**
     * Whether the void limit ended `r`, check_host over `candidate`, for this sender only: more than 2 void lookups for
     * it, while the names void for every sender stay within 2 (the walk's count).
     */
    const voidsEndIt = async (candidate: string, r: SpfEvaluation) =>
      r.result === 'permerror' && (r.voidsAt?.length ?? 0) > 2 && (await walkSpfRecord(withApexSpf(ctx.resolver, ctx.domain, candidate), ctx.domain, candidate)).totalVoids <= 2;
    /** The term of `candidate` the walk could not follow that check_host's permerror at `term` comes from (tree.ts unfollowedAt). */
    const unfollowedIn = async (candidate: string, term: string) => unfollowedAt(await walkSpfRecord(withApexSpf(ctx.resolver, ctx.domain, candidate), ctx.domain, candidate), term);
    for (const ip of ctx.settings.ips) {
      const candidate = renderTerms([...terms, ...(redirect ? [redirect.raw] : ['-all'])]);
      const r = await checkHost(ip, ctx.domain, `postmaster@${ctx.domain}`, ctx.settings.helo, withApexSpf(ctx.resolver, ctx.domain, candidate));
      if (r.result === 'temperror' || (r.result !== 'pass' && r.dnsTrouble?.length)) {
        dnsTrouble = `checking whether ${ip} may send got no answer from DNS (${r.result === 'temperror' ? 'temperror' : r.dnsTrouble![0]})`;
        break;
      }
      if (r.result === 'pass') continue;
      const need = ip.includes(':') ? `ip6:${ip}` : `ip4:${ip}`;
      // A term of the record that matches this server first and fails, softfails or neutralises it (-ip4:<its
      // network>, ~a): this server's IP goes before it, so it decides first. (One covering only this server is gone.)
      const at = r.decidedBy ? terms.indexOf(r.decidedBy) : -1;
      // Receivers counted more than 2 void lookups for this IP before any term matched it (names without an address of
      // its family — they ask for that family only — or exists:%{i}… terms not listing it): permerror, wherever the IP
      // is added after them. Before the first term that cost one, it decides with none counted — unless those names
      // cost every sender more than 2: the gate blocks such a record whatever this server gets (spfvoid2).
      const voidAt = at < 0 && (await voidsEndIt(candidate, r)) ? terms.indexOf(r.voidsAt![0]) : -1;
      // Receivers met another permanent error before any term matched it: at a term with macros (or one leading to
      // one) whose name for this IP publishes no SPF record (include:%{ir}._spf.<list>: RFC 7208 §5.2), or whose record
      // costs it so many lookups that a later term is the 11th (§4.6.4). The IP goes right before that term and decides
      // first; the term stays (it may be a mail service the domain sends through). Review: the IP was added after it,
      // the plan blocked, and spf.server-not-authorized offered the fix. (Only such a term: one whose permanent error
      // the walk sees fails every sender, and the gate blocks the record.)
      const errTerm = at < 0 && voidAt < 0 && r.result === 'permerror' && (r.voidsAt?.length ?? 0) <= 2 && r.permerrorAt ? await unfollowedIn(candidate, r.permerrorAt) : undefined;
      const errAt = errTerm ? terms.indexOf(errTerm) : -1;
      if (at >= 0) {
        terms.splice(at, 0, need);
        notes.push(`Adds ${need} before ${r.decidedBy}, which matches this server first (check_host = ${r.result}); the first matching term decides, so receivers accept this server's mail.`);
      } else if (voidAt >= 0) {
        terms.splice(voidAt, 0, need);
        notes.push(
          `Adds ${need} before ${r.voidsAt![0]}: for ${ip}, receivers count more than 2 void lookups from ${listed([...new Set(r.voidsAt)])} (names without an address of its family, or that do not exist) and return permerror before they reach a term after them; first, this server's IP decides before any of them is looked up, so receivers accept this server's mail.`,
        );
      } else if (errAt >= 0) {
        terms.splice(errAt, 0, need);
        notes.push(
          `Adds ${need} before ${errTerm}: for ${ip}, receivers get a permanent error from ${errTerm} (${reasonAt(r, errTerm!)}) and return permerror before they reach a term after it (${permerrorSection(r)}); first, this server's IP decides before it is looked up, so receivers accept this server's mail. ${errTerm} stays: it may authorise a mail service's servers (what it looks up depends on the sender).`,
        );
      } else {
        terms.push(need);
        notes.push(`Adds ${need} so receivers accept this server's mail.`);
      }
      added.push(need);
    }
  }
  // The same term twice (the relay's include made plain beside a plain copy): the first, which decides, stays.
  for (let i = terms.length - 1; i > 0; i--) {
    if (terms.findIndex((x) => x.toLowerCase() === terms[i].toLowerCase()) < i) {
      notes.push(`Drops the later ${terms[i]}: the record now has it earlier, where it decides first.`);
      terms.splice(i, 1);
    }
  }
  // A previous host's "-" terms the fix keeps, in front of a term it keeps: the first matching term decides, so one in
  // front fails any server it shares with a term after it — an old host's record often includes the same mail services
  // the domain keeps. They go after every other mechanism — this server's and the relay's terms added above included
  // (moving a "-" term later only lets more through, so what those need still passes) — where they fail only the old
  // host's other servers. In front of a redirect= (which always decides last) they cannot be moved behind it: they go.
  if (denying.length && (denyingBefore || redirect)) {
    for (const d of denying) {
      const k = terms.indexOf(d.raw);
      if (k >= 0) terms.splice(k, 1);
    }
    if (redirect) {
      for (const d of denying) notes.push(`Drops ${d.raw}: ${d.reason}. It stands before ${redirect.raw}, which decides for every server no term matches: a server the old host's record shares with ${redirect.domainSpec ?? 'that record'} would fail, and redirect= always comes last.`);
    } else {
      const many = denying.length > 1;
      notes.push(`Moves ${denying.map((d) => d.raw).join(', ')} after the other terms: with "-" in front, ${many ? 'they fail' : 'it fails'} any server ${many ? 'they share' : 'it shares'} with a term after ${many ? 'them' : 'it'} (an old host's record often includes the same mail services); at the end ${many ? 'they fail' : 'it fails'} only the old host's other servers.`);
      terms.push(...denying.map((d) => d.raw));
    }
  }

  // The all term: never weakened.
  let allTerm: string | null;
  if (all) {
    if (all.qualifier === '+') {
      allTerm = '~all';
      notes.push(`Replaces ${all.raw} (authorises everyone) with ~all.`);
    } else if (all.qualifier === '?') {
      allTerm = '~all';
      notes.push('Replaces ?all (neutral) with ~all.');
    } else allTerm = all.raw;
  } else if (redirect) allTerm = null;
  else if (droppedRedirect) {
    // The dropped redirect's target decided for every server no term matched, with its own all term: that policy stays
    // (a -all there was fail for them, and ~all now would weaken it silently) — never weaker than ~all.
    // A target with macros, as receivers expand it for the domain's mail (%{d} and %{o}; spf/tree.ts termTarget).
    const target = (droppedRedirect.hasMacro ? termTarget(droppedRedirect, canonName(ctx.domain)) : null) ?? droppedRedirect.domainSpec ?? droppedRedirect.value ?? '';
    const found = await redirectAll(ctx, target);
    if ('unknown' in found) {
      includeTrouble ??= found.unknown;
      allTerm = '~all';
    } else if (found.all === '-all' || found.all === '~all') {
      allTerm = found.all;
      notes.push(`Ends the record with ${found.all}, as ${found.at}'s record does: ${droppedRedirect.raw} applied its ${found.all} to every server no term matched, so the policy for them stays ${qualifierResult(found.all === '-all' ? '-' : '~')}.`);
    } else {
      allTerm = '~all';
      notes.push(
        'why' in found
          ? `Ends the record with ~all: it had no all term, and ${droppedRedirect.raw} handed every other server to ${canonName(target)}, where none decides — ${found.why}.`
          : `Ends the record with ~all: ${droppedRedirect.raw} applied ${found.at}'s ${found.all} to every server no term matched, and ~all is the weakest ending the fix writes.`,
      );
    }
  } else {
    allTerm = '~all';
    notes.push('Ends the record with ~all (it had no all term).');
  }

  const finalTerms = [...terms, ...(redirect ? [redirect.raw] : []), ...(allTerm ? [allTerm] : [])];
  const text = renderTerms(finalTerms);
  const chunks = splitTxt(text);
  const desired: ZoneRecord = {
    name: ctx.domain,
    ttl: spfRecords[0]?.ttl ?? defaultTtl(records, ctx.domain, ctx.domain),
    type: 'TXT',
    value: text,
    txt: chunks,
  };
  let changes = replaceWithOne(spfCopies, desired);

  // The final gate: the planned record is walked and evaluated — check_host with this server's IPs, through the same
  // resolver and evaluator the check uses — before it is offered. A write that receivers would still answer with
  // permerror, or that still does not authorise this server, is blocked with the reason instead. A record left as it
  // is goes through the same gate: "nothing to change" is never said of a record receivers reject (a mail service's
  // include leading to a broken record, more lookups than the fix may drop). Left as it is, a record whose lookups do
  // not all answer is not blocked for that (nothing would be written; the check reports the DNS trouble).
  let blocked: string | undefined;
  let selectable: string[] = [];
  const removable = new Set([...classes].filter(([, c]) => c === 'unknown').map(([t]) => t));
  const services = new Set([...classes].filter(([, c]) => c === 'keep').map(([t]) => t));
  // The record as written differs from the planned one only by spacing, the case of its version tag, where its
  // redirect= stands and what the fix tidies (`tidy`): it stays exactly as written — only copies of it go
  // (copiesRemoved) —, unless the gate does not accept it as written (this server not authorised, say: then the rewrite
  // has a reason, and a finding says it; DNS trouble: the plan waits for DNS, as any other). (Review: `v=spf1  a  mx
  // -all` and `V=SPF1 …` were rewritten while the audit passed them.)
  let verdict: GateVerdict | null = null;
  let asIs = false;
  // (The fix writes redirect= last; receivers apply it wherever it stands, RFC 7208 §6.1: not a reason on its own.)
  const isRedirect = (t: SpfTerm) => t.kind === 'modifier' && t.modifier === 'redirect';
  const writtenTerms = asWritten ? asWritten.terms.filter((t) => !tidy.has(t)) : [];
  if (changes.length && asWritten && sameTerms([...writtenTerms.filter((t) => !isRedirect(t)), ...writtenTerms.filter(isRedirect)].map((t) => t.raw), finalTerms)) {
    const v = await finalGate(ctx, asWritten.text, { added, removable, services, changed: false, ...(relayHosts ? { relayHosts } : {}) });
    // Only a record the gate accepts: one it could not judge (DNS trouble) is not known to be right as written.
    if ('ok' in v) {
      asIs = true;
      verdict = v;
      for (let i = notes.length - 1; i >= 0; i--) if (tidyNotes.has(notes[i])) notes.splice(i, 1);
      const copies = copiesRemoved(spfCopies, 'SPF record');
      changes = copies.changes;
      notes.push(...copies.notes);
    }
  }
  if (!asIs && changes.length) {
    const n = copiesNote(spfCopies, 'SPF record');
    if (n) notes.push(n);
  }
  /** Whether the plan writes the record anew (not only removes copies of it). */
  const rewrites = !asIs && changes.length > 0;
  verdict ??= await finalGate(ctx, text, { added, removable, services, changed: rewrites, ...(relayHosts ? { relayHosts } : {}) });
  if ('dns' in verdict) {
    if (changes.length) dnsTrouble ??= verdict.dns;
  } else if ('blocked' in verdict) {
    blocked = verdict.blocked;
    selectable = verdict.culprits.filter((t) => removable.has(t.toLowerCase()));
  } else if (verdict.note && rewrites) {
    notes.push(verdict.note);
    offered.push(...(verdict.offered ?? []));
  }
  if (chunks.length > 1 && rewrites) notes.push(`The record is ${Buffer.byteLength(text)} bytes: published as ${chunks.length} strings of at most 255 bytes.`);
  dnsTrouble ??= includeTrouble;
  if (dnsTrouble) blocked = `DNS did not answer while planning: ${dnsTrouble}. mailhealth does not change SPF on a failed lookup; try again when DNS answers.`;
  // The gate's block offers its terms only when it is the plan's block (DNS trouble says so instead).
  const blockOffers = !dnsTrouble && verdict && 'blocked' in verdict ? verdict.offered : [];
  return {
    plan: { changes, notes, ...(blocked ? { blocked } : {}), ...selectableOf([...blockOffers, ...offered]) },
    dns: dnsTrouble !== undefined,
    selectable: dnsTrouble ? [] : selectable,
    keptDenying,
  };
}

/**
 * Which term decides for one of this server's addresses that a "-"/"~"/"?" ip4/ip6 term covering only them matches:
 * `term` — that term itself; `earlier` — a term before it, matching first (with the `result` it gives); `dns` — a lookup
 * before it got no answer, so whether a term before it matches is not known (never a verdict on DNS trouble);
 * `stopped` — receivers meet a permanent error before they reach it (`why`).
 */
type OnlyServerDecided = { ip: string; by: 'term' } | { ip: string; by: 'earlier'; term: string; result: string } | { ip: string; by: 'dns' | 'stopped' | 'broken'; why: string };

/**
 * For each of this server's addresses `t` covers, which term decides (OnlyServerDecided): check_host over the terms
 * before `t` in its own record (`before`, as receivers evaluate them) and `t`, as it evaluates the record for that
 * address — the first match decides (RFC 7208 §4.6.2).
 */
async function onlyServerDecided(ctx: CheckContext, t: SpfTerm, before: readonly SpfTerm[]): Promise<OnlyServerDecided[]> {
  const record = renderTerms([...before.map((x) => x.raw), t.raw]);
  const resolver = withApexSpf(ctx.resolver, ctx.domain, record);
  const out: OnlyServerDecided[] = [];
  for (const ip of coveredIps(t, ctx.settings.ips)) {
    const r = await checkHost(ip, ctx.domain, `postmaster@${ctx.domain}`, ctx.settings.helo, resolver);
    // Unless a permanent error before `t` stops receivers (said as such below), the record as published: a syntax error
    // anywhere in it, or a second SPF record, is receivers' permerror for every sender today — no term of it decides
    // anything (review: such a record was said to fail this server's mail, or to pass it through "+a before it").
    if (!(r.result === 'permerror' && !r.dnsTrouble?.length)) {
      const today = await checkHost(ip, ctx.domain, `postmaster@${ctx.domain}`, ctx.settings.helo, ctx.resolver);
      if (today.result === 'permerror' && !today.dnsTrouble?.length) {
        out.push({ ip, by: 'broken', why: today.reason ?? 'permerror' });
        continue;
      }
    }
    // A term before `t` that matched decides, whatever a lookup without an answer (ptr) might have said before it.
    if (r.decidedBy && r.decidedBy !== t.raw) out.push({ ip, by: 'earlier', term: r.decidedBy, result: r.result });
    // `t` matched — unless a lookup before it got no answer (a ptr term that might have matched first).
    else if (r.decidedBy && !r.dnsTrouble?.length) out.push({ ip, by: 'term' });
    else if (r.result === 'permerror' && !r.dnsTrouble?.length) out.push({ ip, by: 'stopped', why: r.reason ?? 'permerror' });
    else out.push({ ip, by: 'dns', why: r.dnsTrouble?.[0] ?? r.reason ?? r.result });
  }
  return out;
}

/**
 * The relay's ranges — those the record `term` (a top-level term of `tree` reaching the relay) leads to publishes —
 * split into those `prefix`, the terms before `term` (in the record as published: relayToday), passes first (`passed`:
 * its "+" ip4/ip6 terms copy them, as receivers evaluate — relayRangesCopied, where a, mx, exists and include terms
 * count as no match) and the `rest`, for which `term` decides unless a term before it matches first; `others`: whether
 * one of `prefix` may match some of the rest (an ip4/ip6 term overlapping them, or any other mechanism — which only
 * check_host with an address can tell).
 */
async function relayPassedBefore(ctx: CheckContext, prefix: readonly string[], tree: SpfTree, term: string, hosts: readonly string[]): Promise<{ passed: string[]; rest: string[]; others: boolean }> {
  const top = tree.terms.find((x) => x.term === term && !x.ignored);
  const ranges = top ? publishedRanges(relayNode(top, new Set(hosts.map((h) => canonName(h))))) : [];
  if (!ranges.length || !prefix.length) return { passed: [], rest: ranges, others: false };
  const record = renderTerms([...prefix]);
  const walked = await walkSpfRecord(withApexSpf(ctx.resolver, ctx.domain, record), ctx.domain, record);
  const passed = ranges.filter((r) => relayRangesCopied(walked, [r]) !== null);
  const rest = ranges.filter((r) => !passed.includes(r));
  const others = prefix.some((x) => {
    const p = parseTerm(x);
    if (p.kind !== 'mechanism') return false;
    const range = p.mechanism === 'ip4' || p.mechanism === 'ip6' ? ipTermRange(p) : null;
    return range ? rest.some((r) => cidrOverlap(range, r)) : !(p.mechanism === 'ip4' || p.mechanism === 'ip6');
  });
  return { passed, rest, others };
}

/** Why a shadowing term decides nothing for the relay's mail today (`today`, a clause), and when it would (`mended`). */
type ShadowToday = { today: string; mended: string };

/**
 * For the note on the relay's include moved before a term that shadows it (`w`, a `shadowed` verdict over the plan's
 * terms): why that term decides nothing for the relay's mail in the SPF record as published today — receivers read no
 * SPF record (result none, RFC 7208 §4.5), the record has a syntax error (permerror for every sender, §4.6), or
 * check_host stops every address the term would decide for at a permanent error before it (more than 2 void lookups,
 * §4.6.4: spf/relay.ts stoppedBefore, where the record as published shadows the relay by the same term) — review: the
 * note said the term "fails the relay's mail" where pyspf and Mail::SPF answer permerror. Null when the term decides
 * today, or the record cannot tell (no answer; several SPF records, the caller's).
 */
async function shadowToday(ctx: CheckContext, w: Extract<RelayAuthorisation, { state: 'shadowed' }>, hosts: readonly string[]): Promise<ShadowToday | null> {
  const a = await ctx.resolver.resolve(ctx.domain, 'TXT');
  if (a.status !== 'ok') return null;
  const sel = selectSpf(a.records);
  if (sel.status === 'none') return a.records.some((r) => versionRunTogether(r)) ? { today: 'today receivers find no SPF record: SPF result none, RFC 7208 §4.5', mended: 'once receivers read the record as SPF' } : null;
  if (sel.status !== 'found') return null;
  const tree = await walkSpfRecord(ctx.resolver, ctx.domain, sel.record);
  if (tree.unknown) return null;
  if (tree.syntaxErrors.length) return { today: `today receivers answer permerror for every sender: a syntax error (${tree.syntaxErrors[0]}), RFC 7208 §4.6`, mended: 'once that is mended' };
  const known = relayTermRanges(tree);
  const v = relayAuthorisation(tree, hosts, known);
  if (v.state !== 'shadowed' || v.via || v.term !== w.term) return null;
  const s = stoppedBefore(tree, v, hosts, known);
  if (!s || s.shadowed.length) return null;
  return { today: `today receivers stop at a permanent error before it${s.all ? '' : ` for the relay's mail from ${listed(s.ranges)}`}, at ${s.stop.term}: ${s.stop.why}`, mended: 'once that is mended' };
}

/**
 * What the "-"/"~"/"?" term reaching the relay (a `denied` verdict's `term`) decides for the relay's mail today:
 * `reached` — the relay's addresses it decides for with its qualifier; `passed` — those a term before it passes first;
 * `first` — the first term before it that matches some of them with "-", "~" or "?", and those; `stop` — a permanent
 * error receivers meet before it for some of them; `others` — some are decided otherwise than these say. `broken`:
 * receivers answer permerror for the SPF as published (several SPF records, a syntax error), so no term of it decides
 * anything. Null: the record as published cannot tell (no answer, no SPF record, not the term) — the notes then claim
 * nothing of today.
 */
type RelayToday = RelayDecided | { broken: string } | null;
type RelayDecided = { reached: string[]; passed: string[]; first?: { term: string; qualifier: '-' | '~' | '?'; ranges: string[] }; stop?: { term: string; why: string }; others: boolean };

/**
 * RelayToday for `v`, as receivers evaluate the SPF record as published (the domain's TXT records through
 * ctx.resolver, as the check reads them) — not the plan's terms, from which the plan has already dropped or removed
 * terms (review: `ip4:0.0.0.0/1 ip4:128.0.0.0/1 ~include:relay.mailchannels.net`, the /1s dropped as wide as +all, was
 * said to give softfail to the relay's mail the /1s pass today; so was a passing ip4 term the user selected for
 * removal). check_host per piece of the relay's ranges (spf/relay.ts deniedDecisions: what the check says of the same
 * term, so the note and the finding agree — `-ip4:23.83.208.0/20 ~include:…` decides for none of it at the include);
 * where the pieces cannot be told (the relay's record publishes no ranges, or too many pieces), the terms before it in
 * the published record (relayPassedBefore). A lookup without an answer is never a verdict: null.
 */
async function relayToday(ctx: CheckContext, v: { term: string; qualifier: '-' | '~' | '?' }, hosts: readonly string[]): Promise<RelayToday> {
  const a = await ctx.resolver.resolve(ctx.domain, 'TXT');
  if (a.status !== 'ok') return null;
  const sel = selectSpf(a.records);
  if (sel.status === 'multiple') return { broken: `${sel.records.length} SPF records, RFC 7208 §4.5` };
  if (sel.status !== 'found') return null;
  const tree = await walkSpfRecord(ctx.resolver, ctx.domain, sel.record);
  if (tree.unknown) return null;
  if (tree.syntaxErrors.length) return { broken: tree.syntaxErrors[0] };
  const known = relayTermRanges(tree);
  const d = deniedDecisions(tree, { state: 'denied', ...v }, hosts, known);
  if (d) {
    // Some decided neither at the term nor by a term before it that matches: a permanent error before it may be why
    // (one inside the record the term leads to, `within`, is the relay's own record's, no term before it).
    const p = d.others ? permerrorBefore(tree, v.term, hosts, known, true) : null;
    return { ...d, ...(p && !p.within ? { stop: { term: p.term, why: p.why } } : {}) };
  }
  const k = tree.terms.findIndex((t) => t.term === v.term && !t.ignored);
  if (k < 0) return null;
  const w = await relayPassedBefore(ctx, tree.terms.slice(0, k).filter((t) => !t.ignored).map((t) => t.term), tree, v.term, hosts);
  return { reached: w.rest, passed: w.passed, others: w.others };
}

/**
 * What decides first for the relay's addresses the term does not decide for (`today`), as a parenthesis for the notes
 * (empty when it names nothing).
 */
function relayTodayWhy(today: RelayDecided): string {
  const first = [
    ...(today.first ? [`${today.first.term} before it ${qualifierEffect(today.first.qualifier)} the relay's mail from ${listed(today.first.ranges)} first`] : []),
    ...(today.passed.length ? [`terms before it pass ${listed(today.passed)} first`] : []),
  ];
  // "For some of it" beside what else decides: permerrorBefore names the earliest error, not whose mail it stops.
  const some = first.length || today.reached.length ? ' for some of it' : '';
  const parts = [
    ...(today.stop ? [`receivers stop at a permanent error before it${some}, at ${today.stop.term}: ${today.stop.why}`] : []),
    ...(first.length ? [`${first.join('; ')}: the first matching term decides`] : []),
  ];
  return parts.length ? ` (${parts.join('; ')})` : '';
}

/**
 * How `today` reads for the notes: `passed` — the term decides for none of the relay's mail, terms before it passing
 * every address of it; `none` — for none of it otherwise; `all` — for all of it as far as is known (nothing before it
 * decides first); `some` — for `reached` only.
 */
function relayTodayKind(today: RelayDecided): 'passed' | 'none' | 'all' | 'some' {
  const decidedBefore = !!today.first || !!today.stop || today.others;
  if (!today.reached.length && today.passed.length && !decidedBefore) return 'passed';
  if (!today.passed.length && !decidedBefore) return 'all';
  return today.reached.length ? 'some' : 'none';
}

/**
 * The note for the relay's own include written with "-", "~" or "?" (`replaced`: "Replaces ~include:… with include:…:"),
 * made plain: what its qualifier did today (`today`, RelayToday) — the fix makes it plain whatever that is (only an
 * include without a qualifier follows the relay's addresses). `by`: the relay's name.
 */
function replacedNote(replaced: string, q: '-' | '~' | '?', today: RelayToday, by: string): string {
  const qualifier = `its "${q}" qualifier`;
  const accept = `so receivers accept this server's mail (it relays through ${by})`;
  const only = 'only an include without a qualifier authorises (RFC 7208 §4.6.2)';
  if (!today) return `${replaced} with ${qualifier} it gives the relay's mail that reaches it ${qualifierResult(q)} instead of pass; ${only}, ${accept}.`;
  if ('broken' in today) return `${replaced} ${qualifier} decides nothing for the relay's mail today: receivers answer permerror for the SPF as published (${today.broken}); but ${only}, ${accept}.`;
  const kind = relayTodayKind(today);
  if (kind === 'passed') {
    return `${replaced} terms before it pass the relay's addresses (${listed(today.passed)}) today, so ${qualifier} decides nothing for them (the first matching term decides); but only an include without a qualifier authorises the relay (RFC 7208 §4.6.2), whatever addresses it publishes, so receivers keep accepting this server's mail (it relays through ${by}).`;
  }
  if (kind === 'none') return `${replaced} ${qualifier} decides for none of the relay's mail today${relayTodayWhy(today)}; but only an include without a qualifier authorises the relay (RFC 7208 §4.6.2), whatever addresses it publishes, ${accept}.`;
  if (kind === 'all') return `${replaced} ${qualifier} gave the relay's mail ${qualifierResult(q)} instead of pass; ${only}, ${accept}.`;
  return `${replaced} ${qualifier} gave ${qualifierResult(q)} instead of pass to the relay's mail that no term before it matches first, from ${listed(today.reached)}${relayTodayWhy(today)}; ${only}, ${accept}.`;
}

/**
 * The note for the relay's include added before another include reaching the relay with "-", "~" or "?" (`head`:
 * "Adds include:… before ~include:…, which reaches the relay with "~""), saying what that include did today (`today`,
 * RelayToday). `by`: the relay's name.
 */
function addedBeforeNote(head: string, today: RelayToday, by: string): string {
  const accept = `so receivers accept this server's mail (it relays through ${by})`;
  const only = 'only an include reached without a qualifier authorises the relay (RFC 7208 §4.6.2)';
  if (!today) return `${head}: ${only}, ${accept}.`;
  if ('broken' in today) return `${head}: it decides nothing for the relay's mail today (receivers answer permerror for the SPF as published: ${today.broken}); but ${only}, ${accept}.`;
  const kind = relayTodayKind(today);
  if (kind === 'passed') {
    return `${head}: terms before it pass the relay's addresses (${listed(today.passed)}) today, so it decides nothing for them (the first matching term decides); but ${only}, whatever addresses it publishes, so receivers keep accepting this server's mail (it relays through ${by}).`;
  }
  if (kind === 'none') return `${head}: it decides for none of the relay's mail today${relayTodayWhy(today)}; but ${only}, whatever addresses it publishes, ${accept}.`;
  if (kind === 'all') return `${head} and would decide first, ${accept}.`;
  return `${head} and decides for the relay's mail that no term before it matches first, from ${listed(today.reached)}${relayTodayWhy(today)}, ${accept}.`;
}

/** What a match with result `result` gives the sender, as words ("passes", "softfails", …). */
function resultEffect(result: string): string {
  return result === 'pass' ? 'passes' : result === 'fail' ? 'fails' : result === 'softfail' ? 'softfails' : result === 'neutral' ? 'gives neutral to' : `gives ${result} to`;
}

/**
 * The note for dropping `t`, a "-"/"~"/"?" ip4/ip6 term covering only this server's addresses, saying what it does to
 * their mail (`found`, onlyServerDecided): where a term before it decides for every one of them, it decides nothing
 * for anyone (it goes only because the record is rewritten: planSpf's `tidy`); else it fails (softfails…) this
 * server's mail — or would, unless a term before it matches first, where DNS did not say.
 */
function onlyServerNote(t: SpfTerm, found: readonly OnlyServerDecided[]): string {
  const ips = found.map((x) => x.ip);
  const head = `Drops ${t.raw}: it covers only this server's IP${ips.length > 1 ? 's' : ''} ${listed(ips)}`;
  /** The terms before `t` that decide first, each with the addresses it decides for. */
  const earlier = new Map<string, { term: string; result: string; ips: string[] }>();
  for (const x of found) {
    if (x.by !== 'earlier') continue;
    const k = `${x.term} ${x.result}`;
    const g = earlier.get(k) ?? { term: x.term, result: x.result, ips: [] };
    g.ips.push(x.ip);
    earlier.set(k, g);
  }
  const groups = [...earlier.values()];
  if (groups.length && found.every((x) => x.by === 'earlier')) {
    const which =
      groups.length === 1
        ? `which ${groups[0].term} before it already ${resultEffect(groups[0].result)}`
        : `for which terms before it already decide (${groups.map((g) => `${g.term} ${resultEffect(g.result)} ${listed(g.ips)}`).join('; ')})`;
    return `${head}, ${which} (the first matching term decides), so it decides nothing for anyone, and the rewritten record leaves it out.`;
  }
  const effect = qualifierEffect(t.qualifier);
  /** Whose mail, for the addresses of one kind: this server's (all of them), or those addresses'. */
  const whose = (of: readonly OnlyServerDecided[]) => (of.length === ips.length ? "this server's mail" : `the mail from ${listed(of.map((x) => x.ip))}`);
  const parts: string[] = [];
  const mine = found.filter((x) => x.by === 'term');
  if (mine.length) parts.push(`${effect} ${whose(mine)}: no term before it matches ${mine.length === ips.length ? 'this server' : mine.length > 1 ? 'them' : 'it'} (the first matching term decides)`);
  const dns = found.filter((x): x is Extract<OnlyServerDecided, { why: string }> => x.by === 'dns');
  if (dns.length) parts.push(`${effect} ${whose(dns)} unless a term before it matches first, which DNS did not say (${dns[0].why})`);
  const stopped = found.filter((x): x is Extract<OnlyServerDecided, { why: string }> => x.by === 'stopped');
  if (stopped.length) parts.push(`decides nothing for ${whose(stopped)} today: receivers stop at a permanent error before it (${stopped[0].why})`);
  const broken = found.filter((x): x is Extract<OnlyServerDecided, { why: string }> => x.by === 'broken');
  if (broken.length) parts.push(`decides nothing for ${whose(broken)} today: receivers answer permerror for the SPF as published (${broken[0].why})`);
  parts.push(...groups.map((g) => `${g.term} before it already ${resultEffect(g.result)} ${listed(g.ips)}`));
  return `${head} and ${parts.join('; ')}.`;
}

/** The previous host's terms in the record of the domain's own at `own` (spf/own.ts), as live DNS serves it; none when it cannot be read. */
async function staleInOwn(ctx: CheckContext, own: string): Promise<OwnStaleTerm[]> {
  const a = await ctx.resolver.resolve(own, 'TXT');
  const sel = a.status === 'ok' ? selectSpf(a.records) : null;
  if (!sel || sel.status !== 'found') return [];
  // %{o} there is the domain's own name (the MAIL FROM domain), not the record's.
  return staleInOwnRecord(ctx, await walkSpfRecord(ctx.resolver, own, sel.record, { sender: ctx.domain }), [own]);
}

/** The plan's word on an include of a record of the domain's own that still lets a previous host send: it stays, edited by hand. */
function ownLeftNote(ctx: CheckContext, raw: string, left: OwnStaleTerm[]): string {
  const where = [...new Set(left.map((x) => x.at))];
  const terms = listed(left.map((x) => `${x.term} (at ${x.at}: ${x.c.reason})`));
  return `Keeps ${raw}, a record of ${ctx.domain}'s own, which still lets a previous host send: ${terms}. This fix edits ${ctx.domain}'s SPF record only — remove ${left.length > 1 ? 'those terms' : 'that term'} from the TXT record${where.length > 1 ? 's' : ''} at ${listed(where)} by hand.`;
}

/**
 * The all term that decides, at the name a redirect= names, for servers no term matched: the first valid one of its SPF
 * record, following its own redirect= (as receivers do); `all` null when there is none, with `why` (the name does not
 * exist, publishes no SPF record or several, the redirect= chain loops…); `at` the record that has it (or the last name
 * followed); `unknown` when DNS did not answer.
 */
async function redirectAll(ctx: CheckContext, target: string): Promise<{ all: string; at: string } | { all: null; at: string; why: string } | { unknown: string }> {
  let name = canonName(target);
  const seen = new Set<string>();
  for (let depth = 0; depth < 10; depth++) {
    if (seen.has(name)) return { all: null, at: name, why: `the redirect= chain from ${canonName(target)} loops back to ${name} (a permanent error at every receiver)` };
    seen.add(name);
    const a = await ctx.resolver.resolve(name, 'TXT');
    if (a.status === 'unknown') return { unknown: `looking up the SPF record of ${name} (to keep the all term the dropped redirect= led to) got no answer` };
    if (a.status === 'nxdomain') return { all: null, at: name, why: `${name} does not exist` };
    const sel = a.status === 'ok' ? selectSpf(a.records) : null;
    if (sel?.status === 'multiple') return { all: null, at: name, why: `${name} publishes ${sel.records.length} SPF records (a permanent error at every receiver)` };
    if (sel?.status !== 'found') return { all: null, at: name, why: `${name} publishes no SPF record` };
    const parsed = parseSpf(sel.record);
    const all = parsed.terms.find((t) => t.mechanism === 'all' && !t.error && !t.afterAll);
    if (all) return { all: `${all.qualifier}all`, at: name };
    const next = parsed.redirect;
    if (!next) return { all: null, at: name, why: `${name}'s SPF record has no all term` };
    // %{d} there is that record's name, %{o} the domain's (spf/tree.ts termTarget).
    const to = !next.domainSpec || next.error ? null : next.hasMacro ? termTarget(next, name, canonName(ctx.domain)) : canonName(next.domainSpec);
    if (!to) return { all: null, at: name, why: `${name}'s SPF record has no all term, and its ${next.raw} cannot be followed` };
    name = to;
  }
  return { all: null, at: name, why: `the redirect= chain from ${canonName(target)} is longer than 10 records` };
}

/** Where the record an include/redirect term leads to lets everyone pass (src/core/spf/terms.ts openRecord); else null. */
async function openTarget(ctx: CheckContext, term: string): Promise<string | null> {
  const probe = await walkSpfRecord(ctx.resolver, ctx.domain, `v=spf1 ${term}`);
  return openRecord(probe.terms[0]?.children);
}
