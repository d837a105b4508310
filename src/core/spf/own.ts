// Records of the domain's own that its SPF record includes (include:_spf.<domain>, redirect=_spf.<domain>: a common way
// to keep the apex record short, or to share one list of senders between a customer's domains). Such a record is the
// customer's, not a sender to classify by its addresses: its terms are judged as the domain's own — a previous host's
// include there lets the old host send as surely as one in the domain's record itself (oracle QA: it went unreported,
// and the audit said spf.ok after the fix while pyspf passed the old host). Shared by the SPF check, which reports such
// terms, and the SPF fix, whose plan says it leaves them: the fix edits the domain's SPF record only (another of the
// customer's domains may include the same record), so they are removed by hand.
import type { CheckContext } from '../checks/context.js';
import { canonName, inZone } from '../domain.js';
import type { Knowledge } from '../../knowledge/index.js';
import type { Classification } from '../model.js';
import { parseTermShared, withDomainSpec, type SpfTerm } from './parse.js';
import { termTarget, type SpfTreeNode } from './tree.js';

/** How deep records of the domain's own are followed (each one another include of the domain's own). */
const MAX_OWN_DEPTH = 5;

/**
 * The name an include:/redirect= term leads to when that is a record below `domain` (not `domain` itself: including
 * its own record is a loop, reported as such), else null. `at`: the record the term is in (default `domain`'s own).
 * Macros: %{d} and %{o} expanded as receivers expand them for the domain's mail (`redirect=_spf.%{o}` is the domain's
 * own record, tree.ts termTarget); any other, null (the name depends on the message). A name the knowledge knows is
 * not one: GoDaddy's dc-…._spfm.<domain> is the record GoDaddy's DNS writes the customer's connected services into,
 * classified as that provider's (src/knowledge/providers.json).
 */
export function ownRecordAt(domain: string, t: Pick<SpfTerm, 'kind' | 'mechanism' | 'modifier' | 'domainSpec' | 'hasMacro'>, knowledge: Pick<Knowledge, 'matchHost'>, at = domain): string | null {
  if (t.mechanism !== 'include' && t.modifier !== 'redirect') return null;
  if (!t.domainSpec) return null;
  const target = t.hasMacro ? termTarget(t, canonName(at), canonName(domain)) : canonName(t.domainSpec);
  if (!target) return null;
  return target !== canonName(domain) && inZone(target, domain) && !knowledge.matchHost(target) ? target : null;
}

/** A previous host's term found in a record of the domain's own. */
export interface OwnStaleTerm {
  /** The term as written there. */
  term: string;
  qualifier: SpfTerm['qualifier'];
  domainSpec?: string;
  /** The record it is in. */
  at: string;
  /** The records of the domain's own on the way to `at` (empty when the domain's record includes `at` itself). */
  via: string[];
  /** That record's text. */
  record: string;
  c: Classification;
}

/**
 * The previous host's terms in the record of the domain's own that `node` is (walked: spf/tree.ts), and in the records
 * of the domain's own it includes in turn; `path` names the records of the domain's own on the way, `node`'s last.
 * A "-" term is not one: it fails the old host's mail, which is what a moved domain wants. Terms receivers never
 * evaluate (after all), loops, macros and broken terms are left to the findings that say so.
 */
export async function staleInOwnRecord(ctx: CheckContext, node: SpfTreeNode, path: string[]): Promise<OwnStaleTerm[]> {
  const out: OwnStaleTerm[] = [];
  for (const nt of node.terms) {
    if (nt.ignored || nt.loop || nt.dynamic || nt.error) continue;
    const t = parseTermShared(nt.term);
    if (t.kind === 'invalid' || t.error || t.mechanism === 'all' || (t.kind === 'modifier' && t.modifier !== 'redirect')) continue;
    const own = nt.children?.record ? ownRecordAt(ctx.domain, t, ctx.knowledge, node.domain) : null;
    if (own) {
      if (path.length < MAX_OWN_DEPTH && !path.includes(own)) out.push(...(await staleInOwnRecord(ctx, nt.children!, [...path, own])));
      continue;
    }
    // %{d} here is this record's name, not the domain the classifier expands it with: classified as the name the walk
    // expanded (`include:%{d}._spf.oldhost.example` in _spf.<domain> names _spf.<domain>._spf.oldhost.example).
    const c = await ctx.classifier.spfTerm(t.hasMacro && nt.target ? withDomainSpec(t, nt.target) : nt.term);
    if (c.class !== 'stale' || t.qualifier === '-') continue;
    out.push({ term: nt.term, qualifier: t.qualifier, ...(t.domainSpec ? { domainSpec: t.domainSpec } : {}), at: path[path.length - 1], via: path.slice(0, -1), record: node.record ?? '', c });
  }
  return out;
}
