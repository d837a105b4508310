// Whose is the name an SPF record's exp= modifier points at? Shared by the SPF check and the SPF fix, so both judge it
// the same way. exp= authorises nobody and costs no lookup toward the limit: receivers look its name up only when they
// reject a message that failed SPF, and put the TXT text found there into their rejection (RFC 7208 §6.2). At a
// previous host's name, that text is the old host's to write, in every bounce of the customer's failing mail — a
// leftover to drop, like a previous host's include. At the customer's own domain it is theirs; anything else is kept.
import type { CheckContext } from '../checks/context.js';
import { isUnanswered, orgDomain } from '../classify.js';
import { canonName, inZone } from '../domain.js';
import type { Classification } from '../model.js';
import type { SpfTerm } from './parse.js';

/** A term of the same record the classifier found to be a previous host's, as evidence for the exp= beside it. */
export interface StaleTerm {
  raw: string;
  domainSpec?: string;
  c: Classification;
}

export interface ExpJudgement {
  /** The name receivers look the explanation up at (the part after the last macro, when it uses macros). */
  name: string | null;
  /** In the domain's own zone (`exp=explain.<domain>`, `exp=…%{d}`): the customer's own text. */
  own: boolean;
  c: Classification;
}

/**
 * The name `spec` names for this judgement: itself; with macros, the fixed name after the last one (`%{l}._exp.old.example`
 * → `_exp.old.example`: whoever holds that zone writes the text), or the domain's own when it ends in `%{d}`/`%{o}`
 * (the domain checked itself, at the top of the record); null when nothing fixed is left to judge.
 */
function expName(spec: string, domain: string): string | null {
  if (!spec.includes('%')) return canonName(spec);
  const end = spec.lastIndexOf('}');
  if (end < 0) return null;
  const tail = spec.slice(end + 1).replace(/^\./, '');
  if (tail === '' || tail === '.') return /%\{[do]\}\.?$/i.test(spec) ? domain : null;
  return tail.includes('.') ? canonName(tail) : null;
}

/**
 * The judgement of exp=: the customer's own (its zone, kept: `keep`); else the classifier's judgement of its name, as
 * for any foreign name (`host`: knowledge, traces of the old host in the zone, the name's addresses); and when that
 * says nothing known, a name at the organisation a previous host's term of the same record points at (`stale`: the
 * old host's explanation beside its include) is that host's too. A lookup that got no answer stays unknown: nothing is
 * decided on it. Null for an exp= that is not valid (the syntax findings and the fix's drop say so).
 */
export async function judgeExp(ctx: CheckContext, t: Readonly<SpfTerm>, stale: readonly StaleTerm[]): Promise<ExpJudgement | null> {
  if (t.modifier !== 'exp' || t.error || !t.domainSpec) return null;
  const name = expName(t.domainSpec, ctx.domain);
  if (name === null) return { name, own: false, c: { class: 'unknown', reason: `${t.raw} uses macros: the name receivers look the explanation up at changes with each message` } };
  if (inZone(name, ctx.domain)) return { name, own: true, c: { class: 'keep', reason: `${name} is in ${ctx.domain}'s own zone: the explanation is yours` } };
  const c = await ctx.classifier.host(name);
  if (c.class !== 'unknown' || isUnanswered(c)) return { name, own: false, c };
  const org = orgDomain(name);
  const match = stale.find((s) => s.domainSpec && !s.domainSpec.includes('%') && orgDomain(s.domainSpec) === org);
  if (match) {
    return {
      name,
      own: false,
      c: { class: 'stale', reason: `${name} is at ${org}, as ${match.raw} is, which is a previous host's (${match.c.reason})`, ...(match.c.provider ? { provider: match.c.provider } : {}), ...(match.c.source ? { source: match.c.source } : {}) },
    };
  }
  return { name, own: false, c: { class: 'unknown', reason: `${name} is not in ${ctx.domain}'s zone and matches nothing known (${c.reason})` } };
}

/** What exp= does, in words, for a finding or a note: `name` where receivers look the text up. */
export function expEffect(name: string): string {
  return `receivers that reject a message for failing SPF look up the TXT record at ${name} and show its text in the rejection (RFC 7208 §6.2)`;
}
